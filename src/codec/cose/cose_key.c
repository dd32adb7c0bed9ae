/* cose_key.c: EC public keys from COSE_Key EC2 maps (RFC 9053 section 7.1.1) and from SEC1
 * uncompressed points (SEC 1 v2 section 2.3.3), and back. */
#include "codec/cose/cose.h"
#include "codec/cose/curves.h"

#include "base/result.h"
#include "codec/cbor/cbor.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

atls_error atls_cose_ec_point_to_pkey(int64_t crv, const uint8_t *point, size_t len,
                                      EVP_PKEY **out)
{
    const atls_cose_curve *cv = atls_cose_curve_by_crv(crv);
    ATLS_ENSURE(cv != NULL, ATLS_ERR_USAGE_UNSUPPORTED, "EC point: COSE curve %lld unsupported",
                (long long)crv);
    ATLS_ENSURE(len == 1 + 2 * cv->coord_len, ATLS_ERR_DECODE_LENGTH,
                "EC point: %zu bytes, expected %zu for %s", len, 1 + 2 * cv->coord_len,
                cv->group);
    ATLS_ENSURE(point[0] == 0x04, ATLS_ERR_DECODE_VALUE,
                "EC point: not an uncompressed SEC1 point (first byte 0x%02x)", point[0]);
    atls_error rc = ATLS_OK;
    EVP_PKEY_CTX *ctx = NULL, *check = NULL;
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)cv->group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, len);
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "EC point: out of memory");
    }
    ATLS_GUARD_OSSL_GOTO(rc, done, EVP_PKEY_fromdata_init(ctx), ATLS_ERR_CRYPTO,
                         "EC point: fromdata init failed");
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO_KEY, "EC point: not a point on %s", cv->group);
    }
    /* EVP_PKEY_fromdata decodes the point; the public check makes the curve check explicit. */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (check == NULL || EVP_PKEY_public_check(check) != 1) {
        ERR_clear_error();
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO_KEY, "EC point: not a valid point on %s",
                       cv->group);
    }
    *out = pkey;
    pkey = NULL;
done:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

atls_error atls_cose_ec_pkey_to_point(EVP_PKEY *key, int64_t *crv, uint8_t **out,
                                      size_t *out_len)
{
    const atls_cose_curve *cv;
    ATLS_GUARD(atls_cose_curve_of_key(key, &cv));
    size_t need = 1 + 2 * cv->coord_len;
    uint8_t *buf = malloc(need);
    ATLS_ENSURE(buf != NULL, ATLS_ERR_INTERNAL_ALLOC, "EC point: out of memory");
    size_t got = 0;
    /* OpenSSL exports EC public keys uncompressed by default (point-format "uncompressed"). */
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, buf, need, &got) != 1 ||
        got != need || buf[0] != 0x04) {
        free(buf);
        ERR_clear_error();
        ATLS_RAISE(ATLS_ERR_CRYPTO_KEY, "EC point: cannot export the public point");
    }
    if (crv != NULL) {
        *crv = cv->crv;
    }
    *out = buf;
    *out_len = got;
    return ATLS_OK;
}

/* RFC 9053 section 7.1: kty (1) = EC2 (2), crv (-1), x (-2), y (-3); RFC 9052 section 7.1
 * for the common labels (kid 2, alg 3, key_ops 4, Base IV 5), which atls ignores here. */
atls_error atls_cose_key_to_pkey(const uint8_t *data, size_t len, EVP_PKEY **out)
{
    atls_cursor c, x = {NULL, 0}, y = {NULL, 0};
    atls_cursor_init(&c, data, len);
    int64_t kty = 0, crv = 0;
    bool have_x = false, have_y = false;
    atls_cbor_map_iter it;
    ATLS_GUARD(atls_cbor_map_begin(&c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
        if (atls_cbor_key_is_int(&k, 1)) {
            ATLS_GUARD(atls_cbor_read_int64(&c, &kty));
        } else if (atls_cbor_key_is_int(&k, -1)) {
            ATLS_GUARD(atls_cbor_read_int64(&c, &crv));
        } else if (atls_cbor_key_is_int(&k, -2)) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &x));
            have_x = true;
        } else if (atls_cbor_key_is_int(&k, -3)) {
            atls_cbor_type t;
            ATLS_GUARD(atls_cbor_peek_type(&c, &t));
            ATLS_ENSURE(t != ATLS_CBOR_BOOL, ATLS_ERR_USAGE_UNSUPPORTED,
                        "COSE_Key: compressed points (y as a sign bit) are not supported");
            ATLS_GUARD(atls_cbor_read_bstr(&c, &y));
            have_y = true;
        } else {
            ATLS_GUARD(atls_cbor_skip(&c));
        }
    }
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "COSE_Key: %zu bytes after the key map", atls_cursor_remaining(&c));
    ATLS_ENSURE(kty == 2, ATLS_ERR_USAGE_UNSUPPORTED, "COSE_Key: kty %lld is not EC2 (2)",
                (long long)kty);
    const atls_cose_curve *cv = atls_cose_curve_by_crv(crv);
    ATLS_ENSURE(cv != NULL, ATLS_ERR_USAGE_UNSUPPORTED, "COSE_Key: crv %lld unsupported",
                (long long)crv);
    ATLS_ENSURE(have_x && have_y, ATLS_ERR_DECODE_VALUE, "COSE_Key: x or y missing");
    /* RFC 9053 section 7.1.1: x and y are left-padded to the coordinate size. */
    ATLS_ENSURE(atls_cursor_remaining(&x) == cv->coord_len &&
                    atls_cursor_remaining(&y) == cv->coord_len,
                ATLS_ERR_DECODE_LENGTH, "COSE_Key: x/y are not %zu bytes each", cv->coord_len);
    uint8_t point[1 + 2 * 66];
    point[0] = 0x04;
    memcpy(point + 1, atls_cursor_data(&x), cv->coord_len);
    memcpy(point + 1 + cv->coord_len, atls_cursor_data(&y), cv->coord_len);
    return atls_cose_ec_point_to_pkey(crv, point, 1 + 2 * cv->coord_len, out);
}
