/* cmd_ear.c: `atls ear`: EAR attestation results (draft-ietf-rats-ear-04) as JWTs.
 *   ear verify TOKEN --key FILE   check an ES256 EAR JWT (atls's or any verifier's) and print
 *                                 its claims; exit by its status
 *   ear jwk --key FILE            the EAR signing key's public part as a JWK, kid = RFC 7638
 *                                 thumbprint, for relying parties that verify atls's EARs */
#include "cli.h"
#include "cmds.h"
#include "verify_inputs.h"

#include "codec/ear/ear.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: atls ear verify TOKEN|- --key FILE [--at RFC3339-TIME]\n"
    "       atls ear jwk --key FILE\n"
    "EAR attestation results as JWTs (ES256, draft-ietf-rats-ear-04; -03 also read).\n"
    "verify: check the token (TOKEN, or - to read it from stdin): signature by the key, kid,\n"
    "exp, profile and claims; print the claims as JSON. jwk: print the key's public JWK.\n\n"
    "  --key FILE                 PEM P-256 public key, private key or certificate\n"
    "  --at TIME                  verify: the time to check exp against (default: now)\n"
    "  -v, --verbose              log progress on stderr\n"
    "  -h, --help                 this help\n"
    "Exit (verify): 0 affirming, 1 contraindicated or an invalid / expired token, 2 usage or\n"
    "I/O error, 3 warning. Exit (jwk): 0, or 2 for an unusable key.\n";

enum { OPT_KEY = 1, OPT_AT };

/* read_token: TOKEN itself, or the first line of stdin for "-" (at most ATLS_EAR_JWT_MAX). */
static int read_token(const char *arg, char **out)
{
    if (strcmp(arg, "-") != 0) {
        *out = strdup(arg);
        return *out != NULL ? 0 : CLI_EXIT_USAGE;
    }
    char *buf = malloc(ATLS_EAR_JWT_MAX + 2);
    if (buf == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    size_t n = fread(buf, 1, ATLS_EAR_JWT_MAX + 1, stdin);
    if (n > ATLS_EAR_JWT_MAX) {
        free(buf);
        cli_error("the token on stdin is longer than %u bytes", ATLS_EAR_JWT_MAX);
        return CLI_EXIT_USAGE;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    buf[n] = '\0';
    if (n == 0 || strlen(buf) != n) {
        free(buf);
        cli_error("no token on stdin");
        return CLI_EXIT_USAGE;
    }
    *out = buf;
    return 0;
}

/* exit_for_claims: the exit code of the EAR's status (the top level, else the worst submod). */
static int exit_for_claims(const json_t *claims)
{
    atls_ear_tier worst = ATLS_EAR_TIER_NONE, t;
    const json_t *top = json_object_get(claims, "ear_status");
    if (top != NULL && atls_ear_tier_from_name(json_string_value(top), &t) == ATLS_OK) {
        worst = t;
    } else {
        const char *name;
        json_t *sub;
        json_object_foreach((json_t *)json_object_get(claims, "submods"), name, sub)
        {
            if (atls_ear_tier_from_name(json_string_value(json_object_get(sub, "ear_status")),
                                        &t) == ATLS_OK &&
                t > worst) {
                worst = t;
            }
        }
    }
    return cli_exit_for_status((atls_tier)worst);
}

static int print_json(const json_t *j)
{
    char *text = NULL;
    if (atls_ear_to_json_string(j, true, &text) != ATLS_OK) {
        return cli_fail_atls(CLI_EXIT_USAGE, "JSON");
    }
    printf("%s\n", text);
    free(text);
    return fflush(stdout) == 0 ? 0 : CLI_EXIT_USAGE;
}

static int ear_run(int argc, char **argv, int is_verify)
{
    static const struct option verify_opts[] = {
        {"key", required_argument, NULL, OPT_KEY}, {"at", required_argument, NULL, OPT_AT},
        {"verbose", no_argument, NULL, 'v'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const struct option jwk_opts[] = {
        {"key", required_argument, NULL, OPT_KEY},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *key_path = NULL;
    time_t at = 0;
    int c, rc = 0;
    opterr = 0;
    while (rc == 0 &&
           (c = getopt_long(argc, argv, ":vh", is_verify ? verify_opts : jwk_opts, NULL)) != -1) {
        switch (c) {
        case OPT_KEY: key_path = optarg; break;
        case OPT_AT: rc = verify_parse_time(optarg, &at); break;
        case 'v': cli_verbose = 1; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        default: rc = cli_bad_option(argv, c); break;
        }
    }
    if (rc != 0) {
        return rc;
    }
    int want_args = is_verify ? 1 : 0;
    if (argc - optind != want_args) {
        if (is_verify) {
            cli_error("expected one TOKEN (or - for stdin) (see --help)");
        } else {
            cli_error("unexpected argument '%s' (see --help)", argv[optind]);
        }
        return CLI_EXIT_USAGE;
    }
    if (key_path == NULL) {
        cli_error("--key FILE is required (see --help)");
        return CLI_EXIT_USAGE;
    }
    EVP_PKEY *key = NULL;
    if ((rc = cli_load_public_key(key_path, &key)) != 0) {
        return rc;
    }
    json_t *out = NULL;
    char *token = NULL;
    if (!is_verify) {
        rc = atls_ear_jwk(key, &out) == ATLS_OK ? print_json(out)
                                                 : cli_fail_atls(CLI_EXIT_USAGE, "--key");
    } else if ((rc = read_token(argv[optind], &token)) == 0) {
        if (atls_ear_verify_jwt(token, key, at, &out) != ATLS_OK) {
            /* any refusal (signature, kid, exp, format) means: do not rely on this EAR */
            rc = cli_fail_atls(CLI_EXIT_FAIL, "token refused");
        } else if ((rc = print_json(out)) == 0) {
            rc = exit_for_claims(out);
            cli_log("signature, kid, exp and claims checked (exit %d)", rc);
        }
    }
    json_decref(out);
    free(token);
    EVP_PKEY_free(key);
    return rc;
}

int cmd_ear(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "verify") == 0 || strcmp(argv[1], "jwk") == 0)) {
        int is_verify = strcmp(argv[1], "verify") == 0;
        cli_cmd = is_verify ? "ear verify" : "ear jwk";
        return ear_run(argc - 1, argv + 1, is_verify);
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    cli_error("expected 'ear verify TOKEN --key FILE' or 'ear jwk --key FILE' (see atls ear --help)");
    return CLI_EXIT_USAGE;
}
