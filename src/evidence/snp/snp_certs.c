/* snp_certs.c: the VCEK/VLEK side of SNP verification: report signature, certificate chain
 * to the ARK, and the VCEK extensions that must match the report (snp_internal.h). */
#include "evidence/snp/snp_internal.h"

#include "base/file.h"
#include "base/mem.h"
#include "base/result.h"
#include "evidence/core/verify_cache.h"

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#define SNP_CERT_FILE_MAX (256u * 1024u)

atls_error atls_snp_load_cert_file(const char *path, X509 **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *out = NULL;
    ATLS_GUARD(atls_file_read(path, SNP_CERT_FILE_MAX, &buf, &len));
    const unsigned char *p = buf;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != buf + len) {
        X509_free(x);
        x = NULL;
    }
    if (x == NULL) {
        ERR_clear_error();
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        if (bio != NULL) {
            x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
            BIO_free(bio);
        }
    }
    free(buf);
    if (x == NULL) {
        ERR_clear_error();
        ATLS_RAISE(ATLS_ERR_EVIDENCE_CHAIN, "SNP: %s is not a DER or PEM certificate", path);
    }
    *out = x;
    return ATLS_OK;
}

atls_error atls_snp_check_signature(const uint8_t *report, const atls_snp_report *r, X509 *cert)
{
    atls_error rc = ATLS_OK;
    EVP_PKEY *pkey = X509_get0_pubkey(cert);
    ECDSA_SIG *sig = NULL;
    BIGNUM *br = NULL, *bs = NULL;
    unsigned char *der = NULL;
    EVP_MD_CTX *md = NULL;
    char group[32] = "";
    size_t glen = 0;

    ATLS_ENSURE(pkey != NULL && EVP_PKEY_is_a(pkey, "EC") &&
                    EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof(group), &glen) ==
                        1 &&
                    strcmp(group, "secp384r1") == 0,
                ATLS_ERR_EVIDENCE_CHAIN, "SNP: VCEK/VLEK key is not ECDSA P-384");
    sig = ECDSA_SIG_new();
    br = BN_bin2bn(r->sig_r, 48, NULL);
    bs = BN_bin2bn(r->sig_s, 48, NULL);
    if (sig == NULL || br == NULL || bs == NULL || ECDSA_SIG_set0(sig, br, bs) != 1) {
        BN_free(br);
        BN_free(bs);
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_INTERNAL_ALLOC, "SNP: cannot build ECDSA_SIG");
    }
    int der_len = i2d_ECDSA_SIG(sig, &der);
    if (der_len <= 0) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_CRYPTO, "SNP: cannot encode the signature");
    }
    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pkey) != 1) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_CRYPTO, "SNP: EVP_DigestVerifyInit failed");
    }
    /* The signature covers bytes 0x000-0x29F (ABI spec, ATTESTATION_REPORT). */
    if (EVP_DigestVerify(md, der, (size_t)der_len, report, ATLS_SNP_SIGNED_LEN) != 1) {
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_EVIDENCE_SIGNATURE,
                       "SNP report: signature does not verify with the %s",
                       atls_snp_report_signer(r) == ATLS_SNP_SIGNER_VLEK ? "VLEK" : "VCEK");
    }
out:
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return rc;
}

/* ---- verified chains ------------------------------------------------------------------------
 * The VCEK/VLEK -> ASK/ASVK -> ARK check (two RSA-4096-PSS verifications) is the same for every
 * report of a chip until its TCB changes. X509_verify_cert's outcome depends only on the leaf,
 * the untrusted certificates, the trust anchors and the time: a success (including the
 * three-certificate shape below) is remembered (verify_cache.h) under SHA-256("snp x509 chain",
 * leaf, untrusted, anchors, CRLs as DER) with the window in which every certificate of the built
 * chain is valid, and served only at times strictly inside it. Failures are never stored. */
ATLS_VCACHE_DEFINE(chain_cache, 16, NULL);

static int chain_key(X509 *leaf, STACK_OF(X509) *untrusted, const atls_verify_input *in,
                     uint8_t key[ATLS_VCACHE_KEY_LEN])
{
    atls_vcache_hash h;
    atls_vcache_hash_init(&h, "snp x509 chain");
    /* the leaf is usually one of the untrusted certificates (the pool it was found in): then
     * its position stands for it (their DER follows); otherwise its own DER */
    int pos = -1;
    for (int i = 0; pos < 0 && untrusted != NULL && i < sk_X509_num(untrusted); i++) {
        pos = sk_X509_value(untrusted, i) == leaf ? i : -1;
    }
    if (pos >= 0) {
        atls_vcache_hash_u64(&h, UINT64_MAX - 1); /* a tag no DER length equals */
        atls_vcache_hash_u64(&h, (uint64_t)pos);
    } else {
        atls_vcache_hash_cert(&h, leaf);
    }
    atls_vcache_hash_certs(&h, untrusted);
    atls_vcache_hash_certs(&h, in->trust_anchors);
    atls_vcache_hash_crls(&h, in->crls);
    return atls_vcache_hash_final(&h, key);
}

atls_error atls_snp_check_chain(X509 *leaf, STACK_OF(X509) *untrusted,
                                const atls_verify_input *in)
{
    atls_error rc = ATLS_OK;
    uint8_t key[ATLS_VCACHE_KEY_LEN];
    time_t at = atls_vcache_at(in->at);
    int have_key = in->trust_anchors != NULL && sk_X509_num(in->trust_anchors) > 0 &&
                   chain_key(leaf, untrusted, in, key);
    if (have_key && atls_vcache_lookup(&chain_cache, key, at, NULL)) {
        return ATLS_OK;
    }
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_INTERNAL_ALLOC, "SNP: X509_STORE_new failed");
    }
    int n = in->trust_anchors != NULL ? sk_X509_num(in->trust_anchors) : 0;
    if (n <= 0) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_EVIDENCE_CHAIN, "SNP: no trust anchor (ARK) configured");
    }
    for (int i = 0; i < n; i++) {
        if (X509_STORE_add_cert(store, sk_X509_value(in->trust_anchors, i)) != 1) {
            ERR_clear_error(); /* duplicates are harmless */
        }
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_INTERNAL_ALLOC, "SNP: X509_STORE_CTX_init failed");
    }
    X509_STORE_CTX_set_time(ctx, 0, at);
    if (X509_verify_cert(ctx) != 1) {
        int err = X509_STORE_CTX_get_error(ctx);
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_EVIDENCE_CHAIN,
                       "SNP: VCEK/VLEK chain to the ARK does not verify: %s (depth %d)",
                       X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
    }
    /* VCEK -> ASK -> ARK or VLEK -> ASVK -> ARK: exactly three certificates, the ARK being a
     * configured trust anchor (it is the only thing in the store). */
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    if (chain == NULL || sk_X509_num(chain) != 3) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_EVIDENCE_CHAIN,
                       "SNP: chain has %d certificates, expected VCEK/VLEK, ASK/ASVK, ARK",
                       chain != NULL ? sk_X509_num(chain) : 0);
    }
    atls_vcache_window w = atls_vcache_window_all();
    int ok = 1;
    for (int i = 0; ok && i < sk_X509_num(chain); i++) {
        ok = atls_vcache_window_cert(&w, sk_X509_value(chain, i));
    }
    if (have_key && ok) {
        atls_vcache_store(&chain_cache, key, &w, NULL);
    }
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

/* ext_data returns the extnValue octets of the extension |oid| of |x|, or NULL if absent. */
static const ASN1_OCTET_STRING *ext_data(X509 *x, const char *oid)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    if (obj == NULL) {
        return NULL;
    }
    int idx = X509_get_ext_by_OBJ(x, obj, -1);
    ASN1_OBJECT_free(obj);
    if (idx < 0) {
        return NULL;
    }
    return X509_EXTENSION_get_data(X509_get_ext(x, idx));
}

/* ext_spl reads an SPL extension (a DER INTEGER 0..255). *present = 0 when absent. */
ATLS_MUST_CHECK static atls_error ext_spl(X509 *x, const char *oid, const char *name,
                                          int *present, uint8_t *val)
{
    const ASN1_OCTET_STRING *os = ext_data(x, oid);
    *present = 0;
    *val = 0;
    if (os == NULL) {
        return ATLS_OK;
    }
    const unsigned char *p = ASN1_STRING_get0_data(os);
    long len = ASN1_STRING_length(os);
    const unsigned char *end = p + len;
    ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, len);
    uint64_t v = 0;
    int ok = ai != NULL && p == end && ASN1_INTEGER_get_uint64(&v, ai) == 1 && v <= 255;
    ASN1_INTEGER_free(ai);
    if (!ok) {
        ERR_clear_error();
        ATLS_RAISE(ATLS_ERR_EVIDENCE_CHAIN, "SNP: VCEK extension %s is not an INTEGER 0..255",
                   name);
    }
    *present = 1;
    *val = (uint8_t)v;
    return ATLS_OK;
}

/* product_name copies the VCEK productName or "" if absent. */
ATLS_MUST_CHECK static atls_error product_name(X509 *cert, char *out, size_t out_size)
{
    out[0] = '\0';
    const ASN1_OCTET_STRING *os = ext_data(cert, ATLS_SNP_OID_PRODUCT);
    if (os == NULL) {
        return ATLS_OK;
    }
    const unsigned char *p = ASN1_STRING_get0_data(os);
    long len = ASN1_STRING_length(os);
    const unsigned char *end = p + len;
    ASN1_IA5STRING *s = d2i_ASN1_IA5STRING(NULL, &p, len);
    if (s == NULL || p != end || (size_t)ASN1_STRING_length(s) >= out_size) {
        ASN1_IA5STRING_free(s);
        ERR_clear_error();
        ATLS_RAISE(ATLS_ERR_EVIDENCE_CHAIN, "SNP: VCEK productName is not a short IA5String");
    }
    memcpy(out, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
    out[ASN1_STRING_length(s)] = '\0';
    ASN1_IA5STRING_free(s);
    for (size_t i = 0; out[i] != '\0'; i++) {
        ATLS_ENSURE(out[i] >= 0x20 && out[i] < 0x7f, ATLS_ERR_EVIDENCE_CHAIN,
                    "SNP: VCEK productName has a control character");
    }
    return ATLS_OK;
}

static const struct {
    const char *oid, *name;
} spl_ext[ATLS_SNP_NUM_SPL] = {{ATLS_SNP_OID_BL_SPL, "blSPL"},     {ATLS_SNP_OID_TEE_SPL, "teeSPL"},
                               {ATLS_SNP_OID_SNP_SPL, "snpSPL"},   {ATLS_SNP_OID_UCODE_SPL, "ucodeSPL"},
                               {ATLS_SNP_OID_FMC_SPL, "fmcSPL"}};

ATLS_MUST_CHECK static atls_error cert_ext_parse(X509 *cert, atls_snp_cert_ext *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_GUARD(product_name(cert, out->product, sizeof(out->product)));
    for (size_t i = 0; i < ATLS_SNP_NUM_SPL; i++) {
        ATLS_GUARD(ext_spl(cert, spl_ext[i].oid, spl_ext[i].name, &out->spl_present[i],
                           &out->spl[i]));
    }
    const ASN1_OCTET_STRING *os = ext_data(cert, ATLS_SNP_OID_HWID);
    if (os != NULL) {
        out->have_hwid = 1;
        out->hwid_len = (size_t)ASN1_STRING_length(os);
        if (out->hwid_len <= sizeof(out->hwid)) {
            memcpy(out->hwid, ASN1_STRING_get0_data(os), out->hwid_len);
        }
    }
    return ATLS_OK;
}

/* The extensions of a VCEK/VLEK are parsed once per certificate: an object cache keyed by
 * SHA-256("snp vcek extensions", certificate DER) (verify_cache.h); only successful parses are
 * stored, and what they say is compared with each report in atls_snp_check_cert_tcb. */
static void *ext_dup(const void *p)
{
    return atls_memdup(p, sizeof(atls_snp_cert_ext));
}

static const atls_vcache_obj_ops ext_ops = {ext_dup, free};
ATLS_VCACHE_DEFINE(ext_cache, 16, &ext_ops);

atls_error atls_snp_cert_ext_get(X509 *cert, atls_snp_cert_ext *out)
{
    uint8_t id[ATLS_VCACHE_KEY_LEN];
    atls_vcache_hash h;
    void *hit = NULL;
    atls_vcache_hash_init(&h, "snp vcek extensions");
    atls_vcache_hash_cert(&h, cert);
    int have_id = atls_vcache_hash_final(&h, id);
    if (have_id && atls_vcache_lookup(&ext_cache, id, 0, &hit)) {
        memcpy(out, hit, sizeof(*out));
        free(hit);
        return ATLS_OK;
    }
    ATLS_GUARD(cert_ext_parse(cert, out));
    if (have_id) {
        atls_vcache_store(&ext_cache, id, NULL, out);
    }
    return ATLS_OK;
}

atls_error atls_snp_check_cert_tcb(const atls_snp_cert_ext *ext, const atls_snp_report *r,
                                   int turin)
{
    atls_snp_tcb t;
    atls_snp_tcb_decode(r->reported_tcb, turin, &t);
    const uint8_t want[ATLS_SNP_NUM_SPL] = {t.bootloader, t.tee, t.snp, t.microcode, t.fmc};
    for (size_t i = 0; i < ATLS_SNP_NUM_SPL; i++) {
        if (i == 4 && !turin) {
            continue; /* fmcSPL exists only on Turin */
        }
        ATLS_ENSURE(ext->spl_present[i], ATLS_ERR_EVIDENCE_CHAIN,
                    "SNP: VCEK/VLEK lacks the %s extension", spl_ext[i].name);
        ATLS_ENSURE(ext->spl[i] == want[i], ATLS_ERR_EVIDENCE_CHAIN,
                    "SNP: VCEK %s %u does not match REPORTED_TCB (%u)", spl_ext[i].name,
                    ext->spl[i], want[i]);
    }
    if (atls_snp_report_signer(r) == ATLS_SNP_SIGNER_VLEK) {
        return ATLS_OK; /* a VLEK is not chip-specific: CHIP_ID is zero, no HWID */
    }
    /* HWID = CHIP_ID: 64 bytes on Milan/Genoa, the first 8 bytes on Turin [U for Turin]. */
    ATLS_ENSURE(ext->have_hwid, ATLS_ERR_EVIDENCE_CHAIN, "SNP: VCEK lacks the hwID extension");
    size_t want_len = turin ? 8 : 64;
    ATLS_ENSURE(ext->hwid_len == want_len, ATLS_ERR_EVIDENCE_CHAIN,
                "SNP: VCEK hwID is %zu bytes, expected %zu", ext->hwid_len, want_len);
    ATLS_ENSURE(memcmp(ext->hwid, r->chip_id, want_len) == 0, ATLS_ERR_EVIDENCE_CHAIN,
                "SNP: VCEK hwID does not match the report CHIP_ID");
    return ATLS_OK;
}

/* ---- revocation (AMD KDS "crl": one CRL signed by the ARK, listing revoked ASKs/ASVKs) ------
 * OpenSSL's CRL_CHECK_ALL would want a CRL from the ASK too, which AMD does not publish; the
 * ARK's CRL is applied by hand instead, as go-sev-guest and trustee do: it must come from the
 * ARK that anchors this chain and be current; the ASK's serial and (as trustee also checks)
 * the VCEK's must not be listed. */

/* issuer_in: the certificate of |pool| (or |anchors|) that issued |x| (not |x| itself). */
static X509 *issuer_in(X509 *x, STACK_OF(X509) *pool)
{
    for (int i = 0; pool != NULL && i < sk_X509_num(pool); i++) {
        X509 *c = sk_X509_value(pool, i);
        EVP_PKEY *k = X509_get0_pubkey(c);
        if (c != x && X509_check_issued(c, x) == X509_V_OK && k != NULL &&
            X509_verify(x, k) == 1) {
            ERR_clear_error();
            return c;
        }
        ERR_clear_error();
    }
    return NULL;
}

static int listed(X509_CRL *crl, X509 *x)
{
    X509_REVOKED *entry = NULL;
    return X509_CRL_get0_by_serial(crl, &entry, (ASN1_INTEGER *)X509_get0_serialNumber(x)) == 1;
}

/* A passed revocation check is a pure function of the leaf, the untrusted certificates, the
 * anchors, the CRLs and the time: remembered (verify_cache.h) under SHA-256("snp ark crl
 * check", those as DER) within the window of every CRL, like chain_cache above. */
ATLS_VCACHE_DEFINE(crl_cache, 16, NULL);

atls_error atls_snp_check_revocation(X509 *leaf, STACK_OF(X509) *untrusted,
                                     const atls_verify_input *in, int *checked)
{
    int n = in->crls != NULL ? sk_X509_CRL_num(in->crls) : 0;
    *checked = 0;
    if (n == 0) {
        return ATLS_OK;
    }
    uint8_t key[ATLS_VCACHE_KEY_LEN];
    atls_vcache_hash h;
    atls_vcache_hash_init(&h, "snp ark crl check");
    atls_vcache_hash_cert(&h, leaf);
    atls_vcache_hash_certs(&h, untrusted);
    atls_vcache_hash_certs(&h, in->trust_anchors);
    atls_vcache_hash_crls(&h, in->crls);
    int have_key = atls_vcache_hash_final(&h, key);
    time_t at = atls_vcache_at(in->at);
    if (have_key && atls_vcache_lookup(&crl_cache, key, at, NULL)) {
        *checked = 1;
        return ATLS_OK;
    }
    X509 *ask = issuer_in(leaf, untrusted);
    X509 *ark = ask != NULL ? issuer_in(ask, in->trust_anchors) : NULL;
    ATLS_ENSURE(ark != NULL, ATLS_ERR_INTERNAL, "SNP: the verified chain cannot be rebuilt");
    atls_vcache_window w = atls_vcache_window_all();
    int windowed = 1, applied = 0;
    for (int i = 0; i < n; i++) {
        X509_CRL *crl = sk_X509_CRL_value(in->crls, i);
        const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ark)) != 0) {
            continue; /* another issuer's CRL (e.g. Intel's, in a shared configuration) */
        }
        int ok = X509_CRL_verify(crl, X509_get0_pubkey(ark)) == 1;
        ERR_clear_error();
        ATLS_ENSURE(ok, ATLS_ERR_EVIDENCE_CHAIN,
                    "SNP: CRL %d names the ARK as its issuer but the ARK did not sign it", i + 1);
        ATLS_ENSURE(X509_cmp_time(X509_CRL_get0_lastUpdate(crl), &at) < 0 && next != NULL &&
                        X509_cmp_time(next, &at) > 0,
                    ATLS_ERR_EVIDENCE_CHAIN,
                    "SNP: CRL %d is not valid at the verification time (thisUpdate/nextUpdate)",
                    i + 1);
        ATLS_ENSURE(!listed(crl, ask), ATLS_ERR_EVIDENCE_REVOKED,
                    "SNP: the %s is revoked by the ARK's CRL",
                    "ASK/ASVK");
        ATLS_ENSURE(!listed(crl, leaf), ATLS_ERR_EVIDENCE_REVOKED,
                    "SNP: the VCEK/VLEK is revoked by the ARK's CRL");
        windowed = windowed && atls_vcache_window_crl(&w, crl);
        applied++;
    }
    if (applied == 0) {
        return ATLS_OK; /* no CRL of this ARK: revocation unchecked (and the result says so) */
    }
    if (have_key && windowed) {
        atls_vcache_store(&crl_cache, key, &w, NULL);
    }
    *checked = 1;
    return ATLS_OK;
}

atls_error atls_snp_check_signer_kind(const atls_snp_report *r, X509 *cert)
{
    char cn[64] = "";
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
                                      (int)sizeof(cn));
    ERR_clear_error();
    const char *want = atls_snp_report_signer(r) == ATLS_SNP_SIGNER_VLEK ? "SEV-VLEK" : "SEV-VCEK";
    ATLS_ENSURE(n > 0 && strcmp(cn, want) == 0, ATLS_ERR_EVIDENCE_CHAIN,
                "SNP: the report's SIGNING_KEY says %s but the signing certificate is \"%s\"",
                want + 4, n > 0 ? cn : "(no CN)");
    return ATLS_OK;
}
