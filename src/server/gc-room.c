/* gc-room.c: one chat room — members, leaving, joining, encode-once fan-out
 * (requests, presence and history are in gc-room-{requests,presence,history}.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-room-private.h"
#include "gc-server-private.h"
#include "gc-token-bucket.h"
#include "gc-ws-frame.h"

#ifdef HAVE_REDIS
#include "gc-redis-rooms.h"
#endif

/* A member removed while the room walks its members: it leaves (and the
 * others hear of it) once the outermost walk is over. */
typedef struct {
  GcMember      *member;   /* owned */
  GcLeaveReason  reason;
} PendingLeave;


G_DEFINE_FINAL_TYPE (GcRoom, gc_room, G_TYPE_OBJECT)

static void room_drain_leaves        (GcRoom   *self);

/* Membership ---------------------------------------------------------- */

static void
room_compact_members (GcRoom *self)
{
  guint kept = 0;

  for (guint i = 0; i < self->members->len; i++)
    {
      GcMember *member = g_ptr_array_index (self->members, i);

      if (member == NULL)
        continue;
      member->index = kept;
      self->members->pdata[kept++] = member;
    }
  g_ptr_array_set_size (self->members, kept);
  self->has_holes = FALSE;
}

void
room_walk_begin (GcRoom *self)
{
  self->walking++;
  self->max_walking = MAX (self->max_walking, self->walking);
}

void
room_walk_end (GcRoom *self)
{
  if (--self->walking > 0)
    return;

  if (self->has_holes)
    room_compact_members (self);
  if (!self->draining && self->pending_leaves->len > 0)
    room_drain_leaves (self);
}

void
room_announce (GcRoom   *self,
               GcMember *member)
{
  member->index = self->members->len;
  g_ptr_array_add (self->members, member);
  self->n_announced++;

  if (self->members_json != NULL)
    {
      if (self->members_json->len > 0)
        g_string_append_c (self->members_json, ',');
      gc_protocol_append_user (self->members_json, &member->user);
    }
}

/* Takes the member out of both tables; returns the room's reference. */
GcMember *
room_unlink (GcRoom   *self,
             GcMember *member)
{
  gboolean announced = member->state == GC_MEMBER_ACTIVE ||
                       member->state == GC_MEMBER_WAITING;

#ifdef HAVE_REDIS
  if (self->redis != NULL)
    g_hash_table_remove (self->by_key, member->user.id);
  else
#endif
    g_hash_table_remove (self->by_key, member->name_key);

  if (announced)
    {
      guint last = self->members->len - 1;

      room_forget_members_json (self);
      g_assert (g_ptr_array_index (self->members, member->index) == member);
      self->n_announced--;

      if (self->walking > 0)
        {
          self->members->pdata[member->index] = NULL;
          self->has_holes = TRUE;
        }
      else
        {
          GcMember *moved = g_ptr_array_index (self->members, last);

          self->members->pdata[member->index] = moved;
          moved->index = member->index;
          g_ptr_array_set_size (self->members, last);
        }
    }

  member->state = GC_MEMBER_GONE;
  member->room = NULL;

  return member;
}

void
room_check_empty (GcRoom *self)
{
#ifdef HAVE_REDIS
  if (self->joining != NULL && self->joining->len > 0)
    return;
#endif
  if (g_hash_table_size (self->by_key) == 0 && self->server != NULL)
    gc_server_room_emptied (self->server, self);
}

/* Fan-out --------------------------------------------------------------- */

/* Queues the same @frame to every connected member but @except. */
void
room_broadcast_frame (GcRoom   *self,
                      GBytes   *frame,
                      GcMember *except)
{
  guint64 n_sent = 0;

  /* A send may drop a slow reader and so remove a member (or the last
   * one) while we walk. */
  g_object_ref (self);
  room_flush_presence (self);
  room_walk_begin (self);
  for (guint i = 0; i < self->members->len; i++)
    {
      GcMember *member = g_ptr_array_index (self->members, i);

      if (member == NULL || member == except || member->connection == NULL)
        continue;
      gc_ws_connection_send_frame (member->connection, frame);
      n_sent++;
    }
  room_walk_end (self);

  gc_server_count (self->server, GC_SERVER_COUNTER_BYTES_SENT, n_sent * g_bytes_get_size (frame));
  g_object_unref (self);
}

/* Frames @event once and queues it to every connected member but @except. */
void
room_broadcast (GcRoom   *self,
                GBytes   *event,
                GcMember *except)
{
  g_autoptr(GBytes) frame = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (event, &len);

  frame = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE, data, len);
  room_broadcast_frame (self, frame, except);
}

/* Events come from the protocol module's builders, which write valid
 * UTF-8 only, so they are framed here rather than by
 * gc_ws_connection_send_text(), whose check of every byte was a twentieth
 * of a join's instructions (a welcome with 50 members and history). */
void
room_send_now (GcRoom   *self,
               GcMember *member,
               GBytes   *event)
{
  g_autoptr(GBytes) frame = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (event, &len);

  frame = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE, data, len);
  gc_ws_connection_send_frame (member->connection, frame);
  gc_server_count (self->server, GC_SERVER_COUNTER_BYTES_SENT, len);
}

/* Sends @event to @member after the join events it is due. */
void
room_send (GcRoom   *self,
           GcMember *member,
           GBytes   *event)
{
  g_autoptr(GcMember) hold = gc_member_ref (member);

  room_flush_presence (self);
  if (member->connection != NULL)
    room_send_now (self, member, event);
}

void
room_send_error (GcRoom          *self,
                 GcMember        *member,
                 GcProtocolError  code,
                 const char      *message,
                 const char      *ref,
                 guint64          retry_after_ms)
{
  g_autoptr(GBytes) event = gc_event_build_error (code, message, ref, retry_after_ms);

  gc_server_count_error_event (self->server, code);
  room_send (self, member, event);
}


static void
room_finish_remove (GcRoom        *self,
                    GcMember      *member,
                    GcLeaveReason  reason)
{
  g_autoptr(GcMember) unlinked = room_unlink (self, member);
  g_autoptr(GBytes) event = NULL;

#ifdef HAVE_REDIS
  /* The leave comes back through the subscription. */
  if (self->redis != NULL)
    room_redis_leave (self, member, reason);
  else
#endif
    {
      event = gc_event_build_leave (&member->user, reason, now_ms ());
      room_broadcast (self, event, NULL);
    }

  gc_server_log_event (G_LOG_LEVEL_INFO, "leave", self->code, member->user.id,
                       member->address, gc_leave_reason_to_string (reason));
  gc_server_count_leave (self->server, reason);

  room_check_empty (self);
}

/* Removes an announced member: timer and connection go (the caller closed
 * the connection if it had to), `leave` goes to the others. During a walk
 * (a send there may drop a slow reader) the member only loses its
 * connection, so no more is sent to it; it leaves when the walk is over,
 * as the leave broadcast would otherwise nest a walk per dropped member. */
static void
room_remove_member (GcRoom        *self,
                    GcMember      *member,
                    GcLeaveReason  reason)
{
  member_cancel_resume (member);
  member_detach_connection (member);

  if (self->walking > 0 || self->draining)
    {
      PendingLeave leave = { gc_member_ref (member), reason };

      g_array_append_val (self->pending_leaves, leave);
      return;
    }

  room_finish_remove (self, member, reason);
}

/* A loop, not a recursion: leaves deferred by these leaves' broadcasts
 * join the end of the list. */
static void
room_drain_leaves (GcRoom *self)
{
  g_autoptr(GcRoom) hold = g_object_ref (self);

  self->draining = TRUE;
  for (guint i = 0; i < self->pending_leaves->len; i++)
    {
      PendingLeave leave = g_array_index (self->pending_leaves, PendingLeave, i);

      if (leave.member->state != GC_MEMBER_GONE)
        room_finish_remove (self, leave.member, leave.reason);
      gc_member_unref (leave.member);
    }
  g_array_set_size (self->pending_leaves, 0);
  self->draining = FALSE;
}

/* The server drops the member (close @code, then `leave` with @reason). */
void
room_drop_member (GcRoom        *self,
                  GcMember      *member,
                  GcLeaveReason  reason,
                  gushort        code,
                  const char    *close_reason)
{
  g_autoptr(GcWsConnection) connection = NULL;

  if (member->connection != NULL)
    {
      connection = g_object_ref (member->connection);
      member_detach_connection (member);
      gc_ws_connection_close (connection, code, close_reason);
    }

  room_remove_member (self, member, reason);
}

static gboolean
member_resume_expired (gpointer user_data)
{
  GcMember *member = user_data;
  g_autoptr(GcRoom) room = g_object_ref (member->room);

  g_clear_pointer (&member->resume_source, g_source_unref);
  room_remove_member (room, member, GC_LEAVE_REASON_TIMEOUT);

  return G_SOURCE_REMOVE;
}

void
member_cancel_resume (GcMember *member)
{
  if (member->resume_source == NULL)
    return;

  g_source_destroy (member->resume_source);
  g_clear_pointer (&member->resume_source, g_source_unref);
}

/* Arms the resume timer for what is left of the window; expires the
 * member at once if nothing is. */
void
member_arm_resume (GcRoom   *self,
                   GcMember *member)
{
  gint64 left_us = member->resume_deadline_us - g_get_monotonic_time ();

  g_assert (member->resume_source == NULL);

  if (left_us <= 0)
    {
      room_remove_member (self, member, GC_LEAVE_REASON_TIMEOUT);
      return;
    }

  member->resume_source = g_timeout_source_new ((guint) MIN (gc_ms_from_us_ceil (left_us), G_MAXUINT));
  g_source_set_static_name (member->resume_source, "[gochat] resume window");
  g_source_set_callback (member->resume_source, member_resume_expired, member, NULL);
  g_source_attach (member->resume_source, gc_ws_poller_get_context (gc_server_get_poller (self->server)));
}

/* The connection went away without a close frame (or by keepalive): the
 * member waits for a resume (§6.2). */
void
room_member_lost (GcRoom   *self,
                  GcMember *member)
{
  member_detach_connection (member);
  member->state = GC_MEMBER_WAITING;
  member->resume_deadline_us = g_get_monotonic_time () +
                               (gint64) room_config (self)->resume_seconds * G_USEC_PER_SEC;

  gc_server_log_event (G_LOG_LEVEL_INFO, "lost", self->code, member->user.id,
                       member->address, "waiting for resume");

  /* Nobody should see it typing while it is away. */
  if (member->typing)
    {
      g_autoptr(GBytes) event = NULL;

      member->typing = FALSE;
#ifdef HAVE_REDIS
      if (self->redis != NULL)
        gc_redis_rooms_typing (self->redis, self->code, member->name_key, member->user.id,
                               FALSE, NULL, NULL);
      else
#endif
        {
          event = gc_event_build_typing (&member->user, FALSE);
          room_broadcast (self, event, member);
        }
    }

  if (member->resumes_in_progress == 0)
    member_arm_resume (self, member);
}

/* Connection signals ------------------------------------------------------ */

static void
on_connection_message (GcWsConnection *connection,
                       GcWsOpcode      opcode,
                       GBytes         *payload,
                       gpointer        user_data)
{
  GcMember *member = user_data;
  g_autoptr(GcMember) hold = gc_member_ref (member);
  g_autoptr(GcRoom) room = g_object_ref (member->room);

  gc_server_count (room->server, GC_SERVER_COUNTER_BYTES_RECEIVED, g_bytes_get_size (payload));
  if (opcode == GC_WS_OPCODE_TEXT)
    room_handle_text (room, member, payload);
  else
    room_drop_member (room, member, GC_LEAVE_REASON_ERROR,
                      GC_WS_CLOSE_UNSUPPORTED_DATA, "binary messages are not accepted");
}

static void
on_connection_error (GcWsConnection *connection,
                     GError         *error,
                     gpointer        user_data)
{
  GcMember *member = user_data;
  g_autoptr(GcMember) hold = gc_member_ref (member);
  g_autoptr(GcRoom) room = g_object_ref (member->room);

  /* A protocol violation: the connection already sent its close (1002,
   * 1007, 1009). I/O errors end in "closed" without a close frame. */
  if (error->domain == GC_WS_ERROR)
    room_remove_member (room, member, GC_LEAVE_REASON_ERROR);
}

static void
on_connection_queue_overflow (GcWsConnection *connection,
                              gpointer        user_data)
{
  GcMember *member = user_data;
  g_autoptr(GcMember) hold = gc_member_ref (member);
  g_autoptr(GcRoom) room = g_object_ref (member->room);

  room_drop_member (room, member, GC_LEAVE_REASON_SLOW,
                    GC_WS_CLOSE_POLICY_VIOLATION, "slow reader");
}

static void
on_connection_closing (GcWsConnection *connection,
                       gpointer        user_data)
{
  GcMember *member = user_data;
  g_autoptr(GcMember) hold = NULL;
  g_autoptr(GcRoom) room = NULL;

  /* We detach members before closing their connections ourselves, so a
   * closing handshake seen here is the peer's (a close frame: leave at
   * once) unless the connection started it over a violation or a dead
   * peer, which "error" and "closed" report. */
  if (gc_ws_connection_get_close_code (connection) == GC_WS_CLOSE_ABNORMAL)
    return;

  hold = gc_member_ref (member);
  room = g_object_ref (member->room);
  room_remove_member (room, member, GC_LEAVE_REASON_LEFT);
}

static void
on_connection_closed (GcWsConnection *connection,
                      gpointer        user_data)
{
  GcMember *member = user_data;
  g_autoptr(GcMember) hold = gc_member_ref (member);
  g_autoptr(GcRoom) room = g_object_ref (member->room);

  if (gc_ws_connection_get_close_code (connection) != GC_WS_CLOSE_ABNORMAL)
    room_remove_member (room, member, GC_LEAVE_REASON_LEFT);
  else
    room_member_lost (room, member);
}

void
member_attach_connection (GcMember       *member,
                          GcWsConnection *connection)
{
  static const GcWsConnectionHandlers handlers = {
    .message = on_connection_message,
    .error = on_connection_error,
    .queue_overflow = on_connection_queue_overflow,
    .closing = on_connection_closing,
    .closed = on_connection_closed,
  };

  g_assert (member->connection == NULL);

  member->connection = g_object_ref (connection);
  gc_ws_connection_set_handlers (connection, &handlers, member);
}

void
member_detach_connection (GcMember *member)
{
  if (member->connection == NULL)
    return;

  gc_ws_connection_set_handlers (member->connection, NULL, NULL);
  g_clear_object (&member->connection);
}

/* Joining --------------------------------------------------------------- */

static gboolean
room_name_is_taken (const char *key,
                    gpointer    user_data)
{
  GcRoom *self = user_data;

  return g_hash_table_contains (self->by_key, key);
}

GcMember *
gc_room_reserve (GcRoom      *self,
                 const char  *name,
                 const char  *name_key,
                 const char  *session_id,
                 const char  *address,
                 gboolean    *out_resume,
                 char       **out_suggestion,
                 GError     **error)
{
  const GcServerConfig *config = room_config (self);
  GcMember *holder = g_hash_table_lookup (self->by_key, name_key);
  GcMember *member;

  *out_resume = FALSE;

  /* §6.2: a token only resumes the member of that name in this room. */
  if (holder != NULL && session_id != NULL &&
      (holder->state == GC_MEMBER_ACTIVE || holder->state == GC_MEMBER_WAITING) &&
      gc_member_check_token (holder, session_id))
    {
      holder->resumes_in_progress++;
      member_cancel_resume (holder);
      g_free (holder->address);
      holder->address = g_strdup (address);
      *out_resume = TRUE;
      return gc_member_ref (holder);
    }

  if (g_hash_table_size (self->by_key) >= config->room_max_members)
    {
      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_ROOM_FULL,
                           "This room is full");
      return NULL;
    }

  if (holder != NULL)
    {
      *out_suggestion = gc_protocol_find_free_name (name, room_name_is_taken, self);
      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_NAME_TAKEN,
                           "That name is already in use in this room");
      return NULL;
    }

  /* The new reference is the room's. */
  member = gc_member_new (name, name_key, address, config->rate_burst, g_get_monotonic_time ());
  member->room = self;
  g_hash_table_insert (self->by_key, member->name_key, member);

  return gc_member_ref (member);
}

gboolean
gc_room_attach (GcRoom         *self,
                GcMember       *member,
                gboolean        resume,
                GcWsConnection *connection,
                gboolean        has_since,
                guint64         since)
{
  g_autoptr(GcRoom) hold = g_object_ref (self);

  /* Removed while its upgrade was in progress: the server shut down, or
   * the member to resume left. */
  if (member->state == GC_MEMBER_GONE)
    return FALSE;

  g_return_val_if_fail (member->room == self, FALSE);

  if (resume)
    {
      g_assert (member->resumes_in_progress > 0);
      member->resumes_in_progress--;

      /* Join events batched while it was away are in its welcome. */
      room_flush_presence (self);

      /* §6.2: a half-open old connection is replaced. */
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
      g_assert (member->state == GC_MEMBER_JOINING);
      member->state = GC_MEMBER_ACTIVE;
      room_announce (self, member);
    }

  member_attach_connection (member, connection);
  room_send_welcome (self, member, resume, has_since, since);

  /* Its welcome overflowed the slow-reader bound: it has left already. */
  if (member->state == GC_MEMBER_GONE)
    return TRUE;

  if (resume)
    {
      gc_server_count (self->server, GC_SERVER_COUNTER_RESUMES, 1);
      gc_server_log_event (G_LOG_LEVEL_INFO, "resume", self->code, member->user.id,
                           member->address, NULL);
    }
  else
    {
      g_autoptr(GBytes) event = gc_event_build_join (&member->user, now_ms ());

      room_queue_join (self, member, event);
      gc_server_count (self->server, GC_SERVER_COUNTER_JOINS, 1);
      gc_server_log_event (G_LOG_LEVEL_INFO, "join", self->code, member->user.id,
                           member->address, NULL);
    }

  return TRUE;
}

void
gc_room_release (GcRoom   *self,
                 GcMember *member,
                 gboolean  resume)
{
  g_autoptr(GcRoom) hold = g_object_ref (self);

  if (member->state == GC_MEMBER_GONE)
    return;

  if (resume)
    {
      g_assert (member->resumes_in_progress > 0);
      if (--member->resumes_in_progress == 0 && member->state == GC_MEMBER_WAITING)
        member_arm_resume (self, member);
    }
  else
    {
      g_autoptr(GcMember) unlinked = room_unlink (self, member);

      room_check_empty (self);
    }
}

void
gc_room_close_all (GcRoom     *self,
                   gushort     code,
                   const char *reason)
{
  g_autoptr(GcRoom) hold = g_object_ref (self);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_member_unref);
  GHashTableIter iter;
  GcMember *member;

  room_flush_presence (self);

  g_hash_table_iter_init (&iter, self->by_key);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &member))
    g_ptr_array_add (all, gc_member_ref (member));

  for (guint i = 0; i < all->len; i++)
    {
      g_autoptr(GcWsConnection) connection = NULL;

      member = g_ptr_array_index (all, i);
      member_cancel_resume (member);
      if (member->connection != NULL)
        {
          connection = g_object_ref (member->connection);
          member_detach_connection (member);
          gc_ws_connection_close (connection, code, reason);
        }
    }

  for (guint i = 0; i < all->len; i++)
    {
      g_autoptr(GcMember) unlinked = room_unlink (self, g_ptr_array_index (all, i));
    }
}

/* Object ---------------------------------------------------------------- */

GcRoom *
gc_room_new (GcServer   *server,
             const char *code)
{
  GcRoom *self = g_object_new (GC_TYPE_ROOM, NULL);

  self->server = server;
  self->code = g_strdup (code);
#ifdef HAVE_REDIS
  self->redis = gc_server_get_redis (server);
  if (self->redis != NULL)
    {
      /* Closed when the room goes (nested: a join may still hold an
       * older room of this code). */
      g_object_ref (self->redis);
      self->redis_context = g_main_context_ref (gc_ws_poller_get_context (gc_server_get_poller (server)));
      self->joining = g_ptr_array_new ();
      gc_redis_rooms_open (self->redis, code);
      self->redis_open = TRUE;
    }
#endif

  return self;
}

#ifdef HAVE_REDIS
typedef struct {
  GcRedisRooms *rooms;
  char         *code;
} RedisClose;

static gboolean
redis_close_room (gpointer data)
{
  RedisClose *close = data;

  gc_redis_rooms_close (close->rooms, close->code);
  g_object_unref (close->rooms);
  g_free (close->code);
  g_free (close);
  return G_SOURCE_REMOVE;
}
#endif

static void
gc_room_dispose (GObject *object)
{
  GcRoom *self = GC_ROOM (object);

  if (self->server != NULL)
    {
      gc_room_close_all (self, GC_WS_CLOSE_GOING_AWAY, "room closed");
      room_history_clear (self);
      self->server = NULL;
    }
  if (self->presence_source != NULL)
    {
      g_source_destroy (self->presence_source);
      g_clear_pointer (&self->presence_source, g_source_unref);
    }
  g_ptr_array_set_size (self->pending_joins, 0);
#ifdef HAVE_REDIS
  room_redis_clear_joins (self);
  /* Deferred: this may run inside the rooms' event delivery. */
  if (self->redis_open)
    {
      RedisClose *close = g_new (RedisClose, 1);

      g_autoptr(GSource) idle = g_idle_source_new ();

      self->redis_open = FALSE;
      close->rooms = g_object_ref (self->redis);
      close->code = g_strdup (self->code);
      /* On the server's context, as the room's other sources. */
      g_source_set_static_name (idle, "[gochat] redis room close");
      g_source_set_callback (idle, redis_close_room, close, NULL);
      g_source_attach (idle, self->redis_context);
    }
#endif

  G_OBJECT_CLASS (gc_room_parent_class)->dispose (object);
}

static void
gc_room_finalize (GObject *object)
{
  GcRoom *self = GC_ROOM (object);

  g_assert (self->pending_leaves->len == 0);
  g_array_unref (self->pending_leaves);
  g_ptr_array_unref (self->pending_joins);
  room_forget_members_json (self);
  g_ptr_array_unref (self->members);
  g_hash_table_unref (self->by_key);
  g_free (self->code);
#ifdef HAVE_REDIS
  /* Each join holds a reference, so none is left here. */
  if (self->joining != NULL)
    g_ptr_array_unref (self->joining);
  /* Kept past dispose: a rename answered after the room's last member
   * left still sends what that member said, then its leave. */
  g_clear_pointer (&self->redis_rename_holds, g_hash_table_unref);
  g_free (self->redis_frames);
  g_clear_object (&self->redis);
  g_clear_pointer (&self->redis_context, g_main_context_unref);
#endif

  G_OBJECT_CLASS (gc_room_parent_class)->finalize (object);
}

static void
gc_room_class_init (GcRoomClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_room_dispose;
  object_class->finalize = gc_room_finalize;
}

static void
gc_room_init (GcRoom *self)
{
  self->members = g_ptr_array_new ();
  self->by_key = g_hash_table_new (g_str_hash, g_str_equal);
  self->pending_leaves = g_array_new (FALSE, FALSE, sizeof (PendingLeave));
  self->pending_joins = g_ptr_array_new_with_free_func (pending_join_free);
  g_queue_init (&self->history);
}

const char *
gc_room_get_code (GcRoom *self)
{
  g_return_val_if_fail (GC_IS_ROOM (self), NULL);

  return self->code;
}

guint
gc_room_get_n_members (GcRoom *self)
{
  g_return_val_if_fail (GC_IS_ROOM (self), 0);

  return g_hash_table_size (self->by_key);
}

guint
gc_room_get_n_announced (GcRoom *self)
{
  g_return_val_if_fail (GC_IS_ROOM (self), 0);

  return self->n_announced;
}

guint
gc_room_get_n_waiting (GcRoom *self)
{
  guint n = 0;

  g_return_val_if_fail (GC_IS_ROOM (self), 0);

  for (guint i = 0; i < self->members->len; i++)
    {
      GcMember *member = g_ptr_array_index (self->members, i);

      if (member != NULL && member->state == GC_MEMBER_WAITING)
        n++;
    }

  return n;
}

guint
gc_room_get_n_history (GcRoom *self)
{
  g_return_val_if_fail (GC_IS_ROOM (self), 0);

  return self->history.length;
}

gsize
gc_room_get_history_bytes (GcRoom *self)
{
  g_return_val_if_fail (GC_IS_ROOM (self), 0);

  return self->history_bytes;
}

guint
gc_room_get_max_walk_depth (GcRoom *self)
{
  g_return_val_if_fail (GC_IS_ROOM (self), 0);

  return self->max_walking;
}

GcWsConnection *
gc_room_get_member_connection (GcRoom     *self,
                               const char *name)
{
  g_autofree char *key = NULL;
  GcMember *member;

  g_return_val_if_fail (GC_IS_ROOM (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  key = gc_protocol_user_name_key (name);
  member = g_hash_table_lookup (self->by_key, key);

  return member != NULL ? member->connection : NULL;
}

