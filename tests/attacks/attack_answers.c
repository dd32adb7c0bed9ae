/* attack_answers.c: the attacks of a hostile server (attack_lab.h). The hostile server is
 * written by hand on the real TLS connection (session_fixture.h): it answers the client's first
 * request honestly (the positive control on the same connection) and the second one as the
 * attack says, using the real attester wherever the attack needs genuine Evidence. */
#include "attack_lab.h"

#include <atls/binding.h>
#include <atls/challenge.h>

#include "base/hex.h"
#include "base/result.h"
#include "check.h"
#include "tls/ea/ea_internal.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct lab {
    const char *name;
    tls_pair *pair, *other;
    testcert *other_leaf, *cs_leaf;
    int requests;
    int sent;                           /* the hostile answer went out */
    atls_error hostile_rc;
    answer_spec spec;                   /* the hostile answer (Evidence kept) */
    uint8_t ctx[ATLS_EA_CONTEXT_MAX_LEN]; /* the attacked request's context */
    size_t ctx_len;
    uint8_t first_ctx[ATLS_EA_CONTEXT_MAX_LEN];
    size_t first_ctx_len;
    uint8_t *first_ext;                 /* replay: the first answer's Evidence extension */
    size_t first_ext_len;
    uint8_t *first_evidence;
    size_t first_evidence_len;
    int client_error;                   /* code of the ERROR frame the client sent, -1 none */
    uint8_t oracle_input[64];           /* the live challenge handed to the oracle */
    int oracle_cli;                     /* it went through `atls evidence` */
    size_t partial_sent;
    int batch_step;                     /* a batching attack's step, checked when made */
    char batch_note[300];
};

/* ---- the oracle: Evidence made outside the connection ------------------------------------- */

/* reopen_attester: the tpm2 attester holds the swtpm's only connection; let the CLI have it */
static int close_attester(void)
{
    if (strcmp(F.kind, "tpm2") == 0) {
        atls_batcher_free(F.batcher);
        F.batcher = NULL;
        F.att->destroy(F.att_state);
        F.att_state = NULL;
    }
    return 0;
}

static atls_error reopen_attester(void)
{
    if (strcmp(F.kind, "tpm2") != 0) {
        return ATLS_OK;
    }
    char tcti[160];
    snprintf(tcti, sizeof(tcti), "tcti=%s", F.tpm.tcti);
    const char *config[] = {tcti, NULL};
    ATLS_GUARD(F.att->create(config, &F.att_state));
    return fixture_rebatch(&F); /* the batcher must wrap the new state */
}

/* oracle_cli: `atls evidence --challenge HEX --raw` with the attester under test */
static atls_error oracle_cli(const uint8_t in[64], uint8_t **ev, size_t *len)
{
    char hex[129], out[400], cmd[2000];
    ATLS_GUARD(atls_hex_encode(hex, sizeof(hex), in, 64));
    snprintf(out, sizeof(out), "%s/oracle.bin", F.dir);
    if (strcmp(F.kind, "sim") == 0) {
        snprintf(cmd, sizeof(cmd),
                 "'%s' evidence --attester sim --sim-key '%s' --sim-measurements '%s' "
                 "--challenge %s --raw -o '%s'",
                 lab_atls, F.sim_key_path, F.meas_path, hex, out);
    } else {
        snprintf(cmd, sizeof(cmd), "'%s' evidence --attester tpm2 --tpm-tcti '%s' --challenge %s "
                 "--raw -o '%s'", lab_atls, F.tpm.tcti, hex, out);
    }
    close_attester();
    int st = system(cmd);
    atls_error rc = reopen_attester();
    ATLS_GUARD(rc);
    ATLS_ENSURE(st == 0, ATLS_ERR_IO, "atls evidence failed (%d)", st);
    FILE *fp = fopen(out, "rb");
    ATLS_ENSURE(fp != NULL, ATLS_ERR_IO_FILE, "no oracle output");
    uint8_t *buf = malloc(70000);
    size_t n = buf != NULL ? fread(buf, 1, 70000, fp) : 0;
    fclose(fp);
    ATLS_ENSURE(buf != NULL && n > 0, ATLS_ERR_IO_FILE, "empty oracle output");
    *ev = buf;
    *len = n;
    return ATLS_OK;
}

/* the evidence_oracle step: Evidence for this request's live challenge, from the oracle (the
 * mutant: from the raw attester, the oracle as it was before domain separation) */
static atls_error oracle_evidence(struct lab *lab, server_run *run, answer_spec *spec)
{
    ATLS_GUARD(expected_challenge(run->pair->server, ATLS_BINDING_EXPORTER_LABEL,
                                  ATLS_BINDING_SERVER_ATTESTS, lab->ctx, lab->ctx_len,
                                  F.leaf->cert, lab->oracle_input));
    uint8_t *ev = NULL;
    size_t len = 0;
    if (lab_mutant) {
        ATLS_GUARD(F.att->produce(F.att_state, lab->oracle_input, &ev, &len));
    } else if (lab_atls != NULL) {
        ATLS_GUARD(oracle_cli(lab->oracle_input, &ev, &len));
        lab->oracle_cli = 1;
    } else {
        ATLS_GUARD(atls_attester_produce_detached(F.att, F.att_state, lab->oracle_input, 64, &ev,
                                                  &len));
    }
    spec->given_evidence = ev;
    spec->given_evidence_len = len;
    return ATLS_OK;
}

/* ---- the hostile server -------------------------------------------------------------------- */

static atls_error send_replayed(struct lab *lab, server_run *run, const uint8_t *p, size_t len)
{
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_parse(p, len, &req));
    uint8_t *cert = NULL, *auth = NULL;
    size_t cert_len = 0, auth_len = 0;
    /* the earlier Evidence, re-authenticated on this request: the EA is fresh, the Evidence
     * is not */
    atls_error rc = build_certificate_msg(lab->ctx, lab->ctx_len, F.leaf->cert, lab->first_ext,
                                          lab->first_ext_len, NULL, NULL, 0, &cert, &cert_len);
    if (rc == ATLS_OK) {
        rc = atls_ea_authenticate_raw(run->pair->server, req, cert, cert_len, F.leaf->key,
                                      ATLS_SIG_ECDSA_SECP256R1_SHA256, -1, &auth, &auth_len);
    }
    if (rc == ATLS_OK) {
        rc = hostile_send(run, ATLS_FRAME_AUTHENTICATOR, auth, auth_len);
    }
    atls_ea_request_free(req);
    free(cert), free(auth);
    return rc;
}

/* hostile: the attack's answer to the client's second request */
static atls_error hostile(struct lab *lab, server_run *run, const uint8_t *p, size_t len)
{
    answer_spec *spec = &lab->spec;
    *spec = answer_spec_honest(&F, run);
    spec->keep = 1;
    const char *a = lab->name;
    if (lab_mutant) {
        if (strcmp(a, "evidence_oracle") == 0) {
            ATLS_GUARD(oracle_evidence(lab, run, spec)); /* the raw oracle */
        } else if (strcmp(a, "truncated_frame") == 0) {
            SSL_shutdown(run->pair->server); /* hangs up, but not mid-frame */
            return ATLS_ERR_IO_CLOSED;
        }
        return hostile_answer(&F, run, p, len, spec);
    }
    if (strcmp(a, "relay") == 0) {
        /* a man in the middle who owns a genuine TEE: Evidence made for its own connection to
         * that TEE (same request context, another TLS exporter) */
        spec->bind_ssl = lab->other->server;
    } else if (strcmp(a, "replay") == 0) {
        return send_replayed(lab, run, p, len);
    } else if (strcmp(a, "key_substitution") == 0) {
        spec->bind_leaf = F.client_leaf->cert; /* Evidence bound to another key */
    } else if (strcmp(a, "exporter_label_confusion") == 0) {
        spec->label = "Attestation"; /* the exporter label of draft-fossati-seat-expat-03 */
    } else if (strcmp(a, "reflected_evidence_role") == 0) {
        /* Evidence the attester made for the client's direction of this very request (what a
         * replica with the same key obtains by mirroring, were that not refused) */
        spec->bind_role = ATLS_BINDING_CLIENT_ATTESTS;
    } else if (strncmp(a, "diversion_", 10) == 0) {
        /* another genuine TEE with identical measurements answers with its own identity */
        spec->bind_leaf = spec->ea_leaf = lab->other_leaf->cert;
        spec->ea_key = lab->other_leaf->key;
    } else if (strcmp(a, "code_signing_leaf") == 0) {
        /* the server's own key, in a certificate for code signing only */
        spec->bind_leaf = spec->ea_leaf = lab->cs_leaf->cert;
    } else if (strcmp(a, "evidence_oracle") == 0) {
        ATLS_GUARD(oracle_evidence(lab, run, spec));
    } else if (strcmp(a, "unrequested_cmw") == 0) {
        spec->ext_type_delta = -1; /* 0xFEFF was never requested */
    } else if (strcmp(a, "cmw_in_second_entry") == 0) {
        spec->second_entry = 1;
    } else if (strcmp(a, "stale_evidence") == 0) {
        spec->sim_iat = (int64_t)time(NULL) - 3600;
    } else if (strncmp(a, "batch_", 6) == 0) {
        uint8_t *w = NULL;
        size_t w_len = 0;
        ATLS_GUARD(batch_attack_evidence(a, run, lab->other, lab->ctx, lab->ctx_len, &w, &w_len,
                                         &lab->batch_step, lab->batch_note,
                                         sizeof(lab->batch_note)));
        spec->given_evidence = w;
        spec->given_evidence_len = w_len;
        spec->media_type = ATLS_BATCH_MEDIA_TYPE;
    } else if (strcmp(a, "oversized_frame") == 0) {
        static const uint8_t header[] = {ATLS_FRAME_AUTHENTICATOR, 0xff, 0xff, 0xff};
        ATLS_GUARD(hostile_send_raw(run, header, sizeof(header)));
        return ATLS_ERR_IO_CLOSED;
    } else if (strcmp(a, "truncated_frame") == 0) {
        static const uint8_t part[] = {ATLS_FRAME_AUTHENTICATOR, 0x00, 0x01, 0x00, 0x0b, 0x00};
        ATLS_GUARD(hostile_send_raw(run, part, sizeof(part)));
        lab->partial_sent = sizeof(part);
        SSL_shutdown(run->pair->server); /* and hang up mid-frame */
        return ATLS_ERR_IO_CLOSED;
    }
    return hostile_answer(&F, run, p, len, spec);
}

static atls_error on_frame(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    struct lab *lab = run->hostile_arg;
    if (type == ATLS_FRAME_ERROR) {
        uint16_t code = 0;
        char reason[ATLS_FRAME_ERROR_REASON_MAX + 1];
        if (atls_frame_parse_error(p, len, &code, reason, sizeof(reason)) == ATLS_OK) {
            lab->client_error = code;
        }
        return ATLS_OK;
    }
    if (type != ATLS_FRAME_REQUEST) {
        return ATLS_OK;
    }
    lab->requests++;
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_parse(p, len, &req));
    size_t ctx_len = 0;
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    memcpy(lab->ctx, ctx, ctx_len);
    lab->ctx_len = ctx_len;
    atls_ea_request_free(req);
    if (lab->requests == 1) {
        /* the positive control: an honest answer; its Evidence kept for the replay */
        memcpy(lab->first_ctx, lab->ctx, ctx_len);
        lab->first_ctx_len = ctx_len;
        answer_spec honest = answer_spec_honest(&F, run);
        honest.keep = 1;
        atls_error rc = hostile_answer(&F, run, p, len, &honest);
        if (rc == ATLS_OK) {
            rc = evidence_extension(fixture_media_type(&F), honest.evidence, honest.evidence_len,
                                    &lab->first_ext, &lab->first_ext_len);
        }
        lab->first_evidence = honest.evidence;
        lab->first_evidence_len = honest.evidence_len;
        free(honest.auth);
        return rc;
    }
    if (lab->requests > 2) {
        return ATLS_OK;
    }
    atls_error rc = hostile(lab, run, p, len);
    lab->hostile_rc = rc;
    lab->sent = rc == ATLS_OK || (rc == ATLS_ERR_IO_CLOSED && !lab_mutant);
    return rc;
}

/* ---- the step and distinguishing checks ---------------------------------------------------- */

static int same64(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, 64) == 0;
}

/* verifies: |ev| (as a hand-made answer carries it: batched when batching) is genuine
 * Evidence of the attester under test over |challenge| */
static int verifies(const uint8_t *ev, size_t len, const uint8_t *challenge)
{
    return fixture_verifies(fixture_media_type(&F), ev, len, challenge);
}

static void note(verdict *v, const char *what)
{
    snprintf(v->step_note, sizeof(v->step_note), "%s", what);
}

static void check_step(struct lab *lab, verdict *v)
{
    const char *a = lab->name;
    SSL *client = lab->pair->client;
    const char *label = ATLS_BINDING_EXPORTER_LABEL;
    uint8_t honest[64], alt[64];
    int have = expected_challenge(client, label, ATLS_BINDING_SERVER_ATTESTS, lab->ctx,
                                  lab->ctx_len, F.leaf->cert, honest) == ATLS_OK;
    const uint8_t *placed = lab->spec.placed;
    v->step = lab->sent && lab->requests >= 2 && have;
    if (strcmp(a, "relay") == 0) {
        /* genuine Evidence for the other connection, for the victim's own context */
        int ok = expected_challenge(lab->other->client, label, ATLS_BINDING_SERVER_ATTESTS,
                                    lab->ctx, lab->ctx_len, F.leaf->cert, alt) == ATLS_OK &&
                 same64(placed, alt) && !same64(alt, honest) &&
                 verifies(lab->spec.evidence, lab->spec.evidence_len, alt);
        v->step = v->step && ok;
        note(v, "genuine Evidence bound to the other connection's exporter was relayed");
    } else if (strcmp(a, "replay") == 0) {
        uint8_t first[64];
        int ok = lab->first_ext_len > 0 &&
                 expected_challenge(client, label, ATLS_BINDING_SERVER_ATTESTS, lab->first_ctx,
                                    lab->first_ctx_len, F.leaf->cert, first) == ATLS_OK &&
                 verifies(lab->first_evidence, lab->first_evidence_len, first) &&
                 !same64(first, honest);
        v->step = v->step && ok;
        note(v, "the first request's genuine Evidence was sent again for the second");
    } else if (strcmp(a, "key_substitution") == 0 || strncmp(a, "diversion_", 10) == 0 ||
               strcmp(a, "exporter_label_confusion") == 0 ||
               strcmp(a, "reflected_evidence_role") == 0) {
        X509 *leaf = strcmp(a, "key_substitution") == 0 ? F.client_leaf->cert
                     : strncmp(a, "diversion_", 10) == 0 ? lab->other_leaf->cert
                                                        : F.leaf->cert;
        const char *lbl = strcmp(a, "exporter_label_confusion") == 0 ? "Attestation" : label;
        int role = strcmp(a, "reflected_evidence_role") == 0 ? ATLS_BINDING_CLIENT_ATTESTS
                                                             : ATLS_BINDING_SERVER_ATTESTS;
        int ok = expected_challenge(client, lbl, role, lab->ctx, lab->ctx_len, leaf, alt) ==
                     ATLS_OK &&
                 same64(placed, alt) &&
                 verifies(lab->spec.evidence, lab->spec.evidence_len, alt);
        /* a diversion's Evidence is correctly bound to the other key: only identity stops it */
        if (strncmp(a, "diversion_", 10) != 0) {
            ok = ok && !same64(alt, honest);
        }
        v->step = v->step && ok;
        note(v, "genuine Evidence bound to exactly the substituted input was sent");
    } else if (strcmp(a, "evidence_oracle") == 0) {
        uint8_t detached[64];
        int ok = same64(lab->oracle_input, honest) &&
                 atls_challenge_detached(honest, 64, detached) == ATLS_OK &&
                 fixture_verifies(F.att->media_type, lab->spec.given_evidence,
                                  lab->spec.given_evidence_len, detached);
        v->step = v->step && ok;
        note(v, lab->oracle_cli ? "`atls evidence --challenge <live challenge>` gave genuine "
                                        "Evidence, which was presented"
                                      : "atls_attester_produce_detached(live challenge) gave "
                                        "genuine Evidence, which was presented");
    } else if (strcmp(a, "code_signing_leaf") == 0) {
        int ok = X509_check_purpose(lab->cs_leaf->cert, X509_PURPOSE_SSL_SERVER, 0) != 1 &&
                 EVP_PKEY_eq(X509_get0_pubkey(lab->cs_leaf->cert), F.leaf->key) == 1 &&
                 same64(placed, honest);
        v->step = v->step && ok;
        note(v, "a codeSigning-only certificate for the TLS key carried correctly bound "
                      "Evidence");
    } else if (strncmp(a, "batch_", 6) == 0) {
        v->step = v->step && lab->batch_step;
        note(v, lab->batch_note);
    } else if (strcmp(a, "oversized_frame") == 0) {
        note(v, "a frame header declaring 16 MiB was sent");
    } else if (strcmp(a, "truncated_frame") == 0) {
        v->step = v->step && lab->partial_sent == 6;
        note(v, "6 bytes of a 267-byte frame were sent, then close_notify");
    } else {
        v->step = v->step && same64(placed, honest);
        note(v, "an otherwise honest, correctly bound answer was sent");
    }
}

/* ---- the run ------------------------------------------------------------------------------- */

void attack_hostile_server(const char *name, verdict *v)
{
    struct lab lab;
    memset(&lab, 0, sizeof(lab));
    lab.name = name;
    lab.client_error = -1;
    lab.pair = fixture_pair(&F, NULL);
    atls_policy *policy = fixture_policy(&F, F.good_policy);
    if (strcmp(name, "stale_evidence") == 0) {
        /* the same policy with an age limit */
        json_t *doc = json_loads(F.good_policy, 0, NULL);
        json_object_set_new(doc, "max_age_seconds", json_integer(300));
        char *text = json_dumps(doc, 0);
        json_decref(doc);
        atls_policy_free(policy);
        policy = text != NULL ? fixture_policy(&F, text) : NULL;
        free(text);
    }
    CHECK(lab.pair != NULL && policy != NULL);
    if (strcmp(name, "relay") == 0 || strncmp(name, "batch_", 6) == 0) {
        lab.other = fixture_pair(&F, NULL);
        CHECK(lab.other != NULL);
    }
    if (lab.other != NULL) {
        batch_attack_setup(name, lab.other);
    }
    if (strcmp(name, "diversion_other_identity") == 0) {
        CHECK_OK(testcert_leaf_new(F.ca, TESTCERT_P256, "other.test", &lab.other_leaf));
    } else if (strncmp(name, "diversion_", 10) == 0) {
        CHECK_OK(testcert_leaf_new(F.ca, TESTCERT_P256, "server.test", &lab.other_leaf));
    }
    if (strcmp(name, "code_signing_leaf") == 0) {
        CHECK_OK(testcert_leaf_for_key(F.ca, F.leaf->key, "server.test", "DNS:server.test",
                                       "codeSigning", &lab.cs_leaf));
    }
    if (lab.pair == NULL || policy == NULL || check_failed > 0) {
        atls_policy_free(policy);
        tls_pair_free(lab.pair);
        return;
    }
    server_run run = {.pair = lab.pair, .hostile = on_frame, .hostile_arg = &lab};
    CHECK(server_start(&run) == 0);

    atls_session_config cc = client_config(&F, policy);
    if (strcmp(name, "diversion_zero_config") == 0) {
        /* what a library user writes: zero, then trust, host name and policy */
        memset(&cc, 0, sizeof(cc));
        cc.trust = F.store;
        cc.hostname = "server.test";
        cc.policy = policy;
    }
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(lab.pair->client, &cc, &c));
    if (c != NULL) {
        v->control_ok = atls_session_attest(c, NULL) == ATLS_OK;
        atls_error rc = atls_session_attest(c, NULL);
        verdict_reject(v, rc);
        v->after_ok = rc != ATLS_OK && atls_session_peer_attested(c) == 0 &&
                      atls_session_write(c, (const uint8_t *)"x", 1) != ATLS_OK;
        atls_session_close(c);
        atls_session_free(c);
    }
    shutdown(lab.pair->client_fd, SHUT_RDWR);
    server_join(&run);
    if (lab.other != NULL) {
        batch_attack_teardown(lab.other);
    }
    check_step(&lab, v);
    /* the client told the server why, with the same code (where the server still listens) */
    if (strcmp(name, "oversized_frame") != 0 && strcmp(name, "truncated_frame") != 0) {
        verdict_extra(v, lab.client_error == (int)v->got && v->got != ATLS_OK,
                      "the client's ERROR frame carries the rejection code");
    }
    free(lab.first_ext);
    free(lab.first_evidence);
    free(lab.spec.evidence);
    free(lab.spec.auth);
    free((void *)lab.spec.given_evidence);
    testcert_free(lab.other_leaf);
    testcert_free(lab.cs_leaf);
    tls_pair_free(lab.other);
    atls_policy_free(policy);
    tls_pair_free(lab.pair);
}
