/* eventlog_ima.c: the Linux IMA measurement list, binary form (eventlog.h).
 *
 * Each entry, as security/integrity/ima/ima_fs.c (ima_measurements_show) writes it:
 *   PCR u32 | template digest [20] (SHA-1) | template name length u32 | template name |
 *   template data length u32 (absent for the "ima" template) | template data.
 * Template data of ima-ng / ima-sig / ima-buf is a sequence of fields, each a u32 length and
 * its bytes: d-ng ("<hash name>:\0" then the file digest), n-ng (the path with its NUL), sig
 * (security.ima: empty, or a signature_v2 header and the signature), buf. The "ima" template
 * has a bare 20-byte digest, then a u32 length and the path without NUL, and its template
 * digest is SHA-1(digest || path zero-padded to 256 bytes) (ima_template_lib.c,
 * IMA_EVENT_NAME_LEN_MAX + 1). Integers are little-endian. A template digest of all zeroes
 * is a measurement violation: the kernel extends the PCR with all ones. */
#include "evidence/eventlog/eventlog_internal.h"

#include <string.h>

#define SHA1_SIZE 20
#define TEMPLATE_NAME_MAX 15  /* IMA_TEMPLATE_NAME_LEN_MAX */
#define IMA_NAME_PADDED 256   /* IMA_EVENT_NAME_LEN_MAX + 1 */
#define PATH_MAX_BYTES 4096   /* a path, without its NUL */
#define HASH_NAME_MAX 16
#define EVM_IMA_XATTR_DIGSIG 0x03
#define IMA_VERITY_DIGSIG 0x06

/* The templates whose fields atls decodes, in the order the template defines them. */
enum field { F_DIGEST_NG, F_NAME_NG, F_SIG, F_BUF };
static const struct {
    const char *name;
    size_t num_fields;
    enum field fields[3];
} templates[] = {
    {"ima-ng", 2, {F_DIGEST_NG, F_NAME_NG}},
    {"ima-sig", 3, {F_DIGEST_NG, F_NAME_NG, F_SIG}},
    {"ima-buf", 3, {F_DIGEST_NG, F_NAME_NG, F_BUF}},
};

/* ima_hash_name_alg maps the kernel's hash_algo_name[] spelling to a TPM_ALG_ID (0: one that
 * atls cannot replay or name, e.g. md5); *size gets the expected digest size (0 unknown). */
static uint16_t ima_hash_name_alg(atls_cursor name, size_t *size)
{
    static const struct {
        const char *name;
        uint16_t alg;
        size_t size;
    } names[] = {{"sha1", ATLS_TCG_ALG_SHA1, 20},     {"sha256", ATLS_TCG_ALG_SHA256, 32},
                 {"sha384", ATLS_TCG_ALG_SHA384, 48}, {"sha512", ATLS_TCG_ALG_SHA512, 64},
                 {"md5", 0, 16},                      {"sm3", 0, 32}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (atls_cursor_equals(&name, (const uint8_t *)names[i].name, strlen(names[i].name))) {
            *size = names[i].size;
            return names[i].alg;
        }
    }
    *size = 0;
    return 0;
}

/* get_digest_ng decodes a d-ng field: "<hash name>:\0<digest>". */
static atls_error get_digest_ng(atls_cursor f, atls_evlog_ima *m)
{
    const uint8_t *p = atls_cursor_data(&f);
    size_t n = atls_cursor_remaining(&f), colon = 0;
    while (colon < n && colon <= HASH_NAME_MAX && p[colon] != ':') {
        ATLS_ENSURE((p[colon] >= 'a' && p[colon] <= 'z') || (p[colon] >= '0' && p[colon] <= '9') ||
                        p[colon] == '-' || p[colon] == '_',
                    ATLS_ERR_DECODE_IMA_DIGEST, "file digest: hash name is not [a-z0-9_-]");
        colon++;
    }
    ATLS_ENSURE(colon > 0 && colon < n && colon <= HASH_NAME_MAX && p[colon] == ':',
                ATLS_ERR_DECODE_IMA_DIGEST, "file digest: no \"<hash>:\" prefix");
    ATLS_ENSURE(colon + 1 < n && p[colon + 1] == '\0', ATLS_ERR_DECODE_IMA_DIGEST,
                "file digest: no NUL after \"<hash>:\"");
    ATLS_ENSURE(atls_cursor_get_bytes(&f, &m->file_alg_name, colon) &&
                    atls_cursor_skip(&f, 2),
                ATLS_ERR_INTERNAL, "file digest prefix");
    size_t want = 0;
    m->file_alg = ima_hash_name_alg(m->file_alg_name, &want);
    ATLS_ENSURE(!atls_cursor_is_empty(&f) && atls_cursor_remaining(&f) <= ATLS_EVLOG_MAX_DIGEST,
                ATLS_ERR_DECODE_IMA_DIGEST, "file digest of %zu bytes",
                atls_cursor_remaining(&f));
    ATLS_ENSURE(want == 0 || atls_cursor_remaining(&f) == want, ATLS_ERR_DECODE_IMA_DIGEST,
                "file digest of %zu bytes for a %zu-byte hash", atls_cursor_remaining(&f), want);
    m->file_digest = f;
    return ATLS_OK;
}

/* check_path: a path is non-empty and has no NUL inside (so it compares as text). */
static atls_error check_path(atls_cursor path)
{
    size_t n = atls_cursor_remaining(&path);
    ATLS_ENSURE(n > 0 && n <= PATH_MAX_BYTES, ATLS_ERR_DECODE_IMA_PATH,
                "file name of %zu bytes, expected 1..%d", n, PATH_MAX_BYTES);
    ATLS_ENSURE(memchr(atls_cursor_data(&path), 0, n) == NULL, ATLS_ERR_DECODE_IMA_PATH,
                "file name with a NUL inside");
    return ATLS_OK;
}

/* get_name_ng decodes an n-ng field: the path and its terminating NUL. */
static atls_error get_name_ng(atls_cursor f, atls_evlog_ima *m)
{
    size_t n = atls_cursor_remaining(&f);
    ATLS_ENSURE(n >= 2 && atls_cursor_data(&f)[n - 1] == '\0', ATLS_ERR_DECODE_IMA_PATH,
                "file name is not a NUL-terminated string");
    ATLS_ENSURE(atls_cursor_get_bytes(&f, &m->path, n - 1), ATLS_ERR_INTERNAL, "file name");
    return check_path(m->path);
}

/* get_sig decodes a sig field: empty, or security.ima of type EVM_IMA_XATTR_DIGSIG (3) or
 * IMA_VERITY_DIGSIG (6): type, signature_v2_hdr {version, hash_algo, keyid (be32),
 * sig_size (be16)}, then sig_size bytes (security/integrity/integrity.h). */
static atls_error get_sig(atls_cursor f, atls_evlog_ima *m)
{
    m->sig = f;
    if (atls_cursor_is_empty(&f)) {
        return ATLS_OK;
    }
    atls_ima_sig_hdr h;
    int bad = atls_ima_sig_header(f, &h);
    ATLS_ENSURE(bad != 1, ATLS_ERR_DECODE_IMA_SIGNATURE, "signature header truncated");
    ATLS_ENSURE(h.type == EVM_IMA_XATTR_DIGSIG || h.type == IMA_VERITY_DIGSIG,
                ATLS_ERR_DECODE_IMA_SIGNATURE, "security.ima type %u is not a signature", h.type);
    ATLS_ENSURE(h.version == 2 || h.version == 3, ATLS_ERR_DECODE_IMA_SIGNATURE,
                "signature version %u, expected 2 or 3", h.version);
    ATLS_ENSURE(bad == 0, ATLS_ERR_DECODE_IMA_SIGNATURE,
                "signature size does not match the field");
    return ATLS_OK;
}

/* decode_fields splits the template data of a known template into its fields. */
static atls_error decode_fields(size_t t, atls_evlog_ima *m)
{
    atls_cursor d = m->template_data;
    for (size_t i = 0; i < templates[t].num_fields; i++) {
        uint32_t flen = 0;
        atls_cursor f;
        ATLS_ENSURE(atls_cursor_get_u32_le(&d, &flen) && atls_cursor_get_bytes(&d, &f, flen),
                    ATLS_ERR_DECODE_IMA_TEMPLATE, "%s field %zu runs past the template data",
                    templates[t].name, i);
        switch (templates[t].fields[i]) {
        case F_DIGEST_NG:
            ATLS_GUARD(get_digest_ng(f, m));
            break;
        case F_NAME_NG:
            ATLS_GUARD(get_name_ng(f, m));
            break;
        case F_SIG:
            ATLS_GUARD(get_sig(f, m));
            break;
        case F_BUF:
            m->buf = f;
            break;
        }
    }
    ATLS_ENSURE(atls_cursor_is_empty(&d), ATLS_ERR_DECODE_IMA_TEMPLATE,
                "%zu bytes after the last %s field", atls_cursor_remaining(&d),
                templates[t].name);
    m->known_template = 1;
    return ATLS_OK;
}

/* get_ima_template: the "ima" template, which has no template data length. */
static atls_error get_ima_template(atls_cursor *c, atls_evlog_ima *m)
{
    const uint8_t *start = atls_cursor_data(c);
    uint32_t nlen = 0;
    ATLS_ENSURE(atls_cursor_get_bytes(c, &m->file_digest, SHA1_SIZE) &&
                    atls_cursor_get_u32_le(c, &nlen),
                ATLS_ERR_DECODE_IMA_TEMPLATE, "ima template data truncated");
    ATLS_ENSURE(nlen < IMA_NAME_PADDED, ATLS_ERR_DECODE_IMA_PATH,
                "ima template file name of %u bytes, at most %d", nlen, IMA_NAME_PADDED - 1);
    ATLS_ENSURE(atls_cursor_get_bytes(c, &m->path, nlen), ATLS_ERR_DECODE_IMA_TEMPLATE,
                "ima template file name truncated");
    ATLS_GUARD(check_path(m->path));
    atls_cursor_init(&m->template_data, start, SHA1_SIZE + 4 + nlen);
    atls_cursor_init(&m->file_alg_name, (const uint8_t *)"sha1", 4);
    m->file_alg = ATLS_TCG_ALG_SHA1;
    m->known_template = 1;
    return ATLS_OK;
}

int atls_evlog_ima_is_ima_template(const atls_evlog_ima *m)
{
    return atls_cursor_equals(&m->template_name, (const uint8_t *)"ima", 3);
}

atls_error atls_evlog_ima_template_hash(const atls_evlog_ima *m, uint16_t alg, uint8_t *out)
{
    if (!atls_evlog_ima_is_ima_template(m)) {
        return atls_evlog_hash(alg, atls_cursor_data(&m->template_data),
                               atls_cursor_remaining(&m->template_data), out);
    }
    /* "ima": digest || path padded with zeroes to 256 bytes (not the bytes of the list) */
    uint8_t buf[SHA1_SIZE + IMA_NAME_PADDED];
    memset(buf, 0, sizeof(buf));
    memcpy(buf, atls_cursor_data(&m->file_digest), SHA1_SIZE);
    memcpy(buf + SHA1_SIZE, atls_cursor_data(&m->path), atls_cursor_remaining(&m->path));
    return atls_evlog_hash(alg, buf, sizeof(buf), out);
}

static atls_error get_entry(atls_cursor *c, atls_evlog_event *ev, atls_evlog_ima *m)
{
    static const uint8_t zero[SHA1_SIZE] = {0};
    atls_cursor digest;
    uint32_t nlen = 0;
    ATLS_ENSURE(atls_cursor_get_u32_le(c, &ev->index) &&
                    atls_cursor_get_bytes(c, &digest, SHA1_SIZE) &&
                    atls_cursor_get_u32_le(c, &nlen),
                ATLS_ERR_DECODE_EVENTLOG_TRUNCATED, "entry header truncated (%zu bytes left)",
                atls_cursor_remaining(c));
    ATLS_ENSURE(ev->index < ATLS_EVLOG_NUM_PCRS, ATLS_ERR_DECODE_EVENTLOG_INDEX,
                "PCR index %u, expected 0..%d", ev->index, ATLS_EVLOG_NUM_PCRS - 1);
    ATLS_ENSURE(nlen >= 1 && nlen <= TEMPLATE_NAME_MAX, ATLS_ERR_DECODE_IMA_TEMPLATE,
                "template name of %u bytes, expected 1..%d", nlen, TEMPLATE_NAME_MAX);
    ATLS_ENSURE(atls_cursor_get_bytes(c, &m->template_name, nlen),
                ATLS_ERR_DECODE_EVENTLOG_TRUNCATED, "template name truncated");
    const uint8_t *tn = atls_cursor_data(&m->template_name);
    for (uint32_t i = 0; i < nlen; i++) {
        ATLS_ENSURE(tn[i] > 0x20 && tn[i] < 0x7f, ATLS_ERR_DECODE_IMA_TEMPLATE,
                    "template name is not printable ASCII");
    }
    ev->digests[0] = atls_cursor_data(&digest);
    m->violation = memcmp(ev->digests[0], zero, SHA1_SIZE) == 0;
    if (atls_evlog_ima_is_ima_template(m)) {
        ATLS_GUARD(get_ima_template(c, m));
    } else {
        uint32_t dlen = 0;
        ATLS_ENSURE(atls_cursor_get_u32_le(c, &dlen), ATLS_ERR_DECODE_EVENTLOG_TRUNCATED,
                    "template data length truncated");
        ATLS_ENSURE(dlen <= ATLS_EVLOG_MAX_EVENT_DATA, ATLS_ERR_DECODE_EVENTLOG_LIMIT,
                    "template data of %u bytes, at most %u", dlen, ATLS_EVLOG_MAX_EVENT_DATA);
        ATLS_ENSURE(atls_cursor_get_bytes(c, &m->template_data, dlen),
                    ATLS_ERR_DECODE_EVENTLOG_TRUNCATED,
                    "template data of %u bytes runs past the end (%zu left)", dlen,
                    atls_cursor_remaining(c));
        for (size_t t = 0; t < sizeof(templates) / sizeof(templates[0]); t++) {
            if (atls_cursor_equals(&m->template_name, (const uint8_t *)templates[t].name,
                                   strlen(templates[t].name))) {
                ATLS_GUARD(decode_fields(t, m));
            }
        }
    }
    ev->data = m->template_data;
    if (!m->violation) {
        uint8_t sha1[ATLS_EVLOG_MAX_DIGEST];
        ATLS_GUARD(atls_evlog_ima_template_hash(m, ATLS_TCG_ALG_SHA1, sha1));
        ATLS_ENSURE(memcmp(sha1, ev->digests[0], SHA1_SIZE) == 0,
                    ATLS_ERR_DECODE_IMA_TEMPLATE_HASH,
                    "template digest is not SHA-1 of the template data");
    }
    return ATLS_OK;
}

static atls_error parse(const uint8_t *data, size_t len, atls_evlog *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = ATLS_EVLOG_IMA;
    out->format = ATLS_EVLOG_FORMAT_IMA;
    out->num_banks = 1; /* what the list carries; replay computes any other bank */
    out->banks[0].alg = ATLS_TCG_ALG_SHA1;
    out->banks[0].size = SHA1_SIZE;
    ATLS_ENSURE(data != NULL || len == 0, ATLS_ERR_USAGE, "no input");
    ATLS_ENSURE(len <= ATLS_EVLOG_MAX_SIZE, ATLS_ERR_DECODE_EVENTLOG_LIMIT,
                "%zu bytes, at most %u", len, ATLS_EVLOG_MAX_SIZE);
    ATLS_ENSURE(len > 0, ATLS_ERR_DECODE_EVENTLOG_EMPTY, "empty list");
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    size_t cap = 0;
    while (!atls_cursor_is_empty(&c)) {
        size_t offset = (size_t)(atls_cursor_data(&c) - data);
        atls_evlog_event *ev = NULL;
        ATLS_GUARD(atls_evlog_new_event(out, &cap, &ev));
        ev->offset = offset;
        ATLS_GUARD(atls_evlog_reraise(get_entry(&c, ev, &out->ima[out->num_events - 1]),
                                      "entry %zu at offset %zu", out->num_events - 1, offset));
    }
    out->content_len = len;
    return ATLS_OK;
}

atls_error atls_evlog_parse_ima(const uint8_t *data, size_t len, atls_evlog *out)
{
    return atls_evlog_reraise(parse(data, len, out), "IMA measurement list");
}
