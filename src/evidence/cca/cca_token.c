/* cca_token.c: decoding of the CCA token collection and of both claim sets (cca.h). Nothing
 * here checks a signature; cca_verify.c does. */
#include "evidence/cca/cca.h"

#include "base/result.h"
#include "codec/cbor/cbor.h"

#include <openssl/evp.h>
#include <string.h>

#define FMT ATLS_ERR_EVIDENCE_FORMAT

const EVP_MD *atls_cca_hash_by_name(const atls_cursor *name)
{
    if (atls_cbor_tstr_equals(name, "sha-256")) {
        return EVP_sha256();
    }
    if (atls_cbor_tstr_equals(name, "sha-384")) {
        return EVP_sha384();
    }
    if (atls_cbor_tstr_equals(name, "sha-512")) {
        return EVP_sha512();
    }
    return NULL;
}

/* read_bstr_len reads a bstr whose length is one of |a|, |b|, |c| (0 = unused). */
ATLS_MUST_CHECK static atls_error read_bstr_len(atls_cursor *c, atls_cursor *out, size_t a,
                                                size_t b, size_t d, const char *what)
{
    ATLS_GUARD(atls_cbor_read_bstr(c, out));
    size_t n = atls_cursor_remaining(out);
    ATLS_ENSURE(n != 0 && (n == a || n == b || n == d), FMT, "CCA: %s has a length of %zu bytes",
                what, n);
    return ATLS_OK;
}

/* read_digest reads a measurement: 32, 48 or 64 bytes (SHA-256/384/512). */
ATLS_MUST_CHECK static atls_error read_digest(atls_cursor *c, atls_cursor *out, const char *what)
{
    return read_bstr_len(c, out, 32, 48, 64, what);
}

ATLS_MUST_CHECK static atls_error read_text(atls_cursor *c, atls_cursor *out, const char *what)
{
    ATLS_GUARD(atls_cbor_read_tstr(c, out));
    size_t n = atls_cursor_remaining(out);
    ATLS_ENSURE(n > 0 && n <= ATLS_CCA_MAX_TEXT, FMT, "CCA: %s must be 1..%d bytes of text",
                what, ATLS_CCA_MAX_TEXT);
    ATLS_ENSURE(memchr(atls_cursor_data(out), 0, n) == NULL, FMT, "CCA: %s contains NUL", what);
    return ATLS_OK;
}

ATLS_MUST_CHECK static atls_error read_hash_name(atls_cursor *c, atls_cursor *out,
                                                 const char *what)
{
    ATLS_GUARD(read_text(c, out, what));
    ATLS_ENSURE(atls_cca_hash_by_name(out) != NULL, FMT,
                "CCA: %s is not \"sha-256\", \"sha-384\" or \"sha-512\"", what);
    return ATLS_OK;
}

/* Realm claims (RMM A7.2.3.2). Claims atls does not know are skipped: RFC 8392 section 3
 * (CWT) lets a recipient ignore claims it does not understand; they are still signed. */
ATLS_MUST_CHECK static atls_error parse_realm(const atls_cursor *payload, atls_cca_token *t)
{
    atls_cursor c = *payload;
    atls_cbor_map_iter it;
    unsigned seen = 0;
    ATLS_GUARD(atls_cbor_map_begin(&c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
        if (atls_cbor_key_is_int(&k, ATLS_CCA_REALM_CHALLENGE)) {
            ATLS_GUARD(read_bstr_len(&c, &t->realm_challenge, ATLS_CCA_REALM_CHALLENGE_LEN, 0, 0,
                                     "realm challenge (10)"));
            seen |= 1u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_REALM_PROFILE)) {
            ATLS_GUARD(read_text(&c, &t->realm_profile, "realm profile (265)"));
            ATLS_ENSURE(atls_cbor_tstr_equals(&t->realm_profile, ATLS_CCA_PROFILE_REALM_2023),
                        FMT, "CCA: realm profile (265) is not %s", ATLS_CCA_PROFILE_REALM_2023);
            t->realm_has_profile = true;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_REALM_PERSONALIZATION)) {
            ATLS_GUARD(read_bstr_len(&c, &t->personalization, ATLS_CCA_PERSONALIZATION_LEN, 0,
                                     0, "realm personalization value (44235)"));
            seen |= 2u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_REALM_HASH_ALGO)) {
            ATLS_GUARD(read_hash_name(&c, &t->realm_hash_algo, "realm hash algorithm (44236)"));
            seen |= 4u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_REALM_PUBLIC_KEY)) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &t->rak));
            ATLS_ENSURE(atls_cursor_remaining(&t->rak) > 0 && atls_cursor_remaining(&t->rak) <= 512,
                        FMT, "CCA: realm public key (44237) must be 1..512 bytes");
            seen |= 8u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_REALM_RIM)) {
            ATLS_GUARD(read_digest(&c, &t->rim, "realm initial measurement (44238)"));
            seen |= 16u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_REALM_REM)) {
            size_t n;
            ATLS_GUARD(atls_cbor_read_array(&c, &n));
            ATLS_ENSURE(n == 4, FMT, "CCA: realm extensible measurements (44239) must be 4, not "
                                     "%zu", n);
            for (size_t i = 0; i < 4; i++) {
                ATLS_GUARD(read_digest(&c, &t->rem[i], "realm extensible measurement (44239)"));
            }
            seen |= 32u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_REALM_PUBKEY_HASH_ALGO)) {
            ATLS_GUARD(read_hash_name(&c, &t->rak_hash_algo,
                                      "realm public key hash algorithm (44240)"));
            seen |= 64u;
        } else {
            ATLS_GUARD(atls_cbor_skip(&c));
        }
    }
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "CCA: bytes after the realm claims");
    static const char *const names[] = {"challenge (10)", "personalization value (44235)",
                                        "hash algorithm (44236)", "public key (44237)",
                                        "initial measurement (44238)",
                                        "extensible measurements (44239)",
                                        "public key hash algorithm (44240)"};
    for (unsigned i = 0; i < 7; i++) {
        ATLS_ENSURE(seen & (1u << i), FMT, "CCA: the realm token has no %s", names[i]);
    }
    /* The 2023 profile carries the RAK as a COSE_Key; the legacy one as a SEC1 point. */
    t->rak_is_cose_key = t->realm_has_profile;
    return ATLS_OK;
}

ATLS_MUST_CHECK static atls_error parse_sw_component(atls_cursor *c, atls_cca_sw_component *sw)
{
    atls_cbor_map_iter it;
    bool has_meas = false, has_signer = false;
    memset(sw, 0, sizeof(*sw));
    ATLS_GUARD(atls_cbor_map_begin(c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(c, &it, &k));
        if (atls_cbor_key_is_int(&k, ATLS_CCA_SW_TYPE)) {
            ATLS_GUARD(read_text(c, &sw->type, "software component type (1)"));
            sw->has_type = true;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_SW_MEASUREMENT)) {
            ATLS_GUARD(read_digest(c, &sw->measurement, "software component measurement (2)"));
            has_meas = true;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_SW_VERSION)) {
            ATLS_GUARD(read_text(c, &sw->version, "software component version (4)"));
            sw->has_version = true;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_SW_SIGNER_ID)) {
            ATLS_GUARD(read_digest(c, &sw->signer_id, "software component signer id (5)"));
            has_signer = true;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_SW_HASH_ALGO)) {
            ATLS_GUARD(read_text(c, &sw->hash_algo, "software component hash algorithm (6)"));
            sw->has_hash_algo = true;
        } else {
            ATLS_GUARD(atls_cbor_skip(c));
        }
    }
    /* RMM A7.2.3.3.7: measurement value and signer id are mandatory. */
    ATLS_ENSURE(has_meas && has_signer, FMT,
                "CCA: a software component lacks its measurement (2) or signer id (5)");
    return ATLS_OK;
}

ATLS_MUST_CHECK static atls_error parse_platform(const atls_cursor *payload, atls_cca_token *t)
{
    atls_cursor c = *payload;
    atls_cbor_map_iter it;
    unsigned seen = 0;
    ATLS_GUARD(atls_cbor_map_begin(&c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
        if (atls_cbor_key_is_int(&k, ATLS_CCA_PLAT_PROFILE)) {
            ATLS_GUARD(read_text(&c, &t->platform_profile, "platform profile (265)"));
            ATLS_ENSURE(atls_cbor_tstr_equals(&t->platform_profile, ATLS_CCA_PROFILE_LEGACY) ||
                            atls_cbor_tstr_equals(&t->platform_profile,
                                                  ATLS_CCA_PROFILE_PLATFORM_2023),
                        FMT, "CCA: platform profile (265) is not %s or %s",
                        ATLS_CCA_PROFILE_LEGACY, ATLS_CCA_PROFILE_PLATFORM_2023);
            seen |= 1u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_PLAT_CHALLENGE)) {
            ATLS_GUARD(read_digest(&c, &t->platform_challenge, "platform challenge (10)"));
            seen |= 2u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_PLAT_IMPLEMENTATION_ID)) {
            ATLS_GUARD(read_bstr_len(&c, &t->implementation_id, 32, 0, 0,
                                     "platform implementation id (2396)"));
            seen |= 4u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_PLAT_INSTANCE_ID)) {
            /* UEID type RAND (0x01) followed by the hash of the IAK (RMM A7.2.3.3.3) */
            ATLS_GUARD(read_bstr_len(&c, &t->instance_id, 33, 0, 0, "platform instance id (256)"));
            ATLS_ENSURE(atls_cursor_data(&t->instance_id)[0] == 0x01, FMT,
                        "CCA: platform instance id (256) is not a RAND UEID (0x01)");
            seen |= 8u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_PLAT_CONFIG)) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &t->config));
            ATLS_ENSURE(atls_cursor_remaining(&t->config) <= ATLS_CCA_MAX_CONFIG, FMT,
                        "CCA: platform config (2401) exceeds %d bytes", ATLS_CCA_MAX_CONFIG);
            seen |= 16u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_PLAT_LIFECYCLE)) {
            ATLS_GUARD(atls_cbor_read_uint(&c, &t->lifecycle));
            ATLS_ENSURE(t->lifecycle <= 0xffff, FMT,
                        "CCA: platform lifecycle (2395) %llu exceeds 0xffff",
                        (unsigned long long)t->lifecycle);
            seen |= 32u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_PLAT_SW_COMPONENTS)) {
            size_t n;
            ATLS_GUARD(atls_cbor_read_array(&c, &n));
            ATLS_ENSURE(n > 0 && n <= ATLS_CCA_MAX_SW_COMPONENTS, FMT,
                        "CCA: platform software components (2399): %zu entries, 1..%d allowed", n,
                        ATLS_CCA_MAX_SW_COMPONENTS);
            for (size_t i = 0; i < n; i++) {
                ATLS_GUARD(parse_sw_component(&c, &t->sw[i]));
            }
            t->num_sw = n;
            seen |= 64u;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_PLAT_VERIFICATION_SERVICE)) {
            ATLS_GUARD(read_text(&c, &t->verification_service,
                                 "platform verification service (2400)"));
            t->has_verification_service = true;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_PLAT_HASH_ALGO)) {
            ATLS_GUARD(read_text(&c, &t->platform_hash_algo, "platform hash algorithm (2402)"));
            seen |= 128u;
        } else {
            ATLS_GUARD(atls_cbor_skip(&c));
        }
    }
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "CCA: bytes after the platform claims");
    static const char *const names[] = {"profile (265)", "challenge (10)",
                                        "implementation id (2396)", "instance id (256)",
                                        "config (2401)", "lifecycle (2395)",
                                        "software components (2399)", "hash algorithm (2402)"};
    for (unsigned i = 0; i < 8; i++) {
        ATLS_ENSURE(seen & (1u << i), FMT, "CCA: the platform token has no %s", names[i]);
    }
    return ATLS_OK;
}

atls_error atls_cca_token_parse(const uint8_t *data, size_t len, atls_cca_token *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(len <= ATLS_CCA_MAX_TOKEN, ATLS_ERR_DECODE_TOO_LARGE,
                "CCA: token of %zu bytes exceeds %u", len, ATLS_CCA_MAX_TOKEN);
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    uint64_t tag;
    atls_cbor_type type;
    ATLS_GUARD(atls_cbor_peek_type(&c, &type));
    ATLS_ENSURE(type == ATLS_CBOR_TAG, FMT, "CCA: the token is not tagged 399");
    ATLS_GUARD(atls_cbor_read_tag(&c, &tag));
    ATLS_ENSURE(tag == ATLS_CCA_TAG, FMT, "CCA: tag %llu is not the CCA token tag 399",
                (unsigned long long)tag);
    atls_cbor_map_iter it;
    bool have_platform = false, have_realm = false;
    ATLS_GUARD(atls_cbor_map_begin(&c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
        if (atls_cbor_key_is_int(&k, ATLS_CCA_KEY_PLATFORM)) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &out->platform_cose));
            have_platform = true;
        } else if (atls_cbor_key_is_int(&k, ATLS_CCA_KEY_REALM)) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &out->realm_cose));
            have_realm = true;
        } else {
            ATLS_RAISE(FMT, "CCA: unexpected member in the token collection");
        }
    }
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "CCA: bytes after the token collection");
    ATLS_ENSURE(have_platform && have_realm, FMT,
                "CCA: the collection needs a platform (44234) and a realm (44241) token");
    /* Both members are COSE_Sign1_Tagged (RMM A7.2.3.1). */
    ATLS_GUARD(atls_cose_sign1_parse(atls_cursor_data(&out->platform_cose),
                                     atls_cursor_remaining(&out->platform_cose),
                                     ATLS_COSE_REQUIRE_TAG, &out->platform_msg));
    ATLS_GUARD(atls_cose_sign1_parse(atls_cursor_data(&out->realm_cose),
                                     atls_cursor_remaining(&out->realm_cose),
                                     ATLS_COSE_REQUIRE_TAG, &out->realm_msg));
    ATLS_GUARD(parse_realm(&out->realm_msg.payload, out));
    ATLS_GUARD(parse_platform(&out->platform_msg.payload, out));
    return ATLS_OK;
}
