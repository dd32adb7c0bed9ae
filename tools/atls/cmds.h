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

#endif /* ATLS_TOOLS_CMDS_H */
