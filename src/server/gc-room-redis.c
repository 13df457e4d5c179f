/* gc-room-redis.c: a room whose changes go through Redis (--redis)
 *
 * Requests become the room's Redis scripts; what the subscription brings
 * back is applied and sent to the local members; joins wait for their
 * welcome in a GcRoomJoining. See gc-redis-rooms.h for the plan.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-room-private.h"
#include "gc-ws-frame.h"

/* --redis ------------------------------------------------------------------ */

#ifdef HAVE_REDIS

/* A join or resume between its Redis script and its welcome: the events
 * the subscription brings meanwhile are kept for it. Before the script's
 * answer its sequence is not known (the subscription may be faster than
 * the answer), so everything is kept and pruned then. */
struct _GcRoomJoining {
  GcMember  *member;      /* owned; NULL until a resume knows it */
  gboolean   has_seq;
  guint64    seq;
  GPtrArray *frames;      /* of GBytes, with their sequence in @seqs */
  GArray    *seqs;        /* guint64 */
};

GcRoomJoining *
gc_room_redis_begin_join (GcRoom   *self,
                          GcMember *member)
{
  GcRoomJoining *joining = g_new0 (GcRoomJoining, 1);

  g_return_val_if_fail (self->redis != NULL, NULL);

  joining->member = member != NULL ? gc_member_ref (member) : NULL;
  joining->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  joining->seqs = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_ptr_array_add (self->joining, joining);

  return joining;
}

void
gc_room_redis_set_joining_seq (GcRoom        *self,
                               GcRoomJoining *joining,
                               GcMember      *member,
                               guint64        seq)
{
  guint kept = 0;

  if (joining->member == NULL && member != NULL)
    joining->member = gc_member_ref (member);
  joining->has_seq = TRUE;
  joining->seq = seq;
  for (guint i = 0; i < joining->frames->len; i++)
    {
      guint64 frame_seq = g_array_index (joining->seqs, guint64, i);
      GBytes *frame = joining->frames->pdata[i];

      if (frame_seq <= seq)
        {
          g_bytes_unref (frame);
          continue;
        }
      joining->frames->pdata[kept] = frame;
      g_array_index (joining->seqs, guint64, kept) = frame_seq;
      kept++;
    }
  joining->frames->len = kept;
  g_array_set_size (joining->seqs, kept);
}

static void
room_redis_end_join (GcRoom        *self,
                     GcRoomJoining *joining)
{
  g_ptr_array_remove (self->joining, joining);
  g_clear_pointer (&joining->member, gc_member_unref);
  g_ptr_array_unref (joining->frames);
  g_array_unref (joining->seqs);
  g_free (joining);
}

GcMember *
gc_room_redis_lookup (GcRoom     *self,
                      const char *user_id)
{
  return g_hash_table_lookup (self->by_key, user_id);
}

/* A member Redis admitted: it holds its place here until attached. */
void
gc_room_redis_add (GcRoom   *self,
                   GcMember *member)
{
  member->room = self;
  g_hash_table_insert (self->by_key, member->user.id, gc_member_ref (member));
}

/* Drops a local member without a leave: Redis no longer has it here (it
 * resumed elsewhere, or left). */
static void
room_redis_forget (GcRoom     *self,
                   GcMember   *member,
                   gushort     code,
                   const char *reason)
{
  g_autoptr(GcMember) hold = gc_member_ref (member);

  member_cancel_resume (member);
  if (member->connection != NULL)
    {
      g_autoptr(GcWsConnection) connection = g_object_ref (member->connection);

      member_detach_connection (member);
      gc_ws_connection_close (connection, code, reason);
    }
  if (member->state != GC_MEMBER_GONE)
    {
      g_autoptr(GcMember) unlinked = room_unlink (self, member);
    }
  room_check_empty (self);
}

/* A Redis command failed under a member: it may or may not have run, so
 * the connection closes with 1011 and the client resumes; its `since`
 * tells it what went out. */
static void
room_redis_fail_member (GcRoom   *self,
                        GcMember *member)
{
  g_autoptr(GcWsConnection) connection = NULL;

  if (member->state != GC_MEMBER_ACTIVE || member->connection == NULL)
    return;
  connection = g_object_ref (member->connection);
  room_member_lost (self, member);
  gc_ws_connection_close (connection, GC_WS_CLOSE_SERVER_ERROR,
                          "the room's store is unavailable; resume");
}

typedef struct {
  GcRoom   *room;
  GcMember *member;
  char     *ref;
  gboolean  rename;
} RequestData;

/* A member's requests after its rename wait until the rename is answered
 * and its event applied here (issue 13 review): a message carries its
 * sender's key and name, which the rename changes; sent before, Redis
 * found the old key gone and the message was lost. Names change only
 * through the room's events, in order. */
typedef struct {
  GQueue   requests;      /* of GcRequest, copies */
  char    *new_name;      /* the rename's */
  char    *new_key;
  gboolean answered;      /* renamed; waiting for its event */
  guint64  seq;           /* the rename's, once answered */
  char    *leave_reason;  /* the member left meanwhile: its leave, last */
} RenameHold;

static void
rename_hold_free (gpointer data)
{
  RenameHold *hold = data;

  g_queue_clear_full (&hold->requests, (GDestroyNotify) gc_request_free);
  g_free (hold->new_name);
  g_free (hold->new_key);
  g_free (hold->leave_reason);
  g_free (hold);
}

/* GcMember (a reference) → RenameHold, or NULL. */
static GHashTable *
room_redis_rename_holds (GcRoom   *self,
                         gboolean  create)
{
  if (self->redis_rename_holds == NULL && create)
    self->redis_rename_holds = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) gc_member_unref,
                                                      rename_hold_free);
  return self->redis_rename_holds;
}

static void room_redis_send_request (GcRoom    *self,
                                     GcMember  *member,
                                     GcRequest *request);

/* Ends @member's hold: its requests go now, in order (a rename among
 * them holds the rest again). If it left meanwhile, what it sent before
 * leaving goes (renames aside), under its new name if the rename was
 * done, then its leave. */
static void
room_redis_release (GcRoom   *self,
                    GcMember *member,
                    gboolean  renamed)
{
  GHashTable *holds = room_redis_rename_holds (self, FALSE);
  g_autoptr(GcMember) held_member = NULL;
  RenameHold *hold = NULL;
  GcRequest *request;

  if (holds == NULL ||
      !g_hash_table_steal_extended (holds, member, (gpointer *) &held_member, (gpointer *) &hold))
    return;
  /* Its name is the new one (set by the rename's event too, which a
   * member gone, or a room lost meanwhile, does not apply). */
  if (renamed)
    gc_member_take_name (member, g_steal_pointer (&hold->new_name),
                         g_steal_pointer (&hold->new_key));
  while ((request = g_queue_pop_head (&hold->requests)) != NULL)
    {
      if (member->room == self && member->state != GC_MEMBER_GONE)
        room_redis_handle_request (self, member, request);
      else if (hold->leave_reason != NULL && request->type != GC_REQUEST_RENAME)
        room_redis_send_request (self, member, request);
      gc_request_free (request);
    }
  if (hold->leave_reason != NULL)
    gc_redis_rooms_leave (self->redis, self->code, member->name_key, member->user.id,
                          hold->leave_reason, NULL, NULL);
  rename_hold_free (hold);
}

/* @member leaves (unlinked already): after what it sent before, if a
 * rename of it is in flight. */
void
room_redis_leave (GcRoom        *self,
                  GcMember      *member,
                  GcLeaveReason  reason)
{
  GHashTable *holds = room_redis_rename_holds (self, FALSE);
  RenameHold *hold = holds != NULL ? g_hash_table_lookup (holds, member) : NULL;

  if (hold != NULL && hold->leave_reason == NULL)
    {
      hold->leave_reason = g_strdup (gc_leave_reason_to_string (reason));
      /* Renamed already: its event need not be waited for (nor could be,
       * were the room lost meanwhile). */
      if (hold->answered)
        room_redis_release (self, member, TRUE);
      return;
    }
  gc_redis_rooms_leave (self->redis, self->code, member->name_key, member->user.id,
                        gc_leave_reason_to_string (reason), NULL, NULL);
}

/* The room has the event @seq: the members whose rename it is or came
 * before (its event applied, or lost with the room's gap) send what
 * they held. */
static void
room_redis_release_renamed (GcRoom  *self,
                            guint64  seq)
{
  GHashTable *holds = room_redis_rename_holds (self, FALSE);
  g_autoptr(GPtrArray) done = NULL;
  GHashTableIter iter;
  gpointer key, value;

  if (holds == NULL || g_hash_table_size (holds) == 0)
    return;
  done = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_member_unref);
  g_hash_table_iter_init (&iter, holds);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (((RenameHold *) value)->answered && ((RenameHold *) value)->seq <= seq)
      g_ptr_array_add (done, gc_member_ref (key));
  for (guint i = 0; i < done->len; i++)
    room_redis_release (self, g_ptr_array_index (done, i), TRUE);
}

static void
on_redis_request_done (const GcRedisRoomResult *result,
                       const GError            *error,
                       gpointer                 user_data)
{
  RequestData *data = user_data;
  GcRoom *self = data->room;
  GcMember *member = data->member;

  if (member->room != self)
    ;
  else if (g_error_matches (error, GC_REDIS_ERROR, GC_REDIS_ERROR_BUSY))
    room_send_error (self, member, GC_PROTOCOL_ERROR_RATE_LIMITED,
                     "The server is busy; slow down", data->ref, 1000);
  else if (error != NULL)
    room_redis_fail_member (self, member);
  else if (result->status == GC_REDIS_ROOM_TAKEN)
    room_send_error (self, member, GC_PROTOCOL_ERROR_NAME_TAKEN,
                     "That name is already in use in this room", NULL, 0);
  else if (result->status == GC_REDIS_ROOM_GONE)
    room_redis_forget (self, member, GC_WS_CLOSE_SERVER_ERROR,
                       "you are no longer in the room; join again");

  if (data->rename)
    {
      GHashTable *holds = room_redis_rename_holds (self, FALSE);
      RenameHold *hold = holds != NULL ? g_hash_table_lookup (holds, member) : NULL;

      gboolean renamed = error == NULL && result->status == GC_REDIS_ROOM_OK;

      /* Renamed: the rest waits for its event (unless applied already,
       * or the member left, and no longer hears it). */
      if (hold != NULL && renamed && member->room == self && self->redis_last_seq < result->seq)
        {
          hold->answered = TRUE;
          hold->seq = result->seq;
        }
      else
        room_redis_release (self, member, renamed);
    }

  g_object_unref (data->room);
  gc_member_unref (data->member);
  g_free (data->ref);
  g_free (data);
}

void
room_redis_handle_request (GcRoom    *self,
                           GcMember  *member,
                           GcRequest *request)
{
  GHashTable *holds = room_redis_rename_holds (self, FALSE);
  RenameHold *hold = holds != NULL ? g_hash_table_lookup (holds, member) : NULL;

  if (hold != NULL)
    {
      GcRequest *copy = g_new0 (GcRequest, 1);

      *copy = *request;
      copy->text = g_strdup (request->text);
      copy->client_id = g_strdup (request->client_id);
      copy->name = g_strdup (request->name);
      g_queue_push_tail (&hold->requests, copy);
      return;
    }
  room_redis_send_request (self, member, request);
}

static void
room_redis_send_request (GcRoom    *self,
                         GcMember  *member,
                         GcRequest *request)
{
  RequestData *data = g_new0 (RequestData, 1);

  data->room = g_object_ref (self);
  data->member = gc_member_ref (member);
  data->ref = g_strdup (request->client_id);

  switch (request->type)
    {
    case GC_REQUEST_MESSAGE:
      {
        /* Built once here for every node (issue 13): they complete it
         * with its id and ts. */
        gsize tail_len;
        g_autofree char *tail = gc_event_message_tail (&member->user, request->kind, request->text,
                                                       request->client_id, &tail_len);

        member->typing = FALSE;
        gc_redis_rooms_message (self->redis, self->code, member->name_key, member->user.id,
                                member->user.name,
                                gc_message_kind_to_string (request->kind), request->text,
                                request->client_id, tail, tail_len, on_redis_request_done, data);
      }
      break;
    case GC_REQUEST_TYPING:
      member->typing = request->active;
      gc_redis_rooms_typing (self->redis, self->code, member->name_key, member->user.id,
                             request->active, on_redis_request_done, data);
      break;
    case GC_REQUEST_RENAME:
      {
        g_autofree char *key = gc_protocol_user_name_key (request->name);

        RenameHold *hold = g_new0 (RenameHold, 1);

        hold->new_name = g_strdup (request->name);
        hold->new_key = g_strdup (key);
        data->rename = TRUE;
        g_hash_table_insert (room_redis_rename_holds (self, TRUE), gc_member_ref (member), hold);
        gc_redis_rooms_rename (self->redis, self->code, member->name_key, request->name, key,
                               member->user.id, on_redis_request_done, data);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Join events wait ROOM_PRESENCE_BATCH_MS for more to go with them, as
 * on a single node (gc-room-presence.c, §4.4): each member then takes a
 * window's joins in one writev. Any other event of the room flushes them
 * first. The send loop stays apart from room_flush_presence(): it filters
 * by sequence (a joiner may attach before its own join comes through),
 * not by the joiner's place in the batch. */

typedef struct {
  guint64  seq;
  GBytes  *frame;
} RedisPendingJoin;

static void
redis_pending_join_free (gpointer data)
{
  RedisPendingJoin *pending = data;

  g_bytes_unref (pending->frame);
  g_free (pending);
}

void
room_redis_clear_joins (GcRoom *self)
{
  if (self->redis_presence_source != NULL)
    {
      g_source_destroy (self->redis_presence_source);
      g_clear_pointer (&self->redis_presence_source, g_source_unref);
    }
  g_clear_pointer (&self->redis_pending_joins, g_ptr_array_unref);
  g_clear_pointer (&self->redis_member_seq, g_hash_table_unref);
}

/* The sequence of @member's join or resume while the room's events have
 * not passed it yet, else 0. */
static guint64
room_redis_member_seq (GcRoom   *self,
                       GcMember *member)
{
  guint64 *seq = self->redis_member_seq != NULL
    ? g_hash_table_lookup (self->redis_member_seq, member) : NULL;

  return seq != NULL ? *seq : 0;
}

static void
room_redis_set_member_seq (GcRoom   *self,
                           GcMember *member,
                           guint64   seq)
{
  guint64 *value = g_new (guint64, 1);

  if (self->redis_member_seq == NULL)
    self->redis_member_seq = g_hash_table_new_full (g_direct_hash, g_direct_equal,
                                                    (GDestroyNotify) gc_member_unref, g_free);
  *value = seq;
  g_hash_table_replace (self->redis_member_seq, gc_member_ref (member), value);
}

/* Seqs the room's events have passed no longer filter anything, nor do
 * those of members that left; with none left, events go out unfiltered.
 * Only while no join batch waits: its joins are filtered by them. */
static void
room_redis_prune_member_seqs (GcRoom *self)
{
  GHashTableIter iter;
  gpointer key, value;

  if (self->redis_member_seq == NULL)
    return;
  g_hash_table_iter_init (&iter, self->redis_member_seq);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GcMember *member = key;

      if (*(guint64 *) value <= self->redis_last_seq ||
          member->state == GC_MEMBER_GONE || member->room != self)
        g_hash_table_iter_remove (&iter);
    }
  if (g_hash_table_size (self->redis_member_seq) == 0)
    g_clear_pointer (&self->redis_member_seq, g_hash_table_unref);
}

void
room_redis_flush_joins (GcRoom *self)
{
  g_autoptr(GPtrArray) pending = NULL;
  guint64 n_bytes = 0;

  if (self->redis_presence_source != NULL)
    {
      g_source_destroy (self->redis_presence_source);
      g_clear_pointer (&self->redis_presence_source, g_source_unref);
    }
  /* Taken first: a send may drop a slow reader, and so flush again. */
  pending = g_steal_pointer (&self->redis_pending_joins);
  if (pending == NULL || pending->len == 0)
    {
      room_redis_prune_member_seqs (self);
      return;
    }

  g_object_ref (self);
  /* Joins waiting to attach get those after their own sequence. */
  for (guint i = 0; i < self->joining->len; i++)
    {
      GcRoomJoining *joining = g_ptr_array_index (self->joining, i);

      for (guint j = 0; j < pending->len; j++)
        {
          RedisPendingJoin *p = g_ptr_array_index (pending, j);

          if (joining->has_seq && p->seq <= joining->seq)
            continue;
          g_ptr_array_add (joining->frames, g_bytes_ref (p->frame));
          g_array_append_val (joining->seqs, p->seq);
        }
    }
  /* Members get those after their own join: its welcome listed the
   * members before it (a joiner may attach before its own join event
   * comes through the subscription). */
  room_walk_begin (self);
  for (guint i = 0; i < self->members->len; i++)
    {
      GcMember *member = g_ptr_array_index (self->members, i);
      guint64 own;

      if (member == NULL)
        continue;
      own = room_redis_member_seq (self, member);
      for (guint j = 0; j < pending->len && member->connection != NULL; j++)
        {
          RedisPendingJoin *p = g_ptr_array_index (pending, j);

          if (p->seq <= own)
            continue;
          gc_ws_connection_send_frame (member->connection, p->frame);
          n_bytes += g_bytes_get_size (p->frame);
        }
    }
  room_walk_end (self);

  room_redis_prune_member_seqs (self);

  if (self->server != NULL)
    gc_server_count (self->server, GC_SERVER_COUNTER_BYTES_SENT, n_bytes);
  g_object_unref (self);
}

static gboolean
on_redis_presence_due (gpointer user_data)
{
  GcRoom *self = user_data;

  g_clear_pointer (&self->redis_presence_source, g_source_unref);
  room_redis_flush_joins (self);
  return G_SOURCE_REMOVE;
}

static void
room_redis_queue_join (GcRoom  *self,
                       guint64  seq,
                       GBytes  *event)
{
  RedisPendingJoin *pending = g_new (RedisPendingJoin, 1);
  gsize len;
  const guint8 *data = g_bytes_get_data (event, &len);

  pending->seq = seq;
  pending->frame = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE, data, len);
  if (self->redis_pending_joins == NULL)
    self->redis_pending_joins = g_ptr_array_new_with_free_func (redis_pending_join_free);
  g_ptr_array_add (self->redis_pending_joins, pending);

  if (self->redis_presence_source == NULL)
    {
      self->redis_presence_source = g_timeout_source_new (ROOM_PRESENCE_BATCH_MS);
      g_source_set_static_name (self->redis_presence_source, "[gochat] redis presence batch");
      g_source_set_callback (self->redis_presence_source, on_redis_presence_due, self, NULL);
      g_source_attach (self->redis_presence_source, self->redis_context);
    }
}

/* Queues @frame (event @seq) to every connected member but @except and
 * those whose welcome already held it: a join's answer (on the command
 * connection) may come before the events up to its sequence (on the
 * subscription), and the member is attached then. */
static void
room_redis_broadcast_frame (GcRoom   *self,
                            guint64   seq,
                            GBytes   *frame,
                            GcMember *except)
{
  guint64 n_sent = 0;

  if (self->redis_member_seq == NULL)
    {
      room_broadcast_frame (self, frame, except);
      return;
    }
  g_object_ref (self);
  room_flush_presence (self);
  room_walk_begin (self);
  for (guint i = 0; i < self->members->len; i++)
    {
      GcMember *member = g_ptr_array_index (self->members, i);

      if (member == NULL || member == except || member->connection == NULL ||
          room_redis_member_seq (self, member) >= seq)
        continue;
      gc_ws_connection_send_frame (member->connection, frame);
      n_sent++;
    }
  room_walk_end (self);
  gc_server_count (self->server, GC_SERVER_COUNTER_BYTES_SENT, n_sent * g_bytes_get_size (frame));
  g_object_unref (self);
}

/* Sends @frame (event @seq) to the local members but @except, and keeps
 * it for the joins waiting to attach that are due it. */
static void
room_redis_deliver_frame (GcRoom   *self,
                          guint64   seq,
                          GBytes   *frame,
                          GcMember *except)
{
  /* The joins before it go first, to joins waiting to attach too. */
  room_redis_flush_joins (self);
  for (guint i = 0; i < self->joining->len; i++)
    {
      GcRoomJoining *joining = g_ptr_array_index (self->joining, i);

      if ((joining->has_seq && seq <= joining->seq) ||
          (except != NULL && joining->member == except))
        continue;
      g_ptr_array_add (joining->frames, g_bytes_ref (frame));
      g_array_append_val (joining->seqs, seq);
    }
  room_redis_broadcast_frame (self, seq, frame, except);
}

static void
room_redis_deliver (GcRoom   *self,
                    guint64   seq,
                    GBytes   *event,
                    GcMember *except)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (event, &len);
  g_autoptr(GBytes) frame = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE,
                                                data, len);

  room_redis_deliver_frame (self, seq, frame, except);
}

/* The frame of a message event completed from its tail, written in one
 * buffer: each node of a cluster makes one per message of its rooms, and
 * building the event first copied it into the frame with two more
 * allocations. */
static GBytes *
room_redis_message_frame (const GcRedisRoomEvent *ev)
{
  char *data = g_malloc (GC_WS_MAX_HEADER_SIZE + GC_EVENT_MESSAGE_FROM_TAIL_MAX (ev->json_tail_len));
  char *event = data + GC_WS_MAX_HEADER_SIZE, *end;
  gsize len, header;

  end = gc_event_write_message_from_tail (event, ev->seq, ev->ts_ms, ev->json_tail,
                                          ev->json_tail_len);
  if (end == NULL)
    {
      g_free (data);
      return NULL;
    }
  len = end - event;
  header = gc_ws_frame_header_size (len, FALSE);
  gc_ws_frame_encode_header ((guint8 *) event - header, GC_WS_OPCODE_TEXT, TRUE, len);
  return g_bytes_new_with_free_func (event - header, header + len, g_free, data);
}

/* A batch's messages go to the members in one buffer each, at the
 * batch's end: a node sends every message of its rooms, and queueing
 * each frame to each member (a reference, a queue entry, the bound's
 * check) cost it as much as making the frame. Only while nothing filters
 * them: no joins waiting to attach or to be sent, no member due only
 * later events, no rename holding requests. */
static gboolean
room_redis_can_batch (GcRoom *self)
{
  return self->server != NULL && self->redis_member_seq == NULL && self->joining->len == 0 &&
         (self->redis_pending_joins == NULL || self->redis_pending_joins->len == 0) &&
         (self->redis_rename_holds == NULL || g_hash_table_size (self->redis_rename_holds) == 0);
}

/* Appends the frame of @ev, a message with its tail, to the batch's. */
static void
room_redis_batch_frame (GcRoom                 *self,
                        const GcRedisRoomEvent *ev)
{
  gsize most = GC_WS_MAX_HEADER_SIZE + GC_EVENT_MESSAGE_FROM_TAIL_MAX (ev->json_tail_len);
  gsize len, header;
  char *frame, *event, *end;

  if (self->redis_frames_size - self->redis_frames_length < most)
    {
      self->redis_frames_size = MAX (4096, 2 * (self->redis_frames_length + most));
      self->redis_frames = g_realloc (self->redis_frames, self->redis_frames_size);
    }
  frame = self->redis_frames + self->redis_frames_length;
  event = frame + GC_WS_MAX_HEADER_SIZE;
  end = gc_event_write_message_from_tail_after (&self->redis_message_head, event, ev->seq,
                                                ev->ts_ms, ev->json_tail, ev->json_tail_len);
  if (end == NULL)
    return;
  len = end - event;
  header = gc_ws_frame_encode_header ((guint8 *) frame, GC_WS_OPCODE_TEXT, TRUE, len);
  memmove (frame + header, event, len);
  self->redis_frames_length += header + len;
}

/* Sends the batch's frames that wait, before anything else is sent. */
static void
room_redis_flush_frames (GcRoom *self)
{
  g_autoptr(GBytes) frames = NULL;

  if (self->redis_frames_length == 0)
    return;
  frames = g_bytes_new_take (g_steal_pointer (&self->redis_frames), self->redis_frames_length);
  self->redis_frames_length = self->redis_frames_size = 0;
  room_broadcast_frame (self, frames, NULL);
}

void
gc_room_redis_batch_end (GcRoom *self)
{
  g_autoptr(GcRoom) hold = g_object_ref (self);

  room_redis_flush_frames (self);
}

gboolean
gc_room_redis_event (GcRoom                 *self,
                     const GcRedisRoomEvent *ev)
{
  g_autoptr(GcRoom) hold = NULL;
  GcUser user = { (char *) ev->user_id, (char *) ev->name };
  GcMember *local;
  g_autoptr(GBytes) event = NULL;
  GcMember *except = NULL;

  self->redis_last_seq = ev->seq;
  if (ev->type == GC_REDIS_ROOM_EVENT_MESSAGE && ev->json_tail != NULL && ev->in_batch &&
      room_redis_can_batch (self))
    {
      gc_server_count (self->server, GC_SERVER_COUNTER_MESSAGES, 1);
      room_redis_batch_frame (self, ev);
      return TRUE;
    }
  hold = g_object_ref (self);
  /* Anything else goes after the batch's messages before it. */
  room_redis_flush_frames (self);
  /* First: what it sends may fail at once and drop a member. */
  room_redis_release_renamed (self, ev->seq);
  /* A message needs not know whose it is: it goes to all. */
  local = ev->type != GC_REDIS_ROOM_EVENT_MESSAGE ? g_hash_table_lookup (self->by_key, ev->user_id)
                                                  : NULL;
  /* Anything else the room sends goes after the joins before it. */
  if (ev->type != GC_REDIS_ROOM_EVENT_JOIN)
    room_redis_flush_joins (self);

  switch (ev->type)
    {
    case GC_REDIS_ROOM_EVENT_JOIN:
      /* Batched; each goes to those who joined before it (a local joiner
       * is due none of it). */
      if (self->server != NULL)
        room_redis_queue_join (self, ev->seq, gc_event_build_join (&user, ev->ts_ms));
      return FALSE;
    case GC_REDIS_ROOM_EVENT_LEAVE:
      {
        GcLeaveReason reason = GC_LEAVE_REASON_LEFT;

        gc_leave_reason_from_string (ev->reason, &reason);
        /* Removed in Redis while still here (a sweep): it goes. */
        if (local != NULL)
          room_redis_forget (self, local, GC_WS_CLOSE_SERVER_ERROR, "you left the room");
        if (self->server != NULL)
          gc_server_count_leave (self->server, reason);
        event = gc_event_build_leave (&user, reason, ev->ts_ms);
      }
      break;
    case GC_REDIS_ROOM_EVENT_MESSAGE:
      {
        GcMessageKind kind = GC_MESSAGE_KIND_TEXT;

        if (self->server != NULL)
          gc_server_count (self->server, GC_SERVER_COUNTER_MESSAGES, 1);
        if (ev->json_tail != NULL)
          {
            g_autoptr(GBytes) frame = self->server != NULL ? room_redis_message_frame (ev) : NULL;

            if (frame != NULL)
              room_redis_deliver_frame (self, ev->seq, frame, NULL);
            return FALSE;
          }
        gc_message_kind_from_string (ev->kind, &kind);
        event = gc_event_build_message (ev->seq, ev->ts_ms, &user, kind, ev->text,
                                        ev->client_id);
      }
      break;
    case GC_REDIS_ROOM_EVENT_RENAME:
      if (local != NULL)
        gc_member_take_name (local, g_strdup (ev->name), g_strdup (ev->name_key));
      event = gc_event_build_rename (&user, ev->old_name, ev->ts_ms);
      break;
    case GC_REDIS_ROOM_EVENT_TYPING:
      event = gc_event_build_typing (&user, ev->active);
      except = local;
      break;
    case GC_REDIS_ROOM_EVENT_RESUME:
      /* Taken over by another node: the old connection is replaced (§6.2). */
      if (local != NULL && self->server != NULL &&
          g_strcmp0 (ev->node, gc_server_get_node_id (self->server)) != 0)
        room_redis_forget (self, local, 4000, "replaced by a resumed connection");
      return FALSE;
    default:
      return FALSE;
    }

  /* The records are checked where they are read (gc-redis-record.c); a
   * builder refusing one anyway sends nothing rather than NULL. */
  if (self->server != NULL && event != NULL)
    room_redis_deliver (self, ev->seq, event, except);
  return FALSE;
}

/* The upgrade is done: the member gets @welcome, then what came since. */
gboolean
gc_room_redis_attach (GcRoom         *self,
                      GcRoomJoining  *joining,
                      gboolean        resume,
                      GcWsConnection *connection,
                      GBytes         *welcome)
{
  g_autoptr(GcRoom) hold = g_object_ref (self);
  g_autoptr(GcMember) member = gc_member_ref (joining->member);
  g_autoptr(GPtrArray) frames = g_ptr_array_ref (joining->frames);
  guint64 seq = joining->seq;

  /* Nothing waits outside a batch's delivery; what might goes first. */
  room_redis_flush_frames (self);
  room_redis_end_join (self, joining);

  if (member->state == GC_MEMBER_GONE || member->room != self)
    {
      room_check_empty (self);
      return FALSE;
    }

  if (resume && member->state != GC_MEMBER_JOINING)
    {
      if (member->resumes_in_progress > 0)
        member->resumes_in_progress--;
      if (member->connection != NULL)
        {
          g_autoptr(GcWsConnection) old = g_object_ref (member->connection);

          member_detach_connection (member);
          gc_ws_connection_close (old, 4000, "replaced by a resumed connection");
        }
      member->state = GC_MEMBER_ACTIVE;
    }
  else
    {
      member->state = GC_MEMBER_ACTIVE;
      room_announce (self, member);
    }

  /* Its welcome lists the members up to @seq: only later joins are due
   * (its own and earlier ones may still wait in the batch). */
  room_redis_set_member_seq (self, member, seq);
  member_attach_connection (member, connection);
  room_send_now (self, member, welcome);
  for (guint i = 0; i < frames->len && member->connection != NULL; i++)
    gc_ws_connection_send_frame (member->connection, frames->pdata[i]);

  if (member->state == GC_MEMBER_GONE)
    return TRUE;

  gc_server_count (self->server, resume ? GC_SERVER_COUNTER_RESUMES : GC_SERVER_COUNTER_JOINS, 1);
  gc_server_log_event (G_LOG_LEVEL_INFO, resume ? "resume" : "join", self->code,
                       member->user.id, member->address, NULL);
  return TRUE;
}

/* The join never attached: its member leaves Redis again (a resume's
 * waits for another resume or its window's end). */
void
gc_room_redis_release (GcRoom        *self,
                       GcRoomJoining *joining,
                       gboolean       resume)
{
  g_autoptr(GcRoom) hold = g_object_ref (self);
  g_autoptr(GcMember) member = joining->member != NULL ? gc_member_ref (joining->member) : NULL;

  room_redis_end_join (self, joining);

  if (member != NULL && member->state != GC_MEMBER_GONE && member->room == self)
    {
      if (resume && member->state != GC_MEMBER_JOINING)
        {
          if (member->resumes_in_progress > 0 && --member->resumes_in_progress == 0 &&
              member->state == GC_MEMBER_WAITING)
            member_arm_resume (self, member);
        }
      else if (resume)
        {
          /* Taken over from another node but never attached: it waits
           * here for its window like any lost member. */
          member->state = GC_MEMBER_ACTIVE;
          room_announce (self, member);
          room_member_lost (self, member);
        }
      else
        {
          g_autoptr(GcMember) unlinked = room_unlink (self, member);

          gc_redis_rooms_leave (self->redis, self->code, member->name_key, member->user.id,
                                gc_leave_reason_to_string (GC_LEAVE_REASON_ERROR), NULL, NULL);
        }
    }
  room_check_empty (self);
}

#endif /* HAVE_REDIS */
