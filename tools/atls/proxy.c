/* proxy.c: the byte pump between an attested session and a plain socket (proxy.h). */
#include "proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void proxy_set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) {
        (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
}

void proxy_set_blocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) {
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void proxy_pump_init(proxy_pump *p, atls_session *s, int fd)
{
    memset(p, 0, sizeof(*p));
    p->err = ATLS_OK;
    p->fd_errno = 0;
    p->s = s;
    p->fd = fd;
    proxy_set_nonblocking(fd);
}

int proxy_pump_events(const proxy_pump *p, int may_read_fd, struct pollfd *sess,
                      struct pollfd *fd)
{
    /* the session itself stops asking for input once it holds what it may (backpressure) */
    short se = atls_session_poll_events(p->s);
    sess->fd = atls_session_fd(p->s);
    sess->events = se;
    sess->revents = 0;
    fd->fd = p->fd;
    fd->events = (short)((p->len > 0 ? POLLOUT : 0) |
                         (may_read_fd && atls_session_queued(p->s) <= PROXY_MAX_QUEUED ? POLLIN
                                                                                       : 0));
    fd->revents = 0;
    return p->len == 0 && atls_session_has_pending(p->s);
}

/* write_fd writes what is buffered; 0 ok (maybe partially), -1 error */
static int write_fd(proxy_pump *p)
{
    while (p->len > 0) {
        ssize_t w = write(p->fd, p->buf + p->off, p->len);
        if (w > 0) {
            p->off += (size_t)w;
            p->len -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return 0;
        }
        p->fd_errno = w < 0 ? errno : EPIPE;
        return -1;
    }
    p->off = 0;
    return 0;
}

void proxy_pump_trim(proxy_pump *p)
{
    if (p->len == 0) {
        free(p->buf);
        p->buf = NULL;
    }
    atls_session_trim(p->s);
}

void proxy_pump_cleanup(proxy_pump *p)
{
    free(p->buf);
    p->buf = NULL;
    p->len = p->off = 0;
}

proxy_status proxy_pump_run(proxy_pump *p, short sess_revents, short fd_revents, int may_read_fd)
{
    (void)sess_revents;
    /* session → plain side; a few rounds so one busy connection cannot starve the loop */
    if (p->len > 0 && write_fd(p) != 0) {
        return PROXY_FD_ERROR;
    }
    if (p->len > 0) {
        /* the plain side is full: still answer requests and take in authenticators, so a
         * slow reader does not hold re-attestation up (DATA waits in the session) */
        atls_error rc = atls_session_process(p->s);
        if (rc == ATLS_ERR_IO_CLOSED) {
            return PROXY_PEER_CLOSED;
        }
        if (rc != ATLS_OK) {
            p->err = rc;
            return PROXY_SESSION_ERROR;
        }
    }
    for (int round = 0; round < 16 && p->len == 0; round++) {
        size_t n = 0;
        uint8_t *buf = p->buf != NULL ? p->buf : malloc(PROXY_SESSION_BUF);
        if (buf == NULL) {
            p->err = ATLS_ERR_INTERNAL_ALLOC;
            return PROXY_SESSION_ERROR;
        }
        p->buf = buf;
        atls_error rc = atls_session_read(p->s, buf, PROXY_SESSION_BUF, &n);
        if (rc == ATLS_ERR_IO_CLOSED) {
            return PROXY_PEER_CLOSED;
        }
        if (rc != ATLS_OK) {
            p->err = rc;
            return PROXY_SESSION_ERROR;
        }
        if (n == 0) {
            break;
        }
        p->off = 0;
        p->len = n;
        if (write_fd(p) != 0) {
            return PROXY_FD_ERROR;
        }
    }
    /* plain side → session, only while the session's queue is short (backpressure) */
    if (may_read_fd && (fd_revents & (POLLIN | POLLHUP | POLLERR)) &&
        atls_session_queued(p->s) <= PROXY_MAX_QUEUED) {
        uint8_t in[PROXY_BUF];
        ssize_t r = read(p->fd, in, sizeof(in));
        if (r == 0) {
            return PROXY_FD_CLOSED;
        }
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            p->fd_errno = errno;
            return PROXY_FD_ERROR;
        }
        if (r > 0) {
            atls_error rc = atls_session_write(p->s, in, (size_t)r);
            if (rc != ATLS_OK) {
                p->err = rc;
                return PROXY_SESSION_ERROR;
            }
        }
    } else if (atls_session_queued(p->s) > 0) {
        atls_error rc = atls_session_flush(p->s);
        if (rc != ATLS_OK) {
            p->err = rc;
            return rc == ATLS_ERR_IO_CLOSED ? PROXY_PEER_CLOSED : PROXY_SESSION_ERROR;
        }
    }
    return PROXY_OK;
}

int proxy_pump_drain_step(proxy_pump *p)
{
    return write_fd(p) != 0 || p->len == 0;
}

void proxy_pump_drain(proxy_pump *p, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (!proxy_pump_drain_step(p) && now_ms() < deadline) {
        struct pollfd pf = {.fd = p->fd, .events = POLLOUT};
        (void)poll(&pf, 1, 100);
    }
}

/* ---- plain TLS ---------------------------------------------------------------------------- */

void proxy_plain_init(proxy_plain *p, SSL *ssl, int fd)
{
    memset(p, 0, sizeof(*p));
    p->ssl = ssl;
    p->tls_fd = SSL_get_fd(ssl);
    p->fd = fd;
    proxy_set_nonblocking(p->tls_fd);
    proxy_set_nonblocking(fd);
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

int proxy_plain_events(const proxy_plain *p, struct pollfd *tls, struct pollfd *fd)
{
    tls->fd = p->tls_fd;
    tls->events = (short)((p->up_len == 0 ? POLLIN : 0) |
                          (p->down_len > 0 || p->want_write ? POLLOUT : 0));
    tls->revents = 0;
    fd->fd = p->fd;
    fd->events = (short)((p->up_len > 0 ? POLLOUT : 0) |
                         (p->down_len == 0 && !p->fd_eof ? POLLIN : 0));
    fd->revents = 0;
    return p->up_len == 0 && SSL_pending(p->ssl) > 0;
}

proxy_status proxy_plain_run(proxy_plain *p)
{
    p->want_write = 0;
    /* TLS → plain side */
    if (p->up_len == 0) {
        int n = SSL_read(p->ssl, p->up, (int)sizeof(p->up));
        if (n > 0) {
            p->up_off = 0;
            p->up_len = (size_t)n;
        } else {
            int e = SSL_get_error(p->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE) {
                p->want_write = 1;
            } else if (e != SSL_ERROR_WANT_READ) {
                return PROXY_PEER_CLOSED; /* close_notify, EOF or a TLS error */
            }
        }
    }
    while (p->up_len > 0) {
        ssize_t w = write(p->fd, p->up + p->up_off, p->up_len);
        if (w > 0) {
            p->up_off += (size_t)w;
            p->up_len -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            break;
        } else {
            p->fd_errno = w < 0 ? errno : EPIPE;
            return PROXY_FD_ERROR;
        }
    }
    /* plain side → TLS */
    if (p->down_len == 0 && !p->fd_eof) {
        ssize_t r = read(p->fd, p->down, sizeof(p->down));
        if (r > 0) {
            p->down_off = 0;
            p->down_len = (size_t)r;
        } else if (r == 0) {
            p->fd_eof = 1;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            p->fd_errno = errno;
            return PROXY_FD_ERROR;
        }
    }
    while (p->down_len > 0) {
        int n = SSL_write(p->ssl, p->down + p->down_off, (int)p->down_len);
        if (n > 0) {
            p->down_off += (size_t)n;
            p->down_len -= (size_t)n;
            continue;
        }
        int e = SSL_get_error(p->ssl, n);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
            p->want_write = e == SSL_ERROR_WANT_WRITE;
            break;
        }
        return PROXY_PEER_CLOSED;
    }
    if (p->fd_eof && p->down_len == 0) {
        return PROXY_FD_CLOSED;
    }
    return PROXY_OK;
}

int proxy_plain_finish_step(proxy_plain *p, struct pollfd *tls, struct pollfd *fd)
{
    if (p->up_len > 0) {
        ssize_t w = write(p->fd, p->up + p->up_off, p->up_len);
        if (w > 0) {
            p->up_off += (size_t)w;
            p->up_len -= (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            p->up_len = 0;
        }
    }
    if (p->down_len > 0) {
        int n = SSL_write(p->ssl, p->down + p->down_off, (int)p->down_len);
        if (n > 0) {
            p->down_off += (size_t)n;
            p->down_len -= (size_t)n;
        } else {
            int e = SSL_get_error(p->ssl, n);
            if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) {
                p->down_len = 0;
            }
        }
    }
    if (p->up_len == 0 && p->down_len == 0) {
        (void)SSL_shutdown(p->ssl);
        return 1;
    }
    (void)proxy_plain_events(p, tls, fd);
    tls->events = (short)(tls->events & ~POLLIN);
    fd->events = (short)(fd->events & ~POLLIN);
    return 0;
}

void proxy_plain_finish(proxy_plain *p, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    struct pollfd pf[2];
    while (!proxy_plain_finish_step(p, &pf[0], &pf[1])) {
        if (now_ms() >= deadline) {
            (void)SSL_shutdown(p->ssl);
            return;
        }
        (void)poll(pf, 2, 100);
    }
}
