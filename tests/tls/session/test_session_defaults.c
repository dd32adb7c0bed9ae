/* test_session_defaults: the secure defaults of atls/session.h, as a library user meets them
 * with a zero-initialised atls_session_config:
 *   - a client with no trust store, verify callback or host name is refused at creation
 *     (ATLS_ERR_USAGE_CONFIG), and so is a server that must appraise its client; only the
 *     insecure_* fields let such a session through;
 *   - left unset, trust and host name are the SSL's own (its SSL_CTX's store when it verifies
 *     its peer, its SSL_set1_host name), and the authenticator is then checked against them
 *     (another host name set on the SSL fails the appraisal); an attester without a
 *     certificate of its own answers with the TLS certificate and key;
 *   - OpenSSL's own verification of the TLS peer certificate must have succeeded;
 *   - a client always requires its server to attest (no DATA before that);
 *   - the authenticator leaf's key usage must fit its role (serverAuth for a server,
 *     clientAuth for a client), and an IP-literal host name is matched against IP SANs.
 * The diversion attacks on these defaults are in tests/attacks/. */
#include "session_fixture.h"

#include "base/result.h"
#include "check.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static fixture F;

static atls_error accept_all(void *arg, X509 *leaf, STACK_OF(X509) *chain)
{
    (void)arg, (void)leaf, (void)chain;
    return ATLS_OK;
}

/* try_new: atls_session_new on |ssl| with |cfg|; frees a session that was made */
static atls_error try_new(SSL *ssl, const atls_session_config *cfg)
{
    atls_session *s = NULL;
    atls_error rc = atls_session_new(ssl, cfg, &s);
    CHECK((rc == ATLS_OK) == (s != NULL));
    atls_session_free(s);
    return rc;
}

static void test_zero_config(void)
{
    tls_pair *p = fixture_pair(&F, NULL);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    atls_session_config c;
    memset(&c, 0, sizeof(c));
    /* a client: no trust, no callback */
    CHECK_ERR(try_new(p->client, &c), ATLS_ERR_USAGE_CONFIG);
    CHECK(strstr(atls_error_message(), "no trust store") != NULL);
    c.trust = F.store;
    CHECK_ERR(try_new(p->client, &c), ATLS_ERR_USAGE_CONFIG); /* no host name */
    CHECK(strstr(atls_error_message(), "hostname") != NULL);
    c.hostname = "server.test";
    CHECK_OK(try_new(p->client, &c));
    c.trust = NULL;
    c.verify_cb = accept_all;
    CHECK_OK(try_new(p->client, &c));
    memset(&c, 0, sizeof(c));
    c.insecure_skip_certificate_validation = 1;
    CHECK_OK(try_new(p->client, &c));

    /* a server that must appraise its client (and does not verify it in TLS either) */
    memset(&c, 0, sizeof(c));
    c.peer_must_attest = 1;
    SSL_set_verify(p->server, SSL_VERIFY_NONE, NULL);
    CHECK_ERR(try_new(p->server, &c), ATLS_ERR_USAGE_CONFIG);
    c.trust = F.store;
    CHECK_OK(try_new(p->server, &c)); /* a server needs no host name for its client */
    /* a server that need not: created, but its first request checks the same */
    memset(&c, 0, sizeof(c));
    atls_session *s = NULL;
    CHECK_OK(atls_session_new(p->server, &c, &s));
    if (s != NULL) {
        CHECK_ERR(atls_session_request(s, NULL, 0), ATLS_ERR_USAGE_CONFIG);
        atls_session_free(s);
    }
    tls_pair_free(p);
}

/* (3): OpenSSL's verification of the TLS peer certificate must have succeeded */
static void test_tls_verify_result(void)
{
    testcert *other_ca = NULL;
    X509_STORE *other = NULL;
    CHECK_OK(testcert_ca_new("another CA", &other_ca));
    CHECK_OK(testcert_store_new(other_ca, &other));
    tls_pair_options o = {0};
    o.server_cert = F.leaf->cert;
    o.server_key = F.leaf->key;
    o.alpn = (const unsigned char *)ATLS_ALPN_WIRE;
    o.alpn_len = ATLS_ALPN_WIRE_LEN;
    o.client_trust = other; /* the client's TLS verification fails (and is ignored by TLS) */
    tls_pair *p = NULL;
    CHECK_OK(tls_pair_new(&o, &p));
    if (p != NULL) {
        CHECK(SSL_get_verify_result(p->client) != X509_V_OK);
        atls_session_config c = client_config(&F, NULL);
        CHECK_ERR(try_new(p->client, &c), ATLS_ERR_CRYPTO_CHAIN);
        CHECK(strstr(atls_error_message(), "TLS handshake") != NULL);
        c.insecure_skip_certificate_validation = 1;
        CHECK_OK(try_new(p->client, &c));
    }
    tls_pair_free(p);
    X509_STORE_free(other);
    testcert_free(other_ca);
}

/* (1) on a server: a client that did not authenticate in TLS has no key to bind to */
static void test_client_without_tls_certificate(void)
{
    tls_pair *p = fixture_pair_as(&F, NULL, F.leaf, NULL);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    atls_session_config c;
    memset(&c, 0, sizeof(c));
    c.peer_must_attest = 1;
    c.trust = F.store;
    CHECK_ERR(try_new(p->server, &c), ATLS_ERR_PROTOCOL_SESSION);
    CHECK(strstr(atls_error_message(), "no TLS certificate") != NULL);
    c.insecure_skip_tls_identity = 1;
    CHECK_OK(try_new(p->server, &c));
    tls_pair_free(p);
}

/* a client's DATA waits for the server's attestation even with peer_must_attest left 0 */
static void test_client_requires_attestation(void)
{
    tls_pair *p = fixture_pair(&F, NULL);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    atls_session_config c;
    memset(&c, 0, sizeof(c));
    c.trust = F.store;
    c.hostname = "server.test";
    atls_session *s = NULL;
    CHECK_OK(atls_session_new(p->client, &c, &s));
    if (s != NULL) {
        CHECK_ERR(atls_session_write(s, (const uint8_t *)"x", 1), ATLS_ERR_PROTOCOL_SESSION);
        atls_session_free(s);
    }
    tls_pair_free(p);
}

/* attest_with: an honest server whose TLS and EA identity is |server_id|, a zero-initialised
 * client config (trust, host name, policy) asking for |hostname|. */
static atls_error attest_with(const testcert *server_id, const char *hostname)
{
    tls_pair *p = fixture_pair_as(&F, NULL, server_id, F.client_leaf);
    atls_policy *policy = fixture_policy(&F, F.good_policy);
    CHECK(p != NULL && policy != NULL);
    if (p == NULL || policy == NULL) {
        atls_policy_free(policy);
        tls_pair_free(p);
        return ATLS_ERR_INTERNAL;
    }
    server_run run = {.pair = p};
    server_config_attest(&F, &run);
    run.cfg.cert = server_id->cert;
    run.cfg.key = server_id->key;
    atls_session_config c;
    memset(&c, 0, sizeof(c));
    c.trust = F.store;
    c.hostname = hostname;
    c.policy = policy;
    atls_error rc = attest_once(&F, &run, policy, &c, NULL);
    atls_policy_free(policy);
    tls_pair_free(p);
    return rc;
}

/* unset trust and host name: the SSL's own */
static void test_defaults_from_tls(void)
{
    tls_pair *p = fixture_pair(&F, NULL);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    atls_session_config c;
    memset(&c, 0, sizeof(c));
    /* the client verifies its server in TLS (the store is its SSL_CTX's) */
    SSL_set_verify(p->client, SSL_VERIFY_PEER, NULL);
    CHECK_ERR(try_new(p->client, &c), ATLS_ERR_USAGE_CONFIG); /* but names no host */
    CHECK(strstr(atls_error_message(), "hostname") != NULL);
    CHECK(SSL_set1_host(p->client, "server.test") == 1);
    CHECK_OK(try_new(p->client, &c));
    SSL_set_verify(p->client, SSL_VERIFY_NONE, NULL);
    CHECK_ERR(try_new(p->client, &c), ATLS_ERR_USAGE_CONFIG); /* a store it does not use */
    CHECK(strstr(atls_error_message(), "no trust store") != NULL);
    /* the server verifies its client in TLS (fixture_pair: SSL_VERIFY_PEER) */
    memset(&c, 0, sizeof(c));
    c.peer_must_attest = 1;
    CHECK_OK(try_new(p->server, &c));
    tls_pair_free(p);

    /* and an attestation is then checked against them: the right name affirms, another
     * fails the chain check */
    const char *names[] = {"server.test", "other.test"};
    for (int i = 0; i < 2; i++) {
        p = fixture_pair(&F, NULL);
        atls_policy *policy = fixture_policy(&F, F.good_policy);
        CHECK(p != NULL && policy != NULL);
        if (p == NULL || policy == NULL) {
            atls_policy_free(policy);
            tls_pair_free(p);
            return;
        }
        SSL_set_verify(p->client, SSL_VERIFY_PEER, NULL);
        CHECK(SSL_set1_host(p->client, names[i]) == 1);
        server_run run = {.pair = p};
        server_config_attest(&F, &run);
        memset(&c, 0, sizeof(c));
        c.policy = policy;
        CHECK_ERR(attest_once(&F, &run, policy, &c, NULL),
                  i == 0 ? ATLS_OK : ATLS_ERR_CRYPTO_CHAIN);
        atls_policy_free(policy);
        tls_pair_free(p);
    }

    /* a server attester with no identity of its own: the TLS one */
    p = fixture_pair(&F, NULL);
    atls_policy *policy = fixture_policy(&F, F.good_policy);
    CHECK(p != NULL && policy != NULL);
    if (p != NULL && policy != NULL) {
        server_run run = {.pair = p};
        server_config_attest(&F, &run);
        run.cfg.cert = NULL;
        run.cfg.key = NULL;
        CHECK_OK(attest_once(&F, &run, policy, NULL, NULL));
    }
    atls_policy_free(policy);
    tls_pair_free(p);
}

/* (4): the leaf's key usage fits its role; IP literals match IP SANs */
static void test_key_usage_and_ip(void)
{
    const struct {
        const char *cn, *san, *eku, *host;
        atls_error want;
    } cases[] = {
        {"server.test", "DNS:server.test", "serverAuth", "server.test", ATLS_OK},
        {"server.test", "DNS:server.test", "codeSigning", "server.test", ATLS_ERR_CRYPTO_KEY_USAGE},
        {"server.test", "DNS:server.test", "clientAuth", "server.test", ATLS_ERR_CRYPTO_KEY_USAGE},
        {"ip", "IP:127.0.0.1", "serverAuth", "127.0.0.1", ATLS_OK},
        {"ip", "IP:127.0.0.2", "serverAuth", "127.0.0.1", ATLS_ERR_CRYPTO_CHAIN},
        {"ip", "DNS:127.0.0.1", "serverAuth", "127.0.0.1", ATLS_ERR_CRYPTO_CHAIN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        testcert *leaf = NULL;
        CHECK_OK(testcert_leaf_new_ext(F.ca, TESTCERT_P256, cases[i].cn, cases[i].san,
                                       cases[i].eku, &leaf));
        if (leaf == NULL) {
            continue;
        }
        atls_error rc = attest_with(leaf, cases[i].host);
        CHECK_ERR(rc, cases[i].want);
        if (rc != cases[i].want) {
            fprintf(stderr, "  case %zu: %s %s for %s\n", i, cases[i].san, cases[i].eku,
                    cases[i].host);
        }
        testcert_free(leaf);
    }
}

int main(void)
{
    if (fixture_start_sim(&F) != 0) {
        return 1;
    }
    test_zero_config();
    test_tls_verify_result();
    test_client_without_tls_certificate();
    test_client_requires_attestation();
    test_key_usage_and_ip();
    test_defaults_from_tls();
    fixture_cleanup(&F);
    return check_summary();
}
