/* test_snp_pin.c: instance pinning for SNP (issue 13, attack 5: one compromised, unrevoked
 * attestation key). "chip_ids" accepts only reports from the listed chips; it is opt-in (a
 * policy made from a result does not pin the chip) and refuses the all-zero CHIP_ID that a
 * report with MASK_CHIP_ID carries. Generated vectors (snp_testgen.c). */
#include "check.h"
#include "snp_testgen.h"

#include "evidence/snp/snp.h"

#include <stdio.h>
#include <string.h>

static atls_error appraise(const atls_evidence_result *res, const char *text)
{
    json_t *p = json_loads(text, 0, NULL);
    CHECK(p != NULL);
    atls_trust_vector tv;
    memset(&tv, 0, sizeof(tv));
    atls_error rc = atls_snp_verifier_ops.check_policy(p);
    if (rc == ATLS_OK) {
        rc = atls_snp_verifier_ops.appraise(p, res, &tv);
    }
    json_decref(p);
    return rc;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", b[i]);
    }
}

int main(void)
{
    time_t now = time(NULL);
    tg_snp_fields f;
    tg_snp_defaults(&f);
    tg_snp_pki pki;
    CHECK(tg_snp_pki_new(&pki, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", now - 86400,
                         now + 86400 * 30));
    uint8_t rep[1184];
    CHECK(tg_snp_report(&f, pki.leaf_key, rep));
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = sk_X509_new_null();
    in.intermediates = sk_X509_new_null();
    sk_X509_push(in.trust_anchors, pki.ark);
    sk_X509_push(in.intermediates, pki.ask);
    sk_X509_push(in.intermediates, pki.leaf);
    atls_evidence_result res;
    CHECK_OK(atls_snp_verifier_ops.verify(rep, sizeof(rep), &in, &res));

    char chip[129], other[129], text[800];
    hex(f.chip_id, 64, chip);
    memcpy(other, chip, sizeof(other));
    other[0] = other[0] == 'f' ? 'e' : 'f';
    const char *base = "\"any_measurement\":true,\"allow_unchecked_revocation\":true";
    snprintf(text, sizeof(text), "{%s}", base);
    CHECK_OK(appraise(&res, text)); /* no pin: any chip */
    snprintf(text, sizeof(text), "{%s,\"chip_ids\":[\"%s\",\"%s\"]}", base, other, chip);
    CHECK_OK(appraise(&res, text));
    snprintf(text, sizeof(text), "{%s,\"chip_ids\":[\"%s\"]}", base, other);
    CHECK_ERR(appraise(&res, text), ATLS_ERR_POLICY_INSTANCE);
    CHECK(strstr(atls_error_message(), "chip_ids") != NULL);
    /* shapes */
    char zeros[129];
    memset(zeros, '0', 128);
    zeros[128] = '\0';
    snprintf(text, sizeof(text), "{%s,\"chip_ids\":[\"%s\"]}", base, zeros);
    CHECK_ERR(appraise(&res, text), ATLS_ERR_POLICY_INVALID);
    CHECK(strstr(atls_error_message(), "MASK_CHIP_ID") != NULL);
    snprintf(text, sizeof(text), "{%s,\"chip_ids\":[\"abcd\"]}", base);
    CHECK_ERR(appraise(&res, text), ATLS_ERR_POLICY_INVALID);
    snprintf(text, sizeof(text), "{%s,\"chip_ids\":\"%s\"}", base, chip);
    CHECK_ERR(appraise(&res, text), ATLS_ERR_POLICY_INVALID);
    /* opt-in: trust on first use does not pin the chip */
    json_t *tofu = NULL;
    CHECK_OK(atls_snp_verifier_ops.policy_from_result(&res, &tofu));
    CHECK(tofu != NULL && json_object_get(tofu, "chip_ids") == NULL);
    json_decref(tofu);

    atls_evidence_result_cleanup(&res);
    sk_X509_free(in.trust_anchors);
    sk_X509_free(in.intermediates);
    tg_snp_pki_free(&pki);
    return check_summary();
}
