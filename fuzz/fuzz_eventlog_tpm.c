/* fuzz_eventlog_tpm.c: the TCG PC Client firmware log parser (crypto-agile and legacy SHA-1),
 * then replay and claims on what it accepts (fuzz_eventlog.h). */
#include "fuzz_eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_evlog log;
    if (atls_evlog_parse_tpm(data, size, &log) == ATLS_OK) {
        fuzz_eventlog_check(&log, NULL, 0);
    }
    atls_evlog_cleanup(&log);
    return 0;
}
