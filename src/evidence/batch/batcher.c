/* batcher.c: the shared, fair, bounded queue in front of one attester (atls/batch.h).
 *
 * One producer thread calls the wrapped attester; callers of produce queue a slot (on their own
 * stack) and sleep until the batch that holds it is done. The producer takes up to max_leaves
 * slots from the head of the queue at once, in arrival order, the moment it is free: no timer,
 * so a request that finds it idle is produced alone, and the requests that arrive during one
 * production share the next. Memory: the queue holds at most max_waiting slots of the callers'
 * (one per waiting thread), the producer's own arrays are allocated once for max_leaves. */
#include "evidence/batch/batch.h"

#include "base/mem.h"
#include "base/result.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_REASON_MAX 400
#define MAX_WAITING_LIMIT 65536

/* one request: owned by the caller of produce, on its stack, until done is set */
struct slot {
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    int want_cmw;           /* produce_cmw: a whole CMW of at most |max| bytes, else the wrapper */
    size_t max;
    uint8_t *out;           /* the wrapper or CMW, handed to the caller */
    size_t out_len;
    atls_error rc;
    char reason[SLOT_REASON_MAX];
    int done;
    struct slot *next;
    /* atls_batcher_submit: heap slot, answered through this callback (NULL: a caller waits) */
    atls_batcher_done_fn cb;
    void *cb_arg;
};

struct atls_batcher {
    const atls_attester_ops *ops; /* the wrapped attester (borrowed) */
    void *state;
    size_t max_leaves, max_waiting;
    pthread_mutex_t mutex;     /* guards everything below */
    pthread_cond_t work;       /* the producer waits here for requests (or stop) */
    pthread_cond_t done;       /* callers wait here for their batch */
    struct slot *head, *tail;  /* FIFO of waiting requests */
    size_t waiting;
    int stop;
    atls_batcher_stats stats;
    pthread_t thread;
    /* the producer's own, sized once for max_leaves */
    struct slot **batch;
    atls_merkle_hash *leaves;
};

/* fail_all gives every slot of the batch |rc| with this thread's message. */
static void fail_all(struct slot **batch, size_t n, atls_error rc)
{
    for (size_t i = 0; i < n; i++) {
        batch[i]->rc = rc;
        snprintf(batch[i]->reason, sizeof(batch[i]->reason), "%s", atls_error_message());
    }
}

/* room left in a CMW for the batch record around the attester's Evidence record: the batch
 * media type, the wrapper's framing and the longest proof (docs/PROTOCOL.md 2.6: 837 bytes) */
#define BATCH_CMW_ROOM 1024

/* one Evidence for a batch, as the attester made it */
struct made {
    uint8_t *ev;           /* plain Evidence (produce), or NULL */
    uint8_t *cmw_bytes;    /* the attester's whole CMW (produce_cmw), or NULL */
    atls_cmw cmw;          /* decoded cmw_bytes */
    const uint8_t *data;   /* the Evidence for callers of plain produce (in ev, or the
                              attester's own Evidence record in cmw_bytes) */
    size_t len;
};

/* answer_one: slot |i|'s answer: its wrapper (its own inclusion proof) or its whole CMW */
static atls_error answer_one(atls_batcher *b, const atls_merkle_tree *tree, size_t i,
                             const struct made *m)
{
    struct slot *s = b->batch[i];
    atls_merkle_hash path[ATLS_BATCH_MAX_PATH];
    size_t path_len = 0;
    ATLS_GUARD(atls_merkle_tree_path(tree, i, path, &path_len));
    if (!s->want_cmw) {
        return atls_batch_encode(b->ops->media_type, m->data, m->len, tree->size, i, path,
                                 path_len, &s->out, &s->out_len);
    }
    /* every Evidence record of the attester's CMW gets this slot's proof */
    atls_error rc = atls_batch_cmw(m->cmw_bytes != NULL ? &m->cmw : NULL, b->ops->media_type,
                                   m->data, m->len, tree->size, i, path, path_len, &s->out,
                                   &s->out_len);
    if (rc == ATLS_OK && s->out_len > s->max) {
        free(s->out);
        s->out = NULL;
        rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                              "batch: a CMW of %zu bytes, at most %zu", s->out_len, s->max);
    }
    return rc;
}

/* make: the attester's one Evidence over |challenge|. When a request wants a whole CMW and the
 * attester makes one (event logs beside its Evidence), its CMW is asked for as a one-off (every
 * log from its beginning, which every member's verifier accepts: a record starting at 0 needs
 * no earlier state) and shared by the batch. */
static atls_error make(atls_batcher *b, size_t n, const uint8_t *challenge, struct made *m)
{
    int want_cmw = 0;
    size_t max = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (b->batch[i]->want_cmw) {
            want_cmw = 1;
            max = b->batch[i]->max < max ? b->batch[i]->max : max;
        }
    }
    if (!want_cmw || b->ops->produce_cmw == NULL) {
        ATLS_GUARD(b->ops->produce(b->state, challenge, &m->ev, &m->len));
        m->data = m->ev;
        return ATLS_OK;
    }
    ATLS_ENSURE(max > BATCH_CMW_ROOM, ATLS_ERR_EVIDENCE_ATTESTER,
                "batch: a CMW of at most %zu bytes leaves no room for the proof", max);
    size_t len = 0;
    ATLS_GUARD(b->ops->produce_cmw(b->state, NULL, challenge, max - BATCH_CMW_ROOM,
                                   &m->cmw_bytes, &len));
    ATLS_GUARD(atls_cmw_decode(m->cmw_bytes, len, &m->cmw));
    size_t count = 0;
    ATLS_GUARD(atls_batch_cmw_count(&m->cmw, &count));
    /* callers of plain produce in the same batch get the attester's own Evidence record */
    for (size_t i = 0; i < m->cmw.num_leaves && m->data == NULL; i++) {
        const atls_cmw_leaf *l = &m->cmw.leaves[i];
        if (atls_batch_cmw_is_evidence(l) && atls_cmw_leaf_type_is(l, b->ops->media_type)) {
            m->data = atls_cursor_data(&l->value);
            m->len = atls_cursor_remaining(&l->value);
        }
    }
    ATLS_ENSURE(m->data != NULL, ATLS_ERR_EVIDENCE_ATTESTER,
                "batch: the attester's CMW holds no Evidence record of %s", b->ops->media_type);
    return ATLS_OK;
}

/* produce_batch: one Evidence over the root of the tree of the |n| taken challenges */
static atls_error produce_batch(atls_batcher *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(b->leaves[i], b->batch[i]->challenge, ATLS_CHALLENGE_LEN);
    }
    atls_merkle_tree tree;
    struct made m;
    memset(&m, 0, sizeof(m));
    atls_error rc = atls_merkle_tree_build(b->leaves, n, &tree);
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    if (rc == ATLS_OK) {
        rc = atls_batch_challenge(atls_merkle_tree_root(&tree), n, challenge);
    }
    if (rc == ATLS_OK) {
        rc = make(b, n, challenge, &m);
    }
    if (rc == ATLS_OK) {
        for (size_t i = 0; i < n; i++) {
            struct slot *s = b->batch[i];
            s->rc = answer_one(b, &tree, i, &m);
            if (s->rc != ATLS_OK) {
                snprintf(s->reason, sizeof(s->reason), "%s", atls_error_message());
            }
        }
    } else {
        fail_all(b->batch, n, rc);
    }
    free(m.ev);
    free(m.cmw_bytes);
    if (tree.nodes != NULL) {
        atls_merkle_tree_cleanup(&tree);
    }
    atls_wipe(b->leaves, n * sizeof(b->leaves[0]));
    return rc;
}

static void *producer_main(void *arg)
{
    atls_batcher *b = arg;
    pthread_mutex_lock(&b->mutex);
    for (;;) {
        while (b->head == NULL && !b->stop) {
            pthread_cond_wait(&b->work, &b->mutex);
        }
        if (b->head == NULL) {
            break; /* stopping, and nobody waits */
        }
        /* everything that queued while we were busy, oldest first, up to the cap */
        size_t n = 0;
        while (b->head != NULL && n < b->max_leaves) {
            b->batch[n++] = b->head;
            b->head = b->head->next;
        }
        if (b->head == NULL) {
            b->tail = NULL;
        }
        b->waiting -= n;
        pthread_mutex_unlock(&b->mutex);
        atls_error rc = produce_batch(b, n);
        pthread_mutex_lock(&b->mutex);
        b->stats.evidence += rc == ATLS_OK;
        b->stats.failures += rc != ATLS_OK;
        b->stats.challenges += n;
        if (n > b->stats.largest) {
            b->stats.largest = n;
        }
        /* after this the slots of waiting callers belong to them again: not touched any
         * more; submitted slots are kept (at the front) for their callbacks */
        size_t submitted = 0;
        for (size_t i = 0; i < n; i++) {
            struct slot *sl = b->batch[i];
            if (sl->cb != NULL) {
                b->batch[submitted++] = sl;
            } else {
                sl->done = 1;
            }
        }
        pthread_cond_broadcast(&b->done);
        if (submitted > 0) {
            pthread_mutex_unlock(&b->mutex);
            for (size_t i = 0; i < submitted; i++) {
                struct slot *sl = b->batch[i];
                sl->cb(sl->cb_arg, sl->rc, sl->rc == ATLS_OK ? sl->out : NULL,
                       sl->rc == ATLS_OK ? sl->out_len : 0, sl->rc == ATLS_OK ? NULL : sl->reason);
                if (sl->rc != ATLS_OK) {
                    free(sl->out);
                }
                atls_wipe(sl->challenge, sizeof(sl->challenge));
                free(sl);
            }
            pthread_mutex_lock(&b->mutex);
        }
    }
    pthread_mutex_unlock(&b->mutex);
    return NULL;
}

/* enqueue: queue |s| (FIFO; at most max_waiting queued), with b->mutex held; on failure the
 * mutex is released and the error raised */
static atls_error enqueue(atls_batcher *b, struct slot *s)
{
    if (b->stop || b->waiting >= b->max_waiting) {
        int stopping = b->stop;
        size_t waiting = b->waiting;
        pthread_mutex_unlock(&b->mutex);
        ATLS_ENSURE(!stopping, ATLS_ERR_USAGE_STATE, "batch: the batcher is being freed");
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
                   "batch: %zu requests already wait for the attester (max_waiting)", waiting);
    }
    if (b->tail != NULL) {
        b->tail->next = s;
    } else {
        b->head = s;
    }
    b->tail = s;
    b->waiting++;
    pthread_cond_signal(&b->work);
    return ATLS_OK;
}

/* wait_for: queue |s| and sleep until its batch is done */
static atls_error wait_for(atls_batcher *b, struct slot *s, uint8_t **out, size_t *out_len)
{
    pthread_mutex_lock(&b->mutex);
    ATLS_GUARD(enqueue(b, s));
    while (!s->done) {
        pthread_cond_wait(&b->done, &b->mutex);
    }
    pthread_mutex_unlock(&b->mutex);
    if (s->rc != ATLS_OK) {
        free(s->out);
        return atls_error_raise(s->rc, __FILE__, __LINE__, "%s", s->reason);
    }
    *out = s->out;
    *out_len = s->out_len;
    return ATLS_OK;
}

static atls_error batch_produce(void *state, const uint8_t *challenge, uint8_t **out,
                                size_t *out_len)
{
    ATLS_ENSURE(state != NULL && challenge != NULL && out != NULL && out_len != NULL,
                ATLS_ERR_USAGE, "batch: NULL argument");
    struct slot s;
    memset(&s, 0, sizeof(s));
    memcpy(s.challenge, challenge, sizeof(s.challenge));
    return wait_for(state, &s, out, out_len);
}

/* batch_produce_cmw: the whole CMW, so that an attester's event logs go with batched Evidence
 * too (the session asks for it when the ops offer it). No per-connection state: the logs are
 * the attester's one-off logs for the batch (see make). */
static atls_error batch_produce_cmw(void *state, void *conn, const uint8_t *challenge,
                                    size_t max, uint8_t **out, size_t *out_len)
{
    (void)conn;
    ATLS_ENSURE(state != NULL && challenge != NULL && out != NULL && out_len != NULL,
                ATLS_ERR_USAGE, "batch: NULL argument");
    struct slot s;
    memset(&s, 0, sizeof(s));
    memcpy(s.challenge, challenge, sizeof(s.challenge));
    s.want_cmw = 1;
    s.max = max;
    return wait_for(state, &s, out, out_len);
}

atls_error atls_batcher_submit(atls_batcher *b, const uint8_t *challenge, size_t max,
                               atls_batcher_done_fn done, void *arg)
{
    ATLS_ENSURE(b != NULL && challenge != NULL && done != NULL, ATLS_ERR_USAGE,
                "batch: NULL argument");
    struct slot *s = calloc(1, sizeof(*s));
    ATLS_ENSURE(s != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    memcpy(s->challenge, challenge, sizeof(s->challenge));
    s->want_cmw = 1;
    s->max = max;
    s->cb = done;
    s->cb_arg = arg;
    pthread_mutex_lock(&b->mutex);
    atls_error rc = enqueue(b, s);
    if (rc != ATLS_OK) {
        free(s);
        return rc;
    }
    pthread_mutex_unlock(&b->mutex);
    return ATLS_OK;
}

static atls_error batch_create(const char *const *config, void **state)
{
    (void)config;
    (void)state;
    ATLS_RAISE(ATLS_ERR_USAGE, "batch: a batcher is made with atls_batcher_new, not by name");
}

static void batch_destroy(void *state)
{
    atls_batcher_free(state);
}

static const atls_attester_ops batch_ops = {
    .name = "batch",
    .media_type = ATLS_BATCH_MEDIA_TYPE,
    .create = batch_create,
    .produce = batch_produce,
    .destroy = batch_destroy,
    .produce_cmw = batch_produce_cmw,
};

const atls_attester_ops *atls_batcher_ops(void)
{
    return &batch_ops;
}

static void release(atls_batcher *b)
{
    free(b->batch);
    free(b->leaves);
    free(b);
}

atls_error atls_batcher_new(const atls_attester_ops *ops, void *state,
                            const atls_batcher_options *opts, atls_batcher **out)
{
    ATLS_ENSURE(ops != NULL && ops->produce != NULL && out != NULL, ATLS_ERR_USAGE,
                "batch: no attester to batch");
    *out = NULL;
    ATLS_ENSURE(ops != &batch_ops, ATLS_ERR_USAGE_CONFIG, "batch: a batcher cannot wrap a batcher");
    size_t max_leaves = opts != NULL && opts->max_leaves != 0 ? opts->max_leaves
                                                              : ATLS_BATCH_DEFAULT_MAX_LEAVES;
    size_t max_waiting = opts != NULL && opts->max_waiting != 0 ? opts->max_waiting
                                                                : ATLS_BATCH_DEFAULT_MAX_WAITING;
    ATLS_ENSURE(max_leaves <= ATLS_BATCH_MAX_LEAVES, ATLS_ERR_USAGE_CONFIG,
                "batch: max_leaves %zu (1..%d)", max_leaves, ATLS_BATCH_MAX_LEAVES);
    ATLS_ENSURE(max_waiting <= MAX_WAITING_LIMIT, ATLS_ERR_USAGE_CONFIG,
                "batch: max_waiting %zu (1..%d)", max_waiting, MAX_WAITING_LIMIT);
    atls_batcher *b = calloc(1, sizeof(*b));
    ATLS_ENSURE(b != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    b->ops = ops;
    b->state = state;
    b->max_leaves = max_leaves;
    b->max_waiting = max_waiting;
    b->batch = calloc(max_leaves, sizeof(b->batch[0]));
    b->leaves = calloc(max_leaves, sizeof(b->leaves[0]));
    if (b->batch == NULL || b->leaves == NULL) {
        release(b);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    int ok = pthread_mutex_init(&b->mutex, NULL) == 0;
    ok = ok && pthread_cond_init(&b->work, NULL) == 0;
    ok = ok && pthread_cond_init(&b->done, NULL) == 0;
    ok = ok && pthread_create(&b->thread, NULL, producer_main, b) == 0;
    if (!ok) {
        /* only the last step can fail in practice (glibc's init functions do not) */
        pthread_cond_destroy(&b->done);
        pthread_cond_destroy(&b->work);
        pthread_mutex_destroy(&b->mutex);
        release(b);
        ATLS_RAISE(ATLS_ERR_INTERNAL, "batch: cannot start the producer thread");
    }
    *out = b;
    return ATLS_OK;
}

void atls_batcher_free(atls_batcher *b)
{
    if (b == NULL) {
        return;
    }
    pthread_mutex_lock(&b->mutex);
    b->stop = 1;
    pthread_cond_signal(&b->work);
    pthread_mutex_unlock(&b->mutex);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->done);
    pthread_cond_destroy(&b->work);
    pthread_mutex_destroy(&b->mutex);
    release(b);
}

void atls_batcher_get_stats(atls_batcher *b, atls_batcher_stats *out)
{
    pthread_mutex_lock(&b->mutex);
    *out = b->stats;
    out->waiting = b->waiting;
    pthread_mutex_unlock(&b->mutex);
}
