/* intra_wire.c: INSECURE baseline, the evidence_request extension of
 * draft-fossati-tls-attestation-08 section 4:
 *
 *   enum { CONTENT_FORMAT(0), MEDIA_TYPE(1) } typeEncoding;
 *   enum { ATTESTATION(0), CERT_ATTESTATION(1) } credentialKind;
 *   struct { credentialKind credential_kind; typeEncoding type_encoding;
 *            select (type_encoding) { case CONTENT_FORMAT: uint16 content_format;
 *                                     case MEDIA_TYPE: opaque media_type<0..2^16-1>; }; }
 *       EvidenceType;
 *   ClientHello:          EvidenceType supported_evidence_types<1..2^8-1>; opaque nonce<8..2^8-1>;
 *   EncryptedExtensions:  EvidenceType selected_evidence_type;
 */
#include "tls/intra/intra_internal.h"

#include "base/result.h"
#include "base/writer.h"

#include <string.h>

static bool write_type(atls_writer *w, uint8_t kind, const char *media_type)
{
    return atls_writer_add_u8(w, kind) &&
           atls_writer_add_u8(w, ATLS_INTRA_INSECURE_ENC_MEDIA_TYPE) &&
           atls_writer_open_u16(w) &&
           atls_writer_add_bytes(w, (const uint8_t *)media_type, strlen(media_type)) &&
           atls_writer_close(w);
}

atls_error intra_request_encode(uint8_t kind, const char *const *media_types,
                                const uint8_t *nonce, size_t nonce_len, uint8_t **out,
                                size_t *out_len)
{
    ATLS_ENSURE(media_types != NULL && media_types[0] != NULL, ATLS_ERR_USAGE_CONFIG,
                "intra (INSECURE): no evidence type to offer");
    ATLS_ENSURE(nonce_len >= ATLS_INTRA_INSECURE_NONCE_MIN &&
                    nonce_len <= ATLS_INTRA_INSECURE_NONCE_MAX,
                ATLS_ERR_USAGE_CONFIG, "intra (INSECURE): the nonce must be 8..255 bytes");
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_writer_open_u8(&w);
    for (size_t i = 0; ok && media_types[i] != NULL; i++) {
        ok = write_type(&w, kind, media_types[i]);
    }
    /* the u8 vector overflows above 255 bytes: the writer fails the close */
    ok = ok && atls_writer_close(&w) && atls_writer_open_u8(&w) &&
         atls_writer_add_bytes(&w, nonce, nonce_len) && atls_writer_close(&w);
    if (!ok && atls_writer_status(&w) != ATLS_ERR_INTERNAL_ALLOC) {
        atls_writer_cleanup(&w);
        ATLS_RAISE(ATLS_ERR_USAGE_CONFIG,
                   "intra (INSECURE): the offered evidence types exceed the 255 bytes of "
                   "supported_evidence_types (-08 section 4): offer fewer");
    }
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

static atls_error read_type(atls_cursor *c, intra_evidence_type *t)
{
    memset(t, 0, sizeof(*t));
    ATLS_ENSURE(atls_cursor_get_u8(c, &t->kind) && atls_cursor_get_u8(c, &t->encoding),
                ATLS_ERR_DECODE_TRUNCATED, "evidence_request: truncated EvidenceType");
    ATLS_ENSURE(t->kind <= ATLS_INTRA_INSECURE_KIND_CERT_ATTESTATION, ATLS_ERR_DECODE_VALUE,
                "evidence_request: unknown credential_kind %u", t->kind);
    if (t->encoding == ATLS_INTRA_INSECURE_ENC_CONTENT_FORMAT) {
        ATLS_ENSURE(atls_cursor_get_u16(c, &t->content_format), ATLS_ERR_DECODE_TRUNCATED,
                    "evidence_request: truncated content_format");
        return ATLS_OK;
    }
    ATLS_ENSURE(t->encoding == ATLS_INTRA_INSECURE_ENC_MEDIA_TYPE, ATLS_ERR_DECODE_VALUE,
                "evidence_request: unknown type_encoding %u", t->encoding);
    ATLS_ENSURE(atls_cursor_get_u16_prefixed(c, &t->media_type), ATLS_ERR_DECODE_TRUNCATED,
                "evidence_request: media_type runs past its vector");
    return ATLS_OK;
}

atls_error intra_request_decode(const uint8_t *data, size_t len, intra_request *out)
{
    memset(out, 0, sizeof(*out));
    atls_cursor c, types;
    atls_cursor_init(&c, data, len);
    ATLS_ENSURE(atls_cursor_get_u8_prefixed(&c, &types), ATLS_ERR_DECODE_TRUNCATED,
                "evidence_request: supported_evidence_types runs past the extension");
    ATLS_ENSURE(!atls_cursor_is_empty(&types), ATLS_ERR_DECODE_LENGTH,
                "evidence_request: supported_evidence_types is empty (needs 1..255 bytes)");
    while (!atls_cursor_is_empty(&types)) {
        ATLS_ENSURE(out->num_types < INTRA_MAX_TYPES, ATLS_ERR_DECODE_TOO_LARGE,
                    "evidence_request: more than %d evidence types", INTRA_MAX_TYPES);
        ATLS_GUARD(read_type(&types, &out->types[out->num_types]));
        out->num_types++;
    }
    ATLS_ENSURE(atls_cursor_get_u8_prefixed(&c, &out->nonce), ATLS_ERR_DECODE_TRUNCATED,
                "evidence_request: nonce runs past the extension");
    ATLS_ENSURE(atls_cursor_remaining(&out->nonce) >= ATLS_INTRA_INSECURE_NONCE_MIN,
                ATLS_ERR_DECODE_LENGTH, "evidence_request: nonce shorter than 8 bytes");
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "evidence_request: bytes after the nonce");
    return ATLS_OK;
}

atls_error intra_selected_encode(uint8_t kind, const char *media_type, uint8_t **out,
                                 size_t *out_len)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = write_type(&w, kind, media_type); /* a failure stays in the writer */
    (void)ok;
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

atls_error intra_selected_decode(const uint8_t *data, size_t len, intra_evidence_type *out)
{
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    ATLS_GUARD(read_type(&c, out));
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "evidence_request (EncryptedExtensions): bytes after selected_evidence_type");
    return ATLS_OK;
}

bool intra_type_is(const intra_evidence_type *t, uint8_t kind, const char *media_type)
{
    return t->kind == kind && t->encoding == ATLS_INTRA_INSECURE_ENC_MEDIA_TYPE &&
           atls_cursor_equals(&t->media_type, (const uint8_t *)media_type, strlen(media_type));
}
