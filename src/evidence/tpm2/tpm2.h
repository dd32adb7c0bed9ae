/*
 * tpm2.h: TPM 2.0 quotes. Parsers for the three structures a quote is made of (TPMS_ATTEST,
 * TPMT_SIGNATURE, TPM2B_PUBLIC) that walk untrusted bytes with the cursor, a verifier that
 * recomputes everything from raw bytes (no TSS on the verifying side), and an attester that
 * drives a TPM through tpm2-tss ESAPI.
 *
 * References: TCG TPM 2.0 Library Part 1 (Architecture) §16 (names, qualified names), Part 2
 * (Structures) §10.12 (TPMS_ATTEST), §11.3 (TPMT_SIGNATURE), §12.2 (TPMT_PUBLIC), Part 3
 * (Commands) §18.4 (TPM2_Quote), §22.4 (TPM2_PCR_Read). Byte layouts as checked on this
 * project's machines: shared/docs/evidence-formats.md section 1.
 *
 * Encoding: all TPM integers are big-endian; a TPM2B is a u16 size then that many bytes.
 */
#ifndef ATLS_TPM2_TPM2_H
#define ATLS_TPM2_TPM2_H

#include "base/mem.h"
#include "evidence/core/plugin.h"

#include <atls/error.h>

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* Constants of TPM 2.0 Part 2 used here. */
#define ATLS_TPM2_GENERATED_VALUE 0xff544347u /* TPM_GENERATED_VALUE (magic) */
#define ATLS_TPM2_ST_ATTEST_QUOTE 0x8018u
#define ATLS_TPM2_ALG_RSA 0x0001u
#define ATLS_TPM2_ALG_SHA1 0x0004u
#define ATLS_TPM2_ALG_SHA256 0x000Bu
#define ATLS_TPM2_ALG_SHA384 0x000Cu
#define ATLS_TPM2_ALG_SHA512 0x000Du
#define ATLS_TPM2_ALG_NULL 0x0010u
#define ATLS_TPM2_ALG_RSASSA 0x0014u
#define ATLS_TPM2_ALG_RSAPSS 0x0016u
#define ATLS_TPM2_ALG_ECDSA 0x0018u
#define ATLS_TPM2_ALG_ECC 0x0023u
#define ATLS_TPM2_ECC_NIST_P256 0x0003u
#define ATLS_TPM2_ECC_NIST_P384 0x0004u
#define ATLS_TPM2_RH_OWNER 0x40000001u
#define ATLS_TPM2_RH_ENDORSEMENT 0x4000000Bu
#define ATLS_TPM2_RH_PLATFORM 0x4000000Cu

/* TPMA_OBJECT bits (Part 2 §8.3). */
#define ATLS_TPM2_OBJ_FIXEDTPM (1u << 1)
#define ATLS_TPM2_OBJ_FIXEDPARENT (1u << 4)
#define ATLS_TPM2_OBJ_SENSITIVEDATAORIGIN (1u << 5)
#define ATLS_TPM2_OBJ_USERWITHAUTH (1u << 6)
#define ATLS_TPM2_OBJ_RESTRICTED (1u << 16)
#define ATLS_TPM2_OBJ_DECRYPT (1u << 17)
#define ATLS_TPM2_OBJ_SIGN (1u << 18)

/* Ceilings (checked before anything is copied). */
#define ATLS_TPM2_MAX_DIGEST 64   /* SHA-512 */
#define ATLS_TPM2_MAX_NAME (2 + ATLS_TPM2_MAX_DIGEST)
#define ATLS_TPM2_MAX_EXTRA 64    /* extraData: swtpm accepts 64, rejects 65 */
#define ATLS_TPM2_MAX_BANKS 16
#define ATLS_TPM2_MAX_SELECT 4    /* sizeofSelect: PCRs 0..31 */
#define ATLS_TPM2_MAX_PCRS (ATLS_TPM2_MAX_BANKS * ATLS_TPM2_MAX_SELECT * 8)
#define ATLS_TPM2_MAX_ECC_COORD 66 /* P-521 */
#define ATLS_TPM2_MAX_RSA_SIG 512
#define ATLS_TPM2_MAX_STRUCT 4096  /* any single marshalled structure we accept */

/* One TPMS_PCR_SELECTION: bitmap byte n/8, bit n%8 selects PCR n. */
typedef struct atls_tpm2_pcr_bank {
    uint16_t hash;
    uint8_t size_of_select;
    uint8_t select[ATLS_TPM2_MAX_SELECT];
} atls_tpm2_pcr_bank;

typedef struct atls_tpm2_pcr_selection {
    size_t count;
    atls_tpm2_pcr_bank banks[ATLS_TPM2_MAX_BANKS];
} atls_tpm2_pcr_selection;

/* A parsed TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE (fields copied out of the input). */
typedef struct atls_tpm2_attest {
    uint32_t magic;
    uint16_t type;
    uint8_t qualified_signer[ATLS_TPM2_MAX_NAME];
    size_t qualified_signer_len;
    uint8_t extra_data[ATLS_TPM2_MAX_EXTRA];
    size_t extra_data_len;
    uint64_t clock;
    uint32_t reset_count;
    uint32_t restart_count;
    uint8_t safe;
    uint64_t firmware_version;
    atls_tpm2_pcr_selection pcr_select;
    uint8_t pcr_digest[ATLS_TPM2_MAX_DIGEST];
    size_t pcr_digest_len;
} atls_tpm2_attest;

/* A parsed TPMT_SIGNATURE (ECDSA: r and s unsigned big-endian; RSA: sig). */
typedef struct atls_tpm2_signature {
    uint16_t sig_alg;
    uint16_t hash_alg;
    uint8_t r[ATLS_TPM2_MAX_ECC_COORD];
    size_t r_len;
    uint8_t s[ATLS_TPM2_MAX_ECC_COORD];
    size_t s_len;
    uint8_t rsa_sig[ATLS_TPM2_MAX_RSA_SIG];
    size_t rsa_sig_len;
} atls_tpm2_signature;

/* A parsed TPM2B_PUBLIC of an ECC or RSA signing key. |key| is owned (atls_tpm2_public_cleanup
 * frees it); |curve| is 0 for RSA. */
typedef struct atls_tpm2_public {
    uint16_t type;
    uint16_t name_alg;
    uint32_t attributes;
    uint16_t scheme;      /* ECDSA (ECC), RSASSA / RSAPSS (RSA) or TPM2_ALG_NULL */
    uint16_t scheme_hash; /* 0 when scheme is NULL */
    uint16_t curve;
    uint8_t name[ATLS_TPM2_MAX_NAME]; /* nameAlg || H_nameAlg(TPMT_PUBLIC) */
    size_t name_len;
    EVP_PKEY *key;
} atls_tpm2_public;

/* One PCR value as supplied with a quote. */
typedef struct atls_tpm2_pcr_value {
    uint16_t alg;
    uint8_t index;
    uint8_t digest_len;
    uint8_t digest[ATLS_TPM2_MAX_DIGEST];
} atls_tpm2_pcr_value;

/* atls_tpm2_quote: everything one quote carries. All members owned; zero-initialise, release
 * with atls_tpm2_quote_cleanup. attest = TPMS_ATTEST exactly as signed (no TPM2B size),
 * sig = marshalled TPMT_SIGNATURE, ak_public = marshalled TPM2B_PUBLIC (with its size),
 * ak_cert = DER X.509 certificate of the AK (optional, len 0 if absent), pcrs = the values of
 * the selected PCRs, each (alg, index) once, in any order (the attester gives selection order,
 * the decoder ascending alg then index; the verifier looks each selected PCR up). */
typedef struct atls_tpm2_quote {
    atls_buf attest;
    atls_buf sig;
    atls_buf ak_public;
    atls_buf ak_cert;
    atls_tpm2_pcr_value *pcrs; /* malloc'd array of num_pcrs */
    size_t num_pcrs;
} atls_tpm2_quote;

/* atls_tpm2_quote_cleanup wipes and frees every member and zeroes |q| (NULL-safe). */
void atls_tpm2_quote_cleanup(atls_tpm2_quote *q);

/* ---- algorithms and names (tpm2_alg.c) ---- */

/* atls_tpm2_hash_size returns the digest size of a TPM hash algorithm id, 0 if unknown. */
size_t atls_tpm2_hash_size(uint16_t alg);

/* atls_tpm2_hash_md returns the OpenSSL digest for a TPM hash algorithm id (static, borrowed),
 * NULL if unknown. SHA-1 is included for PCR banks only. */
const EVP_MD *atls_tpm2_hash_md(uint16_t alg);

/* atls_tpm2_hash_name returns "sha1", "sha256", "sha384", "sha512" or NULL (static). */
const char *atls_tpm2_hash_name(uint16_t alg);

/* atls_tpm2_hash_by_name is the reverse of atls_tpm2_hash_name; 0 if unknown. */
uint16_t atls_tpm2_hash_by_name(const char *name);

/* atls_tpm2_qualified_name computes the qualified name of an object whose parent has the
 * qualified name |parent_qn| (for a primary: the 4-byte big-endian hierarchy handle):
 * QN = nameAlg || H_nameAlg(parent_qn || name), with nameAlg taken from |name| (Part 1 §16.6).
 * Writes into |out| (ATLS_TPM2_MAX_NAME bytes) and sets *out_len. */
ATLS_MUST_CHECK atls_error atls_tpm2_qualified_name(const uint8_t *parent_qn, size_t parent_len,
                                                    const uint8_t *name, size_t name_len,
                                                    uint8_t *out, size_t *out_len);

/* atls_tpm2_pcr_selection_parse parses a tpm2-tools style selection ("sha256:0,1,2-7,23",
 * banks separated by '+') into |out|. Raises ATLS_ERR_USAGE_CONFIG naming the problem. */
ATLS_MUST_CHECK atls_error atls_tpm2_pcr_selection_parse(const char *spec,
                                                         atls_tpm2_pcr_selection *out);

/* atls_tpm2_pcr_selection_count returns how many PCRs |sel| selects. */
size_t atls_tpm2_pcr_selection_count(const atls_tpm2_pcr_selection *sel);

/* atls_tpm2_pcr_digest computes H_alg(values concatenated in selection order) for the PCRs
 * that |sel| selects, taking each value from |pcrs|. The supplied set must be exactly the
 * selected set (ATLS_ERR_EVIDENCE naming the missing, extra or mis-sized PCR). Writes the
 * digest into |out| (ATLS_TPM2_MAX_DIGEST bytes), *out_len its size. */
ATLS_MUST_CHECK atls_error atls_tpm2_pcr_digest(uint16_t alg, const atls_tpm2_pcr_selection *sel,
                                                const atls_tpm2_pcr_value *pcrs, size_t num_pcrs,
                                                uint8_t *out, size_t *out_len);

/* ---- parsers on untrusted bytes (tpm2_attest.c, tpm2_sig.c, tpm2_public.c) ---- */

/* atls_tpm2_attest_parse parses a TPMS_ATTEST (the signed bytes, no TPM2B size). Only type
 * TPM_ST_ATTEST_QUOTE is accepted (other types: ATLS_ERR_DECODE_TYPE); the magic is recorded,
 * not checked (the verifier checks it). The whole input must be consumed. */
ATLS_MUST_CHECK atls_error atls_tpm2_attest_parse(const uint8_t *data, size_t len,
                                                  atls_tpm2_attest *out);

/* atls_tpm2_signature_parse parses a marshalled TPMT_SIGNATURE: ECDSA (r, s up to 66 bytes),
 * RSASSA or RSAPSS (up to 512 bytes). Other algorithms: ATLS_ERR_DECODE_VALUE. */
ATLS_MUST_CHECK atls_error atls_tpm2_signature_parse(const uint8_t *data, size_t len,
                                                     atls_tpm2_signature *out);

/* atls_tpm2_signature_to_der converts an ECDSA signature to a DER ECDSA-Sig-Value (malloc'd,
 * caller frees *out). */
ATLS_MUST_CHECK atls_error atls_tpm2_signature_to_der(const atls_tpm2_signature *sig,
                                                      uint8_t **out, size_t *out_len);

/* atls_tpm2_public_parse parses a marshalled TPM2B_PUBLIC (with its u16 size) of an ECC key
 * on P-256 or P-384, or an RSA key of 2048..4096 bits, into |out|, computes its name and builds the EVP_PKEY (owned by |out|;
 * release with atls_tpm2_public_cleanup, also on failure). */
ATLS_MUST_CHECK atls_error atls_tpm2_public_parse(const uint8_t *data, size_t len,
                                                  atls_tpm2_public *out);

/* atls_tpm2_public_cleanup frees the key and zeroes |pub| (NULL-safe). */
void atls_tpm2_public_cleanup(atls_tpm2_public *pub);

/* atls_tpm2_public_check_ak checks that the key is an attestation key: restricted, sign,
 * fixedTPM, not decrypt (ATLS_ERR_EVIDENCE otherwise). */
ATLS_MUST_CHECK atls_error atls_tpm2_public_check_ak(const atls_tpm2_public *pub);

/* ---- verifier (tpm2_verify.c) ---- */

/* What atls_tpm2_verify_quote established. |ak.key| owned: release with
 * atls_tpm2_verified_cleanup. */
typedef struct atls_tpm2_verified {
    atls_tpm2_attest attest;
    atls_tpm2_public ak;
    const char *ak_hierarchy;  /* "endorsement", "owner", "platform" when qualifiedSigner is
                                * the AK's qualified name as a primary of that hierarchy,
                                * "unknown" otherwise (e.g. an AK created under the EK) */
    int ak_cert_verified;      /* 1 if ak_cert chained to a trust anchor */
    int challenge_checked;
} atls_tpm2_verified;

/* atls_tpm2_verified_cleanup releases |v| (NULL-safe). */
void atls_tpm2_verified_cleanup(atls_tpm2_verified *v);

/* Optional inputs of atls_tpm2_verify_quote; zero-initialise. All borrowed. */
typedef struct atls_tpm2_verify_opts {
    const uint8_t *challenge;          /* expected extraData, or NULL: not checked */
    size_t challenge_len;
    const uint8_t *qualified_signer;   /* expected qualifiedSigner, or NULL (see below) */
    size_t qualified_signer_len;
    STACK_OF(X509) *trust_anchors;     /* AK CA roots: when set and an AK cert is present */
    STACK_OF(X509) *intermediates;
    time_t at;                         /* certificate time, 0 = now */
} atls_tpm2_verify_opts;

/* atls_tpm2_verify_quote verifies one quote from raw bytes, in this order:
 *   decode AK (TPM2B_PUBLIC), signature, attest      ATLS_ERR_DECODE_*
 *   AK is restricted + sign + fixedTPM                ATLS_ERR_EVIDENCE
 *   signature by the AK over H_sigHash(attest)        ATLS_ERR_EVIDENCE_SIGNATURE
 *   magic = TPM_GENERATED_VALUE, type = quote         ATLS_ERR_EVIDENCE
 *   extraData = challenge (when given)                ATLS_ERR_EVIDENCE_NONCE
 *   qualifiedSigner: equal to opts->qualified_signer when given, else it must use the AK's
 *     nameAlg and digest size; a match with the AK's qualified name as a primary of the
 *     endorsement / owner / platform hierarchy is reported in ak_hierarchy  ATLS_ERR_EVIDENCE
 *   pcrDigest = H_sigHash(supplied PCR values), supplied set = selected set  ATLS_ERR_EVIDENCE
 *   AK certificate (when present and trust anchors are given): chains, same key
 *                                                     ATLS_ERR_EVIDENCE_CHAIN
 * |out| may be NULL; when not NULL it is filled on success and must be released with
 * atls_tpm2_verified_cleanup whatever the result. */
ATLS_MUST_CHECK atls_error atls_tpm2_verify_quote(const atls_tpm2_quote *q,
                                                  const atls_tpm2_verify_opts *opts,
                                                  atls_tpm2_verified *out);

/* ---- attester (tpm2_attester.c): needs a TPM reachable through a TCTI ---- */

typedef struct atls_tpm2_attester atls_tpm2_attester;

/* Attester configuration; zero-initialise. Strings are copied. */
typedef struct atls_tpm2_attester_config {
    const char *tcti;                 /* e.g. "swtpm:host=127.0.0.1,port=2321",
                                       * "device:/dev/tpmrm0"; NULL or "": tpm2-tss's default
                                       * search (tabrmd, /dev/tpmrm0, /dev/tpm0, mssim) */
    uint32_t ak_handle;               /* persistent AK (0x81xxxxxx), 0 = endorsement primary */
    const atls_tpm2_pcr_selection *pcrs; /* NULL = sha256 PCRs 0-7 and 23 */
} atls_tpm2_attester_config;

/* atls_tpm2_default_tcti: the TCTI an attester uses when its configuration names none:
 * $ATLS_TPM2_TCTI, then the variables tpm2-tools reads ($TPM2TOOLS_TCTI, $TCTI); NULL (none
 * set): tpm2-tss's default search (tpm2_attester.c). Borrowed from the environment. */
const char *atls_tpm2_default_tcti(void);

/* atls_tpm2_probe opens and closes the TPM reached through |tcti| (NULL or "": tpm2-tss's
 * default search, as an attester with no tcti= does): whether there is a TPM to attest with.
 * ATLS_ERR_EVIDENCE_ATTESTER naming what was tried. Thread-safe (its own connection). */
ATLS_MUST_CHECK atls_error atls_tpm2_probe(const char *tcti);

/* atls_tpm2_attester_new opens the TPM through cfg->tcti and loads the AK (creates the
 * endorsement-hierarchy primary from the fixed template, or opens the persistent handle and
 * checks it is an ECC restricted signing key). *out is owned: atls_tpm2_attester_free.
 * TPM failures raise ATLS_ERR_EVIDENCE_ATTESTER with the TSS error text. A TPM lost later
 * (restarted, reset) is reconnected by atls_tpm2_attester_quote (tpm2_attester.c). Not
 * thread-safe: one caller at a time (serve serialises with its attester lock). */
ATLS_MUST_CHECK atls_error atls_tpm2_attester_new(const atls_tpm2_attester_config *cfg,
                                                  atls_tpm2_attester **out);

/* atls_tpm2_attester_free flushes the primary AK, closes the TPM and frees |a| (NULL-safe). */
void atls_tpm2_attester_free(atls_tpm2_attester *a);

/* atls_tpm2_attester_quote quotes the configured PCRs with qualifyingData = |challenge|
 * (at most 64 bytes), then reads the PCR values and checks that they hash to the quote's
 * pcrDigest (retrying a few times if a PCR changed in between). Fills |out| (owned by the
 * caller: atls_tpm2_quote_cleanup); out->ak_cert is left empty. When the TPM went away since
 * the last quote, it reconnects first (with backoff while the TPM stays away: the error then
 * says when the next attempt is). */
ATLS_MUST_CHECK atls_error atls_tpm2_attester_quote(atls_tpm2_attester *a,
                                                    const uint8_t *challenge, size_t len,
                                                    atls_tpm2_quote *out);

/* atls_tpm2_attester_get0_ak_public returns the AK's marshalled TPM2B_PUBLIC (borrowed). */
const atls_buf *atls_tpm2_attester_get0_ak_public(const atls_tpm2_attester *a);

/* atls_tpm2_pcr_extend extends sha256 PCR |pcr| (0..23) with |digest| (32 bytes) on the TPM
 * reached through |tcti|, opening and closing its own connection. */
ATLS_MUST_CHECK atls_error atls_tpm2_pcr_extend(const char *tcti, unsigned pcr,
                                                const uint8_t digest[32]);

/* atls_tpm2_nv_read reads the whole NV index |index| (at most |max| bytes) on the TPM reached
 * through |tcti| with owner authorisation (empty password), opening and closing its own
 * connection. *out is malloc'd (caller frees). ATLS_ERR_EVIDENCE_ATTESTER with the TSS text. */
ATLS_MUST_CHECK atls_error atls_tpm2_nv_read(const char *tcti, uint32_t index, size_t max,
                                             uint8_t **out, size_t *out_len);

/* ---- CBOR wrapper and evidence plug-in (tpm2_cbor.c, tpm2_ops.c) ---- */

#define ATLS_TPM2_MEDIA_TYPE "application/vnd.atls.tpm2-quote+cbor"

/* The Evidence encoding (atls-private; CDDL `tpm2-quote` in docs/EVIDENCE.md), a CBOR map with
 * text keys in deterministic encoding (RFC 8949 section 4.2.1):
 *   "ak": bstr      TPM2B_PUBLIC of the AK (with its size)
 *   "sig": bstr     TPMT_SIGNATURE
 *   "pcrs": map     { TPM_ALG_ID of the bank's hash (uint: 4, 11, 12, 13) =>
 *                     { PCR index (uint 0..31) => PCR value (bstr of the hash's size) } }
 *   "akcert": bstr  DER certificate of the AK (optional)
 *   "attest": bstr  TPMS_ATTEST exactly as signed
 * Byte strings are never empty. Unknown or repeated keys, empty banks, a key order or integer
 * head that is not deterministic and trailing bytes are rejected, each with its own message. */

/* atls_tpm2_quote_encode writes |q| as above into a malloc'd buffer (caller frees *out); a PCR
 * supplied twice is ATLS_ERR_USAGE. */
ATLS_MUST_CHECK atls_error atls_tpm2_quote_encode(const atls_tpm2_quote *q, uint8_t **out,
                                                  size_t *out_len);

/* atls_tpm2_quote_decode parses the CBOR above into |q| (owned by the caller; release with
 * atls_tpm2_quote_cleanup, also on failure). Structure contents are not parsed here. */
ATLS_MUST_CHECK atls_error atls_tpm2_quote_decode(const uint8_t *data, size_t len,
                                                  atls_tpm2_quote *q);

/* The plug-in tables (include/atls/evidence.h). Verifier claims:
 *   {"pcrs": {"sha256": {"0": hex, ...}}, "ak_name": hex, "qualified_signer": hex,
 *    "ak_hierarchy": "endorsement"|"owner"|"platform"|"unknown", "ak_cert_verified": bool,
 *    "clock": n, "reset_count": n, "restart_count": n, "safe": bool, "firmware_version": hex}
 * Policy section "tpm2": {"ak_keys": [key_id hex, ...] | "ak_any": true,
 *    "pcrs": {"sha256": {"<index>": [hex, ...]}}, "require_challenge": bool}.
 * Attester config: "tcti=<TCTI string>" (default: atls_tpm2_default_tcti), "ak_handle=0x81......",
 *    "pcrs=sha256:0-7,23". */
extern const atls_verifier_ops atls_tpm2_verifier_ops;
extern const atls_attester_ops atls_tpm2_attester_ops;

#endif /* ATLS_TPM2_TPM2_H */
