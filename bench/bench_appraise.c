/*
 * bench_appraise: benchmark 3, appraisal throughput per evidence type against the raw ECDSA
 * verify rate of the same curve (the physical limit, measured by `openssl speed` in the same
 * run and passed in by scripts/bench).
 *
 *   bench_appraise P256_VERIFY_PER_S P384_VERIFY_PER_S [SECONDS]
 *
 * Each type runs atls_appraise_evidence (parse, signatures, chains, collateral, challenge,
 * strict policy, EAR) in a loop for SECONDS (default 3) on Evidence generated here with test
 * CAs (the tests/snp, tests/tdx and tests/cca generators) or produced once by the sim attester and by the tpm2
 * attester on a private swtpm. Prints Markdown table rows.
 *
 * ECDSA operations per appraisal (what the ratio is compared with):
 *   SNP: 1 P-384 verify (report by VCEK) + RSA-4096-PSS verifies of the VCEK and ASK;
 *   TDX: 2 P-256 verifies (quote by AK, QE report by PCK) + the PCK chain (2 P-256) + with
 *        collateral the TCB signing chain (1) and TCB Info / QE Identity signatures (2);
 *   CCA: 1 P-256 (platform, CPAK) + 1 P-384 (realm, RAK);
 *   TPM: 1 P-256 (quote by AK); sim: 1 P-256.
 */
#include "bench_util.h"
#include "cca_testgen.h"
#include "snp_testgen.h"
#include "swtpm.h"
#include "tdx_testgen.h"
#include "testcrl.h"

#include <atls/appraisal.h>
#include <atls/policy.h>

#include "evidence/cca/cca.h"
#include "evidence/sim/sim.h"
#include "evidence/snp/snp.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tpm2/tpm2.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double seconds_ = 3.0;
static double p256_, p384_;
static char dir_[64];

/* run_type: build a strict policy from one verification, then appraise in a loop. */
static int run_type_relaxed(const char *label, const atls_verifier_ops *ops, const uint8_t *ev,
                            size_t len, const atls_verify_input *in, const char *curve,
                            double limit, double ecdsa_ops, const char *relax);

static int run_type(const char *label, const atls_verifier_ops *ops, const uint8_t *ev,
                    size_t len, const atls_verify_input *in, const char *curve, double limit,
                    double ecdsa_ops)
{
    return run_type_relaxed(label, ops, ev, len, in, curve, limit, ecdsa_ops, NULL);
}

/* run_type_relaxed: run_type with the keys of the JSON object |relax| set in the strict policy
 * (an explicit relaxation, e.g. TDX without collateral; the appraisal is then a warning). */
static int run_type_relaxed(const char *label, const atls_verifier_ops *ops, const uint8_t *ev,
                            size_t len, const atls_verify_input *in, const char *curve,
                            double limit, double ecdsa_ops, const char *relax)
{
    atls_evidence_result res;
    memset(&res, 0, sizeof(res));
    json_t *section = NULL;
    if (ops->verify(ev, len, in, &res) != ATLS_OK ||
        ops->policy_from_result(&res, &section) != ATLS_OK) {
        fprintf(stderr, "%s: verification failed: %s\n", label, atls_error_detail());
        atls_evidence_result_cleanup(&res);
        return 1;
    }
    atls_evidence_result_cleanup(&res);
    json_t *extra = relax != NULL ? json_loads(relax, 0, NULL) : NULL;
    if (extra != NULL) {
        (void)json_object_update(section, extra);
        json_decref(extra);
    }
    json_t *doc = json_pack("{s:i, s:o}", "version", 1, ops->name, section);
    char *text = json_dumps(doc, JSON_SORT_KEYS);
    json_decref(doc);
    atls_policy *policy = NULL;
    if (text == NULL || atls_policy_parse(text, strlen(text), "bench", &policy) != ATLS_OK) {
        fprintf(stderr, "%s: policy: %s\n", label, atls_error_detail());
        free(text);
        return 1;
    }
    free(text);
    uint64_t count = 0, t0 = bench_now_ns(), t1 = t0;
    uint64_t budget = (uint64_t)(seconds_ * 1e9);
    while (t1 - t0 < budget) {
        atls_appraisal a;
        memset(&a, 0, sizeof(a));
        atls_error rc = atls_appraise_evidence(ops, ev, len, in, policy, &a);
        /* affirming, or warning where the Evidence cannot be fully appraised (TDX without
         * collateral: TCB status not evaluated) */
        atls_appraisal_cleanup(&a);
        if (rc != ATLS_OK) {
            fprintf(stderr, "%s: appraisal failed: %s\n", label, atls_error_detail());
            atls_policy_free(policy);
            return 1;
        }
        count++;
        t1 = bench_now_ns();
    }
    atls_policy_free(policy);
    double rate = (double)count / ((double)(t1 - t0) / 1e9);
    printf("| %s | %.0f | %s verify %.0f/s | %.0f | **%.1f %%** |\n", label, rate, curve, limit,
           ecdsa_ops, 100.0 * rate / limit);
    fflush(stdout);
    return 0;
}

static STACK_OF(X509) *stack_of(X509 *a, X509 *b)
{
    STACK_OF(X509) *s = sk_X509_new_null();
    if (s != NULL && a != NULL) {
        (void)sk_X509_push(s, a);
    }
    if (s != NULL && b != NULL) {
        (void)sk_X509_push(s, b);
    }
    return s;
}

static int bench_snp(void)
{
    tg_snp_fields f;
    tg_snp_pki pki;
    uint8_t rep[1184];
    time_t now = time(NULL);
    tg_snp_defaults(&f);
    for (size_t i = 0; i < 64; i++) {
        f.report_data[i] = (uint8_t)i;
    }
    if (!tg_snp_pki_new(&pki, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", now - 86400,
                        now + 86400 * 30) ||
        !tg_snp_report(&f, pki.leaf_key, rep)) {
        fprintf(stderr, "snp: generator failed\n");
        return 1;
    }
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = stack_of(pki.ark, NULL);
    in.intermediates = stack_of(pki.ask, pki.leaf);
    in.challenge = f.report_data;
    /* the full input set: the ARK's CRL as well (revocation checked on every appraisal) */
    X509_CRL *crl = testcrl_new(pki.ark, pki.ark_key, 1, now - 3600, now + 86400, NULL);
    in.crls = sk_X509_CRL_new_null();
    if (crl == NULL || in.crls == NULL || sk_X509_CRL_push(in.crls, crl) <= 0) {
        fprintf(stderr, "snp: CRL generator failed\n");
        return 1;
    }
    int rc = run_type("SNP (report + VCEK/ASK/ARK chain + ARK CRL)", &atls_snp_verifier_ops, rep,
                      sizeof(rep), &in, "P-384", p384_, 1);
    sk_X509_CRL_pop_free(in.crls, X509_CRL_free);
    sk_X509_free(in.trust_anchors);
    sk_X509_free(in.intermediates);
    tg_snp_pki_free(&pki);
    return rc;
}

static const uint8_t FMSPC[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
static const uint8_t COMP[16] = {5, 5, 2, 2, 3, 1, 0, 3};

/* TCB Info (UpToDate for the generated PCK) and QE Identity, as tests/tdx writes them. */
static int write_tdx_collateral(const tg_tdx_pki *p, const char *ti, const char *qe)
{
    char a[21], b[21], body[8192];
    time_t now = time(NULL);
    tg_iso(now - 3600, a);
    tg_iso(now + 86400, b);
    const char *zeros13 = "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
                          "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
                          "{\"svn\":0},{\"svn\":0}";
    snprintf(body, sizeof(body),
             "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"fmspc\":\"00112233AABB\",\"pceId\":\"0000\",\"tcbType\":0,"
             "\"tcbEvaluationDataNumber\":1,"
             "\"tdxModule\":{\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
             "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tcbLevels\":["
             "{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":5},{\"svn\":5},{\"svn\":2},{\"svn\":2},"
             "{\"svn\":3},{\"svn\":1},{\"svn\":0},{\"svn\":3},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
             "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],\"pcesvn\":11,"
             "\"tdxtcbcomponents\":[{\"svn\":3},{\"svn\":0},{\"svn\":5},%s]},"
             "\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
             a, b, 0, zeros13);
    if (!tg_tdx_write_signed(p, ti, "tcbInfo", body)) {
        return 0;
    }
    snprintf(body, sizeof(body),
             "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"tcbEvaluationDataNumber\":1,\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
             "\"attributes\":\"11000000000000000000000000000000\","
             "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
             "\"mrsigner\":\"DCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDC\","
             "\"isvprodid\":2,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\","
             "\"tcbStatus\":\"UpToDate\"}]}",
             a, b);
    return tg_tdx_write_signed(p, qe, "enclaveIdentity", body);
}

static int bench_tdx(void)
{
    tg_tdx_pki pki;
    tg_tdx_fields f;
    size_t len = 0, chain_off = 0;
    if (!tg_tdx_pki_new(&pki, FMSPC, COMP, 11)) {
        return 1;
    }
    tg_tdx_defaults(&f);
    for (size_t i = 0; i < 64; i++) {
        f.report_data[i] = (uint8_t)(0xf0 ^ i);
    }
    uint8_t *q = tg_tdx_quote(&pki, &f, &len, &chain_off);
    char ti[128], qe[128], ch[128];
    snprintf(ti, sizeof(ti), "%s/tcbinfo.json", dir_);
    snprintf(qe, sizeof(qe), "%s/qeidentity.json", dir_);
    snprintf(ch, sizeof(ch), "%s/tcbchain.pem", dir_);
    if (q == NULL || !write_tdx_collateral(&pki, ti, qe) || !tg_tdx_write_chain(&pki, ch)) {
        fprintf(stderr, "tdx: generator failed\n");
        return 1;
    }
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = stack_of(pki.root, NULL);
    in.challenge = f.report_data;
    int rc = run_type_relaxed("TDX (quote + PCK chain, no collateral)", &atls_tdx_verifier_ops,
                              q, len, &in, "P-256", p256_, 4,
                              "{\"allowed_tcb_statuses\": [\"NotEvaluated\"],"
                              " \"allow_unchecked_revocation\": true}");
    in.tcb_info_path = ti;
    in.qe_identity_path = qe;
    in.tcb_signing_chain_path = ch;
    time_t now = time(NULL);
    in.crls = tg_tdx_crls(&pki, now - 3600, now + 86400, 0);
    rc |= run_type("TDX (quote + PCK chain + TCB Info + QE Identity + CRLs)",
                   &atls_tdx_verifier_ops, q, len, &in, "P-256", p256_, 7);
    sk_X509_CRL_pop_free(in.crls, X509_CRL_free);
    sk_X509_free(in.trust_anchors);
    free(q);
    tg_tdx_pki_free(&pki);
    return rc;
}

static int bench_cca(void)
{
    EVP_PKEY *cpak = tg_cca_key_new("P-256");
    EVP_PKEY *rak = tg_cca_key_new("P-384");
    tg_cca_fields f;
    tg_cca_defaults(&f);
    size_t len = 0;
    uint8_t *tok = cpak && rak ? tg_cca_token(&f, cpak, rak, &len) : NULL;
    if (tok == NULL) {
        fprintf(stderr, "cca: generator failed\n");
        return 1;
    }
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trusted_keys = &cpak;
    in.num_trusted_keys = 1;
    in.challenge = f.challenge;
    /* limit: one P-256 and one P-384 verify in sequence */
    double limit = 1.0 / (1.0 / p256_ + 1.0 / p384_);
    int rc = run_type("CCA (platform P-256 + realm P-384)", &atls_cca_verifier_ops, tok, len, &in,
                      "P-256+P-384", limit, 2);
    free(tok);
    EVP_PKEY_free(cpak);
    EVP_PKEY_free(rak);
    return rc;
}

/* produced: Evidence from an attester over a fixed challenge. */
static uint8_t *produce(const atls_attester_ops *ops, const char *const *config,
                        const uint8_t challenge[64], size_t *len)
{
    void *state = NULL;
    uint8_t *ev = NULL;
    if (ops->create(config, &state) != ATLS_OK || ops->produce(state, challenge, &ev, len) != ATLS_OK) {
        fprintf(stderr, "%s attester: %s\n", ops->name, atls_error_detail());
        ev = NULL;
    }
    if (state != NULL) {
        ops->destroy(state);
    }
    return ev;
}

static int bench_sim_tpm(void)
{
    uint8_t chal[64];
    for (size_t i = 0; i < 64; i++) {
        chal[i] = (uint8_t)(i * 7);
    }
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.challenge = chal;
    int rc = 0;
    /* sim */
    char key[128], keyopt[160];
    snprintf(key, sizeof(key), "%s/sim.key", dir_);
    snprintf(keyopt, sizeof(keyopt), "key=%s", key);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    FILE *fp = fopen(key, "w");
    if (k == NULL || fp == NULL || PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL) != 1) {
        rc = 1;
    }
    if (fp != NULL) {
        fclose(fp);
    }
    EVP_PKEY_free(k);
    const char *sim_cfg[] = {keyopt, NULL};
    size_t len = 0;
    uint8_t *ev = rc == 0 ? produce(&atls_sim_attester_ops, sim_cfg, chal, &len) : NULL;
    if (ev != NULL) {
        rc |= run_type("sim (COSE_Sign1 P-256)", &atls_sim_verifier_ops, ev, len, &in, "P-256",
                       p256_, 1);
    } else {
        rc = 1;
    }
    free(ev);
    /* tpm2 on a private swtpm: produce once, appraise in a loop (the TPM is not in the loop) */
    test_swtpm tpm;
    memset(&tpm, 0, sizeof(tpm));
    int s = test_swtpm_start(&tpm);
    if (s == 77) {
        printf("| TPM 2.0 quote | skipped: swtpm not installed | | | |\n");
        return rc;
    }
    char tcti[160];
    snprintf(tcti, sizeof(tcti), "tcti=%s", tpm.tcti);
    const char *tpm_cfg[] = {tcti, NULL};
    ev = s == 0 ? produce(&atls_tpm2_attester_ops, tpm_cfg, chal, &len) : NULL;
    test_swtpm_stop(&tpm);
    if (ev != NULL) {
        rc |= run_type("TPM 2.0 quote (ECDSA P-256 AK, 9 PCRs)", &atls_tpm2_verifier_ops, ev, len,
                       &in, "P-256", p256_, 1);
    } else {
        rc = 1;
    }
    free(ev);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench_appraise P256_VERIFY_PER_S P384_VERIFY_PER_S [SECONDS]\n");
        return 2;
    }
    p256_ = atof(argv[1]);
    p384_ = atof(argv[2]);
    if (argc == 4) {
        seconds_ = atof(argv[3]);
    }
    if (p256_ <= 0 || p384_ <= 0 || seconds_ <= 0) {
        fprintf(stderr, "bench_appraise: rates and seconds must be positive\n");
        return 2;
    }
    snprintf(dir_, sizeof(dir_), "/tmp/atls-bench-XXXXXX");
    if (mkdtemp(dir_) == NULL) {
        return 1;
    }
    const char *only = getenv("BENCH_ONLY");
    int rc = 0;
    if (only == NULL || strstr(only, "snp")) {
        rc |= bench_snp();
    }
    if (only == NULL || strstr(only, "tdx")) {
        rc |= bench_tdx();
    }
    if (only == NULL || strstr(only, "cca")) {
        rc |= bench_cca();
    }
    if (only == NULL || strstr(only, "tpm")) {
        rc |= bench_sim_tpm();
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir_);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir_);
    }
    return rc;
}
