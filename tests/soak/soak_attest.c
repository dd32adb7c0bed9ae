/*
 * soak_attest: many attested connections to `atls serve`, each re-attesting on a schedule, for
 * the soak test (tests/soak/soak.sh) and benchmark 7 (scripts/bench, built there as
 * bench_reattest). One thread, non-blocking sessions, epoll; 127.0.0.1 only.
 *
 *   soak_attest PORT K PERIOD_MS SECONDS CA POLICY [ECHO_MS]
 *
 * Opens K attested connections one after another (TLS 1.3, ALPN atls/1; the server certificate
 * checked against CA for host name localhost, its Evidence appraised against POLICY; "-" for
 * either: no check / no policy, a warning accepted). Then, for SECONDS, connection i re-attests
 * at i * PERIOD_MS / K + n * PERIOD_MS (evenly spread: K / PERIOD re-attestations a second in
 * all). A re-attestation's latency runs from when it was due to its appraisal, so a client
 * that falls behind counts against the figure. With ECHO_MS, every connection also sends a
 * 64-byte numbered message that often and checks its echo byte for byte.
 * Before the schedule starts: a baseline of 20 re-attestations on connection 0, 300 ms apart
 * (within the server's default Evidence rate of 4 a second), while the others are idle.
 *
 * Prints one line:
 *   opened=O reattests=R failures=F late=L p50_ms= p99_ms= max_ms= base_p50_ms= base_p99_ms=
 *   echoes=E echo_failures=X
 * (failures: a failed or non-affirming appraisal, a session error or a closed connection;
 * late: an answer still outstanding at the end). Exit 1 when anything failed.
 */
#include "loopback.h"

#include <atls/policy.h>
#include <atls/session.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BASELINE_N 20
#define BASELINE_GAP_MS 300 /* within the server's default Evidence rate (4 a second) */
#define ECHO_LEN 64

typedef struct sconn {
    int fd;
    SSL *ssl;
    atls_session *s;
    int dead;
    int64_t due_ns;        /* the re-attestation now outstanding was due then (0: none) */
    uint64_t appraisals;   /* atls_session_appraisals when it was sent */
    int64_t next_echo_ns;
    uint64_t echo_seq;
    char echo_want[ECHO_LEN];
    size_t echo_got;       /* bytes of the outstanding echo received */
    int echo_out;          /* an echo is outstanding */
} sconn;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof(v[0]), cmp_double);
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1) {
        rank = 1;
    }
    return v[rank > n ? n - 1 : rank - 1];
}

static long failures, echo_failures, echoes;

static void fail(sconn *c, const char *what)
{
    if (!c->dead) {
        fprintf(stderr, "soak_attest: connection failed (%s): %s\n", what, atls_error_message());
        c->dead = 1;
        failures++;
    }
}

/* affirmed: the last appraisal was affirming (or, without a policy, a warning) */
static int affirmed(const sconn *c, int with_policy)
{
    const atls_appraisal *a = atls_session_last_appraisal(c->s);
    return a != NULL && (a->status == ATLS_TIER_AFFIRMING ||
                         (!with_policy && a->status == ATLS_TIER_WARNING));
}

/* service: what arrived on |c|; a finished re-attestation's latency goes to |lat| */
static void service(sconn *c, int with_policy, double *lat, size_t *nlat, size_t cap)
{
    if (c->dead) {
        return;
    }
    for (;;) {
        char buf[256];
        size_t n = 0;
        atls_error rc = atls_session_read(c->s, (uint8_t *)buf, sizeof(buf), &n);
        if (rc != ATLS_OK) {
            fail(c, "session");
            return;
        }
        if (n == 0) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (!c->echo_out || c->echo_got >= ECHO_LEN || buf[i] != c->echo_want[c->echo_got]) {
                echo_failures++;
                fail(c, "echo mismatch");
                return;
            }
            if (++c->echo_got == ECHO_LEN) {
                c->echo_out = 0;
                echoes++;
            }
        }
    }
    if (c->due_ns != 0 && atls_session_appraisals(c->s) > c->appraisals) {
        if (!affirmed(c, with_policy)) {
            fail(c, "appraisal not affirming");
            return;
        }
        if (*nlat < cap) {
            lat[(*nlat)++] = (double)(now_ns() - c->due_ns) / 1e6;
        }
        c->due_ns = 0;
    } else if (c->due_ns != 0 && atls_session_last_appraisal(c->s) != NULL &&
               !affirmed(c, with_policy)) {
        fail(c, "appraisal failed");
    }
}

static void reattest(sconn *c, int64_t due)
{
    if (c->dead || c->due_ns != 0) {
        return; /* the previous one is still out: counted late at the end */
    }
    c->appraisals = atls_session_appraisals(c->s);
    c->due_ns = due;
    if (atls_session_request(c->s, NULL, 0) != ATLS_OK) {
        fail(c, "request");
    }
}

static void echo(sconn *c)
{
    if (c->dead || c->echo_out) {
        return;
    }
    snprintf(c->echo_want, sizeof(c->echo_want), "%020llu %041d",
             (unsigned long long)++c->echo_seq, 0);
    c->echo_got = 0;
    c->echo_out = 1;
    if (atls_session_write(c->s, (const uint8_t *)c->echo_want, ECHO_LEN) != ATLS_OK) {
        fail(c, "write");
    }
}

int main(int argc, char **argv)
{
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: soak_attest PORT K PERIOD_MS SECONDS CA POLICY [ECHO_MS]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int port = atoi(argv[1]);
    long k = atol(argv[2]), period_ms = atol(argv[3]);
    double seconds = atof(argv[4]);
    const char *ca = argv[5], *policy_path = argv[6];
    long echo_ms = argc == 8 ? atol(argv[7]) : 0;
    if (k < 1 || k > 100000 || period_ms < 1 || seconds <= 0 || echo_ms < 0) {
        fprintf(stderr, "soak_attest: K 1..100000, PERIOD_MS >= 1, SECONDS > 0\n");
        return 2;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || atls_ssl_ctx_configure(ctx, 0, 1) != ATLS_OK) {
        fprintf(stderr, "soak_attest: SSL_CTX setup failed\n");
        return 1;
    }
    atls_session_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.peer_must_attest = 1;
    cfg.timeout_ms = 30000;
    int with_policy = strcmp(policy_path, "-") != 0;
    atls_policy *policy = NULL;
    if (with_policy) {
        if (atls_policy_load(policy_path, &policy) != ATLS_OK) {
            fprintf(stderr, "soak_attest: %s\n", atls_error_message());
            return 1;
        }
        cfg.policy = policy;
    } else {
        cfg.accept_warning = 1;
    }
    if (strcmp(ca, "-") != 0) {
        if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
            fprintf(stderr, "soak_attest: cannot load %s\n", ca);
            return 1;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        cfg.hostname = "localhost";
    } else {
        cfg.insecure_skip_certificate_validation = 1;
    }
    sconn *cs = calloc((size_t)k, sizeof(sconn));
    int ep = epoll_create1(0);
    if (cs == NULL || ep < 0) {
        return 1;
    }
    long n = 0;
    for (; n < k; n++) {
        sconn *c = &cs[n];
        c->fd = loopback_connect(port);
        if (c->fd < 0) {
            perror("soak_attest: connect");
            break;
        }
        c->ssl = SSL_new(ctx);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
            SSL_set1_host(c->ssl, "localhost") != 1 || SSL_connect(c->ssl) != 1) {
            fprintf(stderr, "soak_attest: TLS handshake %ld failed or timed out\n", n);
            SSL_free(c->ssl);
            close(c->fd);
            break;
        }
        SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
        if (atls_session_new(c->ssl, &cfg, &c->s) != ATLS_OK ||
            atls_session_attest(c->s, NULL) != ATLS_OK || !affirmed(c, with_policy)) {
            fprintf(stderr, "soak_attest: attestation %ld failed: %s\n", n, atls_error_message());
            atls_session_free(c->s);
            SSL_free(c->ssl);
            close(c->fd);
            break;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)n};
        (void)epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        if ((n + 1) % 1000 == 0) {
            fprintf(stderr, "soak_attest: %ld attested connections\n", n + 1);
        }
    }
    if (n == 0) {
        printf("opened=0 reattests=0 failures=1\n");
        return 1;
    }
    size_t cap = (size_t)((seconds * 1000.0 / (double)period_ms + 2) * (double)n) + BASELINE_N;
    double *lat = calloc(cap, sizeof(double)), base[BASELINE_N];
    size_t nlat = 0, nbase = 0;
    struct epoll_event evs[256];
    /* the baseline: connection 0 alone while the others idle */
    for (int i = 0; i < BASELINE_N && !cs[0].dead; i++) {
        struct timespec gap = {0, BASELINE_GAP_MS * 1000000L};
        nanosleep(&gap, NULL);
        reattest(&cs[0], now_ns());
        while (cs[0].due_ns != 0 && !cs[0].dead) {
            (void)epoll_wait(ep, evs, 256, 100);
            service(&cs[0], with_policy, base, &nbase, BASELINE_N);
        }
    }
    int64_t start = now_ns(), end = start + (int64_t)(seconds * 1e9);
    int64_t period_ns = period_ms * 1000000L, echo_ns = echo_ms * 1000000L;
    for (long i = 0; i < n; i++) {
        cs[i].next_echo_ns = start + (echo_ns > 0 ? (echo_ns * i) / n : 0);
    }
    long next = 0;          /* the next connection to re-attest ... */
    int64_t round = start;  /* ... in the round that started then */
    long reattests = 0;
    while (now_ns() < end) {
        int64_t t = now_ns();
        /* everything due by now */
        for (;;) {
            int64_t due = round + (period_ns * next) / n;
            if (due > t || due >= end) {
                break;
            }
            reattest(&cs[next], due);
            reattests++;
            if (++next == n) {
                next = 0;
                round += period_ns;
            }
        }
        if (echo_ns > 0) {
            for (long i = 0; i < n; i++) {
                if (cs[i].next_echo_ns <= t) {
                    echo(&cs[i]);
                    cs[i].next_echo_ns += echo_ns;
                }
            }
        }
        int64_t due = round + (period_ns * next) / n;
        int wait_ms = (int)((due - now_ns()) / 1000000);
        wait_ms = wait_ms < 0 ? 0 : wait_ms > 10 ? 10 : wait_ms;
        int got = epoll_wait(ep, evs, 256, wait_ms);
        for (int i = 0; i < got; i++) {
            sconn *c = &cs[evs[i].data.u64];
            service(c, with_policy, lat, &nlat, cap);
            if (c->dead) {
                (void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            }
        }
        /* flush what a full socket held back (rare) */
        for (long i = 0; echo_ns > 0 && i < n; i++) {
            if (!cs[i].dead && atls_session_queued(cs[i].s) > 0 &&
                atls_session_flush(cs[i].s) != ATLS_OK) {
                fail(&cs[i], "flush");
            }
        }
    }
    /* answers still out get a last chance of 2 s */
    int64_t grace = now_ns() + 2000000000L;
    long late = 0;
    for (;;) {
        late = 0;
        for (long i = 0; i < n; i++) {
            late += !cs[i].dead && cs[i].due_ns != 0;
        }
        if (late == 0 || now_ns() > grace) {
            break;
        }
        int got = epoll_wait(ep, evs, 256, 10);
        for (int i = 0; i < got; i++) {
            service(&cs[evs[i].data.u64], with_policy, lat, &nlat, cap);
        }
    }
    long open = 0;
    for (long i = 0; i < n; i++) {
        open += !cs[i].dead;
    }
    double p50 = pct(lat, nlat, 50), p99 = pct(lat, nlat, 99), mx = pct(lat, nlat, 100);
    double b50 = pct(base, nbase, 50), b99 = pct(base, nbase, 99);
    printf("opened=%ld reattests=%ld answered=%zu failures=%ld late=%ld open_at_end=%ld "
           "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f base_p50_ms=%.2f base_p99_ms=%.2f echoes=%ld "
           "echo_failures=%ld\n",
           n, reattests, nlat, failures, late, open, p50, p99, mx, b50, b99, echoes,
           echo_failures);
    fflush(stdout);
    for (long i = 0; i < n; i++) {
        (void)SSL_shutdown(cs[i].ssl); /* close_notify, without waiting for the answer */
        atls_session_free(cs[i].s);
        SSL_free(cs[i].ssl);
        close(cs[i].fd);
    }
    free(cs);
    free(lat);
    atls_policy_free(policy);
    SSL_CTX_free(ctx);
    close(ep);
    return failures == 0 && late == 0 && echo_failures == 0 && n == k ? 0 : 1;
}
