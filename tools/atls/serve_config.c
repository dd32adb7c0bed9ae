/* serve_config.c: the reloadable snapshot of `atls serve` (serve_config.h). */
#include "serve_config.h"

#include <atls/session.h>

#include <openssl/err.h>

#include <stdlib.h>
#include <string.h>

static void config_free(serve_config *c)
{
    SSL_CTX_free(c->ctx);
    X509_free(c->cert);
    sk_X509_pop_free(c->chain, X509_free);
    EVP_PKEY_free(c->key);
    atls_policy_free(c->client_policy);
    free(c);
}

static int setup_tls(serve_config *c, const serve_files *f)
{
    int rc;
    if ((rc = cli_load_cert_chain(f->cert, &c->cert, &c->chain)) != 0 ||
        (f->chain != NULL && (rc = cli_load_certs(f->chain, &c->chain)) != 0) ||
        (rc = cli_load_private_key(f->key, &c->key)) != 0) {
        return rc;
    }
    if (X509_check_private_key(c->cert, c->key) != 1) {
        ERR_clear_error();
        cli_error("--key %s does not match --cert %s", f->key, f->cert);
        return CLI_EXIT_USAGE;
    }
    c->ctx = SSL_CTX_new(TLS_server_method());
    if (c->ctx == NULL || atls_ssl_ctx_configure(c->ctx, 1, 0) != ATLS_OK ||
        SSL_CTX_use_certificate(c->ctx, c->cert) != 1 ||
        SSL_CTX_use_PrivateKey(c->ctx, c->key) != 1 ||
        (c->chain != NULL && SSL_CTX_set1_chain(c->ctx, c->chain) != 1)) {
        ERR_clear_error();
        cli_error("cannot set up TLS with --cert %s", f->cert);
        return CLI_EXIT_USAGE;
    }
    if (f->client_ca != NULL) {
        /* clients authenticate in TLS too, so their Evidence binds to a verified key */
        if (SSL_CTX_load_verify_file(c->ctx, f->client_ca) != 1) {
            ERR_clear_error();
            cli_error("--client-ca %s: cannot read PEM certificates", f->client_ca);
            return CLI_EXIT_USAGE;
        }
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    }
    X509_NAME_oneline(X509_get_subject_name(c->cert), c->cert_subject,
                      (int)sizeof(c->cert_subject));
    return 0;
}

int serve_config_load(const serve_files *f, serve_config **out)
{
    *out = NULL;
    serve_config *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    atomic_init(&c->refs, 1);
    c->generation = 1;
    int rc = setup_tls(c, f);
    if (rc == 0 && f->client_policy != NULL) {
        rc = cli_load_policy(f->client_policy, &c->client_policy);
    }
    if (rc != 0) {
        config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

serve_config *serve_config_ref(serve_config *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void serve_config_unref(serve_config *c)
{
    if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1) {
        config_free(c);
    }
}

void serve_config_slot_init(serve_config_slot *s, serve_config *first)
{
    pthread_mutex_init(&s->lock, NULL);
    s->current = first;
}

serve_config *serve_config_slot_get(serve_config_slot *s)
{
    pthread_mutex_lock(&s->lock);
    serve_config *c = serve_config_ref(s->current);
    pthread_mutex_unlock(&s->lock);
    return c;
}

void serve_config_slot_swap(serve_config_slot *s, serve_config *fresh)
{
    pthread_mutex_lock(&s->lock);
    serve_config *old = s->current;
    fresh->generation = old->generation + 1;
    s->current = fresh;
    pthread_mutex_unlock(&s->lock);
    serve_config_unref(old);
}

void serve_config_slot_cleanup(serve_config_slot *s)
{
    serve_config_unref(s->current);
    s->current = NULL;
    pthread_mutex_destroy(&s->lock);
}
