#define _GNU_SOURCE /* memmem */
/* test_azure.c: the "azure" verifier (HCL report + runtime data + vTPM quote). Generated cases
 * use a MOCK of the paravisor (azure_testgen.c: HCL-format reports over SNP reports from
 * snp_testgen, signed by test CAs) and software-made RSA quotes (tpm2_fake.c), so each link of
 * the chain can be broken alone. The shared cases run the verifier on the real Azure samples
 * (trustee's az-snp-vtpm and az-tdx-vtpm test data). */
#include "azure_testgen.h"
#include "check.h"
#include "snp_testgen.h"
#include "testcrl.h"
#include "tpm2_fake.h"
#include "vectors.h"

#include "evidence/azure/azure.h"
#include "evidence/tdx/tdx.h"

#include <atls/appraisal.h>
#include <atls/policy.h>

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint8_t challenge_[ATLS_CHALLENGE_LEN];

/* A generated Azure SNP VM: PKI, AK, runtime data, HCL report. */
typedef struct vm {
    tg_snp_pki pki;
    EVP_PKEY *ak;
    char *json;
    uint8_t hcl[AZ_TG_NV_SIZE];
    uint8_t leaf_der[4096];
    size_t leaf_len;
    STACK_OF(X509) *anchors, *inter;
    STACK_OF(X509_CRL) *crls;
} vm;

/* Knobs for one piece of Evidence made from |v|. */
typedef struct mk {
    uint32_t vmpl;
    int other_json;       /* REPORT_DATA over different runtime data */
    EVP_PKEY *quote_key;  /* NULL: the runtime data's AK */
    const uint8_t *extra; /* NULL: the challenge */
    int with_tdquote;
    int no_certs;
} mk;

static int vm_new(vm *v)
{
    memset(v, 0, sizeof(*v));
    tg_snp_fields f;
    tg_snp_defaults(&f);
    time_t now = time(NULL);
    if (!tg_snp_pki_new(&v->pki, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", now - 86400,
                        now + 86400 * 30)) {
        return 0;
    }
    v->ak = fake_rsa_key();
    v->json = v->ak != NULL ? az_tg_runtime_json(v->ak) : NULL;
    unsigned char *p = v->leaf_der;
    int n = i2d_X509(v->pki.leaf, &p);
    v->leaf_len = n > 0 ? (size_t)n : 0;
    v->anchors = sk_X509_new_null();
    v->inter = sk_X509_new_null();
    sk_X509_push(v->anchors, v->pki.ark);
    sk_X509_push(v->inter, v->pki.ask);
    v->crls = sk_X509_CRL_new_null();
    X509_CRL *crl = testcrl_new(v->pki.ark, v->pki.ark_key, 1, now - 3600, now + 86400, NULL);
    if (crl == NULL || sk_X509_CRL_push(v->crls, crl) <= 0) {
        return 0;
    }
    return v->json != NULL && v->leaf_len > 0;
}

static void vm_free(vm *v)
{
    sk_X509_free(v->anchors);
    sk_X509_free(v->inter);
    sk_X509_CRL_pop_free(v->crls, X509_CRL_free);
    tg_snp_pki_free(&v->pki);
    EVP_PKEY_free(v->ak);
    free(v->json);
}

/* make builds Evidence for |v| under |m| (*out malloc'd). */
static int make(vm *v, const mk *m, uint8_t **out, size_t *out_len)
{
    tg_snp_fields f;
    tg_snp_defaults(&f);
    f.vmpl = m->vmpl;
    char *other = m->other_json ? az_tg_runtime_json(v->ak) : NULL;
    if (other != NULL) {
        other[strlen(other) - 3] = '1'; /* "user-data":"01" */
    }
    az_tg_report_data(other != NULL ? other : v->json, f.report_data);
    free(other);
    uint8_t rep[1184];
    if (!tg_snp_report(&f, v->pki.leaf_key, rep) ||
        az_tg_hcl(ATLS_AZURE_TEE_SNP, rep, sizeof(rep), v->json, v->hcl) == 0) {
        return 0;
    }
    fake_opts o = {.extra = m->extra != NULL ? m->extra : challenge_,
                   .extra_len = ATLS_CHALLENGE_LEN, .pcr_spec = "sha256:0-7"};
    atls_tpm2_quote q;
    uint8_t *tpm = NULL;
    size_t tpm_len = 0;
    int ok = fake_quote(m->quote_key != NULL ? m->quote_key : v->ak, &o, &q) == 0 &&
             atls_tpm2_quote_encode(&q, &tpm, &tpm_len) == ATLS_OK;
    atls_tpm2_quote_cleanup(&q);
    static const uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ok = ok && atls_azure_evidence_encode(v->hcl, sizeof(v->hcl), tpm, tpm_len,
                                          m->no_certs ? NULL : v->leaf_der, v->leaf_len,
                                          m->with_tdquote ? junk : NULL, sizeof(junk), out,
                                          out_len) == ATLS_OK;
    free(tpm);
    return ok;
}

static atls_error run(vm *v, const uint8_t *ev, size_t len, const uint8_t *challenge,
                      atls_evidence_result *res)
{
    atls_verify_input in = {.challenge = challenge, .trust_anchors = v->anchors,
                            .intermediates = v->inter, .crls = v->crls};
    return atls_azure_verifier_ops.verify(ev, len, &in, res);
}

static const char *claim(const atls_evidence_result *r, const char *a, const char *b)
{
    const json_t *x = json_object_get(r->claims, a);
    return json_string_value(b != NULL ? json_object_get(x, b) : x);
}

static void test_generated_chain(void)
{
    vm v;
    CHECK(vm_new(&v));
    mk m = {0};
    uint8_t *ev = NULL;
    size_t len = 0;
    atls_evidence_result res;
    CHECK(make(&v, &m, &ev, &len));
    CHECK_OK(run(&v, ev, len, challenge_, &res));
    CHECK(strcmp(res.type, "azure") == 0 && res.challenge_checked == 1);
    CHECK(claim(&res, "tee", NULL) != NULL && strcmp(claim(&res, "tee", NULL), "snp") == 0);
    CHECK(claim(&res, "snp", "measurement") != NULL);
    CHECK(json_object_get(json_object_get(res.claims, "tpm2"), "pcrs") != NULL);
    CHECK(json_object_get(json_object_get(res.claims, "runtime_data"), "keys") == NULL);
    CHECK(json_is_object(json_object_get(json_object_get(res.claims, "runtime_data"),
                                         "vm-configuration")));
    CHECK(res.tv.hardware == 2);

    /* a strict policy from the result appraises it affirming; a PCR it does not allow fails */
    json_t *section = NULL;
    CHECK_OK(atls_azure_verifier_ops.policy_from_result(&res, &section));
    json_t *doc = json_pack("{s:i, s:O}", "version", 1, "azure", section);
    char *text = json_dumps(doc, 0);
    atls_policy *pol = NULL;
    CHECK_OK(atls_policy_parse(text, strlen(text), "test", &pol));
    atls_appraisal a;
    atls_verify_input in = {.challenge = challenge_, .trust_anchors = v.anchors,
                            .intermediates = v.inter, .crls = v.crls};
    CHECK_OK(atls_appraise_evidence(&atls_azure_verifier_ops, ev, len, &in, pol, &a));
    CHECK(a.status == ATLS_TIER_AFFIRMING);
    atls_appraisal_cleanup(&a);
    atls_policy_free(pol);
    free(text);
    json_object_set_new(json_object_get(json_object_get(section, "pcrs"), "sha256"), "3",
                        json_pack("[s]", "00000000000000000000000000000000"
                                         "00000000000000000000000000000000"));
    text = json_dumps(doc, 0);
    CHECK_OK(atls_policy_parse(text, strlen(text), "test", &pol));
    CHECK_ERR(atls_appraise_evidence(&atls_azure_verifier_ops, ev, len, &in, pol, &a),
              ATLS_ERR_POLICY_MISMATCH);
    CHECK(strstr(a.reason, "vTPM") != NULL && strstr(a.reason, "PCR sha256:3") != NULL);
    atls_appraisal_cleanup(&a);
    atls_policy_free(pol);
    free(text);
    /* a section without the TEE, or with unknown keys, is refused */
    CHECK_ERR(atls_azure_check_policy(json_object_get(doc, "version")), ATLS_ERR_POLICY_INVALID);
    json_t *bad = json_pack("{s:b}", "any_pcrs", 1);
    CHECK_ERR(atls_azure_check_policy(bad), ATLS_ERR_POLICY_INVALID);
    json_object_set(bad, "snp", json_object_get(section, "snp"));
    json_object_set_new(bad, "pcrs", json_object());
    CHECK_ERR(atls_azure_check_policy(bad), ATLS_ERR_POLICY_INVALID); /* pcrs and any_pcrs */
    json_object_del(bad, "pcrs");
    CHECK_OK(atls_azure_check_policy(bad));
    json_object_set_new(bad, "ak_keys", json_array());
    CHECK_ERR(atls_azure_check_policy(bad), ATLS_ERR_POLICY_INVALID);
    json_decref(bad);
    json_decref(doc);
    json_decref(section);
    atls_evidence_result_cleanup(&res);
    free(ev);

    /* each link broken alone */
    uint8_t wrong[ATLS_CHALLENGE_LEN];
    memset(wrong, 0xee, sizeof(wrong));
    CHECK(make(&v, &m, &ev, &len));
    CHECK_ERR(run(&v, ev, len, wrong, &res), ATLS_ERR_EVIDENCE_NONCE); /* quote's challenge */
    free(ev);
    EVP_PKEY *other = fake_rsa_key();
    m = (mk){.quote_key = other};
    CHECK(make(&v, &m, &ev, &len));
    CHECK_ERR(run(&v, ev, len, challenge_, &res), ATLS_ERR_EVIDENCE_SIGNATURE);
    CHECK(strstr(atls_error_message(), "not signed by the AK in the runtime data") != NULL);
    free(ev);
    EVP_PKEY_free(other);
    EVP_PKEY *ec = fake_key();
    m = (mk){.quote_key = ec};
    CHECK(make(&v, &m, &ev, &len));
    CHECK_ERR(run(&v, ev, len, challenge_, &res), ATLS_ERR_EVIDENCE_SIGNATURE);
    free(ev);
    EVP_PKEY_free(ec);
    m = (mk){.other_json = 1};
    CHECK(make(&v, &m, &ev, &len));
    CHECK_ERR(run(&v, ev, len, challenge_, &res), ATLS_ERR_EVIDENCE_NONCE);
    CHECK(strstr(atls_error_message(), "hash of the runtime data") != NULL);
    free(ev);
    m = (mk){.vmpl = 2};
    CHECK(make(&v, &m, &ev, &len));
    CHECK_ERR(run(&v, ev, len, challenge_, &res), ATLS_ERR_EVIDENCE);
    CHECK(strstr(atls_error_message(), "VMPL 2") != NULL);
    free(ev);
    m = (mk){.no_certs = 1};
    CHECK(make(&v, &m, &ev, &len));
    CHECK_ERR(run(&v, ev, len, challenge_, &res), ATLS_ERR_EVIDENCE_CHAIN); /* no VCEK */
    free(ev);
    m = (mk){.with_tdquote = 1};
    CHECK(make(&v, &m, &ev, &len));
    CHECK_ERR(run(&v, ev, len, challenge_, &res), ATLS_ERR_EVIDENCE_FORMAT);
    free(ev);
    /* a report signed by a VCEK the chain does not reach */
    tg_snp_pki foreign;
    tg_snp_fields f;
    tg_snp_defaults(&f);
    CHECK(tg_snp_pki_new(&foreign, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0",
                         time(NULL) - 86400, time(NULL) + 86400));
    sk_X509_set(v.anchors, 0, foreign.ark);
    m = (mk){0};
    CHECK(make(&v, &m, &ev, &len));
    CHECK_ERR(run(&v, ev, len, challenge_, &res), ATLS_ERR_EVIDENCE_CHAIN);
    free(ev);
    sk_X509_set(v.anchors, 0, v.pki.ark);
    tg_snp_pki_free(&foreign);
    vm_free(&v);
}

static void put32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)x, p[1] = (uint8_t)(x >> 8), p[2] = (uint8_t)(x >> 16),
    p[3] = (uint8_t)(x >> 24);
}

static void test_hcl_parser(void)
{
    EVP_PKEY *ak = fake_rsa_key();
    char *json = az_tg_runtime_json(ak);
    uint8_t hw[1184] = {0}, hcl[AZ_TG_NV_SIZE], bad[AZ_TG_NV_SIZE];
    size_t size = az_tg_hcl(ATLS_AZURE_TEE_SNP, hw, sizeof(hw), json, hcl);
    CHECK(size > 0);
    atls_azure_hcl h;
    CHECK_OK(atls_azure_hcl_parse(hcl, sizeof(hcl), &h));
    CHECK(h.tee == ATLS_AZURE_TEE_SNP && atls_cursor_remaining(&h.runtime_data) == strlen(json));
    CHECK_OK(atls_azure_hcl_parse(hcl, size, &h)); /* without the NV padding */
    json_t *rt = NULL;
    EVP_PKEY *got = NULL;
    CHECK_OK(atls_azure_runtime_parse(&h, &rt, &got));
    CHECK(got != NULL && EVP_PKEY_eq(got, ak) == 1);
    json_decref(rt);
    EVP_PKEY_free(got);
    /* every truncation fails cleanly */
    int all = 1;
    for (size_t n = 0; n < size; n++) {
        all &= atls_azure_hcl_parse(hcl, n, &h) != ATLS_OK;
    }
    CHECK(all);
    CHECK_ERR(atls_azure_hcl_parse(hcl, ATLS_AZURE_MAX_HCL + 1, &h), ATLS_ERR_DECODE_TOO_LARGE);
    static const struct {
        size_t off;
        uint32_t v;
        const char *msg;
    } cases[] = {{0, 0x41434c49, "HCLA"},          {4, 7, "header version"},
                 {16, 1, "status"},                 {8, 99999, "report_size"},
                 {1224, 3, "report_type"},          {1228, 9, "hash_type"},
                 {1232, 0, "variable_data_size"},   {1232, 5000, "variable_data_size"},
                 {1216, 21, "data_size"},           {8, 1237, "report_size"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(bad, hcl, sizeof(bad));
        put32(bad + cases[i].off, cases[i].v);
        atls_error rc = atls_azure_hcl_parse(bad, sizeof(bad), &h);
        CHECK(rc == ATLS_ERR_EVIDENCE_FORMAT && strstr(atls_error_message(), cases[i].msg));
    }
    /* runtime data without the AK, with a second AK, not JSON, with trailing bytes */
    static const char rsa_tiny_modulus[] = "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\","
                                      "\"n\":\"AQAB\",\"e\":\"AQAB\"}]}";
    const char *jsons[] = {"{\"keys\":[]}", "[1]", "{\"keys\":[{\"kid\":\"HCLAkPub\"}]} x",
                           "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"EC\"}]}", rsa_tiny_modulus};
    for (size_t i = 0; i < sizeof(jsons) / sizeof(jsons[0]); i++) {
        CHECK(az_tg_hcl(ATLS_AZURE_TEE_SNP, hw, sizeof(hw), jsons[i], bad) > 0);
        CHECK_OK(atls_azure_hcl_parse(bad, sizeof(bad), &h));
        CHECK_ERR(atls_azure_runtime_parse(&h, &rt, &got), ATLS_ERR_EVIDENCE_FORMAT);
    }
    size_t jl = strlen(json);
    char *two = malloc(2 * jl);
    snprintf(two, 2 * jl, "{\"keys\":[{\"kid\":\"HCLAkPub\"},{\"kid\":\"HCLAkPub\"}]}");
    CHECK(az_tg_hcl(ATLS_AZURE_TEE_SNP, hw, sizeof(hw), two, bad) > 0);
    CHECK_OK(atls_azure_hcl_parse(bad, sizeof(bad), &h));
    CHECK_ERR(atls_azure_runtime_parse(&h, &rt, &got), ATLS_ERR_EVIDENCE_FORMAT);
    CHECK(strstr(atls_error_message(), "two keys") != NULL);
    free(two);

    /* the Evidence map */
    uint8_t *ev = NULL;
    size_t len = 0;
    atls_azure_evidence e;
    CHECK_OK(atls_azure_evidence_encode(hcl, size, hw, 4, NULL, 0, NULL, 0, &ev, &len));
    CHECK_OK(atls_azure_evidence_decode(ev, len, &e));
    CHECK(!e.has_certs && !e.has_tdquote && atls_cursor_remaining(&e.hcl) == size);
    CHECK_ERR(atls_azure_evidence_decode(ev, len - 1, &e), ATLS_ERR_DECODE_TRUNCATED);
    free(ev);
    CHECK_ERR(atls_azure_evidence_encode(hcl, size, hw, 0, NULL, 0, NULL, 0, &ev, &len),
              ATLS_ERR_USAGE);
    static const uint8_t unknown[] = {0xa1, 0x63, 'x', 'y', 'z', 0x41, 0};
    CHECK_ERR(atls_azure_evidence_decode(unknown, sizeof(unknown), &e), ATLS_ERR_EVIDENCE_FORMAT);
    static const uint8_t only_hcl[] = {0xa1, 0x63, 'h', 'c', 'l', 0x41, 0};
    CHECK_ERR(atls_azure_evidence_decode(only_hcl, sizeof(only_hcl), &e),
              ATLS_ERR_EVIDENCE_FORMAT);
    static const uint8_t empty[] = {0xa2, 0x63, 'h', 'c', 'l', 0x40, 0x63, 't', 'p', 'm', 0x41, 0};
    CHECK_ERR(atls_azure_evidence_decode(empty, sizeof(empty), &e), ATLS_ERR_EVIDENCE_FORMAT);
    free(json);
    EVP_PKEY_free(ak);
}

/* ---- the real Azure samples (shared/vectors/azure, trustee's test data) ---- */

static const char *dir_;

/* sample_tpm builds tpm2-quote Evidence from the sample's TPMS_ATTEST, raw RSASSA signature
 * and PCR values. The samples carry the AK only as the runtime data's JWK, so its TPM2B_PUBLIC
 * is DERIVED here from that JWK with the attributes of a restricted RSASSA-SHA256 signing key
 * (the quote's qualifiedSigner only fixes the name algorithm, which the verifier checks). */
static int sample_tpm(EVP_PKEY *ak, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                      size_t sig_len, const json_t *pcrs, uint8_t **out, size_t *out_len)
{
    atls_tpm2_quote q;
    memset(&q, 0, sizeof(q));
    int ok = fake_public(ak, 0x00050072u, &q.ak_public) == 0 &&
             atls_buf_set(&q.attest, msg, msg_len) == ATLS_OK;
    uint8_t s[4 + 2 + 512] = {0x00, 0x14, 0x00, 0x0b, (uint8_t)(sig_len >> 8), (uint8_t)sig_len};
    memcpy(s + 6, sig, sig_len);
    ok = ok && atls_buf_set(&q.sig, s, 6 + sig_len) == ATLS_OK;
    q.pcrs = calloc(24, sizeof(*q.pcrs));
    for (size_t i = 0; ok && i < json_array_size(pcrs) && i < 24; i++) {
        const char *hex = json_string_value(json_array_get(pcrs, i));
        q.pcrs[i].alg = ATLS_TPM2_ALG_SHA256;
        q.pcrs[i].index = (uint8_t)i;
        q.pcrs[i].digest_len = 32;
        for (size_t k = 0; hex != NULL && k < 32; k++) {
            unsigned b = 0;
            ok = ok && sscanf(hex + 2 * k, "%2x", &b) == 1;
            q.pcrs[i].digest[k] = (uint8_t)b;
        }
        q.num_pcrs++;
    }
    ok = ok && atls_tpm2_quote_encode(&q, out, out_len) == ATLS_OK;
    atls_tpm2_quote_cleanup(&q);
    return ok;
}

static uint8_t *unhex_member(const json_t *o, const char *k, size_t *len)
{
    const char *h = json_string_value(json_object_get(o, k));
    size_t n = h != NULL ? strlen(h) / 2 : 0;
    uint8_t *b = malloc(n + 1);
    for (size_t i = 0; b != NULL && i < n; i++) {
        unsigned x = 0;
        if (sscanf(h + 2 * i, "%2x", &x) != 1) {
            free(b);
            return NULL;
        }
        b[i] = (uint8_t)x;
    }
    *len = n;
    return b;
}

/* shared_evidence assembles atls Evidence from one sample set. */
static int shared_evidence(const char *flavour, uint8_t **hcl_out, size_t *hcl_len, uint8_t **out,
                           size_t *out_len)
{
    char name[96];
    snprintf(name, sizeof(name), "trustee_az-%s-vtpm_hcl-report.bin", flavour);
    size_t hl = 0, jl = 0, ml = 0, sl = 0, certs_len = 0, tdl = 0, qexact = 0;
    uint8_t *hcl = test_vector_read(dir_, "azure", name, &hl);
    /* the quote that goes with hcl-report.bin: SNP quote.bin (bincode: signature, message,
     * PCRs, each with a u64le count), TDX evidence-v1.json's tpm_quote (hex) */
    json_t *j = NULL;
    char *jtext = NULL;
    if (strcmp(flavour, "snp") == 0) {
        uint8_t *qb = test_vector_read(dir_, "azure", "trustee_az-snp-vtpm_quote.bin", &jl);
        j = json_pack("{s:{s:s,s:s,s:[]}}", "tpm_quote", "message", "", "signature", "", "pcrs");
        if (qb != NULL && jl == 8 + 256 + 8 + 122 + 8 + 24 * 32) {
            char hex[2 * 256 + 1];
            for (size_t i = 0; i < 256; i++) {
                snprintf(hex + 2 * i, 3, "%02x", qb[8 + i]);
            }
            json_object_set_new(json_object_get(j, "tpm_quote"), "signature", json_string(hex));
            for (size_t i = 0; i < 122; i++) {
                snprintf(hex + 2 * i, 3, "%02x", qb[8 + 256 + 8 + i]);
            }
            json_object_set_new(json_object_get(j, "tpm_quote"), "message", json_string(hex));
            for (size_t k = 0; k < 24; k++) {
                for (size_t i = 0; i < 32; i++) {
                    snprintf(hex + 2 * i, 3, "%02x", qb[8 + 256 + 8 + 122 + 8 + 32 * k + i]);
                }
                json_array_append_new(json_object_get(json_object_get(j, "tpm_quote"), "pcrs"),
                                      json_string(hex));
            }
        }
        free(qb);
    } else {
        jtext = (char *)test_vector_read(dir_, "azure", "trustee_az-tdx-vtpm_evidence-v1.json",
                                         &jl);
        j = jtext != NULL ? json_loadb(jtext, jl, 0, NULL) : NULL;
    }
    const json_t *tq = json_object_get(j, "tpm_quote");
    uint8_t *msg = unhex_member(tq, "message", &ml), *sig = unhex_member(tq, "signature", &sl);
    atls_azure_hcl h;
    json_t *rt = NULL;
    EVP_PKEY *ak = NULL;
    uint8_t *tpm = NULL, *certs = NULL, *td = NULL;
    size_t tpm_len = 0;
    int ok = hcl != NULL && msg != NULL && sig != NULL &&
             atls_azure_hcl_parse(hcl, hl, &h) == ATLS_OK &&
             atls_azure_runtime_parse(&h, &rt, &ak) == ATLS_OK &&
             sample_tpm(ak, msg, ml, sig, sl, json_object_get(tq, "pcrs"), &tpm, &tpm_len);
    if (ok && strcmp(flavour, "snp") == 0) {
        /* the VCEK PEM of the sample, as DER */
        size_t pl = 0;
        char *pem = (char *)test_vector_read(dir_, "azure", "trustee_az-snp-vtpm_vcek.pem", &pl);
        BIO *bio = pem != NULL ? BIO_new_mem_buf(pem, (int)pl) : NULL;
        X509 *vcek = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        int n = vcek != NULL ? i2d_X509(vcek, &certs) : -1;
        certs_len = n > 0 ? (size_t)n : 0;
        ok = certs_len > 0;
        X509_free(vcek);
        BIO_free(bio);
        free(pem);
    } else if (ok) {
        td = test_vector_read(dir_, "tdx", "trustee_az-tdx-vtpm_td-quote.bin", &tdl);
        ok = td != NULL && atls_tdx_quote_length(td, tdl, &qexact) == ATLS_OK;
    }
    ok = ok && atls_azure_evidence_encode(hcl, hl, tpm, tpm_len, certs, certs_len, td, qexact, out,
                                          out_len) == ATLS_OK;
    *hcl_out = hcl;
    *hcl_len = hl;
    OPENSSL_free(certs);
    free(td);
    free(tpm);
    EVP_PKEY_free(ak);
    json_decref(rt);
    free(msg);
    free(sig);
    json_decref(j);
    free(jtext);
    return ok;
}

static STACK_OF(X509) *pem_stack(const char *subdir, const char *name)
{
    size_t len = 0;
    char *pem = (char *)test_vector_read(dir_, subdir, name, &len);
    STACK_OF(X509) *st = sk_X509_new_null();
    BIO *bio = pem != NULL ? BIO_new_mem_buf(pem, (int)len) : NULL;
    X509 *x;
    while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        sk_X509_push(st, x);
    }
    BIO_free(bio);
    free(pem);
    return st;
}

static void test_shared_snp(void)
{
    uint8_t *hcl = NULL, *ev = NULL;
    size_t hl = 0, len = 0;
    CHECK(shared_evidence("snp", &hcl, &hl, &ev, &len));
    STACK_OF(X509) *bundle = pem_stack("sev-snp", "gosevguest_ask_ark_milan.pem");
    CHECK(sk_X509_num(bundle) == 2);
    STACK_OF(X509) *anchors = sk_X509_new_null(), *inter = sk_X509_new_null();
    sk_X509_push(inter, sk_X509_value(bundle, 0));
    sk_X509_push(anchors, sk_X509_value(bundle, 1));
    atls_verify_input in = {.trust_anchors = anchors, .intermediates = inter};
    atls_evidence_result res;
    CHECK_OK(atls_azure_verifier_ops.verify(ev, len, &in, &res));
    CHECK(claim(&res, "tee", NULL) != NULL && strcmp(claim(&res, "tee", NULL), "snp") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(res.claims, "snp"), "vmpl")) == 0);
    /* no ARK CRL given: revocation unchecked, so the SNP verifier claims no hardware tier */
    CHECK(res.challenge_checked == 0 && res.tv.hardware == 0);
    const json_t *vmc = json_object_get(json_object_get(res.claims, "runtime_data"),
                                        "vm-configuration");
    CHECK(json_is_string(json_object_get(vmc, "vmUniqueId")) &&
          strcmp(json_string_value(json_object_get(vmc, "vmUniqueId")),
                 "911B0EF8-9DBA-48B0-B275-4E4DF2D39252") == 0);
    atls_evidence_result_cleanup(&res);
    /* the sample's quote is over "challenge", so any 64-byte challenge fails */
    uint8_t ch[ATLS_CHALLENGE_LEN] = {0};
    in.challenge = ch;
    CHECK_ERR(atls_azure_verifier_ops.verify(ev, len, &in, &res), ATLS_ERR_EVIDENCE_NONCE);
    in.challenge = NULL;
    /* a runtime-data byte changed: REPORT_DATA no longer matches (AK untouched: byte in
     * "vm-configuration") */
    uint8_t *copy = malloc(len);
    memcpy(copy, ev, len);
    uint8_t *p = memmem(copy, len, "console-enabled\":true", 21);
    CHECK(p != NULL);
    if (p != NULL) {
        memcpy(p + 17, "TRUE", 4);
        CHECK_ERR(atls_azure_verifier_ops.verify(copy, len, &in, &res), ATLS_ERR_EVIDENCE_FORMAT);
        memcpy(p + 17, "true", 4);
        p[0] = 'C'; /* "Console-enabled": still JSON, other hash */
        CHECK_ERR(atls_azure_verifier_ops.verify(copy, len, &in, &res), ATLS_ERR_EVIDENCE_NONCE);
        p[0] = 'c';
    }
    /* the SNP report's signature (a byte of the measurement) */
    p = memmem(copy, len, hcl, 64);
    CHECK(p != NULL);
    if (p != NULL) {
        p[32 + 0x90] ^= 1;
        CHECK_ERR(atls_azure_verifier_ops.verify(copy, len, &in, &res),
                  ATLS_ERR_EVIDENCE_SIGNATURE);
        p[32 + 0x90] ^= 1;
        p[32 + 0x30] = 1; /* VMPL 1 */
        CHECK_ERR(atls_azure_verifier_ops.verify(copy, len, &in, &res), ATLS_ERR_EVIDENCE);
        CHECK(strstr(atls_error_message(), "VMPL 1") != NULL);
    }
    free(copy);
    sk_X509_free(anchors);
    sk_X509_free(inter);
    sk_X509_pop_free(bundle, X509_free);
    free(hcl);
    free(ev);
}

static void test_shared_tdx(void)
{
    uint8_t *hcl = NULL, *ev = NULL;
    size_t hl = 0, len = 0;
    CHECK(shared_evidence("tdx", &hcl, &hl, &ev, &len));
    STACK_OF(X509) *anchors = pem_stack("tdx", "gotdxguest_trusted_root.pem");
    atls_verify_input in = {.trust_anchors = anchors};
    atls_evidence_result res;
    CHECK_OK(atls_azure_verifier_ops.verify(ev, len, &in, &res));
    CHECK(claim(&res, "tee", NULL) != NULL && strcmp(claim(&res, "tee", NULL), "tdx") == 0);
    CHECK(claim(&res, "tdx", "mrtd") != NULL);
    atls_evidence_result_cleanup(&res);
    /* the TDREPORT in the HCL report is not signed: only its agreement with the quote counts */
    uint8_t *copy = malloc(len);
    memcpy(copy, ev, len);
    uint8_t *p = memmem(copy, len, hcl, 64);
    CHECK(p != NULL);
    if (p != NULL) {
        p[32 + 528] ^= 1; /* TDINFO.mrtd */
        CHECK_ERR(atls_azure_verifier_ops.verify(copy, len, &in, &res), ATLS_ERR_EVIDENCE);
        CHECK(strstr(atls_error_message(), "mrtd differs") != NULL);
        p[32 + 528] ^= 1;
        p[32 + 128] ^= 1; /* REPORTMACSTRUCT.reportdata */
        CHECK_ERR(atls_azure_verifier_ops.verify(copy, len, &in, &res), ATLS_ERR_EVIDENCE_NONCE);
    }
    free(copy);
    sk_X509_pop_free(anchors, X509_free);
    free(hcl);
    free(ev);
}

int main(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof(challenge_); i++) {
        challenge_[i] = (uint8_t)(0x40 + i);
    }
    if (test_shared_mode(argc, argv)) {
        dir_ = test_shared_vectors("azure/trustee_az-snp-vtpm_hcl-report.bin");
        test_shared_snp();
        test_shared_tdx();
        return check_summary();
    }
    test_hcl_parser();
    test_generated_chain();
    return check_summary();
}
