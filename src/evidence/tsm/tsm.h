/*
 * tsm/tsm.h: the Linux configfs-tsm attester "tsm" and its verifier (evidence-formats.md
 * sections 5.1 and 6; Linux Documentation/ABI/testing/configfs-tsm-report).
 *
 * Evidence: ATLS_TSM_MEDIA_TYPE, a CBOR map with text keys
 *   "outblob"  bstr  required  the configfs outblob (TDX quote, SNP report, CCA token)
 *   "provider" tstr  required  the configfs provider ("tdx_guest", "sev_guest", "arm_cca_guest";
 *                              one trailing "\n" is tolerated)
 *   "auxblob"  bstr  optional  the configfs auxblob (SNP certificate table)
 * Other keys (e.g. "service") are ignored when decoding; duplicates are errors.
 *
 * The verifier dispatches on the provider to the snp, tdx and cca verifiers; its policy
 * section "tsm" holds one sub-section per underlying type ({"snp": {...}, "tdx": {...},
 * "cca": {...}}), each checked and applied by that type's own policy code (docs/EVIDENCE.md).
 */
#ifndef ATLS_TSM_TSM_H
#define ATLS_TSM_TSM_H

#include "base/cursor.h"
#include "evidence/core/plugin.h"

#include <atls/error.h>

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATLS_TSM_MEDIA_TYPE "application/vnd.veraison.tsm-report+cbor"
#define ATLS_TSM_DEFAULT_ROOT "/sys/kernel/config/tsm/report"
#define ATLS_TSM_MAX_BLOB (64u * 1024u)       /* outblob, auxblob */
#define ATLS_TSM_MAX_REPORT (160u * 1024u)    /* the whole CBOR map */
#define ATLS_TSM_MAX_PROVIDER 64
#define ATLS_TSM_MAX_CERTS 16                 /* SNP certificate table entries */

/* A decoded tsm report; views borrow the input. */
typedef struct atls_tsm_report {
    atls_cursor outblob;
    char provider[ATLS_TSM_MAX_PROVIDER + 1]; /* without the trailing newline */
    bool has_auxblob;
    atls_cursor auxblob;
} atls_tsm_report;

/* atls_tsm_report_decode decodes the CBOR map of exactly |len| bytes into |out| (borrows
 * |data|). ATLS_ERR_DECODE_* for shape errors, ATLS_ERR_EVIDENCE_FORMAT for a missing or bad
 * member. */
ATLS_MUST_CHECK atls_error atls_tsm_report_decode(const uint8_t *data, size_t len,
                                                  atls_tsm_report *out);

/* atls_tsm_report_encode writes {"outblob", "provider"[, "auxblob"]} (deterministic key order)
 * into a malloc'd buffer (*out, caller frees). |auxblob| may be NULL (left out). */
ATLS_MUST_CHECK atls_error atls_tsm_report_encode(const uint8_t *outblob, size_t outblob_len,
                                                  const char *provider, const uint8_t *auxblob,
                                                  size_t auxblob_len, uint8_t **out,
                                                  size_t *out_len);

/* atls_tsm_snp_cert_table parses an SNP certificate table (GHCB specification, extended guest
 * request; evidence-formats.md 2.3): entries of GUID[16] || offset u32le || length u32le, ended
 * by an all-zero GUID, offsets from the table start, DER certificates. The VCEK, VLEK, ASK and
 * ARK entries (GUIDs in RFC 4122 byte order, or mixed-endian) become a new stack (*out, caller
 * frees with sk_X509_pop_free(.., X509_free)); other entries are skipped. Errors:
 * ATLS_ERR_EVIDENCE_FORMAT naming the entry. */
ATLS_MUST_CHECK atls_error atls_tsm_snp_cert_table(const uint8_t *data, size_t len,
                                                   STACK_OF(X509) **out);

/*
 * The attester. Config strings: "root=DIR" (default ATLS_TSM_DEFAULT_ROOT), "privlevel=N"
 * (0..3, SNP VMPL; not written when absent), "ccel=FILE|none" and "ccel_table=FILE|none" (the
 * CC event log sent beside a TDX quote, once per connection: produce_cmw). produce():
 *   mkdir ROOT/<unique>, [write privlevel], write the 64-byte challenge to inblob, read
 *   generation, read outblob, provider, auxblob (optional), re-read generation (a change means
 *   another writer raced us: ATLS_ERR_EVIDENCE_ATTESTER), rmdir the entry on every path.
 */
typedef struct atls_tsm_config {
    const char *root;
    int privlevel; /* -1: not set */
} atls_tsm_config;

/* Points at which the hook of atls_tsm_attest runs. */
typedef enum atls_tsm_stage {
    ATLS_TSM_STAGE_CREATED = 1, /* after mkdir of the entry */
    ATLS_TSM_STAGE_WRITTEN = 2, /* after inblob was written and generation read */
    ATLS_TSM_STAGE_READ = 3,    /* after the blobs were read, before generation is re-read */
    ATLS_TSM_STAGE_REMOVING = 4 /* before rmdir, on every path (configfs drops the attributes
                                 * itself; a prepared directory must be emptied) */
} atls_tsm_stage;

/* atls_tsm_hook: the kernel's part when the root is a prepared directory (tests only; real
 * configfs does this by itself, the ops table passes NULL). */
typedef atls_error (*atls_tsm_hook)(void *arg, const char *entry_dir, atls_tsm_stage stage);

/* atls_tsm_attest runs one configfs-tsm transaction under |cfg| and returns the encoded report
 * (*out, caller frees). |hook| may be NULL. */
ATLS_MUST_CHECK atls_error atls_tsm_attest(const atls_tsm_config *cfg,
                                           const uint8_t challenge[ATLS_CHALLENGE_LEN],
                                           atls_tsm_hook hook, void *hook_arg, uint8_t **out,
                                           size_t *out_len);

/* atls_tsm_probe checks that configfs-tsm under |root| works and copies the provider that
 * answers ("sev_guest", "tdx_guest", "arm_cca_guest", ...) into |provider| (|size| bytes): it
 * makes an entry, reads its provider and removes it. On a prepared directory (tests) the
 * provider file must be made by whoever plays the kernel. When it fails, the error
 * (ATLS_ERR_EVIDENCE_ATTESTER) says what is missing: configfs not mounted, a kernel without
 * configfs-tsm (its version, CONFIG_TSM_REPORTS), no provider (not a confidential VM, or the
 * guest driver is not loaded), no permission. */
ATLS_MUST_CHECK atls_error atls_tsm_probe(const char *root, char *provider, size_t size);

/* A prepared directory (a stand-in for configfs in tests, tsm_attester.c): |path| is on
 * configfs (statfs CONFIGFS_MAGIC)? When not, the attester and the probe wait up to 2 s for
 * the attribute |name| a stand-in makes (atls_tsm_wait_attribute: 1 when it appeared) and
 * remove the attribute files before rmdir, as configfs does (atls_tsm_remove_attributes). */
int atls_tsm_is_configfs(const char *path);
int atls_tsm_wait_attribute(const char *dir, const char *name);
void atls_tsm_remove_attributes(const char *dir);

/* The CC event log of a TDX guest (tsm_ccel.c). Default paths (Linux: the ACPI table and the
 * log area it describes), used when both can be read; attester keys ccel= / ccel_table=. */
#define ATLS_TSM_DEFAULT_CCEL_TABLE "/sys/firmware/acpi/tables/CCEL"
#define ATLS_TSM_DEFAULT_CCEL_LOG "/sys/firmware/acpi/tables/data/CCEL"

/* atls_tsm_ccel_record reads the CC event log area |log_path|, checks it against the ACPI
 * CCEL table |table_path| (NULL: not checked; a TDX table whose log area holds the file),
 * parses it and encodes its entries, without the 0xFF fill after the end marker, as an
 * application/vnd.atls.eventlog+cbor record of kind "ccel" (*out, caller frees). Errors name
 * the file: ATLS_ERR_IO_FILE, ATLS_ERR_DECODE_CCEL_* / _EVENTLOG_*, ATLS_ERR_EVIDENCE_ATTESTER
 * for a table that does not describe the log. Thread-safe (no state). */
ATLS_MUST_CHECK atls_error atls_tsm_ccel_record(const char *log_path, const char *table_path,
                                                uint8_t **out, size_t *out_len);

extern const atls_attester_ops atls_tsm_attester_ops;
extern const atls_verifier_ops atls_tsm_verifier_ops;

#endif /* ATLS_TSM_TSM_H */
