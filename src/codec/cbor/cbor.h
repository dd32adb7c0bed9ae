/*
 * cbor.h: atls's own small CBOR codec (RFC 8949), a pull decoder on the bounds-checked cursor
 * and a shortest-form encoder on the writer.
 *
 * Why in-tree: Debian 12's libcbor 0.8 rejects one-byte tags 6..20, so COSE_Sign1 (tag 18) does
 * not decode (docs: toolchain.md). atls needs only a subset, decoded strictly:
 *
 *   - Definite lengths only. Indefinite-length strings, arrays and maps (additional info 31) are
 *     rejected with ATLS_ERR_DECODE_VALUE: every format atls reads (COSE, CWT/EAT, CCA tokens,
 *     CMW) is produced with definite lengths, and RFC 8949 section 4.2.1 (deterministic
 *     encoding) forbids them.
 *   - Reserved additional information 28..30 is rejected (RFC 8949 section 3).
 *   - A declared string length or element count is compared with what remains in the input
 *     before anything else happens (an array of n items needs at least n bytes, a map 2n), so a
 *     header such as 0x5b + 2^63 fails with ATLS_ERR_DECODE_TRUNCATED and nothing is allocated
 *     (the decoder never allocates: strings are borrowed views).
 *   - Nesting is limited to ATLS_CBOR_MAX_DEPTH levels (ATLS_ERR_DECODE_TOO_LARGE).
 *   - Text strings are checked to be well-formed UTF-8 (RFC 8949 section 3.1, major type 3).
 *   - Non-shortest ("non-preferred") integer and length encodings are accepted on input; the
 *     encoder always writes the shortest form (RFC 8949 section 4.2.1), so decode then encode of
 *     a preferred encoding gives the same bytes.
 *   - Floating-point values are never returned by a reader; atls_cbor_skip steps over them (so
 *     an unknown claim holding a float does not break a parser that ignores it).
 *   - Trailing bytes after the top-level item are the caller's check (atls_cursor_is_empty).
 *
 * Every reader either succeeds and advances the cursor past the item it read, or fails, records
 * a one-line detail naming the problem and leaves the cursor unchanged.
 */
#ifndef ATLS_CBOR_CBOR_H
#define ATLS_CBOR_CBOR_H

#include "base/cursor.h"
#include "base/writer.h"

#include <atls/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ATLS_CBOR_MAX_DEPTH: how deeply arrays, maps and tags may nest inside atls_cbor_skip and
 * atls_cbor_get_item_bytes (the item itself is level 1). */
#define ATLS_CBOR_MAX_DEPTH 16

/* ATLS_CBOR_MAP_MAX_ENTRIES: the largest map atls_cbor_map_begin accepts (the iterator
 * remembers every key to reject duplicates). */
#define ATLS_CBOR_MAP_MAX_ENTRIES 64

/* The kind of the next item. Major types 0..6 map one to one; major type 7 is split. */
typedef enum atls_cbor_type {
    ATLS_CBOR_UINT = 0,   /* major 0 */
    ATLS_CBOR_NINT = 1,   /* major 1: -1 - n */
    ATLS_CBOR_BSTR = 2,   /* major 2 */
    ATLS_CBOR_TSTR = 3,   /* major 3 */
    ATLS_CBOR_ARRAY = 4,  /* major 4 */
    ATLS_CBOR_MAP = 5,    /* major 5 */
    ATLS_CBOR_TAG = 6,    /* major 6 */
    ATLS_CBOR_BOOL = 7,   /* simple 20 / 21 */
    ATLS_CBOR_NULL = 8,   /* simple 22 */
    ATLS_CBOR_OTHER = 9   /* undefined, other simple values, floats, break */
} atls_cbor_type;

/* atls_cbor_peek_type reports the kind of the next item without consuming anything. Fails
 * with ATLS_ERR_DECODE_TRUNCATED on empty input. */
ATLS_MUST_CHECK atls_error atls_cbor_peek_type(const atls_cursor *c, atls_cbor_type *out);

/* atls_cbor_read_uint reads an unsigned integer (major type 0). */
ATLS_MUST_CHECK atls_error atls_cbor_read_uint(atls_cursor *c, uint64_t *out);

/* atls_cbor_read_nint reads a negative integer (major type 1) and returns its argument n; the
 * value is -1 - n (which may not fit an int64_t). */
ATLS_MUST_CHECK atls_error atls_cbor_read_nint(atls_cursor *c, uint64_t *out_arg);

/* atls_cbor_read_int64 reads major type 0 or 1 whose value fits an int64_t
 * (ATLS_ERR_DECODE_VALUE otherwise). */
ATLS_MUST_CHECK atls_error atls_cbor_read_int64(atls_cursor *c, int64_t *out);

/* atls_cbor_read_bstr reads a byte string; |out| is a borrowed view of its contents. */
ATLS_MUST_CHECK atls_error atls_cbor_read_bstr(atls_cursor *c, atls_cursor *out);

/* atls_cbor_read_tstr reads a text string and checks it is well-formed UTF-8; |out| is a
 * borrowed view of its contents (not NUL-terminated; may contain U+0000). */
ATLS_MUST_CHECK atls_error atls_cbor_read_tstr(atls_cursor *c, atls_cursor *out);

/* atls_cbor_read_array reads an array header; the caller then reads |*count| items. */
ATLS_MUST_CHECK atls_error atls_cbor_read_array(atls_cursor *c, size_t *count);

/* atls_cbor_read_map reads a map header; the caller then reads |*count| key/value pairs.
 * Duplicate keys are not detected here: see atls_cbor_map_begin. */
ATLS_MUST_CHECK atls_error atls_cbor_read_map(atls_cursor *c, size_t *count);

/* atls_cbor_read_tag reads a tag number; the tagged item follows. */
ATLS_MUST_CHECK atls_error atls_cbor_read_tag(atls_cursor *c, uint64_t *out);

/* atls_cbor_read_bool reads false (0xf4) or true (0xf5). */
ATLS_MUST_CHECK atls_error atls_cbor_read_bool(atls_cursor *c, bool *out);

/* atls_cbor_read_null reads null (0xf6). */
ATLS_MUST_CHECK atls_error atls_cbor_read_null(atls_cursor *c);

/* atls_cbor_skip consumes one complete, well-formed item (with everything nested in it, at
 * most ATLS_CBOR_MAX_DEPTH levels). Text strings inside are UTF-8 checked. */
ATLS_MUST_CHECK atls_error atls_cbor_skip(atls_cursor *c);

/* atls_cbor_get_item_bytes consumes one complete item like atls_cbor_skip and sets |out| to its
 * exact encoded bytes (borrowed): for keeping signed bytes such as a COSE protected header. */
ATLS_MUST_CHECK atls_error atls_cbor_get_item_bytes(atls_cursor *c, atls_cursor *out);

/* atls_cbor_tstr_equals is true when a text view (from atls_cbor_read_tstr) equals the
 * NUL-terminated |s|. */
bool atls_cbor_tstr_equals(const atls_cursor *text, const char *s);

/* Map keys: atls reads only maps whose keys are integers (COSE, CWT labels) or text (CMW
 * collections, atls-private maps). */
typedef struct atls_cbor_key {
    bool is_text;
    int64_t num;       /* when !is_text */
    atls_cursor text;  /* when is_text: borrowed UTF-8 view */
} atls_cbor_key;

/* atls_cbor_read_key reads an integer (int64 range) or text key; any other type fails with
 * ATLS_ERR_DECODE_TYPE. */
ATLS_MUST_CHECK atls_error atls_cbor_read_key(atls_cursor *c, atls_cbor_key *out);

/* atls_cbor_key_equals compares two keys by value (1 and 0x18 0x01 are the same key). */
bool atls_cbor_key_equals(const atls_cbor_key *a, const atls_cbor_key *b);

/* atls_cbor_key_is_int / _is_text: convenience tests against one label. */
bool atls_cbor_key_is_int(const atls_cbor_key *k, int64_t label);
bool atls_cbor_key_is_text(const atls_cbor_key *k, const char *label);

/* A map iterator that rejects duplicate keys (RFC 8949 section 5.6: a map with duplicate keys
 * is not valid; atls treats it as malformed so two parsers cannot see different values).
 *
 *   atls_cbor_map_iter it;
 *   ATLS_GUARD(atls_cbor_map_begin(&c, &it));
 *   while (atls_cbor_map_has_next(&it)) {
 *       atls_cbor_key k;
 *       ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
 *       ... read or skip exactly one value ...
 *   }
 *
 * Key views borrow the input. Zero-size state is on the caller's stack (about 2 KiB). */
typedef struct atls_cbor_map_iter {
    size_t count;
    size_t index;
    atls_cbor_key seen[ATLS_CBOR_MAP_MAX_ENTRIES];
} atls_cbor_map_iter;

/* atls_cbor_map_begin reads a map header (at most ATLS_CBOR_MAP_MAX_ENTRIES entries,
 * ATLS_ERR_DECODE_TOO_LARGE otherwise) and prepares |it|. */
ATLS_MUST_CHECK atls_error atls_cbor_map_begin(atls_cursor *c, atls_cbor_map_iter *it);

/* atls_cbor_map_has_next is true while keys remain. */
bool atls_cbor_map_has_next(const atls_cbor_map_iter *it);

/* atls_cbor_map_next_key reads the next key (atls_cbor_read_key) and fails with
 * ATLS_ERR_DECODE_VALUE if it repeats an earlier key of the same map. */
ATLS_MUST_CHECK atls_error atls_cbor_map_next_key(atls_cursor *c, atls_cbor_map_iter *it,
                                                  atls_cbor_key *out);

/* atls_cbor_is_deterministic checks that one complete item at |c| (not consumed) uses only
 * preferred (shortest) argument encodings and that every map's keys are in the bytewise
 * lexicographic order of their encodings without duplicates (RFC 8949 section 4.2.1). Returns
 * ATLS_OK, or ATLS_ERR_DECODE_VALUE naming the first violation (or the decode error). */
ATLS_MUST_CHECK atls_error atls_cbor_check_deterministic(const atls_cursor *c);

/*
 * Encoder. Every writer function appends one item (or header) in its shortest form and
 * returns false on failure; the writer's failure is sticky, so a chain of puts may be checked
 * once with atls_writer_finish / atls_writer_status.
 */
ATLS_MUST_CHECK bool atls_cbor_put_uint(atls_writer *w, uint64_t v);
/* atls_cbor_put_int writes major type 0 for v >= 0, else major type 1. */
ATLS_MUST_CHECK bool atls_cbor_put_int(atls_writer *w, int64_t v);
/* atls_cbor_put_nint writes the negative integer -1 - arg. */
ATLS_MUST_CHECK bool atls_cbor_put_nint(atls_writer *w, uint64_t arg);
ATLS_MUST_CHECK bool atls_cbor_put_bstr(atls_writer *w, const uint8_t *data, size_t len);
/* atls_cbor_put_tstr writes a NUL-terminated string; _len writes |len| bytes. Neither checks
 * UTF-8 (atls only writes its own ASCII and text it already validated). */
ATLS_MUST_CHECK bool atls_cbor_put_tstr(atls_writer *w, const char *s);
ATLS_MUST_CHECK bool atls_cbor_put_tstr_len(atls_writer *w, const char *s, size_t len);
ATLS_MUST_CHECK bool atls_cbor_put_array(atls_writer *w, uint64_t count);
ATLS_MUST_CHECK bool atls_cbor_put_map(atls_writer *w, uint64_t count);
ATLS_MUST_CHECK bool atls_cbor_put_tag(atls_writer *w, uint64_t tag);
ATLS_MUST_CHECK bool atls_cbor_put_bool(atls_writer *w, bool v);
ATLS_MUST_CHECK bool atls_cbor_put_null(atls_writer *w);
/* atls_cbor_put_raw appends bytes that already hold encoded items (not checked). */
ATLS_MUST_CHECK bool atls_cbor_put_raw(atls_writer *w, const uint8_t *data, size_t len);

#endif /* ATLS_CBOR_CBOR_H */
