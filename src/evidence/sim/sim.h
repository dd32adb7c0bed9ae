/*
 * sim.h: the software attester "sim" and its verifier (docs/EVIDENCE.md, "sim").
 *
 * sim exists so that development and CI work without a TEE. It must never be mistaken for
 * real attestation: its media type and EAT profile say "sim" under the .invalid domain, a
 * policy trusts it only when it names the signing key, every claim set it yields carries
 * "sim": true, and it never claims genuine hardware in the trustworthiness vector.
 *
 * Evidence: an EAT as a CWT (RFC 8392 / RFC 9711), a COSE_Sign1 (ES256, tag 18) over a claims map
 *   10      eat_nonce      bstr, the 64-byte challenge
 *   6       iat            uint, seconds since the epoch
 *   265     eat_profile    tstr, ATLS_SIM_PROFILE
 *   -70000  measurements   map { tstr name => bstr digest (32, 48 or 64 bytes) }  (atls-private)
 *   -70001  signing key    bstr, SEC1 uncompressed P-256 point (atls-private): which key
 *                          signed; the policy pins its key id (SHA-256 of its DER SPKI)
 *
 * Attester configuration ("key=value", atls_attester_ops.create):
 *   key=FILE                PEM P-256 private key (required)
 *   measurements=FILE       JSON {"name": "hex digest", ...}, read once at create
 *   reload_measurements=1   read the measurements file again for every Evidence, so a runtime
 *                           state change shows in the next quote (state-change tests)
 *   quote_latency_ms=N      0..60000: every Evidence takes at least N ms and one is made at a
 *                           time (callers sharing the attester queue): a simulated slow,
 *                           serialised quote source (a TDX Quoting Enclave takes ~40 ms)
 */
#ifndef ATLS_SIM_SIM_H
#define ATLS_SIM_SIM_H

#include <atls/error.h>

#include "evidence/core/plugin.h"

#include <stddef.h>
#include <stdint.h>

#define ATLS_SIM_PROFILE "tag:atls.invalid,2026:sim"
#define ATLS_SIM_MEDIA_TYPE "application/eat+cwt; eat_profile=\"" ATLS_SIM_PROFILE "\""

#define ATLS_SIM_CLAIM_NONCE 10
#define ATLS_SIM_CLAIM_IAT 6
#define ATLS_SIM_CLAIM_PROFILE 265
#define ATLS_SIM_CLAIM_MEASUREMENTS (-70000)
#define ATLS_SIM_CLAIM_KEY (-70001)

#define ATLS_SIM_MAX_MEASUREMENTS 32
#define ATLS_SIM_MAX_NAME 64
#define ATLS_SIM_MAX_EVIDENCE (16u * 1024u)

typedef struct atls_sim_measurement {
    char name[ATLS_SIM_MAX_NAME + 1];
    uint8_t digest[64];
    size_t digest_len;
} atls_sim_measurement;

/* atls_sim_load_measurements reads a JSON file {"name": "hex digest", ...} (at most
 * ATLS_SIM_MAX_MEASUREMENTS entries, names 1..64 bytes, digests 32/48/64 bytes) into |out|
 * (room for ATLS_SIM_MAX_MEASUREMENTS); *num is set. */
ATLS_MUST_CHECK atls_error atls_sim_load_measurements(const char *path,
                                                      atls_sim_measurement *out, size_t *num);

/* atls_sim_encode_claims builds the CWT claims map. Caller frees *out. */
ATLS_MUST_CHECK atls_error atls_sim_encode_claims(const uint8_t challenge[ATLS_CHALLENGE_LEN],
                                                  int64_t iat, const atls_sim_measurement *m,
                                                  size_t num_m, const uint8_t *point,
                                                  size_t point_len, uint8_t **out,
                                                  size_t *out_len);

extern const atls_attester_ops atls_sim_attester_ops;
extern const atls_verifier_ops atls_sim_verifier_ops;

#endif /* ATLS_SIM_SIM_H */
