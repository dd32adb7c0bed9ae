/* tdx_pck.c: the PCK side of TDX verification: PEM chain, chain to the Intel SGX Root CA,
 * raw ECDSA P-256 signatures, and the SGX extension of the PCK certificate (tdx_internal.h). */
#include "evidence/tdx/tdx_internal.h"

#include "base/mem.h"
#include "base/result.h"
#include "evidence/core/verify_cache.h"

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#define MAX_CHAIN_CERTS 8

static const char *const status_names[] = {
    "NotEvaluated", "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded", "Revoked",
    "TDRelaunchAdvised", "TDRelaunchAdvisedConfigurationNeeded",
};

const char *atls_tdx_tcb_status_name(atls_tdx_tcb_status s)
{
    return (size_t)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "?";
}

int atls_tdx_tcb_status_parse(const char *name, atls_tdx_tcb_status *out)
{
    for (size_t i = 1; name != NULL && i < sizeof(status_names) / sizeof(status_names[0]); i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (atls_tdx_tcb_status)i;
            return 1;
        }
    }
    return 0;
}

/* ---- parsed-chain cache -------------------------------------------------------------------
 * Every quote of a platform carries the same PCK chain, and the TCB signing chain is the same
 * for every appraisal; decoding certificates is the largest cost of a TDX appraisal in OpenSSL
 * 3.0 (the key of each certificate goes through the provider decoders). Parsing is a pure
 * function of the bytes, so parsed chains are kept in an object cache (verify_cache.h) keyed by
 * SHA-256("tdx pem chain", PEM text); only successful parses are stored, nothing about trust or
 * time is. The certificates are shared by reference count. */

/* chain_ref: a new stack holding new references to the certificates of |sk|, or NULL. */
static STACK_OF(X509) *chain_ref(STACK_OF(X509) *sk)
{
    STACK_OF(X509) *copy = sk_X509_new_reserve(NULL, sk_X509_num(sk));
    for (int i = 0; copy != NULL && i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);
        if (X509_up_ref(x) != 1 || sk_X509_push(copy, x) <= 0) {
            sk_X509_pop_free(copy, X509_free);
            return NULL;
        }
    }
    return copy;
}

static void *chain_dup(const void *sk)
{
    return chain_ref((STACK_OF(X509) *)sk);
}

static void chain_free(void *sk)
{
    sk_X509_pop_free((STACK_OF(X509) *)sk, X509_free);
}

static const atls_vcache_obj_ops chain_ops = {chain_dup, chain_free};
ATLS_VCACHE_DEFINE(pem_cache, 8, &chain_ops);

atls_error atls_tdx_load_pem_chain(const uint8_t *pem, size_t len, atls_error code,
                                   STACK_OF(X509) **out)
{
    atls_tdx_chain_id id;
    return atls_tdx_load_pem_chain_id(pem, len, code, out, &id);
}

atls_error atls_tdx_load_pem_chain_id(const uint8_t *pem, size_t len, atls_error code,
                                      STACK_OF(X509) **out, atls_tdx_chain_id *id)
{
    *out = NULL;
    memset(id, 0, sizeof(*id));
    if (len > 0 && pem[len - 1] == 0) {
        len--; /* the chain in a quote often ends with a NUL (evidence-formats.md 3.3) */
    }
    ATLS_ENSURE(len > 0 && len < INT32_MAX, code, "TDX: empty certificate chain");
    uint8_t key[ATLS_VCACHE_KEY_LEN];
    atls_vcache_hash h;
    atls_vcache_hash_init(&h, "tdx pem chain");
    atls_vcache_hash_bytes(&h, pem, len);
    int have_key = atls_vcache_hash_final(&h, key);
    void *hit = NULL;
    if (have_key) {
        memcpy(id->digest, key, sizeof(id->digest));
    }
    if (have_key && atls_vcache_lookup(&pem_cache, key, 0, &hit)) {
        *out = hit;
        id->num_certs = (size_t)sk_X509_num(*out);
        return ATLS_OK;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x = NULL;
    if (bio == NULL || sk == NULL) {
        BIO_free(bio);
        sk_X509_free(sk);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "TDX: out of memory");
    }
    while (sk_X509_num(sk) < MAX_CHAIN_CERTS && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (sk_X509_push(sk, x) <= 0) {
            X509_free(x);
            break;
        }
    }
    ERR_clear_error();
    BIO_free(bio);
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        ATLS_RAISE(code, "TDX: no PEM certificate in the chain");
    }
    if (have_key) {
        atls_vcache_store(&pem_cache, key, NULL, sk);
        id->num_certs = (size_t)sk_X509_num(sk);
    }
    *out = sk;
    return ATLS_OK;
}

/* ---- verified-chain cache ------------------------------------------------------------------
 * X509_verify_cert's outcome depends on the certificates offered (leaf, untrusted, anchors), the
 * CRLs and the verification time only. A success is remembered (verify_cache.h) under
 * SHA-256("tdx x509 chain", leaf, untrusted, anchors, CRLs as DER) with the window in which
 * every certificate of the built chain and every CRL is valid; a later verification with the
 * same inputs at a time strictly inside that window has the same outcome and skips the
 * signature checks. Failures are never stored. */
ATLS_VCACHE_DEFINE(chain_cache, 16, NULL);

/* chain_key: the cache key of one verification's inputs; 0 on failure (then nothing is cached). */
static int chain_key(X509 *leaf, STACK_OF(X509) *untrusted, const atls_tdx_chain_id *id,
                     const atls_verify_input *in, uint8_t key[ATLS_VCACHE_KEY_LEN])
{
    atls_vcache_hash h;
    int n = sk_X509_num(untrusted);
    if (id != NULL && id->num_certs > 0 && (size_t)n >= id->num_certs) {
        /* the leaf and the first num_certs untrusted certificates are the parse of the PEM
         * text with this digest (atls_tdx_load_pem_chain): the digest stands for their DER */
        atls_vcache_hash_init(&h, "tdx x509 chain (pem)");
        atls_vcache_hash_bytes(&h, id->digest, sizeof(id->digest));
        atls_vcache_hash_u64(&h, (uint64_t)n);
        for (int i = (int)id->num_certs; i < n; i++) {
            atls_vcache_hash_cert(&h, sk_X509_value(untrusted, i));
        }
    } else {
        atls_vcache_hash_init(&h, "tdx x509 chain");
        atls_vcache_hash_cert(&h, leaf);
        atls_vcache_hash_certs(&h, untrusted);
    }
    atls_vcache_hash_certs(&h, in->trust_anchors);
    atls_vcache_hash_crls(&h, in->crls);
    return atls_vcache_hash_final(&h, key);
}

/* chain_window: the window of every certificate in the chain OpenSSL built and every CRL. */
static int chain_window(X509_STORE_CTX *ctx, const atls_verify_input *in, atls_vcache_window *w)
{
    *w = atls_vcache_window_all();
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    int ok = chain != NULL && sk_X509_num(chain) > 0;
    for (int i = 0; ok && i < sk_X509_num(chain); i++) {
        ok = atls_vcache_window_cert(w, sk_X509_value(chain, i));
    }
    for (int i = 0; ok && in->crls != NULL && i < sk_X509_CRL_num(in->crls); i++) {
        ok = atls_vcache_window_crl(w, sk_X509_CRL_value(in->crls, i));
    }
    return ok;
}

/* crl_issued_in: |crl|'s issuer is the subject of a certificate of |a| or |b| (may be NULL). */
static int crl_issued_in(X509_CRL *crl, STACK_OF(X509) *a, STACK_OF(X509) *b)
{
    STACK_OF(X509) *lists[2] = {a, b};
    for (int l = 0; l < 2; l++) {
        for (int i = 0; lists[l] != NULL && i < sk_X509_num(lists[l]); i++) {
            if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
                              X509_get_subject_name(sk_X509_value(lists[l], i))) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

int atls_tdx_crls_apply(const atls_verify_input *in, STACK_OF(X509) *untrusted)
{
    for (int i = 0; in->crls != NULL && i < sk_X509_CRL_num(in->crls); i++) {
        if (crl_issued_in(sk_X509_CRL_value(in->crls, i), untrusted, in->trust_anchors)) {
            return 1;
        }
    }
    return 0;
}

atls_error atls_tdx_verify_chain(X509 *leaf, STACK_OF(X509) *untrusted,
                                 const atls_tdx_chain_id *id, const atls_verify_input *in,
                                 atls_error code, const char *what)
{
    atls_error rc = ATLS_OK;
    uint8_t key[ATLS_VCACHE_KEY_LEN];
    time_t at = atls_vcache_at(in->at);
    int have_key = in->trust_anchors != NULL && sk_X509_num(in->trust_anchors) > 0 &&
                   chain_key(leaf, untrusted, id, in, key);
    if (have_key && atls_vcache_lookup(&chain_cache, key, at, NULL)) {
        return ATLS_OK;
    }
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_INTERNAL_ALLOC, "TDX: X509_STORE_new failed");
    }
    int n = in->trust_anchors != NULL ? sk_X509_num(in->trust_anchors) : 0;
    if (n <= 0) {
        ATLS_FAIL_GOTO(rc, out, code, "TDX: %s: no trust anchor (Intel SGX Root CA) configured",
                       what);
    }
    for (int i = 0; i < n; i++) {
        if (X509_STORE_add_cert(store, sk_X509_value(in->trust_anchors, i)) != 1) {
            ERR_clear_error();
        }
    }
    int ncrl = in->crls != NULL ? sk_X509_CRL_num(in->crls) : 0, used = 0;
    for (int i = 0; i < ncrl; i++) {
        X509_CRL *crl = sk_X509_CRL_value(in->crls, i);
        if (!crl_issued_in(crl, untrusted, in->trust_anchors)) {
            continue; /* another PKI's CRL (e.g. AMD's, in a configuration shared with SNP) */
        }
        used++;
        if (X509_STORE_add_crl(store, crl) != 1) {
            ERR_clear_error();
        }
    }
    if (used > 0) {
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_INTERNAL_ALLOC, "TDX: X509_STORE_CTX_init failed");
    }
    X509_STORE_CTX_set_time(ctx, 0, at);
    if (X509_verify_cert(ctx) != 1) {
        int err = X509_STORE_CTX_get_error(ctx);
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, out, err == X509_V_ERR_CERT_REVOKED ? ATLS_ERR_EVIDENCE_REVOKED : code,
                       "TDX: %s does not verify to the root: %s (depth %d)", what,
                       X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
    }
    atls_vcache_window w;
    if (have_key && chain_window(ctx, in, &w)) {
        atls_vcache_store(&chain_cache, key, &w, NULL);
    }
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

atls_error atls_tdx_ecdsa_p256_verify(EVP_PKEY *key, const uint8_t sig[64], const uint8_t *msg,
                                      size_t len, atls_error code, const char *what)
{
    atls_error rc = ATLS_OK;
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *sv = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    EVP_MD_CTX *md = NULL;
    char group[32] = "";
    size_t glen = 0;
    if (s == NULL || r == NULL || sv == NULL || ECDSA_SIG_set0(s, r, sv) != 1) {
        BN_free(r);
        BN_free(sv);
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_INTERNAL_ALLOC, "TDX: cannot build ECDSA_SIG");
    }
    if (!EVP_PKEY_is_a(key, "EC") ||
        EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &glen) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, out, code, "TDX: %s key is not ECDSA P-256", what);
    }
    int der_len = i2d_ECDSA_SIG(s, &der);
    md = EVP_MD_CTX_new();
    if (der_len <= 0 || md == NULL || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_CRYPTO, "TDX: cannot set up ECDSA verification");
    }
    if (EVP_DigestVerify(md, der, (size_t)der_len, msg, len) != 1) {
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, out, code, "TDX: %s does not verify", what);
    }
out:
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
    return rc;
}

/* ---- remembered signature successes -------------------------------------------------------
 * An ECDSA verification is a pure function of (public key, signed bytes, signature): a success
 * is remembered under SHA-256(label, signer's SPKI as encoded in its certificate, signature,
 * signed bytes) and not
 * recomputed (verify_cache.h). The QE report and its signature are the same for every quote of
 * a platform, the TCB Info and QE Identity for every appraisal until the next PCS update.
 * Failures are never stored. */
ATLS_VCACHE_DEFINE(sig_cache, 16, NULL);

atls_error atls_tdx_ecdsa_p256_verify_cached(const char *label, X509 *signer,
                                             const uint8_t sig[64], const uint8_t *msg,
                                             size_t len, atls_error code, const char *what)
{
    EVP_PKEY *key = X509_get0_pubkey(signer);
    uint8_t id[ATLS_VCACHE_KEY_LEN];
    atls_vcache_hash h;
    atls_vcache_hash_init(&h, label);
    atls_vcache_hash_cert_pubkey(&h, signer);
    atls_vcache_hash_bytes(&h, sig, 64);
    atls_vcache_hash_bytes(&h, msg, len);
    int have_id = atls_vcache_hash_final(&h, id);
    if (have_id && atls_vcache_lookup(&sig_cache, id, 0, NULL)) {
        return ATLS_OK;
    }
    ATLS_ENSURE(key != NULL, code, "TDX: %s: the certificate key cannot be decoded", what);
    ATLS_GUARD(atls_tdx_ecdsa_p256_verify(key, sig, msg, len, code, what));
    if (have_id) {
        atls_vcache_store(&sig_cache, id, NULL, NULL);
    }
    return ATLS_OK;
}

/* ---- P-256 keys from raw coordinates ------------------------------------------------------
 * Building a key goes through the provider key management (and point validation) in OpenSSL
 * 3.0; the attestation key is the same for every quote of a platform, so built keys are kept in
 * an object cache keyed by SHA-256("tdx p256 raw key", X || Y), shared by reference count. */
ATLS_VCACHE_DEFINE(key_cache, 8, &atls_vcache_pkey_ops);

atls_error atls_tdx_p256_key_from_raw(const uint8_t xy[64], EVP_PKEY **out)
{
    uint8_t id[ATLS_VCACHE_KEY_LEN], point[65];
    atls_vcache_hash h;
    void *hit = NULL;
    *out = NULL;
    atls_vcache_hash_init(&h, "tdx p256 raw key");
    atls_vcache_hash_bytes(&h, xy, 64);
    int have_id = atls_vcache_hash_final(&h, id);
    if (have_id && atls_vcache_lookup(&key_cache, id, 0, &hit)) {
        *out = hit;
        return ATLS_OK;
    }
    point[0] = 0x04; /* uncompressed (SEC 1, 2.3.3) */
    memcpy(point + 1, xy, 64);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    int ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
             EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    /* explicit point validation (on the curve, not infinity, order), once per key */
    ctx = ok ? EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL) : NULL;
    ok = ok && ctx != NULL && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(key);
        ERR_clear_error();
        ATLS_RAISE(ATLS_ERR_EVIDENCE_SIGNATURE, "TDX quote: attestation key is not a P-256 point");
    }
    if (have_id) {
        atls_vcache_store(&key_cache, id, NULL, key);
    }
    *out = key;
    return ATLS_OK;
}

/* ---- SGX extension: SEQUENCE OF SEQUENCE { OID, value } (PCK Certificate Profile 1.3.5) ---- */

#define SGX_OID "1.2.840.113741.1.13.1"

/* pair splits one SEQUENCE { OID, ANY } element; returns the OID text and the value. */
static int pair(const ASN1_TYPE *t, char *oid, size_t oid_size, STACK_OF(ASN1_TYPE) **seq)
{
    *seq = NULL;
    if (t == NULL || t->type != V_ASN1_SEQUENCE) {
        return 0;
    }
    const unsigned char *p = t->value.sequence->data;
    long len = t->value.sequence->length;
    const unsigned char *end = p + len;
    STACK_OF(ASN1_TYPE) *s = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);
    if (s == NULL || p != end || sk_ASN1_TYPE_num(s) != 2 ||
        sk_ASN1_TYPE_value(s, 0)->type != V_ASN1_OBJECT ||
        OBJ_obj2txt(oid, (int)oid_size, sk_ASN1_TYPE_value(s, 0)->value.object, 1) <= 0) {
        sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
        return 0;
    }
    *seq = s;
    return 1;
}

static STACK_OF(ASN1_TYPE) *parse_seq(const unsigned char *p, long len)
{
    const unsigned char *end = p + len;
    STACK_OF(ASN1_TYPE) *s = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);
    if (s != NULL && p != end) {
        sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
        return NULL;
    }
    return s;
}

static int octets(const ASN1_TYPE *v, uint8_t *dst, size_t n)
{
    if (v->type != V_ASN1_OCTET_STRING || (size_t)v->value.octet_string->length != n) {
        return 0;
    }
    memcpy(dst, v->value.octet_string->data, n);
    return 1;
}

static int small_int(const ASN1_TYPE *v, uint64_t max, uint64_t *out)
{
    return v->type == V_ASN1_INTEGER && ASN1_INTEGER_get_uint64(out, v->value.integer) == 1 &&
           *out <= max;
}

/* tcb_seq reads the .2 TCB sequence: 16 component SVNs, PCESVN, CPUSVN. */
static int tcb_seq(const ASN1_TYPE *v, atls_tdx_pck_info *out)
{
    if (v->type != V_ASN1_SEQUENCE) {
        return 0;
    }
    STACK_OF(ASN1_TYPE) *s = parse_seq(v->value.sequence->data, v->value.sequence->length);
    int ok = s != NULL;
    uint32_t seen = 0;
    for (int i = 0; ok && i < sk_ASN1_TYPE_num(s); i++) {
        char oid[64];
        STACK_OF(ASN1_TYPE) *kv = NULL;
        ok = pair(sk_ASN1_TYPE_value(s, i), oid, sizeof(oid), &kv);
        const ASN1_TYPE *val = ok ? sk_ASN1_TYPE_value(kv, 1) : NULL;
        unsigned idx = 0;
        char tail = 0;
        uint64_t n = 0;
        if (ok && sscanf(oid, SGX_OID ".2.%u%c", &idx, &tail) == 1 && idx >= 1 && idx <= 18) {
            if (idx <= 16) {
                ok = small_int(val, 255, &n);
                out->comp[idx - 1] = (uint8_t)n;
            } else if (idx == 17) {
                ok = small_int(val, 65535, &n);
                out->pcesvn = (uint16_t)n;
            } else {
                ok = octets(val, out->cpusvn, 16);
            }
            ok = ok && !(seen & (1u << idx));
            seen |= 1u << idx;
        }
        sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
    }
    sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free);
    return ok && seen == 0x7fffeu; /* bits 1..18 */
}

ATLS_MUST_CHECK static atls_error pck_info_parse(X509 *pck, atls_tdx_pck_info *out)
{
    memset(out, 0, sizeof(*out));
    ASN1_OBJECT *obj = OBJ_txt2obj(SGX_OID, 1);
    int idx = obj != NULL ? X509_get_ext_by_OBJ(pck, obj, -1) : -1;
    ASN1_OBJECT_free(obj);
    ATLS_ENSURE(idx >= 0, ATLS_ERR_EVIDENCE_CHAIN, "TDX: PCK certificate has no SGX extension");
    const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(pck, idx));
    STACK_OF(ASN1_TYPE) *top = parse_seq(ASN1_STRING_get0_data(os), ASN1_STRING_length(os));
    int ok = top != NULL, have_fmspc = 0, have_pceid = 0, have_tcb = 0;
    for (int i = 0; ok && i < sk_ASN1_TYPE_num(top); i++) {
        char oid[64];
        STACK_OF(ASN1_TYPE) *kv = NULL;
        ok = pair(sk_ASN1_TYPE_value(top, i), oid, sizeof(oid), &kv);
        const ASN1_TYPE *val = ok ? sk_ASN1_TYPE_value(kv, 1) : NULL;
        if (ok && strcmp(oid, SGX_OID ".1") == 0) {
            ok = !out->have_ppid && octets(val, out->ppid, 16);
            out->have_ppid = 1;
        } else if (ok && strcmp(oid, SGX_OID ".2") == 0) {
            ok = !have_tcb && tcb_seq(val, out);
            have_tcb = 1;
        } else if (ok && strcmp(oid, SGX_OID ".3") == 0) {
            ok = !have_pceid && octets(val, out->pceid, 2);
            have_pceid = 1;
        } else if (ok && strcmp(oid, SGX_OID ".4") == 0) {
            ok = !have_fmspc && octets(val, out->fmspc, 6);
            have_fmspc = 1;
        }
        sk_ASN1_TYPE_pop_free(kv, ASN1_TYPE_free);
    }
    sk_ASN1_TYPE_pop_free(top, ASN1_TYPE_free);
    ERR_clear_error();
    ATLS_ENSURE(ok && have_fmspc && have_pceid && have_tcb, ATLS_ERR_EVIDENCE_CHAIN,
                "TDX: PCK certificate SGX extension is malformed or lacks FMSPC/PCE-ID/TCB");
    return ATLS_OK;
}

/* The SGX extension of a PCK certificate is parsed once per certificate: an object cache keyed
 * by SHA-256("tdx pck sgx extension", certificate DER), or by the digest of the PEM chain whose
 * first certificate it is; only successful parses are stored. */
static void *info_dup(const void *p)
{
    return atls_memdup(p, sizeof(atls_tdx_pck_info));
}

static const atls_vcache_obj_ops info_ops = {info_dup, free};
ATLS_VCACHE_DEFINE(info_cache, 8, &info_ops);

atls_error atls_tdx_pck_info_get(X509 *pck, atls_tdx_pck_info *out)
{
    return atls_tdx_pck_info_get_id(pck, NULL, out);
}

atls_error atls_tdx_pck_info_get_id(X509 *pck, const atls_tdx_chain_id *chain,
                                    atls_tdx_pck_info *out)
{
    uint8_t id[ATLS_VCACHE_KEY_LEN];
    atls_vcache_hash h;
    void *hit = NULL;
    if (chain != NULL && chain->num_certs > 0) {
        /* |pck| is the first certificate of the PEM chain with this digest */
        atls_vcache_hash_init(&h, "tdx pck sgx extension (pem)");
        atls_vcache_hash_bytes(&h, chain->digest, sizeof(chain->digest));
    } else {
        atls_vcache_hash_init(&h, "tdx pck sgx extension");
        atls_vcache_hash_cert(&h, pck);
    }
    int have_id = atls_vcache_hash_final(&h, id);
    if (have_id && atls_vcache_lookup(&info_cache, id, 0, &hit)) {
        memcpy(out, hit, sizeof(*out));
        free(hit);
        return ATLS_OK;
    }
    ATLS_GUARD(pck_info_parse(pck, out));
    if (have_id) {
        atls_vcache_store(&info_cache, id, NULL, out);
    }
    return ATLS_OK;
}
