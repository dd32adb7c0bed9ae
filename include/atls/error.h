/*
 * atls/error.h: the one error convention of the whole library.
 *
 * Every fallible atls function returns an atls_error: ATLS_OK (0) on success, otherwise a code
 * from the enum below. Codes are grouped by category in blocks of 100 (the category of a code is
 * code / 100); the enum only ever grows, a published value never changes meaning.
 *
 * On failure the library also records, per thread, a one-line detail message with the source
 * file and line where the failure was raised. atls_error_detail() returns it until the next
 * failure on the same thread.
 */
#ifndef ATLS_ERROR_H
#define ATLS_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ATLS_MUST_CHECK marks results that must not be ignored (-Werror makes it a build error). */
#if defined(__GNUC__) || defined(__clang__)
#define ATLS_MUST_CHECK __attribute__((warn_unused_result))
#else
#define ATLS_MUST_CHECK
#endif

/* ATLS_API marks a function of the public API (on the line before its declaration). The library
 * is built with -fvisibility=hidden, so these are the only symbols libatls.so exports (test
 * install_symbols checks that every function declared here is exported and nothing else). */
#if defined(__GNUC__) || defined(__clang__)
#define ATLS_API __attribute__((visibility("default")))
#else
#define ATLS_API
#endif

typedef enum atls_error {
    ATLS_OK = 0,

    /* usage (1xx): the caller passed something the API does not accept */
    ATLS_ERR_USAGE = 100,          /* invalid argument */
    ATLS_ERR_USAGE_STATE = 101,    /* call not valid in the object's current state */
    ATLS_ERR_USAGE_NOT_TLS13 = 102,/* connection is not TLS 1.3 or handshake not complete */
    ATLS_ERR_USAGE_UNSUPPORTED = 103, /* key type, scheme or feature not supported */
    ATLS_ERR_USAGE_CONFIG = 104,   /* configuration (file, option) is invalid */

    /* decode (2xx): untrusted bytes are malformed */
    ATLS_ERR_DECODE = 200,         /* malformed input (generic) */
    ATLS_ERR_DECODE_TRUNCATED = 201,  /* input ends early or a length runs past the end */
    ATLS_ERR_DECODE_TRAILING = 202,   /* bytes left over after a complete structure */
    ATLS_ERR_DECODE_LENGTH = 203,     /* a declared length is out of its allowed range */
    ATLS_ERR_DECODE_VALUE = 204,      /* a field holds a value that is not allowed */
    ATLS_ERR_DECODE_TYPE = 205,       /* unexpected message / media / CBOR type */
    ATLS_ERR_DECODE_TOO_LARGE = 206,  /* input exceeds a size ceiling */
    /* event logs (src/evidence/eventlog/; numbered from 220 so other blocks can grow) */
    ATLS_ERR_DECODE_EVENTLOG_HEADER = 220,    /* TCG log: Spec ID header event malformed */
    ATLS_ERR_DECODE_EVENTLOG_TRUNCATED = 221, /* an event log entry ends early */
    ATLS_ERR_DECODE_EVENTLOG_ALGORITHM = 222, /* an event digest's algorithm is undeclared,
                                               * repeated or missing */
    ATLS_ERR_DECODE_EVENTLOG_INDEX = 223,     /* PCR / CC register index out of range */
    ATLS_ERR_DECODE_EVENTLOG_LIMIT = 224,     /* too many events, or an event too large */
    ATLS_ERR_DECODE_EVENTLOG_PADDING = 225,   /* CCEL: bytes after the end marker not 0xFF */
    ATLS_ERR_DECODE_EVENTLOG_LOCALITY = 226,  /* StartupLocality event malformed or misplaced */
    ATLS_ERR_DECODE_EVENTLOG_EMPTY = 227,     /* an event log without any event */
    ATLS_ERR_DECODE_CCEL_TABLE = 228,         /* ACPI CCEL table malformed */
    ATLS_ERR_DECODE_CCEL_CHECKSUM = 229,      /* ACPI CCEL table checksum is not zero */
    ATLS_ERR_DECODE_IMA_TEMPLATE = 230,       /* IMA template name or fields malformed */
    ATLS_ERR_DECODE_IMA_TEMPLATE_HASH = 231,  /* IMA template digest is not SHA-1 of the data */
    ATLS_ERR_DECODE_IMA_DIGEST = 232,         /* IMA file digest field malformed */
    ATLS_ERR_DECODE_IMA_PATH = 233,           /* IMA file name field malformed */
    ATLS_ERR_DECODE_IMA_SIGNATURE = 234,      /* IMA signature field malformed */

    /* crypto (3xx): a cryptographic check failed or a primitive errored */
    ATLS_ERR_CRYPTO = 300,            /* a crypto library call failed */
    ATLS_ERR_CRYPTO_SIGNATURE = 301,  /* a signature does not verify */
    ATLS_ERR_CRYPTO_MAC = 302,        /* a MAC (e.g. EA Finished) does not verify */
    ATLS_ERR_CRYPTO_CHAIN = 303,      /* certificate chain or hostname validation failed */
    ATLS_ERR_CRYPTO_KEY = 304,        /* a key is unusable (type, curve, size) */
    ATLS_ERR_CRYPTO_RANDOM = 305,     /* the random generator failed */
    ATLS_ERR_CRYPTO_KEY_USAGE = 306,  /* certificate not valid for its role (EKU / key usage) */

    /* protocol (4xx): the peer broke a protocol rule */
    ATLS_ERR_PROTOCOL = 400,               /* generic protocol violation */
    ATLS_ERR_PROTOCOL_CONTEXT = 401,       /* certificate_request_context does not match */
    ATLS_ERR_PROTOCOL_REPLAY = 402,        /* context already used on this connection */
    ATLS_ERR_PROTOCOL_EXTENSION = 403,     /* extension not requested or misplaced */
    ATLS_ERR_PROTOCOL_SCHEME = 404,        /* signature scheme not offered / not allowed */
    ATLS_ERR_PROTOCOL_REFUSED = 405,       /* peer sent an empty authenticator (refusal) */
    ATLS_ERR_PROTOCOL_FRAME = 406,         /* bad atls/1 frame */
    ATLS_ERR_PROTOCOL_PEER_ERROR = 407,    /* peer sent an ERROR frame */
    ATLS_ERR_PROTOCOL_SESSION = 408,       /* session rule broken (ticket, 0-RTT, early data) */
    ATLS_ERR_PROTOCOL_BINDING = 409,       /* evidence not bound to this connection/request */
    ATLS_ERR_PROTOCOL_REFLECTED = 410,     /* peer request reuses one of our own contexts */
    ATLS_ERR_PROTOCOL_FLOOD = 411,         /* peer exceeded the cap on unanswered requests */

    /* evidence (5xx): attestation evidence is invalid */
    ATLS_ERR_EVIDENCE = 500,               /* generic evidence failure */
    ATLS_ERR_EVIDENCE_FORMAT = 501,        /* unknown or wrong media type / format */
    ATLS_ERR_EVIDENCE_SIGNATURE = 502,     /* evidence signature invalid */
    ATLS_ERR_EVIDENCE_CHAIN = 503,         /* endorsement chain invalid */
    ATLS_ERR_EVIDENCE_NONCE = 504,         /* challenge / nonce / report data mismatch */
    ATLS_ERR_EVIDENCE_COLLATERAL = 505,    /* collateral invalid, expired or inconsistent */
    ATLS_ERR_EVIDENCE_ATTESTER = 506,      /* the attester could not produce evidence */
    ATLS_ERR_EVIDENCE_STALE = 507,         /* evidence older than allowed */
    ATLS_ERR_EVIDENCE_SIGNER = 508,        /* collateral signed by the wrong kind of certificate */
    ATLS_ERR_EVIDENCE_REVOKED = 509,       /* a certificate or the TCB is revoked */
    ATLS_ERR_EVIDENCE_COLLATERAL_STALE = 510, /* stapled collateral outside its validity window */
    /* event logs against the registers that were quoted (numbered from 520) */
    ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY = 520,  /* a log does not replay to the quoted value */
    ATLS_ERR_EVIDENCE_EVENTLOG_BANK = 521,    /* no register bank both in the log and quoted */
    ATLS_ERR_EVIDENCE_EVENTLOG_STATE = 522,   /* an incremental log does not continue the
                                               * replayed state */
    ATLS_ERR_EVIDENCE_IMA_SIGNATURE = 523,    /* an IMA file signature does not verify with the
                                               * trusted key it names */
    /* batched Evidence (atls/batch.h; numbered from 540 so other blocks can grow) */
    ATLS_ERR_EVIDENCE_PROOF = 540,         /* inclusion proof does not fit its tree (length,
                                            * leaf index, tree size) */

    /* policy (6xx): evidence is valid but the appraisal policy rejects it */
    ATLS_ERR_POLICY = 600,                 /* generic policy failure */
    ATLS_ERR_POLICY_MISMATCH = 601,        /* a claim does not match its reference value */
    ATLS_ERR_POLICY_UNTRUSTED_KEY = 602,   /* attestation key not trusted by the policy */
    ATLS_ERR_POLICY_INVALID = 603,         /* the policy document itself is invalid */
    ATLS_ERR_POLICY_UNAPPRAISED = 604,     /* a trust input was missing and the policy needs it */
    ATLS_ERR_POLICY_INSTANCE = 605,        /* not a platform instance the policy pins */

    /* io (7xx): files, sockets, the TPM transport */
    ATLS_ERR_IO = 700,                     /* generic I/O failure */
    ATLS_ERR_IO_CLOSED = 701,              /* peer closed the connection */
    ATLS_ERR_IO_FILE = 702,                /* a file could not be read or written */
    ATLS_ERR_IO_TIMEOUT = 703,             /* an operation timed out */
    ATLS_ERR_IO_TRUNCATED = 704,           /* peer closed in the middle of a frame */

    /* internal (8xx): a bug or resource exhaustion inside atls */
    ATLS_ERR_INTERNAL = 800,
    ATLS_ERR_INTERNAL_ALLOC = 801          /* out of memory */
} atls_error;

/* atls_error_category names the category of |err|: "ok", "usage", "decode", "crypto",
 * "protocol", "evidence", "policy", "io", "internal" or "unknown". Static string. */
ATLS_API
const char *atls_error_category(atls_error err);

/* atls_strerror returns a short static description of |err|. Never NULL. */
ATLS_API
const char *atls_strerror(atls_error err);

/* atls_error_detail returns this thread's detail message for the most recent failure,
 * formatted "file:line: message", or "" if none. The pointer is owned by the library and valid
 * until the next atls call on the same thread. */
ATLS_API
const char *atls_error_detail(void);

/* atls_error_message returns only the message part of the detail (without file:line), or "".
 * Same lifetime as atls_error_detail. Suitable for one-line user-facing errors. */
ATLS_API
const char *atls_error_message(void);

/* atls_error_clear forgets this thread's detail message. */
ATLS_API
void atls_error_clear(void);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_ERROR_H */
