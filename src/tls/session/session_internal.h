/* session_internal.h: the session object shared by the files of src/tls/session/. */
#ifndef ATLS_SESSION_INTERNAL_H
#define ATLS_SESSION_INTERNAL_H

#include <atls/ea.h>
#include <atls/frame.h>
#include <atls/session.h>

#include <stdint.h>

struct outstanding {
    atls_ea_request *req;   /* owned */
    int64_t sent_ms;        /* monotonic time the REQUEST was queued */
};

/* a simple byte queue: bytes [head, len) are pending */
struct byte_queue {
    uint8_t *buf;
    size_t head, len, cap;
};

struct atls_session {
    SSL *ssl;                          /* borrowed */
    int fd;
    atls_session_config cfg;
    atls_frame_reader reader;
    struct byte_queue out;             /* encoded frames waiting for SSL_write */
    struct byte_queue held;            /* DATA received, not yet read by the application */
    struct outstanding pending[ATLS_SESSION_MAX_OUTSTANDING];
    size_t num_pending;
    atls_ea_context_set *seen;         /* contexts validated on this connection */
    atls_appraisal last;               /* most recent appraisal of the peer */
    int have_last;
    int peer_attested;
    uint64_t appraisals;
    int closed;                        /* no more I/O: ERROR sent/received or EOF */
    int eof;
    atls_error close_reason;
    uint8_t *tls_spki;                 /* the TLS peer certificate's SPKI, or NULL */
    size_t tls_spki_len;
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

/* session_answer.c: answer a REQUEST frame from the peer */
ATLS_MUST_CHECK atls_error atls_session_on_request(atls_session *s, const uint8_t *msg,
                                                   size_t len);

/* session_appraise.c: process an AUTHENTICATOR frame answering one of our requests */
ATLS_MUST_CHECK atls_error atls_session_on_authenticator(atls_session *s, const uint8_t *msg,
                                                         size_t len);

#endif /* ATLS_SESSION_INTERNAL_H */
