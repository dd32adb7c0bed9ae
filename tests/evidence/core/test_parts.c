/* test_parts.c: the parts an attester produces for one challenge (atls/evidence.h) and their
 * encoding: one unlabelled part is a CMW record as before, several parts a collection that the
 * CMW decoder reads back label by label; label and media type rules; the size ceiling names
 * every member. */
#include "check.h"
#include "evidence/core/plugin.h"

#include <atls/evidence.h>

#include "codec/cmw/cmw.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t ev[] = {1, 2, 3, 4};

static int leaf_label_is(const atls_cmw_leaf *l, const char *label)
{
    return l->depth == 1 && atls_cbor_key_is_text(&l->path[0], label);
}

static void test_record_and_collection(void)
{
    atls_evidence_parts p;
    memset(&p, 0, sizeof(p));
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK_OK(atls_evidence_parts_add(&p, NULL, "application/x-ev", ev, sizeof(ev),
                                     ATLS_IND_EVIDENCE));
    CHECK_OK(atls_evidence_parts_encode(&p, 65533, "t", &out, &len));
    atls_cmw cmw;
    CHECK_OK(atls_cmw_decode(out, len, &cmw));
    CHECK(cmw.form == ATLS_CMW_FORM_CBOR_RECORD && cmw.num_leaves == 1 &&
          cmw.leaves[0].ind == ATLS_IND_EVIDENCE &&
          atls_cmw_leaf_type_is(&cmw.leaves[0], "application/x-ev"));
    free(out);

    /* a second part: a collection; the unlabelled part is "evidence" */
    CHECK_OK(atls_evidence_parts_add(&p, "crl", ATLS_MEDIA_PKIX_CRL, ev, 2,
                                     ATLS_IND_ENDORSEMENTS));
    CHECK_OK(atls_evidence_parts_encode(&p, 65533, "t", &out, &len));
    CHECK_OK(atls_cmw_decode(out, len, &cmw));
    CHECK(cmw.form == ATLS_CMW_FORM_CBOR_COLLECTION && cmw.num_leaves == 2);
    CHECK(leaf_label_is(&cmw.leaves[0], "evidence") || leaf_label_is(&cmw.leaves[1], "evidence"));
    int crl = leaf_label_is(&cmw.leaves[0], "crl") ? 0 : 1;
    CHECK(leaf_label_is(&cmw.leaves[crl], "crl") &&
          cmw.leaves[crl].ind == ATLS_IND_ENDORSEMENTS &&
          atls_cursor_remaining(&cmw.leaves[crl].value) == 2);
    free(out);
    atls_evidence_parts_cleanup(&p);
    CHECK(p.num == 0);

    /* one labelled part alone is a collection too (the label is kept) */
    CHECK_OK(atls_evidence_parts_add(&p, "tsm", "application/x-ev", ev, sizeof(ev),
                                     ATLS_IND_EVIDENCE));
    CHECK_OK(atls_evidence_parts_encode(&p, 65533, "t", &out, &len));
    CHECK_OK(atls_cmw_decode(out, len, &cmw));
    CHECK(cmw.form == ATLS_CMW_FORM_CBOR_COLLECTION && leaf_label_is(&cmw.leaves[0], "tsm"));
    free(out);
    atls_evidence_parts_cleanup(&p);
}

static void test_rules(void)
{
    atls_evidence_parts p;
    memset(&p, 0, sizeof(p));
    CHECK_OK(atls_evidence_parts_add(&p, "a", "application/x", ev, 1, ATLS_IND_EVIDENCE));
    CHECK_ERR(atls_evidence_parts_add(&p, "a", "application/x", ev, 1, ATLS_IND_EVIDENCE),
              ATLS_ERR_USAGE);
    CHECK(strstr(atls_error_message(), "used twice") != NULL);
    CHECK_ERR(atls_evidence_parts_add(&p, "__cmwc_t", "application/x", ev, 1, 4), ATLS_ERR_USAGE);
    CHECK_ERR(atls_evidence_parts_add(&p, "bad\nlabel", "application/x", ev, 1, 4),
              ATLS_ERR_USAGE);
    CHECK_ERR(atls_evidence_parts_add(&p, "0123456789012345678901234567890123", "application/x",
                                      ev, 1, 4),
              ATLS_ERR_USAGE);
    CHECK_ERR(atls_evidence_parts_add(&p, "b", "", ev, 1, 4), ATLS_ERR_USAGE);
    CHECK_ERR(atls_evidence_parts_add(&p, "b", "application/x", ev, 1, 0), ATLS_ERR_USAGE);
    /* an unlabelled part and one labelled "evidence" would collide in the collection */
    CHECK_OK(atls_evidence_parts_add(&p, NULL, "application/x", ev, 1, 4));
    CHECK_ERR(atls_evidence_parts_add(&p, "evidence", "application/x", ev, 1, 4), ATLS_ERR_USAGE);
    /* add_owned frees what it is given when it fails (ASan: no leak) */
    uint8_t *owned = malloc(8);
    CHECK(owned != NULL);
    CHECK_ERR(atls_evidence_parts_add_owned(&p, "a", "application/x", owned, 8, 4),
              ATLS_ERR_USAGE);
    atls_evidence_parts_cleanup(&p);
    for (int i = 0; i < ATLS_EVIDENCE_MAX_PARTS; i++) {
        char label[8];
        snprintf(label, sizeof(label), "p%d", i);
        CHECK_OK(atls_evidence_parts_add(&p, label, "application/x", ev, 1, 4));
    }
    CHECK_ERR(atls_evidence_parts_add(&p, "more", "application/x", ev, 1, 4),
              ATLS_ERR_DECODE_TOO_LARGE);
    atls_evidence_parts_cleanup(&p);
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK_ERR(atls_evidence_parts_encode(&p, 100, "t", &out, &len), ATLS_ERR_EVIDENCE_ATTESTER);
}

/* the cmw_data ceiling: the error names every member with its size */
static void test_too_large(void)
{
    atls_evidence_parts p;
    memset(&p, 0, sizeof(p));
    uint8_t *big = calloc(1, 40000);
    CHECK(big != NULL);
    CHECK_OK(atls_evidence_parts_add(&p, "quote", "application/x", big, 30000, 4));
    CHECK_OK(atls_evidence_parts_add(&p, "tcb-info", "application/x", big, 36000, 2));
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK_ERR(atls_evidence_parts_encode(&p, 65533, "attester x", &out, &len),
              ATLS_ERR_EVIDENCE_ATTESTER);
    const char *m = atls_error_message();
    CHECK(strstr(m, "attester x") != NULL && strstr(m, "quote 30000") != NULL &&
          strstr(m, "tcb-info 36000") != NULL && strstr(m, "65533") != NULL);
    CHECK(out == NULL);
    /* under the codec's 64 KiB but over the caller's limit: the CMW's size is named too */
    p.part[1].len = 1000;
    CHECK_ERR(atls_evidence_parts_encode(&p, 20000, "attester x", &out, &len),
              ATLS_ERR_EVIDENCE_ATTESTER);
    m = atls_error_message();
    CHECK(strstr(m, "a CMW of 310") != NULL && strstr(m, "at most 20000") != NULL &&
          strstr(m, "tcb-info 1000") != NULL);
    CHECK(out == NULL);
    CHECK_OK(atls_evidence_parts_encode(&p, 65533, "attester x", &out, &len));
    free(out);
    atls_evidence_parts_cleanup(&p);
    free(big);
}

int main(void)
{
    test_record_and_collection();
    test_rules();
    test_too_large();
    return check_summary();
}
