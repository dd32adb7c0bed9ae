/* result.c: what a successful validation returns (include/atls/ea.h). The result owns new
 * references to the certificates and copies of everything else. */
#include "tls/ea/ea_internal.h"

#include "base/mem.h"
#include "base/result.h"

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#define RESULT_MAX_EXTENSIONS 64

struct atls_ea_result {
    X509 *leaf;
    STACK_OF(X509) *chain;
    uint8_t context[ATLS_EA_CONTEXT_MAX_LEN];
    size_t context_len;
    uint16_t scheme;
    uint8_t *ext_bytes; /* copy of the first entry's extensions list */
    size_t ext_bytes_len;
    atls_ea_extension exts[RESULT_MAX_EXTENSIONS]; /* views into ext_bytes */
    size_t num_exts;
    uint8_t *spki;
    size_t spki_len;
};

void atls_ea_result_free(atls_ea_result *res)
{
    if (res == NULL) {
        return;
    }
    X509_free(res->leaf);
    sk_X509_pop_free(res->chain, X509_free);
    free(res->ext_bytes);
    OPENSSL_free(res->spki);
    free(res);
}

atls_error atls_ea_result_build(const atls_ea_certificate *cert, uint16_t scheme,
                                atls_ea_result **out)
{
    atls_error rc = ATLS_OK;
    atls_ea_result *res = calloc(1, sizeof(*res));
    ATLS_ENSURE(res != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    ATLS_ENSURE(cert->num_entries >= 1, ATLS_ERR_INTERNAL, "EA result: no leaf");
    res->scheme = scheme;
    res->context_len = atls_cursor_remaining(&cert->context);
    if (res->context_len > 0) {
        memcpy(res->context, atls_cursor_data(&cert->context), res->context_len);
    }
    res->chain = sk_X509_new_null();
    if (res->chain == NULL || X509_up_ref(cert->entries[0].cert) != 1) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    res->leaf = cert->entries[0].cert;
    for (size_t i = 1; i < cert->num_entries; i++) {
        X509 *x = cert->entries[i].cert;
        if (X509_up_ref(x) != 1) {
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL, "EA result: X509_up_ref failed");
        }
        if (sk_X509_push(res->chain, x) <= 0) {
            X509_free(x);
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        }
    }
    res->ext_bytes_len = atls_cursor_remaining(&cert->entries[0].exts);
    res->ext_bytes = atls_memdup(atls_cursor_data(&cert->entries[0].exts), res->ext_bytes_len);
    if (res->ext_bytes == NULL) {
        ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    atls_cursor ec;
    atls_cursor_init(&ec, res->ext_bytes, res->ext_bytes_len);
    ATLS_GUARD_GOTO(rc, fail,
                    atls_ea_parse_extensions(ec, "EA result", res->exts, RESULT_MAX_EXTENSIONS,
                                             &res->num_exts));
    {
        unsigned char *der = NULL;
        /* the SubjectPublicKeyInfo as the certificate holds it: the same DER as i2d_PUBKEY,
         * without a pass through OpenSSL 3.0's provider encoders */
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(res->leaf), &der);
        if (n <= 0) {
            ERR_clear_error();
            ATLS_FAIL_GOTO(rc, fail, ATLS_ERR_CRYPTO_KEY, "EA result: leaf public key not encodable");
        }
        res->spki = der;
        res->spki_len = (size_t)n;
    }
    *out = res;
    return ATLS_OK;
fail:
    atls_ea_result_free(res);
    return rc;
}

X509 *atls_ea_result_get0_leaf(const atls_ea_result *res)
{
    return res->leaf;
}

STACK_OF(X509) *atls_ea_result_get0_chain(const atls_ea_result *res)
{
    return res->chain;
}

const uint8_t *atls_ea_result_get0_context(const atls_ea_result *res, size_t *len)
{
    *len = res->context_len;
    return res->context;
}

uint16_t atls_ea_result_scheme(const atls_ea_result *res)
{
    return res->scheme;
}

const uint8_t *atls_ea_result_get0_extension(const atls_ea_result *res, uint16_t type,
                                             size_t *len)
{
    for (size_t i = 0; i < res->num_exts; i++) {
        if (res->exts[i].type == type) {
            *len = res->exts[i].len;
            return res->exts[i].data;
        }
    }
    *len = 0;
    return NULL;
}

const uint8_t *atls_ea_result_get0_spki(const atls_ea_result *res, size_t *len)
{
    *len = res->spki_len;
    return res->spki;
}
