/* gc-bench-report.h: gochat-bench's summary, for people and as JSON
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <stdio.h>

#include "gc-bench-run.h"

G_BEGIN_DECLS

void  gc_bench_report_print   (FILE                 *out,
                               const GcBenchOptions *options,
                               const GcBenchResults *results);
/* One JSON object, no trailing newline. */
char *gc_bench_report_to_json (const GcBenchOptions *options,
                               const GcBenchResults *results);

G_END_DECLS
