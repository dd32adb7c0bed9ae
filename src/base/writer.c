/* writer.c: growable buffer with deferred length prefixes (writer.h). */
#include "base/writer.h"

#include "base/mem.h"
#include "base/result.h"

#include <stdlib.h>
#include <string.h>

void atls_writer_init(atls_writer *w, size_t max)
{
    memset(w, 0, sizeof(*w));
    w->max = max == 0 ? ATLS_WRITER_DEFAULT_MAX : max;
}

void atls_writer_cleanup(atls_writer *w)
{
    if (w->buf != NULL) {
        atls_wipe(w->buf, w->cap);
        free(w->buf);
    }
    w->buf = NULL;
    w->len = w->cap = 0;
    w->depth = 0;
}

static bool fail(atls_writer *w, atls_error code, const char *what)
{
    if (w->failed == ATLS_OK) {
        w->failed = atls_error_raise(code, __FILE__, __LINE__, "writer: %s", what);
    }
    return false;
}

/* reserve makes room for |n| more bytes and returns where they go. */
static uint8_t *reserve(atls_writer *w, size_t n)
{
    if (w->failed != ATLS_OK) {
        return NULL;
    }
    if (n > w->max || w->len > w->max - n) {
        fail(w, ATLS_ERR_DECODE_TOO_LARGE, "output exceeds its size ceiling");
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap == 0 ? 64 : w->cap;
        while (cap < w->len + n) {
            cap = cap > w->max / 2 ? w->max : cap * 2;
        }
        uint8_t *nb = malloc(cap);
        if (nb == NULL) {
            fail(w, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
            return NULL;
        }
        /* copy and wipe instead of realloc so no secret is left behind in freed memory */
        if (w->buf != NULL) {
            memcpy(nb, w->buf, w->len);
            atls_wipe(w->buf, w->cap);
            free(w->buf);
        }
        w->buf = nb;
        w->cap = cap;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

static bool add_be(atls_writer *w, uint64_t v, size_t n)
{
    uint8_t *p = reserve(w, n);
    if (p == NULL) {
        return false;
    }
    for (size_t i = n; i > 0; i--) {
        p[i - 1] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    return true;
}

static bool add_le(atls_writer *w, uint64_t v, size_t n)
{
    uint8_t *p = reserve(w, n);
    if (p == NULL) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    return true;
}

bool atls_writer_add_u8(atls_writer *w, uint8_t v) { return add_be(w, v, 1); }
bool atls_writer_add_u16(atls_writer *w, uint16_t v) { return add_be(w, v, 2); }
bool atls_writer_add_u32(atls_writer *w, uint32_t v) { return add_be(w, v, 4); }
bool atls_writer_add_u64(atls_writer *w, uint64_t v) { return add_be(w, v, 8); }
bool atls_writer_add_u16_le(atls_writer *w, uint16_t v) { return add_le(w, v, 2); }
bool atls_writer_add_u32_le(atls_writer *w, uint32_t v) { return add_le(w, v, 4); }
bool atls_writer_add_u64_le(atls_writer *w, uint64_t v) { return add_le(w, v, 8); }

bool atls_writer_add_u24(atls_writer *w, uint32_t v)
{
    if (v > 0xffffffu) {
        return fail(w, ATLS_ERR_USAGE, "u24 value out of range");
    }
    return add_be(w, v, 3);
}

bool atls_writer_add_bytes(atls_writer *w, const uint8_t *data, size_t len)
{
    if (len == 0) {
        return w->failed == ATLS_OK;
    }
    uint8_t *p = reserve(w, len);
    if (p == NULL) {
        return false;
    }
    memcpy(p, data, len);
    return true;
}

bool atls_writer_add_zeros(atls_writer *w, size_t len)
{
    if (len == 0) {
        return w->failed == ATLS_OK;
    }
    uint8_t *p = reserve(w, len);
    if (p == NULL) {
        return false;
    }
    memset(p, 0, len);
    return true;
}

static bool open_prefix(atls_writer *w, uint8_t width)
{
    if (w->failed != ATLS_OK) {
        return false;
    }
    if (w->depth >= ATLS_WRITER_MAX_DEPTH) {
        return fail(w, ATLS_ERR_INTERNAL, "length prefixes nested too deeply");
    }
    size_t at = w->len;
    if (reserve(w, width) == NULL) {
        return false;
    }
    w->open_at[w->depth] = at;
    w->open_width[w->depth] = width;
    w->depth++;
    return true;
}

bool atls_writer_open_u8(atls_writer *w) { return open_prefix(w, 1); }
bool atls_writer_open_u16(atls_writer *w) { return open_prefix(w, 2); }
bool atls_writer_open_u24(atls_writer *w) { return open_prefix(w, 3); }

bool atls_writer_close(atls_writer *w)
{
    if (w->failed != ATLS_OK) {
        return false;
    }
    if (w->depth == 0) {
        return fail(w, ATLS_ERR_INTERNAL, "close without an open length prefix");
    }
    w->depth--;
    size_t at = w->open_at[w->depth];
    size_t width = w->open_width[w->depth];
    size_t content = w->len - at - width;
    if (content >> (8 * width) != 0) {
        return fail(w, ATLS_ERR_DECODE_LENGTH, "contents too long for their length prefix");
    }
    for (size_t i = width; i > 0; i--) {
        w->buf[at + i - 1] = (uint8_t)(content & 0xff);
        content >>= 8;
    }
    return true;
}

size_t atls_writer_len(const atls_writer *w)
{
    return w->len;
}

const uint8_t *atls_writer_data(const atls_writer *w)
{
    return w->buf;
}

atls_error atls_writer_status(const atls_writer *w)
{
    return w->failed;
}

atls_error atls_writer_finish(atls_writer *w, uint8_t **out, size_t *out_len)
{
    if (w->failed != ATLS_OK) {
        return w->failed;
    }
    ATLS_ENSURE(w->depth == 0, ATLS_ERR_INTERNAL, "writer: %zu length prefix(es) left open",
                w->depth);
    if (w->buf == NULL) {
        w->buf = malloc(1);
        ATLS_ENSURE(w->buf != NULL, ATLS_ERR_INTERNAL_ALLOC, "writer: out of memory");
        w->cap = 1;
    }
    *out = w->buf;
    *out_len = w->len;
    w->buf = NULL;
    w->len = w->cap = 0;
    return ATLS_OK;
}
