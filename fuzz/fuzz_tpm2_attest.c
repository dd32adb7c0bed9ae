/* fuzz_tpm2_attest.c: TPMS_ATTEST parsing (atls_tpm2_attest_parse, TPM 2.0 Part 2 §10.12). */
#include "fuzz.h"

#include "evidence/tpm2/tpm2.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_tpm2_attest a;
    memset(&a, 0, sizeof(a));
    if (atls_tpm2_attest_parse(data, size, &a) != ATLS_OK) {
        return 0;
    }
    FUZZ_REQUIRE(a.type == ATLS_TPM2_ST_ATTEST_QUOTE);
    FUZZ_REQUIRE(a.qualified_signer_len <= ATLS_TPM2_MAX_NAME);
    FUZZ_REQUIRE(a.extra_data_len <= ATLS_TPM2_MAX_EXTRA);
    FUZZ_REQUIRE(a.pcr_digest_len <= ATLS_TPM2_MAX_DIGEST);
    FUZZ_REQUIRE(a.pcr_select.count <= ATLS_TPM2_MAX_BANKS);
    for (size_t i = 0; i < a.pcr_select.count; i++) {
        FUZZ_REQUIRE(a.pcr_select.banks[i].size_of_select <= ATLS_TPM2_MAX_SELECT);
    }
    size_t n = atls_tpm2_pcr_selection_count(&a.pcr_select);
    FUZZ_REQUIRE(n <= ATLS_TPM2_MAX_PCRS);
    /* the digest over a selection with no values supplied is refused, never read past */
    uint8_t digest[ATLS_TPM2_MAX_DIGEST];
    size_t dlen = 0;
    if (n > 0) {
        FUZZ_REQUIRE(atls_tpm2_pcr_digest(ATLS_TPM2_ALG_SHA256, &a.pcr_select, NULL, 0, digest,
                                          &dlen) != ATLS_OK);
    }
    return 0;
}
