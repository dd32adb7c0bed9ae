/*
 * eventlog.h: measurement event logs, parsed from untrusted bytes and replayed.
 *
 * Three formats, one event model:
 *   - the TCG PC Client firmware log (TCG PC Client Platform Firmware Profile (PFP) 1.05,
 *     section 10): crypto-agile (a "Spec ID Event03" header, then TCG_PCR_EVENT2 entries with
 *     one digest per declared bank) or legacy SHA-1 (TCG_PCR_EVENT entries only);
 *   - the confidential-computing event log of a TDX guest (CCEL: UEFI 2.10 section 38.4, the
 *     Intel TDX guest-host interface "TD event log"): the crypto-agile format with SHA-384,
 *     whose index field is the CC measurement register (1..4 = RTMR0..3), in a log area that
 *     the firmware pre-fills with 0xFF; the ACPI "CCEL" table says where that area is;
 *   - the Linux IMA measurement list (binary_runtime_measurements; templates ima, ima-ng,
 *     ima-sig, ima-buf; little-endian, as the kernel writes it on x86 and with
 *     ima_canonical_fmt everywhere).
 *
 * Parsing walks the bytes with the cursor (base/cursor.h), never casts them to a struct, and
 * bounds everything: the log size, the number of events, each event's data. Every
 * malformation has its own error code (ATLS_ERR_DECODE_EVENTLOG_*, _CCEL_*, _IMA_*). A parsed
 * log borrows its input: the bytes must outlive it.
 *
 * Replay recomputes the registers (R := H(R || digest) per bank, from zero, EV_NO_ACTION
 * never extended, StartupLocality setting PCR0's start value) so a verifier can compare them
 * with quoted values. An event is worth only what the register it extends is worth: nothing
 * in this module trusts an event; the caller compares the replay with a signed quote first.
 *
 * Thread-safety: none of these functions keeps state; distinct objects may be used from
 * distinct threads.
 */
#ifndef ATLS_EVIDENCE_EVENTLOG_H
#define ATLS_EVIDENCE_EVENTLOG_H

#include "base/cursor.h"
#include "evidence/core/tcg_hash.h"

#include <atls/error.h>
#include <atls/evidence.h>

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Ceilings (checked before anything is allocated). */
#define ATLS_EVLOG_MAX_SIZE (16u * 1024u * 1024u) /* one log, bytes */
#define ATLS_EVLOG_MAX_EVENTS 200000u             /* events in one log */
#define ATLS_EVLOG_MAX_EVENT_DATA (1u * 1024u * 1024u) /* one event's data */
#define ATLS_EVLOG_MAX_BANKS 8                    /* digest algorithms of a Spec ID event */
#define ATLS_EVLOG_MAX_DIGEST ATLS_TCG_MAX_DIGEST
#define ATLS_EVLOG_NUM_PCRS 24                    /* TPM PC Client PCRs 0..23 */
#define ATLS_EVLOG_NUM_RTMRS 4                    /* TDX RTMR0..3 */
#define ATLS_EVLOG_NUM_REGISTERS ATLS_EVLOG_NUM_PCRS

/* TCG event types (PFP 1.05 section 10.4.1) that this module decodes or names. */
#define ATLS_EV_PREBOOT_CERT 0x00000000u
#define ATLS_EV_POST_CODE 0x00000001u
#define ATLS_EV_NO_ACTION 0x00000003u
#define ATLS_EV_SEPARATOR 0x00000004u
#define ATLS_EV_ACTION 0x00000005u
#define ATLS_EV_EVENT_TAG 0x00000006u
#define ATLS_EV_S_CRTM_CONTENTS 0x00000007u
#define ATLS_EV_S_CRTM_VERSION 0x00000008u
#define ATLS_EV_CPU_MICROCODE 0x00000009u
#define ATLS_EV_PLATFORM_CONFIG_FLAGS 0x0000000Au
#define ATLS_EV_TABLE_OF_DEVICES 0x0000000Bu
#define ATLS_EV_COMPACT_HASH 0x0000000Cu
#define ATLS_EV_IPL 0x0000000Du
#define ATLS_EV_IPL_PARTITION_DATA 0x0000000Eu
#define ATLS_EV_NONHOST_CODE 0x0000000Fu
#define ATLS_EV_NONHOST_CONFIG 0x00000010u
#define ATLS_EV_NONHOST_INFO 0x00000011u
#define ATLS_EV_OMIT_BOOT_DEVICE_EVENTS 0x00000012u
#define ATLS_EV_EFI_EVENT_BASE 0x80000000u
#define ATLS_EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define ATLS_EV_EFI_VARIABLE_BOOT 0x80000002u
#define ATLS_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define ATLS_EV_EFI_BOOT_SERVICES_DRIVER 0x80000004u
#define ATLS_EV_EFI_RUNTIME_SERVICES_DRIVER 0x80000005u
#define ATLS_EV_EFI_GPT_EVENT 0x80000006u
#define ATLS_EV_EFI_ACTION 0x80000007u
#define ATLS_EV_EFI_PLATFORM_FIRMWARE_BLOB 0x80000008u
#define ATLS_EV_EFI_HANDOFF_TABLES 0x80000009u
#define ATLS_EV_EFI_PLATFORM_FIRMWARE_BLOB2 0x8000000Au
#define ATLS_EV_EFI_HANDOFF_TABLES2 0x8000000Bu
#define ATLS_EV_EFI_VARIABLE_BOOT2 0x8000000Cu
#define ATLS_EV_EFI_GPT_EVENT2 0x8000000Du
#define ATLS_EV_EFI_HCRTM_EVENT 0x80000010u
#define ATLS_EV_EFI_VARIABLE_AUTHORITY 0x800000E0u
#define ATLS_EV_EFI_SPDM_FIRMWARE_BLOB 0x800000E1u
#define ATLS_EV_EFI_SPDM_FIRMWARE_CONFIG 0x800000E2u

typedef enum atls_evlog_kind {
    ATLS_EVLOG_TPM = 1,  /* TCG PC Client firmware log: registers are PCRs 0..23 */
    ATLS_EVLOG_CCEL = 2, /* TDX CC event log: registers are RTMR0..3 */
    ATLS_EVLOG_IMA = 3   /* Linux IMA measurement list: registers are PCRs 0..23 */
} atls_evlog_kind;

typedef enum atls_evlog_format {
    ATLS_EVLOG_FORMAT_AGILE = 1, /* Spec ID Event03 header, TCG_PCR_EVENT2 entries */
    ATLS_EVLOG_FORMAT_SHA1 = 2,  /* TCG_PCR_EVENT entries (SHA-1 only) */
    ATLS_EVLOG_FORMAT_IMA = 3    /* IMA binary_runtime_measurements */
} atls_evlog_format;

/* One digest algorithm of the log (a TCG_EfiSpecIdEventAlgorithmSize). */
typedef struct atls_evlog_bank {
    uint16_t alg;  /* TPM_ALG_ID */
    uint16_t size; /* digest size the header declares (checked against known algorithms) */
} atls_evlog_bank;

/* IMA template fields of one entry (views into the log). */
typedef struct atls_evlog_ima {
    atls_cursor template_name; /* "ima", "ima-ng", ... */
    atls_cursor template_data; /* the hashed template data */
    int known_template;        /* 1: ima, ima-ng, ima-sig or ima-buf (fields decoded) */
    int violation;             /* 1: template digest all zero (a measurement violation) */
    uint16_t file_alg;         /* TPM_ALG_ID of the file digest, 0 for one atls cannot name */
    atls_cursor file_alg_name; /* "sha256" (ima-ng), "sha1" for the ima template */
    atls_cursor file_digest;
    atls_cursor path;          /* file name without its terminating NUL */
    atls_cursor sig;           /* ima-sig: the security.ima value (may be empty) */
    atls_cursor buf;           /* ima-buf: the measured buffer */
} atls_evlog_ima;

/* One event. |digests[i]| is the digest for log bank i (of the bank's size), or NULL when the
 * entry does not carry one (IMA lists carry only the SHA-1 template digest; the other banks
 * are computed from the template data at replay). */
typedef struct atls_evlog_event {
    size_t offset;  /* where the entry starts in the log */
    uint32_t index; /* PCR; for CCEL the CC MR index as logged (1..4 = RTMR0..3) */
    uint32_t type;  /* TCG event type; IMA entries: 0 */
    const uint8_t *digests[ATLS_EVLOG_MAX_BANKS];
    atls_cursor data; /* event data (IMA: the template data) */
} atls_evlog_event;

/* A parsed log. Zero-initialise; release with atls_evlog_cleanup. Views borrow the input. */
typedef struct atls_evlog {
    atls_evlog_kind kind;
    atls_evlog_format format;
    size_t content_len;  /* bytes of entries (CCEL: before the end marker) */
    size_t padding_len;  /* CCEL: 0xFF bytes after the end marker */
    size_t num_banks;
    atls_evlog_bank banks[ATLS_EVLOG_MAX_BANKS];
    /* Spec ID Event03 (crypto-agile logs) */
    uint32_t platform_class;
    uint8_t spec_major, spec_minor, spec_errata, uintn_size;
    int has_startup_locality;
    uint8_t startup_locality;
    atls_evlog_event *events; /* owned, num_events (the Spec ID header is not an event) */
    atls_evlog_ima *ima;      /* owned, num_events entries for an IMA log, else NULL */
    size_t num_events;
} atls_evlog;

/* atls_evlog_cleanup frees what |log| owns and zeroes it (NULL-safe). */
void atls_evlog_cleanup(atls_evlog *log);

/* atls_evlog_parse_tpm parses a TCG PC Client firmware log (binary_bios_measurements):
 * crypto-agile when the first entry is EV_NO_ACTION with a "Spec ID Event03" header, legacy
 * SHA-1 otherwise. The log must end exactly at the end of |data|. |out| is filled on success
 * and must be released with atls_evlog_cleanup whatever the result. */
ATLS_MUST_CHECK atls_error atls_evlog_parse_tpm(const uint8_t *data, size_t len, atls_evlog *out);

/* atls_evlog_parse_ccel parses a CC event log area: the crypto-agile format (Spec ID header
 * with index 0 or 1, as firmware writes it), entries up to an index of 0xFFFFFFFF or the end
 * of |data|; everything after the end marker must be 0xFF. Same ownership as parse_tpm. */
ATLS_MUST_CHECK atls_error atls_evlog_parse_ccel(const uint8_t *data, size_t len,
                                                 atls_evlog *out);

/* atls_evlog_parse_ima parses an IMA binary measurement list (each entry's SHA-1 template
 * digest is checked against its template data). Same ownership as parse_tpm. */
ATLS_MUST_CHECK atls_error atls_evlog_parse_ima(const uint8_t *data, size_t len, atls_evlog *out);

/* ---- the ACPI CCEL table (ccel_table.c) ---- */

/* ACPI 6.5 section 5.2.34 "CC Event Log ACPI Table". */
typedef struct atls_ccel_table {
    uint8_t revision;
    char oem_id[7];       /* NUL-terminated copies */
    char oem_table_id[9];
    uint8_t cc_type;      /* 1 AMD SEV, 2 Intel TDX */
    uint8_t cc_subtype;
    uint64_t log_area_minimum_length;
    uint64_t log_area_start_address;
} atls_ccel_table;

/* atls_ccel_table_parse parses and checks a CCEL table (signature, length = |len|, checksum,
 * known CC type). */
ATLS_MUST_CHECK atls_error atls_ccel_table_parse(const uint8_t *data, size_t len,
                                                 atls_ccel_table *out);

/* atls_ccel_type_name: "SEV", "TDX" or "unknown" (static). */
const char *atls_ccel_type_name(uint8_t cc_type);

/* ---- replay (eventlog_replay.c) ---- */

/* The replayed registers of one bank. */
typedef struct atls_evlog_replay_bank {
    uint16_t alg;
    uint16_t size;
    uint32_t extended; /* bit r: some event extended register r */
    uint8_t value[ATLS_EVLOG_NUM_REGISTERS][ATLS_EVLOG_MAX_DIGEST];
} atls_evlog_replay_bank;

/* Replay state: registers per bank and how many events of the log went in. Plain data (may
 * be copied, kept per connection and continued with later events). Registers are numbered as
 * the platform names them: PCR n, or RTMR n for CCEL. */
typedef struct atls_evlog_replay {
    atls_evlog_kind kind;
    size_t num_banks;
    atls_evlog_replay_bank banks[ATLS_EVLOG_MAX_BANKS];
    size_t events; /* events replayed so far */
} atls_evlog_replay;

/* atls_evlog_replay_init prepares |r| for |log|: one bank per algorithm in |algs| (n of them,
 * hashable by atls; NULL/0: every bank of the log that atls can hash), registers at their
 * start value (zero; PCR0 = 00..0L after a StartupLocality L). For a TPM or CCEL log each bank
 * must be one the log carries (ATLS_ERR_EVIDENCE_EVENTLOG_BANK otherwise); an IMA list can be
 * replayed into any bank. */
ATLS_MUST_CHECK atls_error atls_evlog_replay_init(atls_evlog_replay *r, const atls_evlog *log,
                                                  const uint16_t *algs, size_t n);

/* atls_evlog_replay_run extends |r| with the events of |log| from r->events to the end. */
ATLS_MUST_CHECK atls_error atls_evlog_replay_run(atls_evlog_replay *r, const atls_evlog *log);

/* atls_evlog_replay_until extends |r| with the events of |log| from r->events up to (not
 * including) event |upto|. */
ATLS_MUST_CHECK atls_error atls_evlog_replay_until(atls_evlog_replay *r, const atls_evlog *log,
                                                   size_t upto);

/* atls_evlog_event_register maps an event's index to its register (PCR n; CCEL index i to
 * RTMR i-1); -1 when the event extends no register (EV_NO_ACTION). */
int atls_evlog_event_register(const atls_evlog *log, const atls_evlog_event *ev);

/* atls_evlog_replay_get0: the replayed value of register |reg| in bank |alg| (borrowed),
 * NULL when |r| has no such bank. *size gets the digest size. */
const uint8_t *atls_evlog_replay_get0(const atls_evlog_replay *r, uint16_t alg, unsigned reg,
                                      size_t *size);

/* ---- decoded event data (eventlog_efi.c) ---- */

/* atls_evlog_event_type_name: "EV_SEPARATOR", ... or NULL for a type atls does not know. */
const char *atls_evlog_event_type_name(uint32_t type);

/* atls_evlog_event_data_covered: 1 when every digest the event carries is the hash of its data
 * (or of the part of it the producer is known to hash: GRUB's strings without their prefix,
 * EV_EFI_VARIABLE_BOOT's variable data), so decoded data may be believed as much as the
 * register; 0 otherwise (e.g. EV_EFI_BOOT_SERVICES_APPLICATION, whose digest is of the image,
 * not of the event data). IMA entries: always 1 (the parser checked the template digest). */
int atls_evlog_event_data_covered(const atls_evlog *log, const atls_evlog_event *ev);

/* ---- claims (eventlog_claims.c) ---- */

/* atls_evlog_claims builds the claims of |log| given replay |r|: {"kind", "format", "banks",
 * "events": [...], derived claims (secure_boot, boot applications, kernel_cmdline, ...)} in a
 * new JSON object (*out, caller's). Only events whose register bit is set in |covered| (bit
 * n: register n matched a quoted value) are listed; the others are counted in
 * "uncovered_events" and contribute nothing, so no claim rests on an event that no quoted
 * register vouches for. Derived claims come only from covered events whose data is covered by
 * their digest. */
ATLS_MUST_CHECK atls_error atls_evlog_claims(const atls_evlog *log, uint32_t covered,
                                             json_t **out);

/* ---- delivery in the CMW (eventlog_record.c) and verification (eventlog_verify.c) ---- */

#define ATLS_EVLOG_MEDIA_TYPE "application/vnd.atls.eventlog+cbor"

/* One delivered log: its kind, the entries (|log|, borrowed), where they start in the
 * connection's view of the log and how many entries the attester's log had. */
typedef struct atls_evlog_record {
    atls_evlog_kind kind;
    uint64_t start; /* entries delivered on this connection before; 0 = from the beginning */
    uint64_t total;
    atls_cursor log;
} atls_evlog_record;

/* atls_evlog_kind_name: "tcg", "ccel", "ima" (static). */
const char *atls_evlog_kind_name(atls_evlog_kind kind);

/* atls_evlog_record_encode writes |rec| as application/vnd.atls.eventlog+cbor into a malloc'd
 * buffer (caller frees *out). Only an IMA list may start past 0. */
ATLS_MUST_CHECK atls_error atls_evlog_record_encode(const atls_evlog_record *rec, uint8_t **out,
                                                    size_t *out_len);

/* atls_evlog_record_decode parses a record (strict: deterministic, no unknown keys); |rec|
 * borrows |data|. */
ATLS_MUST_CHECK atls_error atls_evlog_record_decode(const uint8_t *data, size_t len,
                                                    atls_evlog_record *rec);

/* A quoted register value, as a verifier established it from signed Evidence. */
typedef struct atls_evlog_quoted {
    uint16_t alg;
    unsigned reg;          /* PCR n, or RTMR n */
    const uint8_t *value;  /* borrowed */
    size_t len;
} atls_evlog_quoted;

/* atls_eventlog_state (atls/evidence.h): what one connection's verifier keeps between
 * appraisals: per log kind the entries received so far (bounded by ATLS_EVLOG_MAX_SIZE) and
 * their replay. */
ATLS_MUST_CHECK atls_error atls_eventlog_state_new(atls_eventlog_state **out);
void atls_eventlog_state_free(atls_eventlog_state *state);

/* atls_evlog_verify checks the event log records |recs| (raw CBOR, n of them; at most one per
 * kind; records of a kind not in |kinds|, a bit mask of 1 << atls_evlog_kind, are left for the
 * verifier of other Evidence in the same collection: atls_appraise_cmw fails a log that no
 * Evidence took) against the quoted
 * registers |q|: each log is parsed (an IMA tail appended to what |state| holds; a firmware
 * log or CCEL the record omits taken from |state|), replayed into every quoted bank it can
 * replay, and every register it extends that is quoted must equal the quoted value
 * (ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY otherwise). The claims of each log (atls_evlog_claims,
 * with only the events of matching registers) go into |claims| under "eventlogs"."<kind>",
 * with "covered" (the registers that matched) and, for IMA, "complete" (false while a
 * partial delivery has not caught up with the quote: nothing of it is covered yet).
 * |state| may be NULL (no connection: every log must be complete and start at 0); it is
 * updated only when the verification succeeds. */
ATLS_MUST_CHECK atls_error atls_evlog_verify(const atls_evidence_blob *recs, size_t n, unsigned kinds,
                                             const atls_evlog_quoted *q, size_t nq,
                                             atls_eventlog_state *state, json_t *claims);

/* ---- policy over events (eventlog_policy.c; docs/POLICY.md "Event logs") ---- */

/* atls_evlog_policy_check checks the shape of a policy section's "eventlog" and "ima"
 * objects (either may be NULL); ATLS_ERR_POLICY_INVALID naming the key. */
ATLS_MUST_CHECK atls_error atls_evlog_policy_check(const json_t *eventlog, const json_t *ima);

/* atls_evlog_policy_appraise checks |claims| (a verifier's claims with "eventlogs") against
 * them: ATLS_OK, or ATLS_ERR_POLICY_MISMATCH / _UNAPPRAISED naming the event. Reads the IMA
 * allow-list file, when the policy names one, at each call. */
ATLS_MUST_CHECK atls_error atls_evlog_policy_appraise(const json_t *eventlog, const json_t *ima,
                                                      const json_t *claims);

/* atls_evlog_policy_from_claims adds to |section| the "eventlog" and "ima" objects that accept
 * exactly the covered events of |claims| (policy init from a known-good log). */
ATLS_MUST_CHECK atls_error atls_evlog_policy_from_claims(const json_t *claims, json_t *section);

#endif /* ATLS_EVIDENCE_EVENTLOG_H */
