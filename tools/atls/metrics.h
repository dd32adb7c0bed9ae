/* metrics.h: counters and latency histograms of `atls serve`, and an HTTP endpoint that serves
 * them in the Prometheus text exposition format 0.0.4 (`--metrics ADDR:PORT`, GET /metrics).
 *
 *   atls_connections_total{mode}       accepted connections by outcome: attested, plain,
 *                                      refused, handshake_failed
 *   atls_connections_open              connections open now
 *   atls_appraisals_total{status}      appraisals of clients: affirming, warning,
 *                                      contraindicated, none
 *   atls_evidence_produced_total       Evidence produced for clients
 *   atls_evidence_failures_total       attempts of the attester that failed
 *   atls_backend_failures_total        connections whose backend could not be reached
 *   atls_reloads_total{result}         SIGHUP reloads: ok, failed
 *   atls_config_generation             generation of the running configuration
 *   atls_handshake_seconds             TLS handshake duration (histogram)
 *   atls_evidence_seconds              Evidence production (histogram)
 *   atls_attestation_seconds           request to a client's appraisal (histogram)
 *
 * Thread-safety: every recording function is lock-free (C11 atomics) and may be called from
 * any thread; none assumes a thread per connection. The endpoint runs on a thread of its own
 * and answers one scrape at a time (each bounded to 2 s), so it never touches the
 * connections. */
#ifndef ATLS_TOOLS_METRICS_H
#define ATLS_TOOLS_METRICS_H

#include <atls/appraisal.h>

#include <stddef.h>

typedef enum metrics_mode {
    METRICS_ATTESTED = 0,
    METRICS_PLAIN,
    METRICS_REFUSED,
    METRICS_HANDSHAKE_FAILED,
    METRICS_MODES
} metrics_mode;

void metrics_connection(metrics_mode mode);
void metrics_open_add(int delta);
/* |seconds| < 0: no latency known (not observed) */
void metrics_appraisal(atls_tier status, double seconds);
void metrics_evidence(int ok, double seconds);
void metrics_backend_failure(void);
void metrics_reload(int ok, unsigned long generation);
void metrics_handshake(double seconds);

/* metrics_render writes the exposition text into |buf| (NUL-terminated) and returns its
 * length, or 0 if |cap| is too small. */
size_t metrics_render(char *buf, size_t cap);

/* metrics_http_start serves GET /metrics on the listening socket |lfd| (owned from now on) on
 * a thread of its own. 0, or -1 (errno) when the thread cannot start. metrics_http_stop ends
 * it and closes the socket (no-op when not started). */
int metrics_http_start(int lfd);
void metrics_http_stop(void);

#endif /* ATLS_TOOLS_METRICS_H */
