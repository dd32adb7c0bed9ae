/* tpm2_cbor.c: the application/vnd.atls.tpm2-quote+cbor encoding of one quote (tpm2.h; CDDL
 * `tpm2-quote` in docs/EVIDENCE.md). */
#include "evidence/tpm2/tpm2.h"

#include "base/result.h"
#include "codec/cbor/cbor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CERT (16u * 1024u)
#define PCRS_PER_BANK (8 * ATLS_TPM2_MAX_SELECT) /* PCR indices 0..31 */

/* ---- encoder ---- */

static bool put_entry(atls_writer *w, const char *key, const atls_buf *b)
{
    return atls_cbor_put_tstr(w, key) && atls_cbor_put_bstr(w, b->data, b->len);
}

static int pcr_order(const void *a, const void *b)
{
    const atls_tpm2_pcr_value *x = *(const atls_tpm2_pcr_value *const *)a;
    const atls_tpm2_pcr_value *y = *(const atls_tpm2_pcr_value *const *)b;
    if (x->alg != y->alg) {
        return x->alg < y->alg ? -1 : 1;
    }
    return (x->index > y->index) - (x->index < y->index);
}

/* put_pcrs writes "pcrs" = { alg => { index => value } }. Both levels have unsigned keys of
 * one major type, so ascending numeric order is RFC 8949 section 4.2.1 bytewise order. */
static atls_error put_pcrs(atls_writer *w, const atls_tpm2_quote *q)
{
    ATLS_ENSURE(q->num_pcrs <= ATLS_TPM2_MAX_PCRS, ATLS_ERR_USAGE,
                "TPM quote CBOR: %zu PCR values, at most %d", q->num_pcrs, ATLS_TPM2_MAX_PCRS);
    const atls_tpm2_pcr_value **sorted = calloc(q->num_pcrs + 1, sizeof(*sorted));
    ATLS_ENSURE(sorted != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    size_t banks = 0;
    for (size_t i = 0; i < q->num_pcrs; i++) {
        sorted[i] = &q->pcrs[i];
    }
    qsort(sorted, q->num_pcrs, sizeof(*sorted), pcr_order);
    atls_error rc = ATLS_OK;
    for (size_t i = 0; i < q->num_pcrs; i++) {
        if (i > 0 && pcr_order(&sorted[i - 1], &sorted[i]) == 0) {
            rc = atls_error_raise(ATLS_ERR_USAGE, __FILE__, __LINE__,
                                  "TPM quote CBOR: PCR 0x%04x:%u supplied twice", sorted[i]->alg,
                                  sorted[i]->index);
            goto done;
        }
        banks += i == 0 || sorted[i - 1]->alg != sorted[i]->alg;
    }
    bool ok = atls_cbor_put_tstr(w, "pcrs") && atls_cbor_put_map(w, banks);
    for (size_t i = 0; ok && i < q->num_pcrs;) {
        size_t end = i;
        while (end < q->num_pcrs && sorted[end]->alg == sorted[i]->alg) {
            end++;
        }
        ok = atls_cbor_put_uint(w, sorted[i]->alg) && atls_cbor_put_map(w, end - i);
        for (; ok && i < end; i++) {
            ok = atls_cbor_put_uint(w, sorted[i]->index) &&
                 atls_cbor_put_bstr(w, sorted[i]->digest, sorted[i]->digest_len);
        }
    }
    (void)ok; /* the writer's failure is sticky: the caller's finish reports it */
done:
    free(sorted);
    return rc;
}

atls_error atls_tpm2_quote_encode(const atls_tpm2_quote *q, uint8_t **out, size_t *out_len)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    /* Keys in RFC 8949 section 4.2.1 order (shorter encodings first, then bytewise). */
    bool ok = atls_cbor_put_map(&w, q->ak_cert.len > 0 ? 5 : 4) &&
              put_entry(&w, "ak", &q->ak_public) && put_entry(&w, "sig", &q->sig);
    atls_error rc = put_pcrs(&w, q);
    if (rc == ATLS_OK) {
        if (q->ak_cert.len > 0) {
            ok = ok && put_entry(&w, "akcert", &q->ak_cert);
        }
        ok = ok && put_entry(&w, "attest", &q->attest);
        (void)ok; /* the writer's failure is sticky: finish reports it */
        rc = atls_writer_finish(&w, out, out_len);
    }
    atls_writer_cleanup(&w);
    return rc;
}

/* ---- decoder ---- */

/* in_member re-raises a failure that happened inside |what|, so that the one-line message
 * says where: "pcrs: sha256: PCR 7: ...". */
static atls_error in_member(atls_error rc, const char *what)
{
    if (rc != ATLS_OK) {
        char inner[400];
        snprintf(inner, sizeof(inner), "%s", atls_error_message());
        rc = atls_error_raise(rc, __FILE__, __LINE__, "%s: %s", what, inner);
    }
    return rc;
}

static atls_error get_bstr(atls_cursor *c, size_t max, atls_buf *out)
{
    atls_cursor v;
    ATLS_GUARD(atls_cbor_read_bstr(c, &v));
    ATLS_ENSURE(atls_cursor_remaining(&v) > 0, ATLS_ERR_DECODE_LENGTH, "empty byte string");
    ATLS_ENSURE(atls_cursor_remaining(&v) <= max, ATLS_ERR_DECODE_TOO_LARGE,
                "%zu bytes, at most %zu", atls_cursor_remaining(&v), max);
    return atls_buf_set(out, atls_cursor_data(&v), atls_cursor_remaining(&v));
}

/* get_uint_key reads a map key that must be an unsigned integer at most |max|. */
static atls_error get_uint_key(atls_cursor *c, atls_cbor_map_iter *it, const char *what,
                               uint64_t max, uint64_t *out)
{
    atls_cbor_key k;
    ATLS_GUARD(atls_cbor_map_next_key(c, it, &k));
    ATLS_ENSURE(!k.is_text, ATLS_ERR_DECODE_TYPE, "%s must be an unsigned integer, found text",
                what);
    ATLS_ENSURE(k.num >= 0 && (uint64_t)k.num <= max, ATLS_ERR_DECODE_VALUE,
                "%s %lld out of range 0..%llu", what, (long long)k.num, (unsigned long long)max);
    *out = (uint64_t)k.num;
    return ATLS_OK;
}

/* get_bank reads one { pcr-index => digest } map of bank |alg| into q->pcrs. */
static atls_error get_bank(atls_cursor *c, uint16_t alg, atls_tpm2_quote *q)
{
    size_t dsize = atls_tpm2_hash_size(alg);
    atls_cbor_map_iter it;
    ATLS_GUARD(atls_cbor_map_begin(c, &it));
    ATLS_ENSURE(it.count > 0, ATLS_ERR_DECODE_LENGTH, "bank with no PCR (leave the bank out)");
    ATLS_ENSURE(it.count <= PCRS_PER_BANK, ATLS_ERR_DECODE_TOO_LARGE,
                "%zu PCRs, at most %d", it.count, PCRS_PER_BANK);
    atls_tpm2_pcr_value *grown = realloc(q->pcrs, (q->num_pcrs + it.count) * sizeof(*grown));
    ATLS_ENSURE(grown != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    q->pcrs = grown;
    while (atls_cbor_map_has_next(&it)) {
        uint64_t index = 0; /* set by get_uint_key; -O3 cannot see it */
        atls_cursor d;
        ATLS_GUARD(get_uint_key(c, &it, "PCR index", PCRS_PER_BANK - 1, &index));
        char where[16];
        snprintf(where, sizeof(where), "PCR %u", (unsigned)index);
        ATLS_GUARD(in_member(atls_cbor_read_bstr(c, &d), where));
        ATLS_ENSURE(atls_cursor_remaining(&d) == dsize, ATLS_ERR_DECODE_LENGTH,
                    "PCR %u: value has %zu bytes, the bank's digest has %zu", (unsigned)index,
                    atls_cursor_remaining(&d), dsize);
        atls_tpm2_pcr_value *v = &q->pcrs[q->num_pcrs++];
        memset(v, 0, sizeof(*v));
        v->alg = alg;
        v->index = (uint8_t)index;
        v->digest_len = (uint8_t)dsize;
        memcpy(v->digest, atls_cursor_data(&d), dsize);
    }
    return ATLS_OK;
}

/* get_pcrs reads "pcrs" = { hash alg => bank }; only the banks atls can hash are accepted. */
static atls_error get_pcrs(atls_cursor *c, atls_tpm2_quote *q)
{
    atls_cbor_map_iter it;
    ATLS_GUARD(atls_cbor_map_begin(c, &it));
    ATLS_ENSURE(it.count <= ATLS_TPM2_MAX_BANKS, ATLS_ERR_DECODE_TOO_LARGE,
                "%zu banks, at most %d", it.count, ATLS_TPM2_MAX_BANKS);
    while (atls_cbor_map_has_next(&it)) {
        uint64_t alg = 0; /* set by get_uint_key; -O3 cannot see it */
        ATLS_GUARD(get_uint_key(c, &it, "bank hash algorithm", 0xffff, &alg));
        const char *name = atls_tpm2_hash_name((uint16_t)alg);
        ATLS_ENSURE(name != NULL, ATLS_ERR_DECODE_VALUE,
                    "bank hash algorithm 0x%04x is not sha1 (4), sha256 (11), sha384 (12) or "
                    "sha512 (13)",
                    (unsigned)alg);
        ATLS_GUARD(in_member(get_bank(c, (uint16_t)alg, q), name));
    }
    return ATLS_OK;
}

/* key_text names an unknown key for the error message (printable ASCII, or its number). */
static void key_text(const atls_cbor_key *k, char *out, size_t n)
{
    if (!k->is_text) {
        snprintf(out, n, "%lld", (long long)k->num);
        return;
    }
    size_t len = atls_cursor_remaining(&k->text), j = 0;
    const uint8_t *p = atls_cursor_data(&k->text);
    out[j++] = '"';
    for (size_t i = 0; i < len && j + 2 < n; i++) {
        out[j++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    }
    out[j++] = '"';
    out[j] = '\0';
}

static atls_error decode_map(atls_cursor *c, atls_tpm2_quote *q)
{
    atls_cbor_map_iter it;
    int have_attest = 0, have_sig = 0, have_ak = 0, have_pcrs = 0;
    ATLS_GUARD(atls_cbor_map_begin(c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(c, &it, &k));
        if (atls_cbor_key_is_text(&k, "attest")) {
            ATLS_GUARD(in_member(get_bstr(c, ATLS_TPM2_MAX_STRUCT, &q->attest), "attest"));
            have_attest = 1;
        } else if (atls_cbor_key_is_text(&k, "sig")) {
            ATLS_GUARD(in_member(get_bstr(c, ATLS_TPM2_MAX_STRUCT, &q->sig), "sig"));
            have_sig = 1;
        } else if (atls_cbor_key_is_text(&k, "ak")) {
            ATLS_GUARD(in_member(get_bstr(c, ATLS_TPM2_MAX_STRUCT, &q->ak_public), "ak"));
            have_ak = 1;
        } else if (atls_cbor_key_is_text(&k, "akcert")) {
            ATLS_GUARD(in_member(get_bstr(c, MAX_CERT, &q->ak_cert), "akcert"));
        } else if (atls_cbor_key_is_text(&k, "pcrs")) {
            ATLS_GUARD(in_member(get_pcrs(c, q), "pcrs"));
            have_pcrs = 1;
        } else {
            char name[72];
            key_text(&k, name, sizeof(name));
            ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "unknown key %s", name);
        }
    }
    ATLS_ENSURE(have_attest && have_sig && have_ak && have_pcrs, ATLS_ERR_DECODE_VALUE,
                "missing \"%s\"",
                !have_attest ? "attest" : !have_sig ? "sig" : !have_ak ? "ak" : "pcrs");
    return ATLS_OK;
}

static atls_error decode(const uint8_t *data, size_t len, atls_tpm2_quote *q)
{
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    ATLS_GUARD(decode_map(&c, q));
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING, "%zu trailing bytes",
                atls_cursor_remaining(&c));
    /* One byte form per quote (docs/EVIDENCE.md): what is left to find once the structure is
     * right is a key order or a non-shortest head. */
    atls_cursor whole;
    atls_cursor_init(&whole, data, len);
    ATLS_GUARD(in_member(atls_cbor_check_deterministic(&whole),
                         "not in deterministic encoding (RFC 8949 section 4.2.1)"));
    return ATLS_OK;
}

atls_error atls_tpm2_quote_decode(const uint8_t *data, size_t len, atls_tpm2_quote *q)
{
    memset(q, 0, sizeof(*q));
    return in_member(decode(data, len, q), "TPM quote CBOR");
}
