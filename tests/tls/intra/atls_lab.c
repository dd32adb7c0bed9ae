/* atls_lab.c: the atls side of the loopback lab (atls_lab.h). */
#include "atls_lab.h"

#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LAB_TIMEOUT_MS 10000

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* the server application: an atls session echoing DATA until the client closes */
static void serve_session(intra_lab_server *srv, SSL *ssl)
{
    atls_lab_site *s = srv->app_arg;
    atls_session *sess = NULL;
    atls_error rc = atls_session_new(ssl, &s->cfg, &sess);
    if (rc == ATLS_OK && s->cfg.peer_must_attest) {
        rc = atls_session_request(sess, NULL, 0); /* the client attests too, as serve does */
    }
    uint8_t buf[16384];
    while (rc == ATLS_OK) {
        size_t n = 0;
        rc = atls_session_read(sess, buf, sizeof(buf), &n);
        if (rc != ATLS_OK) {
            break;
        }
        if (n > 0) {
            /* the secret: the last line the server read (who read the client's secret) */
            intra_lab_server_record(srv, buf, n);
            rc = atls_session_write(sess, buf, n);
            continue;
        }
        if (!atls_session_has_pending(sess)) {
            struct pollfd p = {.fd = atls_session_fd(sess), .events = atls_session_poll_events(sess)};
            if (poll(&p, 1, LAB_TIMEOUT_MS) == 0) {
                rc = ATLS_ERR_IO_TIMEOUT;
            }
        }
    }
    pthread_mutex_lock(&srv->mu);
    s->sessions++;
    if (rc != ATLS_ERR_IO_CLOSED) {
        s->sessions_failed++;
        s->last_error = rc;
        snprintf(s->last_reason, sizeof(s->last_reason), "%s", atls_error_message());
    }
    pthread_mutex_unlock(&srv->mu);
    if (sess != NULL) {
        atls_session_close(sess);
        atls_session_free(sess);
    }
    ERR_clear_error();
}

int atls_lab_site_start(atls_lab_site *s, X509 *cert, EVP_PKEY *key,
                        const atls_attester_ops *ops, void *state)
{
    return atls_lab_site_init(s, cert, key, ops, state) == 0 ? atls_lab_site_serve(s) : -1;
}

int atls_lab_site_init(atls_lab_site *s, X509 *cert, EVP_PKEY *key, const atls_attester_ops *ops,
                       void *state)
{
    memset(s, 0, sizeof(*s));
    if (atls_fair_lock_init(&s->att_lock) != ATLS_OK) {
        return -1;
    }
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (s->ctx == NULL || atls_ssl_ctx_configure(s->ctx, 1, 0) != ATLS_OK ||
        SSL_CTX_use_certificate(s->ctx, cert) != 1 || SSL_CTX_use_PrivateKey(s->ctx, key) != 1) {
        fprintf(stderr, "atls_lab: server context: %s\n", atls_error_detail());
        SSL_CTX_free(s->ctx);
        s->ctx = NULL;
        return -1;
    }
    s->cfg.cert = cert;
    s->cfg.key = key;
    s->cfg.attester = ops;
    s->cfg.attester_state = state;
    s->cfg.attester_lock = &s->att_lock;
    s->cfg.timeout_ms = LAB_TIMEOUT_MS;
    s->srv.app = serve_session;
    s->srv.app_arg = s;
    return 0;
}

int atls_lab_site_serve(atls_lab_site *s)
{
    if (intra_lab_server_start(&s->srv, s->ctx) != 0) {
        SSL_CTX_free(s->ctx);
        s->ctx = NULL;
        return -1;
    }
    return 0;
}

void atls_lab_site_stop(atls_lab_site *s)
{
    if (s->ctx != NULL) {
        intra_lab_server_stop(&s->srv);
        SSL_CTX_free(s->ctx);
        s->ctx = NULL;
    }
    atls_fair_lock_destroy(&s->att_lock);
}

SSL_CTX *atls_lab_client_ctx(X509_STORE *trust)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || atls_ssl_ctx_configure(ctx, 0, 1) != ATLS_OK ||
        SSL_CTX_set1_verify_cert_store(ctx, trust) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

static atls_error fail(atls_lab_client *c, atls_error rc, const char *what)
{
    if (c->error == ATLS_OK) {
        c->error = rc;
        snprintf(c->reason, sizeof(c->reason), "%s: %s", what, atls_error_message());
    }
    return rc;
}

atls_error atls_lab_connect(atls_lab_client *c, SSL_CTX *ctx, X509_STORE *trust,
                            const char *host, const atls_policy *policy, int port)
{
    return atls_lab_connect_as(c, ctx, trust, host, policy, port, NULL);
}

atls_error atls_lab_connect_as(atls_lab_client *c, SSL_CTX *ctx, X509_STORE *trust,
                               const char *host, const atls_policy *policy, int port,
                               const atls_lab_identity *id)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    if (ctx == NULL) {
        c->ctx = ctx = atls_lab_client_ctx(trust);
    }
    uint64_t t0 = now_ns();
    c->fd = loopback_connect(port);
    c->ssl = ctx != NULL && c->fd >= 0 ? SSL_new(ctx) : NULL;
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_set1_host(c->ssl, host) != 1 ||
        SSL_set_tlsext_host_name(c->ssl, host) != 1) {
        return fail(c, ATLS_ERR_IO, "connect");
    }
    if (id != NULL && (SSL_use_certificate(c->ssl, id->cert) != 1 ||
                       SSL_use_PrivateKey(c->ssl, id->key) != 1)) {
        return fail(c, ATLS_ERR_CRYPTO_KEY, "client certificate");
    }
    ERR_clear_error();
    if (SSL_connect(c->ssl) != 1) {
        long v = SSL_get_verify_result(c->ssl);
        c->error = v != X509_V_OK ? ATLS_ERR_CRYPTO_CHAIN : ATLS_ERR_IO;
        snprintf(c->reason, sizeof(c->reason), "TLS handshake: %s",
                 v != X509_V_OK ? X509_verify_cert_error_string(v) : "failed");
        ERR_clear_error();
        return c->error;
    }
    c->handshake_ok = 1;
    c->handshake_ns = now_ns() - t0;
    atls_session_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.peer_must_attest = 1;
    cfg.policy = policy;
    if (id != NULL) {
        cfg.cert = id->cert;
        cfg.key = id->key;
        cfg.attester = id->attester;
        cfg.attester_state = id->attester_state;
    }
    cfg.trust = trust;
    cfg.hostname = host;
    cfg.timeout_ms = LAB_TIMEOUT_MS;
    atls_error rc = atls_session_new(c->ssl, &cfg, &c->session);
    if (rc != ATLS_OK) {
        return fail(c, rc, "session");
    }
    uint64_t t1 = now_ns();
    rc = atls_session_attest(c->session, NULL);
    c->attest_ns = now_ns() - t1;
    if (rc != ATLS_OK) {
        return fail(c, rc, "attestation");
    }
    c->attested = atls_session_peer_attested(c->session);
    return ATLS_OK;
}

atls_error atls_lab_reattest(atls_lab_client *c)
{
    if (c->session == NULL) {
        return fail(c, ATLS_ERR_USAGE_STATE, "re-attestation");
    }
    atls_error rc = atls_session_attest(c->session, NULL);
    c->attested = rc == ATLS_OK && atls_session_peer_attested(c->session);
    return rc == ATLS_OK ? rc : fail(c, rc, "re-attestation");
}

atls_error atls_lab_roundtrip(atls_lab_client *c, const char *msg)
{
    if (c->session == NULL) {
        return fail(c, ATLS_ERR_USAGE_STATE, "data");
    }
    size_t len = strlen(msg);
    atls_error rc = atls_session_write(c->session, (const uint8_t *)msg, len);
    uint8_t buf[4096];
    size_t got = 0;
    for (int spins = 0; rc == ATLS_OK && got < len && spins < 100000; spins++) {
        rc = atls_session_flush(c->session);
        size_t n = 0;
        if (rc == ATLS_OK) {
            rc = atls_session_read(c->session, buf, sizeof(buf), &n);
        }
        got += n;
        if (rc == ATLS_OK && n == 0 && !atls_session_has_pending(c->session)) {
            struct pollfd p = {.fd = atls_session_fd(c->session),
                               .events = atls_session_poll_events(c->session)};
            if (poll(&p, 1, LAB_TIMEOUT_MS) == 0) {
                rc = ATLS_ERR_IO_TIMEOUT;
            }
        }
    }
    return rc == ATLS_OK ? rc : fail(c, rc, "data");
}

void atls_lab_close(atls_lab_client *c)
{
    if (c->session != NULL) {
        atls_session_close(c->session);
        atls_session_free(c->session);
    }
    SSL_free(c->ssl);
    if (c->fd >= 0) {
        close(c->fd);
    }
    SSL_CTX_free(c->ctx);
    c->session = NULL;
    c->ssl = NULL;
    c->ctx = NULL;
    c->fd = -1;
    ERR_clear_error();
}
