/* session_async.c: Evidence produced off the session's thread (evidence_async, atls/session.h
 * "Asynchronous Evidence"). The session makes a job for the request at the head of its queue
 * (after the same context, flood, rate and expat-04 section 8.2 checks as a synchronous
 * answer); the application runs it wherever its attester may block and gives it back; the
 * answer is then built exactly as a synchronous one (session_answer.c). */
#include "tls/session/session_internal.h"

#include "base/mem.h"
#include "base/result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_REASON_MAX 400
/* The CMW must fit cmw_data<1..2^16-1> inside extension_data<0..2^16-1>. */
#define JOB_CMW_MAX 65533u

struct atls_evidence_job {
    const atls_session *owner;          /* for the check in atls_session_evidence_done only */
    const atls_attester_ops *ops;       /* the session's attester (borrowed) */
    void *state, *conn;
    atls_fair_lock *lock;
    uint8_t challenge[ATLS_CHALLENGE_LEN];
    atls_error rc;
    uint8_t *out;
    size_t out_len;
    char reason[JOB_REASON_MAX];
};

atls_error atls_session_make_job(atls_session *s, const uint8_t challenge[ATLS_CHALLENGE_LEN])
{
    atls_evidence_job *j = calloc(1, sizeof(*j));
    ATLS_ENSURE(j != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    j->owner = s;
    j->ops = s->cfg.attester;
    j->state = s->cfg.attester_state;
    j->conn = s->attester_conn;
    j->lock = s->cfg.attester_lock;
    memcpy(j->challenge, challenge, ATLS_CHALLENGE_LEN);
    j->rc = ATLS_ERR_INTERNAL;
    snprintf(j->reason, sizeof(j->reason), "session: an Evidence job was never run");
    s->job = j;
    s->job_out = 1;
    return ATLS_OK;
}

atls_evidence_job *atls_session_take_evidence_job(atls_session *s)
{
    atls_evidence_job *j = s->job;
    s->job = NULL;
    return j;
}

int atls_session_evidence_waiting(const atls_session *s)
{
    return s->job_out;
}

const uint8_t *atls_evidence_job_challenge(const atls_evidence_job *j)
{
    return j->challenge;
}

size_t atls_evidence_job_max(const atls_evidence_job *j)
{
    (void)j;
    return JOB_CMW_MAX;
}

void atls_evidence_job_complete(atls_evidence_job *j, atls_error rc, uint8_t *out, size_t len,
                                const char *reason)
{
    free(j->out);
    j->rc = rc;
    j->out = rc == ATLS_OK ? out : NULL;
    j->out_len = rc == ATLS_OK ? len : 0;
    if (rc != ATLS_OK) {
        free(out);
    }
    snprintf(j->reason, sizeof(j->reason), "%s", reason != NULL ? reason : "");
}

void atls_evidence_job_run(atls_evidence_job *j)
{
    uint8_t *out = NULL;
    size_t len = 0;
    if (j->lock != NULL) {
        atls_fair_lock_acquire(j->lock);
    }
    atls_error rc = j->ops->produce_cmw != NULL
                        ? j->ops->produce_cmw(j->state, j->conn, j->challenge, JOB_CMW_MAX, &out,
                                              &len)
                        : j->ops->produce(j->state, j->challenge, &out, &len);
    if (j->lock != NULL) {
        atls_fair_lock_release(j->lock);
    }
    atls_evidence_job_complete(j, rc, out, len, rc != ATLS_OK ? atls_error_message() : NULL);
}

void atls_evidence_job_free(atls_evidence_job *j)
{
    if (j == NULL) {
        return;
    }
    free(j->out);
    atls_wipe(j, sizeof(*j));
    free(j);
}

atls_error atls_session_evidence_done(atls_session *s, atls_evidence_job *j)
{
    ATLS_ENSURE(j != NULL && j->owner == s && s->job_out && s->job == NULL, ATLS_ERR_USAGE_STATE,
                "session: this Evidence job is not the one the session waits for");
    s->job_out = 0;
    s->evidence_produced++;
    atls_error rc = j->rc;
    uint8_t *out = j->out;
    size_t len = j->out_len;
    j->out = NULL;
    if (rc != ATLS_OK) {
        (void)atls_error_raise(rc, __FILE__, __LINE__, "%s", j->reason);
        atls_evidence_job_free(j);
        return atls_session_fail(s, rc);
    }
    atls_evidence_job_free(j);
    if (s->closed) {
        free(out);
        ATLS_RAISE(s->close_reason != ATLS_OK ? s->close_reason : ATLS_ERR_IO_CLOSED,
                   "session: closed");
    }
    rc = atls_session_answer_with(s, out, len);
    if (rc == ATLS_OK) {
        rc = atls_session_serve_requests(s);
    }
    if (rc != ATLS_OK) {
        return atls_session_fail(s, rc);
    }
    return atls_session_flush(s);
}
