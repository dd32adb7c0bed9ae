/*
 * batch.h: the parts of batched attestation (atls/batch.h) that both ends share: the Merkle
 * tree over a batch's challenges (merkle.c), the batch challenge, and the wrapper that carries
 * Evidence with one inclusion proof (batch_codec.c). Private to the library; tests use it.
 *
 * Tree (RFC 9162 section 2.1.1, the RFC 6962 tree, with SHA-512):
 *   leaf hash  SHA-512(0x00 || challenge)
 *   node hash  SHA-512(0x01 || left || right)
 *   MTH(D[n])  for n > 1: node hash of MTH(D[0:k]) and MTH(D[k:n]), k the largest power of two
 *              below n; MTH of one leaf is its leaf hash.
 * Built bottom-up, level by level: pairs are hashed and a last node without a partner moves up
 * unchanged, which gives the same tree as the recursive definition. An inclusion proof
 * (RFC 9162 section 2.1.3) lists the sibling of each level from the leaf up, skipping the
 * levels where the node had none; its length is a function of (index, size) alone, and the
 * verifier insists on exactly that length.
 *
 * Thread-safety: no state; everything here is a pure function of its arguments.
 */
#ifndef ATLS_EVIDENCE_BATCH_H
#define ATLS_EVIDENCE_BATCH_H

#include <atls/batch.h>
#include <atls/error.h>

#include "base/cursor.h"
#include "codec/cmw/cmw.h"
#include "evidence/core/plugin.h"

#include <stddef.h>
#include <stdint.h>

#define ATLS_MERKLE_HASH_LEN 64

typedef uint8_t atls_merkle_hash[ATLS_MERKLE_HASH_LEN];

/* atls_merkle_path_len: how many sibling hashes the inclusion proof of leaf |index| in a tree
 * of |size| leaves has (0 when index >= size). */
size_t atls_merkle_path_len(uint64_t index, uint64_t size);

/* atls_merkle_check_proof: ATLS_ERR_EVIDENCE_PROOF unless |size| is 1..ATLS_BATCH_MAX_LEAVES,
 * |index| < |size| and |len| is exactly atls_merkle_path_len(index, size) (a truncated or an
 * over-long proof is named as such). */
ATLS_MUST_CHECK atls_error atls_merkle_check_proof(uint64_t index, uint64_t size, size_t len);

/* atls_merkle_leaf_hash / atls_merkle_node_hash: the two domain-separated hashes. */
ATLS_MUST_CHECK atls_error atls_merkle_leaf_hash(const uint8_t leaf[ATLS_MERKLE_HASH_LEN],
                                                 atls_merkle_hash out);
ATLS_MUST_CHECK atls_error atls_merkle_node_hash(const atls_merkle_hash left,
                                                 const atls_merkle_hash right,
                                                 atls_merkle_hash out);

/* A built tree: every level from the leaf hashes (level 0) up to the root. */
typedef struct atls_merkle_tree {
    size_t size;                                 /* leaves */
    size_t levels;                               /* 1 for one leaf */
    size_t offset[ATLS_BATCH_MAX_PATH + 2];      /* where each level starts in |nodes| */
    size_t count[ATLS_BATCH_MAX_PATH + 2];       /* nodes on each level */
    atls_merkle_hash *nodes;                     /* owned */
} atls_merkle_tree;

/* atls_merkle_tree_build hashes |n| leaves (1..ATLS_BATCH_MAX_LEAVES, 64 bytes each) into
 * |out| (atls_merkle_tree_cleanup releases it). */
ATLS_MUST_CHECK atls_error atls_merkle_tree_build(const atls_merkle_hash *leaves, size_t n,
                                                  atls_merkle_tree *out);
void atls_merkle_tree_cleanup(atls_merkle_tree *t);

/* atls_merkle_tree_root: the Merkle Tree Hash (borrowed from |t|). */
const uint8_t *atls_merkle_tree_root(const atls_merkle_tree *t);

/* atls_merkle_tree_path writes the inclusion proof of leaf |index| into |path| (room for
 * ATLS_BATCH_MAX_PATH hashes) and its length into *len. */
ATLS_MUST_CHECK atls_error atls_merkle_tree_path(const atls_merkle_tree *t, size_t index,
                                                 atls_merkle_hash *path, size_t *len);

/* atls_merkle_root_from_path: the root that leaf |leaf| (the 64-byte value, not its hash) at
 * |index| of a tree of |size| leads to with the |len| hashes of |path|; first
 * atls_merkle_check_proof (nothing is hashed for a proof that does not fit its tree). */
ATLS_MUST_CHECK atls_error atls_merkle_root_from_path(const uint8_t leaf[ATLS_MERKLE_HASH_LEN],
                                                      uint64_t index, uint64_t size,
                                                      const atls_merkle_hash *path, size_t len,
                                                      atls_merkle_hash root);

/* atls_batch_challenge: the challenge the attester signs for a tree of |size| leaves with
 * |root| (atls/challenge.h, domain ATLS_CHALLENGE_BATCH). */
ATLS_MUST_CHECK atls_error atls_batch_challenge(const atls_merkle_hash root, uint64_t size,
                                                uint8_t out[ATLS_CHALLENGE_LEN]);

/* The wrapper (ATLS_BATCH_MEDIA_TYPE), decoded. Views borrow the input; the path is copied. */
typedef struct atls_batch_view {
    atls_cursor media_type;  /* printable ASCII, not the batch media type itself */
    atls_cursor evidence;    /* non-empty */
    uint64_t tree_size;      /* 1..ATLS_BATCH_MAX_LEAVES */
    uint64_t leaf_index;     /* < tree_size */
    size_t path_len;         /* atls_merkle_path_len(leaf_index, tree_size) */
    atls_merkle_hash path[ATLS_BATCH_MAX_PATH];
} atls_batch_view;

/* atls_batch_decode parses one whole wrapper (docs/EVIDENCE.md "batch"): ATLS_ERR_DECODE_TYPE,
 * _LENGTH, _VALUE, _TOO_LARGE, _TRAILING and the CBOR decoder's errors for bad shapes, and
 * ATLS_ERR_EVIDENCE_PROOF (atls_merkle_check_proof) for a proof that does not fit its tree. */
ATLS_MUST_CHECK atls_error atls_batch_decode(const uint8_t *data, size_t len,
                                             atls_batch_view *out);

/* atls_batch_encode writes the wrapper for Evidence |evidence| of |media_type| and the proof
 * (|size|, |index|, |path_len| hashes of |path|) into a malloc'd *out (caller frees). */
ATLS_MUST_CHECK atls_error atls_batch_encode(const char *media_type, const uint8_t *evidence,
                                             size_t evidence_len, uint64_t size, uint64_t index,
                                             const atls_merkle_hash *path, size_t path_len,
                                             uint8_t **out, size_t *out_len);

/* atls_batch_proof_challenge: the batch challenge that the wrapped Evidence of |v| must carry
 * when |challenge| (the verifier's own, recomputed from its end of the connection) is the leaf
 * the proof is for. */
ATLS_MUST_CHECK atls_error atls_batch_proof_challenge(const atls_batch_view *v,
                                                      const uint8_t challenge[ATLS_CHALLENGE_LEN],
                                                      uint8_t out[ATLS_CHALLENGE_LEN]);

/* atls_batch_cmw_is_evidence: record |l| of an attester's CMW is Evidence over the challenge
 * (marked Evidence, or unmarked) and not an event log (which no challenge covers): a batched
 * answer wraps it. */
int atls_batch_cmw_is_evidence(const atls_cmw_leaf *l);

/* atls_batch_cmw_count: the Evidence records of an attester's CMW; at least one, else
 * ATLS_ERR_EVIDENCE_ATTESTER. */
ATLS_MUST_CHECK atls_error atls_batch_cmw_count(const atls_cmw *cmw, size_t *count);

/* atls_batch_cmw: the CMW a batched answer carries for leaf |index| of a tree of |size| with
 * inclusion path |path| (malloc'd, caller frees): with |inner| NULL or a single record, the
 * record [ATLS_BATCH_MEDIA_TYPE, wrapper of (|media_type|, |ev|), 4]; with |inner| a flat
 * collection of text-labelled records (an attester's produce_cmw: its Evidence, a second
 * Evidence over the same challenge, event logs, stapled Endorsements), the same collection with
 * every Evidence record (atls_batch_cmw_is_evidence) replaced by its own batch record under its
 * label, each with the same proof. */
ATLS_MUST_CHECK atls_error atls_batch_cmw(const atls_cmw *inner, const char *media_type,
                                          const uint8_t *ev, size_t ev_len, uint64_t size,
                                          uint64_t index, const atls_merkle_hash *path,
                                          size_t path_len, uint8_t **out, size_t *out_len);

#endif /* ATLS_EVIDENCE_BATCH_H */
