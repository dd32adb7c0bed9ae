/*
 * ea_internal.h: internals of the RFC 9261 exported-authenticator module (include/atls/ea.h).
 * Not public: tests include it to reach the pure computation (known-answer tests) and the raw
 * authenticator builder (attack tests).
 */
#ifndef ATLS_EA_INTERNAL_H
#define ATLS_EA_INTERNAL_H

#include <atls/ea.h>

#include "base/cursor.h"

#include <openssl/evp.h>
#include <stdbool.h>

/* Most extensions a request may carry (RFC 8446 defines far fewer for CertificateRequest). */
#define ATLS_EA_MAX_REQUEST_EXTENSIONS 64

/* A parsed or built request. |bytes| owns the encoding; every other pointer points into it. */
struct atls_ea_request {
    uint8_t *bytes;
    size_t len;
    int type;
    const uint8_t *context;
    size_t context_len;
    atls_ea_extension exts[ATLS_EA_MAX_REQUEST_EXTENSIONS];
    size_t num_exts;
    uint16_t *sigalgs; /* decoded signature_algorithms (malloc'd) */
    size_t num_sigalgs;
};

/* The two exporter values of RFC 9261 section 5.1 plus the authenticator hash. */
typedef struct atls_ea_secrets {
    const EVP_MD *md;               /* the negotiated suite's hash (borrowed, static) */
    size_t hash_len;                /* 32 or 48 */
    uint8_t hc[EVP_MAX_MD_SIZE];    /* Handshake Context */
    uint8_t fk[EVP_MAX_MD_SIZE];    /* Finished MAC Key (secret: wipe) */
} atls_ea_secrets;

/* ---- keys.c ---- */

/* atls_ea_check_tls13 raises ATLS_ERR_USAGE_NOT_TLS13 unless |ssl| is a TLS 1.3 connection
 * whose handshake is finished. */
ATLS_MUST_CHECK atls_error atls_ea_check_tls13(SSL *ssl);

/* atls_ea_derive_secrets exports HC and the Finished MAC Key for authenticators SENT by the
 * client (|sender_is_client| = 1) or the server (0) of |ssl| (RFC 9261 section 5.1). The caller
 * wipes |out| with atls_ea_secrets_wipe. */
ATLS_MUST_CHECK atls_error atls_ea_derive_secrets(SSL *ssl, int sender_is_client,
                                                  atls_ea_secrets *out);
void atls_ea_secrets_wipe(atls_ea_secrets *s);

/* ---- sigscheme.c ---- */

/* atls_ea_scheme_fits_key: true when |scheme| is a TLS 1.3 scheme atls supports and |key| can
 * make/verify it (ECDSA curve must match, RSA >= 2048 bits for rsae PSS, Ed25519). */
bool atls_ea_scheme_fits_key(uint16_t scheme, EVP_PKEY *key);

/* atls_ea_choose_scheme: the first of |offered| that fits |key| (ATLS_ERR_PROTOCOL_SCHEME). */
ATLS_MUST_CHECK atls_error atls_ea_choose_scheme(const uint16_t *offered, size_t num,
                                                 EVP_PKEY *key, uint16_t *out);

/* atls_ea_sign signs |tbs| with |key| under |scheme|; *sig is malloc'd (caller frees). */
ATLS_MUST_CHECK atls_error atls_ea_sign(EVP_PKEY *key, uint16_t scheme, const uint8_t *tbs,
                                        size_t tbs_len, uint8_t **sig, size_t *sig_len);

/* atls_ea_verify checks |sig| over |tbs| (ATLS_ERR_CRYPTO_SIGNATURE). */
ATLS_MUST_CHECK atls_error atls_ea_verify(EVP_PKEY *key, uint16_t scheme, const uint8_t *tbs,
                                          size_t tbs_len, const uint8_t *sig, size_t sig_len);

/* ---- compute.c: the pure computations of RFC 9261 sections 5.2.2, 5.2.3 and 6 ---- */

/* atls_ea_signature_input writes 0x20*64 || "Exported Authenticator" || 0x00 ||
 * Hash(HC || request || certificate) into |out| (room for 87 + EVP_MAX_MD_SIZE). */
ATLS_MUST_CHECK atls_error atls_ea_signature_input(const atls_ea_secrets *s, const uint8_t *req,
                                                   size_t req_len, const uint8_t *cert,
                                                   size_t cert_len, uint8_t *out,
                                                   size_t *out_len);

/* atls_ea_finished_mac computes HMAC(fk, Hash(HC || req || cert || cv)) into |out| (hash_len
 * bytes); |cv| may be NULL (empty authenticator). */
ATLS_MUST_CHECK atls_error atls_ea_finished_mac(const atls_ea_secrets *s, const uint8_t *req,
                                                size_t req_len, const uint8_t *cert,
                                                size_t cert_len, const uint8_t *cv,
                                                size_t cv_len, uint8_t *out);

/* atls_ea_compute is the core of authenticate, with no connection: given the exporter values,
 * the request message (NULL/0 when spontaneous), a complete Certificate message (copied to the
 * output as is), the signing key and scheme, it returns Certificate || CertificateVerify ||
 * Finished in a malloc'd *out (caller frees). It does not check that |scheme| was offered. */
ATLS_MUST_CHECK atls_error atls_ea_compute(const atls_ea_secrets *s, const uint8_t *req,
                                           size_t req_len, const uint8_t *cert_msg,
                                           size_t cert_len, EVP_PKEY *key, uint16_t scheme,
                                           uint8_t **out, size_t *out_len);

/* atls_ea_compute_empty returns the empty authenticator (Finished only, RFC 9261 section 6)
 * for request |req| whose context is |ctx| (malloc'd *out, caller frees). */
ATLS_MUST_CHECK atls_error atls_ea_compute_empty(const atls_ea_secrets *s, const uint8_t *req,
                                                 size_t req_len, const uint8_t *ctx,
                                                 size_t ctx_len, uint8_t **out,
                                                 size_t *out_len);

/* ---- certificate.c ---- */

/* atls_ea_encode_certificate builds a Certificate message (type 11, RFC 8446 section 4.4.2):
 * |ctx|, then |leaf| with |exts| and each of |chain| with no extensions. Caller frees *out.
 * |leaf| may be NULL (empty certificate_list, used for the empty authenticator's MAC). */
ATLS_MUST_CHECK atls_error atls_ea_encode_certificate(const uint8_t *ctx, size_t ctx_len,
                                                      X509 *leaf, STACK_OF(X509) *chain,
                                                      const atls_ea_extension *exts,
                                                      size_t num_exts, uint8_t **out,
                                                      size_t *out_len);

/* One parsed CertificateEntry: the certificate (owned) and its extensions (borrowed view). */
typedef struct atls_ea_cert_entry {
    X509 *cert;
    atls_cursor exts; /* the extensions<0..2^16-1> contents, already checked well-formed */
} atls_ea_cert_entry;

typedef struct atls_ea_certificate {
    atls_cursor context;
    atls_ea_cert_entry entries[ATLS_EA_MAX_CERTS];
    size_t num_entries;
} atls_ea_certificate;

/* atls_ea_parse_certificate parses a Certificate body (after type and length), exactly
 * consumed, with the ceilings of ea.h. On success the caller calls atls_ea_certificate_cleanup;
 * on failure nothing is left to free. */
ATLS_MUST_CHECK atls_error atls_ea_parse_certificate(atls_cursor body, atls_ea_certificate *out);
void atls_ea_certificate_cleanup(atls_ea_certificate *c);

/* atls_ea_read_handshake reads one handshake message header and body. False on truncation. */
ATLS_MUST_CHECK bool atls_ea_read_handshake(atls_cursor *c, uint8_t *type, atls_cursor *body);

/* atls_ea_parse_extensions walks an extensions list (contents of the u16-prefixed vector),
 * checking each is well formed and that no type repeats. With |out| non-NULL it also stores
 * up to |max| entries (borrowed views) and their count in *num. */
ATLS_MUST_CHECK atls_error atls_ea_parse_extensions(atls_cursor list, const char *where,
                                                    atls_ea_extension *out, size_t max,
                                                    size_t *num);

/* ---- request.c ---- */

/* atls_ea_decode_scheme_list decodes a SignatureScheme list<2..2^16-2> (signature_algorithms,
 * signature_algorithms_cert: RFC 8446 section 4.2.3) into a malloc'd array (caller frees).
 * |where| names the field in errors. */
ATLS_MUST_CHECK atls_error atls_ea_decode_scheme_list(const uint8_t *data, size_t len,
                                                      const char *where, uint16_t **out,
                                                      size_t *num);

/* ---- client_hello.c: what the peer's ClientHello accepts (spontaneous authenticators) ---- */

/* Most schemes kept from one list. */
#define ATLS_EA_MAX_HELLO_SCHEMES 64

/* atls_ea_hello_sigalgs: the ClientHello's signature_algorithms on a server |ssl| (RFC 9261
 * section 5.2.2), in the client's order; *num 0 when OpenSSL has none. */
void atls_ea_hello_sigalgs(SSL *ssl, uint16_t out[ATLS_EA_MAX_HELLO_SCHEMES], size_t *num);

/* atls_ea_hello_cert_sigalgs: the ClientHello's signature_algorithms_cert when the SSL_CTX
 * tracks it (atls_ea_ssl_ctx_track_client_hello) and the client sent it, else its
 * signature_algorithms (RFC 8446 section 4.2.3: the latter then applies to certificates). */
void atls_ea_hello_cert_sigalgs(SSL *ssl, uint16_t out[ATLS_EA_MAX_HELLO_SCHEMES], size_t *num);

/* atls_ea_check_chain_schemes: every certificate of |leaf| and |chain| that is not
 * self-signed (a trust anchor's signature is not checked, RFC 8446 section 4.4.2.2) is signed
 * with one of |allowed| (ATLS_ERR_PROTOCOL_SCHEME naming the first that is not). */
ATLS_MUST_CHECK atls_error atls_ea_check_chain_schemes(X509 *leaf, STACK_OF(X509) *chain,
                                                       const uint16_t *allowed, size_t num);

/* ---- context_set.c ---- */

bool atls_ea_context_set_contains(const atls_ea_context_set *set, const uint8_t *ctx,
                                  size_t len);
ATLS_MUST_CHECK atls_error atls_ea_context_set_add(atls_ea_context_set *set, const uint8_t *ctx,
                                                   size_t len);

/* ---- result.c ---- */

/* atls_ea_result_build makes a result from a validated certificate: takes new references to
 * the certificates, copies the context and the first entry's extensions. */
ATLS_MUST_CHECK atls_error atls_ea_result_build(const atls_ea_certificate *cert, uint16_t scheme,
                                                atls_ea_result **out);

/* ---- authenticate.c ---- */

/* atls_ea_authenticate_raw signs and MACs an arbitrary caller-supplied Certificate message
 * |certificate_msg| (complete, with type and length; copied into the output unchanged) for
 * |ssl|, answering |request| (NULL: spontaneous, empty request term). Exporter labels are the
 * sender's: |use_client_labels| = -1 picks them by role (client labels iff !SSL_is_server),
 * 0 forces the server's, 1 the client's (reflection tests). |scheme| is used as given (must
 * fit |key|). No role, context, extension or offered-scheme check: for tests only. Caller
 * frees *out. */
ATLS_MUST_CHECK atls_error atls_ea_authenticate_raw(SSL *ssl, const atls_ea_request *request,
                                                    const uint8_t *certificate_msg, size_t len,
                                                    EVP_PKEY *key, uint16_t scheme,
                                                    int use_client_labels, uint8_t **out,
                                                    size_t *out_len);

#endif /* ATLS_EA_INTERNAL_H */
