/*
 * tcg_hash.h: the TCG hash algorithm identifiers (TPM 2.0 Part 2 section 6.3, TPM_ALG_ID) that
 * PCR banks, event logs and RTMRs use, with their names, sizes and OpenSSL digests. One table
 * for the tpm2 verifier and the event log parsers.
 */
#ifndef ATLS_EVIDENCE_TCG_HASH_H
#define ATLS_EVIDENCE_TCG_HASH_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define ATLS_TCG_ALG_SHA1 0x0004u
#define ATLS_TCG_ALG_SHA256 0x000Bu
#define ATLS_TCG_ALG_SHA384 0x000Cu
#define ATLS_TCG_ALG_SHA512 0x000Du
#define ATLS_TCG_MAX_DIGEST 64 /* SHA-512 */

/* atls_tcg_hash_size: the digest size of |alg|, 0 if atls does not know it. */
size_t atls_tcg_hash_size(uint16_t alg);

/* atls_tcg_hash_name: "sha1", "sha256", "sha384", "sha512", or NULL (static). */
const char *atls_tcg_hash_name(uint16_t alg);

/* atls_tcg_hash_by_name: the reverse of atls_tcg_hash_name; 0 if unknown. */
uint16_t atls_tcg_hash_by_name(const char *name);

/* atls_tcg_hash_md: OpenSSL's digest for |alg| (static), NULL if unknown. Thread-safe. */
const EVP_MD *atls_tcg_hash_md(uint16_t alg);

#endif /* ATLS_EVIDENCE_TCG_HASH_H */
