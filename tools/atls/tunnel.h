/* tunnel.h: `atls connect -L`: a local listener whose every connection is forwarded through
 * its own attested connection to the server (like ssh -L). */
#ifndef ATLS_TOOLS_TUNNEL_H
#define ATLS_TOOLS_TUNNEL_H

#include "client.h"

typedef struct tunnel_opts {
    cli_hostport local;   /* where to listen */
    int reattest_ms;      /* ask for fresh Evidence this often on every tunnel */
} tunnel_opts;

/* tunnel_run listens on t->local and serves tunnels until SIGINT/SIGTERM (returns 0) or until
 * an attestation fails or is late (closes everything, says why, returns CLI_EXIT_FAIL). No
 * byte of a local connection is forwarded before the server's first appraisal succeeded. */
int tunnel_run(client_ctx *cc, const tunnel_opts *t);

#endif /* ATLS_TOOLS_TUNNEL_H */
