/* cli_output.c: printing appraisals (EAR JSON, signed EAR JWT, human summary) and turning an
 * appraisal into a strict policy (cli.h). */
#include "cli.h"

#include "codec/ear/ear.h"

#include <stdlib.h>
#include <string.h>

/* print_claims prints |v| flattened as "  path: value" lines; stops after *left lines when
 * *left was not 0 at the start (limit). */
static void print_claims(FILE *fp, const char *prefix, const json_t *v, size_t *left, int limit)
{
    if (limit && *left == 0) {
        return;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child) {
            char path[256];
            snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", k);
            print_claims(fp, path, child, left, limit);
        }
        return;
    }
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (text != NULL) {
        /* strings without their quotes: digests read better bare */
        const char *shown = json_is_string(v) ? json_string_value(v) : text;
        fprintf(fp, "  %s: %s\n", prefix, shown);
        free(text);
    }
    if (limit) {
        (*left)--;
    }
}

static void print_summary(FILE *fp, const atls_appraisal *a, size_t max_claims)
{
    fprintf(fp, "status: %s\n", atls_tier_name(a->status));
    if (a->reason[0] != '\0') {
        fprintf(fp, "reason: %s\n", a->reason);
    }
    for (size_t i = 0; i < a->num_results; i++) {
        const atls_evidence_result *r = &a->results[i];
        fprintf(fp, "evidence: %s\n", r->type != NULL ? r->type : "?");
        fprintf(fp, "attestation key id: %s\n", r->key_id);
        fprintf(fp, "challenge checked: %s\n", r->challenge_checked ? "yes" : "no");
        if (r->is_sim) {
            fprintf(fp, "NOTE: SIMULATED, not real attestation (sim attester)\n");
        }
        if (r->claims != NULL) {
            fprintf(fp, "claims%s:\n", max_claims ? " (some; --json prints all)" : "");
            size_t left = max_claims;
            print_claims(fp, "", r->claims, &left, max_claims != 0);
        }
    }
}

int cli_print_appraisal(FILE *fp, const atls_appraisal *a, int json, size_t max_claims,
                        EVP_PKEY *ear_key)
{
    if (ear_key != NULL) {
        if (atls_appraisal_get0_ear_json(a) == NULL) {
            cli_error("no EAR to sign");
            return CLI_EXIT_FAIL;
        }
        char *jwt = NULL;
        if (atls_appraisal_ear_jwt(a, ear_key, &jwt) != ATLS_OK) {
            return cli_fail_atls(CLI_EXIT_USAGE, "--ear-key");
        }
        fprintf(fp, "%s\n", jwt);
        free(jwt);
        return 0;
    }
    if (json) {
        if (atls_appraisal_get0_ear_json(a) == NULL) {
            /* failures before any verifier ran have no EAR: say so in JSON too */
            json_t *o = json_pack("{s:s,s:{s:s}}", "ear_status", atls_tier_name(a->status),
                                  "ear_verifier_claims", "failure", a->reason);
            char *t = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
            if (t != NULL) {
                fprintf(fp, "%s\n", t);
            }
            free(t);
            json_decref(o);
            return 0;
        }
        char *text = NULL;
        if (atls_appraisal_ear_json(a, 1, &text) != ATLS_OK) {
            return cli_fail_atls(CLI_EXIT_USAGE, "EAR");
        }
        fprintf(fp, "%s\n", text);
        free(text);
        return 0;
    }
    print_summary(fp, a, max_claims);
    return 0;
}

int cli_policy_from_appraisal(const atls_appraisal *a, int require_challenge, char **out)
{
    json_t *doc = json_pack("{s:i}", "version", ATLS_POLICY_VERSION);
    if (doc == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < a->num_results; i++) {
        const atls_evidence_result *r = &a->results[i];
        const atls_verifier_ops *ops = atls_verifier_by_name(r->type);
        json_t *section = NULL;
        if (ops == NULL || ops->policy_from_result == NULL) {
            json_decref(doc);
            cli_error("no policy can be written for evidence type %s", r->type);
            return CLI_EXIT_FAIL;
        }
        /* a wrapper's (tsm) result is appraised by the section of what it wraps */
        const char *key = r->policy_type != NULL ? r->policy_type : r->type;
        if (json_object_get(doc, key) != NULL) {
            json_decref(doc);
            cli_error("the peer sent two pieces of %s evidence: write this policy by hand", key);
            return CLI_EXIT_FAIL;
        }
        if (ops->policy_from_result(r, &section) != ATLS_OK) {
            json_decref(doc);
            return cli_fail_atls(CLI_EXIT_FAIL, "policy");
        }
        if (require_challenge && json_object_get(section, "require_challenge") != NULL) {
            json_object_set_new(section, "require_challenge", json_true());
        }
        json_object_set_new(doc, key, section);
    }
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    if (text == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    /* the output must be accepted by --policy as is */
    atls_policy *check = NULL;
    if (atls_policy_parse(text, strlen(text), "policy init", &check) != ATLS_OK) {
        free(text);
        return cli_fail_atls(CLI_EXIT_FAIL, "generated policy does not check");
    }
    /* the policy has the strict values (every allow_* false, UpToDate only): say so when it
     * refuses what was seen now, so the user relaxes it explicitly or fixes the inputs */
    for (size_t i = 0; i < a->num_results; i++) {
        const atls_evidence_result *r = &a->results[i];
        const char *key = r->policy_type != NULL ? r->policy_type : r->type;
        const atls_verifier_ops *ops = atls_verifier_by_name(key);
        const json_t *section = atls_policy_get0_section(check, key);
        atls_trust_vector tv;
        memset(&tv, 0, sizeof(tv));
        if (ops != NULL && section != NULL && ops->appraise(section, r, &tv) != ATLS_OK) {
            cli_error("note: the strict policy written refuses the %s Evidence seen now: %s "
                      "(relax that key in the policy only if this is intended)",
                      key, atls_error_message());
        }
    }
    atls_policy_free(check);
    *out = text;
    return 0;
}
