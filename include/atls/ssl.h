/*
 * atls/ssl.h: drop-in blocking calls with the semantics of OpenSSL's SSL_read, SSL_write,
 * SSL_shutdown and SSL_get_error, so a blocking client or server adopts atls by replacing
 * names: after its SSL_accept / SSL_connect it creates a session on the SSL (atls_session_new,
 * atls/session.h) and then calls
 *
 *     SSL_read(ssl, buf, n)        ->  atls_read(s, buf, n)
 *     SSL_read_ex(ssl, b, n, &r)   ->  atls_read_ex(s, b, n, &r)
 *     SSL_write(ssl, buf, n)       ->  atls_write(s, buf, n)
 *     SSL_write_ex(ssl, b, n, &w)  ->  atls_write_ex(s, b, n, &w)
 *     SSL_shutdown(ssl)            ->  atls_shutdown(s)
 *     SSL_get_error(ssl, ret)      ->  atls_get_error(s, ret)
 *     SSL_pending(ssl)             ->  atls_pending(s)
 *
 * with the same return values: atls_read/atls_write return the number of bytes (> 0), 0 when
 * the peer closed the connection cleanly (atls_read), or -1 on failure; the _ex forms return 1
 * or 0; atls_shutdown returns 0 (our close_notify sent, the peer's not yet seen), 1 (both) or
 * -1. atls_get_error then says SSL_ERROR_NONE, SSL_ERROR_ZERO_RETURN (the peer's clean end of
 * stream), SSL_ERROR_SYSCALL (the transport failed or the peer went away) or SSL_ERROR_SSL
 * (a TLS, atls/1 or attestation failure); these calls block, so never SSL_ERROR_WANT_*.
 * atls_session_last_error gives the atls_error behind it and atls_error_message() the one-line
 * reason, on the thread that made the call; a failure also goes to OpenSSL's error queue (as
 * OpenSSL's own do: library "atls", the atls_error as reason code, the message as its data),
 * so ERR_print_errors_fp and ERR_get_error report it where the application already looks.
 *
 * While the application blocks in them, everything atls does happens inside: the first
 * appraisal of a peer that must attest (a client's server, or a server's client with
 * peer_must_attest) is requested by the first atls_read or atls_write and waited for up to
 * the session's timeout_ms, and no byte is sent or returned before it succeeded; the peer's
 * requests are answered (within the session's rate limit, a delayed answer when it is due),
 * its re-attestations are appraised, and our requests' answer deadlines enforced
 * (atls_session_timeout_ms bounds every wait). Waiting for the peer's application data has no
 * limit of its own, as SSL_read on a blocking socket.
 *
 * The non-blocking calls of atls/session.h remain for event loops; both kinds may be mixed on
 * one session. Threading: as a session, one thread at a time (atls_read and atls_write of one
 * session may not run concurrently). Writing to a peer that has reset the connection raises
 * SIGPIPE as SSL_write does; ignore it (or use MSG_NOSIGNAL sockets) as the application
 * already must.
 */
#ifndef ATLS_SSL_H
#define ATLS_SSL_H

#include <atls/error.h>
#include <atls/session.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* atls_read: up to |num| bytes of the peer's application data into |buf|, blocking until
 * some arrive. Returns the count, 0 at the peer's clean end of stream, -1 on failure (also
 * |num| < 0). |num| == 0 returns 0 at once with SSL_ERROR_NONE. */
ATLS_API
int atls_read(atls_session *s, void *buf, int num);

/* atls_read_ex: as SSL_read_ex: 1 with *readbytes > 0 (or |num| == 0), else 0. */
ATLS_API
int atls_read_ex(atls_session *s, void *buf, size_t num, size_t *readbytes);

/* atls_write: sends all |num| bytes, blocking until the TLS layer took them (the application's
 * buffer is not kept). Returns |num|, or -1 on failure (also |num| < 0); |num| == 0 returns 0
 * with SSL_ERROR_NONE. */
ATLS_API
int atls_write(atls_session *s, const void *buf, int num);

/* atls_write_ex: as SSL_write_ex: 1 with *written == |num|, else 0. */
ATLS_API
int atls_write_ex(atls_session *s, const void *buf, size_t num, size_t *written);

/* atls_shutdown: the first call sends what is still queued and TLS close_notify and returns 1
 * when the peer's close_notify was already received, else 0; a later call waits (up to the
 * session's timeout_ms, dropping application data) for the peer's close_notify and returns 1,
 * or -1 when the peer closed without one or did not answer in time. After the first call
 * atls_read and atls_write fail. The socket stays open: the caller closes it. */
ATLS_API
int atls_shutdown(atls_session *s);

/* atls_get_error: the SSL_ERROR_* value for the result |ret| of the last drop-in call on |s|
 * (SSL_ERROR_NONE when |ret| > 0). */
ATLS_API
int atls_get_error(const atls_session *s, int ret);

/* atls_session_last_error: the atls_error of the last drop-in call on |s| (ATLS_OK when it
 * succeeded). */
ATLS_API
atls_error atls_session_last_error(const atls_session *s);

/* atls_pending: bytes of application data atls_read can return without waiting. */
ATLS_API
int atls_pending(const atls_session *s);

#ifdef __cplusplus
}
#endif
#endif /* ATLS_SSL_H */
