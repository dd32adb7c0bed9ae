/* claims.c: claim and policy helpers shared by the verifiers (claims.h). */
#include "evidence/core/claims.h"

#include "base/hex.h"
#include "base/result.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
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

/* DER SubjectPublicKeyInfo prefixes (RFC 5480 section 2: id-ecPublicKey, named curve, then the
 * BIT STRING header) for an uncompressed point of P-256 (65 bytes) and P-384 (97 bytes). */
static const uint8_t SPKI_P256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
                                    0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                    0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
static const uint8_t SPKI_P384[] = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04,
                                    0x00, 0x22, 0x03, 0x62, 0x00};

/* ec_spki writes the DER SPKI of an EC key on P-256 / P-384 with an uncompressed point into
 * |der| and returns its length, or 0 when the key is anything else (the caller then uses
 * i2d_PUBKEY). Why: in OpenSSL 3.0, i2d_PUBKEY of a provider key searches every encoder of
 * every provider, which costs more than verifying the ECDSA signature it identifies; the
 * bytes are the same (tests/evidence/test_key_id.c compares both). */
static size_t ec_spki(EVP_PKEY *pkey, uint8_t der[sizeof(SPKI_P384) + 97])
{
    char group[32], form[32];
    uint8_t point[133];
    size_t glen = 0, flen = 0, plen = 0;
    /* i2d_PUBKEY follows the key's point conversion form; the encoded public key parameter
     * does not, so only keys that i2d would write uncompressed take this path */
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, form,
                                       sizeof(form), &flen) != 1 ||
        strcmp(form, "uncompressed") != 0 ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1 ||
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                        sizeof(point), &plen) != 1) {
        ERR_clear_error();
        return 0;
    }
    const uint8_t *prefix = NULL;
    size_t prefix_len = 0;
    if (strcmp(group, "prime256v1") == 0 && plen == 65) {
        prefix = SPKI_P256, prefix_len = sizeof(SPKI_P256);
    } else if (strcmp(group, "secp384r1") == 0 && plen == 97) {
        prefix = SPKI_P384, prefix_len = sizeof(SPKI_P384);
    }
    if (prefix == NULL || point[0] != 0x04) {
        return 0; /* another curve or a compressed point: the general encoder decides */
    }
    memcpy(der, prefix, prefix_len);
    memcpy(der + prefix_len, point, plen);
    return prefix_len + plen;
}

atls_error atls_key_id(EVP_PKEY *pkey, char out[65])
{
    uint8_t md[32], fast[sizeof(SPKI_P384) + 97];
    size_t fast_len = ec_spki(pkey, fast);
    int ok;
    if (fast_len > 0) {
        ok = EVP_Digest(fast, fast_len, md, NULL, EVP_sha256(), NULL);
    } else {
        unsigned char *der = NULL;
        int n = i2d_PUBKEY(pkey, &der);
        ATLS_ENSURE(n > 0, ATLS_ERR_CRYPTO_KEY, "cannot encode the attestation key");
        ok = EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
        OPENSSL_free(der);
    }
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
