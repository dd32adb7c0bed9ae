/* fuzz_eventlog.h: the property every event log target checks on a log its parser accepted:
 * replay (into the log's own banks, or |banks| for an IMA list) and the claims succeed, and
 * the claims serialise as JSON (event data never yields invalid text). */
#ifndef ATLS_FUZZ_EVENTLOG_H
#define ATLS_FUZZ_EVENTLOG_H

#include "fuzz.h"

#include "evidence/eventlog/eventlog.h"

static inline void fuzz_eventlog_check(const atls_evlog *log, const uint16_t *banks, size_t n)
{
    atls_evlog_replay r;
    atls_error rc = atls_evlog_replay_init(&r, log, banks, n);
    /* a log whose banks are all unknown to atls is the only reason to refuse */
    FUZZ_REQUIRE(rc == ATLS_OK || (banks == NULL && rc == ATLS_ERR_EVIDENCE_EVENTLOG_BANK));
    if (rc == ATLS_OK) {
        FUZZ_REQUIRE(atls_evlog_replay_run(&r, log) == ATLS_OK);
    }
    json_t *claims = NULL;
    FUZZ_REQUIRE(atls_evlog_claims(log, 0xffffffffu, &claims) == ATLS_OK);
    char *text = json_dumps(claims, JSON_COMPACT);
    FUZZ_REQUIRE(text != NULL);
    free(text);
    json_decref(claims);
}

#endif /* ATLS_FUZZ_EVENTLOG_H */
