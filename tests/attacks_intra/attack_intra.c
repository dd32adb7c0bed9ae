/*
 * attack_intra <scenario> <sim|tpm2>: one scenario of issue 13 against both designs, the
 * INSECURE intra-handshake baseline (draft-fossati-tls-attestation-08) and atls, in one world of
 * real TLS 1.3 servers and clients on 127.0.0.1 with the real attesters (sim; tpm2 on swtpm).
 *
 *   diversion       the client is routed to a second genuine TEE with the same measurements
 *   relay           a man in the middle with the server's TLS key and no attestation key
 *   replay          Evidence from one handshake presented in another
 *   state_change    the server's measured state changes mid-connection
 *   compromised_ak  one leaked, unrevoked attestation key
 *   privacy         an unauthenticated client asks for the server's Evidence
 *
 * Each outcome is asserted for both designs: a test fails when atls falls to an attack, and
 * also when the baseline resists one it is known to fall to (the comparison must stay honest).
 */
#include "attacks.h"

#include "check.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REATTEST_INTERVAL_MS 200

static void state_change(world *w)
{
    /* atls first: the baseline's part changes the state for good */
    state_change_result a;
    atls_state_change(w, REATTEST_INTERVAL_MS, &a);
    outcome o;
    memset(&o, 0, sizeof(o));
    o.attested = a.open_connection_still_attested;
    o.leaked = !a.detected;
    o.error = a.error;
    snprintf(o.detail, sizeof(o.detail),
             "detected on the open connection %ld ms after the change (re-attestation every "
             "%ld ms, %d round trips meanwhile): %.300s",
             a.detect_ms, a.reattest_interval_ms, a.exchanges_after_change, a.detail);
    expect("state_change", strcmp(w->kind, "tpm2") == 0 ? "PCR 23 extended" : "measurement changed",
           "atls", &o, 0);
    CHECK(a.detected && a.error == ATLS_ERR_POLICY_MISMATCH);
    CHECK(a.detect_ms <= 2 * REATTEST_INTERVAL_MS + 1000);
    if (getenv("ATLS_ATTACK_REPORT") != NULL) {
        FILE *fp = fopen(getenv("ATLS_ATTACK_REPORT"), "a");
        if (fp != NULL) {
            fprintf(fp, "detect|%s|atls|%ld|%ld\n", w->kind, a.detect_ms, a.reattest_interval_ms);
            fclose(fp);
        }
    }
    /* the world's state changed: make the baseline's world the same again for its part */
    state_change_result b;
    CHECK(world_restore_state(w) == 0);
    baseline_state_change(w, &b);
    memset(&o, 0, sizeof(o));
    /* "succeeds": the client went on trusting, and sending to, a server whose state changed */
    o.attested = b.open_connection_still_attested;
    o.leaked = b.exchanges_after_change > 0;
    snprintf(o.detail, sizeof(o.detail),
             "undetected on the open connection (%d round trips after the change, still "
             "attested); only a new handshake sees it (%ld ms: %.300s)",
             b.exchanges_after_change, b.reconnect_ms, b.detail);
    expect("state_change", strcmp(w->kind, "tpm2") == 0 ? "PCR 23 extended" : "measurement changed",
           "baseline", &o, 1);
    CHECK(b.reconnect_detects);
    if (getenv("ATLS_ATTACK_REPORT") != NULL) {
        FILE *fp = fopen(getenv("ATLS_ATTACK_REPORT"), "a");
        if (fp != NULL) {
            fprintf(fp, "detect|%s|baseline-reconnect|%ld|0\n", w->kind, b.reconnect_ms);
            fclose(fp);
        }
    }
}

static void privacy(world *w)
{
    privacy_result b;
    baseline_privacy(w, &b);
    outcome o;
    memset(&o, 0, sizeof(o));
    o.attested = o.leaked = b.evidence_len > 0;
    snprintf(o.detail, sizeof(o.detail),
             "an unauthenticated client received %zu bytes of Evidence (claims %.160s...)",
             b.evidence_len, b.claims);
    expect("privacy", "no client authentication", "baseline", &o, 1);
    CHECK(strlen(b.claims) > 10);
    /* the baseline cannot do otherwise: in TLS 1.3 the server's Certificate (with the Evidence)
     * precedes the client's; atls can make the client attest first */
    atls_privacy(w);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s <scenario> <sim|tpm2>\n", argv[0]);
        return 2;
    }
    const char *scenario = argv[1];
    signal(SIGPIPE, SIG_IGN);
    world w;
    int rc = world_init(&w, argv[2]);
    if (rc == 77) {
        world_cleanup(&w);
        TEST_SKIP("swtpm is not installed");
    }
    if (rc != 0) {
        fprintf(stderr, "world setup failed\n");
        world_cleanup(&w);
        return 1;
    }
    if (strcmp(scenario, "diversion") == 0) {
        baseline_diversion(&w);
        atls_diversion(&w);
    } else if (strcmp(scenario, "relay") == 0) {
        baseline_relay(&w);
        atls_relay(&w);
    } else if (strcmp(scenario, "replay") == 0) {
        baseline_replay(&w);
        atls_replay(&w);
        baseline_replay_passport(&w);
        atls_replay_passport(&w);
    } else if (strcmp(scenario, "state_change") == 0) {
        state_change(&w);
    } else if (strcmp(scenario, "compromised_ak") == 0) {
        baseline_compromised_ak(&w);
        atls_compromised_ak(&w);
    } else if (strcmp(scenario, "privacy") == 0) {
        privacy(&w);
    } else {
        fprintf(stderr, "unknown scenario %s\n", scenario);
        world_cleanup(&w);
        return 2;
    }
    world_cleanup(&w);
    return check_summary();
}
