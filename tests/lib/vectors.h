/* vectors.h: reading the shared third-party samples (../shared/vectors, via the environment
 * variable ATLS_SHARED_VECTORS that CTest sets). Tests skip those cases when it is absent. */
#ifndef ATLS_TESTS_VECTORS_H
#define ATLS_TESTS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* test_vector_read returns the malloc'd contents of $dir/$subdir/$name (caller frees), NUL
 * terminated one past *len, or NULL when it cannot be read. */
uint8_t *test_vector_read(const char *dir, const char *subdir, const char *name, size_t *len);

#endif /* ATLS_TESTS_VECTORS_H */
