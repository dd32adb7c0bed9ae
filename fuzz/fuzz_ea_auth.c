/* fuzz_ea_auth.c: authenticator validation (atls_ea_validate) on a real TLS 1.3 connection,
 * and atls_ea_get_context on the same bytes.
 *
 * One TLS pair per process; the client asked the server with a fixed request (fixed context
 * FUZZ_EA_CONTEXT, signature_algorithms by default, cmw_attestation 0xFF00 offered), so seeds
 * made by fuzz/make_seeds.c with the same context pass the context and extension checks and the
 * fuzzer explores Certificate / CertificateVerify / Finished parsing. The signature and MAC
 * checks reject every mutated input (the exporter secrets differ per connection): no bypass. */
#include "fuzz.h"
#include "fuzz_ea_fixture.h"

#include "testcert.h"
#include "tls_pair.h"

#include <atls/ea.h>

#include <string.h>

static tls_pair *pair;
static atls_ea_request *request;
static atls_ea_context_set *seen;
static X509_STORE *store;

static void setup(void)
{
    FUZZ_SETUP(tls_pair_new(&(tls_pair_options){0}, &pair) == ATLS_OK);
    atls_ea_extension ext = {FUZZ_EA_EXT_CMW, NULL, 0};
    atls_ea_request_options o;
    memset(&o, 0, sizeof(o));
    o.context = FUZZ_EA_CONTEXT;
    o.context_len = FUZZ_EA_CONTEXT_LEN;
    o.extensions = &ext;
    o.num_extensions = 1;
    FUZZ_SETUP(atls_ea_request_new(pair->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &o,
                                   &request) == ATLS_OK);
    FUZZ_SETUP(atls_ea_context_set_new(&seen) == ATLS_OK);
    testcert *ca = NULL;
    FUZZ_SETUP(testcert_ca_new("fuzz CA", &ca) == ATLS_OK);
    FUZZ_SETUP(testcert_store_new(ca, &store) == ATLS_OK);
    testcert_free(ca);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (pair == NULL) {
        setup();
    }
    uint8_t ctx[ATLS_EA_CONTEXT_MAX_LEN];
    size_t ctx_len = 0;
    if (atls_ea_get_context(data, size, ctx, &ctx_len) == ATLS_OK) {
        FUZZ_REQUIRE(ctx_len <= ATLS_EA_CONTEXT_MAX_LEN);
    }

    static const uint16_t first_only[] = {FUZZ_EA_EXT_CMW};
    atls_ea_validate_options vo;
    memset(&vo, 0, sizeof(vo));
    vo.first_entry_only = first_only;
    vo.num_first_entry_only = 1;
    vo.trust = store;
    vo.hostname = "server.test";
    atls_ea_result *res = NULL;
    /* the requested (client) side validates; a spontaneous authenticator too (request NULL) */
    atls_error rc = atls_ea_validate(pair->client, request, data, size, seen, &vo, &res);
    /* a mutated input cannot carry a valid signature over this connection's exporter */
    FUZZ_REQUIRE(rc != ATLS_OK);
    FUZZ_REQUIRE(res == NULL);
    rc = atls_ea_validate(pair->client, NULL, data, size, seen, &vo, &res);
    FUZZ_REQUIRE(rc != ATLS_OK && res == NULL);
    return 0;
}
