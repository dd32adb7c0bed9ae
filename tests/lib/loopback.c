/* loopback.c: TCP servers and clients on 127.0.0.1 (loopback.h). */
#include "loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define LOOPBACK_TIMEOUT_MS 10000

void loopback_set_timeouts(int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void *accept_loop(void *arg)
{
    loopback_server *s = arg;
    for (;;) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) {
                continue;
            }
            break; /* the listener was shut down */
        }
        loopback_set_timeouts(fd, LOOPBACK_TIMEOUT_MS);
        s->accepted++;
        s->on_conn(s->arg, fd);
    }
    return NULL;
}

int loopback_server_start(loopback_server *s)
{
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->listen_fd < 0) {
        perror("loopback: socket");
        return -1;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)s->bind_port);
    int one = 1;
    (void)setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    socklen_t len = sizeof(sa);
    if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(s->listen_fd, 16) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("loopback: bind/listen");
        close(s->listen_fd);
        s->listen_fd = -1;
        return -1;
    }
    s->port = ntohs(sa.sin_port);
    s->accepted = 0;
    if (pthread_create(&s->thread, NULL, accept_loop, s) != 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
        return -1;
    }
    s->running = 1;
    return 0;
}

void loopback_server_stop(loopback_server *s)
{
    if (!s->running) {
        return;
    }
    shutdown(s->listen_fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    s->listen_fd = -1;
    s->running = 0;
}

int loopback_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    /* as `atls connect` does (tools/atls/cli_net.c): without it an attestation's small
     * frames can wait for a delayed ACK */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    loopback_set_timeouts(fd, LOOPBACK_TIMEOUT_MS);
    return fd;
}
