/* test_cca.c: the CCA verifier on generated tokens (always: test CPAKs P-384 and P-256, RAKs in
 * both encodings) and on the shared third-party tokens (when ATLS_SHARED_VECTORS has them). */
#include "cca_testgen.h"
#include "check.h"
#include "vectors.h"

#include "base/file.h"
#include "evidence/cca/cca.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

static atls_error run(const uint8_t *tok, size_t len, EVP_PKEY *cpak, const uint8_t *chal,
                      atls_evidence_result *res)
{
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    EVP_PKEY *keys[1] = {cpak};
    in.trusted_keys = cpak != NULL ? keys : NULL;
    in.num_trusted_keys = cpak != NULL ? 1 : 0;
    in.challenge = chal;
    return atls_cca_verifier_ops.verify(tok, len, &in, res);
}

static atls_error run_quiet(const uint8_t *tok, size_t len, EVP_PKEY *cpak, const uint8_t *chal)
{
    atls_evidence_result res;
    atls_error rc = run(tok, len, cpak, chal, &res);
    atls_evidence_result_cleanup(&res);
    return rc;
}

static const char *claim(const atls_evidence_result *r, const char *part, const char *k)
{
    return json_string_value(json_object_get(json_object_get(r->claims, part), k));
}

/* every_byte_flipped: each single-byte change (xor 0x01) anywhere in |tok| must be rejected. */
static void every_byte_flipped(const uint8_t *tok, size_t len, EVP_PKEY *cpak, const char *what)
{
    uint8_t *m = malloc(len);
    size_t accepted = 0;
    memcpy(m, tok, len);
    for (size_t i = 0; i < len; i++) {
        m[i] ^= 0x01;
        if (run_quiet(m, len, cpak, NULL) == ATLS_OK) {
            printf("%s: flipping byte %zu was accepted\n", what, i);
            accepted++;
        }
        m[i] ^= 0x01;
    }
    CHECK(accepted == 0);
    free(m);
}

static void every_truncation(const uint8_t *tok, size_t len, EVP_PKEY *cpak)
{
    size_t accepted = 0;
    for (size_t n = 0; n < len; n++) {
        uint8_t *m = malloc(n + 1); /* exact-size copy so ASan sees over-reads */
        memcpy(m, tok, n);
        accepted += run_quiet(n ? m : NULL, n, cpak, NULL) == ATLS_OK;
        free(m);
    }
    CHECK(accepted == 0);
}

static void test_generated(const char *curve, int cose_key)
{
    printf("-- generated token: CPAK %s, RAK %s\n", curve, cose_key ? "COSE_Key" : "SEC1 point");
    EVP_PKEY *cpak = tg_cca_key_new(curve);
    EVP_PKEY *rak = tg_cca_key_new("P-384");
    EVP_PKEY *other = tg_cca_key_new(curve);
    tg_cca_fields f;
    tg_cca_defaults(&f);
    f.cose_key = cose_key;
    size_t len = 0;
    uint8_t *tok = tg_cca_token(&f, cpak, rak, &len);
    CHECK(tok != NULL);
    if (tok == NULL) {
        return;
    }
    atls_evidence_result res;
    CHECK_OK(run(tok, len, cpak, f.challenge, &res));
    CHECK(res.challenge_checked == 1);
    CHECK(strcmp(res.type, "cca") == 0);
    CHECK(strlen(res.key_id) == 64);
    CHECK(strcmp(claim(&res, "realm", "public_key_form"), cose_key ? "cose_key" : "sec1_point") ==
          0);
    CHECK(strcmp(claim(&res, "realm", "initial_measurement"),
                 "1111111111111111111111111111111111111111111111111111111111111111") == 0);
    CHECK(strcmp(claim(&res, "realm", "rem2"),
                 "2222222222222222222222222222222222222222222222222222222222222222") == 0);
    CHECK(strcmp(claim(&res, "platform", "lifecycle_state"), "secured") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(res.claims, "platform"),
                                             "lifecycle")) == 0x3003);
    CHECK(strcmp(claim(&res, "platform", "profile"),
                 cose_key ? ATLS_CCA_PROFILE_PLATFORM_2023 : ATLS_CCA_PROFILE_LEGACY) == 0);
    CHECK(json_array_size(json_object_get(json_object_get(res.claims, "platform"),
                                          "sw_components")) == 2);
    CHECK(strcmp(json_string_value(json_object_get(res.claims, "key_id")), res.key_id) == 0);
    atls_evidence_result_cleanup(&res);

    /* no challenge: verifies, not marked as checked */
    CHECK_OK(run(tok, len, cpak, NULL, &res));
    CHECK(res.challenge_checked == 0);
    atls_evidence_result_cleanup(&res);

    /* realm challenge != the given challenge */
    uint8_t chal[64];
    memcpy(chal, f.challenge, 64);
    chal[63] ^= 1;
    CHECK_ERR(run_quiet(tok, len, cpak, chal), ATLS_ERR_EVIDENCE_NONCE);
    /* wrong CPAK; no CPAK; the CPAK as a trust-anchor certificate is covered by tsm tests */
    CHECK_ERR(run_quiet(tok, len, other, NULL), ATLS_ERR_EVIDENCE_SIGNATURE);
    CHECK_ERR(run_quiet(tok, len, NULL, NULL), ATLS_ERR_EVIDENCE_CHAIN);
    every_byte_flipped(tok, len, cpak, "generated");
    every_truncation(tok, len, cpak);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, tok, len);
    longer[len] = 0;
    CHECK_ERR(run_quiet(longer, len + 1, cpak, NULL), ATLS_ERR_DECODE_TRAILING);
    free(longer);
    free(tok);

    /* platform challenge != H(RAK) */
    f.bad_binding = 1;
    tok = tg_cca_token(&f, cpak, rak, &len);
    CHECK_ERR(run_quiet(tok, len, cpak, NULL), ATLS_ERR_EVIDENCE_NONCE);
    free(tok);
    /* binding with SHA-512 and SHA-384 */
    f.bad_binding = 0;
    f.rak_hash = "sha-512";
    tok = tg_cca_token(&f, cpak, rak, &len);
    CHECK_OK(run_quiet(tok, len, cpak, NULL));
    free(tok);
    f.rak_hash = "sha-384";
    tok = tg_cca_token(&f, cpak, rak, &len);
    CHECK_OK(run_quiet(tok, len, cpak, NULL));
    free(tok);
    /* an unknown hash algorithm name */
    f.rak_hash = "md5";
    tok = tg_cca_token(&f, cpak, rak, &len);
    CHECK_ERR(run_quiet(tok, len, cpak, NULL), ATLS_ERR_EVIDENCE_FORMAT);
    free(tok);
    /* the realm token signed by a key other than the RAK it carries */
    f.rak_hash = "sha-256";
    EVP_PKEY *rak2 = tg_cca_key_new("P-384");
    tok = tg_cca_token(&f, cpak, rak, &len);
    uint8_t *tok2 = NULL;
    size_t len2 = 0;
    tok2 = tg_cca_token(&f, cpak, rak2, &len2);
    /* splice: both tokens have the same layout; swap the realm RAK bytes of tok2 into tok */
    CHECK(len == len2);
    if (len == len2) {
        /* the realm member is the last bstr; its signature differs, its RAK differs: take
         * tok's realm token but tok2's signature (last 96 bytes) */
        memcpy(tok + len - 96, tok2 + len2 - 96, 96);
        CHECK_ERR(run_quiet(tok, len, cpak, NULL), ATLS_ERR_EVIDENCE_SIGNATURE);
    }
    free(tok);
    free(tok2);
    EVP_PKEY_free(rak2);
    EVP_PKEY_free(cpak);
    EVP_PKEY_free(rak);
    EVP_PKEY_free(other);
}

/* appraise_with parses |json| as a cca section and appraises |res| against it. */
static atls_error appraise_with(const char *json, const atls_evidence_result *res)
{
    json_error_t err;
    json_t *p = json_loads(json, JSON_REJECT_DUPLICATES, &err);
    if (p == NULL) {
        printf("bad test JSON: %s\n", err.text);
        return ATLS_ERR_INTERNAL;
    }
    /* the single-key policies below leave the realm measurement open, which must be explicit */
    if (json_is_object(p) && json_object_get(p, "realm_initial_measurements") == NULL) {
        json_object_set_new(p, "any_realm_initial_measurement", json_true());
    }
    atls_error rc = atls_cca_verifier_ops.check_policy(p);
    if (rc == ATLS_OK) {
        atls_trust_vector tv;
        memset(&tv, 0, sizeof(tv));
        rc = atls_cca_verifier_ops.appraise(p, res, &tv);
    }
    json_decref(p);
    return rc;
}

static void test_policy(void)
{
    printf("-- policy\n");
    EVP_PKEY *cpak = tg_cca_key_new("P-384");
    EVP_PKEY *rak = tg_cca_key_new("P-384");
    tg_cca_fields f;
    tg_cca_defaults(&f);
    size_t len = 0;
    uint8_t *tok = tg_cca_token(&f, cpak, rak, &len);
    atls_evidence_result res;
    CHECK_OK(run(tok, len, cpak, NULL, &res));

    /* trust on first use: the generated policy accepts exactly this token */
    json_t *gen = NULL;
    CHECK_OK(atls_cca_verifier_ops.policy_from_result(&res, &gen));
    CHECK_OK(atls_cca_verifier_ops.check_policy(gen));
    atls_trust_vector tv;
    memset(&tv, 0, sizeof(tv));
    CHECK_OK(atls_cca_verifier_ops.appraise(gen, &res, &tv));
    CHECK(tv.executables == 2 && tv.hardware == 2 && tv.configuration == 2);
    json_decref(gen);

    CHECK_OK(appraise_with("{}", &res)); /* + any_realm_initial_measurement */
    json_t *empty = json_object();
    CHECK_ERR(atls_cca_verifier_ops.check_policy(empty), ATLS_ERR_POLICY_INVALID);
    json_decref(empty);
    /* invalid policies */
    CHECK_ERR(appraise_with("{\"nope\": 1}", &res), ATLS_ERR_POLICY_INVALID);
    CHECK_ERR(appraise_with("{\"rem0\": [\"zz\"]}", &res), ATLS_ERR_POLICY_INVALID);
    CHECK_ERR(appraise_with("{\"personalization_values\": [\"00\"]}", &res),
              ATLS_ERR_POLICY_INVALID);
    CHECK_ERR(appraise_with("{\"lifecycles\": [\"sekured\"]}", &res), ATLS_ERR_POLICY_INVALID);
    CHECK_ERR(appraise_with("{\"lifecycles\": [70000]}", &res), ATLS_ERR_POLICY_INVALID);
    CHECK_ERR(appraise_with("{\"platform_sw_components\": [1]}", &res), ATLS_ERR_POLICY_INVALID);
    CHECK_ERR(appraise_with("{\"cpak_key_ids\": [\"00\"]}", &res), ATLS_ERR_POLICY_INVALID);
    CHECK_ERR(appraise_with("{\"require_challenge\": 1}", &res), ATLS_ERR_POLICY_INVALID);

    /* each key made to fail */
    static const char *const zero32 =
        "0000000000000000000000000000000000000000000000000000000000000000";
    char buf[600];
    static const char *const lists[] = {"realm_initial_measurements", "rem0", "rem1", "rem2",
                                        "rem3", "implementation_ids"};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"%s\": [\"%s\"]}", lists[i], zero32);
        CHECK_ERR(appraise_with(buf, &res), ATLS_ERR_POLICY_MISMATCH);
    }
    snprintf(buf, sizeof(buf), "{\"personalization_values\": [\"%s%s\"]}", zero32, zero32);
    CHECK_ERR(appraise_with(buf, &res), ATLS_ERR_POLICY_MISMATCH);
    snprintf(buf, sizeof(buf), "{\"cpak_key_ids\": [\"%s\"]}", zero32);
    CHECK_ERR(appraise_with(buf, &res), ATLS_ERR_POLICY_UNTRUSTED_KEY);
    snprintf(buf, sizeof(buf), "{\"cpak_key_ids\": [\"%s\"]}", res.key_id);
    CHECK_OK(appraise_with(buf, &res));
    /* software components: wrong measurement, missing type, unlisted type */
    const char *bl = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1";
    const char *rmm = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";
    snprintf(buf, sizeof(buf), "{\"platform_sw_components\": {\"BL\": [\"%s\"], \"RMM\": [\"%s\"]}}",
             bl, rmm);
    CHECK_OK(appraise_with(buf, &res));
    snprintf(buf, sizeof(buf), "{\"platform_sw_components\": {\"BL\": [\"%s\"], \"RMM\": [\"%s\"]}}",
             bl, zero32);
    CHECK_ERR(appraise_with(buf, &res), ATLS_ERR_POLICY_MISMATCH);
    snprintf(buf, sizeof(buf), "{\"platform_sw_components\": {\"BL\": [\"%s\"]}}", bl);
    CHECK_ERR(appraise_with(buf, &res), ATLS_ERR_POLICY_MISMATCH);
    snprintf(buf, sizeof(buf),
             "{\"platform_sw_components\": {\"BL\": [\"%s\"], \"RMM\": [\"%s\"], \"X\": [\"%s\"]}}",
             bl, rmm, zero32);
    CHECK_ERR(appraise_with(buf, &res), ATLS_ERR_POLICY_MISMATCH);
    /* lifecycles: the default accepts secured, a list may refuse it */
    CHECK_ERR(appraise_with("{\"lifecycles\": [12288]}", &res), ATLS_ERR_POLICY_MISMATCH);
    CHECK_OK(appraise_with("{\"lifecycles\": [12291]}", &res));
    CHECK_OK(appraise_with("{\"lifecycles\": [\"secured\"]}", &res));
    /* require_challenge: this result was verified without one */
    CHECK_ERR(appraise_with("{\"require_challenge\": true}", &res), ATLS_ERR_POLICY_MISMATCH);
    atls_evidence_result_cleanup(&res);
    CHECK_OK(run(tok, len, cpak, f.challenge, &res));
    CHECK_OK(appraise_with("{\"require_challenge\": true}", &res));
    atls_evidence_result_cleanup(&res);
    free(tok);

    /* a debug lifecycle: refused by default, accepted by name with a hardware warning */
    f.lifecycle = 0x4001;
    tok = tg_cca_token(&f, cpak, rak, &len);
    CHECK_OK(run(tok, len, cpak, NULL, &res));
    CHECK(strcmp(claim(&res, "platform", "lifecycle_state"), "non_psa_rot_debug") == 0);
    CHECK_ERR(appraise_with("{}", &res), ATLS_ERR_POLICY_MISMATCH);
    json_t *p = json_loads(
        "{\"any_realm_initial_measurement\": true, \"lifecycles\": [\"non_psa_rot_debug\"]}", 0,
        NULL);
    memset(&tv, 0, sizeof(tv));
    CHECK_OK(atls_cca_verifier_ops.appraise(p, &res, &tv));
    CHECK(tv.hardware == 32);
    json_decref(p);
    atls_evidence_result_cleanup(&res);
    free(tok);
    EVP_PKEY_free(cpak);
    EVP_PKEY_free(rak);
}

static EVP_PKEY *load_pub(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/cca/%s", dir, name);
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
    fclose(fp);
    return k;
}

struct sample {
    const char *file;
    const char *realm_profile, *platform_profile, *key_form, *realm_challenge_prefix;
    const char *rim_prefix, *realm_hash, *sw0_type;
    size_t num_sw;
};

static const struct sample samples[] = {
    {"ccatoken_tfrmm_cca_token.cbor", ATLS_CCA_PROFILE_LEGACY, ATLS_CCA_PROFILE_LEGACY,
     "sec1_point", "abababab", "00000000", "sha-256", "BL", 4},
    {"trustee_cca-example-token.cbor", ATLS_CCA_PROFILE_LEGACY, ATLS_CCA_PROFILE_LEGACY,
     "sec1_point", "57e979ae", "ae87fbf7", "sha-512", "RSE_BL1_2", 13},
    {"rustccatoken_cca-token-draft-ffm-00.cbor", ATLS_CCA_PROFILE_REALM_2023,
     ATLS_CCA_PROFILE_PLATFORM_2023, "cose_key", "6e86d6d9", "311314ab", "sha-256", "RSE_BL1_2",
     13},
};

static int starts(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_shared(const char *dir)
{
    EVP_PKEY *cpak = load_pub(dir, "derived_tfm_cpak_p384_pub.pem");
    EVP_PKEY *cpak2 = load_pub(dir, "ccatoken_tfrmm_cca_platform_pub.pem");
    EVP_PKEY *wrong = tg_cca_key_new("P-384");
    CHECK(cpak != NULL && cpak2 != NULL);
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        const struct sample *s = &samples[i];
        printf("-- shared %s\n", s->file);
        char path[1024];
        snprintf(path, sizeof(path), "%s/cca/%s", dir, s->file);
        uint8_t *tok = NULL;
        size_t len = 0;
        CHECK_OK(atls_file_read(path, 0, &tok, &len));
        if (tok == NULL) {
            continue;
        }
        atls_evidence_result res;
        CHECK_OK(run(tok, len, cpak, NULL, &res));
        if (res.claims != NULL) {
            CHECK(strcmp(claim(&res, "realm", "profile"), s->realm_profile) == 0);
            CHECK(strcmp(claim(&res, "platform", "profile"), s->platform_profile) == 0);
            CHECK(strcmp(claim(&res, "realm", "public_key_form"), s->key_form) == 0);
            CHECK(starts(claim(&res, "realm", "challenge"), s->realm_challenge_prefix));
            CHECK(starts(claim(&res, "realm", "initial_measurement"), s->rim_prefix));
            CHECK(strcmp(claim(&res, "realm", "hash_algo"), s->realm_hash) == 0);
            CHECK(strcmp(claim(&res, "realm", "public_key_hash_algo"), "sha-256") == 0);
            CHECK(strcmp(claim(&res, "platform", "implementation_id"),
                         "7f454c4602010100000000000000000003003e00010000005058000000000000") == 0);
            CHECK(strcmp(claim(&res, "platform", "instance_id"),
                         "0107060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918") ==
                  0);
            const json_t *plat = json_object_get(res.claims, "platform");
            CHECK(json_integer_value(json_object_get(plat, "lifecycle")) == 12291);
            const json_t *sw = json_object_get(plat, "sw_components");
            CHECK(json_array_size(sw) == s->num_sw);
            CHECK(strcmp(json_string_value(json_object_get(json_array_get(sw, 0), "type")),
                         s->sw0_type) == 0);
            /* the realm challenge is the token's own: as a given challenge it matches */
            uint8_t chal[64];
            const char *hex = claim(&res, "realm", "challenge");
            for (size_t j = 0; j < 64; j++) {
                unsigned v = 0;
                sscanf(hex + 2 * j, "%2x", &v);
                chal[j] = (uint8_t)v;
            }
            CHECK_OK(run_quiet(tok, len, cpak2, chal));
            chal[0] ^= 1;
            CHECK_ERR(run_quiet(tok, len, cpak, chal), ATLS_ERR_EVIDENCE_NONCE);
            /* the default policy accepts the secured lifecycle 0x3003 */
            json_t *gen = NULL;
            CHECK_OK(atls_cca_verifier_ops.policy_from_result(&res, &gen));
            atls_trust_vector tv;
            memset(&tv, 0, sizeof(tv));
            CHECK_OK(atls_cca_verifier_ops.appraise(gen, &res, &tv));
            json_decref(gen);
        }
        atls_evidence_result_cleanup(&res);
        CHECK_ERR(run_quiet(tok, len, wrong, NULL), ATLS_ERR_EVIDENCE_SIGNATURE);
        every_byte_flipped(tok, len, cpak, s->file);
        every_truncation(tok, len, cpak);
        free(tok);
    }
    EVP_PKEY_free(cpak);
    EVP_PKEY_free(cpak2);
    EVP_PKEY_free(wrong);
}

/* no argument: generated tokens; "shared": the shared third-party tokens (test_cca_shared) */
int main(int argc, char **argv)
{
    if (test_shared_mode(argc, argv)) {
        test_shared(test_shared_vectors("cca/derived_tfm_cpak_p384_pub.pem"));
        return check_summary();
    }
    test_generated("P-384", 0);
    test_generated("P-384", 1);
    test_generated("P-256", 0);
    test_generated("P-256", 1);
    test_policy();
    return check_summary();
}
