/* tpm2_public.c: TPM2B_PUBLIC parser for ECC and RSA signing keys (TPM 2.0 Part 2 §12.2.4,
 * §12.2.3.5, §12.2.3.6), the object name (Part 1 §16) and the EVP_PKEY. RSA is here for the
 * AKs that clouds provision (Azure's vTPM AK is RSA-2048, RSASSA-SHA256). */
#include "evidence/tpm2/tpm2.h"

#include "base/cursor.h"
#include "base/result.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <string.h>

/* Builds an EC public key from the TPM's unsigned big-endian x and y (left-padded to the
 * field size). OpenSSL's import decodes the point, which checks it is on the curve. */
static atls_error ec_key_from_xy(uint16_t curve, const uint8_t *x, size_t x_len,
                                 const uint8_t *y, size_t y_len, EVP_PKEY **out)
{
    const char *group;
    size_t field;
    switch (curve) {
    case ATLS_TPM2_ECC_NIST_P256:
        group = "prime256v1";
        field = 32;
        break;
    case ATLS_TPM2_ECC_NIST_P384:
        group = "secp384r1";
        field = 48;
        break;
    default:
        ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "TPM2B_PUBLIC: curveID 0x%04x not supported", curve);
    }
    ATLS_ENSURE(x_len <= field && y_len <= field, ATLS_ERR_DECODE_LENGTH,
                "TPM2B_PUBLIC: point coordinate longer than the %zu-byte field", field);
    uint8_t point[1 + 2 * 48];
    memset(point, 0, sizeof(point));
    point[0] = 0x04; /* uncompressed, SEC 1 §2.3.3 */
    memcpy(point + 1 + field - x_len, x, x_len);
    memcpy(point + 1 + 2 * field - y_len, y, y_len);

    atls_error rc = ATLS_OK;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * field),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *check = NULL;
    ATLS_GUARD_OSSL_GOTO(rc, done, ctx != NULL ? EVP_PKEY_fromdata_init(ctx) : 0, ATLS_ERR_CRYPTO,
                         "EC key import init");
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params),
                         ATLS_ERR_CRYPTO_KEY, "TPM2B_PUBLIC: point is not a valid %s key", group);
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    ATLS_GUARD_OSSL_GOTO(rc, done, check != NULL ? EVP_PKEY_public_check(check) : 0,
                         ATLS_ERR_CRYPTO_KEY, "TPM2B_PUBLIC: point is not a valid %s key", group);
    *out = pkey;
    pkey = NULL;
done:
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return rc;
}

/* Builds an RSA public key from the TPM's modulus (unsigned big-endian) and exponent (0 means
 * the default 2^16 + 1, Part 2 §12.2.3.5). */
static atls_error rsa_key_from_n(const uint8_t *n, size_t n_len, uint32_t exponent,
                                 EVP_PKEY **out)
{
    atls_error rc = ATLS_OK;
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    if (bn_n == NULL || bn_e == NULL || bld == NULL || ctx == NULL ||
        BN_set_word(bn_e, exponent == 0 ? 65537u : exponent) != 1) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    ATLS_GUARD_OSSL_GOTO(rc, done,
                         OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
                             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e),
                         ATLS_ERR_CRYPTO, "RSA key parameters");
    params = OSSL_PARAM_BLD_to_param(bld);
    ATLS_GUARD_OSSL_GOTO(rc, done, params != NULL ? EVP_PKEY_fromdata_init(ctx) : 0,
                         ATLS_ERR_CRYPTO, "RSA key import init");
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params),
                         ATLS_ERR_CRYPTO_KEY, "TPM2B_PUBLIC: not a valid RSA key");
    *out = pkey;
    pkey = NULL;
done:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return rc;
}

/* TPMS_RSA_PARMS (Part 2 §12.2.3.5) of a signing key: symmetric NULL, scheme RSASSA / RSAPSS
 * (with a hash) or NULL, keyBits 2048..4096, exponent. */
static atls_error get_rsa_parms(atls_cursor *c, atls_tpm2_public *out, uint16_t *bits,
                                uint32_t *exponent)
{
    uint16_t sym;
    ATLS_ENSURE(atls_cursor_get_u16(c, &sym), ATLS_ERR_DECODE_TRUNCATED,
                "TPM2B_PUBLIC: symmetric truncated");
    ATLS_ENSURE(sym == ATLS_TPM2_ALG_NULL, ATLS_ERR_DECODE_VALUE,
                "TPM2B_PUBLIC: symmetric 0x%04x on a signing key (must be TPM_ALG_NULL)", sym);
    ATLS_ENSURE(atls_cursor_get_u16(c, &out->scheme), ATLS_ERR_DECODE_TRUNCATED,
                "TPM2B_PUBLIC: scheme truncated");
    if (out->scheme == ATLS_TPM2_ALG_RSASSA || out->scheme == ATLS_TPM2_ALG_RSAPSS) {
        ATLS_ENSURE(atls_cursor_get_u16(c, &out->scheme_hash), ATLS_ERR_DECODE_TRUNCATED,
                    "TPM2B_PUBLIC: scheme hash truncated");
        ATLS_ENSURE(atls_tpm2_hash_md(out->scheme_hash) != NULL, ATLS_ERR_DECODE_VALUE,
                    "TPM2B_PUBLIC: scheme hash 0x%04x not supported", out->scheme_hash);
    } else {
        ATLS_ENSURE(out->scheme == ATLS_TPM2_ALG_NULL, ATLS_ERR_DECODE_VALUE,
                    "TPM2B_PUBLIC: RSA scheme 0x%04x not supported (RSASSA, RSAPSS or NULL)",
                    out->scheme);
    }
    ATLS_ENSURE(atls_cursor_get_u16(c, bits) && atls_cursor_get_u32(c, exponent),
                ATLS_ERR_DECODE_TRUNCATED, "TPM2B_PUBLIC: keyBits/exponent truncated");
    ATLS_ENSURE(*bits >= 2048 && *bits <= 8 * ATLS_TPM2_MAX_RSA_SIG && *bits % 8 == 0,
                ATLS_ERR_DECODE_VALUE, "TPM2B_PUBLIC: RSA keyBits %u not supported (2048..%d)",
                *bits, 8 * ATLS_TPM2_MAX_RSA_SIG);
    ATLS_ENSURE(*exponent == 0 || (*exponent >= 3 && (*exponent & 1u) == 1), ATLS_ERR_DECODE_VALUE,
                "TPM2B_PUBLIC: RSA exponent %u is not valid", *exponent);
    return ATLS_OK;
}

/* TPMS_ECC_PARMS (Part 2 §12.2.3.6) of a signing key. */
static atls_error get_ecc_parms(atls_cursor *c, atls_tpm2_public *out)
{
    uint16_t sym, kdf, kdf_hash;
    ATLS_ENSURE(atls_cursor_get_u16(c, &sym), ATLS_ERR_DECODE_TRUNCATED,
                "TPM2B_PUBLIC: symmetric truncated");
    /* A signing key has no symmetric algorithm (Part 2 §12.2.3.6). */
    ATLS_ENSURE(sym == ATLS_TPM2_ALG_NULL, ATLS_ERR_DECODE_VALUE,
                "TPM2B_PUBLIC: symmetric 0x%04x on a signing key (must be TPM_ALG_NULL)", sym);
    ATLS_ENSURE(atls_cursor_get_u16(c, &out->scheme), ATLS_ERR_DECODE_TRUNCATED,
                "TPM2B_PUBLIC: scheme truncated");
    if (out->scheme == ATLS_TPM2_ALG_ECDSA) {
        ATLS_ENSURE(atls_cursor_get_u16(c, &out->scheme_hash), ATLS_ERR_DECODE_TRUNCATED,
                    "TPM2B_PUBLIC: scheme hash truncated");
        ATLS_ENSURE(atls_tpm2_hash_md(out->scheme_hash) != NULL, ATLS_ERR_DECODE_VALUE,
                    "TPM2B_PUBLIC: scheme hash 0x%04x not supported", out->scheme_hash);
    } else {
        ATLS_ENSURE(out->scheme == ATLS_TPM2_ALG_NULL, ATLS_ERR_DECODE_VALUE,
                    "TPM2B_PUBLIC: ECC scheme 0x%04x not supported (ECDSA or NULL)",
                    out->scheme);
    }
    ATLS_ENSURE(atls_cursor_get_u16(c, &out->curve) && atls_cursor_get_u16(c, &kdf),
                ATLS_ERR_DECODE_TRUNCATED, "TPM2B_PUBLIC: curveID/kdf truncated");
    if (kdf != ATLS_TPM2_ALG_NULL) { /* every KDF scheme carries a hash (TPMS_SCHEME_HASH) */
        ATLS_ENSURE(atls_cursor_get_u16(c, &kdf_hash), ATLS_ERR_DECODE_TRUNCATED,
                    "TPM2B_PUBLIC: kdf hash truncated");
    }
    return ATLS_OK;
}

static atls_error get_coord(atls_cursor *c, const char *what, atls_cursor *out)
{
    ATLS_ENSURE(atls_cursor_get_u16_prefixed(c, out), ATLS_ERR_DECODE_TRUNCATED,
                "TPM2B_PUBLIC: unique.%s truncated", what);
    ATLS_ENSURE(atls_cursor_remaining(out) > 0 &&
                    atls_cursor_remaining(out) <= ATLS_TPM2_MAX_ECC_COORD,
                ATLS_ERR_DECODE_LENGTH, "TPM2B_PUBLIC: unique.%s is %zu bytes", what,
                atls_cursor_remaining(out));
    return ATLS_OK;
}

static atls_error compute_name(uint16_t name_alg, const uint8_t *tpmt, size_t len,
                               atls_tpm2_public *out)
{
    const EVP_MD *md = atls_tpm2_hash_md(name_alg);
    ATLS_ENSURE(md != NULL, ATLS_ERR_DECODE_VALUE, "TPM2B_PUBLIC: nameAlg 0x%04x not supported",
                name_alg);
    unsigned int dlen = 0;
    ATLS_GUARD_OSSL(EVP_Digest(tpmt, len, out->name + 2, &dlen, md, NULL), ATLS_ERR_CRYPTO,
                    "TPM name digest");
    out->name[0] = (uint8_t)(name_alg >> 8);
    out->name[1] = (uint8_t)name_alg;
    out->name_len = 2 + (size_t)dlen;
    return ATLS_OK;
}

atls_error atls_tpm2_public_parse(const uint8_t *data, size_t len, atls_tpm2_public *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(len <= ATLS_TPM2_MAX_STRUCT, ATLS_ERR_DECODE_TOO_LARGE,
                "TPM2B_PUBLIC: %zu bytes exceeds %d", len, ATLS_TPM2_MAX_STRUCT);
    atls_cursor outer, c, policy, x, y;
    atls_cursor_init(&outer, data, len);
    ATLS_ENSURE(atls_cursor_get_u16_prefixed(&outer, &c), ATLS_ERR_DECODE_TRUNCATED,
                "TPM2B_PUBLIC: truncated");
    ATLS_ENSURE(atls_cursor_is_empty(&outer), ATLS_ERR_DECODE_TRAILING,
                "TPM2B_PUBLIC: %zu trailing bytes", atls_cursor_remaining(&outer));
    const uint8_t *tpmt = atls_cursor_data(&c);
    size_t tpmt_len = atls_cursor_remaining(&c);

    ATLS_ENSURE(atls_cursor_get_u16(&c, &out->type) && atls_cursor_get_u16(&c, &out->name_alg) &&
                    atls_cursor_get_u32(&c, &out->attributes),
                ATLS_ERR_DECODE_TRUNCATED, "TPMT_PUBLIC: header truncated");
    ATLS_ENSURE(out->type == ATLS_TPM2_ALG_ECC || out->type == ATLS_TPM2_ALG_RSA,
                ATLS_ERR_DECODE_VALUE, "TPMT_PUBLIC: type 0x%04x not supported (ECC or RSA keys)",
                out->type);
    ATLS_ENSURE(atls_cursor_get_u16_prefixed(&c, &policy), ATLS_ERR_DECODE_TRUNCATED,
                "TPMT_PUBLIC: authPolicy truncated");
    ATLS_ENSURE(atls_cursor_remaining(&policy) <= ATLS_TPM2_MAX_DIGEST, ATLS_ERR_DECODE_LENGTH,
                "TPMT_PUBLIC: authPolicy is %zu bytes", atls_cursor_remaining(&policy));
    if (out->type == ATLS_TPM2_ALG_RSA) {
        uint16_t bits = 0;
        uint32_t exponent = 0;
        ATLS_GUARD(get_rsa_parms(&c, out, &bits, &exponent));
        ATLS_ENSURE(atls_cursor_get_u16_prefixed(&c, &x), ATLS_ERR_DECODE_TRUNCATED,
                    "TPM2B_PUBLIC: unique.rsa truncated");
        ATLS_ENSURE(atls_cursor_remaining(&x) == bits / 8u, ATLS_ERR_DECODE_LENGTH,
                    "TPM2B_PUBLIC: modulus is %zu bytes, keyBits says %u",
                    atls_cursor_remaining(&x), bits / 8u);
        ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                    "TPMT_PUBLIC: %zu trailing bytes", atls_cursor_remaining(&c));
        ATLS_GUARD(compute_name(out->name_alg, tpmt, tpmt_len, out));
        return rsa_key_from_n(atls_cursor_data(&x), atls_cursor_remaining(&x), exponent,
                              &out->key);
    }
    ATLS_GUARD(get_ecc_parms(&c, out));
    ATLS_GUARD(get_coord(&c, "x", &x));
    ATLS_GUARD(get_coord(&c, "y", &y));
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "TPMT_PUBLIC: %zu trailing bytes", atls_cursor_remaining(&c));
    ATLS_GUARD(compute_name(out->name_alg, tpmt, tpmt_len, out));
    ATLS_GUARD(ec_key_from_xy(out->curve, atls_cursor_data(&x), atls_cursor_remaining(&x),
                              atls_cursor_data(&y), atls_cursor_remaining(&y), &out->key));
    return ATLS_OK;
}

void atls_tpm2_public_cleanup(atls_tpm2_public *pub)
{
    if (pub == NULL) {
        return;
    }
    EVP_PKEY_free(pub->key);
    memset(pub, 0, sizeof(*pub));
}

/* An attestation key must be restricted (it signs only TPM-generated structures, which is
 * what makes the TPM_GENERATED_VALUE magic meaningful), a signing key, and fixedTPM. */
atls_error atls_tpm2_public_check_ak(const atls_tpm2_public *pub)
{
    const uint32_t need =
        ATLS_TPM2_OBJ_RESTRICTED | ATLS_TPM2_OBJ_SIGN | ATLS_TPM2_OBJ_FIXEDTPM;
    ATLS_ENSURE((pub->attributes & need) == need, ATLS_ERR_EVIDENCE,
                "TPM AK: objectAttributes 0x%08x lack restricted|sign|fixedTPM", pub->attributes);
    ATLS_ENSURE((pub->attributes & ATLS_TPM2_OBJ_DECRYPT) == 0, ATLS_ERR_EVIDENCE,
                "TPM AK: objectAttributes 0x%08x has decrypt set", pub->attributes);
    return ATLS_OK;
}
