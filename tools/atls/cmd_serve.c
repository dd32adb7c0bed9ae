/* cmd_serve.c: `atls serve`: options, start-up checks, signals (stop, SIGHUP reload) and the
 * accept loop (serve.h). */
#include "cmds.h"
#include "collateral_refresh.h"
#include "logging.h"
#include "metrics.h"
#include "serve.h"
#include "serve_conn.h"
#include "serve_limits.h"

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
static volatile sig_atomic_t reload_requested = 0;
static int signal_pipe[2] = {-1, -1};

static const char help[] =
    "usage: atls serve --listen ADDR:PORT --cert FILE --key FILE [--chain FILE]\n"
    "                  --backend HOST:PORT|unix:PATH --attester NAME [attester options]\n"
    "                  [--require-attestation] [--client-policy FILE --client-ca FILE\n"
    "                  [--reattest SECONDS]] [--max-connections N] [--log-format text|json]\n"
    "                  [--metrics ADDR:PORT] [--batch on|off] [--workers N] [-v]\n"
    "TLS 1.3 proxy in front of a TCP backend. Clients offering ALPN atls/1 get an attested\n"
    "session (Evidence on request, DATA forwarded); other TLS clients get a plain TLS proxy\n"
    "unless --require-attestation. Runs until SIGINT/SIGTERM; SIGHUP reloads the certificate,\n"
    "key, chain, client policy and client CA (live connections keep what they started with).\n\n"
    "  --listen ADDR:PORT         where to accept TLS ([::1]:PORT for IPv6; port 0: any free\n"
    "                             port, logged)\n"
    "  --cert FILE                server certificate (PEM; further certificates = chain)\n"
    "  --key FILE                 its private key (PEM)\n"
    "  --chain FILE               intermediate certificates (PEM)\n"
    "  --backend HOST:PORT        the service behind the proxy (checked at start); unix:PATH\n"
    "                             for a Unix-domain socket\n"
    CLI_ATTESTER_HELP
    INTRA_HELP
    "  --require-attestation      refuse clients that do not negotiate atls/1\n"
    "  --client-policy FILE       ask every atls/1 client to attest and appraise it\n"
    "  --client-ca FILE           with --client-policy: PEM CA certificates for the clients'\n"
    "                             TLS certificates and authenticators (required)\n"
    "  --reattest SECONDS         with --client-policy: ask each client for fresh Evidence\n"
    "                             this often (default 60); a failed or late answer closes it\n"
    "  --max-connections N        concurrent connections (default 1024; at most what the\n"
    "                             descriptor limit allows, two per connection)\n"
    "  --workers N                event-loop threads (default: the online cores, 1..256)\n"
    "  --batch on|off             on (default): requests that arrive while the attester is\n"
    "                             busy share its next Evidence, each with the inclusion proof\n"
    "                             of its own challenge; off: one Evidence per request, for\n"
    "                             verifiers that only take plain Evidence\n"
    "  --collateral-refresh SECONDS  with --collateral-dir: fetch what is missing or\n"
    "                             expires soon, at start and this often (atls collateral)\n"
    COLLATERAL_FETCH_HELP
    "  --log-format text|json     log lines as text (default) or one JSON object each\n"
    "  --metrics ADDR:PORT        serve Prometheus metrics at http://ADDR:PORT/metrics\n"
    "  -v, --verbose              also log debug lines (connection ends, progress)\n"
    "  -h, --help                 this help\n"
    "Exit: 0 after SIGINT/SIGTERM, 2 usage or start-up error.\n";

enum { OPT_LISTEN = 1, OPT_CERT, OPT_KEY, OPT_CHAIN, OPT_BACKEND, OPT_REQUIRE, OPT_CLIENT_POLICY,
       OPT_CLIENT_CA, OPT_REATTEST, OPT_MAX, OPT_LOG_FORMAT, OPT_METRICS, OPT_BATCH,
       OPT_COLLATERAL_REFRESH, OPT_WORKERS };

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGHUP) {
        reload_requested = 1;
    } else {
        serve_stopping = 1;
    }
    if (signal_pipe[1] >= 0) {
        ssize_t w = write(signal_pipe[1], "x", 1);
        (void)w;
    }
    errno = saved;
}

/* install_signals: from the start, so a signal during start-up (a TPM being opened) ends serve
 * through the same cleanup as later; SIGHUP reloads, SIGINT/SIGTERM/SIGQUIT stop */
static int install_signals(void)
{
    if (pipe(signal_pipe) != 0 || fcntl(signal_pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK) != 0) {
        cli_error("pipe: %s", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    cli_catch_signals(on_signal);
    return 0;
}

/* reload builds a new snapshot from the same files and installs it, or keeps the running one
 * and logs why not (serve_config.h) */
static void reload(server *srv, const serve_files *files)
{
    char why[600];
    serve_config *fresh = NULL;
    cli_capture_errors(why, sizeof(why));
    int rc = serve_config_load(files, &fresh);
    cli_capture_errors(NULL, 0);
    if (rc != 0) {
        serve_config *cur = serve_config_slot_get(&srv->config);
        metrics_reload(0, cur->generation);
        log_event(LOG_ERROR, "reload_failed", "reason=%s config=%lu keeping=%s",
                  why[0] != '\0' ? why : "unknown", cur->generation,
                  "the running configuration");
        serve_config_unref(cur);
        return;
    }
    serve_config_slot_swap(&srv->config, fresh); /* the slot keeps |fresh| alive */
    metrics_reload(1, fresh->generation);
    log_event(LOG_INFO, "reloaded", "config=%lu cert=%s client_policy=%s", fresh->generation,
              fresh->cert_subject,
              fresh->client_policy != NULL ? atls_policy_id(fresh->client_policy) : NULL);
}

static void drain_signal_pipe(void)
{
    char buf[64];
    while (read(signal_pipe[0], buf, sizeof(buf)) > 0) {
    }
}

/* accept_loop runs until SIGINT/SIGTERM/SIGQUIT; returns 0 */
static int accept_loop(server *srv, int lfd, const serve_files *files, serve_fd_limit *lim)
{
    while (!serve_stopping) {
        struct pollfd pf[2] = {{.fd = lfd, .events = POLLIN},
                               {.fd = signal_pipe[0], .events = POLLIN}};
        if (poll(pf, 2, 1000) < 0) {
            if (errno == EINTR) {
                continue;
            }
            cli_error("poll: %s", strerror(errno));
            break;
        }
        drain_signal_pipe();
        if (reload_requested) {
            reload_requested = 0;
            reload(srv, files);
        }
        if (serve_stopping || !(pf[0].revents & POLLIN)) {
            continue;
        }
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                serve_fd_limit_accept_failed(lim, lfd, errno);
            } else if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
                cli_error("accept: %s", strerror(errno));
                struct timespec ts = {0, 100000000L}; /* do not spin */
                nanosleep(&ts, NULL);
            }
            continue;
        }
        if (atomic_load(&srv->active) >= srv->max_connections) {
            char peer[80];
            int by_fds = srv->max_connections == lim->fit;
            cli_peer_name(fd, peer, sizeof(peer));
            metrics_connection(METRICS_REFUSED);
            log_event(LOG_WARN, "refused", "peer=%s reason=%s max_connections=%d", peer,
                      by_fds ? "descriptor limit reached (two per connection)"
                             : "too many connections (--max-connections)",
                      srv->max_connections);
            close(fd);
            continue;
        }
        serve_workers_add(srv, fd);
    }
    return 0;
}

/* start_metrics: the --metrics endpoint (metrics.h) */
static int start_metrics(const char *addr)
{
    cli_hostport hp;
    int fd = -1, rc;
    if ((rc = cli_parse_hostport(addr, "--metrics", &hp)) != 0 || (rc = cli_listen(&hp, &fd)) != 0) {
        return rc;
    }
    char bound[96];
    cli_local_name(fd, bound, sizeof(bound));
    if (metrics_http_start(fd) != 0) {
        cli_error("--metrics: cannot start the endpoint: %s", strerror(errno));
        close(fd);
        return CLI_EXIT_USAGE;
    }
    log_event(LOG_INFO, "metrics", "addr=%s path=/metrics", bound);
    return 0;
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
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"metrics", required_argument, NULL, OPT_METRICS},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"collateral-refresh", required_argument, NULL, OPT_COLLATERAL_REFRESH},
        {"workers", required_argument, NULL, OPT_WORKERS},
        COLLATERAL_FETCH_LONGOPTS,
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static server srv;
    serve_fd_limit lim = {.reserve = -1};
    memset(&srv, 0, sizeof(srv));
    srv.max_connections = 1024;
    srv.timeout_ms = 30000;
    int refresh_s = 0, any_fetch = 0;
    fetch_cli fetch;
    fetch_cli_init(&fetch);
    collateral_refresh *refresh = NULL;
    srv.client_reattest_ms = 60000;
    cli_attester_opts ao = {0};
    serve_files files = {0};
    const char *listen_s = NULL, *backend = NULL, *metrics_addr = NULL;
    log_format log_fmt = LOG_FORMAT_TEXT;
    int c, rc = 0, lfd = -1, probe = -1, have_reattest = 0, batch = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: listen_s = optarg; break;
        case OPT_CERT: files.cert = optarg; break;
        case OPT_KEY: files.key = optarg; break;
        case OPT_CHAIN: files.chain = optarg; break;
        case OPT_BACKEND: backend = optarg; break;
        case OPT_REQUIRE: srv.require_attestation = 1; break;
        case OPT_CLIENT_POLICY: files.client_policy = optarg; break;
        case OPT_CLIENT_CA: files.client_ca = optarg; break;
        case OPT_REATTEST:
            rc = cli_parse_seconds(optarg, "--reattest", &srv.client_reattest_ms);
            have_reattest = 1;
            break;
        case OPT_MAX:
            rc = cli_parse_int(optarg, "--max-connections", 1, 100000, "", &srv.max_connections);
            break;
        case OPT_WORKERS:
            rc = cli_parse_int(optarg, "--workers", 1, 256, "", &srv.num_workers);
            break;
        case OPT_LOG_FORMAT: rc = logging_parse_format(optarg, &log_fmt); break;
        case OPT_METRICS: metrics_addr = optarg; break;
        case OPT_BATCH:
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                cli_error("--batch '%s': expected on or off", optarg);
                return CLI_EXIT_USAGE;
            }
            batch = strcmp(optarg, "on") == 0;
            break;
        case OPT_COLLATERAL_REFRESH:
            rc = cli_parse_int(optarg, "--collateral-refresh", 1, 86400, "seconds", &refresh_s);
            ao.collateral_refreshed = 1;
            break;
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
        if (rc != 0) {
            return rc;
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s' (see --help)", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (listen_s == NULL || files.cert == NULL || files.key == NULL || backend == NULL ||
        ao.name == NULL) {
        cli_error("--listen, --cert, --key, --backend and --attester are required (see --help)");
        return CLI_EXIT_USAGE;
    }
    if ((refresh_s > 0 && ao.collateral_dir == NULL) || (any_fetch && refresh_s == 0)) {
        cli_error(refresh_s > 0 ? "--collateral-refresh needs --collateral-dir"
                                : "--kds-url, --pcs-url, ... need --collateral-refresh");
        return CLI_EXIT_USAGE;
    }
    if ((files.client_ca != NULL || have_reattest) && files.client_policy == NULL) {
        cli_error("%s needs --client-policy",
                  files.client_ca != NULL ? "--client-ca" : "--reattest");
        return CLI_EXIT_USAGE;
    }
    if (files.client_policy != NULL && files.client_ca == NULL) {
        cli_error("--client-policy needs --client-ca FILE: the CA that vouches for the clients' "
                  "certificates");
        return CLI_EXIT_USAGE;
    }
    srv.mutual = files.client_policy != NULL;
    cli_hostport lhp;
    serve_config *first = NULL;
    const atls_attester_ops *attester = NULL;
    void *attester_state = NULL;
    if ((rc = cli_parse_hostport(listen_s, "--listen", &lhp)) != 0 ||
        (rc = cli_parse_backend(backend, "--backend", &srv.backend)) != 0 ||
        (rc = install_signals()) != 0 || (rc = serve_config_load(&files, &first)) != 0) {
        return rc;
    }
    serve_config_slot_init(&srv.config, first);
    if (srv.num_workers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        srv.num_workers = cores < 1 ? 1 : cores > 256 ? 256 : (int)cores;
    }
    serve_fd_limit_init(&lim);
    int asked_max = srv.max_connections;
    if (srv.max_connections > lim.fit) {
        srv.max_connections = lim.fit;
    }
    if ((rc = cli_attester_open(&ao, &attester, &attester_state)) != 0) {
        goto done;
    }
    /* no session runs yet: the refresh learns the platform from one Evidence now */
    if (refresh_s > 0 && (rc = collateral_refresh_start(&fetch, ao.collateral_dir, refresh_s,
                                                        attester, attester_state, &refresh)) !=
                             0) {
        goto done;
    }
    attester_meter_init(&srv.attester, attester, attester_state);
    /* the batcher calls the metered attester from its own thread: one production per batch
     * (logged with connection id 0) */
    srv.batch_use.meter = &srv.attester;
    srv.batch_use.conn_id = 0;
    /* every connection has at most one job out (atls/session.h): room for all of them, so a
     * burst of re-attestations waits for the next quote instead of failing */
    size_t waiting = srv.max_connections > 4096 ? (size_t)srv.max_connections : 4096;
    atls_batcher_options bopts = {.max_waiting = waiting < 65536 ? waiting : 65536};
    if (batch && atls_batcher_new(&srv.attester.ops, &srv.batch_use, &bopts, &srv.batcher) !=
                     ATLS_OK) {
        rc = cli_fail_atls(CLI_EXIT_USAGE, "--batch on");
        goto done;
    }
    /* fail early and clearly when the backend is not there (each connection re-checks) */
    char err[300], bound[96], backend_name[128];
    if (cli_connect_backend(&srv.backend, 3000, &probe, err, sizeof(err)) != 0) {
        cli_error("backend: %s", err);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    close(probe);
    if ((rc = cli_listen(&lhp, &lfd)) != 0) {
        goto done;
    }
    if ((srv.batcher == NULL && serve_evidence_start(&srv) != 0) ||
        serve_workers_start(&srv) != 0) {
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    /* from here on every line is a timestamped log line (logging.h) */
    logging_start(log_fmt);
    if (metrics_addr != NULL && (rc = start_metrics(metrics_addr)) != 0) {
        goto done;
    }
    cli_local_name(lfd, bound, sizeof(bound));
    cli_backend_name(&srv.backend, backend_name, sizeof(backend_name));
    log_event(LOG_INFO, "listening",
              "addr=%s backend=%s attester=%s batch=%s clients_attest=%s config=%lu workers=%d "
              "nofile=%ld nofile_before=%ld max_connections=%d",
              bound, backend_name, attester->name, srv.batcher != NULL ? "on" : "off",
              srv.mutual ? "yes" : "no", first->generation, srv.num_workers, lim.soft,
              lim.before, srv.max_connections);
    if (srv.max_connections < asked_max) {
        log_event(LOG_WARN, "limit", "max_connections=%d asked=%d reason=%s nofile=%ld",
                  srv.max_connections, asked_max,
                  "the descriptor limit (hard RLIMIT_NOFILE) leaves room for no more", lim.soft);
    }
    rc = accept_loop(&srv, lfd, &files, &lim);
    close(lfd);
    lfd = -1;
    log_event(LOG_INFO, "stopping", "open_connections=%d", atomic_load(&srv.active));
    collateral_refresh_stop(refresh);
    refresh = NULL;
    int left = serve_workers_stop(&srv, 5000);
    /* the attester goes whatever the connections do: its TPM objects are flushed; a job still
     * out fails at once from here on */
    attester_meter_close(&srv.attester);
    metrics_http_stop();
    if (left > 0) {
        cli_error("%d connection(s) did not close in time", left);
        return CLI_EXIT_OK; /* workers still use the snapshot: leave it to exit() */
    }
done:
    serve_evidence_stop(&srv);
    collateral_refresh_stop(refresh);
    if (lfd >= 0) {
        close(lfd);
    }
    metrics_http_stop();
    atls_batcher_free(srv.batcher); /* before the attester it wraps */
    srv.batcher = NULL;
    serve_workers_free(&srv);
    serve_fd_limit_cleanup(&lim);
    if (srv.attester.real != NULL) {
        attester_meter_close(&srv.attester);
    } else if (attester != NULL) {
        attester->destroy(attester_state);
    }
    serve_config_slot_cleanup(&srv.config);
    return rc;
}
