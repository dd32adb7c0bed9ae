/* cli.c: messages, option errors and file loading shared by the subcommands (cli.h). */
#include "cli.h"
#include "logging.h"

#include <atls/error.h>

#include "base/file.h"
#include "base/hex.h"
#include "base/mem.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

const char *cli_cmd = "";
int cli_verbose = 0;

/* cli_capture_errors: where this thread's cli_error messages go instead (NULL: printed) */
static _Thread_local char *capture_buf;
static _Thread_local size_t capture_size;

void cli_capture_errors(char *buf, size_t size)
{
    capture_buf = size > 0 ? buf : NULL;
    capture_size = size;
    if (capture_buf != NULL) {
        capture_buf[0] = '\0';
    }
}

/* vprint_line prints the message with newlines flattened, so every error is exactly one line;
 * once a daemon's log has started (logging.h), as a log line of |level| */
__attribute__((format(printf, 2, 0))) static void vprint_line(log_level level, const char *fmt,
                                                               va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (char *p = msg; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    if (logging_active()) {
        log_message(level, msg);
        return;
    }
    fprintf(stderr, "atls %s: %s\n", cli_cmd, msg);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (capture_buf != NULL) {
        /* the first error is the cause; later ones follow from it */
        if (capture_buf[0] == '\0') {
            vsnprintf(capture_buf, capture_size, fmt, ap);
        }
    } else {
        vprint_line(LOG_ERROR, fmt, ap);
    }
    va_end(ap);
}

void cli_log(const char *fmt, ...)
{
    if (!cli_verbose) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vprint_line(LOG_DEBUG, fmt, ap);
    va_end(ap);
}

int cli_fail_atls(int code, const char *what)
{
    const char *m = atls_error_message();
    cli_error("%s: %s", what, m[0] != '\0' ? m : "failed");
    return code;
}

int cli_bad_option(char **argv, int c)
{
    const char *opt = argv[optind - 1];
    if (c == ':') {
        cli_error("option '%s' needs a value (see --help)", opt);
    } else if (optopt != 0 && optopt < 256) {
        cli_error("unknown option '-%c' (see --help)", optopt);
    } else {
        cli_error("unknown option '%s' (see --help)", opt);
    }
    return CLI_EXIT_USAGE;
}

int cli_parse_seconds(const char *s, const char *opt, int *out_ms)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= 0.1 && v <= 86400.0)) {
        cli_error("%s '%s': expected seconds between 0.1 and 86400", opt, s);
        return CLI_EXIT_USAGE;
    }
    *out_ms = (int)(v * 1000.0);
    return 0;
}

int cli_parse_int(const char *s, const char *opt, long lo, long hi, const char *unit, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        cli_error("%s '%s': expected %ld..%ld%s%s", opt, s, lo, hi, *unit ? " " : "", unit);
        return CLI_EXIT_USAGE;
    }
    *out = (int)v;
    return 0;
}

void cli_catch_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaction(sigs[i], &sa, NULL);
    }
}

int cli_exit_for_status(atls_tier status)
{
    switch (status) {
    case ATLS_TIER_AFFIRMING:
        return CLI_EXIT_OK;
    case ATLS_TIER_WARNING:
        return CLI_EXIT_WARNING;
    default:
        return CLI_EXIT_FAIL;
    }
}

/* ---- files ---------------------------------------------------------------------------------- */

/* open_pem opens |path| for reading, naming the problem on failure. */
static FILE *open_pem(const char *path, const char *what)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        cli_error("cannot read %s %s: %s", what, path, strerror(errno));
    }
    return f;
}

int cli_load_cert_chain(const char *path, X509 **cert, STACK_OF(X509) **chain)
{
    FILE *f = open_pem(path, "certificate");
    if (f == NULL) {
        return CLI_EXIT_USAGE;
    }
    X509 *leaf = PEM_read_X509(f, NULL, NULL, NULL);
    if (leaf == NULL) {
        fclose(f);
        ERR_clear_error();
        cli_error("%s holds no PEM certificate", path);
        return CLI_EXIT_USAGE;
    }
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (*chain == NULL) {
            *chain = sk_X509_new_null();
        }
        if (*chain == NULL || !sk_X509_push(*chain, x)) {
            X509_free(x);
            X509_free(leaf);
            fclose(f);
            cli_error("out of memory");
            return CLI_EXIT_USAGE;
        }
    }
    ERR_clear_error();
    fclose(f);
    *cert = leaf;
    return 0;
}

int cli_load_certs(const char *path, STACK_OF(X509) **stack)
{
    FILE *f = open_pem(path, "certificates");
    if (f == NULL) {
        return CLI_EXIT_USAGE;
    }
    int n = 0;
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (*stack == NULL) {
            *stack = sk_X509_new_null();
        }
        if (*stack == NULL || !sk_X509_push(*stack, x)) {
            X509_free(x);
            fclose(f);
            cli_error("out of memory");
            return CLI_EXIT_USAGE;
        }
        n++;
    }
    ERR_clear_error();
    fclose(f);
    if (n == 0) {
        cli_error("%s holds no PEM certificate", path);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_load_private_key(const char *path, EVP_PKEY **out)
{
    FILE *f = open_pem(path, "key");
    if (f == NULL) {
        return CLI_EXIT_USAGE;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error();
    if (k == NULL) {
        cli_error("%s holds no unencrypted PEM private key", path);
        return CLI_EXIT_USAGE;
    }
    *out = k;
    return 0;
}

int cli_load_public_key(const char *path, EVP_PKEY **out)
{
    FILE *f = open_pem(path, "key");
    if (f == NULL) {
        return CLI_EXIT_USAGE;
    }
    EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    if (k == NULL) {
        rewind(f);
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    }
    if (k == NULL) {
        rewind(f);
        X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
        k = cert != NULL ? X509_get_pubkey(cert) : NULL;
        X509_free(cert);
    }
    fclose(f);
    ERR_clear_error();
    if (k == NULL) {
        cli_error("%s holds no PEM public key, unencrypted private key or certificate", path);
        return CLI_EXIT_USAGE;
    }
    *out = k;
    return 0;
}

int cli_load_policy(const char *path, atls_policy **out)
{
    if (atls_policy_load(path, out) != ATLS_OK) {
        return cli_fail_atls(CLI_EXIT_USAGE, "policy");
    }
    return 0;
}

int cli_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len)
{
    if (atls_file_read(path, max, out, out_len) != ATLS_OK) {
        const char *m = atls_error_message();
        cli_error("%s", m[0] != '\0' ? m : "cannot read file");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_parse_challenge(const char *hex, uint8_t out[ATLS_CHALLENGE_LEN])
{
    if (strlen(hex) != 2 * ATLS_CHALLENGE_LEN ||
        atls_hex_decode_fixed(hex, out, ATLS_CHALLENGE_LEN) != ATLS_OK) {
        cli_error("--challenge must be exactly %d bytes as %d hex digits", ATLS_CHALLENGE_LEN,
                  2 * ATLS_CHALLENGE_LEN);
        return CLI_EXIT_USAGE;
    }
    return 0;
}
