/*
 * atls/policy.h: the appraisal policy (docs/POLICY.md).
 *
 * A JSON document:
 *   {
 *     "version": 1,
 *     "max_age_seconds": 300,            optional: refuse Evidence older than this (when the
 *                                        Evidence carries a time, e.g. the sim EAT's iat)
 *     "<verifier name>": { ... }         one section per evidence type that may be accepted
 *   }
 * Each section's keys belong to its verifier (docs/POLICY.md lists them). Unknown keys
 * are errors everywhere; duplicate keys are errors. Evidence of a type the policy has no
 * section for is contraindicated: accepting anything must be written out explicitly.
 */
#ifndef ATLS_POLICY_H
#define ATLS_POLICY_H

#include <atls/error.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATLS_POLICY_VERSION 1
#define ATLS_POLICY_MAX_FILE (1024u * 1024u)

typedef struct atls_policy atls_policy;

/* atls_policy_parse parses and checks a policy document; |origin| names it in errors (e.g. a
 * file name). *out is the caller's (atls_policy_free). ATLS_ERR_POLICY_INVALID on any problem,
 * with a detail naming the key. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_policy_parse(const char *text, size_t len, const char *origin,
                                             atls_policy **out);

/* atls_policy_load reads |path| (at most ATLS_POLICY_MAX_FILE bytes) and parses it. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_policy_load(const char *path, atls_policy **out);

ATLS_API
void atls_policy_free(atls_policy *policy);

/* atls_policy_max_age: max_age_seconds, or 0 when not set. */
ATLS_API
int64_t atls_policy_max_age(const atls_policy *policy);

/* atls_policy_id: a short identifier for EARs (the origin and a digest of the document). */
ATLS_API
const char *atls_policy_id(const atls_policy *policy);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_POLICY_H */
