/* azure_verifier.c: the "azure" verifier (azure.h): TEE signature -> REPORT_DATA = H(runtime
 * data) -> AK in the runtime data -> vTPM quote over the challenge. Each link is checked by the
 * code that owns it (snp, tdx and tpm2 verifiers); this file only joins them. */
#include "evidence/azure/azure.h"

#include "base/result.h"
#include "evidence/core/claims.h"
#include "evidence/snp/snp.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tpm2/tpm2.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <string.h>

/* parse_certs reads DER certificates back to back (at most 8). */
static atls_error parse_certs(const atls_cursor *certs, STACK_OF(X509) **out)
{
    *out = sk_X509_new_null();
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    const unsigned char *p = atls_cursor_data(certs);
    const unsigned char *end = p + atls_cursor_remaining(certs);
    while (p < end) {
        X509 *x = sk_X509_num(*out) < 8 ? d2i_X509(NULL, &p, (long)(end - p)) : NULL;
        if (x == NULL || sk_X509_push(*out, x) <= 0) {
            X509_free(x);
            ERR_clear_error();
            sk_X509_pop_free(*out, X509_free);
            *out = NULL;
            ATLS_RAISE(ATLS_ERR_EVIDENCE_FORMAT,
                       "azure: \"certs\" is not up to 8 DER certificates back to back");
        }
    }
    return ATLS_OK;
}

/* TD fields of the TDREPORT (TDINFO at offset 512: attributes, xfam, mrtd, mrconfigid, mrowner,
 * mrownerconfig, rtmr[4]) must equal the quote's: the quote is over this very TDREPORT. */
static atls_error tdreport_matches_quote(const atls_cursor *tdreport, const uint8_t *quote,
                                         size_t quote_len, const uint8_t expected_rd[64])
{
    const uint8_t *r = atls_cursor_data(tdreport);
    atls_tdx_quote q;
    ATLS_GUARD(atls_tdx_quote_parse(quote, quote_len, &q));
    ATLS_ENSURE(r[0] == ATLS_TDX_TEE_TYPE, ATLS_ERR_EVIDENCE_FORMAT,
                "HCL report: TDREPORT type 0x%02x is not TDX (0x81)", r[0]);
    ATLS_ENSURE(CRYPTO_memcmp(r + 128, expected_rd, 64) == 0, ATLS_ERR_EVIDENCE_NONCE,
                "HCL report: TDREPORT REPORTDATA is not the hash of the runtime data");
    const uint8_t *info = r + 512;
    const struct {
        const uint8_t *field;
        size_t len;
        const char *name;
    } f[] = {{q.td_attributes, 8, "attributes"}, {q.xfam, 8, "xfam"}, {q.mrtd, 48, "mrtd"},
             {q.mrconfigid, 48, "mrconfigid"},   {q.mrowner, 48, "mrowner"},
             {q.mrownerconfig, 48, "mrownerconfig"}, {q.rtmr[0], 4 * 48, "rtmr"}};
    size_t off = 0;
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        ATLS_ENSURE(memcmp(info + off, f[i].field, f[i].len) == 0, ATLS_ERR_EVIDENCE,
                    "azure: the TD quote's %s differs from the HCL report's TDREPORT",
                    f[i].name);
        off += f[i].len;
    }
    return ATLS_OK;
}

/* verify_tee verifies the hardware report with REPORT_DATA expected = H(runtime data). */
static atls_error verify_tee(const atls_azure_evidence *ev, const atls_azure_hcl *hcl,
                             const atls_verify_input *in, atls_evidence_result *tee)
{
    uint8_t expected[64];
    ATLS_GUARD(atls_azure_expected_report_data(hcl, expected));
    atls_verify_input sub = *in;
    sub.challenge = expected; /* the TEE verifiers compare all 64 bytes of REPORT_DATA */
    if (hcl->tee == ATLS_AZURE_TEE_SNP) {
        ATLS_ENSURE(!ev->has_tdquote, ATLS_ERR_EVIDENCE_FORMAT,
                    "azure: \"tdquote\" with an SNP HCL report");
        atls_snp_report r;
        ATLS_GUARD(atls_snp_report_parse(atls_cursor_data(&hcl->hw_report),
                                         atls_cursor_remaining(&hcl->hw_report), &r));
        /* only the paravisor at VMPL 0 vouches for the runtime data: a guest kernel at VMPL 2
         * could request a report with REPORT_DATA of its choice */
        ATLS_ENSURE(r.vmpl == 0, ATLS_ERR_EVIDENCE,
                    "azure: SNP report from VMPL %u, not the paravisor's VMPL 0", r.vmpl);
        STACK_OF(X509) *certs = NULL;
        if (ev->has_certs) {
            ATLS_GUARD(parse_certs(&ev->certs, &certs));
        }
        atls_error rc = atls_snp_verify_report(atls_cursor_data(&hcl->hw_report),
                                               atls_cursor_remaining(&hcl->hw_report), &sub,
                                               certs, tee);
        sk_X509_pop_free(certs, X509_free);
        if (rc == ATLS_ERR_EVIDENCE_NONCE) {
            ATLS_RAISE(rc, "azure: SNP REPORT_DATA is not the hash of the runtime data");
        }
        return rc;
    }
    ATLS_ENSURE(ev->has_tdquote, ATLS_ERR_EVIDENCE_FORMAT,
                "azure: a TDX HCL report needs the TD quote (\"tdquote\")");
    ATLS_ENSURE(!ev->has_certs, ATLS_ERR_EVIDENCE_FORMAT,
                "azure: \"certs\" with a TDX HCL report (the PCK chain is in the quote)");
    const uint8_t *q = atls_cursor_data(&ev->tdquote);
    size_t qlen = atls_cursor_remaining(&ev->tdquote);
    atls_error rc = atls_tdx_verifier_ops.verify(q, qlen, &sub, tee);
    if (rc == ATLS_ERR_EVIDENCE_NONCE) {
        ATLS_RAISE(rc, "azure: TD quote REPORTDATA is not the hash of the runtime data");
    }
    ATLS_GUARD(rc);
    rc = tdreport_matches_quote(&hcl->hw_report, q, qlen, expected);
    if (rc != ATLS_OK) {
        atls_evidence_result_cleanup(tee);
    }
    return rc;
}

/* verify_quote: the vTPM quote over the challenge, signed by the AK of the runtime data. */
static atls_error verify_quote(const atls_azure_evidence *ev, EVP_PKEY *ak,
                               const atls_verify_input *in, atls_evidence_result *tpm)
{
    /* the tpm2 verifier does the quote; the AK it finds must be the runtime data's. AK
     * certificates are not used: the TEE vouches for this AK. */
    atls_verify_input sub = {.challenge = in->challenge, .at = in->at};
    ATLS_GUARD(atls_tpm2_verifier_ops.verify(atls_cursor_data(&ev->tpm),
                                             atls_cursor_remaining(&ev->tpm), &sub, tpm));
    char want[65];
    ATLS_GUARD(atls_key_id(ak, want));
    if (strcmp(want, tpm->key_id) != 0) {
        atls_evidence_result_cleanup(tpm);
        ATLS_RAISE(ATLS_ERR_EVIDENCE_SIGNATURE,
                   "azure: the vTPM quote is not signed by the AK in the runtime data");
    }
    return ATLS_OK;
}

static atls_error build_claims(const atls_azure_hcl *hcl, json_t *runtime,
                               atls_evidence_result *tee, atls_evidence_result *tpm,
                               const char *ak_key_id, json_t **out)
{
    json_t *c = json_object();
    ATLS_ENSURE(c != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    const char *tee_name = hcl->tee == ATLS_AZURE_TEE_SNP ? "snp" : "tdx";
    json_object_del(runtime, "keys"); /* the AK is reported as ak_key_id */
    int ok = json_object_set(c, "runtime_data", runtime) == 0 &&
             json_object_set(c, tee_name, tee->claims) == 0 &&
             json_object_set(c, "tpm2", tpm->claims) == 0;
    atls_error rc = ok ? ATLS_OK
                       : atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__,
                                          "out of memory");
    if (rc == ATLS_OK && (rc = atls_claims_set_str(c, "tee", tee_name)) == ATLS_OK &&
        (rc = atls_claims_set_int(c, "hcl_version", hcl->version)) == ATLS_OK) {
        rc = atls_claims_set_str(c, "ak_key_id", ak_key_id);
    }
    if (rc != ATLS_OK) {
        json_decref(c);
        return rc;
    }
    *out = c;
    return ATLS_OK;
}

static atls_error azure_verify(const uint8_t *evidence, size_t len, const atls_verify_input *in,
                               atls_evidence_result *out)
{
    static const atls_verify_input none = {0};
    ATLS_ENSURE(out != NULL, ATLS_ERR_USAGE, "azure verify: no result");
    memset(out, 0, sizeof(*out));
    if (in == NULL) {
        in = &none;
    }
    atls_azure_evidence ev;
    atls_azure_hcl hcl;
    ATLS_GUARD(atls_azure_evidence_decode(evidence, len, &ev));
    ATLS_GUARD(atls_azure_hcl_parse(atls_cursor_data(&ev.hcl), atls_cursor_remaining(&ev.hcl),
                                    &hcl));
    json_t *runtime = NULL;
    EVP_PKEY *ak = NULL;
    ATLS_GUARD(atls_azure_runtime_parse(&hcl, &runtime, &ak));
    atls_evidence_result tee, tpm;
    memset(&tee, 0, sizeof(tee));
    memset(&tpm, 0, sizeof(tpm));
    atls_error rc = verify_quote(&ev, ak, in, &tpm);
    if (rc == ATLS_OK) {
        rc = verify_tee(&ev, &hcl, in, &tee);
    }
    if (rc == ATLS_OK) {
        rc = build_claims(&hcl, runtime, &tee, &tpm, tpm.key_id, &out->claims);
    }
    if (rc == ATLS_OK) {
        out->type = "azure";
        memcpy(out->key_id, tee.key_id, sizeof(out->key_id));
        out->challenge_checked = tpm.challenge_checked;
        out->tv = tee.tv;
        out->contra_error = tee.contra_error;
        memcpy(out->contra_reason, tee.contra_reason, sizeof(out->contra_reason));
    }
    atls_evidence_result_cleanup(&tee);
    atls_evidence_result_cleanup(&tpm);
    json_decref(runtime);
    EVP_PKEY_free(ak);
    return rc;
}

const atls_verifier_ops atls_azure_verifier_ops = {
    .name = "azure",
    .media_type = ATLS_AZURE_MEDIA_TYPE,
    .verify = azure_verify,
    .appraise = atls_azure_appraise,
    .check_policy = atls_azure_check_policy,
    .policy_from_result = atls_azure_policy_from_result,
};
