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

/* account counts, times and logs one production that started at |t0| */
static atls_error account(attester_use *u, const struct timespec *t0, atls_error rc,
                          const size_t *out_len)
{
    attester_meter *m = u->meter;
    double s = seconds_since(t0);
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

static atls_error closed_error(void)
{
    return atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                            "attester: serve is shutting down");
}

/* produce / produce_cmw: from a session (under the fair lock) or from the batcher's thread */
static atls_error metered_produce(void *state, const uint8_t *challenge, uint8_t **out,
                                  size_t *out_len)
{
    attester_use *u = state;
    attester_meter *m = u->meter;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&m->use);
    atls_error rc = m->closed ? closed_error()
                              : m->real->produce(m->real_state, challenge, out, out_len);
    pthread_mutex_unlock(&m->use);
    return account(u, &t0, rc, out_len);
}

static atls_error metered_produce_cmw(void *state, void *conn, const uint8_t *challenge,
                                      size_t max, uint8_t **out, size_t *out_len)
{
    attester_use *u = state;
    attester_meter *m = u->meter;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&m->use);
    atls_error rc = m->closed ? closed_error()
                              : m->real->produce_cmw(m->real_state, conn, challenge, max, out,
                                                     out_len);
    pthread_mutex_unlock(&m->use);
    return account(u, &t0, rc, out_len);
}

/* what the real attester remembers per connection (event log positions) passes through */
static atls_error metered_conn_new(void *state, void **conn)
{
    attester_use *u = state;
    attester_meter *m = u->meter;
    pthread_mutex_lock(&m->use);
    atls_error rc = m->closed ? closed_error() : m->real->conn_new(m->real_state, conn);
    pthread_mutex_unlock(&m->use);
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
    if (real->produce_cmw != NULL) {
        /* sessions prefer produce_cmw (Evidence with its event logs): wrap it too */
        m->ops.produce_cmw = metered_produce_cmw;
    }
    if (real->conn_new != NULL && real->conn_free != NULL) {
        m->ops.conn_new = metered_conn_new;
        m->ops.conn_free = real->conn_free; /* takes only the connection's own state */
    }
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
