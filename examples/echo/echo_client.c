/*
 * echo_client: an ordinary OpenSSL TLS client for echo_server (the starting point of
 * attested_echo_client.c, which differs from it only where atls comes in).
 *
 * usage: echo_client HOST PORT CA_FILE MESSAGE
 * Connects to HOST:PORT (IPv4), verifies the server's certificate against CA_FILE and HOST,
 * sends MESSAGE, prints what comes back and closes. Exit 0 when the echo matched.
 */
#define _POSIX_C_SOURCE 200809L /* getaddrinfo, sockets: POSIX, not plain C11 */
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int fd = -1;
    if (getaddrinfo(host, port, &hints, &ai) == 0) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
    }
    return fd;
}

static int fail(const char *what)
{
    fprintf(stderr, "echo_client: %s\n", what);
    ERR_print_errors_fp(stderr);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT CA_FILE MESSAGE\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a server that goes away is an error, not our end */
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1) {
        SSL_CTX_free(ctx);
        return fail("cannot load the CA file");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    int fd = connect_to(argv[1], argv[2]), ok = 0;
    size_t len = strlen(argv[4]), got = 0;
    char *back = malloc(len + 1);
    if (ssl == NULL || fd < 0 || back == NULL || SSL_set_fd(ssl, fd) != 1 ||
        SSL_set_tlsext_host_name(ssl, argv[1]) != 1 || SSL_set1_host(ssl, argv[1]) != 1) {
        fail("cannot connect");
    } else if (SSL_connect(ssl) != 1) {
        fail("TLS handshake failed");
    } else {
        int n = SSL_write(ssl, argv[4], (int)len);
        while (n > 0 && got < len && (n = SSL_read(ssl, back + got, (int)(len - got))) > 0) {
            got += (size_t)n;
        }
        ok = got == len && memcmp(back, argv[4], len) == 0;
        if (ok) {
            printf("%.*s\n", (int)len, back);
        } else {
            fail("no echo");
        }
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0) {
        close(fd);
    }
    free(back);
    return ok ? 0 : 1;
}
