/* session_request.c: our requests for Evidence: their atls/1 contexts (docs/PROTOCOL.md 2.1),
 * their answer deadlines, and the blocking atls_session_attest. */
#include "tls/session/session_internal.h"

#include "base/mem.h"
#include "base/result.h"

#include <openssl/rand.h>

#include <errno.h>
#include <poll.h>
#include <string.h>

uint64_t atls_session_context_seq(const uint8_t *ctx, size_t len)
{
    if (len < ATLS_CTX_HEAD_LEN) {
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < ATLS_CTX_SEQ_LEN; i++) {
        v = v << 8 | ctx[ATLS_CTX_PREFIX_LEN + i];
    }
    return v;
}

/* make_context: prefix || seq (big-endian) || (nonce or 16 random bytes). The prefix makes the
 * context ours (a peer request carrying it is a reflection), the sequence number makes it
 * unique on this connection in O(1), the tail makes it unpredictable (RFC 9261 section 4). */
static atls_error make_context(atls_session *s, const uint8_t *nonce, size_t nonce_len,
                               uint8_t *out, size_t *out_len)
{
    memcpy(out, s->prefix, ATLS_CTX_PREFIX_LEN);
    for (size_t i = 0; i < ATLS_CTX_SEQ_LEN; i++) {
        out[ATLS_CTX_PREFIX_LEN + i] = (uint8_t)(s->next_seq >> (8 * (ATLS_CTX_SEQ_LEN - 1 - i)));
    }
    if (nonce != NULL) {
        memcpy(out + ATLS_CTX_HEAD_LEN, nonce, nonce_len);
        *out_len = ATLS_CTX_HEAD_LEN + nonce_len;
        return ATLS_OK;
    }
    ATLS_GUARD_OSSL(RAND_bytes(out + ATLS_CTX_HEAD_LEN, ATLS_CTX_TAIL_DEFAULT),
                    ATLS_ERR_CRYPTO_RANDOM, "session: RAND_bytes failed");
    *out_len = ATLS_CTX_HEAD_LEN + ATLS_CTX_TAIL_DEFAULT;
    return ATLS_OK;
}

atls_error atls_session_request(atls_session *s, const uint8_t *nonce, size_t nonce_len)
{
    ATLS_ENSURE(!s->closed, ATLS_ERR_USAGE_STATE, "session: closed");
    ATLS_ENSURE(nonce == NULL || (nonce_len >= 1 && nonce_len <= ATLS_SESSION_MAX_NONCE),
                ATLS_ERR_USAGE, "session: a nonce is 1..%d bytes (got %zu)",
                ATLS_SESSION_MAX_NONCE, nonce_len);
    ATLS_ENSURE(s->num_pending < ATLS_SESSION_MAX_OUTSTANDING, ATLS_ERR_USAGE_STATE,
                "session: %d requests already await an answer", ATLS_SESSION_MAX_OUTSTANDING);
    /* a side that need not see its peer attest still appraises only with identity checks */
    ATLS_GUARD(atls_session_check_appraisal_config(s));
    uint8_t ctx[ATLS_EA_CONTEXT_MAX_LEN];
    size_t ctx_len = 0;
    ATLS_GUARD(make_context(s, nonce, nonce_len, ctx, &ctx_len));
    /* draft-fossati-seat-expat-04 section 3.1: an empty cmw_attestation extension */
    atls_ea_extension ext = {.type = s->cfg.cmw_extension, .data = NULL, .len = 0};
    atls_ea_request_options opts = {0};
    opts.context = ctx;
    opts.context_len = ctx_len;
    opts.extensions = &ext;
    opts.num_extensions = 1;
    int type = SSL_is_server(s->ssl) ? ATLS_EA_CERTIFICATE_REQUEST
                                     : ATLS_EA_CLIENT_CERTIFICATE_REQUEST;
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_new(s->ssl, type, &opts, &req));
    size_t len = 0;
    const uint8_t *bytes = atls_ea_request_get0_bytes(req, &len);
    atls_error rc = atls_session_queue_frame(s, ATLS_FRAME_REQUEST, bytes, len);
    if (rc != ATLS_OK) {
        atls_ea_request_free(req);
        return rc;
    }
    atls_session_note_stall(s);
    struct outstanding *o = &s->pending[s->num_pending++];
    o->req = req;
    o->seq = s->next_seq++;
    o->sent_ms = atls_session_now_ms();
    o->stalled_at_send = s->stalled_ms + (s->stalled_since != 0 ? o->sent_ms - s->stalled_since : 0);
    o->budget_ms = s->cfg.answer_timeout_ms;
    return atls_session_flush(s);
}

/* ---- deadlines --------------------------------------------------------------------------- */

static int64_t stall_cap_ms(const struct outstanding *o)
{
    int64_t cap = 10 * o->budget_ms;
    return cap > 30000 ? cap : 30000;
}

static int64_t stalled_now(const atls_session *s, int64_t now)
{
    return s->stalled_ms + (s->stalled_since != 0 ? now - s->stalled_since : 0);
}

/* left_ms: how long request |o| may still wait: answer_timeout_ms of time the session could
 * read, within the hard cap. */
static int64_t left_ms(const atls_session *s, const struct outstanding *o, int64_t now)
{
    int64_t age = now - o->sent_ms;
    int64_t reading = age - (stalled_now(s, now) - o->stalled_at_send);
    int64_t by_reading = o->budget_ms - reading;
    int64_t by_cap = stall_cap_ms(o) - age;
    /* while stalled the reading budget does not shrink: only the cap bounds the wait */
    if (s->stalled_since != 0) {
        return by_cap;
    }
    return by_reading < by_cap ? by_reading : by_cap;
}

int64_t atls_session_deadline_in_ms(const atls_session *s)
{
    int64_t now = atls_session_now_ms(), best = -1;
    for (size_t i = 0; i < s->num_pending; i++) {
        int64_t l = left_ms(s, &s->pending[i], now);
        l = l < 0 ? 0 : l;
        if (best < 0 || l < best) {
            best = l;
        }
    }
    return best;
}

atls_error atls_session_check_deadlines(atls_session *s)
{
    int64_t now = atls_session_now_ms();
    for (size_t i = 0; i < s->num_pending; i++) {
        if (left_ms(s, &s->pending[i], now) <= 0) {
            int64_t age = now - s->pending[i].sent_ms, budget = s->pending[i].budget_ms;
            uint64_t seq = s->pending[i].seq;
            (void)atls_error_raise(ATLS_ERR_IO_TIMEOUT, __FILE__, __LINE__,
                                   "no answer to our attestation request within %lld ms%s",
                                   (long long)budget, age > budget + 1000 ? " of reading" : "");
            atls_error rc = atls_session_record_failure(s, seq, ATLS_ERR_IO_TIMEOUT);
            return atls_session_fail(s, rc);
        }
    }
    return ATLS_OK;
}

/* ---- attest -------------------------------------------------------------------------------- */

static int still_pending(const atls_session *s, uint64_t seq)
{
    for (size_t i = 0; i < s->num_pending; i++) {
        if (s->pending[i].seq == seq) {
            return 1;
        }
    }
    return 0;
}

static atls_error finish_attest(atls_session *s, atls_appraisal *out, atls_error rc)
{
    if (out != NULL && s->have_wait_result) {
        atls_error crc = atls_appraisal_copy(out, &s->wait_result);
        if (rc == ATLS_OK) {
            rc = crc;
        }
    }
    s->wait_seq = 0;
    return rc;
}

atls_error atls_session_attest(atls_session *s, atls_appraisal *out)
{
    ATLS_GUARD(atls_session_request(s, NULL, 0));
    /* this call waits up to timeout_ms: so long may its request's answer take */
    struct outstanding *mine = &s->pending[s->num_pending - 1];
    if (mine->budget_ms < s->cfg.timeout_ms) {
        mine->budget_ms = s->cfg.timeout_ms;
    }
    uint64_t seq = mine->seq;
    s->wait_seq = seq;
    s->wait_done = 0;
    atls_appraisal_cleanup(&s->wait_result);
    s->have_wait_result = 0;
    int64_t deadline = atls_session_now_ms() + s->cfg.timeout_ms;
    /* wait until the request we just sent is answered (answers to earlier ones may come first) */
    while (!s->wait_done && still_pending(s, seq)) {
        int64_t left = deadline - atls_session_now_ms();
        if (left <= 0) {
            (void)atls_error_raise(ATLS_ERR_IO_TIMEOUT, __FILE__, __LINE__,
                                   "session: no attestation answer within %d ms",
                                   s->cfg.timeout_ms);
            return finish_attest(s, out, ATLS_ERR_IO_TIMEOUT);
        }
        /* held DATA does not count as input here: this call does not consume it */
        if (SSL_pending(s->ssl) == 0 && !atls_frame_reader_has_frame(&s->reader)) {
            if (!atls_session_wants_input(s)) {
                (void)atls_error_raise(ATLS_ERR_USAGE_STATE, __FILE__, __LINE__,
                                       "session: the answer is queued behind data the "
                                       "application has not read");
                return finish_attest(s, out, ATLS_ERR_USAGE_STATE);
            }
            int wait = (int)(left > 1000 ? 1000 : left);
            int t = atls_session_timeout_ms(s);
            if (t >= 0 && t < wait) {
                wait = t;
            }
            struct pollfd p = {.fd = s->fd, .events = atls_session_poll_events(s)};
            int r = poll(&p, 1, wait);
            if (r < 0 && errno != EINTR) {
                (void)atls_error_raise(ATLS_ERR_IO, __FILE__, __LINE__, "poll failed: %s",
                                       strerror(errno));
                return finish_attest(s, out, ATLS_ERR_IO);
            }
        }
        atls_error rc = atls_session_pump(s);
        if (rc != ATLS_OK) {
            return finish_attest(s, out, rc);
        }
        if (s->eof && still_pending(s, seq)) {
            s->closed = 1;
            s->peer_attested = 0;
            (void)atls_error_raise(ATLS_ERR_IO_CLOSED, __FILE__, __LINE__,
                                   "session: the peer closed before answering");
            return finish_attest(s, out, ATLS_ERR_IO_CLOSED);
        }
    }
    const atls_appraisal *a = s->have_wait_result ? &s->wait_result : NULL;
    atls_error rc = ATLS_OK;
    if (a == NULL || a->error != ATLS_OK || !s->peer_attested) {
        rc = a != NULL && a->error != ATLS_OK ? a->error : ATLS_ERR_POLICY;
        (void)atls_error_raise(rc, __FILE__, __LINE__, "%s",
                               a != NULL ? a->reason : "the request was not appraised");
    }
    return finish_attest(s, out, rc);
}
