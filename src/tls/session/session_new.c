/* session_new.c: creating a session, its secure defaults (atls/session.h), and freeing it. */
#include "tls/session/session_internal.h"

#include "evidence/eventlog/eventlog.h"

#include <atls/batch.h>
#include <atls/binding.h>

#include "base/mem.h"
#include "base/result.h"

#include <openssl/rand.h>
#include <openssl/x509_vfy.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static int or_default(int v, int def)
{
    return v > 0 ? v : def;
}

/* fill_defaults: every bound the caller left 0 gets its documented default. */
static void fill_defaults(atls_session_config *c)
{
    if (c->cmw_extension == 0) {
        c->cmw_extension = ATLS_EXT_CMW_ATTESTATION;
    }
    c->timeout_ms = or_default(c->timeout_ms, ATLS_SESSION_DEFAULT_TIMEOUT_MS);
    c->answer_timeout_ms = or_default(c->answer_timeout_ms, c->timeout_ms);
    c->max_peer_requests = or_default(c->max_peer_requests, ATLS_SESSION_DEFAULT_MAX_PEER_REQUESTS);
    if (c->max_peer_requests > ATLS_SESSION_MAX_PEER_REQUESTS_LIMIT) {
        c->max_peer_requests = ATLS_SESSION_MAX_PEER_REQUESTS_LIMIT;
    }
    c->evidence_per_second =
        or_default(c->evidence_per_second, ATLS_SESSION_DEFAULT_EVIDENCE_PER_SECOND);
    c->evidence_burst = or_default(c->evidence_burst, ATLS_SESSION_DEFAULT_EVIDENCE_BURST);
}

atls_error atls_session_check_appraisal_config(atls_session *s)
{
    if (s->appraisal_checked) {
        return ATLS_OK;
    }
    const atls_session_config *c = &s->cfg;
    int client = !SSL_is_server(s->ssl);
    /* left unset: what the application already verifies its TLS peer with (atls/session.h),
     * so a TLS client adopts atls without restating its trust */
    if (c->trust == NULL && c->verify_cb == NULL &&
        (SSL_get_verify_mode(s->ssl) & SSL_VERIFY_PEER) != 0) {
        s->cfg.trust = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(s->ssl));
    }
    if (client && (c->hostname == NULL || c->hostname[0] == '\0')) {
        s->cfg.hostname = X509_VERIFY_PARAM_get0_host(SSL_get0_param(s->ssl), 0);
    }
    if (!c->insecure_skip_certificate_validation) {
        /* (2): someone must decide whether the authenticator's chain is trusted */
        ATLS_ENSURE(c->trust != NULL || c->verify_cb != NULL, ATLS_ERR_USAGE_CONFIG,
                    "session: no trust store and no verify callback to validate the peer's "
                    "authenticator (set trust or verify_cb; insecure_skip_certificate_"
                    "validation turns the check off)");
        ATLS_ENSURE(!client || (c->hostname != NULL && c->hostname[0] != '\0'),
                    ATLS_ERR_USAGE_CONFIG,
                    "session: no hostname to check the server's authenticator against");
        /* (3): OpenSSL's own verification of the TLS peer certificate (no certificate: the
         * client did not authenticate in TLS, which (1) then refuses unless skipped) */
        X509 *peer = SSL_get0_peer_certificate(s->ssl);
        long vr = SSL_get_verify_result(s->ssl);
        ATLS_ENSURE(peer == NULL || vr == X509_V_OK,
                    vr == X509_V_ERR_INVALID_PURPOSE ? ATLS_ERR_CRYPTO_KEY_USAGE
                                                     : ATLS_ERR_CRYPTO_CHAIN,
                    "session: the TLS handshake's peer certificate did not verify: %s",
                    X509_verify_cert_error_string(vr));
    }
    if (!c->insecure_skip_tls_identity && s->tls_spki == NULL) {
        /* (1): the Evidence must be bound to the key the PKI vouched for in the handshake */
        X509 *peer = SSL_get0_peer_certificate(s->ssl);
        ATLS_ENSURE(peer != NULL, ATLS_ERR_PROTOCOL_SESSION,
                    "session: the peer presented no TLS certificate to bind its Evidence to");
        ATLS_GUARD(atls_spki_der(peer, &s->tls_spki, &s->tls_spki_len));
    }
    s->appraisal_checked = 1;
    return ATLS_OK;
}

atls_error atls_session_new(SSL *ssl, const atls_session_config *cfg, atls_session **out)
{
    ATLS_ENSURE(ssl != NULL && cfg != NULL && out != NULL, ATLS_ERR_USAGE,
                "session: missing argument");
    *out = NULL;
    ATLS_ENSURE(SSL_version(ssl) == TLS1_3_VERSION && SSL_is_init_finished(ssl),
                ATLS_ERR_USAGE_NOT_TLS13,
                "session: attestation needs an established TLS 1.3 connection (got %s)",
                SSL_get_version(ssl));
    ATLS_ENSURE(atls_ssl_is_atls(ssl), ATLS_ERR_PROTOCOL_SESSION,
                "session: the peer did not negotiate ALPN atls/1");
    /* draft-fossati-seat-expat-04 section 7.2: no resumption, no 0-RTT */
    ATLS_ENSURE(!SSL_session_reused(ssl), ATLS_ERR_PROTOCOL_SESSION,
                "session: a resumed TLS session cannot be attested");
    ATLS_ENSURE(SSL_get_early_data_status(ssl) != SSL_EARLY_DATA_ACCEPTED,
                ATLS_ERR_PROTOCOL_SESSION, "session: 0-RTT data is not allowed");
    int fd = SSL_get_fd(ssl);
    ATLS_ENSURE(fd >= 0, ATLS_ERR_USAGE, "session: the connection has no socket");
    /* a lock around a batcher would let one session at a time into its queue: every batch
     * would hold one challenge (the batcher is the fair queue itself, atls/batch.h) */
    ATLS_ENSURE(!(cfg->attester == atls_batcher_ops() && cfg->attester_lock != NULL),
                ATLS_ERR_USAGE_CONFIG,
                "session: a batcher serialises its attester itself; attester_lock must be NULL");

    atls_session *s = calloc(1, sizeof(*s));
    ATLS_ENSURE(s != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    s->ssl = ssl;
    s->fd = fd;
    s->cfg = *cfg;
    fill_defaults(&s->cfg);
    /* an attester without an identity of its own answers as the TLS endpoint: the peer requires
     * the authenticator's key to be the one that authenticated the handshake anyway */
    if (s->cfg.attester != NULL && s->cfg.cert == NULL && s->cfg.key == NULL) {
        s->cfg.cert = SSL_get_certificate(ssl);
        s->cfg.key = SSL_get_privatekey(ssl);
        if (s->cfg.chain == NULL && s->cfg.cert != NULL) {
            (void)SSL_get0_chain_certs(ssl, &s->cfg.chain);
        }
    }
    /* a client always requires its server to attest (expat-04 section 7.3) */
    s->must_attest = !SSL_is_server(ssl) || cfg->peer_must_attest;
    s->next_seq = 1;
    s->tokens_milli = (int64_t)s->cfg.evidence_burst * 1000;
    s->tokens_at_ms = atls_session_now_ms();
    atls_frame_reader_init(&s->reader);
    atls_error rc = ATLS_OK;
    if (RAND_bytes(s->prefix, sizeof(s->prefix)) != 1) {
        rc = atls_error_raise(ATLS_ERR_CRYPTO_RANDOM, __FILE__, __LINE__,
                              "session: RAND_bytes failed");
    }
    if (rc == ATLS_OK) {
        rc = atls_ea_context_set_new_sequenced(s->prefix, sizeof(s->prefix), &s->seen);
    }
    if (rc == ATLS_OK) {
        s->queue = calloc((size_t)s->cfg.max_peer_requests, sizeof(s->queue[0]));
        if (s->queue == NULL) {
            rc = atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__, "out of memory");
        }
    }
    if (rc == ATLS_OK && s->must_attest) {
        rc = atls_session_check_appraisal_config(s);
    }
    if (rc == ATLS_OK) {
        rc = atls_eventlog_state_new(&s->eventlog_state);
    }
    if (rc == ATLS_OK && s->cfg.attester != NULL && s->cfg.attester->conn_new != NULL) {
        rc = s->cfg.attester->conn_new(s->cfg.attester_state, &s->attester_conn);
    }
    if (rc == ATLS_OK) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
            rc = atls_error_raise(ATLS_ERR_IO, __FILE__, __LINE__,
                                  "session: cannot make the socket non-blocking: %s",
                                  strerror(errno));
        }
    }
    if (rc != ATLS_OK) {
        atls_session_free(s);
        return rc;
    }
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    *out = s;
    return ATLS_OK;
}

void atls_session_free(atls_session *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->num_pending; i++) {
        atls_ea_request_free(s->pending[i].req);
    }
    atls_session_queue_free(s);
    atls_evidence_job_free(s->job); /* made, never taken */
    atls_ea_context_set_free(s->seen);
    atls_frame_reader_cleanup(&s->reader);
    atls_queue_cleanup(&s->out);
    atls_queue_cleanup(&s->held);
    if (s->attester_conn != NULL && s->cfg.attester->conn_free != NULL) {
        s->cfg.attester->conn_free(s->attester_conn);
    }
    atls_eventlog_state_free(s->eventlog_state);
    atls_appraisal_cleanup(&s->last);
    atls_appraisal_cleanup(&s->wait_result);
    free(s->tls_spki);
    free(s);
}

size_t atls_session_memory(const atls_session *s)
{
    return sizeof(*s) + atls_ea_context_set_memory(s->seen) +
           (size_t)s->cfg.max_peer_requests * sizeof(s->queue[0]) + s->out.cap + s->held.cap +
           s->tls_spki_len;
}
