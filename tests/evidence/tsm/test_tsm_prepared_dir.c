/* test_tsm_prepared_dir.c: the configfs-tsm attester against a PREPARED DIRECTORY, not a
 * kernel: a plain temp directory stands in for /sys/kernel/config/tsm/report and a hook plays
 * the kernel's part (creates provider/generation/inblob when the entry is made, writes outblob
 * and auxblob from the inblob, built from the generated SNP/TDX/CCA vectors signed by test
 * CAs/keys). Also: the tsm report codec, the SNP certificate table and the tsm verifier's
 * dispatch and policy. */
#include "cca_testgen.h"
#include "check.h"
#include "snp_testgen.h"
#include "tdx_testgen.h"
#include "tsm_testgen.h"

#include "appraisal/appraise/appraisal_internal.h"
#include "base/file.h"
#include "base/writer.h"
#include "codec/cbor/cbor.h"
#include "session_fixture.h"
#include "evidence/tsm/tsm.h"

#include <atls/appraisal.h>
#include <atls/policy.h>

#include "testcrl.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum kind { K_SNP = TSM_TG_SNP, K_TDX = TSM_TG_TDX, K_CCA = TSM_TG_CCA };

/* The simulated kernel side of one provider. */
typedef struct fake {
    enum kind kind;
    int no_outblob;      /* do not produce outblob */
    int race;            /* bump generation between the reads */
    int with_auxblob;    /* SNP: write the certificate table */
    char privlevel[8];   /* what the attester wrote to privlevel, if anything */
    tg_snp_pki snp;
    tg_tdx_pki tdx;
    EVP_PKEY *cpak, *rak;
    STACK_OF(X509_CRL) *snp_crls, *tdx_crls; /* the revocation inputs a relying party has */
} fake;

static int put_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return 0;
    }
    int ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* produce_blob: the evidence the "kernel" returns for report data |rd|. */
static uint8_t *produce_blob(fake *f, const uint8_t rd[64], size_t *len)
{
    tsm_tg g = {.kind = (tsm_tg_kind)f->kind, .snp = &f->snp, .tdx = &f->tdx, .cpak = f->cpak,
                .rak = f->rak};
    return tsm_tg_outblob(&g, rd, -1, len);
}

static atls_error fake_kernel(void *arg, const char *dir, atls_tsm_stage stage)
{
    fake *f = arg;
    const char *prov = tsm_tg_provider((tsm_tg_kind)f->kind);
    if (stage == ATLS_TSM_STAGE_CREATED) {
        /* configfs makes the attributes appear with the entry; the generation count shown
         * here is the one after the attester's inblob write */
        int ok = put_file(dir, "inblob", "", 0) && put_file(dir, "privlevel", "", 0) &&
                 put_file(dir, "provider", prov, strlen(prov)) &&
                 put_file(dir, "generation", "1\n", 2);
        return ok ? ATLS_OK : ATLS_ERR_IO_FILE;
    }
    if (stage == ATLS_TSM_STAGE_WRITTEN) {
        char path[PATH_MAX];
        uint8_t *in = NULL, *pl = NULL;
        size_t inlen = 0, pllen = 0;
        snprintf(path, sizeof(path), "%s/inblob", dir);
        if (atls_file_read(path, 0, &in, &inlen) != ATLS_OK || inlen != 64) {
            free(in);
            return ATLS_ERR_IO_FILE;
        }
        snprintf(path, sizeof(path), "%s/privlevel", dir);
        if (atls_file_read(path, 0, &pl, &pllen) == ATLS_OK && pllen < sizeof(f->privlevel)) {
            memcpy(f->privlevel, pl, pllen);
            f->privlevel[pllen] = '\0';
        }
        free(pl);
        size_t blen = 0;
        uint8_t *blob = produce_blob(f, in, &blen);
        free(in);
        int ok = blob != NULL && (f->no_outblob || put_file(dir, "outblob", blob, blen));
        free(blob);
        if (ok && f->kind == K_SNP && f->with_auxblob) {
            size_t tlen = 0;
            uint8_t *t = tg_snp_cert_table(&f->snp, &tlen);
            ok = t != NULL && put_file(dir, "auxblob", t, tlen);
            free(t);
        }
        return ok ? ATLS_OK : ATLS_ERR_IO_FILE;
    }
    if (stage == ATLS_TSM_STAGE_READ && f->race) {
        return put_file(dir, "generation", "2\n", 2) ? ATLS_OK : ATLS_ERR_IO_FILE;
    }
    if (stage == ATLS_TSM_STAGE_REMOVING) {
        static const char *const names[] = {"inblob", "outblob", "auxblob", "provider",
                                            "generation", "privlevel"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
            unlink(path);
        }
    }
    return ATLS_OK;
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    if (d != NULL) {
        closedir(d);
    }
    return d != NULL && n == 0;
}

/* verify_input: what a relying party configures for |f|'s kind. *anchors is the caller's. */
static void verify_input(fake *f, const uint8_t *chal, atls_verify_input *in,
                         STACK_OF(X509) **anchors, EVP_PKEY **keys)
{
    memset(in, 0, sizeof(*in));
    in->challenge = chal;
    *anchors = sk_X509_new_null();
    keys[0] = f->cpak;
    if (f->kind == K_SNP) {
        sk_X509_push(*anchors, f->snp.ark); /* ARK only: VCEK and ASK come from auxblob */
        in->crls = f->snp_crls;
    } else if (f->kind == K_TDX) {
        sk_X509_push(*anchors, f->tdx.root);
        in->crls = f->tdx_crls;
    } else {
        in->trusted_keys = keys;
        in->num_trusted_keys = 1;
    }
    in->trust_anchors = *anchors;
}

static atls_error verify(fake *f, const uint8_t *ev, size_t len, const uint8_t *chal,
                         atls_evidence_result *res)
{
    atls_verify_input in;
    STACK_OF(X509) *anchors = NULL;
    EVP_PKEY *keys[1];
    verify_input(f, chal, &in, &anchors, keys);
    atls_error rc = atls_tsm_verifier_ops.verify(ev, len, &in, res);
    sk_X509_free(anchors);
    return rc;
}

static char root_[PATH_MAX];

static void test_end_to_end(fake *f, const char *name, const char *type)
{
    printf("-- prepared dir, provider %s\n", name);
    uint8_t chal[64];
    for (int i = 0; i < 64; i++) {
        chal[i] = (uint8_t)(i * 7 + 1);
    }
    atls_tsm_config cfg = {.root = root_, .privlevel = -1};
    uint8_t *ev = NULL;
    size_t len = 0;
    CHECK_OK(atls_tsm_attest(&cfg, chal, fake_kernel, f, &ev, &len));
    CHECK(dir_is_empty(root_));
    atls_tsm_report rep;
    CHECK_OK(atls_tsm_report_decode(ev, len, &rep));
    CHECK(strcmp(rep.provider, name) == 0);
    CHECK(rep.has_auxblob == (f->kind == K_SNP && f->with_auxblob));
    atls_evidence_result res;
    CHECK_OK(verify(f, ev, len, chal, &res));
    CHECK(res.challenge_checked == 1);
    CHECK(res.claims != NULL && strcmp(json_string_value(json_object_get(res.claims, "provider")),
                                       name) == 0);
    CHECK(res.claims != NULL &&
          strcmp(json_string_value(json_object_get(res.claims, "evidence_type")), type) == 0);
    CHECK(res.type != NULL && strcmp(res.type, "tsm") == 0);
    /* policy: the wrapped type's own section appraises it */
    CHECK(res.policy_type != NULL && strcmp(res.policy_type, type) == 0);
    json_t *gen = NULL;
    CHECK_OK(atls_tsm_verifier_ops.policy_from_result(&res, &gen));
    if (strcmp(type, "tdx") == 0) {
        /* no TCB Info here: accepting an unevaluated TCB is the policy's explicit choice */
        json_object_set_new(gen, "allowed_tcb_statuses", json_pack("[s]", "NotEvaluated"));
    }
    const atls_verifier_ops *inner = atls_verifier_by_name(type);
    CHECK(inner != NULL && inner->check_policy(gen) == ATLS_OK);
    atls_trust_vector tv;
    memset(&tv, 0, sizeof(tv));
    CHECK_OK(atls_tsm_verifier_ops.appraise(gen, &res, &tv));
    /* and through the pipeline, with the section at the top level of a policy document */
    json_t *doc = json_object();
    json_object_set_new(doc, "version", json_integer(1));
    json_object_set(doc, type, gen);
    char *text = json_dumps(doc, 0);
    atls_policy *policy = NULL;
    CHECK_OK(atls_policy_parse(text, strlen(text), "tsm-test", &policy));
    free(text);
    json_decref(doc);
    if (policy != NULL) {
        atls_verify_input in;
        STACK_OF(X509) *anchors = NULL;
        EVP_PKEY *keys[1];
        verify_input(f, chal, &in, &anchors, keys);
        atls_appraisal a;
        memset(&a, 0, sizeof(a));
        CHECK_OK(atls_appraise_evidence(&atls_tsm_verifier_ops, ev, len, &in, policy, &a));
        /* TDX without collateral: the TCB is not evaluated, a warning by design */
        CHECK(a.status == (strcmp(type, "tdx") == 0 ? ATLS_TIER_WARNING : ATLS_TIER_AFFIRMING));
        atls_appraisal_cleanup(&a);
        sk_X509_free(anchors);
        atls_policy_free(policy);
    }
    json_decref(gen);
    atls_evidence_result_cleanup(&res);
    /* another challenge: the report data does not match */
    chal[5] ^= 1;
    CHECK_ERR(verify(f, ev, len, chal, &res), ATLS_ERR_EVIDENCE_NONCE);
    free(ev);

    /* the kernel changed generation under us */
    f->race = 1;
    CHECK_ERR(atls_tsm_attest(&cfg, chal, fake_kernel, f, &ev, &len), ATLS_ERR_EVIDENCE_ATTESTER);
    CHECK(ev == NULL);
    CHECK(dir_is_empty(root_));
    f->race = 0;
    /* no outblob */
    f->no_outblob = 1;
    CHECK_ERR(atls_tsm_attest(&cfg, chal, fake_kernel, f, &ev, &len), ATLS_ERR_EVIDENCE_ATTESTER);
    CHECK(dir_is_empty(root_));
    f->no_outblob = 0;
    /* privlevel is written when configured */
    cfg.privlevel = 2;
    f->privlevel[0] = '\0';
    CHECK_OK(atls_tsm_attest(&cfg, chal, fake_kernel, f, &ev, &len));
    CHECK(strcmp(f->privlevel, "2\n") == 0);
    CHECK(dir_is_empty(root_));
    free(ev);
}

static void test_snp_without_auxblob(fake *f)
{
    printf("-- prepared dir, sev_guest without auxblob\n");
    uint8_t chal[64] = {1};
    atls_tsm_config cfg = {.root = root_, .privlevel = -1};
    uint8_t *ev = NULL;
    size_t len = 0;
    f->with_auxblob = 0;
    CHECK_OK(atls_tsm_attest(&cfg, chal, fake_kernel, f, &ev, &len));
    atls_evidence_result res;
    /* neither the VCEK nor the ASK is configured: the chain cannot be built */
    CHECK_ERR(verify(f, ev, len, chal, &res), ATLS_ERR_EVIDENCE_CHAIN);
    free(ev);
    f->with_auxblob = 1;
}

static void test_ops_table(void)
{
    printf("-- attester ops table on a prepared dir without a kernel\n");
    uint8_t chal[64] = {0};
    char opt[PATH_MAX + 8];
    snprintf(opt, sizeof(opt), "root=%s", root_);
    const char *cfg[] = {opt, NULL};
    void *st = NULL;
    CHECK_OK(atls_tsm_attester_ops.create(cfg, &st));
    uint8_t *ev = NULL;
    size_t len = 0;
    /* a plain directory has no inblob attribute: the attester fails and cleans up */
    CHECK_ERR(atls_tsm_attester_ops.produce(st, chal, &ev, &len), ATLS_ERR_EVIDENCE_ATTESTER);
    CHECK(dir_is_empty(root_));
    atls_tsm_attester_ops.destroy(st);
    const char *missing[] = {"root=/nonexistent/atls-tsm", NULL};
    CHECK_OK(atls_tsm_attester_ops.create(missing, &st));
    CHECK_ERR(atls_tsm_attester_ops.produce(st, chal, &ev, &len), ATLS_ERR_EVIDENCE_ATTESTER);
    atls_tsm_attester_ops.destroy(st);
    const char *bad1[] = {"privlevel=4", NULL};
    CHECK_ERR(atls_tsm_attester_ops.create(bad1, &st), ATLS_ERR_USAGE_CONFIG);
    const char *bad2[] = {"colour=blue", NULL};
    CHECK_ERR(atls_tsm_attester_ops.create(bad2, &st), ATLS_ERR_USAGE_CONFIG);
    CHECK(strcmp(atls_tsm_attester_ops.media_type, "application/vnd.veraison.tsm-report+cbor") ==
          0);
}

/* map_with encodes a report map from (key, type, value) triples: type 'b' bstr, 't' tstr. */
static uint8_t *map_with(size_t n, const char *const *keys, const char *types,
                         const char *const *vals, size_t *len)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_cbor_put_map(&w, n);
    for (size_t i = 0; i < n; i++) {
        ok = ok && atls_cbor_put_tstr(&w, keys[i]);
        ok = ok && (types[i] == 'b' ? atls_cbor_put_bstr(&w, (const uint8_t *)vals[i],
                                                         strlen(vals[i]))
                                    : atls_cbor_put_tstr(&w, vals[i]));
    }
    (void)ok;
    uint8_t *out = NULL;
    if (atls_writer_finish(&w, &out, len) != ATLS_OK) {
        out = NULL;
    }
    atls_writer_cleanup(&w);
    return out;
}

static void test_codec(void)
{
    printf("-- report codec\n");
    atls_tsm_report rep;
    size_t len = 0;
    uint8_t *m;
    {
        const char *k[] = {"provider", "outblob", "service"};
        const char *v[] = {"tdx_guest\n", "QUOTE", "x"};
        m = map_with(3, k, "tbb", v, &len);
        CHECK_OK(atls_tsm_report_decode(m, len, &rep));
        CHECK(strcmp(rep.provider, "tdx_guest") == 0 && !rep.has_auxblob);
        CHECK(atls_cursor_remaining(&rep.outblob) == 5);
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, m, len);
        longer[len] = 0;
        CHECK_ERR(atls_tsm_report_decode(longer, len + 1, &rep), ATLS_ERR_DECODE_TRAILING);
        free(longer);
        for (size_t n = 0; n < len; n++) {
            CHECK(atls_tsm_report_decode(m, n, &rep) != ATLS_OK);
        }
        free(m);
    }
    {
        const char *k[] = {"outblob"};
        const char *v[] = {"x"};
        m = map_with(1, k, "b", v, &len);
        CHECK_ERR(atls_tsm_report_decode(m, len, &rep), ATLS_ERR_EVIDENCE_FORMAT);
        free(m);
    }
    {
        const char *k[] = {"outblob", "outblob", "provider"};
        const char *v[] = {"x", "y", "sev_guest"};
        m = map_with(3, k, "bbt", v, &len);
        CHECK_ERR(atls_tsm_report_decode(m, len, &rep), ATLS_ERR_DECODE_VALUE);
        free(m);
    }
    {
        const char *k[] = {"outblob", "provider"};
        const char *v[] = {"x", "bad provider"};
        m = map_with(2, k, "bt", v, &len);
        CHECK_ERR(atls_tsm_report_decode(m, len, &rep), ATLS_ERR_EVIDENCE_FORMAT);
        free(m);
    }
    {
        const char *k[] = {"outblob", "provider"};
        const char *v[] = {"x", "s390_guest"};
        m = map_with(2, k, "bt", v, &len);
        atls_evidence_result res;
        CHECK_ERR(atls_tsm_verifier_ops.verify(m, len, NULL, &res), ATLS_ERR_EVIDENCE_FORMAT);
        free(m);
    }
    {
        const char *k[] = {"outblob", "provider"};
        const char *v[] = {"x", "sev_guest"};
        m = map_with(2, k, "tt", v, &len); /* outblob as text */
        CHECK_ERR(atls_tsm_report_decode(m, len, &rep), ATLS_ERR_DECODE_TYPE);
        free(m);
    }
    uint8_t *enc = NULL;
    CHECK_OK(atls_tsm_report_encode((const uint8_t *)"ab", 2, "sev_guest",
                                    (const uint8_t *)"c", 1, &enc, &len));
    atls_cursor c;
    atls_cursor_init(&c, enc, len);
    CHECK_OK(atls_cbor_check_deterministic(&c));
    CHECK_OK(atls_tsm_report_decode(enc, len, &rep));
    CHECK(rep.has_auxblob && atls_cursor_remaining(&rep.auxblob) == 1);
    free(enc);
}

static void test_cert_table(const tg_snp_pki *p)
{
    printf("-- SNP certificate table\n");
    size_t len = 0;
    uint8_t *t = tg_snp_cert_table(p, &len);
    STACK_OF(X509) *certs = NULL;
    CHECK_OK(atls_tsm_snp_cert_table(t, len, &certs));
    CHECK(certs != NULL && sk_X509_num(certs) == 3);
    CHECK(certs != NULL && X509_cmp(sk_X509_value(certs, 0), p->leaf) == 0);
    sk_X509_pop_free(certs, X509_free);
    /* truncation anywhere in the entries, or in a certificate */
    for (size_t n = 0; n < 4 * 24; n++) {
        CHECK_ERR(atls_tsm_snp_cert_table(t, n, &certs), ATLS_ERR_EVIDENCE_FORMAT);
    }
    CHECK_ERR(atls_tsm_snp_cert_table(t, len - 1, &certs), ATLS_ERR_EVIDENCE_FORMAT);
    /* a certificate length one byte short (not exactly one DER certificate) */
    uint8_t *m = malloc(len);
    memcpy(m, t, len);
    m[20] = (uint8_t)(m[20] - 1);
    CHECK_ERR(atls_tsm_snp_cert_table(m, len, &certs), ATLS_ERR_EVIDENCE_FORMAT);
    /* an unknown GUID is skipped */
    memcpy(m, t, len);
    m[0] ^= 0xff;
    CHECK_OK(atls_tsm_snp_cert_table(m, len, &certs));
    CHECK(certs != NULL && sk_X509_num(certs) == 2);
    sk_X509_pop_free(certs, X509_free);
    /* mixed-endian GUID of the VCEK is recognised */
    memcpy(m, t, len);
    static const uint8_t mixed[8] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45};
    memcpy(m, mixed, 8);
    CHECK_OK(atls_tsm_snp_cert_table(m, len, &certs));
    CHECK(certs != NULL && sk_X509_num(certs) == 3);
    sk_X509_pop_free(certs, X509_free);
    /* an offset past the end */
    memcpy(m, t, len);
    m[16] = 0xff;
    m[17] = 0xff;
    CHECK_ERR(atls_tsm_snp_cert_table(m, len, &certs), ATLS_ERR_EVIDENCE_FORMAT);
    free(m);
    free(t);
}

static void test_policy(void)
{
    printf("-- no tsm policy section: the wrapped type's section applies\n");
    json_t *p = json_loads("{\"cca\": {\"rem0\": [\"00\"]}}", 0, NULL);
    CHECK_ERR(atls_tsm_verifier_ops.check_policy(p), ATLS_ERR_POLICY_INVALID);
    json_decref(p);
    static const char doc[] = "{\"version\": 1, \"tsm\": {}}";
    atls_policy *policy = NULL;
    CHECK_ERR(atls_policy_parse(doc, strlen(doc), "t", &policy), ATLS_ERR_POLICY_INVALID);
}

/* ---- over the wire: an atls session whose server attests through tsm (prepared dir) -------- */

static fake *wire_fake;

static atls_error wire_produce(void *state, const uint8_t *challenge, uint8_t **out,
                               size_t *out_len)
{
    (void)state;
    atls_tsm_config cfg = {.root = root_, .privlevel = -1};
    return atls_tsm_attest(&cfg, challenge, fake_kernel, wire_fake, out, out_len);
}

/* the tsm attester as a session uses it, but with the simulated kernel of this test */
static const atls_attester_ops wire_tsm_ops = {
    .name = "tsm", .media_type = ATLS_TSM_MEDIA_TYPE, .produce = wire_produce};

static void test_over_tls(fake *f)
{
    printf("-- over a real TLS 1.3 connection: SNP in a tsm report, appraised by the snp section\n");
    fixture F;
    CHECK(fixture_init(&F) == 0);
    wire_fake = f;
    /* a strict snp section from one offline verification (trust on first use) */
    uint8_t chal[64] = {1};
    uint8_t *ev = NULL;
    size_t len = 0;
    atls_evidence_result res;
    json_t *section = NULL;
    CHECK_OK(wire_produce(NULL, chal, &ev, &len));
    CHECK_OK(verify(f, ev, len, chal, &res));
    CHECK_OK(atls_tsm_verifier_ops.policy_from_result(&res, &section));
    atls_evidence_result_cleanup(&res);
    free(ev);
    for (int bad = 0; bad <= 1; bad++) {
        json_t *doc = json_pack("{s:i, s:O}", "version", 1, "snp", section);
        if (bad) { /* another launch measurement */
            json_object_set_new(json_object_get(doc, "snp"), "measurements",
                                json_pack("[s]", "00000000000000000000000000000000000000000000"
                                                 "0000000000000000000000000000000000000000000000"
                                                 "000000"));
        }
        char *text = json_dumps(doc, 0);
        json_decref(doc);
        atls_policy *policy = fixture_policy(&F, text);
        free(text);
        CHECK(policy != NULL);
        tls_pair *pair = fixture_pair(&F, NULL);
        server_run run = {.pair = pair};
        server_config_attest(&F, &run);
        run.cfg.attester = &wire_tsm_ops;
        run.cfg.attester_state = NULL;
        atls_session_config cc = client_config(&F, policy);
        STACK_OF(X509) *anchors = NULL;
        EVP_PKEY *keys[1];
        verify_input(f, NULL, &cc.verify_input, &anchors, keys);
        atls_appraisal a;
        memset(&a, 0, sizeof(a));
        atls_error rc = attest_once(&F, &run, policy, &cc, &a);
        if (bad) {
            CHECK_ERR(rc, ATLS_ERR_POLICY_MISMATCH);
        } else {
            CHECK_OK(rc);
            CHECK(a.status == ATLS_TIER_AFFIRMING);
            json_t *claims = json_object_get(
                json_object_get(json_object_get(atls_appraisal_get0_ear_json(&a), "submods"), "tsm"), "ear_attester_claims");
            const char *type = json_string_value(json_object_get(claims, "evidence_type"));
            CHECK(type != NULL && strcmp(type, "snp") == 0);
        }
        atls_appraisal_cleanup(&a);
        sk_X509_free(anchors);
        atls_policy_free(policy);
        tls_pair_free(pair);
    }
    json_decref(section);
    fixture_cleanup(&F);
}

static void test_cca_policy_mismatch(fake *f)
{
    printf("-- tsm delegates appraisal to cca\n");
    uint8_t chal[64] = {9};
    atls_tsm_config cfg = {.root = root_, .privlevel = -1};
    uint8_t *ev = NULL;
    size_t len = 0;
    CHECK_OK(atls_tsm_attest(&cfg, chal, fake_kernel, f, &ev, &len));
    atls_evidence_result res;
    CHECK_OK(verify(f, ev, len, chal, &res));
    json_t *p = json_loads("{\"any_realm_initial_measurement\": true, \"rem0\": [\"0000000000"
                           "000000000000000000000000000000000000000000000000000000\"]}",
                           0, NULL);
    atls_trust_vector tv;
    memset(&tv, 0, sizeof(tv));
    CHECK_ERR(atls_tsm_verifier_ops.appraise(p, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
    json_decref(p);
    atls_evidence_result_cleanup(&res);
    free(ev);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root_, sizeof(root_), "%s/atls-tsm-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(root_) == NULL) {
        perror("mkdtemp"); /* a failure, not a skip: nothing was tested */
        return 1;
    }
    time_t now = time(NULL);
    fake f;
    memset(&f, 0, sizeof(f));
    f.with_auxblob = 1;
    tg_snp_fields s;
    tg_snp_defaults(&s);
    CHECK(tg_snp_pki_new(&f.snp, s.tcb, 0, s.chip_id, 64, "SEV-VCEK", "Milan-B0", now - 3600,
                         now + 30 * 86400));
    static const uint8_t fmspc[6] = {0x00, 0x80, 0x6f, 0x05, 0x00, 0x00};
    static const uint8_t comp[16] = {3, 3, 2, 2, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(tg_tdx_pki_new(&f.tdx, fmspc, comp, 11));
    f.cpak = tg_cca_key_new("P-384");
    f.rak = tg_cca_key_new("P-384");
    X509_CRL *ark_crl = testcrl_new(f.snp.ark, f.snp.ark_key, 1, now - 3600, now + 86400, NULL);
    f.snp_crls = sk_X509_CRL_new_null();
    CHECK(ark_crl != NULL && sk_X509_CRL_push(f.snp_crls, ark_crl) > 0);
    f.tdx_crls = tg_tdx_crls(&f.tdx, now - 3600, now + 86400, 0);
    CHECK(f.tdx_crls != NULL);

    test_codec();
    test_cert_table(&f.snp);
    test_policy();
    f.kind = K_SNP;
    test_end_to_end(&f, "sev_guest", "snp");
    test_snp_without_auxblob(&f);
    test_over_tls(&f);
    f.kind = K_TDX;
    test_end_to_end(&f, "tdx_guest", "tdx");
    f.kind = K_CCA;
    test_end_to_end(&f, "arm_cca_guest", "cca");
    test_cca_policy_mismatch(&f);
    test_ops_table();

    sk_X509_CRL_pop_free(f.snp_crls, X509_CRL_free);
    sk_X509_CRL_pop_free(f.tdx_crls, X509_CRL_free);
    tg_snp_pki_free(&f.snp);
    tg_tdx_pki_free(&f.tdx);
    EVP_PKEY_free(f.cpak);
    EVP_PKEY_free(f.rak);
    CHECK(rmdir(root_) == 0);
    return check_summary();
}
