/* cca_testgen.h: test-only generator of CCA-shaped tokens (tag-399 collection of a platform
 * COSE_Sign1 signed by a test CPAK and a realm COSE_Sign1 signed by a test RAK). Nothing here is
 * Arm's: the keys are made by the tests. Also used by tests/tsm. */
#ifndef ATLS_TESTS_CCA_TESTGEN_H
#define ATLS_TESTS_CCA_TESTGEN_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tg_cca_fields {
    int cose_key;              /* 1: 2023 profiles, RAK as COSE_Key; 0: legacy, SEC1 point */
    uint8_t challenge[64];     /* realm challenge */
    uint8_t pv[64];            /* personalization value */
    uint8_t rim[32];
    uint8_t rem[4][32];
    uint64_t lifecycle;
    const char *rak_hash;      /* realm claim 44240, "sha-256" by default */
    int bad_binding;           /* 1: platform challenge is not H(RAK) */
    uint8_t bl_measurement[32];/* measurement of sw component "BL" */
    uint8_t rmm_measurement[32];
} tg_cca_fields;

/* tg_cca_defaults fills |f| with fixed patterns, lifecycle 0x3003, legacy profile. */
void tg_cca_defaults(tg_cca_fields *f);

/* tg_cca_key_new: a fresh EC key on "P-256" or "P-384" (caller frees). */
EVP_PKEY *tg_cca_key_new(const char *curve);

/* tg_cca_token builds a signed token (malloc'd, *len; caller frees) or returns NULL. */
uint8_t *tg_cca_token(const tg_cca_fields *f, EVP_PKEY *cpak, EVP_PKEY *rak, size_t *len);

#endif
