/* cli_attester.c: --attester and its options → an attester plug-in (cli.h). The options are
 * passed through as the plug-in's "key=value" configuration (atls/evidence.h). */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void cli_attester_option(cli_attester_opts *o, int c, const char *value)
{
    switch (c) {
    case CLI_OPT_ATTESTER:
        o->name = value;
        break;
    case CLI_OPT_SIM_KEY:
        o->sim_key = value;
        break;
    case CLI_OPT_SIM_MEASUREMENTS:
        o->sim_measurements = value;
        break;
    case CLI_OPT_TPM_TCTI:
        o->tpm_tcti = value;
        break;
    case CLI_OPT_TPM_AK_HANDLE:
        o->tpm_ak_handle = value;
        break;
    case CLI_OPT_TPM_PCRS:
        o->tpm_pcrs = value;
        break;
    default:
        break;
    }
}

/* readable: the file exists and can be read (checked here so the error names the option) */
static int readable(const char *path, const char *opt)
{
    if (access(path, R_OK) != 0) {
        cli_error("%s %s: cannot read the file", opt, path);
        return 0;
    }
    return 1;
}

int cli_attester_open(const cli_attester_opts *o, const atls_attester_ops **ops, void **state)
{
    *ops = NULL;
    *state = NULL;
    int is_sim = o->name != NULL && strcmp(o->name, "sim") == 0;
    int is_tpm = o->name != NULL && strcmp(o->name, "tpm2") == 0;
    if (o->name == NULL) {
        if (o->sim_key || o->sim_measurements || o->tpm_tcti || o->tpm_ak_handle || o->tpm_pcrs) {
            cli_error("attester options need --attester sim|tpm2");
            return CLI_EXIT_USAGE;
        }
        return 0;
    }
    if (!is_sim && !is_tpm) {
        cli_error("--attester '%s': expected sim or tpm2", o->name);
        return CLI_EXIT_USAGE;
    }
    if (is_sim && (o->tpm_tcti || o->tpm_ak_handle || o->tpm_pcrs)) {
        cli_error("--tpm-* options need --attester tpm2");
        return CLI_EXIT_USAGE;
    }
    if (is_tpm && (o->sim_key || o->sim_measurements)) {
        cli_error("--sim-* options need --attester sim");
        return CLI_EXIT_USAGE;
    }
    const atls_attester_ops *a = atls_attester_ops_by_name(o->name);
    if (a == NULL) {
        cli_error("attester '%s' is not built into this atls", o->name);
        return CLI_EXIT_USAGE;
    }
    char kv[4][1100];
    const char *config[5] = {NULL};
    size_t n = 0;
    if (is_sim) {
        if (o->sim_key == NULL) {
            cli_error("--attester sim needs --sim-key FILE");
            return CLI_EXIT_USAGE;
        }
        if (!readable(o->sim_key, "--sim-key") ||
            (o->sim_measurements && !readable(o->sim_measurements, "--sim-measurements"))) {
            return CLI_EXIT_USAGE;
        }
        snprintf(kv[n], sizeof(kv[n]), "key=%s", o->sim_key);
        config[n] = kv[n], n++;
        if (o->sim_measurements != NULL) {
            snprintf(kv[n], sizeof(kv[n]), "measurements=%s", o->sim_measurements);
            config[n] = kv[n], n++;
        }
    } else {
        if (o->tpm_tcti != NULL) {
            snprintf(kv[n], sizeof(kv[n]), "tcti=%s", o->tpm_tcti);
            config[n] = kv[n], n++;
        }
        if (o->tpm_ak_handle != NULL) {
            snprintf(kv[n], sizeof(kv[n]), "ak_handle=%s%s",
                     strncmp(o->tpm_ak_handle, "0x", 2) == 0 ? "" : "0x", o->tpm_ak_handle);
            config[n] = kv[n], n++;
        }
        if (o->tpm_pcrs != NULL) {
            snprintf(kv[n], sizeof(kv[n]), "pcrs=%s", o->tpm_pcrs);
            config[n] = kv[n], n++;
        }
    }
    if (a->create(config, state) != ATLS_OK) {
        return cli_fail_atls(CLI_EXIT_USAGE, is_sim ? "sim attester" : "tpm2 attester");
    }
    *ops = a;
    return 0;
}
