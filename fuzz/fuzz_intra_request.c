/* fuzz_intra_request.c: the INSECURE intra-handshake baseline's evidence_request decoders
 * (ClientHello and EncryptedExtensions forms, src/tls/intra/intra_wire.c), and decode -> encode
 * identity for every ClientHello form the encoder can produce (one credential kind, media types
 * only). Byte 0 picks the form (even: ClientHello, odd: EncryptedExtensions). */
#include "fuzz.h"

#include "tls/intra/intra_internal.h"

#include <string.h>

static void reencode_check(const uint8_t *data, size_t size, const intra_request *req)
{
    char names[INTRA_MAX_TYPES][256];
    const char *list[INTRA_MAX_TYPES + 1];
    uint8_t kind = req->types[0].kind;
    for (size_t i = 0; i < req->num_types; i++) {
        const intra_evidence_type *t = &req->types[i];
        size_t n = atls_cursor_remaining(&t->media_type);
        if (t->kind != kind || t->encoding != ATLS_INTRA_INSECURE_ENC_MEDIA_TYPE || n >= 256 ||
            memchr(atls_cursor_data(&t->media_type), 0, n) != NULL) {
            return; /* not a form the encoder makes */
        }
        memcpy(names[i], atls_cursor_data(&t->media_type), n);
        names[i][n] = '\0';
        list[i] = names[i];
    }
    list[req->num_types] = NULL;
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    FUZZ_REQUIRE(intra_request_encode(kind, list, atls_cursor_data(&req->nonce),
                                      atls_cursor_remaining(&req->nonce), &enc,
                                      &enc_len) == ATLS_OK);
    FUZZ_REQUIRE(enc_len == size && memcmp(enc, data, size) == 0);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int ee = data[0] & 1;
    data++;
    size--;
    if (ee) {
        intra_evidence_type t;
        if (intra_selected_decode(data, size, &t) == ATLS_OK) {
            FUZZ_REQUIRE(t.kind <= ATLS_INTRA_INSECURE_KIND_CERT_ATTESTATION);
        }
        return 0;
    }
    intra_request req;
    if (intra_request_decode(data, size, &req) == ATLS_OK) {
        FUZZ_REQUIRE(req.num_types >= 1 && req.num_types <= INTRA_MAX_TYPES);
        FUZZ_REQUIRE(atls_cursor_remaining(&req.nonce) >= ATLS_INTRA_INSECURE_NONCE_MIN &&
                     atls_cursor_remaining(&req.nonce) <= ATLS_INTRA_INSECURE_NONCE_MAX);
        reencode_check(data, size, &req);
    }
    return 0;
}
