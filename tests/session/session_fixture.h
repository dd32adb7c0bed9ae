/* session_fixture.h: a real TLS 1.3 pair negotiated with ALPN atls/1, a sim attester on
 * the server, and a server thread that runs an atls session (echoing DATA) or a hand-written
 * hostile peer. Shared by the session tests and the attack lab. */
#ifndef ATLS_TESTS_SESSION_FIXTURE_H
#define ATLS_TESTS_SESSION_FIXTURE_H

#include <atls/appraisal.h>
#include <atls/ea.h>
#include <atls/policy.h>
#include <atls/session.h>

#include "testcert.h"
#include "tls_pair.h"

#include <pthread.h>

typedef struct fixture {
    char dir[256];                 /* temp dir: sim key, measurements, policies */
    testcert *ca, *leaf;           /* server identity ("server.test") */
    testcert *client_leaf;         /* client identity for mutual attestation */
    X509_STORE *store;
    char sim_key_path[300], meas_path[300];
    char sim_key_id[65];
    const atls_attester_ops *sim;
    void *sim_state;               /* server's sim attester */
} fixture;

/* fixture_init: CA, leaves, a sim key and measurements file. Returns 0 on success. */
int fixture_init(fixture *f);
void fixture_cleanup(fixture *f);

/* fixture_policy loads a policy built from |json_fmt| (printf format; %s is the sim key id). */
atls_policy *fixture_policy(fixture *f, const char *json_text);

/* fixture_sim_policy: the strict policy that accepts the fixture's sim measurements. */
atls_policy *fixture_sim_policy(fixture *f);

/* fixture_pair: a TLS 1.3 pair with ALPN atls/1 over the fixture's server identity. */
tls_pair *fixture_pair(fixture *f, const char *ciphersuites);

/* The server side run by a thread. */
typedef struct server_run {
    tls_pair *pair;
    atls_session_config cfg;       /* filled by the test */
    int request_client_first;      /* mutual: server requests the client's Evidence first */
    atls_error result;             /* how the server loop ended */
    atls_error client_appraisal;   /* mutual: result of appraising the client */
    pthread_t thread;
    /* hostile mode: when set, called for each REQUEST frame instead of a session */
    atls_error (*hostile)(struct server_run *run, const uint8_t *req, size_t len,
                          uint8_t **auth, size_t *auth_len);
    void *hostile_arg;
    int hostile_calls;
} server_run;

/* server_start runs the server side in a thread: an echo loop on an atls session, or the
 * hostile answerer. */
int server_start(server_run *run);
/* server_join waits for the thread (the client closes first). */
void server_join(server_run *run);

/* client_config: the usual client configuration (policy, trust, host, TLS identity binding). */
atls_session_config client_config(fixture *f, const atls_policy *policy);

/* build_certificate_msg: a Certificate handshake message with |context| and one or two
 * entries (the leaf, then optionally the CA) carrying the given extensions. Caller frees. */
atls_error build_certificate_msg(const uint8_t *context, size_t context_len, X509 *leaf,
                                 const uint8_t *leaf_exts, size_t leaf_exts_len, X509 *second,
                                 const uint8_t *second_exts, size_t second_exts_len,
                                 uint8_t **out, size_t *out_len);

/* evidence_extension: extension bytes (type, u16 len, u16 cmw_data len, CMW) for a CMW record
 * wrapping |evidence| with |media_type|. Caller frees. */
atls_error evidence_extension(const char *media_type, const uint8_t *evidence, size_t len,
                              uint8_t **out, size_t *out_len);

#endif
