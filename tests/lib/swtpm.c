/* swtpm.c: a private software TPM per test program (swtpm.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "swtpm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNNING 4

/* Copies (not pointers: the caller's struct may live on main's stack, gone at exit time). */
static test_swtpm running[MAX_RUNNING];
static int atexit_done;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void stop_all(void)
{
    for (int i = 0; i < MAX_RUNNING; i++) {
        if (running[i].dir[0] != '\0') {
            test_swtpm copy = running[i];
            test_swtpm_stop(&copy);
        }
    }
}

/* try_bind: 1 if 127.0.0.1:port can be bound right now; with port 0, *port gets the choice. */
static int try_bind(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)*port);
    socklen_t len = sizeof(sa);
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
             getsockname(fd, (struct sockaddr *)&sa, &len) == 0;
    if (ok) {
        *port = ntohs(sa.sin_port);
    }
    close(fd);
    return ok;
}

static int can_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

/* pick_ports: an ephemeral port P below 65535 with P+1 also free. */
static int pick_ports(void)
{
    for (int i = 0; i < 50; i++) {
        int p = 0;
        if (!try_bind(&p) || p >= 65535) {
            continue;
        }
        int q = p + 1;
        if (try_bind(&q)) {
            return p;
        }
    }
    return -1;
}

static int run_swtpm(const test_swtpm *t)
{
    char state[300], server[128], ctrl[128], pidf[300], logf[300];
    snprintf(state, sizeof(state), "dir=%s/state", t->dir);
    snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", t->port);
    snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", t->port + 1);
    snprintf(pidf, sizeof(pidf), "file=%s/swtpm.pid", t->dir);
    snprintf(logf, sizeof(logf), "file=%s/swtpm.log", t->dir);
    pid_t child = fork();
    if (child < 0) {
        return -1;
    }
    if (child == 0) {
        char *argv[] = {"swtpm", "socket", "--tpm2", "--tpmstate", state, "--server", server,
                        "--ctrl", ctrl, "--flags", "not-need-init,startup-clear", "--daemon",
                        "--pid", pidf, "--log", logf, NULL};
        execvp("swtpm", argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        return 77;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int read_pid(const test_swtpm *t)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/swtpm.pid", t->dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    int pid = 0;
    if (fscanf(f, "%d", &pid) != 1) {
        pid = 0;
    }
    fclose(f);
    return pid;
}

int test_swtpm_start(test_swtpm *t)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "%s/atls-swtpm-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(t->dir) == NULL) {
        perror("swtpm: mkdtemp");
        return -1;
    }
    char state[300];
    snprintf(state, sizeof(state), "%s/state", t->dir);
    if (mkdir(state, 0700) != 0) {
        perror("swtpm: mkdir");
        return -1;
    }
    if (!atexit_done) {
        atexit(stop_all);
        atexit_done = 1;
    }
    for (int attempt = 0; attempt < 5; attempt++) { /* a port may be taken between pick and use */
        t->port = pick_ports();
        if (t->port < 0) {
            fprintf(stderr, "swtpm: no free port pair on 127.0.0.1\n");
            break;
        }
        int rc = run_swtpm(t);
        if (rc == 77) {
            fprintf(stderr, "swtpm: not installed\n");
            test_swtpm_stop(t);
            return 77;
        }
        if (rc != 0) {
            continue;
        }
        for (int w = 0; w < 100 && (t->pid = read_pid(t)) == 0; w++) {
            sleep_ms(20);
        }
        for (int w = 0; w < 100 && t->pid > 0 && !can_connect(t->port); w++) {
            sleep_ms(20);
        }
        if (t->pid > 0 && can_connect(t->port)) {
            snprintf(t->tcti, sizeof(t->tcti), "swtpm:host=127.0.0.1,port=%d", t->port);
            for (int i = 0; i < MAX_RUNNING; i++) {
                if (running[i].dir[0] == '\0') {
                    running[i] = *t;
                    break;
                }
            }
            return 0;
        }
        fprintf(stderr, "swtpm: started but not reachable on port %d\n", t->port);
        if (t->pid > 0) {
            kill(t->pid, SIGKILL);
            t->pid = 0;
        }
    }
    test_swtpm_stop(t);
    return -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_swtpm_stop(test_swtpm *t)
{
    for (int i = 0; i < MAX_RUNNING; i++) {
        if (t->dir[0] != '\0' && strcmp(running[i].dir, t->dir) == 0) {
            memset(&running[i], 0, sizeof(running[i]));
        }
    }
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        for (int w = 0; w < 100 && kill(t->pid, 0) == 0; w++) {
            sleep_ms(10);
        }
        if (kill(t->pid, 0) == 0) {
            kill(t->pid, SIGKILL);
        }
        t->pid = 0;
    }
    if (t->dir[0] != '\0') {
        nftw(t->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        t->dir[0] = '\0';
    }
}

void test_swtpm_setenv(const test_swtpm *t)
{
    setenv("TPM2TOOLS_TCTI", t->tcti, 1);
}
