/* atls_attacks.c: the six scenarios against atls (post-handshake attestation over RFC 9261 with
 * the TLS-exporter binding), in the same world and with the same capabilities the baseline
 * scenarios give the attacker (attacks.h). */
#include "attacks.h"

#include "atls_lab.h"
#include "atls_mitm.h"
#include "check.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* atls_attempt: C connects to |port| intending server.test, attests with |policy|, then sends
 * |secret|. */
static void atls_attempt(world *w, int port, const atls_policy *policy, intra_lab_server *wrong,
                         const char *secret, outcome *o)
{
    memset(o, 0, sizeof(*o));
    int before = wrong != NULL ? intra_lab_server_secrets(wrong) : 0;
    atls_lab_client c;
    atls_error rc = atls_lab_connect(&c, NULL, w->F.store, "server.test", policy, port);
    o->attested = rc == ATLS_OK && c.attested;
    if (o->attested) {
        (void)atls_lab_roundtrip(&c, secret);
    }
    atls_lab_close(&c);
    /* the server thread records the line before it echoes it */
    o->leaked = wrong != NULL && intra_lab_server_read_since(wrong, before, secret);
    o->error = o->attested ? ATLS_OK : c.error;
    if (o->attested && o->leaked) {
        snprintf(o->detail, sizeof(o->detail),
                 "client attested the peer; the secret was read by the wrong party");
    } else if (o->attested) {
        snprintf(o->detail, sizeof(o->detail), "client attested the peer; secret not leaked");
    } else {
        snprintf(o->detail, sizeof(o->detail), "%s: %s", atls_strerror(c.error), c.reason);
    }
}

/* ---- 1. diversion -------------------------------------------------------------------------- */

void atls_diversion(world *w)
{
    atls_lab_site s1, s2;
    CHECK(atls_lab_site_start(&s1, w->F.leaf->cert, w->F.leaf->key, w->att, w->att1) == 0);
    outcome o;
    atls_attempt(w, s1.srv.lb.port, w->fleet, &s1.srv, "control", &o);
    CHECK(o.attested && o.leaked); /* control: the intended server */
    /* S2 is genuine, same measurements, in the fleet policy, but has no key for server.test */
    CHECK(atls_lab_site_start(&s2, w->s2_leaf->cert, w->s2_leaf->key, w->att, w->att2) == 0);
    atls_attempt(w, s2.srv.lb.port, w->fleet, &s2.srv, "card 4111-1111", &o);
    expect("diversion", "to a second genuine TEE", "atls", &o, 0);
    CHECK(o.error == ATLS_ERR_CRYPTO_CHAIN);
    atls_lab_site_stop(&s2);
    atls_lab_site_stop(&s1);
}

/* ---- 4. state change after the handshake --------------------------------------------------- */

void atls_state_change(world *w, long interval_ms, state_change_result *out)
{
    memset(out, 0, sizeof(*out));
    out->reattest_interval_ms = interval_ms;
    atls_lab_site s1;
    CHECK(atls_lab_site_start(&s1, w->F.leaf->cert, w->F.leaf->key, w->att, w->att1) == 0);
    atls_lab_client c;
    CHECK_OK(atls_lab_connect(&c, NULL, w->F.store, "server.test", w->pinned, s1.srv.lb.port));
    CHECK_OK(atls_lab_roundtrip(&c, "before"));
    CHECK_OK(atls_lab_reattest(&c)); /* re-attestation works while nothing changed */
    CHECK(world_change_state(w) == 0);
    long changed = now_ms();
    /* the client re-attests every interval and uses the connection meanwhile */
    atls_error rc = ATLS_OK;
    while (rc == ATLS_OK && now_ms() - changed < 5000) {
        long next = changed + interval_ms * (1 + (now_ms() - changed) / interval_ms);
        while (rc == ATLS_OK && now_ms() < next) {
            rc = atls_lab_roundtrip(&c, "still here");
            out->exchanges_after_change += rc == ATLS_OK;
            usleep(10000);
        }
        if (rc == ATLS_OK) {
            rc = atls_lab_reattest(&c);
        }
    }
    out->detect_ms = now_ms() - changed;
    out->detected = rc != ATLS_OK;
    out->error = rc;
    out->open_connection_still_attested = c.attested;
    snprintf(out->detail, sizeof(out->detail), "%s: %s", atls_strerror(rc), c.reason);
    atls_lab_close(&c);
    atls_lab_site_stop(&s1);
}

/* ---- 5. one compromised attestation key ---------------------------------------------------- */

void atls_compromised_ak(world *w)
{
    /* A: S2's leaked attestation key and a CSP-issued certificate for server.test */
    atls_lab_site a;
    CHECK(atls_lab_site_start(&a, w->a_leaf->cert, w->a_leaf->key, w->att, w->att2) == 0);
    outcome o;
    atls_attempt(w, a.srv.lb.port, w->fleet, &a.srv, "wire transfer", &o);
    /* post-handshake binding cannot help: the leaked key signs whatever A asks */
    expect("compromised_ak", "no pinning", "atls", &o, 1);
    atls_attempt(w, a.srv.lb.port, w->pinned, &a.srv, "wire transfer", &o);
    expect("compromised_ak", "pinned", "atls", &o, 0);
    CHECK(o.error == ATLS_ERR_POLICY_UNTRUSTED_KEY);
    atls_lab_site_stop(&a);
}

/* ---- 2. relay and 3. replay with S1's stolen TLS key --------------------------------------- */

static void mitm_once(world *w, atls_mitm_mode mode, const char *scenario, const char *variant)
{
    atls_lab_site s1;
    CHECK(atls_lab_site_start(&s1, w->F.leaf->cert, w->F.leaf->key, w->att, w->att1) == 0);
    atls_mitm a;
    CHECK(atls_mitm_start(&a, mode, w->F.leaf->cert, w->F.leaf->key, s1.srv.lb.port) == 0);
    outcome o;
    atls_attempt(w, a.srv.lb.port, w->pinned, &a.srv, "password hunter2", &o);
    /* the attack was really tried: A got S1's genuine Evidence and sent a valid authenticator */
    CHECK(a.upstream_exchanges >= 1 && a.answers >= 1);
    char detail[sizeof(o.detail)];
    snprintf(detail, sizeof(detail), "%.420s (the client's ERROR frame to A: code %d)", o.detail,
             (int)a.victim_error);
    memcpy(o.detail, detail, sizeof(o.detail));
    expect(scenario, variant, "atls", &o, 0);
    /* the binding: the Evidence's challenge is not this connection's exporter */
    CHECK(o.error == ATLS_ERR_EVIDENCE_NONCE || o.error == ATLS_ERR_PROTOCOL_BINDING);
    CHECK(a.victim_error == o.error);
    atls_mitm_stop(&a);
    atls_lab_site_stop(&s1);
}

void atls_relay(world *w)
{
    mitm_once(w, ATLS_MITM_RELAY, "relay", "stolen TLS key, fresh Evidence over the same context");
}

void atls_replay(world *w)
{
    mitm_once(w, ATLS_MITM_REPLAY, "replay", "stolen TLS key, Evidence captured earlier");
}

/* after S1's state changed: atls has no cache to serve; fresh Evidence shows the change */
void atls_replay_passport(world *w)
{
    atls_lab_site s1;
    CHECK(atls_lab_site_start(&s1, w->F.leaf->cert, w->F.leaf->key, w->att, w->att1) == 0);
    outcome o;
    atls_attempt(w, s1.srv.lb.port, w->pinned, &s1.srv, "patient record 17", &o);
    expect("replay", "passport (state since changed)", "atls", &o, 0);
    CHECK(o.error == ATLS_ERR_POLICY_MISMATCH);
    atls_lab_site_stop(&s1);
}

/* ---- 6. privacy ----------------------------------------------------------------------------- */

/* the world's attester, counting the Evidence it makes for the server under test */
static const atls_attester_ops *counted;
static int produced;
static pthread_mutex_t produced_lock = PTHREAD_MUTEX_INITIALIZER;

static atls_error counting_produce(void *state, const uint8_t *challenge, uint8_t **out,
                                   size_t *out_len)
{
    pthread_mutex_lock(&produced_lock);
    produced++;
    pthread_mutex_unlock(&produced_lock);
    return counted->produce(state, challenge, out, out_len);
}

static int produced_now(void)
{
    pthread_mutex_lock(&produced_lock);
    int n = produced;
    pthread_mutex_unlock(&produced_lock);
    return n;
}

/* one client against S1; |after_auth|: S1 answers only once the client's own Evidence was
 * appraised (expat-04 section 8.2); |id|: what the client can show (NULL: nothing) */
static void privacy_once(world *w, int after_auth, const atls_lab_identity *id,
                         const atls_policy *client_policy, const char *variant,
                         int should_leak)
{
    static atls_attester_ops counting;
    counted = w->att;
    counting = *w->att;
    counting.produce = counting_produce;
    /* a session prefers produce_cmw (Evidence with its event logs): count through produce */
    counting.produce_cmw = NULL;
    counting.conn_new = NULL;
    counting.conn_free = NULL;
    atls_lab_site s1;
    CHECK(atls_lab_site_init(&s1, w->F.leaf->cert, w->F.leaf->key, &counting, w->att1) == 0);
    if (after_auth) {
        /* as `atls serve --client-policy --client-ca`: clients authenticate in TLS, then attest */
        CHECK(SSL_CTX_set1_verify_cert_store(s1.ctx, w->F.store) == 1);
        SSL_CTX_set_verify(s1.ctx, SSL_VERIFY_PEER, NULL);
        s1.cfg.attest_after_peer_appraisal = 1;
        s1.cfg.peer_must_attest = 1;
        s1.cfg.policy = client_policy;
        s1.cfg.trust = w->F.store;
    }
    CHECK(atls_lab_site_serve(&s1) == 0);
    int before = produced_now();
    atls_lab_client c;
    atls_error rc = atls_lab_connect_as(&c, NULL, w->F.store, "server.test", w->pinned,
                                        s1.srv.lb.port, id);
    atls_lab_close(&c);
    atls_lab_site_stop(&s1);
    int made = produced_now() - before;
    outcome o;
    memset(&o, 0, sizeof(o));
    o.attested = o.leaked = made > 0;
    o.error = rc;
    if (made > 0) {
        snprintf(o.detail, sizeof(o.detail), "the server made %d Evidence for a client that %s "
                 "(client: %s)", made, id == NULL ? "never authenticated" : "attested first",
                 rc == ATLS_OK ? "attested the server" : atls_strerror(rc));
    } else {
        snprintf(o.detail, sizeof(o.detail), "no Evidence made for the client; it got: %s: %.200s",
                 atls_strerror(rc), c.reason);
    }
    if (id != NULL) {
        /* the control is no attack: a client that attested first is served */
        printf("[privacy/%s] atls      served: %s\n", variant, o.detail);
        CHECK(made > 0 && rc == ATLS_OK);
        return;
    }
    expect("privacy", variant, "atls", &o, should_leak);
}

void atls_privacy(world *w)
{
    /* the client's own credentials: client.test and a sim attester the server's policy trusts */
    atls_policy *client_policy = fixture_sim_policy(&w->F);
    CHECK(client_policy != NULL);
    atls_lab_identity id = {w->F.client_leaf->cert, w->F.client_leaf->key, w->F.sim,
                            w->F.sim_state};
    /* the default answers whoever asks, as the baseline does: said plainly */
    privacy_once(w, 0, NULL, client_policy, "default (no client authentication required)", 1);
    /* attest-after-client-authentication: nothing for a client that cannot attest ... */
    privacy_once(w, 1, NULL, client_policy, "attest after client authentication", 0);
    /* ... and the control: a client that attests first gets the server's Evidence */
    privacy_once(w, 1, &id, client_policy, "attest after client authentication: control", 1);
    atls_policy_free(client_policy);
}
