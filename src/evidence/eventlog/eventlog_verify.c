/* eventlog_verify.c: event logs against quoted registers, with what a connection keeps
 * between appraisals (eventlog.h; docs/PROTOCOL.md "Event logs", docs/EVIDENCE.md).
 *
 * Why the state keeps the entries and not only the registers: an allow-list policy must see
 * every event since boot at every appraisal (a file that ran once stays in the measurement
 * history), while the peer sends each entry only once per connection. */
#include "evidence/eventlog/eventlog_internal.h"

#include "base/hex.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

#define NUM_KINDS 4 /* indexed by atls_evlog_kind */

struct kind_state {
    uint8_t *bytes; /* the log as received so far (owned) */
    size_t len;
    size_t events;
    atls_evlog_replay replay;
    int have;
};

/* allocated per kind on first use, so an idle connection costs a few pointers */
struct atls_eventlog_state {
    struct kind_state *k[NUM_KINDS];
};

atls_error atls_eventlog_state_new(atls_eventlog_state **out)
{
    *out = calloc(1, sizeof(**out));
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

void atls_eventlog_state_free(atls_eventlog_state *state)
{
    if (state == NULL) {
        return;
    }
    for (int i = 0; i < NUM_KINDS; i++) {
        if (state->k[i] != NULL) {
            free(state->k[i]->bytes);
            free(state->k[i]);
        }
    }
    free(state);
}

static atls_error parse_kind(atls_evlog_kind kind, const uint8_t *data, size_t len,
                             atls_evlog *log)
{
    switch (kind) {
    case ATLS_EVLOG_TPM:
        return atls_evlog_parse_tpm(data, len, log);
    case ATLS_EVLOG_CCEL:
        return atls_evlog_parse_ccel(data, len, log);
    default:
        return atls_evlog_parse_ima(data, len, log);
    }
}

/* What one kind of log needs while it is checked. */
struct job {
    atls_evlog_kind kind;
    const atls_evlog_record *rec; /* NULL: the log comes from the state */
    uint8_t *bytes;               /* the whole log (owned until moved into the state) */
    size_t len;
    atls_evlog log;
    atls_evlog_replay replay;   /* at the point the quote covers (all of a TCG / CCEL log) */
    size_t verified;            /* events the quote covers; the rest are pending (IMA) */
    int complete;
};

/* assemble: the bytes of the whole log, from the record and what the state holds. */
static atls_error assemble(struct job *j, struct kind_state *ks)
{
    if (j->rec == NULL) {
        j->bytes = atls_memdup(ks->bytes, ks->len);
        j->len = ks->len;
        ATLS_ENSURE(j->bytes != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        return ATLS_OK;
    }
    size_t add = atls_cursor_remaining(&j->rec->log);
    size_t prior = 0;
    if (j->rec->start > 0) {
        ATLS_ENSURE(ks != NULL && ks->have && ks->events == j->rec->start,
                    ATLS_ERR_EVIDENCE_EVENTLOG_STATE,
                    "%s log continues after entry %llu, this connection received %zu",
                    atls_evlog_kind_name(j->kind), (unsigned long long)j->rec->start,
                    ks != NULL && ks->have ? ks->events : 0);
        prior = ks->len;
    }
    ATLS_ENSURE(add <= ATLS_EVLOG_MAX_SIZE - prior, ATLS_ERR_DECODE_EVENTLOG_LIMIT,
                "%s log of more than %u bytes", atls_evlog_kind_name(j->kind),
                ATLS_EVLOG_MAX_SIZE);
    j->len = prior + add;
    j->bytes = malloc(j->len + 1);
    ATLS_ENSURE(j->bytes != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    if (prior > 0) {
        memcpy(j->bytes, ks->bytes, prior);
    }
    if (add > 0) {
        memcpy(j->bytes + prior, atls_cursor_data(&j->rec->log), add);
    }
    return ATLS_OK;
}

/* replay_banks: every quoted bank the log can be replayed into. */
static atls_error replay(struct job *j, const struct kind_state *ks, const atls_evlog_quoted *q,
                         size_t nq)
{
    uint16_t algs[ATLS_EVLOG_MAX_BANKS];
    size_t n = 0;
    for (size_t i = 0; i < nq; i++) {
        int seen = 0, in_log = j->kind == ATLS_EVLOG_IMA && atls_tcg_hash_md(q[i].alg) != NULL;
        for (size_t a = 0; a < n; a++) {
            seen |= algs[a] == q[i].alg;
        }
        for (size_t b = 0; b < j->log.num_banks; b++) {
            in_log |= j->log.banks[b].alg == q[i].alg && atls_tcg_hash_md(q[i].alg) != NULL;
        }
        if (!seen && in_log && n < ATLS_EVLOG_MAX_BANKS) {
            algs[n++] = q[i].alg;
        }
    }
    ATLS_ENSURE(n > 0, ATLS_ERR_EVIDENCE_EVENTLOG_BANK,
                "%s log: no bank of it was quoted", atls_evlog_kind_name(j->kind));
    /* continue the connection's replay when it went over the same banks and a prefix of
     * this log (an IMA tail); otherwise from the start */
    int resume = ks != NULL && ks->have && j->rec != NULL && j->rec->start > 0 &&
                 ks->replay.num_banks == n && ks->replay.events <= ks->events;
    for (size_t a = 0; resume && a < n; a++) {
        resume = ks->replay.banks[a].alg == algs[a];
    }
    if (resume) {
        j->replay = ks->replay;
    } else {
        ATLS_GUARD(atls_evlog_replay_init(&j->replay, &j->log, algs, n));
    }
    return ATLS_OK;
}

/* compare: registers the log extends and the quote covers must match; returns the mask of
 * registers that matched in every quoted bank. */
static atls_error compare(const struct job *j, const atls_evlog_quoted *q, size_t nq,
                          uint32_t *covered)
{
    uint32_t extended = 0;
    for (size_t b = 0; b < j->replay.num_banks; b++) {
        extended |= j->replay.banks[b].extended;
    }
    *covered = 0;
    for (size_t i = 0; i < nq; i++) {
        size_t size = 0;
        const uint8_t *v = atls_evlog_replay_get0(&j->replay, q[i].alg, q[i].reg, &size);
        if (v == NULL || q[i].reg >= 32 || (extended & (1u << q[i].reg)) == 0) {
            continue;
        }
        if (size != q[i].len || memcmp(v, q[i].value, size) != 0) {
            char got[2 * ATLS_EVLOG_MAX_DIGEST + 1] = "", want[2 * ATLS_EVLOG_MAX_DIGEST + 1] = "";
            ATLS_BEST_EFFORT(atls_hex_encode(got, sizeof(got), v, size));
            ATLS_BEST_EFFORT(atls_hex_encode(want, sizeof(want), q[i].value,
                                             q[i].len <= ATLS_EVLOG_MAX_DIGEST ? q[i].len : 0));
            ATLS_RAISE(ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY,
                       "%s log replays %s %s%u to %s, the quoted value is %s",
                       atls_evlog_kind_name(j->kind), atls_tcg_hash_name(q[i].alg),
                       j->kind == ATLS_EVLOG_CCEL ? "RTMR" : "PCR", q[i].reg, got, want);
        }
        *covered |= 1u << q[i].reg;
    }
    return ATLS_OK;
}

/* log_registers: the registers some event of |log| extends. */
static uint32_t log_registers(const atls_evlog *log)
{
    uint32_t regs = 0;
    for (size_t i = 0; i < log->num_events; i++) {
        int r = atls_evlog_event_register(log, &log->events[i]);
        if (r >= 0 && r < 32) {
            regs |= 1u << r;
        }
    }
    return regs;
}

/* quote_matches: every quoted register of |regs| that |r| has equals the quote (and there is
 * at least one). */
static int quote_matches(const atls_evlog_replay *r, uint32_t regs, const atls_evlog_quoted *q,
                         size_t nq)
{
    int any = 0;
    for (size_t i = 0; i < nq; i++) {
        size_t size = 0;
        const uint8_t *v = atls_evlog_replay_get0(r, q[i].alg, q[i].reg, &size);
        if (v == NULL || q[i].reg >= 32 || (regs & (1u << q[i].reg)) == 0) {
            continue;
        }
        if (size != q[i].len || memcmp(v, q[i].value, size) != 0) {
            return 0;
        }
        any = 1;
    }
    return any;
}

/* match_prefix (IMA): the kernel appends an entry before it extends the PCR, and the attester
 * reads the list after quoting, so the list may run ahead of the quote. The quote covers the
 * entries up to the point where the replay equals it; those after are pending (not trusted,
 * judged once a later quote covers them). No such point: the replay error of the whole list. */
static atls_error match_prefix(struct job *j, const atls_evlog_quoted *q, size_t nq)
{
    uint32_t regs = log_registers(&j->log);
    int quoted = 0;
    for (size_t i = 0; i < nq; i++) {
        quoted |= q[i].reg < 32 && (regs & (1u << q[i].reg)) != 0 &&
                  atls_evlog_replay_get0(&j->replay, q[i].alg, q[i].reg, NULL) != NULL;
    }
    if (!quoted) {
        /* the quote covers no register of the list: nothing of it is covered (every entry is
         * counted as uncovered in the claims) */
        j->verified = j->log.num_events;
        return atls_evlog_replay_run(&j->replay, &j->log);
    }
    atls_evlog_replay cur = j->replay;
    size_t matched = SIZE_MAX;
    for (size_t i = cur.events;; i++) {
        if (quote_matches(&cur, regs, q, nq)) {
            matched = i;
            j->replay = cur;
        }
        if (i == j->log.num_events) {
            break;
        }
        ATLS_GUARD(atls_evlog_replay_until(&cur, &j->log, i + 1));
    }
    if (matched == SIZE_MAX) {
        struct job whole = *j;
        whole.replay = cur;
        uint32_t ignored = 0;
        ATLS_GUARD(compare(&whole, q, nq, &ignored));
        ATLS_RAISE(ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY,
                   "%s log: no prefix of it replays to the quoted values",
                   atls_evlog_kind_name(j->kind));
    }
    j->verified = matched;
    return ATLS_OK;
}

static atls_error claims_of(struct job *j, uint32_t covered, json_t *eventlogs)
{
    json_t *c = NULL;
    atls_evlog upto = j->log; /* only the events the quote covers */
    upto.num_events = j->verified;
    ATLS_GUARD(atls_evlog_claims(&upto, covered, &c));
    json_t *regs = json_array();
    int ok = regs != NULL && json_object_set_new(c, "covered", regs) == 0;
    for (unsigned r = 0; ok && r < 32; r++) {
        if (covered & (1u << r)) {
            ok = json_array_append_new(regs, json_integer(r)) == 0;
        }
    }
    if (j->kind == ATLS_EVLOG_IMA) {
        ok = ok && json_object_set_new(c, "complete", json_boolean(j->complete)) == 0 &&
             json_object_set_new(c, "entries", json_integer((json_int_t)j->log.num_events)) == 0 &&
             json_object_set_new(c, "pending",
                                 json_integer((json_int_t)(j->log.num_events - j->verified))) == 0;
    }
    ok = ok && json_object_set_new(eventlogs, atls_evlog_kind_name(j->kind), c) == 0;
    if (!ok) {
        json_decref(c);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    return ATLS_OK;
}

/* check_kind: one kind of log from the record and/or the state; fills |j|. */
static atls_error check_kind(struct job *j, struct kind_state *ks, const atls_evlog_quoted *q,
                             size_t nq, json_t *eventlogs)
{
    ATLS_GUARD(assemble(j, ks));
    ATLS_GUARD(parse_kind(j->kind, j->bytes, j->len, &j->log));
    uint64_t total = j->rec != NULL ? j->rec->total : j->log.num_events;
    ATLS_ENSURE(j->log.num_events <= total || j->kind != ATLS_EVLOG_IMA, ATLS_ERR_DECODE_VALUE,
                "IMA list: %zu entries received, the attester said its list had %llu",
                j->log.num_events, (unsigned long long)total);
    /* a partial delivery: the quote covers entries not received yet, nothing can be checked */
    j->complete = j->kind != ATLS_EVLOG_IMA || j->log.num_events == total;
    ATLS_GUARD(replay(j, ks, q, nq));
    uint32_t covered = 0;
    if (!j->complete) {
        /* nothing covered yet; the replay stays where the connection's state was */
        j->verified = 0;
    } else if (j->kind == ATLS_EVLOG_IMA) {
        ATLS_GUARD(match_prefix(j, q, nq));
        ATLS_GUARD(compare(j, q, nq, &covered));
    } else {
        ATLS_GUARD(atls_evlog_replay_run(&j->replay, &j->log));
        j->verified = j->log.num_events;
        ATLS_GUARD(compare(j, q, nq, &covered));
    }
    return claims_of(j, covered, eventlogs);
}

atls_error atls_evlog_verify(const atls_evidence_blob *recs, size_t n, unsigned kinds,
                             const atls_evlog_quoted *q, size_t nq, atls_eventlog_state *state,
                             json_t *claims)
{
    ATLS_ENSURE(claims != NULL && (recs != NULL || n == 0), ATLS_ERR_USAGE,
                "event logs: missing argument");
    atls_evlog_record rec[NUM_KINDS];
    int have_rec[NUM_KINDS] = {0};
    for (size_t i = 0; i < n; i++) {
        atls_evlog_record r;
        ATLS_GUARD(atls_evlog_record_decode(recs[i].data, recs[i].len, &r));
        if ((kinds & (1u << r.kind)) == 0) {
            continue; /* another Evidence's log (a collection: TD quote, CCEL, TPM quote, IMA) */
        }
        ATLS_ENSURE(!have_rec[r.kind], ATLS_ERR_DECODE_VALUE, "two %s logs",
                    atls_evlog_kind_name(r.kind));
        ATLS_ENSURE(r.start == 0 || state != NULL, ATLS_ERR_EVIDENCE_EVENTLOG_STATE,
                    "%s log continues a delivery, but there is no connection state",
                    atls_evlog_kind_name(r.kind));
        rec[r.kind] = r;
        have_rec[r.kind] = 1;
    }
    struct job jobs[NUM_KINDS];
    memset(jobs, 0, sizeof(jobs));
    json_t *eventlogs = json_object();
    ATLS_ENSURE(eventlogs != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = ATLS_OK;
    for (int k = ATLS_EVLOG_TPM; rc == ATLS_OK && k <= ATLS_EVLOG_IMA; k++) {
        struct kind_state *ks = state != NULL ? state->k[k] : NULL;
        if ((kinds & (1u << k)) == 0 || (!have_rec[k] && (ks == NULL || !ks->have))) {
            continue;
        }
        jobs[k].kind = (atls_evlog_kind)k;
        jobs[k].rec = have_rec[k] ? &rec[k] : NULL;
        rc = check_kind(&jobs[k], ks, q, nq, eventlogs);
    }
    if (rc == ATLS_OK && json_object_size(eventlogs) > 0 &&
        json_object_set(claims, "eventlogs", eventlogs) != 0) {
        rc = atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__, "out of memory");
    }
    json_decref(eventlogs);
    /* only a verification that succeeded moves into the connection's state */
    for (int k = ATLS_EVLOG_TPM; k <= ATLS_EVLOG_IMA; k++) {
        if (rc == ATLS_OK && state != NULL && jobs[k].bytes != NULL && state->k[k] == NULL) {
            state->k[k] = calloc(1, sizeof(*state->k[k]));
        }
        if (rc == ATLS_OK && state != NULL && jobs[k].bytes != NULL && state->k[k] != NULL) {
            struct kind_state *ks = state->k[k];
            free(ks->bytes);
            ks->bytes = jobs[k].bytes;
            ks->len = jobs[k].len;
            ks->events = jobs[k].log.num_events;
            ks->replay = jobs[k].replay;
            ks->have = 1;
        } else {
            free(jobs[k].bytes);
        }
        atls_evlog_cleanup(&jobs[k].log);
    }
    return rc;
}
