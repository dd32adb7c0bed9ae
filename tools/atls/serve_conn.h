/* serve_conn.h: one client connection of `atls serve` as a state machine driven by its worker's
 * event loop (serve.h): TLS 1.3 handshake, then an attested atls/1 session or a plain TLS proxy
 * to the backend, then a clean close. Every step is non-blocking; what a step waits for is
 * stated in |want| (epoll interest per socket) and |deadline_ms|. One worker thread owns a
 * connection; only the Evidence completion (serve_evidence.c) comes from another thread, and
 * it only queues the connection back to its worker (serve_worker_evidence_back). */
#ifndef ATLS_TOOLS_SERVE_CONN_H
#define ATLS_TOOLS_SERVE_CONN_H

#include "proxy.h"
#include "serve.h"

#include <atls/session.h>

#include <stdint.h>

typedef enum conn_state {
    CONN_HANDSHAKE = 0,
    CONN_ATTESTED,   /* session ↔ backend */
    CONN_PLAIN,      /* plain TLS ↔ backend */
    CONN_DRAIN,      /* the client closed: what it sent still goes to the backend */
    CONN_LINGER,     /* the session closes (flush, close_notify, read what still comes) */
    CONN_PLAIN_FINISH,
    CONN_DONE        /* nothing more to do: freed by the worker (once its Evidence is back) */
} conn_state;

/* which socket an epoll event is for (the event's data points at one of these) */
typedef struct conn_ref {
    struct conn *c;
    int which; /* 0 the client's TLS socket, 1 the backend */
} conn_ref;

typedef struct conn {
    server *srv;
    serve_worker *worker;
    serve_config *cfg;        /* the snapshot this connection started with (a reference) */
    conn_state state;
    int fd, backend;
    unsigned long id;
    char peer[64];
    SSL *ssl;
    atls_session *session;
    attester_use attester;    /* this connection's handle on the shared attester */
    int64_t requested_ms;     /* when we last asked the client to attest (0: never) */
    int64_t next_request_ms;  /* when to re-attest the client next */
    int64_t handshake_started_ms;
    int64_t deadline_ms;      /* when the worker must step this connection (0: none) */
    int64_t state_deadline_ms;/* the current state's bound (handshake, drain, linger) */
    int64_t trim_ms;          /* free the I/O buffers then, unless traffic moved it (0: done) */
    int trimmed;              /* the last step freed them (the worker returns memory) */
    atls_evidence_job *job;   /* taken from the session, out for production */
    int job_out;              /* the job is with the batcher / Evidence thread */
    proxy_pump *pump;         /* CONN_ATTESTED / CONN_DRAIN (owned) */
    proxy_plain *plain;       /* CONN_PLAIN / CONN_PLAIN_FINISH (owned) */
    /* the worker's bookkeeping */
    conn_ref ref[2];
    uint32_t registered[2];   /* epoll interest now (0: not in the epoll set) */
    uint32_t want[2];         /* epoll interest the last step asked for */
    int ready;                /* step again without waiting (buffered input) */
    struct conn *prev, *next; /* the worker's list of its connections */
    struct conn *next_ready, *next_back;
    int in_ready, in_back;
    int dead;                 /* unlinked, freed at the end of the worker's round */
} conn;

/* serve_conn_new makes the connection for accepted socket |fd| (owned from now on; closed on
 * failure) with a reference to the running snapshot. NULL when out of memory. */
conn *serve_conn_new(server *srv, serve_worker *w, int fd, unsigned long id);

/* serve_conn_step does what connection |c| can do now; |revents| are the epoll events of each
 * socket since the last step (0: none, a timer or buffered input). Sets want, ready,
 * deadline_ms and state (CONN_DONE: free it). Worker thread. */
void serve_conn_step(conn *c, const uint32_t revents[2]);

/* serve_conn_evidence_back: the connection's job came back (worker thread). */
void serve_conn_evidence_back(conn *c);

/* serve_conn_stop starts a clean close (serve is stopping). Worker thread. */
void serve_conn_stop(conn *c);

/* serve_conn_free releases everything (sockets closed). Not while the job is out. */
void serve_conn_free(conn *c);

/* serve_worker_evidence_back queues |c| back to its worker after its job was produced. Any
 * thread. */
void serve_worker_evidence_back(conn *c);

/* serve_evidence (serve_evidence.c): Evidence off the I/O path. */
/* serve_evidence_start: with --batch off, the Evidence thread. 0, or -1 (logged). */
int serve_evidence_start(server *srv);
/* serve_evidence_submit sends c->job to the batcher or the Evidence thread; the connection
 * comes back through serve_worker_evidence_back. 0, or -1 when it cannot be queued (the job
 * then holds the error: give it back to the session at once). Worker thread. */
int serve_evidence_submit(conn *c);
/* serve_evidence_stop ends the Evidence thread after it answered every job it has. */
void serve_evidence_stop(server *srv);

#endif /* ATLS_TOOLS_SERVE_CONN_H */
