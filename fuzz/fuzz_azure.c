/* fuzz_azure.c: the Azure CVM Evidence (src/evidence/azure/azure.h): the Evidence map (decode ->
 * encode -> decode the same), the HCL report parser and the runtime data on whatever "hcl"
 * holds and on the raw input, and the "azure" verifier (no trust anchors: it must reject). */
#include "fuzz.h"

#include "evidence/azure/azure.h"

#include <string.h>

static void hcl(const uint8_t *data, size_t len)
{
    atls_azure_hcl h;
    if (atls_azure_hcl_parse(data, len, &h) != ATLS_OK) {
        return;
    }
    FUZZ_REQUIRE(h.report_size <= len && atls_cursor_remaining(&h.runtime_data) > 0 &&
                 atls_cursor_remaining(&h.runtime_data) <= ATLS_AZURE_MAX_RUNTIME);
    uint8_t rd[64];
    FUZZ_REQUIRE(atls_azure_expected_report_data(&h, rd) == ATLS_OK);
    json_t *rt = NULL;
    EVP_PKEY *ak = NULL;
    if (atls_azure_runtime_parse(&h, &rt, &ak) == ATLS_OK) {
        FUZZ_REQUIRE(rt != NULL && ak != NULL);
    } else {
        FUZZ_REQUIRE(rt == NULL && ak == NULL);
    }
    json_decref(rt);
    EVP_PKEY_free(ak);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hcl(data, size);
    atls_azure_evidence e;
    if (atls_azure_evidence_decode(data, size, &e) != ATLS_OK) {
        return 0;
    }
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    FUZZ_REQUIRE(atls_azure_evidence_encode(
                     atls_cursor_data(&e.hcl), atls_cursor_remaining(&e.hcl),
                     atls_cursor_data(&e.tpm), atls_cursor_remaining(&e.tpm),
                     e.has_certs ? atls_cursor_data(&e.certs) : NULL,
                     atls_cursor_remaining(&e.certs),
                     e.has_tdquote ? atls_cursor_data(&e.tdquote) : NULL,
                     atls_cursor_remaining(&e.tdquote), &enc, &enc_len) == ATLS_OK);
    atls_azure_evidence e2;
    FUZZ_REQUIRE(atls_azure_evidence_decode(enc, enc_len, &e2) == ATLS_OK);
    FUZZ_REQUIRE(atls_cursor_equals(&e2.hcl, atls_cursor_data(&e.hcl),
                                    atls_cursor_remaining(&e.hcl)) &&
                 e2.has_certs == e.has_certs && e2.has_tdquote == e.has_tdquote);
    free(enc);
    hcl(atls_cursor_data(&e.hcl), atls_cursor_remaining(&e.hcl));
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    atls_evidence_result res;
    memset(&res, 0, sizeof(res));
    FUZZ_REQUIRE(atls_azure_verifier_ops.verify(data, size, &in, &res) != ATLS_OK);
    atls_evidence_result_cleanup(&res);
    return 0;
}
