/* intra_names.c: INSECURE baseline, names of modes and binders (CLI, logs, COMPARISON.md). */
#include "tls/intra/intra_internal.h"

#include <string.h>

static const struct {
    atls_intra_insecure_binder binder;
    const char *name;
    const char *description;
} binders[] = {
    {ATLS_INTRA_INSECURE_BINDER_CR, "1", "#1 client random"},
    {ATLS_INTRA_INSECURE_BINDER_NONCE, "2", "#2 nonce"},
    {ATLS_INTRA_INSECURE_BINDER_EXP0, "3", "#3 early exporter"},
    {ATLS_INTRA_INSECURE_BINDER_KEY, "4", "#4 public key"},
    {ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0, "5", "#5 nonce + early exporter"},
    {ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, "6", "#6 nonce + public key"},
    {ATLS_INTRA_INSECURE_BINDER_NONCE_EXP0_KEY, "7", "#7 nonce + early exporter + public key"},
    {ATLS_INTRA_INSECURE_BINDER_HANDSHAKE, "hs",
     "proposal: nonce + handshake binder (substitute) + public key"},
    {ATLS_INTRA_INSECURE_BINDER_NONE, "none", "none (Evidence over a constant)"},
};

const char *atls_intra_insecure_binder_name(atls_intra_insecure_binder b)
{
    for (size_t i = 0; i < sizeof(binders) / sizeof(binders[0]); i++) {
        if (binders[i].binder == b) {
            return binders[i].name;
        }
    }
    return NULL;
}

const char *atls_intra_insecure_binder_description(atls_intra_insecure_binder b)
{
    for (size_t i = 0; i < sizeof(binders) / sizeof(binders[0]); i++) {
        if (binders[i].binder == b) {
            return binders[i].description;
        }
    }
    return NULL;
}

atls_intra_insecure_binder atls_intra_insecure_binder_parse(const char *name)
{
    if (name == NULL) {
        return 0;
    }
    if (strcmp(name, "8") == 0) {
        return ATLS_INTRA_INSECURE_BINDER_HANDSHAKE;
    }
    for (size_t i = 0; i < sizeof(binders) / sizeof(binders[0]); i++) {
        if (strcmp(binders[i].name, name) == 0) {
            return binders[i].binder;
        }
    }
    return 0;
}

const char *atls_intra_insecure_mode_name(atls_intra_insecure_mode m)
{
    return m == ATLS_INTRA_INSECURE_RA_ONLY ? "ra-only"
           : m == ATLS_INTRA_INSECURE_X509  ? "x509"
                                            : NULL;
}

atls_intra_insecure_mode atls_intra_insecure_mode_parse(const char *name)
{
    if (name != NULL && strcmp(name, "ra-only") == 0) {
        return ATLS_INTRA_INSECURE_RA_ONLY;
    }
    if (name != NULL && strcmp(name, "x509") == 0) {
        return ATLS_INTRA_INSECURE_X509;
    }
    return 0;
}
