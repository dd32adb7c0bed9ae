/*
 * bench_compare: the measured part of docs/COMPARISON.md (scripts/compare, `make compare`).
 * Not a test: it prints figures.
 *
 *   bench_compare SOURCE N0 N    SOURCE: sim | sim40 | tpm2
 *
 * Three designs against one Evidence source, over real TCP on 127.0.0.1 through a delaying relay
 * (tests/lib/delay_relay.h) at injected round-trip times of 0, 20 and 80 ms:
 *   plain       TLS 1.3, CA + host-name check, no attestation (the baseline of every ratio)
 *   intra-x509  the INSECURE intra-handshake baseline, X.509 mode, binder hs (-08 section 6.2.1)
 *   intra-ra    the INSECURE baseline, RA-only mode, binder #6 (-08 section 6.1)
 *   atls        TLS 1.3 + one post-handshake attestation (RFC 9261, atls/1) before any data
 * SOURCE: sim (the software attester), sim40 (sim with quote_latency_ms=40: a serialised 40 ms
 * quote source, a TDX Quoting Enclave's order of magnitude), tpm2 (a real swtpm).
 * N0 connections per design at RTT 0, N at 20 and 80 ms; the designs take turns connection by
 * connection so that drift on a shared machine hits all of them alike. No session tickets
 * anywhere (atls and the baseline forbid resumption; plain TLS is measured the same way).
 *
 * Output, one tab-separated record per line (times in ms):
 *   evidence SOURCE produce_p50 produce_p99 appraise_p50 appraise_p99 n
 *   conn SOURCE RTT DESIGN ttfb_p50 ttfb_p99 handshake_p50 handshake_p99 attest_p50 attest_p99 n
 *   reattest SOURCE RTT atls p50 p99 n          one more attestation on the open connection
 * ttfb: from connect() to the first byte of the server's answer to the client's first request;
 * handshake: connect() to the end of the TLS handshake (the baseline's includes its Evidence and
 * appraisal); attest: atls's first attestation after the handshake.
 */
#include "atls_lab.h"
#include "bench_util.h"
#include "delay_relay.h"
#include "intra_lab.h"
#include "session_fixture.h"

#include "codec/cmw/cmw.h"

#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static fixture F;
static const atls_attester_ops *att;
static void *att_state;
static atls_policy *policy;
static EVP_PKEY *ta_key;
static X509 *ta_cert;

enum { PLAIN, INTRA_X509, INTRA_RA, ATLS, NUM_DESIGNS };
static const char *const design_names[NUM_DESIGNS] = {"plain", "intra-x509", "intra-ra", "atls"};

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

/* ---- Evidence source ---------------------------------------------------------------------- */

static int open_source(const char *source)
{
    if (strcmp(source, "tpm2") == 0) {
        int rc = fixture_attester(&F, "tpm2");
        att = F.att;
        att_state = F.att_state;
        return rc;
    }
    att = atls_attester_ops_by_name("sim");
    if (strcmp(source, "sim") == 0) {
        att_state = F.sim_state;
        return 0;
    }
    if (strcmp(source, "sim40") != 0) {
        return -1;
    }
    char k[400], m[400];
    snprintf(k, sizeof(k), "key=%s", F.sim_key_path);
    snprintf(m, sizeof(m), "measurements=%s", F.meas_path);
    const char *config[] = {k, m, "quote_latency_ms=40", NULL};
    return att->create(config, &att_state) == ATLS_OK ? 0 : -1;
}

static void measure_evidence(const char *source, int n)
{
    double *produce = calloc((size_t)n, sizeof(double)), *appraise = calloc((size_t)n, sizeof(double));
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    int done = 0;
    for (int i = 0; i < n; i++) {
        memset(challenge, i, sizeof(challenge));
        uint8_t *ev = NULL, *cmw = NULL;
        size_t ev_len = 0, cmw_len = 0;
        uint64_t t0 = bench_now_ns();
        if (att->produce(att_state, challenge, &ev, &ev_len) != ATLS_OK) {
            break;
        }
        produce[i] = ms(bench_now_ns() - t0);
        if (atls_cmw_encode_record(att->media_type, ev, ev_len, ATLS_CMW_IND_EVIDENCE, &cmw,
                                   &cmw_len) != ATLS_OK) {
            free(ev);
            break;
        }
        atls_verify_input in;
        memset(&in, 0, sizeof(in));
        in.challenge = challenge;
        atls_appraisal a;
        memset(&a, 0, sizeof(a));
        t0 = bench_now_ns();
        atls_error rc = atls_appraise_cmw(cmw, cmw_len, &in, policy, &a);
        appraise[i] = ms(bench_now_ns() - t0);
        atls_appraisal_cleanup(&a);
        free(ev);
        free(cmw);
        if (rc != ATLS_OK) {
            break;
        }
        done++;
    }
    printf("evidence\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%d\n", source,
           bench_percentile(produce, (size_t)done, 50), bench_percentile(produce, (size_t)done, 99),
           bench_percentile(appraise, (size_t)done, 50),
           bench_percentile(appraise, (size_t)done, 99), done);
    free(produce);
    free(appraise);
}

/* ---- one connection per design ------------------------------------------------------------- */

typedef struct sample {
    double ttfb, handshake, attest;
    int ok;
} sample;

/* tls_conn: plain TLS or the baseline: connect, handshake, one request, the first answer byte */
static sample tls_conn(SSL_CTX *ctx, int port)
{
    sample s = {0};
    uint64_t t0 = bench_now_ns();
    int fd = loopback_connect(port);
    SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
    if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_set1_host(ssl, "server.test") == 1 &&
        SSL_connect(ssl) == 1) {
        s.handshake = ms(bench_now_ns() - t0);
        char b;
        if (SSL_write(ssl, "GET /\n", 6) == 6 && SSL_read(ssl, &b, 1) == 1) {
            s.ttfb = ms(bench_now_ns() - t0);
            s.ok = 1;
        }
        (void)SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    if (fd >= 0) {
        close(fd);
    }
    ERR_clear_error();
    return s;
}

static sample atls_conn(SSL_CTX *ctx, int port)
{
    sample s = {0};
    uint64_t t0 = bench_now_ns();
    atls_lab_client c;
    if (atls_lab_connect(&c, ctx, F.store, "server.test", policy, port) == ATLS_OK &&
        atls_lab_roundtrip(&c, "GET /\n") == ATLS_OK) {
        s.ttfb = ms(bench_now_ns() - t0);
        s.handshake = ms(c.handshake_ns);
        s.attest = ms(c.attest_ns);
        s.ok = 1;
    } else {
        fprintf(stderr, "bench_compare: atls connection failed: %s\n", c.reason);
    }
    atls_lab_close(&c);
    return s;
}

/* ---- the servers --------------------------------------------------------------------------- */

typedef struct sites {
    SSL_CTX *plain_srv, *intra_x509_srv, *intra_ra_srv;
    intra_lab_server plain, intra_x509, intra_ra;
    atls_lab_site atls;
    SSL_CTX *client[NUM_DESIGNS];
    int port[NUM_DESIGNS];
} sites;

static atls_intra_insecure_config intra_cfg(atls_intra_insecure_mode mode,
                                            atls_intra_insecure_binder b, int server)
{
    return server ? intra_lab_server_config(mode, b, att, att_state)
                  : intra_lab_client_config(mode, b, att, policy, F.store);
}

static int start_sites(sites *s)
{
    memset(s, 0, sizeof(*s));
    s->plain_srv = SSL_CTX_new(TLS_server_method());
    if (s->plain_srv == NULL || SSL_CTX_set_min_proto_version(s->plain_srv, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_num_tickets(s->plain_srv, 0) != 1 ||
        SSL_CTX_use_certificate(s->plain_srv, F.leaf->cert) != 1 ||
        SSL_CTX_use_PrivateKey(s->plain_srv, F.leaf->key) != 1) {
        return -1;
    }
    atls_intra_insecure_config x = intra_cfg(ATLS_INTRA_INSECURE_X509,
                                             ATLS_INTRA_INSECURE_BINDER_HANDSHAKE, 1);
    atls_intra_insecure_config r = intra_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                             ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, 1);
    s->intra_x509_srv = intra_lab_server_ctx(&x, F.leaf->cert, F.leaf->key);
    s->intra_ra_srv = intra_lab_server_ctx(&r, ta_cert, ta_key);
    if (s->intra_x509_srv == NULL || s->intra_ra_srv == NULL ||
        intra_lab_server_start(&s->plain, s->plain_srv) != 0 ||
        intra_lab_server_start(&s->intra_x509, s->intra_x509_srv) != 0 ||
        intra_lab_server_start(&s->intra_ra, s->intra_ra_srv) != 0 ||
        atls_lab_site_start(&s->atls, F.leaf->cert, F.leaf->key, att, att_state) != 0) {
        return -1;
    }
    s->port[PLAIN] = s->plain.lb.port;
    s->port[INTRA_X509] = s->intra_x509.lb.port;
    s->port[INTRA_RA] = s->intra_ra.lb.port;
    s->port[ATLS] = s->atls.srv.lb.port;
    /* clients */
    SSL_CTX *plain = SSL_CTX_new(TLS_client_method());
    if (plain == NULL || SSL_CTX_set_min_proto_version(plain, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set1_verify_cert_store(plain, F.store) != 1) {
        return -1;
    }
    SSL_CTX_set_verify(plain, SSL_VERIFY_PEER, NULL);
    s->client[PLAIN] = plain;
    x = intra_cfg(ATLS_INTRA_INSECURE_X509, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE, 0);
    r = intra_cfg(ATLS_INTRA_INSECURE_RA_ONLY, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, 0);
    s->client[INTRA_X509] = intra_lab_client_ctx(&x);
    s->client[INTRA_RA] = intra_lab_client_ctx(&r);
    s->client[ATLS] = atls_lab_client_ctx(F.store);
    for (int d = 0; d < NUM_DESIGNS; d++) {
        if (s->client[d] == NULL) {
            return -1;
        }
    }
    return 0;
}

static void stop_sites(sites *s)
{
    intra_lab_server_stop(&s->plain);
    intra_lab_server_stop(&s->intra_x509);
    intra_lab_server_stop(&s->intra_ra);
    atls_lab_site_stop(&s->atls);
    SSL_CTX_free(s->plain_srv);
    SSL_CTX_free(s->intra_x509_srv);
    SSL_CTX_free(s->intra_ra_srv);
    for (int d = 0; d < NUM_DESIGNS; d++) {
        SSL_CTX_free(s->client[d]);
    }
}

static void measure_rtt(const char *source, sites *s, int rtt, int n)
{
    delay_relay relay[NUM_DESIGNS];
    for (int d = 0; d < NUM_DESIGNS; d++) {
        memset(&relay[d], 0, sizeof(relay[d]));
        relay[d].target_port = s->port[d];
        relay[d].delay_ms = rtt / 2;
        if (delay_relay_start(&relay[d]) != 0) {
            exit(1);
        }
    }
    double *v[NUM_DESIGNS][3];
    int got[NUM_DESIGNS] = {0};
    for (int d = 0; d < NUM_DESIGNS; d++) {
        for (int k = 0; k < 3; k++) {
            v[d][k] = calloc((size_t)n, sizeof(double));
        }
    }
    for (int i = 0; i < n; i++) {
        for (int d = 0; d < NUM_DESIGNS; d++) {
            sample smp = d == ATLS ? atls_conn(s->client[d], relay[d].port)
                                   : tls_conn(s->client[d], relay[d].port);
            if (!smp.ok) {
                fprintf(stderr, "bench_compare: %s at %d ms failed\n", design_names[d], rtt);
                continue;
            }
            v[d][0][got[d]] = smp.ttfb;
            v[d][1][got[d]] = smp.handshake;
            v[d][2][got[d]] = smp.attest;
            got[d]++;
        }
    }
    for (int d = 0; d < NUM_DESIGNS; d++) {
        size_t m = (size_t)got[d];
        printf("conn\t%s\t%d\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\n", source, rtt,
               design_names[d], bench_percentile(v[d][0], m, 50), bench_percentile(v[d][0], m, 99),
               bench_percentile(v[d][1], m, 50), bench_percentile(v[d][1], m, 99),
               bench_percentile(v[d][2], m, 50), bench_percentile(v[d][2], m, 99), got[d]);
        for (int k = 0; k < 3; k++) {
            free(v[d][k]);
        }
    }
    /* re-attestation on one open atls connection */
    atls_lab_client c;
    double *re = calloc((size_t)n, sizeof(double));
    int m = 0;
    if (atls_lab_connect(&c, s->client[ATLS], F.store, "server.test", policy, relay[ATLS].port) ==
        ATLS_OK) {
        for (int i = 0; i < n; i++) {
            uint64_t t0 = bench_now_ns();
            if (atls_lab_reattest(&c) != ATLS_OK) {
                break;
            }
            re[m++] = ms(bench_now_ns() - t0);
        }
    }
    atls_lab_close(&c);
    printf("reattest\t%s\t%d\tatls\t%.3f\t%.3f\t%d\n", source, rtt,
           bench_percentile(re, (size_t)m, 50), bench_percentile(re, (size_t)m, 99), m);
    free(re);
    fflush(stdout);
    for (int d = 0; d < NUM_DESIGNS; d++) {
        delay_relay_stop(&relay[d]);
    }
}

/* the policy: what one honest appraisal saw (trust on first use, as atls policy init does) */
static int make_policy(void)
{
    atls_intra_insecure_config s = intra_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                             ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, 1);
    atls_intra_insecure_config c = intra_cfg(ATLS_INTRA_INSECURE_RA_ONLY,
                                             ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, 0);
    c.policy = NULL;
    c.accept_warning = 1;
    SSL_CTX *sctx = intra_lab_server_ctx(&s, ta_cert, ta_key), *cctx = intra_lab_client_ctx(&c);
    intra_lab_server srv;
    memset(&srv, 0, sizeof(srv));
    intra_lab_result r;
    memset(&r, 0, sizeof(r));
    if (sctx != NULL && cctx != NULL && intra_lab_server_start(&srv, sctx) == 0) {
        intra_lab_connect(cctx, srv.lb.port, NULL, &r);
        intra_lab_server_stop(&srv);
        policy = intra_lab_tofu_policy(&r.appraisal, NULL);
    }
    intra_lab_result_cleanup(&r);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return policy != NULL ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s sim|sim40|tpm2 N0 N\n", argv[0]);
        return 2;
    }
    const char *source = argv[1];
    int n0 = atoi(argv[2]), n = atoi(argv[3]);
    signal(SIGPIPE, SIG_IGN);
    if (n0 < 1 || n < 1 || fixture_init(&F) != 0) {
        return 2;
    }
    int rc = open_source(source);
    if (rc == 77) {
        fixture_cleanup(&F);
        fprintf(stderr, "bench_compare: swtpm is not installed\n");
        return 77;
    }
    sites s;
    if (rc != 0 || atls_intra_insecure_throwaway_new(&ta_key, &ta_cert) != ATLS_OK ||
        make_policy() != 0 || start_sites(&s) != 0) {
        fprintf(stderr, "bench_compare: setup failed: %s\n", atls_error_detail());
        return 1;
    }
    measure_evidence(source, n0);
    const int rtts[] = {0, 20, 80};
    for (int i = 0; i < 3; i++) {
        measure_rtt(source, &s, rtts[i], rtts[i] == 0 ? n0 : n);
    }
    stop_sites(&s);
    if (strcmp(source, "sim40") == 0) {
        att->destroy(att_state);
    }
    atls_policy_free(policy);
    X509_free(ta_cert);
    EVP_PKEY_free(ta_key);
    fixture_cleanup(&F);
    return 0;
}
