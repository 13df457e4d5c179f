/* test-server-redis-flood.c: a tiny pub/sub output limit in Redis and a
 * flood (issue 13, "No silent loss"): every client sees every message
 * exactly once and in order, or is closed with 1011 so that it resumes;
 * never a gap.
 *
 * Redis closes a subscriber whose output buffer passes the limit; the
 * node then subscribes again and repairs the room from its streams
 * (docs/protocol.md §6.7). Node 1 is stopped (SIGSTOP) while node 0's
 * clients flood, as a node too busy to read its subscription would be:
 * what Redis publishes meanwhile is far over the limit, so its
 * subscription is cut every time, not only when the machine is slow.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "gc-test-client.h"
#include "gc-test-cluster.h"

#define N_SENDERS 4       /* clients 0 and 2 on node 0, 1 and 3 on node 1 */
#define N_MESSAGES 100    /* each */
/* 1.6 MB in all, 800 KB while node 1 is stopped: about three times what
 * the kernel (a unix socket's 208 KiB default send buffer) and the 64 KiB
 * limit hold for it together. */
#define TEXT_BYTES 4000

static const char * const redis_args[] = {
  "--client-output-buffer-limit", "pubsub 64kb 32kb 1", NULL
};
/* Enough history to repair from, a lease that outlives the stop even on
 * a slow machine (an expired lease would close with 1011: allowed, but it
 * would test less), and a slow-reader bound above what a client gets (this
 * test's clients read only between their own sends and waits). */
static const char * const node_args[] = {
  "--history", "1000", "--redis-lease-ms", "10000", "--max-queue-bytes", "16777216", NULL
};
static const GcTestClusterOptions flood_cluster = {
  .n_nodes = 2, .redis_args = redis_args, .node_args = node_args,
};

typedef struct {
  GcTestClient *client;
  guint         sender;              /* its index */
  /* What it received of each sender: the next index due, and whether an
   * index came out of turn (a gap, a duplicate or a reordering). */
  guint         next[N_SENDERS];
  gboolean      out_of_turn;
  guint64       last_id;
  gboolean      ids_fell;
} Receiver;

/* Takes the queued events of @r and checks their order. */
static void
receiver_take (Receiver *r)
{
  GcTestEvent *event;

  while ((event = g_queue_pop_head (&r->client->events)) != NULL)
    {
      const GcMessage *m = event->event->type == GC_EVENT_MESSAGE ? event->event->message : NULL;
      guint sender, index;

      if (m != NULL && sscanf (m->text, "s%u-%u-", &sender, &index) == 2 && sender < N_SENDERS)
        {
          if (index != r->next[sender])
            {
              g_test_message ("client %u: message %u of sender %u, expected %u", r->sender,
                              index, sender, r->next[sender]);
              r->out_of_turn = TRUE;
            }
          r->next[sender] = index + 1;
          if (m->id <= r->last_id)
            r->ids_fell = TRUE;
          r->last_id = m->id;
        }
      gc_test_event_free (event);
    }
}

static gboolean
receiver_done (Receiver *r)
{
  receiver_take (r);
  if (r->client->closed)
    return TRUE;
  for (guint s = 0; s < N_SENDERS; s++)
    if (r->next[s] < N_MESSAGES)
      return FALSE;
  return TRUE;
}

static gboolean
all_done (Receiver *receivers)
{
  gboolean done = TRUE;

  /* Every one, so that none of them lets its queue grow. */
  for (guint i = 0; i < N_SENDERS; i++)
    done = receiver_done (&receivers[i]) && done;
  return done;
}

/* Node 0's clients have each other's flood (or were closed). */
static gboolean
node0_flood_seen (Receiver *receivers)
{
  gboolean seen = TRUE;

  for (guint i = 0; i < N_SENDERS; i += 2)
    {
      receiver_take (&receivers[i]);
      seen = seen && (receivers[i].client->closed ||
                      (receivers[i].next[0] == N_MESSAGES && receivers[i].next[2] == N_MESSAGES));
    }
  return seen;
}

static void
flood (Receiver *r)
{
  g_autofree char *padding = g_strnfill (TEXT_BYTES, 'x');

  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autofree char *text = g_strdup_printf ("s%u-%u-%s", r->sender, i, padding);

      gc_test_client_send_message (r->client, text, NULL);
    }
}

static void
test_flood_tiny_pubsub_limit (GcTestCluster *cluster,
                              gconstpointer  data)
{
  Receiver receivers[N_SENDERS] = { 0 };
  guint closed = 0;

  if (gc_test_cluster_skip (cluster))
    return;

  for (guint i = 0; i < N_SENDERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("client%u", i);

      receivers[i].sender = i;
      receivers[i].client = gc_test_client_join (gc_test_cluster_port (cluster, i % 2), "flood",
                                                 name);
    }
  for (guint i = 0; i < N_SENDERS; i++)
    gc_test_client_sync (receivers[i].client);

  /* Node 1 stops reading while node 0's clients flood; its own clients'
   * messages wait in their sockets meanwhile. */
  gc_test_cluster_stop_node (cluster, 1);
  for (guint i = 0; i < N_SENDERS; i++)
    flood (&receivers[i]);
  gc_test_wait (node0_flood_seen (receivers));
  gc_test_cluster_continue_node (cluster, 1);

  gc_test_wait (all_done (receivers));

  for (guint i = 0; i < N_SENDERS; i++)
    {
      Receiver *r = &receivers[i];

      g_assert_false (r->out_of_turn);
      g_assert_false (r->ids_fell);
      /* Node 0 never stopped and its subscription was not cut: its
       * clients are never closed (a closed receiver counts as done, so
       * without this all of them closed with 1011 would pass). */
      if (i % 2 == 0 && r->client->closed)
        g_error ("client %u on node 0 was closed (%u)", i, r->client->close_code);
      if (r->client->closed)
        {
          /* A loss it is told of: it would resume with `since`. */
          g_assert_cmpuint (r->client->close_code, ==, 1011);
          closed++;
          continue;
        }
      for (guint s = 0; s < N_SENDERS; s++)
        g_assert_cmpuint (r->next[s], ==, N_MESSAGES);
    }
  g_test_message ("%u of %u clients closed with 1011, the others saw every message", closed,
                  N_SENDERS);

  /* Redis did cut node 1's subscription (else this tested nothing), and
   * the node repaired the room or closed its clients. */
  g_assert_cmpuint (gc_test_cluster_get_metric (cluster, 1, "gochat_redis_reconnects_total"), >=, 1);
  g_assert_cmpuint (gc_test_cluster_get_metric (cluster, 1, "gochat_redis_gap_repairs_total") +
                    gc_test_cluster_get_metric (cluster, 1, "gochat_redis_rooms_lost_total"), >=, 1);

  for (guint i = 0; i < N_SENDERS; i++)
    gc_test_client_free (receivers[i].client);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_cluster ("/server-redis/flood/tiny-pubsub-limit", &flood_cluster,
                       test_flood_tiny_pubsub_limit);

  return gc_test_run ();
}
