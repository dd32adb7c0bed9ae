/*
 * check.h: the tiny test harness every C test program uses.
 *
 *   CHECK(cond)                 the condition must hold
 *   CHECK_OK(expr)              an atls_error expression must be ATLS_OK
 *   CHECK_ERR(expr, code)       an atls_error expression must fail with exactly |code|
 *   CHECK_EQ_MEM(a, b, n)       n bytes must be equal
 *   TEST_SKIP(why)              exit 77 (CTest "skipped") with a reason
 *   return check_summary();     at the end of main: prints "N passed, M failed" and exits
 *
 * A failed check prints file:line, the expression and atls_error_detail(), and the test goes
 * on, so one run shows every failure.
 */
#ifndef ATLS_TESTS_CHECK_H
#define ATLS_TESTS_CHECK_H

#include <atls/error.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int check_passed;
extern int check_failed;

void check_report(int ok, const char *file, int line, const char *expr, const char *extra);
int check_summary(void);

#define CHECK(cond) check_report(!!(cond), __FILE__, __LINE__, #cond, NULL)

/* CHECK_FAIL records a failure saying |why| (a string literal): for paths that must not be
 * reached (CHECK(!"...") would be a string-to-bool conversion clang warns about). */
#define CHECK_FAIL(why) check_report(0, __FILE__, __LINE__, why, NULL)

#define CHECK_OK(expr)                                                                            \
    do {                                                                                          \
        atls_error check_rc_ = (expr);                                                            \
        char check_buf_[700];                                                                     \
        snprintf(check_buf_, sizeof(check_buf_), "got %d (%s) %s", (int)check_rc_,               \
                 atls_strerror(check_rc_), atls_error_detail());                                  \
        check_report(check_rc_ == ATLS_OK, __FILE__, __LINE__, #expr " == ATLS_OK", check_buf_);  \
    } while (0)

#define CHECK_ERR(expr, code)                                                                     \
    do {                                                                                          \
        atls_error check_rc_ = (expr);                                                            \
        char check_buf_[700];                                                                     \
        snprintf(check_buf_, sizeof(check_buf_), "got %d (%s) %s", (int)check_rc_,               \
                 atls_strerror(check_rc_), atls_error_detail());                                  \
        check_report(check_rc_ == (code), __FILE__, __LINE__, #expr " fails with " #code,         \
                     check_buf_);                                                                 \
    } while (0)

#define CHECK_EQ_MEM(a, b, n) check_report(memcmp((a), (b), (n)) == 0, __FILE__, __LINE__,       \
                                           "memcmp(" #a ", " #b ", " #n ") == 0", NULL)

#define TEST_SKIP(why)                                                                            \
    do {                                                                                          \
        printf("SKIPPED: %s\n", (why));                                                           \
        exit(77);                                                                                 \
    } while (0)

#endif /* ATLS_TESTS_CHECK_H */
