/*
 * tls_pair.h: a real OpenSSL TLS client/server connection inside one test process.
 *
 * The two ends talk over a socketpair(AF_UNIX) whose fds are non-blocking; tls_pair_new drives
 * both handshakes to completion in one thread (alternating SSL_do_handshake). The client
 * records OpenSSL's verification of the server certificate against |client_trust| but goes on
 * whatever it says (the tests check identities through atls). After
 * the handshake, move application data with tls_pair_transfer (one thread), or use the SSL*s
 * from two threads after switching the fds to blocking yourself.
 *
 *   tls_pair_options o = {0};
 *   o.ciphersuites = "TLS_AES_256_GCM_SHA384";
 *   tls_pair *p;  if (tls_pair_new(&o, &p) != ATLS_OK) ...;  use p->client, p->server;
 *   tls_pair_free(p);
 */
#ifndef ATLS_TESTS_TLS_PAIR_H
#define ATLS_TESTS_TLS_PAIR_H

#include <atls/error.h>

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

/* Zero-initialise, then set what you need. Everything is borrowed. */
typedef struct tls_pair_options {
    const char *ciphersuites;  /* TLS 1.3 suites (SSL_CTX_set_ciphersuites); NULL: default */
    X509 *server_cert;         /* NULL: a generated P-256 leaf for "server.test" */
    EVP_PKEY *server_key;
    STACK_OF(X509) *server_chain; /* intermediates sent by the server, may be NULL */
    int max_version;           /* 0: TLS 1.3; TLS1_2_VERSION makes a TLS 1.2 connection */
    const unsigned char *alpn; /* ALPN protocol list in wire format (u8-length strings) */
    size_t alpn_len;           /* offered by the client, the server picks the first match */
    int num_tickets;           /* NewSessionTickets the server sends (default 0) */
    SSL_CTX *server_ctx;       /* reuse this server context (shared, ref-counted), e.g. so a
                                  ticket from an earlier pair can be resumed; NULL: a new one */
    SSL_SESSION *resume;       /* client offers this session (resumption), or NULL */
    /* client side: NSS key log lines (SSL_CTX_set_keylog_callback), e.g. EXPORTER_SECRET for
     * tests that derive the exporter by hand; NULL: none */
    void (*keylog)(const SSL *ssl, const char *line);
    /* the client verifies the server certificate against this store (result in
     * SSL_get_verify_result; the handshake goes on either way), or NULL: no store */
    X509_STORE *client_trust;
    /* client authentication in TLS: the server asks for a certificate (SSL_VERIFY_PEER
     * against server_trust) and the client presents client_cert; NULL: none */
    X509 *client_cert;
    EVP_PKEY *client_key;
    X509_STORE *server_trust;
    /* the client's signature_algorithms (SSL_CTX_set1_sigalgs_list), NULL: OpenSSL's */
    const char *client_sigalgs;
    /* called on the client's SSL_CTX after the settings above (e.g. atls_ssl_ctx_configure) */
    void (*client_ctx_setup)(SSL_CTX *ctx);
} tls_pair_options;

/* The connection. All members are owned by the pair (tls_pair_free). */
typedef struct tls_pair {
    SSL_CTX *client_ctx, *server_ctx;
    SSL *client, *server;
    int client_fd, server_fd;
} tls_pair;

/* tls_pair_new creates both ends and completes the handshake. Caller frees *out. */
ATLS_MUST_CHECK atls_error tls_pair_new(const tls_pair_options *opts, tls_pair **out);

/* tls_pair_free shuts down and frees everything (NULL-safe). */
void tls_pair_free(tls_pair *p);

/* tls_pair_transfer writes |len| bytes from the client (from_client = 1) or the server to the
 * other end and reads exactly |len| bytes there into |out|, in one thread. */
ATLS_MUST_CHECK atls_error tls_pair_transfer(tls_pair *p, int from_client, const uint8_t *data,
                                             size_t len, uint8_t *out);

#endif /* ATLS_TESTS_TLS_PAIR_H */
