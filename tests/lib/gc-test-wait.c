/* gc-test-wait.c: the one wait of the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-pool-threads.h"
#include "gc-test-wait.h"

/* Sanitizer builds run several times slower. */
#ifdef GC_SANITIZED_BUILD
# define DEFAULT_SCALE 3.0
#else
# define DEFAULT_SCALE 1.0
#endif

guint
gc_test_timeout_ms (guint timeout_ms)
{
  static double scale = 0;

  if (scale == 0)
    {
      const char *value = g_getenv ("GOCHAT_TEST_TIMEOUT_SCALE");
      double parsed = value != NULL ? g_ascii_strtod (value, NULL) : DEFAULT_SCALE;

      scale = parsed > 0 ? parsed : DEFAULT_SCALE;
    }

  return (guint) MIN (timeout_ms * scale, (double) G_MAXUINT / 2);
}

static gboolean
on_deadline_timer (gpointer user_data)
{
  GcTestDeadline *deadline = user_data;

  deadline->timer_id = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
on_wake (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static guint
add_timeout (guint        ms,
             GSourceFunc  func,
             gpointer     user_data)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  g_autoptr(GSource) source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, user_data, NULL);
  return g_source_attach (source, context);
}

static void
remove_source (guint *id)
{
  g_autoptr(GMainContext) context = NULL;
  GSource *source;

  if (*id == 0)
    return;
  context = g_main_context_ref_thread_default ();
  source = g_main_context_find_source_by_id (context, *id);
  if (source != NULL)
    g_source_destroy (source);
  *id = 0;
}

void
gc_test_deadline_start (GcTestDeadline *deadline,
                        guint           timeout_ms)
{
  guint scaled_ms = gc_test_timeout_ms (timeout_ms);

  deadline->end_us = g_get_monotonic_time () + (gint64) scaled_ms * 1000;
  /* A little after the end, so the check below sees it has passed. */
  deadline->timer_id = add_timeout (scaled_ms + 1, on_deadline_timer, deadline);
  deadline->wake_id = add_timeout (50, on_wake, NULL);
}

void
gc_test_deadline_iterate (GcTestDeadline *deadline,
                          const char     *what,
                          const char     *file,
                          int             line)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

  if (g_get_monotonic_time () >= deadline->end_us)
    g_error ("%s:%d: timed out waiting for %s", file, line, what);
  g_main_context_iteration (context, TRUE);
}

void
gc_test_deadline_stop (GcTestDeadline *deadline)
{
  remove_source (&deadline->timer_id);
  remove_source (&deadline->wake_id);
}

gint64
gc_test_wait_until_full (GcTestPredicate  predicate,
                         gpointer         user_data,
                         guint            timeout_ms,
                         const char      *what,
                         const char      *file,
                         int              line)
{
  GcTestDeadline deadline;
  gint64 start = g_get_monotonic_time ();

  gc_test_deadline_start (&deadline, timeout_ms);
  while (!predicate (user_data))
    gc_test_deadline_iterate (&deadline, what, file, line);
  gc_test_deadline_stop (&deadline);

  return (g_get_monotonic_time () - start) / 1000;
}

static gboolean
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
gc_test_run_for_ms (guint ms)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  gboolean done = FALSE;

  add_timeout (ms, set_flag, &done);
  while (!done)
    g_main_context_iteration (context, TRUE);
}
