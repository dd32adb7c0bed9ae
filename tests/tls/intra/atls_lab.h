/*
 * atls_lab.h: the atls side of the loopback lab (post-handshake attestation over RFC 9261,
 * the design atls ships), built as `atls serve` / `atls connect` build it, so the comparison
 * tests and benchmarks run both designs over the same kind of connection:
 *
 *   server   TLS 1.3 with ALPN atls/1 (atls_ssl_ctx_configure), its PKI certificate, an atls
 *            session per connection answering attestation requests with its attester and
 *            echoing DATA;
 *   client   TLS 1.3 with the CA and host-name check, then an atls session that must appraise
 *            the server (atls's defaults: the TLS key, chain and name checked) before any DATA.
 */
#ifndef ATLS_TESTS_ATLS_LAB_H
#define ATLS_TESTS_ATLS_LAB_H

#include <atls/session.h>

#include "intra_lab.h"

#include <stdint.h>

/* A server on loopback (site.srv.lb.port). */
typedef struct atls_lab_site {
    SSL_CTX *ctx;
    intra_lab_server srv;
    atls_session_config cfg;     /* per connection: cert, key, attester; set peer_must_attest
                                    (with policy and trust) before start to ask each client
                                    for its Evidence first */
    atls_fair_lock att_lock;
    int sessions, sessions_failed;
    atls_error last_error;       /* how the last session ended */
    char last_reason[256];
} atls_lab_site;

/* atls_lab_site_start: |cert|/|key| for TLS and for the authenticators, attester |ops|/|state|
 * (NULL: refuses to attest). 0 or -1. */
int atls_lab_site_start(atls_lab_site *s, X509 *cert, EVP_PKEY *key,
                        const atls_attester_ops *ops, void *state);
/* atls_lab_site_init + atls_lab_site_serve: atls_lab_site_start in two steps, to change s->cfg
 * in between. */
int atls_lab_site_init(atls_lab_site *s, X509 *cert, EVP_PKEY *key, const atls_attester_ops *ops,
                       void *state);
int atls_lab_site_serve(atls_lab_site *s);
void atls_lab_site_stop(atls_lab_site *s);

/* A client connection. */
typedef struct atls_lab_client {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
    atls_session *session;
    atls_error error;            /* the first failure, named */
    char reason[300];
    int handshake_ok, attested;
    uint64_t handshake_ns, attest_ns; /* atls_lab_connect: TCP + TLS handshake, first attestation */
} atls_lab_client;

/* atls_lab_client_ctx: a client SSL_CTX (ALPN atls/1, TLS 1.3, SSL_VERIFY_PEER with |trust|). */
SSL_CTX *atls_lab_client_ctx(X509_STORE *trust);

/* atls_lab_connect: TCP, the TLS handshake (server name |host|), the session and its first
 * attestation with |policy|. Returns the error (ATLS_OK when attested); c->error/reason say
 * why. |ctx| is borrowed (NULL: a new one with |trust|, freed by atls_lab_close). */
atls_error atls_lab_connect(atls_lab_client *c, SSL_CTX *ctx, X509_STORE *trust,
                            const char *host, const atls_policy *policy, int port);

/* What a client can show when the server asks it to attest (all borrowed). */
typedef struct atls_lab_identity {
    X509 *cert;
    EVP_PKEY *key;
    const atls_attester_ops *attester;
    void *attester_state;
} atls_lab_identity;

/* atls_lab_connect_as is atls_lab_connect for a client that authenticates in TLS with
 * |id|'s certificate and answers the server's requests with its attester (NULL: it has
 * nothing to show). */
atls_error atls_lab_connect_as(atls_lab_client *c, SSL_CTX *ctx, X509_STORE *trust,
                               const char *host, const atls_policy *policy, int port,
                               const atls_lab_identity *id);

/* atls_lab_reattest: one more attestation on the open connection. */
atls_error atls_lab_reattest(atls_lab_client *c);

/* atls_lab_roundtrip: DATA |msg| out and its echo back. */
atls_error atls_lab_roundtrip(atls_lab_client *c, const char *msg);

void atls_lab_close(atls_lab_client *c);

#endif /* ATLS_TESTS_ATLS_LAB_H */
