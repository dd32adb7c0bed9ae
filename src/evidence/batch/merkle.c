/* merkle.c: the Merkle tree over a batch's challenges, its inclusion proofs and the batch
 * challenge (batch.h; RFC 9162 sections 2.1.1 and 2.1.3, with SHA-512). */
#include "evidence/batch/batch.h"

#include <atls/challenge.h>

#include "base/result.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* RFC 9162 section 2.1.1: distinct prefixes for leaves and interior nodes, so no leaf can be
 * presented as a node or the other way round (the second-preimage attack on untagged trees) */
#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

static atls_error sha512(const uint8_t *in, size_t len, atls_merkle_hash out)
{
    unsigned int n = 0;
    ATLS_ENSURE(EVP_Digest(in, len, out, &n, EVP_sha512(), NULL) == 1 &&
                    n == ATLS_MERKLE_HASH_LEN,
                ATLS_ERR_CRYPTO, "batch: SHA-512 failed");
    return ATLS_OK;
}

atls_error atls_merkle_leaf_hash(const uint8_t leaf[ATLS_MERKLE_HASH_LEN], atls_merkle_hash out)
{
    uint8_t in[1 + ATLS_MERKLE_HASH_LEN];
    in[0] = LEAF_PREFIX;
    memcpy(in + 1, leaf, ATLS_MERKLE_HASH_LEN);
    return sha512(in, sizeof(in), out);
}

atls_error atls_merkle_node_hash(const atls_merkle_hash left, const atls_merkle_hash right,
                                 atls_merkle_hash out)
{
    uint8_t in[1 + 2 * ATLS_MERKLE_HASH_LEN];
    in[0] = NODE_PREFIX;
    memcpy(in + 1, left, ATLS_MERKLE_HASH_LEN);
    memcpy(in + 1 + ATLS_MERKLE_HASH_LEN, right, ATLS_MERKLE_HASH_LEN);
    return sha512(in, sizeof(in), out);
}

/* The walk both the prover and the verifier make, from leaf |index| up: at each level the node
 * at i has a sibling on its left when i is odd, on its right when i + 1 < count, and none when
 * it is the last node of an odd level (it then moves up unchanged). */
size_t atls_merkle_path_len(uint64_t index, uint64_t size)
{
    if (index >= size) {
        return 0;
    }
    size_t len = 0;
    for (uint64_t i = index, count = size; count > 1; i /= 2, count = (count + 1) / 2) {
        if ((i & 1) != 0 || i + 1 < count) {
            len++;
        }
    }
    return len;
}

atls_error atls_merkle_check_proof(uint64_t index, uint64_t size, size_t len)
{
    ATLS_ENSURE(size >= 1 && size <= ATLS_BATCH_MAX_LEAVES, ATLS_ERR_EVIDENCE_PROOF,
                "batch: inclusion proof for a tree of %llu leaves (1..%d allowed)",
                (unsigned long long)size, ATLS_BATCH_MAX_LEAVES);
    ATLS_ENSURE(index < size, ATLS_ERR_EVIDENCE_PROOF,
                "batch: inclusion proof for leaf %llu of a tree of %llu leaves",
                (unsigned long long)index, (unsigned long long)size);
    size_t want = atls_merkle_path_len(index, size);
    /* a truncated proof would stop below the root and an over-long one hash past it: both are
     * refused by their length, before anything is hashed */
    ATLS_ENSURE(len == want, ATLS_ERR_EVIDENCE_PROOF,
                "batch: inclusion proof has %zu sibling hash(es); leaf %llu of a tree of %llu "
                "leaves needs %zu (%s)",
                len, (unsigned long long)index, (unsigned long long)size, want,
                len < want ? "truncated" : "over-long");
    return ATLS_OK;
}

atls_error atls_merkle_tree_build(const atls_merkle_hash *leaves, size_t n, atls_merkle_tree *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(leaves != NULL && n >= 1 && n <= ATLS_BATCH_MAX_LEAVES, ATLS_ERR_USAGE,
                "batch: a tree has 1..%d leaves (got %zu)", ATLS_BATCH_MAX_LEAVES, n);
    /* every level halves, rounding up: at most 2n nodes plus one per level in all */
    out->nodes = calloc(2 * n + ATLS_BATCH_MAX_PATH + 1, sizeof(out->nodes[0]));
    ATLS_ENSURE(out->nodes != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    out->size = n;
    atls_error rc = ATLS_OK;
    for (size_t i = 0; i < n && rc == ATLS_OK; i++) {
        rc = atls_merkle_leaf_hash(leaves[i], out->nodes[i]);
    }
    out->count[0] = n;
    out->levels = 1;
    size_t used = n;
    while (rc == ATLS_OK && out->count[out->levels - 1] > 1) {
        size_t below = out->offset[out->levels - 1], count = out->count[out->levels - 1];
        size_t up = (count + 1) / 2;
        out->offset[out->levels] = used;
        out->count[out->levels] = up;
        for (size_t i = 0; i + 1 < count && rc == ATLS_OK; i += 2) {
            rc = atls_merkle_node_hash(out->nodes[below + i], out->nodes[below + i + 1],
                                       out->nodes[used + i / 2]);
        }
        if (count % 2 == 1) {
            memcpy(out->nodes[used + up - 1], out->nodes[below + count - 1], ATLS_MERKLE_HASH_LEN);
        }
        used += up;
        out->levels++;
    }
    if (rc != ATLS_OK) {
        atls_merkle_tree_cleanup(out);
    }
    return rc;
}

void atls_merkle_tree_cleanup(atls_merkle_tree *t)
{
    free(t->nodes);
    memset(t, 0, sizeof(*t));
}

const uint8_t *atls_merkle_tree_root(const atls_merkle_tree *t)
{
    return t->nodes[t->offset[t->levels - 1]];
}

atls_error atls_merkle_tree_path(const atls_merkle_tree *t, size_t index, atls_merkle_hash *path,
                                 size_t *len)
{
    ATLS_ENSURE(index < t->size, ATLS_ERR_USAGE, "batch: leaf %zu of a tree of %zu", index,
                t->size);
    *len = 0;
    size_t i = index;
    for (size_t level = 0; level + 1 < t->levels; level++, i /= 2) {
        size_t count = t->count[level];
        size_t sibling = (i & 1) != 0 ? i - 1 : i + 1;
        if (sibling < count) {
            memcpy(path[(*len)++], t->nodes[t->offset[level] + sibling], ATLS_MERKLE_HASH_LEN);
        }
    }
    return ATLS_OK;
}

atls_error atls_merkle_root_from_path(const uint8_t leaf[ATLS_MERKLE_HASH_LEN], uint64_t index,
                                      uint64_t size, const atls_merkle_hash *path, size_t len,
                                      atls_merkle_hash root)
{
    ATLS_GUARD(atls_merkle_check_proof(index, size, len));
    atls_merkle_hash node;
    ATLS_GUARD(atls_merkle_leaf_hash(leaf, node));
    size_t used = 0;
    for (uint64_t i = index, count = size; count > 1; i /= 2, count = (count + 1) / 2) {
        if ((i & 1) != 0) {
            ATLS_GUARD(atls_merkle_node_hash(path[used++], node, node));
        } else if (i + 1 < count) {
            ATLS_GUARD(atls_merkle_node_hash(node, path[used++], node));
        }
    }
    memcpy(root, node, ATLS_MERKLE_HASH_LEN);
    return ATLS_OK;
}

atls_error atls_batch_challenge(const atls_merkle_hash root, uint64_t size,
                                uint8_t out[ATLS_CHALLENGE_LEN])
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++) {
        be[i] = (uint8_t)(size >> (56 - 8 * i));
    }
    return atls_challenge_derive(ATLS_CHALLENGE_BATCH, be, sizeof(be), root,
                                 ATLS_MERKLE_HASH_LEN, out);
}
