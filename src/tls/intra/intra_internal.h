/* intra_internal.h: INSECURE baseline (intra_insecure.h), what its files share. */
#ifndef ATLS_TLS_INTRA_INTERNAL_H
#define ATLS_TLS_INTRA_INTERNAL_H

#include "tls/intra/intra_insecure.h"

#include "appraisal/appraise/appraisal_internal.h"
#include "appraisal/policy/policy_section.h"
#include "base/cursor.h"
#include "evidence/core/plugin.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many EvidenceTypes are kept from a ClientHello (4 bytes each at least, in a
 * 255-byte vector). */
#define INTRA_MAX_TYPES 64
/* The ClientHello copy kept for the early exporter: a ClientHello larger than this fails the
 * exp0 binders (ours is ~300 bytes; OpenSSL accepts up to 128 KiB). */
#define INTRA_MAX_CLIENT_HELLO (64u * 1024u)
#define INTRA_REASON_MAX 256

/* One -08 EvidenceType (section 4). media_type borrows the bytes it was decoded from. */
typedef struct intra_evidence_type {
    uint8_t kind;          /* ATLS_INTRA_INSECURE_KIND_* */
    uint8_t encoding;      /* ATLS_INTRA_INSECURE_ENC_* */
    uint16_t content_format;
    atls_cursor media_type;
} intra_evidence_type;

/* A decoded evidence_request of a ClientHello. */
typedef struct intra_request {
    size_t num_types;
    intra_evidence_type types[INTRA_MAX_TYPES];
    atls_cursor nonce;
} intra_request;

/* intra_wire.c: the evidence_request codec (-08 section 4). Decoders check every length
 * against the draft's bounds and refuse trailing bytes. */
ATLS_MUST_CHECK atls_error intra_request_encode(uint8_t kind, const char *const *media_types,
                                                const uint8_t *nonce, size_t nonce_len,
                                                uint8_t **out, size_t *out_len);
ATLS_MUST_CHECK atls_error intra_request_decode(const uint8_t *data, size_t len,
                                                intra_request *out);
ATLS_MUST_CHECK atls_error intra_selected_encode(uint8_t kind, const char *media_type,
                                                 uint8_t **out, size_t *out_len);
ATLS_MUST_CHECK atls_error intra_selected_decode(const uint8_t *data, size_t len,
                                                 intra_evidence_type *out);
bool intra_type_is(const intra_evidence_type *t, uint8_t kind, const char *media_type);

/* The SSL_CTX's copy of the configuration (owned by the SSL_CTX through ex_data). */
typedef struct intra_ctx {
    atls_intra_insecure_config cfg;  /* pointers borrowed, except the copies below */
    int is_server;
    char *hostname;
    uint8_t nonce[ATLS_INTRA_INSECURE_NONCE_MAX];
    const char *offered[16 + 1];     /* client: offered media types (borrowed strings) */
    const char *server_media_type;   /* server: what its Evidence source produces */
} intra_ctx;

/* Per-connection state (owned by the SSL through ex_data). */
typedef struct intra_conn {
    uint8_t *client_hello;           /* first ClientHello as sent / received, with header */
    size_t client_hello_len;
    uint8_t shts[EVP_MAX_MD_SIZE];   /* SERVER_HANDSHAKE_TRAFFIC_SECRET from the key log */
    size_t shts_len;
    uint8_t nonce[ATLS_INTRA_INSECURE_NONCE_MAX];
    size_t nonce_len;
    int have_request;                /* server: the ClientHello carried evidence_request */
    int selected;                    /* server: index of the chosen type; client: EE seen */
    int have_inputs;
    atls_intra_insecure_binder_inputs inputs;
    uint8_t *evidence;               /* CMW sent or received */
    size_t evidence_len;
    int appraised;                   /* client: appraisal ran */
    int attested;                    /* client: appraisal succeeded */
    atls_appraisal appraisal;
    atls_error error;
    char reason[INTRA_REASON_MAX];
} intra_conn;

/* intra_ctx.c */
intra_ctx *intra_ctx_get(const SSL *ssl);
intra_conn *intra_conn_get(const SSL *ssl);
/* intra_conn_ensure: the connection's state, created on first use (NULL: out of memory). */
intra_conn *intra_conn_ensure(SSL *ssl);
/* intra_fail records why the baseline failed this handshake and returns |code|. */
atls_error intra_fail(intra_conn *c, atls_error code);

/* intra_binder.c */
/* intra_binder_inputs fills |out| for |binder| from this end's view of |ssl|: |nonce|, the
 * first ClientHello, the server handshake traffic secret and the leaf |cert|. */
ATLS_MUST_CHECK atls_error intra_binder_inputs(SSL *ssl, const intra_conn *c, X509 *cert,
                                               atls_intra_insecure_binder binder,
                                               atls_intra_insecure_binder_inputs *out);
/* RFC 8446 section 7.1 building blocks over the suite hash |md| (exposed for the KAT tests). */
ATLS_MUST_CHECK atls_error intra_hkdf_extract(const EVP_MD *md, const uint8_t *salt,
                                              size_t salt_len, const uint8_t *ikm,
                                              size_t ikm_len, uint8_t *out, size_t *out_len);
ATLS_MUST_CHECK atls_error intra_hkdf_expand_label(const EVP_MD *md, const uint8_t *secret,
                                                   size_t secret_len, const char *label,
                                                   const uint8_t *context, size_t context_len,
                                                   uint8_t *out, size_t out_len);
/* RFC 8446 section 7.5 exporter from an exporter master |secret|. */
ATLS_MUST_CHECK atls_error intra_tls13_export(const EVP_MD *md, const uint8_t *secret,
                                              size_t secret_len, const char *label,
                                              const uint8_t *context, size_t context_len,
                                              uint8_t *out, size_t out_len);
/* early exporter of a non-PSK handshake (RFC 8446 sections 7.1, 7.5): a public function of
 * the ClientHello. */
ATLS_MUST_CHECK atls_error intra_early_export(const EVP_MD *md, const uint8_t *client_hello,
                                              size_t client_hello_len, const char *label,
                                              uint8_t *out, size_t out_len);

/* intra_server.c / intra_client.c: the custom extension callbacks of each role. */
int intra_server_request_parse(SSL *s, unsigned int ext_type, unsigned int context,
                               const unsigned char *in, size_t inlen, X509 *x, size_t chainidx,
                               int *al, void *arg);
int intra_server_request_add(SSL *s, unsigned int ext_type, unsigned int context,
                             const unsigned char **out, size_t *outlen, X509 *x,
                             size_t chainidx, int *al, void *arg);
int intra_server_evidence_parse(SSL *s, unsigned int ext_type, unsigned int context,
                                const unsigned char *in, size_t inlen, X509 *x,
                                size_t chainidx, int *al, void *arg);
int intra_server_evidence_add(SSL *s, unsigned int ext_type, unsigned int context,
                              const unsigned char **out, size_t *outlen, X509 *x,
                              size_t chainidx, int *al, void *arg);
int intra_client_request_add(SSL *s, unsigned int ext_type, unsigned int context,
                             const unsigned char **out, size_t *outlen, X509 *x,
                             size_t chainidx, int *al, void *arg);
int intra_client_request_parse(SSL *s, unsigned int ext_type, unsigned int context,
                               const unsigned char *in, size_t inlen, X509 *x, size_t chainidx,
                               int *al, void *arg);
int intra_client_evidence_add(SSL *s, unsigned int ext_type, unsigned int context,
                              const unsigned char **out, size_t *outlen, X509 *x,
                              size_t chainidx, int *al, void *arg);
int intra_client_evidence_parse(SSL *s, unsigned int ext_type, unsigned int context,
                                const unsigned char *in, size_t inlen, X509 *x,
                                size_t chainidx, int *al, void *arg);
int intra_client_verify(X509_STORE_CTX *store, void *arg);
/* free_cb for every add_cb that returns malloc'd bytes */
void intra_free_ext(SSL *s, unsigned int ext_type, unsigned int context,
                    const unsigned char *out, void *arg);

#endif /* ATLS_TLS_INTRA_INTERNAL_H */
