/* eventlog_policy.c: policy over events (eventlog.h; docs/POLICY.md "Event logs"): the
 * "eventlog" (firmware log) and "ima" objects of a verifier's policy section, checked
 * against the "eventlogs" claims of atls_evlog_verify. Every event a policy looks at was
 * covered by a quoted register; events that were not make an IMA policy fail, and an event
 * the policy cannot judge (unknown type or template) is rejected unless the policy says
 * otherwise: nothing is accepted for want of a rule. */
#include "evidence/eventlog/eventlog_internal.h"

#include "base/file.h"
#include "evidence/core/claims.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ALLOWLIST_FILE (64u * 1024u * 1024u)

/* ---- shape ---- */

static atls_error check_string_list(const json_t *v, const char *what)
{
    ATLS_ENSURE(json_is_array(v), ATLS_ERR_POLICY_INVALID, "%s is not an array", what);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        ATLS_ENSURE(json_is_string(e), ATLS_ERR_POLICY_INVALID, "%s[%zu] is not a string", what,
                    i);
    }
    return ATLS_OK;
}

static atls_error check_regexes(const json_t *v, const char *what)
{
    ATLS_GUARD(check_string_list(v, what));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        regex_t re;
        int err = regcomp(&re, json_string_value(e), REG_EXTENDED | REG_NOSUB);
        ATLS_ENSURE(err == 0, ATLS_ERR_POLICY_INVALID, "%s[%zu] is not a POSIX extended regex",
                    what, i);
        regfree(&re);
    }
    return ATLS_OK;
}

/* an allow list: { path: [ "<hash>:<hex>" or "<hex>", ... ] } */
static atls_error check_allowlist(const json_t *v, const char *what)
{
    ATLS_ENSURE(json_is_object(v), ATLS_ERR_POLICY_INVALID, "%s is not an object", what);
    const char *path;
    json_t *list;
    json_object_foreach((json_t *)v, path, list) {
        ATLS_GUARD(check_string_list(list, what));
    }
    return ATLS_OK;
}

atls_error atls_evlog_policy_check(const json_t *eventlog, const json_t *ima)
{
    if (eventlog != NULL) {
        static const char *const keys[] = {"secure_boot", "boot_applications",
                                           "kernel_cmdlines", "allow_unknown_events", NULL};
        ATLS_ENSURE(json_is_object(eventlog), ATLS_ERR_POLICY_INVALID,
                    "eventlog is not an object");
        ATLS_GUARD(atls_policy_check_keys(eventlog, keys));
        ATLS_GUARD(atls_policy_check_bool(eventlog, "secure_boot"));
        ATLS_GUARD(atls_policy_check_bool(eventlog, "allow_unknown_events"));
        const json_t *apps = json_object_get(eventlog, "boot_applications");
        if (apps != NULL) {
            ATLS_ENSURE(json_is_object(apps) && json_object_size(apps) > 0,
                        ATLS_ERR_POLICY_INVALID,
                        "eventlog.boot_applications is not { bank: [digest, ...] }");
            const char *bank;
            json_t *list;
            json_object_foreach((json_t *)apps, bank, list) {
                uint16_t alg = atls_tcg_hash_by_name(bank);
                ATLS_ENSURE(alg != 0, ATLS_ERR_POLICY_INVALID,
                            "eventlog.boot_applications: unknown bank '%s'", bank);
                ATLS_GUARD(atls_policy_check_hex_list(list, atls_tcg_hash_size(alg),
                                                      "eventlog.boot_applications"));
            }
        }
        const json_t *cmdlines = json_object_get(eventlog, "kernel_cmdlines");
        if (cmdlines != NULL) {
            ATLS_GUARD(check_string_list(cmdlines, "eventlog.kernel_cmdlines"));
        }
    }
    if (ima != NULL) {
        static const char *const keys[] = {"allowlist", "allowlist_file", "exclude",
                                           "allow_violations", "trusted_keys", NULL};
        ATLS_ENSURE(json_is_object(ima), ATLS_ERR_POLICY_INVALID, "ima is not an object");
        ATLS_GUARD(atls_policy_check_keys(ima, keys));
        ATLS_GUARD(atls_policy_check_bool(ima, "allow_violations"));
        const json_t *list = json_object_get(ima, "allowlist");
        const json_t *file = json_object_get(ima, "allowlist_file");
        const json_t *trusted = json_object_get(ima, "trusted_keys");
        ATLS_ENSURE(list != NULL || file != NULL || trusted != NULL, ATLS_ERR_POLICY_INVALID,
                    "ima needs an allowlist, an allowlist_file or trusted_keys");
        if (trusted != NULL) {
            /* loaded once here so a bad key or file fails the policy, and at every appraisal
             * (a key file may be replaced, as the allow-list file) */
            atls_ima_keys *k = NULL;
            ATLS_GUARD(atls_ima_keys_load(trusted, &k));
            atls_ima_keys_free(k);
        }
        if (list != NULL) {
            ATLS_GUARD(check_allowlist(list, "ima.allowlist"));
        }
        ATLS_ENSURE(file == NULL || json_is_string(file), ATLS_ERR_POLICY_INVALID,
                    "ima.allowlist_file is not a string");
        const json_t *exclude = json_object_get(ima, "exclude");
        if (exclude != NULL) {
            ATLS_GUARD(check_regexes(exclude, "ima.exclude"));
        }
    }
    return ATLS_OK;
}

/* ---- the firmware log ---- */

static int hex_listed(const json_t *list, const char *hex)
{
    return hex != NULL && atls_policy_hex_in_list(list, hex);
}

static atls_error appraise_firmware(const json_t *pol, const json_t *tcg)
{
    ATLS_ENSURE(tcg != NULL, ATLS_ERR_POLICY_MISMATCH,
                "event policy: no firmware event log came with the Evidence");
    if (!atls_policy_get_bool(pol, "allow_unknown_events", 0)) {
        size_t i;
        json_t *ev;
        json_array_foreach(json_object_get(tcg, "events"), i, ev) {
            ATLS_ENSURE(!json_is_true(json_object_get(ev, "unknown_type")),
                        ATLS_ERR_POLICY_MISMATCH,
                        "event policy: firmware event %zu has the unknown type %s", i,
                        json_string_value(json_object_get(ev, "type")));
        }
    }
    const json_t *sb = json_object_get(pol, "secure_boot");
    if (sb != NULL) {
        const json_t *have = json_object_get(tcg, "secure_boot");
        ATLS_ENSURE(have != NULL, ATLS_ERR_POLICY_MISMATCH,
                    "event policy: the Secure Boot state is not covered by a quoted PCR");
        ATLS_ENSURE(json_is_true(have) == json_is_true(sb), ATLS_ERR_POLICY_MISMATCH,
                    "event policy: Secure Boot is %s", json_is_true(have) ? "on" : "off");
    }
    const json_t *apps = json_object_get(pol, "boot_applications");
    if (apps != NULL) {
        const json_t *have = json_object_get(tcg, "boot_applications");
        ATLS_ENSURE(json_array_size(have) > 0, ATLS_ERR_POLICY_MISMATCH,
                    "event policy: no boot application is covered by a quoted PCR");
        size_t i;
        json_t *app;
        json_array_foreach(have, i, app) {
            const char *bank;
            json_t *list;
            json_object_foreach((json_t *)apps, bank, list) {
                const char *d = json_string_value(json_object_get(app, bank));
                ATLS_ENSURE(hex_listed(list, d), ATLS_ERR_POLICY_MISMATCH,
                            "event policy: boot application %zu (%s %s) is not allowed", i,
                            bank, d != NULL ? d : "not logged");
            }
        }
    }
    const json_t *cmdlines = json_object_get(pol, "kernel_cmdlines");
    if (cmdlines != NULL) {
        const char *have = json_string_value(json_object_get(tcg, "kernel_cmdline"));
        ATLS_ENSURE(have != NULL, ATLS_ERR_POLICY_MISMATCH,
                    "event policy: no kernel command line is covered by a quoted PCR");
        size_t i;
        json_t *c;
        json_array_foreach(cmdlines, i, c) {
            if (strcmp(json_string_value(c), have) == 0) {
                return ATLS_OK;
            }
        }
        ATLS_RAISE(ATLS_ERR_POLICY_MISMATCH,
                   "event policy: kernel command line \"%.200s\" is not allowed", have);
    }
    return ATLS_OK;
}

/* ---- IMA ---- */

/* digest_listed: |claim| is "<hash>:<hex>"; an allow-list entry matches as "<hash>:<hex>" or
 * as the bare hex (Keylime's runtime policies list bare hex). */
static int digest_listed(const json_t *list, const char *claim)
{
    const char *colon = strchr(claim, ':');
    const char *hex = colon != NULL ? colon + 1 : claim;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *s = json_string_value(e);
        if (strcasecmp(s, claim) == 0 || strcasecmp(s, hex) == 0) {
            return 1;
        }
    }
    return 0;
}

struct ima_rules {
    const json_t *inline_list;
    json_t *file_doc;       /* the allowlist file, owned */
    const json_t *file_list;
    regex_t *exclude;
    size_t num_exclude;
    atls_ima_keys *keys;    /* trusted_keys, owned; NULL: signatures accept nothing */
};

static void rules_cleanup(struct ima_rules *r)
{
    atls_ima_keys_free(r->keys);
    for (size_t i = 0; i < r->num_exclude; i++) {
        regfree(&r->exclude[i]);
    }
    free(r->exclude);
    json_decref(r->file_doc);
}

static atls_error add_excludes(struct ima_rules *r, const json_t *list, const char *what)
{
    if (list == NULL) {
        return ATLS_OK;
    }
    ATLS_GUARD(check_regexes(list, what));
    regex_t *grown = realloc(r->exclude, (r->num_exclude + json_array_size(list) + 1) *
                                             sizeof(*grown));
    ATLS_ENSURE(grown != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    r->exclude = grown;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        ATLS_ENSURE(regcomp(&r->exclude[r->num_exclude], json_string_value(e),
                            REG_EXTENDED | REG_NOSUB) == 0,
                    ATLS_ERR_POLICY_INVALID, "%s[%zu] is not a regex", what, i);
        r->num_exclude++;
    }
    return ATLS_OK;
}

/* load_rules: the inline allow list, the allow-list file (read at every appraisal, so an edit
 * applies to the next one: Keylime's runtime policy layout {"digests": {path: [hex]},
 * "excludes": [regex]}) and the exclusions. */
static atls_error load_rules(const json_t *pol, struct ima_rules *r)
{
    r->inline_list = json_object_get(pol, "allowlist");
    ATLS_GUARD(add_excludes(r, json_object_get(pol, "exclude"), "ima.exclude"));
    const json_t *trusted = json_object_get(pol, "trusted_keys");
    if (trusted != NULL) {
        ATLS_GUARD(atls_ima_keys_load(trusted, &r->keys));
    }
    const char *path = json_string_value(json_object_get(pol, "allowlist_file"));
    if (path == NULL) {
        return ATLS_OK;
    }
    uint8_t *text = NULL;
    size_t len = 0;
    ATLS_GUARD(atls_file_read(path, MAX_ALLOWLIST_FILE, &text, &len));
    json_error_t jerr;
    r->file_doc = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    ATLS_ENSURE(r->file_doc != NULL, ATLS_ERR_POLICY_INVALID, "IMA allow list %s: line %d: %s",
                path, jerr.line, jerr.text);
    r->file_list = json_object_get(r->file_doc, "digests");
    ATLS_ENSURE(r->file_list != NULL, ATLS_ERR_POLICY_INVALID,
                "IMA allow list %s: no \"digests\" object", path);
    ATLS_GUARD(check_allowlist(r->file_list, "IMA allow list digests"));
    return add_excludes(r, json_object_get(r->file_doc, "excludes"), "IMA allow list excludes");
}

static int excluded(const struct ima_rules *r, const char *path)
{
    for (size_t i = 0; i < r->num_exclude; i++) {
        if (regexec(&r->exclude[i], path, 0, NULL, 0) == 0) {
            return 1;
        }
    }
    return 0;
}

static atls_error appraise_entry(const json_t *pol, const struct ima_rules *r, size_t i,
                                 const json_t *ev)
{
    ATLS_ENSURE(!json_is_true(json_object_get(ev, "unknown_template")), ATLS_ERR_POLICY_MISMATCH,
                "IMA policy: entry %zu has the unknown template %s", i,
                json_string_value(json_object_get(ev, "template")));
    const char *path = json_string_value(json_object_get(ev, "path"));
    const char *digest = json_string_value(json_object_get(ev, "file_digest"));
    ATLS_ENSURE(path != NULL && digest != NULL, ATLS_ERR_POLICY_MISMATCH,
                "IMA policy: entry %zu has no file name or digest", i);
    if (json_is_true(json_object_get(ev, "violation"))) {
        ATLS_ENSURE(atls_policy_get_bool(pol, "allow_violations", 0), ATLS_ERR_POLICY_MISMATCH,
                    "IMA policy: a measurement violation on %.200s (entry %zu)", path, i);
        return ATLS_OK;
    }
    if (excluded(r, path)) {
        return ATLS_OK;
    }
    const json_t *a = r->inline_list != NULL ? json_object_get(r->inline_list, path) : NULL;
    const json_t *b = r->file_list != NULL ? json_object_get(r->file_list, path) : NULL;
    if ((a != NULL && digest_listed(a, digest)) || (b != NULL && digest_listed(b, digest))) {
        return ATLS_OK;
    }
    /* not listed: accepted only when signed by a trusted key (an ima-sig entry) */
    const char *sig = json_string_value(json_object_get(ev, "signature"));
    ATLS_ENSURE(r->keys != NULL, ATLS_ERR_POLICY_MISMATCH,
                "IMA policy: %.200s with digest %s is not in the allow list (entry %zu)", path,
                digest, i);
    ATLS_ENSURE(sig != NULL, ATLS_ERR_POLICY_MISMATCH,
                "IMA policy: %.200s with digest %s is neither in the allow list nor signed "
                "(entry %zu)",
                path, digest, i);
    atls_error rc = atls_ima_sig_check(r->keys, digest, sig);
    if (rc != ATLS_OK) {
        char why[200];
        snprintf(why, sizeof(why), "%s", atls_error_message());
        ATLS_RAISE(rc, "IMA policy: %.200s (entry %zu) is not in the allow list and %s", path,
                   i, why);
    }
    return ATLS_OK;
}

static atls_error appraise_ima(const json_t *pol, const json_t *ima)
{
    ATLS_ENSURE(ima != NULL, ATLS_ERR_POLICY_MISMATCH,
                "IMA policy: no IMA measurement list came with the Evidence");
    ATLS_ENSURE(json_is_true(json_object_get(ima, "complete")), ATLS_ERR_POLICY_UNAPPRAISED,
                "IMA policy: the list is still being delivered (%lld entries so far)",
                (long long)json_integer_value(json_object_get(ima, "entries")));
    json_int_t uncovered = json_integer_value(json_object_get(ima, "uncovered_events"));
    ATLS_ENSURE(uncovered == 0, ATLS_ERR_POLICY_MISMATCH,
                "IMA policy: %lld entries extend a PCR the quote does not cover",
                (long long)uncovered);
    struct ima_rules r;
    memset(&r, 0, sizeof(r));
    atls_error rc = load_rules(pol, &r);
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(ima, "events"), i, ev) {
        if (rc == ATLS_OK) {
            rc = appraise_entry(pol, &r, i, ev);
        }
    }
    rules_cleanup(&r);
    return rc;
}

atls_error atls_evlog_policy_appraise(const json_t *eventlog, const json_t *ima,
                                      const json_t *claims)
{
    const json_t *logs = json_object_get(claims, "eventlogs");
    if (eventlog != NULL) {
        ATLS_GUARD(appraise_firmware(eventlog, json_object_get(logs, "tcg") != NULL
                                                   ? json_object_get(logs, "tcg")
                                                   : json_object_get(logs, "ccel")));
    }
    if (ima != NULL) {
        ATLS_GUARD(appraise_ima(ima, json_object_get(logs, "ima")));
    }
    return ATLS_OK;
}

/* ---- policy init: the events of a known-good log as the policy ---- */

static atls_error firmware_policy(const json_t *tcg, json_t *p)
{
    int ok = 1;
    const json_t *sb = json_object_get(tcg, "secure_boot");
    if (sb != NULL) {
        ok = json_object_set(p, "secure_boot", (json_t *)sb) == 0;
    }
    const json_t *apps = json_object_get(tcg, "boot_applications");
    if (ok && json_array_size(apps) > 0) {
        json_t *by_bank = json_object();
        ok = by_bank != NULL && json_object_set_new(p, "boot_applications", by_bank) == 0;
        size_t i;
        json_t *app;
        json_array_foreach(apps, i, app) {
            const char *bank;
            json_t *d;
            json_object_foreach((json_t *)app, bank, d) {
                json_t *list = json_object_get(by_bank, bank);
                if (list == NULL && ok) {
                    list = json_array();
                    ok = list != NULL && json_object_set_new(by_bank, bank, list) == 0;
                }
                ok = ok && json_array_append(list, d) == 0;
            }
        }
    }
    const json_t *cmdline = json_object_get(tcg, "kernel_cmdline");
    if (ok && cmdline != NULL) {
        json_t *list = json_array();
        ok = list != NULL && json_array_append(list, (json_t *)cmdline) == 0 &&
             json_object_set_new(p, "kernel_cmdlines", list) == 0;
    }
    ATLS_ENSURE(ok, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

static atls_error ima_policy(const json_t *ima, json_t *p)
{
    json_t *list = json_object();
    int ok = list != NULL && json_object_set_new(p, "allowlist", list) == 0;
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(ima, "events"), i, ev) {
        const json_t *path = json_object_get(ev, "path");
        const json_t *digest = json_object_get(ev, "file_digest");
        if (path == NULL || digest == NULL || json_is_true(json_object_get(ev, "violation"))) {
            continue; /* nothing a policy should accept by example */
        }
        json_t *digests = json_object_get(list, json_string_value(path));
        if (digests == NULL && ok) {
            digests = json_array();
            ok = digests != NULL &&
                 json_object_set_new(list, json_string_value(path), digests) == 0;
        }
        if (ok && !digest_listed(digests, json_string_value(digest))) {
            ok = json_array_append(digests, (json_t *)digest) == 0;
        }
    }
    ATLS_ENSURE(ok, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    return ATLS_OK;
}

atls_error atls_evlog_policy_from_claims(const json_t *claims, json_t *section)
{
    const json_t *logs = json_object_get(claims, "eventlogs");
    const json_t *tcg = json_object_get(logs, "tcg");
    const json_t *ima = json_object_get(logs, "ima");
    if (tcg == NULL) {
        tcg = json_object_get(logs, "ccel"); /* a TD's firmware log: the same "eventlog" rules */
    }
    if (tcg != NULL) {
        json_t *p = json_object();
        ATLS_ENSURE(p != NULL && json_object_set_new(section, "eventlog", p) == 0,
                    ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        ATLS_GUARD(firmware_policy(tcg, p));
    }
    if (ima != NULL) {
        json_t *p = json_object();
        ATLS_ENSURE(p != NULL && json_object_set_new(section, "ima", p) == 0,
                    ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        ATLS_GUARD(ima_policy(ima, p));
    }
    return ATLS_OK;
}
