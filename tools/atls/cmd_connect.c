/* cmd_connect.c: `atls connect`: attest a server once and print the EAR, or (-L) open a local
 * tunnel whose every connection is attested (tunnel.c). */
#include "client.h"
#include "cmds.h"
#include "logging.h"
#include "tunnel.h"
#include "verify_inputs.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: atls connect HOST:PORT [--ca FILE] [--servername NAME] (--policy FILE | --no-policy)\n"
    "                    [--json] [--ear-key FILE] [-L LOCALADDR:PORT [--reattest SECONDS]\n"
    "                    [--log-format text|json]] [trust-input options]\n"
    "                    [--cert FILE --key FILE --attester NAME [attester options]]\n"
    "Connect with TLS 1.3 (PKI trust and hostname check), ask the server for Evidence bound to\n"
    "this connection, appraise it. Without -L: print the EAR and exit by its status. With -L:\n"
    "forward each local connection through its own attested connection (the server is attested\n"
    "once at start-up first). HOST:PORT may be written https://HOST[:PORT].\n\n"
    "  --ca FILE                  PEM CA certificates (default: the system store)\n"
    "  --servername NAME          name to verify and send as SNI (default: HOST)\n"
    "  --policy FILE              appraisal policy (see 'atls policy init')\n"
    "  --no-policy                appraise without a policy: at best a warning (exit 3)\n"
    "  --json                     print the EAR as JSON (default: a short summary)\n"
    "  --ear-key FILE             print the EAR as a JWT signed with this P-256 key (PEM)\n"
    "  -L, --local LOCALADDR:PORT listen here and tunnel each connection to the server\n"
    "  --reattest SECONDS         with -L: ask for fresh Evidence this often (default 60);\n"
    "                             a failed or late answer closes the tunnel (exit 1)\n"
    "  --log-format text|json     with -L: log lines as text (default) or JSON objects\n"
    "  --timeout SECONDS          connection and attestation timeout (default 30)\n"
    VERIFY_INPUT_HELP
    "  --cert FILE, --key FILE    our identity when the server asks us to attest\n"
    CLI_ATTESTER_HELP
    INTRA_HELP
    "  -v, --verbose              log progress on stderr\n"
    "  -h, --help                 this help\n"
    "Exit: 0 affirming, 1 contraindicated / invalid Evidence / TLS failure, 2 usage or I/O\n"
    "error (also: server unreachable), 3 warning (--no-policy).\n";

enum { OPT_CA = 1, OPT_SERVERNAME, OPT_POLICY, OPT_NO_POLICY, OPT_JSON, OPT_EAR_KEY,
       OPT_REATTEST, OPT_TIMEOUT, OPT_CERT, OPT_KEY, OPT_LOG_FORMAT };

static void log_appraisal(void *arg, const atls_appraisal *a)
{
    (void)arg;
    cli_log("appraisal: %s%s%s", atls_tier_name(a->status), a->reason[0] ? ": " : "", a->reason);
}

/* why_not_attested: the one line for a connection that ended without an appraisal to show */
static void why_not_attested(atls_session *s)
{
    int code = atls_session_peer_error_code(s);
    if (code == ATLS_ERR_IO) {
        cli_error("attestation failed: the server's backend is unreachable (%s)",
                  atls_error_message());
    } else if (code != 0 && atls_session_evidence_produced(s) > 0) {
        /* we attested to the server (mutual attestation) and it closed with an error */
        cli_error("attestation failed: the server refused this client's attestation (%s)",
                  atls_error_message());
    } else if (code != 0) {
        cli_error("attestation failed: the server closed the connection with an error (%s)",
                  atls_error_message());
    } else {
        cli_fail_atls(CLI_EXIT_FAIL, "attestation failed");
    }
}

/* attest_once: connect, attest, print, exit by status */
static int attest_once(client_ctx *cc, int json, EVP_PKEY *ear_key)
{
    client_conn conn;
    int rc = client_open(cc, &conn, NULL);
    if (rc != 0) {
        return rc;
    }
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    atls_error arc = atls_session_attest(conn.session, &a);
    if (arc != ATLS_OK && a.ear == NULL && a.num_results == 0) {
        /* no appraisal to show: the server refused, closed, timed out or sent an ERROR */
        why_not_attested(conn.session);
        rc = CLI_EXIT_FAIL;
    } else {
        rc = cli_print_appraisal(stdout, &a, json, 8, ear_key);
        if (rc == 0) {
            rc = arc == ATLS_OK ? cli_exit_for_status(a.status) : CLI_EXIT_FAIL;
            if (rc == CLI_EXIT_FAIL) {
                cli_error("%s: %s", atls_tier_name(a.status),
                          a.reason[0] ? a.reason : atls_error_message());
            }
        }
    }
    atls_appraisal_cleanup(&a);
    client_close(&conn);
    return rc;
}

int cmd_connect(int argc, char **argv)
{
    if (cli_wants_intra(argc, argv)) {
        return cmd_intra_connect(argc, argv); /* INSECURE baseline: only when asked by name */
    }
    static const struct option longopts[] = {
        {"ca", required_argument, NULL, OPT_CA},
        {"servername", required_argument, NULL, OPT_SERVERNAME},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"no-policy", no_argument, NULL, OPT_NO_POLICY},
        {"json", no_argument, NULL, OPT_JSON},
        {"ear-key", required_argument, NULL, OPT_EAR_KEY},
        {"local", required_argument, NULL, 'L'},
        {"reattest", required_argument, NULL, OPT_REATTEST},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        CLI_ATTESTER_LONGOPTS,
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
    const char *policy_path = NULL, *ear_key_path = NULL, *local = NULL;
    int no_policy = 0, json = 0, reattest_ms = 60000, have_reattest = 0, have_log_format = 0;
    int c, rc = 0;
    log_format log_fmt = LOG_FORMAT_TEXT;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":L:vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CA: o.ca = optarg; break;
        case OPT_SERVERNAME: o.servername = optarg; break;
        case OPT_POLICY: policy_path = optarg; break;
        case OPT_NO_POLICY: no_policy = 1; break;
        case OPT_JSON: json = 1; break;
        case OPT_EAR_KEY: ear_key_path = optarg; break;
        case 'L': local = optarg; break;
        case OPT_REATTEST:
            rc = cli_parse_seconds(optarg, "--reattest", &reattest_ms);
            have_reattest = 1;
            break;
        case OPT_TIMEOUT: rc = cli_parse_seconds(optarg, "--timeout", &o.timeout_ms); break;
        case OPT_CERT: o.cert = optarg; break;
        case OPT_KEY: o.key = optarg; break;
        case OPT_LOG_FORMAT:
            rc = logging_parse_format(optarg, &log_fmt);
            have_log_format = 1;
            break;
        case 'v': cli_verbose = 1; break;
        case 'h':
            fputs(help, stdout);
            verify_inputs_cleanup(&vi);
            return CLI_EXIT_OK;
        default:
            if (c >= CLI_OPT_ATTESTER_BASE && c < CLI_OPT_ATTESTER_END) {
                cli_attester_option(&o.attester, c, optarg);
                break;
            }
            if (c >= VERIFY_OPT_BASE && c < VERIFY_OPT_END) {
                rc = verify_inputs_option(&vi, c, optarg);
                break;
            }
            rc = cli_bad_option(argv, c);
            break;
        }
        if (rc != 0) {
            verify_inputs_cleanup(&vi);
            return rc;
        }
    }
    cli_hostport lhp;
    atls_policy *policy = NULL;
    EVP_PKEY *ear_key = NULL;
    client_ctx cc;
    memset(&cc, 0, sizeof(cc));
    rc = CLI_EXIT_USAGE;
    if (optind >= argc) {
        cli_error("HOST:PORT of the server is required (see --help)");
        goto done;
    }
    if (optind + 1 < argc) {
        cli_error("unexpected argument '%s' (see --help)", argv[optind + 1]);
        goto done;
    }
    if ((policy_path == NULL) == (no_policy == 0)) {
        cli_error(policy_path == NULL ? "--policy FILE is required (or --no-policy to appraise "
                                        "without one; see atls policy init)"
                                      : "--policy and --no-policy exclude each other");
        goto done;
    }
    if ((have_reattest || have_log_format) && local == NULL) {
        cli_error("%s needs -L", have_reattest ? "--reattest" : "--log-format");
        goto done;
    }
    rc = 0;
    if ((rc = cli_parse_server(argv[optind], &o.server)) != 0 ||
        (local != NULL && (rc = cli_parse_hostport(local, "-L", &lhp)) != 0) ||
        (policy_path != NULL && (rc = cli_load_policy(policy_path, &policy)) != 0) ||
        (ear_key_path != NULL && (rc = cli_load_private_key(ear_key_path, &ear_key)) != 0)) {
        goto done;
    }
    o.policy = policy;
    o.verify_input = &vi.in;
    o.accept_warning = no_policy;
    if (local != NULL) {
        /* a re-attestation answer is due within one interval (at least 1 s) */
        o.answer_timeout_ms = reattest_ms > 1000 ? reattest_ms : 1000;
    }
    o.on_appraisal = local != NULL ? tunnel_log_appraisal : log_appraisal;
    o.guard_signals = local == NULL; /* -L stops on signals by itself (tunnel.c) */
    if ((rc = client_setup(&o, &cc)) != 0) {
        goto done;
    }
    if (local == NULL) {
        rc = attest_once(&cc, json, ear_key);
    } else {
        tunnel_opts t = {.local = lhp, .reattest_ms = reattest_ms, .log_format = log_fmt};
        rc = tunnel_run(&cc, &t);
        if (rc == 0 && no_policy) {
            rc = CLI_EXIT_WARNING;
        }
    }
done:
    client_cleanup(&cc);
    atls_policy_free(policy);
    EVP_PKEY_free(ear_key);
    verify_inputs_cleanup(&vi);
    return rc;
}
