/* attack_batch.c: the attacks specific to batched attestation (attack_lab.h; docs/SECURITY.md).
 * The hostile server answers the victim's second request with batched Evidence that is genuine
 * (the real attester signed its tree's batch challenge) but whose proof does not take the
 * victim's own challenge to that root:
 *   batch_other_leaf       the victim's leaf is in the tree, but the proof sent is another
 *                          connection's (same request context, the other connection's exporter)
 *   batch_other_root       a valid proof for the victim's leaf in one tree, with the Evidence of
 *                          another tree
 *   batch_truncated_proof  the victim's own proof without its last hash
 *   batch_overlong_proof   the victim's own proof with one hash more
 *   batch_chosen_leaf      a man in the middle (the server's TLS key, no TEE) asks an honest
 *                          batching server for Evidence with the victim's challenge as its
 *                          request nonce, hoping it becomes a leaf, and relays the answer
 * Each step is checked where it is made: the Evidence is genuine, the victim's correct proof
 * (where one exists) would have verified, and what was sent differs from it as the attack says. */
#include "attack_lab.h"

#include <atls/binding.h>

#include "base/result.h"
#include "check.h"
#include "codec/cmw/cmw.h"
#include "evidence/batch/batch.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- genuine batched Evidence, wrapped as the attack wants ---------------------------------- */

/* tree_evidence: the tree of |n| leaves and genuine Evidence over its batch challenge */
static atls_error tree_evidence(const atls_merkle_hash *leaves, size_t n, atls_merkle_tree *t,
                                uint8_t **ev, size_t *ev_len)
{
    uint8_t challenge[64];
    ATLS_GUARD(atls_merkle_tree_build(leaves, n, t));
    atls_error rc = atls_batch_challenge(atls_merkle_tree_root(t), n, challenge);
    if (rc == ATLS_OK) {
        rc = F.att->produce(F.att_state, challenge, ev, ev_len);
    }
    if (rc != ATLS_OK) {
        atls_merkle_tree_cleanup(t);
    }
    return rc;
}

/* wrap: Evidence |ev| with the proof of leaf |index| of |t|, |delta| hashes shorter (-1) or
 * longer (+1: the root appended) */
static atls_error wrap(const uint8_t *ev, size_t ev_len, const atls_merkle_tree *t, size_t index,
                       int delta, uint8_t **out, size_t *out_len)
{
    atls_merkle_hash path[ATLS_BATCH_MAX_PATH + 1];
    size_t len = 0;
    ATLS_GUARD(atls_merkle_tree_path(t, index, path, &len));
    if (delta < 0 && len > 0) {
        len--;
    } else if (delta > 0) {
        memcpy(path[len++], atls_merkle_tree_root(t), 64);
    }
    return atls_batch_encode(F.att->media_type, ev, ev_len, t->size, index, path, len, out,
                             out_len);
}

static int wrapped_verifies(const uint8_t *w, size_t len, const uint8_t leaf[64])
{
    return fixture_verifies(ATLS_BATCH_MEDIA_TYPE, w, len, leaf);
}

/* ---- batch_chosen_leaf: an honest batching server on the other connection ------------------- */

static server_run honest;
static atls_batcher *honest_batcher;
static int honest_started;

void batch_attack_setup(const char *name, tls_pair *other)
{
    if (strcmp(name, "batch_chosen_leaf") != 0) {
        return;
    }
    /* this server batches whatever the lab's mode: the attack is on a batching server */
    CHECK_OK(atls_batcher_new(F.att, F.att_state, NULL, &honest_batcher));
    memset(&honest, 0, sizeof(honest));
    honest.pair = other;
    server_config_attest(&F, &honest);
    honest.cfg.attester = atls_batcher_ops();
    honest.cfg.attester_state = honest_batcher;
    honest.cfg.attester_lock = NULL;
    honest_started = honest_batcher != NULL && server_start(&honest) == 0;
    CHECK(honest_started);
}

void batch_attack_teardown(tls_pair *other)
{
    if (honest_started) {
        shutdown(other->client_fd, SHUT_RDWR);
        server_join(&honest);
        honest_started = 0;
    }
    atls_batcher_free(honest_batcher);
    honest_batcher = NULL;
}

/* ask_with_nonce: as the honest server's client, request Evidence with |nonce| as the context
 * tail; *wrapper is the batched Evidence of its answer, *leaf the leaf the honest server
 * computed for that request (from this end of the connection: same exporter) */
static atls_error ask_with_nonce(tls_pair *other, const uint8_t nonce[64], uint8_t **wrapper,
                                 size_t *wrapper_len, uint8_t leaf[64])
{
    uint8_t ctx[16 + 8 + 64];
    ATLS_ENSURE(RAND_bytes(ctx, 16) == 1, ATLS_ERR_CRYPTO_RANDOM, "RAND_bytes");
    memset(ctx + 16, 0, 8);
    ctx[23] = 1;
    memcpy(ctx + 24, nonce, 64);
    atls_ea_extension ext = {.type = ATLS_EXT_CMW_ATTESTATION};
    atls_ea_request_options o = {.context = ctx, .context_len = sizeof(ctx), .extensions = &ext,
                                 .num_extensions = 1};
    atls_ea_request *req = NULL;
    atls_ea_context_set *seen = NULL;
    atls_ea_result *res = NULL;
    atls_frame_reader r;
    atls_frame_reader_init(&r);
    ATLS_GUARD(atls_ea_request_new(other->client, ATLS_EA_CLIENT_CERTIFICATE_REQUEST, &o, &req));
    size_t req_len = 0;
    const uint8_t *req_bytes = atls_ea_request_get0_bytes(req, &req_len);
    atls_error rc = atls_ea_context_set_new(&seen);
    if (rc == ATLS_OK) {
        rc = raw_send_frame(other->client, ATLS_FRAME_REQUEST, req_bytes, req_len);
    }
    uint8_t type = 0;
    const uint8_t *p = NULL;
    size_t len = 0;
    if (rc == ATLS_OK) {
        rc = raw_next_frame(other->client, &r, 10000, &type, &p, &len);
    }
    if (rc == ATLS_OK && type != ATLS_FRAME_AUTHENTICATOR) {
        rc = atls_error_raise(ATLS_ERR_PROTOCOL, __FILE__, __LINE__, "no authenticator");
    }
    atls_ea_validate_options vo = {0};
    if (rc == ATLS_OK) {
        rc = atls_ea_validate(other->client, req, p, len, seen, &vo, &res);
    }
    size_t ext_len = 0;
    const uint8_t *ext_data =
        rc == ATLS_OK ? atls_ea_result_get0_extension(res, ATLS_EXT_CMW_ATTESTATION, &ext_len)
                      : NULL;
    atls_cmw cmw;
    if (rc == ATLS_OK) {
        rc = ext_data != NULL && ext_len > 2
                 ? atls_cmw_decode(ext_data + 2, ext_len - 2, &cmw)
                 : atls_error_raise(ATLS_ERR_EVIDENCE, __FILE__, __LINE__, "no Evidence");
    }
    if (rc == ATLS_OK && (cmw.num_leaves != 1 ||
                          !atls_cmw_leaf_type_is(&cmw.leaves[0], ATLS_BATCH_MEDIA_TYPE))) {
        rc = atls_error_raise(ATLS_ERR_EVIDENCE, __FILE__, __LINE__, "not batched Evidence");
    }
    if (rc == ATLS_OK) {
        *wrapper_len = atls_cursor_remaining(&cmw.leaves[0].value);
        *wrapper = malloc(*wrapper_len);
        rc = *wrapper != NULL ? ATLS_OK : ATLS_ERR_INTERNAL_ALLOC;
    }
    if (rc == ATLS_OK) {
        memcpy(*wrapper, atls_cursor_data(&cmw.leaves[0].value), *wrapper_len);
        rc = expected_challenge(other->client, ATLS_BINDING_EXPORTER_LABEL,
                                ATLS_BINDING_SERVER_ATTESTS, ctx, sizeof(ctx), F.leaf->cert, leaf);
    }
    atls_frame_reader_cleanup(&r);
    atls_ea_result_free(res);
    atls_ea_context_set_free(seen);
    atls_ea_request_free(req);
    return rc;
}

/* ---- the attacks ------------------------------------------------------------------------------ */

atls_error batch_attack_evidence(const char *name, server_run *run, tls_pair *other,
                                 const uint8_t *ctx, size_t ctx_len, uint8_t **out,
                                 size_t *out_len, int *step_ok, char *note, size_t note_cap)
{
    uint8_t mine[64], theirs[64];
    *step_ok = 0;
    /* the victim's own challenge, and the one for its context on the other connection */
    ATLS_GUARD(expected_challenge(run->pair->server, ATLS_BINDING_EXPORTER_LABEL,
                                  ATLS_BINDING_SERVER_ATTESTS, ctx, ctx_len, F.leaf->cert, mine));
    ATLS_GUARD(expected_challenge(other->server, ATLS_BINDING_EXPORTER_LABEL,
                                  ATLS_BINDING_SERVER_ATTESTS, ctx, ctx_len, F.leaf->cert, theirs));
    if (strcmp(name, "batch_chosen_leaf") == 0) {
        uint8_t leaf[64];
        ATLS_GUARD(ask_with_nonce(other, mine, out, out_len, leaf));
        /* genuine batched Evidence for the honest server's own leaf, never for the nonce */
        *step_ok = wrapped_verifies(*out, *out_len, leaf) && memcmp(leaf, mine, 64) != 0 &&
                   !wrapped_verifies(*out, *out_len, mine);
        snprintf(note, note_cap, "an honest batching server asked with the victim's challenge as "
                                 "its request nonce answered for its own leaf only; relayed");
        return ATLS_OK;
    }
    atls_merkle_hash leaves[4];
    ATLS_ENSURE(RAND_bytes((uint8_t *)leaves, sizeof(leaves)) == 1, ATLS_ERR_CRYPTO_RANDOM,
                "RAND_bytes");
    atls_merkle_tree t, t2;
    memset(&t2, 0, sizeof(t2));
    uint8_t *ev = NULL, *ev2 = NULL, *good = NULL;
    size_t ev_len = 0, ev2_len = 0, good_len = 0;
    atls_error rc = ATLS_OK;
    if (strcmp(name, "batch_other_leaf") == 0) {
        /* both connections' leaves in one tree; the victim gets the other's proof */
        memcpy(leaves[0], theirs, 64);
        memcpy(leaves[1], mine, 64);
        ATLS_GUARD(tree_evidence(leaves, 2, &t, &ev, &ev_len));
        rc = wrap(ev, ev_len, &t, 0, 0, out, out_len);
        if (rc == ATLS_OK) {
            rc = wrap(ev, ev_len, &t, 1, 0, &good, &good_len);
        }
        *step_ok = rc == ATLS_OK && wrapped_verifies(*out, *out_len, theirs) &&
                   wrapped_verifies(good, good_len, mine);
        snprintf(note, note_cap, "the tree held the victim's leaf; the other connection's "
                                 "(valid) proof was sent");
    } else if (strcmp(name, "batch_other_root") == 0) {
        /* a valid proof for the victim's leaf in tree 1, the Evidence of tree 2 */
        memcpy(leaves[0], mine, 64);
        ATLS_GUARD(atls_merkle_tree_build(leaves, 2, &t));
        rc = tree_evidence(leaves + 2, 2, &t2, &ev2, &ev2_len);
        atls_merkle_hash path[ATLS_BATCH_MAX_PATH], root;
        size_t len = 0;
        if (rc == ATLS_OK) {
            rc = atls_merkle_tree_path(&t, 0, path, &len);
        }
        if (rc == ATLS_OK) {
            rc = atls_batch_encode(F.att->media_type, ev2, ev2_len, 2, 0, path, len, out,
                                   out_len);
        }
        if (rc == ATLS_OK) {
            rc = wrap(ev2, ev2_len, &t2, 0, 0, &good, &good_len);
        }
        *step_ok = rc == ATLS_OK &&
                   atls_merkle_root_from_path(mine, 0, 2, path, len, root) == ATLS_OK &&
                   memcmp(root, atls_merkle_tree_root(&t), 64) == 0 &&
                   memcmp(root, atls_merkle_tree_root(&t2), 64) != 0 &&
                   wrapped_verifies(good, good_len, leaves[2]);
        snprintf(note, note_cap, "a valid proof of the victim's leaf in one tree went with the "
                                 "genuine Evidence of another tree");
    } else {
        /* truncated / over-long: the victim's own proof in a tree of four, one hash less/more */
        int delta = strcmp(name, "batch_truncated_proof") == 0 ? -1 : +1;
        memcpy(leaves[2], mine, 64);
        ATLS_GUARD(tree_evidence(leaves, 4, &t, &ev, &ev_len));
        rc = wrap(ev, ev_len, &t, 2, delta, out, out_len);
        if (rc == ATLS_OK) {
            rc = wrap(ev, ev_len, &t, 2, 0, &good, &good_len);
        }
        atls_batch_view v;
        *step_ok = rc == ATLS_OK && wrapped_verifies(good, good_len, mine) &&
                   atls_batch_decode(*out, *out_len, &v) == ATLS_ERR_EVIDENCE_PROOF;
        snprintf(note, note_cap, "the victim's own correct proof (2 hashes) was sent with %s",
                 delta < 0 ? "1 hash" : "3 hashes");
    }
    free(ev), free(ev2), free(good);
    atls_merkle_tree_cleanup(&t);
    if (t2.nodes != NULL) {
        atls_merkle_tree_cleanup(&t2);
    }
    return rc;
}
