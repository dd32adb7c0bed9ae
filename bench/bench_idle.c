/*
 * bench_idle: benchmark 5's clients. Opens K attested connections to `atls serve` on
 * 127.0.0.1:PORT (TLS 1.3, ALPN atls/1, one attestation each, appraised without policy: the
 * figure measured is the server's memory, not the client's verdict), then keeps them all open
 * and idle until stdin reaches end of file.
 *
 *   bench_idle PORT K
 *
 * Prints "opened=N" (N < K when the server or a limit refused more; the reason on stderr) and
 * then "ready" on stdout.
 */
#include "loopback.h"

#include <atls/session.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct idle_conn {
    int fd;
    SSL *ssl;
    atls_session *s;
} idle_conn;

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_idle PORT K\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int port = atoi(argv[1]);
    long k = atol(argv[2]);
    if (k < 1 || k > 100000) {
        fprintf(stderr, "bench_idle: K must be 1..100000\n");
        return 2;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || atls_ssl_ctx_configure(ctx, 0, 1) != ATLS_OK) {
        fprintf(stderr, "bench_idle: SSL_CTX setup failed\n");
        return 1;
    }
    idle_conn *cs = calloc((size_t)k, sizeof(idle_conn));
    if (cs == NULL) {
        return 1;
    }
    atls_session_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.peer_must_attest = 1;
    cfg.accept_warning = 1;
    cfg.timeout_ms = 30000;
    /* it measures idle memory, not certificates: no CA is configured here */
    cfg.insecure_skip_certificate_validation = 1;
    long n = 0;
    for (; n < k; n++) {
        idle_conn *c = &cs[n];
        c->fd = loopback_connect(port);
        if (c->fd < 0) {
            perror("bench_idle: connect");
            break;
        }
        c->ssl = SSL_new(ctx);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1) {
            fprintf(stderr, "bench_idle: TLS handshake %ld failed or timed out (10 s)\n", n);
            ERR_print_errors_fp(stderr);
            SSL_free(c->ssl);
            close(c->fd);
            break;
        }
        if (atls_session_new(c->ssl, &cfg, &c->s) != ATLS_OK ||
            atls_session_attest(c->s, NULL) != ATLS_OK) {
            fprintf(stderr, "bench_idle: attestation %ld failed: %s\n", n, atls_error_detail());
            atls_session_free(c->s);
            SSL_free(c->ssl);
            close(c->fd);
            break;
        }
        if ((n + 1) % 1000 == 0) {
            fprintf(stderr, "bench_idle: %ld attested connections\n", n + 1);
        }
    }
    printf("opened=%ld\nready\n", n);
    fflush(stdout);
    char buf[64];
    while (fread(buf, 1, sizeof(buf), stdin) > 0) {
    }
    for (long i = 0; i < n; i++) {
        atls_session_free(cs[i].s);
        SSL_free(cs[i].ssl);
        close(cs[i].fd);
    }
    free(cs);
    SSL_CTX_free(ctx);
    return 0;
}
