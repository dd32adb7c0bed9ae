/* sim_attester.c: the software attester (sim.h). Config: "key=FILE" (PEM P-256 private key,
 * required), "measurements=FILE" (JSON, optional). */
#include "evidence/sim/sim.h"

#include "base/result.h"
#include "codec/cose/cose.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sim_state {
    EVP_PKEY *key;
    uint8_t *point;
    size_t point_len;
    atls_sim_measurement m[ATLS_SIM_MAX_MEASUREMENTS];
    size_t num_m;
};

static void sim_destroy(void *state)
{
    struct sim_state *st = state;
    if (st == NULL) {
        return;
    }
    EVP_PKEY_free(st->key);
    free(st->point);
    free(st);
}

static atls_error load_key(const char *path, EVP_PKEY **out)
{
    FILE *f = fopen(path, "r");
    ATLS_ENSURE(f != NULL, ATLS_ERR_IO_FILE, "sim: cannot open key %s", path);
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ATLS_ENSURE(key != NULL, ATLS_ERR_USAGE_CONFIG, "sim: %s holds no PEM private key", path);
    if (!EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_bits(key) != 256) {
        EVP_PKEY_free(key);
        ATLS_RAISE(ATLS_ERR_CRYPTO_KEY, "sim: %s must be an EC P-256 key (ES256)", path);
    }
    *out = key;
    return ATLS_OK;
}

static atls_error sim_create(const char *const *config, void **state)
{
    struct sim_state *st = calloc(1, sizeof(*st));
    ATLS_ENSURE(st != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_error rc = ATLS_OK;
    for (size_t i = 0; config != NULL && config[i] != NULL && rc == ATLS_OK; i++) {
        const char *kv = config[i];
        if (strncmp(kv, "key=", 4) == 0) {
            EVP_PKEY_free(st->key);
            st->key = NULL;
            rc = load_key(kv + 4, &st->key);
        } else if (strncmp(kv, "measurements=", 13) == 0) {
            rc = atls_sim_load_measurements(kv + 13, st->m, &st->num_m);
        } else {
            rc = atls_error_raise(ATLS_ERR_USAGE_CONFIG, __FILE__, __LINE__,
                                  "sim: unknown option \"%s\"", kv);
        }
    }
    if (rc == ATLS_OK && st->key == NULL) {
        rc = atls_error_raise(ATLS_ERR_USAGE_CONFIG, __FILE__, __LINE__,
                              "sim: a signing key is required (--sim-key)");
    }
    int64_t crv = 0;
    if (rc == ATLS_OK) {
        rc = atls_cose_ec_pkey_to_point(st->key, &crv, &st->point, &st->point_len);
    }
    if (rc != ATLS_OK) {
        sim_destroy(st);
        return rc;
    }
    *state = st;
    return ATLS_OK;
}

static atls_error sim_produce(void *state, const uint8_t *challenge, uint8_t **out,
                              size_t *out_len)
{
    struct sim_state *st = state;
    uint8_t *claims = NULL;
    size_t claims_len = 0;
    ATLS_GUARD(atls_sim_encode_claims(challenge, (int64_t)time(NULL), st->m, st->num_m,
                                      st->point, st->point_len, &claims, &claims_len));
    atls_cose_sign_opts opts = {0};
    opts.tagged = true;
    atls_error rc = atls_cose_sign1_sign(claims, claims_len, st->key, &opts, out, out_len);
    free(claims);
    return rc;
}

const atls_attester_ops atls_sim_attester_ops = {
    .name = "sim",
    .media_type = ATLS_SIM_MEDIA_TYPE,
    .create = sim_create,
    .produce = sim_produce,
    .destroy = sim_destroy,
};
