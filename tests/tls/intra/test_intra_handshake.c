/*
 * test_intra_handshake <sim|tpm2>: the INSECURE intra-handshake baseline over real OpenSSL
 * TLS 1.3 connections on 127.0.0.1, with the real attester (sim, or tpm2 on a private swtpm):
 * every mode and binder completes with affirming Evidence, and each check the baseline does
 * have (nonce/binder, policy, type selection, chain and name in X.509 mode, Evidence present,
 * sizes, configuration) fails when it should, with the alert the peer sees.
 */
#include "intra_lab.h"
#include "session_fixture.h"

#include "base/result.h"
#include "check.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fixture F;

static atls_intra_insecure_config server_cfg(atls_intra_insecure_mode mode,
                                             atls_intra_insecure_binder binder)
{
    return intra_lab_server_config(mode, binder, F.att, F.att_state);
}

static atls_intra_insecure_config client_cfg(atls_intra_insecure_mode mode,
                                             atls_intra_insecure_binder binder,
                                             const atls_policy *policy)
{
    return intra_lab_client_config(mode, binder, F.att, policy, F.store);
}

/* The server's identity per mode: the throw-away self-signed key (RA-only) or the CA leaf. */
static EVP_PKEY *ta_key;
static X509 *ta_cert;

static void identity(atls_intra_insecure_mode mode, X509 **cert, EVP_PKEY **key)
{
    *cert = mode == ATLS_INTRA_INSECURE_RA_ONLY ? ta_cert : F.leaf->cert;
    *key = mode == ATLS_INTRA_INSECURE_RA_ONLY ? ta_key : F.leaf->key;
}

/* server snapshot after a run */
typedef struct server_view {
    int handshakes_ok, handshakes_failed, secrets_read;
    atls_error last_error;
    int last_alert_received;
    size_t evidence_len;
    char secret[LAB_SECRET_MAX];
} server_view;

/* run: one connection from a client with |ccfg| to a server with |scfg| (NULL: a plain TLS
 * server) presenting |cert|/|key|. */
static void run(const atls_intra_insecure_config *scfg, X509 *cert, EVP_PKEY *key,
                const atls_intra_insecure_config *ccfg, intra_lab_result *r, server_view *v)
{
    SSL_CTX *sctx = NULL;
    if (scfg != NULL) {
        sctx = intra_lab_server_ctx(scfg, cert, key);
    } else {
        sctx = SSL_CTX_new(TLS_server_method());
        if (sctx != NULL && (SSL_CTX_use_certificate(sctx, cert) != 1 ||
                             SSL_CTX_use_PrivateKey(sctx, key) != 1)) {
            SSL_CTX_free(sctx);
            sctx = NULL;
        }
    }
    SSL_CTX *cctx = ccfg != NULL ? intra_lab_client_ctx(ccfg) : SSL_CTX_new(TLS_client_method());
    memset(r, 0, sizeof(*r));
    CHECK(sctx != NULL && cctx != NULL);
    if (sctx == NULL || cctx == NULL) {
        SSL_CTX_free(sctx);
        SSL_CTX_free(cctx);
        return;
    }
    intra_lab_server srv;
    memset(&srv, 0, sizeof(srv));
    CHECK(intra_lab_server_start(&srv, sctx) == 0);
    intra_lab_connect(cctx, srv.lb.port, "the client's secret", r);
    intra_lab_server_stop(&srv);
    if (v != NULL) {
        v->handshakes_ok = srv.handshakes_ok;
        v->handshakes_failed = srv.handshakes_failed;
        v->secrets_read = srv.secrets_read;
        v->last_error = srv.last_error;
        v->last_alert_received = srv.last_alert_received;
        v->evidence_len = srv.last_evidence_len;
        memcpy(v->secret, srv.secret, sizeof(v->secret));
    }
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
}

static atls_policy *good_policy;
static char *good_policy_text;

/* tofu: appraise an honest handshake without policy, keep the strict policy it implies. */
static int make_good_policy(void)
{
    atls_intra_insecure_config s = server_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE_KEY);
    atls_intra_insecure_config c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, NULL);
    c.accept_warning = 1;
    intra_lab_result r;
    run(&s, ta_cert, ta_key, &c, &r, NULL);
    CHECK(r.handshake_ok && r.attested);
    CHECK(r.appraisal.status == ATLS_TIER_WARNING); /* no policy: verified, not appraised */
    good_policy = intra_lab_tofu_policy(&r.appraisal, &good_policy_text);
    intra_lab_result_cleanup(&r);
    return good_policy != NULL ? 0 : -1;
}

static void test_every_mode_and_binder(void)
{
    const atls_intra_insecure_mode modes[] = {ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_X509};
    for (size_t m = 0; m < 2; m++) {
        for (int b = ATLS_INTRA_INSECURE_BINDER_CR; b <= ATLS_INTRA_INSECURE_BINDER_NONE; b++) {
            atls_intra_insecure_config s = server_cfg(modes[m], (atls_intra_insecure_binder)b);
            atls_intra_insecure_config c = client_cfg(modes[m], (atls_intra_insecure_binder)b,
                                                      good_policy);
            X509 *cert;
            EVP_PKEY *key;
            identity(modes[m], &cert, &key);
            intra_lab_result r;
            server_view v;
            run(&s, cert, key, &c, &r, &v);
            printf("%s binder %-4s: handshake %d attested %d evidence %zu bytes %s\n",
                   atls_intra_insecure_mode_name(modes[m]),
                   atls_intra_insecure_binder_name((atls_intra_insecure_binder)b), r.handshake_ok,
                   r.attested, r.evidence_len, r.reason);
            CHECK(r.handshake_ok && r.attested && r.error == ATLS_OK);
            CHECK(r.appraisal.status == ATLS_TIER_AFFIRMING && r.appraisal.num_results == 1);
            CHECK(r.appraisal.num_results == 1 && r.appraisal.results[0].challenge_checked == 1);
            CHECK(r.evidence_len > 0 && r.evidence_len == v.evidence_len);
            CHECK(r.secret_written && v.secrets_read == 1 &&
                  strcmp(v.secret, "the client's secret") == 0);
            CHECK(r.have_inputs && (int)r.inputs.binder == b && r.inputs.nonce_len == 32);
            intra_lab_result_cleanup(&r);
        }
    }
}

/* the client's challenge differs from the server's: the verifier names the nonce */
static void test_binder_mismatch(void)
{
    atls_intra_insecure_config s = server_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE_KEY);
    atls_intra_insecure_config c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE, good_policy);
    intra_lab_result r;
    server_view v;
    run(&s, ta_cert, ta_key, &c, &r, &v);
    CHECK(!r.handshake_ok && !r.attested);
    CHECK(r.error == ATLS_ERR_EVIDENCE_NONCE);
    CHECK(r.alert_sent == SSL_AD_BAD_CERTIFICATE && v.last_alert_received == SSL_AD_BAD_CERTIFICATE);
    CHECK(v.secrets_read == 0 && !r.secret_written);
    intra_lab_result_cleanup(&r);
}

/* the policy pins another attestation key */
static void test_policy_rejects(void)
{
    char *text = strdup(good_policy_text);
    const char *id = NULL;
    /* the key id is the first 64-hex-digit string value of the policy */
    for (char *p = strchr(text, '"'); p != NULL; p = strchr(p + 1, '"')) {
        size_t n = strspn(p + 1, "0123456789abcdef");
        if (n == 64 && p[65] == '"') {
            id = p + 1;
            memset(p + 1, '0', 64);
            break;
        }
    }
    CHECK(id != NULL);
    atls_policy *untrusted = NULL;
    CHECK_OK(atls_policy_parse(text, strlen(text), "untrusted", &untrusted));
    free(text);
    atls_intra_insecure_config s = server_cfg(ATLS_INTRA_INSECURE_X509,
                                              ATLS_INTRA_INSECURE_BINDER_HANDSHAKE);
    atls_intra_insecure_config c = client_cfg(ATLS_INTRA_INSECURE_X509,
                                              ATLS_INTRA_INSECURE_BINDER_HANDSHAKE, untrusted);
    intra_lab_result r;
    server_view v;
    run(&s, F.leaf->cert, F.leaf->key, &c, &r, &v);
    CHECK(!r.handshake_ok && r.error == ATLS_ERR_POLICY_UNTRUSTED_KEY);
    CHECK(v.last_alert_received == SSL_AD_BAD_CERTIFICATE && v.secrets_read == 0);
    intra_lab_result_cleanup(&r);
    atls_policy_free(untrusted);

    /* no policy and no explicit acceptance of a warning */
    c = client_cfg(ATLS_INTRA_INSECURE_X509, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE, NULL);
    run(&s, F.leaf->cert, F.leaf->key, &c, &r, &v);
    CHECK(!r.handshake_ok && r.error == ATLS_ERR_POLICY && r.appraisal.status == ATLS_TIER_WARNING);
    intra_lab_result_cleanup(&r);
}

static void test_x509_checks(void)
{
    atls_intra_insecure_config s = server_cfg(ATLS_INTRA_INSECURE_X509,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE_KEY);
    atls_intra_insecure_config c = client_cfg(ATLS_INTRA_INSECURE_X509,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, good_policy);
    intra_lab_result r;
    server_view v;
    /* another name */
    c.hostname = "other.test";
    run(&s, F.leaf->cert, F.leaf->key, &c, &r, &v);
    CHECK(!r.handshake_ok && r.error == ATLS_ERR_CRYPTO_CHAIN && strstr(r.reason, "mismatch"));
    CHECK(v.secrets_read == 0 && r.alert_sent >= 0);
    intra_lab_result_cleanup(&r);
    /* a self-signed certificate: genuine Evidence does not stand in for the chain */
    c.hostname = "server.test";
    run(&s, ta_cert, ta_key, &c, &r, &v);
    CHECK(!r.handshake_ok && r.error == ATLS_ERR_CRYPTO_CHAIN);
    intra_lab_result_cleanup(&r);
    /* an X.509-mode client asks for CERT_ATTESTATION; an RA-only server has none:
     * -08 8.1.2 "unsupported_evidence", here handshake_failure */
    atls_intra_insecure_config ra = server_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                               ATLS_INTRA_INSECURE_BINDER_NONCE_KEY);
    run(&ra, F.leaf->cert, F.leaf->key, &c, &r, &v);
    CHECK(!r.handshake_ok && r.alert_received == SSL_AD_HANDSHAKE_FAILURE);
    CHECK(v.last_error == ATLS_ERR_EVIDENCE_FORMAT && v.evidence_len == 0);
    intra_lab_result_cleanup(&r);
}

static void test_missing_evidence(void)
{
    /* a plain TLS server ignores the extensions: the RA-only client has nothing to trust */
    atls_intra_insecure_config c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, good_policy);
    intra_lab_result r;
    server_view v;
    run(NULL, ta_cert, ta_key, &c, &r, &v);
    CHECK(!r.handshake_ok && !r.attested && r.error == ATLS_ERR_EVIDENCE);
    CHECK(strstr(r.reason, "no Evidence") != NULL && v.secrets_read == 0);
    intra_lab_result_cleanup(&r);
    /* code points that differ between the ends: nothing is understood, nothing is trusted */
    atls_intra_insecure_config s = server_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE_KEY);
    s.ext_evidence_request = 0xFFF0;
    s.ext_attestation_evidence = 0xFFF1;
    run(&s, ta_cert, ta_key, &c, &r, &v);
    CHECK(!r.handshake_ok && r.error == ATLS_ERR_EVIDENCE && v.evidence_len == 0);
    intra_lab_result_cleanup(&r);
    /* the same non-default code points on both ends work */
    c.ext_evidence_request = 0xFFF0;
    c.ext_attestation_evidence = 0xFFF1;
    run(&s, ta_cert, ta_key, &c, &r, &v);
    CHECK(r.handshake_ok && r.attested);
    intra_lab_result_cleanup(&r);
    /* a client that does not ask gets no Evidence (and in X.509 mode an ordinary handshake) */
    atls_intra_insecure_config sx = server_cfg(ATLS_INTRA_INSECURE_X509,
                                               ATLS_INTRA_INSECURE_BINDER_NONCE_KEY);
    run(&sx, F.leaf->cert, F.leaf->key, NULL, &r, &v);
    CHECK(r.handshake_ok && v.handshakes_ok == 1 && v.evidence_len == 0 && v.secrets_read == 1);
    intra_lab_result_cleanup(&r);
}

static void test_verifier_nonce(void)
{
    static const uint8_t vnonce[16] = "verifier-nonce!";
    atls_intra_insecure_config s = server_cfg(ATLS_INTRA_INSECURE_X509,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE);
    atls_intra_insecure_config c = client_cfg(ATLS_INTRA_INSECURE_X509,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE, good_policy);
    c.nonce = vnonce;
    c.nonce_len = sizeof(vnonce);
    intra_lab_result r;
    run(&s, F.leaf->cert, F.leaf->key, &c, &r, NULL);
    CHECK(r.handshake_ok && r.attested);
    CHECK(r.have_inputs && r.inputs.nonce_len == sizeof(vnonce) &&
          memcmp(r.inputs.nonce, vnonce, sizeof(vnonce)) == 0);
    intra_lab_result_cleanup(&r);
}

/* evidence sources that fail, or produce what does not fit a CertificateEntry extension */
static size_t cb_size;

static atls_error failing_source(void *arg, SSL *ssl, const atls_intra_insecure_binder_inputs *in,
                                 const uint8_t challenge[ATLS_CHALLENGE_LEN], uint8_t **cmw,
                                 size_t *cmw_len)
{
    (void)arg, (void)ssl, (void)in, (void)challenge;
    if (cb_size == 0) {
        return atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                                "test: the quote source is down");
    }
    *cmw = calloc(1, cb_size);
    *cmw_len = cb_size;
    return *cmw != NULL ? ATLS_OK : ATLS_ERR_INTERNAL_ALLOC;
}

static void test_evidence_source_failures(void)
{
    atls_intra_insecure_config s = server_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE_KEY);
    s.evidence_cb = failing_source;
    s.evidence_media_type = F.att->media_type;
    atls_intra_insecure_config c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, good_policy);
    const size_t sizes[] = {0, ATLS_INTRA_INSECURE_EVIDENCE_MAX + 1, 200000};
    for (size_t i = 0; i < 3; i++) {
        cb_size = sizes[i];
        intra_lab_result r;
        server_view v;
        run(&s, ta_cert, ta_key, &c, &r, &v);
        CHECK(!r.handshake_ok && r.alert_received == SSL_AD_INTERNAL_ERROR);
        CHECK(v.last_error == ATLS_ERR_EVIDENCE_ATTESTER && v.secrets_read == 0);
        intra_lab_result_cleanup(&r);
    }
    /* the most that fits is sent and reaches the client (where it is not a CMW) */
    cb_size = ATLS_INTRA_INSECURE_EVIDENCE_MAX;
    intra_lab_result r;
    run(&s, ta_cert, ta_key, &c, &r, NULL);
    CHECK(!r.handshake_ok && r.evidence_len == ATLS_INTRA_INSECURE_EVIDENCE_MAX);
    CHECK(r.error != ATLS_OK && r.alert_sent == SSL_AD_BAD_CERTIFICATE);
    intra_lab_result_cleanup(&r);
}

static void expect_config_error(int is_server, const atls_intra_insecure_config *cfg,
                                atls_error code, const char *what)
{
    SSL_CTX *ctx = SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
    atls_error rc = atls_intra_insecure_ctx_configure(ctx, is_server, cfg);
    printf("config %-34s -> %s\n", what, atls_error_message());
    CHECK(rc == code);
    SSL_CTX_free(ctx);
    ERR_clear_error();
}

static void test_config(void)
{
    atls_intra_insecure_config zero;
    memset(&zero, 0, sizeof(zero));
    expect_config_error(1, &zero, ATLS_ERR_USAGE_CONFIG, "zero server");
    expect_config_error(0, &zero, ATLS_ERR_USAGE_CONFIG, "zero client");
    atls_intra_insecure_config c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY, 0, good_policy);
    expect_config_error(0, &c, ATLS_ERR_USAGE_CONFIG, "no binder");
    c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY, 10, good_policy);
    expect_config_error(0, &c, ATLS_ERR_USAGE_CONFIG, "unknown binder");
    c = client_cfg(ATLS_INTRA_INSECURE_X509, ATLS_INTRA_INSECURE_BINDER_NONCE, good_policy);
    c.trust = NULL;
    expect_config_error(0, &c, ATLS_ERR_USAGE_CONFIG, "x509 without CA");
    c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY, ATLS_INTRA_INSECURE_BINDER_NONCE, good_policy);
    c.hostname = "server.test";
    expect_config_error(0, &c, ATLS_ERR_USAGE_CONFIG, "ra-only with a host name");
    c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY, ATLS_INTRA_INSECURE_BINDER_NONCE, good_policy);
    c.nonce = (const uint8_t *)"short";
    c.nonce_len = 5;
    expect_config_error(0, &c, ATLS_ERR_USAGE_CONFIG, "7-byte nonce");
    c.nonce_len = 0;
    c.nonce = NULL;
    c.ext_evidence_request = c.ext_attestation_evidence = 0xFFF5;
    expect_config_error(0, &c, ATLS_ERR_USAGE_CONFIG, "same code point twice");
    c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY, ATLS_INTRA_INSECURE_BINDER_NONCE, NULL);
    c.offered_media_types = NULL;
    expect_config_error(0, &c, ATLS_ERR_USAGE_CONFIG, "nothing to offer");
    static const char *const too_many[] = {
        "application/eat-collection; profile=\"http://arm.com/CCA-SSD/1.0.0\"",
        "application/eat+cwt; eat_profile=\"tag:atls.invalid,2026:sim\"",
        "application/vnd.veraison.tsm-report+cbor", "application/vnd.atls.tpm2-quote+cbor",
        "application/vnd.atls.snp-report", "application/vnd.atls.tdx-quote", NULL};
    c.offered_media_types = too_many;
    expect_config_error(0, &c, ATLS_ERR_USAGE_CONFIG, "offer over 255 bytes");
    atls_intra_insecure_config s = server_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                              ATLS_INTRA_INSECURE_BINDER_NONCE);
    s.attester = NULL;
    expect_config_error(1, &s, ATLS_ERR_USAGE_CONFIG, "server without attester");
    s.evidence_cb = failing_source;
    expect_config_error(1, &s, ATLS_ERR_USAGE_CONFIG, "evidence_cb without type");
    /* configured twice */
    s = server_cfg(ATLS_INTRA_INSECURE_RA_ONLY, ATLS_INTRA_INSECURE_BINDER_NONCE);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    CHECK_OK(atls_intra_insecure_ctx_configure(ctx, 1, &s));
    CHECK_ERR(atls_intra_insecure_ctx_configure(ctx, 1, &s), ATLS_ERR_USAGE_STATE);
    SSL_CTX_free(ctx);
    /* the default offer comes from the policy's sections */
    c = client_cfg(ATLS_INTRA_INSECURE_RA_ONLY, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, good_policy);
    c.offered_media_types = NULL;
    s = server_cfg(ATLS_INTRA_INSECURE_RA_ONLY, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY);
    intra_lab_result r;
    run(&s, ta_cert, ta_key, &c, &r, NULL);
    CHECK(r.handshake_ok && r.attested);
    intra_lab_result_cleanup(&r);
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "sim";
    if (fixture_init(&F) != 0) {
        fprintf(stderr, "fixture_init failed: %s\n", atls_error_detail());
        return 1;
    }
    int rc = fixture_attester(&F, kind);
    if (rc == 77) {
        fixture_cleanup(&F);
        TEST_SKIP("swtpm is not installed");
    }
    if (rc != 0 || atls_intra_insecure_throwaway_new(&ta_key, &ta_cert) != ATLS_OK ||
        make_good_policy() != 0) {
        fprintf(stderr, "setup failed: %s\n", atls_error_detail());
        fixture_cleanup(&F);
        return 1;
    }
    test_every_mode_and_binder();
    test_binder_mismatch();
    test_policy_rejects();
    test_x509_checks();
    test_missing_evidence();
    test_verifier_nonce();
    test_evidence_source_failures();
    test_config();
    atls_policy_free(good_policy);
    free(good_policy_text);
    X509_free(ta_cert);
    EVP_PKEY_free(ta_key);
    fixture_cleanup(&F);
    return check_summary();
}
