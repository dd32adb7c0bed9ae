/* snp/snp_internal.h: pieces of the SNP verifier shared between its files (not public). */
#ifndef ATLS_SNP_SNP_INTERNAL_H
#define ATLS_SNP_SNP_INTERNAL_H

#include "evidence/snp/snp.h"

#include <openssl/x509.h>

/* VCEK / VLEK extensions, arc 1.3.6.1.4.1.3704.1 (AMD "Versioned Chip Endorsement Key (VCEK)
 * Certificate and KDS Interface Specification" 57230, section 3). */
#define ATLS_SNP_OID_PRODUCT "1.3.6.1.4.1.3704.1.2"
#define ATLS_SNP_OID_BL_SPL "1.3.6.1.4.1.3704.1.3.1"
#define ATLS_SNP_OID_TEE_SPL "1.3.6.1.4.1.3704.1.3.2"
#define ATLS_SNP_OID_SNP_SPL "1.3.6.1.4.1.3704.1.3.3"
#define ATLS_SNP_OID_UCODE_SPL "1.3.6.1.4.1.3704.1.3.8"
#define ATLS_SNP_OID_FMC_SPL "1.3.6.1.4.1.3704.1.3.9"
#define ATLS_SNP_OID_HWID "1.3.6.1.4.1.3704.1.4"

/* atls_snp_load_cert_file reads one DER or PEM certificate; *out owned by the caller. */
ATLS_MUST_CHECK atls_error atls_snp_load_cert_file(const char *path, X509 **out);

/* atls_snp_check_signature verifies the report signature (|report| = the 1184 raw bytes, |r|
 * its parse) with |cert|'s P-384 key. ATLS_ERR_EVIDENCE_SIGNATURE when it does not verify. */
ATLS_MUST_CHECK atls_error atls_snp_check_signature(const uint8_t *report,
                                                    const atls_snp_report *r, X509 *cert);

/* atls_snp_check_chain verifies leaf -> ASK/ASVK (from |untrusted|) -> ARK (a trust anchor of
 * |in|) at in->at or now. ATLS_ERR_EVIDENCE_CHAIN on failure. */
ATLS_MUST_CHECK atls_error atls_snp_check_chain(X509 *leaf, STACK_OF(X509) *untrusted,
                                                const atls_verify_input *in);

/* atls_snp_check_revocation applies the CRLs of in->crls issued by the ARK the chain of |leaf|
 * ends at (after atls_snp_check_chain succeeded; CRLs of other issuers are left to their own
 * verifiers): each must be signed by that ARK and valid at in->at or now
 * (ATLS_ERR_EVIDENCE_CHAIN otherwise: a CRL of this ARK that cannot be used is refused, never
 * ignored); an ASK/ASVK or VCEK/VLEK serial listed in one is ATLS_ERR_EVIDENCE_REVOKED.
 * *checked = 1 when at least one CRL was applied (0: revocation unchecked). */
ATLS_MUST_CHECK atls_error atls_snp_check_revocation(X509 *leaf, STACK_OF(X509) *untrusted,
                                                     const atls_verify_input *in, int *checked);

/* atls_snp_check_signer_kind: the report's SIGNING_KEY (VCEK / VLEK) names the kind of the
 * certificate whose key verified it (subject CN "SEV-VCEK" / "SEV-VLEK", AMD KDS spec 57230).
 * ATLS_ERR_EVIDENCE_CHAIN otherwise. */
ATLS_MUST_CHECK atls_error atls_snp_check_signer_kind(const atls_snp_report *r, X509 *cert);

/* What a VCEK/VLEK says about itself (its extensions), parsed once per certificate. */
#define ATLS_SNP_NUM_SPL 5 /* blSPL, teeSPL, snpSPL, ucodeSPL, fmcSPL */
typedef struct atls_snp_cert_ext {
    char product[64];                 /* productName (e.g. "Milan-B0") or "" if absent */
    int spl_present[ATLS_SNP_NUM_SPL];
    uint8_t spl[ATLS_SNP_NUM_SPL];
    int have_hwid;
    size_t hwid_len;                  /* its length, even when above sizeof(hwid) */
    uint8_t hwid[64];
} atls_snp_cert_ext;

/* atls_snp_cert_ext_get reads the productName, SPL and hwID extensions of |cert| (cached per
 * certificate DER). ATLS_ERR_EVIDENCE_CHAIN when one is malformed. */
ATLS_MUST_CHECK atls_error atls_snp_cert_ext_get(X509 *cert, atls_snp_cert_ext *out);

/* atls_snp_check_cert_tcb checks the SPL extensions against REPORTED_TCB (layout per |turin|)
 * and, for a VCEK, hwID against CHIP_ID. ATLS_ERR_EVIDENCE_CHAIN naming the mismatch. */
ATLS_MUST_CHECK atls_error atls_snp_check_cert_tcb(const atls_snp_cert_ext *ext,
                                                   const atls_snp_report *r, int turin);

/* atls_snp_claims builds the claims object for |r| (new reference in *out). */
ATLS_MUST_CHECK atls_error atls_snp_claims(const atls_snp_report *r, int turin,
                                           const char *product, int revocation_checked,
                                           json_t **out);

/* The policy half of atls_snp_verifier_ops (snp_policy.c); contracts in atls/evidence.h. */
ATLS_MUST_CHECK atls_error atls_snp_appraise(const json_t *policy,
                                             const atls_evidence_result *res,
                                             atls_trust_vector *tv);
ATLS_MUST_CHECK atls_error atls_snp_check_policy(const json_t *policy);
ATLS_MUST_CHECK atls_error atls_snp_policy_from_result(const atls_evidence_result *res,
                                                       json_t **out);

#endif /* ATLS_SNP_SNP_INTERNAL_H */
