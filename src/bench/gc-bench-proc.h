/* gc-bench-proc.h: another process's CPU time and memory, from /proc
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * GcBenchProcSample:
 * @cpu_seconds: user plus system time of all its threads, live and
 *   exited (/proc/PID/stat; the kernel counts in 1/CLK_TCK steps, 10 ms)
 * @rss_kb: resident set size now (VmRSS)
 * @peak_rss_kb: the highest resident set size so far (VmHWM)
 *
 * Private fields hold the live threads' run time in nanoseconds
 * (/proc/PID/task/TID/schedstat), for gc_bench_proc_cpu_between().
 */
typedef struct {
  double  cpu_seconds;
  guint64 rss_kb;
  guint64 peak_rss_kb;

  /*< private >*/
  guint64 run_ns;
  guint   n_threads;
  guint64 thread_sum;
  guint64 thread_xor;
} GcBenchProcSample;

/* Fails with a G_FILE_ERROR (e.g. NOENT once the process is gone) or
 * G_IO_ERROR_INVALID_DATA if the files cannot be parsed. */
gboolean gc_bench_proc_sample      (int                      pid,
                                    GcBenchProcSample       *sample,
                                    GError                 **error);

/* The CPU seconds the process used from @before to @after: to the
 * nanosecond when the same threads lived at both samples, else in
 * 10 ms steps from /proc/PID/stat (which a thread that ended keeps
 * counting). */
double   gc_bench_proc_cpu_between (const GcBenchProcSample *before,
                                    const GcBenchProcSample *after);

G_END_DECLS
