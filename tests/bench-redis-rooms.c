/* bench-redis-rooms.c: what the room scripts cost Redis (not a test)
 *
 * Two nodes (GcRedisRooms, each with its own connections) in this
 * process, against a redis-server of its own on a unix socket; R rooms
 * with a member on each node; every room sends M messages, W in flight
 * per room, alternating nodes. Reports Redis's CPU time per message
 * (INFO cpu, before and after), this process's CPU per message and per
 * delivery, and checks every message reached both nodes once, in order.
 *
 *   _build/tests/bench-redis-rooms [--rooms 10] [--messages 20000] [--window 4] [--size 64]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/resource.h>

#include "gc-redis-rooms.h"
#include "gc-test-wait.h"
#include "gc-test-redis.h"

static int n_rooms = 10;
static int n_messages = 20000;
static int window = 4;
static int size = 64;

typedef struct {
  GcRedisClient *client;
  GcRedisRooms *rooms;
  GHashTable *last_seq;   /* room → guint64*, to check the order */
  guint64 deliveries;
  guint64 disorder;
} Node;

typedef struct {
  char *code;
  guint sent;
  guint in_flight;
  guint answered;
} Room;

static Node nodes[2];
static Room *rooms;
static char *text;
static guint answers_pending;

static void
on_event (const char             *room,
          const GcRedisRoomEvent *event,
          gpointer                user_data)
{
  Node *node = user_data;
  guint64 *last = g_hash_table_lookup (node->last_seq, room);

  if (last == NULL)
    {
      last = g_new0 (guint64, 1);
      g_hash_table_insert (node->last_seq, g_strdup (room), last);
    }
  if (*last != 0 && event->seq != *last + 1)
    node->disorder++;
  *last = event->seq;
  if (event->type == GC_REDIS_ROOM_EVENT_MESSAGE)
    node->deliveries++;
}

static void send_more (Room *room);

static void
on_sent (const GcRedisRoomResult *result,
         const GError            *error,
         gpointer                 user_data)
{
  Room *room = user_data;

  if (error != NULL || result->status != GC_REDIS_ROOM_OK)
    g_error ("a message was refused: %s", error != NULL ? error->message : "status");
  room->in_flight--;
  room->answered++;
  answers_pending--;
  send_more (room);
}

static void
send_more (Room *room)
{
  while (room->in_flight < (guint) window && room->sent < (guint) n_messages / n_rooms)
    {
      Node *node = &nodes[room->sent % 2];
      const char *key = room->sent % 2 ? "b" : "a";

      gc_redis_rooms_message (node->rooms, room->code, key, key, key, "text", text, NULL, NULL, 0,
                              on_sent, room);
      room->sent++;
      room->in_flight++;
    }
}

static void
on_joined (const GcRedisRoomResult *result,
           const GError            *error,
           gpointer                 user_data)
{
  guint *joined = user_data;

  g_assert_no_error (error);
  g_assert_cmpint (result->status, ==, GC_REDIS_ROOM_OK);
  (*joined)++;
}

static double
redis_cpu_s (GcTestRedis *redis)
{
  g_autofree char *info = gc_test_redis_run (redis, "INFO", "cpu", NULL);
  double total = 0;
  const char *p;

  if ((p = strstr (info, "used_cpu_sys:")) != NULL)
    total += g_ascii_strtod (p + strlen ("used_cpu_sys:"), NULL);
  if ((p = strstr (info, "used_cpu_user:")) != NULL)
    total += g_ascii_strtod (p + strlen ("used_cpu_user:"), NULL);
  return total;
}

static double
self_cpu_s (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int
main (int   argc,
      char *argv[])
{
  GOptionEntry entries[] = {
    { "rooms", 0, 0, G_OPTION_ARG_INT, &n_rooms, "Rooms", "R" },
    { "messages", 0, 0, G_OPTION_ARG_INT, &n_messages, "Messages in all", "M" },
    { "window", 0, 0, G_OPTION_ARG_INT, &window, "Messages in flight per room", "W" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Text bytes", "B" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GcTestRedis) redis = NULL;
  g_autoptr(GcRedisAddress) address = NULL;
  double redis_before, redis_after, self_before, self_after;
  gint64 start_us, end_us;
  guint joined = 0;
  guint64 total;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    g_error ("%s", error->message);
  if (n_rooms < 1 || n_messages < n_rooms || window < 1 || size < 1)
    g_error ("bad arguments");
  if (gc_test_redis_server_path () == NULL)
    g_error ("redis-server is not installed");

  text = g_strnfill (size, 'x');
  redis = gc_test_redis_start (NULL);
  address = gc_redis_address_parse (gc_test_redis_get_url (redis), &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *id = g_strdup_printf ("node-%u", i);

      nodes[i].client = gc_redis_client_new (address);
      nodes[i].rooms = gc_redis_rooms_new (nodes[i].client, id);
      nodes[i].last_seq = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      gc_redis_rooms_set_event_func (nodes[i].rooms, on_event, &nodes[i]);
      gc_redis_client_start (nodes[i].client);
      gc_test_wait (gc_redis_client_is_up (nodes[i].client));
    }

  rooms = g_new0 (Room, n_rooms);
  for (int r = 0; r < n_rooms; r++)
    {
      rooms[r].code = g_strdup_printf ("room%d", r);
      for (guint i = 0; i < 2; i++)
        {
          const char *key = i ? "b" : "a";

          gc_redis_rooms_open (nodes[i].rooms, rooms[r].code);
          gc_redis_rooms_join (nodes[i].rooms, rooms[r].code, key, key, key, "h", 0, 0,
                               on_joined, &joined);
          gc_test_wait (joined == (guint) (r * 2 + i + 1));
        }
    }
  gc_test_wait (nodes[0].deliveries == 0 && nodes[1].deliveries == 0);

  total = (guint64) (n_messages / n_rooms) * n_rooms;
  answers_pending = total;
  redis_before = redis_cpu_s (redis);
  self_before = self_cpu_s ();
  start_us = g_get_monotonic_time ();
  for (int r = 0; r < n_rooms; r++)
    send_more (&rooms[r]);
  gc_test_wait_ms (answers_pending == 0 && nodes[0].deliveries == total &&
                   nodes[1].deliveries == total, 600000);
  end_us = g_get_monotonic_time ();
  self_after = self_cpu_s ();
  redis_after = redis_cpu_s (redis);

  g_print ("rooms %d, messages %" G_GUINT64_FORMAT ", window %d, %d-byte text, 2 nodes\n",
           n_rooms, total, window, size);
  g_print ("wall %.3f s: %.0f messages/s, %.0f deliveries/s (to nodes)\n",
           (end_us - start_us) / 1e6, total / ((end_us - start_us) / 1e6),
           2 * total / ((end_us - start_us) / 1e6));
  g_print ("Redis CPU %.2f us per message (INFO cpu: %.3f s)\n",
           (redis_after - redis_before) * 1e6 / total, redis_after - redis_before);
  {
    g_autofree char *stats = gc_test_redis_run (redis, "INFO", "commandstats", NULL);
    const char *line = strstr (stats, "cmdstat_evalsha:");
    guint64 calls = 0;
    double usec = 0;

    if (line != NULL)
      {
        const char *c = strstr (line, "calls="), *u = strstr (line, "usec=");
        calls = c != NULL ? g_ascii_strtoull (c + 6, NULL, 10) : 0;
        usec = u != NULL ? g_ascii_strtod (u + 5, NULL) : 0;
      }
    /* Redis's own count of time inside the scripts, without its I/O. */
    g_print ("EVALSHA calls %" G_GUINT64_FORMAT " (all scripts, joins included): "
             "%.2f messages per call, %.2f us in scripts per message\n",
             calls, (double) total / MAX (calls, 1), usec / total);
  }
  g_print ("both nodes' CPU (this process) %.2f us per message\n",
           (self_after - self_before) * 1e6 / total);
  g_print ("out of order %" G_GUINT64_FORMAT ", deliveries %" G_GUINT64_FORMAT " + %" G_GUINT64_FORMAT "\n",
           nodes[0].disorder + nodes[1].disorder, nodes[0].deliveries, nodes[1].deliveries);

  for (guint i = 0; i < 2; i++)
    {
      g_clear_object (&nodes[i].rooms);
      g_clear_object (&nodes[i].client);
      g_hash_table_unref (nodes[i].last_seq);
    }
  for (int r = 0; r < n_rooms; r++)
    g_free (rooms[r].code);
  g_free (rooms);
  g_free (text);
  return nodes[0].disorder + nodes[1].disorder == 0 ? 0 : 1;
}
