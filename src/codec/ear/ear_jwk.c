/* ear_jwk.c: the EAR signing key as a JWK (RFC 7517; EC members RFC 7518 section 6.2) and its
 * JWK thumbprint (RFC 7638), the "kid" of atls's EAR JWTs (ear.h). */
#include "codec/ear/ear.h"

#include "base/result.h"
#include "codec/cose/cose.h"
#include "codec/ear/base64url.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P256_COORD 32

/* public_coords: base64url x and y of a P-256 key (caller frees both). */
static atls_error public_coords(EVP_PKEY *key, char **x, char **y)
{
    int64_t crv = 0;
    uint8_t *point = NULL;
    size_t len = 0;
    ATLS_GUARD(atls_cose_ec_pkey_to_point(key, &crv, &point, &len));
    atls_error rc = ATLS_OK;
    *x = *y = NULL;
    if (crv != ATLS_COSE_CRV_P256 || len != 1 + 2 * P256_COORD) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO_KEY, "JWK: the EAR key must be P-256 (ES256)");
    }
    /* RFC 7518 section 6.2.1.2/3: x and y are the full-length coordinates (SEC1 0x04 || X || Y) */
    ATLS_GUARD_GOTO(rc, done, atls_b64url_encode(point + 1, P256_COORD, x));
    ATLS_GUARD_GOTO(rc, done, atls_b64url_encode(point + 1 + P256_COORD, P256_COORD, y));
done:
    if (rc != ATLS_OK) {
        free(*x);
        *x = NULL;
    }
    free(point);
    return rc;
}

atls_error atls_ear_jwk_thumbprint(EVP_PKEY *key, char out[ATLS_EAR_KID_LEN + 1])
{
    ATLS_ENSURE(key != NULL && out != NULL, ATLS_ERR_USAGE, "JWK: no key");
    char *x = NULL, *y = NULL;
    ATLS_GUARD(public_coords(key, &x, &y));
    /* RFC 7638 section 3.2: the required members only, in lexicographic order, no whitespace */
    char members[160];
    int n = snprintf(members, sizeof(members),
                     "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    free(x);
    free(y);
    ATLS_ENSURE(n > 0 && (size_t)n < sizeof(members), ATLS_ERR_INTERNAL, "JWK: thumbprint input");
    uint8_t md[32];
    ATLS_ENSURE(EVP_Digest(members, (size_t)n, md, NULL, EVP_sha256(), NULL) == 1,
                ATLS_ERR_CRYPTO, "JWK: SHA-256 failed");
    char *b64 = NULL;
    ATLS_GUARD(atls_b64url_encode(md, sizeof(md), &b64));
    snprintf(out, ATLS_EAR_KID_LEN + 1, "%s", b64); /* 32 bytes are always 43 characters */
    free(b64);
    return ATLS_OK;
}

atls_error atls_ear_jwk(EVP_PKEY *key, json_t **out)
{
    ATLS_ENSURE(key != NULL && out != NULL, ATLS_ERR_USAGE, "JWK: no key");
    char kid[ATLS_EAR_KID_LEN + 1];
    ATLS_GUARD(atls_ear_jwk_thumbprint(key, kid));
    char *x = NULL, *y = NULL;
    ATLS_GUARD(public_coords(key, &x, &y));
    json_t *jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256",
                            "x", x, "y", y, "kid", kid, "alg", "ES256", "use", "sig");
    free(x);
    free(y);
    ATLS_ENSURE(jwk != NULL, ATLS_ERR_INTERNAL_ALLOC, "JWK: out of memory");
    *out = jwk;
    return ATLS_OK;
}
