/* session_io.c: the session's non-blocking I/O, frame dispatch and the pump that drives
 * everything else (atls/session.h). */
#include "tls/session/session_internal.h"

#include <atls/binding.h>

#include "base/mem.h"
#include "base/result.h"

#include <openssl/err.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t atls_session_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- byte queues ---------------------------------------------------------------------- */

atls_error atls_queue_push(struct byte_queue *q, const uint8_t *data, size_t len, size_t limit)
{
    if (len == 0) {
        return ATLS_OK;
    }
    ATLS_ENSURE(q->len - q->head + len <= limit, ATLS_ERR_IO,
                "more than %zu bytes queued: the peer is not reading", limit);
    if (q->head > 0 && q->len + len > q->cap) {
        memmove(q->buf, q->buf + q->head, q->len - q->head);
        q->len -= q->head;
        q->head = 0;
    }
    if (q->len + len > q->cap) {
        size_t cap = q->cap == 0 ? 16384 : q->cap;
        while (cap < q->len + len) {
            cap *= 2;
        }
        uint8_t *nb = realloc(q->buf, cap);
        ATLS_ENSURE(nb != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        q->buf = nb;
        q->cap = cap;
    }
    memcpy(q->buf + q->len, data, len);
    q->len += len;
    return ATLS_OK;
}

void atls_queue_consume(struct byte_queue *q, size_t n)
{
    q->head += n;
    if (q->head == q->len) {
        q->head = q->len = 0;
    }
}

void atls_queue_cleanup(struct byte_queue *q)
{
    if (q->buf != NULL) {
        atls_wipe(q->buf, q->cap);
        free(q->buf);
    }
    memset(q, 0, sizeof(*q));
}

static size_t queue_size(const struct byte_queue *q)
{
    return q->len - q->head;
}

/* ---- output ------------------------------------------------------------------------------ */

atls_error atls_session_queue_frame(atls_session *s, uint8_t type, const uint8_t *payload,
                                    size_t len)
{
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    ATLS_GUARD(atls_frame_encode(type, payload, len, &frame, &frame_len));
    /* control frames may exceed the data ceiling slightly: they are bounded by the frame
     * limit and answer the peer, who is then expected to read */
    size_t limit = ATLS_SESSION_MAX_QUEUED + (type == ATLS_FRAME_DATA ? 0 : frame_len);
    atls_error rc = atls_queue_push(&s->out, frame, frame_len, limit);
    atls_wipe(frame, frame_len);
    free(frame);
    return rc;
}

atls_error atls_session_flush(atls_session *s)
{
    s->write_wants_read = 0;
    while (queue_size(&s->out) > 0) {
        size_t want = queue_size(&s->out);
        if (want > 65536) {
            want = 65536;
        }
        ERR_clear_error();
        int n = SSL_write(s->ssl, s->out.buf + s->out.head, (int)want);
        if (n > 0) {
            atls_queue_consume(&s->out, (size_t)n);
            continue;
        }
        int err = SSL_get_error(s->ssl, n);
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
            s->write_wants_read = err == SSL_ERROR_WANT_READ;
            return ATLS_OK;
        }
        s->closed = 1;
        if (err == SSL_ERROR_SYSCALL && (errno == EPIPE || errno == ECONNRESET)) {
            ATLS_RAISE(ATLS_ERR_IO_CLOSED, "session: the peer closed the connection");
        }
        return atls_error_raise_ossl(ATLS_ERR_IO, __FILE__, __LINE__,
                                     "session: TLS write failed");
    }
    return ATLS_OK;
}

void atls_session_trim(atls_session *s)
{
    if (queue_size(&s->out) == 0) {
        atls_queue_cleanup(&s->out);
    }
    if (queue_size(&s->held) == 0) {
        atls_queue_cleanup(&s->held);
    }
    if (atls_frame_reader_buffered(&s->reader) == 0) {
        atls_frame_reader_cleanup(&s->reader); /* every frame handled: nothing points into it */
    }
    if (SSL_free_buffers(s->ssl) != 1) {
        ERR_clear_error(); /* in use (a partial record): kept, as OpenSSL decides */
    }
}

size_t atls_session_queued(const atls_session *s)
{
    return queue_size(&s->out);
}

/* may_deliver: DATA may reach the application (the peer is attested, or need not be). */
static int may_deliver(const atls_session *s)
{
    return !s->must_attest || s->peer_attested;
}

/* Backpressure: no reading while the application has not drained what it may read. Before
 * the first appraisal nothing can be drained, so it reads on and lets the held-data ceiling
 * close a peer that floods. */
int atls_session_wants_input(const atls_session *s)
{
    return queue_size(&s->held) < ATLS_SESSION_MAX_HELD / 2 || !may_deliver(s);
}

void atls_session_note_stall(atls_session *s)
{
    int stalled = !atls_session_wants_input(s);
    int64_t now = atls_session_now_ms();
    if (stalled && s->stalled_since == 0) {
        s->stalled_since = now;
    } else if (!stalled && s->stalled_since != 0) {
        s->stalled_ms += now - s->stalled_since;
        s->stalled_since = 0;
    }
}

short atls_session_poll_events(const atls_session *s)
{
    int in = atls_session_wants_input(s) || s->write_wants_read;
    int out = queue_size(&s->out) > 0 || s->read_wants_write;
    return (short)((in ? POLLIN : 0) | (out ? POLLOUT : 0));
}

int atls_session_timeout_ms(const atls_session *s)
{
    if (s->closed) {
        return -1;
    }
    int64_t a = atls_session_deadline_in_ms(s);
    int64_t b = atls_session_answer_in_ms(s);
    int64_t t = a < 0 ? b : b < 0 ? a : (a < b ? a : b);
    return t < 0 ? -1 : t > INT32_MAX ? INT32_MAX : (int)t;
}

int atls_session_has_pending(const atls_session *s)
{
    /* held DATA counts only when it can be delivered, or a caller waiting for an appraisal
     * would spin on data it cannot have */
    return SSL_pending(s->ssl) > 0 || (may_deliver(s) && queue_size(&s->held) > 0) ||
           atls_frame_reader_has_frame(&s->reader);
}

int atls_session_fd(const atls_session *s)
{
    return s->fd;
}

int atls_session_peer_attested(const atls_session *s)
{
    return s->peer_attested;
}

uint64_t atls_session_appraisals(const atls_session *s)
{
    return s->appraisals;
}

int atls_session_peer_error_code(const atls_session *s)
{
    return s->peer_error_code;
}

uint64_t atls_session_evidence_produced(const atls_session *s)
{
    return s->evidence_produced;
}

const atls_appraisal *atls_session_last_appraisal(const atls_session *s)
{
    return s->have_last ? &s->last : NULL;
}

int64_t atls_session_outstanding_age_ms(const atls_session *s)
{
    if (s->num_pending == 0) {
        return -1;
    }
    return atls_session_now_ms() - s->pending[0].sent_ms;
}

/* atls_session_fail sends an ERROR frame naming |code| with this thread's detail message and
 * closes; returns |code| so callers can `return atls_session_fail(s, rc)`. */
atls_error atls_session_fail(atls_session *s, atls_error code)
{
    if (s->closed) {
        return code;
    }
    char reason[ATLS_FRAME_ERROR_REASON_MAX];
    snprintf(reason, sizeof(reason), "%s", atls_error_message());
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    if (atls_frame_encode_error((uint16_t)code, reason, &frame, &frame_len) == ATLS_OK) {
        /* best effort: the connection is going down either way */
        ATLS_BEST_EFFORT(atls_queue_push(&s->out, frame, frame_len, SIZE_MAX));
        free(frame);
        ATLS_BEST_EFFORT(atls_session_flush(s));
    }
    s->closed = 1;
    s->close_reason = code;
    s->peer_attested = 0; /* whatever failed, nothing is attested any more */
    /* restore the detail: encoding/flushing above may have replaced it */
    return atls_error_raise(code, __FILE__, __LINE__, "%s", reason);
}

atls_error atls_session_send_error(atls_session *s, atls_error code, const char *reason)
{
    ATLS_ENSURE(!s->closed, ATLS_ERR_USAGE_STATE, "session: already closed");
    (void)atls_error_raise(code, __FILE__, __LINE__, "%s", reason ? reason : "");
    ATLS_BEST_EFFORT(atls_session_fail(s, code));
    return ATLS_OK;
}

int atls_session_close_step(atls_session *s, short *events)
{
    *events = 0;
    if (s->close_stage == 0) {
        if (queue_size(&s->out) > 0 && atls_session_flush(s) == ATLS_OK &&
            queue_size(&s->out) > 0) {
            *events = s->write_wants_read ? POLLIN : POLLOUT;
            return 0;
        }
        s->closed = 1;
        s->close_stage = 1;
        ERR_clear_error();
        if (SSL_shutdown(s->ssl) < 0) {
            ERR_clear_error();
            s->close_stage = 2;
            return 1;
        }
    }
    /* Lingering close: read (and drop) what the peer still sends until its close_notify or EOF.
     * Closing a socket with unread bytes in its receive buffer makes the kernel send RST, and
     * an RST can destroy data the peer has received but not yet read (the tail of a transfer,
     * when an answer to a re-attestation request was still on its way to us). */
    uint8_t sink[4096];
    while (s->close_stage == 1) {
        ERR_clear_error();
        int n = SSL_read(s->ssl, sink, sizeof(sink));
        if (n > 0) {
            continue;
        }
        int err = SSL_get_error(s->ssl, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            *events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
            return 0;
        }
        s->close_stage = 2; /* close_notify, EOF or an error: nothing more will come */
    }
    ERR_clear_error();
    return 1;
}

void atls_session_close(atls_session *s)
{
    int64_t deadline = atls_session_now_ms() + 2000;
    short events = 0;
    while (!atls_session_close_step(s, &events) && atls_session_now_ms() < deadline) {
        struct pollfd p = {.fd = s->fd, .events = events};
        (void)poll(&p, 1, 100);
    }
    ERR_clear_error();
}

/* ---- input ------------------------------------------------------------------------------- */

/* pull_tls reads what the socket has into the frame reader. *progress is set when bytes came
 * in; EOF marks the session. */
static atls_error pull_tls(atls_session *s, int *progress)
{
    uint8_t buf[16384];
    *progress = 0;
    s->read_wants_write = 0;
    /* never hold more than one maximal frame undecoded: frames left in the reader (the
     * application has not drained earlier DATA) are decoded before more is read */
    for (int rounds = 0; rounds < 8 && atls_frame_reader_buffered(&s->reader) <=
                                           ATLS_FRAME_MAX_PAYLOAD;
         rounds++) {
        ERR_clear_error();
        int n = SSL_read(s->ssl, buf, sizeof(buf));
        if (n > 0) {
            atls_error rc = atls_frame_reader_feed(&s->reader, buf, (size_t)n);
            atls_wipe(buf, (size_t)n);
            ATLS_GUARD(rc);
            *progress = 1;
            continue;
        }
        int err = SSL_get_error(s->ssl, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            /* WANT_WRITE: TLS must send something (a KeyUpdate answer) and the socket is
             * full; poll for POLLOUT, not only POLLIN, or nothing may wake us */
            s->read_wants_write = err == SSL_ERROR_WANT_WRITE;
            return ATLS_OK;
        }
        if (err == SSL_ERROR_ZERO_RETURN ||
            (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
            s->eof = 1;
            return ATLS_OK;
        }
        s->closed = 1;
        return atls_error_raise_ossl(ATLS_ERR_IO, __FILE__, __LINE__, "session: TLS read failed");
    }
    return ATLS_OK;
}

/* dispatch handles every complete frame in the reader. */
static atls_error dispatch(atls_session *s)
{
    for (;;) {
        int have = 0;
        uint8_t type = 0;
        const uint8_t *payload = NULL;
        size_t len = 0;
        atls_error rc = atls_frame_reader_next(&s->reader, &have, &type, &payload, &len);
        if (rc != ATLS_OK) {
            return atls_session_fail(s, rc);
        }
        if (!have) {
            return ATLS_OK;
        }
        switch (type) {
        case ATLS_FRAME_DATA:
            rc = atls_queue_push(&s->held, payload, len, ATLS_SESSION_MAX_HELD);
            if (rc != ATLS_OK && s->must_attest && !s->peer_attested) {
                rc = atls_error_raise(ATLS_ERR_PROTOCOL_SESSION, __FILE__, __LINE__,
                                      "session: peer sent more than %u bytes of data before "
                                      "attestation completed", ATLS_SESSION_MAX_HELD);
            }
            break;
        case ATLS_FRAME_REQUEST:
            rc = atls_session_on_request(s, payload, len);
            if (rc == ATLS_OK) {
                /* answer now what the bounds allow, so only truly waiting requests count */
                rc = atls_session_serve_requests(s);
            }
            break;
        case ATLS_FRAME_AUTHENTICATOR:
            rc = atls_session_on_authenticator(s, payload, len);
            break;
        case ATLS_FRAME_ERROR: {
            uint16_t code = 0;
            char reason[ATLS_FRAME_ERROR_REASON_MAX + 1];
            if (atls_frame_parse_error(payload, len, &code, reason, sizeof(reason)) != ATLS_OK) {
                snprintf(reason, sizeof(reason), "(unreadable)");
            }
            s->closed = 1;
            s->peer_attested = 0;
            s->close_reason = ATLS_ERR_PROTOCOL_PEER_ERROR;
            s->peer_error_code = code != 0 ? code : ATLS_ERR_PROTOCOL;
            ATLS_RAISE(ATLS_ERR_PROTOCOL_PEER_ERROR, "peer reported error %u: %s", code, reason);
        }
        default:
            rc = atls_error_raise(ATLS_ERR_PROTOCOL_FRAME, __FILE__, __LINE__,
                                  "atls/1: unknown frame type 0x%02x", type);
            break;
        }
        if (rc != ATLS_OK) {
            return atls_session_fail(s, rc);
        }
        if (queue_size(&s->held) >= ATLS_SESSION_MAX_HELD / 2 && may_deliver(s)) {
            return ATLS_OK; /* let the application drain before decoding more */
        }
    }
}

/* at_eof: the peer's stream ended; a frame it left half sent is an error of its own */
static atls_error at_eof(atls_session *s)
{
    size_t partial = atls_frame_reader_buffered(&s->reader);
    if (partial > 0 && !atls_frame_reader_has_frame(&s->reader)) {
        s->closed = 1;
        s->peer_attested = 0;
        s->close_reason = ATLS_ERR_IO_TRUNCATED;
        ATLS_RAISE(ATLS_ERR_IO_TRUNCATED,
                   "session: the peer closed the connection in the middle of a frame (%zu "
                   "bytes of it received)",
                   partial);
    }
    return ATLS_OK;
}

atls_error atls_session_pump(atls_session *s)
{
    if (s->closed) {
        ATLS_RAISE(s->close_reason != ATLS_OK ? s->close_reason : ATLS_ERR_IO_CLOSED,
                   "session: closed");
    }
    atls_session_note_stall(s);
    ATLS_GUARD(atls_session_flush(s));
    int progress = 0;
    if (atls_session_wants_input(s)) {
        ATLS_GUARD(pull_tls(s, &progress));
    }
    ATLS_GUARD(dispatch(s));
    if (s->eof) {
        ATLS_GUARD(at_eof(s));
    }
    atls_error rc = atls_session_serve_requests(s);
    if (rc != ATLS_OK) {
        return atls_session_fail(s, rc);
    }
    ATLS_GUARD(atls_session_check_deadlines(s));
    atls_session_note_stall(s);
    return atls_session_flush(s);
}

atls_error atls_session_process(atls_session *s)
{
    atls_error rc = atls_session_pump(s);
    if (rc == ATLS_OK && s->eof && queue_size(&s->held) == 0) {
        s->closed = 1;
        ATLS_RAISE(ATLS_ERR_IO_CLOSED, "session: the peer closed the connection");
    }
    return rc;
}

atls_error atls_session_read(atls_session *s, uint8_t *buf, size_t cap, size_t *n)
{
    *n = 0;
    atls_error rc = atls_session_pump(s);
    if (rc != ATLS_OK) {
        return rc;
    }
    size_t avail = queue_size(&s->held);
    if (may_deliver(s) && avail > 0) {
        size_t take = avail < cap ? avail : cap;
        memcpy(buf, s->held.buf + s->held.head, take);
        atls_queue_consume(&s->held, take);
        *n = take;
        atls_session_note_stall(s);
        return ATLS_OK;
    }
    if (s->eof) {
        s->closed = 1;
        ATLS_RAISE(ATLS_ERR_IO_CLOSED, "session: the peer closed the connection");
    }
    return ATLS_OK;
}

atls_error atls_session_write(atls_session *s, const uint8_t *data, size_t len)
{
    ATLS_ENSURE(!s->closed, ATLS_ERR_IO_CLOSED, "session: closed");
    /* draft-fossati-seat-expat-04 section 7.3: no application data before the first
     * appraisal succeeded */
    ATLS_ENSURE(may_deliver(s), ATLS_ERR_PROTOCOL_SESSION,
                "session: no application data may be sent before the peer is attested");
    while (len > 0) {
        size_t chunk = len < ATLS_FRAME_DATA_CHUNK ? len : ATLS_FRAME_DATA_CHUNK;
        ATLS_GUARD(atls_session_queue_frame(s, ATLS_FRAME_DATA, data, chunk));
        data += chunk;
        len -= chunk;
    }
    return atls_session_flush(s);
}
