/* test_session_memory N: N re-attestations on one connection (sim attester, real TLS 1.3); the
 * session's bookkeeping (atls_session_memory: the used-context record, request queues) is the
 * same after N as after the first few, and the process heap in use (glibc mallinfo2, not
 * under sanitizers, whose allocator it does not see) grows over the second half by less than
 * 2 bytes per re-attestation (64 KiB at least, for noise): nothing is kept per
 * re-attestation.
 * Also: every one of them is a fresh appraisal (the count), and the time per re-attestation
 * does not grow (the context checks are O(1)). */
#include "session_fixture.h"

#include "check.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_VISIBLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_VISIBLE 0
#endif
#endif
#ifndef HEAP_VISIBLE
#define HEAP_VISIBLE 1
#endif

static fixture F;

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    if (n < 100) {
        fprintf(stderr, "usage: test_session_memory N (N >= 100)\n");
        return 2;
    }
    if (fixture_start_sim(&F) != 0) {
        return 1;
    }
    tls_pair *p = fixture_pair(&F, NULL);
    atls_policy *policy = fixture_policy(&F, F.good_policy);
    CHECK(p != NULL && policy != NULL);
    server_run run = {.pair = p};
    server_config_attest(&F, &run);
    run.cfg.evidence_per_second = 1000000; /* back to back: the rate limit out of the way */
    run.cfg.evidence_burst = 1000000;
    CHECK(p != NULL && server_start(&run) == 0);
    atls_session_config cc = client_config(&F, policy);
    atls_session *c = NULL;
    CHECK_OK(p != NULL ? atls_session_new(p->client, &cc, &c) : ATLS_ERR_INTERNAL);
    long warm = n / 10 < 200 ? n / 10 : 200, done = 0;
    size_t mem_warm = 0, mem_end = 0;
    size_t heap_warm = 0, heap_end = 0;
    int64_t t_warm = 0, t_last = 0, t_first_chunk = 0;
    for (long i = 0; c != NULL && i < n; i++) {
        if (i == warm) {
            mem_warm = atls_session_memory(c);
            t_warm = atls_test_now_ms();
        }
        if (i == n / 2) {
            heap_warm = mallinfo2().uordblks;
        }
        if (i == 2 * warm) {
            t_first_chunk = atls_test_now_ms() - t_warm;
        }
        if (i == n - warm) {
            t_last = atls_test_now_ms();
        }
        atls_error rc = atls_session_attest(c, NULL);
        if (rc != ATLS_OK) {
            CHECK_OK(rc);
            break;
        }
        done++;
    }
    int64_t t_last_chunk = atls_test_now_ms() - t_last;
    mem_end = c != NULL ? atls_session_memory(c) : 0;
    heap_end = mallinfo2().uordblks;
    CHECK(done == n);
    CHECK(c != NULL && atls_session_appraisals(c) == (uint64_t)n);
    printf("%ld re-attestations: session bookkeeping %zu bytes after %ld, %zu after %ld\n", done,
           mem_warm, warm, mem_end, done);
    CHECK(mem_end == mem_warm);
    if (HEAP_VISIBLE) {
        /* the second half: OpenSSL's and glibc's caches have settled by then (they grow a
         * little, ever more slowly, early on); anything kept per re-attestation (the old
         * context record took 256 bytes each) grows linearly */
        long growth = (long)heap_end - (long)heap_warm, half = n - n / 2;
        long limit = 2 * half > 64 * 1024 ? 2 * half : 64 * 1024;
        printf("heap in use: %zu after %ld, %zu after %ld (%+ld bytes, limit %ld)\n",
               heap_warm, n / 2, heap_end, done, growth, limit);
        CHECK(growth < limit);
    }
    /* O(1): the last chunk of re-attestations is not much slower than the first (generous:
     * the machine is shared) */
    printf("%ld re-attestations took %lld ms at the start, %lld ms at the end\n", warm,
           (long long)t_first_chunk, (long long)t_last_chunk);
    CHECK(t_last_chunk <= 3 * t_first_chunk + 2000);
    if (c != NULL) {
        atls_session_close(c);
        atls_session_free(c);
    }
    if (p != NULL) {
        shutdown(p->client_fd, SHUT_RDWR);
        server_join(&run);
        CHECK_OK(run.result);
    }
    atls_policy_free(policy);
    tls_pair_free(p);
    fixture_cleanup(&F);
    return check_summary();
}
