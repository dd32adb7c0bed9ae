/* file.h: reading whole files with a size ceiling, and writing them atomically. */
#ifndef ATLS_BASE_FILE_H
#define ATLS_BASE_FILE_H

#include <atls/error.h>

#include <stddef.h>
#include <stdint.h>

#define ATLS_FILE_MAX_DEFAULT (64u * 1024u * 1024u)

/* atls_file_read reads all of |path| (at most |max| bytes, 0 = default ceiling) into a malloc'd
 * buffer that is NUL-terminated one past *out_len (caller frees). Raises ATLS_ERR_IO_FILE with
 * the path and strerror, or ATLS_ERR_DECODE_TOO_LARGE. */
ATLS_MUST_CHECK atls_error atls_file_read(const char *path, size_t max, uint8_t **out,
                                          size_t *out_len);

/* atls_file_write_atomic writes |len| bytes to |path| through a temporary file in the same
 * directory and rename(2), so a reader never sees a partial file. Mode 0600 if |private_|. */
ATLS_MUST_CHECK atls_error atls_file_write_atomic(const char *path, const uint8_t *data,
                                                  size_t len, int private_);

#endif /* ATLS_BASE_FILE_H */
