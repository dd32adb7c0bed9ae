/*
 * writer.h: the one growable output buffer with deferred length prefixes (cf. BoringSSL's CBB).
 *
 * atls_writer_open_u8/u16/u24 reserves a length prefix; atls_writer_close fills it in from what
 * was written since, and fails if it does not fit the prefix width. Lengths therefore can never
 * drift from contents. A writer has a size ceiling; any failure (allocation, ceiling, prefix
 * overflow, unbalanced close) is sticky: every later call fails and atls_writer_finish reports
 * it, so a chain of writes needs only one check at the end (though each call also returns it).
 *
 * Ownership: the writer owns its buffer until atls_writer_finish hands it to the caller (who
 * frees it with atls_free / free). atls_writer_cleanup wipes and frees what is still owned;
 * it is safe to call after finish and on a zeroed writer.
 */
#ifndef ATLS_BASE_WRITER_H
#define ATLS_BASE_WRITER_H

#include <atls/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATLS_WRITER_MAX_DEPTH 8
#define ATLS_WRITER_DEFAULT_MAX (16u * 1024u * 1024u)

typedef struct atls_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t max;                             /* ceiling on len */
    size_t open_at[ATLS_WRITER_MAX_DEPTH];  /* offset of each reserved prefix */
    uint8_t open_width[ATLS_WRITER_MAX_DEPTH];
    size_t depth;
    atls_error failed;                      /* sticky first failure, ATLS_OK if none */
} atls_writer;

/* atls_writer_init prepares an empty writer whose output may not exceed |max| bytes
 * (0 means ATLS_WRITER_DEFAULT_MAX). Allocates nothing yet. */
void atls_writer_init(atls_writer *w, size_t max);

/* atls_writer_cleanup wipes and frees the buffer if the writer still owns it. */
void atls_writer_cleanup(atls_writer *w);

ATLS_MUST_CHECK bool atls_writer_add_u8(atls_writer *w, uint8_t v);
ATLS_MUST_CHECK bool atls_writer_add_u16(atls_writer *w, uint16_t v);
ATLS_MUST_CHECK bool atls_writer_add_u24(atls_writer *w, uint32_t v); /* v must be < 2^24 */
ATLS_MUST_CHECK bool atls_writer_add_u32(atls_writer *w, uint32_t v);
ATLS_MUST_CHECK bool atls_writer_add_u64(atls_writer *w, uint64_t v);
ATLS_MUST_CHECK bool atls_writer_add_u16_le(atls_writer *w, uint16_t v);
ATLS_MUST_CHECK bool atls_writer_add_u32_le(atls_writer *w, uint32_t v);
ATLS_MUST_CHECK bool atls_writer_add_u64_le(atls_writer *w, uint64_t v);

/* atls_writer_add_bytes appends |len| bytes (data may be NULL iff len is 0). */
ATLS_MUST_CHECK bool atls_writer_add_bytes(atls_writer *w, const uint8_t *data, size_t len);

/* atls_writer_add_zeros appends |len| zero bytes. */
ATLS_MUST_CHECK bool atls_writer_add_zeros(atls_writer *w, size_t len);

/* atls_writer_open_u8/u16/u24 reserve a 1/2/3-byte length prefix for what follows. */
ATLS_MUST_CHECK bool atls_writer_open_u8(atls_writer *w);
ATLS_MUST_CHECK bool atls_writer_open_u16(atls_writer *w);
ATLS_MUST_CHECK bool atls_writer_open_u24(atls_writer *w);

/* atls_writer_close fills in the innermost open prefix. Fails (sticky) if the contents are
 * longer than the prefix can express or nothing is open. */
ATLS_MUST_CHECK bool atls_writer_close(atls_writer *w);

/* atls_writer_len returns the bytes written so far (including reserved prefixes). */
size_t atls_writer_len(const atls_writer *w);

/* atls_writer_data returns the bytes written so far (borrowed, valid until the next write). */
const uint8_t *atls_writer_data(const atls_writer *w);

/* atls_writer_status returns the sticky failure (ATLS_OK if none). The detail message was
 * recorded when the failure happened. */
atls_error atls_writer_status(const atls_writer *w);

/* atls_writer_finish checks that nothing failed and every prefix was closed, then moves the
 * buffer to |*out| / |*out_len| (caller frees with free()). On failure nothing is moved and
 * the writer keeps ownership. An empty result gives a non-NULL 1-byte allocation. */
ATLS_MUST_CHECK atls_error atls_writer_finish(atls_writer *w, uint8_t **out, size_t *out_len);

#endif /* ATLS_BASE_WRITER_H */
