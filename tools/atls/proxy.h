/* proxy.h: the byte pumps shared by `atls serve` (client ↔ backend) and `atls connect -L`
 * (local client ↔ server): an attested session on one side, a plain socket on the other.
 * Both are non-blocking and driven by poll(2) from the caller's loop; neither side can block
 * the other (no deadlock), and reading stops while the other side cannot take more
 * (backpressure). */
#ifndef ATLS_TOOLS_PROXY_H
#define ATLS_TOOLS_PROXY_H

#include <atls/session.h>

#include <openssl/ssl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/* Stop reading the plain side while the session has more than this queued. */
#define PROXY_MAX_QUEUED (1024u * 1024u)
#define PROXY_BUF 65536u
/* Session → plain side buffer: one TLS record's worth. Small on purpose: it is per connection,
 * and the session itself holds what has not been read yet. */
#define PROXY_SESSION_BUF 16384u

typedef enum proxy_status {
    PROXY_OK = 0,        /* keep going */
    PROXY_PEER_CLOSED,   /* the TLS peer closed (close_notify or EOF) */
    PROXY_FD_CLOSED,     /* the plain side reached EOF */
    PROXY_FD_ERROR,      /* the plain side failed (errno in fd_errno) */
    PROXY_SESSION_ERROR  /* the session failed: err (detail in atls_error_message()) */
} proxy_status;

/* An attested session pumped to/from a plain socket. */
typedef struct proxy_pump {
    atls_session *s;         /* borrowed */
    int fd;                  /* borrowed, switched to non-blocking */
    uint8_t *buf;            /* session → fd bytes not yet written (PROXY_SESSION_BUF,
                                allocated on first use, freed by proxy_pump_trim) */
    size_t off, len;
    atls_error err;
    int fd_errno;
} proxy_pump;

void proxy_pump_init(proxy_pump *p, atls_session *s, int fd);
/* proxy_pump_cleanup frees the buffer (the session and fd stay the caller's).
 * proxy_pump_trim frees it when it is empty (an idle connection), and the session's own
 * (atls_session_trim). */
void proxy_pump_cleanup(proxy_pump *p);
void proxy_pump_trim(proxy_pump *p);

/* proxy_pump_events fills the poll entries (session, plain fd). |may_read_fd| 0 keeps the
 * plain side unread (e.g. before the peer attested). Returns 1 when the session has buffered
 * input and the caller should not wait. */
int proxy_pump_events(const proxy_pump *p, int may_read_fd, struct pollfd *sess,
                      struct pollfd *fd);

/* proxy_pump_run moves bytes both ways after poll(2) returned. */
proxy_status proxy_pump_run(proxy_pump *p, short sess_revents, short fd_revents, int may_read_fd);

/* proxy_pump_drain writes what is still buffered for the plain side (up to |timeout_ms|).
 * proxy_pump_drain_step is one non-blocking round of it for an event loop: 1 when done (or the
 * plain side failed), 0 to call again once the plain fd is writable. */
void proxy_pump_drain(proxy_pump *p, int timeout_ms);
int proxy_pump_drain_step(proxy_pump *p);

/* A plain TLS connection (no atls/1) pumped to/from a socket. */
typedef struct proxy_plain {
    SSL *ssl;                /* borrowed; its socket is switched to non-blocking */
    int tls_fd, fd;
    uint8_t up[PROXY_BUF];   /* tls → fd */
    size_t up_off, up_len;
    uint8_t down[PROXY_BUF]; /* fd → tls */
    size_t down_off, down_len;
    int want_write;          /* the last TLS call wanted POLLOUT */
    int fd_eof;
    int fd_errno;
} proxy_plain;

void proxy_plain_init(proxy_plain *p, SSL *ssl, int fd);
int proxy_plain_events(const proxy_plain *p, struct pollfd *tls, struct pollfd *fd);
proxy_status proxy_plain_run(proxy_plain *p);
/* proxy_plain_finish flushes both buffers (up to |timeout_ms|) and sends close_notify.
 * proxy_plain_finish_step is one non-blocking round of it: 1 when done (close_notify sent), 0
 * to call again once the poll entries it filled are ready. */
void proxy_plain_finish(proxy_plain *p, int timeout_ms);
int proxy_plain_finish_step(proxy_plain *p, struct pollfd *tls, struct pollfd *fd);

/* proxy_set_nonblocking / proxy_set_blocking. */
void proxy_set_nonblocking(int fd);
void proxy_set_blocking(int fd);

#endif /* ATLS_TOOLS_PROXY_H */
