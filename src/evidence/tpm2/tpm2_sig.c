/* tpm2_sig.c: TPMT_SIGNATURE parser (TPM 2.0 Part 2 §11.3.4) and ECDSA r,s -> DER. */
#include "evidence/tpm2/tpm2.h"

#include "base/cursor.h"
#include "base/result.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <string.h>

static atls_error get_tpm2b(atls_cursor *c, const char *what, uint8_t *dst, size_t max,
                            size_t *out_len)
{
    atls_cursor v;
    ATLS_ENSURE(atls_cursor_get_u16_prefixed(c, &v), ATLS_ERR_DECODE_TRUNCATED,
                "TPMT_SIGNATURE: %s truncated", what);
    ATLS_ENSURE(atls_cursor_remaining(&v) > 0 && atls_cursor_remaining(&v) <= max,
                ATLS_ERR_DECODE_LENGTH, "TPMT_SIGNATURE: %s is %zu bytes, allowed 1..%zu", what,
                atls_cursor_remaining(&v), max);
    *out_len = atls_cursor_remaining(&v);
    if (!atls_cursor_copy_bytes(&v, dst, *out_len)) {
        ATLS_RAISE(ATLS_ERR_INTERNAL, "TPMT_SIGNATURE: copy of %s failed", what);
    }
    return ATLS_OK;
}

atls_error atls_tpm2_signature_parse(const uint8_t *data, size_t len, atls_tpm2_signature *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(len <= ATLS_TPM2_MAX_STRUCT, ATLS_ERR_DECODE_TOO_LARGE,
                "TPMT_SIGNATURE: %zu bytes exceeds %d", len, ATLS_TPM2_MAX_STRUCT);
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    ATLS_ENSURE(atls_cursor_get_u16(&c, &out->sig_alg) && atls_cursor_get_u16(&c, &out->hash_alg),
                ATLS_ERR_DECODE_TRUNCATED, "TPMT_SIGNATURE: header truncated");
    switch (out->sig_alg) {
    case ATLS_TPM2_ALG_ECDSA: /* TPMS_SIGNATURE_ECC: hash, signatureR, signatureS */
        ATLS_GUARD(get_tpm2b(&c, "signatureR", out->r, ATLS_TPM2_MAX_ECC_COORD, &out->r_len));
        ATLS_GUARD(get_tpm2b(&c, "signatureS", out->s, ATLS_TPM2_MAX_ECC_COORD, &out->s_len));
        break;
    case ATLS_TPM2_ALG_RSASSA: /* TPMS_SIGNATURE_RSA: hash, sig (TPM2B_PUBLIC_KEY_RSA) */
    case ATLS_TPM2_ALG_RSAPSS:
        ATLS_GUARD(get_tpm2b(&c, "sig", out->rsa_sig, ATLS_TPM2_MAX_RSA_SIG, &out->rsa_sig_len));
        break;
    default:
        ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "TPMT_SIGNATURE: sigAlg 0x%04x not supported",
                   out->sig_alg);
    }
    ATLS_ENSURE(atls_tpm2_hash_size(out->hash_alg) != 0 && out->hash_alg != ATLS_TPM2_ALG_SHA1,
                ATLS_ERR_DECODE_VALUE, "TPMT_SIGNATURE: hash 0x%04x not supported",
                out->hash_alg);
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "TPMT_SIGNATURE: %zu trailing bytes", atls_cursor_remaining(&c));
    return ATLS_OK;
}

atls_error atls_tpm2_signature_to_der(const atls_tpm2_signature *sig, uint8_t **out,
                                      size_t *out_len)
{
    ATLS_ENSURE(sig->sig_alg == ATLS_TPM2_ALG_ECDSA, ATLS_ERR_USAGE,
                "TPMT_SIGNATURE: not an ECDSA signature");
    atls_error rc = ATLS_OK;
    BIGNUM *r = BN_bin2bn(sig->r, (int)sig->r_len, NULL);
    BIGNUM *s = BN_bin2bn(sig->s, (int)sig->s_len, NULL);
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    if (r == NULL || s == NULL || es == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    ATLS_GUARD_OSSL_GOTO(rc, done, ECDSA_SIG_set0(es, r, s), ATLS_ERR_CRYPTO, "ECDSA_SIG_set0");
    r = s = NULL; /* owned by es now */
    int n = i2d_ECDSA_SIG(es, &der);
    if (n <= 0) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_CRYPTO, "i2d_ECDSA_SIG failed");
    }
    *out = atls_memdup(der, (size_t)n);
    if (*out == NULL) {
        ATLS_FAIL_GOTO(rc, done, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    *out_len = (size_t)n;
done:
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    BN_free(r);
    BN_free(s);
    return rc;
}
