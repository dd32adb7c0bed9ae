/* main.c: the `atls` command (docs/cli.md): dispatch to subcommands, global --help and
 * --version. */
#include "cli.h"
#include "cmds.h"

#include <atls/version.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"serve", cmd_serve, "TLS 1.3 proxy in front of a TCP backend that attests on request"},
    {"connect", cmd_connect, "connect, attest the server, print the EAR or open a tunnel (-L)"},
    {"policy", cmd_policy, "policy init HOST:PORT: write a strict policy from what is seen now"},
    {"verify", cmd_verify, "appraise Evidence from a file, print the EAR"},
    {"evidence", cmd_evidence, "produce Evidence from a local attester"},
    {"ear", cmd_ear, "ear verify TOKEN / ear jwk: check an EAR JWT, export its key as a JWK"},
    {"collateral", cmd_collateral, "collateral fetch: download and cache AMD/Intel collateral"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: atls [--help] [--version] <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(fp, "\n'atls <command> --help' describes each command. Exit codes: 0 affirming, "
                "1 contraindicated / invalid evidence / failed connection, 2 usage or I/O "
                "error, 3 warning (verified, not fully appraised).\n");
}

int main(int argc, char **argv)
{
    /* a peer closing mid-write must be an error return, not a signal */
    signal(SIGPIPE, SIG_IGN);
    /* tpm2-tss logs to stderr by itself; errors reach the user as one atls line instead */
    if (getenv("TSS2_LOG") == NULL) {
        setenv("TSS2_LOG", "all+NONE", 1);
    }
    if (argc < 2) {
        fprintf(stderr, "atls: a command is required (see atls --help)\n");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("atls %s\n", ATLS_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            cli_cmd = commands[i].name;
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "atls: unknown command '%s' (see atls --help)\n", argv[1]);
    return CLI_EXIT_USAGE;
}
