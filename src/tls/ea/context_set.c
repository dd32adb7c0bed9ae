/* context_set.c: the per-connection record of accepted contexts (RFC 9261 section 5.2.1:
 * a certificate_request_context is accepted at most once per connection). */
#include "tls/ea/ea_internal.h"

#include "base/mem.h"
#include "base/result.h"

#include <stdlib.h>
#include <string.h>

typedef struct context_entry {
    uint8_t len;
    uint8_t bytes[ATLS_EA_CONTEXT_MAX_LEN];
} context_entry;

struct atls_ea_context_set {
    context_entry *items;
    size_t num;
    size_t cap;
};

atls_error atls_ea_context_set_new(atls_ea_context_set **out)
{
    ATLS_ENSURE(out != NULL, ATLS_ERR_USAGE, "atls_ea_context_set_new: NULL out");
    *out = calloc(1, sizeof(**out));
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

void atls_ea_context_set_free(atls_ea_context_set *set)
{
    if (set == NULL) {
        return;
    }
    free(set->items);
    free(set);
}

bool atls_ea_context_set_contains(const atls_ea_context_set *set, const uint8_t *ctx, size_t len)
{
    for (size_t i = 0; i < set->num; i++) {
        if (set->items[i].len == len && (len == 0 || memcmp(set->items[i].bytes, ctx, len) == 0)) {
            return true;
        }
    }
    return false;
}

atls_error atls_ea_context_set_add(atls_ea_context_set *set, const uint8_t *ctx, size_t len)
{
    ATLS_ENSURE(len <= ATLS_EA_CONTEXT_MAX_LEN, ATLS_ERR_USAGE, "EA: context too long");
    if (atls_ea_context_set_contains(set, ctx, len)) {
        return ATLS_OK;
    }
    if (set->num == set->cap) {
        size_t cap = set->cap == 0 ? 8 : set->cap * 2;
        context_entry *items = realloc(set->items, cap * sizeof(*items));
        ATLS_ENSURE(items != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        set->items = items;
        set->cap = cap;
    }
    set->items[set->num].len = (uint8_t)len;
    if (len > 0) {
        memcpy(set->items[set->num].bytes, ctx, len);
    }
    set->num++;
    return ATLS_OK;
}
