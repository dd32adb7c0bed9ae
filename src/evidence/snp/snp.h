/*
 * snp/snp.h: AMD SEV-SNP attestation reports (SEV-SNP ABI specification, rev. 1.55+ / 1.58,
 * "ATTESTATION_REPORT Structure", Table 23 in 56860 rev 1.55) and the "snp" verifier plug-in.
 *
 * Media type: ATLS_SNP_MEDIA_TYPE, the raw 1184-byte report as the CMW record value (no
 * framing, no trailing bytes). The signing certificate (VCEK or VLEK) comes from
 * atls_verify_input.vcek_path or from atls_verify_input.intermediates (together with the
 * ASK/ASVK); the ARK must be in atls_verify_input.trust_anchors.
 */
#ifndef ATLS_SNP_SNP_H
#define ATLS_SNP_SNP_H

#include <atls/error.h>

#include "evidence/core/plugin.h"

#include <stddef.h>
#include <stdint.h>

#define ATLS_SNP_MEDIA_TYPE "application/vnd.atls.snp-report"
#define ATLS_SNP_REPORT_LEN 0x4A0u  /* 1184 */
#define ATLS_SNP_SIGNED_LEN 0x2A0u  /* bytes 0x000-0x29F are signed */

/* Guest policy bits (ABI spec, GUEST_POLICY). */
#define ATLS_SNP_POLICY_SMT (1ull << 16)
#define ATLS_SNP_POLICY_RESERVED1 (1ull << 17) /* must be 1 */
#define ATLS_SNP_POLICY_MIGRATE_MA (1ull << 18)
#define ATLS_SNP_POLICY_DEBUG (1ull << 19)

/* Signer selected by SIGNING_KEY (bits 4:2 of the signer-info word at 0x048). */
typedef enum atls_snp_signer { ATLS_SNP_SIGNER_VCEK = 0, ATLS_SNP_SIGNER_VLEK = 1 } atls_snp_signer;

/* A TCB_VERSION decoded per component. |turin| selects the layout used. */
typedef struct atls_snp_tcb {
    uint64_t raw;
    uint8_t fmc;         /* Turin only */
    uint8_t bootloader;
    uint8_t tee;
    uint8_t snp;
    uint8_t microcode;
} atls_snp_tcb;

/* A parsed report: every field copied out of the untrusted bytes by the cursor. */
typedef struct atls_snp_report {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    uint8_t family_id[16];
    uint8_t image_id[16];
    uint32_t vmpl;
    uint32_t signature_algo;
    uint64_t current_tcb;
    uint64_t platform_info;
    uint32_t signer_info;
    uint8_t report_data[64];
    uint8_t measurement[48];
    uint8_t host_data[32];
    uint8_t id_key_digest[48];
    uint8_t author_key_digest[48];
    uint8_t report_id[32];
    uint8_t report_id_ma[32];
    uint64_t reported_tcb;
    uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* v3+ */
    uint8_t chip_id[64];
    uint64_t committed_tcb;
    uint8_t current_build, current_minor, current_major;
    uint8_t committed_build, committed_minor, committed_major;
    uint64_t launch_tcb;
    uint64_t launch_mit_vector;  /* v5 */
    uint64_t current_mit_vector; /* v5 */
    uint8_t sig_r[48];           /* big-endian, converted from the little-endian report */
    uint8_t sig_s[48];
} atls_snp_report;

/* atls_snp_report_parse decodes exactly ATLS_SNP_REPORT_LEN bytes into |out| (caller storage),
 * checking version (2..5), signature algorithm, signer info and every must-be-zero / must-be-
 * one field. Fails with ATLS_ERR_EVIDENCE_FORMAT naming the field. */
ATLS_MUST_CHECK atls_error atls_snp_report_parse(const uint8_t *data, size_t len,
                                                 atls_snp_report *out);

/* atls_snp_report_signer returns the SIGNING_KEY field (0 VCEK, 1 VLEK) of a parsed report. */
atls_snp_signer atls_snp_report_signer(const atls_snp_report *r);

/* atls_snp_tcb_reserved_zero: 1 when the reserved bytes of TCB_VERSION |raw| are zero in the
 * layout |turin| selects (Milan/Genoa bytes 2-5, Turin bytes 4-6). */
int atls_snp_tcb_reserved_zero(uint64_t raw, int turin);

/* atls_snp_tcb_decode splits a TCB_VERSION into components: Milan/Genoa layout, or Turin's
 * when |turin| is non-zero (evidence-formats.md 2.1). */
void atls_snp_tcb_decode(uint64_t raw, int turin, atls_snp_tcb *out);

/* atls_snp_verify_report verifies a report (see atls_snp_verifier_ops.verify) with the extra
 * certificates |extra| (e.g. from an SNP certificate table / auxblob; may be NULL) searched for
 * the VCEK/VLEK and ASK/ASVK in addition to |in|'s. Inputs borrowed; |out| owned by caller. */
ATLS_MUST_CHECK atls_error atls_snp_verify_report(const uint8_t *evidence, size_t len,
                                                  const atls_verify_input *in,
                                                  STACK_OF(X509) *extra,
                                                  atls_evidence_result *out);

/* The "snp" verifier plug-in (media type ATLS_SNP_MEDIA_TYPE, policy section "snp"). */
extern const atls_verifier_ops atls_snp_verifier_ops;

#endif /* ATLS_SNP_SNP_H */
