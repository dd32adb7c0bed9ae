/* test_tpm2_swtpm: the ESAPI attester against a private swtpm, the verifier on its output, and
 * cross-checks with tpm2-tools in both directions (atls quote -> tpm2_checkquote, tpm2_quote ->
 * atls verifier), plus a persistent AK made by tpm2_createak. */
#include "evidence/tpm2/tpm2.h"

#include "base/file.h"
#include "base/hex.h"
#include "check.h"
#include "swtpm.h"
#include "tpm2_fake.h"

#include <openssl/pem.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <sys/wait.h>

static test_swtpm tpm;

/* run: a shell command in the swtpm's directory (tpm2-tools read TPM2TOOLS_TCTI); returns its
 * exit status and shows its output only on failure. */
__attribute__((format(printf, 1, 2))) static int run(const char *fmt, ...)
{
    char cmd[2048], full[2600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd '%s' && { %s ; } >cmd.log 2>&1", tpm.dir, cmd);
    int st = system(full);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (rc != 0) {
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
        snprintf(full, sizeof(full), "cat '%s/cmd.log' >&2", tpm.dir);
        if (system(full) != 0) {
            fprintf(stderr, "(no log)\n");
        }
    }
    return rc;
}

static void write_file(const char *name, const uint8_t *d, size_t n)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", tpm.dir, name);
    CHECK_OK(atls_file_write_atomic(path, d, n, 0));
}

static int read_file(const char *name, atls_buf *out)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", tpm.dir, name);
    uint8_t *d = NULL;
    size_t n = 0;
    if (atls_file_read(path, 1 << 20, &d, &n) != ATLS_OK) {
        return -1;
    }
    atls_buf_cleanup(out);
    out->data = d;
    out->len = n;
    return 0;
}

static const atls_tpm2_pcr_value *pcr(const atls_tpm2_quote *q, unsigned index)
{
    for (size_t i = 0; i < q->num_pcrs; i++) {
        if (q->pcrs[i].alg == ATLS_TPM2_ALG_SHA256 && q->pcrs[i].index == index) {
            return &q->pcrs[i];
        }
    }
    return NULL;
}

static void challenge(uint8_t ch[64], uint8_t seed)
{
    for (int i = 0; i < 64; i++) {
        ch[i] = (uint8_t)(seed + i * 7);
    }
}

static void test_produce_verify(atls_tpm2_attester *a)
{
    uint8_t ch[64], other[64];
    challenge(ch, 1);
    challenge(other, 2);
    atls_tpm2_quote q;
    CHECK_OK(atls_tpm2_attester_quote(a, ch, sizeof(ch), &q));
    CHECK(q.num_pcrs == 9 && q.ak_cert.len == 0);
    CHECK(q.sig.len == 72);
    atls_tpm2_verify_opts o = {.challenge = ch, .challenge_len = 64};
    atls_tpm2_verified v;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, &v));
    CHECK(v.challenge_checked == 1 && v.ak_hierarchy != NULL &&
          strcmp(v.ak_hierarchy, "endorsement") == 0);
    CHECK(v.attest.extra_data_len == 64);
    atls_tpm2_verified_cleanup(&v);

    o.challenge = other;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_NONCE);
    o.challenge = ch;
    o.challenge_len = 32; /* a prefix of the right challenge is still wrong */
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_NONCE);
    o.challenge_len = 64;

    /* supplied PCR values: changed, missing, extra */
    q.pcrs[0].digest[5] ^= 0x10;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.pcrs[0].digest[5] ^= 0x10;
    q.num_pcrs = 8;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.num_pcrs = 9;
    atls_tpm2_pcr_value *more = realloc(q.pcrs, 10 * sizeof(*more));
    q.pcrs = more;
    q.pcrs[9] = q.pcrs[0];
    q.pcrs[9].index = 10;
    q.num_pcrs = 10;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    q.num_pcrs = 9;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));

    /* expected qualifiedSigner: right and wrong */
    atls_tpm2_attest att;
    CHECK_OK(atls_tpm2_attest_parse(q.attest.data, q.attest.len, &att));
    o.qualified_signer = att.qualified_signer;
    o.qualified_signer_len = att.qualified_signer_len;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));
    att.qualified_signer[10] ^= 1;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE);
    o.qualified_signer = NULL;

    /* every bit flip in attest and sig, every truncation of the three structures */
    atls_buf *parts[] = {&q.attest, &q.sig};
    size_t ok_after_flip = 0;
    for (int p = 0; p < 2; p++) {
        for (size_t i = 0; i < parts[p]->len; i++) {
            for (int bit = 0; bit < 8; bit++) {
                parts[p]->data[i] ^= (uint8_t)(1u << bit);
                ok_after_flip += atls_tpm2_verify_quote(&q, &o, NULL) == ATLS_OK;
                parts[p]->data[i] ^= (uint8_t)(1u << bit);
            }
        }
    }
    CHECK(ok_after_flip == 0);
    atls_buf *all[] = {&q.attest, &q.sig, &q.ak_public};
    size_t not_decode = 0;
    for (int p = 0; p < 3; p++) {
        size_t full = all[p]->len;
        for (size_t n = 0; n < full; n++) {
            all[p]->len = n;
            not_decode += atls_tpm2_verify_quote(&q, &o, NULL) / 100 != 2;
        }
        all[p]->len = full;
    }
    CHECK(not_decode == 0);
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));

    /* wrong AK */
    EVP_PKEY *k = fake_key();
    CHECK(fake_public(k, 0x00050072, &q.ak_public) == 0);
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_SIGNATURE);
    EVP_PKEY_free(k);
    atls_tpm2_quote_cleanup(&q);

    /* challenge ceiling on the attester side */
    uint8_t big[65] = {0};
    CHECK_ERR(atls_tpm2_attester_quote(a, big, sizeof(big), &q), ATLS_ERR_USAGE);
}

static void test_extend(atls_tpm2_attester *a)
{
    uint8_t ch[64];
    challenge(ch, 3);
    atls_tpm2_quote q1, q2;
    CHECK_OK(atls_tpm2_attester_quote(a, ch, 64, &q1));
    uint8_t m[32];
    memset(m, 0x5a, sizeof(m));
    CHECK_OK(atls_tpm2_pcr_extend(tpm.tcti, 23, m));
    CHECK_OK(atls_tpm2_attester_quote(a, ch, 64, &q2));
    atls_tpm2_verify_opts o = {.challenge = ch, .challenge_len = 64};
    CHECK_OK(atls_tpm2_verify_quote(&q1, &o, NULL));
    CHECK_OK(atls_tpm2_verify_quote(&q2, &o, NULL));
    CHECK(pcr(&q1, 23) != NULL && pcr(&q2, 23) != NULL &&
          memcmp(pcr(&q1, 23)->digest, pcr(&q2, 23)->digest, 32) != 0);
    CHECK(memcmp(pcr(&q1, 0)->digest, pcr(&q2, 0)->digest, 32) == 0);
    /* PCR23 = SHA-256(old || m) */
    uint8_t in[64], want[32];
    memcpy(in, pcr(&q1, 23)->digest, 32);
    memcpy(in + 32, m, 32);
    SHA256(in, 64, want);
    CHECK(memcmp(pcr(&q2, 23)->digest, want, 32) == 0);
    /* the old PCR values do not fit the new quote */
    memcpy(q2.pcrs, q1.pcrs, q1.num_pcrs * sizeof(*q1.pcrs));
    CHECK_ERR(atls_tpm2_verify_quote(&q2, &o, NULL), ATLS_ERR_EVIDENCE);
    CHECK_ERR(atls_tpm2_pcr_extend(tpm.tcti, 24, m), ATLS_ERR_USAGE);
    atls_tpm2_quote_cleanup(&q1);
    atls_tpm2_quote_cleanup(&q2);
}

static void write_pem(const atls_buf *ak_public, const char *name)
{
    atls_tpm2_public pub;
    CHECK_OK(atls_tpm2_public_parse(ak_public->data, ak_public->len, &pub));
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", tpm.dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && PEM_write_PUBKEY(f, pub.key) == 1);
    if (f != NULL) {
        fclose(f);
    }
    atls_tpm2_public_cleanup(&pub);
}

/* atls quote -> tpm2_checkquote. tpm2-tools 5.4 cannot read more than 8 PCRs in its raw
 * "values" format, so the 9-PCR quote is checked with tpm2_pcrread's serialized file (and the
 * raw values are compared with atls's), and a 4-PCR quote with the values atls supplied. */
static void test_tools_check_atls(atls_tpm2_attester *a)
{
    uint8_t ch[64];
    challenge(ch, 4);
    char hex[129];
    CHECK_OK(atls_hex_encode(hex, sizeof(hex), ch, 64));
    atls_tpm2_quote q;
    CHECK_OK(atls_tpm2_attester_quote(a, ch, 64, &q));
    write_pem(&q.ak_public, "atls_ak.pem");
    write_file("atls_quote.msg", q.attest.data, q.attest.len);
    write_file("atls_quote.sig", q.sig.data, q.sig.len);
    uint8_t vals[9 * 32];
    for (size_t i = 0; i < q.num_pcrs && i < 9; i++) {
        memcpy(vals + 32 * i, q.pcrs[i].digest, 32);
    }
    write_file("atls_pcrs.bin", vals, sizeof(vals));
    CHECK(run("tpm2_pcrread sha256:0,1,2,3,4,5,6,7,23 -o tools_pcrs.bin && "
              "cmp tools_pcrs.bin atls_pcrs.bin && "
              "tpm2_pcrread sha256:0,1,2,3,4,5,6,7,23 -F serialized -o tools_pcrs.ser && "
              "tpm2_checkquote -u atls_ak.pem -m atls_quote.msg -s atls_quote.sig "
              "-f tools_pcrs.ser -g sha256 -q %s",
              hex) == 0);
    atls_tpm2_quote_cleanup(&q);

    atls_tpm2_pcr_selection sel;
    CHECK_OK(atls_tpm2_pcr_selection_parse("sha256:0,1,16,23", &sel));
    atls_tpm2_attester_config cfg = {.tcti = tpm.tcti, .pcrs = &sel};
    atls_tpm2_attester *small = NULL;
    CHECK_OK(atls_tpm2_attester_new(&cfg, &small));
    if (small == NULL) {
        return;
    }
    CHECK_OK(atls_tpm2_attester_quote(small, ch, 64, &q));
    CHECK(q.num_pcrs == 4);
    write_file("atls_quote4.msg", q.attest.data, q.attest.len);
    write_file("atls_quote4.sig", q.sig.data, q.sig.len);
    for (size_t i = 0; i < q.num_pcrs && i < 4; i++) {
        memcpy(vals + 32 * i, q.pcrs[i].digest, 32);
    }
    write_file("atls_pcrs4.bin", vals, 4 * 32);
    CHECK(run("tpm2_checkquote -u atls_ak.pem -m atls_quote4.msg -s atls_quote4.sig "
              "-f atls_pcrs4.bin -l sha256:0,1,16,23 -g sha256 -q %s",
              hex) == 0);
    vals[32 * 3] ^= 1; /* the tool rejects a changed PCR value ... */
    write_file("atls_pcrs4.bin", vals, 4 * 32);
    CHECK(run("! tpm2_checkquote -u atls_ak.pem -m atls_quote4.msg -s atls_quote4.sig "
              "-f atls_pcrs4.bin -l sha256:0,1,16,23 -g sha256 -q %s",
              hex) == 0);
    hex[0] = hex[0] == '0' ? '1' : '0'; /* ... and a wrong challenge */
    CHECK(run("! tpm2_checkquote -u atls_ak.pem -m atls_quote.msg -s atls_quote.sig "
              "-f tools_pcrs.ser -g sha256 -q %s",
              hex) == 0);
    atls_tpm2_quote_cleanup(&q);
    atls_tpm2_attester_free(small);
}

/* tpm2_quote over two banks (sha256 first, so selection order is not the map's order), its
 * PCR values from tpm2_pcrread, wrapped into the Evidence map by wrap_tpm2_quote.py (python3-
 * cbor2, written from docs/EVIDENCE.md alone) -> atls's verifier plug-in. Needs the persistent
 * AK of test_tools_quote_atls at 0x81010002. */
static void test_tools_quote_wrapped(const uint8_t ch[64], const atls_buf *ak_name)
{
    const char *src = getenv("ATLS_SOURCE_DIR");
    if (src == NULL || system("/usr/bin/python3 -c 'import cbor2' 2>/dev/null") != 0) {
        check_report(0, __FILE__, __LINE__, "python3-cbor2 (scripts/setup-deps installs it)",
                     "needed to wrap a tpm2-tools quote as independent tooling would");
        return;
    }
    const char *sel = "sha256:0,1,2,3,4,5,6,7,23+sha1:0,7";
    char hex[129];
    CHECK_OK(atls_hex_encode(hex, sizeof(hex), ch, 64));
    CHECK(run("tpm2_quote -c 0x81010002 -l %s -q %s -m w.msg -s w.sig -g sha256 && "
              "tpm2_pcrread %s -o w.pcrs && "
              "/usr/bin/python3 '%s/tests/evidence/tpm2/wrap_tpm2_quote.py' --ak ak.pub "
              "--attest w.msg --sig w.sig --pcrs %s --values w.pcrs -o w.cbor",
              sel, hex, sel, src, sel) == 0);
    atls_buf ev = {0};
    CHECK(read_file("w.cbor", &ev) == 0);
    const atls_verifier_ops *ops = &atls_tpm2_verifier_ops;
    atls_verify_input in = {.challenge = ch};
    atls_evidence_result res;
    CHECK_OK(ops->verify(ev.data, ev.len, &in, &res));
    if (res.claims != NULL) {
        json_t *pcrs = json_object_get(res.claims, "pcrs");
        CHECK(json_object_size(json_object_get(pcrs, "sha256")) == 9);
        CHECK(json_object_size(json_object_get(pcrs, "sha1")) == 2);
        CHECK(json_string_value(json_object_get(json_object_get(pcrs, "sha1"), "7")) != NULL);
        const char *an = json_string_value(json_object_get(res.claims, "ak_name"));
        char want[2 * ATLS_TPM2_MAX_NAME + 1];
        CHECK_OK(atls_hex_encode(want, sizeof(want), ak_name->data, ak_name->len));
        CHECK(an != NULL && strcasecmp(an, want) == 0);
    }
    atls_evidence_result_cleanup(&res);
    /* the bytes are exactly those atls's own encoder writes for the same quote */
    atls_tpm2_quote q;
    CHECK_OK(atls_tpm2_quote_decode(ev.data, ev.len, &q));
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    CHECK_OK(atls_tpm2_quote_encode(&q, &enc, &enc_len));
    CHECK(enc_len == ev.len && enc != NULL && memcmp(enc, ev.data, ev.len) == 0);
    free(enc);
    atls_tpm2_quote_cleanup(&q);
    /* and the verifier still checks what it is given: another challenge, a changed PCR value */
    uint8_t other[64];
    memcpy(other, ch, 64);
    other[0] ^= 1;
    in.challenge = other;
    CHECK_ERR(ops->verify(ev.data, ev.len, &in, &res), ATLS_ERR_EVIDENCE_NONCE);
    in.challenge = ch;
    CHECK(run("printf '\\001' | dd of=w.pcrs bs=1 seek=40 conv=notrunc 2>/dev/null && "
              "/usr/bin/python3 '%s/tests/evidence/tpm2/wrap_tpm2_quote.py' --ak ak.pub "
              "--attest w.msg --sig w.sig --pcrs %s --values w.pcrs -o w2.cbor",
              src, sel) == 0);
    atls_buf ev2 = {0};
    CHECK(read_file("w2.cbor", &ev2) == 0);
    CHECK_ERR(ops->verify(ev2.data, ev2.len, &in, &res), ATLS_ERR_EVIDENCE);
    atls_buf_cleanup(&ev2);
    atls_buf_cleanup(&ev);
}

/* tpm2_createek + tpm2_createak (AK under the EK, persisted) + tpm2_quote -> atls verifier;
 * then the atls attester on the persistent handle. */
static void test_tools_quote_atls(void)
{
    if (run("tpm2_createek -c ek.ctx -G rsa -u ek.pub && tpm2_flushcontext -t && "
            "tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa -u ak.pub -n ak.name && "
            "tpm2_flushcontext -t && tpm2_flushcontext -s && "
            "tpm2_evictcontrol -C o -c ak.ctx 0x81010002 && tpm2_flushcontext -t && "
            "tpm2_flushcontext -s") != 0) {
        check_report(0, __FILE__, __LINE__, "tpm2-tools could not make an AK", NULL);
        return;
    }
    uint8_t ch[64];
    challenge(ch, 5);
    char hex[129];
    CHECK_OK(atls_hex_encode(hex, sizeof(hex), ch, 64));
    CHECK(run("tpm2_quote -c 0x81010002 -l sha256:0,1,2,3,4,5,6,7,23 -q %s -m q.msg -s q.sig "
              "-g sha256 && tpm2_pcrread sha256:0,1,2,3,4,5,6,7,23 -o q.pcrs",
              hex) == 0);
    atls_tpm2_quote q = {0};
    atls_buf vals = {0}, name = {0};
    CHECK(read_file("q.msg", &q.attest) == 0);
    CHECK(read_file("q.sig", &q.sig) == 0);
    CHECK(read_file("ak.pub", &q.ak_public) == 0);
    CHECK(read_file("ak.name", &name) == 0);
    CHECK(read_file("q.pcrs", &vals) == 0 && vals.len == 9 * 32);
    q.pcrs = calloc(9, sizeof(*q.pcrs));
    q.num_pcrs = 9;
    for (unsigned i = 0; i < 9 && vals.len == 9 * 32; i++) {
        q.pcrs[i].alg = ATLS_TPM2_ALG_SHA256;
        q.pcrs[i].index = (uint8_t)(i < 8 ? i : 23);
        q.pcrs[i].digest_len = 32;
        memcpy(q.pcrs[i].digest, vals.data + 32 * i, 32);
    }
    atls_tpm2_verify_opts o = {.challenge = ch, .challenge_len = 64};
    atls_tpm2_verified v;
    CHECK_OK(atls_tpm2_verify_quote(&q, &o, &v));
    CHECK(v.ak.name_len == name.len && memcmp(v.ak.name, name.data, name.len) == 0);
    CHECK(v.ak_hierarchy != NULL && strcmp(v.ak_hierarchy, "unknown") == 0); /* under the EK */
    atls_tpm2_verified_cleanup(&v);
    ch[63] ^= 1;
    CHECK_ERR(atls_tpm2_verify_quote(&q, &o, NULL), ATLS_ERR_EVIDENCE_NONCE);
    ch[63] ^= 1;

    test_tools_quote_wrapped(ch, &name);

    /* the atls attester on the persistent AK */
    atls_tpm2_attester_config cfg = {.tcti = tpm.tcti, .ak_handle = 0x81010002};
    atls_tpm2_attester *pa = NULL;
    CHECK_OK(atls_tpm2_attester_new(&cfg, &pa));
    if (pa != NULL) {
        const atls_buf *pub = atls_tpm2_attester_get0_ak_public(pa);
        CHECK(pub->len == q.ak_public.len && memcmp(pub->data, q.ak_public.data, pub->len) == 0);
        atls_tpm2_quote q2;
        CHECK_OK(atls_tpm2_attester_quote(pa, ch, 64, &q2));
        CHECK_OK(atls_tpm2_verify_quote(&q2, &o, NULL));
        atls_tpm2_quote_cleanup(&q2);
        atls_tpm2_attester_free(pa);
    }
    cfg.ak_handle = 0x80000001; /* not persistent */
    pa = NULL;
    CHECK_ERR(atls_tpm2_attester_new(&cfg, &pa), ATLS_ERR_USAGE_CONFIG);
    cfg.ak_handle = 0x81010009; /* nothing there */
    CHECK_ERR(atls_tpm2_attester_new(&cfg, &pa), ATLS_ERR_EVIDENCE_ATTESTER);
    CHECK(run("tpm2_evictcontrol -C o -c 0x81010002") == 0);
    atls_buf_cleanup(&vals);
    atls_buf_cleanup(&name);
    atls_tpm2_quote_cleanup(&q);
}

static void test_config_errors(void)
{
    atls_tpm2_attester *a = NULL;
    atls_tpm2_attester_config cfg = {0};
    /* no TCTI: tpm2-tss's default search (test_cli_tpm_default_tcti finds a TPM that way); on
     * a machine without a TPM device it fails naming the search, unless a simulator happens
     * to listen on localhost:2321 */
    if (access("/dev/tpmrm0", F_OK) != 0 && access("/dev/tpm0", F_OK) != 0) {
        atls_error rc = atls_tpm2_attester_new(&cfg, &a);
        if (rc == ATLS_OK) {
            atls_tpm2_attester_free(a);
            a = NULL;
        } else {
            CHECK(rc == ATLS_ERR_EVIDENCE_ATTESTER);
            CHECK(strstr(atls_error_message(), "none found by the default search") != NULL);
        }
    }
    cfg.tcti = "swtpm:host=127.0.0.1,port=1"; /* nobody listens there */
    CHECK_ERR(atls_tpm2_attester_new(&cfg, &a), ATLS_ERR_EVIDENCE_ATTESTER);
    cfg.tcti = "nosuchtcti:foo";
    CHECK_ERR(atls_tpm2_attester_new(&cfg, &a), ATLS_ERR_EVIDENCE_ATTESTER);
    CHECK(a == NULL);
    /* three banks, 19 PCRs: several PCR_Read rounds (at most 8 digests each) */
    atls_tpm2_pcr_selection sel;
    CHECK_OK(atls_tpm2_pcr_selection_parse("sha1:0-7,23+sha256:0-7,23+sha384:23", &sel));
    cfg.tcti = tpm.tcti;
    cfg.pcrs = &sel;
    CHECK_OK(atls_tpm2_attester_new(&cfg, &a));
    if (a != NULL) {
        uint8_t ch[64] = {0};
        atls_tpm2_quote q;
        CHECK_OK(atls_tpm2_attester_quote(a, ch, 64, &q));
        CHECK(q.num_pcrs == 19);
        CHECK(q.num_pcrs == 19 && q.pcrs[0].alg == ATLS_TPM2_ALG_SHA1 &&
              q.pcrs[8].index == 23 && q.pcrs[9].alg == ATLS_TPM2_ALG_SHA256 &&
              q.pcrs[18].alg == ATLS_TPM2_ALG_SHA384 && q.pcrs[18].digest_len == 48);
        atls_tpm2_verify_opts o = {.challenge = ch, .challenge_len = 64};
        CHECK_OK(atls_tpm2_verify_quote(&q, &o, NULL));
        atls_tpm2_quote_cleanup(&q);
        atls_tpm2_attester_free(a);
    }
}

/* The plug-in tables end to end: produce -> verify -> TOFU policy -> a measured change. */
static void test_ops(void)
{
    const atls_attester_ops *aops = &atls_tpm2_attester_ops;
    const atls_verifier_ops *vops = &atls_tpm2_verifier_ops;
    CHECK(strcmp(aops->media_type, vops->media_type) == 0);
    char tcti[128];
    snprintf(tcti, sizeof(tcti), "tcti=%s", tpm.tcti);
    const char *const bad_cfg[] = {tcti, "colour=blue", NULL};
    void *st = NULL;
    CHECK_ERR(aops->create(bad_cfg, &st), ATLS_ERR_USAGE_CONFIG);
    const char *const bad_handle[] = {tcti, "ak_handle=zz", NULL};
    CHECK_ERR(aops->create(bad_handle, &st), ATLS_ERR_USAGE_CONFIG);
    const char *const cfg[] = {tcti, "pcrs=sha256:0-7,16,23", NULL};
    CHECK_OK(aops->create(cfg, &st));
    if (st == NULL) {
        return;
    }
    uint8_t ch[64];
    challenge(ch, 9);
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    CHECK_OK(aops->produce(st, ch, &ev, &ev_len));
    atls_verify_input in = {.challenge = ch};
    atls_evidence_result res;
    CHECK_OK(vops->verify(ev, ev_len, &in, &res));
    free(ev);
    json_t *pol = NULL;
    CHECK_OK(vops->policy_from_result(&res, &pol));
    atls_trust_vector tv = {0};
    CHECK_OK(vops->appraise(pol, &res, &tv));
    CHECK(tv.instance_identity == 2 && tv.executables == 2);
    CHECK(json_object_size(json_object_get(json_object_get(res.claims, "pcrs"), "sha256")) == 10);
    atls_evidence_result_cleanup(&res);

    uint8_t m[32];
    memset(m, 0x77, sizeof(m));
    CHECK_OK(atls_tpm2_pcr_extend(tpm.tcti, 16, m));
    challenge(ch, 10);
    CHECK_OK(aops->produce(st, ch, &ev, &ev_len));
    CHECK_OK(vops->verify(ev, ev_len, &in, &res));
    CHECK_ERR(vops->appraise(pol, &res, &tv), ATLS_ERR_POLICY_MISMATCH);
    CHECK(strstr(atls_error_message(), "sha256:16") != NULL);
    atls_evidence_result_cleanup(&res);
    ev[ev_len - 1] ^= 1; /* last byte of the attest: pcrDigest */
    CHECK_ERR(vops->verify(ev, ev_len, &in, &res), ATLS_ERR_EVIDENCE_SIGNATURE);
    free(ev);
    json_decref(pol);
    aops->destroy(st);
}

int main(void)
{
    int rc = test_swtpm_start(&tpm);
    if (rc == 77) {
        TEST_SKIP("swtpm is not installed");
    }
    if (rc != 0) {
        fprintf(stderr, "could not start swtpm\n");
        return 1;
    }
    test_swtpm_setenv(&tpm);

    atls_tpm2_attester_config cfg = {.tcti = tpm.tcti};
    atls_tpm2_attester *a = NULL;
    CHECK_OK(atls_tpm2_attester_new(&cfg, &a));
    if (a != NULL) {
        atls_buf first = {0};
        CHECK_OK(atls_buf_set(&first, atls_tpm2_attester_get0_ak_public(a)->data,
                              atls_tpm2_attester_get0_ak_public(a)->len));
        test_produce_verify(a);
        test_extend(a);
        test_tools_check_atls(a);
        atls_tpm2_attester_free(a);
        /* a primary AK is the same key after a restart of the attester */
        a = NULL;
        CHECK_OK(atls_tpm2_attester_new(&cfg, &a));
        if (a != NULL) {
            const atls_buf *again = atls_tpm2_attester_get0_ak_public(a);
            CHECK(again->len == first.len && memcmp(again->data, first.data, first.len) == 0);
            atls_tpm2_attester_free(a);
        }
        atls_buf_cleanup(&first);
    }
    test_tools_quote_atls();
    test_config_errors();
    test_ops();
    test_swtpm_stop(&tpm);
    return check_summary();
}
