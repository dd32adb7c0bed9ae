/* batch_cmw.c: the whole CMW of a batched answer (batch.h). An attester that sends more than
 * its Evidence (produce_cmw: the tpm2 attester's event logs beside its quote, a TPM quote beside
 * a TEE report, stapled collateral, in one CMW collection) keeps its collection; each Evidence
 * record becomes a batch record under the same label, the others stay as they are. */
#include "evidence/batch/batch.h"

#include "base/mem.h"
#include "base/result.h"
#include "evidence/eventlog/eventlog.h"

#include <stdlib.h>
#include <string.h>

int atls_batch_cmw_is_evidence(const atls_cmw_leaf *l)
{
    return (l->ind == 0 || (l->ind & ATLS_CMW_IND_EVIDENCE) != 0) &&
           !atls_cmw_leaf_type_is(l, ATLS_EVLOG_MEDIA_TYPE);
}

atls_error atls_batch_cmw_count(const atls_cmw *cmw, size_t *count)
{
    *count = 0;
    for (size_t i = 0; i < cmw->num_leaves; i++) {
        *count += (size_t)atls_batch_cmw_is_evidence(&cmw->leaves[i]);
    }
    ATLS_ENSURE(*count > 0, ATLS_ERR_EVIDENCE_ATTESTER,
                "batch: the attester's CMW holds no Evidence record");
    return ATLS_OK;
}

/* text: a NUL-terminated copy of a printable view (freed by the caller) */
static char *text(const atls_cursor *c)
{
    if (!atls_cmw_media_type_printable(c)) {
        return NULL;
    }
    char *s = malloc(atls_cursor_remaining(c) + 1);
    if (s != NULL) {
        memcpy(s, atls_cursor_data(c), atls_cursor_remaining(c));
        s[atls_cursor_remaining(c)] = '\0';
    }
    return s;
}

atls_error atls_batch_cmw(const atls_cmw *inner, const char *media_type, const uint8_t *ev,
                          size_t ev_len, uint64_t size, uint64_t index,
                          const atls_merkle_hash *path, size_t path_len, uint8_t **out,
                          size_t *out_len)
{
    if (inner == NULL || inner->form == ATLS_CMW_FORM_CBOR_RECORD) {
        const char *type = media_type;
        char *leaf_type = NULL;
        if (inner != NULL) {
            /* the attester's one record */
            leaf_type = text(&inner->leaves[0].media_type);
            ATLS_ENSURE(leaf_type != NULL, ATLS_ERR_EVIDENCE_ATTESTER,
                        "batch: the attester's media type is not printable text");
            type = leaf_type;
            ev = atls_cursor_data(&inner->leaves[0].value);
            ev_len = atls_cursor_remaining(&inner->leaves[0].value);
        }
        uint8_t *w = NULL;
        size_t w_len = 0;
        atls_error rc = atls_batch_encode(type, ev, ev_len, size, index, path, path_len, &w,
                                          &w_len);
        free(leaf_type);
        if (rc == ATLS_OK) {
            rc = atls_cmw_encode_record(ATLS_BATCH_MEDIA_TYPE, w, w_len, ATLS_CMW_IND_EVIDENCE,
                                        out, out_len);
        }
        free(w);
        return rc;
    }
    /* a flat collection of text-labelled records, as attesters write them */
    atls_cmw_entry e[ATLS_CMW_MAX_LEAVES];
    char *strings[2 * ATLS_CMW_MAX_LEAVES + 1];
    uint8_t *wrappers[ATLS_CMW_MAX_LEAVES];
    size_t num_strings = 0, num_wrappers = 0;
    atls_error rc = ATLS_OK;
    char *type = NULL;
    if (atls_cursor_remaining(&inner->collection_type) > 0) {
        type = strings[num_strings++] = text(&inner->collection_type);
        if (type == NULL) {
            rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                                  "batch: the attester's CMW collection type is not text");
        }
    }
    for (size_t i = 0; rc == ATLS_OK && i < inner->num_leaves; i++) {
        const atls_cmw_leaf *l = &inner->leaves[i];
        if (l->depth != 1 || !l->path[0].is_text || l->type_is_cf) {
            rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                                  "batch: the attester's CMW is not a flat collection of "
                                  "text-labelled records");
            break;
        }
        char *label = strings[num_strings++] = text(&l->path[0].text);
        char *media = strings[num_strings++] = text(&l->media_type);
        if (label == NULL || media == NULL) {
            rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                                  "batch: a label or media type of the attester's CMW is not "
                                  "printable text");
            break;
        }
        if (atls_batch_cmw_is_evidence(l)) {
            /* each piece of Evidence signed the batch challenge: each gets the proof */
            size_t w_len = 0;
            uint8_t **w = &wrappers[num_wrappers];
            rc = atls_batch_encode(media, atls_cursor_data(&l->value),
                                   atls_cursor_remaining(&l->value), size, index, path, path_len,
                                   w, &w_len);
            if (rc != ATLS_OK) {
                break;
            }
            num_wrappers++;
            e[i] = (atls_cmw_entry){label, ATLS_BATCH_MEDIA_TYPE, *w, w_len,
                                    ATLS_CMW_IND_EVIDENCE};
        } else {
            e[i] = (atls_cmw_entry){label, media, atls_cursor_data(&l->value),
                                    atls_cursor_remaining(&l->value), l->ind};
        }
    }
    if (rc == ATLS_OK) {
        rc = atls_cmw_encode_collection(type, e, inner->num_leaves, out, out_len);
    }
    for (size_t i = 0; i < num_strings; i++) {
        free(strings[i]);
    }
    for (size_t i = 0; i < num_wrappers; i++) {
        free(wrappers[i]);
    }
    return rc;
}
