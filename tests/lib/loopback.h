/*
 * loopback.h: TCP servers and clients on 127.0.0.1 for tests that need network positions
 * (a client, an attacker in the middle, two genuine servers): each server listens on a port the
 * kernel picks (bind to port 0, so no two tests collide) and hands every accepted connection to
 * a callback, one connection at a time, in its own thread.
 *
 *   loopback_server s = {.on_conn = serve, .arg = state};
 *   if (loopback_server_start(&s) != 0) ...;      s.port is the port
 *   int fd = loopback_connect(s.port);            blocking, with send/receive timeouts
 *   loopback_server_stop(&s);                     stops accepting, joins the thread
 *
 * Thread-safety: the callback runs in the server's thread; what it shares with the test is the
 * test's business. Sockets are blocking with 10 s send/receive timeouts, so a broken peer ends
 * a test instead of hanging it.
 */
#ifndef ATLS_TESTS_LOOPBACK_H
#define ATLS_TESTS_LOOPBACK_H

#include <pthread.h>

typedef struct loopback_server {
    /* set by the caller */
    void (*on_conn)(void *arg, int fd); /* owns fd (closes it) */
    void *arg;
    int bind_port;         /* 0: a free port the kernel picks; else this one (scripts that
                              allocate ports themselves) */
    /* set by loopback_server_start */
    int port;
    int listen_fd;
    int accepted;          /* connections handed to on_conn so far */
    pthread_t thread;
    int running;
} loopback_server;

/* loopback_server_start listens on 127.0.0.1:<free port> and starts the accept thread.
 * Returns 0, or -1 (reason on stderr). */
int loopback_server_start(loopback_server *s);

/* loopback_server_stop stops accepting, waits for the connection being served, closes the
 * listener. Idempotent. */
void loopback_server_stop(loopback_server *s);

/* loopback_connect: a connected blocking socket to 127.0.0.1:|port| (TCP_NODELAY, 10 s send
 * and receive timeouts), or -1. */
int loopback_connect(int port);

/* loopback_set_timeouts sets |ms| send and receive timeouts on |fd| (0: none). */
void loopback_set_timeouts(int fd, int ms);

#endif /* ATLS_TESTS_LOOPBACK_H */
