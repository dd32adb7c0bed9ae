/* echo_backend.c: a tiny TCP backend for the demo and the CLI tests (not part of atls).
 *
 *   atls-echo-backend PORT              echo every byte back
 *   atls-echo-backend --http PORT       answer each connection with a small HTTP/1.0 response
 *   atls-echo-backend --sink FILE PORT  read until EOF, append "<sha256 hex> <bytes>" to FILE
 *
 * Listens on 127.0.0.1 only (or, for PORT unix:/path, on that Unix-domain socket), one thread
 * per connection, runs until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum mode { MODE_ECHO, MODE_HTTP, MODE_SINK };

static enum mode mode = MODE_ECHO;
static const char *sink_path;
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void do_echo(int fd)
{
    char buf[65536];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0) {
        if (write_all(fd, buf, (size_t)r) != 0) {
            return;
        }
    }
}

static void do_http(int fd)
{
    /* read the request head (up to the blank line), then answer and close */
    char buf[8192];
    size_t have = 0;
    while (have < sizeof(buf) - 1) {
        ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
        if (r <= 0) {
            return;
        }
        have += (size_t)r;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL) {
            break;
        }
    }
    static const char body[] = "hello from the atls echo backend\n";
    char resp[256];
    int n = snprintf(resp, sizeof(resp),
                     "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s", sizeof(body) - 1, body);
    (void)write_all(fd, resp, (size_t)n);
}

static void do_sink(int fd)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return;
    }
    char buf[65536];
    ssize_t r;
    unsigned long long total = 0;
    while ((r = read(fd, buf, sizeof(buf))) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)r);
        total += (unsigned long long)r;
    }
    unsigned char d[32];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(md, d, &dl);
    EVP_MD_CTX_free(md);
    if (total == 0) {
        return; /* a probe connection */
    }
    pthread_mutex_lock(&sink_lock);
    FILE *f = fopen(sink_path, "a");
    if (f != NULL) {
        for (unsigned int i = 0; i < dl; i++) {
            fprintf(f, "%02x", d[i]);
        }
        fprintf(f, " %llu\n", total);
        fclose(f);
    }
    pthread_mutex_unlock(&sink_lock);
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    if (mode == MODE_HTTP) {
        do_http(fd);
    } else if (mode == MODE_SINK) {
        do_sink(fd);
    } else {
        do_echo(fd);
    }
    close(fd);
    return NULL;
}

__attribute__((noreturn)) static int accept_loop(int lfd);

int main(int argc, char **argv)
{
    int i = 1;
    if (i < argc && strcmp(argv[i], "--http") == 0) {
        mode = MODE_HTTP;
        i++;
    } else if (i + 1 < argc && strcmp(argv[i], "--sink") == 0) {
        mode = MODE_SINK;
        sink_path = argv[i + 1];
        i += 2;
    }
    if (i + 1 != argc) {
        fprintf(stderr, "usage: atls-echo-backend [--http | --sink FILE] PORT|unix:PATH\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (strncmp(argv[i], "unix:", 5) == 0) {
        struct sockaddr_un su;
        memset(&su, 0, sizeof(su));
        su.sun_family = AF_UNIX;
        if (strlen(argv[i] + 5) >= sizeof(su.sun_path)) {
            fprintf(stderr, "atls-echo-backend: socket path too long\n");
            return 2;
        }
        strcpy(su.sun_path, argv[i] + 5);
        (void)unlink(su.sun_path);
        int ufd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (ufd < 0 || bind(ufd, (struct sockaddr *)&su, sizeof(su)) != 0 || listen(ufd, 64) != 0) {
            fprintf(stderr, "atls-echo-backend: cannot listen on %s: %s\n", argv[i],
                    strerror(errno));
            return 2;
        }
        return accept_loop(ufd);
    }
    int port = atoi(argv[i]);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0) {
        fprintf(stderr, "atls-echo-backend: cannot listen on 127.0.0.1:%d: %s\n", port,
                strerror(errno));
        return 2;
    }
    return accept_loop(lfd);
}

__attribute__((noreturn)) static int accept_loop(int lfd)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) != 0) {
            close(fd);
            continue;
        }
        pthread_detach(t);
    }
}
