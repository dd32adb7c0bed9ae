/* intra_binder.c: INSECURE baseline, what each binder of the Intra-handshake.fail table puts
 * into the Evidence, computed by each end from its own view of the handshake
 * (docs/INTRA-BASELINE.md section 3).
 *
 * The TLS 1.3 key schedule pieces (RFC 8446 sections 7.1 and 7.5) are computed here by hand
 * because OpenSSL exposes none of them during the handshake: SSL_export_keying_material fails
 * before the server Finished, SSL_export_keying_material_early works only with 0-RTT, and the
 * Handshake Secret is never exposed at all. */
#include "tls/intra/intra_internal.h"

#include <atls/binding.h>

#include "base/result.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdlib.h>
#include <string.h>

#define CHALLENGE_LABEL "atls intra-handshake INSECURE baseline"
#define BINDER_LABEL "attestation-binder" /* -06 section "Channel binding", -08 6.2.1 */

static atls_error hkdf(const EVP_MD *md, int mode, const uint8_t *key, size_t key_len,
                       const uint8_t *salt, size_t salt_len, const uint8_t *info,
                       size_t info_len, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    ATLS_ENSURE(kctx != NULL, ATLS_ERR_CRYPTO, "intra: HKDF is not available");
    OSSL_PARAM params[6], *p = params;
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md),
                                            0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
    if (salt != NULL) {
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    }
    if (info != NULL) {
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    }
    *p = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(kctx, out, out_len, params);
    EVP_KDF_CTX_free(kctx);
    ATLS_GUARD_OSSL(ok, ATLS_ERR_CRYPTO, "intra: HKDF failed");
    return ATLS_OK;
}

atls_error intra_hkdf_extract(const EVP_MD *md, const uint8_t *salt, size_t salt_len,
                              const uint8_t *ikm, size_t ikm_len, uint8_t *out, size_t *out_len)
{
    size_t n = (size_t)EVP_MD_get_size(md);
    ATLS_GUARD(hkdf(md, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, ikm, ikm_len, salt, salt_len, NULL, 0,
                    out, n));
    *out_len = n;
    return ATLS_OK;
}

/* RFC 8446 section 7.1: HkdfLabel = uint16 length || opaque label<7..255> ("tls13 " ||
 * Label) || opaque context<0..255>. */
atls_error intra_hkdf_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len,
                                   const char *label, const uint8_t *context, size_t context_len,
                                   uint8_t *out, size_t out_len)
{
    size_t label_len = strlen(label);
    ATLS_ENSURE(6 + label_len <= 255 && context_len <= 255 && out_len <= 0xFFFF, ATLS_ERR_USAGE,
                "intra: HKDF-Expand-Label argument too long");
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(6 + label_len);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = (uint8_t)context_len;
    if (context_len > 0) {
        memcpy(info + n, context, context_len);
        n += context_len;
    }
    return hkdf(md, EVP_KDF_HKDF_MODE_EXPAND_ONLY, secret, secret_len, NULL, 0, info, n, out,
                out_len);
}

static atls_error hash(const EVP_MD *md, const uint8_t *data, size_t len, uint8_t *out,
                       size_t *out_len)
{
    unsigned int n = 0;
    ATLS_GUARD_OSSL(EVP_Digest(data, len, out, &n, md, NULL), ATLS_ERR_CRYPTO,
                    "intra: digest failed");
    *out_len = n;
    return ATLS_OK;
}

/* TLS-Exporter(label, context, L) = HKDF-Expand-Label(Derive-Secret(secret, label, ""),
 * "exporter", Hash(context), L) (RFC 8446 section 7.5). */
atls_error intra_tls13_export(const EVP_MD *md, const uint8_t *secret, size_t secret_len,
                              const char *label, const uint8_t *context, size_t context_len,
                              uint8_t *out, size_t out_len)
{
    uint8_t empty_hash[EVP_MAX_MD_SIZE], ctx_hash[EVP_MAX_MD_SIZE], derived[EVP_MAX_MD_SIZE];
    size_t hlen = 0, clen = 0;
    ATLS_GUARD(hash(md, NULL, 0, empty_hash, &hlen));
    ATLS_GUARD(hash(md, context, context_len, ctx_hash, &clen));
    ATLS_GUARD(intra_hkdf_expand_label(md, secret, secret_len, label, empty_hash, hlen, derived,
                                       hlen));
    atls_error rc = intra_hkdf_expand_label(md, derived, hlen, "exporter", ctx_hash, clen, out,
                                            out_len);
    OPENSSL_cleanse(derived, sizeof(derived));
    return rc;
}

/* Without a PSK the early secret is HKDF-Extract(0, 0), a constant, so the early exporter is a
 * public function of the ClientHello: anyone who sees the ClientHello can compute it. */
atls_error intra_early_export(const EVP_MD *md, const uint8_t *client_hello,
                              size_t client_hello_len, const char *label, uint8_t *out,
                              size_t out_len)
{
    uint8_t zeros[EVP_MAX_MD_SIZE] = {0}, es[EVP_MAX_MD_SIZE], ems[EVP_MAX_MD_SIZE];
    uint8_t ch_hash[EVP_MAX_MD_SIZE];
    size_t hlen = (size_t)EVP_MD_get_size(md), es_len = 0, ch_len = 0;
    ATLS_GUARD(intra_hkdf_extract(md, zeros, hlen, zeros, hlen, es, &es_len));
    ATLS_GUARD(hash(md, client_hello, client_hello_len, ch_hash, &ch_len));
    /* early_exporter_master_secret = Derive-Secret(es, "e exp master", ClientHello) */
    ATLS_GUARD(intra_hkdf_expand_label(md, es, es_len, "e exp master", ch_hash, ch_len, ems,
                                       hlen));
    return intra_tls13_export(md, ems, hlen, label, NULL, 0, out, out_len);
}

static int binder_uses_nonce(atls_intra_insecure_binder b)
{
    return b == ATLS_INTRA_INSECURE_BINDER_NONCE || b == ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0 ||
           b == ATLS_INTRA_INSECURE_BINDER_NONCE_KEY ||
           b == ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0_KEY ||
           b == ATLS_INTRA_INSECURE_BINDER_HANDSHAKE;
}

static int binder_uses_exp0(atls_intra_insecure_binder b)
{
    return b == ATLS_INTRA_INSECURE_BINDER_EXP0 || b == ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0 ||
           b == ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0_KEY;
}

static int binder_uses_key(atls_intra_insecure_binder b)
{
    return b == ATLS_INTRA_INSECURE_BINDER_KEY || b == ATLS_INTRA_INSECURE_BINDER_NONCE_KEY ||
           b == ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0_KEY ||
           b == ATLS_INTRA_INSECURE_BINDER_HANDSHAKE;
}

atls_error intra_binder_inputs(SSL *ssl, const intra_conn *c, X509 *cert,
                               atls_intra_insecure_binder binder,
                               atls_intra_insecure_binder_inputs *out)
{
    memset(out, 0, sizeof(*out));
    out->binder = binder;
    ATLS_ENSURE(SSL_get_client_random(ssl, out->client_random, sizeof(out->client_random)) ==
                    sizeof(out->client_random),
                ATLS_ERR_INTERNAL, "intra: no client random");
    memcpy(out->nonce, c->nonce, c->nonce_len);
    out->nonce_len = c->nonce_len;
    ATLS_ENSURE(!binder_uses_nonce(binder) || c->nonce_len > 0, ATLS_ERR_PROTOCOL,
                "intra: binder %s needs the evidence_request nonce",
                atls_intra_insecure_binder_name(binder));

    const SSL_CIPHER *cipher = SSL_get_pending_cipher(ssl);
    if (cipher == NULL) {
        cipher = SSL_get_current_cipher(ssl);
    }
    const EVP_MD *md = cipher != NULL ? SSL_CIPHER_get_handshake_digest(cipher) : NULL;
    ATLS_ENSURE(md != NULL, ATLS_ERR_USAGE_NOT_TLS13, "intra: no negotiated TLS 1.3 suite yet");

    if (c->client_hello != NULL) {
        ATLS_GUARD(intra_early_export(md, c->client_hello, c->client_hello_len, BINDER_LABEL,
                                      out->exp0, sizeof(out->exp0)));
    } else {
        ATLS_ENSURE(!binder_uses_exp0(binder), ATLS_ERR_INTERNAL,
                    "intra: the ClientHello was not captured (early exporter)");
    }
    if (cert != NULL) {
        uint8_t *spki = NULL;
        size_t spki_len = 0, n = 0;
        ATLS_GUARD(atls_spki_der(cert, &spki, &spki_len));
        atls_error rc = hash(EVP_sha256(), spki, spki_len, out->key_hash, &n);
        free(spki);
        ATLS_GUARD(rc);
    } else {
        ATLS_ENSURE(!binder_uses_key(binder), ATLS_ERR_INTERNAL, "intra: no leaf certificate");
    }
    if (c->shts_len > 0) {
        /* substitute for -08 6.2.1 TLS-Handshake-Exporter(label, nonce, 32): the same exporter
         * construction over the server handshake traffic secret, which OpenSSL's key log gives
         * both ends before the Certificate (the Handshake Secret itself is unreachable) */
        ATLS_GUARD(intra_tls13_export(md, c->shts, c->shts_len, BINDER_LABEL, c->nonce,
                                      c->nonce_len, out->hs_binder, sizeof(out->hs_binder)));
    } else {
        ATLS_ENSURE(binder != ATLS_INTRA_INSECURE_BINDER_HANDSHAKE, ATLS_ERR_INTERNAL,
                    "intra: the server handshake traffic secret was not logged");
    }
    return ATLS_OK;
}

static int add_input(EVP_MD_CTX *h, const uint8_t *p, size_t len)
{
    uint8_t n = (uint8_t)len;
    return EVP_DigestUpdate(h, &n, 1) == 1 && EVP_DigestUpdate(h, p, len) == 1;
}

atls_error atls_intra_insecure_challenge(const atls_intra_insecure_binder_inputs *in,
                                         uint8_t out[ATLS_CHALLENGE_LEN])
{
    ATLS_ENSURE(in != NULL && atls_intra_insecure_binder_name(in->binder) != NULL,
                ATLS_ERR_USAGE, "intra: unknown binder");
    ATLS_ENSURE(in->nonce_len <= ATLS_INTRA_INSECURE_NONCE_MAX, ATLS_ERR_USAGE,
                "intra: nonce too long");
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    ATLS_ENSURE(h != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    uint8_t binder = (uint8_t)in->binder;
    int ok = EVP_DigestInit_ex(h, EVP_sha512(), NULL) == 1 &&
             EVP_DigestUpdate(h, CHALLENGE_LABEL, sizeof(CHALLENGE_LABEL)) == 1 && /* with 0x00 */
             EVP_DigestUpdate(h, &binder, 1) == 1;
    atls_intra_insecure_binder b = in->binder;
    if (b == ATLS_INTRA_INSECURE_BINDER_CR) {
        ok = ok && add_input(h, in->client_random, sizeof(in->client_random));
    }
    if (binder_uses_nonce(b)) {
        ok = ok && add_input(h, in->nonce, in->nonce_len);
    }
    if (binder_uses_exp0(b)) {
        ok = ok && add_input(h, in->exp0, sizeof(in->exp0));
    }
    if (b == ATLS_INTRA_INSECURE_BINDER_HANDSHAKE) {
        ok = ok && add_input(h, in->hs_binder, sizeof(in->hs_binder));
    }
    if (binder_uses_key(b)) {
        ok = ok && add_input(h, in->key_hash, sizeof(in->key_hash));
    }
    ok = ok && EVP_DigestFinal_ex(h, out, NULL) == 1;
    EVP_MD_CTX_free(h);
    ATLS_ENSURE(ok, ATLS_ERR_CRYPTO, "intra: challenge digest failed");
    return ATLS_OK;
}
