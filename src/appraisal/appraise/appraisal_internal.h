/* appraisal_internal.h: the library's side of atls_appraisal (atls/appraisal.h keeps the EAR
 * and the verifier results opaque, so the public API names no JSON type). For the appraisal
 * itself, sessions and the atls tool. */
#ifndef ATLS_APPRAISAL_APPRAISAL_INTERNAL_H
#define ATLS_APPRAISAL_APPRAISAL_INTERNAL_H

#include <atls/appraisal.h>

#include "evidence/core/plugin.h"

#include <jansson.h>

/* The EAR of an appraisal (owned by it). */
struct atls_appraisal_ear {
    json_t *claims; /* owned: the EAR claims set */
};

/* atls_appraisal_get0_ear_json: the EAR claims set (borrowed; lives as long as |a| is not
 * cleaned up), NULL when the appraisal has none. */
json_t *atls_appraisal_get0_ear_json(const atls_appraisal *a);

#endif /* ATLS_APPRAISAL_APPRAISAL_INTERNAL_H */
