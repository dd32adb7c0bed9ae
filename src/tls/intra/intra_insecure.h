/*
 * intra_insecure.h: INSECURE BY DESIGN. The intra-handshake attestation baseline
 * (draft-fossati-tls-attestation-08), kept only so that atls can show, by running code, why it
 * attests after the handshake instead (docs/INTRA-BASELINE.md, docs/COMPARISON.md).
 *
 *     Never use this to protect anything. It falls to diversion (ID-Crisis), to relay with a
 *     stolen TLS key (Intra-handshake.fail, CVE-2026-33697) and to replay, by design: the attack
 *     tests (tests/attacks_intra) fail if it ever stops falling to them.
 *
 * Every name carries "insecure". Nothing in atls selects it: not a default, not a policy key;
 * only `atls serve|connect --intra ...` (which print INSECURE on every line) and the tests. It
 * is deliberately not public API: this header is private to the build (src/), and libatls.so
 * exports none of it (its objects are in libatls.a only for the atls binary and the tests).
 *
 * What it does, on unmodified OpenSSL 3.0 through custom extensions (SSL_CTX_add_custom_ext):
 *   - ClientHello: evidence_request (-08 section 4: offered EvidenceTypes and the client's nonce)
 *     and an empty attestation_evidence (an OpenSSL-forced deviation: a server cannot send a
 *     Certificate-entry extension the ClientHello did not carry);
 *   - EncryptedExtensions: evidence_request with the selected EvidenceType;
 *   - the server's first CertificateEntry: attestation_evidence = a CMW record of the Evidence
 *     its attester (the same sim / tpm2 plug-ins atls uses) made over the binder's challenge;
 *   - the client appraises that CMW through the same pipeline as atls (atls_appraise_cmw) inside
 *     the handshake and aborts it (fatal alert) when appraisal fails.
 * Modes: RA-only (-08 section 6.1, emulated: a throw-away self-signed certificate carries the
 * TLS key, no chain and no host name is checked, the Evidence alone "authenticates") and X.509
 * (-08 section 6.2: the CA certificate and host name are checked as usual, plus the Evidence).
 * Binders: the seven of Intra-handshake.fail and its proposal (a substitute, OpenSSL cannot
 * reach the Handshake Secret), plus "none" (pre-handshake / cached Evidence); see
 * atls_intra_insecure_binder and docs/INTRA-BASELINE.md for exactly what each one hashes.
 *
 * Ownership: configurations are copied at configure time (pointers inside stay borrowed and must
 * outlive the SSL_CTX). Per-connection results are owned by the SSL and freed with it; "get0"
 * accessors return borrowed views valid until SSL_free.
 * Threading: one SSL_CTX may serve connections on many threads (the configuration is
 * read-only after configure); a shared attester is serialised through attester_lock.
 */
#ifndef ATLS_TLS_INTRA_INSECURE_H
#define ATLS_TLS_INTRA_INSECURE_H

#include <atls/appraisal.h>
#include <atls/error.h>
#include <atls/evidence.h>
#include <atls/policy.h>
#include <atls/session.h>

#include <openssl/ssl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Code points: -08 leaves all of them TBD (section 12). Defaults sit in the private-use range
 * (RFC 8446 section 11: 0xFF00..0xFFFF "Reserved for Private Use"), next to atls's own
 * cmw_attestation (0xFF00) but distinct from it. Both are configurable. */
#define ATLS_INTRA_INSECURE_EXT_EVIDENCE_REQUEST 0xFF10
#define ATLS_INTRA_INSECURE_EXT_ATTESTATION_EVIDENCE 0xFF11

/* -08 section 4: EvidenceType enums. */
#define ATLS_INTRA_INSECURE_KIND_ATTESTATION 0      /* credentialKind ATTESTATION: RA-only */
#define ATLS_INTRA_INSECURE_KIND_CERT_ATTESTATION 1 /* CERT_ATTESTATION: alongside X.509 */
#define ATLS_INTRA_INSECURE_ENC_CONTENT_FORMAT 0
#define ATLS_INTRA_INSECURE_ENC_MEDIA_TYPE 1

/* -08 section 4: nonce<8..2^8-1>, supported_evidence_types<1..2^8-1>. */
#define ATLS_INTRA_INSECURE_NONCE_MIN 8
#define ATLS_INTRA_INSECURE_NONCE_MAX 255
#define ATLS_INTRA_INSECURE_NONCE_DEFAULT 32
#define ATLS_INTRA_INSECURE_TYPES_MAX 255
/* attestation_evidence rides in a CertificateEntry extension: the entry's whole
 * extensions<0..2^16-1> holds it and its 4-byte header (-08 6.1's cert_data<1..2^24-1> needs a
 * certificate type OpenSSL cannot negotiate) */
#define ATLS_INTRA_INSECURE_EVIDENCE_MAX 65531u

typedef enum atls_intra_insecure_mode {
    ATLS_INTRA_INSECURE_RA_ONLY = 1, /* -08 section 6.1, emulated with a self-signed cert */
    ATLS_INTRA_INSECURE_X509 = 2,    /* -08 section 6.2: PKI certificate + Evidence */
} atls_intra_insecure_mode;

/* What the challenge in the Evidence is made of (Intra-handshake.fail binder table; ar = the
 * nonce, cr = client random, exp0 = early exporter, pubEK = the certificate's key). 0 is not a
 * binder: a zero-initialised configuration is refused. */
typedef enum atls_intra_insecure_binder {
    ATLS_INTRA_INSECURE_BINDER_CR = 1,            /* #1 client random (Meta Private Processing) */
    ATLS_INTRA_INSECURE_BINDER_NONCE = 2,         /* #2 ar */
    ATLS_INTRA_INSECURE_BINDER_EXP0 = 3,          /* #3 early exporter */
    ATLS_INTRA_INSECURE_BINDER_KEY = 4,           /* #4 pubEK */
    ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0 = 5,    /* #5 (ar, exp0) */
    ATLS_INTRA_INSECURE_BINDER_NONCE_KEY = 6,     /* #6 (ar, pubEK): -08 6.1, Cocos, CCA PoC */
    ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0_KEY = 7,/* #7 (ar, exp0, pubEK): -06 */
    ATLS_INTRA_INSECURE_BINDER_HANDSHAKE = 8,     /* proposal (ar, cb, pubEK) ~ -08 6.2.1; cb is a
                                                     substitute (docs/INTRA-BASELINE.md) */
    ATLS_INTRA_INSECURE_BINDER_NONE = 9,          /* no binder: Evidence over a constant
                                                     (pre-handshake, cached PAT) */
} atls_intra_insecure_binder;

/* The values a binder may draw from, as each end computes them from its own view of the
 * handshake (given to an evidence callback, and exposed for tests). */
typedef struct atls_intra_insecure_binder_inputs {
    atls_intra_insecure_binder binder;
    uint8_t client_random[32];
    uint8_t nonce[ATLS_INTRA_INSECURE_NONCE_MAX];
    size_t nonce_len;
    uint8_t exp0[32];         /* TLS-Early-Exporter("attestation-binder", "", 32) (-06) */
    uint8_t key_hash[32];     /* SHA-256 of the leaf's DER SubjectPublicKeyInfo */
    uint8_t hs_binder[32];    /* substitute for -08's TLS-Handshake-Exporter("attestation-
                                 binder", nonce, 32): HKDF-Expand-Label over the server
                                 handshake traffic secret */
} atls_intra_insecure_binder_inputs;

/* An alternative Evidence source for the server (split TLS stack as -08 section 4 allows: the
 * TLS stack outside the TEE asks an attestation service; the attack tests use it to relay or
 * replay). Returns a malloc'd CMW in *cmw (the caller of the callback frees it). |challenge| is
 * what the binder asks for; |in| the values it was made of. */
typedef atls_error (*atls_intra_insecure_evidence_cb)(void *arg, SSL *ssl,
                                                      const atls_intra_insecure_binder_inputs *in,
                                                      const uint8_t challenge[ATLS_CHALLENGE_LEN],
                                                      uint8_t **cmw, size_t *cmw_len);

/* Zero-initialise, then set what the role needs. mode and binder are required. */
typedef struct atls_intra_insecure_config {
    atls_intra_insecure_mode mode;
    atls_intra_insecure_binder binder;   /* both ends must be configured alike */
    uint16_t ext_evidence_request;       /* 0: ATLS_INTRA_INSECURE_EXT_EVIDENCE_REQUEST */
    uint16_t ext_attestation_evidence;   /* 0: ATLS_INTRA_INSECURE_EXT_ATTESTATION_EVIDENCE */

    /* server: the attester (or evidence_cb) making Evidence during the handshake */
    const atls_attester_ops *attester;
    void *attester_state;
    atls_fair_lock *attester_lock;       /* held around produce when set (the lock atls's
                                            sessions use: one attester, served in turn) */
    atls_intra_insecure_evidence_cb evidence_cb; /* when set, used instead of the attester */
    void *evidence_cb_arg;
    const char *evidence_media_type;     /* with evidence_cb: the type it produces */

    /* client */
    const char *const *offered_media_types; /* NULL-terminated; NULL: the registered
                                               verifiers the policy has a section for */
    const uint8_t *nonce;                /* a Verifier-provided nonce (-08 section 9.1),
                                            8..255 bytes; NULL: 32 random bytes per handshake */
    size_t nonce_len;
    const atls_policy *policy;           /* NULL: appraisal without policy (a warning) */
    int accept_warning;                  /* 1: a warning counts as attested */
    atls_verify_input verify_input;      /* trust inputs; the challenge is always ours */
    X509_STORE *trust;                   /* X.509 mode: roots for the server's chain */
    const char *hostname;                /* X.509 mode: the name its certificate must carry */
} atls_intra_insecure_config;

/* atls_intra_insecure_ctx_configure makes |ctx| speak the INSECURE baseline as server
 * (|is_server|) or client: TLS 1.3 only, no tickets, no early data, both custom extensions, a
 * message callback (the ClientHello bytes for the early exporter) and a key-log callback (the
 * server handshake traffic secret for the handshake binder) — both callbacks are taken over,
 * the application must not set its own. Client: SSL_VERIFY_PEER with a certificate-verify
 * callback that requires successful appraisal (and, in X.509 mode, the chain and |hostname|).
 * Server RA-only: the caller installs a throw-away identity (atls_intra_insecure_throwaway_new).
 * Call once per SSL_CTX before creating connections. ATLS_ERR_USAGE_CONFIG names what is
 * missing or invalid. */
ATLS_MUST_CHECK atls_error atls_intra_insecure_ctx_configure(SSL_CTX *ctx, int is_server,
                                                             const atls_intra_insecure_config *cfg);

/* atls_intra_insecure_throwaway_new: the RA-only emulation's TLS identity, a fresh P-256 key in
 * a self-signed certificate (subject "atls intra INSECURE throw-away", valid 1 hour before to 1
 * day after now). Both owned by the caller. */
ATLS_MUST_CHECK atls_error atls_intra_insecure_throwaway_new(EVP_PKEY **key, X509 **cert);

/* Results on a connection (both roles), valid until SSL_free. */

/* atls_intra_insecure_peer_attested: 1 when this client appraised the server's Evidence
 * successfully during the handshake (and the handshake completed), else 0. */
int atls_intra_insecure_peer_attested(const SSL *ssl);

/* atls_intra_insecure_get0_appraisal: the client's appraisal of the server's Evidence, or NULL
 * when none ran. Borrowed. */
const atls_appraisal *atls_intra_insecure_get0_appraisal(const SSL *ssl);

/* atls_intra_insecure_get0_evidence: the CMW received (client) or sent (server), or NULL.
 * Borrowed; *len set. */
const uint8_t *atls_intra_insecure_get0_evidence(const SSL *ssl, size_t *len);

/* atls_intra_insecure_error: why the baseline failed this handshake (ATLS_OK if it did not);
 * *reason (may be NULL) gets a one-line message. The peer saw only a TLS alert. */
atls_error atls_intra_insecure_error(const SSL *ssl, const char **reason);

/* atls_intra_insecure_get0_inputs: the binder inputs this end used (NULL before the Certificate
 * was built / parsed). */
const atls_intra_insecure_binder_inputs *atls_intra_insecure_get0_inputs(const SSL *ssl);

/* atls_intra_insecure_challenge: the 64-byte challenge of |in|'s binder (docs/INTRA-BASELINE.md):
 * SHA-512("atls intra-handshake INSECURE baseline" 0x00 || u8 binder || each input of the binder
 * as u8 length || bytes). Stateless. */
ATLS_MUST_CHECK atls_error atls_intra_insecure_challenge(const atls_intra_insecure_binder_inputs *in,
                                                         uint8_t out[ATLS_CHALLENGE_LEN]);

/* Names: "1".."7", "hs", "none" (atls_intra_insecure_binder_parse also accepts "8"); modes
 * "ra-only", "x509". Parsers return 0 for an unknown name. Static strings. */
const char *atls_intra_insecure_binder_name(atls_intra_insecure_binder b);
const char *atls_intra_insecure_binder_description(atls_intra_insecure_binder b);
atls_intra_insecure_binder atls_intra_insecure_binder_parse(const char *name);
const char *atls_intra_insecure_mode_name(atls_intra_insecure_mode m);
atls_intra_insecure_mode atls_intra_insecure_mode_parse(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_TLS_INTRA_INSECURE_H */
