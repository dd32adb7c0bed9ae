/* serve_limits.c: the descriptor limit of `atls serve` (serve_limits.h). */
#include "serve_limits.h"

#include "cli.h"
#include "logging.h"
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* descriptors serve needs besides its connections: metrics, collateral refresh (curl), logs,
 * an attester opening a TPM device, a SIGHUP reload reading files */
#define FD_HEADROOM 32

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) {
        return 16;
    }
    int n = 0;
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n > 3 ? n - 3 : n; /* ".", ".." and the directory's own fd */
}

void serve_fd_limit_init(serve_fd_limit *l)
{
    struct rlimit rl;
    memset(l, 0, sizeof(*l));
    l->reserve = -1;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        l->before = (long)rl.rlim_cur;
        if (rl.rlim_cur < rl.rlim_max) {
            rlim_t cur = rl.rlim_cur;
            rl.rlim_cur = rl.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
                rl.rlim_cur = cur;
            }
        }
        l->soft = (long)rl.rlim_cur;
        l->hard = (long)rl.rlim_max;
    } else {
        l->before = l->soft = l->hard = 1024;
    }
    l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    long room = l->soft - open_fds() - FD_HEADROOM;
    l->fit = room > 2 ? (int)(room / 2) : 1;
}

void serve_fd_limit_accept_failed(serve_fd_limit *l, int lfd, int err)
{
    if (l->reserve >= 0) {
        close(l->reserve);
        l->reserve = -1;
        int fd = accept(lfd, NULL, NULL);
        if (fd >= 0) {
            char peer[80];
            cli_peer_name(fd, peer, sizeof(peer));
            metrics_connection(METRICS_REFUSED);
            log_event(LOG_WARN, "refused", "peer=%s reason=%s nofile=%ld", peer,
                      err == ENFILE ? "the system's descriptor table is full"
                                    : "descriptor limit reached",
                      l->soft);
            close(fd);
        }
        l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
}

void serve_fd_limit_cleanup(serve_fd_limit *l)
{
    if (l->reserve >= 0) {
        close(l->reserve);
        l->reserve = -1;
    }
}
