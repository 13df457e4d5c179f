/* gc-bench-histogram.h: a log-linear histogram of durations (latencies)
 *
 * Constant memory whatever the number of samples, and percentiles within
 * 1/64 (1.6 %) of the true value: each power of two is cut into 64
 * buckets, like HdrHistogram with two significant digits. Values are
 * nanoseconds.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GcBenchHistogram GcBenchHistogram;

GcBenchHistogram *gc_bench_histogram_new            (void);
void              gc_bench_histogram_free           (GcBenchHistogram *self);

void              gc_bench_histogram_record         (GcBenchHistogram *self,
                                                     guint64           value);
guint64           gc_bench_histogram_get_count      (GcBenchHistogram *self);
guint64           gc_bench_histogram_get_max        (GcBenchHistogram *self);
/* The arithmetic mean of the recorded values (exact, not bucketed). */
double            gc_bench_histogram_get_mean       (GcBenchHistogram *self);
/* The smallest recorded value such that @percentile % of the samples are
 * at most it, rounded up to its bucket's upper bound (never above the
 * maximum); 0 when empty. @percentile is in [0, 100]. */
guint64           gc_bench_histogram_get_percentile (GcBenchHistogram *self,
                                                     double            percentile);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBenchHistogram, gc_bench_histogram_free)

G_END_DECLS
