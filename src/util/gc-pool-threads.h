/* gc-pool-threads.h: lets GLib's idle pool threads end before the process does
 *
 * GLib's thread pool keeps idle threads around. One that ran gnutls (a TLS
 * handshake, which glib-networking runs in a pool thread) holds dynamic
 * thread-local storage that GCC 12's LeakSanitizer crashes on ("Tracer
 * caught signal 11") when it scans the threads at exit. Programs that made
 * TLS connections (gochat-bench, the tests and their echo programs)
 * therefore end those threads first, in sanitizer builds only: it takes at
 * least 0.5 s. A pool thread tells nobody when it ends, so this polls /proc
 * (Linux only), with a deadline.
 *
 * Header-only and free of any GoChat module, so that src/ programs and
 * tests/lib can share it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#if defined(__SANITIZE_ADDRESS__)
# define GC_SANITIZED_BUILD 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define GC_SANITIZED_BUILD 1
# endif
#endif

/* GLib's pool threads of this process (named "pool-PRGNAME" or "pool"). */
static inline guint
gc_pool_threads_count (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *task;
  guint n = 0;

  if (dir == NULL)
    return 0;

  while ((task = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", task, "comm", NULL);
      g_autofree char *name = NULL;

      if (g_file_get_contents (path, &name, NULL, NULL) && g_str_has_prefix (name, "pool"))
        n++;
    }

  return n;
}

/* In sanitizer builds, ends the idle pool threads; returns %FALSE if some
 * still run after @timeout_ms. Elsewhere returns %TRUE at once. */
static inline gboolean
gc_pool_threads_stop_idle (guint timeout_ms)
{
#ifdef GC_SANITIZED_BUILD
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * G_TIME_SPAN_MILLISECOND;

  g_thread_pool_set_max_unused_threads (0);
  for (;;)
    {
      /* An idle thread leaves its pool for the unused list after 0.5 s;
       * only from there can it be stopped. */
      g_thread_pool_stop_unused_threads ();
      if (gc_pool_threads_count () == 0)
        return TRUE;
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_usleep (10 * G_TIME_SPAN_MILLISECOND);
    }
#else
  return TRUE;
#endif
}
