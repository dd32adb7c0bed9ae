/* session_fixture.h: a real TLS 1.3 pair negotiated with ALPN atls/1, a sim attester on
 * the server, and a server thread that runs an atls session (echoing DATA) or a hand-written
 * hostile peer. Shared by the session tests and the attack lab. */
#ifndef ATLS_TESTS_SESSION_FIXTURE_H
#define ATLS_TESTS_SESSION_FIXTURE_H

#include <atls/appraisal.h>
#include <atls/batch.h>
#include <atls/ea.h>
#include <atls/frame.h>
#include <atls/policy.h>
#include <atls/session.h>

#include "appraisal/appraise/appraisal_internal.h"
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
    /* ATLS_TEST_BATCH=1 in the environment: the honest servers attest through one batcher over
     * the attester under test (atls/batch.h), and hand-made answers carry batched Evidence, so
     * every test of the session and the attack lab runs with batching off and on */
    int batching;
    atls_batcher *batcher;
    atls_fair_lock lock;           /* without batching: shared by every honest server */
    /* policies for the attester under test (fixture_make_policies), JSON text */
    char *good_policy, *mismatch_policy, *untrusted_policy, *other_type_policy;
} fixture;

/* fixture_init: CA, leaves, a sim key and measurements file. Returns 0 on success. */
int fixture_init(fixture *f);
void fixture_cleanup(fixture *f);

/* fixture_attester selects the server's attester: "sim", or "tpm2" on a private swtpm started
 * here (stopped by fixture_cleanup). Returns 0, 77 when swtpm is missing, -1 on error. */
int fixture_attester(fixture *f, const char *kind);

/* fixture_rebatch puts a new batcher in front of the attester (after its state was made
 * anew); no-op without batching. */
atls_error fixture_rebatch(fixture *f);

/* fixture_media_type: the media type of the Evidence honest servers send (the batch wrapper's
 * when batching, else the attester's). */
const char *fixture_media_type(const fixture *f);

/* fixture_verifies: 1 when |ev| (of |media_type|, e.g. fixture_media_type) is genuine Evidence
 * over |challenge| (no policy). */
int fixture_verifies(const char *media_type, const uint8_t *ev, size_t len,
                     const uint8_t challenge[64]);

/* fixture_batch_wrap: the batched Evidence a hand-made answer carries when batching: |leaf| at
 * index 1 of a tree of three (the others random), Evidence over the batch challenge from
 * |make| (the attester under test or a hand-made sim EAT), wrapped with the proof of |leaf|. */
atls_error fixture_batch_wrap(fixture *f, const uint8_t leaf[64],
                              atls_error (*make)(fixture *f, const uint8_t *challenge,
                                                 void *arg, uint8_t **ev, size_t *len),
                              void *arg, uint8_t **out, size_t *out_len);

/* fixture_make_policies writes the four policies for the attester under test: good (trust on
 * first use from an honest attestation, as `atls policy init` does), mismatch (one reference
 * value changed), untrusted (another key), other_type (a section for another evidence type). */
int fixture_make_policies(fixture *f);

/* fixture_start_sim: fixture_init, the sim attester and its policies, the start of most session
 * tests. Returns 0, or 1 with the reason on stderr and |f| cleaned up (main's exit code). */
int fixture_start_sim(fixture *f);

/* fixture_policy parses a policy from JSON text (NULL on error, detail on stderr). */
atls_policy *fixture_policy(fixture *f, const char *json_text);

/* fixture_sim_policy: the strict policy that accepts the fixture's sim measurements. */
atls_policy *fixture_sim_policy(fixture *f);

/* fixture_pair: a TLS 1.3 pair with ALPN atls/1 over the fixture's server identity, the client
 * authenticating in TLS with client_leaf; both ends verify against the fixture CA. */
tls_pair *fixture_pair(fixture *f, const char *ciphersuites);
/* fixture_pair_as: the same with other identities (|client| NULL: no TLS client certificate). */
tls_pair *fixture_pair_as(fixture *f, const char *ciphersuites, const testcert *server,
                          const testcert *client);

/* The server side run by a thread. */
typedef struct server_run {
    tls_pair *pair;
    atls_session_config cfg;       /* filled by the test */
    int request_client_first;      /* mutual: server requests the client's Evidence first */
    atls_error result;             /* how the server loop ended */
    char detail[512];              /* echo server: atls_error_message() when it ended */
    uint64_t evidence_produced;    /* echo server: Evidence it produced for the client */
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

/* raw_write / raw_send_frame / raw_next_frame: bytes and frames on a bare SSL with no session
 * on it (a hostile peer on either end; the fd must be non-blocking). raw_next_frame waits up
 * to |timeout_ms| for the next complete frame (ATLS_ERR_IO_TIMEOUT, ATLS_ERR_IO_CLOSED);
 * *payload is valid until the next call on |r|. */
atls_error raw_write(SSL *ssl, const uint8_t *bytes, size_t len);
atls_error raw_send_frame(SSL *ssl, uint8_t type, const uint8_t *payload, size_t len);
atls_error raw_next_frame(SSL *ssl, atls_frame_reader *r, int timeout_ms, uint8_t *type,
                          const uint8_t **payload, size_t *len);
/* make_atls_request: an EA request of |type| (17 from a client, 13 from a server) asking for
 * Evidence, with the atls/1 context |prefix| || |seq| || 16 bytes (docs/PROTOCOL.md 2.1), for a
 * hand-written peer. Caller frees *out. */
atls_error make_atls_request(SSL *ssl, int type, const uint8_t prefix[16], uint64_t seq,
                             uint8_t **out, size_t *len);
/* atls_test_now_ms: monotonic milliseconds. */
int64_t atls_test_now_ms(void);

/* server_join waits for the thread (the client closes first). */
void server_join(server_run *run);

/* server_config_attest: an honest server answering with the attester under test: through the
 * fixture's batcher when batching, else directly under the fixture's fair lock. */
void server_config_attest(fixture *f, server_run *run);

/* attest_once: start |run|'s server, attest once from a client (|override| or the usual client
 * config with |policy|), close both; *a gets the appraisal. */
atls_error attest_once(fixture *f, server_run *run, const atls_policy *policy,
                       atls_session_config *override, atls_appraisal *a);

/* client_config: the usual client configuration (policy, trust, host, TLS identity binding). */
atls_session_config client_config(fixture *f, const atls_policy *policy);

/* How a hand-made answer is built (hostile_answer). Start from answer_spec_honest. */
typedef struct answer_spec {
    SSL *bind_ssl;          /* connection whose exporter the Evidence is bound to */
    const char *label;      /* exporter label used for the binding */
    int bind_role;          /* atls_binding_role of the binding */
    X509 *bind_leaf;        /* key the Evidence is bound to */
    X509 *ea_leaf;          /* certificate in the authenticator */
    EVP_PKEY *ea_key;
    const char *media_type; /* NULL: the attester's */
    int ext_type_delta;     /* added to the cmw_attestation code point */
    int second_entry;       /* put the Evidence in the second CertificateEntry */
    int64_t sim_iat;        /* sim only: when non-zero, a hand-made EAT with this iat */
    const uint8_t *challenge; /* when set: Evidence over exactly these 64 bytes */
    const uint8_t *given_evidence; /* when set: these Evidence bytes as they are (borrowed) */
    size_t given_evidence_len;
    uint8_t placed[64];     /* out: the challenge the Evidence carries (batching: the leaf
                               its inclusion proof is for) */
    int keep;               /* keep the Evidence and the authenticator (caller frees both) */
    uint8_t *evidence, *auth;
    size_t evidence_len, auth_len;
} answer_spec;

/* answer_spec_honest: what an honest server of |run| sends: Evidence from the attester under
 * test bound to the server's end, its role and F.leaf, in an EA made with F.leaf. */
answer_spec answer_spec_honest(fixture *f, server_run *run);

/* hostile_answer answers the REQUEST |msg| as |spec| says, from |run|'s server end. */
atls_error hostile_answer(fixture *f, server_run *run, const uint8_t *msg, size_t len,
                          answer_spec *spec);

/* make_spec_evidence: the Evidence |spec| describes for request context |ctx| (caller frees);
 * the challenge it carries goes to spec->placed. */
atls_error make_spec_evidence(fixture *f, answer_spec *spec, const uint8_t *ctx, size_t ctx_len,
                              uint8_t **ev, size_t *ev_len);

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
