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

#include <jansson.h>

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

/* The outcome of one appraisal. Zero-initialise; release with atls_appraisal_cleanup. */
typedef struct atls_appraisal {
    atls_tier status;              /* overall EAR status */
    atls_error error;              /* first failure, ATLS_OK when affirming/warning */
    char reason[ATLS_APPRAISAL_REASON_MAX]; /* one line: why not affirming ("" otherwise) */
    json_t *ear;                   /* owned: the EAR claims set */
    atls_evidence_result *results; /* owned: one per evidence part that verified */
    size_t num_results;
} atls_appraisal;

ATLS_API
void atls_appraisal_cleanup(atls_appraisal *a);

/* atls_appraisal_copy makes |dst| (cleaned up first) an independent copy of |src|. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_appraisal_copy(atls_appraisal *dst, const atls_appraisal *src);

/* atls_appraise_cmw appraises CMW-wrapped Evidence. |in| is borrowed (its challenge, when set,
 * must be matched by every part); |policy| NULL means "no policy": verified Evidence then gets
 * status warning. Always fills |out| (the EAR says what happened, also on failure, except for
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
