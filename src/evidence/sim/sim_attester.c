/* sim_attester.c: the software attester (sim.h). Config: "key=FILE" (PEM P-256 private key,
 * required), "measurements=FILE" (JSON, optional), "reload_measurements=1" (read the file again
 * for every Evidence: a runtime state change shows at the next quote), "quote_latency_ms=N"
 * (0..60000: every Evidence takes at least N ms and one is made at a time, a stand-in for a
 * slow, serialised quote source such as a TDX Quoting Enclave or a TPM). */
#include "evidence/sim/sim.h"

#include "base/result.h"
#include "codec/cose/cose.h"

#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define SIM_MAX_LATENCY_MS 60000

struct sim_state {
    EVP_PKEY *key;
    uint8_t *point;
    size_t point_len;
    atls_sim_measurement m[ATLS_SIM_MAX_MEASUREMENTS];
    size_t num_m;
    char *meas_path;        /* reload_measurements: the file read for every Evidence */
    int reload;
    long latency_ms;        /* quote_latency_ms */
    pthread_mutex_t serial; /* one Evidence at a time when latency_ms > 0 */
};

static void sim_destroy(void *state)
{
    struct sim_state *st = state;
    if (st == NULL) {
        return;
    }
    EVP_PKEY_free(st->key);
    free(st->point);
    free(st->meas_path);
    pthread_mutex_destroy(&st->serial);
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
    pthread_mutex_init(&st->serial, NULL);
    atls_error rc = ATLS_OK;
    for (size_t i = 0; config != NULL && config[i] != NULL && rc == ATLS_OK; i++) {
        const char *kv = config[i];
        if (strncmp(kv, "key=", 4) == 0) {
            EVP_PKEY_free(st->key);
            st->key = NULL;
            rc = load_key(kv + 4, &st->key);
        } else if (strncmp(kv, "measurements=", 13) == 0) {
            rc = atls_sim_load_measurements(kv + 13, st->m, &st->num_m);
            free(st->meas_path);
            st->meas_path = strdup(kv + 13);
            if (rc == ATLS_OK && st->meas_path == NULL) {
                rc = atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__,
                                      "out of memory");
            }
        } else if (strcmp(kv, "reload_measurements=1") == 0) {
            st->reload = 1;
        } else if (strncmp(kv, "quote_latency_ms=", 17) == 0) {
            char *end = NULL;
            long ms = strtol(kv + 17, &end, 10);
            if (end == kv + 17 || *end != '\0' || ms < 0 || ms > SIM_MAX_LATENCY_MS) {
                rc = atls_error_raise(ATLS_ERR_USAGE_CONFIG, __FILE__, __LINE__,
                                      "sim: quote_latency_ms must be 0..%d", SIM_MAX_LATENCY_MS);
            }
            st->latency_ms = ms;
        } else {
            rc = atls_error_raise(ATLS_ERR_USAGE_CONFIG, __FILE__, __LINE__,
                                  "sim: unknown option \"%s\"", kv);
        }
    }
    if (rc == ATLS_OK && st->reload && st->meas_path == NULL) {
        rc = atls_error_raise(ATLS_ERR_USAGE_CONFIG, __FILE__, __LINE__,
                              "sim: reload_measurements=1 needs measurements=FILE");
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

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static atls_error make_evidence(struct sim_state *st, const uint8_t *challenge, uint8_t **out,
                                size_t *out_len)
{
    /* a reloaded state is this quote's own: the configured one stays as it was */
    atls_sim_measurement fresh[ATLS_SIM_MAX_MEASUREMENTS];
    const atls_sim_measurement *m = st->m;
    size_t num_m = st->num_m;
    if (st->reload) {
        ATLS_GUARD(atls_sim_load_measurements(st->meas_path, fresh, &num_m));
        m = fresh;
    }
    uint8_t *claims = NULL;
    size_t claims_len = 0;
    ATLS_GUARD(atls_sim_encode_claims(challenge, (int64_t)time(NULL), m, num_m, st->point,
                                      st->point_len, &claims, &claims_len));
    atls_cose_sign_opts opts = {0};
    opts.tagged = true;
    atls_error rc = atls_cose_sign1_sign(claims, claims_len, st->key, &opts, out, out_len);
    free(claims);
    return rc;
}

static atls_error sim_produce(void *state, const uint8_t *challenge, uint8_t **out,
                              size_t *out_len)
{
    struct sim_state *st = state;
    if (st->latency_ms == 0) {
        return make_evidence(st, challenge, out, out_len);
    }
    /* a slow quote source makes one quote at a time: callers queue on the mutex */
    pthread_mutex_lock(&st->serial);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    atls_error rc = make_evidence(st, challenge, out, out_len);
    long left = st->latency_ms - elapsed_ms(&start);
    if (left > 0) {
        struct timespec ts = {left / 1000, (left % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    pthread_mutex_unlock(&st->serial);
    return rc;
}

const atls_attester_ops atls_sim_attester_ops = {
    .name = "sim",
    .media_type = ATLS_SIM_MEDIA_TYPE,
    .create = sim_create,
    .produce = sim_produce,
    .destroy = sim_destroy,
};
