/* serve_evidence.c: Evidence for `atls serve` off the I/O path (serve.h). A session's job
 * (atls/session.h evidence_async) goes to the batcher (--batch on: atls_batcher_submit; its
 * thread calls the metered attester once per batch) or to the one Evidence thread (--batch
 * off: one production per request, in arrival order, the attester being serialised anyway).
 * Either way the connection returns to its worker through serve_worker_evidence_back. */
#include "logging.h"
#include "serve_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct serve_evidence {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work;
    conn *head, *tail;     /* FIFO of connections whose job waits (linked by next_back) */
    int stop;
};

/* on_batch: the batcher's answer (its thread): into the job, back to the worker */
static void on_batch(void *arg, atls_error rc, uint8_t *out, size_t len, const char *reason)
{
    conn *c = arg;
    atls_evidence_job_complete(c->job, rc, out, len, reason);
    serve_worker_evidence_back(c);
}

static void *evidence_main(void *arg)
{
    serve_evidence *e = arg;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (e->head == NULL && !e->stop) {
            pthread_cond_wait(&e->work, &e->lock);
        }
        if (e->head == NULL) {
            break; /* stopping, and every job was answered */
        }
        conn *c = e->head;
        e->head = c->next_back;
        if (e->head == NULL) {
            e->tail = NULL;
        }
        pthread_mutex_unlock(&e->lock);
        atls_evidence_job_run(c->job); /* the metered attester, for this connection */
        serve_worker_evidence_back(c);
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

int serve_evidence_start(server *srv)
{
    serve_evidence *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        cli_error("out of memory");
        return -1;
    }
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->work, NULL);
    sigset_t block, old;
    sigfillset(&block);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&e->thread, NULL, evidence_main, e);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        cli_error("cannot start the Evidence thread: %s", strerror(rc));
        free(e);
        return -1;
    }
    srv->evidence = e;
    return 0;
}

int serve_evidence_submit(conn *c)
{
    server *srv = c->srv;
    if (srv->batcher != NULL) {
        atls_error rc = atls_batcher_submit(srv->batcher, atls_evidence_job_challenge(c->job),
                                            atls_evidence_job_max(c->job), on_batch, c);
        if (rc != ATLS_OK) {
            atls_evidence_job_complete(c->job, rc, NULL, 0, atls_error_message());
            return -1;
        }
        return 0;
    }
    serve_evidence *e = srv->evidence;
    pthread_mutex_lock(&e->lock);
    c->next_back = NULL;
    if (e->tail != NULL) {
        e->tail->next_back = c;
    } else {
        e->head = c;
    }
    e->tail = c;
    pthread_cond_signal(&e->work);
    pthread_mutex_unlock(&e->lock);
    return 0;
}

void serve_evidence_stop(server *srv)
{
    serve_evidence *e = srv->evidence;
    if (e == NULL) {
        return;
    }
    pthread_mutex_lock(&e->lock);
    e->stop = 1;
    pthread_cond_signal(&e->work);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    pthread_cond_destroy(&e->work);
    pthread_mutex_destroy(&e->lock);
    free(e);
    srv->evidence = NULL;
}
