/* test-server-redis-join.c: a join on a node whose subscription lags
 * behind its command connection (issue 13, docs/protocol.md §4.3)
 *
 * A node reads the join script's answer on its command connection and the
 * room's events on its subscription; nothing orders the two. A node with
 * a backlog on its subscription (here node 0, SIGSTOPped while room x is
 * flooded) reads the answer first and welcomes the joiner with history up
 * to its join; the events up to that point then still come through the
 * subscription, and must not reach the joiner a second time: each message
 * exactly once, ids strictly increasing after the welcome's last.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include "gc-test-client.h"
#include "gc-test-cluster.h"

#define N_BACKLOG_CLIENTS 30  /* on node 0 in room x: each flood message reaches them */
#define N_FLOOD 300           /* 4000-byte messages per trial: ~1.2 MB for node 0 */
#define N_TRIALS 3            /* the race was lost in 8 of 8 trials before the fix */

/* History that holds the message, no slow-reader or rate limit in the
 * flood's way, and a lease that outlives the stop even on a slow machine
 * (an expired one answers the join 503). With 10 s, 2 of 8 ASan runs on a
 * loaded 2-core machine failed with 4503 in the first trial, about 10 s
 * into it; the trials say how long each stop and welcome took. */
static const char * const node_args[] = {
  "--history", "1000", "--max-queue-bytes", "0", "--rate-burst", "1000000",
  "--rate-per-second", "1000000", "--join-per-second", "0", "--redis-lease-ms", "60000", NULL
};
static const GcTestClusterOptions join_cluster = { .n_nodes = 3, .node_args = node_args };

/* TRUE once a connection to @port (127.0.0.1) has bytes its server has
 * not read: with node 0 stopped, only the joiner sends to it, so that is
 * its upgrade request, waiting to be read along with the backlog. */
static gboolean
request_waits_at (guint16 port)
{
  g_autofree char *table = NULL;
  g_auto(GStrv) lines = NULL;
  char local[16];

  if (!g_file_get_contents ("/proc/net/tcp", &table, NULL, NULL))
    return FALSE;
  g_snprintf (local, sizeof local, "0100007F:%04X", port);
  lines = g_strsplit (table, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
      g_autoptr(GPtrArray) fields = g_ptr_array_new ();
      const char *queues;

      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add (fields, f[j]);
      /* sl local rem st tx_queue:rx_queue …; 01: established */
      if (fields->len < 5 || strcmp (fields->pdata[1], local) != 0 ||
          strcmp (fields->pdata[3], "01") != 0)
        continue;
      queues = strchr (fields->pdata[4], ':');
      if (queues != NULL && g_ascii_strtoull (queues + 1, NULL, 16) > 0)
        return TRUE;
    }
  return FALSE;
}

/* The largest output buffer Redis holds for a subscriber (node 0's, the
 * only one not reading). */
static guint64
max_pubsub_omem (GcTestCluster *cluster)
{
  g_autofree char *list = gc_test_redis_run (cluster->redis, "CLIENT", "LIST", "TYPE", "pubsub",
                                             NULL);
  guint64 max = 0;

  for (const char *p = strstr (list, "omem="); p != NULL; p = strstr (p + 5, "omem="))
    max = MAX (max, g_ascii_strtoull (p + 5, NULL, 10));
  return max;
}

static guint
count_in_history (GcWelcome  *welcome,
                  const char *text,
                  guint64    *last_id)
{
  guint n = 0;

  *last_id = 0;
  for (guint i = 0; welcome->history != NULL && i < welcome->history->len; i++)
    {
      GcMessage *message = g_ptr_array_index (welcome->history, i);

      *last_id = MAX (*last_id, message->id);
      if (g_strcmp0 (message->text, text) == 0)
        n++;
    }
  return n;
}

/* Counts @text among the queued messages, and checks that every queued
 * message's id is above @last_id and above the one before it. */
static guint
count_in_queue (GcTestClient *client,
                const char   *text,
                guint64       last_id)
{
  guint n = 0;

  for (GList *l = client->events.head; l != NULL; l = l->next)
    {
      GcTestEvent *e = l->data;

      if (e->event->type != GC_EVENT_MESSAGE)
        continue;
      g_assert_cmpuint (e->event->message->id, >, last_id);
      last_id = e->event->message->id;
      if (g_strcmp0 (e->event->message->text, text) == 0)
        n++;
    }
  return n;
}

static void
test_join_behind_backlog (GcTestCluster *cluster,
                          gconstpointer  data)
{
  g_autofree char *padding = g_strnfill (4000, 'x');
  GcTestClient *backlog[N_BACKLOG_CLIENTS];
  GcTestClient *flooder, *watcher, *sender;
  guint16 port_a;

  if (gc_test_cluster_skip (cluster))
    return;
  port_a = gc_test_cluster_port (cluster, 0);

  for (guint i = 0; i < N_BACKLOG_CLIENTS; i++)
    {
      g_autofree char *name = g_strdup_printf ("xa%u", i);

      backlog[i] = gc_test_client_join (port_a, "x", name);
    }
  watcher = gc_test_client_join (port_a, "y", "watcher");
  flooder = gc_test_client_join (gc_test_cluster_port (cluster, 1), "x", "flooder");
  sender = gc_test_client_join (gc_test_cluster_port (cluster, 2), "y", "sender");

  for (guint t = 0; t < N_TRIALS; t++)
    {
      g_autofree char *text = g_strdup_printf ("m-%u", t);
      g_autofree char *name = g_strdup_printf ("joiner%u", t);
      g_autoptr(GcTestEvent) seen = NULL;
      GcTestClient *joiner;
      guint64 last_id;
      guint in_welcome, after_welcome;

      /* Node 0 falls behind on its subscription: room x's flood, then
       * room y's message, wait for it there. */
      gint64 stopped_us;

      gc_test_cluster_stop_node (cluster, 0);
      stopped_us = g_get_monotonic_time ();
      for (guint k = 0; k < N_FLOOD; k++)
        gc_test_client_send_message (flooder, padding, NULL);
      gc_test_client_sync (flooder);
      gc_test_client_send_message (sender, text, NULL);
      gc_test_event_free (gc_test_client_wait_message (sender, text));
      joiner = gc_test_client_start_join (port_a, "y", name, NULL);
      /* The race is set: the upgrade request waits in node 0's socket,
       * and its subscription is behind by more than the kernel holds
       * (Redis keeps the rest for it). */
      gc_test_wait (request_waits_at (port_a));
      g_assert_cmpuint (max_pubsub_omem (cluster), >, 0);
      g_test_message ("trial %u: node 0 stopped for %.1f s", t,
                      (g_get_monotonic_time () - stopped_us) / 1e6);
      gc_test_cluster_continue_node (cluster, 0);
      stopped_us = g_get_monotonic_time ();

      in_welcome = count_in_history (gc_test_client_wait_welcome (joiner), text, &last_id);
      g_test_message ("trial %u: welcome %.1f s after the node continued", t,
                      (g_get_monotonic_time () - stopped_us) / 1e6);
      /* Node 0 has applied the message once the watcher has it; the
       * joiner's sync then comes after anything node 0 sends it of it. */
      seen = gc_test_client_wait_message (watcher, text);
      gc_test_client_sync (joiner);
      after_welcome = count_in_queue (joiner, text, last_id);
      g_test_message ("trial %u: in the welcome %u, after it %u", t, in_welcome, after_welcome);
      g_assert_cmpuint (in_welcome + after_welcome, ==, 1);

      gc_test_client_free (joiner);
      for (guint i = 0; i < N_BACKLOG_CLIENTS; i++)
        gc_test_client_clear_queue (backlog[i]);
      gc_test_client_clear_queue (flooder);
      gc_test_client_clear_queue (watcher);
      gc_test_client_clear_queue (sender);
    }

  for (guint i = 0; i < N_BACKLOG_CLIENTS; i++)
    gc_test_client_free (backlog[i]);
  gc_test_client_free (flooder);
  gc_test_client_free (watcher);
  gc_test_client_free (sender);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gc_test_add_cluster ("/server/redis/join/behind-backlog", &join_cluster,
                       test_join_behind_backlog);
  return gc_test_run ();
}
