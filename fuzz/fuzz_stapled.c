/* fuzz_stapled.c: a CMW with Endorsement records merged into a verify input
 * (src/appraisal/appraise/stapled.h), with no base input and with one holding a CRL: never a
 * crash or a leak; on success the merged TDX documents point into the input and at most
 * ATLS_STAPLED_MAX_CERTS certificates were taken. */
#include "fuzz.h"

#include "appraisal/appraise/stapled.h"

#include <string.h>

static int inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
    return p == NULL || (p >= data && p + n <= data + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_cmw cmw;
    memset(&cmw, 0, sizeof(cmw));
    if (atls_cmw_decode(data, size, &cmw) != ATLS_OK) {
        return 0;
    }
    /* 2024-01-01: a fixed verification time, so a seed's windows mean the same on every run */
    atls_verify_input base;
    memset(&base, 0, sizeof(base));
    base.at = 1704067200;
    atls_stapled s;
    if (atls_stapled_merge(&cmw, &base, &s) == ATLS_OK) {
        FUZZ_REQUIRE(inside(s.in.tcb_info, s.in.tcb_info_len, data, size));
        FUZZ_REQUIRE(inside(s.in.qe_identity, s.in.qe_identity_len, data, size));
        FUZZ_REQUIRE(sk_X509_num(s.intermediates) <= ATLS_STAPLED_MAX_CERTS);
        FUZZ_REQUIRE(s.num_endorsements <= cmw.num_leaves);
        /* with the merged CRLs as the relying party's own, a second merge keeps theirs */
        atls_verify_input again = s.in;
        atls_stapled t;
        if (atls_stapled_merge(&cmw, &again, &t) == ATLS_OK) {
            FUZZ_REQUIRE(sk_X509_CRL_num(t.crls) == sk_X509_CRL_num(s.crls));
            atls_stapled_cleanup(&t);
        }
        atls_stapled_cleanup(&s);
    }
    fuzz_ignore(atls_stapled_merge(&cmw, NULL, &s));
    atls_stapled_cleanup(&s);
    return 0;
}
