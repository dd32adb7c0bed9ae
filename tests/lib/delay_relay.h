/*
 * delay_relay.h: a TCP relay on 127.0.0.1 that delays every byte by a fixed time in each
 * direction, to measure protocols at a chosen round-trip time without root (tc netem) or
 * another machine. A client connecting to relay.port reaches 127.0.0.1:target_port with
 * 2 x delay_ms added to every round trip.
 *
 *   delay_relay r = {.target_port = p, .delay_ms = 10};   20 ms round trip
 *   delay_relay_start(&r);  connect to r.port ...;  delay_relay_stop(&r);
 *
 * What it does not model: the TCP handshake itself (connect() completes locally at the relay),
 * loss, bandwidth limits; bytes keep their order and are forwarded as soon as they are due.
 * Each direction of each connection has its own thread; at most DELAY_RELAY_MAX_BUFFERED bytes
 * wait in one direction (the relay stops reading beyond that).
 */
#ifndef ATLS_TESTS_DELAY_RELAY_H
#define ATLS_TESTS_DELAY_RELAY_H

#include "loopback.h"

#include <pthread.h>

#define DELAY_RELAY_MAX_CONNS 64
#define DELAY_RELAY_MAX_BUFFERED (8u * 1024u * 1024u)

typedef struct delay_relay {
    int target_port;  /* set by the caller */
    int delay_ms;     /* one-way delay, each direction (0: a plain relay) */
    int port;         /* set by delay_relay_start */
    /* private */
    loopback_server lb;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    int active;                     /* pump threads running */
    int fds[2 * DELAY_RELAY_MAX_CONNS]; /* open sockets, -1 free (for stop) */
    int connections;                /* relayed so far */
} delay_relay;

/* delay_relay_start listens on a free loopback port. 0 or -1 (reason on stderr). */
int delay_relay_start(delay_relay *r);

/* delay_relay_stop stops accepting, cuts the connections still open and waits for every
 * relay thread. Idempotent. */
void delay_relay_stop(delay_relay *r);

#endif /* ATLS_TESTS_DELAY_RELAY_H */
