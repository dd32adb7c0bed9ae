/* context_set.c: the per-connection record of accepted contexts (RFC 9261 section 5.2.1:
 * a certificate_request_context is accepted at most once per connection).
 *
 * Two kinds (ea.h): an exact set of arbitrary contexts (one entry per context: the caller
 * bounds how many it validates), and a sequenced set for contexts of the form prefix ||
 * uint64 sequence number || tail, which needs constant memory and O(1) time however many
 * contexts a connection sees: sequence numbers below the window are used, those inside it are
 * a bitmap. */
#include "tls/ea/ea_internal.h"

#include "base/mem.h"
#include "base/result.h"

#include <stdlib.h>
#include <string.h>

typedef struct context_entry {
    uint8_t len;
    uint8_t bytes[ATLS_EA_CONTEXT_MAX_LEN];
} context_entry;

#define WINDOW 64

struct atls_ea_context_set {
    /* exact */
    context_entry *items;
    size_t num;
    size_t cap;
    /* sequenced (prefix_len > 0) */
    uint8_t prefix[ATLS_EA_CONTEXT_MAX_LEN];
    size_t prefix_len;
    uint64_t base;   /* every sequence number below base counts as used */
    uint64_t bitmap; /* bit i: base + i was accepted */
};

atls_error atls_ea_context_set_new(atls_ea_context_set **out)
{
    ATLS_ENSURE(out != NULL, ATLS_ERR_USAGE, "atls_ea_context_set_new: NULL out");
    *out = calloc(1, sizeof(**out));
    ATLS_ENSURE(*out != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

atls_error atls_ea_context_set_new_sequenced(const uint8_t *prefix, size_t prefix_len,
                                             atls_ea_context_set **out)
{
    ATLS_ENSURE(out != NULL && prefix != NULL && prefix_len > 0 &&
                    prefix_len + 8 <= ATLS_EA_CONTEXT_MAX_LEN,
                ATLS_ERR_USAGE, "atls_ea_context_set_new_sequenced: bad prefix");
    ATLS_GUARD(atls_ea_context_set_new(out));
    memcpy((*out)->prefix, prefix, prefix_len);
    (*out)->prefix_len = prefix_len;
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

/* sequence_of: the sequence number of |ctx| in a sequenced set; false when |ctx| does not carry
 * the set's prefix and a sequence number. */
static bool sequence_of(const atls_ea_context_set *set, const uint8_t *ctx, size_t len,
                        uint64_t *seq)
{
    if (len < set->prefix_len + 8 || memcmp(ctx, set->prefix, set->prefix_len) != 0) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) {
        v = v << 8 | ctx[set->prefix_len + i];
    }
    *seq = v;
    return true;
}

bool atls_ea_context_set_contains(const atls_ea_context_set *set, const uint8_t *ctx, size_t len)
{
    if (set->prefix_len > 0) {
        uint64_t seq;
        if (!sequence_of(set, ctx, len, &seq)) {
            return false; /* never recorded: add refuses it */
        }
        if (seq < set->base) {
            return true;
        }
        return seq - set->base < WINDOW && (set->bitmap >> (seq - set->base) & 1) != 0;
    }
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
    if (set->prefix_len > 0) {
        uint64_t seq;
        ATLS_ENSURE(sequence_of(set, ctx, len, &seq), ATLS_ERR_PROTOCOL_CONTEXT,
                    "EA: the context does not carry this connection's prefix and sequence number");
        if (seq - set->base >= WINDOW) {
            /* slide: what falls below the window counts as used from now on */
            uint64_t shift = seq - set->base - (WINDOW - 1);
            set->bitmap = shift >= WINDOW ? 0 : set->bitmap >> shift;
            set->base += shift;
        }
        set->bitmap |= (uint64_t)1 << (seq - set->base);
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

size_t atls_ea_context_set_memory(const atls_ea_context_set *set)
{
    return sizeof(*set) + set->cap * sizeof(context_entry);
}
