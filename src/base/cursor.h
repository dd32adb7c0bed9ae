/*
 * cursor.h: the one bounds-checked reader for untrusted bytes (in the spirit of BoringSSL's CBS).
 *
 * A cursor is a borrowed view (pointer + length) that only ever shrinks from the front. Every
 * getter either succeeds and advances, or returns false and leaves the cursor unchanged. Nested
 * length-prefixed fields become sub-cursors, and a parser ends with atls_cursor_is_empty() on
 * each level, so "truncated", "runs past the end" and "trailing bytes" are all caught here.
 *
 * The cursor never owns memory; the bytes must outlive it. Nothing in atls casts bytes to a
 * struct: fixed layouts (SNP report, TDX quote, TPMS_ATTEST) are walked field by field.
 */
#ifndef ATLS_BASE_CURSOR_H
#define ATLS_BASE_CURSOR_H

#include <atls/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct atls_cursor {
    const uint8_t *data;
    size_t len;
} atls_cursor;

/* atls_cursor_init points |c| at |len| bytes at |data| (borrowed). |data| may be NULL iff len 0. */
void atls_cursor_init(atls_cursor *c, const uint8_t *data, size_t len);

/* atls_cursor_remaining returns how many bytes are left. */
size_t atls_cursor_remaining(const atls_cursor *c);

/* atls_cursor_data returns the current position (borrowed; NULL or dangling when empty). */
const uint8_t *atls_cursor_data(const atls_cursor *c);

/* atls_cursor_is_empty is true when every byte was consumed. */
bool atls_cursor_is_empty(const atls_cursor *c);

/* Unsigned integers, big-endian (network order, TLS and TPM). */
ATLS_MUST_CHECK bool atls_cursor_get_u8(atls_cursor *c, uint8_t *out);
ATLS_MUST_CHECK bool atls_cursor_get_u16(atls_cursor *c, uint16_t *out);
ATLS_MUST_CHECK bool atls_cursor_get_u24(atls_cursor *c, uint32_t *out);
ATLS_MUST_CHECK bool atls_cursor_get_u32(atls_cursor *c, uint32_t *out);
ATLS_MUST_CHECK bool atls_cursor_get_u64(atls_cursor *c, uint64_t *out);

/* Unsigned integers, little-endian (AMD SNP, Intel DCAP). */
ATLS_MUST_CHECK bool atls_cursor_get_u16_le(atls_cursor *c, uint16_t *out);
ATLS_MUST_CHECK bool atls_cursor_get_u32_le(atls_cursor *c, uint32_t *out);
ATLS_MUST_CHECK bool atls_cursor_get_u64_le(atls_cursor *c, uint64_t *out);

/* atls_cursor_peek_u8 reads the next byte without consuming it. */
ATLS_MUST_CHECK bool atls_cursor_peek_u8(const atls_cursor *c, uint8_t *out);

/* atls_cursor_skip consumes |n| bytes. */
ATLS_MUST_CHECK bool atls_cursor_skip(atls_cursor *c, size_t n);

/* atls_cursor_get_bytes sets |out| to the next |n| bytes (a borrowed sub-view) and consumes them. */
ATLS_MUST_CHECK bool atls_cursor_get_bytes(atls_cursor *c, atls_cursor *out, size_t n);

/* atls_cursor_copy_bytes copies the next |n| bytes into |dst| (|n| bytes of caller storage). */
ATLS_MUST_CHECK bool atls_cursor_copy_bytes(atls_cursor *c, uint8_t *dst, size_t n);

/* Length-prefixed sub-views: a big-endian u8/u16/u24 length, then that many bytes. On failure
 * (prefix truncated, or length larger than what remains) the cursor is unchanged. */
ATLS_MUST_CHECK bool atls_cursor_get_u8_prefixed(atls_cursor *c, atls_cursor *out);
ATLS_MUST_CHECK bool atls_cursor_get_u16_prefixed(atls_cursor *c, atls_cursor *out);
ATLS_MUST_CHECK bool atls_cursor_get_u24_prefixed(atls_cursor *c, atls_cursor *out);

/* atls_cursor_get_rest sets |out| to everything left and empties |c|. */
void atls_cursor_get_rest(atls_cursor *c, atls_cursor *out);

/* atls_cursor_equals is true when the remaining bytes equal |len| bytes at |data|
 * (not constant time: use CRYPTO_memcmp for secrets). */
bool atls_cursor_equals(const atls_cursor *c, const uint8_t *data, size_t len);

#endif /* ATLS_BASE_CURSOR_H */
