/* claims.c: claim and policy helpers shared by the verifiers (claims.h). */
#include "evidence/claims.h"

#include "base/hex.h"
#include "base/result.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void atls_evidence_result_cleanup(atls_evidence_result *res)
{
    if (res == NULL) {
        return;
    }
    json_decref(res->claims);
    memset(res, 0, sizeof(*res));
}

static atls_error set_new(json_t *obj, const char *key, json_t *v)
{
    ATLS_ENSURE(v != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    ATLS_ENSURE(json_object_set_new(obj, key, v) == 0, ATLS_ERR_INTERNAL_ALLOC,
                "cannot set claim %s", key);
    return ATLS_OK;
}

atls_error atls_claims_set_hex(json_t *obj, const char *key, const uint8_t *data, size_t len)
{
    char *hex = atls_hex_encode_alloc(data, len);
    ATLS_ENSURE(hex != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    json_t *v = json_string(hex);
    free(hex);
    return set_new(obj, key, v);
}

atls_error atls_claims_set_int(json_t *obj, const char *key, int64_t v)
{
    return set_new(obj, key, json_integer((json_int_t)v));
}

atls_error atls_claims_set_str(json_t *obj, const char *key, const char *v)
{
    return set_new(obj, key, json_string(v));
}

atls_error atls_claims_set_bool(json_t *obj, const char *key, int v)
{
    return set_new(obj, key, json_boolean(v));
}

atls_error atls_key_id(EVP_PKEY *pkey, char out[65])
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pkey, &der);
    ATLS_ENSURE(n > 0, ATLS_ERR_CRYPTO_KEY, "cannot encode the attestation key");
    uint8_t md[32];
    int ok = EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
    OPENSSL_free(der);
    ATLS_ENSURE(ok == 1, ATLS_ERR_CRYPTO, "SHA-256 failed");
    return atls_hex_encode(out, 65, md, sizeof(md));
}

atls_error atls_policy_check_keys(const json_t *section, const char *const *allowed)
{
    ATLS_ENSURE(json_is_object(section), ATLS_ERR_POLICY_INVALID, "must be an object");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)section, key, value) {
        int known = 0;
        for (size_t i = 0; allowed[i] != NULL; i++) {
            if (strcmp(key, allowed[i]) == 0) {
                known = 1;
                break;
            }
        }
        ATLS_ENSURE(known, ATLS_ERR_POLICY_INVALID, "unknown key \"%s\"", key);
    }
    return ATLS_OK;
}

atls_error atls_policy_check_hex_list(const json_t *value, size_t len, const char *what)
{
    ATLS_ENSURE(json_is_array(value), ATLS_ERR_POLICY_INVALID, "\"%s\" must be an array",
                what);
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item) {
        const char *s = json_string_value(item);
        ATLS_ENSURE(s != NULL, ATLS_ERR_POLICY_INVALID, "\"%s\"[%zu] must be a hex string",
                    what, i);
        size_t n = strlen(s);
        ATLS_ENSURE(n % 2 == 0 && (len == 0 || n == 2 * len), ATLS_ERR_POLICY_INVALID,
                    "\"%s\"[%zu] must be %zu hex digits", what, i, 2 * len);
        for (size_t k = 0; k < n; k++) {
            char c = s[k];
            ATLS_ENSURE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                            (c >= 'A' && c <= 'F'),
                        ATLS_ERR_POLICY_INVALID, "\"%s\"[%zu] is not hex", what, i);
        }
    }
    return ATLS_OK;
}

int atls_policy_hex_in_list(const json_t *list, const char *hex)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        const char *s = json_string_value(item);
        if (s != NULL && strcasecmp(s, hex) == 0) {
            return 1;
        }
    }
    return 0;
}

atls_error atls_policy_check_bool(const json_t *section, const char *key)
{
    const json_t *v = json_object_get(section, key);
    ATLS_ENSURE(v == NULL || json_is_boolean(v), ATLS_ERR_POLICY_INVALID,
                "\"%s\" must be true or false", key);
    return ATLS_OK;
}

int atls_policy_get_bool(const json_t *section, const char *key, int dflt)
{
    const json_t *v = json_object_get(section, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}
