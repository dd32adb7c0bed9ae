/* session_appraise.c: an AUTHENTICATOR frame answering one of our requests: RFC 9261
 * validation with the session's identity checks (atls/session.h "Secure by default"), then the
 * draft-fossati-seat-expat-04 binding, then appraisal of the CMW. */
#include "tls/session/session_internal.h"

#include <atls/binding.h>

#include "base/cursor.h"
#include "base/mem.h"
#include "base/result.h"

#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>

/* find_request: the outstanding request whose context the authenticator carries. An empty
 * authenticator (RFC 9261 section 6: a lone Finished) carries no context; it can only be
 * matched by its MAC, which validation checks, so *index is set to -1 and the caller tries
 * each outstanding request. */
static atls_error find_request(atls_session *s, const uint8_t *msg, size_t len, long *index)
{
    if (len > 0 && msg[0] == ATLS_HS_FINISHED) {
        ATLS_ENSURE(s->num_pending > 0, ATLS_ERR_PROTOCOL_CONTEXT,
                    "empty authenticator while no request is outstanding");
        *index = -1;
        return ATLS_OK;
    }
    uint8_t ctx[ATLS_EA_CONTEXT_MAX_LEN];
    size_t ctx_len = 0;
    ATLS_GUARD(atls_ea_get_context(msg, len, ctx, &ctx_len));
    for (size_t i = 0; i < s->num_pending; i++) {
        size_t rlen = 0;
        const uint8_t *rctx = atls_ea_request_get0_context(s->pending[i].req, &rlen);
        if (rlen == ctx_len && memcmp(rctx, ctx, ctx_len) == 0) {
            *index = (long)i;
            return ATLS_OK;
        }
    }
    /* one of our earlier contexts (its request is answered or gone): a replay; anything else
     * answers nothing we asked. Our contexts tell which in O(1) (docs/PROTOCOL.md 2.1). */
    uint64_t seq = atls_session_context_seq(ctx, ctx_len);
    ATLS_ENSURE(!(seq > 0 && seq < s->next_seq &&
                  memcmp(ctx, s->prefix, ATLS_CTX_PREFIX_LEN) == 0),
                ATLS_ERR_PROTOCOL_REPLAY,
                "authenticator for our request %llu, which was already answered (replay)",
                (unsigned long long)seq);
    ATLS_RAISE(ATLS_ERR_PROTOCOL_CONTEXT, "authenticator answers no request of ours (unsolicited)");
}

static void drop_request(atls_session *s, size_t i)
{
    atls_ea_request_free(s->pending[i].req);
    memmove(&s->pending[i], &s->pending[i + 1],
            (s->num_pending - i - 1) * sizeof(s->pending[0]));
    s->num_pending--;
}

/* evidence_from_result: cmw_data<1..2^16-1> of the first entry's cmw_attestation. */
static atls_error evidence_from_result(const atls_session *s, const atls_ea_result *res,
                                       atls_cursor *cmw)
{
    size_t len = 0;
    const uint8_t *data = atls_ea_result_get0_extension(res, s->cfg.cmw_extension, &len);
    ATLS_ENSURE(data != NULL, ATLS_ERR_EVIDENCE,
                "the authenticator carries no cmw_attestation Evidence");
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    ATLS_ENSURE(atls_cursor_get_u16_prefixed(&c, cmw) && atls_cursor_is_empty(&c),
                ATLS_ERR_DECODE_LENGTH, "cmw_attestation: cmw_data length does not match");
    ATLS_ENSURE(!atls_cursor_is_empty(cmw), ATLS_ERR_DECODE_LENGTH,
                "cmw_attestation: empty cmw_data");
    return ATLS_OK;
}

/* record keeps |a| as the last appraisal (moves it) and, when it answers the request
 * atls_session_attest waits for, as that call's result too. */
static void record(atls_session *s, uint64_t seq, atls_appraisal *a)
{
    atls_appraisal_cleanup(&s->last);
    s->last = *a; /* moves ownership */
    memset(a, 0, sizeof(*a));
    s->have_last = 1;
    if (seq != 0 && seq == s->wait_seq) {
        atls_appraisal_cleanup(&s->wait_result);
        s->have_wait_result = atls_appraisal_copy(&s->wait_result, &s->last) == ATLS_OK;
        s->wait_done = 1;
    }
    if (s->cfg.on_appraisal != NULL) {
        s->cfg.on_appraisal(s->cfg.on_appraisal_arg, &s->last);
    }
}

atls_error atls_session_record_failure(atls_session *s, uint64_t seq, atls_error rc)
{
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    a.status = ATLS_TIER_CONTRAINDICATED;
    a.error = rc;
    snprintf(a.reason, sizeof(a.reason), "%s", atls_error_message());
    record(s, seq, &a);
    s->peer_attested = 0;
    return atls_error_raise(rc, __FILE__, __LINE__, "%s", s->last.reason);
}

/* validate: RFC 9261 section 5.2 with the session's options: context, extensions,
 * CertificateVerify, Finished, the leaf's role, chain and host name; cmw_attestation only in
 * the first entry (draft-fossati-seat-expat-04 section 3). */
static atls_error validate(atls_session *s, long found, const uint8_t *msg, size_t len,
                           size_t *index, atls_ea_result **res)
{
    const uint16_t first_only[] = {s->cfg.cmw_extension};
    atls_ea_validate_options vopts = {0};
    if (!s->cfg.insecure_skip_certificate_validation) {
        vopts.trust = s->cfg.trust;
        vopts.verify_cb = s->cfg.verify_cb;
        vopts.verify_arg = s->cfg.verify_arg;
        vopts.hostname = SSL_is_server(s->ssl) ? NULL : s->cfg.hostname;
    }
    /* the peer's role: a server must be valid for serverAuth, a client for clientAuth */
    vopts.leaf_purpose = SSL_is_server(s->ssl) ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER;
    vopts.at = s->cfg.verify_input.at;
    vopts.first_entry_only = first_only;
    vopts.num_first_entry_only = 1;
    *index = found < 0 ? 0 : (size_t)found;
    for (;;) {
        atls_error rc =
            atls_ea_validate(s->ssl, s->pending[*index].req, msg, len, s->seen, &vopts, res);
        /* an empty authenticator whose MAC fits none but a later request: try the next */
        if (found < 0 && rc == ATLS_ERR_CRYPTO_MAC && *index + 1 < s->num_pending) {
            (*index)++;
            continue;
        }
        return rc;
    }
}

/* check_tls_identity: (1) of session.h, the ID-Crisis defence: the EA leaf key is the key that
 * authenticated the TLS handshake. */
static atls_error check_tls_identity(const atls_session *s, const atls_ea_result *res)
{
    if (s->cfg.insecure_skip_tls_identity) {
        return ATLS_OK;
    }
    size_t spki_len = 0;
    const uint8_t *spki = atls_ea_result_get0_spki(res, &spki_len);
    ATLS_ENSURE(s->tls_spki != NULL && spki_len == s->tls_spki_len &&
                    memcmp(spki, s->tls_spki, spki_len) == 0,
                ATLS_ERR_PROTOCOL_BINDING,
                "the authenticator's key is not the key that authenticated the TLS handshake");
    return ATLS_OK;
}

atls_error atls_session_on_authenticator(atls_session *s, const uint8_t *msg, size_t len)
{
    long found = 0;
    atls_error rc = find_request(s, msg, len, &found);
    if (rc != ATLS_OK) {
        return atls_session_record_failure(s, 0, rc);
    }
    atls_ea_result *res = NULL;
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    size_t index = 0;
    rc = validate(s, found, msg, len, &index, &res);
    atls_ea_request *req = s->pending[index].req;
    uint64_t seq = s->pending[index].seq;
    atls_cursor cmw;
    if (rc == ATLS_OK) {
        rc = check_tls_identity(s, res);
    }
    if (rc == ATLS_OK) {
        rc = evidence_from_result(s, res, &cmw);
    }
    if (rc != ATLS_OK) {
        drop_request(s, index);
        atls_ea_result_free(res);
        return atls_session_record_failure(s, seq, rc);
    }

    /* the binding, recomputed from our own end of the connection for the peer's direction */
    size_t spki_len = 0, ctx_len = 0;
    const uint8_t *spki = atls_ea_result_get0_spki(res, &spki_len);
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    atls_binding binding;
    rc = atls_binding_compute(s->ssl, atls_binding_role_for(s->ssl, 0), ctx, ctx_len, spki,
                              spki_len, &binding);
    if (rc == ATLS_OK) {
        atls_verify_input in = s->cfg.verify_input;
        in.eventlog_state = s->eventlog_state;
        in.challenge = binding.challenge;
        rc = atls_appraise_cmw(atls_cursor_data(&cmw), atls_cursor_remaining(&cmw), &in,
                               s->cfg.policy, &a);
    }
    atls_wipe(&binding, sizeof(binding));
    if (rc == ATLS_OK && a.status != ATLS_TIER_AFFIRMING && !s->cfg.accept_warning) {
        rc = atls_error_raise(ATLS_ERR_POLICY, __FILE__, __LINE__,
                              "appraisal status is %s, not affirming%s%s",
                              atls_tier_name(a.status), a.reason[0] ? ": " : "", a.reason);
        a.error = rc;
    }
    drop_request(s, index);
    atls_ea_result_free(res);
    if (rc != ATLS_OK) {
        if (a.ear == NULL && a.num_results == 0) {
            atls_appraisal_cleanup(&a);
            return atls_session_record_failure(s, seq, rc);
        }
        char reason[ATLS_APPRAISAL_REASON_MAX];
        snprintf(reason, sizeof(reason), "%s", a.reason[0] ? a.reason : atls_error_message());
        if (a.error == ATLS_OK) {
            a.error = rc;
        }
        record(s, seq, &a);
        s->peer_attested = 0;
        ATLS_RAISE(rc, "%s", reason);
    }
    record(s, seq, &a);
    s->peer_attested = 1;
    s->appraisals++;
    return ATLS_OK;
}
