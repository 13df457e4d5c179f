/* gc-redis-rooms.c: rooms shared by several nodes through Redis: the
 * operations (one script each; the messages of every room with some to
 * send batched into one call per flush) and the object. Each open room's
 * ordered delivery and repair is in gc-redis-room.c, the lease in
 * gc-redis-lease.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-rooms-private.h"
#include "gc-redis-rooms-scripts.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_FINAL_TYPE (GcRedisRooms, gc_redis_rooms, G_TYPE_OBJECT)

enum {
  SIGNAL_ROOM_LOST,
  SIGNAL_LEASE_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

void
redis_rooms_emit_room_lost (GcRedisRooms *self,
                            const char   *code)
{
  g_signal_emit (self, signals[SIGNAL_ROOM_LOST], 0, code);
}

void
redis_rooms_emit_lease_changed (GcRedisRooms *self,
                                gboolean      held)
{
  g_signal_emit (self, signals[SIGNAL_LEASE_CHANGED], 0, held);
}

/* --- operations ---------------------------------------------------------- */

void
redis_op_free (Op *op)
{
  if (op->holds_ref)
    g_object_unref (op->rooms);
  /* Its code and message are in its block (op_new()). */
  g_clear_pointer (&op->args, g_ptr_array_unref);
  g_free (op);
}

void
redis_op_fail (Op           *op,
         const GError *error)
{
  if (op->func != NULL)
    op->func (NULL, error, op->user_data);
  redis_op_free (op);
}


/* The script answers the history entries that hold the newest --history
 * messages after `since` (the oldest may hold older ones): exactly those,
 * oldest first. */
static void
history_trim (Op        *op,
              GPtrArray *history)
{
  /* The arguments of gc_redis_rooms_join() and _resume(): since, then
   * (last) the history. */
  guint since_arg = op->type == OP_JOIN ? 7 : 4;
  guint64 since = g_ascii_strtoull (g_ptr_array_index (op->args, since_arg), NULL, 10);
  guint64 count = g_ascii_strtoull (g_ptr_array_index (op->args, op->args->len - 1), NULL, 10);
  guint old = 0;

  for (guint i = 1; i < history->len; i++)
    if (((GcRedisRoomEvent *) history->pdata[i - 1])->seq >= ((GcRedisRoomEvent *) history->pdata[i])->seq)
      {
        g_ptr_array_sort (history, redis_event_compare);
        break;
      }
  while (old < history->len && ((GcRedisRoomEvent *) history->pdata[old])->seq <= since)
    old++;
  if (history->len - old > count)
    old = history->len - count;
  g_ptr_array_remove_range (history, 0, old);
}

static void
on_op_reply (const redisReply *reply,
             const GError     *error,
             gpointer          user_data)
{
  Op *op = user_data;
  GcRedisRooms *self = op->rooms;
  Room *room;
  GcRedisRoomResult result = { 0 };
  const char *status;
  guint64 seq;

  if (error != NULL)
    {
      redis_op_fail (op, error);
      return;
    }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
      reply->element[0]->type != REDIS_REPLY_STRING ||
      reply->element[1]->type != REDIS_REPLY_STRING)
    {
      g_autoptr(GError) bad = g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_REPLY,
                                                   "unexpected reply from a room script");
      redis_op_fail (op, bad);
      return;
    }

  status = reply->element[0]->str;
  seq = g_ascii_strtoull (reply->element[1]->str, NULL, 10);

  if (strcmp (status, "ok") == 0)
    {
      result.status = GC_REDIS_ROOM_OK;
      result.seq = seq;
      if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_STRING)
        result.ts_ms = g_ascii_strtoll (reply->element[2]->str, NULL, 10);
    }
  else if (strcmp (status, "taken") == 0)
    result.status = GC_REDIS_ROOM_TAKEN;
  else if (strcmp (status, "full") == 0)
    result.status = GC_REDIS_ROOM_FULL;
  else if (strcmp (status, "invalid") == 0)
    result.status = GC_REDIS_ROOM_INVALID;
  else
    result.status = GC_REDIS_ROOM_GONE;

  if (result.status == GC_REDIS_ROOM_TAKEN && reply->elements >= 3 &&
      reply->element[2]->type == REDIS_REPLY_ARRAY)
    {
      result.taken_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (size_t i = 0; i < reply->element[2]->elements; i++)
        g_hash_table_add (result.taken_keys, g_strdup (reply->element[2]->element[i]->str));
    }

  if ((op->type == OP_JOIN || op->type == OP_RESUME) && result.status == GC_REDIS_ROOM_OK &&
      reply->elements >= 6)
    {
      redisReply *keys = reply->element[3], *members = reply->element[4], *history = reply->element[5];

      result.members = g_ptr_array_new_with_free_func (gc_redis_member_free);
      for (size_t i = 0; i < members->elements && i < keys->elements; i++)
        {
          g_autofree char *record = g_memdup2 (members->element[i]->str, members->element[i]->len + 1);
          char *f[5];

          record[members->element[i]->len] = '\0';
          if (gc_redis_record_split (record, members->element[i]->len, f, 5) == 5)
            {
              GcRedisRoomMember *member = g_new0 (GcRedisRoomMember, 1);

              member->user_id = g_strdup (f[0]);
              member->name = g_strdup (f[1]);
              member->node = g_strdup (f[2]);
              member->joined_seq = g_ascii_strtoull (f[3], NULL, 10);
              member->name_key = g_strndup (keys->element[i]->str, keys->element[i]->len);
              g_ptr_array_add (result.members, member);
            }
        }
      g_ptr_array_sort (result.members, gc_redis_member_compare);

      result.history = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_redis_room_event_free);
      gc_redis_history_parse (history, result.history);
      history_trim (op, result.history);
    }

  if (op->type == OP_RESUME && result.status == GC_REDIS_ROOM_OK && reply->elements == 7 &&
      reply->element[6]->type == REDIS_REPLY_STRING)
    result.user_id = reply->element[6]->str;

  /* Sync before the caller hears of it: for a join, the events after
   * its seq are then delivered in order right after. The caller's
   * callback runs first, so it can register its member before them.
   * The last leave's answer unsyncs it instead (Redis deleted the room,
   * a later one has a new sequence); after an unsync only a join's or
   * resume's answer syncs: another (a leave's answered after the room
   * was emptied here) may carry the sequence of a room Redis deleted
   * since. */
  if (op->func != NULL)
    op->func (&result, NULL, op->user_data);
  /* Looked up after: the callback may have closed it. */
  room = g_hash_table_lookup (self->rooms, op->code);
  if (room == NULL || room->opened == 0)
    ;
  else if (op->type == OP_LEAVE && result.status == GC_REDIS_ROOM_OK && reply->elements >= 4 &&
           reply->element[3]->type == REDIS_REPLY_STRING &&
           strcmp (reply->element[3]->str, "deleted") == 0)
    redis_room_unsync (room, seq);
  else if (!room->emptied || op->type == OP_JOIN || op->type == OP_RESUME)
    redis_room_sync (room, seq);

  g_clear_pointer (&result.members, g_ptr_array_unref);
  g_clear_pointer (&result.history, g_ptr_array_unref);
  g_clear_pointer (&result.taken_keys, g_hash_table_unref);
  redis_op_free (op);
}

typedef struct _BatchRoom BatchRoom;
static BatchRoom *batch_room_new (Room *room, GPtrArray *ops);
static void batch_send (GcRedisRooms *self, GPtrArray *parts);

void
redis_op_run (Op *op)
{
  GcRedisRooms *self = op->rooms;
  Room *room = g_hash_table_lookup (self->rooms, op->code);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  guint n_keys;

  if (!op->holds_ref)
    {
      g_object_ref (op->rooms);
      op->holds_ref = TRUE;
    }
  /* A message (that waited for the room's subscription): a batch of one. */
  if (op->type == OP_MESSAGE)
    {
      GPtrArray *ops = g_ptr_array_new_with_free_func ((GDestroyNotify) redis_op_free);

      g_autoptr(GPtrArray) parts = g_ptr_array_new ();

      g_ptr_array_add (ops, op);
      g_ptr_array_add (parts, batch_room_new (room, ops));
      batch_send (self, parts);
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (room->keys); i++)
    g_ptr_array_add (argv, room->keys[i]);
  n_keys = argv->len;
  g_ptr_array_add (argv, room->channel);
  for (guint i = 0; i < op->args->len; i++)
    g_ptr_array_add (argv, g_ptr_array_index (op->args, i));

  if (!gc_redis_client_eval (self->client, op->script, n_keys, argv->len,
                             (const char **) argv->pdata,
                             NULL, on_op_reply, op, &error))
    redis_op_fail (op, error);
}

/* One room's part of a message script call. */
struct _BatchRoom {
  char *code;
  guint64 serial;           /* the room's flush it is */
  GPtrArray *ops;           /* of Op, its messages */
  char n_text[16];
  char senders_text[16];
  char *body;
  Room *room;               /* while the call is made only */
};

typedef struct {
  GcRedisRooms *rooms;
  GPtrArray *parts;         /* of BatchRoom */
} Batch;

static BatchRoom *
batch_room_new (Room      *room,
                GPtrArray *ops)
{
  BatchRoom *part = g_new0 (BatchRoom, 1);

  part->code = g_strdup (room->code);
  part->serial = ++room->flushes_sent;
  part->ops = ops;
  part->room = room;
  return part;
}

static void
batch_room_free (BatchRoom *part)
{
  g_ptr_array_unref (part->ops);
  g_free (part->body);
  g_free (part->code);
  g_free (part);
}

static void schedule_flush (GcRedisRooms *self, Room *room);

/* The answer of one room's part (@first its first seq, @status a letter
 * per message), or @error for all. */
static void
batch_room_answer (GcRedisRooms *self,
                   BatchRoom    *part,
                   gint64        ts_ms,
                   guint64       seq,
                   const char   *status,
                   const GError *error)
{
  Room *room;

  for (guint i = 0; i < part->ops->len; i++)
    {
      Op *op = g_ptr_array_index (part->ops, i);
      GcRedisRoomResult result = { 0 };

      if (error != NULL)
        {
          if (op->func != NULL)
            op->func (NULL, error, op->user_data);
          continue;
        }
      /* Those that went out have consecutive sequence numbers. */
      if (status[i] == 'o')
        {
          result.status = GC_REDIS_ROOM_OK;
          result.seq = seq++;
          result.ts_ms = ts_ms;
        }
      else
        result.status = GC_REDIS_ROOM_GONE;
      if (op->func != NULL)
        op->func (&result, NULL, op->user_data);
    }

  /* The messages that waited for this answer go now. */
  room = g_hash_table_lookup (self->rooms, part->code);
  if (room != NULL && part->serial > room->flushes_answered)
    {
      room->flushes_answered = part->serial;
      if (room->batch->len > 0)
        schedule_flush (self, room);
    }
}

static void
on_batch_reply (const redisReply *reply,
                const GError     *error,
                gpointer          user_data)
{
  Batch *batch = user_data;
  GcRedisRooms *self = batch->rooms;
  g_autoptr(GError) bad = NULL;
  gint64 ts_ms = 0;

  if (error == NULL)
    {
      gboolean ok = reply->type == REDIS_REPLY_ARRAY &&
                    reply->elements == 1 + 2 * batch->parts->len &&
                    reply->element[0]->type == REDIS_REPLY_STRING;

      for (guint i = 0; ok && i < batch->parts->len; i++)
        {
          BatchRoom *part = g_ptr_array_index (batch->parts, i);

          ok = reply->element[1 + 2 * i]->type == REDIS_REPLY_STRING &&
               reply->element[2 + 2 * i]->type == REDIS_REPLY_STRING &&
               reply->element[2 + 2 * i]->len == part->ops->len;
        }
      if (ok)
        ts_ms = g_ascii_strtoll (reply->element[0]->str, NULL, 10);
      else
        error = bad = g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_REPLY,
                                           "unexpected reply from the message script");
    }
  for (guint i = 0; i < batch->parts->len; i++)
    {
      BatchRoom *part = g_ptr_array_index (batch->parts, i);
      g_autoptr(GError) part_error = NULL;
      const char *status = NULL;
      guint64 seq = 0;

      if (error == NULL)
        {
          status = reply->element[2 + 2 * i]->str;
          /* This room's part failed alone, its text in place of the
           * seq (review s5 R3): its senders hear of it, the other
           * rooms' went out. */
          if (status[0] == 'e')
            {
              part_error = g_error_new (GC_REDIS_ERROR, GC_REDIS_ERROR_REPLY,
                                        "the message script failed in room %s: %s",
                                        part->code, reply->element[1 + 2 * i]->str);
              g_message ("%s", part_error->message);
              batch_room_answer (self, part, 0, 0, NULL, part_error);
              continue;
            }
          seq = g_ascii_strtoull (reply->element[1 + 2 * i]->str, NULL, 10);
          /* The script dropped the messages of senders not in the room
           * itself, in the room's order (issue 13 review: sending them
           * again put them behind what was pipelined meanwhile). */
          if (memchr (status, 'g', part->ops->len) != NULL)
            self->stats.slow_batches++;
        }
      batch_room_answer (self, part, ts_ms, seq, status, error);
    }

  g_ptr_array_unref (batch->parts);
  /* After the answers: a room's messages that waited for this one wait
   * flush_hold_ms more for others (schedule_flush()). */
  self->message_calls--;
  g_object_unref (batch->rooms);
  g_free (batch);
}

#define MESSAGE_TYPE_FIELD "7:message"

/* Adds @part's arguments (after its room's keys, added by the caller):
 * channel, n, senders, the distinct senders' keys, then their prefixes,
 * and the body: its records made here, published as they are. */
static void
batch_room_args (BatchRoom *part,
                 GPtrArray *argv,
                 GArray    *argv_len)
{
  GPtrArray *ops = part->ops;
  gsize body_size = 0, len;
  guint first_sender;
  char *p;

  g_snprintf (part->n_text, sizeof part->n_text, "%u", ops->len);
  g_ptr_array_add (argv, part->room->channel);
  len = strlen (part->room->channel);
  g_array_append_val (argv_len, len);
  g_ptr_array_add (argv, part->n_text);
  len = strlen (part->n_text);
  g_array_append_val (argv_len, len);
  g_ptr_array_add (argv, part->senders_text);
  g_array_append_val (argv_len, len);   /* set below */
  first_sender = argv->len;

  /* Each distinct sender (key and prefix) once: the keys, then the
   * prefixes. */
  {
    g_autoptr(GPtrArray) senders = g_ptr_array_new ();

    for (guint i = 0; i < ops->len; i++)
      {
        Op *op = g_ptr_array_index (ops, i);
        gsize prefix_len = op->message_len[1] + op->message_len[2];
        gboolean seen = FALSE;

        for (guint j = 0; j < senders->len && !seen; j++)
          {
            Op *other = g_ptr_array_index (senders, j);

            seen = other->message_len[0] == op->message_len[0] &&
                   other->message_len[1] + other->message_len[2] == prefix_len &&
                   memcmp (other->message, op->message, op->message_len[0] + prefix_len) == 0;
          }
        if (!seen)
          g_ptr_array_add (senders, op);
      }
    for (guint j = 0; j < senders->len; j++)
      {
        Op *op = g_ptr_array_index (senders, j);

        g_ptr_array_add (argv, op->message);
        g_array_append_val (argv_len, op->message_len[0]);
      }
    for (guint j = 0; j < senders->len; j++)
      {
        Op *op = g_ptr_array_index (senders, j);
        gsize prefix_len = op->message_len[1] + op->message_len[2];

        g_ptr_array_add (argv, op->message + op->message_len[0]);
        g_array_append_val (argv_len, prefix_len);
      }
    g_snprintf (part->senders_text, sizeof part->senders_text, "%u", senders->len);
  }
  g_array_index (argv_len, gsize, first_sender - 1) = strlen (part->senders_text);

  /* The records, without SEQ and TS: LENGTH:ITEM each. */
  for (guint i = 0; i < ops->len; i++)
    {
      Op *op = g_ptr_array_index (ops, i);

      body_size += 24 + strlen (MESSAGE_TYPE_FIELD) + op->message_len[1] +
                   op->message_len[2] + op->message_len[3] + op->message_len[4];
    }
  p = part->body = g_malloc (body_size);
  for (guint i = 0; i < ops->len; i++)
    {
      Op *op = g_ptr_array_index (ops, i);
      const char *prefix = op->message + op->message_len[0];
      gsize prefix_len = op->message_len[1] + op->message_len[2];
      /* With its JSON, a message needs no other field (ID NAME JSON);
       * else ID NAME KIND TEXT CLIENT_ID HAS_CLIENT_ID. */
      const char *rest = prefix + prefix_len;
      gsize rest_len = op->message_len[3];

      if (op->message_len[4] > 0)
        {
          rest += op->message_len[3];
          rest_len = op->message_len[4];
        }
      p = gc_redis_record_put_length (p, strlen (MESSAGE_TYPE_FIELD) + prefix_len + rest_len);
      memcpy (p, MESSAGE_TYPE_FIELD, strlen (MESSAGE_TYPE_FIELD));
      p += strlen (MESSAGE_TYPE_FIELD);
      memcpy (p, prefix, prefix_len);
      p += prefix_len;
      memcpy (p, rest, rest_len);
      p += rest_len;
    }
  len = p - part->body;
  g_ptr_array_add (argv, part->body);
  g_array_append_val (argv_len, len);
}

/* Sends @parts (of BatchRoom, taken: one per room, its messages) in one
 * script call. */
static void
batch_send (GcRedisRooms *self,
            GPtrArray    *parts)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GArray) argv_len = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr(GError) error = NULL;
  char history_text[16], rooms_text[16];
  guint n_keys;
  Batch *batch;

  batch = g_new0 (Batch, 1);
  batch->rooms = g_object_ref (self);
  batch->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) batch_room_free);
  for (guint i = 0; i < parts->len; i++)
    {
      BatchRoom *part = g_ptr_array_index (parts, i);
      /* seq members history hcount */
      static const guint keys[] = { 0, 1, 3, 6 };

      g_ptr_array_add (batch->parts, part);
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        g_ptr_array_add (argv, part->room->keys[keys[k]]);
    }
  n_keys = argv->len;
  /* No history, no stream (and no repair of messages); else kept for
   * the welcome and for repair alike. */
  g_snprintf (history_text, sizeof history_text, "%u",
              self->history > 0 ? MAX (self->history, self->repair_messages) : 0);
  g_snprintf (rooms_text, sizeof rooms_text, "%u", parts->len);
  g_ptr_array_add (argv, history_text);
  g_ptr_array_add (argv, rooms_text);
  for (guint i = 0; i < argv->len; i++)
    {
      gsize len = strlen (argv->pdata[i]);

      g_array_append_val (argv_len, len);
    }
  for (guint i = 0; i < parts->len; i++)
    batch_room_args (g_ptr_array_index (parts, i), argv, argv_len);

  self->message_calls++;
  if (!gc_redis_client_eval (self->client, self->messages_script,
                             n_keys, argv->len, (const char **) argv->pdata,
                             (const gsize *) argv_len->data, on_batch_reply, batch, &error))
    on_batch_reply (NULL, error, batch);
}

/* Sends a room's waiting messages now. */
void
redis_room_flush (Room *room)
{
  g_autoptr(GPtrArray) parts = NULL;
  GPtrArray *ops;

  if (room->batch->len == 0)
    return;
  ops = g_steal_pointer (&room->batch);
  room->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) redis_op_free);
  parts = g_ptr_array_new ();
  g_ptr_array_add (parts, batch_room_new (room, ops));
  batch_send (room->rooms, parts);
}

/* Rooms in one message script call at most: a call blocks Redis while
 * it runs (~50 µs a room at 10 messages). */
#define MAX_CALL_ROOMS 32

/* Every room with messages waiting (and no flush in flight, or its
 * answer come) in one call, MAX_CALL_ROOMS at a time. */
static gboolean
flush_batches (gpointer user_data)
{
  GcRedisRooms *self = user_data;
  g_autoptr(GPtrArray) codes = self->batch_rooms;
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();

  self->flush_id = 0;
  self->batch_rooms = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < codes->len; i++)
    {
      Room *room = g_hash_table_lookup (self->rooms, g_ptr_array_index (codes, i));
      GPtrArray *ops;

      if (room == NULL || room->batch->len == 0)
        continue;
      ops = g_steal_pointer (&room->batch);
      room->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) redis_op_free);
      g_ptr_array_add (parts, batch_room_new (room, ops));
      if (parts->len == MAX_CALL_ROOMS)
        {
          batch_send (self, parts);
          g_ptr_array_set_size (parts, 0);
        }
    }
  if (parts->len > 0)
    batch_send (self, parts);
  return G_SOURCE_REMOVE;
}

/* How long a flush waits for more messages while this node has a
 * message call in flight (under load): Redis's cost is mostly per call
 * (~50k instructions) and per room batch (~100k), a message adds ~3k
 * (src/bench/redis-script-cost.py), so the rooms' messages of a
 * millisecond go in one call, in fewer and bigger room batches. */
#define FLUSH_HOLD_MS 1

/* Flushes @room's batch once this main-loop iteration is done, or, while
 * a message call of this node is in flight, flush_hold_ms later. */
static void
schedule_flush (GcRedisRooms *self,
                Room         *room)
{
  g_ptr_array_add (self->batch_rooms, g_strdup (room->code));
  if (self->flush_id != 0)
    return;
  if (self->message_calls > 0)
    self->flush_id = g_timeout_add_full (G_PRIORITY_DEFAULT, self->flush_hold_ms, flush_batches, self, NULL);
  else
    self->flush_id = g_idle_add_full (G_PRIORITY_DEFAULT, flush_batches, self, NULL);
}

/* A room's messages leave together (the script's cost to Redis is mostly
 * per call): those of one main-loop iteration, and while a flush of the
 * room is in flight, all that come until its answer and flush_hold_ms
 * after (so under load a batch grows to what arrives in one round trip
 * and more, and Redis's CPU per message falls, issue 13). A room's other changes flush them first, so
 * each member's requests keep their order. */
#define MAX_BATCH 64

static void
room_batch (Room *room,
            Op   *op)
{
  GcRedisRooms *self = room->rooms;

  g_ptr_array_add (room->batch, op);
  if (room->batch->len >= MAX_BATCH)
    redis_room_flush (room);
  else if (room->batch->len == 1 && room->flushes_sent <= room->flushes_answered)
    schedule_flush (self, room);
}

static Op *
op_new (GcRedisRooms          *self,
        const char            *code,
        OpType                 type,
        GcRedisScript         *script,
        GcRedisRoomResultFunc  func,
        gpointer               user_data,
        gsize                  message_size)
{
  gsize code_size = strlen (code) + 1;
  /* One block: the op, its room's code, then @message_size bytes for its
   * message (a node makes one per message it sends). */
  Op *op = g_malloc (sizeof (Op) + code_size + message_size);

  memset (op, 0, sizeof (Op));
  op->rooms = self;
  op->code = memcpy ((char *) (op + 1), code, code_size);
  if (message_size > 0)
    op->message = op->code + code_size;
  op->type = type;
  op->script = script;
  op->func = func;
  op->user_data = user_data;
  return op;
}

static void op_dispatch (GcRedisRooms *self, Op *op);

static void
op_submit (GcRedisRooms          *self,
           const char            *code,
           OpType                 type,
           GcRedisScript         *script,
           GcRedisRoomResultFunc  func,
           gpointer               user_data,
           ...)
{
  Op *op = op_new (self, code, type, script, func, user_data, 0);
  const char *arg;
  va_list ap;

  op->args = g_ptr_array_new_with_free_func (g_free);
  va_start (ap, user_data);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (op->args, g_strdup (arg));
  va_end (ap);
  op_dispatch (self, op);
}

/* The answer to every request of disposed rooms. */
static GError *
rooms_stopped_error (void)
{
  return g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_DOWN, "the Redis rooms were stopped");
}

static void
op_dispatch (GcRedisRooms *self,
             Op           *op)
{
  const char *code = op->code;
  OpType type = op->type;
  Room *room;

  /* Disposed (a waiting sender, told so, may send again from its
   * callback): no flush or command on an object about to go. */
  if (self->client == NULL)
    {
      g_autoptr(GError) error = rooms_stopped_error ();

      redis_op_fail (op, error);
      return;
    }
  room = g_hash_table_lookup (self->rooms, code);
  if (room == NULL || room->opened == 0)
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                                             "room %s is not open on this node", code);
      redis_op_fail (op, error);
      return;
    }
  /* Joins and resumes are never queued while Redis is away: the server
   * answers them 503 at once (issue 13, "Redis down"). */
  if ((type == OP_JOIN || type == OP_RESUME) && !gc_redis_client_is_up (self->client))
    {
      g_autoptr(GError) error = g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_DOWN,
                                                     "Redis is unreachable");
      redis_op_fail (op, error);
      return;
    }
  /* A synced room repairs whatever its subscription misses; the client
   * queues the command through a short loss of Redis. */
  if (room->synced)
    {
      if (type == OP_MESSAGE)
        room_batch (room, op);
      else
        {
          redis_room_flush (room);
          redis_op_run (op);
        }
      return;
    }
  /* A room new to this node: Redis must be there now (a join is refused
   * 503 otherwise), and the script runs only once subscribed, so that
   * nothing published after it is missed. */
  if (!gc_redis_client_is_up (self->client))
    {
      g_autoptr(GError) error = g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_DOWN,
                                                     "Redis is unreachable");
      redis_op_fail (op, error);
      return;
    }
  if (!room->subscribed || !gc_redis_client_is_subscribed (self->client, room->channel))
    {
      g_queue_push_tail (&room->waiting_ops, op);
      return;
    }
  redis_op_run (op);
}

/* Redis went away: operations waiting for a first subscription fail. */
static void
on_state_changed (GcRedisClient *client,
                  gboolean       up,
                  gpointer       user_data)
{
  GcRedisRooms *self = user_data;
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GPtrArray) failed = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  if (up)
    {
      redis_rooms_lease_on_up (self);
      return;
    }
  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Room *room = value;
      Op *op;

      room->subscribed = FALSE;
      while ((op = g_queue_pop_head (&room->waiting_ops)) != NULL)
        g_ptr_array_add (failed, op);
    }
  error = g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_DOWN, "Redis is unreachable");
  for (guint i = 0; i < failed->len; i++)
    redis_op_fail (g_ptr_array_index (failed, i), error);
}

void
gc_redis_rooms_join (GcRedisRooms          *self,
                     const char            *room,
                     const char            *name,
                     const char            *name_key,
                     const char            *user_id,
                     const char            *token_hash,
                     guint                  max_members,
                     guint64                since,
                     GcRedisRoomResultFunc  func,
                     gpointer               user_data)
{
  char max_text[16], events_text[16], since_text[24], history_text[16];

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  g_snprintf (history_text, sizeof history_text, "%u", self->history);
  g_snprintf (max_text, sizeof max_text, "%u", max_members);
  g_snprintf (events_text, sizeof events_text, "%u", MAX_EVENTS);
  g_snprintf (since_text, sizeof since_text, "%" G_GUINT64_FORMAT, since);
  op_submit (self, room, OP_JOIN, self->join_script, func, user_data,
             name, name_key, user_id, token_hash, self->node_id, max_text, events_text,
             since_text, room, history_text, NULL);
}

void
gc_redis_rooms_leave (GcRedisRooms          *self,
                      const char            *room,
                      const char            *name_key,
                      const char            *user_id,
                      const char            *reason,
                      GcRedisRoomResultFunc  func,
                      gpointer               user_data)
{
  char events_text[16];

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  g_snprintf (events_text, sizeof events_text, "%u", MAX_EVENTS);
  op_submit (self, room, OP_LEAVE, self->leave_script, func, user_data,
             name_key, user_id, reason, events_text, room, NULL);
}

void
gc_redis_rooms_message (GcRedisRooms          *self,
                        const char            *room,
                        const char            *name_key,
                        const char            *user_id,
                        const char            *name,
                        const char            *kind,
                        const char            *text,
                        const char            *client_id,
                        const char            *json_tail,
                        gsize                  json_tail_len,
                        GcRedisRoomResultFunc  func,
                        gpointer               user_data)
{
  Op *op;

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  /* In one allocation: the member's key, then the message record's
   * fields USER_ID and NAME (the sender's prefix), the rest after the
   * name (KIND TEXT CLIENT_ID HAS_CLIENT_ID), and JSON (the record
   * carries it instead of the rest when there is one), as the batch
   * script takes them (gc-redis-rooms-scripts.h). */
  {
    const char *cid = client_id != NULL ? client_id : "";
    gsize key_len = strlen (name_key), id_len = strlen (user_id), name_len = strlen (name);
    /* With its JSON (the server's case) the rest is never sent. */
    gsize kind_len = json_tail == NULL ? strlen (kind) : 0;
    gsize text_len = json_tail == NULL ? strlen (text) : 0;
    gsize cid_len = json_tail == NULL ? strlen (cid) : 0;
    char *p, *field;

    op = op_new (self, room, OP_MESSAGE, self->messages_script, func, user_data,
                 key_len + id_len + name_len + kind_len + text_len + cid_len + 1 +
                 json_tail_len + 7 * 21);
    p = op->message;
    memcpy (p, name_key, key_len);
    p += key_len;
    op->message_len[0] = key_len;
    field = p;
    p = gc_redis_record_put (p, user_id, id_len);
    op->message_len[1] = p - field;
    field = p;
    p = gc_redis_record_put (p, name, name_len);
    op->message_len[2] = p - field;
    field = p;
    if (json_tail == NULL)
      {
        p = gc_redis_record_put (p, kind, kind_len);
        p = gc_redis_record_put (p, text, text_len);
        p = gc_redis_record_put (p, cid, cid_len);
        p = gc_redis_record_put (p, client_id != NULL ? "1" : "0", 1);
      }
    op->message_len[3] = p - field;
    field = p;
    if (json_tail != NULL)
      p = gc_redis_record_put (p, json_tail, json_tail_len);
    op->message_len[4] = p - field;
  }
  op_dispatch (self, op);
}

void
gc_redis_rooms_rename (GcRedisRooms          *self,
                       const char            *room,
                       const char            *old_key,
                       const char            *new_name,
                       const char            *new_key,
                       const char            *user_id,
                       GcRedisRoomResultFunc  func,
                       gpointer               user_data)
{
  char events_text[16];

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  g_snprintf (events_text, sizeof events_text, "%u", MAX_EVENTS);
  op_submit (self, room, OP_RENAME, self->rename_script, func, user_data,
             old_key, new_key, new_name, user_id, events_text, NULL);
}

void
gc_redis_rooms_typing (GcRedisRooms          *self,
                       const char            *room,
                       const char            *name_key,
                       const char            *user_id,
                       gboolean               active,
                       GcRedisRoomResultFunc  func,
                       gpointer               user_data)
{
  char events_text[16];

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  g_snprintf (events_text, sizeof events_text, "%u", MAX_EVENTS);
  op_submit (self, room, OP_TYPING, self->typing_script, func, user_data,
             name_key, user_id, active ? "1" : "", events_text, NULL);
}

void
gc_redis_rooms_resume (GcRedisRooms          *self,
                       const char            *room,
                       const char            *name_key,
                       const char            *token_hash,
                       guint64                since,
                       GcRedisRoomResultFunc  func,
                       gpointer               user_data)
{
  char events_text[16], since_text[24], history_text[16];

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  g_snprintf (events_text, sizeof events_text, "%u", MAX_EVENTS);
  g_snprintf (since_text, sizeof since_text, "%" G_GUINT64_FORMAT, since);
  g_snprintf (history_text, sizeof history_text, "%u", self->history);
  op_submit (self, room, OP_RESUME, self->resume_script, func, user_data,
             name_key, token_hash, self->node_id, events_text, since_text, room, history_text, NULL);
}

/* --- the object ------------------------------------------------------------ */

void
gc_redis_rooms_set_history (GcRedisRooms *self,
                            guint         history)
{
  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  self->history = history;
}

void
gc_redis_rooms_set_flush_hold (GcRedisRooms *self,
                               guint         ms)
{
  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  self->flush_hold_ms = ms;
}

void
gc_redis_rooms_set_repair_messages (GcRedisRooms *self,
                                    guint         messages)
{
  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  self->repair_messages = messages;
}

void
gc_redis_rooms_set_event_func (GcRedisRooms        *self,
                               GcRedisRoomEventFunc func,
                               gpointer             user_data)
{
  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  self->event_func = func;
  self->event_data = user_data;
}

void
gc_redis_rooms_get_stats (GcRedisRooms      *self,
                          GcRedisRoomsStats *stats)
{
  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  *stats = self->stats;
}

GcRedisRooms *
gc_redis_rooms_new (GcRedisClient *client,
                    const char    *node_id)
{
  GcRedisRooms *self;

  g_return_val_if_fail (GC_IS_REDIS_CLIENT (client), NULL);
  g_return_val_if_fail (node_id != NULL, NULL);

  self = g_object_new (GC_TYPE_REDIS_ROOMS, NULL);
  self->client = g_object_ref (client);
  self->node_id = g_strdup (node_id);
  self->join_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_JOIN);
  self->leave_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_LEAVE);
  self->messages_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_MESSAGES);
  self->rename_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_RENAME);
  self->typing_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_TYPING);
  self->repair_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_REPAIR);
  self->resume_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_RESUME);
  self->renew_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_RENEW);
  self->sweep_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_SWEEP);
  gc_redis_client_set_message_func (client, redis_rooms_on_message, self);
  self->subscribed_id = g_signal_connect (client, "subscribed", G_CALLBACK (redis_rooms_on_subscribed), self);
  self->state_id = g_signal_connect (client, "state-changed", G_CALLBACK (on_state_changed), self);
  return self;
}

static void
gc_redis_rooms_dispose (GObject *object)
{
  GcRedisRooms *self = GC_REDIS_ROOMS (object);

  g_clear_handle_id (&self->renew_id, g_source_remove);
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->client != NULL)
    {
      g_clear_signal_handler (&self->subscribed_id, self->client);
      g_clear_signal_handler (&self->state_id, self->client);
      gc_redis_client_set_message_func (self->client, NULL, NULL);
      g_clear_object (&self->client);
    }
  /* Whoever waits for an answer gets one (a server's paused joins). */
  {
    g_autoptr(GPtrArray) waiting = g_ptr_array_new ();
    g_autoptr(GError) error = rooms_stopped_error ();
    GHashTableIter iter;
    gpointer value;
    Op *op;

    g_hash_table_iter_init (&iter, self->rooms);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      {
        Room *room = value;

        while ((op = g_queue_pop_head (&room->waiting_ops)) != NULL)
          g_ptr_array_add (waiting, op);
        while (room->batch->len > 0)
          g_ptr_array_add (waiting, g_ptr_array_steal_index (room->batch, 0));
      }
    for (guint i = 0; i < waiting->len; i++)
      redis_op_fail (g_ptr_array_index (waiting, i), error);
  }
  g_hash_table_remove_all (self->by_channel);
  g_hash_table_remove_all (self->rooms);

  G_OBJECT_CLASS (gc_redis_rooms_parent_class)->dispose (object);
}

static void
gc_redis_rooms_finalize (GObject *object)
{
  GcRedisRooms *self = GC_REDIS_ROOMS (object);

  g_hash_table_unref (self->rooms);
  g_hash_table_unref (self->by_channel);
  g_ptr_array_unref (self->batch_rooms);
  g_free (self->node_id);

  G_OBJECT_CLASS (gc_redis_rooms_parent_class)->finalize (object);
}

static void
gc_redis_rooms_class_init (GcRedisRoomsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_redis_rooms_dispose;
  object_class->finalize = gc_redis_rooms_finalize;

  /* ::room-lost (room): events of this open room were missed and the
   * streams no longer hold them; close its local members' connections
   * (1011) so they resume. The room syncs again on its next answer. */
  signals[SIGNAL_ROOM_LOST] =
    g_signal_new ("room-lost", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /* ::lease-changed (held): see gc_redis_rooms_start_lease(). */
  signals[SIGNAL_LEASE_CHANGED] =
    g_signal_new ("lease-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
gc_redis_rooms_init (GcRedisRooms *self)
{
  self->history = 100;
  self->repair_messages = REPAIR_MESSAGES;
  self->flush_hold_ms = FLUSH_HOLD_MS;
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, redis_room_free);
  self->by_channel = g_hash_table_new (g_str_hash, g_str_equal);
  self->batch_rooms = g_ptr_array_new_with_free_func (g_free);
}

GcRedisClient *
gc_redis_rooms_get_client (GcRedisRooms *self)
{
  g_return_val_if_fail (GC_IS_REDIS_ROOMS (self), NULL);

  return self->client;
}

