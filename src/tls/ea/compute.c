/* compute.c: the connection-free computations of RFC 9261 sections 5.2.2 (CertificateVerify),
 * 5.2.3 (Finished) and 6 (empty authenticator). Pure functions of their inputs, so the
 * known-answer tests drive them with fixed exporter values. */
#include "tls/ea/ea_internal.h"

#include "base/mem.h"
#include "base/result.h"
#include "base/writer.h"

#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define SIG_PREFIX_SPACES 64
static const char sig_context[] = "Exported Authenticator"; /* RFC 9261 section 5.2.2 */

/* transcript_hash: Hash(a || b || c || d) over up to four parts (NULL parts skipped). */
static atls_error transcript_hash(const EVP_MD *md, const uint8_t *const parts[4],
                                  const size_t lens[4], uint8_t *out)
{
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    atls_error rc = ATLS_OK;
    ATLS_ENSURE(h != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestInit_ex(h, md, NULL), ATLS_ERR_CRYPTO,
                         "EA: hash init failed");
    for (size_t i = 0; i < 4; i++) {
        if (parts[i] != NULL && lens[i] > 0) {
            ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestUpdate(h, parts[i], lens[i]),
                                 ATLS_ERR_CRYPTO, "EA: hash update failed");
        }
    }
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestFinal_ex(h, out, NULL), ATLS_ERR_CRYPTO,
                         "EA: hash final failed");
done:
    EVP_MD_CTX_free(h);
    return rc;
}

atls_error atls_ea_signature_input(const atls_ea_secrets *s, const uint8_t *req, size_t req_len,
                                   const uint8_t *cert, size_t cert_len, uint8_t *out,
                                   size_t *out_len)
{
    const uint8_t *parts[4] = {s->hc, req, cert, NULL};
    const size_t lens[4] = {s->hash_len, req_len, cert_len, 0};
    size_t off = 0;
    memset(out, 0x20, SIG_PREFIX_SPACES);
    off += SIG_PREFIX_SPACES;
    memcpy(out + off, sig_context, sizeof(sig_context)); /* includes the 0x00 separator */
    off += sizeof(sig_context);
    ATLS_GUARD(transcript_hash(s->md, parts, lens, out + off));
    *out_len = off + s->hash_len;
    return ATLS_OK;
}

atls_error atls_ea_finished_mac(const atls_ea_secrets *s, const uint8_t *req, size_t req_len,
                                const uint8_t *cert, size_t cert_len, const uint8_t *cv,
                                size_t cv_len, uint8_t *out)
{
    uint8_t h[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    const uint8_t *parts[4] = {s->hc, req, cert, cv};
    const size_t lens[4] = {s->hash_len, req_len, cert_len, cv_len};
    ATLS_GUARD(transcript_hash(s->md, parts, lens, h));
    /* RFC 9261 section 5.2.3: verify_data = HMAC(Finished MAC Key, Hash(...)) */
    ATLS_ENSURE(HMAC(s->md, s->fk, (int)s->hash_len, h, s->hash_len, out, &mac_len) != NULL &&
                    mac_len == s->hash_len,
                ATLS_ERR_CRYPTO, "EA Finished: HMAC failed");
    return ATLS_OK;
}

atls_error atls_ea_compute(const atls_ea_secrets *s, const uint8_t *req, size_t req_len,
                           const uint8_t *cert_msg, size_t cert_len, EVP_PKEY *key,
                           uint16_t scheme, uint8_t **out, size_t *out_len)
{
    uint8_t tbs[SIG_PREFIX_SPACES + sizeof(sig_context) + EVP_MAX_MD_SIZE];
    size_t tbs_len = 0;
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    uint8_t mac[EVP_MAX_MD_SIZE];
    atls_writer w;
    atls_error rc;

    *out = NULL;
    *out_len = 0;
    ATLS_GUARD(atls_ea_signature_input(s, req, req_len, cert_msg, cert_len, tbs, &tbs_len));
    ATLS_GUARD(atls_ea_sign(key, scheme, tbs, tbs_len, &sig, &sig_len));

    atls_writer_init(&w, ATLS_EA_MAX_MESSAGE);
    bool ok = atls_writer_add_bytes(&w, cert_msg, cert_len);
    size_t cv_start = atls_writer_len(&w);
    /* CertificateVerify (RFC 8446 section 4.4.3): algorithm, signature<0..2^16-1> */
    ok = ok && atls_writer_add_u8(&w, ATLS_HS_CERTIFICATE_VERIFY) && atls_writer_open_u24(&w) &&
         atls_writer_add_u16(&w, scheme) && atls_writer_open_u16(&w) &&
         atls_writer_add_bytes(&w, sig, sig_len) && atls_writer_close(&w) &&
         atls_writer_close(&w);
    free(sig);
    if (!ok) {
        rc = atls_writer_status(&w);
        goto done;
    }
    ATLS_GUARD_GOTO(rc, done,
                    atls_ea_finished_mac(s, req, req_len, cert_msg, cert_len,
                                         atls_writer_data(&w) + cv_start,
                                         atls_writer_len(&w) - cv_start, mac));
    /* Finished (RFC 8446 section 4.4.4): verify_data[Hash.length], no length prefix */
    ok = atls_writer_add_u8(&w, ATLS_HS_FINISHED) && atls_writer_add_u24(&w, (uint32_t)s->hash_len) &&
         atls_writer_add_bytes(&w, mac, s->hash_len);
    (void)ok;
    rc = atls_writer_finish(&w, out, out_len);
done:
    atls_wipe(mac, sizeof(mac));
    atls_writer_cleanup(&w);
    return rc;
}

atls_error atls_ea_compute_empty(const atls_ea_secrets *s, const uint8_t *req, size_t req_len,
                                 const uint8_t *ctx, size_t ctx_len, uint8_t **out,
                                 size_t *out_len)
{
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    uint8_t mac[EVP_MAX_MD_SIZE];
    atls_writer w;
    *out = NULL;
    *out_len = 0;
    /* RFC 9261 section 6: the MAC covers a Certificate with the request's context and an
     * empty certificate_list, and no CertificateVerify */
    ATLS_GUARD(atls_ea_encode_certificate(ctx, ctx_len, NULL, NULL, NULL, 0, &cert, &cert_len));
    atls_error rc = atls_ea_finished_mac(s, req, req_len, cert, cert_len, NULL, 0, mac);
    free(cert);
    ATLS_GUARD(rc);
    atls_writer_init(&w, ATLS_EA_MAX_MESSAGE);
    bool ok = atls_writer_add_u8(&w, ATLS_HS_FINISHED) &&
              atls_writer_add_u24(&w, (uint32_t)s->hash_len) &&
              atls_writer_add_bytes(&w, mac, s->hash_len);
    (void)ok;
    rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    atls_wipe(mac, sizeof(mac));
    return rc;
}
