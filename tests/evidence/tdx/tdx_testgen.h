/* tdx_testgen.h: test-only generator of TDX-shaped PKI (P-256 "SGX Root CA" -> "PCK Platform
 * CA" -> PCK with the SGX extension; "TCB Signing" cert), quotes v4/v5 and signed collateral.
 * Nothing here is Intel's. */
#ifndef ATLS_TESTS_TDX_TESTGEN_H
#define ATLS_TESTS_TDX_TESTGEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct tg_tdx_pki {
    EVP_PKEY *root_key, *ca_key, *pck_key, *tcb_key, *ak;
    X509 *root, *ca, *pck, *tcb;
} tg_tdx_pki;

/* tg_tdx_pki_new: PCK SGX extension with |fmspc|, PCE-ID 0000, components |comp|, |pcesvn|. */
int tg_tdx_pki_new(tg_tdx_pki *p, const uint8_t fmspc[6], const uint8_t comp[16], int pcesvn);
void tg_tdx_pki_free(tg_tdx_pki *p);

typedef struct tg_tdx_fields {
    uint16_t version;        /* 4 or 5 */
    uint16_t body_type;      /* v5: 2 or 3 */
    uint32_t tee_type;
    uint8_t tee_tcb_svn[16];
    uint8_t td_attributes[8];
    uint8_t report_data[64];
    uint8_t mrtd[48];
    uint16_t qe_isvsvn;
    uint8_t qe_attributes0;   /* QE report ATTRIBUTES[0]: 0x11 (INIT, PROVISIONKEY); 0x13 debug */
    uint8_t qe_mrsigner;      /* every byte of the QE's MRSIGNER (0xdc) */
    uint16_t qe_isvprodid;    /* 2 (the TD QE) */
    uint8_t tee_tcb_svn2[16]; /* body type 3 only */
    uint8_t mrservicetd[48];  /* body type 3 only */
    int have_rtmr;            /* 1: RTMR0..3 are |rtmr| (e.g. a CC event log's replay); 0: a
                               * fixed pattern */
    uint8_t rtmr[4][48];
} tg_tdx_fields;

void tg_tdx_defaults(tg_tdx_fields *f);

/* tg_tdx_quote builds a signed quote (malloc'd, *len) and the offset of the PCK chain. */
uint8_t *tg_tdx_quote(const tg_tdx_pki *p, const tg_tdx_fields *f, size_t *len,
                      size_t *chain_off);

/* tg_tdx_write_signed writes {"<member>":<body>,"signature":"<hex>"} to |path|, signed by the
 * TCB signing key over |body| exactly. */
int tg_tdx_write_signed(const tg_tdx_pki *p, const char *path, const char *member,
                        const char *body);

/* tg_tdx_write_signed_by is tg_tdx_write_signed with another signing key (negative tests). */
int tg_tdx_write_signed_by(EVP_PKEY *key, const char *path, const char *member,
                           const char *body);

/* tg_tdx_cert: a certificate for |key| named |cn| issued by |issuer| (NULL: self-signed with
 * |issuer_key| = |key|), a CA when |ca|, valid from 30 days ago for a year. Caller frees. */
X509 *tg_tdx_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int ca);

/* tg_tdx_write_certs writes |n| certificates as PEM to |path|. */
int tg_tdx_write_certs(const char *path, X509 *const *certs, size_t n);

/* tg_tdx_write_chain writes the TCB signing cert + root as PEM. */
int tg_tdx_write_chain(const tg_tdx_pki *p, const char *path);

/* tg_tdx_crls: the root CA CRL (issuer root) and the PCK CRL (issuer "PCK Platform CA"), both
 * valid [this_update, next_update); the PCK CRL lists the PCK when |revoke_pck|. Caller frees
 * (sk_X509_CRL_pop_free); NULL on failure. */
STACK_OF(X509_CRL) *tg_tdx_crls(const tg_tdx_pki *p, time_t this_update, time_t next_update,
                                int revoke_pck);

/* Collateral for the PKI above (FMSPC 00112233AABB, PCE-ID 0000, the PCK's SGX components
 * 5,5,2,2,3,1,0,3 and PCESVN 11 at every level), signed by |key| (pass p->tcb_key normally):
 * tg_tdx_level writes one tcbLevel with TDX components t0, t1, t2 (others 0) and |status|;
 * tg_tdx_write_tcb_info a TCB Info v3 with the levels |levels| (comma-separated) and
 * |module_ids| (NULL, or ",\"tdxModuleIdentities\":[...]"); tg_tdx_write_qe_identity a TD_QE
 * identity matching the generated QE (levels isvsvn 8: |latest|, 0: OutOfDate). 1 = written. */
void tg_tdx_level(char *out, size_t n, int t0, int t1, int t2, const char *status);
int tg_tdx_write_tcb_info(EVP_PKEY *key, const char *path, time_t issue, time_t next,
                          const char *levels, const char *module_ids);
int tg_tdx_write_qe_identity(EVP_PKEY *key, const char *path, time_t issue, time_t next,
                             const char *latest);

/* tg_iso writes t as "YYYY-MM-DDThh:mm:ssZ". */
void tg_iso(time_t t, char out[21]);

#endif
