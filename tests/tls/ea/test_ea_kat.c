/* test_ea_kat: known-answer tests of the pure RFC 9261 computations (src/tls/ea/compute.c) with
 * fixed exporter values, and of the request encoding of protocol-notes 1.2's worked example.
 *
 * Where the expected bytes come from: KAT_AUTH_* and KAT_EMPTY_* were produced once by this
 * code (atls_ea_compute / atls_ea_compute_empty) with the inputs below, then cross-checked
 * independently with the openssl 3.0.19 command line:
 *   - Hash(HC || Req || Cert) with `openssl dgst -sha256` / `-sha384`, prefixed with 64 spaces,
 *     "Exported Authenticator" and 0x00, verified against the CertificateVerify signature with
 *     `openssl pkeyutl -verify -rawin -pubin -inkey kat_pub.pem -sigfile sig.bin`;
 *   - verify_data with `openssl dgst -sha256 -binary` of HC || Req || Cert || CV, then
 *     `openssl mac -digest SHA256 -macopt hexkey:<FK> HMAC` (and SHA384), equal to the Finished;
 *   - the empty authenticator's Finished likewise over HC || Req || (Certificate with the
 *     request's context and no entries).
 * Set ATLS_KAT_DUMP=<dir> to write the pieces as files for such a cross-check.
 * kat_rederive.sh (test test_ea_kat_rederive) re-derives all four KAT_* values from the inputs
 * below with bash and the openssl command line alone, on every run of the suite: edit those
 * inputs and kat_expected.h together (kat_rederive.sh --print gives the new values).
 */
#include "ea_testutil.h"

#include "base/hex.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

/* A fixed Ed25519 key and self-signed certificate, generated once with
 * `openssl genpkey -algorithm ED25519` and `openssl req -new -x509 -subj /CN=atls-kat
 *  -days 36500 -set_serial 1`. Test material only. */
static const char kat_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIEEDlgv2TGdS3mcNlknpxQtoRUL27jecTw8mJt+SHQs5\n"
    "-----END PRIVATE KEY-----\n";
static const char kat_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBKTCB3KADAgECAgEBMAUGAytlcDATMREwDwYDVQQDDAhhdGxzLWthdDAgFw0y\n"
    "NjExMjcwMDM3MDVaGA8yMTI2MTEwMzAwMzcwNVowEzERMA8GA1UEAwwIYXRscy1r\n"
    "YXQwKjAFBgMrZXADIQC6UJx/XSGH9OqYNvrg8qq65jJglKz1Zpem38ldj0r+3aNT\n"
    "MFEwHQYDVR0OBBYEFKvpcd1KtEtm+vVMOscSEnpsS/kLMB8GA1UdIwQYMBaAFKvp\n"
    "cd1KtEtm+vVMOscSEnpsS/kLMA8GA1UdEwEB/wQFMAMBAf8wBQYDK2VwA0EATbOC\n"
    "6S20jtbgGy52nNy0m92zw6ZEfpAKwkPqaHHHkQoBxnp+FWtGLdmLcvYBcNr04KlD\n"
    "j5DtP3tgjWD9QKQBDA==\n"
    "-----END CERTIFICATE-----\n";

/* protocol-notes 1.2 worked example with context 00..1f and cmw_attestation = 0xFF00 */
static const char example_request_hex[] =
    "11000035"
    "20000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "0012"
    "000d000a0008040305030804 0807"
    "ff000000";

#include "kat_expected.h"

static uint8_t *hex(const char *h, size_t *len)
{
    char clean[8192];
    size_t n = 0;
    for (const char *p = h; *p != '\0' && n + 1 < sizeof(clean); p++) {
        if (*p != ' ') {
            clean[n++] = *p;
        }
    }
    clean[n] = '\0';
    uint8_t *out = NULL;
    if (atls_hex_decode(clean, &out, len) != ATLS_OK) {
        fprintf(stderr, "bad hex in test\n");
        exit(1);
    }
    return out;
}

static void dump(const char *name, const uint8_t *d, size_t n)
{
    const char *dir = getenv("ATLS_KAT_DUMP");
    if (dir == NULL) {
        return;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(d, 1, n, f);
        fclose(f);
    }
}

static void check_hex(const uint8_t *got, size_t got_len, const char *want_hex, const char *what)
{
    size_t want_len = 0;
    uint8_t *want = hex(want_hex, &want_len);
    int ok = got_len == want_len && memcmp(got, want, got_len) == 0;
    CHECK(ok);
    if (!ok) {
        char *g = atls_hex_encode_alloc(got, got_len);
        fprintf(stderr, "%s: got %s\n", what, g);
        free(g);
    }
    free(want);
}

static void fixed_secrets(atls_ea_secrets *s, const EVP_MD *md)
{
    memset(s, 0, sizeof(*s));
    s->md = md;
    s->hash_len = (size_t)EVP_MD_get_size(md);
    for (size_t i = 0; i < s->hash_len; i++) {
        s->hc[i] = (uint8_t)i;          /* HC = 00 01 02 ... */
        s->fk[i] = (uint8_t)(0x80 + i); /* FK = 80 81 82 ... */
    }
}

static void kat_ed25519(const EVP_MD *md, const char *want_auth, const char *want_empty,
                        const char *tag)
{
    BIO *kb = BIO_new_mem_buf(kat_key_pem, -1), *cb = BIO_new_mem_buf(kat_cert_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    X509 *cert = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    atls_ea_secrets s;
    size_t req_len = 0, cm_len = 0, out_len = 0;
    uint8_t *req = hex(example_request_hex, &req_len);
    uint8_t *cm = NULL, *out = NULL;
    static const uint8_t evidence[] = {'a', 't', 'l', 's'};
    atls_ea_extension ext = {EXT_CMW, evidence, sizeof(evidence)};
    char name[64];
    CHECK(key != NULL && cert != NULL);
    fixed_secrets(&s, md);
    CHECK_OK(atls_ea_encode_certificate(req + 5, 32, cert, NULL, &ext, 1, &cm, &cm_len));
    CHECK_OK(atls_ea_compute(&s, req, req_len, cm, cm_len, key, ATLS_SIG_ED25519, &out, &out_len));
    check_hex(out, out_len, want_auth, tag);
    snprintf(name, sizeof(name), "%s_auth.bin", tag);
    dump(name, out, out_len);
    dump("req.bin", req, req_len);
    snprintf(name, sizeof(name), "%s_hc.bin", tag);
    dump(name, s.hc, s.hash_len);
    snprintf(name, sizeof(name), "%s_fk.bin", tag);
    dump(name, s.fk, s.hash_len);
    free(out);
    CHECK_OK(atls_ea_compute_empty(&s, req, req_len, req + 5, 32, &out, &out_len));
    check_hex(out, out_len, want_empty, tag);
    snprintf(name, sizeof(name), "%s_empty.bin", tag);
    dump(name, out, out_len);
    free(out);
    free(cm);
    free(req);
    EVP_PKEY_free(key);
    X509_free(cert);
    BIO_free(kb);
    BIO_free(cb);
}

/* ECDSA signatures are randomised: check the framing, the signature and the Finished, the
 * latter recomputed here with EVP_Q_mac rather than the module's HMAC path. */
static void ecdsa_framing(void)
{
    testcert *ca = NULL, *leaf = NULL;
    atls_ea_secrets s;
    size_t req_len = 0, cm_len = 0, out_len = 0, tbs_len = 0;
    uint8_t *req = hex(example_request_hex, &req_len);
    uint8_t *cm = NULL, *out = NULL, tbs[200], h[64], mac[64];
    size_t mac_len = 0;
    fixed_secrets(&s, EVP_sha256());
    CHECK_OK(testcert_ca_new("kat CA", &ca));
    CHECK_OK(testcert_leaf_new(ca, TESTCERT_P256, "server.test", &leaf));
    CHECK_OK(atls_ea_encode_certificate(req + 5, 32, leaf->cert, NULL, NULL, 0, &cm, &cm_len));
    CHECK_OK(atls_ea_compute(&s, req, req_len, cm, cm_len, leaf->key,
                             ATLS_SIG_ECDSA_SECP256R1_SHA256, &out, &out_len));
    CHECK(out_len > cm_len + 8 + 36 && memcmp(out, cm, cm_len) == 0);
    if (out_len > cm_len + 8 + 36) {
        const uint8_t *cv = out + cm_len;
        size_t cv_body = ((size_t)cv[1] << 16) | ((size_t)cv[2] << 8) | cv[3];
        size_t sig_len = ((size_t)cv[6] << 8) | cv[7];
        CHECK(cv[0] == 15 && cv[4] == 0x04 && cv[5] == 0x03 && cv_body == 4 + sig_len);
        CHECK(cm_len + 4 + cv_body + 36 == out_len);
        CHECK(cv[8] == 0x30); /* DER ECDSA-Sig-Value */
        CHECK_OK(atls_ea_signature_input(&s, req, req_len, cm, cm_len, tbs, &tbs_len));
        CHECK(tbs_len == 87 + 32 && tbs[0] == 0x20 && tbs[63] == 0x20 && tbs[86] == 0);
        CHECK(memcmp(tbs + 64, "Exported Authenticator", 22) == 0);
        CHECK_OK(atls_ea_verify(leaf->key, ATLS_SIG_ECDSA_SECP256R1_SHA256, tbs, tbs_len, cv + 8,
                                sig_len));
        /* independent Finished: SHA-256 over the concatenation, HMAC via EVP_Q_mac */
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        CHECK(EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(m, s.hc, 32) == 1 && EVP_DigestUpdate(m, req, req_len) == 1 &&
              EVP_DigestUpdate(m, cm, cm_len) == 1 && EVP_DigestUpdate(m, cv, 4 + cv_body) == 1 &&
              EVP_DigestFinal_ex(m, h, NULL) == 1);
        EVP_MD_CTX_free(m);
        CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, s.fk, 32, h, 32, mac, sizeof(mac),
                        &mac_len) != NULL && mac_len == 32);
        const uint8_t *fin = cv + 4 + cv_body;
        CHECK(fin[0] == 20 && fin[1] == 0 && fin[2] == 0 && fin[3] == 32);
        CHECK(memcmp(fin + 4, mac, 32) == 0);
    }
    free(out);
    free(cm);
    free(req);
    testcert_free(leaf);
    testcert_free(ca);
}

/* the worked example of protocol-notes 1.2 reproduced byte for byte by atls_ea_request_new */
static void request_example(void)
{
    static const uint16_t algs[] = {0x0403, 0x0503, 0x0804, 0x0807};
    uint8_t ctx[32];
    atls_ea_extension cmw = {EXT_CMW, NULL, 0};
    atls_ea_request_options ro = {0};
    atls_ea_request *req = NULL, *parsed = NULL;
    size_t want_len = 0, len = 0;
    uint8_t *want = hex(example_request_hex, &want_len);
    tls_pair *p = new_pair(SUITE_SHA256);
    for (size_t i = 0; i < sizeof(ctx); i++) {
        ctx[i] = (uint8_t)i;
    }
    ro.context = ctx;
    ro.context_len = sizeof(ctx);
    ro.sigalgs = algs;
    ro.num_sigalgs = 4;
    ro.extensions = &cmw;
    ro.num_extensions = 1;
    CHECK(want_len == 57);
    CHECK_OK(atls_ea_request_new(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &ro, &req));
    if (req != NULL) {
        const uint8_t *b = atls_ea_request_get0_bytes(req, &len);
        CHECK(len == 57 && memcmp(b, want, 57) == 0);
    }
    /* and it parses back */
    CHECK_OK(atls_ea_request_parse(want, want_len, &parsed));
    if (parsed != NULL) {
        size_t n = 0;
        CHECK(atls_ea_request_type(parsed) == 17);
        CHECK(atls_ea_request_get0_context(parsed, &n) != NULL && n == 32);
        CHECK(atls_ea_request_get0_extension(parsed, EXT_CMW, &n) != NULL && n == 0);
        const uint8_t *sa = atls_ea_request_get0_extension(parsed, 13, &n);
        CHECK(sa != NULL && n == 10);
    }
    {
        uint8_t c[255];
        size_t cl = 0;
        CHECK_OK(atls_ea_get_context(want, want_len, c, &cl));
        CHECK(cl == 32 && memcmp(c, ctx, 32) == 0);
    }
    atls_ea_request_free(parsed);
    atls_ea_request_free(req);
    free(want);
    tls_pair_free(p);
}

int main(void)
{
    kat_ed25519(EVP_sha256(), KAT_AUTH_SHA256, KAT_EMPTY_SHA256, "sha256");
    kat_ed25519(EVP_sha384(), KAT_AUTH_SHA384, KAT_EMPTY_SHA384, "sha384");
    ecdsa_framing();
    request_example();
    return check_summary();
}
