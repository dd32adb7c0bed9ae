/*
 * attested_echo_server: echo_server.c made attested with atls; the lines that differ are the
 * whole of the work (test examples_echo counts them): an SSL_CTX configured for atls/1, an
 * attester, a session on each connection, and atls_read / atls_write / atls_shutdown in
 * place of SSL_read / SSL_write / SSL_shutdown. A client that asks gets fresh Evidence bound
 * to its connection, at the start and whenever it asks again.
 *
 * usage: attested_echo_server PORT CERT KEY ATTESTER_CONFIG
 * As echo_server; ATTESTER_CONFIG configures the "sim" attester ("key=FILE": its signing key,
 * see atls/evidence.h).
 */
#define _POSIX_C_SOURCE 200809L /* getaddrinfo, sockets: POSIX, not plain C11 */
#include <atls/ssl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static atls_session_config cfg; /* what every connection attests with */

static void serve(SSL_CTX *ctx, int fd)
{
    char buf[16384];
    int n;
    atls_session *s = NULL;
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
        SSL_accept(ssl) != 1 || atls_session_new(ssl, &cfg, &s) != ATLS_OK) {
        fprintf(stderr, "echo_server: handshake failed\n");
        ERR_print_errors_fp(stderr);
        SSL_free(ssl);
        return;
    }
    while ((n = atls_read(s, buf, (int)sizeof(buf))) > 0 && atls_write(s, buf, n) == n) {
    }
    if (n < 0) {
        fprintf(stderr, "echo_server: connection failed\n");
        ERR_print_errors_fp(stderr);
    }
    atls_shutdown(s);
    atls_session_free(s);
    SSL_free(ssl);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT CERT KEY ATTESTER_CONFIG\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a client that goes away is an error, not our end */
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    const char *attester_config[] = {argv[4], NULL};
    cfg.attester = atls_attester_ops_by_name("sim");
    if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1 ||
        atls_ssl_ctx_configure(ctx, 1, 0) != ATLS_OK ||
        atls_attester_create(cfg.attester, attester_config, &cfg.attester_state) != ATLS_OK) {
        fprintf(stderr, "echo_server: cannot load %s / %s\n", argv[2], argv[3]);
        ERR_print_errors_fp(stderr);
        SSL_CTX_free(ctx);
        return 1;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 16) != 0) {
        perror("echo_server: listen");
        return 1;
    }
    printf("echo_server: listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd >= 0) {
            serve(ctx, fd);
            close(fd);
        }
    }
}
