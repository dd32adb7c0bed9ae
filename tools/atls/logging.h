/* logging.h: the log of the long-running commands (`atls serve`, `atls connect -L`): one line
 * per event on stderr, each with a UTC timestamp and a level, as text (`key=value` pairs,
 * logfmt-style) or as one JSON object per line (`--log-format json`; docs/cli.md "Logs").
 *
 *   2025-06-01T10:00:00.123Z info atls serve: connection id=1 peer=127.0.0.1:40000 alpn=atls/1 mode=attested
 *   {"time":"2025-06-01T10:00:00.123Z","level":"info","cmd":"serve","event":"connection","id":1,...}
 *
 * Before logging_start (and for every other command) nothing changes: cli_error and cli_log
 * print "atls <cmd>: <message>" as they always did, and log_event lines are -v progress lines
 * in that format ("atls <cmd>: <event> key=value..."). After it, cli_error and cli_log become
 * log lines of level error and debug; lines of level debug are written only with -v, the
 * others always.
 *
 * Thread-safety: every function may be called from any thread; a line is formatted in a local
 * buffer and written with one write(2) under a mutex, so lines never interleave. Nothing here
 * assumes a thread per connection: callers pass the connection id as a field. */
#ifndef ATLS_TOOLS_LOGGING_H
#define ATLS_TOOLS_LOGGING_H

#include <stdarg.h>

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;
typedef enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON } log_format;

/* logging_parse_format: "text" or "json" into *out; 0, or CLI_EXIT_USAGE (message printed). */
int logging_parse_format(const char *s, log_format *out);

/* logging_start switches cli_error / cli_log (and log_event) to timestamped lines in |format|
 * for the command cli_cmd. Call once, from the main thread, before other threads start. */
void logging_start(log_format format);

/* logging_active: 1 after logging_start. */
int logging_active(void);

/* log_event writes one line: event name |event| and the fields of |fields|, a printf format
 * made of space-separated "key=value" items whose value mixes literal text and conversions
 * (%s %d %u %ld %lu %lld %llu %zu %f %.Nf) up to the next space, e.g.
 *   log_event(LOG_INFO, "connection", "id=%lu peer=%s mode=plain", id, peer);
 * Text output quotes a value that holds spaces, quotes or '=' (control and non-ASCII bytes
 * become '?', so a peer's text cannot forge a line); JSON output gives a value that is one
 * numeric conversion as a number and anything else as a string. A NULL string alone is "-"
 * (JSON null). Debug lines only with -v. */
void log_event(log_level level, const char *event, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

/* log_message writes a free-text line (the event "message" with field msg): what cli_error and
 * cli_log write after logging_start. */
void log_message(log_level level, const char *text);

#endif /* ATLS_TOOLS_LOGGING_H */
