/*
 * atls/session.h: post-handshake attestation on one TLS 1.3 connection
 * (draft-fossati-seat-expat-04 over RFC 9261, framed with atls/1; docs/PROTOCOL.md).
 *
 * A session wraps an established OpenSSL connection whose ALPN is "atls/1". It
 *   - asks the peer for Evidence (a REQUEST frame carrying an EA request with an empty
 *     cmw_attestation extension), validates the AUTHENTICATOR that answers it, recomputes the
 *     binding challenge from its own end of the connection and appraises the CMW;
 *   - answers the peer's REQUEST frames with an authenticator whose first CertificateEntry
 *     carries fresh Evidence from the configured attester (or an empty authenticator when it
 *     has none: an authenticated refusal), within the bounds below;
 *   - carries application bytes in DATA frames, and refuses to send or deliver any before the
 *     first appraisal of the peer succeeded when the peer must attest.
 *
 * Secure by default. A zero-initialised atls_session_config is the safe configuration: a
 * client always requires its server to attest, and a side whose peer must attest enforces on
 * every authenticator of the peer (1) that its leaf carries the same public key as the
 * certificate that authenticated the TLS handshake, (2) that its chain validates against
 * |trust| or |verify_cb| and, on a client, that it matches |hostname|, (3) that OpenSSL's own
 * verification of that TLS handshake certificate succeeded, and (4) that the leaf's key usage
 * allows its role (serverAuth for a server, clientAuth for a client). Left unset, |trust| and
 * |hostname| are what the application verifies the TLS peer with: the SSL_CTX's certificate
 * store when the SSL verifies its peer (SSL_VERIFY_PEER), and the first host name given to
 * SSL_set1_host / SSL_add1_host. A session with no trust store and no |verify_cb| (or a client
 * session without a host name) is refused at creation with ATLS_ERR_USAGE_CONFIG. Only the
 * fields named insecure_* switch a check off.
 *
 * Bounded. Whatever the peer sends: at most max_peer_requests of its requests wait for an
 * answer (more: ATLS_ERR_PROTOCOL_FLOOD); Evidence is produced at most evidence_per_second
 * times a second on average (bursts of evidence_burst), later requests wait their turn; each
 * of the peer's contexts is answered at most once (RFC 9261 section 5.2; atls/1 contexts carry
 * a strictly increasing sequence number, docs/PROTOCOL.md 2.1), and a request that reuses one
 * of our own contexts is refused (ATLS_ERR_PROTOCOL_REFLECTED). Our own used contexts take
 * constant memory.
 *
 * I/O model: the session puts the socket in non-blocking mode. atls_session_read processes
 * whatever has arrived; atls_session_write queues DATA and atls_session_flush sends what it
 * can, so an application can drive many sessions from poll() without deadlock
 * (atls_session_poll_events says what to wait for and atls_session_timeout_ms how long at
 * most). The session keeps its own deadlines (an unanswered request fails the session when
 * its answer is late; a request the rate limit delays is answered later): the application
 * only has to call atls_session_read or atls_session_process again when the timeout expires.
 * atls_session_attest is a blocking convenience for "request and wait for the appraisal".
 * A blocking application uses the drop-in calls of atls/ssl.h instead (atls_read, atls_write,
 * atls_shutdown, atls_get_error: SSL_read & co. semantics, on the same session).
 *
 * Threading: a session is used by one thread at a time. The attester may be shared between
 * sessions on several threads; pass attester_lock (an atls_fair_lock) to serialise it: the
 * lock serves waiting sessions in arrival order, so no connection can hold the attester for
 * more than one production while others wait. Or give every session the same batcher
 * (atls/batch.h) as its attester, with no lock: one Evidence then answers every request that
 * waited while the attester was busy. An event loop that drives many sessions from one thread
 * sets evidence_async and produces Evidence elsewhere ("Asynchronous Evidence" below), so a
 * slow quote never holds up the other sessions.
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

/* cmw_attestation ExtensionType: no IANA value yet (draft-fossati-seat-expat-04 section 9.1);
 * 0xFF00 is in the private-use range and matches the Cocos implementation. */
#define ATLS_EXT_CMW_ATTESTATION 0xFF00

/* How many of our requests may await an answer at once. */
#define ATLS_SESSION_MAX_OUTSTANDING 4
/* DATA received before the first appraisal is held, up to this much. */
#define ATLS_SESSION_MAX_HELD (1024u * 1024u)
/* Ceiling on queued outgoing bytes; atls_session_write refuses beyond it. */
#define ATLS_SESSION_MAX_QUEUED (4u * 1024u * 1024u)
/* Defaults of the configurable bounds (a field left 0 takes its default). */
#define ATLS_SESSION_DEFAULT_TIMEOUT_MS 30000      /* blocking calls and answers to us */
#define ATLS_SESSION_DEFAULT_MAX_PEER_REQUESTS 8   /* unanswered requests of the peer */
#define ATLS_SESSION_DEFAULT_EVIDENCE_PER_SECOND 4 /* sustained Evidence rate per session */
#define ATLS_SESSION_DEFAULT_EVIDENCE_BURST 4      /* Evidence produced back to back */
#define ATLS_SESSION_MAX_PEER_REQUESTS_LIMIT 256   /* max_peer_requests is capped here */
/* Longest caller nonce atls_session_request accepts (the rest of the 255-byte context is the
 * session's prefix and sequence number, docs/PROTOCOL.md 2.1). */
#define ATLS_SESSION_MAX_NONCE 231

/* atls_fair_lock: a FIFO ("ticket") lock. Waiters are served in the order they arrived, so a
 * thread that releases and immediately re-acquires goes behind everyone already waiting.
 * Initialise with atls_fair_lock_init, destroy with atls_fair_lock_destroy (no waiter left).
 * Thread-safe. */
typedef struct atls_fair_lock {
    pthread_mutex_t mutex;
    pthread_cond_t turn;
    uint64_t next_ticket;
    uint64_t now_serving;
} atls_fair_lock;

ATLS_API
ATLS_MUST_CHECK atls_error atls_fair_lock_init(atls_fair_lock *lock);
ATLS_API
void atls_fair_lock_destroy(atls_fair_lock *lock);
ATLS_API
void atls_fair_lock_acquire(atls_fair_lock *lock);
ATLS_API
void atls_fair_lock_release(atls_fair_lock *lock);

typedef struct atls_session atls_session;

typedef struct atls_session_config {
    /* Our identity for authenticators we send (borrowed; must outlive the session). A server
     * normally uses its TLS certificate and key: with an attester and neither cert nor key
     * set, they are the SSL's own (SSL_get_certificate, SSL_get_privatekey and its chain).
     * No certificate: we answer requests with an empty authenticator. */
    X509 *cert;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
    /* Our attester (NULL: we cannot attest). attester_lock, when set, is held around produce;
     * share one lock between every session that shares the attester. A batcher
     * (atls_batcher_ops(), atls/batch.h) takes no lock (ATLS_ERR_USAGE_CONFIG). */
    const atls_attester_ops *attester;
    void *attester_state;
    atls_fair_lock *attester_lock;
    /* Asynchronous Evidence, for event loops (see atls_session_take_evidence_job): with this
     * set the session never calls the attester on its own thread; a request that needs
     * Evidence becomes a job the application runs (or has a batcher run) elsewhere and hands
     * back. The attester fields above still say which attester and state a job uses. */
    int evidence_async;
    /* Server only (expat-04 section 8.2): answer requests for Evidence only once the client's
     * first appraisal succeeded, so a client that has not attested learns nothing of the
     * server's platform. Requests wait meanwhile (within max_peer_requests). */
    int attest_after_peer_appraisal;

    /* Appraising the peer. A client always requires its server to attest (expat-04 section
     * 7.3); a server requires its client to with peer_must_attest. Then no DATA is sent or
     * delivered before the first appraisal succeeded. */
    int peer_must_attest;
    const atls_policy *policy;          /* NULL: appraisal without policy = warning */
    int accept_warning;                 /* 1: a warning (no policy) counts as success */
    atls_verify_input verify_input;     /* trust inputs for verifiers; challenge is ours */
    X509_STORE *trust;                  /* chain check of the authenticator's leaf (NULL: the
                                           SSL_CTX's store if the SSL verifies its peer) */
    /* instead of (or besides) |trust|: return ATLS_OK to accept the leaf and chain */
    atls_error (*verify_cb)(void *arg, X509 *leaf, STACK_OF(X509) *chain);
    void *verify_arg;
    const char *hostname;               /* client: the server's DNS name or IP literal (NULL:
                                           the SSL's own, SSL_set1_host) */

    /* DANGEROUS. Each switches one identity check of the peer's authenticators off; set one
     * only when something outside atls establishes the same. */
    int insecure_skip_tls_identity;     /* (1): the EA leaf key need not be the TLS key (the
                                           diversion to another genuine TEE is then possible) */
    int insecure_skip_certificate_validation; /* (2) and (3): no chain, host name or TLS
                                           handshake verification result is checked */

    /* Bounds on what the peer can make us do (0: the ATLS_SESSION_DEFAULT_* value). */
    int max_peer_requests;              /* unanswered peer requests; more is a flood */
    int evidence_per_second;            /* sustained Evidence production rate */
    int evidence_burst;                 /* Evidence produced without waiting */

    uint16_t cmw_extension;             /* 0: ATLS_EXT_CMW_ATTESTATION */
    int timeout_ms;                     /* blocking calls; 0: ATLS_SESSION_DEFAULT_TIMEOUT_MS */
    /* A request of ours (atls_session_request) unanswered for this long fails the session (an
     * ERROR frame, ATLS_ERR_IO_TIMEOUT); the request of atls_session_attest may take the
     * longer of this and timeout_ms. Time during which the session does not read because the
     * application has not taken delivered DATA does not count, up to a total wait of ten
     * times the limit (at least 30 s). 0: timeout_ms. */
    int answer_timeout_ms;

    /* Called after each appraisal of the peer (success or failure); |a| is borrowed. */
    void (*on_appraisal)(void *arg, const atls_appraisal *a);
    void *on_appraisal_arg;
} atls_session_config;

/* atls_session_new wraps |ssl| (borrowed; must be an established TLS 1.3 connection over a
 * socket fd, ALPN "atls/1", no resumption, no early data — else ATLS_ERR_USAGE_NOT_TLS13 or
 * ATLS_ERR_PROTOCOL_SESSION). |cfg| is copied (pointers inside stay borrowed). When the peer
 * must attest, the identity checks above are prepared here: ATLS_ERR_USAGE_CONFIG without
 * trust store / verify callback / host name, ATLS_ERR_CRYPTO_CHAIN when OpenSSL's verification
 * of the TLS peer certificate failed, ATLS_ERR_PROTOCOL_SESSION when the peer presented no TLS
 * certificate to bind to. The socket is switched to non-blocking mode. *out is the caller's
 * (atls_session_free). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_new(SSL *ssl, const atls_session_config *cfg,
                                            atls_session **out);

/* atls_session_free releases the session (not the SSL). NULL-safe. */
ATLS_API
void atls_session_free(atls_session *s);

/* atls_session_request sends a REQUEST for fresh Evidence. Its certificate_request_context is
 * the session's prefix, the next sequence number and |nonce| (1..ATLS_SESSION_MAX_NONCE bytes,
 * a Verifier's nonce in the background-check model) or 16 random bytes. The answer is
 * processed by atls_session_read. A session whose peer need not attest checks the appraisal
 * configuration here (ATLS_ERR_USAGE_CONFIG as in atls_session_new). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_request(atls_session *s, const uint8_t *nonce,
                                                size_t nonce_len);

/* atls_session_attest: request and wait (up to the configured timeout) for the appraisal of
 * that request, answering the peer's own requests meanwhile; answers to earlier requests that
 * arrive meanwhile are processed but not returned. DATA that arrives meanwhile is kept for
 * atls_session_read. On return |out| (when not NULL) holds a copy of the appraisal of this
 * request, when there is one (caller cleans up). Returns ATLS_OK iff it succeeded. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_attest(atls_session *s, atls_appraisal *out);

/* atls_session_read processes what has arrived and copies up to |cap| bytes of DATA into
 * |buf|, setting *n (0 when nothing is available yet: wait for atls_session_poll_events up to
 * atls_session_timeout_ms). Control frames are handled inside (requests answered,
 * authenticators appraised) and the session's deadlines enforced. Returns ATLS_ERR_IO_CLOSED
 * at a clean end of stream, ATLS_ERR_IO_TRUNCATED when the stream ended inside a frame,
 * ATLS_ERR_PROTOCOL_PEER_ERROR after an ERROR frame, or the error that made us close (after
 * sending our ERROR frame). */
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
 * while bytes are queued or TLS itself must write (an SSL_read that wanted to write: a
 * KeyUpdate answer while the socket was full). */
ATLS_API
short atls_session_poll_events(const atls_session *s);

/* atls_session_timeout_ms: how long the application may wait in poll(2) before it must call
 * atls_session_read / atls_session_process again (an answer deadline, a rate-limited request
 * to answer): 0 now, -1 no deadline. */
ATLS_API
int atls_session_timeout_ms(const atls_session *s);

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

/* atls_session_peer_error_code: the code of the ERROR frame the peer sent (an atls_error
 * value as the peer sent it, e.g. ATLS_ERR_IO for a server whose backend is unreachable), 0
 * when it sent none. The session then fails with ATLS_ERR_PROTOCOL_PEER_ERROR. */
ATLS_API
int atls_session_peer_error_code(const atls_session *s);

/* atls_session_evidence_produced: how many times we produced Evidence for the peer. */
ATLS_API
uint64_t atls_session_evidence_produced(const atls_session *s);

/* atls_session_outstanding_age_ms: age of the oldest unanswered request, -1 if none. */
ATLS_API
int64_t atls_session_outstanding_age_ms(const atls_session *s);

/* atls_session_last_appraisal: the most recent appraisal (borrowed), or NULL. */
ATLS_API
const atls_appraisal *atls_session_last_appraisal(const atls_session *s);

/* atls_session_memory: bytes the session holds for its bookkeeping (contexts, requests,
 * queue capacity): constant over any number of re-attestations (for tests of the bound). */
ATLS_API
size_t atls_session_memory(const atls_session *s);

/*
 * Asynchronous Evidence (evidence_async). A quote can take tens of milliseconds (a TPM, a TDX
 * Quoting Enclave): an event loop must not wait for it on the thread that moves other
 * connections' bytes. With evidence_async the session answers the peer's requests in the same
 * order and under the same bounds as ever, but when the request at the head of its queue needs
 * Evidence it makes a job (the binding challenge of that request, atls/binding.h) and waits
 * for it to come back; requests behind it wait too (answers keep their order). Meanwhile the
 * session keeps reading, appraising and moving DATA. At most one job per session is out.
 *
 *   atls_session_take_evidence_job   after any call that processes input: the job, if one
 *                                    was made (the caller owns it now)
 *   atls_evidence_job_run            on any thread: the session's attester over the challenge
 *   or atls_evidence_job_complete    the result from elsewhere (a batcher, atls/batch.h)
 *   atls_session_evidence_done       back on the session's thread: the authenticator is built
 *                                    and queued, the next request served
 */
typedef struct atls_evidence_job atls_evidence_job;

/* atls_session_take_evidence_job: the job the session made for the request at the head of its
 * queue and not handed out yet, or NULL. The caller owns it from now on and must give it back
 * with atls_session_evidence_done (or, when the session is freed first, free it with
 * atls_evidence_job_free once nothing runs it any more). Session's thread. */
ATLS_API
atls_evidence_job *atls_session_take_evidence_job(atls_session *s);

/* atls_session_evidence_waiting: 1 while a job the session made has not come back. */
ATLS_API
int atls_session_evidence_waiting(const atls_session *s);

/* atls_evidence_job_challenge: the 64-byte challenge the Evidence must cover (borrowed from
 * the job). atls_evidence_job_max: the most bytes the CMW may have. Thread-safe (the job is
 * not changed by them). */
ATLS_API
const uint8_t *atls_evidence_job_challenge(const atls_evidence_job *j);
ATLS_API
size_t atls_evidence_job_max(const atls_evidence_job *j);

/* atls_evidence_job_run calls the session's attester over the job's challenge (holding
 * attester_lock when the session has one) and keeps the result in the job. Blocks for as long
 * as the attester takes. Any thread, one at a time per job; the session must not be freed
 * meanwhile (the attester's per-connection state is the session's). */
ATLS_API
void atls_evidence_job_run(atls_evidence_job *j);

/* atls_evidence_job_complete stores a result produced elsewhere: |rc| ATLS_OK with |out|
 * (malloc'd; ownership moves to the job) of |len| bytes, in the form the session's attester
 * would have returned it (produce_cmw's CMW when its ops have produce_cmw, else produce's
 * Evidence), or an error |rc| with |reason| (copied; may be NULL). Any thread. */
ATLS_API
void atls_evidence_job_complete(atls_evidence_job *j, atls_error rc, uint8_t *out, size_t len,
                                const char *reason);

/* atls_session_evidence_done takes |j| back (freed here, whatever the result): on success the
 * authenticator is queued and sent as far as the socket allows and the next requests served;
 * a failed job fails the session as a failed synchronous production does (an ERROR frame, the
 * attester's error returned). A job from another session is refused (ATLS_ERR_USAGE_STATE).
 * Session's thread. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_session_evidence_done(atls_session *s, atls_evidence_job *j);

/* atls_evidence_job_free releases a job (NULL-safe): for a job whose session is gone. */
ATLS_API
void atls_evidence_job_free(atls_evidence_job *j);

/* atls_session_trim frees what the session holds only while bytes move: its output queue, its
 * undelivered-DATA queue and its frame reader's buffer, each when empty now, and OpenSSL's
 * record buffers (SSL_free_buffers). For a server holding many connections that are mostly
 * idle: call it once a connection has gone quiet (`atls serve` does after a second without
 * traffic); the next burst allocates them again. Session's thread. */
ATLS_API
void atls_session_trim(atls_session *s);

/* atls_session_close_step is atls_session_close for an event loop: it does what the socket
 * allows now (flush queued bytes, then close_notify, then read and drop what the peer still
 * sends) and returns 1 when the close is complete (the peer's close_notify or EOF, or an
 * error), 0 when it must be called again once the socket is ready for *events (POLLIN /
 * POLLOUT). The caller bounds the total time (atls_session_close allows 2 s). Session's
 * thread. */
ATLS_API
int atls_session_close_step(atls_session *s, short *events);

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

/* atls_ssl_ctx_configure sets what an attested connection needs on |ctx| (draft-fossati-seat-
 * expat-04 section 7.2): TLS 1.3 only, no early data; a server issues no session tickets and
 * selects ALPN "atls/1" (atls_alpn_select_cb, chained to a callback given to
 * atls_ssl_ctx_set_alpn_select_cb) and keeps each ClientHello's signature_algorithms_cert for
 * spontaneous authenticators; a client offers ALPN "atls/1" (|offer_alpn|; followed by the
 * protocols given to atls_ssl_ctx_set_alpn_protos) and discards every NewSessionTicket it
 * receives (the ticket is marked expired so OpenSSL never offers it, and its early-data
 * allowance is removed): no session it could resume is kept. Not thread-safe on one |ctx|
 * (configure it before use, as with OpenSSL's own setters). */
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

/*
 * ALPN next to the application's own protocols. OpenSSL keeps one ALPN select callback and one
 * offered list per SSL_CTX, so an application that speaks other protocols besides atls/1 (h2,
 * http/1.1) passes its own to these instead of to OpenSSL; atls keeps them (with |ctx|, freed
 * with it) and composes. They and atls_ssl_ctx_configure may be called in either order; a
 * later call replaces what an earlier one gave. Not thread-safe on one |ctx|.
 */

/* atls_ssl_ctx_set_alpn_select_cb is SSL_CTX_set_alpn_select_cb for a server that also
 * speaks atls/1: when the client offers "atls/1" it is selected; otherwise |cb| (NULL: none)
 * is called with the client's list and |arg| and its answer stands (SSL_TLSEXT_ERR_OK with a
 * protocol, NOACK, or ALERT_FATAL), exactly as if it were the only callback. After the
 * handshake atls_ssl_is_atls tells an attested connection from the application's. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ssl_ctx_set_alpn_select_cb(SSL_CTX *ctx,
                                                           SSL_CTX_alpn_select_cb_func cb,
                                                           void *arg);

/* atls_ssl_ctx_set_alpn_protos is SSL_CTX_set_alpn_protos for a client that also speaks
 * atls/1 (and returns 0, ATLS_OK, on success like it): the client offers "atls/1" first, then
 * |protos| (RFC 7301 wire form: u8-length-prefixed non-empty names; an "atls/1" among them is
 * dropped; NULL/0: atls/1 alone), so a server that does not speak atls/1 picks one of the
 * application's. ATLS_ERR_USAGE for a malformed list. |protos| is copied. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ssl_ctx_set_alpn_protos(SSL_CTX *ctx, const unsigned char *protos,
                                                        unsigned int len);

/* atls_ssl_set_alpn_protos: the same for one connection (SSL_set_alpn_protos). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_ssl_set_alpn_protos(SSL *ssl, const unsigned char *protos,
                                                    unsigned int len);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_SESSION_H */
