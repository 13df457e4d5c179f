/* test-redis-engine.c: the Redis engine layer (src/server/redis) against a
 * real redis-server of the test's own: commands, scripts, pub/sub,
 * backpressure, and Redis killed, restarted and cutting subscriptions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-redis-client.h"
#include "gc-test-wait.h"
#include "gc-test-redis.h"

typedef struct {
  guint replies;
  guint errors;
  GError *last_error;
  char *last_text;
  long long last_integer;
} Replies;

static void
replies_clear (Replies *r)
{
  g_clear_error (&r->last_error);
  g_clear_pointer (&r->last_text, g_free);
}

static void
on_reply (const redisReply *reply,
          const GError     *error,
          gpointer          user_data)
{
  Replies *r = user_data;

  replies_clear (r);
  if (error != NULL)
    {
      r->errors++;
      r->last_error = g_error_copy (error);
      return;
    }
  r->replies++;
  if (reply->type == REDIS_REPLY_INTEGER)
    r->last_integer = reply->integer;
  else if (reply->str != NULL)
    r->last_text = g_strndup (reply->str, reply->len);
}

typedef struct {
  GPtrArray *messages;   /* "channel payload" */
  GPtrArray *subscribed; /* channel names, one per ::subscribed */
  guint ups;
  guint downs;
} Events;

static void
on_message (const char *channel,
            const char *payload,
            gsize       length,
            gpointer    user_data)
{
  Events *events = user_data;

  g_assert_cmpuint (strlen (payload), ==, length);
  g_ptr_array_add (events->messages, g_strdup_printf ("%s %s", channel, payload));
}

static void
on_subscribed (GcRedisClient *client,
               const char    *channel,
               gpointer       user_data)
{
  Events *events = user_data;

  g_ptr_array_add (events->subscribed, g_strdup (channel));
}

static void
on_state_changed (GcRedisClient *client,
                  gboolean       up,
                  gpointer       user_data)
{
  Events *events = user_data;

  if (up)
    events->ups++;
  else
    events->downs++;
}

static void
events_init (Events *events)
{
  events->messages = g_ptr_array_new_with_free_func (g_free);
  events->subscribed = g_ptr_array_new_with_free_func (g_free);
}

static void
events_clear (Events *events)
{
  g_ptr_array_unref (events->messages);
  g_ptr_array_unref (events->subscribed);
}

static guint
count_subscribed (Events     *events,
                  const char *channel)
{
  guint n = 0;

  for (guint i = 0; i < events->subscribed->len; i++)
    n += strcmp (g_ptr_array_index (events->subscribed, i), channel) == 0;
  return n;
}

static GcRedisClient *
client_new (GcTestRedis *redis,
            Events      *events)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRedisAddress) address = gc_redis_address_parse (gc_test_redis_get_url (redis), &error);
  GcRedisClient *client;

  g_assert_no_error (error);
  client = gc_redis_client_new (address);
  gc_redis_client_set_message_func (client, on_message, events);
  g_signal_connect (client, "subscribed", G_CALLBACK (on_subscribed), events);
  g_signal_connect (client, "state-changed", G_CALLBACK (on_state_changed), events);
  return client;
}

/* The fixture: the test's own redis-server and a client for it, not
 * started (tests set limits first), whose messages, subscriptions and
 * state changes go to @events. */
typedef struct {
  GcTestRedis   *redis;
  GcRedisClient *client;
  Events         events;
} Engine;

static void
engine_setup (Engine        *e,
              gconstpointer  data)
{
  e->redis = gc_test_redis_start_if_installed (NULL);
  if (e->redis == NULL)
    return;
  events_init (&e->events);
  e->client = client_new (e->redis, &e->events);
}

/* Tests clear the client themselves before their Replies go: its dispose
 * fails whatever still waits, through their callbacks. */
static void
engine_teardown (Engine        *e,
                 gconstpointer  data)
{
  g_clear_object (&e->client);
  if (e->events.messages != NULL)
    events_clear (&e->events);
  g_clear_pointer (&e->redis, gc_test_redis_free);
}

#define add_engine_test(path, test) \
  g_test_add ((path), Engine, NULL, engine_setup, (test), engine_teardown)

/* --- URLs ------------------------------------------------------------------ */

static gboolean
blpop_is_blocked (GcTestRedis *redis)
{
  g_autofree char *info = gc_test_redis_run (redis, "INFO", "clients", NULL);

  return strstr (info, "blocked_clients:1") != NULL;
}

static void
test_url (void)
{
  static const struct { const char *url; const char *normal; } good[] = {
    { "redis://127.0.0.1:6380", "redis://127.0.0.1:6380" },
    { "redis://localhost", "redis://localhost:6379" },
    { "redis://redis.internal:7000/", "redis://redis.internal:7000" },
    { "redis://[::1]:6379", "redis://[::1]:6379" },
    { "unix:///run/redis/redis.sock", "unix:///run/redis/redis.sock" },
    { "unix:///tmp/with%20space.sock", "unix:///tmp/with space.sock" },
  };
  static const char *bad[] = {
    "", "localhost:6379", "http://localhost:6379", "redis://", "redis://:6379",
    "redis://user:secret@localhost:6379", "redis://localhost:6379/1",
    "redis://localhost:6379?db=1", "redis://localhost:0", "redis://localhost:99999",
    "unix://relative.sock", "unix:///", "unix://host/path.sock",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GcRedisAddress) address = gc_redis_address_parse (good[i].url, &error);
      g_autofree char *text = NULL;

      g_assert_no_error (error);
      text = gc_redis_address_to_string (address);
      g_assert_cmpstr (text, ==, good[i].normal);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GcRedisAddress) address = gc_redis_address_parse (bad[i], &error);

      if (address != NULL)
        g_error ("“%s” was accepted", bad[i]);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
}

/* --- commands ---------------------------------------------------------------- */

static void
test_commands (Engine        *e,
               gconstpointer  data)
{
  GcTestRedis *redis = e->redis;
  GcRedisClient *client = e->client;
  Events *events = &e->events;
  g_autoptr(GError) error = NULL;
  Replies r = { 0 };
  GcRedisClientStats stats;
  const char *argv[] = { "SET", "binary", "a\0b" };
  const gsize argv_len[] = { 3, 6, 3 };

  if (gc_test_redis_skip (e->redis))
    return;

  /* Before start: refused, not queued. */
  g_assert_false (gc_redis_client_command (client, on_reply, &r, &error, "PING", NULL));
  g_assert_error (error, GC_REDIS_ERROR, GC_REDIS_ERROR_DOWN);
  g_clear_error (&error);

  gc_redis_client_start (client);
  /* Queued until connected, then answered in order. */
  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "SET", "k", "v", NULL));
  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "GET", "k", NULL));
  gc_test_wait (r.replies == 2);
  g_assert_cmpstr (r.last_text, ==, "v");
  /* Up once the subscriptions connection is ready too, which may come
   * after the first replies. */
  gc_test_wait (gc_redis_client_is_up (client));
  g_assert_cmpuint (events->ups, ==, 1);

  /* Binary-safe arguments. */
  g_assert_true (gc_redis_client_command_argv (client, 3, argv, argv_len, on_reply, &r, &error));
  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "STRLEN", "binary", NULL));
  gc_test_wait (r.replies == 4);
  g_assert_cmpint (r.last_integer, ==, 3);

  /* Redis's errors come back as GC_REDIS_ERROR_REPLY. */
  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "INCR", "k", NULL));
  gc_test_wait (r.errors == 1);
  g_assert_error (r.last_error, GC_REDIS_ERROR, GC_REDIS_ERROR_REPLY);
  g_assert_true (g_str_has_prefix (r.last_error->message, "ERR"));

  gc_redis_client_get_stats (client, &stats);
  g_assert_cmpint (stats.rtt_us, >, 0);
  g_assert_cmpuint (stats.commands, >=, 5);
  g_assert_cmpuint (stats.reconnects, ==, 0);
  /* At most the client's own liveness probe. */
  g_assert_cmpuint (stats.in_flight, <=, 1);

  /* Its two connections are named, so an operator sees them. */
  {
    g_autofree char *list = gc_test_redis_run (redis, "CLIENT", "LIST", NULL);
    g_assert_nonnull (strstr (list, "name=gochat-commands"));
    g_assert_nonnull (strstr (list, "name=gochat-subscriptions"));
  }

  g_clear_object (&e->client);
  replies_clear (&r);
}

/* --- scripts --------------------------------------------------------------- */

static void
test_scripts (Engine        *e,
              gconstpointer  data)
{
  GcTestRedis *redis = e->redis;
  GcRedisClient *client = e->client;
  g_autoptr(GError) error = NULL;
  g_autofree char *exists = NULL;
  g_autofree char *flushed = NULL;
  Replies r = { 0 };
  GcRedisScript *incr;
  const char *keys[] = { "counter", "5" };

  if (gc_test_redis_skip (e->redis))
    return;
  incr = gc_redis_client_add_script (client, "return redis.call('INCRBY', KEYS[1], ARGV[1])");
  gc_redis_client_start (client);
  gc_test_wait (gc_redis_client_is_up (client));

  /* Loaded on connection: EVALSHA works the first time. */
  exists = gc_test_redis_run (redis, "SCRIPT", "EXISTS", gc_redis_script_get_sha1 (incr), NULL);
  g_assert_cmpstr (exists, ==, "1");
  g_assert_true (gc_redis_client_eval (client, incr, 1, 2, keys, NULL, on_reply, &r, &error));
  gc_test_wait (r.replies == 1);
  g_assert_cmpint (r.last_integer, ==, 5);

  /* SCRIPT FLUSH behind its back: NOSCRIPT is answered by loading it
   * again, and the caller sees only the result. */
  flushed = gc_test_redis_run (redis, "SCRIPT", "FLUSH", NULL);
  g_assert_cmpstr (flushed, ==, "OK");
  g_assert_true (gc_redis_client_eval (client, incr, 1, 2, keys, NULL, on_reply, &r, &error));
  g_assert_true (gc_redis_client_eval (client, incr, 1, 2, keys, NULL, on_reply, &r, &error));
  gc_test_wait (r.replies == 3);
  g_assert_cmpuint (r.errors, ==, 0);
  g_assert_cmpint (r.last_integer, ==, 15);

  /* A script added while connected is usable at once. */
  {
    GcRedisScript *late = gc_redis_client_add_script (client, "return string.format('%.0f', 1.7e15 + 3)");

    g_assert_true (gc_redis_client_eval (client, late, 0, 0, NULL, NULL, on_reply, &r, &error));
    gc_test_wait (r.replies == 4);
    g_assert_cmpstr (r.last_text, ==, "1700000000000003");
  }

  g_clear_object (&e->client);
  replies_clear (&r);
}

/* --- pub/sub --------------------------------------------------------------- */

static void
publish (GcRedisClient *client,
         Replies       *r,
         const char    *channel,
         const char    *payload)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gc_redis_client_command (client, on_reply, r, &error,
                                          "PUBLISH", channel, payload, NULL));
}

static void
test_pubsub (Engine        *e,
             gconstpointer  data)
{
  GcRedisClient *client = e->client;
  Events *events = &e->events;
  Replies r = { 0 };

  if (gc_test_redis_skip (e->redis))
    return;

  /* Subscribing before start is remembered. */
  gc_redis_client_subscribe (client, "room:a");
  gc_redis_client_start (client);
  gc_test_wait (count_subscribed (events, "room:a") == 1);
  g_assert_true (gc_redis_client_is_subscribed (client, "room:a"));

  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *payload = g_strdup_printf ("%u", i);
      publish (client, &r, "room:a", payload);
    }
  gc_test_wait (events->messages->len == 100);
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *expected = g_strdup_printf ("room:a %u", i);
      g_assert_cmpstr (g_ptr_array_index (events->messages, i), ==, expected);
    }
  g_assert_cmpint (r.last_integer, ==, 1);

  /* Unsubscribe and subscribe again at once (hiredis would lose the
   * channel's callback if both were sent): still subscribed, and no new
   * ::subscribed until Redis confirms. */
  gc_redis_client_unsubscribe (client, "room:a");
  gc_redis_client_subscribe (client, "room:a");
  gc_redis_client_subscribe (client, "room:b");
  gc_test_wait (count_subscribed (events, "room:b") == 1);
  gc_test_wait (gc_redis_client_is_subscribed (client, "room:a"));
  g_ptr_array_set_size (events->messages, 0);
  publish (client, &r, "room:a", "again");
  publish (client, &r, "room:b", "b");
  gc_test_wait (events->messages->len == 2);
  g_assert_cmpstr (g_ptr_array_index (events->messages, 0), ==, "room:a again");
  g_assert_cmpstr (g_ptr_array_index (events->messages, 1), ==, "room:b b");

  /* Unsubscribed: nothing more arrives. Redis counts no receiver once
   * the UNSUBSCRIBE reached it (same order as our PUBLISH? No: another
   * connection), so wait for that first. */
  gc_redis_client_unsubscribe (client, "room:b");
  g_assert_false (gc_redis_client_is_subscribed (client, "room:b"));
  for (;;)
    {
      guint before = r.replies;
      publish (client, &r, "room:b", "unheard");
      gc_test_wait (r.replies == before + 1);
      if (r.last_integer == 0)
        break;
    }
  publish (client, &r, "room:a", "last");
  gc_test_wait (events->messages->len >= 3 &&
              strcmp (g_ptr_array_index (events->messages, events->messages->len - 1), "room:a last") == 0);
  for (guint i = 2; i < events->messages->len - 1; i++)
    g_assert_cmpstr (g_ptr_array_index (events->messages, i), ==, "room:b unheard");

  g_clear_object (&e->client);
  replies_clear (&r);
}

/* The subscription connection cut by Redis (CLIENT KILL TYPE pubsub): the
 * client subscribes again and says so, so the room layer can repair. */
static void
test_pubsub_killed (Engine        *e,
                    gconstpointer  data)
{
  GcTestRedis *redis = e->redis;
  GcRedisClient *client = e->client;
  Events *events = &e->events;
  g_autofree char *killed = NULL;
  Replies r = { 0 };
  GcRedisClientStats stats;

  if (gc_test_redis_skip (e->redis))
    return;
  gc_redis_client_subscribe (client, "room:a");
  gc_redis_client_start (client);
  gc_test_wait (count_subscribed (events, "room:a") == 1);

  killed = gc_test_redis_run (redis, "CLIENT", "KILL", "TYPE", "pubsub", NULL);
  g_assert_cmpstr (killed, ==, "1");
  gc_test_wait (count_subscribed (events, "room:a") == 2);
  g_assert_true (gc_redis_client_is_up (client));
  g_assert_cmpuint (events->downs, ==, 1);
  g_assert_cmpuint (events->ups, ==, 2);
  gc_redis_client_get_stats (client, &stats);
  g_assert_cmpuint (stats.reconnects, ==, 1);

  publish (client, &r, "room:a", "after");
  gc_test_wait (events->messages->len == 1);
  g_assert_cmpstr (g_ptr_array_index (events->messages, 0), ==, "room:a after");

  g_clear_object (&e->client);
  replies_clear (&r);
}

/* The probe: PUBLISHed on the commands connection, received on the
 * subscriptions one; its round trip is measured. */
static void
test_probe (Engine        *e,
            gconstpointer  data)
{
  GcRedisClient *client = e->client;
  Events *events = &e->events;
  GcRedisClientStats stats = { 0 };

  if (gc_test_redis_skip (e->redis))
    return;
  gc_redis_client_set_timeout_ms (client, 1000);
  gc_redis_client_start (client);
  gc_test_wait ((gc_redis_client_get_stats (client, &stats), stats.probe_rtt_us != 0));
  g_assert_cmpuint (stats.probe_failures, ==, 0);
  /* Probes are internal: the message function never sees them. */
  g_assert_cmpuint (events->messages->len, ==, 0);

  g_clear_object (&e->client);
}

/* --- backpressure ------------------------------------------------------------ */

static void
test_backpressure (Engine        *e,
                   gconstpointer  data)
{
  GcRedisClient *client = e->client;
  Replies r = { 0 };
  GcRedisClientStats stats;
  guint accepted = 0, refused = 0;

  if (gc_test_redis_skip (e->redis))
    return;
  gc_redis_client_set_max_commands (client, 4);
  gc_redis_client_start (client);
  gc_test_wait (gc_redis_client_is_up (client));
  /* The first liveness probe has come back: the next is seconds away, so
   * the four slots are ours. */
  gc_test_wait ((gc_redis_client_get_stats (client, &stats), stats.probe_rtt_us > 0 &&
                 stats.in_flight == 0));

  /* Without the main loop running no reply comes: the fifth is refused
   * at once, not queued. */
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GError) error = NULL;

      if (gc_redis_client_command (client, on_reply, &r, &error, "INCR", "n", NULL))
        accepted++;
      else
        {
          g_assert_error (error, GC_REDIS_ERROR, GC_REDIS_ERROR_BUSY);
          refused++;
        }
    }
  g_assert_cmpuint (accepted, ==, 4);
  g_assert_cmpuint (refused, ==, 6);
  gc_test_wait (r.replies == 4);
  g_assert_cmpint (r.last_integer, ==, 4);
  gc_redis_client_get_stats (client, &stats);
  g_assert_cmpuint (stats.refused_busy, ==, 6);

  /* Room again once answered. */
  {
    g_autoptr(GError) error = NULL;
    g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "INCR", "n", NULL));
    gc_test_wait (r.replies == 5);
  }

  /* The output bound: bytes not yet written count too. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *big = g_strnfill (64 * 1024, 'x');

    gc_redis_client_set_max_commands (client, 1000);
    gc_redis_client_set_max_output (client, 100 * 1024);
    g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "SET", "big", big, NULL));
    g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "SET", "big", big, NULL));
    g_assert_false (gc_redis_client_command (client, on_reply, &r, &error, "SET", "big", big, NULL));
    g_assert_error (error, GC_REDIS_ERROR, GC_REDIS_ERROR_BUSY);
    gc_test_wait (r.replies == 7);
  }

  g_clear_object (&e->client);
  replies_clear (&r);
}

/* A command Redis never answers (BLPOP on an empty list): past the
 * timeout the connection is dropped, the command fails LOST (it may have
 * run), and the client connects again. */
static void
test_timeout (Engine        *e,
              gconstpointer  data)
{
  GcRedisClient *client = e->client;
  g_autoptr(GError) error = NULL;
  Replies blocked = { 0 }, r = { 0 };
  GcRedisClientStats stats;

  if (gc_test_redis_skip (e->redis))
    return;
  gc_redis_client_set_timeout_ms (client, 500);
  gc_redis_client_start (client);
  gc_test_wait (gc_redis_client_is_up (client));

  g_assert_true (gc_redis_client_command (client, on_reply, &blocked, &error,
                                          "BLPOP", "empty", "0", NULL));
  /* Behind it on the same connection: lost with it. */
  g_assert_true (gc_redis_client_command (client, on_reply, &blocked, &error, "PING", NULL));
  gc_test_wait (blocked.errors == 2);
  g_assert_error (blocked.last_error, GC_REDIS_ERROR, GC_REDIS_ERROR_LOST);
  /* The timeout has done its part: on a loaded machine 500 ms could also
   * cut the reconnection short, or its first probe, which is not what
   * this test counts. */
  gc_redis_client_set_timeout_ms (client, 30000);
  gc_test_wait (gc_redis_client_is_up (client));

  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "PING", NULL));
  gc_test_wait (r.replies == 1);
  g_assert_cmpstr (r.last_text, ==, "PONG");
  gc_redis_client_get_stats (client, &stats);
  g_assert_cmpuint (stats.reconnects, ==, 1);
  /* Ours, and maybe the client's own liveness probe. */
  g_assert_cmpuint (stats.lost, >=, 2);
  /* A probe lost with the commands link says nothing of the
   * subscriptions: they stay. */
  g_assert_cmpuint (stats.probe_failures, ==, 0);

  g_clear_object (&e->client);
  replies_clear (&blocked);
  replies_clear (&r);
}

/* --- Redis killed ------------------------------------------------------------ */

/* SIGKILL and a restart within the grace: commands issued meanwhile wait
 * and then run; scripts are loaded again before them; subscriptions are
 * made again (and said so). */
static void
test_restart_within_grace (Engine        *e,
                           gconstpointer  data)
{
  GcTestRedis *redis = e->redis;
  GcRedisClient *client = e->client;
  Events *events = &e->events;
  g_autoptr(GError) error = NULL;
  g_autofree char *exists = NULL;
  Replies r = { 0 }, s = { 0 };
  GcRedisScript *incr;
  GcRedisClientStats stats;
  const char *keys[] = { "counter" };

  if (gc_test_redis_skip (e->redis))
    return;
  gc_redis_client_set_grace_ms (client, 15000);
  incr = gc_redis_client_add_script (client, "return redis.call('INCR', KEYS[1])");
  gc_redis_client_subscribe (client, "room:a");
  gc_redis_client_start (client);
  gc_test_wait (count_subscribed (events, "room:a") == 1);

  gc_test_redis_kill (redis);
  gc_test_wait (!gc_redis_client_is_up (client));
  g_assert_cmpuint (events->downs, ==, 1);
  g_assert_false (gc_redis_client_is_subscribed (client, "room:a"));

  /* While down: queued, not refused. */
  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "SET", "k", "v", NULL));
  g_assert_true (gc_redis_client_eval (client, incr, 1, 1, keys, NULL, on_reply, &s, &error));
  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "GET", "k", NULL));
  gc_test_run_for_ms (200);  /* a window: nothing may answer while down */
  g_assert_cmpuint (r.replies + r.errors + s.replies + s.errors, ==, 0);
  gc_redis_client_get_stats (client, &stats);
  g_assert_cmpuint (stats.queued, ==, 3);

  gc_test_redis_restart (redis);
  gc_test_wait (r.replies == 2 && s.replies == 1);
  g_assert_cmpuint (r.errors + s.errors, ==, 0);
  g_assert_cmpstr (r.last_text, ==, "v");
  g_assert_cmpint (s.last_integer, ==, 1);
  exists = gc_test_redis_run (redis, "SCRIPT", "EXISTS", gc_redis_script_get_sha1 (incr), NULL);
  g_assert_cmpstr (exists, ==, "1");

  gc_test_wait (count_subscribed (events, "room:a") == 2);
  gc_test_wait (gc_redis_client_is_up (client));
  g_assert_cmpuint (events->ups, ==, 2);
  gc_redis_client_get_stats (client, &stats);
  g_assert_cmpuint (stats.reconnects, ==, 2);  /* both connections */
  /* None of ours (checked above); the liveness probe may have been in
   * flight at the kill. */
  g_assert_cmpuint (stats.lost, <=, 1);

  publish (client, &r, "room:a", "back");
  gc_test_wait (events->messages->len == 1);

  g_clear_object (&e->client);
  replies_clear (&r);
  replies_clear (&s);
}

/* Beyond the grace: commands waiting fail DOWN (never sent); the client
 * keeps trying and is back when Redis is. A command in flight at the kill
 * fails LOST. */
static void
test_down_beyond_grace (Engine        *e,
                        gconstpointer  data)
{
  GcTestRedis *redis = e->redis;
  GcRedisClient *client = e->client;
  g_autoptr(GError) error = NULL;
  Replies blocked = { 0 }, r = { 0 };
  gint64 queued_at;

  if (gc_test_redis_skip (e->redis))
    return;
  gc_redis_client_set_grace_ms (client, 300);
  gc_redis_client_start (client);
  gc_test_wait (gc_redis_client_is_up (client));

  g_assert_true (gc_redis_client_command (client, on_reply, &blocked, &error,
                                          "BLPOP", "empty", "0", NULL));
  /* The BLPOP must have reached Redis before the kill, or this tests a
   * command that was never sent. */
  gc_test_wait (blpop_is_blocked (redis));
  gc_test_redis_kill (redis);
  gc_test_wait (blocked.errors == 1);
  g_assert_error (blocked.last_error, GC_REDIS_ERROR, GC_REDIS_ERROR_LOST);
  gc_test_wait (!gc_redis_client_is_up (client));

  queued_at = g_get_monotonic_time ();
  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "PING", NULL));
  gc_test_wait (r.errors == 1);
  g_assert_error (r.last_error, GC_REDIS_ERROR, GC_REDIS_ERROR_DOWN);
  g_assert_cmpint (g_get_monotonic_time () - queued_at, >=, 300 * 1000);
  g_assert_false (gc_redis_client_is_up (client));

  gc_test_redis_restart (redis);
  gc_test_wait (gc_redis_client_is_up (client));
  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "PING", NULL));
  gc_test_wait (r.replies == 1);

  g_clear_object (&e->client);
  replies_clear (&blocked);
  replies_clear (&r);
}

/* --- host names ------------------------------------------------------------ */

/* redis://localhost:PORT: the name is resolved with GResolver (hiredis's
 * own resolving would block the main loop). Loopback only. */
static void
test_host_name (void)
{
  g_autoptr(GcTestRedis) redis = NULL;
  g_autoptr(GcRedisClient) client = NULL;
  g_autoptr(GcRedisAddress) address = NULL;
  g_autoptr(GSocket) probe = NULL;
  g_autoptr(GSocketAddress) any = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port = NULL;
  g_autofree char *url = NULL;
  Replies r = { 0 };
  Events events = { 0 };

  if (gc_test_redis_server_path () == NULL)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }

  /* A free loopback port for redis-server (it cannot pick one itself). */
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  any = g_inet_socket_address_new (loopback, 0);
  g_assert_true (g_socket_bind (probe, any, FALSE, &error));
  bound = g_socket_get_local_address (probe, &error);
  g_assert_no_error (error);
  port = g_strdup_printf ("%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (probe, NULL);

  {
    const char *args[] = { "--port", port, "--bind", "127.0.0.1", NULL };
    redis = gc_test_redis_start (args);
  }
  events_init (&events);
  url = g_strdup_printf ("redis://localhost:%s", port);
  address = gc_redis_address_parse (url, &error);
  g_assert_no_error (error);
  client = gc_redis_client_new (address);
  gc_redis_client_start (client);
  g_assert_true (gc_redis_client_command (client, on_reply, &r, &error, "PING", NULL));
  gc_test_wait (r.replies + r.errors == 1);
  g_assert_no_error (r.last_error);
  g_assert_cmpstr (r.last_text, ==, "PONG");

  g_clear_object (&client);
  replies_clear (&r);
  events_clear (&events);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/redis/url", test_url);
  add_engine_test ("/redis/engine/commands", test_commands);
  add_engine_test ("/redis/engine/scripts", test_scripts);
  add_engine_test ("/redis/engine/pubsub", test_pubsub);
  add_engine_test ("/redis/engine/pubsub-killed", test_pubsub_killed);
  add_engine_test ("/redis/engine/probe", test_probe);
  add_engine_test ("/redis/engine/backpressure", test_backpressure);
  add_engine_test ("/redis/engine/timeout", test_timeout);
  add_engine_test ("/redis/engine/restart-within-grace", test_restart_within_grace);
  add_engine_test ("/redis/engine/down-beyond-grace", test_down_beyond_grace);
  g_test_add_func ("/redis/engine/host-name", test_host_name);

  return g_test_run ();
}
