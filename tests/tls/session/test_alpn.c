/*
 * test_alpn: ALPN "atls/1" composes with the application's own protocols (atls/session.h),
 * over real OpenSSL TLS 1.3 handshakes.
 *
 * Server (atls_ssl_ctx_set_alpn_select_cb): an application callback that prefers h2 over
 * http/1.1 and refuses anything else is kept: a client offering atls/1 gets atls/1 (and the
 * callback is not asked), a client offering h2 / http/1.1 gets what the callback chose, with the
 * callback's own arg, a client offering something else is refused by the callback's fatal
 * alert, a client without ALPN connects; the same whichever of atls_ssl_ctx_configure and the
 * helper comes first; without an application callback, a plain client gets no ALPN.
 * Client (atls_ssl_ctx_set_alpn_protos / atls_ssl_set_alpn_protos): the offered list is atls/1
 * then the application's (seen on the wire by the server's callback), an atls/1 of the
 * application's is not repeated, a server that does not speak atls/1 selects h2 from it,
 * atls_ssl_ctx_configure after the helper keeps the list, and malformed lists are refused.
 */
#include "check.h"
#include "tls_pair.h"

#include <atls/frame.h>
#include <atls/session.h>

#include <string.h>

/* ---- the application's server callback ---------------------------------------------------- */

typedef struct app_alpn {
    int calls;
    int arg_ok;
} app_alpn;

static const unsigned char app_protos[] = "\x02h2\x08http/1.1";

static int app_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                      const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    app_alpn *st = arg;
    st->calls++;
    st->arg_ok = 1;
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, app_protos, sizeof(app_protos) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL; /* the application's own decision */
    }
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* ---- a plain server that records what the client offered -------------------------------- */

static unsigned char offered[512];
static unsigned int offered_len;

static int record_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                         const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl, (void)arg;
    offered_len = inlen < sizeof(offered) ? inlen : 0;
    memcpy(offered, in, offered_len);
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, app_protos, sizeof(app_protos) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* ---- client set-ups (tls_pair's hook takes no argument) ---------------------------------- */

static const unsigned char *client_list;
static unsigned int client_list_len;
static int client_use_helper; /* 1: atls_ssl_ctx_set_alpn_protos, 0: plain OpenSSL */
static int client_configure_after;

static void client_setup(SSL_CTX *ctx)
{
    if (client_use_helper) {
        CHECK_OK(atls_ssl_ctx_set_alpn_protos(ctx, client_list, client_list_len));
        if (client_configure_after) {
            CHECK_OK(atls_ssl_ctx_configure(ctx, 0, 1));
        }
    } else if (client_list != NULL) {
        CHECK(SSL_CTX_set_alpn_protos(ctx, client_list, client_list_len) == 0);
    }
}

/* connect: a handshake to |server_ctx| (borrowed); *selected gets the selected protocol. */
static atls_error connect_to(SSL_CTX *server_ctx, char *selected, size_t cap, int *is_atls)
{
    tls_pair_options o;
    memset(&o, 0, sizeof(o));
    o.server_ctx = server_ctx;
    o.client_ctx_setup = client_setup;
    tls_pair *p = NULL;
    selected[0] = '\0';
    *is_atls = 0;
    atls_error rc = tls_pair_new(&o, &p);
    if (rc == ATLS_OK) {
        const unsigned char *sel = NULL;
        unsigned int n = 0;
        SSL_get0_alpn_selected(p->client, &sel, &n);
        if (n > 0 && n < cap) {
            memcpy(selected, sel, n);
            selected[n] = '\0';
        }
        *is_atls = atls_ssl_is_atls(p->client) && atls_ssl_is_atls(p->server);
    }
    tls_pair_free(p);
    return rc;
}

static void offer(const char *list, int helper)
{
    client_list = (const unsigned char *)list;
    client_list_len = list != NULL ? (unsigned int)strlen(list) : 0;
    client_use_helper = helper;
    client_configure_after = 0;
}

static void server_cases(SSL_CTX *server, app_alpn *st, const char *what)
{
    char sel[64];
    int is_atls = 0;
    printf("server: %s\n", what);

    offer("\x02h2\x06" "atls/1", 0);
    st->calls = 0;
    CHECK_OK(connect_to(server, sel, sizeof(sel), &is_atls));
    CHECK(strcmp(sel, ATLS_ALPN) == 0 && is_atls);
    CHECK(st->calls == 0); /* atls/1 offered: the application is not asked */

    offer("\x08http/1.1\x02h2", 0);
    st->calls = 0;
    st->arg_ok = 0;
    CHECK_OK(connect_to(server, sel, sizeof(sel), &is_atls));
    CHECK(strcmp(sel, "h2") == 0 && !is_atls); /* the application's preference, not atls */
    CHECK(st->calls == 1 && st->arg_ok);

    offer("\x08http/1.1", 0);
    CHECK_OK(connect_to(server, sel, sizeof(sel), &is_atls));
    CHECK(strcmp(sel, "http/1.1") == 0 && !is_atls);

    offer("\x06spdy/1", 0);
    st->calls = 0;
    CHECK(connect_to(server, sel, sizeof(sel), &is_atls) != ATLS_OK); /* its fatal alert */
    CHECK(st->calls == 1);

    offer(NULL, 0);
    st->calls = 0;
    CHECK_OK(connect_to(server, sel, sizeof(sel), &is_atls));
    CHECK(sel[0] == '\0' && !is_atls && st->calls == 0);

    /* an attested client through the client helper */
    offer("\x02h2", 1);
    CHECK_OK(connect_to(server, sel, sizeof(sel), &is_atls));
    CHECK(strcmp(sel, ATLS_ALPN) == 0 && is_atls);
}

static SSL_CTX *server_ctx_new(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    CHECK(ctx != NULL);
    return ctx;
}

static void test_server(void)
{
    app_alpn st = {0};
    /* the application's callback first, then atls_ssl_ctx_configure */
    SSL_CTX *a = server_ctx_new();
    CHECK_OK(atls_ssl_ctx_set_alpn_select_cb(a, app_select, &st));
    CHECK_OK(atls_ssl_ctx_configure(a, 1, 0));
    server_cases(a, &st, "callback, then configure");
    SSL_CTX_free(a);

    /* configure first, then the callback */
    SSL_CTX *b = server_ctx_new();
    CHECK_OK(atls_ssl_ctx_configure(b, 1, 0));
    CHECK_OK(atls_ssl_ctx_set_alpn_select_cb(b, app_select, &st));
    server_cases(b, &st, "configure, then callback");

    /* removing the callback again: plain clients get no ALPN, attested ones atls/1 */
    CHECK_OK(atls_ssl_ctx_set_alpn_select_cb(b, NULL, NULL));
    char sel[64];
    int is_atls = 0;
    offer("\x02h2", 0);
    st.calls = 0;
    CHECK_OK(connect_to(b, sel, sizeof(sel), &is_atls));
    CHECK(sel[0] == '\0' && !is_atls && st.calls == 0);
    offer("\x06" "atls/1", 0);
    CHECK_OK(connect_to(b, sel, sizeof(sel), &is_atls));
    CHECK(strcmp(sel, ATLS_ALPN) == 0 && is_atls);
    SSL_CTX_free(b);

    /* configure alone, as before: atls/1 or nothing */
    SSL_CTX *c = server_ctx_new();
    CHECK_OK(atls_ssl_ctx_configure(c, 1, 0));
    offer("\x02h2", 0);
    CHECK_OK(connect_to(c, sel, sizeof(sel), &is_atls));
    CHECK(sel[0] == '\0' && !is_atls);
    SSL_CTX_free(c);
}

static void test_client(void)
{
    SSL_CTX *plain = server_ctx_new();
    SSL_CTX_set_alpn_select_cb(plain, record_select, NULL);
    char sel[64];
    int is_atls = 0;

    /* atls/1 first, then the application's list, on the wire */
    offer("\x02h2\x08http/1.1", 1);
    CHECK_OK(connect_to(plain, sel, sizeof(sel), &is_atls));
    static const unsigned char want[] = "\x06" "atls/1\x02h2\x08http/1.1";
    CHECK(offered_len == sizeof(want) - 1 && memcmp(offered, want, offered_len) == 0);
    /* a server that does not speak atls/1 picks the application's protocol */
    CHECK(strcmp(sel, "h2") == 0 && !is_atls);

    /* an atls/1 of the application's own is not repeated */
    offer("\x02h2\x06" "atls/1", 1);
    CHECK_OK(connect_to(plain, sel, sizeof(sel), &is_atls));
    static const unsigned char want2[] = "\x06" "atls/1\x02h2";
    CHECK(offered_len == sizeof(want2) - 1 && memcmp(offered, want2, offered_len) == 0);

    /* atls_ssl_ctx_configure after the helper keeps the list */
    offer("\x08http/1.1", 1);
    client_configure_after = 1;
    CHECK_OK(connect_to(plain, sel, sizeof(sel), &is_atls));
    static const unsigned char want3[] = "\x06" "atls/1\x08http/1.1";
    CHECK(offered_len == sizeof(want3) - 1 && memcmp(offered, want3, offered_len) == 0);
    CHECK(strcmp(sel, "http/1.1") == 0);

    /* no list of the application's: atls/1 alone */
    offer(NULL, 1);
    CHECK_OK(connect_to(plain, sel, sizeof(sel), &is_atls));
    CHECK(offered_len == ATLS_ALPN_WIRE_LEN && memcmp(offered, ATLS_ALPN_WIRE, offered_len) == 0);
    CHECK(sel[0] == '\0');
    SSL_CTX_free(plain);

    /* malformed lists are refused, and nothing is offered on their account */
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(ctx);
    static const struct {
        const char *list;
        unsigned int len;
    } bad[] = {{"\x00", 1}, {"\x03h2", 3}, {"\x02h2\x05http", 8}, {NULL, 3}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_ERR(atls_ssl_ctx_set_alpn_protos(ctx, (const unsigned char *)bad[i].list,
                                               bad[i].len),
                  ATLS_ERR_USAGE);
        CHECK_ERR(atls_ssl_set_alpn_protos(ssl, (const unsigned char *)bad[i].list, bad[i].len),
                  ATLS_ERR_USAGE);
    }
    static unsigned char huge[70000];
    memset(huge, 1, sizeof(huge));
    CHECK_ERR(atls_ssl_ctx_set_alpn_protos(ctx, huge, (unsigned int)sizeof(huge)), ATLS_ERR_USAGE);
    CHECK_OK(atls_ssl_set_alpn_protos(ssl, app_protos, sizeof(app_protos) - 1));
    CHECK_ERR(atls_ssl_ctx_set_alpn_select_cb(NULL, app_select, NULL), ATLS_ERR_USAGE);
    CHECK_ERR(atls_ssl_ctx_set_alpn_protos(NULL, NULL, 0), ATLS_ERR_USAGE);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

int main(void)
{
    test_server();
    test_client();
    return check_summary();
}
