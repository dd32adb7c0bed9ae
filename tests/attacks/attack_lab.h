/* attack_lab.h: what the files of the attack lab share (attack_lab.c runs one attack and judges
 * it; attack_answers.c holds the attacks of a hostile server, attack_work.c those of a hostile
 * client against the bounds on peer-driven work). */
#ifndef ATLS_TESTS_ATTACK_LAB_H
#define ATLS_TESTS_ATTACK_LAB_H

#include "session_fixture.h"

#include <stddef.h>

extern fixture F;
/* --mutant: the hostile step is replaced by the honest one (or left out), so the run must be
 * judged a failure: it shows the test would notice if the attack were not actually made. */
extern int lab_mutant;
/* --atls PATH: the atls binary, for attacks that use the command-line tool */
extern const char *lab_atls;

/* What one attack run established. The run passes when every item holds. */
typedef struct verdict {
    int control_ok;        /* the honest round on the same fixture succeeded */
    int step;              /* the hostile step demonstrably happened */
    atls_error got;        /* the rejection code */
    char detail[600];      /* its reason, captured where the rejection was returned */
    int after_ok;          /* afterwards nothing is attested and nothing can flow */
    int extra_ok;          /* the attack's distinguishing checks (default 1) */
    char step_note[300];   /* what was checked of the step, for the log */
    char extra_note[300];  /* what the extra checks found, for the log */
} verdict;

/* verdict_reject records the first rejection |rc| with this thread's error message. */
void verdict_reject(verdict *v, atls_error rc);
/* verdict_extra adds one distinguishing check. */
void verdict_extra(verdict *v, int ok, const char *what);

/* expected_challenge: the binding challenge the client of |pair| expects for a request with
 * context |ctx| whose EA leaf is |leaf|, for |role| and exporter |label|. */
atls_error expected_challenge(SSL *ssl, const char *label, int role, const uint8_t *ctx,
                              size_t ctx_len, X509 *leaf, uint8_t out[64]);

/* The attacks. Each fills |v|. */
void attack_hostile_server(const char *name, verdict *v);  /* attack_answers.c */
void attack_reflection(verdict *v);
void attack_context_reuse(verdict *v);
void attack_data_before_appraisal(verdict *v);
void attack_tls12(verdict *v);
void attack_resumption(verdict *v);
void attack_request_flood(verdict *v);                    /* attack_work.c */
/* attack_batch.c: the batching attacks, used by the hostile server of attack_answers.c.
 * batch_attack_evidence makes the batched Evidence attack |name| answers the victim's request
 * (context |ctx| on |run|) with (*out, malloc'd), and says whether its step was made as the
 * attack says (*step_ok, |note|); |other| is the second connection. batch_attack_setup /
 * _teardown run the honest batching server on |other| that batch_chosen_leaf asks. */
atls_error batch_attack_evidence(const char *name, server_run *run, tls_pair *other,
                                 const uint8_t *ctx, size_t ctx_len, uint8_t **out,
                                 size_t *out_len, int *step_ok, char *note, size_t note_cap);
void batch_attack_setup(const char *name, tls_pair *other);
void batch_attack_teardown(tls_pair *other);
void attack_context_repeat(verdict *v);

#endif
