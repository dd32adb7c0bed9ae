/* session_answer.c: answering the peer's REQUEST frame (RFC 9261 section 5 authenticator;
 * draft-fossati-seat-expat: Evidence in the first CertificateEntry's cmw_attestation). */
#include "tls/session/session_internal.h"

#include <atls/binding.h>

#include "base/mem.h"
#include "base/result.h"
#include "base/writer.h"
#include "codec/cmw/cmw.h"

#include <stdlib.h>

/* build_cmw_extension produces Evidence over the binding challenge and wraps it:
 * extension_data = cmw_data<1..2^16-1> holding a CMW record [media type, evidence, 4]. */
static atls_error build_cmw_extension(atls_session *s, const atls_ea_request *req,
                                      uint8_t **out, size_t *out_len)
{
    uint8_t *spki = NULL, *evidence = NULL, *cmw = NULL;
    size_t spki_len = 0, evidence_len = 0, cmw_len = 0;
    atls_binding binding;
    atls_error rc;
    size_t ctx_len = 0;
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);

    ATLS_GUARD_GOTO(rc, done, atls_spki_der(s->cfg.cert, &spki, &spki_len));
    ATLS_GUARD_GOTO(rc, done, atls_binding_compute(s->ssl, atls_binding_role_for(s->ssl, 1),
                                                   ctx, ctx_len, spki, spki_len, &binding));
    if (s->cfg.attester_lock != NULL) {
        pthread_mutex_lock(s->cfg.attester_lock);
    }
    rc = s->cfg.attester->produce(s->cfg.attester_state, binding.challenge, &evidence,
                                  &evidence_len);
    if (s->cfg.attester_lock != NULL) {
        pthread_mutex_unlock(s->cfg.attester_lock);
    }
    if (rc != ATLS_OK) {
        goto done;
    }
    ATLS_GUARD_GOTO(rc, done, atls_cmw_encode_record(s->cfg.attester->media_type, evidence,
                                                     evidence_len, ATLS_CMW_IND_EVIDENCE, &cmw,
                                                     &cmw_len));
    /* the CMW must fit cmw_data<1..2^16-1> inside extension_data<0..2^16-1> */
    if (cmw_len == 0 || cmw_len > 65533) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_EVIDENCE_ATTESTER,
                       "attester %s: Evidence of %zu bytes does not fit cmw_attestation",
                       s->cfg.attester->name, cmw_len);
    }
    atls_writer w;
    atls_writer_init(&w, 65535);
    (void)(atls_writer_open_u16(&w) && atls_writer_add_bytes(&w, cmw, cmw_len) &&
           atls_writer_close(&w));
    rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
done:
    atls_wipe(&binding, sizeof(binding));
    free(spki);
    free(evidence);
    free(cmw);
    return rc;
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
    uint8_t *auth = NULL, *ext_data = NULL;
    size_t auth_len = 0, ext_len = 0;
    if (atls_ea_request_type(req) != want) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_PROTOCOL,
                       "peer sent a request of handshake type %d, expected %d",
                       atls_ea_request_type(req), want);
    }
    int wants_evidence = atls_ea_request_has_extension(req, s->cfg.cmw_extension);
    if (s->cfg.cert == NULL || s->cfg.key == NULL ||
        (wants_evidence && s->cfg.attester == NULL)) {
        /* RFC 9261 section 6: we cannot (or will not) authenticate: authenticated refusal */
        ATLS_GUARD_GOTO(rc, done, atls_ea_authenticate_empty(s->ssl, req, &auth, &auth_len));
    } else {
        atls_ea_extension ext = {0};
        size_t num_ext = 0;
        if (wants_evidence) {
            ATLS_GUARD_GOTO(rc, done, build_cmw_extension(s, req, &ext_data, &ext_len));
            ext.type = s->cfg.cmw_extension;
            ext.data = ext_data;
            ext.len = ext_len;
            num_ext = 1;
        }
        ATLS_GUARD_GOTO(rc, done, atls_ea_authenticate(s->ssl, req, s->cfg.cert, s->cfg.chain,
                                                       s->cfg.key, num_ext ? &ext : NULL,
                                                       num_ext, &auth, &auth_len));
    }
    rc = atls_session_queue_frame(s, ATLS_FRAME_AUTHENTICATOR, auth, auth_len);
done:
    atls_ea_request_free(req);
    free(auth);
    free(ext_data);
    return rc;
}
