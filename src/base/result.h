/*
 * result.h: internal helpers for raising and propagating atls_error (see include/atls/error.h).
 *
 *   ATLS_RAISE(code, fmt, ...)     record "fmt" with file:line for this thread and return code
 *   ATLS_ENSURE(cond, code, fmt..) raise unless cond holds
 *   ATLS_GUARD(expr)               evaluate an atls_error expression, return it on failure
 *   ATLS_GUARD_OSSL(expr, code, fmt..)  OpenSSL call that returns 1 on success; on failure the
 *                                  first OpenSSL queue entry is appended to the detail and the
 *                                  queue is cleared
 *
 * Every internal function that can fail returns atls_error and is declared ATLS_MUST_CHECK.
 */
#ifndef ATLS_BASE_RESULT_H
#define ATLS_BASE_RESULT_H

#include <atls/error.h>

#if defined(__GNUC__) || defined(__clang__)
#define ATLS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ATLS_PRINTF(f, a)
#endif

/* atls_error_raise records the detail for |code| and returns |code|. */
atls_error atls_error_raise(atls_error code, const char *file, int line, const char *fmt, ...)
    ATLS_PRINTF(4, 5);

/* atls_error_raise_ossl is atls_error_raise plus the first entry of OpenSSL's error queue. */
atls_error atls_error_raise_ossl(atls_error code, const char *file, int line, const char *fmt, ...)
    ATLS_PRINTF(4, 5);

#define ATLS_RAISE(code, ...) return atls_error_raise((code), __FILE__, __LINE__, __VA_ARGS__)

#define ATLS_ENSURE(cond, code, ...)                                                              \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            ATLS_RAISE((code), __VA_ARGS__);                                                      \
        }                                                                                         \
    } while (0)

#define ATLS_GUARD(expr)                                                                          \
    do {                                                                                          \
        atls_error atls_guard_rc_ = (expr);                                                       \
        if (atls_guard_rc_ != ATLS_OK) {                                                          \
            return atls_guard_rc_;                                                                \
        }                                                                                         \
    } while (0)

#define ATLS_GUARD_OSSL(expr, code, ...)                                                          \
    do {                                                                                          \
        if ((expr) != 1) {                                                                        \
            return atls_error_raise_ossl((code), __FILE__, __LINE__, __VA_ARGS__);                \
        }                                                                                         \
    } while (0)

/* ATLS_BEST_EFFORT marks a call whose failure is deliberately ignored (cleanup on a path that
 * is already failing, best-effort notifications). (void) does not silence warn_unused_result
 * in gcc, and the macro also makes each such place easy to find. */
#define ATLS_BEST_EFFORT(expr)                                                                    \
    do {                                                                                          \
        if (expr) {                                                                               \
        }                                                                                         \
    } while (0)

/* Variants that jump to a cleanup label with |rc| set, for functions that own resources. */
#define ATLS_FAIL_GOTO(rc, label, code, ...)                                                      \
    do {                                                                                          \
        (rc) = atls_error_raise((code), __FILE__, __LINE__, __VA_ARGS__);                         \
        goto label;                                                                               \
    } while (0)

#define ATLS_GUARD_GOTO(rc, label, expr)                                                          \
    do {                                                                                          \
        (rc) = (expr);                                                                            \
        if ((rc) != ATLS_OK) {                                                                    \
            goto label;                                                                           \
        }                                                                                         \
    } while (0)

#define ATLS_GUARD_OSSL_GOTO(rc, label, expr, code, ...)                                          \
    do {                                                                                          \
        if ((expr) != 1) {                                                                        \
            (rc) = atls_error_raise_ossl((code), __FILE__, __LINE__, __VA_ARGS__);                \
            goto label;                                                                           \
        }                                                                                         \
    } while (0)

#endif /* ATLS_BASE_RESULT_H */
