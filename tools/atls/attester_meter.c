/* attester_meter.c: counted, timed and logged Evidence production for `atls serve`
 * (attester_meter.h). */
#include "attester_meter.h"

#include "logging.h"
#include "metrics.h"

#include "base/result.h"

#include <string.h>
#include <time.h>

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* produce: called by a session with the attester lock held */
static atls_error metered_produce(void *state, const uint8_t *challenge, uint8_t **out,
                                  size_t *out_len)
{
    attester_use *u = state;
    attester_meter *m = u->meter;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&m->use);
    atls_error rc = m->closed ? atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                                                 "attester: serve is shutting down")
                              : m->real->produce(m->real_state, challenge, out, out_len);
    pthread_mutex_unlock(&m->use);
    double s = seconds_since(&t0);
    metrics_evidence(rc == ATLS_OK, s);
    if (rc == ATLS_OK) {
        if (atomic_exchange(&m->failing, 0)) {
            log_event(LOG_INFO, "attester_recovered", "attester=%s id=%lu", m->real->name,
                      u->conn_id);
        }
        log_event(LOG_INFO, "evidence", "id=%lu attester=%s bytes=%zu ms=%.1f", u->conn_id,
                  m->real->name, *out_len, s * 1000.0);
    } else {
        /* the session sends the peer an ERROR frame with this detail; the message stays */
        atomic_store(&m->failing, 1);
        log_event(LOG_WARN, "evidence_failed", "id=%lu attester=%s reason=%s ms=%.1f",
                  u->conn_id, m->real->name, atls_error_message(), s * 1000.0);
    }
    return rc;
}

void attester_meter_init(attester_meter *m, const atls_attester_ops *real, void *state)
{
    memset(m, 0, sizeof(*m));
    m->real = real;
    m->real_state = state;
    pthread_mutex_init(&m->use, NULL);
    m->ops.name = real->name;
    m->ops.media_type = real->media_type;
    m->ops.produce = metered_produce;
    atomic_init(&m->failing, 0);
}

void attester_meter_close(attester_meter *m)
{
    if (m->real == NULL || m->closed) {
        return;
    }
    pthread_mutex_lock(&m->use);
    m->real->destroy(m->real_state);
    m->real_state = NULL;
    m->closed = 1;
    pthread_mutex_unlock(&m->use);
}
