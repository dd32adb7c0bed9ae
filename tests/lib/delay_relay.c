/* delay_relay.c: a delaying TCP relay on loopback (delay_relay.h). */
#include "delay_relay.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 16384

typedef struct chunk {
    struct chunk *next;
    int64_t due_ms;
    size_t len, off;
    int eof; /* the source closed: shut down the destination's write side when due */
    uint8_t data[];
} chunk;

typedef struct pump {
    delay_relay *r;
    int src, dst;
    struct pump *peer;
    int slot_src, slot_dst;
} pump;

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static chunk *new_chunk(size_t cap, int64_t due)
{
    chunk *c = malloc(sizeof(*c) + cap);
    if (c != NULL) {
        memset(c, 0, sizeof(*c));
        c->due_ms = due;
    }
    return c;
}

/* write_due: send every chunk whose time has come; -1 when the destination is gone. */
static int write_due(pump *p, chunk **head, chunk **tail, size_t *queued)
{
    while (*head != NULL && (*head)->due_ms <= now_ms()) {
        chunk *c = *head;
        if (c->eof) {
            shutdown(p->dst, SHUT_WR);
        }
        while (c->off < c->len) {
            ssize_t n = send(p->dst, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return -1;
            }
            c->off += (size_t)n;
        }
        *queued -= c->len;
        *head = c->next;
        if (*head == NULL) {
            *tail = NULL;
        }
        int eof = c->eof;
        free(c);
        if (eof) {
            return 1;
        }
    }
    return 0;
}

static void close_slot(delay_relay *r, int slot)
{
    pthread_mutex_lock(&r->mu);
    if (r->fds[slot] >= 0) {
        close(r->fds[slot]);
        r->fds[slot] = -1;
    }
    pthread_mutex_unlock(&r->mu);
}

static void *run_pump(void *arg)
{
    pump *p = arg;
    chunk *head = NULL, *tail = NULL;
    size_t queued = 0;
    int src_open = 1, done = 0;
    while (!done) {
        int timeout = -1;
        if (head != NULL) {
            int64_t wait = head->due_ms - now_ms();
            timeout = wait < 0 ? 0 : (int)wait;
        }
        struct pollfd pfd = {.fd = p->src, .events = POLLIN};
        int reading = src_open && queued < DELAY_RELAY_MAX_BUFFERED;
        int ready = 0;
        if (reading) {
            ready = poll(&pfd, 1, timeout);
        } else if (timeout > 0) {
            struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        } else if (head == NULL) {
            break; /* source closed and nothing left */
        }
        if (ready > 0) {
            chunk *c = new_chunk(CHUNK, now_ms() + p->r->delay_ms);
            ssize_t n = c != NULL ? recv(p->src, c->data, CHUNK, 0) : -1;
            if (n < 0 && errno == EINTR) {
                free(c);
                continue;
            }
            if (n <= 0) {
                src_open = 0;
                if (c != NULL) {
                    c->eof = 1; /* the end of stream travels with the same delay */
                }
            } else {
                c->len = (size_t)n;
                queued += c->len;
            }
            if (c != NULL) {
                if (tail != NULL) {
                    tail->next = c;
                } else {
                    head = c;
                }
                tail = c;
            }
        }
        int w = write_due(p, &head, &tail, &queued);
        if (w != 0) {
            done = 1; /* end of stream delivered, or the destination went away */
        }
    }
    while (head != NULL) {
        chunk *next = head->next;
        free(head);
        head = next;
    }
    delay_relay *r = p->r;
    /* the last of the two directions closes both sockets */
    pthread_mutex_lock(&r->mu);
    int last = p->peer == NULL;
    if (!last) {
        p->peer->peer = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    if (last) {
        close_slot(r, p->slot_src);
        close_slot(r, p->slot_dst);
    }
    free(p);
    pthread_mutex_lock(&r->mu);
    r->active--;
    pthread_cond_broadcast(&r->idle);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int take_slot(delay_relay *r, int fd)
{
    for (int i = 0; i < 2 * DELAY_RELAY_MAX_CONNS; i++) {
        if (r->fds[i] < 0) {
            r->fds[i] = fd;
            return i;
        }
    }
    return -1;
}

static void on_conn(void *arg, int client)
{
    delay_relay *r = arg;
    int up = loopback_connect(r->target_port);
    pump *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    pthread_mutex_lock(&r->mu);
    int sc = up >= 0 && a != NULL && b != NULL ? take_slot(r, client) : -1;
    int su = sc >= 0 ? take_slot(r, up) : -1;
    if (su < 0 && sc >= 0) {
        r->fds[sc] = -1;
    }
    pthread_mutex_unlock(&r->mu);
    if (su < 0) {
        fprintf(stderr, "delay_relay: cannot relay to port %d\n", r->target_port);
        free(a), free(b);
        close(client);
        if (up >= 0) {
            close(up);
        }
        return;
    }
    *a = (pump){r, client, up, b, sc, su};
    *b = (pump){r, up, client, a, su, sc};
    pthread_mutex_lock(&r->mu);
    r->active += 2;
    r->connections++;
    pthread_mutex_unlock(&r->mu);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pump *both[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (pthread_create(&t, &attr, run_pump, both[i]) != 0) {
            /* cannot happen in practice; keep the books straight */
            fprintf(stderr, "delay_relay: pthread_create failed\n");
            abort();
        }
    }
    pthread_attr_destroy(&attr);
}

int delay_relay_start(delay_relay *r)
{
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->idle, NULL);
    r->active = 0;
    r->connections = 0;
    for (int i = 0; i < 2 * DELAY_RELAY_MAX_CONNS; i++) {
        r->fds[i] = -1;
    }
    memset(&r->lb, 0, sizeof(r->lb));
    r->lb.on_conn = on_conn;
    r->lb.arg = r;
    if (loopback_server_start(&r->lb) != 0) {
        return -1;
    }
    r->port = r->lb.port;
    return 0;
}

void delay_relay_stop(delay_relay *r)
{
    if (!r->lb.running) {
        return;
    }
    loopback_server_stop(&r->lb);
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < 2 * DELAY_RELAY_MAX_CONNS; i++) {
        if (r->fds[i] >= 0) {
            shutdown(r->fds[i], SHUT_RDWR); /* wakes the pumps; they close */
        }
    }
    while (r->active > 0) {
        pthread_cond_wait(&r->idle, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
}
