/* serve.h: state shared by the accept loop (cmd_serve.c) and the per-connection threads
 * (serve_conn.c) of `atls serve`.
 *
 * Concurrency model (docs/cli.md): one thread per connection. Each thread polls its own TLS
 * socket and backend socket through the non-blocking session API (proxy.h), so no connection
 * can stall another, and a misbehaving client only loses its own thread. The attester is
 * shared and serialised by |attester_lock|, a FIFO lock (a TPM runs one command at a time
 * anyway; connections take turns, so one that asks in a loop cannot starve the others).
 *
 * What does not depend on that model lives in modules of its own: the reloadable snapshot of
 * certificate, key and client policy (serve_config.h), the log (logging.h), the metrics
 * (metrics.h) and the metered attester (attester_meter.h). */
#ifndef ATLS_TOOLS_SERVE_H
#define ATLS_TOOLS_SERVE_H

#include "attester_meter.h"
#include "cli.h"
#include "serve_config.h"

#include <atls/batch.h>
#include <atls/session.h>

#include <pthread.h>
#include <signal.h>

typedef struct server {
    serve_config_slot config;      /* the running snapshot (reloaded on SIGHUP) */
    attester_meter attester;
    atls_fair_lock attester_lock;
    atls_batcher *batcher;         /* --batch on (the default): every connection attests
                                      through it, without attester_lock (atls/batch.h) */
    attester_use batch_use;        /* the batcher's handle on the metered attester */
    int mutual;                    /* --client-policy: clients must attest */
    int client_reattest_ms;        /* with a client policy: re-attest clients this often */
    int require_attestation;
    cli_backend backend;
    int max_connections;
    int timeout_ms;

    pthread_mutex_t lock;          /* guards active / next_id */
    pthread_cond_t idle;           /* signalled when a connection ends */
    int active;
    unsigned long next_id;
} server;

/* Set by SIGINT/SIGTERM/SIGQUIT: stop accepting, close connections cleanly. */
extern volatile sig_atomic_t serve_stopping;

/* serve_conn_start runs connection |fd| (owned from now on) on a detached thread, with a
 * reference to the running configuration snapshot. Returns 0, or -1 when no thread could be
 * started (fd closed). */
int serve_conn_start(server *srv, int fd);

#endif /* ATLS_TOOLS_SERVE_H */
