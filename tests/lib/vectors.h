/* vectors.h: reading the shared third-party samples (../shared/vectors, via the environment
 * variable ATLS_SHARED_VECTORS that CTest sets).
 *
 * A test program with cases on those samples runs them as a CTest test of its own,
 * "<name>_shared" (atls_unit_test(... SHARED) in cmake/atls.cmake), labelled `shared`: main()
 * dispatches on test_shared_mode(), and test_shared_vectors() makes that test report skipped
 * (exit 77) when the samples are absent, so a missing folder never shows up as Passed. CI
 * (scripts/check-skips) fails when such a test was skipped. */
#ifndef ATLS_TESTS_VECTORS_H
#define ATLS_TESTS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* test_vector_read returns the malloc'd contents of $dir/$subdir/$name (caller frees), NUL
 * terminated one past *len, or NULL when it cannot be read. */
uint8_t *test_vector_read(const char *dir, const char *subdir, const char *name, size_t *len);

/* test_shared_mode: 1 when the program was started with the single argument "shared" (its
 * <name>_shared test), 0 without arguments (the cases that need nothing from outside); any
 * other argument list prints a usage line and exits 2. */
int test_shared_mode(int argc, char **argv);

/* test_shared_vectors returns $ATLS_SHARED_VECTORS when $ATLS_SHARED_VECTORS/|probe| (a file
 * every case of the caller needs) is readable; otherwise it prints "SKIPPED: needs the shared
 * vectors ..." and exits 77. The returned string belongs to the environment. */
const char *test_shared_vectors(const char *probe);

#endif /* ATLS_TESTS_VECTORS_H */
