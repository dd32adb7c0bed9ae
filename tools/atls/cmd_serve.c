/* cmd_serve.c: `atls serve`: options, start-up checks and the accept loop (serve.h). */
#include "cmds.h"
#include "collateral_refresh.h"
#include "serve.h"

#include <atls/session.h>

#include <openssl/err.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t serve_stopping = 0;
static int stop_pipe[2] = {-1, -1};

static const char help[] =
    "usage: atls serve --listen ADDR:PORT --cert FILE --key FILE [--chain FILE]\n"
    "                  --backend HOST:PORT --attester NAME [attester options]\n"
    "                  [--require-attestation] [--client-policy FILE --client-ca FILE\n"
    "                  [--reattest SECONDS]] [--max-connections N] [--batch on|off] [-v]\n"
    "TLS 1.3 proxy in front of a TCP backend. Clients offering ALPN atls/1 get an attested\n"
    "session (Evidence on request, DATA forwarded); other TLS clients get a plain TLS proxy\n"
    "unless --require-attestation. Runs until SIGINT/SIGTERM.\n\n"
    "  --listen ADDR:PORT         where to accept TLS ([::1]:PORT for IPv6)\n"
    "  --cert FILE                server certificate (PEM; further certificates = chain)\n"
    "  --key FILE                 its private key (PEM)\n"
    "  --chain FILE               intermediate certificates (PEM)\n"
    "  --backend HOST:PORT        the TCP service behind the proxy (checked at start)\n"
    CLI_ATTESTER_HELP
    INTRA_HELP
    "  --require-attestation      refuse clients that do not negotiate atls/1\n"
    "  --client-policy FILE       ask every atls/1 client to attest and appraise it\n"
    "  --client-ca FILE           with --client-policy: PEM CA certificates for the clients'\n"
    "                             TLS certificates and authenticators (required)\n"
    "  --reattest SECONDS         with --client-policy: ask each client for fresh Evidence\n"
    "                             this often (default 60); a failed or late answer closes it\n"
    "  --max-connections N        concurrent connections (default 1024)\n"
    "  --batch on|off             on (default): requests that arrive while the attester is\n"
    "                             busy share its next Evidence, each with the inclusion proof\n"
    "                             of its own challenge; off: one Evidence per request, for\n"
    "                             verifiers that only take plain Evidence\n"
    "  --collateral-refresh SECONDS  with --collateral-dir: fetch what is missing or\n"
    "                             expires soon, at start and this often (atls collateral)\n"
    COLLATERAL_FETCH_HELP
    "  -v, --verbose              log connections on stderr\n"
    "  -h, --help                 this help\n"
    "Exit: 0 after SIGINT/SIGTERM, 2 usage or start-up error.\n";

enum { OPT_LISTEN = 1, OPT_CERT, OPT_KEY, OPT_CHAIN, OPT_BACKEND, OPT_REQUIRE, OPT_CLIENT_POLICY,
       OPT_CLIENT_CA, OPT_REATTEST, OPT_MAX, OPT_BATCH, OPT_COLLATERAL_REFRESH };

static void on_signal(int sig)
{
    (void)sig;
    serve_stopping = 1;
    if (stop_pipe[1] >= 0) {
        ssize_t w = write(stop_pipe[1], "x", 1);
        (void)w;
    }
}

static int setup_tls(server *srv, const char *cert, const char *key, const char *chain,
                     const char *client_ca)
{
    int rc;
    if ((rc = cli_load_cert_chain(cert, &srv->cert, &srv->chain)) != 0 ||
        (chain != NULL && (rc = cli_load_certs(chain, &srv->chain)) != 0) ||
        (rc = cli_load_private_key(key, &srv->key)) != 0) {
        return rc;
    }
    if (X509_check_private_key(srv->cert, srv->key) != 1) {
        ERR_clear_error();
        cli_error("--key %s does not match --cert %s", key, cert);
        return CLI_EXIT_USAGE;
    }
    srv->ctx = SSL_CTX_new(TLS_server_method());
    if (srv->ctx == NULL || atls_ssl_ctx_configure(srv->ctx, 1, 0) != ATLS_OK ||
        SSL_CTX_use_certificate(srv->ctx, srv->cert) != 1 ||
        SSL_CTX_use_PrivateKey(srv->ctx, srv->key) != 1 ||
        (srv->chain != NULL && SSL_CTX_set1_chain(srv->ctx, srv->chain) != 1)) {
        ERR_clear_error();
        cli_error("cannot set up TLS with --cert %s", cert);
        return CLI_EXIT_USAGE;
    }
    if (client_ca != NULL) {
        /* clients authenticate in TLS too, so their Evidence binds to a verified key */
        if (SSL_CTX_load_verify_file(srv->ctx, client_ca) != 1) {
            ERR_clear_error();
            cli_error("--client-ca %s: cannot read PEM certificates", client_ca);
            return CLI_EXIT_USAGE;
        }
        SSL_CTX_set_verify(srv->ctx, SSL_VERIFY_PEER, NULL);
    }
    return 0;
}

/* accept_loop runs until a signal; returns 0 */
static int accept_loop(server *srv, int lfd)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    while (!serve_stopping) {
        struct pollfd pf[2] = {{.fd = lfd, .events = POLLIN}, {.fd = stop_pipe[0], .events = POLLIN}};
        if (poll(pf, 2, 1000) < 0) {
            if (errno == EINTR) {
                continue;
            }
            cli_error("poll: %s", strerror(errno));
            break;
        }
        if (serve_stopping || !(pf[0].revents & POLLIN)) {
            continue;
        }
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
                cli_error("accept: %s", strerror(errno));
                struct timespec ts = {0, 100000000L}; /* e.g. EMFILE: do not spin */
                nanosleep(&ts, NULL);
            }
            continue;
        }
        pthread_mutex_lock(&srv->lock);
        int full = srv->active >= srv->max_connections;
        pthread_mutex_unlock(&srv->lock);
        if (full) {
            cli_log("refusing a connection: %d connections open (--max-connections)",
                    srv->max_connections);
            close(fd);
            continue;
        }
        /* worker threads leave SIGINT/SIGTERM to this thread */
        pthread_sigmask(SIG_BLOCK, &block, &old);
        (void)serve_conn_start(srv, fd);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return 0;
}

/* wait_idle waits up to |ms| for every connection thread to finish. 1 if they did. */
static int wait_idle(server *srv, int ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ms / 1000;
    pthread_mutex_lock(&srv->lock);
    while (srv->active > 0) {
        if (pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    int idle = srv->active == 0;
    pthread_mutex_unlock(&srv->lock);
    return idle;
}

int cmd_serve(int argc, char **argv)
{
    if (cli_wants_intra(argc, argv)) {
        return cmd_intra_serve(argc, argv); /* INSECURE baseline: only when asked by name */
    }
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"chain", required_argument, NULL, OPT_CHAIN},
        {"backend", required_argument, NULL, OPT_BACKEND},
        CLI_ATTESTER_LONGOPTS,
        {"require-attestation", no_argument, NULL, OPT_REQUIRE},
        {"client-policy", required_argument, NULL, OPT_CLIENT_POLICY},
        {"client-ca", required_argument, NULL, OPT_CLIENT_CA},
        {"reattest", required_argument, NULL, OPT_REATTEST},
        {"max-connections", required_argument, NULL, OPT_MAX},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"collateral-refresh", required_argument, NULL, OPT_COLLATERAL_REFRESH},
        COLLATERAL_FETCH_LONGOPTS,
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static server srv;
    memset(&srv, 0, sizeof(srv));
    srv.max_connections = 1024;
    srv.timeout_ms = 30000;
    cli_attester_opts ao = {0};
    const char *listen_s = NULL, *cert = NULL, *key = NULL, *chain = NULL, *backend = NULL;
    const char *client_policy = NULL, *client_ca = NULL;
    int c, rc = 0, lfd = -1, probe = -1, have_reattest = 0, batch = 1, refresh_s = 0;
    int any_fetch = 0;
    fetch_cli fetch;
    fetch_cli_init(&fetch);
    collateral_refresh *refresh = NULL;
    srv.client_reattest_ms = 60000;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: listen_s = optarg; break;
        case OPT_CERT: cert = optarg; break;
        case OPT_KEY: key = optarg; break;
        case OPT_CHAIN: chain = optarg; break;
        case OPT_BACKEND: backend = optarg; break;
        case OPT_REQUIRE: srv.require_attestation = 1; break;
        case OPT_CLIENT_POLICY: client_policy = optarg; break;
        case OPT_CLIENT_CA: client_ca = optarg; break;
        case OPT_REATTEST: {
            char *end = NULL;
            double v = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || !(v >= 0.1 && v <= 86400.0)) {
                cli_error("--reattest '%s': expected seconds between 0.1 and 86400", optarg);
                return CLI_EXIT_USAGE;
            }
            srv.client_reattest_ms = (int)(v * 1000.0);
            have_reattest = 1;
            break;
        }
        case OPT_MAX: {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 100000) {
                cli_error("--max-connections '%s': expected 1..100000", optarg);
                return CLI_EXIT_USAGE;
            }
            srv.max_connections = (int)v;
            break;
        }
        case OPT_BATCH:
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                cli_error("--batch '%s': expected on or off", optarg);
                return CLI_EXIT_USAGE;
            }
            batch = strcmp(optarg, "on") == 0;
            break;
        case OPT_COLLATERAL_REFRESH: {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 86400) {
                cli_error("--collateral-refresh '%s': expected 1..86400 seconds", optarg);
                return CLI_EXIT_USAGE;
            }
            refresh_s = (int)v;
            ao.collateral_refreshed = 1;
            break;
        }
        case 'v': cli_verbose = 1; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        default:
            if (c >= CLI_OPT_ATTESTER_BASE && c < CLI_OPT_ATTESTER_END) {
                cli_attester_option(&ao, c, optarg);
                break;
            }
            if (c >= COLLATERAL_OPT_BASE && c < COLLATERAL_OPT_END) {
                any_fetch = 1;
                if (fetch_cli_option(&fetch, c, optarg) != 0) {
                    return CLI_EXIT_USAGE;
                }
                break;
            }
            return cli_bad_option(argv, c);
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s' (see --help)", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (listen_s == NULL || cert == NULL || key == NULL || backend == NULL || ao.name == NULL) {
        cli_error("--listen, --cert, --key, --backend and --attester are required (see --help)");
        return CLI_EXIT_USAGE;
    }
    if ((refresh_s > 0 && ao.collateral_dir == NULL) || (any_fetch && refresh_s == 0)) {
        cli_error(refresh_s > 0 ? "--collateral-refresh needs --collateral-dir"
                                : "--kds-url, --pcs-url, ... need --collateral-refresh");
        return CLI_EXIT_USAGE;
    }
    if ((client_ca != NULL || have_reattest) && client_policy == NULL) {
        cli_error("%s needs --client-policy", client_ca != NULL ? "--client-ca" : "--reattest");
        return CLI_EXIT_USAGE;
    }
    if (client_policy != NULL && client_ca == NULL) {
        cli_error("--client-policy needs --client-ca FILE: the CA that vouches for the clients' "
                  "certificates");
        return CLI_EXIT_USAGE;
    }
    cli_hostport lhp;
    if ((rc = cli_parse_hostport(listen_s, "--listen", &lhp)) != 0 ||
        (rc = cli_parse_hostport(backend, "--backend", &srv.backend)) != 0 ||
        (rc = setup_tls(&srv, cert, key, chain, client_ca)) != 0 ||
        (client_policy != NULL && (rc = cli_load_policy(client_policy, &srv.client_policy)) != 0) ||
        (rc = cli_attester_open(&ao, &srv.attester, &srv.attester_state)) != 0) {
        goto done;
    }
    /* no session runs yet: the refresh learns the platform from one Evidence now */
    if (refresh_s > 0 && (rc = collateral_refresh_start(&fetch, ao.collateral_dir, refresh_s,
                                                        srv.attester, srv.attester_state,
                                                        &refresh)) != 0) {
        goto done;
    }
    /* the batcher's thread is the attester's only user from now on */
    if (batch && atls_batcher_new(srv.attester, srv.attester_state, NULL, &srv.batcher) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "--batch on");
        goto done;
    }
    /* fail early and clearly when the backend is not there (each connection re-checks) */
    char err[300];
    if (cli_connect_tcp(&srv.backend, 3000, &probe, err, sizeof(err)) != 0) {
        cli_error("backend: %s", err);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    close(probe);
    if ((rc = cli_listen(&lhp, &lfd)) != 0) {
        goto done;
    }
    if (pipe(stop_pipe) != 0 || fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
        cli_error("pipe: %s", strerror(errno));
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    pthread_mutex_init(&srv.lock, NULL);
    pthread_cond_init(&srv.idle, NULL);
    if (atls_fair_lock_init(&srv.attester_lock) != ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "lock");
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    cli_log("listening on %s:%s, backend %s:%s, attester %s%s%s", lhp.host, lhp.port,
            srv.backend.host, srv.backend.port, srv.attester->name,
            srv.batcher != NULL ? " (batched)" : "",
            srv.client_policy != NULL ? ", clients must attest" : "");
    rc = accept_loop(&srv, lfd);
    close(lfd);
    lfd = -1;
    cli_log("stopping: closing %d connection(s)", srv.active);
    collateral_refresh_stop(refresh);
    refresh = NULL;
    if (!wait_idle(&srv, 5000)) {
        cli_error("%d connection(s) did not close in time", srv.active);
        return CLI_EXIT_OK; /* threads still use the shared state: leave it to exit() */
    }
done:
    collateral_refresh_stop(refresh);
    if (lfd >= 0) {
        close(lfd);
    }
    atls_batcher_free(srv.batcher); /* before the attester it wraps */
    if (srv.attester != NULL) {
        srv.attester->destroy(srv.attester_state);
    }
    atls_policy_free(srv.client_policy);
    SSL_CTX_free(srv.ctx);
    X509_free(srv.cert);
    sk_X509_pop_free(srv.chain, X509_free);
    EVP_PKEY_free(srv.key);
    return rc;
}
