/*
 * test_delay_relay: the delaying relay (tests/lib/delay_relay.h) adds its delay to every round
 * trip in both directions, keeps bytes in order through a large transfer, carries the end of
 * stream, relays connections concurrently, and stops with connections still open.
 */
#include "delay_relay.h"
#include "loopback.h"

#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* echo until end of stream, then close */
static void echo(void *arg, int fd)
{
    (void)arg;
    uint8_t buf[8192];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            break;
        }
        if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n) {
            break;
        }
    }
    close(fd);
}

static int recv_all(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n <= 0) {
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

/* one round trip of a small message through |port|, in ms (-1 on failure) */
static long round_trip(int port)
{
    int fd = loopback_connect(port);
    if (fd < 0) {
        return -1;
    }
    uint8_t got[4];
    long t0 = now_ms();
    int ok = send(fd, "ping", 4, 0) == 4 && recv_all(fd, got, 4) == 0 && memcmp(got, "ping", 4) == 0;
    long t = now_ms() - t0;
    close(fd);
    return ok ? t : -1;
}

static void test_delay(loopback_server *backend)
{
    const int delays[] = {0, 10, 40};
    for (int i = 0; i < 3; i++) {
        delay_relay r = {.target_port = backend->port, .delay_ms = delays[i]};
        CHECK(delay_relay_start(&r) == 0);
        long best = 1000000;
        for (int k = 0; k < 3; k++) {
            long t = round_trip(r.port);
            CHECK(t >= 0);
            best = t < best ? t : best;
        }
        printf("one-way delay %d ms: round trip %ld ms\n", delays[i], best);
        CHECK(best >= 2 * delays[i]);
        CHECK(best < 2 * delays[i] + 40);
        delay_relay_stop(&r);
    }
}

static void test_bulk_and_eof(loopback_server *backend)
{
    delay_relay r = {.target_port = backend->port, .delay_ms = 2};
    CHECK(delay_relay_start(&r) == 0);
    int fd = loopback_connect(r.port);
    CHECK(fd >= 0);
    size_t len = 1u << 20;
    uint8_t *out = malloc(len), *in = malloc(len);
    for (size_t i = 0; i < len; i++) {
        out[i] = (uint8_t)(i * 131 + (i >> 9));
    }
    /* write and read concurrently in slices (the echo backend answers as it reads) */
    size_t sent = 0, got = 0;
    while (got < len) {
        if (sent < len) {
            size_t n = len - sent < 65536 ? len - sent : 65536;
            CHECK(send(fd, out + sent, n, 0) == (ssize_t)n);
            sent += n;
        }
        ssize_t n = recv(fd, in + got, len - got, sent < len ? MSG_DONTWAIT : 0);
        if (n > 0) {
            got += (size_t)n;
        } else if (n == 0) {
            break;
        }
    }
    CHECK(got == len && memcmp(in, out, len) == 0);
    /* our end of stream reaches the backend, whose close comes back as ours */
    shutdown(fd, SHUT_WR);
    uint8_t b;
    CHECK(recv(fd, &b, 1, 0) == 0);
    close(fd);
    free(in), free(out);
    delay_relay_stop(&r);
    CHECK(r.connections == 1);
}

struct client {
    int port;
    long t;
};

static void *client_thread(void *arg)
{
    struct client *c = arg;
    c->t = round_trip(c->port);
    return NULL;
}

static void test_concurrent_and_stop(loopback_server *backend)
{
    delay_relay r = {.target_port = backend->port, .delay_ms = 30};
    CHECK(delay_relay_start(&r) == 0);
    /* the backend serves one at a time, so the second waits for the first: both arrive */
    struct client c[2] = {{r.port, 0}, {r.port, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_create(&t[i], NULL, client_thread, &c[i]) == 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK(c[i].t >= 60);
    }
    /* stop while a connection is open: the client sees the end */
    int fd = loopback_connect(r.port);
    CHECK(fd >= 0 && send(fd, "x", 1, 0) == 1);
    /* connect() returns once the kernel queued us: wait until the relay took the connection */
    int taken = 0;
    for (int i = 0; i < 200 && !taken; i++) {
        pthread_mutex_lock(&r.mu);
        taken = r.connections == 3;
        pthread_mutex_unlock(&r.mu);
        if (!taken) {
            usleep(10000);
        }
    }
    CHECK(taken);
    long t0 = now_ms();
    delay_relay_stop(&r);
    uint8_t b[2];
    ssize_t n = recv(fd, b, sizeof(b), 0);
    CHECK(n <= 1 && now_ms() - t0 < 2000);
    close(fd);
    CHECK(r.connections == 3);
    /* nothing listens any more */
    CHECK(round_trip(r.port) < 0);
}

int main(void)
{
    loopback_server backend = {.on_conn = echo};
    if (loopback_server_start(&backend) != 0) {
        return 1;
    }
    test_delay(&backend);
    test_bulk_and_eof(&backend);
    test_concurrent_and_stop(&backend);
    loopback_server_stop(&backend);
    return check_summary();
}
