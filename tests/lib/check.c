/* check.c: counters and reporting for check.h. */
#include "check.h"

int check_passed;
int check_failed;

void check_report(int ok, const char *file, int line, const char *expr, const char *extra)
{
    if (ok) {
        check_passed++;
        return;
    }
    check_failed++;
    fprintf(stderr, "FAIL %s:%d: %s%s%s\n", file, line, expr, extra ? ": " : "",
            extra ? extra : "");
}

int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 && check_passed > 0 ? 0 : 1;
}
