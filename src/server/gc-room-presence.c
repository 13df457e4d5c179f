/* gc-room-presence.c: a room's presence: join events batched per member,
 * and the cached member list of its welcomes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-room-private.h"
#include "gc-ws-frame.h"

/* Join events wait ROOM_PRESENCE_BATCH_MS (gc-room-private.h) for more to
 * go with them. A join costs the room one frame per member, and on
 * loopback a send to a member is most
 * of the server's CPU time for a join (about 25 sends per join with 5000
 * clients joining 100 rooms); batched, each member takes the joins of a
 * window in one writev. A person does not notice presence 0.1 s late,
 * and anything else the room sends flushes the batch first, so nobody
 * ever sees events out of order. */

typedef struct {
  GcMember *joiner;   /* owned */
  GBytes   *frame;
} PendingJoin;

void
pending_join_free (gpointer data)
{
  PendingJoin *pending = data;

  gc_member_unref (pending->joiner);
  g_bytes_unref (pending->frame);
  g_free (pending);
}

/* Sends the batched join events: each member gets those of the members
 * announced after it, in order, which its queue writes in one go. */
void
room_flush_presence (GcRoom *self)
{
  g_autoptr(GPtrArray) pending = NULL;
  guint64 n_bytes = 0;

#ifdef HAVE_REDIS
  if (self->redis != NULL)
    room_redis_flush_joins (self);
#endif
  if (self->pending_joins->len == 0)
    return;

  if (self->presence_source != NULL)
    {
      g_source_destroy (self->presence_source);
      g_clear_pointer (&self->presence_source, g_source_unref);
    }
  /* Taken first: a send may drop a slow reader, whose leave flushes. */
  pending = g_steal_pointer (&self->pending_joins);
  self->pending_joins = g_ptr_array_new_with_free_func (pending_join_free);

  g_object_ref (self);
  room_walk_begin (self);
  for (guint i = 0; i < self->members->len; i++)
    {
      GcMember *member = g_ptr_array_index (self->members, i);
      guint first = 0;

      if (member == NULL)
        continue;
      /* A member that joined in this batch hears of the later ones only. */
      for (guint j = 0; j < pending->len; j++)
        {
          if (((PendingJoin *) g_ptr_array_index (pending, j))->joiner == member)
            {
              first = j + 1;
              break;
            }
        }
      for (guint j = first; j < pending->len && member->connection != NULL; j++)
        {
          GBytes *frame = ((PendingJoin *) g_ptr_array_index (pending, j))->frame;

          gc_ws_connection_send_frame (member->connection, frame);
          n_bytes += g_bytes_get_size (frame);
        }
    }
  room_walk_end (self);

  gc_server_count (self->server, GC_SERVER_COUNTER_BYTES_SENT, n_bytes);
  g_object_unref (self);
}

static gboolean
on_presence_due (gpointer user_data)
{
  GcRoom *self = user_data;

  g_clear_pointer (&self->presence_source, g_source_unref);
  room_flush_presence (self);

  return G_SOURCE_REMOVE;
}

/* Queues @member's join event for the members announced before it. */
void
room_queue_join (GcRoom   *self,
                 GcMember *member,
                 GBytes   *event)
{
  PendingJoin *pending = g_new (PendingJoin, 1);
  gsize len;
  const guint8 *data = g_bytes_get_data (event, &len);

  pending->joiner = gc_member_ref (member);
  pending->frame = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE, data, len);
  g_ptr_array_add (self->pending_joins, pending);

  if (self->presence_source == NULL)
    {
      self->presence_source = g_timeout_source_new (ROOM_PRESENCE_BATCH_MS);
      g_source_set_static_name (self->presence_source, "[gochat] presence batch");
      g_source_set_callback (self->presence_source, on_presence_due, self, NULL);
      g_source_attach (self->presence_source,
                       gc_ws_poller_get_context (gc_server_get_poller (self->server)));
    }
}

void
room_forget_members_json (GcRoom *self)
{
  if (self->members_json != NULL)
    g_string_free (g_steal_pointer (&self->members_json), TRUE);
}

void
room_send_welcome (GcRoom   *self,
                   GcMember *member,
                   gboolean  resumed,
                   gboolean  has_since,
                   guint64   since)
{
  const GcServerConfig *config = room_config (self);
  g_autoptr(GPtrArray) users = g_ptr_array_new ();
  g_autoptr(GPtrArray) history = room_history_since (self, has_since, since);
  g_autoptr(GBytes) welcome = NULL;
  GcWelcomeParams params = {
    .server_name = GC_PROTOCOL_SERVER_NAME,
    .server_version = PACKAGE_VERSION,
    .room = self->code,
    .you = &member->user,
    .session_id = member->token,
    .resume_s = config->resume_seconds,
    .resumed = resumed,
    .members = users,
    .history = history,
    .limits = gc_server_get_limits (self->server),
  };

  /* Serialised once, then extended by each join. */
  if (self->members_json == NULL)
    {
      self->members_json = g_string_sized_new (64 * self->members->len);
      for (guint i = 0; i < self->members->len; i++)
        {
          GcMember *other = g_ptr_array_index (self->members, i);

          if (other == NULL)
            continue;
          if (self->members_json->len > 0)
            g_string_append_c (self->members_json, ',');
          gc_protocol_append_user (self->members_json, &other->user);
        }
    }
  params.members_json = self->members_json->str;
  params.members_json_len = self->members_json->len;

  /* History takes at most half the slow-reader bound, so the welcome
   * fits under it; one that does not (a huge member list under a tiny
   * bound) drops the joiner as a slow reader. */
  welcome = gc_event_build_welcome (&params);
  /* A joiner is due none of the pending join events (its member list
   * has them); a resumed member was flushed before it was attached. */
  room_send_now (self, member, welcome);
}
