/* cmw_decode.c: form detection and the CBOR record / collection decoder of cmw.h
 * (draft-ietf-rats-msg-wrap-23 sections 3 and 4). */
#include "codec/cmw/cmw.h"

#include "base/result.h"

#include <stdio.h>
#include <string.h>

atls_error atls_cmw_detect_form(const uint8_t *data, size_t len, atls_cmw_form *out)
{
    ATLS_ENSURE(data != NULL && len > 0, ATLS_ERR_DECODE_TRUNCATED, "CMW: empty input");
    uint8_t b = data[0];
    /* protocol-notes 3.3: the first byte of each form */
    if (b == 0x82 || b == 0x83 || b == 0x9f) {
        *out = ATLS_CMW_FORM_CBOR_RECORD;
    } else if ((b >= 0xa0 && b <= 0xbb) || b == 0xbf) {
        *out = ATLS_CMW_FORM_CBOR_COLLECTION;
    } else if (b == 0xda) {
        *out = ATLS_CMW_FORM_CBOR_TAGGED;
    } else if (b == '[') {
        *out = ATLS_CMW_FORM_JSON_RECORD;
    } else if (b == '{') {
        *out = ATLS_CMW_FORM_JSON_COLLECTION;
    } else if (b >= 0xc0 && b <= 0xdb) {
        ATLS_RAISE(ATLS_ERR_EVIDENCE_FORMAT,
                   "CMW: first byte 0x%02x is a CBOR tag outside the CMW range (a bare token, "
                   "e.g. CCA tag 399, must be wrapped in a CMW record)",
                   b);
    } else {
        ATLS_RAISE(ATLS_ERR_EVIDENCE_FORMAT, "CMW: first byte 0x%02x starts no CMW form", b);
    }
    return ATLS_OK;
}

/* media types are ASCII tokens, parameters and quoted strings (RFC 6838 section 4.2 and
 * RFC 9110 section 8.3); atls accepts printable ASCII and nothing else. */
bool atls_cmw_media_type_printable(const atls_cursor *s)
{
    const uint8_t *p = atls_cursor_data(s);
    for (size_t i = 0; i < atls_cursor_remaining(s); i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

/* decode_record: [ type, value, ? ind ] (draft section 3.1). */
static atls_error decode_record(atls_cursor *c, atls_cmw_leaf *leaf)
{
    size_t n;
    ATLS_GUARD(atls_cbor_read_array(c, &n));
    ATLS_ENSURE(n == 2 || n == 3, ATLS_ERR_DECODE_LENGTH,
                "CMW record: %zu elements (expected 2 or 3)", n);
    atls_cbor_type t;
    ATLS_GUARD(atls_cbor_peek_type(c, &t));
    if (t == ATLS_CBOR_TSTR) {
        ATLS_GUARD(atls_cbor_read_tstr(c, &leaf->media_type));
        ATLS_ENSURE(!atls_cursor_is_empty(&leaf->media_type), ATLS_ERR_DECODE_LENGTH,
                    "CMW record: empty media type");
        ATLS_ENSURE(atls_cmw_media_type_printable(&leaf->media_type), ATLS_ERR_DECODE_VALUE,
                    "CMW record: media type is not printable ASCII");
        leaf->type_is_cf = false;
    } else if (t == ATLS_CBOR_UINT) {
        uint64_t cf;
        ATLS_GUARD(atls_cbor_read_uint(c, &cf));
        /* type: uint .size 2 (a CoAP Content-Format number) */
        ATLS_ENSURE(cf <= 0xffff, ATLS_ERR_DECODE_VALUE,
                    "CMW record: content-format %llu does not fit 2 bytes",
                    (unsigned long long)cf);
        leaf->type_is_cf = true;
        leaf->content_format = (uint16_t)cf;
        atls_cursor_init(&leaf->media_type, NULL, 0);
    } else {
        ATLS_RAISE(ATLS_ERR_DECODE_TYPE,
                   "CMW record: type is neither a media type string nor a content-format");
    }
    ATLS_GUARD(atls_cbor_peek_type(c, &t));
    ATLS_ENSURE(t == ATLS_CBOR_BSTR, ATLS_ERR_DECODE_TYPE,
                "CMW record: value is not a byte string");
    ATLS_GUARD(atls_cbor_read_bstr(c, &leaf->value));
    leaf->ind = 0;
    if (n == 3) {
        uint64_t ind;
        ATLS_GUARD(atls_cbor_peek_type(c, &t));
        ATLS_ENSURE(t == ATLS_CBOR_UINT, ATLS_ERR_DECODE_TYPE,
                    "CMW record: ind is not an unsigned integer");
        ATLS_GUARD(atls_cbor_read_uint(c, &ind));
        /* ind: uint .size 4, and if present it must not be zero */
        ATLS_ENSURE(ind != 0, ATLS_ERR_DECODE_VALUE, "CMW record: ind is present but zero");
        ATLS_ENSURE(ind <= 0xffffffffu, ATLS_ERR_DECODE_VALUE,
                    "CMW record: ind wider than 4 bytes");
        leaf->ind = (uint32_t)ind;
    }
    return ATLS_OK;
}

static atls_error decode_cmw(atls_cursor *c, atls_cmw *out, atls_cbor_key *path, size_t depth);

/* decode_collection: { ? "__cmwc_t": URI / OID, + (int / text) => cbor-cmw } (section 3.2). */
static atls_error decode_collection(atls_cursor *c, atls_cmw *out, atls_cbor_key *path,
                                    size_t depth)
{
    ATLS_ENSURE(depth < ATLS_CMW_MAX_DEPTH, ATLS_ERR_DECODE_TOO_LARGE,
                "CMW collection: nested deeper than %d levels", ATLS_CMW_MAX_DEPTH);
    atls_cbor_map_iter it;
    ATLS_GUARD(atls_cbor_map_begin(c, &it));
    size_t members = 0;
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(c, &it, &k));
        if (atls_cbor_key_is_text(&k, ATLS_CMW_COLLECTION_TYPE_KEY)) {
            atls_cbor_type t;
            atls_cursor ctype;
            ATLS_GUARD(atls_cbor_peek_type(c, &t));
            if (t == ATLS_CBOR_TSTR) {
                ATLS_GUARD(atls_cbor_read_tstr(c, &ctype));
            } else if (t == ATLS_CBOR_BSTR) {
                ATLS_GUARD(atls_cbor_read_bstr(c, &ctype));
            } else {
                ATLS_RAISE(ATLS_ERR_DECODE_TYPE,
                           "CMW collection: __cmwc_t is neither a URI nor an OID");
            }
            ATLS_ENSURE(!atls_cursor_is_empty(&ctype), ATLS_ERR_DECODE_LENGTH,
                        "CMW collection: empty __cmwc_t");
            if (depth == 0) {
                out->collection_type = ctype;
            }
            continue;
        }
        path[depth] = k;
        ATLS_GUARD(decode_cmw(c, out, path, depth + 1));
        members++;
    }
    ATLS_ENSURE(members > 0, ATLS_ERR_DECODE_LENGTH,
                "CMW collection: no member besides __cmwc_t");
    return ATLS_OK;
}

/* decode_cmw: one cbor-cmw at |depth| labels below the top. */
static atls_error decode_cmw(atls_cursor *c, atls_cmw *out, atls_cbor_key *path, size_t depth)
{
    atls_cbor_type t;
    ATLS_GUARD(atls_cbor_peek_type(c, &t));
    if (t == ATLS_CBOR_ARRAY) {
        ATLS_ENSURE(out->num_leaves < ATLS_CMW_MAX_LEAVES, ATLS_ERR_DECODE_TOO_LARGE,
                    "CMW: more than %d records", ATLS_CMW_MAX_LEAVES);
        atls_cmw_leaf *leaf = &out->leaves[out->num_leaves];
        memset(leaf, 0, sizeof(*leaf));
        ATLS_GUARD(decode_record(c, leaf));
        for (size_t i = 0; i < depth; i++) {
            leaf->path[i] = path[i];
        }
        leaf->depth = depth;
        out->num_leaves++;
        return ATLS_OK;
    }
    if (t == ATLS_CBOR_MAP) {
        return decode_collection(c, out, path, depth);
    }
    if (t == ATLS_CBOR_TAG) {
        ATLS_RAISE(ATLS_ERR_DECODE_TYPE, "CMW: tagged CBOR CMW is not supported");
    }
    ATLS_RAISE(ATLS_ERR_DECODE_TYPE,
               "CMW: item is neither a record (array) nor a collection (map)");
}

atls_error atls_cmw_decode(const uint8_t *data, size_t len, atls_cmw *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(len <= ATLS_CMW_MAX_SIZE, ATLS_ERR_DECODE_TOO_LARGE,
                "CMW: %zu bytes exceed the %u-byte ceiling", len, ATLS_CMW_MAX_SIZE);
    atls_cmw_form form;
    ATLS_GUARD(atls_cmw_detect_form(data, len, &form));
    switch (form) {
    case ATLS_CMW_FORM_CBOR_TAGGED:
        ATLS_RAISE(ATLS_ERR_DECODE_TYPE, "CMW: tagged CBOR CMW (0xda) is not supported");
    case ATLS_CMW_FORM_JSON_RECORD:
    case ATLS_CMW_FORM_JSON_COLLECTION:
        ATLS_RAISE(ATLS_ERR_DECODE_TYPE, "CMW: JSON CMW is not supported (CBOR forms only)");
    default:
        break;
    }
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    atls_cbor_key path[ATLS_CMW_MAX_DEPTH];
    atls_error rc = decode_cmw(&c, out, path, 0);
    if (rc == ATLS_OK && !atls_cursor_is_empty(&c)) {
        rc = atls_error_raise(ATLS_ERR_DECODE_TRAILING, __FILE__, __LINE__,
                              "CMW: %zu bytes after the CMW", atls_cursor_remaining(&c));
    }
    if (rc != ATLS_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    out->form = form;
    return ATLS_OK;
}

bool atls_cmw_leaf_type_is(const atls_cmw_leaf *leaf, const char *media_type)
{
    return !leaf->type_is_cf && atls_cbor_tstr_equals(&leaf->media_type, media_type);
}

const atls_cmw_leaf *atls_cmw_find_leaf(const atls_cmw *cmw, const char *media_type,
                                        uint32_t ind_bits)
{
    for (size_t i = 0; i < cmw->num_leaves; i++) {
        const atls_cmw_leaf *l = &cmw->leaves[i];
        if (atls_cmw_leaf_type_is(l, media_type) && (l->ind & ind_bits) == ind_bits) {
            return l;
        }
    }
    return NULL;
}

void atls_cmw_describe_members(const uint8_t *data, size_t len, char *out, size_t size)
{
    atls_cmw cmw;
    if (size == 0) {
        return;
    }
    out[0] = '\0';
    if (data == NULL || atls_cmw_decode(data, len, &cmw) != ATLS_OK) {
        atls_error_clear();
        snprintf(out, size, "(not a CMW atls can decode)");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < cmw.num_leaves && n < size; i++) {
        const atls_cmw_leaf *l = &cmw.leaves[i];
        const atls_cbor_key *k = l->depth > 0 ? &l->path[l->depth - 1] : NULL;
        int w;
        if (k != NULL && k->is_text) {
            size_t tl = atls_cursor_remaining(&k->text);
            w = snprintf(out + n, size - n, "%s%.*s %zu", i ? ", " : "", (int)(tl < 40 ? tl : 40),
                         (const char *)atls_cursor_data(&k->text),
                         atls_cursor_remaining(&l->value));
        } else if (k != NULL) {
            w = snprintf(out + n, size - n, "%s%lld %zu", i ? ", " : "", (long long)k->num,
                         atls_cursor_remaining(&l->value));
        } else {
            w = snprintf(out + n, size - n, "%srecord %zu", i ? ", " : "",
                         atls_cursor_remaining(&l->value));
        }
        n += w > 0 ? (size_t)w : 0;
    }
}
