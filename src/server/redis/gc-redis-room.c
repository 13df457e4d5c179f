/* gc-redis-room.c: one open room of GcRedisRooms: ordered delivery and
 * gap repair
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

#include "gc-redis-rooms-private.h"

#include <string.h>

static void room_process (Room *room);
static void room_repair  (Room *room);

void
redis_room_free (gpointer data)
{
  Room *room = data;

  g_queue_clear_full (&room->buffer, (GDestroyNotify) gc_redis_room_event_free);
  g_queue_clear_full (&room->waiting_ops, (GDestroyNotify) redis_op_free);
  g_ptr_array_unref (room->batch);
  g_free (room->code);
  g_free (room->channel);
  for (guint i = 0; i < G_N_ELEMENTS (room->keys); i++)
    g_free (room->keys[i]);
  g_free (room);
}

static gboolean
redis_room_free_later (gpointer data)
{
  redis_room_free (data);
  return G_SOURCE_REMOVE;
}

Room *
redis_room_get (GcRedisRooms *self,
          const char   *code)
{
  Room *room = g_hash_table_lookup (self->rooms, code);
  static const char *suffixes[] = { "seq", "members", "tokens", "history", "events", "nodes", "hcount" };

  if (room != NULL)
    return room;
  room = g_new0 (Room, 1);
  room->rooms = self;
  room->code = g_strdup (code);
  room->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) redis_op_free);
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
  redis_rooms_emit_room_lost (self, room->code);
}

int
redis_event_compare (gconstpointer a,
                     gconstpointer b)
{
  const GcRedisRoomEvent *ea = *(GcRedisRoomEvent **) a, *eb = *(GcRedisRoomEvent **) b;

  return ea->seq < eb->seq ? -1 : ea->seq > eb->seq;
}

typedef struct {
  GcRedisRooms *rooms;
  char *code;
  guint sync_generation;
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

  if (room == NULL || !room->repairing || room->sync_generation != data->sync_generation)
    goto out;
  room->repairing = FALSE;

  if (error != NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 4 ||
      reply->element[1]->type != REDIS_REPLY_STRING ||
      reply->element[2]->type != REDIS_REPLY_ARRAY ||
      reply->element[3]->type != REDIS_REPLY_ARRAY)
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
      GcRedisRoomEvent *event = r->type == REDIS_REPLY_STRING ? gc_redis_event_parse (r->str, r->len) : NULL;

      if (event != NULL)
        g_ptr_array_add (events, event);
    }
  /* History entries hold a call's messages each, as head and body. */
  gc_redis_history_parse (reply->element[3], events);
  /* Both streams, merged in sequence order. */
  g_ptr_array_sort (events, redis_event_compare);
  /* A delivery may unsync the room (its last local member gone): the
   * rest was for the old sequence. */
  for (guint i = 0; i < events->len && room->synced && !room->closed; i++)
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
  if (room->closed || !room->synced)
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
  data->sync_generation = room->sync_generation;
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
  /* A delivery may close or unsync the room. */
  while ((event = g_queue_peek_head (&room->buffer)) != NULL && !room->closed && room->synced)
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

/* The next event would go out at once (room_receive()'s fast path). */
static gboolean
room_in_step (Room    *room,
              guint64  seq)
{
  return room->synced && !room->repairing && !room->closed && room->buffer.length == 0 &&
         seq == room->last_seq + 1;
}

/* A batch's body parsed into events, each received as one: FALSE,
 * having received none, if one of its items is unreadable. */
static gboolean
room_receive_batch_events (Room       *room,
                           const char *channel,
                           guint64     seq,
                           gint64      ts,
                           const char *body,
                           gsize       body_length)
{
  GcRedisRooms *self = room->rooms;
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_redis_room_event_free);

  if (!gc_redis_batch_body_parse (seq, ts, body, body_length, events))
    return FALSE;
  for (guint i = 0; i < events->len; i++)
    {
      /* Delivering may have closed the room: the rest is freed. */
      room_receive (room, g_steal_pointer (&events->pdata[i]));
      room = g_hash_table_lookup (self->by_channel, channel);
      if (room == NULL || room->opened == 0)
        break;
    }
  return TRUE;
}

/* A batch's body: its messages, from @seq on, at @ts. Most come in step
 * and hold only messages with their JSON: those are delivered from the
 * payload as it is, with no event allocated or copied (issue 13: each
 * node does this for every message of its rooms); the others wait in the
 * buffer as events. FALSE, having delivered nothing, if one of its items
 * is unreadable. */
static gboolean
room_receive_batch (Room       *room,
                    const char *channel,
                    guint64     seq,
                    gint64      ts,
                    const char *body,
                    gsize       body_length)
{
  GcRedisRooms *self = room->rooms;
  typedef struct {
    const char *item;
    gsize length;
    GcRedisBatchItem read;
  } BatchItem;
  const char *p, *end = body + body_length;
  BatchItem stack_items[64], *items = stack_items;
  g_autofree BatchItem *heap_items = NULL;
  gsize n = 0, size = G_N_ELEMENTS (stack_items);
  char scratch[512];

  if (!room_in_step (room, seq))
    return room_receive_batch_events (room, channel, seq, ts, body, body_length);

  /* All of it first: a batch is delivered whole or not at all. Each
   * item is read once; the delivery goes from what was read. */
  for (p = body; p < end; n++)
    {
      if (n == size)
        {
          size *= 2;
          if (heap_items == NULL)
            heap_items = g_memdup2 (stack_items, sizeof stack_items);
          heap_items = g_renew (BatchItem, heap_items, size);
          items = heap_items;
        }
      if (!gc_redis_field_next (&p, end, &items[n].item, &items[n].length))
        return FALSE;
      /* An item of another form (a message sent without its JSON tail)
       * or names too long for the scratch: the general parser reads the
       * batch, or finds it unreadable. */
      if (!gc_redis_batch_item_read (items[n].item, items[n].length, &items[n].read) ||
          items[n].read.user_id_len + items[n].read.name_len + 2 > sizeof scratch)
        return room_receive_batch_events (room, channel, seq, ts, body, body_length);
    }

  for (gsize i = 0; i < n; i++, seq++)
    {
      if (room_in_step (room, seq))
        {
          const GcRedisBatchItem *read = &items[i].read;
          GcRedisRoomEvent event = { 0, };

          event.type = GC_REDIS_ROOM_EVENT_MESSAGE;
          event.seq = seq;
          event.ts_ms = ts;
          memcpy (scratch, read->user_id, read->user_id_len);
          scratch[read->user_id_len] = '\0';
          memcpy (scratch + read->user_id_len + 1, read->name, read->name_len);
          scratch[read->user_id_len + 1 + read->name_len] = '\0';
          event.user_id = scratch;
          event.name = scratch + read->user_id_len + 1;
          event.json_tail = read->json_tail;
          event.json_tail_len = read->json_tail_len;
          event.in_batch = self->batch_end_func != NULL;
          room_deliver (room, &event);
          /* Closing the room from a delivery keeps it until an idle
           * (gc_redis_rooms_close()): only then can it be another. */
          if (!room->closed)
            continue;
        }
      else
        {
          /* A delivery unsynced the room: the rest waits, as events do. */
          GcRedisRoomEvent *copy = gc_redis_batch_item_parse (items[i].item, items[i].length,
                                                              seq, ts);

          if (copy != NULL)
            room_receive (room, copy);
        }
      room = g_hash_table_lookup (self->by_channel, channel);
      if (room == NULL || room->opened == 0)
        return TRUE;
    }
  return TRUE;
}

static void
room_unreadable (Room *room)
{
  /* Its events are missing: the repair reads the history, which holds
   * the same record, so the room is lost (1011), never silently short of
   * them. */
  g_message ("room %s: an unreadable record on its channel", room->code);
  if (room->synced && !room->repairing)
    room_repair (room);
}

/* A channel's payload: a batch's head ("B" SEQ " " TS) or its body (the
 * next payload), or records, each as LENGTH:RECORD. */
void
redis_rooms_on_message (const char *channel,
            const char *payload,
            gsize       length,
            gpointer    user_data)
{
  GcRedisRooms *self = user_data;
  Room *room = g_hash_table_lookup (self->by_channel, channel);
  const char *p = payload, *end = payload + length;
  g_autoptr(GPtrArray) events = NULL;

  if (room == NULL || room->opened == 0)
    return;
  /* A head with another after it, or a body that does not fit it, is
   * unreadable. */
  if (length > 0 && payload[0] == 'B' && !room->batch_head)
    {
      room->batch_head = TRUE;
      room->batch_head_readable = gc_redis_batch_head_parse (payload, length, &room->batch_seq,
                                                             &room->batch_ts);
      return;
    }
  if (room->batch_head)
    {
      /* The room may be gone after its deliveries. */
      g_autofree char *code = self->batch_end_func != NULL ? g_strdup (room->code) : NULL;

      room->batch_head = FALSE;
      if (!room->batch_head_readable ||
          !room_receive_batch (room, channel, room->batch_seq, room->batch_ts, payload, length))
        room_unreadable (room);
      if (code != NULL)
        self->batch_end_func (code, self->batch_end_data);
      return;
    }

  events = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_redis_room_event_free);
  while (p < end)
    {
      if (!gc_redis_payload_next (&p, end, events))
        {
          room_unreadable (room);
          return;
        }
      for (guint i = 0; i < events->len; i++)
        {
          /* Delivering may have closed the room: the rest is freed. */
          room_receive (room, g_steal_pointer (&events->pdata[i]));
          room = g_hash_table_lookup (self->by_channel, channel);
          if (room == NULL || room->opened == 0)
            return;
        }
      g_ptr_array_set_size (events, 0);
    }
}

void
gc_redis_rooms_set_batch_end_func (GcRedisRooms           *self,
                                   GcRedisRoomBatchEndFunc func,
                                   gpointer                user_data)
{
  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  self->batch_end_func = func;
  self->batch_end_data = user_data;
}

void
redis_rooms_on_subscribed (GcRedisClient *client,
               const char    *channel,
               gpointer       user_data)
{
  GcRedisRooms *self = user_data;
  Room *room = g_hash_table_lookup (self->by_channel, channel);
  Op *op;

  if (room == NULL)
    return;
  room->subscribed = TRUE;
  /* A head whose body the lost subscription never brought. */
  room->batch_head = FALSE;
  /* Subscribed again after a loss: whatever was published meanwhile. */
  if (room->synced)
    room_repair (room);
  while ((op = g_queue_pop_head (&room->waiting_ops)) != NULL)
    redis_op_run (op);
}

void
gc_redis_rooms_open (GcRedisRooms *self,
                     const char   *code)
{
  Room *room;

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));
  g_return_if_fail (code != NULL);

  /* Disposing (called from an answer's callback): no client to use. */
  if (self->client == NULL)
    return;
  room = redis_room_get (self, code);
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

  /* Disposing: see gc_redis_rooms_open(). */
  if (self->client == NULL)
    return;
  room = g_hash_table_lookup (self->rooms, code);
  g_return_if_fail (room != NULL && room->opened > 0);
  if (--room->opened > 0)
    return;
  redis_room_flush (room);
  /* A last leave may still wait for the subscription: nothing more is
   * delivered here, so it need not wait. */
  while ((op = g_queue_pop_head (&room->waiting_ops)) != NULL)
    redis_op_run (op);
  gc_redis_client_unsubscribe (self->client, room->channel);
  g_hash_table_remove (self->by_channel, room->channel);
  if (room->delivering > 0)
    {
      /* Called from the event function: the loop that called it still
       * uses the room (the reviewer's use-after-free). */
      g_hash_table_steal (self->rooms, room->code);
      room->closed = TRUE;
      g_idle_add_full (G_PRIORITY_DEFAULT, redis_room_free_later, room, NULL);
      return;
    }
  g_hash_table_remove (self->rooms, room->code);
}

void
redis_room_unsync (Room    *room,
                   guint64  seq)
{
  GQueue later = G_QUEUE_INIT;
  GcRedisRoomEvent *event;

  room->emptied = TRUE;
  room->synced = FALSE;
  room->last_seq = 0;
  /* A repair in flight was for the old sequence: its answer is ignored. */
  room->sync_generation++;
  room->repairing = FALSE;
  room->repair_again = FALSE;
  /* What the buffer holds up to @seq is the old room's; a new one's
   * events (from another node) wait for the next join's sync. */
  while ((event = g_queue_pop_head (&room->buffer)) != NULL)
    {
      if (event->seq <= seq)
        gc_redis_room_event_free (event);
      else
        g_queue_push_tail (&later, event);
    }
  room->buffer = later;
}

void
gc_redis_rooms_unsync (GcRedisRooms *self,
                       const char   *code)
{
  Room *room;

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));
  g_return_if_fail (code != NULL);

  /* Whatever it buffered came before the next join this node sends. */
  room = g_hash_table_lookup (self->rooms, code);
  if (room != NULL)
    redis_room_unsync (room, G_MAXUINT64);
}

/* --- operations ---------------------------------------------------------- */

void
redis_room_sync (Room    *room,
           guint64  seq)
{
  /* 0: the room does not exist in Redis; its next sequence is not known
   * until a join creates it. */
  if (room->synced || seq == 0)
    return;
  room->synced = TRUE;
  room->emptied = FALSE;
  room->last_seq = seq;
  room_process (room);
}

