/* test_trust_tiers.c: for each verifier (tdx, snp, cca, tpm2), the full set of trust inputs
 * gives an affirming EAR; removing one input at a time (QE Identity, each CRL, TCB Info, the
 * VCEK chain, the AK certificate, the platform key, reference values) never leaves the status
 * or any trust-vector claim at the level of the full set: the appraisal fails
 * (contraindicated) under the strict policy, and a policy that accepts the missing input by
 * name gets a warning with exactly the claims documented in docs/EVIDENCE.md ("What each tier
 * requires"; the table there is this one). Also: a Revoked TCB is a contraindicated EAR with
 * its reason (issue 10 item 6), an all-"any" TPM policy never affirms (item 11). */
#include "check.h"
#include "cca_testgen.h"
#include "snp_testgen.h"
#include "tdx_testgen.h"
#include "testcrl.h"
#include "tpm2_fake.h"

#include <atls/appraisal.h>

#include "appraisal/appraise/appraisal_internal.h"
#include "evidence/cca/cca.h"
#include "evidence/snp/snp.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tpm2/tpm2.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One row: the inputs and policy section changes, and what the EAR must say. */
typedef struct row {
    const char *name;
    const char *relax;  /* JSON object merged into the strict section (NULL: none) */
    const char *remove; /* a key removed from the strict section (NULL: none) */
    int no_policy;      /* appraise with no policy at all */
    atls_error rc;      /* ATLS_OK or the failure */
    atls_tier status;
    int8_t ii, conf, exe, hw; /* the submod's vector (checked when rc == ATLS_OK) */
} row;

static int8_t claim(const json_t *vec, const char *name)
{
    return (int8_t)json_integer_value(json_object_get(vec, name));
}

/* appraise_row runs the pipeline for |r| with |ev| and |in| against the strict |section|. */
static void appraise_row(const char *verifier, const atls_verifier_ops *ops, const uint8_t *ev,
                         size_t len, const atls_verify_input *in, const json_t *section,
                         const row *r)
{
    json_t *sec = json_deep_copy(section);
    if (r->relax != NULL) {
        json_t *extra = json_loads(r->relax, 0, NULL);
        CHECK(extra != NULL && json_object_update(sec, extra) == 0);
        json_decref(extra);
    }
    if (r->remove != NULL) {
        CHECK(json_object_del(sec, r->remove) == 0);
    }
    json_t *doc = json_pack("{s:i, s:O}", "version", 1, ops->name, sec);
    char *text = json_dumps(doc, 0);
    atls_policy *policy = NULL;
    CHECK_OK(atls_policy_parse(text, strlen(text), "tiers", &policy));
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    atls_error rc = atls_appraise_evidence(ops, ev, len, in, r->no_policy ? NULL : policy, &a);
    const json_t *sub = json_object_get(json_object_get(atls_appraisal_get0_ear_json(&a), "submods"), ops->name);
    const json_t *vec = json_object_get(sub, "ear_trustworthiness_vector");
    int8_t ii = claim(vec, "instance-identity"), conf = claim(vec, "configuration"),
           exe = claim(vec, "executables"), hw = claim(vec, "hardware");
    int ok = rc == r->rc && a.status == r->status;
    if (ok && r->rc == ATLS_OK) {
        ok = ii == r->ii && conf == r->conf && exe == r->exe && hw == r->hw;
    }
    if (ok && r->rc != ATLS_OK) { /* a contraindicated EAR always says why */
        const json_t *vc = json_object_get(sub, "ear_verifier_claims");
        const char *why = json_string_value(json_object_get(vc, "failure"));
        ok = why != NULL && why[0] != '\0';
    }
    if (!ok) {
        printf("  %s / %s: rc %d status %d vector ii %d conf %d exe %d hw %d (%s)\n", verifier,
               r->name, rc, a.status, ii, conf, exe, hw, a.reason);
    }
    CHECK(ok);
    atls_appraisal_cleanup(&a);
    atls_policy_free(policy);
    free(text);
    json_decref(doc);
    json_decref(sec);
}

/* strict_section: the verifier's policy_from_result for a verification with |in|. */
static json_t *strict_section(const atls_verifier_ops *ops, const uint8_t *ev, size_t len,
                              const atls_verify_input *in)
{
    atls_evidence_result res;
    json_t *section = NULL;
    CHECK_OK(ops->verify(ev, len, in, &res));
    CHECK_OK(ops->policy_from_result(&res, &section));
    atls_evidence_result_cleanup(&res);
    return section;
}

#define AFFIRMING ATLS_TIER_AFFIRMING
#define WARNING ATLS_TIER_WARNING
#define CONTRA ATLS_TIER_CONTRAINDICATED

/* ---- TDX ---- */
static char dir_[64], ti_[128], qe_[128], chain_[128];

static void write_tdx_collateral(const tg_tdx_pki *p, time_t now, const char *status)
{
    char lv[1024];
    tg_tdx_level(lv, sizeof(lv), 3, 0, 5, status);
    CHECK(tg_tdx_write_tcb_info(p->tcb_key, ti_, now - 3600, now + 86400, lv, NULL));
    CHECK(tg_tdx_write_qe_identity(p->tcb_key, qe_, now - 3600, now + 86400, "UpToDate"));
}

static void test_tdx(time_t now)
{
    printf("-- tdx\n");
    static const uint8_t fmspc[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
    static const uint8_t comp[16] = {5, 5, 2, 2, 3, 1, 0, 3};
    tg_tdx_pki p;
    CHECK(tg_tdx_pki_new(&p, fmspc, comp, 11));
    tg_tdx_fields f;
    tg_tdx_defaults(&f);
    size_t len = 0, off = 0;
    uint8_t *q = tg_tdx_quote(&p, &f, &len, &off);
    CHECK(q != NULL && tg_tdx_write_chain(&p, chain_));
    write_tdx_collateral(&p, now, "UpToDate");
    STACK_OF(X509_CRL) *crls = tg_tdx_crls(&p, now - 86400L * 29, now + 86400, 0);
    STACK_OF(X509_CRL) *one = tg_tdx_crls(&p, now - 86400L * 29, now + 86400, 0);
    X509_CRL_free(sk_X509_CRL_pop(one)); /* the root CA CRL alone */
    STACK_OF(X509) *anchors = sk_X509_new_null();
    sk_X509_push(anchors, p.root);
    atls_verify_input full = {.trust_anchors = anchors, .crls = crls, .tcb_info_path = ti_,
                              .qe_identity_path = qe_, .tcb_signing_chain_path = chain_};
    json_t *strict = strict_section(&atls_tdx_verifier_ops, q, len, &full);

    static const row rows[] = {
        {"full input set", NULL, NULL, 0, ATLS_OK, AFFIRMING, 2, 2, 2, 2},
        {"no policy", NULL, NULL, 1, ATLS_OK, WARNING, 2, 36, 0, 2},
        {"reference values: any_mrtd", "{\"any_mrtd\":true}", "mrtd", 0, ATLS_OK, WARNING,
         2, 2, 33, 2},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        appraise_row("tdx", &atls_tdx_verifier_ops, q, len, &full, strict, &rows[i]);
    }
    /* one input removed: strict refusal, then the named relaxation and its warning */
    struct {
        atls_verify_input in;
        row strict, relaxed;
    } drop[] = {
        {full, {"no QE Identity", NULL, NULL, 0, ATLS_ERR_POLICY_UNAPPRAISED, CONTRA, 0, 0, 0, 0},
         {"no QE Identity, allow_unappraised_qe", "{\"allow_unappraised_qe\":true}", NULL, 0,
          ATLS_OK, WARNING, 2, 36, 2, 0}},
        {full, {"no CRLs", NULL, NULL, 0, ATLS_ERR_POLICY_UNAPPRAISED, CONTRA, 0, 0, 0, 0},
         {"no CRLs, allow_unchecked_revocation", "{\"allow_unchecked_revocation\":true}", NULL,
          0, ATLS_OK, WARNING, 0, 36, 2, 0}},
        {full, {"PCK CRL missing (root CRL only)", NULL, NULL, 0, ATLS_ERR_EVIDENCE_CHAIN,
                CONTRA, 0, 0, 0, 0},
         {"PCK CRL missing, allow_unchecked_revocation", "{\"allow_unchecked_revocation\":true}",
          NULL, 0, ATLS_ERR_EVIDENCE_CHAIN, CONTRA, 0, 0, 0, 0}},
        {full, {"no TCB Info (no collateral)", NULL, NULL, 0, ATLS_ERR_POLICY_UNAPPRAISED, CONTRA, 0, 0, 0, 0},
         {"no TCB Info, allowed_tcb_statuses NotEvaluated",
          "{\"allowed_tcb_statuses\":[\"NotEvaluated\"]}", NULL, 0, ATLS_OK, WARNING, 2, 36, 2,
          0}},
        {full, {"no trust anchor", NULL, NULL, 0, ATLS_ERR_EVIDENCE_CHAIN, CONTRA, 0, 0, 0, 0},
         {"no trust anchor (no relaxation exists)", "{\"allow_unchecked_revocation\":true}",
          NULL, 0, ATLS_ERR_EVIDENCE_CHAIN, CONTRA, 0, 0, 0, 0}},
    };
    drop[0].in.qe_identity_path = NULL;
    drop[1].in.crls = NULL;
    drop[2].in.crls = one;
    drop[3].in.tcb_info_path = drop[3].in.qe_identity_path = NULL;
    drop[3].in.tcb_signing_chain_path = NULL;
    drop[4].in.trust_anchors = NULL;
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
        appraise_row("tdx", &atls_tdx_verifier_ops, q, len, &drop[i].in, strict, &drop[i].strict);
        appraise_row("tdx", &atls_tdx_verifier_ops, q, len, &drop[i].in, strict,
                     &drop[i].relaxed);
    }

    /* item 6: Revoked is a contraindicated EAR with the reason and the claims, whatever the
     * policy says (it used to end as "EAR: a failure reason is required") */
    write_tdx_collateral(&p, now, "Revoked");
    const row revoked[] = {
        {"Revoked TCB", NULL, NULL, 0, ATLS_ERR_EVIDENCE_REVOKED, CONTRA, 0, 0, 0, 0},
        {"Revoked TCB, listed as allowed", "{\"allowed_tcb_statuses\":[\"Revoked\"]}", NULL, 0,
         ATLS_ERR_EVIDENCE_REVOKED, CONTRA, 0, 0, 0, 0},
        {"Revoked TCB, no policy", NULL, NULL, 1, ATLS_ERR_EVIDENCE_REVOKED, CONTRA, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(revoked) / sizeof(revoked[0]); i++) {
        appraise_row("tdx", &atls_tdx_verifier_ops, q, len, &full, strict, &revoked[i]);
    }
    {
        atls_appraisal a;
        memset(&a, 0, sizeof(a));
        CHECK_ERR(atls_appraise_evidence(&atls_tdx_verifier_ops, q, len, &full, NULL, &a),
                  ATLS_ERR_EVIDENCE_REVOKED);
        const json_t *sub = json_object_get(json_object_get(atls_appraisal_get0_ear_json(&a), "submods"), "tdx");
        const json_t *vc = json_object_get(sub, "ear_verifier_claims");
        const char *why = json_string_value(json_object_get(vc, "failure"));
        CHECK(why != NULL && strstr(why, "Revoked") != NULL);
        CHECK(json_object_get(json_object_get(sub, "ear_attester_claims"), "tcb_status") != NULL);
        CHECK(claim(json_object_get(sub, "ear_trustworthiness_vector"), "hardware") == 96);
        atls_appraisal_cleanup(&a);
    }
    json_decref(strict);
    sk_X509_free(anchors);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    sk_X509_CRL_pop_free(one, X509_CRL_free);
    free(q);
    tg_tdx_pki_free(&p);
}

/* ---- SNP ---- */
static void test_snp(time_t now)
{
    printf("-- snp\n");
    tg_snp_fields f;
    tg_snp_defaults(&f);
    tg_snp_pki p;
    CHECK(tg_snp_pki_new(&p, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", now - 86400,
                         now + 86400 * 30));
    uint8_t rep[1184];
    CHECK(tg_snp_report(&f, p.leaf_key, rep));
    X509_CRL *crl = testcrl_new(p.ark, p.ark_key, 1, now - 3600, now + 86400, NULL);
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    sk_X509_CRL_push(crls, crl);
    STACK_OF(X509) *anchors = sk_X509_new_null(), *inter = sk_X509_new_null(),
                   *leaf_only = sk_X509_new_null();
    sk_X509_push(anchors, p.ark);
    sk_X509_push(inter, p.ask);
    sk_X509_push(inter, p.leaf);
    sk_X509_push(leaf_only, p.leaf);
    atls_verify_input full = {.trust_anchors = anchors, .intermediates = inter, .crls = crls};
    json_t *strict = strict_section(&atls_snp_verifier_ops, rep, sizeof(rep), &full);
    const row rows[] = {
        {"full input set", NULL, NULL, 0, ATLS_OK, AFFIRMING, 2, 2, 2, 2},
        {"no policy", NULL, NULL, 1, ATLS_OK, WARNING, 2, 36, 0, 2},
        {"reference values: any_measurement", "{\"any_measurement\":true}", "measurements", 0,
         ATLS_OK, WARNING, 2, 2, 33, 2},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        appraise_row("snp", &atls_snp_verifier_ops, rep, sizeof(rep), &full, strict, &rows[i]);
    }
    atls_verify_input no_crl = full, no_ask = full, no_vcek = full;
    no_crl.crls = NULL;
    no_ask.intermediates = leaf_only;
    no_vcek.intermediates = NULL;
    const row r_no_crl[] = {
        {"no ARK CRL", NULL, NULL, 0, ATLS_ERR_POLICY_UNAPPRAISED, CONTRA, 0, 0, 0, 0},
        {"no ARK CRL, allow_unchecked_revocation", "{\"allow_unchecked_revocation\":true}", NULL,
         0, ATLS_OK, WARNING, 0, 36, 2, 0},
    };
    for (size_t i = 0; i < 2; i++) {
        appraise_row("snp", &atls_snp_verifier_ops, rep, sizeof(rep), &no_crl, strict,
                     &r_no_crl[i]);
    }
    const row r_chain = {"VCEK chain incomplete (no ASK)", "{\"allow_unchecked_revocation\":true}",
                         NULL, 0, ATLS_ERR_EVIDENCE_CHAIN, CONTRA, 0, 0, 0, 0};
    appraise_row("snp", &atls_snp_verifier_ops, rep, sizeof(rep), &no_ask, strict, &r_chain);
    const row r_vcek = {"no VCEK", "{\"allow_unchecked_revocation\":true}", NULL, 0,
                        ATLS_ERR_EVIDENCE_CHAIN, CONTRA, 0, 0, 0, 0};
    appraise_row("snp", &atls_snp_verifier_ops, rep, sizeof(rep), &no_vcek, strict, &r_vcek);
    json_decref(strict);
    sk_X509_free(anchors);
    sk_X509_free(inter);
    sk_X509_free(leaf_only);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    tg_snp_pki_free(&p);
}

/* ---- CCA ---- */
static void test_cca(void)
{
    printf("-- cca\n");
    EVP_PKEY *cpak = tg_cca_key_new("P-384"), *rak = tg_cca_key_new("P-384");
    tg_cca_fields f;
    tg_cca_defaults(&f);
    size_t len = 0;
    uint8_t *tok = tg_cca_token(&f, cpak, rak, &len);
    CHECK(tok != NULL);
    atls_verify_input full = {.trusted_keys = &cpak, .num_trusted_keys = 1};
    json_t *strict = strict_section(&atls_cca_verifier_ops, tok, len, &full);
    const row rows[] = {
        {"full input set", NULL, NULL, 0, ATLS_OK, AFFIRMING, 2, 2, 2, 2},
        {"no policy", NULL, NULL, 1, ATLS_OK, WARNING, 2, 36, 0, 2},
        {"reference values: any_realm_initial_measurement",
         "{\"any_realm_initial_measurement\":true}", "realm_initial_measurements", 0, ATLS_OK,
         WARNING, 2, 2, 33, 2},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *s = json_deep_copy(strict);
        if (i == 2) {
            json_object_del(s, "platform_sw_components"); /* no measurement appraised at all */
        }
        appraise_row("cca", &atls_cca_verifier_ops, tok, len, &full, s, &rows[i]);
        json_decref(s);
    }
    atls_verify_input none = {0};
    const row r_key = {"no platform key (CPAK)", NULL, NULL, 0, ATLS_ERR_EVIDENCE_CHAIN, CONTRA, 0, 0, 0, 0};
    appraise_row("cca", &atls_cca_verifier_ops, tok, len, &none, strict, &r_key);
    json_decref(strict);
    free(tok);
    EVP_PKEY_free(cpak);
    EVP_PKEY_free(rak);
}

/* ---- TPM 2.0 ---- */
static void test_tpm2(void)
{
    printf("-- tpm2\n");
    EVP_PKEY *ak = fake_key(), *ca_key = fake_key();
    X509 *ca = tg_tdx_cert(ca_key, "AK CA", NULL, ca_key, 1);
    X509 *ak_cert = tg_tdx_cert(ak, "AK", ca, ca_key, 0);
    atls_tpm2_quote q;
    fake_opts fo = {0};
    CHECK(fake_quote(ak, &fo, &q) == 0);
    uint8_t *bare = NULL, *with_cert = NULL;
    size_t bare_len = 0, cert_len = 0;
    CHECK_OK(atls_tpm2_quote_encode(&q, &bare, &bare_len));
    unsigned char *der = NULL;
    int n = i2d_X509(ak_cert, &der);
    CHECK(n > 0);
    CHECK_OK(atls_buf_set(&q.ak_cert, der, (size_t)n));
    OPENSSL_free(der);
    CHECK_OK(atls_tpm2_quote_encode(&q, &with_cert, &cert_len));
    STACK_OF(X509) *anchors = sk_X509_new_null();
    sk_X509_push(anchors, ca);
    atls_verify_input full = {.trust_anchors = anchors};
    json_t *strict = strict_section(&atls_tpm2_verifier_ops, with_cert, cert_len, &full);
    const row rows[] = {
        {"full input set (AK pinned, PCRs, AK certificate)", NULL, NULL, 0, ATLS_OK, AFFIRMING,
         2, 2, 2, 0},
        {"no policy", NULL, NULL, 1, ATLS_OK, WARNING, 0, 36, 0, 0},
        {"reference values: any_pcrs", "{\"any_pcrs\":true}", "pcrs", 0, ATLS_OK, WARNING, 2, 0,
         33, 0},
        {"AK identity: ak_any", "{\"ak_any\":true}", "ak_keys", 0, ATLS_OK, WARNING, 32, 2, 2, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        appraise_row("tpm2", &atls_tpm2_verifier_ops, with_cert, cert_len, &full, strict,
                     &rows[i]);
    }
    /* item 11: everything "any" verifies, and is a warning that affirms nothing (it used to be
     * an affirming EAR with instance identity 2) */
    json_t *any = json_pack("{s:b, s:b}", "ak_any", 1, "any_pcrs", 1);
    const row r_any = {"ak_any + any_pcrs", NULL, NULL, 0, ATLS_OK, WARNING, 32, 0, 33, 0};
    appraise_row("tpm2", &atls_tpm2_verifier_ops, with_cert, cert_len, &full, any, &r_any);
    json_decref(any);
    /* the AK certificate removed while its anchors are configured: refused */
    const row r_cert = {"AK certificate missing (anchors configured)", NULL, NULL, 0,
                        ATLS_ERR_EVIDENCE_CHAIN, CONTRA, 0, 0, 0, 0};
    appraise_row("tpm2", &atls_tpm2_verifier_ops, bare, bare_len, &full, strict, &r_cert);
    /* the anchors are another Evidence's (a TEE root beside a vTPM quote): with AK roots of
     * their own (tpm_ak_anchors) the quote is judged by those; none (an empty stack): the
     * certificate-less AK is identified by the policy's pin alone */
    {
        EVP_PKEY *tee_key = fake_key();
        X509 *tee_root = tg_tdx_cert(tee_key, "TEE root", NULL, tee_key, 1);
        STACK_OF(X509) *tee = sk_X509_new_null(), *ak_roots = sk_X509_new_null(),
                       *no_roots = sk_X509_new_null();
        sk_X509_push(tee, tee_root);
        sk_X509_push(ak_roots, ca);
        atls_verify_input mixed = {.trust_anchors = tee};
        const row r_mixed = {"TEE root only, no AK roots of its own", NULL, NULL, 0,
                             ATLS_ERR_EVIDENCE_CHAIN, CONTRA, 0, 0, 0, 0};
        appraise_row("tpm2", &atls_tpm2_verifier_ops, bare, bare_len, &mixed, strict, &r_mixed);
        mixed.tpm_ak_anchors = no_roots;
        const row r_pinned = {"tpm_ak_anchors none: the pinned AK", NULL, NULL, 0, ATLS_OK,
                              AFFIRMING, 2, 2, 2, 0};
        appraise_row("tpm2", &atls_tpm2_verifier_ops, bare, bare_len, &mixed, strict, &r_pinned);
        mixed.tpm_ak_anchors = ak_roots;
        appraise_row("tpm2", &atls_tpm2_verifier_ops, with_cert, cert_len, &mixed, strict,
                     &rows[0]);
        appraise_row("tpm2", &atls_tpm2_verifier_ops, bare, bare_len, &mixed, strict, &r_cert);
        sk_X509_free(tee);
        sk_X509_free(ak_roots);
        sk_X509_free(no_roots);
        X509_free(tee_root);
        EVP_PKEY_free(tee_key);
    }
    json_decref(strict);
    sk_X509_free(anchors);
    atls_tpm2_quote_cleanup(&q);
    free(bare);
    free(with_cert);
    X509_free(ca);
    X509_free(ak_cert);
    EVP_PKEY_free(ak);
    EVP_PKEY_free(ca_key);
}

int main(void)
{
    time_t now = time(NULL);
    snprintf(dir_, sizeof(dir_), "/tmp/atls_tiers_XXXXXX");
    CHECK(mkdtemp(dir_) != NULL);
    snprintf(ti_, sizeof(ti_), "%s/tcbinfo.json", dir_);
    snprintf(qe_, sizeof(qe_), "%s/qeidentity.json", dir_);
    snprintf(chain_, sizeof(chain_), "%s/chain.pem", dir_);
    test_tdx(now);
    test_snp(now);
    test_cca();
    test_tpm2();
    unlink(ti_);
    unlink(qe_);
    unlink(chain_);
    rmdir(dir_);
    return check_summary();
}
