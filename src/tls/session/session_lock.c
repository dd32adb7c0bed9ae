/* session_lock.c: atls_fair_lock, the FIFO lock that shares one attester between sessions
 * (atls/session.h). A plain mutex lets the thread that just released it win it again (glibc
 * mutexes are not fair), so one connection asking for Evidence in a loop could starve every
 * other; a ticket lock serves waiters strictly in the order they arrived. */
#include <atls/session.h>

#include "base/result.h"

atls_error atls_fair_lock_init(atls_fair_lock *lock)
{
    ATLS_ENSURE(lock != NULL, ATLS_ERR_USAGE, "atls_fair_lock_init: NULL lock");
    lock->next_ticket = 0;
    lock->now_serving = 0;
    ATLS_ENSURE(pthread_mutex_init(&lock->mutex, NULL) == 0, ATLS_ERR_INTERNAL,
                "atls_fair_lock_init: pthread_mutex_init failed");
    if (pthread_cond_init(&lock->turn, NULL) != 0) {
        pthread_mutex_destroy(&lock->mutex);
        ATLS_RAISE(ATLS_ERR_INTERNAL, "atls_fair_lock_init: pthread_cond_init failed");
    }
    return ATLS_OK;
}

void atls_fair_lock_destroy(atls_fair_lock *lock)
{
    pthread_cond_destroy(&lock->turn);
    pthread_mutex_destroy(&lock->mutex);
}

void atls_fair_lock_acquire(atls_fair_lock *lock)
{
    pthread_mutex_lock(&lock->mutex);
    uint64_t ticket = lock->next_ticket++;
    while (lock->now_serving != ticket) {
        pthread_cond_wait(&lock->turn, &lock->mutex);
    }
    pthread_mutex_unlock(&lock->mutex);
}

void atls_fair_lock_release(atls_fair_lock *lock)
{
    pthread_mutex_lock(&lock->mutex);
    lock->now_serving++;
    /* every waiter checks whether it is next: a handful of waiters per attester */
    pthread_cond_broadcast(&lock->turn);
    pthread_mutex_unlock(&lock->mutex);
}
