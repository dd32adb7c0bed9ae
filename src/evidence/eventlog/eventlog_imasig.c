/* eventlog_imasig.c: IMA file signatures (ima-sig entries) checked against the trusted keys of
 * an "ima" policy (eventlog_internal.h; docs/POLICY.md "Files signed by a trusted key").
 *
 * The sig field of an ima-sig entry is the file's security.ima: an IMA digital signature v2
 * (Linux security/integrity/integrity.h, struct signature_v2_hdr): type 0x03
 * (EVM_IMA_XATTR_DIGSIG), version 2, hash_algo (enum hash_algo, include/uapi/linux/hash_info.h),
 * keyid (be32: the last 4 bytes of the SHA-1 of the key's subjectPublicKey, as ima-evm-utils
 * computes it, or of a certificate's subjectKeyIdentifier, as the kernel's keyring looks it up),
 * sig_size (be16), then the signature over the file digest itself (RSA PKCS#1 v1.5 with the
 * DigestInfo of hash_algo, or ECDSA DER). Version 3 (a signature over an ima_file_id) and fs-verity
 * signatures (type 0x06) are not checked: such a file is accepted only by the allow list. */
#include "evidence/eventlog/eventlog_internal.h"

#include "base/file.h"
#include "base/hex.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_KEY_FILE (1u * 1024u * 1024u)
#define MAX_KEYS 64u
#define SIG_TYPE_DIGSIG 0x03 /* EVM_IMA_XATTR_DIGSIG */

struct atls_ima_keys {
    size_t num;
    struct {
        EVP_PKEY *key;
        uint32_t id;        /* ima-evm-utils: SHA-1 of the subjectPublicKey, last 4 bytes */
        uint32_t skid;      /* a certificate's subjectKeyIdentifier, last 4 bytes */
        int has_skid;
    } k[MAX_KEYS];
};

void atls_ima_keys_free(atls_ima_keys *keys)
{
    for (size_t i = 0; keys != NULL && i < keys->num; i++) {
        EVP_PKEY_free(keys->k[i].key);
    }
    free(keys);
}

static uint32_t be32_tail(const uint8_t *p, size_t len)
{
    return (uint32_t)p[len - 4] << 24 | (uint32_t)p[len - 3] << 16 | (uint32_t)p[len - 2] << 8 |
           p[len - 1];
}

/* add: |key| (taken over) and, for a certificate, its subjectKeyIdentifier */
static atls_error add(atls_ima_keys *keys, EVP_PKEY *key, X509 *cert, const char *what)
{
    if (keys->num == MAX_KEYS) {
        EVP_PKEY_free(key);
        ATLS_RAISE(ATLS_ERR_POLICY_INVALID, "ima.trusted_keys: more than %u keys", MAX_KEYS);
    }
    X509_PUBKEY *pub = NULL;
    const unsigned char *bits = NULL;
    int bits_len = 0;
    uint8_t sha1[SHA_DIGEST_LENGTH];
    int ok = X509_PUBKEY_set(&pub, key) == 1 &&
             X509_PUBKEY_get0_param(NULL, &bits, &bits_len, NULL, pub) == 1 && bits_len > 0 &&
             SHA1(bits, (size_t)bits_len, sha1) != NULL;
    X509_PUBKEY_free(pub);
    if (!ok) {
        EVP_PKEY_free(key);
        ATLS_RAISE(ATLS_ERR_POLICY_INVALID, "ima.trusted_keys: %s: an unusable public key", what);
    }
    keys->k[keys->num].key = key;
    keys->k[keys->num].id = be32_tail(sha1, sizeof(sha1));
    const ASN1_OCTET_STRING *skid = cert != NULL ? X509_get0_subject_key_id(cert) : NULL;
    if (skid != NULL && ASN1_STRING_length(skid) >= 4) {
        keys->k[keys->num].skid =
            be32_tail(ASN1_STRING_get0_data(skid), (size_t)ASN1_STRING_length(skid));
        keys->k[keys->num].has_skid = 1;
    }
    keys->num++;
    return ATLS_OK;
}

/* load_pem: every CERTIFICATE and PUBLIC KEY block of |bio|; the number found in *found */
static atls_error load_pem(atls_ima_keys *keys, BIO *bio, const char *what, size_t *found)
{
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    *found = 0;
    while (PEM_read_bio(bio, &name, &header, &data, &len) == 1) {
        const unsigned char *p = data;
        X509 *cert = NULL;
        EVP_PKEY *key = NULL;
        if (strcmp(name, "CERTIFICATE") == 0) {
            cert = d2i_X509(NULL, &p, len);
            key = cert != NULL ? X509_get_pubkey(cert) : NULL;
        } else if (strcmp(name, "PUBLIC KEY") == 0) {
            key = d2i_PUBKEY(NULL, &p, len);
        }
        int known = strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "PUBLIC KEY") == 0;
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        atls_error rc = ATLS_OK;
        if (known && key == NULL) {
            rc = atls_error_raise(ATLS_ERR_POLICY_INVALID, __FILE__, __LINE__,
                                  "ima.trusted_keys: %s: a PEM block that is no key", what);
        } else if (key != NULL) {
            rc = add(keys, key, cert, what);
            (*found)++;
        }
        X509_free(cert);
        if (rc != ATLS_OK) {
            return rc;
        }
    }
    ERR_clear_error(); /* the end of the input */
    return ATLS_OK;
}

/* load_one: an inline PEM text, or a file of PEM blocks or one DER certificate / public key
 * (evmctl's x509_evm.der) */
static atls_error load_one(atls_ima_keys *keys, const char *entry)
{
    int inline_pem = strncmp(entry, "-----BEGIN", 10) == 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    struct stat st;
    if (inline_pem) {
        bytes = (uint8_t *)strdup(entry);
        len = strlen(entry);
        ATLS_ENSURE(bytes != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    } else if (stat(entry, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a FIFO or a device would block or never end */
        ATLS_RAISE(ATLS_ERR_POLICY_INVALID, "ima.trusted_keys: %s is not a regular file", entry);
    } else if (atls_file_read(entry, MAX_KEY_FILE, &bytes, &len) != ATLS_OK) {
        char inner[200];
        snprintf(inner, sizeof(inner), "%s", atls_error_message());
        ATLS_RAISE(ATLS_ERR_POLICY_INVALID, "ima.trusted_keys: %s", inner);
    }
    const char *what = inline_pem ? "inline PEM" : entry;
    size_t found = 0;
    if (len > MAX_KEY_FILE) {
        free(bytes);
        ATLS_RAISE(ATLS_ERR_POLICY_INVALID, "ima.trusted_keys: %s is larger than %u bytes", what,
                   MAX_KEY_FILE);
    }
    atls_error rc = ATLS_OK;
    BIO *bio = BIO_new_mem_buf(bytes, (int)len);
    if (bio == NULL) {
        rc = atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__, "out of memory");
    } else {
        rc = load_pem(keys, bio, what, &found);
        BIO_free(bio);
    }
    if (rc == ATLS_OK && found == 0 && !inline_pem) {
        const unsigned char *p = bytes;
        X509 *cert = d2i_X509(NULL, &p, (long)len);
        EVP_PKEY *key = NULL;
        if (cert != NULL && p == bytes + len) {
            key = X509_get_pubkey(cert);
        } else {
            p = bytes;
            key = d2i_PUBKEY(NULL, &p, (long)len);
            if (key != NULL && p != bytes + len) {
                EVP_PKEY_free(key);
                key = NULL;
            }
        }
        ERR_clear_error();
        if (key != NULL) {
            rc = add(keys, key, cert, what);
            found = rc == ATLS_OK;
        }
        X509_free(cert);
    }
    free(bytes);
    ATLS_GUARD(rc);
    ATLS_ENSURE(found > 0, ATLS_ERR_POLICY_INVALID,
                "ima.trusted_keys: %s holds no certificate or public key (PEM or DER)", what);
    return ATLS_OK;
}

atls_error atls_ima_keys_load(const json_t *list, atls_ima_keys **out)
{
    *out = NULL;
    ATLS_ENSURE(json_is_array(list) && json_array_size(list) > 0, ATLS_ERR_POLICY_INVALID,
                "ima.trusted_keys is not a non-empty array");
    atls_ima_keys *keys = calloc(1, sizeof(*keys));
    ATLS_ENSURE(keys != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        atls_error rc = json_is_string(e) && json_string_value(e)[0] != '\0'
                            ? load_one(keys, json_string_value(e))
                            : atls_error_raise(ATLS_ERR_POLICY_INVALID, __FILE__, __LINE__,
                                               "ima.trusted_keys[%zu] is not a PEM text or a "
                                               "file name",
                                               i);
        if (rc != ATLS_OK) {
            atls_ima_keys_free(keys);
            return rc;
        }
    }
    *out = keys;
    return ATLS_OK;
}

/* enum hash_algo (include/uapi/linux/hash_info.h) -> the hash IMA names in d-ng; NULL for one
 * not checked (MD4, MD5, RIPE-MD, Whirlpool, Tiger, SM3, Streebog) */
static const char *hash_algo_name(uint8_t a)
{
    switch (a) {
    case 2:
        return "sha1";
    case 4:
        return "sha256";
    case 5:
        return "sha384";
    case 6:
        return "sha512";
    case 7:
        return "sha224";
    case 20:
        return "sha3-256";
    case 21:
        return "sha3-384";
    case 22:
        return "sha3-512";
    default:
        return NULL;
    }
}

const char *atls_ima_hash_algo_name(uint8_t algo)
{
    return hash_algo_name(algo);
}

int atls_ima_sig_header(atls_cursor sig, atls_ima_sig_hdr *out)
{
    memset(out, 0, sizeof(*out));
    if (!(atls_cursor_get_u8(&sig, &out->type) && atls_cursor_get_u8(&sig, &out->version) &&
          atls_cursor_get_u8(&sig, &out->hash_algo) && atls_cursor_get_u32(&sig, &out->keyid) &&
          atls_cursor_get_u16_prefixed(&sig, &out->sig))) {
        return 1;
    }
    return atls_cursor_is_empty(&sig) && !atls_cursor_is_empty(&out->sig) ? 0 : 2;
}

/* verify_with: |key| verifies |sig| over |digest| of hash |md| (PKCS#1 v1.5 for RSA) */
static int verify_with(EVP_PKEY *key, const EVP_MD *md, const atls_cursor *sig,
                       const uint8_t *digest, size_t dlen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    int ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
             (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1) &&
             EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
             EVP_PKEY_verify(ctx, atls_cursor_data(sig), atls_cursor_remaining(sig), digest,
                             dlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static atls_error check(const atls_ima_keys *keys, const char *digest_claim, const uint8_t *sig,
                        size_t sig_len)
{
    atls_cursor c;
    atls_ima_sig_hdr h;
    atls_cursor_init(&c, sig, sig_len);
    ATLS_ENSURE(atls_ima_sig_header(c, &h) == 0, ATLS_ERR_DECODE_IMA_SIGNATURE,
                "the signature header is truncated or its size does not match");
    ATLS_ENSURE(h.type == SIG_TYPE_DIGSIG && h.version == 2, ATLS_ERR_POLICY_MISMATCH,
                "a signature of type %u version %u (only digital signatures v2 are checked)",
                h.type, h.version);
    const char *hash = hash_algo_name(h.hash_algo);
    ATLS_ENSURE(hash != NULL, ATLS_ERR_POLICY_MISMATCH,
                "a signature with the unknown or unchecked hash algorithm %u", h.hash_algo);
    /* the signature covers the file digest of its own hash: the one measured */
    const char *colon = strchr(digest_claim, ':');
    ATLS_ENSURE(colon != NULL && (size_t)(colon - digest_claim) == strlen(hash) &&
                    strncmp(digest_claim, hash, strlen(hash)) == 0,
                ATLS_ERR_POLICY_MISMATCH,
                "a %s signature, but the measured digest is %.*s", hash,
                colon != NULL ? (int)(colon - digest_claim) : 0, digest_claim);
    const EVP_MD *md = EVP_get_digestbyname(hash);
    ATLS_ENSURE(md != NULL, ATLS_ERR_POLICY_MISMATCH, "%s is not available", hash);
    uint8_t *digest = NULL;
    size_t dlen = 0;
    ATLS_GUARD(atls_hex_decode(colon + 1, &digest, &dlen));
    atls_error rc = ATLS_OK;
    if (dlen != (size_t)EVP_MD_get_size(md)) {
        rc = atls_error_raise(ATLS_ERR_POLICY_MISMATCH, __FILE__, __LINE__,
                              "a %s digest of %zu bytes", hash, dlen);
    }
    /* every trusted key with that id (ids are 4 bytes: two keys may share one) */
    int named = 0, verified = 0;
    for (size_t i = 0; rc == ATLS_OK && i < keys->num && !verified; i++) {
        if (keys->k[i].id == h.keyid || (keys->k[i].has_skid && keys->k[i].skid == h.keyid)) {
            named = 1;
            verified = verify_with(keys->k[i].key, md, &h.sig, digest, dlen);
        }
    }
    if (rc == ATLS_OK && !named) {
        rc = atls_error_raise(ATLS_ERR_POLICY_MISMATCH, __FILE__, __LINE__,
                              "signed by key id %08x, which is not a trusted key", h.keyid);
    } else if (rc == ATLS_OK && !verified) {
        rc = atls_error_raise(ATLS_ERR_EVIDENCE_IMA_SIGNATURE, __FILE__, __LINE__,
                              "a %s signature by key id %08x that does not verify", hash,
                              h.keyid);
    }
    free(digest);
    return rc;
}

atls_error atls_ima_sig_check(const atls_ima_keys *keys, const char *digest_claim,
                              const char *sig_hex)
{
    ATLS_ENSURE(keys != NULL && digest_claim != NULL && sig_hex != NULL, ATLS_ERR_USAGE,
                "IMA signature: missing argument");
    uint8_t *sig = NULL;
    size_t len = 0;
    ATLS_GUARD(atls_hex_decode(sig_hex, &sig, &len));
    atls_error rc = check(keys, digest_claim, sig, len);
    free(sig);
    return rc;
}
