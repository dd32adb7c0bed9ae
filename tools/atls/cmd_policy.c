/* cmd_policy.c: `atls policy init HOST:PORT`: trust on first use. Connects, has the server
 * attest with no policy, and prints a strict policy accepting exactly the measurements and
 * attestation key seen now (each verifier's policy_from_result). */
#include "client.h"
#include "cmds.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: atls policy init HOST:PORT [--ca FILE] [--servername NAME] > policy.json\n"
    "Connect, attest, and print a strict policy that accepts exactly the attestation key\n"
    "and measurements seen now. Run it against a machine you know is good; the output is\n"
    "what 'atls connect --policy' reads.\n\n"
    "  --ca FILE                  PEM CA certificates (default: the system store)\n"
    "  --servername NAME          name to verify and send as SNI (default: HOST)\n"
    "  --timeout SECONDS          connection and attestation timeout (default 30)\n"
    "  -v, --verbose              log progress on stderr\n"
    "  -h, --help                 this help\n"
    "Exit: 0 policy written, 1 the server did not attest (or Evidence invalid), 2 usage or\n"
    "I/O error.\n";

enum { OPT_CA = 1, OPT_SERVERNAME, OPT_TIMEOUT };

static int policy_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"ca", required_argument, NULL, OPT_CA},
        {"servername", required_argument, NULL, OPT_SERVERNAME},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    client_opts o;
    memset(&o, 0, sizeof(o));
    o.timeout_ms = 30000;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CA: o.ca = optarg; break;
        case OPT_SERVERNAME: o.servername = optarg; break;
        case OPT_TIMEOUT: {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 3600) {
                cli_error("--timeout '%s': expected 1..3600 seconds", optarg);
                return CLI_EXIT_USAGE;
            }
            o.timeout_ms = (int)v * 1000;
            break;
        }
        case 'v': cli_verbose = 1; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(argv, c);
        }
    }
    if (optind >= argc) {
        cli_error("HOST:PORT of the server is required (see --help)");
        return CLI_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        cli_error("unexpected argument '%s' (see --help)", argv[optind + 1]);
        return CLI_EXIT_USAGE;
    }
    int rc = cli_parse_server(argv[optind], &o.server);
    if (rc != 0) {
        return rc;
    }
    o.accept_warning = 1; /* no policy yet: verified Evidence is a warning, which we accept */
    client_ctx cc;
    client_conn conn;
    memset(&conn, 0, sizeof(conn));
    conn.fd = -1;
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    char *text = NULL;
    if ((rc = client_setup(&o, &cc)) != 0 || (rc = client_open(&cc, &conn, NULL)) != 0) {
        goto done;
    }
    if (atls_session_attest(conn.session, &a) != ATLS_OK) {
        cli_error("the server did not attest: %s",
                  a.reason[0] != '\0' ? a.reason : atls_error_message());
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if ((rc = cli_policy_from_appraisal(&a, &text)) != 0) {
        goto done;
    }
    for (size_t i = 0; i < a.num_results; i++) {
        if (a.results[i].is_sim) {
            cli_log("note: the server uses the sim attester: SIMULATED, not real attestation");
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
    client_close(&conn);
    client_cleanup(&cc);
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
    cli_error("expected 'policy init HOST:PORT' (see atls policy --help)");
    return CLI_EXIT_USAGE;
}
