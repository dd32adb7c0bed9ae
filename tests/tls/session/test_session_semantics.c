/* test_session_semantics: what a session does on its own, over real TLS 1.3 connections with
 * the sim attester and hand-written peers:
 *   - an unanswered request fails the session when its answer is late (ERROR frame, not
 *     attested) without the application polling anything but the session's own timeout;
 *   - atls_session_attest returns the appraisal of the request it sent, never an older one;
 *   - a client discards NewSessionTickets: offering what it kept resumes nothing;
 *   - an SSL_read that must write (a KeyUpdate answer while the socket is full) asks for
 *     POLLOUT;
 *   - a server set to attest only after its client's appraisal answers no Evidence request
 *     before, and sends no DATA before the client's appraisal;
 *   - Evidence is produced at the configured rate, answers wait their turn;
 *   - the fair lock serves waiters in arrival order;
 *   - an attester whose produce_cmw builds a CMW collection (atls_evidence_parts) sends it: its
 *     Evidence is appraised and its Endorsements are read (an unknown one fails the
 *     appraisal, naming it); a collection over the cmw_data limit is not sent, and the error
 *     names every member's size. */
#include "session_fixture.h"

#include <atls/binding.h>

#include "base/result.h"
#include "check.h"
#include "appraisal/appraise/appraisal_internal.h"
#include "evidence/core/plugin.h"

#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static fixture F;

/* ---- the answer deadline ------------------------------------------------------------------- */

struct silent {
    int requests;
    int error_code;
};

static atls_error on_silent(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    struct silent *st = run->hostile_arg;
    if (type == ATLS_FRAME_REQUEST) {
        st->requests++; /* and never answer */
    } else if (type == ATLS_FRAME_ERROR) {
        uint16_t code = 0;
        char reason[ATLS_FRAME_ERROR_REASON_MAX + 1];
        if (atls_frame_parse_error(p, len, &code, reason, sizeof(reason)) == ATLS_OK) {
            st->error_code = code;
        }
        return ATLS_ERR_IO_CLOSED;
    }
    return ATLS_OK;
}

static void test_answer_timeout(void)
{
    tls_pair *p = fixture_pair(&F, NULL);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    struct silent st = {0};
    server_run run = {.pair = p, .hostile = on_silent, .hostile_arg = &st};
    CHECK(server_start(&run) == 0);
    atls_session_config cc = client_config(&F, NULL);
    cc.answer_timeout_ms = 300;
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(p->client, &cc, &c));
    if (c != NULL) {
        CHECK(atls_session_timeout_ms(c) == -1); /* nothing to wait for yet */
        int64_t t0 = atls_test_now_ms();
        CHECK_OK(atls_session_request(c, NULL, 0));
        int t = atls_session_timeout_ms(c);
        CHECK(t > 0 && t <= 300);
        atls_error rc = ATLS_OK;
        /* the application's loop: poll for the session's events, up to its timeout */
        while (rc == ATLS_OK && atls_test_now_ms() - t0 < 5000) {
            struct pollfd pf = {.fd = atls_session_fd(c), .events = atls_session_poll_events(c)};
            (void)poll(&pf, 1, atls_session_timeout_ms(c));
            rc = atls_session_process(c);
        }
        int64_t took = atls_test_now_ms() - t0;
        CHECK_ERR(rc, ATLS_ERR_IO_TIMEOUT);
        CHECK(strstr(atls_error_message(), "within 300 ms") != NULL);
        CHECK(took >= 300 && took < 1500);
        CHECK(atls_session_peer_attested(c) == 0);
        const atls_appraisal *a = atls_session_last_appraisal(c);
        CHECK(a != NULL && a->error == ATLS_ERR_IO_TIMEOUT &&
              a->status == ATLS_TIER_CONTRAINDICATED);
        CHECK(atls_session_timeout_ms(c) == -1);
        atls_session_free(c);
    }
    shutdown(p->client_fd, SHUT_RDWR);
    server_join(&run);
    CHECK(st.requests == 1);
    CHECK(st.error_code == ATLS_ERR_IO_TIMEOUT); /* the server was told */
    tls_pair_free(p);
}

/* ---- attest returns its own appraisal ------------------------------------------------------ */

struct order {
    uint8_t *first;    /* the first request, held */
    size_t first_len;
    int requests;
    int bad_second;    /* answer the second one with Evidence bound to another key */
};

static atls_error on_order(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    struct order *o = run->hostile_arg;
    if (type != ATLS_FRAME_REQUEST) {
        return ATLS_OK;
    }
    if (++o->requests == 1) {
        o->first = malloc(len);
        if (o->first != NULL) {
            memcpy(o->first, p, len);
            o->first_len = len;
        }
        return ATLS_OK; /* held until the second arrives */
    }
    /* the older request is answered first (genuinely), then the newer one */
    answer_spec honest = answer_spec_honest(&F, run);
    ATLS_GUARD(hostile_answer(&F, run, o->first, o->first_len, &honest));
    answer_spec second = answer_spec_honest(&F, run);
    if (o->bad_second) {
        second.bind_leaf = F.client_leaf->cert;
    }
    return hostile_answer(&F, run, p, len, &second);
}

static void test_attest_own_result(void)
{
    for (int bad = 1; bad >= 0; bad--) {
        tls_pair *p = fixture_pair(&F, NULL);
        atls_policy *policy = fixture_policy(&F, F.good_policy);
        CHECK(p != NULL && policy != NULL);
        if (p == NULL || policy == NULL) {
            atls_policy_free(policy);
            tls_pair_free(p);
            return;
        }
        struct order o = {.bad_second = bad};
        server_run run = {.pair = p, .hostile = on_order, .hostile_arg = &o};
        CHECK(server_start(&run) == 0);
        atls_session_config cc = client_config(&F, policy);
        atls_session *c = NULL;
        CHECK_OK(atls_session_new(p->client, &cc, &c));
        if (c != NULL) {
            CHECK_OK(atls_session_request(c, NULL, 0)); /* an earlier request of the app */
            atls_appraisal a;
            memset(&a, 0, sizeof(a));
            atls_error rc = atls_session_attest(c, &a);
            if (bad) {
                /* the earlier request's success is not this call's result */
                CHECK_ERR(rc, ATLS_ERR_EVIDENCE_NONCE);
                CHECK(a.error == ATLS_ERR_EVIDENCE_NONCE);
                CHECK(atls_session_appraisals(c) == 1);
            } else {
                CHECK_OK(rc);
                CHECK(a.status == ATLS_TIER_AFFIRMING && atls_session_appraisals(c) == 2);
            }
            atls_appraisal_cleanup(&a);
            atls_session_close(c);
            atls_session_free(c);
        }
        shutdown(p->client_fd, SHUT_RDWR);
        server_join(&run);
        CHECK(o.requests == 2);
        free(o.first);
        atls_policy_free(policy);
        tls_pair_free(p);
    }
}

/* ---- NewSessionTickets --------------------------------------------------------------------- */

static void configure_client(SSL_CTX *ctx)
{
    CHECK_OK(atls_ssl_ctx_configure(ctx, 0, 0));
}

/* resumed: whether a second connection resumes with what the client kept from the first */
static int resumed(int atls_client)
{
    tls_pair_options o = {0};
    o.server_cert = F.leaf->cert;
    o.server_key = F.leaf->key;
    o.num_tickets = 2; /* a misconfigured server: atls_ssl_ctx_configure would send none */
    o.client_ctx_setup = atls_client ? configure_client : NULL;
    tls_pair *first = NULL;
    CHECK_OK(tls_pair_new(&o, &first));
    if (first == NULL) {
        return -1;
    }
    uint8_t byte = 'x', back = 0;
    CHECK_OK(tls_pair_transfer(first, 0, &byte, 1, &back)); /* the client reads the tickets */
    SSL_SESSION *sess = SSL_get1_session(first->client);
    CHECK(sess != NULL);
    if (atls_client) {
        CHECK(sess != NULL && SSL_SESSION_get_max_early_data(sess) == 0);
    }
    o.server_ctx = first->server_ctx;
    o.resume = sess;
    tls_pair *second = NULL;
    CHECK_OK(tls_pair_new(&o, &second));
    int r = second != NULL ? SSL_session_reused(second->client) : -1;
    tls_pair_free(second);
    SSL_SESSION_free(sess);
    tls_pair_free(first);
    return r;
}

static void test_tickets_discarded(void)
{
    CHECK(resumed(0) == 1); /* control: a plain client resumes from the ticket */
    CHECK(resumed(1) == 0); /* an atls client kept nothing it could resume */
}

/* ---- SSL_read that wants to write ---------------------------------------------------------- */

static void enable_pha(SSL_CTX *ctx)
{
    SSL_CTX_set_post_handshake_auth(ctx, 1);
}

/* An SSL_read that must write and cannot returns WANT_WRITE. OpenSSL 3.0 answers a
 * KeyUpdate(update_requested) with its next write (test_keyupdate_queue_full), but it answers
 * a post-handshake CertificateRequest inside SSL_read: that is the case here. The socket is
 * full, the session's own queue empty: it must ask for POLLOUT, or a poll loop waits for input
 * that never comes. */
static void test_read_wants_write(void)
{
    tls_pair_options o = {0};
    o.server_cert = F.leaf->cert;
    o.server_key = F.leaf->key;
    o.alpn = (const unsigned char *)ATLS_ALPN_WIRE;
    o.alpn_len = ATLS_ALPN_WIRE_LEN;
    o.client_trust = F.store;
    o.client_ctx_setup = enable_pha;
    tls_pair *p = NULL;
    CHECK_OK(tls_pair_new(&o, &p));
    if (p == NULL) {
        return;
    }
    atls_session_config cc = client_config(&F, NULL);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(p->client, &cc, &c));
    if (c == NULL) {
        tls_pair_free(p);
        return;
    }
    /* the client's send buffer is full (the peer does not read; bytes it will never parse) */
    static uint8_t junk[4096];
    size_t filled = 0;
    while (send(p->client_fd, junk, sizeof(junk), MSG_DONTWAIT) > 0) {
        filled += sizeof(junk);
    }
    CHECK(filled > 0);
    SSL_set_verify(p->server, SSL_VERIFY_PEER, NULL);
    CHECK(SSL_verify_client_post_handshake(p->server) == 1);
    CHECK_OK(raw_send_frame(p->server, ATLS_FRAME_DATA, (const uint8_t *)"x", 1));
    CHECK((atls_session_poll_events(c) & POLLOUT) == 0);
    CHECK_OK(atls_session_process(c));
    CHECK(atls_session_queued(c) == 0);
    CHECK((atls_session_poll_events(c) & POLLOUT) != 0);
    /* the peer reads; TLS writes what it had to and POLLOUT is no longer asked for */
    uint8_t sink[65536];
    while (recv(p->server_fd, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
    }
    CHECK_OK(atls_session_process(c));
    CHECK((atls_session_poll_events(c) & POLLOUT) == 0);
    atls_session_free(c);
    tls_pair_free(p);
}

/* A peer sends KeyUpdate(update_requested) while our queue is full: nothing stalls, the queued
 * DATA and our KeyUpdate go out as the peer reads, and the peer reads every byte. */
static void test_keyupdate_queue_full(void)
{
    tls_pair *p = fixture_pair(&F, NULL);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    atls_session_config sc;
    memset(&sc, 0, sizeof(sc)); /* a server whose client need not attest: DATA flows at once */
    atls_session *s = NULL;
    CHECK_OK(atls_session_new(p->server, &sc, &s));
    if (s == NULL) {
        tls_pair_free(p);
        return;
    }
    static uint8_t data[16000];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 13);
    }
    size_t sent = 0;
    while (atls_session_queued(s) == 0 && sent < 64u * 1024u * 1024u) {
        CHECK_OK(atls_session_write(s, data, sizeof(data)));
        sent += sizeof(data);
    }
    CHECK(atls_session_queued(s) > 0); /* the socket is full, so is our queue */
    CHECK(SSL_key_update(p->client, SSL_KEY_UPDATE_REQUESTED) == 1);
    CHECK_OK(raw_send_frame(p->client, ATLS_FRAME_DATA, (const uint8_t *)"k", 1));
    CHECK_OK(atls_session_process(s));
    CHECK((atls_session_poll_events(s) & POLLOUT) != 0);
    /* the peer reads everything while the session flushes */
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    size_t got = 0;
    int intact = 1;
    while (got < sent) {
        uint8_t type;
        const uint8_t *pl;
        size_t len;
        CHECK_OK(atls_session_flush(s));
        if (raw_next_frame(p->client, &r, 3000, &type, &pl, &len) != ATLS_OK) {
            break;
        }
        if (type == ATLS_FRAME_DATA) {
            intact &= len == sizeof(data) && memcmp(pl, data, len) == 0;
            got += len;
        }
    }
    atls_frame_reader_cleanup(&r);
    CHECK(got == sent && intact);
    CHECK(atls_session_queued(s) == 0);
    atls_session_free(s);
    tls_pair_free(p);
}

/* ---- a server that attests only after its client's appraisal ----------------------------- */

/* client_answer: the hand-written client answers the server's request |req_msg| with genuine
 * sim Evidence bound to its own end and direction */
static atls_error client_answer(tls_pair *p, const uint8_t *req_msg, size_t len)
{
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_parse(req_msg, len, &req));
    size_t ctx_len = 0;
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    uint8_t *spki = NULL, *ev = NULL, *ext = NULL, *auth = NULL;
    size_t spki_len = 0, ev_len = 0, ext_len = 0, auth_len = 0;
    atls_binding b;
    atls_error rc = atls_spki_der(F.client_leaf->cert, &spki, &spki_len);
    if (rc == ATLS_OK) {
        rc = atls_binding_compute(p->client, ATLS_BINDING_CLIENT_ATTESTS, ctx, ctx_len, spki,
                                  spki_len, &b);
    }
    if (rc == ATLS_OK) {
        rc = F.sim->produce(F.sim_state, b.challenge, &ev, &ev_len);
    }
    if (rc == ATLS_OK) {
        rc = evidence_extension(F.sim->media_type, ev, ev_len, &ext, &ext_len);
    }
    if (rc == ATLS_OK) {
        /* evidence_extension writes type || u16 len || data; atls_ea_authenticate takes data */
        atls_ea_extension e = {.type = ATLS_EXT_CMW_ATTESTATION, .data = ext + 4,
                               .len = ext_len - 4};
        rc = atls_ea_authenticate(p->client, req, F.client_leaf->cert, NULL, F.client_leaf->key,
                                  &e, 1, &auth, &auth_len);
    }
    if (rc == ATLS_OK) {
        rc = raw_send_frame(p->client, ATLS_FRAME_AUTHENTICATOR, auth, auth_len);
    }
    atls_ea_request_free(req);
    free(spki), free(ev), free(ext), free(auth);
    return rc;
}

/* run_after: a hand-written client asks first; returns whether the server's answer came
 * before the client attested (-1 on error) */
static int answered_before_client_attested(int attest_after, atls_policy *sim_policy)
{
    tls_pair *p = fixture_pair(&F, NULL);
    if (p == NULL) {
        return -1;
    }
    server_run run = {.pair = p};
    server_config_attest(&F, &run);
    run.cfg.peer_must_attest = 1;
    run.cfg.trust = F.store;
    run.cfg.policy = sim_policy;
    run.cfg.attest_after_peer_appraisal = attest_after;
    run.request_client_first = 1;
    CHECK(server_start(&run) == 0);
    uint8_t prefix[16], *req = NULL;
    size_t req_len = 0;
    CHECK(RAND_bytes(prefix, sizeof(prefix)) == 1);
    CHECK_OK(make_atls_request(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, prefix, 1, &req,
                               &req_len));
    CHECK_OK(raw_send_frame(p->client, ATLS_FRAME_REQUEST, req, req_len));
    free(req);
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    int early = 0, answered = 0, saw_request = 0;
    uint8_t *server_req = NULL;
    size_t server_req_len = 0;
    /* 400 ms: the server's own request comes, and (unless held) its answer */
    int64_t until = atls_test_now_ms() + 400;
    for (;;) {
        int64_t left = until - atls_test_now_ms();
        uint8_t type;
        const uint8_t *pl;
        size_t len;
        if (left <= 0 || raw_next_frame(p->client, &r, (int)left, &type, &pl, &len) != ATLS_OK) {
            break;
        }
        if (type == ATLS_FRAME_REQUEST && server_req == NULL) {
            saw_request = 1;
            server_req = malloc(len);
            if (server_req != NULL) {
                memcpy(server_req, pl, len);
                server_req_len = len;
            }
        } else if (type == ATLS_FRAME_AUTHENTICATOR) {
            early = 1;
        }
    }
    CHECK(saw_request);
    if (server_req != NULL) {
        CHECK_OK(client_answer(p, server_req, server_req_len));
    }
    /* once the client is appraised, the answer comes (if it has not yet) */
    uint8_t type;
    const uint8_t *pl;
    size_t len;
    while (!early && raw_next_frame(p->client, &r, 3000, &type, &pl, &len) == ATLS_OK) {
        if (type == ATLS_FRAME_AUTHENTICATOR) {
            answered = 1;
            break;
        }
    }
    CHECK(early || answered);
    /* DATA goes both ways only now: the echo proves the server finished appraising us */
    CHECK_OK(raw_send_frame(p->client, ATLS_FRAME_DATA, (const uint8_t *)"ping", 4));
    int echoed = 0;
    while (!echoed && raw_next_frame(p->client, &r, 3000, &type, &pl, &len) == ATLS_OK) {
        echoed = type == ATLS_FRAME_DATA && len == 4 && memcmp(pl, "ping", 4) == 0;
    }
    CHECK(echoed);
    free(server_req);
    atls_frame_reader_cleanup(&r);
    shutdown(p->client_fd, SHUT_RDWR);
    server_join(&run);
    CHECK_OK(run.client_appraisal);
    tls_pair_free(p);
    return early;
}

static void test_attest_after_peer_appraisal(void)
{
    atls_policy *sim_policy = fixture_sim_policy(&F);
    CHECK(sim_policy != NULL);
    if (sim_policy == NULL) {
        return;
    }
    CHECK(answered_before_client_attested(0, sim_policy) == 1); /* control: answered at once */
    CHECK(answered_before_client_attested(1, sim_policy) == 0); /* held until appraised */
    atls_policy_free(sim_policy);
    /* and no DATA from a server before its client's appraisal */
    tls_pair *p = fixture_pair(&F, NULL);
    if (p != NULL) {
        atls_session_config c;
        memset(&c, 0, sizeof(c));
        c.peer_must_attest = 1;
        c.trust = F.store;
        atls_session *s = NULL;
        CHECK_OK(atls_session_new(p->server, &c, &s));
        if (s != NULL) {
            CHECK_ERR(atls_session_write(s, (const uint8_t *)"x", 1), ATLS_ERR_PROTOCOL_SESSION);
            atls_session_free(s);
        }
    }
    tls_pair_free(p);
}

/* ---- the Evidence rate --------------------------------------------------------------------- */

static void test_rate_limit(void)
{
    tls_pair *p = fixture_pair(&F, NULL);
    if (p == NULL) {
        CHECK_FAIL("pair");
        return;
    }
    server_run run = {.pair = p};
    server_config_attest(&F, &run);
    run.cfg.evidence_per_second = 5;
    run.cfg.evidence_burst = 2;
    CHECK(server_start(&run) == 0);
    uint8_t prefix[16];
    CHECK(RAND_bytes(prefix, sizeof(prefix)) == 1);
    int64_t t0 = atls_test_now_ms();
    for (uint64_t i = 1; i <= 6; i++) {
        uint8_t *req = NULL;
        size_t len = 0;
        CHECK_OK(make_atls_request(p->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, prefix, i, &req,
                                   &len));
        CHECK_OK(raw_send_frame(p->client, ATLS_FRAME_REQUEST, req, len));
        free(req);
    }
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    int64_t at[6] = {0};
    int n = 0;
    while (n < 6) {
        uint8_t type;
        const uint8_t *pl;
        size_t len;
        if (raw_next_frame(p->client, &r, 3000, &type, &pl, &len) != ATLS_OK) {
            break;
        }
        if (type == ATLS_FRAME_AUTHENTICATOR) {
            at[n++] = atls_test_now_ms() - t0;
        }
    }
    atls_frame_reader_cleanup(&r);
    CHECK(n == 6);
    printf("answers at %lld %lld %lld %lld %lld %lld ms (burst 2, 5 a second)\n",
           (long long)at[0], (long long)at[1], (long long)at[2], (long long)at[3],
           (long long)at[4], (long long)at[5]);
    CHECK(at[1] < 150);              /* the burst at once */
    CHECK(at[5] >= 800 - 50);        /* then 200 ms apart: 4 more take 800 ms */
    CHECK(at[5] < 800 + 1500);
    shutdown(p->client_fd, SHUT_RDWR);
    server_join(&run);
    CHECK(run.evidence_produced == 6);
    tls_pair_free(p);
}

/* ---- the fair lock ------------------------------------------------------------------------- */

struct waiter {
    atls_fair_lock *lock;
    int id;
    int *order;
    int *next;
    int again;   /* take the lock a second time right after releasing it */
};

static void *take(void *arg)
{
    struct waiter *w = arg;
    for (int round = 0; round <= w->again; round++) {
        atls_fair_lock_acquire(w->lock);
        w->order[(*w->next)++] = w->id;
        atls_fair_lock_release(w->lock);
    }
    return NULL;
}

static uint64_t tickets(atls_fair_lock *l)
{
    pthread_mutex_lock(&l->mutex);
    uint64_t t = l->next_ticket;
    pthread_mutex_unlock(&l->mutex);
    return t;
}

static void wait_tickets(atls_fair_lock *l, uint64_t n)
{
    for (int i = 0; i < 2000 && tickets(l) < n; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static void test_fair_lock(void)
{
    atls_fair_lock lock;
    CHECK_OK(atls_fair_lock_init(&lock));
    int order[8] = {0}, next = 0;
    /* A waits first and wants the lock twice in a row, B waits second: A, B, A (a plain mutex
     * may give A both turns while B waits) */
    struct waiter a = {&lock, 1, order, &next, 1}, b = {&lock, 2, order, &next, 0};
    atls_fair_lock_acquire(&lock);
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, take, &a) == 0);
    wait_tickets(&lock, 2);
    CHECK(pthread_create(&tb, NULL, take, &b) == 0);
    wait_tickets(&lock, 3);
    atls_fair_lock_release(&lock);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(next == 3 && order[0] == 1 && order[1] == 2 && order[2] == 1);
    atls_fair_lock_destroy(&lock);
}

/* ---- CMW collections from an attester with produce_cmw -------------------------------------- */

struct coll_state {
    int mode; /* 0: Evidence + a stapled certificate, 1: + an unknown Endorsement, 2: too big */
};

static atls_error coll_parts(const struct coll_state *st, const uint8_t *challenge,
                             atls_evidence_parts *out)
{
    uint8_t *ev = NULL;
    size_t len = 0;
    ATLS_GUARD(F.att->produce(F.att_state, challenge, &ev, &len));
    ATLS_GUARD(atls_evidence_parts_add_owned(out, "sim", F.att->media_type, ev, len,
                                             ATLS_IND_EVIDENCE));
    unsigned char *der = NULL;
    int n = i2d_X509(F.ca->cert, &der);
    ATLS_ENSURE(n > 0, ATLS_ERR_INTERNAL, "i2d_X509");
    atls_error rc = atls_evidence_parts_add(out, "ca", ATLS_MEDIA_PKIX_CERT, der, (size_t)n,
                                            ATLS_IND_ENDORSEMENTS);
    OPENSSL_free(der);
    ATLS_GUARD(rc);
    if (st->mode == 1) {
        ATLS_GUARD(atls_evidence_parts_add(out, "mystery", "application/x-mystery",
                                           (const uint8_t *)"?", 1, ATLS_IND_ENDORSEMENTS));
    } else if (st->mode == 2) {
        uint8_t *big = calloc(1, 70000);
        ATLS_ENSURE(big != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        ATLS_GUARD(atls_evidence_parts_add_owned(out, "huge", "application/x-huge", big, 70000,
                                                 ATLS_IND_ENDORSEMENTS));
    }
    return ATLS_OK;
}

static atls_error coll_produce_cmw(void *state, void *conn, const uint8_t *challenge, size_t max,
                                   uint8_t **out, size_t *out_len)
{
    (void)conn;
    atls_evidence_parts parts;
    memset(&parts, 0, sizeof(parts));
    atls_error rc = coll_parts(state, challenge, &parts);
    if (rc == ATLS_OK) {
        rc = atls_evidence_parts_encode(&parts, max, "attester coll", out, out_len);
    }
    atls_evidence_parts_cleanup(&parts);
    return rc;
}

static void test_collection(void)
{
    atls_policy *sim_policy = fixture_sim_policy(&F);
    CHECK(sim_policy != NULL);
    atls_attester_ops coll = *F.att;
    coll.name = "coll";
    coll.conn_new = NULL;
    coll.conn_free = NULL;
    coll.produce_cmw = coll_produce_cmw;
    for (int mode = 0; mode < 3 && sim_policy != NULL; mode++) {
        struct coll_state st = {mode};
        server_run run;
        memset(&run, 0, sizeof(run));
        run.pair = fixture_pair(&F, NULL);
        CHECK(run.pair != NULL);
        if (run.pair == NULL) {
            break;
        }
        server_config_attest(&F, &run);
        run.cfg.attester = &coll;
        run.cfg.attester_state = &st;
        atls_appraisal a;
        memset(&a, 0, sizeof(a));
        atls_error rc = attest_once(&F, &run, sim_policy, NULL, &a);
        if (mode == 0) {
            CHECK_OK(rc);
            CHECK(a.status == ATLS_TIER_AFFIRMING && a.num_results == 1 &&
                  json_object_size(json_object_get(atls_appraisal_get0_ear_json(&a), "submods")) == 1);
        } else if (mode == 1) {
            CHECK_ERR(rc, ATLS_ERR_EVIDENCE_FORMAT);
            CHECK(strstr(a.reason, "\"mystery\"") != NULL);
        } else {
            /* the server does not send it; its error names each member and its size */
            CHECK(rc != ATLS_OK && a.status != ATLS_TIER_AFFIRMING);
            CHECK(strstr(run.detail, "sim ") != NULL && strstr(run.detail, "huge 70000") != NULL &&
                  strstr(run.detail, "65533") != NULL);
            if (strstr(run.detail, "huge 70000") == NULL) {
                printf("  server said: %s / client: %s\n", run.detail, a.reason);
            }
        }
        atls_appraisal_cleanup(&a);
        tls_pair_free(run.pair);
    }
    atls_policy_free(sim_policy);
}

int main(void)
{
    if (fixture_start_sim(&F) != 0) {
        return 1;
    }
    test_answer_timeout();
    test_attest_own_result();
    test_tickets_discarded();
    test_read_wants_write();
    test_keyupdate_queue_full();
    test_attest_after_peer_appraisal();
    test_rate_limit();
    test_fair_lock();
    test_collection();
    fixture_cleanup(&F);
    return check_summary();
}
