/* eventlog_internal.h: helpers shared by the files of src/evidence/eventlog/. */
#ifndef ATLS_EVIDENCE_EVENTLOG_INTERNAL_H
#define ATLS_EVIDENCE_EVENTLOG_INTERNAL_H

#include "base/result.h"
#include "evidence/eventlog/eventlog.h"

/* atls_evlog_new_event appends a zeroed event to |log| (and a zeroed IMA record for an IMA
 * log), growing the arrays geometrically up to ATLS_EVLOG_MAX_EVENTS; *cap is the capacity
 * the caller tracks (start at 0). */
ATLS_MUST_CHECK atls_error atls_evlog_new_event(atls_evlog *log, size_t *cap,
                                                atls_evlog_event **out);

/* atls_evlog_reraise: when |rc| is a failure, raise it again with "<where>: " in front of the
 * recorded message, so one line says where in the log it happened. */
ATLS_MUST_CHECK atls_error atls_evlog_reraise(atls_error rc, const char *fmt, ...)
    ATLS_PRINTF(2, 3);

/* atls_evlog_hash computes H_alg(data) into |out| (ATLS_EVLOG_MAX_DIGEST bytes). */
ATLS_MUST_CHECK atls_error atls_evlog_hash(uint16_t alg, const uint8_t *data, size_t len,
                                           uint8_t *out);

/* atls_evlog_ima_is_ima_template: 1 for the original "ima" template (no length fields). */
int atls_evlog_ima_is_ima_template(const atls_evlog_ima *m);

/* atls_evlog_ima_template_hash computes H_alg over what IMA hashes for an entry's template
 * digest: the template data, or for "ima" the digest and the path padded to 256 bytes. */
ATLS_MUST_CHECK atls_error atls_evlog_ima_template_hash(const atls_evlog_ima *m, uint16_t alg,
                                                        uint8_t *out);

/* ---- firmware event data (eventlog_efi.c) ---- */

/* UEFI_VARIABLE_DATA (PFP section 10.2.4), views into the event. */
typedef struct atls_evlog_variable {
    uint8_t guid[16];
    atls_cursor name_utf16;
    char name[64]; /* ASCII rendering of the name, '?' for anything else */
    atls_cursor data;
} atls_evlog_variable;

/* UEFI_IMAGE_LOAD_EVENT (PFP section 10.2.3). */
typedef struct atls_evlog_image {
    uint64_t location, length;
    atls_cursor device_path;
} atls_evlog_image;

int atls_evlog_is_variable_event(uint32_t type);
int atls_evlog_is_image_event(uint32_t type);

/* atls_evlog_parse_variable / _image: 1 when |d| is exactly one such structure. */
int atls_evlog_parse_variable(atls_cursor d, atls_evlog_variable *out);
int atls_evlog_parse_image(atls_cursor d, atls_evlog_image *out);

/* atls_evlog_variable_is: the variable has this vendor GUID and name. */
int atls_evlog_variable_is(const atls_evlog_variable *v, const uint8_t guid[16],
                           const char *name);

/* atls_evlog_guid_text formats an EFI_GUID in its registry form (36 characters + NUL). */
void atls_evlog_guid_text(const uint8_t g[16], char out[37]);

/* atls_evlog_event_text renders printable ASCII or UTF-16LE event data (one optional
 * terminating NUL) into |out| (cap bytes with its NUL); returns its length, 0 when the data
 * is not such text or does not fit. */
size_t atls_evlog_event_text(atls_cursor d, char *out, size_t cap);

/* atls_evlog_grub_prefix: the GRUB prefix ("grub_cmd: ", "kernel_cmdline: ", ...) that |d|
 * starts with, or NULL. */
const char *atls_evlog_grub_prefix(atls_cursor d);

#endif /* ATLS_EVIDENCE_EVENTLOG_INTERNAL_H */
