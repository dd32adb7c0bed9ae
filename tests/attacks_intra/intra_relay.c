/* intra_relay.c: the relay attacker's Evidence source (intra_relay.h). */
#include "intra_relay.h"

#include "intra_lab.h"

#include "base/result.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* rigged_client_ctx: a client SSL_CTX whose next ClientHello random is |cr|. OpenSSL has no
 * setter for it; the attacker uses a private library context whose public DRBG is OpenSSL's own
 * TEST-RAND (stock OpenSSL, no patch): the ClientHello random is the first public randomness a
 * new connection draws. Per thread (OpenSSL's DRBGs are): call from the connecting thread. */
static SSL_CTX *rigged_client_ctx(const atls_intra_insecure_config *cfg, const uint8_t cr[32],
                                  OSSL_LIB_CTX **lib_out)
{
    OSSL_LIB_CTX *lib = OSSL_LIB_CTX_new();
    static uint8_t entropy[8192];
    unsigned int strength = 256;
    if (lib == NULL || RAND_set_DRBG_type(lib, "TEST-RAND", NULL, NULL, NULL) != 1 ||
        RAND_bytes(entropy, sizeof(entropy)) != 1) {
        OSSL_LIB_CTX_free(lib);
        return NULL;
    }
    EVP_RAND_CTX *pub = RAND_get0_public(lib), *priv = RAND_get0_private(lib);
    OSSL_PARAM p[3] = {
        OSSL_PARAM_construct_octet_string(OSSL_RAND_PARAM_TEST_ENTROPY, entropy, sizeof(entropy)),
        OSSL_PARAM_construct_uint(OSSL_RAND_PARAM_STRENGTH, &strength), OSSL_PARAM_construct_end()};
    SSL_CTX *ctx = NULL;
    if (pub != NULL && priv != NULL && EVP_RAND_CTX_set_params(priv, p) == 1 &&
        EVP_RAND_CTX_set_params(pub, p) == 1) {
        ctx = SSL_CTX_new_ex(lib, NULL, TLS_client_method()); /* draws public randomness */
    }
    if (ctx == NULL || atls_intra_insecure_ctx_configure(ctx, 0, cfg) != ATLS_OK) {
        SSL_CTX_free(ctx);
        OSSL_LIB_CTX_free(lib);
        return NULL;
    }
    /* from here the connection's first public bytes are the victim's random */
    memcpy(entropy, cr, 32);
    p[0] = OSSL_PARAM_construct_octet_string(OSSL_RAND_PARAM_TEST_ENTROPY, entropy, sizeof(entropy));
    if (EVP_RAND_CTX_set_params(pub, p) != 1) {
        SSL_CTX_free(ctx);
        OSSL_LIB_CTX_free(lib);
        return NULL;
    }
    *lib_out = lib;
    return ctx;
}

atls_error intra_relay_evidence(void *arg, SSL *ssl, const atls_intra_insecure_binder_inputs *in,
                                const uint8_t challenge[ATLS_CHALLENGE_LEN], uint8_t **cmw,
                                size_t *cmw_len)
{
    (void)ssl, (void)challenge;
    intra_relay *r = arg;
    const char *offered[2] = {r->media_type, NULL};
    atls_intra_insecure_config c;
    memset(&c, 0, sizeof(c));
    c.mode = r->mode;
    c.binder = r->binder;
    c.offered_media_types = offered;
    c.accept_warning = 1; /* A takes whatever S1 sends */
    c.nonce = in->nonce;  /* the victim's nonce, forwarded */
    c.nonce_len = in->nonce_len;
    if (r->mode == ATLS_INTRA_INSECURE_X509) {
        c.trust = r->trust;
        c.hostname = r->hostname;
    }
    OSSL_LIB_CTX *lib = NULL;
    SSL_CTX *ctx = r->forward_client_random ? rigged_client_ctx(&c, in->client_random, &lib)
                                            : intra_lab_client_ctx(&c);
    ATLS_ENSURE(ctx != NULL, ATLS_ERR_INTERNAL, "relay: no client context");
    intra_lab_result res;
    intra_lab_connect(ctx, r->upstream_port, NULL, &res);
    SSL_CTX_free(ctx);
    OSSL_LIB_CTX_free(lib);
    atls_error rc = ATLS_OK;
    if (res.evidence == NULL) {
        rc = atls_error_raise(ATLS_ERR_EVIDENCE, __FILE__, __LINE__,
                              "relay: S1 sent no Evidence (%s)", res.reason);
    } else {
        r->random_forwarded += res.have_inputs &&
                               memcmp(res.inputs.client_random, in->client_random, 32) == 0;
        *cmw = res.evidence; /* ownership moves */
        *cmw_len = res.evidence_len;
        res.evidence = NULL;
        r->relayed++;
    }
    intra_lab_result_cleanup(&res);
    return rc;
}
