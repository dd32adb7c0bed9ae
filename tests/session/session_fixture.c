/* session_fixture.c: see session_fixture.h. */
#include "session_fixture.h"

#include <atls/frame.h>

#include "base/result.h"
#include "base/writer.h"
#include "cmw/cmw.h"
#include "evidence/claims.h"
#include "sim/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    if (f->sim != NULL && f->sim_state != NULL) {
        f->sim->destroy(f->sim_state);
    }
    testcert_free(f->ca);
    testcert_free(f->leaf);
    testcert_free(f->client_leaf);
    X509_STORE_free(f->store);
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
    tls_pair_options o = {0};
    o.ciphersuites = ciphersuites;
    o.server_cert = f->leaf->cert;
    o.server_key = f->leaf->key;
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
    c.require_tls_identity = 1;
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
        return NULL;
    }
    if (run->request_client_first) {
        run->client_appraisal = atls_session_attest(s, NULL);
        if (run->client_appraisal != ATLS_OK) {
            run->result = run->client_appraisal;
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
            struct pollfd p = {.fd = atls_session_fd(s), .events = atls_session_poll_events(s)};
            if (poll(&p, 1, 10000) == 0) {
                run->result = ATLS_ERR_IO_TIMEOUT;
                break;
            }
        }
    }
    atls_session_free(s);
    return NULL;
}

/* hostile_server: reads frames by hand and answers REQUESTs through run->hostile. */
static void *hostile_server(void *arg)
{
    server_run *run = arg;
    SSL *ssl = run->pair->server;
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    uint8_t buf[16384];
    run->result = ATLS_OK;
    for (;;) {
        int n = SSL_read(ssl, buf, sizeof(buf));
        if (n <= 0) {
            int err = SSL_get_error(ssl, n);
            if (err == SSL_ERROR_WANT_READ) {
                struct pollfd p = {.fd = SSL_get_fd(ssl), .events = POLLIN};
                if (poll(&p, 1, 10000) == 0) {
                    run->result = ATLS_ERR_IO_TIMEOUT;
                    break;
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
            if (type != ATLS_FRAME_REQUEST) {
                continue;
            }
            uint8_t *auth = NULL, *frame = NULL;
            size_t auth_len = 0, frame_len = 0;
            run->hostile_calls++;
            if (run->hostile(run, payload, len, &auth, &auth_len) != ATLS_OK ||
                atls_frame_encode(ATLS_FRAME_AUTHENTICATOR, auth, auth_len, &frame,
                                  &frame_len) != ATLS_OK) {
                fprintf(stderr, "hostile server: %s\n", atls_error_detail());
                free(auth);
                run->result = ATLS_ERR_INTERNAL;
                goto out;
            }
            size_t off = 0;
            while (off < frame_len) {
                int w = SSL_write(ssl, frame + off, (int)(frame_len - off));
                if (w > 0) {
                    off += (size_t)w;
                    continue;
                }
                struct pollfd p = {.fd = SSL_get_fd(ssl), .events = POLLOUT | POLLIN};
                (void)poll(&p, 1, 1000);
            }
            free(auth);
            free(frame);
        }
    }
out:
    atls_frame_reader_cleanup(&r);
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
