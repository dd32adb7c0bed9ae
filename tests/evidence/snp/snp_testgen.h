/* snp_testgen.h: test-only generator of SNP-shaped PKI (RSA-PSS "ARK"/"ASK"/"ASVK", P-384
 * "VCEK"/"VLEK" with the AMD extensions) and signed reports. Nothing here is AMD's. */
#ifndef ATLS_TESTS_SNP_TESTGEN_H
#define ATLS_TESTS_SNP_TESTGEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <time.h>

/* Fields the generator lets a test choose; everything else gets a fixed pattern. */
typedef struct tg_snp_fields {
    uint32_t version;        /* 2..5 */
    uint64_t policy;
    uint32_t vmpl;
    uint32_t guest_svn;
    uint64_t tcb;            /* current = reported = launch (= committed unless set below) */
    uint64_t committed_tcb;  /* 0: = tcb; another value makes the firmware provisional */
    uint32_t signer_info;    /* bits 4:2 = 1 for VLEK */
    uint8_t cpuid_fam;
    uint8_t report_data[64];
    uint8_t measurement[48];
    uint8_t chip_id[64];
} tg_snp_fields;

/* A chain: ARK (self-signed) -> ASK -> leaf (VCEK/VLEK). All owned; tg_snp_pki_free. */
typedef struct tg_snp_pki {
    EVP_PKEY *ark_key, *ask_key, *leaf_key;
    X509 *ark, *ask, *leaf;
} tg_snp_pki;

/* tg_snp_defaults fills |f| with a valid v3 Milan report (policy SMT, VCEK). */
void tg_snp_defaults(tg_snp_fields *f);

/* tg_snp_pki_new builds ARK/ASK and a leaf whose SPL extensions describe |tcb| in the Milan
 * (turin = 0) or Turin layout, hwID = |hwid| (|hwid_len| bytes, 0 = no hwID), CN |leaf_cn|,
 * valid from |nb| to |na|. Returns 0 on failure. */
int tg_snp_pki_new(tg_snp_pki *p, uint64_t tcb, int turin, const uint8_t *hwid, size_t hwid_len,
                   const char *leaf_cn, const char *product, time_t nb, time_t na);

/* tg_snp_leaf_new issues another leaf under p's ASK into *leaf / *key (same parameters). */
int tg_snp_leaf_new(tg_snp_pki *p, uint64_t tcb, int turin, const uint8_t *hwid, size_t hwid_len,
                    const char *product, time_t nb, time_t na, X509 **leaf, EVP_PKEY **key);

/* tg_snp_leaf_new_cn is tg_snp_leaf_new with a chosen subject CN ("SEV-VCEK", "SEV-VLEK"). */
int tg_snp_leaf_new_cn(tg_snp_pki *p, uint64_t tcb, int turin, const uint8_t *hwid,
                       size_t hwid_len, const char *cn, const char *product, time_t nb, time_t na,
                       X509 **leaf, EVP_PKEY **key);

void tg_snp_pki_free(tg_snp_pki *p);

/* tg_snp_report writes a signed 1184-byte report into |out| using |key|. Returns 0 on failure. */
int tg_snp_report(const tg_snp_fields *f, EVP_PKEY *key, uint8_t out[1184]);

/* tg_snp_cert_table: a GHCB certificate table (the configfs-tsm auxblob) holding p's leaf (as
 * VCEK), ASK and ARK, GUIDs in RFC 4122 byte order. malloc'd (*len bytes), NULL on failure. */
uint8_t *tg_snp_cert_table(const tg_snp_pki *p, size_t *len);

/* tg_write_der writes |x| as DER to |path|. Returns 0 on failure. */
int tg_write_der(X509 *x, const char *path);

#endif
