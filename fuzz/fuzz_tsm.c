/* fuzz_tsm.c: the configfs-tsm report wrapper (src/evidence/tsm/tsm.h): atls_tsm_report_decode with
 * decode -> encode -> decode giving the same report, the SNP certificate table parser on the
 * auxblob and on the raw input, and the "tsm" verifier (which dispatches on the provider to
 * the snp / tdx / cca parsers; with no trust anchors it must reject). */
#include "fuzz.h"

#include "evidence/tsm/tsm.h"

#include <string.h>

static void cert_table(const uint8_t *data, size_t len)
{
    STACK_OF(X509) *certs = NULL;
    if (atls_tsm_snp_cert_table(data, len, &certs) == ATLS_OK) {
        FUZZ_REQUIRE(certs != NULL && sk_X509_num(certs) <= ATLS_TSM_MAX_CERTS);
        sk_X509_pop_free(certs, X509_free);
    } else {
        FUZZ_REQUIRE(certs == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cert_table(data, size);
    atls_tsm_report r;
    memset(&r, 0, sizeof(r));
    if (atls_tsm_report_decode(data, size, &r) != ATLS_OK) {
        return 0;
    }
    FUZZ_REQUIRE(atls_cursor_remaining(&r.outblob) <= ATLS_TSM_MAX_BLOB);
    FUZZ_REQUIRE(memchr(r.provider, 0, sizeof(r.provider)) != NULL);
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    FUZZ_REQUIRE(atls_tsm_report_encode(atls_cursor_data(&r.outblob),
                                        atls_cursor_remaining(&r.outblob), r.provider,
                                        r.has_auxblob ? atls_cursor_data(&r.auxblob) : NULL,
                                        r.has_auxblob ? atls_cursor_remaining(&r.auxblob) : 0,
                                        &enc, &enc_len) == ATLS_OK);
    atls_tsm_report r2;
    memset(&r2, 0, sizeof(r2));
    FUZZ_REQUIRE(atls_tsm_report_decode(enc, enc_len, &r2) == ATLS_OK);
    FUZZ_REQUIRE(strcmp(r.provider, r2.provider) == 0);
    FUZZ_REQUIRE(atls_cursor_equals(&r2.outblob, atls_cursor_data(&r.outblob),
                                    atls_cursor_remaining(&r.outblob)));
    FUZZ_REQUIRE(r2.has_auxblob == r.has_auxblob);
    if (r.has_auxblob) {
        FUZZ_REQUIRE(atls_cursor_equals(&r2.auxblob, atls_cursor_data(&r.auxblob),
                                        atls_cursor_remaining(&r.auxblob)));
        cert_table(atls_cursor_data(&r.auxblob), atls_cursor_remaining(&r.auxblob));
    }
    free(enc);

    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    atls_evidence_result res;
    memset(&res, 0, sizeof(res));
    FUZZ_REQUIRE(atls_tsm_verifier_ops.verify(data, size, &in, &res) != ATLS_OK);
    atls_evidence_result_cleanup(&res);
    return 0;
}
