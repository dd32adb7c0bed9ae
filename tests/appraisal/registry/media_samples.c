/* media_samples: writes one sample of every atls media type, made by atls's own encoders (the
 * tpm2 map, the sim attester, the tsm report, CMW records and collections) around payloads of
 * the test generators for the verifier-only types (SNP, TDX, CCA), plus a manifest for
 * cddl_check.py: which CDDL rule of docs/EVIDENCE.md each file must match, and every media
 * type the registry lists. Usage: media_samples OUTDIR. */
#include "check.h"
#include "codec/cmw/cmw.h"
#include "evidence/batch/batch.h"
#include "evidence/sim/sim.h"
#include "evidence/cca/cca.h"
#include "evidence/snp/snp.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tpm2/tpm2.h"
#include "evidence/tsm/tsm.h"
#include "evidence/azure/azure.h"
#include "testcert.h"

#include "cca_testgen.h"
#include "snp_testgen.h"
#include "tdx_testgen.h"
#include "tpm2_fake.h"

#include <atls/evidence.h>

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The registry's enumerators (src/appraisal/registry/registry.c). */
const atls_verifier_ops *atls_verifier_at(size_t i);
const atls_attester_ops *atls_attester_at(size_t i);

static const char *outdir;
static FILE *manifest;

/* sample writes |data| to OUTDIR/NAME and records that it must match |rule| ("det": and be in
 * deterministic encoding). */
static void sample(const char *rule, int det, const char *name, const uint8_t *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(data, 1, len, f) == len);
    if (f != NULL) {
        CHECK(fclose(f) == 0);
    }
    fprintf(manifest, "sample %s %s %s\n", rule, det ? "det" : "any", path);
}

/* record wraps |value| into a CMW record of |media_type| (ind: Evidence) as the session does. */
static void record(const char *rule, const char *name, const char *media_type,
                   const uint8_t *value, size_t len)
{
    uint8_t *cmw = NULL;
    size_t cmw_len = 0;
    CHECK_OK(atls_cmw_encode_record(media_type, value, len, ATLS_CMW_IND_EVIDENCE, &cmw,
                                    &cmw_len));
    if (cmw != NULL) {
        sample(rule, 1, name, cmw, cmw_len);
    }
    free(cmw);
}

static void samples_tpm2(uint8_t **first, size_t *first_len)
{
    static const char *const specs[] = {NULL, "sha256:0,23+sha1:7",
                                        "sha1:0+sha256:1+sha384:2+sha512:3,31"};
    testcert *ca = NULL;
    CHECK_OK(testcert_ca_new("atls test AK CA", &ca));
    for (size_t i = 0; i < 4; i++) {
        EVP_PKEY *key = fake_key();
        uint8_t ch[64];
        memset(ch, (int)i, sizeof(ch));
        fake_opts fo = {.extra = ch, .extra_len = 64, .pcr_spec = specs[i % 3]};
        atls_tpm2_quote q;
        CHECK(fake_quote(key, &fo, &q) == 0);
        if (i == 3 && ca != NULL) { /* with an AK certificate (any DER certificate will do) */
            uint8_t *der = NULL;
            int n = i2d_X509(ca->cert, &der);
            CHECK(n > 0 && atls_buf_set(&q.ak_cert, der, (size_t)n) == ATLS_OK);
            OPENSSL_free(der);
        }
        uint8_t *enc = NULL;
        size_t len = 0;
        CHECK_OK(atls_tpm2_quote_encode(&q, &enc, &len));
        char name[40];
        snprintf(name, sizeof(name), "tpm2-quote-%zu.cbor", i);
        sample("tpm2-quote", 1, name, enc, len);
        snprintf(name, sizeof(name), "tpm2-record-%zu.cbor", i);
        record("tpm2-record", name, ATLS_TPM2_MEDIA_TYPE, enc, len);
        if (i == 0) {
            *first = enc;
            *first_len = len;
        } else {
            free(enc);
        }
        atls_tpm2_quote_cleanup(&q);
        EVP_PKEY_free(key);
    }
    testcert_free(ca);
}

/* samples_sim runs the sim attester plug-in itself (key and measurements files, produce). */
static void samples_sim(uint8_t **first, size_t *first_len)
{
    char key_path[512], meas_path[512], key_cfg[530], meas_cfg[540];
    snprintf(key_path, sizeof(key_path), "%s/sim.key", outdir);
    snprintf(meas_path, sizeof(meas_path), "%s/meas.json", outdir);
    EVP_PKEY *key = NULL;
    CHECK_OK(testcert_key_new(TESTCERT_P256, &key));
    FILE *f = fopen(key_path, "w");
    CHECK(f != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    if (f != NULL) {
        fclose(f);
    }
    EVP_PKEY_free(key);
    f = fopen(meas_path, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fprintf(f, "{\"firmware\": \"%064d\", \"kernel\": \"%096d\"}\n", 1, 2);
        fclose(f);
    }
    snprintf(key_cfg, sizeof(key_cfg), "key=%s", key_path);
    snprintf(meas_cfg, sizeof(meas_cfg), "measurements=%s", meas_path);
    const char *const with_meas[] = {key_cfg, meas_cfg, NULL};
    const char *const without[] = {key_cfg, NULL};
    const char *const *cfgs[] = {with_meas, without};
    const atls_attester_ops *ops = atls_attester_ops_by_name("sim");
    CHECK(ops != NULL && strcmp(ops->media_type, ATLS_SIM_MEDIA_TYPE) == 0);
    for (size_t i = 0; ops != NULL && i < 2; i++) {
        void *st = NULL;
        CHECK_OK(ops->create(cfgs[i], &st));
        if (st == NULL) {
            continue;
        }
        uint8_t ch[ATLS_CHALLENGE_LEN];
        memset(ch, 0x42, sizeof(ch));
        uint8_t *ev = NULL;
        size_t len = 0;
        CHECK_OK(ops->produce(st, ch, &ev, &len));
        char name[40];
        snprintf(name, sizeof(name), "sim-evidence-%zu.cbor", i);
        sample("sim-evidence", 0, name, ev, len);
        snprintf(name, sizeof(name), "sim-record-%zu.cbor", i);
        record("sim-record", name, ops->media_type, ev, len);
        if (i == 0) {
            *first = ev;
            *first_len = len;
        } else {
            free(ev);
        }
        ops->destroy(st);
    }
}

static void samples_snp_tdx_tsm(void)
{
    tg_snp_fields f;
    tg_snp_defaults(&f);
    time_t now = time(NULL);
    tg_snp_pki pki;
    CHECK(tg_snp_pki_new(&pki, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0", now - 3600,
                         now + 86400));
    uint8_t rep[ATLS_SNP_REPORT_LEN];
    CHECK(tg_snp_report(&f, pki.leaf_key, rep));
    record("snp-record", "snp-record.cbor", ATLS_SNP_MEDIA_TYPE, rep, sizeof(rep));
    uint8_t *der = NULL;
    int der_len = i2d_X509(pki.leaf, &der);
    CHECK(der_len > 0);
    uint8_t *tsm = NULL;
    size_t tsm_len = 0;
    /* the auxblob is carried as bytes: its table layout is the verifier's business */
    CHECK_OK(atls_tsm_report_encode(rep, sizeof(rep), "sev_guest", der, (size_t)der_len, &tsm,
                                    &tsm_len));
    sample("tsm-report", 1, "tsm-report-sev.cbor", tsm, tsm_len);
    record("tsm-record", "tsm-record-sev.cbor", ATLS_TSM_MEDIA_TYPE, tsm, tsm_len);
    free(tsm);

    /* azure: an HCL-shaped blob (its layout is the verifier's business) and a tpm2 map */
    uint8_t hcl[1300];
    memset(hcl, 0x11, sizeof(hcl));
    uint8_t *q = NULL, *az = NULL;
    size_t q_len = 0, az_len = 0;
    EVP_PKEY *ak = fake_rsa_key();
    fake_opts fo = {.extra = rep, .extra_len = 64};
    atls_tpm2_quote tq;
    CHECK(ak != NULL && fake_quote(ak, &fo, &tq) == 0);
    CHECK_OK(atls_tpm2_quote_encode(&tq, &q, &q_len));
    CHECK_OK(atls_azure_evidence_encode(hcl, sizeof(hcl), q, q_len, der, (size_t)der_len, NULL, 0,
                                        &az, &az_len));
    sample("azure-vtpm", 1, "azure-vtpm.cbor", az, az_len);
    record("azure-record", "azure-record.cbor", ATLS_AZURE_MEDIA_TYPE, az, az_len);
    atls_tpm2_quote_cleanup(&tq);
    EVP_PKEY_free(ak);
    free(q);
    free(az);
    OPENSSL_free(der);
    tg_snp_pki_free(&pki);

    static const uint8_t fmspc[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
    static const uint8_t comp[16] = {5, 5, 2, 2, 3, 1, 0, 3};
    tg_tdx_pki tpki;
    CHECK(tg_tdx_pki_new(&tpki, fmspc, comp, 11));
    tg_tdx_fields tf;
    tg_tdx_defaults(&tf);
    size_t qlen = 0, chain_off = 0;
    uint8_t *quote = tg_tdx_quote(&tpki, &tf, &qlen, &chain_off);
    CHECK(quote != NULL);
    if (quote != NULL) {
        record("tdx-record", "tdx-record.cbor", ATLS_TDX_MEDIA_TYPE, quote, qlen);
        CHECK_OK(atls_tsm_report_encode(quote, qlen, "tdx_guest\n", NULL, 0, &tsm, &tsm_len));
        sample("tsm-report", 1, "tsm-report-tdx.cbor", tsm, tsm_len);
        record("tsm-record", "tsm-record-tdx.cbor", ATLS_TSM_MEDIA_TYPE, tsm, tsm_len);
        free(tsm);
        free(quote);
    }
    tg_tdx_pki_free(&tpki);
}

static void samples_cca(void)
{
    EVP_PKEY *cpak = tg_cca_key_new("P-384"), *rak = tg_cca_key_new("P-384");
    CHECK(cpak != NULL && rak != NULL);
    for (int cose_key = 0; cose_key < 2; cose_key++) {
        tg_cca_fields f;
        tg_cca_defaults(&f);
        f.cose_key = cose_key;
        size_t len = 0;
        uint8_t *token = tg_cca_token(&f, cpak, rak, &len);
        CHECK(token != NULL);
        if (token == NULL) {
            continue;
        }
        char name[40];
        snprintf(name, sizeof(name), "cca-token-%d.cbor", cose_key);
        sample("cca-token", 0, name, token, len);
        snprintf(name, sizeof(name), "cca-record-%d.cbor", cose_key);
        record("cca-record", name, ATLS_CCA_MEDIA_TYPE, token, len);
        free(token);
    }
    EVP_PKEY_free(cpak);
    EVP_PKEY_free(rak);
}

/* samples_shared lists the third-party CCA tokens, read where they are (never copied): the
 * CDDL fits real ones too. Returns 77 (skipped) when the shared vectors are absent; a token
 * missing from a present folder is a failure (the vector set changed under the test). */
static int samples_shared(void)
{
    static const char *const shared[] = {"ccatoken_tfrmm_cca_token.cbor",
                                         "rustccatoken_cca-token-draft-ffm-00.cbor",
                                         "trustee_cca-example-token.cbor"};
    const char *dir = getenv("ATLS_SHARED_VECTORS");
    char path[600];
    snprintf(path, sizeof(path), "%s/cca", dir != NULL ? dir : "");
    FILE *probe = dir != NULL ? fopen(path, "r") : NULL;
    if (probe == NULL) {
        printf("SKIPPED: no shared vectors at %s\n",
               dir != NULL ? path : "(ATLS_SHARED_VECTORS unset)");
        return 77;
    }
    fclose(probe);
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
        snprintf(path, sizeof(path), "%s/cca/%s", dir, shared[i]);
        FILE *f = fopen(path, "rb");
        CHECK(f != NULL);
        if (f == NULL) {
            fprintf(stderr, "shared CCA token %s is missing\n", path);
            continue;
        }
        fclose(f);
        fprintf(manifest, "sample cca-token any %s\n", path);
    }
    return 0;
}

static void samples_collection(const uint8_t *tpm2, size_t tpm2_len, const uint8_t *sim,
                               size_t sim_len)
{
    const atls_cmw_entry entries[] = {
        {"tpm", ATLS_TPM2_MEDIA_TYPE, tpm2, tpm2_len, ATLS_CMW_IND_EVIDENCE},
        {"sim", ATLS_SIM_MEDIA_TYPE, sim, sim_len, 0},
    };
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK_OK(atls_cmw_encode_collection("tag:atls.invalid,2026:test", entries, 2, &out, &len));
    sample("atls-cmw-collection", 0, "cmw-collection-typed.cbor", out, len);
    free(out);
    CHECK_OK(atls_cmw_encode_collection(NULL, entries, 1, &out, &len));
    sample("atls-cmw", 0, "cmw-collection.cbor", out, len);
    free(out);
}

/* samples_batch: batched sim Evidence as the batcher wraps it, trees of 1 and 5 */
static void samples_batch(const uint8_t *sim, size_t sim_len)
{
    atls_merkle_hash leaves[5];
    memset(leaves, 0x5a, sizeof(leaves));
    for (size_t n = 1; n <= 5; n += 4) {
        atls_merkle_tree t;
        CHECK_OK(atls_merkle_tree_build(leaves, n, &t));
        atls_merkle_hash path[ATLS_BATCH_MAX_PATH];
        size_t len = 0;
        CHECK_OK(atls_merkle_tree_path(&t, n - 1, path, &len));
        uint8_t *w = NULL;
        size_t w_len = 0;
        CHECK_OK(atls_batch_encode(ATLS_SIM_MEDIA_TYPE, sim, sim_len, n, n - 1, path, len, &w,
                                   &w_len));
        char name[40];
        snprintf(name, sizeof(name), "batch-evidence-%zu.cbor", n);
        if (w != NULL) {
            sample("batch-evidence", 1, name, w, w_len);
            snprintf(name, sizeof(name), "batch-record-%zu.cbor", n);
            record("batch-record", name, ATLS_BATCH_MEDIA_TYPE, w, w_len);
        }
        free(w);
        atls_merkle_tree_cleanup(&t);
    }
}

int main(int argc, char **argv)
{
    int shared = argc == 3 && strcmp(argv[2], "--shared") == 0;
    if (argc != 2 && !shared) {
        fprintf(stderr, "usage: %s OUTDIR [--shared]\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    char path[512];
    snprintf(path, sizeof(path), "%s/manifest", outdir);
    manifest = fopen(path, "w");
    if (manifest == NULL) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    /* the real tokens alone: the registry's own samples are the other test's */
    if (shared) {
        int rc = samples_shared();
        CHECK(fclose(manifest) == 0);
        return rc == 77 ? 77 : check_summary();
    }
    for (size_t i = 0; atls_verifier_at(i) != NULL; i++) {
        fprintf(manifest, "media-type verifier %s %s\n", atls_verifier_at(i)->name,
                atls_verifier_at(i)->media_type);
    }
    for (size_t i = 0; atls_attester_at(i) != NULL; i++) {
        fprintf(manifest, "media-type attester %s %s\n", atls_attester_at(i)->name,
                atls_attester_at(i)->media_type);
    }
    /* the batcher's wrapper (atls/batch.h) is neither, but rides in the CMW all the same */
    fprintf(manifest, "media-type wrapper %s %s\n", atls_batcher_ops()->name,
            atls_batcher_ops()->media_type);
    uint8_t *tpm2 = NULL, *sim = NULL;
    size_t tpm2_len = 0, sim_len = 0;
    samples_tpm2(&tpm2, &tpm2_len);
    samples_sim(&sim, &sim_len);
    samples_snp_tdx_tsm();
    samples_cca();
    if (tpm2 != NULL && sim != NULL) {
        samples_collection(tpm2, tpm2_len, sim, sim_len);
    }
    if (sim != NULL) {
        samples_batch(sim, sim_len);
    }
    free(tpm2);
    free(sim);
    CHECK(fclose(manifest) == 0);
    return check_summary();
}
