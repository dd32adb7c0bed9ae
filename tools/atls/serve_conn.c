/* serve_conn.c: one client connection of `atls serve` as a non-blocking state machine
 * (serve_conn.h): TLS 1.3 handshake, then an attested atls/1 session or a plain TLS proxy to the
 * backend. Each connection keeps the configuration snapshot it started with (serve_config.h)
 * and logs one line when it is established (logging.h): peer, ALPN, attested or plain. */
#include "serve_conn.h"

#include "logging.h"
#include "metrics.h"

#include "base/result.h"

#include <openssl/err.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define HANDSHAKE_MS 10000
#define CLOSE_MS 2000 /* draining to the backend, lingering close: as the blocking forms */
#define TRIM_MS 1000  /* quiet this long: the connection's I/O buffers are freed */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t to_epoll(short ev)
{
    return (uint32_t)((ev & POLLIN ? EPOLLIN : 0) | (ev & POLLOUT ? EPOLLOUT : 0));
}

static short to_poll(uint32_t ev)
{
    return (short)((ev & EPOLLIN ? POLLIN : 0) | (ev & EPOLLOUT ? POLLOUT : 0) |
                   (ev & EPOLLHUP ? POLLHUP : 0) | (ev & EPOLLERR ? POLLERR : 0));
}

/* set_deadline: the earliest of the current state's bound and |t| (0: none) */
static void set_deadline(conn *c, int64_t t)
{
    int64_t d = c->state_deadline_ms;
    if (t > 0 && (d == 0 || t < d)) {
        d = t;
    }
    c->deadline_ms = d;
}

/* open_backend connects to the backend; on failure logs one line (always: the operator must
 * know) and returns -1. A loopback or Unix-domain backend answers at once; a remote one that
 * does not is bounded (5 s) like before. */
static int open_backend(conn *c)
{
    char err[300];
    if (cli_connect_backend(&c->srv->backend, 5000, &c->backend, err, sizeof(err)) != 0) {
        metrics_backend_failure();
        log_event(LOG_WARN, "backend_unreachable", "id=%lu peer=%s reason=%s", c->id, c->peer,
                  err);
        c->backend = -1;
        return -1;
    }
    proxy_set_nonblocking(c->backend);
    return 0;
}

static void log_refusal(const conn *c, const char *alpn, const char *reason)
{
    metrics_connection(METRICS_REFUSED);
    log_event(LOG_WARN, "refused", "id=%lu peer=%s alpn=%s reason=%s", c->id, c->peer, alpn,
              reason);
}

/* on_client_appraisal: the session appraised the client's Evidence (mutual attestation) */
static void on_client_appraisal(void *arg, const atls_appraisal *a)
{
    conn *c = arg;
    double seconds = c->requested_ms > 0 ? (double)(now_ms() - c->requested_ms) / 1000.0 : -1.0;
    metrics_appraisal(a->status, seconds);
    log_event(a->status == ATLS_TIER_AFFIRMING ? LOG_INFO : LOG_WARN, "appraisal",
              "id=%lu peer=%s status=%s policy=%s reason=%s", c->id, c->peer,
              atls_tier_name(a->status),
              c->cfg->client_policy != NULL ? atls_policy_id(c->cfg->client_policy) : NULL,
              a->reason[0] != '\0' ? a->reason : NULL);
}

static atls_error ask_client(conn *c)
{
    c->requested_ms = now_ms();
    c->next_request_ms = c->requested_ms + c->srv->client_reattest_ms;
    return atls_session_request(c->session, NULL, 0);
}

/* to_linger: the session closes cleanly from here (flush, close_notify, lingering read) */
static void to_linger(conn *c)
{
    c->state = CONN_LINGER;
    c->state_deadline_ms = now_ms() + CLOSE_MS;
}

/* dispatch_job: a request of the client needs Evidence: off to the batcher or the Evidence
 * thread (serve_evidence.c); never produced here */
static void dispatch_job(conn *c)
{
    if (c->job_out || c->session == NULL) {
        return;
    }
    atls_evidence_job *j = atls_session_take_evidence_job(c->session);
    if (j == NULL) {
        return;
    }
    c->job = j;
    c->job_out = 1;
    if (serve_evidence_submit(c) != 0) {
        c->job_out = 0;
        serve_conn_evidence_back(c); /* the job holds the error: the session fails with it */
    }
}

static void start_attested(conn *c)
{
    server *srv = c->srv;
    atls_session_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.cert = c->cfg->cert;
    cfg.chain = c->cfg->chain;
    cfg.key = c->cfg->key;
    if (srv->batcher != NULL) {
        cfg.attester = atls_batcher_ops();
        cfg.attester_state = srv->batcher;
    } else {
        cfg.attester = &srv->attester.ops;
        cfg.attester_state = &c->attester;
    }
    cfg.evidence_async = 1; /* never on this thread: serve_evidence.c */
    cfg.peer_must_attest = srv->mutual;
    /* expat-04 section 8.2: a client that must attest learns nothing of our platform before
     * it did; a client that refuses gets an ERROR frame, never our Evidence */
    cfg.attest_after_peer_appraisal = srv->mutual;
    cfg.policy = c->cfg->client_policy;
    cfg.timeout_ms = srv->timeout_ms;
    /* clients authenticate in TLS against --client-ca; their authenticators are checked
     * against the same store and must carry the same key (atls/session.h defaults) */
    cfg.trust = SSL_CTX_get_cert_store(c->cfg->ctx);
    cfg.answer_timeout_ms = srv->client_reattest_ms > 1000 ? srv->client_reattest_ms : 1000;
    cfg.on_appraisal = on_client_appraisal;
    cfg.on_appraisal_arg = c;
    if (atls_session_new(c->ssl, &cfg, &c->session) != ATLS_OK) {
        log_refusal(c, "atls/1", atls_error_message());
        c->state = CONN_DONE;
        return;
    }
    metrics_connection(METRICS_ATTESTED);
    log_event(LOG_INFO, "connection", "id=%lu peer=%s alpn=atls/1 mode=attested config=%lu",
              c->id, c->peer, c->cfg->generation);
    if (open_backend(c) != 0) {
        ATLS_BEST_EFFORT(atls_session_send_error(c->session, ATLS_ERR_IO, "backend unreachable"));
        /* a lingering close: closing with the client's request unread would reset the
         * connection, and the reset can destroy the ERROR frame before the client reads it */
        to_linger(c);
        return;
    }
    if (srv->mutual && ask_client(c) != ATLS_OK) {
        log_event(LOG_WARN, "closed", "id=%lu reason=%s", c->id, atls_error_message());
        c->state = CONN_DONE;
        return;
    }
    c->pump = malloc(sizeof(*c->pump)); /* its buffer stays untouched while idle */
    if (c->pump == NULL) {
        log_event(LOG_WARN, "closed", "id=%lu reason=%s", c->id, "out of memory");
        to_linger(c);
        return;
    }
    proxy_pump_init(c->pump, c->session, c->backend);
    c->next_request_ms = now_ms() + srv->client_reattest_ms;
    c->state = CONN_ATTESTED;
    c->state_deadline_ms = 0;
}

static void start_plain(conn *c)
{
    if (c->srv->require_attestation) {
        log_refusal(c, "-", "the client did not negotiate atls/1 (--require-attestation)");
        (void)SSL_shutdown(c->ssl);
        c->state = CONN_DONE;
        return;
    }
    metrics_connection(METRICS_PLAIN);
    log_event(LOG_INFO, "connection", "id=%lu peer=%s alpn=- mode=plain config=%lu", c->id,
              c->peer, c->cfg->generation);
    c->plain = malloc(sizeof(*c->plain));
    if (c->plain == NULL || open_backend(c) != 0) {
        (void)SSL_shutdown(c->ssl);
        c->state = CONN_DONE;
        return;
    }
    proxy_plain_init(c->plain, c->ssl, c->backend);
    c->state = CONN_PLAIN;
    c->state_deadline_ms = 0;
}

static void step_handshake(conn *c)
{
    ERR_clear_error();
    int r = SSL_accept(c->ssl);
    if (r == 1) {
        metrics_handshake((double)(now_ms() - c->handshake_started_ms) / 1000.0);
        if (atls_ssl_is_atls(c->ssl)) {
            start_attested(c);
        } else {
            start_plain(c);
        }
        return;
    }
    int e = SSL_get_error(c->ssl, r);
    int timed_out = now_ms() >= c->state_deadline_ms;
    if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !timed_out) {
        c->want[0] = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
        return;
    }
    char err[300];
    if (BIO_number_read(SSL_get_rbio(c->ssl)) == 0 && !timed_out) {
        /* connected and closed without a byte: a port probe (health check), not a client */
        ERR_clear_error();
        log_event(LOG_DEBUG, "probe", "id=%lu peer=%s", c->id, c->peer);
    } else {
        metrics_connection(METRICS_HANDSHAKE_FAILED);
        log_event(LOG_WARN, "handshake_failed", "id=%lu peer=%s reason=%s", c->id, c->peer,
                  timed_out && ERR_peek_error() == 0
                      ? "timeout: no complete ClientHello within 10 s"
                      : cli_ssl_error_text(NULL, err, sizeof(err)));
    }
    c->state = CONN_DONE;
}

/* end_attested: the pump stopped with |st|: log why, then drain or linger */
static void end_attested(conn *c, proxy_status st)
{
    if (st == PROXY_PEER_CLOSED) {
        log_event(LOG_DEBUG, "closed", "id=%lu reason=%s", c->id, "client closed");
        c->state = CONN_DRAIN;
        c->state_deadline_ms = now_ms() + CLOSE_MS;
        return;
    }
    if (st == PROXY_FD_CLOSED) {
        log_event(LOG_DEBUG, "closed", "id=%lu reason=%s", c->id, "backend closed");
    } else if (st == PROXY_FD_ERROR) {
        log_event(LOG_WARN, "closed", "id=%lu reason=backend:%s", c->id,
                  strerror(c->pump->fd_errno));
    } else {
        /* the session already sent an ERROR frame naming the problem */
        log_event(LOG_WARN, "closed", "id=%lu reason=%s", c->id, atls_error_message());
    }
    to_linger(c);
}

static void step_attested(conn *c, const uint32_t revents[2])
{
    server *srv = c->srv;
    atls_session *s = c->session;
    int attested = !srv->mutual || atls_session_peer_attested(s);
    /* re-attest the client as `atls connect` re-attests servers; the session itself fails
     * when an answer is late (answer_timeout_ms), and the pump reports it */
    if (srv->mutual && attested && atls_session_outstanding_age_ms(s) < 0 &&
        now_ms() >= c->next_request_ms) {
        if (ask_client(c) != ATLS_OK) {
            log_event(LOG_WARN, "closed", "id=%lu reason=%s", c->id, atls_error_message());
            to_linger(c);
            return;
        }
    }
    int64_t now = now_ms();
    int trim = 0;
    if (revents[0] != 0 || revents[1] != 0) {
        c->trim_ms = now + TRIM_MS; /* traffic: trim once it has been quiet for a while */
    } else if (c->trim_ms != 0 && now >= c->trim_ms) {
        trim = 1;
        c->trim_ms = 0;
    }
    proxy_status st = proxy_pump_run(c->pump, to_poll(revents[0]), to_poll(revents[1]),
                                     attested);
    dispatch_job(c);
    if (st != PROXY_OK) {
        end_attested(c, st);
        return;
    }
    if (trim) {
        proxy_pump_trim(c->pump); /* quiet: an idle connection holds no I/O buffers */
        c->trimmed = 1;
    }
    attested = !srv->mutual || atls_session_peer_attested(s);
    struct pollfd pf[2];
    c->ready = proxy_pump_events(c->pump, attested, &pf[0], &pf[1]);
    c->want[0] = to_epoll(pf[0].events);
    c->want[1] = to_epoll(pf[1].events);
    int t = atls_session_timeout_ms(s);
    int64_t next = t >= 0 ? now_ms() + t : 0;
    if (c->trim_ms != 0 && (next == 0 || c->trim_ms < next)) {
        next = c->trim_ms;
    }
    if (srv->mutual && attested && atls_session_outstanding_age_ms(s) < 0 &&
        (next == 0 || c->next_request_ms < next)) {
        next = c->next_request_ms;
    }
    set_deadline(c, next);
}

static void step_drain(conn *c)
{
    if (proxy_pump_drain_step(c->pump) || now_ms() >= c->state_deadline_ms) {
        to_linger(c);
        return;
    }
    c->want[1] = EPOLLOUT;
}

static void step_linger(conn *c)
{
    short ev = 0;
    if (atls_session_close_step(c->session, &ev) || now_ms() >= c->state_deadline_ms) {
        ERR_clear_error();
        c->state = CONN_DONE;
        return;
    }
    c->want[0] = to_epoll(ev);
}

static void step_plain(conn *c)
{
    proxy_status st = proxy_plain_run(c->plain);
    if (st != PROXY_OK) {
        log_event(LOG_DEBUG, "closed", "id=%lu reason=%s", c->id,
                  st == PROXY_FD_CLOSED ? "backend closed" : "client closed");
        c->state = CONN_PLAIN_FINISH;
        c->state_deadline_ms = now_ms() + CLOSE_MS;
        return;
    }
    struct pollfd pf[2];
    c->ready = proxy_plain_events(c->plain, &pf[0], &pf[1]);
    c->want[0] = to_epoll(pf[0].events);
    c->want[1] = to_epoll(pf[1].events);
}

static void step_plain_finish(conn *c)
{
    struct pollfd pf[2];
    if (proxy_plain_finish_step(c->plain, &pf[0], &pf[1])) {
        c->state = CONN_DONE;
        return;
    }
    if (now_ms() >= c->state_deadline_ms) {
        (void)SSL_shutdown(c->ssl);
        c->state = CONN_DONE;
        return;
    }
    c->want[0] = to_epoll(pf[0].events);
    c->want[1] = to_epoll(pf[1].events);
}

void serve_conn_step(conn *c, const uint32_t revents[2])
{
    conn_state before;
    /* a state change may have more to do at once (a handshake that completes with data) */
    do {
        before = c->state;
        c->want[0] = c->want[1] = 0;
        c->ready = 0;
        c->deadline_ms = c->state_deadline_ms;
        switch (c->state) {
        case CONN_HANDSHAKE: step_handshake(c); break;
        case CONN_ATTESTED: step_attested(c, revents); break;
        case CONN_DRAIN: step_drain(c); break;
        case CONN_LINGER: step_linger(c); break;
        case CONN_PLAIN: step_plain(c); break;
        case CONN_PLAIN_FINISH: step_plain_finish(c); break;
        case CONN_DONE: break;
        }
        c->deadline_ms = c->deadline_ms == 0 ? c->state_deadline_ms : c->deadline_ms;
    } while (c->state != before && c->state != CONN_DONE);
    ERR_clear_error();
}

void serve_conn_evidence_back(conn *c)
{
    atls_evidence_job *j = c->job;
    c->job = NULL;
    if (c->session == NULL || j == NULL) {
        atls_evidence_job_free(j);
        return;
    }
    if (c->state != CONN_ATTESTED) {
        /* closing anyway: the answer is not needed any more */
        atls_evidence_job_free(j);
        return;
    }
    if (atls_session_evidence_done(c->session, j) != ATLS_OK && c->state == CONN_ATTESTED) {
        /* the session sent an ERROR frame naming the attester's failure */
        log_event(LOG_WARN, "closed", "id=%lu reason=%s", c->id, atls_error_message());
        to_linger(c);
        return;
    }
    dispatch_job(c); /* the next request may need Evidence too */
}

void serve_conn_stop(conn *c)
{
    switch (c->state) {
    case CONN_HANDSHAKE: c->state = CONN_DONE; break;
    case CONN_ATTESTED:
    case CONN_DRAIN: to_linger(c); break;
    case CONN_PLAIN:
        c->state = CONN_PLAIN_FINISH;
        c->state_deadline_ms = now_ms() + CLOSE_MS;
        break;
    default: break;
    }
}

conn *serve_conn_new(server *srv, serve_worker *w, int fd, unsigned long id)
{
    conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->srv = srv;
    c->worker = w;
    c->fd = fd;
    c->backend = -1;
    c->id = id;
    c->cfg = serve_config_slot_get(&srv->config);
    c->attester.meter = &srv->attester;
    c->attester.conn_id = id;
    c->ref[0].c = c->ref[1].c = c;
    c->ref[1].which = 1;
    cli_peer_name(fd, c->peer, sizeof(c->peer));
    proxy_set_nonblocking(fd);
    c->ssl = SSL_new(c->cfg->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
        ERR_clear_error();
        c->state = CONN_DONE;
    }
    c->handshake_started_ms = now_ms();
    /* a silent client cannot hold the handshake forever */
    c->state_deadline_ms = c->handshake_started_ms + HANDSHAKE_MS;
    c->deadline_ms = c->state_deadline_ms;
    return c;
}

void serve_conn_free(conn *c)
{
    atls_evidence_job_free(c->job);
    atls_session_free(c->session);
    ERR_clear_error();
    SSL_free(c->ssl);
    close(c->fd);
    if (c->backend >= 0) {
        close(c->backend);
    }
    if (c->pump != NULL) {
        proxy_pump_cleanup(c->pump);
        free(c->pump);
    }
    free(c->plain);
    serve_config_unref(c->cfg);
    free(c);
}
