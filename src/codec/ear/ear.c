/* ear.c: building EAT Attestation Results (draft-ietf-rats-ear-04) as JSON (ear.h). */
#include "codec/ear/ear.h"

#include "base/result.h"
#include "codec/ear/base64url.h"

#include <atls/version.h>

#include <stdlib.h>
#include <string.h>

atls_ear_tier atls_ear_tier_from_value(int8_t value)
{
    /* AR4SI value bands (protocol-notes 7.3) */
    int v = value;
    if (v >= -1 && v <= 1) {
        return ATLS_EAR_TIER_NONE;
    }
    if ((v >= 2 && v <= 31) || (v >= -32 && v <= -2)) {
        return ATLS_EAR_TIER_AFFIRMING;
    }
    if ((v >= 32 && v <= 95) || (v >= -96 && v <= -33)) {
        return ATLS_EAR_TIER_WARNING;
    }
    return ATLS_EAR_TIER_CONTRAINDICATED;
}

/* The vector's claims in AR4SI order with their JSON names (keys 0..7). */
typedef struct claim_slot {
    const char *name;
    size_t offset;
} claim_slot;

static const claim_slot slots[] = {
    {"instance-identity", offsetof(atls_trust_vector, instance_identity)},
    {"configuration", offsetof(atls_trust_vector, configuration)},
    {"executables", offsetof(atls_trust_vector, executables)},
    {"file-system", offsetof(atls_trust_vector, file_system)},
    {"hardware", offsetof(atls_trust_vector, hardware)},
    {"runtime-opaque", offsetof(atls_trust_vector, runtime_opaque)},
    {"storage-opaque", offsetof(atls_trust_vector, storage_opaque)},
    {"sourced-data", offsetof(atls_trust_vector, sourced_data)},
};

static int8_t slot_value(const atls_trust_vector *tv, size_t i)
{
    int8_t v;
    memcpy(&v, (const unsigned char *)tv + slots[i].offset, sizeof(v));
    return v;
}

atls_ear_tier atls_ear_tier_from_vector(const atls_trust_vector *tv)
{
    atls_ear_tier worst = ATLS_EAR_TIER_NONE;
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        int8_t v = slot_value(tv, i);
        if (v == 0) {
            continue; /* no claim */
        }
        atls_ear_tier t = atls_ear_tier_from_value(v);
        if (t > worst) {
            worst = t;
        }
    }
    return worst;
}

const char *atls_ear_tier_name(atls_ear_tier tier)
{
    switch (tier) {
    case ATLS_EAR_TIER_AFFIRMING:
        return "affirming";
    case ATLS_EAR_TIER_WARNING:
        return "warning";
    case ATLS_EAR_TIER_CONTRAINDICATED:
        return "contraindicated";
    default:
        return "none";
    }
}

atls_error atls_ear_tier_from_name(const char *name, atls_ear_tier *out)
{
    static const atls_ear_tier all[] = {ATLS_EAR_TIER_NONE, ATLS_EAR_TIER_AFFIRMING,
                                        ATLS_EAR_TIER_WARNING, ATLS_EAR_TIER_CONTRAINDICATED};
    for (size_t i = 0; name != NULL && i < 4; i++) {
        if (strcmp(name, atls_ear_tier_name(all[i])) == 0) {
            *out = all[i];
            return ATLS_OK;
        }
    }
    ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "EAR: \"%.40s\" is not an ear_status",
               name != NULL ? name : "(null)");
}

atls_error atls_ear_vector_to_json(const atls_trust_vector *tv, json_t **out)
{
    json_t *o = json_object();
    ATLS_ENSURE(o != NULL, ATLS_ERR_INTERNAL_ALLOC, "EAR: out of memory");
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        int8_t v = slot_value(tv, i);
        if (v != 0 && json_object_set_new(o, slots[i].name, json_integer(v)) != 0) {
            json_decref(o);
            ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "EAR: out of memory");
        }
    }
    *out = o;
    return ATLS_OK;
}

atls_error atls_ear_vector_from_json(const json_t *o, atls_trust_vector *tv)
{
    memset(tv, 0, sizeof(*tv));
    if (o == NULL) {
        return ATLS_OK;
    }
    ATLS_ENSURE(json_is_object(o), ATLS_ERR_DECODE_VALUE,
                "EAR: ear_trustworthiness_vector is not an object");
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)o, name, v) {
        size_t i = 0;
        while (i < sizeof(slots) / sizeof(slots[0]) && strcmp(slots[i].name, name) != 0) {
            i++;
        }
        ATLS_ENSURE(i < sizeof(slots) / sizeof(slots[0]), ATLS_ERR_DECODE_VALUE,
                    "EAR: unknown trustworthiness claim \"%.40s\"", name);
        json_int_t n = json_is_integer(v) ? json_integer_value(v) : 1000;
        ATLS_ENSURE(n >= -128 && n <= 127, ATLS_ERR_DECODE_VALUE,
                    "EAR: trustworthiness claim %s is not an integer in -128..127", name);
        int8_t b = (int8_t)n;
        memcpy((unsigned char *)tv + slots[i].offset, &b, sizeof(b));
    }
    return ATLS_OK;
}

atls_error atls_ear_new(time_t iat, const char *build, const uint8_t *nonce, size_t nonce_len,
                        json_t **out)
{
    if (build == NULL) {
        build = ATLS_VERSION;
    }
    ATLS_ENSURE(*build != '\0', ATLS_ERR_USAGE, "EAR: empty build string");
    ATLS_ENSURE(iat >= 0 && iat <= INT64_MAX - ATLS_EAR_LIFETIME, ATLS_ERR_USAGE,
                "EAR: iat out of range");
    /* RFC 9711 section 4.1: eat_nonce is 8..64 bytes */
    ATLS_ENSURE(nonce == NULL || (nonce_len >= 8 && nonce_len <= 64), ATLS_ERR_USAGE,
                "EAR: eat_nonce must be 8..64 bytes, not %zu", nonce_len);
    char *nonce_b64 = NULL;
    if (nonce != NULL) {
        ATLS_GUARD(atls_b64url_encode(nonce, nonce_len, &nonce_b64));
    }
    /* -04 section 3: exp, an integer like iat, after which the EAR must not be accepted */
    json_t *ear = json_pack("{s:s, s:I, s:I, s:{s:s, s:s}, s:s, s:{}}", "eat_profile",
                            ATLS_EAR_PROFILE, "iat", (json_int_t)iat, "exp",
                            (json_int_t)iat + ATLS_EAR_LIFETIME, "ear_verifier_id",
                            "developer", ATLS_EAR_DEVELOPER, "build", build, "ear_status",
                            atls_ear_tier_name(ATLS_EAR_TIER_NONE), "submods");
    if (ear != NULL && nonce_b64 != NULL &&
        json_object_set_new(ear, "eat_nonce", json_string(nonce_b64)) != 0) {
        json_decref(ear);
        ear = NULL;
    }
    free(nonce_b64);
    ATLS_ENSURE(ear != NULL, ATLS_ERR_INTERNAL_ALLOC,
                "EAR: cannot build the claims (out of memory or build is not UTF-8)");
    *out = ear;
    return ATLS_OK;
}

atls_error atls_ear_add_submod(json_t *ear, const char *name, const atls_trust_vector *tv,
                               const char *const *policy_ids, const json_t *claims,
                               const char *failure)
{
    ATLS_ENSURE(ear != NULL && name != NULL && *name != '\0' && tv != NULL, ATLS_ERR_USAGE,
                "EAR: submod needs an EAR, a name and a vector");
    json_t *submods = json_object_get(ear, "submods");
    ATLS_ENSURE(json_is_object(submods), ATLS_ERR_USAGE,
                "EAR: object was not made by atls_ear_new");
    ATLS_ENSURE(json_object_get(submods, name) == NULL, ATLS_ERR_USAGE,
                "EAR: submod \"%.60s\" added twice", name);
    atls_ear_tier tier = atls_ear_tier_from_vector(tv);
    ATLS_ENSURE((tier == ATLS_EAR_TIER_CONTRAINDICATED) == (failure != NULL), ATLS_ERR_USAGE,
                "EAR: submod \"%.60s\": a failure reason is required exactly when the vector "
                "is contraindicated (status %s)",
                name, atls_ear_tier_name(tier));
    ATLS_ENSURE(failure == NULL || (*failure != '\0' && strpbrk(failure, "\r\n") == NULL),
                ATLS_ERR_USAGE, "EAR: failure reason must be one non-empty line");
    ATLS_ENSURE(claims == NULL || json_is_object(claims), ATLS_ERR_USAGE,
                "EAR: evidence claims must be a JSON object");

    atls_error rc = ATLS_OK;
    json_t *sub = json_object();
    json_t *vec = NULL;
    if (sub == NULL ||
        json_object_set_new(sub, "ear_status", json_string(atls_ear_tier_name(tier))) != 0) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "EAR: out of memory");
    }
    ATLS_GUARD_GOTO(rc, fail, atls_ear_vector_to_json(tv, &vec));
    if (json_object_size(vec) > 0) { /* the draft forbids an empty vector: leave it out */
        if (json_object_set(sub, "ear_trustworthiness_vector", vec) != 0) {
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "EAR: out of memory");
        }
    }
    if (policy_ids != NULL && policy_ids[0] != NULL) {
        json_t *ids = json_array();
        if (ids == NULL || json_object_set_new(sub, "ear_appraisal_policy_ids", ids) != 0) {
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "EAR: out of memory");
        }
        for (size_t i = 0; policy_ids[i] != NULL; i++) {
            if (json_array_append_new(ids, json_string(policy_ids[i])) != 0) {
                ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_USAGE,
                               "EAR: policy id %zu is not UTF-8 (or out of memory)", i);
            }
        }
    }
    /* -04 section 3.1: claims maps are non-empty; an empty one is left out */
    if (claims != NULL && json_object_size(claims) > 0 &&
        json_object_set_new(sub, "ear_attester_claims", json_deep_copy(claims)) != 0) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "EAR: out of memory");
    }
    if (failure != NULL) {
        json_t *reason = json_string(failure);
        if (reason == NULL) {
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_USAGE, "EAR: failure reason is not UTF-8");
        }
        if (json_object_set_new(sub, "ear_verifier_claims", json_pack("{s:o}", "failure", reason)) !=
            0) {
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "EAR: out of memory");
        }
    }
    if (json_object_set_new(submods, name, sub) != 0) {
        sub = NULL; /* json_object_set_new consumed it even on failure */
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_USAGE, "EAR: submod name is not UTF-8");
    }
    sub = NULL;
    /* the top-level status: the worst submod (it may not claim more than any of them) */
    atls_ear_tier top = ATLS_EAR_TIER_NONE;
    const char *key;
    json_t *val;
    json_object_foreach(submods, key, val)
    {
        atls_ear_tier t = ATLS_EAR_TIER_NONE;
        if (atls_ear_tier_from_name(json_string_value(json_object_get(val, "ear_status")), &t) ==
                ATLS_OK &&
            t > top) {
            top = t;
        }
    }
    if (json_object_set_new(ear, "ear_status", json_string(atls_ear_tier_name(top))) != 0) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "EAR: out of memory");
    }
fail:
    json_decref(vec);
    json_decref(sub);
    return rc;
}

atls_error atls_ear_to_json_string(const json_t *ear, bool pretty, char **out)
{
    size_t flags = JSON_SORT_KEYS | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    char *s = json_dumps(ear, flags);
    ATLS_ENSURE(s != NULL, ATLS_ERR_INTERNAL_ALLOC, "EAR: cannot serialise the claims");
    *out = s;
    return ATLS_OK;
}
