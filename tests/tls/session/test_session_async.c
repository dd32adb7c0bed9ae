/* test_session_async: Evidence produced off the session's thread (evidence_async, atls/session.h
 * "Asynchronous Evidence"), over real TLS 1.3 connections with the sim attester:
 *   - a request that needs Evidence becomes one job; nothing is answered until it comes back,
 *     and the session keeps delivering DATA meanwhile; a second request waits behind the first
 *     (one job out at a time, answers in order) and gets its own challenge;
 *   - a job run on another thread comes back as an authenticator the client appraises as
 *     affirming (through the batcher too, with ATLS_TEST_BATCH=1);
 *   - a failed job fails the session with an ERROR frame carrying the attester's reason; a job
 *     the session did not make is refused;
 *   - atls_session_trim: an idle session that has answered holds no output buffer after it
 *     (its bookkeeping is below one 16 KiB queue), before it the buffer is there;
 *   - a session freed with a job made (taken or not) leaks nothing (ASan);
 *   - atls_session_close_step completes a clean close without blocking. */
#include "session_fixture.h"

#include "base/result.h"
#include "check.h"

#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static fixture F;

static atls_session *async_server(tls_pair *p)
{
    server_run run = {.pair = p};
    server_config_attest(&F, &run);
    run.cfg.evidence_async = 1;
    atls_session *s = NULL;
    CHECK_OK(atls_session_new(p->server, &run.cfg, &s));
    return s;
}

/* pump: process the server for |ms|; DATA read goes to |got| */
static atls_error pump(atls_session *s, int ms, char *got, size_t cap)
{
    int64_t until = atls_test_now_ms() + ms;
    size_t have = got != NULL ? strlen(got) : 0;
    while (atls_test_now_ms() < until) {
        uint8_t buf[256];
        size_t n = 0;
        atls_error rc = atls_session_read(s, buf, sizeof(buf), &n);
        if (rc != ATLS_OK) {
            return rc;
        }
        if (got != NULL && n > 0 && have + n < cap) {
            memcpy(got + have, buf, n);
            have += n;
            got[have] = '\0';
        }
        struct pollfd pf = {.fd = atls_session_fd(s), .events = atls_session_poll_events(s)};
        (void)poll(&pf, 1, 10);
    }
    return ATLS_OK;
}

static void send_request(tls_pair *p, const uint8_t prefix[16], uint64_t seq)
{
    uint8_t *req = NULL;
    size_t len = 0;
    CHECK_OK(make_atls_request(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, prefix, seq, &req,
                               &len));
    CHECK_OK(raw_send_frame(p->client, ATLS_FRAME_REQUEST, req, len));
    free(req);
}

static void *run_job(void *arg)
{
    atls_evidence_job_run(arg);
    return NULL;
}

/* next_type: the type of the next frame the raw client gets within |ms| (0: none) */
static int next_type(tls_pair *p, atls_frame_reader *r, int ms, char *reason, size_t cap)
{
    uint8_t type;
    const uint8_t *pl;
    size_t len;
    if (raw_next_frame(p->client, r, ms, &type, &pl, &len) != ATLS_OK) {
        return 0;
    }
    if (type == ATLS_FRAME_ERROR && reason != NULL && len > 2) {
        size_t n = len - 2 < cap - 1 ? len - 2 : cap - 1;
        memcpy(reason, pl + 2, n);
        reason[n] = '\0';
    }
    return type;
}

static void test_jobs_in_order(void)
{
    tls_pair *p = fixture_pair(&F, NULL);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    atls_session *s = async_server(p);
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    uint8_t prefix[16];
    CHECK(RAND_bytes(prefix, sizeof(prefix)) == 1);
    send_request(p, prefix, 1);
    send_request(p, prefix, 2);
    CHECK_OK(raw_send_frame(p->client, ATLS_FRAME_DATA, (const uint8_t *)"ping", 4));
    char got[64] = "";
    CHECK_OK(pump(s, 200, got, sizeof(got)));
    atls_evidence_job *j1 = atls_session_take_evidence_job(s);
    CHECK(j1 != NULL);
    CHECK(atls_session_take_evidence_job(s) == NULL); /* one job out at a time */
    CHECK(atls_session_evidence_waiting(s) == 1);
    CHECK(atls_session_timeout_ms(s) != 0);           /* no busy loop while it is out */
    CHECK(strcmp(got, "ping") == 0);                  /* DATA flows meanwhile */
    CHECK(next_type(p, &r, 100, NULL, 0) == 0);       /* and nothing is answered yet */
    CHECK(atls_session_evidence_produced(s) == 0);
    uint8_t c1[64];
    memcpy(c1, atls_evidence_job_challenge(j1), sizeof(c1));
    CHECK(atls_evidence_job_max(j1) >= 1024);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, run_job, j1) == 0); /* produced on another thread */
    pthread_join(t, NULL);
    CHECK_OK(atls_session_evidence_done(s, j1));
    CHECK(next_type(p, &r, 2000, NULL, 0) == ATLS_FRAME_AUTHENTICATOR);
    CHECK(atls_session_evidence_produced(s) == 1);
    /* the second request: its own job, its own challenge */
    atls_evidence_job *j2 = atls_session_take_evidence_job(s);
    if (j2 == NULL) {
        CHECK_OK(pump(s, 100, NULL, 0));
        j2 = atls_session_take_evidence_job(s);
    }
    CHECK(j2 != NULL);
    if (j2 != NULL) {
        CHECK(memcmp(c1, atls_evidence_job_challenge(j2), sizeof(c1)) != 0);
        CHECK_ERR(atls_session_evidence_done(s, NULL), ATLS_ERR_USAGE_STATE);
        /* a failed production fails the session with the attester's reason */
        atls_evidence_job_complete(j2, ATLS_ERR_EVIDENCE_ATTESTER, NULL, 0,
                                   "the quote source failed");
        CHECK_ERR(atls_session_evidence_done(s, j2), ATLS_ERR_EVIDENCE_ATTESTER);
        char reason[256] = "";
        CHECK(next_type(p, &r, 2000, reason, sizeof(reason)) == ATLS_FRAME_ERROR);
        CHECK(strstr(reason, "the quote source failed") != NULL);
    }
    atls_frame_reader_cleanup(&r);
    atls_session_free(s);
    tls_pair_free(p);
}

struct client_run {
    tls_pair *p;
    atls_policy *policy;
    atls_error rc;
    atls_tier status;
    int done;
};

static void *client_main(void *arg)
{
    struct client_run *c = arg;
    atls_session_config cc = client_config(&F, c->policy);
    atls_session *s = NULL;
    c->rc = atls_session_new(c->p->client, &cc, &s);
    if (c->rc == ATLS_OK) {
        atls_appraisal a;
        memset(&a, 0, sizeof(a));
        c->rc = atls_session_attest(s, &a);
        c->status = a.status;
        atls_appraisal_cleanup(&a);
        atls_session_close(s);
    }
    atls_session_free(s);
    __atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_attested_end_to_end(void)
{
    tls_pair *p = fixture_pair(&F, NULL);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    atls_session *s = async_server(p);
    struct client_run c = {.p = p, .policy = fixture_sim_policy(&F)};
    pthread_t ct;
    CHECK(pthread_create(&ct, NULL, client_main, &c) == 0);
    int64_t until = atls_test_now_ms() + 10000;
    int jobs = 0;
    while (!__atomic_load_n(&c.done, __ATOMIC_SEQ_CST) && atls_test_now_ms() < until) {
        atls_error rc = pump(s, 20, NULL, 0);
        if (rc != ATLS_OK) {
            break; /* the client closed */
        }
        atls_evidence_job *j = atls_session_take_evidence_job(s);
        if (j != NULL) {
            jobs++;
            pthread_t t;
            CHECK(pthread_create(&t, NULL, run_job, j) == 0);
            pthread_join(t, NULL);
            CHECK_OK(atls_session_evidence_done(s, j));
        }
    }
    pthread_join(ct, NULL);
    CHECK_OK(c.rc);
    CHECK(c.status == ATLS_TIER_AFFIRMING);
    CHECK(jobs == 1);
    size_t mem = atls_session_memory(s);
    atls_session_trim(s);
    size_t trimmed = atls_session_memory(s);
    printf("idle server session after one answer: %zu bytes, trimmed %zu\n", mem, trimmed);
    CHECK(mem >= 16384 && trimmed < 16384);
    atls_session_trim(s); /* idempotent */
    CHECK(atls_session_memory(s) == trimmed);
    /* the close completes step by step, never blocking */
    short ev = 0;
    int steps = 0, closed = 0;
    until = atls_test_now_ms() + 2000;
    while (atls_test_now_ms() < until && !(closed = atls_session_close_step(s, &ev))) {
        CHECK(ev == POLLIN || ev == POLLOUT);
        struct pollfd pf = {.fd = atls_session_fd(s), .events = ev};
        (void)poll(&pf, 1, 50);
        steps++;
    }
    CHECK(closed);
    CHECK(atls_session_close_step(s, &ev) == 1); /* and stays closed */
    atls_policy_free(c.policy);
    atls_session_free(s);
    tls_pair_free(p);
}

/* a session freed with its job made but not taken, and one taken and outliving it */
static void test_free_with_jobs(void)
{
    for (int taken = 0; taken < 2; taken++) {
        tls_pair *p = fixture_pair(&F, NULL);
        CHECK(p != NULL);
        if (p == NULL) {
            return;
        }
        atls_session *s = async_server(p);
        uint8_t prefix[16];
        CHECK(RAND_bytes(prefix, sizeof(prefix)) == 1);
        send_request(p, prefix, 1);
        CHECK_OK(pump(s, 100, NULL, 0));
        CHECK(atls_session_evidence_waiting(s) == 1);
        atls_evidence_job *j = taken ? atls_session_take_evidence_job(s) : NULL;
        CHECK(!taken || j != NULL);
        atls_session_free(s);
        atls_evidence_job_free(j);
        tls_pair_free(p);
    }
}

int main(void)
{
    if (fixture_start_sim(&F) != 0) {
        return 1;
    }
    test_jobs_in_order();
    test_attested_end_to_end();
    test_free_with_jobs();
    fixture_cleanup(&F);
    return check_summary();
}
