/* appraise.c: CMW → verifiers → policy → EAR (atls/appraisal.h). */
#include <atls/appraisal.h>
#include <atls/version.h>

#include "appraisal/appraise/appraisal_internal.h"
#include "appraisal/policy/policy_section.h"
#include "appraisal/appraise/stapled.h"
#include "base/result.h"
#include "codec/cmw/cmw.h"
#include "codec/ear/ear.h"
#include "evidence/eventlog/eventlog.h"
#include "evidence/batch/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *atls_tier_name(atls_tier tier)
{
    return atls_ear_tier_name((atls_ear_tier)tier);
}

json_t *atls_appraisal_get0_ear_json(const atls_appraisal *a)
{
    return a != NULL && a->ear != NULL ? a->ear->claims : NULL;
}

/* set_ear makes |claims| (a new reference, taken over) the EAR of |a|. */
static atls_error set_ear(atls_appraisal *a, json_t *claims)
{
    a->ear = calloc(1, sizeof(*a->ear));
    if (a->ear == NULL) {
        json_decref(claims);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    a->ear->claims = claims;
    return ATLS_OK;
}

void atls_appraisal_cleanup(atls_appraisal *a)
{
    if (a == NULL) {
        return;
    }
    if (a->ear != NULL) {
        json_decref(a->ear->claims);
        free(a->ear);
    }
    for (size_t i = 0; i < a->num_results; i++) {
        atls_evidence_result_cleanup(&a->results[i]);
    }
    free(a->results);
    memset(a, 0, sizeof(*a));
}

atls_error atls_appraisal_copy(atls_appraisal *dst, const atls_appraisal *src)
{
    atls_appraisal_cleanup(dst);
    dst->status = src->status;
    dst->error = src->error;
    memcpy(dst->reason, src->reason, sizeof(dst->reason));
    if (src->ear != NULL) {
        json_t *claims = json_deep_copy(src->ear->claims);
        ATLS_ENSURE(claims != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        ATLS_GUARD(set_ear(dst, claims));
    }
    if (src->num_results > 0) {
        dst->results = calloc(src->num_results, sizeof(*dst->results));
        ATLS_ENSURE(dst->results != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        for (size_t i = 0; i < src->num_results; i++) {
            dst->results[i] = src->results[i];
            dst->results[i].claims = json_deep_copy(src->results[i].claims);
            dst->num_results++;
        }
    }
    return ATLS_OK;
}

/* note_failure keeps the first failure's code and reason. */
static void note_failure(atls_appraisal *out, atls_error rc, const char *reason)
{
    if (out->error == ATLS_OK) {
        out->error = rc;
        snprintf(out->reason, sizeof(out->reason), "%s", reason);
    }
}

static int64_t now_or(const atls_verify_input *in)
{
    return in != NULL && in->at != 0 ? (int64_t)in->at : (int64_t)time(NULL);
}

/* freshness: Evidence that says when it was made must be younger than the policy allows. */
static atls_error check_age(const atls_evidence_result *res, const atls_policy *policy,
                            const atls_verify_input *in)
{
    const json_t *iat = json_object_get(res->claims, "iat");
    int64_t max_age = policy != NULL ? atls_policy_max_age(policy) : 0;
    if (!json_is_integer(iat) || max_age == 0) {
        return ATLS_OK;
    }
    int64_t age = now_or(in) - (int64_t)json_integer_value(iat);
    ATLS_ENSURE(age >= -60, ATLS_ERR_EVIDENCE_STALE,
                "%s: Evidence is dated %lld s in the future", res->type, (long long)-age);
    ATLS_ENSURE(age <= max_age, ATLS_ERR_EVIDENCE_STALE,
                "%s: Evidence is %lld s old, the policy allows %lld s", res->type,
                (long long)age, (long long)max_age);
    return ATLS_OK;
}

/* add_failed_submod records a contraindicated submod named |name| with |tv| (a
 * contraindicating claim is forced in when the caller set none). */
static atls_error add_failed_submod(json_t *ear, const char *name, atls_trust_vector tv,
                                    const char *const *policy_ids, const json_t *claims,
                                    const char *reason)
{
    if (atls_ear_tier_from_vector(&tv) != ATLS_EAR_TIER_CONTRAINDICATED) {
        tv.configuration = 96;
    }
    return atls_ear_add_submod(ear, name, &tv, policy_ids, claims, reason);
}

/* appraise_part verifies and appraises one piece of Evidence into the EAR submod |submod|. */
static atls_error appraise_part(const atls_verifier_ops *ops, const char *submod,
                                const uint8_t *evidence, size_t len,
                                const atls_verify_input *in, const atls_policy *policy,
                                atls_appraisal *out)
{
    json_t *ear = atls_appraisal_get0_ear_json(out);
    const char *policy_ids[2] = {policy != NULL ? atls_policy_id(policy) : NULL, NULL};
    char reason[ATLS_APPRAISAL_REASON_MAX];
    atls_evidence_result res;
    memset(&res, 0, sizeof(res));

    atls_error rc = ops->verify(evidence, len, in, &res);
    if (rc == ATLS_OK && in != NULL && in->challenge != NULL && !res.challenge_checked) {
        rc = atls_error_raise(ATLS_ERR_EVIDENCE_NONCE, __FILE__, __LINE__,
                              "%s: the verifier did not check the challenge", ops->name);
    }
    if (rc != ATLS_OK) {
        snprintf(reason, sizeof(reason), "%s", atls_error_message());
        atls_trust_vector tv = {0};
        /* AR4SI instance-identity 99: cryptographic validation of the Evidence failed */
        tv.instance_identity = 99;
        atls_evidence_result_cleanup(&res);
        note_failure(out, rc, reason);
        ATLS_GUARD(add_failed_submod(ear, submod, tv, NULL, NULL, reason));
        return rc;
    }

    atls_trust_vector tv = res.tv;
    /* valid Evidence the verifier itself contraindicates (a Revoked TCB): no policy can accept
     * it; the EAR keeps the claims and says why */
    rc = res.contra_error != ATLS_OK
             ? atls_error_raise(res.contra_error, __FILE__, __LINE__, "%s",
                                res.contra_reason[0] != '\0' ? res.contra_reason
                                                             : "contraindicated by the verifier")
             : check_age(&res, policy, in);
    if (rc == ATLS_OK && policy != NULL) {
        /* a wrapper's result is appraised by the section of what it wraps */
        const atls_verifier_ops *pops =
            res.policy_type != NULL ? atls_verifier_by_name(res.policy_type) : ops;
        const json_t *section = pops != NULL ? atls_policy_get0_section(policy, pops->name) : NULL;
        if (section == NULL) {
            const char *name = pops != NULL ? pops->name : res.policy_type;
            rc = atls_error_raise(ATLS_ERR_POLICY, __FILE__, __LINE__,
                                  "the policy has no \"%s\" section: %s Evidence is not accepted",
                                  name, name);
        } else {
            rc = pops->appraise(section, &res, &tv);
        }
    }
    if (rc != ATLS_OK) {
        snprintf(reason, sizeof(reason), "%s", atls_error_message());
        note_failure(out, rc, reason);
        atls_error arc = add_failed_submod(ear, submod, tv, policy_ids[0] ? policy_ids : NULL,
                                           res.claims, reason);
        atls_evidence_result_cleanup(&res);
        ATLS_GUARD(arc);
        return rc;
    }
    if (policy == NULL || atls_ear_tier_from_vector(&tv) == ATLS_EAR_TIER_NONE) {
        /* verified, not appraised (no policy, or a policy that claims nothing, e.g. every key
         * "any"): AR4SI configuration 36, "elements of the configuration relevant to security
         * are unavailable to the Verifier", a warning. Nothing is ever upgraded to affirming
         * for want of a claim: a tier is claimed only for what was checked. */
        tv.configuration = 36;
    } else if (atls_ear_tier_from_vector(&tv) == ATLS_EAR_TIER_CONTRAINDICATED) {
        /* a plug-in that contraindicates must say why; never leave the EAR without a reason */
        rc = atls_error_raise(ATLS_ERR_POLICY, __FILE__, __LINE__,
                              "%s: a trustworthiness claim is contraindicated", ops->name);
        snprintf(reason, sizeof(reason), "%s", atls_error_message());
        note_failure(out, rc, reason);
        atls_error arc = atls_ear_add_submod(ear, submod, &tv,
                                             policy_ids[0] ? policy_ids : NULL, res.claims,
                                             reason);
        atls_evidence_result_cleanup(&res);
        ATLS_GUARD(arc);
        return rc;
    }
    rc = atls_ear_add_submod(ear, submod, &tv, policy_ids[0] ? policy_ids : NULL,
                             res.claims, NULL);
    if (rc != ATLS_OK) {
        atls_evidence_result_cleanup(&res);
        return rc;
    }
    atls_evidence_result *grown = realloc(out->results,
                                          (out->num_results + 1) * sizeof(*out->results));
    if (grown == NULL) {
        atls_evidence_result_cleanup(&res);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    out->results = grown;
    out->results[out->num_results++] = res;
    return ATLS_OK;
}

/* unique_submod: |name|, or "|name|-|index|" when the EAR has a submod |name| already (a
 * collection may carry two Evidence records of one kind) */
static void unique_submod(const atls_appraisal *out, const char *name, size_t index, char *buf,
                          size_t size)
{
    snprintf(buf, size, "%s", name);
    const json_t *submods = json_object_get(atls_appraisal_get0_ear_json(out), "submods");
    if (json_object_get(submods, buf) != NULL) {
        snprintf(buf, size, "%s-%zu", name, index);
    }
}

/* appraise_batched: batched Evidence (atls/batch.h, docs/PROTOCOL.md 2.6). The inclusion proof
 * leads from the caller's own challenge (recomputed from its end of the connection) to a root;
 * the wrapped Evidence must carry the batch challenge of that root, which its own verifier
 * checks like any challenge. Nothing of the wrapper is trusted: a proof for another leaf,
 * another root, or of the wrong length leads to a challenge the Evidence does not carry. */
static atls_error appraise_batched(const atls_cmw_leaf *leaf, size_t index,
                                   const atls_verify_input *in, const atls_policy *policy,
                                   atls_appraisal *out)
{
    char submod[48];
    atls_batch_view v;
    const atls_verifier_ops *ops = NULL;
    char media[256] = "";
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    atls_verify_input inner;
    memset(&inner, 0, sizeof(inner));
    if (in != NULL) {
        inner = *in;
    }
    atls_error rc = atls_batch_decode(atls_cursor_data(&leaf->value),
                                      atls_cursor_remaining(&leaf->value), &v);
    if (rc == ATLS_OK) {
        /* decode bounds the media type to 255 printable bytes */
        memcpy(media, atls_cursor_data(&v.media_type), atls_cursor_remaining(&v.media_type));
        media[atls_cursor_remaining(&v.media_type)] = '\0';
        ops = atls_verifier_by_media_type(media);
        if (ops == NULL) {
            rc = atls_error_raise(ATLS_ERR_EVIDENCE_FORMAT, __FILE__, __LINE__,
                                  "batched Evidence: no verifier for media type \"%s\"", media);
        }
    }
    if (rc == ATLS_OK && inner.challenge != NULL) {
        rc = atls_batch_proof_challenge(&v, inner.challenge, challenge);
        inner.challenge = challenge;
    }
    if (rc != ATLS_OK) {
        char reason[ATLS_APPRAISAL_REASON_MAX];
        snprintf(reason, sizeof(reason), "%s", atls_error_message());
        note_failure(out, rc, reason);
        atls_trust_vector tv = {0};
        /* AR4SI: 97 an unrecognised format, 99 failed cryptographic validation (the proof) */
        tv.instance_identity = rc == ATLS_ERR_EVIDENCE_PROOF ? 99 : 97;
        unique_submod(out, ops != NULL ? ops->name : "batch", index, submod, sizeof(submod));
        ATLS_GUARD(
            add_failed_submod(atls_appraisal_get0_ear_json(out), submod, tv, NULL, NULL, reason));
        return rc;
    }
    int first_failure = out->error == ATLS_OK;
    unique_submod(out, ops->name, index, submod, sizeof(submod));
    rc = appraise_part(ops, submod, atls_cursor_data(&v.evidence),
                       atls_cursor_remaining(&v.evidence), &inner, policy, out);
    if (rc == ATLS_ERR_EVIDENCE_NONCE && first_failure && in != NULL && in->challenge != NULL) {
        /* say where the mismatch is: between the proof's root and the Evidence */
        char inner_reason[ATLS_APPRAISAL_REASON_MAX];
        memcpy(inner_reason, out->reason, sizeof(inner_reason));
        int n = snprintf(out->reason, sizeof(out->reason),
                         "batched Evidence (leaf %llu of %llu): this connection's challenge and "
                         "the inclusion proof lead to a root the Evidence does not carry: ",
                         (unsigned long long)v.leaf_index, (unsigned long long)v.tree_size);
        if (n > 0 && (size_t)n < sizeof(out->reason)) {
            /* as much of the verifier's own reason as fits */
            size_t room = sizeof(out->reason) - (size_t)n - 1;
            size_t take = strnlen(inner_reason, room);
            memcpy(out->reason + n, inner_reason, take);
            out->reason[(size_t)n + take] = '\0';
        }
    }
    return rc;
}

static atls_error begin(const atls_verify_input *in, atls_appraisal *out)
{
    memset(out, 0, sizeof(*out));
    const uint8_t *nonce = in != NULL ? in->challenge : NULL;
    json_t *ear = NULL;
    ATLS_GUARD(atls_ear_new((time_t)now_or(in), ATLS_VERSION, nonce,
                            nonce ? ATLS_CHALLENGE_LEN : 0, &ear));
    return set_ear(out, ear);
}

static atls_error finish(atls_appraisal *out)
{
    atls_ear_tier tier = ATLS_EAR_TIER_NONE;
    const json_t *ear = atls_appraisal_get0_ear_json(out);
    const char *status = json_string_value(json_object_get(ear, "ear_status"));
    if (status == NULL || atls_ear_tier_from_name(status, &tier) != ATLS_OK) {
        tier = ATLS_EAR_TIER_CONTRAINDICATED;
    }
    out->status = (atls_tier)tier;
    if (out->error != ATLS_OK) {
        out->status = ATLS_TIER_CONTRAINDICATED;
        ATLS_RAISE(out->error, "%s", out->reason);
    }
    if (out->status != ATLS_TIER_AFFIRMING && out->status != ATLS_TIER_WARNING) {
        out->error = ATLS_ERR_POLICY;
        snprintf(out->reason, sizeof(out->reason), "appraisal status is %s",
                 atls_tier_name(out->status));
        ATLS_RAISE(out->error, "%s", out->reason);
    }
    return ATLS_OK;
}

atls_error atls_appraise_evidence(const atls_verifier_ops *ops, const uint8_t *evidence,
                                  size_t len, const atls_verify_input *in,
                                  const atls_policy *policy, atls_appraisal *out)
{
    ATLS_ENSURE(ops != NULL && out != NULL, ATLS_ERR_USAGE, "appraise: missing argument");
    ATLS_GUARD(begin(in, out));
    atls_error rc = appraise_part(ops, ops->name, evidence, len, in, policy, out);
    if (rc != ATLS_OK) {
        note_failure(out, rc, atls_error_message()); /* no-op when already noted */
    }
    return finish(out);
}

/* cmw_failure ends an appraisal whose CMW cannot be taken apart: the failure |rc| with
 * |reason| (AR4SI instance-identity 97: the Evidence is not recognised) in submod |name|. */
static atls_error cmw_failure(atls_appraisal *out, atls_error rc, const char *name,
                              const char *reason)
{
    note_failure(out, rc, reason);
    atls_trust_vector tv = {0};
    tv.instance_identity = 97;
    ATLS_GUARD(
        add_failed_submod(atls_appraisal_get0_ear_json(out), name, tv, NULL, NULL, reason));
    return finish(out);
}

/* logs_taken: every event log record of |cmw| went to a verifier that replayed it (its claims
 * have "eventlogs"."<kind>"): a log beside Evidence that has no registers for it (a CCEL next
 * to a TPM quote alone, a TCG log next to an SNP report) is reported, never passed over.
 * Checked once every part verified (a failure already explains the appraisal). */
static atls_error logs_taken(const atls_cmw *cmw, const atls_appraisal *out)
{
    for (size_t i = 0; i < cmw->num_leaves; i++) {
        if (!atls_cmw_leaf_type_is(&cmw->leaves[i], ATLS_EVLOG_MEDIA_TYPE)) {
            continue;
        }
        atls_evlog_record rec;
        ATLS_GUARD(atls_evlog_record_decode(atls_cursor_data(&cmw->leaves[i].value),
                                            atls_cursor_remaining(&cmw->leaves[i].value), &rec));
        const char *kind = atls_evlog_kind_name(rec.kind);
        int taken = 0;
        for (size_t r = 0; r < out->num_results && !taken; r++) {
            taken = json_object_get(json_object_get(out->results[r].claims, "eventlogs"), kind) !=
                    NULL;
        }
        ATLS_ENSURE(taken, ATLS_ERR_EVIDENCE_FORMAT,
                    "CMW: the %s event log (part %zu) goes with no Evidence in the CMW that "
                    "quotes its registers",
                    kind, i);
    }
    return ATLS_OK;
}

atls_error atls_appraise_cmw(const uint8_t *cmw_bytes, size_t len, const atls_verify_input *in,
                             const atls_policy *policy, atls_appraisal *out)
{
    ATLS_ENSURE(out != NULL, ATLS_ERR_USAGE, "appraise: missing argument");
    ATLS_GUARD(begin(in, out));
    atls_cmw cmw;
    atls_error rc = atls_cmw_decode(cmw_bytes, len, &cmw);
    if (rc != ATLS_OK) {
        char reason[ATLS_APPRAISAL_REASON_MAX];
        snprintf(reason, sizeof(reason), "CMW: %s", atls_error_message());
        return cmw_failure(out, rc, "cmw", reason);
    }
    /* event logs are not Evidence of their own: they go to the verifiers of the Evidence
     * beside them, which trust no event a quoted register does not cover */
    atls_evidence_blob logs[ATLS_CMW_MAX_LEAVES];
    atls_verify_input with_logs = in != NULL ? *in : (atls_verify_input){0};
    with_logs.num_eventlogs = 0;
    for (size_t i = 0; i < cmw.num_leaves; i++) {
        if (atls_cmw_leaf_type_is(&cmw.leaves[i], ATLS_EVLOG_MEDIA_TYPE)) {
            logs[with_logs.num_eventlogs].data = atls_cursor_data(&cmw.leaves[i].value);
            logs[with_logs.num_eventlogs++].len = atls_cursor_remaining(&cmw.leaves[i].value);
        }
    }
    with_logs.eventlogs = logs;
    in = &with_logs;
    /* a collection's Endorsement records (stapled collateral) become verifier inputs for
     * every Evidence record; stale or malformed ones fail the appraisal (stapled.h) */
    atls_stapled stapled;
    rc = atls_stapled_merge(&cmw, in, &stapled);
    if (rc != ATLS_OK) {
        char reason[ATLS_APPRAISAL_REASON_MAX];
        snprintf(reason, sizeof(reason), "%s", atls_error_message());
        return cmw_failure(out, rc, "stapled", reason);
    }
    size_t evidence_records = 0;
    for (size_t i = 0; i < cmw.num_leaves; i++) {
        const atls_cmw_leaf *leaf = &cmw.leaves[i];
        if (atls_cmw_leaf_type_is(leaf, ATLS_EVLOG_MEDIA_TYPE)) {
            continue;
        }
        const atls_verifier_ops *ops = NULL;
        if (atls_stapled_is_endorsement(leaf)) {
            continue;
        }
        evidence_records++;
        char media[256] = "";
        if (!leaf->type_is_cf && atls_cursor_remaining(&leaf->media_type) < sizeof(media)) {
            memcpy(media, atls_cursor_data(&leaf->media_type),
                   atls_cursor_remaining(&leaf->media_type));
            media[atls_cursor_remaining(&leaf->media_type)] = '\0';
            ops = atls_verifier_by_media_type(media);
        }
        if (strcmp(media, ATLS_BATCH_MEDIA_TYPE) == 0 &&
            (leaf->ind == 0 || (leaf->ind & ATLS_CMW_IND_EVIDENCE) != 0)) {
            rc = appraise_batched(leaf, i, &stapled.in, policy, out);
            if (rc != ATLS_OK) {
                note_failure(out, rc, atls_error_message()); /* no-op when already noted */
            }
            continue;
        }
        if (ops == NULL || (leaf->ind != 0 && (leaf->ind & ATLS_CMW_IND_EVIDENCE) == 0)) {
            char reason[ATLS_APPRAISAL_REASON_MAX];
            if (ops == NULL) {
                snprintf(reason, sizeof(reason), "CMW: no verifier for media type \"%s\"",
                         leaf->type_is_cf ? "(content-format)" : media);
            } else {
                snprintf(reason, sizeof(reason), "CMW: part %zu is not marked as Evidence", i);
            }
            note_failure(out, ATLS_ERR_EVIDENCE_FORMAT, reason);
            atls_trust_vector tv = {0};
            tv.instance_identity = 97;
            char name[32];
            snprintf(name, sizeof(name), "cmw-part-%zu", i);
            rc = add_failed_submod(atls_appraisal_get0_ear_json(out), name, tv, NULL, NULL,
                                   reason);
            if (rc != ATLS_OK) {
                atls_stapled_cleanup(&stapled);
                return rc;
            }
            continue;
        }
        /* one submod per Evidence record: the verifier's name, made unique by the record's
         * position when a collection carries two of a kind */
        char submod[48];
        unique_submod(out, ops->name, i, submod, sizeof(submod));
        rc = appraise_part(ops, submod, atls_cursor_data(&leaf->value),
                           atls_cursor_remaining(&leaf->value),
                           &stapled.in, policy, out);
        if (rc != ATLS_OK) {
            note_failure(out, rc, atls_error_message()); /* no-op when already noted */
        }
    }
    atls_stapled_cleanup(&stapled);
    if (evidence_records == 0) {
        return cmw_failure(out, ATLS_ERR_EVIDENCE_FORMAT, "cmw",
                           "CMW: a collection without Evidence");
    }
    if (out->error == ATLS_OK && (rc = logs_taken(&cmw, out)) != ATLS_OK) {
        char reason[ATLS_APPRAISAL_REASON_MAX];
        snprintf(reason, sizeof(reason), "%s", atls_error_message());
        return cmw_failure(out, rc, "eventlog", reason);
    }
    return finish(out);
}
