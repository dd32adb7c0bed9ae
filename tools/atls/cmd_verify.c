/* cmd_verify.c: `atls verify`: appraise Evidence from a file offline and print the EAR.
 *
 * Freshness: without a challenge the Evidence may be as old as anything, so the result is at
 * best a warning (exit 3) unless the user says --no-challenge; the output says freshness was
 * not checked. --challenge is what was given to `atls evidence` (the detached domain of
 * atls/challenge.h); --raw-challenge is the exact 64 bytes another tool placed. */
#include <atls/challenge.h>

#include "cli.h"
#include "cmds.h"
#include "evidence_file.h"
#include "verify_inputs.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: atls verify --evidence FILE [--format auto|cmw|tpm2|sim|snp|tdx]\n"
    "                   (--challenge HEX | --raw-challenge HEX | --no-challenge)\n"
    "                   [--policy FILE] [--trust-anchor FILE]... [--intermediates FILE]...\n"
    "                   [--vcek FILE] [--tcb-info FILE] [--qe-identity FILE]\n"
    "                   [--tcb-signing-chain FILE] [--crl FILE]... [--at RFC3339-TIME]\n"
    "                   [--json] [--ear-key FILE]\n"
    "Appraise Evidence offline and print the EAR (all claims of the Evidence in it).\n\n"
    "  --evidence FILE            the Evidence (a CMW from 'atls evidence', or bare)\n"
    "  --format F                 auto (default), cmw, or a verifier name\n"
    "  --challenge HEX            the 64-byte challenge given to `atls evidence` (checked as\n"
    "                             its detached-domain value, atls/challenge.h)\n"
    "  --raw-challenge HEX        the exact 64 bytes the Evidence must carry (REPORT_DATA,\n"
    "                             qualifyingData, nonce: Evidence made by other tools)\n"
    "  --no-challenge             accept that freshness is not checked (else: a warning)\n"
    "  --policy FILE              appraisal policy; without it a verified result is a warning\n"
    VERIFY_INPUT_HELP
    "  --at TIME                  verification time for certificates and collateral\n"
    "  --json                     print the EAR as JSON (default: a human summary)\n"
    "  --ear-key FILE             print the EAR as a JWT signed with this P-256 key (PEM)\n"
    "  -v, --verbose              log progress on stderr\n"
    "  -h, --help                 this help\n"
    "Exit: 0 affirming, 1 contraindicated or invalid, 2 usage or I/O error, 3 warning (also:\n"
    "affirming but no challenge checked, unless --no-challenge).\n";

enum {
    OPT_EVIDENCE = 1,
    OPT_FORMAT,
    OPT_CHALLENGE,
    OPT_POLICY,
    OPT_AT,
    OPT_JSON,
    OPT_EAR_KEY,
    OPT_RAW_CHALLENGE,
    OPT_NO_CHALLENGE
};

int cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"evidence", required_argument, NULL, OPT_EVIDENCE},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"challenge", required_argument, NULL, OPT_CHALLENGE},
        {"raw-challenge", required_argument, NULL, OPT_RAW_CHALLENGE},
        {"no-challenge", no_argument, NULL, OPT_NO_CHALLENGE},
        {"policy", required_argument, NULL, OPT_POLICY},
        VERIFY_INPUT_LONGOPTS,
        {"at", required_argument, NULL, OPT_AT},
        {"json", no_argument, NULL, OPT_JSON},
        {"ear-key", required_argument, NULL, OPT_EAR_KEY},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    verify_inputs vi;
    verify_inputs_init(&vi);
    const char *evidence_path = NULL, *format = "auto", *policy_path = NULL, *ear_key_path = NULL;
    const char *challenge_hex = NULL, *raw_challenge_hex = NULL;
    int json = 0, c, rc = 0, no_challenge = 0;
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    uint8_t *evidence = NULL;
    size_t evidence_len = 0;
    atls_policy *policy = NULL;
    EVP_PKEY *ear_key = NULL;
    atls_appraisal a;
    memset(&a, 0, sizeof(a));

    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_EVIDENCE: evidence_path = optarg; break;
        case OPT_FORMAT: format = optarg; break;
        case OPT_CHALLENGE: challenge_hex = optarg; break;
        case OPT_RAW_CHALLENGE: raw_challenge_hex = optarg; break;
        case OPT_NO_CHALLENGE: no_challenge = 1; break;
        case OPT_POLICY: policy_path = optarg; break;
        case OPT_AT: rc = verify_parse_time(optarg, &vi.in.at); break;
        case OPT_JSON: json = 1; break;
        case OPT_EAR_KEY: ear_key_path = optarg; break;
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
    if (optind < argc) {
        cli_error("unexpected argument '%s' (see --help)", argv[optind]);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if (evidence_path == NULL) {
        cli_error("--evidence FILE is required (see --help)");
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if ((challenge_hex != NULL) + (raw_challenge_hex != NULL) + no_challenge > 1) {
        cli_error("--challenge, --raw-challenge and --no-challenge exclude each other");
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if (challenge_hex != NULL || raw_challenge_hex != NULL) {
        if ((rc = cli_parse_challenge(challenge_hex ? challenge_hex : raw_challenge_hex,
                                      challenge)) != 0) {
            goto done;
        }
        /* what `atls evidence --challenge` placed: the detached-domain value */
        if (challenge_hex != NULL &&
            atls_challenge_detached(challenge, sizeof(challenge), challenge) != ATLS_OK) {
            rc = cli_fail_atls(CLI_EXIT_USAGE, "challenge");
            goto done;
        }
        vi.in.challenge = challenge;
    }
    const atls_verifier_ops *ops = NULL;
    if ((policy_path != NULL && (rc = cli_load_policy(policy_path, &policy)) != 0) ||
        (ear_key_path != NULL && (rc = cli_load_private_key(ear_key_path, &ear_key)) != 0) ||
        (rc = evidence_file_load(evidence_path, format, &evidence, &evidence_len, &ops)) != 0) {
        goto done;
    }
    cli_log("appraising %zu bytes as %s", evidence_len, ops != NULL ? ops->name : "CMW");
    atls_error arc = ops != NULL
                         ? atls_appraise_evidence(ops, evidence, evidence_len, &vi.in, policy, &a)
                         : atls_appraise_cmw(evidence, evidence_len, &vi.in, policy, &a);
    const char *category = atls_error_category(arc);
    if (arc != ATLS_OK && (strcmp(category, "usage") == 0 || strcmp(category, "io") == 0)) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "verify");
        goto done;
    }
    if (a.status == ATLS_TIER_NONE && arc != ATLS_OK) {
        a.status = ATLS_TIER_CONTRAINDICATED;
    }
    if ((rc = cli_print_appraisal(stdout, &a, json, 0, ear_key)) != 0) {
        goto done;
    }
    rc = cli_exit_for_status(a.status);
    if (vi.in.challenge == NULL) {
        /* claim only what was checked: an unchecked challenge is never "affirming" */
        if (!json && ear_key == NULL) {
            printf("freshness: not checked (%s)\n",
                   no_challenge ? "--no-challenge" : "no --challenge given");
        }
        if (!no_challenge) {
            cli_error("warning: no --challenge given: freshness was not checked (--no-challenge "
                      "accepts that)");
            if (rc == CLI_EXIT_OK) {
                rc = CLI_EXIT_WARNING;
            }
        }
    }
    if (rc == CLI_EXIT_FAIL) {
        cli_error("%s: %s", atls_tier_name(a.status),
                  a.reason[0] != '\0' ? a.reason : atls_error_message());
    } else if (rc == CLI_EXIT_WARNING && policy == NULL) {
        cli_log("warning: no --policy given, the Evidence was verified but not appraised");
    }
done:
    atls_appraisal_cleanup(&a);
    atls_policy_free(policy);
    EVP_PKEY_free(ear_key);
    free(evidence);
    verify_inputs_cleanup(&vi);
    return rc;
}
