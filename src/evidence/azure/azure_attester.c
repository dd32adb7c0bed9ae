/* azure_attester.c: the "azure" attester (azure.h). The HCL report is read once from vTPM NV
 * (the paravisor writes it at boot; it does not change while the VM runs), then every Evidence
 * is that report + a fresh vTPM quote over the challenge, made by the tpm2 attester with the
 * AK Azure provisions (persistent 0x81000003). */
#include "evidence/azure/azure.h"

#include "base/file.h"
#include "base/mem.h"
#include "base/result.h"
#include "base/writer.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tpm2/tpm2.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TPM_OPTS 4

typedef struct azure_state {
    void *tpm;          /* the tpm2 attester's state */
    atls_buf hcl;
    atls_buf certs;     /* DER back to back, or empty */
    atls_buf tdquote;   /* TDX: the TD quote over the HCL report's TDREPORT */
} azure_state;

static void azure_destroy(void *state)
{
    azure_state *s = state;
    if (s == NULL) {
        return;
    }
    if (s->tpm != NULL) {
        atls_tpm2_attester_ops.destroy(s->tpm);
    }
    atls_buf_cleanup(&s->hcl);
    atls_buf_cleanup(&s->certs);
    atls_buf_cleanup(&s->tdquote);
    free(s);
}

/* load_certs reads PEM certificates (VCEK or VLEK first, then ASK/ARK) into DER back to back. */
static atls_error load_certs(const char *path, atls_buf *out)
{
    FILE *f = fopen(path, "r");
    ATLS_ENSURE(f != NULL, ATLS_ERR_USAGE_CONFIG, "azure attester: cannot open %s: %s", path,
                strerror(errno));
    atls_writer w;
    atls_writer_init(&w, 64u * 1024u);
    X509 *x;
    int n = 0;
    while (n < 8 && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der);
        X509_free(x);
        (void)(len > 0 && atls_writer_add_bytes(&w, der, (size_t)len));
        OPENSSL_free(der);
        n++;
    }
    ERR_clear_error();
    fclose(f);
    uint8_t *bytes = NULL;
    size_t len = 0;
    atls_error rc = atls_writer_finish(&w, &bytes, &len);
    atls_writer_cleanup(&w);
    ATLS_GUARD(rc);
    if (n == 0 || len == 0) {
        free(bytes);
        ATLS_RAISE(ATLS_ERR_USAGE_CONFIG, "azure attester: %s holds no PEM certificate", path);
    }
    rc = atls_buf_set(out, bytes, len);
    free(bytes);
    return rc;
}

static atls_error azure_create(const char *const *config, void **state)
{
    const char *tcti = atls_tpm2_default_tcti();
    const char *certs = NULL, *tdquote = NULL;
    uint32_t nv_index = ATLS_AZURE_HCL_NV_INDEX;
    const char *tpm_cfg[MAX_TPM_OPTS + 1] = {NULL};
    char ak_default[32];
    size_t n = 0;
    int have_ak = 0;
    for (size_t i = 0; config != NULL && config[i] != NULL; i++) {
        const char *kv = config[i];
        if (strncmp(kv, "certs=", 6) == 0 && kv[6] != '\0') {
            certs = kv + 6;
        } else if (strncmp(kv, "tdquote=", 8) == 0 && kv[8] != '\0') {
            tdquote = kv + 8;
        } else if (strncmp(kv, "nv_index=", 9) == 0) {
            char *end = NULL;
            errno = 0;
            unsigned long v = strtoul(kv + 9, &end, 0);
            ATLS_ENSURE(errno == 0 && end != kv + 9 && *end == '\0' && v <= 0xffffffffu,
                        ATLS_ERR_USAGE_CONFIG, "azure attester: bad nv_index '%s'", kv + 9);
            nv_index = (uint32_t)v;
        } else if ((strncmp(kv, "tcti=", 5) == 0 || strncmp(kv, "ak_handle=", 10) == 0 ||
                    strncmp(kv, "pcrs=", 5) == 0) &&
                   n < MAX_TPM_OPTS - 1) {
            if (strncmp(kv, "tcti=", 5) == 0) {
                tcti = kv + 5;
            }
            have_ak |= strncmp(kv, "ak_handle=", 10) == 0;
            tpm_cfg[n++] = kv; /* the tpm2 attester's own options */
        } else {
            ATLS_RAISE(ATLS_ERR_USAGE_CONFIG,
                       "azure attester: unknown option '%s' (tcti=, ak_handle=, pcrs=, "
                       "nv_index=, certs=, tdquote=)",
                       kv);
        }
    }
    if (!have_ak) {
        snprintf(ak_default, sizeof(ak_default), "ak_handle=0x%08x", ATLS_AZURE_AK_HANDLE);
        tpm_cfg[n++] = ak_default;
    }
    azure_state *s = calloc(1, sizeof(*s));
    ATLS_ENSURE(s != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc;
    uint8_t *hcl = NULL;
    size_t hcl_len = 0;
    /* NV first: the tpm2 attester then holds the TPM connection (swtpm serves one at a time) */
    rc = atls_tpm2_nv_read(tcti, nv_index, ATLS_AZURE_MAX_HCL, &hcl, &hcl_len);
    if (rc != ATLS_OK) {
        char why[300];
        snprintf(why, sizeof(why), "%s", atls_error_message());
        azure_destroy(s);
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
                   "no HCL report in vTPM NV 0x%08x (not an Azure confidential "
                   "VM?): %s",
                   nv_index, why);
    }
    atls_azure_hcl parsed;
    rc = atls_buf_set(&s->hcl, hcl, hcl_len);
    free(hcl);
    if (rc == ATLS_OK) {
        rc = atls_azure_hcl_parse(s->hcl.data, s->hcl.len, &parsed);
    }
    if (rc == ATLS_OK && parsed.tee == ATLS_AZURE_TEE_TDX && tdquote == NULL) {
        rc = atls_error_raise(ATLS_ERR_USAGE_CONFIG, __FILE__, __LINE__,
                              "azure attester: a TDX VM needs tdquote=FILE, the TD quote of the "
                              "HCL report's TDREPORT (from Azure IMDS /acc/tdquote)");
    }
    if (rc == ATLS_OK && tdquote != NULL) {
        uint8_t *q = NULL;
        size_t qlen = 0, exact = 0;
        rc = atls_file_read(tdquote, ATLS_TDX_MAX_QUOTE, &q, &qlen);
        if (rc == ATLS_OK) {
            rc = atls_tdx_quote_length(q, qlen, &exact); /* files often carry padding */
        }
        if (rc == ATLS_OK) {
            rc = atls_buf_set(&s->tdquote, q, exact);
        }
        free(q);
    }
    if (rc == ATLS_OK && certs != NULL) {
        rc = load_certs(certs, &s->certs);
    }
    if (rc == ATLS_OK) {
        rc = atls_tpm2_attester_ops.create(tpm_cfg, &s->tpm);
    }
    if (rc != ATLS_OK) {
        azure_destroy(s);
        return rc;
    }
    *state = s;
    return ATLS_OK;
}

static atls_error azure_produce(void *state, const uint8_t *challenge, uint8_t **out,
                                size_t *out_len)
{
    azure_state *s = state;
    ATLS_ENSURE(s != NULL, ATLS_ERR_USAGE_STATE, "azure attester: not created");
    uint8_t *tpm = NULL;
    size_t tpm_len = 0;
    ATLS_GUARD(atls_tpm2_attester_ops.produce(s->tpm, challenge, &tpm, &tpm_len));
    atls_error rc = atls_azure_evidence_encode(
        s->hcl.data, s->hcl.len, tpm, tpm_len, s->certs.len > 0 ? s->certs.data : NULL,
        s->certs.len, s->tdquote.len > 0 ? s->tdquote.data : NULL, s->tdquote.len, out,
        out_len);
    free(tpm);
    return rc;
}

const atls_attester_ops atls_azure_attester_ops = {
    .name = "azure",
    .media_type = ATLS_AZURE_MEDIA_TYPE,
    .create = azure_create,
    .produce = azure_produce,
    .destroy = azure_destroy,
};
