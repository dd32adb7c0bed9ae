/* tsm_report.c: the application/vnd.veraison.tsm-report+cbor map (evidence-formats.md 6). */
#include "evidence/tsm/tsm.h"

#include "base/result.h"
#include "base/writer.h"
#include "codec/cbor/cbor.h"

#include <string.h>

atls_error atls_tsm_report_decode(const uint8_t *data, size_t len, atls_tsm_report *out)
{
    memset(out, 0, sizeof(*out));
    ATLS_ENSURE(len <= ATLS_TSM_MAX_REPORT, ATLS_ERR_DECODE_TOO_LARGE,
                "tsm: report of %zu bytes exceeds %u", len, ATLS_TSM_MAX_REPORT);
    atls_cursor c;
    atls_cursor_init(&c, data, len);
    atls_cbor_map_iter it;
    bool have_out = false, have_provider = false;
    atls_cursor provider;
    ATLS_GUARD(atls_cbor_map_begin(&c, &it));
    while (atls_cbor_map_has_next(&it)) {
        atls_cbor_key k;
        ATLS_GUARD(atls_cbor_map_next_key(&c, &it, &k));
        if (atls_cbor_key_is_text(&k, "outblob")) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &out->outblob));
            have_out = true;
        } else if (atls_cbor_key_is_text(&k, "provider")) {
            ATLS_GUARD(atls_cbor_read_tstr(&c, &provider));
            have_provider = true;
        } else if (atls_cbor_key_is_text(&k, "auxblob")) {
            ATLS_GUARD(atls_cbor_read_bstr(&c, &out->auxblob));
            out->has_auxblob = true;
        } else {
            /* "service" (SVSM) and future members: ignored (evidence-formats.md 6) */
            ATLS_GUARD(atls_cbor_skip(&c));
        }
    }
    ATLS_ENSURE(atls_cursor_is_empty(&c), ATLS_ERR_DECODE_TRAILING,
                "tsm: bytes after the report map");
    ATLS_ENSURE(have_out && have_provider, ATLS_ERR_EVIDENCE_FORMAT,
                "tsm: the report needs \"outblob\" and \"provider\"");
    ATLS_ENSURE(atls_cursor_remaining(&out->outblob) > 0 &&
                    atls_cursor_remaining(&out->outblob) <= ATLS_TSM_MAX_BLOB,
                ATLS_ERR_EVIDENCE_FORMAT, "tsm: outblob must be 1..%u bytes", ATLS_TSM_MAX_BLOB);
    ATLS_ENSURE(atls_cursor_remaining(&out->auxblob) <= ATLS_TSM_MAX_BLOB,
                ATLS_ERR_EVIDENCE_FORMAT, "tsm: auxblob exceeds %u bytes", ATLS_TSM_MAX_BLOB);
    /* configfs returns the provider with its newline; ratsd keeps it (evidence-formats.md 6) */
    size_t n = atls_cursor_remaining(&provider);
    const uint8_t *p = atls_cursor_data(&provider);
    if (n > 0 && p[n - 1] == '\n') {
        n--;
    }
    ATLS_ENSURE(n > 0 && n <= ATLS_TSM_MAX_PROVIDER, ATLS_ERR_EVIDENCE_FORMAT,
                "tsm: provider must be 1..%d characters", ATLS_TSM_MAX_PROVIDER);
    for (size_t i = 0; i < n; i++) {
        ATLS_ENSURE(p[i] > 0x20 && p[i] < 0x7f, ATLS_ERR_EVIDENCE_FORMAT,
                    "tsm: provider is not printable ASCII");
    }
    memcpy(out->provider, p, n);
    out->provider[n] = '\0';
    return ATLS_OK;
}

atls_error atls_tsm_report_encode(const uint8_t *outblob, size_t outblob_len,
                                  const char *provider, const uint8_t *auxblob,
                                  size_t auxblob_len, uint8_t **out, size_t *out_len)
{
    ATLS_ENSURE(outblob != NULL && provider != NULL, ATLS_ERR_USAGE,
                "tsm: outblob and provider are required");
    atls_writer w;
    atls_writer_init(&w, ATLS_TSM_MAX_REPORT);
    /* RFC 8949 section 4.2.1 order: shorter encoded keys first, then bytewise */
    bool ok = atls_cbor_put_map(&w, auxblob != NULL ? 3 : 2);
    if (auxblob != NULL) {
        ok = ok && atls_cbor_put_tstr(&w, "auxblob") &&
             atls_cbor_put_bstr(&w, auxblob, auxblob_len);
    }
    ok = ok && atls_cbor_put_tstr(&w, "outblob") && atls_cbor_put_bstr(&w, outblob, outblob_len) &&
         atls_cbor_put_tstr(&w, "provider") && atls_cbor_put_tstr(&w, provider);
    (void)ok; /* the writer's sticky status reports any failure */
    atls_error rc = atls_writer_finish(&w, out, out_len);
    atls_writer_cleanup(&w);
    return rc;
}
