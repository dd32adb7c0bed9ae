/* world.c: the comparison attack lab's world (world.h). */
#include "world.h"

#include "check.h"
#include "evidence/tpm2/tpm2.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    int ok = in != NULL && out != NULL;
    char buf[4096];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
        ok = fwrite(buf, 1, n, out) == n;
    }
    if (in != NULL) {
        fclose(in);
    }
    if (out != NULL && fclose(out) != 0) {
        ok = 0;
    }
    return ok ? 0 : -1;
}

static int sim_attester(world *w, const char *key_path, const char *meas, int reload, void **st)
{
    char k[400], m[400];
    snprintf(k, sizeof(k), "key=%s", key_path);
    snprintf(m, sizeof(m), "measurements=%s", meas);
    const char *config[] = {k, m, reload ? "reload_measurements=1" : NULL, NULL};
    return w->att->create(config, st) == ATLS_OK ? 0 : -1;
}

static int make_attesters(world *w)
{
    w->att = atls_attester_ops_by_name(w->kind);
    if (w->att == NULL) {
        return -1;
    }
    if (strcmp(w->kind, "sim") == 0) {
        /* S1 reads its measurements file for every Evidence (so its state can change);
         * S2 runs the same image under another attestation key */
        snprintf(w->meas_path, sizeof(w->meas_path), "%s/s1-measurements.json", w->F.dir);
        snprintf(w->sim2_key_path, sizeof(w->sim2_key_path), "%s/sim2.key", w->F.dir);
        EVP_PKEY *k2 = EVP_EC_gen("P-256");
        FILE *fp = fopen(w->sim2_key_path, "w");
        int ok = k2 != NULL && fp != NULL && PEM_write_PrivateKey(fp, k2, NULL, NULL, 0, NULL, NULL);
        if (fp != NULL) {
            fclose(fp);
        }
        EVP_PKEY_free(k2);
        if (!ok || copy_file(w->F.meas_path, w->meas_path) != 0 ||
            sim_attester(w, w->F.sim_key_path, w->meas_path, 1, &w->att1) != 0 ||
            sim_attester(w, w->sim2_key_path, w->F.meas_path, 0, &w->att2) != 0) {
            return -1;
        }
        return 0;
    }
    int rc = fixture_attester(&w->F, "tpm2");
    if (rc != 0) {
        return rc;
    }
    w->att1 = w->F.att_state;
    rc = test_swtpm_start(&w->tpm_b);
    if (rc != 0) {
        return rc;
    }
    char tcti[160];
    snprintf(tcti, sizeof(tcti), "tcti=%s", w->tpm_b.tcti);
    const char *config[] = {tcti, NULL};
    return w->att->create(config, &w->att2) == ATLS_OK ? 0 : -1;
}

/* key_id: an honest RA-only handshake with |state|, appraised without policy: the appraisal
 * (kept in *r) names the attestation key. */
static int appraise_once(world *w, void *state, EVP_PKEY *key, X509 *cert, intra_lab_result *r)
{
    atls_intra_insecure_config s = intra_server_cfg(w, ATLS_INTRA_INSECURE_RA_ONLY,
                                                    ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, state);
    atls_intra_insecure_config c = intra_client_cfg(w, ATLS_INTRA_INSECURE_RA_ONLY,
                                                    ATLS_INTRA_INSECURE_BINDER_NONCE_KEY, NULL);
    c.accept_warning = 1;
    intra_site site;
    if (intra_site_start(&site, &s, cert, key) != 0) {
        return -1;
    }
    SSL_CTX *cctx = intra_lab_client_ctx(&c);
    intra_lab_connect(cctx, site.srv.lb.port, NULL, r);
    SSL_CTX_free(cctx);
    intra_site_stop(&site);
    return r->attested && r->appraisal.num_results == 1 ? 0 : -1;
}

static int make_policies(world *w)
{
    intra_lab_result r1, r2;
    memset(&r1, 0, sizeof(r1));
    memset(&r2, 0, sizeof(r2));
    int ok = appraise_once(w, w->att1, w->ta1_key, w->ta1_cert, &r1) == 0 &&
             appraise_once(w, w->att2, w->ta2_key, w->ta2_cert, &r2) == 0;
    if (ok) {
        memcpy(w->key1, r1.appraisal.results[0].key_id, 65);
        memcpy(w->key2, r2.appraisal.results[0].key_id, 65);
        w->pinned = intra_lab_tofu_policy(&r1.appraisal, &w->pinned_text);
        ok = w->pinned != NULL && strcmp(w->key1, w->key2) != 0;
    }
    intra_lab_result_cleanup(&r1);
    intra_lab_result_cleanup(&r2);
    if (!ok) {
        return -1;
    }
    /* the fleet: the same reference values, both machines' attestation keys */
    json_t *doc = json_loads(w->pinned_text, 0, NULL);
    json_t *section = json_object_get(doc, w->kind);
    json_t *keys = json_object_get(section, strcmp(w->kind, "tpm2") == 0 ? "ak_keys" : "keys");
    ok = json_is_array(keys) && json_array_append_new(keys, json_string(w->key2)) == 0;
    w->fleet_text = ok ? json_dumps(doc, JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (w->fleet_text == NULL ||
        atls_policy_parse(w->fleet_text, strlen(w->fleet_text), "fleet", &w->fleet) != ATLS_OK) {
        return -1;
    }
    return 0;
}

/* the attester of this run, for the report lines */
static const char *report_kind = "?";

int world_init(world *w, const char *kind)
{
    memset(w, 0, sizeof(*w));
    w->kind = kind;
    report_kind = kind;
    if (strcmp(kind, "sim") != 0 && strcmp(kind, "tpm2") != 0) {
        fprintf(stderr, "world: attester must be sim or tpm2\n");
        return -1;
    }
    if (fixture_init(&w->F) != 0) {
        return -1;
    }
    int rc = make_attesters(w);
    if (rc != 0) {
        return rc == 77 ? 77 : -1;
    }
    if (atls_intra_insecure_throwaway_new(&w->ta1_key, &w->ta1_cert) != ATLS_OK ||
        atls_intra_insecure_throwaway_new(&w->ta2_key, &w->ta2_cert) != ATLS_OK ||
        testcert_leaf_new(w->F.ca, TESTCERT_P256, "other.test", &w->s2_leaf) != ATLS_OK ||
        testcert_leaf_new(w->F.ca, TESTCERT_P256, "server.test", &w->a_leaf) != ATLS_OK ||
        make_policies(w) != 0) {
        fprintf(stderr, "world: setup failed: %s\n", atls_error_detail());
        return -1;
    }
    return 0;
}

void world_cleanup(world *w)
{
    if (w->att != NULL) {
        if (w->att2 != NULL) {
            w->att->destroy(w->att2);
        }
        if (strcmp(w->kind, "sim") == 0 && w->att1 != NULL) {
            w->att->destroy(w->att1); /* tpm2: att1 is the fixture's */
        }
    }
    test_swtpm_stop(&w->tpm_b);
    EVP_PKEY_free(w->ta1_key), EVP_PKEY_free(w->ta2_key);
    X509_free(w->ta1_cert), X509_free(w->ta2_cert);
    testcert_free(w->s2_leaf), testcert_free(w->a_leaf);
    atls_policy_free(w->fleet), atls_policy_free(w->pinned);
    free(w->fleet_text), free(w->pinned_text);
    fixture_cleanup(&w->F);
}

int world_change_state(world *w)
{
    if (strcmp(w->kind, "tpm2") == 0) {
        uint8_t m[32];
        memset(m, 0xee, sizeof(m));
        return atls_tpm2_pcr_extend(w->F.tpm.tcti, 23, m) == ATLS_OK ? 0 : -1;
    }
    FILE *fp = fopen(w->meas_path, "w");
    if (fp == NULL) {
        return -1;
    }
    fputs("{\"firmware\": \"1111111111111111111111111111111111111111111111111111111111111111\",\n"
          " \"kernel\": \"6666666666666666666666666666666666666666666666666666666666666666\"}\n",
          fp);
    return fclose(fp) == 0 ? 0 : -1;
}

int world_restore_state(world *w)
{
    if (strcmp(w->kind, "tpm2") == 0) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "TPM2TOOLS_TCTI='%s' tpm2_pcrreset 23 >/dev/null 2>&1",
                 w->F.tpm.tcti);
        return system(cmd) == 0 ? 0 : -1;
    }
    return copy_file(w->F.meas_path, w->meas_path);
}

void expect(const char *scenario, const char *variant, const char *design, const outcome *o,
            int should_succeed)
{
    int succeeded = o->attested && o->leaked;
    const char *result = succeeded ? "attack succeeds" : "rejected";
    printf("[%s/%s] %-9s %s: %s\n", scenario, variant, design, result, o->detail);
    if (succeeded != should_succeed) {
        printf("  UNEXPECTED: the %s was expected to be %s\n", design,
               should_succeed ? "defeated by this attack (the demonstration must stay honest)"
                              : "safe from this attack");
    }
    CHECK(succeeded == should_succeed);
    /* a refusal must name its reason */
    CHECK(succeeded || o->detail[0] != '\0');
    const char *path = getenv("ATLS_ATTACK_REPORT");
    if (path != NULL && path[0] != '\0') {
        FILE *fp = fopen(path, "a");
        if (fp != NULL) {
            fprintf(fp, "%s|%s|%s|%s|%s|%s\n", report_kind, scenario, variant, design, result,
                    o->detail);
            fclose(fp);
        }
    }
}

atls_intra_insecure_config intra_server_cfg(world *w, atls_intra_insecure_mode mode,
                                            atls_intra_insecure_binder binder, void *state)
{
    return intra_lab_server_config(mode, binder, w->att, state);
}

atls_intra_insecure_config intra_client_cfg(world *w, atls_intra_insecure_mode mode,
                                            atls_intra_insecure_binder binder,
                                            const atls_policy *policy)
{
    return intra_lab_client_config(mode, binder, w->att, policy, w->F.store);
}

int intra_site_start(intra_site *s, const atls_intra_insecure_config *cfg, X509 *cert,
                     EVP_PKEY *key)
{
    memset(s, 0, sizeof(*s));
    s->ctx = intra_lab_server_ctx(cfg, cert, key);
    if (s->ctx == NULL || intra_lab_server_start(&s->srv, s->ctx) != 0) {
        SSL_CTX_free(s->ctx);
        s->ctx = NULL;
        return -1;
    }
    return 0;
}

void intra_site_stop(intra_site *s)
{
    if (s->ctx != NULL) {
        intra_lab_server_stop(&s->srv);
        SSL_CTX_free(s->ctx);
        s->ctx = NULL;
    }
}

void intra_attempt(world *w, const atls_intra_insecure_config *ccfg, int port,
                   intra_lab_server *wrong, const char *secret, outcome *o, intra_lab_result *r)
{
    (void)w;
    memset(o, 0, sizeof(*o));
    int before = wrong != NULL ? intra_lab_server_secrets(wrong) : 0;
    SSL_CTX *ctx = intra_lab_client_ctx(ccfg);
    intra_lab_result res;
    intra_lab_connect(ctx, port, secret, &res);
    SSL_CTX_free(ctx);
    o->attested = res.handshake_ok && res.attested;
    o->leaked = wrong != NULL && intra_lab_server_read_since(wrong, before, secret);
    o->error = res.error;
    if (o->attested && o->leaked) {
        snprintf(o->detail, sizeof(o->detail),
                 "client attested the peer (%s); the secret was read by the wrong party",
                 res.appraisal.status == ATLS_TIER_AFFIRMING ? "affirming" : "warning");
    } else if (o->attested) {
        snprintf(o->detail, sizeof(o->detail), "client attested the peer; secret not leaked");
    } else {
        snprintf(o->detail, sizeof(o->detail), "TLS alert %s (%d); client's own reason: %s (%s)",
                 intra_lab_alert_name(res.alert_sent >= 0 ? res.alert_sent : res.alert_received),
                 res.alert_sent >= 0 ? res.alert_sent : res.alert_received, res.reason,
                 atls_strerror(res.error));
    }
    if (r != NULL) {
        *r = res;
    } else {
        intra_lab_result_cleanup(&res);
    }
}
