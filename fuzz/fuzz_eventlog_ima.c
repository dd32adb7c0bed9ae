/* fuzz_eventlog_ima.c: the IMA measurement list parser, then replay into SHA-1, SHA-256 and
 * SHA-384 banks and claims on what it accepts (fuzz_eventlog.h). */
#include "fuzz_eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t banks[] = {ATLS_TCG_ALG_SHA1, ATLS_TCG_ALG_SHA256, ATLS_TCG_ALG_SHA384};
    atls_evlog log;
    if (atls_evlog_parse_ima(data, size, &log) == ATLS_OK) {
        fuzz_eventlog_check(&log, banks, 3);
    }
    atls_evlog_cleanup(&log);
    return 0;
}
