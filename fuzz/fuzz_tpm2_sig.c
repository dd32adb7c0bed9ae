/* fuzz_tpm2_sig.c: TPMT_SIGNATURE parsing (atls_tpm2_signature_parse, Part 2 §11.3) and, for
 * ECDSA, the conversion to a DER ECDSA-Sig-Value. */
#include "fuzz.h"

#include "evidence/tpm2/tpm2.h"

#include <openssl/ecdsa.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_tpm2_signature s;
    memset(&s, 0, sizeof(s));
    if (atls_tpm2_signature_parse(data, size, &s) != ATLS_OK) {
        return 0;
    }
    FUZZ_REQUIRE(s.r_len <= ATLS_TPM2_MAX_ECC_COORD && s.s_len <= ATLS_TPM2_MAX_ECC_COORD);
    FUZZ_REQUIRE(s.rsa_sig_len <= ATLS_TPM2_MAX_RSA_SIG);
    if (s.sig_alg == ATLS_TPM2_ALG_ECDSA) {
        uint8_t *der = NULL;
        size_t der_len = 0;
        if (atls_tpm2_signature_to_der(&s, &der, &der_len) == ATLS_OK) {
            const unsigned char *p = der;
            ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
            FUZZ_REQUIRE(sig != NULL && p == der + der_len);
            ECDSA_SIG_free(sig);
            OPENSSL_free(der);
        }
    } else {
        FUZZ_REQUIRE(s.sig_alg == ATLS_TPM2_ALG_RSASSA || s.sig_alg == ATLS_TPM2_ALG_RSAPSS);
    }
    return 0;
}
