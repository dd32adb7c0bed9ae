/* cca_internal.h: functions shared between the files of src/cca (not part of the API). */
#ifndef ATLS_CCA_INTERNAL_H
#define ATLS_CCA_INTERNAL_H

#include "evidence/cca/cca.h"

#include <jansson.h>

/* atls_cca_claims builds the claims object of a verified token (*out owned by the caller):
 * {"platform": {...}, "realm": {...}, "key_id": cpak key id}, digests in lowercase hex. */
ATLS_MUST_CHECK atls_error atls_cca_claims(const atls_cca_token *t, const char *key_id,
                                           json_t **out);

/* atls_cca_lifecycle_state names the PSA security lifecycle state of |v| ("secured", ...). */
const char *atls_cca_lifecycle_state(uint64_t v);

/* The "cca" policy section (docs/EVIDENCE.md). */
ATLS_MUST_CHECK atls_error atls_cca_check_policy(const json_t *policy);
ATLS_MUST_CHECK atls_error atls_cca_appraise(const json_t *policy, const atls_evidence_result *res,
                                             atls_trust_vector *tv);
ATLS_MUST_CHECK atls_error atls_cca_policy_from_result(const atls_evidence_result *res,
                                                       json_t **out);

#endif /* ATLS_CCA_INTERNAL_H */
