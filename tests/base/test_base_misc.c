/* test_base_misc: error convention, hex, files. */
#include "base/file.h"
#include "base/hex.h"
#include "base/result.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atls_error raise_it(void)
{
    ATLS_RAISE(ATLS_ERR_DECODE_TRUNCATED, "field %s ends early", "x");
}

static void test_errors(void)
{
    CHECK(raise_it() == ATLS_ERR_DECODE_TRUNCATED);
    CHECK(strstr(atls_error_detail(), "test_base_misc.c:") != NULL);
    CHECK(strcmp(atls_error_message(), "field x ends early") == 0);
    CHECK(strcmp(atls_error_category(ATLS_ERR_DECODE_TRUNCATED), "decode") == 0);
    CHECK(strcmp(atls_error_category(ATLS_ERR_POLICY_MISMATCH), "policy") == 0);
    CHECK(strcmp(atls_error_category(ATLS_OK), "ok") == 0);
    CHECK(strcmp(atls_strerror((atls_error)12345), "unknown error") == 0);
    CHECK(strcmp(atls_strerror(ATLS_ERR_CRYPTO_MAC), "MAC verification failed") == 0);
    atls_error_clear();
    CHECK(atls_error_detail()[0] == '\0');
}

static void test_hex(void)
{
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK_OK(atls_hex_decode("00aBff", &out, &len));
    CHECK(len == 3 && out[0] == 0 && out[1] == 0xab && out[2] == 0xff);
    char s[7];
    CHECK_OK(atls_hex_encode(s, sizeof(s), out, len));
    CHECK(strcmp(s, "00abff") == 0);
    CHECK_ERR(atls_hex_encode(s, 6, out, len), ATLS_ERR_USAGE);
    free(out);
    CHECK_ERR(atls_hex_decode("abc", &out, &len), ATLS_ERR_DECODE_VALUE);
    CHECK_ERR(atls_hex_decode("zz", &out, &len), ATLS_ERR_DECODE_VALUE);
    CHECK_ERR(atls_hex_decode("0x00", &out, &len), ATLS_ERR_DECODE_VALUE);
    uint8_t fixed[2];
    CHECK_OK(atls_hex_decode_fixed("0102", fixed, 2));
    CHECK_ERR(atls_hex_decode_fixed("010203", fixed, 2), ATLS_ERR_DECODE_LENGTH);
}

static void test_files(void)
{
    char dir[] = "/tmp/atls-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof(path), "%s/f", dir);
    CHECK_OK(atls_file_write_atomic(path, (const uint8_t *)"hello", 5, 1));
    uint8_t *data = NULL;
    size_t len = 0;
    CHECK_OK(atls_file_read(path, 0, &data, &len));
    CHECK(len == 5 && memcmp(data, "hello", 5) == 0 && data[5] == '\0');
    free(data);
    CHECK_ERR(atls_file_read(path, 4, &data, &len), ATLS_ERR_DECODE_TOO_LARGE);
    CHECK_ERR(atls_file_read("/nonexistent/atls", 0, &data, &len), ATLS_ERR_IO_FILE);
    CHECK(strstr(atls_error_message(), "/nonexistent/atls") != NULL);
    CHECK_ERR(atls_file_read(dir, 0, &data, &len), ATLS_ERR_IO_FILE);
    CHECK_ERR(atls_file_write_atomic("/nonexistent/dir/x", (const uint8_t *)"a", 1, 0),
              ATLS_ERR_IO_FILE);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_errors();
    test_hex();
    test_files();
    return check_summary();
}
