/* test-server-presence.c: join events, which the server batches per room
 *
 * gochat-server sends a room's join events in batches (at most 250 ms
 * late) so that each member takes many in one write. These tests check
 * that batching changes nothing a client can see but timing: every member
 * hears of every later joiner, in order, nobody hears of itself or of
 * those its welcome listed, and a message never overtakes the join of
 * its sender.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-server.h"
#include "gc-test-server.h"

/* The names of the join events queued on @client, in order, as "a,b". */
static char *
queued_joins (GcTestClient *client)
{
  g_autoptr(GString) names = g_string_new (NULL);

  for (GList *l = client->events.head; l != NULL; l = l->next)
    {
      GcTestEvent *event = l->data;

      if (event->event->type != GC_EVENT_JOIN)
        continue;
      if (names->len > 0)
        g_string_append_c (names, ',');
      g_string_append (names, event->event->join.user->name);
    }

  return g_string_free (g_steal_pointer (&names), FALSE);
}

/* Joins that happen together reach each member once, in order, and only
 * those after the member's own: its welcome listed the ones before. */
static void
test_presence_batch_recipients (GcTestServer  *ts,
                                gconstpointer  test_data)
{
  const char *names[] = { "ann", "bob", "cat", "dan" };
  const char *expected[] = { "bob,cat,dan", "cat,dan", "dan", "" };
  GcTestClient *clients[G_N_ELEMENTS (names)];

  /* One after the other, each welcome waited for, all within a batch
   * window on an idle machine (the test holds either way). */
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GcWelcome *welcome;

      clients[i] = gc_test_client_join (ts->port, "lobby", names[i]);
      welcome = clients[i]->welcome->event->welcome;
      g_assert_cmpuint (welcome->members->len, ==, i + 1);
    }

  /* Without any other traffic the batch still goes out. */
  gc_test_wait (clients[0]->n_events >= 1 + 3);

  /* The last joiner's message flushes whatever is left and, events being
   * in order, is a barrier: every join event is queued once it is. */
  gc_test_client_send_message (clients[3], "barrier", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GcTestEvent) echo = gc_test_client_wait_message (clients[i], "barrier");
      g_autofree char *joins = queued_joins (clients[i]);

      g_assert_cmpstr (joins, ==, expected[i]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    gc_test_client_free (clients[i]);
}

/* A newcomer's first message comes after its join event, at everyone. */
static void
test_presence_join_before_message (GcTestServer  *ts,
                                   gconstpointer  test_data)
{
  g_autoptr(GcTestClient) ann = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) bob = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestEvent) first = NULL;
  g_autoptr(GcTestEvent) second = NULL;

  /* At once, inside the batch window. */
  gc_test_client_send_message (bob, "hello", NULL);

  first = gc_test_client_next_event (ann);
  g_assert_cmpint (first->event->type, ==, GC_EVENT_JOIN);
  g_assert_cmpstr (first->event->join.user->name, ==, "bob");
  second = gc_test_client_next_event (ann);
  g_assert_cmpint (second->event->type, ==, GC_EVENT_MESSAGE);
  g_assert_cmpstr (second->event->message->text, ==, "hello");
}

/* A member that joins and leaves within one batch: the others hear of
 * both, join first. */
static void
test_presence_join_then_leave (GcTestServer  *ts,
                               gconstpointer  test_data)
{
  g_autoptr(GcTestClient) ann = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) bob = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestEvent) first = NULL;
  g_autoptr(GcTestEvent) second = NULL;

  gc_test_client_close (bob, 1000);

  first = gc_test_client_next_event (ann);
  g_assert_cmpint (first->event->type, ==, GC_EVENT_JOIN);
  g_assert_cmpstr (first->event->join.user->name, ==, "bob");
  second = gc_test_client_next_event (ann);
  g_assert_cmpint (second->event->type, ==, GC_EVENT_LEAVE);
  g_assert_cmpstr (second->event->leave.user->name, ==, "bob");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_server ("/server/presence/batch-recipients", NULL, test_presence_batch_recipients);
  gc_test_add_server ("/server/presence/join-before-message", NULL,
                      test_presence_join_before_message);
  gc_test_add_server ("/server/presence/join-then-leave", NULL, test_presence_join_then_leave);

  return gc_test_run ();
}
