/* attester_guard.c: signals wait for the attester to be destroyed (attester_guard.h). */
#include "attester_guard.h"

#include <pthread.h>
#include <signal.h>

static atls_fair_lock *guard_lock;
static const atls_attester_ops *guard_ops; /* under guard_lock */
static void *guard_state;
static int guard_done;                     /* under guard_lock */
static int guard_running;
static sigset_t guard_set;

static void *guard_main(void *arg)
{
    (void)arg;
    int sig = 0;
    if (sigwait(&guard_set, &sig) != 0) {
        return NULL;
    }
    atls_fair_lock_acquire(guard_lock);
    if (!guard_done && guard_ops != NULL) {
        guard_ops->destroy(guard_state);
        guard_ops = NULL;
    }
    /* end the process as the signal's default action does (exit status "killed by sig") */
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    return NULL; /* not reached for a terminating signal */
}

int attester_guard_begin(atls_fair_lock *lock)
{
    guard_lock = lock;
    sigemptyset(&guard_set);
    sigaddset(&guard_set, SIGINT);
    sigaddset(&guard_set, SIGTERM);
    sigaddset(&guard_set, SIGHUP);
    sigaddset(&guard_set, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &guard_set, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, guard_main, NULL) != 0) {
        pthread_sigmask(SIG_UNBLOCK, &guard_set, NULL);
        return -1;
    }
    pthread_detach(t);
    guard_running = 1;
    return 0;
}

void attester_guard_attach(const atls_attester_ops *ops, void *state)
{
    guard_ops = ops;
    guard_state = state;
}

void attester_guard_end(void)
{
    if (!guard_running) {
        return;
    }
    atls_fair_lock_acquire(guard_lock);
    guard_done = 1;
    if (guard_ops != NULL) {
        guard_ops->destroy(guard_state);
        guard_ops = NULL;
    }
    atls_fair_lock_release(guard_lock);
    guard_running = 0;
    pthread_sigmask(SIG_UNBLOCK, &guard_set, NULL);
}
