/* gc-test-threads.h: lets GLib's idle pool threads end before the test process does
 *
 * A test that made TLS connections ends GLib's idle pool threads before it
 * exits, or GCC 12's LeakSanitizer crashes scanning one that ran gnutls
 * (see src/util/gc-pool-threads.h, which gochat-bench shares). Sanitizer
 * builds only; elsewhere this returns at once.
 *
 *   g_assert_true (gc_test_stop_idle_pool_threads (10000));   // at the end of main()
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-pool-threads.h"

/* Returns %FALSE if pool threads still run after @timeout_ms. */
static inline gboolean
gc_test_stop_idle_pool_threads (guint timeout_ms)
{
  return gc_pool_threads_stop_idle (timeout_ms);
}
