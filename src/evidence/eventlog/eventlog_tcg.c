/* eventlog_tcg.c: the TCG PC Client firmware log and the CC event log (eventlog.h).
 *
 * TCG PC Client PFP 1.05 section 10: the first entry is a TCG_PCR_EVENT (SHA-1 format:
 * PCRIndex, EventType, SHA1 Digest[20], EventSize, Event). In a crypto-agile log it is
 * EV_NO_ACTION carrying a TCG_EfiSpecIDEvent ("Spec ID Event03", section 10.4.5.1) that
 * declares the digest algorithms, and every later entry is a TCG_PCR_EVENT2 (PCRIndex,
 * EventType, TPML_DIGEST_VALUES Digests, EventSize, Event; section 10.2.2). All integers are
 * little-endian. The CC event log (UEFI 2.10 section 38.4.1) has the same layout. */
#include "evidence/eventlog/eventlog_internal.h"

#include <stdlib.h>
#include <string.h>

#define SHA1_SIZE 20
#define SPEC_ID_SIGNATURE "Spec ID Event03"  /* 16 bytes with its NUL */
#define STARTUP_LOCALITY "StartupLocality"   /* 16 bytes with its NUL, then the locality */
#define CCEL_END_MARKER 0xFFFFFFFFu

/* ---- the Spec ID header (PFP section 10.4.5.1, TCG_EfiSpecIDEvent) ---- */

static atls_error parse_spec_id(atls_cursor d, atls_evlog *log)
{
    atls_cursor sig;
    uint32_t n = 0;
    ATLS_ENSURE(atls_cursor_get_bytes(&d, &sig, 16) &&
                    atls_cursor_get_u32_le(&d, &log->platform_class) &&
                    atls_cursor_get_u8(&d, &log->spec_minor) &&
                    atls_cursor_get_u8(&d, &log->spec_major) &&
                    atls_cursor_get_u8(&d, &log->spec_errata) &&
                    atls_cursor_get_u8(&d, &log->uintn_size) && atls_cursor_get_u32_le(&d, &n),
                ATLS_ERR_DECODE_EVENTLOG_HEADER, "Spec ID event: truncated");
    ATLS_ENSURE(log->spec_major == 2, ATLS_ERR_DECODE_EVENTLOG_HEADER,
                "Spec ID event: specVersionMajor %u, expected 2", log->spec_major);
    ATLS_ENSURE(log->uintn_size == 1 || log->uintn_size == 2, ATLS_ERR_DECODE_EVENTLOG_HEADER,
                "Spec ID event: uintnSize %u is neither 1 nor 2", log->uintn_size);
    ATLS_ENSURE(n >= 1 && n <= ATLS_EVLOG_MAX_BANKS, ATLS_ERR_DECODE_EVENTLOG_HEADER,
                "Spec ID event: %u digest algorithms, expected 1..%d", n, ATLS_EVLOG_MAX_BANKS);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t alg = 0, size = 0;
        ATLS_ENSURE(atls_cursor_get_u16_le(&d, &alg) && atls_cursor_get_u16_le(&d, &size),
                    ATLS_ERR_DECODE_EVENTLOG_HEADER, "Spec ID event: algorithm list truncated");
        size_t known = atls_tcg_hash_size(alg);
        ATLS_ENSURE(size >= 1 && size <= ATLS_EVLOG_MAX_DIGEST && (known == 0 || known == size),
                    ATLS_ERR_DECODE_EVENTLOG_HEADER,
                    "Spec ID event: algorithm 0x%04x with digest size %u", alg, size);
        for (size_t j = 0; j < log->num_banks; j++) {
            ATLS_ENSURE(log->banks[j].alg != alg, ATLS_ERR_DECODE_EVENTLOG_HEADER,
                        "Spec ID event: algorithm 0x%04x listed twice", alg);
        }
        log->banks[log->num_banks].alg = alg;
        log->banks[log->num_banks].size = size;
        log->num_banks++;
    }
    atls_cursor vendor;
    ATLS_ENSURE(atls_cursor_get_u8_prefixed(&d, &vendor), ATLS_ERR_DECODE_EVENTLOG_HEADER,
                "Spec ID event: vendorInfo truncated");
    ATLS_ENSURE(atls_cursor_is_empty(&d), ATLS_ERR_DECODE_EVENTLOG_HEADER,
                "Spec ID event: %zu bytes after vendorInfo", atls_cursor_remaining(&d));
    return ATLS_OK;
}

/* ---- entries ---- */

/* get_event_data reads EventSize and Event. */
static atls_error get_event_data(atls_cursor *c, atls_evlog_event *ev)
{
    uint32_t size = 0;
    ATLS_ENSURE(atls_cursor_get_u32_le(c, &size), ATLS_ERR_DECODE_EVENTLOG_TRUNCATED,
                "EventSize truncated");
    ATLS_ENSURE(size <= ATLS_EVLOG_MAX_EVENT_DATA, ATLS_ERR_DECODE_EVENTLOG_LIMIT,
                "event data of %u bytes, at most %u", size, ATLS_EVLOG_MAX_EVENT_DATA);
    ATLS_ENSURE(atls_cursor_get_bytes(c, &ev->data, size), ATLS_ERR_DECODE_EVENTLOG_TRUNCATED,
                "event data of %u bytes runs past the end (%zu left)", size,
                atls_cursor_remaining(c));
    return ATLS_OK;
}

/* get_legacy_entry reads a TCG_PCR_EVENT (SHA-1 format) into |ev| (bank 0 = SHA-1). */
static atls_error get_legacy_entry(atls_cursor *c, atls_evlog_event *ev)
{
    atls_cursor digest;
    ATLS_ENSURE(atls_cursor_get_u32_le(c, &ev->index) && atls_cursor_get_u32_le(c, &ev->type) &&
                    atls_cursor_get_bytes(c, &digest, SHA1_SIZE),
                ATLS_ERR_DECODE_EVENTLOG_TRUNCATED, "entry header truncated (%zu bytes left)",
                atls_cursor_remaining(c));
    ev->digests[0] = atls_cursor_data(&digest);
    return get_event_data(c, ev);
}

/* get_agile_entry reads a TCG_PCR_EVENT2 after its PCRIndex: one digest per declared bank,
 * in any order, each bank exactly once. */
static atls_error get_agile_entry(atls_cursor *c, const atls_evlog *log, atls_evlog_event *ev)
{
    uint32_t count = 0;
    ATLS_ENSURE(atls_cursor_get_u32_le(c, &ev->type) && atls_cursor_get_u32_le(c, &count),
                ATLS_ERR_DECODE_EVENTLOG_TRUNCATED, "entry header truncated (%zu bytes left)",
                atls_cursor_remaining(c));
    ATLS_ENSURE(count == log->num_banks, ATLS_ERR_DECODE_EVENTLOG_ALGORITHM,
                "%u digests, the header declares %zu algorithms", count, log->num_banks);
    for (uint32_t i = 0; i < count; i++) {
        uint16_t alg = 0;
        ATLS_ENSURE(atls_cursor_get_u16_le(c, &alg), ATLS_ERR_DECODE_EVENTLOG_TRUNCATED,
                    "digest %u truncated", i);
        size_t slot = 0;
        while (slot < log->num_banks && log->banks[slot].alg != alg) {
            slot++;
        }
        ATLS_ENSURE(slot < log->num_banks, ATLS_ERR_DECODE_EVENTLOG_ALGORITHM,
                    "digest algorithm 0x%04x is not declared in the header", alg);
        ATLS_ENSURE(ev->digests[slot] == NULL, ATLS_ERR_DECODE_EVENTLOG_ALGORITHM,
                    "digest algorithm 0x%04x given twice", alg);
        atls_cursor digest;
        ATLS_ENSURE(atls_cursor_get_bytes(c, &digest, log->banks[slot].size),
                    ATLS_ERR_DECODE_EVENTLOG_TRUNCATED, "digest 0x%04x truncated", alg);
        ev->digests[slot] = atls_cursor_data(&digest);
    }
    return get_event_data(c, ev);
}

/* check_index: PCR 0..23 for a firmware log; CC MR 1..4 (RTMR0..3) for CCEL, where index 0
 * (MRTD, built by the TDX module) can only carry EV_NO_ACTION. */
static atls_error check_index(const atls_evlog *log, const atls_evlog_event *ev)
{
    if (log->kind == ATLS_EVLOG_CCEL) {
        ATLS_ENSURE(ev->index <= ATLS_EVLOG_NUM_RTMRS &&
                        (ev->index > 0 || ev->type == ATLS_EV_NO_ACTION),
                    ATLS_ERR_DECODE_EVENTLOG_INDEX,
                    "CC measurement register index %u (events extend 1..%d = RTMR0..%d)",
                    ev->index, ATLS_EVLOG_NUM_RTMRS, ATLS_EVLOG_NUM_RTMRS - 1);
        return ATLS_OK;
    }
    ATLS_ENSURE(ev->index < ATLS_EVLOG_NUM_PCRS, ATLS_ERR_DECODE_EVENTLOG_INDEX,
                "PCR index %u, expected 0..%d", ev->index, ATLS_EVLOG_NUM_PCRS - 1);
    return ATLS_OK;
}

/* note_startup_locality: PFP section 10.4.5.3: EV_NO_ACTION in PCR0 with "StartupLocality\0"
 * and one byte L; PCR0 then starts at 00..00 L. Once, before anything extends PCR0. */
static atls_error note_startup_locality(atls_evlog *log, const atls_evlog_event *ev,
                                        int pcr0_extended)
{
    static const uint8_t sig[16] = STARTUP_LOCALITY;
    if (ev->type != ATLS_EV_NO_ACTION || atls_cursor_remaining(&ev->data) < sizeof(sig) ||
        memcmp(atls_cursor_data(&ev->data), sig, sizeof(sig)) != 0) {
        return ATLS_OK;
    }
    ATLS_ENSURE(log->kind == ATLS_EVLOG_TPM && ev->index == 0, ATLS_ERR_DECODE_EVENTLOG_LOCALITY,
                "StartupLocality event outside PCR0 of a TPM log");
    ATLS_ENSURE(atls_cursor_remaining(&ev->data) == sizeof(sig) + 1,
                ATLS_ERR_DECODE_EVENTLOG_LOCALITY, "StartupLocality event of %zu bytes, not 17",
                atls_cursor_remaining(&ev->data));
    ATLS_ENSURE(!log->has_startup_locality, ATLS_ERR_DECODE_EVENTLOG_LOCALITY,
                "a second StartupLocality event");
    ATLS_ENSURE(!pcr0_extended, ATLS_ERR_DECODE_EVENTLOG_LOCALITY,
                "StartupLocality event after PCR0 was extended");
    uint8_t locality = atls_cursor_data(&ev->data)[sizeof(sig)];
    ATLS_ENSURE(locality <= 4, ATLS_ERR_DECODE_EVENTLOG_LOCALITY,
                "StartupLocality %u, expected 0..4", locality);
    log->has_startup_locality = 1;
    log->startup_locality = locality;
    return ATLS_OK;
}

/* ccel_end: at an end marker, everything left (the marker included) must be 0xFF fill. */
static atls_error ccel_end(atls_cursor *c, atls_evlog *log)
{
    const uint8_t *p = atls_cursor_data(c);
    size_t n = atls_cursor_remaining(c);
    for (size_t i = 0; i < n; i++) {
        ATLS_ENSURE(p[i] == 0xFF, ATLS_ERR_DECODE_EVENTLOG_PADDING,
                    "byte %zu after the end marker is 0x%02x, not 0xFF padding", i, p[i]);
    }
    log->padding_len = n;
    atls_cursor_get_rest(c, &(atls_cursor){0});
    return ATLS_OK;
}

static atls_error parse_entries(atls_cursor *c, const uint8_t *start, atls_evlog *log)
{
    size_t cap = 0;
    int pcr0_extended = 0;
    while (!atls_cursor_is_empty(c)) {
        size_t offset = (size_t)(atls_cursor_data(c) - start);
        if (log->kind == ATLS_EVLOG_CCEL) {
            atls_cursor peek = *c;
            uint32_t index = 0;
            if (atls_cursor_get_u32_le(&peek, &index) && index == CCEL_END_MARKER) {
                log->content_len = offset;
                return ccel_end(c, log);
            }
        }
        atls_evlog_event *ev = NULL;
        ATLS_GUARD(atls_evlog_new_event(log, &cap, &ev));
        ev->offset = offset;
        atls_error rc;
        if (log->format == ATLS_EVLOG_FORMAT_SHA1) {
            rc = get_legacy_entry(c, ev);
        } else {
            rc = atls_cursor_get_u32_le(c, &ev->index)
                     ? get_agile_entry(c, log, ev)
                     : atls_error_raise(ATLS_ERR_DECODE_EVENTLOG_TRUNCATED, __FILE__, __LINE__,
                                        "PCRIndex truncated");
        }
        if (rc == ATLS_OK) {
            rc = check_index(log, ev);
        }
        if (rc == ATLS_OK) {
            rc = note_startup_locality(log, ev, pcr0_extended);
        }
        ATLS_GUARD(atls_evlog_reraise(rc, "event %zu at offset %zu", log->num_events - 1, offset));
        pcr0_extended |= ev->index == 0 && ev->type != ATLS_EV_NO_ACTION;
    }
    log->content_len = (size_t)(atls_cursor_data(c) - start);
    return ATLS_OK;
}

/* parse_first: the first entry decides the format (PFP section 10.4.5.1). */
static atls_error parse_first(atls_cursor *c, atls_evlog *log)
{
    static const uint8_t sig[16] = SPEC_ID_SIGNATURE;
    static const uint8_t zero[SHA1_SIZE] = {0};
    atls_cursor peek = *c;
    atls_evlog_event first;
    memset(&first, 0, sizeof(first));
    atls_error rc = get_legacy_entry(&peek, &first);
    int agile = rc == ATLS_OK && first.type == ATLS_EV_NO_ACTION &&
                atls_cursor_remaining(&first.data) >= sizeof(sig) &&
                memcmp(atls_cursor_data(&first.data), sig, sizeof(sig)) == 0;
    if (!agile) {
        ATLS_ENSURE(log->kind == ATLS_EVLOG_TPM, ATLS_ERR_DECODE_EVENTLOG_HEADER,
                    "the CC event log does not start with a Spec ID Event03 header");
        /* legacy SHA-1 log: the first entry is an ordinary event */
        log->format = ATLS_EVLOG_FORMAT_SHA1;
        log->num_banks = 1;
        log->banks[0].alg = ATLS_TCG_ALG_SHA1;
        log->banks[0].size = SHA1_SIZE;
        return ATLS_OK;
    }
    /* the CC event log's header carries index 1 in the firmware this was checked against
     * (EDK2 TDX); the PFP says 0 */
    ATLS_ENSURE(first.index == 0 || (log->kind == ATLS_EVLOG_CCEL && first.index == 1),
                ATLS_ERR_DECODE_EVENTLOG_HEADER, "Spec ID event with PCRIndex %u", first.index);
    ATLS_ENSURE(memcmp(first.digests[0], zero, SHA1_SIZE) == 0, ATLS_ERR_DECODE_EVENTLOG_HEADER,
                "Spec ID event with a non-zero digest");
    log->format = ATLS_EVLOG_FORMAT_AGILE;
    ATLS_GUARD(parse_spec_id(first.data, log));
    *c = peek;
    return ATLS_OK;
}

static atls_error parse_tcg(const uint8_t *data, size_t len, atls_evlog_kind kind,
                            atls_evlog *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    ATLS_ENSURE(data != NULL || len == 0, ATLS_ERR_USAGE, "no input");
    ATLS_ENSURE(len <= ATLS_EVLOG_MAX_SIZE, ATLS_ERR_DECODE_EVENTLOG_LIMIT,
                "%zu bytes, at most %u", len, ATLS_EVLOG_MAX_SIZE);
    ATLS_ENSURE(len > 0, ATLS_ERR_DECODE_EVENTLOG_EMPTY, "empty log");
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    ATLS_GUARD(atls_evlog_reraise(parse_first(&c, out), "first entry"));
    ATLS_GUARD(parse_entries(&c, data, out));
    ATLS_ENSURE(out->num_events > 0, ATLS_ERR_DECODE_EVENTLOG_EMPTY,
                "the log has a header and no event");
    return ATLS_OK;
}

atls_error atls_evlog_parse_tpm(const uint8_t *data, size_t len, atls_evlog *out)
{
    return atls_evlog_reraise(parse_tcg(data, len, ATLS_EVLOG_TPM, out), "TCG event log");
}

atls_error atls_evlog_parse_ccel(const uint8_t *data, size_t len, atls_evlog *out)
{
    return atls_evlog_reraise(parse_tcg(data, len, ATLS_EVLOG_CCEL, out), "CC event log");
}
