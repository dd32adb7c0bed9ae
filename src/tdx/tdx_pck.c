/* tdx_pck.c: the PCK side of TDX verification: PEM chain, chain to the Intel SGX Root CA,
 * raw ECDSA P-256 signatures, and the SGX extension of the PCK certificate (tdx_internal.h). */
#include "tdx/tdx_internal.h"

#include "base/result.h"

#include <openssl/asn1t.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define MAX_CHAIN_CERTS 8

static const char *const status_names[] = {
    "NotEvaluated", "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded", "Revoked",
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
 * function of the bytes, so parsed chains are kept, keyed by the SHA-256 of the PEM text; only
 * successful parses are cached, nothing about trust or time is. Bounded: PEM_CACHE_SLOTS chains,
 * replaced round robin; the certificates are shared by reference count. */
#define PEM_CACHE_SLOTS 8

typedef struct pem_cache_slot {
    uint8_t digest[32];
    STACK_OF(X509) *chain; /* NULL: empty slot */
} pem_cache_slot;

static pem_cache_slot pem_cache[PEM_CACHE_SLOTS];
static size_t pem_cache_next;
static pthread_mutex_t pem_cache_lock = PTHREAD_MUTEX_INITIALIZER;

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

static STACK_OF(X509) *pem_cache_get(const uint8_t digest[32])
{
    STACK_OF(X509) *hit = NULL;
    pthread_mutex_lock(&pem_cache_lock);
    for (size_t i = 0; i < PEM_CACHE_SLOTS && hit == NULL; i++) {
        if (pem_cache[i].chain != NULL && memcmp(pem_cache[i].digest, digest, 32) == 0) {
            hit = chain_ref(pem_cache[i].chain);
        }
    }
    pthread_mutex_unlock(&pem_cache_lock);
    return hit;
}

static void pem_cache_put(const uint8_t digest[32], STACK_OF(X509) *sk)
{
    STACK_OF(X509) *copy = chain_ref(sk);
    if (copy == NULL) {
        return; /* out of memory: simply not cached */
    }
    pthread_mutex_lock(&pem_cache_lock);
    pem_cache_slot *slot = &pem_cache[pem_cache_next];
    pem_cache_next = (pem_cache_next + 1) % PEM_CACHE_SLOTS;
    sk_X509_pop_free(slot->chain, X509_free);
    memcpy(slot->digest, digest, 32);
    slot->chain = copy;
    pthread_mutex_unlock(&pem_cache_lock);
}

atls_error atls_tdx_load_pem_chain(const uint8_t *pem, size_t len, atls_error code,
                                   STACK_OF(X509) **out)
{
    *out = NULL;
    if (len > 0 && pem[len - 1] == 0) {
        len--; /* the chain in a quote often ends with a NUL (evidence-formats.md 3.3) */
    }
    ATLS_ENSURE(len > 0 && len < INT32_MAX, code, "TDX: empty certificate chain");
    uint8_t digest[32];
    int have_digest = EVP_Digest(pem, len, digest, NULL, EVP_sha256(), NULL) == 1;
    if (have_digest && (*out = pem_cache_get(digest)) != NULL) {
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
    if (have_digest) {
        pem_cache_put(digest, sk);
    }
    *out = sk;
    return ATLS_OK;
}

/* ---- verified-chain cache ------------------------------------------------------------------
 * X509_verify_cert's outcome depends on the certificates offered (leaf, untrusted, anchors), the
 * CRLs and the verification time only. A success is remembered under the SHA-256 of all of
 * them (certificate and CRL DER digests, in order) together with the interval in which every
 * certificate of the built chain and every CRL is valid; a later verification with the same
 * inputs at a time strictly inside that interval has the same outcome and skips the signature
 * checks. Failures are never cached. Bounded: CHAIN_CACHE_SLOTS entries, round robin. */
#define CHAIN_CACHE_SLOTS 16

typedef struct chain_cache_slot {
    uint8_t key[32];
    time_t lo, hi; /* valid when lo < at < hi; lo == hi == 0: empty */
} chain_cache_slot;

static chain_cache_slot chain_cache[CHAIN_CACHE_SLOTS];
static size_t chain_cache_next;
static pthread_mutex_t chain_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int digest_cert(EVP_MD_CTX *md, X509 *x)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    return X509_digest(x, EVP_sha256(), d, &n) == 1 && EVP_DigestUpdate(md, d, n) == 1;
}

/* chain_key: the cache key of one verification's inputs; 0 on failure (then nothing is cached). */
static int chain_key(X509 *leaf, STACK_OF(X509) *untrusted, const atls_verify_input *in,
                     uint8_t key[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && digest_cert(md, leaf);
    /* the counts separate the lists so that no input can be read as another */
    int counts[3] = {sk_X509_num(untrusted), sk_X509_num(in->trust_anchors),
                     in->crls != NULL ? sk_X509_CRL_num(in->crls) : 0};
    ok = ok && EVP_DigestUpdate(md, counts, sizeof(counts)) == 1;
    for (int i = 0; ok && i < counts[0]; i++) {
        ok = digest_cert(md, sk_X509_value(untrusted, i));
    }
    for (int i = 0; ok && i < counts[1]; i++) {
        ok = digest_cert(md, sk_X509_value(in->trust_anchors, i));
    }
    for (int i = 0; ok && i < counts[2]; i++) {
        uint8_t d[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        ok = X509_CRL_digest(sk_X509_CRL_value(in->crls, i), EVP_sha256(), d, &n) == 1 &&
             EVP_DigestUpdate(md, d, n) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(md, key, NULL) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

/* narrow shrinks [*lo, *hi] to end before |t| (is_end) or start after it; 0 if |t| is unusable. */
static int narrow(const ASN1_TIME *t, int is_end, time_t *lo, time_t *hi)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    time_t v = timegm(&tm);
    if (is_end && v < *hi) {
        *hi = v;
    } else if (!is_end && v > *lo) {
        *lo = v;
    }
    return 1;
}

static int chain_cache_hit(const uint8_t key[32], time_t at)
{
    int hit = 0;
    pthread_mutex_lock(&chain_cache_lock);
    for (size_t i = 0; i < CHAIN_CACHE_SLOTS && !hit; i++) {
        const chain_cache_slot *e = &chain_cache[i];
        hit = e->lo < e->hi && e->lo < at && at < e->hi && memcmp(e->key, key, 32) == 0;
    }
    pthread_mutex_unlock(&chain_cache_lock);
    return hit;
}

/* chain_cache_put remembers a verified chain: the interval is that of every certificate in the
 * chain OpenSSL built and of every CRL offered. */
static void chain_cache_put(const uint8_t key[32], X509_STORE_CTX *ctx,
                            const atls_verify_input *in)
{
    time_t lo = 0, hi = (time_t)INT64_MAX;
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    int ok = chain != NULL && sk_X509_num(chain) > 0;
    for (int i = 0; ok && i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        ok = narrow(X509_get0_notBefore(x), 0, &lo, &hi) &&
             narrow(X509_get0_notAfter(x), 1, &lo, &hi);
    }
    for (int i = 0; ok && in->crls != NULL && i < sk_X509_CRL_num(in->crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(in->crls, i);
        ok = narrow(X509_CRL_get0_lastUpdate(c), 0, &lo, &hi) &&
             narrow(X509_CRL_get0_nextUpdate(c), 1, &lo, &hi);
    }
    if (!ok || lo >= hi) {
        return;
    }
    pthread_mutex_lock(&chain_cache_lock);
    chain_cache_slot *slot = &chain_cache[chain_cache_next];
    chain_cache_next = (chain_cache_next + 1) % CHAIN_CACHE_SLOTS;
    memcpy(slot->key, key, 32);
    slot->lo = lo;
    slot->hi = hi;
    pthread_mutex_unlock(&chain_cache_lock);
}

atls_error atls_tdx_verify_chain(X509 *leaf, STACK_OF(X509) *untrusted,
                                 const atls_verify_input *in, atls_error code, const char *what)
{
    atls_error rc = ATLS_OK;
    uint8_t key[32];
    time_t at = in->at != 0 ? in->at : time(NULL);
    int have_key = in->trust_anchors != NULL && sk_X509_num(in->trust_anchors) > 0 &&
                   chain_key(leaf, untrusted, in, key);
    if (have_key && chain_cache_hit(key, at)) {
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
    int ncrl = in->crls != NULL ? sk_X509_CRL_num(in->crls) : 0;
    for (int i = 0; i < ncrl; i++) {
        if (X509_STORE_add_crl(store, sk_X509_CRL_value(in->crls, i)) != 1) {
            ERR_clear_error();
        }
    }
    if (ncrl > 0) {
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        ATLS_FAIL_GOTO(rc, out, ATLS_ERR_INTERNAL_ALLOC, "TDX: X509_STORE_CTX_init failed");
    }
    X509_STORE_CTX_set_time(ctx, 0, at);
    if (X509_verify_cert(ctx) != 1) {
        int err = X509_STORE_CTX_get_error(ctx);
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, out, code, "TDX: %s does not verify to the root: %s (depth %d)", what,
                       X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
    }
    if (have_key) {
        chain_cache_put(key, ctx, in);
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

atls_error atls_tdx_pck_info_get(X509 *pck, atls_tdx_pck_info *out)
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
        if (ok && strcmp(oid, SGX_OID ".2") == 0) {
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
