/* tpm2_ops.c: the "tpm2" verifier and attester plug-ins (include/atls/evidence.h). */
#include "evidence/tpm2/tpm2.h"

#include "base/hex.h"
#include "base/result.h"
#include "evidence/core/claims.h"
#include "evidence/eventlog/eventlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* AR4SI trustworthiness values (draft-ietf-rats-ar4si): 2 affirming, 96 contraindicated,
 * 97 unrecognized instance, executables 33 (runtime not recognised). AR4SI defines no warning
 * value for instance identity: atls uses 32, inside the warning band, for an AK the policy
 * accepts without recognising it ("ak_any"): accepted, never affirmed. */
#define TV_AFFIRMING 2
#define TV_ACCEPTED_UNRECOGNIZED 32
#define TV_EXECUTABLES_UNRECOGNIZED 33
#define TV_CONTRAINDICATED 96
#define TV_UNRECOGNIZED 97

/* ---- verifier ---- */

static atls_error pcr_claims(const atls_tpm2_quote *q, json_t *claims)
{
    json_t *pcrs = json_object();
    ATLS_ENSURE(pcrs != NULL && json_object_set_new(claims, "pcrs", pcrs) == 0,
                ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    for (size_t i = 0; i < q->num_pcrs; i++) {
        const atls_tpm2_pcr_value *v = &q->pcrs[i];
        const char *bank = atls_tpm2_hash_name(v->alg); /* known: the digest check passed */
        ATLS_ENSURE(bank != NULL, ATLS_ERR_INTERNAL, "PCR bank 0x%04x has no name", v->alg);
        json_t *b = json_object_get(pcrs, bank);
        if (b == NULL) {
            b = json_object();
            ATLS_ENSURE(b != NULL && json_object_set_new(pcrs, bank, b) == 0,
                        ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        }
        char idx[4];
        snprintf(idx, sizeof(idx), "%u", v->index);
        ATLS_GUARD(atls_claims_set_hex(b, idx, v->digest, v->digest_len));
    }
    return ATLS_OK;
}

static atls_error claims_of(const atls_tpm2_quote *q, const atls_tpm2_verified *v, json_t *c)
{
    const atls_tpm2_attest *a = &v->attest;
    uint8_t fw[8];
    for (int i = 0; i < 8; i++) {
        fw[i] = (uint8_t)(a->firmware_version >> (56 - 8 * i));
    }
    ATLS_GUARD(pcr_claims(q, c));
    ATLS_GUARD(atls_claims_set_hex(c, "ak_name", v->ak.name, v->ak.name_len));
    ATLS_GUARD(atls_claims_set_hex(c, "qualified_signer", a->qualified_signer,
                                   a->qualified_signer_len));
    ATLS_GUARD(atls_claims_set_str(c, "ak_hierarchy", v->ak_hierarchy));
    ATLS_GUARD(atls_claims_set_bool(c, "ak_cert_verified", v->ak_cert_verified));
    ATLS_ENSURE(a->clock <= INT64_MAX, ATLS_ERR_EVIDENCE, "TPM quote: clock out of range");
    ATLS_GUARD(atls_claims_set_int(c, "clock", (int64_t)a->clock));
    ATLS_GUARD(atls_claims_set_int(c, "reset_count", a->reset_count));
    ATLS_GUARD(atls_claims_set_int(c, "restart_count", a->restart_count));
    ATLS_GUARD(atls_claims_set_bool(c, "safe", a->safe));
    ATLS_GUARD(atls_claims_set_hex(c, "firmware_version", fw, sizeof(fw)));
    return ATLS_OK;
}

/* eventlog_claims: the firmware log and the IMA list that came with the quote, replayed
 * against the quoted PCRs (only after the quote itself verified: the values are signed). */
static atls_error eventlog_claims(const atls_tpm2_quote *q, const atls_verify_input *in,
                                  json_t *claims)
{
    if (in->num_eventlogs == 0 && in->eventlog_state == NULL) {
        return ATLS_OK;
    }
    atls_evlog_quoted *quoted = calloc(q->num_pcrs + 1, sizeof(*quoted));
    ATLS_ENSURE(quoted != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    for (size_t i = 0; i < q->num_pcrs; i++) {
        quoted[i].alg = q->pcrs[i].alg;
        quoted[i].reg = q->pcrs[i].index;
        quoted[i].value = q->pcrs[i].digest;
        quoted[i].len = q->pcrs[i].digest_len;
    }
    atls_error rc = atls_evlog_verify(in->eventlogs, in->num_eventlogs,
                                      (1u << ATLS_EVLOG_TPM) | (1u << ATLS_EVLOG_IMA), quoted,
                                      q->num_pcrs, in->eventlog_state, claims);
    free(quoted);
    return rc;
}

static atls_error tpm2_verify(const uint8_t *evidence, size_t len, const atls_verify_input *in,
                              atls_evidence_result *out)
{
    static const atls_verify_input none = {0};
    ATLS_ENSURE(out != NULL, ATLS_ERR_USAGE, "tpm2 verify: no result");
    memset(out, 0, sizeof(*out));
    if (in == NULL) {
        in = &none;
    }
    atls_tpm2_quote q;
    atls_tpm2_verified v;
    memset(&v, 0, sizeof(v));
    atls_error rc = atls_tpm2_quote_decode(evidence, len, &q);
    if (rc == ATLS_OK) {
        atls_tpm2_verify_opts o = {.challenge = in->challenge,
                                   .challenge_len = in->challenge != NULL ? ATLS_CHALLENGE_LEN : 0,
                                   .trust_anchors = in->tpm_ak_anchors != NULL
                                                        ? in->tpm_ak_anchors
                                                        : in->trust_anchors,
                                   .intermediates = in->intermediates,
                                   .at = in->at};
        rc = atls_tpm2_verify_quote(&q, &o, &v);
    }
    if (rc == ATLS_OK) {
        out->claims = json_object();
        rc = out->claims != NULL ? claims_of(&q, &v, out->claims)
                                 : atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__,
                                                    "out of memory");
    }
    if (rc == ATLS_OK) {
        rc = eventlog_claims(&q, in, out->claims);
    }
    if (rc == ATLS_OK) {
        rc = atls_key_id(v.ak.key, out->key_id);
    }
    if (rc == ATLS_OK) {
        out->type = "tpm2";
        out->challenge_checked = v.challenge_checked;
    } else {
        atls_evidence_result_cleanup(out);
    }
    atls_tpm2_verified_cleanup(&v);
    atls_tpm2_quote_cleanup(&q);
    return rc;
}

/* "<index>": decimal 0..31 without leading zeros, so policy and claims keys compare as text. */
static int index_ok(const char *s)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    return s[0] >= '0' && s[0] <= '9' && end != s && *end == '\0' && errno == 0 &&
           v < 8 * ATLS_TPM2_MAX_SELECT && (s[0] != '0' || s[1] == '\0');
}

static atls_error tpm2_check_policy(const json_t *policy)
{
    static const char *const keys[] = {"ak_keys", "ak_any", "pcrs", "any_pcrs",
                                       "require_challenge", "eventlog", "ima", NULL};
    ATLS_ENSURE(json_is_object(policy), ATLS_ERR_POLICY_INVALID,
                "TPM policy: section is not an object");
    ATLS_GUARD(atls_policy_check_keys(policy, keys));
    ATLS_GUARD(atls_policy_check_bool(policy, "ak_any"));
    ATLS_GUARD(atls_policy_check_bool(policy, "require_challenge"));
    const json_t *ak_keys = json_object_get(policy, "ak_keys");
    if (ak_keys != NULL) {
        ATLS_GUARD(atls_policy_check_hex_list(ak_keys, 32, "tpm2.ak_keys"));
    }
    ATLS_ENSURE(ak_keys != NULL || atls_policy_get_bool(policy, "ak_any", 0),
                ATLS_ERR_POLICY_INVALID, "TPM policy: needs ak_keys or \"ak_any\": true");
    ATLS_GUARD(atls_policy_check_bool(policy, "any_pcrs"));
    const json_t *pcrs = json_object_get(policy, "pcrs");
    const json_t *eventlog = json_object_get(policy, "eventlog");
    const json_t *ima = json_object_get(policy, "ima");
    ATLS_GUARD(atls_evlog_policy_check(eventlog, ima));
    /* accepting any platform state must be written out: "any_pcrs": true; an event policy
     * appraises the platform state by itself */
    int any = atls_policy_get_bool(policy, "any_pcrs", 0);
    ATLS_ENSURE(!(pcrs != NULL && any) && (pcrs != NULL || any || eventlog != NULL || ima != NULL),
                ATLS_ERR_POLICY_INVALID,
                "TPM policy: give pcrs, eventlog / ima, or \"any_pcrs\": true");
    if (pcrs == NULL) {
        return ATLS_OK;
    }
    ATLS_ENSURE(json_is_object(pcrs), ATLS_ERR_POLICY_INVALID,
                "TPM policy: pcrs is not an object");
    const char *bank;
    json_t *indices;
    json_object_foreach((json_t *)pcrs, bank, indices) {
        uint16_t alg = atls_tpm2_hash_by_name(bank);
        ATLS_ENSURE(alg != 0, ATLS_ERR_POLICY_INVALID, "TPM policy: unknown PCR bank '%s'", bank);
        ATLS_ENSURE(json_is_object(indices), ATLS_ERR_POLICY_INVALID,
                    "TPM policy: pcrs.%s is not an object", bank);
        const char *idx;
        json_t *list;
        json_object_foreach(indices, idx, list) {
            ATLS_ENSURE(index_ok(idx), ATLS_ERR_POLICY_INVALID,
                        "TPM policy: pcrs.%s has a bad PCR index '%s'", bank, idx);
            char what[48];
            snprintf(what, sizeof(what), "tpm2.pcrs.%s.%s", bank, idx);
            ATLS_GUARD(atls_policy_check_hex_list(list, atls_tpm2_hash_size(alg), what));
        }
    }
    return ATLS_OK;
}

static atls_error tpm2_appraise(const json_t *policy, const atls_evidence_result *res,
                                atls_trust_vector *tv)
{
    atls_trust_vector local = {0};
    if (tv == NULL) {
        tv = &local;
    }
    ATLS_GUARD(tpm2_check_policy(policy));
    ATLS_ENSURE(res != NULL && json_is_object(res->claims), ATLS_ERR_USAGE,
                "TPM appraise: result has no claims");
    const json_t *ak_keys = json_object_get(policy, "ak_keys");
    if (ak_keys != NULL && atls_policy_hex_in_list(ak_keys, res->key_id)) {
        tv->instance_identity = TV_AFFIRMING;
    } else if (atls_policy_get_bool(policy, "ak_any", 0)) {
        tv->instance_identity = TV_ACCEPTED_UNRECOGNIZED; /* any AK: a warning, never affirmed */
    } else {
        tv->instance_identity = TV_UNRECOGNIZED;
        ATLS_RAISE(ATLS_ERR_POLICY_UNTRUSTED_KEY, "TPM policy: AK %s is not in ak_keys",
                   res->key_id);
    }
    ATLS_ENSURE(!atls_policy_get_bool(policy, "require_challenge", 0) || res->challenge_checked,
                ATLS_ERR_POLICY_MISMATCH,
                "TPM policy: extraData was not checked against a challenge");
    const json_t *pcrs = json_object_get(policy, "pcrs");
    const json_t *eventlog = json_object_get(policy, "eventlog");
    const json_t *ima = json_object_get(policy, "ima");
    if (pcrs == NULL && eventlog == NULL && ima == NULL) {
        /* "any_pcrs": true: platform state explicitly not appraised, software not recognised */
        tv->executables = TV_EXECUTABLES_UNRECOGNIZED;
        return ATLS_OK;
    }
    if (eventlog != NULL || ima != NULL) {
        atls_error rc = atls_evlog_policy_appraise(eventlog, ima, res->claims);
        if (rc != ATLS_OK) {
            tv->executables = TV_CONTRAINDICATED;
            return rc;
        }
        tv->executables = TV_AFFIRMING;
        if (eventlog != NULL) {
            tv->configuration = TV_AFFIRMING;
        }
        if (pcrs == NULL) {
            return ATLS_OK;
        }
    }
    const json_t *have = json_object_get(res->claims, "pcrs");
    const char *bank;
    json_t *indices;
    json_object_foreach((json_t *)pcrs, bank, indices) {
        const char *idx;
        json_t *list;
        json_object_foreach(indices, idx, list) {
            const char *v = json_string_value(json_object_get(json_object_get(have, bank), idx));
            if (v == NULL || !atls_policy_hex_in_list(list, v)) {
                tv->executables = TV_CONTRAINDICATED;
                tv->configuration = TV_CONTRAINDICATED;
                ATLS_RAISE(ATLS_ERR_POLICY_MISMATCH, "TPM policy: PCR %s:%s %s%s", bank, idx,
                           v != NULL ? v : "was not quoted",
                           v != NULL ? " is not an allowed value" : "");
            }
        }
    }
    tv->executables = TV_AFFIRMING;
    tv->configuration = TV_AFFIRMING;
    return ATLS_OK;
}

/* wrap returns a new array holding |v| (borrowed: the array takes its own reference). */
static json_t *wrap(json_t *v)
{
    json_t *a = json_array();
    if (a != NULL && json_array_append(a, v) != 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* ima_covers: PCR |idx| is one the IMA list of |claims| covers. */
static int ima_covers(const json_t *claims, const char *idx)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(json_object_get(json_object_get(claims, "eventlogs"), "ima"),
                                       "covered"), i, r) {
        char s[8];
        snprintf(s, sizeof(s), "%lld", (long long)json_integer_value(r));
        if (strcmp(s, idx) == 0) {
            return 1;
        }
    }
    return 0;
}

static atls_error tpm2_policy_from_result(const atls_evidence_result *res, json_t **out)
{
    ATLS_ENSURE(res != NULL && json_is_object(res->claims) && out != NULL, ATLS_ERR_USAGE,
                "TPM policy_from_result: result has no claims");
    json_t *p = json_object(), *pcrs = json_object();
    json_t *key_id = json_string(res->key_id);
    int ok = p != NULL && pcrs != NULL && key_id != NULL &&
             json_object_set_new(p, "ak_keys", wrap(key_id)) == 0;
    json_decref(key_id);
    const char *bank;
    json_t *indices;
    json_object_foreach(json_object_get(res->claims, "pcrs"), bank, indices) {
        json_t *b = json_object();
        const char *idx;
        json_t *v;
        ok = ok && b != NULL && json_object_set_new(pcrs, bank, b) == 0;
        json_object_foreach(indices, idx, v) {
            /* a PCR an IMA list extends changes with every file measured: its events are
             * the policy (below), its value is not */
            if (!ima_covers(res->claims, idx)) {
                ok = ok && json_object_set_new(b, idx, wrap(v)) == 0;
            }
        }
        if (ok && json_object_size(b) == 0) {
            json_object_del(pcrs, bank);
        }
    }
    if (json_object_size(pcrs) > 0) {
        ok = ok && json_object_set(p, "pcrs", pcrs) == 0;
    }
    json_decref(pcrs);
    if (ok && atls_evlog_policy_from_claims(res->claims, p) != ATLS_OK) {
        json_decref(p);
        return ATLS_ERR_INTERNAL_ALLOC;
    }
    if (!ok) {
        json_decref(p);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    *out = p;
    return ATLS_OK;
}

const atls_verifier_ops atls_tpm2_verifier_ops = {
    .name = "tpm2",
    .media_type = ATLS_TPM2_MEDIA_TYPE,
    .verify = tpm2_verify,
    .appraise = tpm2_appraise,
    .check_policy = tpm2_check_policy,
    .policy_from_result = tpm2_policy_from_result,
};
