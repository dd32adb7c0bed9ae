/* tdx_quote.c: field-by-field decoding of DCAP TDX quotes v4 / v5 (tdx.h). Layout: Intel TDX
 * DCAP Quote Generation Library, "Quote Format" (v4: header 48 + TD report 584; v5: header 48 +
 * type u16 + size u32 + body); evidence-formats.md 3.1-3.3. */
#include "evidence/tdx/tdx.h"

#include "base/cursor.h"
#include "base/result.h"

#include <string.h>

#define FMT ATLS_ERR_EVIDENCE_FORMAT
#define TDX10_BODY 584u
#define TDX15_BODY 648u
#define PCK_CHAIN_MAX (32u * 1024u)
#define QE_AUTH_MAX 1024u

#define GET(fn, f, what) ATLS_ENSURE(fn(c, &(f)), FMT, "TDX quote: truncated at %s", what)
#define COPY(f, what)                                                                             \
    ATLS_ENSURE(atls_cursor_copy_bytes(c, (f), sizeof(f)), FMT, "TDX quote: truncated at %s", what)

/* header parses the 48-byte header (3.1) and the v5 body descriptor; sets *body_len. */
ATLS_MUST_CHECK static atls_error header(atls_cursor *c, atls_tdx_quote *q, uint32_t *body_len)
{
    uint32_t reserved;
    GET(atls_cursor_get_u16_le, q->version, "version");
    ATLS_ENSURE(q->version == 4 || q->version == 5, FMT, "TDX quote: unsupported version %u",
                q->version);
    GET(atls_cursor_get_u16_le, q->att_key_type, "att_key_type");
    ATLS_ENSURE(q->att_key_type == 2, FMT,
                "TDX quote: att_key_type %u is not 2 (ECDSA P-256)", q->att_key_type);
    GET(atls_cursor_get_u32_le, q->tee_type, "tee_type");
    ATLS_ENSURE(q->tee_type == ATLS_TDX_TEE_TYPE, FMT, "TDX quote: tee_type 0x%x is not TDX (0x81)",
                (unsigned)q->tee_type);
    GET(atls_cursor_get_u32_le, reserved, "reserved"); /* meaning unknown [U]; not checked */
    COPY(q->qe_vendor_id, "qe_vendor_id");
    COPY(q->user_data, "user_data");
    if (q->version == 4) {
        q->body_type = 2;
        *body_len = TDX10_BODY;
        return ATLS_OK;
    }
    GET(atls_cursor_get_u16_le, q->body_type, "body_type");
    GET(atls_cursor_get_u32_le, *body_len, "body_size");
    ATLS_ENSURE((q->body_type == 2 && *body_len == TDX10_BODY) ||
                    (q->body_type == 3 && *body_len == TDX15_BODY),
                FMT, "TDX quote: body type %u with size %u is not a TD report (2/584, 3/648)",
                q->body_type, (unsigned)*body_len);
    return ATLS_OK;
}

ATLS_MUST_CHECK static atls_error body(atls_cursor *c, atls_tdx_quote *q)
{
    COPY(q->tee_tcb_svn, "tee_tcb_svn");
    COPY(q->mrseam, "mrseam");
    COPY(q->mrsignerseam, "mrsignerseam");
    COPY(q->seam_attributes, "seam_attributes");
    COPY(q->td_attributes, "td_attributes");
    COPY(q->xfam, "xfam");
    COPY(q->mrtd, "mrtd");
    COPY(q->mrconfigid, "mrconfigid");
    COPY(q->mrowner, "mrowner");
    COPY(q->mrownerconfig, "mrownerconfig");
    for (size_t i = 0; i < 4; i++) {
        COPY(q->rtmr[i], "rtmr");
    }
    COPY(q->report_data, "report_data");
    if (q->body_type == 3) {
        COPY(q->tee_tcb_svn2, "tee_tcb_svn2");
        COPY(q->mrservicetd, "mrservicetd");
    }
    return ATLS_OK;
}

/* qe_report decodes the SGX REPORT body (Intel SGX SDM, REPORTBODY). */
ATLS_MUST_CHECK static atls_error qe_report(atls_cursor *c, atls_tdx_qe_report *r)
{
    atls_cursor rc;
    ATLS_ENSURE(atls_cursor_get_bytes(c, &rc, sizeof(r->raw)), FMT,
                "TDX quote: truncated in the QE report");
    memcpy(r->raw, atls_cursor_data(&rc), sizeof(r->raw));
    c = &rc;
    COPY(r->cpusvn, "QE cpusvn");
    GET(atls_cursor_get_u32_le, r->miscselect, "QE miscselect");
    ATLS_ENSURE(atls_cursor_skip(c, 28), FMT, "TDX quote: truncated in the QE report");
    COPY(r->attributes, "QE attributes");
    COPY(r->mrenclave, "QE mrenclave");
    ATLS_ENSURE(atls_cursor_skip(c, 32), FMT, "TDX quote: truncated in the QE report");
    COPY(r->mrsigner, "QE mrsigner");
    ATLS_ENSURE(atls_cursor_skip(c, 96), FMT, "TDX quote: truncated in the QE report");
    GET(atls_cursor_get_u16_le, r->isvprodid, "QE isvprodid");
    GET(atls_cursor_get_u16_le, r->isvsvn, "QE isvsvn");
    ATLS_ENSURE(atls_cursor_skip(c, 60), FMT, "TDX quote: truncated in the QE report");
    COPY(r->report_data, "QE report_data");
    ATLS_ENSURE(atls_cursor_is_empty(c), ATLS_ERR_INTERNAL, "TDX quote: QE report layout");
    return ATLS_OK;
}

/* sig_data parses the ECDSA-256 signature data (3.3), ending each level exactly. */
ATLS_MUST_CHECK static atls_error sig_data(atls_cursor *c, atls_tdx_quote *q)
{
    uint16_t type;
    uint32_t size;
    atls_cursor cd, chain;
    COPY(q->signature, "quote signature");
    COPY(q->attestation_key, "attestation key");
    GET(atls_cursor_get_u16_le, type, "certification data type");
    ATLS_ENSURE(type == 6, FMT, "TDX quote: certification data type %u is not 6 (QE report)",
                type);
    GET(atls_cursor_get_u32_le, size, "certification data size");
    ATLS_ENSURE(atls_cursor_get_bytes(c, &cd, size), FMT,
                "TDX quote: certification data size %u runs past the end", (unsigned)size);
    ATLS_ENSURE(atls_cursor_is_empty(c), FMT, "TDX quote: bytes after the certification data");
    c = &cd;
    ATLS_GUARD(qe_report(c, &q->qe));
    COPY(q->qe_signature, "QE report signature");
    uint16_t auth_len;
    atls_cursor auth;
    GET(atls_cursor_get_u16_le, auth_len, "QE auth data size");
    ATLS_ENSURE(auth_len <= QE_AUTH_MAX, FMT, "TDX quote: QE auth data size %u too large",
                auth_len);
    ATLS_ENSURE(atls_cursor_get_bytes(c, &auth, auth_len), FMT,
                "TDX quote: QE auth data runs past the end");
    q->qe_auth = atls_cursor_data(&auth);
    q->qe_auth_len = auth_len;
    GET(atls_cursor_get_u16_le, type, "PCK certification data type");
    ATLS_ENSURE(type == 5, FMT,
                "TDX quote: inner certification data type %u is not 5 (PCK chain)", type);
    GET(atls_cursor_get_u32_le, size, "PCK chain size");
    ATLS_ENSURE(size > 0 && size <= PCK_CHAIN_MAX, FMT, "TDX quote: PCK chain size %u out of range",
                (unsigned)size);
    ATLS_ENSURE(atls_cursor_get_bytes(c, &chain, size), FMT,
                "TDX quote: PCK chain runs past the end");
    ATLS_ENSURE(atls_cursor_is_empty(c), FMT,
                "TDX quote: bytes after the PCK chain in the certification data");
    q->pck_chain = atls_cursor_data(&chain);
    q->pck_chain_len = size;
    return ATLS_OK;
}

atls_error atls_tdx_quote_parse(const uint8_t *data, size_t len, atls_tdx_quote *q)
{
    atls_cursor all, *c = &all, sig;
    uint32_t body_len = 0, sig_len = 0;
    memset(q, 0, sizeof(*q));
    ATLS_ENSURE(data != NULL || len == 0, ATLS_ERR_USAGE, "TDX quote: NULL input");
    ATLS_ENSURE(len <= ATLS_TDX_MAX_QUOTE, FMT, "TDX quote: %zu bytes is too large", len);
    atls_cursor_init(c, data, len);
    ATLS_GUARD(header(c, q, &body_len));
    ATLS_GUARD(body(c, q));
    q->signed_data = data;
    q->signed_len = len - atls_cursor_remaining(c);
    GET(atls_cursor_get_u32_le, sig_len, "sig_data_len");
    ATLS_ENSURE(atls_cursor_get_bytes(c, &sig, sig_len), FMT,
                "TDX quote: sig_data_len %u runs past the end", (unsigned)sig_len);
    ATLS_ENSURE(atls_cursor_is_empty(c), FMT, "TDX quote: %zu bytes after sig_data_len",
                atls_cursor_remaining(c));
    return sig_data(&sig, q);
}

atls_error atls_tdx_quote_length(const uint8_t *data, size_t len, size_t *qlen)
{
    atls_cursor all, *c = &all;
    atls_tdx_quote q;
    uint32_t body_len = 0, sig_len = 0;
    memset(&q, 0, sizeof(q));
    atls_cursor_init(c, data, len);
    ATLS_GUARD(header(c, &q, &body_len));
    ATLS_ENSURE(atls_cursor_skip(c, body_len), FMT, "TDX quote: truncated in the body");
    GET(atls_cursor_get_u32_le, sig_len, "sig_data_len");
    ATLS_ENSURE(atls_cursor_remaining(c) >= sig_len, FMT,
                "TDX quote: sig_data_len %u runs past the end", (unsigned)sig_len);
    *qlen = len - atls_cursor_remaining(c) + sig_len;
    ATLS_ENSURE(*qlen <= ATLS_TDX_MAX_QUOTE, FMT, "TDX quote: too large");
    return ATLS_OK;
}
