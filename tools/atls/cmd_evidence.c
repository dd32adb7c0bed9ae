/* cmd_evidence.c: `atls evidence`: Evidence from a local attester over a given challenge,
 * written as a CMW record [media type, evidence, 4] (draft-ietf-rats-msg-wrap section 3.1), the
 * attester's CMW collection when it makes one (produce_cmw: event logs, a TPM quote beside a TEE
 * report, stapled collateral; atls/evidence.h), or, with --raw, as the bare Evidence.
 *
 * The Evidence is made outside any connection, so it carries the detached-domain challenge
 * SHA-512("atls/1 detached evidence" 0x00 || challenge) (atls/challenge.h), never the given
 * bytes themselves: a live connection's binding challenge passed here cannot produce Evidence
 * that satisfies that connection (no evidence oracle). `atls verify --challenge` applies the
 * same derivation. */
#include <atls/challenge.h>

#include "attester_guard.h"
#include "cli.h"
#include "cmds.h"

#include "codec/cmw/cmw.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: atls evidence --attester NAME [attester options] --challenge HEX [--raw]\n"
    "                     [--output FILE] > evidence.cmw\n"
    "Produce Evidence from a local attester, outside any connection: it carries\n"
    "SHA-512(\"atls/1 detached evidence\" 0x00 || challenge), which `atls verify --challenge`\n"
    "checks, and can never pass for Evidence of an attested connection.\n\n"
    CLI_ATTESTER_HELP
    "  --challenge HEX            the caller's challenge: exactly 64 bytes (128 hex digits)\n"
    "  --raw                      write the bare Evidence instead of a CMW record\n"
    "  -o, --output FILE          write to FILE instead of stdout\n"
    "  -v, --verbose              log progress on stderr\n"
    "  -h, --help                 this help\n";

static int write_all(FILE *fp, const uint8_t *data, size_t len)
{
    return fwrite(data, 1, len, fp) == len && fflush(fp) == 0 ? 0 : -1;
}

int cmd_evidence(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_ATTESTER_LONGOPTS,
        {"challenge", required_argument, NULL, 'c'},
        {"raw", no_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_attester_opts ao = {0};
    const char *challenge_hex = NULL, *output = NULL;
    int raw = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': challenge_hex = optarg; break;
        case 'r': raw = 1; break;
        case 'o': output = optarg; break;
        case 'v': cli_verbose = 1; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        default:
            if (c >= CLI_OPT_ATTESTER_BASE && c < CLI_OPT_ATTESTER_END) {
                cli_attester_option(&ao, c, optarg);
                break;
            }
            return cli_bad_option(argv, c);
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s' (see --help)", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (ao.name == NULL || challenge_hex == NULL) {
        cli_error("--attester and --challenge are required (see --help)");
        return CLI_EXIT_USAGE;
    }
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    int rc = cli_parse_challenge(challenge_hex, challenge);
    if (rc != 0) {
        return rc;
    }
    if (output == NULL && isatty(STDOUT_FILENO)) {
        cli_error("refusing to write binary Evidence to a terminal: redirect stdout or use -o");
        return CLI_EXIT_USAGE;
    }
    const atls_attester_ops *ops = NULL;
    void *state = NULL;
    /* a signal now waits until the attester is gone: its TPM objects are flushed */
    static atls_fair_lock lock;
    int guarded = atls_fair_lock_init(&lock) == ATLS_OK && attester_guard_begin(&lock) == 0;
    if (guarded) {
        atls_fair_lock_acquire(&lock);
    }
    rc = cli_attester_open(&ao, &ops, &state);
    if (guarded && rc == 0) {
        attester_guard_attach(ops, state);
    }
    uint8_t detached[ATLS_CHALLENGE_LEN];
    uint8_t *evidence = NULL, *cmw = NULL;
    size_t evidence_len = 0, cmw_len = 0;
    if (rc == 0 && atls_challenge_detached(challenge, sizeof(challenge), detached) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "challenge");
    }
    /* an attester with produce_cmw gives the whole CMW (one-off: every log from its start);
     * --raw is its Evidence alone */
    if (rc == 0 && (ops->produce_cmw != NULL && !raw
                        ? ops->produce_cmw(state, NULL, detached, ATLS_CMW_MAX_SIZE, &cmw,
                                           &cmw_len)
                        : ops->produce(state, detached, &evidence, &evidence_len)) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_FAIL, "attester");
    }
    if (guarded) {
        atls_fair_lock_release(&lock);
    }
    if (rc != 0) {
        goto done;
    }
    cli_log("%s attester produced %zu bytes", ops->name, cmw != NULL ? cmw_len : evidence_len);
    if (!raw && cmw == NULL &&
        atls_cmw_encode_record(ops->media_type, evidence, evidence_len, ATLS_CMW_IND_EVIDENCE,
                               &cmw, &cmw_len) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_FAIL, "CMW");
        goto done;
    }
    const uint8_t *data = raw ? evidence : cmw;
    size_t len = raw ? evidence_len : cmw_len;
    if (output != NULL) {
        FILE *fp = fopen(output, "wb");
        int ok = fp != NULL && write_all(fp, data, len) == 0;
        if (fp != NULL && fclose(fp) != 0) {
            ok = 0;
        }
        if (!ok) {
            cli_error("cannot write %s", output);
            rc = CLI_EXIT_USAGE;
        }
    } else if (write_all(stdout, data, len) != 0) {
        cli_error("cannot write to stdout");
        rc = CLI_EXIT_USAGE;
    }
done:
    free(evidence);
    free(cmw);
    if (guarded) {
        attester_guard_end(); /* destroys the attester */
    } else if (ops != NULL) {
        ops->destroy(state);
    }
    return rc;
}
