/* fuzz_eventlog_record.c: the event log CMW record decoder (application/vnd.atls.eventlog+cbor,
 * eventlog_record.c). Properties: a record it accepts encodes back to exactly the same bytes
 * (deterministic encoding, no unknown keys: one encoding per record); and verification of the
 * record against a quote, with a connection's state and without, returns (any error) without
 * crashing, twice in a row on one state (the second continues what the first stored). */
#include "fuzz_eventlog.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    atls_evlog_record rec;
    if (atls_evlog_record_decode(data, size, &rec) != ATLS_OK) {
        return 0;
    }
    uint8_t *again = NULL;
    size_t again_len = 0;
    FUZZ_REQUIRE(atls_evlog_record_encode(&rec, &again, &again_len) == ATLS_OK);
    FUZZ_REQUIRE(again_len == size && memcmp(again, data, size) == 0);
    free(again);
    /* zero registers: PCR 0..10 in SHA-256, RTMR0..3 in SHA-384 */
    static const uint8_t zero[48];
    atls_evlog_quoted q[15];
    for (unsigned i = 0; i < 11; i++) {
        q[i] = (atls_evlog_quoted){0x000B, i, zero, 32};
    }
    for (unsigned i = 0; i < 4; i++) {
        q[11 + i] = (atls_evlog_quoted){0x000C, i, zero, 48};
    }
    atls_evidence_blob b = {data, size};
    unsigned all = (1u << ATLS_EVLOG_TPM) | (1u << ATLS_EVLOG_CCEL) | (1u << ATLS_EVLOG_IMA);
    json_t *claims = json_object();
    fuzz_ignore(atls_evlog_verify(&b, 1, all, q, 15, NULL, claims));
    json_decref(claims);
    atls_eventlog_state *st = NULL;
    if (atls_eventlog_state_new(&st) == ATLS_OK) {
        for (int round = 0; round < 2; round++) {
            claims = json_object();
            fuzz_ignore(atls_evlog_verify(&b, 1, all, q, 15, st, claims));
            json_decref(claims);
        }
        atls_eventlog_state_free(st);
    }
    return 0;
}
