/*
 * cose.h: COSE_Sign1 (RFC 9052 section 4.2) with ECDSA (RFC 9053 section 2.1), COSE_Key EC2
 * (RFC 9053 section 7.1) and the raw r||s <-> DER conversion OpenSSL needs.
 *
 * Supported algorithms: ES256 (-7, P-256, SHA-256), ES384 (-35, P-384, SHA-384) and ES512 (-36,
 * P-521, SHA-512). The key's curve must be the algorithm's curve (RFC 9053 section 2.1 ties
 * them for atls: a P-384 key with ES256 is refused).
 *
 * Parsing is strict: protected and unprotected header maps must have int or text labels without
 * duplicates, no label may appear in both (RFC 9052 section 3), "crit" (label 2) is refused
 * (atls understands no critical extension), alg (label 1) must be in the protected header,
 * payload nil (detached) is refused unless asked for, trailing bytes are errors.
 *
 * All parsed views borrow the input, which must outlive the atls_cose_sign1.
 */
#ifndef ATLS_COSE_COSE_H
#define ATLS_COSE_COSE_H

#include "base/cursor.h"

#include <atls/error.h>

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* COSE algorithm identifiers (IANA "COSE Algorithms"). */
#define ATLS_COSE_ALG_ES256 (-7)
#define ATLS_COSE_ALG_ES384 (-35)
#define ATLS_COSE_ALG_ES512 (-36)

/* COSE header labels (RFC 9052 section 3.1). */
#define ATLS_COSE_HDR_ALG 1
#define ATLS_COSE_HDR_CRIT 2
#define ATLS_COSE_HDR_CONTENT_TYPE 3
#define ATLS_COSE_HDR_KID 4

/* COSE EC2 curves (RFC 9053 section 7.1). */
#define ATLS_COSE_CRV_P256 1
#define ATLS_COSE_CRV_P384 2
#define ATLS_COSE_CRV_P521 3

#define ATLS_COSE_TAG_SIGN1 18

/* Ceiling on one COSE_Sign1 message accepted by atls_cose_sign1_parse. */
#define ATLS_COSE_MAX_SIZE (1024u * 1024u)

/* Parse flags. */
#define ATLS_COSE_ALLOW_DETACHED 0x1u /* accept payload nil (the caller supplies it) */
#define ATLS_COSE_REQUIRE_TAG 0x2u    /* refuse an untagged COSE_Sign1 */
#define ATLS_COSE_FORBID_TAG 0x4u     /* refuse tag 18 */

/* A parsed COSE_Sign1. Zero-initialise; holds no heap memory. */
typedef struct atls_cose_sign1 {
    bool tagged;                /* input started with tag 18 */
    int64_t alg;                /* ATLS_COSE_ALG_* */
    atls_cursor protected_hdr;  /* contents of the protected bstr (signed as they are) */
    atls_cursor unprotected;    /* encoded unprotected map (whole item) */
    bool detached;              /* payload was nil; set |payload| before verifying */
    atls_cursor payload;        /* contents of the payload bstr */
    atls_cursor signature;      /* r || s */
    bool has_kid;
    atls_cursor kid;            /* label 4, from either bucket, when has_kid */
    bool has_content_type;
    bool content_type_is_text;
    int64_t content_type_cf;    /* label 3 as a CoAP content-format */
    atls_cursor content_type;   /* label 3 as text */
} atls_cose_sign1;

/* atls_cose_sign1_parse parses one COSE_Sign1 (optionally tag 18) of exactly |len| bytes.
 * |flags| is a combination of ATLS_COSE_* parse flags. Unknown algorithms fail with
 * ATLS_ERR_USAGE_UNSUPPORTED; shape errors with ATLS_ERR_DECODE_*. */
ATLS_MUST_CHECK atls_error atls_cose_sign1_parse(const uint8_t *data, size_t len, unsigned flags,
                                                 atls_cose_sign1 *out);

/* atls_cose_sign1_verify checks |msg|'s signature with |key| (borrowed) over
 * Sig_structure = ["Signature1", protected, external_aad, payload] (RFC 9052 section 4.4).
 * Fails with ATLS_ERR_CRYPTO_KEY if |key| is not an EC key on alg's curve, ATLS_ERR_DECODE_LENGTH
 * if the signature is not 2 * the coordinate size, ATLS_ERR_CRYPTO_SIGNATURE if it does not
 * verify. |external_aad| may be NULL when |aad_len| is 0. */
ATLS_MUST_CHECK atls_error atls_cose_sign1_verify(const atls_cose_sign1 *msg, EVP_PKEY *key,
                                                  const uint8_t *external_aad, size_t aad_len);

/* Options for atls_cose_sign1_sign. Zero-initialised means: untagged, no content type, no kid,
 * no external AAD. Everything is borrowed. */
typedef struct atls_cose_sign_opts {
    bool tagged;                  /* emit tag 18 */
    const char *content_type;     /* protected label 3 (text), or NULL */
    const uint8_t *kid;           /* unprotected label 4, or NULL */
    size_t kid_len;
    const uint8_t *external_aad;  /* or NULL */
    size_t external_aad_len;
} atls_cose_sign_opts;

/* atls_cose_sign1_sign signs |payload| with the EC private key |key| (borrowed; P-256 -> ES256,
 * P-384 -> ES384, P-521 -> ES512) and writes a COSE_Sign1 with protected header {1: alg
 * [, 3: content_type]} into a malloc'd buffer (*out, caller frees). |opts| may be NULL. */
ATLS_MUST_CHECK atls_error atls_cose_sign1_sign(const uint8_t *payload, size_t payload_len,
                                                EVP_PKEY *key, const atls_cose_sign_opts *opts,
                                                uint8_t **out, size_t *out_len);

/* atls_cose_alg_for_key returns the ES* algorithm matching |key|'s curve
 * (ATLS_ERR_CRYPTO_KEY if it is not a P-256/P-384/P-521 EC key). */
ATLS_MUST_CHECK atls_error atls_cose_alg_for_key(EVP_PKEY *key, int64_t *alg);

/* atls_cose_key_to_pkey decodes a COSE_Key EC2 public key (kty 2, crv 1/2/3, x, y as byte
 * strings of the coordinate size; other labels are ignored, compressed y is refused) of exactly
 * |len| bytes into a new EVP_PKEY (*out, caller frees with EVP_PKEY_free). The point is checked
 * to be on the curve. */
ATLS_MUST_CHECK atls_error atls_cose_key_to_pkey(const uint8_t *data, size_t len, EVP_PKEY **out);

/* atls_cose_ec_point_to_pkey builds a public EVP_PKEY (caller frees) from a SEC1 uncompressed
 * point 0x04 || X || Y on the COSE curve |crv| (ATLS_COSE_CRV_*). */
ATLS_MUST_CHECK atls_error atls_cose_ec_point_to_pkey(int64_t crv, const uint8_t *point,
                                                      size_t len, EVP_PKEY **out);

/* atls_cose_ec_pkey_to_point writes |key|'s SEC1 uncompressed public point into a malloc'd
 * buffer (*out, caller frees) and its COSE curve into *crv (may be NULL). */
ATLS_MUST_CHECK atls_error atls_cose_ec_pkey_to_point(EVP_PKEY *key, int64_t *crv, uint8_t **out,
                                                      size_t *out_len);

/* atls_ecdsa_raw_to_der converts a raw r || s signature (two equal halves) into a DER
 * ECDSA-Sig-Value in a malloc'd buffer (*der, caller frees with OPENSSL_free). */
ATLS_MUST_CHECK atls_error atls_ecdsa_raw_to_der(const uint8_t *raw, size_t raw_len,
                                                 uint8_t **der, size_t *der_len);

/* atls_ecdsa_der_to_raw converts a DER ECDSA-Sig-Value into r || s, each left-padded to
 * |coord_len| bytes, written to |raw| (2 * coord_len bytes of caller storage). */
ATLS_MUST_CHECK atls_error atls_ecdsa_der_to_raw(const uint8_t *der, size_t der_len,
                                                 size_t coord_len, uint8_t *raw);

/* atls_ecdsa_sign_raw signs |msg| with EC key |key| and hash |md| and writes r || s (2 *
 * coord_len bytes) into |raw|; atls_ecdsa_verify_raw checks such a signature
 * (ATLS_ERR_CRYPTO_SIGNATURE on mismatch). Used by COSE and by the EAR's JWS (ES256). */
ATLS_MUST_CHECK atls_error atls_ecdsa_sign_raw(EVP_PKEY *key, const EVP_MD *md,
                                               const uint8_t *msg, size_t msg_len,
                                               size_t coord_len, uint8_t *raw);
ATLS_MUST_CHECK atls_error atls_ecdsa_verify_raw(EVP_PKEY *key, const EVP_MD *md,
                                                 const uint8_t *msg, size_t msg_len,
                                                 const uint8_t *raw, size_t raw_len);

#endif /* ATLS_COSE_COSE_H */
