/* collateral_fetch.c: AMD KDS and Intel PCS downloads into a collateral directory, each item
 * kept while it is valid long enough and fetched otherwise (collateral_fetch.h). */
#include "collateral_fetch.h"

#include "collateral_dir.h"

#include "base/file.h"
#include "base/hex.h"

#include <curl/curl.h>

#include <limits.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void fetch_cli_init(fetch_cli *f)
{
    memset(f, 0, sizeof(*f));
    f->o.refresh_before = 86400;
    f->o.timeout_ms = 30000;
}

int fetch_cli_option(fetch_cli *f, int c, const char *value)
{
    switch (c) {
    case COLLATERAL_OPT_KDS: f->o.kds_url = value; return 0;
    case COLLATERAL_OPT_PCS: f->o.pcs_url = value; return 0;
    case COLLATERAL_OPT_ROOT_CRL: f->o.intel_root_crl_url = value; return 0;
    case COLLATERAL_OPT_SNP_PRODUCT: f->snp_product = value; return 0;
    case COLLATERAL_OPT_REFRESH_BEFORE: {
        char *end = NULL;
        long v = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || v < 0 || v > 86400L * 365) {
            cli_error("--refresh-before '%s': expected 0..31536000 seconds", value);
            return CLI_EXIT_USAGE;
        }
        f->o.refresh_before = v;
        return 0;
    }
    default: return CLI_EXIT_USAGE;
    }
}

/* ---- one bounded HTTP GET ------------------------------------------------------------------ */

typedef struct download {
    uint8_t *data;
    size_t len;
    int too_large;
    char *chain;      /* the value of |chain_header|, when asked for and sent */
    const char *chain_header;
} download;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    download *d = arg;
    size_t add = size * n;
    if (d->len + add > COLLATERAL_FILE_MAX) {
        d->too_large = 1;
        return 0; /* libcurl aborts the transfer */
    }
    uint8_t *grown = realloc(d->data, d->len + add + 1);
    if (grown == NULL) {
        return 0;
    }
    memcpy(grown + d->len, p, add);
    d->data = grown;
    d->len += add;
    d->data[d->len] = '\0';
    return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    download *d = arg;
    size_t len = size * n, name = d->chain_header != NULL ? strlen(d->chain_header) : 0;
    if (name > 0 && len > name + 1 && strncasecmp(p, d->chain_header, name) == 0 &&
        p[name] == ':' && d->chain == NULL) {
        const char *v = p + name + 1;
        size_t vlen = len - name - 1;
        while (vlen > 0 && (*v == ' ' || *v == '\t')) {
            v++, vlen--;
        }
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) {
            vlen--;
        }
        /* the PCS sends the PEM chain URL-encoded */
        int out_len = 0;
        char *dec = vlen < 65536 ? curl_easy_unescape(NULL, v, (int)vlen, &out_len) : NULL;
        if (dec != NULL) {
            d->chain = strndup(dec, (size_t)out_len);
            curl_free(dec);
        }
    }
    return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* get downloads |url| into |d| (caller frees d->data and d->chain). 0 or CLI_EXIT_USAGE with
 * one line naming the URL and what went wrong. */
static int get(const char *url, int timeout_ms, download *d)
{
    pthread_once(&curl_once, curl_init);
    CURL *c = curl_easy_init();
    if (c == NULL) {
        cli_error("cannot start an HTTP client");
        return CLI_EXIT_USAGE;
    }
    char err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "atls-collateral-fetch");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (d->too_large) {
        cli_error("%s: the answer is larger than %u bytes", url, COLLATERAL_FILE_MAX);
        return CLI_EXIT_USAGE;
    }
    if (rc != CURLE_OK) {
        cli_error("%s: %s", url, err[0] != '\0' ? err : curl_easy_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    if (status != 200) {
        cli_error("%s: HTTP status %ld%s", url, status,
                  status == 429 ? " (rate limited: try again later)" : "");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* ---- the items ------------------------------------------------------------------------------ */

typedef struct item_url {
    const char *file;
    char url[1024];
    const char *chain_header; /* TDX TCB Info: the signing chain rides in this header */
} item_url;

static void iso(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* report: one line per item, "<verb> <file> (valid until <time>)": stdout, or the log (serve) */
static void report(const fetch_opts *o, const char *verb, const char *file, time_t until)
{
    char s[32];
    iso(until, s);
    if (o->quiet) {
        cli_log("collateral: %s %s (valid until %s)", verb, file, s);
    } else {
        printf("%s %s (valid until %s)\n", verb, file, s);
    }
}

/* fresh: the file of |item| in |dir| parses and is valid from |at| for |margin| more seconds */
static int fresh(const fetch_opts *o, const collateral_item *item, time_t at, time_t *until)
{
    char path[PATH_MAX];
    uint8_t *d = NULL;
    size_t len = 0;
    time_t nb = 0;
    snprintf(path, sizeof(path), "%s/%s", o->dir, item->file);
    if (access(path, F_OK) != 0 || atls_file_read(path, COLLATERAL_FILE_MAX, &d, &len) != ATLS_OK) {
        atls_error_clear();
        return 0;
    }
    int ok = collateral_window(item, d, len, &nb, until) && at >= nb &&
             at + o->refresh_before < *until;
    free(d);
    return ok;
}

/* store: a downloaded item, checked and written atomically; 0 or an exit code */
static int store(const fetch_opts *o, const collateral_item *item, const char *url,
                 const uint8_t *data, size_t len, time_t at)
{
    char path[PATH_MAX], until[32];
    time_t nb = 0, na = 0;
    uint8_t *der = NULL;
    if (strcmp(item->media_type, ATLS_MEDIA_PKIX_CRL) == 0 && len > 0 && data[0] == '-') {
        /* some servers answer PEM whatever was asked: keep the DER */
        BIO *bio = BIO_new_mem_buf(data, (int)len);
        X509_CRL *crl = bio != NULL ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
        int n = crl != NULL ? i2d_X509_CRL(crl, &der) : -1;
        X509_CRL_free(crl);
        BIO_free(bio);
        if (n > 0) {
            data = der;
            len = (size_t)n;
        }
    }
    int rc = 0;
    if (!collateral_window(item, data, len, &nb, &na)) {
        cli_error("%s: not a valid %s: not stored", url, item->label);
        rc = CLI_EXIT_FAIL;
    } else if (at >= na) {
        iso(na, until);
        cli_error("%s: the server's %s is already stale (valid until %s): not stored", url,
                  item->label, until);
        rc = CLI_EXIT_FAIL;
    } else {
        snprintf(path, sizeof(path), "%s/%s", o->dir, item->file);
        if (atls_file_write_atomic(path, data, len, 0) != ATLS_OK) {
            rc = cli_fail_atls(CLI_EXIT_USAGE, "collateral");
        } else {
            report(o, "fetched", item->file, na);
            if (at + o->refresh_before >= na) {
                cli_error("warning: %s from %s expires within --refresh-before", item->file, url);
            }
        }
    }
    OPENSSL_free(der);
    return rc;
}

/* urls: the items |p| needs and where each comes from */
static size_t urls(const fetch_opts *o, const fetch_params *p, item_url *out)
{
    const char *kds = o->kds_url != NULL ? o->kds_url : COLLATERAL_KDS_URL;
    const char *pcs = o->pcs_url != NULL ? o->pcs_url : COLLATERAL_PCS_URL;
    const char *root = o->intel_root_crl_url != NULL ? o->intel_root_crl_url
                                                     : COLLATERAL_INTEL_ROOT_CRL_URL;
    size_t n = 0;
    if (p->have_snp) {
        const char *kind = p->snp_vlek ? "vlek" : "vcek";
        if (!p->snp_vlek) {
            char hwid[2 * 64 + 1], fmc[24] = "";
            if (atls_hex_encode(hwid, sizeof(hwid), p->hwid, p->hwid_len) != ATLS_OK) {
                hwid[0] = '\0';
            }
            if (p->turin) {
                snprintf(fmc, sizeof(fmc), "fmcSPL=%u&", p->fmc);
            }
            out[n].file = "snp-vcek.der";
            snprintf(out[n++].url, sizeof(out[0].url),
                     "%s/vcek/v1/%s/%s?%sblSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u", kds,
                     p->snp_product, hwid, fmc, p->bl, p->tee, p->snp, p->ucode);
        }
        out[n].file = "snp-cert-chain.pem";
        snprintf(out[n++].url, sizeof(out[0].url), "%s/%s/v1/%s/cert_chain", kds, kind,
                 p->snp_product);
        out[n].file = "snp-crl.der";
        snprintf(out[n++].url, sizeof(out[0].url), "%s/%s/v1/%s/crl", kds, kind, p->snp_product);
    }
    if (p->have_tdx) {
        char fmspc[13];
        if (atls_hex_encode(fmspc, sizeof(fmspc), p->fmspc, sizeof(p->fmspc)) != ATLS_OK) {
            fmspc[0] = '\0';
        }
        out[n].file = "tdx-tcb-info.json";
        out[n].chain_header = "TCB-Info-Issuer-Chain";
        snprintf(out[n++].url, sizeof(out[0].url), "%s/tdx/certification/v4/tcb?fmspc=%s", pcs,
                 fmspc);
        out[n].file = "tdx-qe-identity.json";
        snprintf(out[n++].url, sizeof(out[0].url), "%s/tdx/certification/v4/qe/identity", pcs);
        out[n].file = "tdx-pck-crl.der";
        snprintf(out[n++].url, sizeof(out[0].url),
                 "%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", pcs, p->pck_ca);
        out[n].file = "tdx-root-ca-crl.der";
        snprintf(out[n++].url, sizeof(out[0].url), "%s", root);
    }
    return n;
}

int collateral_fetch(const fetch_opts *o, const fetch_params *p, int *fetched, int *kept)
{
    item_url u[8];
    memset(u, 0, sizeof(u));
    size_t n = urls(o, p, u);
    time_t at = o->at != 0 ? o->at : time(NULL);
    int rc = 0, nf = 0, nk = 0;
    for (size_t i = 0; i < n; i++) {
        const collateral_item *item = collateral_item_by_file(u[i].file);
        const collateral_item *chain = u[i].chain_header != NULL
                                           ? collateral_item_by_file("tdx-tcb-signing-chain.pem")
                                           : NULL;
        time_t until = 0, chain_until = 0;
        if (!o->force && fresh(o, item, at, &until) &&
            (chain == NULL || fresh(o, chain, at, &chain_until))) {
            report(o, "kept", item->file, until);
            nk++;
            continue;
        }
        download d = {.chain_header = u[i].chain_header};
        int r = get(u[i].url, o->timeout_ms, &d);
        if (r == 0 && chain != NULL && d.chain == NULL) {
            cli_error("%s: no %s header: the TCB signing chain is missing", u[i].url,
                      u[i].chain_header);
            r = CLI_EXIT_FAIL;
        }
        /* the signing chain first: a TCB Info is never stored without the chain that signed it */
        if (r == 0 && chain != NULL) {
            r = store(o, chain, u[i].url, (const uint8_t *)d.chain, strlen(d.chain), at);
        }
        if (r == 0) {
            r = store(o, item, u[i].url, d.data, d.len, at);
        }
        nf += r == 0;
        /* every item is tried; an I/O error (2) outranks a bad answer (1) */
        if (r != 0 && (rc == 0 || r == CLI_EXIT_USAGE)) {
            rc = r;
        }
        free(d.data);
        free(d.chain);
    }
    if (fetched != NULL) {
        *fetched = nf;
    }
    if (kept != NULL) {
        *kept = nk;
    }
    return rc;
}
