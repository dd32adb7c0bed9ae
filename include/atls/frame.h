/*
 * atls/frame.h: the atls/1 application-stream framing (docs/PROTOCOL.md section 3).
 *
 * When client and server both negotiate the ALPN protocol "atls/1", everything on the TLS
 * application stream is a sequence of frames:
 *
 *     type (1 byte) || length (3 bytes, big-endian) || payload (length bytes)
 *
 *     0x00 DATA           application bytes
 *     0x01 REQUEST        one EA request handshake message (RFC 9261 section 4)
 *     0x02 AUTHENTICATOR  Certificate||CertificateVerify||Finished, or an empty authenticator
 *     0x03 ERROR          u16 code || UTF-8 reason; the sender closes after it
 *
 * Any other type, a payload longer than ATLS_FRAME_MAX_PAYLOAD, an empty REQUEST or
 * AUTHENTICATOR, or a malformed ERROR is a protocol error.
 */
#ifndef ATLS_FRAME_H
#define ATLS_FRAME_H

#include <atls/error.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATLS_ALPN "atls/1"
/* ALPN wire form for SSL_CTX_set_alpn_protos: length byte + "atls/1" */
#define ATLS_ALPN_WIRE "\x06" "atls/1"
#define ATLS_ALPN_WIRE_LEN 7

#define ATLS_FRAME_DATA 0x00
#define ATLS_FRAME_REQUEST 0x01
#define ATLS_FRAME_AUTHENTICATOR 0x02
#define ATLS_FRAME_ERROR 0x03

#define ATLS_FRAME_HEADER_LEN 4
/* Ceiling on any frame's payload: an authenticator with a 64 KiB CMW and a few certificates
 * fits with room to spare; anything larger is refused before it is buffered. */
#define ATLS_FRAME_MAX_PAYLOAD (256u * 1024u)
/* DATA frames atls writes carry at most this much (one TLS record's worth). */
#define ATLS_FRAME_DATA_CHUNK 16000u
#define ATLS_FRAME_ERROR_REASON_MAX 1024u

/* ERROR frame codes (u16): the atls_error value of the failure, so both ends log the same. */

/* Incremental frame reader: bytes go in as they arrive, whole frames come out. */
typedef struct atls_frame_reader {
    uint8_t *buf;
    size_t len, cap;
    size_t consumed;   /* bytes of buf already handed out as frames */
} atls_frame_reader;

/* atls_frame_reader_init / _cleanup: a zeroed reader is valid; cleanup frees and wipes. */
ATLS_API
void atls_frame_reader_init(atls_frame_reader *r);
ATLS_API
void atls_frame_reader_cleanup(atls_frame_reader *r);

/* atls_frame_reader_feed appends |len| received bytes (copied). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_frame_reader_feed(atls_frame_reader *r, const uint8_t *data,
                                                  size_t len);

/* atls_frame_reader_next: when a complete frame is buffered, sets *type, *payload (borrowed,
 * valid until the next feed/next call) and *payload_len and returns ATLS_OK with *have = 1;
 * with an incomplete frame returns ATLS_OK with *have = 0. A frame that breaks the rules above
 * (unknown type, oversized, empty control frame) fails with ATLS_ERR_PROTOCOL_FRAME as soon
 * as its header is seen, before its payload is buffered. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_frame_reader_next(atls_frame_reader *r, int *have, uint8_t *type,
                                                  const uint8_t **payload, size_t *payload_len);

/* atls_frame_reader_has_frame: 1 when a complete frame (or a header that breaks the rules, which
 * _next will report) is buffered, so _next would make progress without more input. */
ATLS_API
int atls_frame_reader_has_frame(const atls_frame_reader *r);

/* atls_frame_reader_buffered: bytes held that have not been handed out yet. */
ATLS_API
size_t atls_frame_reader_buffered(const atls_frame_reader *r);

/* atls_frame_encode writes one frame into a malloc'd buffer (caller frees). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_frame_encode(uint8_t type, const uint8_t *payload, size_t len,
                                             uint8_t **out, size_t *out_len);

/* atls_frame_encode_error builds an ERROR frame payload+header for |code| and |reason|
 * (truncated to ATLS_FRAME_ERROR_REASON_MAX bytes at a UTF-8 boundary). Caller frees. */
ATLS_API
ATLS_MUST_CHECK atls_error atls_frame_encode_error(uint16_t code, const char *reason,
                                                   uint8_t **out, size_t *out_len);

/* atls_frame_parse_error decodes an ERROR payload: *code, and the reason copied into |reason|
 * (NUL-terminated, at most reason_size-1 bytes, non-printable bytes replaced by '?'). */
ATLS_API
ATLS_MUST_CHECK atls_error atls_frame_parse_error(const uint8_t *payload, size_t len,
                                                  uint16_t *code, char *reason,
                                                  size_t reason_size);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_FRAME_H */
