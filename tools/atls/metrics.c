/* metrics.c: the counters, histograms and /metrics endpoint of `atls serve` (metrics.h).
 * Format: Prometheus text exposition format 0.0.4 (HELP, TYPE, cumulative le buckets, _sum,
 * _count). */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* latency buckets in seconds: a TLS handshake on loopback takes ~1 ms, a TPM quote tens */
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

typedef struct histogram {
    const char *name, *help;
    atomic_ullong buckets[NBOUNDS + 1]; /* the last one: +Inf */
    atomic_ullong sum_ns;
} histogram;

static const char *const mode_names[METRICS_MODES] = {"attested", "plain", "refused",
                                                      "handshake_failed"};
static atomic_ullong connections[METRICS_MODES];
static atomic_llong open_now;
/* appraisal status by tier: affirming, warning, contraindicated, none */
static const char *const status_names[] = {"affirming", "warning", "contraindicated", "none"};
static atomic_ullong appraisals[4];
static atomic_ullong evidence_ok, evidence_failed, backend_failures, reloads_ok, reloads_failed;
static atomic_ulong generation = 1;

static histogram handshake_h = {.name = "atls_handshake_seconds",
                                .help = "TLS handshake duration."};
static histogram evidence_h = {.name = "atls_evidence_seconds",
                               .help = "Evidence production for a client."};
static histogram attestation_h = {.name = "atls_attestation_seconds",
                                  .help = "From a request to the appraisal of a client's answer."};

static void observe(histogram *h, double seconds)
{
    if (!(seconds >= 0.0)) {
        return;
    }
    size_t i = 0;
    while (i < NBOUNDS && seconds > bounds[i]) {
        i++;
    }
    atomic_fetch_add(&h->buckets[i], 1);
    atomic_fetch_add(&h->sum_ns, (unsigned long long)(seconds * 1e9));
}

void metrics_connection(metrics_mode mode)
{
    if (mode < METRICS_MODES) {
        atomic_fetch_add(&connections[mode], 1);
    }
}

void metrics_open_add(int delta)
{
    atomic_fetch_add(&open_now, delta);
}

void metrics_appraisal(atls_tier status, double seconds)
{
    size_t i = status == ATLS_TIER_AFFIRMING ? 0 : status == ATLS_TIER_WARNING ? 1
               : status == ATLS_TIER_CONTRAINDICATED ? 2 : 3;
    atomic_fetch_add(&appraisals[i], 1);
    observe(&attestation_h, seconds);
}

void metrics_evidence(int ok, double seconds)
{
    atomic_fetch_add(ok ? &evidence_ok : &evidence_failed, 1);
    observe(&evidence_h, seconds);
}

void metrics_backend_failure(void)
{
    atomic_fetch_add(&backend_failures, 1);
}

void metrics_reload(int ok, unsigned long gen)
{
    atomic_fetch_add(ok ? &reloads_ok : &reloads_failed, 1);
    if (ok) {
        atomic_store(&generation, gen);
    }
}

void metrics_handshake(double seconds)
{
    observe(&handshake_h, seconds);
}

/* ---- rendering -------------------------------------------------------------------------- */

typedef struct out {
    char *buf;
    size_t cap, len;
    int overflow;
} out;

__attribute__((format(printf, 2, 3))) static void emit(out *o, const char *fmt, ...)
{
    if (o->overflow) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->overflow = 1;
        return;
    }
    o->len += (size_t)n;
}

static void render_histogram(out *o, histogram *h)
{
    emit(o, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help, h->name);
    unsigned long long cum = 0;
    for (size_t i = 0; i < NBOUNDS; i++) {
        cum += atomic_load(&h->buckets[i]);
        emit(o, "%s_bucket{le=\"%g\"} %llu\n", h->name, bounds[i], cum);
    }
    cum += atomic_load(&h->buckets[NBOUNDS]);
    emit(o, "%s_bucket{le=\"+Inf\"} %llu\n", h->name, cum);
    emit(o, "%s_sum %.9f\n%s_count %llu\n", h->name,
         (double)atomic_load(&h->sum_ns) / 1e9, h->name, cum);
}

static void render_counter(out *o, const char *name, const char *help, unsigned long long v)
{
    emit(o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

size_t metrics_render(char *buf, size_t cap)
{
    out o = {.buf = buf, .cap = cap};
    if (cap == 0) {
        return 0;
    }
    emit(&o, "# HELP atls_connections_total Accepted connections by outcome.\n"
             "# TYPE atls_connections_total counter\n");
    for (size_t i = 0; i < METRICS_MODES; i++) {
        emit(&o, "atls_connections_total{mode=\"%s\"} %llu\n", mode_names[i],
             atomic_load(&connections[i]));
    }
    emit(&o, "# HELP atls_connections_open Connections open now.\n"
             "# TYPE atls_connections_open gauge\natls_connections_open %lld\n",
         atomic_load(&open_now));
    emit(&o, "# HELP atls_appraisals_total Appraisals of clients by status.\n"
             "# TYPE atls_appraisals_total counter\n");
    for (size_t i = 0; i < 4; i++) {
        emit(&o, "atls_appraisals_total{status=\"%s\"} %llu\n", status_names[i],
             atomic_load(&appraisals[i]));
    }
    render_counter(&o, "atls_evidence_produced_total", "Evidence produced for clients.",
                   atomic_load(&evidence_ok));
    render_counter(&o, "atls_evidence_failures_total", "Evidence productions that failed.",
                   atomic_load(&evidence_failed));
    render_counter(&o, "atls_backend_failures_total",
                   "Connections whose backend could not be reached.",
                   atomic_load(&backend_failures));
    emit(&o, "# HELP atls_reloads_total Configuration reloads (SIGHUP) by result.\n"
             "# TYPE atls_reloads_total counter\n"
             "atls_reloads_total{result=\"ok\"} %llu\natls_reloads_total{result=\"failed\"} %llu\n",
         atomic_load(&reloads_ok), atomic_load(&reloads_failed));
    emit(&o, "# HELP atls_config_generation Generation of the running configuration.\n"
             "# TYPE atls_config_generation gauge\natls_config_generation %lu\n",
         atomic_load(&generation));
    render_histogram(&o, &handshake_h);
    render_histogram(&o, &evidence_h);
    render_histogram(&o, &attestation_h);
    if (o.overflow) {
        buf[0] = '\0';
        return 0;
    }
    return o.len;
}

/* ---- the endpoint ----------------------------------------------------------------------- */

#define REQUEST_MAX 4096
#define SCRAPE_TIMEOUT_MS 2000

static pthread_t http_thread;
static int http_started;
static int http_fd = -1;
static int http_stop[2] = {-1, -1};

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, const char *status, const char *type, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, type, len);
    write_all(fd, head, (size_t)n);
    write_all(fd, body, len);
}

/* scrape answers one request on |fd|: the head is read up to its blank line (at most
 * REQUEST_MAX bytes, within SCRAPE_TIMEOUT_MS), only "GET /metrics" is served */
static void scrape(int fd)
{
    struct timeval tv = {.tv_sec = SCRAPE_TIMEOUT_MS / 1000, .tv_usec = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char req[REQUEST_MAX + 1];
    size_t have = 0;
    while (have < REQUEST_MAX) {
        ssize_t r = read(fd, req + have, REQUEST_MAX - have);
        if (r <= 0) {
            return;
        }
        have += (size_t)r;
        req[have] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL) {
            break;
        }
    }
    req[have] = '\0';
    static const char not_found[] = "not found: the metrics are at /metrics\n";
    if (strncmp(req, "GET ", 4) != 0) {
        respond(fd, "405 Method Not Allowed", "text/plain", "GET only\n", 9);
        return;
    }
    const char *path = req + 4;
    size_t plen = strcspn(path, " ?\r\n");
    if (plen != strlen("/metrics") || strncmp(path, "/metrics", plen) != 0) {
        respond(fd, "404 Not Found", "text/plain", not_found, sizeof(not_found) - 1);
        return;
    }
    static char body[32768]; /* only this thread renders */
    size_t len = metrics_render(body, sizeof(body));
    respond(fd, len > 0 ? "200 OK" : "500 Internal Server Error",
            "text/plain; version=0.0.4; charset=utf-8", body, len);
}

static void *http_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd pf[2] = {{.fd = http_fd, .events = POLLIN},
                               {.fd = http_stop[0], .events = POLLIN}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (pf[1].revents != 0) {
            break;
        }
        if (!(pf[0].revents & POLLIN)) {
            continue;
        }
        int fd = accept(http_fd, NULL, NULL);
        if (fd >= 0) {
            scrape(fd);
            close(fd);
        }
    }
    return NULL;
}

int metrics_http_start(int lfd)
{
    http_fd = lfd;
    if (pipe(http_stop) != 0) {
        return -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    /* the endpoint leaves every signal to the main thread */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&http_thread, NULL, http_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    http_started = 1;
    return 0;
}

void metrics_http_stop(void)
{
    if (!http_started) {
        return;
    }
    ssize_t w = write(http_stop[1], "x", 1);
    (void)w;
    pthread_join(http_thread, NULL);
    close(http_fd);
    close(http_stop[0]);
    close(http_stop[1]);
    http_started = 0;
    http_fd = -1;
}
