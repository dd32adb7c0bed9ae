/* cmd_policy.c: `atls policy init`: a strict policy accepting exactly the measurements and
 * attestation key of one appraisal (each verifier's policy_from_result). From a live server
 * (HOST:PORT: trust on first use; it attests with no policy) or from an Evidence file
 * (--evidence: offline, reviewed enrolment; the file is verified with the trust inputs given,
 * its freshness does not matter here). */
#include "client.h"
#include "cmds.h"
#include "evidence_file.h"
#include "verify_inputs.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: atls policy init HOST:PORT [--ca FILE] [--servername NAME] [trust-input options]\n"
    "                        > policy.json\n"
    "       atls policy init --evidence FILE [--format F] [trust-input options] > policy.json\n"
    "Print a strict policy that accepts exactly the attestation key and measurements of one\n"
    "appraisal: of what a server shows now (connect and attest; run it against a machine you\n"
    "know is good), or of an Evidence file (offline enrolment of a reviewed file). The output\n"
    "is what 'atls connect --policy' reads.\n\n"
    "  --ca FILE                  PEM CA certificates (default: the system store)\n"
    "  --servername NAME          name to verify and send as SNI (default: HOST)\n"
    "  --timeout SECONDS          connection and attestation timeout (default 30)\n"
    "  --evidence FILE            build the policy from this Evidence (a CMW from 'atls\n"
    "                             evidence', or bare) instead of a live server\n"
    "  --format F                 with --evidence: auto (default), cmw, or a verifier name\n"
    VERIFY_INPUT_HELP
    "  -v, --verbose              log progress on stderr\n"
    "  -h, --help                 this help\n"
    "Exit: 0 policy written, 1 the server did not attest (or Evidence invalid), 2 usage or\n"
    "I/O error.\n";

enum { OPT_CA = 1, OPT_SERVERNAME, OPT_TIMEOUT, OPT_EVIDENCE, OPT_FORMAT };

/* from_file appraises the Evidence of |path| without a policy (nor a challenge: enrolment
 * looks at what the file shows, not at when it was made) into |a|. */
static int from_file(const char *path, const char *format, const atls_verify_input *in,
                     atls_appraisal *a)
{
    uint8_t *ev = NULL;
    size_t len = 0;
    const atls_verifier_ops *ops = NULL;
    int rc = evidence_file_load(path, format, &ev, &len, &ops);
    if (rc != 0) {
        return rc;
    }
    atls_error arc = ops != NULL ? atls_appraise_evidence(ops, ev, len, in, NULL, a)
                                 : atls_appraise_cmw(ev, len, in, NULL, a);
    free(ev);
    if (arc != ATLS_OK) {
        cli_error("%s does not verify: %s", path,
                  a->reason[0] != '\0' ? a->reason : atls_error_message());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* from_server connects to |o|'s server and has it attest with no policy into |a|. */
static int from_server(const client_opts *o, atls_appraisal *a)
{
    client_ctx cc;
    client_conn conn;
    memset(&conn, 0, sizeof(conn));
    conn.fd = -1;
    int rc = client_setup(o, &cc);
    if (rc == 0) {
        rc = client_open(&cc, &conn, NULL);
    }
    if (rc == 0 && atls_session_attest(conn.session, a) != ATLS_OK) {
        cli_error("the server did not attest: %s",
                  a->reason[0] != '\0' ? a->reason : atls_error_message());
        rc = CLI_EXIT_FAIL;
    }
    client_close(&conn);
    client_cleanup(&cc);
    return rc;
}

static int policy_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"ca", required_argument, NULL, OPT_CA},
        {"servername", required_argument, NULL, OPT_SERVERNAME},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"evidence", required_argument, NULL, OPT_EVIDENCE},
        {"format", required_argument, NULL, OPT_FORMAT},
        VERIFY_INPUT_LONGOPTS,
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    client_opts o;
    memset(&o, 0, sizeof(o));
    o.timeout_ms = 30000;
    verify_inputs vi;
    verify_inputs_init(&vi);
    const char *evidence = NULL, *format = NULL;
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    char *text = NULL;
    int c, rc = 0;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CA: o.ca = optarg; break;
        case OPT_SERVERNAME: o.servername = optarg; break;
        case OPT_TIMEOUT: {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 3600) {
                cli_error("--timeout '%s': expected 1..3600 seconds", optarg);
                rc = CLI_EXIT_USAGE;
                break;
            }
            o.timeout_ms = (int)v * 1000;
            break;
        }
        case OPT_EVIDENCE: evidence = optarg; break;
        case OPT_FORMAT: format = optarg; break;
        case 'v': cli_verbose = 1; break;
        case 'h': fputs(help, stdout); goto done;
        default:
            rc = c >= VERIFY_OPT_BASE && c < VERIFY_OPT_END ? verify_inputs_option(&vi, c, optarg)
                                                            : cli_bad_option(argv, c);
            break;
        }
    }
    if (rc != 0) {
        goto done;
    }
    rc = CLI_EXIT_USAGE;
    if (evidence != NULL) {
        if (optind < argc) {
            cli_error("--evidence and HOST:PORT exclude each other (see --help)");
            goto done;
        }
        if (o.ca != NULL || o.servername != NULL) {
            cli_error("--ca and --servername are for a live server, not --evidence");
            goto done;
        }
        rc = from_file(evidence, format != NULL ? format : "auto", &vi.in, &a);
    } else {
        if (optind >= argc) {
            cli_error("HOST:PORT of the server (or --evidence FILE) is required (see --help)");
            goto done;
        }
        if (optind + 1 < argc) {
            cli_error("unexpected argument '%s' (see --help)", argv[optind + 1]);
            goto done;
        }
        if (format != NULL) {
            cli_error("--format needs --evidence");
            goto done;
        }
        if ((rc = cli_parse_server(argv[optind], &o.server)) != 0) {
            goto done;
        }
        /* no policy yet: verified Evidence is a warning, which we accept */
        o.accept_warning = 1;
        o.verify_input = &vi.in;
        rc = from_server(&o, &a);
    }
    if (rc != 0 || (rc = cli_policy_from_appraisal(&a, evidence != NULL, &text)) != 0) {
        goto done;
    }
    for (size_t i = 0; i < a.num_results; i++) {
        if (a.results[i].is_sim) {
            cli_log("note: the Evidence comes from the sim attester: SIMULATED, not real "
                    "attestation");
        }
    }
    fprintf(stdout, "%s\n", text);
    if (fflush(stdout) != 0) {
        cli_error("cannot write the policy to stdout");
        rc = CLI_EXIT_USAGE;
    }
done:
    free(text);
    atls_appraisal_cleanup(&a);
    verify_inputs_cleanup(&vi);
    return rc;
}

int cmd_policy(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "init") == 0) {
        cli_cmd = "policy init";
        return policy_init(argc - 1, argv + 1);
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(help, stdout);
        return CLI_EXIT_OK;
    }
    cli_error("expected 'policy init HOST:PORT' or 'policy init --evidence FILE' (see atls "
              "policy --help)");
    return CLI_EXIT_USAGE;
}
