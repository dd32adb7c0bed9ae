/* tunnel.h: `atls connect -L`: a local listener whose every connection is forwarded through
 * its own attested connection to the server (like ssh -L). */
#ifndef ATLS_TOOLS_TUNNEL_H
#define ATLS_TOOLS_TUNNEL_H

#include "client.h"
#include "logging.h"

typedef struct tunnel_opts {
    cli_hostport local;   /* where to listen */
    int reattest_ms;      /* ask for fresh Evidence this often on every tunnel */
    log_format log_format;
} tunnel_opts;

/* tunnel_run first attests the server once (start-up check: unreachable exit 2, TLS or
 * attestation failure exit 1, before anything listens), then listens on t->local and serves
 * tunnels until SIGINT/SIGTERM/SIGHUP (returns 0) or until an attestation fails or stalls
 * (closes everything, says why, returns CLI_EXIT_FAIL). Any other failure of one tunnel
 * (backend unreachable, connection lost) closes only that tunnel. No byte of a local
 * connection is forwarded before the server's first appraisal succeeded. */
int tunnel_run(client_ctx *cc, const tunnel_opts *t);

/* tunnel_log_appraisal: the client_opts.on_appraisal of tunnel mode: one log line per
 * appraisal of the server (tunnel id, status, policy id, reason). */
void tunnel_log_appraisal(void *arg, const atls_appraisal *a);

#endif /* ATLS_TOOLS_TUNNEL_H */
