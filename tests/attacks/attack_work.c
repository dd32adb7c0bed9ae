/* attack_work.c: a hostile client against the bounds on peer-driven work (atls/session.h
 * "Bounded"): a flood of requests, and a context asked again. Each attacker runs against an
 * honest server session that shares the attester (its fair lock, or its batcher when batching:
 * server_config_attest) with the server of a
 * well-behaved client on another connection, whose re-attestation latency is measured before
 * (the baseline, also the positive control) and while the attacker runs. */
#include "attack_lab.h"

#include "base/result.h"
#include "check.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ATTACK_CONNECTIONS 4
#define FLOOD_REQUESTS 200

/* ---- the well-behaved connection ----------------------------------------------------------- */

typedef struct good {
    tls_pair *pair;
    server_run run;
    atls_session *c;
    atls_policy *policy;
} good;

static int good_open(good *g)
{
    memset(g, 0, sizeof(*g));
    g->pair = fixture_pair(&F, NULL);
    g->policy = fixture_policy(&F, F.good_policy);
    CHECK(g->pair != NULL && g->policy != NULL);
    if (g->pair == NULL || g->policy == NULL) {
        return -1;
    }
    g->run.pair = g->pair;
    server_config_attest(&F, &g->run);
    /* its own rate limit out of the way: the measure is what the attacker costs it */
    g->run.cfg.evidence_per_second = 1000;
    g->run.cfg.evidence_burst = 1000;
    CHECK(server_start(&g->run) == 0);
    atls_session_config cc = client_config(&F, g->policy);
    CHECK_OK(atls_session_new(g->pair->client, &cc, &g->c));
    return g->c != NULL ? 0 : -1;
}

/* good_reattest: milliseconds one re-attestation took, -1 when it failed */
static int64_t good_reattest(good *g)
{
    int64_t t0 = atls_test_now_ms();
    atls_error rc = atls_session_attest(g->c, NULL);
    CHECK_OK(rc);
    return rc == ATLS_OK ? atls_test_now_ms() - t0 : -1;
}

static void good_close(good *g)
{
    if (g->c != NULL) {
        atls_session_close(g->c);
        atls_session_free(g->c);
    }
    if (g->pair != NULL) {
        shutdown(g->pair->client_fd, SHUT_RDWR);
        server_join(&g->run);
        CHECK_OK(g->run.result);
    }
    atls_policy_free(g->policy);
    tls_pair_free(g->pair);
}

/* ---- the attacker ------------------------------------------------------------------------- */

typedef struct attacker {
    int repeat;                 /* context_repeat (else request_flood) */
    /* per run, summed or worst over the connections */
    int sent;                   /* requests delivered */
    int answers;                /* authenticators received */
    int repeat_sent;            /* context_repeat: the repeated request went out after its answer */
    int error_code;             /* the server's ERROR frame code (the last connection's) */
    char error_reason[ATLS_FRAME_ERROR_REASON_MAX + 1];
    int closed;                 /* every connection was closed by the server */
    atls_error server_result;   /* how the server sessions ended (the last one's) */
    int server_results_same;    /* all ended the same way */
    uint64_t max_produced;      /* most Evidence produced for one attacker connection */
    volatile int done;
} attacker;

static atls_error send_request(SSL *ssl, const uint8_t prefix[16], uint64_t seq)
{
    uint8_t *req = NULL;
    size_t len = 0;
    ATLS_GUARD(make_atls_request(ssl, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, prefix, seq, &req, &len));
    atls_error rc = raw_send_frame(ssl, ATLS_FRAME_REQUEST, req, len);
    free(req);
    return rc;
}

/* read_until_closed: frames from the server until it closes (1) or |stop_after| answers came
 * on this call (0: no limit; returns 0); counts answers, keeps the ERROR */
static int read_until_closed(attacker *a, SSL *ssl, atls_frame_reader *r, int stop_after)
{
    int answers = 0;
    for (;;) {
        uint8_t type;
        const uint8_t *p;
        size_t len;
        atls_error rc = raw_next_frame(ssl, r, 5000, &type, &p, &len);
        if (rc == ATLS_ERR_IO_CLOSED) {
            return 1;
        }
        if (rc != ATLS_OK) {
            return 0;
        }
        if (type == ATLS_FRAME_AUTHENTICATOR) {
            a->answers++;
            if (stop_after > 0 && ++answers >= stop_after) {
                return 0;
            }
        } else if (type == ATLS_FRAME_ERROR) {
            uint16_t code = 0;
            if (atls_frame_parse_error(p, len, &code, a->error_reason,
                                       sizeof(a->error_reason)) == ATLS_OK) {
                a->error_code = code;
            }
        }
    }
}

/* one attacker connection against an honest server sharing the attester */
static void attack_once(attacker *a, int first)
{
    tls_pair *pair = fixture_pair(&F, NULL);
    if (pair == NULL) {
        return;
    }
    server_run run = {.pair = pair};
    server_config_attest(&F, &run); /* default bounds, the attester shared */
    if (server_start(&run) != 0) {
        tls_pair_free(pair);
        return;
    }
    SSL *ssl = pair->client;
    uint8_t prefix[16];
    (void)RAND_bytes(prefix, sizeof(prefix));
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    int closed = 0;
    if (a->repeat) {
        /* ask, take the answer, ask again with the same context (the mutant: a new one) */
        if (send_request(ssl, prefix, 1) == ATLS_OK) {
            a->sent++;
            (void)read_until_closed(a, ssl, &r, 1);
            if (send_request(ssl, prefix, lab_mutant ? 2 : 1) == ATLS_OK) {
                a->repeat_sent++;
            }
        }
        /* the mutant's new context is answered and the connection stays open */
        closed = read_until_closed(a, ssl, &r, lab_mutant ? 1 : 0);
    } else {
        /* as many requests as fast as possible (the mutant: within the bounds) */
        int n = lab_mutant ? ATLS_SESSION_DEFAULT_EVIDENCE_BURST : FLOOD_REQUESTS;
        for (int i = 1; i <= n; i++) {
            if (send_request(ssl, prefix, (uint64_t)i) != ATLS_OK) {
                break;
            }
            a->sent++;
        }
        closed = read_until_closed(a, ssl, &r, lab_mutant ? n : 0);
    }
    atls_frame_reader_cleanup(&r);
    shutdown(pair->client_fd, SHUT_RDWR);
    server_join(&run);
    a->closed = first ? closed : a->closed && closed;
    a->server_results_same = first ? 1 : a->server_results_same && run.result == a->server_result;
    a->server_result = run.result;
    if (run.evidence_produced > a->max_produced) {
        a->max_produced = run.evidence_produced;
    }
    tls_pair_free(pair);
}

static void *attacker_main(void *arg)
{
    attacker *a = arg;
    for (int i = 0; i < ATTACK_CONNECTIONS; i++) {
        attack_once(a, i == 0);
    }
    a->done = 1;
    return NULL;
}

/* ---- the run -------------------------------------------------------------------------------- */

static void run_work_attack(verdict *v, int repeat)
{
    good g;
    int64_t baseline = 0, worst = 0;
    int good_ok = good_open(&g) == 0, rounds = 0;
    for (int i = 0; good_ok && i < 3; i++) {
        int64_t ms = good_reattest(&g);
        good_ok = ms >= 0;
        baseline = ms > baseline ? ms : baseline;
    }
    v->control_ok = good_ok;
    attacker a;
    memset(&a, 0, sizeof(a));
    a.repeat = repeat;
    pthread_t t;
    int started = good_ok && pthread_create(&t, NULL, attacker_main, &a) == 0;
    CHECK(started);
    /* the well-behaved client re-attests for as long as the attacker runs (at least 6 times) */
    while (started && good_ok && (!a.done || rounds < 6)) {
        int64_t ms = good_reattest(&g);
        good_ok = ms >= 0;
        worst = ms > worst ? ms : worst;
        rounds++;
    }
    if (started) {
        pthread_join(t, NULL);
    }
    good_close(&g);

    /* the rejection as the attacker saw it: the server's ERROR frame */
    v->got = (atls_error)a.error_code;
    snprintf(v->detail, sizeof(v->detail), "%.599s", a.error_reason);
    v->after_ok = a.closed && a.server_result != ATLS_OK && a.server_results_same;
    int cap = ATLS_SESSION_DEFAULT_MAX_PEER_REQUESTS, burst = ATLS_SESSION_DEFAULT_EVIDENCE_BURST;
    if (repeat) {
        v->step = a.repeat_sent == ATTACK_CONNECTIONS && a.answers >= ATTACK_CONNECTIONS;
        v->control_ok = v->control_ok && a.answers >= ATTACK_CONNECTIONS;
        snprintf(v->step_note, sizeof(v->step_note),
                 "%d connections each asked again with an answered context", a.repeat_sent);
        verdict_extra(v, a.max_produced == 1, "one Evidence per attacker connection");
    } else {
        v->step = a.sent > ATTACK_CONNECTIONS * (cap + burst);
        snprintf(v->step_note, sizeof(v->step_note),
                 "%d requests were delivered on %d connections", a.sent, ATTACK_CONNECTIONS);
        char what[120];
        snprintf(what, sizeof(what), "at most %d Evidence per attacker connection (%llu)",
                 cap + burst, (unsigned long long)a.max_produced);
        verdict_extra(v, a.max_produced <= (uint64_t)(cap + burst), what);
    }
    verdict_extra(v, a.server_result == v->got, "the server session ended with that code");
    /* bounded latency for the well-behaved connection while the attacker ran */
    int64_t bound = 4 * baseline + 500;
    char what[160];
    snprintf(what, sizeof(what),
             "%d re-attestations of the well-behaved connection, worst %lld ms (baseline %lld ms, "
             "bound %lld ms)",
             rounds, (long long)worst, (long long)baseline, (long long)bound);
    verdict_extra(v, good_ok && rounds >= 6 && worst <= bound, what);
}

void attack_request_flood(verdict *v)
{
    run_work_attack(v, 0);
}

void attack_context_repeat(verdict *v)
{
    run_work_attack(v, 1);
}
