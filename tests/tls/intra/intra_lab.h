/*
 * intra_lab.h: loopback TLS servers and clients for the INSECURE intra-handshake baseline tests
 * and the attack scenarios (tests/attacks_intra). Every connection is a real OpenSSL TLS 1.3
 * handshake over TCP on 127.0.0.1.
 *
 * The application on top is the one the attack scenarios observe: after its handshake the
 * client writes one secret line; the server stores the line it reads ("who read the secret")
 * and answers "ack". A server may replace that application (intra_lab_server.app).
 */
#ifndef ATLS_TESTS_INTRA_LAB_H
#define ATLS_TESTS_INTRA_LAB_H

#include <atls/appraisal.h>
#include "tls/intra/intra_insecure.h"
#include <atls/policy.h>

#include "loopback.h"

#include <openssl/ssl.h>
#include <pthread.h>

#define LAB_SECRET_MAX 256

/* What one client connection saw. */
typedef struct intra_lab_result {
    int handshake_ok;
    int attested;                 /* atls_intra_insecure_peer_attested */
    atls_error error;             /* atls_intra_insecure_error */
    char reason[256];
    int alert_sent, alert_received; /* TLS alert descriptions, -1: none */
    int secret_written;           /* the secret went out over the connection */
    uint8_t *evidence;            /* copy of the CMW received (malloc'd), or NULL */
    size_t evidence_len;
    X509 *peer_cert;              /* a reference, or NULL */
    atls_intra_insecure_binder_inputs inputs; /* what the client bound to */
    int have_inputs;
    atls_appraisal appraisal;     /* copy of the client's appraisal (status NONE if none) */
} intra_lab_result;

void intra_lab_result_cleanup(intra_lab_result *r);

/* A server: one SSL_CTX, connections served one at a time. */
typedef struct intra_lab_server {
    SSL_CTX *ctx;                 /* borrowed */
    /* replaces the read-the-secret application after a successful handshake, when set */
    void (*app)(struct intra_lab_server *s, SSL *ssl);
    void *app_arg;
    pthread_mutex_t mu;           /* guards the fields below */
    char secret[LAB_SECRET_MAX];  /* last secret line read ("" none) */
    int secrets_read;
    int handshakes_ok, handshakes_failed;
    atls_error last_error;        /* atls_intra_insecure_error of the last failed handshake */
    char last_reason[256];
    int last_alert_received;
    size_t last_evidence_len;     /* Evidence this server sent on its last handshake */
    loopback_server lb;
} intra_lab_server;

/* intra_lab_server_start serves |ctx| on a free loopback port (s->lb.port). 0 or -1. */
int intra_lab_server_start(intra_lab_server *s, SSL_CTX *ctx);
/* intra_lab_server_start_on: on 127.0.0.1:|port| (0: any free port). */
int intra_lab_server_start_on(intra_lab_server *s, SSL_CTX *ctx, int port);
void intra_lab_server_stop(intra_lab_server *s);

/* intra_lab_connect: a TLS 1.3 client connection with |ctx| to |port|; after a successful
 * handshake writes |secret| and a newline and waits for the answer. Fills |out| (cleanup). */
void intra_lab_connect(SSL_CTX *ctx, int port, const char *secret, intra_lab_result *out);

/* intra_lab_server_config: a baseline server making Evidence with |att| / |state|. */
atls_intra_insecure_config intra_lab_server_config(atls_intra_insecure_mode mode,
                                                   atls_intra_insecure_binder binder,
                                                   const atls_attester_ops *att, void *state);

/* intra_lab_client_config: a baseline client offering |att|'s Evidence type, appraising with
 * |policy| and, in X.509 mode, checking the chain against |trust| and the name "server.test"
 * (every lab server's). Thread-safe. */
atls_intra_insecure_config intra_lab_client_config(atls_intra_insecure_mode mode,
                                                   atls_intra_insecure_binder binder,
                                                   const atls_attester_ops *att,
                                                   const atls_policy *policy, X509_STORE *trust);

/* intra_lab_server_record: |srv| read the line |p| (a client's secret): kept, counted. */
void intra_lab_server_record(intra_lab_server *srv, const uint8_t *p, size_t len);

/* intra_lab_server_secrets: how many secrets |srv| read so far. */
int intra_lab_server_secrets(intra_lab_server *srv);

/* intra_lab_server_read_since: 1 when |srv| read |secret| after it had read |before|. */
int intra_lab_server_read_since(intra_lab_server *srv, int before, const char *secret);

/* intra_lab_client_ctx / _server_ctx: an SSL_CTX configured for the baseline (NULL on error,
 * reason on stderr). The server context gets |cert| / |key| when given. */
SSL_CTX *intra_lab_client_ctx(const atls_intra_insecure_config *cfg);
SSL_CTX *intra_lab_server_ctx(const atls_intra_insecure_config *cfg, X509 *cert, EVP_PKEY *key);

/* intra_lab_tofu_policy: the strict policy (as `atls policy init` writes it) accepting exactly
 * what the appraisal |a| (one verified result, made without policy) saw. Returns the parsed
 * policy (caller frees) and, when |text_out| is set, its JSON text (caller frees); NULL on
 * error. */
atls_policy *intra_lab_tofu_policy(const atls_appraisal *a, char **text_out);

/* alert names for messages */
const char *intra_lab_alert_name(int alert);

#endif /* ATLS_TESTS_INTRA_LAB_H */
