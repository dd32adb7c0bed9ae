/* fuzz_sim.c: the sim verifier (src/evidence/sim/) with the fuzz input
 *   1. as the Evidence itself (COSE_Sign1 parse, claims parse, signature check), and
 *   2. as the EAT claims map, signed here with the fixed fuzz key (fuzz_key.h) so that the
 *      claims parser, measurement walk and JSON building after the signature check are
 *      reached without a bypass (seeds carry the fixed key's point in claim -70001).
 * Whenever verification succeeds: the trust-on-first-use policy made from the result must pass
 * check_policy and accept the same result (policy_from_result -> check_policy -> appraise). */
#include "fuzz.h"
#include "fuzz_key.h"

#include "codec/cose/cose.h"
#include "evidence/sim/sim.h"

#include <string.h>

static EVP_PKEY *key;
static uint8_t challenge[ATLS_CHALLENGE_LEN];

static void verify_and_appraise(const uint8_t *ev, size_t len)
{
    const atls_verifier_ops *ops = &atls_sim_verifier_ops;
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.challenge = challenge;
    atls_evidence_result res;
    memset(&res, 0, sizeof(res));
    if (ops->verify(ev, len, &in, &res) != ATLS_OK) {
        return;
    }
    FUZZ_REQUIRE(res.is_sim == 1 && res.challenge_checked == 1 && res.claims != NULL);
    FUZZ_REQUIRE(strlen(res.key_id) == 64);
    json_t *policy = NULL;
    FUZZ_REQUIRE(ops->policy_from_result(&res, &policy) == ATLS_OK);
    FUZZ_REQUIRE(ops->check_policy(policy) == ATLS_OK);
    atls_trust_vector tv;
    memset(&tv, 0, sizeof(tv));
    FUZZ_REQUIRE(ops->appraise(policy, &res, &tv) == ATLS_OK);
    json_decref(policy);
    atls_evidence_result_cleanup(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (key == NULL) {
        key = fuzz_key_load();
        FUZZ_SETUP(key != NULL);
        memset(challenge, 0xc5, sizeof(challenge));
    }
    verify_and_appraise(data, size);

    if (size > ATLS_SIM_MAX_EVIDENCE - 128) {
        return 0;
    }
    atls_cose_sign_opts o;
    memset(&o, 0, sizeof(o));
    o.tagged = true;
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    FUZZ_SETUP(atls_cose_sign1_sign(data, size, key, &o, &ev, &ev_len) == ATLS_OK);
    verify_and_appraise(ev, ev_len);
    free(ev);
    return 0;
}
