/* mem.c: memory helpers (mem.h). */
#include "base/mem.h"

#include "base/result.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

void atls_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0) {
        OPENSSL_cleanse(p, len);
    }
}

void *atls_memdup(const void *data, size_t len)
{
    void *p = malloc(len == 0 ? 1 : len);
    if (p != NULL && len > 0) {
        memcpy(p, data, len);
    }
    return p;
}

atls_error atls_buf_set(atls_buf *b, const uint8_t *data, size_t len)
{
    uint8_t *copy = atls_memdup(data, len);
    ATLS_ENSURE(copy != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory (%zu bytes)", len);
    atls_buf_cleanup(b);
    b->data = copy;
    b->len = len;
    return ATLS_OK;
}

void atls_buf_cleanup(atls_buf *b)
{
    if (b == NULL) {
        return;
    }
    if (b->data != NULL) {
        atls_wipe(b->data, b->len);
        free(b->data);
    }
    b->data = NULL;
    b->len = 0;
}
