/*
 * attack_lab: one attack per run, `attack_lab <attack> <sim|tpm2>`, against real TLS 1.3
 * connections and the real attesters (sim, and tpm2 on a private swtpm). Each attack must be
 * rejected with its own error code; docs/SECURITY.md explains what each one shows.
 *
 * A hostile server is written by hand on top of the real TLS connection (session_fixture.h):
 * it reads the honest client's frames and answers with crafted ones, using the real attester
 * for Evidence wherever the attack needs genuine Evidence.
 */
#include "session_fixture.h"

#include <atls/binding.h>
#include <atls/frame.h>

#include "base/result.h"
#include "check.h"
#include "codec/cose/cose.h"
#include "tls/ea/ea_internal.h"
#include "evidence/sim/sim.h"

#include <openssl/pem.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static fixture F;

/* ---- building answers --------------------------------------------------------------------- */

struct answer_spec {
    SSL *bind_ssl;          /* connection whose exporter the Evidence is bound to */
    const char *label;      /* exporter label used for the binding */
    X509 *bind_leaf;        /* key the Evidence is bound to */
    X509 *ea_leaf;          /* certificate in the authenticator */
    EVP_PKEY *ea_key;
    const char *media_type; /* NULL: the attester's */
    int ext_type_delta;     /* added to the cmw_attestation code point */
    int second_entry;       /* put the Evidence in the second CertificateEntry */
    int64_t sim_iat;        /* sim only: when non-zero, a hand-made EAT with this iat */
};

/* make_evidence: Evidence from the attester under test, bound as |spec| says. */
static atls_error make_evidence(const struct answer_spec *spec, const uint8_t *ctx,
                                size_t ctx_len, uint8_t **ev, size_t *ev_len)
{
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    atls_binding b;
    ATLS_GUARD(atls_spki_der(spec->bind_leaf, &spki, &spki_len));
    atls_error rc = atls_binding_compute_with_label(spec->bind_ssl, spec->label,
                                                    ATLS_BINDING_SERVER_ATTESTS, ctx, ctx_len,
                                                    spki, spki_len, &b);
    free(spki);
    ATLS_GUARD(rc);
    if (spec->sim_iat == 0) {
        return F.att->produce(F.att_state, b.challenge, ev, ev_len);
    }
    /* a sim EAT dated |sim_iat|, signed with the trusted sim key */
    atls_sim_measurement m[ATLS_SIM_MAX_MEASUREMENTS];
    size_t num_m = 0;
    ATLS_GUARD(atls_sim_load_measurements(F.meas_path, m, &num_m));
    FILE *fp = fopen(F.sim_key_path, "r");
    ATLS_ENSURE(fp != NULL, ATLS_ERR_IO_FILE, "sim key");
    EVP_PKEY *key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    ATLS_ENSURE(key != NULL, ATLS_ERR_CRYPTO_KEY, "sim key");
    uint8_t *point = NULL, *claims = NULL;
    size_t point_len = 0, claims_len = 0;
    int64_t crv = 0;
    rc = atls_cose_ec_pkey_to_point(key, &crv, &point, &point_len);
    if (rc == ATLS_OK) {
        rc = atls_sim_encode_claims(b.challenge, spec->sim_iat, m, num_m, point, point_len,
                                    &claims, &claims_len);
    }
    if (rc == ATLS_OK) {
        atls_cose_sign_opts opts = {.tagged = true};
        rc = atls_cose_sign1_sign(claims, claims_len, key, &opts, ev, ev_len);
    }
    free(point);
    free(claims);
    EVP_PKEY_free(key);
    return rc;
}

/* answer: an authenticator for |req| built as |spec| says, sent as an AUTHENTICATOR frame. */
static atls_error answer(server_run *run, const uint8_t *msg, size_t len,
                         const struct answer_spec *spec)
{
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_parse(msg, len, &req));
    size_t ctx_len = 0;
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    uint8_t *ev = NULL, *ext = NULL, *cert = NULL, *auth = NULL;
    size_t ev_len = 0, ext_len = 0, cert_len = 0, auth_len = 0;
    atls_error rc;
    ATLS_GUARD_GOTO(rc, done, make_evidence(spec, ctx, ctx_len, &ev, &ev_len));
    const char *media = spec->media_type ? spec->media_type : F.att->media_type;
    ATLS_GUARD_GOTO(rc, done, evidence_extension(media, ev, ev_len, &ext, &ext_len));
    uint16_t type = (uint16_t)(ATLS_EXT_CMW_ATTESTATION + spec->ext_type_delta);
    ext[0] = (uint8_t)(type >> 8), ext[1] = (uint8_t)type;
    if (spec->second_entry) {
        ATLS_GUARD_GOTO(rc, done, build_certificate_msg(ctx, ctx_len, spec->ea_leaf, NULL, 0,
                                                        F.ca->cert, ext, ext_len, &cert,
                                                        &cert_len));
    } else {
        ATLS_GUARD_GOTO(rc, done, build_certificate_msg(ctx, ctx_len, spec->ea_leaf, ext, ext_len,
                                                        NULL, NULL, 0, &cert, &cert_len));
    }
    ATLS_GUARD_GOTO(rc, done, atls_ea_authenticate_raw(run->pair->server, req, cert, cert_len,
                                                       spec->ea_key,
                                                       ATLS_SIG_ECDSA_SECP256R1_SHA256, -1,
                                                       &auth, &auth_len));
    rc = hostile_send(run, ATLS_FRAME_AUTHENTICATOR, auth, auth_len);
done:
    atls_ea_request_free(req);
    free(ev), free(ext), free(cert), free(auth);
    return rc;
}

static struct answer_spec honest_spec(server_run *run)
{
    struct answer_spec s = {0};
    s.bind_ssl = run->pair->server;
    s.label = ATLS_BINDING_EXPORTER_LABEL;
    s.bind_leaf = F.leaf->cert;
    s.ea_leaf = F.leaf->cert;
    s.ea_key = F.leaf->key;
    return s;
}

/* ---- the attacks -------------------------------------------------------------------------- */

struct lab {
    const char *attack;
    tls_pair *other;           /* a second genuine connection (relay) */
    testcert *other_leaf;      /* another identity (diversion) */
    uint8_t saved_ext[70000];  /* replay: the first answer's Evidence extension */
    size_t saved_len;
    int count;
};

static atls_error on_frame(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    struct lab *lab = run->hostile_arg;
    if (type != ATLS_FRAME_REQUEST) {
        return ATLS_OK;
    }
    struct answer_spec spec = honest_spec(run);
    const char *a = lab->attack;
    lab->count++;
    if (strcmp(a, "relay") == 0) {
        /* a man in the middle who owns a genuine TEE: Evidence made for its own connection to
         * that TEE (same request context, another TLS exporter) */
        spec.bind_ssl = lab->other->server;
    } else if (strcmp(a, "key_substitution") == 0) {
        spec.bind_leaf = F.client_leaf->cert; /* Evidence bound to another key */
    } else if (strcmp(a, "exporter_label_confusion") == 0) {
        spec.label = "Attestation Binding"; /* the label of the older design */
    } else if (strcmp(a, "diversion_other_identity") == 0) {
        /* a genuine TEE with identical measurements but another server identity answers */
        spec.bind_leaf = spec.ea_leaf = lab->other_leaf->cert;
        spec.ea_key = lab->other_leaf->key;
    } else if (strcmp(a, "diversion_same_name_other_key") == 0) {
        /* another genuine TEE holding its own certificate for the same name */
        spec.bind_leaf = spec.ea_leaf = lab->other_leaf->cert;
        spec.ea_key = lab->other_leaf->key;
    } else if (strcmp(a, "unrequested_cmw") == 0) {
        spec.ext_type_delta = -1; /* 0xFEFF was never requested */
    } else if (strcmp(a, "cmw_in_second_entry") == 0) {
        spec.second_entry = 1;
    } else if (strcmp(a, "stale_evidence") == 0) {
        spec.sim_iat = (int64_t)time(NULL) - 3600;
    } else if (strcmp(a, "reflection") == 0) {
        /* ask the client for ITS authenticator with the very context it asked us with ... */
        atls_ea_request *req = NULL;
        ATLS_GUARD(atls_ea_request_parse(p, len, &req));
        size_t ctx_len = 0;
        const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
        atls_ea_extension ext = {.type = ATLS_EXT_CMW_ATTESTATION};
        atls_ea_request_options o = {.context = ctx, .context_len = ctx_len,
                                     .extensions = &ext, .num_extensions = 1};
        atls_ea_request *mine = NULL;
        atls_error rc = atls_ea_request_new(run->pair->server, ATLS_EA_CERTIFICATE_REQUEST, &o,
                                            &mine);
        atls_ea_request_free(req);
        ATLS_GUARD(rc);
        size_t mlen = 0;
        const uint8_t *mbytes = atls_ea_request_get0_bytes(mine, &mlen);
        rc = hostile_send(run, ATLS_FRAME_REQUEST, mbytes, mlen);
        atls_ea_request_free(mine);
        return rc;
    } else if (strcmp(a, "data_before_appraisal") == 0) {
        /* flood DATA instead of answering: the client must neither deliver nor buffer it all */
        static uint8_t junk[16000];
        for (int i = 0; i < 80; i++) {
            if (hostile_send(run, ATLS_FRAME_DATA, junk, sizeof(junk)) != ATLS_OK) {
                break;
            }
        }
        return ATLS_ERR_IO_CLOSED;
    }
    return answer(run, p, len, &spec);
}

/* reflection: the client's AUTHENTICATOR (answering our mirrored request) is sent back to it. */
static atls_error on_frame_reflect(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    if (type == ATLS_FRAME_AUTHENTICATOR) {
        return hostile_send(run, ATLS_FRAME_AUTHENTICATOR, p, len);
    }
    return on_frame(run, type, p, len);
}

/* replay: the first request is answered honestly and its Evidence kept; every later request gets
 * a fresh, valid authenticator around that earlier Evidence. */
static atls_error on_frame_replay(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    struct lab *lab = run->hostile_arg;
    if (type != ATLS_FRAME_REQUEST || lab->count >= 1) {
        if (type == ATLS_FRAME_REQUEST) {
            lab->count++;
            /* the earlier Evidence, re-authenticated on this request: the EA is fresh, the
             * Evidence is not */
            atls_ea_request *req = NULL;
            ATLS_GUARD(atls_ea_request_parse(p, len, &req));
            size_t ctx_len = 0;
            const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
            uint8_t *cert = NULL, *auth = NULL;
            size_t cert_len = 0, auth_len = 0;
            atls_error rc = build_certificate_msg(ctx, ctx_len, F.leaf->cert, lab->saved_ext,
                                                  lab->saved_len, NULL, NULL, 0, &cert,
                                                  &cert_len);
            if (rc == ATLS_OK) {
                rc = atls_ea_authenticate_raw(run->pair->server, req, cert, cert_len,
                                              F.leaf->key, ATLS_SIG_ECDSA_SECP256R1_SHA256, -1,
                                              &auth, &auth_len);
            }
            if (rc == ATLS_OK) {
                rc = hostile_send(run, ATLS_FRAME_AUTHENTICATOR, auth, auth_len);
            }
            atls_ea_request_free(req);
            free(cert), free(auth);
            return rc;
        }
        return ATLS_OK;
    }
    /* first request: answer honestly and keep the Evidence extension */
    lab->count++;
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_parse(p, len, &req));
    size_t ctx_len = 0;
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    struct answer_spec spec = honest_spec(run);
    uint8_t *ev = NULL, *ext = NULL;
    size_t ev_len = 0, ext_len = 0;
    atls_error rc = make_evidence(&spec, ctx, ctx_len, &ev, &ev_len);
    if (rc == ATLS_OK) {
        rc = evidence_extension(F.att->media_type, ev, ev_len, &ext, &ext_len);
    }
    if (rc == ATLS_OK && ext_len <= sizeof(lab->saved_ext)) {
        memcpy(lab->saved_ext, ext, ext_len);
        lab->saved_len = ext_len;
    }
    free(ev), free(ext);
    atls_ea_request_free(req);
    ATLS_GUARD(rc);
    return answer(run, p, len, &spec);
}

static atls_error send_oversized(server_run *run)
{
    static const uint8_t header[] = {ATLS_FRAME_AUTHENTICATOR, 0xff, 0xff, 0xff};
    return hostile_send_raw(run, header, sizeof(header));
}

static atls_error on_frame_oversized(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    (void)p, (void)len;
    if (type == ATLS_FRAME_REQUEST) {
        ATLS_GUARD(send_oversized(run));
        return ATLS_ERR_IO_CLOSED;
    }
    return ATLS_OK;
}

static atls_error on_frame_truncated(server_run *run, uint8_t type, const uint8_t *p, size_t len)
{
    (void)p, (void)len;
    if (type == ATLS_FRAME_REQUEST) {
        static const uint8_t part[] = {ATLS_FRAME_AUTHENTICATOR, 0x00, 0x01, 0x00, 0x0b, 0x00};
        ATLS_GUARD(hostile_send_raw(run, part, sizeof(part)));
        SSL_shutdown(run->pair->server); /* and hang up mid-frame */
        return ATLS_ERR_IO_CLOSED;
    }
    return ATLS_OK;
}

/* ---- running one attack -------------------------------------------------------------------- */

static atls_error run_attack(const char *attack, atls_error *server_saw)
{
    struct lab lab = {.attack = attack};
    tls_pair *pair = fixture_pair(&F, NULL);
    atls_policy *policy = fixture_policy(&F, F.good_policy);
    if (strcmp(attack, "stale_evidence") == 0) {
        /* the same policy with an age limit */
        json_t *doc = json_loads(F.good_policy, 0, NULL);
        json_object_set_new(doc, "max_age_seconds", json_integer(300));
        char *text = json_dumps(doc, 0);
        json_decref(doc);
        atls_policy_free(policy);
        policy = fixture_policy(&F, text);
        free(text);
    }
    CHECK(pair != NULL && policy != NULL);
    if (strcmp(attack, "relay") == 0) {
        lab.other = fixture_pair(&F, NULL);
    }
    if (strcmp(attack, "diversion_other_identity") == 0) {
        CHECK_OK(testcert_leaf_new(F.ca, TESTCERT_P256, "other.test", &lab.other_leaf));
    }
    if (strcmp(attack, "diversion_same_name_other_key") == 0) {
        CHECK_OK(testcert_leaf_new(F.ca, TESTCERT_P256, "server.test", &lab.other_leaf));
    }
    server_run run = {.pair = pair, .hostile = on_frame, .hostile_arg = &lab};
    if (strcmp(attack, "reflection") == 0) {
        run.hostile = on_frame_reflect;
    } else if (strcmp(attack, "replay") == 0) {
        run.hostile = on_frame_replay;
    } else if (strcmp(attack, "oversized_frame") == 0) {
        run.hostile = on_frame_oversized;
    } else if (strcmp(attack, "truncated_frame") == 0) {
        run.hostile = on_frame_truncated;
    }
    CHECK(server_start(&run) == 0);

    atls_session_config cc = client_config(&F, policy);
    if (strcmp(attack, "unrequested_cmw") == 0) {
        cc.cmw_extension = ATLS_EXT_CMW_ATTESTATION; /* asks for 0xFF00; gets 0xFEFF */
    }
    if (strcmp(attack, "reflection") == 0) {
        /* a client that can attest (mutual attestation) is the one a reflection targets */
        cc.cert = F.client_leaf->cert;
        cc.key = F.client_leaf->key;
        cc.attester = F.sim;
        cc.attester_state = F.sim_state;
    }
    atls_session *c = NULL;
    atls_error rc = atls_session_new(pair->client, &cc, &c);
    if (rc == ATLS_OK) {
        int attempts = strcmp(attack, "replay") == 0 ? 2 : 1;
        for (int i = 0; i < attempts && rc == ATLS_OK; i++) {
            rc = atls_session_attest(c, NULL);
            if (i < attempts - 1) {
                CHECK_OK(rc); /* replay: the first answer is genuine */
            }
        }
        /* whatever happened, nothing was attested and nothing may flow */
        if (rc != ATLS_OK) {
            CHECK(atls_session_peer_attested(c) == 0);
            CHECK(atls_session_write(c, (const uint8_t *)"x", 1) != ATLS_OK);
        }
        atls_session_close(c);
    }
    atls_session_free(c);
    shutdown(pair->client_fd, SHUT_RDWR);
    server_join(&run);
    if (server_saw != NULL) {
        *server_saw = run.result;
    }
    testcert_free(lab.other_leaf);
    tls_pair_free(lab.other);
    atls_policy_free(policy);
    tls_pair_free(pair);
    return rc;
}

/* context_reuse: the client itself reuses a certificate_request_context (a Verifier nonce
 * handed out twice); the second answer must not be accepted. The server is honest. */
static atls_error attack_context_reuse(void)
{
    tls_pair *pair = fixture_pair(&F, NULL);
    atls_policy *policy = fixture_policy(&F, F.good_policy);
    server_run run = {.pair = pair};
    server_config_attest(&F, &run);
    CHECK(server_start(&run) == 0);
    atls_session_config cc = client_config(&F, policy);
    atls_session *c = NULL;
    CHECK_OK(atls_session_new(pair->client, &cc, &c));
    static const uint8_t nonce[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    atls_error rc = ATLS_OK;
    for (int i = 0; i < 2 && rc == ATLS_OK; i++) {
        uint64_t before = atls_session_appraisals(c);
        CHECK_OK(atls_session_request(c, nonce, sizeof(nonce)));
        for (int spins = 0; rc == ATLS_OK && atls_session_appraisals(c) == before &&
                            spins < 2000;
             spins++) {
            uint8_t buf[64];
            size_t n = 0;
            rc = atls_session_read(c, buf, sizeof(buf), &n);
            struct pollfd p = {.fd = atls_session_fd(c), .events = POLLIN};
            (void)poll(&p, 1, 5);
        }
        if (i == 0) {
            CHECK_OK(rc); /* the first use is fine */
        }
    }
    atls_session_close(c);
    atls_session_free(c);
    shutdown(pair->client_fd, SHUT_RDWR);
    server_join(&run);
    atls_policy_free(policy);
    tls_pair_free(pair);
    return rc;
}

/* tls12: an attested session over TLS 1.2 is refused, and so is every EA operation. */
static atls_error attack_tls12(void)
{
    tls_pair_options o = {0};
    o.server_cert = F.leaf->cert;
    o.server_key = F.leaf->key;
    o.max_version = TLS1_2_VERSION;
    o.alpn = (const unsigned char *)ATLS_ALPN_WIRE;
    o.alpn_len = ATLS_ALPN_WIRE_LEN;
    tls_pair *old = NULL;
    CHECK_OK(tls_pair_new(&o, &old));
    if (old == NULL) {
        return ATLS_ERR_INTERNAL;
    }
    atls_session_config cc = client_config(&F, NULL);
    atls_session *s = NULL;
    atls_error rc = atls_session_new(old->client, &cc, &s);
    atls_ea_request *req = NULL;
    CHECK_ERR(atls_ea_request_new(old->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req),
              ATLS_ERR_USAGE_NOT_TLS13);
    atls_binding b;
    static const uint8_t spki[1] = {0};
    CHECK_ERR(atls_binding_compute(old->client, ATLS_BINDING_SERVER_ATTESTS, spki, 1, spki, 1, &b),
              ATLS_ERR_USAGE_NOT_TLS13);
    tls_pair_free(old);
    return rc;
}

/* resumption: a session resumed from a ticket (the only way to 0-RTT in TLS 1.3) cannot carry
 * attestation: atls_session_new refuses it. The server here is misconfigured on purpose (it
 * issues tickets); atls_ssl_ctx_configure would not. */
static atls_error attack_resumption(void)
{
    tls_pair_options o = {0};
    o.server_cert = F.leaf->cert;
    o.server_key = F.leaf->key;
    o.alpn = (const unsigned char *)ATLS_ALPN_WIRE;
    o.alpn_len = ATLS_ALPN_WIRE_LEN;
    o.num_tickets = 1;
    tls_pair *first = NULL;
    CHECK_OK(tls_pair_new(&o, &first));
    if (first == NULL) {
        return ATLS_ERR_INTERNAL;
    }
    /* let the client read the NewSessionTicket */
    uint8_t byte = 'x', back = 0;
    CHECK_OK(tls_pair_transfer(first, 0, &byte, 1, &back));
    SSL_SESSION *sess = SSL_get1_session(first->client);
    CHECK(sess != NULL && SSL_SESSION_is_resumable(sess));
    o.server_ctx = first->server_ctx;
    o.resume = sess;
    tls_pair *second = NULL;
    CHECK_OK(tls_pair_new(&o, &second));
    atls_error rc = ATLS_ERR_INTERNAL;
    if (second != NULL) {
        CHECK(SSL_session_reused(second->client) == 1);
        atls_session_config cc = client_config(&F, NULL);
        atls_session *s = NULL;
        rc = atls_session_new(second->client, &cc, &s);
        atls_session_free(s);
    }
    SSL_SESSION_free(sess);
    tls_pair_free(second);
    tls_pair_free(first);
    return rc;
}

struct attack {
    const char *name;      /* attack_<name> in CTest, after the property it protects */
    atls_error want;
    int needs_sim;         /* only meaningful with Evidence that carries a time */
};

static const struct attack attacks[] = {
    {"relay", ATLS_ERR_EVIDENCE_NONCE, 0},
    {"replay", ATLS_ERR_EVIDENCE_NONCE, 0},
    {"diversion_other_identity", ATLS_ERR_CRYPTO_CHAIN, 0},
    {"diversion_same_name_other_key", ATLS_ERR_PROTOCOL_BINDING, 0},
    {"reflection", ATLS_ERR_CRYPTO_SIGNATURE, 0},
    {"context_reuse", ATLS_ERR_PROTOCOL_REPLAY, 0},
    {"key_substitution", ATLS_ERR_EVIDENCE_NONCE, 0},
    {"exporter_label_confusion", ATLS_ERR_EVIDENCE_NONCE, 0},
    {"tls12", ATLS_ERR_USAGE_NOT_TLS13, 0},
    {"resumption", ATLS_ERR_PROTOCOL_SESSION, 0},
    {"unrequested_cmw", ATLS_ERR_PROTOCOL_EXTENSION, 0},
    {"cmw_in_second_entry", ATLS_ERR_PROTOCOL_EXTENSION, 0},
    {"oversized_frame", ATLS_ERR_PROTOCOL_FRAME, 0},
    {"truncated_frame", ATLS_ERR_IO_CLOSED, 0},
    {"data_before_appraisal", ATLS_ERR_PROTOCOL_SESSION, 0},
    {"stale_evidence", ATLS_ERR_EVIDENCE_STALE, 1},
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: attack_lab ATTACK sim|tpm2\n");
        return 2;
    }
    const struct attack *at = NULL;
    for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
        if (strcmp(attacks[i].name, argv[1]) == 0) {
            at = &attacks[i];
        }
    }
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
        fixture_cleanup(&F);
        return 1;
    }
    atls_error got;
    if (strcmp(at->name, "context_reuse") == 0) {
        got = attack_context_reuse();
    } else if (strcmp(at->name, "tls12") == 0) {
        got = attack_tls12();
    } else if (strcmp(at->name, "resumption") == 0) {
        got = attack_resumption();
    } else {
        got = run_attack(at->name, NULL);
    }
    printf("attack %s (%s): %s\n", at->name, argv[2], atls_error_detail());
    CHECK_ERR(got, at->want);
    fixture_cleanup(&F);
    return check_summary();
}
