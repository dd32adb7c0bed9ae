/* decode.c: the pull decoder of cbor.h (RFC 8949 sections 3 and 4.2). One function, read_head,
 * decodes an initial byte and its argument; every reader is built on it and works on a copy of
 * the cursor that is committed only on success. */
#include "codec/cbor/cbor.h"

#include "base/result.h"

#include <string.h>

/* An item head: major type (0..7), additional information (0..27) and the argument. */
typedef struct head {
    uint8_t major;
    uint8_t ai;
    uint64_t arg;
} head;

static const char *const major_names[8] = {"unsigned integer", "negative integer", "byte string",
                                           "text string",      "array",            "map",
                                           "tag",              "simple/float"};

/* read_head: RFC 8949 section 3: initial byte = major type (3 bits) + additional info (5 bits);
 * 24..27 mean a 1/2/4/8-byte big-endian argument follows; 28..30 are reserved; 31 means
 * indefinite length (or "break" in major type 7), which atls does not accept. */
static atls_error read_head(atls_cursor *c, head *h)
{
    atls_cursor t = *c;
    uint8_t ib;
    ATLS_ENSURE(atls_cursor_get_u8(&t, &ib), ATLS_ERR_DECODE_TRUNCATED,
                "CBOR: input ends where an item was expected");
    h->major = (uint8_t)(ib >> 5);
    h->ai = (uint8_t)(ib & 0x1f);
    bool ok = true;
    if (h->ai < 24) {
        h->arg = h->ai;
    } else if (h->ai == 24) {
        uint8_t v;
        ok = atls_cursor_get_u8(&t, &v);
        h->arg = v;
    } else if (h->ai == 25) {
        uint16_t v;
        ok = atls_cursor_get_u16(&t, &v);
        h->arg = v;
    } else if (h->ai == 26) {
        uint32_t v;
        ok = atls_cursor_get_u32(&t, &v);
        h->arg = v;
    } else if (h->ai == 27) {
        ok = atls_cursor_get_u64(&t, &h->arg);
    } else if (h->ai == 31) {
        if (h->major == 7) {
            ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "CBOR: unexpected break (0xff) outside an "
                                              "indefinite-length item");
        }
        ATLS_RAISE(ATLS_ERR_DECODE_VALUE,
                   "CBOR: indefinite-length %s is not supported (definite lengths only)",
                   major_names[h->major]);
    } else {
        ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "CBOR: reserved additional information %u in %s head",
                   (unsigned)h->ai, major_names[h->major]);
    }
    ATLS_ENSURE(ok, ATLS_ERR_DECODE_TRUNCATED, "CBOR: %s head truncated",
                major_names[h->major]);
    /* RFC 8949 section 3.3: a two-byte simple value below 32 is not well-formed. */
    ATLS_ENSURE(!(h->major == 7 && h->ai == 24 && h->arg < 32), ATLS_ERR_DECODE_VALUE,
                "CBOR: simple value %u encoded in two bytes", (unsigned)h->arg);
    *c = t;
    return ATLS_OK;
}

/* expect_head reads a head of major type |major| (ATLS_ERR_DECODE_TYPE otherwise). */
static atls_error expect_head(atls_cursor *c, uint8_t major, head *h)
{
    atls_cursor t = *c;
    ATLS_GUARD(read_head(&t, h));
    ATLS_ENSURE(h->major == major, ATLS_ERR_DECODE_TYPE, "CBOR: expected %s, found %s",
                major_names[major], major_names[h->major]);
    *c = t;
    return ATLS_OK;
}

atls_error atls_cbor_peek_type(const atls_cursor *c, atls_cbor_type *out)
{
    uint8_t ib;
    ATLS_ENSURE(atls_cursor_peek_u8(c, &ib), ATLS_ERR_DECODE_TRUNCATED,
                "CBOR: input ends where an item was expected");
    uint8_t major = (uint8_t)(ib >> 5);
    if (major < 7) {
        *out = (atls_cbor_type)major;
    } else if (ib == 0xf4 || ib == 0xf5) {
        *out = ATLS_CBOR_BOOL;
    } else if (ib == 0xf6) {
        *out = ATLS_CBOR_NULL;
    } else {
        *out = ATLS_CBOR_OTHER;
    }
    return ATLS_OK;
}

atls_error atls_cbor_read_uint(atls_cursor *c, uint64_t *out)
{
    head h;
    ATLS_GUARD(expect_head(c, 0, &h));
    *out = h.arg;
    return ATLS_OK;
}

atls_error atls_cbor_read_nint(atls_cursor *c, uint64_t *out_arg)
{
    head h;
    ATLS_GUARD(expect_head(c, 1, &h));
    *out_arg = h.arg;
    return ATLS_OK;
}

atls_error atls_cbor_read_int64(atls_cursor *c, int64_t *out)
{
    atls_cursor t = *c;
    head h;
    ATLS_GUARD(read_head(&t, &h));
    ATLS_ENSURE(h.major == 0 || h.major == 1, ATLS_ERR_DECODE_TYPE,
                "CBOR: expected an integer, found %s", major_names[h.major]);
    ATLS_ENSURE(h.arg <= (uint64_t)INT64_MAX, ATLS_ERR_DECODE_VALUE,
                "CBOR: integer does not fit 64 signed bits");
    /* major 1 encodes -1 - arg; with arg <= INT64_MAX the result is >= INT64_MIN. */
    *out = h.major == 0 ? (int64_t)h.arg : -1 - (int64_t)h.arg;
    *c = t;
    return ATLS_OK;
}

/* utf8_valid: RFC 3629 section 4 (shortest forms only, no surrogates, at most U+10FFFF). */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (b >= 0xc2 && b <= 0xdf) {
            extra = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
            extra = 2;
            if (b == 0xe0) {
                lo = 0xa0; /* overlong */
            } else if (b == 0xed) {
                hi = 0x9f; /* surrogates */
            }
        } else if (b >= 0xf0 && b <= 0xf4) {
            extra = 3;
            if (b == 0xf0) {
                lo = 0x90; /* overlong */
            } else if (b == 0xf4) {
                hi = 0x8f; /* above U+10FFFF */
            }
        } else {
            return false;
        }
        if (n - i - 1 < extra) {
            return false;
        }
        if (p[i + 1] < lo || p[i + 1] > hi) {
            return false;
        }
        for (size_t k = 2; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += extra + 1;
    }
    return true;
}

/* read_string: the contents of a byte or text string, length checked against what remains. */
static atls_error read_string(atls_cursor *c, uint8_t major, atls_cursor *out)
{
    atls_cursor t = *c;
    head h;
    ATLS_GUARD(expect_head(&t, major, &h));
    ATLS_ENSURE(h.arg <= atls_cursor_remaining(&t), ATLS_ERR_DECODE_TRUNCATED,
                "CBOR: %s length %llu runs past the end of the input (%zu bytes left)",
                major_names[major], (unsigned long long)h.arg, atls_cursor_remaining(&t));
    atls_cursor s;
    ATLS_ENSURE(atls_cursor_get_bytes(&t, &s, (size_t)h.arg), ATLS_ERR_DECODE_TRUNCATED,
                "CBOR: %s truncated", major_names[major]);
    ATLS_ENSURE(major != 3 || utf8_valid(atls_cursor_data(&s), atls_cursor_remaining(&s)),
                ATLS_ERR_DECODE_VALUE, "CBOR: text string is not valid UTF-8");
    *out = s;
    *c = t;
    return ATLS_OK;
}

atls_error atls_cbor_read_bstr(atls_cursor *c, atls_cursor *out)
{
    return read_string(c, 2, out);
}

atls_error atls_cbor_read_tstr(atls_cursor *c, atls_cursor *out)
{
    return read_string(c, 3, out);
}

/* read_container: an array or map header whose count is plausible for the bytes left (every
 * item takes at least one byte), so a caller may size things by it. */
static atls_error read_container(atls_cursor *c, uint8_t major, size_t *count)
{
    atls_cursor t = *c;
    head h;
    ATLS_GUARD(expect_head(&t, major, &h));
    uint64_t per = major == 5 ? 2 : 1;
    ATLS_ENSURE(h.arg <= atls_cursor_remaining(&t) / per, ATLS_ERR_DECODE_TRUNCATED,
                "CBOR: %s of %llu entries cannot fit the %zu bytes left", major_names[major],
                (unsigned long long)h.arg, atls_cursor_remaining(&t));
    *count = (size_t)h.arg;
    *c = t;
    return ATLS_OK;
}

atls_error atls_cbor_read_array(atls_cursor *c, size_t *count)
{
    return read_container(c, 4, count);
}

atls_error atls_cbor_read_map(atls_cursor *c, size_t *count)
{
    return read_container(c, 5, count);
}

atls_error atls_cbor_read_tag(atls_cursor *c, uint64_t *out)
{
    head h;
    ATLS_GUARD(expect_head(c, 6, &h));
    *out = h.arg;
    return ATLS_OK;
}

atls_error atls_cbor_read_bool(atls_cursor *c, bool *out)
{
    uint8_t ib;
    ATLS_ENSURE(atls_cursor_peek_u8(c, &ib), ATLS_ERR_DECODE_TRUNCATED,
                "CBOR: input ends where a boolean was expected");
    ATLS_ENSURE(ib == 0xf4 || ib == 0xf5, ATLS_ERR_DECODE_TYPE,
                "CBOR: expected a boolean, found initial byte 0x%02x", ib);
    *out = ib == 0xf5;
    return atls_cursor_skip(c, 1) ? ATLS_OK : ATLS_ERR_INTERNAL;
}

atls_error atls_cbor_read_null(atls_cursor *c)
{
    uint8_t ib;
    ATLS_ENSURE(atls_cursor_peek_u8(c, &ib), ATLS_ERR_DECODE_TRUNCATED,
                "CBOR: input ends where null was expected");
    ATLS_ENSURE(ib == 0xf6, ATLS_ERR_DECODE_TYPE,
                "CBOR: expected null, found initial byte 0x%02x", ib);
    return atls_cursor_skip(c, 1) ? ATLS_OK : ATLS_ERR_INTERNAL;
}

/* preferred: RFC 8949 section 4.2.1: the argument uses the shortest head that holds it. */
static bool preferred(const head *h)
{
    switch (h->ai) {
    case 24:
        return h->arg >= 24;
    case 25:
        return h->arg > 0xff;
    case 26:
        return h->arg > 0xffff;
    case 27:
        return h->arg > 0xffffffffu;
    default:
        return true;
    }
}

/* key_before: bytewise lexicographic order of encoded keys (RFC 8949 section 4.2.1). */
static bool key_before(const atls_cursor *a, const atls_cursor *b)
{
    size_t la = atls_cursor_remaining(a), lb = atls_cursor_remaining(b);
    size_t n = la < lb ? la : lb;
    int r = n == 0 ? 0 : memcmp(atls_cursor_data(a), atls_cursor_data(b), n);
    return r < 0 || (r == 0 && la < lb);
}

/* walk: consume one complete item, nested at most ATLS_CBOR_MAX_DEPTH levels; when |strict|,
 * also enforce the deterministic encoding rules. */
static atls_error walk(atls_cursor *c, unsigned depth, bool strict)
{
    ATLS_ENSURE(depth <= ATLS_CBOR_MAX_DEPTH, ATLS_ERR_DECODE_TOO_LARGE,
                "CBOR: items nested deeper than %d levels", ATLS_CBOR_MAX_DEPTH);
    atls_cursor t = *c;
    head h;
    ATLS_GUARD(read_head(&t, &h));
    if (strict && h.major != 7) {
        ATLS_ENSURE(preferred(&h), ATLS_ERR_DECODE_VALUE,
                    "CBOR: %s head is not in its shortest (preferred) form",
                    major_names[h.major]);
    }
    switch (h.major) {
    case 0:
    case 1:
    case 7: /* simple values and floats: the head is the whole item */
        break;
    case 2:
    case 3: {
        atls_cursor s;
        t = *c;
        ATLS_GUARD(read_string(&t, h.major, &s));
        break;
    }
    case 4:
    case 5: {
        atls_cursor again = *c;
        size_t n = 0;
        ATLS_GUARD(read_container(&again, h.major, &n));
        t = again;
        atls_cursor prev_key = {NULL, 0};
        for (size_t i = 0; i < n; i++) {
            if (h.major == 5) {
                atls_cursor key_start = t;
                ATLS_GUARD(walk(&t, depth + 1, strict));
                atls_cursor key;
                atls_cursor_init(&key, atls_cursor_data(&key_start),
                                 atls_cursor_remaining(&key_start) - atls_cursor_remaining(&t));
                if (strict && i > 0) {
                    ATLS_ENSURE(key_before(&prev_key, &key), ATLS_ERR_DECODE_VALUE,
                                "CBOR: map keys are not in deterministic order (or repeat)");
                }
                prev_key = key;
            }
            ATLS_GUARD(walk(&t, depth + 1, strict));
        }
        break;
    }
    case 6:
        ATLS_GUARD(walk(&t, depth + 1, strict));
        break;
    default:
        ATLS_RAISE(ATLS_ERR_INTERNAL, "CBOR: impossible major type");
    }
    *c = t;
    return ATLS_OK;
}

atls_error atls_cbor_skip(atls_cursor *c)
{
    return walk(c, 1, false);
}

atls_error atls_cbor_get_item_bytes(atls_cursor *c, atls_cursor *out)
{
    atls_cursor t = *c;
    ATLS_GUARD(walk(&t, 1, false));
    atls_cursor_init(out, atls_cursor_data(c),
                     atls_cursor_remaining(c) - atls_cursor_remaining(&t));
    *c = t;
    return ATLS_OK;
}

atls_error atls_cbor_check_deterministic(const atls_cursor *c)
{
    atls_cursor t = *c;
    return walk(&t, 1, true);
}

bool atls_cbor_tstr_equals(const atls_cursor *text, const char *s)
{
    return atls_cursor_equals(text, (const uint8_t *)s, strlen(s));
}

atls_error atls_cbor_read_key(atls_cursor *c, atls_cbor_key *out)
{
    atls_cbor_type type = ATLS_CBOR_OTHER;
    ATLS_GUARD(atls_cbor_peek_type(c, &type));
    if (type == ATLS_CBOR_TSTR) {
        out->is_text = true;
        out->num = 0;
        return atls_cbor_read_tstr(c, &out->text);
    }
    ATLS_ENSURE(type == ATLS_CBOR_UINT || type == ATLS_CBOR_NINT, ATLS_ERR_DECODE_TYPE,
                "CBOR: map key is neither an integer nor a text string");
    out->is_text = false;
    atls_cursor_init(&out->text, NULL, 0);
    return atls_cbor_read_int64(c, &out->num);
}

bool atls_cbor_key_equals(const atls_cbor_key *a, const atls_cbor_key *b)
{
    if (a->is_text != b->is_text) {
        return false;
    }
    if (!a->is_text) {
        return a->num == b->num;
    }
    return atls_cursor_equals(&a->text, atls_cursor_data(&b->text),
                              atls_cursor_remaining(&b->text));
}

bool atls_cbor_key_is_int(const atls_cbor_key *k, int64_t label)
{
    return !k->is_text && k->num == label;
}

bool atls_cbor_key_is_text(const atls_cbor_key *k, const char *label)
{
    return k->is_text && atls_cbor_tstr_equals(&k->text, label);
}

atls_error atls_cbor_map_begin(atls_cursor *c, atls_cbor_map_iter *it)
{
    atls_cursor t = *c;
    size_t n = 0;
    ATLS_GUARD(atls_cbor_read_map(&t, &n));
    ATLS_ENSURE(n <= ATLS_CBOR_MAP_MAX_ENTRIES, ATLS_ERR_DECODE_TOO_LARGE,
                "CBOR: map of %zu entries exceeds the limit of %d", n,
                ATLS_CBOR_MAP_MAX_ENTRIES);
    it->count = n;
    it->index = 0;
    *c = t;
    return ATLS_OK;
}

bool atls_cbor_map_has_next(const atls_cbor_map_iter *it)
{
    return it->index < it->count;
}

atls_error atls_cbor_map_next_key(atls_cursor *c, atls_cbor_map_iter *it, atls_cbor_key *out)
{
    ATLS_ENSURE(it->index < it->count && it->index < ATLS_CBOR_MAP_MAX_ENTRIES,
                ATLS_ERR_USAGE_STATE, "CBOR: no map entries left to read");
    atls_cursor t = *c;
    atls_cbor_key k;
    ATLS_GUARD(atls_cbor_read_key(&t, &k));
    for (size_t i = 0; i < it->index; i++) {
        if (atls_cbor_key_equals(&it->seen[i], &k)) {
            if (k.is_text) {
                ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "CBOR: duplicate map key \"%.*s\"",
                           (int)(atls_cursor_remaining(&k.text) > 64
                                     ? 64
                                     : atls_cursor_remaining(&k.text)),
                           (const char *)atls_cursor_data(&k.text));
            }
            ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "CBOR: duplicate map key %lld", (long long)k.num);
        }
    }
    it->seen[it->index++] = k;
    *out = k;
    *c = t;
    return ATLS_OK;
}
