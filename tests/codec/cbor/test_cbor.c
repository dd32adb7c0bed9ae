/* test_cbor: the in-tree CBOR codec (src/codec/cbor/cbor.h) against RFC 8949 Appendix A, truncation
 * at every length, over-long lengths, nesting bombs, indefinite lengths and round trips. */
#include "base/hex.h"
#include "codec/cbor/cbor.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

/* Decoding helper: hex to bytes (test vectors are written as hex). */
static uint8_t *unhex(const char *hex, size_t *len)
{
    uint8_t *out = NULL;
    if (atls_hex_decode(hex, &out, len) != ATLS_OK) {
        fprintf(stderr, "bad test hex %s\n", hex);
        exit(1);
    }
    return out;
}

/* copy_item: re-encode one item read through the pull API (a decode -> encode round trip). */
static atls_error copy_item(atls_cursor *c, atls_writer *w, int depth)
{
    if (depth > ATLS_CBOR_MAX_DEPTH) {
        return ATLS_ERR_DECODE_TOO_LARGE;
    }
    atls_cbor_type t;
    atls_error rc = atls_cbor_peek_type(c, &t);
    if (rc != ATLS_OK) {
        return rc;
    }
    bool ok = true;
    switch (t) {
    case ATLS_CBOR_UINT: {
        uint64_t v;
        if ((rc = atls_cbor_read_uint(c, &v)) != ATLS_OK) return rc;
        ok = atls_cbor_put_uint(w, v);
        break;
    }
    case ATLS_CBOR_NINT: {
        uint64_t v;
        if ((rc = atls_cbor_read_nint(c, &v)) != ATLS_OK) return rc;
        ok = atls_cbor_put_nint(w, v);
        break;
    }
    case ATLS_CBOR_BSTR: {
        atls_cursor s;
        if ((rc = atls_cbor_read_bstr(c, &s)) != ATLS_OK) return rc;
        ok = atls_cbor_put_bstr(w, atls_cursor_data(&s), atls_cursor_remaining(&s));
        break;
    }
    case ATLS_CBOR_TSTR: {
        atls_cursor s;
        if ((rc = atls_cbor_read_tstr(c, &s)) != ATLS_OK) return rc;
        ok = atls_cbor_put_tstr_len(w, (const char *)atls_cursor_data(&s),
                                    atls_cursor_remaining(&s));
        break;
    }
    case ATLS_CBOR_ARRAY:
    case ATLS_CBOR_MAP: {
        size_t n;
        rc = t == ATLS_CBOR_ARRAY ? atls_cbor_read_array(c, &n) : atls_cbor_read_map(c, &n);
        if (rc != ATLS_OK) return rc;
        ok = t == ATLS_CBOR_ARRAY ? atls_cbor_put_array(w, n) : atls_cbor_put_map(w, n);
        size_t items = t == ATLS_CBOR_ARRAY ? n : 2 * n;
        for (size_t i = 0; i < items; i++) {
            if ((rc = copy_item(c, w, depth + 1)) != ATLS_OK) return rc;
        }
        break;
    }
    case ATLS_CBOR_TAG: {
        uint64_t tag;
        if ((rc = atls_cbor_read_tag(c, &tag)) != ATLS_OK) return rc;
        ok = atls_cbor_put_tag(w, tag);
        if ((rc = copy_item(c, w, depth + 1)) != ATLS_OK) return rc;
        break;
    }
    case ATLS_CBOR_BOOL: {
        bool b;
        if ((rc = atls_cbor_read_bool(c, &b)) != ATLS_OK) return rc;
        ok = atls_cbor_put_bool(w, b);
        break;
    }
    case ATLS_CBOR_NULL:
        if ((rc = atls_cbor_read_null(c)) != ATLS_OK) return rc;
        ok = atls_cbor_put_null(w);
        break;
    default:
        return ATLS_ERR_USAGE_UNSUPPORTED;
    }
    return ok ? ATLS_OK : atls_writer_status(w);
}

/* RFC 8949 Appendix A: encodings atls decodes and re-encodes to the same bytes. */
static const char *const appendix_a[] = {
    "00", "01", "0a", "17", "1818", "1819", "1864", "1903e8", "1a000f4240",
    "1b000000e8d4a51000", "1bffffffffffffffff", "3bffffffffffffffff", "20", "29", "3863",
    "3903e7", "c249010000000000000000", "c349010000000000000000",
    "40", "4401020304", "60", "6161", "6449455446", "62225c", "62c3bc", "63e6b0b4", "64f0908591",
    "80", "83010203", "8301820203820405",
    "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
    "a0", "a201020304", "a26161016162820203", "826161a161626163",
    "a56161614161626142616361436164614461656145",
    "c074323031332d30332d32315432303a30343a30305a", "c11a514b67b0", "d74401020304",
    "d818456449455446", "d82076687474703a2f2f7777772e6578616d706c652e636f6d",
    "f4", "f5", "f6",
};

/* Appendix A items atls skips but never returns (floats, undefined, simple values). */
static const char *const appendix_a_skip_only[] = {
    "f90000", "f98000", "f93c00", "fb3ff199999999999a", "f93e00", "f97bff", "fa47c35000",
    "fb7e37e43c8800759c", "f90001", "f97c00", "f97e00", "fa7f800000", "fb7ff0000000000000",
    "f7", "f0", "f8ff", "c1fb41d452d9ec200000",
};

static void test_appendix_a(void)
{
    for (size_t i = 0; i < sizeof(appendix_a) / sizeof(appendix_a[0]); i++) {
        size_t len;
        uint8_t *in = unhex(appendix_a[i], &len);
        atls_cursor c, span;
        atls_cursor_init(&c, in, len);
        CHECK_OK(atls_cbor_check_deterministic(&c));
        CHECK_OK(atls_cbor_get_item_bytes(&c, &span));
        CHECK(atls_cursor_is_empty(&c) && atls_cursor_remaining(&span) == len &&
              atls_cursor_data(&span) == in);
        /* decode -> encode -> the same bytes */
        atls_writer w;
        atls_writer_init(&w, 0);
        atls_cursor_init(&c, in, len);
        CHECK_OK(copy_item(&c, &w, 1));
        CHECK(atls_cursor_is_empty(&c));
        uint8_t *out = NULL;
        size_t out_len = 0;
        CHECK_OK(atls_writer_finish(&w, &out, &out_len));
        CHECK(out_len == len && out != NULL && memcmp(out, in, len) == 0);
        if (out_len != len || (out != NULL && memcmp(out, in, len) != 0)) {
            printf("  round trip of %s differs\n", appendix_a[i]);
        }
        free(out);
        atls_writer_cleanup(&w);
        /* every truncation fails as truncated and leaves the cursor where it was */
        for (size_t cut = 0; cut < len; cut++) {
            atls_cursor_init(&c, in, cut);
            CHECK_ERR(atls_cbor_skip(&c), ATLS_ERR_DECODE_TRUNCATED);
            CHECK(atls_cursor_remaining(&c) == cut);
        }
        free(in);
    }
    for (size_t i = 0; i < sizeof(appendix_a_skip_only) / sizeof(appendix_a_skip_only[0]); i++) {
        size_t len;
        uint8_t *in = unhex(appendix_a_skip_only[i], &len);
        atls_cursor c;
        atls_cursor_init(&c, in, len);
        atls_cbor_type t;
        CHECK_OK(atls_cbor_peek_type(&c, &t));
        CHECK(t == ATLS_CBOR_OTHER || t == ATLS_CBOR_TAG);
        CHECK_OK(atls_cbor_skip(&c));
        CHECK(atls_cursor_is_empty(&c));
        for (size_t cut = 0; cut < len; cut++) {
            atls_cursor_init(&c, in, cut);
            CHECK_ERR(atls_cbor_skip(&c), ATLS_ERR_DECODE_TRUNCATED);
        }
        free(in);
    }
}

static void test_values(void)
{
    size_t len;
    uint8_t *in;
    atls_cursor c;
    uint64_t u;
    int64_t i64;

    in = unhex("1bffffffffffffffff", &len);
    atls_cursor_init(&c, in, len);
    CHECK_ERR(atls_cbor_read_int64(&c, &i64), ATLS_ERR_DECODE_VALUE);
    CHECK(atls_cursor_remaining(&c) == len);
    CHECK_ERR(atls_cbor_read_nint(&c, &u), ATLS_ERR_DECODE_TYPE);
    CHECK_OK(atls_cbor_read_uint(&c, &u));
    CHECK(u == UINT64_MAX && atls_cursor_is_empty(&c));
    free(in);

    in = unhex("3b7fffffffffffffff", &len); /* -2^63 */
    atls_cursor_init(&c, in, len);
    CHECK_ERR(atls_cbor_read_uint(&c, &u), ATLS_ERR_DECODE_TYPE);
    CHECK_OK(atls_cbor_read_int64(&c, &i64));
    CHECK(i64 == INT64_MIN);
    free(in);

    in = unhex("3b8000000000000000", &len); /* -2^63 - 1 */
    atls_cursor_init(&c, in, len);
    CHECK_ERR(atls_cbor_read_int64(&c, &i64), ATLS_ERR_DECODE_VALUE);
    free(in);

    in = unhex("3903e7", &len);
    atls_cursor_init(&c, in, len);
    CHECK_OK(atls_cbor_read_int64(&c, &i64));
    CHECK(i64 == -1000);
    free(in);

    /* types: each reader refuses every other major type, cursor unchanged */
    in = unhex("6161", &len);
    atls_cursor_init(&c, in, len);
    atls_cursor s;
    size_t n;
    bool b;
    CHECK_ERR(atls_cbor_read_bstr(&c, &s), ATLS_ERR_DECODE_TYPE);
    CHECK_ERR(atls_cbor_read_array(&c, &n), ATLS_ERR_DECODE_TYPE);
    CHECK_ERR(atls_cbor_read_map(&c, &n), ATLS_ERR_DECODE_TYPE);
    CHECK_ERR(atls_cbor_read_tag(&c, &u), ATLS_ERR_DECODE_TYPE);
    CHECK_ERR(atls_cbor_read_bool(&c, &b), ATLS_ERR_DECODE_TYPE);
    CHECK_ERR(atls_cbor_read_null(&c), ATLS_ERR_DECODE_TYPE);
    CHECK_ERR(atls_cbor_read_int64(&c, &i64), ATLS_ERR_DECODE_TYPE);
    CHECK(atls_cursor_remaining(&c) == len);
    CHECK_OK(atls_cbor_read_tstr(&c, &s));
    CHECK(atls_cbor_tstr_equals(&s, "a") && !atls_cbor_tstr_equals(&s, "ab"));
    CHECK_ERR(atls_cbor_read_tstr(&c, &s), ATLS_ERR_DECODE_TRUNCATED);
    free(in);

    /* bool / null */
    in = unhex("f4f5f6", &len);
    atls_cursor_init(&c, in, len);
    CHECK_OK(atls_cbor_read_bool(&c, &b));
    CHECK(!b);
    CHECK_ERR(atls_cbor_read_null(&c), ATLS_ERR_DECODE_TYPE);
    CHECK_OK(atls_cbor_read_bool(&c, &b));
    CHECK(b);
    CHECK_OK(atls_cbor_read_null(&c));
    CHECK_ERR(atls_cbor_read_null(&c), ATLS_ERR_DECODE_TRUNCATED);
    free(in);
}

static void expect_fail(const char *hex, atls_error code)
{
    size_t len;
    uint8_t *in = unhex(hex, &len);
    atls_cursor c, span;
    atls_cursor_init(&c, in, len);
    CHECK_ERR(atls_cbor_skip(&c), code);
    CHECK(atls_cursor_remaining(&c) == len);
    CHECK_ERR(atls_cbor_get_item_bytes(&c, &span), code);
    CHECK(atls_cursor_remaining(&c) == len);
    free(in);
}

static void test_malformed(void)
{
    /* indefinite lengths (RFC 8949 Appendix A) are rejected: definite lengths only */
    expect_fail("5f42010243030405ff", ATLS_ERR_DECODE_VALUE);
    expect_fail("7f657374726561646d696e67ff", ATLS_ERR_DECODE_VALUE);
    expect_fail("9fff", ATLS_ERR_DECODE_VALUE);
    expect_fail("9f018202039f0405ffff", ATLS_ERR_DECODE_VALUE);
    expect_fail("83018202039f0405ff", ATLS_ERR_DECODE_VALUE);
    expect_fail("bf61610161629f0203ffff", ATLS_ERR_DECODE_VALUE);
    expect_fail("ff", ATLS_ERR_DECODE_VALUE);        /* lone break */
    expect_fail("1c", ATLS_ERR_DECODE_VALUE);        /* reserved additional info 28..30 */
    expect_fail("5d", ATLS_ERR_DECODE_VALUE);
    expect_fail("fe", ATLS_ERR_DECODE_VALUE);
    expect_fail("1f", ATLS_ERR_DECODE_VALUE);        /* ai 31 on an integer */
    expect_fail("f818", ATLS_ERR_DECODE_VALUE);      /* two-byte simple value < 32 */
    /* over-long lengths: nothing is allocated, the length is checked against what remains */
    expect_fail("5b8000000000000000", ATLS_ERR_DECODE_TRUNCATED);
    expect_fail("5bffffffffffffffff00", ATLS_ERR_DECODE_TRUNCATED);
    expect_fail("7b7fffffffffffffff61", ATLS_ERR_DECODE_TRUNCATED);
    expect_fail("9bffffffffffffffff00", ATLS_ERR_DECODE_TRUNCATED);
    expect_fail("bb4000000000000000000000", ATLS_ERR_DECODE_TRUNCATED);
    expect_fail("a2010203", ATLS_ERR_DECODE_TRUNCATED); /* map: 2 entries need 4 items */
    expect_fail("5a00010000", ATLS_ERR_DECODE_TRUNCATED);
    /* invalid UTF-8 in text strings */
    expect_fail("62c328", ATLS_ERR_DECODE_VALUE);    /* bad continuation */
    expect_fail("62c080", ATLS_ERR_DECODE_VALUE);    /* overlong NUL */
    expect_fail("63eda080", ATLS_ERR_DECODE_VALUE);  /* surrogate */
    expect_fail("64f4908080", ATLS_ERR_DECODE_VALUE); /* above U+10FFFF */
    expect_fail("63e0808f", ATLS_ERR_DECODE_VALUE);  /* overlong 3-byte */
    expect_fail("61ff", ATLS_ERR_DECODE_VALUE);
    expect_fail("62e282", ATLS_ERR_DECODE_VALUE);    /* sequence cut by the string end */
    expect_fail("8162c328", ATLS_ERR_DECODE_VALUE);  /* nested too */
}

static void test_depth(void)
{
    /* [[[...[0]...]]]: k arrays around one integer are k+1 levels */
    uint8_t buf[100001];
    for (size_t k = 14; k <= 17; k++) {
        memset(buf, 0x81, k);
        buf[k] = 0x00;
        atls_cursor c;
        atls_cursor_init(&c, buf, k + 1);
        if (k + 1 <= ATLS_CBOR_MAX_DEPTH) {
            CHECK_OK(atls_cbor_skip(&c));
            CHECK(atls_cursor_is_empty(&c));
        } else {
            CHECK_ERR(atls_cbor_skip(&c), ATLS_ERR_DECODE_TOO_LARGE);
        }
    }
    /* depth bombs: 100000 nested arrays, maps or tags stop at the limit (no stack blow-up) */
    const uint8_t bombs[] = {0x81, 0xa1, 0xc6};
    for (size_t i = 0; i < sizeof(bombs); i++) {
        memset(buf, bombs[i], sizeof(buf) - 1);
        buf[sizeof(buf) - 1] = 0;
        atls_cursor c;
        atls_cursor_init(&c, buf, sizeof(buf));
        CHECK_ERR(atls_cbor_skip(&c), ATLS_ERR_DECODE_TOO_LARGE);
        CHECK(atls_cursor_remaining(&c) == sizeof(buf));
    }
    /* map whose keys are nested too deeply */
    static const uint8_t deep_key[] = {0xa1, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
                                       0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
                                       0x00, 0x00};
    atls_cursor c;
    atls_cursor_init(&c, deep_key, sizeof(deep_key));
    CHECK_ERR(atls_cbor_skip(&c), ATLS_ERR_DECODE_TOO_LARGE);
}

static void test_map_iter(void)
{
    size_t len;
    uint8_t *in;
    atls_cursor c;
    atls_cbor_map_iter it;
    atls_cbor_key k;
    int64_t v;

    /* {1: 2, -7: 4, "a": 5} */
    in = unhex("a301022604616105", &len);
    atls_cursor_init(&c, in, len);
    CHECK_OK(atls_cbor_map_begin(&c, &it));
    CHECK(it.count == 3);
    CHECK(atls_cbor_map_has_next(&it));
    CHECK_OK(atls_cbor_map_next_key(&c, &it, &k));
    CHECK(atls_cbor_key_is_int(&k, 1) && !atls_cbor_key_is_text(&k, "a"));
    CHECK_OK(atls_cbor_read_int64(&c, &v));
    CHECK_OK(atls_cbor_map_next_key(&c, &it, &k));
    CHECK(atls_cbor_key_is_int(&k, -7));
    CHECK_OK(atls_cbor_skip(&c));
    CHECK_OK(atls_cbor_map_next_key(&c, &it, &k));
    CHECK(atls_cbor_key_is_text(&k, "a") && !atls_cbor_key_is_int(&k, 0));
    CHECK_OK(atls_cbor_read_int64(&c, &v));
    CHECK(v == 5);
    CHECK(!atls_cbor_map_has_next(&it));
    CHECK_ERR(atls_cbor_map_next_key(&c, &it, &k), ATLS_ERR_USAGE_STATE);
    CHECK(atls_cursor_is_empty(&c));
    free(in);

    /* duplicate keys: same encoding, different encodings of the same value, text */
    static const char *const dup_hex[] = {"a201000100", "a20100180100", "a2616100616101",
                                          "a22000380000"};
    for (size_t i = 0; i < 4; i++) {
        in = unhex(dup_hex[i], &len);
        atls_cursor_init(&c, in, len);
        CHECK_OK(atls_cbor_map_begin(&c, &it));
        CHECK_OK(atls_cbor_map_next_key(&c, &it, &k));
        CHECK_OK(atls_cbor_skip(&c));
        atls_cursor before = c;
        CHECK_ERR(atls_cbor_map_next_key(&c, &it, &k), ATLS_ERR_DECODE_VALUE);
        CHECK(atls_cursor_remaining(&c) == atls_cursor_remaining(&before));
        free(in);
    }

    /* key types other than int / text */
    static const char *const bad_keys[] = {"a14000", "a1800000", "a1f500",
                                           "a13b800000000000000000"};
    static const atls_error bad_codes[] = {ATLS_ERR_DECODE_TYPE, ATLS_ERR_DECODE_TYPE,
                                           ATLS_ERR_DECODE_TYPE, ATLS_ERR_DECODE_VALUE};
    for (size_t i = 0; i < 4; i++) {
        in = unhex(bad_keys[i], &len);
        atls_cursor_init(&c, in, len);
        CHECK_OK(atls_cbor_map_begin(&c, &it));
        CHECK_ERR(atls_cbor_map_next_key(&c, &it, &k), bad_codes[i]);
        free(in);
    }

    /* a map larger than the iterator's limit */
    uint8_t big[3 + 2 * (ATLS_CBOR_MAP_MAX_ENTRIES + 1)];
    big[0] = 0xb8;
    big[1] = ATLS_CBOR_MAP_MAX_ENTRIES + 1;
    memset(big + 2, 0, sizeof(big) - 2);
    atls_cursor_init(&c, big, sizeof(big));
    CHECK_ERR(atls_cbor_map_begin(&c, &it), ATLS_ERR_DECODE_TOO_LARGE);
    CHECK(atls_cursor_remaining(&c) == sizeof(big));
    CHECK_ERR(atls_cbor_map_begin(&(atls_cursor){big + 2, 1}, &it), ATLS_ERR_DECODE_TYPE);
}

static void test_deterministic(void)
{
    static const char *const bad[] = {
        "1801", "190001", "1a0000ffff", "1b00000000ffffffff", "3800", "5800", "7800", "9800",
        "b800", "d80100", "a2020001 00", "a201000100", "a2616200616100", "81 1801",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char hex[64];
        size_t j = 0;
        for (const char *p = bad[i]; *p && j + 1 < sizeof(hex); p++) {
            if (*p != ' ') {
                hex[j++] = *p;
            }
        }
        hex[j] = 0;
        size_t len;
        uint8_t *in = unhex(hex, &len);
        atls_cursor c;
        atls_cursor_init(&c, in, len);
        CHECK_ERR(atls_cbor_check_deterministic(&c), ATLS_ERR_DECODE_VALUE);
        CHECK_OK(atls_cbor_skip(&c)); /* still accepted by the ordinary decoder */
        free(in);
    }
    /* shorter keys sort first; 0x0a < 0x18 0x64 < 0x20 < 0x61 0x7a < 0x62 0x61 0x61 */
    size_t len;
    uint8_t *in = unhex("a50a00186400200061" "7a00626161" "00", &len);
    atls_cursor c;
    atls_cursor_init(&c, in, len);
    CHECK_OK(atls_cbor_check_deterministic(&c));
    free(in);
}

static void test_encoder(void)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_int(&w, INT64_MIN));
    CHECK(atls_cbor_put_int(&w, INT64_MAX));
    CHECK(atls_cbor_put_int(&w, -24));
    CHECK(atls_cbor_put_int(&w, -25));
    CHECK(atls_cbor_put_int(&w, 65536));
    CHECK(atls_cbor_put_tag(&w, 18));
    CHECK(atls_cbor_put_tag(&w, 399));
    CHECK(atls_cbor_put_tstr(&w, "Signature1"));
    CHECK(atls_cbor_put_bstr(&w, NULL, 0));
    CHECK(atls_cbor_put_map(&w, 0));
    CHECK(atls_cbor_put_array(&w, 24));
    CHECK(atls_cbor_put_raw(&w, (const uint8_t *)"\xf6", 1));
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK_OK(atls_writer_finish(&w, &out, &len));
    size_t want_len;
    uint8_t *want = unhex("3b7fffffffffffffff1b7fffffffffffffff3738181a00010000d2d9018f"
                          "6a5369676e61747572653140a09818f6",
                          &want_len);
    CHECK(len == want_len && memcmp(out, want, len) == 0);
    free(want);
    free(out);
    atls_writer_cleanup(&w);

    /* the writer's ceiling makes puts fail (sticky) */
    atls_writer_init(&w, 4);
    CHECK(atls_cbor_put_uint(&w, 1));
    CHECK(!atls_cbor_put_bstr(&w, (const uint8_t *)"abcd", 4));
    CHECK(!atls_cbor_put_null(&w));
    CHECK_ERR(atls_writer_finish(&w, &out, &len), ATLS_ERR_DECODE_TOO_LARGE);
    atls_writer_cleanup(&w);
}

int main(void)
{
    test_appendix_a();
    test_values();
    test_malformed();
    test_depth();
    test_map_iter();
    test_deterministic();
    test_encoder();
    return check_summary();
}
