/* file.c: file helpers (file.h). */
#include "base/file.h"

#include "base/result.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

atls_error atls_file_read(const char *path, size_t max, uint8_t **out, size_t *out_len)
{
    if (max == 0) {
        max = ATLS_FILE_MAX_DEFAULT;
    }
    ATLS_ENSURE(path != NULL && path[0] != '\0', ATLS_ERR_USAGE, "no file name given");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ATLS_ENSURE(fd >= 0, ATLS_ERR_IO_FILE, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = errno;
        close(fd);
        ATLS_RAISE(ATLS_ERR_IO_FILE, "cannot read %s: %s", path,
                   S_ISDIR(st.st_mode) ? "is a directory" : strerror(e));
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap + 1);
    if (buf == NULL) {
        close(fd);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory reading %s", path);
    }
    for (;;) {
        if (len == cap) {
            if (cap >= max + 1) {
                free(buf);
                close(fd);
                ATLS_RAISE(ATLS_ERR_DECODE_TOO_LARGE, "%s is larger than %zu bytes", path, max);
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (nb == NULL) {
                free(buf);
                close(fd);
                ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory reading %s", path);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            ATLS_RAISE(ATLS_ERR_IO_FILE, "cannot read %s: %s", path, strerror(e));
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    if (len > max) {
        free(buf);
        ATLS_RAISE(ATLS_ERR_DECODE_TOO_LARGE, "%s is larger than %zu bytes", path, max);
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return ATLS_OK;
}

atls_error atls_file_write_atomic(const char *path, const uint8_t *data, size_t len, int private_)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    ATLS_ENSURE(tmp != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        ATLS_RAISE(ATLS_ERR_IO_FILE, "cannot create a file next to %s: %s", path, strerror(e));
    }
    if (!private_) {
        (void)fchmod(fd, 0644);
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            ATLS_RAISE(ATLS_ERR_IO_FILE, "cannot write %s: %s", path, strerror(e));
        }
        off += (size_t)n;
    }
    int synced = fsync(fd);
    int closed = close(fd);
    if (synced != 0 || closed != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        ATLS_RAISE(ATLS_ERR_IO_FILE, "cannot write %s: %s", path, strerror(e));
    }
    free(tmp);
    return ATLS_OK;
}
