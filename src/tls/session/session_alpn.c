/* session_alpn.c: ALPN "atls/1" next to the application's own protocols (atls/session.h).
 *
 * OpenSSL keeps one ALPN select callback and one client protocol list per SSL_CTX and offers
 * no getter for either, so an application that has its own (h2, http/1.1) hands them to atls
 * instead of to OpenSSL: atls keeps them in the SSL_CTX's ex_data and installs a callback and
 * a list that contain both. Whichever of atls_ssl_ctx_configure and these calls comes first,
 * the result is the same. */
#include "tls/session/session_internal.h"

#include "base/result.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* What the application gave us for one SSL_CTX (its ex_data; freed with the SSL_CTX). */
typedef struct alpn_chain {
    SSL_CTX_alpn_select_cb_func select_cb; /* the application's server callback, or NULL */
    void *select_arg;
    unsigned char *protos; /* client: atls/1 followed by the application's list (wire form) */
    unsigned int protos_len;
} alpn_chain;

static int chain_index = -1;
static pthread_once_t chain_once = PTHREAD_ONCE_INIT;

static void free_chain(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                       void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    alpn_chain *c = ptr;
    if (c != NULL) {
        free(c->protos);
        free(c);
    }
}

static void make_index(void)
{
    chain_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_chain);
}

/* chain_of: |ctx|'s chain, created when |create| (NULL: none yet, or out of memory). */
static alpn_chain *chain_of(SSL_CTX *ctx, int create)
{
    pthread_once(&chain_once, make_index);
    if (chain_index < 0) {
        return NULL;
    }
    alpn_chain *c = SSL_CTX_get_ex_data(ctx, chain_index);
    if (c == NULL && create) {
        c = calloc(1, sizeof(*c));
        if (c != NULL && SSL_CTX_set_ex_data(ctx, chain_index, c) != 1) {
            free(c);
            c = NULL;
        }
    }
    return c;
}

/* select_chained: "atls/1" when the client offers it (the client asks to attest its server:
 * an attested server says yes), otherwise whatever the application's callback says about the
 * client's list, exactly as if it were the only callback (with its own arg); without one, no
 * protocol (the connection goes on as plain TLS). */
static int select_chained(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    const alpn_chain *c = arg;
    int rc = atls_alpn_select_cb(ssl, out, outlen, in, inlen, NULL);
    if (rc == SSL_TLSEXT_ERR_OK || c == NULL || c->select_cb == NULL) {
        return rc;
    }
    return c->select_cb(ssl, out, outlen, in, inlen, c->select_arg);
}

void atls_session_alpn_install_server(SSL_CTX *ctx)
{
    alpn_chain *c = chain_of(ctx, 0);
    if (c != NULL && c->select_cb != NULL) {
        SSL_CTX_set_alpn_select_cb(ctx, select_chained, c);
    } else {
        SSL_CTX_set_alpn_select_cb(ctx, atls_alpn_select_cb, NULL);
    }
}

atls_error atls_session_alpn_install_client(SSL_CTX *ctx)
{
    const alpn_chain *c = chain_of(ctx, 0);
    const unsigned char *protos = (const unsigned char *)ATLS_ALPN_WIRE;
    unsigned int len = ATLS_ALPN_WIRE_LEN;
    if (c != NULL && c->protos != NULL) {
        protos = c->protos;
        len = c->protos_len;
    }
    /* SSL_CTX_set_alpn_protos returns 0 on success */
    ATLS_ENSURE(SSL_CTX_set_alpn_protos(ctx, protos, len) == 0, ATLS_ERR_CRYPTO,
                "cannot offer ALPN atls/1");
    return ATLS_OK;
}

atls_error atls_ssl_ctx_set_alpn_select_cb(SSL_CTX *ctx, SSL_CTX_alpn_select_cb_func cb,
                                           void *arg)
{
    ATLS_ENSURE(ctx != NULL, ATLS_ERR_USAGE, "no SSL_CTX");
    alpn_chain *c = chain_of(ctx, 1);
    ATLS_ENSURE(c != NULL, ATLS_ERR_INTERNAL_ALLOC, "ALPN: out of memory");
    c->select_cb = cb;
    c->select_arg = arg;
    atls_session_alpn_install_server(ctx);
    return ATLS_OK;
}

/* compose: "atls/1" then |protos| (RFC 7301 section 3.1 wire form: non-empty u8-length
 * strings) without any atls/1 of its own, in a new buffer. */
static atls_error compose(const unsigned char *protos, unsigned int len, unsigned char **out,
                          unsigned int *out_len)
{
    ATLS_ENSURE(protos != NULL || len == 0, ATLS_ERR_USAGE, "ALPN: NULL protocol list");
    /* the list travels in a u16-length extension */
    ATLS_ENSURE(len <= 0xffffu - ATLS_ALPN_WIRE_LEN, ATLS_ERR_USAGE,
                "ALPN: protocol list of %u bytes is too long", len);
    unsigned char *buf = malloc(ATLS_ALPN_WIRE_LEN + (size_t)len);
    ATLS_ENSURE(buf != NULL, ATLS_ERR_INTERNAL_ALLOC, "ALPN: out of memory");
    memcpy(buf, ATLS_ALPN_WIRE, ATLS_ALPN_WIRE_LEN);
    size_t n = ATLS_ALPN_WIRE_LEN;
    for (unsigned int i = 0; i < len;) {
        unsigned int l = protos[i];
        if (l == 0 || l > len - i - 1) {
            free(buf);
            ATLS_RAISE(ATLS_ERR_USAGE,
                       "ALPN: malformed protocol list (an entry at byte %u is %s)", i,
                       l == 0 ? "empty" : "longer than the list");
        }
        if (!(l + 1 == ATLS_ALPN_WIRE_LEN && memcmp(protos + i, ATLS_ALPN_WIRE, l + 1) == 0)) {
            memcpy(buf + n, protos + i, l + 1);
            n += l + 1;
        }
        i += l + 1;
    }
    *out = buf;
    *out_len = (unsigned int)n;
    return ATLS_OK;
}

atls_error atls_ssl_ctx_set_alpn_protos(SSL_CTX *ctx, const unsigned char *protos,
                                        unsigned int len)
{
    ATLS_ENSURE(ctx != NULL, ATLS_ERR_USAGE, "no SSL_CTX");
    unsigned char *list = NULL;
    unsigned int list_len = 0;
    ATLS_GUARD(compose(protos, len, &list, &list_len));
    alpn_chain *c = chain_of(ctx, 1);
    if (c == NULL) {
        free(list);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "ALPN: out of memory");
    }
    free(c->protos);
    c->protos = list;
    c->protos_len = list_len;
    return atls_session_alpn_install_client(ctx);
}

atls_error atls_ssl_set_alpn_protos(SSL *ssl, const unsigned char *protos, unsigned int len)
{
    ATLS_ENSURE(ssl != NULL, ATLS_ERR_USAGE, "no SSL");
    unsigned char *list = NULL;
    unsigned int list_len = 0;
    ATLS_GUARD(compose(protos, len, &list, &list_len));
    int r = SSL_set_alpn_protos(ssl, list, list_len); /* copies; 0 on success */
    free(list);
    ATLS_ENSURE(r == 0, ATLS_ERR_CRYPTO, "cannot offer ALPN atls/1");
    return ATLS_OK;
}
