/* fuzz_policy.c: the appraisal policy parser (atls_policy_parse) with every registered
 * verifier's check_policy behind it. */
#include "fuzz.h"

#include <atls/evidence.h>
#include <atls/policy.h>

#include "appraisal/policy/policy_section.h"
#include "evidence/core/plugin.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_policy *p = NULL;
    if (atls_policy_parse((const char *)data, size, "fuzz", &p) != ATLS_OK) {
        FUZZ_REQUIRE(p == NULL);
        return 0;
    }
    FUZZ_REQUIRE(atls_policy_max_age(p) >= 0);
    const char *id = atls_policy_id(p);
    FUZZ_REQUIRE(id != NULL && strlen(id) > 0);
    static const char *const names[] = {"sim", "tpm2", "snp", "tdx", "cca", "tsm", "version"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const json_t *s = atls_policy_get0_section(p, names[i]);
        const atls_verifier_ops *ops = atls_verifier_by_name(names[i]);
        if (s != NULL && ops != NULL) {
            FUZZ_REQUIRE(ops->check_policy(s) == ATLS_OK); /* parse already checked it */
        }
    }
    atls_policy_free(p);
    return 0;
}
