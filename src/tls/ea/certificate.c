/* certificate.c: the Certificate message of an authenticator (RFC 9261 section 5.2.1,
 * RFC 8446 section 4.4.2), X.509 entries only. */
#include "tls/ea/ea_internal.h"

#include "base/result.h"
#include "base/writer.h"
#include "evidence/core/verify_cache.h"

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

/* add_cert_entry appends CertificateEntry{cert_data, extensions}. */
static bool add_cert_entry(atls_writer *w, X509 *cert, const atls_ea_extension *exts,
                           size_t num_exts)
{
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    if (n <= 0) {
        ERR_clear_error();
        return false;
    }
    bool ok = (size_t)n <= ATLS_EA_MAX_CERT_LEN && atls_writer_open_u24(w) &&
              atls_writer_add_bytes(w, der, (size_t)n) && atls_writer_close(w) &&
              atls_writer_open_u16(w);
    OPENSSL_free(der);
    for (size_t i = 0; ok && i < num_exts; i++) {
        ok = atls_writer_add_u16(w, exts[i].type) && atls_writer_open_u16(w) &&
             atls_writer_add_bytes(w, exts[i].data, exts[i].len) && atls_writer_close(w);
    }
    return ok && atls_writer_close(w);
}

atls_error atls_ea_encode_certificate(const uint8_t *ctx, size_t ctx_len, X509 *leaf,
                                      STACK_OF(X509) *chain, const atls_ea_extension *exts,
                                      size_t num_exts, uint8_t **out, size_t *out_len)
{
    atls_writer w;
    int nchain = chain != NULL ? sk_X509_num(chain) : 0;
    ATLS_ENSURE(ctx_len <= ATLS_EA_CONTEXT_MAX_LEN, ATLS_ERR_USAGE,
                "EA Certificate: context longer than 255 bytes");
    ATLS_ENSURE(nchain >= 0 && (size_t)nchain + 1 <= ATLS_EA_MAX_CERTS, ATLS_ERR_USAGE,
                "EA Certificate: chain of %d certificates exceeds the ceiling", nchain + 1);
    atls_writer_init(&w, ATLS_EA_MAX_MESSAGE);
    bool ok = atls_writer_add_u8(&w, ATLS_HS_CERTIFICATE) && atls_writer_open_u24(&w) &&
              atls_writer_open_u8(&w) && atls_writer_add_bytes(&w, ctx, ctx_len) &&
              atls_writer_close(&w) && atls_writer_open_u24(&w);
    if (ok && leaf != NULL) {
        /* leaf first, then intermediates (RFC 8446 section 4.4.2) */
        ok = add_cert_entry(&w, leaf, exts, num_exts);
        for (int i = 0; ok && i < nchain; i++) {
            ok = add_cert_entry(&w, sk_X509_value(chain, i), NULL, 0);
        }
    }
    ok = ok && atls_writer_close(&w) && atls_writer_close(&w);
    atls_error rc = atls_writer_status(&w);
    if (!ok && rc == ATLS_OK) {
        rc = atls_error_raise(ATLS_ERR_USAGE, __FILE__, __LINE__,
                              "EA Certificate: a certificate cannot be encoded or exceeds %u bytes",
                              ATLS_EA_MAX_CERT_LEN);
    }
    if (rc == ATLS_OK) {
        rc = atls_writer_finish(&w, out, out_len);
    }
    atls_writer_cleanup(&w);
    return rc;
}

void atls_ea_certificate_cleanup(atls_ea_certificate *c)
{
    for (size_t i = 0; i < c->num_entries; i++) {
        X509_free(c->entries[i].cert);
        c->entries[i].cert = NULL;
    }
    c->num_entries = 0;
}

/* Parsed certificates by their DER (docs/EVIDENCE.md "Caches"): a server's certificate arrives
 * in every authenticator of every connection, and decoding it through OpenSSL 3.0's provider
 * decoders costs more than checking the authenticator's signature. A parse is a pure function
 * of the bytes; the object is shared by reference count, and every check runs on it as before. */
static void *x509_ref(const void *x)
{
    X509 *c = (X509 *)x; /* the count is the only thing that changes */
    return X509_up_ref(c) == 1 ? c : NULL;
}

static void x509_unref(void *x)
{
    X509_free(x);
}

static const atls_vcache_obj_ops x509_ops = {x509_ref, x509_unref};
ATLS_VCACHE_DEFINE(der_cache, 16, &x509_ops);

/* parse_der: exactly one DER certificate, or NULL */
static X509 *parse_der(const uint8_t *der, size_t len)
{
    uint8_t key[ATLS_VCACHE_KEY_LEN];
    atls_vcache_hash h;
    atls_vcache_hash_init(&h, "ea certificate der");
    atls_vcache_hash_bytes(&h, der, len);
    int have_key = atls_vcache_hash_final(&h, key);
    void *hit = NULL;
    if (have_key && atls_vcache_lookup(&der_cache, key, 0, &hit)) {
        return hit;
    }
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || p != der + len) {
        X509_free(x);
        ERR_clear_error();
        return NULL;
    }
    if (have_key) {
        atls_vcache_store(&der_cache, key, NULL, x);
    }
    return x;
}

static atls_error parse_entries(atls_cursor list, atls_ea_certificate *out)
{
    while (!atls_cursor_is_empty(&list)) {
        atls_cursor der, exts;
        uint32_t n;
        /* ceilings first, before any allocation */
        ATLS_ENSURE(out->num_entries < ATLS_EA_MAX_CERTS, ATLS_ERR_DECODE_TOO_LARGE,
                    "EA Certificate: more than %d certificates", ATLS_EA_MAX_CERTS);
        atls_cursor peek = list;
        ATLS_ENSURE(atls_cursor_get_u24(&peek, &n), ATLS_ERR_DECODE_TRUNCATED,
                    "EA Certificate: cert_data length truncated");
        ATLS_ENSURE(n >= 1, ATLS_ERR_DECODE_LENGTH, "EA Certificate: empty cert_data");
        ATLS_ENSURE(n <= ATLS_EA_MAX_CERT_LEN, ATLS_ERR_DECODE_TOO_LARGE,
                    "EA Certificate: certificate of %u bytes exceeds the ceiling", (unsigned)n);
        ATLS_ENSURE(atls_cursor_get_u24_prefixed(&list, &der), ATLS_ERR_DECODE_TRUNCATED,
                    "EA Certificate: cert_data truncated");
        ATLS_ENSURE(atls_cursor_get_u16_prefixed(&list, &exts), ATLS_ERR_DECODE_TRUNCATED,
                    "EA Certificate: CertificateEntry extensions truncated");
        ATLS_GUARD(atls_ea_parse_extensions(exts, "EA CertificateEntry", NULL, 0, NULL));
        X509 *x = parse_der(atls_cursor_data(&der), atls_cursor_remaining(&der));
        if (x == NULL) {
            ATLS_RAISE(ATLS_ERR_DECODE_VALUE,
                       "EA Certificate: entry %zu is not exactly one DER certificate",
                       out->num_entries);
        }
        out->entries[out->num_entries].cert = x;
        out->entries[out->num_entries].exts = exts;
        out->num_entries++;
    }
    return ATLS_OK;
}

atls_error atls_ea_parse_certificate(atls_cursor body, atls_ea_certificate *out)
{
    atls_cursor list;
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(atls_cursor_get_u8_prefixed(&body, &out->context), ATLS_ERR_DECODE_TRUNCATED,
                "EA Certificate: certificate_request_context truncated");
    ATLS_ENSURE(atls_cursor_get_u24_prefixed(&body, &list), ATLS_ERR_DECODE_TRUNCATED,
                "EA Certificate: certificate_list truncated");
    ATLS_ENSURE(atls_cursor_is_empty(&body), ATLS_ERR_DECODE_TRAILING,
                "EA Certificate: trailing bytes after certificate_list");
    atls_error rc = parse_entries(list, out);
    if (rc != ATLS_OK) {
        atls_ea_certificate_cleanup(out);
    }
    return rc;
}
