/* logging.c: timestamped text / JSON log lines (logging.h). */
#include "logging.h"

#include "cli.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* longer lines are cut (and end in "..." / a JSON "truncated": true) */
#define LINE_MAX_BYTES 4096

static int started;
static log_format fmt;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

typedef struct line {
    char buf[LINE_MAX_BYTES];
    size_t len;
    int full;
} line;

int logging_parse_format(const char *s, log_format *out)
{
    if (strcmp(s, "text") == 0) {
        *out = LOG_FORMAT_TEXT;
    } else if (strcmp(s, "json") == 0) {
        *out = LOG_FORMAT_JSON;
    } else {
        cli_error("--log-format '%s': expected text or json", s);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

void logging_start(log_format format)
{
    fmt = format;
    started = 1;
}

int logging_active(void)
{
    return started;
}

/* room for the line end ("}\n" at most) is kept back */
static void put(line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->buf) - 3 - l->len;
    if (n > room) {
        n = room;
        l->full = 1;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(line *l, const char *s)
{
    put(l, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(line *l, const char *f, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(tmp, sizeof(tmp), f, ap);
    va_end(ap);
    if (n > 0) {
        put(l, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    }
}

/* a value as text: bytes a peer may have chosen (an ERROR frame's reason) never start a new
 * line or smuggle a terminal escape: control and non-ASCII bytes become '?' */
static int needs_quotes(const char *s)
{
    return s[0] == '\0' || strpbrk(s, " \"=\\") != NULL;
}

static void put_text_value(line *l, const char *s, int quote)
{
    if (quote) {
        put(l, "\"", 1);
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && !l->full; p++) {
        char c = (char)*p;
        if (*p < 0x20 || *p >= 0x7f) {
            c = '?';
        }
        if (quote && (c == '"' || c == '\\')) {
            put(l, "\\", 1);
        }
        put(l, &c, 1);
    }
    if (quote) {
        put(l, "\"", 1);
    }
}

static void put_json_string(line *l, const char *s)
{
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && !l->full; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            put(l, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            putf(l, "\\u%04x", *p);
        } else if (*p >= 0x80) {
            put(l, "?", 1); /* never invalid UTF-8 in the output */
        } else {
            put(l, (const char *)p, 1);
        }
    }
    put(l, "\"", 1);
}

static void put_key(line *l, const char *key, size_t key_len)
{
    if (fmt == LOG_FORMAT_JSON) {
        put(l, ",\"", 2);
        put(l, key, key_len);
        put(l, "\":", 2);
    } else {
        put(l, " ", 1);
        put(l, key, key_len);
        put(l, "=", 1);
    }
}

static void put_string_field(line *l, const char *key, size_t key_len, const char *v)
{
    put_key(l, key, key_len);
    if (fmt == LOG_FORMAT_JSON) {
        if (v == NULL) {
            puts_(l, "null");
        } else {
            put_json_string(l, v);
        }
    } else {
        put_text_value(l, v != NULL ? v : "-", v != NULL && needs_quotes(v));
    }
}

static void begin(line *l, log_level level, const char *event)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    l->len = 0;
    l->full = 0;
    if (!started) {
        /* a command that is not a daemon: a -v progress line as cli_log writes it */
        puts_(l, "atls ");
        puts_(l, cli_cmd);
        puts_(l, ": ");
        puts_(l, event);
        return;
    }
    if (fmt == LOG_FORMAT_JSON) {
        puts_(l, "{\"time\":\"");
        puts_(l, when);
        puts_(l, "\",\"level\":\"");
        puts_(l, level_names[level]);
        puts_(l, "\",\"cmd\":");
        put_json_string(l, cli_cmd);
        puts_(l, ",\"event\":");
        put_json_string(l, event);
    } else {
        puts_(l, when);
        put(l, " ", 1);
        puts_(l, level_names[level]);
        puts_(l, " atls ");
        puts_(l, cli_cmd);
        puts_(l, ": ");
        puts_(l, event);
    }
}

static void finish(line *l)
{
    if (fmt == LOG_FORMAT_JSON) {
        if (l->full) {
            /* cut inside a string, perhaps: start again with what is known to be whole */
            l->full = 0;
            l->len = 0;
            puts_(l, "{\"level\":\"error\",\"event\":\"log_line_too_long\"");
        }
        put(l, "}", 1);
    } else if (l->full) {
        memcpy(l->buf + l->len - 3, "...", 3);
    }
    l->buf[l->len++] = '\n';
    pthread_mutex_lock(&write_lock);
    for (size_t off = 0; off < l->len;) {
        ssize_t w = write(STDERR_FILENO, l->buf + off, l->len - off);
        if (w <= 0) {
            break; /* nowhere to report it */
        }
        off += (size_t)w;
    }
    pthread_mutex_unlock(&write_lock);
}

/* before logging_start every event is a -v progress line */
static int wanted(log_level level)
{
    return started ? level != LOG_DEBUG || cli_verbose : cli_verbose;
}

/* conv formats one conversion at |*f| (just after its '%') into |out| and moves *f past it.
 * Returns 's' for a string (NULL: *is_null set), 'n' for a number, 0 for something it does
 * not understand. */
static char conv(const char **f, va_list *ap, char *out, size_t size, int *is_null)
{
    const char *p = *f;
    int precision = -1;
    while (*p == '-' || *p == '+' || *p == ' ' || *p == '#' || *p == '0' ||
           (*p >= '1' && *p <= '9')) {
        p++; /* flags and width: values are written without padding */
    }
    if (*p == '.') {
        precision = 0;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            precision = precision * 10 + (*p - '0');
        }
    }
    int longs = 0, size_t_arg = 0;
    for (; *p == 'l' || *p == 'z'; p++) {
        longs += *p == 'l';
        size_t_arg = *p == 'z';
    }
    char c = *p++;
    *f = p;
    *is_null = 0;
    switch (c) {
    case 's': {
        const char *v = va_arg(*ap, const char *);
        *is_null = v == NULL;
        snprintf(out, size, "%s", v != NULL ? v : "-");
        return 's';
    }
    case 'd':
    case 'i': {
        long long v = size_t_arg ? (long long)va_arg(*ap, ssize_t)
                      : longs == 2 ? va_arg(*ap, long long)
                      : longs == 1 ? va_arg(*ap, long) : va_arg(*ap, int);
        snprintf(out, size, "%lld", v);
        return 'n';
    }
    case 'u': {
        unsigned long long v = size_t_arg ? (unsigned long long)va_arg(*ap, size_t)
                               : longs == 2 ? va_arg(*ap, unsigned long long)
                               : longs == 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned);
        snprintf(out, size, "%llu", v);
        return 'n';
    }
    case 'f':
        snprintf(out, size, "%.*f", precision < 0 ? 6 : precision, va_arg(*ap, double));
        return 'n';
    default:
        return 0;
    }
}

/* put_field writes one "key=value" item of |*f|: the value runs to the next space and may mix
 * literal text and conversions ("server=%s:%s"); a value that is exactly one numeric
 * conversion is a JSON number, anything else a string. Returns 0 at the end of the format or
 * at something it does not understand (the rest is ignored). */
static int put_field(line *l, const char **f, va_list *ap)
{
    const char *p = *f;
    while (*p == ' ') {
        p++;
    }
    const char *key = p;
    while (*p != '\0' && *p != '=' && *p != ' ') {
        p++;
    }
    if (*p != '=' || p == key) {
        return 0;
    }
    size_t key_len = (size_t)(p - key);
    p++;
    char value[LINE_MAX_BYTES], piece[LINE_MAX_BYTES];
    size_t vlen = 0;
    int pieces = 0, numeric = 0, only_null = 0;
    value[0] = '\0';
    while (*p != '\0' && *p != ' ') {
        size_t n;
        if (*p == '%') {
            p++;
            int is_null = 0;
            char kind = conv(&p, ap, piece, sizeof(piece), &is_null);
            if (kind == 0) {
                return 0;
            }
            numeric = kind == 'n';
            only_null = is_null;
            n = strlen(piece);
        } else {
            n = strcspn(p, " %");
            snprintf(piece, sizeof(piece), "%.*s", (int)n, p);
            p += n;
            numeric = only_null = 0;
        }
        pieces++;
        if (n > sizeof(value) - 1 - vlen) {
            n = sizeof(value) - 1 - vlen;
        }
        memcpy(value + vlen, piece, n);
        vlen += n;
        value[vlen] = '\0';
    }
    *f = p;
    if (pieces == 1 && numeric) {
        put_key(l, key, key_len);
        puts_(l, value);
    } else {
        put_string_field(l, key, key_len, pieces == 1 && only_null ? NULL : value);
    }
    return 1;
}

void log_event(log_level level, const char *event, const char *fields, ...)
{
    if (!wanted(level)) {
        return;
    }
    line l;
    begin(&l, level, event);
    va_list ap;
    va_start(ap, fields);
    const char *f = fields;
    while (put_field(&l, &f, &ap)) {
    }
    va_end(ap);
    finish(&l);
}

void log_message(log_level level, const char *text)
{
    if (!wanted(level)) {
        return;
    }
    line l;
    begin(&l, level, "message");
    if (fmt == LOG_FORMAT_JSON) {
        put_string_field(&l, "msg", 3, text);
    } else {
        /* text: the message itself after the prefix, as before logging_start */
        l.len -= strlen("message");
        put_text_value(&l, text, 0);
    }
    finish(&l);
}
