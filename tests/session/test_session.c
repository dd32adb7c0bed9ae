/* test_session: post-handshake attestation end to end over real TLS 1.3 connections, with the
 * server attesting through the attester named by argv[1]: "sim", or "tpm2" on a private swtpm
 * started by the test. Covered: affirming, re-attestation with interleaved data, policy failures, relay,
 * replay, unrequested / misplaced / truncated Evidence, wrong media type, key substitution,
 * mutual attestation and the session rules. */
#include "session_fixture.h"

#include <atls/binding.h>
#include <atls/frame.h>

#include "base/result.h"
#include "check.h"
#include "ea/ea_internal.h"
#include "sim/sim.h"
#include "swtpm.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static fixture F;

/* the server's attester under test and the policies that go with it */
static const atls_attester_ops *ATT;
static void *ATT_STATE;
static char *GOOD_POLICY, *MISMATCH_POLICY, *UNTRUSTED_POLICY, *OTHER_TYPE_POLICY;

static atls_policy *good_policy(void)
{
    return fixture_policy(&F, GOOD_POLICY);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static atls_error client_read_exact(atls_session *s, uint8_t *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        size_t n = 0;
        ATLS_GUARD(atls_session_read(s, buf + got, want - got, &n));
        got += n;
        if (n == 0 && !atls_session_has_pending(s)) {
            struct pollfd p = {.fd = atls_session_fd(s), .events = atls_session_poll_events(s)};
            ATLS_ENSURE(poll(&p, 1, 10000) > 0, ATLS_ERR_IO_TIMEOUT, "echo timed out");
        }
    }
    return ATLS_OK;
}

static atls_error flush_all(atls_session *s)
{
    while (atls_session_queued(s) > 0) {
        ATLS_GUARD(atls_session_flush(s));
        struct pollfd p = {.fd = atls_session_fd(s), .events = POLLOUT};
        (void)poll(&p, 1, 100);
    }
    return ATLS_OK;
}

static void server_config_sim(server_run *run)
{
    memset(&run->cfg, 0, sizeof(run->cfg));
    run->cfg.cert = F.leaf->cert;
    run->cfg.key = F.leaf->key;
    run->cfg.attester = ATT;
    run->cfg.attester_state = ATT_STATE;
    run->cfg.timeout_ms = 10000;
}

/* ---- the honest path -------------------------------------------------------------------- */

static void test_affirming(const char *suite)
{
    tls_pair *pair = fixture_pair(&F, suite);
    atls_policy *policy = good_policy();
    CHECK(pair != NULL && policy != NULL);
    if (pair == NULL || policy == NULL) {
        return;
    }
    server_run run = {.pair = pair};
    server_config_sim(&run);
    CHECK(server_start(&run) == 0);

    atls_session_config cc = client_config(&F, policy);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(pair->client, &cc, &c));
    /* no application data before the first appraisal */
    CHECK_ERR(atls_session_write(c, (const uint8_t *)"x", 1), ATLS_ERR_PROTOCOL_SESSION);
    atls_appraisal a = {0};
    CHECK_OK(atls_session_attest(c, &a));
    CHECK(a.status == ATLS_TIER_AFFIRMING);
    json_t *sub = json_object_get(json_object_get(a.ear, "submods"), ATT->name);
    const char *st = json_string_value(json_object_get(sub, "ear_status"));
    CHECK(st != NULL && strcmp(st, "affirming") == 0);
    /* sim results always say so; real ones never do */
    CHECK(json_is_true(json_object_get(json_object_get(sub, "atls_evidence_claims"), "sim")) ==
          (strcmp(ATT->name, "sim") == 0));
    CHECK(strcmp(json_string_value(json_object_get(a.ear, "eat_profile")),
                 "tag:ietf.org,2026:rats/ear#03") == 0);
    atls_appraisal_cleanup(&a);
    CHECK(atls_session_peer_attested(c) == 1);

    uint8_t out[5];
    CHECK_OK(atls_session_write(c, (const uint8_t *)"hello", 5));
    CHECK_OK(client_read_exact(c, out, 5));
    CHECK(memcmp(out, "hello", 5) == 0);
    atls_session_close(c);
    atls_session_free(c);
    server_join(&run);
    CHECK_OK(run.result);
    atls_policy_free(policy);
    tls_pair_free(pair);
}

/* 100 re-attestations on one connection, each fresh and bound, with DATA both ways between. */
static void test_reattest_100(void)
{
    tls_pair *pair = fixture_pair(&F, NULL);
    atls_policy *policy = good_policy();
    CHECK(pair != NULL && policy != NULL);
    if (pair == NULL || policy == NULL) {
        return;
    }
    server_run run = {.pair = pair};
    server_config_sim(&run);
    CHECK(server_start(&run) == 0);
    atls_session_config cc = client_config(&F, policy);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(pair->client, &cc, &c));
    CHECK_OK(atls_session_attest(c, NULL));
    char last_nonce[200] = "";
    int fresh = 1, intact = 1;
    for (int i = 0; i < 100; i++) {
        uint8_t data[3000], back[3000];
        for (size_t k = 0; k < sizeof(data); k++) {
            data[k] = (uint8_t)(i * 31 + (int)k);
        }
        /* data goes out, then a REQUEST, so DATA and control frames interleave both ways */
        CHECK_OK(atls_session_write(c, data, sizeof(data)));
        atls_appraisal a = {0};
        atls_error rc = atls_session_attest(c, &a);
        if (rc != ATLS_OK) {
            CHECK_OK(rc);
            atls_appraisal_cleanup(&a);
            break;
        }
        const char *nonce = json_string_value(json_object_get(a.ear, "eat_nonce"));
        fresh &= nonce != NULL && strcmp(nonce, last_nonce) != 0;
        snprintf(last_nonce, sizeof(last_nonce), "%s", nonce ? nonce : "");
        atls_appraisal_cleanup(&a);
        CHECK_OK(client_read_exact(c, back, sizeof(back)));
        intact &= memcmp(data, back, sizeof(data)) == 0;
    }
    CHECK(fresh);
    CHECK(intact);
    CHECK(atls_session_appraisals(c) == 101);
    atls_session_close(c);
    atls_session_free(c);
    server_join(&run);
    CHECK_OK(run.result);
    atls_policy_free(policy);
    tls_pair_free(pair);
}

/* run_client attests once against a server configured by |setup| and returns the result. */
static atls_error attest_once(server_run *run, const atls_policy *policy,
                              atls_session_config *override, atls_appraisal *a)
{
    CHECK(server_start(run) == 0);
    atls_session_config cc = override != NULL ? *override : client_config(&F, policy);
    atls_session *c = NULL;
    atls_error rc = atls_session_new(run->pair->client, &cc, &c);
    if (rc == ATLS_OK) {
        rc = atls_session_attest(c, a);
        if (rc != ATLS_OK) {
            /* after a failed appraisal nothing may flow */
            CHECK_ERR(atls_session_write(c, (const uint8_t *)"x", 1),
                      atls_session_peer_attested(c) ? ATLS_OK : ATLS_ERR_IO_CLOSED);
        }
        atls_session_close(c);
    }
    atls_session_free(c);
    shutdown(run->pair->client_fd, SHUT_RDWR);
    server_join(run);
    return rc;
}

static void test_policy_failures(void)
{
    const char *texts[3] = {MISMATCH_POLICY, UNTRUSTED_POLICY, OTHER_TYPE_POLICY};
    const atls_error want[3] = {ATLS_ERR_POLICY_MISMATCH, ATLS_ERR_POLICY_UNTRUSTED_KEY,
                                ATLS_ERR_POLICY};
    for (int i = 0; i < 3; i++) {
        atls_policy *policy = fixture_policy(&F, texts[i]);
        CHECK(policy != NULL);
        if (policy == NULL) {
            continue;
        }
        tls_pair *pair = fixture_pair(&F, NULL);
        server_run run = {.pair = pair};
        server_config_sim(&run);
        atls_appraisal a = {0};
        atls_error rc = attest_once(&run, policy, NULL, &a);
        CHECK_ERR(rc, want[i]);
        CHECK(a.status == ATLS_TIER_CONTRAINDICATED);
        json_t *sub = json_object_get(json_object_get(a.ear, "submods"), ATT->name);
        const char *st = json_string_value(json_object_get(sub, "ear_status"));
        CHECK(st != NULL && strcmp(st, "contraindicated") == 0);
        CHECK(json_string_value(json_object_get(sub, "atls_failure")) != NULL);
        atls_appraisal_cleanup(&a);
        atls_policy_free(policy);
        tls_pair_free(pair);
    }
}

static void test_no_policy(void)
{
    for (int accept = 0; accept <= 1; accept++) {
        tls_pair *pair = fixture_pair(&F, NULL);
        server_run run = {.pair = pair};
        server_config_sim(&run);
        atls_session_config cc = client_config(&F, NULL);
        cc.accept_warning = accept;
        atls_appraisal a = {0};
        atls_error rc = attest_once(&run, NULL, &cc, &a);
        CHECK(a.status == ATLS_TIER_WARNING);
        if (accept) {
            CHECK_OK(rc);
        } else {
            CHECK_ERR(rc, ATLS_ERR_POLICY);
        }
        atls_appraisal_cleanup(&a);
        tls_pair_free(pair);
    }
}

/* ---- hostile servers ---------------------------------------------------------------------- */

enum hostile_mode {
    RELAY,        /* Evidence made for another connection */
    REPLAY,       /* Evidence from an earlier request on this connection */
    UNREQUESTED,  /* cmw_attestation of a type the request did not offer */
    SECOND_ENTRY, /* cmw_attestation in the second CertificateEntry */
    TRUNC_CMWDATA,/* cmw_data length runs past the extension */
    TRUNC_CMW,    /* the CMW record itself is cut short */
    WRONG_MEDIA,  /* a media type no verifier knows */
    OTHER_KEY,    /* Evidence bound to another key than the authenticator's */
};

struct hostile {
    enum hostile_mode mode;
    tls_pair *other;            /* RELAY: the connection the Evidence was made for */
    uint8_t *cached;            /* REPLAY: extension bytes from the first answer */
    size_t cached_len;
};

static atls_error sim_evidence(SSL *ssl, const uint8_t *ctx, size_t ctx_len, X509 *leaf,
                               uint8_t **ev, size_t *ev_len)
{
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    atls_binding b;
    ATLS_GUARD(atls_spki_der(leaf, &spki, &spki_len));
    atls_error rc = atls_binding_compute(ssl, ctx, ctx_len, spki, spki_len, &b);
    free(spki);
    ATLS_GUARD(rc);
    return ATT->produce(ATT_STATE, b.challenge, ev, ev_len);
}

static atls_error hostile_answer(server_run *run, const uint8_t *msg, size_t len, uint8_t **auth,
                                 size_t *auth_len)
{
    struct hostile *h = run->hostile_arg;
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_parse(msg, len, &req));
    size_t ctx_len = 0;
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    uint8_t *ev = NULL, *ext = NULL, *cert = NULL;
    size_t ev_len = 0, ext_len = 0, cert_len = 0;
    atls_error rc;
    SSL *bind_ssl = h->mode == RELAY ? h->other->server : run->pair->server;
    X509 *bind_leaf = h->mode == OTHER_KEY ? F.client_leaf->cert : F.leaf->cert;
    ATLS_GUARD_GOTO(rc, done, sim_evidence(bind_ssl, ctx, ctx_len, bind_leaf, &ev, &ev_len));
    const char *media = h->mode == WRONG_MEDIA ? "application/x-unknown" : ATT->media_type;
    size_t ev_use = h->mode == TRUNC_CMW ? ev_len / 2 : ev_len;
    ATLS_GUARD_GOTO(rc, done, evidence_extension(media, ev, ev_use, &ext, &ext_len));
    if (h->mode == TRUNC_CMW) {
        /* cut the CMW record itself: shorten both length prefixes consistently */
        size_t cut = 10;
        ext_len -= cut;
        uint16_t l1 = (uint16_t)(ext_len - 4), l2 = (uint16_t)(ext_len - 6);
        ext[2] = (uint8_t)(l1 >> 8), ext[3] = (uint8_t)l1;
        ext[4] = (uint8_t)(l2 >> 8), ext[5] = (uint8_t)l2;
    }
    if (h->mode == TRUNC_CMWDATA) {
        ext[5] = (uint8_t)(ext[5] + 1); /* cmw_data claims one byte more than there is */
    }
    if (h->mode == UNREQUESTED) {
        ext[1] = 0x00; /* 0xFF00: the client asked for 0xFF01 */
    }
    if (h->mode == REPLAY) {
        if (h->cached == NULL) {
            h->cached = malloc(ext_len);
            memcpy(h->cached, ext, ext_len);
            h->cached_len = ext_len;
        } else {
            free(ext);
            ext = malloc(h->cached_len);
            memcpy(ext, h->cached, h->cached_len);
            ext_len = h->cached_len;
        }
    }
    if (h->mode == SECOND_ENTRY) {
        ATLS_GUARD_GOTO(rc, done, build_certificate_msg(ctx, ctx_len, F.leaf->cert, NULL, 0,
                                                        F.ca->cert, ext, ext_len, &cert,
                                                        &cert_len));
    } else {
        ATLS_GUARD_GOTO(rc, done, build_certificate_msg(ctx, ctx_len, F.leaf->cert, ext, ext_len,
                                                        NULL, NULL, 0, &cert, &cert_len));
    }
    rc = atls_ea_authenticate_raw(run->pair->server, req, cert, cert_len, F.leaf->key,
                                  ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, auth, auth_len);
done:
    atls_ea_request_free(req);
    free(ev);
    free(ext);
    free(cert);
    return rc;
}

static void run_hostile(enum hostile_mode mode, atls_error want, int attempts)
{
    tls_pair *pair = fixture_pair(&F, NULL);
    tls_pair *other = mode == RELAY ? fixture_pair(&F, NULL) : NULL;
    atls_policy *policy = good_policy();
    CHECK(pair != NULL && policy != NULL);
    struct hostile h = {.mode = mode, .other = other};
    server_run run = {.pair = pair, .hostile = hostile_answer, .hostile_arg = &h};
    CHECK(server_start(&run) == 0);
    atls_session_config cc = client_config(&F, policy);
    if (mode == UNREQUESTED) {
        cc.cmw_extension = 0xFF01;
    }
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(pair->client, &cc, &c));
    atls_error rc = ATLS_OK;
    for (int i = 0; i < attempts && rc == ATLS_OK; i++) {
        rc = atls_session_attest(c, NULL);
        if (i < attempts - 1) {
            CHECK_OK(rc); /* REPLAY: the first answer is genuine */
        }
    }
    CHECK_ERR(rc, want);
    CHECK(atls_session_peer_attested(c) == 0);
    atls_session_close(c);
    atls_session_free(c);
    shutdown(pair->client_fd, SHUT_RDWR);
    server_join(&run);
    free(h.cached);
    atls_policy_free(policy);
    tls_pair_free(pair);
    tls_pair_free(other);
}

/* ---- mutual attestation --------------------------------------------------------------------- */

static void test_mutual(void)
{
    tls_pair *pair = fixture_pair(&F, NULL);
    atls_policy *policy = good_policy();        /* the client appraises the server */
    atls_policy *sim_policy = fixture_sim_policy(&F); /* the server appraises the client */
    CHECK(pair != NULL && policy != NULL && sim_policy != NULL);
    server_run run = {.pair = pair};
    server_config_sim(&run);
    /* the client attests with sim whatever the server uses */
    run.cfg.peer_must_attest = 1;
    run.cfg.policy = sim_policy;
    run.cfg.trust = F.store;
    run.request_client_first = 1;
    CHECK(server_start(&run) == 0);

    atls_session_config cc = client_config(&F, policy);
    cc.cert = F.client_leaf->cert;
    cc.key = F.client_leaf->key;
    cc.attester = F.sim;
    cc.attester_state = F.sim_state;
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(pair->client, &cc, &c));
    CHECK_OK(atls_session_attest(c, NULL));
    uint8_t back[4];
    CHECK_OK(atls_session_write(c, (const uint8_t *)"ping", 4));
    CHECK_OK(client_read_exact(c, back, 4));
    CHECK(memcmp(back, "ping", 4) == 0);
    CHECK_OK(flush_all(c));
    atls_session_close(c);
    atls_session_free(c);
    server_join(&run);
    CHECK_OK(run.client_appraisal);
    CHECK_OK(run.result);

    /* a client that cannot attest is refused by a server that requires it */
    tls_pair *pair2 = fixture_pair(&F, NULL);
    server_run run2 = {.pair = pair2};
    server_config_sim(&run2);
    run2.cfg.peer_must_attest = 1;
    run2.cfg.policy = sim_policy;
    run2.request_client_first = 1;
    CHECK(server_start(&run2) == 0);
    atls_session_config cc2 = client_config(&F, policy);
    atls_session *c2 = NULL;
    CHECK_OK(atls_session_new(pair2->client, &cc2, &c2));
    /* the client's own appraisal may succeed first (the server answers its REQUEST before it
     * sees the refusal); either way the server then closes with an ERROR frame */
    atls_error rc = atls_session_attest(c2, NULL);
    uint8_t buf[16];
    for (int i = 0; rc == ATLS_OK && i < 1000; i++) {
        size_t n = 0;
        rc = atls_session_read(c2, buf, sizeof(buf), &n);
        if (rc == ATLS_OK && !atls_session_has_pending(c2)) {
            struct pollfd p = {.fd = atls_session_fd(c2), .events = POLLIN};
            (void)poll(&p, 1, 100);
        }
    }
    CHECK_ERR(rc, ATLS_ERR_PROTOCOL_PEER_ERROR);
    atls_session_free(c2);
    shutdown(pair2->client_fd, SHUT_RDWR);
    server_join(&run2);
    CHECK_ERR(run2.client_appraisal, ATLS_ERR_PROTOCOL_REFUSED);
    tls_pair_free(pair2);
    atls_policy_free(sim_policy);
    atls_policy_free(policy);
    tls_pair_free(pair);
}

/* ---- session rules ------------------------------------------------------------------------ */

static void test_session_rules(void)
{
    /* without ALPN atls/1 there is no attested session */
    tls_pair_options o = {0};
    o.server_cert = F.leaf->cert;
    o.server_key = F.leaf->key;
    tls_pair *plain = NULL;
    CHECK_OK(tls_pair_new(&o, &plain));
    atls_session_config cc = client_config(&F, NULL);
    atls_session *s = NULL;
    CHECK_ERR(atls_session_new(plain->client, &cc, &s), ATLS_ERR_PROTOCOL_SESSION);
    tls_pair_free(plain);

    /* TLS 1.2 is refused */
    o.max_version = TLS1_2_VERSION;
    o.alpn = (const unsigned char *)ATLS_ALPN_WIRE;
    o.alpn_len = ATLS_ALPN_WIRE_LEN;
    tls_pair *old = NULL;
    CHECK_OK(tls_pair_new(&o, &old));
    CHECK_ERR(atls_session_new(old->client, &cc, &s), ATLS_ERR_USAGE_NOT_TLS13);
    tls_pair_free(old);

    /* atls_ssl_ctx_configure: TLS 1.3 only, no tickets */
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    CHECK_OK(atls_ssl_ctx_configure(ctx, 1, 0));
    CHECK(SSL_CTX_get_min_proto_version(ctx) == TLS1_3_VERSION);
    CHECK(SSL_CTX_get_num_tickets(ctx) == 0);
    CHECK((SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET) != 0);
    CHECK(SSL_CTX_get_max_early_data(ctx) == 0);
    SSL_CTX_free(ctx);
}

/* ---- policies for the attester under test ------------------------------------------------- */

static char *dump(json_t *doc)
{
    char *text = json_dumps(doc, JSON_SORT_KEYS);
    json_decref(doc);
    return text;
}

static char *with_section(const char *type, json_t *section)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "version", json_integer(1));
    json_object_set_new(doc, type, section);
    return dump(doc);
}

/* tofu_section: attest once without a policy and turn the result into a strict section, as
 * `atls policy init` does. */
static json_t *tofu_section(void)
{
    tls_pair *pair = fixture_pair(&F, NULL);
    if (pair == NULL) {
        return NULL;
    }
    server_run run = {.pair = pair};
    server_config_sim(&run);
    atls_session_config cc = client_config(&F, NULL);
    cc.accept_warning = 1;
    atls_appraisal a = {0};
    atls_error rc = attest_once(&run, NULL, &cc, &a);
    json_t *section = NULL;
    const atls_verifier_ops *ops = atls_verifier_by_name(ATT->name);
    if (rc == ATLS_OK && a.num_results == 1 && ops != NULL &&
        ops->policy_from_result(&a.results[0], &section) != ATLS_OK) {
        section = NULL;
    }
    atls_appraisal_cleanup(&a);
    tls_pair_free(pair);
    return section;
}

static const char ZEROS[] = "0000000000000000000000000000000000000000000000000000000000000000";

static int make_policies(void)
{
    json_t *good = tofu_section();
    if (good == NULL) {
        fprintf(stderr, "trust-on-first-use policy failed: %s\n", atls_error_detail());
        return -1;
    }
    json_t *mismatch = json_deep_copy(good);
    json_t *untrusted = json_deep_copy(good);
    /* a value no fresh TPM or test measurement has (fresh swtpm PCRs are all zero) */
    json_t *zero_list = json_array();
    json_array_append_new(zero_list, json_string(
        "abababababababababababababababababababababababababababababababab"));
    if (strcmp(ATT->name, "tpm2") == 0) {
        json_object_set(json_object_get(json_object_get(mismatch, "pcrs"), "sha256"), "23",
                        zero_list);
        json_object_set(untrusted, "ak_keys", zero_list);
        OTHER_TYPE_POLICY = dump(json_pack("{s:i, s:{s:[s], s:b}}", "version", 1, "sim", "keys",
                                           ZEROS, "any_measurements", 1));
    } else {
        json_object_set(json_object_get(mismatch, "measurements"), "kernel", zero_list);
        json_object_set(untrusted, "keys", zero_list);
        OTHER_TYPE_POLICY = dump(json_pack("{s:i, s:{s:b, s:b}}", "version", 1, "tpm2", "ak_any",
                                           1, "any_pcrs", 1));
    }
    json_decref(zero_list);
    GOOD_POLICY = with_section(ATT->name, good);
    MISMATCH_POLICY = with_section(ATT->name, mismatch);
    UNTRUSTED_POLICY = with_section(ATT->name, untrusted);
    return GOOD_POLICY && MISMATCH_POLICY && UNTRUSTED_POLICY && OTHER_TYPE_POLICY ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "sim";
    test_swtpm tpm = {0};
    if (fixture_init(&F) != 0) {
        fprintf(stderr, "fixture: %s\n", atls_error_detail());
        return 1;
    }
    if (strcmp(kind, "tpm2") == 0) {
        int rc = test_swtpm_start(&tpm);
        if (rc != 0) {
            fixture_cleanup(&F);
            if (rc == 77) {
                TEST_SKIP("swtpm is not installed");
            }
            fprintf(stderr, "cannot start swtpm\n");
            return 1;
        }
        char tcti[160];
        snprintf(tcti, sizeof(tcti), "tcti=%s", tpm.tcti);
        const char *config[] = {tcti, NULL};
        ATT = atls_attester_ops_by_name("tpm2");
        if (ATT == NULL || ATT->create(config, &ATT_STATE) != ATLS_OK) {
            fprintf(stderr, "tpm2 attester: %s\n", atls_error_detail());
            test_swtpm_stop(&tpm);
            return 1;
        }
    } else {
        ATT = F.sim;
        ATT_STATE = F.sim_state;
    }
    if (make_policies() != 0) {
        return 1;
    }
    test_affirming("TLS_AES_128_GCM_SHA256");
    test_affirming("TLS_AES_256_GCM_SHA384");
    test_reattest_100();
    test_policy_failures();
    test_no_policy();
    run_hostile(RELAY, ATLS_ERR_EVIDENCE_NONCE, 1);
    run_hostile(REPLAY, ATLS_ERR_EVIDENCE_NONCE, 2);
    run_hostile(UNREQUESTED, ATLS_ERR_PROTOCOL_EXTENSION, 1);
    run_hostile(SECOND_ENTRY, ATLS_ERR_PROTOCOL_EXTENSION, 1);
    run_hostile(TRUNC_CMWDATA, ATLS_ERR_DECODE_LENGTH, 1);
    run_hostile(TRUNC_CMW, ATLS_ERR_DECODE_TRUNCATED, 1);
    run_hostile(WRONG_MEDIA, ATLS_ERR_EVIDENCE_FORMAT, 1);
    run_hostile(OTHER_KEY, ATLS_ERR_EVIDENCE_NONCE, 1);
    test_mutual();
    test_session_rules();
    if (ATT != F.sim) {
        ATT->destroy(ATT_STATE);
        test_swtpm_stop(&tpm);
    }
    free(GOOD_POLICY), free(MISMATCH_POLICY), free(UNTRUSTED_POLICY), free(OTHER_TYPE_POLICY);
    fixture_cleanup(&F);
    return check_summary();
}
