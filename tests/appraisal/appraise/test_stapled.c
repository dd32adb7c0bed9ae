/* test_stapled.c: CMW collections through the appraisal (atls/appraisal.h, stapled.h):
 *   - TDX and SNP Evidence with every piece of collateral stapled as Endorsement records is
 *     affirmed with nothing but the root as trust anchor, with the same claims as the same
 *     collateral given as files; removing one stapled record loses exactly what the file case
 *     loses (the strict policy refuses);
 *   - stale stapled collateral (CRL past nextUpdate, TCB Info / QE Identity past nextUpdate,
 *     a certificate past notAfter, collateral not valid yet) is refused with
 *     ATLS_ERR_EVIDENCE_COLLATERAL_STALE naming the record, never used;
 *   - what the relying party configured wins: its own CRL of an issuer shadows a stapled one
 *     (a stapled fresh CRL cannot hide a revocation the relying party knows about);
 *   - unknown or malformed Endorsements, a collection without Evidence: ATLS_ERR_EVIDENCE_FORMAT;
 *   - every Evidence record of a collection is appraised: one bad record fails the whole;
 *   - shared: a real TD quote (trustee) with the real Intel collateral (go-tdx-guest) stapled, at a fixed
 *     time inside its windows, appraised like the files.
 * Generated PKIs are the test generators' (nothing here is Intel's or AMD's). */
#include "check.h"
#include "evidence/core/plugin.h"
#include "snp_testgen.h"
#include "tdx_testgen.h"
#include "testcrl.h"
#include "vectors.h"

#include <atls/appraisal.h>

#include "appraisal/appraise/appraisal_internal.h"

#include "base/file.h"
#include "evidence/snp/snp.h"
#include "evidence/tdx/tdx.h"

#include <openssl/pem.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir_[64];

static uint8_t *slurp(const char *path, size_t *len)
{
    uint8_t *d = NULL;
    return atls_file_read(path, 0, &d, len) == ATLS_OK ? d : NULL;
}

static uint8_t *crl_der(X509_CRL *crl, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(crl, &der);
    uint8_t *out = n > 0 ? malloc((size_t)n) : NULL;
    if (out != NULL) {
        memcpy(out, der, (size_t)n);
        *len = (size_t)n;
    }
    OPENSSL_free(der);
    return out;
}

static uint8_t *cert_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    uint8_t *out = n > 0 ? malloc((size_t)n) : NULL;
    if (out != NULL) {
        memcpy(out, der, (size_t)n);
        *len = (size_t)n;
    }
    OPENSSL_free(der);
    return out;
}

/* add_blob appends |value| (malloc'd, *len bytes, taken over) as an Endorsement; the length
 * is read after the producer ran (argument order is unspecified in C) */
static atls_error add_blob(atls_evidence_parts *p, const char *label, const char *type,
                           uint8_t *value, const size_t *len)
{
    return atls_evidence_parts_add_owned(p, label, type, value, *len, ATLS_IND_ENDORSEMENTS);
}

/* a policy document {"version":1, "<type>": section} */
static atls_policy *policy_of(const char *type, const json_t *section)
{
    json_t *doc = json_pack("{s:i, s:O}", "version", 1, type, section);
    char *text = json_dumps(doc, 0);
    atls_policy *p = NULL;
    CHECK_OK(atls_policy_parse(text, strlen(text), "stapled", &p));
    free(text);
    json_decref(doc);
    return p;
}

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

/* encode: the parts as one CMW (caller frees) */
static uint8_t *encode(const atls_evidence_parts *p, size_t *len)
{
    uint8_t *out = NULL;
    CHECK_OK(atls_evidence_parts_encode(p, 65533, "test", &out, len));
    return out;
}

static const json_t *submod_claims(const atls_appraisal *a, const char *name)
{
    return json_object_get(json_object_get(json_object_get(atls_appraisal_get0_ear_json(a), "submods"), name),
                           "ear_attester_claims");
}

/* appraise_parts: the CMW of |p| appraised with |in| and |policy| */
static atls_error appraise_parts(const atls_evidence_parts *p, const atls_verify_input *in,
                                 const atls_policy *policy, atls_appraisal *a)
{
    size_t len = 0;
    uint8_t *cmw = encode(p, &len);
    memset(a, 0, sizeof(*a));
    atls_error rc = atls_appraise_cmw(cmw, len, in, policy, a);
    free(cmw);
    return rc;
}

/* without: a copy of |p| minus the part labelled |label| (values copied) */
static void without(const atls_evidence_parts *p, const char *label, atls_evidence_parts *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < p->num; i++) {
        if (label == NULL || strcmp(p->part[i].label, label) != 0) {
            CHECK_OK(atls_evidence_parts_add(out, p->part[i].label, p->part[i].media_type,
                                             p->part[i].value, p->part[i].len, p->part[i].ind));
        }
    }
}

/* expect: appraising |p| fails with |code| and the reason contains |needle| */
static void expect(const char *what, const atls_evidence_parts *p, const atls_verify_input *in,
                   const atls_policy *policy, atls_error code, const char *needle)
{
    atls_appraisal a;
    atls_error rc = appraise_parts(p, in, policy, &a);
    int ok = rc == code && a.status == ATLS_TIER_CONTRAINDICATED &&
             (needle == NULL || strstr(a.reason, needle) != NULL);
    if (!ok) {
        printf("  %s: rc %d (want %d), status %d, reason: %s\n", what, rc, code, a.status,
               a.reason);
    }
    CHECK(ok);
    atls_appraisal_cleanup(&a);
}

/* ---- TDX: generated PKI and collateral ---- */
static void test_tdx(time_t now)
{
    printf("-- tdx, generated\n");
    static const uint8_t fmspc[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
    static const uint8_t comp[16] = {5, 5, 2, 2, 3, 1, 0, 3};
    char ti[128], qe[128], chain[128], lv[1024];
    snprintf(ti, sizeof(ti), "%s/ti.json", dir_);
    snprintf(qe, sizeof(qe), "%s/qe.json", dir_);
    snprintf(chain, sizeof(chain), "%s/chain.pem", dir_);
    tg_tdx_pki p;
    CHECK(tg_tdx_pki_new(&p, fmspc, comp, 11));
    tg_tdx_fields f;
    tg_tdx_defaults(&f);
    size_t qlen = 0, off = 0;
    uint8_t *q = tg_tdx_quote(&p, &f, &qlen, &off);
    tg_tdx_level(lv, sizeof(lv), 3, 0, 5, "UpToDate");
    CHECK(q != NULL && tg_tdx_write_chain(&p, chain) &&
          tg_tdx_write_tcb_info(p.tcb_key, ti, now - 3600, now + 86400, lv, NULL) &&
          tg_tdx_write_qe_identity(p.tcb_key, qe, now - 3600, now + 86400, "UpToDate"));
    STACK_OF(X509_CRL) *crls = tg_tdx_crls(&p, now - 86400L * 29, now + 86400, 0);
    STACK_OF(X509) *anchors = sk_X509_new_null();
    sk_X509_push(anchors, p.root);
    atls_verify_input files = {.trust_anchors = anchors, .crls = crls, .tcb_info_path = ti,
                               .qe_identity_path = qe, .tcb_signing_chain_path = chain};
    json_t *strict = strict_section(&atls_tdx_verifier_ops, q, qlen, &files);
    atls_policy *policy = policy_of("tdx", strict);

    /* the collection: the quote, then everything a relying party would otherwise fetch */
    atls_evidence_parts parts;
    memset(&parts, 0, sizeof(parts));
    size_t n = 0;
    CHECK_OK(atls_evidence_parts_add(&parts, "tdx", ATLS_TDX_MEDIA_TYPE, q, qlen,
                                     ATLS_IND_EVIDENCE));
    CHECK_OK(add_blob(&parts, "tdx-tcb-info", ATLS_MEDIA_TDX_TCB_INFO, slurp(ti, &n), &n));
    CHECK_OK(add_blob(&parts, "tdx-qe-identity", ATLS_MEDIA_TDX_QE_IDENTITY, slurp(qe, &n), &n));
    CHECK_OK(add_blob(&parts, "tdx-tcb-signing-chain", ATLS_MEDIA_PEM_CHAIN, slurp(chain, &n), &n));
    CHECK_OK(add_blob(&parts, "tdx-pck-crl", ATLS_MEDIA_PKIX_CRL, crl_der(sk_X509_CRL_value(crls, 1), &n), &n));
    CHECK_OK(add_blob(&parts, "tdx-root-ca-crl", ATLS_MEDIA_PKIX_CRL, crl_der(sk_X509_CRL_value(crls, 0), &n), &n));

    /* 1. only the root: affirming, the same claims as with the files */
    atls_verify_input roots = {.trust_anchors = anchors};
    atls_appraisal a, b;
    CHECK_OK(appraise_parts(&parts, &roots, policy, &a));
    CHECK(a.status == ATLS_TIER_AFFIRMING);
    memset(&b, 0, sizeof(b));
    CHECK_OK(atls_appraise_evidence(&atls_tdx_verifier_ops, q, qlen, &files, policy, &b));
    CHECK(json_equal(submod_claims(&a, "tdx"), submod_claims(&b, "tdx")));
    CHECK(strcmp(json_string_value(json_object_get(submod_claims(&a, "tdx"), "tcb_status")),
                 "UpToDate") == 0);
    atls_appraisal_cleanup(&a);
    atls_appraisal_cleanup(&b);

    /* 2. each stapled record removed: the strict policy refuses, as without the file */
    static const struct {
        const char *label;
        atls_error code;
    } drop[] = {{"tdx-tcb-info", ATLS_ERR_EVIDENCE_COLLATERAL}, /* as a QE Identity file alone */
                {"tdx-qe-identity", ATLS_ERR_POLICY_UNAPPRAISED},
                {"tdx-tcb-signing-chain", ATLS_ERR_EVIDENCE_COLLATERAL},
                {"tdx-pck-crl", ATLS_ERR_EVIDENCE_CHAIN},
                {"tdx-root-ca-crl", ATLS_ERR_EVIDENCE_CHAIN}};
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
        atls_evidence_parts less;
        without(&parts, drop[i].label, &less);
        char what[80];
        snprintf(what, sizeof(what), "without %s", drop[i].label);
        expect(what, &less, &roots, policy, drop[i].code, NULL);
        atls_evidence_parts_cleanup(&less);
    }
    /* no trust anchor: stapled certificates never become trusted */
    expect("no trust anchor", &parts, NULL, policy, ATLS_ERR_EVIDENCE_CHAIN, NULL);

    /* 3. stale stapled collateral: refused with its own error, whatever else is there */
    {
        atls_evidence_parts stale;
        without(&parts, "tdx-tcb-info", &stale);
        CHECK(tg_tdx_write_tcb_info(p.tcb_key, ti, now - 86400L * 30, now - 60, lv, NULL));
        CHECK_OK(add_blob(&stale, "tdx-tcb-info", ATLS_MEDIA_TDX_TCB_INFO, slurp(ti, &n), &n));
        expect("stale TCB Info", &stale, &roots, policy, ATLS_ERR_EVIDENCE_COLLATERAL_STALE,
               "\"tdx-tcb-info\" (tcbInfo) is stale");
        /* the relying party's own fresh TCB Info does not make a stale stapled one usable */
        CHECK(tg_tdx_write_tcb_info(p.tcb_key, ti, now - 3600, now + 86400, lv, NULL));
        atls_verify_input own = roots;
        own.tcb_info_path = ti;
        expect("stale TCB Info beside a local one", &stale, &own, policy,
               ATLS_ERR_EVIDENCE_COLLATERAL_STALE, "stale");
        atls_evidence_parts_cleanup(&stale);

        without(&parts, "tdx-qe-identity", &stale);
        CHECK(tg_tdx_write_qe_identity(p.tcb_key, qe, now + 3600, now + 86400, "UpToDate"));
        CHECK_OK(add_blob(&stale, "tdx-qe-identity",
                                               ATLS_MEDIA_TDX_QE_IDENTITY, slurp(qe, &n), &n));
        expect("QE Identity not valid yet", &stale, &roots, policy,
               ATLS_ERR_EVIDENCE_COLLATERAL_STALE, "not valid yet");
        atls_evidence_parts_cleanup(&stale);

        STACK_OF(X509_CRL) *old = tg_tdx_crls(&p, now - 86400L * 60, now - 86400L * 30, 0);
        without(&parts, "tdx-pck-crl", &stale);
        CHECK_OK(add_blob(&stale, "tdx-pck-crl", ATLS_MEDIA_PKIX_CRL, crl_der(sk_X509_CRL_value(old, 1), &n), &n));
        expect("stale PCK CRL", &stale, &roots, policy, ATLS_ERR_EVIDENCE_COLLATERAL_STALE,
               "\"tdx-pck-crl\" (CRL) is stale: its nextUpdate has passed");
        atls_evidence_parts_cleanup(&stale);
        sk_X509_CRL_pop_free(old, X509_CRL_free);
    }

    /* 4. the relying party's own CRL of an issuer wins: its revocation of the PCK stands even
     * though a fresh stapled PCK CRL does not list it */
    {
        STACK_OF(X509_CRL) *revoking = tg_tdx_crls(&p, now - 86400, now + 86400, 1);
        atls_verify_input own = roots;
        own.crls = revoking;
        expect("local revoking CRL beside a stapled clean one", &parts, &own, policy,
               ATLS_ERR_EVIDENCE_REVOKED, NULL);
        sk_X509_CRL_pop_free(revoking, X509_CRL_free);
    }

    /* 5. malformed and unknown Endorsements; two CRLs of one issuer */
    {
        atls_evidence_parts bad;
        without(&parts, NULL, &bad);
        CHECK_OK(atls_evidence_parts_add(&bad, "odd", "application/x-unknown", q, 10,
                                         ATLS_IND_ENDORSEMENTS));
        expect("unknown endorsement type", &bad, &roots, policy, ATLS_ERR_EVIDENCE_FORMAT,
               "\"odd\": Endorsements of media type \"application/x-unknown\"");
        atls_evidence_parts_cleanup(&bad);
        without(&parts, NULL, &bad);
        CHECK_OK(atls_evidence_parts_add(&bad, "junk-crl", ATLS_MEDIA_PKIX_CRL, q, 100,
                                         ATLS_IND_ENDORSEMENTS));
        expect("malformed CRL", &bad, &roots, policy, ATLS_ERR_EVIDENCE_FORMAT, "not one DER CRL");
        atls_evidence_parts_cleanup(&bad);
        without(&parts, NULL, &bad);
        CHECK_OK(add_blob(&bad, "again", ATLS_MEDIA_PKIX_CRL, crl_der(sk_X509_CRL_value(crls, 1), &n), &n));
        expect("two CRLs of one issuer", &bad, &roots, policy, ATLS_ERR_EVIDENCE_FORMAT,
               "second CRL");
        atls_evidence_parts_cleanup(&bad);
        without(&parts, NULL, &bad);
        CHECK_OK(atls_evidence_parts_add(&bad, "junk-cert", ATLS_MEDIA_PKIX_CERT, q, 100,
                                         ATLS_IND_ENDORSEMENTS));
        expect("malformed certificate", &bad, &roots, policy, ATLS_ERR_EVIDENCE_FORMAT,
               "not one DER certificate");
        atls_evidence_parts_cleanup(&bad);
        without(&parts, NULL, &bad);
        CHECK_OK(atls_evidence_parts_add(&bad, "junk-ti", ATLS_MEDIA_TDX_TCB_INFO,
                                         (const uint8_t *)"{}", 2, ATLS_IND_ENDORSEMENTS));
        expect("a TCB Info that is not one", &bad, &roots, policy, ATLS_ERR_EVIDENCE_FORMAT,
               "junk-ti");
        atls_evidence_parts_cleanup(&bad);
        /* Endorsements only: nothing to appraise */
        without(&parts, "tdx", &bad);
        expect("no Evidence record", &bad, &roots, policy, ATLS_ERR_EVIDENCE_FORMAT,
               "without Evidence");
        atls_evidence_parts_cleanup(&bad);
    }

    /* 6. every Evidence record is appraised: a second quote over another challenge fails the
     * collection; two good quotes get two submods */
    {
        uint8_t ch[64];
        memcpy(ch, f.report_data, 64);
        atls_verify_input with_ch = roots;
        with_ch.challenge = ch;
        atls_evidence_parts two;
        without(&parts, NULL, &two);
        CHECK_OK(atls_evidence_parts_add(&two, "tdx-again", ATLS_TDX_MEDIA_TYPE, q, qlen,
                                         ATLS_IND_EVIDENCE));
        CHECK_OK(appraise_parts(&two, &with_ch, policy, &a));
        CHECK(a.num_results == 2 && submod_claims(&a, "tdx") != NULL &&
              json_object_size(json_object_get(atls_appraisal_get0_ear_json(&a), "submods")) == 2);
        atls_appraisal_cleanup(&a);
        atls_evidence_parts_cleanup(&two);
        tg_tdx_fields g = f;
        g.report_data[0] ^= 1;
        size_t q2len = 0;
        uint8_t *q2 = tg_tdx_quote(&p, &g, &q2len, &off);
        without(&parts, NULL, &two);
        CHECK_OK(atls_evidence_parts_add_owned(&two, "tdx-other", ATLS_TDX_MEDIA_TYPE, q2, q2len,
                                               ATLS_IND_EVIDENCE));
        expect("second Evidence over another challenge", &two, &with_ch, policy,
               ATLS_ERR_EVIDENCE_NONCE, NULL);
        atls_evidence_parts_cleanup(&two);
    }

    atls_evidence_parts_cleanup(&parts);
    atls_policy_free(policy);
    json_decref(strict);
    sk_X509_free(anchors);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    free(q);
    tg_tdx_pki_free(&p);
    unlink(ti);
    unlink(qe);
    unlink(chain);
}

/* ---- SNP: generated VCEK chain and ARK CRL stapled ---- */
static void test_snp(time_t now)
{
    printf("-- snp, generated\n");
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
    STACK_OF(X509) *anchors = sk_X509_new_null(), *inter = sk_X509_new_null();
    sk_X509_push(anchors, p.ark);
    sk_X509_push(inter, p.ask);
    sk_X509_push(inter, p.leaf);
    atls_verify_input full = {.trust_anchors = anchors, .intermediates = inter, .crls = crls};
    json_t *strict = strict_section(&atls_snp_verifier_ops, rep, sizeof(rep), &full);
    atls_policy *policy = policy_of("snp", strict);

    char chain[128];
    snprintf(chain, sizeof(chain), "%s/ask_ark.pem", dir_);
    X509 *const ask_ark[] = {p.ask, p.ark};
    CHECK(tg_tdx_write_certs(chain, ask_ark, 2));
    atls_evidence_parts parts;
    memset(&parts, 0, sizeof(parts));
    size_t n = 0;
    CHECK_OK(atls_evidence_parts_add(&parts, "snp", ATLS_SNP_MEDIA_TYPE, rep, sizeof(rep),
                                     ATLS_IND_EVIDENCE));
    CHECK_OK(add_blob(&parts, "snp-vcek", ATLS_MEDIA_PKIX_CERT, cert_der(p.leaf, &n), &n));
    CHECK_OK(add_blob(&parts, "snp-cert-chain", ATLS_MEDIA_PEM_CHAIN, slurp(chain, &n), &n));
    CHECK_OK(add_blob(&parts, "snp-crl", ATLS_MEDIA_PKIX_CRL, crl_der(crl, &n), &n));
    atls_verify_input roots = {.trust_anchors = anchors};
    atls_appraisal a;
    CHECK_OK(appraise_parts(&parts, &roots, policy, &a));
    CHECK(a.status == ATLS_TIER_AFFIRMING);
    CHECK(json_is_true(json_object_get(submod_claims(&a, "snp"), "revocation_checked")));
    atls_appraisal_cleanup(&a);
    atls_evidence_parts less;
    without(&parts, "snp-crl", &less);
    expect("without the ARK CRL", &less, &roots, policy, ATLS_ERR_POLICY_UNAPPRAISED, NULL);
    atls_evidence_parts_cleanup(&less);
    without(&parts, "snp-vcek", &less);
    expect("without the VCEK", &less, &roots, policy, ATLS_ERR_EVIDENCE_CHAIN, NULL);
    atls_evidence_parts_cleanup(&less);

    /* a stapled VCEK past its notAfter: stale, not a chain error */
    X509 *old = NULL;
    EVP_PKEY *old_key = NULL;
    CHECK(tg_snp_leaf_new(&p, f.tcb, 0, f.chip_id, 64, "Milan-B0", now - 86400L * 40,
                          now - 86400, &old, &old_key));
    without(&parts, "snp-vcek", &less);
    CHECK_OK(add_blob(&less, "snp-vcek", ATLS_MEDIA_PKIX_CERT, cert_der(old, &n), &n));
    expect("expired stapled VCEK", &less, &roots, policy, ATLS_ERR_EVIDENCE_COLLATERAL_STALE,
           "\"snp-vcek\" (certificate) is stale: its notAfter has passed");
    atls_evidence_parts_cleanup(&less);
    X509_CRL *stale_crl = testcrl_new(p.ark, p.ark_key, 1, now - 86400L * 10, now - 3600, NULL);
    without(&parts, "snp-crl", &less);
    CHECK_OK(add_blob(&less, "snp-crl", ATLS_MEDIA_PKIX_CRL, crl_der(stale_crl, &n), &n));
    expect("stale ARK CRL", &less, &roots, policy, ATLS_ERR_EVIDENCE_COLLATERAL_STALE,
           "\"snp-crl\" (CRL) is stale");
    /* at a verification time inside its window the same CRL is used */
    atls_verify_input earlier = roots;
    earlier.at = now - 7200;
    CHECK_OK(appraise_parts(&less, &earlier, policy, &a));
    CHECK(a.status == ATLS_TIER_AFFIRMING);
    atls_appraisal_cleanup(&a);
    atls_evidence_parts_cleanup(&less);

    X509_CRL_free(stale_crl);
    X509_free(old);
    EVP_PKEY_free(old_key);
    atls_evidence_parts_cleanup(&parts);
    atls_policy_free(policy);
    json_decref(strict);
    sk_X509_free(anchors);
    sk_X509_free(inter);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    tg_snp_pki_free(&p);
    unlink(chain);
}

/* ---- shared: a real quote of FMSPC 50806f000000 with the real Intel collateral ---- */
static void test_shared(const char *dir)
{
    printf("-- tdx, shared Intel samples\n");
    size_t flen = 0, qlen = 0, n = 0;
    uint8_t *q = test_vector_read(dir, "tdx", "trustee_tdx_quote_4.dat", &flen);
    CHECK(q != NULL);
    if (q == NULL) {
        return;
    }
    CHECK_OK(atls_tdx_quote_length(q, flen, &qlen));
    char path[1024], ti[1024], qe[1024], chain[1024];
    snprintf(path, sizeof(path), "%s/tdx/gotdxguest_trusted_root.pem", dir);
    snprintf(ti, sizeof(ti), "%s/tdx/gotdxguest_sample_tcbInfo_response", dir);
    snprintf(qe, sizeof(qe), "%s/tdx/gotdxguest_sample_qeIdentity_response", dir);
    snprintf(chain, sizeof(chain), "%s/tdx/gotdxguest_tcb_signing_issuer_chain.pem", dir);
    FILE *fp = fopen(path, "r");
    X509 *root = fp ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
    if (fp) {
        fclose(fp);
    }
    CHECK(root != NULL);
    STACK_OF(X509) *anchors = sk_X509_new_null();
    sk_X509_push(anchors, root);
    uint8_t *pck_crl = test_vector_read(dir, "tdx", "gotdxguest_pckcrl", &n);
    size_t pck_len = n;
    uint8_t *root_crl = test_vector_read(dir, "tdx", "gotdxguest_rootcrl.der", &n);
    size_t root_len = n;
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    const unsigned char *cp = pck_crl;
    sk_X509_CRL_push(crls, d2i_X509_CRL(NULL, &cp, (long)pck_len));
    cp = root_crl;
    sk_X509_CRL_push(crls, d2i_X509_CRL(NULL, &cp, (long)root_len));
    /* 2023-06-20: inside every window (TCB Info to 07-18, QE Identity and PCK CRL to 07-08) */
    time_t at = 1687219200;
    atls_verify_input files = {.trust_anchors = anchors, .crls = crls, .tcb_info_path = ti,
                               .qe_identity_path = qe, .tcb_signing_chain_path = chain, .at = at};
    atls_evidence_parts parts;
    memset(&parts, 0, sizeof(parts));
    CHECK_OK(atls_evidence_parts_add(&parts, "tdx", ATLS_TDX_MEDIA_TYPE, q, qlen,
                                     ATLS_IND_EVIDENCE));
    CHECK_OK(add_blob(&parts, "tdx-tcb-info", ATLS_MEDIA_TDX_TCB_INFO, slurp(ti, &n), &n));
    CHECK_OK(add_blob(&parts, "tdx-qe-identity", ATLS_MEDIA_TDX_QE_IDENTITY, slurp(qe, &n), &n));
    CHECK_OK(add_blob(&parts, "tdx-tcb-signing-chain", ATLS_MEDIA_PEM_CHAIN, slurp(chain, &n), &n));
    CHECK_OK(atls_evidence_parts_add(&parts, "tdx-pck-crl", ATLS_MEDIA_PKIX_CRL, pck_crl, pck_len,
                                     ATLS_IND_ENDORSEMENTS));
    CHECK_OK(atls_evidence_parts_add(&parts, "tdx-root-ca-crl", ATLS_MEDIA_PKIX_CRL, root_crl,
                                     root_len, ATLS_IND_ENDORSEMENTS));
    atls_verify_input roots = {.trust_anchors = anchors, .at = at};
    atls_appraisal a, b;
    memset(&b, 0, sizeof(b));
    atls_error ra = appraise_parts(&parts, &roots, NULL, &a);
    atls_error rb = atls_appraise_evidence(&atls_tdx_verifier_ops, q, qlen, &files, NULL, &b);
    CHECK(ra == rb && a.status == b.status);
    const json_t *ca = submod_claims(&a, "tdx"), *cb = submod_claims(&b, "tdx");
    CHECK(ca != NULL && json_equal(ca, cb));
    if (ca == NULL || !json_equal(ca, cb)) {
        char *x = json_dumps(atls_appraisal_get0_ear_json(&a), JSON_INDENT(1));
        char *y = json_dumps(atls_appraisal_get0_ear_json(&b), JSON_INDENT(1));
        printf("stapled: %s\nfiles: %s\n", x, y);
        free(x);
        free(y);
    }
    CHECK(json_array_size(json_object_get(ca, "unappraised")) == 0);
    CHECK(strcmp(json_string_value(json_object_get(ca, "tcb_status")), "UpToDate") == 0);
    CHECK(json_is_true(json_object_get(ca, "revocation_checked")));
    atls_appraisal_cleanup(&a);
    atls_appraisal_cleanup(&b);
    /* a month later the stapled QE Identity and PCK CRL are stale: refused, not used */
    roots.at = at + 86400L * 30;
    expect("real collateral a month later", &parts, &roots, NULL,
           ATLS_ERR_EVIDENCE_COLLATERAL_STALE, "is stale");
    atls_evidence_parts_cleanup(&parts);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    sk_X509_pop_free(anchors, X509_free);
    free(pck_crl);
    free(root_crl);
    free(q);
}

int main(int argc, char **argv)
{
    if (test_shared_mode(argc, argv)) {
        test_shared(test_shared_vectors("tdx/trustee_tdx_quote_4.dat"));
        return check_summary();
    }
    time_t now = time(NULL);
    snprintf(dir_, sizeof(dir_), "/tmp/atls_stapled_XXXXXX");
    CHECK(mkdtemp(dir_) != NULL);
    test_tdx(now);
    test_snp(now);
    rmdir(dir_);
    return check_summary();
}
