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

#include "swtpm.h"

typedef struct fixture {
    char dir[256];                 /* temp dir: sim key, measurements, policies */
    testcert *ca, *leaf;           /* server identity ("server.test") */
    testcert *client_leaf;         /* client identity for mutual attestation */
    X509_STORE *store;
    char sim_key_path[300], meas_path[300];
    char sim_key_id[65];
    const atls_attester_ops *sim;
    void *sim_state;               /* a sim attester (the client's in mutual tests) */
    /* the server's attester under test (fixture_attester) */
    const char *kind;              /* "sim" or "tpm2" */
    const atls_attester_ops *att;
    void *att_state;
    test_swtpm tpm;                /* running when kind is tpm2 */
    /* policies for the attester under test (fixture_make_policies), JSON text */
    char *good_policy, *mismatch_policy, *untrusted_policy, *other_type_policy;
} fixture;

/* fixture_init: CA, leaves, a sim key and measurements file. Returns 0 on success. */
int fixture_init(fixture *f);
void fixture_cleanup(fixture *f);

/* fixture_attester selects the server's attester: "sim", or "tpm2" on a private swtpm started
 * here (stopped by fixture_cleanup). Returns 0, 77 when swtpm is missing, -1 on error. */
int fixture_attester(fixture *f, const char *kind);

/* fixture_make_policies writes the four policies for the attester under test: good (trust on
 * first use from an honest attestation, as `atls policy init` does), mismatch (one reference
 * value changed), untrusted (another key), other_type (a section for another evidence type). */
int fixture_make_policies(fixture *f);

/* fixture_policy parses a policy from JSON text (NULL on error, detail on stderr). */
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
    /* hostile mode: when set, no session runs on the server side; instead |hostile| sees every
     * frame the client sends and answers through hostile_send / hostile_send_raw. Returning
     * non-OK ends the loop (and the connection). |hostile_begin|, when set, runs first. */
    atls_error (*hostile)(struct server_run *run, uint8_t type, const uint8_t *payload,
                          size_t len);
    atls_error (*hostile_begin)(struct server_run *run);
    void *hostile_arg;
    int hostile_calls;
} server_run;

/* server_start runs the server side in a thread: an echo loop on an atls session, or the
 * hostile answerer. */
int server_start(server_run *run);
/* hostile_send writes one frame to the client (blocking until written). */
atls_error hostile_send(server_run *run, uint8_t type, const uint8_t *payload, size_t len);
/* hostile_send_raw writes raw bytes (malformed frames). */
atls_error hostile_send_raw(server_run *run, const uint8_t *bytes, size_t len);

/* server_join waits for the thread (the client closes first). */
void server_join(server_run *run);

/* server_config_attest: an honest server answering with the attester under test. */
void server_config_attest(fixture *f, server_run *run);

/* attest_once: start |run|'s server, attest once from a client (|override| or the usual client
 * config with |policy|), close both; *a gets the appraisal. */
atls_error attest_once(fixture *f, server_run *run, const atls_policy *policy,
                       atls_session_config *override, atls_appraisal *a);

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
