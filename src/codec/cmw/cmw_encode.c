/* cmw_encode.c: CBOR record and flat collection encoders of cmw.h
 * (draft-ietf-rats-msg-wrap-23 section 3). */
#include "codec/cmw/cmw.h"

#include "base/result.h"

#include <string.h>

static bool printable_str(const char *s)
{
    if (s == NULL || *s == '\0') {
        return false;
    }
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
            return false;
        }
    }
    return true;
}

atls_error atls_cmw_write_record(atls_writer *w, const char *media_type, const uint8_t *value,
                                 size_t value_len, uint32_t ind)
{
    ATLS_ENSURE(printable_str(media_type), ATLS_ERR_USAGE,
                "CMW: media type must be non-empty printable ASCII");
    ATLS_ENSURE(value != NULL || value_len == 0, ATLS_ERR_USAGE, "CMW: NULL value");
    bool ok = atls_cbor_put_array(w, ind != 0 ? 3 : 2) && atls_cbor_put_tstr(w, media_type) &&
              atls_cbor_put_bstr(w, value, value_len);
    if (ok && ind != 0) {
        ok = atls_cbor_put_uint(w, ind);
    }
    return ok ? ATLS_OK : atls_writer_status(w);
}

atls_error atls_cmw_encode_record(const char *media_type, const uint8_t *value,
                                  size_t value_len, uint32_t ind, uint8_t **out,
                                  size_t *out_len)
{
    atls_writer w;
    atls_writer_init(&w, ATLS_CMW_MAX_SIZE);
    atls_error rc = atls_cmw_write_record(&w, media_type, value, value_len, ind);
    if (rc == ATLS_OK) {
        rc = atls_writer_finish(&w, out, out_len);
    }
    atls_writer_cleanup(&w);
    return rc;
}

atls_error atls_cmw_encode_collection(const char *collection_type, const atls_cmw_entry *entries,
                                      size_t num_entries, uint8_t **out, size_t *out_len)
{
    ATLS_ENSURE(num_entries > 0 && entries != NULL, ATLS_ERR_USAGE,
                "CMW collection: needs at least one entry");
    ATLS_ENSURE(collection_type == NULL || printable_str(collection_type), ATLS_ERR_USAGE,
                "CMW collection: __cmwc_t must be non-empty printable ASCII");
    for (size_t i = 0; i < num_entries; i++) {
        ATLS_ENSURE(entries[i].label != NULL &&
                        strcmp(entries[i].label, ATLS_CMW_COLLECTION_TYPE_KEY) != 0,
                    ATLS_ERR_USAGE, "CMW collection: entry %zu has a missing or reserved label", i);
        for (size_t j = 0; j < i; j++) {
            ATLS_ENSURE(strcmp(entries[i].label, entries[j].label) != 0, ATLS_ERR_USAGE,
                        "CMW collection: label \"%s\" repeats", entries[i].label);
        }
    }
    atls_writer w;
    atls_writer_init(&w, ATLS_CMW_MAX_SIZE);
    atls_error rc = ATLS_OK;
    bool ok = atls_cbor_put_map(&w, num_entries + (collection_type != NULL ? 1 : 0));
    if (ok && collection_type != NULL) {
        ok = atls_cbor_put_tstr(&w, ATLS_CMW_COLLECTION_TYPE_KEY) &&
             atls_cbor_put_tstr(&w, collection_type);
    }
    for (size_t i = 0; ok && rc == ATLS_OK && i < num_entries; i++) {
        ok = atls_cbor_put_tstr(&w, entries[i].label);
        if (ok) {
            rc = atls_cmw_write_record(&w, entries[i].media_type, entries[i].value,
                                       entries[i].value_len, entries[i].ind);
        }
    }
    if (rc == ATLS_OK) {
        rc = atls_writer_finish(&w, out, out_len); /* reports a failed put too */
    }
    atls_writer_cleanup(&w);
    return rc;
}
