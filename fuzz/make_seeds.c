/*
 * make_seeds.c: writes the seed corpora fuzz/corpus/<target>/ from atls's own encoders and the
 * test generators (tests/evidence/snp/snp_testgen.c, tests/evidence/tdx/tdx_testgen.c, tests/evidence/tpm2/tpm2_fake.c,
 * tests/evidence/eventlog/evlog_testgen.c).
 * No third-party file is used. Usage: fuzz_make_seeds <corpus-dir>. Re-running replaces the
 * seed files it writes (names "seed-*"); inputs merged by scripts/fuzz --merge are kept.
 */
#include "fuzz.h"
#include "evidence/core/plugin.h"
#include "fuzz_ea_fixture.h"
#include "fuzz_key.h"

#include "codec/cbor/cbor.h"
#include "codec/cmw/cmw.h"
#include "codec/cose/cose.h"
#include "codec/ear/ear.h"
#include "evidence/batch/batch.h"
#include "evidence/sim/sim.h"
#include "evidence/snp/snp.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tpm2/tpm2.h"
#include "tls/intra/intra_internal.h"

#include "snp_testgen.h"
#include "tdx_testgen.h"
#include "testcert.h"
#include "testcrl.h"
#include "tls_pair.h"
#include "evlog_testgen.h"
#include "evidence/eventlog/eventlog.h"
#include "tpm2_fake.h"
#ifdef ATLS_FUZZ_HAVE_TSM
#include "evidence/tsm/tsm.h"
#endif
#ifdef ATLS_FUZZ_HAVE_CCA
#include "evidence/cca/cca.h"
#include "cca_testgen.h"
#endif

#include <atls/ea.h>
#include <atls/frame.h>

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>

static const char *root;
static size_t written;

static void put(const char *target, const char *name, const uint8_t *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_seeds: mkdir %s failed\n", path);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s/seed-%s", root, target, name);
    FILE *fp = fopen(path, "wb");
    FUZZ_SETUP(fp != NULL);
    FUZZ_SETUP(len == 0 || fwrite(data, 1, len, fp) == len);
    FUZZ_SETUP(fclose(fp) == 0);
    written++;
}

static void put_str(const char *target, const char *name, const char *s)
{
    put(target, name, (const uint8_t *)s, strlen(s));
}

/* ---- frames ---- */
static void seeds_frame(void)
{
    static const struct {
        uint8_t type;
        const char *payload;
    } frames[] = {{ATLS_FRAME_DATA, "hello"}, {ATLS_FRAME_DATA, ""},
                  {ATLS_FRAME_REQUEST, "\x11\x00\x00\x02\x00\x00"},
                  {ATLS_FRAME_AUTHENTICATOR, "\x14\x00\x00\x00"}};
    atls_writer w;
    atls_writer_init(&w, 0);
    FUZZ_SETUP(atls_writer_add_u8(&w, 0)); /* chunk size 1 */
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        uint8_t *enc = NULL;
        size_t len = 0;
        FUZZ_SETUP(atls_frame_encode(frames[i].type, (const uint8_t *)frames[i].payload,
                                     strlen(frames[i].payload), &enc, &len) == ATLS_OK);
        FUZZ_SETUP(atls_writer_add_bytes(&w, enc, len));
        uint8_t one[1 + 64];
        one[0] = 7;
        memcpy(one + 1, enc, len);
        char name[32];
        snprintf(name, sizeof(name), "frame%zu", i);
        put("frame", name, one, len + 1);
        free(enc);
    }
    uint8_t *err = NULL;
    size_t err_len = 0;
    FUZZ_SETUP(atls_frame_encode_error(ATLS_ERR_EVIDENCE_NONCE, "nonce mismatch \xc3\xa9", &err,
                                       &err_len) == ATLS_OK);
    FUZZ_SETUP(atls_writer_add_bytes(&w, err, err_len));
    uint8_t e1[128];
    e1[0] = 255;
    memcpy(e1 + 1, err, err_len);
    put("frame", "error", e1, err_len + 1);
    free(err);
    uint8_t *all = NULL;
    size_t all_len = 0;
    FUZZ_SETUP(atls_writer_finish(&w, &all, &all_len) == ATLS_OK);
    put("frame", "stream", all, all_len);
    all[0] = 3;
    put("frame", "stream-chunk4", all, all_len);
    free(all);
}

/* ---- EA ---- */
static void seeds_ea(void)
{
    tls_pair *p = NULL;
    FUZZ_SETUP(tls_pair_new(&(tls_pair_options){0}, &p) == ATLS_OK);
    atls_ea_extension ext = {FUZZ_EA_EXT_CMW, NULL, 0};
    atls_ea_request_options o;
    memset(&o, 0, sizeof(o));
    o.context = FUZZ_EA_CONTEXT;
    o.context_len = FUZZ_EA_CONTEXT_LEN;
    o.extensions = &ext;
    o.num_extensions = 1;
    atls_ea_request *req = NULL, *req13 = NULL, *plain = NULL;
    FUZZ_SETUP(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &o, &req) ==
               ATLS_OK);
    FUZZ_SETUP(atls_ea_request_new(p->server, ATLS_EA_CERTIFICATE_REQUEST, &o, &req13) ==
               ATLS_OK);
    FUZZ_SETUP(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &plain) ==
               ATLS_OK);
    size_t len = 0;
    const uint8_t *b = atls_ea_request_get0_bytes(req, &len);
    put("ea_request", "req17-cmw", b, len);
    b = atls_ea_request_get0_bytes(req13, &len);
    put("ea_request", "req13-cmw", b, len);
    b = atls_ea_request_get0_bytes(plain, &len);
    put("ea_request", "req17-default", b, len);

    testcert *ca = NULL;
    FUZZ_SETUP(testcert_ca_new("fuzz CA", &ca) == ATLS_OK);
    uint8_t *cmw = NULL;
    size_t cmw_len = 0;
    FUZZ_SETUP(atls_cmw_encode_record(ATLS_SIM_MEDIA_TYPE, (const uint8_t *)"evidence", 8,
                                      ATLS_CMW_IND_EVIDENCE, &cmw, &cmw_len) == ATLS_OK);
    atls_ea_extension cmw_ext = {FUZZ_EA_EXT_CMW, cmw, cmw_len};
    STACK_OF(X509) *chain = sk_X509_new_null();
    FUZZ_SETUP(chain != NULL && sk_X509_push(chain, ca->cert) > 0);
    static const testcert_keytype types[] = {TESTCERT_P256, TESTCERT_P384, TESTCERT_ED25519};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        testcert *leaf = NULL;
        FUZZ_SETUP(testcert_leaf_new(ca, types[i], "server.test", &leaf) == ATLS_OK);
        uint8_t *auth = NULL;
        size_t auth_len = 0;
        char name[48];
        FUZZ_SETUP(atls_ea_authenticate(p->server, req, leaf->cert, i == 0 ? chain : NULL,
                                        leaf->key, &cmw_ext, 1, &auth, &auth_len) == ATLS_OK);
        snprintf(name, sizeof(name), "auth-cmw-%s", testcert_keytype_name(types[i]));
        put("ea_auth", name, auth, auth_len);
        free(auth);
        if (i == 0) {
            FUZZ_SETUP(atls_ea_authenticate(p->server, NULL, leaf->cert, NULL, leaf->key, NULL,
                                            0, &auth, &auth_len) == ATLS_OK);
            put("ea_auth", "auth-spontaneous", auth, auth_len);
            free(auth);
            FUZZ_SETUP(atls_ea_authenticate_empty(p->server, req, &auth, &auth_len) == ATLS_OK);
            put("ea_auth", "auth-empty", auth, auth_len);
            free(auth);
        }
        testcert_free(leaf);
    }
    sk_X509_free(chain);
    free(cmw);
    testcert_free(ca);
    atls_ea_request_free(req);
    atls_ea_request_free(req13);
    atls_ea_request_free(plain);
    tls_pair_free(p);
}

/* ---- CMW, CBOR ---- */
static void seeds_cmw_cbor(void)
{
    uint8_t *out = NULL;
    size_t len = 0;
    FUZZ_SETUP(atls_cmw_encode_record(ATLS_SIM_MEDIA_TYPE, (const uint8_t *)"\xd2\x84", 2,
                                      ATLS_CMW_IND_EVIDENCE, &out, &len) == ATLS_OK);
    put("cmw", "record3", out, len);
    put("cbor", "cmw-record3", out, len);
    free(out);
    FUZZ_SETUP(atls_cmw_encode_record("application/eat+jwt", (const uint8_t *)"ab", 2, 0, &out,
                                      &len) == ATLS_OK);
    put("cmw", "record2", out, len);
    free(out);
    atls_cmw_entry e[2] = {
        {"ev", ATLS_TPM2_MEDIA_TYPE, (const uint8_t *)"quote", 5, ATLS_CMW_IND_EVIDENCE},
        {"ar", "application/eat+jwt", (const uint8_t *)"jwt", 3,
         ATLS_CMW_IND_ATTESTATION_RESULTS}};
    FUZZ_SETUP(atls_cmw_encode_collection("tag:atls.invalid,2026:bundle", e, 2, &out, &len) ==
               ATLS_OK);
    put("cmw", "collection", out, len);
    put("cbor", "cmw-collection", out, len);
    free(out);
    FUZZ_SETUP(atls_cmw_encode_collection(NULL, e, 1, &out, &len) == ATLS_OK);
    put("cmw", "collection1", out, len);
    free(out);

    /* hand-built: CoAP content-format record, nested collection, int labels, OID type */
    atls_writer w;
    atls_writer_init(&w, 0);
    FUZZ_SETUP(atls_cbor_put_array(&w, 2) && atls_cbor_put_uint(&w, 10571) &&
               atls_cbor_put_bstr(&w, (const uint8_t *)"x", 1));
    FUZZ_SETUP(atls_writer_finish(&w, &out, &len) == ATLS_OK);
    put("cmw", "record-cf", out, len);
    free(out);
    atls_writer_init(&w, 0);
    FUZZ_SETUP(atls_cbor_put_map(&w, 3) && atls_cbor_put_tstr(&w, "__cmwc_t") &&
               atls_cbor_put_bstr(&w, (const uint8_t *)"\x2b\x06\x01", 3) &&
               atls_cbor_put_int(&w, -1) && atls_cbor_put_array(&w, 3) &&
               atls_cbor_put_tstr(&w, "a/b") && atls_cbor_put_bstr(&w, NULL, 0) &&
               atls_cbor_put_uint(&w, 4) && atls_cbor_put_tstr(&w, "inner") &&
               atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, 7) &&
               atls_cbor_put_array(&w, 2) && atls_cbor_put_tstr(&w, "c/d") &&
               atls_cbor_put_bstr(&w, (const uint8_t *)"v", 1));
    FUZZ_SETUP(atls_writer_finish(&w, &out, &len) == ATLS_OK);
    put("cmw", "nested", out, len);
    put("cbor", "nested-map", out, len);
    free(out);

    /* CBOR: every major type, integer widths, tags, simple values, floats (skipped by readers) */
    atls_writer_init(&w, 0);
    FUZZ_SETUP(atls_cbor_put_array(&w, 14) && atls_cbor_put_uint(&w, 23) &&
               atls_cbor_put_uint(&w, 24) && atls_cbor_put_uint(&w, 0x1234) &&
               atls_cbor_put_uint(&w, 0x12345678) && atls_cbor_put_uint(&w, UINT64_MAX) &&
               atls_cbor_put_nint(&w, 0) && atls_cbor_put_int(&w, INT64_MIN) &&
               atls_cbor_put_tstr(&w, "caf\xc3\xa9") && atls_cbor_put_tag(&w, 18) &&
               atls_cbor_put_bstr(&w, (const uint8_t *)"sig", 3) && atls_cbor_put_bool(&w, true) &&
               atls_cbor_put_null(&w) && atls_cbor_put_tag(&w, 399) &&
               atls_cbor_put_map(&w, 2) && atls_cbor_put_int(&w, 1) && atls_cbor_put_int(&w, -7) &&
               atls_cbor_put_tstr(&w, "k") && atls_cbor_put_array(&w, 0) &&
               atls_cbor_put_raw(&w, (const uint8_t *)"\xf9\x3c\x00", 3) &&
               atls_cbor_put_raw(&w, (const uint8_t *)"\xfb\x40\x09\x21\xfb\x54\x44\x2d\x18", 9));
    FUZZ_SETUP(atls_writer_finish(&w, &out, &len) == ATLS_OK);
    put("cbor", "all-types", out, len);
    free(out);
    /* non-preferred encodings (accepted, not deterministic), unsorted map */
    put("cbor", "non-shortest", (const uint8_t *)"\x82\x18\x01\x59\x00\x01\x41", 7);
    put("cbor", "unsorted-map", (const uint8_t *)"\xa2\x02\x01\x01\x02", 5);
}

/* ---- COSE, sim ---- */
static void seeds_cose_sim(EVP_PKEY *key)
{
    uint8_t *out = NULL;
    size_t len = 0;
    atls_cose_sign_opts o;
    memset(&o, 0, sizeof(o));
    FUZZ_SETUP(atls_cose_sign1_sign((const uint8_t *)"payload", 7, key, &o, &out, &len) ==
               ATLS_OK);
    put("cose", "sign1-untagged", out, len);
    free(out);
    o.tagged = true;
    o.content_type = "application/eat+cwt";
    o.kid = (const uint8_t *)"kid-1";
    o.kid_len = 5;
    FUZZ_SETUP(atls_cose_sign1_sign((const uint8_t *)"{}", 2, key, &o, &out, &len) == ATLS_OK);
    put("cose", "sign1-tagged-ct-kid", out, len);
    put("cbor", "cose-sign1", out, len);
    free(out);

    /* COSE_Key EC2 of the fuzz key */
    uint8_t *point = NULL;
    size_t point_len = 0;
    int64_t crv = 0;
    FUZZ_SETUP(atls_cose_ec_pkey_to_point(key, &crv, &point, &point_len) == ATLS_OK);
    atls_writer w;
    atls_writer_init(&w, 0);
    FUZZ_SETUP(atls_cbor_put_map(&w, 4) && atls_cbor_put_int(&w, 1) && atls_cbor_put_int(&w, 2) &&
               atls_cbor_put_int(&w, -1) && atls_cbor_put_int(&w, crv) &&
               atls_cbor_put_int(&w, -2) && atls_cbor_put_bstr(&w, point + 1, 32) &&
               atls_cbor_put_int(&w, -3) && atls_cbor_put_bstr(&w, point + 33, 32));
    FUZZ_SETUP(atls_writer_finish(&w, &out, &len) == ATLS_OK);
    put("cose", "cose-key-p256", out, len);
    put("cbor", "cose-key", out, len);
    free(out);
    /* a DER ECDSA signature */
    uint8_t raw[64];
    FUZZ_SETUP(atls_ecdsa_sign_raw(key, EVP_sha256(), (const uint8_t *)"m", 1, 32, raw) ==
               ATLS_OK);
    uint8_t *der = NULL;
    size_t der_len = 0;
    FUZZ_SETUP(atls_ecdsa_raw_to_der(raw, 64, &der, &der_len) == ATLS_OK);
    put("cose", "ecdsa-der", der, der_len);
    OPENSSL_free(der);

    /* sim: claims signed by the fuzz key, with the challenge fuzz_sim.c expects */
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    memset(challenge, 0xc5, sizeof(challenge));
    atls_sim_measurement m[2];
    memset(m, 0, sizeof(m));
    snprintf(m[0].name, sizeof(m[0].name), "kernel");
    memset(m[0].digest, 0x11, 32);
    m[0].digest_len = 32;
    snprintf(m[1].name, sizeof(m[1].name), "initrd");
    memset(m[1].digest, 0x22, 48);
    m[1].digest_len = 48;
    for (size_t n = 0; n <= 2; n += 2) {
        uint8_t *claims = NULL;
        size_t claims_len = 0;
        FUZZ_SETUP(atls_sim_encode_claims(challenge, 1750000000, m, n, point, point_len, &claims,
                                          &claims_len) == ATLS_OK);
        char name[32];
        snprintf(name, sizeof(name), "claims-%zu", n);
        put("sim", name, claims, claims_len);
        if (n == 2) {
            put("cbor", "sim-claims", claims, claims_len);
        }
        atls_cose_sign_opts so;
        memset(&so, 0, sizeof(so));
        so.tagged = true;
        FUZZ_SETUP(atls_cose_sign1_sign(claims, claims_len, key, &so, &out, &len) == ATLS_OK);
        snprintf(name, sizeof(name), "evidence-%zu", n);
        put("sim", name, out, len);
        if (n == 2) {
            put("cose", "sim-evidence", out, len);
        }
        free(out);
        free(claims);
    }
    free(point);
}

/* ---- TPM 2.0 ---- */
static void seeds_tpm2(void)
{
    static const struct {
        const char *name;
        const char *pcrs;
        uint16_t sig_hash;
    } v[] = {{"default", NULL, 0},
             {"two-banks", "sha1:0,1+sha256:0-3", 0},
             {"sha384", "sha384:0,23", ATLS_TPM2_ALG_SHA384}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        EVP_PKEY *ak = fake_key();
        FUZZ_SETUP(ak != NULL);
        fake_opts fo;
        memset(&fo, 0, sizeof(fo));
        fo.pcr_spec = v[i].pcrs;
        fo.sig_hash = v[i].sig_hash;
        fo.extra = (const uint8_t *)"challenge-challenge-challenge-32";
        fo.extra_len = 32;
        atls_tpm2_quote q;
        memset(&q, 0, sizeof(q));
        FUZZ_SETUP(fake_quote(ak, &fo, &q) == 0);
        put("tpm2_attest", v[i].name, q.attest.data, q.attest.len);
        put("tpm2_sig", v[i].name, q.sig.data, q.sig.len);
        put("tpm2_public", v[i].name, q.ak_public.data, q.ak_public.len);
        uint8_t *enc = NULL;
        size_t enc_len = 0;
        FUZZ_SETUP(atls_tpm2_quote_encode(&q, &enc, &enc_len) == ATLS_OK);
        put("tpm2_quote", v[i].name, enc, enc_len);
        if (i == 0) {
            put("cbor", "tpm2-quote", enc, enc_len);
        }
        free(enc);
        atls_tpm2_quote_cleanup(&q);
        EVP_PKEY_free(ak);
    }
    /* an RSASSA TPMT_SIGNATURE: sigAlg, hash, TPM2B size 256, zero signature */
    uint8_t rsa[2 + 2 + 2 + 256];
    memset(rsa, 0, sizeof(rsa));
    rsa[1] = 0x14;
    rsa[3] = 0x0b;
    rsa[4] = 0x01;
    put("tpm2_sig", "rsassa", rsa, sizeof(rsa));
}

/* ---- SNP, TDX ---- */
static void seeds_snp(void)
{
    tg_snp_fields f;
    tg_snp_defaults(&f);
    time_t now = time(NULL);
    tg_snp_pki pki;
    FUZZ_SETUP(tg_snp_pki_new(&pki, f.tcb, 0, f.chip_id, 64, "SEV-VCEK", "Milan-B0",
                              now - 3600, now + 86400));
    static const uint32_t versions[] = {2, 3, 5};
    for (size_t i = 0; i < 3; i++) {
        uint8_t rep[ATLS_SNP_REPORT_LEN];
        f.version = versions[i];
        f.signer_info = i == 2 ? (1u << 2) : 0;
        FUZZ_SETUP(tg_snp_report(&f, pki.leaf_key, rep));
        char name[16];
        snprintf(name, sizeof(name), "report-v%u", versions[i]);
        put("snp", name, rep, sizeof(rep));
#ifdef ATLS_FUZZ_HAVE_TSM
        if (i == 1) {
            /* SNP certificate table: VCEK entry (RFC 4122 GUID order), zero entry, the DER */
            uint8_t *der = NULL;
            int der_len = i2d_X509(pki.leaf, &der);
            FUZZ_SETUP(der_len > 0);
            static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45,
                                                  0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8,
                                                  0xac, 0xcd};
            atls_writer w;
            atls_writer_init(&w, 0);
            FUZZ_SETUP(atls_writer_add_bytes(&w, vcek_guid, 16) &&
                       atls_writer_add_u32_le(&w, 48) &&
                       atls_writer_add_u32_le(&w, (uint32_t)der_len) &&
                       atls_writer_add_zeros(&w, 24) &&
                       atls_writer_add_bytes(&w, der, (size_t)der_len));
            uint8_t *table = NULL;
            size_t table_len = 0;
            FUZZ_SETUP(atls_writer_finish(&w, &table, &table_len) == ATLS_OK);
            put("tsm", "snp-certtable", table, table_len);
            uint8_t *tsm = NULL;
            size_t tsm_len = 0;
            FUZZ_SETUP(atls_tsm_report_encode(rep, sizeof(rep), "sev_guest", table, table_len,
                                              &tsm, &tsm_len) == ATLS_OK);
            put("tsm", "report-sev", tsm, tsm_len);
            free(tsm);
            free(table);
            OPENSSL_free(der);
        }
#endif
    }
    tg_snp_pki_free(&pki);
}

static const uint8_t FMSPC[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
static const uint8_t COMP[16] = {5, 5, 2, 2, 3, 1, 0, 3};

static void seeds_tdx(void)
{
    tg_tdx_pki pki;
    FUZZ_SETUP(tg_tdx_pki_new(&pki, FMSPC, COMP, 11));
    static const struct {
        uint16_t version, body;
    } v[] = {{4, 2}, {5, 2}, {5, 3}};
    for (size_t i = 0; i < 3; i++) {
        tg_tdx_fields f;
        tg_tdx_defaults(&f);
        f.version = v[i].version;
        f.body_type = v[i].body;
        size_t len = 0, chain_off = 0;
        uint8_t *q = tg_tdx_quote(&pki, &f, &len, &chain_off);
        FUZZ_SETUP(q != NULL);
        char name[32];
        snprintf(name, sizeof(name), "quote-v%u-body%u", v[i].version, v[i].body);
        put("tdx_quote", name, q, len);
#ifdef ATLS_FUZZ_HAVE_TSM
        if (i == 0) {
            uint8_t *tsm = NULL;
            size_t tsm_len = 0;
            FUZZ_SETUP(atls_tsm_report_encode(q, len, "tdx_guest\n", NULL, 0, &tsm, &tsm_len) ==
                       ATLS_OK);
            put("tsm", "report-tdx", tsm, tsm_len);
            free(tsm);
        }
#endif
        free(q);
    }
    tg_tdx_pki_free(&pki);

    /* collateral bodies, as in tests/evidence/tdx/test_tdx.c (two TCB levels, module identity, QE) */
    const char *z13 = "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
                      "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
                      "{\"svn\":0},{\"svn\":0}";
    char ti[4096], qe[2048], both[6200], doc[4300];
    snprintf(ti, sizeof(ti),
             "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"2020-01-01T00:00:00Z\","
             "\"nextUpdate\":\"2099-01-01T00:00:00Z\",\"fmspc\":\"00112233aabb\","
             "\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":1,"
             "\"tdxModule\":{\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
             "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},"
             "\"tdxModuleIdentities\":[{\"id\":\"TDX_01\",\"mrsigner\":\"%096d\","
             "\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\","
             "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2024-01-01T00:00:00Z\","
             "\"tcbStatus\":\"UpToDate\"}]}],\"tcbLevels\":["
             "{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":5},{\"svn\":5},{\"svn\":2},{\"svn\":2},"
             "{\"svn\":3},{\"svn\":1},{\"svn\":0},{\"svn\":3},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
             "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],\"pcesvn\":11,"
             "\"tdxtcbcomponents\":[{\"svn\":3},{\"svn\":0},{\"svn\":5},%s]},"
             "\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},"
             "{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":1},{\"svn\":1},{\"svn\":1},%s],"
             "\"pcesvn\":5,\"tdxtcbcomponents\":[{\"svn\":2},{\"svn\":0},{\"svn\":4},%s]},"
             "\"tcbDate\":\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\","
             "\"advisoryIDs\":[\"INTEL-SA-00001\"]}]}",
             0, 0, z13, z13, z13);
    snprintf(qe, sizeof(qe),
             "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"2020-01-01T00:00:00Z\","
             "\"nextUpdate\":\"2099-01-01T00:00:00Z\",\"tcbEvaluationDataNumber\":1,"
             "\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
             "\"attributes\":\"11000000000000000000000000000000\","
             "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
             "\"mrsigner\":\"DCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDC\","
             "\"isvprodid\":2,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},"
             "\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},"
             "{\"tcb\":{\"isvsvn\":0},\"tcbDate\":\"2023-01-01T00:00:00Z\","
             "\"tcbStatus\":\"OutOfDate\"}]}");
    put_str("tdx_collateral", "tcbinfo-only", ti);
    size_t tl = strlen(ti), ql = strlen(qe);
    memcpy(both, ti, tl);
    both[tl] = '\0';
    memcpy(both + tl + 1, qe, ql);
    put("tdx_collateral", "tcbinfo-qe", (const uint8_t *)both, tl + 1 + ql);
    snprintf(doc, sizeof(doc), "{\"tcbInfo\":%s,\"signature\":\"%0128d\"}", ti, 0);
    put_str("tdx_json", "tcbinfo-doc", doc);
    snprintf(doc, sizeof(doc), "{\"enclaveIdentity\":%s,\"signature\":\"%0128d\"}\n", qe, 0);
    put_str("tdx_json", "qeidentity-doc", doc);
    put_str("tdx_json", "escapes",
            "{\"a\":[1,2.5e3,-0,true,false,null,{\"b\":\"\\u00e9\\\"\\\\\"}],"
            "\"tcbInfo\":{\"x\":\"y\"}}");
}

/* ---- CCA (when src/cca exists) ---- */
static void seeds_cca(EVP_PKEY *key)
{
#ifdef ATLS_FUZZ_HAVE_CCA
    /* the fuzz key as both CPAK and RAK, so fuzz_cca.c can verify the seeds */
    for (int cose_key = 0; cose_key <= 1; cose_key++) {
        tg_cca_fields f;
        tg_cca_defaults(&f);
        f.cose_key = cose_key;
        size_t len = 0;
        uint8_t *tok = tg_cca_token(&f, key, key, &len);
        FUZZ_SETUP(tok != NULL);
        put("cca", cose_key ? "token-2023" : "token-legacy", tok, len);
#ifdef ATLS_FUZZ_HAVE_TSM
        if (cose_key) {
            uint8_t *tsm = NULL;
            size_t tsm_len = 0;
            FUZZ_SETUP(atls_tsm_report_encode(tok, len, "arm_cca_guest", NULL, 0, &tsm,
                                              &tsm_len) == ATLS_OK);
            put("tsm", "report-cca", tsm, tsm_len);
            free(tsm);
        }
#endif
        if (cose_key) {
            put("cbor", "cca-token", tok, len);
        }
        free(tok);
    }
#else
    (void)key;
#endif
}

/* ---- EAR JWTs (fuzz_ear_jwt: first byte even = a token, odd = claims to sign) ---- */
static void seeds_ear(EVP_PKEY *key)
{
    static const uint8_t nonce[64] = {7};
    json_t *ear = NULL;
    atls_trust_vector tv = {0};
    tv.instance_identity = 2;
    tv.hardware = 2;
    json_t *claims = json_pack("{s:s, s:b}", "pcr0", "00ff", "sim", 1);
    char *jwt = NULL, *text = NULL;
    if (claims == NULL || atls_ear_new(1767225600, "seed", nonce, sizeof(nonce), &ear) != ATLS_OK ||
        atls_ear_add_submod(ear, "tpm2", &tv, NULL, claims, NULL) != ATLS_OK ||
        atls_ear_sign_jwt(ear, key, &jwt) != ATLS_OK ||
        atls_ear_to_json_string(ear, false, &text) != ATLS_OK) {
        fprintf(stderr, "make_seeds: EAR seeds failed\n");
        exit(1);
    }
    size_t jl = strlen(jwt), tl = strlen(text);
    uint8_t *buf = malloc(1 + (jl > tl ? jl : tl));
    if (buf == NULL) {
        exit(1);
    }
    buf[0] = 0;
    memcpy(buf + 1, jwt, jl);
    put("ear_jwt", "token", buf, 1 + jl);
    buf[0] = 1;
    memcpy(buf + 1, text, tl);
    put("ear_jwt", "claims", buf, 1 + tl);
    free(buf);
    free(jwt);
    free(text);
    json_decref(claims);
    json_decref(ear);
    put_str("ear_jwt", "claims-03", "\x01{\"eat_profile\":\"" ATLS_EAR_PROFILE_03 "\",\"iat\":1,"
            "\"ear_verifier_id\":{\"developer\":\"x\",\"build\":\"y\"},"
            "\"submods\":{\"a\":{\"ear_status\":\"none\"}}}");
}

/* ---- policy ---- */
static void seeds_policy(void)
{
    put_str("policy", "sim",
            "{\"version\":1,\"max_age_seconds\":300,\"sim\":{\"keys\":[\"" 
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"],"
            "\"measurements\":{\"kernel\":[\"1111111111111111111111111111111111111111111111111111111111111111\"]}}}");
    put_str("policy", "sim-any",
            "{\"version\":1,\"sim\":{\"keys\":[\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"],"
            "\"any_measurements\":true}}");
    put_str("policy", "tpm2",
            "{\"version\":1,\"tpm2\":{\"ak_any\":true,\"require_challenge\":true,"
            "\"pcrs\":{\"sha256\":{\"0\":[\"0000000000000000000000000000000000000000000000000000000000000000\"],"
            "\"23\":[\"0000000000000000000000000000000000000000000000000000000000000000\"]}}}}");
    put_str("policy", "snp",
            "{\"version\":1,\"snp\":{\"measurements\":[\"" 
            "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"],"
            "\"min_tcb\":{\"bootloader\":3,\"tee\":0,\"snp\":8,\"microcode\":115},"
            "\"min_guest_svn\":0,\"vmpl\":[0],\"signers\":[\"vcek\",\"vlek\"],"
            "\"allow_debug\":false,\"allow_smt\":true,\"require_challenge\":true}}");
    put_str("policy", "tdx",
            "{\"version\":1,\"tdx\":{\"mrtd\":[\"" 
            "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"],"
            "\"fmspc\":[\"00112233aabb\"],\"allowed_tcb_statuses\":[\"UpToDate\",\"SWHardeningNeeded\"],"
            "\"allow_debug\":false,\"require_challenge\":true}}");
    put_str("policy", "empty", "{\"version\":1}");
}

/* ---- the INSECURE intra baseline's evidence_request (byte 0: 0 ClientHello, 1 EE) ---- */
static void seeds_intra_request(void)
{
    static const char *const two[] = {ATLS_SIM_MEDIA_TYPE, ATLS_TPM2_MEDIA_TYPE, NULL};
    static const char *const one[] = {ATLS_SNP_MEDIA_TYPE, NULL};
    uint8_t nonce[255], *enc = NULL, buf[600];
    size_t len = 0;
    memset(nonce, 0xa5, sizeof(nonce));
    FUZZ_SETUP(intra_request_encode(0, two, nonce, 32, &enc, &len) == ATLS_OK && len < 599);
    buf[0] = 0;
    memcpy(buf + 1, enc, len);
    put("intra_request", "ch-ra-only", buf, len + 1);
    free(enc);
    FUZZ_SETUP(intra_request_encode(1, one, nonce, 255, &enc, &len) == ATLS_OK && len < 599);
    memcpy(buf + 1, enc, len);
    put("intra_request", "ch-x509-long-nonce", buf, len + 1);
    free(enc);
    FUZZ_SETUP(intra_selected_encode(1, ATLS_TDX_MEDIA_TYPE, &enc, &len) == ATLS_OK && len < 599);
    buf[0] = 1;
    memcpy(buf + 1, enc, len);
    put("intra_request", "ee-selected", buf, len + 1);
    free(enc);
    const uint8_t cf[] = {0, 4, 0, 0, 0x01, 0x2c, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    put("intra_request", "ch-content-format", cf, sizeof(cf));
}

/* ---- event logs (evlog_testgen.c) ---- */
static void put_writer(const char *target, const char *name, atls_writer *w)
{
    uint8_t *out = NULL;
    size_t len = 0;
    FUZZ_SETUP(atls_writer_finish(w, &out, &len) == ATLS_OK);
    put(target, name, out, len);
    free(out);
    atls_writer_cleanup(w);
}

/* put_record: |w|'s log (not consumed) as an application/vnd.atls.eventlog+cbor record seed */
static void put_record(const char *name, atls_evlog_kind kind, uint64_t start, uint64_t total,
                       const atls_writer *w, size_t from)
{
    atls_evlog_record rec = {.kind = kind, .start = start, .total = total};
    static const uint8_t none[1];
    size_t n = atls_writer_len(w) - from;
    atls_cursor_init(&rec.log, n > 0 ? atls_writer_data(w) + from : none, n);
    uint8_t *out = NULL;
    size_t len = 0;
    FUZZ_SETUP(atls_evlog_record_encode(&rec, &out, &len) == ATLS_OK);
    put("eventlog_record", name, out, len);
    free(out);
}

static void seeds_eventlog(void)
{
    static const uint16_t two[] = {0x0004, 0x000B}, sha384[] = {0x000C};
    static const uint8_t guid[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                     0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
    static const uint8_t loc3[17] = "StartupLocality\0\x03", sep[4] = {0};
    uint8_t image[36] = {0}, on = 1;
    image[24] = 4;
    atls_writer w, v;
    atls_writer_init(&v, 0);
    FUZZ_SETUP(evgen_efi_variable(&v, guid, "SecureBoot", &on, 1));
    atls_writer_init(&w, 0);
    FUZZ_SETUP(evgen_spec_id(&w, 0, two, 2) &&
               evgen_event2(&w, two, 2, 0, 3, NULL, 0, loc3, sizeof(loc3)) &&
               evgen_event2(&w, two, 2, 0, 0x8, NULL, 0, "v\0001\0\0\0", 6) &&
               evgen_event2(&w, two, 2, 7, 0x80000001, NULL, 0, atls_writer_data(&v),
                            atls_writer_len(&v)) &&
               evgen_event2(&w, two, 2, 7, 4, NULL, 0, sep, 4) &&
               evgen_event2(&w, two, 2, 4, 0x80000003, "image", 5, image, sizeof(image)) &&
               evgen_event2(&w, two, 2, 8, 0xd, "ro quiet", 8, "kernel_cmdline: ro quiet", 25) &&
               evgen_event2(&w, two, 2, 5, 0x80000007, NULL, 0,
                            "Exit Boot Services Invocation", 29));
    put_record("tcg", ATLS_EVLOG_TPM, 0, 8, &w, 0);
    put_writer("eventlog_tpm", "agile", &w);
    atls_writer_cleanup(&v);
    atls_writer_init(&w, 0);
    FUZZ_SETUP(evgen_event1(&w, 0, 8, NULL, 0, "v1", 2) &&
               evgen_event1(&w, 4, 0x80000003, "image", 5, image, sizeof(image)) &&
               evgen_event1(&w, 0, 4, NULL, 0, sep, 4));
    put_writer("eventlog_tpm", "sha1", &w);

    uint8_t ff[64];
    memset(ff, 0xff, sizeof(ff));
    atls_writer_init(&w, 0);
    FUZZ_SETUP(evgen_spec_id(&w, 1, sha384, 1) &&
               evgen_event2(&w, sha384, 1, 1, 0x8000000b, NULL, 0, "hob", 3) &&
               evgen_event2(&w, sha384, 1, 2, 0x80000003, "kernel", 6, image, sizeof(image)) &&
               evgen_event2(&w, sha384, 1, 3, 0x6, NULL, 0, "LOADED_IMAGE::LoadOptions", 26) &&
               atls_writer_add_bytes(&w, ff, sizeof(ff)));
    put_record("ccel", ATLS_EVLOG_CCEL, 0, 3, &w, 0);
    put_writer("eventlog_ccel", "log", &w);
    uint8_t table[56] = "CCEL";
    table[4] = 56;
    table[8] = 1;
    table[36] = 2;
    table[42] = 1;
    uint8_t sum = 0;
    for (size_t i = 0; i < sizeof(table); i++) {
        sum = (uint8_t)(sum + table[i]);
    }
    table[9] = (uint8_t)(0x100 - sum);
    put("eventlog_ccel", "acpi-table", table, sizeof(table));

    static const uint8_t digest[32] = {1, 2, 3}, sig[] = {3, 2, 4, 1, 2, 3, 4, 0, 2, 0x30, 0};
    atls_writer_init(&w, 0);
    FUZZ_SETUP(evgen_ima_legacy(&w, 10, digest, "boot_aggregate") &&
               evgen_ima_ng(&w, 10, "ima-ng", "sha256", digest, 32, "/usr/bin/env", NULL, 0) &&
               evgen_ima_ng(&w, 10, "ima-sig", "sha256", digest, 32, "/usr/bin/sig", sig,
                            sizeof(sig)) &&
               evgen_ima_ng(&w, 10, "ima-sig", "sha1", digest, 20, "/etc/x", NULL, 0) &&
               evgen_ima_violation(&w, 10, "/tmp/v"));
    put_record("ima", ATLS_EVLOG_IMA, 0, 5, &w, 0);
    {
        /* the tail after the first two entries, as a connection's later attestation sends it */
        atls_evlog el;
        FUZZ_SETUP(atls_evlog_parse_ima(atls_writer_data(&w), atls_writer_len(&w), &el) ==
                       ATLS_OK &&
                   el.num_events == 5);
        put_record("ima-tail", ATLS_EVLOG_IMA, 2, 5, &w, el.events[2].offset);
        atls_evlog_cleanup(&el);
    }
    atls_writer empty;
    atls_writer_init(&empty, 0);
    put_record("ima-empty", ATLS_EVLOG_IMA, 5, 5, &empty, 0);
    atls_writer_cleanup(&empty);
    put_writer("eventlog_ima", "list", &w);
}

/* ---- batched Evidence: trees of 1, 2, 5 and 4096 leaves ---- */
static void seeds_batch(void)
{
    static atls_merkle_hash leaves[ATLS_BATCH_MAX_LEAVES];
    for (size_t i = 0; i < ATLS_BATCH_MAX_LEAVES; i++) {
        memset(leaves[i], (int)(i % 251), sizeof(leaves[i]));
    }
    static const size_t sizes[] = {1, 2, 5, ATLS_BATCH_MAX_LEAVES};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        atls_merkle_tree t;
        FUZZ_SETUP(atls_merkle_tree_build(leaves, sizes[s], &t) == ATLS_OK);
        size_t index = sizes[s] / 2;
        atls_merkle_hash path[ATLS_BATCH_MAX_PATH];
        size_t len = 0;
        FUZZ_SETUP(atls_merkle_tree_path(&t, index, path, &len) == ATLS_OK);
        uint8_t *out = NULL;
        size_t out_len = 0;
        FUZZ_SETUP(atls_batch_encode(ATLS_SIM_MEDIA_TYPE, (const uint8_t *)"\xd2\x84", 2,
                                     sizes[s], index, path, len, &out, &out_len) == ATLS_OK);
        char name[32];
        snprintf(name, sizeof(name), "tree-%zu", sizes[s]);
        put("batch", name, out, out_len);
        free(out);
        atls_merkle_tree_cleanup(&t);
    }
}

/* ---- stapled collateral (CMW collections with Endorsement records) ---- */

/* seed_cert: a self-signed P-256 CA valid 2020..2099 (the fuzz target verifies at 2024-01-01) */
static X509 *seed_cert(EVP_PKEY **key)
{
    *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FUZZ_SETUP(*key != NULL && x != NULL);
    X509_NAME *n = X509_get_subject_name(x);
    FUZZ_SETUP(X509_set_version(x, 2) == 1 &&
               ASN1_INTEGER_set(X509_get_serialNumber(x), 7) == 1 &&
               X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                          (const unsigned char *)"stapled seed", -1, -1, 0) == 1 &&
               X509_set_issuer_name(x, n) == 1 &&
               ASN1_TIME_set(X509_getm_notBefore(x), 1577836800) != NULL &&
               ASN1_TIME_set(X509_getm_notAfter(x), 4070908800) != NULL &&
               X509_set_pubkey(x, *key) == 1 && X509_sign(x, *key, EVP_sha256()) > 0);
    return x;
}

static void seeds_stapled(void)
{
    EVP_PKEY *key = NULL;
    X509 *ca = seed_cert(&key);
    unsigned char *der = NULL, *crl_der = NULL, *old_der = NULL;
    int der_len = i2d_X509(ca, &der);
    X509_CRL *crl = testcrl_new(ca, key, 0, 1672531200, 4070908800, NULL);
    X509_CRL *old = testcrl_new(ca, key, 0, 1609459200, 1640995200, NULL);
    FUZZ_SETUP(crl != NULL && old != NULL);
    int crl_len = i2d_X509_CRL(crl, &crl_der), old_len = i2d_X509_CRL(old, &old_der);
    BIO *b = BIO_new(BIO_s_mem());
    FUZZ_SETUP(der_len > 0 && crl_len > 0 && old_len > 0 && b != NULL &&
               PEM_write_bio_X509(b, ca) == 1);
    char *pem = NULL;
    long pem_len = BIO_get_mem_data(b, &pem);
    const char *ti = "{\"tcbInfo\":{\"id\":\"TDX\",\"version\":3,"
                     "\"issueDate\":\"2020-01-01T00:00:00Z\","
                     "\"nextUpdate\":\"2099-01-01T00:00:00Z\"},\"signature\":\"00\"}";
    const char *qe = "{\"enclaveIdentity\":{\"id\":\"TD_QE\",\"version\":2,"
                     "\"issueDate\":\"2020-01-01T00:00:00Z\","
                     "\"nextUpdate\":\"2023-01-01T00:00:00Z\"},\"signature\":\"00\"}";
    static const uint8_t ev[] = "evidence";
    struct {
        const char *name;
        int with_old_crl, with_qe;
    } v[] = {{"all", 0, 0}, {"stale-crl", 1, 0}, {"stale-qe-identity", 0, 1}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        atls_evidence_parts p;
        memset(&p, 0, sizeof(p));
        uint8_t *out = NULL;
        size_t len = 0;
        FUZZ_SETUP(atls_evidence_parts_add(&p, "evidence", ATLS_TDX_MEDIA_TYPE, ev, sizeof(ev),
                                           ATLS_IND_EVIDENCE) == ATLS_OK &&
                   atls_evidence_parts_add(&p, "vcek", ATLS_MEDIA_PKIX_CERT, der,
                                           (size_t)der_len, ATLS_IND_ENDORSEMENTS) == ATLS_OK &&
                   atls_evidence_parts_add(&p, "chain", ATLS_MEDIA_PEM_CHAIN,
                                           (const uint8_t *)pem, (size_t)pem_len,
                                           ATLS_IND_ENDORSEMENTS) == ATLS_OK &&
                   atls_evidence_parts_add(&p, "crl", ATLS_MEDIA_PKIX_CRL,
                                           v[i].with_old_crl ? old_der : crl_der,
                                           (size_t)(v[i].with_old_crl ? old_len : crl_len),
                                           ATLS_IND_ENDORSEMENTS) == ATLS_OK &&
                   atls_evidence_parts_add(&p, "tcb-info", ATLS_MEDIA_TDX_TCB_INFO,
                                           (const uint8_t *)ti, strlen(ti),
                                           ATLS_IND_ENDORSEMENTS) == ATLS_OK);
        if (v[i].with_qe) {
            FUZZ_SETUP(atls_evidence_parts_add(&p, "qe-identity", ATLS_MEDIA_TDX_QE_IDENTITY,
                                               (const uint8_t *)qe, strlen(qe),
                                               ATLS_IND_ENDORSEMENTS) == ATLS_OK);
        }
        FUZZ_SETUP(atls_evidence_parts_encode(&p, 65533, "seed", &out, &len) == ATLS_OK);
        put("stapled", v[i].name, out, len);
        free(out);
        atls_evidence_parts_cleanup(&p);
    }
    BIO_free(b);
    OPENSSL_free(der);
    OPENSSL_free(crl_der);
    OPENSSL_free(old_der);
    X509_CRL_free(crl);
    X509_CRL_free(old);
    X509_free(ca);
    EVP_PKEY_free(key);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
        return 2;
    }
    root = argv[1];
    if (mkdir(root, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_seeds: cannot create %s\n", root);
        return 1;
    }
    EVP_PKEY *key = fuzz_key_load();
    FUZZ_SETUP(key != NULL);
    seeds_frame();
    seeds_ea();
    seeds_cmw_cbor();
    seeds_cose_sim(key);
    seeds_tpm2();
    seeds_snp();
    seeds_tdx();
    seeds_cca(key);
    seeds_policy();
    seeds_ear(key);
    seeds_intra_request();
    seeds_eventlog();
    seeds_batch();
    seeds_stapled();
    EVP_PKEY_free(key);
    printf("make_seeds: %zu files under %s\n", written, root);
    return 0;
}
