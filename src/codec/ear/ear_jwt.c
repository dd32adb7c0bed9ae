/* ear_jwt.c: EAR as a JWT: JWS compact serialization (RFC 7515 section 7.1) with ES256
 * (RFC 7518 section 3.4: SHA-256, P-256, signature = r || s, 32 bytes each), the signing key
 * named by its RFC 7638 thumbprint in "kid" (RFC 7515 section 4.1.4). */
#include "codec/ear/ear.h"

#include "base/result.h"
#include "codec/cose/cose.h"
#include "codec/ear/base64url.h"

#include <stdlib.h>
#include <string.h>


/* need_p256: ES256 is ECDSA on P-256 only. */
static atls_error need_p256(EVP_PKEY *key)
{
    int64_t alg = 0;
    ATLS_GUARD(atls_cose_alg_for_key(key, &alg));
    ATLS_ENSURE(alg == ATLS_COSE_ALG_ES256, ATLS_ERR_CRYPTO_KEY,
                "EAR JWT: ES256 needs a P-256 key");
    return ATLS_OK;
}

atls_error atls_ear_sign_jwt(const json_t *ear, EVP_PKEY *key, char **out)
{
    ATLS_ENSURE(json_is_object(ear), ATLS_ERR_USAGE, "EAR JWT: claims must be a JSON object");
    ATLS_GUARD(need_p256(key));
    atls_error rc = ATLS_OK;
    char *claims = NULL, *h64 = NULL, *c64 = NULL, *s64 = NULL, *input = NULL, *jwt = NULL;
    uint8_t sig[64];
    char kid[ATLS_EAR_KID_LEN + 1];
    char header[96];
    ATLS_GUARD(atls_ear_jwk_thumbprint(key, kid));
    snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    ATLS_GUARD_GOTO(rc, done, atls_ear_to_json_string(ear, false, &claims));
    ATLS_GUARD_GOTO(rc, done,
                    atls_b64url_encode((const uint8_t *)header, strlen(header), &h64));
    ATLS_GUARD_GOTO(rc, done, atls_b64url_encode((const uint8_t *)claims, strlen(claims), &c64));
    /* JWS Signing Input = BASE64URL(header) || '.' || BASE64URL(payload) */
    size_t in_len = strlen(h64) + 1 + strlen(c64);
    input = malloc(in_len + 1);
    if (input == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "EAR JWT: out of memory");
    }
    snprintf(input, in_len + 1, "%s.%s", h64, c64);
    ATLS_GUARD_GOTO(rc, done,
                    atls_ecdsa_sign_raw(key, EVP_sha256(), (const uint8_t *)input, in_len, 32,
                                        sig));
    ATLS_GUARD_GOTO(rc, done, atls_b64url_encode(sig, sizeof(sig), &s64));
    size_t jwt_len = in_len + 1 + strlen(s64);
    jwt = malloc(jwt_len + 1);
    if (jwt == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "EAR JWT: out of memory");
    }
    snprintf(jwt, jwt_len + 1, "%s.%s", input, s64);
    *out = jwt;
done:
    free(claims);
    free(h64);
    free(c64);
    free(s64);
    free(input);
    return rc;
}

/* parse_json_part: base64url-decode one JWS part and parse it as a JSON object. */
static atls_error parse_json_part(const char *part, size_t len, const char *what, json_t **out)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    ATLS_GUARD(atls_b64url_decode(part, len, &raw, &raw_len));
    json_error_t jerr;
    json_t *j = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    ATLS_ENSURE(j != NULL, ATLS_ERR_DECODE_VALUE, "EAR JWT: %s is not JSON: %.80s", what,
                jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        ATLS_RAISE(ATLS_ERR_DECODE_TYPE, "EAR JWT: %s is not a JSON object", what);
    }
    *out = j;
    return ATLS_OK;
}

/* check_int_time: an integer time claim (RFC 7519 NumericDate; the draft forbids floating point) */
static atls_error check_int_time(const json_t *v, const char *name)
{
    ATLS_ENSURE(json_is_integer(v), ATLS_ERR_DECODE_VALUE, "EAR: %s missing or not an integer",
                name);
    return ATLS_OK;
}

/* check_claims_map: -04 section 3.1 claims maps ({ + text => any }) */
static atls_error check_claims_map(const json_t *sub, const char *name, const char *claim)
{
    const json_t *m = json_object_get(sub, claim);
    ATLS_ENSURE(m == NULL || (json_is_object(m) && json_object_size(m) > 0),
                ATLS_ERR_DECODE_VALUE, "EAR: submod \"%.60s\": %s is not a non-empty object",
                name, claim);
    return ATLS_OK;
}

/* check_claims: the EAR shape atls relies on (draft-ietf-rats-ear-04 section 3, and -03). */
static atls_error check_claims(const json_t *c, time_t now)
{
    const char *profile = json_string_value(json_object_get(c, "eat_profile"));
    int v04 = profile != NULL && strcmp(profile, ATLS_EAR_PROFILE) == 0;
    ATLS_ENSURE(v04 || (profile != NULL && strcmp(profile, ATLS_EAR_PROFILE_03) == 0),
                ATLS_ERR_DECODE_VALUE, "EAR: eat_profile is neither %s nor %s", ATLS_EAR_PROFILE,
                ATLS_EAR_PROFILE_03);
    ATLS_GUARD(check_int_time(json_object_get(c, "iat"), "iat"));
    const json_t *exp = json_object_get(c, "exp");
    if (exp != NULL) {
        ATLS_GUARD(check_int_time(exp, "exp"));
        json_int_t iat = json_integer_value(json_object_get(c, "iat"));
        ATLS_ENSURE(json_integer_value(exp) >= iat, ATLS_ERR_DECODE_VALUE,
                    "EAR: exp is before iat");
        /* -04 section 3: past exp the EAR MUST NOT be accepted */
        ATLS_ENSURE(json_integer_value(exp) > (json_int_t)now, ATLS_ERR_EVIDENCE_STALE,
                    "EAR: expired (exp %lld, now %lld)", (long long)json_integer_value(exp),
                    (long long)now);
    }
    ATLS_ENSURE(json_is_object(json_object_get(c, "ear_verifier_id")), ATLS_ERR_DECODE_VALUE,
                "EAR: ear_verifier_id missing");
    const json_t *submods = json_object_get(c, "submods");
    ATLS_ENSURE(json_is_object(submods) && json_object_size(submods) > 0,
                ATLS_ERR_DECODE_VALUE, "EAR: submods missing or empty");
    const char *name;
    json_t *sub;
    json_object_foreach((json_t *)submods, name, sub)
    {
        atls_ear_tier t;
        ATLS_ENSURE(json_is_object(sub), ATLS_ERR_DECODE_VALUE,
                    "EAR: submod \"%.60s\" is not an object", name);
        ATLS_GUARD(atls_ear_tier_from_name(json_string_value(json_object_get(sub, "ear_status")),
                                           &t));
        if (v04) {
            ATLS_GUARD(check_claims_map(sub, name, "ear_attester_claims"));
            ATLS_GUARD(check_claims_map(sub, name, "ear_verifier_claims"));
        }
    }
    const json_t *top = json_object_get(c, "ear_status");
    if (top != NULL) {
        atls_ear_tier t;
        ATLS_GUARD(atls_ear_tier_from_name(json_string_value(top), &t));
    }
    return ATLS_OK;
}

atls_error atls_ear_verify_jwt(const char *jwt, EVP_PKEY *key, time_t now, json_t **out_claims)
{
    ATLS_ENSURE(jwt != NULL, ATLS_ERR_USAGE, "EAR JWT: NULL token");
    size_t len = strnlen(jwt, ATLS_EAR_JWT_MAX + 1);
    ATLS_ENSURE(len <= ATLS_EAR_JWT_MAX, ATLS_ERR_DECODE_TOO_LARGE,
                "EAR JWT: longer than %u bytes", ATLS_EAR_JWT_MAX);
    ATLS_GUARD(need_p256(key));
    /* RFC 7515 section 7.1: exactly three parts separated by '.' */
    const char *d1 = memchr(jwt, '.', len);
    const char *d2 = d1 != NULL ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt)) : NULL;
    ATLS_ENSURE(d1 != NULL && d2 != NULL &&
                    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt)) == NULL,
                ATLS_ERR_DECODE_VALUE, "EAR JWT: not three dot-separated parts");
    atls_error rc = ATLS_OK;
    json_t *hdr = NULL, *claims = NULL;
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    ATLS_GUARD_GOTO(rc, done, parse_json_part(jwt, (size_t)(d1 - jwt), "header", &hdr));
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    /* RFC 8725 section 3.1: accept only the one algorithm expected, never "none" */
    if (alg == NULL || strcmp(alg, "ES256") != 0) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_VALUE, "EAR JWT: alg is not ES256");
    }
    if (json_object_get(hdr, "crit") != NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_VALUE,
                       "EAR JWT: critical header parameters are not supported");
    }
    const json_t *typ = json_object_get(hdr, "typ");
    if (typ != NULL && !(json_is_string(typ) && strcmp(json_string_value(typ), "JWT") == 0)) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_VALUE, "EAR JWT: typ is not JWT");
    }
    const json_t *kid = json_object_get(hdr, "kid");
    if (kid != NULL) {
        /* a kid that names another key: say so, rather than "bad signature" */
        char want[ATLS_EAR_KID_LEN + 1];
        ATLS_GUARD_GOTO(rc, done, atls_ear_jwk_thumbprint(key, want));
        if (!json_is_string(kid) || strcmp(json_string_value(kid), want) != 0) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO_KEY,
                           "EAR JWT: kid names another key than the one given (expected %s)",
                           want);
        }
    }
    ATLS_GUARD_GOTO(rc, done, atls_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - jwt), &sig,
                                                 &sig_len));
    if (sig_len != 64) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_LENGTH,
                       "EAR JWT: ES256 signature of %zu bytes, expected 64", sig_len);
    }
    rc = atls_ecdsa_verify_raw(key, EVP_sha256(), (const uint8_t *)jwt, (size_t)(d2 - jwt), sig,
                               sig_len);
    if (rc == ATLS_ERR_CRYPTO_SIGNATURE) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO_SIGNATURE,
                       "EAR JWT: ES256 signature does not verify");
    }
    if (rc != ATLS_OK) {
        goto done;
    }
    ATLS_GUARD_GOTO(rc, done,
                    parse_json_part(d1 + 1, (size_t)(d2 - d1 - 1), "claims", &claims));
    ATLS_GUARD_GOTO(rc, done, check_claims(claims, now != 0 ? now : time(NULL)));
    *out_claims = claims;
    claims = NULL;
done:
    json_decref(hdr);
    json_decref(claims);
    free(sig);
    return rc;
}
