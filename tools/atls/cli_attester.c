/* cli_attester.c: --attester and its options → an attester plug-in (cli.h). The options are
 * passed through as the plug-in's "key=value" configuration (atls/evidence.h). */
#include "cli.h"
#include "cli_collection.h"
#include "collateral_dir.h"

#include <stdio.h>
#include <stdlib.h>
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
    case CLI_OPT_SIM_QUOTE_LATENCY:
        o->sim_quote_latency = value;
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
    case CLI_OPT_TSM_PATH:
        o->tsm_path = value;
        break;
    case CLI_OPT_TSM_PRIVLEVEL:
        o->tsm_privlevel = value;
        break;
    case CLI_OPT_TSM_CCEL_LOG:
        o->tsm_ccel_log = value;
        break;
    case CLI_OPT_TSM_CCEL_TABLE:
        o->tsm_ccel_table = value;
        break;
    case CLI_OPT_AZURE_CERTS:
        o->azure_certs = value;
        break;
    case CLI_OPT_AZURE_TDQUOTE:
        o->azure_tdquote = value;
        break;
    case CLI_OPT_TPM_EVENTLOG:
        o->tpm_eventlog = value;
        break;
    case CLI_OPT_IMA_LOG:
        o->ima_log = value;
        break;
    case CLI_OPT_WITH_TPM:
        o->with_tpm = 1;
        break;
    case CLI_OPT_COLLATERAL_DIR:
        o->collateral_dir = value;
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

/* add_kv appends "key=value" to the plug-in configuration. */
static void add_kv(char kv[][1100], const char **config, size_t *n, const char *key,
                   const char *value)
{
    snprintf(kv[*n], sizeof(kv[*n]), "%s=%s", key, value);
    config[*n] = kv[*n];
    (*n)++;
}

/* add_tpm_config: the tpm2 options (tpm2 and azure, and the --with-tpm TPM) */
static void add_tpm_config(const cli_attester_opts *o, char kv[][1100], const char **config,
                           size_t *n)
{
    if (o->tpm_tcti != NULL) {
        add_kv(kv, config, n, "tcti", o->tpm_tcti);
    }
    if (o->tpm_ak_handle != NULL) {
        snprintf(kv[*n], sizeof(kv[*n]), "ak_handle=%s%s",
                 strncmp(o->tpm_ak_handle, "0x", 2) == 0 ? "" : "0x", o->tpm_ak_handle);
        config[*n] = kv[*n];
        (*n)++;
    }
    if (o->tpm_pcrs != NULL) {
        add_kv(kv, config, n, "pcrs", o->tpm_pcrs);
    }
    if (o->tpm_eventlog != NULL) {
        add_kv(kv, config, n, "eventlog", o->tpm_eventlog);
    }
    if (o->ima_log != NULL) {
        add_kv(kv, config, n, "ima", o->ima_log);
    }
}

/* create: the plug-in |a| with |config|; 0 or an exit code */
static int create(const atls_attester_ops *a, const char *const *config, void **state)
{
    if (a->create(config, state) != ATLS_OK) {
        char what[32];
        snprintf(what, sizeof(what), "%s attester", a->name);
        return cli_fail_atls(CLI_EXIT_USAGE, what);
    }
    return 0;
}

/* open_tpm: the --with-tpm TPM (a tpm2 attester on the --tpm-* options or the default TPM) */
static int open_tpm(const cli_attester_opts *o, const atls_attester_ops **ops, void **state)
{
    cli_attester_opts t = *o;
    t.tpm_tcti = cli_default_tcti(o);
    char why[400];
    if (!cli_tpm_present(o, why, sizeof(why))) {
        cli_error("--with-tpm: no TPM: %s", why);
        return CLI_EXIT_USAGE;
    }
    *ops = atls_attester_ops_by_name("tpm2");
    if (*ops == NULL) {
        cli_error("--with-tpm: the tpm2 attester is not built into this atls");
        return CLI_EXIT_USAGE;
    }
    char kv[5][1100];
    const char *config[6] = {NULL};
    size_t n = 0;
    add_tpm_config(&t, kv, config, &n);
    cli_log("--with-tpm: TPM %s",
            t.tpm_tcti != NULL ? t.tpm_tcti : "found by the default search");
    return create(*ops, config, state);
}

int cli_attester_open(const cli_attester_opts *o_in, const atls_attester_ops **ops, void **state)
{
    *ops = NULL;
    *state = NULL;
    cli_attester_opts o = *o_in;
    int any_sim = o.sim_key || o.sim_measurements || o.sim_quote_latency;
    int any_tpm = o.tpm_tcti || o.tpm_ak_handle || o.tpm_pcrs;
    int any_tsm = o.tsm_path || o.tsm_privlevel || o.tsm_ccel_log || o.tsm_ccel_table;
    int any_azure = o.azure_certs || o.azure_tdquote;
    if (o.name == NULL) {
        if (any_sim || any_tpm || any_tsm || any_azure || o.with_tpm || o.collateral_dir) {
            cli_error("attester options need --attester sim|tpm2|tsm|azure|auto");
            return CLI_EXIT_USAGE;
        }
        return 0;
    }
    const char *auto_tcti = NULL;
    if (strcmp(o.name, "auto") == 0) {
        if (any_sim) {
            cli_error("--sim-* options need --attester sim (auto never picks the simulation)");
            return CLI_EXIT_USAGE;
        }
        int rc = cli_attester_pick(&o, &o.name, &auto_tcti);
        if (rc != 0) {
            return rc;
        }
        if (auto_tcti != NULL && o.tpm_tcti == NULL) {
            o.tpm_tcti = auto_tcti;
        }
        /* options of the attesters auto did not pick are not errors: they were offered */
        if (strcmp(o.name, "tsm") != 0) {
            o.tsm_path = o.tsm_privlevel = o.tsm_ccel_log = o.tsm_ccel_table = NULL;
        }
        if (strcmp(o.name, "azure") != 0) {
            o.azure_certs = o.azure_tdquote = NULL;
        }
        any_tsm = o.tsm_path || o.tsm_privlevel || o.tsm_ccel_log || o.tsm_ccel_table;
        any_azure = o.azure_certs || o.azure_tdquote;
        any_tpm = strcmp(o.name, "tsm") != 0 && (o.tpm_tcti || o.tpm_ak_handle || o.tpm_pcrs);
        if (o.with_tpm && strcmp(o.name, "tsm") != 0) {
            /* the TPM is the attester already */
            cli_log("--attester auto took %s: --with-tpm adds nothing", o.name);
            o.with_tpm = 0;
        }
    }
    int is_sim = strcmp(o.name, "sim") == 0, is_tpm = strcmp(o.name, "tpm2") == 0;
    int is_tsm = strcmp(o.name, "tsm") == 0, is_azure = strcmp(o.name, "azure") == 0;
    if (!is_sim && !is_tpm && !is_tsm && !is_azure) {
        cli_error("--attester '%s': expected sim, tpm2, tsm, azure or auto", o.name);
        return CLI_EXIT_USAGE;
    }
    if (any_sim && !is_sim) {
        cli_error("--sim-* options need --attester sim");
        return CLI_EXIT_USAGE;
    }
    if (o.with_tpm && !is_tsm) {
        cli_error("--with-tpm needs --attester tsm (tpm2 and azure quote with the TPM already)");
        return CLI_EXIT_USAGE;
    }
    if (any_tpm && !is_tpm && !is_azure && !o.with_tpm) {
        cli_error("--tpm-* options need --attester tpm2 or azure (or tsm --with-tpm)");
        return CLI_EXIT_USAGE;
    }
    if (o.collateral_dir != NULL &&
        collateral_check_dir(o.collateral_dir, 0, o.collateral_refreshed) != 0) {
        return CLI_EXIT_USAGE;
    }
    if ((o.tpm_eventlog || o.ima_log) && !is_tpm && !o.with_tpm) {
        cli_error("--tpm-eventlog and --ima-log need --attester tpm2 (or tsm --with-tpm)");
        return CLI_EXIT_USAGE;
    }
    if (any_tsm && !is_tsm) {
        cli_error("--tsm-* options need --attester tsm");
        return CLI_EXIT_USAGE;
    }
    if (any_azure && !is_azure) {
        cli_error("--azure-* options need --attester azure");
        return CLI_EXIT_USAGE;
    }
    const atls_attester_ops *a = atls_attester_ops_by_name(o.name);
    if (a == NULL) {
        cli_error("attester '%s' is not built into this atls", o.name);
        return CLI_EXIT_USAGE;
    }
    char kv[8][1100];
    const char *config[9] = {NULL};
    size_t n = 0;
    if (is_sim) {
        if (o.sim_key == NULL) {
            cli_error("--attester sim needs --sim-key FILE");
            return CLI_EXIT_USAGE;
        }
        if (!readable(o.sim_key, "--sim-key") ||
            (o.sim_measurements && !readable(o.sim_measurements, "--sim-measurements"))) {
            return CLI_EXIT_USAGE;
        }
        add_kv(kv, config, &n, "key", o.sim_key);
        if (o.sim_measurements != NULL) {
            add_kv(kv, config, &n, "measurements", o.sim_measurements);
        }
        int ms = 0;
        if (o.sim_quote_latency != NULL &&
            cli_parse_int(o.sim_quote_latency, "--sim-quote-latency", 0, 60000, "milliseconds",
                          &ms) != 0) {
            return CLI_EXIT_USAGE;
        }
        if (o.sim_quote_latency != NULL) {
            add_kv(kv, config, &n, "quote_latency_ms", o.sim_quote_latency);
        }
    } else if (is_tsm) {
        if (o.tsm_privlevel != NULL &&
            (strlen(o.tsm_privlevel) != 1 || o.tsm_privlevel[0] < '0' ||
             o.tsm_privlevel[0] > '3')) {
            cli_error("--tsm-privlevel '%s': expected 0..3", o.tsm_privlevel);
            return CLI_EXIT_USAGE;
        }
        char provider[80];
        int rc = cli_attester_probe_tsm(&o, provider, sizeof(provider));
        if (rc != 0) {
            return rc;
        }
        cli_log("configfs-tsm provider %s", provider);
        if (o.tsm_path != NULL) {
            add_kv(kv, config, &n, "root", o.tsm_path);
        }
        if (o.tsm_privlevel != NULL) {
            add_kv(kv, config, &n, "privlevel", o.tsm_privlevel);
        }
        if (o.tsm_ccel_log != NULL) {
            add_kv(kv, config, &n, "ccel", o.tsm_ccel_log);
        }
        if (o.tsm_ccel_table != NULL) {
            add_kv(kv, config, &n, "ccel_table", o.tsm_ccel_table);
        }
    } else {
        add_tpm_config(&o, kv, config, &n);
        if ((o.azure_certs && !readable(o.azure_certs, "--azure-certs")) ||
            (o.azure_tdquote && !readable(o.azure_tdquote, "--azure-tdquote"))) {
            return CLI_EXIT_USAGE;
        }
        if (o.azure_certs != NULL) {
            add_kv(kv, config, &n, "certs", o.azure_certs);
        }
        if (o.azure_tdquote != NULL) {
            add_kv(kv, config, &n, "tdquote", o.azure_tdquote);
        }
    }
    void *primary = NULL;
    int rc = create(a, config, &primary);
    if (rc != 0) {
        return rc;
    }
    if (!o.with_tpm && o.collateral_dir == NULL) {
        *ops = a;
        *state = primary;
        return 0;
    }
    const atls_attester_ops *tpm = NULL;
    void *tpm_state = NULL;
    if (o.with_tpm && (rc = open_tpm(&o, &tpm, &tpm_state)) != 0) {
        a->destroy(primary);
        return rc;
    }
    return cli_collection_open(a, primary, tpm, tpm_state, o.collateral_dir, ops, state);
}
