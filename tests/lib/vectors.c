/* vectors.c: see vectors.h. */
#include "vectors.h"

#include "base/file.h"

#include <stdio.h>

uint8_t *test_vector_read(const char *dir, const char *subdir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/%s", dir, subdir, name);
    uint8_t *data = NULL;
    *len = 0;
    if (atls_file_read(path, 1u << 20, &data, len) != ATLS_OK) {
        return NULL;
    }
    return data;
}
