/* test-server-redis-delivery.c: how a --redis node hands what it receives
 * to its members (issue 13): a batch's messages go to each member in one
 * buffer at the batch's end, and nothing else the room sends may pass
 * them or be passed by them
 *
 * Each test starts its own redis-server and two gochat-server nodes
 * (tests/lib/gc-test-cluster.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gc-test-client.h"
#include "gc-test-cluster.h"

/* The next event that is neither a join nor a gc_test_client_sync()
 * message (transfer full). */
static GcTestEvent *
next_but_joins (GcTestClient *client)
{
  while (TRUE)
    {
      GcTestEvent *event = gc_test_client_next_event (client);

      if (event->event->type != GC_EVENT_JOIN &&
          (event->event->type != GC_EVENT_MESSAGE ||
           !g_str_has_prefix (event->event->message->text, "sync ")))
        return event;
      gc_test_event_free (event);
    }
}

/* Checks that @client gets @n messages "@prefix-I" in order, ids rising
 * from after *@last_id; moves *@last_id to the last. */
static void
assert_messages (GcTestClient *client,
                 const char   *prefix,
                 guint         n,
                 const char   *from,
                 guint64      *last_id)
{
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcTestEvent) event = next_but_joins (client);
      g_autofree char *text = g_strdup_printf ("%s-%u", prefix, i);

      g_assert_cmpint (event->event->type, ==, GC_EVENT_MESSAGE);
      g_assert_cmpstr (event->event->message->text, ==, text);
      g_assert_cmpstr (event->event->message->from->name, ==, from);
      g_assert_cmpuint (event->event->message->id, >, *last_id);
      *last_id = event->event->message->id;
    }
}

/* Bursts of messages around a rename, sent at once from node 0: two
 * members on node 1 and the sender get them all, in one order, and the
 * rename exactly between the bursts (a rename is not batched: it sends
 * the batch's messages before it first). */
static void
test_batch_then_rename (GcTestCluster *cluster,
                        gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) carol = NULL;
  g_autofree char *rename_request = gc_request_build_rename ("Alicia");
  GcTestClient *clients[3];
  const guint n = 30;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "batched", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "batched", "Bob");
  carol = gc_test_client_join (gc_test_cluster_port (cluster, 1), "batched", "Carol");
  gc_test_client_sync (alice);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("before-%u", i);

      gc_test_client_send_message (alice, text, NULL);
    }
  gc_test_client_send_text (alice, rename_request);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("after-%u", i);

      gc_test_client_send_message (alice, text, NULL);
    }

  clients[0] = alice;
  clients[1] = bob;
  clients[2] = carol;
  for (guint c = 0; c < G_N_ELEMENTS (clients); c++)
    {
      g_autoptr(GcTestEvent) renamed = NULL;
      guint64 last_id = 0;

      assert_messages (clients[c], "before", n, "Alice", &last_id);
      renamed = next_but_joins (clients[c]);
      g_assert_cmpint (renamed->event->type, ==, GC_EVENT_RENAME);
      g_assert_cmpstr (renamed->event->rename.user->name, ==, "Alicia");
      assert_messages (clients[c], "after", n, "Alicia", &last_id);
    }
}

/* @message comes right after the one before it: a later id, and the
 * next text "m-K" (any K for the first). TRUE if it is "m-@last". */
static gboolean
assert_next (const GcMessage *message,
             guint64         *last_id,
             int             *last_k,
             guint            last)
{
  int k;

  g_assert_true (g_str_has_prefix (message->text, "m-"));
  k = atoi (message->text + 2);
  if (*last_k >= 0)
    g_assert_cmpint (k, ==, *last_k + 1);
  g_assert_cmpuint (message->id, >, *last_id);
  *last_id = message->id;
  *last_k = k;
  return (guint) k == last;
}

/* A member joins node 1 while node 0's member sends a long burst: its
 * welcome's history and the messages after it hold each message once,
 * in order, none missing after the first (a join waiting to attach, then
 * a member due only later events, stop the batching until the room's
 * events pass them). */
static void
test_join_during_burst (GcTestCluster *cluster,
                        gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) dave = NULL;
  GcWelcome *welcome;
  guint64 last_id = 0;
  int last_k = -1;
  /* Within the cluster's rate burst (200), its sync message included. */
  const guint n = 150;
  gboolean done = FALSE;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "joiner", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "joiner", "Bob");
  gc_test_client_sync (alice);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("m-%u", i);

      gc_test_client_send_message (alice, text, NULL);
      if (i == n / 4)
        dave = gc_test_client_start_join (gc_test_cluster_port (cluster, 1), "joiner", "Dave", NULL);
    }
  welcome = gc_test_client_wait_welcome (dave);
  for (guint i = 0; i < welcome->history->len; i++)
    {
      GcMessage *message = g_ptr_array_index (welcome->history, i);

      /* The sync message may come first. */
      if (g_str_has_prefix (message->text, "m-"))
        done = assert_next (message, &last_id, &last_k, n - 1);
    }
  /* Everything after the welcome, up to Alice's last message (unless
   * the join came after it). */
  while (!done)
    {
      g_autoptr(GcTestEvent) event = next_but_joins (dave);

      g_assert_cmpint (event->event->type, ==, GC_EVENT_MESSAGE);
      done = assert_next (event->event->message, &last_id, &last_k, n - 1);
    }
  /* Bob, there all along, got every message once, in order. */
  last_id = 0;
  assert_messages (bob, "m", n, "Alice", &last_id);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gc_test_add_cluster ("/server-redis/delivery/batch-then-rename", NULL, test_batch_then_rename);
  gc_test_add_cluster ("/server-redis/delivery/join-during-burst", NULL, test_join_during_burst);
  return g_test_run ();
}
