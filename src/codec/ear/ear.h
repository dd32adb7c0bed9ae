/*
 * ear.h: EAT Attestation Results (draft-ietf-rats-ear-04) built as jansson JSON objects, their
 * signed JWT form (JWS compact serialization, RFC 7515, with ES256, RFC 7518 section 3.4) and the
 * signing key as a JWK (RFC 7517) with its RFC 7638 thumbprint as "kid".
 *
 * An EAR built here looks like (JSON claim names of -04, draft section 3 and 3.1):
 *
 *   { "eat_profile": "tag:ietf.org,2026:rats/ear#04",
 *     "iat": 1767225600,
 *     "exp": 1767225900,                                          (iat + ATLS_EAR_LIFETIME)
 *     "ear_verifier_id": { "developer": "atls", "build": "<version>" },
 *     "eat_nonce": "<base64url>",                                (optional)
 *     "ear_status": "<worst submod status>",
 *     "submods": {
 *       "<name>": { "ear_status": "affirming" | "warning" | "contraindicated" | "none",
 *                   "ear_trustworthiness_vector": { "instance-identity": 2, ... },
 *                   "ear_appraisal_policy_ids": [ "..." ],       (optional)
 *                   "ear_attester_claims": { ... },               (the Evidence's claims)
 *                   "ear_verifier_claims": { "failure": "<one line why>" } } } }
 *                                                                  (iff contraindicated)
 *
 * -04 adds ear_attester_claims (claims with Attester authority, CBOR key 1005) and
 * ear_verifier_claims (Verifier authority, 1006) to the appraisal; -03 had neither, and atls put
 * the same content in the private claims "atls_evidence_claims" and "atls_failure". Tokens of
 * both profiles are accepted (atls_ear_verify_jwt); only -04 is produced.
 *
 * Rules atls applies (AR4SI bands, protocol-notes 7.3):
 *   - a submod's status is the worst band among its vector's non-zero claims, where worse means
 *     a higher tier number: none (0) < affirming (2) < warning (32) < contraindicated (96), as
 *     in Veraison's EAR library; 0 means "no claim" and is left out of the vector;
 *   - a vector with no non-zero claim is left out entirely (the draft forbids an empty vector;
 *     the claim itself is optional) and gives status "none"; so is an empty claims map;
 *   - the failure reason is required exactly when the status is contraindicated (a caller that
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

/* draft-ietf-rats-ear-04 section 3: the profile atls produces; -03's is still accepted */
#define ATLS_EAR_PROFILE "tag:ietf.org,2026:rats/ear#04"
#define ATLS_EAR_PROFILE_03 "tag:ietf.org,2026:rats/ear#03"
#define ATLS_EAR_DEVELOPER "atls"
/* exp - iat of the EARs atls builds: an attestation result describes the attester at iat and
 * is not to be relied on for longer than this (seconds). */
#define ATLS_EAR_LIFETIME 300
/* Ceiling on a JWT accepted by atls_ear_verify_jwt. */
#define ATLS_EAR_JWT_MAX (256u * 1024u)

/* Tiers (draft-ietf-rats-ear-04 / AR4SI, CBOR values). */
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

/* atls_ear_vector_from_json reads such an object back into *tv (absent claims 0). NULL |o|
 * gives an all-zero vector. ATLS_ERR_DECODE_VALUE for an unknown claim name or a value that is
 * not an integer in -128..127. */
ATLS_MUST_CHECK atls_error atls_ear_vector_from_json(const json_t *o, atls_trust_vector *tv);

/* atls_ear_new starts an EAR with no submods: profile, |iat| (seconds since the epoch),
 * exp = iat + ATLS_EAR_LIFETIME, verifier id {developer "atls", build |build| (NULL: ATLS_VERSION)}, and
 * eat_nonce = base64url(|nonce|) when |nonce| is not NULL (8..64 bytes). *out is a new JSON
 * object (caller json_decref's). */
ATLS_MUST_CHECK atls_error atls_ear_new(time_t iat, const char *build, const uint8_t *nonce,
                                        size_t nonce_len, json_t **out);

/* atls_ear_add_submod adds the appraisal |name| to |ear| (see the rules above) and updates
 * the top-level ear_status. |policy_ids| is a NULL-terminated list (NULL or empty: claim left
 * out); |claims| (may be NULL) is deep-copied as ear_attester_claims; |failure| is a one-line
 * reason (ear_verifier_claims.failure), required iff the vector is contraindicated
 * (ATLS_ERR_USAGE otherwise). A repeated |name| is ATLS_ERR_USAGE.
 * Nothing is borrowed after the call. */
ATLS_MUST_CHECK atls_error atls_ear_add_submod(json_t *ear, const char *name,
                                               const atls_trust_vector *tv,
                                               const char *const *policy_ids,
                                               const json_t *claims, const char *failure);

/* atls_ear_to_json_string serialises |ear| with sorted keys, compact or (|pretty|) indented by
 * 2, into a malloc'd NUL-terminated string (*out, caller frees with free()). */
ATLS_MUST_CHECK atls_error atls_ear_to_json_string(const json_t *ear, bool pretty, char **out);

/* atls_ear_sign_jwt signs |ear| as a JWS compact serialization with protected header
 * {"alg":"ES256","kid":<atls_ear_jwk_thumbprint of the key>,"typ":"JWT"} and a raw r || s
 * signature (RFC 7518 section 3.4), using the P-256 private key |key| (borrowed; other keys:
 * ATLS_ERR_CRYPTO_KEY). *out is a malloc'd NUL-terminated string (caller frees with free()). */
ATLS_MUST_CHECK atls_error atls_ear_sign_jwt(const json_t *ear, EVP_PKEY *key, char **out);

/* atls_ear_verify_jwt checks an ES256 EAR JWT (made by atls_ear_sign_jwt or anyone else): at
 * most ATLS_EAR_JWT_MAX bytes, exactly three base64url parts, header alg "ES256" (anything
 * else, including "none", is refused with ATLS_ERR_DECODE_VALUE), no "crit", typ "JWT" if
 * present, kid (if present) the thumbprint of |key| (ATLS_ERR_CRYPTO_KEY otherwise: the token
 * names another key), signature by the P-256 public key |key| (ATLS_ERR_CRYPTO_SIGNATURE), and
 * claims a JSON object without duplicate keys with: eat_profile ATLS_EAR_PROFILE or
 * ATLS_EAR_PROFILE_03, iat an integer, exp (when present; -04 section 3) an integer not before
 * iat and after |now| (0: the current time; expired: ATLS_ERR_EVIDENCE_STALE), ear_verifier_id
 * an object, submods a non-empty object whose members each carry a valid ear_status (and, for
 * -04, claims maps that are non-empty objects). On success *out_claims is a new reference to
 * the claims (caller json_decref's). Thread-safe. */
ATLS_MUST_CHECK atls_error atls_ear_verify_jwt(const char *jwt, EVP_PKEY *key, time_t now,
                                               json_t **out_claims);

/* atls_ear_jwk_thumbprint: the RFC 7638 thumbprint of |key|'s public part (a P-256 key,
 * private or public; borrowed): base64url(SHA-256({"crv":"P-256","kty":"EC","x":..,"y":..})),
 * 43 characters and a NUL in |out|. This is the kid of atls's EAR JWTs. */
#define ATLS_EAR_KID_LEN 43
ATLS_MUST_CHECK atls_error atls_ear_jwk_thumbprint(EVP_PKEY *key, char out[ATLS_EAR_KID_LEN + 1]);

/* atls_ear_jwk: |key|'s public part as a JWK (RFC 7517, RFC 7518 section 6.2) for verifiers of
 * atls's EARs: {"alg":"ES256","crv":"P-256","kid":<thumbprint>,"kty":"EC","use":"sig","x":..,
 * "y":..}. Never the private scalar. *out is a new JSON object (caller json_decref's). */
ATLS_MUST_CHECK atls_error atls_ear_jwk(EVP_PKEY *key, json_t **out);

#endif /* ATLS_EAR_EAR_H */
