/*
 * test_merkle: the Merkle tree of batched attestation and its wrapper (src/evidence/batch/):
 *   - every leaf of every tree of 1..70 leaves (and 4096) has a proof of the predicted length
 *     that leads back to the root, and no proof is longer than ceil(log2 n);
 *   - a wrong leaf, another index, a changed sibling, a truncated or over-long proof, a tree
 *     size of 0 or above the limit, an index outside the tree: each refused, the shape errors
 *     (ATLS_ERR_EVIDENCE_PROOF) before anything is hashed, naming truncated / over-long;
 *   - leaf and node hashes are domain-separated: an interior node presented as a leaf does not
 *     lead to the root (while the untagged computation would);
 *   - the batch challenge is SHA-512("atls/1 batch evidence" 0x00 || uint64 size || root),
 *     recomputed here with OpenSSL directly, and differs from every connection domain's;
 *   - the wrapper round-trips and its decoder refuses each malformation with its own error.
 * `test_merkle dump DIR` writes trees for the independent check of test_merkle_rfc6962.sh.
 */
#include "evidence/batch/batch.h"

#include <atls/challenge.h>

#include "base/writer.h"
#include "check.h"
#include "codec/cbor/cbor.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atls_merkle_hash leaves[ATLS_BATCH_MAX_LEAVES];

static size_t ceil_log2(size_t n)
{
    size_t k = 0;
    while (((size_t)1 << k) < n) {
        k++;
    }
    return k;
}

static int root_of(const uint8_t *leaf, uint64_t index, uint64_t size, const atls_merkle_hash *path,
                   size_t len, const uint8_t *want)
{
    atls_merkle_hash r;
    return atls_merkle_root_from_path(leaf, index, size, path, len, r) == ATLS_OK &&
           memcmp(r, want, 64) == 0;
}

static void test_every_leaf(void)
{
    CHECK(RAND_bytes((uint8_t *)leaves, sizeof(leaves)) == 1);
    int all_ok = 1, len_ok = 1, bound_ok = 1;
    for (size_t n = 1; n <= 71; n++) {
        size_t size = n == 71 ? ATLS_BATCH_MAX_LEAVES : n;
        atls_merkle_tree t;
        CHECK_OK(atls_merkle_tree_build(leaves, size, &t));
        for (size_t i = 0; i < size; i++) {
            atls_merkle_hash path[ATLS_BATCH_MAX_PATH];
            size_t len = 99;
            CHECK_OK(atls_merkle_tree_path(&t, i, path, &len));
            len_ok = len_ok && len == atls_merkle_path_len(i, size);
            bound_ok = bound_ok && len <= ceil_log2(size) && len <= ATLS_BATCH_MAX_PATH;
            all_ok = all_ok && root_of(leaves[i], i, size, path, len, atls_merkle_tree_root(&t));
        }
        atls_merkle_tree_cleanup(&t);
    }
    CHECK(all_ok);
    CHECK(len_ok);
    CHECK(bound_ok);
    CHECK(atls_merkle_path_len(ATLS_BATCH_MAX_LEAVES - 1, ATLS_BATCH_MAX_LEAVES) ==
          ATLS_BATCH_MAX_PATH);
    CHECK(atls_merkle_path_len(0, 1) == 0);
    CHECK(atls_merkle_path_len(4, 5) == 1); /* the last leaf of 5 moves up twice */
    CHECK(atls_merkle_path_len(5, 5) == 0);
}

/* a tree of 1 leaf: the root is the leaf hash, the proof is empty */
static void test_one_leaf(void)
{
    atls_merkle_tree t;
    CHECK_OK(atls_merkle_tree_build(leaves, 1, &t));
    atls_merkle_hash lh;
    CHECK_OK(atls_merkle_leaf_hash(leaves[0], lh));
    CHECK_EQ_MEM(atls_merkle_tree_root(&t), lh, 64);
    CHECK(root_of(leaves[0], 0, 1, NULL, 0, lh));
    atls_merkle_tree_cleanup(&t);
    CHECK_ERR(atls_merkle_tree_build(leaves, 0, &t), ATLS_ERR_USAGE);
    CHECK_ERR(atls_merkle_tree_build(leaves, ATLS_BATCH_MAX_LEAVES + 1, &t), ATLS_ERR_USAGE);
}

static void test_wrong_proofs(void)
{
    const size_t n = 11, i = 6;
    atls_merkle_tree t;
    CHECK_OK(atls_merkle_tree_build(leaves, n, &t));
    const uint8_t *root = atls_merkle_tree_root(&t);
    atls_merkle_hash path[ATLS_BATCH_MAX_PATH + 1], r;
    size_t len = 0;
    CHECK_OK(atls_merkle_tree_path(&t, i, path, &len));
    CHECK(len == 4);
    CHECK(root_of(leaves[i], i, n, path, len, root));
    /* another leaf with this leaf's proof, this leaf at another index, a changed sibling */
    CHECK(!root_of(leaves[i + 1], i, n, path, len, root));
    CHECK(!root_of(leaves[i], i ^ 1, n, path, len, root));
    path[2][5] ^= 1;
    CHECK(!root_of(leaves[i], i, n, path, len, root));
    path[2][5] ^= 1;
    /* the proof alone does not fix the tree size (leaf 6 walks alike in trees of 11 and 12),
     * which is why the size is part of the batch challenge the Evidence carries */
    CHECK(atls_merkle_path_len(i, 12) == len);
    CHECK(root_of(leaves[i], i, 12, path, len, root));
    uint8_t c11[64], c12[64];
    CHECK_OK(atls_batch_challenge(root, 11, c11));
    CHECK_OK(atls_batch_challenge(root, 12, c12));
    CHECK(memcmp(c11, c12, 64) != 0);
    /* shapes: refused by length, named */
    CHECK_ERR(atls_merkle_root_from_path(leaves[i], i, n, path, len - 1, r),
              ATLS_ERR_EVIDENCE_PROOF);
    CHECK(strstr(atls_error_message(), "truncated") != NULL);
    memset(path[len], 0x42, 64);
    CHECK_ERR(atls_merkle_root_from_path(leaves[i], i, n, path, len + 1, r),
              ATLS_ERR_EVIDENCE_PROOF);
    CHECK(strstr(atls_error_message(), "over-long") != NULL);
    CHECK_ERR(atls_merkle_root_from_path(leaves[i], n, n, path, len, r), ATLS_ERR_EVIDENCE_PROOF);
    CHECK_ERR(atls_merkle_root_from_path(leaves[i], 0, 0, path, 0, r), ATLS_ERR_EVIDENCE_PROOF);
    CHECK_ERR(atls_merkle_root_from_path(leaves[i], 0, ATLS_BATCH_MAX_LEAVES + 1, path, 13, r),
              ATLS_ERR_EVIDENCE_PROOF);
    atls_merkle_tree_cleanup(&t);
}

static void sha512_of(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                      const uint8_t *c, size_t c_len, uint8_t out[64])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CHECK(ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 &&
          EVP_DigestUpdate(ctx, a, a_len) == 1 && EVP_DigestUpdate(ctx, b, b_len) == 1 &&
          EVP_DigestUpdate(ctx, c, c_len) == 1 && EVP_DigestFinal_ex(ctx, out, NULL) == 1);
    EVP_MD_CTX_free(ctx);
}

/* RFC 9162 section 2.1.1's prefixes: a node is never taken for a leaf */
static void test_interior_node_as_leaf(void)
{
    atls_merkle_tree t;
    CHECK_OK(atls_merkle_tree_build(leaves, 4, &t));
    const uint8_t *root = atls_merkle_tree_root(&t);
    const uint8_t *n01 = t.nodes[t.offset[1]], *n23 = t.nodes[t.offset[1] + 1];
    /* the attack is real without domain separation: root = H(0x01 || N01 || N23), so an
     * untagged verifier hashing "leaf" N01 with sibling N23 would reach it */
    uint8_t prefix = 0x01, untagged[64];
    sha512_of(&prefix, 1, n01, 64, n23, 64, untagged);
    CHECK_EQ_MEM(untagged, root, 64);
    /* with the leaf prefix the same attempt fails */
    atls_merkle_hash path[1];
    memcpy(path[0], n23, 64);
    CHECK(!root_of(n01, 0, 2, path, 1, root));
    atls_merkle_tree_cleanup(&t);
}

static void test_batch_challenge(void)
{
    uint8_t root[64], ch[64], by_hand[64], other[64];
    memset(root, 0xab, sizeof(root));
    CHECK_OK(atls_batch_challenge(root, 300, ch));
    const char *label = ATLS_CHALLENGE_LABEL_BATCH;
    uint8_t be[8] = {0, 0, 0, 0, 0, 0, 0x01, 0x2c};
    sha512_of((const uint8_t *)label, strlen(label) + 1, be, 8, root, 64, by_hand);
    CHECK_EQ_MEM(ch, by_hand, 64);
    CHECK(strcmp(label, "atls/1 batch evidence") == 0);
    CHECK_OK(atls_batch_challenge(root, 301, other));
    CHECK(memcmp(ch, other, 64) != 0);
    /* the same 72 input bytes in the other domains give other challenges */
    uint8_t in[72];
    memcpy(in, be, 8);
    memcpy(in + 8, root, 64);
    for (int d = ATLS_CHALLENGE_SERVER_EVIDENCE; d <= ATLS_CHALLENGE_DETACHED; d++) {
        CHECK_OK(atls_challenge_derive((atls_challenge_domain)d, in, sizeof(in), NULL, 0, other));
        CHECK(memcmp(ch, other, 64) != 0);
    }
}

/* ---- the wrapper ------------------------------------------------------------------------- */

static const uint8_t EV[] = {0xd2, 0x84, 0x01, 0x02, 0x03};
#define MT "application/eat+cwt; eat_profile=\"tag:atls.invalid,2026:sim\""

/* hand-made wrappers: [mt, ev, [size, index, path of |n| hashes of |hash_len| bytes]] with
 * |outer| / |proof| elements */
static size_t hand_made(uint8_t *out, size_t cap, size_t outer, const char *mt, size_t ev_len,
                        size_t proof, uint64_t size, uint64_t index, size_t n, size_t hash_len,
                        int trailing)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    uint8_t h[80];
    memset(h, 0x11, sizeof(h));
    bool ok = atls_cbor_put_array(&w, outer) && atls_cbor_put_tstr(&w, mt) &&
              atls_cbor_put_bstr(&w, EV, ev_len) && atls_cbor_put_array(&w, proof) &&
              atls_cbor_put_uint(&w, size) && atls_cbor_put_uint(&w, index) &&
              atls_cbor_put_array(&w, n);
    for (size_t i = 0; ok && i < n; i++) {
        ok = atls_cbor_put_bstr(&w, h, hash_len);
    }
    if (ok && trailing) {
        ok = atls_cbor_put_uint(&w, 0);
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(ok && atls_writer_finish(&w, &buf, &len) == ATLS_OK && len <= cap);
    atls_writer_cleanup(&w);
    if (buf != NULL && len <= cap) {
        memcpy(out, buf, len);
    }
    free(buf);
    return len;
}

static void test_codec(void)
{
    atls_merkle_tree t;
    CHECK_OK(atls_merkle_tree_build(leaves, 5, &t));
    atls_merkle_hash path[ATLS_BATCH_MAX_PATH];
    size_t len = 0;
    CHECK_OK(atls_merkle_tree_path(&t, 2, path, &len));
    uint8_t *w = NULL;
    size_t wl = 0;
    CHECK_OK(atls_batch_encode(MT, EV, sizeof(EV), 5, 2, path, len, &w, &wl));
    atls_batch_view v;
    CHECK_OK(atls_batch_decode(w, wl, &v));
    CHECK(atls_cbor_tstr_equals(&v.media_type, MT));
    CHECK(atls_cursor_remaining(&v.evidence) == sizeof(EV) &&
          memcmp(atls_cursor_data(&v.evidence), EV, sizeof(EV)) == 0);
    CHECK(v.tree_size == 5 && v.leaf_index == 2 && v.path_len == len && len == 3);
    CHECK_EQ_MEM(v.path, path, len * 64);
    /* the proof challenge is the batch challenge of the tree's root */
    uint8_t want[64], got[64];
    CHECK_OK(atls_batch_challenge(atls_merkle_tree_root(&t), 5, want));
    CHECK_OK(atls_batch_proof_challenge(&v, leaves[2], got));
    CHECK_EQ_MEM(got, want, 64);
    CHECK_OK(atls_batch_proof_challenge(&v, leaves[3], got));
    CHECK(memcmp(got, want, 64) != 0);
    /* every prefix of the encoding is refused */
    int prefixes = 1;
    for (size_t i = 0; i < wl; i++) {
        prefixes = prefixes && atls_batch_decode(w, i, &v) != ATLS_OK;
    }
    CHECK(prefixes);
    free(w);
    atls_merkle_tree_cleanup(&t);
    /* encoder refusals */
    CHECK_ERR(atls_batch_encode(ATLS_BATCH_MEDIA_TYPE, EV, sizeof(EV), 1, 0, NULL, 0, &w, &wl),
              ATLS_ERR_USAGE);
    CHECK_ERR(atls_batch_encode(MT, EV, 0, 1, 0, NULL, 0, &w, &wl), ATLS_ERR_USAGE);
    CHECK_ERR(atls_batch_encode("", EV, sizeof(EV), 1, 0, NULL, 0, &w, &wl), ATLS_ERR_USAGE);

    uint8_t b[2048];
    size_t n;
    /* the well-formed hand-made one first (the rows below differ from it in one thing) */
    n = hand_made(b, sizeof(b), 3, MT, sizeof(EV), 3, 5, 2, 3, 64, 0);
    CHECK_OK(atls_batch_decode(b, n, &v));
    struct {
        const char *what;
        size_t outer, ev_len, proof, n, hash_len;
        const char *mt;
        uint64_t size, index;
        int trailing;
        atls_error want;
    } bad[] = {
        {"4 elements", 4, 5, 3, 3, 64, MT, 5, 2, 0, ATLS_ERR_DECODE_LENGTH},
        {"empty Evidence", 3, 0, 3, 3, 64, MT, 5, 2, 0, ATLS_ERR_DECODE_LENGTH},
        {"empty media type", 3, 5, 3, 3, 64, "", 5, 2, 0, ATLS_ERR_DECODE_LENGTH},
        {"control character", 3, 5, 3, 3, 64, "a\tb", 5, 2, 0, ATLS_ERR_DECODE_VALUE},
        {"batch in batch", 3, 5, 3, 3, 64, ATLS_BATCH_MEDIA_TYPE, 5, 2, 0, ATLS_ERR_DECODE_VALUE},
        {"proof of 2", 3, 5, 2, 3, 64, MT, 5, 2, 0, ATLS_ERR_DECODE_LENGTH},
        {"hash of 63 bytes", 3, 5, 3, 3, 63, MT, 5, 2, 0, ATLS_ERR_DECODE_LENGTH},
        {"hash of 65 bytes", 3, 5, 3, 3, 65, MT, 5, 2, 0, ATLS_ERR_DECODE_LENGTH},
        {"13 hashes", 3, 5, 3, 13, 64, MT, 4096, 2, 0, ATLS_ERR_DECODE_TOO_LARGE},
        {"truncated proof", 3, 5, 3, 2, 64, MT, 5, 2, 0, ATLS_ERR_EVIDENCE_PROOF},
        {"over-long proof", 3, 5, 3, 4, 64, MT, 5, 2, 0, ATLS_ERR_EVIDENCE_PROOF},
        {"tree of 0", 3, 5, 3, 0, 64, MT, 0, 0, 0, ATLS_ERR_EVIDENCE_PROOF},
        {"tree of 4097", 3, 5, 3, 12, 64, MT, 4097, 0, 0, ATLS_ERR_EVIDENCE_PROOF},
        {"index = size", 3, 5, 3, 3, 64, MT, 5, 5, 0, ATLS_ERR_EVIDENCE_PROOF},
        {"trailing bytes", 3, 5, 3, 3, 64, MT, 5, 2, 1, ATLS_ERR_DECODE_TRAILING},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = hand_made(b, sizeof(b), bad[i].outer, bad[i].mt, bad[i].ev_len, bad[i].proof,
                      bad[i].size, bad[i].index, bad[i].n, bad[i].hash_len, bad[i].trailing);
        atls_error rc = atls_batch_decode(b, n, &v);
        if (rc != bad[i].want) {
            printf("  wrapper \"%s\": got %s (%s)\n", bad[i].what, atls_strerror(rc),
                   atls_error_message());
        }
        CHECK(rc == bad[i].want);
    }
    static const uint8_t not_array[] = {0xa0};
    CHECK_ERR(atls_batch_decode(not_array, sizeof(not_array), &v), ATLS_ERR_DECODE_TYPE);
}

/* dump: trees for test_merkle_rfc6962.sh, one line per leaf:
 * "size index leafhex roothex pathhex..." */
static int dump(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/trees.txt", dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        return 1;
    }
    if (RAND_bytes((uint8_t *)leaves, 70 * 64) != 1) {
        fclose(fp);
        return 1;
    }
    static const size_t sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17, 31, 32, 33, 64, 65, 70};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        atls_merkle_tree t;
        if (atls_merkle_tree_build(leaves, sizes[s], &t) != ATLS_OK) {
            fclose(fp);
            return 1;
        }
        for (size_t i = 0; i < sizes[s]; i++) {
            atls_merkle_hash p[ATLS_BATCH_MAX_PATH];
            size_t len = 0;
            if (atls_merkle_tree_path(&t, i, p, &len) != ATLS_OK) {
                return 1;
            }
            fprintf(fp, "%zu %zu ", sizes[s], i);
            for (int k = 0; k < 64; k++) {
                fprintf(fp, "%02x", leaves[i][k]);
            }
            fputc(' ', fp);
            for (int k = 0; k < 64; k++) {
                fprintf(fp, "%02x", atls_merkle_tree_root(&t)[k]);
            }
            for (size_t j = 0; j < len; j++) {
                fputc(' ', fp);
                for (int k = 0; k < 64; k++) {
                    fprintf(fp, "%02x", p[j][k]);
                }
            }
            fputc('\n', fp);
        }
        atls_merkle_tree_cleanup(&t);
    }
    return fclose(fp) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "dump") == 0) {
        return dump(argv[2]);
    }
    test_every_leaf();
    test_one_leaf();
    test_wrong_proofs();
    test_interior_node_as_leaf();
    test_batch_challenge();
    test_codec();
    return check_summary();
}
