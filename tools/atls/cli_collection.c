/* cli_collection.c: one CMW collection from the primary attester, an optional TPM and a
 * collateral directory (cli_collection.h). */
#include "cli_collection.h"

#include "collateral_dir.h"

#include "base/result.h"

#include <stdlib.h>
#include <string.h>

typedef struct collection {
    atls_attester_ops ops; /* named as the primary; lives as long as the state */
    const atls_attester_ops *primary, *tpm;
    void *primary_state, *tpm_state;
    char *collateral_dir;
} collection;

/* produce: the primary's Evidence alone, for callers that only know produce (every part is in
 * produce_parts, which the session and `atls evidence` use) */
static atls_error collection_produce(void *state, const uint8_t *challenge, uint8_t **out,
                                     size_t *out_len)
{
    const collection *c = state;
    return c->primary->produce(c->primary_state, challenge, out, out_len);
}

static atls_error collection_parts(void *state, const uint8_t *challenge,
                                   atls_evidence_parts *out)
{
    const collection *c = state;
    uint8_t *ev = NULL;
    size_t len = 0;
    ATLS_GUARD(c->primary->produce(c->primary_state, challenge, &ev, &len));
    ATLS_GUARD(atls_evidence_parts_add_owned(out, c->primary->name, c->primary->media_type, ev,
                                             len, ATLS_IND_EVIDENCE));
    if (c->tpm != NULL) {
        /* the same challenge: both bind to this connection, each checked by its verifier */
        ATLS_GUARD(c->tpm->produce(c->tpm_state, challenge, &ev, &len));
        ATLS_GUARD(atls_evidence_parts_add_owned(out, "tpm", c->tpm->media_type, ev, len,
                                                 ATLS_IND_EVIDENCE));
    }
    if (c->collateral_dir != NULL) {
        ATLS_GUARD(collateral_add_parts(c->collateral_dir, out));
    }
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
    c->ops.produce_parts = collection_parts;
    c->ops.destroy = collection_destroy;
    *ops = &c->ops;
    *state = c;
    return 0;
}
