/* tpm2_cbor.c: the application/vnd.atls.tpm2-quote+cbor encoding of one quote (tpm2.h). */
#include "evidence/tpm2/tpm2.h"

#include "base/result.h"
#include "codec/cbor/cbor.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CERT (16u * 1024u)

static bool put_entry(atls_writer *w, const char *key, const atls_buf *b)
{
    return atls_cbor_put_tstr(w, key) && atls_cbor_put_bstr(w, b->data, b->len);
}

atls_error atls_tpm2_quote_encode(const atls_tpm2_quote *q, uint8_t **out, size_t *out_len)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    /* Keys in RFC 8949 §4.2.1 order: shorter encodings first, then bytewise. */
    bool ok = atls_cbor_put_map(&w, q->ak_cert.len > 0 ? 5 : 4) &&
              put_entry(&w, "ak", &q->ak_public) && put_entry(&w, "sig", &q->sig) &&
              atls_cbor_put_tstr(&w, "pcrs") &&
              atls_cbor_put_array(&w, q->num_pcrs);
    for (size_t i = 0; ok && i < q->num_pcrs; i++) {
        const atls_tpm2_pcr_value *v = &q->pcrs[i];
        ok = atls_cbor_put_array(&w, 3) && atls_cbor_put_uint(&w, v->alg) &&
             atls_cbor_put_uint(&w, v->index) &&
             atls_cbor_put_bstr(&w, v->digest, v->digest_len);
    }
    if (ok && q->ak_cert.len > 0) {
        ok = put_entry(&w, "akcert", &q->ak_cert);
    }
    ok = ok && put_entry(&w, "attest", &q->attest);
    (void)ok; /* the writer's failure is sticky: finish reports it */
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

static atls_error get_bstr(atls_cursor *c, const char *what, size_t max, atls_buf *out)
{
    atls_cursor v;
    ATLS_GUARD(atls_cbor_read_bstr(c, &v));
    ATLS_ENSURE(atls_cursor_remaining(&v) <= max, ATLS_ERR_DECODE_TOO_LARGE,
                "TPM quote CBOR: %s is %zu bytes, at most %zu", what, atls_cursor_remaining(&v),
                max);
    return atls_buf_set(out, atls_cursor_data(&v), atls_cursor_remaining(&v));
}

static atls_error get_pcrs(atls_cursor *c, atls_tpm2_quote *q)
{
    size_t n;
    ATLS_GUARD(atls_cbor_read_array(c, &n));
    ATLS_ENSURE(n <= ATLS_TPM2_MAX_PCRS, ATLS_ERR_DECODE_TOO_LARGE,
                "TPM quote CBOR: %zu PCR values, at most %d", n, ATLS_TPM2_MAX_PCRS);
    q->pcrs = calloc(n == 0 ? 1 : n, sizeof(*q->pcrs));
    ATLS_ENSURE(q->pcrs != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t k;
        uint64_t alg, index;
        atls_cursor d;
        ATLS_GUARD(atls_cbor_read_array(c, &k));
        ATLS_ENSURE(k == 3, ATLS_ERR_DECODE_VALUE,
                    "TPM quote CBOR: pcrs[%zu] has %zu elements, expected 3", i, k);
        ATLS_GUARD(atls_cbor_read_uint(c, &alg));
        ATLS_GUARD(atls_cbor_read_uint(c, &index));
        ATLS_GUARD(atls_cbor_read_bstr(c, &d));
        ATLS_ENSURE(alg <= 0xffff && index < 8 * ATLS_TPM2_MAX_SELECT &&
                        atls_cursor_remaining(&d) <= ATLS_TPM2_MAX_DIGEST,
                    ATLS_ERR_DECODE_VALUE, "TPM quote CBOR: pcrs[%zu] out of range", i);
        atls_tpm2_pcr_value *v = &q->pcrs[i];
        v->alg = (uint16_t)alg;
        v->index = (uint8_t)index;
        v->digest_len = (uint8_t)atls_cursor_remaining(&d);
        memcpy(v->digest, atls_cursor_data(&d), v->digest_len);
        q->num_pcrs = i + 1;
    }
    return ATLS_OK;
}

static atls_error decode(atls_cursor *c, atls_tpm2_quote *q)
{
    atls_cbor_map_iter it;
    int have_attest = 0, have_sig = 0, have_ak = 0, have_pcrs = 0;
    ATLS_GUARD(atls_cbor_map_begin(c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(c, &it, &k));
        if (atls_cbor_key_is_text(&k, "attest")) {
            ATLS_GUARD(get_bstr(c, "attest", ATLS_TPM2_MAX_STRUCT, &q->attest));
            have_attest = 1;
        } else if (atls_cbor_key_is_text(&k, "sig")) {
            ATLS_GUARD(get_bstr(c, "sig", ATLS_TPM2_MAX_STRUCT, &q->sig));
            have_sig = 1;
        } else if (atls_cbor_key_is_text(&k, "ak")) {
            ATLS_GUARD(get_bstr(c, "ak", ATLS_TPM2_MAX_STRUCT, &q->ak_public));
            have_ak = 1;
        } else if (atls_cbor_key_is_text(&k, "akcert")) {
            ATLS_GUARD(get_bstr(c, "akcert", MAX_CERT, &q->ak_cert));
        } else if (atls_cbor_key_is_text(&k, "pcrs")) {
            ATLS_GUARD(get_pcrs(c, q));
            have_pcrs = 1;
        } else {
            ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "TPM quote CBOR: unknown key");
        }
    }
    ATLS_ENSURE(have_attest && have_sig && have_ak && have_pcrs, ATLS_ERR_DECODE_VALUE,
                "TPM quote CBOR: missing %s",
                !have_attest ? "attest" : !have_sig ? "sig" : !have_ak ? "ak" : "pcrs");
    ATLS_ENSURE(atls_cursor_is_empty(c), ATLS_ERR_DECODE_TRAILING,
                "TPM quote CBOR: %zu trailing bytes", atls_cursor_remaining(c));
    return ATLS_OK;
}

atls_error atls_tpm2_quote_decode(const uint8_t *data, size_t len, atls_tpm2_quote *q)
{
    memset(q, 0, sizeof(*q));
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    return decode(&c, q);
}
