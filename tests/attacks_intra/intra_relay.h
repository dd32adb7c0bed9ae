/* intra_relay.h: the relay attacker's Evidence source against the INSECURE intra-handshake
 * baseline (Intra-handshake.fail): for each victim handshake, A opens its own baseline
 * connection to the genuine server S1, forwarding the victim's nonce (and, for binder #1, its
 * client random), and hands S1's fresh Evidence on. A holds S1's TLS key; it has no attestation
 * key. Used as an atls_intra_insecure_evidence_cb of A's baseline server (tests/attacks_intra
 * and the intra_attacker tool of scripts/attack-demo). */
#ifndef ATLS_TESTS_ATTACKS_INTRA_RELAY_H
#define ATLS_TESTS_ATTACKS_INTRA_RELAY_H

#include "tls/intra/intra_insecure.h"

typedef struct intra_relay {
    int upstream_port;               /* S1 on 127.0.0.1 */
    atls_intra_insecure_mode mode;
    atls_intra_insecure_binder binder;
    int forward_client_random;       /* put the victim's client random into A's ClientHello */
    const char *media_type;          /* the evidence type A asks S1 for */
    X509_STORE *trust;               /* x509 mode: what A checks S1 against (public) */
    const char *hostname;
    int relayed;                     /* Evidence handed on so far */
    int random_forwarded;            /* times A's ClientHello really carried the victim's */
} intra_relay;

/* intra_relay_evidence: the evidence callback (|arg| an intra_relay). Not thread-safe: one
 * victim at a time. */
atls_error intra_relay_evidence(void *arg, SSL *ssl, const atls_intra_insecure_binder_inputs *in,
                                const uint8_t challenge[ATLS_CHALLENGE_LEN], uint8_t **cmw,
                                size_t *cmw_len);

#endif /* ATLS_TESTS_ATTACKS_INTRA_RELAY_H */
