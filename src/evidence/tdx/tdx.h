/*
 * tdx/tdx.h: Intel TDX DCAP quotes v4 / v5 (Intel "TDX DCAP Quote Generation Library and Quote
 * Verification Library" API, appendix "Quote Format"; evidence-formats.md section 3) and the
 * "tdx" verifier plug-in.
 *
 * Media type: ATLS_TDX_MEDIA_TYPE, the quote bytes as the CMW record value. The record must end
 * exactly where sig_data_len says (trailing bytes are ATLS_ERR_EVIDENCE_FORMAT). Quote *files*
 * produced by some tools carry padding after the quote: a file reader calls
 * atls_tdx_quote_length() and passes only that prefix (the CLI's rule, see EVIDENCE.md).
 */
#ifndef ATLS_TDX_TDX_H
#define ATLS_TDX_TDX_H

#include <atls/error.h>

#include "evidence/core/plugin.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ATLS_TDX_MEDIA_TYPE "application/vnd.atls.tdx-quote"
#define ATLS_TDX_TEE_TYPE 0x81u
#define ATLS_TDX_MAX_QUOTE (64u * 1024u)

/* The 384-byte SGX REPORT body of the Quoting Enclave. */
typedef struct atls_tdx_qe_report {
    uint8_t raw[384];        /* signed by the PCK key */
    uint8_t cpusvn[16];
    uint32_t miscselect;
    uint8_t attributes[16];
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint16_t isvprodid;
    uint16_t isvsvn;
    uint8_t report_data[64];
} atls_tdx_qe_report;

/* A parsed quote. Pointers borrow from the parsed buffer. */
typedef struct atls_tdx_quote {
    uint16_t version;         /* 4 or 5 */
    uint16_t att_key_type;    /* 2 = ECDSA P-256 */
    uint32_t tee_type;        /* 0x81 */
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    uint16_t body_type;       /* 2 = TDX 1.0 (v4 always), 3 = TDX 1.5 */
    /* TD report body */
    uint8_t tee_tcb_svn[16];
    uint8_t mrseam[48];
    uint8_t mrsignerseam[48];
    uint8_t seam_attributes[8];
    uint8_t td_attributes[8];
    uint8_t xfam[8];
    uint8_t mrtd[48];
    uint8_t mrconfigid[48];
    uint8_t mrowner[48];
    uint8_t mrownerconfig[48];
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
    uint8_t tee_tcb_svn2[16]; /* body type 3 only */
    uint8_t mrservicetd[48];  /* body type 3 only */
    /* signature data */
    const uint8_t *signed_data; /* every byte before sig_data_len */
    size_t signed_len;
    uint8_t signature[64];      /* r || s big-endian */
    uint8_t attestation_key[64];/* X || Y */
    atls_tdx_qe_report qe;
    uint8_t qe_signature[64];
    const uint8_t *qe_auth;
    size_t qe_auth_len;
    const uint8_t *pck_chain;   /* PEM, as carried (certification data type 5) */
    size_t pck_chain_len;
} atls_tdx_quote;

/* atls_tdx_quote_parse decodes exactly |len| bytes (no trailing bytes) into |out| (caller
 * storage; its pointers borrow |data|). ATLS_ERR_EVIDENCE_FORMAT naming the field. */
ATLS_MUST_CHECK atls_error atls_tdx_quote_parse(const uint8_t *data, size_t len,
                                                atls_tdx_quote *out);

/* atls_tdx_quote_length reads the framing of the quote at the start of |data| and sets *qlen to
 * its declared length (header + body + 4 + sig_data_len), which must be <= |len|. For quote
 * files that carry padding after the quote. ATLS_ERR_EVIDENCE_FORMAT if it cannot. */
ATLS_MUST_CHECK atls_error atls_tdx_quote_length(const uint8_t *data, size_t len, size_t *qlen);

/* atls_tdx_collateral_window reads |member|.issueDate and |member|.nextUpdate ("tcbInfo" of a
 * TCB Info, "enclaveIdentity" of a QE Identity: an Intel PCS v4 response body) without checking
 * the signature (the verifier does). ATLS_ERR_EVIDENCE_COLLATERAL when |doc| is not such a
 * document. */
ATLS_MUST_CHECK atls_error atls_tdx_collateral_window(const uint8_t *doc, size_t len,
                                                      const char *member, time_t *issue,
                                                      time_t *next);

/* The "tdx" verifier plug-in (media type ATLS_TDX_MEDIA_TYPE, policy section "tdx"). */
extern const atls_verifier_ops atls_tdx_verifier_ops;

#endif /* ATLS_TDX_TDX_H */
