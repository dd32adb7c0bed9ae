/* serve_conn.c: one client connection of `atls serve` on its own thread (serve.h): TLS 1.3
 * handshake, then an attested atls/1 session or a plain TLS proxy to the backend. */
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

typedef struct conn {
    server *srv;
    int fd, backend;
    unsigned long id;
    char peer[80];
    SSL *ssl;
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

/* open_backend connects to the backend; on failure logs one line (always: the operator must
 * know) and returns -1. */
static int open_backend(conn *c)
{
    char err[300];
    if (cli_connect_tcp(&c->srv->backend, 5000, &c->backend, err, sizeof(err)) != 0) {
        cli_error("connection %lu from %s: backend: %s", c->id, c->peer, err);
        c->backend = -1;
        return -1;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_attested(conn *c)
{
    server *srv = c->srv;
    atls_session_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.cert = srv->cert;
    cfg.chain = srv->chain;
    cfg.key = srv->key;
    if (srv->batcher != NULL) {
        cfg.attester = atls_batcher_ops();
        cfg.attester_state = srv->batcher;
    } else {
        cfg.attester = srv->attester;
        cfg.attester_state = srv->attester_state;
        cfg.attester_lock = &srv->attester_lock;
    }
    cfg.peer_must_attest = srv->client_policy != NULL;
    cfg.policy = srv->client_policy;
    cfg.timeout_ms = srv->timeout_ms;
    /* clients authenticate in TLS against --client-ca; their authenticators are checked
     * against the same store and must carry the same key (atls/session.h defaults) */
    cfg.trust = SSL_CTX_get_cert_store(srv->ctx);
    cfg.answer_timeout_ms = srv->client_reattest_ms > 1000 ? srv->client_reattest_ms : 1000;
    atls_session *s = NULL;
    if (atls_session_new(c->ssl, &cfg, &s) != ATLS_OK) {
        cli_log("connection %lu from %s: %s", c->id, c->peer, atls_error_message());
        return;
    }
    if (open_backend(c) != 0) {
        ATLS_BEST_EFFORT(atls_session_send_error(s, ATLS_ERR_IO, "backend unreachable"));
        atls_session_free(s);
        return;
    }
    if (srv->client_policy != NULL && atls_session_request(s, NULL, 0) != ATLS_OK) {
        cli_log("connection %lu: cannot ask the client to attest: %s", c->id,
                atls_error_message());
        atls_session_free(s);
        return;
    }
    cli_log("connection %lu from %s: attested session (atls/1)", c->id, c->peer);
    proxy_pump *p = &c->u.pump;
    proxy_pump_init(p, s, c->backend);
    uint64_t seen = 0;
    int64_t next_request = now_ms() + srv->client_reattest_ms;
    for (;;) {
        int attested = srv->client_policy == NULL || atls_session_peer_attested(s);
        /* re-attest the client as `atls connect` re-attests servers; the session itself fails
         * when an answer is late (answer_timeout_ms), and the pump reports it */
        if (srv->client_policy != NULL && attested && atls_session_outstanding_age_ms(s) < 0 &&
            now_ms() >= next_request) {
            if (atls_session_request(s, NULL, 0) != ATLS_OK) {
                cli_log("connection %lu: cannot ask the client to attest: %s", c->id,
                        atls_error_message());
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
        if (atls_session_appraisals(s) != seen) {
            seen = atls_session_appraisals(s);
            cli_log("connection %lu: client attested (%llu)", c->id, (unsigned long long)seen);
        }
        if (st == PROXY_OK) {
            continue;
        }
        if (st == PROXY_PEER_CLOSED) {
            proxy_pump_drain(p, 2000);
            cli_log("connection %lu: client closed", c->id);
        } else if (st == PROXY_FD_CLOSED) {
            cli_log("connection %lu: backend closed", c->id);
        } else if (st == PROXY_FD_ERROR) {
            cli_log("connection %lu: backend: %s", c->id, strerror(p->fd_errno));
        } else {
            /* the session already sent an ERROR frame naming the problem */
            cli_log("connection %lu: closed: %s", c->id, atls_error_message());
        }
        break;
    }
    atls_session_close(s); /* flushes queued bytes, close_notify */
    atls_session_free(s);
}

static void run_plain(conn *c)
{
    if (c->srv->require_attestation) {
        cli_log("connection %lu from %s: refused: the client did not negotiate atls/1 "
                "(--require-attestation)", c->id, c->peer);
        (void)SSL_shutdown(c->ssl);
        return;
    }
    if (open_backend(c) != 0) {
        (void)SSL_shutdown(c->ssl);
        return;
    }
    cli_log("connection %lu from %s: plain TLS (no atls/1)", c->id, c->peer);
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
            cli_log("connection %lu: %s", c->id,
                    st == PROXY_FD_CLOSED ? "backend closed" : "client closed");
            break;
        }
    }
    proxy_plain_finish(p, 2000);
}

static void *conn_main(void *arg)
{
    conn *c = arg;
    server *srv = c->srv;
    cli_peer_name(c->fd, c->peer, sizeof(c->peer));
    set_timeouts(c->fd, 10000); /* a silent client cannot hold the handshake forever */
    c->ssl = SSL_new(srv->ctx);
    if (c->ssl != NULL && SSL_set_fd(c->ssl, c->fd) == 1) {
        ERR_clear_error();
        if (SSL_accept(c->ssl) == 1) {
            if (atls_ssl_is_atls(c->ssl)) {
                run_attested(c);
            } else {
                run_plain(c);
            }
        } else {
            char err[300];
            cli_log("connection %lu from %s: TLS handshake failed: %s", c->id, c->peer,
                    cli_ssl_error_text(NULL, err, sizeof(err)));
        }
    }
    ERR_clear_error();
    SSL_free(c->ssl);
    close(c->fd);
    if (c->backend >= 0) {
        close(c->backend);
    }
    free(c);
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
    pthread_mutex_lock(&srv->lock);
    c->id = ++srv->next_id;
    srv->active++;
    pthread_mutex_unlock(&srv->lock);
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
        pthread_mutex_lock(&srv->lock);
        srv->active--;
        pthread_mutex_unlock(&srv->lock);
        cli_error("cannot start a thread for connection %lu", c->id);
        close(fd);
        free(c);
        return -1;
    }
    return 0;
}
