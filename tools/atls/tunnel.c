/* tunnel.c: the -L loop of `atls connect` (tunnel.h).
 *
 * One thread, one poll(2) loop over the listener and every tunnel's two sockets. A new local
 * connection is attested before it joins the loop (blocking, bounded by --timeout): the
 * draft-fossati-seat-expat rule that no application data flows before the first appraisal
 * succeeded. Re-attestation is non-blocking: a REQUEST goes out every interval and its
 * AUTHENTICATOR is appraised by the session as it arrives between DATA frames. */
#include "proxy.h"
#include "tunnel.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TUNNELS 256
#define POLL_MS 250

enum { STEP_KEEP, STEP_CLOSED, STEP_FATAL };

typedef struct tunnel {
    unsigned long id;
    int local;
    client_conn conn;
    proxy_pump pump;
    int64_t next_request;
} tunnel;

static volatile sig_atomic_t tunnel_stopping = 0;

static void on_signal(int sig)
{
    (void)sig;
    tunnel_stopping = 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tunnel_free(tunnel *t)
{
    client_close(&t->conn);
    if (t->local >= 0) {
        close(t->local);
    }
    free(t);
}

/* failure_reason: why the session failed: the last appraisal's reason when it did not affirm,
 * else the error detail */
static const char *failure_reason(const tunnel *t)
{
    const atls_appraisal *a = atls_session_last_appraisal(t->conn.session);
    if (a != NULL && a->status != ATLS_TIER_AFFIRMING && a->reason[0] != '\0') {
        return a->reason;
    }
    const char *m = atls_error_message();
    return m[0] != '\0' ? m : "the attested connection failed";
}

/* open_tunnel connects and attests for local connection |fd|. Returns 0 (added to *out), or
 * CLI_EXIT_FAIL when the attestation failed, or -1 when the server could not be reached
 * (the local connection is dropped; the listener carries on). */
static int open_tunnel(client_ctx *cc, const tunnel_opts *o, int fd, unsigned long id,
                       tunnel **out)
{
    tunnel *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        close(fd);
        return -1;
    }
    t->id = id;
    t->local = fd;
    if (client_open(cc, &t->conn) != 0) {
        tunnel_free(t);
        return -1;
    }
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    if (atls_session_attest(t->conn.session, &a) != ATLS_OK) {
        cli_error("tunnel %lu: attestation failed: %s; closing the tunnel", id,
                  a.reason[0] != '\0' ? a.reason : atls_error_message());
        atls_appraisal_cleanup(&a);
        tunnel_free(t);
        return CLI_EXIT_FAIL;
    }
    cli_log("tunnel %lu: server attested (%s), forwarding", id, atls_tier_name(a.status));
    atls_appraisal_cleanup(&a);
    proxy_pump_init(&t->pump, t->conn.session, fd);
    t->next_request = now_ms() + o->reattest_ms;
    *out = t;
    return 0;
}

/* reattest sends the periodic request. 0 ok, else CLI_EXIT_FAIL (message printed).
 *
 * The answer deadline is the session's own (client_opts.answer_timeout_ms: one interval, at
 * least 1 s, since a TPM quote takes a moment; the first attestation has --timeout): a late
 * answer fails the session, which the pump reports. Time during which a slow local client keeps the tunnel full does not count,
 * since the answer then waits behind data it has not read, up to ten intervals (at least 30 s)
 * in all (atls/session.h answer_timeout_ms). */
static int reattest(tunnel *t, const tunnel_opts *o)
{
    atls_session *s = t->conn.session;
    int64_t now = now_ms();
    if (atls_session_outstanding_age_ms(s) < 0 && now >= t->next_request) {
        if (atls_session_request(s, NULL, 0) != ATLS_OK) {
            cli_error("tunnel %lu: cannot request Evidence: %s; closing the tunnel", t->id,
                      atls_error_message());
            return CLI_EXIT_FAIL;
        }
        t->next_request = now + o->reattest_ms;
    }
    return 0;
}

/* step runs one tunnel after poll: STEP_KEEP, STEP_CLOSED (normally) or STEP_FATAL. */
static int step(tunnel *t, const tunnel_opts *o, const struct pollfd *pf)
{
    proxy_status st = proxy_pump_run(&t->pump, pf[0].revents, pf[1].revents, 1);
    switch (st) {
    case PROXY_OK:
        return reattest(t, o) != 0 ? STEP_FATAL : STEP_KEEP;
    case PROXY_PEER_CLOSED:
        proxy_pump_drain(&t->pump, 2000);
        cli_log("tunnel %lu: the server closed the connection", t->id);
        return STEP_CLOSED;
    case PROXY_FD_CLOSED:
        cli_log("tunnel %lu: the local client closed the connection", t->id);
        return STEP_CLOSED;
    case PROXY_FD_ERROR:
        cli_log("tunnel %lu: local connection: %s", t->id, strerror(t->pump.fd_errno));
        return STEP_CLOSED;
    case PROXY_SESSION_ERROR:
    default:
        cli_error("tunnel %lu: %s: %s; closing the tunnel", t->id,
                  atls_session_peer_attested(t->conn.session) ? "connection failed"
                                                              : "attestation failed",
                  failure_reason(t));
        return STEP_FATAL;
    }
}

int tunnel_run(client_ctx *cc, const tunnel_opts *o)
{
    int lfd = -1;
    int rc = cli_listen(&o->local, &lfd);
    if (rc != 0) {
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    cli_log("listening on %s:%s, forwarding to %s:%s, re-attesting every %.1f s", o->local.host,
            o->local.port, cc->o.server.host, cc->o.server.port,
            (double)o->reattest_ms / 1000.0);
    static tunnel *tunnels[MAX_TUNNELS];
    static struct pollfd pf[1 + 2 * MAX_TUNNELS];
    size_t n = 0;
    unsigned long next_id = 0;
    while (!tunnel_stopping && rc == 0) {
        pf[0].fd = lfd;
        pf[0].events = n < MAX_TUNNELS ? POLLIN : 0;
        pf[0].revents = 0;
        int timeout = POLL_MS;
        int64_t now = now_ms();
        for (size_t i = 0; i < n; i++) {
            if (proxy_pump_events(&tunnels[i]->pump, 1, &pf[1 + 2 * i], &pf[2 + 2 * i])) {
                timeout = 0;
            }
            int64_t until = tunnels[i]->next_request - now;
            if (until < timeout) {
                timeout = until < 0 ? 0 : (int)until;
            }
            /* the session's own deadlines (a late answer) */
            int st = atls_session_timeout_ms(tunnels[i]->conn.session);
            if (st >= 0 && st < timeout) {
                timeout = st;
            }
        }
        if (poll(pf, 1 + 2 * n, timeout) < 0 && errno != EINTR) {
            cli_error("poll: %s", strerror(errno));
            rc = CLI_EXIT_USAGE;
            break;
        }
        if (tunnel_stopping) {
            break;
        }
        for (size_t i = n; i-- > 0;) {
            int r = step(tunnels[i], o, &pf[1 + 2 * i]);
            if (r == STEP_FATAL) {
                rc = CLI_EXIT_FAIL;
                break;
            }
            if (r == STEP_CLOSED) {
                tunnel_free(tunnels[i]);
                tunnels[i] = tunnels[--n];
                pf[1 + 2 * i] = pf[1 + 2 * n];
                pf[2 + 2 * i] = pf[2 + 2 * n];
            }
        }
        if (rc == 0 && (pf[0].revents & POLLIN)) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= 0) {
                tunnel *t = NULL;
                int r = open_tunnel(cc, o, fd, ++next_id, &t);
                if (r == 0) {
                    tunnels[n++] = t;
                } else if (r == CLI_EXIT_FAIL) {
                    rc = CLI_EXIT_FAIL;
                }
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        tunnel_free(tunnels[i]);
    }
    close(lfd);
    if (rc == CLI_EXIT_FAIL) {
        cli_log("listener closed");
    }
    return rc;
}
