/* session_fixture.c: see session_fixture.h. */
#include "session_fixture.h"

#include <atls/frame.h>

#include "base/result.h"
#include "base/writer.h"
#include "codec/cose/cose.h"
#include "tls/ea/ea_internal.h"
#include <atls/binding.h>
#include "codec/cmw/cmw.h"
#include "evidence/batch/batch.h"
#include "evidence/core/claims.h"
#include "evidence/sim/sim.h"

#include <errno.h>
#include <openssl/err.h>
#include <time.h>
#include <signal.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        return -1;
    }
    fputs(text, fp);
    return fclose(fp);
}

int fixture_init(fixture *f)
{
    memset(f, 0, sizeof(*f));
    /* a peer that hangs up must give EPIPE, not kill the test (as in every TLS server) */
    signal(SIGPIPE, SIG_IGN);
    const char *batch = getenv("ATLS_TEST_BATCH");
    f->batching = batch != NULL && strcmp(batch, "1") == 0;
    if (atls_fair_lock_init(&f->lock) != ATLS_OK) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/atls-session-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    if (testcert_ca_new("atls test CA", &f->ca) != ATLS_OK ||
        testcert_leaf_new(f->ca, TESTCERT_P256, "server.test", &f->leaf) != ATLS_OK ||
        testcert_leaf_new(f->ca, TESTCERT_P256, "client.test", &f->client_leaf) != ATLS_OK ||
        testcert_store_new(f->ca, &f->store) != ATLS_OK) {
        return -1;
    }
    /* the sim signing key */
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (key == NULL) {
        return -1;
    }
    snprintf(f->sim_key_path, sizeof(f->sim_key_path), "%s/sim.key", f->dir);
    FILE *fp = fopen(f->sim_key_path, "w");
    int ok = fp != NULL && PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (fp != NULL) {
        fclose(fp);
    }
    ok = ok && atls_key_id(key, f->sim_key_id) == ATLS_OK;
    EVP_PKEY_free(key);
    snprintf(f->meas_path, sizeof(f->meas_path), "%s/measurements.json", f->dir);
    ok = ok && write_file(f->meas_path,
                          "{\"firmware\": \"1111111111111111111111111111111111111111111111111111111111111111\",\n"
                          " \"kernel\": \"2222222222222222222222222222222222222222222222222222222222222222\"}\n") == 0;
    if (!ok) {
        return -1;
    }
    f->sim = atls_attester_ops_by_name("sim");
    char keyopt[320], measopt[320];
    snprintf(keyopt, sizeof(keyopt), "key=%s", f->sim_key_path);
    snprintf(measopt, sizeof(measopt), "measurements=%s", f->meas_path);
    const char *config[] = {keyopt, measopt, NULL};
    if (f->sim == NULL || f->sim->create(config, &f->sim_state) != ATLS_OK) {
        return -1;
    }
    return 0;
}

void fixture_cleanup(fixture *f)
{
    atls_batcher_free(f->batcher);
    f->batcher = NULL;
    if (f->att != NULL && f->att != f->sim && f->att_state != NULL) {
        f->att->destroy(f->att_state);
    }
    test_swtpm_stop(&f->tpm);
    free(f->good_policy), free(f->mismatch_policy), free(f->untrusted_policy);
    free(f->other_type_policy);
    if (f->sim != NULL && f->sim_state != NULL) {
        f->sim->destroy(f->sim_state);
    }
    testcert_free(f->ca);
    testcert_free(f->leaf);
    testcert_free(f->client_leaf);
    X509_STORE_free(f->store);
    atls_fair_lock_destroy(&f->lock);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", f->dir);
    }
}

atls_policy *fixture_policy(fixture *f, const char *json_text)
{
    (void)f;
    atls_policy *p = NULL;
    if (atls_policy_parse(json_text, strlen(json_text), "test", &p) != ATLS_OK) {
        fprintf(stderr, "policy: %s\n", atls_error_detail());
        return NULL;
    }
    return p;
}

atls_policy *fixture_sim_policy(fixture *f)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"version\": 1, \"sim\": {\"keys\": [\"%s\"], \"measurements\": {"
             "\"firmware\": [\"1111111111111111111111111111111111111111111111111111111111111111\"],"
             "\"kernel\": [\"2222222222222222222222222222222222222222222222222222222222222222\"]}}}",
             f->sim_key_id);
    return fixture_policy(f, text);
}

tls_pair *fixture_pair(fixture *f, const char *ciphersuites)
{
    return fixture_pair_as(f, ciphersuites, f->leaf, f->client_leaf);
}

tls_pair *fixture_pair_as(fixture *f, const char *ciphersuites, const testcert *server,
                          const testcert *client)
{
    tls_pair_options o = {0};
    o.ciphersuites = ciphersuites;
    o.server_cert = server->cert;
    o.server_key = server->key;
    /* both ends verify in TLS against the fixture CA, the client authenticates too (mutual
     * attestation binds the client's Evidence to its TLS key) */
    o.client_trust = f->store;
    o.server_trust = f->store;
    if (client != NULL) {
        o.client_cert = client->cert;
        o.client_key = client->key;
    }
    o.alpn = (const unsigned char *)ATLS_ALPN_WIRE;
    o.alpn_len = ATLS_ALPN_WIRE_LEN;
    tls_pair *p = NULL;
    if (tls_pair_new(&o, &p) != ATLS_OK) {
        fprintf(stderr, "tls_pair: %s\n", atls_error_detail());
        return NULL;
    }
    return p;
}

atls_session_config client_config(fixture *f, const atls_policy *policy)
{
    atls_session_config c;
    memset(&c, 0, sizeof(c));
    c.peer_must_attest = 1;
    c.policy = policy;
    c.trust = f->store;
    c.hostname = "server.test";
    c.timeout_ms = 10000;
    return c;
}

/* ---- the server thread -------------------------------------------------------------------- */

static void *echo_server(void *arg)
{
    server_run *run = arg;
    atls_session *s = NULL;
    run->result = atls_session_new(run->pair->server, &run->cfg, &s);
    if (run->result != ATLS_OK) {
        snprintf(run->detail, sizeof(run->detail), "%s", atls_error_message());
        return NULL;
    }
    if (run->request_client_first) {
        run->client_appraisal = atls_session_attest(s, NULL);
        if (run->client_appraisal != ATLS_OK) {
            run->result = run->client_appraisal;
            snprintf(run->detail, sizeof(run->detail), "%s", atls_error_message());
            atls_session_free(s);
            return NULL;
        }
    }
    uint8_t buf[65536];
    for (;;) {
        size_t n = 0;
        atls_error rc = atls_session_read(s, buf, sizeof(buf), &n);
        if (rc != ATLS_OK) {
            run->result = rc == ATLS_ERR_IO_CLOSED ? ATLS_OK : rc;
            snprintf(run->detail, sizeof(run->detail), "%s", atls_error_message());
            break;
        }
        if (n > 0) {
            rc = atls_session_write(s, buf, n);
            if (rc != ATLS_OK) {
                run->result = rc;
                break;
            }
            continue;
        }
        if (!atls_session_has_pending(s)) {
            /* wait for the socket, or for the session's own next deadline (a rate-limited
             * answer, a late answer to us) */
            int t = atls_session_timeout_ms(s);
            struct pollfd p = {.fd = atls_session_fd(s), .events = atls_session_poll_events(s)};
            if (poll(&p, 1, t >= 0 && t < 10000 ? t : 10000) == 0 && t < 0) {
                run->result = ATLS_ERR_IO_TIMEOUT;
                break;
            }
        }
    }
    if (run->detail[0] == '\0') {
        snprintf(run->detail, sizeof(run->detail), "%s", atls_error_message());
    }
    run->evidence_produced = atls_session_evidence_produced(s);
    atls_session_close(s);
    atls_session_free(s);
    return NULL;
}

atls_error hostile_send_raw(server_run *run, const uint8_t *bytes, size_t len)
{
    return raw_write(run->pair->server, bytes, len);
}

atls_error raw_write(SSL *ssl, const uint8_t *bytes, size_t len)
{
    size_t off = 0;
    for (int tries = 0; off < len && tries < 10000; tries++) {
        int w = SSL_write(ssl, bytes + off, (int)(len - off));
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        int err = SSL_get_error(ssl, w);
        if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) {
            return ATLS_ERR_IO_CLOSED;
        }
        struct pollfd p = {.fd = SSL_get_fd(ssl), .events = POLLOUT};
        (void)poll(&p, 1, 100);
    }
    return off == len ? ATLS_OK : ATLS_ERR_IO_TIMEOUT;
}

atls_error hostile_send(server_run *run, uint8_t type, const uint8_t *payload, size_t len)
{
    return raw_send_frame(run->pair->server, type, payload, len);
}

atls_error raw_send_frame(SSL *ssl, uint8_t type, const uint8_t *payload, size_t len)
{
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    atls_error rc = atls_frame_encode(type, payload, len, &frame, &frame_len);
    if (rc == ATLS_OK) {
        rc = raw_write(ssl, frame, frame_len);
    }
    free(frame);
    return rc;
}

atls_error raw_next_frame(SSL *ssl, atls_frame_reader *r, int timeout_ms, uint8_t *type,
                          const uint8_t **payload, size_t *len)
{
    int64_t deadline = atls_test_now_ms() + timeout_ms;
    for (;;) {
        int have = 0;
        ATLS_GUARD(atls_frame_reader_next(r, &have, type, payload, len));
        if (have) {
            return ATLS_OK;
        }
        uint8_t buf[16384];
        int n = SSL_read(ssl, buf, sizeof(buf));
        if (n > 0) {
            ATLS_GUARD(atls_frame_reader_feed(r, buf, (size_t)n));
            continue;
        }
        int err = SSL_get_error(ssl, n);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            ATLS_RAISE(ATLS_ERR_IO_CLOSED, "raw_next_frame: the connection closed");
        }
        int64_t left = deadline - atls_test_now_ms();
        ATLS_ENSURE(left > 0, ATLS_ERR_IO_TIMEOUT, "raw_next_frame: no frame within %d ms",
                    timeout_ms);
        struct pollfd p = {.fd = SSL_get_fd(ssl), .events = POLLIN};
        (void)poll(&p, 1, (int)left);
    }
}

int64_t atls_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* hostile_server: reads the client's frames by hand and hands each to run->hostile. */
static void *hostile_server(void *arg)
{
    server_run *run = arg;
    SSL *ssl = run->pair->server;
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    uint8_t buf[16384];
    run->result = run->hostile_begin != NULL ? run->hostile_begin(run) : ATLS_OK;
    while (run->result == ATLS_OK) {
        int n = SSL_read(ssl, buf, sizeof(buf));
        if (n <= 0) {
            int err = SSL_get_error(ssl, n);
            if (err == SSL_ERROR_WANT_READ) {
                struct pollfd p = {.fd = SSL_get_fd(ssl), .events = POLLIN};
                if (poll(&p, 1, 10000) == 0) {
                    run->result = ATLS_ERR_IO_TIMEOUT;
                }
                continue;
            }
            break; /* closed */
        }
        if (atls_frame_reader_feed(&r, buf, (size_t)n) != ATLS_OK) {
            break;
        }
        for (;;) {
            int have = 0;
            uint8_t type;
            const uint8_t *payload;
            size_t len;
            if (atls_frame_reader_next(&r, &have, &type, &payload, &len) != ATLS_OK || !have) {
                break;
            }
            run->hostile_calls++;
            run->result = run->hostile(run, type, payload, len);
            if (run->result != ATLS_OK) {
                break;
            }
        }
    }
    atls_frame_reader_cleanup(&r);
    SSL_shutdown(ssl); /* close_notify: the client's lingering close need not wait */
    return NULL;
}

int server_start(server_run *run)
{
    if (run->hostile != NULL) {
        int fd = SSL_get_fd(run->pair->server);
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
            return -1;
        }
        return pthread_create(&run->thread, NULL, hostile_server, run);
    }
    return pthread_create(&run->thread, NULL, echo_server, run);
}

void server_join(server_run *run)
{
    pthread_join(run->thread, NULL);
}

/* ---- hand-made messages --------------------------------------------------------------------- */

static bool add_entry(atls_writer *w, X509 *cert, const uint8_t *exts, size_t exts_len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    if (n <= 0) {
        return false;
    }
    bool ok = atls_writer_open_u24(w) && atls_writer_add_bytes(w, der, (size_t)n) &&
              atls_writer_close(w) && atls_writer_open_u16(w) &&
              atls_writer_add_bytes(w, exts, exts_len) && atls_writer_close(w);
    OPENSSL_free(der);
    return ok;
}

atls_error build_certificate_msg(const uint8_t *context, size_t context_len, X509 *leaf,
                                 const uint8_t *leaf_exts, size_t leaf_exts_len, X509 *second,
                                 const uint8_t *second_exts, size_t second_exts_len,
                                 uint8_t **out, size_t *out_len)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_writer_add_u8(&w, ATLS_HS_CERTIFICATE) && atls_writer_open_u24(&w) &&
              atls_writer_open_u8(&w) && atls_writer_add_bytes(&w, context, context_len) &&
              atls_writer_close(&w) && atls_writer_open_u24(&w) &&
              add_entry(&w, leaf, leaf_exts, leaf_exts_len) &&
              (second == NULL || add_entry(&w, second, second_exts, second_exts_len)) &&
              atls_writer_close(&w) && atls_writer_close(&w);
    (void)ok;
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

atls_error evidence_extension(const char *media_type, const uint8_t *evidence, size_t len,
                              uint8_t **out, size_t *out_len)
{
    uint8_t *cmw = NULL;
    size_t cmw_len = 0;
    ATLS_GUARD(atls_cmw_encode_record(media_type, evidence, len, ATLS_CMW_IND_EVIDENCE, &cmw,
                                      &cmw_len));
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_writer_add_u16(&w, ATLS_EXT_CMW_ATTESTATION) && atls_writer_open_u16(&w) &&
              atls_writer_open_u16(&w) && atls_writer_add_bytes(&w, cmw, cmw_len) &&
              atls_writer_close(&w) && atls_writer_close(&w);
    (void)ok;
    free(cmw);
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

/* ---- the attester under test ------------------------------------------------------------- */

int fixture_attester(fixture *f, const char *kind)
{
    f->kind = kind;
    if (strcmp(kind, "sim") == 0) {
        f->att = f->sim;
        f->att_state = f->sim_state;
        return fixture_rebatch(f) == ATLS_OK ? 0 : -1;
    }
    if (strcmp(kind, "tpm2") != 0) {
        return -1;
    }
    int rc = test_swtpm_start(&f->tpm);
    if (rc != 0) {
        return rc == 77 ? 77 : -1;
    }
    char tcti[160];
    snprintf(tcti, sizeof(tcti), "tcti=%s", f->tpm.tcti);
    const char *config[] = {tcti, NULL};
    f->att = atls_attester_ops_by_name("tpm2");
    if (f->att == NULL || f->att->create(config, &f->att_state) != ATLS_OK) {
        fprintf(stderr, "tpm2 attester: %s\n", atls_error_detail());
        f->att = NULL;
        return -1;
    }
    return fixture_rebatch(f) == ATLS_OK ? 0 : -1;
}

atls_error fixture_rebatch(fixture *f)
{
    atls_batcher_free(f->batcher);
    f->batcher = NULL;
    if (!f->batching || f->att == NULL || f->att_state == NULL) {
        return ATLS_OK;
    }
    atls_error rc = atls_batcher_new(f->att, f->att_state, NULL, &f->batcher);
    if (rc != ATLS_OK) {
        fprintf(stderr, "batcher: %s\n", atls_error_detail());
    }
    return rc;
}

const char *fixture_media_type(const fixture *f)
{
    return f->batching ? ATLS_BATCH_MEDIA_TYPE : f->att->media_type;
}

int fixture_verifies(const char *media_type, const uint8_t *ev, size_t len,
                     const uint8_t challenge[64])
{
    uint8_t *cmw = NULL;
    size_t cmw_len = 0;
    if (atls_cmw_encode_record(media_type, ev, len, ATLS_CMW_IND_EVIDENCE, &cmw, &cmw_len) !=
        ATLS_OK) {
        return 0;
    }
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.challenge = challenge;
    atls_appraisal a;
    memset(&a, 0, sizeof(a));
    int ok = atls_appraise_cmw(cmw, cmw_len, &in, NULL, &a) == ATLS_OK;
    atls_appraisal_cleanup(&a);
    free(cmw);
    return ok;
}

atls_error fixture_batch_wrap(fixture *f, const uint8_t leaf[64],
                              atls_error (*make)(fixture *f, const uint8_t *challenge,
                                                 void *arg, uint8_t **ev, size_t *len),
                              void *arg, uint8_t **out, size_t *out_len)
{
    atls_merkle_hash leaves[3];
    ATLS_ENSURE(RAND_bytes((uint8_t *)leaves, sizeof(leaves)) == 1, ATLS_ERR_CRYPTO_RANDOM,
                "RAND_bytes");
    memcpy(leaves[1], leaf, 64);
    atls_merkle_tree t;
    ATLS_GUARD(atls_merkle_tree_build(leaves, 3, &t));
    atls_merkle_hash path[ATLS_BATCH_MAX_PATH];
    size_t path_len = 0;
    uint8_t challenge[64], *ev = NULL;
    size_t ev_len = 0;
    atls_error rc = atls_merkle_tree_path(&t, 1, path, &path_len);
    if (rc == ATLS_OK) {
        rc = atls_batch_challenge(atls_merkle_tree_root(&t), 3, challenge);
    }
    if (rc == ATLS_OK) {
        rc = make(f, challenge, arg, &ev, &ev_len);
    }
    if (rc == ATLS_OK) {
        rc = atls_batch_encode(f->att->media_type, ev, ev_len, 3, 1, path, path_len, out,
                               out_len);
    }
    free(ev);
    atls_merkle_tree_cleanup(&t);
    return rc;
}

void server_config_attest(fixture *f, server_run *run)
{
    memset(&run->cfg, 0, sizeof(run->cfg));
    run->cfg.cert = f->leaf->cert;
    run->cfg.key = f->leaf->key;
    if (f->batching) {
        run->cfg.attester = atls_batcher_ops();
        run->cfg.attester_state = f->batcher;
    } else {
        run->cfg.attester = f->att;
        run->cfg.attester_state = f->att_state;
        run->cfg.attester_lock = &f->lock;
    }
    run->cfg.timeout_ms = 10000;
}

atls_error attest_once(fixture *f, server_run *run, const atls_policy *policy,
                       atls_session_config *override, atls_appraisal *a)
{
    if (server_start(run) != 0) {
        return ATLS_ERR_INTERNAL;
    }
    atls_session_config cc = override != NULL ? *override : client_config(f, policy);
    atls_session *c = NULL;
    atls_error rc = atls_session_new(run->pair->client, &cc, &c);
    if (rc == ATLS_OK) {
        rc = atls_session_attest(c, a);
        atls_session_close(c);
    }
    atls_session_free(c);
    shutdown(run->pair->client_fd, SHUT_RDWR);
    server_join(run);
    return rc;
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
static json_t *tofu_section(fixture *f)
{
    tls_pair *pair = fixture_pair(f, NULL);
    if (pair == NULL) {
        return NULL;
    }
    server_run run = {.pair = pair};
    server_config_attest(f, &run);
    atls_session_config cc = client_config(f, NULL);
    cc.accept_warning = 1;
    atls_appraisal a = {0};
    atls_error rc = attest_once(f, &run, NULL, &cc, &a);
    json_t *section = NULL;
    const atls_verifier_ops *ops = atls_verifier_by_name(f->att->name);
    if (rc == ATLS_OK && a.num_results == 1 && ops != NULL &&
        ops->policy_from_result(&a.results[0], &section) != ATLS_OK) {
        section = NULL;
    }
    atls_appraisal_cleanup(&a);
    tls_pair_free(pair);
    return section;
}

static const char ZEROS[] = "0000000000000000000000000000000000000000000000000000000000000000";

int fixture_make_policies(fixture *f)
{
    json_t *good = tofu_section(f);
    if (good == NULL) {
        fprintf(stderr, "trust-on-first-use policy failed: %s\n", atls_error_detail());
        return -1;
    }
    if (f->batching) {
        /* the switch must really be on: that attestation went through the batcher */
        atls_batcher_stats st;
        atls_batcher_get_stats(f->batcher, &st);
        if (st.challenges == 0 || st.evidence == 0) {
            fprintf(stderr, "ATLS_TEST_BATCH=1, but the batcher produced nothing\n");
            json_decref(good);
            return -1;
        }
    }
    json_t *mismatch = json_deep_copy(good);
    json_t *untrusted = json_deep_copy(good);
    /* a value no fresh TPM or test measurement has (fresh swtpm PCRs are all zero) */
    json_t *zero_list = json_array();
    json_array_append_new(zero_list, json_string(
        "abababababababababababababababababababababababababababababababab"));
    if (strcmp(f->att->name, "tpm2") == 0) {
        json_object_set(json_object_get(json_object_get(mismatch, "pcrs"), "sha256"), "23",
                        zero_list);
        json_object_set(untrusted, "ak_keys", zero_list);
        f->other_type_policy = dump(json_pack("{s:i, s:{s:[s], s:b}}", "version", 1, "sim", "keys",
                                           ZEROS, "any_measurements", 1));
    } else {
        json_object_set(json_object_get(mismatch, "measurements"), "kernel", zero_list);
        json_object_set(untrusted, "keys", zero_list);
        f->other_type_policy = dump(json_pack("{s:i, s:{s:b, s:b}}", "version", 1, "tpm2", "ak_any",
                                           1, "any_pcrs", 1));
    }
    json_decref(zero_list);
    f->good_policy = with_section(f->att->name, good);
    f->mismatch_policy = with_section(f->att->name, mismatch);
    f->untrusted_policy = with_section(f->att->name, untrusted);
    return f->good_policy && f->mismatch_policy && f->untrusted_policy && f->other_type_policy ? 0 : -1;
}


/* ---- hand-made answers --------------------------------------------------------------------- */

answer_spec answer_spec_honest(fixture *f, server_run *run)
{
    answer_spec s;
    memset(&s, 0, sizeof(s));
    s.bind_ssl = run->pair->server;
    s.label = ATLS_BINDING_EXPORTER_LABEL;
    s.bind_role = ATLS_BINDING_SERVER_ATTESTS;
    s.bind_leaf = f->leaf->cert;
    s.ea_leaf = f->leaf->cert;
    s.ea_key = f->leaf->key;
    return s;
}

/* sim_evidence_at: a sim EAT dated |iat| over |challenge|, signed with the trusted sim key */
static atls_error sim_evidence_at(fixture *f, const uint8_t *challenge, int64_t iat, uint8_t **ev,
                                  size_t *ev_len)
{
    atls_sim_measurement m[ATLS_SIM_MAX_MEASUREMENTS];
    size_t num_m = 0;
    ATLS_GUARD(atls_sim_load_measurements(f->meas_path, m, &num_m));
    FILE *fp = fopen(f->sim_key_path, "r");
    ATLS_ENSURE(fp != NULL, ATLS_ERR_IO_FILE, "sim key");
    EVP_PKEY *key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    ATLS_ENSURE(key != NULL, ATLS_ERR_CRYPTO_KEY, "sim key");
    uint8_t *point = NULL, *claims = NULL;
    size_t point_len = 0, claims_len = 0;
    int64_t crv = 0;
    atls_error rc = atls_cose_ec_pkey_to_point(key, &crv, &point, &point_len);
    if (rc == ATLS_OK) {
        rc = atls_sim_encode_claims(challenge, iat, m, num_m, point, point_len, &claims,
                                    &claims_len);
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

/* make_plain: Evidence over exactly |challenge| as |arg| (an answer_spec) says */
static atls_error make_plain(fixture *f, const uint8_t *challenge, void *arg, uint8_t **ev,
                             size_t *ev_len)
{
    const answer_spec *spec = arg;
    if (spec->sim_iat != 0) {
        return sim_evidence_at(f, challenge, spec->sim_iat, ev, ev_len);
    }
    return f->att->produce(f->att_state, challenge, ev, ev_len);
}

atls_error make_spec_evidence(fixture *f, answer_spec *spec, const uint8_t *ctx, size_t ctx_len,
                              uint8_t **ev, size_t *ev_len)
{
    if (spec->given_evidence != NULL) {
        *ev = malloc(spec->given_evidence_len);
        ATLS_ENSURE(*ev != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        memcpy(*ev, spec->given_evidence, spec->given_evidence_len);
        *ev_len = spec->given_evidence_len;
        return ATLS_OK;
    }
    if (spec->challenge != NULL) {
        memcpy(spec->placed, spec->challenge, 64);
    } else {
        uint8_t *spki = NULL;
        size_t spki_len = 0;
        atls_binding b;
        ATLS_GUARD(atls_spki_der(spec->bind_leaf, &spki, &spki_len));
        atls_error rc = atls_binding_compute_with_label(spec->bind_ssl, spec->label,
                                                        (atls_binding_role)spec->bind_role, ctx,
                                                        ctx_len, spki, spki_len, &b);
        free(spki);
        ATLS_GUARD(rc);
        memcpy(spec->placed, b.challenge, 64);
    }
    if (f->batching) {
        return fixture_batch_wrap(f, spec->placed, make_plain, spec, ev, ev_len);
    }
    return make_plain(f, spec->placed, spec, ev, ev_len);
}

atls_error hostile_answer(fixture *f, server_run *run, const uint8_t *msg, size_t len,
                          answer_spec *spec)
{
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_parse(msg, len, &req));
    size_t ctx_len = 0;
    const uint8_t *ctx = atls_ea_request_get0_context(req, &ctx_len);
    uint8_t *ev = NULL, *ext = NULL, *cert = NULL, *auth = NULL;
    size_t ev_len = 0, ext_len = 0, cert_len = 0, auth_len = 0;
    atls_error rc;
    ATLS_GUARD_GOTO(rc, done, make_spec_evidence(f, spec, ctx, ctx_len, &ev, &ev_len));
    /* Evidence given as it is (the oracle's) is plain; made here, it is batched when batching */
    const char *media = spec->media_type     ? spec->media_type
                        : spec->given_evidence ? f->att->media_type
                                               : fixture_media_type(f);
    ATLS_GUARD_GOTO(rc, done, evidence_extension(media, ev, ev_len, &ext, &ext_len));
    uint16_t type = (uint16_t)(ATLS_EXT_CMW_ATTESTATION + spec->ext_type_delta);
    ext[0] = (uint8_t)(type >> 8), ext[1] = (uint8_t)type;
    if (spec->second_entry) {
        ATLS_GUARD_GOTO(rc, done, build_certificate_msg(ctx, ctx_len, spec->ea_leaf, NULL, 0,
                                                        f->ca->cert, ext, ext_len, &cert,
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
    if (spec->keep) {
        spec->evidence = ev, spec->evidence_len = ev_len;
        spec->auth = auth, spec->auth_len = auth_len;
        ev = auth = NULL;
    }
done:
    atls_ea_request_free(req);
    free(ev), free(ext), free(cert), free(auth);
    return rc;
}

atls_error make_atls_request(SSL *ssl, int type, const uint8_t prefix[16], uint64_t seq,
                             uint8_t **out, size_t *len)
{
    uint8_t ctx[40];
    memcpy(ctx, prefix, 16);
    for (int i = 0; i < 8; i++) {
        ctx[16 + i] = (uint8_t)(seq >> (56 - 8 * i));
    }
    memset(ctx + 24, 0x77, 16);
    atls_ea_extension ext = {.type = ATLS_EXT_CMW_ATTESTATION};
    atls_ea_request_options o = {.context = ctx, .context_len = sizeof(ctx), .extensions = &ext,
                                 .num_extensions = 1};
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_new(ssl, type, &o, &req));
    size_t n = 0;
    const uint8_t *b = atls_ea_request_get0_bytes(req, &n);
    *out = malloc(n);
    if (*out != NULL) {
        memcpy(*out, b, n);
        *len = n;
    }
    atls_ea_request_free(req);
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

int fixture_start_sim(fixture *f)
{
    if (fixture_init(f) != 0 || fixture_attester(f, "sim") != 0 ||
        fixture_make_policies(f) != 0) {
        fprintf(stderr, "fixture: %s\n", atls_error_detail());
        fixture_cleanup(f);
        return 1;
    }
    return 0;
}
