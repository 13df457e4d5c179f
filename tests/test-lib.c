/* test-lib.c: the test library itself (tests/lib)
 *
 * The one wait returns once its condition holds and fails the test, naming
 * the condition, when its deadline passes; GOCHAT_TEST_TIMEOUT_SCALE
 * scales every deadline. The server fixture applies its configuration,
 * and an in-process server can be stopped and started again on the same
 * port, as the app's reconnection tests do.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-test-server.h"

static gboolean
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_wait_condition (void)
{
  gboolean flag = FALSE;
  gint64 start = g_get_monotonic_time ();

  g_timeout_add (50, set_flag, &flag);
  gc_test_wait (flag);
  g_assert_true (flag);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50 * 1000);
}

/* A condition no callback changes is still seen: the wait wakes by itself. */
static void
test_wait_wakes (void)
{
  gint64 end = g_get_monotonic_time () + 200 * 1000;

  gc_test_wait (g_get_monotonic_time () >= end);
  g_assert_cmpint (g_get_monotonic_time (), >=, end);
}

static void
test_wait_deadline (void)
{
  if (g_test_subprocess ())
    {
      gboolean never = FALSE;

      gc_test_wait_ms (never, 100);
      return;
    }

  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*timed out waiting for never*");
}

static void
test_wait_scale (void)
{
  if (g_test_subprocess ())
    {
      g_assert_cmpuint (gc_test_timeout_ms (1000), ==, 2500);
      g_assert_cmpuint (gc_test_timeout_ms (GC_TEST_TIMEOUT_MS), ==, 50000);
      return;
    }

  /* The child reads the variable once, at its first wait. */
  g_setenv ("GOCHAT_TEST_TIMEOUT_SCALE", "2.5", TRUE);
  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv ("GOCHAT_TEST_TIMEOUT_SCALE");
  g_test_trap_assert_passed ();
}

static void
small_rooms (GcServerConfig *config)
{
  config->room_max_members = 1;
}

static void
test_server_fixture (GcTestServer  *ts,
                     gconstpointer  test_data)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u", ts->port);
  g_autoptr(GcTestClient) ann = NULL;
  g_autoptr(GcTestClient) bob = NULL;

  g_assert_nonnull (ts->server);
  g_assert_cmpstr (ts->url, ==, url);
  g_assert_false (ts->tls);
  /* The configure function ran on the test defaults. */
  g_assert_cmpuint (ts->config.room_max_members, ==, 1);
  g_assert_cmpfloat (ts->config.join_per_second, ==, 0);

  ann = gc_test_client_join_url (ts->url, "lobby", "ann");
  bob = gc_test_client_start_join (ts->port, "lobby", "bob", NULL);
  gc_test_client_assert_refused (bob, 403, "room_full");
}

static void
test_server_restart (void)
{
  g_autoptr(GcTestServer) ts = gc_test_server_new (NULL);
  g_autoptr(GcTestClient) before = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) after = NULL;
  guint16 port = ts->port;
  GcTestServerOptions options = { .port = port };

  gc_test_server_stop (ts);
  g_assert_null (ts->server);
  g_assert_cmpuint (gc_test_client_wait_closed (before), ==, 1001);

  gc_test_server_start (ts, &options);
  g_assert_cmpuint (ts->port, ==, port);
  after = gc_test_client_join (ts->port, "lobby", "ann");
  g_assert_cmpstr (gc_test_client_get_you (after)->name, ==, "ann");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/lib/wait/condition", test_wait_condition);
  g_test_add_func ("/lib/wait/wakes", test_wait_wakes);
  g_test_add_func ("/lib/wait/deadline", test_wait_deadline);
  g_test_add_func ("/lib/wait/scale", test_wait_scale);
  gc_test_add_server ("/lib/server/fixture", small_rooms, test_server_fixture);
  g_test_add_func ("/lib/server/restart", test_server_restart);

  return gc_test_run ();
}
