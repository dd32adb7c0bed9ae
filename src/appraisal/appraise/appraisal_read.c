/* appraisal_read.c: reading an appraisal through the public accessors (atls/appraisal.h):
 * the EAR as JSON text or a signed JWT, and per-submod status, vector, failure, claims and
 * key, so an application needs no JSON library of ours. */
#include <atls/appraisal.h>

#include "appraisal/appraise/appraisal_internal.h"
#include "base/result.h"
#include "codec/ear/ear.h"

#include <stdlib.h>
#include <string.h>

static atls_error need_ear(const atls_appraisal *a, const json_t **ear)
{
    ATLS_ENSURE(a != NULL, ATLS_ERR_USAGE, "appraisal: missing argument");
    *ear = atls_appraisal_get0_ear_json(a);
    ATLS_ENSURE(*ear != NULL, ATLS_ERR_USAGE_STATE,
                "appraisal: no EAR (the appraisal failed before one was made: %s)",
                a->reason[0] != '\0' ? a->reason : "no reason recorded");
    return ATLS_OK;
}

atls_error atls_appraisal_ear_json(const atls_appraisal *a, int pretty, char **out)
{
    const json_t *ear = NULL;
    ATLS_ENSURE(out != NULL, ATLS_ERR_USAGE, "appraisal: missing argument");
    *out = NULL;
    ATLS_GUARD(need_ear(a, &ear));
    return atls_ear_to_json_string(ear, pretty != 0, out);
}

atls_error atls_appraisal_ear_jwt(const atls_appraisal *a, EVP_PKEY *key, char **out)
{
    const json_t *ear = NULL;
    ATLS_ENSURE(out != NULL && key != NULL, ATLS_ERR_USAGE, "appraisal: missing argument");
    *out = NULL;
    ATLS_GUARD(need_ear(a, &ear));
    return atls_ear_sign_jwt(ear, key, out);
}

/* submod: submod |i| in the EAR's order (jansson keeps insertion order), its name in *name;
 * NULL when out of range. */
static const json_t *submod(const atls_appraisal *a, size_t i, const char **name)
{
    json_t *subs = json_object_get(atls_appraisal_get0_ear_json(a), "submods");
    void *it = json_is_object(subs) ? json_object_iter(subs) : NULL;
    for (size_t k = 0; it != NULL && k < i; k++) {
        it = json_object_iter_next(subs, it);
    }
    if (it == NULL) {
        return NULL;
    }
    if (name != NULL) {
        *name = json_object_iter_key(it);
    }
    return json_object_iter_value(it);
}

size_t atls_appraisal_submod_count(const atls_appraisal *a)
{
    json_t *subs = json_object_get(atls_appraisal_get0_ear_json(a), "submods");
    return json_is_object(subs) ? json_object_size(subs) : 0;
}

const char *atls_appraisal_submod_name(const atls_appraisal *a, size_t i)
{
    const char *name = NULL;
    return submod(a, i, &name) != NULL ? name : NULL;
}

atls_tier atls_appraisal_submod_status(const atls_appraisal *a, size_t i)
{
    const char *status = json_string_value(json_object_get(submod(a, i, NULL), "ear_status"));
    atls_ear_tier tier = ATLS_EAR_TIER_NONE;
    if (status == NULL || atls_ear_tier_from_name(status, &tier) != ATLS_OK) {
        atls_error_clear();
        return ATLS_TIER_NONE;
    }
    return (atls_tier)tier;
}

atls_error atls_appraisal_trust_vector(const atls_appraisal *a, size_t i, atls_trust_vector *out)
{
    ATLS_ENSURE(out != NULL, ATLS_ERR_USAGE, "appraisal: missing argument");
    memset(out, 0, sizeof(*out));
    const json_t *sub = submod(a, i, NULL);
    ATLS_ENSURE(sub != NULL, ATLS_ERR_USAGE, "appraisal: no submod %zu", i);
    return atls_ear_vector_from_json(json_object_get(sub, "ear_trustworthiness_vector"), out);
}

const char *atls_appraisal_submod_failure(const atls_appraisal *a, size_t i)
{
    const json_t *vc = json_object_get(submod(a, i, NULL), "ear_verifier_claims");
    return json_string_value(json_object_get(vc, "failure"));
}

const char *atls_appraisal_policy_id(const atls_appraisal *a)
{
    const json_t *sub = NULL;
    for (size_t i = 0; (sub = submod(a, i, NULL)) != NULL; i++) {
        const char *id =
            json_string_value(json_array_get(json_object_get(sub, "ear_appraisal_policy_ids"), 0));
        if (id != NULL) {
            return id;
        }
    }
    return NULL;
}

atls_error atls_appraisal_claims_json(const atls_appraisal *a, size_t i, char **out)
{
    ATLS_ENSURE(out != NULL, ATLS_ERR_USAGE, "appraisal: missing argument");
    *out = NULL;
    const char *name = NULL;
    const json_t *sub = submod(a, i, &name);
    ATLS_ENSURE(sub != NULL, ATLS_ERR_USAGE, "appraisal: no submod %zu", i);
    const json_t *claims = json_object_get(sub, "ear_attester_claims");
    ATLS_ENSURE(claims != NULL, ATLS_ERR_USAGE, "appraisal: submod %s carries no claims", name);
    return atls_ear_to_json_string(claims, false, out);
}

/* result_of: the verifier result behind submod |i| (a submod is named after its verifier, and
 * an EAR holds each name once), NULL when its Evidence did not verify. */
static const atls_evidence_result *result_of(const atls_appraisal *a, size_t i)
{
    const char *name = NULL;
    if (submod(a, i, &name) == NULL) {
        return NULL;
    }
    for (size_t k = 0; k < a->num_results; k++) {
        if (a->results[k].type != NULL && strcmp(a->results[k].type, name) == 0) {
            return &a->results[k];
        }
    }
    return NULL;
}

const char *atls_appraisal_key_id(const atls_appraisal *a, size_t i)
{
    const atls_evidence_result *r = result_of(a, i);
    return r != NULL && r->key_id[0] != '\0' ? r->key_id : NULL;
}

int atls_appraisal_is_simulated(const atls_appraisal *a, size_t i)
{
    const atls_evidence_result *r = result_of(a, i);
    return r != NULL && r->is_sim;
}
