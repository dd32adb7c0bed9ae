/* evlog_testgen.h: event logs of our own making, for the eventlog tests, the attester tests
 * and the fuzz seeds. Each function appends one structure to |w| (little-endian, as the
 * formats are) and returns false when the writer failed (sticky: check atls_writer_finish).
 * Digests are computed here with OpenSSL from |measured|, so a log is consistent unless a
 * test corrupts it on purpose. */
#ifndef ATLS_TESTS_EVLOG_TESTGEN_H
#define ATLS_TESTS_EVLOG_TESTGEN_H

#include "base/writer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* evgen_spec_id: the crypto-agile header (EV_NO_ACTION "Spec ID Event03", PCRIndex
 * |header_index|) declaring |n| algorithms. */
bool evgen_spec_id(atls_writer *w, uint32_t header_index, const uint16_t *algs, size_t n);

/* evgen_event2: a TCG_PCR_EVENT2 with one digest per algorithm, each H_alg(measured) (NULL
 * measured: H(data)). */
bool evgen_event2(atls_writer *w, const uint16_t *algs, size_t n, uint32_t index,
                  uint32_t type, const void *measured, size_t mlen, const void *data,
                  size_t len);

/* evgen_event1: a legacy TCG_PCR_EVENT (SHA-1 of |measured|, or of |data| when NULL). */
bool evgen_event1(atls_writer *w, uint32_t index, uint32_t type, const void *measured,
                  size_t mlen, const void *data, size_t len);

/* evgen_efi_variable: UEFI_VARIABLE_DATA for |guid| and the ASCII |name|. */
bool evgen_efi_variable(atls_writer *w, const uint8_t guid[16], const char *name,
                        const void *data, size_t len);

/* evgen_ima_ng: an IMA entry of template "ima-ng" or "ima-sig" (sig may be NULL: an empty
 * sig field) for the file |path| with digest |digest| of hash |alg_name|. */
bool evgen_ima_ng(atls_writer *w, uint32_t pcr, const char *template_name,
                  const char *alg_name, const uint8_t *digest, size_t dlen, const char *path,
                  const uint8_t *sig, size_t sig_len);

/* evgen_ima_entry_hash: the per-bank digest the kernel extends for the last ima-ng / ima-sig
 * entry built with the same arguments (H_alg of its template data). */
bool evgen_ima_template_hash(const char *template_name, const char *alg_name,
                             const uint8_t *digest, size_t dlen, const char *path,
                             const uint8_t *sig, size_t sig_len, const char *hash,
                             uint8_t *out, size_t *out_len);

/* evgen_ima_legacy: an entry of the original "ima" template (SHA-1 file digest). */
bool evgen_ima_legacy(atls_writer *w, uint32_t pcr, const uint8_t sha1[20], const char *path);

/* evgen_ima_violation: an ima-ng entry whose template digest is all zeros. */
bool evgen_ima_violation(atls_writer *w, uint32_t pcr, const char *path);

/* evgen_ima_raw: an entry of template |name| with |data| as its template data, the template
 * digest SHA-1(data) (for malformed field layouts). */
bool evgen_ima_raw(atls_writer *w, uint32_t pcr, const char *name, const void *data,
                   size_t len);

/* evgen_extend: reg := H_hash(reg || digest), |size| bytes each (a test's own replay). */
void evgen_extend(const char *hash, uint8_t *reg, const uint8_t *digest, size_t size);

/* evgen_ccel_td: a TD's CC event log (Spec ID header with index 1, as TDVF writes it; EV_EFI_ACTION
 * events in RTMR0..3 and an EV_IPL kernel command line in RTMR2; with |unknown_type| one more
 * event of a type atls does not know in RTMR1), then |pad| bytes of 0xFF fill. |rtmr| gets the
 * RTMRs it replays to (this generator's own replay, with evgen_extend). Returns the number of
 * events (the header is none), 0 when the writer failed. */
size_t evgen_ccel_td(atls_writer *w, int unknown_type, size_t pad, uint8_t rtmr[4][48]);

/* evgen_ccel_table: an ACPI CCEL table (ACPI 6.5 section 5.2.34, 56 bytes, checksum fixed up)
 * of CC type |cc_type| for a log area of |laml| bytes at 0x7d000000, OEM ID "ATLS  ". */
void evgen_ccel_table(uint8_t t[56], uint8_t cc_type, uint64_t laml);

#endif /* ATLS_TESTS_EVLOG_TESTGEN_H */
