/* gc-test-wait.h: the one wait of the tests: run the main loop until a condition, with a deadline
 *
 * Tests never sleep to synchronise. They spin the thread-default main
 * context until what they wait for has happened and fail (g_error, naming
 * the condition and the line) when it has not happened by the deadline:
 *
 *   gc_test_wait (client->closed);
 *   gc_test_wait_ms (process->exited, 60000);   // a longer bound, when needed
 *
 * Every deadline is GC_TEST_TIMEOUT_MS (or the one given) multiplied by
 * the environment variable GOCHAT_TEST_TIMEOUT_SCALE (a decimal number;
 * if unset, 3 in sanitizer builds and 1 otherwise), for slow runs:
 * valgrind, sanitizers, a loaded machine. A deadline only bounds a hung
 * test; it is generous on purpose. A test that must bound how long
 * something took scales its bound the same way: gc_test_timeout_ms (3000).
 *
 * While waiting, the context is woken every 50 ms as well, so a condition
 * that changes without a callback on this context (layout and drawing in
 * the app tests, the clock) is still seen.
 *
 * gc_test_run_for_ms() lets time pass with the loop running: only to see
 * that something does NOT happen meanwhile, or for time-based rules (a
 * token bucket refilling), never to wait for something that should.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The deadline of every wait that gives none, before scaling. */
#define GC_TEST_TIMEOUT_MS 20000

/* @timeout_ms scaled by GOCHAT_TEST_TIMEOUT_SCALE. */
guint  gc_test_timeout_ms       (guint           timeout_ms);

/* A running deadline: a timer wakes the context when it passes, so a
 * blocking iteration cannot outlive it. For loops that do more than test
 * one condition between iterations; otherwise use gc_test_wait(). */
typedef struct {
  gint64        end_us;
  guint         timer_id;
  guint         wake_id;
} GcTestDeadline;

/* Starts a deadline @timeout_ms (scaled) from now. */
void   gc_test_deadline_start   (GcTestDeadline *deadline,
                                 guint           timeout_ms);
/* One blocking iteration; fails the test, naming @what, once the deadline
 * has passed. */
void   gc_test_deadline_iterate (GcTestDeadline *deadline,
                                 const char     *what,
                                 const char     *file,
                                 int             line);
void   gc_test_deadline_stop    (GcTestDeadline *deadline);

/* gc_test_wait_ms (cond, timeout_ms): spins until the C expression @cond
 * holds; fails the test after @timeout_ms (scaled). */
#define gc_test_wait_ms(cond, timeout_ms)                                      \
  G_STMT_START {                                                               \
    GcTestDeadline gc_test_deadline_;                                          \
    gc_test_deadline_start (&gc_test_deadline_, (timeout_ms));                 \
    while (!(cond))                                                            \
      gc_test_deadline_iterate (&gc_test_deadline_, #cond, __FILE__, __LINE__); \
    gc_test_deadline_stop (&gc_test_deadline_);                                \
  } G_STMT_END

/* gc_test_wait (cond): the same with the default deadline. */
#define gc_test_wait(cond) gc_test_wait_ms (cond, GC_TEST_TIMEOUT_MS)

typedef gboolean (*GcTestPredicate) (gpointer user_data);

/* Spins until @predicate returns %TRUE; fails the test (naming @what)
 * after @timeout_ms (scaled). Returns the milliseconds waited. */
gint64 gc_test_wait_until_full  (GcTestPredicate  predicate,
                                 gpointer         user_data,
                                 guint            timeout_ms,
                                 const char      *what,
                                 const char      *file,
                                 int              line);

#define gc_test_wait_until(predicate, user_data, what) \
  gc_test_wait_until_full ((predicate), (user_data), GC_TEST_TIMEOUT_MS, (what), __FILE__, __LINE__)

/* Lets @ms pass with the main loop running (not scaled). */
void   gc_test_run_for_ms       (guint            ms);

G_END_DECLS
