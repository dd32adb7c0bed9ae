/*
 * cli.h: what the subcommands of the `atls` tool share (docs/cli.md): the exit-code
 * convention, one-line errors, option plumbing, loading certificates / keys / policies,
 * HOST:PORT parsing and sockets, attester setup, and printing appraisals.
 *
 * Conventions: every cli_* function that can fail prints one line "atls <cmd>: <what was
 * wrong>" on stderr itself and returns the exit code to use (CLI_EXIT_*), or 0 on success, so
 * a subcommand can write `if ((rc = cli_x(...)) != 0) goto done;`.
 */
#ifndef ATLS_TOOLS_CLI_H
#define ATLS_TOOLS_CLI_H

#include <atls/appraisal.h>
#include <atls/evidence.h>
#include <atls/policy.h>

/* the tool is part of atls: it uses the plug-in tables and the JSON of appraisals and policies */
#include "appraisal/appraise/appraisal_internal.h"
#include "appraisal/policy/policy_section.h"
#include "evidence/core/plugin.h"

#include <getopt.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (issue 4): documented in docs/cli.md. */
#define CLI_EXIT_OK 0       /* affirming (or a command that did its job) */
#define CLI_EXIT_FAIL 1     /* contraindicated, invalid evidence, failed TLS connection */
#define CLI_EXIT_USAGE 2    /* usage or I/O error */
#define CLI_EXIT_WARNING 3  /* verified but not fully appraised (e.g. no policy) */

/* The subcommand name used in messages ("serve", "connect", ...). */
extern const char *cli_cmd;
/* -v given: log progress on stderr. */
extern int cli_verbose;

/* cli_error prints "atls <cmd>: <message>" on stderr (one line: newlines in the message are
 * replaced by spaces). Always printed. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_log prints "atls <cmd>: <message>" on stderr only with -v. Thread-safe (one fprintf). */
void cli_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_capture_errors makes this thread's cli_error calls write their message into |buf|
 * (the first one only; "" when none) instead of printing it, until cli_capture_errors(NULL,
 * 0). For a caller that reports a failure in a line of its own (serve's reload). */
void cli_capture_errors(char *buf, size_t size);

/* cli_fail_atls prints "atls <cmd>: <what>: <atls_error_message()>" and returns |code|. */
int cli_fail_atls(int code, const char *what);

/* cli_bad_option reports an unknown option or missing argument after getopt_long returned '?'
 * or ':' (opterr must be 0; optstring must start with ':') and returns CLI_EXIT_USAGE. */
int cli_bad_option(char **argv, int c);

/* cli_parse_seconds reads a duration option: seconds 0.1 .. 86400, into milliseconds. */
int cli_parse_seconds(const char *s, const char *opt, int *out_ms);

/* cli_parse_int reads option |opt|'s whole-number value |s| in lo..hi into *out; else one line
 * "OPT 'S': expected LO..HI UNIT" (|unit| may be "") and CLI_EXIT_USAGE. */
int cli_parse_int(const char *s, const char *opt, long lo, long hi, const char *unit, int *out);

/* cli_catch_signals installs |handler| for SIGINT, SIGTERM, SIGQUIT and SIGHUP (the signals a
 * daemon of ours stops or reloads on), without SA_RESTART. */
void cli_catch_signals(void (*handler)(int));

/* cli_exit_for_status maps an appraisal outcome to an exit code: affirming 0, warning 3,
 * anything else 1. */
int cli_exit_for_status(atls_tier status);

/* ---- files --------------------------------------------------------------------------------- */

/* cli_load_cert_chain reads a PEM file: the first certificate into *cert (required) and any
 * following ones appended to *chain (created when NULL). Caller frees both. */
int cli_load_cert_chain(const char *path, X509 **cert, STACK_OF(X509) **chain);

/* cli_load_certs appends every PEM certificate of |path| (at least one) to *stack (created when
 * NULL). */
int cli_load_certs(const char *path, STACK_OF(X509) **stack);

/* cli_load_private_key reads a PEM private key (unencrypted). Caller frees. */
int cli_load_private_key(const char *path, EVP_PKEY **out);

/* cli_load_public_key reads a key from a PEM file holding a public key, an unencrypted private
 * key or a certificate (the first that parses). Caller frees. */
int cli_load_public_key(const char *path, EVP_PKEY **out);

/* cli_load_policy loads and checks an appraisal policy (atls/policy.h). Caller frees. */
int cli_load_policy(const char *path, atls_policy **out);

/* cli_read_file reads a whole file (at most |max| bytes). Caller frees *out. */
int cli_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len);

/* cli_parse_challenge decodes exactly ATLS_CHALLENGE_LEN bytes of hex. */
int cli_parse_challenge(const char *hex, uint8_t out[ATLS_CHALLENGE_LEN]);

/* ---- network ------------------------------------------------------------------------------- */

/* A parsed "HOST:PORT" ("[v6]:PORT" for IPv6 literals). */
typedef struct cli_hostport {
    char host[256];
    char port[8];
} cli_hostport;

/* cli_parse_hostport splits |s|; |what| names the option in errors. */
int cli_parse_hostport(const char *s, const char *what, cli_hostport *out);

/* cli_parse_server parses the server argument of connect / policy init: HOST:PORT, or a URL
 * https://HOST[:PORT][/] (port 443 by default), which is understood as HOST:PORT; any other
 * scheme or a path is refused with a line that says how to write it. */
int cli_parse_server(const char *s, cli_hostport *out);

/* A backend: TCP HOST:PORT or a Unix-domain socket "unix:/path". */
typedef struct cli_backend {
    cli_hostport tcp;
    char unix_path[108];  /* non-empty: a Unix-domain socket (sun_path) */
} cli_backend;

/* cli_parse_backend parses "HOST:PORT" or "unix:/path"; |what| names the option. */
int cli_parse_backend(const char *s, const char *what, cli_backend *out);

/* cli_backend_name writes "HOST:PORT" or "unix:/path". */
void cli_backend_name(const cli_backend *b, char *out, size_t size);

/* cli_connect_backend is cli_connect_tcp for a backend of either kind (quiet: the message is
 * in |err|). */
int cli_connect_backend(const cli_backend *b, int timeout_ms, int *fd, char *err,
                        size_t err_size);

/* cli_local_name formats the local address of |fd| as "addr:port" (the port a listener on
 * port 0 was given). */
void cli_local_name(int fd, char *out, size_t size);

/* cli_is_ip_literal: 1 if |host| is an IPv4 or IPv6 address literal. */
int cli_is_ip_literal(const char *host);

/* cli_listen binds and listens on |hp| (SO_REUSEADDR); *fd is the socket. */
int cli_listen(const cli_hostport *hp, int *fd);

/* cli_connect_tcp connects to |hp| within |timeout_ms| (blocking socket on return). Name
 * resolution and connection failures print one line and return CLI_EXIT_USAGE (I/O error)
 * unless |quiet| (then nothing is printed; the message is in |err| when not NULL). */
int cli_connect_tcp(const cli_hostport *hp, int timeout_ms, int *fd, char *err, size_t err_size);

/* cli_peer_name formats the peer address of |fd| as "addr:port" into |out|. */
void cli_peer_name(int fd, char *out, size_t size);

/* cli_ssl_error_text: a one-line description of the last TLS failure (OpenSSL queue or
 * verification result). */
const char *cli_ssl_error_text(SSL *ssl, char *buf, size_t size);

/* ---- attesters ----------------------------------------------------------------------------- */

/* Attester options shared by serve, connect (mutual) and evidence. */
typedef struct cli_attester_opts {
    const char *name;              /* --attester sim|tpm2|tsm|azure|auto */
    const char *sim_key, *sim_measurements;
    const char *sim_quote_latency; /* --sim-quote-latency MS: sim's quote_latency_ms */
    const char *tpm_tcti, *tpm_ak_handle, *tpm_pcrs;
    const char *tsm_path, *tsm_privlevel;
    const char *tsm_ccel_log, *tsm_ccel_table; /* tsm: the CC event log of a TDX guest */
    const char *azure_certs, *azure_tdquote;
    const char *tpm_eventlog, *ima_log; /* tpm2: event logs to send with the quote */
    int with_tpm;                  /* --with-tpm: a tpm2 quote beside tsm Evidence */
    const char *collateral_dir;    /* --collateral-dir: staple its items (collateral_dir.h) */
    int collateral_refreshed;      /* serve --collateral-refresh fills the directory: it may
                                      be empty (or missing) at start */
} cli_attester_opts;

/* long-option values for the attester options (add CLI_ATTESTER_LONGOPTS to a table and call
 * cli_attester_option for values >= CLI_OPT_ATTESTER_BASE) */
enum {
    CLI_OPT_ATTESTER_BASE = 1000,
    CLI_OPT_ATTESTER = CLI_OPT_ATTESTER_BASE,
    CLI_OPT_SIM_KEY,
    CLI_OPT_SIM_MEASUREMENTS,
    CLI_OPT_SIM_QUOTE_LATENCY,
    CLI_OPT_TPM_TCTI,
    CLI_OPT_TPM_AK_HANDLE,
    CLI_OPT_TPM_PCRS,
    CLI_OPT_TSM_PATH,
    CLI_OPT_TSM_PRIVLEVEL,
    CLI_OPT_AZURE_CERTS,
    CLI_OPT_AZURE_TDQUOTE,
    CLI_OPT_TPM_EVENTLOG,
    CLI_OPT_IMA_LOG,
    CLI_OPT_WITH_TPM,
    CLI_OPT_COLLATERAL_DIR,
    CLI_OPT_TSM_CCEL_LOG,
    CLI_OPT_TSM_CCEL_TABLE,
    CLI_OPT_ATTESTER_END
};
#define CLI_ATTESTER_LONGOPTS                                                                 \
    {"attester", required_argument, NULL, CLI_OPT_ATTESTER},                                  \
        {"sim-key", required_argument, NULL, CLI_OPT_SIM_KEY},                                \
        {"sim-measurements", required_argument, NULL, CLI_OPT_SIM_MEASUREMENTS},              \
        {"sim-quote-latency", required_argument, NULL, CLI_OPT_SIM_QUOTE_LATENCY},            \
        {"tpm-tcti", required_argument, NULL, CLI_OPT_TPM_TCTI},                              \
        {"tpm-ak-handle", required_argument, NULL, CLI_OPT_TPM_AK_HANDLE},                    \
        {"tpm-pcrs", required_argument, NULL, CLI_OPT_TPM_PCRS},                              \
        {"tsm-path", required_argument, NULL, CLI_OPT_TSM_PATH},                              \
        {"tsm-privlevel", required_argument, NULL, CLI_OPT_TSM_PRIVLEVEL},                    \
        {"azure-certs", required_argument, NULL, CLI_OPT_AZURE_CERTS},                        \
        {"azure-tdquote", required_argument, NULL, CLI_OPT_AZURE_TDQUOTE},                    \
        {"tpm-eventlog", required_argument, NULL, CLI_OPT_TPM_EVENTLOG},                      \
        {"ima-log", required_argument, NULL, CLI_OPT_IMA_LOG},                                \
        {"with-tpm", no_argument, NULL, CLI_OPT_WITH_TPM},                                    \
        {"collateral-dir", required_argument, NULL, CLI_OPT_COLLATERAL_DIR},                  \
        {"tsm-ccel-log", required_argument, NULL, CLI_OPT_TSM_CCEL_LOG},                      \
        {"tsm-ccel-table", required_argument, NULL, CLI_OPT_TSM_CCEL_TABLE}
#define CLI_ATTESTER_HELP                                                                     \
    "  --attester NAME            attester producing our Evidence: sim, tpm2, tsm\n"          \
    "                             (configfs-tsm), azure (Azure CVM vTPM), auto\n"            \
    "  --sim-key FILE             sim: P-256 signing key (PEM)\n"                             \
    "  --sim-measurements FILE    sim: measurements JSON {\"name\": \"hex digest\"}\n"         \
    "  --sim-quote-latency MS     sim: each quote takes MS ms, one at a time (a slow TPM or\n" \
    "                             quoting enclave, for tests and benchmarks)\n"              \
    "  --tpm-tcti STR             tpm2: TCTI, e.g. device:/dev/tpmrm0 or\n"                  \
    "                             swtpm:host=127.0.0.1,port=2321 (default $ATLS_TPM2_TCTI,\n" \
    "                             $TPM2TOOLS_TCTI, else the search tpm2-tools does)\n"     \
    "  --tpm-ak-handle HEX        tpm2: persistent AK handle (default: endorsement primary)\n" \
    "  --tpm-pcrs SEL             tpm2: PCR selection (default sha256:0-7,23)\n"            \
    "  --tpm-eventlog FILE|none   tpm2: firmware event log to send with the quote (default\n" \
    "                             with a device TCTI: binary_bios_measurements if readable)\n" \
    "  --ima-log FILE|none        tpm2: IMA measurement list to send, entries appended since\n" \
    "                             the last attestation (default with a device TCTI: the\n"     \
    "                             kernel's binary_runtime_measurements if readable)\n"         \
    "  --tsm-path DIR             tsm: configfs-tsm report directory\n"                     \
    "                             (default /sys/kernel/config/tsm/report)\n"                 \
    "  --tsm-privlevel N          tsm: SNP VMPL 0..3 to request\n"                           \
    "  --tsm-ccel-log FILE|none   tsm (TDX): CC event log to send beside the quote, once per\n" \
    "                             connection (default /sys/firmware/acpi/tables/data/CCEL\n"  \
    "                             when it and the ACPI table can be read)\n"                 \
    "  --tsm-ccel-table FILE|none tsm (TDX): ACPI CCEL table the log is checked against\n"   \
    "                             (default /sys/firmware/acpi/tables/CCEL if readable)\n"     \
    "  --azure-certs FILE         azure: PEM VCEK/VLEK (+ASK/ARK) to carry (SNP)\n"         \
    "  --azure-tdquote FILE       azure: the TD quote of the HCL report (TDX)\n"            \
    "  --with-tpm                 tsm: a TPM quote (--tpm-* options) as a second Evidence\n" \
    "                             in the same CMW collection (Google vTPM, AWS NitroTPM)\n"  \
    "  --collateral-dir DIR       staple the collateral in DIR (atls collateral fetch) so\n" \
    "                             verifiers need only the vendor roots\n"

/* cli_attester_option stores one attester option value (c from getopt_long). */
void cli_attester_option(cli_attester_opts *o, int c, const char *value);

/* cli_attester_pick resolves `--attester auto` (cli_attester_pick.c): *name becomes "tsm",
 * "azure" or "tpm2" (static), *tcti the TPM it found (NULL for tsm); one line says which. */
int cli_attester_pick(cli_attester_opts *o, const char **name, const char **tcti);

/* cli_default_tcti: --tpm-tcti, else the tpm2 attester's own default (atls_tpm2_default_tcti:
 * $ATLS_TPM2_TCTI, $TPM2TOOLS_TCTI, $TCTI), else NULL = tpm2-tss's default search (borrowed
 * from |o| / the environment). One choice for tpm2, azure, auto and --with-tpm. */
const char *cli_default_tcti(const cli_attester_opts *o);

/* cli_tpm_present: 1 when the TPM cli_default_tcti names (or the default search finds) opens;
 * else 0 with the reason in |why|. */
int cli_tpm_present(const cli_attester_opts *o, char *why, size_t size);

/* cli_attester_probe_tsm checks configfs-tsm (or --tsm-path) before `--attester tsm`, printing
 * what is missing when it is not usable; |provider| gets the provider's name. */
int cli_attester_probe_tsm(const cli_attester_opts *o, char *provider, size_t size);

/* cli_attester_open checks that the options fit the attester and creates it. *ops NULL and 0
 * returned when no --attester was given. */
int cli_attester_open(const cli_attester_opts *o, const atls_attester_ops **ops, void **state);

/* ---- output -------------------------------------------------------------------------------- */

/* cli_print_appraisal prints |a| on |fp|: the EAR as pretty JSON (|json|), or a short human
 * summary (status, evidence type, key id, up to |max_claims| claims, 0 = all, and a SIMULATED
 * notice for sim). With |ear_key| the EAR is printed as a signed JWT (ES256) instead. */
int cli_print_appraisal(FILE *fp, const atls_appraisal *a, int json, size_t max_claims,
                        EVP_PKEY *ear_key);

/* cli_policy_from_appraisal builds a strict policy {"version":1, "<type>": section...} from
 * the results of |a| (each verifier's policy_from_result). With |require_challenge|, every
 * section that has a "require_challenge" key gets true even though |a| checked none (Evidence
 * from a file: the policy is for connections, which always carry one). *out: malloc'd pretty
 * JSON text. */
int cli_policy_from_appraisal(const atls_appraisal *a, int require_challenge, char **out);

#endif /* ATLS_TOOLS_CLI_H */
