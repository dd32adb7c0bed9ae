/* test_frame: atls/1 frame encoding and the incremental reader, including hostile input. */
#include <atls/frame.h>

#include "check.h"

#include <stdlib.h>
#include <string.h>

static void test_round_trip_bytewise(void)
{
    uint8_t *f1, *f2, *f3;
    size_t l1, l2, l3;
    CHECK_OK(atls_frame_encode(ATLS_FRAME_DATA, (const uint8_t *)"hello", 5, &f1, &l1));
    CHECK(l1 == 9 && f1[0] == 0 && f1[1] == 0 && f1[2] == 0 && f1[3] == 5);
    CHECK_OK(atls_frame_encode(ATLS_FRAME_DATA, NULL, 0, &f2, &l2)); /* empty DATA is fine */
    CHECK_OK(atls_frame_encode_error(ATLS_ERR_POLICY_MISMATCH, "pcr 7 \x1b[31m", &f3, &l3));
    uint8_t stream[64];
    size_t n = 0;
    memcpy(stream + n, f1, l1), n += l1;
    memcpy(stream + n, f2, l2), n += l2;
    memcpy(stream + n, f3, l3), n += l3;
    free(f1), free(f2), free(f3);

    /* feed one byte at a time: frames come out exactly when complete */
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    int frames = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK_OK(atls_frame_reader_feed(&r, stream + i, 1));
        int have;
        uint8_t type;
        const uint8_t *p;
        size_t len;
        CHECK_OK(atls_frame_reader_next(&r, &have, &type, &p, &len));
        if (have) {
            frames++;
            if (frames == 1) {
                CHECK(i == 8 && type == ATLS_FRAME_DATA && len == 5 && memcmp(p, "hello", 5) == 0);
            } else if (frames == 2) {
                CHECK(type == ATLS_FRAME_DATA && len == 0);
            } else {
                uint16_t code;
                char reason[64];
                CHECK(type == ATLS_FRAME_ERROR);
                CHECK_OK(atls_frame_parse_error(p, len, &code, reason, sizeof(reason)));
                CHECK(code == ATLS_ERR_POLICY_MISMATCH);
                CHECK(strcmp(reason, "pcr 7 ?[31m") == 0); /* escape neutralised */
            }
        }
    }
    CHECK(frames == 3);
    CHECK(atls_frame_reader_buffered(&r) == 0);
    atls_frame_reader_cleanup(&r);
}

static atls_error feed_and_next(const uint8_t *bytes, size_t n, int *have)
{
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    uint8_t type;
    const uint8_t *p;
    size_t len;
    atls_error rc = atls_frame_reader_feed(&r, bytes, n);
    if (rc == ATLS_OK) {
        rc = atls_frame_reader_next(&r, have, &type, &p, &len);
    }
    atls_frame_reader_cleanup(&r);
    return rc;
}

static void test_hostile_headers(void)
{
    int have;
    static const uint8_t huge[] = {0x00, 0xff, 0xff, 0xff};
    static const uint8_t unknown[] = {0x04, 0, 0, 0};
    CHECK_ERR(feed_and_next(unknown, sizeof(unknown), &have), ATLS_ERR_PROTOCOL_FRAME);
    static const uint8_t unknown_ff[] = {0xff, 0, 0, 1, 0};
    CHECK_ERR(feed_and_next(unknown_ff, sizeof(unknown_ff), &have), ATLS_ERR_PROTOCOL_FRAME);
    /* oversized: refused from the header alone, no payload needed */
    CHECK_ERR(feed_and_next(huge, sizeof(huge), &have), ATLS_ERR_PROTOCOL_FRAME);
    static const uint8_t just_over[] = {0x02, 0x04, 0x00, 0x01};
    CHECK_ERR(feed_and_next(just_over, sizeof(just_over), &have), ATLS_ERR_PROTOCOL_FRAME);
    static const uint8_t empty_req[] = {0x01, 0, 0, 0};
    CHECK_ERR(feed_and_next(empty_req, sizeof(empty_req), &have), ATLS_ERR_PROTOCOL_FRAME);
    static const uint8_t empty_auth[] = {0x02, 0, 0, 0};
    CHECK_ERR(feed_and_next(empty_auth, sizeof(empty_auth), &have), ATLS_ERR_PROTOCOL_FRAME);
    static const uint8_t short_error[] = {0x03, 0, 0, 1, 0};
    CHECK_ERR(feed_and_next(short_error, sizeof(short_error), &have), ATLS_ERR_PROTOCOL_FRAME);
    /* has_frame: only a complete frame (or a header that will be refused) counts */
    atls_frame_reader rr;
    atls_frame_reader_init(&rr);
    static const uint8_t two[] = {0x00, 0, 0, 2, 'a'};
    CHECK_OK(atls_frame_reader_feed(&rr, two, sizeof(two)));
    CHECK(atls_frame_reader_has_frame(&rr) == 0);
    CHECK_OK(atls_frame_reader_feed(&rr, (const uint8_t *)"b", 1));
    CHECK(atls_frame_reader_has_frame(&rr) == 1);
    atls_frame_reader_cleanup(&rr);
    atls_frame_reader_init(&rr);
    CHECK_OK(atls_frame_reader_feed(&rr, huge, sizeof(huge)));
    CHECK(atls_frame_reader_has_frame(&rr) == 1);
    atls_frame_reader_cleanup(&rr);
    /* truncated frames are simply incomplete */
    static const uint8_t partial[] = {0x00, 0, 0, 5, 'a', 'b'};
    for (size_t i = 0; i <= sizeof(partial); i++) {
        have = -1;
        CHECK_OK(feed_and_next(partial, i, &have));
        CHECK(have == 0);
    }
    /* exactly the limit is accepted */
    uint8_t *big = calloc(1, ATLS_FRAME_HEADER_LEN + ATLS_FRAME_MAX_PAYLOAD);
    CHECK(big != NULL);
    big[0] = ATLS_FRAME_AUTHENTICATOR;
    big[1] = (uint8_t)(ATLS_FRAME_MAX_PAYLOAD >> 16);
    big[2] = (uint8_t)(ATLS_FRAME_MAX_PAYLOAD >> 8);
    big[3] = (uint8_t)ATLS_FRAME_MAX_PAYLOAD;
    CHECK_OK(feed_and_next(big, ATLS_FRAME_HEADER_LEN + ATLS_FRAME_MAX_PAYLOAD, &have));
    CHECK(have == 1);
    free(big);
}

static void test_encode_limits(void)
{
    uint8_t *f;
    size_t l;
    CHECK_ERR(atls_frame_encode(ATLS_FRAME_DATA, NULL, ATLS_FRAME_MAX_PAYLOAD + 1, &f, &l),
              ATLS_ERR_USAGE);
    CHECK_ERR(atls_frame_encode(7, (const uint8_t *)"x", 1, &f, &l), ATLS_ERR_PROTOCOL_FRAME);
    CHECK_ERR(atls_frame_encode(ATLS_FRAME_REQUEST, NULL, 0, &f, &l), ATLS_ERR_PROTOCOL_FRAME);
    /* a long reason is cut at the limit and the result still parses */
    char *reason = malloc(4000);
    CHECK(reason != NULL);
    memset(reason, 'a', 3999);
    reason[3999] = '\0';
    CHECK_OK(atls_frame_encode_error(1, reason, &f, &l));
    CHECK(l == ATLS_FRAME_HEADER_LEN + 2 + ATLS_FRAME_ERROR_REASON_MAX);
    free(f);
    free(reason);
}

int main(void)
{
    test_round_trip_bytewise();
    test_hostile_headers();
    test_encode_limits();
    return check_summary();
}
