/* fuzz_ea_fixture.h: the fixed request parameters shared by fuzz_ea_auth.c and make_seeds.c. */
#ifndef ATLS_FUZZ_EA_FIXTURE_H
#define ATLS_FUZZ_EA_FIXTURE_H

#include <stdint.h>

#define FUZZ_EA_EXT_CMW 0xFF00u
#define FUZZ_EA_CONTEXT ((const uint8_t *)"atls-fuzz-context-0123456789abcd")
#define FUZZ_EA_CONTEXT_LEN 32

#endif /* ATLS_FUZZ_EA_FIXTURE_H */
