/* cli_collection.c: one CMW collection from the primary attester, an optional TPM and a
 * collateral directory (cli_collection.h). */
#include "cli_collection.h"

#include "collateral_dir.h"

#include "base/result.h"
#include "codec/cmw/cmw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct collection {
    atls_attester_ops ops; /* named as the primary; lives as long as the state */
    const atls_attester_ops *primary, *tpm;
    void *primary_state, *tpm_state;
    char *collateral_dir;
} collection;

/* One connection: each attester's own connection state (event logs sent so far), and whose
 * states they are (conn_free receives only the connection). */
typedef struct collection_conn {
    const struct collection *owner;
    void *primary, *tpm;
} collection_conn;

/* room for a record's framing and label in the collection */
#define RECORD_ROOM 64u

/* produce: the primary's Evidence alone, for callers that only know produce (every part is in
 * produce_cmw, which sessions, batchers and `atls evidence` use) */
static atls_error collection_produce(void *state, const uint8_t *challenge, uint8_t **out,
                                     size_t *out_len)
{
    const collection *c = state;
    return c->primary->produce(c->primary_state, challenge, out, out_len);
}

/* add_from: |a|'s records over |challenge| (its own CMW when it makes one, of at most |max|
 * bytes; else its Evidence as one record labelled |label|), appended to |parts|; a label
 * already taken gets the prefix "|label|-" */
static atls_error add_from(const atls_attester_ops *a, void *state, void *conn,
                           const uint8_t *challenge, size_t max, const char *label,
                           atls_evidence_parts *parts)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (a->produce_cmw == NULL) {
        ATLS_GUARD(a->produce(state, challenge, &bytes, &len));
        return atls_evidence_parts_add_owned(parts, label, a->media_type, bytes, len,
                                             ATLS_IND_EVIDENCE);
    }
    ATLS_GUARD(a->produce_cmw(state, conn, challenge, max, &bytes, &len));
    atls_cmw cmw;
    atls_error rc = atls_cmw_decode(bytes, len, &cmw);
    for (size_t i = 0; rc == ATLS_OK && i < cmw.num_leaves; i++) {
        const atls_cmw_leaf *l = &cmw.leaves[i];
        char name[ATLS_EVIDENCE_LABEL_MAX + 1], type[ATLS_EVIDENCE_MEDIA_TYPE_MAX + 1];
        size_t tl = atls_cursor_remaining(&l->media_type);
        if (l->type_is_cf || tl >= sizeof(type) || l->depth > 1 ||
            (l->depth == 1 && !l->path[0].is_text)) {
            rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                                  "attester %s: its CMW is not a flat collection of "
                                  "text-labelled records",
                                  a->name);
            break;
        }
        memcpy(type, atls_cursor_data(&l->media_type), tl);
        type[tl] = '\0';
        if (l->depth == 0) {
            snprintf(name, sizeof(name), "%s", label);
        } else {
            snprintf(name, sizeof(name), "%.*s",
                     (int)atls_cursor_remaining(&l->path[0].text),
                     (const char *)atls_cursor_data(&l->path[0].text));
        }
        for (size_t k = 0; k < parts->num; k++) {
            if (strcmp(parts->part[k].label, name) == 0) {
                char taken[sizeof(name)];
                memcpy(taken, name, sizeof(taken));
                /* truncated to the label limit: the parts then refuse a clash that remains */
                int w = snprintf(name, sizeof(name), "%.8s-%.22s", label, taken);
                (void)w;
                break;
            }
        }
        rc = atls_evidence_parts_add(parts, name, type, atls_cursor_data(&l->value),
                                     atls_cursor_remaining(&l->value),
                                     l->ind != 0 ? l->ind : ATLS_IND_EVIDENCE);
    }
    free(bytes);
    return rc;
}

static size_t parts_size(const atls_evidence_parts *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->num; i++) {
        n += p->part[i].len + RECORD_ROOM;
    }
    return n;
}

static atls_error collection_produce_cmw(void *state, void *conn, const uint8_t *challenge,
                                         size_t max, uint8_t **out, size_t *out_len)
{
    const collection *c = state;
    const collection_conn *cc = conn;
    atls_evidence_parts parts, staple;
    memset(&parts, 0, sizeof(parts));
    memset(&staple, 0, sizeof(staple));
    atls_error rc = ATLS_OK;
    /* the collateral is read first (it is what it is), so the attesters know their budget */
    if (c->collateral_dir != NULL) {
        rc = collateral_add_parts(c->collateral_dir, &staple);
    }
    size_t used = parts_size(&staple);
    if (rc == ATLS_OK) {
        rc = add_from(c->primary, c->primary_state, cc != NULL ? cc->primary : NULL, challenge,
                      max > used ? max - used : 0, c->primary->name, &parts);
    }
    if (rc == ATLS_OK && c->tpm != NULL) {
        /* the same challenge: both bind to this connection, each checked by its verifier */
        used += parts_size(&parts);
        rc = add_from(c->tpm, c->tpm_state, cc != NULL ? cc->tpm : NULL, challenge,
                      max > used ? max - used : 0, "tpm", &parts);
    }
    for (size_t i = 0; rc == ATLS_OK && i < staple.num; i++) {
        rc = atls_evidence_parts_add_owned(&parts, staple.part[i].label,
                                           staple.part[i].media_type, staple.part[i].value,
                                           staple.part[i].len, staple.part[i].ind);
        staple.part[i].value = NULL; /* taken over */
    }
    if (rc == ATLS_OK) {
        char what[64];
        snprintf(what, sizeof(what), "attester %s", c->primary->name);
        rc = atls_evidence_parts_encode(&parts, max, what, out, out_len);
    }
    atls_evidence_parts_cleanup(&staple);
    atls_evidence_parts_cleanup(&parts);
    return rc;
}

static atls_error collection_conn_new(void *state, void **conn)
{
    const collection *c = state;
    collection_conn *cc = calloc(1, sizeof(*cc));
    ATLS_ENSURE(cc != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    cc->owner = c;
    atls_error rc = ATLS_OK;
    if (c->primary->conn_new != NULL) {
        rc = c->primary->conn_new(c->primary_state, &cc->primary);
    }
    if (rc == ATLS_OK && c->tpm != NULL && c->tpm->conn_new != NULL) {
        rc = c->tpm->conn_new(c->tpm_state, &cc->tpm);
    }
    if (rc != ATLS_OK) {
        if (cc->primary != NULL) {
            c->primary->conn_free(cc->primary);
        }
        free(cc);
        return rc;
    }
    *conn = cc;
    return ATLS_OK;
}

static void collection_destroy(void *state)
{
    collection *c = state;
    if (c == NULL) {
        return;
    }
    c->primary->destroy(c->primary_state);
    if (c->tpm != NULL) {
        c->tpm->destroy(c->tpm_state);
    }
    free(c->collateral_dir);
    free(c);
}

static void collection_conn_free(void *conn)
{
    collection_conn *cc = conn;
    if (cc == NULL) {
        return;
    }
    const collection *c = cc->owner;
    if (cc->primary != NULL && c->primary->conn_free != NULL) {
        c->primary->conn_free(cc->primary);
    }
    if (cc->tpm != NULL && c->tpm->conn_free != NULL) {
        c->tpm->conn_free(cc->tpm);
    }
    free(cc);
}

int cli_collection_open(const atls_attester_ops *primary, void *primary_state,
                        const atls_attester_ops *tpm, void *tpm_state, const char *collateral_dir,
                        const atls_attester_ops **ops, void **state)
{
    collection *c = calloc(1, sizeof(*c));
    char *dir = collateral_dir != NULL ? strdup(collateral_dir) : NULL;
    if (c == NULL || (collateral_dir != NULL && dir == NULL)) {
        free(c);
        free(dir);
        primary->destroy(primary_state);
        if (tpm != NULL) {
            tpm->destroy(tpm_state);
        }
        cli_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    c->primary = primary;
    c->primary_state = primary_state;
    c->tpm = tpm;
    c->tpm_state = tpm_state;
    c->collateral_dir = dir;
    c->ops.name = primary->name;
    c->ops.media_type = primary->media_type;
    c->ops.produce = collection_produce;
    c->ops.produce_cmw = collection_produce_cmw;
    c->ops.destroy = collection_destroy;
    if (primary->conn_new != NULL || (tpm != NULL && tpm->conn_new != NULL)) {
        c->ops.conn_new = collection_conn_new;
        c->ops.conn_free = collection_conn_free;
    }
    *ops = &c->ops;
    *state = c;
    return 0;
}
