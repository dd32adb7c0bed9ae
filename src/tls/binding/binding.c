/* binding.c: connection binding of Evidence (atls/binding.h; draft-fossati-seat-expat-04
 * section 5). */
#include <atls/binding.h>

#include "base/mem.h"
#include "base/result.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

atls_error atls_spki_der(X509 *cert, uint8_t **out, size_t *out_len)
{
    ATLS_ENSURE(cert != NULL, ATLS_ERR_USAGE, "binding: no certificate");
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    ATLS_ENSURE(n > 0, ATLS_ERR_CRYPTO, "binding: cannot encode the certificate's public key");
    *out = atls_memdup(der, (size_t)n);
    OPENSSL_free(der);
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    *out_len = (size_t)n;
    return ATLS_OK;
}

atls_binding_role atls_binding_role_for(SSL *ssl, int local_attests)
{
    int server_attests = local_attests ? SSL_is_server(ssl) : !SSL_is_server(ssl);
    return server_attests ? ATLS_BINDING_SERVER_ATTESTS : ATLS_BINDING_CLIENT_ATTESTS;
}

static atls_error digest(const EVP_MD *md, const uint8_t *a, size_t a_len, const uint8_t *b,
                         size_t b_len, uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ATLS_ENSURE(ctx != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    int ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, a_len) == 1 &&
             (b_len == 0 || EVP_DigestUpdate(ctx, b, b_len) == 1) &&
             EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    ATLS_ENSURE(ok, ATLS_ERR_CRYPTO, "binding: digest failed");
    return ATLS_OK;
}

atls_error atls_binding_from_exported(const EVP_MD *md, atls_binding_role role,
                                      const uint8_t exported[ATLS_BINDING_EXPORTED_LEN],
                                      const uint8_t *spki, size_t spki_len, atls_binding *out)
{
    ATLS_ENSURE(md != NULL && exported != NULL && spki != NULL && spki_len > 0 && out != NULL,
                ATLS_ERR_USAGE, "binding: missing hash, exported value or public key");
    ATLS_ENSURE(role == ATLS_BINDING_SERVER_ATTESTS || role == ATLS_BINDING_CLIENT_ATTESTS,
                ATLS_ERR_USAGE, "binding: unknown role %d", (int)role);
    int size = EVP_MD_get_size(md);
    ATLS_ENSURE(size == 32 || size == 48, ATLS_ERR_USAGE_UNSUPPORTED,
                "binding: a TLS 1.3 suite hash is SHA-256 or SHA-384");
    uint8_t ev[ATLS_BINDING_EXPORTED_LEN];
    memcpy(ev, exported, sizeof(ev)); /* |exported| may alias out->exported_value */
    memset(out, 0, sizeof(*out));
    out->role = role;
    out->hash_len = (size_t)size;
    memcpy(out->exported_value, ev, sizeof(ev));
    atls_wipe(ev, sizeof(ev));
    /* expat-04 section 5.1 */
    ATLS_GUARD(digest(md, spki, spki_len, out->exported_value, sizeof(out->exported_value),
                      out->binding));
    /* expat-04 section 5.2 */
    ATLS_GUARD(digest(md, spki, spki_len, NULL, 0, out->aik_pub_hash));
    /* atls: both folded into one 64-byte value, separated by direction */
    return atls_challenge_derive((atls_challenge_domain)role, out->binding, out->hash_len,
                                 out->aik_pub_hash, out->hash_len, out->challenge);
}

atls_error atls_binding_compute_with_label(SSL *ssl, const char *label, atls_binding_role role,
                                           const uint8_t *context, size_t context_len,
                                           const uint8_t *spki, size_t spki_len,
                                           atls_binding *out)
{
    ATLS_ENSURE(ssl != NULL && label != NULL && spki != NULL && spki_len > 0, ATLS_ERR_USAGE,
                "binding: missing connection, label or public key");
    ATLS_ENSURE(SSL_version(ssl) == TLS1_3_VERSION && SSL_is_init_finished(ssl),
                ATLS_ERR_USAGE_NOT_TLS13,
                "binding: attestation needs an established TLS 1.3 connection");
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    const EVP_MD *md = cipher != NULL ? SSL_CIPHER_get_handshake_digest(cipher) : NULL;
    ATLS_ENSURE(md != NULL, ATLS_ERR_USAGE_NOT_TLS13, "binding: no negotiated cipher suite");
    uint8_t exported[ATLS_BINDING_EXPORTED_LEN];
    /* RFC 8446 section 7.5 exporter with the request's context as context_value */
    ATLS_GUARD_OSSL(SSL_export_keying_material(ssl, exported, sizeof(exported), label,
                                               strlen(label), context, context_len, 1),
                    ATLS_ERR_CRYPTO, "binding: TLS exporter failed");
    atls_error rc = atls_binding_from_exported(md, role, exported, spki, spki_len, out);
    atls_wipe(exported, sizeof(exported));
    return rc;
}

atls_error atls_binding_compute(SSL *ssl, atls_binding_role role, const uint8_t *context,
                                size_t context_len, const uint8_t *spki, size_t spki_len,
                                atls_binding *out)
{
    return atls_binding_compute_with_label(ssl, ATLS_BINDING_EXPORTER_LABEL, role, context,
                                           context_len, spki, spki_len, out);
}
