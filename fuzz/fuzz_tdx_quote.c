/* fuzz_tdx_quote.c: the Intel TDX DCAP quote parser (atls_tdx_quote_parse, v4/v5),
 * atls_tdx_quote_length on the same bytes, and the PCK chain carried in the quote
 * (certification data type 5: PEM parse, SGX extension of the PCK leaf). */
#include "fuzz.h"

#include "evidence/tdx/tdx_internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t qlen = 0;
    int have_len = atls_tdx_quote_length(data, size, &qlen) == ATLS_OK;
    if (have_len) {
        FUZZ_REQUIRE(qlen <= size);
    }
    atls_tdx_quote q;
    memset(&q, 0, sizeof(q));
    if (atls_tdx_quote_parse(data, size, &q) != ATLS_OK) {
        return 0;
    }
    /* a parsed quote is exactly as long as its framing says */
    FUZZ_REQUIRE(have_len && qlen == size);
    FUZZ_REQUIRE(q.version == 4 || q.version == 5);
    FUZZ_REQUIRE(q.signed_data == data && q.signed_len <= size);
    FUZZ_REQUIRE(q.qe_auth_len == 0 || (q.qe_auth >= data && q.qe_auth + q.qe_auth_len <= data + size));
    FUZZ_REQUIRE(q.pck_chain_len == 0 ||
                 (q.pck_chain >= data && q.pck_chain + q.pck_chain_len <= data + size));
    if (q.pck_chain_len > 0) {
        STACK_OF(X509) *chain = NULL;
        if (atls_tdx_load_pem_chain(q.pck_chain, q.pck_chain_len, ATLS_ERR_EVIDENCE_CHAIN,
                                    &chain) == ATLS_OK) {
            FUZZ_REQUIRE(sk_X509_num(chain) > 0);
            atls_tdx_pck_info info;
            fuzz_ignore(atls_tdx_pck_info_get(sk_X509_value(chain, 0), &info));
            sk_X509_pop_free(chain, X509_free);
        }
    }
    /* the whole verifier with no trust anchors: must fail, after parsing */
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    atls_evidence_result res;
    memset(&res, 0, sizeof(res));
    FUZZ_REQUIRE(atls_tdx_verifier_ops.verify(data, size, &in, &res) != ATLS_OK);
    atls_evidence_result_cleanup(&res);
    return 0;
}
