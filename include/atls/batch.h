/*
 * atls/batch.h: batched attestation. One piece of Evidence answers every request that arrived
 * while the attester was busy, and each connection still gets Evidence bound to its own
 * connection, request and direction (docs/PROTOCOL.md section 2.6).
 *
 * A quote source such as a TDX Quoting Enclave or a TPM makes one quote at a time (about 40 ms
 * each: some 25 a second). A batcher sits in front of such an attester and is shared by every
 * session of the process:
 *
 *   - a session asks it for Evidence over its 64-byte binding challenge (atls/binding.h) like
 *     it asks any attester (atls_batcher_ops() is an atls_attester_ops table);
 *   - while the attester is producing, further challenges queue (first come, first served);
 *     when it is free, ONE Evidence is produced for all of them (at most max_leaves): its
 *     challenge is the batch challenge over the root of a Merkle tree whose leaves are the
 *     queued challenges (atls/challenge.h, domain ATLS_CHALLENGE_BATCH):
 *
 *       leaf hash  = SHA-512(0x00 || challenge)        RFC 9162 section 2.1.1 (RFC 6962 2.1)
 *       node hash  = SHA-512(0x01 || left || right)    with SHA-512: 64 bytes, what every
 *       root       = the Merkle Tree Hash of the leaves   report field holds
 *       Evidence challenge = SHA-512("atls/1 batch evidence" 0x00 || uint64 tree size || root)
 *
 *   - each caller gets that Evidence wrapped with the inclusion proof of its own challenge
 *     (media type ATLS_BATCH_MEDIA_TYPE, CDDL in docs/EVIDENCE.md):
 *
 *       [ media type of the Evidence, Evidence, [ tree size, leaf index, [ sibling hashes ] ] ]
 *
 *     (the inclusion proof has the shape of RFC 9942's, with SHA-512 hashes: RFC 9162 section
 *     2.1.3; a tree of one has an empty path);
 *
 * No timer: a request that finds the attester idle is produced at once, alone (a tree of one,
 * an empty proof); only requests that would have waited anyway share an Evidence. Every leaf
 * is a challenge the session computed from its own end of its own connection: nothing a peer
 * sends becomes a leaf.
 *
 * The verifier side needs nothing from this header: atls_appraise_cmw (atls/appraisal.h)
 * recognises the media type, computes the root from the caller's own challenge and the proof,
 * and appraises the wrapped Evidence against the batch challenge.
 *
 * Threading: a batcher owns one thread, the only one that calls the wrapped attester. Every
 * function here is thread-safe; a session using the batcher must not also be given an
 * attester_lock (atls_session_new refuses it: the lock would admit one session at a time and
 * every batch would hold one challenge). The batcher replaces that lock: it is the fair,
 * bounded queue in front of the attester.
 */
#ifndef ATLS_BATCH_H
#define ATLS_BATCH_H

#include <atls/error.h>
#include <atls/evidence.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The CMW record type of batched Evidence (docs/EVIDENCE.md "batch"). */
#define ATLS_BATCH_MEDIA_TYPE "application/vnd.atls.batch+cbor"

/* Most leaves in one tree, produced or accepted: an inclusion proof has at most
 * ATLS_BATCH_MAX_PATH sibling hashes of 64 bytes. */
#define ATLS_BATCH_MAX_LEAVES 4096
#define ATLS_BATCH_MAX_PATH 12
/* Defaults of atls_batcher_options (a field left 0 takes its default). */
#define ATLS_BATCH_DEFAULT_MAX_LEAVES 256   /* one 40 ms quote: up to 6 400 challenges/s */
#define ATLS_BATCH_DEFAULT_MAX_WAITING 4096 /* requests queued behind the producing batch */

typedef struct atls_batcher atls_batcher;

typedef struct atls_batcher_options {
    size_t max_leaves;  /* challenges per Evidence (1..ATLS_BATCH_MAX_LEAVES) */
    size_t max_waiting; /* requests waiting at most; one more fails at once with
                           ATLS_ERR_EVIDENCE_ATTESTER (1..65536) */
} atls_batcher_options;

/* What a batcher has done so far (atls_batcher_get_stats). */
typedef struct atls_batcher_stats {
    uint64_t evidence;   /* Evidence the wrapped attester produced (one per batch) */
    uint64_t challenges; /* requests answered (each with Evidence or the attester's error) */
    uint64_t failures;   /* batches whose Evidence the attester could not produce */
    size_t largest;      /* most challenges one Evidence answered */
    size_t waiting;      /* requests queued right now */
} atls_batcher_stats;

/* atls_batcher_new puts a batcher in front of the attester |ops|/|state| (borrowed: both must
 * outlive the batcher, and nothing else may call the attester meanwhile) and starts its thread.
 * |opts| may be NULL (defaults). ATLS_ERR_USAGE_CONFIG for a bound out of range. *out is the
 * caller's (atls_batcher_free). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_batcher_new(const atls_attester_ops *ops, void *state,
                                            const atls_batcher_options *opts,
                                            atls_batcher **out);

/* atls_batcher_free stops the thread and releases the batcher (not the attester). No call of
 * its produce may be in progress. NULL-safe. */
ATLS_API
void atls_batcher_free(atls_batcher *b);

/* atls_batcher_ops: the attester ops table of every batcher; its state is the atls_batcher.
 * produce(state, challenge, out, out_len) blocks until the batch holding |challenge| is
 * produced (at most about two productions of the wrapped attester), then returns the
 * ATLS_BATCH_MEDIA_TYPE value for that challenge (malloc'd, caller frees), or the wrapped
 * attester's error with its message. produce_cmw (what a session calls) returns the whole CMW
 * instead: the batch record, or, when the wrapped attester sends more than its Evidence (its own
 * produce_cmw: the tpm2 attester's event logs), the attester's CMW collection for the batch
 * with its Evidence record replaced by this request's batch record; the logs are then the
 * attester's one-off logs (every log from its beginning: no per-connection delta), shared by
 * the batch. create refuses (ATLS_ERR_USAGE: a batcher is made with atls_batcher_new); destroy
 * is atls_batcher_free. Static table. */
ATLS_API
const atls_attester_ops *atls_batcher_ops(void);

/* atls_batcher_done_fn: the answer to one atls_batcher_submit, called on the batcher's thread
 * (keep it short: it delays the next batch). On success |out| is the CMW produce_cmw would have
 * returned (malloc'd; the callee owns it) and |reason| NULL; on failure |out| is NULL and
 * |reason| names the error (borrowed for the call). */
typedef void (*atls_batcher_done_fn)(void *arg, atls_error rc, uint8_t *out, size_t len,
                                     const char *reason);

/* atls_batcher_submit is produce_cmw without waiting (an event loop's thread must not block on
 * the attester): |challenge| (64 bytes, copied) is queued like a waiting caller's, and |done|
 * is called with |arg| once its batch is produced (also when that fails, and for every request
 * still queued when atls_batcher_free runs: it waits for them). A CMW of at most |max| bytes.
 * Fails at once (|done| not called) when max_waiting requests already wait
 * (ATLS_ERR_EVIDENCE_ATTESTER) or the batcher is being freed (ATLS_ERR_USAGE_STATE).
 * Thread-safe. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_batcher_submit(atls_batcher *b, const uint8_t *challenge,
                                               size_t max, atls_batcher_done_fn done, void *arg);

/* atls_batcher_get_stats copies the counters. */
ATLS_API
void atls_batcher_get_stats(atls_batcher *b, atls_batcher_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_BATCH_H */
