/* eventlog_efi.c: what firmware event data means (eventlog.h, eventlog_internal.h): event
 * type names (PFP 1.05 section 10.4.1), UEFI_VARIABLE_DATA and UEFI_IMAGE_LOAD_EVENT (PFP
 * section 10.2.4 and 10.2.3), text events, and whether an event's digests cover its data. */
#include "evidence/eventlog/eventlog_internal.h"

#include <stdio.h>
#include <string.h>

const char *atls_evlog_event_type_name(uint32_t type)
{
    static const struct {
        uint32_t type;
        const char *name;
    } names[] = {
        {ATLS_EV_PREBOOT_CERT, "EV_PREBOOT_CERT"},
        {ATLS_EV_POST_CODE, "EV_POST_CODE"},
        {0x00000002u, "EV_UNUSED"},
        {ATLS_EV_NO_ACTION, "EV_NO_ACTION"},
        {ATLS_EV_SEPARATOR, "EV_SEPARATOR"},
        {ATLS_EV_ACTION, "EV_ACTION"},
        {ATLS_EV_EVENT_TAG, "EV_EVENT_TAG"},
        {ATLS_EV_S_CRTM_CONTENTS, "EV_S_CRTM_CONTENTS"},
        {ATLS_EV_S_CRTM_VERSION, "EV_S_CRTM_VERSION"},
        {ATLS_EV_CPU_MICROCODE, "EV_CPU_MICROCODE"},
        {ATLS_EV_PLATFORM_CONFIG_FLAGS, "EV_PLATFORM_CONFIG_FLAGS"},
        {ATLS_EV_TABLE_OF_DEVICES, "EV_TABLE_OF_DEVICES"},
        {ATLS_EV_COMPACT_HASH, "EV_COMPACT_HASH"},
        {ATLS_EV_IPL, "EV_IPL"},
        {ATLS_EV_IPL_PARTITION_DATA, "EV_IPL_PARTITION_DATA"},
        {ATLS_EV_NONHOST_CODE, "EV_NONHOST_CODE"},
        {ATLS_EV_NONHOST_CONFIG, "EV_NONHOST_CONFIG"},
        {ATLS_EV_NONHOST_INFO, "EV_NONHOST_INFO"},
        {ATLS_EV_OMIT_BOOT_DEVICE_EVENTS, "EV_OMIT_BOOT_DEVICE_EVENTS"},
        {ATLS_EV_EFI_VARIABLE_DRIVER_CONFIG, "EV_EFI_VARIABLE_DRIVER_CONFIG"},
        {ATLS_EV_EFI_VARIABLE_BOOT, "EV_EFI_VARIABLE_BOOT"},
        {ATLS_EV_EFI_BOOT_SERVICES_APPLICATION, "EV_EFI_BOOT_SERVICES_APPLICATION"},
        {ATLS_EV_EFI_BOOT_SERVICES_DRIVER, "EV_EFI_BOOT_SERVICES_DRIVER"},
        {ATLS_EV_EFI_RUNTIME_SERVICES_DRIVER, "EV_EFI_RUNTIME_SERVICES_DRIVER"},
        {ATLS_EV_EFI_GPT_EVENT, "EV_EFI_GPT_EVENT"},
        {ATLS_EV_EFI_ACTION, "EV_EFI_ACTION"},
        {ATLS_EV_EFI_PLATFORM_FIRMWARE_BLOB, "EV_EFI_PLATFORM_FIRMWARE_BLOB"},
        {ATLS_EV_EFI_HANDOFF_TABLES, "EV_EFI_HANDOFF_TABLES"},
        {ATLS_EV_EFI_PLATFORM_FIRMWARE_BLOB2, "EV_EFI_PLATFORM_FIRMWARE_BLOB2"},
        {ATLS_EV_EFI_HANDOFF_TABLES2, "EV_EFI_HANDOFF_TABLES2"},
        {ATLS_EV_EFI_VARIABLE_BOOT2, "EV_EFI_VARIABLE_BOOT2"},
        {ATLS_EV_EFI_GPT_EVENT2, "EV_EFI_GPT_EVENT2"},
        {ATLS_EV_EFI_HCRTM_EVENT, "EV_EFI_HCRTM_EVENT"},
        {ATLS_EV_EFI_VARIABLE_AUTHORITY, "EV_EFI_VARIABLE_AUTHORITY"},
        {ATLS_EV_EFI_SPDM_FIRMWARE_BLOB, "EV_EFI_SPDM_FIRMWARE_BLOB"},
        {ATLS_EV_EFI_SPDM_FIRMWARE_CONFIG, "EV_EFI_SPDM_FIRMWARE_CONFIG"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].type == type) {
            return names[i].name;
        }
    }
    return NULL;
}

int atls_evlog_is_variable_event(uint32_t type)
{
    return type == ATLS_EV_EFI_VARIABLE_DRIVER_CONFIG || type == ATLS_EV_EFI_VARIABLE_BOOT ||
           type == ATLS_EV_EFI_VARIABLE_BOOT2 || type == ATLS_EV_EFI_VARIABLE_AUTHORITY;
}

int atls_evlog_is_image_event(uint32_t type)
{
    return type == ATLS_EV_EFI_BOOT_SERVICES_APPLICATION ||
           type == ATLS_EV_EFI_BOOT_SERVICES_DRIVER || type == ATLS_EV_EFI_RUNTIME_SERVICES_DRIVER;
}

void atls_evlog_guid_text(const uint8_t g[16], char out[37])
{
    /* EFI_GUID: Data1 u32, Data2 u16, Data3 u16 little-endian, then Data4[8] as bytes */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3],
             g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
             g[14], g[15]);
}

int atls_evlog_parse_variable(atls_cursor d, atls_evlog_variable *out)
{
    memset(out, 0, sizeof(*out));
    atls_cursor guid;
    uint64_t name_chars = 0, data_len = 0;
    if (!atls_cursor_get_bytes(&d, &guid, 16) || !atls_cursor_get_u64_le(&d, &name_chars) ||
        !atls_cursor_get_u64_le(&d, &data_len) || name_chars > atls_cursor_remaining(&d) / 2 ||
        !atls_cursor_get_bytes(&d, &out->name_utf16, (size_t)name_chars * 2) ||
        data_len != atls_cursor_remaining(&d)) {
        return 0;
    }
    memcpy(out->guid, atls_cursor_data(&guid), 16);
    atls_cursor_get_rest(&d, &out->data);
    /* the name as ASCII (UEFI variable names of the specifications are ASCII) */
    const uint8_t *p = atls_cursor_data(&out->name_utf16);
    size_t n = 0;
    for (size_t i = 0; i < (size_t)name_chars && n + 1 < sizeof(out->name); i++) {
        uint16_t ch = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
        if (ch == 0) {
            break;
        }
        out->name[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out->name[n] = '\0';
    return 1;
}

int atls_evlog_variable_is(const atls_evlog_variable *v, const uint8_t guid[16],
                           const char *name)
{
    return memcmp(v->guid, guid, 16) == 0 && strcmp(v->name, name) == 0;
}

int atls_evlog_parse_image(atls_cursor d, atls_evlog_image *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t link = 0, dp_len = 0;
    if (!atls_cursor_get_u64_le(&d, &out->location) || !atls_cursor_get_u64_le(&d, &out->length) ||
        !atls_cursor_get_u64_le(&d, &link) || !atls_cursor_get_u64_le(&d, &dp_len) ||
        dp_len != atls_cursor_remaining(&d)) {
        return 0;
    }
    atls_cursor_get_rest(&d, &out->device_path);
    return 1;
}

/* text_ok: printable ASCII (tab and newline allowed), so it is valid UTF-8 and shows on one
 * terminal without surprises. */
static int text_ok(const uint8_t *p, size_t n, size_t step)
{
    for (size_t i = 0; i < n; i += step) {
        if ((p[i] < 0x20 || p[i] >= 0x7f) && p[i] != '\t' && p[i] != '\n') {
            return 0;
        }
        if (step == 2 && p[i + 1] != 0) {
            return 0;
        }
    }
    return 1;
}

size_t atls_evlog_event_text(atls_cursor d, char *out, size_t cap)
{
    const uint8_t *p = atls_cursor_data(&d);
    size_t n = atls_cursor_remaining(&d);
    size_t step = 1;
    if (n >= 4 && n % 2 == 0 && p[1] == 0 && p[n - 1] == 0 && p[n - 2] == 0) {
        step = 2; /* UTF-16LE with its terminating NUL character */
        n -= 2;
    } else if (n > 0 && p[n - 1] == 0) {
        n -= 1;
    }
    if (n == 0 || cap == 0 || n / step >= cap || !text_ok(p, n, step)) {
        return 0;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i += step) {
        out[j++] = (char)p[i];
    }
    out[j] = '\0';
    return j;
}

/* The GRUB prefixes in front of measured strings (grub-core/commands/tpm.c and distribution
 * patches): the digest covers what follows, without the NUL. */
static const char *const grub_prefixes[] = {"grub_cmd: ", "kernel_cmdline: ", "module_cmdline: ",
                                            "grub_kernel_cmdline ", "grub_cmd "};

const char *atls_evlog_grub_prefix(atls_cursor d)
{
    for (size_t i = 0; i < sizeof(grub_prefixes) / sizeof(grub_prefixes[0]); i++) {
        size_t n = strlen(grub_prefixes[i]);
        if (atls_cursor_remaining(&d) >= n && memcmp(atls_cursor_data(&d), grub_prefixes[i], n) == 0) {
            return grub_prefixes[i];
        }
    }
    return NULL;
}

/* digests_match: every bank of the event that atls can hash has digest H(p, n), and there
 * is at least one such bank. */
static int digests_match(const atls_evlog *log, const atls_evlog_event *ev, const uint8_t *p,
                         size_t n)
{
    int checked = 0;
    for (size_t b = 0; b < log->num_banks; b++) {
        uint8_t md[ATLS_EVLOG_MAX_DIGEST];
        if (ev->digests[b] == NULL || atls_tcg_hash_md(log->banks[b].alg) == NULL) {
            continue;
        }
        if (atls_evlog_hash(log->banks[b].alg, p, n, md) != ATLS_OK ||
            memcmp(md, ev->digests[b], log->banks[b].size) != 0) {
            return 0;
        }
        checked = 1;
    }
    return checked;
}

int atls_evlog_event_data_covered(const atls_evlog *log, const atls_evlog_event *ev)
{
    if (log->kind == ATLS_EVLOG_IMA) {
        return 1; /* the parser checked the template digest against the template data */
    }
    if (ev->type == ATLS_EV_NO_ACTION) {
        return 0;
    }
    const uint8_t *p = atls_cursor_data(&ev->data);
    size_t n = atls_cursor_remaining(&ev->data);
    if (digests_match(log, ev, p, n)) {
        return 1;
    }
    if (ev->type == ATLS_EV_EFI_VARIABLE_BOOT || ev->type == ATLS_EV_EFI_VARIABLE_BOOT2) {
        /* EDK2 hashes only VariableData of boot variables */
        atls_evlog_variable v;
        return atls_evlog_parse_variable(ev->data, &v) &&
               digests_match(log, ev, atls_cursor_data(&v.data), atls_cursor_remaining(&v.data));
    }
    if (ev->type == ATLS_EV_IPL) {
        const char *prefix = atls_evlog_grub_prefix(ev->data);
        size_t skip = prefix != NULL ? strlen(prefix) : 0;
        size_t end = n > 0 && p[n - 1] == 0 ? n - 1 : n;
        return (prefix != NULL || end != n) && digests_match(log, ev, p + skip, end - skip);
    }
    return 0;
}
