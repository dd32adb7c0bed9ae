/* tdx_policy.c: the "tdx" policy section: shape check, appraisal, strict policy from a result.
 * Keys: docs/EVIDENCE.md. */
#include "evidence/tdx/tdx_internal.h"

#include "base/result.h"
#include "evidence/core/claims.h"
#include "evidence/eventlog/eventlog.h"

#include <string.h>
#include <strings.h>

#define INVALID ATLS_ERR_POLICY_INVALID
#define MISMATCH ATLS_ERR_POLICY_MISMATCH
#define UNAPPRAISED ATLS_ERR_POLICY_UNAPPRAISED

/* Allowed-value lists; the policy key equals the claim name. */
static const struct {
    const char *key;
    size_t len;
} hex_lists[] = {
    {"mrtd", 48},          {"rtmr0", 48},   {"rtmr1", 48},        {"rtmr2", 48},
    {"rtmr3", 48},         {"mrconfigid", 48}, {"mrowner", 48},   {"mrownerconfig", 48},
    {"mrseam", 48},        {"mrsignerseam", 48}, {"xfam", 8},     {"td_attributes", 8},
    {"fmspc", 6},
};
#define N_HEX_LISTS (sizeof(hex_lists) / sizeof(hex_lists[0]))

/* Instance pinning (opt-in, never written by policy_from_result): the platforms this service
 * may run on, by PPID or by PCK certificate key. One extracted, unrevoked attestation key makes
 * quotes for any TD; only a pin on the platform stops a second machine holding it. */
static const struct {
    const char *key, *claim;
    size_t len;
} pins[] = {{"ppids", "ppid", 16}, {"pck_key_ids", "pck_key_id", 32}};
#define N_PINS (sizeof(pins) / sizeof(pins[0]))

atls_error atls_tdx_check_policy(const json_t *policy)
{
    const char *key;
    json_t *v;
    ATLS_ENSURE(json_is_object(policy), INVALID, "policy tdx: expected an object");
    json_object_foreach((json_t *)policy, key, v) {
        int known = 0;
        for (size_t i = 0; i < N_HEX_LISTS && !known; i++) {
            if (strcmp(key, hex_lists[i].key) == 0) {
                ATLS_GUARD(atls_policy_check_hex_list(v, hex_lists[i].len, key));
                known = 1;
            }
        }
        for (size_t i = 0; i < N_PINS && !known; i++) {
            if (strcmp(key, pins[i].key) == 0) {
                ATLS_GUARD(atls_policy_check_hex_list(v, pins[i].len, key));
                known = 1;
            }
        }
        if (known) {
            continue;
        }
        if (strcmp(key, "allow_debug") == 0 || strcmp(key, "require_challenge") == 0 ||
            strcmp(key, "any_mrtd") == 0 || strcmp(key, "allow_sept_ve") == 0 ||
            strcmp(key, "allow_unappraised_qe") == 0 ||
            strcmp(key, "allow_unchecked_revocation") == 0) {
            ATLS_ENSURE(json_is_boolean(v), INVALID, "policy tdx.%s: expected a boolean", key);
        } else if (strcmp(key, "eventlog") == 0) {
            /* events of the CC event log (CCEL), as the tpm2 section's (docs/POLICY.md) */
            ATLS_GUARD(atls_evlog_policy_check(v, NULL));
        } else if (strcmp(key, "mrservicetd") == 0) {
            ATLS_GUARD(atls_policy_check_hex_list(v, 48, key));
        } else if (strcmp(key, "allowed_tcb_statuses") == 0) {
            size_t j;
            json_t *e;
            atls_tdx_tcb_status st;
            ATLS_ENSURE(json_is_array(v), INVALID, "policy tdx.%s: expected an array", key);
            json_array_foreach(v, j, e) {
                const char *s = json_string_value(e);
                ATLS_ENSURE(s != NULL && (atls_tdx_tcb_status_parse(s, &st) ||
                                          strcmp(s, "NotEvaluated") == 0),
                            INVALID, "policy tdx.allowed_tcb_statuses[%zu]: unknown status", j);
            }
        } else {
            ATLS_RAISE(INVALID, "policy tdx: unknown key \"%s\"", key);
        }
    }
    /* accepting any TD (any initial measurement) must be written out */
    ATLS_ENSURE((json_object_get(policy, "mrtd") != NULL) !=
                    json_is_true(json_object_get(policy, "any_mrtd")),
                INVALID, "policy tdx: give either \"mrtd\" or \"any_mrtd\": true");
    return ATLS_OK;
}

/* status_in_list: |have| is one of the (case-sensitive) TCB status names in |list|. */
static int status_in_list(const json_t *list, const char *have)
{
    size_t j;
    json_t *e;
    json_array_foreach(list, j, e) {
        const char *s = json_string_value(e);
        if (have != NULL && s != NULL && strcmp(have, s) == 0) {
            return 1;
        }
    }
    return 0;
}

/* in_array: the string |name| is an element of the JSON array |a|. */
static int in_array(const json_t *a, const char *name)
{
    size_t j;
    json_t *e;
    json_array_foreach(a, j, e) {
        if (json_is_string(e) && strcmp(json_string_value(e), name) == 0) {
            return 1;
        }
    }
    return 0;
}

static int all_zero_hex(const char *h)
{
    for (; h != NULL && *h != '\0'; h++) {
        if (*h != '0') {
            return 0;
        }
    }
    return 1;
}

static int8_t worse(int8_t a, int8_t b)
{
    return a > b ? a : b;
}

atls_error atls_tdx_appraise(const json_t *policy, const atls_evidence_result *res,
                             atls_trust_vector *tv)
{
    const json_t *c = res != NULL ? res->claims : NULL;
    ATLS_ENSURE(json_is_object(c), ATLS_ERR_USAGE, "TDX appraise: result has no claims");
    ATLS_GUARD(atls_tdx_check_policy(policy));
    int8_t configuration = 2;
    for (size_t i = 0; i < N_HEX_LISTS; i++) {
        const json_t *allowed = json_object_get(policy, hex_lists[i].key);
        const char *have = json_string_value(json_object_get(c, hex_lists[i].key));
        ATLS_ENSURE(allowed == NULL || (have != NULL && atls_policy_hex_in_list(allowed, have)), MISMATCH,
                    "TDX policy: %s %s is not an allowed value", hex_lists[i].key,
                    have != NULL ? have : "(absent)");
    }
    for (size_t i = 0; i < N_PINS; i++) {
        const json_t *allowed = json_object_get(policy, pins[i].key);
        const char *have = json_string_value(json_object_get(c, pins[i].claim));
        ATLS_ENSURE(allowed == NULL || (have != NULL && atls_policy_hex_in_list(allowed, have)),
                    ATLS_ERR_POLICY_INSTANCE, "TDX policy: %s %s is not in %s", pins[i].claim,
                    have != NULL ? have : "(absent)", pins[i].key);
    }
    const json_t *allow_debug = json_object_get(policy, "allow_debug");
    int debug = json_is_true(json_object_get(c, "debug"));
    ATLS_ENSURE(!debug || json_is_true(allow_debug), MISMATCH,
                "TDX policy: td_attributes.debug is set and allow_debug is false");
    configuration = debug ? 32 : configuration;
    /* a TD without SEPT_VE_DISABLE takes #VE on EPT violations the host can provoke: refused
     * unless allowed by name (other verifiers refuse it by default too) */
    int sept_ve_disable =
        json_is_true(json_object_get(json_object_get(c, "td_attributes_bits"), "sept_ve_disable"));
    ATLS_ENSURE(sept_ve_disable || json_is_true(json_object_get(policy, "allow_sept_ve")),
                MISMATCH,
                "TDX policy: td_attributes.sept_ve_disable is clear and allow_sept_ve is false");
    configuration = sept_ve_disable ? configuration : worse(configuration, 32);
    /* a TDX 1.5 TD bound to a service TD (MRSERVICETD non-zero) trusts that TD: only a listed
     * one is accepted */
    const char *service = json_string_value(json_object_get(c, "mrservicetd"));
    const json_t *services = json_object_get(policy, "mrservicetd");
    ATLS_ENSURE(all_zero_hex(service) ||
                    (services != NULL && atls_policy_hex_in_list(services, service)),
                MISMATCH, "TDX policy: mrservicetd %s is not zero and not an allowed value",
                service != NULL ? service : "(absent)");
    /* trust inputs that were not given: each accepted only by name, and then a warning */
    const json_t *missing = json_object_get(c, "unappraised");
    const char *status_claim = "tcb_status";
    if (in_array(missing, "qe_identity") && !in_array(missing, "tcb_info")) {
        ATLS_ENSURE(json_is_true(json_object_get(policy, "allow_unappraised_qe")), UNAPPRAISED,
                    "TDX policy: the QE report was not appraised (no QE Identity given) and "
                    "allow_unappraised_qe is false");
        status_claim = "platform_tcb_status";
        configuration = worse(configuration, 36);
    }
    if (in_array(missing, "crls")) {
        ATLS_ENSURE(json_is_true(json_object_get(policy, "allow_unchecked_revocation")),
                    UNAPPRAISED,
                    "TDX policy: revocation was not checked (the root CA CRL and the PCK CRL are "
                    "needed) and allow_unchecked_revocation is false");
        configuration = worse(configuration, 36);
    }
    const json_t *st = json_object_get(policy, "allowed_tcb_statuses");
    const char *status = json_string_value(json_object_get(c, status_claim));
    int status_ok = st != NULL ? status_in_list(st, status)
                               : status != NULL && strcmp(status, "UpToDate") == 0;
    ATLS_ENSURE(status_ok, in_array(missing, "tcb_info") ? UNAPPRAISED : MISMATCH,
                "TDX policy: %s %s is not allowed%s", status_claim,
                status != NULL ? status : "(absent)",
                st == NULL ? " (default: UpToDate only)" : "");
    if (in_array(missing, "tcb_info")) {
        configuration = worse(configuration, 36); /* "NotEvaluated" listed by name */
    }
    ATLS_ENSURE(!json_is_true(json_object_get(policy, "require_challenge")) ||
                    res->challenge_checked,
                MISMATCH, "TDX policy: report_data was not checked against a challenge");
    const json_t *eventlog = json_object_get(policy, "eventlog");
    if (eventlog != NULL) {
        atls_error rc = atls_evlog_policy_appraise(eventlog, NULL, c);
        if (rc != ATLS_OK) {
            if (tv != NULL) {
                tv->executables = 96; /* AR4SI: contraindicated */
            }
            return rc;
        }
    }
    if (tv != NULL) {
        /* AR4SI executables 33: runtime not recognised (any_mrtd accepts any TD) */
        tv->executables = json_object_get(policy, "mrtd") != NULL ? 2 : 33;
        tv->configuration = configuration;
        tv->hardware = res->tv.hardware;
        tv->instance_identity = res->tv.instance_identity;
    }
    return ATLS_OK;
}

atls_error atls_tdx_policy_from_result(const atls_evidence_result *res, json_t **out)
{
    const json_t *c = res != NULL ? res->claims : NULL;
    ATLS_ENSURE(json_is_object(c) && out != NULL, ATLS_ERR_USAGE,
                "TDX policy_from_result: result has no claims");
    json_t *p = json_object();
    int ok = p != NULL;
    for (size_t i = 0; ok && i < N_HEX_LISTS; i++) {
        json_t *v = json_object_get(c, hex_lists[i].key);
        json_t *a = json_array();
        ok = v != NULL && a != NULL && json_array_append(a, v) == 0 &&
             json_object_set_new(p, hex_lists[i].key, a) == 0;
        if (!ok) {
            json_decref(a);
        }
    }
    /* the strict values, whatever this result shows: every relaxation is the user's own edit
     * (the policy may then refuse |res| itself; `atls policy init` says so) */
    json_t *st = json_array();
    ok = ok && st != NULL && json_array_append_new(st, json_string("UpToDate")) == 0 &&
         json_object_set_new(p, "allowed_tcb_statuses", st) == 0;
    ok = ok && json_object_set_new(p, "allow_debug", json_false()) == 0 &&
         json_object_set_new(p, "allow_sept_ve", json_false()) == 0 &&
         json_object_set_new(p, "allow_unappraised_qe", json_false()) == 0 &&
         json_object_set_new(p, "allow_unchecked_revocation", json_false()) == 0 &&
         json_object_set_new(p, "require_challenge", json_boolean(res->challenge_checked)) == 0;
    /* a CC event log that came with the quote: its events as the "eventlog" object */
    ok = ok && atls_evlog_policy_from_claims(c, p) == ATLS_OK;
    if (!ok) {
        json_decref(p);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "TDX policy_from_result: claims incomplete");
    }
    *out = p;
    return ATLS_OK;
}
