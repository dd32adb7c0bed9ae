/*
 * swtpm.h: a private software TPM for one test program.
 *
 * test_swtpm_start creates a temporary state directory, finds a free 127.0.0.1 port P whose
 * neighbour P+1 is free too (data P, control P+1, as the swtpm TCTI expects), starts
 * `swtpm socket --tpm2 ... --flags not-need-init,startup-clear` as a child process (not a
 * daemon) and waits until it accepts connections. PCRs start at their reset values. The
 * instance is stopped (by pid) and its directory removed by test_swtpm_stop, also at exit if
 * the test forgets or fails, and the kernel kills it (PR_SET_PDEATHSIG) if the test is killed,
 * e.g. by CTest at its time limit: no orphaned swtpm. Call it from the thread that lives as
 * long as the instance is needed (normally main): the death signal follows that thread.
 *
 * Use t->tcti with ESAPI ("swtpm:host=127.0.0.1,port=P") and set TPM2TOOLS_TCTI to the same
 * string for tpm2-tools (test_swtpm_setenv does that).
 */
#ifndef ATLS_TESTS_SWTPM_H
#define ATLS_TESTS_SWTPM_H

#include <sys/types.h>

typedef struct test_swtpm {
    char dir[256];   /* temporary directory (state in dir/state, log in dir/swtpm.log) */
    int port;        /* data port; control is port + 1 */
    char tcti[96];   /* "swtpm:host=127.0.0.1,port=<port>" */
    pid_t pid;       /* our child process; 0 when not running */
} test_swtpm;

/* test_swtpm_start starts a private swtpm. Returns 0 on success, 77 if swtpm is not installed
 * (callers pass it to TEST_SKIP), -1 on any other failure (a reason is printed). */
int test_swtpm_start(test_swtpm *t);

/* test_swtpm_stop stops the instance and removes its directory (idempotent). */
void test_swtpm_stop(test_swtpm *t);

/* test_swtpm_setenv exports TPM2TOOLS_TCTI=t->tcti for tpm2-tools child processes. */
void test_swtpm_setenv(const test_swtpm *t);

#endif /* ATLS_TESTS_SWTPM_H */
