/*
 * soak_pump: plain-TCP load for the soak test (tests/soak/soak.sh) and the tunnel benchmark
 * (bench/, scripts/bench). One thread, non-blocking sockets, poll(2); 127.0.0.1 only.
 *
 *   soak_pump flood PORT BYTES        send BYTES to an echo service and read them back;
 *                                     prints "bytes=B seconds=S mbps=M" (payload MB/s one way)
 *   soak_pump echo PORT N SECONDS     N good clients: each sends a 512-byte numbered message,
 *                                     checks the echo byte for byte, pauses 20 ms, repeats;
 *                                     prints "connections=N roundtrips=R failures=F"; exit 1
 *                                     when any connection failed
 *   soak_pump slow PORT N SECONDS     N slow readers: send until the socket blocks, then read
 *                                     1 KiB per second
 */
#include "loopback.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 512

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* dial_nonblocking: a connected non-blocking TCP socket to 127.0.0.1:port, or -1. */
static int dial_nonblocking(int port)
{
    int fd = loopback_connect(port);
    if (fd >= 0) {
        int fl = fcntl(fd, F_GETFL);
        (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    return fd;
}

static int flood(int port, long long total)
{
    int fd = dial_nonblocking(port);
    if (fd < 0) {
        perror("connect");
        return 2;
    }
    static uint8_t out[65536], in[65536];
    for (size_t i = 0; i < sizeof(out); i++) {
        out[i] = (uint8_t)(i * 31u + 7u);
    }
    long long sent = 0, got = 0;
    double t0 = now_s();
    while (got < total) {
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (sent < total ? POLLOUT : 0))};
        if (poll(&p, 1, 30000) <= 0) {
            fprintf(stderr, "flood: stalled at %lld of %lld bytes\n", got, total);
            return 1;
        }
        if (sent < total && (p.revents & POLLOUT)) {
            size_t chunk = sizeof(out);
            if ((long long)chunk > total - sent) {
                chunk = (size_t)(total - sent);
            }
            ssize_t w = write(fd, out, chunk);
            if (w > 0) {
                sent += w;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(fd, in, sizeof(in));
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                fprintf(stderr, "flood: closed at %lld of %lld bytes\n", got, total);
                return 1;
            }
            if (r > 0) {
                got += r;
            }
        }
    }
    double dt = now_s() - t0;
    close(fd);
    printf("bytes=%lld seconds=%.3f mbps=%.1f\n", total, dt, (double)total / dt / 1e6);
    return 0;
}

typedef struct conn {
    int fd;
    uint32_t seq;
    uint8_t msg[MSG];
    size_t off_out, off_in;
    uint8_t in[MSG];
    double next;      /* time of the next send */
    int waiting;      /* a message is in flight */
    int dead;
} conn;

static void make_msg(conn *c, int id)
{
    for (size_t i = 0; i < MSG; i++) {
        c->msg[i] = (uint8_t)((uint32_t)id * 131u + c->seq * 17u + (uint32_t)i);
    }
}

static int echo_clients(int port, int n, double seconds, int slow)
{
    conn *cs = calloc((size_t)n, sizeof(conn));
    struct pollfd *ps = calloc((size_t)n, sizeof(struct pollfd));
    if (cs == NULL || ps == NULL) {
        return 2;
    }
    long long rounds = 0, failures = 0;
    static uint8_t junk[65536], sink[1024];
    memset(junk, 'j', sizeof(junk));
    double t_end = now_s() + seconds;
    for (int i = 0; i < n; i++) {
        cs[i].fd = dial_nonblocking(port);
        if (cs[i].fd < 0) {
            cs[i].dead = 1;
            failures++;
            fprintf(stderr, "client %d: cannot connect\n", i);
        }
        make_msg(&cs[i], i);
        cs[i].next = now_s();
    }
    while (now_s() < t_end) {
        double t = now_s();
        for (int i = 0; i < n; i++) {
            conn *c = &cs[i];
            ps[i].fd = c->dead ? -1 : c->fd;
            ps[i].events = POLLIN;
            if (!slow && !c->waiting && t >= c->next) {
                c->waiting = 1;
                c->off_out = c->off_in = 0;
            }
            if (slow || (c->waiting && c->off_out < MSG)) {
                ps[i].events |= POLLOUT;
            }
            if (slow && t < c->next) {
                ps[i].events &= (short)~POLLIN;
            }
        }
        if (poll(ps, (nfds_t)n, 10) < 0 && errno != EINTR) {
            return 2;
        }
        t = now_s();
        for (int i = 0; i < n; i++) {
            conn *c = &cs[i];
            if (c->dead) {
                continue;
            }
            if (slow) {
                if (ps[i].revents & POLLOUT) {
                    (void)write(c->fd, junk, sizeof(junk)); /* until the socket blocks */
                }
                if ((ps[i].revents & POLLIN) && t >= c->next) {
                    ssize_t r = read(c->fd, sink, sizeof(sink));
                    if (r == 0) {
                        c->dead = 1;
                    }
                    c->next = t + 1.0;
                }
                continue;
            }
            if ((ps[i].revents & POLLOUT) && c->waiting && c->off_out < MSG) {
                ssize_t w = write(c->fd, c->msg + c->off_out, MSG - c->off_out);
                if (w > 0) {
                    c->off_out += (size_t)w;
                }
            }
            if (ps[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t r = read(c->fd, c->in + c->off_in, MSG - c->off_in);
                if (r == 0 || (r < 0 && errno != EAGAIN) || !c->waiting) {
                    fprintf(stderr, "client %d: %s after %u round trips\n", i,
                            r == 0 ? "closed" : (r < 0 ? strerror(errno) : "unexpected bytes"),
                            c->seq);
                    c->dead = 1;
                    failures++;
                    continue;
                }
                if (r > 0) {
                    c->off_in += (size_t)r;
                }
                if (c->off_in == MSG) {
                    if (memcmp(c->in, c->msg, MSG) != 0) {
                        fprintf(stderr, "client %d: echo differs at round trip %u\n", i, c->seq);
                        c->dead = 1;
                        failures++;
                        continue;
                    }
                    rounds++;
                    c->seq++;
                    make_msg(c, i);
                    c->waiting = 0;
                    c->next = t + 0.02;
                }
            }
        }
    }
    /* a message still in flight at the end is not a failure: the clock ran out */
    for (int i = 0; i < n; i++) {
        if (cs[i].fd >= 0) {
            close(cs[i].fd);
        }
    }
    printf("connections=%d roundtrips=%lld failures=%lld\n", n, rounds, failures);
    free(cs);
    free(ps);
    return failures == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 4 && strcmp(argv[1], "flood") == 0) {
        return flood(atoi(argv[2]), atoll(argv[3]));
    }
    if (argc == 5 && (strcmp(argv[1], "echo") == 0 || strcmp(argv[1], "slow") == 0)) {
        int n = atoi(argv[3]);
        double s = atof(argv[4]);
        if (n < 1 || n > 20000 || s <= 0) {
            fprintf(stderr, "soak_pump: N must be 1..20000 and SECONDS positive\n");
            return 2;
        }
        return echo_clients(atoi(argv[2]), n, s, strcmp(argv[1], "slow") == 0);
    }
    fprintf(stderr, "usage: soak_pump flood PORT BYTES | echo PORT N SECONDS | slow PORT N SECONDS\n");
    return 2;
}
