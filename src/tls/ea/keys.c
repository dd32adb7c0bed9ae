/* keys.c: the exporter-derived values of RFC 9261 section 5.1. */
#include "tls/ea/ea_internal.h"

#include "base/mem.h"
#include "base/result.h"

#include <string.h>

atls_error atls_ea_check_tls13(SSL *ssl)
{
    ATLS_ENSURE(ssl != NULL, ATLS_ERR_USAGE, "EA: NULL connection");
    /* atls supports RFC 9261 over TLS 1.3 only (the TLS 1.2 variant needs RFC 7627). */
    ATLS_ENSURE(SSL_version(ssl) == TLS1_3_VERSION, ATLS_ERR_USAGE_NOT_TLS13,
                "EA: connection is %s, not TLSv1.3", SSL_get_version(ssl));
    ATLS_ENSURE(SSL_is_init_finished(ssl), ATLS_ERR_USAGE_NOT_TLS13,
                "EA: the TLS handshake is not finished");
    return ATLS_OK;
}

void atls_ea_secrets_wipe(atls_ea_secrets *s)
{
    atls_wipe(s, sizeof(*s));
}

/* RFC 9261 section 5.1: labels are chosen by the sender of the authenticator. */
static const char *const hc_label[2] = {
    "EXPORTER-server authenticator handshake context",
    "EXPORTER-client authenticator handshake context",
};
static const char *const fk_label[2] = {
    "EXPORTER-server authenticator finished key",
    "EXPORTER-client authenticator finished key",
};

atls_error atls_ea_derive_secrets(SSL *ssl, int sender_is_client, atls_ea_secrets *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_GUARD(atls_ea_check_tls13(ssl));
    const SSL_CIPHER *suite = SSL_get_current_cipher(ssl);
    ATLS_ENSURE(suite != NULL, ATLS_ERR_USAGE_NOT_TLS13, "EA: no negotiated cipher suite");
    out->md = SSL_CIPHER_get_handshake_digest(suite);
    ATLS_ENSURE(out->md != NULL, ATLS_ERR_CRYPTO, "EA: suite %s has no handshake digest",
                SSL_CIPHER_get_name(suite));
    int n = EVP_MD_get_size(out->md);
    ATLS_ENSURE(n > 0 && n <= EVP_MAX_MD_SIZE, ATLS_ERR_CRYPTO, "EA: bad digest size %d", n);
    out->hash_len = (size_t)n;
    int i = sender_is_client ? 1 : 0;
    /* RFC 8446 section 7.5: TLS-Exporter(label, "", Hash.length); in TLS 1.3 an absent and an
     * empty context give the same value. */
    ATLS_GUARD_OSSL(SSL_export_keying_material(ssl, out->hc, out->hash_len, hc_label[i],
                                               strlen(hc_label[i]), NULL, 0, 0),
                    ATLS_ERR_CRYPTO, "EA: exporter (handshake context) failed");
    if (SSL_export_keying_material(ssl, out->fk, out->hash_len, fk_label[i],
                                   strlen(fk_label[i]), NULL, 0, 0) != 1) {
        atls_ea_secrets_wipe(out);
        return atls_error_raise_ossl(ATLS_ERR_CRYPTO, __FILE__, __LINE__,
                                     "EA: exporter (finished key) failed");
    }
    return ATLS_OK;
}
