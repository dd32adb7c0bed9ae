/* eventlog_ccel.c: the ACPI "CCEL" table (ACPI 6.5 section 5.2.34, CC Event Log ACPI Table):
 * the standard 36-byte description header, then CC Type, CC Subtype, Reserved, Log Area
 * Minimum Length (LAML) and Log Area Start Address (LASA); 56 bytes in all, little-endian,
 * all bytes summing to zero (section 5.2.6). */
#include "evidence/eventlog/eventlog_internal.h"

#include <string.h>

#define CCEL_TABLE_LEN 56

const char *atls_ccel_type_name(uint8_t cc_type)
{
    switch (cc_type) {
    case 1:
        return "SEV";
    case 2:
        return "TDX";
    default:
        return "unknown";
    }
}

static void copy_text(char *dst, atls_cursor src)
{
    size_t n = atls_cursor_remaining(&src);
    const uint8_t *p = atls_cursor_data(&src);
    for (size_t i = 0; i < n; i++) {
        dst[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    }
    dst[n] = '\0';
}

static atls_error parse(const uint8_t *data, size_t len, atls_ccel_table *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(data != NULL && len >= CCEL_TABLE_LEN, ATLS_ERR_DECODE_CCEL_TABLE,
                "%zu bytes, the table has %d", len, CCEL_TABLE_LEN);
    atls_cursor c, sig, oem_id, oem_table, creator;
    uint32_t length = 0, oem_rev = 0, creator_rev = 0;
    uint8_t checksum = 0;
    uint16_t reserved = 0;
    atls_cursor_init(&c, data, len);
    /* the length was checked: every read below succeeds */
    bool ok = atls_cursor_get_bytes(&c, &sig, 4) && atls_cursor_get_u32_le(&c, &length) &&
              atls_cursor_get_u8(&c, &out->revision) && atls_cursor_get_u8(&c, &checksum) &&
              atls_cursor_get_bytes(&c, &oem_id, 6) && atls_cursor_get_bytes(&c, &oem_table, 8) &&
              atls_cursor_get_u32_le(&c, &oem_rev) && atls_cursor_get_bytes(&c, &creator, 4) &&
              atls_cursor_get_u32_le(&c, &creator_rev) && atls_cursor_get_u8(&c, &out->cc_type) &&
              atls_cursor_get_u8(&c, &out->cc_subtype) &&
              atls_cursor_get_u16_le(&c, &reserved) &&
              atls_cursor_get_u64_le(&c, &out->log_area_minimum_length) &&
              atls_cursor_get_u64_le(&c, &out->log_area_start_address);
    ATLS_ENSURE(ok, ATLS_ERR_INTERNAL, "table fields");
    ATLS_ENSURE(atls_cursor_equals(&sig, (const uint8_t *)"CCEL", 4), ATLS_ERR_DECODE_CCEL_TABLE,
                "signature is not \"CCEL\"");
    ATLS_ENSURE(length == len && len == CCEL_TABLE_LEN, ATLS_ERR_DECODE_CCEL_TABLE,
                "header length %u, table of %zu bytes (revision 1 has %d)", length, len,
                CCEL_TABLE_LEN);
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + data[i]);
    }
    ATLS_ENSURE(sum == 0, ATLS_ERR_DECODE_CCEL_CHECKSUM, "bytes sum to 0x%02x, not 0", sum);
    ATLS_ENSURE(out->cc_type == 1 || out->cc_type == 2, ATLS_ERR_DECODE_CCEL_TABLE,
                "CC type %u (1 = SEV, 2 = TDX)", out->cc_type);
    ATLS_ENSURE(out->log_area_minimum_length > 0, ATLS_ERR_DECODE_CCEL_TABLE,
                "empty log area");
    copy_text(out->oem_id, oem_id);
    copy_text(out->oem_table_id, oem_table);
    return ATLS_OK;
}

atls_error atls_ccel_table_parse(const uint8_t *data, size_t len, atls_ccel_table *out)
{
    return atls_evlog_reraise(parse(data, len, out), "ACPI CCEL table");
}
