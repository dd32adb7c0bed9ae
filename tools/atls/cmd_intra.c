/*
 * cmd_intra.c: `atls serve --intra ...` and `atls connect --intra ...`: INSECURE BY DESIGN.
 *
 * The intra-handshake baseline (draft-fossati-tls-attestation-08, src/tls/intra/), exposed on
 * the command line only so that the comparison with atls can be run by hand (docs/COMPARISON.md,
 * scripts/attack-demo). It is reached only through an explicit --intra option (never a default,
 * never selectable from a policy file), it needs an explicit --binder, and every line it prints
 * says INSECURE.
 *
 * serve: a TLS 1.3 proxy in front of a TCP backend whose handshakes carry Evidence (one thread
 * per connection, the plain-TLS pump of proxy.h after the handshake).
 * connect: one handshake, appraised inside it; print the appraisal, or (-L) a local listener
 * whose every connection gets its own handshake. There is no re-attestation: the design has
 * none (--reattest is refused with that reason).
 */
#include "cli.h"
#include "cmds.h"
#include "proxy.h"

#include "evidence/core/claims.h"
#include "tls/intra/intra_insecure.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define POLL_MS 250
#define STACK_SIZE (1024u * 1024u)

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* every line this mode prints starts with INSECURE */
__attribute__((format(printf, 1, 2))) static void insecure_error(const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cli_error("INSECURE: %s", msg);
}

__attribute__((format(printf, 1, 2))) static void insecure_log(const char *fmt, ...)
{
    if (!cli_verbose) {
        return;
    }
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cli_log("INSECURE: %s", msg);
}

int cli_wants_intra(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        if (strcmp(argv[i], "--intra") == 0 || strncmp(argv[i], "--intra=", 8) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- the options both commands share -------------------------------------------------------- */

typedef struct intra_opts {
    atls_intra_insecure_mode mode;
    atls_intra_insecure_binder binder;
    uint16_t ext_request, ext_evidence;
} intra_opts;

enum { OPT_INTRA = 1, OPT_BINDER, OPT_INTRA_EXT, OPT_LISTEN, OPT_CERT, OPT_KEY, OPT_CHAIN,
       OPT_BACKEND, OPT_MAX, OPT_CA, OPT_SERVERNAME, OPT_POLICY, OPT_NO_POLICY, OPT_JSON,
       OPT_TIMEOUT, OPT_REATTEST };

static int parse_code_points(const char *s, intra_opts *o)
{
    char *end = NULL;
    unsigned long a = strtoul(s, &end, 0), b = 0;
    int ok = end != s && *end == ',';
    if (ok) {
        const char *rest = end + 1;
        b = strtoul(rest, &end, 0);
        ok = end != rest && *end == '\0';
    }
    if (!ok || a == 0 || b == 0 || a > 0xFFFF || b > 0xFFFF || a == b) {
        insecure_error("--intra-ext '%s': expected two different code points REQ,EVD "
                       "(1..0xFFFF)", s);
        return CLI_EXIT_USAGE;
    }
    o->ext_request = (uint16_t)a;
    o->ext_evidence = (uint16_t)b;
    return 0;
}

/* intra_option handles the shared options; 1 when |c| was one of them (rc set on error) */
static int intra_option(intra_opts *o, int c, const char *arg, int *rc)
{
    switch (c) {
    case OPT_INTRA:
        o->mode = atls_intra_insecure_mode_parse(arg);
        if (o->mode == 0) {
            insecure_error("--intra '%s': expected ra-only or x509", arg);
            *rc = CLI_EXIT_USAGE;
        }
        return 1;
    case OPT_BINDER:
        o->binder = atls_intra_insecure_binder_parse(arg);
        if (o->binder == 0) {
            insecure_error("--binder '%s': expected 1..7, hs or none", arg);
            *rc = CLI_EXIT_USAGE;
        }
        return 1;
    case OPT_INTRA_EXT:
        *rc = parse_code_points(arg, o);
        return 1;
    default:
        return 0;
    }
}

static int check_intra(const intra_opts *o)
{
    if (o->mode == 0 || o->binder == 0) {
        insecure_error("--intra and --binder are both required: the baseline has no default");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static void banner(const intra_opts *o)
{
    /* always printed: nobody should run this without being told what it is */
    cli_error("INSECURE intra-handshake baseline (draft-fossati-tls-attestation-08, %s, binder "
              "%s: %s), for comparison only: it falls to diversion, relay and replay "
              "(docs/INTRA-BASELINE.md)",
              atls_intra_insecure_mode_name(o->mode), atls_intra_insecure_binder_name(o->binder),
              atls_intra_insecure_binder_description(o->binder));
}

static void set_timeouts(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* pump: bytes both ways between an established TLS connection and a plain socket */
static void pump(SSL *ssl, int fd)
{
    proxy_plain p;
    proxy_plain_init(&p, ssl, fd);
    while (!stopping) {
        struct pollfd pf[2];
        int now = proxy_plain_events(&p, &pf[0], &pf[1]);
        if (!now && poll(pf, 2, POLL_MS) < 0 && errno != EINTR) {
            break;
        }
        if (proxy_plain_run(&p) != PROXY_OK) {
            break;
        }
    }
    proxy_plain_finish(&p, 2000);
}

/* start_thread: a detached thread with a small stack */
static int start_thread(void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t t;
    int ok = pthread_attr_init(&attr) == 0 &&
             pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
             pthread_attr_setstacksize(&attr, STACK_SIZE) == 0 &&
             pthread_create(&t, &attr, fn, arg) == 0;
    pthread_attr_destroy(&attr);
    return ok ? 0 : -1;
}

/* the baseline's own reason, else OpenSSL's */
static const char *failure_text(SSL *ssl, char *buf, size_t size)
{
    const char *reason = NULL;
    if (ssl != NULL && atls_intra_insecure_error(ssl, &reason) != ATLS_OK) {
        snprintf(buf, size, "%s", reason);
        ERR_clear_error();
        return buf;
    }
    return cli_ssl_error_text(ssl, buf, size);
}

/* ---- serve ---------------------------------------------------------------------------------- */

static const char serve_help[] =
    "usage: atls serve --intra ra-only|x509 --binder N --listen ADDR:PORT --backend HOST:PORT\n"
    "                  --attester sim|tpm2 [attester options] [--cert FILE --key FILE\n"
    "                  [--chain FILE]] [--intra-ext REQ,EVD] [--max-connections N] [-v]\n"
    "INSECURE, for comparison only: the intra-handshake baseline of\n"
    "draft-fossati-tls-attestation-08. Evidence goes into every TLS handshake's first\n"
    "CertificateEntry; nothing is re-attested. ra-only presents a throw-away self-signed\n"
    "certificate (no --cert); x509 presents --cert.\n\n"
    INTRA_HELP
    "  --listen ADDR:PORT         where to accept TLS\n"
    "  --backend HOST:PORT        the TCP service behind the proxy\n"
    "  --cert FILE, --key FILE    x509 mode: the server certificate and key\n"
    "  --chain FILE               x509 mode: intermediate certificates\n"
    CLI_ATTESTER_HELP
    "  --max-connections N        concurrent connections (default 1024)\n"
    "  -v, --verbose              log connections on stderr\n"
    "  -h, --help                 this help\n"
    "Exit: 0 after SIGINT/SIGTERM, 2 usage or start-up error.\n";

typedef struct intra_server {
    SSL_CTX *ctx;
    cli_hostport backend;
    int max_connections;
    pthread_mutex_t lock;
    int active;
    unsigned long next_id;
} intra_server;

typedef struct intra_conn {
    intra_server *srv;
    int fd;
    unsigned long id;
} intra_conn;

static void *serve_one(void *arg)
{
    intra_conn *c = arg;
    intra_server *srv = c->srv;
    char peer[80], err[400];
    cli_peer_name(c->fd, peer, sizeof(peer));
    set_timeouts(c->fd, 10000);
    SSL *ssl = SSL_new(srv->ctx);
    ERR_clear_error();
    if (ssl != NULL && SSL_set_fd(ssl, c->fd) == 1 && SSL_accept(ssl) == 1) {
        size_t ev_len = 0;
        const uint8_t *ev = atls_intra_insecure_get0_evidence(ssl, &ev_len);
        insecure_log("connection %lu from %s: handshake done, %zu bytes of Evidence %s", c->id,
                     peer, ev_len, ev != NULL ? "sent to whoever asked" : "(none asked for)");
        int backend = -1;
        if (cli_connect_tcp(&srv->backend, 5000, &backend, err, sizeof(err)) != 0) {
            insecure_error("connection %lu: backend: %s", c->id, err);
        } else {
            pump(ssl, backend);
            close(backend);
            insecure_log("connection %lu: closed", c->id);
        }
    } else {
        insecure_log("connection %lu from %s: handshake failed: %s", c->id, peer,
                     failure_text(ssl, err, sizeof(err)));
    }
    ERR_clear_error();
    SSL_free(ssl);
    close(c->fd);
    free(c);
    pthread_mutex_lock(&srv->lock);
    srv->active--;
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

static int accept_loop(intra_server *srv, int lfd)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    while (!stopping) {
        struct pollfd pf = {.fd = lfd, .events = POLLIN};
        if (poll(&pf, 1, POLL_MS) <= 0 || !(pf.revents & POLLIN)) {
            continue;
        }
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        intra_conn *c = calloc(1, sizeof(*c));
        pthread_mutex_lock(&srv->lock);
        int full = srv->active >= srv->max_connections;
        if (!full && c != NULL) {
            srv->active++;
            c->id = ++srv->next_id;
        }
        pthread_mutex_unlock(&srv->lock);
        if (full || c == NULL) {
            insecure_log("refusing a connection: %d open (--max-connections)",
                         srv->max_connections);
            free(c);
            close(fd);
            continue;
        }
        c->srv = srv;
        c->fd = fd;
        pthread_sigmask(SIG_BLOCK, &block, &old);
        if (start_thread(serve_one, c) != 0) {
            insecure_error("cannot start a thread for connection %lu", c->id);
            pthread_mutex_lock(&srv->lock);
            srv->active--;
            pthread_mutex_unlock(&srv->lock);
            close(fd);
            free(c);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return 0;
}

static int spki_id(X509 *cert, char out[65])
{
    return atls_key_id(X509_get0_pubkey(cert), out) == ATLS_OK ? 0 : -1;
}

int cmd_intra_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"intra", required_argument, NULL, OPT_INTRA},
        {"binder", required_argument, NULL, OPT_BINDER},
        {"intra-ext", required_argument, NULL, OPT_INTRA_EXT},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"chain", required_argument, NULL, OPT_CHAIN},
        {"backend", required_argument, NULL, OPT_BACKEND},
        CLI_ATTESTER_LONGOPTS,
        {"max-connections", required_argument, NULL, OPT_MAX},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    intra_opts io = {0};
    cli_attester_opts ao = {0};
    const char *listen_s = NULL, *cert_path = NULL, *key_path = NULL, *chain_path = NULL;
    const char *backend = NULL;
    static intra_server srv;
    memset(&srv, 0, sizeof(srv));
    srv.max_connections = 1024;
    int c, rc = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        if (intra_option(&io, c, optarg, &rc)) {
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        switch (c) {
        case OPT_LISTEN: listen_s = optarg; break;
        case OPT_CERT: cert_path = optarg; break;
        case OPT_KEY: key_path = optarg; break;
        case OPT_CHAIN: chain_path = optarg; break;
        case OPT_BACKEND: backend = optarg; break;
        case OPT_MAX: {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 100000) {
                insecure_error("--max-connections '%s': expected 1..100000", optarg);
                return CLI_EXIT_USAGE;
            }
            srv.max_connections = (int)v;
            break;
        }
        case 'v': cli_verbose = 1; break;
        case 'h': fputs(serve_help, stdout); return CLI_EXIT_OK;
        default:
            if (c >= CLI_OPT_ATTESTER_BASE && c < CLI_OPT_ATTESTER_END) {
                cli_attester_option(&ao, c, optarg);
                break;
            }
            return cli_bad_option(argv, c);
        }
    }
    if (optind < argc) {
        insecure_error("unexpected argument '%s' (see --intra ... --help)", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if ((rc = check_intra(&io)) != 0) {
        return rc;
    }
    if (listen_s == NULL || backend == NULL || ao.name == NULL) {
        insecure_error("--listen, --backend and --attester are required");
        return CLI_EXIT_USAGE;
    }
    int ra = io.mode == ATLS_INTRA_INSECURE_RA_ONLY;
    if (ra && (cert_path != NULL || key_path != NULL || chain_path != NULL)) {
        insecure_error("ra-only presents a throw-away self-signed certificate: no --cert, --key "
                       "or --chain (x509 mode uses them)");
        return CLI_EXIT_USAGE;
    }
    if (!ra && (cert_path == NULL || key_path == NULL)) {
        insecure_error("x509 mode needs --cert and --key");
        return CLI_EXIT_USAGE;
    }
    banner(&io);
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    EVP_PKEY *key = NULL;
    const atls_attester_ops *att = NULL;
    void *att_state = NULL;
    atls_fair_lock att_lock;
    int have_lock = 0;
    cli_hostport lhp;
    int lfd = -1;
    char id[65];
    if ((rc = cli_parse_hostport(listen_s, "--listen", &lhp)) != 0 ||
        (rc = cli_parse_hostport(backend, "--backend", &srv.backend)) != 0 ||
        (rc = cli_attester_open(&ao, &att, &att_state)) != 0) {
        goto done;
    }
    if (ra) {
        if (atls_intra_insecure_throwaway_new(&key, &cert) != ATLS_OK) {
            rc = cli_fail_atls(CLI_EXIT_USAGE, "INSECURE: throw-away identity");
            goto done;
        }
    } else if ((rc = cli_load_cert_chain(cert_path, &cert, &chain)) != 0 ||
               (chain_path != NULL && (rc = cli_load_certs(chain_path, &chain)) != 0) ||
               (rc = cli_load_private_key(key_path, &key)) != 0) {
        goto done;
    }
    if (atls_fair_lock_init(&att_lock) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "INSECURE: attester lock");
        goto done;
    }
    have_lock = 1;
    atls_intra_insecure_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mode = io.mode;
    cfg.binder = io.binder;
    cfg.ext_evidence_request = io.ext_request;
    cfg.ext_attestation_evidence = io.ext_evidence;
    cfg.attester = att;
    cfg.attester_state = att_state;
    cfg.attester_lock = &att_lock;
    srv.ctx = SSL_CTX_new(TLS_server_method());
    if (srv.ctx == NULL || atls_intra_insecure_ctx_configure(srv.ctx, 1, &cfg) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "INSECURE: TLS set-up");
        goto done;
    }
    if (SSL_CTX_use_certificate(srv.ctx, cert) != 1 || SSL_CTX_use_PrivateKey(srv.ctx, key) != 1 ||
        (chain != NULL && SSL_CTX_set1_chain(srv.ctx, chain) != 1)) {
        ERR_clear_error();
        insecure_error("cannot use the certificate and key (do they match?)");
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if (ra && spki_id(cert, id) == 0) {
        cli_error("INSECURE: ra-only identity: throw-away self-signed key %s (names nobody)", id);
    }
    char err[300];
    int probe = -1;
    if (cli_connect_tcp(&srv.backend, 3000, &probe, err, sizeof(err)) != 0) {
        insecure_error("backend: %s", err);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    close(probe);
    if ((rc = cli_listen(&lhp, &lfd)) != 0) {
        goto done;
    }
    pthread_mutex_init(&srv.lock, NULL);
    install_signals();
    cli_error("INSECURE: listening on %s:%s, backend %s:%s, attester %s", lhp.host, lhp.port,
              srv.backend.host, srv.backend.port, att->name);
    rc = accept_loop(&srv, lfd);
    /* give connection threads a moment to finish; they hold the context */
    for (int i = 0; i < 40; i++) {
        pthread_mutex_lock(&srv.lock);
        int active = srv.active;
        pthread_mutex_unlock(&srv.lock);
        if (active == 0) {
            break;
        }
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&srv.lock);
    int left = srv.active;
    pthread_mutex_unlock(&srv.lock);
    if (left > 0) {
        return CLI_EXIT_OK; /* threads still use the context: leave it to exit() */
    }
done:
    if (lfd >= 0) {
        close(lfd);
    }
    SSL_CTX_free(srv.ctx);
    if (att != NULL) {
        att->destroy(att_state);
    }
    if (have_lock) {
        atls_fair_lock_destroy(&att_lock);
    }
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- connect -------------------------------------------------------------------------------- */

static const char connect_help[] =
    "usage: atls connect --intra ra-only|x509 --binder N HOST:PORT (--policy FILE | --no-policy)\n"
    "                    [--ca FILE] [--servername NAME] [--json]\n"
    "                    [--intra-ext REQ,EVD] [-L LOCALADDR:PORT] [--timeout SECONDS] [-v]\n"
    "INSECURE, for comparison only: the intra-handshake baseline of\n"
    "draft-fossati-tls-attestation-08. The server's Evidence is appraised inside the TLS\n"
    "handshake, once; ra-only checks no certificate and no name (the Evidence alone\n"
    "authenticates), x509 checks --ca and the name as usual. There is no re-attestation.\n\n"
    INTRA_HELP
    "  --policy FILE              appraisal policy\n"
    "  --no-policy                appraise without a policy: at best a warning (exit 3)\n"
    "  --ca FILE                  x509 mode: PEM CA certificates (default: the system store)\n"
    "  --servername NAME          x509 mode: name to verify and send as SNI (default: HOST)\n"
    "  --json                     print the EAR as JSON\n"
    "  -L, --local LOCALADDR:PORT listen here; each connection gets its own handshake\n"
    "  --timeout SECONDS          connection and handshake timeout (default 30)\n"
    "  -v, --verbose              log progress on stderr\n"
    "  -h, --help                 this help\n"
    "Exit: 0 affirming, 1 handshake or appraisal failed, 2 usage or I/O error, 3 warning.\n";

typedef struct intra_client {
    SSL_CTX *ctx;
    cli_hostport server;
    const char *name;       /* x509: SNI and the name checked */
    int timeout_ms;
    unsigned long next_id;
} intra_client;

/* open_conn: TCP and the handshake. 0, CLI_EXIT_FAIL (handshake / appraisal) or USAGE (I/O). */
static int open_conn(intra_client *ic, SSL **out, int *fd_out)
{
    char err[400];
    int fd = -1;
    int rc = cli_connect_tcp(&ic->server, ic->timeout_ms, &fd, NULL, 0);
    if (rc != 0) {
        return rc;
    }
    set_timeouts(fd, ic->timeout_ms);
    SSL *ssl = SSL_new(ic->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
        (ic->name != NULL && SSL_set_tlsext_host_name(ssl, ic->name) != 1)) {
        insecure_error("cannot set up TLS");
        SSL_free(ssl);
        close(fd);
        return CLI_EXIT_USAGE;
    }
    ERR_clear_error();
    if (SSL_connect(ssl) != 1) {
        insecure_error("handshake with %s:%s failed (the server saw only a TLS alert): %s",
                       ic->server.host, ic->server.port, failure_text(ssl, err, sizeof(err)));
        SSL_free(ssl);
        close(fd);
        return CLI_EXIT_FAIL;
    }
    *out = ssl;
    *fd_out = fd;
    return 0;
}

/* print_appraisal: cli_print_appraisal with every line marked */
static int print_appraisal(const atls_appraisal *a, int json)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL) {
        return CLI_EXIT_USAGE;
    }
    int rc = cli_print_appraisal(mem, a, json, 8, NULL);
    fclose(mem);
    for (char *line = text, *next; rc == 0 && line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        printf("INSECURE: %s\n", line);
    }
    free(text);
    return rc;
}

static int connect_once(intra_client *ic, int json)
{
    SSL *ssl = NULL;
    int fd = -1;
    int rc = open_conn(ic, &ssl, &fd);
    if (rc != 0) {
        return rc;
    }
    const atls_appraisal *a = atls_intra_insecure_get0_appraisal(ssl);
    if (a == NULL) {
        insecure_error("no appraisal");
        rc = CLI_EXIT_FAIL;
    } else {
        rc = print_appraisal(a, json);
        if (rc == 0) {
            rc = cli_exit_for_status(a->status);
            printf("INSECURE: appraised once, inside the handshake; this connection is never "
                   "re-attested\n");
        }
    }
    (void)SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
    return rc;
}

typedef struct tunnel {
    intra_client *ic;
    int local;
    unsigned long id;
} tunnel;

static void *tunnel_one(void *arg)
{
    tunnel *t = arg;
    SSL *ssl = NULL;
    int fd = -1;
    if (open_conn(t->ic, &ssl, &fd) == 0) {
        const atls_appraisal *a = atls_intra_insecure_get0_appraisal(ssl);
        insecure_log("tunnel %lu: server appraised %s at its handshake; never re-attested",
                     t->id, a != NULL ? atls_tier_name(a->status) : "?");
        pump(ssl, t->local);
        SSL_free(ssl);
        close(fd);
    }
    ERR_clear_error();
    close(t->local);
    free(t);
    return NULL;
}

static int tunnel_loop(intra_client *ic, const cli_hostport *local)
{
    int lfd = -1, rc;
    if ((rc = cli_listen(local, &lfd)) != 0) {
        return rc;
    }
    install_signals();
    cli_error("INSECURE: listening on %s:%s; each connection gets its own handshake with %s:%s",
              local->host, local->port, ic->server.host, ic->server.port);
    while (!stopping) {
        struct pollfd pf = {.fd = lfd, .events = POLLIN};
        if (poll(&pf, 1, POLL_MS) <= 0 || !(pf.revents & POLLIN)) {
            continue;
        }
        int fd = accept(lfd, NULL, NULL);
        tunnel *t = fd >= 0 ? calloc(1, sizeof(*t)) : NULL;
        if (t == NULL) {
            if (fd >= 0) {
                close(fd);
            }
            continue;
        }
        t->ic = ic;
        t->local = fd;
        t->id = ++ic->next_id;
        if (start_thread(tunnel_one, t) != 0) {
            close(fd);
            free(t);
        }
    }
    close(lfd);
    return 0;
}

/* the types this client can appraise without a policy to name them: atls's attesters' */
static const char *const *no_policy_offer(void)
{
    static const char *offer[4];
    size_t n = 0;
    const char *names[] = {"sim", "tpm2", "tsm"};
    for (size_t i = 0; i < 3; i++) {
        const atls_attester_ops *a = atls_attester_ops_by_name(names[i]);
        if (a != NULL) {
            offer[n++] = a->media_type;
        }
    }
    offer[n] = NULL;
    return offer;
}

int cmd_intra_connect(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"intra", required_argument, NULL, OPT_INTRA},
        {"binder", required_argument, NULL, OPT_BINDER},
        {"intra-ext", required_argument, NULL, OPT_INTRA_EXT},
        {"policy", required_argument, NULL, OPT_POLICY},
        {"no-policy", no_argument, NULL, OPT_NO_POLICY},
        {"ca", required_argument, NULL, OPT_CA},
        {"servername", required_argument, NULL, OPT_SERVERNAME},
        {"json", no_argument, NULL, OPT_JSON},
        {"local", required_argument, NULL, 'L'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"reattest", required_argument, NULL, OPT_REATTEST},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    intra_opts io = {0};
    const char *policy_path = NULL, *ca = NULL, *servername = NULL;
    const char *local = NULL;
    int no_policy = 0, json = 0, c, rc = 0;
    intra_client ic;
    memset(&ic, 0, sizeof(ic));
    ic.timeout_ms = 30000;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":L:vh", longopts, NULL)) != -1) {
        if (intra_option(&io, c, optarg, &rc)) {
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        switch (c) {
        case OPT_POLICY: policy_path = optarg; break;
        case OPT_NO_POLICY: no_policy = 1; break;
        case OPT_CA: ca = optarg; break;
        case OPT_SERVERNAME: servername = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'L': local = optarg; break;
        case OPT_TIMEOUT: {
            char *end = NULL;
            double v = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || !(v >= 0.1 && v <= 86400.0)) {
                insecure_error("--timeout '%s': expected seconds between 0.1 and 86400", optarg);
                return CLI_EXIT_USAGE;
            }
            ic.timeout_ms = (int)(v * 1000.0);
            break;
        }
        case OPT_REATTEST:
            insecure_error("--reattest: the intra-handshake baseline cannot re-attest an open "
                           "connection (Evidence exists only inside the handshake); reconnect "
                           "instead, or use atls without --intra");
            return CLI_EXIT_USAGE;
        case 'v': cli_verbose = 1; break;
        case 'h': fputs(connect_help, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option(argv, c);
        }
    }
    if ((rc = check_intra(&io)) != 0) {
        return rc;
    }
    if (optind >= argc) {
        insecure_error("HOST:PORT of the server is required");
        return CLI_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        insecure_error("unexpected argument '%s'", argv[optind + 1]);
        return CLI_EXIT_USAGE;
    }
    if ((policy_path == NULL) == (no_policy == 0)) {
        insecure_error(policy_path == NULL ? "--policy FILE is required (or --no-policy)"
                                           : "--policy and --no-policy exclude each other");
        return CLI_EXIT_USAGE;
    }
    int ra = io.mode == ATLS_INTRA_INSECURE_RA_ONLY;
    if (ra && (ca != NULL || servername != NULL)) {
        insecure_error("ra-only checks no certificate and no name: --ca and --servername do "
                       "not apply (that is the point of the comparison: see x509)");
        return CLI_EXIT_USAGE;
    }
    banner(&io);
    atls_policy *policy = NULL;
    X509_STORE *store = NULL;
    cli_hostport lhp;
    if ((rc = cli_parse_hostport(argv[optind], "server", &ic.server)) != 0 ||
        (local != NULL && (rc = cli_parse_hostport(local, "-L", &lhp)) != 0) ||
        (policy_path != NULL && (rc = cli_load_policy(policy_path, &policy)) != 0)) {
        goto done;
    }
    atls_intra_insecure_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mode = io.mode;
    cfg.binder = io.binder;
    cfg.ext_evidence_request = io.ext_request;
    cfg.ext_attestation_evidence = io.ext_evidence;
    cfg.policy = policy;
    cfg.accept_warning = no_policy;
    cfg.offered_media_types = policy == NULL ? no_policy_offer() : NULL;
    if (!ra) {
        store = X509_STORE_new();
        int ok = store != NULL && (ca != NULL ? X509_STORE_load_file(store, ca)
                                              : X509_STORE_set_default_paths(store));
        if (ok != 1) {
            ERR_clear_error();
            insecure_error("%s: cannot read PEM certificates", ca != NULL ? ca : "system store");
            rc = CLI_EXIT_USAGE;
            goto done;
        }
        ic.name = servername != NULL ? servername : ic.server.host;
        cfg.trust = store;
        cfg.hostname = ic.name;
    }
    ic.ctx = SSL_CTX_new(TLS_client_method());
    if (ic.ctx == NULL || atls_intra_insecure_ctx_configure(ic.ctx, 0, &cfg) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "INSECURE: TLS set-up");
        goto done;
    }
    rc = local == NULL ? connect_once(&ic, json) : tunnel_loop(&ic, &lhp);
done:
    SSL_CTX_free(ic.ctx);
    X509_STORE_free(store);
    atls_policy_free(policy);
    return rc;
}
