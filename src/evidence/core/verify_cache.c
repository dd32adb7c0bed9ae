/* verify_cache.c: bounded, thread-safe caches of pure-verification successes (verify_cache.h). */
#include "evidence/core/verify_cache.h"

#include "evidence/core/claims.h"

#include <openssl/err.h>
#include <stdint.h>
#include <string.h>

/* The SHA-256 implementation is fetched once: OpenSSL 3.0 otherwise repeats a provider fetch
 * for every EVP_sha256() initialisation. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    ERR_clear_error();
}

static const EVP_MD *sha256(void)
{
    (void)pthread_once(&sha256_once, sha256_fetch);
    return sha256_md != NULL ? sha256_md : EVP_sha256();
}

int atls_vcache_sha256(const void *data, size_t len, uint8_t out[32])
{
    return EVP_Digest(data, len, out, NULL, sha256(), NULL) == 1;
}

void atls_vcache_hash_init(atls_vcache_hash *h, const char *label)
{
    h->md = EVP_MD_CTX_new();
    h->ok = h->md != NULL && EVP_DigestInit_ex(h->md, sha256(), NULL) == 1;
    atls_vcache_hash_bytes(h, label, strlen(label));
}

void atls_vcache_hash_u64(atls_vcache_hash *h, uint64_t v)
{
    uint8_t b[8];
    for (size_t i = 0; i < 8; i++) {
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    }
    h->ok = h->ok && EVP_DigestUpdate(h->md, b, sizeof(b)) == 1;
}

void atls_vcache_hash_bytes(atls_vcache_hash *h, const void *data, size_t len)
{
    atls_vcache_hash_u64(h, (uint64_t)len);
    h->ok = h->ok && (len == 0 || EVP_DigestUpdate(h->md, data, len) == 1);
}

void atls_vcache_hash_cert(atls_vcache_hash *h, X509 *x)
{
    if (x == NULL) {
        atls_vcache_hash_u64(h, UINT64_MAX); /* no DER has this length */
        return;
    }
    /* i2d of a parsed, unmodified certificate returns its cached original encoding */
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n <= 0) {
        h->ok = 0;
        ERR_clear_error();
        return;
    }
    atls_vcache_hash_bytes(h, der, (size_t)n);
    OPENSSL_free(der);
}

void atls_vcache_hash_certs(atls_vcache_hash *h, STACK_OF(X509) *sk)
{
    int n = sk != NULL ? sk_X509_num(sk) : 0;
    atls_vcache_hash_u64(h, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        atls_vcache_hash_cert(h, sk_X509_value(sk, i));
    }
}

void atls_vcache_hash_crls(atls_vcache_hash *h, STACK_OF(X509_CRL) *sk)
{
    int n = sk != NULL ? sk_X509_CRL_num(sk) : 0;
    atls_vcache_hash_u64(h, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509_CRL(sk_X509_CRL_value(sk, i), &der);
        if (len <= 0) {
            h->ok = 0;
            ERR_clear_error();
            return;
        }
        atls_vcache_hash_bytes(h, der, (size_t)len);
        OPENSSL_free(der);
    }
}

void atls_vcache_hash_pubkey(atls_vcache_hash *h, EVP_PKEY *key)
{
    /* the key id is SHA-256 of the DER SubjectPublicKeyInfo: algorithm, curve and point */
    char id[65];
    if (key == NULL || atls_key_id(key, id) != ATLS_OK) {
        h->ok = 0;
        atls_error_clear();
        return;
    }
    atls_vcache_hash_bytes(h, id, 64);
}

void atls_vcache_hash_cert_pubkey(atls_vcache_hash *h, X509 *x)
{
    X509_PUBKEY *pub = x != NULL ? X509_get_X509_PUBKEY(x) : NULL;
    ASN1_OBJECT *alg = NULL;
    const unsigned char *bits = NULL;
    int bits_len = 0;
    X509_ALGOR *algor = NULL;
    unsigned char *adir = NULL;
    int alen = 0;
    if (pub == NULL || X509_PUBKEY_get0_param(&alg, &bits, &bits_len, &algor, pub) != 1 ||
        bits_len < 0 || algor == NULL || (alen = i2d_X509_ALGOR(algor, &adir)) <= 0) {
        h->ok = 0;
        ERR_clear_error();
        return;
    }
    atls_vcache_hash_bytes(h, adir, (size_t)alen); /* algorithm OID and its parameters */
    atls_vcache_hash_bytes(h, bits, (size_t)bits_len);
    OPENSSL_free(adir);
}

int atls_vcache_hash_final(atls_vcache_hash *h, uint8_t key[ATLS_VCACHE_KEY_LEN])
{
    int ok = h->ok && EVP_DigestFinal_ex(h->md, key, NULL) == 1;
    EVP_MD_CTX_free(h->md);
    h->md = NULL;
    h->ok = 0;
    if (!ok) {
        ERR_clear_error();
    }
    return ok;
}

/* ---- windows ----------------------------------------------------------------------------- */

static void *pkey_ref(const void *k)
{
    EVP_PKEY *key = (EVP_PKEY *)k; /* the count is the only thing that changes */
    return EVP_PKEY_up_ref(key) == 1 ? key : NULL;
}

static void pkey_unref(void *k)
{
    EVP_PKEY_free(k);
}

const atls_vcache_obj_ops atls_vcache_pkey_ops = {pkey_ref, pkey_unref};

atls_vcache_window atls_vcache_window_all(void)
{
    atls_vcache_window w = {(time_t)INT64_MIN, (time_t)INT64_MAX};
    return w;
}

static int asn1_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        ERR_clear_error();
        return 0;
    }
    *out = timegm(&tm);
    return 1;
}

int atls_vcache_window_narrow(atls_vcache_window *w, const ASN1_TIME *not_before,
                              const ASN1_TIME *not_after)
{
    time_t v;
    if (not_before != NULL) {
        if (!asn1_time(not_before, &v)) {
            return 0;
        }
        if (v > w->not_before) {
            w->not_before = v;
        }
    }
    if (not_after != NULL) {
        if (!asn1_time(not_after, &v)) {
            return 0;
        }
        if (v < w->not_after) {
            w->not_after = v;
        }
    }
    return 1;
}

int atls_vcache_window_cert(atls_vcache_window *w, X509 *x)
{
    return x != NULL && atls_vcache_window_narrow(w, X509_get0_notBefore(x), X509_get0_notAfter(x));
}

int atls_vcache_window_crl(atls_vcache_window *w, X509_CRL *crl)
{
    const ASN1_TIME *next = crl != NULL ? X509_CRL_get0_nextUpdate(crl) : NULL;
    return next != NULL && atls_vcache_window_narrow(w, X509_CRL_get0_lastUpdate(crl), next);
}

time_t atls_vcache_at(time_t at)
{
    return at != 0 ? at : time(NULL);
}

/* ---- the cache ----------------------------------------------------------------------------- */

int atls_vcache_lookup(atls_vcache *c, const uint8_t key[ATLS_VCACHE_KEY_LEN], time_t at,
                       void **obj)
{
    int hit = 0;
    if (obj != NULL) {
        *obj = NULL;
    }
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->num_slots; i++) {
        const atls_vcache_slot *s = &c->slots[i];
        if (!s->used || memcmp(s->key, key, ATLS_VCACHE_KEY_LEN) != 0) {
            continue;
        }
        hit = s->window.not_before < at && at < s->window.not_after;
        if (hit && obj != NULL) {
            *obj = s->obj != NULL && c->obj_ops != NULL ? c->obj_ops->dup(s->obj) : NULL;
            hit = *obj != NULL;
        }
        break; /* a key is stored at most once */
    }
    if (hit) {
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void atls_vcache_store(atls_vcache *c, const uint8_t key[ATLS_VCACHE_KEY_LEN],
                       const atls_vcache_window *w, const void *obj)
{
    atls_vcache_window win = w != NULL ? *w : atls_vcache_window_all();
    if (win.not_before >= win.not_after) {
        return;
    }
    void *copy = NULL;
    if (obj != NULL) {
        if (c->obj_ops == NULL || (copy = c->obj_ops->dup(obj)) == NULL) {
            return; /* out of memory: simply not cached */
        }
    }
    void *old = NULL;
    pthread_mutex_lock(&c->lock);
    atls_vcache_slot *slot = NULL;
    for (size_t i = 0; i < c->num_slots && slot == NULL; i++) {
        if (c->slots[i].used && memcmp(c->slots[i].key, key, ATLS_VCACHE_KEY_LEN) == 0) {
            slot = &c->slots[i];
        }
    }
    if (slot == NULL) {
        slot = &c->slots[c->next];
        c->next = (c->next + 1) % c->num_slots;
    }
    old = slot->obj;
    memcpy(slot->key, key, ATLS_VCACHE_KEY_LEN);
    slot->window = win;
    slot->obj = copy;
    slot->used = 1;
    c->stores++;
    pthread_mutex_unlock(&c->lock);
    if (old != NULL) {
        c->obj_ops->free(old);
    }
}

void atls_vcache_clear(atls_vcache *c)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->num_slots; i++) {
        if (c->slots[i].obj != NULL && c->obj_ops != NULL) {
            c->obj_ops->free(c->slots[i].obj);
        }
        memset(&c->slots[i], 0, sizeof(c->slots[i]));
    }
    c->next = 0;
    c->hits = c->misses = c->stores = 0;
    pthread_mutex_unlock(&c->lock);
}
