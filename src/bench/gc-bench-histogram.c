/* gc-bench-histogram.c: a log-linear histogram of durations (latencies)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "gc-bench-histogram.h"

/* Values below LINEAR_LIMIT have a bucket each; above, every power of two
 * [2^k, 2^(k+1)) is cut into HALF buckets of width 2^(k-6). */
#define SUB_BITS 7
#define LINEAR_LIMIT (1u << SUB_BITS)
#define HALF (LINEAR_LIMIT / 2)
#define MAX_SHIFT (64 - SUB_BITS + 1)
#define N_BUCKETS (LINEAR_LIMIT + MAX_SHIFT * HALF)

struct _GcBenchHistogram
{
  guint64 count;
  guint64 max;
  double  sum;
  guint64 buckets[N_BUCKETS];
};

static guint
bucket_index (guint64 value)
{
  guint shift;

  if (value < LINEAR_LIMIT)
    return (guint) value;

  /* value >> shift lands in [HALF, LINEAR_LIMIT). */
  shift = (63 - __builtin_clzll (value)) - (SUB_BITS - 1);
  return LINEAR_LIMIT + (shift - 1) * HALF + (guint) ((value >> shift) - HALF);
}

/* The largest value that falls in bucket @index. */
static guint64
bucket_upper_bound (guint index)
{
  guint shift;
  guint64 sub;

  if (index < LINEAR_LIMIT)
    return index;

  shift = (index - LINEAR_LIMIT) / HALF + 1;
  sub = HALF + (index - LINEAR_LIMIT) % HALF;
  return ((sub + 1) << shift) - 1;
}

GcBenchHistogram *
gc_bench_histogram_new (void)
{
  return g_new0 (GcBenchHistogram, 1);
}

void
gc_bench_histogram_free (GcBenchHistogram *self)
{
  g_free (self);
}

void
gc_bench_histogram_record (GcBenchHistogram *self,
                           guint64           value)
{
  self->buckets[bucket_index (value)]++;
  self->count++;
  self->sum += (double) value;
  if (value > self->max)
    self->max = value;
}

guint64
gc_bench_histogram_get_count (GcBenchHistogram *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->count;
}

guint64
gc_bench_histogram_get_max (GcBenchHistogram *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->max;
}

double
gc_bench_histogram_get_mean (GcBenchHistogram *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->count > 0 ? self->sum / (double) self->count : 0;
}

guint64
gc_bench_histogram_get_percentile (GcBenchHistogram *self,
                                   double            percentile)
{
  guint64 rank;
  guint64 seen = 0;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (percentile >= 0 && percentile <= 100, 0);

  if (self->count == 0)
    return 0;

  /* The rank-th smallest sample, counting from 1. */
  rank = (guint64) ceil (percentile / 100.0 * (double) self->count);
  rank = CLAMP (rank, 1, self->count);

  for (guint i = 0; i < N_BUCKETS; i++)
    {
      seen += self->buckets[i];
      if (seen >= rank)
        return MIN (bucket_upper_bound (i), self->max);
    }

  return self->max;
}
