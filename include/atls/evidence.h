/*
 * atls/evidence.h: attesters (produce Evidence) and verifiers (check Evidence), each chosen by
 * name or media type from the tables built into the library (no dlopen, no registration). Both
 * are opaque here: an attester is used through atls_attester_create / atls_session_config /
 * atls_attester_produce_detached (atls/challenge.h), a verifier through atls_appraise_evidence
 * (atls/appraisal.h).
 *
 * The challenge: every attester puts the 64-byte challenge (see atls/binding.h and
 * atls/challenge.h) into its Evidence (TPM qualifyingData, SNP/TDX REPORT_DATA, CCA challenge,
 * EAT eat_nonce), and every verifier checks it when the caller supplies one.
 *
 * Attester configuration. atls_attester_create takes a NULL-terminated list of "key=value"
 * strings; an unknown key, a malformed value or a missing required key is
 * ATLS_ERR_USAGE_CONFIG with a message naming it. The keys of each attester built into atls
 * (test attester_keys_documented checks this list against the attesters' sources):
 *
 *   attester "sim": the software attester (a COSE_Sign1 EAT). NEVER real attestation: its
 *       verifier marks every result as simulated, and only a policy section "sim" accepts it.
 *     key=FILE           required. PEM EC P-256 private key that signs the Evidence; a policy
 *                        pins its public key (SHA-256 of the DER SubjectPublicKeyInfo).
 *     measurements=FILE  optional. JSON object {"name": "hex digest", ...} (up to 32 entries,
 *                        names 1..64 bytes, digests of 32, 48 or 64 bytes) reported as claims,
 *                        read once here.
 *     reload_measurements=1  optional. Read the measurements file again for every Evidence,
 *                        so a state change shows in the next one (needs measurements=).
 *     quote_latency_ms=N optional. 0..60000: every Evidence takes at least N ms and one is
 *                        made at a time, a simulated slow, serialised quote source.
 *
 *   attester "tpm2": TPM 2.0 quotes through tpm2-tss.
 *     tcti=CONF          the TCTI to open, e.g. "device:/dev/tpmrm0" or
 *                        "swtpm:host=127.0.0.1,port=2321". Default: the environment variable
 *                        ATLS_TPM2_TCTI, TPM2TOOLS_TCTI or TCTI, else tpm2-tss's default
 *                        search as tpm2-tools does it (tabrmd, /dev/tpmrm0, /dev/tpm0, a
 *                        simulator on localhost:2321).
 *     ak_handle=HANDLE   optional. A persistent attestation key (0x81xxxxxx, decimal or 0x
 *                        hex). Default: the primary ECC P-256 restricted signing key derived
 *                        from the endorsement hierarchy (the same key after every restart).
 *     pcrs=SELECTION     optional. tpm2-tools style PCR selection, banks separated by '+'
 *                        ("sha256:0,1,2-7,23+sha384:0"). Default "sha256:0-7,23".
 *     eventlog=FILE|none optional. The TCG firmware event log sent with the quote, once per
 *                        connection. Default with a device (or tabrmd) TCTI: the kernel's
 *                        /sys/kernel/security/tpm0/binary_bios_measurements when readable;
 *                        otherwise none.
 *     ima=FILE|none      optional. The IMA measurement list sent with the quote (a
 *                        connection's first attestation from its start, then only entries
 *                        appended since). Default as for eventlog=, from
 *                        /sys/kernel/security/ima/binary_runtime_measurements. Quote the PCRs
 *                        the logs extend (pcrs=sha256:0-10).
 *
 *   attester "azure": an Azure confidential VM (SEV-SNP or TDX behind Azure's paravisor): the
 *       HCL report from vTPM NV and a vTPM quote over the challenge by the AK it names.
 *     tcti=CONF          as for "tpm2" (same default).
 *     ak_handle=HANDLE   optional. Default 0x81000003, the vTPM AK Azure provisions.
 *     pcrs=SELECTION     optional, as for "tpm2".
 *     nv_index=INDEX     optional. The NV index of the HCL report. Default 0x01400001.
 *     certs=FILE         optional (SEV-SNP). PEM VCEK or VLEK (then ASK, ARK) carried in the
 *                        Evidence, e.g. from Azure IMDS (THIM).
 *     tdquote=FILE       required on a TDX VM: the TD quote of the HCL report's TDREPORT
 *                        (Azure IMDS /acc/tdquote).
 *
 *   attester "tsm": the Linux configfs-tsm report interface of a confidential VM (SEV-SNP,
 *       TDX and CCA guests).
 *     root=DIR           optional. The configfs report directory. Default
 *                        "/sys/kernel/config/tsm/report".
 *     privlevel=N        optional. 0..3, the privilege level (SEV-SNP VMPL) written to the
 *                        report's privlevel attribute; not written when absent.
 *     ccel=FILE|none     optional (TDX). The CC event log area (its entries replay to RTMR0..3),
 *                        sent beside the TD quote once per connection. Default: the kernel's
 *                        /sys/firmware/acpi/tables/data/CCEL when it and the table can be read;
 *                        otherwise none. A log named here with a provider other than tdx_guest
 *                        is an error.
 *     ccel_table=FILE|none optional. The ACPI CCEL table the log is checked against (a TDX
 *                        table whose log area holds the file). Default
 *                        /sys/firmware/acpi/tables/CCEL when readable; otherwise none.
 */
#ifndef ATLS_EVIDENCE_H
#define ATLS_EVIDENCE_H

#include <atls/error.h>

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATLS_CHALLENGE_LEN 64

/* Trustworthiness-vector claims (draft-ietf-rats-ear-04 / AR4SI), -128..127; 0 = no claim. */
typedef struct atls_trust_vector {
    int8_t instance_identity;
    int8_t configuration;
    int8_t executables;
    int8_t file_system;
    int8_t hardware;
    int8_t runtime_opaque;
    int8_t storage_opaque;
    int8_t sourced_data;
} atls_trust_vector;

/* A borrowed byte string (one part of a CMW). */
typedef struct atls_evidence_blob {
    const uint8_t *data;
    size_t len;
} atls_evidence_blob;

/* What one connection's verifier keeps between appraisals of the peer's event logs (IMA
 * entries received so far and their replay; docs/PROTOCOL.md "Event logs"). Opaque; a
 * session owns one. */
typedef struct atls_eventlog_state atls_eventlog_state;

/* Inputs a verifier may use. Zero-initialise; everything is borrowed. */
typedef struct atls_verify_input {
    const uint8_t *challenge;          /* ATLS_CHALLENGE_LEN bytes, or NULL: not checked */
    time_t at;                         /* verification time, 0 = now */
    STACK_OF(X509) *trust_anchors;     /* roots (ARK, Intel SGX Root CA, AK CA, ...) */
    STACK_OF(X509) *intermediates;     /* ASK/ASVK bundles, VCEK, TCB signing chain, ... */
    STACK_OF(X509_CRL) *crls;
    EVP_PKEY **trusted_keys;           /* raw public keys (CPAK, sim key), num_trusted_keys */
    size_t num_trusted_keys;
    const char *vcek_path, *tcb_info_path, *qe_identity_path, *tcb_signing_chain_path;
    /* event logs that came with the Evidence (application/vnd.atls.eventlog+cbor records of
     * the same CMW; atls_appraise_cmw fills these in) and the replay state of this connection
     * (a session sets it; NULL: each log must be delivered whole) */
    const atls_evidence_blob *eventlogs;
    size_t num_eventlogs;
    atls_eventlog_state *eventlog_state;
    /* TDX collateral as bytes instead of files (e.g. stapled in the CMW collection: the
     * appraisal sets them from Endorsement records, atls/appraisal.h); a path, when set, wins.
     * The TCB signing certificate may then come from |intermediates|. */
    const uint8_t *tcb_info;
    size_t tcb_info_len;
    const uint8_t *qe_identity;
    size_t qe_identity_len;
    /* roots for TPM AK certificates. NULL: |trust_anchors| (and then configured anchors mean a
     * TPM quote must carry an AK certificate that chains to them). Set it, to an empty stack
     * when no AK CA exists (the policy pins the AK), when |trust_anchors| hold TEE roots for
     * other Evidence of the same collection (a TD quote beside a vTPM quote). */
    STACK_OF(X509) *tpm_ak_anchors;
} atls_verify_input;

/* ---- what an attester sends: one CMW record, or a CMW collection ------------------------
 * The cmw_attestation extension carries one CMW (draft-ietf-rats-msg-wrap-23): a record
 * [media type, Evidence, ind] from a plain attester, or a collection {label: record, ...}: its
 * Evidence (ind ATLS_IND_EVIDENCE), event logs, further Evidence over the same challenge (a
 * vTPM quote beside a TD quote), and Endorsements (ind ATLS_IND_ENDORSEMENTS: collateral
 * stapled so that the verifier needs nothing but its roots, in the media types below).
 * atls_appraise_cmw appraises every Evidence record and adds every Endorsement record to its
 * verify input (atls/appraisal.h; docs/EVIDENCE.md "Stapled collateral"). */
#define ATLS_IND_ENDORSEMENTS 2u /* draft-ietf-rats-msg-wrap-23 ind bit 1 */
#define ATLS_IND_EVIDENCE 4u     /* ind bit 2 */

/* Endorsement media types the appraisal understands. */
#define ATLS_MEDIA_PKIX_CERT "application/pkix-cert"             /* RFC 2585: a DER certificate */
#define ATLS_MEDIA_PEM_CHAIN "application/pem-certificate-chain" /* RFC 8555 9.1: PEM certs */
#define ATLS_MEDIA_PKIX_CRL "application/pkix-crl"               /* RFC 2585: a DER CRL */
#define ATLS_MEDIA_TDX_TCB_INFO "application/vnd.atls.tdx-tcb-info+json" /* Intel PCS v4 body */
#define ATLS_MEDIA_TDX_QE_IDENTITY "application/vnd.atls.tdx-qe-identity+json"

/* A verifier and an attester of the built-in tables (static, never freed; opaque). */
typedef struct atls_verifier_ops atls_verifier_ops;
typedef struct atls_attester_ops atls_attester_ops;

/* atls_verifier_by_name / _by_media_type: a built-in verifier ("tpm2", "sim", "snp", "tdx",
 * "cca", "tsm", "azure"; or the CMW media type it accepts), or NULL. Thread-safe. */
ATLS_API
const atls_verifier_ops *atls_verifier_by_name(const char *name);
ATLS_API
const atls_verifier_ops *atls_verifier_by_media_type(const char *media_type);

/* atls_attester_ops_by_name: a built-in attester ("sim", "tpm2", "azure", "tsm"), or NULL.
 * Thread-safe. */
ATLS_API
const atls_attester_ops *atls_attester_ops_by_name(const char *name);

/* atls_verifier_name / atls_attester_name: the name ("tpm2", ...); *_media_type: the CMW media
 * type it accepts / produces. Static strings. */
ATLS_API
const char *atls_verifier_name(const atls_verifier_ops *ops);
ATLS_API
const char *atls_verifier_media_type(const atls_verifier_ops *ops);
ATLS_API
const char *atls_attester_name(const atls_attester_ops *ops);
ATLS_API
const char *atls_attester_media_type(const atls_attester_ops *ops);

/* atls_attester_create opens attester |ops| with |config| (the NULL-terminated "key=value"
 * list documented above; NULL: no keys; copied, nothing is borrowed after the call). *state is
 * the caller's: release it with atls_attester_destroy(ops, state). The state is used by one
 * thread at a time: sessions that share it set attester_lock (atls/session.h). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_attester_create(const atls_attester_ops *ops,
                                                const char *const *config, void **state);

/* atls_attester_destroy releases a state of atls_attester_create. NULL state is a no-op. */
ATLS_API
void atls_attester_destroy(const atls_attester_ops *ops, void *state);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_EVIDENCE_H */
