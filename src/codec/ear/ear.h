/*
 * ear.h: EAT Attestation Results (draft-ietf-rats-ear-03) built as jansson JSON objects, and
 * their signed JWT form (JWS compact serialization, RFC 7515, with ES256, RFC 7518 section 3.4).
 *
 * An EAR built here looks like (JSON names of -03, protocol-notes section 7):
 *
 *   { "eat_profile": "tag:ietf.org,2026:rats/ear#03",
 *     "iat": 1767225600,
 *     "ear_verifier_id": { "developer": "atls", "build": "<version>" },
 *     "eat_nonce": "<base64url>",                                (optional)
 *     "ear_status": "<worst submod status>",
 *     "submods": {
 *       "<name>": { "ear_status": "affirming" | "warning" | "contraindicated" | "none",
 *                   "ear_trustworthiness_vector": { "instance-identity": 2, ... },
 *                   "ear_appraisal_policy_ids": [ "..." ],       (optional)
 *                   "atls_evidence_claims": { ... },              (atls extension, optional)
 *                   "atls_failure": "<one line why>" } } }       (atls extension, iff
 *                                                                  contraindicated)
 *
 * Rules atls applies (AR4SI bands, protocol-notes 7.3):
 *   - a submod's status is the worst band among its vector's non-zero claims, where worse means
 *     a higher tier number: none (0) < affirming (2) < warning (32) < contraindicated (96), as
 *     in Veraison's EAR library; 0 means "no claim" and is left out of the vector;
 *   - a vector with no non-zero claim is left out entirely (the draft forbids an empty vector;
 *     the claim itself is optional) and gives status "none";
 *   - "atls_failure" is required exactly when the status is contraindicated (a caller that
 *     rejects evidence sets a contraindicating claim, e.g. instance-identity 99 for a failed
 *     signature check, and says why);
 *   - the top-level ear_status is the worst submod status (the draft: it may not claim more
 *     trust than the worst submodule).
 */
#ifndef ATLS_EAR_EAR_H
#define ATLS_EAR_EAR_H

#include <atls/error.h>
#include <atls/evidence.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ATLS_EAR_PROFILE "tag:ietf.org,2026:rats/ear#03"
#define ATLS_EAR_DEVELOPER "atls"
/* Ceiling on a JWT accepted by atls_ear_verify_jwt. */
#define ATLS_EAR_JWT_MAX (256u * 1024u)

/* Tiers (draft-ietf-rats-ear-03, CBOR values). */
typedef enum atls_ear_tier {
    ATLS_EAR_TIER_NONE = 0,
    ATLS_EAR_TIER_AFFIRMING = 2,
    ATLS_EAR_TIER_WARNING = 32,
    ATLS_EAR_TIER_CONTRAINDICATED = 96
} atls_ear_tier;

/* atls_ear_tier_from_value maps one trustworthiness claim value to its AR4SI band:
 * 0, 1, -1 none; 2..31 and -2..-32 affirming; 32..95 and -33..-96 warning; 96..127 and
 * -97..-128 contraindicated. */
atls_ear_tier atls_ear_tier_from_value(int8_t value);

/* atls_ear_tier_from_vector is the worst band among |tv|'s non-zero claims (none if all 0). */
atls_ear_tier atls_ear_tier_from_vector(const atls_trust_vector *tv);

/* atls_ear_tier_name returns "none", "affirming", "warning" or "contraindicated" (static). */
const char *atls_ear_tier_name(atls_ear_tier tier);

/* atls_ear_tier_from_name parses one of those names (ATLS_ERR_DECODE_VALUE otherwise). */
ATLS_MUST_CHECK atls_error atls_ear_tier_from_name(const char *name, atls_ear_tier *out);

/* atls_ear_vector_to_json returns a new JSON object with |tv|'s non-zero claims under their
 * -03 names ("instance-identity", "configuration", "executables", "file-system", "hardware",
 * "runtime-opaque", "storage-opaque", "sourced-data") in *out (caller json_decref's). */
ATLS_MUST_CHECK atls_error atls_ear_vector_to_json(const atls_trust_vector *tv, json_t **out);

/* atls_ear_new starts an EAR with no submods: profile, |iat| (seconds since the epoch),
 * verifier id {developer "atls", build |build| (NULL: ATLS_VERSION)}, and
 * eat_nonce = base64url(|nonce|) when |nonce| is not NULL (8..64 bytes). *out is a new JSON
 * object (caller json_decref's). */
ATLS_MUST_CHECK atls_error atls_ear_new(time_t iat, const char *build, const uint8_t *nonce,
                                        size_t nonce_len, json_t **out);

/* atls_ear_add_submod adds the appraisal |name| to |ear| (see the rules above) and updates
 * the top-level ear_status. |policy_ids| is a NULL-terminated list (NULL or empty: claim left
 * out); |claims| (may be NULL) is deep-copied; |failure| is a one-line reason, required iff the
 * vector is contraindicated (ATLS_ERR_USAGE otherwise). A repeated |name| is ATLS_ERR_USAGE.
 * Nothing is borrowed after the call. */
ATLS_MUST_CHECK atls_error atls_ear_add_submod(json_t *ear, const char *name,
                                               const atls_trust_vector *tv,
                                               const char *const *policy_ids,
                                               const json_t *claims, const char *failure);

/* atls_ear_to_json_string serialises |ear| with sorted keys, compact or (|pretty|) indented by
 * 2, into a malloc'd NUL-terminated string (*out, caller frees with free()). */
ATLS_MUST_CHECK atls_error atls_ear_to_json_string(const json_t *ear, bool pretty, char **out);

/* atls_ear_sign_jwt signs |ear| as a JWS compact serialization with protected header
 * {"alg":"ES256","typ":"JWT"} and a raw r || s signature (RFC 7518 section 3.4), using the
 * P-256 private key |key| (borrowed; other keys: ATLS_ERR_CRYPTO_KEY). *out is a malloc'd
 * NUL-terminated string (caller frees with free()). */
ATLS_MUST_CHECK atls_error atls_ear_sign_jwt(const json_t *ear, EVP_PKEY *key, char **out);

/* atls_ear_verify_jwt checks a JWT made by atls_ear_sign_jwt (or any ES256 EAR JWT): exactly
 * three base64url parts, header alg "ES256" (anything else, including "none", is refused with
 * ATLS_ERR_DECODE_VALUE), no "crit", typ "JWT" if present, signature by the P-256 public key
 * |key| (ATLS_ERR_CRYPTO_SIGNATURE), claims a JSON object without duplicate keys whose
 * eat_profile is ATLS_EAR_PROFILE, iat an integer and submods a non-empty object whose members
 * each carry a valid ear_status. On success *out_claims is a new reference to the claims
 * (caller json_decref's). */
ATLS_MUST_CHECK atls_error atls_ear_verify_jwt(const char *jwt, EVP_PKEY *key,
                                               json_t **out_claims);

#endif /* ATLS_EAR_EAR_H */
