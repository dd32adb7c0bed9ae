/* test_session: post-handshake attestation end to end over real TLS 1.3 connections, the server
 * attesting through the attester named by argv[1]: "sim", or "tpm2" on a private swtpm started
 * by the test. The honest path (both cipher suites), 100 re-attestations interleaved with data,
 * policy failures, no policy, mutual attestation and the session rules. The attacks are in
 * tests/attacks/. */
#include "session_fixture.h"

#include <atls/frame.h>

#include "base/result.h"
#include "check.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static fixture F;

static atls_policy *good_policy(void)
{
    return fixture_policy(&F, F.good_policy);
}

static atls_error client_read_exact(atls_session *s, uint8_t *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        size_t n = 0;
        ATLS_GUARD(atls_session_read(s, buf + got, want - got, &n));
        got += n;
        if (n == 0 && !atls_session_has_pending(s)) {
            struct pollfd p = {.fd = atls_session_fd(s), .events = atls_session_poll_events(s)};
            ATLS_ENSURE(poll(&p, 1, 10000) > 0, ATLS_ERR_IO_TIMEOUT, "echo timed out");
        }
    }
    return ATLS_OK;
}

/* honest: an echo server attesting with the attester under test, and a client session with the
 * good policy on the other end of a fresh TLS 1.3 pair. */
typedef struct honest {
    tls_pair *pair;
    atls_policy *policy;
    server_run run;
    atls_session *c;
} honest;

static int honest_open(honest *h, const char *suite)
{
    memset(h, 0, sizeof(*h));
    h->pair = fixture_pair(&F, suite);
    h->policy = good_policy();
    CHECK(h->pair != NULL && h->policy != NULL);
    if (h->pair == NULL || h->policy == NULL) {
        atls_policy_free(h->policy);
        tls_pair_free(h->pair);
        return -1;
    }
    h->run.pair = h->pair;
    server_config_attest(&F, &h->run);
    /* these tests re-attest back to back: the Evidence rate limit (test_session_semantics)
     * out of the way */
    h->run.cfg.evidence_per_second = 100000;
    h->run.cfg.evidence_burst = 100000;
    CHECK(server_start(&h->run) == 0);
    atls_session_config cc = client_config(&F, h->policy);
    CHECK_OK(atls_session_new(h->pair->client, &cc, &h->c));
    return h->c != NULL ? 0 : -1;
}

/* honest_close closes the client, waits for the server and checks it ended cleanly. */
static void honest_close(honest *h)
{
    if (h->c != NULL) {
        atls_session_close(h->c);
        atls_session_free(h->c);
    }
    shutdown(h->pair->client_fd, SHUT_RDWR);
    server_join(&h->run);
    CHECK_OK(h->run.result);
    atls_policy_free(h->policy);
    tls_pair_free(h->pair);
}

static void test_affirming(const char *suite)
{
    honest h;
    if (honest_open(&h, suite) != 0) {
        return;
    }
    atls_session *c = h.c;
    /* no application data before the first appraisal */
    CHECK_ERR(atls_session_write(c, (const uint8_t *)"x", 1), ATLS_ERR_PROTOCOL_SESSION);
    atls_appraisal a = {0};
    CHECK_OK(atls_session_attest(c, &a));
    CHECK(a.status == ATLS_TIER_AFFIRMING);
    json_t *sub = json_object_get(json_object_get(atls_appraisal_get0_ear_json(&a), "submods"), F.att->name);
    const char *st = json_string_value(json_object_get(sub, "ear_status"));
    CHECK(st != NULL && strcmp(st, "affirming") == 0);
    /* sim results always say so; real ones never do */
    CHECK(json_is_true(json_object_get(json_object_get(sub, "ear_attester_claims"), "sim")) ==
          (strcmp(F.att->name, "sim") == 0));
    const char *profile = json_string_value(json_object_get(atls_appraisal_get0_ear_json(&a), "eat_profile"));
    CHECK(profile != NULL && strcmp(profile, "tag:ietf.org,2026:rats/ear#04") == 0);
    atls_appraisal_cleanup(&a);
    CHECK(atls_session_peer_attested(c) == 1);

    uint8_t out[5];
    CHECK_OK(atls_session_write(c, (const uint8_t *)"hello", 5));
    CHECK_OK(client_read_exact(c, out, 5));
    CHECK(memcmp(out, "hello", 5) == 0);
    honest_close(&h);
}

/* 100 re-attestations on one connection, each fresh and bound, with DATA both ways between. */
static void test_reattest_100(void)
{
    honest h;
    if (honest_open(&h, NULL) != 0) {
        return;
    }
    atls_session *c = h.c;
    CHECK_OK(atls_session_attest(c, NULL));
    char last_nonce[200] = "";
    int fresh = 1, intact = 1;
    for (int i = 0; i < 100; i++) {
        uint8_t data[3000], back[3000];
        for (size_t k = 0; k < sizeof(data); k++) {
            data[k] = (uint8_t)(i * 31 + (int)k);
        }
        /* data goes out, then a REQUEST, so DATA and control frames interleave both ways */
        CHECK_OK(atls_session_write(c, data, sizeof(data)));
        atls_appraisal a = {0};
        atls_error rc = atls_session_attest(c, &a);
        if (rc != ATLS_OK) {
            CHECK_OK(rc);
            atls_appraisal_cleanup(&a);
            break;
        }
        const char *nonce = json_string_value(json_object_get(atls_appraisal_get0_ear_json(&a), "eat_nonce"));
        fresh &= nonce != NULL && strcmp(nonce, last_nonce) != 0;
        snprintf(last_nonce, sizeof(last_nonce), "%s", nonce ? nonce : "");
        atls_appraisal_cleanup(&a);
        CHECK_OK(client_read_exact(c, back, sizeof(back)));
        intact &= memcmp(data, back, sizeof(data)) == 0;
    }
    CHECK(fresh);
    CHECK(intact);
    CHECK(atls_session_appraisals(c) == 101);
    honest_close(&h);
}

/* 3 MB echoed back and read 100 bytes at a time: frames the application has not drained must
 * not pile up in the session (regression: the frame reader overflowed). */
static void test_small_reads(void)
{
    honest h;
    if (honest_open(&h, NULL) != 0) {
        return;
    }
    atls_session *c = h.c;
    CHECK_OK(atls_session_attest(c, NULL));
    const size_t total = 3u * 1024u * 1024u;
    uint8_t *data = malloc(total);
    CHECK(data != NULL);
    for (size_t i = 0; data != NULL && i < total; i++) {
        data[i] = (uint8_t)(i * 7 + i / 251);
    }
    /* send everything first (the echo piles up in the server's queue and the socket), then
     * read back in small pieces while more is always available on the socket */
    atls_error rc = ATLS_OK;
    for (size_t sent = 0; data != NULL && sent < total && rc == ATLS_OK;) {
        size_t n = total - sent < 64 * 1024 ? total - sent : 64 * 1024;
        rc = atls_session_write(c, data + sent, n);
        sent += n;
    }
    for (int i = 0; rc == ATLS_OK && atls_session_queued(c) > 0 && i < 100000; i++) {
        rc = atls_session_flush(c);
        struct pollfd p = {.fd = atls_session_fd(c), .events = POLLOUT};
        (void)poll(&p, 1, 10);
    }
    size_t got = 0;
    int intact = 1;
    time_t deadline = time(NULL) + 60;
    while (data != NULL && got < total && rc == ATLS_OK && time(NULL) < deadline) {
        uint8_t small[100];
        size_t n = 0;
        rc = atls_session_read(c, small, sizeof(small), &n);
        intact &= n == 0 || memcmp(small, data + got, n) == 0;
        got += n;
        if (n == 0 && rc == ATLS_OK && !atls_session_has_pending(c)) {
            struct pollfd p = {.fd = atls_session_fd(c), .events = atls_session_poll_events(c)};
            (void)poll(&p, 1, 100);
        }
    }
    CHECK_OK(rc);
    CHECK(got == total && intact);
    free(data);
    honest_close(&h);
}

static void test_policy_failures(void)
{
    const char *texts[3] = {F.mismatch_policy, F.untrusted_policy, F.other_type_policy};
    const atls_error want[3] = {ATLS_ERR_POLICY_MISMATCH, ATLS_ERR_POLICY_UNTRUSTED_KEY,
                                ATLS_ERR_POLICY};
    for (int i = 0; i < 3; i++) {
        atls_policy *policy = fixture_policy(&F, texts[i]);
        CHECK(policy != NULL);
        if (policy == NULL) {
            continue;
        }
        tls_pair *pair = fixture_pair(&F, NULL);
        server_run run = {.pair = pair};
        server_config_attest(&F, &run);
        atls_appraisal a = {0};
        CHECK_ERR(attest_once(&F, &run, policy, NULL, &a), want[i]);
        CHECK(a.status == ATLS_TIER_CONTRAINDICATED);
        json_t *sub = json_object_get(json_object_get(atls_appraisal_get0_ear_json(&a), "submods"), F.att->name);
        const char *st = json_string_value(json_object_get(sub, "ear_status"));
        CHECK(st != NULL && strcmp(st, "contraindicated") == 0);
        CHECK(json_string_value(json_object_get(json_object_get(sub, "ear_verifier_claims"), "failure")) != NULL);
        atls_appraisal_cleanup(&a);
        atls_policy_free(policy);
        tls_pair_free(pair);
    }
}

static void test_no_policy(void)
{
    for (int accept = 0; accept <= 1; accept++) {
        tls_pair *pair = fixture_pair(&F, NULL);
        server_run run = {.pair = pair};
        server_config_attest(&F, &run);
        atls_session_config cc = client_config(&F, NULL);
        cc.accept_warning = accept;
        atls_appraisal a = {0};
        atls_error rc = attest_once(&F, &run, NULL, &cc, &a);
        CHECK(a.status == ATLS_TIER_WARNING);
        if (accept) {
            CHECK_OK(rc);
        } else {
            CHECK_ERR(rc, ATLS_ERR_POLICY);
        }
        atls_appraisal_cleanup(&a);
        tls_pair_free(pair);
    }
}

static void test_mutual(void)
{
    tls_pair *pair = fixture_pair(&F, NULL);
    atls_policy *policy = good_policy();              /* the client appraises the server */
    atls_policy *sim_policy = fixture_sim_policy(&F); /* the server appraises the client */
    CHECK(pair != NULL && policy != NULL && sim_policy != NULL);
    server_run run = {.pair = pair};
    server_config_attest(&F, &run);
    run.cfg.peer_must_attest = 1;
    run.cfg.policy = sim_policy;
    run.cfg.trust = F.store;
    run.request_client_first = 1;
    CHECK(server_start(&run) == 0);

    /* the client attests with sim whatever the server uses */
    atls_session_config cc = client_config(&F, policy);
    cc.cert = F.client_leaf->cert;
    cc.key = F.client_leaf->key;
    cc.attester = F.sim;
    cc.attester_state = F.sim_state;
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(pair->client, &cc, &c));
    CHECK_OK(atls_session_attest(c, NULL));
    uint8_t back[4];
    CHECK_OK(atls_session_write(c, (const uint8_t *)"ping", 4));
    CHECK_OK(client_read_exact(c, back, 4));
    CHECK(memcmp(back, "ping", 4) == 0);
    atls_session_close(c);
    atls_session_free(c);
    server_join(&run);
    CHECK_OK(run.client_appraisal);
    CHECK_OK(run.result);

    /* a client that cannot attest is refused by a server that requires it */
    tls_pair *pair2 = fixture_pair(&F, NULL);
    server_run run2 = {.pair = pair2};
    server_config_attest(&F, &run2);
    run2.cfg.peer_must_attest = 1;
    run2.cfg.policy = sim_policy;
    run2.cfg.trust = F.store;
    run2.request_client_first = 1;
    CHECK(server_start(&run2) == 0);
    atls_session_config cc2 = client_config(&F, policy);
    atls_session *c2 = NULL;
    CHECK_OK(atls_session_new(pair2->client, &cc2, &c2));
    /* the client's own appraisal may succeed first (the server answers its REQUEST before it
     * sees the refusal); either way the server then closes with an ERROR frame */
    atls_error rc = atls_session_attest(c2, NULL);
    uint8_t buf[16];
    for (int i = 0; rc == ATLS_OK && i < 1000; i++) {
        size_t n = 0;
        rc = atls_session_read(c2, buf, sizeof(buf), &n);
        if (rc == ATLS_OK && !atls_session_has_pending(c2)) {
            struct pollfd p = {.fd = atls_session_fd(c2), .events = POLLIN};
            (void)poll(&p, 1, 100);
        }
    }
    CHECK_ERR(rc, ATLS_ERR_PROTOCOL_PEER_ERROR);
    atls_session_free(c2);
    shutdown(pair2->client_fd, SHUT_RDWR);
    server_join(&run2);
    CHECK_ERR(run2.client_appraisal, ATLS_ERR_PROTOCOL_REFUSED);
    tls_pair_free(pair2);
    atls_policy_free(sim_policy);
    atls_policy_free(policy);
    tls_pair_free(pair);
}

static void test_session_rules(void)
{
    /* without ALPN atls/1 there is no attested session */
    tls_pair_options o = {0};
    o.server_cert = F.leaf->cert;
    o.server_key = F.leaf->key;
    tls_pair *plain = NULL;
    CHECK_OK(tls_pair_new(&o, &plain));
    atls_session_config cc = client_config(&F, NULL);
    atls_session *s = NULL;
    CHECK_ERR(atls_session_new(plain->client, &cc, &s), ATLS_ERR_PROTOCOL_SESSION);
    tls_pair_free(plain);

    /* atls_ssl_ctx_configure: TLS 1.3 only, no tickets, no early data */
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    CHECK_OK(atls_ssl_ctx_configure(ctx, 1, 0));
    CHECK(SSL_CTX_get_min_proto_version(ctx) == TLS1_3_VERSION);
    CHECK(SSL_CTX_get_max_proto_version(ctx) == TLS1_3_VERSION);
    CHECK(SSL_CTX_get_num_tickets(ctx) == 0);
    CHECK((SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET) != 0);
    CHECK(SSL_CTX_get_max_early_data(ctx) == 0);
    SSL_CTX_free(ctx);
    ctx = SSL_CTX_new(TLS_client_method());
    CHECK_OK(atls_ssl_ctx_configure(ctx, 0, 1));
    /* the client hands every ticket to atls, which discards it (test_session_semantics) */
    CHECK(SSL_CTX_get_session_cache_mode(ctx) ==
          (SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL));
    CHECK(SSL_CTX_sess_get_new_cb(ctx) != NULL);
    SSL_CTX_free(ctx);
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "sim";
    if (fixture_init(&F) != 0) {
        fprintf(stderr, "fixture: %s\n", atls_error_detail());
        return 1;
    }
    int rc = fixture_attester(&F, kind);
    if (rc != 0) {
        fixture_cleanup(&F);
        if (rc == 77) {
            TEST_SKIP("swtpm is not installed");
        }
        fprintf(stderr, "cannot set up the %s attester\n", kind);
        return 1;
    }
    if (fixture_make_policies(&F) != 0) {
        fixture_cleanup(&F);
        return 1;
    }
    test_affirming("TLS_AES_128_GCM_SHA256");
    test_affirming("TLS_AES_256_GCM_SHA384");
    test_reattest_100();
    test_small_reads();
    test_policy_failures();
    test_no_policy();
    test_mutual();
    test_session_rules();
    fixture_cleanup(&F);
    return check_summary();
}
