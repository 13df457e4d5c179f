/* test-server-redis.c: several gochat-server processes sharing rooms
 * through Redis (--redis, issue 13)
 *
 * Each test starts its own redis-server on a unix socket in a temp dir
 * (TCP off) and two gochat-server nodes on it with a short lease (1 s)
 * and resume window (2 s) (tests/lib/gc-test-cluster.h), then talks to
 * them as clients do.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "gc-test-client.h"
#include "gc-test-http.h"
#include "gc-test-cluster.h"

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
test_two_nodes_same_order (GcTestCluster *cluster,
                           gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcUser) joined = NULL;
  g_autoptr(GArray) alice_ids = NULL;
  g_autoptr(GArray) bob_ids = NULL;
  GcWelcome *welcome;
  const guint n = 40;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "ordered", "Alice");
  bob = gc_test_client_start_join (gc_test_cluster_port (cluster, 1), "ordered", "Bob", NULL);
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
test_name_taken_across_nodes (GcTestCluster *cluster,
                              gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) second = NULL;
  g_autoptr(GcTestClient) third = NULL;
  g_autoptr(GcTestClient) suggested = NULL;
  JsonObject *refusal;
  const char *suggestion;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "names", "Alice");
  third = gc_test_client_join (gc_test_cluster_port (cluster, 1), "names", "Alice2");
  second = gc_test_client_start_join (gc_test_cluster_port (cluster, 1), "names", "ALICE", NULL);
  refusal = gc_test_client_assert_refused (second, 409, "name_taken");
  suggestion = json_object_get_string_member (refusal, "suggestion");
  g_assert_nonnull (suggestion);
  g_assert_cmpstr (suggestion, ==, "ALICE3");
  suggested = gc_test_client_join (gc_test_cluster_port (cluster, 0), "names", suggestion);
}

/* History and `since` come from Redis: a joiner on the other node gets
 * the messages after its `since`. */
static void
test_history_across_nodes (GcTestCluster *cluster,
                           gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) carol = NULL;
  g_autoptr(GPtrArray) sent = NULL;
  g_autofree char *since = NULL;
  GcTestJoinOptions options = { 0 };
  GcWelcome *welcome;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "history", "Alice");
  sent = gc_test_client_send_messages (alice, "h", 3);

  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "history", "Bob");
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
  carol = gc_test_client_start_join (gc_test_cluster_port (cluster, 1),
                                     "history", "Carol", &options);
  welcome = gc_test_client_wait_welcome (carol);
  g_assert_cmpuint (welcome->history->len, ==, 2);
  g_assert_cmpstr (((GcMessage *) g_ptr_array_index (welcome->history, 0))->text, ==, "h-1");
}

/* A client dropped on node 1 resumes on node 2: nobody sees it leave or
 * join, and it gets what it missed. */
static void
test_resume_on_other_node (GcTestCluster *cluster,
                           gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autoptr(GcTestEvent) missed = NULL;
  g_autofree char *token = NULL;
  g_autofree char *since = NULL;
  GcWelcome *welcome;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "resume", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "resume", "Bob");
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

    again = gc_test_client_start_join (gc_test_cluster_port (cluster, 1),
                                       "resume", "Alice", &options);
  }
  welcome = gc_test_client_wait_welcome (again);
  g_assert_true (welcome->resumed);
  gc_test_assert_same_user (welcome->you, gc_test_client_get_you (alice));
  g_assert_cmpuint (welcome->history->len, ==, 1);
  g_assert_cmpstr (((GcMessage *) g_ptr_array_index (welcome->history, 0))->text, ==, "while away");

  /* Past the resume window and a lease: still no leave, no join (a
   * window in which nothing must happen, not a wait). */
  gc_test_run_for_ms (3500);
  gc_test_client_sync (bob);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_JOIN), ==, 0);
  gc_test_client_sync (again);
}

/* SIGTERM in a cluster: its clients get 1001, and no leave reaches the
 * others; a client that resumes elsewhere goes on unnoticed. */
static void
test_sigterm_node (GcTestCluster *cluster,
                   gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autofree char *token = NULL;
  GcWelcome *welcome;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "rolling", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "rolling", "Bob");
  token = g_strdup (alice->welcome->event->welcome->session_id);
  gc_test_client_sync (alice);
  gc_test_client_clear_queue (alice);

  gc_test_server_process_stop (cluster->nodes[0], SIGTERM, 10000);
  g_assert_cmpuint (gc_test_client_wait_closed (alice), ==, 1001);

  {
    GcTestJoinOptions options = { .session_id = token };

    again = gc_test_client_start_join (gc_test_cluster_port (cluster, 1),
                                       "rolling", "Alice", &options);
  }
  welcome = gc_test_client_wait_welcome (again);
  g_assert_true (welcome->resumed);

  gc_test_client_sync (bob);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_JOIN), ==, 0);
}

static char *
healthz_redis (GcTestCluster *cluster,
               guint          node,
               guint         *status)
{
  g_autoptr(GcTestHttpResponse) response =
    gc_test_http_get ("127.0.0.1", gc_test_cluster_port (cluster, node), NULL, "/healthz");

  *status = response->status;
  g_assert_nonnull (response->json);
  return g_strdup (json_object_get_string_member_with_default (response->json, "redis", ""));
}

static gboolean
healthz_says (GcTestCluster *cluster,
              guint          node,
              const char    *redis,
              guint          status)
{
  guint got = 0;
  g_autofree char *state = healthz_redis (cluster, node, &got);

  return got == status && g_strcmp0 (state, redis) == 0;
}

/* /healthz has "redis": "ok", and 503 "down" while Redis is away;
 * /metrics counts the nodes and the reconnection. */
static void
test_healthz_and_metrics (GcTestCluster *cluster,
                          gconstpointer  data)
{
  g_autoptr(GcTestClient) refused = NULL;
  guint64 reconnects;

  if (gc_test_cluster_skip (cluster))
    return;

  g_assert_true (healthz_says (cluster, 0, "ok", 200));
  gc_test_wait (gc_test_cluster_get_metric (cluster, 0, "gochat_redis_nodes") == 2);
  g_assert_cmpuint (gc_test_cluster_get_metric (cluster, 1, "gochat_redis_up"), ==, 1);

  gc_test_redis_kill (cluster->redis);
  gc_test_wait (healthz_says (cluster, 0, "down", 503));
  refused = gc_test_client_start_join (gc_test_cluster_port (cluster, 0), "away", "Alice", NULL);
  g_assert_cmpint (json_object_get_int_member_with_default (
                     gc_test_client_assert_refused (refused, 503, "unavailable"),
                     "retry_after_ms", 0), >, 0);

  gc_test_redis_restart (cluster->redis);
  gc_test_wait (healthz_says (cluster, 0, "ok", 200));
  gc_test_wait (healthz_says (cluster, 1, "ok", 200));
  reconnects = gc_test_cluster_get_metric (cluster, 0, "gochat_redis_reconnects_total");
  g_assert_cmpuint (reconnects, >=, 1);
  g_assert_cmpuint (reconnects, <=, 2);
  {
    g_autoptr(GcTestClient) back = gc_test_client_join (gc_test_cluster_port (cluster, 1),
                                                        "away", "Alice");
  }
}

static gboolean
is_leave_of (const GcTestEvent *event,
             gpointer           user_data)
{
  return event->event->type == GC_EVENT_LEAVE &&
         g_strcmp0 (event->event->leave.user->id, user_data) == 0;
}

/* SIGKILL a node: its client that resumes elsewhere is never seen to go;
 * the other one leaves (timeout) once the node's lease and the resume
 * window have run out. */
static void
test_sigkill_node (GcTestCluster *cluster,
                   gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) carol = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autofree char *token = NULL;
  g_autofree char *carol_id = NULL;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "killed", "Alice");
  carol = gc_test_client_join (gc_test_cluster_port (cluster, 0), "killed", "Carol");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "killed", "Bob");
  token = g_strdup (alice->welcome->event->welcome->session_id);
  carol_id = g_strdup (gc_test_client_get_you (carol)->id);
  gc_test_client_sync (bob);
  gc_test_client_clear_queue (bob);

  gc_test_server_process_stop (cluster->nodes[0], SIGKILL, 10000);
  gc_test_client_wait_closed (alice);
  gc_test_client_wait_closed (carol);

  {
    GcTestJoinOptions options = { .session_id = token };

    again = gc_test_client_start_join (gc_test_cluster_port (cluster, 1),
                                       "killed", "Alice", &options);
  }
  g_assert_true (gc_test_client_wait_welcome (again)->resumed);

  leave = gc_test_client_wait_matching (bob, is_leave_of, carol_id, "Carol's leave");
  g_assert_cmpint (leave->event->leave.reason, ==, GC_LEAVE_REASON_TIMEOUT);
  gc_test_client_sync (bob);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_JOIN), ==, 0);
}

/* Redis killed and started again (empty): a sender learns whether its
 * message went out (its echo, or a close), clients can join again, and
 * ids stay above the old ones. */
static void
test_redis_restart (GcTestCluster *cluster,
                    gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  guint64 last_id;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "restart", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "restart", "Bob");
  before = gc_test_client_send_messages (alice, "before", 3);
  last_id = ((GcTestEvent *) g_ptr_array_index (before, 2))->event->message->id;

  gc_test_redis_kill (cluster->redis);
  gc_test_client_send_message (alice, "during", "during-1");
  gc_test_redis_restart (cluster->redis);

  /* Redis came back empty: the room is lost, so both are closed (1011)
   * and would resume; their tokens are gone with it. The message was
   * either echoed before that or never went out. */
  g_assert_cmpuint (gc_test_client_wait_closed (alice), ==, 1011);
  g_assert_cmpuint (gc_test_client_wait_closed (bob), ==, 1011);

  gc_test_wait (healthz_says (cluster, 0, "ok", 200));
  again = gc_test_client_join (gc_test_cluster_port (cluster, 1), "restart", "Alice");
  after = gc_test_client_send_messages (again, "after", 1);
  g_assert_cmpuint (((GcTestEvent *) g_ptr_array_index (after, 0))->event->message->id, >, last_id);
}

/* 50 joins at once with names of the same key, spread over the nodes:
 * exactly one wins, every other gets 409 with a suggestion that is free
 * (it joins, wherever it is tried). */
static void
test_concurrent_same_name (GcTestCluster *cluster,
                           gconstpointer  data)
{
  static const char *forms[] = { "Zoe", "zoe", "ZOE", "zOe" };
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_client_free);
  g_autoptr(GPtrArray) suggested = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_client_free);
  guint winners = 0;
  const guint n = 50;

  if (gc_test_cluster_skip (cluster))
    return;

  for (guint i = 0; i < n; i++)
    {
      guint16 port = gc_test_cluster_port (cluster, i % cluster->n_nodes);

      g_ptr_array_add (clients, gc_test_client_start_join (port, "crowd",
                                                           forms[i % G_N_ELEMENTS (forms)], NULL));
    }
  for (guint i = 0; i < n; i++)
    {
      GcTestClient *client = g_ptr_array_index (clients, i);

      gc_test_client_wait_finished (client);
      /* Refusals are in band, or HTTP when the address has many of them
       * in flight (§3.6). */
      if (client->connection == NULL)
        {
          g_assert_cmpuint (client->http_status, ==, 409);
          continue;
        }
      gc_test_wait (client->welcome != NULL || client->closed);
      if (client->welcome != NULL)
        winners++;
    }
  g_assert_cmpuint (winners, ==, 1);

  /* Every suggestion was free when made (all are the same key: the
   * first of them joins). */
  for (guint i = 0; i < n && suggested->len < 1; i++)
    {
      GcTestClient *client = g_ptr_array_index (clients, i);
      const char *suggestion;

      if (client->welcome != NULL)
        continue;
      g_assert_nonnull (client->refusal);
      g_assert_cmpstr (json_object_get_string_member (client->refusal, "error"), ==, "name_taken");
      if (client->connection != NULL)
        g_assert_cmpuint (client->close_code, ==, 4409);
      suggestion = json_object_get_string_member_with_default (client->refusal, "suggestion", NULL);
      g_assert_nonnull (suggestion);
      g_ptr_array_add (suggested,
                       gc_test_client_join (gc_test_cluster_port (cluster, (i + 1) % cluster->n_nodes),
                                            "crowd", suggestion));
    }
}

/* Typing and rename across nodes: the typist does not hear itself, the
 * new name is everyone's at once and the old one is free again. */
static void
test_typing_and_rename (GcTestCluster *cluster,
                        gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) taken = NULL;
  g_autoptr(GcTestClient) freed = NULL;
  g_autoptr(GcTestEvent) typing = NULL;
  g_autoptr(GcTestEvent) renamed = NULL;
  g_autoptr(GcTestEvent) echoed = NULL;
  g_autofree char *typing_request = gc_request_build_typing (TRUE);
  g_autofree char *rename_request = gc_request_build_rename ("Alicia");

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "chatter", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "chatter", "Bob");
  gc_test_client_sync (alice);
  gc_test_client_clear_queue (alice);

  gc_test_client_send_text (alice, typing_request);
  typing = gc_test_client_wait_event (bob, GC_EVENT_TYPING);
  gc_test_assert_same_user (typing->event->typing.user, gc_test_client_get_you (alice));
  g_assert_true (typing->event->typing.active);

  gc_test_client_send_text (alice, rename_request);
  renamed = gc_test_client_wait_event (bob, GC_EVENT_RENAME);
  g_assert_cmpstr (renamed->event->rename.old_name, ==, "Alice");
  g_assert_cmpstr (renamed->event->rename.user->name, ==, "Alicia");
  g_assert_cmpstr (renamed->event->rename.user->id, ==, gc_test_client_get_you (alice)->id);
  echoed = gc_test_client_wait_event (alice, GC_EVENT_RENAME);
  g_assert_cmpstr (echoed->event->rename.user->name, ==, "Alicia");
  g_assert_cmpuint (gc_test_client_count_queued (alice, GC_EVENT_TYPING), ==, 0);

  taken = gc_test_client_start_join (gc_test_cluster_port (cluster, 1), "chatter", "ALICIA", NULL);
  gc_test_client_assert_refused (taken, 409, "name_taken");
  freed = gc_test_client_join (gc_test_cluster_port (cluster, 1), "chatter", "alice");
}

/* A rename and, at once (before its answer), a message, twice: everyone
 * gets each rename and then the message under the new name, the sender
 * its client_id echo (the message carried the old name's key, Redis
 * found it gone and the message went nowhere, issue 13 review). */
static void
test_message_right_after_rename (GcTestCluster *cluster,
                                 gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  static const char *names[] = { "Alicia", "Ally" };
  const char *old_name = "Alice";

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "chatter", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "chatter", "Bob");
  gc_test_client_sync (alice);
  /* Everything before bob's "ready" (alice's sync) is then in both queues. */
  {
    g_autofree char *ready = gc_request_build_message ("ready", GC_MESSAGE_KIND_TEXT, NULL);
    g_autoptr(GcTestEvent) at_alice = NULL;
    g_autoptr(GcTestEvent) at_bob = NULL;

    gc_test_client_send_text (bob, ready);
    at_alice = gc_test_client_wait_message (alice, "ready");
    at_bob = gc_test_client_wait_message (bob, "ready");
  }
  gc_test_client_clear_queue (alice);
  gc_test_client_clear_queue (bob);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *rename_request = gc_request_build_rename (names[i]);
      g_autofree char *text = g_strdup_printf ("as %s", names[i]);
      g_autofree char *message_request = gc_request_build_message (text, GC_MESSAGE_KIND_TEXT,
                                                                   names[i]);

      gc_test_client_send_text (alice, rename_request);
      gc_test_client_send_text (alice, message_request);
    }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *text = g_strdup_printf ("as %s", names[i]);
      GcTestClient *clients[] = { bob, alice };

      for (guint c = 0; c < G_N_ELEMENTS (clients); c++)
        {
          g_autoptr(GcTestEvent) renamed = gc_test_client_next_event (clients[c]);
          g_autoptr(GcTestEvent) said = gc_test_client_next_event (clients[c]);

          g_assert_cmpint (renamed->event->type, ==, GC_EVENT_RENAME);
          g_assert_cmpstr (renamed->event->rename.old_name, ==, old_name);
          g_assert_cmpstr (renamed->event->rename.user->name, ==, names[i]);
          g_assert_cmpint (said->event->type, ==, GC_EVENT_MESSAGE);
          g_assert_cmpstr (said->event->message->text, ==, text);
          g_assert_cmpstr (said->event->message->from->name, ==, names[i]);
          g_assert_cmpstr (said->event->message->from->id, ==, gc_test_client_get_you (alice)->id);
          /* Its client_id, the sender's echo (everyone gets it, docs/protocol.md §4.3). */
          g_assert_cmpstr (said->event->message->client_id, ==, names[i]);
        }
      old_name = names[i];
    }
}

/* A rename, a message and the close at once: the others get the rename,
 * the message under the new name, then the leave (the message waited
 * for the rename and was dropped when the member left meanwhile); the
 * name is free again. */
static void
test_close_right_after_rename (GcTestCluster *cluster,
                               gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autoptr(GcTestEvent) renamed = NULL;
  g_autoptr(GcTestEvent) said = NULL;
  g_autoptr(GcTestEvent) left = NULL;
  g_autofree char *rename_request = gc_request_build_rename ("Alicia");
  g_autofree char *message_request = gc_request_build_message ("bye", GC_MESSAGE_KIND_TEXT, "c-1");
  g_autofree char *alice_id = NULL;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "chatter", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "chatter", "Bob");
  alice_id = g_strdup (gc_test_client_get_you (alice)->id);
  gc_test_client_sync (alice);
  /* Everything before bob's "ready" (alice's sync) is then in his queue. */
  {
    g_autofree char *ready = gc_request_build_message ("ready", GC_MESSAGE_KIND_TEXT, NULL);
    g_autoptr(GcTestEvent) at_bob = NULL;

    gc_test_client_send_text (bob, ready);
    at_bob = gc_test_client_wait_message (bob, "ready");
  }
  gc_test_client_clear_queue (bob);

  gc_test_client_send_text (alice, rename_request);
  gc_test_client_send_text (alice, message_request);
  gc_test_client_close (alice, 1000);

  renamed = gc_test_client_next_event (bob);
  said = gc_test_client_next_event (bob);
  left = gc_test_client_next_event (bob);
  g_assert_cmpint (renamed->event->type, ==, GC_EVENT_RENAME);
  g_assert_cmpstr (renamed->event->rename.user->name, ==, "Alicia");
  g_assert_cmpint (said->event->type, ==, GC_EVENT_MESSAGE);
  g_assert_cmpstr (said->event->message->text, ==, "bye");
  g_assert_cmpstr (said->event->message->from->name, ==, "Alicia");
  g_assert_cmpstr (said->event->message->from->id, ==, alice_id);
  g_assert_cmpint (left->event->type, ==, GC_EVENT_LEAVE);
  g_assert_cmpstr (left->event->leave.user->name, ==, "Alicia");
  again = gc_test_client_join (gc_test_cluster_port (cluster, 1), "chatter", "alicia");
}

/* A resume on node 2 while the old connection on node 1 still looks
 * open (half-open): node 1 closes it with 4000, nobody sees leave/join. */
static void
test_half_open_takeover (GcTestCluster *cluster,
                         gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autofree char *token = NULL;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "halfopen", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "halfopen", "Bob");
  token = g_strdup (alice->welcome->event->welcome->session_id);
  gc_test_client_sync (bob);
  gc_test_client_clear_queue (bob);

  {
    GcTestJoinOptions options = { .session_id = token };

    again = gc_test_client_start_join (gc_test_cluster_port (cluster, 1),
                                       "halfopen", "Alice", &options);
  }
  g_assert_true (gc_test_client_wait_welcome (again)->resumed);
  g_assert_cmpuint (gc_test_client_wait_closed (alice), ==, 4000);

  gc_test_client_sync (again);
  gc_test_client_sync (bob);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_JOIN), ==, 0);
}

typedef struct {
  char     *line;
  gboolean  line_done;
  gboolean  exited;
} Waiting;

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Waiting *w = user_data;

  w->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                        NULL, NULL);
  w->line_done = TRUE;
}

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Waiting *w = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  w->exited = TRUE;
}

/* A node that cannot reach Redis waits for its lease before it listens;
 * SIGTERM then ends it at once, with status 0. */
static void
test_sigterm_while_waiting (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gochat-redis-XXXXXX", NULL);
  g_autofree char *url = g_strdup_printf ("unix://%s/nobody.sock", dir);
  const char *argv[] = { gc_test_server_program (), "--bind=127.0.0.1", "--port=0",
                         "--redis", url, NULL };
  g_autoptr(GSubprocess) node = NULL;
  g_autoptr(GDataInputStream) err = NULL;
  Waiting w = { 0 };

  node = gc_test_spawn (argv, G_SUBPROCESS_FLAGS_STDERR_PIPE);
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (node));
  g_data_input_stream_read_line_async (err, G_PRIORITY_DEFAULT, NULL, on_line, &w);
  gc_test_wait (w.line_done);
  g_assert_nonnull (w.line);
  g_assert_nonnull (strstr (w.line, "waiting for Redis"));

  g_subprocess_wait_async (node, NULL, on_exited, &w);
  g_subprocess_send_signal (node, SIGTERM);
  gc_test_wait (w.exited);
  g_assert_true (g_subprocess_get_if_exited (node));
  g_assert_cmpint (g_subprocess_get_exit_status (node), ==, 0);

  g_free (w.line);
  g_rmdir (dir);
}

/* room_max_members counts the members on every node: a node limited to 2
 * refuses a third member whose two others are on other nodes. */
static void
test_max_members_across_nodes (GcTestCluster *cluster,
                               gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) carol = NULL;
  g_autoptr(GcTestServerProcess) small = NULL;
  const char * const args[] = { "--room-max-members", "2", NULL };

  if (gc_test_cluster_skip (cluster))
    return;

  small = gc_test_cluster_start_node (cluster, args);
  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "small", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "small", "Bob");
  carol = gc_test_client_start_join (small->port, "small", "Carol", NULL);
  gc_test_client_assert_refused (carol, 403, "room_full");
}

static gboolean
is_burst (const GcTestEvent *event,
          gpointer           user_data)
{
  return event->event->type == GC_EVENT_MESSAGE &&
         g_str_has_prefix (event->event->message->text, "m-");
}

/* Redis drops every subscription mid-traffic (CLIENT KILL TYPE pubsub):
 * each node repairs from the room's history, so both clients get every
 * message exactly once, in order, with the same ids. */
static void
test_pubsub_killed (GcTestCluster *cluster,
                    gconstpointer  data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autofree char *killed = NULL;
  const guint n = 30;

  if (gc_test_cluster_skip (cluster))
    return;

  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "killed-subs", "Alice");
  bob = gc_test_client_join (gc_test_cluster_port (cluster, 1), "killed-subs", "Bob");
  gc_test_client_sync (alice);
  gc_test_client_clear_queue (alice);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("m-%u", i);

      gc_test_client_send_message (alice, text, NULL);
      if (i == n / 2)
        killed = gc_test_redis_run (cluster->redis, "CLIENT", "KILL", "TYPE", "pubsub", NULL);
    }
  g_assert_cmpuint (g_ascii_strtoull (killed, NULL, 10), >=, 2);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcTestEvent) at_alice = gc_test_client_wait_matching (alice, is_burst, NULL, "m-");
      g_autoptr(GcTestEvent) at_bob = gc_test_client_wait_matching (bob, is_burst, NULL, "m-");
      g_autofree char *text = g_strdup_printf ("m-%u", i);

      g_assert_cmpstr (at_alice->event->message->text, ==, text);
      g_assert_cmpstr (at_bob->event->message->text, ==, text);
      g_assert_cmpuint (at_alice->event->message->id, ==, at_bob->event->message->id);
    }
  /* Nothing twice: after a barrier, no burst message is left. */
  gc_test_client_sync (alice);
  gc_test_client_sync (bob);
  while (gc_test_client_count_queued (bob, GC_EVENT_UNKNOWN) > 0)
    {
      g_autoptr(GcTestEvent) event = gc_test_client_next_event (bob);

      g_assert_false (is_burst (event, NULL));
    }
  while (gc_test_client_count_queued (alice, GC_EVENT_UNKNOWN) > 0)
    {
      g_autoptr(GcTestEvent) event = gc_test_client_next_event (alice);

      g_assert_false (is_burst (event, NULL));
    }
}

/* The welcome's history keeps a single node's byte budget (§6.1): half
 * the slow-reader bound, at most 512 KiB, the newest messages first. */
static void
test_welcome_history_budget (GcTestCluster *cluster,
                             gconstpointer  data)
{
  const char * const small_args[] = { "--max-queue-bytes", "65536", NULL };
  const gsize budget = 65536 / 2;
  g_autoptr(GcTestServerProcess) small = NULL;
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) carol = NULL;
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_event_free);
  g_autofree char *padding = g_strnfill (3000, 'x');
  GPtrArray *history;
  gsize bytes = 0;
  const guint n = 20;

  if (gc_test_cluster_skip (cluster))
    return;

  small = gc_test_cluster_start_node (cluster, small_args);
  alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "budget", "Alice");
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%u-%s", i, padding);

      gc_test_client_send_message (alice, text, NULL);
      g_ptr_array_add (sent, gc_test_client_wait_message (alice, text));
    }

  /* 20 of some 3 kB: all of them under the default budget... */
  carol = gc_test_client_join (gc_test_cluster_port (cluster, 1), "budget", "Carol");
  g_assert_cmpuint (carol->welcome->event->welcome->history->len, ==, n);

  /* ...the newest that fit in 32 KiB under a 64 KiB bound. */
  bob = gc_test_client_join (small->port, "budget", "Bob");
  history = bob->welcome->event->welcome->history;
  g_assert_cmpuint (history->len, >, 0);
  g_assert_cmpuint (history->len, <, n);
  for (guint i = 0; i < history->len; i++)
    {
      GcMessage *had = g_ptr_array_index (history, i);
      GcTestEvent *event = g_ptr_array_index (sent, n - history->len + i);

      g_assert_cmpuint (had->id, ==, event->event->message->id);
      bytes += strlen (event->json);
    }
  g_assert_cmpuint (bytes, <=, budget);
  g_assert_cmpuint (bytes + strlen (((GcTestEvent *) g_ptr_array_index (sent, n - history->len - 1))->json),
                    >, budget);
}

/* Join events are batched as on a single node (§4.4), and stay in order:
 * of a crowd joining at once over both nodes, every member hears of
 * exactly those not in its welcome, once each, and all of them before a
 * message sent after the joins. */
static void
test_joins_batched_in_order (GcTestCluster *cluster,
                             gconstpointer  data)
{
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_client_free);
  g_autoptr(GHashTable) everyone = g_hash_table_new (g_str_hash, g_str_equal);
  const guint n = 8;

  if (gc_test_cluster_skip (cluster))
    return;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("joiner%u", i);

      g_ptr_array_add (clients, gc_test_client_start_join (gc_test_cluster_port (cluster, i % 2),
                                                           "crowded", name, NULL));
    }
  for (guint i = 0; i < n; i++)
    {
      GcTestClient *client = g_ptr_array_index (clients, i);

      gc_test_client_wait_welcome (client);
      g_hash_table_add (everyone, gc_test_client_get_you (client)->id);
    }

  gc_test_client_send_message (g_ptr_array_index (clients, 0), "after the joins", NULL);
  for (guint i = 0; i < n; i++)
    {
      GcTestClient *client = g_ptr_array_index (clients, i);
      g_autoptr(GcTestEvent) after = gc_test_client_wait_message (client, "after the joins");
      g_autoptr(GHashTable) known = g_hash_table_new (g_str_hash, g_str_equal);
      GcWelcome *welcome = client->welcome->event->welcome;
      GcTestEvent *event;

      for (guint j = 0; j < welcome->members->len; j++)
        g_hash_table_add (known, ((GcUser *) g_ptr_array_index (welcome->members, j))->id);
      /* What came before the message: each join once, of one unknown. */
      while ((event = g_queue_pop_head (&client->events)) != NULL)
        {
          if (event->event->type == GC_EVENT_JOIN)
            {
              const char *id = NULL;

              /* The id as @everyone has it (the event's goes with it). */
              g_assert_true (g_hash_table_lookup_extended (everyone, event->event->join.user->id,
                                                           (gpointer *) &id, NULL));
              if (!g_hash_table_add (known, (gpointer) id))
                g_error ("client %u: a join of %s, already known", i, id);
            }
          gc_test_event_free (event);
        }
      g_assert_cmpuint (g_hash_table_size (known), ==, n);
    }
  for (guint i = 0; i < n; i++)
    {
      GcTestClient *client = g_ptr_array_index (clients, i);

      gc_test_client_sync (client);
      g_assert_cmpuint (gc_test_client_count_queued (client, GC_EVENT_JOIN), ==, 0);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_cluster ("/server-redis/two-nodes-same-order", NULL, test_two_nodes_same_order);
  gc_test_add_cluster ("/server-redis/name-taken-across-nodes", NULL, test_name_taken_across_nodes);
  gc_test_add_cluster ("/server-redis/history-across-nodes", NULL, test_history_across_nodes);
  gc_test_add_cluster ("/server-redis/resume-on-other-node", NULL, test_resume_on_other_node);
  gc_test_add_cluster ("/server-redis/sigterm-node", NULL, test_sigterm_node);

  gc_test_add_cluster ("/server-redis/healthz-and-metrics", NULL, test_healthz_and_metrics);
  gc_test_add_cluster ("/server-redis/sigkill-node", NULL, test_sigkill_node);
  gc_test_add_cluster ("/server-redis/redis-restart", NULL, test_redis_restart);

  gc_test_add_cluster ("/server-redis/concurrent-same-name", NULL, test_concurrent_same_name);

  gc_test_add_cluster ("/server-redis/typing-and-rename", NULL, test_typing_and_rename);
  gc_test_add_cluster ("/server-redis/message-right-after-rename", NULL,
                       test_message_right_after_rename);
  gc_test_add_cluster ("/server-redis/close-right-after-rename", NULL,
                       test_close_right_after_rename);
  gc_test_add_cluster ("/server-redis/half-open-takeover", NULL, test_half_open_takeover);

  g_test_add_func ("/server-redis/sigterm-while-waiting", test_sigterm_while_waiting);

  gc_test_add_cluster ("/server-redis/max-members-across-nodes", NULL,
                       test_max_members_across_nodes);

  gc_test_add_cluster ("/server-redis/pubsub-killed", NULL, test_pubsub_killed);

  gc_test_add_cluster ("/server-redis/welcome-history-budget", NULL,
                       test_welcome_history_budget);

  gc_test_add_cluster ("/server-redis/joins-batched-in-order", NULL,
                       test_joins_batched_in_order);

  return gc_test_run ();
}
