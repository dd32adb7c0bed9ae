/* intra_server.c: INSECURE baseline, the attesting server's custom-extension callbacks
 * (draft-fossati-tls-attestation-08 sections 4, 6 and 8.1.2).
 *
 *   ClientHello evidence_request   -> keep the nonce, select an EvidenceType (or abort)
 *   ClientHello attestation_evidence (empty: the OpenSSL-forced solicitation) -> nothing
 *   EncryptedExtensions            <- evidence_request(selected_evidence_type)
 *   Certificate, first entry       <- attestation_evidence = CMW(Evidence over the binder)
 *
 * Alerts: -08's unsupported_evidence has no code point (TBD1), so a request with no common
 * type ends with handshake_failure (40); a malformed request with decode_error (50); an
 * attester failure with internal_error (80). The reason is kept for atls_intra_insecure_error.
 */
#include "tls/intra/intra_internal.h"

#include "base/mem.h"
#include "base/result.h"
#include "codec/cmw/cmw.h"

#include <stdlib.h>
#include <string.h>

static uint8_t mode_kind(const intra_ctx *x)
{
    return x->cfg.mode == ATLS_INTRA_INSECURE_RA_ONLY ? ATLS_INTRA_INSECURE_KIND_ATTESTATION
                                                       : ATLS_INTRA_INSECURE_KIND_CERT_ATTESTATION;
}

int intra_server_request_parse(SSL *s, unsigned int ext_type, unsigned int context,
                               const unsigned char *in, size_t inlen, X509 *x, size_t chainidx,
                               int *al, void *arg)
{
    (void)ext_type, (void)x, (void)chainidx;
    const intra_ctx *ictx = arg;
    intra_conn *c = intra_conn_ensure(s);
    if (c == NULL) {
        *al = SSL_AD_INTERNAL_ERROR;
        return 0;
    }
    if (context != SSL_EXT_CLIENT_HELLO) {
        *al = SSL_AD_UNSUPPORTED_EXTENSION;
        return 0;
    }
    intra_request req;
    atls_error rc = intra_request_decode(in, inlen, &req);
    if (rc != ATLS_OK) {
        intra_fail(c, rc);
        *al = SSL_AD_DECODE_ERROR;
        return 0;
    }
    c->nonce_len = atls_cursor_remaining(&req.nonce);
    memcpy(c->nonce, atls_cursor_data(&req.nonce), c->nonce_len);
    c->have_request = 1;
    /* -08 section 8.1.2: a single value selected from the ClientHello, else fatal */
    for (size_t i = 0; i < req.num_types; i++) {
        if (intra_type_is(&req.types[i], mode_kind(ictx), ictx->server_media_type)) {
            c->selected = 1;
            return 1;
        }
    }
    intra_fail(c, atls_error_raise(ATLS_ERR_EVIDENCE_FORMAT, __FILE__, __LINE__,
                                   "intra (INSECURE): the client offers no evidence type this "
                                   "server produces (%s, %s)", ictx->server_media_type,
                                   atls_intra_insecure_mode_name(ictx->cfg.mode)));
    *al = SSL_AD_HANDSHAKE_FAILURE;
    return 0;
}

int intra_server_request_add(SSL *s, unsigned int ext_type, unsigned int context,
                             const unsigned char **out, size_t *outlen, X509 *x,
                             size_t chainidx, int *al, void *arg)
{
    (void)ext_type, (void)x, (void)chainidx;
    const intra_ctx *ictx = arg;
    const intra_conn *c = intra_conn_get(s);
    if (context != SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS || c == NULL || !c->selected) {
        return 0;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (intra_selected_encode(mode_kind(ictx), ictx->server_media_type, &buf, &len) != ATLS_OK) {
        *al = SSL_AD_INTERNAL_ERROR;
        return -1;
    }
    *out = buf;
    *outlen = len;
    return 1;
}

int intra_server_evidence_parse(SSL *s, unsigned int ext_type, unsigned int context,
                                const unsigned char *in, size_t inlen, X509 *x,
                                size_t chainidx, int *al, void *arg)
{
    (void)ext_type, (void)x, (void)chainidx, (void)arg;
    /* only the empty solicitation in a ClientHello; never Evidence from a client */
    if (context != SSL_EXT_CLIENT_HELLO || inlen != 0) {
        intra_fail(intra_conn_ensure(s),
                   atls_error_raise(ATLS_ERR_PROTOCOL_EXTENSION, __FILE__, __LINE__,
                                    "intra (INSECURE): attestation_evidence from the client "
                                    "must be empty and only in its ClientHello"));
        *al = context == SSL_EXT_CLIENT_HELLO ? SSL_AD_ILLEGAL_PARAMETER
                                              : SSL_AD_UNSUPPORTED_EXTENSION;
        return 0;
    }
    (void)in;
    return 1;
}

/* produce: Evidence over |challenge| from the configured source, as a CMW record. */
static atls_error produce(const intra_ctx *ictx, SSL *s, const atls_intra_insecure_binder_inputs *in,
                          const uint8_t challenge[ATLS_CHALLENGE_LEN], uint8_t **cmw,
                          size_t *cmw_len)
{
    if (ictx->cfg.evidence_cb != NULL) {
        return ictx->cfg.evidence_cb(ictx->cfg.evidence_cb_arg, s, in, challenge, cmw, cmw_len);
    }
    const atls_attester_ops *ops = ictx->cfg.attester;
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    if (ictx->cfg.attester_lock != NULL) {
        atls_fair_lock_acquire(ictx->cfg.attester_lock);
    }
    atls_error rc = ops->produce(ictx->cfg.attester_state, challenge, &ev, &ev_len);
    if (ictx->cfg.attester_lock != NULL) {
        atls_fair_lock_release(ictx->cfg.attester_lock);
    }
    ATLS_GUARD(rc);
    rc = atls_cmw_encode_record(ops->media_type, ev, ev_len, ATLS_CMW_IND_EVIDENCE, cmw,
                                cmw_len);
    free(ev);
    return rc;
}

int intra_server_evidence_add(SSL *s, unsigned int ext_type, unsigned int context,
                              const unsigned char **out, size_t *outlen, X509 *x,
                              size_t chainidx, int *al, void *arg)
{
    (void)ext_type;
    const intra_ctx *ictx = arg;
    intra_conn *c = intra_conn_get(s);
    /* -08 section 6.2: Evidence in the end-entity entry only */
    if (context != SSL_EXT_TLS1_3_CERTIFICATE || chainidx != 0 || c == NULL || !c->selected) {
        return 0;
    }
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    uint8_t *cmw = NULL;
    size_t cmw_len = 0;
    atls_error rc = intra_binder_inputs(s, c, x, ictx->cfg.binder, &c->inputs);
    if (rc == ATLS_OK) {
        c->have_inputs = 1;
        rc = atls_intra_insecure_challenge(&c->inputs, challenge);
    }
    if (rc == ATLS_OK) {
        rc = produce(ictx, s, &c->inputs, challenge, &cmw, &cmw_len);
    }
    if (rc == ATLS_OK && (cmw_len == 0 || cmw_len > ATLS_INTRA_INSECURE_EVIDENCE_MAX)) {
        rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                              "intra (INSECURE): %zu bytes of Evidence do not fit a "
                              "CertificateEntry extension (1..%u)", cmw_len,
                              ATLS_INTRA_INSECURE_EVIDENCE_MAX);
    }
    if (rc == ATLS_OK) {
        free(c->evidence);
        c->evidence = atls_memdup(cmw, cmw_len);
        c->evidence_len = c->evidence != NULL ? cmw_len : 0;
        *out = cmw;
        *outlen = cmw_len;
        return 1;
    }
    free(cmw);
    intra_fail(c, rc);
    *al = SSL_AD_INTERNAL_ERROR;
    return -1;
}
