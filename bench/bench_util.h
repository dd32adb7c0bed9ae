/* bench_util.h: clocks and order statistics for the benchmark programs (bench/). Not a test
 * helper: benchmarks print figures, they do not pass or fail. */
#ifndef ATLS_BENCH_UTIL_H
#define ATLS_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* bench_now_ns: CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* bench_percentile sorts |v| (n values, in place) and returns the p-th percentile (0..100,
 * nearest rank). 0 when n is 0. */
double bench_percentile(double *v, size_t n, double p);

#endif
