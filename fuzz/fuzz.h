/*
 * fuzz.h: shared declarations of the libFuzzer targets (fuzz/fuzz_<name>.c).
 *
 * Each target defines LLVMFuzzerTestOneInput only; fixtures that are expensive to make (a TLS
 * pair, test PKI) are built lazily on the first call, so the same file links both with
 * libFuzzer (-fsanitize=fuzzer) and with the plain replay driver of the regression tests
 * (tests/fuzz_regressions/replay.c). A target returns 0 for every input: parse errors are the
 * expected outcome. It calls FUZZ_REQUIRE when a property that must hold for every input fails
 * (e.g. parse -> write -> parse gives something else); that aborts, which libFuzzer reports as
 * a crash. Aborting is right here and only here: the harness, not the library, checks the
 * property.
 */
#ifndef ATLS_FUZZ_FUZZ_H
#define ATLS_FUZZ_FUZZ_H

#include <atls/error.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* LLVMFuzzerTestOneInput: the libFuzzer entry point, one input per call (borrowed). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_REQUIRE aborts with file:line when |cond| is false (a property violation). */
#define FUZZ_REQUIRE(cond)                                                                  \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: fuzz property violated: %s\n", __FILE__, __LINE__,      \
                    #cond);                                                                 \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

/* fuzz_ignore discards an atls_error on purpose (a (void) cast does not silence gcc's
 * warn_unused_result): for calls made only to exercise code whose outcome the target does not
 * judge. */
static inline void fuzz_ignore(atls_error rc)
{
    (void)rc;
}

/* FUZZ_SETUP aborts when a fixture cannot be built (not an input problem). */
#define FUZZ_SETUP(cond) FUZZ_REQUIRE(cond)

#endif /* ATLS_FUZZ_FUZZ_H */
