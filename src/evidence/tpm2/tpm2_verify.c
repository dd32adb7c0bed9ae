/* tpm2_verify.c: TPM 2.0 quote verification from raw bytes (evidence-formats.md 1.5 checklist;
 * TPM 2.0 Part 3 §18.4 TPM2_Quote). No TSS code runs on the verifying side. */
#include "evidence/tpm2/tpm2.h"

#include "base/result.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509_vfy.h>
#include <string.h>

void atls_tpm2_verified_cleanup(atls_tpm2_verified *v)
{
    if (v == NULL) {
        return;
    }
    atls_tpm2_public_cleanup(&v->ak);
    memset(v, 0, sizeof(*v));
}

/* The signature is over H_sigHash(TPMS_ATTEST bytes) by the AK (Part 3 §18.4): ECDSA for an
 * ECC AK, RSASSA-PKCS1-v1_5 or RSASSA-PSS for an RSA AK (Part 1 Annex B.7: PSS salt = digest
 * size on a TPM, accepted here with any salt length as OpenSSL's auto-detection allows). */
static atls_error check_signature(const atls_tpm2_public *ak, const atls_tpm2_signature *sig,
                                  const atls_buf *attest)
{
    int is_rsa = ak->type == ATLS_TPM2_ALG_RSA;
    if (is_rsa) {
        ATLS_ENSURE(sig->sig_alg == ATLS_TPM2_ALG_RSASSA || sig->sig_alg == ATLS_TPM2_ALG_RSAPSS,
                    ATLS_ERR_EVIDENCE_SIGNATURE,
                    "TPM quote: sigAlg 0x%04x does not match the RSA AK", sig->sig_alg);
        ATLS_ENSURE(ak->scheme == ATLS_TPM2_ALG_NULL || ak->scheme == sig->sig_alg,
                    ATLS_ERR_EVIDENCE_SIGNATURE,
                    "TPM quote: sigAlg 0x%04x differs from the AK scheme 0x%04x", sig->sig_alg,
                    ak->scheme);
    } else {
        ATLS_ENSURE(sig->sig_alg == ATLS_TPM2_ALG_ECDSA, ATLS_ERR_EVIDENCE_SIGNATURE,
                    "TPM quote: sigAlg 0x%04x does not match the ECC AK", sig->sig_alg);
    }
    ATLS_ENSURE(ak->scheme == ATLS_TPM2_ALG_NULL || ak->scheme_hash == sig->hash_alg,
                ATLS_ERR_EVIDENCE_SIGNATURE,
                "TPM quote: signature hash 0x%04x differs from the AK scheme hash 0x%04x",
                sig->hash_alg, ak->scheme_hash);
    uint8_t *der = NULL;
    size_t der_len = 0;
    const uint8_t *sig_bytes = sig->rsa_sig;
    size_t sig_len = sig->rsa_sig_len;
    if (!is_rsa) {
        ATLS_GUARD(atls_tpm2_signature_to_der(sig, &der, &der_len));
        sig_bytes = der;
        sig_len = der_len;
    }
    atls_error rc = ATLS_OK;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    ATLS_GUARD_OSSL_GOTO(rc, done,
                         EVP_DigestVerifyInit(ctx, &pctx, atls_tpm2_hash_md(sig->hash_alg), NULL,
                                              ak->key),
                         ATLS_ERR_CRYPTO, "TPM quote: signature verification init");
    if (is_rsa) {
        int pad = sig->sig_alg == ATLS_TPM2_ALG_RSAPSS ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING;
        ATLS_GUARD_OSSL_GOTO(rc, done, EVP_PKEY_CTX_set_rsa_padding(pctx, pad), ATLS_ERR_CRYPTO,
                             "TPM quote: RSA padding");
        if (pad == RSA_PKCS1_PSS_PADDING) {
            ATLS_GUARD_OSSL_GOTO(rc, done,
                                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO),
                                 ATLS_ERR_CRYPTO, "TPM quote: PSS salt length");
        }
    }
    if (EVP_DigestVerify(ctx, sig_bytes, sig_len, attest->data, attest->len) != 1) {
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_SIGNATURE,
                       "TPM quote: signature does not verify under the AK");
    }
done:
    EVP_MD_CTX_free(ctx);
    free(der);
    return rc;
}

/* qualifiedSigner is the AK's qualified name (Part 1 §16.6), which depends on its parents.
 * It is computable for a primary (parent QN = hierarchy handle); for other AKs the caller
 * must supply it to have it checked. */
static atls_error check_signer(const atls_tpm2_attest *att, const atls_tpm2_public *ak,
                               const atls_tpm2_verify_opts *opts, const char **hierarchy)
{
    if (opts->qualified_signer != NULL) {
        ATLS_ENSURE(att->qualified_signer_len == opts->qualified_signer_len &&
                        memcmp(att->qualified_signer, opts->qualified_signer,
                               att->qualified_signer_len) == 0,
                    ATLS_ERR_EVIDENCE, "TPM quote: qualifiedSigner is not the expected AK");
    }
    ATLS_ENSURE(att->qualified_signer_len == ak->name_len &&
                    memcmp(att->qualified_signer, ak->name, 2) == 0,
                ATLS_ERR_EVIDENCE,
                "TPM quote: qualifiedSigner does not use the AK's name algorithm");
    static const struct {
        uint32_t handle;
        const char *name;
    } roots[] = {{ATLS_TPM2_RH_ENDORSEMENT, "endorsement"},
                 {ATLS_TPM2_RH_OWNER, "owner"},
                 {ATLS_TPM2_RH_PLATFORM, "platform"}};
    *hierarchy = "unknown";
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        uint8_t h[4] = {(uint8_t)(roots[i].handle >> 24), (uint8_t)(roots[i].handle >> 16),
                        (uint8_t)(roots[i].handle >> 8), (uint8_t)roots[i].handle};
        uint8_t qn[ATLS_TPM2_MAX_NAME];
        size_t qn_len = 0;
        ATLS_GUARD(atls_tpm2_qualified_name(h, sizeof(h), ak->name, ak->name_len, qn, &qn_len));
        if (qn_len == att->qualified_signer_len &&
            memcmp(qn, att->qualified_signer, qn_len) == 0) {
            *hierarchy = roots[i].name;
            break;
        }
    }
    return ATLS_OK;
}

/* The AK certificate must chain to a configured anchor and certify this very key. */
static atls_error check_ak_cert(const atls_buf *cert_der, const atls_tpm2_public *ak,
                                const atls_tpm2_verify_opts *opts)
{
    atls_error rc = ATLS_OK;
    const unsigned char *p = cert_der->data;
    X509 *cert = d2i_X509(NULL, &p, (long)cert_der->len);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    if (cert == NULL || p != cert_der->data + cert_der->len) {
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_CHAIN, "TPM AK certificate: not one DER X.509");
    }
    if (store == NULL || sctx == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    if (EVP_PKEY_eq(X509_get0_pubkey(cert), ak->key) != 1) {
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_CHAIN,
                       "TPM AK certificate: certifies a different key than the AK");
    }
    for (int i = 0; i < sk_X509_num(opts->trust_anchors); i++) {
        ATLS_GUARD_OSSL_GOTO(rc, done,
                             X509_STORE_add_cert(store, sk_X509_value(opts->trust_anchors, i)),
                             ATLS_ERR_CRYPTO, "X509_STORE_add_cert");
    }
    ATLS_GUARD_OSSL_GOTO(rc, done, X509_STORE_CTX_init(sctx, store, cert, opts->intermediates),
                         ATLS_ERR_CRYPTO, "X509_STORE_CTX_init");
    if (opts->at != 0) {
        X509_STORE_CTX_set_time(sctx, 0, opts->at);
    }
    if (X509_verify_cert(sctx) != 1) {
        int err = X509_STORE_CTX_get_error(sctx);
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_CHAIN, "TPM AK certificate: %s",
                       X509_verify_cert_error_string(err));
    }
done:
    X509_STORE_CTX_free(sctx);
    X509_STORE_free(store);
    X509_free(cert);
    return rc;
}

static atls_error verify(const atls_tpm2_quote *q, const atls_tpm2_verify_opts *opts,
                         atls_tpm2_verified *v)
{
    atls_tpm2_signature sig;
    ATLS_GUARD(atls_tpm2_public_parse(q->ak_public.data, q->ak_public.len, &v->ak));
    ATLS_GUARD(atls_tpm2_signature_parse(q->sig.data, q->sig.len, &sig));
    ATLS_GUARD(atls_tpm2_attest_parse(q->attest.data, q->attest.len, &v->attest));
    ATLS_GUARD(atls_tpm2_public_check_ak(&v->ak));
    ATLS_GUARD(check_signature(&v->ak, &sig, &q->attest));

    const atls_tpm2_attest *att = &v->attest;
    ATLS_ENSURE(att->magic == ATLS_TPM2_GENERATED_VALUE, ATLS_ERR_EVIDENCE,
                "TPM quote: magic 0x%08x is not TPM_GENERATED_VALUE", att->magic);
    ATLS_ENSURE(att->type == ATLS_TPM2_ST_ATTEST_QUOTE, ATLS_ERR_EVIDENCE,
                "TPM quote: type 0x%04x is not a quote", att->type);
    if (opts->challenge != NULL) {
        ATLS_ENSURE(att->extra_data_len == opts->challenge_len &&
                        CRYPTO_memcmp(att->extra_data, opts->challenge, opts->challenge_len) == 0,
                    ATLS_ERR_EVIDENCE_NONCE,
                    "TPM quote: extraData (%zu bytes) is not the expected challenge",
                    att->extra_data_len);
        v->challenge_checked = 1;
    }
    ATLS_GUARD(check_signer(att, &v->ak, opts, &v->ak_hierarchy));

    uint8_t digest[ATLS_TPM2_MAX_DIGEST];
    size_t dlen = 0;
    ATLS_GUARD(atls_tpm2_pcr_digest(sig.hash_alg, &att->pcr_select, q->pcrs, q->num_pcrs, digest,
                                    &dlen));
    ATLS_ENSURE(dlen == att->pcr_digest_len && memcmp(digest, att->pcr_digest, dlen) == 0,
                ATLS_ERR_EVIDENCE,
                "TPM quote: pcrDigest does not match the digest of the supplied PCR values");

    /* trust anchors for AK certificates configured: the AK must have a certificate that
     * verifies to one of them (an AK without one is not simply left unchecked) */
    if (sk_X509_num(opts->trust_anchors) > 0) {
        ATLS_ENSURE(q->ak_cert.len > 0, ATLS_ERR_EVIDENCE_CHAIN,
                    "TPM quote: AK trust anchors are configured but the quote carries no AK "
                    "certificate (roots for other Evidence are not AK CAs: tpm_ak_anchors, "
                    "CLI --tpm-ak-ca)");
        ATLS_GUARD(check_ak_cert(&q->ak_cert, &v->ak, opts));
        v->ak_cert_verified = 1;
    }
    return ATLS_OK;
}

atls_error atls_tpm2_verify_quote(const atls_tpm2_quote *q, const atls_tpm2_verify_opts *opts,
                                  atls_tpm2_verified *out)
{
    static const atls_tpm2_verify_opts none = {0};
    atls_tpm2_verified local;
    atls_tpm2_verified *v = out != NULL ? out : &local;
    memset(v, 0, sizeof(*v));
    ATLS_ENSURE(q != NULL, ATLS_ERR_USAGE, "atls_tpm2_verify_quote: no quote");
    atls_error rc = verify(q, opts != NULL ? opts : &none, v);
    if (rc != ATLS_OK || out == NULL) {
        atls_tpm2_verified_cleanup(v);
    }
    return rc;
}
