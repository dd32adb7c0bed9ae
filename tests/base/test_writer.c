/* test_writer: the growable writer with deferred length prefixes (src/base/writer.h). */
#include "base/cursor.h"
#include "base/writer.h"
#include "check.h"

#include <stdlib.h>

static void test_integers(void)
{
    atls_writer w;
    uint8_t *out = NULL;
    size_t len = 0;
    atls_writer_init(&w, 0);
    CHECK(atls_writer_add_u8(&w, 0x01));
    CHECK(atls_writer_add_u16(&w, 0x0203));
    CHECK(atls_writer_add_u24(&w, 0x040506));
    CHECK(atls_writer_add_u32(&w, 0x0708090a));
    CHECK(atls_writer_add_u64(&w, 0x0b0c0d0e0f101112ull));
    CHECK(atls_writer_add_u16_le(&w, 0x1413));
    CHECK(atls_writer_add_u32_le(&w, 0x18171615));
    CHECK(atls_writer_add_u64_le(&w, 0x201f1e1d1c1b1a19ull));
    CHECK_OK(atls_writer_finish(&w, &out, &len));
    CHECK(len == 32);
    for (size_t i = 0; i < len; i++) {
        CHECK(out[i] == i + 1);
    }
    free(out);
    atls_writer_cleanup(&w);
}

static void test_prefixes(void)
{
    atls_writer w;
    uint8_t *out = NULL;
    size_t len = 0;
    atls_writer_init(&w, 0);
    CHECK(atls_writer_open_u24(&w));
    CHECK(atls_writer_open_u8(&w));
    CHECK(atls_writer_add_bytes(&w, (const uint8_t *)"abc", 3));
    CHECK(atls_writer_close(&w));
    CHECK(atls_writer_open_u16(&w));
    CHECK(atls_writer_close(&w)); /* empty */
    CHECK(atls_writer_close(&w));
    CHECK_OK(atls_writer_finish(&w, &out, &len));
    static const uint8_t want[] = {0, 0, 6, 3, 'a', 'b', 'c', 0, 0};
    CHECK(len == sizeof(want));
    CHECK_EQ_MEM(out, want, sizeof(want));
    /* and the cursor reads it back */
    atls_cursor c, outer, inner;
    atls_cursor_init(&c, out, len);
    CHECK(atls_cursor_get_u24_prefixed(&c, &outer) && atls_cursor_is_empty(&c));
    CHECK(atls_cursor_get_u8_prefixed(&outer, &inner) && atls_cursor_remaining(&inner) == 3);
    CHECK(atls_cursor_get_u16_prefixed(&outer, &inner) && atls_cursor_is_empty(&inner));
    CHECK(atls_cursor_is_empty(&outer));
    free(out);
    atls_writer_cleanup(&w);
}

static void test_prefix_overflow(void)
{
    atls_writer w;
    uint8_t *out = NULL;
    size_t len = 0;
    uint8_t big[300] = {0};

    /* 255 bytes fit a u8 prefix, 256 do not */
    atls_writer_init(&w, 0);
    CHECK(atls_writer_open_u8(&w));
    CHECK(atls_writer_add_bytes(&w, big, 255));
    CHECK(atls_writer_close(&w));
    CHECK_OK(atls_writer_finish(&w, &out, &len));
    CHECK(len == 256 && out[0] == 255);
    free(out);
    atls_writer_cleanup(&w);

    atls_writer_init(&w, 0);
    CHECK(atls_writer_open_u8(&w));
    CHECK(atls_writer_add_bytes(&w, big, 256));
    CHECK(!atls_writer_close(&w));
    CHECK(atls_writer_status(&w) == ATLS_ERR_DECODE_LENGTH);
    CHECK(!atls_writer_add_u8(&w, 1)); /* sticky */
    CHECK_ERR(atls_writer_finish(&w, &out, &len), ATLS_ERR_DECODE_LENGTH);
    atls_writer_cleanup(&w);

    /* u16: 65536 bytes overflow */
    uint8_t *huge = calloc(1, 65536);
    CHECK(huge != NULL);
    atls_writer_init(&w, 0);
    CHECK(atls_writer_open_u16(&w));
    CHECK(atls_writer_add_bytes(&w, huge, 65536));
    CHECK(!atls_writer_close(&w));
    CHECK_ERR(atls_writer_finish(&w, &out, &len), ATLS_ERR_DECODE_LENGTH);
    atls_writer_cleanup(&w);
    free(huge);

    /* u24 value out of range */
    atls_writer_init(&w, 0);
    CHECK(!atls_writer_add_u24(&w, 0x1000000));
    CHECK_ERR(atls_writer_finish(&w, &out, &len), ATLS_ERR_USAGE);
    atls_writer_cleanup(&w);
}

static void test_ceiling_and_balance(void)
{
    atls_writer w;
    uint8_t *out = NULL;
    size_t len = 0;
    uint8_t b[16] = {0};

    atls_writer_init(&w, 10);
    CHECK(atls_writer_add_bytes(&w, b, 10));
    CHECK(!atls_writer_add_u8(&w, 1));
    CHECK_ERR(atls_writer_finish(&w, &out, &len), ATLS_ERR_DECODE_TOO_LARGE);
    atls_writer_cleanup(&w);

    atls_writer_init(&w, 0);
    CHECK(atls_writer_open_u16(&w));
    CHECK_ERR(atls_writer_finish(&w, &out, &len), ATLS_ERR_INTERNAL); /* left open */
    atls_writer_cleanup(&w);

    atls_writer_init(&w, 0);
    CHECK(!atls_writer_close(&w)); /* nothing open */
    atls_writer_cleanup(&w);

    atls_writer_init(&w, 0);
    for (int i = 0; i < ATLS_WRITER_MAX_DEPTH; i++) {
        CHECK(atls_writer_open_u8(&w));
    }
    CHECK(!atls_writer_open_u8(&w)); /* too deep */
    atls_writer_cleanup(&w);

    /* empty output is a valid, freeable buffer */
    atls_writer_init(&w, 0);
    CHECK_OK(atls_writer_finish(&w, &out, &len));
    CHECK(out != NULL && len == 0);
    free(out);
    atls_writer_cleanup(&w);
    atls_writer_cleanup(&w); /* twice is fine */
}

static void test_growth(void)
{
    atls_writer w;
    uint8_t *out = NULL;
    size_t len = 0;
    atls_writer_init(&w, 0);
    for (uint32_t i = 0; i < 100000; i++) {
        if (!atls_writer_add_u32(&w, i)) {
            break;
        }
    }
    CHECK_OK(atls_writer_finish(&w, &out, &len));
    CHECK(len == 400000);
    atls_cursor c;
    atls_cursor_init(&c, out, len);
    uint32_t v = 0, i = 0;
    int all = 1;
    while (atls_cursor_get_u32(&c, &v)) {
        all &= v == i++;
    }
    CHECK(all && i == 100000);
    free(out);
    atls_writer_cleanup(&w);
}

int main(void)
{
    test_integers();
    test_prefixes();
    test_prefix_overflow();
    test_ceiling_and_balance();
    test_growth();
    return check_summary();
}
