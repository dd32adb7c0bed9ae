/* cmds.h: the subcommands of `atls` (one file each). Each takes argv with argv[0] the
 * subcommand name and returns the process exit code (cli.h). */
#ifndef ATLS_TOOLS_CMDS_H
#define ATLS_TOOLS_CMDS_H

int cmd_serve(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
int cmd_ear(int argc, char **argv);
int cmd_collateral(int argc, char **argv);

/* INSECURE, for comparison only (cmd_intra.c): `serve --intra` / `connect --intra`, the
 * intra-handshake baseline. Reached only when argv names --intra (cli_wants_intra). */
int cli_wants_intra(int argc, char **argv);
int cmd_intra_serve(int argc, char **argv);
int cmd_intra_connect(int argc, char **argv);
#define INTRA_HELP                                                                            \
    "  --intra ra-only|x509       INSECURE, for comparison only: the intra-handshake\n"       \
    "                             baseline (draft-fossati-tls-attestation-08) instead of\n"   \
    "                             atls (its options: --intra MODE --binder N --help)\n"       \
    "  --binder N                 with --intra: 1..7, hs (the proposal's substitute), none\n" \
    "  --intra-ext REQ,EVD        with --intra: code points (default 0xFF10,0xFF11)\n"

#endif /* ATLS_TOOLS_CMDS_H */
