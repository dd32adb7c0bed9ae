/* eventlog_util.c: the events array, error context and hashing shared by the parsers. */
#include "evidence/eventlog/eventlog_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void atls_evlog_cleanup(atls_evlog *log)
{
    if (log == NULL) {
        return;
    }
    free(log->events);
    free(log->ima);
    memset(log, 0, sizeof(*log));
}

atls_error atls_evlog_new_event(atls_evlog *log, size_t *cap, atls_evlog_event **out)
{
    ATLS_ENSURE(log->num_events < ATLS_EVLOG_MAX_EVENTS, ATLS_ERR_DECODE_EVENTLOG_LIMIT,
                "more than %u events", ATLS_EVLOG_MAX_EVENTS);
    if (log->num_events == *cap) {
        size_t grown = *cap == 0 ? 64 : *cap * 2;
        if (grown > ATLS_EVLOG_MAX_EVENTS) {
            grown = ATLS_EVLOG_MAX_EVENTS;
        }
        atls_evlog_event *e = realloc(log->events, grown * sizeof(*e));
        ATLS_ENSURE(e != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        log->events = e;
        if (log->kind == ATLS_EVLOG_IMA) {
            atls_evlog_ima *m = realloc(log->ima, grown * sizeof(*m));
            ATLS_ENSURE(m != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
            log->ima = m;
        }
        *cap = grown;
    }
    atls_evlog_event *ev = &log->events[log->num_events];
    memset(ev, 0, sizeof(*ev));
    if (log->kind == ATLS_EVLOG_IMA) {
        memset(&log->ima[log->num_events], 0, sizeof(log->ima[0]));
    }
    log->num_events++;
    *out = ev;
    return ATLS_OK;
}

atls_error atls_evlog_reraise(atls_error rc, const char *fmt, ...)
{
    if (rc == ATLS_OK) {
        return rc;
    }
    char inner[400], where[96];
    snprintf(inner, sizeof(inner), "%s", atls_error_message());
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(where, sizeof(where), fmt, ap);
    va_end(ap);
    return atls_error_raise(rc, __FILE__, __LINE__, "%s: %s", where, inner);
}

atls_error atls_evlog_hash(uint16_t alg, const uint8_t *data, size_t len, uint8_t *out)
{
    const EVP_MD *md = atls_tcg_hash_md(alg);
    ATLS_ENSURE(md != NULL, ATLS_ERR_USAGE_UNSUPPORTED, "hash algorithm 0x%04x unknown", alg);
    static const uint8_t empty[1] = {0};
    ATLS_GUARD_OSSL(EVP_Digest(len > 0 ? data : empty, len, out, NULL, md, NULL),
                    ATLS_ERR_CRYPTO, "digest failed");
    return ATLS_OK;
}
