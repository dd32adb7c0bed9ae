/*
 * atls/binding.h: binding Evidence to this TLS connection, this request and this direction
 * (draft-fossati-seat-expat-04 section 5; docs/PROTOCOL.md section 2.3).
 *
 *   exported_value = TLS-Exporter("EXPORTER-cmw-attestation", certificate_request_context, 32)
 *   binding        = H(SPKI || exported_value)                         expat-04 section 5.1
 *   AIK_pub_hash   = H(SPKI)                                           expat-04 section 5.2
 *   challenge      = SHA-512(role label || 0x00 || binding || AIK_pub_hash)     (atls mapping)
 *
 * SPKI is the DER SubjectPublicKeyInfo of the authenticator's leaf certificate and H the hash of
 * the negotiated TLS 1.3 cipher suite (SHA-256 or SHA-384). The draft places binding and
 * AIK_pub_hash in the Evidence; binding || AIK_pub_hash is 64 bytes with SHA-256 but 96 with
 * SHA-384, too long for the 64-byte report fields (TPM qualifyingData, SNP/TDX REPORT_DATA, CCA
 * challenge, EAT nonce), so atls folds both into one 64-byte challenge. The role label
 * (atls/challenge.h: "atls/1 server evidence" or "atls/1 client evidence") makes the value
 * differ by direction: Evidence a client made for a context can never pass for its server's
 * on the same connection and key (reflection in mutual attestation). Both ends compute it from
 * their own end of the connection; nothing the peer sends enters the computation except the
 * leaf key, which the EA signature proves the peer holds.
 *
 * Thread-safety: no state; |ssl| is only read (SSL_export_keying_material).
 */
#ifndef ATLS_BINDING_H
#define ATLS_BINDING_H

#include <atls/challenge.h>
#include <atls/error.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* expat-04 section 5.1, registered by its section 9.2: the one exporter label atls uses. */
#define ATLS_BINDING_EXPORTER_LABEL "EXPORTER-cmw-attestation"
#define ATLS_BINDING_EXPORTED_LEN 32
#define ATLS_BINDING_CHALLENGE_LEN 64

/* Who attests: the direction of the Evidence (the challenge domain of atls/challenge.h). */
typedef enum atls_binding_role {
    ATLS_BINDING_SERVER_ATTESTS = ATLS_CHALLENGE_SERVER_EVIDENCE,
    ATLS_BINDING_CLIENT_ATTESTS = ATLS_CHALLENGE_CLIENT_EVIDENCE,
} atls_binding_role;

/* The intermediate values, for diagnostics, interoperability vectors (docs/vectors/) and tests
 * that check each step. */
typedef struct atls_binding {
    atls_binding_role role;
    uint8_t exported_value[ATLS_BINDING_EXPORTED_LEN];
    uint8_t binding[EVP_MAX_MD_SIZE];
    uint8_t aik_pub_hash[EVP_MAX_MD_SIZE];
    size_t hash_len;                               /* 32 or 48 */
    uint8_t challenge[ATLS_BINDING_CHALLENGE_LEN];
} atls_binding;

/* atls_binding_role_for: the role of Evidence made by the local side of |ssl| (|local_attests|
 * 1) or by its peer (0). */
ATLS_API
atls_binding_role atls_binding_role_for(SSL *ssl, int local_attests);

/* atls_binding_compute derives every value above for |ssl| (TLS 1.3, handshake complete),
 * |role|, the request's |context| and the leaf key's DER |spki|. All inputs borrowed. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_binding_compute(SSL *ssl, atls_binding_role role,
                                                const uint8_t *context, size_t context_len,
                                                const uint8_t *spki, size_t spki_len,
                                                atls_binding *out);

/* atls_binding_compute_with_label is atls_binding_compute with another exporter label; it
 * exists so the attack tests can show that a label mismatch breaks the binding. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_binding_compute_with_label(SSL *ssl, const char *label,
                                                           atls_binding_role role,
                                                           const uint8_t *context,
                                                           size_t context_len,
                                                           const uint8_t *spki, size_t spki_len,
                                                           atls_binding *out);

/* atls_binding_from_exported: the pure computation after the exporter, for a suite hash |md|
 * (EVP_sha256() or EVP_sha384()) and an exported value computed elsewhere (the vectors of
 * docs/vectors/binding.json). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_binding_from_exported(const EVP_MD *md, atls_binding_role role,
                                                      const uint8_t exported[ATLS_BINDING_EXPORTED_LEN],
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
