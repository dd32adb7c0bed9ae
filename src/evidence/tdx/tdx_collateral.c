/* tdx_collateral.c: TCB Info and QE Identity collateral (Intel PCS API v4, TDX TCB Info v3,
 * Enclave Identity v2): signature over the exact value span, signing chain to the root,
 * validity window, FMSPC / PCE-ID match, and the TCB status (Intel QVL algorithm as written
 * out in go-tdx-guest testing/testdata/README.md; evidence-formats.md 3.4). */
#include "evidence/tdx/tdx_internal.h"

#include "base/file.h"
#include "base/hex.h"
#include "base/result.h"
#include "evidence/core/verify_cache.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#define COLL ATLS_ERR_EVIDENCE_COLLATERAL
#define COLLATERAL_MAX (1024u * 1024u)

/* parse_time reads "YYYY-MM-DDThh:mm:ssZ" (RFC 3339, UTC, no fraction). */
static int parse_time(const char *s, time_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, se;
    char z = 0, extra = 0;
    if (s == NULL || strlen(s) != 20 ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &y, &mo, &d, &h, &mi, &se, &z, &extra) != 7 ||
        z != 'Z' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *out = timegm(&tm);
    return *out != (time_t)-1;
}

/* hex_field decodes |key| of |o| as exactly |n| bytes (either case). */
ATLS_MUST_CHECK static atls_error hex_field(const json_t *o, const char *key, uint8_t *dst,
                                            size_t n, const char *what)
{
    const char *s = json_string_value(json_object_get(o, key));
    ATLS_ENSURE(s != NULL && strlen(s) == 2 * n, COLL, "TDX %s: \"%s\" is not %zu bytes of hex",
                what, key, n);
    atls_error rc = atls_hex_decode_fixed(s, dst, n);
    ATLS_ENSURE(rc == ATLS_OK, COLL, "TDX %s: \"%s\" is not hex", what, key);
    return ATLS_OK;
}

static json_int_t int_field(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* signed_doc: a collateral file whose |member| value is signed by the TCB signing key. */
typedef struct signed_doc {
    uint8_t *bytes;
    json_t *root;
    const json_t *body; /* root[member] (borrowed) */
} signed_doc;

static void signed_doc_cleanup(signed_doc *d)
{
    json_decref(d->root);
    free(d->bytes);
    memset(d, 0, sizeof(*d));
}

/* ---- verified collateral documents ---------------------------------------------------------
 * The TCB Info and QE Identity are the same files for every appraisal until the next PCS
 * update. Parsing one and checking its signature is a pure function of (signer key, member
 * name, file bytes): a success is remembered in an object cache (verify_cache.h) keyed by
 * SHA-256("tdx signed collateral", signer SPKI, member, file bytes) holding the parsed document
 * (shared read-only by reference count). Failures are never stored; issueDate / nextUpdate are
 * checked against the verification time on every appraisal. */
static void *doc_dup(const void *j)
{
    return json_incref((json_t *)j);
}

static void doc_free(void *j)
{
    json_decref(j);
}

static const atls_vcache_obj_ops doc_ops = {doc_dup, doc_free};
ATLS_VCACHE_DEFINE(doc_cache, 8, &doc_ops);

/* parse_signed parses |bytes| and checks the signature over the exact |member| span. */
ATLS_MUST_CHECK static atls_error parse_signed(const uint8_t *bytes, size_t len, const char *path,
                                               const char *member, X509 *signer, json_t **root)
{
    const uint8_t *span = NULL;
    size_t span_len = 0;
    json_error_t je;
    uint8_t sig[64];
    ATLS_GUARD(atls_tdx_json_member_span(bytes, len, member, &span, &span_len));
    *root = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, &je);
    ATLS_ENSURE(*root != NULL, COLL, "TDX collateral %s: invalid JSON: %s", path, je.text);
    ATLS_ENSURE(json_is_object(json_object_get(*root, member)), COLL,
                "TDX collateral %s: \"%s\" is not an object", path, member);
    ATLS_GUARD(hex_field(*root, "signature", sig, sizeof(sig), "collateral"));
    EVP_PKEY *key = X509_get0_pubkey(signer);
    ATLS_ENSURE(key != NULL, COLL, "TDX collateral: the TCB signing key cannot be decoded");
    ATLS_GUARD(atls_tdx_ecdsa_p256_verify(key, sig, span, span_len, COLL,
                                          strcmp(member, "tcbInfo") == 0 ? "TCB Info signature"
                                                                         : "QE Identity signature"));
    return ATLS_OK;
}

/* load_signed loads |member|'s document from |path| or, when |path| is NULL, from |bytes| (e.g.
 * stapled in the CMW), checks its signature by |signer| and its validity window. */
ATLS_MUST_CHECK static atls_error load_signed(const char *path, const uint8_t *bytes,
                                              size_t bytes_len, const char *member, X509 *signer,
                                              const atls_verify_input *in, signed_doc *d)
{
    size_t len = 0;
    time_t issue, next, at = atls_vcache_at(in->at);
    uint8_t id[ATLS_VCACHE_KEY_LEN];
    atls_vcache_hash h;
    void *hit = NULL;

    memset(d, 0, sizeof(*d));
    if (path != NULL) {
        ATLS_GUARD(atls_file_read(path, COLLATERAL_MAX, &d->bytes, &len));
    } else {
        ATLS_ENSURE(bytes_len <= COLLATERAL_MAX, COLL, "TDX collateral %s: larger than %u bytes",
                    member, COLLATERAL_MAX);
        d->bytes = malloc(bytes_len + 1);
        ATLS_ENSURE(d->bytes != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        memcpy(d->bytes, bytes, bytes_len);
        d->bytes[bytes_len] = '\0';
        len = bytes_len;
        path = "(stapled)";
    }
    atls_vcache_hash_init(&h, "tdx signed collateral");
    atls_vcache_hash_cert_pubkey(&h, signer);
    atls_vcache_hash_bytes(&h, member, strlen(member));
    atls_vcache_hash_bytes(&h, d->bytes, len);
    int have_id = atls_vcache_hash_final(&h, id);
    if (have_id && atls_vcache_lookup(&doc_cache, id, 0, &hit)) {
        d->root = hit;
    } else {
        ATLS_GUARD(parse_signed(d->bytes, len, path, member, signer, &d->root));
        if (have_id) {
            atls_vcache_store(&doc_cache, id, NULL, d->root);
        }
    }
    d->body = json_object_get(d->root, member);
    ATLS_ENSURE(parse_time(json_string_value(json_object_get(d->body, "issueDate")), &issue) &&
                    parse_time(json_string_value(json_object_get(d->body, "nextUpdate")), &next),
                COLL, "TDX collateral %s: bad issueDate/nextUpdate", member);
    ATLS_ENSURE(at >= issue, COLL, "TDX collateral %s: issued after the verification time",
                member);
    ATLS_ENSURE(at < next, COLL, "TDX collateral %s: expired (nextUpdate passed)", member);
    return ATLS_OK;
}

/* converge folds a component status (QE or TDX module) into the platform status, as Intel's
 * QVL does: OutOfDate degrades, Revoked wins. */
static atls_tdx_tcb_status converge(atls_tdx_tcb_status platform, atls_tdx_tcb_status other)
{
    if (other == ATLS_TDX_TCB_REVOKED || platform == ATLS_TDX_TCB_REVOKED) {
        return ATLS_TDX_TCB_REVOKED;
    }
    if (other == ATLS_TDX_TCB_OUT_OF_DATE) {
        if (platform == ATLS_TDX_TCB_CONFIGURATION_NEEDED ||
            platform == ATLS_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED) {
            return ATLS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
        }
        if (platform == ATLS_TDX_TCB_UP_TO_DATE || platform == ATLS_TDX_TCB_SW_HARDENING_NEEDED) {
            return ATLS_TDX_TCB_OUT_OF_DATE;
        }
    }
    return platform;
}

ATLS_MUST_CHECK static atls_error status_of(const json_t *level, const char *what,
                                            atls_tdx_tcb_status *s)
{
    ATLS_ENSURE(atls_tdx_tcb_status_parse(json_string_value(json_object_get(level, "tcbStatus")),
                                          s) &&
                    *s != ATLS_TDX_TCB_TD_RELAUNCH_ADVISED &&
                    *s != ATLS_TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
                COLL, "TDX %s: unknown tcbStatus", what);
    return ATLS_OK;
}

/* svn_list reads 16 {"svn": n} components. */
ATLS_MUST_CHECK static atls_error svn_list(const json_t *arr, int out[16])
{
    ATLS_ENSURE(json_is_array(arr) && json_array_size(arr) == 16, COLL,
                "TDX TCB Info: a tcb component list does not have 16 entries");
    for (size_t i = 0; i < 16; i++) {
        json_int_t v = int_field(json_array_get(arr, i), "svn");
        ATLS_ENSURE(v >= 0 && v <= 255, COLL, "TDX TCB Info: component svn out of range");
        out[i] = (int)v;
    }
    return ATLS_OK;
}

/* The levels a platform meets (Intel QVL, TcbLevelCheck): |sgx| the first level where every
 * SGX component and PCESVN from the PCK certificate is >= the level's; |tdx| the first where in
 * addition every TEE_TCB_SVN[i] >= tdxtcbcomponents[i] (from i = 2 when TEE_TCB_SVN[1], the TDX
 * module major version, is non-zero: components 0 and 1 are then judged by the module
 * identity); |latest| the first level of the list. */
typedef struct tcb_levels {
    const json_t *sgx, *tdx, *latest;
} tcb_levels;

ATLS_MUST_CHECK static atls_error platform_level(const json_t *tcb_info, const atls_tdx_quote *q,
                                                 const atls_tdx_pck_info *pck, tcb_levels *out)
{
    const json_t *levels = json_object_get(tcb_info, "tcbLevels");
    size_t i;
    json_t *lv;
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(json_is_array(levels) && json_array_size(levels) > 0, COLL,
                "TDX TCB Info: no tcbLevels");
    out->latest = json_array_get(levels, 0);
    json_array_foreach(levels, i, lv) {
        const json_t *tcb = json_object_get(lv, "tcb");
        int sgx[16], tdx[16], ok = 1;
        ATLS_GUARD(svn_list(json_object_get(tcb, "sgxtcbcomponents"), sgx));
        ATLS_GUARD(svn_list(json_object_get(tcb, "tdxtcbcomponents"), tdx));
        json_int_t pcesvn = int_field(tcb, "pcesvn");
        ATLS_ENSURE(pcesvn >= 0, COLL, "TDX TCB Info: tcb level without pcesvn");
        for (size_t k = 0; k < 16; k++) {
            ok &= pck->comp[k] >= sgx[k];
        }
        ok &= pck->pcesvn >= pcesvn;
        if (ok && out->sgx == NULL) {
            out->sgx = lv;
        }
        for (size_t k = q->tee_tcb_svn[1] > 0 ? 2 : 0; k < 16; k++) {
            ok &= q->tee_tcb_svn[k] >= tdx[k];
        }
        if (ok) {
            out->tdx = lv;
            return ATLS_OK;
        }
    }
    ATLS_RAISE(COLL, "TDX TCB Info: the platform TCB is below every tcbLevel (not supported)");
}

/* level_component: tdxtcbcomponents[k].svn of a level (checked by platform_level). */
static int level_component(const json_t *level, size_t k)
{
    const json_t *c = json_object_get(json_object_get(level, "tcb"), "tdxtcbcomponents");
    return (int)int_field(json_array_get(c, k), "svn");
}

/* find_module_identity: the tdxModuleIdentities entry "TDX_%02X" % |version|, or NULL. */
static const json_t *find_module_identity(const json_t *ids, uint8_t version)
{
    char want[16];
    size_t i;
    json_t *e;
    snprintf(want, sizeof(want), "TDX_%02X", version);
    json_array_foreach(ids, i, e) {
        const char *name = json_string_value(json_object_get(e, "id"));
        if (name != NULL && strcmp(name, want) == 0) {
            return e;
        }
    }
    return NULL;
}

/* module_identity checks MRSIGNERSEAM / SEAM_ATTRIBUTES against tdxModule or, for module major
 * version TEE_TCB_SVN[1] > 0, the "TDX_%02X" entry of tdxModuleIdentities and its tcbLevels.
 * A TCB Info without tdxModuleIdentities cannot judge a module of major version > 0: Intel's
 * QVL returns STATUS_TCB_INFO_MISMATCH there, and so does this (COLLATERAL). */
ATLS_MUST_CHECK static atls_error module_identity(const json_t *tcb_info, const atls_tdx_quote *q,
                                                  atls_tdx_tcb_status *module_status)
{
    const json_t *id = json_object_get(tcb_info, "tdxModule");
    const json_t *ids = json_object_get(tcb_info, "tdxModuleIdentities");
    uint8_t mrsigner[48], attr[8], mask[8];
    *module_status = ATLS_TDX_TCB_UP_TO_DATE;
    if (q->tee_tcb_svn[1] > 0) {
        ATLS_ENSURE(json_is_array(ids), COLL,
                    "TDX TCB Info mismatch: the TDX module version is %u but the TCB Info has no "
                    "tdxModuleIdentities",
                    q->tee_tcb_svn[1]);
        id = find_module_identity(ids, q->tee_tcb_svn[1]);
        ATLS_ENSURE(id != NULL, COLL, "TDX TCB Info: no tdxModuleIdentities entry TDX_%02X",
                    q->tee_tcb_svn[1]);
    }
    ATLS_ENSURE(json_is_object(id), COLL, "TDX TCB Info: no tdxModule identity");
    ATLS_GUARD(hex_field(id, "mrsigner", mrsigner, 48, "TCB Info tdxModule"));
    ATLS_GUARD(hex_field(id, "attributes", attr, 8, "TCB Info tdxModule"));
    ATLS_GUARD(hex_field(id, "attributesMask", mask, 8, "TCB Info tdxModule"));
    ATLS_ENSURE(memcmp(mrsigner, q->mrsignerseam, 48) == 0, COLL,
                "TDX: mrsignerseam does not match the TDX module identity");
    for (size_t k = 0; k < 8; k++) {
        ATLS_ENSURE((q->seam_attributes[k] & mask[k]) == attr[k], COLL,
                    "TDX: seam_attributes do not match the TDX module identity");
    }
    const json_t *levels = json_object_get(id, "tcbLevels");
    if (levels == NULL) {
        return ATLS_OK; /* the plain tdxModule entry has no levels */
    }
    size_t i;
    json_t *lv;
    json_array_foreach(levels, i, lv) {
        json_int_t isvsvn = int_field(json_object_get(lv, "tcb"), "isvsvn");
        if (isvsvn >= 0 && q->tee_tcb_svn[0] >= isvsvn) {
            return status_of(lv, "TDX module level", module_status);
        }
    }
    ATLS_RAISE(COLL, "TDX TCB Info: TDX module SVN %u is below every level", q->tee_tcb_svn[0]);
}

static int is_configuration_needed(atls_tdx_tcb_status s)
{
    return s == ATLS_TDX_TCB_CONFIGURATION_NEEDED ||
           s == ATLS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
           s == ATLS_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
           s == ATLS_TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

/* relaunch: for a TDX 1.5 TD (body type 3) whose TDX TCB is out of date only because its TDX
 * module is, the platform may already run a module at the latest level (TEE_TCB_SVN2 is the
 * SVN of the module now loaded): then relaunching the TD brings it up to date, and Intel's QVL
 * (TDRelaunchCheck) reports TDRelaunchAdvised(ConfigurationNeeded) instead of OutOfDate. */
ATLS_MUST_CHECK static atls_error relaunch(const json_t *tcb_info, const atls_tdx_quote *q,
                                           const tcb_levels *lv, atls_tdx_tcb_status sgx_status,
                                           atls_tdx_tcb_status module_status,
                                           atls_tdx_tcb_status qe_status,
                                           atls_tdx_tcb_status *tdx_status)
{
    const uint8_t *svn2 = q->tee_tcb_svn2;
    if (q->body_type != 3 || qe_status == ATLS_TDX_TCB_OUT_OF_DATE ||
        qe_status == ATLS_TDX_TCB_REVOKED ||
        (sgx_status != ATLS_TDX_TCB_UP_TO_DATE && sgx_status != ATLS_TDX_TCB_SW_HARDENING_NEEDED &&
         sgx_status != ATLS_TDX_TCB_CONFIGURATION_NEEDED &&
         sgx_status != ATLS_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED) ||
        (*tdx_status != ATLS_TDX_TCB_OUT_OF_DATE &&
         *tdx_status != ATLS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) ||
        module_status != ATLS_TDX_TCB_OUT_OF_DATE) {
        return ATLS_OK;
    }
    int module_latest;
    if (svn2[1] == 0) {
        module_latest = svn2[0] >= level_component(lv->latest, 0);
    } else {
        const json_t *id = find_module_identity(json_object_get(tcb_info, "tdxModuleIdentities"),
                                                svn2[1]);
        ATLS_ENSURE(id != NULL, COLL, "TDX TCB Info: no tdxModuleIdentities entry TDX_%02X "
                                      "for TEE_TCB_SVN2", svn2[1]);
        const json_t *levels = json_object_get(id, "tcbLevels");
        ATLS_ENSURE(json_is_array(levels) && json_array_size(levels) > 0, COLL,
                    "TDX TCB Info: module identity TDX_%02X has no tcbLevels", svn2[1]);
        json_int_t isvsvn = int_field(json_object_get(json_array_get(levels, 0), "tcb"), "isvsvn");
        module_latest = isvsvn >= 0 && svn2[0] >= isvsvn;
    }
    if (module_latest && svn2[2] >= level_component(lv->latest, 2)) {
        *tdx_status = is_configuration_needed(sgx_status) || is_configuration_needed(*tdx_status)
                          ? ATLS_TDX_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
                          : ATLS_TDX_TCB_TD_RELAUNCH_ADVISED;
    }
    return ATLS_OK;
}

/* check_tcb_signer: the collateral signer must be the "Intel SGX TCB Signing" certificate, an
 * end-entity certificate issued directly by a configured root (Intel's QVL, TCBSigningChain).
 * Chaining to the root is not enough: a PCK leaf, or any CA under the root, would otherwise
 * sign TCB Info, and one extracted PCK key would forge UpToDate for every platform. */
ATLS_MUST_CHECK static atls_error check_tcb_signer(X509 *signer, const atls_verify_input *in)
{
    char cn[64] = "";
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(signer), NID_commonName, cn,
                                      (int)sizeof(cn));
    ERR_clear_error();
    ATLS_ENSURE(n > 0 && strcmp(cn, "Intel SGX TCB Signing") == 0, ATLS_ERR_EVIDENCE_SIGNER,
                "TDX collateral: the signer \"%s\" is not the Intel SGX TCB Signing certificate",
                n > 0 ? cn : "(no CN)");
    ATLS_ENSURE(X509_check_ca(signer) == 0, ATLS_ERR_EVIDENCE_SIGNER,
                "TDX collateral: the TCB signing certificate is a CA");
    ERR_clear_error();
    for (int i = 0; in->trust_anchors != NULL && i < sk_X509_num(in->trust_anchors); i++) {
        X509 *root = sk_X509_value(in->trust_anchors, i);
        EVP_PKEY *key = X509_get0_pubkey(root);
        if (X509_check_issued(root, signer) == X509_V_OK && key != NULL &&
            X509_verify(signer, key) == 1) {
            return ATLS_OK;
        }
        ERR_clear_error();
    }
    ATLS_RAISE(ATLS_ERR_EVIDENCE_SIGNER,
               "TDX collateral: the TCB signing certificate is not issued directly by the root");
}

/* qe_identity: Enclave Identity v2 of the TD Quoting Enclave against the QE report. */
ATLS_MUST_CHECK static atls_error qe_identity(const json_t *ei, const atls_tdx_quote *q,
                                              atls_tdx_tcb_status *st)
{
    uint8_t mrsigner[32], misc[4], misc_mask[4], attr[16], attr_mask[16];
    const char *id = json_string_value(json_object_get(ei, "id"));
    ATLS_ENSURE(id != NULL && strcmp(id, "TD_QE") == 0 && int_field(ei, "version") == 2, COLL,
                "TDX QE Identity: not a TD_QE identity version 2");
    ATLS_GUARD(hex_field(ei, "mrsigner", mrsigner, 32, "QE Identity"));
    ATLS_GUARD(hex_field(ei, "miscselect", misc, 4, "QE Identity"));
    ATLS_GUARD(hex_field(ei, "miscselectMask", misc_mask, 4, "QE Identity"));
    ATLS_GUARD(hex_field(ei, "attributes", attr, 16, "QE Identity"));
    ATLS_GUARD(hex_field(ei, "attributesMask", attr_mask, 16, "QE Identity"));
    ATLS_ENSURE(memcmp(mrsigner, q->qe.mrsigner, 32) == 0, COLL,
                "TDX QE Identity: QE mrsigner does not match");
    ATLS_ENSURE(int_field(ei, "isvprodid") == q->qe.isvprodid, COLL,
                "TDX QE Identity: QE isvprodid does not match");
    /* miscselect is a 32-bit value written as big-endian hex */
    uint32_t m = (uint32_t)misc[0] << 24 | (uint32_t)misc[1] << 16 | (uint32_t)misc[2] << 8 | misc[3];
    uint32_t mm = (uint32_t)misc_mask[0] << 24 | (uint32_t)misc_mask[1] << 16 |
                  (uint32_t)misc_mask[2] << 8 | misc_mask[3];
    ATLS_ENSURE((q->qe.miscselect & mm) == m, COLL, "TDX QE Identity: QE miscselect does not match");
    for (size_t k = 0; k < 16; k++) {
        ATLS_ENSURE((q->qe.attributes[k] & attr_mask[k]) == attr[k], COLL,
                    "TDX QE Identity: QE attributes do not match");
    }
    const json_t *levels = json_object_get(ei, "tcbLevels");
    size_t i;
    json_t *lv;
    json_array_foreach(levels, i, lv) {
        json_int_t isvsvn = int_field(json_object_get(lv, "tcb"), "isvsvn");
        if (isvsvn >= 0 && q->qe.isvsvn >= isvsvn) {
            return status_of(lv, "QE Identity level", st);
        }
    }
    ATLS_RAISE(COLL, "TDX QE Identity: QE isvsvn %u is below every level", q->qe.isvsvn);
}

/* signer_from_intermediates: the "Intel SGX TCB Signing" certificate among in->intermediates
 * (stapled collateral carries the chain as certificates), and *chain a new stack of every
 * intermediate (references) to build its path to the root with. */
ATLS_MUST_CHECK static atls_error signer_from_intermediates(const atls_verify_input *in,
                                                            STACK_OF(X509) **chain,
                                                            X509 **signer)
{
    *signer = NULL;
    *chain = sk_X509_new_null();
    ATLS_ENSURE(*chain != NULL, ATLS_ERR_INTERNAL_ALLOC, "out of memory");
    for (int i = 0; in->intermediates != NULL && i < sk_X509_num(in->intermediates); i++) {
        X509 *x = sk_X509_value(in->intermediates, i);
        char cn[64] = "";
        int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
                                          (int)sizeof(cn));
        ERR_clear_error();
        if (*signer == NULL && n > 0 && strcmp(cn, "Intel SGX TCB Signing") == 0) {
            *signer = x;
        }
        if (!X509_up_ref(x) || !sk_X509_push(*chain, x)) {
            X509_free(x);
            sk_X509_pop_free(*chain, X509_free);
            *chain = NULL;
            ATLS_RAISE(ATLS_ERR_INTERNAL_ALLOC, "out of memory");
        }
    }
    if (*signer == NULL) {
        sk_X509_pop_free(*chain, X509_free);
        *chain = NULL;
        ATLS_RAISE(COLL, "TDX collateral: a TCB Info and its signing chain are both needed (no "
                         "TCB signing chain file, and no Intel SGX TCB Signing certificate among "
                         "the intermediates)");
    }
    return ATLS_OK;
}

atls_error atls_tdx_collateral_window(const uint8_t *doc, size_t len, const char *member,
                                      time_t *issue, time_t *next)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)doc, len, JSON_REJECT_DUPLICATES, &je);
    const json_t *body = json_object_get(root, member);
    int ok = json_is_object(body) &&
             parse_time(json_string_value(json_object_get(body, "issueDate")), issue) &&
             parse_time(json_string_value(json_object_get(body, "nextUpdate")), next);
    json_decref(root);
    ATLS_ENSURE(ok, COLL, "TDX collateral: not a JSON document with %s.issueDate/nextUpdate",
                member);
    return ATLS_OK;
}

atls_error atls_tdx_collateral_check(const atls_verify_input *in, const atls_tdx_quote *q,
                                     const atls_tdx_pck_info *pck, atls_tdx_collateral_result *out)
{
    atls_error rc = ATLS_OK;
    STACK_OF(X509) *chain = NULL;
    signed_doc ti, qi;
    uint8_t fmspc[6], pceid[2];
    uint8_t *chain_pem = NULL;
    size_t chain_len = 0;
    tcb_levels lv;

    memset(out, 0, sizeof(*out));
    memset(&ti, 0, sizeof(ti));
    memset(&qi, 0, sizeof(qi));
    ATLS_ENSURE(in->tcb_info_path != NULL || in->tcb_info != NULL, COLL,
                "TDX collateral: a TCB Info and its signing chain are both needed");
    atls_tdx_chain_id chain_id;
    X509 *signer = NULL;
    if (in->tcb_signing_chain_path != NULL) {
        ATLS_GUARD(atls_file_read(in->tcb_signing_chain_path, COLLATERAL_MAX, &chain_pem,
                                  &chain_len));
        rc = atls_tdx_load_pem_chain_id(chain_pem, chain_len, COLL, &chain, &chain_id);
        free(chain_pem);
        ATLS_GUARD(rc);
        signer = sk_X509_value(chain, 0);
    } else {
        /* no chain file: the signing certificate among the intermediates (stapled) */
        ATLS_GUARD(signer_from_intermediates(in, &chain, &signer));
    }
    ATLS_GUARD_GOTO(rc, done,
                    atls_tdx_verify_chain(signer, chain,
                                          in->tcb_signing_chain_path != NULL ? &chain_id : NULL,
                                          in, COLL, "TCB signing chain"));
    ATLS_GUARD_GOTO(rc, done, check_tcb_signer(signer, in));

    ATLS_GUARD_GOTO(rc, done, load_signed(in->tcb_info_path, in->tcb_info, in->tcb_info_len,
                                          "tcbInfo", signer, in, &ti));
    const char *id = json_string_value(json_object_get(ti.body, "id"));
    if (id == NULL || strcmp(id, "TDX") != 0 || int_field(ti.body, "version") != 3) {
        ATLS_FAIL_GOTO(rc, done, COLL, "TDX TCB Info: not a TDX TCB Info version 3");
    }
    ATLS_GUARD_GOTO(rc, done, hex_field(ti.body, "fmspc", fmspc, 6, "TCB Info"));
    ATLS_GUARD_GOTO(rc, done, hex_field(ti.body, "pceId", pceid, 2, "TCB Info"));
    if (memcmp(fmspc, pck->fmspc, 6) != 0) {
        ATLS_FAIL_GOTO(rc, done, COLL, "TDX TCB Info: fmspc does not match the PCK certificate");
    }
    if (memcmp(pceid, pck->pceid, 2) != 0) {
        ATLS_FAIL_GOTO(rc, done, COLL, "TDX TCB Info: pceId does not match the PCK certificate");
    }
    atls_tdx_tcb_status sgx_status, tdx_level;
    ATLS_GUARD_GOTO(rc, done, platform_level(ti.body, q, pck, &lv));
    ATLS_GUARD_GOTO(rc, done, status_of(lv.sgx, "TCB Info level", &sgx_status));
    ATLS_GUARD_GOTO(rc, done, status_of(lv.tdx, "TCB Info level", &tdx_level));
    {
        const char *date = json_string_value(json_object_get(lv.tdx, "tcbDate"));
        snprintf(out->tcb_date, sizeof(out->tcb_date), "%s", date != NULL ? date : "");
        const json_t *adv = json_object_get(lv.tdx, "advisoryIDs");
        out->advisory_ids = json_is_array(adv) ? json_deep_copy(adv) : NULL;
    }
    ATLS_GUARD_GOTO(rc, done, module_identity(ti.body, q, &out->module_status));
    out->qe_status = ATLS_TDX_TCB_NOT_EVALUATED;
    if (in->qe_identity_path != NULL || in->qe_identity != NULL) {
        ATLS_GUARD_GOTO(rc, done, load_signed(in->qe_identity_path, in->qe_identity,
                                              in->qe_identity_len, "enclaveIdentity", signer, in,
                                              &qi));
        ATLS_GUARD_GOTO(rc, done, qe_identity(qi.body, q, &out->qe_status));
        out->qe_identity_checked = 1;
    }
    out->platform_status = converge(tdx_level, out->module_status);
    if (out->platform_status != ATLS_TDX_TCB_REVOKED) {
        ATLS_GUARD_GOTO(rc, done, relaunch(ti.body, q, &lv, sgx_status, out->module_status,
                                           out->qe_status, &out->platform_status));
    }
    out->tcb_info_checked = 1;
    out->merged = out->qe_identity_checked ? converge(out->platform_status, out->qe_status)
                                           : out->platform_status;
    /* a TCB status is claimed only when the QE report was appraised too (issue: an
     * unappraised QE can be a debug enclave or another signer's) */
    out->status = out->qe_identity_checked ? out->merged : ATLS_TDX_TCB_NOT_EVALUATED;
done:
    if (rc != ATLS_OK) {
        json_decref(out->advisory_ids);
        out->advisory_ids = NULL;
        out->tcb_info_checked = out->qe_identity_checked = 0;
    }
    signed_doc_cleanup(&ti);
    signed_doc_cleanup(&qi);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}
