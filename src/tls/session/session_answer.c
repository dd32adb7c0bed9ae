/* session_answer.c: the peer's REQUEST frames (RFC 9261 section 5 authenticator;
 * draft-fossati-seat-expat-04: Evidence in the first CertificateEntry's cmw_attestation), and
 * the bounds on the work they cause (atls/session.h "Bounded"):
 *   - context rules (docs/PROTOCOL.md 2.1): never one of our own contexts (reflection), one
 *     prefix per peer, strictly increasing sequence numbers: each context answered once;
 *   - at most max_peer_requests waiting; more is a flood;
 *   - Evidence from a token bucket (evidence_per_second, evidence_burst); requests that need
 *     Evidence wait for a token, in arrival order;
 *   - attest_after_peer_appraisal: Evidence only once the peer is attested. */
#include "tls/session/session_internal.h"

#include <atls/binding.h>

#include "base/mem.h"
#include "base/result.h"
#include "base/writer.h"
#include "codec/cmw/cmw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- producing an answer ----------------------------------------------------------------- */

/* produce: the attester over |challenge|, holding the shared attester's fair lock. */
static atls_error produce(atls_session *s, const uint8_t *challenge, uint8_t **ev, size_t *len)
{
    if (s->cfg.attester_lock != NULL) {
        atls_fair_lock_acquire(s->cfg.attester_lock);
    }
    atls_error rc = ATLS_OK;
    if (s->cfg.attester->produce_cmw != NULL) {
        /* a whole CMW (Evidence and its event logs) that fits cmw_data<1..2^16-1> */
        rc = s->cfg.attester->produce_cmw(s->cfg.attester_state, s->attester_conn, challenge,
                                          65533, ev, len);
    } else {
        rc = s->cfg.attester->produce(s->cfg.attester_state, challenge, ev, len);
    }
    if (s->cfg.attester_lock != NULL) {
        atls_fair_lock_release(s->cfg.attester_lock);
    }
    s->evidence_produced++;
    return rc;
}

/* The CMW must fit cmw_data<1..2^16-1> inside extension_data<0..2^16-1>. */
#define CMW_DATA_MAX 65533u

/* wrap_plain: a plain attester's Evidence as the record [media type, evidence, 4]; a record
 * that does not fit cmw_data fails with its size named (atls_evidence_parts_encode). */
static atls_error wrap_plain(atls_session *s, uint8_t **evidence, size_t len, const char *what,
                             uint8_t **cmw, size_t *cmw_len)
{
    atls_evidence_parts parts;
    memset(&parts, 0, sizeof(parts));
    atls_error rc = atls_evidence_parts_add_owned(&parts, NULL, s->cfg.attester->media_type,
                                                  *evidence, len, ATLS_IND_EVIDENCE);
    *evidence = NULL; /* taken over (freed on failure too) */
    if (rc == ATLS_OK) {
        rc = atls_evidence_parts_encode(&parts, CMW_DATA_MAX, what, cmw, cmw_len);
    }
    atls_evidence_parts_cleanup(&parts);
    return rc;
}

/* head_challenge: the binding challenge of request |req| (our own role: the peer verifies
 * with the same direction, atls/binding.h). */
static atls_error head_challenge(atls_session *s, const atls_ea_request *req,
                                 uint8_t challenge[ATLS_CHALLENGE_LEN])
{
    uint8_t *spki = NULL;
    size_t spki_len = 0, ctx_len = 0;
    atls_binding binding;
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    memset(&binding, 0, sizeof(binding));
    atls_error rc = atls_spki_der(s->cfg.cert, &spki, &spki_len);
    if (rc == ATLS_OK) {
        rc = atls_binding_compute(s->ssl, atls_binding_role_for(s->ssl, 1), ctx, ctx_len, spki,
                                  spki_len, &binding);
    }
    if (rc == ATLS_OK) {
        memcpy(challenge, binding.challenge, ATLS_CHALLENGE_LEN);
    }
    atls_wipe(&binding, sizeof(binding));
    free(spki);
    return rc;
}

/* cmw_extension wraps the attester's result |evidence| (owned; freed here):
 * extension_data = cmw_data<1..2^16-1> holding one CMW (atls/evidence.h): a record
 * [media type, evidence, 4] from a plain attester, the attester's own CMW (a collection of
 * Evidence, event logs, stapled Endorsements) from one with produce_cmw. */
static atls_error cmw_extension(atls_session *s, uint8_t *evidence, size_t evidence_len,
                                uint8_t **out, size_t *out_len)
{
    uint8_t *cmw = NULL;
    size_t cmw_len = 0;
    atls_error rc = ATLS_OK;
    char what[64];
    snprintf(what, sizeof(what), "attester %s: cmw_attestation", s->cfg.attester->name);
    if (s->cfg.attester->produce_cmw != NULL) {
        cmw = evidence; /* already a CMW */
        cmw_len = evidence_len;
        evidence = NULL;
    } else {
        ATLS_GUARD_GOTO(rc, done, wrap_plain(s, &evidence, evidence_len, what, &cmw, &cmw_len));
    }
    if (cmw_len == 0 || cmw_len > CMW_DATA_MAX) {
        /* an attester's own CMW is made to fit |max|: name its members when it does not */
        char members[320];
        atls_cmw_describe_members(cmw, cmw_len, members, sizeof(members));
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_ATTESTER,
                       "%s: a CMW of %zu bytes does not fit (at most %u): members %s", what,
                       cmw_len, CMW_DATA_MAX, members);
    }
    atls_writer w;
    atls_writer_init(&w, 65535);
    (void)(atls_writer_open_u16(&w) && atls_writer_add_bytes(&w, cmw, cmw_len) &&
           atls_writer_close(&w));
    rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
done:
    free(evidence);
    free(cmw);
    return rc;
}

static int can_authenticate(const atls_session *s)
{
    return s->cfg.cert != NULL && s->cfg.key != NULL;
}

/* authenticate: the authenticator for |req| with the cmw_attestation extension |ext_data|
 * (NULL: none), queued as an AUTHENTICATOR frame. */
static atls_error authenticate(atls_session *s, const atls_ea_request *req,
                               const uint8_t *ext_data, size_t ext_len)
{
    uint8_t *auth = NULL;
    size_t auth_len = 0;
    atls_ea_extension ext = {.type = s->cfg.cmw_extension, .data = ext_data, .len = ext_len};
    ATLS_GUARD(atls_ea_authenticate(s->ssl, req, s->cfg.cert, s->cfg.chain, s->cfg.key,
                                    ext_data != NULL ? &ext : NULL, ext_data != NULL ? 1 : 0,
                                    &auth, &auth_len));
    atls_error rc = atls_session_queue_frame(s, ATLS_FRAME_AUTHENTICATOR, auth, auth_len);
    free(auth);
    return rc;
}

/* answer: the authenticator for |req|, queued as an AUTHENTICATOR frame; with
 * evidence_async, a request that needs Evidence becomes a job instead (session_async.c). */
static atls_error answer(atls_session *s, const atls_ea_request *req, int wants_evidence)
{
    if (!can_authenticate(s) || (wants_evidence && s->cfg.attester == NULL)) {
        /* RFC 9261 section 6: we cannot (or will not) authenticate: authenticated refusal */
        uint8_t *auth = NULL;
        size_t auth_len = 0;
        ATLS_GUARD(atls_ea_authenticate_empty(s->ssl, req, &auth, &auth_len));
        atls_error rc = atls_session_queue_frame(s, ATLS_FRAME_AUTHENTICATOR, auth, auth_len);
        free(auth);
        return rc;
    }
    if (!wants_evidence) {
        return authenticate(s, req, NULL, 0);
    }
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    ATLS_GUARD(head_challenge(s, req, challenge));
    if (s->cfg.evidence_async) {
        atls_error rc = atls_session_make_job(s, challenge);
        atls_wipe(challenge, sizeof(challenge));
        return rc;
    }
    uint8_t *evidence = NULL, *ext_data = NULL;
    size_t evidence_len = 0, ext_len = 0;
    atls_error rc = produce(s, challenge, &evidence, &evidence_len);
    atls_wipe(challenge, sizeof(challenge));
    if (rc == ATLS_OK) {
        rc = cmw_extension(s, evidence, evidence_len, &ext_data, &ext_len);
        evidence = NULL;
    }
    if (rc == ATLS_OK) {
        rc = authenticate(s, req, ext_data, ext_len);
    }
    free(evidence);
    free(ext_data);
    return rc;
}

/* ---- the token bucket -------------------------------------------------------------------- */

static void refill(atls_session *s, int64_t now)
{
    int64_t cap = (int64_t)s->cfg.evidence_burst * 1000;
    int64_t elapsed = now - s->tokens_at_ms;
    if (elapsed > 0) {
        /* evidence_per_second tokens a second = that many milli-tokens a millisecond */
        s->tokens_milli += elapsed * s->cfg.evidence_per_second;
        if (s->tokens_milli > cap) {
            s->tokens_milli = cap;
        }
        s->tokens_at_ms = now;
    }
}

/* needs_token: the request at the head of the queue would make us produce Evidence */
static int needs_token(const atls_session *s, const struct peer_request *r)
{
    return r->wants_evidence && can_authenticate(s) && s->cfg.attester != NULL;
}

/* held_for_appraisal: expat-04 section 8.2, Evidence only for an attested peer */
static int held_for_appraisal(const atls_session *s, const struct peer_request *r)
{
    return needs_token(s, r) && s->cfg.attest_after_peer_appraisal && !s->peer_attested;
}

int64_t atls_session_answer_in_ms(const atls_session *s)
{
    if (s->queue_len == 0) {
        return -1;
    }
    const struct peer_request *r = &s->queue[s->queue_head];
    if (held_for_appraisal(s, r) || s->job_out) {
        return -1; /* waits for an event (an appraisal, its Evidence), not for time */
    }
    if (!needs_token(s, r)) {
        return 0;
    }
    int64_t now = atls_session_now_ms();
    int64_t tokens = s->tokens_milli + (now - s->tokens_at_ms) * s->cfg.evidence_per_second;
    if (tokens >= 1000) {
        return 0;
    }
    int64_t rate = s->cfg.evidence_per_second;
    return (1000 - tokens + rate - 1) / rate;
}

static void pop(atls_session *s)
{
    atls_ea_request_free(s->queue[s->queue_head].req);
    s->queue[s->queue_head].req = NULL;
    s->queue_head = (s->queue_head + 1) % (size_t)s->cfg.max_peer_requests;
    s->queue_len--;
}

atls_error atls_session_serve_requests(atls_session *s)
{
    while (s->queue_len > 0 && !s->closed && !s->job_out) {
        struct peer_request *r = &s->queue[s->queue_head];
        if (held_for_appraisal(s, r)) {
            return ATLS_OK;
        }
        if (needs_token(s, r)) {
            refill(s, atls_session_now_ms());
            if (s->tokens_milli < 1000) {
                return ATLS_OK; /* atls_session_timeout_ms says when to come back */
            }
            s->tokens_milli -= 1000;
        }
        atls_error rc = answer(s, r->req, r->wants_evidence);
        if (rc == ATLS_OK && s->job_out) {
            return ATLS_OK; /* the head waits for its Evidence (atls_session_answer_with) */
        }
        pop(s);
        ATLS_GUARD(rc);
    }
    return ATLS_OK;
}

atls_error atls_session_answer_with(atls_session *s, uint8_t *ev, size_t len)
{
    ATLS_ENSURE(s->queue_len > 0, ATLS_ERR_INTERNAL, "session: Evidence for no request");
    uint8_t *ext_data = NULL;
    size_t ext_len = 0;
    atls_error rc = cmw_extension(s, ev, len, &ext_data, &ext_len);
    if (rc == ATLS_OK) {
        rc = authenticate(s, s->queue[s->queue_head].req, ext_data, ext_len);
    }
    free(ext_data);
    pop(s);
    return rc;
}

void atls_session_queue_free(atls_session *s)
{
    while (s->queue != NULL && s->queue_len > 0) {
        pop(s);
    }
    free(s->queue);
    s->queue = NULL;
}

/* ---- receiving a request ----------------------------------------------------------------- */

/* check_context applies the atls/1 context rules to the peer's request context. */
static atls_error check_context(atls_session *s, const uint8_t *ctx, size_t len)
{
    ATLS_ENSURE(len > ATLS_CTX_HEAD_LEN, ATLS_ERR_PROTOCOL_CONTEXT,
                "atls/1: the peer's request context has %zu bytes, not prefix (16) || sequence "
                "number (8) || at least one more",
                len);
    /* a context of ours coming back: the peer mirrors our request to have us attest in its
     * place (reflection); whatever its sequence number, it is one of ours */
    ATLS_ENSURE(memcmp(ctx, s->prefix, ATLS_CTX_PREFIX_LEN) != 0, ATLS_ERR_PROTOCOL_REFLECTED,
                "the peer's request reuses one of our own contexts (sequence %llu): refused as a "
                "reflection",
                (unsigned long long)atls_session_context_seq(ctx, len));
    if (!s->have_peer_prefix) {
        memcpy(s->peer_prefix, ctx, ATLS_CTX_PREFIX_LEN);
        s->have_peer_prefix = 1;
    }
    ATLS_ENSURE(memcmp(ctx, s->peer_prefix, ATLS_CTX_PREFIX_LEN) == 0, ATLS_ERR_PROTOCOL_CONTEXT,
                "atls/1: the peer changed its context prefix");
    uint64_t seq = atls_session_context_seq(ctx, len);
    /* RFC 9261 section 5.2: one answer per context; increasing numbers keep that O(1) */
    ATLS_ENSURE(seq > s->peer_last_seq, ATLS_ERR_PROTOCOL_REPLAY,
                "the peer asked again with context sequence %llu (already at %llu): each context "
                "is answered once",
                (unsigned long long)seq, (unsigned long long)s->peer_last_seq);
    s->peer_last_seq = seq;
    return ATLS_OK;
}

atls_error atls_session_on_request(atls_session *s, const uint8_t *msg, size_t len)
{
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_parse(msg, len, &req));
    /* RFC 9261 section 3: a client asks with ClientCertificateRequest (17), a server with
     * CertificateRequest (13); anything else is the wrong direction */
    int want = SSL_is_server(s->ssl) ? ATLS_EA_CLIENT_CERTIFICATE_REQUEST
                                     : ATLS_EA_CERTIFICATE_REQUEST;
    atls_error rc = ATLS_OK;
    if (atls_ea_request_type(req) != want) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_PROTOCOL,
                       "peer sent a request of handshake type %d, expected %d",
                       atls_ea_request_type(req), want);
    }
    size_t ctx_len = 0;
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    ATLS_GUARD_GOTO(rc, fail, check_context(s, ctx, ctx_len));
    if (s->queue_len >= (size_t)s->cfg.max_peer_requests) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_PROTOCOL_FLOOD,
                       "the peer has more than %d requests awaiting an answer",
                       s->cfg.max_peer_requests);
    }
    size_t slot = (s->queue_head + s->queue_len) % (size_t)s->cfg.max_peer_requests;
    s->queue[slot].req = req;
    s->queue[slot].wants_evidence = atls_ea_request_has_extension(req, s->cfg.cmw_extension);
    s->queue_len++;
    return ATLS_OK;
fail:
    atls_ea_request_free(req);
    return rc;
}
