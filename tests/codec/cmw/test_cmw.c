/* test_cmw: CMW CBOR record / collection encode and decode (src/codec/cmw/cmw.h). */
#include "base/hex.h"
#include "codec/cmw/cmw.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static const char *const TSM = "application/vnd.veraison.tsm-report+cbor";

/* unhex: test hex (spaces allowed between bytes) to a malloc'd buffer. */
static uint8_t *unhex(const char *spaced, size_t *len)
{
    char hex[512];
    size_t j = 0;
    for (const char *p = spaced; *p && j + 1 < sizeof(hex); p++) {
        if (*p != ' ') {
            hex[j++] = *p;
        }
    }
    hex[j] = 0;
    uint8_t *out = NULL;
    if (atls_hex_decode(hex, &out, len) != ATLS_OK) {
        fprintf(stderr, "bad test hex %s\n", hex);
        exit(1);
    }
    return out;
}

static void test_record_round_trip(void)
{
    uint8_t value[300];
    for (size_t i = 0; i < sizeof(value); i++) {
        value[i] = (uint8_t)i;
    }
    uint8_t *enc = NULL;
    size_t len = 0;
    CHECK_OK(atls_cmw_encode_record(TSM, value, sizeof(value), ATLS_CMW_IND_EVIDENCE, &enc, &len));
    /* protocol-notes 3.3 example: 83 78 28 <type> 59 01 2c <300 bytes> 04 */
    CHECK(len == 3 + 40 + 3 + 300 + 1);
    CHECK(enc[0] == 0x83 && enc[1] == 0x78 && enc[2] == 0x28);
    CHECK(memcmp(enc + 3, TSM, 40) == 0);
    CHECK(enc[43] == 0x59 && enc[44] == 0x01 && enc[45] == 0x2c && enc[len - 1] == 0x04);

    atls_cmw_form form;
    CHECK_OK(atls_cmw_detect_form(enc, len, &form));
    CHECK(form == ATLS_CMW_FORM_CBOR_RECORD);
    atls_cmw cmw;
    CHECK_OK(atls_cmw_decode(enc, len, &cmw));
    CHECK(cmw.form == ATLS_CMW_FORM_CBOR_RECORD && cmw.num_leaves == 1);
    CHECK(cmw.leaves[0].depth == 0 && !cmw.leaves[0].type_is_cf);
    CHECK(atls_cmw_leaf_type_is(&cmw.leaves[0], TSM));
    CHECK(!atls_cmw_leaf_type_is(&cmw.leaves[0], "application/eat+cwt"));
    CHECK(cmw.leaves[0].ind == 4);
    CHECK(atls_cursor_equals(&cmw.leaves[0].value, value, sizeof(value)));
    CHECK(atls_cmw_find_leaf(&cmw, TSM, ATLS_CMW_IND_EVIDENCE) == &cmw.leaves[0]);
    CHECK(atls_cmw_find_leaf(&cmw, TSM, ATLS_CMW_IND_ATTESTATION_RESULTS) == NULL);
    CHECK(atls_cursor_is_empty(&cmw.collection_type));

    /* every truncation fails, never reads past the end */
    for (size_t cut = 0; cut < len; cut++) {
        atls_error rc = atls_cmw_decode(enc, cut, &cmw);
        CHECK_ERR(rc, ATLS_ERR_DECODE_TRUNCATED);
        CHECK(cmw.num_leaves == 0);
    }
    /* trailing byte */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, enc, len);
    longer[len] = 0x00;
    CHECK_ERR(atls_cmw_decode(longer, len + 1, &cmw), ATLS_ERR_DECODE_TRAILING);
    free(longer);
    free(enc);

    /* ind 0 gives a 2-element record */
    CHECK_OK(atls_cmw_encode_record("application/eat+cwt", (const uint8_t *)"x", 1, 0, &enc, &len));
    CHECK(enc[0] == 0x82);
    CHECK_OK(atls_cmw_decode(enc, len, &cmw));
    CHECK(cmw.num_leaves == 1 && cmw.leaves[0].ind == 0);
    free(enc);

    /* usage errors */
    CHECK_ERR(atls_cmw_encode_record("", value, 1, 4, &enc, &len), ATLS_ERR_USAGE);
    CHECK_ERR(atls_cmw_encode_record("a\nb", value, 1, 4, &enc, &len), ATLS_ERR_USAGE);
    /* the 64 KiB ceiling on output */
    uint8_t *big = calloc(1, ATLS_CMW_MAX_SIZE);
    CHECK_ERR(atls_cmw_encode_record(TSM, big, ATLS_CMW_MAX_SIZE, 4, &enc, &len),
              ATLS_ERR_DECODE_TOO_LARGE);
    free(big);
}

static void test_collection(void)
{
    const atls_cmw_entry entries[2] = {
        {"evidence", TSM, (const uint8_t *)"EVID", 4, ATLS_CMW_IND_EVIDENCE},
        {"ar", "application/eat+jwt", (const uint8_t *)"a.b.c", 5,
         ATLS_CMW_IND_ATTESTATION_RESULTS},
    };
    uint8_t *enc = NULL;
    size_t len = 0;
    CHECK_OK(atls_cmw_encode_collection("tag:atls,2026:bundle", entries, 2, &enc, &len));
    CHECK(enc[0] == 0xa3);
    atls_cmw_form form;
    CHECK_OK(atls_cmw_detect_form(enc, len, &form));
    CHECK(form == ATLS_CMW_FORM_CBOR_COLLECTION);
    atls_cmw cmw;
    CHECK_OK(atls_cmw_decode(enc, len, &cmw));
    CHECK(cmw.form == ATLS_CMW_FORM_CBOR_COLLECTION && cmw.num_leaves == 2);
    CHECK(atls_cbor_tstr_equals(&cmw.collection_type, "tag:atls,2026:bundle"));
    CHECK(cmw.leaves[0].depth == 1 && atls_cbor_key_is_text(&cmw.leaves[0].path[0], "evidence"));
    CHECK(cmw.leaves[1].depth == 1 && atls_cbor_key_is_text(&cmw.leaves[1].path[0], "ar"));
    CHECK(atls_cursor_equals(&cmw.leaves[1].value, (const uint8_t *)"a.b.c", 5));
    const atls_cmw_leaf *l = atls_cmw_find_leaf(&cmw, "application/eat+jwt", 8);
    CHECK(l == &cmw.leaves[1]);
    for (size_t cut = 0; cut < len; cut++) {
        CHECK_ERR(atls_cmw_decode(enc, cut, &cmw), ATLS_ERR_DECODE_TRUNCATED);
    }
    free(enc);

    /* without a collection type */
    CHECK_OK(atls_cmw_encode_collection(NULL, entries, 1, &enc, &len));
    CHECK(enc[0] == 0xa1);
    CHECK_OK(atls_cmw_decode(enc, len, &cmw));
    CHECK(cmw.num_leaves == 1 && atls_cursor_is_empty(&cmw.collection_type));
    free(enc);

    /* usage: duplicate label, reserved label, no entries */
    atls_cmw_entry dup[2] = {entries[0], entries[0]};
    CHECK_ERR(atls_cmw_encode_collection(NULL, dup, 2, &enc, &len), ATLS_ERR_USAGE);
    dup[0].label = "__cmwc_t";
    CHECK_ERR(atls_cmw_encode_collection(NULL, dup, 1, &enc, &len), ATLS_ERR_USAGE);
    CHECK_ERR(atls_cmw_encode_collection(NULL, entries, 0, &enc, &len), ATLS_ERR_USAGE);

    /* nested: {1: {"a": ["t", h'01', 4]}, "b": [30001, h'02']} (int label, C-F type) */
    size_t n;
    uint8_t *in = unhex("a201a161618361744101046162821975314102", &n);
    CHECK_OK(atls_cmw_decode(in, n, &cmw));
    CHECK(cmw.num_leaves == 2);
    CHECK(cmw.leaves[0].depth == 2 && atls_cbor_key_is_int(&cmw.leaves[0].path[0], 1) &&
          atls_cbor_key_is_text(&cmw.leaves[0].path[1], "a"));
    CHECK(atls_cmw_leaf_type_is(&cmw.leaves[0], "t") && cmw.leaves[0].ind == 4);
    CHECK(cmw.leaves[1].type_is_cf && cmw.leaves[1].content_format == 30001);
    CHECK(!atls_cmw_leaf_type_is(&cmw.leaves[1], "t"));
    for (size_t cut = 0; cut < n; cut++) {
        CHECK_ERR(atls_cmw_decode(in, cut, &cmw), ATLS_ERR_DECODE_TRUNCATED);
    }
    free(in);
}

static void expect_bad(const char *hex, atls_error code)
{
    size_t n;
    uint8_t *in = unhex(hex, &n);
    atls_cmw cmw;
    atls_error rc = atls_cmw_decode(in, n, &cmw);
    CHECK_ERR(rc, code);
    if (rc != code) {
        printf("  input %s\n", hex);
    }
    CHECK(cmw.num_leaves == 0);
    free(in);
}

static void test_wrong_shapes(void)
{
    /* records */
    expect_bad("816174", ATLS_ERR_EVIDENCE_FORMAT);             /* 1 element: not a CMW start */
    expect_bad("826174", ATLS_ERR_DECODE_TRUNCATED);            /* 2 announced, 1 present */
    expect_bad("84617441010401", ATLS_ERR_EVIDENCE_FORMAT);     /* 0x84 starts no CMW */
    expect_bad("a1616184617441010401", ATLS_ERR_DECODE_LENGTH); /* 4-element record nested */
    expect_bad("a161618161 74", ATLS_ERR_DECODE_LENGTH);
    expect_bad("824101 4101", ATLS_ERR_DECODE_TYPE);            /* type is a bstr */
    expect_bad("8260 4101", ATLS_ERR_DECODE_LENGTH);            /* empty media type */
    expect_bad("82620a0b4101", ATLS_ERR_DECODE_VALUE);          /* control chars in type */
    expect_bad("821a000100004101", ATLS_ERR_DECODE_VALUE);      /* C-F > 65535 */
    expect_bad("8261746101", ATLS_ERR_DECODE_TYPE);             /* value is a tstr */
    expect_bad("836174 4101", ATLS_ERR_DECODE_TRUNCATED);
    expect_bad("836174410100", ATLS_ERR_DECODE_VALUE);          /* ind 0 */
    expect_bad("8361744101 1b0000000100000000", ATLS_ERR_DECODE_VALUE); /* ind > 32 bits */
    expect_bad("836174410120", ATLS_ERR_DECODE_TYPE);           /* ind negative */
    expect_bad("9f61744101ff", ATLS_ERR_DECODE_VALUE);          /* indefinite array */
    /* collections */
    expect_bad("a0", ATLS_ERR_DECODE_LENGTH);                   /* empty */
    expect_bad("a1685f5f636d77635f746174", ATLS_ERR_DECODE_LENGTH); /* only __cmwc_t */
    expect_bad("a2685f5f636d77635f7401 01826174 4101", ATLS_ERR_DECODE_TYPE); /* bad cmwc_t */
    expect_bad("a2685f5f636d77635f7460 01826174 4101", ATLS_ERR_DECODE_LENGTH); /* empty */
    expect_bad("a1 40 826174 4101", ATLS_ERR_DECODE_TYPE);      /* bstr label */
    expect_bad("a2 01 826174 4101 01 826174 4101", ATLS_ERR_DECODE_VALUE); /* dup label */
    expect_bad("a1 01 01", ATLS_ERR_DECODE_TYPE);               /* member not a CMW */
    expect_bad("a1 01 d9018f 4101", ATLS_ERR_DECODE_TYPE);      /* member is a tag */
    expect_bad("bf 01 826174 4101 ff", ATLS_ERR_DECODE_VALUE);  /* indefinite map */
    /* nesting: 4 collection levels OK, 5 too deep */
    expect_bad("a101 a101 a101 a101 a101 826174 4101", ATLS_ERR_DECODE_TOO_LARGE);
    /* forms atls refuses */
    expect_bad("da63740a13 4101", ATLS_ERR_DECODE_TYPE);        /* tagged CBOR CMW */
    expect_bad("d9018fa0", ATLS_ERR_EVIDENCE_FORMAT);           /* bare CCA token */
    expect_bad("5b5d", ATLS_ERR_DECODE_TYPE);                   /* JSON "[]" */
    expect_bad("7b7d", ATLS_ERR_DECODE_TYPE);                   /* JSON "{}" */
    expect_bad("00", ATLS_ERR_EVIDENCE_FORMAT);

    size_t n;
    uint8_t *ok = unhex("a101a101a101a1018261744101", &n);
    atls_cmw cmw;
    CHECK_OK(atls_cmw_decode(ok, n, &cmw));
    CHECK(cmw.num_leaves == 1 && cmw.leaves[0].depth == 4);
    free(ok);

    /* too many leaves: a collection of 17 records */
    uint8_t buf[2 + 17 * 6];
    size_t off = 0;
    buf[off++] = 0xb1; /* map(17) */
    for (uint8_t i = 0; i < 17; i++) {
        const uint8_t rec[] = {i, 0x82, 0x61, 0x74, 0x41, 0x01};
        memcpy(buf + off, rec, sizeof(rec));
        off += sizeof(rec);
    }
    CHECK_ERR(atls_cmw_decode(buf, off, &cmw), ATLS_ERR_DECODE_TOO_LARGE);
    buf[0] = 0xb0; /* map(16): fits */
    CHECK_OK(atls_cmw_decode(buf, off - 6, &cmw));
    CHECK(cmw.num_leaves == 16);

    /* size ceiling on input */
    uint8_t *huge = calloc(1, ATLS_CMW_MAX_SIZE + 1);
    huge[0] = 0x82;
    CHECK_ERR(atls_cmw_decode(huge, ATLS_CMW_MAX_SIZE + 1, &cmw), ATLS_ERR_DECODE_TOO_LARGE);
    free(huge);
    CHECK_ERR(atls_cmw_decode(NULL, 0, &cmw), ATLS_ERR_DECODE_TRUNCATED);
}

int main(void)
{
    test_record_round_trip();
    test_collection();
    test_wrong_shapes();
    return check_summary();
}
