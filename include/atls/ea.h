/*
 * atls/ea.h: RFC 9261 Exported Authenticators over an established OpenSSL TLS 1.3 connection.
 *
 * Flows (RFC 9261 section 3):
 *   - the client asks the server:  atls_ea_request_new(ATLS_EA_CLIENT_CERTIFICATE_REQUEST)
 *                                  (HandshakeType 17), the server answers with an authenticator;
 *   - the server asks the client:  ATLS_EA_CERTIFICATE_REQUEST (HandshakeType 13);
 *   - spontaneous server authentication: the server authenticates with no request.
 *
 * All messages are complete handshake messages (type || uint24 length || body), unencrypted,
 * carried by the application (atls carries them in atls/1 frames, see atls/frame.h).
 * Every function refuses a connection that is not TLS 1.3 with a finished handshake
 * (ATLS_ERR_USAGE_NOT_TLS13).
 *
 * Ownership: objects returned through out-pointers belong to the caller and are released with
 * the matching _free (NULL-safe). "get0" accessors return borrowed pointers valid as long as the
 * object they come from. Nothing is taken over from the caller unless a comment says so.
 */
#ifndef ATLS_EA_H
#define ATLS_EA_H

#include <atls/error.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* HandshakeType values used by RFC 9261 (RFC 8446 section 4, RFC 9261 section 4). */
#define ATLS_EA_CERTIFICATE_REQUEST 13        /* server asks the client */
#define ATLS_EA_CLIENT_CERTIFICATE_REQUEST 17 /* client asks the server */
#define ATLS_HS_CERTIFICATE 11
#define ATLS_HS_CERTIFICATE_VERIFY 15
#define ATLS_HS_FINISHED 20

#define ATLS_EXT_SIGNATURE_ALGORITHMS 13
#define ATLS_EA_CONTEXT_DEFAULT_LEN 32
#define ATLS_EA_CONTEXT_MAX_LEN 255
/* Ceilings checked before any allocation (style: compare declared lengths first). */
#define ATLS_EA_MAX_MESSAGE (256u * 1024u)  /* whole request or authenticator */
#define ATLS_EA_MAX_CERT_LEN (64u * 1024u)  /* one DER certificate (cert_data) */
#define ATLS_EA_MAX_CERTS 10                /* CertificateEntry count, leaf included */

/* One TLS extension: type and opaque data (RFC 8446 section 4.2). */
typedef struct atls_ea_extension {
    uint16_t type;
    const uint8_t *data; /* borrowed */
    size_t len;
} atls_ea_extension;

/* TLS 1.3 SignatureScheme code points atls can produce and verify. */
#define ATLS_SIG_ECDSA_SECP256R1_SHA256 0x0403
#define ATLS_SIG_ECDSA_SECP384R1_SHA384 0x0503
#define ATLS_SIG_RSA_PSS_RSAE_SHA256 0x0804
#define ATLS_SIG_RSA_PSS_RSAE_SHA384 0x0805
#define ATLS_SIG_RSA_PSS_RSAE_SHA512 0x0806
#define ATLS_SIG_ED25519 0x0807
#define ATLS_SIG_RSA_PSS_PSS_SHA256 0x0809

/* ---- requests (RFC 9261 section 4) ---------------------------------------------------- */

typedef struct atls_ea_request atls_ea_request;

/* Options for a new request. Zero-initialise, then set what you need. */
typedef struct atls_ea_request_options {
    const uint8_t *context;      /* NULL: 32 fresh random bytes; else 1..255 bytes (borrowed) */
    size_t context_len;
    const uint16_t *sigalgs;     /* NULL: atls's default list; else num_sigalgs schemes */
    size_t num_sigalgs;
    const atls_ea_extension *extensions; /* extra extensions (not signature_algorithms) */
    size_t num_extensions;
} atls_ea_request_options;

/* atls_ea_request_new builds a request of |type| (ATLS_EA_CERTIFICATE_REQUEST or
 * ATLS_EA_CLIENT_CERTIFICATE_REQUEST) for |ssl|; *out is the caller's (atls_ea_request_free).
 * |ssl| is used to refuse non-TLS-1.3 connections and is not retained. |opts| may be NULL. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ea_request_new(SSL *ssl, int type,
                                               const atls_ea_request_options *opts,
                                               atls_ea_request **out);

/* atls_ea_request_parse parses received request bytes (copied) into *out (caller frees).
 * The whole input must be exactly one request message. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ea_request_parse(const uint8_t *msg, size_t len,
                                                 atls_ea_request **out);

ATLS_API
void atls_ea_request_free(atls_ea_request *req);

/* atls_ea_request_get0_bytes: the encoded message (borrowed). */
ATLS_API
const uint8_t *atls_ea_request_get0_bytes(const atls_ea_request *req, size_t *len);
/* atls_ea_request_type: 13 or 17. */
ATLS_API
int atls_ea_request_type(const atls_ea_request *req);
/* atls_ea_request_get0_context: certificate_request_context (borrowed). */
ATLS_API
const uint8_t *atls_ea_request_get0_context(const atls_ea_request *req, size_t *len);
/* atls_ea_request_get0_extension: data of extension |type| (borrowed), NULL if absent. */
ATLS_API
const uint8_t *atls_ea_request_get0_extension(const atls_ea_request *req, uint16_t type,
                                              size_t *len);
/* atls_ea_request_has_extension: 1 if |type| is present (even empty), else 0. */
ATLS_API
int atls_ea_request_has_extension(const atls_ea_request *req, uint16_t type);

/* atls_ea_get_context (RFC 9261 section 7.2.1 "get context"): the certificate_request_context
 * of an encoded request or authenticator, copied into |out| (room for 255 bytes) with its
 * length in *out_len. Only the context is decoded. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ea_get_context(const uint8_t *msg, size_t len,
                                               uint8_t out[ATLS_EA_CONTEXT_MAX_LEN],
                                               size_t *out_len);

/* ---- authenticators (RFC 9261 sections 5 and 6) ---------------------------------------- */

/* atls_ea_authenticate produces Certificate || CertificateVerify || Finished for |ssl| as the
 * local side (the sender's exporter labels are chosen from SSL_is_server(ssl)).
 *   |request|     the request being answered, or NULL for a spontaneous server authenticator
 *                 (a client may not authenticate without a request: ATLS_ERR_USAGE_STATE)
 *   |leaf|, |chain|  end-entity certificate and intermediates (chain may be NULL); borrowed
 *   |key|         the leaf's private key: ECDSA P-256/P-384, RSA (signs RSA-PSS), Ed25519
 *   |extensions|  extensions for the first CertificateEntry; each must have been offered in
 *                 the request (ATLS_ERR_PROTOCOL_EXTENSION otherwise)
 * The signature scheme is the first one of the request's signature_algorithms that fits the
 * key (ATLS_ERR_PROTOCOL_SCHEME if none); when the request carries signature_algorithms_cert,
 * every non-self-signed certificate of leaf and chain must be signed with one of those
 * (ATLS_ERR_PROTOCOL_SCHEME). A spontaneous authenticator gets a fresh random 32-byte context,
 * picks its scheme from the client's ClientHello signature_algorithms in the client's order
 * (RFC 9261 section 5.2.2; atls_ea_default_sigalgs() if OpenSSL saw none), its chain must
 * respect the ClientHello's signature_algorithms_cert (or, absent, signature_algorithms), and
 * it may carry no extensions. Errors also: ATLS_ERR_USAGE_STATE (role does not fit the request type),
 * ATLS_ERR_CRYPTO_KEY (|key| is not |leaf|'s), ATLS_ERR_USAGE (more than ATLS_EA_MAX_CERTS
 * certificates or one over ATLS_EA_MAX_CERT_LEN). On success *out / *out_len is a malloc'd
 * message (caller frees with free()). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ea_authenticate(SSL *ssl, const atls_ea_request *request,
                                                X509 *leaf, STACK_OF(X509) *chain,
                                                EVP_PKEY *key,
                                                const atls_ea_extension *extensions,
                                                size_t num_extensions, uint8_t **out,
                                                size_t *out_len);

/* atls_ea_authenticate_empty produces the empty authenticator (a Finished only: an
 * authenticated refusal, RFC 9261 section 6) answering |request|. Caller frees *out. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ea_authenticate_empty(SSL *ssl, const atls_ea_request *request,
                                                      uint8_t **out, size_t *out_len);

/* Per-connection record of validated contexts (RFC 9261 section 5.2.1: a context must not be
 * accepted twice on one connection). One per SSL, kept by the validating side; not
 * thread-safe (used with its connection).
 *   atls_ea_context_set_new: an exact set of any contexts; it holds one entry (256 bytes) per
 *     validated context and searches linearly, so the caller bounds how many it validates.
 *   atls_ea_context_set_new_sequenced: for contexts made as |prefix| || uint64 sequence number
 *     (big-endian) || tail, as atls/1 sessions make theirs (docs/PROTOCOL.md section 2.1):
 *     constant memory and O(1) however many contexts; a context is used once accepted, and so
 *     is every sequence number more than 63 below the highest accepted one. A context without
 *     the prefix is never recorded (validation reports ATLS_ERR_PROTOCOL_CONTEXT). */
typedef struct atls_ea_context_set atls_ea_context_set;
ATLS_API
ATLS_MUST_CHECK atls_error atls_ea_context_set_new(atls_ea_context_set **out);
ATLS_API
ATLS_MUST_CHECK atls_error atls_ea_context_set_new_sequenced(const uint8_t *prefix,
                                                             size_t prefix_len,
                                                             atls_ea_context_set **out);
ATLS_API
void atls_ea_context_set_free(atls_ea_context_set *set);
/* atls_ea_context_set_memory: bytes the set holds (for tests of the bound). */
ATLS_API
size_t atls_ea_context_set_memory(const atls_ea_context_set *set);

/* Validation options. Zero-initialise, then set what you need. */
typedef struct atls_ea_validate_options {
    X509_STORE *trust;        /* chain validation against this store (borrowed); NULL and
                                 verify_cb NULL means: no chain validation (caller's job) */
    const char *hostname;     /* when set, the leaf must match it: a DNS name (X509_VERIFY_PARAM
                                 host; without |trust|: X509_check_host on the leaf) or an IP
                                 address literal (matched against IP SANs) */
    /* alternative to |trust|: return ATLS_OK to accept leaf+chain */
    atls_error (*verify_cb)(void *arg, X509 *leaf, STACK_OF(X509) *chain);
    void *verify_arg;
    time_t at;                /* 0 = now; else verification time for the chain */
    /* Extension types allowed only in the first CertificateEntry (atls: cmw_attestation
     * 0xFF00); found in any later entry -> ATLS_ERR_PROTOCOL_EXTENSION. Borrowed. */
    const uint16_t *first_entry_only;
    size_t num_first_entry_only;
    /* The role the leaf must be valid for: X509_PURPOSE_SSL_SERVER (extended key usage
     * serverAuth, or none) when the peer is the TLS server, X509_PURPOSE_SSL_CLIENT
     * (clientAuth) when it is the client; 0: not checked. Checked on the leaf whatever
     * |trust| is, and for the whole chain by X509_verify_cert (ATLS_ERR_CRYPTO_KEY_USAGE). */
    int leaf_purpose;
} atls_ea_validate_options;

/* The result of a successful validation. */
typedef struct atls_ea_result atls_ea_result;

/* atls_ea_validate checks |msg| (an authenticator received from the peer of |ssl|) against
 * |request| (what we sent; NULL only for a spontaneous server authenticator received by a
 * client) following RFC 9261 sections 5.2 and 6, and records the context in |seen|.
 * Errors: ATLS_ERR_PROTOCOL_REFUSED for a well-formed empty authenticator (nothing recorded
 * as a success, but the context is consumed), ATLS_ERR_PROTOCOL_CONTEXT, _REPLAY, _EXTENSION,
 * _SCHEME, ATLS_ERR_CRYPTO_SIGNATURE, _MAC, _CHAIN, ATLS_ERR_DECODE_* for malformed input,
 * ATLS_ERR_USAGE_STATE when |ssl|'s role cannot receive this (a request of type 17 is
 * validated by the client, type 13 by the server, request NULL only by a client).
 * Checks, in order: TLS 1.3; parse (each message exactly consumed, ceilings); context;
 * replay; CertificateEntry extensions (each offered in the request; none at all when
 * |request| is NULL; |first_entry_only| types only in entry 0); scheme (offered in the
 * request, or in atls_ea_default_sigalgs() when spontaneous, and fitting the leaf key);
 * signature; Finished; chain (|trust| or |verify_cb|; |hostname| alone is checked with
 * X509_check_host). The context is recorded in |seen| (required) only after all passed.
 * On success *out holds leaf, chain and first-entry extensions (caller frees). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ea_validate(SSL *ssl, const atls_ea_request *request,
                                            const uint8_t *msg, size_t len,
                                            atls_ea_context_set *seen,
                                            const atls_ea_validate_options *opts,
                                            atls_ea_result **out);

ATLS_API
void atls_ea_result_free(atls_ea_result *res);
/* Borrowed views into a result. */
ATLS_API
X509 *atls_ea_result_get0_leaf(const atls_ea_result *res);
ATLS_API
STACK_OF(X509) *atls_ea_result_get0_chain(const atls_ea_result *res); /* without the leaf */
ATLS_API
const uint8_t *atls_ea_result_get0_context(const atls_ea_result *res, size_t *len);
ATLS_API
uint16_t atls_ea_result_scheme(const atls_ea_result *res);
/* data of first-entry extension |type|, NULL if absent */
ATLS_API
const uint8_t *atls_ea_result_get0_extension(const atls_ea_result *res, uint16_t type,
                                             size_t *len);
/* the leaf certificate's DER SubjectPublicKeyInfo (borrowed) */
ATLS_API
const uint8_t *atls_ea_result_get0_spki(const atls_ea_result *res, size_t *len);

/* atls_ea_ssl_ctx_track_client_hello installs a ClientHello callback on a server |ctx| that
 * keeps each client's signature_algorithms_cert (RFC 8446 section 4.2.3; OpenSSL parses it but
 * does not expose it), so spontaneous authenticators respect it. atls_ssl_ctx_configure calls
 * it; it replaces any ClientHello callback of the context. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ea_ssl_ctx_track_client_hello(SSL_CTX *ctx);

/* atls_ea_default_sigalgs: atls's default signature_algorithms (static array). */
ATLS_API
const uint16_t *atls_ea_default_sigalgs(size_t *num);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_EA_H */
