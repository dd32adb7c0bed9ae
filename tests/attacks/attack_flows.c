/* attack_flows.c: the attacks that need their own flow (attack_lab.h): the mirrored request of
 * a replica sharing our key, a reused Verifier nonce answered with a replayed authenticator,
 * DATA instead of an answer, TLS 1.2, and resumption. */
#include "attack_lab.h"

#include <atls/binding.h>

#include "base/result.h"
#include "check.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct flow {
    int requests;
    int step;                  /* the hostile step was sent */
    int client_error;          /* code of the client's ERROR frame, -1 none */
    uint8_t ctx[2][ATLS_EA_CONTEXT_MAX_LEN];
    size_t ctx_len[2];
    uint8_t *first_auth;       /* context_reuse: the first answer, verbatim */
    size_t first_auth_len;
    size_t flooded;            /* data_before_appraisal: DATA bytes written */
    int got_client_auth;       /* reflection: the client answered our mirrored request */
};

/* common: record the client's ERROR frame and the request contexts; 1 when |type| was a
 * REQUEST (and flow->requests counts it) */
static int note_frame(struct flow *fl, uint8_t type, const uint8_t *p, size_t len)
{
    if (type == ATLS_FRAME_ERROR) {
        uint16_t code = 0;
        char reason[ATLS_FRAME_ERROR_REASON_MAX + 1];
        if (atls_frame_parse_error(p, len, &code, reason, sizeof(reason)) == ATLS_OK) {
            fl->client_error = code;
        }
        return 0;
    }
    if (type != ATLS_FRAME_REQUEST) {
        return 0;
    }
    atls_ea_request *req = NULL;
    if (atls_ea_request_parse(p, len, &req) == ATLS_OK && fl->requests < 2) {
        size_t n = 0;
        const uint8_t *ctx = atls_ea_request_get0_context(req, &n);
        memcpy(fl->ctx[fl->requests], ctx, n);
        fl->ctx_len[fl->requests] = n;
    }
    atls_ea_request_free(req);
    fl->requests++;
    return 1;
}

static atls_error honest(server_run *run, const uint8_t *p, size_t len, uint8_t **auth,
                         size_t *auth_len)
{
    answer_spec spec = answer_spec_honest(&F, run);
    spec.keep = 1;
    atls_error rc = hostile_answer(&F, run, p, len, &spec);
    free(spec.evidence);
    if (auth != NULL) {
        *auth = spec.auth, *auth_len = spec.auth_len;
    } else {
        free(spec.auth);
    }
    return rc;
}

/* wait_appraisal: read until the session's appraisal count passes |before| or it fails */
static atls_error wait_appraisal(atls_session *c, uint64_t before)
{
    int64_t deadline = atls_test_now_ms() + 10000;
    while (atls_session_appraisals(c) == before) {
        uint8_t buf[64];
        size_t n = 0;
        ATLS_GUARD(atls_session_read(c, buf, sizeof(buf), &n));
        ATLS_ENSURE(atls_test_now_ms() < deadline, ATLS_ERR_IO_TIMEOUT, "no appraisal in time");
        struct pollfd p = {.fd = atls_session_fd(c), .events = atls_session_poll_events(c)};
        (void)poll(&p, 1, 20);
    }
    return ATLS_OK;
}

static void finish_client(atls_session *c, tls_pair *pair, server_run *run, verdict *v,
                          atls_error rc)
{
    verdict_reject(v, rc);
    if (c != NULL) {
        v->after_ok = rc != ATLS_OK && atls_session_peer_attested(c) == 0 &&
                      atls_session_write(c, (const uint8_t *)"x", 1) != ATLS_OK;
        atls_session_close(c);
        atls_session_free(c);
    }
    shutdown(pair->client_fd, SHUT_RDWR);
    server_join(run);
}

/* hostile_flow: a pair (the client authenticating in TLS as |client_id|), the good policy and
 * a hostile server thread running |fn| on |fl|. 0, or -1 when the setup failed. */
typedef struct hostile_flow {
    tls_pair *pair;
    atls_policy *policy;
    server_run run;
} hostile_flow;

static int start_flow(hostile_flow *h, const testcert *client_id,
                      atls_error (*fn)(server_run *, uint8_t, const uint8_t *, size_t),
                      struct flow *fl)
{
    memset(h, 0, sizeof(*h));
    h->pair = fixture_pair_as(&F, NULL, F.leaf, client_id);
    h->policy = fixture_policy(&F, F.good_policy);
    CHECK(h->pair != NULL && h->policy != NULL);
    if (h->pair == NULL || h->policy == NULL) {
        atls_policy_free(h->policy);
        tls_pair_free(h->pair);
        return -1;
    }
    h->run.pair = h->pair;
    h->run.hostile = fn;
    h->run.hostile_arg = fl;
    CHECK(server_start(&h->run) == 0);
    return 0;
}

/* end_flow: the client told the server why, with the same code; everything freed */
static void end_flow(hostile_flow *h, const struct flow *fl, verdict *v)
{
    verdict_extra(v, fl->client_error == (int)v->got, "the client's ERROR frame carries the code");
    atls_policy_free(h->policy);
    tls_pair_free(h->pair);
}

/* ---- reflection: a replica with our key mirrors our request ------------------------------- */

static atls_error on_reflection(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    struct flow *fl = run->hostile_arg;
    if (type == ATLS_FRAME_AUTHENTICATOR) {
        fl->got_client_auth = 1; /* the client attested in our place: the attack is on */
        return ATLS_OK;
    }
    if (!note_frame(fl, type, p, len)) {
        return ATLS_OK;
    }
    if (fl->requests == 1 || lab_mutant) {
        return honest(run, p, len, NULL, NULL);
    }
    /* ask the client for ITS Evidence with the very context it asked us with */
    atls_ea_extension ext = {.type = ATLS_EXT_CMW_ATTESTATION};
    atls_ea_request_options o = {.context = fl->ctx[1], .context_len = fl->ctx_len[1],
                                 .extensions = &ext, .num_extensions = 1};
    atls_ea_request *mine = NULL;
    ATLS_GUARD(atls_ea_request_new(run->pair->server, ATLS_EA_CERTIFICATE_REQUEST, &o, &mine));
    size_t mlen = 0;
    const uint8_t *mbytes = atls_ea_request_get0_bytes(mine, &mlen);
    atls_error rc = hostile_send(run, ATLS_FRAME_REQUEST, mbytes, mlen);
    atls_ea_request_free(mine);
    fl->step = rc == ATLS_OK;
    return rc;
}

void attack_reflection(verdict *v)
{
    struct flow fl = {.client_error = -1};
    hostile_flow h;
    /* replicas of one service: the client's TLS and EA identity is the server's own key */
    if (start_flow(&h, F.leaf, on_reflection, &fl) != 0) {
        return;
    }
    atls_session_config cc = client_config(&F, h.policy);
    cc.cert = F.leaf->cert;
    cc.key = F.leaf->key;
    cc.attester = F.att; /* the attester under test, on the client */
    cc.attester_state = F.att_state;
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(h.pair->client, &cc, &c));
    atls_error rc = ATLS_ERR_INTERNAL;
    uint64_t produced = 0;
    if (c != NULL) {
        v->control_ok = atls_session_attest(c, NULL) == ATLS_OK;
        rc = atls_session_attest(c, NULL);
        produced = atls_session_evidence_produced(c);
    }
    finish_client(c, h.pair, &h.run, v, rc);
    v->step = fl.step && fl.ctx_len[1] > 0 && fl.requests == 2;
    snprintf(v->step_note, sizeof(v->step_note),
             "the server's CertificateRequest carried the client's own context");
    verdict_extra(v, produced == 0 && !fl.got_client_auth,
                  "the client produced no Evidence for the mirrored request");
    end_flow(&h, &fl, v);
}

/* ---- context_reuse: a Verifier nonce handed out twice, the first answer replayed ---------- */

static atls_error on_reuse(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    struct flow *fl = run->hostile_arg;
    if (!note_frame(fl, type, p, len)) {
        return ATLS_OK;
    }
    if (fl->requests == 1) {
        return honest(run, p, len, &fl->first_auth, &fl->first_auth_len);
    }
    if (lab_mutant) {
        return honest(run, p, len, NULL, NULL);
    }
    /* the first answer, verbatim: genuine, valid for the first context */
    atls_error rc = hostile_send(run, ATLS_FRAME_AUTHENTICATOR, fl->first_auth,
                                 fl->first_auth_len);
    fl->step = rc == ATLS_OK;
    return rc;
}

void attack_context_reuse(verdict *v)
{
    struct flow fl = {.client_error = -1};
    hostile_flow h;
    if (start_flow(&h, F.client_leaf, on_reuse, &fl) != 0) {
        return;
    }
    atls_session_config cc = client_config(&F, h.policy);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(h.pair->client, &cc, &c));
    static const uint8_t nonce[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    atls_error rc = ATLS_ERR_INTERNAL;
    if (c != NULL) {
        CHECK_OK(atls_session_request(c, nonce, sizeof(nonce)));
        v->control_ok = wait_appraisal(c, 0) == ATLS_OK;
        CHECK_OK(atls_session_request(c, nonce, sizeof(nonce)));
        rc = wait_appraisal(c, 1);
    }
    finish_client(c, h.pair, &h.run, v, rc);
    /* the same nonce gave two distinct contexts; the second answer was the first one */
    int distinct = fl.ctx_len[0] == fl.ctx_len[1] && fl.ctx_len[0] > 32 &&
                   memcmp(fl.ctx[0], fl.ctx[1], fl.ctx_len[0]) != 0 &&
                   memcmp(fl.ctx[0] + fl.ctx_len[0] - 32, nonce, 32) == 0 &&
                   memcmp(fl.ctx[1] + fl.ctx_len[1] - 32, nonce, 32) == 0;
    v->step = fl.step && fl.first_auth_len > 0;
    snprintf(v->step_note, sizeof(v->step_note),
             "the first genuine authenticator was sent again for the second request");
    verdict_extra(v, distinct, "one nonce, two distinct contexts (it is in both)");
    free(fl.first_auth);
    end_flow(&h, &fl, v);
}

/* ---- data_before_appraisal ----------------------------------------------------------------- */

static atls_error on_flood(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    struct flow *fl = run->hostile_arg;
    if (!note_frame(fl, type, p, len)) {
        return ATLS_OK;
    }
    if (lab_mutant) {
        return honest(run, p, len, NULL, NULL);
    }
    /* DATA instead of an answer: the client must neither deliver nor buffer it all */
    static uint8_t junk[16000];
    for (int i = 0; i < 80; i++) {
        if (hostile_send(run, ATLS_FRAME_DATA, junk, sizeof(junk)) != ATLS_OK) {
            break;
        }
        fl->flooded += sizeof(junk);
    }
    fl->step = 1;
    return ATLS_OK; /* keep reading: the client's ERROR frame */
}

void attack_data_before_appraisal(verdict *v)
{
    atls_policy *policy = fixture_policy(&F, F.good_policy);
    /* the positive control: an honest server on another connection of the same fixture */
    tls_pair *honest_pair = fixture_pair(&F, NULL);
    if (honest_pair != NULL && policy != NULL) {
        server_run hrun = {.pair = honest_pair};
        server_config_attest(&F, &hrun);
        v->control_ok = attest_once(&F, &hrun, policy, NULL, NULL) == ATLS_OK;
    }
    tls_pair_free(honest_pair);
    atls_policy_free(policy);
    struct flow fl = {.client_error = -1};
    hostile_flow h;
    if (start_flow(&h, F.client_leaf, on_flood, &fl) != 0) {
        return;
    }
    atls_session_config cc = client_config(&F, h.policy);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(h.pair->client, &cc, &c));
    atls_error rc = ATLS_ERR_INTERNAL;
    size_t delivered = 0;
    if (c != NULL) {
        rc = atls_session_attest(c, NULL);
        verdict_reject(v, rc); /* the reason now, before later calls replace it */
        uint8_t buf[64];
        size_t n = 0;
        if (atls_session_read(c, buf, sizeof(buf), &n) == ATLS_OK) {
            delivered = n;
        }
    }
    finish_client(c, h.pair, &h.run, v, rc);
    v->step = fl.step && fl.flooded > ATLS_SESSION_MAX_HELD;
    snprintf(v->step_note, sizeof(v->step_note),
             "%zu bytes of DATA were sent instead of an answer", fl.flooded);
    verdict_extra(v, delivered == 0, "no DATA reached the application");
    end_flow(&h, &fl, v);
}

/* ---- tls12 and resumption ------------------------------------------------------------------ */

static tls_pair *pair_with(tls_pair_options *o)
{
    o->server_cert = F.leaf->cert;
    o->server_key = F.leaf->key;
    o->alpn = (const unsigned char *)ATLS_ALPN_WIRE;
    o->alpn_len = ATLS_ALPN_WIRE_LEN;
    o->client_trust = F.store;
    tls_pair *p = NULL;
    CHECK_OK(tls_pair_new(o, &p));
    return p;
}

static atls_error new_session(SSL *ssl)
{
    atls_session_config cc = client_config(&F, NULL);
    atls_session *s = NULL;
    atls_error rc = atls_session_new(ssl, &cc, &s);
    atls_session_free(s);
    return rc;
}

/* tls12: an attested session over TLS 1.2 is refused, and so is every EA operation. */
void attack_tls12(verdict *v)
{
    tls_pair_options o = {0};
    tls_pair *good = pair_with(&o);
    v->control_ok = good != NULL && new_session(good->client) == ATLS_OK;
    tls_pair_free(good);
    memset(&o, 0, sizeof(o));
    o.max_version = lab_mutant ? TLS1_3_VERSION : TLS1_2_VERSION;
    tls_pair *old = pair_with(&o);
    if (old == NULL) {
        return;
    }
    v->step = SSL_version(old->client) == TLS1_2_VERSION;
    snprintf(v->step_note, sizeof(v->step_note), "the connection is %s",
             SSL_get_version(old->client));
    verdict_reject(v, new_session(old->client));
    v->after_ok = v->got != ATLS_OK;
    atls_ea_request *req = NULL;
    verdict_extra(v,
                  atls_ea_request_new(old->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL,
                                      &req) == ATLS_ERR_USAGE_NOT_TLS13,
                  "EA requests refused");
    atls_ea_request_free(req);
    atls_binding b;
    static const uint8_t spki[1] = {0};
    verdict_extra(v,
                  atls_binding_compute(old->client, ATLS_BINDING_SERVER_ATTESTS, spki, 1, spki,
                                       1, &b) == ATLS_ERR_USAGE_NOT_TLS13,
                  "the binding refused");
    tls_pair_free(old);
}

/* resumption: a session resumed from a ticket (the only way to 0-RTT in TLS 1.3) cannot carry
 * attestation. The server issues tickets on purpose and the client is not configured by
 * atls_ssl_ctx_configure (which would discard them: test_session_semantics). */
void attack_resumption(verdict *v)
{
    tls_pair_options o = {0};
    o.num_tickets = 1;
    tls_pair *first = pair_with(&o);
    if (first == NULL) {
        return;
    }
    v->control_ok = new_session(first->client) == ATLS_OK;
    /* let the client read the NewSessionTicket */
    uint8_t byte = 'x', back = 0;
    CHECK_OK(tls_pair_transfer(first, 0, &byte, 1, &back));
    SSL_SESSION *sess = SSL_get1_session(first->client);
    o.server_ctx = first->server_ctx;
    o.resume = lab_mutant ? NULL : sess;
    tls_pair *second = pair_with(&o);
    if (second != NULL) {
        v->step = SSL_session_reused(second->client) == 1;
        verdict_reject(v, new_session(second->client));
        v->after_ok = v->got != ATLS_OK;
    }
    snprintf(v->step_note, sizeof(v->step_note), "the second connection resumed the first");
    SSL_SESSION_free(sess);
    tls_pair_free(second);
    tls_pair_free(first);
}
