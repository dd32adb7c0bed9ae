/* frame.c: atls/1 framing (atls/frame.h, docs/PROTOCOL.md section 3). */
#include <atls/frame.h>

#include "base/cursor.h"
#include "base/mem.h"
#include "base/result.h"
#include "base/writer.h"

#include <stdlib.h>
#include <string.h>

void atls_frame_reader_init(atls_frame_reader *r)
{
    memset(r, 0, sizeof(*r));
}

void atls_frame_reader_cleanup(atls_frame_reader *r)
{
    if (r->buf != NULL) {
        atls_wipe(r->buf, r->cap);
        free(r->buf);
    }
    memset(r, 0, sizeof(*r));
}

size_t atls_frame_reader_buffered(const atls_frame_reader *r)
{
    return r->len - r->consumed;
}

atls_error atls_frame_reader_feed(atls_frame_reader *r, const uint8_t *data, size_t len)
{
    if (len == 0) {
        return ATLS_OK;
    }
    /* drop what was handed out already before growing */
    if (r->consumed > 0) {
        memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
        r->len -= r->consumed;
        r->consumed = 0;
    }
    /* one frame plus one TLS record is the most that can legitimately be pending: the
     * header check in _next refuses oversized frames before their payload accumulates */
    const size_t ceiling = ATLS_FRAME_HEADER_LEN + ATLS_FRAME_MAX_PAYLOAD + 2u * 16384u;
    ATLS_ENSURE(len <= ceiling && r->len <= ceiling - len, ATLS_ERR_PROTOCOL_FRAME,
                "atls/1: peer sent more than one frame's worth without completing it");
    if (r->len + len > r->cap) {
        size_t cap = r->cap == 0 ? 4096 : r->cap;
        while (cap < r->len + len) {
            cap *= 2;
        }
        uint8_t *nb = malloc(cap);
        ATLS_ENSURE(nb != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        if (r->buf != NULL) {
            memcpy(nb, r->buf, r->len);
            atls_wipe(r->buf, r->cap);
            free(r->buf);
        }
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    return ATLS_OK;
}

/* check_header enforces the frame rules from the header alone, before buffering a payload. */
static atls_error check_header(uint8_t type, uint32_t len)
{
    ATLS_ENSURE(type <= ATLS_FRAME_ERROR, ATLS_ERR_PROTOCOL_FRAME,
                "atls/1: unknown frame type 0x%02x", type);
    ATLS_ENSURE(len <= ATLS_FRAME_MAX_PAYLOAD, ATLS_ERR_PROTOCOL_FRAME,
                "atls/1: frame of %u bytes exceeds the %u-byte limit", len,
                ATLS_FRAME_MAX_PAYLOAD);
    ATLS_ENSURE(type == ATLS_FRAME_DATA || len > 0, ATLS_ERR_PROTOCOL_FRAME,
                "atls/1: empty %s frame",
                type == ATLS_FRAME_REQUEST ? "REQUEST"
                : type == ATLS_FRAME_AUTHENTICATOR ? "AUTHENTICATOR" : "ERROR");
    ATLS_ENSURE(type != ATLS_FRAME_ERROR || (len >= 2 && len <= 2 + ATLS_FRAME_ERROR_REASON_MAX),
                ATLS_ERR_PROTOCOL_FRAME, "atls/1: ERROR frame of %u bytes is malformed", len);
    return ATLS_OK;
}

atls_error atls_frame_reader_next(atls_frame_reader *r, int *have, uint8_t *type,
                                  const uint8_t **payload, size_t *payload_len)
{
    *have = 0;
    atls_cursor c, body;
    atls_cursor_init(&c, r->buf + r->consumed, r->len - r->consumed);
    uint8_t t;
    uint32_t n;
    if (!atls_cursor_get_u8(&c, &t) || !atls_cursor_get_u24(&c, &n)) {
        return ATLS_OK; /* header incomplete */
    }
    ATLS_GUARD(check_header(t, n));
    if (!atls_cursor_get_bytes(&c, &body, n)) {
        return ATLS_OK; /* payload incomplete */
    }
    *type = t;
    *payload = atls_cursor_data(&body);
    *payload_len = n;
    *have = 1;
    r->consumed += ATLS_FRAME_HEADER_LEN + n;
    return ATLS_OK;
}

int atls_frame_reader_has_frame(const atls_frame_reader *r)
{
    atls_cursor c;
    atls_cursor_init(&c, r->buf + r->consumed, r->len - r->consumed);
    uint8_t t;
    uint32_t n;
    if (!atls_cursor_get_u8(&c, &t) || !atls_cursor_get_u24(&c, &n)) {
        return 0;
    }
    return n > ATLS_FRAME_MAX_PAYLOAD || atls_cursor_remaining(&c) >= n;
}

atls_error atls_frame_encode(uint8_t type, const uint8_t *payload, size_t len, uint8_t **out,
                             size_t *out_len)
{
    ATLS_ENSURE(len <= ATLS_FRAME_MAX_PAYLOAD, ATLS_ERR_USAGE,
                "atls/1: payload of %zu bytes exceeds the frame limit", len);
    ATLS_GUARD(check_header(type, (uint32_t)len));
    atls_writer w;
    atls_writer_init(&w, ATLS_FRAME_HEADER_LEN + len);
    (void)(atls_writer_add_u8(&w, type) && atls_writer_add_u24(&w, (uint32_t)len) &&
           atls_writer_add_bytes(&w, payload, len));
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

atls_error atls_frame_encode_error(uint16_t code, const char *reason, uint8_t **out,
                                   size_t *out_len)
{
    size_t rlen = reason == NULL ? 0 : strlen(reason);
    if (rlen > ATLS_FRAME_ERROR_REASON_MAX) {
        rlen = ATLS_FRAME_ERROR_REASON_MAX;
        while (rlen > 0 && ((uint8_t)reason[rlen] & 0xc0) == 0x80) {
            rlen--; /* do not cut a UTF-8 sequence in half */
        }
    }
    atls_writer w;
    atls_writer_init(&w, ATLS_FRAME_HEADER_LEN + 2 + rlen);
    (void)(atls_writer_add_u8(&w, ATLS_FRAME_ERROR) && atls_writer_add_u24(&w, (uint32_t)(2 + rlen)) &&
           atls_writer_add_u16(&w, code) &&
           atls_writer_add_bytes(&w, (const uint8_t *)reason, rlen));
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

atls_error atls_frame_parse_error(const uint8_t *payload, size_t len, uint16_t *code,
                                  char *reason, size_t reason_size)
{
    atls_cursor c;
    atls_cursor_init(&c, payload, len);
    ATLS_ENSURE(reason_size > 0, ATLS_ERR_USAGE, "no room for the reason");
    ATLS_ENSURE(atls_cursor_get_u16(&c, code), ATLS_ERR_PROTOCOL_FRAME,
                "atls/1: ERROR frame without a code");
    size_t n = atls_cursor_remaining(&c);
    const uint8_t *p = atls_cursor_data(&c);
    size_t out = 0;
    for (size_t i = 0; i < n && out + 1 < reason_size; i++) {
        /* printable ASCII and UTF-8 continuation/lead bytes pass; controls become '?' so a
         * hostile reason cannot inject terminal escapes into our logs */
        reason[out++] = (p[i] >= 0x20 && p[i] != 0x7f) ? (char)p[i] : '?';
    }
    reason[out] = '\0';
    return ATLS_OK;
}
