/* tsm_verifier.c: the "tsm" verifier: decodes the tsm report and hands the outblob to the
 * verifier of its provider; the policy section "tsm" nests the sections of those verifiers
 * (tsm.h, docs/EVIDENCE.md). */
#include "evidence/tsm/tsm.h"

#include "base/result.h"
#include "evidence/cca/cca.h"
#include "evidence/core/claims.h"
#include "evidence/snp/snp.h"
#include "evidence/tdx/tdx.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

/* Provider name -> evidence type (the sub-section of the "tsm" policy) and its verifier. */
static const struct {
    const char *provider, *type;
    const atls_verifier_ops *ops;
} providers[] = {
    {"sev_guest", "snp", &atls_snp_verifier_ops},
    {"tdx_guest", "tdx", &atls_tdx_verifier_ops},
    {"arm_cca_guest", "cca", &atls_cca_verifier_ops},
};
#define N_PROVIDERS (sizeof(providers) / sizeof(providers[0]))

static atls_error tsm_verify(const uint8_t *evidence, size_t len, const atls_verify_input *in,
                             atls_evidence_result *out)
{
    memset(out, 0, sizeof(*out));
    atls_tsm_report rep;
    ATLS_GUARD(atls_tsm_report_decode(evidence, len, &rep));
    size_t i = 0;
    while (i < N_PROVIDERS && strcmp(rep.provider, providers[i].provider) != 0) {
        i++;
    }
    ATLS_ENSURE(i < N_PROVIDERS, ATLS_ERR_EVIDENCE_FORMAT,
                "tsm: unknown provider \"%s\" (sev_guest, tdx_guest, arm_cca_guest)",
                rep.provider);
    const uint8_t *blob = atls_cursor_data(&rep.outblob);
    size_t blen = atls_cursor_remaining(&rep.outblob);
    atls_error rc;
    if (strcmp(providers[i].type, "snp") == 0) {
        /* auxblob: the SNP certificate table (VCEK/VLEK, ASK, ARK) */
        STACK_OF(X509) *extra = NULL;
        if (rep.has_auxblob && atls_cursor_remaining(&rep.auxblob) > 0) {
            ATLS_GUARD(atls_tsm_snp_cert_table(atls_cursor_data(&rep.auxblob),
                                               atls_cursor_remaining(&rep.auxblob), &extra));
        }
        rc = atls_snp_verify_report(blob, blen, in, extra, out);
        sk_X509_pop_free(extra, X509_free);
    } else {
        ATLS_ENSURE(!rep.has_auxblob || atls_cursor_remaining(&rep.auxblob) == 0,
                    ATLS_ERR_EVIDENCE_FORMAT, "tsm: provider %s does not use auxblob",
                    rep.provider);
        rc = providers[i].ops->verify(blob, blen, in, out);
    }
    if (rc != ATLS_OK) {
        atls_evidence_result_cleanup(out);
        return rc;
    }
    out->type = "tsm";
    out->policy_type = providers[i].type;
    if ((rc = atls_claims_set_str(out->claims, "provider", rep.provider)) != ATLS_OK ||
        (rc = atls_claims_set_str(out->claims, "evidence_type", providers[i].type)) != ATLS_OK) {
        atls_evidence_result_cleanup(out);
        return rc;
    }
    return ATLS_OK;
}

/* ops_by_type: the verifier behind a "tsm" policy sub-section name, or NULL. */
static const atls_verifier_ops *ops_by_type(const char *type)
{
    for (size_t i = 0; type != NULL && i < N_PROVIDERS; i++) {
        if (strcmp(type, providers[i].type) == 0) {
            return providers[i].ops;
        }
    }
    return NULL;
}

/* A tsm report is appraised by the policy section of the Evidence it carries ("snp", "tdx",
 * "cca": atls_evidence_result.policy_type), so one policy serves that Evidence however it is
 * delivered. A "tsm" section of its own would be a second way to say the same: refused. */
static atls_error tsm_check_policy(const json_t *policy)
{
    (void)policy;
    ATLS_RAISE(ATLS_ERR_POLICY_INVALID,
               "tsm reports are appraised by the \"snp\", \"tdx\" and \"cca\" sections; "
               "there is no \"tsm\" section");
}

/* tsm_appraise: |policy| is the section of the wrapped type (see above). */
static atls_error tsm_appraise(const json_t *policy, const atls_evidence_result *res,
                               atls_trust_vector *tv)
{
    const atls_verifier_ops *ops = ops_by_type(res->policy_type);
    ATLS_ENSURE(ops != NULL, ATLS_ERR_USAGE, "tsm appraise: the result has no evidence type");
    return ops->appraise(policy, res, tv);
}

/* tsm_policy_from_result: the wrapped type's section (to be stored under res->policy_type). */
static atls_error tsm_policy_from_result(const atls_evidence_result *res, json_t **out)
{
    const atls_verifier_ops *ops = ops_by_type(res->policy_type);
    ATLS_ENSURE(ops != NULL, ATLS_ERR_USAGE, "tsm policy_from_result: no evidence type");
    return ops->policy_from_result(res, out);
}

const atls_verifier_ops atls_tsm_verifier_ops = {
    .name = "tsm",
    .media_type = ATLS_TSM_MEDIA_TYPE,
    .verify = tsm_verify,
    .appraise = tsm_appraise,
    .check_policy = tsm_check_policy,
    .policy_from_result = tsm_policy_from_result,
};
