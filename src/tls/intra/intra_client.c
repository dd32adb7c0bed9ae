/* intra_client.c: INSECURE baseline, the relying client's custom-extension callbacks and its
 * certificate-verify callback (draft-fossati-tls-attestation-08 sections 4, 6 and 8.1.1).
 *
 *   ClientHello              -> evidence_request(offered types, nonce), empty attestation_evidence
 *   EncryptedExtensions      <- selected_evidence_type, must be one we offered
 *   Certificate, first entry <- attestation_evidence: appraised here, inside the handshake, with
 *                               the challenge recomputed from our own view of it
 *   certificate verification -> RA-only: nothing but the appraisal (the throw-away certificate
 *                               names nobody); X.509: chain + host name, and the appraisal
 *
 * Alerts (the only thing the server learns): a failed appraisal is bad_certificate (42), a
 * malformed or unrequested extension decode_error (50) / unsupported_extension (110), missing
 * Evidence handshake_failure (40, OpenSSL's mapping of X509_V_ERR_APPLICATION_VERIFICATION).
 */
#include "tls/intra/intra_internal.h"

#include "base/mem.h"
#include "base/result.h"

#include <openssl/rand.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <string.h>

static uint8_t mode_kind(const intra_ctx *x)
{
    return x->cfg.mode == ATLS_INTRA_INSECURE_RA_ONLY ? ATLS_INTRA_INSECURE_KIND_ATTESTATION
                                                       : ATLS_INTRA_INSECURE_KIND_CERT_ATTESTATION;
}

int intra_client_request_add(SSL *s, unsigned int ext_type, unsigned int context,
                             const unsigned char **out, size_t *outlen, X509 *x,
                             size_t chainidx, int *al, void *arg)
{
    (void)ext_type, (void)x, (void)chainidx;
    const intra_ctx *ictx = arg;
    if (context != SSL_EXT_CLIENT_HELLO) {
        return 0;
    }
    intra_conn *c = intra_conn_ensure(s);
    if (c == NULL) {
        *al = SSL_AD_INTERNAL_ERROR;
        return -1;
    }
    if (c->nonce_len == 0) { /* a second ClientHello (after HRR) repeats the nonce */
        if (ictx->cfg.nonce != NULL) {
            memcpy(c->nonce, ictx->cfg.nonce, ictx->cfg.nonce_len);
            c->nonce_len = ictx->cfg.nonce_len;
        } else if (RAND_bytes(c->nonce, ATLS_INTRA_INSECURE_NONCE_DEFAULT) == 1) {
            c->nonce_len = ATLS_INTRA_INSECURE_NONCE_DEFAULT;
        } else {
            intra_fail(c, atls_error_raise(ATLS_ERR_CRYPTO_RANDOM, __FILE__, __LINE__,
                                           "intra: no random nonce"));
            *al = SSL_AD_INTERNAL_ERROR;
            return -1;
        }
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    atls_error rc = intra_request_encode(mode_kind(ictx), ictx->offered, c->nonce, c->nonce_len,
                                         &buf, &len);
    if (rc != ATLS_OK) {
        intra_fail(c, rc);
        *al = SSL_AD_INTERNAL_ERROR;
        return -1;
    }
    *out = buf;
    *outlen = len;
    return 1;
}

int intra_client_request_parse(SSL *s, unsigned int ext_type, unsigned int context,
                               const unsigned char *in, size_t inlen, X509 *x, size_t chainidx,
                               int *al, void *arg)
{
    (void)ext_type, (void)x, (void)chainidx;
    const intra_ctx *ictx = arg;
    intra_conn *c = intra_conn_get(s);
    if (c == NULL || context != SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS) {
        *al = SSL_AD_UNSUPPORTED_EXTENSION;
        return 0;
    }
    intra_evidence_type t;
    atls_error rc = intra_selected_decode(in, inlen, &t);
    if (rc != ATLS_OK) {
        intra_fail(c, rc);
        *al = SSL_AD_DECODE_ERROR;
        return 0;
    }
    for (size_t i = 0; ictx->offered[i] != NULL; i++) {
        if (intra_type_is(&t, mode_kind(ictx), ictx->offered[i])) {
            c->selected = 1;
            return 1;
        }
    }
    intra_fail(c, atls_error_raise(ATLS_ERR_PROTOCOL_EXTENSION, __FILE__, __LINE__,
                                   "intra (INSECURE): the server selected an evidence type we "
                                   "did not offer"));
    *al = SSL_AD_ILLEGAL_PARAMETER;
    return 0;
}

int intra_client_evidence_add(SSL *s, unsigned int ext_type, unsigned int context,
                              const unsigned char **out, size_t *outlen, X509 *x,
                              size_t chainidx, int *al, void *arg)
{
    (void)s, (void)ext_type, (void)x, (void)chainidx, (void)al, (void)arg;
    if (context != SSL_EXT_CLIENT_HELLO) {
        return 0; /* this client never attests */
    }
    /* the empty solicitation OpenSSL needs before the server may answer in its Certificate */
    *out = NULL;
    *outlen = 0;
    return 1;
}

/* appraise: the Evidence of the server's first CertificateEntry, bound as our binder says. */
static atls_error appraise(SSL *s, const intra_ctx *ictx, intra_conn *c, const uint8_t *in,
                           size_t inlen, X509 *leaf)
{
    ATLS_ENSURE(c->selected, ATLS_ERR_PROTOCOL_EXTENSION,
                "intra (INSECURE): Evidence without a selected evidence type");
    ATLS_ENSURE(c->evidence == NULL, ATLS_ERR_PROTOCOL_EXTENSION,
                "intra (INSECURE): a second attestation_evidence");
    ATLS_ENSURE(inlen > 0, ATLS_ERR_DECODE_LENGTH, "intra (INSECURE): empty attestation_evidence");
    c->evidence = atls_memdup(in, inlen);
    ATLS_ENSURE(c->evidence != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    c->evidence_len = inlen;
    ATLS_GUARD(intra_binder_inputs(s, c, leaf, ictx->cfg.binder, &c->inputs));
    c->have_inputs = 1;
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    ATLS_GUARD(atls_intra_insecure_challenge(&c->inputs, challenge));
    atls_verify_input vin = ictx->cfg.verify_input;
    vin.challenge = challenge;
    c->appraised = 1;
    atls_error rc = atls_appraise_cmw(in, inlen, &vin, ictx->cfg.policy, &c->appraisal);
    ATLS_GUARD(rc);
    ATLS_ENSURE(c->appraisal.status == ATLS_TIER_AFFIRMING || ictx->cfg.accept_warning,
                ATLS_ERR_POLICY, "intra (INSECURE): appraisal is only a warning: %s",
                c->appraisal.reason[0] != '\0' ? c->appraisal.reason : "no policy");
    c->attested = 1;
    return ATLS_OK;
}

int intra_client_evidence_parse(SSL *s, unsigned int ext_type, unsigned int context,
                                const unsigned char *in, size_t inlen, X509 *x,
                                size_t chainidx, int *al, void *arg)
{
    (void)ext_type;
    const intra_ctx *ictx = arg;
    intra_conn *c = intra_conn_get(s);
    if (c == NULL || context != SSL_EXT_TLS1_3_CERTIFICATE || chainidx != 0) {
        intra_fail(c, atls_error_raise(ATLS_ERR_PROTOCOL_EXTENSION, __FILE__, __LINE__,
                                       "intra (INSECURE): attestation_evidence outside the "
                                       "server's first CertificateEntry"));
        *al = SSL_AD_UNSUPPORTED_EXTENSION;
        return 0;
    }
    atls_error rc = appraise(s, ictx, c, in, inlen, x);
    if (rc != ATLS_OK) {
        intra_fail(c, rc);
        *al = SSL_AD_BAD_CERTIFICATE;
        return 0;
    }
    return 1;
}

int intra_client_verify(X509_STORE_CTX *store, void *arg)
{
    const intra_ctx *ictx = arg;
    SSL *s = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    intra_conn *c = intra_conn_get(s);
    if (ictx->cfg.mode == ATLS_INTRA_INSECURE_X509 && X509_verify_cert(store) != 1) {
        int err = X509_STORE_CTX_get_error(store);
        intra_fail(c, atls_error_raise(ATLS_ERR_CRYPTO_CHAIN, __FILE__, __LINE__,
                                       "intra (INSECURE): server certificate: %s",
                                       X509_verify_cert_error_string(err)));
        return 0;
    }
    /* RA-only: no chain and no name; the Evidence is the only authentication (-08 6.1) */
    if (c == NULL || !c->attested) {
        intra_fail(c, atls_error_raise(ATLS_ERR_EVIDENCE, __FILE__, __LINE__,
                                       "intra (INSECURE): the server's Certificate carries no "
                                       "Evidence"));
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
}
