/* atls_mitm.h: the man in the middle of the relay and replay scenarios against atls
 * (atls_mitm.c): S1's stolen TLS key and certificate, no attestation key, its own atls
 * connection to S1. Runs on loopback (m->srv.lb.port); reads what the victim sends after it
 * attested (srv.secret). */
#ifndef ATLS_TESTS_ATTACKS_INTRA_ATLS_MITM_H
#define ATLS_TESTS_ATTACKS_INTRA_ATLS_MITM_H

#include "intra_lab.h"

#include <atls/error.h>

typedef enum atls_mitm_mode {
    ATLS_MITM_RELAY = 1,  /* fresh Evidence from S1 over the victim's request context */
    ATLS_MITM_REPLAY = 2, /* Evidence captured from S1 once, before the victim connected */
} atls_mitm_mode;

typedef struct atls_mitm {
    atls_mitm_mode mode;
    X509 *cert;             /* S1's certificate (borrowed) */
    EVP_PKEY *key;          /* S1's stolen key (borrowed) */
    int s1_port;
    SSL_CTX *ctx, *up_ctx;
    intra_lab_server srv;
    int started;
    uint8_t *captured;      /* replay: S1's cmw_attestation from an earlier exchange */
    size_t captured_len;
    int upstream_exchanges; /* Evidence obtained from S1 */
    int answers;            /* authenticators A sent the victim */
    atls_error victim_error; /* the code of the victim's ERROR frame, if any */
    char victim_reason[300];
    int victim_errors;      /* ERROR frames received (counters: under srv.mu) */
} atls_mitm;

int atls_mitm_start(atls_mitm *m, atls_mitm_mode mode, X509 *cert, EVP_PKEY *key, int s1_port);
/* atls_mitm_start_on: listening on 127.0.0.1:|port| (0: any free port). */
int atls_mitm_start_on(atls_mitm *m, atls_mitm_mode mode, X509 *cert, EVP_PKEY *key, int s1_port,
                       int port);
void atls_mitm_stop(atls_mitm *m);

#endif /* ATLS_TESTS_ATTACKS_INTRA_ATLS_MITM_H */
