/* test_eventlog_verify.c: event log records, verification against quoted registers with a
 * connection's state (incremental IMA delivery), and the policy over events. */
#include "check.h"
#include "evlog_testgen.h"

#include "evidence/eventlog/eventlog.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

static const uint16_t SHA1_256[] = {0x0004, 0x000B};
static const uint8_t GLOBAL_GUID[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                        0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
static const uint8_t FILE_DIGEST[32] = {0xaa, 0xbb};

static uint8_t *finish(atls_writer *w, size_t *len)
{
    uint8_t *out = NULL;
    CHECK_OK(atls_writer_finish(w, &out, len));
    atls_writer_cleanup(w);
    return out;
}

/* record: one encoded application/vnd.atls.eventlog+cbor */
static atls_evidence_blob record(atls_evlog_kind kind, uint64_t start, uint64_t total,
                                 const uint8_t *log, size_t len)
{
    atls_evlog_record r = {.kind = kind, .start = start, .total = total};
    atls_cursor_init(&r.log, log, len);
    uint8_t *out = NULL;
    size_t out_len = 0;
    CHECK_OK(atls_evlog_record_encode(&r, &out, &out_len));
    return (atls_evidence_blob){out, out_len};
}

/* quote_of: the "quoted" registers of a log's own replay (as a genuine quote would say). */
static size_t quote_of(const uint8_t *log, size_t len, atls_evlog_kind kind, const uint16_t *algs,
                       size_t nalg, uint8_t values[][64], atls_evlog_quoted *q)
{
    atls_evlog el;
    atls_evlog_replay r;
    CHECK_OK(kind == ATLS_EVLOG_IMA ? atls_evlog_parse_ima(log, len, &el)
                                    : atls_evlog_parse_tpm(log, len, &el));
    CHECK_OK(atls_evlog_replay_init(&r, &el, algs, nalg));
    CHECK_OK(atls_evlog_replay_run(&r, &el));
    size_t n = 0;
    for (size_t b = 0; b < r.num_banks; b++) {
        for (unsigned reg = 0; reg < 24; reg++) {
            memcpy(values[n], r.banks[b].value[reg], r.banks[b].size);
            q[n] = (atls_evlog_quoted){r.banks[b].alg, reg, values[n], r.banks[b].size};
            n++;
        }
    }
    atls_evlog_cleanup(&el);
    return n;
}

static uint8_t *firmware_log(size_t *len, const char *unknown)
{
    atls_writer w, v;
    atls_writer_init(&w, 0);
    atls_writer_init(&v, 0);
    uint8_t on = 1, image[36] = {0};
    image[24] = 4;
    CHECK(evgen_efi_variable(&v, GLOBAL_GUID, "SecureBoot", &on, 1));
    CHECK(evgen_spec_id(&w, 0, SHA1_256, 2));
    CHECK(evgen_event2(&w, SHA1_256, 2, 7, 0x80000001, NULL, 0, atls_writer_data(&v),
                       atls_writer_len(&v)));
    CHECK(evgen_event2(&w, SHA1_256, 2, 4, 0x80000003, "shim", 4, image, sizeof(image)));
    CHECK(evgen_event2(&w, SHA1_256, 2, 8, 0xd, "ro", 2, "kernel_cmdline: ro", 19));
    if (unknown != NULL) {
        CHECK(evgen_event2(&w, SHA1_256, 2, 9, 0x7777, NULL, 0, unknown, strlen(unknown)));
    }
    atls_writer_cleanup(&v);
    return finish(&w, len);
}

static void test_records(void)
{
    static const uint8_t log[] = {1, 2, 3};
    atls_evidence_blob b = record(ATLS_EVLOG_IMA, 2, 5, log, 3);
    atls_evlog_record r;
    CHECK_OK(atls_evlog_record_decode(b.data, b.len, &r));
    CHECK(r.kind == ATLS_EVLOG_IMA && r.start == 2 && r.total == 5 &&
          atls_cursor_equals(&r.log, log, 3));
    CHECK_ERR(atls_evlog_record_decode(b.data, b.len - 1, &r), ATLS_ERR_DECODE_TRUNCATED);
    uint8_t *more = malloc(b.len + 1);
    memcpy(more, b.data, b.len);
    more[b.len] = 0;
    CHECK_ERR(atls_evlog_record_decode(more, b.len + 1, &r), ATLS_ERR_DECODE_TRAILING);
    free(more);
    free((void *)b.data);
    /* a firmware log is never delivered in parts */
    atls_evlog_record bad = {.kind = ATLS_EVLOG_TPM, .start = 1, .total = 2};
    uint8_t *out = NULL;
    size_t out_len = 0;
    CHECK_ERR(atls_evlog_record_encode(&bad, &out, &out_len), ATLS_ERR_USAGE);
    /* hand-made CBOR: kind "tcg" with start 1; an unknown kind; keys out of order */
    static const uint8_t tcg_start1[] = {0xa4, 0x63, 'l', 'o', 'g', 0x41, 0x00, 0x64, 'k', 'i',
                                         'n', 'd', 0x63, 't', 'c', 'g', 0x65, 's', 't', 'a', 'r',
                                         't', 0x01, 0x65, 't', 'o', 't', 'a', 'l', 0x02};
    CHECK_ERR(atls_evlog_record_decode(tcg_start1, sizeof(tcg_start1), &r), ATLS_ERR_DECODE_VALUE);
    static const uint8_t kind_x[] = {0xa4, 0x63, 'l', 'o', 'g', 0x41, 0x00, 0x64, 'k', 'i',
                                     'n', 'd', 0x63, 'x', 'y', 'z', 0x65, 's', 't', 'a', 'r',
                                     't', 0x00, 0x65, 't', 'o', 't', 'a', 'l', 0x02};
    CHECK_ERR(atls_evlog_record_decode(kind_x, sizeof(kind_x), &r), ATLS_ERR_DECODE_VALUE);
    static const uint8_t order[] = {0xa4, 0x64, 'k', 'i', 'n', 'd', 0x63, 'i', 'm', 'a', 0x63,
                                    'l', 'o', 'g', 0x41, 0x00, 0x65, 's', 't', 'a', 'r', 't',
                                    0x00, 0x65, 't', 'o', 't', 'a', 'l', 0x02};
    CHECK_ERR(atls_evlog_record_decode(order, sizeof(order), &r), ATLS_ERR_DECODE_VALUE);
    static const uint8_t missing[] = {0xa1, 0x63, 'l', 'o', 'g', 0x41, 0x00};
    CHECK_ERR(atls_evlog_record_decode(missing, sizeof(missing), &r), ATLS_ERR_DECODE_VALUE);
}

static void test_firmware(void)
{
    size_t len = 0;
    uint8_t *log = firmware_log(&len, NULL);
    uint8_t values[64][64];
    atls_evlog_quoted q[64];
    size_t nq = quote_of(log, len, ATLS_EVLOG_TPM, NULL, 0, values, q);
    atls_evidence_blob rec = record(ATLS_EVLOG_TPM, 0, 0, log, len);
    json_t *claims = json_object();
    CHECK_OK(atls_evlog_verify(&rec, 1, 1u << ATLS_EVLOG_TPM, q, nq, NULL, claims));
    json_t *tcg = json_object_get(json_object_get(claims, "eventlogs"), "tcg");
    CHECK(json_is_true(json_object_get(tcg, "secure_boot")));
    CHECK(json_array_size(json_object_get(tcg, "covered")) == 3); /* PCR 4, 7, 8 */
    json_decref(claims);

    /* only the sha256 bank of PCR 4 and 8 quoted: PCR 7's event is not listed, no Secure
     * Boot claim */
    atls_evlog_quoted few[2] = {q[24 + 4], q[24 + 8]};
    claims = json_object();
    CHECK_OK(atls_evlog_verify(&rec, 1, 1u << ATLS_EVLOG_TPM, few, 2, NULL, claims));
    tcg = json_object_get(json_object_get(claims, "eventlogs"), "tcg");
    CHECK(json_object_get(tcg, "secure_boot") == NULL);
    CHECK(json_integer_value(json_object_get(tcg, "uncovered_events")) == 1);
    json_decref(claims);

    /* a quoted value the log does not replay to */
    values[24 + 7][0] ^= 1;
    claims = json_object();
    CHECK_ERR(atls_evlog_verify(&rec, 1, 1u << ATLS_EVLOG_TPM, q, nq, NULL, claims),
              ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY);
    CHECK(json_object_get(claims, "eventlogs") == NULL);
    json_decref(claims);
    /* a quote of a bank the log lacks */
    atls_evlog_quoted sha384 = {0x000C, 7, values[0], 48};
    claims = json_object();
    CHECK_ERR(atls_evlog_verify(&rec, 1, 1u << ATLS_EVLOG_TPM, &sha384, 1, NULL, claims),
              ATLS_ERR_EVIDENCE_EVENTLOG_BANK);
    /* a log this Evidence does not take is left for another verifier of the collection
     * (atls_appraise_cmw fails a log that none takes: test_tdx_ccel); two logs of one kind */
    json_t *other = json_object();
    CHECK_OK(atls_evlog_verify(&rec, 1, 1u << ATLS_EVLOG_IMA, q, nq, NULL, other));
    CHECK(json_object_get(other, "eventlogs") == NULL);
    json_decref(other);
    atls_evidence_blob two[2] = {rec, rec};
    CHECK_ERR(atls_evlog_verify(two, 2, 1u << ATLS_EVLOG_TPM, q, nq, NULL, claims),
              ATLS_ERR_DECODE_VALUE);
    json_decref(claims);
    free((void *)rec.data);
    free(log);
}

/* ima: a list of |n| entries, files /f0, /f1, ... */
static uint8_t *ima(size_t n, size_t *len, size_t *offsets)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    for (size_t i = 0; i < n; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/f%zu", i);
        offsets[i] = atls_writer_len(&w);
        CHECK(evgen_ima_ng(&w, 10, "ima-ng", "sha256", FILE_DIGEST, 32, path, NULL, 0));
    }
    offsets[n] = atls_writer_len(&w);
    return finish(&w, len);
}

static void test_ima_incremental(void)
{
    static const uint16_t sha256[] = {0x000B};
    size_t len = 0, off[8];
    uint8_t *list = ima(5, &len, off);
    uint8_t values[64][64];
    atls_evlog_quoted q3[24], q5[24];
    uint8_t values5[64][64];
    quote_of(list, off[3], ATLS_EVLOG_IMA, sha256, 1, values, q3);
    quote_of(list, len, ATLS_EVLOG_IMA, sha256, 1, values5, q5);
    atls_eventlog_state *st = NULL;
    CHECK_OK(atls_eventlog_state_new(&st));
    unsigned kinds = 1u << ATLS_EVLOG_IMA;

    atls_evidence_blob first = record(ATLS_EVLOG_IMA, 0, 3, list, off[3]);
    json_t *c = json_object();
    CHECK_OK(atls_evlog_verify(&first, 1, kinds, &q3[10], 1, st, c));
    json_t *l = json_object_get(json_object_get(c, "eventlogs"), "ima");
    CHECK(json_is_true(json_object_get(l, "complete")) &&
          json_array_size(json_object_get(l, "events")) == 3);
    json_decref(c);

    /* the tail continues the state; the claims hold every entry since the start */
    atls_evidence_blob tail = record(ATLS_EVLOG_IMA, 3, 5, list + off[3], len - off[3]);
    c = json_object();
    CHECK_OK(atls_evlog_verify(&tail, 1, kinds, &q5[10], 1, st, c));
    l = json_object_get(json_object_get(c, "eventlogs"), "ima");
    CHECK(json_array_size(json_object_get(l, "events")) == 5);
    json_decref(c);
    /* no record: the state's list is appraised again against the new quote */
    c = json_object();
    CHECK_OK(atls_evlog_verify(NULL, 0, kinds, &q5[10], 1, st, c));
    CHECK(json_array_size(json_object_get(json_object_get(json_object_get(c, "eventlogs"), "ima"),
                                          "events")) == 5);
    json_decref(c);
    /* a tail that does not continue what this connection has; a tail without a state */
    c = json_object();
    CHECK_ERR(atls_evlog_verify(&tail, 1, kinds, &q5[10], 1, st, c),
              ATLS_ERR_EVIDENCE_EVENTLOG_STATE);
    CHECK_ERR(atls_evlog_verify(&tail, 1, kinds, &q5[10], 1, NULL, c),
              ATLS_ERR_EVIDENCE_EVENTLOG_STATE);
    json_decref(c);
    free((void *)tail.data);

    /* a fresh connection: a partial first delivery (3 of 5) is not compared (the quote covers
     * entries not received yet) and says so; the rest completes it */
    atls_eventlog_state *st2 = NULL;
    CHECK_OK(atls_eventlog_state_new(&st2));
    atls_evidence_blob part = record(ATLS_EVLOG_IMA, 0, 5, list, off[3]);
    c = json_object();
    CHECK_OK(atls_evlog_verify(&part, 1, kinds, &q5[10], 1, st2, c));
    l = json_object_get(json_object_get(c, "eventlogs"), "ima");
    CHECK(json_is_false(json_object_get(l, "complete")));
    CHECK(json_array_size(json_object_get(l, "events")) == 0);
    json_t *pol = json_pack("{s{s[s]}}", "allowlist", "/f0", "sha256:aa");
    CHECK_ERR(atls_evlog_policy_appraise(NULL, pol, c), ATLS_ERR_POLICY_UNAPPRAISED);
    json_decref(c);
    tail = record(ATLS_EVLOG_IMA, 3, 5, list + off[3], len - off[3]);
    c = json_object();
    /* a wrong quote: fails, and the state stays where it was */
    values5[10][0] ^= 1;
    CHECK_ERR(atls_evlog_verify(&tail, 1, kinds, &q5[10], 1, st2, c),
              ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY);
    values5[10][0] ^= 1;
    /* the list ran ahead of the quote (entries appended after quoting): the quote covers the
     * first three, the other two are pending, listed once a quote covers them */
    CHECK_OK(atls_evlog_verify(&tail, 1, kinds, &q3[10], 1, st2, c));
    l = json_object_get(json_object_get(c, "eventlogs"), "ima");
    CHECK(json_array_size(json_object_get(l, "events")) == 3 &&
          json_integer_value(json_object_get(l, "pending")) == 2);
    json_decref(c);
    c = json_object();
    CHECK_OK(atls_evlog_verify(NULL, 0, kinds, &q5[10], 1, st2, c));
    l = json_object_get(json_object_get(c, "eventlogs"), "ima");
    CHECK(json_is_true(json_object_get(l, "complete")) &&
          json_array_size(json_object_get(l, "events")) == 5);
    json_decref(c);
    json_decref(pol);
    free((void *)tail.data);
    free((void *)part.data);
    free((void *)first.data);
    atls_eventlog_state_free(st2);
    atls_eventlog_state_free(st);
    free(list);
}

static json_t *verified_claims(const uint8_t *log, size_t len, atls_evlog_kind kind)
{
    static const uint16_t sha256[] = {0x000B};
    uint8_t values[64][64];
    atls_evlog_quoted q[64];
    size_t nq = quote_of(log, len, kind, kind == ATLS_EVLOG_IMA ? sha256 : NULL,
                         kind == ATLS_EVLOG_IMA ? 1 : 0, values, q);
    atls_evidence_blob rec = record(kind, 0, kind == ATLS_EVLOG_IMA ? 3 : 0, log, len);
    json_t *c = json_object();
    CHECK_OK(atls_evlog_verify(&rec, 1, 1u << kind, q, nq, NULL, c));
    free((void *)rec.data);
    return c;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    CHECK(j != NULL);
    return j;
}

static void test_policy(void)
{
    size_t len = 0;
    uint8_t *log = firmware_log(&len, NULL);
    json_t *c = verified_claims(log, len, ATLS_EVLOG_TPM);
    json_t *p = json_object();
    CHECK_OK(atls_evlog_policy_from_claims(c, p));
    json_t *elog = json_object_get(p, "eventlog");
    CHECK_OK(atls_evlog_policy_check(elog, NULL));
    CHECK_OK(atls_evlog_policy_appraise(elog, NULL, c));
    CHECK(json_is_true(json_object_get(elog, "secure_boot")));
    json_object_set_new(elog, "secure_boot", json_false());
    CHECK_ERR(atls_evlog_policy_appraise(elog, NULL, c), ATLS_ERR_POLICY_MISMATCH);
    json_object_set_new(elog, "secure_boot", json_true());
    json_object_set_new(elog, "kernel_cmdlines", json_pack("[s]", "ro quiet"));
    CHECK_ERR(atls_evlog_policy_appraise(elog, NULL, c), ATLS_ERR_POLICY_MISMATCH);
    json_object_set_new(elog, "kernel_cmdlines", json_pack("[ss]", "ro quiet", "ro"));
    CHECK_OK(atls_evlog_policy_appraise(elog, NULL, c));
    json_object_set_new(elog, "boot_applications",
                        json_pack("{s[s]}", "sha256",
                                  "0000000000000000000000000000000000000000000000000000000000000000"));
    CHECK_ERR(atls_evlog_policy_appraise(elog, NULL, c), ATLS_ERR_POLICY_MISMATCH);
    /* no firmware log at all */
    json_t *none = json_object();
    CHECK_ERR(atls_evlog_policy_appraise(elog, NULL, none), ATLS_ERR_POLICY_MISMATCH);
    json_decref(none);
    json_decref(c);
    json_decref(p);
    free(log);

    /* an event of a type atls does not know: rejected unless the policy allows it */
    log = firmware_log(&len, "vendor");
    c = verified_claims(log, len, ATLS_EVLOG_TPM);
    json_t *strict = parse("{\"secure_boot\": true}");
    CHECK_ERR(atls_evlog_policy_appraise(strict, NULL, c), ATLS_ERR_POLICY_MISMATCH);
    json_object_set_new(strict, "allow_unknown_events", json_true());
    CHECK_OK(atls_evlog_policy_appraise(strict, NULL, c));
    json_decref(strict);
    json_decref(c);
    free(log);

    /* shapes */
    const char *invalid[] = {"{\"secure_boot\": 1}", "{\"kernel_cmdlines\": \"ro\"}",
                             "{\"boot_applications\": {\"md5\": []}}", "{\"nope\": true}",
                             "{\"boot_applications\": {\"sha256\": [\"00\"]}}"};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        json_t *j = parse(invalid[i]);
        CHECK_ERR(atls_evlog_policy_check(j, NULL), ATLS_ERR_POLICY_INVALID);
        json_decref(j);
    }
    const char *invalid_ima[] = {"{}", "{\"allowlist\": []}", "{\"allowlist\": {\"/a\": [1]}}",
                                 "{\"allowlist\": {}, \"exclude\": [\"(\"]}",
                                 "{\"allowlist_file\": 3}", "{\"allowlist\": {}, \"x\": 1}"};
    for (size_t i = 0; i < sizeof(invalid_ima) / sizeof(invalid_ima[0]); i++) {
        json_t *j = parse(invalid_ima[i]);
        CHECK_ERR(atls_evlog_policy_check(NULL, j), ATLS_ERR_POLICY_INVALID);
        json_decref(j);
    }
}

static void test_ima_policy(void)
{
    atls_writer w;
    atls_writer_init(&w, 0);
    CHECK(evgen_ima_ng(&w, 10, "ima-ng", "sha256", FILE_DIGEST, 32, "/usr/bin/a", NULL, 0));
    CHECK(evgen_ima_ng(&w, 10, "ima-ng", "sha256", FILE_DIGEST, 32, "/tmp/x", NULL, 0));
    CHECK(evgen_ima_violation(&w, 10, "/var/log/raced"));
    size_t len = 0;
    uint8_t *list = finish(&w, &len);
    json_t *c = verified_claims(list, len, ATLS_EVLOG_IMA);
    const char *hex = "aabb000000000000000000000000000000000000000000000000000000000000";
    json_t *pol = json_pack("{s{s[s]}s[s]}", "allowlist", "/usr/bin/a", hex, "exclude", "^/tmp/");
    CHECK_OK(atls_evlog_policy_check(NULL, pol));
    /* the violation is refused by default */
    CHECK_ERR(atls_evlog_policy_appraise(NULL, pol, c), ATLS_ERR_POLICY_MISMATCH);
    json_object_set_new(pol, "allow_violations", json_true());
    CHECK_OK(atls_evlog_policy_appraise(NULL, pol, c));
    /* not excluded, not listed */
    json_object_set_new(pol, "exclude", json_array());
    CHECK_ERR(atls_evlog_policy_appraise(NULL, pol, c), ATLS_ERR_POLICY_MISMATCH);
    /* listed in the allow-list file instead ("<hash>:<hex>" or bare hex both match) */
    char path[] = "/tmp/atls-allow-XXXXXX";
    int fd = mkstemp(path);
    char doc[256];
    int n = snprintf(doc, sizeof(doc), "{\"digests\": {\"/tmp/x\": [\"sha256:%s\"]}}", hex);
    CHECK(fd >= 0 && write(fd, doc, (size_t)n) == n);
    close(fd);
    json_object_set_new(pol, "allowlist_file", json_string(path));
    CHECK_OK(atls_evlog_policy_appraise(NULL, pol, c));
    /* a digest that differs */
    json_object_set_new(json_object_get(pol, "allowlist"), "/usr/bin/a",
                        json_pack("[s]", "sha256:00"));
    CHECK_ERR(atls_evlog_policy_appraise(NULL, pol, c), ATLS_ERR_POLICY_MISMATCH);
    /* an allow-list file without "digests", one that is missing */
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, "{}", 2) == 2);
    close(fd);
    CHECK_ERR(atls_evlog_policy_appraise(NULL, pol, c), ATLS_ERR_POLICY_INVALID);
    unlink(path);
    CHECK_ERR(atls_evlog_policy_appraise(NULL, pol, c), ATLS_ERR_IO_FILE);
    /* policy init from the list: accepts it (the violation is left out, so it needs
     * allow_violations, which init never writes) */
    json_t *p = json_object();
    CHECK_OK(atls_evlog_policy_from_claims(c, p));
    json_t *gen = json_object_get(p, "ima");
    CHECK(json_object_get(json_object_get(gen, "allowlist"), "/var/log/raced") == NULL);
    CHECK_ERR(atls_evlog_policy_appraise(NULL, gen, c), ATLS_ERR_POLICY_MISMATCH);
    json_decref(p);
    json_decref(pol);
    json_decref(c);
    free(list);

    /* entries of a PCR the quote does not cover */
    atls_writer_init(&w, 0);
    CHECK(evgen_ima_ng(&w, 11, "ima-ng", "sha256", FILE_DIGEST, 32, "/usr/bin/a", NULL, 0));
    list = finish(&w, &len);
    uint8_t values[64][64];
    atls_evlog_quoted q[64];
    static const uint16_t sha256[] = {0x000B};
    quote_of(list, len, ATLS_EVLOG_IMA, sha256, 1, values, q);
    atls_evidence_blob rec = record(ATLS_EVLOG_IMA, 0, 1, list, len);
    c = json_object();
    CHECK_OK(atls_evlog_verify(&rec, 1, 1u << ATLS_EVLOG_IMA, &q[10], 1, NULL, c));
    pol = json_pack("{s{s[s]}}", "allowlist", "/usr/bin/a", hex);
    CHECK_ERR(atls_evlog_policy_appraise(NULL, pol, c), ATLS_ERR_POLICY_MISMATCH);
    json_decref(pol);
    json_decref(c);
    free((void *)rec.data);
    free(list);
}

int main(void)
{
    test_records();
    test_firmware();
    test_ima_incremental();
    test_policy();
    test_ima_policy();
    return check_summary();
}
