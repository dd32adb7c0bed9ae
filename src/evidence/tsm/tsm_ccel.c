/* tsm_ccel.c: the CC event log of a TDX guest as an event log record beside its tsm report
 * (tsm.h; docs/EVIDENCE.md "CCEL on TDX"). Linux exposes the ACPI "CCEL" table
 * (/sys/firmware/acpi/tables/CCEL; ACPI 6.5 section 5.2.34) and the log area it describes
 * (/sys/firmware/acpi/tables/data/CCEL: Log Area Minimum Length bytes, the events, then the
 * firmware's 0xFF fill). The table is no Evidence (nothing measures it); it is checked here so a
 * wrong file fails at the attester, and the entries alone go out: the fill is tens of KiB of
 * nothing and would crowd the authenticator. */
#include "evidence/tsm/tsm.h"

#include "base/file.h"
#include "base/result.h"
#include "evidence/eventlog/eventlog.h"

#include <stdio.h>
#include <stdlib.h>

#define ATTESTER ATLS_ERR_EVIDENCE_ATTESTER
#define MAX_TABLE 4096u

/* check_table: the table is a TDX CCEL table whose log area holds |log_len| bytes. */
static atls_error check_table(const char *path, size_t log_len)
{
    uint8_t *t = NULL;
    size_t len = 0;
    ATLS_GUARD(atls_file_read(path, MAX_TABLE, &t, &len));
    atls_ccel_table tab;
    atls_error rc = atls_ccel_table_parse(t, len, &tab);
    free(t);
    if (rc != ATLS_OK) {
        char inner[200];
        snprintf(inner, sizeof(inner), "%s", atls_error_message());
        ATLS_RAISE(rc, "tsm attester: %s: %s", path, inner);
    }
    ATLS_ENSURE(tab.cc_type == 2, ATTESTER,
                "tsm attester: %s is the CCEL table of a %s guest, not TDX", path,
                atls_ccel_type_name(tab.cc_type));
    ATLS_ENSURE(log_len <= tab.log_area_minimum_length, ATTESTER,
                "tsm attester: the CC event log has %zu bytes, its ACPI table says the log area "
                "has %llu",
                log_len, (unsigned long long)tab.log_area_minimum_length);
    return ATLS_OK;
}

atls_error atls_tsm_ccel_record(const char *log_path, const char *table_path, uint8_t **out,
                                size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    ATLS_GUARD(atls_file_read(log_path, ATLS_EVLOG_MAX_SIZE, &bytes, &len));
    atls_error rc = table_path != NULL ? check_table(table_path, len) : ATLS_OK;
    atls_evlog log = {0};
    if (rc == ATLS_OK) {
        rc = atls_evlog_parse_ccel(bytes, len, &log);
        if (rc != ATLS_OK) {
            char inner[200];
            snprintf(inner, sizeof(inner), "%s", atls_error_message());
            rc = atls_error_raise(rc, __FILE__, __LINE__, "tsm attester: %s: %s", log_path,
                                  inner);
        }
    }
    if (rc == ATLS_OK) {
        /* the entries up to the end marker: parse_ccel accepts a log that ends with its data */
        atls_evlog_record rec = {.kind = ATLS_EVLOG_CCEL, .start = 0, .total = log.num_events};
        atls_cursor_init(&rec.log, bytes, log.content_len);
        rc = atls_evlog_record_encode(&rec, out, out_len);
    }
    atls_evlog_cleanup(&log);
    free(bytes);
    return rc;
}
