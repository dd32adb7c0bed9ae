/* batch_codec.c: the batched-Evidence wrapper (batch.h; CDDL "batch-evidence" in
 * docs/EVIDENCE.md):
 *
 *   [ media-type: tstr, evidence: bstr, [ tree-size: uint, leaf-index: uint, [* bstr .size 64] ] ]
 *
 * The inclusion proof has the shape of RFC 9942 section 5.2's (tree size, leaf index, path),
 * with SHA-512 hashes and an empty path allowed (a tree of one). */
#include "evidence/batch/batch.h"

#include "base/result.h"
#include "base/writer.h"
#include "codec/cbor/cbor.h"
#include "codec/cmw/cmw.h"

#include <string.h>

/* the wrapped Evidence fits the cmw_attestation extension with room for the wrapper */
#define BATCH_MAX_EVIDENCE 65535u
#define BATCH_MAX_MEDIA_TYPE 255u

static atls_error decode_path(atls_cursor *c, atls_batch_view *out)
{
    size_t n = 0;
    ATLS_GUARD(atls_cbor_read_array(c, &n));
    ATLS_ENSURE(n <= ATLS_BATCH_MAX_PATH, ATLS_ERR_DECODE_TOO_LARGE,
                "batch: inclusion path of %zu hashes (at most %d)", n, ATLS_BATCH_MAX_PATH);
    for (size_t i = 0; i < n; i++) {
        atls_cursor h;
        ATLS_GUARD(atls_cbor_read_bstr(c, &h));
        ATLS_ENSURE(atls_cursor_remaining(&h) == ATLS_MERKLE_HASH_LEN, ATLS_ERR_DECODE_LENGTH,
                    "batch: inclusion path hash %zu has %zu bytes, not %d", i,
                    atls_cursor_remaining(&h), ATLS_MERKLE_HASH_LEN);
        memcpy(out->path[i], atls_cursor_data(&h), ATLS_MERKLE_HASH_LEN);
    }
    out->path_len = n;
    return ATLS_OK;
}

static atls_error decode_proof(atls_cursor *c, atls_batch_view *out)
{
    size_t n = 0;
    ATLS_GUARD(atls_cbor_read_array(c, &n));
    ATLS_ENSURE(n == 3, ATLS_ERR_DECODE_LENGTH,
                "batch: inclusion proof has %zu elements, not 3 (tree size, leaf index, path)", n);
    ATLS_GUARD(atls_cbor_read_uint(c, &out->tree_size));
    ATLS_GUARD(atls_cbor_read_uint(c, &out->leaf_index));
    ATLS_GUARD(decode_path(c, out));
    return atls_merkle_check_proof(out->leaf_index, out->tree_size, out->path_len);
}

atls_error atls_batch_decode(const uint8_t *data, size_t len, atls_batch_view *out)
{
    memset(out, 0, sizeof(*out));
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    size_t n = 0;
    ATLS_GUARD(atls_cbor_read_array(&c, &n));
    ATLS_ENSURE(n == 3, ATLS_ERR_DECODE_LENGTH,
                "batch: %zu elements, not 3 (media type, Evidence, inclusion proof)", n);
    ATLS_GUARD(atls_cbor_read_tstr(&c, &out->media_type));
    size_t mt_len = atls_cursor_remaining(&out->media_type);
    ATLS_ENSURE(mt_len > 0 && mt_len <= BATCH_MAX_MEDIA_TYPE, ATLS_ERR_DECODE_LENGTH,
                "batch: media type of %zu bytes (1..%u)", mt_len, BATCH_MAX_MEDIA_TYPE);
    ATLS_ENSURE(atls_cmw_media_type_printable(&out->media_type), ATLS_ERR_DECODE_VALUE,
                "batch: media type is not printable ASCII");
    /* one level only: a batch inside a batch would need a second proof nobody makes */
    ATLS_ENSURE(!atls_cbor_tstr_equals(&out->media_type, ATLS_BATCH_MEDIA_TYPE),
                ATLS_ERR_DECODE_VALUE, "batch: batched Evidence wraps batched Evidence");
    ATLS_GUARD(atls_cbor_read_bstr(&c, &out->evidence));
    size_t ev_len = atls_cursor_remaining(&out->evidence);
    ATLS_ENSURE(ev_len > 0 && ev_len <= BATCH_MAX_EVIDENCE, ATLS_ERR_DECODE_LENGTH,
                "batch: Evidence of %zu bytes (1..%u)", ev_len, BATCH_MAX_EVIDENCE);
    ATLS_GUARD(decode_proof(&c, out));
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "batch: %zu bytes after the wrapper", atls_cursor_remaining(&c));
    return ATLS_OK;
}

atls_error atls_batch_encode(const char *media_type, const uint8_t *evidence, size_t evidence_len,
                             uint64_t size, uint64_t index, const atls_merkle_hash *path,
                             size_t path_len, uint8_t **out, size_t *out_len)
{
    atls_cursor mt;
    size_t mt_len = media_type != NULL ? strlen(media_type) : 0;
    atls_cursor_init(&mt, (const uint8_t *)media_type, mt_len);
    ATLS_ENSURE(mt_len > 0 && mt_len <= BATCH_MAX_MEDIA_TYPE &&
                    atls_cmw_media_type_printable(&mt) &&
                    strcmp(media_type, ATLS_BATCH_MEDIA_TYPE) != 0,
                ATLS_ERR_USAGE, "batch: the wrapped media type must be printable ASCII, 1..%u "
                "bytes, and not batched itself", BATCH_MAX_MEDIA_TYPE);
    ATLS_ENSURE(evidence != NULL && evidence_len > 0 && evidence_len <= BATCH_MAX_EVIDENCE,
                ATLS_ERR_USAGE, "batch: Evidence of %zu bytes (1..%u)", evidence_len,
                BATCH_MAX_EVIDENCE);
    ATLS_ENSURE(path_len <= ATLS_BATCH_MAX_PATH && (path != NULL || path_len == 0),
                ATLS_ERR_USAGE, "batch: inclusion path of %zu hashes", path_len);
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_cbor_put_array(&w, 3) && atls_cbor_put_tstr(&w, media_type) &&
              atls_cbor_put_bstr(&w, evidence, evidence_len) && atls_cbor_put_array(&w, 3) &&
              atls_cbor_put_uint(&w, size) && atls_cbor_put_uint(&w, index) &&
              atls_cbor_put_array(&w, path_len);
    for (size_t i = 0; ok && i < path_len; i++) {
        ok = atls_cbor_put_bstr(&w, path[i], ATLS_MERKLE_HASH_LEN);
    }
    (void)ok; /* the writer's failure is sticky: finish reports it */
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

atls_error atls_batch_proof_challenge(const atls_batch_view *v,
                                      const uint8_t challenge[ATLS_CHALLENGE_LEN],
                                      uint8_t out[ATLS_CHALLENGE_LEN])
{
    atls_merkle_hash root;
    ATLS_GUARD(atls_merkle_root_from_path(challenge, v->leaf_index, v->tree_size, v->path,
                                          v->path_len, root));
    return atls_batch_challenge(root, v->tree_size, out);
}
