/* session_internal.h: the session object shared by the files of src/tls/session/. */
#ifndef ATLS_SESSION_INTERNAL_H
#define ATLS_SESSION_INTERNAL_H

#include <atls/ea.h>
#include <atls/frame.h>
#include <atls/session.h>

#include "evidence/core/plugin.h"

#include <stdint.h>

/* atls/1 contexts (docs/PROTOCOL.md 2.1): prefix || uint64 sequence number || tail */
#define ATLS_CTX_PREFIX_LEN 16
#define ATLS_CTX_SEQ_LEN 8
#define ATLS_CTX_HEAD_LEN (ATLS_CTX_PREFIX_LEN + ATLS_CTX_SEQ_LEN)
#define ATLS_CTX_TAIL_DEFAULT 16

/* one of our requests awaiting its answer */
struct outstanding {
    atls_ea_request *req;   /* owned */
    uint64_t seq;           /* its context's sequence number */
    int64_t sent_ms;        /* monotonic time the REQUEST was queued */
    int64_t stalled_at_send; /* the session's stalled_ms then */
    int64_t budget_ms;      /* how long its answer may take (answer_timeout_ms, or timeout_ms
                               for the request of atls_session_attest) */
};

/* one of the peer's requests awaiting our answer */
struct peer_request {
    atls_ea_request *req;   /* owned */
    int wants_evidence;
};

/* a simple byte queue: bytes [head, len) are pending */
struct byte_queue {
    uint8_t *buf;
    size_t head, len, cap;
};

struct atls_session {
    SSL *ssl;                          /* borrowed */
    int fd;
    atls_session_config cfg;           /* defaults filled in */
    int must_attest;                   /* the peer must attest before DATA flows */
    int appraisal_checked;             /* check_appraisal_config passed */
    atls_frame_reader reader;
    struct byte_queue out;             /* encoded frames waiting for SSL_write */
    struct byte_queue held;            /* DATA received, not yet read by the application */

    /* our requests */
    struct outstanding pending[ATLS_SESSION_MAX_OUTSTANDING];
    size_t num_pending;
    uint8_t prefix[ATLS_CTX_PREFIX_LEN]; /* random, this session's own contexts */
    uint64_t next_seq;                 /* sequence number of our next request (from 1) */
    atls_ea_context_set *seen;         /* sequenced: our contexts validated so far */
    /* atls_session_attest waits for the answer to this request */
    uint64_t wait_seq;
    int wait_done;
    atls_appraisal wait_result;
    int have_wait_result;

    /* the peer's requests (a ring of cfg.max_peer_requests) */
    struct peer_request *queue;
    size_t queue_head, queue_len;
    uint8_t peer_prefix[ATLS_CTX_PREFIX_LEN];
    int have_peer_prefix;
    uint64_t peer_last_seq;            /* highest sequence number of the peer accepted */
    int64_t tokens_milli;              /* Evidence token bucket, in 1/1000 tokens */
    int64_t tokens_at_ms;
    uint64_t evidence_produced;

    /* stall accounting for the answer deadline (not reading because the application holds up
     * delivered DATA) */
    int64_t stalled_ms;
    int64_t stalled_since;             /* 0: not stalled now */

    void *attester_conn;               /* attester->conn_new's state for this connection */
    atls_eventlog_state *eventlog_state; /* the peer's event logs received so far */
    atls_appraisal last;               /* most recent appraisal of the peer */
    int have_last;
    int peer_attested;
    uint64_t appraisals;
    int closed;                        /* no more I/O: ERROR sent/received or EOF */
    int close_stage;                   /* atls_session_close_step: 0 flushing, 1 close_notify
                                          sent (draining the peer), 2 done */
    /* evidence_async (session_async.c): the job made for the head request, not yet taken,
     * and whether one is out (made and not given back) */
    struct atls_evidence_job *job;
    int job_out;
    int eof;
    int read_wants_write;              /* the last SSL_read returned WANT_WRITE */
    int write_wants_read;              /* the last SSL_write returned WANT_READ */
    atls_error close_reason;
    uint16_t peer_error_code;          /* the code of the peer's ERROR frame, 0: none */
    uint8_t *tls_spki;                 /* the TLS peer certificate's SPKI, or NULL */
    size_t tls_spki_len;

    /* the drop-in calls (session_blocking.c, atls/ssl.h) */
    int ssl_error;                     /* SSL_ERROR_* of the last one */
    atls_error last_error;             /* its atls_error, ATLS_OK when it succeeded */
    int shutdown_sent;                 /* atls_shutdown sent our close_notify */
};

/* session_io.c */
int64_t atls_session_now_ms(void);
ATLS_MUST_CHECK atls_error atls_session_queue_frame(atls_session *s, uint8_t type,
                                                    const uint8_t *payload, size_t len);
ATLS_MUST_CHECK atls_error atls_session_fail(atls_session *s, atls_error code);
ATLS_MUST_CHECK atls_error atls_queue_push(struct byte_queue *q, const uint8_t *data, size_t len,
                                           size_t limit);
void atls_queue_consume(struct byte_queue *q, size_t n);
void atls_queue_cleanup(struct byte_queue *q);
/* atls_session_pump: one round of input processing, deadlines and output flushing. */
ATLS_MUST_CHECK atls_error atls_session_pump(atls_session *s);
/* atls_session_wants_input: the session reads from the socket on its next pump. */
int atls_session_wants_input(const atls_session *s);
/* atls_session_note_stall: update the stall accounting (called on every entry point). */
void atls_session_note_stall(atls_session *s);

/* session_new.c: creation checks */
/* atls_session_check_appraisal_config: the secure-default checks of a side that appraises its
 * peer (session.h), once. */
ATLS_MUST_CHECK atls_error atls_session_check_appraisal_config(atls_session *s);

/* session_request.c: our requests and their deadlines */
/* atls_session_check_deadlines fails the session when an answer is late. */
ATLS_MUST_CHECK atls_error atls_session_check_deadlines(atls_session *s);
/* atls_session_deadline_in_ms: ms until the earliest answer deadline, -1 if none. */
int64_t atls_session_deadline_in_ms(const atls_session *s);
/* atls_session_context_seq: the sequence number in an atls/1 context; 0 if it is not one
 * (too short). */
uint64_t atls_session_context_seq(const uint8_t *ctx, size_t len);

/* session_answer.c: the peer's requests */
ATLS_MUST_CHECK atls_error atls_session_on_request(atls_session *s, const uint8_t *msg,
                                                   size_t len);
/* atls_session_serve_requests answers queued peer requests as far as the bounds allow. */
ATLS_MUST_CHECK atls_error atls_session_serve_requests(atls_session *s);
/* atls_session_answer_in_ms: ms until a queued request can be answered, -1 if none waits
 * for time (the queue is empty or waits for the peer's appraisal). */
int64_t atls_session_answer_in_ms(const atls_session *s);
/* atls_session_answer_with: the authenticator for the head request from the attester's result
 * |ev| (owned; freed here), queued, and the request popped (evidence_async). */
ATLS_MUST_CHECK atls_error atls_session_answer_with(atls_session *s, uint8_t *ev, size_t len);

/* session_async.c */
/* atls_session_make_job: a job over |challenge| for the head request (evidence_async). */
ATLS_MUST_CHECK atls_error atls_session_make_job(atls_session *s,
                                                 const uint8_t challenge[ATLS_CHALLENGE_LEN]);
void atls_session_queue_free(atls_session *s);

/* session_appraise.c: process an AUTHENTICATOR frame answering one of our requests */
ATLS_MUST_CHECK atls_error atls_session_on_authenticator(atls_session *s, const uint8_t *msg,
                                                         size_t len);
/* atls_session_record_failure keeps an EAR-less failed appraisal of request |seq| (0: none in
 * particular) so the application sees why, and returns |rc| with that reason. */
ATLS_MUST_CHECK atls_error atls_session_record_failure(atls_session *s, uint64_t seq,
                                                       atls_error rc);

/* session_alpn.c: ALPN next to the application's protocols (for atls_ssl_ctx_configure) */
/* atls_session_alpn_install_server: the select callback for |ctx|, chained to the
 * application's when it gave one (atls_ssl_ctx_set_alpn_select_cb). */
void atls_session_alpn_install_server(SSL_CTX *ctx);
/* atls_session_alpn_install_client: offer atls/1, followed by the application's protocols when
 * it gave some (atls_ssl_ctx_set_alpn_protos). */
ATLS_MUST_CHECK atls_error atls_session_alpn_install_client(SSL_CTX *ctx);

#endif /* ATLS_SESSION_INTERNAL_H */
