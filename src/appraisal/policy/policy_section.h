/* policy_section.h: a policy's per-verifier sections as JSON, for the appraisal and the
 * verifier plug-ins (private: the public atls/policy.h exposes no JSON type). */
#ifndef ATLS_APPRAISAL_POLICY_SECTION_H
#define ATLS_APPRAISAL_POLICY_SECTION_H

#include <atls/policy.h>

#include <jansson.h>

/* atls_policy_get0_section: the section for verifier |name| (borrowed, lives as long as
 * |policy|), NULL if absent. */
const json_t *atls_policy_get0_section(const atls_policy *policy, const char *name);

#endif /* ATLS_APPRAISAL_POLICY_SECTION_H */
