/*
 * atls/binding.h: binding Evidence to this TLS connection (draft-fossati-seat-expat,
 * "Binding the evidence to the connection"; docs/PROTOCOL.md section 2.3).
 *
 *   exported_value = TLS-Exporter("Attestation", certificate_request_context, 32)
 *   binding        = H(SPKI || exported_value)
 *   AIK_pub_hash   = H(SPKI)
 *   challenge      = SHA-512(binding || AIK_pub_hash)          (atls rule, 64 bytes)
 *
 * SPKI is the DER SubjectPublicKeyInfo of the authenticator's leaf certificate and H the hash of
 * the negotiated TLS 1.3 cipher suite (SHA-256 or SHA-384). binding || AIK_pub_hash is 64 bytes
 * with SHA-256 but 96 with SHA-384, too long for the 64-byte report fields (TPM qualifyingData,
 * SNP/TDX REPORT_DATA, CCA challenge, EAT nonce), so atls always places SHA-512 of the pair:
 * one rule for every suite and every TEE. Both ends compute it from their own end of the
 * connection; nothing the peer sends enters the computation except the leaf key, which the EA
 * signature proves the peer holds.
 */
#ifndef ATLS_BINDING_H
#define ATLS_BINDING_H

#include <atls/error.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATLS_BINDING_EXPORTER_LABEL "Attestation"
#define ATLS_BINDING_EXPORTED_LEN 32
#define ATLS_BINDING_CHALLENGE_LEN 64

/* The intermediate values, for diagnostics and for tests that check each step. */
typedef struct atls_binding {
    uint8_t exported_value[ATLS_BINDING_EXPORTED_LEN];
    uint8_t binding[EVP_MAX_MD_SIZE];
    uint8_t aik_pub_hash[EVP_MAX_MD_SIZE];
    size_t hash_len;                               /* 32 or 48 */
    uint8_t challenge[ATLS_BINDING_CHALLENGE_LEN];
} atls_binding;

/* atls_binding_compute derives every value above for |ssl| (TLS 1.3, handshake complete),
 * the request's |context| and the leaf key's DER |spki|. All inputs borrowed. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_binding_compute(SSL *ssl, const uint8_t *context,
                                                size_t context_len, const uint8_t *spki,
                                                size_t spki_len, atls_binding *out);

/* atls_binding_compute_with_label is atls_binding_compute with another exporter label; it
 * exists so the attack tests can show that a label mismatch breaks the binding. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_binding_compute_with_label(SSL *ssl, const char *label,
                                                           const uint8_t *context,
                                                           size_t context_len,
                                                           const uint8_t *spki, size_t spki_len,
                                                           atls_binding *out);

/* atls_spki_der returns the DER SubjectPublicKeyInfo of |cert| in a malloc'd buffer (caller
 * frees). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_spki_der(X509 *cert, uint8_t **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_BINDING_H */
