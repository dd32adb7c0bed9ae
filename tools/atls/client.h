/* client.h: the client side shared by `atls connect` and `atls policy init`: a TLS 1.3 context
 * with PKI trust and hostname check, and attested connections (atls/1 sessions) to a server. */
#ifndef ATLS_TOOLS_CLIENT_H
#define ATLS_TOOLS_CLIENT_H

#include "cli.h"

#include <atls/session.h>

typedef struct client_opts {
    cli_hostport server;
    const char *servername;   /* name to check and send as SNI (default: the HOST part) */
    const char *ca;           /* PEM CA bundle (default: the system store) */
    const char *cert, *key;   /* our identity for mutual attestation (optional) */
    cli_attester_opts attester;
    const atls_policy *policy;
    const atls_verify_input *verify_input; /* trust inputs for the verifiers (NULL: none) */
    int accept_warning;       /* appraisal without policy counts as success */
    int timeout_ms;
    int answer_timeout_ms;    /* an unanswered request fails the session (0: timeout_ms) */
    /* called after each appraisal of the server (may be NULL) */
    void (*on_appraisal)(void *arg, const atls_appraisal *a);
    /* a command without a signal loop of its own: signals wait for the attester to be
     * destroyed (attester_guard.h) */
    int guard_signals;
} client_opts;

typedef struct client_ctx {
    client_opts o;
    const char *name;          /* hostname / IP to verify */
    SSL_CTX *ctx;
    X509 *cert;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
    const atls_attester_ops *attester;
    void *attester_state;
    atls_fair_lock attester_lock;  /* held around every use of the attester */
    int have_lock, guarded;
} client_ctx;

typedef struct client_conn {
    int fd;
    SSL *ssl;
    atls_session *session;
} client_conn;

/* client_setup loads what |o| names and builds the TLS context (|o| copied, strings borrowed).
 * Returns 0 or an exit code (message printed). client_cleanup releases |c| (also after a
 * failed setup). */
int client_setup(const client_opts *o, client_ctx *c);
void client_cleanup(client_ctx *c);

/* client_open connects, completes the TLS handshake (certificate and hostname checked),
 * requires ALPN atls/1 and wraps the connection in a session that must see the server attest
 * before any DATA flows. Does not attest yet. |appraisal_arg| is passed to on_appraisal.
 * Returns 0 or an exit code: 2 when the server cannot be reached, 1 when TLS fails (one line
 * says why: a timeout, no TLS 1.3, not TLS at all, a certificate problem). */
int client_open(client_ctx *c, client_conn *out, void *appraisal_arg);

/* client_close sends close_notify (after queued bytes) and frees everything of |conn|. */
void client_close(client_conn *conn);

#endif /* ATLS_TOOLS_CLIENT_H */
