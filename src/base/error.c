/* error.c: codes, descriptions and the thread-local detail message (include/atls/error.h). */
#include "base/result.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DETAIL_MAX 512

static _Thread_local char detail[DETAIL_MAX];
static _Thread_local size_t message_offset; /* where the message starts after "file:line: " */

struct error_name {
    atls_error code;
    const char *text;
};

static const struct error_name error_names[] = {
    {ATLS_OK, "success"},
    {ATLS_ERR_USAGE, "invalid argument"},
    {ATLS_ERR_USAGE_STATE, "call not valid in this state"},
    {ATLS_ERR_USAGE_NOT_TLS13, "connection is not an established TLS 1.3 connection"},
    {ATLS_ERR_USAGE_UNSUPPORTED, "not supported"},
    {ATLS_ERR_USAGE_CONFIG, "invalid configuration"},
    {ATLS_ERR_DECODE, "malformed input"},
    {ATLS_ERR_DECODE_TRUNCATED, "input truncated"},
    {ATLS_ERR_DECODE_TRAILING, "trailing bytes after structure"},
    {ATLS_ERR_DECODE_LENGTH, "length out of range"},
    {ATLS_ERR_DECODE_VALUE, "field value not allowed"},
    {ATLS_ERR_DECODE_TYPE, "unexpected type"},
    {ATLS_ERR_DECODE_TOO_LARGE, "input too large"},
    {ATLS_ERR_DECODE_EVENTLOG_HEADER, "event log header malformed"},
    {ATLS_ERR_DECODE_EVENTLOG_TRUNCATED, "event log entry truncated"},
    {ATLS_ERR_DECODE_EVENTLOG_ALGORITHM, "event log digest algorithm undeclared or missing"},
    {ATLS_ERR_DECODE_EVENTLOG_INDEX, "event log register index out of range"},
    {ATLS_ERR_DECODE_EVENTLOG_LIMIT, "event log exceeds a limit"},
    {ATLS_ERR_DECODE_EVENTLOG_PADDING, "event log padding malformed"},
    {ATLS_ERR_DECODE_EVENTLOG_LOCALITY, "event log StartupLocality event malformed"},
    {ATLS_ERR_DECODE_EVENTLOG_EMPTY, "event log has no events"},
    {ATLS_ERR_DECODE_CCEL_TABLE, "ACPI CCEL table malformed"},
    {ATLS_ERR_DECODE_CCEL_CHECKSUM, "ACPI CCEL table checksum wrong"},
    {ATLS_ERR_DECODE_IMA_TEMPLATE, "IMA template malformed"},
    {ATLS_ERR_DECODE_IMA_TEMPLATE_HASH, "IMA template digest does not match its data"},
    {ATLS_ERR_DECODE_IMA_DIGEST, "IMA file digest malformed"},
    {ATLS_ERR_DECODE_IMA_PATH, "IMA file name malformed"},
    {ATLS_ERR_DECODE_IMA_SIGNATURE, "IMA signature malformed"},
    {ATLS_ERR_CRYPTO, "cryptographic operation failed"},
    {ATLS_ERR_CRYPTO_SIGNATURE, "signature verification failed"},
    {ATLS_ERR_CRYPTO_MAC, "MAC verification failed"},
    {ATLS_ERR_CRYPTO_CHAIN, "certificate validation failed"},
    {ATLS_ERR_CRYPTO_KEY, "unusable key"},
    {ATLS_ERR_CRYPTO_RANDOM, "random number generation failed"},
    {ATLS_ERR_CRYPTO_KEY_USAGE, "certificate not valid for this role (key usage)"},
    {ATLS_ERR_PROTOCOL, "protocol violation"},
    {ATLS_ERR_PROTOCOL_CONTEXT, "certificate_request_context mismatch"},
    {ATLS_ERR_PROTOCOL_REPLAY, "certificate_request_context already used"},
    {ATLS_ERR_PROTOCOL_EXTENSION, "extension not requested or misplaced"},
    {ATLS_ERR_PROTOCOL_SCHEME, "signature scheme not offered"},
    {ATLS_ERR_PROTOCOL_REFUSED, "peer refused to authenticate (empty authenticator)"},
    {ATLS_ERR_PROTOCOL_FRAME, "invalid atls/1 frame"},
    {ATLS_ERR_PROTOCOL_PEER_ERROR, "peer reported an error"},
    {ATLS_ERR_PROTOCOL_SESSION, "attested-session rule violated"},
    {ATLS_ERR_PROTOCOL_BINDING, "evidence not bound to this connection"},
    {ATLS_ERR_PROTOCOL_REFLECTED, "peer reflected one of our own request contexts"},
    {ATLS_ERR_PROTOCOL_FLOOD, "too many unanswered requests from the peer"},
    {ATLS_ERR_EVIDENCE, "invalid evidence"},
    {ATLS_ERR_EVIDENCE_FORMAT, "unknown or wrong evidence format"},
    {ATLS_ERR_EVIDENCE_SIGNATURE, "evidence signature invalid"},
    {ATLS_ERR_EVIDENCE_CHAIN, "evidence endorsement chain invalid"},
    {ATLS_ERR_EVIDENCE_NONCE, "evidence challenge mismatch"},
    {ATLS_ERR_EVIDENCE_COLLATERAL, "evidence collateral invalid"},
    {ATLS_ERR_EVIDENCE_ATTESTER, "attester failed"},
    {ATLS_ERR_EVIDENCE_STALE, "evidence too old"},
    {ATLS_ERR_EVIDENCE_SIGNER, "collateral signer is not the expected certificate"},
    {ATLS_ERR_EVIDENCE_REVOKED, "certificate or TCB revoked"},
    {ATLS_ERR_EVIDENCE_COLLATERAL_STALE, "stapled collateral is stale"},
    {ATLS_ERR_EVIDENCE_EVENTLOG_REPLAY, "event log does not replay to the quoted registers"},
    {ATLS_ERR_EVIDENCE_EVENTLOG_BANK, "no register bank both in the event log and quoted"},
    {ATLS_ERR_EVIDENCE_EVENTLOG_STATE, "event log does not continue the replayed state"},
    {ATLS_ERR_EVIDENCE_IMA_SIGNATURE, "IMA file signature does not verify"},
    {ATLS_ERR_EVIDENCE_PROOF, "batch inclusion proof malformed"},
    {ATLS_ERR_POLICY, "appraisal policy rejected the evidence"},
    {ATLS_ERR_POLICY_MISMATCH, "claim does not match reference value"},
    {ATLS_ERR_POLICY_UNTRUSTED_KEY, "attestation key not trusted"},
    {ATLS_ERR_POLICY_INVALID, "invalid appraisal policy"},
    {ATLS_ERR_POLICY_UNAPPRAISED, "a trust input the policy requires was not given"},
    {ATLS_ERR_POLICY_INSTANCE, "platform instance not pinned by the policy"},
    {ATLS_ERR_IO, "I/O error"},
    {ATLS_ERR_IO_CLOSED, "connection closed"},
    {ATLS_ERR_IO_FILE, "file error"},
    {ATLS_ERR_IO_TIMEOUT, "timed out"},
    {ATLS_ERR_IO_TRUNCATED, "connection closed in the middle of a frame"},
    {ATLS_ERR_INTERNAL, "internal error"},
    {ATLS_ERR_INTERNAL_ALLOC, "out of memory"},
};

const char *atls_strerror(atls_error err)
{
    for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++) {
        if (error_names[i].code == err) {
            return error_names[i].text;
        }
    }
    return "unknown error";
}

const char *atls_error_category(atls_error err)
{
    static const char *const categories[] = {"ok",       "usage",    "decode", "crypto", "protocol",
                                             "evidence", "policy",   "io",     "internal"};
    int c = (int)err / 100;
    if (err == ATLS_OK) {
        return "ok";
    }
    if (c < 1 || c > 8) {
        return "unknown";
    }
    return categories[c];
}

const char *atls_error_detail(void)
{
    return detail;
}

const char *atls_error_message(void)
{
    return detail + message_offset;
}

void atls_error_clear(void)
{
    detail[0] = '\0';
    message_offset = 0;
}

ATLS_PRINTF(3, 0)
static void record(const char *file, int line, const char *fmt, va_list ap, const char *suffix)
{
    const char *base = strrchr(file, '/');
    int n = snprintf(detail, sizeof(detail), "%s:%d: ", base ? base + 1 : file, line);
    if (n < 0 || (size_t)n >= sizeof(detail)) {
        n = 0;
    }
    message_offset = (size_t)n;
    int m = vsnprintf(detail + n, sizeof(detail) - (size_t)n, fmt, ap);
    if (m < 0) {
        detail[n] = '\0';
        m = 0;
    }
    size_t used = strlen(detail);
    if (suffix != NULL && used < sizeof(detail) - 1) {
        snprintf(detail + used, sizeof(detail) - used, "%s", suffix);
    }
}

atls_error atls_error_raise(atls_error code, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(file, line, fmt, ap, NULL);
    va_end(ap);
    return code;
}

atls_error atls_error_raise_ossl(atls_error code, const char *file, int line, const char *fmt, ...)
{
    char suffix[200] = "";
    unsigned long e = ERR_peek_error();
    if (e != 0) {
        char buf[160];
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(suffix, sizeof(suffix), " (openssl: %s)", buf);
    }
    ERR_clear_error();
    va_list ap;
    va_start(ap, fmt);
    record(file, line, fmt, ap, suffix);
    va_end(ap);
    return code;
}
