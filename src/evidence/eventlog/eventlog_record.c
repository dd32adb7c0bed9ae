/* eventlog_record.c: application/vnd.atls.eventlog+cbor, one log (or the tail of one) as a
 * CMW record next to the Evidence whose registers it extends (eventlog.h; CDDL `eventlog` in
 * docs/EVIDENCE.md):
 *   { "log": bstr, "kind": "tcg" / "ccel" / "ima", "start": uint, "total": uint }
 * "start" is the number of entries the same connection delivered before (0: the log from its
 * beginning); "total" the entries the attester's log had when it was read. Deterministic
 * encoding (RFC 8949 section 4.2.1) only, keys in that order. */
#include "evidence/eventlog/eventlog_internal.h"

#include "codec/cbor/cbor.h"

#include <string.h>

static const char *const kind_names[] = {NULL, "tcg", "ccel", "ima"};

const char *atls_evlog_kind_name(atls_evlog_kind kind)
{
    return kind >= ATLS_EVLOG_TPM && kind <= ATLS_EVLOG_IMA ? kind_names[kind] : "unknown";
}

atls_error atls_evlog_record_encode(const atls_evlog_record *rec, uint8_t **out, size_t *out_len)
{
    ATLS_ENSURE(rec != NULL && rec->kind >= ATLS_EVLOG_TPM && rec->kind <= ATLS_EVLOG_IMA &&
                    (rec->start == 0 || rec->kind == ATLS_EVLOG_IMA) && rec->start <= rec->total,
                ATLS_ERR_USAGE, "event log record: bad kind, start or total");
    atls_writer w;
    atls_writer_init(&w, ATLS_EVLOG_MAX_SIZE + 64);
    (void)(atls_cbor_put_map(&w, 4) && atls_cbor_put_tstr(&w, "log") &&
           atls_cbor_put_bstr(&w, atls_cursor_data(&rec->log), atls_cursor_remaining(&rec->log)) &&
           atls_cbor_put_tstr(&w, "kind") && atls_cbor_put_tstr(&w, kind_names[rec->kind]) &&
           atls_cbor_put_tstr(&w, "start") && atls_cbor_put_uint(&w, rec->start) &&
           atls_cbor_put_tstr(&w, "total") && atls_cbor_put_uint(&w, rec->total));
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}

static atls_error decode(const uint8_t *data, size_t len, atls_evlog_record *rec)
{
    atls_cursor c, whole;
    atls_cursor_init(&c, data, len);
    atls_cursor_init(&whole, data, len);
    atls_cbor_map_iter it;
    int have = 0;
    ATLS_GUARD(atls_cbor_map_begin(&c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
        if (atls_cbor_key_is_text(&k, "log")) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &rec->log));
            have |= 1;
        } else if (atls_cbor_key_is_text(&k, "kind")) {
            atls_cursor t;
            ATLS_GUARD(atls_cbor_read_tstr(&c, &t));
            for (int i = ATLS_EVLOG_TPM; i <= ATLS_EVLOG_IMA; i++) {
                if (atls_cbor_tstr_equals(&t, kind_names[i])) {
                    rec->kind = (atls_evlog_kind)i;
                }
            }
            ATLS_ENSURE(rec->kind != 0, ATLS_ERR_DECODE_VALUE,
                        "\"kind\" is not \"tcg\", \"ccel\" or \"ima\"");
            have |= 2;
        } else if (atls_cbor_key_is_text(&k, "start")) {
            ATLS_GUARD(atls_cbor_read_uint(&c, &rec->start));
            have |= 4;
        } else if (atls_cbor_key_is_text(&k, "total")) {
            ATLS_GUARD(atls_cbor_read_uint(&c, &rec->total));
            have |= 8;
        } else {
            ATLS_RAISE(ATLS_ERR_DECODE_VALUE, "unknown key");
        }
    }
    ATLS_ENSURE(have == 15, ATLS_ERR_DECODE_VALUE, "missing \"%s\"",
                !(have & 1) ? "log" : !(have & 2) ? "kind" : !(have & 4) ? "start" : "total");
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING, "%zu trailing bytes",
                atls_cursor_remaining(&c));
    ATLS_ENSURE(rec->start <= rec->total && rec->total <= ATLS_EVLOG_MAX_EVENTS,
                ATLS_ERR_DECODE_VALUE, "start %llu, total %llu", (unsigned long long)rec->start,
                (unsigned long long)rec->total);
    ATLS_ENSURE(rec->start == 0 || rec->kind == ATLS_EVLOG_IMA, ATLS_ERR_DECODE_VALUE,
                "only an IMA list is delivered in parts");
    ATLS_GUARD(atls_evlog_reraise(atls_cbor_check_deterministic(&whole),
                                  "not in deterministic encoding"));
    return ATLS_OK;
}

atls_error atls_evlog_record_decode(const uint8_t *data, size_t len, atls_evlog_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    return atls_evlog_reraise(decode(data, len, rec), "event log record");
}
