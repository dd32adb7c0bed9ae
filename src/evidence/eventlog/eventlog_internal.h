/* eventlog_internal.h: helpers shared by the files of src/evidence/eventlog/. */
#ifndef ATLS_EVIDENCE_EVENTLOG_INTERNAL_H
#define ATLS_EVIDENCE_EVENTLOG_INTERNAL_H

#include "base/result.h"
#include "evidence/eventlog/eventlog.h"

/* atls_evlog_new_event appends a zeroed event to |log| (and a zeroed IMA record for an IMA
 * log), growing the arrays geometrically up to ATLS_EVLOG_MAX_EVENTS; *cap is the capacity
 * the caller tracks (start at 0). */
ATLS_MUST_CHECK atls_error atls_evlog_new_event(atls_evlog *log, size_t *cap,
                                                atls_evlog_event **out);

/* atls_evlog_reraise: when |rc| is a failure, raise it again with "<where>: " in front of the
 * recorded message, so one line says where in the log it happened. */
ATLS_MUST_CHECK atls_error atls_evlog_reraise(atls_error rc, const char *fmt, ...)
    ATLS_PRINTF(2, 3);

/* atls_evlog_hash computes H_alg(data) into |out| (ATLS_EVLOG_MAX_DIGEST bytes). */
ATLS_MUST_CHECK atls_error atls_evlog_hash(uint16_t alg, const uint8_t *data, size_t len,
                                           uint8_t *out);

/* atls_evlog_ima_is_ima_template: 1 for the original "ima" template (no length fields). */
int atls_evlog_ima_is_ima_template(const atls_evlog_ima *m);

/* atls_evlog_ima_template_hash computes H_alg over what IMA hashes for an entry's template
 * digest: the template data, or for "ima" the digest and the path padded to 256 bytes. */
ATLS_MUST_CHECK atls_error atls_evlog_ima_template_hash(const atls_evlog_ima *m, uint16_t alg,
                                                        uint8_t *out);

/* ---- firmware event data (eventlog_efi.c) ---- */

/* UEFI_VARIABLE_DATA (PFP section 10.2.4), views into the event. */
typedef struct atls_evlog_variable {
    uint8_t guid[16];
    atls_cursor name_utf16;
    char name[64]; /* ASCII rendering of the name, '?' for anything else */
    atls_cursor data;
} atls_evlog_variable;

/* UEFI_IMAGE_LOAD_EVENT (PFP section 10.2.3). */
typedef struct atls_evlog_image {
    uint64_t location, length;
    atls_cursor device_path;
} atls_evlog_image;

int atls_evlog_is_variable_event(uint32_t type);
int atls_evlog_is_image_event(uint32_t type);

/* atls_evlog_parse_variable / _image: 1 when |d| is exactly one such structure. */
int atls_evlog_parse_variable(atls_cursor d, atls_evlog_variable *out);
int atls_evlog_parse_image(atls_cursor d, atls_evlog_image *out);

/* atls_evlog_variable_is: the variable has this vendor GUID and name. */
int atls_evlog_variable_is(const atls_evlog_variable *v, const uint8_t guid[16],
                           const char *name);

/* atls_evlog_guid_text formats an EFI_GUID in its registry form (36 characters + NUL). */
void atls_evlog_guid_text(const uint8_t g[16], char out[37]);

/* atls_evlog_event_text renders printable ASCII or UTF-16LE event data (one optional
 * terminating NUL) into |out| (cap bytes with its NUL); returns its length, 0 when the data
 * is not such text or does not fit. */
size_t atls_evlog_event_text(atls_cursor d, char *out, size_t cap);

/* atls_evlog_grub_prefix: the GRUB prefix ("grub_cmd: ", "kernel_cmdline: ", ...) that |d|
 * starts with, or NULL. */
const char *atls_evlog_grub_prefix(atls_cursor d);

/* ---- IMA file signatures (eventlog_imasig.c) ---- */

/* The header of an IMA signature (security.ima; Linux signature_v2_hdr), views into it. */
typedef struct atls_ima_sig_hdr {
    uint8_t type;      /* 0x03 digital signature, 0x06 fs-verity */
    uint8_t version;   /* 2 or 3 */
    uint8_t hash_algo; /* enum hash_algo (include/uapi/linux/hash_info.h) */
    uint32_t keyid;    /* big-endian on the wire */
    atls_cursor sig;   /* sig_size bytes */
} atls_ima_sig_hdr;

/* atls_ima_sig_header reads such a header from |sig|: 0 when |sig| is exactly the header and a
 * non-empty signature of its sig_size; 1 when it ends early (header, or fewer than sig_size
 * bytes); 2 when bytes are left over or the signature is empty (*out filled as far as read). */
int atls_ima_sig_header(atls_cursor sig, atls_ima_sig_hdr *out);

/* atls_ima_hash_algo_name: "sha256", ... for the hash algorithms atls checks, else NULL. */
const char *atls_ima_hash_algo_name(uint8_t algo);

/* The trusted keys of an "ima" policy: public keys and certificates, each with its IMA key id. */
typedef struct atls_ima_keys atls_ima_keys;

/* atls_ima_keys_load reads the policy's "trusted_keys" array: each element an inline PEM text
 * ("-----BEGIN ...") or a file of PEM CERTIFICATE / PUBLIC KEY blocks or one DER certificate or
 * public key; at least one key each, at most 64 in all. *out is the caller's
 * (atls_ima_keys_free). ATLS_ERR_POLICY_INVALID naming the element otherwise. */
ATLS_MUST_CHECK atls_error atls_ima_keys_load(const json_t *list, atls_ima_keys **out);
void atls_ima_keys_free(atls_ima_keys *keys);

/* atls_ima_sig_check verifies an ima-sig entry's signature (|sig_hex|, the "signature" claim:
 * an IMA digital signature v2) over its measured file digest (|digest_claim|,
 * "<hash>:<hex>") with the trusted key its key id names. ATLS_OK when it verifies;
 * ATLS_ERR_EVIDENCE_IMA_SIGNATURE when it does not (a tampered file or signature);
 * ATLS_ERR_POLICY_MISMATCH for a key that is not trusted, a hash it cannot check or that is not
 * the measured one, a signature type or version other than digital signature v2;
 * ATLS_ERR_DECODE_IMA_SIGNATURE for a malformed header. Thread-safe. */
ATLS_MUST_CHECK atls_error atls_ima_sig_check(const atls_ima_keys *keys, const char *digest_claim,
                                              const char *sig_hex);

#endif /* ATLS_EVIDENCE_EVENTLOG_INTERNAL_H */
