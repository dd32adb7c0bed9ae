/* attacks.h: the six scenarios of issue 13, each against the INSECURE intra-handshake baseline
 * (baseline_attacks.c) and against atls (atls_attacks.c), in one world (world.h). */
#ifndef ATLS_TESTS_ATTACKS_INTRA_ATTACKS_H
#define ATLS_TESTS_ATTACKS_INTRA_ATTACKS_H

#include "world.h"

#include "base/result.h"
#include "codec/cmw/cmw.h"

/* attack 4: what one design saw after the server's state changed mid-connection */
typedef struct state_change_result {
    int open_connection_still_attested; /* the client still trusts the open connection */
    int exchanges_after_change;         /* application round trips after the change */
    int reconnect_detects;              /* baseline: a new handshake fails appraisal */
    long reconnect_ms;
    int detected;                       /* atls: a re-attestation on the open connection failed */
    long detect_ms;                     /* atls: from the change to the failure */
    long reattest_interval_ms;
    atls_error error;
    char detail[400];
} state_change_result;

/* attack 6: what an unauthenticated client got */
typedef struct privacy_result {
    size_t evidence_len;
    char claims[600];
    atls_error error;
    char detail[300];
} privacy_result;

void baseline_diversion(world *w);
void baseline_relay(world *w);
void baseline_replay(world *w);
void baseline_replay_passport(world *w); /* changes S1's state: last */
void baseline_state_change(world *w, state_change_result *out);
void baseline_compromised_ak(world *w);
void baseline_privacy(world *w, privacy_result *out);

void atls_diversion(world *w);
void atls_state_change(world *w, long interval_ms, state_change_result *out);
void atls_compromised_ak(world *w);
void atls_relay(world *w);
void atls_replay(world *w);
void atls_replay_passport(world *w); /* after baseline_replay_passport changed the state */
void atls_privacy(world *w);

#endif /* ATLS_TESTS_ATTACKS_INTRA_ATTACKS_H */
