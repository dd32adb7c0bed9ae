/*
 * test_batcher: the batcher's queue (src/evidence/batch/batcher.c, atls/batch.h):
 *   - at low load every request gets its own Evidence: a tree of one, an empty proof;
 *   - requests that arrive while the attester is busy share the next Evidence, first come
 *     first served, at most max_leaves at once, each with the proof of its own challenge;
 *   - max_waiting bounds the queue (one more request fails at once, the others are served);
 *   - the attester's error reaches every caller of the batch with its message;
 *   - produce_cmw (what sessions call): one attester CMW (Evidence and a log beside it) per
 *     batch, asked for as a one-off, and each caller's CMW is that collection with the Evidence
 *     record replaced by its own batch record; an attester without produce_cmw gives a lone
 *     batch record; a size limit that leaves no room is refused;
 *   - atls_batcher_submit (no waiting caller): requests submitted while the attester is busy
 *     share the next Evidence with waiting callers, each callback gets its own CMW on the
 *     batcher's thread, an attester's failure reaches the callback with its message, a full
 *     queue refuses at once, and atls_batcher_free answers what is still queued first;
 *   - bad options and a batcher made by name are refused;
 *   - with the sim attester as a 40 ms one-at-a-time quote source, 24 concurrent requests
 *     take a handful of quotes, and each wrapper appraises (atls_appraise_cmw) with its own
 *     challenge and fails with any other ("inclusion proof").
 * The fake attester's Evidence is the challenge it was asked to sign, so every check of what
 * was signed is exact.
 */
#include "evidence/batch/batch.h"
#include "evidence/eventlog/eventlog.h"

#include <atls/appraisal.h>
#include <atls/batch.h>

#include "base/result.h"
#include "check.h"
#include "codec/cmw/cmw.h"
#include "evidence/sim/sim.h"
#include "testcert.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* ---- a controllable attester --------------------------------------------------------------- */

static struct fake {
    pthread_mutex_t m;
    pthread_cond_t cv;
    int gate_closed; /* produce waits while set */
    int in_produce;
    int calls;
    int fail;
} fk = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0};

static atls_error fake_produce(void *state, const uint8_t *challenge, uint8_t **out,
                               size_t *out_len)
{
    (void)state;
    pthread_mutex_lock(&fk.m);
    fk.calls++;
    fk.in_produce = 1;
    pthread_cond_broadcast(&fk.cv);
    while (fk.gate_closed) {
        pthread_cond_wait(&fk.cv, &fk.m);
    }
    fk.in_produce = 0;
    int fail = fk.fail;
    pthread_mutex_unlock(&fk.m);
    if (fail) {
        return atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                                "fake: the quote source is down");
    }
    *out = malloc(ATLS_CHALLENGE_LEN);
    if (*out == NULL) {
        return ATLS_ERR_INTERNAL_ALLOC;
    }
    memcpy(*out, challenge, ATLS_CHALLENGE_LEN);
    *out_len = ATLS_CHALLENGE_LEN;
    return ATLS_OK;
}

static const atls_attester_ops fake_ops = {
    .name = "fake", .media_type = "application/x-fake", .produce = fake_produce};

/* fake_produce_cmw: a collection as the tpm2 attester writes one (Evidence and a log beside it;
 * with cmw_second also a second Evidence over the same challenge, as the CLI's --with-tpm
 * collection has); |conn| must be NULL (the batcher asks for one-off logs) */
static int cmw_calls, cmw_conn_seen, cmw_second;
static atls_error fake_produce_cmw(void *state, void *conn, const uint8_t *challenge, size_t max,
                                   uint8_t **out, size_t *out_len)
{
    cmw_calls++;
    cmw_conn_seen |= conn != NULL;
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    ATLS_GUARD(fake_produce(state, challenge, &ev, &ev_len));
    static const uint8_t log[] = "a log";
    atls_cmw_entry e[3] = {
        {"fake", "application/x-fake", ev, ev_len, ATLS_CMW_IND_EVIDENCE},
        {"log", ATLS_EVLOG_MEDIA_TYPE, log, sizeof(log), ATLS_CMW_IND_EVIDENCE},
        {"second", "application/x-fake-second", ev, ev_len, ATLS_CMW_IND_EVIDENCE},
    };
    atls_error rc = atls_cmw_encode_collection(NULL, e, cmw_second ? 3 : 2, out, out_len);
    free(ev);
    if (rc == ATLS_OK && *out_len > max) {
        free(*out);
        rc = ATLS_ERR_EVIDENCE_ATTESTER;
    }
    return rc;
}

static const atls_attester_ops fake_cmw_ops = {.name = "fake",
                                               .media_type = "application/x-fake",
                                               .produce = fake_produce,
                                               .produce_cmw = fake_produce_cmw};

static void gate(int closed)
{
    pthread_mutex_lock(&fk.m);
    fk.gate_closed = closed;
    pthread_cond_broadcast(&fk.cv);
    pthread_mutex_unlock(&fk.m);
}

static void wait_in_produce(void)
{
    pthread_mutex_lock(&fk.m);
    while (!fk.in_produce) {
        pthread_cond_wait(&fk.cv, &fk.m);
    }
    pthread_mutex_unlock(&fk.m);
}

static void wait_waiting(atls_batcher *b, size_t n)
{
    for (int i = 0; i < 5000; i++) {
        atls_batcher_stats st;
        atls_batcher_get_stats(b, &st);
        if (st.waiting >= n) {
            return;
        }
        usleep(1000);
    }
    CHECK_FAIL("the request did not queue");
}

/* ---- one request on its own thread ------------------------------------------------------- */

typedef struct req {
    atls_batcher *b;
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    atls_error rc;
    char reason[300];
    uint8_t *out;
    size_t out_len;
    pthread_t thread;
} req;

static void *req_main(void *arg)
{
    req *r = arg;
    r->rc = atls_batcher_ops()->produce(r->b, r->challenge, &r->out, &r->out_len);
    snprintf(r->reason, sizeof(r->reason), "%s", r->rc != ATLS_OK ? atls_error_message() : "");
    return NULL;
}

/* req_start_with runs a request for |challenge| (64 bytes, or NULL: |tag| repeated) */
static void req_start_with(req *r, atls_batcher *b, const uint8_t *challenge, uint8_t tag)
{
    memset(r, 0, sizeof(*r));
    r->b = b;
    if (challenge != NULL) {
        memcpy(r->challenge, challenge, sizeof(r->challenge));
    } else {
        memset(r->challenge, tag, sizeof(r->challenge));
    }
    CHECK(pthread_create(&r->thread, NULL, req_main, r) == 0);
}

static void req_start(req *r, atls_batcher *b, uint8_t tag)
{
    req_start_with(r, b, NULL, tag);
}

/* checks |r| got the fake's Evidence of a tree of |size| at |index| whose signed challenge its
 * own proof leads to; returns the signed challenge's first byte for comparisons */
static void check_wrapped(const req *r, uint64_t size, uint64_t index, uint8_t signed_out[64])
{
    CHECK_OK(r->rc);
    atls_batch_view v;
    CHECK_OK(atls_batch_decode(r->out, r->out_len, &v));
    CHECK(atls_cbor_tstr_equals(&v.media_type, "application/x-fake"));
    CHECK(v.tree_size == size && v.leaf_index == index);
    if (v.tree_size != size || v.leaf_index != index) {
        printf("  got leaf %llu of %llu, want %llu of %llu\n", (unsigned long long)v.leaf_index,
               (unsigned long long)v.tree_size, (unsigned long long)index,
               (unsigned long long)size);
    }
    uint8_t want[64];
    CHECK_OK(atls_batch_proof_challenge(&v, r->challenge, want));
    CHECK(atls_cursor_remaining(&v.evidence) == 64 &&
          memcmp(atls_cursor_data(&v.evidence), want, 64) == 0);
    memcpy(signed_out, want, 64);
}

/* ---- the cases ----------------------------------------------------------------------------- */

static void test_low_load(void)
{
    atls_batcher *b = NULL;
    CHECK_OK(atls_batcher_new(&fake_ops, NULL, NULL, &b));
    for (int i = 0; i < 5; i++) {
        req r;
        req_start(&r, b, (uint8_t)(0x10 + i));
        pthread_join(r.thread, NULL);
        uint8_t signed_ch[64], leaf[64], want[64];
        check_wrapped(&r, 1, 0, signed_ch);
        /* a tree of one: the root is the leaf hash of the request's own challenge */
        CHECK_OK(atls_merkle_leaf_hash(r.challenge, leaf));
        CHECK_OK(atls_batch_challenge(leaf, 1, want));
        CHECK_EQ_MEM(signed_ch, want, 64);
        free(r.out);
    }
    atls_batcher_stats st;
    atls_batcher_get_stats(b, &st);
    CHECK(st.evidence == 5 && st.challenges == 5 && st.largest == 1 && st.waiting == 0 &&
          st.failures == 0);
    atls_batcher_free(b);
}

/* A is being produced; B..G arrive one after another; max_leaves 4: {B C D E} then {F G} */
static void test_batches_in_order(void)
{
    atls_batcher_options o = {.max_leaves = 4};
    atls_batcher *b = NULL;
    CHECK_OK(atls_batcher_new(&fake_ops, NULL, &o, &b));
    fk.calls = 0;
    gate(1);
    req a, r[6];
    req_start(&a, b, 0xa0);
    wait_in_produce();
    for (int i = 0; i < 6; i++) {
        req_start(&r[i], b, (uint8_t)(0xb0 + i));
        wait_waiting(b, (size_t)i + 1);
    }
    gate(0);
    pthread_join(a.thread, NULL);
    for (int i = 0; i < 6; i++) {
        pthread_join(r[i].thread, NULL);
    }
    uint8_t sa[64], s[6][64];
    check_wrapped(&a, 1, 0, sa);
    for (int i = 0; i < 4; i++) {
        check_wrapped(&r[i], 4, (uint64_t)i, s[i]);
    }
    for (int i = 4; i < 6; i++) {
        check_wrapped(&r[i], 2, (uint64_t)(i - 4), s[i]);
    }
    /* one Evidence per batch */
    CHECK(memcmp(s[0], s[3], 64) == 0 && memcmp(s[4], s[5], 64) == 0 &&
          memcmp(s[0], s[4], 64) != 0 && memcmp(sa, s[0], 64) != 0);
    CHECK(fk.calls == 3);
    atls_batcher_stats st;
    atls_batcher_get_stats(b, &st);
    CHECK(st.evidence == 3 && st.challenges == 7 && st.largest == 4);
    free(a.out);
    for (int i = 0; i < 6; i++) {
        free(r[i].out);
    }
    atls_batcher_free(b);
}

static void test_max_waiting(void)
{
    atls_batcher_options o = {.max_waiting = 2};
    atls_batcher *b = NULL;
    CHECK_OK(atls_batcher_new(&fake_ops, NULL, &o, &b));
    gate(1);
    req r[4];
    req_start(&r[0], b, 1);
    wait_in_produce();
    req_start(&r[1], b, 2);
    wait_waiting(b, 1);
    req_start(&r[2], b, 3);
    wait_waiting(b, 2);
    req_start(&r[3], b, 4); /* one too many: refused at once, while the gate is still shut */
    pthread_join(r[3].thread, NULL);
    CHECK(r[3].rc == ATLS_ERR_EVIDENCE_ATTESTER && strstr(r[3].reason, "already wait") != NULL);
    gate(0);
    for (int i = 0; i < 3; i++) {
        pthread_join(r[i].thread, NULL);
        CHECK_OK(r[i].rc);
        free(r[i].out);
    }
    atls_batcher_free(b);
}

static void test_attester_error(void)
{
    atls_batcher *b = NULL;
    CHECK_OK(atls_batcher_new(&fake_ops, NULL, NULL, &b));
    gate(1);
    fk.fail = 1;
    req r[3];
    req_start(&r[0], b, 1);
    wait_in_produce();
    req_start(&r[1], b, 2);
    req_start(&r[2], b, 3);
    wait_waiting(b, 2);
    gate(0);
    for (int i = 0; i < 3; i++) {
        pthread_join(r[i].thread, NULL);
        CHECK(r[i].rc == ATLS_ERR_EVIDENCE_ATTESTER && r[i].out == NULL &&
              strstr(r[i].reason, "quote source is down") != NULL);
    }
    fk.fail = 0;
    atls_batcher_stats st;
    atls_batcher_get_stats(b, &st);
    CHECK(st.failures == 2 && st.evidence == 0 && st.challenges == 3);
    atls_batcher_free(b);
}

/* produce_cmw: one attester CMW per batch; each caller gets that collection with each Evidence
 * record replaced by its own batch record (the log kept); without produce_cmw in the wrapped
 * attester, a lone batch record */
static void check_cmw_answer(const uint8_t *cmw_bytes, size_t len, const uint8_t challenge[64],
                             int with_log)
{
    atls_cmw cmw;
    CHECK_OK(atls_cmw_decode(cmw_bytes, len, &cmw));
    CHECK(cmw.num_leaves == (with_log ? (size_t)with_log + 1 : 1u));
    const atls_cmw_leaf *rec = atls_cmw_find_leaf(&cmw, ATLS_BATCH_MEDIA_TYPE, 4);
    CHECK(rec != NULL);
    if (with_log) {
        const atls_cmw_leaf *log = atls_cmw_find_leaf(&cmw, ATLS_EVLOG_MEDIA_TYPE, 4);
        CHECK(log != NULL && atls_cursor_remaining(&log->value) == 6);
        CHECK(rec != NULL && rec->depth == 1 && atls_cbor_key_is_text(&rec->path[0], "fake"));
    }
    if (with_log == 2) {
        /* the second Evidence signed the same batch challenge: it gets the same proof */
        const atls_cmw_leaf *second = NULL;
        for (size_t i = 0; i < cmw.num_leaves; i++) {
            if (atls_cbor_key_is_text(&cmw.leaves[i].path[0], "second")) {
                second = &cmw.leaves[i];
            }
        }
        atls_batch_view v2;
        uint8_t want2[64];
        CHECK(second != NULL && atls_cmw_leaf_type_is(second, ATLS_BATCH_MEDIA_TYPE));
        if (second != NULL && atls_batch_decode(atls_cursor_data(&second->value),
                                                atls_cursor_remaining(&second->value),
                                                &v2) == ATLS_OK) {
            CHECK(atls_cursor_equals(&v2.media_type, (const uint8_t *)"application/x-fake-second",
                                     25));
            CHECK_OK(atls_batch_proof_challenge(&v2, challenge, want2));
            CHECK(atls_cursor_remaining(&v2.evidence) == 64 &&
                  memcmp(atls_cursor_data(&v2.evidence), want2, 64) == 0);
        } else {
            CHECK_FAIL("the second Evidence has no batch record");
        }
    }
    atls_batch_view v;
    uint8_t want[64];
    if (rec != NULL && atls_batch_decode(atls_cursor_data(&rec->value),
                                         atls_cursor_remaining(&rec->value), &v) == ATLS_OK) {
        CHECK_OK(atls_batch_proof_challenge(&v, challenge, want));
        CHECK(atls_cursor_remaining(&v.evidence) == 64 &&
              memcmp(atls_cursor_data(&v.evidence), want, 64) == 0);
    } else {
        CHECK_FAIL("no batch record");
    }
}

/* a whole-CMW request on its own thread */
typedef struct cmw_req {
    atls_batcher *b;
    uint8_t challenge[64];
    uint8_t *out;
    size_t len;
    atls_error rc;
    pthread_t thread;
} cmw_req;

static void *cmw_main(void *arg)
{
    cmw_req *r = arg;
    r->rc = atls_batcher_ops()->produce_cmw(r->b, NULL, r->challenge, 65533, &r->out, &r->len);
    return NULL;
}

static void test_produce_cmw(void)
{
    for (int with_log = 0; with_log <= 2; with_log++) {
        cmw_second = with_log == 2;
        atls_batcher *b = NULL;
        CHECK_OK(atls_batcher_new(with_log ? &fake_cmw_ops : &fake_ops, NULL, NULL, &b));
        cmw_calls = cmw_conn_seen = 0;
        gate(1);
        req first;
        req_start(&first, b, 0x31);
        wait_in_produce();
        /* two whole-CMW requests queue behind it and share the next Evidence */
        cmw_req r[2];
        for (int i = 0; i < 2; i++) {
            memset(&r[i], 0, sizeof(r[i]));
            r[i].b = b;
            memset(r[i].challenge, 0x40 + i, 64);
            CHECK(pthread_create(&r[i].thread, NULL, cmw_main, &r[i]) == 0);
            wait_waiting(b, (size_t)i + 1);
        }
        gate(0);
        pthread_join(first.thread, NULL);
        CHECK_OK(first.rc);
        free(first.out);
        for (int i = 0; i < 2; i++) {
            pthread_join(r[i].thread, NULL);
            CHECK_OK(r[i].rc);
            if (r[i].out != NULL) {
                check_cmw_answer(r[i].out, r[i].len, r[i].challenge, with_log);
            }
            free(r[i].out);
        }
        /* the plain first request went alone through produce; the two CMW requests shared one
         * produce_cmw, asked with no connection state */
        CHECK(cmw_calls == (with_log ? 1 : 0) && !cmw_conn_seen);
        cmw_second = 0;
        atls_batcher_stats st;
        atls_batcher_get_stats(b, &st);
        CHECK(st.evidence == 2 && st.largest == 2);
        /* a limit that leaves no room for the proof is refused with a reason */
        uint8_t *o = NULL, ch[64] = {0};
        size_t ol = 0;
        CHECK_ERR(atls_batcher_ops()->produce_cmw(b, NULL, ch, with_log ? 200 : 20, &o, &ol),
                  ATLS_ERR_EVIDENCE_ATTESTER);
        atls_batcher_free(b);
    }
}

static void test_options(void)
{
    atls_batcher *b = NULL, *bb = NULL;
    atls_batcher_options o = {.max_leaves = ATLS_BATCH_MAX_LEAVES + 1};
    CHECK_ERR(atls_batcher_new(&fake_ops, NULL, &o, &b), ATLS_ERR_USAGE_CONFIG);
    o.max_leaves = 0;
    o.max_waiting = 65537;
    CHECK_ERR(atls_batcher_new(&fake_ops, NULL, &o, &b), ATLS_ERR_USAGE_CONFIG);
    CHECK_ERR(atls_batcher_new(NULL, NULL, NULL, &b), ATLS_ERR_USAGE);
    CHECK_OK(atls_batcher_new(&fake_ops, NULL, NULL, &b));
    CHECK_ERR(atls_batcher_new(atls_batcher_ops(), b, NULL, &bb), ATLS_ERR_USAGE_CONFIG);
    void *state = NULL;
    CHECK_ERR(atls_batcher_ops()->create(NULL, &state), ATLS_ERR_USAGE);
    CHECK(strcmp(atls_batcher_ops()->media_type, ATLS_BATCH_MEDIA_TYPE) == 0);
    atls_batcher_ops()->destroy(b); /* destroy is atls_batcher_free */
    atls_batcher_free(NULL);
}

/* ---- the real sim attester as a slow, serialised quote source ------------------------------ */

static char key_path[128];

/* make_sim_key: a P-256 key in a temp dir (a test CA's: any P-256 key signs sim Evidence) */
static void make_sim_key(void)
{
    char dir[] = "/tmp/atls-batcher-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    snprintf(key_path, sizeof(key_path), "%s/sim.key", dir);
    testcert *tc = NULL;
    CHECK_OK(testcert_ca_new("sim key", &tc));
    if (tc != NULL) {
        CHECK_OK(testcert_write_pem(tc, dir, "sim"));
    }
    testcert_free(tc);
}

static atls_error appraise_with(const req *r, const uint8_t *challenge, atls_appraisal *a)
{
    uint8_t *cmw = NULL;
    size_t cmw_len = 0;
    ATLS_GUARD(atls_cmw_encode_record(ATLS_BATCH_MEDIA_TYPE, r->out, r->out_len,
                                      ATLS_CMW_IND_EVIDENCE, &cmw, &cmw_len));
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.challenge = challenge;
    memset(a, 0, sizeof(*a));
    atls_error rc = atls_appraise_cmw(cmw, cmw_len, &in, NULL, a);
    free(cmw);
    return rc;
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void test_slow_sim(void)
{
    enum { N = 24, LATENCY = 40 };
    make_sim_key();
    char k[200];
    snprintf(k, sizeof(k), "key=%s", key_path);
    const char *config[] = {k, "quote_latency_ms=40", NULL};
    void *sim = NULL;
    CHECK_OK(atls_sim_attester_ops.create(config, &sim));
    atls_batcher *b = NULL;
    CHECK_OK(atls_batcher_new(&atls_sim_attester_ops, sim, NULL, &b));
    if (sim == NULL || b == NULL) {
        return;
    }
    static req r[N];
    long t0 = now_ms();
    for (int i = 0; i < N; i++) {
        uint8_t ch[64];
        CHECK(RAND_bytes(ch, sizeof(ch)) == 1);
        req_start_with(&r[i], b, ch, 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(r[i].thread, NULL);
    }
    long took = now_ms() - t0;
    atls_batcher_stats st;
    atls_batcher_get_stats(b, &st);
    /* one at a time N quotes would take N x 40 ms; batched, a few quotes serve them all */
    printf("  %d concurrent requests: %llu quotes, largest batch %zu, %ld ms\n", N,
           (unsigned long long)st.evidence, st.largest, took);
    CHECK(st.challenges == N && st.evidence <= N / 3 && st.largest >= 2);
    CHECK(took < N * LATENCY / 2);
    for (int i = 0; i < N; i++) {
        atls_appraisal a;
        /* the request's own challenge: verified (no policy: a warning, which is OK) */
        CHECK_OK(appraise_with(&r[i], r[i].challenge, &a));
        CHECK(a.num_results == 1 && a.results[0].challenge_checked &&
              strcmp(a.results[0].type, "sim") == 0);
        atls_appraisal_cleanup(&a);
        /* another request's challenge with this proof: refused, the proof named */
        CHECK_ERR(appraise_with(&r[i], r[(i + 1) % N].challenge, &a), ATLS_ERR_EVIDENCE_NONCE);
        CHECK(strstr(a.reason, "inclusion proof") != NULL);
        atls_appraisal_cleanup(&a);
        free(r[i].out);
    }
    atls_batcher_free(b);
    atls_sim_attester_ops.destroy(sim);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf \"$(dirname '%s')\"", key_path);
    CHECK(system(cmd) == 0);
}

/* ---- atls_batcher_submit ------------------------------------------------------------------- */

struct submitted {
    pthread_mutex_t m;
    int calls, ok;
    pthread_t thread[8];
    atls_error rc[8];
    char reason[8][200];
    uint8_t *out[8];
    size_t len[8];
};

static struct submitted sub = {.m = PTHREAD_MUTEX_INITIALIZER};

static void on_done(void *arg, atls_error rc, uint8_t *out, size_t len, const char *reason)
{
    int i = (int)(intptr_t)arg;
    pthread_mutex_lock(&sub.m);
    sub.thread[i] = pthread_self();
    sub.rc[i] = rc;
    sub.out[i] = out;
    sub.len[i] = len;
    snprintf(sub.reason[i], sizeof(sub.reason[i]), "%s", reason != NULL ? reason : "");
    sub.calls++;
    sub.ok += rc == ATLS_OK && out != NULL && reason == NULL;
    pthread_mutex_unlock(&sub.m);
}

static int sub_calls(void)
{
    pthread_mutex_lock(&sub.m);
    int n = sub.calls;
    pthread_mutex_unlock(&sub.m);
    return n;
}

static void wait_calls(int n)
{
    for (int i = 0; i < 5000 && sub_calls() < n; i++) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void sub_reset(void)
{
    for (int i = 0; i < 8; i++) {
        free(sub.out[i]);
    }
    pthread_mutex_lock(&sub.m);
    memset(&sub.calls, 0, sizeof(sub) - offsetof(struct submitted, calls));
    pthread_mutex_unlock(&sub.m);
}

static void test_submit(void)
{
    atls_batcher_options o = {.max_waiting = 4};
    atls_batcher *b = NULL;
    CHECK_OK(atls_batcher_new(&fake_cmw_ops, NULL, &o, &b));
    fk.calls = 0;
    gate(1);
    uint8_t ch[5][64];
    for (int i = 0; i < 5; i++) {
        memset(ch[i], 0x40 + i, sizeof(ch[i]));
    }
    CHECK_OK(atls_batcher_submit(b, ch[0], 65533, on_done, (void *)(intptr_t)0));
    wait_in_produce();
    for (int i = 1; i < 4; i++) { /* queued while the attester is busy: the next batch */
        CHECK_OK(atls_batcher_submit(b, ch[i], 65533, on_done, (void *)(intptr_t)i));
    }
    req w;
    req_start(&w, b, 0x77); /* a waiting caller shares that batch */
    wait_waiting(b, 4);
    CHECK_ERR(atls_batcher_submit(b, ch[4], 65533, on_done, (void *)(intptr_t)4),
              ATLS_ERR_EVIDENCE_ATTESTER); /* max_waiting: refused at once */
    CHECK_ERR(atls_batcher_submit(b, NULL, 65533, on_done, NULL), ATLS_ERR_USAGE);
    CHECK(sub_calls() == 0); /* nothing answered while the attester works */
    gate(0);
    wait_calls(4);
    pthread_join(w.thread, NULL);
    CHECK_OK(w.rc);
    free(w.out);
    CHECK(sub.calls == 4 && sub.ok == 4);
    CHECK(fk.calls == 2); /* one Evidence for the first, one for the four that waited */
    for (int i = 0; i < 4; i++) {
        CHECK(!pthread_equal(sub.thread[i], pthread_self())); /* the batcher's thread */
        if (sub.out[i] != NULL) {
            check_cmw_answer(sub.out[i], sub.len[i], ch[i], 1);
        }
    }
    atls_batcher_stats st;
    atls_batcher_get_stats(b, &st);
    CHECK(st.largest == 4 && st.challenges == 5);
    sub_reset();
    /* the attester fails: the callback gets the error and its message */
    fk.fail = 1;
    CHECK_OK(atls_batcher_submit(b, ch[0], 65533, on_done, (void *)(intptr_t)0));
    wait_calls(1);
    CHECK(sub.calls == 1 && sub.rc[0] == ATLS_ERR_EVIDENCE_ATTESTER && sub.out[0] == NULL);
    CHECK(strstr(sub.reason[0], "quote source is down") != NULL);
    fk.fail = 0;
    sub_reset();
    /* freed with requests queued: they are answered first */
    gate(1);
    CHECK_OK(atls_batcher_submit(b, ch[0], 65533, on_done, (void *)(intptr_t)0));
    wait_in_produce();
    CHECK_OK(atls_batcher_submit(b, ch[1], 65533, on_done, (void *)(intptr_t)1));
    wait_waiting(b, 1);
    gate(0);
    atls_batcher_free(b);
    CHECK(sub.calls == 2 && sub.ok == 2);
    sub_reset();
}

int main(void)
{
    test_low_load();
    test_batches_in_order();
    test_max_waiting();
    test_attester_error();
    test_produce_cmw();
    test_submit();
    test_options();
    test_slow_sim();
    return check_summary();
}
