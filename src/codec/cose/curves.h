/* curves.h (internal to the cose module): the table tying COSE curves, ES* algorithms,
 * OpenSSL group names, coordinate sizes and hashes together (RFC 9053 sections 2.1 and 7.1). */
#ifndef ATLS_COSE_CURVES_H
#define ATLS_COSE_CURVES_H

#include <atls/error.h>

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

typedef struct atls_cose_curve {
    int64_t crv;        /* ATLS_COSE_CRV_* */
    int64_t alg;        /* ATLS_COSE_ALG_* */
    const char *group;  /* OpenSSL group name */
    size_t coord_len;   /* bytes per coordinate (and per r, s) */
    const EVP_MD *(*md)(void);
    const char *alg_name;
} atls_cose_curve;

/* Lookups: the table entry or NULL. Static data. */
const atls_cose_curve *atls_cose_curve_by_crv(int64_t crv);
const atls_cose_curve *atls_cose_curve_by_alg(int64_t alg);

/* atls_cose_curve_of_key: the entry for |key|'s curve (ATLS_ERR_CRYPTO_KEY if not EC or a curve
 * outside the table). */
ATLS_MUST_CHECK atls_error atls_cose_curve_of_key(EVP_PKEY *key, const atls_cose_curve **out);

#endif /* ATLS_COSE_CURVES_H */
