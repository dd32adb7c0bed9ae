/* validate.c: checking a received authenticator (RFC 9261 sections 5.2, 6 and 7.2.4; the
 * order of checks is the checklist of protocol-notes 1.6, with the chain last so that a
 * relayed or reflected authenticator is reported as a signature/MAC failure). */
#include "tls/ea/ea_internal.h"

#include "base/result.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>

/* check_receiving_role: a type 17 request was sent by the client, so the client validates the
 * answer; type 13 the server; a spontaneous authenticator comes from the server only. */
static atls_error check_receiving_role(SSL *ssl, const atls_ea_request *request)
{
    int server = SSL_is_server(ssl);
    if (request == NULL) {
        ATLS_ENSURE(!server, ATLS_ERR_USAGE_STATE,
                    "EA: a server only validates authenticators it requested");
        return ATLS_OK;
    }
    ATLS_ENSURE(server ? request->type == ATLS_EA_CERTIFICATE_REQUEST
                       : request->type == ATLS_EA_CLIENT_CERTIFICATE_REQUEST,
                ATLS_ERR_USAGE_STATE, "EA: a %s did not send a request of type %d",
                server ? "server" : "client", request->type);
    return ATLS_OK;
}

static bool in_list(uint16_t v, const uint16_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] == v) {
            return true;
        }
    }
    return false;
}

/* check_entry_extensions: RFC 9261 section 5.2.1, each extension was offered in the request;
 * atls's first-entry-only rule for the types the caller lists. */
static atls_error check_entry_extensions(const atls_ea_certificate *cert,
                                         const atls_ea_request *request,
                                         const atls_ea_validate_options *opts)
{
    for (size_t i = 0; i < cert->num_entries; i++) {
        atls_cursor exts = cert->entries[i].exts;
        while (!atls_cursor_is_empty(&exts)) {
            uint16_t type;
            atls_cursor data;
            /* already checked well formed by the parser */
            ATLS_ENSURE(atls_cursor_get_u16(&exts, &type) &&
                            atls_cursor_get_u16_prefixed(&exts, &data),
                        ATLS_ERR_INTERNAL, "EA CertificateEntry: extensions changed");
            ATLS_ENSURE(request != NULL, ATLS_ERR_PROTOCOL_EXTENSION,
                        "EA CertificateEntry %zu: extension %u in a spontaneous authenticator",
                        i, (unsigned)type);
            ATLS_ENSURE(atls_ea_request_has_extension(request, type), ATLS_ERR_PROTOCOL_EXTENSION,
                        "EA CertificateEntry %zu: extension %u was not offered in the request", i,
                        (unsigned)type);
            ATLS_ENSURE(i == 0 || !in_list(type, opts->first_entry_only, opts->num_first_entry_only),
                        ATLS_ERR_PROTOCOL_EXTENSION,
                        "EA CertificateEntry %zu: extension %u is allowed only in the first entry",
                        i, (unsigned)type);
        }
    }
    return ATLS_OK;
}

/* check_chain: the caller's X.509 policy (RFC 9261 section 5.2.4: validation is the
 * application's, as in TLS). */
static int is_ip_literal(const char *host)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
    ASN1_OCTET_STRING_free(ip);
    ERR_clear_error();
    return ip != NULL;
}

static const char *purpose_name(int purpose)
{
    return purpose == X509_PURPOSE_SSL_SERVER ? "TLS server authentication (serverAuth)"
                                              : "TLS client authentication (clientAuth)";
}

static atls_error check_chain(const atls_ea_certificate *cert, const atls_ea_validate_options *o)
{
    X509 *leaf = cert->entries[0].cert;
    /* the leaf's role first, whatever decides about trust (X509_check_purpose: extended key
     * usage, key usage and Netscape cert type for that role) */
    if (o->leaf_purpose != 0 && X509_check_purpose(leaf, o->leaf_purpose, 0) != 1) {
        ERR_clear_error();
        ATLS_RAISE(ATLS_ERR_CRYPTO_KEY_USAGE, "EA leaf: its key usage does not allow %s",
                   purpose_name(o->leaf_purpose));
    }
    int ip = o->hostname != NULL && is_ip_literal(o->hostname);
    STACK_OF(X509) *chain = sk_X509_new_null();
    atls_error rc = ATLS_OK;
    X509_STORE_CTX *sctx = NULL;
    ATLS_ENSURE(chain != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    for (size_t i = 1; i < cert->num_entries; i++) {
        if (sk_X509_push(chain, cert->entries[i].cert) <= 0) { /* borrowed */
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        }
    }
    if (o->trust != NULL) {
        sctx = X509_STORE_CTX_new();
        if (sctx == NULL || X509_STORE_CTX_init(sctx, o->trust, leaf, chain) != 1) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO, "EA chain: X509_STORE_CTX setup failed");
        }
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(sctx);
        if (o->hostname != NULL &&
            (ip ? X509_VERIFY_PARAM_set1_ip_asc(param, o->hostname)
                : X509_VERIFY_PARAM_set1_host(param, o->hostname, 0)) != 1) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_USAGE, "EA chain: bad hostname");
        }
        if (o->leaf_purpose != 0 && X509_VERIFY_PARAM_set_purpose(param, o->leaf_purpose) != 1) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_USAGE, "EA chain: bad purpose");
        }
        if (o->at != 0) {
            X509_VERIFY_PARAM_set_time(param, o->at);
        }
        if (X509_verify_cert(sctx) != 1) {
            int err = X509_STORE_CTX_get_error(sctx);
            ERR_clear_error();
            ATLS_FAIL_GOTO(rc, done,
                           err == X509_V_ERR_INVALID_PURPOSE ? ATLS_ERR_CRYPTO_KEY_USAGE
                                                             : ATLS_ERR_CRYPTO_CHAIN,
                           "EA chain: %s (depth %d)", X509_verify_cert_error_string(err),
                           X509_STORE_CTX_get_error_depth(sctx));
        }
    } else if (o->hostname != NULL) {
        if ((ip ? X509_check_ip_asc(leaf, o->hostname, 0)
                : X509_check_host(leaf, o->hostname, 0, 0, NULL)) != 1) {
            ERR_clear_error();
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO_CHAIN,
                           "EA chain: leaf does not match host %s", o->hostname);
        }
    }
    if (o->verify_cb != NULL) {
        rc = o->verify_cb(o->verify_arg, leaf, chain);
        if (rc != ATLS_OK && atls_error_message()[0] == '\0') {
            rc = atls_error_raise(rc, __FILE__, __LINE__, "EA chain: rejected by verify_cb");
        }
    }
done:
    X509_STORE_CTX_free(sctx);
    sk_X509_free(chain);
    return rc;
}

/* validate_empty: RFC 9261 section 6, a Finished alone answering |request|. */
static atls_error validate_empty(const atls_ea_secrets *s, const atls_ea_request *request,
                                 atls_cursor fin, atls_ea_context_set *seen)
{
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    uint8_t mac[EVP_MAX_MD_SIZE];
    ATLS_ENSURE(request != NULL, ATLS_ERR_PROTOCOL,
                "EA: empty authenticator without a request (spontaneous refusal is meaningless)");
    ATLS_ENSURE(atls_cursor_remaining(&fin) == s->hash_len, ATLS_ERR_DECODE_LENGTH,
                "EA Finished: %zu bytes, expected %zu", atls_cursor_remaining(&fin), s->hash_len);
    ATLS_ENSURE(!atls_ea_context_set_contains(seen, request->context, request->context_len),
                ATLS_ERR_PROTOCOL_REPLAY, "EA: context already used on this connection");
    ATLS_GUARD(atls_ea_encode_certificate(request->context, request->context_len, NULL, NULL,
                                          NULL, 0, &cert, &cert_len));
    atls_error rc = atls_ea_finished_mac(s, request->bytes, request->len, cert, cert_len, NULL, 0,
                                         mac);
    free(cert);
    ATLS_GUARD(rc);
    int diff = CRYPTO_memcmp(mac, atls_cursor_data(&fin), s->hash_len);
    OPENSSL_cleanse(mac, sizeof(mac));
    ATLS_ENSURE(diff == 0, ATLS_ERR_CRYPTO_MAC, "EA Finished: MAC of the empty authenticator "
                                                "does not verify");
    ATLS_GUARD(atls_ea_context_set_add(seen, request->context, request->context_len));
    ATLS_RAISE(ATLS_ERR_PROTOCOL_REFUSED, "EA: the peer declined to authenticate (empty "
                                          "authenticator)");
}

/* validate_full checks a parsed Certificate || CertificateVerify || Finished. */
static atls_error validate_full(const atls_ea_secrets *s, const atls_ea_request *request,
                                const atls_ea_certificate *cert, const uint8_t *cert_msg,
                                size_t cert_msg_len, const uint8_t *cv_msg, size_t cv_msg_len,
                                uint16_t scheme, atls_cursor sig, atls_cursor fin,
                                atls_ea_context_set *seen, const atls_ea_validate_options *opts)
{
    const uint8_t *req = request ? request->bytes : NULL;
    size_t req_len = request ? request->len : 0;
    const uint8_t *ctx = atls_cursor_data(&cert->context);
    size_t ctx_len = atls_cursor_remaining(&cert->context);
    const uint16_t *offered;
    size_t num_offered;
    uint8_t tbs[160];
    size_t tbs_len = 0;
    uint8_t mac[EVP_MAX_MD_SIZE];

    ATLS_ENSURE(cert->num_entries >= 1, ATLS_ERR_PROTOCOL,
                "EA Certificate: empty certificate_list in a non-empty authenticator");
    /* RFC 9261 section 5.2.1: the context is the request's */
    ATLS_ENSURE(request == NULL || (ctx_len == request->context_len &&
                                    (ctx_len == 0 || memcmp(ctx, request->context, ctx_len) == 0)),
                ATLS_ERR_PROTOCOL_CONTEXT,
                "EA Certificate: certificate_request_context does not match the request");
    ATLS_ENSURE(!atls_ea_context_set_contains(seen, ctx, ctx_len), ATLS_ERR_PROTOCOL_REPLAY,
                "EA Certificate: context already used on this connection");
    ATLS_GUARD(check_entry_extensions(cert, request, opts));
    /* RFC 9261 section 5.2.2: the scheme was offered and fits the leaf key */
    if (request != NULL) {
        offered = request->sigalgs;
        num_offered = request->num_sigalgs;
    } else {
        offered = atls_ea_default_sigalgs(&num_offered);
    }
    ATLS_ENSURE(in_list(scheme, offered, num_offered), ATLS_ERR_PROTOCOL_SCHEME,
                "EA CertificateVerify: scheme 0x%04x was not offered", (unsigned)scheme);
    EVP_PKEY *pub = X509_get0_pubkey(cert->entries[0].cert);
    ATLS_ENSURE(pub != NULL && atls_ea_scheme_fits_key(scheme, pub), ATLS_ERR_PROTOCOL_SCHEME,
                "EA CertificateVerify: scheme 0x%04x does not fit the leaf key",
                (unsigned)scheme);
    ATLS_GUARD(atls_ea_signature_input(s, req, req_len, cert_msg, cert_msg_len, tbs, &tbs_len));
    ATLS_GUARD(atls_ea_verify(pub, scheme, tbs, tbs_len, atls_cursor_data(&sig),
                              atls_cursor_remaining(&sig)));
    /* RFC 9261 section 5.2.3, compared in constant time */
    ATLS_GUARD(atls_ea_finished_mac(s, req, req_len, cert_msg, cert_msg_len, cv_msg, cv_msg_len,
                                    mac));
    int diff = CRYPTO_memcmp(mac, atls_cursor_data(&fin), s->hash_len);
    OPENSSL_cleanse(mac, sizeof(mac));
    ATLS_ENSURE(diff == 0, ATLS_ERR_CRYPTO_MAC, "EA Finished: verify_data does not verify");
    return check_chain(cert, opts);
}

atls_error atls_ea_validate(SSL *ssl, const atls_ea_request *request, const uint8_t *msg,
                            size_t len, atls_ea_context_set *seen,
                            const atls_ea_validate_options *opts, atls_ea_result **out)
{
    static const atls_ea_validate_options none;
    atls_ea_secrets s;
    atls_cursor c, body, cv_body, sig, fin;
    const uint8_t *cert_msg, *cv_msg;
    uint8_t type;
    uint16_t scheme;
    atls_ea_certificate cert;
    atls_error rc;

    ATLS_ENSURE(out != NULL && seen != NULL && (msg != NULL || len == 0), ATLS_ERR_USAGE,
                "atls_ea_validate: NULL argument");
    *out = NULL;
    if (opts == NULL) {
        opts = &none;
    }
    ATLS_ENSURE(opts->num_first_entry_only == 0 || opts->first_entry_only != NULL, ATLS_ERR_USAGE,
                "atls_ea_validate: NULL first_entry_only");
    ATLS_GUARD(atls_ea_check_tls13(ssl));
    ATLS_GUARD(check_receiving_role(ssl, request));
    ATLS_ENSURE(len <= ATLS_EA_MAX_MESSAGE, ATLS_ERR_DECODE_TOO_LARGE,
                "EA authenticator: %zu bytes exceed the ceiling", len);
    /* the sender is the peer: its labels */
    ATLS_GUARD(atls_ea_derive_secrets(ssl, SSL_is_server(ssl), &s));

    atls_cursor_init(&c, msg, len);
    cert_msg = atls_cursor_data(&c);
    if (!atls_ea_read_handshake(&c, &type, &body)) {
        ATLS_FAIL_GOTO(rc, wipe, ATLS_ERR_DECODE_TRUNCATED, "EA authenticator: truncated");
    }
    if (type == ATLS_HS_FINISHED && atls_cursor_is_empty(&c)) {
        rc = validate_empty(&s, request, body, seen);
        goto wipe;
    }
    if (type != ATLS_HS_CERTIFICATE) {
        ATLS_FAIL_GOTO(rc, wipe, ATLS_ERR_DECODE_TYPE,
                       "EA authenticator: first message has type %u, not Certificate (11)",
                       (unsigned)type);
    }
    size_t cert_msg_len = len - atls_cursor_remaining(&c);
    ATLS_GUARD_GOTO(rc, wipe, atls_ea_parse_certificate(body, &cert));

    cv_msg = atls_cursor_data(&c);
    if (!atls_ea_read_handshake(&c, &type, &cv_body)) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_TRUNCATED,
                       "EA authenticator: CertificateVerify truncated");
    }
    if (type != ATLS_HS_CERTIFICATE_VERIFY) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_TYPE,
                       "EA authenticator: second message has type %u, not CertificateVerify (15)",
                       (unsigned)type);
    }
    size_t cv_msg_len = len - cert_msg_len - atls_cursor_remaining(&c);
    if (!atls_cursor_get_u16(&cv_body, &scheme) || !atls_cursor_get_u16_prefixed(&cv_body, &sig)) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_TRUNCATED,
                       "EA CertificateVerify: body truncated");
    }
    if (!atls_cursor_is_empty(&cv_body)) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_TRAILING,
                       "EA CertificateVerify: trailing bytes after the signature");
    }
    if (!atls_ea_read_handshake(&c, &type, &fin)) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_TRUNCATED, "EA authenticator: Finished truncated");
    }
    if (type != ATLS_HS_FINISHED) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_TYPE,
                       "EA authenticator: third message has type %u, not Finished (20)",
                       (unsigned)type);
    }
    if (atls_cursor_remaining(&fin) != s.hash_len) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_LENGTH, "EA Finished: %zu bytes, expected %zu",
                       atls_cursor_remaining(&fin), s.hash_len);
    }
    if (!atls_cursor_is_empty(&c)) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_TRAILING,
                       "EA authenticator: trailing bytes after Finished");
    }
    ATLS_GUARD_GOTO(rc, done,
                    validate_full(&s, request, &cert, cert_msg, cert_msg_len, cv_msg, cv_msg_len,
                                  scheme, sig, fin, seen, opts));
    /* record the context only now that everything passed (RFC 9261 section 5.2.1) */
    ATLS_GUARD_GOTO(rc, done,
                    atls_ea_context_set_add(seen, atls_cursor_data(&cert.context),
                                            atls_cursor_remaining(&cert.context)));
    rc = atls_ea_result_build(&cert, scheme, out);
done:
    atls_ea_certificate_cleanup(&cert);
wipe:
    atls_ea_secrets_wipe(&s);
    return rc;
}
