/* session_ctx.c: SSL_CTX settings for attested connections (draft-fossati-seat-expat-04
 * section 7.2: no tickets, no 0-RTT, a client discards tickets) and ALPN "atls/1" selection. */
#include "tls/session/session_internal.h"

#include "base/result.h"

#include <string.h>

/* discard_ticket: OpenSSL hands the client every NewSessionTicket here (cache mode CLIENT,
 * no internal store). Returning 0 keeps it out of any cache; the SSL still holds the session,
 * so it is made useless too: issued at the epoch, the ticket is older than any lifetime and
 * OpenSSL never offers it (RFC 8446 section 4.6.1), and it allows no early data. */
static int discard_ticket(SSL *ssl, SSL_SESSION *sess)
{
    (void)ssl;
    (void)SSL_SESSION_set_time(sess, 0);
    (void)SSL_SESSION_set_max_early_data(sess, 0);
    return 0;
}

atls_error atls_ssl_ctx_configure(SSL_CTX *ctx, int is_server, int offer_alpn)
{
    ATLS_ENSURE(ctx != NULL, ATLS_ERR_USAGE, "no SSL_CTX");
    ATLS_GUARD_OSSL(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION), ATLS_ERR_CRYPTO,
                    "cannot require TLS 1.3");
    ATLS_GUARD_OSSL(SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION), ATLS_ERR_CRYPTO,
                    "cannot require TLS 1.3");
    /* no resumption: a resumed session would carry no fresh certificate and the exporter of
     * an attested session must not be reachable from another connection */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    ATLS_GUARD_OSSL(SSL_CTX_set_max_early_data(ctx, 0), ATLS_ERR_CRYPTO,
                    "cannot disable early data");
    if (is_server) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        ATLS_GUARD_OSSL(SSL_CTX_set_num_tickets(ctx, 0), ATLS_ERR_CRYPTO,
                        "cannot disable session tickets");
        /* atls/1, chained to the application's own callback (session_alpn.c) */
        atls_session_alpn_install_server(ctx);
        /* spontaneous authenticators respect the ClientHello's signature_algorithms_cert */
        ATLS_GUARD(atls_ea_ssl_ctx_track_client_hello(ctx));
        return ATLS_OK;
    }
    /* a client discards any ticket a misconfigured server sends (expat-04 section 7.2) */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, discard_ticket);
    if (offer_alpn) {
        /* atls/1, followed by the application's own protocols (session_alpn.c) */
        ATLS_GUARD(atls_session_alpn_install_client(ctx));
    }
    return ATLS_OK;
}

int atls_alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                        const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    unsigned char *sel = NULL;
    unsigned char sel_len = 0;
    if (SSL_select_next_proto(&sel, &sel_len, (const unsigned char *)ATLS_ALPN_WIRE,
                              ATLS_ALPN_WIRE_LEN, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        *outlen = sel_len;
        return SSL_TLSEXT_ERR_OK;
    }
    /* the client speaks something else (h2, http/1.1): go on without ALPN, plain TLS */
    return SSL_TLSEXT_ERR_NOACK;
}

int atls_ssl_is_atls(SSL *ssl)
{
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(ssl, &p, &n);
    return n == strlen(ATLS_ALPN) && memcmp(p, ATLS_ALPN, n) == 0;
}
