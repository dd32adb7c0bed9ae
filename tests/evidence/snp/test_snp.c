/* test_snp.c: the SNP verifier on generated vectors (always) and on the shared AMD samples
 * (when ATLS_SHARED_VECTORS points at them). */
#include "check.h"
#include "vectors.h"
#include "snp_testgen.h"
#include "testcrl.h"

#include "evidence/snp/snp.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <unistd.h>

#define T_2025_01_01 ((time_t)1735689600)
#define T_2025_06_01 ((time_t)1748736000)

static time_t now_;

static STACK_OF(X509) *stack_of(X509 *a, X509 *b, X509 *c)
{
    STACK_OF(X509) *s = sk_X509_new_null();
    X509 *v[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (v[i] != NULL) {
            sk_X509_push(s, v[i]);
        }
    }
    return s;
}

/* CRLs given to every run (NULL: none; then revocation is unchecked and no tier is claimed) */
static STACK_OF(X509_CRL) *crls_;

/* run verifies |rep| with trust anchor |ark| and intermediates |ask| + |leaf|. */
static atls_error run(const uint8_t *rep, size_t len, X509 *ark, X509 *ask, X509 *leaf, time_t at,
                      const uint8_t *chal, atls_evidence_result *res)
{
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.crls = crls_;
    in.trust_anchors = stack_of(ark, NULL, NULL);
    in.intermediates = stack_of(ask, leaf, NULL);
    in.at = at;
    in.challenge = chal;
    atls_error rc = atls_snp_verifier_ops.verify(rep, len, &in, res);
    sk_X509_free(in.trust_anchors);
    sk_X509_free(in.intermediates);
    return rc;
}

static atls_error run_quiet(const uint8_t *rep, size_t len, X509 *ark, X509 *ask, X509 *leaf,
                            time_t at)
{
    atls_evidence_result res;
    atls_error rc = run(rep, len, ark, ask, leaf, at, NULL, &res);
    json_decref(res.claims);
    return rc;
}

static const char *claim_str(const atls_evidence_result *r, const char *k)
{
    return json_string_value(json_object_get(r->claims, k));
}

static json_int_t claim_int2(const atls_evidence_result *r, const char *o, const char *k)
{
    return json_integer_value(json_object_get(json_object_get(r->claims, o), k));
}

/* mutations: every byte flipped, every truncation. |signed_only| limits to 0..0x29F. */
static void mutate_all(const uint8_t *rep, X509 *ark, X509 *ask, X509 *leaf, time_t at)
{
    uint8_t m[1184];
    int bad = 0;
    for (size_t i = 0; i < 1184; i++) {
        memcpy(m, rep, sizeof(m));
        m[i] ^= 0x01;
        atls_error rc = run_quiet(m, sizeof(m), ark, ask, leaf, at);
        if (i < ATLS_SNP_SIGNED_LEN) {
            bad += !(rc == ATLS_ERR_EVIDENCE_SIGNATURE || rc == ATLS_ERR_EVIDENCE_FORMAT);
        } else {
            bad += rc == ATLS_OK;
        }
    }
    CHECK(bad == 0);
    bad = 0;
    for (size_t n = 0; n < 1184; n++) {
        bad += run_quiet(rep, n, ark, ask, leaf, at) != ATLS_ERR_EVIDENCE_FORMAT;
    }
    memcpy(m, rep, sizeof(m));
    CHECK(bad == 0);
    uint8_t longer[1185];
    memcpy(longer, rep, 1184);
    longer[1184] = 0;
    CHECK_ERR(run_quiet(longer, sizeof(longer), ark, ask, leaf, at), ATLS_ERR_EVIDENCE_FORMAT);
    /* wrong version: 6 is not accepted, whatever the signature (4 is: test_snp_trust.c) */
    memcpy(m, rep, sizeof(m));
    m[0] = 6;
    CHECK_ERR(run_quiet(m, sizeof(m), ark, ask, leaf, at), ATLS_ERR_EVIDENCE_FORMAT);
    m[0] = 1;
    CHECK_ERR(run_quiet(m, sizeof(m), ark, ask, leaf, at), ATLS_ERR_EVIDENCE_FORMAT);
}

static void test_policy(const atls_evidence_result *res)
{
    const atls_verifier_ops *ops = &atls_snp_verifier_ops;
    atls_trust_vector tv;
    json_t *p = NULL;
    json_error_t je;

    CHECK_OK(ops->policy_from_result(res, &p));
    CHECK_OK(ops->check_policy(p));
    memset(&tv, 0, sizeof(tv));
    CHECK_OK(ops->appraise(p, res, &tv));
    CHECK(tv.executables == 2 && tv.configuration == 2 && tv.hardware == 2);

    /* each key made to fail */
    static const char *const failing[] = {
        "{\"measurements\":[\"" "000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000\"]}",
        "{\"host_data\":[\"0000000000000000000000000000000000000000000000000000000000000000\"]}",
        "{\"id_key_digests\":[\"" "000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000\"]}",
        "{\"author_key_digests\":[\"" "000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000\"]}",
        "{\"family_ids\":[\"00000000000000000000000000000000\"]}",
        "{\"image_ids\":[\"00000000000000000000000000000000\"]}",
        "{\"min_tcb\":{\"bootloader\":200}}",
        "{\"min_tcb\":{\"tee\":200}}",
        "{\"min_tcb\":{\"snp\":200}}",
        "{\"min_tcb\":{\"microcode\":255}}",
        "{\"min_guest_svn\":100000}",
        "{\"vmpl\":[3]}",
        "{\"signers\":[\"vlek\"]}",
        "{\"allow_smt\":false}",
        "{\"require_challenge\":true}",
    };
    for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
        json_t *f = json_loads(failing[i], 0, &je);
        CHECK(f != NULL);
        if (json_object_get(f, "measurements") == NULL) {
            json_object_set_new(f, "any_measurement", json_true()); /* must be explicit */
        }
        CHECK_OK(ops->check_policy(f));
        CHECK_ERR(ops->appraise(f, res, &tv), ATLS_ERR_POLICY_MISMATCH);
        json_decref(f);
    }
    static const char *const invalid[] = {
        "{}", /* accepting any measurement must be written out */
        "{\"any_measurement\":true,\"measurements\":[]}",
        "{\"any_measurement\":false}",
        "{\"measurement\":[]}",           "{\"measurements\":[\"zz\"]}",
        "{\"measurements\":\"00\"}",      "{\"min_tcb\":{\"bogus\":1}}",
        "{\"min_tcb\":{\"snp\":256}}",    "{\"allow_debug\":1}",
        "{\"vmpl\":[4]}",                 "{\"signers\":[\"ark\"]}",
        "[]",                             "{\"min_guest_svn\":-1}",
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        json_t *f = json_loads(invalid[i], 0, &je);
        CHECK(f != NULL);
        CHECK_ERR(ops->check_policy(f), ATLS_ERR_POLICY_INVALID);
        json_decref(f);
    }
    json_decref(p);
}

static void test_generated(void)
{
    tg_snp_fields f;
    tg_snp_pki pki, other;
    uint8_t rep[1184], rep2[1184];
    atls_evidence_result res;
    time_t nb = now_ - 86400, na = now_ + 86400 * 30;

    tg_snp_defaults(&f);
    for (size_t i = 0; i < 64; i++) {
        f.report_data[i] = (uint8_t)i;
    }
    CHECK(tg_snp_pki_new(&pki, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", nb, na));
    CHECK(tg_snp_pki_new(&other, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", nb, na));
    CHECK(tg_snp_report(&f, pki.leaf_key, rep));

    /* valid, with the ARK's (empty) CRL: revocation checked, the full input set */
    X509_CRL *crl = testcrl_new(pki.ark, pki.ark_key, 1, now_ - 3600, now_ + 86400, NULL);
    CHECK(crl != NULL);
    crls_ = sk_X509_CRL_new_null();
    sk_X509_CRL_push(crls_, crl);
    CHECK_OK(run(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, 0, NULL, &res));
    CHECK(res.type != NULL && strcmp(res.type, "snp") == 0);
    CHECK(strlen(res.key_id) == 64 && res.challenge_checked == 0 && res.tv.hardware == 2);
    CHECK(json_integer_value(json_object_get(res.claims, "version")) == 3);
    CHECK(claim_int2(&res, "reported_tcb", "bootloader") == 2);
    CHECK(claim_int2(&res, "reported_tcb", "snp") == 5);
    CHECK(claim_int2(&res, "reported_tcb", "microcode") == 0x44);
    CHECK(strcmp(claim_str(&res, "signer"), "vcek") == 0);
    CHECK(strcmp(claim_str(&res, "measurement"),
                 "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf") == 0);
    CHECK(strncmp(claim_str(&res, "report_data"), "000102030405", 12) == 0);
    CHECK(json_is_false(json_object_get(json_object_get(res.claims, "policy"), "debug")));
    test_policy(&res);
    json_decref(res.claims);
    STACK_OF(X509_CRL) *with_crl = crls_;
    crls_ = NULL;

    /* challenge */
    CHECK_OK(run(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, 0, f.report_data, &res));
    CHECK(res.challenge_checked == 1);
    json_decref(res.claims);
    uint8_t chal[64];
    memcpy(chal, f.report_data, 64);
    chal[63] ^= 1;
    CHECK_ERR(run(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, 0, chal, &res),
              ATLS_ERR_EVIDENCE_NONCE);

    mutate_all(rep, pki.ark, pki.ask, pki.leaf, 0);

    /* chain: wrong root, no root, expired leaf, leaf not yet valid, signer not given */
    CHECK_ERR(run_quiet(rep, sizeof(rep), other.ark, pki.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run_quiet(rep, sizeof(rep), NULL, pki.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run_quiet(rep, sizeof(rep), pki.ark, NULL, pki.leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, na + 3600),
              ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, nb - 3600),
              ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, NULL, 0), ATLS_ERR_EVIDENCE_CHAIN);
    /* ARK given only as an intermediate, ASK as the anchor: chain too short */
    CHECK_ERR(run_quiet(rep, sizeof(rep), pki.ask, pki.ark, pki.leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
    /* signed by another VCEK */
    CHECK_ERR(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, other.leaf, 0),
              ATLS_ERR_EVIDENCE_SIGNATURE);

    /* VCEK TCB / HWID mismatches: each component in turn */
    static const struct {
        int shift;
        const char *name;
    } comps[] = {{0, "blSPL"}, {8, "teeSPL"}, {48, "snpSPL"}, {56, "ucodeSPL"}};
    for (size_t i = 0; i < 4; i++) {
        X509 *leaf = NULL;
        EVP_PKEY *key = NULL;
        uint64_t tcb = f.tcb ^ (1ull << comps[i].shift);
        CHECK(tg_snp_leaf_new(&pki, tcb, 0, f.chip_id, 64, "Milan-B0", nb, na, &leaf, &key));
        CHECK(tg_snp_report(&f, key, rep2));
        CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
        CHECK(strstr(atls_error_detail(), comps[i].name) != NULL);
        X509_free(leaf);
        EVP_PKEY_free(key);
    }
    {
        X509 *leaf = NULL;
        EVP_PKEY *key = NULL;
        uint8_t hw[64];
        memcpy(hw, f.chip_id, 64);
        hw[10] ^= 0x80;
        CHECK(tg_snp_leaf_new(&pki, f.tcb, 0, hw, 64, "Milan-B0", nb, na, &leaf, &key));
        CHECK(tg_snp_report(&f, key, rep2));
        CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
        CHECK(strstr(atls_error_detail(), "hwID") != NULL);
        X509_free(leaf);
        EVP_PKEY_free(key);
        CHECK(tg_snp_leaf_new(&pki, f.tcb, 0, hw, 0, "Milan-B0", nb, na, &leaf, &key));
        CHECK(tg_snp_report(&f, key, rep2));
        CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
        X509_free(leaf);
        EVP_PKEY_free(key);
    }

    /* re-signed variants: versions 2 and 5 ok; field rules rejected with FORMAT */
    tg_snp_fields g = f;
    g.version = 2;
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    CHECK_OK(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0));
    g.version = 5;
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    CHECK_OK(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0));
    g.version = 4; /* the v3 layout (AMD ABI); details in test_snp_trust.c */
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    CHECK_OK(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0));
    g = f;
    g.policy = 0x10000; /* bit 17 must be 1 */
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_FORMAT);
    g.policy = 0x30000 | (1ull << 40);
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_FORMAT);
    g = f;
    g.signer_info = 7u << 2;
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_FORMAT);
    g = f;
    g.vmpl = 4;
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_FORMAT);

    /* debug refused by default, allowed with allow_debug (configuration warning) */
    g = f;
    g.policy = 0x30000 | ATLS_SNP_POLICY_DEBUG | ATLS_SNP_POLICY_MIGRATE_MA;
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    crls_ = with_crl;
    CHECK_OK(run(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0, NULL, &res));
    crls_ = NULL;
    {
        json_error_t je;
        atls_trust_vector tv;
        json_t *p0 = json_loads("{\"any_measurement\":true}", 0, &je);
        json_t *p1 = json_loads("{\"any_measurement\":true,\"allow_debug\":true}", 0, &je);
        json_t *p2 = json_loads(
            "{\"any_measurement\":true,\"allow_debug\":true,\"allow_migration_agent\":true}", 0,
            &je);
        CHECK_ERR(atls_snp_verifier_ops.appraise(p0, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
        CHECK(strstr(atls_error_detail(), "debug") != NULL);
        CHECK_ERR(atls_snp_verifier_ops.appraise(p1, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
        CHECK(strstr(atls_error_detail(), "migrate_ma") != NULL);
        CHECK_OK(atls_snp_verifier_ops.appraise(p2, &res, &tv));
        CHECK(tv.configuration == 32);
        json_decref(p0);
        json_decref(p1);
        json_decref(p2);
    }
    json_decref(res.claims);

    /* vcek_path: the file is the only signer considered */
    {
        char path[] = "/tmp/atls_snp_vcekXXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        close(fd);
        CHECK(tg_write_der(pki.leaf, path));
        atls_verify_input in;
        memset(&in, 0, sizeof(in));
        in.trust_anchors = stack_of(pki.ark, NULL, NULL);
        in.intermediates = stack_of(pki.ask, other.leaf, NULL);
        in.vcek_path = path;
        CHECK_OK(atls_snp_verifier_ops.verify(rep, sizeof(rep), &in, &res));
        json_decref(res.claims);
        CHECK(tg_write_der(other.leaf, path));
        CHECK_ERR(atls_snp_verifier_ops.verify(rep, sizeof(rep), &in, &res),
                  ATLS_ERR_EVIDENCE_SIGNATURE);
        in.vcek_path = "/nonexistent/vcek.der";
        CHECK_ERR(atls_snp_verifier_ops.verify(rep, sizeof(rep), &in, &res), ATLS_ERR_IO_FILE);
        sk_X509_free(in.trust_anchors);
        sk_X509_free(in.intermediates);
        unlink(path);
    }
    sk_X509_CRL_pop_free(with_crl, X509_CRL_free);
    tg_snp_pki_free(&other);
    tg_snp_pki_free(&pki);
}

static void test_generated_turin_vlek(void)
{
    tg_snp_fields f;
    tg_snp_pki pki;
    uint8_t rep[1184];
    atls_evidence_result res;
    time_t nb = now_ - 86400, na = now_ + 86400 * 30;

    /* Turin: v5, CPUID family 0x1A, 8-byte hwID, fmcSPL; TCB bytes FMC BL TEE SNP .. .. UCODE */
    tg_snp_defaults(&f);
    f.version = 5;
    f.cpuid_fam = 0x1A;
    f.tcb = 0x4800000004030201ull;
    CHECK(tg_snp_pki_new(&pki, f.tcb, 1, f.chip_id, 8, "SEV-VCEK", "Turin", nb, na));
    CHECK(tg_snp_report(&f, pki.leaf_key, rep));
    CHECK_OK(run(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, 0, NULL, &res));
    CHECK(claim_int2(&res, "reported_tcb", "fmc") == 1);
    CHECK(claim_int2(&res, "reported_tcb", "bootloader") == 2);
    CHECK(claim_int2(&res, "reported_tcb", "tee") == 3);
    CHECK(claim_int2(&res, "reported_tcb", "snp") == 4);
    CHECK(claim_int2(&res, "reported_tcb", "microcode") == 0x48);
    CHECK(claim_str(&res, "current_mit_vector") != NULL);
    json_decref(res.claims);
    mutate_all(rep, pki.ark, pki.ask, pki.leaf, 0);
    {
        X509 *leaf = NULL;
        EVP_PKEY *key = NULL;
        uint8_t rep2[1184];
        /* fmcSPL mismatch */
        CHECK(tg_snp_leaf_new(&pki, f.tcb ^ 1, 1, f.chip_id, 8, "Turin", nb, na, &leaf, &key));
        CHECK(tg_snp_report(&f, key, rep2));
        CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
        CHECK(strstr(atls_error_detail(), "fmcSPL") != NULL);
        X509_free(leaf);
        EVP_PKEY_free(key);
        /* a Milan VCEK for a Turin CPU */
        CHECK(tg_snp_leaf_new(&pki, f.tcb, 0, f.chip_id, 64, "Milan-B0", nb, na, &leaf, &key));
        CHECK(tg_snp_report(&f, key, rep2));
        CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
        X509_free(leaf);
        EVP_PKEY_free(key);
    }
    tg_snp_pki_free(&pki);

    /* VLEK: SIGNING_KEY 1, CHIP_ID zero, no hwID */
    tg_snp_defaults(&f);
    f.signer_info = 1u << 2;
    f.vmpl = 1;
    memset(f.chip_id, 0, sizeof(f.chip_id));
    CHECK(tg_snp_pki_new(&pki, f.tcb, 0, NULL, 0, "SEV-VLEK", "Milan", nb, na));
    CHECK(tg_snp_report(&f, pki.leaf_key, rep));
    CHECK_OK(run(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, 0, NULL, &res));
    CHECK(strcmp(claim_str(&res, "signer"), "vlek") == 0);
    CHECK(json_integer_value(json_object_get(res.claims, "vmpl")) == 1);
    json_decref(res.claims);
    tg_snp_pki_free(&pki);
}

/* ---- shared AMD samples ---- */

static uint8_t *read_all(const char *dir, const char *name, size_t *len)
{
    return test_vector_read(dir, "sev-snp", name, len);
}

static X509 *load_der(const char *dir, const char *name)
{
    size_t len = 0;
    uint8_t *b = read_all(dir, name, &len);
    const unsigned char *p = b;
    X509 *x = b ? d2i_X509(NULL, &p, (long)len) : NULL;
    free(b);
    return x;
}

/* load_bundle: the self-signed cert into *ark, the others (ASK, ASVK) into *rest. */
static int load_bundle(const char *dir, const char *name, X509 **ark, STACK_OF(X509) **rest)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/sev-snp/%s", dir, name);
    FILE *fp = fopen(path, "r");
    *ark = NULL;
    *rest = sk_X509_new_null();
    if (fp == NULL) {
        return 0;
    }
    X509 *x;
    while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
        if (X509_check_issued(x, x) == X509_V_OK) {
            *ark = x;
        } else {
            sk_X509_push(*rest, x);
        }
    }
    ERR_clear_error();
    fclose(fp);
    return *ark != NULL;
}

static atls_error run_sample(const uint8_t *rep, size_t len, X509 *ark, STACK_OF(X509) *rest,
                             X509 *leaf, time_t at, const uint8_t *chal,
                             atls_evidence_result *res)
{
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = stack_of(ark, NULL, NULL);
    in.intermediates = sk_X509_dup(rest);
    sk_X509_push(in.intermediates, leaf);
    in.at = at;
    in.challenge = chal;
    atls_error rc = atls_snp_verifier_ops.verify(rep, len, &in, res);
    sk_X509_free(in.trust_anchors);
    sk_X509_free(in.intermediates);
    return rc;
}

static void test_samples(const char *dir)
{
    static const struct {
        const char *report, *cert, *bundle;
        time_t at;
        uint32_t version, vmpl;
        const char *signer, *report_data_prefix;
        int guest_svn, debug;
    } s[] = {
        {"gosevguest_attestation.bin", "gosevguest_vcek.testcer", "gosevguest_ask_ark_milan.pem",
         T_2025_01_01, 2, 0, "vcek", "0102030405000000", -1, 1},
        {"trustee_test-report.bin", "trustee_test-vcek.der", "trustee_milan_ask_ark_asvk.pem",
         T_2025_01_01, 2, 0, "vcek", NULL, 4, 0},
        {"trustee_test-vlek-report.bin", "trustee_test-vlek.der",
         "trustee_milan_ask_ark_asvk.pem", T_2025_06_01, 3, 1, "vlek", NULL, -1, 0},
    };
    X509 *genoa_ark = NULL;
    STACK_OF(X509) *genoa_rest = NULL;
    CHECK(load_bundle(dir, "gosevguest_ask_ark_genoa.pem", &genoa_ark, &genoa_rest));
    X509 *certs[3];
    for (size_t i = 0; i < 3; i++) {
        certs[i] = load_der(dir, s[i].cert);
    }
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        size_t len = 0;
        uint8_t *rep = read_all(dir, s[i].report, &len);
        X509 *ark = NULL;
        STACK_OF(X509) *rest = NULL;
        atls_evidence_result res;
        CHECK(rep != NULL && len == 1184 && certs[i] != NULL);
        CHECK(load_bundle(dir, s[i].bundle, &ark, &rest));
        if (rep == NULL || ark == NULL || certs[i] == NULL) {
            continue;
        }
        CHECK_OK(run_sample(rep, len, ark, rest, certs[i], s[i].at, NULL, &res));
        CHECK(json_integer_value(json_object_get(res.claims, "version")) == s[i].version);
        CHECK(json_integer_value(json_object_get(res.claims, "vmpl")) == s[i].vmpl);
        CHECK(claim_str(&res, "signer") && strcmp(claim_str(&res, "signer"), s[i].signer) == 0);
        if (s[i].report_data_prefix) {
            CHECK(strncmp(claim_str(&res, "report_data"), s[i].report_data_prefix, 16) == 0);
            CHECK(claim_int2(&res, "reported_tcb", "bootloader") == 2);
            CHECK(claim_int2(&res, "reported_tcb", "snp") == 5);
            CHECK(claim_int2(&res, "reported_tcb", "microcode") == 0x44);
        }
        if (s[i].guest_svn >= 0) {
            CHECK(json_integer_value(json_object_get(res.claims, "guest_svn")) == s[i].guest_svn);
        }
        CHECK(json_is_true(json_object_get(json_object_get(res.claims, "policy"), "debug")) ==
              s[i].debug);
        if (s[i].debug) {
            json_error_t je;
            atls_trust_vector tv;
            json_t *p0 = json_loads("{\"any_measurement\":true}", 0, &je);
            CHECK_ERR(atls_snp_verifier_ops.appraise(p0, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
            json_decref(p0);
        }
        /* the challenge: the report's own REPORT_DATA passes, anything else fails */
        uint8_t chal[64];
        const char *rd = claim_str(&res, "report_data");
        for (size_t k = 0; k < 64; k++) {
            unsigned v = 0;
            sscanf(rd + 2 * k, "%2x", &v);
            chal[k] = (uint8_t)v;
        }
        json_decref(res.claims);
        CHECK_OK(run_sample(rep, len, ark, rest, certs[i], s[i].at, chal, &res));
        CHECK(res.challenge_checked == 1);
        json_decref(res.claims);
        chal[0] ^= 0xff;
        CHECK_ERR(run_sample(rep, len, ark, rest, certs[i], s[i].at, chal, &res),
                  ATLS_ERR_EVIDENCE_NONCE);
        /* a chain to the wrong root */
        CHECK_ERR(run_sample(rep, len, genoa_ark, rest, certs[i], s[i].at, NULL, &res),
                  ATLS_ERR_EVIDENCE_CHAIN);
        /* the VCEK of another report */
        X509 *wrong = certs[(i + 1) % 3];
        atls_verify_input in;
        memset(&in, 0, sizeof(in));
        in.trust_anchors = stack_of(ark, NULL, NULL);
        in.intermediates = sk_X509_dup(rest);
        sk_X509_push(in.intermediates, wrong);
        in.at = s[i].at;
        CHECK_ERR(atls_snp_verifier_ops.verify(rep, len, &in, &res), ATLS_ERR_EVIDENCE_SIGNATURE);
        sk_X509_free(in.trust_anchors);
        sk_X509_free(in.intermediates);

        /* every byte flipped, every truncation, wrong versions */
        STACK_OF(X509) *inter = sk_X509_dup(rest);
        X509 *ask = NULL;
        for (int k = 0; k < sk_X509_num(inter); k++) {
            X509 *c = sk_X509_value(inter, k);
            if (X509_check_issued(c, certs[i]) == X509_V_OK) {
                ask = c;
            }
        }
        CHECK(ask != NULL);
        mutate_all(rep, ark, ask, certs[i], s[i].at);
        sk_X509_free(inter);

        free(rep);
        X509_free(ark);
        sk_X509_pop_free(rest, X509_free);
    }
    /* the VLEK expired on 2025-12-10: at the current time its chain fails */
    {
        size_t len = 0;
        uint8_t *rep = read_all(dir, s[2].report, &len);
        X509 *ark = NULL;
        STACK_OF(X509) *rest = NULL;
        atls_evidence_result res;
        CHECK(load_bundle(dir, s[2].bundle, &ark, &rest));
        if (now_ > (time_t)1765411200) {
            CHECK_ERR(run_sample(rep, len, ark, rest, certs[2], 0, NULL, &res),
                      ATLS_ERR_EVIDENCE_CHAIN);
        }
        free(rep);
        X509_free(ark);
        sk_X509_pop_free(rest, X509_free);
    }
    for (size_t i = 0; i < 3; i++) {
        X509_free(certs[i]);
    }
    X509_free(genoa_ark);
    sk_X509_pop_free(genoa_rest, X509_free);
}

/* Caches (docs/EVIDENCE.md, "Caches"): after a success has been remembered (chain, VCEK
 * extensions), changing any keyed input fails as with a cold cache: another ARK, another ASK, a
 * time outside the chain's window, a report whose CHIP_ID or TCB differs from the VCEK's
 * (signed by the same VCEK); the original still verifies afterwards. */
static void test_cache_keyed(void)
{
    tg_snp_fields f;
    tg_snp_pki pki, other;
    uint8_t rep[1184], rep2[1184];
    time_t nb = now_ - 86400, na = now_ + 86400 * 30;

    tg_snp_defaults(&f);
    CHECK(tg_snp_pki_new(&pki, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", nb, na));
    CHECK(tg_snp_pki_new(&other, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", nb, na));
    CHECK(tg_snp_report(&f, pki.leaf_key, rep));
    CHECK_OK(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, 0));
    CHECK_OK(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, 0)); /* cached */
    CHECK_OK(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, na - 60));
    CHECK_ERR(run_quiet(rep, sizeof(rep), other.ark, pki.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run_quiet(rep, sizeof(rep), pki.ark, other.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, na + 1),
              ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_ERR(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, nb - 1),
              ATLS_ERR_EVIDENCE_CHAIN);
    /* same VCEK (extensions remembered), report with another CHIP_ID / another TCB */
    tg_snp_fields g = f;
    g.chip_id[3] ^= 1;
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
    g = f;
    g.tcb ^= 1;
    CHECK(tg_snp_report(&g, pki.leaf_key, rep2));
    CHECK_ERR(run_quiet(rep2, sizeof(rep2), pki.ark, pki.ask, pki.leaf, 0), ATLS_ERR_EVIDENCE_CHAIN);
    CHECK_OK(run_quiet(rep, sizeof(rep), pki.ark, pki.ask, pki.leaf, 0));
    tg_snp_pki_free(&pki);
    tg_snp_pki_free(&other);
}

/* no argument: generated vectors; "shared": the shared AMD samples (test_snp_shared) */
int main(int argc, char **argv)
{
    now_ = time(NULL);
    if (test_shared_mode(argc, argv)) {
        test_samples(test_shared_vectors("sev-snp/gosevguest_attestation.bin"));
        return check_summary();
    }
    test_generated();
    test_generated_turin_vlek();
    test_cache_keyed();
    return check_summary();
}
