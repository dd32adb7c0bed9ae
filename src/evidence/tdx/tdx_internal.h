/* tdx/tdx_internal.h: pieces of the TDX verifier shared between its files (not public). */
#ifndef ATLS_TDX_TDX_INTERNAL_H
#define ATLS_TDX_TDX_INTERNAL_H

#include "evidence/tdx/tdx.h"

#include <openssl/x509.h>

/* What the PCK certificate's SGX extension (OID 1.2.840.113741.1.13.1) says (Intel "SGX PCK
 * Certificate and CRL Profile", section 1.3.5). */
typedef struct atls_tdx_pck_info {
    uint8_t fmspc[6];
    uint8_t pceid[2];
    uint8_t comp[16];   /* SGX TCB component SVNs .2.1-.2.16 */
    uint16_t pcesvn;    /* .2.17 */
    uint8_t cpusvn[16]; /* .2.18 */
    uint8_t ppid[16];   /* .1: the platform's PPID (instance pinning) */
    int have_ppid;
} atls_tdx_pck_info;

/* TCB status values (Intel PCS "TCB Info" tcbStatus, and the two TD-relaunch statuses Intel's
 * QVL derives for TDX 1.5 TDs); merged by converge() in tdx_collateral.c, not by order. */
typedef enum atls_tdx_tcb_status {
    ATLS_TDX_TCB_NOT_EVALUATED = 0, /* the collateral needed was not given */
    ATLS_TDX_TCB_UP_TO_DATE,
    ATLS_TDX_TCB_SW_HARDENING_NEEDED,
    ATLS_TDX_TCB_CONFIGURATION_NEEDED,
    ATLS_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
    ATLS_TDX_TCB_OUT_OF_DATE,
    ATLS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
    ATLS_TDX_TCB_REVOKED,
    ATLS_TDX_TCB_TD_RELAUNCH_ADVISED,
    ATLS_TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
} atls_tdx_tcb_status;

/* atls_tdx_tcb_status_name: the PCS spelling ("UpToDate", ...; "NotEvaluated"). Static. */
const char *atls_tdx_tcb_status_name(atls_tdx_tcb_status s);

/* atls_tdx_tcb_status_parse maps a status name (NotEvaluated excluded); returns 0 if unknown.
 * The relaunch names are accepted for policies only: a TCB Info level never carries them. */
int atls_tdx_tcb_status_parse(const char *name, atls_tdx_tcb_status *out);

/* What a parsed PEM chain is: the SHA-256 (under the label "tdx pem chain") of its PEM text
 * and how many certificates it gave; num_certs == 0 when the digest could not be computed. */
typedef struct atls_tdx_chain_id {
    uint8_t digest[32];
    size_t num_certs;
} atls_tdx_chain_id;

/* atls_tdx_load_pem_chain parses a PEM certificate list (a trailing NUL is allowed) into a new
 * stack (*out, caller frees with sk_X509_pop_free). |code| is raised on failure. */
ATLS_MUST_CHECK atls_error atls_tdx_load_pem_chain(const uint8_t *pem, size_t len,
                                                   atls_error code, STACK_OF(X509) **out);

/* atls_tdx_load_pem_chain_id is atls_tdx_load_pem_chain that also fills *id. */
ATLS_MUST_CHECK atls_error atls_tdx_load_pem_chain_id(const uint8_t *pem, size_t len,
                                                      atls_error code, STACK_OF(X509) **out,
                                                      atls_tdx_chain_id *id);

/* atls_tdx_verify_chain verifies |leaf| to a trust anchor of |in| through |untrusted| at in->at
 * or now, with the CRLs of in->crls that this PKI issued (atls_tdx_crls_apply: then every CA in
 * the chain needs its CRL, valid at that
 * time; a revoked certificate raises ATLS_ERR_EVIDENCE_REVOKED instead of |code|). |id| (may be
 * NULL) says that |leaf| and the first id->num_certs certificates of |untrusted| are the parse
 * of the PEM chain |id| names, |leaf| being its first (then its digest keys the success cache
 * instead of their DER). Raises |code| with |what| in the detail. */
ATLS_MUST_CHECK atls_error atls_tdx_verify_chain(X509 *leaf, STACK_OF(X509) *untrusted,
                                                 const atls_tdx_chain_id *id,
                                                 const atls_verify_input *in, atls_error code,
                                                 const char *what);

/* atls_tdx_crls_apply: 1 when a CRL of in->crls is issued by a certificate of |untrusted| or
 * a trust anchor, i.e. atls_tdx_verify_chain checks revocation with CRL_CHECK_ALL (every CA of
 * the chain then needs its CRL); CRLs of other PKIs are not used. */
int atls_tdx_crls_apply(const atls_verify_input *in, STACK_OF(X509) *untrusted);

/* atls_tdx_ecdsa_p256_verify checks a raw r||s (64 bytes) ECDSA-SHA256 signature over |msg|
 * by |key|. ATLS_ERR_EVIDENCE_SIGNATURE (or |code|) with |what| when it does not verify. */
ATLS_MUST_CHECK atls_error atls_tdx_ecdsa_p256_verify(EVP_PKEY *key, const uint8_t sig[64],
                                                      const uint8_t *msg, size_t len,
                                                      atls_error code, const char *what);

/* atls_tdx_ecdsa_p256_verify_cached is atls_tdx_ecdsa_p256_verify with successes remembered
 * (verify_cache.h) under SHA-256(|label|, |signer|'s SPKI, signature, message); the key is
 * |signer|'s. Failures always re-run. */
ATLS_MUST_CHECK atls_error atls_tdx_ecdsa_p256_verify_cached(const char *label, X509 *signer,
                                                             const uint8_t sig[64],
                                                             const uint8_t *msg, size_t len,
                                                             atls_error code, const char *what);

/* atls_tdx_p256_key_from_raw builds a P-256 public key from X || Y (64 bytes, the quote's
 * attestation key); *out is a new reference the caller frees (EVP_PKEY_free).
 * ATLS_ERR_EVIDENCE_SIGNATURE when the point is not on the curve. */
ATLS_MUST_CHECK atls_error atls_tdx_p256_key_from_raw(const uint8_t xy[64], EVP_PKEY **out);

/* atls_tdx_pck_info_get reads the SGX extension of the PCK certificate. ATLS_ERR_EVIDENCE_CHAIN
 * when absent or malformed. */
ATLS_MUST_CHECK atls_error atls_tdx_pck_info_get(X509 *pck, atls_tdx_pck_info *out);

/* atls_tdx_pck_info_get_id is atls_tdx_pck_info_get for |pck| = the first certificate of the
 * PEM chain |chain| names (NULL: keyed by |pck|'s DER); results are cached per key. */
ATLS_MUST_CHECK atls_error atls_tdx_pck_info_get_id(X509 *pck, const atls_tdx_chain_id *chain,
                                                    atls_tdx_pck_info *out);

/* Collateral outcome. A status is claimed only for what was appraised: |status| needs both the
 * TCB Info and the QE Identity (NOT_EVALUATED otherwise); |merged| is the worst finding of what
 * was appraised (a Revoked level is reported even when the QE Identity is missing). */
typedef struct atls_tdx_collateral_result {
    int tcb_info_checked;                /* TCB Info verified and the platform level found */
    int qe_identity_checked;             /* QE report appraised against a QE Identity */
    atls_tdx_tcb_status status;          /* the TCB status claimed (see above) */
    atls_tdx_tcb_status merged;          /* platform + module (+ relaunch) + QE when given */
    atls_tdx_tcb_status platform_status; /* TCB level merged with the TDX module (+ relaunch) */
    atls_tdx_tcb_status module_status;   /* TDX module identity level */
    atls_tdx_tcb_status qe_status;       /* NOT_EVALUATED without a QE identity */
    char tcb_date[32];
    json_t *advisory_ids;                /* owned array (may be NULL) */
} atls_tdx_collateral_result;

/* atls_tdx_json_member_span finds the value of top-level member |key| in the JSON object
 * |doc| and returns its exact byte span (borrowed). ATLS_ERR_EVIDENCE_COLLATERAL when |doc| is
 * not an object, the key is absent or appears twice, or nesting exceeds a fixed depth. */
ATLS_MUST_CHECK atls_error atls_tdx_json_member_span(const uint8_t *doc, size_t len,
                                                     const char *key, const uint8_t **span,
                                                     size_t *span_len);

/* atls_tdx_collateral_check reads in->tcb_info_path / tcb_signing_chain_path (and
 * qe_identity_path when set), checks that their signer is the Intel SGX TCB Signing certificate
 * issued directly by a trust anchor (ATLS_ERR_EVIDENCE_SIGNER otherwise), verifies their
 * signatures and validity, and computes the TCB status for quote |q| with PCK data |pck|. |out|
 * owned by the caller (json_decref its advisory_ids). ATLS_ERR_EVIDENCE_COLLATERAL on any other
 * failure. */
ATLS_MUST_CHECK atls_error atls_tdx_collateral_check(const atls_verify_input *in,
                                                     const atls_tdx_quote *q,
                                                     const atls_tdx_pck_info *pck,
                                                     atls_tdx_collateral_result *out);

/* The policy half of atls_tdx_verifier_ops (tdx_policy.c). */
ATLS_MUST_CHECK atls_error atls_tdx_appraise(const json_t *policy,
                                             const atls_evidence_result *res,
                                             atls_trust_vector *tv);
ATLS_MUST_CHECK atls_error atls_tdx_check_policy(const json_t *policy);
ATLS_MUST_CHECK atls_error atls_tdx_policy_from_result(const atls_evidence_result *res,
                                                       json_t **out);

#endif /* ATLS_TDX_TDX_INTERNAL_H */
