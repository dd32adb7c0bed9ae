/*
 * echo_server: an ordinary OpenSSL TLS echo server (the starting point of
 * attested_echo_server.c, which differs from it only where atls comes in).
 *
 * usage: echo_server PORT CERT KEY
 * Listens on 127.0.0.1:PORT, serves one connection at a time: TLS handshake with the
 * certificate chain CERT and private key KEY (PEM), then sends back every byte it receives
 * until the client closes.
 */
#define _POSIX_C_SOURCE 200809L /* getaddrinfo, sockets: POSIX, not plain C11 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void serve(SSL_CTX *ctx, int fd)
{
    char buf[16384];
    int n;
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
        SSL_accept(ssl) != 1) {
        fprintf(stderr, "echo_server: handshake failed\n");
        ERR_print_errors_fp(stderr);
        SSL_free(ssl);
        return;
    }
    while ((n = SSL_read(ssl, buf, (int)sizeof(buf))) > 0 && SSL_write(ssl, buf, n) == n) {
    }
    if (n < 0) {
        fprintf(stderr, "echo_server: connection failed\n");
        ERR_print_errors_fp(stderr);
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT CERT KEY\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a client that goes away is an error, not our end */
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
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
