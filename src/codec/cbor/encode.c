/* encode.c: the shortest-form encoder of cbor.h (RFC 8949 section 4.2.1: preferred
 * serialization, definite lengths only). */
#include "codec/cbor/cbor.h"

#include <string.h>

/* put_head writes an initial byte for |major| and |arg| in the fewest bytes. */
static bool put_head(atls_writer *w, uint8_t major, uint64_t arg)
{
    uint8_t mt = (uint8_t)(major << 5);
    if (arg < 24) {
        return atls_writer_add_u8(w, (uint8_t)(mt | arg));
    }
    if (arg <= 0xff) {
        return atls_writer_add_u8(w, (uint8_t)(mt | 24)) && atls_writer_add_u8(w, (uint8_t)arg);
    }
    if (arg <= 0xffff) {
        return atls_writer_add_u8(w, (uint8_t)(mt | 25)) &&
               atls_writer_add_u16(w, (uint16_t)arg);
    }
    if (arg <= 0xffffffffu) {
        return atls_writer_add_u8(w, (uint8_t)(mt | 26)) &&
               atls_writer_add_u32(w, (uint32_t)arg);
    }
    return atls_writer_add_u8(w, (uint8_t)(mt | 27)) && atls_writer_add_u64(w, arg);
}

bool atls_cbor_put_uint(atls_writer *w, uint64_t v)
{
    return put_head(w, 0, v);
}

bool atls_cbor_put_nint(atls_writer *w, uint64_t arg)
{
    return put_head(w, 1, arg);
}

bool atls_cbor_put_int(atls_writer *w, int64_t v)
{
    if (v >= 0) {
        return put_head(w, 0, (uint64_t)v);
    }
    /* -1 - v without overflow: for v = INT64_MIN this is INT64_MAX. */
    return put_head(w, 1, (uint64_t)(-(v + 1)));
}

bool atls_cbor_put_bstr(atls_writer *w, const uint8_t *data, size_t len)
{
    return put_head(w, 2, len) && atls_writer_add_bytes(w, data, len);
}

bool atls_cbor_put_tstr_len(atls_writer *w, const char *s, size_t len)
{
    return put_head(w, 3, len) && atls_writer_add_bytes(w, (const uint8_t *)s, len);
}

bool atls_cbor_put_tstr(atls_writer *w, const char *s)
{
    return atls_cbor_put_tstr_len(w, s, strlen(s));
}

bool atls_cbor_put_array(atls_writer *w, uint64_t count)
{
    return put_head(w, 4, count);
}

bool atls_cbor_put_map(atls_writer *w, uint64_t count)
{
    return put_head(w, 5, count);
}

bool atls_cbor_put_tag(atls_writer *w, uint64_t tag)
{
    return put_head(w, 6, tag);
}

bool atls_cbor_put_bool(atls_writer *w, bool v)
{
    return atls_writer_add_u8(w, v ? 0xf5 : 0xf4);
}

bool atls_cbor_put_null(atls_writer *w)
{
    return atls_writer_add_u8(w, 0xf6);
}

bool atls_cbor_put_raw(atls_writer *w, const uint8_t *data, size_t len)
{
    return atls_writer_add_bytes(w, data, len);
}
