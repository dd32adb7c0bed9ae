/*
 * atls/appraisal.h: from a CMW to an EAR. The pipeline used both on the wire (by a session
 * appraising its peer) and offline (atls verify):
 *
 *   CMW (record or collection)  →  verifier per media type (atls/evidence.h): parse, signatures,
 *   chains, challenge  →  appraisal policy (atls/policy.h)  →  EAR (draft-ietf-rats-ear-04).
 */
#ifndef ATLS_APPRAISAL_H
#define ATLS_APPRAISAL_H

#include <atls/error.h>
#include <atls/evidence.h>
#include <atls/policy.h>

#include <openssl/evp.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* EAR tiers (draft-ietf-rats-ear-04; AR4SI). */
typedef enum atls_tier {
    ATLS_TIER_NONE = 0,
    ATLS_TIER_AFFIRMING = 2,
    ATLS_TIER_WARNING = 32,
    ATLS_TIER_CONTRAINDICATED = 96
} atls_tier;

/* atls_tier_name: "none", "affirming", "warning", "contraindicated". */
ATLS_API
const char *atls_tier_name(atls_tier tier);

#define ATLS_APPRAISAL_REASON_MAX 512

/* The library's own parts of an appraisal (opaque: read them with the functions below). */
typedef struct atls_appraisal_ear atls_appraisal_ear;
typedef struct atls_evidence_result atls_evidence_result;

/* The outcome of one appraisal. Zero-initialise; release with atls_appraisal_cleanup. The
 * first three fields are for the application to read; the rest belong to the library. */
typedef struct atls_appraisal {
    atls_tier status;              /* overall EAR status */
    atls_error error;              /* first failure, ATLS_OK when affirming/warning */
    char reason[ATLS_APPRAISAL_REASON_MAX]; /* one line: why not affirming ("" otherwise) */
    atls_appraisal_ear *ear;       /* owned: the EAR claims set (NULL: none was made) */
    atls_evidence_result *results; /* owned: one per evidence part that verified */
    size_t num_results;            /* how many parts verified */
} atls_appraisal;

ATLS_API
void atls_appraisal_cleanup(atls_appraisal *a);

/* atls_appraisal_copy makes |dst| (cleaned up first) an independent copy of |src|. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_appraisal_copy(atls_appraisal *dst, const atls_appraisal *src);

/*
 * Reading an appraisal. Every function takes a borrowed appraisal (made by atls_appraise_*,
 * atls_appraisal_copy, or handed over by a session) and may be called from any thread that may
 * read it. The EAR (draft-ietf-rats-ear-04 section 3) has one "submod" per piece of Evidence,
 * numbered 0 .. atls_appraisal_submod_count() - 1 in the EAR's order; returned strings are
 * borrowed from the appraisal (valid until it is cleaned up) unless said otherwise.
 */

/* atls_appraisal_ear_json: the EAR claims set as JSON text (sorted keys; |pretty|: indented
 * by 2, else compact) in a malloc'd NUL-terminated string (*out, caller frees with free()).
 * ATLS_ERR_USAGE_STATE when the appraisal has no EAR (it failed before any was made). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_appraisal_ear_json(const atls_appraisal *a, int pretty,
                                                   char **out);

/* atls_appraisal_ear_jwt: the EAR signed as a JWT (JWS compact serialization, ES256, header
 * kid = the RFC 7638 thumbprint of |key|) with the P-256 private key |key| (borrowed), in a
 * malloc'd string (*out, caller frees with free()). ATLS_ERR_CRYPTO_KEY for another key type;
 * ATLS_ERR_USAGE_STATE without an EAR. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_appraisal_ear_jwt(const atls_appraisal *a, EVP_PKEY *key,
                                                  char **out);

/* atls_appraisal_policy_id: the id of the policy that appraised the Evidence (the EAR's
 * ear_appraisal_policy_ids, atls_policy_id of the policy), NULL when none did. */
ATLS_API
const char *atls_appraisal_policy_id(const atls_appraisal *a);

/* atls_appraisal_submod_count: how many submods the EAR has (0 without an EAR). */
ATLS_API
size_t atls_appraisal_submod_count(const atls_appraisal *a);

/* atls_appraisal_submod_name: submod |i|'s name (the verifier's: "tpm2", "sim", ...; or
 * "cmw" / "cmw-part-N" for a CMW that could not be taken apart), NULL when out of range. */
ATLS_API
const char *atls_appraisal_submod_name(const atls_appraisal *a, size_t i);

/* atls_appraisal_submod_status: submod |i|'s ear_status (ATLS_TIER_NONE when out of
 * range). */
ATLS_API
atls_tier atls_appraisal_submod_status(const atls_appraisal *a, size_t i);

/* atls_appraisal_trust_vector: submod |i|'s trustworthiness vector into *out (claims it does
 * not make are 0). ATLS_ERR_USAGE when |i| is out of range. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_appraisal_trust_vector(const atls_appraisal *a, size_t i,
                                                       atls_trust_vector *out);

/* atls_appraisal_submod_failure: why submod |i| is contraindicated (its
 * ear_verifier_claims.failure), NULL when it is not. */
ATLS_API
const char *atls_appraisal_submod_failure(const atls_appraisal *a, size_t i);

/* atls_appraisal_claims_json: the claims of submod |i|'s Evidence (ear_attester_claims: what
 * the verifier read from it, digests as lowercase hex) as compact JSON text with sorted keys
 * in a malloc'd string (*out, caller frees with free()). ATLS_ERR_USAGE when |i| is out of
 * range or the submod carries no claims (its Evidence did not verify). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_appraisal_claims_json(const atls_appraisal *a, size_t i,
                                                      char **out);

/* atls_appraisal_key_id: the attestation key of submod |i|'s Evidence, as a policy pins it
 * (lowercase hex SHA-256 of its DER SubjectPublicKeyInfo; 64 characters), NULL when its
 * Evidence did not verify. */
ATLS_API
const char *atls_appraisal_key_id(const atls_appraisal *a, size_t i);

/* atls_appraisal_is_simulated: 1 when submod |i| appraised the software attester's Evidence
 * (never real attestation), else 0. */
ATLS_API
int atls_appraisal_is_simulated(const atls_appraisal *a, size_t i);

/* atls_appraise_cmw appraises CMW-wrapped Evidence: a record, or a collection whose every
 * Evidence record is appraised (each its own EAR submod; all must pass) and whose Endorsement
 * records (stapled collateral, atls/evidence.h ATLS_MEDIA_*) are added to |in| for them; stale
 * stapled collateral fails with ATLS_ERR_EVIDENCE_COLLATERAL_STALE (docs/EVIDENCE.md, "Stapled
 * collateral"). |in| is borrowed (its challenge, when set, must be matched by every part);
 * |policy| NULL means "no policy": verified Evidence then gets status warning. Always fills |out| (the EAR says what happened, also on failure, except for
 * usage errors). Returns ATLS_OK when the status is affirming or warning (out->status tells
 * which: a warning is verified but not fully appraised, e.g. no policy, or a TCB the policy
 * tolerates); otherwise the first failure's code (decode / evidence / policy category). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_appraise_cmw(const uint8_t *cmw, size_t len,
                                             const atls_verify_input *in,
                                             const atls_policy *policy, atls_appraisal *out);

/* atls_appraise_evidence is atls_appraise_cmw for bare Evidence of a known verifier (offline
 * verification of a file that is not wrapped in a CMW). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_appraise_evidence(const atls_verifier_ops *ops,
                                                  const uint8_t *evidence, size_t len,
                                                  const atls_verify_input *in,
                                                  const atls_policy *policy,
                                                  atls_appraisal *out);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_APPRAISAL_H */
