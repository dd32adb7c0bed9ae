/* verify_inputs.h: the trust inputs of `atls verify` (an atls_verify_input that owns what it
 * points to) and RFC 3339 time parsing for --at. */
#ifndef ATLS_TOOLS_VERIFY_INPUTS_H
#define ATLS_TOOLS_VERIFY_INPUTS_H

#include "cli.h"

#include <time.h>

#define VERIFY_MAX_KEYS 16

typedef struct verify_inputs {
    atls_verify_input in;          /* points into the fields below (owned here) */
    EVP_PKEY *keys[VERIFY_MAX_KEYS];
} verify_inputs;

void verify_inputs_init(verify_inputs *v);
void verify_inputs_cleanup(verify_inputs *v);

/* verify_inputs_add_anchor: PEM certificates → trust_anchors; a file without certificates
 * may hold PEM public keys instead → trusted_keys (pinned keys). */
int verify_inputs_add_anchor(verify_inputs *v, const char *path);
/* verify_inputs_add_intermediates: PEM certificates → intermediates. */
int verify_inputs_add_intermediates(verify_inputs *v, const char *path);
/* verify_inputs_add_crl: PEM CRLs, or one DER CRL → crls. */
int verify_inputs_add_crl(verify_inputs *v, const char *path);

/* verify_parse_time parses an RFC 3339 date-time (section 5.6) into seconds since the epoch. */
int verify_parse_time(const char *s, time_t *out);

#endif /* ATLS_TOOLS_VERIFY_INPUTS_H */
