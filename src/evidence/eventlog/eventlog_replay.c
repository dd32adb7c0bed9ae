/* eventlog_replay.c: recomputing registers from a log (eventlog.h).
 *
 * Extend is R := H_bank(R || digest) (TPM 2.0 Part 1 section 17.1; TDX RTMRs use the same
 * rule with SHA-384). EV_NO_ACTION events are never extended (PFP section 10.4.1). Registers
 * start at zero, except PCR0 after a StartupLocality event (PFP section 10.4.5.3). IMA
 * extends each bank with H_bank of the template data (Linux 5.8 and later: one digest per
 * bank, ima_calc_field_array_hash) and, for a violation, with all ones. */
#include "evidence/eventlog/eventlog_internal.h"

#include <string.h>

static int log_slot(const atls_evlog *log, uint16_t alg)
{
    for (size_t i = 0; i < log->num_banks; i++) {
        if (log->banks[i].alg == alg) {
            return (int)i;
        }
    }
    return -1;
}

static unsigned num_registers(atls_evlog_kind kind)
{
    return kind == ATLS_EVLOG_CCEL ? ATLS_EVLOG_NUM_RTMRS : ATLS_EVLOG_NUM_PCRS;
}

static atls_error add_bank(atls_evlog_replay *r, const atls_evlog *log, uint16_t alg)
{
    size_t size = atls_tcg_hash_size(alg);
    ATLS_ENSURE(size > 0, ATLS_ERR_EVIDENCE_EVENTLOG_BANK, "bank 0x%04x cannot be replayed",
                alg);
    ATLS_ENSURE(log->kind == ATLS_EVLOG_IMA || log_slot(log, alg) >= 0,
                ATLS_ERR_EVIDENCE_EVENTLOG_BANK, "the log has no %s digests",
                atls_tcg_hash_name(alg));
    for (size_t i = 0; i < r->num_banks; i++) {
        ATLS_ENSURE(r->banks[i].alg != alg, ATLS_ERR_USAGE, "bank %s asked for twice",
                    atls_tcg_hash_name(alg));
    }
    ATLS_ENSURE(r->num_banks < ATLS_EVLOG_MAX_BANKS, ATLS_ERR_USAGE, "too many banks");
    atls_evlog_replay_bank *b = &r->banks[r->num_banks++];
    memset(b, 0, sizeof(*b));
    b->alg = alg;
    b->size = (uint16_t)size;
    if (log->has_startup_locality) {
        b->value[0][size - 1] = log->startup_locality;
    }
    return ATLS_OK;
}

atls_error atls_evlog_replay_init(atls_evlog_replay *r, const atls_evlog *log,
                                  const uint16_t *algs, size_t n)
{
    ATLS_ENSURE(r != NULL && log != NULL, ATLS_ERR_USAGE, "replay: missing argument");
    memset(r, 0, sizeof(*r));
    r->kind = log->kind;
    if (algs != NULL && n > 0) {
        for (size_t i = 0; i < n; i++) {
            ATLS_GUARD(add_bank(r, log, algs[i]));
        }
        return ATLS_OK;
    }
    for (size_t i = 0; i < log->num_banks; i++) {
        if (atls_tcg_hash_md(log->banks[i].alg) != NULL) {
            ATLS_GUARD(add_bank(r, log, log->banks[i].alg));
        }
    }
    ATLS_ENSURE(r->num_banks > 0, ATLS_ERR_EVIDENCE_EVENTLOG_BANK,
                "no bank of the log is one atls can replay");
    return ATLS_OK;
}

int atls_evlog_event_register(const atls_evlog *log, const atls_evlog_event *ev)
{
    if (log->kind == ATLS_EVLOG_IMA) {
        return (int)ev->index;
    }
    if (ev->type == ATLS_EV_NO_ACTION) {
        return -1;
    }
    return log->kind == ATLS_EVLOG_CCEL ? (int)ev->index - 1 : (int)ev->index;
}

/* event_digest: what event |i| extends bank |alg| with. */
static atls_error event_digest(const atls_evlog *log, size_t i, uint16_t alg, size_t size,
                               uint8_t *out)
{
    const atls_evlog_event *ev = &log->events[i];
    if (log->kind != ATLS_EVLOG_IMA) {
        int slot = log_slot(log, alg);
        ATLS_ENSURE(slot >= 0 && ev->digests[slot] != NULL, ATLS_ERR_INTERNAL,
                    "event without a %s digest", atls_tcg_hash_name(alg));
        memcpy(out, ev->digests[slot], size);
        return ATLS_OK;
    }
    const atls_evlog_ima *m = &log->ima[i];
    if (m->violation) {
        memset(out, 0xFF, size);
        return ATLS_OK;
    }
    if (alg == ATLS_TCG_ALG_SHA1) {
        memcpy(out, ev->digests[0], size);
        return ATLS_OK;
    }
    return atls_evlog_ima_template_hash(m, alg, out);
}

static atls_error extend(atls_evlog_replay_bank *b, unsigned reg, const uint8_t *digest)
{
    uint8_t buf[2 * ATLS_EVLOG_MAX_DIGEST];
    memcpy(buf, b->value[reg], b->size);
    memcpy(buf + b->size, digest, b->size);
    ATLS_GUARD(atls_evlog_hash(b->alg, buf, 2u * b->size, b->value[reg]));
    b->extended |= 1u << reg;
    return ATLS_OK;
}

atls_error atls_evlog_replay_run(atls_evlog_replay *r, const atls_evlog *log)
{
    ATLS_ENSURE(log != NULL, ATLS_ERR_USAGE, "replay: no log");
    return atls_evlog_replay_until(r, log, log->num_events);
}

atls_error atls_evlog_replay_until(atls_evlog_replay *r, const atls_evlog *log, size_t upto)
{
    ATLS_ENSURE(r != NULL && log != NULL && r->kind == log->kind, ATLS_ERR_USAGE,
                "replay: state of another kind of log");
    ATLS_ENSURE(r->events <= upto && upto <= log->num_events, ATLS_ERR_EVIDENCE_EVENTLOG_STATE,
                "replayed %zu events, asked for %zu of a log of %zu", r->events, upto,
                log->num_events);
    for (size_t i = r->events; i < upto; i++) {
        int reg = atls_evlog_event_register(log, &log->events[i]);
        if (reg < 0) {
            continue;
        }
        ATLS_ENSURE((unsigned)reg < num_registers(log->kind), ATLS_ERR_INTERNAL,
                    "register %d out of range", reg);
        for (size_t b = 0; b < r->num_banks; b++) {
            uint8_t digest[ATLS_EVLOG_MAX_DIGEST];
            ATLS_GUARD(event_digest(log, i, r->banks[b].alg, r->banks[b].size, digest));
            ATLS_GUARD(extend(&r->banks[b], (unsigned)reg, digest));
        }
    }
    r->events = upto;
    return ATLS_OK;
}

const uint8_t *atls_evlog_replay_get0(const atls_evlog_replay *r, uint16_t alg, unsigned reg,
                                      size_t *size)
{
    if (reg >= num_registers(r->kind)) {
        return NULL;
    }
    for (size_t i = 0; i < r->num_banks; i++) {
        if (r->banks[i].alg == alg) {
            if (size != NULL) {
                *size = r->banks[i].size;
            }
            return r->banks[i].value[reg];
        }
    }
    return NULL;
}
