/* session_blocking.c: the drop-in blocking calls of atls/ssl.h (SSL_read / SSL_write /
 * SSL_shutdown / SSL_get_error semantics) on top of the non-blocking session: every wait is a
 * poll(2) on the session's own events, no longer than atls_session_timeout_ms, after which
 * the session is pumped again, so requests of the peer, re-attestations and answer deadlines
 * are handled while the application blocks. */
#include <atls/ssl.h>

#include "tls/session/session_internal.h"

#include "base/result.h"

#include <openssl/err.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>

/* Bytes queued per step of atls_write: the queue is drained before the next step, so a large
 * write never holds more than this (plus control frames) in memory. */
#define WRITE_STEP (256u * 1024u)

/* ssl_error_of: the SSL_get_error value for |rc| (atls/ssl.h). */
static int ssl_error_of(const atls_session *s, atls_error rc)
{
    if (rc == ATLS_OK) {
        return SSL_ERROR_NONE;
    }
    if (rc == ATLS_ERR_IO_CLOSED && s->eof) {
        return SSL_ERROR_ZERO_RETURN; /* the peer's clean end of stream */
    }
    if (rc / 100 == ATLS_ERR_IO / 100 && rc != ATLS_ERR_IO_TRUNCATED &&
        rc != ATLS_ERR_IO_TIMEOUT) {
        return SSL_ERROR_SYSCALL; /* the transport failed or the peer went away */
    }
    return SSL_ERROR_SSL; /* TLS, atls/1, attestation (a late answer included) */
}

/* atls's failures also go to OpenSSL's error queue, where an OpenSSL application already
 * looks (ERR_print_errors_fp, ERR_get_error): library "atls", the atls_error as the reason
 * code with atls_strerror as its text, and the one-line message as the error data. */
#define ERR_REASONS_MAX 128
static int err_lib;
static ERR_STRING_DATA err_strings[ERR_REASONS_MAX + 2];
static pthread_once_t err_once = PTHREAD_ONCE_INIT;

static void err_init(void)
{
    err_lib = ERR_get_next_error_library();
    const char *unknown = atls_strerror((atls_error)-1);
    size_t n = 0;
    err_strings[n++] = (ERR_STRING_DATA){ERR_PACK(err_lib, 0, 0), "atls"};
    /* every code of atls/error.h (categories 1xx..8xx) */
    for (int code = 100; code < 900 && n < ERR_REASONS_MAX + 1; code++) {
        const char *text = atls_strerror((atls_error)code);
        if (strcmp(text, unknown) != 0) {
            err_strings[n++] = (ERR_STRING_DATA){ERR_PACK(err_lib, 0, code), text};
        }
    }
    err_strings[n] = (ERR_STRING_DATA){0, NULL};
    (void)ERR_load_strings(err_lib, err_strings);
}

/* done records the outcome of the drop-in call |func| (done() names the caller); returns 1
 * when it succeeded. */
static int record_outcome(atls_session *s, atls_error rc, const char *file, int line,
                          const char *func)
{
    s->last_error = rc;
    s->ssl_error = ssl_error_of(s, rc);
    if (rc != ATLS_OK && s->ssl_error != SSL_ERROR_ZERO_RETURN) {
        pthread_once(&err_once, err_init);
        ERR_new();
        ERR_set_debug(file, line, func);
        ERR_set_error(err_lib, (int)rc, "%s", atls_error_message());
    }
    return rc == ATLS_OK;
}
#define done(s, rc) record_outcome((s), (rc), __FILE__, __LINE__, __func__)

/* wait_io: block until the socket can make progress for the session, a deadline of the
 * session's is due, or |deadline| (monotonic ms, -1: none) passes (ATLS_ERR_IO_TIMEOUT). */
static atls_error wait_io(atls_session *s, int64_t deadline, const char *what)
{
    /* decrypted bytes the next pump will take: no need to wait */
    if (atls_session_wants_input(s) &&
        (SSL_pending(s->ssl) > 0 || atls_frame_reader_has_frame(&s->reader))) {
        return ATLS_OK;
    }
    int t = atls_session_timeout_ms(s);
    if (deadline >= 0) {
        int64_t left = deadline - atls_session_now_ms();
        ATLS_ENSURE(left > 0, ATLS_ERR_IO_TIMEOUT, "session: %s within %d ms", what,
                    s->cfg.timeout_ms);
        if (t < 0 || left < t) {
            t = left > INT_MAX ? INT_MAX : (int)left;
        }
    }
    struct pollfd p = {.fd = s->fd, .events = atls_session_poll_events(s)};
    ATLS_ENSURE(p.events != 0 || t >= 0, ATLS_ERR_USAGE_STATE,
                "session: nothing to wait for (%s)", what);
    if (poll(&p, 1, t) < 0 && errno != EINTR) {
        ATLS_RAISE(ATLS_ERR_IO, "session: poll failed: %s", strerror(errno));
    }
    return ATLS_OK;
}

/* begin: the checks of every drop-in call. */
static atls_error begin(atls_session *s)
{
    ATLS_ENSURE(!s->shutdown_sent, ATLS_ERR_USAGE_STATE, "session: already shut down");
    return ATLS_OK;
}

/* wait_attested: when the peer must attest and has not yet, ask it (unless a request of ours
 * is already on its way) and wait, up to timeout_ms, for the appraisal (draft-fossati-seat-
 * expat-04 section 7.3: no application data before it succeeded). */
static atls_error wait_attested(atls_session *s)
{
    int64_t deadline = atls_session_now_ms() + s->cfg.timeout_ms;
    while (s->must_attest && !s->peer_attested) {
        if (s->num_pending == 0 && !s->closed) {
            return atls_session_attest(s, NULL);
        }
        /* our earlier request's answer (or its deadline) decides; a failure closes */
        ATLS_GUARD(atls_session_pump(s));
        if (s->peer_attested) {
            break;
        }
        ATLS_ENSURE(!s->eof, ATLS_ERR_IO_CLOSED, "session: the peer closed before attesting");
        ATLS_GUARD(wait_io(s, deadline, "no attestation of the peer"));
    }
    return ATLS_OK;
}

static atls_error read_some(atls_session *s, uint8_t *buf, size_t num, size_t *n)
{
    ATLS_GUARD(begin(s));
    ATLS_GUARD(wait_attested(s));
    for (;;) {
        ATLS_GUARD(atls_session_read(s, buf, num, n));
        if (*n > 0) {
            return ATLS_OK;
        }
        /* no limit of our own on waiting for the peer's data, as SSL_read */
        ATLS_GUARD(wait_io(s, -1, "no data"));
    }
}

int atls_read_ex(atls_session *s, void *buf, size_t num, size_t *readbytes)
{
    *readbytes = 0;
    if (num == 0) {
        return done(s, ATLS_OK);
    }
    return done(s, read_some(s, buf, num, readbytes));
}

int atls_read(atls_session *s, void *buf, int num)
{
    if (num < 0) {
        (void)done(s, atls_error_raise(ATLS_ERR_USAGE, __FILE__, __LINE__,
                                       "atls_read: negative length %d", num));
        return -1;
    }
    size_t n = 0;
    if (atls_read_ex(s, buf, (size_t)num, &n)) {
        return (int)n;
    }
    return s->ssl_error == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

/* drain: block until every queued byte went to TLS, serving the peer meanwhile. */
static atls_error drain(atls_session *s)
{
    while (atls_session_queued(s) > 0) {
        ATLS_GUARD(wait_io(s, -1, "the peer does not read"));
        ATLS_GUARD(atls_session_pump(s));
    }
    return ATLS_OK;
}

static atls_error write_all(atls_session *s, const uint8_t *data, size_t num)
{
    ATLS_GUARD(begin(s));
    ATLS_GUARD(wait_attested(s));
    for (size_t off = 0; off < num;) {
        size_t step = num - off < WRITE_STEP ? num - off : WRITE_STEP;
        ATLS_GUARD(atls_session_write(s, data + off, step));
        off += step;
        ATLS_GUARD(drain(s));
    }
    return ATLS_OK;
}

int atls_write_ex(atls_session *s, const void *buf, size_t num, size_t *written)
{
    *written = 0;
    if (num == 0) {
        return done(s, ATLS_OK);
    }
    if (!done(s, write_all(s, buf, num))) {
        return 0;
    }
    *written = num;
    return 1;
}

int atls_write(atls_session *s, const void *buf, int num)
{
    if (num < 0) {
        (void)done(s, atls_error_raise(ATLS_ERR_USAGE, __FILE__, __LINE__,
                                       "atls_write: negative length %d", num));
        return -1;
    }
    size_t n = 0;
    return atls_write_ex(s, buf, (size_t)num, &n) ? (int)n : -1;
}

/* send_close_notify: what is queued, then TLS close_notify (RFC 8446 section 6.1), within
 * |deadline|. Here and in await_close_notify the error queue is not cleared (SSL_want tells
 * a retry from a failure): an application reads it after closing, as with SSL_shutdown. */
static atls_error send_close_notify(atls_session *s, int64_t deadline)
{
    while (!s->closed && atls_session_queued(s) > 0) {
        ATLS_GUARD(wait_io(s, deadline, "queued data not sent"));
        ATLS_GUARD(atls_session_flush(s));
    }
    s->closed = 1;
    s->shutdown_sent = 1;
    for (;;) {
        int r = SSL_shutdown(s->ssl);
        if (r >= 0) {
            return ATLS_OK;
        }
        int want_write = SSL_want_write(s->ssl);
        if (!want_write && !SSL_want_read(s->ssl)) {
            ATLS_RAISE(ATLS_ERR_IO, "session: cannot send close_notify");
        }
        int64_t left = deadline - atls_session_now_ms();
        ATLS_ENSURE(left > 0, ATLS_ERR_IO_TIMEOUT, "session: close_notify not sent within %d ms",
                    s->cfg.timeout_ms);
        struct pollfd p = {.fd = s->fd, .events = want_write ? POLLOUT : POLLIN};
        (void)poll(&p, 1, left > 1000 ? 1000 : (int)left);
    }
}

/* await_close_notify: read (dropping application data) until the peer's close_notify. */
static atls_error await_close_notify(atls_session *s, int64_t deadline)
{
    uint8_t sink[4096];
    for (;;) {
        int n = SSL_read(s->ssl, sink, sizeof(sink));
        if (n > 0) {
            continue;
        }
        if ((SSL_get_shutdown(s->ssl) & SSL_RECEIVED_SHUTDOWN) != 0) {
            s->eof = 1;
            return ATLS_OK;
        }
        int want_write = SSL_want_write(s->ssl);
        if (!want_write && !SSL_want_read(s->ssl)) {
            ATLS_RAISE(ATLS_ERR_IO, "session: the peer closed without close_notify");
        }
        int64_t left = deadline - atls_session_now_ms();
        ATLS_ENSURE(left > 0, ATLS_ERR_IO_TIMEOUT,
                    "session: no close_notify from the peer within %d ms", s->cfg.timeout_ms);
        struct pollfd p = {.fd = s->fd, .events = want_write ? POLLOUT : POLLIN};
        (void)poll(&p, 1, left > 1000 ? 1000 : (int)left);
    }
}

int atls_shutdown(atls_session *s)
{
    int64_t deadline = atls_session_now_ms() + s->cfg.timeout_ms;
    if (!s->shutdown_sent) {
        if (!done(s, send_close_notify(s, deadline))) {
            return -1;
        }
        return (SSL_get_shutdown(s->ssl) & SSL_RECEIVED_SHUTDOWN) != 0 ? 1 : 0;
    }
    if ((SSL_get_shutdown(s->ssl) & SSL_RECEIVED_SHUTDOWN) != 0) {
        return done(s, ATLS_OK);
    }
    return done(s, await_close_notify(s, deadline)) ? 1 : -1;
}

int atls_get_error(const atls_session *s, int ret)
{
    return ret > 0 ? SSL_ERROR_NONE : s->ssl_error;
}

atls_error atls_session_last_error(const atls_session *s)
{
    return s->last_error;
}

int atls_pending(const atls_session *s)
{
    if (s->must_attest && !s->peer_attested) {
        return 0;
    }
    size_t held = s->held.len - s->held.head;
    return held > INT_MAX ? INT_MAX : (int)held;
}
