/* batch_cmw.c: the whole CMW of a batched answer (batch.h). An attester that sends more than
 * its Evidence (produce_cmw: the tpm2 attester's event logs beside its quote, in one CMW
 * collection) keeps its collection; only the Evidence record becomes the batch record, under the
 * same label. */
#include "evidence/batch/batch.h"

#include "base/mem.h"
#include "base/result.h"

#include <stdlib.h>
#include <string.h>

atls_error atls_batch_cmw_evidence(const atls_cmw *cmw, const char *media_type, size_t *index)
{
    size_t found = 0;
    for (size_t i = 0; i < cmw->num_leaves; i++) {
        const atls_cmw_leaf *l = &cmw->leaves[i];
        if (atls_cmw_leaf_type_is(l, media_type) &&
            (l->ind == 0 || (l->ind & ATLS_CMW_IND_EVIDENCE) != 0)) {
            *index = i;
            found++;
        }
    }
    ATLS_ENSURE(found == 1, ATLS_ERR_EVIDENCE_ATTESTER,
                "batch: the attester's CMW holds %zu Evidence records of %s, not one", found,
                media_type);
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

atls_error atls_batch_cmw(const atls_cmw *inner, size_t ev_index, const uint8_t *wrapper,
                          size_t wrapper_len, uint8_t **out, size_t *out_len)
{
    if (inner == NULL || inner->form == ATLS_CMW_FORM_CBOR_RECORD) {
        return atls_cmw_encode_record(ATLS_BATCH_MEDIA_TYPE, wrapper, wrapper_len,
                                      ATLS_CMW_IND_EVIDENCE, out, out_len);
    }
    /* a flat collection of text-labelled records, as attesters write them */
    atls_cmw_entry e[ATLS_CMW_MAX_LEAVES];
    char *strings[2 * ATLS_CMW_MAX_LEAVES + 1];
    size_t num_strings = 0;
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
        if (i == ev_index) {
            e[i] = (atls_cmw_entry){label, ATLS_BATCH_MEDIA_TYPE, wrapper, wrapper_len,
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
    return rc;
}
