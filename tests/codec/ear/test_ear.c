/* test_ear: EAR tiers, building, and the ES256 JWT form (src/codec/ear/ear.h, base64url.h). */
#include "check.h"
#include "codec/ear/base64url.h"
#include "codec/ear/ear.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static void test_tiers(void)
{
    static const struct {
        int v;
        atls_ear_tier t;
    } cases[] = {
        {0, ATLS_EAR_TIER_NONE},          {1, ATLS_EAR_TIER_NONE},
        {-1, ATLS_EAR_TIER_NONE},         {2, ATLS_EAR_TIER_AFFIRMING},
        {31, ATLS_EAR_TIER_AFFIRMING},    {32, ATLS_EAR_TIER_WARNING},
        {95, ATLS_EAR_TIER_WARNING},      {96, ATLS_EAR_TIER_CONTRAINDICATED},
        {127, ATLS_EAR_TIER_CONTRAINDICATED}, {-2, ATLS_EAR_TIER_AFFIRMING},
        {-32, ATLS_EAR_TIER_AFFIRMING},   {-33, ATLS_EAR_TIER_WARNING},
        {-96, ATLS_EAR_TIER_WARNING},     {-97, ATLS_EAR_TIER_CONTRAINDICATED},
        {-128, ATLS_EAR_TIER_CONTRAINDICATED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(atls_ear_tier_from_value((int8_t)cases[i].v) == cases[i].t);
        /* the same value alone in a vector, in each slot */
        for (int slot = 0; slot < 8; slot++) {
            atls_trust_vector tv;
            memset(&tv, 0, sizeof(tv));
            ((int8_t *)&tv)[slot] = (int8_t)cases[i].v;
            if (atls_ear_tier_from_vector(&tv) != cases[i].t) {
                printf("  value %d in slot %d\n", cases[i].v, slot);
                CHECK(0);
            }
        }
    }
    /* worst band wins; zeros are no claims */
    atls_trust_vector tv = {0};
    CHECK(atls_ear_tier_from_vector(&tv) == ATLS_EAR_TIER_NONE);
    tv.instance_identity = 2;
    tv.hardware = -1;
    CHECK(atls_ear_tier_from_vector(&tv) == ATLS_EAR_TIER_AFFIRMING);
    tv.configuration = 32;
    CHECK(atls_ear_tier_from_vector(&tv) == ATLS_EAR_TIER_WARNING);
    tv.sourced_data = -97;
    CHECK(atls_ear_tier_from_vector(&tv) == ATLS_EAR_TIER_CONTRAINDICATED);
    tv.sourced_data = 3;
    CHECK(atls_ear_tier_from_vector(&tv) == ATLS_EAR_TIER_WARNING);

    atls_ear_tier t;
    CHECK_OK(atls_ear_tier_from_name("contraindicated", &t));
    CHECK(t == ATLS_EAR_TIER_CONTRAINDICATED);
    CHECK_OK(atls_ear_tier_from_name("none", &t));
    CHECK(t == ATLS_EAR_TIER_NONE);
    CHECK_ERR(atls_ear_tier_from_name("Affirming", &t), ATLS_ERR_DECODE_VALUE);
    CHECK_ERR(atls_ear_tier_from_name(NULL, &t), ATLS_ERR_DECODE_VALUE);
}

static const char *status_of(const json_t *ear, const char *sub)
{
    const json_t *o = sub == NULL ? ear : json_object_get(json_object_get(ear, "submods"), sub);
    return json_string_value(json_object_get(o, "ear_status"));
}

static json_t *make_ear(void)
{
    static const uint8_t nonce[64] = {1, 2, 3};
    json_t *ear = NULL;
    if (atls_ear_new(1767225600, "0.1.0", nonce, sizeof(nonce), &ear) != ATLS_OK) {
        exit(1);
    }
    return ear;
}

static void test_build(void)
{
    json_t *ear = make_ear();
    CHECK(strcmp(json_string_value(json_object_get(ear, "eat_profile")), ATLS_EAR_PROFILE) == 0);
    CHECK(json_integer_value(json_object_get(ear, "iat")) == 1767225600);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(ear, "ear_verifier_id"),
                                                   "developer")),
                 "atls") == 0);
    CHECK(strlen(json_string_value(json_object_get(ear, "eat_nonce"))) == 86);
    CHECK(strcmp(status_of(ear, NULL), "none") == 0);

    atls_trust_vector ok = {0};
    ok.instance_identity = 2;
    ok.hardware = 2;
    ok.executables = 2;
    const char *const ids[] = {"atls/tpm2/v1", NULL};
    json_t *claims = json_pack("{s:s}", "pcr0", "00ff");
    CHECK_OK(atls_ear_add_submod(ear, "tpm2", &ok, ids, claims, NULL));
    json_object_set_new(claims, "pcr0", json_string("changed after the call"));
    json_decref(claims);
    CHECK(strcmp(status_of(ear, "tpm2"), "affirming") == 0);
    CHECK(strcmp(status_of(ear, NULL), "affirming") == 0);
    const json_t *sub = json_object_get(json_object_get(ear, "submods"), "tpm2");
    const json_t *vec = json_object_get(sub, "ear_trustworthiness_vector");
    CHECK(json_object_size(vec) == 3);
    CHECK(json_integer_value(json_object_get(vec, "instance-identity")) == 2);
    CHECK(json_object_get(vec, "configuration") == NULL);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(sub, "ear_attester_claims"),
                                                   "pcr0")),
                 "00ff") == 0);
    CHECK(json_array_size(json_object_get(sub, "ear_appraisal_policy_ids")) == 1);
    CHECK(json_object_get(sub, "ear_verifier_claims") == NULL);
    CHECK(json_integer_value(json_object_get(ear, "exp")) == 1767225600 + ATLS_EAR_LIFETIME);

    /* a warning submod lowers the top level; a none submod does not raise it back */
    atls_trust_vector warn = {0};
    warn.configuration = 32;
    CHECK_OK(atls_ear_add_submod(ear, "snp", &warn, NULL, NULL, NULL));
    CHECK(strcmp(status_of(ear, NULL), "warning") == 0);
    atls_trust_vector empty = {0};
    CHECK_OK(atls_ear_add_submod(ear, "empty", &empty, NULL, NULL, NULL));
    CHECK(strcmp(status_of(ear, "empty"), "none") == 0);
    CHECK(json_object_get(json_object_get(json_object_get(ear, "submods"), "empty"),
                          "ear_trustworthiness_vector") == NULL);
    CHECK(strcmp(status_of(ear, NULL), "warning") == 0);

    /* contraindicated needs a reason, and a reason needs contraindicated */
    atls_trust_vector bad = {0};
    bad.instance_identity = 99;
    CHECK_ERR(atls_ear_add_submod(ear, "cca", &bad, NULL, NULL, NULL), ATLS_ERR_USAGE);
    CHECK_ERR(atls_ear_add_submod(ear, "cca", &ok, NULL, NULL, "why"), ATLS_ERR_USAGE);
    CHECK_ERR(atls_ear_add_submod(ear, "cca", &bad, NULL, NULL, "two\nlines"), ATLS_ERR_USAGE);
    CHECK_ERR(atls_ear_add_submod(ear, "cca", &bad, NULL, NULL, ""), ATLS_ERR_USAGE);
    CHECK(strcmp(status_of(ear, NULL), "warning") == 0);
    CHECK_OK(atls_ear_add_submod(ear, "cca", &bad, NULL, NULL, "realm signature invalid"));
    CHECK(strcmp(status_of(ear, "cca"), "contraindicated") == 0);
    CHECK(strcmp(status_of(ear, NULL), "contraindicated") == 0);
    CHECK(strcmp(json_string_value(json_object_get(
                     json_object_get(json_object_get(json_object_get(ear, "submods"), "cca"),
                                     "ear_verifier_claims"),
                     "failure")),
                 "realm signature invalid") == 0);
    /* duplicate name, bad arguments */
    CHECK_ERR(atls_ear_add_submod(ear, "tpm2", &ok, NULL, NULL, NULL), ATLS_ERR_USAGE);
    CHECK_ERR(atls_ear_add_submod(ear, "", &ok, NULL, NULL, NULL), ATLS_ERR_USAGE);
    json_t *arr = json_array();
    CHECK_ERR(atls_ear_add_submod(ear, "x", &ok, NULL, arr, NULL), ATLS_ERR_USAGE);
    CHECK_ERR(atls_ear_add_submod(arr, "x", &ok, NULL, NULL, NULL), ATLS_ERR_USAGE);
    json_decref(arr);

    char *s = NULL;
    CHECK_OK(atls_ear_to_json_string(ear, false, &s));
    CHECK(s != NULL && strchr(s, '\n') == NULL && strstr(s, "\"submods\":{") != NULL);
    free(s);
    CHECK_OK(atls_ear_to_json_string(ear, true, &s));
    CHECK(s != NULL && strchr(s, '\n') != NULL);
    free(s);
    json_decref(ear);

    json_t *e = NULL;
    CHECK_ERR(atls_ear_new(0, "", NULL, 0, &e), ATLS_ERR_USAGE);
    CHECK_OK(atls_ear_new(0, NULL, NULL, 0, &e));
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(e, "ear_verifier_id"), "build")),
                 "0.1.0") == 0);
    json_decref(e);
    CHECK_ERR(atls_ear_new(0, "b", (const uint8_t *)"short", 5, &e), ATLS_ERR_USAGE);
    CHECK_OK(atls_ear_new(0, "b", NULL, 0, &e));
    CHECK(json_object_get(e, "eat_nonce") == NULL);
    json_decref(e);
}

static void test_base64url(void)
{
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
             {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char *enc = NULL;
        CHECK_OK(atls_b64url_encode((const uint8_t *)v[i].in, strlen(v[i].in), &enc));
        CHECK(enc != NULL && strcmp(enc, v[i].out) == 0);
        uint8_t *dec = NULL;
        size_t n = 0;
        CHECK_OK(atls_b64url_decode(v[i].out, strlen(v[i].out), &dec, &n));
        CHECK(n == strlen(v[i].in) && memcmp(dec, v[i].in, n) == 0);
        free(enc);
        free(dec);
    }
    uint8_t *dec = NULL;
    size_t n;
    CHECK_ERR(atls_b64url_decode("Zg==", 4, &dec, &n), ATLS_ERR_DECODE_VALUE); /* padding */
    CHECK_ERR(atls_b64url_decode("Zh", 2, &dec, &n), ATLS_ERR_DECODE_VALUE);   /* stray bits */
    CHECK_ERR(atls_b64url_decode("Z", 1, &dec, &n), ATLS_ERR_DECODE_VALUE);    /* length */
    CHECK_ERR(atls_b64url_decode("Zm+v", 4, &dec, &n), ATLS_ERR_DECODE_VALUE); /* not url-safe */
    CHECK_ERR(atls_b64url_decode("Zm 9", 4, &dec, &n), ATLS_ERR_DECODE_VALUE);
}

/* resign: a JWT with the given header and claims text, signed correctly with |key|. */
static char *forge(const char *header, const char *claims, EVP_PKEY *key, size_t sig_len)
{
    char *h = NULL, *c = NULL, *s = NULL;
    if (atls_b64url_encode((const uint8_t *)header, strlen(header), &h) != ATLS_OK ||
        atls_b64url_encode((const uint8_t *)claims, strlen(claims), &c) != ATLS_OK) {
        exit(1);
    }
    size_t in_len = strlen(h) + 1 + strlen(c);
    char *input = malloc(in_len + 1);
    snprintf(input, in_len + 1, "%s.%s", h, c);
    uint8_t sig[64];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t der_len = sizeof(der);
    if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)input, in_len) != 1) {
        exit(1);
    }
    EVP_MD_CTX_free(ctx);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r, *sv;
    ECDSA_SIG_get0(es, &r, &sv);
    BN_bn2binpad(r, sig, 32);
    BN_bn2binpad(sv, sig + 32, 32);
    ECDSA_SIG_free(es);
    if (atls_b64url_encode(sig, sig_len, &s) != ATLS_OK) {
        exit(1);
    }
    size_t len = in_len + 1 + strlen(s);
    char *jwt = malloc(len + 1);
    snprintf(jwt, len + 1, "%s.%s", input, s);
    free(h);
    free(c);
    free(s);
    free(input);
    return jwt;
}

/* a time inside the validity of make_ear()'s EARs (iat 1767225600, exp iat + 300) */
#define NOW ((time_t)1767225700)

/* check_kid: the header's kid is the RFC 7638 thumbprint of the signing key (and not of another) */
static void check_kid(const char *jwt, EVP_PKEY *key, EVP_PKEY *other)
{
    const char *dot = strchr(jwt, '.');
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    CHECK_OK(atls_b64url_decode(jwt, (size_t)(dot - jwt), &raw, &raw_len));
    json_t *hdr = json_loadb((const char *)raw, raw_len, 0, NULL);
    free(raw);
    char kid[ATLS_EAR_KID_LEN + 1], kid_other[ATLS_EAR_KID_LEN + 1];
    CHECK_OK(atls_ear_jwk_thumbprint(key, kid));
    CHECK_OK(atls_ear_jwk_thumbprint(other, kid_other));
    const char *got = json_string_value(json_object_get(hdr, "kid"));
    CHECK(got != NULL && strlen(got) == ATLS_EAR_KID_LEN && strcmp(got, kid) == 0);
    CHECK(strcmp(kid, kid_other) != 0);
    CHECK(json_object_size(hdr) == 3);
    json_decref(hdr);
}

#define SUBMODS(x) "\"ear_verifier_id\":{},\"submods\":{\"a\":{\"ear_status\":\"none\"" x "}}}"

/* check_versions_and_exp: -03 tokens are still read; -04 claims maps are checked; exp is
 * enforced (draft-ietf-rats-ear-04 section 3); a kid naming another key is refused */
static void check_versions_and_exp(EVP_PKEY *key, EVP_PKEY *other)
{
    static const struct {
        const char *claims;
        atls_error want;
    } cases[] = {
        {"{\"eat_profile\":\"" ATLS_EAR_PROFILE_03 "\",\"iat\":1," SUBMODS(",\"atls_evidence_claims\":{}"),
         ATLS_OK},
        {"{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1," SUBMODS(",\"ear_attester_claims\":{\"k\":1}"),
         ATLS_OK},
        {"{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1," SUBMODS(",\"ear_attester_claims\":{}"),
         ATLS_ERR_DECODE_VALUE},
        {"{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1," SUBMODS(",\"ear_verifier_claims\":\"x\""),
         ATLS_ERR_DECODE_VALUE},
        {"{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1,\"exp\":1767225701," SUBMODS(""), ATLS_OK},
        {"{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1,\"exp\":1767225700," SUBMODS(""),
         ATLS_ERR_EVIDENCE_STALE},
        {"{\"eat_profile\":\"" ATLS_EAR_PROFILE_03 "\",\"iat\":1,\"exp\":2," SUBMODS(""),
         ATLS_ERR_EVIDENCE_STALE},
        {"{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1,\"exp\":1767225701.0," SUBMODS(""),
         ATLS_ERR_DECODE_VALUE},
        {"{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":9,\"exp\":8," SUBMODS(""),
         ATLS_ERR_DECODE_VALUE},
    };
    json_t *claims = NULL;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = forge("{\"alg\":\"ES256\"}", cases[i].claims, key, 64);
        atls_error rc = atls_ear_verify_jwt(t, key, NOW, &claims);
        if (rc != cases[i].want) {
            printf("  case %zu: got %d, want %d (%s)\n", i, rc, cases[i].want, atls_error_message());
        }
        CHECK(rc == cases[i].want);
        if (rc == ATLS_OK) {
            json_decref(claims);
        }
        free(t);
    }
    /* kid: the right one verifies, another key's is refused before the signature */
    char kid[ATLS_EAR_KID_LEN + 1], hdr[128];
    const char *ok_claims = cases[1].claims;
    CHECK_OK(atls_ear_jwk_thumbprint(key, kid));
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
    char *t = forge(hdr, ok_claims, key, 64);
    CHECK_OK(atls_ear_verify_jwt(t, key, NOW, &claims));
    json_decref(claims);
    free(t);
    CHECK_OK(atls_ear_jwk_thumbprint(other, kid));
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
    t = forge(hdr, ok_claims, key, 64);
    CHECK_ERR(atls_ear_verify_jwt(t, key, NOW, &claims), ATLS_ERR_CRYPTO_KEY);
    free(t);
    t = forge("{\"alg\":\"ES256\",\"kid\":7}", ok_claims, key, 64);
    CHECK_ERR(atls_ear_verify_jwt(t, key, NOW, &claims), ATLS_ERR_CRYPTO_KEY);
    free(t);
    /* an EAR made now verifies now (exp = now + ATLS_EAR_LIFETIME), and not after exp */
    json_t *ear = NULL;
    CHECK_OK(atls_ear_new(time(NULL), NULL, NULL, 0, &ear));
    atls_trust_vector tv = {0};
    tv.hardware = 2;
    CHECK_OK(atls_ear_add_submod(ear, "x", &tv, NULL, NULL, NULL));
    t = NULL;
    CHECK_OK(atls_ear_sign_jwt(ear, key, &t));
    CHECK_OK(atls_ear_verify_jwt(t, key, 0, &claims));
    json_decref(claims);
    CHECK_ERR(atls_ear_verify_jwt(t, key, time(NULL) + ATLS_EAR_LIFETIME + 1, &claims),
              ATLS_ERR_EVIDENCE_STALE);
    free(t);
    json_decref(ear);
}

/* the JWK of the EAR key: EC P-256 public members, the thumbprint as kid, never "d" */
static void test_jwk(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    json_t *jwk = NULL;
    CHECK_OK(atls_ear_jwk(key, &jwk));
    char kid[ATLS_EAR_KID_LEN + 1];
    CHECK_OK(atls_ear_jwk_thumbprint(key, kid));
    CHECK(strcmp(json_string_value(json_object_get(jwk, "kty")), "EC") == 0);
    CHECK(strcmp(json_string_value(json_object_get(jwk, "crv")), "P-256") == 0);
    CHECK(strcmp(json_string_value(json_object_get(jwk, "alg")), "ES256") == 0);
    CHECK(strcmp(json_string_value(json_object_get(jwk, "kid")), kid) == 0);
    CHECK(strlen(json_string_value(json_object_get(jwk, "x"))) == 43);
    CHECK(strlen(json_string_value(json_object_get(jwk, "y"))) == 43);
    CHECK(json_object_get(jwk, "d") == NULL);
    json_decref(jwk);
    CHECK_ERR(atls_ear_jwk(p384, &jwk), ATLS_ERR_CRYPTO_KEY);
    CHECK_ERR(atls_ear_jwk_thumbprint(p384, kid), ATLS_ERR_CRYPTO_KEY);
    EVP_PKEY_free(key);
    EVP_PKEY_free(p384);
}

static void test_jwt(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    EVP_PKEY *other = EVP_EC_gen("P-256");
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    json_t *ear = make_ear();
    atls_trust_vector tv = {0};
    tv.instance_identity = 2;
    CHECK_OK(atls_ear_add_submod(ear, "sim", &tv, NULL, NULL, NULL));

    char *jwt = NULL;
    CHECK_OK(atls_ear_sign_jwt(ear, key, &jwt));
    CHECK(jwt != NULL && strncmp(jwt, "eyJhbGciOiJFUzI1NiIsImtpZCI6I", 29) == 0); /* {"alg":"ES256","kid":" */
    check_kid(jwt, key, other);
    json_t *claims = NULL;
    CHECK_OK(atls_ear_verify_jwt(jwt, key, NOW, &claims));
    CHECK(claims != NULL && json_equal(claims, ear));
    json_decref(claims);
    claims = NULL;
    /* its kid names |key|: refused as the wrong key before any signature check */
    CHECK_ERR(atls_ear_verify_jwt(jwt, other, NOW, &claims), ATLS_ERR_CRYPTO_KEY);
    CHECK_ERR(atls_ear_verify_jwt(jwt, p384, NOW, &claims), ATLS_ERR_CRYPTO_KEY);
    CHECK_ERR(atls_ear_sign_jwt(ear, p384, &jwt), ATLS_ERR_CRYPTO_KEY);

    /* tamper: every character changed in turn must fail (decode or signature) */
    size_t len = strlen(jwt);
    int all_failed = 1;
    for (size_t i = 0; i < len; i++) {
        char saved = jwt[i];
        jwt[i] = saved == 'A' ? 'B' : 'A';
        if (atls_ear_verify_jwt(jwt, key, NOW, &claims) == ATLS_OK) {
            printf("  change at %zu still verifies\n", i);
            json_decref(claims);
            all_failed = 0;
        }
        jwt[i] = saved;
    }
    CHECK(all_failed);
    /* truncated, extra part, missing parts */
    for (size_t cut = 0; cut < len; cut += 7) {
        char *t = strndup(jwt, cut);
        CHECK(atls_ear_verify_jwt(t, key, NOW, &claims) != ATLS_OK);
        free(t);
    }
    char *extra = malloc(len + 3);
    snprintf(extra, len + 3, "%s.x", jwt);
    CHECK_ERR(atls_ear_verify_jwt(extra, key, NOW, &claims), ATLS_ERR_DECODE_VALUE);
    free(extra);
    free(jwt);

    /* well-signed tokens that break a rule */
    const char *good_claims = "{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1,"
                              "\"ear_verifier_id\":{},"
                              "\"submods\":{\"a\":{\"ear_status\":\"none\"}}}";
    char *t = forge("{\"alg\":\"ES256\"}", good_claims, key, 64);
    CHECK_OK(atls_ear_verify_jwt(t, key, NOW, &claims));
    json_decref(claims);
    /* without a kid, a token from another key fails on its signature */
    CHECK_ERR(atls_ear_verify_jwt(t, other, NOW, &claims), ATLS_ERR_CRYPTO_SIGNATURE);
    free(t);
    t = forge("{\"alg\":\"none\"}", good_claims, key, 64);
    CHECK_ERR(atls_ear_verify_jwt(t, key, NOW, &claims), ATLS_ERR_DECODE_VALUE);
    free(t);
    t = forge("{\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1}", good_claims, key, 64);
    CHECK_ERR(atls_ear_verify_jwt(t, key, NOW, &claims), ATLS_ERR_DECODE_VALUE);
    free(t);
    t = forge("{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", good_claims, key, 64);
    CHECK_ERR(atls_ear_verify_jwt(t, key, NOW, &claims), ATLS_ERR_DECODE_VALUE);
    free(t);
    t = forge("{\"alg\":\"ES256\",\"alg\":\"ES256\"}", good_claims, key, 64);
    CHECK_ERR(atls_ear_verify_jwt(t, key, NOW, &claims), ATLS_ERR_DECODE_VALUE);
    free(t);
    t = forge("[1]", good_claims, key, 64);
    CHECK_ERR(atls_ear_verify_jwt(t, key, NOW, &claims), ATLS_ERR_DECODE_TYPE);
    free(t);
    t = forge("{\"alg\":\"ES256\"}", good_claims, key, 63);
    CHECK_ERR(atls_ear_verify_jwt(t, key, NOW, &claims), ATLS_ERR_DECODE_LENGTH);
    free(t);
    static const char *const bad_claims[] = {
        "{\"eat_profile\":\"tag:ietf.org,2025-07:ear\",\"iat\":1,\"ear_verifier_id\":{},"
        "\"submods\":{\"a\":{\"ear_status\":\"none\"}}}",
        "{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1.5,\"ear_verifier_id\":{},"
        "\"submods\":{\"a\":{\"ear_status\":\"none\"}}}",
        "{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1,\"submods\":{\"a\":{\"ear_status\":"
        "\"none\"}}}",
        "{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1,\"ear_verifier_id\":{},"
        "\"submods\":{}}",
        "{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1,\"ear_verifier_id\":{},"
        "\"submods\":{\"a\":{\"ear_status\":\"great\"}}}",
        "{\"eat_profile\":\"" ATLS_EAR_PROFILE "\",\"iat\":1,\"ear_verifier_id\":{},"
        "\"submods\":{\"a\":{\"ear_status\":\"none\"}},\"iat\":2}",
        "not json",
    };
    for (size_t i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]); i++) {
        t = forge("{\"alg\":\"ES256\"}", bad_claims[i], key, 64);
        CHECK_ERR(atls_ear_verify_jwt(t, key, NOW, &claims), ATLS_ERR_DECODE_VALUE);
        free(t);
    }
    check_versions_and_exp(key, other);
    json_decref(ear);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    EVP_PKEY_free(p384);
}

/* the vector read back from its JSON (what atls_appraisal_trust_vector returns) */
static void test_vector_from_json(void)
{
    atls_trust_vector tv = {0}, back;
    tv.instance_identity = 2;
    tv.configuration = -128;
    tv.sourced_data = 127;
    tv.hardware = 96;
    json_t *o = NULL;
    CHECK_OK(atls_ear_vector_to_json(&tv, &o));
    memset(&back, 0x55, sizeof(back));
    CHECK_OK(atls_ear_vector_from_json(o, &back));
    CHECK(memcmp(&tv, &back, sizeof(tv)) == 0);
    json_decref(o);

    memset(&back, 0x55, sizeof(back));
    CHECK_OK(atls_ear_vector_from_json(NULL, &back));
    atls_trust_vector zero = {0};
    CHECK(memcmp(&zero, &back, sizeof(back)) == 0);

    static const char *const bad[] = {
        "{\"instance-identity\": 128}", "{\"configuration\": -129}",
        "{\"executables\": \"2\"}", "{\"executables\": 2.0}", "{\"no-such-claim\": 2}", "[2]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        CHECK(j != NULL);
        CHECK_ERR(atls_ear_vector_from_json(j, &back), ATLS_ERR_DECODE_VALUE);
        json_decref(j);
    }
}

int main(void)
{
    test_tiers();
    test_build();
    test_base64url();
    test_jwt();
    test_jwk();
    test_vector_from_json();
    return check_summary();
}
