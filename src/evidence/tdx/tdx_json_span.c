/* tdx_json_span.c: a small bounded JSON scanner that returns the exact byte span of a top-level
 * member's value. Intel signs the raw bytes of the "tcbInfo" / "enclaveIdentity" value as
 * served (PCS API v4), so it must never be re-serialised (evidence-formats.md 3.4). Grammar:
 * RFC 8259; the content itself is parsed separately with jansson (duplicates rejected). */
#include "evidence/tdx/tdx_internal.h"

#include "base/cursor.h"
#include "base/result.h"

#include <string.h>

#define MAX_DEPTH 32

static void skip_ws(atls_cursor *c)
{
    uint8_t b;
    while (atls_cursor_peek_u8(c, &b) && (b == ' ' || b == '\t' || b == '\n' || b == '\r')) {
        if (!atls_cursor_skip(c, 1)) {
            return;
        }
    }
}

/* scan_string consumes a string and sets |raw| to the bytes between the quotes. */
static int scan_string(atls_cursor *c, atls_cursor *raw)
{
    uint8_t b;
    if (!atls_cursor_get_u8(c, &b) || b != '"') {
        return 0;
    }
    const uint8_t *start = atls_cursor_data(c);
    size_t n = 0;
    for (;;) {
        if (!atls_cursor_get_u8(c, &b) || b < 0x20) {
            return 0;
        }
        if (b == '"') {
            atls_cursor_init(raw, start, n);
            return 1;
        }
        n++;
        if (b == '\\') {
            if (!atls_cursor_get_u8(c, &b)) {
                return 0;
            }
            n++;
        }
    }
}

static int skip_value(atls_cursor *c, int depth)
{
    uint8_t b;
    atls_cursor raw;
    if (depth > MAX_DEPTH || !atls_cursor_peek_u8(c, &b)) {
        return 0;
    }
    if (b == '"') {
        return scan_string(c, &raw);
    }
    if (b == '{' || b == '[') {
        uint8_t close = b == '{' ? '}' : ']';
        if (!atls_cursor_skip(c, 1)) {
            return 0;
        }
        skip_ws(c);
        if (atls_cursor_peek_u8(c, &b) && b == close) {
            return atls_cursor_skip(c, 1);
        }
        for (;;) {
            skip_ws(c);
            if (close == '}') {
                if (!scan_string(c, &raw)) {
                    return 0;
                }
                skip_ws(c);
                if (!atls_cursor_get_u8(c, &b) || b != ':') {
                    return 0;
                }
                skip_ws(c);
            }
            if (!skip_value(c, depth + 1)) {
                return 0;
            }
            skip_ws(c);
            if (!atls_cursor_get_u8(c, &b)) {
                return 0;
            }
            if (b == close) {
                return 1;
            }
            if (b != ',') {
                return 0;
            }
        }
    }
    /* number, true, false, null: a run of literal characters (jansson validates them) */
    size_t n = 0;
    while (atls_cursor_peek_u8(c, &b) &&
           ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || b == '-' || b == '+' ||
            b == '.' || b == 'E')) {
        if (!atls_cursor_skip(c, 1)) {
            return 0;
        }
        n++;
    }
    return n > 0;
}

atls_error atls_tdx_json_member_span(const uint8_t *doc, size_t len, const char *key,
                                     const uint8_t **span, size_t *span_len)
{
    atls_cursor c, raw;
    uint8_t b;
    int found = 0;
    atls_cursor_init(&c, doc, len);
    skip_ws(&c);
    ATLS_ENSURE(atls_cursor_get_u8(&c, &b) && b == '{', ATLS_ERR_EVIDENCE_COLLATERAL,
                "TDX collateral: not a JSON object");
    skip_ws(&c);
    if (atls_cursor_peek_u8(&c, &b) && b == '}') {
        ATLS_RAISE(ATLS_ERR_EVIDENCE_COLLATERAL, "TDX collateral: no \"%s\" member", key);
    }
    for (;;) {
        skip_ws(&c);
        ATLS_ENSURE(scan_string(&c, &raw), ATLS_ERR_EVIDENCE_COLLATERAL,
                    "TDX collateral: malformed member name");
        skip_ws(&c);
        ATLS_ENSURE(atls_cursor_get_u8(&c, &b) && b == ':', ATLS_ERR_EVIDENCE_COLLATERAL,
                    "TDX collateral: expected ':'");
        skip_ws(&c);
        const uint8_t *start = atls_cursor_data(&c);
        size_t before = atls_cursor_remaining(&c);
        ATLS_ENSURE(skip_value(&c, 1), ATLS_ERR_EVIDENCE_COLLATERAL,
                    "TDX collateral: malformed JSON value");
        if (atls_cursor_equals(&raw, (const uint8_t *)key, strlen(key))) {
            ATLS_ENSURE(!found, ATLS_ERR_EVIDENCE_COLLATERAL,
                        "TDX collateral: member \"%s\" appears twice", key);
            found = 1;
            *span = start;
            *span_len = before - atls_cursor_remaining(&c);
        }
        skip_ws(&c);
        ATLS_ENSURE(atls_cursor_get_u8(&c, &b) && (b == ',' || b == '}'),
                    ATLS_ERR_EVIDENCE_COLLATERAL, "TDX collateral: expected ',' or '}'");
        if (b == '}') {
            break;
        }
    }
    skip_ws(&c);
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_EVIDENCE_COLLATERAL,
                "TDX collateral: bytes after the JSON object");
    ATLS_ENSURE(found, ATLS_ERR_EVIDENCE_COLLATERAL, "TDX collateral: no \"%s\" member", key);
    return ATLS_OK;
}
