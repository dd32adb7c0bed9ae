/*
 * attack_lab: one attack per run, `attack_lab ATTACK sim|tpm2 [--mutant] [--atls PATH]`,
 * against real TLS 1.3 connections and the real attesters (sim, and tpm2 on a private swtpm).
 * docs/SECURITY.md explains what each attack shows.
 *
 * A run passes only when all of this holds (so it cannot pass for the wrong reason):
 *   1. the honest round on the same fixture succeeded (positive control);
 *   2. the hostile step demonstrably happened (the partial frame was sent, the flood was
 *      delivered, genuine Evidence for the other connection was obtained, ...);
 *   3. it was rejected with its own error code, and the reason captured where the rejection
 *      was returned (not a follow-on error) names it;
 *   4. afterwards the victim does not consider the peer attested and sends nothing;
 *   5. the checks that tell apart attacks sharing a code hold.
 * With --mutant the hostile step is replaced by the honest one (or left out): the run must then
 * be judged a failure, and the program exits 0 only when it is (the mutant is "killed").
 */
#include "attack_lab.h"

#include <atls/binding.h>

#include "base/result.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fixture F;
int lab_mutant;
const char *lab_atls;

void verdict_reject(verdict *v, atls_error rc)
{
    if (v->got == ATLS_OK && rc != ATLS_OK) {
        v->got = rc;
        snprintf(v->detail, sizeof(v->detail), "%s", atls_error_message());
    }
}

void verdict_extra(verdict *v, int ok, const char *what)
{
    size_t n = strlen(v->extra_note);
    snprintf(v->extra_note + n, sizeof(v->extra_note) - n, "%s%s%s", n ? "; " : "",
             ok ? "" : "NOT ", what);
    v->extra_ok = v->extra_ok && ok;
}

atls_error expected_challenge(SSL *ssl, const char *label, int role, const uint8_t *ctx,
                              size_t ctx_len, X509 *leaf, uint8_t out[64])
{
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    atls_binding b;
    ATLS_GUARD(atls_spki_der(leaf, &spki, &spki_len));
    atls_error rc = atls_binding_compute_with_label(ssl, label, (atls_binding_role)role, ctx,
                                                    ctx_len, spki, spki_len, &b);
    free(spki);
    ATLS_GUARD(rc);
    memcpy(out, b.challenge, 64);
    return ATLS_OK;
}

struct attack {
    const char *name;       /* attack.<name>.<attester> in CTest */
    atls_error want;
    const char *want_detail; /* a substring of the rejection reason */
    int needs_sim;          /* only meaningful with Evidence that carries a time */
    void (*run)(verdict *v); /* NULL: attack_hostile_server */
};

static const struct attack attacks[] = {
    {"relay", ATLS_ERR_EVIDENCE_NONCE, "challenge", 0, NULL},
    {"replay", ATLS_ERR_EVIDENCE_NONCE, "challenge", 0, NULL},
    {"diversion_other_identity", ATLS_ERR_CRYPTO_CHAIN, "hostname mismatch", 0, NULL},
    {"diversion_same_name_other_key", ATLS_ERR_PROTOCOL_BINDING, "not the key that authenticated",
     0, NULL},
    {"diversion_zero_config", ATLS_ERR_PROTOCOL_BINDING, "not the key that authenticated", 0,
     NULL},
    {"reflection", ATLS_ERR_PROTOCOL_REFLECTED, "reuses one of our own contexts", 0,
     attack_reflection},
    {"reflected_evidence_role", ATLS_ERR_EVIDENCE_NONCE, "challenge", 0, NULL},
    {"context_reuse", ATLS_ERR_PROTOCOL_REPLAY, "already answered (replay)", 0,
     attack_context_reuse},
    {"key_substitution", ATLS_ERR_EVIDENCE_NONCE, "challenge", 0, NULL},
    {"exporter_label_confusion", ATLS_ERR_EVIDENCE_NONCE, "challenge", 0, NULL},
    {"evidence_oracle", ATLS_ERR_EVIDENCE_NONCE, "challenge", 0, NULL},
    {"code_signing_leaf", ATLS_ERR_CRYPTO_KEY_USAGE, "does not allow TLS server authentication",
     0, NULL},
    {"tls12", ATLS_ERR_USAGE_NOT_TLS13, "TLS 1.3", 0, attack_tls12},
    {"resumption", ATLS_ERR_PROTOCOL_SESSION, "resumed", 0, attack_resumption},
    {"unrequested_cmw", ATLS_ERR_PROTOCOL_EXTENSION, "was not offered", 0, NULL},
    {"cmw_in_second_entry", ATLS_ERR_PROTOCOL_EXTENSION, "only in the first entry", 0, NULL},
    {"oversized_frame", ATLS_ERR_PROTOCOL_FRAME, "exceeds", 0, NULL},
    {"truncated_frame", ATLS_ERR_IO_TRUNCATED, "in the middle of a frame", 0, NULL},
    {"data_before_appraisal", ATLS_ERR_PROTOCOL_SESSION, "before attestation completed", 0,
     attack_data_before_appraisal},
    {"stale_evidence", ATLS_ERR_EVIDENCE_STALE, "", 1, NULL},
    {"request_flood", ATLS_ERR_PROTOCOL_FLOOD, "requests awaiting an answer", 0,
     attack_request_flood},
    {"context_repeat", ATLS_ERR_PROTOCOL_REPLAY, "asked again", 0, attack_context_repeat},
    /* batching (attack_batch.c) */
    {"batch_other_leaf", ATLS_ERR_EVIDENCE_NONCE, "inclusion proof", 0, NULL},
    {"batch_other_root", ATLS_ERR_EVIDENCE_NONCE, "inclusion proof", 0, NULL},
    {"batch_truncated_proof", ATLS_ERR_EVIDENCE_PROOF, "truncated", 0, NULL},
    {"batch_overlong_proof", ATLS_ERR_EVIDENCE_PROOF, "over-long", 0, NULL},
    {"batch_chosen_leaf", ATLS_ERR_EVIDENCE_NONCE, "inclusion proof", 0, NULL},
};

static const struct attack *find_attack(const char *name)
{
    for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
        if (strcmp(attacks[i].name, name) == 0) {
            return &attacks[i];
        }
    }
    return NULL;
}

/* judge prints every item of the verdict and returns 1 when the attack was rejected as it must
 * be. */
static int judge(const struct attack *at, const char *kind, const verdict *v)
{
    int code_ok = v->got == at->want;
    int detail_ok = strstr(v->detail, at->want_detail) != NULL;
    printf("attack %s (%s)%s\n", at->name, kind, lab_mutant ? " MUTANT" : "");
    printf("  %s positive control: the honest round succeeded\n", v->control_ok ? "ok  " : "FAIL");
    printf("  %s hostile step happened: %s\n", v->step ? "ok  " : "FAIL", v->step_note);
    printf("  %s rejected with %s (want %s)\n", code_ok ? "ok  " : "FAIL",
           atls_strerror(v->got), atls_strerror(at->want));
    printf("  %s reason: %s (want \"%s\")\n", detail_ok ? "ok  " : "FAIL", v->detail,
           at->want_detail);
    printf("  %s afterwards: not attested, nothing flows\n", v->after_ok ? "ok  " : "FAIL");
    printf("  %s distinguishing checks: %s\n", v->extra_ok ? "ok  " : "FAIL",
           v->extra_note[0] ? v->extra_note : "(none)");
    return v->control_ok && v->step && code_ok && detail_ok && v->after_ok && v->extra_ok;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: attack_lab ATTACK sim|tpm2 [--mutant] [--atls PATH]\n");
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--mutant") == 0) {
            lab_mutant = 1;
        } else if (strcmp(argv[i], "--atls") == 0 && i + 1 < argc) {
            lab_atls = argv[++i];
        } else {
            fprintf(stderr, "attack_lab: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const struct attack *at = find_attack(argv[1]);
    if (at == NULL) {
        fprintf(stderr, "attack_lab: unknown attack %s\n", argv[1]);
        return 2;
    }
    if (at->needs_sim && strcmp(argv[2], "sim") != 0) {
        TEST_SKIP("this Evidence type carries no creation time");
    }
    if (fixture_init(&F) != 0) {
        fprintf(stderr, "fixture: %s\n", atls_error_detail());
        return 1;
    }
    int rc = fixture_attester(&F, argv[2]);
    if (rc != 0) {
        fixture_cleanup(&F);
        if (rc == 77) {
            TEST_SKIP("swtpm is not installed");
        }
        return 1;
    }
    if (fixture_make_policies(&F) != 0) {
        fprintf(stderr, "policies: %s\n", atls_error_detail());
        fixture_cleanup(&F);
        return 1;
    }
    verdict v;
    memset(&v, 0, sizeof(v));
    v.extra_ok = 1;
    if (at->run != NULL) {
        at->run(&v);
    } else {
        attack_hostile_server(at->name, &v);
    }
    int pass = judge(at, argv[2], &v);
    if (F.batching) {
        atls_batcher_stats st;
        atls_batcher_get_stats(F.batcher, &st);
        printf("  batching on: %llu challenges answered with %llu Evidence by the honest "
               "servers' batcher; hand-made answers batched\n",
               (unsigned long long)st.challenges, (unsigned long long)st.evidence);
    }
    fixture_cleanup(&F);
    if (check_failed > 0) {
        printf("  FAIL %d setup checks failed\n", check_failed);
        pass = 0;
    }
    if (lab_mutant) {
        /* killed by the verdict, not by a broken setup or a failed control */
        if (check_failed > 0 || !v.control_ok) {
            printf("MUTANT RUN INVALID: the setup or the positive control failed\n");
            return 1;
        }
        printf(pass ? "MUTANT SURVIVED: the test did not notice the hostile step was missing\n"
                    : "mutant killed: without the hostile step the test fails, as it must\n");
        return pass ? 1 : 0;
    }
    printf(pass ? "PASS\n" : "ATTACK NOT REJECTED AS REQUIRED\n");
    return pass ? 0 : 1;
}
