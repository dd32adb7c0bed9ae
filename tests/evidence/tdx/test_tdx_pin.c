/* test_tdx_pin.c: instance pinning for TDX (issue 13, attack 5: one compromised, unrevoked
 * attestation key). The verifier claims the PCK certificate's PPID ("ppid") and key id
 * ("pck_key_id"); "ppids" and "pck_key_ids" accept only the listed platforms; both are opt-in
 * (a policy made from a result pins neither). Generated vectors (tdx_testgen.c). */
#include "check.h"
#include "tdx_testgen.h"

#include "evidence/core/claims.h"
#include "evidence/tdx/tdx.h"

#include <stdio.h>
#include <string.h>

static const uint8_t FMSPC[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
static const uint8_t COMP[16] = {5, 5, 2, 2, 3, 1, 0, 3};

static atls_error appraise(const atls_evidence_result *res, const char *text)
{
    json_t *p = json_loads(text, 0, NULL);
    CHECK(p != NULL);
    atls_trust_vector tv;
    memset(&tv, 0, sizeof(tv));
    atls_error rc = atls_tdx_verifier_ops.check_policy(p);
    if (rc == ATLS_OK) {
        rc = atls_tdx_verifier_ops.appraise(p, res, &tv);
    }
    json_decref(p);
    return rc;
}

int main(void)
{
    tg_tdx_pki pki;
    CHECK(tg_tdx_pki_new(&pki, FMSPC, COMP, 11));
    tg_tdx_fields f;
    tg_tdx_defaults(&f);
    size_t len = 0, chain_off = 0;
    uint8_t *q = tg_tdx_quote(&pki, &f, &len, &chain_off);
    CHECK(q != NULL);
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = sk_X509_new_null();
    sk_X509_push(in.trust_anchors, pki.root);
    atls_evidence_result res;
    CHECK_OK(atls_tdx_verifier_ops.verify(q, len, &in, &res));
    /* the generator's PCK carries PPID 01 02 03 00..00 */
    const char *ppid = json_string_value(json_object_get(res.claims, "ppid"));
    CHECK(ppid != NULL && strcmp(ppid, "01020300000000000000000000000000") == 0);
    char pck_id[65];
    CHECK_OK(atls_key_id(X509_get0_pubkey(pki.pck), pck_id));
    const char *have = json_string_value(json_object_get(res.claims, "pck_key_id"));
    CHECK(have != NULL && strcmp(have, pck_id) == 0);
    CHECK(strcmp(pck_id, res.key_id) != 0); /* the platform's key, not the quote's AK */

    const char *base = "\"any_mrtd\":true,\"allowed_tcb_statuses\":[\"NotEvaluated\"],"
                       "\"allow_unappraised_qe\":true,\"allow_unchecked_revocation\":true,"
                       "\"allow_sept_ve\":true,\"allow_debug\":true";
    char text[1200], other_id[65];
    memcpy(other_id, pck_id, sizeof(other_id));
    other_id[0] = other_id[0] == 'a' ? 'b' : 'a';
    snprintf(text, sizeof(text), "{%s}", base);
    CHECK_OK(appraise(&res, text));
    snprintf(text, sizeof(text), "{%s,\"ppids\":[\"%s\"],\"pck_key_ids\":[\"%s\"]}", base, ppid,
             pck_id);
    CHECK_OK(appraise(&res, text));
    snprintf(text, sizeof(text), "{%s,\"ppids\":[\"ff020300000000000000000000000000\"]}", base);
    CHECK_ERR(appraise(&res, text), ATLS_ERR_POLICY_INSTANCE);
    CHECK(strstr(atls_error_message(), "ppids") != NULL);
    snprintf(text, sizeof(text), "{%s,\"pck_key_ids\":[\"%s\"]}", base, other_id);
    CHECK_ERR(appraise(&res, text), ATLS_ERR_POLICY_INSTANCE);
    CHECK(strstr(atls_error_message(), "pck_key_ids") != NULL);
    snprintf(text, sizeof(text), "{%s,\"ppids\":[\"0102\"]}", base);
    CHECK_ERR(appraise(&res, text), ATLS_ERR_POLICY_INVALID);
    /* a result without the claim (a PCK without PPID) cannot pass a pin */
    json_object_del(res.claims, "ppid");
    snprintf(text, sizeof(text), "{%s,\"ppids\":[\"%s\"]}", base,
             "01020300000000000000000000000000");
    CHECK_ERR(appraise(&res, text), ATLS_ERR_POLICY_INSTANCE);
    /* opt-in */
    json_t *tofu = NULL;
    CHECK_OK(atls_tdx_verifier_ops.policy_from_result(&res, &tofu));
    CHECK(tofu != NULL && json_object_get(tofu, "ppids") == NULL &&
          json_object_get(tofu, "pck_key_ids") == NULL);
    json_decref(tofu);

    atls_evidence_result_cleanup(&res);
    sk_X509_free(in.trust_anchors);
    free(q);
    tg_tdx_pki_free(&pki);
    return check_summary();
}
