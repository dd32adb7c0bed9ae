/* fuzz_snp.c: the AMD SEV-SNP report parser (atls_snp_report_parse) and TCB decoding. The
 * report is a fixed 1184-byte layout, so most inputs fail on length; seeds are valid reports
 * from the test generator (tests/evidence/snp/snp_testgen.c) and the fuzzer mostly flips fields. */
#include "fuzz.h"

#include "evidence/snp/snp.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_snp_report r;
    memset(&r, 0, sizeof(r));
    if (atls_snp_report_parse(data, size, &r) != ATLS_OK) {
        return 0;
    }
    FUZZ_REQUIRE(size == ATLS_SNP_REPORT_LEN);
    FUZZ_REQUIRE(r.version >= 2 && r.version <= 5);
    /* version 4 has the version-3 layout: no mitigation vectors */
    FUZZ_REQUIRE(r.version >= 5 || (r.launch_mit_vector == 0 && r.current_mit_vector == 0));
    atls_snp_signer s = atls_snp_report_signer(&r);
    FUZZ_REQUIRE(s == ATLS_SNP_SIGNER_VCEK || s == ATLS_SNP_SIGNER_VLEK);
    /* report_data is copied out verbatim from offset 0x50 */
    FUZZ_REQUIRE(memcmp(r.report_data, data + 0x50, 64) == 0);
    atls_snp_tcb t;
    for (int turin = 0; turin < 2; turin++) {
        atls_snp_tcb_decode(r.current_tcb, turin, &t);
        FUZZ_REQUIRE(t.raw == r.current_tcb);
        atls_snp_tcb_decode(r.reported_tcb, turin, &t);
        atls_snp_tcb_decode(r.committed_tcb, turin, &t);
        atls_snp_tcb_decode(r.launch_tcb, turin, &t);
    }
    /* verification with no certificates fails cleanly after parsing */
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    atls_evidence_result res;
    memset(&res, 0, sizeof(res));
    FUZZ_REQUIRE(atls_snp_verify_report(data, size, &in, NULL, &res) != ATLS_OK);
    atls_evidence_result_cleanup(&res);
    return 0;
}
