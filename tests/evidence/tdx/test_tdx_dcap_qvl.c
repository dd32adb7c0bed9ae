/* test_tdx_dcap_qvl.c: differential test of the TDX verifier against an independent DCAP
 * verifier, @phala/dcap-qvl from the npm registry (scripts/setup-npm-checkers; run through
 * dcap_qvl_check.js), on generated quotes with their collateral and CRLs and on the shared
 * Intel sample that has collateral. Skipped (77) without node or the package.
 *
 * atls "accepts" when the verifier succeeds and a policy that is strict except for any_mrtd
 * (the peer has no reference values) and the TCB statuses the peer reports rather than refuses
 * (all but Revoked) appraises it; the peer accepts when it returns a status.
 * Both must agree, on the verdict and, when both accept, on the TCB status, REPORTDATA and
 * MRTD; except in the rows marked ATLS_STRICTER, where the peer is known to accept what Intel's
 * QVL refuses (docs/EVIDENCE.md, "Differential testing"): there atls must refuse, and a peer
 * that refuses too is reported, not failed. */
#include "check.h"
#include "tdx_testgen.h"
#include "testcrl.h"
#include "vectors.h"

#include "evidence/tdx/tdx.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir_[64], quote_[128], ti_[128], qe_[128], chain_[128], root_[128], rcrl_[128],
    pcrl_[128];
static char node_cmd_[1024];
static time_t now_;

enum verdict { AGREE, ATLS_STRICTER };

/* peer runs the other verifier; *out is its JSON answer (caller json_decref's). */
static json_t *peer(const char *quote, const char *ti, const char *qe, const char *chain,
                    const char *root, const char *rcrl, const char *pcrl, time_t at)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "%s '%s' '%s' '%s' '%s' '%s' '%s' '%s' %lld", node_cmd_, quote, ti,
             qe, chain, root, rcrl, pcrl, (long long)at);
    FILE *p = popen(cmd, "r");
    char line[8192] = "";
    if (p != NULL && fgets(line, sizeof(line), p) == NULL) {
        line[0] = '\0';
    }
    if (p != NULL) {
        pclose(p);
    }
    json_t *j = json_loads(line, 0, NULL);
    CHECK(j != NULL);
    return j;
}

/* ours: verify + appraise with any_mrtd and every status but Revoked allowed (strict
 * otherwise); 1 = accepted. */
static int ours(const uint8_t *q, size_t len, const char *ti, const char *qe, const char *chain,
                X509 *root, STACK_OF(X509_CRL) *crls, time_t at, atls_evidence_result *res)
{
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = sk_X509_new_null();
    sk_X509_push(in.trust_anchors, root);
    in.tcb_info_path = ti;
    in.qe_identity_path = qe;
    in.tcb_signing_chain_path = chain;
    in.crls = crls;
    in.at = at;
    atls_error rc = atls_tdx_verifier_ops.verify(q, len, &in, res);
    sk_X509_free(in.trust_anchors);
    if (rc != ATLS_OK) {
        return 0;
    }
    /* the peer returns every status but Revoked as a result for the caller to judge: list
     * them, so that the verdicts compare what the verifiers checked, not a default */
    json_t *p = json_pack("{s:b, s:[s,s,s,s,s,s,s,s]}", "any_mrtd", 1, "allowed_tcb_statuses",
                          "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                          "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                          "OutOfDateConfigurationNeeded", "TDRelaunchAdvised",
                          "TDRelaunchAdvisedConfigurationNeeded");
    atls_trust_vector tv;
    rc = res->contra_error != ATLS_OK ? res->contra_error
                                       : atls_tdx_verifier_ops.appraise(p, res, &tv);
    json_decref(p);
    return rc == ATLS_OK;
}

static void compare(const char *name, enum verdict v, int we, const atls_evidence_result *res,
                    json_t *them)
{
    int they = json_is_true(json_object_get(them, "ok"));
    const char *why = json_string_value(json_object_get(them, "error"));
    printf("  %-44s atls %-6s dcap-qvl %-6s %s\n", name, we ? "accept" : "refuse",
           they ? "accept" : "refuse", why != NULL ? why : "");
    if (v == ATLS_STRICTER) {
        CHECK(!we);
        if (!they) {
            printf("  note: dcap-qvl now refuses \"%s\" too\n", name);
        }
        return;
    }
    CHECK(we == they);
    if (we && they) {
        const char *st = json_string_value(json_object_get(res->claims, "tcb_status"));
        const char *pst = json_string_value(json_object_get(them, "status"));
        CHECK(st != NULL && pst != NULL && strcmp(st, pst) == 0);
        static const char *const fields[] = {"report_data", "mrtd"};
        for (size_t i = 0; i < 2; i++) {
            const char *a = json_string_value(json_object_get(res->claims, fields[i]));
            const char *b = json_string_value(json_object_get(them, fields[i]));
            CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
        }
    }
}

static void write_file(const char *path, const uint8_t *d, size_t n)
{
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL && fwrite(d, 1, n, fp) == n);
    if (fp != NULL) {
        fclose(fp);
    }
}

static void write_crls(STACK_OF(X509_CRL) *crls)
{
    CHECK(testcrl_write_pem(sk_X509_CRL_value(crls, 0), rcrl_));
    CHECK(testcrl_write_pem(sk_X509_CRL_value(crls, 1), pcrl_));
}

enum setup { S_FULL, S_OUT_OF_DATE, S_REVOKED_TCB, S_DEBUG_QE, S_QE_MRSIGNER, S_DEBUG_TD,
             S_SEPT_VE, S_REVOKED_PCK, S_PCK_SIGNS_COLLATERAL, S_SIGNER_UNDER_CA,
             S_MODULE_NO_IDENTITIES };

static void test_generated(void)
{
    static const uint8_t fmspc[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
    static const uint8_t comp[16] = {5, 5, 2, 2, 3, 1, 0, 3};
    static const struct {
        const char *name;
        enum setup s;
        enum verdict v;
    } cases[] = {
        {"full input set", S_FULL, AGREE},
        {"TCB level OutOfDate", S_OUT_OF_DATE, AGREE},
        {"TCB level Revoked", S_REVOKED_TCB, AGREE},
        {"debug QE", S_DEBUG_QE, AGREE},
        {"QE MRSIGNER not the QE Identity's", S_QE_MRSIGNER, AGREE},
        {"debug TD", S_DEBUG_TD, AGREE},
        {"TD without SEPT_VE_DISABLE", S_SEPT_VE, AGREE},
        {"PCK revoked by the PCK CRL", S_REVOKED_PCK, AGREE},
        {"collateral signed by the PCK key", S_PCK_SIGNS_COLLATERAL, ATLS_STRICTER},
        {"TCB signing cert issued by the PCK CA", S_SIGNER_UNDER_CA, ATLS_STRICTER},
        {"module 1.x, no tdxModuleIdentities", S_MODULE_NO_IDENTITIES, ATLS_STRICTER},
    };
    tg_tdx_pki p;
    CHECK(tg_tdx_pki_new(&p, fmspc, comp, 11));
    FILE *fp = fopen(root_, "w");
    CHECK(fp != NULL && PEM_write_X509(fp, p.root) == 1);
    fclose(fp);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *under_ca = tg_tdx_cert(k, "Intel SGX TCB Signing", p.ca, p.ca_key, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tg_tdx_fields f;
        tg_tdx_defaults(&f);
        const char *status = "UpToDate";
        EVP_PKEY *signer = p.tcb_key;
        int revoke_pck = 0;
        switch (cases[i].s) {
        case S_OUT_OF_DATE: status = "OutOfDate"; break;
        case S_REVOKED_TCB: status = "Revoked"; break;
        case S_DEBUG_QE: f.qe_attributes0 = 0x13; break;
        case S_QE_MRSIGNER: f.qe_mrsigner = 0xdd; break;
        case S_DEBUG_TD: f.td_attributes[0] = 1; break;
        case S_SEPT_VE: f.td_attributes[3] = 0; break;
        case S_REVOKED_PCK: revoke_pck = 1; break;
        case S_PCK_SIGNS_COLLATERAL: signer = p.pck_key; break;
        case S_SIGNER_UNDER_CA: signer = k; break;
        case S_MODULE_NO_IDENTITIES: f.tee_tcb_svn[1] = 1; break;
        default: break;
        }
        if (cases[i].s == S_PCK_SIGNS_COLLATERAL) {
            X509 *c[3] = {p.pck, p.ca, p.root};
            CHECK(tg_tdx_write_certs(chain_, c, 3));
        } else if (cases[i].s == S_SIGNER_UNDER_CA) {
            X509 *c[3] = {under_ca, p.ca, p.root};
            CHECK(tg_tdx_write_certs(chain_, c, 3));
        } else {
            CHECK(tg_tdx_write_chain(&p, chain_));
        }
        char lv[1024];
        tg_tdx_level(lv, sizeof(lv), 3, 0, 5, status);
        CHECK(tg_tdx_write_tcb_info(signer, ti_, now_ - 3600, now_ + 86400, lv, NULL));
        CHECK(tg_tdx_write_qe_identity(signer, qe_, now_ - 3600, now_ + 86400, "UpToDate"));
        STACK_OF(X509_CRL) *crls = tg_tdx_crls(&p, now_ - 86400L * 29, now_ + 86400, revoke_pck);
        write_crls(crls);
        size_t len = 0, off = 0;
        uint8_t *q = tg_tdx_quote(&p, &f, &len, &off);
        write_file(quote_, q, len);
        atls_evidence_result res;
        memset(&res, 0, sizeof(res));
        int we = ours(q, len, ti_, qe_, chain_, p.root, crls, 0, &res);
        json_t *them = peer(quote_, ti_, qe_, chain_, root_, rcrl_, pcrl_, now_);
        compare(cases[i].name, cases[i].v, we, &res, them);
        json_decref(them);
        atls_evidence_result_cleanup(&res);
        sk_X509_CRL_pop_free(crls, X509_CRL_free);
        free(q);
    }
    X509_free(under_ca);
    EVP_PKEY_free(k);
    tg_tdx_pki_free(&p);
}

/* The shared sample with collateral: trustee_tdx_quote_4 with the go-tdx-guest TCB Info, QE
 * Identity and CRLs at 2023-06-20 (a debug TD: both refuse it for that reason only, after every
 * signature, chain, CRL and TCB check passed); SPR_E4 is below every level (both refuse). */
static void test_samples(const char *dir)
{
    char ti[1024], qe[1024], ch[1024], root[1024], rcrl[1024], pcrl[1024];
    snprintf(ti, sizeof(ti), "%s/tdx/gotdxguest_sample_tcbInfo_response", dir);
    snprintf(qe, sizeof(qe), "%s/tdx/gotdxguest_sample_qeIdentity_response", dir);
    snprintf(ch, sizeof(ch), "%s/tdx/gotdxguest_tcb_signing_issuer_chain.pem", dir);
    snprintf(root, sizeof(root), "%s/tdx/gotdxguest_trusted_root.pem", dir);
    snprintf(rcrl, sizeof(rcrl), "%s/tdx/gotdxguest_rootcrl.der", dir);
    snprintf(pcrl, sizeof(pcrl), "%s/tdx/gotdxguest_pckcrl", dir);
    FILE *fp = fopen(root, "r");
    X509 *r = fp != NULL ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
    if (fp != NULL) {
        fclose(fp);
    }
    CHECK(r != NULL);
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    static const char *const names[] = {"gotdxguest_rootcrl.der", "gotdxguest_pckcrl"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = 0;
        uint8_t *b = test_vector_read(dir, "tdx", names[i], &n);
        const unsigned char *c = b;
        X509_CRL *crl = b != NULL ? d2i_X509_CRL(NULL, &c, (long)n) : NULL;
        CHECK(crl != NULL && sk_X509_CRL_push(crls, crl) > 0);
        free(b);
    }
    static const char *const quotes[] = {"trustee_tdx_quote_4.dat",
                                         "gotdxguest_tdx_prod_quote_SPR_E4.dat"};
    const time_t at = 1687250000; /* 2023-06-20 */
    for (size_t i = 0; i < 2; i++) {
        size_t flen = 0, len = 0;
        uint8_t *q = test_vector_read(dir, "tdx", quotes[i], &flen);
        CHECK(q != NULL && atls_tdx_quote_length(q, flen, &len) == ATLS_OK);
        write_file(quote_, q, len); /* the declared quote, without the file's padding */
        atls_evidence_result res;
        memset(&res, 0, sizeof(res));
        int we = ours(q, len, ti, qe, ch, r, crls, at, &res);
        json_t *them = peer(quote_, ti, qe, ch, root, rcrl, pcrl, at);
        compare(quotes[i], AGREE, we, &res, them);
        if (i == 0) {
            /* both got as far as the TD attributes: atls UpToDate with every tier, debug set;
             * dcap-qvl refuses a debug TD outright */
            const char *why = json_string_value(json_object_get(them, "error"));
            CHECK(why != NULL && strstr(why, "Debug") != NULL);
            CHECK(json_is_true(json_object_get(res.claims, "debug")));
            const char *st = json_string_value(json_object_get(res.claims, "tcb_status"));
            CHECK(st != NULL && strcmp(st, "UpToDate") == 0 && res.tv.hardware == 2);
        }
        json_decref(them);
        atls_evidence_result_cleanup(&res);
        free(q);
    }
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    X509_free(r);
}

/* no argument: generated quotes; "shared": the shared Intel sample (test_tdx_dcap_qvl_shared) */
int main(int argc, char **argv)
{
    int shared = test_shared_mode(argc, argv);
    const char *npm = getenv("ATLS_NPM_DIR"); /* set by CTest: BUILD/npm-cache */
    const char *src = getenv("ATLS_SOURCE_DIR");
    char mods[600], probe[700];
    snprintf(mods, sizeof(mods), "%s/node_modules", npm != NULL ? npm : "/nonexistent");
    snprintf(probe, sizeof(probe), "%s/@phala/dcap-qvl/package.json", mods);
    if (src == NULL || access(probe, R_OK) != 0 || system("node --version > /dev/null 2>&1") != 0) {
        TEST_SKIP("node or @phala/dcap-qvl not installed (scripts/setup-npm-checkers)");
    }
    snprintf(node_cmd_, sizeof(node_cmd_), "NODE_PATH='%s' node '%s/tests/evidence/tdx/dcap_qvl_check.js'",
             mods, src);
    snprintf(dir_, sizeof(dir_), "/tmp/atls_dcap_XXXXXX");
    CHECK(mkdtemp(dir_) != NULL);
    static const struct {
        char *path;
        const char *name;
    } files[] = {{quote_, "quote.bin"}, {ti_, "tcbinfo.json"},   {qe_, "qeidentity.json"},
                 {chain_, "chain.pem"}, {root_, "root.pem"},      {rcrl_, "rootcrl.pem"},
                 {pcrl_, "pckcrl.pem"}};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(files[i].path, 128, "%s/%s", dir_, files[i].name);
    }
    now_ = time(NULL);
    if (shared) { /* test_tdx_dcap_qvl_shared: skipped (77) without the samples */
        const char *dir = test_shared_vectors("tdx/trustee_tdx_quote_4.dat");
        printf("-- shared samples\n");
        test_samples(dir);
    } else {
        printf("-- generated quotes\n");
        test_generated();
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        unlink(files[i].path);
    }
    rmdir(dir_);
    return check_summary();
}
