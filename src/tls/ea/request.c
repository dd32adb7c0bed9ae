/* request.c: CertificateRequest / ClientCertificateRequest messages (RFC 9261 section 4). */
#include "tls/ea/ea_internal.h"

#include "base/mem.h"
#include "base/result.h"
#include "base/writer.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

/* RFC 8446 section 4.2.3 schemes atls can both produce and verify, in preference order.
 * rsa_pkcs1_* are never offered: RFC 9261 section 5.2.2 forbids them in CertificateVerify. */
static const uint16_t default_sigalgs[] = {
    ATLS_SIG_ECDSA_SECP256R1_SHA256, ATLS_SIG_ECDSA_SECP384R1_SHA384,
    ATLS_SIG_RSA_PSS_RSAE_SHA256,    ATLS_SIG_RSA_PSS_RSAE_SHA384,
    ATLS_SIG_RSA_PSS_RSAE_SHA512,    ATLS_SIG_ED25519,
};

const uint16_t *atls_ea_default_sigalgs(size_t *num)
{
    *num = sizeof(default_sigalgs) / sizeof(default_sigalgs[0]);
    return default_sigalgs;
}

void atls_ea_request_free(atls_ea_request *req)
{
    if (req == NULL) {
        return;
    }
    free(req->bytes);
    free(req->sigalgs);
    free(req);
}


bool atls_ea_read_handshake(atls_cursor *c, uint8_t *type, atls_cursor *body)
{
    atls_cursor save = *c;
    if (!atls_cursor_get_u8(c, type) || !atls_cursor_get_u24_prefixed(c, body)) {
        *c = save;
        return false;
    }
    return true;
}

atls_error atls_ea_parse_extensions(atls_cursor list, const char *where, atls_ea_extension *out,
                                    size_t max, size_t *num)
{
    /* Types seen so far, as a bitmap over the whole u16 space: duplicates are illegal
     * (RFC 8446 section 4.2). 8 KiB on the heap keeps the check O(n). */
    uint8_t *seen = calloc(8192, 1);
    size_t n = 0;
    atls_error rc = ATLS_OK;
    ATLS_ENSURE(seen != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    while (!atls_cursor_is_empty(&list)) {
        uint16_t type;
        atls_cursor data;
        if (!atls_cursor_get_u16(&list, &type) || !atls_cursor_get_u16_prefixed(&list, &data)) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_TRUNCATED, "%s: extension truncated", where);
        }
        if (seen[type >> 3] & (1u << (type & 7))) {
            ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_VALUE, "%s: extension %u appears twice",
                           where, (unsigned)type);
        }
        seen[type >> 3] = (uint8_t)(seen[type >> 3] | (1u << (type & 7)));
        if (out != NULL) {
            if (n >= max) {
                ATLS_FAIL_GOTO(rc, done, ATLS_ERR_DECODE_TOO_LARGE,
                               "%s: more than %zu extensions", where, max);
            }
            out[n].type = type;
            out[n].data = atls_cursor_data(&data);
            out[n].len = atls_cursor_remaining(&data);
        }
        n++;
    }
    if (num != NULL) {
        *num = n;
    }
done:
    free(seen);
    return rc;
}

atls_error atls_ea_decode_scheme_list(const uint8_t *data, size_t len, const char *where,
                                      uint16_t **out, size_t *num)
{
    atls_cursor c, list;
    *out = NULL;
    *num = 0;
    atls_cursor_init(&c, data, len);
    ATLS_ENSURE(atls_cursor_get_u16_prefixed(&c, &list), ATLS_ERR_DECODE_TRUNCATED,
                "%s truncated", where);
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING, "trailing bytes in %s",
                where);
    size_t n = atls_cursor_remaining(&list);
    ATLS_ENSURE(n >= 2 && n % 2 == 0, ATLS_ERR_DECODE_LENGTH,
                "%s: list length %zu is empty or odd", where, n);
    uint16_t *v = malloc(n);
    ATLS_ENSURE(v != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    size_t k = 0;
    while (atls_cursor_get_u16(&list, &v[k])) {
        k++;
    }
    *out = v;
    *num = k;
    return ATLS_OK;
}

/* decode_sigalgs fills req->sigalgs from the signature_algorithms extension data
 * (RFC 8446 section 4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2>). */
static atls_error decode_sigalgs(atls_ea_request *req, const uint8_t *data, size_t len)
{
    return atls_ea_decode_scheme_list(data, len, "EA request: signature_algorithms",
                                      &req->sigalgs, &req->num_sigalgs);
}

/* parse_into decodes req->bytes (already owned by |req|). */
static atls_error parse_into(atls_ea_request *req)
{
    atls_cursor c, body, ctx, exts;
    uint8_t type;
    atls_cursor_init(&c, req->bytes, req->len);
    ATLS_ENSURE(atls_ea_read_handshake(&c, &type, &body), ATLS_ERR_DECODE_TRUNCATED,
                "EA request: handshake message truncated");
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "EA request: trailing bytes after the message");
    ATLS_ENSURE(type == ATLS_EA_CERTIFICATE_REQUEST || type == ATLS_EA_CLIENT_CERTIFICATE_REQUEST,
                ATLS_ERR_DECODE_TYPE, "EA request: handshake type %u is not 13 or 17",
                (unsigned)type);
    /* RFC 9261 section 4: certificate_request_context<0..2^8-1>, extensions<2..2^16-1> */
    ATLS_ENSURE(atls_cursor_get_u8_prefixed(&body, &ctx), ATLS_ERR_DECODE_TRUNCATED,
                "EA request: certificate_request_context truncated");
    ATLS_ENSURE(atls_cursor_get_u16_prefixed(&body, &exts), ATLS_ERR_DECODE_TRUNCATED,
                "EA request: extensions truncated");
    ATLS_ENSURE(atls_cursor_is_empty(&body), ATLS_ERR_DECODE_TRAILING,
                "EA request: trailing bytes after extensions");
    req->type = type;
    req->context = atls_cursor_data(&ctx);
    req->context_len = atls_cursor_remaining(&ctx);
    ATLS_GUARD(atls_ea_parse_extensions(exts, "EA request", req->exts,
                                        ATLS_EA_MAX_REQUEST_EXTENSIONS, &req->num_exts));
    for (size_t i = 0; i < req->num_exts; i++) {
        if (req->exts[i].type == ATLS_EXT_SIGNATURE_ALGORITHMS) {
            return decode_sigalgs(req, req->exts[i].data, req->exts[i].len);
        }
    }
    ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "EA request: signature_algorithms extension missing");
}

atls_error atls_ea_request_parse(const uint8_t *msg, size_t len, atls_ea_request **out)
{
    ATLS_ENSURE(out != NULL && (msg != NULL || len == 0), ATLS_ERR_USAGE,
                "atls_ea_request_parse: NULL argument");
    *out = NULL;
    ATLS_ENSURE(len <= ATLS_EA_MAX_MESSAGE, ATLS_ERR_DECODE_TOO_LARGE,
                "EA request: %zu bytes exceed the ceiling", len);
    atls_ea_request *req = calloc(1, sizeof(*req));
    ATLS_ENSURE(req != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    req->bytes = atls_memdup(msg, len);
    req->len = len;
    atls_error rc = req->bytes == NULL ? ATLS_ERR_INTERNAL_ALLOC : parse_into(req);
    if (rc != ATLS_OK) {
        atls_ea_request_free(req);
        return rc;
    }
    *out = req;
    return ATLS_OK;
}

atls_error atls_ea_request_new(SSL *ssl, int type, const atls_ea_request_options *opts,
                               atls_ea_request **out)
{
    static const atls_ea_request_options none;
    uint8_t ctx[ATLS_EA_CONTEXT_DEFAULT_LEN];
    const uint8_t *cp = ctx;
    size_t clen = sizeof(ctx);
    const uint16_t *algs;
    size_t nalgs;
    atls_writer w;
    uint8_t *bytes = NULL;
    size_t len = 0;

    ATLS_ENSURE(out != NULL, ATLS_ERR_USAGE, "atls_ea_request_new: NULL out");
    *out = NULL;
    ATLS_GUARD(atls_ea_check_tls13(ssl));
    ATLS_ENSURE(type == ATLS_EA_CERTIFICATE_REQUEST || type == ATLS_EA_CLIENT_CERTIFICATE_REQUEST,
                ATLS_ERR_USAGE, "atls_ea_request_new: type %d is not 13 or 17", type);
    if (opts == NULL) {
        opts = &none;
    }
    if (opts->context != NULL) {
        ATLS_ENSURE(opts->context_len >= 1 && opts->context_len <= ATLS_EA_CONTEXT_MAX_LEN,
                    ATLS_ERR_USAGE, "atls_ea_request_new: context length %zu not in 1..255",
                    opts->context_len);
        cp = opts->context;
        clen = opts->context_len;
    } else {
        /* RFC 9261 section 4: the context should be unpredictable */
        ATLS_GUARD_OSSL(RAND_bytes(ctx, sizeof(ctx)), ATLS_ERR_CRYPTO_RANDOM,
                        "EA request: RAND_bytes failed");
    }
    if (opts->sigalgs != NULL) {
        ATLS_ENSURE(opts->num_sigalgs >= 1 && opts->num_sigalgs <= 0x7fff, ATLS_ERR_USAGE,
                    "atls_ea_request_new: %zu signature schemes", opts->num_sigalgs);
        algs = opts->sigalgs;
        nalgs = opts->num_sigalgs;
    } else {
        algs = atls_ea_default_sigalgs(&nalgs);
    }
    ATLS_ENSURE(opts->num_extensions == 0 || opts->extensions != NULL, ATLS_ERR_USAGE,
                "atls_ea_request_new: NULL extensions");
    ATLS_ENSURE(opts->num_extensions < ATLS_EA_MAX_REQUEST_EXTENSIONS, ATLS_ERR_USAGE,
                "atls_ea_request_new: too many extensions");
    for (size_t i = 0; i < opts->num_extensions; i++) {
        ATLS_ENSURE(opts->extensions[i].type != ATLS_EXT_SIGNATURE_ALGORITHMS, ATLS_ERR_USAGE,
                    "atls_ea_request_new: signature_algorithms is set through sigalgs");
        ATLS_ENSURE(opts->extensions[i].len == 0 || opts->extensions[i].data != NULL,
                    ATLS_ERR_USAGE, "atls_ea_request_new: extension data NULL");
        for (size_t j = 0; j < i; j++) {
            ATLS_ENSURE(opts->extensions[j].type != opts->extensions[i].type, ATLS_ERR_USAGE,
                        "atls_ea_request_new: extension %u given twice",
                        (unsigned)opts->extensions[i].type);
        }
    }

    atls_writer_init(&w, ATLS_EA_MAX_MESSAGE);
    bool ok = atls_writer_add_u8(&w, (uint8_t)type) && atls_writer_open_u24(&w) &&
              atls_writer_open_u8(&w) && atls_writer_add_bytes(&w, cp, clen) &&
              atls_writer_close(&w) && atls_writer_open_u16(&w) &&
              /* signature_algorithms first (RFC 8446 section 4.2.3) */
              atls_writer_add_u16(&w, ATLS_EXT_SIGNATURE_ALGORITHMS) &&
              atls_writer_open_u16(&w) && atls_writer_open_u16(&w);
    for (size_t i = 0; ok && i < nalgs; i++) {
        ok = atls_writer_add_u16(&w, algs[i]);
    }
    ok = ok && atls_writer_close(&w) && atls_writer_close(&w);
    for (size_t i = 0; ok && i < opts->num_extensions; i++) {
        ok = atls_writer_add_u16(&w, opts->extensions[i].type) && atls_writer_open_u16(&w) &&
             atls_writer_add_bytes(&w, opts->extensions[i].data, opts->extensions[i].len) &&
             atls_writer_close(&w);
    }
    ok = ok && atls_writer_close(&w) && atls_writer_close(&w);
    (void)ok; /* the writer's failure is sticky: finish reports it */
    atls_error rc = atls_writer_finish(&w, &bytes, &len);
    atls_writer_cleanup(&w);
    ATLS_GUARD(rc);
    /* parse our own encoding so built and received requests share one representation */
    rc = atls_ea_request_parse(bytes, len, out);
    free(bytes);
    return rc;
}

const uint8_t *atls_ea_request_get0_bytes(const atls_ea_request *req, size_t *len)
{
    *len = req->len;
    return req->bytes;
}

int atls_ea_request_type(const atls_ea_request *req)
{
    return req->type;
}

const uint8_t *atls_ea_request_get0_context(const atls_ea_request *req, size_t *len)
{
    *len = req->context_len;
    return req->context;
}

const uint8_t *atls_ea_request_get0_extension(const atls_ea_request *req, uint16_t type,
                                              size_t *len)
{
    for (size_t i = 0; i < req->num_exts; i++) {
        if (req->exts[i].type == type) {
            *len = req->exts[i].len;
            /* an empty extension still has a non-NULL address inside the message */
            return req->exts[i].data;
        }
    }
    *len = 0;
    return NULL;
}

int atls_ea_request_has_extension(const atls_ea_request *req, uint16_t type)
{
    for (size_t i = 0; i < req->num_exts; i++) {
        if (req->exts[i].type == type) {
            return 1;
        }
    }
    return 0;
}

/* RFC 9261 section 7.2.1: the context is the first field of the request body and of the
 * Certificate body; for an empty authenticator (Finished only) there is none. */
atls_error atls_ea_get_context(const uint8_t *msg, size_t len,
                               uint8_t out[ATLS_EA_CONTEXT_MAX_LEN], size_t *out_len)
{
    atls_cursor c, body, ctx;
    uint8_t type;
    ATLS_ENSURE(out != NULL && out_len != NULL && (msg != NULL || len == 0), ATLS_ERR_USAGE,
                "atls_ea_get_context: NULL argument");
    ATLS_ENSURE(len <= ATLS_EA_MAX_MESSAGE, ATLS_ERR_DECODE_TOO_LARGE,
                "EA message: %zu bytes exceed the ceiling", len);
    atls_cursor_init(&c, msg, len);
    ATLS_ENSURE(atls_ea_read_handshake(&c, &type, &body), ATLS_ERR_DECODE_TRUNCATED,
                "EA message: handshake message truncated");
    ATLS_ENSURE(type == ATLS_EA_CERTIFICATE_REQUEST ||
                    type == ATLS_EA_CLIENT_CERTIFICATE_REQUEST || type == ATLS_HS_CERTIFICATE,
                ATLS_ERR_DECODE_TYPE, "EA message: type %u carries no context", (unsigned)type);
    ATLS_ENSURE(atls_cursor_get_u8_prefixed(&body, &ctx), ATLS_ERR_DECODE_TRUNCATED,
                "EA message: certificate_request_context truncated");
    *out_len = atls_cursor_remaining(&ctx);
    if (*out_len > 0) {
        memcpy(out, atls_cursor_data(&ctx), *out_len);
    }
    return ATLS_OK;
}
