/* fuzz_ear_jwt.c: EAR JWT verification (src/codec/ear/ear.h), which `atls ear verify` runs on
 * tokens from anyone. The first byte picks the mode:
 *   even: the rest is a token, verified with the fixed fuzz key (seeds signed with it verify);
 *   odd:  the rest is a claims document; when it is a JSON object it is signed with the fixed key
 *         and verified, so the claim checks after the signature are reached for every mutation.
 *         Property: signing succeeds, and a token that verifies carries exactly those claims. */
#include "fuzz.h"
#include "fuzz_key.h"

#include "codec/ear/ear.h"

#include <string.h>

/* a time inside the validity of the seeds (exp of make_seeds' EARs is later) */
#define FUZZ_NOW ((time_t)1767225700)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static EVP_PKEY *key;
    if (key == NULL) {
        key = fuzz_key_load();
        FUZZ_SETUP(key != NULL);
    }
    if (size < 1 || size > ATLS_EAR_JWT_MAX) {
        return 0;
    }
    json_t *claims = NULL;
    if ((data[0] & 1) == 0) {
        char *token = malloc(size);
        FUZZ_SETUP(token != NULL);
        memcpy(token, data + 1, size - 1);
        token[size - 1] = '\0';
        if (atls_ear_verify_jwt(token, key, FUZZ_NOW, &claims) == ATLS_OK) {
            FUZZ_REQUIRE(json_is_object(claims));
            json_decref(claims);
        }
        free(token);
        return 0;
    }
    json_t *doc = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(doc)) {
        char *jwt = NULL;
        FUZZ_REQUIRE(atls_ear_sign_jwt(doc, key, &jwt) == ATLS_OK);
        if (atls_ear_verify_jwt(jwt, key, FUZZ_NOW, &claims) == ATLS_OK) {
            FUZZ_REQUIRE(json_equal(claims, doc));
            json_decref(claims);
        }
        free(jwt);
    }
    json_decref(doc);
    return 0;
}
