/* verify_inputs.c: trust inputs of `atls verify`, `connect` and `policy init` loaded from files (trust anchors or pinned
 * public keys, intermediates, CRLs) and the --at time (verify_inputs.h). */
#include "verify_inputs.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

void verify_inputs_init(verify_inputs *v)
{
    memset(v, 0, sizeof(*v));
}

void verify_inputs_cleanup(verify_inputs *v)
{
    sk_X509_pop_free(v->in.trust_anchors, X509_free);
    sk_X509_pop_free(v->in.intermediates, X509_free);
    sk_X509_CRL_pop_free(v->in.crls, X509_CRL_free);
    sk_X509_pop_free(v->in.tpm_ak_anchors, X509_free);
    for (size_t i = 0; i < v->in.num_trusted_keys; i++) {
        EVP_PKEY_free(v->keys[i]);
    }
    memset(v, 0, sizeof(*v));
}

int verify_inputs_add_anchor(verify_inputs *v, const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        ERR_clear_error();
        cli_error("cannot read --trust-anchor %s", path);
        return CLI_EXIT_USAGE;
    }
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (v->in.trust_anchors == NULL) {
            v->in.trust_anchors = sk_X509_new_null();
        }
        if (v->in.trust_anchors == NULL || !sk_X509_push(v->in.trust_anchors, x)) {
            X509_free(x);
            BIO_free(bio);
            cli_error("out of memory");
            return CLI_EXIT_USAGE;
        }
        n++;
    }
    ERR_clear_error();
    if (n > 0) {
        BIO_free(bio);
        return 0;
    }
    /* no certificate: a pinned public key (sim key, CPAK, ...) */
    (void)BIO_reset(bio);
    while (v->in.num_trusted_keys < VERIFY_MAX_KEYS) {
        EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        if (k == NULL) {
            break;
        }
        v->keys[v->in.num_trusted_keys++] = k;
        n++;
    }
    ERR_clear_error();
    BIO_free(bio);
    v->in.trusted_keys = v->keys;
    if (n == 0) {
        cli_error("--trust-anchor %s holds no PEM certificate or public key", path);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int verify_inputs_add_intermediates(verify_inputs *v, const char *path)
{
    return cli_load_certs(path, &v->in.intermediates);
}

int verify_inputs_add_tpm_ak_ca(verify_inputs *v, const char *path)
{
    if (strcmp(path, "none") == 0) {
        if (v->in.tpm_ak_anchors == NULL && (v->in.tpm_ak_anchors = sk_X509_new_null()) == NULL) {
            cli_error("out of memory");
            return CLI_EXIT_USAGE;
        }
        return 0;
    }
    return cli_load_certs(path, &v->in.tpm_ak_anchors);
}

/* push_crl moves |crl| into v's CRL list; 0, or CLI_EXIT_USAGE (|crl| freed) */
static int push_crl(verify_inputs *v, X509_CRL *crl)
{
    if (v->in.crls == NULL) {
        v->in.crls = sk_X509_CRL_new_null();
    }
    if (v->in.crls == NULL || !sk_X509_CRL_push(v->in.crls, crl)) {
        X509_CRL_free(crl);
        cli_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int verify_inputs_add_crl(verify_inputs *v, const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        ERR_clear_error();
        cli_error("cannot read --crl %s", path);
        return CLI_EXIT_USAGE;
    }
    int n = 0, rc = 0;
    X509_CRL *crl;
    while (rc == 0 && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
        rc = push_crl(v, crl);
        n++;
    }
    ERR_clear_error();
    if (rc == 0 && n == 0) {
        /* one DER CRL, as Intel PCS and AMD KDS serve them */
        (void)BIO_reset(bio);
        crl = d2i_X509_CRL_bio(bio, NULL);
        ERR_clear_error();
        if (crl != NULL) {
            rc = push_crl(v, crl);
            n = 1;
        }
    }
    BIO_free(bio);
    if (rc == 0 && n == 0) {
        cli_error("--crl %s holds no PEM or DER CRL", path);
        return CLI_EXIT_USAGE;
    }
    return rc;
}

int verify_inputs_option(verify_inputs *v, int c, const char *value)
{
    switch (c) {
    case VERIFY_OPT_ANCHOR: return verify_inputs_add_anchor(v, value);
    case VERIFY_OPT_INTERMEDIATES: return verify_inputs_add_intermediates(v, value);
    case VERIFY_OPT_VCEK: v->in.vcek_path = value; return 0;
    case VERIFY_OPT_TCB_INFO: v->in.tcb_info_path = value; return 0;
    case VERIFY_OPT_QE_IDENTITY: v->in.qe_identity_path = value; return 0;
    case VERIFY_OPT_TCB_CHAIN: v->in.tcb_signing_chain_path = value; return 0;
    case VERIFY_OPT_CRL: return verify_inputs_add_crl(v, value);
    case VERIFY_OPT_TPM_AK_CA: return verify_inputs_add_tpm_ak_ca(v, value);
    default: return CLI_EXIT_USAGE;
    }
}

/* two_digits / parse helpers for RFC 3339 section 5.6 date-time */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int verify_parse_time(const char *s, time_t *out)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    size_t len = strlen(s);
    int ok = len >= 20 && digits(s, 4, &y) == 0 && s[4] == '-' && digits(s + 5, 2, &mo) == 0 &&
             s[7] == '-' && digits(s + 8, 2, &d) == 0 && (s[10] == 'T' || s[10] == 't') &&
             digits(s + 11, 2, &h) == 0 && s[13] == ':' && digits(s + 14, 2, &mi) == 0 &&
             s[16] == ':' && digits(s + 17, 2, &sec) == 0;
    const char *p = s + 19;
    if (ok && *p == '.') {
        p++;
        const char *start = p;
        while (*p >= '0' && *p <= '9') {
            p++;
        }
        ok = p > start;
    }
    int sign = 0;
    if (ok && (*p == 'Z' || *p == 'z') && p[1] == '\0') {
        sign = 0;
    } else if (ok && (*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) == 0 &&
               p[3] == ':' && digits(p + 4, 2, &om) == 0 && oh < 24 && om < 60) {
        sign = *p == '+' ? 1 : -1;
    } else {
        ok = 0;
    }
    if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        cli_error("--at '%s': expected an RFC 3339 time such as 2026-01-31T12:00:00Z", s);
        return CLI_EXIT_USAGE;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec > 59 ? 59 : sec;
    time_t t = timegm(&tm);
    *out = t - (time_t)sign * (oh * 3600 + om * 60);
    return 0;
}
