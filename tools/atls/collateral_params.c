/* collateral_params.c: which collateral a platform needs, read from its Evidence
 * (collateral_fetch.h fetch_params_from). */
#include "collateral_fetch.h"

#include "codec/cmw/cmw.h"
#include "evidence/azure/azure.h"
#include "evidence/snp/snp.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tdx/tdx_internal.h"
#include "evidence/tsm/tsm.h"

#include <openssl/err.h>
#include <openssl/objects.h>

#include <stdio.h>
#include <string.h>

/* product_of: the KDS product of a v3+ report (CPUID family / model), "" when it has none */
static const char *product_of(const atls_snp_report *r)
{
    if (r->version < 3 || r->cpuid_fam_id == 0) {
        return "";
    }
    if (r->cpuid_fam_id == 0x1A) {
        return "Turin";
    }
    if (r->cpuid_fam_id == 0x19) {
        /* Zen 3 server parts (model 0x0X) are Milan; Zen 4 (0x1X, 0xAX) use Genoa's keys */
        return r->cpuid_mod_id < 0x10 ? "Milan" : "Genoa";
    }
    return "";
}

static int from_snp(const uint8_t *rep, size_t len, const char *want, fetch_params *out)
{
    atls_snp_report r;
    if (atls_snp_report_parse(rep, len, &r) != ATLS_OK) {
        return cli_fail_atls(CLI_EXIT_USAGE, "SNP report");
    }
    const char *seen = product_of(&r);
    if (want != NULL && seen[0] != '\0' && strcmp(want, seen) != 0) {
        cli_error("--snp-product %s: the report's CPUID says %s", want, seen);
        return CLI_EXIT_USAGE;
    }
    const char *product = seen[0] != '\0' ? seen : want;
    if (product == NULL) {
        cli_error("the SNP report (version %u) does not name its product: give --snp-product "
                  "Milan, Genoa or Turin",
                  r.version);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(product, "Milan") != 0 && strcmp(product, "Genoa") != 0 &&
        strcmp(product, "Turin") != 0) {
        cli_error("--snp-product '%s': expected Milan, Genoa or Turin", product);
        return CLI_EXIT_USAGE;
    }
    out->have_snp = 1;
    snprintf(out->snp_product, sizeof(out->snp_product), "%s", product);
    out->turin = strcmp(product, "Turin") == 0;
    out->snp_vlek = atls_snp_report_signer(&r) == ATLS_SNP_SIGNER_VLEK;
    out->hwid_len = out->turin ? 8 : 64;
    memcpy(out->hwid, r.chip_id, out->hwid_len);
    atls_snp_tcb t;
    atls_snp_tcb_decode(r.reported_tcb, out->turin, &t);
    out->fmc = t.fmc;
    out->bl = t.bootloader;
    out->tee = t.tee;
    out->snp = t.snp;
    out->ucode = t.microcode;
    return 0;
}

static int from_tdx(const uint8_t *q, size_t len, fetch_params *out)
{
    atls_tdx_quote quote;
    STACK_OF(X509) *chain = NULL;
    atls_tdx_pck_info pck;
    if (atls_tdx_quote_parse(q, len, &quote) != ATLS_OK ||
        atls_tdx_load_pem_chain(quote.pck_chain, quote.pck_chain_len, ATLS_ERR_EVIDENCE_CHAIN,
                                &chain) != ATLS_OK ||
        atls_tdx_pck_info_get(sk_X509_value(chain, 0), &pck) != ATLS_OK) {
        sk_X509_pop_free(chain, X509_free);
        return cli_fail_atls(CLI_EXIT_USAGE, "TDX quote");
    }
    char cn[80] = "";
    X509_NAME_get_text_by_NID(X509_get_issuer_name(sk_X509_value(chain, 0)), NID_commonName, cn,
                              (int)sizeof(cn));
    ERR_clear_error();
    sk_X509_pop_free(chain, X509_free);
    out->have_tdx = 1;
    memcpy(out->fmspc, pck.fmspc, sizeof(out->fmspc));
    snprintf(out->pck_ca, sizeof(out->pck_ca), "%s",
             strstr(cn, "Processor") != NULL ? "processor" : "platform");
    return 0;
}

static int from_tsm(const uint8_t *ev, size_t len, const char *snp_product, fetch_params *out)
{
    atls_tsm_report rep;
    if (atls_tsm_report_decode(ev, len, &rep) != ATLS_OK) {
        return cli_fail_atls(CLI_EXIT_USAGE, "tsm report");
    }
    const uint8_t *blob = atls_cursor_data(&rep.outblob);
    size_t blen = atls_cursor_remaining(&rep.outblob);
    if (strcmp(rep.provider, "sev_guest") == 0) {
        return from_snp(blob, blen, snp_product, out);
    }
    if (strcmp(rep.provider, "tdx_guest") == 0) {
        return from_tdx(blob, blen, out);
    }
    return 0; /* CCA: no collateral to fetch */
}

static int from_azure(const uint8_t *ev, size_t len, const char *snp_product, fetch_params *out)
{
    atls_azure_evidence e;
    atls_azure_hcl hcl;
    if (atls_azure_evidence_decode(ev, len, &e) != ATLS_OK ||
        atls_azure_hcl_parse(atls_cursor_data(&e.hcl), atls_cursor_remaining(&e.hcl), &hcl) !=
            ATLS_OK) {
        return cli_fail_atls(CLI_EXIT_USAGE, "Azure Evidence");
    }
    if (hcl.tee == ATLS_AZURE_TEE_SNP) {
        return from_snp(atls_cursor_data(&hcl.hw_report), atls_cursor_remaining(&hcl.hw_report),
                        snp_product, out);
    }
    return e.has_tdquote ? from_tdx(atls_cursor_data(&e.tdquote),
                                    atls_cursor_remaining(&e.tdquote), out)
                         : 0;
}

static int from_one(const char *media_type, const uint8_t *ev, size_t len,
                    const char *snp_product, fetch_params *out)
{
    if (strcmp(media_type, ATLS_SNP_MEDIA_TYPE) == 0) {
        return from_snp(ev, len, snp_product, out);
    }
    if (strcmp(media_type, ATLS_TDX_MEDIA_TYPE) == 0) {
        return from_tdx(ev, len, out);
    }
    if (strcmp(media_type, ATLS_TSM_MEDIA_TYPE) == 0) {
        return from_tsm(ev, len, snp_product, out);
    }
    if (strcmp(media_type, ATLS_AZURE_MEDIA_TYPE) == 0) {
        return from_azure(ev, len, snp_product, out);
    }
    return 0; /* tpm2, sim, cca: nothing of AMD's or Intel's */
}

int fetch_params_from(const char *media_type, const uint8_t *ev, size_t len,
                      const char *snp_product, fetch_params *out)
{
    memset(out, 0, sizeof(*out));
    int rc = 0;
    if (media_type != NULL) {
        rc = from_one(media_type, ev, len, snp_product, out);
    } else {
        atls_cmw cmw;
        if (atls_cmw_decode(ev, len, &cmw) != ATLS_OK) {
            return cli_fail_atls(CLI_EXIT_USAGE, "CMW");
        }
        for (size_t i = 0; rc == 0 && i < cmw.num_leaves; i++) {
            const atls_cmw_leaf *l = &cmw.leaves[i];
            char type[ATLS_EVIDENCE_MEDIA_TYPE_MAX + 1];
            size_t n = atls_cursor_remaining(&l->media_type);
            if (l->type_is_cf || (l->ind & ATLS_CMW_IND_EVIDENCE) == 0 || n >= sizeof(type)) {
                continue;
            }
            memcpy(type, atls_cursor_data(&l->media_type), n);
            type[n] = '\0';
            rc = from_one(type, atls_cursor_data(&l->value), atls_cursor_remaining(&l->value),
                          snp_product, out);
        }
    }
    if (rc == 0 && !out->have_snp && !out->have_tdx) {
        cli_error("the Evidence holds no SNP report or TDX quote: there is no AMD or Intel "
                  "collateral to fetch");
        rc = CLI_EXIT_USAGE;
    }
    return rc;
}
