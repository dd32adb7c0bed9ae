/* cca_policy.c: the "cca" policy section: shape check, appraisal of the claims, and a strict
 * policy generated from a result (trust on first use). Keys: docs/EVIDENCE.md. */
#include "evidence/cca/cca_internal.h"

#include "base/result.h"
#include "evidence/core/claims.h"

#include <string.h>

#define INVALID ATLS_ERR_POLICY_INVALID
#define MISMATCH ATLS_ERR_POLICY_MISMATCH

/* Allowed-value lists of hex strings: policy key, where the claim lives, its name, length. */
static const struct {
    const char *key, *part, *claim;
    size_t len; /* 0: any digest length */
} hex_lists[] = {
    {"realm_initial_measurements", "realm", "initial_measurement", 0},
    {"rem0", "realm", "rem0", 0},
    {"rem1", "realm", "rem1", 0},
    {"rem2", "realm", "rem2", 0},
    {"rem3", "realm", "rem3", 0},
    {"personalization_values", "realm", "personalization_value", ATLS_CCA_PERSONALIZATION_LEN},
    {"implementation_ids", "platform", "implementation_id", 32},
};
#define N_HEX_LISTS (sizeof(hex_lists) / sizeof(hex_lists[0]))

static const char *const policy_keys[] = {
    "realm_initial_measurements", "rem0", "rem1", "rem2", "rem3", "personalization_values",
    "implementation_ids", "platform_sw_components", "lifecycles", "cpak_key_ids",
    "require_challenge", "any_realm_initial_measurement", NULL};

static const char *const lifecycle_states[] = {"unknown", "assembly_and_test",
                                               "psa_rot_provisioning", "secured",
                                               "non_psa_rot_debug", "recoverable_psa_rot_debug",
                                               "decommissioned"};

static int is_state_name(const char *s)
{
    for (size_t i = 0; i < sizeof(lifecycle_states) / sizeof(lifecycle_states[0]); i++) {
        if (strcmp(s, lifecycle_states[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

atls_error atls_cca_check_policy(const json_t *policy)
{
    ATLS_ENSURE(json_is_object(policy), INVALID, "policy cca: expected an object");
    ATLS_GUARD(atls_policy_check_keys(policy, policy_keys));
    for (size_t i = 0; i < N_HEX_LISTS; i++) {
        const json_t *v = json_object_get(policy, hex_lists[i].key);
        if (v != NULL) {
            ATLS_GUARD(atls_policy_check_hex_list(v, hex_lists[i].len, hex_lists[i].key));
        }
    }
    const json_t *keys = json_object_get(policy, "cpak_key_ids");
    if (keys != NULL) {
        ATLS_GUARD(atls_policy_check_hex_list(keys, 32, "cpak_key_ids"));
    }
    ATLS_GUARD(atls_policy_check_bool(policy, "require_challenge"));
    ATLS_GUARD(atls_policy_check_bool(policy, "any_realm_initial_measurement"));
    /* accepting any realm (any initial measurement) must be written out */
    ATLS_ENSURE((json_object_get(policy, "realm_initial_measurements") != NULL) !=
                    atls_policy_get_bool(policy, "any_realm_initial_measurement", 0),
                INVALID,
                "policy cca: give either \"realm_initial_measurements\" or "
                "\"any_realm_initial_measurement\": true");
    const json_t *sw = json_object_get(policy, "platform_sw_components");
    if (sw != NULL) {
        ATLS_ENSURE(json_is_object(sw), INVALID,
                    "policy cca.platform_sw_components: expected an object {type: [hex, ...]}");
        const char *type;
        json_t *list;
        json_object_foreach((json_t *)sw, type, list) {
            ATLS_GUARD(atls_policy_check_hex_list(list, 0, type));
        }
    }
    const json_t *lc = json_object_get(policy, "lifecycles");
    if (lc != NULL) {
        size_t i;
        json_t *e;
        ATLS_ENSURE(json_is_array(lc), INVALID, "policy cca.lifecycles: expected an array");
        json_array_foreach(lc, i, e) {
            int ok = (json_is_integer(e) && json_integer_value(e) >= 0 &&
                      json_integer_value(e) <= 0xffff) ||
                     (json_is_string(e) && is_state_name(json_string_value(e)));
            ATLS_ENSURE(ok, INVALID,
                        "policy cca.lifecycles[%zu]: expected an integer 0..65535 or a state "
                        "name (\"secured\", \"non_psa_rot_debug\", ...)",
                        i);
        }
    }
    return ATLS_OK;
}

/* lifecycle_allowed: by the policy list (exact value or state name), or by default only the
 * "secured" states 0x3000..0x30ff. */
static int lifecycle_allowed(const json_t *list, json_int_t v)
{
    if (list == NULL) {
        return v >= 0x3000 && v <= 0x30ff;
    }
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        if (json_is_integer(e) && json_integer_value(e) == v) {
            return 1;
        }
        if (json_is_string(e) && v >= 0 &&
            strcmp(json_string_value(e), atls_cca_lifecycle_state((uint64_t)v)) == 0) {
            return 1;
        }
    }
    return 0;
}

ATLS_MUST_CHECK static atls_error check_sw(const json_t *allowed, const json_t *comps)
{
    size_t i;
    json_t *comp;
    json_array_foreach(comps, i, comp) {
        const char *type = json_string_value(json_object_get(comp, "type"));
        const char *meas = json_string_value(json_object_get(comp, "measurement"));
        const json_t *list = json_object_get(allowed, type != NULL ? type : "");
        ATLS_ENSURE(list != NULL && meas != NULL && atls_policy_hex_in_list(list, meas), MISMATCH,
                    "CCA policy: platform sw component \"%s\" measurement %s is not allowed",
                    type != NULL ? type : "", meas != NULL ? meas : "(absent)");
    }
    const char *type;
    json_t *list;
    json_object_foreach((json_t *)allowed, type, list) {
        int found = 0;
        json_array_foreach(comps, i, comp) {
            const char *have = json_string_value(json_object_get(comp, "type"));
            found |= strcmp(have != NULL ? have : "", type) == 0;
        }
        ATLS_ENSURE(found, MISMATCH, "CCA policy: platform sw component \"%s\" is missing", type);
    }
    return ATLS_OK;
}

atls_error atls_cca_appraise(const json_t *policy, const atls_evidence_result *res,
                             atls_trust_vector *tv)
{
    const json_t *c = res != NULL ? res->claims : NULL;
    ATLS_ENSURE(json_is_object(c), ATLS_ERR_USAGE, "CCA appraise: result has no claims");
    ATLS_GUARD(atls_cca_check_policy(policy));
    const json_t *platform = json_object_get(c, "platform");
    atls_trust_vector v = res->tv;

    const json_t *keys = json_object_get(policy, "cpak_key_ids");
    if (keys != NULL && !atls_policy_hex_in_list(keys, res->key_id)) {
        if (tv != NULL) {
            tv->instance_identity = 97; /* AR4SI: unrecognized instance */
        }
        ATLS_RAISE(ATLS_ERR_POLICY_UNTRUSTED_KEY,
                   "CCA policy: platform key %s is not in cpak_key_ids", res->key_id);
    }
    for (size_t i = 0; i < N_HEX_LISTS; i++) {
        const json_t *allowed = json_object_get(policy, hex_lists[i].key);
        if (allowed == NULL) {
            continue;
        }
        const char *have = json_string_value(
            json_object_get(json_object_get(c, hex_lists[i].part), hex_lists[i].claim));
        ATLS_ENSURE(have != NULL && atls_policy_hex_in_list(allowed, have), MISMATCH,
                    "CCA policy: %s.%s %s is not an allowed value", hex_lists[i].part,
                    hex_lists[i].claim, have != NULL ? have : "(absent)");
    }
    const json_t *sw = json_object_get(policy, "platform_sw_components");
    if (sw != NULL) {
        ATLS_GUARD(check_sw(sw, json_object_get(platform, "sw_components")));
    }
    json_int_t lc = json_integer_value(json_object_get(platform, "lifecycle"));
    ATLS_ENSURE(lifecycle_allowed(json_object_get(policy, "lifecycles"), lc), MISMATCH,
                "CCA policy: platform lifecycle 0x%04llx (%s) is not allowed", (long long)lc,
                atls_cca_lifecycle_state((uint64_t)lc));
    ATLS_ENSURE(!atls_policy_get_bool(policy, "require_challenge", 0) || res->challenge_checked,
                MISMATCH, "CCA policy: the realm challenge was not checked against a challenge");
    if (tv != NULL) {
        /* AR4SI: 2 = approved; 32 = warning (a lifecycle other than "secured", e.g. debug, that
         * the policy allows explicitly). */
        int measured = json_object_get(policy, "realm_initial_measurements") != NULL ||
                       sw != NULL;
        v.executables = measured ? 2 : 33; /* AR4SI 33: runtime not recognised (any realm) */
        v.configuration = 2;
        v.hardware = (lc >= 0x3000 && lc <= 0x30ff) ? res->tv.hardware : 32;
        *tv = v;
    }
    return ATLS_OK;
}

static json_t *one(const json_t *v)
{
    json_t *a = json_array();
    if (a != NULL && (v == NULL || json_array_append(a, (json_t *)v) != 0)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

atls_error atls_cca_policy_from_result(const atls_evidence_result *res, json_t **out)
{
    const json_t *c = res != NULL ? res->claims : NULL;
    ATLS_ENSURE(json_is_object(c) && out != NULL, ATLS_ERR_USAGE,
                "CCA policy_from_result: result has no claims");
    json_t *p = json_object();
    json_t *sw = json_object();
    int ok = p != NULL && sw != NULL;
    for (size_t i = 0; ok && i < N_HEX_LISTS; i++) {
        const json_t *v = json_object_get(json_object_get(c, hex_lists[i].part),
                                          hex_lists[i].claim);
        ok = json_object_set_new(p, hex_lists[i].key, one(v)) == 0;
    }
    const json_t *platform = json_object_get(c, "platform");
    size_t i;
    json_t *comp;
    json_array_foreach(json_object_get(platform, "sw_components"), i, comp) {
        const char *type = json_string_value(json_object_get(comp, "type"));
        const json_t *meas = json_object_get(comp, "measurement");
        json_t *list = json_object_get(sw, type != NULL ? type : "");
        if (ok && list == NULL) {
            ok = json_object_set_new(sw, type != NULL ? type : "", one(meas)) == 0;
        } else if (ok) {
            ok = json_array_append(list, (json_t *)meas) == 0;
        }
    }
    ok = ok && json_object_set(p, "platform_sw_components", sw) == 0;
    ok = ok && json_object_set_new(p, "lifecycles", one(json_object_get(platform, "lifecycle"))) ==
                   0;
    ok = ok && json_object_set_new(p, "cpak_key_ids", one(json_object_get(c, "key_id"))) == 0;
    json_decref(sw);
    if (!ok) {
        json_decref(p);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "CCA policy_from_result: out of memory or claims "
                                            "incomplete");
    }
    *out = p;
    return ATLS_OK;
}
