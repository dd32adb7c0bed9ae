/* azure_policy.c: the "azure" policy section (azure.h). The TEE part is appraised by the snp or
 * tdx verifier's own policy code on that part's claims, the vTPM PCRs by the tpm2 verifier's;
 * nothing is re-implemented here. */
#include "evidence/azure/azure.h"

#include "base/result.h"
#include "evidence/core/claims.h"
#include "evidence/snp/snp.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tpm2/tpm2.h"

#include <stdio.h>
#include <string.h>

/* tpm_section builds the tpm2 section for the PCR part: the AK is vouched for by the TEE, so
 * the key itself is not pinned ("ak_any"); only the PCR keys of |policy| are carried over. */
static json_t *tpm_section(const json_t *policy)
{
    json_t *s = json_object();
    if (s == NULL || json_object_set_new(s, "ak_any", json_true()) != 0) {
        json_decref(s);
        return NULL;
    }
    const json_t *pcrs = json_object_get(policy, "pcrs");
    const json_t *any = json_object_get(policy, "any_pcrs");
    if ((pcrs != NULL && json_object_set(s, "pcrs", (json_t *)pcrs) != 0) ||
        (any != NULL && json_object_set(s, "any_pcrs", (json_t *)any) != 0)) {
        json_decref(s);
        return NULL;
    }
    return s;
}

static const atls_verifier_ops *tee_ops(const char *name)
{
    return strcmp(name, "snp") == 0 ? &atls_snp_verifier_ops
           : strcmp(name, "tdx") == 0 ? &atls_tdx_verifier_ops
                                      : NULL;
}

atls_error atls_azure_check_policy(const json_t *policy)
{
    static const char *const keys[] = {"snp", "tdx", "pcrs", "any_pcrs", NULL};
    ATLS_ENSURE(json_is_object(policy), ATLS_ERR_POLICY_INVALID,
                "azure policy: section is not an object");
    ATLS_GUARD(atls_policy_check_keys(policy, keys));
    const json_t *snp = json_object_get(policy, "snp"), *tdx = json_object_get(policy, "tdx");
    ATLS_ENSURE(snp != NULL || tdx != NULL, ATLS_ERR_POLICY_INVALID,
                "azure policy: needs an \"snp\" or \"tdx\" section for the TEE");
    if (snp != NULL) {
        ATLS_GUARD(atls_snp_verifier_ops.check_policy(snp));
    }
    if (tdx != NULL) {
        ATLS_GUARD(atls_tdx_verifier_ops.check_policy(tdx));
    }
    json_t *t = tpm_section(policy);
    ATLS_ENSURE(t != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = atls_tpm2_verifier_ops.check_policy(t);
    json_decref(t);
    if (rc != ATLS_OK) {
        char why[300];
        snprintf(why, sizeof(why), "%s", atls_error_message());
        ATLS_RAISE(ATLS_ERR_POLICY_INVALID, "azure policy (vTPM part): %s", why);
    }
    return ATLS_OK;
}

/* worse keeps the more severe of two trustworthiness claims (AR4SI: higher is worse within
 * the none < affirming < warning < contraindicated bands). */
static int8_t worse(int8_t a, int8_t b)
{
    return (uint8_t)a > (uint8_t)b ? a : b;
}

atls_error atls_azure_appraise(const json_t *policy, const atls_evidence_result *res,
                               atls_trust_vector *tv)
{
    ATLS_GUARD(atls_azure_check_policy(policy));
    ATLS_ENSURE(res != NULL && json_is_object(res->claims) && tv != NULL, ATLS_ERR_USAGE,
                "azure appraise: result has no claims");
    const char *tee = json_string_value(json_object_get(res->claims, "tee"));
    const atls_verifier_ops *ops = tee != NULL ? tee_ops(tee) : NULL;
    ATLS_ENSURE(ops != NULL, ATLS_ERR_USAGE, "azure appraise: the result names no TEE");
    const json_t *section = json_object_get(policy, tee);
    ATLS_ENSURE(section != NULL, ATLS_ERR_POLICY,
                "azure policy: no \"%s\" section: Azure %s Evidence is not accepted", tee, tee);
    /* the TEE part, as its own verifier would see it */
    atls_evidence_result part = *res;
    part.claims = json_object_get(res->claims, tee);
    part.type = ops->name;
    part.policy_type = NULL;
    ATLS_GUARD(ops->appraise(section, &part, tv));
    /* the vTPM PCRs */
    atls_evidence_result tpm;
    memset(&tpm, 0, sizeof(tpm));
    tpm.type = "tpm2";
    tpm.claims = json_object_get(res->claims, "tpm2");
    tpm.challenge_checked = res->challenge_checked;
    const char *ak = json_string_value(json_object_get(res->claims, "ak_key_id"));
    snprintf(tpm.key_id, sizeof(tpm.key_id), "%s", ak != NULL ? ak : "");
    json_t *t = tpm_section(policy);
    ATLS_ENSURE(t != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_trust_vector ttv = {0};
    atls_error rc = atls_tpm2_verifier_ops.appraise(t, &tpm, &ttv);
    json_decref(t);
    tv->executables = worse(tv->executables, ttv.executables);
    tv->configuration = worse(tv->configuration, ttv.configuration);
    if (rc != ATLS_OK) {
        char why[300];
        snprintf(why, sizeof(why), "%s", atls_error_message());
        ATLS_RAISE(rc, "azure: vTPM %s", why);
    }
    return ATLS_OK;
}

atls_error atls_azure_policy_from_result(const atls_evidence_result *res, json_t **out)
{
    ATLS_ENSURE(res != NULL && json_is_object(res->claims) && out != NULL, ATLS_ERR_USAGE,
                "azure policy_from_result: result has no claims");
    const char *tee = json_string_value(json_object_get(res->claims, "tee"));
    const atls_verifier_ops *ops = tee != NULL ? tee_ops(tee) : NULL;
    ATLS_ENSURE(ops != NULL, ATLS_ERR_USAGE, "azure policy_from_result: no TEE");
    atls_evidence_result part = *res;
    part.claims = json_object_get(res->claims, tee);
    part.type = ops->name;
    atls_evidence_result tpm;
    memset(&tpm, 0, sizeof(tpm));
    tpm.claims = json_object_get(res->claims, "tpm2");
    json_t *tee_section = NULL, *tpm_sec = NULL;
    ATLS_GUARD(ops->policy_from_result(&part, &tee_section));
    atls_error rc = atls_tpm2_verifier_ops.policy_from_result(&tpm, &tpm_sec);
    json_t *p = rc == ATLS_OK ? json_object() : NULL;
    if (rc == ATLS_OK &&
        (p == NULL || json_object_set(p, tee, tee_section) != 0 ||
         json_object_set(p, "pcrs", json_object_get(tpm_sec, "pcrs")) != 0)) {
        json_decref(p);
        p = NULL;
        rc = atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__, "out of memory");
    }
    json_decref(tee_section);
    json_decref(tpm_sec);
    ATLS_GUARD(rc);
    *out = p;
    return ATLS_OK;
}
