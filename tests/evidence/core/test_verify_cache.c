/* test_verify_cache: the verification cache (src/evidence/core/verify_cache.h): a stored success
 * hits; anything else misses: another input, another label, a time on or outside the window's
 * edges, an evicted entry; failures are never stored by the calling pattern; objects are
 * copied in and out; concurrent use is safe. */
#include "check.h"

#include "evidence/core/verify_cache.h"

#include <openssl/x509.h>
#include <string.h>

ATLS_VCACHE_DEFINE(cache4, 4, NULL);

static int key_of(const char *label, const char *a, const char *b, uint8_t key[32])
{
    atls_vcache_hash h;
    atls_vcache_hash_init(&h, label);
    atls_vcache_hash_bytes(&h, a, strlen(a));
    atls_vcache_hash_bytes(&h, b, strlen(b));
    return atls_vcache_hash_final(&h, key);
}

/* checked: the calling pattern every user follows: look up, else check and store on success. */
static int check_calls;
static int checked(const char *input, int outcome, time_t at)
{
    uint8_t key[32];
    int have_key = key_of("test check", input, "", key);
    if (have_key && atls_vcache_lookup(&cache4, key, at, NULL)) {
        return 1;
    }
    check_calls++;
    if (!outcome) {
        return 0;
    }
    if (have_key) {
        atls_vcache_window w = {100, 200};
        atls_vcache_store(&cache4, key, &w, NULL);
    }
    return 1;
}

static void test_hit_miss_failure(void)
{
    atls_vcache_clear(&cache4);
    check_calls = 0;
    CHECK(checked("a", 1, 150) == 1);
    CHECK(check_calls == 1);
    CHECK(checked("a", 1, 150) == 1);
    CHECK(check_calls == 1); /* served from the cache */
    CHECK(cache4.hits == 1);
    /* a failure is not stored: the check runs again, and still fails */
    CHECK(checked("b", 0, 150) == 0);
    CHECK(checked("b", 0, 150) == 0);
    CHECK(check_calls == 3);
    CHECK(cache4.stores == 1);
    /* the cached success of "a" never answers for "b" */
    uint8_t kb[32];
    CHECK(key_of("test check", "b", "", kb));
    CHECK(!atls_vcache_lookup(&cache4, kb, 150, NULL));
}

static void test_window_edges(void)
{
    uint8_t k[32];
    atls_vcache_clear(&cache4);
    CHECK(key_of("w", "x", "y", k));
    atls_vcache_window w = {100, 200};
    atls_vcache_store(&cache4, k, &w, NULL);
    CHECK(!atls_vcache_lookup(&cache4, k, 99, NULL));
    CHECK(!atls_vcache_lookup(&cache4, k, 100, NULL)); /* not_before itself: miss */
    CHECK(atls_vcache_lookup(&cache4, k, 101, NULL));
    CHECK(atls_vcache_lookup(&cache4, k, 199, NULL));
    CHECK(!atls_vcache_lookup(&cache4, k, 200, NULL)); /* not_after itself: miss */
    CHECK(!atls_vcache_lookup(&cache4, k, 201, NULL));
    /* an empty window stores nothing */
    uint8_t k2[32];
    CHECK(key_of("w", "x", "z", k2));
    atls_vcache_window empty = {200, 200};
    atls_vcache_store(&cache4, k2, &empty, NULL);
    CHECK(!atls_vcache_lookup(&cache4, k2, 200, NULL));
    CHECK(!atls_vcache_lookup(&cache4, k2, 0, NULL));
    /* NULL window: unbounded */
    atls_vcache_store(&cache4, k2, NULL, NULL);
    CHECK(atls_vcache_lookup(&cache4, k2, 0, NULL));
    CHECK(atls_vcache_lookup(&cache4, k2, (time_t)INT64_MAX - 1, NULL));
}

static void test_labels_and_inputs(void)
{
    uint8_t a[32], b[32], c[32], d[32];
    atls_vcache_clear(&cache4);
    CHECK(key_of("label one", "in", "put", a));
    CHECK(key_of("label two", "in", "put", b));
    CHECK(key_of("label one", "inp", "ut", c)); /* same concatenation, other split */
    CHECK(key_of("label one", "in", "put", d));
    CHECK(memcmp(a, b, 32) != 0);
    CHECK(memcmp(a, c, 32) != 0);
    CHECK(memcmp(a, d, 32) == 0);
    atls_vcache_store(&cache4, a, NULL, NULL);
    CHECK(atls_vcache_lookup(&cache4, d, 1, NULL));
    CHECK(!atls_vcache_lookup(&cache4, b, 1, NULL)); /* another label never hits */
    CHECK(!atls_vcache_lookup(&cache4, c, 1, NULL));
}

static void test_eviction(void)
{
    uint8_t k[6][32];
    char name[8];
    atls_vcache_clear(&cache4);
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        CHECK(key_of("evict", name, "", k[i]));
    }
    for (int i = 0; i < 4; i++) {
        atls_vcache_store(&cache4, k[i], NULL, NULL);
    }
    /* storing an existing key again does not take another slot */
    atls_vcache_store(&cache4, k[1], NULL, NULL);
    for (int i = 0; i < 4; i++) {
        CHECK(atls_vcache_lookup(&cache4, k[i], 1, NULL));
    }
    atls_vcache_store(&cache4, k[4], NULL, NULL); /* evicts the oldest slot (k0) */
    CHECK(!atls_vcache_lookup(&cache4, k[0], 1, NULL));
    CHECK(atls_vcache_lookup(&cache4, k[4], 1, NULL));
    atls_vcache_store(&cache4, k[5], NULL, NULL); /* then k1 */
    CHECK(!atls_vcache_lookup(&cache4, k[1], 1, NULL));
    CHECK(atls_vcache_lookup(&cache4, k[2], 1, NULL));
    CHECK(atls_vcache_lookup(&cache4, k[3], 1, NULL));
    CHECK(atls_vcache_lookup(&cache4, k[5], 1, NULL));
}

/* ---- object caches ---- */

static int live_objects;
static void *int_dup(const void *p)
{
    int *q = malloc(sizeof(int));
    if (q != NULL) {
        *q = *(const int *)p;
        live_objects++;
    }
    return q;
}
static void int_free(void *p)
{
    if (p != NULL) {
        live_objects--;
    }
    free(p);
}
static const atls_vcache_obj_ops int_ops = {int_dup, int_free};
ATLS_VCACHE_DEFINE(objcache, 2, &int_ops);

static void test_objects(void)
{
    uint8_t k1[32], k2[32], k3[32];
    CHECK(key_of("obj", "1", "", k1));
    CHECK(key_of("obj", "2", "", k2));
    CHECK(key_of("obj", "3", "", k3));
    int v = 41;
    atls_vcache_store(&objcache, k1, NULL, &v);
    v = 42;
    atls_vcache_store(&objcache, k1, NULL, &v); /* replaces in place, frees the old copy */
    CHECK(live_objects == 1);
    void *got = NULL;
    CHECK(atls_vcache_lookup(&objcache, k1, 5, &got));
    CHECK(got != NULL && *(int *)got == 42);
    int_free(got);
    CHECK(!atls_vcache_lookup(&objcache, k2, 5, &got));
    CHECK(got == NULL);
    atls_vcache_store(&objcache, k2, NULL, &v);
    atls_vcache_store(&objcache, k3, NULL, &v); /* evicts k1 */
    CHECK(live_objects == 2);
    CHECK(!atls_vcache_lookup(&objcache, k1, 5, &got));
    atls_vcache_clear(&objcache);
    CHECK(live_objects == 0);
}

/* ---- certificates: DER inputs and windows ---- */

static X509 *make_cert(long serial, long nb_offset, long na_offset)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    if (key == NULL || x == NULL) {
        EVP_PKEY_free(key);
        X509_free(x);
        return NULL;
    }
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), nb_offset);
    X509_gmtime_adj(X509_getm_notAfter(x), na_offset);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    X509_sign(x, key, EVP_sha256());
    EVP_PKEY_free(key);
    return x;
}

static void test_certs(void)
{
    X509 *a = make_cert(1, -100, 1000), *b = make_cert(2, -50, 500);
    CHECK(a != NULL && b != NULL);
    if (a == NULL || b == NULL) {
        X509_free(a);
        X509_free(b);
        return;
    }
    uint8_t k1[32], k2[32], k3[32];
    atls_vcache_hash h;
    atls_vcache_hash_init(&h, "certs");
    atls_vcache_hash_cert(&h, a);
    atls_vcache_hash_pubkey(&h, X509_get0_pubkey(a));
    CHECK(atls_vcache_hash_final(&h, k1));
    atls_vcache_hash_init(&h, "certs");
    atls_vcache_hash_cert(&h, b);
    atls_vcache_hash_pubkey(&h, X509_get0_pubkey(b));
    CHECK(atls_vcache_hash_final(&h, k2));
    atls_vcache_hash_init(&h, "certs");
    atls_vcache_hash_cert(&h, NULL);
    atls_vcache_hash_pubkey(&h, X509_get0_pubkey(a));
    CHECK(atls_vcache_hash_final(&h, k3));
    CHECK(memcmp(k1, k2, 32) != 0);
    CHECK(memcmp(k1, k3, 32) != 0);
    /* a failed input makes the key unusable */
    atls_vcache_hash_init(&h, "certs");
    atls_vcache_hash_pubkey(&h, NULL);
    CHECK(!atls_vcache_hash_final(&h, k3));

    time_t now = time(NULL);
    atls_vcache_window w = atls_vcache_window_all();
    CHECK(atls_vcache_window_cert(&w, a));
    CHECK(atls_vcache_window_cert(&w, b));
    CHECK(w.not_before >= now - 51 && w.not_before <= now - 49);
    CHECK(w.not_after >= now + 499 && w.not_after <= now + 501);
    CHECK(!atls_vcache_window_cert(&w, NULL));
    CHECK(atls_vcache_at(0) >= now && atls_vcache_at(7) == 7);
    X509_free(a);
    X509_free(b);
}

/* ---- threads ---- */

static void *hammer(void *arg)
{
    uint8_t k[32];
    char name[16];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "%d", (i + (int)(intptr_t)arg) % 7);
        if (key_of("threads", name, "", k)) {
            if (!atls_vcache_lookup(&cache4, k, 1, NULL)) {
                atls_vcache_store(&cache4, k, NULL, NULL);
            }
        }
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[4];
    atls_vcache_clear(&cache4);
    for (intptr_t i = 0; i < 4; i++) {
        CHECK(pthread_create(&t[i], NULL, hammer, (void *)i) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    CHECK(cache4.hits + cache4.misses == 8000);
}

int main(void)
{
    test_hit_miss_failure();
    test_window_edges();
    test_labels_and_inputs();
    test_eviction();
    test_objects();
    test_certs();
    test_threads();
    return check_summary();
}
