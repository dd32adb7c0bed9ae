/* collateral_refresh.c: serve's background refresh of its collateral directory
 * (collateral_refresh.h). */
#include "collateral_refresh.h"

#include <errno.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <atls/challenge.h>

struct collateral_refresh {
    fetch_opts o;
    fetch_params p;
    int interval_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
};

static void *run(void *arg)
{
    collateral_refresh *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        pthread_mutex_unlock(&r->lock);
        int fetched = 0, kept = 0;
        int rc = collateral_fetch(&r->o, &r->p, &fetched, &kept);
        if (rc != 0) {
            cli_error("collateral refresh of %s failed (see above); trying again in %d s",
                      r->o.dir, r->interval_s);
        } else {
            cli_log("collateral refresh of %s: %d fetched, %d kept", r->o.dir, fetched, kept);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += r->interval_s;
        pthread_mutex_lock(&r->lock);
        while (!r->stop && pthread_cond_timedwait(&r->wake, &r->lock, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int collateral_refresh_start(const fetch_cli *f, const char *dir, int interval_s,
                             const atls_attester_ops *ops, void *state,
                             collateral_refresh **out)
{
    *out = NULL;
    collateral_refresh *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    r->o = f->o;
    r->o.dir = dir;
    r->o.at = 0; /* always now */
    r->o.quiet = 1;
    r->interval_s = interval_s;
    uint8_t nonce[32], *ev = NULL;
    size_t len = 0;
    int rc = 0;
    if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
        atls_attester_produce_detached(ops, state, nonce, sizeof(nonce), &ev, &len) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "--collateral-refresh: attester");
    } else {
        rc = fetch_params_from(ops->media_type, ev, len, f->snp_product, &r->p);
    }
    free(ev);
    if (rc != 0) {
        free(r);
        return rc;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    if (pthread_create(&r->thread, NULL, run, r) != 0) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        cli_error("--collateral-refresh: cannot start a thread");
        return CLI_EXIT_USAGE;
    }
    *out = r;
    return 0;
}

void collateral_refresh_stop(collateral_refresh *r)
{
    if (r == NULL) {
        return;
    }
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
