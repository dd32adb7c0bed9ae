/* client.c: TLS client context and attested connections for connect / policy init
 * (client.h). */
#include "client.h"

#include "attester_guard.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int client_setup(const client_opts *o, client_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->o = *o;
    c->name = o->servername != NULL ? o->servername : o->server.host;
    if (c->o.timeout_ms <= 0) {
        c->o.timeout_ms = 30000;
    }
    int rc;
    if ((o->cert != NULL) != (o->key != NULL)) {
        cli_error("--cert and --key go together");
        return CLI_EXIT_USAGE;
    }
    if (o->attester.name != NULL && o->cert == NULL) {
        cli_error("--attester needs --cert and --key (the identity our Evidence is bound to)");
        return CLI_EXIT_USAGE;
    }
    if (o->cert != NULL && ((rc = cli_load_cert_chain(o->cert, &c->cert, &c->chain)) != 0 ||
                            (rc = cli_load_private_key(o->key, &c->key)) != 0)) {
        return rc;
    }
    if (c->cert != NULL && X509_check_private_key(c->cert, c->key) != 1) {
        ERR_clear_error();
        cli_error("--key %s does not match --cert %s", o->key, o->cert);
        return CLI_EXIT_USAGE;
    }
    if (atls_fair_lock_init(&c->attester_lock) != ATLS_OK) {
        return cli_fail_atls(CLI_EXIT_USAGE, "lock");
    }
    c->have_lock = 1;
    c->guarded = o->guard_signals && o->attester.name != NULL &&
                 attester_guard_begin(&c->attester_lock) == 0;
    atls_fair_lock_acquire(&c->attester_lock);
    rc = cli_attester_open(&o->attester, &c->attester, &c->attester_state);
    if (rc == 0 && c->guarded) {
        attester_guard_attach(c->attester, c->attester_state);
    }
    atls_fair_lock_release(&c->attester_lock);
    if (rc != 0) {
        return rc;
    }
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL || atls_ssl_ctx_configure(c->ctx, 0, 1) != ATLS_OK) {
        cli_error("cannot set up TLS");
        return CLI_EXIT_USAGE;
    }
    if (o->ca != NULL) {
        if (SSL_CTX_load_verify_file(c->ctx, o->ca) != 1) {
            ERR_clear_error();
            cli_error("--ca %s: cannot read PEM certificates", o->ca);
            return CLI_EXIT_USAGE;
        }
    } else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
        ERR_clear_error();
        cli_error("cannot load the system CA store (use --ca FILE)");
        return CLI_EXIT_USAGE;
    }
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

void client_cleanup(client_ctx *c)
{
    if (c->guarded) {
        attester_guard_end(); /* destroys the attester */
    } else if (c->attester != NULL) {
        c->attester->destroy(c->attester_state);
    }
    if (c->have_lock) {
        atls_fair_lock_destroy(&c->attester_lock);
    }
    SSL_CTX_free(c->ctx);
    X509_free(c->cert);
    sk_X509_pop_free(c->chain, X509_free);
    EVP_PKEY_free(c->key);
    memset(c, 0, sizeof(*c));
}

static void set_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* handshake_failed says why SSL_connect returned |hr|, in the words an operator needs: a
 * timeout, a server without TLS 1.3, a peer that does not speak TLS, or OpenSSL's reason */
static void handshake_failed(const client_ctx *c, SSL *ssl, int hr)
{
    const char *host = c->o.server.host, *port = c->o.server.port;
    int e = SSL_get_error(ssl, hr);
    unsigned long last = ERR_peek_last_error();
    int reason = ERR_GET_REASON(last);
    char err[400];
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
        (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) {
        /* the socket timeouts (SO_RCVTIMEO / SO_SNDTIMEO) expired mid-handshake */
        ERR_clear_error();
        cli_error("TLS handshake with %s:%s timed out: no answer within %.1f s (--timeout)", host,
                  port, (double)c->o.timeout_ms / 1000.0);
    } else if (last != 0 && ERR_GET_LIB(last) == ERR_LIB_SSL &&
               (reason == SSL_R_UNSUPPORTED_PROTOCOL ||
                reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
                reason == SSL_R_NO_PROTOCOLS_AVAILABLE)) {
        ERR_clear_error();
        cli_error("TLS handshake with %s:%s failed: the server does not offer TLS 1.3, which "
                  "atls requires (it answered with an older TLS version or refused ours)",
                  host, port);
    } else if (last != 0 && ERR_GET_LIB(last) == ERR_LIB_SSL &&
               (reason == SSL_R_WRONG_VERSION_NUMBER ||
                reason == SSL_R_PACKET_LENGTH_TOO_LONG)) {
        ERR_clear_error();
        cli_error("TLS handshake with %s:%s failed: the server did not answer with TLS (is it "
                  "a TLS service?)", host, port);
    } else {
        cli_error("TLS handshake with %s:%s failed: %s", host, port,
                  cli_ssl_error_text(ssl, err, sizeof(err)));
    }
}

int client_open(client_ctx *c, client_conn *out, void *appraisal_arg)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    int rc = cli_connect_tcp(&c->o.server, c->o.timeout_ms, &out->fd, NULL, 0);
    if (rc != 0) {
        return rc;
    }
    set_timeouts(out->fd, c->o.timeout_ms);
    out->ssl = SSL_new(c->ctx);
    if (out->ssl == NULL || SSL_set_fd(out->ssl, out->fd) != 1) {
        cli_error("cannot set up TLS");
        rc = CLI_EXIT_USAGE;
        goto fail;
    }
    /* RFC 6125 check by OpenSSL: an IP literal is matched against IP SANs, a name against DNS
     * SANs; SNI carries names only (RFC 6066 section 3) */
    int is_ip = cli_is_ip_literal(c->name);
    X509_VERIFY_PARAM *param = SSL_get0_param(out->ssl);
    if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, c->name)
               : SSL_set1_host(out->ssl, c->name)) != 1 ||
        (!is_ip && SSL_set_tlsext_host_name(out->ssl, c->name) != 1)) {
        ERR_clear_error();
        cli_error("bad server name '%s'", c->name);
        rc = CLI_EXIT_USAGE;
        goto fail;
    }
    if (c->cert != NULL) {
        if (SSL_use_certificate(out->ssl, c->cert) != 1 ||
            SSL_use_PrivateKey(out->ssl, c->key) != 1) {
            ERR_clear_error();
            cli_error("cannot use --cert/--key");
            rc = CLI_EXIT_USAGE;
            goto fail;
        }
    }
    ERR_clear_error();
    int hr = SSL_connect(out->ssl);
    if (hr != 1) {
        handshake_failed(c, out->ssl, hr);
        rc = CLI_EXIT_FAIL;
        goto fail;
    }
    if (!atls_ssl_is_atls(out->ssl)) {
        cli_error("%s:%s did not negotiate ALPN atls/1: not an atls server", c->o.server.host,
                  c->o.server.port);
        rc = CLI_EXIT_FAIL;
        goto fail;
    }
    atls_session_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.cert = c->cert;
    cfg.chain = c->chain;
    cfg.key = c->key;
    cfg.attester = c->attester;
    cfg.attester_state = c->attester_state;
    cfg.attester_lock = &c->attester_lock;
    cfg.peer_must_attest = 1;
    cfg.policy = c->o.policy;
    if (c->o.verify_input != NULL) {
        cfg.verify_input = *c->o.verify_input;
    }
    cfg.accept_warning = c->o.accept_warning;
    /* the session checks the EA leaf against the same trust store and name as the TLS
     * handshake (a DNS name or an IP literal), and that it carries the TLS key */
    cfg.trust = SSL_CTX_get_cert_store(c->ctx);
    cfg.hostname = c->name;
    cfg.timeout_ms = c->o.timeout_ms;
    cfg.answer_timeout_ms = c->o.answer_timeout_ms;
    cfg.on_appraisal = c->o.on_appraisal;
    cfg.on_appraisal_arg = appraisal_arg;
    if (atls_session_new(out->ssl, &cfg, &out->session) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_FAIL, "session");
        goto fail;
    }
    return 0;
fail:
    client_close(out);
    return rc;
}

void client_close(client_conn *conn)
{
    if (conn->session != NULL) {
        atls_session_close(conn->session);
        atls_session_free(conn->session);
    }
    SSL_free(conn->ssl);
    if (conn->fd >= 0) {
        close(conn->fd);
    }
    memset(conn, 0, sizeof(*conn));
    conn->fd = -1;
}
