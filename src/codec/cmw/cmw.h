/*
 * cmw.h: RATS Conceptual Message Wrappers (draft-ietf-rats-msg-wrap-23), CBOR forms.
 *
 *   cbor-record     = [ type: tstr (media type) / uint .size 2 (CoAP C-F), value: bstr, ? ind ]
 *   cbor-collection = { ? "__cmwc_t": tstr (URI) / bstr (OID), + (int / tstr) => cbor-cmw }
 *
 * What atls accepts (decoding untrusted input):
 *   - a CBOR record or a CBOR collection; collections nest up to ATLS_CMW_MAX_DEPTH levels and
 *     hold at most ATLS_CMW_MAX_LEAVES records in all;
 *   - at most ATLS_CMW_MAX_SIZE bytes in all (the ceiling for what rides in the
 *     cmw_attestation extension: one Evidence or Attestation Result, 64 KiB);
 *   - tagged CBOR CMW (#6.<TN>(bstr), first byte 0xda) and the JSON forms are recognised
 *     by atls_cmw_detect_form but not decoded: atls_cmw_decode fails with
 *     ATLS_ERR_DECODE_TYPE naming the form (atls never produces them);
 *   - the decoder never allocates: media types, labels and values are borrowed views into the
 *     input, which must outlive the atls_cmw.
 *
 * Errors: wrong shapes fail with ATLS_ERR_DECODE_TYPE (wrong CBOR type), ATLS_ERR_DECODE_LENGTH
 * (record of other than 2 or 3 elements, empty collection, empty media type),
 * ATLS_ERR_DECODE_VALUE (ind 0 or wider than 32 bits, C-F above 65535, duplicate label,
 * media type that is not printable ASCII), ATLS_ERR_DECODE_TOO_LARGE (size, depth, leaves),
 * ATLS_ERR_DECODE_TRAILING (bytes after the CMW) and the CBOR decoder's errors.
 */
#ifndef ATLS_CMW_CMW_H
#define ATLS_CMW_CMW_H

#include "base/cursor.h"
#include "base/writer.h"
#include "codec/cbor/cbor.h"

#include <atls/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATLS_CMW_MAX_SIZE (64u * 1024u) /* bytes, whole CMW */
#define ATLS_CMW_MAX_DEPTH 4            /* collection nesting levels */
#define ATLS_CMW_MAX_LEAVES 16          /* records in one CMW */

/* ind bits (draft-ietf-rats-msg-wrap-23 section 3.1). */
#define ATLS_CMW_IND_REFERENCE_VALUES 1u
#define ATLS_CMW_IND_ENDORSEMENTS 2u
#define ATLS_CMW_IND_EVIDENCE 4u
#define ATLS_CMW_IND_ATTESTATION_RESULTS 8u
#define ATLS_CMW_IND_APPRAISAL_POLICY 16u

/* The collection-type key reserved by the draft. */
#define ATLS_CMW_COLLECTION_TYPE_KEY "__cmwc_t"

typedef enum atls_cmw_form {
    ATLS_CMW_FORM_CBOR_RECORD = 1,     /* 0x82, 0x83 */
    ATLS_CMW_FORM_CBOR_COLLECTION = 2, /* 0xa0..0xbb (0xbf indefinite is not a definite map) */
    ATLS_CMW_FORM_CBOR_TAGGED = 3,     /* 0xda: #6.<TN>(bstr) */
    ATLS_CMW_FORM_JSON_RECORD = 4,     /* '[' */
    ATLS_CMW_FORM_JSON_COLLECTION = 5  /* '{' */
} atls_cmw_form;

/* atls_cmw_detect_form tells the forms apart by their first byte (protocol-notes 3.3):
 * 0x82/0x83/0x9f record, 0xa0..0xbb/0xbf collection, 0xda tagged (4-byte tag number: the
 * RFC 9277 TN range), '[' / '{' JSON. Anything else fails with ATLS_ERR_EVIDENCE_FORMAT: e.g. a
 * bare CCA token (0xd9 0x01 0x8f, tag 399) must be wrapped in a record first. Indefinite-length
 * arrays and maps (0x9f, 0xbf) are reported as records / collections and then refused by the
 * CBOR decoder. */
ATLS_MUST_CHECK atls_error atls_cmw_detect_form(const uint8_t *data, size_t len,
                                                atls_cmw_form *out);

/* One record (a leaf of the tree). All views borrow the decoded input. */
typedef struct atls_cmw_leaf {
    atls_cbor_key path[ATLS_CMW_MAX_DEPTH]; /* labels from the top collection down */
    size_t depth;                           /* number of labels (0: the CMW is one record) */
    bool type_is_cf;                        /* true: CoAP Content-Format number */
    uint16_t content_format;                /* when type_is_cf */
    atls_cursor media_type;                 /* when !type_is_cf: printable ASCII */
    atls_cursor value;                      /* the wrapped message */
    uint32_t ind;                           /* 0 when absent, else non-zero */
} atls_cmw_leaf;

/* A decoded CMW: the records in document order. Zero-initialise; holds no heap memory. */
typedef struct atls_cmw {
    atls_cmw_form form;
    atls_cursor collection_type; /* top-level "__cmwc_t" (URI text or OID bytes), len 0 if none */
    size_t num_leaves;
    atls_cmw_leaf leaves[ATLS_CMW_MAX_LEAVES];
} atls_cmw;

/* atls_cmw_decode decodes a whole CBOR CMW (record or collection) of |len| bytes; trailing bytes
 * are an error. |out| borrows |data|. */
ATLS_MUST_CHECK atls_error atls_cmw_decode(const uint8_t *data, size_t len, atls_cmw *out);

/* atls_cmw_media_type_printable is true when every byte of |s| is printable ASCII (0x20..0x7e),
 * what atls accepts as a media type (also inside other wrappers, e.g. batched Evidence). */
bool atls_cmw_media_type_printable(const atls_cursor *s);

/* atls_cmw_leaf_type_is is true when |leaf| carries the text media type |media_type| (exact,
 * case-sensitive byte comparison, parameters included). */
bool atls_cmw_leaf_type_is(const atls_cmw_leaf *leaf, const char *media_type);

/* atls_cmw_find_leaf returns the first leaf with |media_type| (and all |ind_bits| set in ind,
 * if ind_bits != 0), or NULL. Borrowed from |cmw|. */
const atls_cmw_leaf *atls_cmw_find_leaf(const atls_cmw *cmw, const char *media_type,
                                        uint32_t ind_bits);

/* atls_cmw_write_record appends a CBOR record [media_type, value, ind] to |w| (ind 0: the
 * element is left out, a 2-element record). |media_type| must be non-empty printable ASCII. */
ATLS_MUST_CHECK atls_error atls_cmw_write_record(atls_writer *w, const char *media_type,
                                                 const uint8_t *value, size_t value_len,
                                                 uint32_t ind);

/* atls_cmw_encode_record encodes one record into a malloc'd buffer (*out, caller frees).
 * Fails with ATLS_ERR_DECODE_TOO_LARGE when the result would exceed ATLS_CMW_MAX_SIZE. */
ATLS_MUST_CHECK atls_error atls_cmw_encode_record(const char *media_type, const uint8_t *value,
                                                  size_t value_len, uint32_t ind, uint8_t **out,
                                                  size_t *out_len);

/* atls_cmw_describe_members writes "label size, label size, ..." for the records of |data|
 * (their value sizes; a record's label is "record"), or "(not a CMW atls can decode)" into
 * |out| (|size| bytes, always NUL-terminated): for errors about a CMW's size. */
void atls_cmw_describe_members(const uint8_t *data, size_t len, char *out, size_t size);

/* One entry of a flat collection to encode. */
typedef struct atls_cmw_entry {
    const char *label; /* text label, unique, not "__cmwc_t" */
    const char *media_type;
    const uint8_t *value;
    size_t value_len;
    uint32_t ind;
} atls_cmw_entry;

/* atls_cmw_encode_collection encodes { ? "__cmwc_t": collection_type, label => record ... }
 * (collection_type may be NULL) into a malloc'd buffer (*out, caller frees). Needs at least one
 * entry; labels must be unique. Same size ceiling as atls_cmw_encode_record. */
ATLS_MUST_CHECK atls_error atls_cmw_encode_collection(const char *collection_type,
                                                      const atls_cmw_entry *entries,
                                                      size_t num_entries, uint8_t **out,
                                                      size_t *out_len);

#endif /* ATLS_CMW_CMW_H */
