/*
 * stapled.h: Endorsement records of a CMW collection (collateral the attester stapled: SNP
 * VCEK/VLEK and ASK/ARK, CRLs, TDX TCB Info, QE Identity and TCB signing chain; media types
 * ATLS_MEDIA_* of atls/evidence.h) merged into the verifier's input.
 *
 * What the relying party configured itself wins: a stapled TCB Info / QE Identity is used only
 * when the input has none, a stapled CRL only when the input holds no CRL of the same issuer
 * (so a stale copy can never shadow a fresh local one). Stapled certificates are untrusted
 * intermediates only: trust still comes from the relying party's anchors, and every signature
 * is checked by the verifiers as for collateral given as files.
 *
 * Stapled collateral outside its validity window at the verification time (a certificate past
 * notAfter or before notBefore, a CRL past nextUpdate or before thisUpdate, a TCB Info / QE
 * Identity past nextUpdate or before issueDate) is refused with
 * ATLS_ERR_EVIDENCE_COLLATERAL_STALE, never used. Malformed records and unknown media types:
 * ATLS_ERR_EVIDENCE_FORMAT; more than ATLS_STAPLED_MAX_CERTS certificates:
 * ATLS_ERR_DECODE_TOO_LARGE.
 */
#ifndef ATLS_APPRAISE_STAPLED_H
#define ATLS_APPRAISE_STAPLED_H

#include "codec/cmw/cmw.h"

#include <atls/evidence.h>

#include <openssl/x509.h>

#define ATLS_STAPLED_MAX_CERTS 16

/* The merged input. |in| points into the fields below and into the CMW bytes (borrowed). */
typedef struct atls_stapled {
    atls_verify_input in;
    STACK_OF(X509) *intermediates; /* the caller's (references) + stapled */
    STACK_OF(X509_CRL) *crls;      /* the caller's (references) + stapled */
    size_t num_endorsements;       /* records merged */
    int seen_tcb_info, seen_qe_identity;
} atls_stapled;

/* atls_stapled_is_endorsement: the leaf is an Endorsement record (ind has the endorsements bit
 * and not the evidence bit). */
int atls_stapled_is_endorsement(const atls_cmw_leaf *leaf);

/* atls_stapled_merge builds |out| from |base| (may be NULL: nothing configured) and every
 * Endorsement leaf of |cmw|. On failure |out| is cleaned up and the error names the record
 * (its label) and what was wrong. */
ATLS_MUST_CHECK atls_error atls_stapled_merge(const atls_cmw *cmw, const atls_verify_input *base,
                                              atls_stapled *out);

void atls_stapled_cleanup(atls_stapled *s);

#endif /* ATLS_APPRAISE_STAPLED_H */
