/* tsm_kernel_standin.c: a STAND-IN for the kernel's configfs-tsm, for the CLI tests only (never
 * installed). This machine is no SNP/TDX/CCA guest, so a prepared directory stands in for
 * /sys/kernel/config/tsm/report and this process plays the kernel's part for whatever uses it
 * (`atls serve|connect|evidence --attester tsm --tsm-path ROOT`): it watches ROOT (inotify), and
 * for each entry made there creates the attributes configfs would have (provider, generation,
 * privlevel, then inblob, last), and when inblob has been written, writes auxblob (SNP
 * certificate table) and outblob: Evidence from the project's test generators over exactly the
 * 64 bytes of inblob, so it is bound to whatever connection asked. Nothing here is AMD's,
 * Intel's or Arm's: the PKIs are made at start.
 *
 * usage: tsm-kernel-standin snp|tdx|cca ROOT OUTDIR [--no-auxblob]
 *
 * OUTDIR gets what a relying party and the server's operator would have:
 *   anchor.pem    the root to trust: SNP the ARK, TDX the SGX root, CCA the CPAK (public key)
 *   collateral/   fresh collateral in the layout of `atls collateral fetch` (SNP, TDX)
 *   stale/        the same with one item past its nextUpdate (SNP the ARK CRL, TDX the TCB Info)
 *   ccel-log.bin, ccel-table.bin   TDX: the TD's CC event log (a 64 KiB log area, 0xFF-filled,
 *                 evlog_testgen.c) and its ACPI CCEL table; every quote's RTMR0..3 are that log's
 *                 replay, so `--tsm-ccel-log` / `--tsm-ccel-table` give a log the verifier
 *                 replays to them
 *   ready         written last, once ROOT is watched
 * It runs until SIGTERM/SIGINT. */
#include "cca_testgen.h"
#include "evlog_testgen.h"
#include "testcrl.h"
#include "tsm_testgen.h"

#include "base/file.h"

#include <errno.h>
#include <limits.h>
#include <openssl/pem.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum kind { K_SNP = TSM_TG_SNP, K_TDX = TSM_TG_TDX, K_CCA = TSM_TG_CCA };

typedef struct standin {
    enum kind kind;
    int auxblob;
    tg_snp_pki snp;
    tg_tdx_pki tdx;
    EVP_PKEY *cpak, *rak;
    uint8_t rtmr[4][48]; /* TDX: the replay of the CC event log written to OUTDIR */
} standin;

#define MAX_ENTRIES 64
static struct {
    int wd;
    char dir[PATH_MAX];
} entries[MAX_ENTRIES];

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* put writes |dir|/|name| through a dot-file and rename(2): a reader never sees it partial */
static int put(const char *dir, const char *name, const void *data, size_t len)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        return 0;
    }
    int ok = len == 0 || fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0;
}

static int put_pem(const char *path, X509 *x, X509_CRL *crl, EVP_PKEY *pub)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && (x != NULL     ? PEM_write_X509(f, x)
                           : crl != NULL ? PEM_write_X509_CRL(f, crl)
                                         : PEM_write_PUBKEY(f, pub)) == 1;
    return f != NULL && fclose(f) == 0 && ok;
}

static int put_der_crl(const char *dir, const char *name, X509_CRL *crl)
{
    unsigned char *der = NULL;
    int n = i2d_X509_CRL(crl, &der);
    int ok = n > 0 && put(dir, name, der, (size_t)n);
    OPENSSL_free(der);
    return ok;
}

/* snp_collateral: VCEK, ASK+ARK, and the ARK's CRL valid [this_update, next_update) */
static int snp_collateral(standin *s, const char *dir, time_t this_update, time_t next_update)
{
    char path[PATH_MAX];
    unsigned char *der = NULL;
    int n = i2d_X509(s->snp.leaf, &der);
    int ok = n > 0 && put(dir, "snp-vcek.der", der, (size_t)n);
    OPENSSL_free(der);
    X509 *const chain[] = {s->snp.ask, s->snp.ark};
    snprintf(path, sizeof(path), "%s/snp-cert-chain.pem", dir);
    ok = ok && tg_tdx_write_certs(path, chain, 2);
    X509_CRL *crl = testcrl_new(s->snp.ark, s->snp.ark_key, 1, this_update, next_update, NULL);
    ok = ok && crl != NULL && put_der_crl(dir, "snp-crl.der", crl);
    X509_CRL_free(crl);
    return ok;
}

/* tdx_collateral: TCB Info (its window given), QE Identity, signing chain, both CRLs */
static int tdx_collateral(standin *s, const char *dir, time_t now, time_t ti_issue,
                          time_t ti_next)
{
    char ti[PATH_MAX], qe[PATH_MAX], chain[PATH_MAX], lv[1024];
    snprintf(ti, sizeof(ti), "%s/tdx-tcb-info.json", dir);
    snprintf(qe, sizeof(qe), "%s/tdx-qe-identity.json", dir);
    snprintf(chain, sizeof(chain), "%s/tdx-tcb-signing-chain.pem", dir);
    tg_tdx_level(lv, sizeof(lv), 3, 0, 5, "UpToDate");
    int ok = tg_tdx_write_tcb_info(s->tdx.tcb_key, ti, ti_issue, ti_next, lv, NULL) &&
             tg_tdx_write_qe_identity(s->tdx.tcb_key, qe, now - 3600, now + 86400 * 7,
                                      "UpToDate") &&
             tg_tdx_write_chain(&s->tdx, chain);
    STACK_OF(X509_CRL) *crls = tg_tdx_crls(&s->tdx, now - 3600, now + 86400 * 7, 0);
    ok = ok && crls != NULL && put_der_crl(dir, "tdx-root-ca-crl.der", sk_X509_CRL_value(crls, 0)) &&
         put_der_crl(dir, "tdx-pck-crl.der", sk_X509_CRL_value(crls, 1));
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    return ok;
}

/* tdx_ccel: the TD's CC event log as Linux shows it (a 64 KiB log area) and its ACPI table */
#define CCEL_AREA 65536u
static int tdx_ccel(standin *s, const char *out)
{
    atls_writer w;
    atls_writer_init(&w, CCEL_AREA);
    uint8_t *log = NULL, table[56];
    size_t len = 0;
    int ok = evgen_ccel_td(&w, 0, 0, s->rtmr) > 0 && atls_writer_len(&w) < CCEL_AREA;
    for (size_t n = atls_writer_len(&w); ok && n < CCEL_AREA; n++) {
        ok = atls_writer_add_u8(&w, 0xff);
    }
    ok = ok && atls_writer_finish(&w, &log, &len) == ATLS_OK;
    atls_writer_cleanup(&w);
    evgen_ccel_table(table, 2, CCEL_AREA);
    ok = ok && put(out, "ccel-log.bin", log, len) && put(out, "ccel-table.bin", table, 56);
    free(log);
    return ok;
}

static int write_outdir(standin *s, const char *out)
{
    char path[PATH_MAX], fresh[PATH_MAX], stale[PATH_MAX];
    time_t now = time(NULL);
    snprintf(fresh, sizeof(fresh), "%s/collateral", out);
    snprintf(stale, sizeof(stale), "%s/stale", out);
    snprintf(path, sizeof(path), "%s/anchor.pem", out);
    if ((mkdir(fresh, 0755) != 0 && errno != EEXIST) ||
        (mkdir(stale, 0755) != 0 && errno != EEXIST)) {
        return 0;
    }
    switch (s->kind) {
    case K_SNP:
        return put_pem(path, s->snp.ark, NULL, NULL) &&
               snp_collateral(s, fresh, now - 3600, now + 86400 * 7) &&
               snp_collateral(s, stale, now - 86400 * 8, now - 3600);
    case K_TDX:
        return put_pem(path, s->tdx.root, NULL, NULL) && tdx_ccel(s, out) &&
               tdx_collateral(s, fresh, now, now - 3600, now + 86400 * 7) &&
               tdx_collateral(s, stale, now, now - 86400 * 30, now - 60);
    default:
        return put_pem(path, NULL, NULL, s->cpak);
    }
}

/* evidence: what the "kernel" returns for report data |rd| (malloc'd) */
static uint8_t *evidence(standin *s, const uint8_t rd[64], int vmpl, size_t *len)
{
    tsm_tg g = {.kind = (tsm_tg_kind)s->kind, .snp = &s->snp, .tdx = &s->tdx, .cpak = s->cpak,
                .rak = s->rak, .rtmr = s->kind == K_TDX ? (const uint8_t(*)[48])s->rtmr : NULL};
    return tsm_tg_outblob(&g, rd, vmpl, len);
}

/* new_entry: the attributes configfs makes with the entry (inblob last: users wait for it) */
static void new_entry(int fd, standin *s, const char *root, const char *name)
{
    size_t i = 0;
    while (i < MAX_ENTRIES && entries[i].dir[0] != '\0') {
        i++;
    }
    if (i == MAX_ENTRIES) {
        fprintf(stderr, "tsm-kernel-standin: more than %d entries at once\n", MAX_ENTRIES);
        return;
    }
    snprintf(entries[i].dir, sizeof(entries[i].dir), "%s/%s", root, name);
    entries[i].wd = inotify_add_watch(fd, entries[i].dir, IN_CLOSE_WRITE);
    const char *prov = tsm_tg_provider((tsm_tg_kind)s->kind);
    if (entries[i].wd < 0 || !put(entries[i].dir, "provider", prov, strlen(prov)) ||
        !put(entries[i].dir, "generation", "1\n", 2) || !put(entries[i].dir, "privlevel", "", 0) ||
        !put(entries[i].dir, "inblob", "", 0)) {
        fprintf(stderr, "tsm-kernel-standin: cannot set up %s: %s\n", entries[i].dir,
                strerror(errno));
    }
}

/* report: inblob was written: auxblob (SNP) and outblob over its 64 bytes */
static void report(standin *s, const char *dir)
{
    char path[PATH_MAX];
    uint8_t *in = NULL, *pl = NULL;
    size_t inlen = 0, pllen = 0;
    snprintf(path, sizeof(path), "%s/inblob", dir);
    if (atls_file_read(path, 4096, &in, &inlen) != ATLS_OK || inlen != 64) {
        fprintf(stderr, "tsm-kernel-standin: %s does not hold 64 bytes\n", path);
        free(in);
        return;
    }
    int vmpl = -1;
    snprintf(path, sizeof(path), "%s/privlevel", dir);
    if (atls_file_read(path, 16, &pl, &pllen) == ATLS_OK && pllen > 0) {
        vmpl = atoi((const char *)pl);
    }
    free(pl);
    size_t len = 0;
    uint8_t *blob = evidence(s, in, vmpl, &len);
    free(in);
    int ok = blob != NULL;
    if (ok && s->kind == K_SNP && s->auxblob) {
        size_t tlen = 0;
        uint8_t *t = tg_snp_cert_table(&s->snp, &tlen);
        ok = t != NULL && put(dir, "auxblob", t, tlen);
        free(t);
    }
    ok = ok && put(dir, "outblob", blob, len);
    free(blob);
    if (!ok) {
        fprintf(stderr, "tsm-kernel-standin: cannot write the report into %s\n", dir);
    }
}

static void on_events(int fd, standin *s, int root_wd, const char *root)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n = read(fd, buf, sizeof(buf));
    for (char *p = buf; n > 0 && p < buf + n;) {
        const struct inotify_event *e = (const struct inotify_event *)p;
        p += sizeof(*e) + e->len;
        if (e->wd == root_wd && (e->mask & IN_CREATE) && (e->mask & IN_ISDIR) && e->len > 0) {
            new_entry(fd, s, root, e->name);
            continue;
        }
        for (size_t i = 0; i < MAX_ENTRIES; i++) {
            if (entries[i].dir[0] == '\0' || entries[i].wd != e->wd) {
                continue;
            }
            if (e->mask & IN_IGNORED) { /* the entry was removed */
                entries[i].dir[0] = '\0';
            } else if ((e->mask & IN_CLOSE_WRITE) && e->len > 0 &&
                       strcmp(e->name, "inblob") == 0) {
                report(s, entries[i].dir);
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "--no-auxblob") != 0)) {
        fprintf(stderr, "usage: tsm-kernel-standin snp|tdx|cca ROOT OUTDIR [--no-auxblob]\n");
        return 2;
    }
    standin s;
    memset(&s, 0, sizeof(s));
    s.auxblob = argc != 5;
    s.kind = strcmp(argv[1], "snp") == 0 ? K_SNP : strcmp(argv[1], "tdx") == 0 ? K_TDX : K_CCA;
    if (s.kind == K_CCA && strcmp(argv[1], "cca") != 0) {
        fprintf(stderr, "tsm-kernel-standin: provider '%s': expected snp, tdx or cca\n", argv[1]);
        return 2;
    }
    const char *root = argv[2];
    time_t now = time(NULL);
    tg_snp_fields f;
    tg_snp_defaults(&f);
    static const uint8_t fmspc[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
    static const uint8_t comp[16] = {5, 5, 2, 2, 3, 1, 0, 3};
    int ok = s.kind != K_SNP || tg_snp_pki_new(&s.snp, f.tcb, 0, f.chip_id, 64, "SEV-VCEK",
                                                "Milan-B0", now - 86400, now + 86400 * 30);
    ok = ok && (s.kind != K_TDX || tg_tdx_pki_new(&s.tdx, fmspc, comp, 11));
    if (ok && s.kind == K_CCA) {
        s.cpak = tg_cca_key_new("P-384");
        s.rak = tg_cca_key_new("P-384");
        ok = s.cpak != NULL && s.rak != NULL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int fd = ok ? inotify_init1(IN_CLOEXEC | IN_NONBLOCK) : -1;
    int root_wd = fd >= 0 ? inotify_add_watch(fd, root, IN_CREATE | IN_ONLYDIR) : -1;
    ok = ok && root_wd >= 0 && write_outdir(&s, argv[3]) && put(argv[3], "ready", "1\n", 2);
    if (!ok) {
        fprintf(stderr, "tsm-kernel-standin: cannot start on %s / %s: %s\n", root, argv[3],
                strerror(errno));
    }
    while (ok && !stop) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 200) > 0) {
            on_events(fd, &s, root_wd, root);
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    if (s.kind == K_SNP) {
        tg_snp_pki_free(&s.snp);
    } else if (s.kind == K_TDX) {
        tg_tdx_pki_free(&s.tdx);
    }
    EVP_PKEY_free(s.cpak);
    EVP_PKEY_free(s.rak);
    return ok ? 0 : 1;
}
