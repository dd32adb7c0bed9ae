/*
 * verify_cache.h: one shared mechanism for remembering the outcome of pure verifications
 * (signature checks, certificate-chain checks, parses of certificate extensions) so that an
 * appraisal only repeats the work that depends on the Evidence's fresh bytes.
 *
 * A cache is a fixed array of slots (bounded, replaced round robin) behind a pthread mutex.
 * Each slot holds a 32-byte key, the validity window [not_before, not_after] of what was
 * verified, and optionally an owned object (a parse result). The key is a SHA-256 over a label
 * (domain separation: one label per use) and every input of the verification, each input
 * length-prefixed (atls_vcache_hash_*). Only successes are ever stored: a caller stores after
 * its check passed and nothing else. A lookup hits only when the key matches and the
 * verification time lies strictly inside the stored window (not_before < at < not_after).
 * Safety argument and the list of caches: docs/EVIDENCE.md, "Caches".
 */
#ifndef ATLS_EVIDENCE_VERIFY_CACHE_H
#define ATLS_EVIDENCE_VERIFY_CACHE_H

#include <atls/error.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ATLS_VCACHE_KEY_LEN 32

/* The window a cached success is valid in; use it only when not_before < at < not_after. */
typedef struct atls_vcache_window {
    time_t not_before, not_after;
} atls_vcache_window;

/* How a cache holds objects (NULL ops: a cache of plain successes, no objects). */
typedef struct atls_vcache_obj_ops {
    void *(*dup)(const void *obj); /* a new owned copy or reference; NULL on failure */
    void (*free)(void *obj);
} atls_vcache_obj_ops;

typedef struct atls_vcache_slot {
    uint8_t key[ATLS_VCACHE_KEY_LEN];
    atls_vcache_window window;
    void *obj; /* owned (obj_ops), may be NULL */
    int used;
} atls_vcache_slot;

typedef struct atls_vcache {
    pthread_mutex_t lock;
    atls_vcache_slot *slots;
    size_t num_slots, next;
    const atls_vcache_obj_ops *obj_ops;
    uint64_t hits, misses, stores; /* statistics (for tests) */
} atls_vcache;

/* atls_vcache_pkey_ops: objects that are EVP_PKEYs, shared by reference count (keys built from
 * raw bytes through OpenSSL 3.0's provider key management, the same for every Evidence of a
 * platform). */
extern const atls_vcache_obj_ops atls_vcache_pkey_ops;

/* ATLS_VCACHE_DEFINE(name, n, ops) defines a static cache |name| of |n| slots holding objects
 * managed by |ops| (a pointer to const ops, or NULL for success-only caches). */
#define ATLS_VCACHE_DEFINE(name, n, ops)                                                          \
    static atls_vcache_slot name##_slots[n];                                                      \
    static atls_vcache name = {PTHREAD_MUTEX_INITIALIZER, name##_slots, (n), 0, (ops), 0, 0, 0}

/* ---- keys: SHA-256(label, input, input, ...) ------------------------------------------------ */

typedef struct atls_vcache_hash {
    EVP_MD_CTX *md;
    int ok;
} atls_vcache_hash;

/* atls_vcache_hash_init starts a key for the use |label| (a short constant string naming the
 * verification, e.g. "tdx qe report signature"). Keys of different labels never collide.
 * Release with atls_vcache_hash_final (also on paths that do not need the key). */
void atls_vcache_hash_init(atls_vcache_hash *h, const char *label);

/* atls_vcache_hash_bytes adds one input: its length (8 bytes) then its bytes. */
void atls_vcache_hash_bytes(atls_vcache_hash *h, const void *data, size_t len);

/* atls_vcache_hash_u64 adds a number (8 bytes, big-endian), e.g. a list's element count. */
void atls_vcache_hash_u64(atls_vcache_hash *h, uint64_t v);

/* atls_vcache_hash_cert adds a certificate's DER encoding; NULL adds an explicit "absent". */
void atls_vcache_hash_cert(atls_vcache_hash *h, X509 *x);

/* atls_vcache_hash_certs adds a list (count, then each DER); NULL is an empty list. */
void atls_vcache_hash_certs(atls_vcache_hash *h, STACK_OF(X509) *sk);

/* atls_vcache_hash_crls adds a CRL list (count, then each DER); NULL is an empty list. */
void atls_vcache_hash_crls(atls_vcache_hash *h, STACK_OF(X509_CRL) *sk);

/* atls_vcache_hash_pubkey adds a public key as its encoded point / DER SubjectPublicKeyInfo. */
void atls_vcache_hash_pubkey(atls_vcache_hash *h, EVP_PKEY *key);

/* atls_vcache_hash_cert_pubkey adds a certificate's SubjectPublicKeyInfo as it is encoded in
 * the certificate (algorithm OID, parameters, key bits) without decoding the key. */
void atls_vcache_hash_cert_pubkey(atls_vcache_hash *h, X509 *x);

/* atls_vcache_hash_final writes the key and frees the hash state. Returns 1, or 0 when any
 * step failed (then the caller must neither look up nor store: the check simply runs). */
int atls_vcache_hash_final(atls_vcache_hash *h, uint8_t key[ATLS_VCACHE_KEY_LEN]);

/* atls_vcache_sha256 is SHA-256 of |len| bytes through a digest fetched once; 1 on success. */
int atls_vcache_sha256(const void *data, size_t len, uint8_t out[32]);

/* ---- windows --------------------------------------------------------------------------------- */

/* atls_vcache_window_all: the unbounded window (any time hits). */
atls_vcache_window atls_vcache_window_all(void);

/* atls_vcache_window_narrow shrinks |w| to [not_before, not_after] (either may be NULL: no
 * bound on that side). Returns 0 when a given time cannot be read (then do not store). */
int atls_vcache_window_narrow(atls_vcache_window *w, const ASN1_TIME *not_before,
                              const ASN1_TIME *not_after);

/* atls_vcache_window_cert / _crl narrow |w| to a certificate's notBefore..notAfter, a CRL's
 * thisUpdate..nextUpdate (a CRL without nextUpdate: 0, not cacheable). */
int atls_vcache_window_cert(atls_vcache_window *w, X509 *x);
int atls_vcache_window_crl(atls_vcache_window *w, X509_CRL *crl);

/* atls_vcache_at: the verification time, |at| or now when 0. */
time_t atls_vcache_at(time_t at);

/* ---- the cache ------------------------------------------------------------------------------- */

/* atls_vcache_lookup: 1 when a success is stored under |key| and not_before < at < not_after.
 * With |obj| non-NULL, *obj receives a new copy/reference of the stored object (obj_ops->dup;
 * caller frees with obj_ops->free); a failed dup counts as a miss. */
int atls_vcache_lookup(atls_vcache *c, const uint8_t key[ATLS_VCACHE_KEY_LEN], time_t at,
                       void **obj);

/* atls_vcache_store remembers a success under |key| valid in |w| (NULL: unbounded). |obj| (may
 * be NULL) is copied with obj_ops->dup; the caller keeps its own. An existing entry for |key| is
 * replaced in place; otherwise the next slot in round-robin order is evicted. An empty window
 * (not_before >= not_after) stores nothing. */
void atls_vcache_store(atls_vcache *c, const uint8_t key[ATLS_VCACHE_KEY_LEN],
                       const atls_vcache_window *w, const void *obj);

/* atls_vcache_clear empties |c| (frees its objects); for tests and shutdown. */
void atls_vcache_clear(atls_vcache *c);

#endif /* ATLS_EVIDENCE_VERIFY_CACHE_H */
