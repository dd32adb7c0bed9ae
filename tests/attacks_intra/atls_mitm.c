/*
 * atls_mitm.c: the attacker against atls in the relay and replay scenarios (atls_mitm.h).
 *
 * A holds S1's TLS key and certificate (stolen), and no attestation key. It terminates the
 * victim's TLS connection as server.test (ALPN atls/1) and has its own atls connection to S1.
 * For every REQUEST from the victim it obtains genuine Evidence from S1 — fresh, over the
 * victim's own certificate_request_context (relay), or captured once earlier (replay) — and
 * answers with a valid authenticator of its own (RFC 9261: signed with the stolen key, MAC'd
 * with the victim's connection) carrying S1's cmw_attestation. Everything A sends is
 * well-formed; only the binding to the victim's TLS exporter can tell.
 */
#include "atls_mitm.h"

#include <atls/ea.h>
#include <atls/frame.h>
#include <atls/session.h>

#include "base/mem.h"
#include "base/result.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atls_error send_frame(SSL *ssl, uint8_t type, const uint8_t *p, size_t len)
{
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    ATLS_GUARD(atls_frame_encode(type, p, len, &frame, &frame_len));
    int w = SSL_write(ssl, frame, (int)frame_len);
    free(frame);
    ATLS_ENSURE(w == (int)frame_len, ATLS_ERR_IO, "mitm: write failed");
    return ATLS_OK;
}

/* next_frame: the next whole frame from |ssl| (blocking); *payload valid until the next call */
static atls_error next_frame(SSL *ssl, atls_frame_reader *r, uint8_t *type,
                             const uint8_t **payload, size_t *len)
{
    for (;;) {
        int have = 0;
        ATLS_GUARD(atls_frame_reader_next(r, &have, type, payload, len));
        if (have) {
            return ATLS_OK;
        }
        uint8_t buf[16384];
        int n = SSL_read(ssl, buf, sizeof(buf));
        ATLS_ENSURE(n > 0, ATLS_ERR_IO_CLOSED, "mitm: peer closed");
        ATLS_GUARD(atls_frame_reader_feed(r, buf, (size_t)n));
    }
}

/* upstream_evidence: ask S1 (over A's own atls connection) for Evidence with |ctx| as the
 * request context; *ext gets S1's cmw_attestation extension data (malloc'd). */
static atls_error upstream_evidence(atls_mitm *m, SSL *up, atls_frame_reader *r,
                                    atls_ea_context_set *seen, const uint8_t *ctx,
                                    size_t ctx_len, uint8_t **ext, size_t *ext_len)
{
    atls_ea_extension want = {.type = ATLS_EXT_CMW_ATTESTATION};
    atls_ea_request_options o = {.context = ctx, .context_len = ctx_len, .extensions = &want,
                                 .num_extensions = 1};
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_new(up, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &o, &req));
    size_t req_len = 0;
    const uint8_t *req_bytes = atls_ea_request_get0_bytes(req, &req_len);
    atls_error rc = send_frame(up, ATLS_FRAME_REQUEST, req_bytes, req_len);
    uint8_t type = 0;
    const uint8_t *p = NULL;
    size_t len = 0;
    while (rc == ATLS_OK) {
        rc = next_frame(up, r, &type, &p, &len);
        if (rc == ATLS_OK && type == ATLS_FRAME_AUTHENTICATOR) {
            break;
        }
        if (rc == ATLS_OK && type == ATLS_FRAME_ERROR) {
            rc = atls_error_raise(ATLS_ERR_PROTOCOL_PEER_ERROR, __FILE__, __LINE__,
                                  "mitm: S1 sent an ERROR frame");
        }
    }
    atls_ea_result *res = NULL;
    if (rc == ATLS_OK) {
        const uint16_t first_only[] = {ATLS_EXT_CMW_ATTESTATION};
        atls_ea_validate_options vo = {.first_entry_only = first_only, .num_first_entry_only = 1};
        rc = atls_ea_validate(up, req, p, len, seen, &vo, &res);
    }
    if (rc == ATLS_OK) {
        size_t n = 0;
        const uint8_t *d = atls_ea_result_get0_extension(res, ATLS_EXT_CMW_ATTESTATION, &n);
        *ext = d != NULL ? atls_memdup(d, n) : NULL;
        *ext_len = n;
        rc = *ext != NULL ? ATLS_OK
                          : atls_error_raise(ATLS_ERR_EVIDENCE, __FILE__, __LINE__,
                                             "mitm: S1's authenticator had no Evidence");
    }
    atls_ea_result_free(res);
    atls_ea_request_free(req);
    if (rc == ATLS_OK) {
        pthread_mutex_lock(&m->srv.mu);
        m->upstream_exchanges++;
        pthread_mutex_unlock(&m->srv.mu);
    }
    return rc;
}

/* answer: a valid authenticator for the victim's request around Evidence |ext| */
static atls_error answer(atls_mitm *m, SSL *victim, const uint8_t *msg, size_t len,
                         const uint8_t *ext, size_t ext_len)
{
    atls_ea_request *req = NULL;
    ATLS_GUARD(atls_ea_request_parse(msg, len, &req));
    atls_ea_extension e = {.type = ATLS_EXT_CMW_ATTESTATION, .data = ext, .len = ext_len};
    uint8_t *auth = NULL;
    size_t auth_len = 0;
    atls_error rc = atls_ea_authenticate(victim, req, m->cert, NULL, m->key, &e, 1, &auth,
                                         &auth_len);
    atls_ea_request_free(req);
    if (rc == ATLS_OK) {
        rc = send_frame(victim, ATLS_FRAME_AUTHENTICATOR, auth, auth_len);
        pthread_mutex_lock(&m->srv.mu);
        m->answers++;
        pthread_mutex_unlock(&m->srv.mu);
    }
    free(auth);
    return rc;
}

/* the attacker's side of one victim connection (the victim's TLS handshake is done) */
static void serve_victim(intra_lab_server *srv, SSL *victim)
{
    atls_mitm *m = srv->app_arg;
    int fd = loopback_connect(m->s1_port);
    SSL *up = fd >= 0 ? SSL_new(m->up_ctx) : NULL;
    atls_frame_reader vr, ur;
    atls_frame_reader_init(&vr);
    atls_frame_reader_init(&ur);
    atls_ea_context_set *seen = NULL;
    atls_error rc = up != NULL && SSL_set_fd(up, fd) == 1 && SSL_connect(up) == 1
                        ? atls_ea_context_set_new(&seen)
                        : ATLS_ERR_IO;
    if (rc == ATLS_OK && m->mode == ATLS_MITM_REPLAY && m->captured == NULL) {
        /* replay: Evidence captured on A's own earlier exchange with S1 */
        static const uint8_t old_ctx[32] = "an earlier request's context...";
        rc = upstream_evidence(m, up, &ur, seen, old_ctx, sizeof(old_ctx), &m->captured,
                               &m->captured_len);
    }
    while (rc == ATLS_OK) {
        uint8_t type = 0;
        const uint8_t *p = NULL;
        size_t len = 0;
        rc = next_frame(victim, &vr, &type, &p, &len);
        if (rc != ATLS_OK) {
            break;
        }
        if (type == ATLS_FRAME_DATA) {
            intra_lab_server_record(srv, p, len); /* the victim trusted A: the attack worked */
            rc = send_frame(victim, ATLS_FRAME_DATA, p, len);
        } else if (type == ATLS_FRAME_ERROR) {
            uint16_t code = 0;
            char reason[300] = "";
            if (atls_frame_parse_error(p, len, &code, reason, sizeof(reason)) == ATLS_OK) {
                pthread_mutex_lock(&m->srv.mu);
                m->victim_error = (atls_error)code;
                snprintf(m->victim_reason, sizeof(m->victim_reason), "%s", reason);
                m->victim_errors++;
                pthread_mutex_unlock(&m->srv.mu);
            }
            break;
        } else if (type == ATLS_FRAME_REQUEST) {
            uint8_t *ext = NULL;
            size_t ext_len = 0;
            if (m->mode == ATLS_MITM_RELAY) {
                /* fresh Evidence from S1 over the victim's very context */
                uint8_t ctx[ATLS_EA_CONTEXT_MAX_LEN];
                size_t ctx_len = 0;
                rc = atls_ea_get_context(p, len, ctx, &ctx_len);
                if (rc == ATLS_OK) {
                    rc = upstream_evidence(m, up, &ur, seen, ctx, ctx_len, &ext, &ext_len);
                }
            } else {
                ext = atls_memdup(m->captured, m->captured_len);
                ext_len = m->captured_len;
            }
            if (rc == ATLS_OK && ext != NULL) {
                rc = answer(m, victim, p, len, ext, ext_len);
            }
            free(ext);
        }
    }
    atls_ea_context_set_free(seen);
    atls_frame_reader_cleanup(&vr);
    atls_frame_reader_cleanup(&ur);
    if (up != NULL) {
        (void)SSL_shutdown(up);
    }
    SSL_free(up);
    if (fd >= 0) {
        close(fd);
    }
    (void)SSL_shutdown(victim);
    ERR_clear_error();
}

int atls_mitm_start(atls_mitm *m, atls_mitm_mode mode, X509 *cert, EVP_PKEY *key, int s1_port)
{
    return atls_mitm_start_on(m, mode, cert, key, s1_port, 0);
}

int atls_mitm_start_on(atls_mitm *m, atls_mitm_mode mode, X509 *cert, EVP_PKEY *key, int s1_port,
                       int port)
{
    memset(m, 0, sizeof(*m));
    m->mode = mode;
    m->cert = cert;
    m->key = key;
    m->s1_port = s1_port;
    m->ctx = SSL_CTX_new(TLS_server_method());
    m->up_ctx = SSL_CTX_new(TLS_client_method());
    if (m->ctx == NULL || m->up_ctx == NULL || atls_ssl_ctx_configure(m->ctx, 1, 0) != ATLS_OK ||
        atls_ssl_ctx_configure(m->up_ctx, 0, 1) != ATLS_OK ||
        SSL_CTX_use_certificate(m->ctx, cert) != 1 || SSL_CTX_use_PrivateKey(m->ctx, key) != 1) {
        atls_mitm_stop(m);
        return -1;
    }
    SSL_CTX_set_verify(m->up_ctx, SSL_VERIFY_NONE, NULL); /* A knows whom it talks to */
    m->srv.app = serve_victim;
    m->srv.app_arg = m;
    if (intra_lab_server_start_on(&m->srv, m->ctx, port) != 0) {
        atls_mitm_stop(m);
        return -1;
    }
    m->started = 1;
    return 0;
}

void atls_mitm_stop(atls_mitm *m)
{
    if (m->started) {
        intra_lab_server_stop(&m->srv);
        m->started = 0;
    }
    SSL_CTX_free(m->ctx);
    SSL_CTX_free(m->up_ctx);
    m->ctx = m->up_ctx = NULL;
    free(m->captured);
    m->captured = NULL;
}
