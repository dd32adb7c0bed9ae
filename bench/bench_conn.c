/*
 * bench_conn: connection-level benchmarks over real in-process TLS 1.3 connections
 * (socketpair, the session fixture's server identity and attesters).
 *
 *   bench_conn setup KIND N      benchmark 1: plain TLS 1.3 handshake vs handshake + first
 *                                attestation + appraisal (strict TOFU policy)
 *   bench_conn reattest KIND N   benchmark 2: re-attestation round trip on an open connection vs
 *                                a DATA round trip of the same size on the same connection
 *
 * KIND is "sim" or "tpm2" (a private swtpm). Prints Markdown table rows (see scripts/bench);
 * exits 77 when swtpm is missing. The client verifies the server certificate chain in both the
 * baseline and the attested case, as a real client does.
 */
#include "bench_util.h"
#include "session_fixture.h"

#include <atls/frame.h>

#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static fixture F;

/* ---- timing shim around the attester: where the time of an attestation goes ---------------- */

static const atls_attester_ops *real_att;
static double produce_ms[100000];
static size_t produce_n;

static atls_error timed_create(const char *const *config, void **state)
{
    return real_att->create(config, state);
}

static atls_error timed_produce(void *state, const uint8_t *challenge, uint8_t **out,
                                size_t *out_len)
{
    uint64_t t0 = bench_now_ns();
    atls_error rc = real_att->produce(state, challenge, out, out_len);
    if (produce_n < sizeof(produce_ms) / sizeof(produce_ms[0])) {
        produce_ms[produce_n++] = (double)(bench_now_ns() - t0) / 1e6;
    }
    return rc;
}

static void timed_destroy(void *state)
{
    real_att->destroy(state);
}

static atls_attester_ops timed_ops;

/* ---- a TLS 1.3 pair with long-lived contexts ------------------------------------------------ */

static SSL_CTX *sctx, *cctx;

static int make_contexts(void)
{
    sctx = SSL_CTX_new(TLS_server_method());
    cctx = SSL_CTX_new(TLS_client_method());
    if (sctx == NULL || cctx == NULL || atls_ssl_ctx_configure(sctx, 1, 0) != ATLS_OK ||
        atls_ssl_ctx_configure(cctx, 0, 1) != ATLS_OK ||
        SSL_CTX_use_certificate(sctx, F.leaf->cert) != 1 ||
        SSL_CTX_use_PrivateKey(sctx, F.leaf->key) != 1) {
        return -1;
    }
    SSL_CTX_set_alpn_select_cb(sctx, atls_alpn_select_cb, NULL);
    SSL_CTX_set1_cert_store(cctx, F.store);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

/* handshake: a fresh socketpair and both ends of a TLS 1.3 handshake driven in this thread. */
static int handshake(tls_pair *p)
{
    int sv[2];
    memset(p, 0, sizeof(*p));
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) {
        return -1;
    }
    p->client_fd = sv[0];
    p->server_fd = sv[1];
    p->client = SSL_new(cctx);
    p->server = SSL_new(sctx);
    if (p->client == NULL || p->server == NULL) {
        return -1;
    }
    SSL_set_fd(p->client, sv[0]);
    SSL_set_fd(p->server, sv[1]);
    SSL_set_tlsext_host_name(p->client, "server.test");
    SSL_set_connect_state(p->client);
    SSL_set_accept_state(p->server);
    int cdone = 0, sdone = 0;
    for (int i = 0; i < 1000 && !(cdone && sdone); i++) {
        if (!cdone) {
            int r = SSL_do_handshake(p->client);
            if (r == 1) {
                cdone = 1;
            } else if (SSL_get_error(p->client, r) != SSL_ERROR_WANT_READ) {
                return -1;
            }
        }
        if (!sdone) {
            int r = SSL_do_handshake(p->server);
            if (r == 1) {
                sdone = 1;
            } else if (SSL_get_error(p->server, r) != SSL_ERROR_WANT_READ) {
                return -1;
            }
        }
    }
    return cdone && sdone && SSL_version(p->client) == TLS1_3_VERSION ? 0 : -1;
}

static void pair_close(tls_pair *p)
{
    SSL_free(p->client);
    SSL_free(p->server);
    close(p->client_fd);
    close(p->server_fd);
}

/* ---- benchmark 1 ------------------------------------------------------------------------------ */

static int bench_setup(const atls_policy *policy, int n)
{
    double *plain = calloc((size_t)n, sizeof(double));
    double *att = calloc((size_t)n, sizeof(double));
    if (plain == NULL || att == NULL) {
        return 1;
    }
    produce_n = 0;
    for (int i = 0; i < n; i++) {
        /* interleaved so that drift of the machine load affects both series alike */
        tls_pair p;
        uint64_t t0 = bench_now_ns();
        if (handshake(&p) != 0) {
            fprintf(stderr, "handshake failed\n");
            return 1;
        }
        plain[i] = (double)(bench_now_ns() - t0) / 1e6;
        pair_close(&p);

        t0 = bench_now_ns();
        if (handshake(&p) != 0) {
            fprintf(stderr, "handshake failed\n");
            return 1;
        }
        server_run run = {.pair = &p};
        server_config_attest(&F, &run);
        atls_session_config cc = client_config(&F, policy);
        atls_session *c = NULL;
        atls_error rc = server_start(&run) == 0 ? ATLS_OK : ATLS_ERR_INTERNAL;
        if (rc == ATLS_OK) {
            rc = atls_session_new(p.client, &cc, &c);
        }
        if (rc == ATLS_OK) {
            rc = atls_session_attest(c, NULL);
        }
        att[i] = (double)(bench_now_ns() - t0) / 1e6;
        if (rc != ATLS_OK) {
            fprintf(stderr, "attestation failed: %s\n", atls_error_detail());
            return 1;
        }
        atls_session_close(c);
        atls_session_free(c);
        shutdown(p.client_fd, SHUT_RDWR);
        server_join(&run);
        pair_close(&p);
    }
    double pm = bench_percentile(plain, (size_t)n, 50);
    double am = bench_percentile(att, (size_t)n, 50);
    double prod = bench_percentile(produce_ms, produce_n, 50);
    printf("| %s | %d | %.3f | %.3f | **%.2f×** | %.3f ms (%.0f %%) |\n", F.kind, n, pm, am,
           am / pm, prod, 100.0 * prod / am);
    free(plain);
    free(att);
    return 0;
}

/* ---- benchmark 2 ------------------------------------------------------------------------------ */

static atls_error read_exact(atls_session *s, uint8_t *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        size_t n = 0;
        atls_error rc = atls_session_read(s, buf + got, want - got, &n);
        if (rc != ATLS_OK) {
            return rc;
        }
        got += n;
        if (n == 0 && !atls_session_has_pending(s)) {
            struct pollfd pf = {.fd = atls_session_fd(s), .events = atls_session_poll_events(s)};
            if (poll(&pf, 1, 10000) <= 0) {
                return ATLS_ERR_IO_TIMEOUT;
            }
        }
    }
    return ATLS_OK;
}

static atls_error write_all(atls_session *s, const uint8_t *data, size_t len)
{
    atls_error rc = atls_session_write(s, data, len);
    while (rc == ATLS_OK && atls_session_queued(s) > 0) {
        struct pollfd pf = {.fd = atls_session_fd(s), .events = POLLOUT};
        (void)poll(&pf, 1, 1000);
        rc = atls_session_flush(s);
    }
    return rc;
}

static int bench_reattest(const atls_policy *policy, int n)
{
    tls_pair p;
    if (handshake(&p) != 0) {
        return 1;
    }
    server_run run = {.pair = &p};
    server_config_attest(&F, &run);
    /* back to back on purpose: the per-session Evidence rate limit would set the pace */
    run.cfg.evidence_per_second = 1000000;
    run.cfg.evidence_burst = 1000000;
    atls_session_config cc = client_config(&F, policy);
    atls_session *c = NULL;
    if (server_start(&run) != 0 || atls_session_new(p.client, &cc, &c) != ATLS_OK ||
        atls_session_attest(c, NULL) != ATLS_OK) {
        fprintf(stderr, "first attestation failed: %s\n", atls_error_detail());
        return 1;
    }
    double *att = calloc((size_t)n, sizeof(double));
    double *data = calloc((size_t)n, sizeof(double));
    if (att == NULL || data == NULL) {
        return 1;
    }
    /* bytes on the wire for one re-attestation (TLS records included), both directions */
    uint64_t r0 = BIO_number_read(SSL_get_rbio(p.client));
    uint64_t w0 = BIO_number_written(SSL_get_wbio(p.client));
    produce_n = 0;
    for (int i = 0; i < n; i++) {
        uint64_t t0 = bench_now_ns();
        if (atls_session_attest(c, NULL) != ATLS_OK) {
            fprintf(stderr, "re-attestation %d failed: %s\n", i, atls_error_detail());
            return 1;
        }
        att[i] = (double)(bench_now_ns() - t0) / 1e6;
    }
    uint64_t in_bytes = (BIO_number_read(SSL_get_rbio(p.client)) - r0) / (uint64_t)n;
    uint64_t out_bytes = (BIO_number_written(SSL_get_wbio(p.client)) - w0) / (uint64_t)n;
    /* the baseline: the authenticator's size sent as DATA and echoed back */
    size_t size = (size_t)in_bytes;
    uint8_t *buf = malloc(size), *back = malloc(size);
    if (buf == NULL || back == NULL) {
        return 1;
    }
    memset(buf, 0x5a, size);
    for (int i = 0; i < n; i++) {
        uint64_t t0 = bench_now_ns();
        if (write_all(c, buf, size) != ATLS_OK || read_exact(c, back, size) != ATLS_OK) {
            fprintf(stderr, "data round trip failed: %s\n", atls_error_detail());
            return 1;
        }
        data[i] = (double)(bench_now_ns() - t0) / 1e6;
    }
    atls_session_close(c);
    atls_session_free(c);
    shutdown(p.client_fd, SHUT_RDWR);
    server_join(&run);
    pair_close(&p);
    double a50 = bench_percentile(att, (size_t)n, 50), a99 = bench_percentile(att, (size_t)n, 99);
    double d50 = bench_percentile(data, (size_t)n, 50), d99 = bench_percentile(data, (size_t)n, 99);
    double prod = bench_percentile(produce_ms, produce_n, 50);
    printf("| %s | %d | %llu / %llu | %.3f / %.3f | %.3f / %.3f | **%.1f× / %.1f×** | %.3f ms |\n",
           F.kind, n, (unsigned long long)out_bytes, (unsigned long long)in_bytes, d50, d99, a50,
           a99, a50 / d50, a99 / d99, prod);
    free(att);
    free(data);
    free(buf);
    free(back);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "setup") != 0 && strcmp(argv[1], "reattest") != 0)) {
        fprintf(stderr, "usage: bench_conn setup|reattest sim|tpm2 N\n");
        return 2;
    }
    int n = atoi(argv[3]);
    if (n < 1 || n > 100000) {
        fprintf(stderr, "bench_conn: N must be 1..100000\n");
        return 2;
    }
    if (fixture_init(&F) != 0) {
        fprintf(stderr, "bench_conn: fixture setup failed\n");
        return 1;
    }
    int rc = fixture_attester(&F, argv[2]);
    if (rc != 0) {
        fixture_cleanup(&F);
        return rc == 77 ? 77 : 1;
    }
    /* measure the attester's share with a timing shim of the same ops */
    real_att = F.att;
    timed_ops = *F.att;
    timed_ops.create = timed_create;
    timed_ops.produce = timed_produce;
    timed_ops.destroy = timed_destroy;
    F.att = &timed_ops;
    atls_policy *policy = NULL;
    if (fixture_make_policies(&F) != 0 || (policy = fixture_policy(&F, F.good_policy)) == NULL ||
        make_contexts() != 0) {
        fprintf(stderr, "bench_conn: setup failed: %s\n", atls_error_detail());
        rc = 1;
    } else if (strcmp(argv[1], "setup") == 0) {
        rc = bench_setup(policy, n);
    } else {
        rc = bench_reattest(policy, n);
    }
    atls_policy_free(policy);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    F.att = real_att;
    fixture_cleanup(&F);
    return rc;
}
