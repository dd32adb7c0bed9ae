/* serve_config.h: what `atls serve` reloads on SIGHUP: the TLS context with certificate, chain
 * and key, and the client policy with its CA, as one immutable, reference-counted snapshot.
 *
 * A connection takes a reference when it starts and keeps that snapshot until it ends (its
 * session borrows the certificate, key and policy), so a reload never changes a live
 * connection. A reload builds a complete new snapshot from the same files first and installs
 * it only when every file loaded and fits together (the key matches the certificate, the
 * policy is valid): it is all or nothing, and a failed reload leaves the running snapshot in
 * place (like nginx -s reload).
 *
 * Thread-safety: a snapshot is immutable once loaded; serve_config_ref / _unref may be called
 * from any thread (atomic count). The slot is guarded by its own mutex. Nothing here assumes a
 * thread per connection: an event loop takes one reference per connection the same way. */
#ifndef ATLS_TOOLS_SERVE_CONFIG_H
#define ATLS_TOOLS_SERVE_CONFIG_H

#include "cli.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>

/* The files a snapshot is loaded from (borrowed strings; NULL: not given). */
typedef struct serve_files {
    const char *cert, *key, *chain;
    const char *client_policy, *client_ca; /* both or neither */
} serve_files;

typedef struct serve_config {
    SSL_CTX *ctx;                 /* TLS 1.3 server context (atls_ssl_ctx_configure) */
    X509 *cert;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
    atls_policy *client_policy;   /* NULL: clients are not asked to attest */
    unsigned long generation;     /* 1 at start, +1 per successful reload */
    char cert_subject[160];       /* for the log */
    atomic_long refs;
} serve_config;

/* serve_config_load builds a snapshot from |f|. Returns 0 and *out (one reference), or an exit
 * code after printing what was wrong with cli_error (one line; capture it with
 * cli_capture_errors). */
int serve_config_load(const serve_files *f, serve_config **out);

/* serve_config_ref adds a reference and returns |c|; serve_config_unref drops one and frees
 * the snapshot with the last (NULL-safe). */
serve_config *serve_config_ref(serve_config *c);
void serve_config_unref(serve_config *c);

/* The running snapshot. */
typedef struct serve_config_slot {
    pthread_mutex_t lock;
    serve_config *current;
} serve_config_slot;

/* serve_config_slot_init takes over the reference |first|. */
void serve_config_slot_init(serve_config_slot *s, serve_config *first);
/* serve_config_slot_get returns a new reference to the running snapshot (caller unrefs). */
serve_config *serve_config_slot_get(serve_config_slot *s);
/* serve_config_slot_swap installs |fresh| (its reference taken over; its generation set to
 * the running one + 1) and drops the slot's reference to the previous snapshot, which lives
 * on while connections still hold it. */
void serve_config_slot_swap(serve_config_slot *s, serve_config *fresh);
/* serve_config_slot_cleanup drops the slot's reference. */
void serve_config_slot_cleanup(serve_config_slot *s);

#endif /* ATLS_TOOLS_SERVE_CONFIG_H */
