/* cmd_collateral.c: `atls collateral fetch`: download and cache the collateral a platform's
 * Evidence needs (AMD KDS, Intel PCS; collateral_fetch.h) into the directory that
 * `--collateral-dir` staples, so relying parties verify with nothing but the vendor roots. */
#include <atls/challenge.h>

#include "cli.h"
#include "cmds.h"
#include "collateral_fetch.h"
#include "evidence_file.h"
#include "verify_inputs.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char help[] =
    "usage: atls collateral fetch --collateral-dir DIR (--evidence FILE [--format F] |\n"
    "                             --attester NAME [attester options]) [--kds-url URL]\n"
    "                             [--pcs-url URL] [--intel-root-crl-url URL]\n"
    "                             [--refresh-before SECONDS] [--snp-product NAME]\n"
    "                             [--at TIME] [--force] [--timeout SECONDS]\n"
    "Download what the platform's Evidence needs (SNP: VCEK, ASK/ARK, CRL from AMD KDS; TDX:\n"
    "TCB Info, QE Identity, TCB signing chain, PCK and root CA CRLs from Intel PCS) into DIR,\n"
    "keeping what is valid for longer than --refresh-before. 'atls serve --collateral-dir DIR'\n"
    "staples it.\n\n"
    "  --collateral-dir DIR       where to keep the collateral (made when missing)\n"
    "  --evidence FILE            the platform's Evidence (from 'atls evidence', or bare)\n"
    "  --format F                 with --evidence: auto (default), cmw, or a verifier name\n"
    CLI_ATTESTER_HELP
    COLLATERAL_FETCH_HELP
    "  --at TIME                  judge validity at this RFC 3339 time (default: now)\n"
    "  --force                    fetch everything, also what is still valid\n"
    "  --timeout SECONDS          per download (default 30)\n"
    "  -v, --verbose              log progress on stderr\n"
    "  -h, --help                 this help\n"
    "Prints one line per item (fetched / kept, and until when it is valid). Exit: 0 up to\n"
    "date, 1 a server sent stale or malformed collateral (not stored), 2 usage, network or\n"
    "I/O error.\n";

enum { OPT_EVIDENCE = 1, OPT_FORMAT, OPT_AT, OPT_FORCE, OPT_TIMEOUT };

/* params_from_attester: Evidence from the local attester over a random detached challenge */
static int params_from_attester(const cli_attester_opts *ao, const char *snp_product,
                                fetch_params *p)
{
    const atls_attester_ops *ops = NULL;
    void *state = NULL;
    int rc = cli_attester_open(ao, &ops, &state);
    if (rc != 0) {
        return rc;
    }
    uint8_t nonce[32], *ev = NULL;
    size_t len = 0;
    if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
        atls_attester_produce_detached(ops, state, nonce, sizeof(nonce), &ev, &len) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "attester");
    } else {
        rc = fetch_params_from(ops->media_type, ev, len, snp_product, p);
    }
    free(ev);
    ops->destroy(state);
    return rc;
}

static int fetch(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"evidence", required_argument, NULL, OPT_EVIDENCE},
        {"format", required_argument, NULL, OPT_FORMAT},
        CLI_ATTESTER_LONGOPTS,
        COLLATERAL_FETCH_LONGOPTS,
        {"at", required_argument, NULL, OPT_AT},
        {"force", no_argument, NULL, OPT_FORCE},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_attester_opts ao = {0};
    fetch_cli f;
    fetch_cli_init(&f);
    const char *evidence = NULL, *format = "auto";
    int c, rc = 0;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_EVIDENCE: evidence = optarg; break;
        case OPT_FORMAT: format = optarg; break;
        case OPT_AT: rc = verify_parse_time(optarg, &f.o.at); break;
        case OPT_FORCE: f.o.force = 1; break;
        case OPT_TIMEOUT: {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 600) {
                cli_error("--timeout '%s': expected 1..600 seconds", optarg);
                rc = CLI_EXIT_USAGE;
            }
            f.o.timeout_ms = (int)v * 1000;
            break;
        }
        case 'v': cli_verbose = 1; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        default:
            if (c >= CLI_OPT_ATTESTER_BASE && c < CLI_OPT_ATTESTER_END) {
                cli_attester_option(&ao, c, optarg);
            } else if (c >= COLLATERAL_OPT_BASE && c < COLLATERAL_OPT_END) {
                rc = fetch_cli_option(&f, c, optarg);
            } else {
                rc = cli_bad_option(argv, c);
            }
            break;
        }
    }
    if (rc != 0) {
        return rc;
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s' (see --help)", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    f.o.dir = ao.collateral_dir;
    ao.collateral_dir = NULL; /* the directory to fill here, not to staple */
    if (f.o.dir == NULL || (evidence == NULL) == (ao.name == NULL)) {
        cli_error("--collateral-dir DIR and one of --evidence FILE or --attester NAME are "
                  "required (see --help)");
        return CLI_EXIT_USAGE;
    }
    if (mkdir(f.o.dir, 0755) != 0 && errno != EEXIST) {
        cli_error("--collateral-dir %s: cannot create it: %s", f.o.dir, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    fetch_params p;
    if (evidence != NULL) {
        uint8_t *ev = NULL;
        size_t len = 0;
        const atls_verifier_ops *ops = NULL;
        if ((rc = evidence_file_load(evidence, format, &ev, &len, &ops)) != 0) {
            return rc;
        }
        rc = fetch_params_from(ops != NULL ? ops->media_type : NULL, ev, len, f.snp_product, &p);
        free(ev);
    } else {
        rc = params_from_attester(&ao, f.snp_product, &p);
    }
    if (rc != 0) {
        return rc;
    }
    int fetched = 0, kept = 0;
    rc = collateral_fetch(&f.o, &p, &fetched, &kept);
    cli_log("%d item(s) fetched, %d kept in %s", fetched, kept, f.o.dir);
    if (fflush(stdout) != 0) {
        cli_error("cannot write to stdout");
        rc = CLI_EXIT_USAGE;
    }
    return rc;
}

int cmd_collateral(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "fetch") == 0) {
        cli_cmd = "collateral fetch";
        return fetch(argc - 1, argv + 1);
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    cli_error("expected 'collateral fetch' (see atls collateral --help)");
    return CLI_EXIT_USAGE;
}
