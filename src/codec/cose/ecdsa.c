/* ecdsa.c: the curve table (curves.h) and ECDSA with raw r || s signatures, the form COSE
 * (RFC 9053 section 2.1) and JWS (RFC 7518 section 3.4) use; OpenSSL speaks DER. */
#include "codec/cose/cose.h"
#include "codec/cose/curves.h"

#include "base/mem.h"
#include "base/result.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

static const atls_cose_curve curves[] = {
    {ATLS_COSE_CRV_P256, ATLS_COSE_ALG_ES256, "prime256v1", 32, EVP_sha256, "ES256"},
    {ATLS_COSE_CRV_P384, ATLS_COSE_ALG_ES384, "secp384r1", 48, EVP_sha384, "ES384"},
    {ATLS_COSE_CRV_P521, ATLS_COSE_ALG_ES512, "secp521r1", 66, EVP_sha512, "ES512"},
};

const atls_cose_curve *atls_cose_curve_by_crv(int64_t crv)
{
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (curves[i].crv == crv) {
            return &curves[i];
        }
    }
    return NULL;
}

const atls_cose_curve *atls_cose_curve_by_alg(int64_t alg)
{
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (curves[i].alg == alg) {
            return &curves[i];
        }
    }
    return NULL;
}

atls_error atls_cose_curve_of_key(EVP_PKEY *key, const atls_cose_curve **out)
{
    ATLS_ENSURE(key != NULL, ATLS_ERR_USAGE, "ECDSA: no key");
    ATLS_ENSURE(EVP_PKEY_is_a(key, "EC"), ATLS_ERR_CRYPTO_KEY, "ECDSA: key is not an EC key");
    char group[64];
    size_t glen = 0;
    ATLS_GUARD_OSSL(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                   sizeof(group), &glen),
                    ATLS_ERR_CRYPTO_KEY, "ECDSA: key has no named curve");
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(curves[i].group, group) == 0) {
            *out = &curves[i];
            return ATLS_OK;
        }
    }
    ATLS_RAISE(ATLS_ERR_CRYPTO_KEY, "ECDSA: curve %s is not P-256, P-384 or P-521", group);
}

atls_error atls_cose_alg_for_key(EVP_PKEY *key, int64_t *alg)
{
    const atls_cose_curve *cv = NULL;
    ATLS_GUARD(atls_cose_curve_of_key(key, &cv));
    *alg = cv->alg;
    return ATLS_OK;
}

atls_error atls_ecdsa_raw_to_der(const uint8_t *raw, size_t raw_len, uint8_t **der,
                                 size_t *der_len)
{
    ATLS_ENSURE(raw_len > 0 && raw_len % 2 == 0 && raw_len <= 2 * 66, ATLS_ERR_DECODE_LENGTH,
                "ECDSA: raw signature of %zu bytes is not r || s", raw_len);
    size_t half = raw_len / 2;
    atls_error rc = ATLS_OK;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(raw + half, (int)half, NULL);
    unsigned char *p = NULL;
    if (sig == NULL || r == NULL || s == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "ECDSA: out of memory");
    }
    ECDSA_SIG_set0(sig, r, s); /* cannot fail with non-NULL r and s; owns them now */
    r = NULL;
    s = NULL;
    int n = i2d_ECDSA_SIG(sig, &p);
    if (n <= 0) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO, "ECDSA: DER encoding failed");
    }
    *der = p;
    *der_len = (size_t)n;
done:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rc;
}

atls_error atls_ecdsa_der_to_raw(const uint8_t *der, size_t der_len, size_t coord_len,
                                 uint8_t *raw)
{
    ATLS_ENSURE(der_len <= 256 && coord_len > 0 && coord_len <= 66, ATLS_ERR_USAGE,
                "ECDSA: bad DER signature or coordinate size");
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (sig == NULL || p != der + der_len) {
        ECDSA_SIG_free(sig); /* trailing bytes after a valid SEQUENCE (found by fuzz_cose) */
        ATLS_RAISE(ATLS_ERR_CRYPTO, "ECDSA: signature from OpenSSL is not one DER ECDSA-Sig-Value");
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_bn2binpad(r, raw, (int)coord_len) == (int)coord_len &&
             BN_bn2binpad(s, raw + coord_len, (int)coord_len) == (int)coord_len;
    ECDSA_SIG_free(sig);
    ATLS_ENSURE(ok, ATLS_ERR_CRYPTO, "ECDSA: r or s longer than %zu bytes", coord_len);
    return ATLS_OK;
}

atls_error atls_ecdsa_sign_raw(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg,
                               size_t msg_len, size_t coord_len, uint8_t *raw)
{
    atls_error rc = ATLS_OK;
    unsigned char der[160];
    size_t der_len = sizeof(der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "ECDSA: out of memory");
    }
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestSignInit(ctx, NULL, md, NULL, key), ATLS_ERR_CRYPTO,
                         "ECDSA: cannot initialise signing");
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestSign(ctx, der, &der_len, msg, msg_len),
                         ATLS_ERR_CRYPTO, "ECDSA: signing failed");
    ATLS_GUARD_GOTO(rc, done, atls_ecdsa_der_to_raw(der, der_len, coord_len, raw));
done:
    EVP_MD_CTX_free(ctx);
    return rc;
}

atls_error atls_ecdsa_verify_raw(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg,
                                 size_t msg_len, const uint8_t *raw, size_t raw_len)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    ATLS_GUARD(atls_ecdsa_raw_to_der(raw, raw_len, &der, &der_len));
    atls_error rc = ATLS_OK;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "ECDSA: out of memory");
    }
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_DigestVerifyInit(ctx, NULL, md, NULL, key),
                         ATLS_ERR_CRYPTO_KEY, "ECDSA: cannot initialise verification");
    if (EVP_DigestVerify(ctx, der, der_len, msg, msg_len) != 1) {
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO_SIGNATURE, "ECDSA: signature does not verify");
    }
done:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return rc;
}
