/* fuzz_cose.c: COSE_Sign1 parsing with every flag combination (src/codec/cose/cose.h), signature
 * verification against the fixed fuzz key (seeds are signed with it, so unprotected-header
 * mutations stay verifiable), COSE_Key EC2 decoding with point round trip, and the ECDSA
 * DER <-> raw conversions with round trip. */
#include "fuzz.h"
#include "fuzz_key.h"

#include "codec/cose/cose.h"

#include <openssl/crypto.h>
#include <string.h>

static EVP_PKEY *key;

static void sign1(const uint8_t *data, size_t size)
{
    static const unsigned flag_sets[] = {0, ATLS_COSE_ALLOW_DETACHED, ATLS_COSE_REQUIRE_TAG,
                                         ATLS_COSE_FORBID_TAG};
    for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
        atls_cose_sign1 msg;
        memset(&msg, 0, sizeof(msg));
        if (atls_cose_sign1_parse(data, size, flag_sets[i], &msg) != ATLS_OK) {
            continue;
        }
        FUZZ_REQUIRE(msg.alg == ATLS_COSE_ALG_ES256 || msg.alg == ATLS_COSE_ALG_ES384 ||
                     msg.alg == ATLS_COSE_ALG_ES512);
        FUZZ_REQUIRE(!(flag_sets[i] & ATLS_COSE_REQUIRE_TAG) || msg.tagged);
        FUZZ_REQUIRE(!(flag_sets[i] & ATLS_COSE_FORBID_TAG) || !msg.tagged);
        FUZZ_REQUIRE(!msg.detached || (flag_sets[i] & ATLS_COSE_ALLOW_DETACHED));
        if (msg.detached) {
            atls_cursor_init(&msg.payload, (const uint8_t *)"detached", 8);
        }
        fuzz_ignore(atls_cose_sign1_verify(&msg, key, NULL, 0));
        fuzz_ignore(atls_cose_sign1_verify(&msg, key, (const uint8_t *)"aad", 3));
    }
}

static void cose_key(const uint8_t *data, size_t size)
{
    EVP_PKEY *pk = NULL;
    if (atls_cose_key_to_pkey(data, size, &pk) != ATLS_OK) {
        FUZZ_REQUIRE(pk == NULL);
        return;
    }
    int64_t crv = 0;
    uint8_t *point = NULL;
    size_t point_len = 0;
    FUZZ_REQUIRE(atls_cose_ec_pkey_to_point(pk, &crv, &point, &point_len) == ATLS_OK);
    EVP_PKEY *pk2 = NULL;
    FUZZ_REQUIRE(atls_cose_ec_point_to_pkey(crv, point, point_len, &pk2) == ATLS_OK);
    FUZZ_REQUIRE(EVP_PKEY_eq(pk, pk2) == 1);
    int64_t alg = 0;
    FUZZ_REQUIRE(atls_cose_alg_for_key(pk, &alg) == ATLS_OK);
    EVP_PKEY_free(pk2);
    free(point);
    EVP_PKEY_free(pk);
}

static void ecdsa(const uint8_t *data, size_t size)
{
    static const size_t coords[] = {32, 48, 66};
    for (size_t i = 0; i < 3; i++) {
        uint8_t raw[2 * 66], raw2[2 * 66];
        if (atls_ecdsa_der_to_raw(data, size, coords[i], raw) != ATLS_OK) {
            continue;
        }
        uint8_t *der = NULL;
        size_t der_len = 0;
        FUZZ_REQUIRE(atls_ecdsa_raw_to_der(raw, 2 * coords[i], &der, &der_len) == ATLS_OK);
        FUZZ_REQUIRE(atls_ecdsa_der_to_raw(der, der_len, coords[i], raw2) == ATLS_OK);
        FUZZ_REQUIRE(memcmp(raw, raw2, 2 * coords[i]) == 0);
        OPENSSL_free(der);
    }
    /* raw -> DER -> raw for even-length inputs taken as r || s */
    if (size > 0 && size % 2 == 0 && size <= 2 * 66) {
        uint8_t *der = NULL;
        size_t der_len = 0;
        if (atls_ecdsa_raw_to_der(data, size, &der, &der_len) == ATLS_OK) {
            uint8_t raw[2 * 66];
            FUZZ_REQUIRE(atls_ecdsa_der_to_raw(der, der_len, size / 2, raw) == ATLS_OK);
            FUZZ_REQUIRE(memcmp(raw, data, size) == 0);
            OPENSSL_free(der);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (key == NULL) {
        key = fuzz_key_load();
        FUZZ_SETUP(key != NULL);
    }
    sign1(data, size);
    cose_key(data, size);
    ecdsa(data, size);
    return 0;
}
