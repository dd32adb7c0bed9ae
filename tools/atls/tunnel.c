/* tunnel.c: the -L loop of `atls connect` (tunnel.h).
 *
 * Start-up: one attested connection to the server first (tunnel_check), before the listener
 * opens: a server that cannot be reached or does not attest fails `connect -L` at once, not
 * at its first local connection.
 *
 * Then one thread, one poll(2) loop over the listener and every tunnel's two sockets. A new
 * local connection is attested before it joins the loop (blocking, bounded by --timeout): the
 * draft-fossati-seat-expat rule that no application data flows before the first appraisal
 * succeeded. Re-attestation is non-blocking: a REQUEST goes out every interval and its
 * AUTHENTICATOR is appraised by the session as it arrives between DATA frames.
 *
 * What a failure closes (like ssh -L): an attestation failure (Evidence that does not appraise,
 * a refusal, a re-attestation that stalls, the server rejecting our own Evidence) closes the
 * listener and every tunnel, and connect exits 1; anything else (the server's backend
 * unreachable, the server unable to attest for a moment, a lost connection) closes only that
 * tunnel, says which it was, and the listener carries on. */
#include "logging.h"
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
    char peer[80];            /* the local client */
    client_conn conn;
    proxy_pump pump;
    int64_t next_request;
} tunnel;

static volatile sig_atomic_t tunnel_stopping = 0;
/* the policy appraisals are made with (for the log lines; set by tunnel_run) */
static const atls_policy *tunnel_policy;

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
    proxy_pump_cleanup(&t->pump);
    client_close(&t->conn);
    if (t->local >= 0) {
        close(t->local);
    }
    free(t);
}

/* A failure of one attested connection, as the operator needs it. */
typedef struct verdict {
    int fatal;          /* an attestation failure: the listener closes */
    const char *what;   /* "attestation failed", "backend unreachable", ... */
    char why[600];
} verdict;

/* judge classifies |err| on session |s| (|established|: the tunnel had been attested and
 * forwarding, so a timeout is a stalled re-attestation). */
static void judge(atls_session *s, atls_error err, int established, verdict *v)
{
    const atls_appraisal *a = atls_session_last_appraisal(s);
    const char *m = atls_error_message();
    snprintf(v->why, sizeof(v->why), "%s", m[0] != '\0' ? m : atls_strerror(err));
    if (err == ATLS_ERR_PROTOCOL_PEER_ERROR) {
        int code = atls_session_peer_error_code(s);
        if (code == ATLS_ERR_IO) {
            /* atls serve's word for a backend it cannot reach (docs/cli.md) */
            v->fatal = 0;
            v->what = "backend unreachable";
        } else if (code == ATLS_ERR_EVIDENCE_ATTESTER) {
            v->fatal = 0;
            v->what = "the server cannot produce Evidence right now";
        } else if (code / 100 == 7) {
            v->fatal = 0;
            v->what = "the server closed the connection";
        } else {
            /* the server rejects what we did: our Evidence, or the protocol */
            v->fatal = 1;
            v->what = "the server refused this client";
        }
    } else if (err == ATLS_ERR_IO_TIMEOUT) {
        v->fatal = established;
        v->what = established ? "re-attestation stalled" : "the server did not attest in time";
    } else if (err / 100 == 7) {
        v->fatal = 0;
        v->what = "connection to the server lost";
    } else {
        v->fatal = 1;
        v->what = "attestation failed";
        if (a != NULL && a->status != ATLS_TIER_AFFIRMING && a->reason[0] != '\0') {
            snprintf(v->why, sizeof(v->why), "%s: %s", atls_tier_name(a->status), a->reason);
        }
    }
}

static void report(const tunnel *t, const verdict *v)
{
    log_event(v->fatal ? LOG_ERROR : LOG_WARN, "tunnel_closed",
              "tunnel=%lu what=%s reason=%s listener=%s", t->id, v->what, v->why,
              v->fatal ? "closing" : "open");
}

/* open_tunnel connects and attests for local connection |fd|. Returns 0 (added to *out), or
 * CLI_EXIT_FAIL when the attestation failed (the listener must close), or -1 when only this
 * connection is lost (the server unreachable, its backend down: the listener carries on). */
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
    cli_peer_name(fd, t->peer, sizeof(t->peer));
    int rc = client_open(cc, &t->conn, t);
    if (rc != 0) {
        /* the line before says why (unreachable, TLS timeout, certificate); nothing was
         * forwarded, so only an attestation failure closes the listener */
        log_event(LOG_WARN, "tunnel_closed", "tunnel=%lu what=%s listener=%s", id,
                  rc == CLI_EXIT_FAIL ? "TLS with the server failed" : "server unreachable",
                  "open");
        tunnel_free(t);
        return -1;
    }
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    atls_error arc = atls_session_attest(t->conn.session, &a);
    atls_appraisal_cleanup(&a);
    if (arc != ATLS_OK) {
        verdict v;
        judge(t->conn.session, arc, 0, &v);
        report(t, &v);
        tunnel_free(t);
        return v.fatal ? CLI_EXIT_FAIL : -1;
    }
    log_event(LOG_INFO, "tunnel", "tunnel=%lu peer=%s server=%s:%s status=affirming", id,
              t->peer, cc->o.server.host, cc->o.server.port);
    proxy_pump_init(&t->pump, t->conn.session, fd);
    t->next_request = now_ms() + o->reattest_ms;
    *out = t;
    return 0;
}

/* reattest sends the periodic request. 0 ok, else CLI_EXIT_FAIL (message printed).
 *
 * The answer deadline is the session's own (client_opts.answer_timeout_ms: one interval, at
 * least 1 s, since a TPM quote takes a moment; the first attestation has --timeout): a late
 * answer fails the session, which the pump reports. Time during which a slow local client
 * keeps the tunnel full does not count, since the answer then waits behind data it has not
 * read, up to ten intervals (at least 30 s) in all (atls/session.h answer_timeout_ms). */
static int reattest(tunnel *t, const tunnel_opts *o)
{
    atls_session *s = t->conn.session;
    int64_t now = now_ms();
    if (atls_session_outstanding_age_ms(s) < 0 && now >= t->next_request) {
        if (atls_session_request(s, NULL, 0) != ATLS_OK) {
            verdict v;
            judge(s, ATLS_ERR_PROTOCOL, 1, &v);
            v.what = "cannot request Evidence";
            report(t, &v);
            return CLI_EXIT_FAIL;
        }
        t->next_request = now + o->reattest_ms;
    }
    return 0;
}

/* step runs one tunnel after poll: STEP_KEEP, STEP_CLOSED (this tunnel only) or STEP_FATAL
 * (the listener closes). */
static int step(tunnel *t, const tunnel_opts *o, const struct pollfd *pf)
{
    proxy_status st = proxy_pump_run(&t->pump, pf[0].revents, pf[1].revents, 1);
    switch (st) {
    case PROXY_OK:
        return reattest(t, o) != 0 ? STEP_FATAL : STEP_KEEP;
    case PROXY_PEER_CLOSED:
        proxy_pump_drain(&t->pump, 2000);
        log_event(LOG_DEBUG, "tunnel_closed", "tunnel=%lu what=%s", t->id,
                  "the server closed the connection");
        return STEP_CLOSED;
    case PROXY_FD_CLOSED:
        log_event(LOG_DEBUG, "tunnel_closed", "tunnel=%lu what=%s", t->id,
                  "the local client closed the connection");
        return STEP_CLOSED;
    case PROXY_FD_ERROR:
        log_event(LOG_DEBUG, "tunnel_closed", "tunnel=%lu what=%s reason=%s", t->id,
                  "local connection failed", strerror(t->pump.fd_errno));
        return STEP_CLOSED;
    case PROXY_SESSION_ERROR:
    default: {
        verdict v;
        judge(t->conn.session, t->pump.err, 1, &v);
        report(t, &v);
        return v.fatal ? STEP_FATAL : STEP_CLOSED;
    }
    }
}

void tunnel_log_appraisal(void *arg, const atls_appraisal *a)
{
    const tunnel *t = arg; /* NULL: the start-up check */
    const atls_policy *p = tunnel_policy;
    char id[24] = "start-up";
    if (t != NULL) {
        snprintf(id, sizeof(id), "%lu", t->id);
    }
    log_event(a->status == ATLS_TIER_AFFIRMING ? LOG_INFO : LOG_WARN, "appraisal",
              "tunnel=%s status=%s policy=%s reason=%s", id,
              atls_tier_name(a->status), p != NULL ? atls_policy_id(p) : NULL,
              a->reason[0] != '\0' ? a->reason : NULL);
}

/* tunnel_check: the start-up attestation (fails fast, before anything listens) */
static int tunnel_check(client_ctx *cc)
{
    client_conn conn;
    int rc = client_open(cc, &conn, NULL);
    if (rc != 0) {
        return rc; /* unreachable (2) or TLS failure (1), one line printed */
    }
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    atls_error arc = atls_session_attest(conn.session, &a);
    if (arc != ATLS_OK) {
        verdict v;
        judge(conn.session, arc, 0, &v);
        cli_error("start-up check of %s:%s: %s: %s", cc->o.server.host, cc->o.server.port,
                  v.what, v.why);
        rc = v.fatal ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    } else {
        rc = 0;
    }
    atls_appraisal_cleanup(&a);
    client_close(&conn);
    return rc;
}

int tunnel_run(client_ctx *cc, const tunnel_opts *o)
{
    cli_catch_signals(on_signal);
    tunnel_policy = cc->o.policy;
    int rc = tunnel_check(cc);
    if (rc != 0 || tunnel_stopping) {
        return rc;
    }
    int lfd = -1;
    if ((rc = cli_listen(&o->local, &lfd)) != 0) {
        return rc;
    }
    /* from here on every line is a timestamped log line (logging.h) */
    logging_start(o->log_format);
    char bound[96];
    cli_local_name(lfd, bound, sizeof(bound));
    log_event(LOG_INFO, "listening", "addr=%s server=%s:%s reattest_s=%.1f startup_check=affirming",
              bound, cc->o.server.host, cc->o.server.port, (double)o->reattest_ms / 1000.0);
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
        log_event(LOG_ERROR, "listener_closed", "reason=%s", "an attestation failed (see above)");
    }
    return rc;
}
