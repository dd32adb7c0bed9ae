/* client_hello.c: the ClientHello's signature lists, for spontaneous authenticators (RFC 9261
 * section 5.2.2: "the signature algorithm MUST be one offered in the ClientHello"; RFC 8446
 * section 4.2.3: signature_algorithms_cert for the certificates), and the check that a chain
 * uses only accepted algorithms. */
#include "tls/ea/ea_internal.h"

#include "base/result.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define EXT_SIGNATURE_ALGORITHMS_CERT 50

/* the captured list, kept in the SSL's ex_data */
typedef struct hello_schemes {
    size_t num;
    uint16_t v[ATLS_EA_MAX_HELLO_SCHEMES];
} hello_schemes;

static int ex_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void free_schemes(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

static void make_index(void)
{
    ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_schemes);
}

static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
    (void)alert, (void)arg;
    const unsigned char *data = NULL;
    size_t len = 0;
    if (SSL_client_hello_get0_ext(ssl, EXT_SIGNATURE_ALGORITHMS_CERT, &data, &len) != 1) {
        return SSL_CLIENT_HELLO_SUCCESS;
    }
    uint16_t *list = NULL;
    size_t n = 0;
    /* malformed: ignore it here; OpenSSL's own parser rejects the handshake */
    if (atls_ea_decode_scheme_list(data, len, "ClientHello signature_algorithms_cert", &list,
                                   &n) == ATLS_OK) {
        hello_schemes *h = calloc(1, sizeof(*h));
        if (h != NULL) {
            h->num = n < ATLS_EA_MAX_HELLO_SCHEMES ? n : ATLS_EA_MAX_HELLO_SCHEMES;
            memcpy(h->v, list, h->num * sizeof(h->v[0]));
            free(SSL_get_ex_data(ssl, ex_index)); /* a second ClientHello after HRR */
            if (SSL_set_ex_data(ssl, ex_index, h) != 1) {
                free(h);
            }
        }
    }
    free(list);
    atls_error_clear();
    return SSL_CLIENT_HELLO_SUCCESS;
}

atls_error atls_ea_ssl_ctx_track_client_hello(SSL_CTX *ctx)
{
    ATLS_ENSURE(ctx != NULL, ATLS_ERR_USAGE, "no SSL_CTX");
    pthread_once(&ex_once, make_index);
    ATLS_ENSURE(ex_index >= 0, ATLS_ERR_CRYPTO, "cannot allocate SSL ex_data");
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, NULL);
    return ATLS_OK;
}

void atls_ea_hello_sigalgs(SSL *ssl, uint16_t out[ATLS_EA_MAX_HELLO_SCHEMES], size_t *num)
{
    *num = 0;
    int n = SSL_get_sigalgs(ssl, 0, NULL, NULL, NULL, NULL, NULL);
    for (int i = 0; i < n && *num < ATLS_EA_MAX_HELLO_SCHEMES; i++) {
        unsigned char rsig = 0, rhash = 0;
        SSL_get_sigalgs(ssl, i, NULL, NULL, NULL, &rsig, &rhash);
        out[(*num)++] = (uint16_t)(rhash << 8 | rsig); /* the code point as sent */
    }
}

void atls_ea_hello_cert_sigalgs(SSL *ssl, uint16_t out[ATLS_EA_MAX_HELLO_SCHEMES], size_t *num)
{
    const hello_schemes *h = ex_index >= 0 ? SSL_get_ex_data(ssl, ex_index) : NULL;
    if (h == NULL) {
        atls_ea_hello_sigalgs(ssl, out, num);
        return;
    }
    memcpy(out, h->v, h->num * sizeof(h->v[0]));
    *num = h->num;
}

/* cert_schemes: the SignatureSchemes that name how |x| is signed (RFC 8446 section 4.2.3). */
static size_t cert_schemes(X509 *x, uint16_t out[2])
{
    int md = NID_undef, pk = NID_undef;
    if (X509_get_signature_info(x, &md, &pk, NULL, NULL) != 1) {
        ERR_clear_error();
        return 0;
    }
    int h = md == NID_sha256 ? 4 : md == NID_sha384 ? 5 : md == NID_sha512 ? 6 : md == NID_sha1 ? 2 : 0;
    switch (pk) {
    case NID_X9_62_id_ecPublicKey:
        out[0] = (uint16_t)(h << 8 | 0x03);
        return h != 0 ? 1 : 0;
    case NID_rsaEncryption:
        out[0] = (uint16_t)(h << 8 | 0x01);
        return h != 0 ? 1 : 0;
    case NID_rsassaPss: /* rsae or pss key: either code point names it */
        if (h < 4) {
            return 0;
        }
        out[0] = (uint16_t)(0x0800 | (h - 4 + 0x04));
        out[1] = (uint16_t)(0x0800 | (h - 4 + 0x09));
        return 2;
    case NID_ED25519:
        out[0] = ATLS_SIG_ED25519;
        return 1;
    case NID_ED448:
        out[0] = 0x0808;
        return 1;
    default:
        return 0;
    }
}

static bool allowed_scheme(const uint16_t *s, size_t n, const uint16_t *allowed, size_t num)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < num; j++) {
            if (s[i] == allowed[j]) {
                return true;
            }
        }
    }
    return false;
}

atls_error atls_ea_check_chain_schemes(X509 *leaf, STACK_OF(X509) *chain,
                                       const uint16_t *allowed, size_t num)
{
    int total = 1 + (chain != NULL ? sk_X509_num(chain) : 0);
    for (int i = 0; i < total; i++) {
        X509 *x = i == 0 ? leaf : sk_X509_value(chain, i - 1);
        if (X509_check_issued(x, x) == X509_V_OK) {
            continue; /* self-signed: a trust anchor, its signature is not checked */
        }
        uint16_t s[2];
        size_t n = cert_schemes(x, s);
        ATLS_ENSURE(n > 0 && allowed_scheme(s, n, allowed, num), ATLS_ERR_PROTOCOL_SCHEME,
                    "EA Certificate: certificate %d is signed with %s, which the peer does not "
                    "accept for certificates",
                    i, OBJ_nid2sn(X509_get_signature_nid(x)));
    }
    return ATLS_OK;
}
