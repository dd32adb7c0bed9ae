/*
 * test_appraisal_read: the public accessors of an appraisal (atls/appraisal.h) say exactly
 * what the EAR says. Sim Evidence is appraised affirming (a policy pinning its key), as a
 * policy mismatch, with a wrong challenge and as a CMW that does not decode; for each, the
 * accessors are compared with the EAR's own JSON (read here with jansson, which the public
 * API does not expose), the JSON text parses back to the same claims set, the JWT verifies
 * with the signing key and carries the same claims, and every accessor refuses what is not
 * there (no EAR, out-of-range submods, claims of Evidence that did not verify).
 */
#include "check.h"

#include <atls/appraisal.h>
#include <atls/challenge.h>

#include "appraisal/appraise/appraisal_internal.h"
#include "codec/ear/ear.h"
#include "evidence/core/claims.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/atls-appraisal-read-XXXXXX";
static const atls_attester_ops *sim;
static void *sim_state;
static char sim_key_id[65];

static int setup(void)
{
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    char path[sizeof(dir) + 16];
    snprintf(path, sizeof(path), "%s/sim.key", dir);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    FILE *fp = fopen(path, "w");
    int ok = key != NULL && fp != NULL &&
             PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (fp != NULL) {
        fclose(fp);
    }
    ok = ok && atls_key_id(key, sim_key_id) == ATLS_OK;
    EVP_PKEY_free(key);
    char opt[sizeof(path) + 8];
    snprintf(opt, sizeof(opt), "key=%s", path);
    const char *config[] = {opt, NULL};
    sim = atls_attester_ops_by_name("sim");
    ok = ok && sim != NULL && atls_attester_create(sim, config, &sim_state) == ATLS_OK;
    unlink(path);
    return ok ? 0 : -1;
}

/* sim_evidence: Evidence over the detached challenge of |nonce|; the challenge in |ch|. */
static uint8_t *sim_evidence(const char *nonce, uint8_t ch[ATLS_CHALLENGE_LEN], size_t *len)
{
    uint8_t *ev = NULL;
    CHECK_OK(atls_attester_produce_detached(sim, sim_state, (const uint8_t *)nonce,
                                            strlen(nonce), &ev, len));
    CHECK_OK(atls_challenge_detached((const uint8_t *)nonce, strlen(nonce), ch));
    return ev;
}

/* same_json: |text| parses to a value equal to |want|. */
static int same_json(const char *text, const json_t *want)
{
    json_t *got = text != NULL ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    int same = got != NULL && json_equal(got, want);
    json_decref(got);
    return same;
}

/* check_against_ear: every accessor of |a| against the EAR's JSON. */
static void check_against_ear(const atls_appraisal *a)
{
    const json_t *ear = atls_appraisal_get0_ear_json(a);
    CHECK(ear != NULL);
    const json_t *subs = json_object_get(ear, "submods");
    CHECK(atls_appraisal_submod_count(a) == json_object_size(subs));
    char *text = NULL;
    CHECK_OK(atls_appraisal_ear_json(a, 0, &text));
    CHECK(same_json(text, ear) && strchr(text, '\n') == NULL);
    free(text);
    CHECK_OK(atls_appraisal_ear_json(a, 1, &text));
    CHECK(same_json(text, ear) && strchr(text, '\n') != NULL);
    free(text);

    size_t i = 0;
    const char *name;
    const json_t *sub;
    json_object_foreach((json_t *)subs, name, sub) {
        CHECK(strcmp(atls_appraisal_submod_name(a, i), name) == 0);
        atls_ear_tier tier = ATLS_EAR_TIER_NONE;
        CHECK_OK(atls_ear_tier_from_name(json_string_value(json_object_get(sub, "ear_status")),
                                         &tier));
        CHECK(atls_appraisal_submod_status(a, i) == (atls_tier)tier);
        atls_trust_vector tv;
        json_t *vec = NULL;
        CHECK_OK(atls_appraisal_trust_vector(a, i, &tv));
        CHECK_OK(atls_ear_vector_to_json(&tv, &vec));
        const json_t *want_vec = json_object_get(sub, "ear_trustworthiness_vector");
        CHECK(want_vec != NULL ? json_equal(vec, want_vec) : json_object_size(vec) == 0);
        json_decref(vec);
        const char *failure = json_string_value(
            json_object_get(json_object_get(sub, "ear_verifier_claims"), "failure"));
        const char *got_failure = atls_appraisal_submod_failure(a, i);
        CHECK(failure == NULL ? got_failure == NULL
                              : got_failure != NULL && strcmp(failure, got_failure) == 0);
        const json_t *claims = json_object_get(sub, "ear_attester_claims");
        atls_error rc = atls_appraisal_claims_json(a, i, &text);
        CHECK(claims != NULL ? rc == ATLS_OK && same_json(text, claims) : rc == ATLS_ERR_USAGE);
        free(text);
        text = NULL;
        i++;
    }
    /* out of range */
    size_t n = atls_appraisal_submod_count(a);
    atls_trust_vector tv;
    CHECK(atls_appraisal_submod_name(a, n) == NULL);
    CHECK(atls_appraisal_submod_status(a, n) == ATLS_TIER_NONE);
    CHECK_ERR(atls_appraisal_trust_vector(a, n, &tv), ATLS_ERR_USAGE);
    CHECK(atls_appraisal_submod_failure(a, n) == NULL);
    CHECK_ERR(atls_appraisal_claims_json(a, n, &text), ATLS_ERR_USAGE);
    CHECK(text == NULL);
    CHECK(atls_appraisal_key_id(a, n) == NULL && !atls_appraisal_is_simulated(a, n));
}

/* check_jwt: the signed EAR verifies with |key| and carries the same claims set; a key that
 * cannot sign ES256 is refused. */
static void check_jwt(const atls_appraisal *a)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    char *jwt = NULL;
    json_t *claims = NULL;
    CHECK(key != NULL && rsa != NULL);
    CHECK_OK(atls_appraisal_ear_jwt(a, key, &jwt));
    CHECK_OK(atls_ear_verify_jwt(jwt, key, 0, &claims));
    CHECK(claims != NULL && json_equal(claims, atls_appraisal_get0_ear_json(a)));
    json_decref(claims);
    free(jwt);
    jwt = NULL;
    CHECK_ERR(atls_appraisal_ear_jwt(a, rsa, &jwt), ATLS_ERR_CRYPTO_KEY);
    CHECK(jwt == NULL);
    CHECK_ERR(atls_appraisal_ear_jwt(a, NULL, &jwt), ATLS_ERR_USAGE);
    EVP_PKEY_free(key);
    EVP_PKEY_free(rsa);
}

static atls_policy *policy_for(const char *key_id)
{
    char doc[300];
    snprintf(doc, sizeof(doc),
             "{\"version\": 1, \"sim\": {\"keys\": [\"%s\"], \"any_measurements\": true}}",
             key_id);
    atls_policy *p = NULL;
    CHECK_OK(atls_policy_parse(doc, strlen(doc), "read-test", &p));
    return p;
}

static void test_empty(void)
{
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    char *text = (char *)"untouched";
    atls_trust_vector tv;
    CHECK_ERR(atls_appraisal_ear_json(&a, 0, &text), ATLS_ERR_USAGE_STATE);
    CHECK(text == NULL);
    CHECK_ERR(atls_appraisal_ear_json(NULL, 0, &text), ATLS_ERR_USAGE);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    CHECK_ERR(atls_appraisal_ear_jwt(&a, key, &text), ATLS_ERR_USAGE_STATE);
    EVP_PKEY_free(key);
    CHECK(atls_appraisal_submod_count(&a) == 0 && atls_appraisal_submod_count(NULL) == 0);
    CHECK(atls_appraisal_submod_name(&a, 0) == NULL);
    CHECK(atls_appraisal_policy_id(&a) == NULL);
    CHECK_ERR(atls_appraisal_trust_vector(&a, 0, &tv), ATLS_ERR_USAGE);
    CHECK(atls_appraisal_key_id(&a, 0) == NULL);
}

static void test_affirming(void)
{
    uint8_t ch[ATLS_CHALLENGE_LEN];
    size_t len = 0;
    uint8_t *ev = sim_evidence("affirming", ch, &len);
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.challenge = ch;
    atls_policy *p = policy_for(sim_key_id);
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    CHECK_OK(atls_appraise_evidence(atls_verifier_by_name("sim"), ev, len, &in, p, &a));
    CHECK(a.status == ATLS_TIER_AFFIRMING);
    check_against_ear(&a);
    check_jwt(&a);
    CHECK(atls_appraisal_submod_count(&a) == 1);
    CHECK(atls_appraisal_submod_status(&a, 0) == ATLS_TIER_AFFIRMING);
    CHECK(atls_appraisal_policy_id(&a) != NULL &&
          strcmp(atls_appraisal_policy_id(&a), atls_policy_id(p)) == 0);
    CHECK(atls_appraisal_key_id(&a, 0) != NULL &&
          strcmp(atls_appraisal_key_id(&a, 0), sim_key_id) == 0);
    CHECK(atls_appraisal_is_simulated(&a, 0));
    CHECK(atls_appraisal_submod_failure(&a, 0) == NULL);
    /* a copy reads the same, independently of the original */
    atls_appraisal copy;
    memset(&copy, 0, sizeof(copy));
    CHECK_OK(atls_appraisal_copy(&copy, &a));
    atls_appraisal_cleanup(&a);
    check_against_ear(&copy);
    CHECK(strcmp(atls_appraisal_key_id(&copy, 0), sim_key_id) == 0);
    atls_appraisal_cleanup(&copy);
    atls_policy_free(p);
    free(ev);
}

static void test_policy_mismatch(void)
{
    uint8_t ch[ATLS_CHALLENGE_LEN];
    size_t len = 0;
    uint8_t *ev = sim_evidence("mismatch", ch, &len);
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.challenge = ch;
    atls_policy *p = policy_for("00000000000000000000000000000000000000000000000000000000000000ff");
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    CHECK(atls_appraise_evidence(atls_verifier_by_name("sim"), ev, len, &in, p, &a) != ATLS_OK);
    CHECK(a.status == ATLS_TIER_CONTRAINDICATED);
    check_against_ear(&a);
    check_jwt(&a);
    /* verified but refused: the claims are kept, the policy is named, a failure is given */
    char *claims = NULL;
    CHECK_OK(atls_appraisal_claims_json(&a, 0, &claims));
    free(claims);
    CHECK(atls_appraisal_submod_status(&a, 0) == ATLS_TIER_CONTRAINDICATED);
    CHECK(atls_appraisal_submod_failure(&a, 0) != NULL);
    CHECK(atls_appraisal_policy_id(&a) != NULL);
    atls_appraisal_cleanup(&a);
    atls_policy_free(p);
    free(ev);
}

static void test_wrong_challenge(void)
{
    uint8_t ch[ATLS_CHALLENGE_LEN];
    size_t len = 0;
    uint8_t *ev = sim_evidence("challenge", ch, &len);
    ch[0] ^= 1;
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.challenge = ch;
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    CHECK(atls_appraise_evidence(atls_verifier_by_name("sim"), ev, len, &in, NULL, &a) !=
          ATLS_OK);
    check_against_ear(&a);
    atls_trust_vector tv;
    CHECK_OK(atls_appraisal_trust_vector(&a, 0, &tv));
    CHECK(tv.instance_identity == 99); /* cryptographic validation failed */
    CHECK(atls_appraisal_key_id(&a, 0) == NULL && !atls_appraisal_is_simulated(&a, 0));
    char *claims = NULL;
    CHECK_ERR(atls_appraisal_claims_json(&a, 0, &claims), ATLS_ERR_USAGE);
    CHECK(atls_appraisal_submod_failure(&a, 0) != NULL && a.reason[0] != '\0');
    atls_appraisal_cleanup(&a);
    free(ev);
}

static void test_bad_cmw(void)
{
    const uint8_t junk[] = {0xff, 0x00, 0x13};
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    CHECK(atls_appraise_cmw(junk, sizeof(junk), NULL, NULL, &a) != ATLS_OK);
    check_against_ear(&a);
    CHECK(atls_appraisal_submod_count(&a) == 1 &&
          strcmp(atls_appraisal_submod_name(&a, 0), "cmw") == 0);
    CHECK(atls_appraisal_submod_status(&a, 0) == ATLS_TIER_CONTRAINDICATED);
    atls_appraisal_cleanup(&a);
}

int main(void)
{
    if (setup() != 0) {
        fprintf(stderr, "setup failed: %s\n", atls_error_detail());
        return 1;
    }
    test_empty();
    test_affirming();
    test_policy_mismatch();
    test_wrong_challenge();
    test_bad_cmw();
    atls_attester_destroy(sim, sim_state);
    rmdir(dir);
    return check_summary();
}
