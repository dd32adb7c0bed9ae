/* attester_meter.h: the attester as `atls serve` hands it to its sessions: the real attester
 * behind an ops table of the same name and media type whose produce also counts, times and
 * logs each Evidence (metrics.h, logging.h), names the connection it was for, and reports when
 * the attester starts failing and when it recovers (a TPM restarted under a running serve:
 * the tpm2 attester rebuilds its TPM context itself, tpm2.h). It also ends the attester
 * safely while connections may still ask for Evidence (attester_meter_close).
 *
 * Each connection passes its own attester_use as the session's attester_state, so nothing here
 * depends on which thread runs the session. The batcher (--batch on) calls it from its own
 * thread with a handle of its own. Thread-safety: every call of the real attester holds the
 * meter's mutex (under the sessions' fair attester lock without a batcher: uncontended); the
 * rest is atomic. */
#ifndef ATLS_TOOLS_ATTESTER_METER_H
#define ATLS_TOOLS_ATTESTER_METER_H

#include <atls/evidence.h>
#include <atls/session.h>

#include "evidence/core/plugin.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct attester_meter {
    atls_attester_ops ops;           /* give this to sessions (no create / destroy) */
    const atls_attester_ops *real;   /* owned with real_state until attester_meter_close */
    void *real_state;
    pthread_mutex_t use;             /* held around every call of the real attester */
    atomic_int failing;              /* the last production failed */
    int closed;                      /* under |use| */
} attester_meter;

/* One connection's handle: the session's attester_state. */
typedef struct attester_use {
    attester_meter *meter;
    unsigned long conn_id;
} attester_use;

/* attester_meter_init takes over |real| and |state| (created by cli_attester_open). */
void attester_meter_init(attester_meter *m, const atls_attester_ops *real, void *state);

/* attester_meter_close waits for the attester (its current production), destroys it (a TPM's transient
 * objects are flushed) and makes every later production fail. Call once, from the thread that
 * shuts down; sessions may still run. */
void attester_meter_close(attester_meter *m);

#endif /* ATLS_TOOLS_ATTESTER_METER_H */
