/* cursor.c: bounds-checked reader (cursor.h). One function, take(), checks remaining length;
 * every other getter is built on it so bounds are enforced in exactly one place. */
#include "base/cursor.h"

#include <string.h>

void atls_cursor_init(atls_cursor *c, const uint8_t *data, size_t len)
{
    c->data = data;
    c->len = data == NULL ? 0 : len;
}

size_t atls_cursor_remaining(const atls_cursor *c)
{
    return c->len;
}

const uint8_t *atls_cursor_data(const atls_cursor *c)
{
    return c->data;
}

bool atls_cursor_is_empty(const atls_cursor *c)
{
    return c->len == 0;
}

/* take: the single bounds check. On success |*out| points at n bytes that were consumed. */
static bool take(atls_cursor *c, const uint8_t **out, size_t n)
{
    if (c->len < n) {
        return false;
    }
    *out = c->data;
    if (n > 0) { /* no arithmetic on a NULL view (UB even with offset 0) */
        c->data += n;
        c->len -= n;
    }
    return true;
}

static bool get_be(atls_cursor *c, uint64_t *out, size_t n)
{
    const uint8_t *p;
    if (!take(c, &p, n)) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    *out = v;
    return true;
}

static bool get_le(atls_cursor *c, uint64_t *out, size_t n)
{
    const uint8_t *p;
    if (!take(c, &p, n)) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--) {
        v = (v << 8) | p[i - 1];
    }
    *out = v;
    return true;
}

bool atls_cursor_get_u8(atls_cursor *c, uint8_t *out)
{
    uint64_t v;
    if (!get_be(c, &v, 1)) {
        return false;
    }
    *out = (uint8_t)v;
    return true;
}

bool atls_cursor_get_u16(atls_cursor *c, uint16_t *out)
{
    uint64_t v;
    if (!get_be(c, &v, 2)) {
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

bool atls_cursor_get_u24(atls_cursor *c, uint32_t *out)
{
    uint64_t v;
    if (!get_be(c, &v, 3)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool atls_cursor_get_u32(atls_cursor *c, uint32_t *out)
{
    uint64_t v;
    if (!get_be(c, &v, 4)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool atls_cursor_get_u64(atls_cursor *c, uint64_t *out)
{
    return get_be(c, out, 8);
}

bool atls_cursor_get_u16_le(atls_cursor *c, uint16_t *out)
{
    uint64_t v;
    if (!get_le(c, &v, 2)) {
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

bool atls_cursor_get_u32_le(atls_cursor *c, uint32_t *out)
{
    uint64_t v;
    if (!get_le(c, &v, 4)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool atls_cursor_get_u64_le(atls_cursor *c, uint64_t *out)
{
    return get_le(c, out, 8);
}

bool atls_cursor_peek_u8(const atls_cursor *c, uint8_t *out)
{
    if (c->len < 1) {
        return false;
    }
    *out = c->data[0];
    return true;
}

bool atls_cursor_skip(atls_cursor *c, size_t n)
{
    const uint8_t *p;
    return take(c, &p, n);
}

bool atls_cursor_get_bytes(atls_cursor *c, atls_cursor *out, size_t n)
{
    const uint8_t *p;
    if (!take(c, &p, n)) {
        return false;
    }
    out->data = p;
    out->len = n;
    return true;
}

bool atls_cursor_copy_bytes(atls_cursor *c, uint8_t *dst, size_t n)
{
    const uint8_t *p;
    if (!take(c, &p, n)) {
        return false;
    }
    if (n > 0) {
        memcpy(dst, p, n);
    }
    return true;
}

/* get_prefixed reads an |width|-byte length and that many bytes; restores |c| on failure so a
 * failed call never leaves a half-consumed prefix behind. */
static bool get_prefixed(atls_cursor *c, atls_cursor *out, size_t width)
{
    atls_cursor saved = *c;
    uint64_t n;
    if (!get_be(c, &n, width) || !atls_cursor_get_bytes(c, out, (size_t)n)) {
        *c = saved;
        return false;
    }
    return true;
}

bool atls_cursor_get_u8_prefixed(atls_cursor *c, atls_cursor *out)
{
    return get_prefixed(c, out, 1);
}

bool atls_cursor_get_u16_prefixed(atls_cursor *c, atls_cursor *out)
{
    return get_prefixed(c, out, 2);
}

bool atls_cursor_get_u24_prefixed(atls_cursor *c, atls_cursor *out)
{
    return get_prefixed(c, out, 3);
}

void atls_cursor_get_rest(atls_cursor *c, atls_cursor *out)
{
    *out = *c;
    if (c->len > 0) {
        c->data += c->len;
        c->len = 0;
    }
}

bool atls_cursor_equals(const atls_cursor *c, const uint8_t *data, size_t len)
{
    return c->len == len && (len == 0 || memcmp(c->data, data, len) == 0);
}
