/*
 * ea_example: an RFC 9261 exported authenticator over a real TLS 1.3 connection on 127.0.0.1.
 *
 * A throwaway CA and a "server.test" leaf are made in memory. A server thread accepts one
 * TLS 1.3 connection; the client sends a ClientCertificateRequest over it, the server answers
 * with an authenticator (Certificate, CertificateVerify, Finished) for its leaf, and the client
 * validates it (chain to the CA, hostname) and prints one line per check. Exit 0 on success.
 *
 * Application framing used here (the example's own): u32 big-endian length, then the message.
 */
#include <atls/ea.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HOST "server.test"

typedef struct server_args {
    int listen_fd;
    X509 *cert;
    EVP_PKEY *key;
    int ok;
} server_args;

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX v3;
    int ok = x != NULL && name != NULL && X509_set_version(x, 2) == 1 &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), issuer ? 2 : 1) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_set_subject_name(x, name) == 1 &&
             X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
             X509_gmtime_adj(X509_getm_notBefore(x), -60) != NULL &&
             X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL && X509_set_pubkey(x, key) == 1;
    const char *exts[2][2] = {{"critical,CA:TRUE", NULL}, {"critical,CA:FALSE", "DNS:" HOST}};
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    const char **e = exts[issuer ? 1 : 0];
    X509_EXTENSION *bc = ok ? X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, e[0]) : NULL;
    ok = ok && bc != NULL && X509_add_ext(x, bc, -1) == 1;
    X509_EXTENSION_free(bc);
    if (ok && e[1] != NULL) {
        X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, e[1]);
        ok = san != NULL && X509_add_ext(x, san, -1) == 1;
        X509_EXTENSION_free(san);
    }
    ok = ok && X509_sign(x, issuer_key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* send_msg / recv_msg: u32 length + bytes over TLS (blocking). */
static int send_msg(SSL *ssl, const uint8_t *m, size_t len)
{
    uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    size_t n;
    return SSL_write_ex(ssl, hdr, 4, &n) == 1 && SSL_write_ex(ssl, m, len, &n) == 1;
}

static int read_full(SSL *ssl, uint8_t *buf, size_t len)
{
    size_t got = 0, n;
    while (got < len) {
        if (SSL_read_ex(ssl, buf + got, len - got, &n) != 1) {
            return 0;
        }
        got += n;
    }
    return 1;
}

static uint8_t *recv_msg(SSL *ssl, size_t *len)
{
    uint8_t hdr[4];
    if (!read_full(ssl, hdr, 4)) {
        return NULL;
    }
    *len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
    if (*len > ATLS_EA_MAX_MESSAGE) {
        return NULL;
    }
    uint8_t *m = malloc(*len ? *len : 1);
    if (m != NULL && !read_full(ssl, m, *len)) {
        free(m);
        return NULL;
    }
    return m;
}

static void *server_main(void *arg)
{
    server_args *sa = arg;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL *ssl = NULL;
    atls_ea_request *req = NULL;
    uint8_t *msg = NULL, *auth = NULL;
    size_t len = 0, auth_len = 0;
    int fd = accept(sa->listen_fd, NULL, NULL);
    if (ctx == NULL || fd < 0 || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_use_certificate(ctx, sa->cert) != 1 || SSL_CTX_use_PrivateKey(ctx, sa->key) != 1) {
        goto done;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
        goto done;
    }
    msg = recv_msg(ssl, &len);
    if (msg == NULL || atls_ea_request_parse(msg, len, &req) != ATLS_OK ||
        atls_ea_authenticate(ssl, req, sa->cert, NULL, sa->key, NULL, 0, &auth, &auth_len) !=
            ATLS_OK ||
        !send_msg(ssl, auth, auth_len)) {
        fprintf(stderr, "server: %s\n", atls_error_detail());
        goto done;
    }
    uint8_t bye;
    sa->ok = read_full(ssl, &bye, 1); /* wait for the client to finish */
done:
    free(msg);
    free(auth);
    atls_ea_request_free(req);
    if (ssl != NULL) {
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}

static const char *scheme_name(uint16_t s)
{
    switch (s) {
    case ATLS_SIG_ECDSA_SECP256R1_SHA256: return "ecdsa_secp256r1_sha256";
    case ATLS_SIG_ECDSA_SECP384R1_SHA384: return "ecdsa_secp384r1_sha384";
    case ATLS_SIG_RSA_PSS_RSAE_SHA256: return "rsa_pss_rsae_sha256";
    case ATLS_SIG_ED25519: return "ed25519";
    default: return "other";
    }
}

static int fail(const char *what)
{
    printf("FAIL %s: %s\n", what, atls_error_detail());
    return 1;
}

static int client_run(int port, X509_STORE *trust)
{
    struct sockaddr_in sin;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    atls_ea_request *req = NULL;
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    uint8_t *auth = NULL;
    size_t len = 0, auth_len = 0, clen = 0, rlen = 0;
    int rc = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ctx == NULL || fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
        printf("FAIL connect\n");
        goto done;
    }
    /* the TLS certificate is not checked here: the authenticator is what this example shows */
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
        printf("FAIL TLS handshake\n");
        goto done;
    }
    printf("TLS: %s, %s\n", SSL_get_version(ssl), SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
    if (atls_ea_context_set_new(&seen) != ATLS_OK ||
        atls_ea_request_new(ssl, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, NULL, &req) != ATLS_OK) {
        rc = fail("request");
        goto done;
    }
    const uint8_t *rb = atls_ea_request_get0_bytes(req, &len);
    printf("request: ClientCertificateRequest (type 17), %zu bytes sent\n", len);
    if (!send_msg(ssl, rb, len) || (auth = recv_msg(ssl, &auth_len)) == NULL) {
        printf("FAIL transport\n");
        goto done;
    }
    printf("authenticator: %zu bytes received\n", auth_len);
    atls_ea_validate_options vo = {0};
    vo.trust = trust;
    vo.hostname = HOST;
    if (atls_ea_validate(ssl, req, auth, auth_len, seen, &vo, &res) != ATLS_OK) {
        rc = fail("validate");
        goto done;
    }
    const uint8_t *c = atls_ea_result_get0_context(res, &clen);
    const uint8_t *rc_ = atls_ea_request_get0_context(req, &rlen);
    printf("context: %zu bytes, %s the request's\n", clen,
           clen == rlen && memcmp(c, rc_, clen) == 0 ? "matches" : "DIFFERS FROM");
    printf("CertificateVerify: %s (0x%04x), signature OK\n", scheme_name(atls_ea_result_scheme(res)),
           (unsigned)atls_ea_result_scheme(res));
    printf("Finished: MAC OK\n");
    printf("chain: OK to the example CA, for host %s\n", HOST);
    atls_ea_result_free(res);
    res = NULL;
    atls_error again = atls_ea_validate(ssl, req, auth, auth_len, seen, &vo, &res);
    if (again != ATLS_ERR_PROTOCOL_REPLAY) {
        printf("FAIL replay: second validate returned %d\n", (int)again);
        goto done;
    }
    printf("replay: second validate refused (%s)\n", atls_strerror(again));
    uint8_t bye = 0;
    size_t n;
    rc = SSL_write_ex(ssl, &bye, 1, &n) == 1 ? 0 : 1;
done:
    atls_ea_result_free(res);
    atls_ea_request_free(req);
    atls_ea_context_set_free(seen);
    free(auth);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

int main(void)
{
    server_args sa = {0};
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    pthread_t th;
    EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    sa.key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *ca = ca_key ? make_cert(ca_key, "atls example CA", NULL, ca_key) : NULL;
    sa.cert = ca && sa.key ? make_cert(sa.key, HOST, ca, ca_key) : NULL;
    X509_STORE *trust = X509_STORE_new();
    if (sa.cert == NULL || trust == NULL || X509_STORE_add_cert(trust, ca) != 1) {
        printf("FAIL making the example CA\n");
        return 1;
    }
    printf("made a throwaway CA and a P-256 leaf for %s\n", HOST);
    sa.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = 0; /* a free port */
    if (sa.listen_fd < 0 || bind(sa.listen_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(sa.listen_fd, 1) != 0 ||
        getsockname(sa.listen_fd, (struct sockaddr *)&sin, &sl) != 0 ||
        pthread_create(&th, NULL, server_main, &sa) != 0) {
        printf("FAIL listening on 127.0.0.1\n");
        return 1;
    }
    int port = ntohs(sin.sin_port);
    printf("server listening on 127.0.0.1:%d\n", port);
    int rc = client_run(port, trust);
    pthread_join(th, NULL);
    close(sa.listen_fd);
    if (rc == 0 && !sa.ok) {
        printf("FAIL server side\n");
        rc = 1;
    }
    printf("%s\n", rc == 0 ? "OK: exported authenticator validated" : "FAILED");
    X509_STORE_free(trust);
    X509_free(ca);
    X509_free(sa.cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(sa.key);
    return rc;
}
