/* test_key_id: atls_key_id (src/evidence/core/claims.c) builds the SPKI of P-256 / P-384 keys itself
 * (a fast path around OpenSSL 3.0's encoder search); it must hash exactly the bytes i2d_PUBKEY
 * produces, for those curves and for every key that takes the general path (P-521, a compressed
 * point, RSA, Ed25519). */
#include "check.h"

#include "base/hex.h"
#include "evidence/core/claims.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

static void expect_same(EVP_PKEY *key, const char *what)
{
    CHECK(key != NULL);
    if (key == NULL) {
        return;
    }
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    CHECK(n > 0);
    uint8_t md[32];
    char want[65], got[65];
    CHECK(EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL) == 1);
    OPENSSL_free(der);
    CHECK_OK(atls_hex_encode(want, sizeof(want), md, sizeof(md)));
    CHECK_OK(atls_key_id(key, got));
    if (strcmp(want, got) != 0) {
        fprintf(stderr, "%s: key id %s, expected %s\n", what, got, want);
    }
    CHECK(strcmp(want, got) == 0);
}

int main(void)
{
    for (int i = 0; i < 3; i++) {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        expect_same(k, "P-256");
        EVP_PKEY_free(k);
        k = EVP_EC_gen("P-384");
        expect_same(k, "P-384");
        EVP_PKEY_free(k);
    }
    EVP_PKEY *k = EVP_EC_gen("P-521");
    expect_same(k, "P-521");
    EVP_PKEY_free(k);

    /* a P-256 key whose point format is compressed: i2d_PUBKEY writes 33 bytes of point, and
     * the key id must follow it */
    k = EVP_EC_gen("P-256");
    CHECK(k != NULL && EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                      "compressed") == 1);
    expect_same(k, "P-256 compressed");
    EVP_PKEY_free(k);

    k = EVP_RSA_gen(2048);
    expect_same(k, "RSA-2048");
    EVP_PKEY_free(k);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    expect_same(k, "Ed25519");
    EVP_PKEY_free(k);
    return check_summary();
}
