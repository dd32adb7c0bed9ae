/* serve.h: state shared by the accept loop (cmd_serve.c) and the per-connection threads
 * (serve_conn.c) of `atls serve`.
 *
 * Concurrency model (docs/cli.md): one thread per connection. Each thread polls its own TLS
 * socket and backend socket through the non-blocking session API (proxy.h), so no connection
 * can stall another, and a misbehaving client only loses its own thread. The attester is
 * shared and serialised by |attester_lock|, a FIFO lock (a TPM runs one command at a time
 * anyway; connections take turns, so one that asks in a loop cannot starve the others). */
#ifndef ATLS_TOOLS_SERVE_H
#define ATLS_TOOLS_SERVE_H

#include "cli.h"

#include <atls/batch.h>
#include <atls/session.h>

#include <pthread.h>
#include <signal.h>

typedef struct server {
    SSL_CTX *ctx;
    X509 *cert;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
    const atls_attester_ops *attester;
    void *attester_state;
    atls_fair_lock attester_lock;
    atls_batcher *batcher;         /* --batch on (the default): every connection attests
                                      through it, without attester_lock (atls/batch.h) */
    atls_policy *client_policy;    /* NULL: clients are not asked to attest */
    int client_reattest_ms;        /* with a client policy: re-attest clients this often */
    int require_attestation;
    cli_hostport backend;
    int max_connections;
    int timeout_ms;

    pthread_mutex_t lock;          /* guards active / next_id */
    pthread_cond_t idle;           /* signalled when a connection ends */
    int active;
    unsigned long next_id;
} server;

/* Set by SIGINT/SIGTERM: stop accepting, close connections cleanly. */
extern volatile sig_atomic_t serve_stopping;

/* serve_conn_start runs connection |fd| (owned from now on) on a detached thread. Returns 0,
 * or -1 when no thread could be started (fd closed). */
int serve_conn_start(server *srv, int fd);

#endif /* ATLS_TOOLS_SERVE_H */
