/* test-redis-batches.c: the message script's batches (src/server/redis/
 * gc-redis-rooms.c, gc-redis-rooms-scripts.h) against a redis-server of
 * the test's own: the history stream, its ids counting messages, trimmed
 * by MINID, keeps exactly what the welcome and `since` need after
 * batches of any size; several rooms' batches in one call.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-protocol.h"
#include "gc-redis-rooms.h"
#include "gc-test-wait.h"
#include "gc-test-redis.h"

typedef struct {
  guint answers;
  guint ok;
  guint gone;
  guint errors;
  guint64 last_seq;
  GPtrArray *history;    /* texts of the last join's history */
} Answers;

static void
answers_init (Answers *a)
{
  memset (a, 0, sizeof *a);
  a->history = g_ptr_array_new_with_free_func (g_free);
}

static void
answers_clear (Answers *a)
{
  g_ptr_array_unref (a->history);
}

static void
on_answer (const GcRedisRoomResult *result,
           const GError            *error,
           gpointer                 user_data)
{
  Answers *a = user_data;

  a->answers++;
  if (error != NULL)
    {
      a->errors++;
      return;
    }
  if (result->status == GC_REDIS_ROOM_GONE)
    a->gone++;
  if (result->status != GC_REDIS_ROOM_OK)
    return;
  a->ok++;
  a->last_seq = result->seq;
  if (result->history != NULL)
    {
      g_ptr_array_set_size (a->history, 0);
      for (guint i = 0; i < result->history->len; i++)
        {
          GcRedisRoomEvent *event = g_ptr_array_index (result->history, i);

          g_ptr_array_add (a->history, g_strdup (event->text));
        }
    }
}

typedef struct {
  GcTestRedis *redis;
  GcRedisClient *client;
  GcRedisRooms *rooms;
  GPtrArray *messages;   /* "ROOM SEQ TEXT" of each message delivered */
} Fixture;

static void
on_event (const char             *room,
          const GcRedisRoomEvent *event,
          gpointer                user_data)
{
  Fixture *f = user_data;

  if (event->type == GC_REDIS_ROOM_EVENT_MESSAGE)
    g_ptr_array_add (f->messages, g_strdup_printf ("%s %" G_GUINT64_FORMAT " %s", room,
                                                   event->seq, event->text));
}

#define HISTORY 7

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRedisAddress) address = NULL;

  f->redis = gc_test_redis_start_if_installed (NULL);
  if (f->redis == NULL)
    return;
  address = gc_redis_address_parse (gc_test_redis_get_url (f->redis), &error);
  g_assert_no_error (error);
  f->client = gc_redis_client_new (address);
  gc_redis_client_set_max_commands (f->client, 100000);
  gc_redis_client_set_max_output (f->client, 64 * 1024 * 1024);
  f->rooms = gc_redis_rooms_new (f->client, "node-a");
  gc_redis_rooms_set_history (f->rooms, HISTORY);
  /* The stream keeps exactly what --history needs, no repair floor. */
  gc_redis_rooms_set_repair_messages (f->rooms, 0);
  f->messages = g_ptr_array_new_with_free_func (g_free);
  gc_redis_rooms_set_event_func (f->rooms, on_event, f);
  gc_redis_client_start (f->client);
  gc_test_wait (gc_redis_client_is_up (f->client));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->rooms);
  g_clear_object (&f->client);
  g_clear_pointer (&f->redis, gc_test_redis_free);
  g_clear_pointer (&f->messages, g_ptr_array_unref);
}

static void
join (Fixture    *f,
      const char *room,
      const char *name,
      guint64     since,
      Answers    *a)
{
  g_autofree char *id = g_strconcat ("id-", name, NULL);
  g_autofree char *hash = g_strconcat ("hash-", name, NULL);

  gc_redis_rooms_join (f->rooms, room, name, name, id, hash, 0, since, on_answer, a);
}

static void
say (Fixture    *f,
     const char *room,
     const char *name,
     const char *text,
     Answers    *a)
{
  g_autofree char *id = g_strconcat ("id-", name, NULL);

  gc_redis_rooms_message (f->rooms, room, name, id, name, "text", text, NULL, NULL, 0,
                          on_answer, a);
}

/* Messages in room r's history stream (a LENGTH:ITEM item per message in
 * each entry's body), and those of its oldest entry. */
static void
history_counts (Fixture *f,
                guint64 *messages,
                guint64 *oldest)
{
  g_autofree char *counts = gc_test_redis_run (f->redis, "EVAL",
    "local s, first = 0, nil\n"
    "for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do\n"
    "  local b, i, n = e[2][4], 1, 0\n"
    "  while i <= #b do\n"
    "    local c = string.find(b, ':', i, true)\n"
    "    i = c + 1 + tonumber(string.sub(b, i, c - 1))\n"
    "    n = n + 1\n"
    "  end\n"
    "  first = first or n\n"
    "  s = s + n\n"
    "end\n"
    "return {s, first or 0}\n", "1", "gc:{r}:history", NULL);
  char *end;

  *messages = g_ascii_strtoull (counts, &end, 10);
  *oldest = g_ascii_strtoull (end, NULL, 10);
}

/* Batches of mixed sizes (each burst goes out as one script call, up to
 * 64 messages): after each, the stream holds at least HISTORY messages
 * (or all there were) and fewer than 2 * HISTORY + 64; after a batch
 * that trimmed it (the messages ever added passed a multiple of
 * HISTORY), no entry more than those (without its oldest entry it would
 * hold fewer). A welcome has exactly the newest HISTORY, and one with
 * `since` exactly those after it. */
static void
test_history_mixed_batches (Fixture       *f,
                            gconstpointer  data)
{
  static const guint bursts[] = { 1, 5, 13, 2, 64, 3, 1, 1, 30, 9, 64, 6, 1 };
  Answers joins, sent;
  guint total = 0;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&sent);

  gc_redis_rooms_open (f->rooms, "r");
  join (f, "r", "alice", 0, &joins);
  gc_test_wait (joins.answers == 1);
  g_assert_cmpuint (joins.ok, ==, 1);

  for (guint b = 0; b < G_N_ELEMENTS (bursts); b++)
    {
      guint64 messages, oldest;

      for (guint i = 0; i < bursts[b]; i++)
        {
          g_autofree char *text = g_strdup_printf ("m%u", ++total);

          say (f, "r", "alice", text, &sent);
        }
      gc_test_wait (sent.answers == total);
      g_assert_cmpuint (sent.ok, ==, total);

      history_counts (f, &messages, &oldest);
      g_assert_cmpuint (messages, >=, MIN (total, HISTORY));
      g_assert_cmpuint (messages, <, 2 * HISTORY + 64);
      if (total / HISTORY != (total - bursts[b]) / HISTORY)
        g_assert_cmpuint (messages - oldest, <, HISTORY);
    }

  join (f, "r", "bob", 0, &joins);
  gc_test_wait (joins.answers == 2);
  g_assert_cmpuint (joins.history->len, ==, HISTORY);
  for (guint i = 0; i < HISTORY; i++)
    {
      g_autofree char *text = g_strdup_printf ("m%u", total - HISTORY + 1 + i);

      g_assert_cmpstr (g_ptr_array_index (joins.history, i), ==, text);
    }

  /* After the third newest: the newest two. */
  {
    g_autofree char *newest = gc_test_redis_run (f->redis, "GET", "gc:{r}:seq", NULL);
    /* bob's join took the last seq; the newest message is the one before. */
    guint64 since = g_ascii_strtoull (newest, NULL, 10) - 3;

    join (f, "r", "carol", since, &joins);
    gc_test_wait (joins.answers == 3);
    g_assert_cmpuint (joins.history->len, ==, 2);
    {
      g_autofree char *text = g_strdup_printf ("m%u", total);

      g_assert_cmpstr (g_ptr_array_index (joins.history, 1), ==, text);
    }
  }

  answers_clear (&joins);
  answers_clear (&sent);
}

/* A history stream left by an earlier version (ids SEQ-0, far above the
 * message counts this one's ids are): the batch script starts it again
 * instead of failing every room of its call. */
static void
test_earlier_stream (Fixture       *f,
                     gconstpointer  data)
{
  Answers joins, sent;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&sent);

  gc_redis_rooms_open (f->rooms, "r");
  join (f, "r", "alice", 0, &joins);
  gc_test_wait (joins.answers == 1);
  g_free (gc_test_redis_run (f->redis, "XADD", "gc:{r}:history", "1796000000000000-0",
                             "r", "0:", "n", "1", NULL));
  say (f, "r", "alice", "m1", &sent);
  say (f, "r", "alice", "m2", &sent);
  gc_test_wait (sent.answers == 2);
  g_assert_cmpuint (sent.ok, ==, 2);
  join (f, "r", "bob", 0, &joins);
  gc_test_wait (joins.answers == 2);
  g_assert_cmpuint (joins.history->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (joins.history, 1), ==, "m2");

  answers_clear (&joins);
  answers_clear (&sent);
}

/* An unreadable history entry (its seq taken, its body garbage) between
 * readable ones: a welcome loses only it, not every newer message
 * (review R2: the parse stopped at it), nor does an entry lacking its
 * body shift the head and body pairs after it. */
static void
test_unreadable_entry (Fixture       *f,
                       gconstpointer  data)
{
  Answers joins, sent;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&sent);

  gc_redis_rooms_open (f->rooms, "r");
  join (f, "r", "alice", 0, &joins);
  gc_test_wait (joins.answers == 1);
  say (f, "r", "alice", "m-first", &sent);
  gc_test_wait (sent.answers == 1);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *seq = gc_test_redis_run (f->redis, "INCR", "gc:{r}:seq", NULL);
      g_autofree char *c = gc_test_redis_run (f->redis, "INCR", "gc:{r}:hcount", NULL);
      g_autofree char *head = g_strconcat ("B", seq, " 1765010000000", NULL);

      /* Not published: the node sees a gap only the repair would fill. */
      if (i == 0)
        g_free (gc_test_redis_run (f->redis, "XADD", "gc:{r}:history", c, "h", head,
                                   "b", "garbage", "n", "1", NULL));
      else
        g_free (gc_test_redis_run (f->redis, "XADD", "gc:{r}:history", c, "h", head, NULL));
    }
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *text = g_strdup_printf ("m%u", i);

      say (f, "r", "alice", text, &sent);
      gc_test_wait (sent.answers == 2 + i);
    }
  g_assert_cmpuint (sent.ok, ==, 6);

  join (f, "r", "bob", 0, &joins);
  gc_test_wait (joins.answers == 2);
  g_assert_cmpuint (joins.ok, ==, 2);
  /* HISTORY (7) messages back: m0..m4 and the two unreadable entries'
   * (their messages lost, and only theirs). */
  g_assert_cmpuint (joins.history->len, ==, 5);
  g_assert_cmpstr (g_ptr_array_index (joins.history, 0), ==, "m0");
  g_assert_cmpstr (g_ptr_array_index (joins.history, 4), ==, "m4");

  answers_clear (&joins);
  answers_clear (&sent);
}

/* EVALSHA calls Redis ran so far. */
static guint64
evalsha_calls (Fixture *f)
{
  g_autofree char *stats = gc_test_redis_run (f->redis, "INFO", "commandstats", NULL);
  const char *calls = strstr (stats, "cmdstat_evalsha:calls=");

  g_assert_nonnull (calls);
  return g_ascii_strtoull (calls + strlen ("cmdstat_evalsha:calls="), NULL, 10);
}

/* Messages of three rooms sent in one main-loop iteration go out in one
 * script call; one room's sender is no longer in it (taken over behind
 * the node's back): its messages are refused (gone), the other rooms'
 * go out in order with consecutive seqs, and nothing of the refused
 * sender is delivered. */
static void
test_rooms_in_one_call (Fixture       *f,
                        gconstpointer  data)
{
  Answers joins, alice, bob;
  guint64 calls;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&alice);
  answers_init (&bob);

  gc_redis_rooms_open (f->rooms, "r1");
  gc_redis_rooms_open (f->rooms, "r2");
  gc_redis_rooms_open (f->rooms, "r3");
  join (f, "r1", "alice", 0, &joins);
  join (f, "r2", "bob", 0, &joins);
  join (f, "r2", "carol", 0, &joins);
  join (f, "r3", "alice", 0, &joins);
  gc_test_wait (joins.answers == 4);
  g_assert_cmpuint (joins.ok, ==, 4);
  g_free (gc_test_redis_run (f->redis, "HDEL", "gc:{r2}:members", "bob", NULL));

  calls = evalsha_calls (f);
  say (f, "r1", "alice", "a1", &alice);
  say (f, "r2", "bob", "b1", &bob);
  say (f, "r3", "alice", "c1", &alice);
  say (f, "r1", "alice", "a2", &alice);
  say (f, "r2", "carol", "x1", &alice);
  say (f, "r2", "bob", "b2", &bob);
  gc_test_wait (alice.answers == 4 && bob.answers == 2);
  g_assert_cmpuint (evalsha_calls (f), ==, calls + 1);
  g_assert_cmpuint (alice.ok, ==, 4);
  g_assert_cmpuint (bob.gone, ==, 2);

  gc_test_wait (f->messages->len == 4);
  {
    g_autofree char *r1_first = NULL, *r1_second = NULL;
    guint64 seq = 0;

    /* In each room's order; r1's two with consecutive seqs. */
    for (guint i = 0; i < f->messages->len; i++)
      {
        const char *m = g_ptr_array_index (f->messages, i);

        g_assert_false (g_str_has_suffix (m, " b1") || g_str_has_suffix (m, " b2"));
        if (g_str_has_prefix (m, "r1 ") && g_str_has_suffix (m, " a1"))
          seq = g_ascii_strtoull (m + 3, NULL, 10);
        else if (g_str_has_prefix (m, "r1 "))
          {
            g_assert_cmpuint (seq, !=, 0);
            g_assert_cmpuint (g_ascii_strtoull (m + 3, NULL, 10), ==, seq + 1);
            g_assert_true (g_str_has_suffix (m, " a2"));
          }
        else if (g_str_has_prefix (m, "r2 "))
          g_assert_true (g_str_has_suffix (m, " x1"));
        else
          g_assert_cmpstr (strchr (strchr (m, ' ') + 1, ' '), ==, " c1");
      }
  }

  answers_clear (&joins);
  answers_clear (&alice);
  answers_clear (&bob);
}

/* While a message call of the node is in flight, the next flush waits
 * (the hold, long here) for more: two rooms' messages sent several
 * main-loop iterations apart go in one call, not one each. */
static void
test_flush_hold (Fixture       *f,
                 gconstpointer  data)
{
  Answers joins, sent;
  guint64 calls;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&sent);
  gc_redis_rooms_set_flush_hold (f->rooms, 400);

  gc_redis_rooms_open (f->rooms, "r1");
  gc_redis_rooms_open (f->rooms, "r2");
  gc_redis_rooms_open (f->rooms, "r3");
  join (f, "r1", "alice", 0, &joins);
  join (f, "r2", "alice", 0, &joins);
  join (f, "r3", "alice", 0, &joins);
  gc_test_wait (joins.answers == 3);
  g_assert_cmpuint (joins.ok, ==, 3);

  calls = evalsha_calls (f);
  /* Nothing in flight: out at once. */
  say (f, "r1", "alice", "a1", &sent);
  g_main_context_iteration (NULL, FALSE);
  /* r1's call in flight: r2's flush waits; idles run meanwhile. */
  say (f, "r2", "alice", "b1", &sent);
  for (guint i = 0; i < 5; i++)
    g_main_context_iteration (NULL, FALSE);
  say (f, "r3", "alice", "c1", &sent);
  gc_test_wait (sent.answers == 3);
  g_assert_cmpuint (sent.ok, ==, 3);
  g_assert_cmpuint (evalsha_calls (f), ==, calls + 2);
  gc_test_wait (f->messages->len == 3);

  answers_clear (&joins);
  answers_clear (&sent);
}

/* Three rooms' messages in one call, two of the rooms with keys Redis
 * cannot use (a seq that is no number; a history counter of another
 * type): only their senders get an error; the healthy room's messages,
 * one before and one after them in the call, go out and are delivered
 * (review s5 R3: the whole call failed, closing senders whose messages
 * went out); the room whose counter failed took no seq, the one whose
 * seq failed counts no history. */
static void
test_failing_room_alone (Fixture       *f,
                         gconstpointer  data)
{
  Answers joins, alice, bob, carol;
  g_autofree char *r3_seq = NULL, *r3_seq_after = NULL;
  g_autofree char *r2_count = NULL, *r2_count_after = NULL;
  guint64 calls;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&alice);
  answers_init (&bob);
  answers_init (&carol);

  gc_redis_rooms_open (f->rooms, "r1");
  gc_redis_rooms_open (f->rooms, "r2");
  gc_redis_rooms_open (f->rooms, "r3");
  join (f, "r1", "alice", 0, &joins);
  join (f, "r2", "bob", 0, &joins);
  join (f, "r3", "carol", 0, &joins);
  gc_test_wait (joins.answers == 3);
  g_assert_cmpuint (joins.ok, ==, 3);
  g_free (gc_test_redis_run (f->redis, "SET", "gc:{r2}:seq", "not-a-number", NULL));
  g_free (gc_test_redis_run (f->redis, "DEL", "gc:{r3}:hcount", NULL));
  g_free (gc_test_redis_run (f->redis, "RPUSH", "gc:{r3}:hcount", "x", NULL));
  r3_seq = gc_test_redis_run (f->redis, "GET", "gc:{r3}:seq", NULL);
  r2_count = gc_test_redis_run (f->redis, "GET", "gc:{r2}:hcount", NULL);

  calls = evalsha_calls (f);
  say (f, "r2", "bob", "b1", &bob);
  say (f, "r1", "alice", "a1", &alice);
  say (f, "r3", "carol", "c1", &carol);
  say (f, "r1", "alice", "a2", &alice);
  gc_test_wait (alice.answers == 2 && bob.answers == 1 && carol.answers == 1);
  g_assert_cmpuint (evalsha_calls (f), ==, calls + 1);
  g_assert_cmpuint (alice.ok, ==, 2);
  g_assert_cmpuint (alice.errors, ==, 0);
  g_assert_cmpuint (bob.errors, ==, 1);
  g_assert_cmpuint (carol.errors, ==, 1);
  r3_seq_after = gc_test_redis_run (f->redis, "GET", "gc:{r3}:seq", NULL);
  g_assert_cmpstr (r3_seq_after, ==, r3_seq);
  /* Nor did the room whose seq failed keep a count of messages its
   * history did not get. */
  r2_count_after = gc_test_redis_run (f->redis, "GET", "gc:{r2}:hcount", NULL);
  g_assert_cmpuint (g_ascii_strtoull (r2_count_after, NULL, 10), ==,
                    g_ascii_strtoull (r2_count, NULL, 10));

  gc_test_wait (f->messages->len == 2);
  {
    const char *first = g_ptr_array_index (f->messages, 0);
    const char *second = g_ptr_array_index (f->messages, 1);

    g_assert_true (g_str_has_prefix (first, "r1 ") && g_str_has_suffix (first, " a1"));
    g_assert_true (g_str_has_prefix (second, "r1 ") && g_str_has_suffix (second, " a2"));
    g_assert_cmpuint (g_ascii_strtoull (second + 3, NULL, 10), ==,
                      g_ascii_strtoull (first + 3, NULL, 10) + 1);
  }

  /* The healthy room goes on. */
  say (f, "r1", "alice", "a3", &alice);
  gc_test_wait (alice.answers == 3);
  g_assert_cmpuint (alice.ok, ==, 3);
  gc_test_wait (f->messages->len == 3);

  answers_clear (&joins);
  answers_clear (&alice);
  answers_clear (&bob);
  answers_clear (&carol);
}

/* 40 rooms with a message each in one main-loop iteration: two calls
 * (at most 32 rooms a call), every message out. */
static void
test_many_rooms (Fixture       *f,
                 gconstpointer  data)
{
  const guint n_rooms = 40;
  Answers joins, sent;
  guint64 calls;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&sent);

  for (guint i = 0; i < n_rooms; i++)
    {
      g_autofree char *room = g_strdup_printf ("m%u", i);

      gc_redis_rooms_open (f->rooms, room);
      join (f, room, "alice", 0, &joins);
    }
  gc_test_wait (joins.answers == n_rooms);
  g_assert_cmpuint (joins.ok, ==, n_rooms);

  calls = evalsha_calls (f);
  for (guint i = 0; i < n_rooms; i++)
    {
      g_autofree char *room = g_strdup_printf ("m%u", i);

      say (f, room, "alice", "hello", &sent);
    }
  gc_test_wait (sent.answers == n_rooms);
  g_assert_cmpuint (sent.ok, ==, n_rooms);
  g_assert_cmpuint (evalsha_calls (f), ==, calls + 2);
  gc_test_wait (f->messages->len == n_rooms);

  answers_clear (&joins);
  answers_clear (&sent);
}

static void
on_rooms_finalized (gpointer  data,
                    GObject  *where_the_object_was)
{
  *(gboolean *) data = TRUE;
}

/* Drops the fixture's rooms object; it must go at once. */
static void
drop_rooms (Fixture *f)
{
  gboolean finalized = FALSE;

  g_object_weak_ref (G_OBJECT (f->rooms), on_rooms_finalized, &finalized);
  g_clear_object (&f->rooms);
  g_assert_true (finalized);
}

/* Alice in rooms r1 and r2 with a flush hold of @hold_ms, and r1's
 * message "a1" (answered in @first) in flight: a message to r2 now
 * waits out the hold. */
static void
hold_r2 (Fixture *f,
         guint    hold_ms,
         Answers *joins,
         Answers *first)
{
  gc_redis_rooms_set_flush_hold (f->rooms, hold_ms);
  gc_redis_rooms_open (f->rooms, "r1");
  gc_redis_rooms_open (f->rooms, "r2");
  join (f, "r1", "alice", 0, joins);
  join (f, "r2", "alice", 0, joins);
  gc_test_wait (joins->answers == 2);

  say (f, "r1", "alice", "a1", first);
  g_main_context_iteration (NULL, FALSE);
}

/* The rooms object goes while a flush waits out its hold: the held
 * sender hears once, with an error, and nothing fires after it (the
 * hold's source went with the object). */
static void
test_hold_dispose (Fixture       *f,
                   gconstpointer  data)
{
  Answers joins, first, held;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&first);
  answers_init (&held);
  hold_r2 (f, 300, &joins, &first);
  /* r1's call in flight: r2's flush waits. */
  say (f, "r2", "alice", "b1", &held);
  gc_test_wait (first.answers == 1);
  g_assert_cmpuint (held.answers, ==, 0);

  drop_rooms (f);
  g_assert_cmpuint (held.answers, ==, 1);
  g_assert_cmpuint (held.errors, ==, 1);
  /* Past the hold: no second answer, no source left behind. */
  gc_test_run_for_ms (500);
  g_assert_cmpuint (held.answers, ==, 1);

  answers_clear (&joins);
  answers_clear (&first);
  answers_clear (&held);
}

typedef struct {
  GcRedisRooms *rooms;
  Answers again;
  guint errors;
} SendAgain;

/* A sender that, told its message failed, sends another at once. */
static void
on_answer_send_again (const GcRedisRoomResult *result,
                      const GError            *error,
                      gpointer                 user_data)
{
  SendAgain *s = user_data;

  if (error == NULL || s->errors++ > 0)
    return;
  gc_redis_rooms_message (s->rooms, "r2", "alice", "id-alice", "alice", "text", "again",
                          NULL, NULL, 0, on_answer, &s->again);
}

/* The rooms object goes while a flush waits, and the held sender, told
 * so, sends again from its callback (the object is disposing): the new
 * message is answered at once with an error, and no flush is scheduled
 * on an object about to be freed. */
static void
test_dispose_send_again (Fixture       *f,
                         gconstpointer  data)
{
  Answers joins, first;
  SendAgain held = { 0 };

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&first);
  answers_init (&held.again);
  hold_r2 (f, 300, &joins, &first);
  held.rooms = f->rooms;
  gc_redis_rooms_message (f->rooms, "r2", "alice", "id-alice", "alice", "text", "b1",
                          NULL, NULL, 0, on_answer_send_again, &held);
  gc_test_wait (first.answers == 1);
  g_assert_cmpuint (held.errors, ==, 0);

  drop_rooms (f);
  g_assert_cmpuint (held.errors, ==, 1);
  g_assert_cmpuint (held.again.answers, ==, 1);
  g_assert_cmpuint (held.again.errors, ==, 1);
  gc_test_run_for_ms (500);
  g_assert_cmpuint (held.again.answers, ==, 1);

  answers_clear (&joins);
  answers_clear (&first);
  answers_clear (&held.again);
}

/* Calls the client refuses at once (its bound on commands in flight)
 * are no calls in flight: the next message, with nothing in flight,
 * leaves at once, not after the hold. */
static void
test_refused_call_holds_nothing (Fixture       *f,
                                 gconstpointer  data)
{
  Answers joins, sent;
  gint64 start;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&sent);
  gc_redis_rooms_set_flush_hold (f->rooms, 5000);
  gc_redis_rooms_open (f->rooms, "r1");
  join (f, "r1", "alice", 0, &joins);
  gc_test_wait (joins.answers == 1);

  gc_redis_client_set_max_commands (f->client, 1);
  g_assert_true (gc_redis_client_command (f->client, NULL, NULL, NULL, "BLPOP", "nokey", "0.5", NULL));
  say (f, "r1", "alice", "x1", &sent);
  gc_test_wait (sent.answers == 1);
  say (f, "r1", "alice", "x2", &sent);
  gc_test_wait (sent.answers == 2);
  g_assert_cmpuint (sent.errors, ==, 2);

  gc_redis_client_set_max_commands (f->client, 100000);
  start = g_get_monotonic_time ();
  say (f, "r1", "alice", "x3", &sent);
  gc_test_wait (sent.answers == 3);
  g_assert_cmpuint (sent.ok, ==, 1);
  /* Well under the 5 s hold. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);

  answers_clear (&joins);
  answers_clear (&sent);
}

/* Redis dies while a call is in flight and another room's flush waits
 * out its hold: each sender hears exactly once; once Redis is back, a
 * lone message leaves at once (no call counted in flight any more). */
static void
test_hold_redis_down (Fixture       *f,
                      gconstpointer  data)
{
  Answers joins, first, held, after;
  gint64 start;

  if (gc_test_redis_skip (f->redis))
    return;
  answers_init (&joins);
  answers_init (&first);
  answers_init (&held);
  answers_init (&after);
  gc_redis_client_set_grace_ms (f->client, 200);
  hold_r2 (f, 5000, &joins, &first);
  say (f, "r2", "alice", "b1", &held);
  gc_test_redis_kill (f->redis);
  gc_test_wait (first.answers == 1 && held.answers == 1);

  gc_test_redis_restart (f->redis);
  gc_test_wait (gc_redis_client_is_up (f->client));
  /* Redis kept nothing: alice joins r1 again. */
  join (f, "r1", "alice", 0, &joins);
  gc_test_wait (joins.answers == 3);
  g_assert_cmpuint (joins.ok, ==, 3);

  start = g_get_monotonic_time ();
  say (f, "r1", "alice", "a2", &after);
  gc_test_wait (after.answers == 1);
  g_assert_cmpuint (after.ok, ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  /* No second answer for the messages of before. */
  g_assert_cmpuint (first.answers, ==, 1);
  g_assert_cmpuint (held.answers, ==, 1);

  answers_clear (&joins);
  answers_clear (&first);
  answers_clear (&held);
  answers_clear (&after);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/redis/batches/history-mixed", Fixture, NULL, fixture_setup,
              test_history_mixed_batches, fixture_teardown);
  g_test_add ("/redis/batches/earlier-stream", Fixture, NULL, fixture_setup,
              test_earlier_stream, fixture_teardown);
  g_test_add ("/redis/batches/unreadable-entry", Fixture, NULL, fixture_setup,
              test_unreadable_entry, fixture_teardown);
  g_test_add ("/redis/batches/many-rooms", Fixture, NULL, fixture_setup,
              test_many_rooms, fixture_teardown);
  g_test_add ("/redis/batches/rooms-in-one-call", Fixture, NULL, fixture_setup,
              test_rooms_in_one_call, fixture_teardown);
  g_test_add ("/redis/batches/failing-room-alone", Fixture, NULL, fixture_setup,
              test_failing_room_alone, fixture_teardown);
  g_test_add ("/redis/batches/flush-hold", Fixture, NULL, fixture_setup,
              test_flush_hold, fixture_teardown);
  g_test_add ("/redis/batches/hold-dispose", Fixture, NULL, fixture_setup,
              test_hold_dispose, fixture_teardown);
  g_test_add ("/redis/batches/dispose-send-again", Fixture, NULL, fixture_setup,
              test_dispose_send_again, fixture_teardown);
  g_test_add ("/redis/batches/refused-call-holds-nothing", Fixture, NULL, fixture_setup,
              test_refused_call_holds_nothing, fixture_teardown);
  g_test_add ("/redis/batches/hold-redis-down", Fixture, NULL, fixture_setup,
              test_hold_redis_down, fixture_teardown);
  return g_test_run ();
}
