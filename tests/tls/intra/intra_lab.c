/* intra_lab.c: loopback TLS servers and clients for the baseline tests (intra_lab.h). */
#include "intra_lab.h"

#include <atls/evidence.h>

#include "base/mem.h"
#include "evidence/core/plugin.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* alerts seen on one SSL, through the info callback */
typedef struct alerts {
    int sent, received;
} alerts;

static void on_info(const SSL *ssl, int where, int ret)
{
    alerts *a = SSL_get_app_data(ssl);
    if (a == NULL || !(where & SSL_CB_ALERT)) {
        return;
    }
    if (where & SSL_CB_READ) {
        a->received = ret & 0xff;
    } else {
        a->sent = ret & 0xff;
    }
}

const char *intra_lab_alert_name(int alert)
{
    return alert < 0 ? "none" : SSL_alert_desc_string_long(alert);
}

void intra_lab_result_cleanup(intra_lab_result *r)
{
    free(r->evidence);
    X509_free(r->peer_cert);
    atls_appraisal_cleanup(&r->appraisal);
    memset(r, 0, sizeof(*r));
}

/* read_line: up to a newline or |cap|-1 bytes; 0 on success. */
static int read_line(SSL *ssl, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        char ch;
        if (SSL_read(ssl, &ch, 1) != 1) {
            return -1;
        }
        if (ch == '\n') {
            break;
        }
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return 0;
}

static void serve_one(void *arg, int fd)
{
    intra_lab_server *s = arg;
    SSL *ssl = SSL_new(s->ctx);
    alerts al = {-1, -1};
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        close(fd);
        return;
    }
    SSL_set_app_data(ssl, &al);
    SSL_set_info_callback(ssl, on_info);
    int ok = SSL_accept(ssl) == 1;
    size_t ev_len = 0;
    (void)atls_intra_insecure_get0_evidence(ssl, &ev_len);
    pthread_mutex_lock(&s->mu);
    s->last_evidence_len = ev_len;
    if (ok) {
        s->handshakes_ok++;
    } else {
        const char *reason = NULL;
        s->handshakes_failed++;
        s->last_error = atls_intra_insecure_error(ssl, &reason);
        snprintf(s->last_reason, sizeof(s->last_reason), "%s", reason);
        s->last_alert_received = al.received;
    }
    pthread_mutex_unlock(&s->mu);
    if (ok && s->app != NULL) {
        s->app(s, ssl);
    } else if (ok) {
        char line[LAB_SECRET_MAX];
        if (read_line(ssl, line, sizeof(line)) == 0) {
            intra_lab_server_record(s, (const uint8_t *)line, strlen(line));
            (void)SSL_write(ssl, "ack\n", 4);
        }
        (void)SSL_shutdown(ssl);
    }
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
}

int intra_lab_server_start(intra_lab_server *s, SSL_CTX *ctx)
{
    return intra_lab_server_start_on(s, ctx, 0);
}

int intra_lab_server_start_on(intra_lab_server *s, SSL_CTX *ctx, int port)
{
    s->ctx = ctx;
    s->last_alert_received = -1;
    pthread_mutex_init(&s->mu, NULL);
    memset(&s->lb, 0, sizeof(s->lb));
    s->lb.on_conn = serve_one;
    s->lb.arg = s;
    s->lb.bind_port = port;
    return loopback_server_start(&s->lb);
}

void intra_lab_server_stop(intra_lab_server *s)
{
    loopback_server_stop(&s->lb);
}

void intra_lab_server_record(intra_lab_server *srv, const uint8_t *p, size_t len)
{
    size_t k = len < LAB_SECRET_MAX - 1 ? len : LAB_SECRET_MAX - 1;
    pthread_mutex_lock(&srv->mu);
    memcpy(srv->secret, p, k);
    srv->secret[k] = '\0';
    srv->secret[strcspn(srv->secret, "\n")] = '\0';
    srv->secrets_read++;
    pthread_mutex_unlock(&srv->mu);
}

int intra_lab_server_secrets(intra_lab_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    int n = srv->secrets_read;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

int intra_lab_server_read_since(intra_lab_server *srv, int before, const char *secret)
{
    pthread_mutex_lock(&srv->mu);
    int read = srv->secrets_read > before && strcmp(srv->secret, secret) == 0;
    pthread_mutex_unlock(&srv->mu);
    return read;
}

atls_intra_insecure_config intra_lab_server_config(atls_intra_insecure_mode mode,
                                                   atls_intra_insecure_binder binder,
                                                   const atls_attester_ops *att, void *state)
{
    atls_intra_insecure_config c;
    memset(&c, 0, sizeof(c));
    c.mode = mode;
    c.binder = binder;
    c.attester = att;
    c.attester_state = state;
    return c;
}

/* offer_of: a NULL-terminated list holding |att|'s media type, alive for the whole run (the
 * configuration borrows it until atls_intra_insecure_ctx_configure copies it) */
static const char *const *offer_of(const atls_attester_ops *att)
{
    static const char *lists[8][2];
    static const atls_attester_ops *owners[8];
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    const char *const *found = NULL;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < 8 && found == NULL; i++) {
        if (owners[i] == NULL) {
            owners[i] = att;
            lists[i][0] = att->media_type;
        }
        if (owners[i] == att) {
            found = lists[i];
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

atls_intra_insecure_config intra_lab_client_config(atls_intra_insecure_mode mode,
                                                   atls_intra_insecure_binder binder,
                                                   const atls_attester_ops *att,
                                                   const atls_policy *policy, X509_STORE *trust)
{
    atls_intra_insecure_config c;
    memset(&c, 0, sizeof(c));
    c.mode = mode;
    c.binder = binder;
    c.offered_media_types = offer_of(att);
    c.policy = policy;
    if (mode == ATLS_INTRA_INSECURE_X509) {
        c.trust = trust;
        c.hostname = "server.test";
    }
    return c;
}

void intra_lab_connect(SSL_CTX *ctx, int port, const char *secret, intra_lab_result *out)
{
    memset(out, 0, sizeof(*out));
    out->alert_sent = out->alert_received = -1;
    int fd = loopback_connect(port);
    SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        snprintf(out->reason, sizeof(out->reason), "cannot connect to port %d", port);
        out->error = ATLS_ERR_IO;
        SSL_free(ssl);
        if (fd >= 0) {
            close(fd);
        }
        return;
    }
    alerts al = {-1, -1};
    SSL_set_app_data(ssl, &al);
    SSL_set_info_callback(ssl, on_info);
    out->handshake_ok = SSL_connect(ssl) == 1;
    const char *reason = NULL;
    out->error = atls_intra_insecure_error(ssl, &reason);
    snprintf(out->reason, sizeof(out->reason), "%s", reason);
    out->attested = atls_intra_insecure_peer_attested(ssl);
    size_t len = 0;
    const uint8_t *ev = atls_intra_insecure_get0_evidence(ssl, &len);
    if (ev != NULL) {
        out->evidence = atls_memdup(ev, len);
        out->evidence_len = out->evidence != NULL ? len : 0;
    }
    const atls_intra_insecure_binder_inputs *in = atls_intra_insecure_get0_inputs(ssl);
    if (in != NULL) {
        out->inputs = *in;
        out->have_inputs = 1;
    }
    const atls_appraisal *a = atls_intra_insecure_get0_appraisal(ssl);
    if (a != NULL && atls_appraisal_copy(&out->appraisal, a) != ATLS_OK) {
        fprintf(stderr, "intra_lab: cannot copy the appraisal\n");
    }
    out->peer_cert = SSL_get1_peer_certificate(ssl);
    if (out->handshake_ok && secret != NULL) {
        size_t n = strlen(secret);
        out->secret_written = SSL_write(ssl, secret, (int)n) == (int)n &&
                              SSL_write(ssl, "\n", 1) == 1;
        char ack[16];
        (void)read_line(ssl, ack, sizeof(ack));
        (void)SSL_shutdown(ssl);
    }
    out->alert_sent = al.sent;
    out->alert_received = al.received;
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
}

SSL_CTX *intra_lab_client_ctx(const atls_intra_insecure_config *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || atls_intra_insecure_ctx_configure(ctx, 0, cfg) != ATLS_OK) {
        fprintf(stderr, "intra_lab: client context: %s\n", atls_error_detail());
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *intra_lab_server_ctx(const atls_intra_insecure_config *cfg, X509 *cert, EVP_PKEY *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || atls_intra_insecure_ctx_configure(ctx, 1, cfg) != ATLS_OK ||
        (cert != NULL && (SSL_CTX_use_certificate(ctx, cert) != 1 ||
                          SSL_CTX_use_PrivateKey(ctx, key) != 1))) {
        fprintf(stderr, "intra_lab: server context: %s\n", atls_error_detail());
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

atls_policy *intra_lab_tofu_policy(const atls_appraisal *a, char **text_out)
{
    if (a == NULL || a->num_results != 1) {
        fprintf(stderr, "intra_lab: trust on first use needs one verified result\n");
        return NULL;
    }
    const atls_evidence_result *res = &a->results[0];
    const char *name = res->policy_type != NULL ? res->policy_type : res->type;
    const atls_verifier_ops *ops = atls_verifier_by_name(name);
    json_t *section = NULL;
    if (ops == NULL || ops->policy_from_result(res, &section) != ATLS_OK) {
        fprintf(stderr, "intra_lab: policy_from_result: %s\n", atls_error_detail());
        return NULL;
    }
    json_t *doc = json_pack("{s:i, s:o}", "version", 1, name, section);
    char *text = doc != NULL ? json_dumps(doc, JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    atls_policy *p = NULL;
    if (text == NULL || atls_policy_parse(text, strlen(text), "tofu", &p) != ATLS_OK) {
        fprintf(stderr, "intra_lab: tofu policy: %s\n", atls_error_detail());
        free(text);
        return NULL;
    }
    if (text_out != NULL) {
        *text_out = text;
    } else {
        free(text);
    }
    return p;
}
