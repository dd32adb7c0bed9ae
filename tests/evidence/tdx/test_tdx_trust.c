/* test_tdx_trust.c: the TDX verifier claims only what it checked (issue 10, items 1-6): who may
 * sign the collateral, the QE report appraised against a QE Identity, revocation through both
 * CRLs, the TDX module identity, SEPT_VE_DISABLE / MRSERVICETD / TD relaunch, Revoked. Each
 * case failed (was accepted or over-rated) before these checks existed. Generated vectors only
 * (test CAs made at run time, tdx_testgen.c). */
#include "check.h"
#include "tdx_testgen.h"

#include "evidence/tdx/tdx.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char dir_[64], ti_path[128], qe_path[128], chain_path[128];
static const uint8_t FMSPC[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
static const uint8_t COMP[16] = {5, 5, 2, 2, 3, 1, 0, 3};
static time_t now_;

/* The inputs of one verification: collateral paths on/off, CRLs (borrowed). */
typedef struct inputs {
    X509 *root;
    int tcb_info, qe_identity;
    STACK_OF(X509_CRL) *crls;
} inputs;

static atls_error verify(const uint8_t *q, size_t len, const inputs *i, atls_evidence_result *res)
{
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = sk_X509_new_null();
    sk_X509_push(in.trust_anchors, i->root);
    if (i->tcb_info) {
        in.tcb_info_path = ti_path;
        in.tcb_signing_chain_path = chain_path;
    }
    in.qe_identity_path = i->qe_identity ? qe_path : NULL;
    in.crls = i->crls;
    atls_evidence_result tmp;
    atls_evidence_result *r = res != NULL ? res : &tmp;
    atls_error rc = atls_tdx_verifier_ops.verify(q, len, &in, r);
    if (res == NULL) {
        atls_evidence_result_cleanup(&tmp);
    }
    sk_X509_free(in.trust_anchors);
    return rc;
}

static const char *cs(const atls_evidence_result *r, const char *k)
{
    const char *s = json_string_value(json_object_get(r->claims, k));
    return s != NULL ? s : "";
}

static int unappraised(const atls_evidence_result *r, const char *what)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r->claims, "unappraised"), i, e) {
        if (strcmp(json_string_value(e), what) == 0) {
            return 1;
        }
    }
    return 0;
}

/* appraise |res| with the policy |text| (a "tdx" section). */
static atls_error appraise(const atls_evidence_result *res, const char *text,
                           atls_trust_vector *tv)
{
    json_t *p = json_loads(text, 0, NULL);
    CHECK(p != NULL);
    memset(tv, 0, sizeof(*tv));
    atls_error rc = atls_tdx_verifier_ops.appraise(p, res, tv);
    json_decref(p);
    return rc;
}

/* ---- collateral (tdx_testgen.c), signed by |key| (NULL: the TCB signing key) ---- */
static void write_ti(const tg_tdx_pki *p, EVP_PKEY *key, const char *levels, const char *module_ids)
{
    CHECK(tg_tdx_write_tcb_info(key != NULL ? key : p->tcb_key, ti_path, now_ - 3600,
                                now_ + 86400, levels, module_ids));
}

/* the usual two levels: |latest| at TDX (3, 0, 5), |old| at (2, 0, 4) */
static void write_ti_default(const tg_tdx_pki *p, EVP_PKEY *key, const char *latest,
                             const char *old)
{
    char l1[1024], l2[1024], both[2100];
    tg_tdx_level(l1, sizeof(l1), 3, 0, 5, latest);
    tg_tdx_level(l2, sizeof(l2), 2, 0, 4, old);
    snprintf(both, sizeof(both), "%s,%s", l1, l2);
    write_ti(p, key, both, "");
}

static void write_qe(const tg_tdx_pki *p, EVP_PKEY *key, const char *latest)
{
    CHECK(tg_tdx_write_qe_identity(key != NULL ? key : p->tcb_key, qe_path, now_ - 3600,
                                   now_ + 86400, latest));
}

static uint8_t *quote_of(const tg_tdx_pki *p, const tg_tdx_fields *f, size_t *len)
{
    size_t off = 0;
    uint8_t *q = tg_tdx_quote(p, f, len, &off);
    CHECK(q != NULL);
    return q;
}

/* ---- item 1: the collateral signer is the TCB signing certificate issued by the root ---- */
static void test_tcb_signer(const tg_tdx_pki *p, const uint8_t *q, size_t len, inputs *full)
{
    printf("-- 1. TCB signing chain\n");
    atls_evidence_result res;
    CHECK_OK(verify(q, len, full, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "UpToDate") == 0 && res.tv.hardware == 2);
    atls_evidence_result_cleanup(&res);

    /* a PCK leaf key signs the TCB Info and QE Identity; its chain goes to the same root */
    X509 *pck_chain[3] = {p->pck, p->ca, p->root};
    CHECK(tg_tdx_write_certs(chain_path, pck_chain, 3));
    write_ti_default(p, p->pck_key, "UpToDate", "OutOfDate");
    write_qe(p, p->pck_key, "UpToDate");
    CHECK_ERR(verify(q, len, full, NULL), ATLS_ERR_EVIDENCE_SIGNER);
    CHECK(strstr(atls_error_detail(), "Intel SGX TCB Signing") != NULL);

    /* a certificate named "Intel SGX TCB Signing" but issued by the PCK Platform CA */
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *under_ca = tg_tdx_cert(k, "Intel SGX TCB Signing", p->ca, p->ca_key, 0);
    X509 *ca_chain[3] = {under_ca, p->ca, p->root};
    CHECK(tg_tdx_write_certs(chain_path, ca_chain, 3));
    write_ti_default(p, k, "UpToDate", "OutOfDate");
    write_qe(p, k, "UpToDate");
    CHECK_ERR(verify(q, len, full, NULL), ATLS_ERR_EVIDENCE_SIGNER);
    CHECK(strstr(atls_error_detail(), "directly by the root") != NULL);

    /* issued by the root, but another name / a CA */
    X509 *other_name = tg_tdx_cert(k, "Intel SGX PCK Platform CA", p->root, p->root_key, 0);
    X509 *named_chain[2] = {other_name, p->root};
    CHECK(tg_tdx_write_certs(chain_path, named_chain, 2));
    CHECK_ERR(verify(q, len, full, NULL), ATLS_ERR_EVIDENCE_SIGNER);
    X509 *as_ca = tg_tdx_cert(k, "Intel SGX TCB Signing", p->root, p->root_key, 1);
    X509 *ca_signer[2] = {as_ca, p->root};
    CHECK(tg_tdx_write_certs(chain_path, ca_signer, 2));
    CHECK_ERR(verify(q, len, full, NULL), ATLS_ERR_EVIDENCE_SIGNER);
    X509_free(under_ca);
    X509_free(other_name);
    X509_free(as_ca);
    EVP_PKEY_free(k);
    /* back to the real signer */
    CHECK(tg_tdx_write_chain(p, chain_path));
    write_ti_default(p, NULL, "UpToDate", "OutOfDate");
    write_qe(p, NULL, "UpToDate");
    CHECK_OK(verify(q, len, full, NULL));
}

/* ---- item 2: no TCB status or hardware tier without a QE Identity ---- */
static void test_qe_identity(const tg_tdx_pki *p, inputs *full)
{
    printf("-- 2. QE identity\n");
    tg_tdx_fields f;
    tg_tdx_defaults(&f);
    size_t len = 0;
    atls_trust_vector tv;
    atls_evidence_result res;
    uint8_t *q = quote_of(p, &f, &len);
    inputs no_qe = *full;
    no_qe.qe_identity = 0;
    CHECK_OK(verify(q, len, &no_qe, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "NotEvaluated") == 0);
    CHECK(strcmp(cs(&res, "platform_tcb_status"), "UpToDate") == 0);
    CHECK(strcmp(cs(&res, "qe_tcb_status"), "NotEvaluated") == 0);
    CHECK(res.tv.hardware == 0 && unappraised(&res, "qe_identity"));
    CHECK_ERR(appraise(&res, "{\"any_mrtd\":true}", &tv), ATLS_ERR_POLICY_UNAPPRAISED);
    CHECK(strstr(atls_error_detail(), "allow_unappraised_qe") != NULL);
    CHECK_OK(appraise(&res, "{\"any_mrtd\":true,\"allow_unappraised_qe\":true}", &tv));
    CHECK(tv.hardware == 0 && tv.configuration == 36); /* accepted by name: a warning */
    atls_evidence_result_cleanup(&res);
    free(q);

    /* a debug QE, another QE signer, another product: accepted before without a QE Identity
     * (UpToDate, hardware 2); now refused against it, and never UpToDate without it */
    static const struct {
        const char *what;
        uint8_t attr0, mrsigner;
        uint16_t prodid;
        const char *detail;
    } bad[] = {
        {"debug QE", 0x13, 0xdc, 2, "attributes"},
        {"wrong MRSIGNER", 0x11, 0xdd, 2, "mrsigner"},
        {"wrong ISVPRODID", 0x11, 0xdc, 3, "isvprodid"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tg_tdx_defaults(&f);
        f.qe_attributes0 = bad[i].attr0;
        f.qe_mrsigner = bad[i].mrsigner;
        f.qe_isvprodid = bad[i].prodid;
        q = quote_of(p, &f, &len);
        CHECK_ERR(verify(q, len, full, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
        CHECK(strstr(atls_error_detail(), bad[i].detail) != NULL);
        CHECK_OK(verify(q, len, &no_qe, &res));
        CHECK(strcmp(cs(&res, "tcb_status"), "NotEvaluated") == 0 && res.tv.hardware == 0);
        atls_evidence_result_cleanup(&res);
        free(q);
    }
}

/* ---- item 3: a hardware tier needs both CRLs, valid now ---- */
static void test_revocation(const tg_tdx_pki *p, const uint8_t *q, size_t len, inputs *full)
{
    printf("-- 3. revocation\n");
    atls_trust_vector tv;
    atls_evidence_result res;
    inputs no_crl = *full;
    no_crl.crls = NULL;
    CHECK_OK(verify(q, len, &no_crl, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "UpToDate") == 0);
    CHECK(res.tv.hardware == 0 && res.tv.instance_identity == 0 && unappraised(&res, "crls"));
    CHECK(json_is_false(json_object_get(res.claims, "revocation_checked")));
    CHECK_ERR(appraise(&res, "{\"any_mrtd\":true}", &tv), ATLS_ERR_POLICY_UNAPPRAISED);
    CHECK(strstr(atls_error_detail(), "allow_unchecked_revocation") != NULL);
    CHECK_OK(appraise(&res, "{\"any_mrtd\":true,\"allow_unchecked_revocation\":true}", &tv));
    CHECK(tv.configuration == 36 && tv.instance_identity == 0 && tv.hardware == 0);
    atls_evidence_result_cleanup(&res);

    /* another PKI's CRLs only (a configuration shared with other verifiers): not applied,
     * revocation unchecked, and the result says so */
    {
        tg_tdx_pki other;
        CHECK(tg_tdx_pki_new(&other, FMSPC, COMP, 11));
        inputs foreign = *full;
        foreign.crls = tg_tdx_crls(&other, now_ - 86400L * 29, now_ + 86400, 0);
        for (int i = 0; i < sk_X509_CRL_num(foreign.crls); i++) { /* other names, too */
            X509_NAME *n = X509_NAME_new();
            X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Elsewhere",
                                       -1, -1, 0);
            X509_CRL_set_issuer_name(sk_X509_CRL_value(foreign.crls, i), n);
            X509_NAME_free(n);
        }
        CHECK_OK(verify(q, len, &foreign, &res));
        CHECK(res.tv.hardware == 0 && res.tv.instance_identity == 0 && unappraised(&res, "crls"));
        atls_evidence_result_cleanup(&res);
        sk_X509_CRL_pop_free(foreign.crls, X509_CRL_free);
        tg_tdx_pki_free(&other);
    }
    /* a revoked PCK: accepted before when no CRL was given; with the CRLs it fails */
    inputs revoked = *full;
    revoked.crls = tg_tdx_crls(p, now_ - 86400L * 29, now_ + 86400, 1);
    CHECK_ERR(verify(q, len, &revoked, NULL), ATLS_ERR_EVIDENCE_REVOKED);
    sk_X509_CRL_pop_free(revoked.crls, X509_CRL_free);
    /* CRLs not valid at the appraisal time, or only one of the two */
    revoked.crls = tg_tdx_crls(p, now_ - 86400L * 20, now_ - 86400L * 10, 0);
    CHECK_ERR(verify(q, len, &revoked, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK(strstr(atls_error_detail(), "CRL has expired") != NULL);
    sk_X509_CRL_pop_free(revoked.crls, X509_CRL_free);
    revoked.crls = tg_tdx_crls(p, now_ - 86400L * 29, now_ + 86400, 0);
    X509_CRL_free(sk_X509_CRL_pop(revoked.crls)); /* drop the PCK CRL */
    CHECK_ERR(verify(q, len, &revoked, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    sk_X509_CRL_pop_free(revoked.crls, X509_CRL_free);
}

/* ---- item 4: a module of major version > 0 needs tdxModuleIdentities ---- */
static void test_module_identity(const tg_tdx_pki *p, inputs *full)
{
    printf("-- 4. TDX module identity\n");
    tg_tdx_fields f;
    tg_tdx_defaults(&f);
    f.tee_tcb_svn[1] = 1; /* TDX module 1.x */
    size_t len = 0;
    uint8_t *q = quote_of(p, &f, &len);
    write_ti_default(p, NULL, "UpToDate", "OutOfDate");
    CHECK_ERR(verify(q, len, full, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
    CHECK(strstr(atls_error_detail(), "TCB Info mismatch") != NULL);
    char l1[1024], l2[1024], both[2100], ids[1024];
    tg_tdx_level(l1, sizeof(l1), 3, 0, 5, "UpToDate");
    tg_tdx_level(l2, sizeof(l2), 2, 0, 4, "OutOfDate");
    snprintf(both, sizeof(both), "%s,%s", l1, l2);
    snprintf(ids, sizeof(ids),
             ",\"tdxModuleIdentities\":[{\"id\":\"TDX_01\",\"mrsigner\":\"%096d\","
             "\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\","
             "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":3},\"tcbDate\":\"2024-01-01T00:00:00Z\","
             "\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":0},\"tcbDate\":"
             "\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\"}]}]",
             0);
    write_ti(p, NULL, both, ids);
    atls_evidence_result res;
    CHECK_OK(verify(q, len, full, &res));
    CHECK(strcmp(cs(&res, "tdx_module_tcb_status"), "UpToDate") == 0 && res.tv.hardware == 2);
    atls_evidence_result_cleanup(&res);
    free(q);

    /* ---- item 5 (relaunch): a TDX 1.5 TD whose module is out of date while the platform
     * already runs the latest one (TEE_TCB_SVN2): TDRelaunchAdvised, not OutOfDate ---- */
    printf("-- 5. TD relaunch\n");
    tg_tdx_defaults(&f);
    f.version = 5;
    f.body_type = 3;
    f.tee_tcb_svn[0] = 2; /* module SVN 2 < 3: the module level is OutOfDate */
    f.tee_tcb_svn[1] = 1;
    memcpy(f.tee_tcb_svn2, f.tee_tcb_svn, 16);
    f.tee_tcb_svn2[0] = 3; /* the module now loaded is at the latest level */
    q = quote_of(p, &f, &len);
    CHECK_OK(verify(q, len, full, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "TDRelaunchAdvised") == 0 && res.tv.hardware == 32);
    atls_trust_vector tv;
    CHECK_ERR(appraise(&res, "{\"any_mrtd\":true}", &tv), ATLS_ERR_POLICY_MISMATCH);
    CHECK_OK(appraise(&res, "{\"any_mrtd\":true,\"allowed_tcb_statuses\":[\"TDRelaunchAdvised\"]}",
                      &tv));
    atls_evidence_result_cleanup(&res);
    free(q);
    f.tee_tcb_svn2[0] = 2; /* relaunching would not help */
    q = quote_of(p, &f, &len);
    CHECK_OK(verify(q, len, full, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "OutOfDate") == 0);
    atls_evidence_result_cleanup(&res);
    free(q);
    write_ti_default(p, NULL, "UpToDate", "OutOfDate");
}

/* ---- item 5: SEPT_VE_DISABLE and MRSERVICETD refused unless allowed by name ---- */
static void test_td_defaults(const tg_tdx_pki *p, inputs *full)
{
    printf("-- 5. SEPT_VE_DISABLE, MRSERVICETD\n");
    tg_tdx_fields f;
    tg_tdx_defaults(&f);
    f.td_attributes[3] = 0; /* SEPT_VE_DISABLE clear */
    size_t len = 0;
    atls_trust_vector tv;
    atls_evidence_result res;
    uint8_t *q = quote_of(p, &f, &len);
    CHECK_OK(verify(q, len, full, &res));
    CHECK_ERR(appraise(&res, "{\"any_mrtd\":true}", &tv), ATLS_ERR_POLICY_MISMATCH);
    CHECK(strstr(atls_error_detail(), "sept_ve_disable") != NULL);
    CHECK_OK(appraise(&res, "{\"any_mrtd\":true,\"allow_sept_ve\":true}", &tv));
    CHECK(tv.configuration == 32);
    atls_evidence_result_cleanup(&res);
    free(q);

    tg_tdx_defaults(&f);
    f.version = 5;
    f.body_type = 3;
    memset(f.mrservicetd, 0x5e, 48);
    q = quote_of(p, &f, &len);
    CHECK_OK(verify(q, len, full, &res));
    CHECK_ERR(appraise(&res, "{\"any_mrtd\":true}", &tv), ATLS_ERR_POLICY_MISMATCH);
    CHECK(strstr(atls_error_detail(), "mrservicetd") != NULL);
    char pol[256];
    snprintf(pol, sizeof(pol), "{\"any_mrtd\":true,\"mrservicetd\":[\"%s\"]}",
             cs(&res, "mrservicetd"));
    CHECK_OK(appraise(&res, pol, &tv));
    /* the strict policy written from a result: every relaxation false, UpToDate only */
    json_t *gen = NULL;
    CHECK_OK(atls_tdx_verifier_ops.policy_from_result(&res, &gen));
    static const char *const strict[] = {"allow_debug", "allow_sept_ve", "allow_unappraised_qe",
                                         "allow_unchecked_revocation"};
    for (size_t i = 0; i < sizeof(strict) / sizeof(strict[0]); i++) {
        CHECK(json_is_false(json_object_get(gen, strict[i])));
    }
    CHECK(json_object_get(gen, "mrservicetd") == NULL);
    const json_t *st = json_object_get(gen, "allowed_tcb_statuses");
    CHECK(json_array_size(st) == 1 &&
          strcmp(json_string_value(json_array_get(st, 0)), "UpToDate") == 0);
    CHECK_ERR(atls_tdx_verifier_ops.appraise(gen, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
    json_decref(gen);
    atls_evidence_result_cleanup(&res);
    free(q);
}

/* ---- item 6: a Revoked TCB (platform, QE or module) is contraindicated with its reason ---- */
static void test_revoked(const tg_tdx_pki *p, const uint8_t *q, size_t len, inputs *full)
{
    printf("-- 6. Revoked\n");
    atls_evidence_result res;
    write_ti_default(p, NULL, "Revoked", "OutOfDate");
    CHECK_OK(verify(q, len, full, &res));
    CHECK(res.tv.hardware == 96 && res.contra_error == ATLS_ERR_EVIDENCE_REVOKED);
    CHECK(strstr(res.contra_reason, "Revoked") != NULL);
    atls_evidence_result_cleanup(&res);
    /* also when the QE Identity is missing: a negative finding is always reported */
    inputs no_qe = *full;
    no_qe.qe_identity = 0;
    CHECK_OK(verify(q, len, &no_qe, &res));
    CHECK(res.tv.hardware == 96 && res.contra_error == ATLS_ERR_EVIDENCE_REVOKED);
    atls_evidence_result_cleanup(&res);
    /* a revoked QE */
    write_ti_default(p, NULL, "UpToDate", "OutOfDate");
    write_qe(p, NULL, "Revoked");
    CHECK_OK(verify(q, len, full, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "Revoked") == 0 && res.tv.hardware == 96 &&
          res.contra_error == ATLS_ERR_EVIDENCE_REVOKED);
    atls_evidence_result_cleanup(&res);
    write_qe(p, NULL, "UpToDate");
}

int main(void)
{
    snprintf(dir_, sizeof(dir_), "/tmp/atls_tdx_trust_XXXXXX");
    CHECK(mkdtemp(dir_) != NULL);
    snprintf(ti_path, sizeof(ti_path), "%s/tcbinfo.json", dir_);
    snprintf(qe_path, sizeof(qe_path), "%s/qeidentity.json", dir_);
    snprintf(chain_path, sizeof(chain_path), "%s/chain.pem", dir_);
    now_ = time(NULL);
    tg_tdx_pki pki;
    CHECK(tg_tdx_pki_new(&pki, FMSPC, COMP, 11));
    tg_tdx_fields f;
    tg_tdx_defaults(&f);
    size_t len = 0;
    uint8_t *q = quote_of(&pki, &f, &len);
    CHECK(tg_tdx_write_chain(&pki, chain_path));
    write_ti_default(&pki, NULL, "UpToDate", "OutOfDate");
    write_qe(&pki, NULL, "UpToDate");
    inputs full = {.root = pki.root, .tcb_info = 1, .qe_identity = 1,
                   .crls = tg_tdx_crls(&pki, now_ - 86400L * 29, now_ + 86400, 0)};
    CHECK(full.crls != NULL);

    test_tcb_signer(&pki, q, len, &full);
    test_qe_identity(&pki, &full);
    test_revocation(&pki, q, len, &full);
    test_module_identity(&pki, &full);
    test_td_defaults(&pki, &full);
    test_revoked(&pki, q, len, &full);

    sk_X509_CRL_pop_free(full.crls, X509_CRL_free);
    free(q);
    tg_tdx_pki_free(&pki);
    unlink(ti_path);
    unlink(qe_path);
    unlink(chain_path);
    rmdir(dir_);
    return check_summary();
}
