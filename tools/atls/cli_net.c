/* cli_net.c: HOST:PORT parsing, listening and connecting sockets (cli.h). */
#include "cli.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int cli_parse_hostport(const char *s, const char *what, cli_hostport *out)
{
    memset(out, 0, sizeof(*out));
    const char *host = s, *colon;
    size_t host_len;
    if (s[0] == '[') { /* [IPv6]:PORT */
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            cli_error("%s '%s': expected [IPV6]:PORT", what, s);
            return CLI_EXIT_USAGE;
        }
        host = s + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            cli_error("%s '%s': expected HOST:PORT", what, s);
            return CLI_EXIT_USAGE;
        }
        host_len = (size_t)(colon - s);
        if (memchr(s, ':', host_len) != NULL) {
            cli_error("%s '%s': write IPv6 addresses as [ADDR]:PORT", what, s);
            return CLI_EXIT_USAGE;
        }
    }
    const char *port = colon + 1;
    char *end = NULL;
    errno = 0;
    unsigned long p = strtoul(port, &end, 10);
    if (host_len == 0 || host_len >= sizeof(out->host) || port[0] == '\0' || *end != '\0' ||
        errno != 0 || p > 65535 || port[0] == '-' || port[0] == '+') {
        cli_error("%s '%s': expected HOST:PORT with a port 0..65535", what, s);
        return CLI_EXIT_USAGE;
    }
    memcpy(out->host, host, host_len);
    snprintf(out->port, sizeof(out->port), "%lu", p);
    return 0;
}

int cli_parse_server(const char *s, cli_hostport *out)
{
    const char *sep = strstr(s, "://");
    if (sep == NULL) {
        return cli_parse_hostport(s, "server", out);
    }
    size_t scheme_len = (size_t)(sep - s);
    if (scheme_len != 5 || strncasecmp(s, "https", 5) != 0) {
        cli_error("server '%s': atls speaks TLS 1.3 to HOST:PORT; write it as HOST:PORT "
                  "(e.g. example.com:443), not as a %.*s:// URL",
                  s, (int)(scheme_len < 16 ? scheme_len : 16), s);
        return CLI_EXIT_USAGE;
    }
    const char *auth = sep + 3;
    size_t len = strcspn(auth, "/?#");
    if (auth[len] != '\0' && strcmp(auth + len, "/") != 0) {
        cli_error("server '%s': a path or query has no meaning here; write HOST:PORT "
                  "(e.g. %.*s)", s, (int)(len < 256 ? len : 256), auth);
        return CLI_EXIT_USAGE;
    }
    char hp[300];
    if (len == 0 || len >= sizeof(hp) - 5 || memchr(auth, '@', len) != NULL) {
        cli_error("server '%s': expected https://HOST[:PORT] or HOST:PORT", s);
        return CLI_EXIT_USAGE;
    }
    memcpy(hp, auth, len);
    hp[len] = '\0';
    /* https://host means port 443; "[v6]" and "host" have no port of their own */
    const char *last_colon = strrchr(hp, ':');
    const char *close_bracket = strrchr(hp, ']');
    if (last_colon == NULL || (close_bracket != NULL && last_colon < close_bracket)) {
        snprintf(hp + len, sizeof(hp) - len, ":443");
    }
    return cli_parse_hostport(hp, "server", out);
}

int cli_parse_backend(const char *s, const char *what, cli_backend *out)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(s, "unix:", 5) != 0) {
        return cli_parse_hostport(s, what, &out->tcp);
    }
    const char *path = s + 5;
    if (path[0] == '\0' || strlen(path) >= sizeof(out->unix_path)) {
        cli_error("%s '%s': expected unix:/path with a path of 1..%zu bytes", what, s,
                  sizeof(out->unix_path) - 1);
        return CLI_EXIT_USAGE;
    }
    snprintf(out->unix_path, sizeof(out->unix_path), "%s", path);
    return 0;
}

void cli_backend_name(const cli_backend *b, char *out, size_t size)
{
    if (b->unix_path[0] != '\0') {
        snprintf(out, size, "unix:%s", b->unix_path);
    } else {
        snprintf(out, size, "%s%s%s:%s", strchr(b->tcp.host, ':') ? "[" : "", b->tcp.host,
                 strchr(b->tcp.host, ':') ? "]" : "", b->tcp.port);
    }
}

int cli_connect_backend(const cli_backend *b, int timeout_ms, int *fd, char *err,
                        size_t err_size)
{
    if (b->unix_path[0] == '\0') {
        return cli_connect_tcp(&b->tcp, timeout_ms, fd, err, err_size);
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, b->unix_path, strlen(b->unix_path));
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* a Unix-domain connect does not wait for the peer's accept: no deadline needed */
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, err_size, "cannot connect to unix:%s: %s", b->unix_path,
                 strerror(errno));
        if (s >= 0) {
            close(s);
        }
        return CLI_EXIT_USAGE;
    }
    *fd = s;
    return 0;
}

int cli_is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int resolve(const cli_hostport *hp, int passive, struct addrinfo **res, char *err,
                   size_t err_size)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    int r = getaddrinfo(hp->host, hp->port, &hints, res);
    if (r != 0) {
        snprintf(err, err_size, "cannot resolve %s: %s", hp->host, gai_strerror(r));
        return -1;
    }
    return 0;
}

int cli_listen(const cli_hostport *hp, int *fd)
{
    struct addrinfo *res = NULL;
    char err[300];
    if (resolve(hp, 1, &res, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        return CLI_EXIT_USAGE;
    }
    int saved = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (s < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        (void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, 128) == 0) {
            freeaddrinfo(res);
            *fd = s;
            return 0;
        }
        saved = errno;
        close(s);
    }
    freeaddrinfo(res);
    cli_error("cannot listen on %s:%s: %s", hp->host, hp->port, strerror(saved));
    return CLI_EXIT_USAGE;
}

/* connect_one: non-blocking connect with a deadline, then back to blocking mode */
static int connect_one(const struct addrinfo *ai, int timeout_ms, int *err_out)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0) {
        *err_out = errno;
        return -1;
    }
    int fl = fcntl(s, F_GETFL);
    (void)fcntl(s, F_SETFL, fl | O_NONBLOCK);
    int r = connect(s, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = s, .events = POLLOUT};
        int pr;
        do {
            pr = poll(&p, 1, timeout_ms);
        } while (pr < 0 && errno == EINTR);
        if (pr == 0) {
            *err_out = ETIMEDOUT;
            close(s);
            return -1;
        }
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (pr < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
            *err_out = soerr != 0 ? soerr : errno;
            close(s);
            return -1;
        }
        r = 0;
    }
    if (r != 0) {
        *err_out = errno;
        close(s);
        return -1;
    }
    (void)fcntl(s, F_SETFL, fl);
    int one = 1;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return s;
}

int cli_connect_tcp(const cli_hostport *hp, int timeout_ms, int *fd, char *err, size_t err_size)
{
    char local[300];
    if (err == NULL) {
        err = local;
        err_size = sizeof(local);
    }
    struct addrinfo *res = NULL;
    if (resolve(hp, 0, &res, err, err_size) != 0) {
        if (err == local) {
            cli_error("%s", err);
        }
        return CLI_EXIT_USAGE;
    }
    int saved = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int s = connect_one(ai, timeout_ms, &saved);
        if (s >= 0) {
            freeaddrinfo(res);
            *fd = s;
            return 0;
        }
    }
    freeaddrinfo(res);
    snprintf(err, err_size, "cannot connect to %s:%s: %s", hp->host, hp->port, strerror(saved));
    if (err == local) {
        cli_error("%s", err);
    }
    return CLI_EXIT_USAGE;
}

/* sock_name formats the local or peer address of |fd| */
static void sock_name(int fd, int peer, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    char serv[8] = "?";
    if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
              : getsockname(fd, (struct sockaddr *)&ss, &len)) == 0) {
        (void)getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                          NI_NUMERICHOST | NI_NUMERICSERV);
    }
    snprintf(out, size, "%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", serv);
}

void cli_peer_name(int fd, char *out, size_t size)
{
    sock_name(fd, 1, out, size);
}

void cli_local_name(int fd, char *out, size_t size)
{
    sock_name(fd, 0, out, size);
}

const char *cli_ssl_error_text(SSL *ssl, char *buf, size_t size)
{
    long vr = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
    unsigned long e = ERR_peek_last_error();
    if (vr != X509_V_OK) {
        snprintf(buf, size, "certificate verification failed: %s",
                 X509_verify_cert_error_string(vr));
    } else if (e != 0) {
        char tmp[256];
        ERR_error_string_n(e, tmp, sizeof(tmp));
        const char *reason = ERR_reason_error_string(e);
        snprintf(buf, size, "%s", reason != NULL ? reason : tmp);
    } else {
        snprintf(buf, size, "the connection was closed during the handshake");
    }
    ERR_clear_error();
    return buf;
}
