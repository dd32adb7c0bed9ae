/*
 * bench_batch: batched attestation (atls/batch.h; benchmark 6 of scripts/bench).
 *
 *   bench_batch CLIENTS SECONDS LATENCY_MS RATE OPEN_CLIENTS
 *
 * The quote source is the sim attester with quote_latency_ms=LATENCY_MS: every Evidence takes
 * at least that long and one is made at a time (a TDX Quoting Enclave takes about 40 ms). CLIENTS
 * real in-process TLS 1.3 connections (socketpairs, the session fixture's PKI), each served by
 * its own server thread as in `atls serve`; each client re-attests in a loop for SECONDS
 * (REQUEST -> authenticator with fresh Evidence bound to its connection -> validation, binding,
 * appraisal against a strict policy). The sessions share the attester through one batcher
 * (batched) or behind the fair lock (unbatched, the baseline), same connections, same machine,
 * same run:
 *   - closed loop: every client asks again as soon as its answer is appraised (the most the
 *     configuration delivers), both ways;
 *   - open loop, batched: requests at RATE a second in all, at random (Poisson) times spread
 *     over OPEN_CLIENTS connections, as a fleet re-attesting on its own schedule asks; latency
 *     is counted from the time a request was due (a late client does not hide its wait);
 *   - one connection alone, both ways (no timer: a lone request costs one quote either way). The per-peer Evidence rate limit (docs/PROTOCOL.md 2.1, default 4
 * a second) is raised out of the way: it bounds what one peer may make a server do, it is not
 * what is measured here. Prints Markdown table rows (see scripts/bench), then the measured size
 * overhead of a batch record per tree size.
 */
#include "bench_util.h"
#include "session_fixture.h"

#include <atls/batch.h>

#include "codec/cmw/cmw.h"
#include "evidence/batch/batch.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static fixture F;
static atls_policy *policy;
static const atls_attester_ops *sim;
static void *slow_sim; /* the sim attester with quote_latency_ms */

typedef struct client {
    tls_pair *pair;
    server_run run;
    atls_session *s;
    uint64_t deadline_ns;
    double mean_gap_ns;   /* open loop: mean time between this client's requests; 0 closed */
    unsigned seed;
    double *lat;  /* ms per attestation */
    size_t n, cap;
    size_t failures;
    pthread_t thread;
} client;

/* next_gap_ns: an exponentially distributed gap of mean |mean| (Poisson arrivals) */
static uint64_t next_gap_ns(client *c)
{
    double u = ((double)rand_r(&c->seed) + 1.0) / ((double)RAND_MAX + 2.0);
    return (uint64_t)(-log(u) * c->mean_gap_ns);
}

static void *client_main(void *arg)
{
    client *c = arg;
    uint64_t due = bench_now_ns();
    if (c->mean_gap_ns > 0) {
        due += next_gap_ns(c); /* clients start spread out, not in step */
    }
    while (due < c->deadline_ns && c->n < c->cap) {
        uint64_t now = bench_now_ns();
        if (c->mean_gap_ns > 0 && now < due) {
            struct timespec ts = {(time_t)((due - now) / 1000000000u),
                                  (long)((due - now) % 1000000000u)};
            nanosleep(&ts, NULL);
        }
        uint64_t t0 = c->mean_gap_ns > 0 ? due : bench_now_ns();
        atls_error rc = atls_session_attest(c->s, NULL);
        if (rc != ATLS_OK) {
            fprintf(stderr, "bench_batch: attestation failed: %s\n", atls_error_message());
            c->failures++;
            break;
        }
        c->lat[c->n++] = (double)(bench_now_ns() - t0) / 1e6;
        due = c->mean_gap_ns > 0 ? due + next_gap_ns(c) : bench_now_ns();
    }
    return NULL;
}

typedef struct series {
    double per_second, p50, p99, max;
    size_t attestations, failures;
    uint64_t quotes;
    size_t largest;
} series;

/* run_series: |nclients| connections attesting for |seconds|, batched or not, in a closed loop
 * (|rate| 0) or at |rate| requests a second in all */
static int run_series(int nclients, double seconds, int batched, double rate, void *quotes,
                      series *out)
{
    memset(out, 0, sizeof(*out));
    atls_batcher *batcher = NULL;
    atls_fair_lock lock;
    if (atls_fair_lock_init(&lock) != ATLS_OK ||
        (batched && atls_batcher_new(sim, quotes, NULL, &batcher) != ATLS_OK)) {
        fprintf(stderr, "bench_batch: %s\n", atls_error_message());
        return 1;
    }
    client *cs = calloc((size_t)nclients, sizeof(*cs));
    size_t cap = (size_t)(seconds * 2000) + 16;
    int rc = cs == NULL;
    for (int i = 0; rc == 0 && i < nclients; i++) {
        client *c = &cs[i];
        c->pair = fixture_pair(&F, NULL);
        c->lat = calloc(cap, sizeof(double));
        c->cap = cap;
        if (c->pair == NULL || c->lat == NULL) {
            rc = 1;
            break;
        }
        c->run.pair = c->pair;
        memset(&c->run.cfg, 0, sizeof(c->run.cfg));
        c->run.cfg.cert = F.leaf->cert;
        c->run.cfg.key = F.leaf->key;
        if (batched) {
            c->run.cfg.attester = atls_batcher_ops();
            c->run.cfg.attester_state = batcher;
        } else {
            c->run.cfg.attester = sim;
            c->run.cfg.attester_state = quotes;
            c->run.cfg.attester_lock = &lock;
        }
        c->run.cfg.evidence_per_second = 1000;
        c->run.cfg.evidence_burst = 1000;
        c->run.cfg.timeout_ms = 120000;
        atls_session_config cc = client_config(&F, policy);
        cc.timeout_ms = 120000; /* unbatched, a request waits behind every other connection */
        if (server_start(&c->run) != 0 || atls_session_new(c->pair->client, &cc, &c->s) != ATLS_OK) {
            fprintf(stderr, "bench_batch: connection %d: %s\n", i, atls_error_message());
            rc = 1;
        }
    }
    uint64_t t0 = bench_now_ns();
    uint64_t deadline = t0 + (uint64_t)(seconds * 1e9);
    for (int i = 0; rc == 0 && i < nclients; i++) {
        cs[i].deadline_ns = deadline;
        cs[i].mean_gap_ns = rate > 0 ? 1e9 * nclients / rate : 0;
        cs[i].seed = (unsigned)i * 2654435761u + 1;
        if (pthread_create(&cs[i].thread, NULL, client_main, &cs[i]) != 0) {
            rc = 1;
        }
    }
    size_t total = 0;
    for (int i = 0; rc == 0 && i < nclients; i++) {
        pthread_join(cs[i].thread, NULL);
        total += cs[i].n;
        out->failures += cs[i].failures;
    }
    double elapsed = (double)(bench_now_ns() - t0) / 1e9;
    double *all = rc == 0 ? calloc(total + 1, sizeof(double)) : NULL;
    if (all != NULL) {
        size_t k = 0;
        for (int i = 0; i < nclients; i++) {
            memcpy(all + k, cs[i].lat, cs[i].n * sizeof(double));
            k += cs[i].n;
        }
        out->attestations = total;
        out->per_second = (double)total / elapsed;
        out->p50 = bench_percentile(all, total, 50);
        out->p99 = bench_percentile(all, total, 99);
        out->max = bench_percentile(all, total, 100);
    }
    free(all);
    for (int i = 0; cs != NULL && i < nclients; i++) {
        client *c = &cs[i];
        if (c->s != NULL) {
            atls_session_close(c->s);
            atls_session_free(c->s);
        }
        if (c->pair != NULL) {
            shutdown(c->pair->client_fd, SHUT_RDWR);
            if (c->run.thread != 0) {
                server_join(&c->run);
            }
            tls_pair_free(c->pair);
        }
        free(c->lat);
    }
    free(cs);
    if (batcher != NULL) {
        atls_batcher_stats st;
        atls_batcher_get_stats(batcher, &st);
        out->quotes = st.evidence;
        out->largest = st.largest;
        atls_batcher_free(batcher);
    }
    atls_fair_lock_destroy(&lock);
    if (!batched) {
        out->quotes = out->attestations; /* one quote per attestation */
        out->largest = 1;
    }
    return rc != 0 || out->failures > 0;
}

static void row(const char *what, int nclients, const series *s, const series *base)
{
    printf("| %s | %d | %zu | %.0f | %.1f / %.1f / %.1f | %llu | %.1f | %zu | ", what, nclients,
           s->attestations, s->per_second, s->p50, s->p99, s->max,
           (unsigned long long)s->quotes,
           s->quotes > 0 ? (double)s->attestations / (double)s->quotes : 0.0, s->largest);
    if (base != NULL && base->per_second > 0) {
        printf("**%.1f×** |\n", s->per_second / base->per_second);
    } else {
        printf("1.0× |\n");
    }
}

/* overhead: bytes a batch record adds to the plain record of the same Evidence, per tree size,
 * for the leaf with the longest proof */
static void overhead(void)
{
    uint8_t ch[64] = {0}, *ev = NULL, *plain = NULL;
    size_t ev_len = 0, plain_len = 0;
    if (sim->produce(F.sim_state, ch, &ev, &ev_len) != ATLS_OK ||
        atls_cmw_encode_record(sim->media_type, ev, ev_len, ATLS_CMW_IND_EVIDENCE, &plain,
                               &plain_len) != ATLS_OK) {
        return;
    }
    static atls_merkle_hash leaves[ATLS_BATCH_MAX_LEAVES];
    static const size_t sizes[] = {1, 2, 4, 16, 64, 256, 1024, 4096};
    printf("OVERHEAD | plain sim record: %zu bytes\n", plain_len);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        atls_merkle_tree t;
        if (atls_merkle_tree_build(leaves, sizes[s], &t) != ATLS_OK) {
            break;
        }
        size_t index = sizes[s] - 1, worst = 0;
        for (size_t i = 0; i < sizes[s]; i++) { /* the leaf with the longest proof */
            if (atls_merkle_path_len(i, sizes[s]) >= worst) {
                worst = atls_merkle_path_len(i, sizes[s]);
                index = i;
            }
        }
        atls_merkle_hash path[ATLS_BATCH_MAX_PATH];
        size_t len = 0;
        uint8_t *w = NULL, *rec = NULL;
        size_t w_len = 0, rec_len = 0;
        if (atls_merkle_tree_path(&t, index, path, &len) == ATLS_OK &&
            atls_batch_encode(sim->media_type, ev, ev_len, sizes[s], index, path, len, &w,
                              &w_len) == ATLS_OK &&
            atls_cmw_encode_record(ATLS_BATCH_MEDIA_TYPE, w, w_len, ATLS_CMW_IND_EVIDENCE, &rec,
                                   &rec_len) == ATLS_OK) {
            printf("| %zu | %zu | %zu |\n", sizes[s], len, rec_len - plain_len);
        }
        free(w);
        free(rec);
        atls_merkle_tree_cleanup(&t);
    }
    free(ev);
    free(plain);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_batch CLIENTS SECONDS LATENCY_MS RATE OPEN_CLIENTS\n");
        return 2;
    }
    int open_clients = atoi(argv[5]);
    int nclients = atoi(argv[1]);
    double seconds = atof(argv[2]);
    int latency = atoi(argv[3]);
    double rate = atof(argv[4]);
    if (nclients < 1 || nclients > 2000 || seconds <= 0 || latency < 0 || latency > 60000 ||
        rate <= 0 || open_clients < 1 || open_clients > 2000 ||
        fixture_init(&F) != 0) {
        fprintf(stderr, "bench_batch: bad arguments or fixture: %s\n", atls_error_detail());
        return 2;
    }
    sim = F.sim;
    char keyopt[320], measopt[320], latopt[64];
    snprintf(keyopt, sizeof(keyopt), "key=%s", F.sim_key_path);
    snprintf(measopt, sizeof(measopt), "measurements=%s", F.meas_path);
    snprintf(latopt, sizeof(latopt), "quote_latency_ms=%d", latency);
    const char *config[] = {keyopt, measopt, latopt, NULL};
    policy = fixture_sim_policy(&F);
    if (policy == NULL || sim->create(config, &slow_sim) != ATLS_OK) {
        fprintf(stderr, "bench_batch: %s\n", atls_error_detail());
        return 1;
    }
    series u, b, b0, bo, b1, u1;
    int rc = run_series(nclients, seconds, 0, 0, slow_sim, &u);
    rc |= run_series(nclients, seconds, 1, 0, slow_sim, &b);
    rc |= run_series(nclients, seconds / 2, 1, 0, F.sim_state, &b0);
    rc |= run_series(open_clients, seconds, 1, rate, slow_sim, &bo);
    rc |= run_series(1, seconds / 2, 0, 0, slow_sim, &u1);
    rc |= run_series(1, seconds / 2, 1, 0, slow_sim, &b1);
    char what[120];
    row("unbatched, closed loop (fair lock; baseline)", nclients, &u, NULL);
    row("batched, closed loop", nclients, &b, &u);
    /* the same with an instant quote source: what is left is the CPU and scheduling of that
     * many attestations at once, the "plus scheduling" of the latency bound */
    printf("| batched, closed loop, quotes in 0 ms (scheduling alone) | %d | %zu | %.0f | "
           "%.1f / %.1f / %.1f | %llu | %.1f | %zu | |\n",
           nclients, b0.attestations, b0.per_second, b0.p50, b0.p99, b0.max,
           (unsigned long long)b0.quotes,
           b0.quotes > 0 ? (double)b0.attestations / (double)b0.quotes : 0.0, b0.largest);
    snprintf(what, sizeof(what), "**batched, open loop at %.0f requests/s**", rate);
    row(what, open_clients, &bo, &u);
    row("one connection, unbatched", 1, &u1, NULL);
    row("one connection, batched", 1, &b1, &u1);
    overhead();
    sim->destroy(slow_sim);
    atls_policy_free(policy);
    fixture_cleanup(&F);
    return rc;
}
