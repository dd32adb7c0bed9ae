/* tpm2_attester_ops.c: the "tpm2" attester plug-in (include/atls/evidence.h): a quote, and
 * with it in one CMW collection the firmware event log and the IMA measurement list
 * (docs/EVIDENCE.md "Event logs", docs/PROTOCOL.md "Event logs"). Per connection it
 * remembers how many IMA entries the peer already has, so a re-attestation sends only the
 * entries appended since. */
#include "evidence/tpm2/tpm2.h"

#include "base/file.h"
#include "base/result.h"
#include "codec/cmw/cmw.h"
#include "evidence/eventlog/eventlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_FIRMWARE_LOG "/sys/kernel/security/tpm0/binary_bios_measurements"
#define DEFAULT_IMA_LIST "/sys/kernel/security/ima/binary_runtime_measurements"
#define RECORD_OVERHEAD 160 /* CMW entry + record map around a log, generously */

struct tpm2_state {
    atls_tpm2_attester *tpm;
    char *firmware_log; /* NULL: none */
    char *ima_list;
};

struct tpm2_conn {
    int firmware_sent;  /* the firmware log went out on this connection */
    size_t ima_sent;    /* IMA entries the peer has */
};

/* log_option: "none" turns a log off; a path must be readable (checked now, so a typo fails
 * at start-up, not at the first attestation). */
static atls_error log_option(const char *key, const char *value, char **out)
{
    free(*out);
    *out = NULL;
    if (strcmp(value, "none") == 0) {
        return ATLS_OK;
    }
    ATLS_ENSURE(value[0] != '\0' && access(value, R_OK) == 0, ATLS_ERR_USAGE_CONFIG,
                "tpm2 attester: %s log '%s' cannot be read: %s", key, value, strerror(errno));
    *out = strdup(value);
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

static void tpm2_destroy(void *state)
{
    struct tpm2_state *st = state;
    if (st == NULL) {
        return;
    }
    atls_tpm2_attester_free(st->tpm);
    free(st->firmware_log);
    free(st->ima_list);
    free(st);
}

static atls_error parse_config(const char *const *config, struct tpm2_state *st,
                               atls_tpm2_attester_config *cfg, atls_tpm2_pcr_selection *sel)
{
    int logs_given = 0;
    for (size_t i = 0; config != NULL && config[i] != NULL; i++) {
        const char *kv = config[i];
        if (strncmp(kv, "tcti=", 5) == 0) {
            cfg->tcti = kv + 5;
        } else if (strncmp(kv, "ak_handle=", 10) == 0) {
            char *end = NULL;
            errno = 0;
            unsigned long h = strtoul(kv + 10, &end, 0);
            ATLS_ENSURE(errno == 0 && end != kv + 10 && *end == '\0' && h <= 0xffffffffu,
                        ATLS_ERR_USAGE_CONFIG, "tpm2 attester: bad ak_handle '%s'", kv + 10);
            cfg->ak_handle = (uint32_t)h;
        } else if (strncmp(kv, "pcrs=", 5) == 0) {
            ATLS_GUARD(atls_tpm2_pcr_selection_parse(kv + 5, sel));
            cfg->pcrs = sel;
        } else if (strncmp(kv, "eventlog=", 9) == 0) {
            ATLS_GUARD(log_option("firmware event", kv + 9, &st->firmware_log));
            logs_given |= 1;
        } else if (strncmp(kv, "ima=", 4) == 0) {
            ATLS_GUARD(log_option("IMA", kv + 4, &st->ima_list));
            logs_given |= 2;
        } else {
            ATLS_RAISE(ATLS_ERR_USAGE_CONFIG, "tpm2 attester: unknown option '%s'", kv);
        }
    }
    /* the kernel's logs belong to the kernel's TPM: by default only for a device TCTI (a
     * software TPM's PCRs never match them) */
    int kernel_tpm = cfg->tcti != NULL && (strncmp(cfg->tcti, "device", 6) == 0 ||
                                           strncmp(cfg->tcti, "tabrmd", 6) == 0);
    if (kernel_tpm && !(logs_given & 1) && access(DEFAULT_FIRMWARE_LOG, R_OK) == 0) {
        ATLS_GUARD(log_option("firmware event", DEFAULT_FIRMWARE_LOG, &st->firmware_log));
    }
    if (kernel_tpm && !(logs_given & 2) && access(DEFAULT_IMA_LIST, R_OK) == 0) {
        ATLS_GUARD(log_option("IMA", DEFAULT_IMA_LIST, &st->ima_list));
    }
    return ATLS_OK;
}

const char *atls_tpm2_default_tcti(void)
{
    static const char *const vars[] = {"ATLS_TPM2_TCTI", "TPM2TOOLS_TCTI", "TCTI"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && v[0] != '\0') {
            return v;
        }
    }
    return NULL;
}

static atls_error tpm2_create(const char *const *config, void **state)
{
    struct tpm2_state *st = calloc(1, sizeof(*st));
    ATLS_ENSURE(st != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    atls_tpm2_attester_config cfg = {.tcti = atls_tpm2_default_tcti()};
    atls_tpm2_pcr_selection sel;
    atls_error rc = parse_config(config, st, &cfg, &sel);
    if (rc == ATLS_OK) {
        rc = atls_tpm2_attester_new(&cfg, &st->tpm);
    }
    if (rc != ATLS_OK) {
        tpm2_destroy(st);
        return rc;
    }
    *state = st;
    return ATLS_OK;
}

static atls_error quote(struct tpm2_state *st, const uint8_t *challenge, uint8_t **out,
                        size_t *out_len)
{
    atls_tpm2_quote q;
    ATLS_GUARD(atls_tpm2_attester_quote(st->tpm, challenge, ATLS_CHALLENGE_LEN, &q));
    atls_error rc = atls_tpm2_quote_encode(&q, out, out_len);
    atls_tpm2_quote_cleanup(&q);
    return rc;
}

static atls_error tpm2_produce(void *state, const uint8_t *challenge, uint8_t **out,
                               size_t *out_len)
{
    return quote(state, challenge, out, out_len);
}

static atls_error tpm2_conn_new(void *state, void **conn)
{
    (void)state;
    *conn = calloc(1, sizeof(struct tpm2_conn));
    ATLS_ENSURE(*conn != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

static void tpm2_conn_free(void *conn)
{
    free(conn);
}

/* One log record being built. */
struct part {
    uint8_t *file;   /* the whole file as read */
    size_t file_len;
    uint8_t *record; /* encoded application/vnd.atls.eventlog+cbor */
    size_t record_len;
    size_t ima_to;   /* IMA: entries the peer has once this record arrives */
};

static void part_cleanup(struct part *p)
{
    free(p->file);
    free(p->record);
    memset(p, 0, sizeof(*p));
}

/* ima_part: the IMA entries the peer lacks, as many as fit |budget| bytes. The list is
 * read after the quote: entries appended in between make the replay fail, and the client
 * asks again (docs/PROTOCOL.md). */
static atls_error ima_part(const char *path, size_t from, size_t budget, struct part *p)
{
    ATLS_GUARD(atls_file_read(path, ATLS_EVLOG_MAX_SIZE, &p->file, &p->file_len));
    atls_evlog log;
    atls_error rc = atls_evlog_parse_ima(p->file, p->file_len, &log);
    if (rc != ATLS_OK) {
        atls_evlog_cleanup(&log);
        return rc;
    }
    if (from > log.num_events) {
        from = 0; /* the list is shorter than what was sent: start over */
    }
    size_t begin = from < log.num_events ? log.events[from].offset : p->file_len;
    size_t to = from;
    while (to < log.num_events) {
        size_t end = to + 1 < log.num_events ? log.events[to + 1].offset : p->file_len;
        if (end - begin + RECORD_OVERHEAD > budget) {
            break;
        }
        to++;
    }
    size_t end = to < log.num_events ? log.events[to].offset : p->file_len;
    atls_evlog_record rec = {.kind = ATLS_EVLOG_IMA, .start = from, .total = log.num_events};
    atls_cursor_init(&rec.log, p->file + begin, end - begin);
    size_t total = log.num_events;
    atls_evlog_cleanup(&log);
    ATLS_ENSURE(to > from || from == total, ATLS_ERR_EVIDENCE_ATTESTER,
                "tpm2 attester: IMA entry %zu does not fit the %zu bytes left", from, budget);
    p->ima_to = to;
    return atls_evlog_record_encode(&rec, &p->record, &p->record_len);
}

static atls_error firmware_part(const char *path, struct part *p)
{
    ATLS_GUARD(atls_file_read(path, ATLS_EVLOG_MAX_SIZE, &p->file, &p->file_len));
    atls_evlog_record rec = {.kind = ATLS_EVLOG_TPM};
    atls_cursor_init(&rec.log, p->file, p->file_len);
    return atls_evlog_record_encode(&rec, &p->record, &p->record_len);
}

static atls_error tpm2_produce_cmw(void *state, void *conn, const uint8_t *challenge, size_t max,
                                   uint8_t **out, size_t *out_len)
{
    struct tpm2_state *st = state;
    struct tpm2_conn one_off = {0}, *c = conn != NULL ? conn : &one_off;
    uint8_t *q = NULL;
    size_t q_len = 0;
    struct part fw = {0}, ima = {0};
    atls_cmw_entry e[3];
    size_t n = 0;
    atls_error rc = quote(st, challenge, &q, &q_len);
    if (rc != ATLS_OK) {
        return rc;
    }
    e[n++] = (atls_cmw_entry){"tpm2", ATLS_TPM2_MEDIA_TYPE, q, q_len, ATLS_CMW_IND_EVIDENCE};
    size_t used = q_len + RECORD_OVERHEAD;
    /* the firmware log does not change after boot: once per connection */
    if (rc == ATLS_OK && st->firmware_log != NULL && !c->firmware_sent) {
        rc = firmware_part(st->firmware_log, &fw);
        if (rc == ATLS_OK) {
            e[n++] = (atls_cmw_entry){"tcg-log", ATLS_EVLOG_MEDIA_TYPE, fw.record, fw.record_len,
                                      ATLS_CMW_IND_EVIDENCE};
            used += fw.record_len + RECORD_OVERHEAD;
        }
    }
    if (rc == ATLS_OK && used > max) {
        rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                              "tpm2 attester: quote and firmware log of %zu bytes, at most %zu",
                              used, max);
    }
    if (rc == ATLS_OK && st->ima_list != NULL) {
        rc = ima_part(st->ima_list, c->ima_sent, max - used, &ima);
        if (rc == ATLS_OK) {
            e[n++] = (atls_cmw_entry){"ima-log", ATLS_EVLOG_MEDIA_TYPE, ima.record,
                                      ima.record_len, ATLS_CMW_IND_EVIDENCE};
        }
    }
    if (rc == ATLS_OK) {
        rc = atls_cmw_encode_collection(NULL, e, n, out, out_len);
    }
    if (rc == ATLS_OK && *out_len > max) {
        free(*out);
        *out = NULL;
        rc = atls_error_raise(ATLS_ERR_EVIDENCE_ATTESTER, __FILE__, __LINE__,
                              "tpm2 attester: CMW of %zu bytes, at most %zu", *out_len, max);
    }
    if (rc == ATLS_OK) {
        /* the peer has these once it processes this answer (TLS delivers in order) */
        c->firmware_sent |= fw.record != NULL;
        if (ima.record != NULL) {
            c->ima_sent = ima.ima_to;
        }
    }
    free(q);
    part_cleanup(&fw);
    part_cleanup(&ima);
    return rc;
}

const atls_attester_ops atls_tpm2_attester_ops = {
    .name = "tpm2",
    .media_type = ATLS_TPM2_MEDIA_TYPE,
    .create = tpm2_create,
    .produce = tpm2_produce,
    .destroy = tpm2_destroy,
    .conn_new = tpm2_conn_new,
    .conn_free = tpm2_conn_free,
    .produce_cmw = tpm2_produce_cmw,
};
