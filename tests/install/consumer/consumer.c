/* consumer.c: a program built out of tree against an *installed* atls (tests/install), through
 * pkg-config or find_package(atls). Only <atls/...> headers and exported functions, and no
 * JSON library (test_install.sh compiles it with a jansson.h that fails): the sim attester
 * produces Evidence over a detached challenge, the installed library appraises it (verified,
 * no policy: warning; a policy naming its key: affirming), read through the accessors and as
 * JSON text; a wrong challenge is refused, a bad attester key and a bad policy are rejected
 * with a message, an atls/1 frame round-trips, and an SSL_CTX is set up.
 *
 * usage: atls-consumer SIM_KEY_PEM. Prints one line per check; exit 0 when all hold. */
#include <atls/appraisal.h>
#include <atls/challenge.h>
#include <atls/frame.h>
#include <atls/session.h>
#include <atls/version.h>

#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

static void appraise_sim(const char *key_path)
{
    char key_cfg[4096];
    snprintf(key_cfg, sizeof(key_cfg), "key=%s", key_path);
    const char *config[] = {key_cfg, NULL};
    const atls_attester_ops *attester = atls_attester_ops_by_name("sim");
    const atls_verifier_ops *verifier = atls_verifier_by_name("sim");
    void *state = NULL;
    check(attester != NULL && verifier != NULL &&
              strcmp(atls_attester_name(attester), "sim") == 0 &&
              strcmp(atls_attester_media_type(attester), atls_verifier_media_type(verifier)) == 0,
          "sim attester and verifier are registered");
    if (attester == NULL || verifier == NULL ||
        atls_attester_create(attester, config, &state) != ATLS_OK) {
        check(0, atls_error_message());
        return;
    }
    const char *bad_config[] = {"no_such_key=1", NULL};
    void *bad = NULL;
    check(atls_attester_create(attester, bad_config, &bad) == ATLS_ERR_USAGE_CONFIG &&
              bad == NULL && strstr(atls_error_message(), "no_such_key") != NULL,
          "an unknown attester key is refused with a message naming it");

    /* Evidence over the detached challenge of our own bytes, appraised against it */
    const uint8_t nonce[] = "consumer nonce";
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    uint8_t *evidence = NULL;
    size_t len = 0;
    check(atls_attester_produce_detached(attester, state, nonce, sizeof(nonce), &evidence,
                                         &len) == ATLS_OK &&
              len > 0 && atls_challenge_detached(nonce, sizeof(nonce), challenge) == ATLS_OK,
          "sim Evidence produced over a detached challenge");

    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.challenge = challenge;
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    atls_error rc = atls_appraise_evidence(verifier, evidence, len, &in, NULL, &a);
    char *json = NULL;
    check(rc == ATLS_OK && a.status == ATLS_TIER_WARNING && a.num_results == 1 &&
              atls_appraisal_ear_json(&a, 0, &json) == ATLS_OK &&
              strstr(json, "\"ear_status\":\"warning\"") != NULL,
          "appraised without policy: warning, with an EAR as JSON text");
    free(json);
    atls_trust_vector tv;
    check(atls_appraisal_submod_count(&a) == 1 &&
              strcmp(atls_appraisal_submod_name(&a, 0), "sim") == 0 &&
              atls_appraisal_submod_status(&a, 0) == ATLS_TIER_WARNING &&
              atls_appraisal_trust_vector(&a, 0, &tv) == ATLS_OK && tv.configuration == 36 &&
              atls_appraisal_is_simulated(&a, 0) && atls_appraisal_policy_id(&a) == NULL,
          "the sim submod: warning, configuration 36, simulated, no policy");

    /* a policy that trusts exactly this attestation key: affirming */
    char doc[512];
    const char *key_id = atls_appraisal_key_id(&a, 0);
    snprintf(doc, sizeof(doc),
             "{\"version\": 1, \"sim\": {\"keys\": [\"%s\"], \"any_measurements\": true}}",
             key_id != NULL ? key_id : "");
    atls_appraisal_cleanup(&a);
    atls_policy *policy = NULL;
    check(key_id != NULL && atls_policy_parse(doc, strlen(doc), "consumer", &policy) == ATLS_OK,
          "a policy naming the attestation key parses");
    rc = atls_appraise_evidence(verifier, evidence, len, &in, policy, &a);
    const char *pid = atls_appraisal_policy_id(&a);
    check(rc == ATLS_OK && a.status == ATLS_TIER_AFFIRMING && pid != NULL &&
              strcmp(pid, atls_policy_id(policy)) == 0,
          "appraised with that policy: affirming, the EAR names the policy");
    char *claims = NULL;
    check(atls_appraisal_claims_json(&a, 0, &claims) == ATLS_OK && claims[0] == '{',
          "the Evidence's claims as JSON text");
    free(claims);
    atls_appraisal_cleanup(&a);
    atls_policy_free(policy);

    challenge[0] ^= 1;
    rc = atls_appraise_evidence(verifier, evidence, len, &in, NULL, &a);
    const char *failure = atls_appraisal_submod_failure(&a, 0);
    check(rc != ATLS_OK && a.status == ATLS_TIER_CONTRAINDICATED && failure != NULL &&
              a.reason[0] != '\0',
          "another challenge is refused, with a reason");
    atls_appraisal_cleanup(&a);
    free(evidence);
    atls_attester_destroy(attester, state);
}

static void policies(void)
{
    atls_policy *p = NULL;
    const char bad[] = "{\"version\": 1, \"no_such_key\": true}";
    atls_error rc = atls_policy_parse(bad, strlen(bad), "bad", &p);
    check(rc == ATLS_ERR_POLICY_INVALID && strcmp(atls_error_category(rc), "policy") == 0 &&
              atls_error_message()[0] != '\0',
          "an unknown policy key is refused with a message");
}

static void frames(void)
{
    uint8_t *wire = NULL;
    size_t wire_len = 0;
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    int have = 0;
    uint8_t type = 0xff;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    check(atls_frame_encode(ATLS_FRAME_DATA, (const uint8_t *)"hello", 5, &wire, &wire_len) ==
                  ATLS_OK &&
              atls_frame_reader_feed(&r, wire, wire_len) == ATLS_OK &&
              atls_frame_reader_next(&r, &have, &type, &payload, &payload_len) == ATLS_OK &&
              have == 1 && type == ATLS_FRAME_DATA && payload_len == 5 &&
              memcmp(payload, "hello", 5) == 0,
          "an atls/1 DATA frame round-trips");
    atls_frame_reader_cleanup(&r);
    free(wire);
}

static void tls_context(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    check(ctx != NULL && atls_ssl_ctx_configure(ctx, 0, 1) == ATLS_OK &&
              SSL_CTX_get_min_proto_version(ctx) == TLS1_3_VERSION,
          "an SSL_CTX configured for atls is TLS 1.3 only");
    SSL_CTX_free(ctx);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: atls-consumer SIM_KEY_PEM\n");
        return 2;
    }
    printf("atls %s\n", ATLS_VERSION);
    appraise_sim(argv[1]);
    policies();
    frames();
    tls_context();
    return failures == 0 ? 0 : 1;
}
