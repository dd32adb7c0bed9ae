/* fuzz_cbor.c: the CBOR pull decoder (src/codec/cbor/cbor.h): skip, get_item_bytes,
 * check_deterministic and the duplicate-rejecting map iterator, plus decode -> encode:
 *   - skip and get_item_bytes agree on the item's extent;
 *   - re-encoding an item with the shortest-form encoder decodes to an item of the same shape
 *     and re-encodes to the same bytes (the encoder is idempotent);
 *   - an item check_deterministic accepts re-encodes to exactly its input bytes. */
#include "fuzz.h"

#include "codec/cbor/cbor.h"

#include <string.h>

/* reencode walks one item with the typed readers and writes it again with the encoder.
 * Returns 0 when the item holds something the readers do not return (floats, simple values)
 * or a reader fails; then no property is checked. */
static int reencode(atls_cursor *c, atls_writer *w, int depth)
{
    atls_cbor_type t;
    if (depth > ATLS_CBOR_MAX_DEPTH || atls_cbor_peek_type(c, &t) != ATLS_OK) {
        return 0;
    }
    uint64_t u;
    atls_cursor s;
    size_t n;
    bool b;
    switch (t) {
    case ATLS_CBOR_UINT:
        return atls_cbor_read_uint(c, &u) == ATLS_OK && atls_cbor_put_uint(w, u);
    case ATLS_CBOR_NINT:
        return atls_cbor_read_nint(c, &u) == ATLS_OK && atls_cbor_put_nint(w, u);
    case ATLS_CBOR_BSTR:
        return atls_cbor_read_bstr(c, &s) == ATLS_OK &&
               atls_cbor_put_bstr(w, atls_cursor_data(&s), atls_cursor_remaining(&s));
    case ATLS_CBOR_TSTR:
        return atls_cbor_read_tstr(c, &s) == ATLS_OK &&
               atls_cbor_put_tstr_len(w, (const char *)atls_cursor_data(&s),
                                      atls_cursor_remaining(&s));
    case ATLS_CBOR_ARRAY:
        if (atls_cbor_read_array(c, &n) != ATLS_OK || !atls_cbor_put_array(w, n)) {
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            if (!reencode(c, w, depth + 1)) {
                return 0;
            }
        }
        return 1;
    case ATLS_CBOR_MAP:
        if (atls_cbor_read_map(c, &n) != ATLS_OK || !atls_cbor_put_map(w, n)) {
            return 0;
        }
        for (size_t i = 0; i < 2 * n; i++) {
            if (!reencode(c, w, depth + 1)) {
                return 0;
            }
        }
        return 1;
    case ATLS_CBOR_TAG:
        return atls_cbor_read_tag(c, &u) == ATLS_OK && atls_cbor_put_tag(w, u) &&
               reencode(c, w, depth + 1);
    case ATLS_CBOR_BOOL:
        return atls_cbor_read_bool(c, &b) == ATLS_OK && atls_cbor_put_bool(w, b);
    case ATLS_CBOR_NULL:
        return atls_cbor_read_null(c) == ATLS_OK && atls_cbor_put_null(w);
    case ATLS_CBOR_OTHER:
    default:
        return 0;
    }
}

/* walk_maps: every map reachable from the top level through the iterator (keys must be int or
 * text; values skipped). Exercises duplicate detection and key comparison. */
static void walk_map(const uint8_t *data, size_t size)
{
    atls_cursor c;
    atls_cursor_init(&c, data, size);
    atls_cbor_map_iter it;
    if (atls_cbor_map_begin(&c, &it) != ATLS_OK) {
        return;
    }
    FUZZ_REQUIRE(it.count <= ATLS_CBOR_MAP_MAX_ENTRIES);
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        if (atls_cbor_map_next_key(&c, &it, &k) != ATLS_OK) {
            return;
        }
        FUZZ_REQUIRE(atls_cbor_key_equals(&k, &k));
        if (!k.is_text) {
            FUZZ_REQUIRE(atls_cbor_key_is_int(&k, k.num));
        }
        atls_cursor val;
        if (atls_cbor_get_item_bytes(&c, &val) != ATLS_OK) {
            return;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_cursor a, b, item;
    atls_cursor_init(&a, data, size);
    atls_cursor_init(&b, data, size);
    atls_error ra = atls_cbor_skip(&a);
    atls_error rb = atls_cbor_get_item_bytes(&b, &item);
    FUZZ_REQUIRE((ra == ATLS_OK) == (rb == ATLS_OK));
    if (ra != ATLS_OK) {
        /* a failed reader leaves the cursor unchanged */
        FUZZ_REQUIRE(atls_cursor_remaining(&a) == size && atls_cursor_remaining(&b) == size);
        walk_map(data, size);
        return 0;
    }
    FUZZ_REQUIRE(atls_cursor_remaining(&a) == atls_cursor_remaining(&b));
    FUZZ_REQUIRE(atls_cursor_data(&item) == data &&
                 atls_cursor_remaining(&item) + atls_cursor_remaining(&a) == size);
    size_t item_len = atls_cursor_remaining(&item);

    atls_cursor d;
    atls_cursor_init(&d, data, item_len);
    int deterministic = atls_cbor_check_deterministic(&d) == ATLS_OK;
    walk_map(data, item_len);

    atls_writer w;
    atls_writer_init(&w, 0);
    atls_cursor r;
    atls_cursor_init(&r, data, item_len);
    if (reencode(&r, &w, 1) && atls_writer_status(&w) == ATLS_OK) {
        FUZZ_REQUIRE(atls_cursor_is_empty(&r));
        size_t enc_len = atls_writer_len(&w);
        const uint8_t *enc = atls_writer_data(&w);
        if (deterministic) {
            FUZZ_REQUIRE(enc_len == item_len && memcmp(enc, data, item_len) == 0);
        }
        FUZZ_REQUIRE(enc_len <= item_len); /* shortest form never grows */
        /* the re-encoding is shortest-form, so encoding it again gives the same bytes */
        atls_writer w2;
        atls_writer_init(&w2, 0);
        atls_cursor r2;
        atls_cursor_init(&r2, enc, enc_len);
        FUZZ_REQUIRE(reencode(&r2, &w2, 1) && atls_writer_status(&w2) == ATLS_OK);
        FUZZ_REQUIRE(atls_cursor_is_empty(&r2));
        FUZZ_REQUIRE(atls_writer_len(&w2) == enc_len &&
                     memcmp(atls_writer_data(&w2), enc, enc_len) == 0);
        atls_writer_cleanup(&w2);
    }
    atls_writer_cleanup(&w);
    return 0;
}
