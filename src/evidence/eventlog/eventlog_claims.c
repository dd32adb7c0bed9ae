/* eventlog_claims.c: the claims of a replayed log (eventlog.h, docs/EVIDENCE.md "Event
 * logs"). An event is listed only when its register was covered by a quoted value; derived
 * claims (Secure Boot, boot applications, kernel command line) come only from listed events
 * whose data their digests cover. */
#include "evidence/eventlog/eventlog_internal.h"

#include "base/hex.h"
#include "evidence/core/claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT 1024        /* characters of event text kept in a claim */
#define MAX_INLINE_DATA 64   /* variable data shown as hex up to this; beyond, its SHA-256 */
#define MAX_DEVICE_PATH 512  /* device path bytes shown */

/* EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c, as the bytes of an EFI_GUID */
static const uint8_t efi_global_variable[16] = {0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                                0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};

static atls_error set_new(json_t *obj, const char *key, json_t *v)
{
    ATLS_ENSURE(v != NULL && json_object_set_new(obj, key, v) == 0, ATLS_ERR_INTERNAL_ALLOC,
                "out of memory");
    return ATLS_OK;
}

static atls_error append_new(json_t *arr, json_t *v)
{
    ATLS_ENSURE(v != NULL && json_array_append_new(arr, v) == 0, ATLS_ERR_INTERNAL_ALLOC,
                "out of memory");
    return ATLS_OK;
}

static atls_error set_cursor_hex(json_t *obj, const char *key, atls_cursor c, size_t max)
{
    size_t n = atls_cursor_remaining(&c);
    return atls_claims_set_hex(obj, key, atls_cursor_data(&c), n < max ? n : max);
}

/* set_path: a file name as text. Linux names are bytes: printable ASCII stays, every other
 * byte (and the backslash) becomes \xHH, so the claim is valid UTF-8 and an allow list can
 * name any file (docs/POLICY.md). */
static atls_error set_path(json_t *obj, const char *key, atls_cursor c)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = atls_cursor_data(&c);
    size_t n = atls_cursor_remaining(&c);
    char *s = malloc(4 * n + 1);
    ATLS_ENSURE(s != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
            s[j++] = (char)p[i];
        } else {
            s[j++] = '\\';
            s[j++] = 'x';
            s[j++] = hex[p[i] >> 4];
            s[j++] = hex[p[i] & 15];
        }
    }
    s[j] = '\0';
    atls_error rc = atls_claims_set_str(obj, key, s);
    free(s);
    return rc;
}

/* digests_claim: {"sha256": hex, ...} for the banks the event carries. */
static atls_error digests_claim(const atls_evlog *log, const atls_evlog_event *ev, json_t *o)
{
    json_t *d = json_object();
    ATLS_GUARD(set_new(o, "digests", d));
    for (size_t b = 0; b < log->num_banks; b++) {
        if (ev->digests[b] == NULL) {
            continue;
        }
        const char *name = atls_tcg_hash_name(log->banks[b].alg);
        char alt[16];
        if (name == NULL) {
            snprintf(alt, sizeof(alt), "0x%04x", log->banks[b].alg);
            name = alt;
        }
        ATLS_GUARD(atls_claims_set_hex(d, name, ev->digests[b], log->banks[b].size));
    }
    return ATLS_OK;
}

static atls_error variable_claim(const atls_evlog_variable *v, json_t *o)
{
    json_t *var = json_object();
    char guid[37];
    atls_evlog_guid_text(v->guid, guid);
    ATLS_GUARD(set_new(o, "variable", var));
    ATLS_GUARD(atls_claims_set_str(var, "guid", guid));
    ATLS_GUARD(atls_claims_set_str(var, "name", v->name));
    ATLS_GUARD(atls_claims_set_int(var, "data_len", (int64_t)atls_cursor_remaining(&v->data)));
    if (atls_cursor_remaining(&v->data) <= MAX_INLINE_DATA) {
        return set_cursor_hex(var, "data", v->data, MAX_INLINE_DATA);
    }
    uint8_t md[ATLS_EVLOG_MAX_DIGEST];
    ATLS_GUARD(atls_evlog_hash(ATLS_TCG_ALG_SHA256, atls_cursor_data(&v->data),
                               atls_cursor_remaining(&v->data), md));
    return atls_claims_set_hex(var, "data_sha256", md, 32);
}

/* firmware_event_claim: one TCG / CCEL event. */
static atls_error firmware_event_claim(const atls_evlog *log, const atls_evlog_event *ev,
                                       int reg, int covered, json_t *o)
{
    const char *name = atls_evlog_event_type_name(ev->type);
    char unknown[16];
    ATLS_GUARD(atls_claims_set_int(o, log->kind == ATLS_EVLOG_CCEL ? "rtmr" : "pcr", reg));
    if (name == NULL) {
        snprintf(unknown, sizeof(unknown), "0x%08x", ev->type);
        ATLS_GUARD(atls_claims_set_bool(o, "unknown_type", 1));
    }
    ATLS_GUARD(atls_claims_set_str(o, "type", name != NULL ? name : unknown));
    ATLS_GUARD(digests_claim(log, ev, o));
    ATLS_GUARD(atls_claims_set_bool(o, "data_covered", covered));
    atls_evlog_variable v;
    atls_evlog_image img;
    char text[MAX_TEXT + 1];
    if (atls_evlog_is_variable_event(ev->type) && atls_evlog_parse_variable(ev->data, &v)) {
        return variable_claim(&v, o);
    }
    if (atls_evlog_is_image_event(ev->type) && atls_evlog_parse_image(ev->data, &img)) {
        json_t *im = json_object();
        ATLS_GUARD(set_new(o, "image", im));
        ATLS_GUARD(atls_claims_set_int(im, "length", (int64_t)(img.length & INT64_MAX)));
        return set_cursor_hex(im, "device_path", img.device_path, MAX_DEVICE_PATH);
    }
    if (ev->type == ATLS_EV_SEPARATOR) {
        return set_cursor_hex(o, "separator", ev->data, 8);
    }
    if (atls_evlog_event_text(ev->data, text, sizeof(text)) > 0) {
        return atls_claims_set_str(o, "text", text);
    }
    return atls_claims_set_int(o, "data_len", (int64_t)atls_cursor_remaining(&ev->data));
}

/* ima_event_claim: one IMA entry. */
static atls_error ima_event_claim(const atls_evlog *log, size_t i, json_t *o)
{
    const atls_evlog_ima *m = &log->ima[i];
    ATLS_GUARD(atls_claims_set_int(o, "pcr", log->events[i].index));
    ATLS_GUARD(set_path(o, "template", m->template_name));
    ATLS_GUARD(atls_claims_set_hex(o, "template_digest", log->events[i].digests[0], 20));
    if (m->violation) {
        ATLS_GUARD(atls_claims_set_bool(o, "violation", 1));
    }
    if (!m->known_template) {
        ATLS_GUARD(atls_claims_set_bool(o, "unknown_template", 1));
        return ATLS_OK;
    }
    ATLS_GUARD(set_path(o, "path", m->path));
    char digest[2 * ATLS_EVLOG_MAX_DIGEST + 24];
    size_t an = atls_cursor_remaining(&m->file_alg_name);
    memcpy(digest, atls_cursor_data(&m->file_alg_name), an);
    digest[an] = ':';
    ATLS_GUARD(atls_hex_encode(digest + an + 1, sizeof(digest) - an - 1,
                               atls_cursor_data(&m->file_digest),
                               atls_cursor_remaining(&m->file_digest)));
    ATLS_GUARD(atls_claims_set_str(o, "file_digest", digest));
    if (!atls_cursor_is_empty(&m->sig)) {
        ATLS_GUARD(set_cursor_hex(o, "signature", m->sig, atls_cursor_remaining(&m->sig)));
        /* who signed it, so a policy can name the key (the parser checked the header) */
        atls_ima_sig_hdr h;
        if (atls_ima_sig_header(m->sig, &h) == 0) {
            char id[9];
            snprintf(id, sizeof(id), "%08x", h.keyid);
            const char *hash = atls_ima_hash_algo_name(h.hash_algo);
            ATLS_GUARD(atls_claims_set_str(o, "signature_key_id", id));
            ATLS_GUARD(atls_claims_set_int(o, "signature_version", h.version));
            if (hash != NULL) {
                ATLS_GUARD(atls_claims_set_str(o, "signature_hash", hash));
            }
        }
    }
    if (!atls_cursor_is_empty(&m->buf)) {
        ATLS_GUARD(set_cursor_hex(o, "buf", m->buf, atls_cursor_remaining(&m->buf)));
    }
    return ATLS_OK;
}

/* What the derived claims collect while the events go by. */
struct derived {
    int secure_boot;      /* -1 unknown, 0 off, 1 on */
    int exit_boot_services;
    json_t *apps;         /* boot applications before ExitBootServices */
    const char *cmdline;  /* borrowed from the claims tree */
};

/* The registers of the boot-application and ExitBootServices events: PCR4 / PCR5 for a TPM,
 * RTMR1 for CCEL (TDVF maps PCR 1..7 to RTMR0, 4 to RTMR1, 8..15 to RTMR2). */
static void derive(const atls_evlog *log, const atls_evlog_event *ev, int reg, int covered,
                   json_t *o, struct derived *d)
{
    int ccel = log->kind == ATLS_EVLOG_CCEL;
    atls_evlog_variable v;
    char text[MAX_TEXT + 1];
    if (ev->type == ATLS_EV_EFI_VARIABLE_DRIVER_CONFIG && covered &&
        atls_evlog_parse_variable(ev->data, &v) &&
        atls_evlog_variable_is(&v, efi_global_variable, "SecureBoot")) {
        size_t n = atls_cursor_remaining(&v.data);
        /* an absent variable is measured with no data: Secure Boot is off */
        if (n == 0 || (n == 1 && atls_cursor_data(&v.data)[0] <= 1)) {
            d->secure_boot = n == 1 && atls_cursor_data(&v.data)[0] == 1;
        }
    }
    if (ev->type == ATLS_EV_EFI_ACTION && covered &&
        atls_evlog_event_text(ev->data, text, sizeof(text)) > 0 &&
        strcmp(text, "Exit Boot Services Invocation") == 0) {
        d->exit_boot_services = 1;
    }
    if (ev->type == ATLS_EV_EFI_BOOT_SERVICES_APPLICATION && reg == (ccel ? 1 : 4) &&
        !d->exit_boot_services) {
        json_t *digests = json_object_get(o, "digests");
        if (digests != NULL && json_array_append(d->apps, digests) != 0) {
            d->apps = NULL; /* reported as out of memory by the caller */
        }
    }
    /* GRUB measures the kernel command line into PCR 8, in a TD through the CC measurement
     * protocol into PCR 8's register, RTMR2 */
    if (ev->type == ATLS_EV_IPL && covered && (!ccel || reg == 2)) {
        const char *prefix = atls_evlog_grub_prefix(ev->data);
        const char *t = json_string_value(json_object_get(o, "text"));
        if (t != NULL && prefix != NULL &&
            (strcmp(prefix, "kernel_cmdline: ") == 0 ||
             strcmp(prefix, "grub_kernel_cmdline ") == 0)) {
            d->cmdline = t + strlen(prefix);
        } else if (t != NULL && prefix == NULL && reg == 12) {
            d->cmdline = t; /* systemd-stub: the command line in PCR 12 */
        }
    }
}

static const char *kind_name(atls_evlog_kind k)
{
    return k == ATLS_EVLOG_TPM ? "tcg" : k == ATLS_EVLOG_CCEL ? "ccel" : "ima";
}

static const char *format_name(atls_evlog_format f)
{
    return f == ATLS_EVLOG_FORMAT_AGILE ? "crypto-agile"
           : f == ATLS_EVLOG_FORMAT_SHA1 ? "sha1" : "ima";
}

static atls_error build(const atls_evlog *log, uint32_t covered_regs, json_t *c,
                        struct derived *d)
{
    ATLS_GUARD(atls_claims_set_str(c, "kind", kind_name(log->kind)));
    ATLS_GUARD(atls_claims_set_str(c, "format", format_name(log->format)));
    json_t *banks = json_array(), *events = json_array();
    ATLS_GUARD(set_new(c, "banks", banks));
    ATLS_GUARD(set_new(c, "events", events));
    for (size_t b = 0; b < log->num_banks; b++) {
        const char *name = atls_tcg_hash_name(log->banks[b].alg);
        if (name != NULL) {
            ATLS_GUARD(append_new(banks, json_string(name)));
        }
    }
    size_t uncovered = 0, no_action = 0;
    for (size_t i = 0; i < log->num_events; i++) {
        const atls_evlog_event *ev = &log->events[i];
        int reg = atls_evlog_event_register(log, ev);
        if (reg < 0) {
            no_action++;
            continue;
        }
        if (reg >= 32 || (covered_regs & (1u << reg)) == 0) {
            uncovered++;
            continue;
        }
        json_t *o = json_object();
        ATLS_GUARD(append_new(events, o));
        if (log->kind == ATLS_EVLOG_IMA) {
            ATLS_GUARD(ima_event_claim(log, i, o));
            continue;
        }
        int data_covered = atls_evlog_event_data_covered(log, ev);
        ATLS_GUARD(firmware_event_claim(log, ev, reg, data_covered, o));
        derive(log, ev, reg, data_covered, o, d);
        ATLS_ENSURE(d->apps != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    ATLS_GUARD(atls_claims_set_int(c, "uncovered_events", (int64_t)uncovered));
    if (log->kind != ATLS_EVLOG_IMA) {
        ATLS_GUARD(atls_claims_set_int(c, "no_action_events", (int64_t)no_action));
    }
    if (log->has_startup_locality) {
        ATLS_GUARD(atls_claims_set_int(c, "startup_locality", log->startup_locality));
    }
    return ATLS_OK;
}

atls_error atls_evlog_claims(const atls_evlog *log, uint32_t covered, json_t **out)
{
    ATLS_ENSURE(log != NULL && out != NULL, ATLS_ERR_USAGE, "claims: missing argument");
    struct derived d = {.secure_boot = -1, .apps = json_array()};
    json_t *c = json_object();
    atls_error rc = c != NULL && d.apps != NULL
                        ? build(log, covered, c, &d)
                        : atls_error_raise(ATLS_ERR_INTERNAL_ALLOC, __FILE__, __LINE__,
                                           "out of memory");
    if (rc == ATLS_OK && log->kind != ATLS_EVLOG_IMA) {
        if (d.secure_boot >= 0) {
            rc = atls_claims_set_bool(c, "secure_boot", d.secure_boot);
        }
        if (rc == ATLS_OK) {
            rc = set_new(c, "boot_applications", json_incref(d.apps));
        }
        if (rc == ATLS_OK && d.cmdline != NULL) {
            rc = atls_claims_set_str(c, "kernel_cmdline", d.cmdline);
        }
    }
    json_decref(d.apps);
    if (rc != ATLS_OK) {
        json_decref(c);
        return rc;
    }
    *out = c;
    return ATLS_OK;
}
