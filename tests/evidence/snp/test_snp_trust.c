/* test_snp_trust.c: the SNP verifier claims only what it checked (issue 10, items 7-10): report
 * version 4, the ARK's CRL (revoking an ASK or a VCEK), the reserved bytes of TCB_VERSION per
 * product, SIGNING_KEY against the certificate kind, and the policy keys for CXL_ALLOW,
 * MEM_AES_256_XTS and provisional firmware. Each case was accepted (or refused) wrongly before.
 * Generated vectors only (snp_testgen.c). */
#include "check.h"
#include "snp_testgen.h"
#include "testcrl.h"

#include "evidence/snp/snp.h"

#include <string.h>

static time_t now_;

static atls_error verify(const uint8_t rep[1184], const tg_snp_pki *p, X509 *leaf,
                         STACK_OF(X509_CRL) *crls, atls_evidence_result *res)
{
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = sk_X509_new_null();
    in.intermediates = sk_X509_new_null();
    sk_X509_push(in.trust_anchors, p->ark);
    sk_X509_push(in.intermediates, p->ask);
    sk_X509_push(in.intermediates, leaf != NULL ? leaf : p->leaf);
    in.crls = crls;
    atls_evidence_result tmp;
    atls_error rc = atls_snp_verifier_ops.verify(rep, 1184, &in, res != NULL ? res : &tmp);
    if (res == NULL) {
        atls_evidence_result_cleanup(&tmp);
    }
    sk_X509_free(in.trust_anchors);
    sk_X509_free(in.intermediates);
    return rc;
}

static STACK_OF(X509_CRL) *one_crl(X509 *issuer, EVP_PKEY *key, time_t t1, time_t t2,
                                   X509 *revoked)
{
    X509 *list[2] = {revoked, NULL};
    X509_CRL *crl = testcrl_new(issuer, key, 1, t1, t2, list);
    STACK_OF(X509_CRL) *s = sk_X509_CRL_new_null();
    CHECK(crl != NULL && s != NULL && sk_X509_CRL_push(s, crl) > 0);
    return s;
}

static atls_error appraise(const atls_evidence_result *res, const char *text,
                           atls_trust_vector *tv)
{
    json_t *p = json_loads(text, 0, NULL);
    CHECK(p != NULL);
    memset(tv, 0, sizeof(*tv));
    atls_error rc = atls_snp_verifier_ops.appraise(p, res, tv);
    json_decref(p);
    return rc;
}

/* item 7: version 4 has the version-3 layout */
static void test_v4(const tg_snp_pki *p, STACK_OF(X509_CRL) *crls)
{
    printf("-- 7. report version 4\n");
    tg_snp_fields f;
    tg_snp_defaults(&f);
    f.version = 4;
    uint8_t rep[1184];
    CHECK(tg_snp_report(&f, p->leaf_key, rep));
    atls_evidence_result res;
    CHECK_OK(verify(rep, p, NULL, crls, &res));
    CHECK(json_integer_value(json_object_get(res.claims, "version")) == 4);
    CHECK(json_integer_value(json_object_get(res.claims, "cpuid_fam_id")) == 0x19);
    CHECK(json_object_get(res.claims, "launch_mit_vector") == NULL); /* v5 only */
    CHECK(res.tv.hardware == 2);
    atls_evidence_result_cleanup(&res);
    /* the v3 rules apply: the bytes v5 uses for mitigation vectors must be zero */
    atls_snp_report r;
    rep[0x1F8] = 1;
    CHECK_ERR(atls_snp_report_parse(rep, sizeof(rep), &r), ATLS_ERR_EVIDENCE_FORMAT);
}

/* item 8: the ARK's CRL is honoured: a revoked ASK or VCEK fails; a CRL that cannot be used is
 * refused loudly, never ignored; without a CRL no tier is claimed */
static void test_crl(const tg_snp_pki *p, const uint8_t rep[1184], STACK_OF(X509_CRL) *good)
{
    printf("-- 8. ARK CRL\n");
    atls_evidence_result res;
    atls_trust_vector tv;
    CHECK_OK(verify(rep, p, NULL, good, &res));
    CHECK(res.tv.hardware == 2 && res.tv.instance_identity == 2);
    CHECK(json_is_true(json_object_get(res.claims, "revocation_checked")));
    atls_evidence_result_cleanup(&res);

    CHECK_OK(verify(rep, p, NULL, NULL, &res));
    CHECK(res.tv.hardware == 0 && res.tv.instance_identity == 0);
    CHECK(json_is_false(json_object_get(res.claims, "revocation_checked")));
    CHECK_ERR(appraise(&res, "{\"any_measurement\":true}", &tv), ATLS_ERR_POLICY_UNAPPRAISED);
    CHECK_OK(appraise(&res, "{\"any_measurement\":true,\"allow_unchecked_revocation\":true}",
                      &tv));
    CHECK(tv.configuration == 36 && tv.hardware == 0 && tv.executables == 33);
    atls_evidence_result_cleanup(&res);

    STACK_OF(X509_CRL) *s = one_crl(p->ark, p->ark_key, now_ - 3600, now_ + 86400, p->ask);
    CHECK_ERR(verify(rep, p, NULL, s, NULL), ATLS_ERR_EVIDENCE_REVOKED);
    CHECK(strstr(atls_error_detail(), "ASK") != NULL);
    sk_X509_CRL_pop_free(s, X509_CRL_free);
    s = one_crl(p->ark, p->ark_key, now_ - 3600, now_ + 86400, p->leaf);
    CHECK_ERR(verify(rep, p, NULL, s, NULL), ATLS_ERR_EVIDENCE_REVOKED);
    CHECK(strstr(atls_error_detail(), "VCEK") != NULL);
    sk_X509_CRL_pop_free(s, X509_CRL_free);
    /* another issuer's CRL (the ASK's; Intel's in a shared configuration): not this ARK's,
     * so not applied, and the result says revocation is unchecked */
    s = one_crl(p->ask, p->ask_key, now_ - 3600, now_ + 86400, p->leaf);
    CHECK_OK(verify(rep, p, NULL, s, &res));
    CHECK(json_is_false(json_object_get(res.claims, "revocation_checked")) &&
          res.tv.hardware == 0);
    atls_evidence_result_cleanup(&res);
    sk_X509_CRL_pop_free(s, X509_CRL_free);
    /* under the ARK's name but signed by another key, expired, not yet valid: refused */
    s = one_crl(p->ark, p->ask_key, now_ - 3600, now_ + 86400, NULL);
    CHECK_ERR(verify(rep, p, NULL, s, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    sk_X509_CRL_pop_free(s, X509_CRL_free);
    s = one_crl(p->ark, p->ark_key, now_ - 86400 * 3, now_ - 86400, NULL);
    CHECK_ERR(verify(rep, p, NULL, s, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK(strstr(atls_error_detail(), "not valid at the verification time") != NULL);
    sk_X509_CRL_pop_free(s, X509_CRL_free);
    s = one_crl(p->ark, p->ark_key, now_ + 3600, now_ + 86400, NULL);
    CHECK_ERR(verify(rep, p, NULL, s, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    sk_X509_CRL_pop_free(s, X509_CRL_free);
}

/* item 9: TCB_VERSION reserved bytes per product; SIGNING_KEY = the certificate kind */
static void test_tcb_and_signer(tg_snp_pki *p, STACK_OF(X509_CRL) *crls)
{
    printf("-- 9. TCB_VERSION layout, VCEK/VLEK\n");
    tg_snp_fields f;
    tg_snp_defaults(&f);
    uint8_t rep[1184];
    /* Milan: byte 3 is reserved (the SPL extensions do not cover it, so the VCEK matches) */
    f.tcb |= 1ull << 24;
    CHECK(tg_snp_report(&f, p->leaf_key, rep));
    CHECK_ERR(verify(rep, p, NULL, crls, NULL), ATLS_ERR_EVIDENCE_FORMAT);
    CHECK(strstr(atls_error_detail(), "reserved") != NULL);
    tg_snp_defaults(&f);
    f.committed_tcb = f.tcb | (1ull << 40); /* COMMITTED_TCB byte 5 */
    CHECK(tg_snp_report(&f, p->leaf_key, rep));
    CHECK_ERR(verify(rep, p, NULL, crls, NULL), ATLS_ERR_EVIDENCE_FORMAT);
    CHECK(strstr(atls_error_detail(), "COMMITTED_TCB") != NULL);
    {
        /* Turin: bytes 4..6 reserved; byte 3 is SNP there */
        tg_snp_pki t;
        tg_snp_fields g;
        tg_snp_defaults(&g);
        g.cpuid_fam = 0x1A;
        g.tcb = 0x4400000005000201ull; /* ucode 0x44, SNP 5, TEE 0, BL 2, FMC 1 */
        CHECK(tg_snp_pki_new(&t, g.tcb, 1, g.chip_id, 8, "SEV-VCEK", "Turin", now_ - 86400,
                             now_ + 86400 * 30));
        STACK_OF(X509_CRL) *tc = one_crl(t.ark, t.ark_key, now_ - 3600, now_ + 86400, NULL);
        CHECK(tg_snp_report(&g, t.leaf_key, rep));
        CHECK_OK(verify(rep, &t, NULL, tc, NULL));
        g.tcb |= 1ull << 48; /* byte 6: reserved on Turin */
        CHECK(tg_snp_report(&g, t.leaf_key, rep));
        CHECK_ERR(verify(rep, &t, NULL, tc, NULL), ATLS_ERR_EVIDENCE_FORMAT);
        CHECK(strstr(atls_error_detail(), "Turin") != NULL);
        sk_X509_CRL_pop_free(tc, X509_CRL_free);
        tg_snp_pki_free(&t);
    }

    /* a report saying VLEK, signed by a VCEK: the chip-ID check would be skipped */
    tg_snp_defaults(&f);
    f.signer_info = 1u << 2;
    CHECK(tg_snp_report(&f, p->leaf_key, rep));
    CHECK_ERR(verify(rep, p, NULL, crls, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK(strstr(atls_error_detail(), "SIGNING_KEY") != NULL);
    /* a report saying VCEK, signed by a VLEK */
    X509 *vlek = NULL;
    EVP_PKEY *vlek_key = NULL;
    CHECK(tg_snp_leaf_new_cn(p, f.tcb, 0, NULL, 0, "SEV-VLEK", "Milan", now_ - 86400,
                             now_ + 86400 * 30, &vlek, &vlek_key));
    tg_snp_defaults(&f);
    memset(f.chip_id, 0, sizeof(f.chip_id));
    CHECK(tg_snp_report(&f, vlek_key, rep));
    CHECK_ERR(verify(rep, p, vlek, crls, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK(strstr(atls_error_detail(), "SIGNING_KEY") != NULL);
    f.signer_info = 1u << 2; /* and as a VLEK report it verifies */
    CHECK(tg_snp_report(&f, vlek_key, rep));
    CHECK_OK(verify(rep, p, vlek, crls, NULL));
    X509_free(vlek);
    EVP_PKEY_free(vlek_key);
}

/* item 10: CXL_ALLOW, MEM_AES_256_XTS, provisional firmware: explicit keys, strict defaults */
static void test_policy_keys(const tg_snp_pki *p, STACK_OF(X509_CRL) *crls)
{
    printf("-- 10. CXL_ALLOW, MEM_AES_256_XTS, provisional firmware\n");
    tg_snp_fields f;
    uint8_t rep[1184];
    atls_evidence_result res;
    atls_trust_vector tv;
    static const struct {
        const char *what;
        uint64_t policy_bits;
        int provisional;
        const char *strict_detail, *relaxed;
        int8_t configuration;
    } cases[] = {
        {"CXL_ALLOW", 1ull << 21, 0, "cxl_allow",
         "{\"any_measurement\":true,\"allow_cxl\":true}", 32},
        {"provisional firmware", 0, 1, "provisional",
         "{\"any_measurement\":true,\"allow_provisional_firmware\":true}", 32},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tg_snp_defaults(&f);
        f.policy |= cases[i].policy_bits;
        if (cases[i].provisional) {
            f.committed_tcb = 0x4404000000000002ull; /* SNP 4 committed, 5 running */
        }
        CHECK(tg_snp_report(&f, p->leaf_key, rep));
        CHECK_OK(verify(rep, p, NULL, crls, &res));
        CHECK_ERR(appraise(&res, "{\"any_measurement\":true}", &tv), ATLS_ERR_POLICY_MISMATCH);
        CHECK(strstr(atls_error_detail(), cases[i].strict_detail) != NULL);
        CHECK_OK(appraise(&res, cases[i].relaxed, &tv));
        CHECK(tv.configuration == cases[i].configuration);
        /* policy init writes the strict value: it refuses what it saw */
        json_t *gen = NULL;
        CHECK_OK(atls_snp_verifier_ops.policy_from_result(&res, &gen));
        CHECK(json_is_false(json_object_get(gen, "allow_cxl")) &&
              json_is_false(json_object_get(gen, "allow_provisional_firmware")) &&
              json_is_false(json_object_get(gen, "allow_unchecked_revocation")) &&
              json_is_false(json_object_get(gen, "allow_debug")));
        CHECK_ERR(atls_snp_verifier_ops.appraise(gen, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
        json_decref(gen);
        atls_evidence_result_cleanup(&res);
    }
    /* MEM_AES_256_XTS: required by name; policy init keeps a hardening it saw */
    tg_snp_defaults(&f);
    CHECK(tg_snp_report(&f, p->leaf_key, rep));
    CHECK_OK(verify(rep, p, NULL, crls, &res));
    CHECK_ERR(appraise(&res, "{\"any_measurement\":true,\"require_mem_aes_256_xts\":true}", &tv),
              ATLS_ERR_POLICY_MISMATCH);
    CHECK(strstr(atls_error_detail(), "mem_aes_256_xts") != NULL);
    atls_evidence_result_cleanup(&res);
    f.policy |= 1ull << 22;
    CHECK(tg_snp_report(&f, p->leaf_key, rep));
    CHECK_OK(verify(rep, p, NULL, crls, &res));
    CHECK_OK(appraise(&res, "{\"any_measurement\":true,\"require_mem_aes_256_xts\":true}", &tv));
    CHECK(tv.configuration == 2);
    json_t *gen = NULL;
    CHECK_OK(atls_snp_verifier_ops.policy_from_result(&res, &gen));
    CHECK(json_is_true(json_object_get(gen, "require_mem_aes_256_xts")));
    CHECK_OK(atls_snp_verifier_ops.appraise(gen, &res, &tv));
    CHECK(tv.executables == 2 && tv.configuration == 2 && tv.hardware == 2);
    json_decref(gen);
    atls_evidence_result_cleanup(&res);
}

int main(void)
{
    now_ = time(NULL);
    tg_snp_fields f;
    tg_snp_defaults(&f);
    tg_snp_pki pki;
    CHECK(tg_snp_pki_new(&pki, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", now_ - 86400,
                         now_ + 86400 * 30));
    uint8_t rep[1184];
    CHECK(tg_snp_report(&f, pki.leaf_key, rep));
    STACK_OF(X509_CRL) *crls = one_crl(pki.ark, pki.ark_key, now_ - 3600, now_ + 86400, NULL);

    test_v4(&pki, crls);
    test_crl(&pki, rep, crls);
    test_tcb_and_signer(&pki, crls);
    test_policy_keys(&pki, crls);

    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    tg_snp_pki_free(&pki);
    return check_summary();
}
