/* registry.c: the static tables of verifiers and attesters (atls/evidence.h, the plug-in
 * interface in evidence/core/plugin.h). No dlopen and no constructor registration: what atls
 * can verify is exactly what is listed here. */
#include "evidence/core/plugin.h"

#include "base/result.h"

#include <stddef.h>
#include <string.h>

#ifdef ATLS_HAVE_SIM
extern const atls_verifier_ops atls_sim_verifier_ops;
extern const atls_attester_ops atls_sim_attester_ops;
#endif
#ifdef ATLS_HAVE_TPM2
extern const atls_verifier_ops atls_tpm2_verifier_ops;
extern const atls_attester_ops atls_tpm2_attester_ops;
#endif
#ifdef ATLS_HAVE_SNP
extern const atls_verifier_ops atls_snp_verifier_ops;
#endif
#ifdef ATLS_HAVE_TDX
extern const atls_verifier_ops atls_tdx_verifier_ops;
#endif
#ifdef ATLS_HAVE_CCA
extern const atls_verifier_ops atls_cca_verifier_ops;
#endif
#ifdef ATLS_HAVE_TSM
extern const atls_verifier_ops atls_tsm_verifier_ops;
extern const atls_attester_ops atls_tsm_attester_ops;
#endif
#ifdef ATLS_HAVE_AZURE
extern const atls_verifier_ops atls_azure_verifier_ops;
extern const atls_attester_ops atls_azure_attester_ops;
#endif

static const atls_verifier_ops *const verifiers[] = {
#ifdef ATLS_HAVE_SIM
    &atls_sim_verifier_ops,
#endif
#ifdef ATLS_HAVE_TPM2
    &atls_tpm2_verifier_ops,
#endif
#ifdef ATLS_HAVE_SNP
    &atls_snp_verifier_ops,
#endif
#ifdef ATLS_HAVE_TDX
    &atls_tdx_verifier_ops,
#endif
#ifdef ATLS_HAVE_CCA
    &atls_cca_verifier_ops,
#endif
#ifdef ATLS_HAVE_TSM
    &atls_tsm_verifier_ops,
#endif
#ifdef ATLS_HAVE_AZURE
    &atls_azure_verifier_ops,
#endif
    NULL,
};

static const atls_attester_ops *const attesters[] = {
#ifdef ATLS_HAVE_SIM
    &atls_sim_attester_ops,
#endif
#ifdef ATLS_HAVE_TPM2
    &atls_tpm2_attester_ops,
#endif
#ifdef ATLS_HAVE_TSM
    &atls_tsm_attester_ops,
#endif
#ifdef ATLS_HAVE_AZURE
    &atls_azure_attester_ops,
#endif
    NULL,
};

const atls_verifier_ops *atls_verifier_by_name(const char *name)
{
    for (size_t i = 0; name != NULL && verifiers[i] != NULL; i++) {
        if (strcmp(verifiers[i]->name, name) == 0) {
            return verifiers[i];
        }
    }
    return NULL;
}

const atls_verifier_ops *atls_verifier_by_media_type(const char *media_type)
{
    for (size_t i = 0; media_type != NULL && verifiers[i] != NULL; i++) {
        if (strcmp(verifiers[i]->media_type, media_type) == 0) {
            return verifiers[i];
        }
    }
    return NULL;
}

const atls_attester_ops *atls_attester_ops_by_name(const char *name)
{
    for (size_t i = 0; name != NULL && attesters[i] != NULL; i++) {
        if (strcmp(attesters[i]->name, name) == 0) {
            return attesters[i];
        }
    }
    return NULL;
}

const atls_verifier_ops *atls_verifier_at(size_t i)
{
    return i < sizeof(verifiers) / sizeof(verifiers[0]) ? verifiers[i] : NULL;
}

const atls_attester_ops *atls_attester_at(size_t i)
{
    return i < sizeof(attesters) / sizeof(attesters[0]) ? attesters[i] : NULL;
}

/* ---- the public face of the opaque tables (atls/evidence.h) ---- */

const char *atls_verifier_name(const atls_verifier_ops *ops)
{
    return ops != NULL ? ops->name : NULL;
}

const char *atls_verifier_media_type(const atls_verifier_ops *ops)
{
    return ops != NULL ? ops->media_type : NULL;
}

const char *atls_attester_name(const atls_attester_ops *ops)
{
    return ops != NULL ? ops->name : NULL;
}

const char *atls_attester_media_type(const atls_attester_ops *ops)
{
    return ops != NULL ? ops->media_type : NULL;
}

atls_error atls_attester_create(const atls_attester_ops *ops, const char *const *config,
                                void **state)
{
    ATLS_ENSURE(ops != NULL && state != NULL, ATLS_ERR_USAGE, "attester: missing argument");
    *state = NULL;
    return ops->create(config, state);
}

void atls_attester_destroy(const atls_attester_ops *ops, void *state)
{
    if (ops != NULL && state != NULL) {
        ops->destroy(state);
    }
}
