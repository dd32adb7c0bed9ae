/*
 * atls/challenge.h: the domains of the 64-byte challenge an attester places in its Evidence
 * (TPM qualifyingData, SNP/TDX REPORT_DATA, CCA challenge, EAT eat_nonce; docs/PROTOCOL.md
 * section 2.3).
 *
 * Every challenge atls asks an attester to sign is SHA-512 over a domain label and the inputs
 * of that domain:
 *
 *   server Evidence on a connection   SHA-512("atls/1 server evidence" 0x00 || binding || AIK_pub_hash)
 *   client Evidence on a connection   SHA-512("atls/1 client evidence" 0x00 || binding || AIK_pub_hash)
 *   detached Evidence                 SHA-512("atls/1 detached evidence" 0x00 || caller's bytes)
 *   batched Evidence                  SHA-512("atls/1 batch evidence" 0x00 || uint64 tree size ||
 *                                             Merkle root over the batch's challenges)
 *
 * The labels end in 0x00 and differ, so no input of one domain hashes like an input of another:
 * Evidence made outside a connection (`atls evidence --challenge`, atls_attester_produce_detached)
 * can never satisfy a connection binding, a server's Evidence can never pass for its client's
 * (reflection), and Evidence over a batch's root (atls/batch.h) can never pass for Evidence over
 * one challenge. Only the session (src/tls/session) asks for the connection domains, computing
 * binding and AIK_pub_hash itself from its own end of the connection (atls/binding.h).
 *
 * Thread-safety: the functions here keep no state.
 */
#ifndef ATLS_CHALLENGE_H
#define ATLS_CHALLENGE_H

#include <atls/error.h>
#include <atls/evidence.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum atls_challenge_domain {
    ATLS_CHALLENGE_SERVER_EVIDENCE = 1, /* the TLS server attests on its connection */
    ATLS_CHALLENGE_CLIENT_EVIDENCE = 2, /* the TLS client attests on its connection */
    ATLS_CHALLENGE_DETACHED = 3,        /* Evidence made outside any connection */
    ATLS_CHALLENGE_BATCH = 4,           /* one Evidence for a batch of challenges (atls/batch.h) */
} atls_challenge_domain;

/* Domain labels (hashed with their terminating 0x00). */
#define ATLS_CHALLENGE_LABEL_SERVER "atls/1 server evidence"
#define ATLS_CHALLENGE_LABEL_CLIENT "atls/1 client evidence"
#define ATLS_CHALLENGE_LABEL_DETACHED "atls/1 detached evidence"
#define ATLS_CHALLENGE_LABEL_BATCH "atls/1 batch evidence"

/* Most bytes a caller may put into a detached challenge. */
#define ATLS_CHALLENGE_DETACHED_MAX 1024

/* atls_challenge_derive writes SHA-512(label(domain) || 0x00 || a || b) into |out|. |b| may be
 * NULL/0. Inputs borrowed. ATLS_ERR_USAGE for an unknown domain. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_challenge_derive(atls_challenge_domain domain, const uint8_t *a,
                                                 size_t a_len, const uint8_t *b, size_t b_len,
                                                 uint8_t out[ATLS_CHALLENGE_LEN]);

/* atls_challenge_detached: the detached-domain challenge for |in| (1..ATLS_CHALLENGE_DETACHED_MAX
 * bytes): what `atls evidence --challenge HEX` places, and what `atls verify --challenge HEX`
 * expects. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_challenge_detached(const uint8_t *in, size_t len,
                                                   uint8_t out[ATLS_CHALLENGE_LEN]);

/* atls_attester_produce_detached produces Evidence from |ops|/|state| over the detached
 * challenge of |in| (never over |in| itself), for uses outside a connection. *out is malloc'd
 * (caller frees). Thread-safety as the attester's produce (serialise a shared attester). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_attester_produce_detached(const atls_attester_ops *ops,
                                                          void *state, const uint8_t *in,
                                                          size_t len, uint8_t **out,
                                                          size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_CHALLENGE_H */
