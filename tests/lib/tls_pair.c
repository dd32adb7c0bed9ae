/* tls_pair.c: in-process TLS connection over a socketpair (tls_pair.h). */
#include "tls_pair.h"

#include "base/result.h"
#include "testcert.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define PAIR_MAX_ROUNDS 100000


static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    const tls_pair_options *o = arg;
    (void)ssl;
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, o->alpn, (unsigned int)o->alpn_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

void tls_pair_free(tls_pair *p)
{
    if (p == NULL) {
        return;
    }
    SSL_free(p->client);
    SSL_free(p->server);
    SSL_CTX_free(p->client_ctx);
    SSL_CTX_free(p->server_ctx);
    if (p->client_fd >= 0) {
        close(p->client_fd);
    }
    if (p->server_fd >= 0) {
        close(p->server_fd);
    }
    free(p);
}

static atls_error setup_ctx(SSL_CTX *ctx, const tls_pair_options *o)
{
    int maxv = o->max_version ? o->max_version : TLS1_3_VERSION;
    ATLS_GUARD_OSSL(SSL_CTX_set_max_proto_version(ctx, maxv), ATLS_ERR_CRYPTO,
                    "tls_pair: max version");
    if (maxv < TLS1_3_VERSION) {
        ATLS_GUARD_OSSL(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION), ATLS_ERR_CRYPTO,
                        "tls_pair: min version");
    } else {
        ATLS_GUARD_OSSL(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION), ATLS_ERR_CRYPTO,
                        "tls_pair: min version");
    }
    if (o->ciphersuites != NULL) {
        ATLS_GUARD_OSSL(SSL_CTX_set_ciphersuites(ctx, o->ciphersuites), ATLS_ERR_CRYPTO,
                        "tls_pair: ciphersuites %s", o->ciphersuites);
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ATLS_OK;
}

/* default_server: one generated CA + leaf per process, shared by every pair without a cert. */
static testcert *default_ca, *default_leaf;

static atls_error default_server(X509 **cert, EVP_PKEY **key)
{
    if (default_leaf == NULL) {
        ATLS_GUARD(testcert_ca_new("tls_pair CA", &default_ca));
        ATLS_GUARD(testcert_leaf_new(default_ca, TESTCERT_P256, "server.test", &default_leaf));
    }
    *cert = default_leaf->cert;
    *key = default_leaf->key;
    return ATLS_OK;
}

static atls_error handshake(tls_pair *p)
{
    int cdone = 0, sdone = 0;
    for (int round = 0; round < PAIR_MAX_ROUNDS && !(cdone && sdone); round++) {
        SSL *ends[2] = {p->client, p->server};
        int *done[2] = {&cdone, &sdone};
        for (int i = 0; i < 2; i++) {
            if (*done[i]) {
                continue;
            }
            int r = SSL_do_handshake(ends[i]);
            if (r == 1) {
                *done[i] = 1;
                continue;
            }
            int e = SSL_get_error(ends[i], r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                return atls_error_raise_ossl(ATLS_ERR_IO, __FILE__, __LINE__,
                                             "tls_pair: %s handshake failed (%d)",
                                             i == 0 ? "client" : "server", e);
            }
        }
    }
    ATLS_ENSURE(cdone && sdone, ATLS_ERR_IO_TIMEOUT, "tls_pair: handshake did not finish");
    return ATLS_OK;
}

atls_error tls_pair_new(const tls_pair_options *opts, tls_pair **out)
{
    static const tls_pair_options none;
    int fds[2];
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    atls_error rc = ATLS_OK;
    if (opts == NULL) {
        opts = &none;
    }
    tls_pair *p = calloc(1, sizeof(*p));
    ATLS_ENSURE(p != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    p->client_fd = p->server_fd = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        free(p);
        ATLS_RAISE(ATLS_ERR_IO, "tls_pair: socketpair failed");
    }
    p->client_fd = fds[0];
    p->server_fd = fds[1];
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) != 0) {
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_IO, "tls_pair: fcntl failed");
        }
    }
    p->client_ctx = SSL_CTX_new(TLS_client_method());
    if (opts->server_ctx != NULL && SSL_CTX_up_ref(opts->server_ctx) == 1) {
        p->server_ctx = opts->server_ctx;
    } else {
        p->server_ctx = SSL_CTX_new(TLS_server_method());
    }
    if (p->client_ctx == NULL || p->server_ctx == NULL) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_CRYPTO, "tls_pair: SSL_CTX_new failed");
    }
    ATLS_GUARD_GOTO(rc, fail, setup_ctx(p->client_ctx, opts));
    ATLS_GUARD_GOTO(rc, fail, setup_ctx(p->server_ctx, opts));
    if (opts->num_tickets > 0 || opts->resume != NULL) {
        SSL_CTX_set_session_cache_mode(p->client_ctx, SSL_SESS_CACHE_CLIENT);
    }
    SSL_CTX_set_verify(p->client_ctx, SSL_VERIFY_NONE, NULL);
    if (opts->client_trust != NULL) {
        SSL_CTX_set1_cert_store(p->client_ctx, opts->client_trust);
    }
    if (opts->server_trust != NULL) {
        SSL_CTX_set1_cert_store(p->server_ctx, opts->server_trust);
        SSL_CTX_set_verify(p->server_ctx, SSL_VERIFY_PEER, NULL);
    }
    if (opts->client_sigalgs != NULL &&
        SSL_CTX_set1_sigalgs_list(p->client_ctx, opts->client_sigalgs) != 1) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_CRYPTO, "tls_pair: sigalgs %s", opts->client_sigalgs);
    }
    if (opts->client_ctx_setup != NULL) {
        opts->client_ctx_setup(p->client_ctx);
    }
    if (opts->client_cert != NULL &&
        (SSL_CTX_use_certificate(p->client_ctx, opts->client_cert) != 1 ||
         SSL_CTX_use_PrivateKey(p->client_ctx, opts->client_key) != 1)) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_CRYPTO, "tls_pair: client certificate");
    }
    if (opts->keylog != NULL) {
        SSL_CTX_set_keylog_callback(p->client_ctx, opts->keylog);
    }
    SSL_CTX_set_num_tickets(p->server_ctx, (size_t)(opts->num_tickets > 0 ? opts->num_tickets : 0));
    if (opts->server_cert != NULL) {
        cert = opts->server_cert;
        key = opts->server_key;
    } else {
        ATLS_GUARD_GOTO(rc, fail, default_server(&cert, &key));
    }
    ATLS_GUARD_OSSL_GOTO(rc, fail, SSL_CTX_use_certificate(p->server_ctx, cert), ATLS_ERR_CRYPTO,
                         "tls_pair: server certificate");
    ATLS_GUARD_OSSL_GOTO(rc, fail, SSL_CTX_use_PrivateKey(p->server_ctx, key), ATLS_ERR_CRYPTO,
                         "tls_pair: server key");
    if (opts->server_chain != NULL) {
        ATLS_GUARD_OSSL_GOTO(rc, fail, SSL_CTX_set1_chain(p->server_ctx, opts->server_chain) ? 1 : 0,
                             ATLS_ERR_CRYPTO, "tls_pair: server chain");
    }
    if (opts->alpn != NULL) {
        /* note: SSL_CTX_set_alpn_protos returns 0 on success */
        if (SSL_CTX_set_alpn_protos(p->client_ctx, opts->alpn, (unsigned int)opts->alpn_len) != 0) {
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_USAGE, "tls_pair: bad ALPN list");
        }
        SSL_CTX_set_alpn_select_cb(p->server_ctx, alpn_select, (void *)opts);
    }
    p->client = SSL_new(p->client_ctx);
    p->server = SSL_new(p->server_ctx);
    if (p->client == NULL || p->server == NULL || SSL_set_fd(p->client, p->client_fd) != 1 ||
        SSL_set_fd(p->server, p->server_fd) != 1) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_CRYPTO, "tls_pair: SSL_new failed");
    }
    if (opts->resume != NULL && SSL_set_session(p->client, opts->resume) != 1) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_CRYPTO, "tls_pair: cannot offer the session");
    }
    SSL_set_connect_state(p->client);
    SSL_set_accept_state(p->server);
    ATLS_GUARD_GOTO(rc, fail, handshake(p));
    if (opts->alpn != NULL) {
        /* the callback's |opts| is only valid during the handshake */
        SSL_CTX_set_alpn_select_cb(p->server_ctx, NULL, NULL);
    }
    *out = p;
    return ATLS_OK;
fail:
    ERR_clear_error();
    tls_pair_free(p);
    return rc;
}

atls_error tls_pair_transfer(tls_pair *p, int from_client, const uint8_t *data, size_t len,
                             uint8_t *out)
{
    SSL *from = from_client ? p->client : p->server;
    SSL *to = from_client ? p->server : p->client;
    size_t sent = 0, got = 0;
    for (int round = 0; round < PAIR_MAX_ROUNDS && got < len; round++) {
        size_t n = 0;
        if (sent < len) {
            if (SSL_write_ex(from, data + sent, len - sent, &n) == 1) {
                sent += n;
            } else {
                int e = SSL_get_error(from, 0);
                ATLS_ENSURE(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE, ATLS_ERR_IO,
                            "tls_pair: SSL_write failed (%d)", e);
            }
        }
        if (SSL_read_ex(to, out + got, len - got, &n) == 1) {
            got += n;
        } else {
            int e = SSL_get_error(to, 0);
            ATLS_ENSURE(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE, ATLS_ERR_IO,
                        "tls_pair: SSL_read failed (%d)", e);
        }
    }
    ATLS_ENSURE(got == len, ATLS_ERR_IO_TIMEOUT, "tls_pair: transfer did not complete");
    return ATLS_OK;
}
