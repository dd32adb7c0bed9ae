/*
 * plugin.h: the verifier and attester plug-in interface (private to atls: the public
 * atls/evidence.h names these tables only as opaque types). Each plug-in is a const ops table
 * listed in src/appraisal/registry/registry.c.
 *
 * Claims are carried as jansson JSON objects (digests in lowercase hex) so that the policy and
 * the EAR can be written once for every evidence type.
 */
#ifndef ATLS_EVIDENCE_PLUGIN_H
#define ATLS_EVIDENCE_PLUGIN_H

#include <atls/error.h>
#include <atls/evidence.h>

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* What a verifier established about one piece of Evidence (before policy). */
typedef struct atls_evidence_result {
    const char *type;        /* verifier name: "tpm2", "sim", "snp", "tdx", "cca" (static) */
    json_t *claims;          /* owned: every claim, digests as lowercase hex */
    char key_id[65];         /* lowercase hex SHA-256 of the attestation key's DER SPKI */
    int challenge_checked;   /* 1 if a challenge was supplied and matched */
    atls_trust_vector tv;    /* claims the verifier can already make (hardware, ...) */
    int is_sim;              /* 1 for the software attester: never real attestation */
    /* the verifier whose policy section appraises this result, NULL: |type|'s own. A wrapper
     * (tsm) sets the type of what it wraps, so the "snp"/"tdx"/"cca" sections of a policy
     * apply to Evidence however it was delivered (static string) */
    const char *policy_type;
    /* a verifier that makes a contraindicating claim in |tv| while the Evidence is otherwise
     * valid (e.g. a Revoked TCB status) sets the error (ATLS_ERR_EVIDENCE_REVOKED, ...) and one
     * line why: the appraisal then fails with them and keeps the claims (ATLS_OK: none) */
    atls_error contra_error;
    char contra_reason[160];
} atls_evidence_result;

/* atls_evidence_result_cleanup releases the claims and zeroes the result. */
void atls_evidence_result_cleanup(atls_evidence_result *res);

/* A verifier plug-in. All functions: inputs borrowed; outputs owned by the caller. */
struct atls_verifier_ops {
    const char *name;        /* "tpm2", "sim", ... (the policy section of the same name) */
    const char *media_type;  /* CMW record type it accepts */
    /* verify: parse, check signatures / chains / challenge, fill |out|. */
    atls_error (*verify)(const uint8_t *evidence, size_t len, const atls_verify_input *in,
                         atls_evidence_result *out);
    /* appraise: check |res| against this verifier's policy section |policy| (a JSON object
     * already checked by check_policy). Sets *tv claims (configuration, executables, ...)
     * and, on rejection, returns ATLS_ERR_POLICY_* with a detail naming the claim. */
    atls_error (*appraise)(const json_t *policy, const atls_evidence_result *res,
                           atls_trust_vector *tv);
    /* check_policy: validate the policy section's shape (unknown keys are errors). */
    atls_error (*check_policy)(const json_t *policy);
    /* policy_from_result: a strict policy section accepting exactly |res| (trust on first
     * use); *out is a new JSON object owned by the caller. */
    atls_error (*policy_from_result)(const atls_evidence_result *res, json_t **out);
};

/* ---- the parts of an attester's CMW (parts.c) ------------------------------------------
 * What a produce_cmw builds its answer with: records under labels, encoded as one CMW (a
 * record, or a collection; atls/evidence.h ATLS_IND_*, ATLS_MEDIA_*). */
#define ATLS_EVIDENCE_MAX_PARTS 16
#define ATLS_EVIDENCE_LABEL_MAX 31
#define ATLS_EVIDENCE_MEDIA_TYPE_MAX 95

/* One part: a record under a label. */
typedef struct atls_evidence_part {
    char label[ATLS_EVIDENCE_LABEL_MAX + 1];           /* "" only for plain produce output */
    char media_type[ATLS_EVIDENCE_MEDIA_TYPE_MAX + 1];
    uint8_t *value;                                    /* owned (malloc) */
    size_t len;
    uint32_t ind;                                      /* ATLS_IND_* bits, non-zero */
} atls_evidence_part;

/* The parts for one challenge, in the order they are encoded. Zero-initialise; release with
 * atls_evidence_parts_cleanup. */
typedef struct atls_evidence_parts {
    size_t num;
    atls_evidence_part part[ATLS_EVIDENCE_MAX_PARTS];
} atls_evidence_parts;

/* atls_evidence_parts_add appends a copy of |value| under |label| (1..ATLS_EVIDENCE_LABEL_MAX
 * printable ASCII characters, unique, not "__cmwc_t"; NULL or "" for the one unlabelled part of
 * a plain attester) with |media_type| and |ind| (non-zero). ATLS_ERR_USAGE for bad arguments,
 * ATLS_ERR_DECODE_TOO_LARGE beyond ATLS_EVIDENCE_MAX_PARTS. Not thread-safe per |parts|. */
ATLS_MUST_CHECK atls_error atls_evidence_parts_add(atls_evidence_parts *parts, const char *label,
                                                   const char *media_type, const uint8_t *value,
                                                   size_t len, uint32_t ind);

/* atls_evidence_parts_add_owned is atls_evidence_parts_add that takes |value| (malloc'd) over
 * instead of copying it; it is freed on failure too. */
ATLS_MUST_CHECK atls_error atls_evidence_parts_add_owned(atls_evidence_parts *parts,
                                                         const char *label,
                                                         const char *media_type, uint8_t *value,
                                                         size_t len, uint32_t ind);

/* atls_evidence_parts_cleanup frees every value and empties |parts|. NULL-safe. */
void atls_evidence_parts_cleanup(atls_evidence_parts *parts);

/* atls_evidence_parts_encode encodes |parts| as one CMW into a malloc'd buffer (*out, caller
 * frees): a single unlabelled part as a record, anything else as a collection (an unlabelled
 * part is labelled "evidence" there). When the CMW would exceed |max| bytes it fails with
 * ATLS_ERR_EVIDENCE_ATTESTER, the message naming |what| and every member's size. */
ATLS_MUST_CHECK atls_error atls_evidence_parts_encode(const atls_evidence_parts *parts,
                                                      size_t max, const char *what,
                                                      uint8_t **out, size_t *out_len);

/* An attester plug-in. Config is a NULL-terminated list of "key=value" strings (so the CLI
 * can pass options through without knowing them); the attester copies what it needs. Every
 * key an attester accepts is documented in include/atls/evidence.h (test
 * attester_keys_documented). */
struct atls_attester_ops {
    const char *name;        /* "sim", "tpm2", "tsm" */
    const char *media_type;  /* CMW record type it produces */
    atls_error (*create)(const char *const *config, void **state);
    /* produce: Evidence over |challenge| (ATLS_CHALLENGE_LEN bytes) in a malloc'd buffer */
    atls_error (*produce)(void *state, const uint8_t *challenge, uint8_t **out, size_t *out_len);
    void (*destroy)(void *state);
    /* Optional (NULL: not offered). conn_new makes what the attester remembers about one
     * connection (how much of a growing event log the peer already has); conn_free releases
     * it. produce_cmw is produce for a whole CMW: the Evidence record and what goes with it
     * (event logs, further Evidence over the same challenge, stapled Endorsements; built with
     * atls_evidence_parts above) in a collection of at most |max| bytes (malloc'd, caller
     * frees); |conn| from conn_new, or NULL for a one-off (every log from its beginning). */
    atls_error (*conn_new)(void *state, void **conn);
    void (*conn_free)(void *conn);
    atls_error (*produce_cmw)(void *state, void *conn, const uint8_t *challenge, size_t max,
                              uint8_t **out, size_t *out_len);
};

/* atls_verifier_at / atls_attester_at enumerate the built-in tables (NULL past the end;
 * src/appraisal/registry/registry.c). */
const atls_verifier_ops *atls_verifier_at(size_t i);
const atls_attester_ops *atls_attester_at(size_t i);

#endif /* ATLS_EVIDENCE_PLUGIN_H */
