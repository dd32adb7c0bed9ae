/* ea_testutil.h: helpers shared by the tests/ea programs (not part of tests/lib). */
#ifndef ATLS_TESTS_EA_TESTUTIL_H
#define ATLS_TESTS_EA_TESTUTIL_H

#include "check.h"
#include "tls/ea/ea_internal.h"
#include "testcert.h"
#include "tls_pair.h"

#define SUITE_SHA256 "TLS_AES_128_GCM_SHA256"
#define SUITE_SHA384 "TLS_AES_256_GCM_SHA384"
#define EXT_CMW 0xFF00

/* new_pair: a TLS 1.3 pair with |suite| (aborts the test program on failure: fixture). */
tls_pair *new_pair(const char *suite);

/* expected_scheme: the scheme atls picks from its default list for a key type. */
uint16_t expected_scheme(testcert_keytype type);

/* request_at_peer: what the peer gets when |req| travels over the wire (parsed copy). */
atls_ea_request *request_at_peer(const atls_ea_request *req);

#endif
