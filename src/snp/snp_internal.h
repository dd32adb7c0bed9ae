/* snp/snp_internal.h: pieces of the SNP verifier shared between its files (not public). */
#ifndef ATLS_SNP_SNP_INTERNAL_H
#define ATLS_SNP_SNP_INTERNAL_H

#include "snp/snp.h"

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

/* atls_snp_product_name copies the VCEK productName (e.g. "Milan-B0") or "" if absent. */
ATLS_MUST_CHECK atls_error atls_snp_product_name(X509 *cert, char *out, size_t out_size);

/* atls_snp_check_cert_tcb checks the SPL extensions against REPORTED_TCB (layout per |turin|)
 * and, for a VCEK, hwID against CHIP_ID. ATLS_ERR_EVIDENCE_CHAIN naming the mismatch. */
ATLS_MUST_CHECK atls_error atls_snp_check_cert_tcb(X509 *cert, const atls_snp_report *r,
                                                   int turin);

/* atls_snp_claims builds the claims object for |r| (new reference in *out). */
ATLS_MUST_CHECK atls_error atls_snp_claims(const atls_snp_report *r, int turin,
                                           const char *product, json_t **out);

/* The policy half of atls_snp_verifier_ops (snp_policy.c); contracts in atls/evidence.h. */
ATLS_MUST_CHECK atls_error atls_snp_appraise(const json_t *policy,
                                             const atls_evidence_result *res,
                                             atls_trust_vector *tv);
ATLS_MUST_CHECK atls_error atls_snp_check_policy(const json_t *policy);
ATLS_MUST_CHECK atls_error atls_snp_policy_from_result(const atls_evidence_result *res,
                                                       json_t **out);

#endif /* ATLS_SNP_SNP_INTERNAL_H */
