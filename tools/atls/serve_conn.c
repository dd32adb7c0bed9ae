/* serve_conn.c: one client connection of `atls serve` on its own thread (serve.h): TLS 1.3
 * handshake, then an attested atls/1 session or a plain TLS proxy to the backend. Each
 * connection keeps the configuration snapshot it started with (serve_config.h) and logs one
 * line when it is established (logging.h): peer, ALPN, attested or plain. */
#include "logging.h"
#include "metrics.h"
#include "proxy.h"
#include "serve.h"

/* stack per connection thread: 1 MiB (ASan builds need more than plain ones) */
#define CONN_STACK_SIZE (1024u * 1024u)

#include <atls/session.h>

#include "base/result.h"

#include <openssl/err.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 250
#define HANDSHAKE_MS 10000

typedef struct conn {
    server *srv;
    serve_config *cfg;        /* the snapshot this connection started with (a reference) */
    int fd, backend;
    unsigned long id;
    char peer[80];
    SSL *ssl;
    attester_use attester;    /* this connection's handle on the shared attester */
    int64_t requested_ms;     /* when we last asked the client to attest (0: never) */
    union {
        proxy_pump pump;
        proxy_plain plain;
    } u;
} conn;

static void set_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* open_backend connects to the backend; on failure logs one line (always: the operator must
 * know) and returns -1. */
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

static atls_error ask_client(conn *c, atls_session *s)
{
    c->requested_ms = now_ms();
    return atls_session_request(s, NULL, 0);
}

static void run_attested(conn *c)
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
        cfg.attester_lock = &srv->attester_lock;
    }
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
    atls_session *s = NULL;
    if (atls_session_new(c->ssl, &cfg, &s) != ATLS_OK) {
        log_refusal(c, "atls/1", atls_error_message());
        return;
    }
    metrics_connection(METRICS_ATTESTED);
    log_event(LOG_INFO, "connection", "id=%lu peer=%s alpn=atls/1 mode=attested config=%lu",
              c->id, c->peer, c->cfg->generation);
    if (open_backend(c) != 0) {
        ATLS_BEST_EFFORT(atls_session_send_error(s, ATLS_ERR_IO, "backend unreachable"));
        /* a lingering close: closing with the client's request unread would reset the
         * connection, and the reset can destroy the ERROR frame before the client reads it */
        atls_session_close(s);
        atls_session_free(s);
        return;
    }
    if (srv->mutual && ask_client(c, s) != ATLS_OK) {
        log_event(LOG_WARN, "closed", "id=%lu reason=%s", c->id, atls_error_message());
        atls_session_free(s);
        return;
    }
    proxy_pump *p = &c->u.pump;
    proxy_pump_init(p, s, c->backend);
    int64_t next_request = now_ms() + srv->client_reattest_ms;
    for (;;) {
        int attested = !srv->mutual || atls_session_peer_attested(s);
        /* re-attest the client as `atls connect` re-attests servers; the session itself fails
         * when an answer is late (answer_timeout_ms), and the pump reports it */
        if (srv->mutual && attested && atls_session_outstanding_age_ms(s) < 0 &&
            now_ms() >= next_request) {
            if (ask_client(c, s) != ATLS_OK) {
                log_event(LOG_WARN, "closed", "id=%lu reason=%s", c->id, atls_error_message());
                break;
            }
            next_request = now_ms() + srv->client_reattest_ms;
        }
        struct pollfd pf[2];
        int now = proxy_pump_events(p, attested, &pf[0], &pf[1]);
        int timeout = POLL_MS, deadline = atls_session_timeout_ms(s);
        if (deadline >= 0 && deadline < timeout) {
            timeout = deadline;
        }
        if (!now && poll(pf, 2, timeout) < 0 && errno != EINTR) {
            break;
        }
        if (serve_stopping) {
            break;
        }
        proxy_status st = proxy_pump_run(p, pf[0].revents, pf[1].revents, attested);
        if (st == PROXY_OK) {
            continue;
        }
        if (st == PROXY_PEER_CLOSED) {
            proxy_pump_drain(p, 2000);
            log_event(LOG_DEBUG, "closed", "id=%lu reason=%s", c->id, "client closed");
        } else if (st == PROXY_FD_CLOSED) {
            log_event(LOG_DEBUG, "closed", "id=%lu reason=%s", c->id, "backend closed");
        } else if (st == PROXY_FD_ERROR) {
            log_event(LOG_WARN, "closed", "id=%lu reason=backend:%s", c->id,
                      strerror(p->fd_errno));
        } else {
            /* the session already sent an ERROR frame naming the problem */
            log_event(LOG_WARN, "closed", "id=%lu reason=%s", c->id, atls_error_message());
        }
        break;
    }
    atls_session_close(s); /* flushes queued bytes, close_notify */
    atls_session_free(s);
}

static void run_plain(conn *c)
{
    if (c->srv->require_attestation) {
        log_refusal(c, "-", "the client did not negotiate atls/1 (--require-attestation)");
        (void)SSL_shutdown(c->ssl);
        return;
    }
    metrics_connection(METRICS_PLAIN);
    log_event(LOG_INFO, "connection", "id=%lu peer=%s alpn=- mode=plain config=%lu", c->id,
              c->peer, c->cfg->generation);
    if (open_backend(c) != 0) {
        (void)SSL_shutdown(c->ssl);
        return;
    }
    proxy_plain *p = &c->u.plain;
    proxy_plain_init(p, c->ssl, c->backend);
    for (;;) {
        struct pollfd pf[2];
        int now = proxy_plain_events(p, &pf[0], &pf[1]);
        if (!now && poll(pf, 2, POLL_MS) < 0 && errno != EINTR) {
            break;
        }
        if (serve_stopping) {
            break;
        }
        proxy_status st = proxy_plain_run(p);
        if (st != PROXY_OK) {
            log_event(LOG_DEBUG, "closed", "id=%lu reason=%s", c->id,
                      st == PROXY_FD_CLOSED ? "backend closed" : "client closed");
            break;
        }
    }
    proxy_plain_finish(p, 2000);
}

static void handshake(conn *c)
{
    set_timeouts(c->fd, HANDSHAKE_MS); /* a silent client cannot hold the handshake forever */
    c->ssl = SSL_new(c->cfg->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        return;
    }
    ERR_clear_error();
    int64_t t0 = now_ms();
    if (SSL_accept(c->ssl) != 1) {
        char err[300];
        int timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
        if (BIO_number_read(SSL_get_rbio(c->ssl)) == 0 && !timed_out) {
            /* connected and closed without a byte: a port probe (health check), not a client */
            ERR_clear_error();
            log_event(LOG_DEBUG, "probe", "id=%lu peer=%s", c->id, c->peer);
            return;
        }
        metrics_connection(METRICS_HANDSHAKE_FAILED);
        log_event(LOG_WARN, "handshake_failed", "id=%lu peer=%s reason=%s", c->id, c->peer,
                  timed_out && ERR_peek_error() == 0
                      ? "timeout: no complete ClientHello within 10 s"
                      : cli_ssl_error_text(NULL, err, sizeof(err)));
        return;
    }
    metrics_handshake((double)(now_ms() - t0) / 1000.0);
    if (atls_ssl_is_atls(c->ssl)) {
        run_attested(c);
    } else {
        run_plain(c);
    }
}

static void *conn_main(void *arg)
{
    conn *c = arg;
    server *srv = c->srv;
    cli_peer_name(c->fd, c->peer, sizeof(c->peer));
    handshake(c);
    ERR_clear_error();
    SSL_free(c->ssl);
    close(c->fd);
    if (c->backend >= 0) {
        close(c->backend);
    }
    serve_config_unref(c->cfg);
    free(c);
    metrics_open_add(-1);
    pthread_mutex_lock(&srv->lock);
    srv->active--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

int serve_conn_start(server *srv, int fd)
{
    conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return -1;
    }
    c->srv = srv;
    c->fd = fd;
    c->backend = -1;
    c->cfg = serve_config_slot_get(&srv->config);
    pthread_mutex_lock(&srv->lock);
    c->id = ++srv->next_id;
    srv->active++;
    pthread_mutex_unlock(&srv->lock);
    c->attester.meter = &srv->attester;
    c->attester.conn_id = c->id;
    metrics_open_add(1);
    pthread_attr_t attr;
    pthread_t t;
    /* a connection thread needs far less than the default 8 MiB of stack (its largest frames
     * are 64 KiB I/O buffers); a smaller reservation lets thousands of connections fit */
    int ok = pthread_attr_init(&attr) == 0 &&
             pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
             pthread_attr_setstacksize(&attr, CONN_STACK_SIZE) == 0 &&
             pthread_create(&t, &attr, conn_main, c) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) {
        metrics_open_add(-1);
        pthread_mutex_lock(&srv->lock);
        srv->active--;
        pthread_mutex_unlock(&srv->lock);
        cli_error("cannot start a thread for connection %lu", c->id);
        serve_config_unref(c->cfg);
        close(fd);
        free(c);
        return -1;
    }
    return 0;
}
