/* test-server-redis.c: several gochat-server processes sharing rooms
 * through Redis (--redis, issue 13)
 *
 * Each test starts its own redis-server on a unix socket in a temp dir
 * (TCP off) and two gochat-server nodes on it with a short lease (1 s)
 * and resume window (2 s), then talks to them as clients do.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include "gc-test-client.h"
#include "gc-test-server.h"
#include "redis-test-server.h"

#define N_NODES 2

typedef struct {
  GcTestRedis         *redis;
  GcTestServerProcess *nodes[N_NODES];
} Cluster;

static GcTestServerProcess *
node_start (Cluster *cluster)
{
  const char *args[] = {
    "--redis", gc_test_redis_get_url (cluster->redis),
    "--redis-lease-ms", "1000",
    "--resume-seconds", "2",
    "--history", "50",
    "--rate-burst", "200",
    "--rate-per-second", "200",
    NULL
  };

  return gc_test_server_process_startv (args, GC_TEST_SERVER_PROCESS_DEFAULT);
}

static void
cluster_setup (Cluster       *cluster,
               gconstpointer  data)
{
  if (gc_test_redis_server_path () == NULL)
    return;
  cluster->redis = gc_test_redis_start (NULL);
  for (guint i = 0; i < N_NODES; i++)
    cluster->nodes[i] = node_start (cluster);
}

static void
cluster_teardown (Cluster       *cluster,
                  gconstpointer  data)
{
  for (guint i = 0; i < N_NODES; i++)
    g_clear_pointer (&cluster->nodes[i], gc_test_server_process_free);
  g_clear_pointer (&cluster->redis, gc_test_redis_free);
}

static gboolean
skip_without_redis (Cluster *cluster)
{
  if (cluster->redis == NULL)
    {
      g_test_skip ("redis-server is not installed");
      return TRUE;
    }
  return FALSE;
}

static guint16
port (Cluster *cluster,
      guint    node)
{
  return cluster->nodes[node]->port;
}

/* Waits for @n message events and returns their ids, in order. */
static GArray *
take_message_ids (GcTestClient *client,
                  guint         n)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint64));

  while (ids->len < n)
    {
      g_autoptr(GcTestEvent) event = gc_test_client_wait_event (client, GC_EVENT_MESSAGE);

      g_array_append_val (ids, event->event->message->id);
    }
  return ids;
}

/* Two clients on two nodes see each other, and the same messages with the
 * same ids in the same order while both send bursts at once. */
static void
test_two_nodes_same_order (Cluster       *cluster,
                           gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcUser) joined = NULL;
  g_autoptr(GArray) alice_ids = NULL;
  g_autoptr(GArray) bob_ids = NULL;
  GcWelcome *welcome;
  const guint n = 40;

  if (skip_without_redis (cluster))
    return;

  alice = gc_test_client_join (port (cluster, 0), "ordered", "Alice");
  bob = gc_test_client_start_join (port (cluster, 1), "ordered", "Bob", NULL);
  welcome = gc_test_client_wait_welcome (bob);
  g_assert_cmpuint (welcome->members->len, ==, 2);
  g_assert_true (gc_test_members_contain (welcome->members, gc_test_client_get_you (alice)));
  joined = gc_test_client_wait_join_user (alice);
  gc_test_assert_same_user (joined, gc_test_client_get_you (bob));

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *a = g_strdup_printf ("a-%u", i);
      g_autofree char *b = g_strdup_printf ("b-%u", i);

      gc_test_client_send_message (alice, a, NULL);
      gc_test_client_send_message (bob, b, NULL);
    }

  alice_ids = take_message_ids (alice, 2 * n);
  bob_ids = take_message_ids (bob, 2 * n);
  for (guint i = 0; i < 2 * n; i++)
    {
      g_assert_cmpuint (g_array_index (alice_ids, guint64, i), ==,
                        g_array_index (bob_ids, guint64, i));
      if (i > 0)
        g_assert_cmpuint (g_array_index (alice_ids, guint64, i), >,
                          g_array_index (alice_ids, guint64, i - 1));
    }
}

/* A name held on one node is taken on the other; the suggestion is free. */
static void
test_name_taken_across_nodes (Cluster       *cluster,
                              gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) second = NULL;
  g_autoptr(GcTestClient) third = NULL;
  g_autoptr(GcTestClient) suggested = NULL;
  JsonObject *refusal;
  const char *suggestion;

  if (skip_without_redis (cluster))
    return;

  alice = gc_test_client_join (port (cluster, 0), "names", "Alice");
  third = gc_test_client_join (port (cluster, 1), "names", "Alice2");
  second = gc_test_client_start_join (port (cluster, 1), "names", "ALICE", NULL);
  refusal = gc_test_client_assert_refused (second, 409, "name_taken");
  suggestion = json_object_get_string_member (refusal, "suggestion");
  g_assert_nonnull (suggestion);
  g_assert_cmpstr (suggestion, ==, "ALICE3");
  suggested = gc_test_client_join (port (cluster, 0), "names", suggestion);
}

/* History and `since` come from Redis: a joiner on the other node gets
 * the messages after its `since`. */
static void
test_history_across_nodes (Cluster       *cluster,
                           gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) carol = NULL;
  g_autoptr(GPtrArray) sent = NULL;
  g_autofree char *since = NULL;
  GcTestJoinOptions options = { 0 };
  GcWelcome *welcome;

  if (skip_without_redis (cluster))
    return;

  alice = gc_test_client_join (port (cluster, 0), "history", "Alice");
  sent = gc_test_client_send_messages (alice, "h", 3);

  bob = gc_test_client_join (port (cluster, 1), "history", "Bob");
  welcome = bob->welcome->event->welcome;
  g_assert_cmpuint (welcome->history->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      GcMessage *had = g_ptr_array_index (welcome->history, i);
      GcTestEvent *event = g_ptr_array_index (sent, i);

      g_assert_cmpuint (had->id, ==, event->event->message->id);
      g_assert_cmpstr (had->text, ==, event->event->message->text);
    }

  since = g_strdup_printf ("%" G_GUINT64_FORMAT,
                           ((GcTestEvent *) g_ptr_array_index (sent, 0))->event->message->id);
  options.since = since;
  carol = gc_test_client_start_join (port (cluster, 1), "history", "Carol", &options);
  welcome = gc_test_client_wait_welcome (carol);
  g_assert_cmpuint (welcome->history->len, ==, 2);
  g_assert_cmpstr (((GcMessage *) g_ptr_array_index (welcome->history, 0))->text, ==, "h-1");
}

/* A client dropped on node 1 resumes on node 2: nobody sees it leave or
 * join, and it gets what it missed. */
static void
test_resume_on_other_node (Cluster       *cluster,
                           gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autoptr(GcTestEvent) missed = NULL;
  g_autofree char *token = NULL;
  g_autofree char *since = NULL;
  GcWelcome *welcome;

  if (skip_without_redis (cluster))
    return;

  alice = gc_test_client_join (port (cluster, 0), "resume", "Alice");
  bob = gc_test_client_join (port (cluster, 1), "resume", "Bob");
  g_clear_pointer (&bob->welcome, gc_test_event_free);
  gc_test_client_sync (alice);
  gc_test_client_clear_queue (alice);
  token = g_strdup (alice->welcome->event->welcome->session_id);
  {
    g_autoptr(GcTestEvent) last = NULL;

    gc_test_client_send_message (alice, "before", NULL);
    last = gc_test_client_wait_message (alice, "before");
    since = g_strdup_printf ("%" G_GUINT64_FORMAT, last->event->message->id);
  }

  gc_test_client_abort (alice);
  gc_test_client_wait_closed (alice);
  gc_test_client_send_message (bob, "while away", NULL);
  missed = gc_test_client_wait_message (bob, "while away");

  {
    GcTestJoinOptions options = { .session_id = token, .since = since };

    again = gc_test_client_start_join (port (cluster, 1), "resume", "Alice", &options);
  }
  welcome = gc_test_client_wait_welcome (again);
  g_assert_true (welcome->resumed);
  gc_test_assert_same_user (welcome->you, gc_test_client_get_you (alice));
  g_assert_cmpuint (welcome->history->len, ==, 1);
  g_assert_cmpstr (((GcMessage *) g_ptr_array_index (welcome->history, 0))->text, ==, "while away");

  /* Past the resume window and a lease: still no leave, no join. */
  gc_test_run_for_ms (3500);
  gc_test_client_sync (bob);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_JOIN), ==, 0);
  gc_test_client_sync (again);
}

/* SIGTERM in a cluster: its clients get 1001, and no leave reaches the
 * others; a client that resumes elsewhere goes on unnoticed. */
static void
test_sigterm_node (Cluster       *cluster,
                   gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autofree char *token = NULL;
  GcWelcome *welcome;

  if (skip_without_redis (cluster))
    return;

  alice = gc_test_client_join (port (cluster, 0), "rolling", "Alice");
  bob = gc_test_client_join (port (cluster, 1), "rolling", "Bob");
  token = g_strdup (alice->welcome->event->welcome->session_id);
  gc_test_client_sync (alice);
  gc_test_client_clear_queue (alice);

  gc_test_server_process_stop (cluster->nodes[0], SIGTERM, 10000);
  g_assert_cmpuint (gc_test_client_wait_closed (alice), ==, 1001);

  {
    GcTestJoinOptions options = { .session_id = token };

    again = gc_test_client_start_join (port (cluster, 1), "rolling", "Alice", &options);
  }
  welcome = gc_test_client_wait_welcome (again);
  g_assert_true (welcome->resumed);

  gc_test_client_sync (bob);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_JOIN), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/server-redis/two-nodes-same-order", Cluster, NULL,
              cluster_setup, test_two_nodes_same_order, cluster_teardown);
  g_test_add ("/server-redis/name-taken-across-nodes", Cluster, NULL,
              cluster_setup, test_name_taken_across_nodes, cluster_teardown);
  g_test_add ("/server-redis/history-across-nodes", Cluster, NULL,
              cluster_setup, test_history_across_nodes, cluster_teardown);
  g_test_add ("/server-redis/resume-on-other-node", Cluster, NULL,
              cluster_setup, test_resume_on_other_node, cluster_teardown);
  g_test_add ("/server-redis/sigterm-node", Cluster, NULL,
              cluster_setup, test_sigterm_node, cluster_teardown);

  return gc_test_run ();
}
