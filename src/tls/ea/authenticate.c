/* authenticate.c: producing authenticators (RFC 9261 sections 5.2 and 6). */
#include "tls/ea/ea_internal.h"

#include "base/result.h"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdlib.h>

/* check_answering_role: RFC 9261 section 3: a ClientCertificateRequest (17) is answered by
 * the server, a CertificateRequest (13) by the client; only a server authenticates
 * spontaneously. */
static atls_error check_answering_role(SSL *ssl, const atls_ea_request *request)
{
    int server = SSL_is_server(ssl);
    if (request == NULL) {
        ATLS_ENSURE(server, ATLS_ERR_USAGE_STATE,
                    "EA: a client may not authenticate without a request");
        return ATLS_OK;
    }
    ATLS_ENSURE(server ? request->type == ATLS_EA_CLIENT_CERTIFICATE_REQUEST
                       : request->type == ATLS_EA_CERTIFICATE_REQUEST,
                ATLS_ERR_USAGE_STATE, "EA: a %s cannot answer a request of type %d",
                server ? "server" : "client", request->type);
    return ATLS_OK;
}

/* check_request_cert_schemes: a request's signature_algorithms_cert (RFC 8446 section 4.2.3),
 * when present, bounds how the chain may be signed. */
static atls_error check_request_cert_schemes(const atls_ea_request *request, X509 *leaf,
                                             STACK_OF(X509) *chain)
{
    size_t len = 0;
    const uint8_t *data = atls_ea_request_get0_extension(request, 50, &len);
    if (data == NULL) {
        return ATLS_OK;
    }
    uint16_t *algs = NULL;
    size_t num = 0;
    ATLS_GUARD(atls_ea_decode_scheme_list(data, len, "EA request: signature_algorithms_cert",
                                          &algs, &num));
    atls_error rc = atls_ea_check_chain_schemes(leaf, chain, algs, num);
    free(algs);
    return rc;
}

atls_error atls_ea_authenticate_raw(SSL *ssl, const atls_ea_request *request,
                                    const uint8_t *certificate_msg, size_t len, EVP_PKEY *key,
                                    uint16_t scheme, int use_client_labels, uint8_t **out,
                                    size_t *out_len)
{
    atls_ea_secrets s;
    ATLS_ENSURE(out != NULL && out_len != NULL && key != NULL && certificate_msg != NULL,
                ATLS_ERR_USAGE, "atls_ea_authenticate_raw: NULL argument");
    *out = NULL;
    *out_len = 0;
    ATLS_GUARD(atls_ea_check_tls13(ssl));
    int client = use_client_labels < 0 ? !SSL_is_server(ssl) : use_client_labels != 0;
    ATLS_GUARD(atls_ea_derive_secrets(ssl, client, &s));
    atls_error rc = atls_ea_compute(&s, request ? request->bytes : NULL, request ? request->len : 0,
                                    certificate_msg, len, key, scheme, out, out_len);
    atls_ea_secrets_wipe(&s);
    return rc;
}

atls_error atls_ea_authenticate(SSL *ssl, const atls_ea_request *request, X509 *leaf,
                                STACK_OF(X509) *chain, EVP_PKEY *key,
                                const atls_ea_extension *extensions, size_t num_extensions,
                                uint8_t **out, size_t *out_len)
{
    uint8_t fresh[ATLS_EA_CONTEXT_DEFAULT_LEN];
    const uint8_t *ctx = fresh;
    size_t ctx_len = sizeof(fresh);
    const uint16_t *offered;
    size_t num_offered;
    uint16_t scheme;
    uint8_t *cert = NULL;
    size_t cert_len = 0;

    ATLS_ENSURE(out != NULL && out_len != NULL, ATLS_ERR_USAGE,
                "atls_ea_authenticate: NULL output");
    *out = NULL;
    *out_len = 0;
    ATLS_ENSURE(leaf != NULL && key != NULL, ATLS_ERR_USAGE,
                "atls_ea_authenticate: leaf and key are required");
    ATLS_ENSURE(num_extensions == 0 || extensions != NULL, ATLS_ERR_USAGE,
                "atls_ea_authenticate: NULL extensions");
    ATLS_GUARD(atls_ea_check_tls13(ssl));
    ATLS_GUARD(check_answering_role(ssl, request));
    if (X509_check_private_key(leaf, key) != 1) {
        ERR_clear_error();
        ATLS_RAISE(ATLS_ERR_CRYPTO_KEY, "EA: the private key does not match the leaf certificate");
    }
    /* RFC 9261 section 5.2.1: CertificateEntry extensions must have been offered in the
     * request; atls accepts none in a spontaneous authenticator (no ClientHello access). */
    for (size_t i = 0; i < num_extensions; i++) {
        ATLS_ENSURE(request != NULL && atls_ea_request_has_extension(request, extensions[i].type),
                    ATLS_ERR_PROTOCOL_EXTENSION,
                    "EA Certificate: extension %u was not offered in the request",
                    (unsigned)extensions[i].type);
        ATLS_ENSURE(extensions[i].len == 0 || extensions[i].data != NULL, ATLS_ERR_USAGE,
                    "atls_ea_authenticate: extension data NULL");
        for (size_t j = 0; j < i; j++) {
            ATLS_ENSURE(extensions[j].type != extensions[i].type, ATLS_ERR_USAGE,
                        "atls_ea_authenticate: extension %u given twice",
                        (unsigned)extensions[i].type);
        }
    }
    uint16_t hello[ATLS_EA_MAX_HELLO_SCHEMES];
    if (request != NULL) {
        /* RFC 9261 section 5.2.2: the scheme must be one the request offered */
        offered = request->sigalgs;
        num_offered = request->num_sigalgs;
        ctx = request->context;
        ctx_len = request->context_len;
        ATLS_GUARD(check_request_cert_schemes(request, leaf, chain));
    } else {
        /* spontaneous: the scheme comes from the ClientHello's signature_algorithms (RFC 9261
         * section 5.2.2), the chain from its signature_algorithms_cert */
        atls_ea_hello_sigalgs(ssl, hello, &num_offered);
        offered = hello;
        if (num_offered == 0) {
            offered = atls_ea_default_sigalgs(&num_offered);
        }
        uint16_t cert_algs[ATLS_EA_MAX_HELLO_SCHEMES];
        size_t num_cert_algs = 0;
        atls_ea_hello_cert_sigalgs(ssl, cert_algs, &num_cert_algs);
        if (num_cert_algs > 0) {
            ATLS_GUARD(atls_ea_check_chain_schemes(leaf, chain, cert_algs, num_cert_algs));
        }
        ATLS_GUARD_OSSL(RAND_bytes(fresh, sizeof(fresh)), ATLS_ERR_CRYPTO_RANDOM,
                        "EA: RAND_bytes failed");
    }
    ATLS_GUARD(atls_ea_choose_scheme(offered, num_offered, key, &scheme));
    ATLS_GUARD(atls_ea_encode_certificate(ctx, ctx_len, leaf, chain, extensions, num_extensions,
                                          &cert, &cert_len));
    atls_error rc =
        atls_ea_authenticate_raw(ssl, request, cert, cert_len, key, scheme, -1, out, out_len);
    free(cert);
    return rc;
}

atls_error atls_ea_authenticate_empty(SSL *ssl, const atls_ea_request *request, uint8_t **out,
                                      size_t *out_len)
{
    atls_ea_secrets s;
    ATLS_ENSURE(out != NULL && out_len != NULL, ATLS_ERR_USAGE,
                "atls_ea_authenticate_empty: NULL output");
    *out = NULL;
    *out_len = 0;
    ATLS_GUARD(atls_ea_check_tls13(ssl));
    ATLS_ENSURE(request != NULL, ATLS_ERR_USAGE_STATE,
                "EA: an empty authenticator answers a request (RFC 9261 section 6)");
    ATLS_GUARD(check_answering_role(ssl, request));
    ATLS_GUARD(atls_ea_derive_secrets(ssl, !SSL_is_server(ssl), &s));
    atls_error rc = atls_ea_compute_empty(&s, request->bytes, request->len, request->context,
                                          request->context_len, out, out_len);
    atls_ea_secrets_wipe(&s);
    return rc;
}
