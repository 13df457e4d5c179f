/* gc-test-spin.h: waiting in tests by running the main loop, with a deadline
 *
 * Tests never sleep to synchronise: they run the thread-default main loop
 * until what they wait for has happened, and fail if it has not happened
 * by the deadline.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

/* Generous: a deadline only bounds a hung test, also under ASan on a
 * loaded machine. A file may define its own before including this. */
#ifndef GC_TEST_DEADLINE_S
#define GC_TEST_DEADLINE_S 20
#endif

static inline gboolean
gc_test_set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @cond holds; fails the test after
 * GC_TEST_DEADLINE_S. Every condition waited for changes in a main-loop
 * callback, so the loop may block between checks. */
#define spin_until(cond)                                                      \
  G_STMT_START {                                                              \
    gboolean spin_timed_out = FALSE;                                          \
    guint spin_timer = g_timeout_add_seconds (GC_TEST_DEADLINE_S,             \
                                              gc_test_set_flag,               \
                                              &spin_timed_out);               \
    while (!(cond) && !spin_timed_out)                                        \
      g_main_context_iteration (NULL, TRUE);                                  \
    if (spin_timed_out)                                                       \
      g_error ("%s:%d: timed out waiting for %s", __FILE__, __LINE__, #cond); \
    g_source_remove (spin_timer);                                             \
  } G_STMT_END

/* Lets @ms pass with the main loop running, to observe that something does
 * NOT happen meanwhile (never to wait for something that should). */
static inline void
spin_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, gc_test_set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}
