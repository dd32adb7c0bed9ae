/* policy.c: loading and checking appraisal policies (atls/policy.h). */
#include <atls/policy.h>

#include "appraisal/policy/policy_section.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/result.h"
#include "evidence/core/plugin.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct atls_policy {
    json_t *doc;
    int64_t max_age;
    char id[160];
};

void atls_policy_free(atls_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    json_decref(policy->doc);
    free(policy);
}

static atls_error check_document(const json_t *doc, const char *origin, int64_t *max_age)
{
    ATLS_ENSURE(json_is_object(doc), ATLS_ERR_POLICY_INVALID,
                "policy %s: the document must be a JSON object", origin);
    const json_t *version = json_object_get(doc, "version");
    ATLS_ENSURE(json_is_integer(version) && json_integer_value(version) == ATLS_POLICY_VERSION,
                ATLS_ERR_POLICY_INVALID, "policy %s: \"version\" must be %d", origin,
                ATLS_POLICY_VERSION);
    *max_age = 0;
    const char *key;
    json_t *value;
    size_t sections = 0;
    json_object_foreach((json_t *)doc, key, value) {
        if (strcmp(key, "version") == 0) {
            continue;
        }
        if (strcmp(key, "max_age_seconds") == 0) {
            ATLS_ENSURE(json_is_integer(value) && json_integer_value(value) > 0,
                        ATLS_ERR_POLICY_INVALID,
                        "policy %s: \"max_age_seconds\" must be a positive integer", origin);
            *max_age = json_integer_value(value);
            continue;
        }
        const atls_verifier_ops *ops = atls_verifier_by_name(key);
        ATLS_ENSURE(ops != NULL, ATLS_ERR_POLICY_INVALID,
                    "policy %s: unknown key \"%s\" (not an evidence type atls knows)", origin,
                    key);
        ATLS_ENSURE(json_is_object(value), ATLS_ERR_POLICY_INVALID,
                    "policy %s: section \"%s\" must be an object", origin, key);
        atls_error rc = ops->check_policy(value);
        if (rc != ATLS_OK) {
            /* keep the verifier's detail, prefixed with where it came from */
            char inner[400];
            snprintf(inner, sizeof(inner), "%s", atls_error_message());
            ATLS_RAISE(ATLS_ERR_POLICY_INVALID, "policy %s: section \"%s\": %s", origin, key,
                       inner);
        }
        sections++;
    }
    ATLS_ENSURE(sections > 0, ATLS_ERR_POLICY_INVALID,
                "policy %s: no evidence section: the policy would accept nothing", origin);
    return ATLS_OK;
}

atls_error atls_policy_parse(const char *text, size_t len, const char *origin, atls_policy **out)
{
    ATLS_ENSURE(text != NULL && out != NULL, ATLS_ERR_USAGE, "policy: no input");
    if (origin == NULL) {
        origin = "(memory)";
    }
    ATLS_ENSURE(len <= ATLS_POLICY_MAX_FILE, ATLS_ERR_POLICY_INVALID,
                "policy %s: larger than %u bytes", origin, ATLS_POLICY_MAX_FILE);
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    ATLS_ENSURE(doc != NULL, ATLS_ERR_POLICY_INVALID, "policy %s: line %d column %d: %s",
                origin, jerr.line, jerr.column, jerr.text);
    atls_policy *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        json_decref(doc);
        ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    }
    p->doc = doc;
    atls_error rc = check_document(doc, origin, &p->max_age);
    if (rc != ATLS_OK) {
        atls_policy_free(p);
        return rc;
    }
    /* id: origin + first 8 bytes of SHA-256 of the document as given */
    uint8_t md[32];
    char hex[17];
    if (EVP_Digest(text, len, md, NULL, EVP_sha256(), NULL) != 1 ||
        atls_hex_encode(hex, sizeof(hex), md, 8) != ATLS_OK) {
        hex[0] = '\0';
    }
    const char *base = strrchr(origin, '/');
    snprintf(p->id, sizeof(p->id), "atls-policy:%s#%s", base ? base + 1 : origin, hex);
    *out = p;
    return ATLS_OK;
}

atls_error atls_policy_load(const char *path, atls_policy **out)
{
    uint8_t *text = NULL;
    size_t len = 0;
    ATLS_GUARD(atls_file_read(path, ATLS_POLICY_MAX_FILE, &text, &len));
    atls_error rc = atls_policy_parse((const char *)text, len, path, out);
    free(text);
    return rc;
}

const json_t *atls_policy_get0_section(const atls_policy *policy, const char *name)
{
    const json_t *s = json_object_get(policy->doc, name);
    return json_is_object(s) ? s : NULL;
}

int64_t atls_policy_max_age(const atls_policy *policy)
{
    return policy->max_age;
}

const char *atls_policy_id(const atls_policy *policy)
{
    return policy->id;
}
