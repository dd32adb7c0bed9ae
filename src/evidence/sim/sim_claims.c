/* sim_claims.c: the sim EAT claims map and the measurements file (sim.h). */
#include "evidence/sim/sim.h"

#include "base/file.h"
#include "base/hex.h"
#include "base/result.h"
#include "base/writer.h"
#include "codec/cbor/cbor.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

atls_error atls_sim_load_measurements(const char *path, atls_sim_measurement *out, size_t *num)
{
    uint8_t *text = NULL;
    size_t len = 0;
    ATLS_GUARD(atls_file_read(path, 64 * 1024, &text, &len));
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    ATLS_ENSURE(doc != NULL, ATLS_ERR_USAGE_CONFIG, "%s: line %d: %s", path, jerr.line,
                jerr.text);
    atls_error rc = ATLS_OK;
    *num = 0;
    if (!json_is_object(doc)) {
        rc = atls_error_raise(ATLS_ERR_USAGE_CONFIG, __FILE__, __LINE__,
                              "%s: must be a JSON object {\"name\": \"hex digest\"}", path);
        goto done;
    }
    const char *key;
    json_t *value;
    json_object_foreach(doc, key, value) {
        size_t klen = strlen(key);
        const char *hex = json_string_value(value);
        if (*num >= ATLS_SIM_MAX_MEASUREMENTS || klen == 0 || klen > ATLS_SIM_MAX_NAME ||
            hex == NULL) {
            rc = atls_error_raise(ATLS_ERR_USAGE_CONFIG, __FILE__, __LINE__,
                                  "%s: measurement \"%s\": need a 1..%d byte name and a hex "
                                  "digest (at most %d entries)",
                                  path, key, ATLS_SIM_MAX_NAME, ATLS_SIM_MAX_MEASUREMENTS);
            goto done;
        }
        size_t hlen = strlen(hex);
        if (hlen != 64 && hlen != 96 && hlen != 128) {
            rc = atls_error_raise(ATLS_ERR_USAGE_CONFIG, __FILE__, __LINE__,
                                  "%s: measurement \"%s\" must be 32, 48 or 64 bytes of hex",
                                  path, key);
            goto done;
        }
        atls_sim_measurement *m = &out[*num];
        memcpy(m->name, key, klen + 1);
        m->digest_len = hlen / 2;
        rc = atls_hex_decode_fixed(hex, m->digest, m->digest_len);
        if (rc != ATLS_OK) {
            goto done;
        }
        (*num)++;
    }
done:
    json_decref(doc);
    return rc;
}

atls_error atls_sim_encode_claims(const uint8_t challenge[ATLS_CHALLENGE_LEN], int64_t iat,
                                  const atls_sim_measurement *m, size_t num_m,
                                  const uint8_t *point, size_t point_len, uint8_t **out,
                                  size_t *out_len)
{
    atls_writer w;
    atls_writer_init(&w, ATLS_SIM_MAX_EVIDENCE);
    bool ok = atls_cbor_put_map(&w, 5) && atls_cbor_put_int(&w, ATLS_SIM_CLAIM_NONCE) &&
              atls_cbor_put_bstr(&w, challenge, ATLS_CHALLENGE_LEN) &&
              atls_cbor_put_int(&w, ATLS_SIM_CLAIM_IAT) && atls_cbor_put_int(&w, iat) &&
              atls_cbor_put_int(&w, ATLS_SIM_CLAIM_PROFILE) &&
              atls_cbor_put_tstr(&w, ATLS_SIM_PROFILE) &&
              atls_cbor_put_int(&w, ATLS_SIM_CLAIM_MEASUREMENTS) &&
              atls_cbor_put_map(&w, num_m);
    for (size_t i = 0; ok && i < num_m; i++) {
        ok = atls_cbor_put_tstr(&w, m[i].name) &&
             atls_cbor_put_bstr(&w, m[i].digest, m[i].digest_len);
    }
    ok = ok && atls_cbor_put_int(&w, ATLS_SIM_CLAIM_KEY) &&
         atls_cbor_put_bstr(&w, point, point_len);
    (void)ok; /* the writer's sticky status reports any failure */
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}
