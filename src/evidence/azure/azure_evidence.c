/* azure_evidence.c: the application/vnd.atls.azure-vtpm+cbor map (azure.h; CDDL in
 * docs/EVIDENCE.md). */
#include "evidence/azure/azure.h"

#include "base/result.h"
#include "base/writer.h"
#include "codec/cbor/cbor.h"

#include <string.h>

/* read_member reads a non-empty bstr once into |dst|. */
static atls_error read_member(atls_cursor *c, const char *name, bool *seen, atls_cursor *dst)
{
    ATLS_ENSURE(!*seen, ATLS_ERR_EVIDENCE_FORMAT, "azure: \"%s\" appears twice", name);
    ATLS_GUARD(atls_cbor_read_bstr(c, dst));
    ATLS_ENSURE(atls_cursor_remaining(dst) > 0, ATLS_ERR_EVIDENCE_FORMAT,
                "azure: \"%s\" is empty", name);
    *seen = true;
    return ATLS_OK;
}

atls_error atls_azure_evidence_decode(const uint8_t *data, size_t len, atls_azure_evidence *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(len <= ATLS_AZURE_MAX_EVIDENCE, ATLS_ERR_DECODE_TOO_LARGE,
                "azure: Evidence of %zu bytes exceeds %u", len, ATLS_AZURE_MAX_EVIDENCE);
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    atls_cbor_map_iter it;
    bool has_hcl = false, has_tpm = false;
    ATLS_GUARD(atls_cbor_map_begin(&c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
        if (atls_cbor_key_is_text(&k, "hcl")) {
            ATLS_GUARD(read_member(&c, "hcl", &has_hcl, &out->hcl));
        } else if (atls_cbor_key_is_text(&k, "tpm")) {
            ATLS_GUARD(read_member(&c, "tpm", &has_tpm, &out->tpm));
        } else if (atls_cbor_key_is_text(&k, "certs")) {
            ATLS_GUARD(read_member(&c, "certs", &out->has_certs, &out->certs));
        } else if (atls_cbor_key_is_text(&k, "tdquote")) {
            ATLS_GUARD(read_member(&c, "tdquote", &out->has_tdquote, &out->tdquote));
        } else {
            ATLS_RAISE(ATLS_ERR_EVIDENCE_FORMAT, "azure: unknown member in the Evidence map");
        }
    }
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "azure: bytes after the Evidence map");
    ATLS_ENSURE(has_hcl && has_tpm, ATLS_ERR_EVIDENCE_FORMAT,
                "azure: the Evidence needs \"hcl\" and \"tpm\"");
    return ATLS_OK;
}

atls_error atls_azure_evidence_encode(const uint8_t *hcl, size_t hcl_len, const uint8_t *tpm,
                                      size_t tpm_len, const uint8_t *certs, size_t certs_len,
                                      const uint8_t *tdquote, size_t tdquote_len, uint8_t **out,
                                      size_t *out_len)
{
    ATLS_ENSURE(hcl != NULL && hcl_len > 0 && tpm != NULL && tpm_len > 0 &&
                    (certs == NULL || certs_len > 0) && (tdquote == NULL || tdquote_len > 0),
                ATLS_ERR_USAGE, "azure: hcl and tpm are required, members are never empty");
    atls_writer w;
    atls_writer_init(&w, ATLS_AZURE_MAX_EVIDENCE);
    /* RFC 8949 section 4.2.1: shorter keys first, then bytewise */
    uint64_t members = 2u + (certs != NULL ? 1u : 0u) + (tdquote != NULL ? 1u : 0u);
    bool ok = atls_cbor_put_map(&w, members) &&
              atls_cbor_put_tstr(&w, "hcl") && atls_cbor_put_bstr(&w, hcl, hcl_len) &&
              atls_cbor_put_tstr(&w, "tpm") && atls_cbor_put_bstr(&w, tpm, tpm_len);
    if (certs != NULL) {
        ok = ok && atls_cbor_put_tstr(&w, "certs") && atls_cbor_put_bstr(&w, certs, certs_len);
    }
    if (tdquote != NULL) {
        ok = ok && atls_cbor_put_tstr(&w, "tdquote") &&
             atls_cbor_put_bstr(&w, tdquote, tdquote_len);
    }
    (void)ok; /* the writer's sticky status reports any failure */
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}
