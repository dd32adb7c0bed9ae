/* fuzz_frame.c: the atls/1 frame reader (include/atls/frame.h) fed in chunks, ERROR payload
 * parsing, and encode -> read back of every frame handed out. */
#include "fuzz.h"

#include <atls/frame.h>

#include <string.h>

/* reencode_check: a frame the reader accepted, encoded again, reads back identically. */
static void reencode_check(uint8_t type, const uint8_t *payload, size_t len)
{
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    FUZZ_REQUIRE(atls_frame_encode(type, payload, len, &enc, &enc_len) == ATLS_OK);
    FUZZ_REQUIRE(enc_len == ATLS_FRAME_HEADER_LEN + len);
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    FUZZ_REQUIRE(atls_frame_reader_feed(&r, enc, enc_len) == ATLS_OK);
    int have = 0;
    uint8_t t2 = 0;
    const uint8_t *p2 = NULL;
    size_t l2 = 0;
    FUZZ_REQUIRE(atls_frame_reader_next(&r, &have, &t2, &p2, &l2) == ATLS_OK);
    FUZZ_REQUIRE(have == 1 && t2 == type && l2 == len && (len == 0 || memcmp(p2, payload, len) == 0));
    FUZZ_REQUIRE(atls_frame_reader_buffered(&r) == 0);
    atls_frame_reader_cleanup(&r);
    free(enc);
}

/* Input: byte 0 picks the chunk size (1..256) bytes are fed with; the rest is the stream. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t chunk = (size_t)data[0] + 1;
    data++;
    size--;

    atls_frame_reader r;
    atls_frame_reader_init(&r);
    size_t off = 0, handed_out = 0;
    int failed = 0;
    while (off < size && !failed) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (atls_frame_reader_feed(&r, data + off, n) != ATLS_OK) {
            break;
        }
        off += n;
        for (;;) {
            int have = 0;
            uint8_t type = 0xff;
            const uint8_t *payload = NULL;
            size_t len = 0;
            if (atls_frame_reader_next(&r, &have, &type, &payload, &len) != ATLS_OK) {
                failed = 1;
                break;
            }
            if (!have) {
                break;
            }
            FUZZ_REQUIRE(type <= ATLS_FRAME_ERROR && len <= ATLS_FRAME_MAX_PAYLOAD);
            handed_out += ATLS_FRAME_HEADER_LEN + len;
            FUZZ_REQUIRE(handed_out <= off);
            reencode_check(type, payload, len);
            if (type == ATLS_FRAME_ERROR) {
                uint16_t code = 0;
                char reason[64];
                if (atls_frame_parse_error(payload, len, &code, reason, sizeof(reason)) ==
                    ATLS_OK) {
                    FUZZ_REQUIRE(strlen(reason) < sizeof(reason));
                    /* a parsed ERROR re-encodes to one that parses to the same code */
                    uint8_t *enc = NULL;
                    size_t enc_len = 0;
                    FUZZ_REQUIRE(atls_frame_encode_error(code, reason, &enc, &enc_len) == ATLS_OK);
                    uint16_t code2 = 0;
                    char reason2[64];
                    FUZZ_REQUIRE(atls_frame_parse_error(enc + ATLS_FRAME_HEADER_LEN,
                                                        enc_len - ATLS_FRAME_HEADER_LEN, &code2,
                                                        reason2, sizeof(reason2)) == ATLS_OK);
                    FUZZ_REQUIRE(code2 == code && strcmp(reason, reason2) == 0);
                    free(enc);
                }
            }
        }
    }
    if (!failed) {
        FUZZ_REQUIRE(atls_frame_reader_buffered(&r) == off - handed_out);
    }
    atls_frame_reader_cleanup(&r);

    /* the ERROR payload parser on the raw bytes too, with a tiny reason buffer */
    uint16_t code = 0;
    char small[4];
    if (atls_frame_parse_error(data, size, &code, small, sizeof(small)) == ATLS_OK) {
        FUZZ_REQUIRE(strlen(small) < sizeof(small));
    }
    return 0;
}
