/* fuzz_eventlog_ccel.c: the CC event log parser (and the ACPI CCEL table parser on the same
 * bytes), then replay and claims on what it accepts (fuzz_eventlog.h). */
#include "fuzz_eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_ccel_table table;
    fuzz_ignore(atls_ccel_table_parse(data, size, &table));
    atls_evlog log;
    if (atls_evlog_parse_ccel(data, size, &log) == ATLS_OK) {
        fuzz_eventlog_check(&log, NULL, 0);
    }
    atls_evlog_cleanup(&log);
    return 0;
}
