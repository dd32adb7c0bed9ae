/* test_cursor: every boundary of the bounds-checked cursor (src/base/cursor.h). */
#include "base/cursor.h"
#include "check.h"

static void test_empty(void)
{
    atls_cursor c;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    atls_cursor sub;
    atls_cursor_init(&c, NULL, 0);
    CHECK(atls_cursor_is_empty(&c));
    CHECK(!atls_cursor_get_u8(&c, &u8));
    CHECK(!atls_cursor_get_u16(&c, &u16));
    CHECK(!atls_cursor_get_u24(&c, &u32));
    CHECK(!atls_cursor_get_u32(&c, &u32));
    CHECK(!atls_cursor_get_u64(&c, &u64));
    CHECK(!atls_cursor_get_u16_le(&c, &u16));
    CHECK(!atls_cursor_get_u32_le(&c, &u32));
    CHECK(!atls_cursor_get_u64_le(&c, &u64));
    CHECK(!atls_cursor_peek_u8(&c, &u8));
    CHECK(!atls_cursor_get_u8_prefixed(&c, &sub));
    CHECK(!atls_cursor_get_u16_prefixed(&c, &sub));
    CHECK(!atls_cursor_get_u24_prefixed(&c, &sub));
    CHECK(atls_cursor_skip(&c, 0));
    CHECK(!atls_cursor_skip(&c, 1));
    CHECK(atls_cursor_get_bytes(&c, &sub, 0) && atls_cursor_is_empty(&sub));
    atls_cursor_get_rest(&c, &sub);
    CHECK(atls_cursor_is_empty(&sub));
}

static void test_integers(void)
{
    static const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    atls_cursor c;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;

    atls_cursor_init(&c, b, sizeof(b));
    CHECK(atls_cursor_get_u64(&c, &u64) && u64 == 0x0102030405060708ull);
    CHECK(atls_cursor_is_empty(&c));

    atls_cursor_init(&c, b, sizeof(b));
    CHECK(atls_cursor_get_u64_le(&c, &u64) && u64 == 0x0807060504030201ull);

    atls_cursor_init(&c, b, sizeof(b));
    CHECK(atls_cursor_get_u8(&c, &u8) && u8 == 0x01);
    CHECK(atls_cursor_get_u16(&c, &u16) && u16 == 0x0203);
    CHECK(atls_cursor_get_u24(&c, &u32) && u32 == 0x040506);
    CHECK(atls_cursor_remaining(&c) == 2);
    CHECK(!atls_cursor_get_u24(&c, &u32)); /* 2 left: a 3-byte read fails ... */
    CHECK(atls_cursor_remaining(&c) == 2); /* ... and consumes nothing */
    CHECK(atls_cursor_get_u16_le(&c, &u16) && u16 == 0x0807);

    atls_cursor_init(&c, b, sizeof(b));
    CHECK(atls_cursor_get_u32(&c, &u32) && u32 == 0x01020304);
    CHECK(atls_cursor_get_u32_le(&c, &u32) && u32 == 0x08070605);
    CHECK(!atls_cursor_get_u8(&c, &u8));

    /* one byte short at each width */
    for (size_t w = 1; w <= 8; w++) {
        atls_cursor_init(&c, b, w - 1);
        int ok;
        switch (w) {
        case 1: ok = atls_cursor_get_u8(&c, &u8); break;
        case 2: ok = atls_cursor_get_u16(&c, &u16); break;
        case 3: ok = atls_cursor_get_u24(&c, &u32); break;
        case 4: ok = atls_cursor_get_u32(&c, &u32); break;
        case 8: ok = atls_cursor_get_u64(&c, &u64); break;
        default: ok = 0; break;
        }
        CHECK(!ok);
        CHECK(atls_cursor_remaining(&c) == w - 1);
    }
}

static void test_prefixed(void)
{
    atls_cursor c, sub;
    uint8_t u8;

    /* exact fit */
    static const uint8_t ok8[] = {0x02, 0xaa, 0xbb};
    atls_cursor_init(&c, ok8, sizeof(ok8));
    CHECK(atls_cursor_get_u8_prefixed(&c, &sub));
    CHECK(atls_cursor_remaining(&sub) == 2 && atls_cursor_is_empty(&c));
    CHECK(atls_cursor_get_u8(&sub, &u8) && u8 == 0xaa);

    /* length larger than what remains: fails and leaves the cursor unchanged */
    static const uint8_t long8[] = {0x03, 0xaa, 0xbb};
    atls_cursor_init(&c, long8, sizeof(long8));
    CHECK(!atls_cursor_get_u8_prefixed(&c, &sub));
    CHECK(atls_cursor_remaining(&c) == 3 && atls_cursor_data(&c) == long8);

    /* truncated length prefix */
    static const uint8_t trunc16[] = {0x00};
    atls_cursor_init(&c, trunc16, sizeof(trunc16));
    CHECK(!atls_cursor_get_u16_prefixed(&c, &sub));
    CHECK(atls_cursor_remaining(&c) == 1);
    static const uint8_t trunc24[] = {0x00, 0x00};
    atls_cursor_init(&c, trunc24, sizeof(trunc24));
    CHECK(!atls_cursor_get_u24_prefixed(&c, &sub));
    CHECK(atls_cursor_remaining(&c) == 2);

    /* zero length */
    static const uint8_t zero24[] = {0x00, 0x00, 0x00};
    atls_cursor_init(&c, zero24, sizeof(zero24));
    CHECK(atls_cursor_get_u24_prefixed(&c, &sub) && atls_cursor_is_empty(&sub));
    CHECK(atls_cursor_is_empty(&c));

    /* huge declared length */
    static const uint8_t huge24[] = {0xff, 0xff, 0xff, 0x01};
    atls_cursor_init(&c, huge24, sizeof(huge24));
    CHECK(!atls_cursor_get_u24_prefixed(&c, &sub));
    static const uint8_t huge16[] = {0xff, 0xff, 0x01};
    atls_cursor_init(&c, huge16, sizeof(huge16));
    CHECK(!atls_cursor_get_u16_prefixed(&c, &sub));

    /* trailing bytes: the sub-view is complete, but the parent is not empty */
    static const uint8_t trailing[] = {0x01, 0xaa, 0xff};
    atls_cursor_init(&c, trailing, sizeof(trailing));
    CHECK(atls_cursor_get_u8_prefixed(&c, &sub));
    CHECK(!atls_cursor_is_empty(&c) && atls_cursor_remaining(&c) == 1);

    /* nested: u16 list of u8-prefixed items, the inner item overruns its parent view */
    static const uint8_t nested[] = {0x00, 0x02, 0x05, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    atls_cursor_init(&c, nested, sizeof(nested));
    CHECK(atls_cursor_get_u16_prefixed(&c, &sub));
    atls_cursor item;
    CHECK(!atls_cursor_get_u8_prefixed(&sub, &item)); /* 5 > 1 left in the sub-view */
}

static void test_bytes(void)
{
    static const uint8_t b[] = {1, 2, 3, 4};
    uint8_t out[4] = {0};
    atls_cursor c, sub;
    atls_cursor_init(&c, b, sizeof(b));
    CHECK(!atls_cursor_copy_bytes(&c, out, 5));
    CHECK(atls_cursor_remaining(&c) == 4);
    CHECK(atls_cursor_copy_bytes(&c, out, 2) && out[0] == 1 && out[1] == 2);
    CHECK(atls_cursor_equals(&c, (const uint8_t *)"\x03\x04", 2));
    CHECK(!atls_cursor_equals(&c, (const uint8_t *)"\x03", 1));
    uint8_t p;
    CHECK(atls_cursor_peek_u8(&c, &p) && p == 3 && atls_cursor_remaining(&c) == 2);
    CHECK(!atls_cursor_get_bytes(&c, &sub, 3));
    CHECK(atls_cursor_get_bytes(&c, &sub, 2) && atls_cursor_remaining(&sub) == 2);
    CHECK(atls_cursor_is_empty(&c));
    CHECK(!atls_cursor_skip(&c, 1));
    /* skip past the end by a huge count must not wrap */
    atls_cursor_init(&c, b, sizeof(b));
    CHECK(!atls_cursor_skip(&c, SIZE_MAX));
    CHECK(atls_cursor_remaining(&c) == 4);
}

int main(void)
{
    test_empty();
    test_integers();
    test_prefixed();
    test_bytes();
    return check_summary();
}
