/* serve_limits.h: `atls serve` and its descriptor limit. At start the soft RLIMIT_NOFILE is
 * raised to the hard limit (logged on the `listening` line), and the connection ceiling is
 * what those descriptors allow: each connection needs two (its TLS socket and its backend),
 * so a connection is refused at accept, cleanly and logged, when two more would not fit;
 * never after its handshake, when the backend connect would find no descriptor. One spare
 * descriptor is kept so that even at the limit (EMFILE from accept) the pending connection is
 * accepted and closed, and logged, instead of left in the backlog to spin on. Main thread. */
#ifndef ATLS_TOOLS_SERVE_LIMITS_H
#define ATLS_TOOLS_SERVE_LIMITS_H

typedef struct serve_fd_limit {
    long before;      /* the soft limit serve started with */
    long soft, hard;  /* after raising */
    int reserve;      /* the spare descriptor (/dev/null), -1 none */
    int fit;          /* connections the limit leaves room for */
} serve_fd_limit;

/* serve_fd_limit_init raises the soft limit (as far as the hard one allows), opens the spare
 * and computes |fit| from the descriptors open now. */
void serve_fd_limit_init(serve_fd_limit *l);

/* serve_fd_limit_accept_failed: accept(2) on |lfd| failed with EMFILE/ENFILE: use the spare to
 * accept and close one pending connection (logged, counted as refused) and take the spare
 * back. */
void serve_fd_limit_accept_failed(serve_fd_limit *l, int lfd, int err);

void serve_fd_limit_cleanup(serve_fd_limit *l);

#endif /* ATLS_TOOLS_SERVE_LIMITS_H */
