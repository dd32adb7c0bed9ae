/* cli_attester_pick.c: `--attester auto` and the checks before `--attester tsm` (cli.h). auto
 * takes what the machine has, in this order: configfs-tsm with a provider (a TDX/SNP/CCA guest:
 * Google Cloud, AWS, bare metal), then a TPM whose NV index 0x01400001 holds an HCL report (an
 * Azure confidential VM), then any TPM (tpm2), and says which it took. */
#include "cli.h"

#include "evidence/azure/azure.h"
#include "evidence/tpm2/tpm2.h"
#include "evidence/tsm/tsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cli_default_tcti(const cli_attester_opts *o)
{
    return o->tpm_tcti != NULL ? o->tpm_tcti : atls_tpm2_default_tcti();
}

int cli_tpm_present(const cli_attester_opts *o, char *why, size_t size)
{
    if (atls_tpm2_probe(cli_default_tcti(o)) == ATLS_OK) {
        return 1;
    }
    snprintf(why, size, "%s", atls_error_message());
    atls_error_clear();
    return 0;
}

int cli_attester_probe_tsm(const cli_attester_opts *o, char *provider, size_t size)
{
    const char *root = o->tsm_path != NULL ? o->tsm_path : ATLS_TSM_DEFAULT_ROOT;
    if (atls_tsm_probe(root, provider, size) != ATLS_OK) {
        return cli_fail_atls(CLI_EXIT_USAGE, "--attester tsm");
    }
    return 0;
}

int cli_attester_pick(cli_attester_opts *o, const char **name, const char **tcti)
{
    char provider[ATLS_TSM_MAX_PROVIDER + 1];
    const char *root = o->tsm_path != NULL ? o->tsm_path : ATLS_TSM_DEFAULT_ROOT;
    *tcti = NULL;
    atls_error rc = atls_tsm_probe(root, provider, sizeof(provider));
    if (rc == ATLS_OK) {
        *name = "tsm";
        cli_error("--attester auto: using tsm (configfs-tsm provider %s at %s)", provider, root);
        return 0;
    }
    char why_tsm[300];
    snprintf(why_tsm, sizeof(why_tsm), "%s", atls_error_message());
    char why_tpm[400];
    if (!cli_tpm_present(o, why_tpm, sizeof(why_tpm))) {
        cli_error("--attester auto: nothing to attest with: %s; and no TPM: %s", why_tsm,
                  why_tpm);
        return CLI_EXIT_USAGE;
    }
    const char *t = cli_default_tcti(o);
    *tcti = t;
    const char *shown = t != NULL ? t : "found by the default search";
    uint8_t *hcl = NULL;
    size_t len = 0;
    atls_azure_hcl parsed;
    if (atls_tpm2_nv_read(t, ATLS_AZURE_HCL_NV_INDEX, ATLS_AZURE_MAX_HCL, &hcl, &len) ==
            ATLS_OK &&
        atls_azure_hcl_parse(hcl, len, &parsed) == ATLS_OK) {
        *name = "azure";
        cli_error("--attester auto: using azure (HCL report for %s in vTPM NV 0x%08x, TPM %s)",
                  parsed.tee == ATLS_AZURE_TEE_SNP ? "SEV-SNP" : "TDX", ATLS_AZURE_HCL_NV_INDEX,
                  shown);
    } else {
        *name = "tpm2";
        cli_error("--attester auto: using tpm2 (TPM %s; no configfs-tsm: %s)", shown, why_tsm);
    }
    atls_error_clear();
    free(hcl);
    return 0;
}
