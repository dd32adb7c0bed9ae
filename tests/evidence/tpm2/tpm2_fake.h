/* tpm2_fake.h: software-made quotes for negative tests. A P-256 (or RSA-2048) key in OpenSSL
 * stands in for the AK, so each verifier check can be made to fail alone with a valid signature. */
#ifndef ATLS_TESTS_TPM2_FAKE_H
#define ATLS_TESTS_TPM2_FAKE_H

#include "evidence/tpm2/tpm2.h"

typedef struct fake_opts {
    uint32_t magic;             /* 0 = TPM_GENERATED_VALUE */
    uint16_t type;              /* 0 = quote */
    uint32_t attrs;             /* 0 = restricted|sign|fixedTPM|... */
    const uint8_t *signer;      /* NULL = the AK's qualified name as an endorsement primary */
    size_t signer_len;
    const uint8_t *extra;
    size_t extra_len;
    const char *pcr_spec;       /* NULL = "sha256:0-7,23" */
    int corrupt_digest;         /* flip a bit of pcrDigest */
    uint16_t sig_hash;          /* 0 = SHA-256 */
    uint8_t pcr_fill;           /* PCR i of the bank = bytes (pcr_fill + i) */
} fake_opts;

/* fake_quote builds a signed quote with |key| as AK into |q| (caller cleans up). Returns 0. */
int fake_quote(EVP_PKEY *key, const fake_opts *o, atls_tpm2_quote *q);

/* fake_public marshals a TPM2B_PUBLIC for |key| with |attrs| into |out|. */
int fake_public(EVP_PKEY *key, uint32_t attrs, atls_buf *out);

/* fake_key returns a fresh P-256 key (caller frees). */
EVP_PKEY *fake_key(void);

/* fake_rsa_key returns a fresh RSA-2048 key (caller frees); fake_public and fake_quote make an
 * RSASSA-SHA256 AK of it, as Azure's vTPM AK is. */
EVP_PKEY *fake_rsa_key(void);

#endif
