/* test_ima_sig.c: IMA files signed by a trusted key (policy "ima"."trusted_keys", issue 16),
 * compared with an independent implementation: ima-evm-utils' evmctl signs each file
 * (`evmctl ima_sign --sigfile`, the security.ima value in FILE.sig) and verifies it
 * (`evmctl ima_verify --sigfile`); the same signature goes into an ima-sig entry of a generated
 * IMA list, which atls replays against a quote and appraises. For every case atls accepts
 * exactly what evmctl verifies, and refuses with the expected error otherwise: a valid RSA-2048
 * (SHA-1, SHA-256, SHA-384, SHA-512), RSA-4096 (SHA-224), ECDSA P-256 or P-384 signature; a signature by a key that is
 * not trusted; a file changed after signing (its measured digest no longer signed); a flipped
 * signature byte; a signature cut short (header fixed up, or not: then the list itself is
 * malformed); an unknown hash algorithm; a hash other than the measured one; another key id.
 * One difference, checked as one: a key id taken from a certificate's subjectKeyIdentifier
 * (evmctl --keyid-from-cert), which atls accepts as the kernel does and evmctl 1.4 cannot find.
 * Without evmctl (Debian ima-evm-utils, scripts/setup-deps installs it) the test is skipped. */
#include "check.h"
#include "evlog_testgen.h"

#include "evidence/eventlog/eventlog.h"

#include <jansson.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/atls-imasig-XXXXXX";

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(1u << 16);
    *len = f != NULL && buf != NULL ? fread(buf, 1, 1u << 16, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    return buf;
}

static void spit(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(data, 1, len, f) == len && fclose(f) == 0);
}

enum mutation {
    NONE,
    FILE_CHANGED,   /* the file changes after it was signed: IMA measures the new digest */
    SIG_FLIPPED,    /* a byte of the signature itself */
    SIG_CUT_FIXED,  /* one byte shorter, sig_size adjusted: well-formed, does not verify */
    SIG_CUT,        /* one byte shorter, sig_size as signed: a malformed sig field */
    HASH_UNKNOWN,   /* hash_algo 99 */
    HASH_OTHER,     /* hash_algo says SHA-512, the file was signed and measured with SHA-256 */
    KEYID_CHANGED,  /* a key id no trusted key has */
};

typedef struct ima_case {
    const char *name;
    const char *key;  /* private key file (in |dir|) that signs */
    const char *hash; /* evmctl -a and the measured digest */
    enum mutation m;
    atls_error want;  /* what atls says */
    int skid;         /* signed with the key id of a certificate's subjectKeyIdentifier */
} ima_case;

static const ima_case cases[] = {
    {"RSA-2048 SHA-256", "rsa.pem", "sha256", NONE, ATLS_OK, 0},
    {"RSA-2048 SHA-1", "rsa.pem", "sha1", NONE, ATLS_OK, 0},
    {"RSA-2048 SHA-384", "rsa.pem", "sha384", NONE, ATLS_OK, 0},
    {"RSA-2048 SHA-512", "rsa.pem", "sha512", NONE, ATLS_OK, 0},
    {"ECDSA P-256 SHA-256", "ec.pem", "sha256", NONE, ATLS_OK, 0},
    {"ECDSA P-384 SHA-384", "ec384.pem", "sha384", NONE, ATLS_OK, 0},
    {"RSA-4096 SHA-224", "rsa4k.pem", "sha224", NONE, ATLS_OK, 0},
    {"signed by a key that is not trusted", "other.pem", "sha256", NONE, ATLS_ERR_POLICY_MISMATCH, 0},
    {"file changed after signing", "rsa.pem", "sha256", FILE_CHANGED,
     ATLS_ERR_EVIDENCE_IMA_SIGNATURE, 0},
    {"ECDSA, file changed after signing", "ec.pem", "sha256", FILE_CHANGED,
     ATLS_ERR_EVIDENCE_IMA_SIGNATURE, 0},
    {"signature byte flipped", "rsa.pem", "sha256", SIG_FLIPPED, ATLS_ERR_EVIDENCE_IMA_SIGNATURE, 0},
    {"signature cut, size fixed up", "rsa.pem", "sha256", SIG_CUT_FIXED,
     ATLS_ERR_EVIDENCE_IMA_SIGNATURE, 0},
    {"signature cut", "rsa.pem", "sha256", SIG_CUT, ATLS_ERR_DECODE_IMA_SIGNATURE, 0},
    {"unknown hash algorithm", "rsa.pem", "sha256", HASH_UNKNOWN, ATLS_ERR_POLICY_MISMATCH, 0},
    {"hash other than the measured one", "rsa.pem", "sha256", HASH_OTHER,
     ATLS_ERR_POLICY_MISMATCH, 0},
    {"key id changed", "rsa.pem", "sha256", KEYID_CHANGED, ATLS_ERR_POLICY_MISMATCH, 0},
    /* the one known difference: evmctl 1.4 signs with --keyid-from-cert, but its verify finds
     * keys only by the id it computes from the key; atls (as the kernel's keyring) also by the
     * certificate's subjectKeyIdentifier */
    {"key id from the certificate's SKID", "rsa.pem", "sha256", NONE, ATLS_OK, 1},
};

static void mutate(enum mutation m, uint8_t *sig, size_t *len)
{
    switch (m) {
    case SIG_FLIPPED:
        sig[*len - 5] ^= 0x01;
        break;
    case SIG_CUT_FIXED: {
        (*len)--;
        unsigned size = ((unsigned)sig[7] << 8 | sig[8]) - 1;
        sig[7] = (uint8_t)(size >> 8);
        sig[8] = (uint8_t)size;
        break;
    }
    case SIG_CUT:
        (*len)--;
        break;
    case HASH_UNKNOWN:
        sig[2] = 99;
        break;
    case HASH_OTHER:
        sig[2] = 6; /* HASH_ALGO_SHA512 */
        break;
    case KEYID_CHANGED:
        sig[6] ^= 0x5a;
        break;
    default:
        break;
    }
}

/* appraise: one ima-sig entry for |path| (|hash| digest of its contents now, |sig|) in an IMA
 * list, verified against a quote of its own PCR 10 and appraised with |policy_text| */
static atls_error appraise(const char *path, const char *hash, const uint8_t *sig, size_t sig_len,
                           const char *policy_text)
{
    size_t flen = 0;
    uint8_t *contents = slurp(path, &flen);
    uint8_t digest[64];
    unsigned dlen = 0;
    CHECK(EVP_Digest(contents, flen, digest, &dlen, EVP_get_digestbyname(hash), NULL) == 1);
    free(contents);
    atls_writer w;
    atls_writer_init(&w, 1u << 20);
    CHECK(evgen_ima_ng(&w, 10, "ima-sig", hash, digest, dlen, path, sig, sig_len));
    uint8_t *log = NULL;
    size_t len = 0;
    CHECK_OK(atls_writer_finish(&w, &log, &len));
    atls_writer_cleanup(&w);
    atls_evlog el;
    atls_error rc = atls_evlog_parse_ima(log, len, &el);
    if (rc != ATLS_OK) {
        atls_evlog_cleanup(&el);
        free(log);
        return rc; /* a malformed sig field: the list itself is refused */
    }
    static const uint16_t sha256[] = {0x000B};
    atls_evlog_replay r;
    CHECK_OK(atls_evlog_replay_init(&r, &el, sha256, 1));
    CHECK_OK(atls_evlog_replay_run(&r, &el));
    atls_evlog_cleanup(&el);
    atls_evlog_quoted q = {0x000B, 10, r.banks[0].value[10], 32};
    atls_evlog_record rec = {.kind = ATLS_EVLOG_IMA, .total = 1};
    atls_cursor_init(&rec.log, log, len);
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    CHECK_OK(atls_evlog_record_encode(&rec, &enc, &enc_len));
    atls_evidence_blob b = {enc, enc_len};
    json_t *claims = json_object();
    CHECK_OK(atls_evlog_verify(&b, 1, 1u << ATLS_EVLOG_IMA, &q, 1, NULL, claims));
    if (sig_len > 7) {
        /* the claims name the signer: the key id of the header */
        json_t *ev = json_array_get(
            json_object_get(json_object_get(json_object_get(claims, "eventlogs"), "ima"),
                            "events"),
            0);
        char id[9];
        snprintf(id, sizeof(id), "%02x%02x%02x%02x", sig[3], sig[4], sig[5], sig[6]);
        const char *have = json_string_value(json_object_get(ev, "signature_key_id"));
        CHECK(have != NULL && strcmp(have, id) == 0);
    }
    json_t *pol = json_loads(policy_text, 0, NULL);
    CHECK(pol != NULL);
    rc = atls_evlog_policy_check(NULL, pol);
    if (rc == ATLS_OK) {
        rc = atls_evlog_policy_appraise(NULL, pol, claims);
    }
    json_decref(pol);
    json_decref(claims);
    free(enc);
    free(log);
    return rc;
}

static void keys(void)
{
    CHECK(sh("cd %s && openssl genrsa -out rsa.pem 2048 2>/dev/null && openssl req -new -x509 "
             "-key rsa.pem -out rsa.crt -days 30 -subj /CN=ima-rsa 2>/dev/null && openssl x509 "
             "-in rsa.crt -outform DER -out rsa.der",
             dir) == 0);
    CHECK(sh("cd %s && openssl ecparam -genkey -name prime256v1 -noout -out ec.pem && openssl "
             "req -new -x509 -key ec.pem -out ec.crt -days 30 -subj /CN=ima-ec 2>/dev/null && "
             "openssl x509 -in ec.crt -outform DER -out ec.der && openssl ec -in ec.pem -pubout "
             "-out ec.pub 2>/dev/null",
             dir) == 0);
    CHECK(sh("cd %s && openssl ecparam -genkey -name secp384r1 -noout -out ec384.pem && openssl "
             "req -new -x509 -key ec384.pem -out ec384.crt -days 30 -subj /CN=ima-ec384 "
             "2>/dev/null && openssl x509 -in ec384.crt -outform DER -out ec384.der",
             dir) == 0);
    CHECK(sh("cd %s && openssl genrsa -out rsa4k.pem 4096 2>/dev/null && openssl req -new -x509 "
             "-key rsa4k.pem -outform DER -out rsa4k.der -days 30 -subj /CN=ima-rsa4k 2>/dev/null",
             dir) == 0);
    /* the RSA key again, in a certificate whose subjectKeyIdentifier is not the key's hash */
    CHECK(sh("cd %s && openssl req -new -x509 -key rsa.pem -outform DER -out skid.der -days 30 "
             "-subj /CN=ima-skid -addext subjectKeyIdentifier=0102030405060708 2>/dev/null",
             dir) == 0);
    CHECK(sh("cd %s && openssl genrsa -out other.pem 2048 2>/dev/null && openssl req -new -x509 "
             "-key other.pem -outform DER -out other.der -days 30 -subj /CN=other 2>/dev/null",
             dir) == 0);
}

static void test_against_evmctl(void)
{
    char policy[1024];
    /* a certificate (PEM), a DER certificate and a bare public key: each kind of entry */
    snprintf(policy, sizeof(policy),
             "{\"allowlist\":{\"/usr/bin/listed\":[\"sha256:00\"]},"
             "\"trusted_keys\":[\"%s/rsa.crt\",\"%s/ec.pub\",\"%s/ec384.crt\",\"%s/rsa4k.der\",\"%s/skid.der\"]}",
             dir, dir, dir, dir, dir);
    int agree = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const ima_case *c = &cases[i];
        char file[128], sigfile[140];
        snprintf(file, sizeof(file), "%s/file%zu", dir, i);
        snprintf(sigfile, sizeof(sigfile), "%s.sig", file);
        char contents[64];
        snprintf(contents, sizeof(contents), "executable %zu: %s\n", i, c->name);
        spit(file, (const uint8_t *)contents, strlen(contents));
        char key[128];
        snprintf(key, sizeof(key), "%s/%s", dir, c->key);
        char skid[160] = "";
        if (c->skid) {
            snprintf(skid, sizeof(skid), "--keyid-from-cert %s/skid.der", dir);
        }
        CHECK(sh("evmctl ima_sign --sigfile --key %s %s -a %s %s >/dev/null 2>&1", key, skid,
                 c->hash, file) == 0);
        size_t sig_len = 0;
        uint8_t *sig = slurp(sigfile, &sig_len);
        CHECK(sig_len > 9 && sig[0] == 0x03 && sig[1] == 2);
        mutate(c->m, sig, &sig_len);
        spit(sigfile, sig, sig_len);
        if (c->m == FILE_CHANGED) {
            FILE *f = fopen(file, "a");
            CHECK(f != NULL && fputs("appended after signing\n", f) >= 0 && fclose(f) == 0);
        }
        char keys[400];
        snprintf(keys, sizeof(keys), "%s/rsa.der,%s/ec.der,%s/ec384.der,%s/rsa4k.der,%s/skid.der",
                 dir, dir, dir, dir, dir);
        int evmctl_ok =
            sh("evmctl ima_verify --sigfile --key %s %s >/dev/null 2>&1", keys, file) == 0;
        atls_error rc = appraise(file, c->hash, sig, sig_len, policy);
        printf("%-40s evmctl %-8s atls %s\n", c->name, evmctl_ok ? "verifies" : "refuses",
               rc == ATLS_OK ? "accepts" : atls_error_message());
        CHECK((rc == ATLS_OK) == (evmctl_ok || c->skid));
        CHECK(!c->skid || !evmctl_ok); /* the difference is still there (else: drop it) */
        CHECK(rc == c->want);
        agree += (rc == ATLS_OK) == evmctl_ok;
        free(sig);
    }
    printf("atls and evmctl agree on %d of %zu signatures (the other: a key id from a "
           "certificate's SKID)\n",
           agree, sizeof(cases) / sizeof(cases[0]));
}

static void test_policy_rules(void)
{
    char file[128], policy[1024];
    snprintf(file, sizeof(file), "%s/plain", dir);
    spit(file, (const uint8_t *)"x", 1);
    /* not signed and not listed: refused, saying so */
    snprintf(policy, sizeof(policy), "{\"trusted_keys\":[\"%s/rsa.crt\"]}", dir);
    CHECK_ERR(appraise(file, "sha256", NULL, 0, policy), ATLS_ERR_POLICY_MISMATCH);
    CHECK(strstr(atls_error_message(), "neither in the allow list nor signed") != NULL);
    /* listed: accepted whatever its signature */
    uint8_t d[32];
    EVP_Digest("x", 1, d, NULL, EVP_sha256(), NULL);
    char hex[65];
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    }
    snprintf(policy, sizeof(policy), "{\"allowlist\":{\"%s\":[\"sha256:%s\"]}}", file, hex);
    CHECK_OK(appraise(file, "sha256", NULL, 0, policy));
    /* a signature with no trusted_keys: only the allow list counts */
    CHECK(sh("evmctl ima_sign --sigfile --key %s/rsa.pem -a sha256 %s >/dev/null 2>&1", dir,
             file) == 0);
    char sigfile[140];
    snprintf(sigfile, sizeof(sigfile), "%s.sig", file);
    size_t sig_len = 0;
    uint8_t *sig = slurp(sigfile, &sig_len);
    CHECK_ERR(appraise(file, "sha256", sig, sig_len, "{\"allowlist\":{}}"),
              ATLS_ERR_POLICY_MISMATCH);
    /* an inline PEM certificate and a DER certificate file are trusted keys too */
    size_t pem_len = 0;
    char rsa_crt[140];
    snprintf(rsa_crt, sizeof(rsa_crt), "%s/rsa.crt", dir);
    char *pem = (char *)slurp(rsa_crt, &pem_len);
    pem[pem_len] = '\0';
    json_t *inl = json_pack("{s[s]}", "trusted_keys", pem);
    char *inl_text = json_dumps(inl, 0);
    CHECK_OK(appraise(file, "sha256", sig, sig_len, inl_text));
    free(inl_text);
    json_decref(inl);
    free(pem);
    snprintf(policy, sizeof(policy), "{\"trusted_keys\":[\"%s/rsa.der\"]}", dir);
    CHECK_OK(appraise(file, "sha256", sig, sig_len, policy));
    free(sig);
    /* bad trusted_keys: the policy itself is refused */
    static const char *const bad[] = {
        "{\"trusted_keys\":[]}",
        "{\"trusted_keys\":\"x\"}",
        "{\"trusted_keys\":[1]}",
        "{\"trusted_keys\":[\"/nonexistent/key.pem\"]}",
        "{\"trusted_keys\":[\"/dev/null\"]}",
        "{\"trusted_keys\":[\"/tmp\"]}",
        "{\"trusted_keys\":[\"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\"]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *p = json_loads(bad[i], 0, NULL);
        CHECK(p != NULL);
        CHECK_ERR(atls_evlog_policy_check(NULL, p), ATLS_ERR_POLICY_INVALID);
        json_decref(p);
    }
    /* a file that holds no key */
    snprintf(policy, sizeof(policy), "{\"trusted_keys\":[\"%s\"]}", file);
    json_t *p = json_loads(policy, 0, NULL);
    CHECK_ERR(atls_evlog_policy_check(NULL, p), ATLS_ERR_POLICY_INVALID);
    json_decref(p);
}

int main(void)
{
    if (system("command -v evmctl > /dev/null 2>&1") != 0) {
        TEST_SKIP("needs evmctl (Debian ima-evm-utils; scripts/setup-deps installs it)");
    }
    CHECK(mkdtemp(dir) != NULL);
    keys();
    test_against_evmctl();
    test_policy_rules();
    sh("rm -rf %s", dir);
    return check_summary();
}
