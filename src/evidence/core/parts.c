/* parts.c: the parts of one CMW an attester produces for one challenge and their encoding, a
 * record or a collection (atls/evidence.h; draft-ietf-rats-msg-wrap-23 sections 3.1, 3.3): what
 * an attester's produce_cmw can build its answer with. */
#include <atls/evidence.h>

#include "base/result.h"
#include "codec/cmw/cmw.h"
#include "evidence/core/plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LABEL "evidence" /* an unlabelled part inside a collection */

static int printable(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (n >= max || (unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e) {
            return 0;
        }
    }
    return n > 0;
}

static const char *label_of(const atls_evidence_part *p)
{
    return p->label[0] != '\0' ? p->label : DEFAULT_LABEL;
}

atls_error atls_evidence_parts_add_owned(atls_evidence_parts *parts, const char *label,
                                         const char *media_type, uint8_t *value, size_t len,
                                         uint32_t ind)
{
    atls_error rc = ATLS_OK;
    if (parts == NULL || media_type == NULL || (value == NULL && len > 0)) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_USAGE, "evidence parts: NULL argument");
    }
    if (label == NULL) {
        label = "";
    }
    if ((label[0] != '\0' && !printable(label, ATLS_EVIDENCE_LABEL_MAX)) ||
        strcmp(label, ATLS_CMW_COLLECTION_TYPE_KEY) == 0) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_USAGE,
                       "evidence parts: label \"%.40s\" is not 1..%d printable characters or is "
                       "reserved",
                       label, ATLS_EVIDENCE_LABEL_MAX);
    }
    if (!printable(media_type, ATLS_EVIDENCE_MEDIA_TYPE_MAX) || ind == 0) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_USAGE,
                       "evidence parts: part \"%s\" needs a media type of 1..%d printable "
                       "characters and a non-zero ind",
                       label, ATLS_EVIDENCE_MEDIA_TYPE_MAX);
    }
    for (size_t i = 0; i < parts->num; i++) {
        if (strcmp(label_of(&parts->part[i]), label[0] != '\0' ? label : DEFAULT_LABEL) == 0) {
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_USAGE, "evidence parts: label \"%s\" is used twice",
                           label_of(&parts->part[i]));
        }
    }
    if (parts->num >= ATLS_EVIDENCE_MAX_PARTS) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_DECODE_TOO_LARGE,
                       "evidence parts: more than %d parts", ATLS_EVIDENCE_MAX_PARTS);
    }
    atls_evidence_part *p = &parts->part[parts->num++];
    memset(p, 0, sizeof(*p));
    snprintf(p->label, sizeof(p->label), "%s", label);
    snprintf(p->media_type, sizeof(p->media_type), "%s", media_type);
    p->value = value;
    p->len = len;
    p->ind = ind;
    return ATLS_OK;
fail:
    free(value);
    return rc;
}

atls_error atls_evidence_parts_add(atls_evidence_parts *parts, const char *label,
                                   const char *media_type, const uint8_t *value, size_t len,
                                   uint32_t ind)
{
    ATLS_ENSURE(value != NULL || len == 0, ATLS_ERR_USAGE, "evidence parts: NULL value");
    uint8_t *copy = malloc(len > 0 ? len : 1);
    ATLS_ENSURE(copy != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    if (len > 0) {
        memcpy(copy, value, len);
    }
    return atls_evidence_parts_add_owned(parts, label, media_type, copy, len, ind);
}

void atls_evidence_parts_cleanup(atls_evidence_parts *parts)
{
    if (parts == NULL) {
        return;
    }
    for (size_t i = 0; i < parts->num; i++) {
        free(parts->part[i].value);
    }
    memset(parts, 0, sizeof(*parts));
}

/* too_large: the one-line error naming every member and its size */
static atls_error too_large(const atls_evidence_parts *parts, size_t total, size_t max,
                            const char *what)
{
    char sizes[320];
    size_t n = 0;
    sizes[0] = '\0';
    for (size_t i = 0; i < parts->num && n < sizeof(sizes); i++) {
        int w = snprintf(sizes + n, sizeof(sizes) - n, "%s%s %zu", i ? ", " : "",
                         label_of(&parts->part[i]), parts->part[i].len);
        n += w > 0 ? (size_t)w : 0;
    }
    if (total > 0) {
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
                   "%s: a CMW of %zu bytes does not fit (at most %zu): members %s", what, total,
                   max, sizes);
    }
    ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
               "%s: the CMW exceeds %zu bytes (at most %zu fit): members %s", what,
               (size_t)ATLS_CMW_MAX_SIZE, max, sizes);
}

atls_error atls_evidence_parts_encode(const atls_evidence_parts *parts, size_t max,
                                      const char *what, uint8_t **out, size_t *out_len)
{
    ATLS_ENSURE(parts != NULL && out != NULL && out_len != NULL, ATLS_ERR_USAGE,
                "evidence parts: NULL argument");
    ATLS_ENSURE(parts->num > 0, ATLS_ERR_EVIDENCE_ATTESTER, "%s: produced no Evidence",
                what != NULL ? what : "attester");
    *out = NULL;
    *out_len = 0;
    atls_error rc;
    if (parts->num == 1 && parts->part[0].label[0] == '\0') {
        const atls_evidence_part *p = &parts->part[0];
        rc = atls_cmw_encode_record(p->media_type, p->value, p->len, p->ind, out, out_len);
    } else {
        atls_cmw_entry entries[ATLS_EVIDENCE_MAX_PARTS];
        for (size_t i = 0; i < parts->num; i++) {
            const atls_evidence_part *p = &parts->part[i];
            entries[i] = (atls_cmw_entry){.label = label_of(p), .media_type = p->media_type,
                                          .value = p->value, .value_len = p->len, .ind = p->ind};
        }
        rc = atls_cmw_encode_collection(NULL, entries, parts->num, out, out_len);
    }
    if (rc == ATLS_ERR_DECODE_TOO_LARGE) {
        return too_large(parts, 0, max, what != NULL ? what : "attester");
    }
    ATLS_GUARD(rc);
    if (*out_len > max) {
        size_t total = *out_len;
        free(*out);
        *out = NULL;
        *out_len = 0;
        return too_large(parts, total, max, what != NULL ? what : "attester");
    }
    return ATLS_OK;
}
