/* vectors.c: see vectors.h. */
#include "vectors.h"

#include "base/file.h"
#include "check.h"

#include <stdio.h>
#include <unistd.h>

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

int test_shared_mode(int argc, char **argv)
{
    if (argc == 1) {
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "shared") == 0) {
        return 1;
    }
    fprintf(stderr, "usage: %s [shared]\n", argv[0]);
    exit(2);
}

const char *test_shared_vectors(const char *probe)
{
    const char *dir = getenv("ATLS_SHARED_VECTORS");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "", probe);
    if (dir == NULL || dir[0] == '\0' || access(path, R_OK) != 0) {
        printf("SKIPPED: needs the shared vectors (%s not readable; ATLS_SHARED_VECTORS=%s)\n",
               path, dir != NULL ? dir : "(unset)");
        exit(77);
    }
    return dir;
}
