/* serve.h: state shared by the accept loop (cmd_serve.c), the event-loop workers
 * (serve_worker.c), the connections they run (serve_conn.c) and Evidence production off the
 * I/O path (serve_evidence.c) of `atls serve`.
 *
 * Concurrency model (docs/cli.md): the main thread accepts and hands each connection to one of
 * a fixed set of worker threads (--workers, default: the online cores), round robin. A worker
 * runs an epoll loop over its connections' sockets (TLS and backend), level-triggered, driving
 * each through the non-blocking handshake and session / proxy APIs (proxy.h): no call on a
 * worker waits for a peer. Evidence never runs on a worker: a session that needs Evidence
 * makes a job (atls/session.h evidence_async), which goes to the batcher (--batch on,
 * atls_batcher_submit) or to the one Evidence thread (--batch off: the attester is serialised
 * anyway), and comes back to the worker through its eventfd. So a slow TPM or quote delays
 * only the answers that wait for it, never another connection's bytes.
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
#include <stdatomic.h>
#include <stdint.h>

typedef struct serve_worker serve_worker;
typedef struct serve_evidence serve_evidence;

typedef struct server {
    serve_config_slot config;      /* the running snapshot (reloaded on SIGHUP) */
    attester_meter attester;
    atls_batcher *batcher;         /* --batch on (the default): every Evidence job goes to it */
    attester_use batch_use;        /* the batcher's handle on the metered attester */
    serve_evidence *evidence;      /* --batch off: the Evidence thread */
    int mutual;                    /* --client-policy: clients must attest */
    int client_reattest_ms;        /* with a client policy: re-attest clients this often */
    int require_attestation;
    cli_backend backend;
    int max_connections;           /* --max-connections, lowered to what the fds allow */
    int timeout_ms;

    serve_worker **workers;
    int num_workers;
    atomic_int active;             /* connections open (accepted, not yet freed) */
    atomic_ulong next_id;
} server;

/* Set by SIGINT/SIGTERM/SIGQUIT: stop accepting, close connections cleanly. */
extern volatile sig_atomic_t serve_stopping;

/* serve_workers_start starts srv->num_workers workers. 0, or -1 (logged; none left running). */
int serve_workers_start(server *srv);

/* serve_workers_add hands connection |fd| (owned from now on) to the next worker, with a
 * reference to the running configuration snapshot. Main thread. */
void serve_workers_add(server *srv, int fd);

/* serve_workers_stop waits (up to |ms|) for the workers to close their connections cleanly
 * after serve_stopping was set, then ends them. Returns the connections still open. */
int serve_workers_stop(server *srv, int ms);

/* serve_workers_free releases the workers and what they still hold, once nothing can hand them
 * Evidence any more (batcher and Evidence thread stopped). */
void serve_workers_free(server *srv);

#endif /* ATLS_TOOLS_SERVE_H */
