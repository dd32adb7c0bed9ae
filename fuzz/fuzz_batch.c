/* fuzz_batch.c: the batched-Evidence wrapper (src/evidence/batch/batch.h). For every input the
 * decoder accepts: the proof fits its tree exactly (atls_merkle_path_len), the views stay inside
 * the input, encode -> decode gives the same wrapper, and the proof leads from a challenge (the
 * input's first 64 bytes, or zeros) to a batch challenge without error; the same proof for
 * another leaf leads elsewhere. */
#include "fuzz.h"

#include "evidence/batch/batch.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_batch_view v;
    if (atls_batch_decode(data, size, &v) != ATLS_OK) {
        return 0;
    }
    FUZZ_REQUIRE(v.tree_size >= 1 && v.tree_size <= ATLS_BATCH_MAX_LEAVES);
    FUZZ_REQUIRE(v.leaf_index < v.tree_size);
    FUZZ_REQUIRE(v.path_len == atls_merkle_path_len(v.leaf_index, v.tree_size));
    FUZZ_REQUIRE(atls_cursor_data(&v.evidence) >= data &&
                 atls_cursor_data(&v.evidence) + atls_cursor_remaining(&v.evidence) <= data + size);
    size_t mt_len = atls_cursor_remaining(&v.media_type);
    char mt[256];
    FUZZ_REQUIRE(mt_len > 0 && mt_len < sizeof(mt));
    memcpy(mt, atls_cursor_data(&v.media_type), mt_len);
    mt[mt_len] = '\0';
    FUZZ_REQUIRE(strlen(mt) == mt_len); /* printable: no NUL inside */
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    FUZZ_REQUIRE(atls_batch_encode(mt, atls_cursor_data(&v.evidence),
                                   atls_cursor_remaining(&v.evidence), v.tree_size, v.leaf_index,
                                   v.path, v.path_len, &enc, &enc_len) == ATLS_OK);
    atls_batch_view again;
    FUZZ_REQUIRE(atls_batch_decode(enc, enc_len, &again) == ATLS_OK);
    FUZZ_REQUIRE(again.tree_size == v.tree_size && again.leaf_index == v.leaf_index &&
                 again.path_len == v.path_len &&
                 memcmp(again.path, v.path, v.path_len * sizeof(v.path[0])) == 0 &&
                 atls_cursor_equals(&again.evidence, atls_cursor_data(&v.evidence),
                                    atls_cursor_remaining(&v.evidence)));
    free(enc);
    uint8_t leaf[ATLS_CHALLENGE_LEN] = {0}, other[ATLS_CHALLENGE_LEN];
    memcpy(leaf, data, size < sizeof(leaf) ? size : sizeof(leaf));
    memcpy(other, leaf, sizeof(other));
    other[0] ^= 1;
    uint8_t a[ATLS_CHALLENGE_LEN], b[ATLS_CHALLENGE_LEN];
    FUZZ_REQUIRE(atls_batch_proof_challenge(&v, leaf, a) == ATLS_OK);
    FUZZ_REQUIRE(atls_batch_proof_challenge(&v, other, b) == ATLS_OK);
    FUZZ_REQUIRE(memcmp(a, b, sizeof(a)) != 0);
    return 0;
}
