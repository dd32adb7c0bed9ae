/* sign1.c: COSE_Sign1 parse, verify and sign (RFC 9052 sections 3, 4.2 and 4.4). */
#include "codec/cose/cose.h"
#include "codec/cose/curves.h"

#include "base/mem.h"
#include "base/result.h"
#include "base/writer.h"
#include "codec/cbor/cbor.h"

#include <stdlib.h>
#include <string.h>

/* handle_header reads the value of header label |k| (RFC 9052 section 3.1). */
static atls_error handle_header(atls_cursor *c, const atls_cbor_key *k, bool is_protected,
                                atls_cose_sign1 *out)
{
    if (atls_cbor_key_is_int(k, ATLS_COSE_HDR_ALG)) {
        ATLS_ENSURE(is_protected, ATLS_ERR_DECODE_VALUE,
                    "COSE_Sign1: alg must be in the protected header");
        atls_cbor_type t;
        ATLS_GUARD(atls_cbor_peek_type(c, &t));
        ATLS_ENSURE(t != ATLS_CBOR_TSTR, ATLS_ERR_USAGE_UNSUPPORTED,
                    "COSE_Sign1: text algorithm names are not supported");
        ATLS_GUARD(atls_cbor_read_int64(c, &out->alg));
        ATLS_ENSURE(atls_cose_curve_by_alg(out->alg) != NULL, ATLS_ERR_USAGE_UNSUPPORTED,
                    "COSE_Sign1: algorithm %lld is not ES256, ES384 or ES512",
                    (long long)out->alg);
        return ATLS_OK;
    }
    if (atls_cbor_key_is_int(k, ATLS_COSE_HDR_CRIT)) {
        /* RFC 9052 section 3.1: a recipient must reject critical labels it does not
         * understand; atls implements none, so any crit header is refused. */
        ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "COSE_Sign1: critical header parameters (crit) are "
                                          "not supported");
    }
    if (atls_cbor_key_is_int(k, ATLS_COSE_HDR_CONTENT_TYPE)) {
        atls_cbor_type t;
        ATLS_GUARD(atls_cbor_peek_type(c, &t));
        out->has_content_type = true;
        if (t == ATLS_CBOR_TSTR) {
            out->content_type_is_text = true;
            return atls_cbor_read_tstr(c, &out->content_type);
        }
        uint64_t cf;
        ATLS_GUARD(atls_cbor_read_uint(c, &cf));
        ATLS_ENSURE(cf <= 0xffff, ATLS_ERR_DECODE_VALUE,
                    "COSE_Sign1: content type %llu is not a content-format",
                    (unsigned long long)cf);
        out->content_type_cf = (int64_t)cf;
        return ATLS_OK;
    }
    if (atls_cbor_key_is_int(k, ATLS_COSE_HDR_KID)) {
        out->has_kid = true;
        return atls_cbor_read_bstr(c, &out->kid);
    }
    return atls_cbor_skip(c);
}

atls_error atls_cose_sign1_parse(const uint8_t *data, size_t len, unsigned flags,
                                 atls_cose_sign1 *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(len <= ATLS_COSE_MAX_SIZE, ATLS_ERR_DECODE_TOO_LARGE,
                "COSE_Sign1: %zu bytes exceed the %u-byte ceiling", len, ATLS_COSE_MAX_SIZE);
    atls_cose_sign1 m;
    memset(&m, 0, sizeof(m));
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    atls_cbor_type t;
    ATLS_GUARD(atls_cbor_peek_type(&c, &t));
    if (t == ATLS_CBOR_TAG) {
        uint64_t tag;
        ATLS_GUARD(atls_cbor_read_tag(&c, &tag));
        ATLS_ENSURE(tag == ATLS_COSE_TAG_SIGN1, ATLS_ERR_DECODE_TYPE,
                    "COSE_Sign1: tag %llu is not COSE_Sign1 (18)", (unsigned long long)tag);
        ATLS_ENSURE(!(flags & ATLS_COSE_FORBID_TAG), ATLS_ERR_DECODE_TYPE,
                    "COSE_Sign1: tag 18 present where an untagged message is required");
        m.tagged = true;
    } else {
        ATLS_ENSURE(!(flags & ATLS_COSE_REQUIRE_TAG), ATLS_ERR_DECODE_TYPE,
                    "COSE_Sign1: tag 18 missing");
    }
    /* COSE_Sign1 = [ protected: bstr .cbor header_map / bstr .size 0, unprotected: header_map,
     *               payload: bstr / nil, signature: bstr ] */
    size_t n;
    ATLS_GUARD(atls_cbor_read_array(&c, &n));
    ATLS_ENSURE(n == 4, ATLS_ERR_DECODE_LENGTH, "COSE_Sign1: array of %zu elements, expected 4",
                n);

    ATLS_GUARD(atls_cbor_read_bstr(&c, &m.protected_hdr));
    atls_cbor_key prot_keys[ATLS_CBOR_MAP_MAX_ENTRIES];
    size_t num_prot = 0;
    if (!atls_cursor_is_empty(&m.protected_hdr)) { /* empty bstr = empty map (section 3) */
        atls_cursor p = m.protected_hdr;
        atls_cbor_map_iter it;
        ATLS_GUARD(atls_cbor_map_begin(&p, &it));
        while (atls_cbor_map_has_next(&it)) {
            atls_cbor_key k;
            ATLS_GUARD(atls_cbor_map_next_key(&p, &it, &k));
            ATLS_GUARD(handle_header(&p, &k, true, &m));
            prot_keys[num_prot++] = k;
        }
        ATLS_ENSURE(atls_cursor_is_empty(&p), ATLS_ERR_DECODE_TRAILING,
                    "COSE_Sign1: %zu bytes after the protected header map",
                    atls_cursor_remaining(&p));
    }
    ATLS_ENSURE(m.alg != 0, ATLS_ERR_DECODE_VALUE,
                "COSE_Sign1: protected header has no algorithm (label 1)");

    atls_cursor u;
    ATLS_GUARD(atls_cbor_get_item_bytes(&c, &u));
    m.unprotected = u;
    atls_cbor_map_iter uit;
    ATLS_GUARD(atls_cbor_map_begin(&u, &uit));
    while (atls_cbor_map_has_next(&uit)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(&u, &uit, &k));
        for (size_t i = 0; i < num_prot; i++) {
            /* RFC 9052 section 3: a label must not occur in both buckets */
            ATLS_ENSURE(!atls_cbor_key_equals(&prot_keys[i], &k), ATLS_ERR_DECODE_VALUE,
                        "COSE_Sign1: a header label is in both the protected and unprotected "
                        "header");
        }
        ATLS_GUARD(handle_header(&u, &k, false, &m));
    }

    ATLS_GUARD(atls_cbor_peek_type(&c, &t));
    if (t == ATLS_CBOR_NULL) {
        ATLS_ENSURE(flags & ATLS_COSE_ALLOW_DETACHED, ATLS_ERR_DECODE_VALUE,
                    "COSE_Sign1: detached payload (nil) not allowed here");
        ATLS_GUARD(atls_cbor_read_null(&c));
        m.detached = true;
    } else {
        ATLS_GUARD(atls_cbor_read_bstr(&c, &m.payload));
    }
    ATLS_GUARD(atls_cbor_read_bstr(&c, &m.signature));
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "COSE_Sign1: %zu bytes after the message", atls_cursor_remaining(&c));
    *out = m;
    return ATLS_OK;
}

/* sig_structure: RFC 9052 section 4.4:
 * Sig_structure = [ context: "Signature1", body_protected: bstr, external_aad: bstr,
 *                   payload: bstr ], encoded with definite lengths (section 9). */
static atls_error sig_structure(const uint8_t *prot, size_t prot_len, const uint8_t *aad,
                                size_t aad_len, const uint8_t *payload, size_t payload_len,
                                uint8_t **out, size_t *out_len)
{
    ATLS_ENSURE(aad != NULL || aad_len == 0, ATLS_ERR_USAGE, "COSE: NULL external AAD");
    atls_writer w;
    atls_writer_init(&w, 0);
    bool ok = atls_cbor_put_array(&w, 4) && atls_cbor_put_tstr(&w, "Signature1") &&
              atls_cbor_put_bstr(&w, prot, prot_len) && atls_cbor_put_bstr(&w, aad, aad_len) &&
              atls_cbor_put_bstr(&w, payload, payload_len);
    (void)ok; /* a failed put is sticky and reported by finish */
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

atls_error atls_cose_sign1_verify(const atls_cose_sign1 *msg, EVP_PKEY *key,
                                  const uint8_t *external_aad, size_t aad_len)
{
    const atls_cose_curve *want = atls_cose_curve_by_alg(msg->alg);
    ATLS_ENSURE(want != NULL, ATLS_ERR_USAGE_UNSUPPORTED, "COSE_Sign1: algorithm %lld unsupported",
                (long long)msg->alg);
    const atls_cose_curve *have;
    ATLS_GUARD(atls_cose_curve_of_key(key, &have));
    ATLS_ENSURE(have == want, ATLS_ERR_CRYPTO_KEY,
                "COSE_Sign1: %s signature but the key is on %s", want->alg_name, have->group);
    /* RFC 9053 section 2.1: the signature is r || s, each the coordinate size */
    ATLS_ENSURE(atls_cursor_remaining(&msg->signature) == 2 * want->coord_len,
                ATLS_ERR_DECODE_LENGTH, "COSE_Sign1: %s signature of %zu bytes, expected %zu",
                want->alg_name, atls_cursor_remaining(&msg->signature), 2 * want->coord_len);
    uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    ATLS_GUARD(sig_structure(atls_cursor_data(&msg->protected_hdr),
                             atls_cursor_remaining(&msg->protected_hdr), external_aad, aad_len,
                             atls_cursor_data(&msg->payload), atls_cursor_remaining(&msg->payload),
                             &tbs, &tbs_len));
    atls_error rc = atls_ecdsa_verify_raw(key, want->md(), tbs, tbs_len,
                                          atls_cursor_data(&msg->signature),
                                          atls_cursor_remaining(&msg->signature));
    free(tbs);
    if (rc == ATLS_ERR_CRYPTO_SIGNATURE) {
        ATLS_RAISE(rc, "COSE_Sign1: %s signature does not verify", want->alg_name);
    }
    return rc;
}

atls_error atls_cose_sign1_sign(const uint8_t *payload, size_t payload_len, EVP_PKEY *key,
                                const atls_cose_sign_opts *opts, uint8_t **out, size_t *out_len)
{
    static const atls_cose_sign_opts defaults = {0};
    if (opts == NULL) {
        opts = &defaults;
    }
    ATLS_ENSURE(payload != NULL || payload_len == 0, ATLS_ERR_USAGE, "COSE: NULL payload");
    ATLS_ENSURE(opts->kid != NULL || opts->kid_len == 0, ATLS_ERR_USAGE, "COSE: NULL kid");
    const atls_cose_curve *cv;
    ATLS_GUARD(atls_cose_curve_of_key(key, &cv));

    /* protected header: {1: alg [, 3: content type]} in deterministic order */
    atls_writer ph;
    atls_writer_init(&ph, 0);
    bool hok = atls_cbor_put_map(&ph, opts->content_type != NULL ? 2 : 1) &&
               atls_cbor_put_int(&ph, ATLS_COSE_HDR_ALG) && atls_cbor_put_int(&ph, cv->alg);
    if (opts->content_type != NULL) {
        hok = hok && atls_cbor_put_int(&ph, ATLS_COSE_HDR_CONTENT_TYPE) &&
              atls_cbor_put_tstr(&ph, opts->content_type);
    }
    (void)hok; /* a failed put is sticky and reported by finish */
    uint8_t *prot = NULL, *tbs = NULL;
    size_t prot_len = 0, tbs_len = 0;
    atls_error rc = atls_writer_finish(&ph, &prot, &prot_len);
    atls_writer_cleanup(&ph);
    ATLS_GUARD(rc);

    uint8_t sig[2 * 66];
    atls_writer w;
    atls_writer_init(&w, 0);
    ATLS_GUARD_GOTO(rc, done, sig_structure(prot, prot_len, opts->external_aad,
                                            opts->external_aad_len, payload, payload_len, &tbs,
                                            &tbs_len));
    ATLS_GUARD_GOTO(rc, done, atls_ecdsa_sign_raw(key, cv->md(), tbs, tbs_len, cv->coord_len, sig));
    bool ok = true;
    if (opts->tagged) {
        ok = atls_cbor_put_tag(&w, ATLS_COSE_TAG_SIGN1);
    }
    ok = ok && atls_cbor_put_array(&w, 4) && atls_cbor_put_bstr(&w, prot, prot_len);
    if (opts->kid != NULL) {
        ok = ok && atls_cbor_put_map(&w, 1) && atls_cbor_put_int(&w, ATLS_COSE_HDR_KID) &&
             atls_cbor_put_bstr(&w, opts->kid, opts->kid_len);
    } else {
        ok = ok && atls_cbor_put_map(&w, 0);
    }
    ok = ok && atls_cbor_put_bstr(&w, payload, payload_len) &&
         atls_cbor_put_bstr(&w, sig, 2 * cv->coord_len);
    (void)ok; /* a failed put is sticky and reported by finish */
    ATLS_GUARD_GOTO(rc, done, atls_writer_finish(&w, out, out_len));
done:
    atls_writer_cleanup(&w);
    free(prot);
    free(tbs);
    return rc;
}
