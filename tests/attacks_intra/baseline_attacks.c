/* baseline_attacks.c: the six scenarios against the INSECURE intra-handshake baseline
 * (attacks.h). Each runs the attack for real on loopback and records the outcome with expect():
 * where the baseline is known to fall, the test fails if it does not. */
#include "attacks.h"
#include "intra_relay.h"

#include "check.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RA ATLS_INTRA_INSECURE_RA_ONLY
#define X509M ATLS_INTRA_INSECURE_X509

/* ---- 1. diversion ------------------------------------------------------------------------ */

void baseline_diversion(world *w)
{
    /* control: C reaches S1 as intended */
    intra_site s1, s2;
    atls_intra_insecure_config s1c = intra_server_cfg(w, RA, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY,
                                                      w->att1);
    atls_intra_insecure_config s2c = intra_server_cfg(w, RA, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY,
                                                      w->att2);
    CHECK(intra_site_start(&s1, &s1c, w->ta1_cert, w->ta1_key) == 0);
    CHECK(intra_site_start(&s2, &s2c, w->ta2_cert, w->ta2_key) == 0);
    atls_intra_insecure_config c = intra_client_cfg(w, RA, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY,
                                                    w->fleet);
    outcome o;
    intra_attempt(w, &c, s1.srv.lb.port, NULL, "control", &o, NULL);
    CHECK(o.attested);
    /* the network routes C to S2, a genuine TEE with the same measurements: nothing in RA-only
     * names server.test, so whichever genuine TEE answers wins */
    intra_attempt(w, &c, s2.srv.lb.port, &s2.srv, "card 4111-1111", &o, NULL);
    expect("diversion", "ra-only #6", "baseline", &o, 1);
    intra_site_stop(&s2);

    /* the X.509 mode checks the name: S2 cannot present server.test */
    atls_intra_insecure_config s2x = intra_server_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE,
                                                      w->att2);
    CHECK(intra_site_start(&s2, &s2x, w->s2_leaf->cert, w->s2_leaf->key) == 0);
    c = intra_client_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE, w->fleet);
    intra_attempt(w, &c, s2.srv.lb.port, &s2.srv, "card 4111-1111", &o, NULL);
    expect("diversion", "x509 hs", "baseline", &o, 0);
    CHECK(o.error == ATLS_ERR_CRYPTO_CHAIN);
    intra_site_stop(&s2);
    intra_site_stop(&s1);
}

/* ---- 2. relay with a stolen TLS key -------------------------------------------------------- */

/* one relay: S1 (honest), A (stolen key, relaying), C -> A */
static void relay_once(world *w, atls_intra_insecure_mode mode, atls_intra_insecure_binder b,
                       int a_uses_own_key, int should_succeed)
{
    X509 *s1_cert = mode == RA ? w->ta1_cert : w->F.leaf->cert;
    EVP_PKEY *s1_key = mode == RA ? w->ta1_key : w->F.leaf->key;
    intra_site s1, a;
    atls_intra_insecure_config s1c = intra_server_cfg(w, mode, b, w->att1);
    CHECK(intra_site_start(&s1, &s1c, s1_cert, s1_key) == 0);
    intra_relay src = {.upstream_port = s1.srv.lb.port, .mode = mode, .binder = b,
                       .forward_client_random = b == ATLS_INTRA_INSECURE_BINDER_CR,
                       .media_type = w->att->media_type, .trust = w->F.store,
                       .hostname = "server.test"};
    atls_intra_insecure_config ac = intra_server_cfg(w, mode, b, NULL);
    ac.attester = NULL;
    ac.evidence_cb = intra_relay_evidence;
    ac.evidence_cb_arg = &src;
    ac.evidence_media_type = w->att->media_type;
    /* RA-only with a nonce-only binder: the Evidence names no key, A needs none of S1's */
    X509 *a_cert = a_uses_own_key ? w->ta2_cert : s1_cert;
    EVP_PKEY *a_key = a_uses_own_key ? w->ta2_key : s1_key;
    CHECK(intra_site_start(&a, &ac, a_cert, a_key) == 0);
    atls_intra_insecure_config c = intra_client_cfg(w, mode, b, w->pinned);
    outcome o;
    intra_attempt(w, &c, a.srv.lb.port, &a.srv, "password hunter2", &o, NULL);
    char variant[64];
    snprintf(variant, sizeof(variant), "%s #%s%s", atls_intra_insecure_mode_name(mode),
             atls_intra_insecure_binder_name(b), a_uses_own_key ? " (no stolen key)" : "");
    expect("relay", variant, "baseline", &o, should_succeed);
    CHECK(src.relayed >= 1); /* the relay really ran: S1's fresh Evidence went to the victim */
    CHECK(!src.forward_client_random || src.random_forwarded >= 1);
    if (!should_succeed) {
        /* the binder depends on the handshake A cannot share: the challenge does not match */
        CHECK(o.error == ATLS_ERR_EVIDENCE_NONCE);
    }
    intra_site_stop(&a);
    intra_site_stop(&s1);
}

void baseline_relay(world *w)
{
    /* binders with no secret of the victim's handshake: the relay works */
    relay_once(w, X509M, ATLS_INTRA_INSECURE_BINDER_NONCE, 0, 1);
    relay_once(w, X509M, ATLS_INTRA_INSECURE_BINDER_KEY, 0, 1);
    relay_once(w, X509M, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, 0, 1);
    relay_once(w, RA, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, 0, 1);  /* -08 6.1's own shape */
    relay_once(w, RA, ATLS_INTRA_INSECURE_BINDER_NONCE, 1, 1);      /* no key stolen at all */
    /* #1: A must put the victim's client random into its own ClientHello (done above with
     * OpenSSL's TEST-RAND in A's private library context) */
    relay_once(w, X509M, ATLS_INTRA_INSECURE_BINDER_CR, 0, 1);
    /* early-exporter binders: exp0 is a function of the whole ClientHello (key share included);
     * A's own ClientHello to S1 differs, and forwarding the victim's byte for byte leaves A
     * unable to read S1's encrypted Certificate. Expected to fail on OpenSSL: these bind at
     * Intra-handshake.fail's level 1 (the DH secret) only. */
    relay_once(w, X509M, ATLS_INTRA_INSECURE_BINDER_EXP0, 0, 0);
    relay_once(w, X509M, ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0, 0, 0);
    relay_once(w, X509M, ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0_KEY, 0, 0);
    /* the proposal: the handshake secret differs between C-A and A-S1 (level 2); no relay of
     * this kind, and nothing after the ServerHello is covered (level 3 is out of reach) */
    relay_once(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE, 0, 0);
}

/* ---- 3. replay ----------------------------------------------------------------------------- */

/* A fixed Evidence source: what the attacker captured earlier, or an honest server's cache. */
typedef struct fixed_src {
    const atls_attester_ops *ops;  /* cache mode: produce once with this attester */
    void *state;
    uint8_t *cmw;
    size_t cmw_len;
    int produced;
} fixed_src;

static atls_error fixed_evidence(void *arg, SSL *ssl, const atls_intra_insecure_binder_inputs *in,
                                 const uint8_t challenge[ATLS_CHALLENGE_LEN], uint8_t **cmw,
                                 size_t *cmw_len)
{
    (void)ssl, (void)in;
    fixed_src *f = arg;
    if (f->cmw == NULL && f->ops != NULL) {
        /* passport-style cache: the first Evidence serves every later handshake */
        uint8_t *ev = NULL;
        size_t ev_len = 0;
        ATLS_GUARD(f->ops->produce(f->state, challenge, &ev, &ev_len));
        atls_error rc = atls_cmw_encode_record(f->ops->media_type, ev, ev_len,
                                               ATLS_CMW_IND_EVIDENCE, &f->cmw, &f->cmw_len);
        free(ev);
        ATLS_GUARD(rc);
        f->produced++;
    }
    ATLS_ENSURE(f->cmw != NULL, ATLS_ERR_EVIDENCE, "replay: nothing captured");
    *cmw = malloc(f->cmw_len);
    ATLS_ENSURE(*cmw != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    memcpy(*cmw, f->cmw, f->cmw_len);
    *cmw_len = f->cmw_len;
    return ATLS_OK;
}

/* capture: the attacker connects to S1 once (as any client may) and keeps its Evidence */
static int capture(world *w, atls_intra_insecure_mode mode, atls_intra_insecure_binder b,
                   fixed_src *f)
{
    intra_site s1;
    atls_intra_insecure_config s1c = intra_server_cfg(w, mode, b, w->att1);
    if (intra_site_start(&s1, &s1c, w->ta1_cert, w->ta1_key) != 0) {
        return -1;
    }
    atls_intra_insecure_config c = intra_client_cfg(w, mode, b, NULL);
    c.accept_warning = 1;
    SSL_CTX *ctx = intra_lab_client_ctx(&c);
    intra_lab_result r;
    intra_lab_connect(ctx, s1.srv.lb.port, NULL, &r);
    SSL_CTX_free(ctx);
    intra_site_stop(&s1);
    f->cmw = r.evidence;
    f->cmw_len = r.evidence_len;
    r.evidence = NULL;
    intra_lab_result_cleanup(&r);
    return f->cmw != NULL ? 0 : -1;
}

/* replay_once: A serves |f|'s Evidence with identity cert/key; C connects. */
static void replay_once(world *w, const char *variant, atls_intra_insecure_mode mode,
                        atls_intra_insecure_binder b, fixed_src *f, X509 *cert, EVP_PKEY *key,
                        int should_succeed)
{
    intra_site a;
    atls_intra_insecure_config ac = intra_server_cfg(w, mode, b, NULL);
    ac.attester = NULL;
    ac.evidence_cb = fixed_evidence;
    ac.evidence_cb_arg = f;
    ac.evidence_media_type = w->att->media_type;
    CHECK(intra_site_start(&a, &ac, cert, key) == 0);
    atls_intra_insecure_config c = intra_client_cfg(w, mode, b, w->pinned);
    outcome o;
    intra_attempt(w, &c, a.srv.lb.port, &a.srv, "token abc123", &o, NULL);
    expect("replay", variant, "baseline", &o, should_succeed);
    if (!should_succeed) {
        CHECK(o.error == ATLS_ERR_EVIDENCE_NONCE);
    }
    intra_site_stop(&a);
}

void baseline_replay(world *w)
{
    /* no nonce (pre-handshake Evidence, RA-TLS style, or a cached PAT): anyone replays it with
     * a key of its own */
    fixed_src f = {0};
    CHECK(capture(w, RA, ATLS_INTRA_INSECURE_BINDER_NONE, &f) == 0);
    replay_once(w, "no nonce (none, own key)", RA, ATLS_INTRA_INSECURE_BINDER_NONE, &f,
                w->ta2_cert, w->ta2_key, 1);
    free(f.cmw);
    /* key only (#4): whoever holds the TLS key replays one capture forever */
    memset(&f, 0, sizeof(f));
    CHECK(capture(w, RA, ATLS_INTRA_INSECURE_BINDER_KEY, &f) == 0);
    replay_once(w, "key only (#4, stolen key)", RA, ATLS_INTRA_INSECURE_BINDER_KEY, &f,
                w->ta1_cert, w->ta1_key, 1);
    free(f.cmw);
    /* control: a nonce in the binder stops this replay (#6) */
    memset(&f, 0, sizeof(f));
    CHECK(capture(w, RA, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, &f) == 0);
    replay_once(w, "nonce + key (#6, stolen key)", RA, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, &f,
                w->ta1_cert, w->ta1_key, 0);
    free(f.cmw);
}

/* passport-style: -08 section 4 lets results be "cached and used for any number of subsequent
 * TLS handshakes". S1 itself serves one cached Evidence (#4); after its state changed, new
 * clients still accept the old, good state. Changes S1's state: run last. */
void baseline_replay_passport(world *w)
{
    intra_site cached;
    fixed_src cache = {.ops = w->att, .state = w->att1};
    atls_intra_insecure_config pc = intra_server_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_KEY, NULL);
    pc.attester = NULL;
    pc.evidence_cb = fixed_evidence;
    pc.evidence_cb_arg = &cache;
    pc.evidence_media_type = w->att->media_type;
    CHECK(intra_site_start(&cached, &pc, w->F.leaf->cert, w->F.leaf->key) == 0);
    atls_intra_insecure_config c = intra_client_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_KEY,
                                                    w->pinned);
    outcome o;
    intra_attempt(w, &c, cached.srv.lb.port, NULL, "warm the cache", &o, NULL);
    CHECK(o.attested && cache.produced == 1);
    CHECK(world_change_state(w) == 0);
    /* the wrong party: a server whose state is no longer what the client accepted */
    intra_attempt(w, &c, cached.srv.lb.port, &cached.srv, "patient record 17", &o, NULL);
    expect("replay", "passport (#4, cached by S1, state since changed)", "baseline", &o, 1);
    CHECK(cache.produced == 1);
    free(cache.cmw);
    intra_site_stop(&cached);
}

/* ---- 4. state change after the handshake -------------------------------------------------- */

/* An open baseline connection: the server echoes lines until the client closes. */
static void echo_app(intra_lab_server *s, SSL *ssl)
{
    (void)s;
    char buf[512];
    for (;;) {
        int n = SSL_read(ssl, buf, sizeof(buf));
        if (n <= 0 || SSL_write(ssl, buf, n) != n) {
            break;
        }
    }
    (void)SSL_shutdown(ssl);
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void baseline_state_change(world *w, state_change_result *out)
{
    memset(out, 0, sizeof(*out));
    intra_site s1;
    atls_intra_insecure_config s1c = intra_server_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE,
                                                      w->att1);
    CHECK(intra_site_start(&s1, &s1c, w->F.leaf->cert, w->F.leaf->key) == 0);
    s1.srv.app = echo_app;
    outcome o;

    /* an attested connection, open */
    atls_intra_insecure_config c = intra_client_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE,
                                                    w->pinned);
    SSL_CTX *ctx = intra_lab_client_ctx(&c);
    int fd = loopback_connect(s1.srv.lb.port);
    SSL *ssl = ctx != NULL && fd >= 0 ? SSL_new(ctx) : NULL;
    CHECK(ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1);
    CHECK(atls_intra_insecure_peer_attested(ssl));

    /* the server's measured state changes mid-connection */
    CHECK(world_change_state(w) == 0);
    long changed = now_ms();
    /* the client keeps using the connection for a while: nothing in the design can ask again */
    int exchanges = 0;
    char buf[16];
    while (now_ms() - changed < 300) {
        if (SSL_write(ssl, "still here", 10) != 10 || SSL_read(ssl, buf, sizeof(buf)) != 10) {
            break;
        }
        exchanges++;
        usleep(20000);
    }
    out->open_connection_still_attested = atls_intra_insecure_peer_attested(ssl);
    out->exchanges_after_change = exchanges;
    (void)SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    CHECK(exchanges > 0);
    /* only a new handshake sees it */
    long t0 = now_ms();
    intra_attempt(w, &c, s1.srv.lb.port, &s1.srv, "after the change", &o, NULL);
    out->reconnect_ms = now_ms() - t0;
    out->reconnect_detects = !o.attested && o.error == ATLS_ERR_POLICY_MISMATCH;
    snprintf(out->detail, sizeof(out->detail), "%.300s", o.detail);
    SSL_CTX_free(ctx);
    intra_site_stop(&s1);
}

/* ---- 5. one compromised attestation key --------------------------------------------------- */

void baseline_compromised_ak(world *w)
{
    /* A holds S2's attestation key (extracted, not revoked) and a CSP-issued certificate for
     * server.test; with S2's key A can make Evidence for any binder */
    intra_site a;
    atls_intra_insecure_config ac = intra_server_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE,
                                                     w->att2);
    CHECK(intra_site_start(&a, &ac, w->a_leaf->cert, w->a_leaf->key) == 0);
    atls_intra_insecure_config c = intra_client_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE,
                                                    w->fleet);
    outcome o;
    intra_attempt(w, &c, a.srv.lb.port, &a.srv, "wire transfer", &o, NULL);
    expect("compromised_ak", "x509 hs, no pinning", "baseline", &o, 1);
    /* pinning the instance (S1's attestation key only) is a policy matter: it works here too */
    c = intra_client_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE, w->pinned);
    intra_attempt(w, &c, a.srv.lb.port, &a.srv, "wire transfer", &o, NULL);
    expect("compromised_ak", "x509 hs, pinned", "baseline", &o, 0);
    CHECK(o.error == ATLS_ERR_POLICY_UNTRUSTED_KEY);
    intra_site_stop(&a);
    /* RA-only: the leaked key alone impersonates anyone */
    ac = intra_server_cfg(w, RA, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, w->att2);
    CHECK(intra_site_start(&a, &ac, w->ta2_cert, w->ta2_key) == 0);
    c = intra_client_cfg(w, RA, ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, w->fleet);
    intra_attempt(w, &c, a.srv.lb.port, &a.srv, "wire transfer", &o, NULL);
    expect("compromised_ak", "ra-only #6, no pinning", "baseline", &o, 1);
    intra_site_stop(&a);
}

/* ---- 6. privacy ---------------------------------------------------------------------------- */

void baseline_privacy(world *w, privacy_result *out)
{
    memset(out, 0, sizeof(*out));
    intra_site s1;
    atls_intra_insecure_config s1c = intra_server_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE,
                                                      w->att1);
    CHECK(intra_site_start(&s1, &s1c, w->F.leaf->cert, w->F.leaf->key) == 0);
    /* anyone who sends a ClientHello: no client certificate, no policy, nothing */
    atls_intra_insecure_config c = intra_client_cfg(w, X509M, ATLS_INTRA_INSECURE_BINDER_HANDSHAKE,
                                                    NULL);
    c.accept_warning = 1;
    SSL_CTX *ctx = intra_lab_client_ctx(&c);
    intra_lab_result r;
    intra_lab_connect(ctx, s1.srv.lb.port, NULL, &r);
    SSL_CTX_free(ctx);
    out->evidence_len = r.evidence_len;
    if (r.appraisal.num_results == 1) {
        char *claims = json_dumps(r.appraisal.results[0].claims, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(out->claims, sizeof(out->claims), "%s", claims != NULL ? claims : "");
        free(claims);
    }
    intra_lab_result_cleanup(&r);
    intra_site_stop(&s1);
}
