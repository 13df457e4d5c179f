/* gc-redis-rooms.c: rooms shared by several nodes through Redis
 *
 * Per open room the node keeps the last sequence it delivered. Events
 * arrive on the room's channel in sequence order (the scripts PUBLISH
 * inside Redis's one thread); one that skips a number, or a subscription
 * made again after a loss, starts a repair: one script returns the
 * records after the last delivered from both streams, and those are
 * delivered first. Events arriving meanwhile wait in the room's buffer.
 * When the streams no longer reach back, the room is lost (::room-lost):
 * the node closes its members' connections so that they resume.
 *
 * Until the first answer of a script on a room tells the node the
 * room's sequence, events wait in the buffer: the node's first member
 * must not see what happened before its join.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-rooms.h"
#include "gc-redis-rooms-scripts.h"

#include <stdlib.h>
#include <string.h>

/* Changes other than messages kept for repair, per room (approximately:
 * MAXLEN ~ keeps at least this many). */
#define MAX_EVENTS 1000

struct _GcRedisRooms {
  GObject parent_instance;

  GcRedisClient *client;
  char *node_id;
  guint history;
  GcRedisRoomEventFunc event_func;
  gpointer event_data;

  GcRedisScript *join_script;
  GcRedisScript *leave_script;
  GcRedisScript *message_script;
  GcRedisScript *rename_script;
  GcRedisScript *typing_script;
  GcRedisScript *repair_script;
  GcRedisScript *resume_script;
  GcRedisScript *renew_script;
  GcRedisScript *sweep_script;

  /* The lease. */
  guint lease_ms;
  guint resume_ms;
  guint renew_id;
  guint sweep_id;
  gboolean registered;     /* renewals may be fenced */
  gboolean renewing;
  gboolean sweeping;
  gboolean has_lease;
  gint64 lease_until_us;   /* monotonic: when the lease runs out */

  GHashTable *rooms;        /* code → Room */
  GHashTable *by_channel;   /* channel → Room (borrowed) */
  GPtrArray *batch_rooms;   /* codes of rooms with messages to flush */
  guint flush_id;
  gulong subscribed_id;
  gulong state_id;

  GcRedisRoomsStats stats;
};

G_DEFINE_FINAL_TYPE (GcRedisRooms, gc_redis_rooms, G_TYPE_OBJECT)

enum {
  SIGNAL_ROOM_LOST,
  SIGNAL_LEASE_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

typedef struct _Room Room;

typedef enum {
  OP_JOIN,
  OP_LEAVE,
  OP_MESSAGE,
  OP_RENAME,
  OP_TYPING,
  OP_RESUME,
} OpType;

typedef struct {
  /* Borrowed while it waits inside the rooms (a strong reference there
   * would keep them alive forever); strong while Redis has it. */
  GcRedisRooms *rooms;
  gboolean holds_ref;
  char *code;
  OpType type;
  GcRedisScript *script;
  GPtrArray *args;          /* of char*, ARGV */
  GcRedisRoomResultFunc func;
  gpointer user_data;
} Op;

struct _Room {
  GcRedisRooms *rooms;
  char *code;
  char *channel;
  char *keys[6];
  guint opened;
  gboolean subscribed;      /* confirmed since the last loss */
  gboolean synced;          /* last_seq is meaningful */
  gboolean repairing;
  gboolean repair_again;    /* subscribed again during a repair */
  guint64 last_seq;
  GQueue buffer;            /* of GcRedisRoomEvent, waiting */
  GQueue waiting_ops;       /* of Op, waiting for the subscription */
  GPtrArray *batch;         /* of Op: messages for the next flush */
  /* The event function may close the room it is called for: the room
   * then only leaves the tables, delivers nothing more and is freed once
   * the delivery loops are out (an idle). */
  guint delivering;
  gboolean closed;
};

static void room_process (Room *room);
static void room_repair  (Room *room);
static void room_flush   (Room *room);

/* --- records ------------------------------------------------------------- */

void
gc_redis_room_event_free (GcRedisRoomEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->record);
  g_free (event);
}

/* Splits LENGTH:BYTES fields in place (NULs replace the separators, so
 * each field is a C string). Returns the number of fields, or -1. */
static int
record_split (char   *record,
              gsize   length,
              char  **fields,
              int     max_fields)
{
  char *p = record, *end = record + length;
  int n = 0;

  while (p < end)
    {
      char *colon = memchr (p, ':', end - p);
      char *after;
      guint64 field_length;

      if (colon == NULL || n == max_fields)
        return -1;
      *colon = '\0';
      field_length = g_ascii_strtoull (p, &after, 10);
      if (after != colon || field_length > (guint64) (end - colon - 1))
        return -1;
      /* The byte after a field is the next field's first length digit:
       * move the field one byte back over its colon to end it with NUL. */
      memmove (p, colon + 1, field_length);
      p[field_length] = '\0';
      fields[n++] = p;
      p = colon + 1 + field_length;
    }
  return n;
}

static GcRedisRoomEvent *
event_parse (const char *data,
             gsize       length)
{
  g_autoptr(GcRedisRoomEvent) event = g_new0 (GcRedisRoomEvent, 1);
  char *f[12];
  int n;

  event->record = g_memdup2 (data, length + 1);
  event->record[length] = '\0';
  n = record_split (event->record, length, f, G_N_ELEMENTS (f));
  if (n < 4)
    return NULL;
  event->seq = g_ascii_strtoull (f[0], NULL, 10);
  event->ts_ms = g_ascii_strtoll (f[1], NULL, 10);
  event->user_id = f[3];

  if (strcmp (f[2], "join") == 0 && n == 7)
    {
      event->type = GC_REDIS_ROOM_EVENT_JOIN;
      event->name = f[4];
      event->name_key = f[5];
      event->node = f[6];
    }
  else if (strcmp (f[2], "leave") == 0 && n == 7)
    {
      event->type = GC_REDIS_ROOM_EVENT_LEAVE;
      event->name = f[4];
      event->name_key = f[5];
      event->reason = f[6];
    }
  else if (strcmp (f[2], "message") == 0 && n == 9)
    {
      event->type = GC_REDIS_ROOM_EVENT_MESSAGE;
      event->name = f[4];
      event->kind = f[5];
      event->text = f[6];
      event->client_id = strcmp (f[8], "1") == 0 ? f[7] : NULL;
    }
  else if (strcmp (f[2], "rename") == 0 && n == 8)
    {
      event->type = GC_REDIS_ROOM_EVENT_RENAME;
      event->name = f[4];
      event->old_name = f[5];
      event->name_key = f[6];
      event->old_key = f[7];
    }
  else if (strcmp (f[2], "resume") == 0 && n == 8)
    {
      event->type = GC_REDIS_ROOM_EVENT_RESUME;
      event->name = f[4];
      event->name_key = f[5];
      event->node = f[6];
      event->old_node = f[7];
    }
  else if (strcmp (f[2], "typing") == 0 && n == 6)
    {
      event->type = GC_REDIS_ROOM_EVENT_TYPING;
      event->name = f[4];
      event->active = strcmp (f[5], "1") == 0;
    }
  else
    return NULL;
  if (event->seq == 0)
    return NULL;
  return g_steal_pointer (&event);
}

static void
member_free (gpointer data)
{
  GcRedisRoomMember *member = data;

  g_free (member->user_id);
  g_free (member->name);
  g_free (member->name_key);
  g_free (member->node);
  g_free (member);
}

static int
member_compare (gconstpointer a,
                gconstpointer b)
{
  const GcRedisRoomMember *ma = *(GcRedisRoomMember **) a;
  const GcRedisRoomMember *mb = *(GcRedisRoomMember **) b;

  return ma->joined_seq < mb->joined_seq ? -1 : ma->joined_seq > mb->joined_seq;
}

/* --- rooms --------------------------------------------------------------- */

static void op_free (Op *op);

static void
room_free (gpointer data)
{
  Room *room = data;

  g_queue_clear_full (&room->buffer, (GDestroyNotify) gc_redis_room_event_free);
  g_queue_clear_full (&room->waiting_ops, (GDestroyNotify) op_free);
  g_ptr_array_unref (room->batch);
  g_free (room->code);
  g_free (room->channel);
  for (guint i = 0; i < G_N_ELEMENTS (room->keys); i++)
    g_free (room->keys[i]);
  g_free (room);
}

static gboolean
room_free_later (gpointer data)
{
  room_free (data);
  return G_SOURCE_REMOVE;
}

static Room *
room_get (GcRedisRooms *self,
          const char   *code)
{
  Room *room = g_hash_table_lookup (self->rooms, code);
  static const char *suffixes[] = { "seq", "members", "tokens", "history", "events", "nodes" };

  if (room != NULL)
    return room;
  room = g_new0 (Room, 1);
  room->rooms = self;
  room->code = g_strdup (code);
  room->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) op_free);
  /* {CODE}: a hash tag, every key of a room in one slot. */
  room->channel = g_strdup_printf ("gc:{%s}:ch", code);
  for (guint i = 0; i < G_N_ELEMENTS (room->keys); i++)
    room->keys[i] = g_strdup_printf ("gc:{%s}:%s", code, suffixes[i]);
  g_hash_table_insert (self->rooms, room->code, room);
  g_hash_table_insert (self->by_channel, room->channel, room);
  return room;
}

static void
room_deliver (Room             *room,
              GcRedisRoomEvent *event)
{
  GcRedisRooms *self = room->rooms;

  if (room->closed)
    return;
  room->last_seq = event->seq;
  room->delivering++;
  if (self->event_func != NULL)
    self->event_func (room->code, event, self->event_data);
  room->delivering--;
}

static void
room_lost (Room *room)
{
  GcRedisRooms *self = room->rooms;

  g_message ("room %s: events were lost and cannot be repaired", room->code);
  self->stats.lost_rooms++;
  room->synced = FALSE;
  g_queue_clear_full (&room->buffer, (GDestroyNotify) gc_redis_room_event_free);
  g_signal_emit (self, signals[SIGNAL_ROOM_LOST], 0, room->code);
}

static int
event_compare (gconstpointer a,
               gconstpointer b)
{
  const GcRedisRoomEvent *ea = *(GcRedisRoomEvent **) a, *eb = *(GcRedisRoomEvent **) b;

  return ea->seq < eb->seq ? -1 : ea->seq > eb->seq;
}

typedef struct {
  GcRedisRooms *rooms;
  char *code;
} RepairData;

static void
on_repaired (const redisReply *reply,
             const GError     *error,
             gpointer          user_data)
{
  RepairData *data = user_data;
  GcRedisRooms *self = data->rooms;
  Room *room = g_hash_table_lookup (self->rooms, data->code);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_redis_room_event_free);
  guint64 current;

  if (room == NULL || !room->repairing)
    goto out;
  room->repairing = FALSE;

  if (error != NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
      reply->element[1]->type != REDIS_REPLY_STRING ||
      reply->element[2]->type != REDIS_REPLY_ARRAY)
    {
      /* Redis is away: what was missed cannot be known. */
      room->repair_again = FALSE;
      room_lost (room);
      goto out;
    }

  current = g_ascii_strtoull (reply->element[1]->str, NULL, 10);
  for (size_t i = 0; i < reply->element[2]->elements; i++)
    {
      redisReply *r = reply->element[2]->element[i];
      GcRedisRoomEvent *event = r->type == REDIS_REPLY_STRING ? event_parse (r->str, r->len) : NULL;

      if (event != NULL)
        g_ptr_array_add (events, event);
    }
  /* Both streams, merged in sequence order. */
  g_ptr_array_sort (events, event_compare);
  for (guint i = 0; i < events->len; i++)
    {
      GcRedisRoomEvent *event = g_ptr_array_index (events, i);

      if (event->seq <= room->last_seq)
        continue;
      if (event->seq != room->last_seq + 1)
        break;
      self->stats.repaired_events++;
      room_deliver (room, event);
    }
  self->stats.repairs++;
  if (room->closed)
    goto out;

  /* The streams must have reached the room's current sequence (or the
   * oldest event waiting in the buffer, which came after). */
  {
    GcRedisRoomEvent *head = g_queue_peek_head (&room->buffer);
    guint64 needed = current;

    if (head != NULL && head->seq - 1 < needed)
      needed = head->seq - 1;
    /* No sequence: Redis lost the room (a restart), members and all,
     * while this node still has members there. */
    if (current == 0 || room->last_seq < needed)
      {
        room->repair_again = FALSE;
        room_lost (room);
        goto out;
      }
  }
  if (room->repair_again)
    {
      room->repair_again = FALSE;
      room_repair (room);
      goto out;
    }
  room_process (room);

out:
  g_object_unref (data->rooms);
  g_free (data->code);
  g_free (data);
}

static void
room_repair (Room *room)
{
  GcRedisRooms *self = room->rooms;
  g_autofree char *last = g_strdup_printf ("%" G_GUINT64_FORMAT, room->last_seq);
  const char *argv[7] = { room->keys[0], room->keys[1], room->keys[2], room->keys[3],
                          room->keys[4], room->keys[5], last };
  g_autoptr(GError) error = NULL;
  RepairData *data;

  /* A repair in flight may have run before what this one is for (the
   * subscription was lost again meanwhile): another follows it. */
  if (room->repairing)
    {
      room->repair_again = TRUE;
      return;
    }
  room->repairing = TRUE;
  data = g_new0 (RepairData, 1);
  data->rooms = g_object_ref (self);
  data->code = g_strdup (room->code);
  if (!gc_redis_client_eval (self->client, self->repair_script, 6, 7, argv, NULL,
                             on_repaired, data, &error))
    on_repaired (NULL, error, data);
}

/* Delivers what the buffer holds in order; a gap starts a repair. */
static void
room_process (Room *room)
{
  GcRedisRoomEvent *event;

  if (!room->synced || room->repairing || room->closed)
    return;
  while ((event = g_queue_peek_head (&room->buffer)) != NULL && !room->closed)
    {
      if (event->seq <= room->last_seq)
        {
          gc_redis_room_event_free (g_queue_pop_head (&room->buffer));
          continue;
        }
      if (event->seq != room->last_seq + 1)
        {
          room_repair (room);
          return;
        }
      g_queue_pop_head (&room->buffer);
      room_deliver (room, event);
      gc_redis_room_event_free (event);
    }
}

static void
room_receive (Room             *room,
              GcRedisRoomEvent *event)
{
  /* The fast path: in order, nothing waiting. */
  if (room->synced && !room->repairing && room->buffer.length == 0 &&
      event->seq == room->last_seq + 1)
    {
      room_deliver (room, event);
      gc_redis_room_event_free (event);
      return;
    }
  g_queue_push_tail (&room->buffer, event);
  room_process (room);
}

/* A channel's payload: records, each as LENGTH:RECORD. */
static void
on_message (const char *channel,
            const char *payload,
            gsize       length,
            gpointer    user_data)
{
  GcRedisRooms *self = user_data;
  Room *room = g_hash_table_lookup (self->by_channel, channel);
  const char *p = payload, *end = payload + length;

  if (room == NULL || room->opened == 0)
    return;
  while (p < end)
    {
      const char *colon = memchr (p, ':', end - p);
      GcRedisRoomEvent *event = NULL;
      char *after;
      guint64 record_length;

      if (colon != NULL)
        {
          record_length = g_ascii_strtoull (p, &after, 10);
          if (after == colon && record_length <= (guint64) (end - colon - 1))
            event = event_parse (colon + 1, record_length);
        }
      if (event == NULL)
        {
          g_warning ("room %s: an unreadable record on its channel", room->code);
          return;
        }
      p = colon + 1 + record_length;
      room_receive (room, event);
      /* Delivering may have closed the room. */
      room = g_hash_table_lookup (self->by_channel, channel);
      if (room == NULL || room->opened == 0)
        return;
    }
}

static void op_run (Op *op);

static void
on_subscribed (GcRedisClient *client,
               const char    *channel,
               gpointer       user_data)
{
  GcRedisRooms *self = user_data;
  Room *room = g_hash_table_lookup (self->by_channel, channel);
  Op *op;

  if (room == NULL)
    return;
  room->subscribed = TRUE;
  /* Subscribed again after a loss: whatever was published meanwhile. */
  if (room->synced)
    room_repair (room);
  while ((op = g_queue_pop_head (&room->waiting_ops)) != NULL)
    op_run (op);
}

void
gc_redis_rooms_open (GcRedisRooms *self,
                     const char   *code)
{
  Room *room;

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));
  g_return_if_fail (code != NULL);

  room = room_get (self, code);
  if (room->opened++ == 0)
    gc_redis_client_subscribe (self->client, room->channel);
}

void
gc_redis_rooms_close (GcRedisRooms *self,
                      const char   *code)
{
  Room *room;
  Op *op;

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  room = g_hash_table_lookup (self->rooms, code);
  g_return_if_fail (room != NULL && room->opened > 0);
  if (--room->opened > 0)
    return;
  room_flush (room);
  /* A last leave may still wait for the subscription: nothing more is
   * delivered here, so it need not wait. */
  while ((op = g_queue_pop_head (&room->waiting_ops)) != NULL)
    op_run (op);
  gc_redis_client_unsubscribe (self->client, room->channel);
  g_hash_table_remove (self->by_channel, room->channel);
  if (room->delivering > 0)
    {
      /* Called from the event function: the loop that called it still
       * uses the room (the reviewer's use-after-free). */
      g_hash_table_steal (self->rooms, room->code);
      room->closed = TRUE;
      g_idle_add_full (G_PRIORITY_DEFAULT, room_free_later, room, NULL);
      return;
    }
  g_hash_table_remove (self->rooms, room->code);
}

/* --- operations ---------------------------------------------------------- */

static void
op_free (Op *op)
{
  if (op->holds_ref)
    g_object_unref (op->rooms);
  g_free (op->code);
  g_ptr_array_unref (op->args);
  g_free (op);
}

static void
op_fail (Op           *op,
         const GError *error)
{
  if (op->func != NULL)
    op->func (NULL, error, op->user_data);
  op_free (op);
}

/* The first answer on a room not yet synced gives its sequence. */
static void
room_sync (Room    *room,
           guint64  seq)
{
  /* 0: the room does not exist in Redis; its next sequence is not known
   * until a join creates it. */
  if (room->synced || seq == 0)
    return;
  room->synced = TRUE;
  room->last_seq = seq;
  room_process (room);
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
      op_fail (op, error);
      return;
    }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
      reply->element[0]->type != REDIS_REPLY_STRING ||
      reply->element[1]->type != REDIS_REPLY_STRING)
    {
      g_autoptr(GError) bad = g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_REPLY,
                                                   "unexpected reply from a room script");
      op_fail (op, bad);
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

      result.members = g_ptr_array_new_with_free_func (member_free);
      for (size_t i = 0; i < members->elements && i < keys->elements; i++)
        {
          g_autofree char *record = g_memdup2 (members->element[i]->str, members->element[i]->len + 1);
          char *f[5];

          record[members->element[i]->len] = '\0';
          if (record_split (record, members->element[i]->len, f, 5) == 5)
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
      g_ptr_array_sort (result.members, member_compare);

      result.history = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_redis_room_event_free);
      for (size_t i = 0; i < history->elements; i++)
        {
          GcRedisRoomEvent *event = event_parse (history->element[i]->str, history->element[i]->len);

          if (event != NULL)
            g_ptr_array_add (result.history, event);
        }
    }

  if (op->type == OP_RESUME && result.status == GC_REDIS_ROOM_OK && reply->elements == 7 &&
      reply->element[6]->type == REDIS_REPLY_STRING)
    result.user_id = reply->element[6]->str;

  /* Sync before the caller hears of it: for a join, the events after
   * its seq are then delivered in order right after. The caller's
   * callback runs first, so it can register its member before them. */
  if (op->func != NULL)
    op->func (&result, NULL, op->user_data);
  /* Looked up after: the callback may have closed it. */
  room = g_hash_table_lookup (self->rooms, op->code);
  if (room != NULL && room->opened > 0)
    room_sync (room, seq);

  g_clear_pointer (&result.members, g_ptr_array_unref);
  g_clear_pointer (&result.history, g_ptr_array_unref);
  g_clear_pointer (&result.taken_keys, g_hash_table_unref);
  op_free (op);
}

static void
op_run (Op *op)
{
  GcRedisRooms *self = op->rooms;
  Room *room = g_hash_table_lookup (self->rooms, op->code);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  guint n_keys;

  /* Messages name only the keys they touch: Redis copies every key and
   * argument into Lua for each call. */
  if (op->type == OP_MESSAGE)
    {
      g_ptr_array_add (argv, room->keys[0]);
      g_ptr_array_add (argv, room->keys[1]);
      g_ptr_array_add (argv, room->keys[3]);
    }
  else
    for (guint i = 0; i < G_N_ELEMENTS (room->keys); i++)
      g_ptr_array_add (argv, room->keys[i]);
  n_keys = argv->len;
  g_ptr_array_add (argv, room->channel);
  if (!op->holds_ref)
    {
      g_object_ref (op->rooms);
      op->holds_ref = TRUE;
    }
  for (guint i = 0; i < op->args->len; i++)
    g_ptr_array_add (argv, g_ptr_array_index (op->args, i));

  if (!gc_redis_client_eval (self->client, op->script, n_keys, argv->len,
                             (const char **) argv->pdata,
                             NULL, on_op_reply, op, &error))
    op_fail (op, error);
}

typedef struct {
  GcRedisRooms *rooms;
  GPtrArray *ops;
} Batch;

static void
on_batch_reply (const redisReply *reply,
                const GError     *error,
                gpointer          user_data)
{
  Batch *batch = user_data;
  g_autoptr(GError) bad = NULL;

  if (error == NULL && (reply->type != REDIS_REPLY_ARRAY ||
                        reply->elements != batch->ops->len * 3))
    error = bad = g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_REPLY,
                                       "unexpected reply from the message script");
  for (guint i = 0; i < batch->ops->len; i++)
    {
      Op *op = g_ptr_array_index (batch->ops, i);
      GcRedisRoomResult result = { 0 };

      if (error != NULL)
        {
          if (op->func != NULL)
            op->func (NULL, error, op->user_data);
          continue;
        }
      result.status = strcmp (reply->element[i * 3]->str, "ok") == 0 ? GC_REDIS_ROOM_OK
                                                                      : GC_REDIS_ROOM_GONE;
      if (result.status == GC_REDIS_ROOM_OK)
        {
          result.seq = g_ascii_strtoull (reply->element[i * 3 + 1]->str, NULL, 10);
          result.ts_ms = g_ascii_strtoll (reply->element[i * 3 + 2]->str, NULL, 10);
        }
      if (op->func != NULL)
        op->func (&result, NULL, op->user_data);
    }
  g_ptr_array_unref (batch->ops);
  g_object_unref (batch->rooms);
  g_free (batch);
}

/* Sends a room's waiting messages in one script call. */
static void
room_flush (Room *room)
{
  GcRedisRooms *self = room->rooms;
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) error = NULL;
  char n_text[16];
  Batch *batch;

  if (room->batch->len == 0)
    return;
  batch = g_new0 (Batch, 1);
  batch->rooms = g_object_ref (self);
  batch->ops = g_steal_pointer (&room->batch);
  room->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) op_free);

  g_snprintf (n_text, sizeof n_text, "%u", batch->ops->len);
  argv = g_ptr_array_new ();
  g_ptr_array_add (argv, room->keys[0]);
  g_ptr_array_add (argv, room->keys[1]);
  g_ptr_array_add (argv, room->keys[3]);
  g_ptr_array_add (argv, room->channel);
  /* Every message op's args: history "1" then its six. */
  g_ptr_array_add (argv, g_ptr_array_index (((Op *) batch->ops->pdata[0])->args, 0));
  g_ptr_array_add (argv, n_text);
  for (guint i = 0; i < batch->ops->len; i++)
    {
      Op *op = g_ptr_array_index (batch->ops, i);

      for (guint j = 2; j < op->args->len; j++)
        g_ptr_array_add (argv, g_ptr_array_index (op->args, j));
    }
  if (!gc_redis_client_eval (self->client, self->message_script, 3, argv->len,
                             (const char **) argv->pdata, NULL, on_batch_reply, batch, &error))
    on_batch_reply (NULL, error, batch);
}

static gboolean
flush_batches (gpointer user_data)
{
  GcRedisRooms *self = user_data;
  g_autoptr(GPtrArray) codes = self->batch_rooms;

  self->flush_id = 0;
  self->batch_rooms = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < codes->len; i++)
    {
      Room *room = g_hash_table_lookup (self->rooms, g_ptr_array_index (codes, i));

      if (room != NULL)
        room_flush (room);
    }
  return G_SOURCE_REMOVE;
}

/* Messages of one main-loop iteration to a room leave together (the
 * script's cost is mostly per call); a room's other changes flush them
 * first, so each member's requests keep their order. */
#define MAX_BATCH 64

static void
room_batch (Room *room,
            Op   *op)
{
  GcRedisRooms *self = room->rooms;

  g_ptr_array_add (room->batch, op);
  if (room->batch->len == 1)
    g_ptr_array_add (self->batch_rooms, g_strdup (room->code));
  if (room->batch->len >= MAX_BATCH)
    room_flush (room);
  else if (self->flush_id == 0)
    self->flush_id = g_idle_add_full (G_PRIORITY_DEFAULT, flush_batches, self, NULL);
}

static void
op_submit (GcRedisRooms          *self,
           const char            *code,
           OpType                 type,
           GcRedisScript         *script,
           GcRedisRoomResultFunc  func,
           gpointer               user_data,
           ...)
{
  Op *op = g_new0 (Op, 1);
  Room *room;
  const char *arg;
  va_list ap;

  op->rooms = self;
  op->code = g_strdup (code);
  op->type = type;
  op->script = script;
  op->func = func;
  op->user_data = user_data;
  op->args = g_ptr_array_new_with_free_func (g_free);
  va_start (ap, user_data);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (op->args, g_strdup (arg));
  va_end (ap);

  room = g_hash_table_lookup (self->rooms, code);
  if (room == NULL || room->opened == 0)
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                                             "room %s is not open on this node", code);
      op_fail (op, error);
      return;
    }
  /* Joins and resumes are never queued while Redis is away: the server
   * answers them 503 at once (issue 13, "Redis down"). */
  if ((type == OP_JOIN || type == OP_RESUME) && !gc_redis_client_is_up (self->client))
    {
      g_autoptr(GError) error = g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_DOWN,
                                                     "Redis is unreachable");
      op_fail (op, error);
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
          room_flush (room);
          op_run (op);
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
      op_fail (op, error);
      return;
    }
  if (!room->subscribed || !gc_redis_client_is_subscribed (self->client, room->channel))
    {
      g_queue_push_tail (&room->waiting_ops, op);
      return;
    }
  op_run (op);
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
    return;
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
    op_fail (g_ptr_array_index (failed, i), error);
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
                        const char            *kind,
                        const char            *text,
                        const char            *client_id,
                        GcRedisRoomResultFunc  func,
                        gpointer               user_data)
{
  char history_text[16];

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  g_snprintf (history_text, sizeof history_text, "%u", self->history);
  /* The message script takes a batch: one, alone. */
  op_submit (self, room, OP_MESSAGE, self->message_script, func, user_data,
             history_text, "1", name_key, user_id, kind, text,
             client_id != NULL ? client_id : "", client_id != NULL ? "1" : "0", NULL);
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

/* --- the lease ------------------------------------------------------------- */

static void
set_has_lease (GcRedisRooms *self,
               gboolean      held)
{
  if (self->has_lease == held)
    return;
  self->has_lease = held;
  if (!held)
    g_message ("node %s: no lease; it must not serve", self->node_id);
  g_signal_emit (self, signals[SIGNAL_LEASE_CHANGED], 0, held);
}

typedef struct {
  GcRedisRooms *rooms;
  gint64 sent_us;
} RenewData;

static void
on_renewed (const redisReply *reply,
            const GError     *error,
            gpointer          user_data)
{
  RenewData *data = user_data;
  GcRedisRooms *self = data->rooms;

  self->renewing = FALSE;
  if (error == NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
      reply->element[0]->type == REDIS_REPLY_STRING)
    {
      if (strcmp (reply->element[0]->str, "ok") == 0)
        {
          self->registered = TRUE;
          /* Counted from the request: Redis set expiry later than that. */
          self->lease_until_us = data->sent_us + (gint64) self->lease_ms * 1000;
          self->stats.nodes = g_ascii_strtoull (reply->element[1]->str, NULL, 10);
          set_has_lease (self, TRUE);
        }
      else
        {
          /* Swept as dead: its members were handed over. It starts a new
           * life with no members, once the server dropped them all. */
          g_message ("node %s: its lease ran out and its members were handed over",
                     self->node_id);
          self->registered = FALSE;
          self->lease_until_us = 0;
          set_has_lease (self, FALSE);
        }
    }
  g_object_unref (data->rooms);
  g_free (data);
}

static gboolean
renew_lease (gpointer user_data)
{
  GcRedisRooms *self = user_data;
  char lease_text[16];
  const char *argv[4] = { "gc:nodes", self->node_id, lease_text, NULL };
  g_autoptr(GError) error = NULL;
  RenewData *data;

  /* Ran out without a renewal (Redis away): stop serving at once. */
  if (self->has_lease && g_get_monotonic_time () >= self->lease_until_us)
    set_has_lease (self, FALSE);
  if (self->renewing)
    return G_SOURCE_CONTINUE;

  g_snprintf (lease_text, sizeof lease_text, "%u", self->lease_ms);
  argv[3] = self->registered ? "0" : "1";
  data = g_new0 (RenewData, 1);
  data->rooms = g_object_ref (self);
  data->sent_us = g_get_monotonic_time ();
  self->renewing = TRUE;
  if (!gc_redis_client_eval (self->client, self->renew_script, 1, 4, argv, NULL,
                             on_renewed, data, &error))
    {
      self->renewing = FALSE;
      g_object_unref (data->rooms);
      g_free (data);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_swept (const redisReply *reply,
          const GError     *error,
          gpointer          user_data)
{
  GcRedisRooms *self = user_data;

  self->sweeping = FALSE;
  if (error == NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3)
    {
      self->stats.swept_nodes += g_ascii_strtoull (reply->element[1]->str, NULL, 10);
      self->stats.timeouts += g_ascii_strtoull (reply->element[2]->str, NULL, 10);
    }
  g_object_unref (self);
}

static gboolean
sweep (gpointer user_data)
{
  GcRedisRooms *self = user_data;
  char resume_text[16], events_text[16];
  const char *argv[4] = { "gc:nodes", "gc:expiring", resume_text, events_text };
  g_autoptr(GError) error = NULL;

  /* Only a node that may serve judges others; one sweep at a time. */
  if (self->sweeping || !self->has_lease || !gc_redis_client_is_up (self->client))
    return G_SOURCE_CONTINUE;
  g_snprintf (resume_text, sizeof resume_text, "%u", self->resume_ms);
  g_snprintf (events_text, sizeof events_text, "%u", MAX_EVENTS);
  self->sweeping = TRUE;
  if (!gc_redis_client_eval (self->client, self->sweep_script, 2, 4, argv, NULL,
                             on_swept, g_object_ref (self), &error))
    {
      self->sweeping = FALSE;
      g_object_unref (self);
    }
  return G_SOURCE_CONTINUE;
}

void
gc_redis_rooms_start_lease (GcRedisRooms *self,
                            guint         lease_ms,
                            guint         resume_ms)
{
  g_return_if_fail (GC_IS_REDIS_ROOMS (self));
  g_return_if_fail (lease_ms >= 30);
  g_return_if_fail (self->renew_id == 0);

  self->lease_ms = lease_ms;
  self->resume_ms = resume_ms;
  self->renew_id = g_timeout_add (lease_ms / 3, renew_lease, self);
  /* Often, so that a dead node's members wait no longer than the lease,
   * the resume window and this. */
  self->sweep_id = g_timeout_add (MIN (250, lease_ms / 4), sweep, self);
  renew_lease (self);
}

typedef struct {
  GcRedisRoomResultFunc func;
  gpointer user_data;
} DrainData;

static void
on_drained (const redisReply *reply,
            const GError     *error,
            gpointer          user_data)
{
  DrainData *data = user_data;
  GcRedisRoomResult result = { GC_REDIS_ROOM_OK };

  if (data->func != NULL)
    data->func (error == NULL ? &result : NULL, error, data->user_data);
  g_free (data);
}

void
gc_redis_rooms_drain (GcRedisRooms          *self,
                      GcRedisRoomResultFunc  func,
                      gpointer               user_data)
{
  g_autoptr(GError) error = NULL;
  DrainData *data;

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  g_clear_handle_id (&self->renew_id, g_source_remove);
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  data = g_new0 (DrainData, 1);
  data->func = func;
  data->user_data = user_data;
  /* XX: a node already swept stays gone. Expiry 0 is long past. */
  if (!gc_redis_client_command (self->client, on_drained, data, &error,
                                "ZADD", "gc:nodes", "XX", "0", self->node_id, NULL))
    on_drained (NULL, error, data);
}

gboolean
gc_redis_rooms_has_lease (GcRedisRooms *self)
{
  g_return_val_if_fail (GC_IS_REDIS_ROOMS (self), FALSE);

  return self->has_lease;
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
  self->message_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_MESSAGE);
  self->rename_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_RENAME);
  self->typing_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_TYPING);
  self->repair_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_REPAIR);
  self->resume_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_RESUME);
  self->renew_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_RENEW);
  self->sweep_script = gc_redis_client_add_script (client, GC_REDIS_ROOMS_LUA_SWEEP);
  gc_redis_client_set_message_func (client, on_message, self);
  self->subscribed_id = g_signal_connect (client, "subscribed", G_CALLBACK (on_subscribed), self);
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
    g_autoptr(GError) error = g_error_new_literal (GC_REDIS_ERROR, GC_REDIS_ERROR_DOWN,
                                                   "the Redis rooms were stopped");
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
      op_fail (g_ptr_array_index (waiting, i), error);
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
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, room_free);
  self->by_channel = g_hash_table_new (g_str_hash, g_str_equal);
  self->batch_rooms = g_ptr_array_new_with_free_func (g_free);
}

GcRedisClient *
gc_redis_rooms_get_client (GcRedisRooms *self)
{
  g_return_val_if_fail (GC_IS_REDIS_ROOMS (self), NULL);

  return self->client;
}
