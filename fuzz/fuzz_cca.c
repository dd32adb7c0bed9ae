/* fuzz_cca.c: Arm CCA attestation tokens (src/evidence/cca/cca.h): atls_cca_token_parse on the input
 * (both COSE_Sign1 messages and both claim sets, no signature checked), then the "cca"
 * verifier with the fixed fuzz key (fuzz_key.h) as the trusted CPAK. Seeds are tokens signed
 * with that key as both CPAK and RAK (fuzz/make_seeds.c), so they verify; for every verified
 * input the trust-on-first-use policy made from the result must pass check_policy and accept
 * the same result. */
#include "fuzz.h"
#include "fuzz_key.h"

#include "evidence/cca/cca.h"

#include <string.h>

static EVP_PKEY *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (key == NULL) {
        key = fuzz_key_load();
        FUZZ_SETUP(key != NULL);
    }
    static atls_cca_token t; /* about 2 KiB: off the stack */
    memset(&t, 0, sizeof(t));
    if (atls_cca_token_parse(data, size, &t) == ATLS_OK) {
        FUZZ_REQUIRE(t.num_sw <= ATLS_CCA_MAX_SW_COMPONENTS);
        FUZZ_REQUIRE(size <= ATLS_CCA_MAX_TOKEN);
        (void)atls_cca_hash_by_name(&t.realm_hash_algo);
    }

    const atls_verifier_ops *ops = &atls_cca_verifier_ops;
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    EVP_PKEY *keys[1] = {key};
    in.trusted_keys = keys;
    in.num_trusted_keys = 1;
    atls_evidence_result res;
    memset(&res, 0, sizeof(res));
    if (ops->verify(data, size, &in, &res) != ATLS_OK) {
        return 0;
    }
    FUZZ_REQUIRE(res.claims != NULL && strlen(res.key_id) == 64);
    json_t *policy = NULL;
    FUZZ_REQUIRE(ops->policy_from_result(&res, &policy) == ATLS_OK);
    FUZZ_REQUIRE(ops->check_policy(policy) == ATLS_OK);
    atls_trust_vector tv;
    memset(&tv, 0, sizeof(tv));
    FUZZ_REQUIRE(ops->appraise(policy, &res, &tv) == ATLS_OK);
    json_decref(policy);
    atls_evidence_result_cleanup(&res);
    return 0;
}
