/* gc-test-threads.h: lets GLib's idle pool threads end before the test process does
 *
 * A test that made TLS connections ends GLib's idle pool threads before it
 * exits, or GCC 12's LeakSanitizer crashes scanning one that ran gnutls
 * (see src/util/gc-pool-threads.h, which gochat-bench shares). Sanitizer
 * builds only; elsewhere this returns at once.
 *
 * Test programs end with gc_test_run() instead of g_test_run(): it runs
 * the tests, then ends the pool threads (a no-op outside sanitizer builds).
 *
 *   return gc_test_run ();   // at the end of main()
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

/* g_test_run(), then the idle pool threads ended (failing if they do not
 * end within 10 s). Returns g_test_run()'s status. */
static inline int
gc_test_run (void)
{
  int status = g_test_run ();

  if (!gc_test_stop_idle_pool_threads (10000))
    g_error ("GLib's pool threads did not end");

  return status;
}
