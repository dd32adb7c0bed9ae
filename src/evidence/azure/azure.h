/*
 * azure/azure.h: attestation of Azure confidential VMs (SEV-SNP and TDX), whose guests see no
 * raw SNP/TDX interface. The paravisor (HCL) writes an "HCL report" into vTPM NV index
 * 0x01400001: a header, the hardware report (SNP ATTESTATION_REPORT or TDX TDREPORT), and
 * runtime data (JSON) whose hash is the hardware report's REPORT_DATA. The runtime data carries
 * the vTPM attestation key (JWK "HCLAkPub"), which signs a vTPM quote over our challenge.
 *
 * Layout (little-endian u32s; read from Microsoft's and trustee's public parsers, see
 * docs/EVIDENCE.md "Azure"):
 *   0     header:   signature "HCLA", version, report_size, request_type, status, reserved[3]
 *   32    hw report (1184 bytes reserved: an SNP report, or a 1024-byte TDREPORT then padding)
 *   1216  IGVM request data: data_size, version, report_type (2 SNP, 4 TDX),
 *         report_data_hash_type (1 SHA-256, 2 SHA-384, 3 SHA-512), variable_data_size
 *   1236  variable data = runtime data (JSON), variable_data_size bytes
 * NV reads return the whole index (2600 bytes on Azure): bytes after the runtime data are
 * padding and are not interpreted.
 *
 * The chain the verifier checks (each link named in its error):
 *   TEE signature (snp / tdx verifier; TDX: the TD quote over the TDREPORT, whose TD fields
 *   must equal the TDREPORT's) -> REPORT_DATA = H(runtime data) || 0 -> AK = runtime data's
 *   HCLAkPub -> the vTPM quote verifies under that AK, extraData = the challenge, PCR values
 *   hash to pcrDigest (tpm2 verifier). SNP reports must come from VMPL 0 (the paravisor):
 *   a guest at a higher VMPL can ask for reports with REPORT_DATA of its choosing.
 */
#ifndef ATLS_AZURE_AZURE_H
#define ATLS_AZURE_AZURE_H

#include "base/cursor.h"
#include "evidence/core/plugin.h"

#include <atls/error.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATLS_AZURE_MEDIA_TYPE "application/vnd.atls.azure-vtpm+cbor"
#define ATLS_AZURE_HCL_NV_INDEX 0x01400001u
#define ATLS_AZURE_AK_HANDLE 0x81000003u   /* the vTPM AK Azure provisions */
#define ATLS_AZURE_MAX_HCL 8192u           /* NV index contents we accept */
#define ATLS_AZURE_MAX_RUNTIME 4096u       /* runtime data JSON */
#define ATLS_AZURE_MAX_EVIDENCE (64u * 1024u)
#define ATLS_AZURE_HW_OFFSET 32u
#define ATLS_AZURE_HW_AREA 1184u
#define ATLS_AZURE_IGVM_OFFSET (ATLS_AZURE_HW_OFFSET + ATLS_AZURE_HW_AREA)
#define ATLS_AZURE_VARDATA_OFFSET (ATLS_AZURE_IGVM_OFFSET + 20u)
#define ATLS_AZURE_TDREPORT_LEN 1024u

typedef enum atls_azure_tee {
    ATLS_AZURE_TEE_SNP = 2,
    ATLS_AZURE_TEE_TDX = 4
} atls_azure_tee;

/* A parsed HCL report; views borrow the input. */
typedef struct atls_azure_hcl {
    uint32_t version, report_size, request_type, status;
    atls_azure_tee tee;
    uint32_t hash_type;        /* 1 SHA-256, 2 SHA-384, 3 SHA-512 */
    atls_cursor hw_report;     /* SNP: 1184 bytes; TDX: the 1024-byte TDREPORT */
    atls_cursor runtime_data;  /* the JSON, exactly variable_data_size bytes */
} atls_azure_hcl;

/* atls_azure_hcl_parse parses an HCL report of |len| bytes (at most ATLS_AZURE_MAX_HCL; bytes
 * after report_size are padding). ATLS_ERR_EVIDENCE_FORMAT naming the field. */
ATLS_MUST_CHECK atls_error atls_azure_hcl_parse(const uint8_t *data, size_t len,
                                                atls_azure_hcl *out);

/* atls_azure_expected_report_data: H(runtime data) zero-padded to 64 bytes, with the hash the
 * report names. */
ATLS_MUST_CHECK atls_error atls_azure_expected_report_data(const atls_azure_hcl *hcl,
                                                           uint8_t out[64]);

/* atls_azure_runtime_parse parses the runtime data JSON (*runtime: new reference, caller
 * decrefs) and builds the AK from its "keys" entry with kid "HCLAkPub" (RSA JWK, RFC 7518
 * section 6.3; *ak owned by the caller). ATLS_ERR_EVIDENCE_FORMAT naming what is wrong. */
ATLS_MUST_CHECK atls_error atls_azure_runtime_parse(const atls_azure_hcl *hcl, json_t **runtime,
                                                    EVP_PKEY **ak);

/*
 * The Evidence (media type ATLS_AZURE_MEDIA_TYPE; CDDL `azure-vtpm` in docs/EVIDENCE.md), a
 * CBOR map with text keys in deterministic order:
 *   "hcl":     bstr  the HCL report as read from NV 0x01400001
 *   "tpm":     bstr  the vTPM quote as tpm2-quote Evidence (ATLS_TPM2_MEDIA_TYPE encoding)
 *   "certs":   bstr  optional: DER certificates back to back (SNP: VCEK or VLEK, ASK/ARK)
 *   "tdquote": bstr  TDX only, required there: the TD quote over the TDREPORT
 * Unknown or repeated keys, empty byte strings and trailing bytes are errors.
 */
typedef struct atls_azure_evidence {
    atls_cursor hcl, tpm, certs, tdquote;
    bool has_certs, has_tdquote;
} atls_azure_evidence;

ATLS_MUST_CHECK atls_error atls_azure_evidence_decode(const uint8_t *data, size_t len,
                                                      atls_azure_evidence *out);

/* atls_azure_evidence_encode writes the map (|certs| and |tdquote| may be NULL) into a malloc'd
 * buffer (*out, caller frees). */
ATLS_MUST_CHECK atls_error atls_azure_evidence_encode(const uint8_t *hcl, size_t hcl_len,
                                                      const uint8_t *tpm, size_t tpm_len,
                                                      const uint8_t *certs, size_t certs_len,
                                                      const uint8_t *tdquote, size_t tdquote_len,
                                                      uint8_t **out, size_t *out_len);

/* Policy (azure_policy.c): the "azure" section is {"snp": <snp section>} and/or
 * {"tdx": <tdx section>} (the TEE under the paravisor, appraised by that verifier's own
 * code), plus "pcrs" (the tpm2 section's format) or "any_pcrs": true for the vTPM's PCRs. */
ATLS_MUST_CHECK atls_error atls_azure_check_policy(const json_t *policy);
ATLS_MUST_CHECK atls_error atls_azure_appraise(const json_t *policy,
                                               const atls_evidence_result *res,
                                               atls_trust_vector *tv);
ATLS_MUST_CHECK atls_error atls_azure_policy_from_result(const atls_evidence_result *res,
                                                         json_t **out);

/*
 * Verifier claims: {"tee": "snp"|"tdx", "snp"|"tdx": {that verifier's claims},
 *   "tpm2": {the tpm2 verifier's claims}, "runtime_data": {the runtime JSON without "keys"},
 *   "hcl_version": n, "ak_key_id": hex}. key_id is the TEE's attestation key id; tv is the
 *   TEE verifier's. Attester config: "tcti=..." (default atls_tpm2_default_tcti), "ak_handle=0x..."
 *   (default 0x81000003), "nv_index=0x..." (default 0x01400001), "pcrs=sha256:0-23",
 *   "certs=FILE" (PEM certificates to carry), "tdquote_cmd" is not offered: on TDX the TD quote
 *   comes from "tdquote=FILE" made beforehand or from a "tdquote_url" (Azure IMDS) given
 *   explicitly.
 */
extern const atls_verifier_ops atls_azure_verifier_ops;
extern const atls_attester_ops atls_azure_attester_ops;

#endif /* ATLS_AZURE_AZURE_H */
