/* sigscheme.c: TLS 1.3 SignatureScheme selection, signing and verification for
 * CertificateVerify (RFC 8446 section 4.4.3, RFC 9261 section 5.2.2). */
#include "tls/ea/ea_internal.h"

#include "base/result.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KIND_ECDSA, KIND_RSA_PSS_RSAE, KIND_ED25519 } scheme_kind;

/* One supported scheme: what key it needs and which hash. rsa_pkcs1_* are absent on purpose
 * (not allowed in TLS 1.3 CertificateVerify), and so is rsa_pss_pss_* (no PSS-typed keys). */
typedef struct scheme_info {
    uint16_t scheme;
    scheme_kind kind;
    const char *group; /* ECDSA: the curve the key must be on (RFC 8446 section 4.2.3) */
    const char *md;    /* NULL for Ed25519 (signs the whole input) */
} scheme_info;

static const scheme_info schemes[] = {
    {ATLS_SIG_ECDSA_SECP256R1_SHA256, KIND_ECDSA, "prime256v1", "SHA256"},
    {ATLS_SIG_ECDSA_SECP384R1_SHA384, KIND_ECDSA, "secp384r1", "SHA384"},
    {ATLS_SIG_RSA_PSS_RSAE_SHA256, KIND_RSA_PSS_RSAE, NULL, "SHA256"},
    {ATLS_SIG_RSA_PSS_RSAE_SHA384, KIND_RSA_PSS_RSAE, NULL, "SHA384"},
    {ATLS_SIG_RSA_PSS_RSAE_SHA512, KIND_RSA_PSS_RSAE, NULL, "SHA512"},
    {ATLS_SIG_ED25519, KIND_ED25519, NULL, NULL},
};

static const scheme_info *find_scheme(uint16_t scheme)
{
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (schemes[i].scheme == scheme) {
            return &schemes[i];
        }
    }
    return NULL;
}

bool atls_ea_scheme_fits_key(uint16_t scheme, EVP_PKEY *key)
{
    const scheme_info *si = find_scheme(scheme);
    if (si == NULL || key == NULL) {
        return false;
    }
    switch (si->kind) {
    case KIND_ECDSA: {
        char group[64];
        size_t glen = 0;
        if (!EVP_PKEY_is_a(key, "EC") ||
            EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof(group), &glen) != 1) {
            ERR_clear_error();
            return false;
        }
        return strcmp(group, si->group) == 0;
    }
    case KIND_RSA_PSS_RSAE:
        /* rsae: an rsaEncryption key used with PSS; RSA below 2048 bits is refused */
        return EVP_PKEY_get_id(key) == EVP_PKEY_RSA && EVP_PKEY_get_bits(key) >= 2048;
    case KIND_ED25519:
        return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519;
    }
    return false;
}

atls_error atls_ea_choose_scheme(const uint16_t *offered, size_t num, EVP_PKEY *key,
                                 uint16_t *out)
{
    for (size_t i = 0; i < num; i++) {
        if (atls_ea_scheme_fits_key(offered[i], key)) {
            *out = offered[i];
            return ATLS_OK;
        }
    }
    ATLS_RAISE(ATLS_ERR_PROTOCOL_SCHEME,
               "EA CertificateVerify: no offered signature scheme fits the %s key",
               EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown");
}

/* init_ctx prepares |mctx| for signing (verify = 0) or verifying with |si|'s parameters. */
static atls_error init_ctx(EVP_MD_CTX *mctx, const scheme_info *si, EVP_PKEY *key, int verify)
{
    EVP_PKEY_CTX *pctx = NULL;
    int ok = verify ? EVP_DigestVerifyInit_ex(mctx, &pctx, si->md, NULL, NULL, key, NULL)
                    : EVP_DigestSignInit_ex(mctx, &pctx, si->md, NULL, NULL, key, NULL);
    ATLS_GUARD_OSSL(ok, ATLS_ERR_CRYPTO, "EA CertificateVerify: digest init for 0x%04x failed",
                    (unsigned)si->scheme);
    if (si->kind == KIND_RSA_PSS_RSAE) {
        /* RFC 8446 section 4.2.3: salt as long as the digest, MGF1 with the same hash */
        ATLS_GUARD_OSSL(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 ? 1 : 0,
                        ATLS_ERR_CRYPTO, "EA CertificateVerify: PSS padding");
        ATLS_GUARD_OSSL(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 ? 1 : 0,
                        ATLS_ERR_CRYPTO, "EA CertificateVerify: PSS salt length");
        ATLS_GUARD_OSSL(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, si->md, NULL) > 0 ? 1 : 0,
                        ATLS_ERR_CRYPTO, "EA CertificateVerify: PSS MGF1 hash");
    }
    return ATLS_OK;
}

atls_error atls_ea_sign(EVP_PKEY *key, uint16_t scheme, const uint8_t *tbs, size_t tbs_len,
                        uint8_t **sig, size_t *sig_len)
{
    const scheme_info *si = find_scheme(scheme);
    *sig = NULL;
    *sig_len = 0;
    ATLS_ENSURE(si != NULL && atls_ea_scheme_fits_key(scheme, key), ATLS_ERR_PROTOCOL_SCHEME,
                "EA CertificateVerify: scheme 0x%04x does not fit the signing key",
                (unsigned)scheme);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    ATLS_ENSURE(mctx != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = init_ctx(mctx, si, key, 0);
    size_t n = 0;
    uint8_t *buf = NULL;
    if (rc != ATLS_OK) {
        goto done;
    }
    /* one-shot: Ed25519 has no streaming mode */
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestSign(mctx, NULL, &n, tbs, tbs_len),
                         ATLS_ERR_CRYPTO, "EA CertificateVerify: signature size");
    buf = malloc(n);
    if (buf == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestSign(mctx, buf, &n, tbs, tbs_len), ATLS_ERR_CRYPTO,
                         "EA CertificateVerify: signing failed");
    *sig = buf;
    *sig_len = n;
    buf = NULL;
done:
    free(buf);
    EVP_MD_CTX_free(mctx);
    return rc;
}

atls_error atls_ea_verify(EVP_PKEY *key, uint16_t scheme, const uint8_t *tbs, size_t tbs_len,
                          const uint8_t *sig, size_t sig_len)
{
    const scheme_info *si = find_scheme(scheme);
    ATLS_ENSURE(si != NULL && atls_ea_scheme_fits_key(scheme, key), ATLS_ERR_PROTOCOL_SCHEME,
                "EA CertificateVerify: scheme 0x%04x does not fit the leaf key",
                (unsigned)scheme);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    ATLS_ENSURE(mctx != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = init_ctx(mctx, si, key, 1);
    if (rc == ATLS_OK && EVP_DigestVerify(mctx, sig, sig_len, tbs, tbs_len) != 1) {
        ERR_clear_error();
        rc = atls_error_raise(ATLS_ERR_CRYPTO_SIGNATURE, __FILE__, __LINE__,
                              "EA CertificateVerify: signature (scheme 0x%04x) does not verify",
                              (unsigned)scheme);
    }
    EVP_MD_CTX_free(mctx);
    return rc;
}
