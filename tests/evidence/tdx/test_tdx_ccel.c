/* test_tdx_ccel.c: the CC event log (CCEL) of a TD replayed against the RTMRs of its quote
 * (issue 16): the tdx verifier's "ccel" claims, a mismatching RTMR refused, a truncated log,
 * the connection's state (the log sent once), the "eventlog" policy of the tdx section,
 * `policy init`'s event policy, a log no Evidence quotes refused by the appraisal of a
 * collection, and the tsm attester's CCEL record (ACPI table checked, 0xFF fill cut).
 * Quotes from the project's TDX generator (tdx_testgen.c) with the RTMRs a test's own replay
 * (evgen_extend) computes. "shared": the real CCEL logs of ../shared/vectors/eventlog, each in
 * a quote with the RTMRs expected.json gives. */
#include "check.h"
#include "evlog_testgen.h"
#include "tdx_testgen.h"
#include "vectors.h"

#include "codec/cmw/cmw.h"
#include "evidence/eventlog/eventlog.h"
#include "evidence/tdx/tdx.h"
#include "evidence/tsm/tsm.h"

#include <atls/appraisal.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint8_t FMSPC[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
static const uint8_t COMP[16] = {5, 5, 2, 2, 3, 1, 0, 3};

static tg_tdx_pki pki;

/* ---- a CCEL of our own, and its replay by this test ---- */

typedef struct ccel {
    uint8_t *log;
    size_t len;
    uint8_t rtmr[4][48];
} ccel;

/* make_ccel: evgen_ccel_td into |c| */
static void make_ccel(ccel *c, int unknown_type, size_t pad)
{
    memset(c, 0, sizeof(*c));
    atls_writer w;
    atls_writer_init(&w, 1u << 20);
    CHECK(evgen_ccel_td(&w, unknown_type, pad, c->rtmr) == (unknown_type ? 6u : 5u));
    CHECK_OK(atls_writer_finish(&w, &c->log, &c->len));
    atls_writer_cleanup(&w);
}

static uint8_t *quote_with(const uint8_t rtmr[4][48], size_t *len)
{
    tg_tdx_fields f;
    tg_tdx_defaults(&f);
    f.have_rtmr = 1;
    memcpy(f.rtmr, rtmr, sizeof(f.rtmr));
    size_t chain_off = 0;
    uint8_t *q = tg_tdx_quote(&pki, &f, len, &chain_off);
    CHECK(q != NULL);
    return q;
}

static atls_evidence_blob record_of(atls_evlog_kind kind, const uint8_t *log, size_t len,
                                    uint64_t total)
{
    atls_evlog_record r = {.kind = kind, .total = total};
    atls_cursor_init(&r.log, log, len);
    uint8_t *out = NULL;
    size_t out_len = 0;
    CHECK_OK(atls_evlog_record_encode(&r, &out, &out_len));
    return (atls_evidence_blob){out, out_len};
}

static void input_init(atls_verify_input *in)
{
    memset(in, 0, sizeof(*in));
    in->trust_anchors = sk_X509_new_null();
    CHECK(in->trust_anchors != NULL && sk_X509_push(in->trust_anchors, pki.root) == 1);
}

/* verify: the quote with the records |recs| (and |state|); the result's claims or NULL */
static atls_error verify(const uint8_t *q, size_t qlen, const atls_evidence_blob *recs, size_t n,
                         atls_eventlog_state *state, atls_evidence_result *res)
{
    atls_verify_input in;
    input_init(&in);
    in.eventlogs = recs;
    in.num_eventlogs = n;
    in.eventlog_state = state;
    atls_error rc = atls_tdx_verifier_ops.verify(q, qlen, &in, res);
    sk_X509_free(in.trust_anchors);
    return rc;
}

static int covered_is(const atls_evidence_result *res, const char *want)
{
    json_t *cov = json_object_get(json_object_get(json_object_get(res->claims, "eventlogs"), "ccel"),
                                  "covered");
    char *s = json_dumps(cov, JSON_COMPACT);
    int ok = s != NULL && strcmp(s, want) == 0;
    if (!ok) {
        printf("  covered %s, expected %s\n", s != NULL ? s : "(none)", want);
    }
    free(s);
    return ok;
}

static atls_error appraise_text(const atls_evidence_result *res, const char *policy)
{
    json_t *p = json_loads(policy, 0, NULL);
    CHECK(p != NULL);
    atls_trust_vector tv;
    memset(&tv, 0, sizeof(tv));
    atls_error rc = atls_tdx_verifier_ops.check_policy(p);
    if (rc == ATLS_OK) {
        rc = atls_tdx_verifier_ops.appraise(p, res, &tv);
    }
    json_decref(p);
    return rc;
}

#define RELAXED                                                                                   \
    "\"any_mrtd\":true,\"allowed_tcb_statuses\":[\"NotEvaluated\"],"                              \
    "\"allow_unappraised_qe\":true,\"allow_unchecked_revocation\":true"

static void test_replay(void)
{
    ccel c;
    make_ccel(&c, 0, 0);
    size_t qlen = 0;
    uint8_t *q = quote_with(c.rtmr, &qlen);
    atls_evidence_blob rec = record_of(ATLS_EVLOG_CCEL, c.log, c.len, 5);
    atls_evidence_result res;

    /* the log replays to every RTMR of the quote */
    CHECK_OK(verify(q, qlen, &rec, 1, NULL, &res));
    CHECK(covered_is(&res, "[0,1,2,3]"));
    json_t *ccel_claims = json_object_get(json_object_get(res.claims, "eventlogs"), "ccel");
    CHECK(json_array_size(json_object_get(ccel_claims, "events")) == 5);
    const char *cmdline = json_string_value(json_object_get(ccel_claims, "kernel_cmdline"));
    CHECK(cmdline != NULL && strcmp(cmdline, "console=hvc0 root=/dev/vda1") == 0);
    CHECK_OK(appraise_text(&res, "{" RELAXED ",\"eventlog\":{\"kernel_cmdlines\":"
                                 "[\"console=hvc0 root=/dev/vda1\"]}}"));
    CHECK_OK(appraise_text(&res, "{" RELAXED ",\"eventlog\":{}}"));
    CHECK_ERR(appraise_text(&res, "{" RELAXED ",\"eventlog\":{\"kernel_cmdlines\":[\"x\"]}}"),
              ATLS_ERR_POLICY_MISMATCH);
    CHECK_ERR(appraise_text(&res, "{" RELAXED ",\"eventlog\":{\"bogus\":1}}"),
              ATLS_ERR_POLICY_INVALID);
    /* policy init: the events of the log as the "eventlog" object, which accepts it */
    json_t *p = NULL;
    CHECK_OK(atls_tdx_verifier_ops.policy_from_result(&res, &p));
    CHECK(json_is_object(json_object_get(p, "eventlog")));
    CHECK_OK(atls_tdx_verifier_ops.check_policy(p));
    json_decref(p);
    atls_evidence_result_cleanup(&res);

    /* without the log the quote verifies, and an "eventlog" policy refuses it */
    CHECK_OK(verify(q, qlen, NULL, 0, NULL, &res));
    CHECK(json_object_get(res.claims, "eventlogs") == NULL);
    CHECK_ERR(appraise_text(&res, "{" RELAXED ",\"eventlog\":{}}"), ATLS_ERR_POLICY_MISMATCH);
    atls_evidence_result_cleanup(&res);

    /* every RTMR the log extends must match: each one changed in turn is refused */
    for (int r = 0; r < 4; r++) {
        uint8_t bad[4][48];
        memcpy(bad, c.rtmr, sizeof(bad));
        bad[r][7] ^= 0x01;
        size_t blen = 0;
        uint8_t *bq = quote_with(bad, &blen);
        CHECK_ERR(verify(bq, blen, &rec, 1, NULL, &res), ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY);
        CHECK(strstr(atls_error_message(), "RTMR") != NULL);
        free(bq);
    }
    /* a truncated log and a corrupted one fail with their own errors */
    atls_evidence_blob cut = record_of(ATLS_EVLOG_CCEL, c.log, c.len - 3, 5);
    CHECK_ERR(verify(q, qlen, &cut, 1, NULL, &res), ATLS_ERR_DECODE_EVENTLOG_TRUNCATED);
    free((void *)cut.data);
    uint8_t *bent = malloc(c.len);
    memcpy(bent, c.log, c.len);
    /* the last byte of the last event's digest (then its data size and data): the replay no
     * longer reaches the quoted RTMR2 (a changed event data alone would not change the replay:
     * the claims then say the data is not covered by its digest) */
    bent[c.len - 44 - 4 - 1] ^= 0x40;
    atls_evidence_blob corrupt = record_of(ATLS_EVLOG_CCEL, bent, c.len, 5);
    CHECK_ERR(verify(q, qlen, &corrupt, 1, NULL, &res), ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY);
    free((void *)corrupt.data);
    free(bent);

    /* an unknown event type is reported and refused by the event policy unless allowed */
    ccel u;
    make_ccel(&u, 1, 0);
    size_t ulen = 0;
    uint8_t *uq = quote_with(u.rtmr, &ulen);
    atls_evidence_blob urec = record_of(ATLS_EVLOG_CCEL, u.log, u.len, 6);
    CHECK_OK(verify(uq, ulen, &urec, 1, NULL, &res));
    CHECK_ERR(appraise_text(&res, "{" RELAXED ",\"eventlog\":{}}"), ATLS_ERR_POLICY_MISMATCH);
    CHECK(strstr(atls_error_message(), "unknown type") != NULL);
    CHECK_OK(appraise_text(&res, "{" RELAXED ",\"eventlog\":{\"allow_unknown_events\":true}}"));
    atls_evidence_result_cleanup(&res);
    free((void *)urec.data);
    free(uq);
    free(u.log);

    /* a connection: the log once, then the quote alone replays against the state */
    atls_eventlog_state *st = NULL;
    CHECK_OK(atls_eventlog_state_new(&st));
    CHECK_OK(verify(q, qlen, &rec, 1, st, &res));
    atls_evidence_result_cleanup(&res);
    CHECK_OK(verify(q, qlen, NULL, 0, st, &res));
    CHECK(covered_is(&res, "[0,1,2,3]"));
    atls_evidence_result_cleanup(&res);
    uint8_t moved[4][48];
    memcpy(moved, c.rtmr, sizeof(moved));
    moved[3][0] ^= 0x80; /* RTMR3 extended since, by nothing in the log */
    size_t mlen = 0;
    uint8_t *mq = quote_with(moved, &mlen);
    CHECK_ERR(verify(mq, mlen, NULL, 0, st, &res), ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY);
    free(mq);
    atls_eventlog_state_free(st);

    /* a TPM log beside the TD quote is not the TD verifier's: left alone (kinds) */
    atls_evidence_blob two[2] = {rec, record_of(ATLS_EVLOG_TPM, c.log, c.len, 5)};
    CHECK_OK(verify(q, qlen, two, 2, NULL, &res));
    CHECK(json_object_get(json_object_get(res.claims, "eventlogs"), "tcg") == NULL);
    atls_evidence_result_cleanup(&res);

    /* the appraisal of a collection: TD quote + CCEL replays; a TCG log that no Evidence
     * of the collection quotes is refused, never passed over */
    atls_cmw_entry e[3] = {
        {"tdx", ATLS_TDX_MEDIA_TYPE, q, qlen, 4},
        {"ccel-log", ATLS_EVLOG_MEDIA_TYPE, rec.data, rec.len, 4},
        {"tcg-log", ATLS_EVLOG_MEDIA_TYPE, two[1].data, two[1].len, 4},
    };
    atls_verify_input in;
    input_init(&in);
    uint8_t *cmw = NULL;
    size_t cmw_len = 0;
    atls_appraisal a;
    CHECK_OK(atls_cmw_encode_collection(NULL, e, 2, &cmw, &cmw_len));
    CHECK_OK(atls_appraise_cmw(cmw, cmw_len, &in, NULL, &a));
    atls_appraisal_cleanup(&a);
    free(cmw);
    CHECK_OK(atls_cmw_encode_collection(NULL, e, 3, &cmw, &cmw_len));
    CHECK_ERR(atls_appraise_cmw(cmw, cmw_len, &in, NULL, &a), ATLS_ERR_EVIDENCE_FORMAT);
    CHECK(strstr(a.reason, "tcg event log") != NULL);
    atls_appraisal_cleanup(&a);
    free(cmw);
    sk_X509_free(in.trust_anchors);
    free((void *)two[1].data);

    free((void *)rec.data);
    free(q);
    free(c.log);
}

static void write_table(const char *path, uint8_t cc_type, uint64_t laml)
{
    uint8_t t[56];
    evgen_ccel_table(t, cc_type, laml);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(t, 1, sizeof(t), f) == sizeof(t) && fclose(f) == 0);
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(data, 1, len, f) == len && fclose(f) == 0);
}

/* the tsm attester's record: the table checked, the fill cut, the entries replay */
static void test_attester_record(void)
{
    ccel c;
    make_ccel(&c, 0, 4096);
    char dir[] = "/tmp/atls-ccel-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char logp[64], tab[64], sev[64], small[64];
    snprintf(logp, sizeof(logp), "%s/log", dir);
    snprintf(tab, sizeof(tab), "%s/table", dir);
    snprintf(sev, sizeof(sev), "%s/sev", dir);
    snprintf(small, sizeof(small), "%s/small", dir);
    write_file(logp, c.log, c.len);
    write_table(tab, 2, c.len);
    write_table(sev, 1, c.len);
    write_table(small, 2, 512);
    uint8_t *rec = NULL;
    size_t rec_len = 0;
    CHECK_OK(atls_tsm_ccel_record(logp, tab, &rec, &rec_len));
    atls_evlog_record r;
    CHECK_OK(atls_evlog_record_decode(rec, rec_len, &r));
    CHECK(r.kind == ATLS_EVLOG_CCEL && r.total == 5);
    CHECK(atls_cursor_remaining(&r.log) == c.len - 4096); /* no 0xFF fill */
    size_t qlen = 0;
    uint8_t *q = quote_with(c.rtmr, &qlen);
    atls_evidence_blob b = {rec, rec_len};
    atls_evidence_result res;
    CHECK_OK(verify(q, qlen, &b, 1, NULL, &res));
    CHECK(covered_is(&res, "[0,1,2,3]"));
    atls_evidence_result_cleanup(&res);
    free(rec);
    CHECK_OK(atls_tsm_ccel_record(logp, NULL, &rec, &rec_len));
    free(rec);
    CHECK_ERR(atls_tsm_ccel_record(logp, sev, &rec, &rec_len), ATLS_ERR_EVIDENCE_ATTESTER);
    CHECK(strstr(atls_error_message(), "SEV") != NULL);
    CHECK_ERR(atls_tsm_ccel_record(logp, small, &rec, &rec_len), ATLS_ERR_EVIDENCE_ATTESTER);
    char junk[64];
    snprintf(junk, sizeof(junk), "%s/junk", dir);
    write_file(junk, c.log, 56);
    CHECK_ERR(atls_tsm_ccel_record(logp, junk, &rec, &rec_len), ATLS_ERR_DECODE_CCEL_TABLE);
    unlink(junk);
    CHECK_ERR(atls_tsm_ccel_record(tab, NULL, &rec, &rec_len), ATLS_ERR_DECODE_EVENTLOG_HEADER);

    /* the attester's keys: a missing file fails at creation */
    void *st = NULL;
    char kv[100];
    snprintf(kv, sizeof(kv), "ccel=%s/missing", dir);
    const char *cfg[] = {kv, NULL};
    CHECK_ERR(atls_tsm_attester_ops.create(cfg, &st), ATLS_ERR_USAGE_CONFIG);
    const char *cfg2[] = {"ccel_table=/nonexistent/CCEL", NULL};
    CHECK_ERR(atls_tsm_attester_ops.create(cfg2, &st), ATLS_ERR_USAGE_CONFIG);

    unlink(logp);
    unlink(tab);
    unlink(sev);
    unlink(small);
    rmdir(dir);
    free(q);
    free(c.log);
}

/* ---- the real CCEL logs ---- */

static void test_shared(void)
{
    const char *dir = test_shared_vectors("eventlog/expected.json");
    size_t len = 0;
    char *text = (char *)test_vector_read(dir, "eventlog", "expected.json", &len);
    json_t *doc = json_loadb(text, len, 0, NULL);
    free(text);
    CHECK(doc != NULL);
    size_t i, replayed = 0;
    json_t *e;
    json_array_foreach(json_object_get(doc, "logs"), i, e) {
        if (strcmp(json_string_value(json_object_get(e, "kind")), "ccel") != 0) {
            continue;
        }
        const char *file = json_string_value(json_object_get(e, "file"));
        size_t llen = 0;
        uint8_t *log = test_vector_read(dir, "eventlog", file, &llen);
        CHECK(log != NULL);
        if (log == NULL) {
            continue;
        }
        uint8_t rtmr[4][48];
        memset(rtmr, 0, sizeof(rtmr)); /* registers no event extends: any value */
        char want[16] = "[";
        const char *idx;
        json_t *hex;
        json_object_foreach(json_object_get(e, "rtmrs"), idx, hex) {
            int r = atoi(idx);
            const char *h = json_string_value(hex);
            for (int k = 0; k < 48; k++) {
                unsigned v = 0;
                CHECK(sscanf(h + 2 * k, "%2x", &v) == 1);
                rtmr[r][k] = (uint8_t)v;
            }
            snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%d",
                     strlen(want) > 1 ? "," : "", r);
        }
        strcat(want, "]");
        size_t qlen = 0;
        uint8_t *q = quote_with(rtmr, &qlen);
        size_t events = (size_t)json_integer_value(json_object_get(e, "events"));
        atls_evidence_blob rec = record_of(ATLS_EVLOG_CCEL, log, llen, events);
        atls_evidence_result res;
        CHECK_OK(verify(q, qlen, &rec, 1, NULL, &res));
        CHECK(covered_is(&res, want));
        json_t *cl = json_object_get(json_object_get(res.claims, "eventlogs"), "ccel");
        CHECK(json_array_size(json_object_get(cl, "events")) == events);
        const char *cmdline = json_string_value(json_object_get(cl, "kernel_cmdline"));
        printf("%s: %zu bytes, %zu events replay to RTMRs %s of a generated TD quote; kernel "
               "command line %s\n",
               file, llen, events, want, cmdline != NULL ? cmdline : "(none)");
        replayed++;
        atls_evidence_result_cleanup(&res);
        /* one RTMR off: refused */
        rtmr[0][47] ^= 1;
        free(q);
        q = quote_with(rtmr, &qlen);
        CHECK_ERR(verify(q, qlen, &rec, 1, NULL, &res), ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY);
        /* the log area with its ACPI table, as the tsm attester reads them: the record
         * carries the entries only */
        const char *table = json_string_value(json_object_get(e, "acpi_table"));
        if (table != NULL) {
            char logp[600], tabp[600];
            snprintf(logp, sizeof(logp), "%s/eventlog/%s", dir, file);
            snprintf(tabp, sizeof(tabp), "%s/eventlog/ccel/goeventlog_CCEL.bin", dir);
            uint8_t *r2 = NULL;
            size_t r2_len = 0;
            CHECK_OK(atls_tsm_ccel_record(logp, tabp, &r2, &r2_len));
            size_t content = (size_t)json_integer_value(
                json_object_get(json_object_get(e, "log_end"), "content_bytes"));
            CHECK(r2_len < content + 64);
            printf("%s with its ACPI table: a %zu-byte record for a %zu-byte log area\n", file,
                   r2_len, llen);
            free(r2);
        }
        free((void *)rec.data);
        free(q);
        free(log);
    }
    CHECK(replayed == 2);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    CHECK(tg_tdx_pki_new(&pki, FMSPC, COMP, 11));
    if (test_shared_mode(argc, argv)) {
        test_shared();
    } else {
        test_replay();
        test_attester_record();
    }
    tg_tdx_pki_free(&pki);
    return check_summary();
}
