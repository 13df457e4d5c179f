/* test-ws-idle-stall.c: a stalled gochat-server keeps its live clients
 *
 * Issue 14.6: the server's WebSocket layer judged idleness before reading
 * what had arrived, so after a stall longer than --idle-timeout-seconds
 * (SIGSTOP, a network stall) it dropped clients whose pings were waiting
 * in their sockets. Here gochat-server runs as a real process with a
 * 3 s idle timeout and is stopped for 6 s while two members ping it;
 * after SIGCONT both must still be there, talking, and nobody announced
 * as gone. The stall is the stimulus; the waits are conditions with
 * deadlines.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>

#include "gc-test-server.h"

#define IDLE_TIMEOUT_S 3
#define STALL_MS 6000
#define PING_INTERVAL_MS 300

static GcTestServerProcess *
server_process_start (void)
{
  g_autofree char *idle = g_strdup_printf ("--idle-timeout-seconds=%u", IDLE_TIMEOUT_S);
  const char * const args[] = { idle, "--keepalive-seconds=1", NULL };

  return gc_test_server_process_startv (args, GC_TEST_SERVER_PROCESS_DEFAULT);
}

/* Pings from both members all along, as a live client does. */
static gboolean
ping_members (gpointer user_data)
{
  GcTestClient **members = user_data;

  for (guint i = 0; i < 2; i++)
    if (members[i]->connection != NULL && !members[i]->closed)
      gc_ws_connection_send_ping (members[i]->connection, (const guint8 *) "alive", 5);
  return G_SOURCE_CONTINUE;
}

static void
test_stall_longer_than_idle_timeout (void)
{
  g_autoptr(GcTestServerProcess) server = server_process_start ();
  g_autoptr(GcTestClient) alice = gc_test_client_join (server->port, "stall", "alice");
  g_autoptr(GcTestClient) bob = gc_test_client_join (server->port, "stall", "bob");
  GcTestClient *members[2] = { alice, bob };
  g_autoptr(GcTestEvent) joined = gc_test_client_wait_event (alice, GC_EVENT_JOIN);
  g_autoptr(GcTestEvent) after = NULL;
  guint timer;

  timer = g_timeout_add (PING_INTERVAL_MS, ping_members, members);

  /* Longer than the idle timeout, with the members' main loop running:
   * their pings pile up in the server's sockets. */
  g_subprocess_send_signal (server->process, SIGSTOP);
  gc_test_run_for_ms (STALL_MS);  /* the stall is the stimulus */
  g_subprocess_send_signal (server->process, SIGCONT);

  /* Both are still members: a message goes through both ways... */
  gc_test_client_send_message (alice, "after the stall", "c1");
  after = gc_test_client_wait_message (bob, "after the stall");
  g_clear_pointer (&after, gc_test_event_free);
  gc_test_client_send_message (bob, "still here", "c2");
  after = gc_test_client_wait_message (alice, "still here");
  gc_test_client_sync (alice);
  gc_test_client_sync (bob);

  /* ...nobody was closed, and nobody was announced as gone. */
  g_assert_false (alice->closed);
  g_assert_false (bob->closed);
  g_assert_cmpuint (gc_test_client_count_queued (alice, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_LEAVE), ==, 0);

  g_source_remove (timer);
  gc_test_client_close (alice, GC_WS_CLOSE_NORMAL);
  gc_test_client_close (bob, GC_WS_CLOSE_NORMAL);
  gc_test_client_wait_closed (alice);
  gc_test_client_wait_closed (bob);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ws-idle-stall/gochat-server", test_stall_longer_than_idle_timeout);

  return gc_test_run ();
}
