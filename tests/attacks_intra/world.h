/*
 * world.h: the attack lab for comparing the INSECURE intra-handshake baseline with atls
 * (tests/attacks_intra). One world per test run, on 127.0.0.1 only:
 *
 *   S1  the genuine attested server of "server.test": attester 1 (sim key 1, or swtpm 1), the
 *       CA-issued certificate for server.test (F.leaf), and a throw-away identity for RA-only;
 *   S2  a second genuine TEE with the same measurements: attester 2 (sim key 2, or swtpm 2), its
 *       own CA-issued certificate for "other.test", its own throw-away identity;
 *   A   the attacker, whose capabilities each scenario states (stolen TLS key, leaked AK, ...);
 *   C   the client (relying party), which intends to talk to S1.
 *
 * Policies: "fleet" accepts both attestation keys (a fleet of machines running one image: what
 * makes diversion to S2 possible), "pinned" only S1's (instance pinning).
 *
 * Observable success of an attack (issue 13): the client reports the peer attested AND a secret
 * the client writes after the handshake is read by the wrong party. Each outcome is printed and,
 * when ATLS_ATTACK_REPORT names a file, appended to it as one line:
 *   attester|scenario|variant|design|result|detail  (result: "attack succeeds" or "rejected")
 * and the state-change timings as "detect|attester|design|ms|re-attestation interval ms"
 * (scripts/compare turns those lines into the attack table of docs/COMPARISON.md).
 */
#ifndef ATLS_TESTS_ATTACKS_INTRA_WORLD_H
#define ATLS_TESTS_ATTACKS_INTRA_WORLD_H

#include "intra_lab.h"
#include "session_fixture.h"

#include <atls/policy.h>

typedef struct world {
    fixture F;                    /* CA, server.test leaf, sim key 1, swtpm 1 (F.tpm) */
    const char *kind;             /* "sim" or "tpm2" */
    const atls_attester_ops *att;
    void *att1, *att2;            /* S1's and S2's attesters (att1 reloads state: sim) */
    test_swtpm tpm_b;             /* S2's TPM (tpm2) */
    char sim2_key_path[300], meas_path[300];
    EVP_PKEY *ta1_key, *ta2_key;  /* RA-only throw-away identities of S1 and S2 */
    X509 *ta1_cert, *ta2_cert;
    testcert *s2_leaf;            /* S2's PKI identity: other.test */
    testcert *a_leaf;             /* a CSP-issued certificate for server.test, A's key (attack 5) */
    char key1[65], key2[65];      /* attestation key ids of S1 and S2 */
    char *fleet_text, *pinned_text;
    atls_policy *fleet, *pinned;
} world;

/* world_init builds everything (starting swtpm for tpm2). 0, 77 (swtpm missing), -1. */
int world_init(world *w, const char *kind);
void world_cleanup(world *w);

/* world_change_state changes S1's measured state (tpm2: extends PCR 23; sim: rewrites the
 * measurements file that S1's attester reads for every Evidence). */
int world_change_state(world *w);
/* world_restore_state undoes it (tpm2: tpm2_pcrreset 23, a resettable PCR; sim: the original
 * measurements). */
int world_restore_state(world *w);

/* What the client saw and who read its secret. */
typedef struct outcome {
    int attested;        /* the client reports the peer attested */
    int leaked;          /* the client's secret was read by the wrong party */
    atls_error error;    /* the client's named error when it refused (ATLS_OK otherwise) */
    char detail[700];    /* one line: what happened (alert, error, who read what) */
} outcome;

/* expect records |o| for (scenario, variant, design) and checks it against |should_succeed|
 * (1: the attack must succeed, the demonstration stays honest; 0: it must be rejected). */
void expect(const char *scenario, const char *variant, const char *design, const outcome *o,
            int should_succeed);

/* Baseline helpers ------------------------------------------------------------------------- */

/* intra_server_cfg: a baseline server configuration with attester |state|. */
atls_intra_insecure_config intra_server_cfg(world *w, atls_intra_insecure_mode mode,
                                            atls_intra_insecure_binder binder, void *state);
/* intra_client_cfg: the relying client, configured for server.test with |policy|. */
atls_intra_insecure_config intra_client_cfg(world *w, atls_intra_insecure_mode mode,
                                            atls_intra_insecure_binder binder,
                                            const atls_policy *policy);

/* A running baseline server. */
typedef struct intra_site {
    SSL_CTX *ctx;
    intra_lab_server srv;
} intra_site;

int intra_site_start(intra_site *s, const atls_intra_insecure_config *cfg, X509 *cert,
                     EVP_PKEY *key);
void intra_site_stop(intra_site *s);

/* intra_attempt: client |ccfg| connects to |port|, writes |secret| after its handshake; |wrong|
 * is the party that must not read it. Fills |o|; *r (may be NULL) gets the raw result. */
void intra_attempt(world *w, const atls_intra_insecure_config *ccfg, int port,
                   intra_lab_server *wrong, const char *secret, outcome *o, intra_lab_result *r);

#endif /* ATLS_TESTS_ATTACKS_INTRA_WORLD_H */
