/* azure_paravisor_mock.c: a MOCK of Azure's paravisor for the swtpm end-to-end test (not
 * Microsoft's code or data). Given the vTPM AK's public key (PEM), it writes what the paravisor
 * would have made at boot: an HCL-format report (hcl.bin, report_size bytes, for NV
 * 0x01400001) over a generated SNP report whose REPORT_DATA is the hash of runtime data naming
 * that AK, signed by a generated VCEK; and the generated chain: vcek.pem (VCEK), ask.pem,
 * ark.pem, ark-crl.pem.
 * usage: azure-paravisor-mock AK.pem OUTDIR */
#include "azure_testgen.h"
#include "snp_testgen.h"
#include "testcrl.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int write_pem(const char *dir, const char *name, X509 *x, X509_CRL *crl)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    int ok = f != NULL && (x != NULL ? PEM_write_X509(f, x) : PEM_write_X509_CRL(f, crl)) == 1;
    return f != NULL && fclose(f) == 0 && ok;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: azure-paravisor-mock AK.pem OUTDIR\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    EVP_PKEY *ak = f != NULL ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) {
        fclose(f);
    }
    if (ak == NULL || EVP_PKEY_get_base_id(ak) != EVP_PKEY_RSA) {
        fprintf(stderr, "azure-paravisor-mock: %s is not an RSA public key\n", argv[1]);
        return 1;
    }
    tg_snp_fields fl;
    tg_snp_defaults(&fl);
    fl.vmpl = 0;
    tg_snp_pki pki;
    time_t now = time(NULL);
    char *json = az_tg_runtime_json(ak);
    uint8_t rep[1184], hcl[AZ_TG_NV_SIZE];
    size_t size = 0;
    int ok = json != NULL && tg_snp_pki_new(&pki, fl.tcb, 0, fl.chip_id, 64, "SEV-VCEK",
                                            "Milan-B0", now - 86400, now + 86400 * 30);
    if (ok) {
        az_tg_report_data(json, fl.report_data);
        X509_CRL *crl = testcrl_new(pki.ark, pki.ark_key, 1, now - 3600, now + 86400, NULL);
        ok = tg_snp_report(&fl, pki.leaf_key, rep) &&
             (size = az_tg_hcl(2, rep, sizeof(rep), json, hcl)) > 0 && crl != NULL &&
             write_pem(argv[2], "vcek.pem", pki.leaf, NULL) &&
             write_pem(argv[2], "ask.pem", pki.ask, NULL) &&
             write_pem(argv[2], "ark.pem", pki.ark, NULL) &&
             write_pem(argv[2], "ark-crl.pem", NULL, crl);
        X509_CRL_free(crl);
        char path[4096];
        snprintf(path, sizeof(path), "%s/hcl.bin", argv[2]);
        FILE *o = ok ? fopen(path, "wb") : NULL;
        /* report_size bytes only: swtpm's NV indices hold at most 2048 (Azure's: 2600) */
        ok = o != NULL && fwrite(hcl, 1, size, o) == size;
        ok = o != NULL && fclose(o) == 0 && ok;
        tg_snp_pki_free(&pki);
    }
    free(json);
    EVP_PKEY_free(ak);
    if (!ok) {
        fprintf(stderr, "azure-paravisor-mock: could not write the mock's files to %s\n",
                argv[2]);
        return 1;
    }
    return 0;
}
