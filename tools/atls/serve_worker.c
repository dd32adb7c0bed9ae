/* serve_worker.c: the event-loop workers of `atls serve` (serve.h). Each worker owns its
 * connections (serve_conn.h) and one epoll set, level-triggered, with an eventfd through which
 * the main thread hands it new connections and the Evidence side hands back connections whose
 * job was produced. Timers: each connection states when it must be stepped next; the worker
 * keeps the earliest and scans its list when that time comes. */
#include "logging.h"
#include "metrics.h"
#include "serve.h"
#include "serve_conn.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define IDLE_WAIT_MS 1000
#define MALLOC_TRIM_MS 1000 /* at most this often: memory of trimmed connections to the OS */

struct serve_worker {
    server *srv;
    int ep, wake;               /* epoll set, eventfd */
    pthread_t thread;
    int started;
    pthread_mutex_t lock;       /* guards incoming, back */
    conn *incoming;             /* new connections from the main thread */
    conn *back;                 /* connections whose Evidence job came back */
    /* owned by the worker thread */
    conn *conns;                /* every connection of this worker */
    conn *ready;                /* to step again without waiting */
    conn *dead;                 /* finished, freed at the end of the round (an epoll batch may
                                   still name them) */
    int count;
    int64_t next_deadline;      /* earliest deadline of any connection (0: none) */
    int stopping;               /* serve_conn_stop was sent to every connection */
    int trims;                  /* connections trimmed since the last malloc_trim */
    int64_t last_malloc_trim;
    atomic_int open;            /* connections not yet freed (read by the main thread) */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(serve_worker *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->wake, &one, sizeof(one));
    (void)r;
}

/* sync_interest: the epoll set gets what the connection's last step asked for */
static void sync_interest(serve_worker *w, conn *c)
{
    int fds[2] = {c->fd, c->backend};
    for (int i = 0; i < 2; i++) {
        uint32_t want = c->state == CONN_DONE ? 0 : c->want[i];
        if (fds[i] < 0 || want == c->registered[i]) {
            continue;
        }
        struct epoll_event ev = {.events = want, .data.ptr = &c->ref[i]};
        int op = c->registered[i] == 0 ? EPOLL_CTL_ADD : want == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
        if (epoll_ctl(w->ep, op, fds[i], &ev) == 0 || op == EPOLL_CTL_DEL) {
            c->registered[i] = want;
        }
    }
}

static void unlink_conn(serve_worker *w, conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        w->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    w->count--;
}

/* after_step: interest, timers, the ready list; a finished connection is freed unless its
 * Evidence job is still out (then when it comes back) or it waits in the ready list */
static void after_step(serve_worker *w, conn *c)
{
    sync_interest(w, c);
    w->trims += c->trimmed;
    c->trimmed = 0;
    if (c->state == CONN_DONE) {
        if (c->job_out || c->dead) {
            return; /* freed when its job is back / already on the dead list */
        }
        c->dead = 1;
        unlink_conn(w, c);
        c->next_back = w->dead;
        w->dead = c;
        return;
    }
    if (c->deadline_ms > 0 && (w->next_deadline == 0 || c->deadline_ms < w->next_deadline)) {
        w->next_deadline = c->deadline_ms;
    }
    if (c->ready && !c->in_ready) {
        c->in_ready = 1;
        c->next_ready = w->ready;
        w->ready = c;
    }
}

/* bury frees the finished connections, except those still on the ready list (run_ready
 * skips them and the next round frees them) */
static void bury(serve_worker *w)
{
    conn **link = &w->dead;
    while (*link != NULL) {
        conn *c = *link;
        if (c->in_ready) {
            link = &c->next_back;
            continue;
        }
        *link = c->next_back;
        serve_conn_free(c);
        atomic_fetch_sub(&w->open, 1);
        atomic_fetch_sub(&w->srv->active, 1);
        metrics_open_add(-1);
    }
}

static void step(serve_worker *w, conn *c, uint32_t ev0, uint32_t ev1)
{
    if (c->state != CONN_DONE) {
        uint32_t revents[2] = {ev0, ev1};
        serve_conn_step(c, revents);
    }
    after_step(w, c);
}

static void take_handed(serve_worker *w)
{
    uint64_t n;
    ssize_t r = read(w->wake, &n, sizeof(n));
    (void)r;
    pthread_mutex_lock(&w->lock);
    conn *in = w->incoming, *back = w->back;
    w->incoming = w->back = NULL;
    pthread_mutex_unlock(&w->lock);
    while (in != NULL) {
        conn *c = in;
        in = c->next;
        c->prev = NULL;
        c->next = w->conns;
        if (w->conns != NULL) {
            w->conns->prev = c;
        }
        w->conns = c;
        w->count++;
        if (w->stopping) {
            serve_conn_stop(c);
        }
        step(w, c, EPOLLIN, 0);
    }
    while (back != NULL) {
        conn *c = back;
        back = c->next_back;
        c->in_back = 0;
        c->job_out = 0;
        if (c->state != CONN_DONE) {
            serve_conn_evidence_back(c);
            step(w, c, 0, 0);
        } else {
            atls_evidence_job_free(c->job);
            c->job = NULL;
            after_step(w, c);
        }
    }
}

/* run_timers: step every connection whose deadline has come; recompute the earliest */
static void run_timers(serve_worker *w, int64_t now)
{
    if (w->next_deadline == 0 || now < w->next_deadline) {
        return;
    }
    w->next_deadline = 0;
    conn *c = w->conns;
    while (c != NULL) {
        conn *next = c->next; /* |c| may be freed by its step */
        if (c->deadline_ms > 0 && now >= c->deadline_ms) {
            step(w, c, 0, 0);
        } else if (c->deadline_ms > 0 &&
                   (w->next_deadline == 0 || c->deadline_ms < w->next_deadline)) {
            w->next_deadline = c->deadline_ms;
        }
        c = next;
    }
}

static void run_ready(serve_worker *w)
{
    /* one step each per round: the sockets get their turn in between */
    conn *list = w->ready;
    w->ready = NULL;
    while (list != NULL) {
        conn *c = list;
        list = c->next_ready;
        c->in_ready = 0;
        if (!c->dead) {
            step(w, c, 0, 0);
        }
    }
}

static void begin_stop(serve_worker *w)
{
    w->stopping = 1;
    conn *c = w->conns;
    while (c != NULL) {
        conn *next = c->next;
        serve_conn_stop(c);
        step(w, c, 0, 0);
        c = next;
    }
}

static void *worker_main(void *arg)
{
    serve_worker *w = arg;
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        if (serve_stopping && !w->stopping) {
            begin_stop(w);
        }
        if (w->stopping && w->count == 0) {
            break;
        }
        int timeout = IDLE_WAIT_MS;
        int64_t now = now_ms();
        if (w->ready != NULL) {
            timeout = 0;
        } else if (w->next_deadline > 0) {
            int64_t d = w->next_deadline - now;
            timeout = d <= 0 ? 0 : d < IDLE_WAIT_MS ? (int)d : IDLE_WAIT_MS;
        }
        if (w->stopping && timeout > 100) {
            timeout = 100;
        }
        int n = epoll_wait(w->ep, evs, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            log_event(LOG_ERROR, "worker_failed", "reason=epoll_wait:%s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                take_handed(w);
                continue;
            }
            conn_ref *ref = evs[i].data.ptr;
            conn *c = ref->c;
            /* a connection freed earlier in this batch cannot appear: frees wait for the end
             * of the batch (after_step defers through the ready list) */
            if (ref->which == 0) {
                step(w, c, evs[i].events, 0);
            } else {
                step(w, c, 0, evs[i].events);
            }
        }
        run_ready(w);
        run_timers(w, now_ms());
        bury(w);
        /* buffers freed by idle connections lie between live allocations, where free() keeps
         * them resident: hand those pages back (glibc's malloc_trim), at most once a second */
        if (w->trims > 0 && now_ms() - w->last_malloc_trim >= MALLOC_TRIM_MS) {
            (void)malloc_trim(0);
            w->trims = 0;
            w->last_malloc_trim = now_ms();
        }
    }
    return NULL;
}

int serve_workers_start(server *srv)
{
    srv->workers = calloc((size_t)srv->num_workers, sizeof(srv->workers[0]));
    if (srv->workers == NULL) {
        cli_error("out of memory");
        return -1;
    }
    for (int i = 0; i < srv->num_workers; i++) {
        serve_worker *w = calloc(1, sizeof(*w));
        if (w == NULL) {
            cli_error("out of memory");
            return -1;
        }
        srv->workers[i] = w;
        w->srv = srv;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        pthread_mutex_init(&w->lock, NULL);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        if (w->ep < 0 || w->wake < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &ev) != 0) {
            cli_error("worker %d: %s", i, strerror(errno));
            return -1;
        }
        sigset_t block, old;
        sigfillset(&block); /* workers leave the signals to the main thread */
        pthread_sigmask(SIG_BLOCK, &block, &old);
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
            cli_error("cannot start worker %d: %s", i, strerror(rc));
            return -1;
        }
        w->started = 1;
    }
    return 0;
}

void serve_workers_add(server *srv, int fd)
{
    static unsigned next_worker;
    serve_worker *w = srv->workers[next_worker++ % (unsigned)srv->num_workers];
    unsigned long id = atomic_fetch_add(&srv->next_id, 1) + 1;
    conn *c = serve_conn_new(srv, w, fd, id);
    if (c == NULL) {
        cli_error("out of memory for connection %lu", id);
        return;
    }
    atomic_fetch_add(&srv->active, 1);
    atomic_fetch_add(&w->open, 1);
    metrics_open_add(1);
    pthread_mutex_lock(&w->lock);
    c->next = w->incoming;
    w->incoming = c;
    pthread_mutex_unlock(&w->lock);
    wake(w);
}

void serve_worker_evidence_back(conn *c)
{
    serve_worker *w = c->worker;
    pthread_mutex_lock(&w->lock);
    c->in_back = 1;
    c->next_back = w->back;
    w->back = c;
    pthread_mutex_unlock(&w->lock);
    wake(w);
}

int serve_workers_stop(server *srv, int ms)
{
    int64_t deadline = now_ms() + ms;
    int open = 0;
    for (int i = 0; srv->workers != NULL && i < srv->num_workers; i++) {
        serve_worker *w = srv->workers[i];
        if (w == NULL || !w->started) {
            continue;
        }
        wake(w);
        while (atomic_load(&w->open) > 0 && now_ms() < deadline) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        open += atomic_load(&w->open);
    }
    return open;
}

void serve_workers_free(server *srv)
{
    serve_stopping = 1; /* also when start-up failed after the workers started */
    for (int i = 0; srv->workers != NULL && i < srv->num_workers; i++) {
        serve_worker *w = srv->workers[i];
        if (w == NULL) {
            continue;
        }
        if (w->started) {
            wake(w);
            if (atomic_load(&w->open) != 0) {
                continue; /* connections still open: it keeps running until exit() */
            }
            pthread_join(w->thread, NULL); /* it ends at once: stopping, nothing open */
        }
        if (w->ep >= 0) {
            close(w->ep);
        }
        if (w->wake >= 0) {
            close(w->wake);
        }
        pthread_mutex_destroy(&w->lock);
        free(w);
    }
    free(srv->workers);
    srv->workers = NULL;
}
