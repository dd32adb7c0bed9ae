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

#endif /* ATLS_TESTS_EVLOG_TESTGEN_H */
