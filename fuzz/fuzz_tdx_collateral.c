/* fuzz_tdx_collateral.c: the TDX collateral parser and TCB evaluation
 * (atls_tdx_collateral_check: TCB Info v3 and QE Identity v2 JSON, tdx_collateral.c).
 *
 * Input: the "tcbInfo" member's value, optionally followed by a 0x00 byte and the
 * "enclaveIdentity" member's value. The target wraps each into {"<member>":<value>,
 * "signature":"<hex>"} signed here with the TCB signing key of a test PKI made once per process
 * (tests/evidence/tdx/tdx_testgen.c), so the signature check passes and the fuzzer reaches the JSON
 * walking and the TCB level matching without a bypass. The quote and PCK data compared with the
 * collateral come from one generated quote. */
#include "fuzz.h"

#include "base/writer.h"
#include "codec/cose/cose.h"
#include "evidence/tdx/tdx_internal.h"
#include "tdx_testgen.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

static int ready;
static tg_tdx_pki pki;
static uint8_t *quote_bytes;
static atls_tdx_quote quote;
static atls_tdx_pck_info pck;
static STACK_OF(X509) *anchors;
static int ti_fd = -1, qe_fd = -1, chain_fd = -1;
static char ti_path[64], qe_path[64], chain_path[64];
static time_t at;

/* The values make_seeds.c uses too (same as tests/evidence/tdx/test_tdx.c). */
static const uint8_t FMSPC[6] = {0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb};
static const uint8_t COMP[16] = {5, 5, 2, 2, 3, 1, 0, 3};

/* anon_file: an unlinked temporary file reached through /proc/self/fd/N (the collateral API
 * reads paths), so nothing is left behind however the fuzzer exits. */
static int anon_file(char *path, size_t path_size)
{
    char tmpl[] = "/tmp/atls-fuzz-tdx-XXXXXX";
    int fd = mkstemp(tmpl);
    FUZZ_SETUP(fd >= 0 && unlink(tmpl) == 0);
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

/* replace_contents makes |fd|'s file hold exactly |len| bytes of |data|. */
static void replace_contents(int fd, const uint8_t *data, size_t len)
{
    FUZZ_SETUP(ftruncate(fd, 0) == 0);
    FUZZ_SETUP(len == 0 || pwrite(fd, data, len, 0) == (ssize_t)len);
}

static void setup(void)
{
    FUZZ_SETUP(tg_tdx_pki_new(&pki, FMSPC, COMP, 11));
    tg_tdx_fields f;
    tg_tdx_defaults(&f);
    size_t len = 0, chain_off = 0;
    quote_bytes = tg_tdx_quote(&pki, &f, &len, &chain_off);
    FUZZ_SETUP(quote_bytes != NULL);
    FUZZ_SETUP(atls_tdx_quote_parse(quote_bytes, len, &quote) == ATLS_OK);
    FUZZ_SETUP(atls_tdx_pck_info_get(pki.pck, &pck) == ATLS_OK);
    anchors = sk_X509_new_null();
    FUZZ_SETUP(anchors != NULL && sk_X509_push(anchors, pki.root) > 0);
    ti_fd = anon_file(ti_path, sizeof(ti_path));
    qe_fd = anon_file(qe_path, sizeof(qe_path));
    chain_fd = anon_file(chain_path, sizeof(chain_path));
    FUZZ_SETUP(tg_tdx_write_chain(&pki, chain_path));
    at = time(NULL);
    ready = 1;
}

/* write_signed makes |fd| hold {"member":value,"signature":"hex"} signed over |value|. */
static void write_signed(int fd, const char *member, const uint8_t *value, size_t len)
{
    uint8_t sig[64];
    FUZZ_SETUP(atls_ecdsa_sign_raw(pki.tcb_key, EVP_sha256(), value, len, 32, sig) == ATLS_OK);
    atls_writer w;
    atls_writer_init(&w, 0);
    char hex[2 * sizeof(sig) + 1];
    for (size_t i = 0; i < sizeof(sig); i++) {
        snprintf(hex + 2 * i, 3, "%02x", sig[i]);
    }
    FUZZ_SETUP(atls_writer_add_bytes(&w, (const uint8_t *)"{\"", 2) &&
               atls_writer_add_bytes(&w, (const uint8_t *)member, strlen(member)) &&
               atls_writer_add_bytes(&w, (const uint8_t *)"\":", 2) &&
               atls_writer_add_bytes(&w, value, len) &&
               atls_writer_add_bytes(&w, (const uint8_t *)",\"signature\":\"", 14) &&
               atls_writer_add_bytes(&w, (const uint8_t *)hex, 2 * sizeof(sig)) &&
               atls_writer_add_bytes(&w, (const uint8_t *)"\"}\n", 3));
    replace_contents(fd, atls_writer_data(&w), atls_writer_len(&w));
    atls_writer_cleanup(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        setup();
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t ti_len = nul != NULL ? (size_t)(nul - data) : size;
    write_signed(ti_fd, "tcbInfo", data, ti_len);
    atls_verify_input in;
    memset(&in, 0, sizeof(in));
    in.trust_anchors = anchors;
    in.at = at;
    in.tcb_info_path = ti_path;
    in.tcb_signing_chain_path = chain_path;
    if (nul != NULL) {
        write_signed(qe_fd, "enclaveIdentity", nul + 1, size - ti_len - 1);
        in.qe_identity_path = qe_path;
    }
    atls_tdx_collateral_result out;
    memset(&out, 0, sizeof(out));
    if (atls_tdx_collateral_check(&in, &quote, &pck, &out) == ATLS_OK) {
        /* a status is claimed exactly when the QE Identity was appraised too */
        FUZZ_REQUIRE(out.tcb_info_checked && out.merged != ATLS_TDX_TCB_NOT_EVALUATED);
        FUZZ_REQUIRE((out.status == ATLS_TDX_TCB_NOT_EVALUATED) == !out.qe_identity_checked);
        FUZZ_REQUIRE(atls_tdx_tcb_status_name(out.status) != NULL);
        FUZZ_REQUIRE(memchr(out.tcb_date, 0, sizeof(out.tcb_date)) != NULL);
        FUZZ_REQUIRE(nul != NULL || out.qe_status == ATLS_TDX_TCB_NOT_EVALUATED);
    }
    json_decref(out.advisory_ids);
    return 0;
}
