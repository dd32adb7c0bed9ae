/* fuzz_tpm2_public.c: TPM2B_PUBLIC parsing of an ECC key (atls_tpm2_public_parse, Part 2
 * §12.2), its name, the EVP_PKEY built from the point, and the AK attribute check. */
#include "fuzz.h"

#include "evidence/tpm2/tpm2.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_tpm2_public pub;
    memset(&pub, 0, sizeof(pub));
    atls_error rc = atls_tpm2_public_parse(data, size, &pub);
    if (rc == ATLS_OK) {
        FUZZ_REQUIRE(pub.key != NULL);
        FUZZ_REQUIRE(pub.name_len >= 2 && pub.name_len <= ATLS_TPM2_MAX_NAME);
        FUZZ_REQUIRE(pub.name_len == 2 + atls_tpm2_hash_size(pub.name_alg));
        fuzz_ignore(atls_tpm2_public_check_ak(&pub));
        /* the qualified name as a primary of the endorsement hierarchy */
        static const uint8_t eh[4] = {0x40, 0x00, 0x00, 0x0b};
        uint8_t qn[ATLS_TPM2_MAX_NAME];
        size_t qn_len = 0;
        FUZZ_REQUIRE(atls_tpm2_qualified_name(eh, sizeof(eh), pub.name, pub.name_len, qn,
                                              &qn_len) == ATLS_OK);
        FUZZ_REQUIRE(qn_len == pub.name_len);
    }
    atls_tpm2_public_cleanup(&pub); /* also on failure (tpm2.h) */
    return 0;
}
