/* test_tpm2_cbor: the application/vnd.atls.tpm2-quote+cbor map (docs/EVIDENCE.md, CDDL
 * `tpm2-quote`). The encoder writes "pcrs" as { alg => { index => value } } in deterministic
 * order whatever order the quote holds its values in; the decoder refuses every other shape,
 * each malformation with its own code and a message naming where it is. Maps are built here
 * byte by byte with the CBOR writer, so each case breaks exactly one rule. */
#include "evidence/tpm2/tpm2.h"

#include "base/writer.h"
#include "check.h"
#include "codec/cbor/cbor.h"
#include "tpm2_fake.h"

#include <stdlib.h>
#include <string.h>

/* One top-level member: its key and the encoded value. */
typedef struct member {
    const char *key;
    const uint8_t *raw;
    size_t len;
} member;

typedef struct encoded {
    uint8_t *data;
    size_t len;
} encoded;

static encoded finish(atls_writer *w)
{
    encoded e = {NULL, 0};
    CHECK_OK(atls_writer_finish(w, &e.data, &e.len));
    atls_writer_cleanup(w);
    return e;
}

static encoded bstr_of(const atls_buf *b)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_bstr(&w, b->data, b->len));
    return finish(&w);
}

/* map_of writes { key => raw ... } in the order given (no sorting: the cases choose it). */
static encoded map_of(const member *m, size_t n)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, n));
    for (size_t i = 0; i < n; i++) {
        CHECK(atls_cbor_put_tstr(&w, m[i].key) && atls_cbor_put_raw(&w, m[i].raw, m[i].len));
    }
    return finish(&w);
}

/* The parts of one signed fake quote, each encoded as a bstr. */
typedef struct parts {
    atls_tpm2_quote q;
    encoded ak, sig, attest;
    uint8_t challenge[64];
} parts;

static void parts_make(parts *p, const char *pcr_spec)
{
    EVP_PKEY *key = fake_key();
    memset(p, 0, sizeof(*p));
    memset(p->challenge, 0x5c, sizeof(p->challenge));
    fake_opts fo = {.extra = p->challenge, .extra_len = 64, .pcr_spec = pcr_spec};
    CHECK(fake_quote(key, &fo, &p->q) == 0);
    EVP_PKEY_free(key);
    p->ak = bstr_of(&p->q.ak_public);
    p->sig = bstr_of(&p->q.sig);
    p->attest = bstr_of(&p->q.attest);
}

static void parts_free(parts *p)
{
    free(p->ak.data);
    free(p->sig.data);
    free(p->attest.data);
    atls_tpm2_quote_cleanup(&p->q);
}

/* with_pcrs: the whole map in deterministic key order with |pcrs| as the "pcrs" value. */
static encoded with_pcrs(const parts *p, const encoded *pcrs)
{
    member m[] = {{"ak", p->ak.data, p->ak.len},
                  {"sig", p->sig.data, p->sig.len},
                  {"pcrs", pcrs->data, pcrs->len},
                  {"attest", p->attest.data, p->attest.len}};
    return map_of(m, 4);
}

/* expect_refused: decoding |e| fails with |code| and a message containing |needle|. */
static void expect_refused(encoded e, atls_error code, const char *needle, const char *what)
{
    atls_tpm2_quote q;
    atls_error rc = atls_tpm2_quote_decode(e.data, e.len, &q);
    atls_tpm2_quote_cleanup(&q);
    int ok = rc == code && strstr(atls_error_message(), needle) != NULL &&
             strncmp(atls_error_message(), "TPM quote CBOR: ", 16) == 0;
    char detail[700];
    snprintf(detail, sizeof(detail), "want %d containing \"%s\", got %d: %s", (int)code, needle,
             (int)rc, atls_error_message());
    check_report(ok, __FILE__, __LINE__, what, detail);
    free(e.data);
}

/* A bank writer for the cases: { alg => { index => value } } with explicit choices. */
static void put_value(atls_writer *w, size_t len, uint8_t fill)
{
    uint8_t v[64];
    memset(v, fill, sizeof(v));
    CHECK(atls_cbor_put_bstr(w, v, len));
}

/* pcrs_sha256: {11: {i => 32 bytes}} for the given indices, in the order given. */
static encoded pcrs_sha256(const unsigned *idx, size_t n)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, ATLS_TPM2_ALG_SHA256) &&
          atls_cbor_put_map(&w, n));
    for (size_t i = 0; i < n; i++) {
        CHECK(atls_cbor_put_uint(&w, idx[i]));
        put_value(&w, 32, (uint8_t)idx[i]);
    }
    return finish(&w);
}

static void test_encoding_shape(void)
{
    /* the attester's selection order (sha256 bank first) is not the encoding's order */
    parts p;
    parts_make(&p, "sha256:0,23+sha1:7");
    CHECK(p.q.num_pcrs == 3 && p.q.pcrs[0].alg == ATLS_TPM2_ALG_SHA256);
    uint8_t *enc = NULL;
    size_t len = 0;
    CHECK_OK(atls_tpm2_quote_encode(&p.q, &enc, &len));
    atls_cursor c;
    atls_cursor_init(&c, enc, len);
    CHECK_OK(atls_cbor_check_deterministic(&c));
    /* walk the map: ak, sig, pcrs = {4: {7: h20}, 11: {0: h32, 23: h32}}, attest */
    size_t n = 0;
    atls_cursor v;
    CHECK_OK(atls_cbor_read_map(&c, &n));
    CHECK(n == 4);
    CHECK_OK(atls_cbor_read_tstr(&c, &v));
    CHECK(atls_cbor_tstr_equals(&v, "ak"));
    CHECK_OK(atls_cbor_skip(&c));
    CHECK_OK(atls_cbor_read_tstr(&c, &v));
    CHECK(atls_cbor_tstr_equals(&v, "sig"));
    CHECK_OK(atls_cbor_skip(&c));
    CHECK_OK(atls_cbor_read_tstr(&c, &v));
    CHECK(atls_cbor_tstr_equals(&v, "pcrs"));
    uint64_t u = 0;
    CHECK_OK(atls_cbor_read_map(&c, &n));
    CHECK(n == 2);
    CHECK_OK(atls_cbor_read_uint(&c, &u));
    CHECK(u == ATLS_TPM2_ALG_SHA1);
    CHECK_OK(atls_cbor_read_map(&c, &n));
    CHECK(n == 1);
    CHECK_OK(atls_cbor_read_uint(&c, &u));
    CHECK(u == 7);
    CHECK_OK(atls_cbor_read_bstr(&c, &v));
    CHECK(atls_cursor_remaining(&v) == 20);
    CHECK_OK(atls_cbor_read_uint(&c, &u));
    CHECK(u == ATLS_TPM2_ALG_SHA256);
    CHECK_OK(atls_cbor_read_map(&c, &n));
    CHECK(n == 2);
    CHECK_OK(atls_cbor_read_uint(&c, &u));
    CHECK(u == 0);
    CHECK_OK(atls_cbor_read_bstr(&c, &v));
    CHECK_OK(atls_cbor_read_uint(&c, &u));
    CHECK(u == 23);
    CHECK_OK(atls_cbor_read_bstr(&c, &v));
    CHECK(atls_cursor_remaining(&v) == 32);
    CHECK_OK(atls_cbor_read_tstr(&c, &v));
    CHECK(atls_cbor_tstr_equals(&v, "attest"));

    /* decode gives the values by (alg, index); they still verify; encode(decode(x)) == x */
    atls_tpm2_quote back;
    CHECK_OK(atls_tpm2_quote_decode(enc, len, &back));
    CHECK(back.num_pcrs == 3 && back.pcrs[0].alg == ATLS_TPM2_ALG_SHA1 &&
          back.pcrs[0].index == 7 && back.pcrs[2].index == 23);
    atls_tpm2_verify_opts o = {.challenge = p.challenge, .challenge_len = 64};
    CHECK_OK(atls_tpm2_verify_quote(&back, &o, NULL));
    uint8_t *again = NULL;
    size_t again_len = 0;
    CHECK_OK(atls_tpm2_quote_encode(&back, &again, &again_len));
    CHECK(again_len == len && memcmp(again, enc, len) == 0);
    free(again);
    atls_tpm2_quote_cleanup(&back);

    /* an AK certificate goes between "pcrs" and "attest" ("akcert" < "attest" bytewise) */
    static const uint8_t cert[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    CHECK_OK(atls_buf_set(&p.q.ak_cert, cert, sizeof(cert)));
    free(enc);
    CHECK_OK(atls_tpm2_quote_encode(&p.q, &enc, &len));
    atls_cursor_init(&c, enc, len);
    CHECK_OK(atls_cbor_check_deterministic(&c));
    CHECK_OK(atls_tpm2_quote_decode(enc, len, &back));
    CHECK(back.ak_cert.len == sizeof(cert));
    atls_tpm2_quote_cleanup(&back);
    free(enc);

    /* a PCR held twice cannot be encoded */
    p.q.pcrs[2] = p.q.pcrs[0];
    CHECK_ERR(atls_tpm2_quote_encode(&p.q, &enc, &len), ATLS_ERR_USAGE);
    parts_free(&p);
}

static void test_pcrs_refused(void)
{
    parts p;
    parts_make(&p, "sha256:0,1");
    static const unsigned ok_idx[] = {0, 1};
    encoded good_pcrs = pcrs_sha256(ok_idx, 2);
    encoded good = with_pcrs(&p, &good_pcrs);
    atls_tpm2_quote q;
    CHECK_OK(atls_tpm2_quote_decode(good.data, good.len, &q));
    atls_tpm2_verify_opts o = {.challenge = p.challenge, .challenge_len = 64};
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));
    atls_tpm2_quote_cleanup(&q);
    free(good.data);
    free(good_pcrs.data);

    atls_writer w;
    encoded e;

    /* the shape atls wrote before: an array of [alg, index, value] triples */
    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_array(&w, 2));
    for (unsigned i = 0; i < 2; i++) {
        CHECK(atls_cbor_put_array(&w, 3) && atls_cbor_put_uint(&w, ATLS_TPM2_ALG_SHA256) &&
              atls_cbor_put_uint(&w, i));
        put_value(&w, 32, (uint8_t)i);
    }
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_TYPE, "pcrs: CBOR: expected map",
                   "array of triples");
    free(e.data);

    /* bank keys */
    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_tstr(&w, "sha256") &&
          atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, 0));
    put_value(&w, 32, 0);
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_TYPE,
                   "pcrs: bank hash algorithm must be an unsigned integer", "bank named by text");
    free(e.data);

    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, 0x0012) &&
          atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, 0));
    put_value(&w, 32, 0);
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_VALUE,
                   "pcrs: bank hash algorithm 0x0012 is not", "SM3 bank");
    free(e.data);

    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_nint(&w, 10) && atls_cbor_put_map(&w, 1) &&
          atls_cbor_put_uint(&w, 0));
    put_value(&w, 32, 0);
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_VALUE,
                   "pcrs: bank hash algorithm -11 out of range 0..65535", "negative bank");
    free(e.data);

    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, 0x10000) &&
          atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, 0));
    put_value(&w, 32, 0);
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_VALUE, "out of range 0..65535",
                   "bank id wider than TPM_ALG_ID");
    free(e.data);

    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 2) && atls_cbor_put_uint(&w, ATLS_TPM2_ALG_SHA256) &&
          atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, 0));
    put_value(&w, 32, 0);
    CHECK(atls_cbor_put_uint(&w, ATLS_TPM2_ALG_SHA256) && atls_cbor_put_map(&w, 1) &&
          atls_cbor_put_uint(&w, 1));
    put_value(&w, 32, 1);
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_VALUE, "pcrs: CBOR: duplicate map key 11",
                   "bank twice");
    free(e.data);

    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, ATLS_TPM2_ALG_SHA256) &&
          atls_cbor_put_map(&w, 0));
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_LENGTH, "pcrs: sha256: bank with no PCR",
                   "empty bank");
    free(e.data);

    /* 17 banks (more than any selection holds): refused before any is read */
    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 17));
    for (unsigned i = 0; i < 17; i++) {
        CHECK(atls_cbor_put_uint(&w, i) && atls_cbor_put_map(&w, 0));
    }
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_TOO_LARGE, "pcrs: 17 banks, at most 16",
                   "17 banks");
    free(e.data);

    /* PCR keys and values */
    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, ATLS_TPM2_ALG_SHA256) &&
          atls_cbor_put_map(&w, 33));
    for (unsigned i = 0; i < 33; i++) {
        CHECK(atls_cbor_put_uint(&w, i));
        put_value(&w, 32, 0);
    }
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_TOO_LARGE, "pcrs: sha256: 33 PCRs, at most 32",
                   "33 PCRs in a bank");
    free(e.data);

    static const unsigned idx32[] = {0, 32};
    e = pcrs_sha256(idx32, 2);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_VALUE,
                   "pcrs: sha256: PCR index 32 out of range 0..31", "PCR 32");
    free(e.data);

    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, ATLS_TPM2_ALG_SHA256) &&
          atls_cbor_put_map(&w, 1) && atls_cbor_put_tstr(&w, "0"));
    put_value(&w, 32, 0);
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_TYPE,
                   "pcrs: sha256: PCR index must be an unsigned integer", "PCR named by text");
    free(e.data);

    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, ATLS_TPM2_ALG_SHA256) &&
          atls_cbor_put_map(&w, 2) && atls_cbor_put_uint(&w, 0));
    put_value(&w, 20, 0);
    CHECK(atls_cbor_put_uint(&w, 1));
    put_value(&w, 32, 1);
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_LENGTH,
                   "pcrs: sha256: PCR 0: value has 20 bytes, the bank's digest has 32",
                   "SHA-1-sized value in the sha256 bank");
    free(e.data);

    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, ATLS_TPM2_ALG_SHA256) &&
          atls_cbor_put_map(&w, 1) && atls_cbor_put_uint(&w, 0) && atls_cbor_put_tstr(&w, "00"));
    e = finish(&w);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_TYPE,
                   "pcrs: sha256: PCR 0: CBOR: expected byte string", "PCR value as text");
    free(e.data);

    static const unsigned twice[] = {0, 0};
    e = pcrs_sha256(twice, 2);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_VALUE,
                   "pcrs: sha256: CBOR: duplicate map key 0", "PCR twice");
    free(e.data);

    /* well-formed, but not the one byte form: reversed PCR order, a long integer head */
    static const unsigned reversed[] = {1, 0};
    e = pcrs_sha256(reversed, 2);
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_VALUE,
                   "not in deterministic encoding (RFC 8949 section 4.2.1): CBOR: map keys",
                   "PCRs in descending order");
    free(e.data);

    e = pcrs_sha256(ok_idx, 2);
    CHECK(e.len > 3 && e.data[1] == ATLS_TPM2_ALG_SHA256);
    uint8_t *longer = malloc(e.len + 1);
    longer[0] = e.data[0];
    longer[1] = 0x18; /* 11 as a one-byte argument: valid CBOR, not preferred */
    memcpy(longer + 2, e.data + 1, e.len - 1);
    free(e.data);
    e.data = longer;
    e.len++;
    expect_refused(with_pcrs(&p, &e), ATLS_ERR_DECODE_VALUE,
                   "not in deterministic encoding (RFC 8949 section 4.2.1): CBOR: unsigned",
                   "bank id in a longer head than needed");
    free(e.data);

    /* an empty "pcrs" decodes (a quote may select no PCR) but does not fit this quote */
    atls_writer_init(&w, 0);
    CHECK(atls_cbor_put_map(&w, 0));
    e = finish(&w);
    encoded none = with_pcrs(&p, &e);
    CHECK_OK(atls_tpm2_quote_decode(none.data, none.len, &q));
    CHECK(q.num_pcrs == 0);
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    atls_tpm2_quote_cleanup(&q);
    free(none.data);
    free(e.data);
    parts_free(&p);
}

static void test_members_refused(void)
{
    parts p;
    parts_make(&p, "sha256:0,1");
    static const unsigned ok_idx[] = {0, 1};
    encoded pcrs = pcrs_sha256(ok_idx, 2);
    static const uint8_t empty_bstr[] = {0x40};
    static const uint8_t text[] = {0x61, 'x'};
    uint8_t *big = calloc(1, 16 * 1024 + 1);
    atls_buf big_buf = {big, 16 * 1024 + 1};
    encoded big_cert = bstr_of(&big_buf);

    member order[] = {{"attest", p.attest.data, p.attest.len},
                      {"ak", p.ak.data, p.ak.len},
                      {"sig", p.sig.data, p.sig.len},
                      {"pcrs", pcrs.data, pcrs.len}};
    expect_refused(map_of(order, 4), ATLS_ERR_DECODE_VALUE, "not in deterministic encoding",
                   "\"attest\" first");

    member no_pcrs[] = {{"ak", p.ak.data, p.ak.len},
                        {"sig", p.sig.data, p.sig.len},
                        {"attest", p.attest.data, p.attest.len}};
    expect_refused(map_of(no_pcrs, 3), ATLS_ERR_DECODE_VALUE, "missing \"pcrs\"", "no pcrs");

    member no_sig[] = {{"ak", p.ak.data, p.ak.len},
                       {"pcrs", pcrs.data, pcrs.len},
                       {"attest", p.attest.data, p.attest.len}};
    expect_refused(map_of(no_sig, 3), ATLS_ERR_DECODE_VALUE, "missing \"sig\"", "no sig");

    member extra[] = {{"ak", p.ak.data, p.ak.len},
                      {"sig", p.sig.data, p.sig.len},
                      {"pcrs", pcrs.data, pcrs.len},
                      {"attest", p.attest.data, p.attest.len},
                      {"eventlog", empty_bstr, 1}};
    expect_refused(map_of(extra, 5), ATLS_ERR_DECODE_VALUE, "unknown key \"eventlog\"",
                   "unknown member");

    member empty_attest[] = {{"ak", p.ak.data, p.ak.len},
                             {"sig", p.sig.data, p.sig.len},
                             {"pcrs", pcrs.data, pcrs.len},
                             {"attest", empty_bstr, 1}};
    expect_refused(map_of(empty_attest, 4), ATLS_ERR_DECODE_LENGTH, "attest: empty byte string",
                   "empty attest");

    member text_sig[] = {{"ak", p.ak.data, p.ak.len},
                         {"sig", text, sizeof(text)},
                         {"pcrs", pcrs.data, pcrs.len},
                         {"attest", p.attest.data, p.attest.len}};
    expect_refused(map_of(text_sig, 4), ATLS_ERR_DECODE_TYPE, "sig: CBOR: expected byte string",
                   "sig as text");

    member empty_cert[] = {{"ak", p.ak.data, p.ak.len},
                           {"sig", p.sig.data, p.sig.len},
                           {"pcrs", pcrs.data, pcrs.len},
                           {"akcert", empty_bstr, 1},
                           {"attest", p.attest.data, p.attest.len}};
    expect_refused(map_of(empty_cert, 5), ATLS_ERR_DECODE_LENGTH, "akcert: empty byte string",
                   "empty akcert (absent is written by leaving it out)");

    member huge_cert[] = {{"ak", p.ak.data, p.ak.len},
                          {"sig", p.sig.data, p.sig.len},
                          {"pcrs", pcrs.data, pcrs.len},
                          {"akcert", big_cert.data, big_cert.len},
                          {"attest", p.attest.data, p.attest.len}};
    expect_refused(map_of(huge_cert, 5), ATLS_ERR_DECODE_TOO_LARGE,
                   "akcert: 16385 bytes, at most 16384", "akcert over 16 KiB");

    static const uint8_t not_a_map[] = {0x80};
    expect_refused((encoded){memcpy(malloc(1), not_a_map, 1), 1}, ATLS_ERR_DECODE_TYPE,
                   "CBOR: expected map", "an array");

    free(big_cert.data);
    free(big);
    free(pcrs.data);
    parts_free(&p);
}

int main(void)
{
    test_encoding_shape();
    test_pcrs_refused();
    test_members_refused();
    return check_summary();
}
