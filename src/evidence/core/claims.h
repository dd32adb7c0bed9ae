/*
 * claims.h: small helpers shared by the verifier plug-ins for building claim objects and for
 * checking policy sections, so every verifier reports and appraises the same way.
 */
#ifndef ATLS_EVIDENCE_CLAIMS_H
#define ATLS_EVIDENCE_CLAIMS_H

#include <atls/error.h>

#include "evidence/core/plugin.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* atls_claims_set_hex sets |key| in |obj| to the lowercase hex of |len| bytes. */
ATLS_MUST_CHECK atls_error atls_claims_set_hex(json_t *obj, const char *key,
                                               const uint8_t *data, size_t len);

/* atls_claims_set_int sets |key| to an integer. */
ATLS_MUST_CHECK atls_error atls_claims_set_int(json_t *obj, const char *key, int64_t v);

/* atls_claims_set_str sets |key| to a string (copied). */
ATLS_MUST_CHECK atls_error atls_claims_set_str(json_t *obj, const char *key, const char *v);

/* atls_claims_set_bool sets |key| to true/false. */
ATLS_MUST_CHECK atls_error atls_claims_set_bool(json_t *obj, const char *key, int v);

/* atls_key_id computes the lowercase hex SHA-256 of |pkey|'s DER SubjectPublicKeyInfo into
 * out (65 bytes). This is how policies pin attestation keys. */
ATLS_MUST_CHECK atls_error atls_key_id(EVP_PKEY *pkey, char out[65]);

/* Policy-section checking: atls_policy_check_keys fails (ATLS_ERR_POLICY_INVALID) if |section|
 * has a key not in the NULL-terminated |allowed| list. */
ATLS_MUST_CHECK atls_error atls_policy_check_keys(const json_t *section,
                                                  const char *const *allowed);

/* atls_policy_check_hex_list: |value| must be an array of lowercase/uppercase hex strings, each
 * |len| bytes long when len > 0. |what| names it in errors. */
ATLS_MUST_CHECK atls_error atls_policy_check_hex_list(const json_t *value, size_t len,
                                                      const char *what);

/* atls_policy_hex_in_list: 1 if the lowercase hex string |hex| is in the array |list|
 * (compared case-insensitively), else 0. */
int atls_policy_hex_in_list(const json_t *list, const char *hex);

/* atls_policy_check_bool: absent, or a JSON boolean. */
ATLS_MUST_CHECK atls_error atls_policy_check_bool(const json_t *section, const char *key);

/* atls_policy_get_bool: the boolean at |key|, or |dflt| when absent. */
int atls_policy_get_bool(const json_t *section, const char *key, int dflt);

#endif /* ATLS_EVIDENCE_CLAIMS_H */
