/* test_tdx.c: the TDX verifier on generated quotes and collateral (always) and on the shared
 * Intel samples (when ATLS_SHARED_VECTORS points at them). */
#include "check.h"
#include "vectors.h"
#include "tdx_testgen.h"

#include "evidence/tdx/tdx.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>
#include <unistd.h>

static char dir_[64];
static char ti_path[128], qe_path[128], chain_path[128];
/* with collateral, run() also passes these (the root CA and PCK CRLs: the full input set) */
static STACK_OF(X509_CRL) *crls_;
static const uint8_t FMSPC[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
static const uint8_t COMP[16] = {5, 5, 2, 2, 3, 1, 0, 3};

static atls_error run(const uint8_t *q, size_t len, X509 *root, time_t at, const uint8_t *chal,
                      int collateral, atls_evidence_result *res)
{
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = sk_X509_new_null();
    if (root) {
        sk_X509_push(in.trust_anchors, root);
    }
    in.at = at;
    in.challenge = chal;
    if (collateral) {
        in.tcb_info_path = ti_path;
        in.qe_identity_path = qe_path;
        in.tcb_signing_chain_path = chain_path;
        in.crls = crls_;
    }
    atls_evidence_result tmp;
    atls_error rc = atls_tdx_verifier_ops.verify(q, len, &in, res ? res : &tmp);
    if (res == NULL) {
        json_decref(tmp.claims);
    }
    sk_X509_free(in.trust_anchors);
    return rc;
}

static const char *cs(const atls_evidence_result *r, const char *k)
{
    const char *s = json_string_value(json_object_get(r->claims, k));
    return s ? s : "";
}

/* write_collateral: TCB Info with two levels (UpToDate / OutOfDate by default) and QE identity */
static void write_collateral(const tg_tdx_pki *p, time_t issue, time_t next, const char *fmspc,
                             const char *st1, const char *st2)
{
    char a[21], b[21], body[8192];
    tg_iso(issue, a);
    tg_iso(next, b);
    const char *zeros16 = "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
                          "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
                          "{\"svn\":0},{\"svn\":0}";
    snprintf(body, sizeof(body),
             "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"fmspc\":\"%s\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":1,"
             "\"tdxModule\":{\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
             "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tcbLevels\":["
             "{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":5},{\"svn\":5},{\"svn\":2},{\"svn\":2},"
             "{\"svn\":3},{\"svn\":1},{\"svn\":0},{\"svn\":3},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
             "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],\"pcesvn\":11,"
             "\"tdxtcbcomponents\":[{\"svn\":3},{\"svn\":0},{\"svn\":5},%s]},"
             "\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"%s\"},"
             "{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":1},{\"svn\":1},{\"svn\":1},%s],\"pcesvn\":5,"
             "\"tdxtcbcomponents\":[{\"svn\":2},{\"svn\":0},{\"svn\":4},%s]},"
             "\"tcbDate\":\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"%s\",\"advisoryIDs\":[\"INTEL-SA-00001\"]}]}",
             a, b, fmspc, 0, zeros16, st1, zeros16, zeros16, st2);
    CHECK(tg_tdx_write_signed(p, ti_path, "tcbInfo", body));
    snprintf(body, sizeof(body),
             "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
             "\"tcbEvaluationDataNumber\":1,\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
             "\"attributes\":\"11000000000000000000000000000000\","
             "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
             "\"mrsigner\":\"DCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDC\","
             "\"isvprodid\":2,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\","
             "\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":0},\"tcbDate\":\"2023-01-01T00:00:00Z\","
             "\"tcbStatus\":\"OutOfDate\"}]}",
             a, b);
    CHECK(tg_tdx_write_signed(p, qe_path, "enclaveIdentity", body));
}

static void test_policy(const atls_evidence_result *res)
{
    const atls_verifier_ops *ops = &atls_tdx_verifier_ops;
    atls_trust_vector tv;
    json_t *p = NULL;
    json_error_t je;
    CHECK_OK(ops->policy_from_result(res, &p));
    CHECK_OK(ops->check_policy(p));
    CHECK_OK(ops->appraise(p, res, &tv));
    CHECK(tv.executables == 2 && tv.configuration == 2);
    static const char *const keys48[] = {"mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid",
                                         "mrowner", "mrownerconfig", "mrseam", "mrsignerseam"};
    char buf[256];
    for (size_t i = 0; i < sizeof(keys48) / sizeof(keys48[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"%s\":[\"%096d\"]%s}", keys48[i], 1,
                 strcmp(keys48[i], "mrtd") == 0 ? "" : ",\"any_mrtd\":true");
        json_t *f = json_loads(buf, 0, &je);
        CHECK_ERR(ops->appraise(f, res, &tv), ATLS_ERR_POLICY_MISMATCH);
        CHECK(strstr(atls_error_detail(), keys48[i]) != NULL);
        json_decref(f);
    }
    static const char *const failing[] = {
        "{\"xfam\":[\"0000000000000001\"]}", "{\"td_attributes\":[\"0100000000000000\"]}",
        "{\"fmspc\":[\"ffffffffffff\"]}", "{\"allowed_tcb_statuses\":[\"Revoked\"]}",
        "{\"require_challenge\":true}",
    };
    for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
        json_t *f = json_loads(failing[i], 0, &je);
        json_object_set_new(f, "any_mrtd", json_true()); /* must be explicit */
        CHECK_OK(ops->check_policy(f));
        CHECK_ERR(ops->appraise(f, res, &tv), ATLS_ERR_POLICY_MISMATCH);
        json_decref(f);
    }
    static const char *const invalid[] = {
        "{}", /* accepting any MRTD must be written out */
        "{\"any_mrtd\":true,\"mrtd\":[]}",
        "{\"mrtds\":[]}", "{\"mrtd\":[\"00\"]}", "{\"mrtd\":\"\"}", "{\"allow_debug\":\"no\"}",
        "{\"allowed_tcb_statuses\":[\"Fine\"]}", "[]",
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        json_t *f = json_loads(invalid[i], 0, &je);
        CHECK_ERR(ops->check_policy(f), ATLS_ERR_POLICY_INVALID);
        json_decref(f);
    }
    json_decref(p);
}

static void test_generated(void)
{
    tg_tdx_pki pki, other;
    tg_tdx_fields f;
    size_t len = 0, chain_off = 0;
    atls_evidence_result res;
    time_t now = time(NULL);

    CHECK(tg_tdx_pki_new(&pki, FMSPC, COMP, 11));
    CHECK(tg_tdx_pki_new(&other, FMSPC, COMP, 11));
    tg_tdx_defaults(&f);
    for (size_t i = 0; i < 64; i++) {
        f.report_data[i] = (uint8_t)(0xf0 ^ i);
    }
    uint8_t *q = tg_tdx_quote(&pki, &f, &len, &chain_off);
    CHECK(q != NULL);
    if (q == NULL) {
        return;
    }
    crls_ = tg_tdx_crls(&pki, now - 86400L * 29, now + 86400L * 300, 0);
    CHECK(crls_ != NULL);
    /* without collateral: verified, status NotEvaluated, no hardware or identity claim */
    CHECK_OK(run(q, len, pki.root, 0, NULL, 0, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "NotEvaluated") == 0 && res.tv.hardware == 0 &&
          res.tv.instance_identity == 0);
    CHECK(strcmp(cs(&res, "fmspc"), "00112233aabb") == 0);
    CHECK(strcmp(cs(&res, "pce_id"), "0000") == 0);
    CHECK(strncmp(cs(&res, "mrtd"), "c0c1c2c3", 8) == 0);
    CHECK(strcmp(cs(&res, "tee_tcb_svn"), "03000500000000000000000000000000") == 0);
    CHECK(strlen(res.key_id) == 64 && strcmp(res.type, "tdx") == 0);
    CHECK(json_is_false(json_object_get(res.claims, "debug")));
    json_decref(res.claims);

    /* challenge */
    CHECK_OK(run(q, len, pki.root, 0, f.report_data, 0, &res));
    CHECK(res.challenge_checked == 1);
    json_decref(res.claims);
    uint8_t chal[64];
    memcpy(chal, f.report_data, 64);
    chal[5] ^= 1;
    CHECK_ERR(run(q, len, pki.root, 0, chal, 0, NULL), ATLS_ERR_EVIDENCE_NONCE);

    /* every byte before the PCK chain flipped; every truncation; trailing byte */
    uint8_t *m = malloc(len + 1);
    int bad = 0;
    for (size_t i = 0; i < chain_off; i++) {
        memcpy(m, q, len);
        m[i] ^= 0x01;
        atls_error rc = run(m, len, pki.root, 0, NULL, 0, NULL);
        bad += rc == ATLS_OK;
    }
    CHECK(bad == 0);
    bad = 0;
    for (size_t n = 0; n < len; n++) {
        bad += run(q, n, pki.root, 0, NULL, 0, NULL) != ATLS_ERR_EVIDENCE_FORMAT;
    }
    CHECK(bad == 0);
    memcpy(m, q, len);
    m[len] = 0;
    CHECK_ERR(run(m, len + 1, pki.root, 0, NULL, 0, NULL), ATLS_ERR_EVIDENCE_FORMAT);
    size_t ql = 0;
    CHECK_OK(atls_tdx_quote_length(m, len + 1, &ql));
    CHECK(ql == len);
    /* wrong version / tee_type / key type */
    memcpy(m, q, len);
    m[0] = 3;
    CHECK_ERR(run(m, len, pki.root, 0, NULL, 0, NULL), ATLS_ERR_EVIDENCE_FORMAT);
    memcpy(m, q, len);
    m[4] = 0;
    CHECK_ERR(run(m, len, pki.root, 0, NULL, 0, NULL), ATLS_ERR_EVIDENCE_FORMAT);
    memcpy(m, q, len);
    m[2] = 3;
    CHECK_ERR(run(m, len, pki.root, 0, NULL, 0, NULL), ATLS_ERR_EVIDENCE_FORMAT);
    /* a changed TD report field breaks the quote signature */
    memcpy(m, q, len);
    m[0x30 + 0x88] ^= 0x80; /* mrtd */
    CHECK_ERR(run(m, len, pki.root, 0, NULL, 0, NULL), ATLS_ERR_EVIDENCE_SIGNATURE);
    free(m);

    /* chain to the wrong root / no root / expired */
    CHECK_ERR(run(q, len, other.root, 0, NULL, 0, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run(q, len, NULL, 0, NULL, 0, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run(q, len, pki.root, now + 86400L * 400, NULL, 0, NULL), ATLS_ERR_EVIDENCE_CHAIN);

    /* collateral: UpToDate with a fresh TCB Info and QE identity */
    write_collateral(&pki, now - 3600, now + 86400, "00112233AABB", "UpToDate", "OutOfDate");
    CHECK(tg_tdx_write_chain(&pki, chain_path));
    CHECK_OK(run(q, len, pki.root, 0, NULL, 1, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "UpToDate") == 0 && res.tv.hardware == 2);
    CHECK(strcmp(cs(&res, "qe_tcb_status"), "UpToDate") == 0);
    test_policy(&res); /* the full input set */
    json_decref(res.claims);
    /* expired at the current time, fine at a time inside its window */
    CHECK_ERR(run(q, len, pki.root, now + 2 * 86400, NULL, 1, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
    CHECK_ERR(run(q, len, pki.root, now - 7200, NULL, 1, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
    write_collateral(&pki, now - 86400L * 25, now - 86400L * 10, "00112233AABB", "UpToDate",
                     "OutOfDate");
    CHECK_ERR(run(q, len, pki.root, 0, NULL, 1, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
    CHECK(strstr(atls_error_detail(), "expired") != NULL);
    CHECK_OK(run(q, len, pki.root, now - 86400L * 15, NULL, 1, NULL));
    /* FMSPC mismatch */
    write_collateral(&pki, now - 3600, now + 86400, "00112233AABC", "UpToDate", "OutOfDate");
    CHECK_ERR(run(q, len, pki.root, 0, NULL, 1, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
    CHECK(strstr(atls_error_detail(), "fmspc") != NULL);
    /* collateral signed by a key that does not chain to the root */
    write_collateral(&other, now - 3600, now + 86400, "00112233AABB", "UpToDate", "OutOfDate");
    CHECK_ERR(run(q, len, pki.root, 0, NULL, 1, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
    /* tampered TCB Info byte: the signature covers the exact span */
    write_collateral(&pki, now - 3600, now + 86400, "00112233AABB", "UpToDate", "OutOfDate");
    {
        FILE *fp = fopen(ti_path, "r+");
        char buf[8192];
        size_t n = fread(buf, 1, sizeof(buf), fp);
        char *at = strstr(buf, "\"tcbType\":0");
        CHECK(at != NULL && n > 0);
        if (at != NULL) {
            at[10] = '1';
            rewind(fp);
            fwrite(buf, 1, n, fp);
        }
        fclose(fp);
        CHECK_ERR(run(q, len, pki.root, 0, NULL, 1, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
        CHECK(strstr(atls_error_detail(), "signature") != NULL);
    }
    /* statuses: the second level, Revoked, SWHardeningNeeded, below all levels, QE out of date */
    write_collateral(&pki, now - 3600, now + 86400, "00112233AABB", "SWHardeningNeeded", "Revoked");
    CHECK_OK(run(q, len, pki.root, 0, NULL, 1, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "SWHardeningNeeded") == 0 && res.tv.hardware == 32);
    json_decref(res.claims);
    tg_tdx_fields g = f;
    g.tee_tcb_svn[2] = 4;
    size_t len2 = 0, off2 = 0;
    uint8_t *q2 = tg_tdx_quote(&pki, &g, &len2, &off2);
    CHECK_OK(run(q2, len2, pki.root, 0, NULL, 1, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "Revoked") == 0 && res.tv.hardware == 96 &&
          res.contra_error == ATLS_ERR_EVIDENCE_REVOKED);
    json_decref(res.claims);
    free(q2);
    write_collateral(&pki, now - 3600, now + 86400, "00112233AABB", "ConfigurationNeeded",
                     "OutOfDate");
    g = f;
    g.qe_isvsvn = 4;
    q2 = tg_tdx_quote(&pki, &g, &len2, &off2);
    CHECK_OK(run(q2, len2, pki.root, 0, NULL, 1, &res));
    CHECK(strcmp(cs(&res, "tcb_status"), "OutOfDateConfigurationNeeded") == 0);
    CHECK(strcmp(cs(&res, "qe_tcb_status"), "OutOfDate") == 0);
    json_decref(res.claims);
    free(q2);
    g = f;
    g.tee_tcb_svn[2] = 3;
    q2 = tg_tdx_quote(&pki, &g, &len2, &off2);
    CHECK_ERR(run(q2, len2, pki.root, 0, NULL, 1, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
    free(q2);

    /* debug TD refused by default */
    write_collateral(&pki, now - 3600, now + 86400, "00112233AABB", "UpToDate", "OutOfDate");
    g = f;
    g.td_attributes[0] = 1;
    q2 = tg_tdx_quote(&pki, &g, &len2, &off2);
    CHECK_OK(run(q2, len2, pki.root, 0, NULL, 1, &res));
    {
        json_error_t je;
        atls_trust_vector tv;
        json_t *p0 = json_loads("{\"any_mrtd\":true}", 0, &je);
        json_t *p1 = json_loads("{\"any_mrtd\":true,\"allow_debug\":true}", 0, &je);
        CHECK_ERR(atls_tdx_verifier_ops.appraise(p0, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
        CHECK(strstr(atls_error_detail(), "debug") != NULL);
        CHECK_OK(atls_tdx_verifier_ops.appraise(p1, &res, &tv));
        CHECK(tv.configuration == 32);
        json_decref(p0);
        json_decref(p1);
    }
    json_decref(res.claims);
    free(q2);

    /* v5 with a TDX 1.5 body */
    g = f;
    g.version = 5;
    g.body_type = 3;
    q2 = tg_tdx_quote(&pki, &g, &len2, &off2);
    CHECK_OK(run(q2, len2, pki.root, 0, NULL, 1, &res));
    CHECK(json_integer_value(json_object_get(res.claims, "body_type")) == 3);
    CHECK(strlen(cs(&res, "mrservicetd")) == 96);
    json_decref(res.claims);
    bad = 0;
    for (size_t n = 0; n < len2; n++) {
        bad += run(q2, n, pki.root, 0, NULL, 0, NULL) != ATLS_ERR_EVIDENCE_FORMAT;
    }
    CHECK(bad == 0);
    free(q2);

    free(q);
    sk_X509_CRL_pop_free(crls_, X509_CRL_free);
    crls_ = NULL;
    tg_tdx_pki_free(&pki);
    tg_tdx_pki_free(&other);
}

/* ---- shared Intel samples ---- */

static uint8_t *read_all(const char *dir, const char *name, size_t *len)
{
    return test_vector_read(dir, "tdx", name, len);
}

static void test_samples(const char *dir)
{
    static const struct {
        const char *quote;
        time_t at;
        int version;
        const char *fmspc;
    } s[] = {
        {"gotdxguest_tdx_prod_quote_SPR_E4.dat", 1735689600, 4, "50806f000000"},
        {"gotdxguest_quote_v5_sample.dat", 1770700000, 5, "90c06f000000"},
        {"trustee_tdx_quote_4.dat", 1735689600, 4, "50806f000000"},
        {"trustee_tdx_quote_6.dat", 1762000000, 4, "00a06d080000"},
        {"trustee_az-tdx-vtpm_td-quote.bin", 1735689600, 4, "00806f050000"},
    };
    char path[1024];
    snprintf(path, sizeof(path), "%s/tdx/gotdxguest_trusted_root.pem", dir);
    FILE *fp = fopen(path, "r");
    X509 *root = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
    if (fp) {
        fclose(fp);
    }
    CHECK(root != NULL);
    tg_tdx_pki wrong;
    CHECK(tg_tdx_pki_new(&wrong, FMSPC, COMP, 11));
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        size_t flen = 0, len = 0;
        uint8_t *q = read_all(dir, s[i].quote, &flen);
        CHECK(q != NULL);
        if (q == NULL) {
            continue;
        }
        /* file rule: the quote is the declared prefix; the rest of the file is ignored */
        CHECK_OK(atls_tdx_quote_length(q, flen, &len));
        atls_evidence_result res;
        CHECK_OK(run(q, len, root, s[i].at, NULL, 0, &res));
        CHECK(json_integer_value(json_object_get(res.claims, "quote_version")) == s[i].version);
        CHECK(strcmp(cs(&res, "fmspc"), s[i].fmspc) == 0);
        uint8_t rd[64];
        const char *rdh = cs(&res, "report_data");
        for (size_t k = 0; k < 64 && strlen(rdh) == 128; k++) {
            unsigned v = 0;
            sscanf(rdh + 2 * k, "%2x", &v);
            rd[k] = (uint8_t)v;
        }
        json_decref(res.claims);
        CHECK_OK(run(q, len, root, s[i].at, rd, 0, NULL));
        rd[63] ^= 1;
        CHECK_ERR(run(q, len, root, s[i].at, rd, 0, NULL), ATLS_ERR_EVIDENCE_NONCE);
        CHECK_ERR(run(q, len, wrong.root, s[i].at, NULL, 0, NULL), ATLS_ERR_EVIDENCE_CHAIN);
        if (len < flen) {
            CHECK_ERR(run(q, flen, root, s[i].at, NULL, 0, NULL), ATLS_ERR_EVIDENCE_FORMAT);
        }
        /* every byte of the signed region and the signature data up to the PCK chain */
        size_t sig_start = s[i].version == 4 ? 0x27C : 0x2C2;
        size_t end = sig_start + 64 + 64 + 6 + 384 + 64 + 2 + 32; /* through QE auth data */
        uint8_t *m = malloc(len);
        int bad = 0;
        for (size_t k = 0; k < end && k < len; k++) {
            memcpy(m, q, len);
            m[k] ^= 0x01;
            bad += run(m, len, root, s[i].at, NULL, 0, NULL) == ATLS_OK;
        }
        CHECK(bad == 0);
        bad = 0;
        for (size_t n = 0; n < len; n++) {
            bad += run(q, n, root, s[i].at, NULL, 0, NULL) != ATLS_ERR_EVIDENCE_FORMAT;
        }
        CHECK(bad == 0);
        memcpy(m, q, len);
        m[0] = 6;
        CHECK_ERR(run(m, len, root, s[i].at, NULL, 0, NULL), ATLS_ERR_EVIDENCE_FORMAT);
        memcpy(m, q, len);
        m[4] = 0; /* tee_type SGX */
        CHECK_ERR(run(m, len, root, s[i].at, NULL, 0, NULL), ATLS_ERR_EVIDENCE_FORMAT);
        free(m);
        free(q);
    }
    /* collateral: trustee_tdx_quote_4 + the go-tdx-guest TCB Info / QE Identity (same FMSPC),
     * with CRLs, at 2023-06-20: UpToDate. At the current time the collateral has expired. */
    {
        size_t flen = 0, len = 0;
        uint8_t *q = read_all(dir, "trustee_tdx_quote_4.dat", &flen);
        CHECK_OK(atls_tdx_quote_length(q, flen, &len));
        snprintf(ti_path, sizeof(ti_path), "%.100s", "");
        char ti[1024], qe[1024], ch[1024];
        snprintf(ti, sizeof(ti), "%s/tdx/gotdxguest_sample_tcbInfo_response", dir);
        snprintf(qe, sizeof(qe), "%s/tdx/gotdxguest_sample_qeIdentity_response", dir);
        snprintf(ch, sizeof(ch), "%s/tdx/gotdxguest_tcb_signing_issuer_chain.pem", dir);
        atls_verify_input in;
        memset(&in, 0, sizeof(in));
        in.trust_anchors = sk_X509_new_null();
        sk_X509_push(in.trust_anchors, root);
        in.tcb_info_path = ti;
        in.qe_identity_path = qe;
        in.tcb_signing_chain_path = ch;
        in.at = 1687250000; /* 2023-06-20 */
        atls_evidence_result res;
        CHECK_OK(atls_tdx_verifier_ops.verify(q, len, &in, &res));
        /* without the CRLs: the status is claimed, the hardware and identity tiers are not */
        CHECK(strcmp(cs(&res, "tcb_status"), "UpToDate") == 0 && res.tv.hardware == 0 &&
              res.tv.instance_identity == 0);
        CHECK(json_is_false(json_object_get(res.claims, "revocation_checked")));
        json_decref(res.claims);
        /* with the root and PCK CRLs (both valid on that date) */
        in.crls = sk_X509_CRL_new_null();
        static const char *const crls[] = {"gotdxguest_rootcrl.der", "gotdxguest_pckcrl"};
        for (size_t k = 0; k < 2; k++) {
            size_t cl = 0;
            uint8_t *cb = read_all(dir, crls[k], &cl);
            const unsigned char *cp = cb;
            X509_CRL *crl = cb ? d2i_X509_CRL(NULL, &cp, (long)cl) : NULL;
            CHECK(crl != NULL);
            sk_X509_CRL_push(in.crls, crl);
            free(cb);
        }
        CHECK_OK(atls_tdx_verifier_ops.verify(q, len, &in, &res));
        CHECK(strcmp(cs(&res, "tcb_status"), "UpToDate") == 0 && res.tv.hardware == 2 &&
              res.tv.instance_identity == 2);
        json_decref(res.claims);
        in.at = 0; /* now: the collateral (and the CRLs) have expired */
        CHECK(atls_tdx_verifier_ops.verify(q, len, &in, &res) != ATLS_OK);
        sk_X509_CRL_pop_free(in.crls, X509_CRL_free);
        in.crls = NULL;
        CHECK_ERR(atls_tdx_verifier_ops.verify(q, len, &in, &res), ATLS_ERR_EVIDENCE_COLLATERAL);
        free(q);
        /* SPR_E4's platform is below every level of that TCB Info: not supported */
        q = read_all(dir, "gotdxguest_tdx_prod_quote_SPR_E4.dat", &flen);
        CHECK_OK(atls_tdx_quote_length(q, flen, &len));
        in.at = 1687250000;
        CHECK_ERR(atls_tdx_verifier_ops.verify(q, len, &in, &res), ATLS_ERR_EVIDENCE_COLLATERAL);
        free(q);
        sk_X509_free(in.trust_anchors);
    }
    tg_tdx_pki_free(&wrong);
    X509_free(root);
}

/* Caches (docs/EVIDENCE.md, "Caches"): after a success has been remembered, changing any
 * keyed input fails as it would with a cold cache: another root, a time outside the chain's
 * window, a changed QE report signature, a collateral signature by another key; the original
 * still verifies afterwards. */
static void test_cache_keyed(void)
{
    tg_tdx_pki pki, other;
    tg_tdx_fields f;
    size_t len = 0, chain_off = 0;
    atls_tdx_quote parsed;
    time_t now = time(NULL);

    CHECK(tg_tdx_pki_new(&pki, FMSPC, COMP, 11));
    CHECK(tg_tdx_pki_new(&other, FMSPC, COMP, 11));
    tg_tdx_defaults(&f);
    uint8_t *q = tg_tdx_quote(&pki, &f, &len, &chain_off);
    CHECK(q != NULL);
    if (q == NULL) {
        return;
    }
    write_collateral(&pki, now - 3600, now + 86400, "00112233AABB", "UpToDate", "UpToDate");
    CHECK(tg_tdx_write_chain(&pki, chain_path));
    CHECK_OK(run(q, len, pki.root, 0, NULL, 1, NULL));
    CHECK_OK(run(q, len, pki.root, 0, NULL, 1, NULL)); /* now served from the caches */
    CHECK_ERR(run(q, len, other.root, 0, NULL, 1, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run(q, len, pki.root, now + 86400L * 400, NULL, 0, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run(q, len, pki.root, now - 86400L * 40, NULL, 0, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_OK(atls_tdx_quote_parse(q, len, &parsed));
    uint8_t *sig = NULL;
    for (size_t i = 0; sig == NULL && i + 64 <= chain_off; i++) {
        sig = memcmp(q + i, parsed.qe_signature, 64) == 0 ? q + i : NULL;
    }
    CHECK(sig != NULL);
    if (sig != NULL) {
        sig[10] ^= 1;
        CHECK_ERR(run(q, len, pki.root, 0, NULL, 0, NULL), ATLS_ERR_EVIDENCE_SIGNATURE);
        sig[10] ^= 1;
    }
    /* the same collateral documents signed by another TCB signing key (chain to another root) */
    write_collateral(&other, now - 3600, now + 86400, "00112233AABB", "UpToDate", "UpToDate");
    CHECK_ERR(run(q, len, pki.root, 0, NULL, 1, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
    write_collateral(&pki, now - 3600, now + 86400, "00112233AABB", "UpToDate", "UpToDate");
    /* collateral past its nextUpdate, although its signature success is remembered */
    CHECK_ERR(run(q, len, pki.root, now + 86400 * 2, NULL, 1, NULL), ATLS_ERR_EVIDENCE_COLLATERAL);
    CHECK_OK(run(q, len, pki.root, 0, NULL, 1, NULL));
    free(q);
    tg_tdx_pki_free(&pki);
    tg_tdx_pki_free(&other);
}

/* no argument: generated quotes and collateral; "shared": the shared Intel samples
 * (test_tdx_shared) */
int main(int argc, char **argv)
{
    if (test_shared_mode(argc, argv)) {
        test_samples(test_shared_vectors("tdx/gotdxguest_trusted_root.pem"));
        return check_summary();
    }
    snprintf(dir_, sizeof(dir_), "/tmp/atls_tdx_XXXXXX");
    CHECK(mkdtemp(dir_) != NULL);
    snprintf(ti_path, sizeof(ti_path), "%s/tcbinfo.json", dir_);
    snprintf(qe_path, sizeof(qe_path), "%s/qeidentity.json", dir_);
    snprintf(chain_path, sizeof(chain_path), "%s/chain.pem", dir_);
    test_generated();
    test_cache_keyed();
    unlink(ti_path);
    unlink(qe_path);
    unlink(chain_path);
    rmdir(dir_);
    return check_summary();
}
