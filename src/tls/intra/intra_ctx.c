/* intra_ctx.c: INSECURE baseline, SSL_CTX configuration, per-connection state, the message and
 * key-log callbacks that give the binders what OpenSSL does not expose, and the result
 * accessors (intra_insecure.h). */
#include "tls/intra/intra_internal.h"

#include "base/hex.h"
#include "base/mem.h"
#include "base/result.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the registry's enumeration (src/appraisal/registry/registry.c) */
const atls_verifier_ops *atls_verifier_at(size_t i);

static int ctx_index = -1, conn_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    intra_ctx *x = ptr;
    if (x != NULL) {
        free(x->hostname);
        free(x);
    }
}

static void conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                      void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    intra_conn *c = ptr;
    if (c == NULL) {
        return;
    }
    free(c->client_hello);
    free(c->evidence);
    atls_appraisal_cleanup(&c->appraisal);
    atls_wipe(c, sizeof(*c));
    free(c);
}

static void make_indices(void)
{
    ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, ctx_free);
    conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free);
}

intra_ctx *intra_ctx_get(const SSL *ssl)
{
    return ctx_index < 0 ? NULL : SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
}

intra_conn *intra_conn_get(const SSL *ssl)
{
    return ssl == NULL || conn_index < 0 ? NULL : SSL_get_ex_data(ssl, conn_index);
}

intra_conn *intra_conn_ensure(SSL *ssl)
{
    intra_conn *c = intra_conn_get(ssl);
    if (c == NULL && conn_index >= 0) {
        c = calloc(1, sizeof(*c));
        if (c != NULL && SSL_set_ex_data(ssl, conn_index, c) != 1) {
            free(c);
            c = NULL;
        }
    }
    return c;
}

atls_error intra_fail(intra_conn *c, atls_error code)
{
    if (c != NULL && c->error == ATLS_OK) {
        c->error = code;
        snprintf(c->reason, sizeof(c->reason), "%s", atls_error_message());
    }
    return code;
}

/* msg_cb: keep the first ClientHello exactly as it was sent (client) or received (server),
 * handshake header included: the early exporter hashes it (RFC 8446 section 7.1). OpenSSL
 * hands a received message to this callback before it processes the message, so the copy
 * exists when the extensions are parsed. */
static void on_message(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg)
{
    (void)version;
    const intra_ctx *x = arg;
    const uint8_t *p = buf;
    if (content_type != SSL3_RT_HANDSHAKE || len < 4 || p[0] != SSL3_MT_CLIENT_HELLO ||
        write_p == x->is_server) {
        return;
    }
    intra_conn *c = intra_conn_ensure(ssl);
    if (c == NULL || c->client_hello != NULL || len > INTRA_MAX_CLIENT_HELLO) {
        return; /* a later ClientHello (after HelloRetryRequest) is not the one of the early
                   secret; a missing copy fails the exp0 binders by name */
    }
    c->client_hello = atls_memdup(p, len);
    c->client_hello_len = c->client_hello != NULL ? len : 0;
}

/* keylog: SERVER_HANDSHAKE_TRAFFIC_SECRET is logged on both ends before the server's
 * Certificate is built (server) or parsed (client); the handshake binder substitute uses it. */
static void on_keylog(const SSL *ssl, const char *line)
{
    static const char tag[] = "SERVER_HANDSHAKE_TRAFFIC_SECRET ";
    intra_conn *c = intra_conn_get(ssl);
    if (c == NULL || strncmp(line, tag, sizeof(tag) - 1) != 0) {
        return;
    }
    const char *secret = strrchr(line, ' ');
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (secret != NULL && atls_hex_decode(secret + 1, &bytes, &n) == ATLS_OK &&
        n <= sizeof(c->shts)) {
        memcpy(c->shts, bytes, n);
        c->shts_len = n;
    }
    if (bytes != NULL) {
        atls_wipe(bytes, n);
        free(bytes);
    }
}

/* offered types when the configuration names none: every registered verifier the policy has
 * a section for (the client can appraise nothing else). */
static atls_error default_offer(intra_ctx *x)
{
    const atls_policy *policy = x->cfg.policy;
    ATLS_ENSURE(policy != NULL, ATLS_ERR_USAGE_CONFIG,
                "intra (INSECURE): name the evidence types to offer (no policy to take them "
                "from)");
    size_t n = 0;
    for (size_t i = 0; atls_verifier_at(i) != NULL; i++) {
        const atls_verifier_ops *v = atls_verifier_at(i);
        if (atls_policy_get0_section(policy, v->name) != NULL && n + 1 < sizeof(x->offered) /
                                                                             sizeof(x->offered[0])) {
            x->offered[n++] = v->media_type;
        }
    }
    ATLS_ENSURE(n > 0, ATLS_ERR_USAGE_CONFIG,
                "intra (INSECURE): the policy has no section for any known evidence type");
    x->offered[n] = NULL;
    return ATLS_OK;
}

static atls_error check_config(const atls_intra_insecure_config *cfg, int is_server,
                               intra_ctx *x)
{
    ATLS_ENSURE(atls_intra_insecure_mode_name(cfg->mode) != NULL, ATLS_ERR_USAGE_CONFIG,
                "intra (INSECURE): mode not set (ra-only or x509)");
    ATLS_ENSURE(atls_intra_insecure_binder_name(cfg->binder) != NULL, ATLS_ERR_USAGE_CONFIG,
                "intra (INSECURE): binder not set (1..7, hs or none)");
    if (x->cfg.ext_evidence_request == 0) {
        x->cfg.ext_evidence_request = ATLS_INTRA_INSECURE_EXT_EVIDENCE_REQUEST;
    }
    if (x->cfg.ext_attestation_evidence == 0) {
        x->cfg.ext_attestation_evidence = ATLS_INTRA_INSECURE_EXT_ATTESTATION_EVIDENCE;
    }
    ATLS_ENSURE(x->cfg.ext_evidence_request != x->cfg.ext_attestation_evidence,
                ATLS_ERR_USAGE_CONFIG, "intra (INSECURE): the two code points must differ");
    if (is_server) {
        if (cfg->evidence_cb != NULL) {
            ATLS_ENSURE(cfg->evidence_media_type != NULL, ATLS_ERR_USAGE_CONFIG,
                        "intra (INSECURE): evidence_cb needs evidence_media_type");
            x->server_media_type = cfg->evidence_media_type;
        } else {
            ATLS_ENSURE(cfg->attester != NULL, ATLS_ERR_USAGE_CONFIG,
                        "intra (INSECURE): the server needs an attester");
            x->server_media_type = cfg->attester->media_type;
        }
        return ATLS_OK;
    }
    if (cfg->offered_media_types != NULL) {
        size_t n = 0;
        for (; cfg->offered_media_types[n] != NULL; n++) {
            ATLS_ENSURE(n + 1 < sizeof(x->offered) / sizeof(x->offered[0]), ATLS_ERR_USAGE_CONFIG,
                        "intra (INSECURE): too many offered evidence types");
            x->offered[n] = cfg->offered_media_types[n];
        }
        ATLS_ENSURE(n > 0, ATLS_ERR_USAGE_CONFIG, "intra (INSECURE): no evidence type offered");
        x->offered[n] = NULL;
    } else {
        ATLS_GUARD(default_offer(x));
    }
    /* an offer that does not fit the 255-byte vector fails here, not in every handshake */
    uint8_t probe_nonce[ATLS_INTRA_INSECURE_NONCE_MAX] = {0}, *probe = NULL;
    size_t probe_len = 0;
    ATLS_GUARD(intra_request_encode(0, x->offered, probe_nonce,
                                    cfg->nonce != NULL ? ATLS_INTRA_INSECURE_NONCE_MIN
                                                       : ATLS_INTRA_INSECURE_NONCE_DEFAULT,
                                    &probe, &probe_len));
    free(probe);
    if (cfg->nonce != NULL) {
        ATLS_ENSURE(cfg->nonce_len >= ATLS_INTRA_INSECURE_NONCE_MIN &&
                        cfg->nonce_len <= ATLS_INTRA_INSECURE_NONCE_MAX,
                    ATLS_ERR_USAGE_CONFIG, "intra (INSECURE): the nonce must be 8..255 bytes");
        memcpy(x->nonce, cfg->nonce, cfg->nonce_len);
        x->cfg.nonce = x->nonce;
    }
    if (cfg->mode == ATLS_INTRA_INSECURE_X509) {
        ATLS_ENSURE(cfg->trust != NULL && cfg->hostname != NULL && cfg->hostname[0] != '\0',
                    ATLS_ERR_USAGE_CONFIG,
                    "intra (INSECURE): x509 mode needs the CA (trust) and the host name");
        x->hostname = strdup(cfg->hostname);
        ATLS_ENSURE(x->hostname != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        x->cfg.hostname = x->hostname;
    } else {
        ATLS_ENSURE(cfg->hostname == NULL, ATLS_ERR_USAGE_CONFIG,
                    "intra (INSECURE): ra-only mode checks no host name; do not give one");
    }
    return ATLS_OK;
}

static atls_error add_extensions(SSL_CTX *ctx, intra_ctx *x)
{
    const unsigned int req_ctx = SSL_EXT_TLS1_3_ONLY | SSL_EXT_CLIENT_HELLO |
                                 SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS;
    /* in the ClientHello too: OpenSSL sends a Certificate-entry extension only when the
     * ClientHello carried it (documented deviation from -08) */
    const unsigned int evd_ctx = SSL_EXT_TLS1_3_ONLY | SSL_EXT_CLIENT_HELLO |
                                 SSL_EXT_TLS1_3_CERTIFICATE;
    int ok;
    if (x->is_server) {
        ok = SSL_CTX_add_custom_ext(ctx, x->cfg.ext_evidence_request, req_ctx,
                                    intra_server_request_add, intra_free_ext, x,
                                    intra_server_request_parse, x) == 1 &&
             SSL_CTX_add_custom_ext(ctx, x->cfg.ext_attestation_evidence, evd_ctx,
                                    intra_server_evidence_add, intra_free_ext, x,
                                    intra_server_evidence_parse, x) == 1;
    } else {
        ok = SSL_CTX_add_custom_ext(ctx, x->cfg.ext_evidence_request, req_ctx,
                                    intra_client_request_add, intra_free_ext, x,
                                    intra_client_request_parse, x) == 1 &&
             SSL_CTX_add_custom_ext(ctx, x->cfg.ext_attestation_evidence, evd_ctx,
                                    intra_client_evidence_add, intra_free_ext, x,
                                    intra_client_evidence_parse, x) == 1;
    }
    ATLS_GUARD_OSSL(ok, ATLS_ERR_USAGE_CONFIG,
                    "intra (INSECURE): cannot register the custom extensions (code point in "
                    "use by OpenSSL or registered twice?)");
    return ATLS_OK;
}

atls_error atls_intra_insecure_ctx_configure(SSL_CTX *ctx, int is_server,
                                             const atls_intra_insecure_config *cfg)
{
    ATLS_ENSURE(ctx != NULL && cfg != NULL, ATLS_ERR_USAGE, "intra (INSECURE): no context");
    pthread_once(&index_once, make_indices);
    ATLS_ENSURE(ctx_index >= 0 && conn_index >= 0, ATLS_ERR_INTERNAL_ALLOC,
                "intra: no ex_data index");
    ATLS_ENSURE(SSL_CTX_get_ex_data(ctx, ctx_index) == NULL, ATLS_ERR_USAGE_STATE,
                "intra (INSECURE): this SSL_CTX is configured already");
    intra_ctx *x = calloc(1, sizeof(*x));
    ATLS_ENSURE(x != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    x->cfg = *cfg;
    x->cfg.verify_input.challenge = NULL;
    x->is_server = is_server ? 1 : 0;
    atls_error rc = check_config(cfg, x->is_server, x);
    if (rc != ATLS_OK || SSL_CTX_set_ex_data(ctx, ctx_index, x) != 1) {
        free(x->hostname);
        free(x);
        return rc != ATLS_OK ? rc : atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__,
                                                     "intra: cannot attach the configuration");
    }
    /* from here the SSL_CTX owns x */
    ATLS_GUARD_OSSL(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION), ATLS_ERR_CRYPTO,
                    "intra: cannot require TLS 1.3");
    ATLS_GUARD_OSSL(SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION), ATLS_ERR_CRYPTO,
                    "intra: cannot require TLS 1.3");
    /* no resumption: a resumed handshake has no Certificate, hence no Evidence */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    ATLS_GUARD_OSSL(SSL_CTX_set_max_early_data(ctx, 0), ATLS_ERR_CRYPTO,
                    "intra: cannot disable early data");
    if (x->is_server) {
        ATLS_GUARD_OSSL(SSL_CTX_set_num_tickets(ctx, 0), ATLS_ERR_CRYPTO,
                        "intra: cannot disable tickets");
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_cert_verify_callback(ctx, intra_client_verify, x);
        if (cfg->mode == ATLS_INTRA_INSECURE_X509) {
            ATLS_GUARD_OSSL(SSL_CTX_set1_verify_cert_store(ctx, cfg->trust), ATLS_ERR_CRYPTO,
                            "intra: cannot set the trust store");
            ATLS_GUARD_OSSL(X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx), x->hostname, 0),
                            ATLS_ERR_CRYPTO, "intra: cannot set the host name");
        }
    }
    SSL_CTX_set_msg_callback(ctx, on_message);
    SSL_CTX_set_msg_callback_arg(ctx, x);
    SSL_CTX_set_keylog_callback(ctx, on_keylog);
    return add_extensions(ctx, x);
}

/* ---- results ------------------------------------------------------------------------------ */

int atls_intra_insecure_peer_attested(const SSL *ssl)
{
    const intra_conn *c = intra_conn_get(ssl);
    return c != NULL && c->attested && SSL_is_init_finished(ssl) ? 1 : 0;
}

const atls_appraisal *atls_intra_insecure_get0_appraisal(const SSL *ssl)
{
    const intra_conn *c = intra_conn_get(ssl);
    return c != NULL && c->appraised ? &c->appraisal : NULL;
}

const uint8_t *atls_intra_insecure_get0_evidence(const SSL *ssl, size_t *len)
{
    const intra_conn *c = intra_conn_get(ssl);
    *len = c != NULL ? c->evidence_len : 0;
    return c != NULL ? c->evidence : NULL;
}

atls_error atls_intra_insecure_error(const SSL *ssl, const char **reason)
{
    const intra_conn *c = intra_conn_get(ssl);
    if (reason != NULL) {
        *reason = c != NULL ? c->reason : "";
    }
    return c != NULL ? c->error : ATLS_OK;
}

const atls_intra_insecure_binder_inputs *atls_intra_insecure_get0_inputs(const SSL *ssl)
{
    const intra_conn *c = intra_conn_get(ssl);
    return c != NULL && c->have_inputs ? &c->inputs : NULL;
}

void intra_free_ext(SSL *s, unsigned int ext_type, unsigned int context,
                    const unsigned char *out, void *arg)
{
    (void)s, (void)ext_type, (void)context, (void)arg;
    free((void *)out);
}
