/* fuzz_cmw.c: CMW decoding (src/codec/cmw/cmw.h) and, for each decoded record with a text media
 * type, encode -> decode gives the same record (media type, value, ind). */
#include "fuzz.h"

#include "codec/cmw/cmw.h"

#include <string.h>

static void record_roundtrip(const atls_cmw_leaf *leaf)
{
    if (leaf->type_is_cf) {
        return; /* atls only writes text media types */
    }
    size_t mt_len = atls_cursor_remaining(&leaf->media_type);
    char *mt = malloc(mt_len + 1);
    FUZZ_SETUP(mt != NULL);
    memcpy(mt, atls_cursor_data(&leaf->media_type), mt_len);
    mt[mt_len] = '\0';
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    atls_error rc = atls_cmw_encode_record(mt, atls_cursor_data(&leaf->value),
                                           atls_cursor_remaining(&leaf->value), leaf->ind, &enc,
                                           &enc_len);
    /* the decoder accepted it, so it fits the ceiling and the media type is printable ASCII */
    FUZZ_REQUIRE(rc == ATLS_OK);
    atls_cmw again;
    memset(&again, 0, sizeof(again));
    FUZZ_REQUIRE(atls_cmw_decode(enc, enc_len, &again) == ATLS_OK);
    FUZZ_REQUIRE(again.form == ATLS_CMW_FORM_CBOR_RECORD && again.num_leaves == 1);
    const atls_cmw_leaf *l2 = &again.leaves[0];
    FUZZ_REQUIRE(l2->depth == 0 && !l2->type_is_cf && l2->ind == leaf->ind);
    FUZZ_REQUIRE(atls_cmw_leaf_type_is(l2, mt));
    FUZZ_REQUIRE(atls_cursor_equals(&l2->value, atls_cursor_data(&leaf->value),
                                    atls_cursor_remaining(&leaf->value)));
    free(enc);
    free(mt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_cmw_form form;
    int detected = atls_cmw_detect_form(data, size, &form) == ATLS_OK;
    atls_cmw cmw;
    memset(&cmw, 0, sizeof(cmw));
    if (atls_cmw_decode(data, size, &cmw) != ATLS_OK) {
        return 0;
    }
    FUZZ_REQUIRE(detected && form == cmw.form);
    FUZZ_REQUIRE(size <= ATLS_CMW_MAX_SIZE);
    FUZZ_REQUIRE(cmw.num_leaves >= 1 && cmw.num_leaves <= ATLS_CMW_MAX_LEAVES);
    for (size_t i = 0; i < cmw.num_leaves; i++) {
        const atls_cmw_leaf *leaf = &cmw.leaves[i];
        FUZZ_REQUIRE(leaf->depth <= ATLS_CMW_MAX_DEPTH);
        FUZZ_REQUIRE(cmw.form != ATLS_CMW_FORM_CBOR_RECORD || leaf->depth == 0);
        /* views stay inside the input */
        FUZZ_REQUIRE(atls_cursor_remaining(&leaf->value) == 0 ||
                     (atls_cursor_data(&leaf->value) >= data &&
                      atls_cursor_data(&leaf->value) + atls_cursor_remaining(&leaf->value) <=
                          data + size));
        record_roundtrip(leaf);
        if (!leaf->type_is_cf) {
            char mt[128];
            size_t n = atls_cursor_remaining(&leaf->media_type);
            if (n < sizeof(mt)) {
                memcpy(mt, atls_cursor_data(&leaf->media_type), n);
                mt[n] = '\0';
                const atls_cmw_leaf *found = atls_cmw_find_leaf(&cmw, mt, 0);
                FUZZ_REQUIRE(found != NULL && found <= leaf);
            }
        }
    }
    return 0;
}
