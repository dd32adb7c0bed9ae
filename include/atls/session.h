/*
 * atls/session.h: post-handshake attestation on one TLS 1.3 connection
 * (draft-fossati-seat-expat over RFC 9261, framed with atls/1; docs/PROTOCOL.md).
 *
 * A session wraps an established OpenSSL connection whose ALPN is "atls/1". It
 *   - asks the peer for Evidence (a REQUEST frame carrying an EA request with an empty
 *     cmw_attestation extension), validates the AUTHENTICATOR that answers it, recomputes the
 *     binding challenge from its own end of the connection and appraises the CMW;
 *   - answers the peer's REQUEST frames with an authenticator whose first CertificateEntry
 *     carries fresh Evidence from the configured attester (or an empty authenticator when it
 *     has none: an authenticated refusal);
 *   - carries application bytes in DATA frames, and refuses to send or deliver any before the
 *     first appraisal of the peer succeeded when the peer must attest.
 *
 * I/O model: the session puts the socket in non-blocking mode. atls_session_read processes
 * whatever has arrived; atls_session_write queues DATA and atls_session_flush sends what it
 * can, so an application can drive many sessions from poll() without deadlock
 * (atls_session_poll_events says what to wait for). atls_session_attest is a blocking
 * convenience for "request and wait for the appraisal".
 *
 * Threading: a session is used by one thread at a time. The attester may be shared between
 * sessions; pass attester_lock to serialise it (a TPM cannot run two commands at once).
 */
#ifndef ATLS_SESSION_H
#define ATLS_SESSION_H

#include <atls/appraisal.h>
#include <atls/error.h>
#include <atls/evidence.h>
#include <atls/policy.h>

#include <openssl/ssl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cmw_attestation ExtensionType: no IANA value yet (draft-fossati-seat-expat, IANA section);
 * 0xFF00 is in the private-use range and matches the Cocos implementation. */
#define ATLS_EXT_CMW_ATTESTATION 0xFF00

/* How many of our requests may await an answer at once. */
#define ATLS_SESSION_MAX_OUTSTANDING 4
/* DATA received before the first appraisal is held, up to this much. */
#define ATLS_SESSION_MAX_HELD (1024u * 1024u)
/* Ceiling on queued outgoing bytes; atls_session_write refuses beyond it. */
#define ATLS_SESSION_MAX_QUEUED (4u * 1024u * 1024u)

typedef struct atls_session atls_session;

typedef struct atls_session_config {
    /* Our identity for authenticators we send (borrowed; must outlive the session). A server
     * normally uses its TLS certificate and key. NULL cert: we answer requests with an empty
     * authenticator. */
    X509 *cert;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
    /* Our attester (NULL: we cannot attest). attester_lock, when set, is held around produce. */
    const atls_attester_ops *attester;
    void *attester_state;
    pthread_mutex_t *attester_lock;

    /* Appraising the peer. peer_must_attest: no DATA is sent or delivered before the first
     * appraisal succeeded (the client side of atls connect; a server with a client policy). */
    int peer_must_attest;
    const atls_policy *policy;          /* NULL: appraisal without policy = warning */
    int accept_warning;                 /* 1: a warning (no policy) counts as success */
    atls_verify_input verify_input;     /* trust inputs for verifiers; challenge is ours */
    X509_STORE *trust;                  /* chain check of the authenticator's leaf, or NULL */
    const char *hostname;               /* host the leaf must match, or NULL */
    /* 1 (default for a client): the authenticator's leaf must carry the same public key as
     * the certificate that authenticated the TLS handshake, so Evidence is bound to the
     * identity the PKI vouched for (defeats diversion to another genuine TEE). */
    int require_tls_identity;

    uint16_t cmw_extension;             /* 0: ATLS_EXT_CMW_ATTESTATION */
    int timeout_ms;                     /* blocking calls; 0: 30000 */

    /* Called after each appraisal of the peer (success or failure); |a| is borrowed. */
    void (*on_appraisal)(void *arg, const atls_appraisal *a);
    void *on_appraisal_arg;
} atls_session_config;

/* atls_session_new wraps |ssl| (borrowed; must be an established TLS 1.3 connection over a
 * socket fd, ALPN "atls/1", no resumption, no early data — else ATLS_ERR_USAGE_NOT_TLS13 or
 * ATLS_ERR_PROTOCOL_SESSION). |cfg| is copied (pointers inside stay borrowed). The socket is
 * switched to non-blocking mode. *out is the caller's (atls_session_free). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_new(SSL *ssl, const atls_session_config *cfg,
                                            atls_session **out);

/* atls_session_free releases the session (not the SSL). NULL-safe. */
ATLS_API
void atls_session_free(atls_session *s);

/* atls_session_request sends a REQUEST for fresh Evidence. |nonce| (1..255 bytes), when given,
 * becomes the certificate_request_context (a Verifier's nonce, background-check model);
 * otherwise 32 random bytes. The answer is processed by atls_session_read. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_request(atls_session *s, const uint8_t *nonce,
                                                size_t nonce_len);

/* atls_session_attest: request and wait (up to the configured timeout) for the appraisal,
 * answering the peer's own requests meanwhile. DATA that arrives meanwhile is kept for
 * atls_session_read. On return |out| (when not NULL) holds a copy of the appraisal (caller
 * cleans up). Returns ATLS_OK iff the appraisal succeeded. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_attest(atls_session *s, atls_appraisal *out);

/* atls_session_read processes what has arrived and copies up to |cap| bytes of DATA into
 * |buf|, setting *n (0 when nothing is available yet: wait for atls_session_poll_events).
 * Control frames are handled inside (requests answered, authenticators appraised). Returns
 * ATLS_ERR_IO_CLOSED at a clean end of stream, ATLS_ERR_PROTOCOL_PEER_ERROR after an ERROR
 * frame, or the error that made us close (after sending our ERROR frame). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_read(atls_session *s, uint8_t *buf, size_t cap,
                                             size_t *n);

/* atls_session_process is atls_session_read without handing DATA to the application: it
 * answers requests and appraises authenticators that have arrived, and holds DATA (up to the
 * session's own ceiling, after which it stops reading the socket). For an application whose
 * destination for DATA is momentarily full, so attestation does not stall behind it. Same
 * errors as atls_session_read (ATLS_ERR_IO_CLOSED only once held DATA was read). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_process(atls_session *s);

/* atls_session_write queues |len| bytes as DATA frames and tries to send them. Refused with
 * ATLS_ERR_PROTOCOL_SESSION while the peer must attest and has not, and with
 * ATLS_ERR_IO (queue full) beyond ATLS_SESSION_MAX_QUEUED. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_write(atls_session *s, const uint8_t *data, size_t len);

/* atls_session_flush sends queued bytes until done or the socket would block. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_flush(atls_session *s);

/* atls_session_queued: bytes not yet sent. */
ATLS_API
size_t atls_session_queued(const atls_session *s);

/* atls_session_poll_events: the poll(2) events to wait for on the socket: POLLIN unless the
 * session holds as much undelivered DATA as it will (backpressure: read some first), POLLOUT
 * while bytes are queued. */
ATLS_API
short atls_session_poll_events(const atls_session *s);

/* atls_session_has_pending: 1 when decrypted bytes are buffered and atls_session_read should
 * be called again without waiting for the socket. */
ATLS_API
int atls_session_has_pending(const atls_session *s);

/* atls_session_fd: the socket. */
ATLS_API
int atls_session_fd(const atls_session *s);

/* atls_session_peer_attested: 1 after a successful appraisal, 0 before or after a failure. */
ATLS_API
int atls_session_peer_attested(const atls_session *s);

/* atls_session_appraisals: how many appraisals of the peer succeeded so far. */
ATLS_API
uint64_t atls_session_appraisals(const atls_session *s);

/* atls_session_outstanding_age_ms: age of the oldest unanswered request, -1 if none. */
ATLS_API
int64_t atls_session_outstanding_age_ms(const atls_session *s);

/* atls_session_last_appraisal: the most recent appraisal (borrowed), or NULL. */
ATLS_API
const atls_appraisal *atls_session_last_appraisal(const atls_session *s);

/* atls_session_send_error sends an ERROR frame (code, reason), flushes it as far as the socket
 * allows, and marks the session closed. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_send_error(atls_session *s, atls_error code,
                                                   const char *reason);

/* atls_session_close flushes queued bytes, sends TLS close_notify and then reads (dropping it)
 * what the peer still sends until its close_notify or EOF, at most 2 s in all, so that the
 * caller's close(2) never finds unread bytes and resets a connection whose peer has not read
 * everything yet. Best effort; the caller still closes the socket. */
ATLS_API
void atls_session_close(atls_session *s);

/* atls_ssl_ctx_configure sets what an attested connection needs on |ctx|: TLS 1.3 only, no
 * session tickets (server) / no session reuse (client), no early data, and ALPN "atls/1" on
 * the client (|offer_alpn|). A server selects "atls/1" through atls_alpn_select_cb. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ssl_ctx_configure(SSL_CTX *ctx, int is_server, int offer_alpn);

/* atls_ssl_is_atls: 1 if |ssl| negotiated ALPN "atls/1". */
ATLS_API
int atls_ssl_is_atls(SSL *ssl);

/* atls_alpn_select_cb: an SSL_CTX_set_alpn_select_cb callback choosing "atls/1" when the
 * client offers it, else any other protocol the client offers is left unselected (the
 * connection proceeds without ALPN: a plain TLS client). |arg| unused. */
ATLS_API
int atls_alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                        const unsigned char *in, unsigned int inlen, void *arg);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_SESSION_H */
