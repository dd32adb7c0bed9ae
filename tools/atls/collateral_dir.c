/* collateral_dir.c: a collateral directory's items, their windows, and stapling them
 * (collateral_dir.h). */
#include "collateral_dir.h"

#include "base/file.h"
#include "base/result.h"
#include "evidence/tdx/tdx.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const collateral_item collateral_items[] = {
    {"snp-vcek.der", "snp-vcek", ATLS_MEDIA_PKIX_CERT},
    {"snp-vlek.der", "snp-vlek", ATLS_MEDIA_PKIX_CERT},
    {"snp-cert-chain.pem", "snp-cert-chain", ATLS_MEDIA_PEM_CHAIN},
    {"snp-crl.der", "snp-crl", ATLS_MEDIA_PKIX_CRL},
    {"tdx-tcb-info.json", "tdx-tcb-info", ATLS_MEDIA_TDX_TCB_INFO},
    {"tdx-qe-identity.json", "tdx-qe-identity", ATLS_MEDIA_TDX_QE_IDENTITY},
    {"tdx-tcb-signing-chain.pem", "tdx-tcb-signing-chain", ATLS_MEDIA_PEM_CHAIN},
    {"tdx-pck-crl.der", "tdx-pck-crl", ATLS_MEDIA_PKIX_CRL},
    {"tdx-root-ca-crl.der", "tdx-root-ca-crl", ATLS_MEDIA_PKIX_CRL},
};
const size_t collateral_num_items = sizeof(collateral_items) / sizeof(collateral_items[0]);

const collateral_item *collateral_item_by_file(const char *file)
{
    for (size_t i = 0; i < collateral_num_items; i++) {
        if (strcmp(collateral_items[i].file, file) == 0) {
            return &collateral_items[i];
        }
    }
    return NULL;
}

static int asn1_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    *out = timegm(&tm);
    return 1;
}

/* cert_window: the window of one certificate, narrowed into [*nb, *na) */
static int cert_window(X509 *x, time_t *nb, time_t *na)
{
    time_t b, a;
    if (!asn1_time(X509_get0_notBefore(x), &b) || !asn1_time(X509_get0_notAfter(x), &a)) {
        return 0;
    }
    *nb = b > *nb ? b : *nb;
    *na = a < *na ? a : *na;
    return 1;
}

int collateral_window(const collateral_item *item, const uint8_t *data, size_t len,
                      time_t *not_before, time_t *not_after)
{
    int ok = 0;
    *not_before = 0;
    *not_after = (time_t)INT64_MAX;
    const unsigned char *p = data;
    if (len > LONG_MAX) {
        return 0;
    }
    if (strcmp(item->media_type, ATLS_MEDIA_PKIX_CERT) == 0) {
        X509 *x = d2i_X509(NULL, &p, (long)len);
        ok = x != NULL && p == data + len && cert_window(x, not_before, not_after);
        X509_free(x);
    } else if (strcmp(item->media_type, ATLS_MEDIA_PEM_CHAIN) == 0) {
        BIO *bio = BIO_new_mem_buf(data, (int)(len < INT_MAX ? len : 0));
        X509 *x;
        int n = 0;
        ok = bio != NULL;
        while (ok && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            ok = cert_window(x, not_before, not_after);
            X509_free(x);
            n++;
        }
        ok = ok && n > 0;
        BIO_free(bio);
    } else if (strcmp(item->media_type, ATLS_MEDIA_PKIX_CRL) == 0) {
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
        ok = crl != NULL && p == data + len &&
             asn1_time(X509_CRL_get0_lastUpdate(crl), not_before) &&
             asn1_time(X509_CRL_get0_nextUpdate(crl), not_after);
        X509_CRL_free(crl);
    } else {
        const char *member = strcmp(item->media_type, ATLS_MEDIA_TDX_TCB_INFO) == 0
                                 ? "tcbInfo"
                                 : "enclaveIdentity";
        ok = atls_tdx_collateral_window(data, len, member, not_before, not_after) == ATLS_OK;
        atls_error_clear();
    }
    ERR_clear_error();
    return ok;
}

int collateral_check_dir(const char *dir, time_t at, int may_be_empty)
{
    struct stat st;
    if (may_be_empty && stat(dir, &st) != 0) {
        (void)mkdir(dir, 0755);
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("--collateral-dir %s: not a directory (make it with atls collateral fetch)",
                  dir);
        return CLI_EXIT_USAGE;
    }
    if (at == 0) {
        at = time(NULL);
    }
    int found = 0;
    for (size_t i = 0; i < collateral_num_items; i++) {
        char path[PATH_MAX];
        uint8_t *d = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, collateral_items[i].file);
        if (access(path, F_OK) != 0) {
            continue;
        }
        if (atls_file_read(path, COLLATERAL_FILE_MAX, &d, &len) != ATLS_OK) {
            return cli_fail_atls(CLI_EXIT_USAGE, "--collateral-dir");
        }
        time_t nb = 0, na = 0;
        if (!collateral_window(&collateral_items[i], d, len, &nb, &na)) {
            cli_error("--collateral-dir: %s is not a valid %s", path, collateral_items[i].label);
            free(d);
            return CLI_EXIT_USAGE;
        }
        free(d);
        if (at < nb || at >= na) {
            cli_error("warning: --collateral-dir: %s is %s: clients will refuse it (run atls "
                      "collateral fetch, or serve --collateral-refresh)",
                      path, at >= na ? "stale" : "not valid yet");
        }
        found++;
    }
    if (found == 0 && !may_be_empty) {
        cli_error("--collateral-dir %s holds no collateral (snp-*.der/pem, tdx-*.json/der/pem; "
                  "see atls collateral fetch)",
                  dir);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

atls_error collateral_add_parts(const char *dir, atls_evidence_parts *parts)
{
    for (size_t i = 0; i < collateral_num_items; i++) {
        char path[PATH_MAX];
        uint8_t *d = NULL;
        size_t len = 0;
        ATLS_ENSURE(snprintf(path, sizeof(path), "%s/%s", dir, collateral_items[i].file) <
                        (int)sizeof(path),
                    ATLS_ERR_USAGE_CONFIG, "--collateral-dir: path too long");
        if (access(path, F_OK) != 0) {
            continue; /* not every item exists for every platform */
        }
        ATLS_GUARD(atls_file_read(path, COLLATERAL_FILE_MAX, &d, &len));
        ATLS_GUARD(atls_evidence_parts_add_owned(parts, collateral_items[i].label,
                                                 collateral_items[i].media_type, d, len,
                                                 ATLS_IND_ENDORSEMENTS));
    }
    return ATLS_OK;
}
