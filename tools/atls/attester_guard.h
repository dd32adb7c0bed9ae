/* attester_guard.h: for the commands that hold an attester without a signal loop of their own
 * (`atls evidence`, a one-shot `atls connect` with mutual attestation): a signal that ends the
 * command (SIGINT, SIGTERM, SIGHUP, SIGQUIT) first waits for the attester's current operation,
 * destroys the attester (a TPM's transient objects are flushed: swtpm has three slots and no
 * resource manager to reclaim them) and only then ends the process with that signal, as the
 * default action would have. (`atls serve` and `atls connect -L` stop on those signals by
 * themselves and destroy the attester on the way out.)
 *
 * How: the signals are blocked in every thread and taken by one guard thread with sigwait(2),
 * which never interrupts a TPM command halfway. Use: attester_guard_begin before the attester
 * is created (and before any other thread starts), attester_guard_attach once it exists (with
 * |lock| held), attester_guard_end instead of destroying it. Every use of the attester, its
 * creation included, must hold |lock|. Not for a process that needs the signals otherwise. */
#ifndef ATLS_TOOLS_ATTESTER_GUARD_H
#define ATLS_TOOLS_ATTESTER_GUARD_H

#include <atls/evidence.h>
#include <atls/session.h>

#include "evidence/core/plugin.h"

/* 0, or -1 when the guard thread cannot start (the signals then keep their default). */
int attester_guard_begin(atls_fair_lock *lock);
void attester_guard_attach(const atls_attester_ops *ops, void *state);
/* attester_guard_end destroys the attached attester, then lets the signals act as usual again
 * (one that came meanwhile ends the process now). No-op when the guard did not start. */
void attester_guard_end(void);

#endif /* ATLS_TOOLS_ATTESTER_GUARD_H */
