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
#include <sys/prctl.h>
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

/* stop_pid: SIGTERM, up to 1 s, then SIGKILL; the child is reaped (no zombie). */
static void stop_pid(test_swtpm *t)
{
    if (t->pid <= 0) {
        return;
    }
    kill(t->pid, SIGTERM);
    int status = 0;
    pid_t r = 0;
    for (int w = 0; w < 100 && (r = waitpid(t->pid, &status, WNOHANG)) == 0; w++) {
        sleep_ms(10);
    }
    if (r == 0) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, &status, 0);
    }
    t->pid = 0;
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

/* run_swtpm starts swtpm in the foreground as our child (no --daemon: a daemon is reparented
 * to init and outlives a test that CTest kills at its time limit). PR_SET_PDEATHSIG makes the
 * kernel kill it when the thread that started it dies, however the test ends (SIGKILL
 * included); the atexit handler and test_swtpm_stop cover the normal ends. Waits until it
 * accepts connections. Returns 0, 77 if swtpm is not installed, -1 if it exited (e.g. a port
 * was taken in the meantime) or never became reachable. */
static int run_swtpm(test_swtpm *t)
{
    char state[300], server[128], ctrl[128], logf[300];
    snprintf(state, sizeof(state), "dir=%s/state", t->dir);
    snprintf(server, sizeof(server), "type=tcp,port=%d,bindaddr=127.0.0.1", t->port);
    snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d,bindaddr=127.0.0.1", t->port + 1);
    snprintf(logf, sizeof(logf), "file=%s/swtpm.log", t->dir);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        return -1;
    }
    if (child == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
            _exit(126); /* the parent is already gone */
        }
        char *argv[] = {"swtpm", "socket", "--tpm2", "--tpmstate", state, "--server", server,
                        "--ctrl", ctrl, "--flags", "not-need-init,startup-clear", "--log", logf,
                        NULL};
        execvp("swtpm", argv);
        _exit(127);
    }
    t->pid = child;
    for (int w = 0; w < 250; w++) { /* 5 s */
        int status = 0;
        pid_t r = waitpid(child, &status, WNOHANG);
        if (r == child) {
            t->pid = 0;
            return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? 77 : -1;
        }
        if (can_connect(t->port)) {
            return 0;
        }
        sleep_ms(20);
    }
    return -1;
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
        if (rc == 0) {
            snprintf(t->tcti, sizeof(t->tcti), "swtpm:host=127.0.0.1,port=%d", t->port);
            for (int i = 0; i < MAX_RUNNING; i++) {
                if (running[i].dir[0] == '\0') {
                    running[i] = *t;
                    break;
                }
            }
            return 0;
        }
        fprintf(stderr, "swtpm: not reachable on port %d (attempt %d)\n", t->port, attempt + 1);
        stop_pid(t);
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
    stop_pid(t);
    if (t->dir[0] != '\0') {
        nftw(t->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        t->dir[0] = '\0';
    }
}

void test_swtpm_setenv(const test_swtpm *t)
{
    setenv("TPM2TOOLS_TCTI", t->tcti, 1);
}
