/*
 * test_session_blocking: the drop-in calls of atls/ssl.h on real TLS 1.3 connections, both
 * ends in their own thread and blocking, as an SSL_read/SSL_write application would:
 *
 *   - echo: the first atls_write attests the server (nothing sent before), bytes round-trip
 *     (also 300 KiB, more than one write step), atls_pending, SSL_read's return values, the
 *     peer's end of stream as 0 / SSL_ERROR_ZERO_RETURN, atls_shutdown 0 then 1 (and 1 on the
 *     side that saw the peer's close_notify first), calls after shutdown refused;
 *   - a re-attestation requested between two writes is appraised before the echo returns;
 *   - mutual: both ends block in their first call and attest each other; a server that
 *     re-attests the client while the client blocks in atls_read is answered;
 *   - rate limit: a server blocked in atls_read with no data coming answers the requests its
 *     Evidence rate delayed when they are due (atls_session_timeout_ms inside the wait);
 *   - the answer deadline: an unanswered re-attestation fails the atls_read that blocks
 *     (SSL_ERROR_SSL, ATLS_ERR_IO_TIMEOUT) after answer_timeout_ms;
 *   - refusals: a wrong policy fails the first atls_write (SSL_ERROR_SSL, policy error) with
 *     no byte reaching the server; no first answer within timeout_ms fails it too; a peer
 *     that vanishes without close_notify is SSL_ERROR_SYSCALL; bad lengths.
 */
#include "session_fixture.h"

#include <atls/ssl.h>

#include "base/result.h"
#include "check.h"

#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static fixture F;
/* the sim attester's state is shared by both ends of the mutual test */
static atls_fair_lock sim_lock;

/* open_pair: a fixture connection and, when |policy| is not NULL, the sim policy; 0 when
 * something is missing (then nothing is left allocated). */
static int open_pair(tls_pair **p, atls_policy **policy)
{
    *p = fixture_pair(&F, NULL);
    if (policy != NULL) {
        *policy = fixture_sim_policy(&F);
    }
    CHECK(*p != NULL && (policy == NULL || *policy != NULL));
    if (*p == NULL || (policy != NULL && *policy == NULL)) {
        tls_pair_free(*p);
        if (policy != NULL) {
            atls_policy_free(*policy);
        }
        return 0;
    }
    return 1;
}

/* ---- the server: an ordinary blocking echo loop on the drop-in calls ---------------------- */

typedef struct echo_server {
    tls_pair *pair;
    atls_session_config cfg;
    int reattest_after_first; /* atls_session_attest the client after the first echo */
    pthread_t thread;
    atls_error new_rc;
    int last_ret, last_ssl_error;
    atls_error last_error;
    int shutdown_ret, write_after_shutdown, error_after_shutdown;
    size_t bytes;
    uint64_t evidence_produced, client_appraisals;
    atls_error reattest_rc;
} echo_server;

static void *echo_main(void *arg)
{
    echo_server *e = arg;
    atls_session *s = NULL;
    e->new_rc = atls_session_new(e->pair->server, &e->cfg, &s);
    if (e->new_rc != ATLS_OK) {
        return NULL;
    }
    static uint8_t buf[70000];
    int n;
    while ((n = atls_read(s, buf, (int)sizeof(buf))) > 0) {
        e->bytes += (size_t)n;
        if (atls_write(s, buf, n) != n) {
            break;
        }
        if (e->reattest_after_first) {
            e->reattest_after_first = 0;
            e->reattest_rc = atls_session_attest(s, NULL);
        }
    }
    e->last_ret = n;
    e->last_ssl_error = atls_get_error(s, n);
    e->last_error = atls_session_last_error(s);
    if (n == 0) {
        e->shutdown_ret = atls_shutdown(s);
        e->write_after_shutdown = atls_write(s, "x", 1);
        e->error_after_shutdown = atls_get_error(s, e->write_after_shutdown);
    }
    e->evidence_produced = atls_session_evidence_produced(s);
    e->client_appraisals = atls_session_appraisals(s);
    atls_session_free(s);
    return NULL;
}

static int echo_start(echo_server *e, tls_pair *p)
{
    memset(e, 0, sizeof(*e));
    e->pair = p;
    e->cfg.cert = F.leaf->cert;
    e->cfg.key = F.leaf->key;
    e->cfg.attester = F.sim;
    e->cfg.attester_state = F.sim_state;
    e->cfg.attester_lock = &sim_lock;
    e->cfg.timeout_ms = 10000;
    return 0;
}

static void echo_run(echo_server *e)
{
    CHECK(pthread_create(&e->thread, NULL, echo_main, e) == 0);
}

/* roundtrip: atls_write |len| bytes, atls_read them all back. */
static int roundtrip(atls_session *c, const uint8_t *data, size_t len)
{
    static uint8_t back[400 * 1024];
    if (len > sizeof(back) || atls_write(c, data, (int)len) != (int)len) {
        return 0;
    }
    size_t got = 0;
    while (got < len) {
        int n = atls_read(c, back + got, (int)(len - got));
        if (n <= 0) {
            return 0;
        }
        got += (size_t)n;
    }
    return memcmp(back, data, len) == 0;
}

static void test_echo(void)
{
    tls_pair *p = NULL;
    atls_policy *policy = NULL;
    echo_server e;
    if (!open_pair(&p, &policy)) {
        return;
    }
    echo_start(&e, p);
    echo_run(&e);
    atls_session_config cc = client_config(&F, policy);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(p->client, &cc, &c));
    CHECK(atls_session_peer_attested(c) == 0);
    CHECK(atls_pending(c) == 0);
    CHECK(atls_write(c, "hello", 5) == 5); /* attests first */
    CHECK(atls_get_error(c, 5) == SSL_ERROR_NONE && atls_session_last_error(c) == ATLS_OK);
    CHECK(atls_session_peer_attested(c) == 1 && atls_session_appraisals(c) == 1);
    char buf[16] = {0};
    /* a short read leaves the rest pending */
    int n = atls_read(c, buf, 2);
    CHECK(n == 2 && memcmp(buf, "he", 2) == 0);
    CHECK(atls_pending(c) == 3);
    n = atls_read(c, buf, (int)sizeof(buf));
    CHECK(n == 3 && memcmp(buf, "llo", 3) == 0);
    size_t rb = 7;
    CHECK(atls_read_ex(c, buf, 0, &rb) == 1 && rb == 0); /* nothing asked, nothing waited for */
    CHECK(atls_read(c, buf, 0) == 0 && atls_get_error(c, 0) == SSL_ERROR_NONE);
    CHECK(atls_read(c, buf, -1) == -1 && atls_get_error(c, -1) == SSL_ERROR_SSL &&
          atls_session_last_error(c) == ATLS_ERR_USAGE);
    CHECK(atls_write(c, buf, -1) == -1 && atls_get_error(c, -1) == SSL_ERROR_SSL);
    size_t wr = 7;
    CHECK(atls_write_ex(c, "", 0, &wr) == 1 && wr == 0);

    /* more than one write step, echoed while we still write */
    size_t big_len = 300 * 1024;
    uint8_t *big = malloc(big_len);
    CHECK(big != NULL);
    for (size_t i = 0; big != NULL && i < big_len; i++) {
        big[i] = (uint8_t)(i * 7 + 3);
    }
    CHECK(big != NULL && roundtrip(c, big, big_len));
    free(big);
    CHECK(atls_write_ex(c, "ex", 2, &wr) == 1 && wr == 2);
    CHECK(atls_read_ex(c, buf, sizeof(buf), &rb) == 1 && rb == 2 && memcmp(buf, "ex", 2) == 0);

    /* a re-attestation requested between two writes is appraised before the echo is read */
    CHECK_OK(atls_session_request(c, NULL, 0));
    CHECK(roundtrip(c, (const uint8_t *)"again", 5));
    CHECK(atls_session_appraisals(c) == 2);

    /* close: ours first (0), then the server's (1) */
    int r = atls_shutdown(c);
    CHECK(r == 0 && atls_get_error(c, r) == SSL_ERROR_NONE);
    r = atls_shutdown(c);
    CHECK(r == 1);
    CHECK(atls_read(c, buf, 1) == -1 && atls_session_last_error(c) == ATLS_ERR_USAGE_STATE);
    pthread_join(e.thread, NULL);
    CHECK(e.new_rc == ATLS_OK);
    CHECK(e.last_ret == 0 && e.last_ssl_error == SSL_ERROR_ZERO_RETURN &&
          e.last_error == ATLS_ERR_IO_CLOSED);
    CHECK(e.shutdown_ret == 1); /* the client's close_notify was already in */
    CHECK(e.write_after_shutdown == -1 && e.error_after_shutdown == SSL_ERROR_SSL);
    CHECK(e.bytes == 5 + 300 * 1024 + 2 + 5);
    CHECK(e.evidence_produced == 2);
    atls_session_free(c);
    atls_policy_free(policy);
    tls_pair_free(p);
}

static void test_mutual(void)
{
    tls_pair *p = NULL;
    atls_policy *policy = NULL;
    echo_server e;
    if (!open_pair(&p, &policy)) {
        return;
    }
    echo_start(&e, p);
    e.cfg.peer_must_attest = 1; /* the server's first atls_read asks the client */
    e.cfg.policy = policy;
    e.cfg.trust = F.store;
    e.reattest_after_first = 1; /* and asks again while the client blocks in atls_read */
    echo_run(&e);
    atls_session_config cc = client_config(&F, policy);
    cc.cert = F.client_leaf->cert;
    cc.key = F.client_leaf->key;
    cc.attester = F.sim;
    cc.attester_state = F.sim_state;
    cc.attester_lock = &sim_lock;
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(p->client, &cc, &c));
    CHECK(roundtrip(c, (const uint8_t *)"mutual", 6));
    char buf[8];
    /* blocked here while the server re-attests us; then the second echo comes */
    CHECK(atls_write(c, "2", 1) == 1);
    CHECK(atls_read(c, buf, 1) == 1 && buf[0] == '2');
    CHECK(atls_session_evidence_produced(c) == 2);
    CHECK(atls_shutdown(c) >= 0);
    pthread_join(e.thread, NULL);
    CHECK(e.new_rc == ATLS_OK && e.reattest_rc == ATLS_OK);
    CHECK(e.client_appraisals == 2);
    CHECK(e.last_ret == 0 && e.last_ssl_error == SSL_ERROR_ZERO_RETURN);
    atls_session_free(c);
    atls_policy_free(policy);
    tls_pair_free(p);
}

static void test_rate_limited_answers(void)
{
    tls_pair *p = NULL;
    atls_policy *policy = NULL;
    echo_server e;
    if (!open_pair(&p, &policy)) {
        return;
    }
    echo_start(&e, p);
    e.cfg.evidence_per_second = 2; /* one token every 500 ms, no burst */
    e.cfg.evidence_burst = 1;
    echo_run(&e);
    atls_session_config cc = client_config(&F, policy);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(p->client, &cc, &c));
    CHECK(roundtrip(c, (const uint8_t *)"r", 1));
    /* two more requests and no data: the server sits in atls_read; only its own deadline
     * can make it answer them (at about 500 and 1000 ms) */
    int64_t t0 = atls_test_now_ms();
    CHECK_OK(atls_session_request(c, NULL, 0));
    CHECK_OK(atls_session_request(c, NULL, 0));
    while (atls_session_appraisals(c) < 3 && atls_test_now_ms() - t0 < 5000) {
        struct pollfd pf = {.fd = atls_session_fd(c), .events = atls_session_poll_events(c)};
        (void)poll(&pf, 1, 100);
        if (atls_session_process(c) != ATLS_OK) {
            break;
        }
    }
    int64_t took = atls_test_now_ms() - t0;
    CHECK(atls_session_appraisals(c) == 3);
    CHECK(took >= 700 && took < 4000);
    CHECK(atls_shutdown(c) >= 0);
    pthread_join(e.thread, NULL);
    CHECK(e.evidence_produced == 3);
    atls_session_free(c);
    atls_policy_free(policy);
    tls_pair_free(p);
}

/* ---- refusals ------------------------------------------------------------------------------ */

/* first_only: a hostile server that answers the first request honestly and no other, and
 * counts the DATA frames it receives. */
struct first_only {
    int requests, data;
};

static atls_error on_first_only(server_run *run, uint8_t type, const uint8_t *payload,
                                size_t len)
{
    struct first_only *st = run->hostile_arg;
    if (type == ATLS_FRAME_DATA) {
        st->data++;
    } else if (type == ATLS_FRAME_REQUEST && ++st->requests == 1) {
        answer_spec honest = answer_spec_honest(&F, run);
        return hostile_answer(&F, run, payload, len, &honest);
    } else if (type == ATLS_FRAME_ERROR) {
        return ATLS_ERR_IO_CLOSED;
    }
    return ATLS_OK;
}

static void test_answer_deadline(void)
{
    tls_pair *p = NULL;
    atls_policy *policy = NULL;
    if (!open_pair(&p, &policy)) {
        return;
    }
    struct first_only st = {0};
    server_run run = {.pair = p, .hostile = on_first_only, .hostile_arg = &st};
    CHECK(server_start(&run) == 0);
    atls_session_config cc = client_config(&F, policy);
    cc.answer_timeout_ms = 300;
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(p->client, &cc, &c));
    CHECK(atls_write(c, "x", 1) == 1);
    CHECK(atls_session_appraisals(c) == 1);
    CHECK_OK(atls_session_request(c, NULL, 0));
    char buf[4];
    int64_t t0 = atls_test_now_ms();
    int n = atls_read(c, buf, (int)sizeof(buf)); /* no data, no answer: the deadline ends it */
    int64_t took = atls_test_now_ms() - t0;
    CHECK(n == -1 && atls_get_error(c, n) == SSL_ERROR_SSL);
    CHECK(atls_session_last_error(c) == ATLS_ERR_IO_TIMEOUT);
    CHECK(took >= 250 && took < 2000);
    atls_session_free(c);
    shutdown(p->client_fd, SHUT_RDWR);
    server_join(&run);
    CHECK(st.requests == 2 && st.data == 1);
    atls_policy_free(policy);
    tls_pair_free(p);
}

static atls_error on_silent(server_run *run, uint8_t type, const uint8_t *payload, size_t len)
{
    struct first_only *st = run->hostile_arg;
    (void)payload, (void)len;
    st->requests += type == ATLS_FRAME_REQUEST;
    st->data += type == ATLS_FRAME_DATA;
    return type == ATLS_FRAME_ERROR ? ATLS_ERR_IO_CLOSED : ATLS_OK;
}

static void test_first_answer_timeout(void)
{
    tls_pair *p = NULL;
    if (!open_pair(&p, NULL)) {
        return;
    }
    struct first_only st = {0};
    server_run run = {.pair = p, .hostile = on_silent, .hostile_arg = &st};
    CHECK(server_start(&run) == 0);
    atls_session_config cc = client_config(&F, NULL);
    cc.timeout_ms = 400;
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(p->client, &cc, &c));
    int64_t t0 = atls_test_now_ms();
    char buf[4];
    int n = atls_read(c, buf, (int)sizeof(buf));
    CHECK(n == -1 && atls_get_error(c, n) == SSL_ERROR_SSL &&
          atls_session_last_error(c) == ATLS_ERR_IO_TIMEOUT);
    CHECK(atls_test_now_ms() - t0 >= 350);
    atls_session_free(c);
    shutdown(p->client_fd, SHUT_RDWR);
    server_join(&run);
    CHECK(st.requests == 1 && st.data == 0);
    tls_pair_free(p);
}

static void test_wrong_policy(void)
{
    char doc[256];
    snprintf(doc, sizeof(doc), "{\"version\": 1, \"sim\": {\"keys\": [\"%064d\"], "
                               "\"any_measurements\": true}}", 0);
    atls_policy *wrong = fixture_policy(&F, doc);
    tls_pair *p = NULL;
    CHECK(wrong != NULL);
    if (wrong == NULL || !open_pair(&p, NULL)) {
        atls_policy_free(wrong);
        return;
    }
    struct first_only st = {0};
    server_run run = {.pair = p, .hostile = on_first_only, .hostile_arg = &st};
    CHECK(server_start(&run) == 0);
    atls_session_config cc = client_config(&F, wrong);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(p->client, &cc, &c));
    int n = atls_write(c, "secret", 6);
    CHECK(n == -1 && atls_get_error(c, n) == SSL_ERROR_SSL);
    CHECK(strcmp(atls_error_category(atls_session_last_error(c)), "policy") == 0);
    /* where an OpenSSL application looks too: the error queue */
    unsigned long e = ERR_peek_last_error();
    const char *data = NULL;
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    CHECK(ERR_GET_REASON(e) == (int)atls_session_last_error(c));
    CHECK(strstr(text, ":atls:") != NULL &&
          strstr(text, atls_strerror(atls_session_last_error(c))) != NULL);
    CHECK(ERR_peek_last_error_data(&data, NULL) == e && data != NULL &&
          strcmp(data, atls_error_message()) == 0);
    ERR_clear_error();
    CHECK(atls_session_peer_attested(c) == 0);
    /* and it stays refused */
    CHECK(atls_write(c, "secret", 6) == -1);
    char buf[4];
    CHECK(atls_read(c, buf, 4) == -1);
    atls_session_free(c);
    shutdown(p->client_fd, SHUT_RDWR);
    server_join(&run);
    CHECK(st.requests == 1 && st.data == 0); /* not one byte of "secret" */
    atls_policy_free(wrong);
    tls_pair_free(p);
}

static void test_peer_vanishes(void)
{
    tls_pair *p = NULL;
    atls_policy *policy = NULL;
    if (!open_pair(&p, &policy)) {
        return;
    }
    struct first_only st = {0};
    server_run run = {.pair = p, .hostile = on_first_only, .hostile_arg = &st};
    CHECK(server_start(&run) == 0);
    atls_session_config cc = client_config(&F, policy);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(p->client, &cc, &c));
    CHECK(atls_write(c, "x", 1) == 1);
    /* the server's socket goes away without close_notify */
    shutdown(p->server_fd, SHUT_RDWR);
    char buf[4];
    int n = atls_read(c, buf, (int)sizeof(buf));
    CHECK(n == -1 && atls_get_error(c, n) == SSL_ERROR_SYSCALL);
    atls_session_free(c);
    shutdown(p->client_fd, SHUT_RDWR);
    server_join(&run);
    atls_policy_free(policy);
    tls_pair_free(p);
}

int main(void)
{
    if (fixture_init(&F) != 0 || fixture_attester(&F, "sim") != 0 ||
        atls_fair_lock_init(&sim_lock) != ATLS_OK) {
        fprintf(stderr, "fixture: %s\n", atls_error_detail());
        return 1;
    }
    test_echo();
    test_mutual();
    test_rate_limited_answers();
    test_answer_deadline();
    test_first_answer_timeout();
    test_wrong_policy();
    test_peer_vanishes();
    fixture_cleanup(&F);
    atls_fair_lock_destroy(&sim_lock);
    return check_summary();
}
