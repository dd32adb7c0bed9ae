/* fuzz_tpm2_quote.c: the tpm2 Evidence CBOR wrapper (atls_tpm2_quote_decode) with
 * decode -> encode giving back exactly the input (the decoder accepts only the deterministic
 * encoding, so there is one byte form per quote) and -> decode giving the same quote, then the raw-bytes verifier
 * (atls_tpm2_verify_quote) on what was decoded, which parses the three TPM structures. */
#include "fuzz.h"

#include "evidence/tpm2/tpm2.h"

#include <string.h>

static int buf_eq(const atls_buf *a, const atls_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_tpm2_quote q;
    memset(&q, 0, sizeof(q));
    if (atls_tpm2_quote_decode(data, size, &q) != ATLS_OK) {
        atls_tpm2_quote_cleanup(&q);
        return 0;
    }
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    FUZZ_REQUIRE(atls_tpm2_quote_encode(&q, &enc, &enc_len) == ATLS_OK);
    FUZZ_REQUIRE(enc_len == size && memcmp(enc, data, size) == 0);
    atls_tpm2_quote q2;
    memset(&q2, 0, sizeof(q2));
    FUZZ_REQUIRE(atls_tpm2_quote_decode(enc, enc_len, &q2) == ATLS_OK);
    FUZZ_REQUIRE(buf_eq(&q.attest, &q2.attest) && buf_eq(&q.sig, &q2.sig) &&
                 buf_eq(&q.ak_public, &q2.ak_public) && buf_eq(&q.ak_cert, &q2.ak_cert));
    FUZZ_REQUIRE(q.num_pcrs == q2.num_pcrs);
    for (size_t i = 0; i < q.num_pcrs; i++) {
        const atls_tpm2_pcr_value *a = &q.pcrs[i], *b = &q2.pcrs[i];
        FUZZ_REQUIRE(a->alg == b->alg && a->index == b->index && a->digest_len == b->digest_len &&
                     a->digest_len <= ATLS_TPM2_MAX_DIGEST &&
                     memcmp(a->digest, b->digest, a->digest_len) == 0);
    }
    /* encode is deterministic: encoding the second decode gives the same bytes */
    uint8_t *enc2 = NULL;
    size_t enc2_len = 0;
    FUZZ_REQUIRE(atls_tpm2_quote_encode(&q2, &enc2, &enc2_len) == ATLS_OK);
    FUZZ_REQUIRE(enc2_len == enc_len && memcmp(enc, enc2, enc_len) == 0);
    free(enc2);
    free(enc);
    atls_tpm2_quote_cleanup(&q2);

    atls_tpm2_verified v;
    memset(&v, 0, sizeof(v));
    fuzz_ignore(atls_tpm2_verify_quote(&q, NULL, &v));
    atls_tpm2_verified_cleanup(&v);
    atls_tpm2_quote_cleanup(&q);
    return 0;
}
