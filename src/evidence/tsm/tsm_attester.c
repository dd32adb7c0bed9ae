/* tsm_attester.c: the configfs-tsm attester (tsm.h; evidence-formats.md 5.1). */
#include "evidence/tsm/tsm.h"

#include "base/file.h"
#include "base/mem.h"
#include "base/result.h"
#include "evidence/eventlog/eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ATTESTER ATLS_ERR_EVIDENCE_ATTESTER

/* write_attr writes |len| bytes to an existing attribute file in one write(2): configfs binary
 * attributes take the whole value at once and commit it on close. */
ATLS_MUST_CHECK static atls_error write_attr(const char *dir, const char *name,
                                             const uint8_t *data, size_t len)
{
    char path[PATH_MAX];
    ATLS_ENSURE(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path), ATTESTER,
                "tsm: path too long");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ATLS_ENSURE(fd >= 0, ATTESTER, "tsm: cannot open %s: %s", path, strerror(errno));
    ssize_t n;
    do {
        n = write(fd, data, len);
    } while (n < 0 && errno == EINTR);
    int e = errno;
    int closed = close(fd);
    ATLS_ENSURE(n == (ssize_t)len, ATTESTER, "tsm: cannot write %s: %s", path,
                n < 0 ? strerror(e) : "short write");
    ATLS_ENSURE(closed == 0, ATTESTER, "tsm: cannot write %s: %s", path, strerror(errno));
    return ATLS_OK;
}

/* read_attr reads an attribute file (at most |max| bytes; caller frees *out). */
ATLS_MUST_CHECK static atls_error read_attr(const char *dir, const char *name, size_t max,
                                            uint8_t **out, size_t *len)
{
    char path[PATH_MAX];
    ATLS_ENSURE(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path), ATTESTER,
                "tsm: path too long");
    atls_error rc = atls_file_read(path, max, out, len);
    if (rc != ATLS_OK) {
        char inner[300];
        snprintf(inner, sizeof(inner), "%s", atls_error_message());
        ATLS_RAISE(ATTESTER, "tsm: %s", inner);
    }
    return ATLS_OK;
}

/* read_generation parses the decimal "generation" attribute. */
ATLS_MUST_CHECK static atls_error read_generation(const char *dir, unsigned long long *gen)
{
    uint8_t *text = NULL;
    size_t len = 0;
    ATLS_GUARD(read_attr(dir, "generation", 32, &text, &len));
    char *end = NULL;
    errno = 0;
    *gen = strtoull((const char *)text, &end, 10);
    int ok = errno == 0 && end != (char *)text && (*end == '\0' || strcmp(end, "\n") == 0) &&
             text[0] >= '0' && text[0] <= '9';
    free(text);
    ATLS_ENSURE(ok, ATTESTER, "tsm: %s/generation is not a decimal number", dir);
    return ATLS_OK;
}

/* ---- a prepared directory standing in for configfs (tests) --------------------------------
 * configfs makes an entry's attributes with the entry, makes the report when outblob is read
 * and drops the attributes at rmdir. A prepared directory has a stand-in for the kernel instead
 * (tests/evidence/tsm/tsm_kernel_standin.c): it makes the attributes just after the mkdir
 * (inblob last), writes outblob (renamed into place) when inblob was written, and leaves the
 * files. On such a root (not CONFIGFS_MAGIC, tsm.h) the attester waits for those files and
 * removes them before rmdir; on configfs none of this happens, nor with a hook (which plays
 * the kernel synchronously, atls_tsm_attest). */
#define PREPARED_WAIT_MS 2000

int atls_tsm_wait_attribute(const char *dir, const char *name)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        return 0;
    }
    for (int waited = 0; access(path, F_OK) != 0; waited++) {
        if (waited >= PREPARED_WAIT_MS) {
            return 0;
        }
        struct timespec ms = {0, 1000000L};
        nanosleep(&ms, NULL);
    }
    return 1;
}

void atls_tsm_remove_attributes(const char *dir)
{
    static const char *const names[] = {"inblob",  "outblob",    "auxblob",
                                        "provider", "generation", "privlevel"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path)) {
            (void)unlink(path);
        }
    }
}

/* collect does everything between mkdir and rmdir. */
ATLS_MUST_CHECK static atls_error collect(const atls_tsm_config *cfg, const char *dir,
                                          const uint8_t *challenge, atls_tsm_hook hook,
                                          void *arg, uint8_t **out, size_t *out_len)
{
    uint8_t *outblob = NULL, *provider = NULL, *aux = NULL;
    size_t outlen = 0, plen = 0, auxlen = 0;
    unsigned long long g0 = 0, g1 = 0;
    atls_error rc;
    if (hook != NULL) {
        ATLS_GUARD(hook(arg, dir, ATLS_TSM_STAGE_CREATED));
    }
    /* a hook plays the kernel synchronously; a stand-in process asynchronously */
    int prepared = hook == NULL && !atls_tsm_is_configfs(cfg->root);
    ATLS_ENSURE(!prepared || atls_tsm_wait_attribute(dir, "inblob"), ATTESTER,
                "tsm: %s is a prepared directory, not configfs, and nothing made the entry's "
                "attributes within %d ms (no stand-in for the kernel is running)",
                cfg->root, PREPARED_WAIT_MS);
    if (cfg->privlevel >= 0) {
        char lv[16];
        snprintf(lv, sizeof(lv), "%d\n", cfg->privlevel);
        ATLS_GUARD(write_attr(dir, "privlevel", (const uint8_t *)lv, strlen(lv)));
    }
    ATLS_GUARD(write_attr(dir, "inblob", challenge, ATLS_CHALLENGE_LEN));
    ATLS_GUARD(read_generation(dir, &g0));
    if (hook != NULL) {
        ATLS_GUARD(hook(arg, dir, ATLS_TSM_STAGE_WRITTEN));
    }
    if (prepared && !atls_tsm_wait_attribute(dir, "outblob")) {
        ATLS_RAISE(ATTESTER, "tsm: %s is a prepared directory and its stand-in wrote no outblob "
                             "within %d ms",
                   cfg->root, PREPARED_WAIT_MS);
    }
    /* reading outblob makes the kernel produce the report (TDX: a quote from the host) */
    ATLS_GUARD_GOTO(rc, done, read_attr(dir, "outblob", ATLS_TSM_MAX_BLOB, &outblob, &outlen));
    if (outlen == 0) {
        ATLS_FAIL_GOTO(rc, done, ATTESTER, "tsm: %s/outblob is empty", dir);
    }
    ATLS_GUARD_GOTO(rc, done,
                    read_attr(dir, "provider", ATLS_TSM_MAX_PROVIDER + 1, &provider, &plen));
    if (plen > 0 && provider[plen - 1] == '\n') {
        provider[--plen] = '\0';
    }
    if (plen == 0 || strlen((const char *)provider) != plen) {
        ATLS_FAIL_GOTO(rc, done, ATTESTER, "tsm: %s/provider is empty or not text", dir);
    }
    /* auxblob is optional: absent (older kernels, TDX) or empty when the host gives none */
    if (read_attr(dir, "auxblob", ATLS_TSM_MAX_BLOB, &aux, &auxlen) != ATLS_OK || auxlen == 0) {
        atls_error_clear();
        free(aux);
        aux = NULL;
        auxlen = 0;
    }
    if (hook != NULL) {
        ATLS_GUARD_GOTO(rc, done, hook(arg, dir, ATLS_TSM_STAGE_READ));
    }
    ATLS_GUARD_GOTO(rc, done, read_generation(dir, &g1));
    if (g1 != g0) {
        ATLS_FAIL_GOTO(rc, done, ATTESTER,
                       "tsm: generation changed from %llu to %llu: another writer used %s", g0,
                       g1, dir);
    }
    rc = atls_tsm_report_encode(outblob, outlen, (const char *)provider, aux, auxlen, out,
                                out_len);
done:
    free(outblob);
    free(provider);
    free(aux);
    return rc;
}

atls_error atls_tsm_attest(const atls_tsm_config *cfg, const uint8_t challenge[ATLS_CHALLENGE_LEN],
                           atls_tsm_hook hook, void *hook_arg, uint8_t **out, size_t *out_len)
{
    ATLS_ENSURE(cfg != NULL && cfg->root != NULL && challenge != NULL, ATLS_ERR_USAGE,
                "tsm: missing configuration or challenge");
    *out = NULL;
    *out_len = 0;
    char dir[PATH_MAX];
    int made = 0;
    /* a unique entry name: configfs entries are per directory, and the generation check
     * catches anyone else writing to ours */
    for (int attempt = 0; attempt < 8 && !made; attempt++) {
        uint8_t rnd[6];
        ATLS_ENSURE(RAND_bytes(rnd, sizeof(rnd)) == 1, ATLS_ERR_CRYPTO_RANDOM,
                    "tsm: no random bytes for the entry name");
        ATLS_ENSURE(snprintf(dir, sizeof(dir), "%s/atls-%ld-%02x%02x%02x%02x%02x%02x", cfg->root,
                             (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
                             rnd[5]) < (int)sizeof(dir),
                    ATLS_ERR_USAGE_CONFIG, "tsm: root path too long");
        if (mkdir(dir, 0700) == 0) {
            made = 1;
        } else if (errno != EEXIST) {
            ATLS_RAISE(ATTESTER, "tsm: cannot create %s: %s", dir, strerror(errno));
        }
    }
    ATLS_ENSURE(made, ATTESTER, "tsm: cannot create a unique entry under %s", cfg->root);
    atls_error rc = collect(cfg, dir, challenge, hook, hook_arg, out, out_len);
    if (hook != NULL) {
        ATLS_BEST_EFFORT(hook(hook_arg, dir, ATLS_TSM_STAGE_REMOVING) != ATLS_OK);
    }
    if (hook == NULL && !atls_tsm_is_configfs(cfg->root)) {
        atls_tsm_remove_attributes(dir); /* what configfs does at rmdir */
    }
    if (rmdir(dir) != 0 && rc == ATLS_OK) {
        int e = errno;
        free(*out);
        *out = NULL;
        ATLS_RAISE(ATTESTER, "tsm: cannot remove %s: %s", dir, strerror(e));
    }
    return rc;
}

/* Attester state: the parsed configuration. */
typedef struct tsm_state {
    char *root;
    int privlevel;
    char *ccel_log;      /* NULL: no CC event log */
    char *ccel_table;    /* NULL: the log is not checked against a table */
    int ccel_explicit;   /* ccel= named the log: a guest that is no TDX guest is an error */
} tsm_state;

/* What one connection's peer has: the CC event log does not change after boot, once is enough
 * (the verifier keeps it with the connection, docs/PROTOCOL.md "Event logs"). */
typedef struct tsm_conn {
    int ccel_sent;
} tsm_conn;

static void tsm_destroy(void *state)
{
    tsm_state *s = state;
    if (s != NULL) {
        free(s->root);
        free(s->ccel_log);
        free(s->ccel_table);
        free(s);
    }
}

/* path_option: "none" turns the file off (*out NULL); a path must be readable now, so a typo
 * fails at start-up, not at the first attestation. */
static atls_error path_option(const char *key, const char *value, char **out)
{
    free(*out);
    *out = NULL;
    if (strcmp(value, "none") == 0) {
        return ATLS_OK;
    }
    ATLS_ENSURE(value[0] != '\0' && access(value, R_OK) == 0, ATLS_ERR_USAGE_CONFIG,
                "tsm attester: %s '%s' cannot be read: %s", key, value,
                value[0] != '\0' ? strerror(errno) : "empty path");
    *out = strdup(value);
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

static atls_error parse_config(const char *const *config, tsm_state *s)
{
    int log_given = 0, table_given = 0;
    for (size_t i = 0; config != NULL && config[i] != NULL; i++) {
        const char *kv = config[i];
        if (strncmp(kv, "root=", 5) == 0 && kv[5] != '\0') {
            free(s->root);
            s->root = strdup(kv + 5);
            ATLS_ENSURE(s->root != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        } else if (strncmp(kv, "privlevel=", 10) == 0 && kv[10] >= '0' && kv[10] <= '3' &&
                   kv[11] == '\0') {
            s->privlevel = kv[10] - '0';
        } else if (strncmp(kv, "ccel=", 5) == 0) {
            ATLS_GUARD(path_option("CC event log", kv + 5, &s->ccel_log));
            log_given = 1;
            s->ccel_explicit = s->ccel_log != NULL;
        } else if (strncmp(kv, "ccel_table=", 11) == 0) {
            ATLS_GUARD(path_option("ACPI CCEL table", kv + 11, &s->ccel_table));
            table_given = 1;
        } else {
            ATLS_RAISE(ATLS_ERR_USAGE_CONFIG,
                       "tsm attester: unknown or invalid option \"%s\" (root=DIR, "
                       "privlevel=0..3, ccel=FILE|none, ccel_table=FILE|none)",
                       kv);
        }
    }
    /* by default the kernel's CCEL, where Linux exposes it (a TDX guest; root may read it) */
    if (!log_given && access(ATLS_TSM_DEFAULT_CCEL_LOG, R_OK) == 0 &&
        (table_given || access(ATLS_TSM_DEFAULT_CCEL_TABLE, R_OK) == 0)) {
        ATLS_GUARD(path_option("CC event log", ATLS_TSM_DEFAULT_CCEL_LOG, &s->ccel_log));
    }
    if (!table_given && s->ccel_log != NULL && access(ATLS_TSM_DEFAULT_CCEL_TABLE, R_OK) == 0) {
        ATLS_GUARD(path_option("ACPI CCEL table", ATLS_TSM_DEFAULT_CCEL_TABLE, &s->ccel_table));
    }
    ATLS_ENSURE(s->ccel_table == NULL || s->ccel_log != NULL, ATLS_ERR_USAGE_CONFIG,
                "tsm attester: ccel_table= without a CC event log (ccel=FILE; %s cannot be read)",
                ATLS_TSM_DEFAULT_CCEL_LOG);
    return ATLS_OK;
}

static atls_error tsm_create(const char *const *config, void **state)
{
    tsm_state *s = calloc(1, sizeof(*s));
    ATLS_ENSURE(s != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    s->privlevel = -1;
    atls_error rc = parse_config(config, s);
    if (rc == ATLS_OK && s->root == NULL && (s->root = strdup(ATLS_TSM_DEFAULT_ROOT)) == NULL) {
        rc = atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__, "out of memory");
    }
    if (rc != ATLS_OK) {
        tsm_destroy(s);
        return rc;
    }
    *state = s;
    return ATLS_OK;
}

static atls_error tsm_produce(void *state, const uint8_t *challenge, uint8_t **out,
                              size_t *out_len)
{
    const tsm_state *s = state;
    ATLS_ENSURE(s != NULL, ATLS_ERR_USAGE_STATE, "tsm attester: not created");
    atls_tsm_config cfg = {.root = s->root, .privlevel = s->privlevel};
    return atls_tsm_attest(&cfg, challenge, NULL, NULL, out, out_len);
}

static atls_error tsm_conn_new(void *state, void **conn)
{
    (void)state;
    *conn = calloc(1, sizeof(tsm_conn));
    ATLS_ENSURE(*conn != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

static void tsm_conn_free(void *conn)
{
    free(conn);
}

/* tsm_produce_cmw: the report, and beside a TDX quote the CC event log (RTMR0..3) when this
 * connection has not had it: a collection {"tsm": report, "ccel-log": record}; otherwise the
 * report as a plain record, as produce() gives it. */
static atls_error tsm_produce_cmw(void *state, void *conn, const uint8_t *challenge, size_t max,
                                  uint8_t **out, size_t *out_len)
{
    const tsm_state *s = state;
    tsm_conn one_off = {0}, *c = conn != NULL ? conn : &one_off;
    uint8_t *report = NULL, *rec = NULL;
    size_t report_len = 0, rec_len = 0;
    ATLS_GUARD(tsm_produce(state, challenge, &report, &report_len));
    atls_evidence_parts parts;
    memset(&parts, 0, sizeof(parts));
    atls_tsm_report r;
    atls_error rc = atls_tsm_report_decode(report, report_len, &r);
    int tdx = rc == ATLS_OK && strcmp(r.provider, "tdx_guest") == 0;
    if (rc == ATLS_OK && s->ccel_explicit && !tdx) {
        rc = atls_error_raise(ATTESTER, __FILE__, __LINE__,
                              "tsm attester: a CC event log was configured (ccel=), but the "
                              "provider is %s, not tdx_guest",
                              r.provider);
    }
    if (rc == ATLS_OK && tdx && s->ccel_log != NULL && !c->ccel_sent) {
        rc = atls_tsm_ccel_record(s->ccel_log, s->ccel_table, &rec, &rec_len);
    }
    if (rc == ATLS_OK) {
        rc = atls_evidence_parts_add_owned(&parts, rec != NULL ? "tsm" : NULL,
                                           ATLS_TSM_MEDIA_TYPE, report, report_len,
                                           ATLS_IND_EVIDENCE);
        report = NULL; /* taken over */
    }
    int sending = rec != NULL;
    if (rc == ATLS_OK && rec != NULL) {
        rc = atls_evidence_parts_add_owned(&parts, "ccel-log", ATLS_EVLOG_MEDIA_TYPE, rec,
                                           rec_len, ATLS_IND_EVIDENCE);
        rec = NULL; /* taken over */
    }
    if (rc == ATLS_OK) {
        rc = atls_evidence_parts_encode(&parts, max, "attester tsm", out, out_len);
    }
    if (rc == ATLS_OK && sending) {
        c->ccel_sent = 1; /* the peer has it once it processes this answer (TLS is in order) */
    }
    atls_evidence_parts_cleanup(&parts);
    free(report);
    free(rec);
    return rc;
}

const atls_attester_ops atls_tsm_attester_ops = {
    .name = "tsm",
    .media_type = ATLS_TSM_MEDIA_TYPE,
    .create = tsm_create,
    .produce = tsm_produce,
    .destroy = tsm_destroy,
    .conn_new = tsm_conn_new,
    .conn_free = tsm_conn_free,
    .produce_cmw = tsm_produce_cmw,
};
