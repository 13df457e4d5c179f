/* gc-join-redis.c: one join with --redis, through the room's Redis script
 *
 * The checks of docs/protocol.md §3.7 ran already (gc-join.c). The
 * request is paused while Redis answers: the script holds the name across
 * every node, checks room_max_members, and (with a session_id) takes the
 * member over from whichever node had it. Then the upgrade starts as on
 * a single node; the welcome is built from the script's answer, and the
 * events the subscription brings meanwhile wait for the member
 * (GcRoomJoining).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-admission-private.h"
#include "gc-http-private.h"
#include "gc-join-private.h"
#include "gc-room-private.h"
#include "gc-server-private.h"
#include "gc-ws-handshake.h"

static const char * const subprotocols[] = { GC_PROTOCOL_SUBPROTOCOL, NULL };

/* How long a client refused while Redis is away waits before trying again. */
#define UNAVAILABLE_RETRY_MS 2000

typedef struct {
  GWeakRef           server;
  SoupServerMessage *msg;
  GcHandshake       *handshake;
  GcRoom            *room;
  GcRoomJoining     *joining;
  GcMember          *member;     /* the joiner, or the member resumed */
  char              *code;
  char              *name;
  char              *name_key;
  char              *session_id;
  gboolean           has_since;
  guint64            since;
  gboolean           resume;
  gboolean           done;
  GBytes            *welcome;
} GcRedisJoin;

static void
redis_join_free (gpointer data)
{
  GcRedisJoin *join = data;

  if (!join->done && join->joining != NULL)
    gc_room_redis_release (join->room, join->joining, join->resume);

  g_weak_ref_clear (&join->server);
  g_clear_object (&join->msg);
  g_clear_pointer (&join->handshake, gc_handshake_unref);
  g_clear_object (&join->room);
  g_clear_pointer (&join->member, gc_member_unref);
  g_clear_pointer (&join->welcome, g_bytes_unref);
  g_free (join->code);
  g_free (join->name);
  g_free (join->name_key);
  g_free (join->session_id);
  g_free (join);
}

static char *
token_hash (const char *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

static void
on_upgraded (GcWsConnection *connection,
             gpointer        user_data)
{
  GcRedisJoin *join = user_data;
  g_autoptr(GcWsConnection) owned = connection;
  g_autoptr(GcServer) server = gc_join_take_upgraded (&join->server, join->handshake, connection);

  if (server == NULL)
    return;

  join->done = TRUE;
  if (!gc_room_redis_attach (join->room, g_steal_pointer (&join->joining), join->resume,
                             connection, join->welcome))
    gc_join_close_unattached (server, connection);
}

static void
build_welcome (GcRedisJoin             *join,
               GcServer                *server,
               const GcRedisRoomResult *result)
{
  const GcServerConfig *config = gc_server_get_config (server);
  g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_user_free);
  g_autoptr(GPtrArray) history = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GcWelcomeParams params = {
    .server_name = GC_PROTOCOL_SERVER_NAME,
    .server_version = PACKAGE_VERSION,
    .room = join->code,
    .you = &join->member->user,
    .session_id = join->member->token,
    .resume_s = config->resume_seconds,
    .resumed = join->resume,
    .members = users,
    .history = history,
    .limits = gc_server_get_limits (server),
  };
  gsize budget = gc_room_history_budget (config), history_bytes = 0;

  for (guint i = 0; result->members != NULL && i < result->members->len; i++)
    {
      GcRedisRoomMember *m = g_ptr_array_index (result->members, i);

      g_ptr_array_add (users, gc_user_new (m->user_id, m->name));
    }
  /* Newest first, as far as the byte budget of a single node's history
   * reaches (§6.1): the welcome then holds what one node would keep. */
  for (guint i = result->history != NULL ? result->history->len : 0; i > 0; i--)
    {
      GcRedisRoomEvent *ev = g_ptr_array_index (result->history, i - 1);
      GcUser from = { (char *) ev->user_id, (char *) ev->name };
      GcMessageKind kind = GC_MESSAGE_KIND_TEXT;
      GBytes *event;

      if (join->has_since && ev->seq <= join->since)
        break;
      if (ev->json_tail != NULL)
        event = gc_event_build_message_from_tail (ev->seq, ev->ts_ms, ev->json_tail,
                                                  ev->json_tail_len);
      else
        {
          gc_message_kind_from_string (ev->kind, &kind);
          event = gc_event_build_message (ev->seq, ev->ts_ms, &from, kind, ev->text,
                                          ev->client_id);
        }
      /* Checked where it was read (gc-redis-record.c): not expected. */
      if (event == NULL)
        continue;
      history_bytes += g_bytes_get_size (event);
      if (history_bytes > budget)
        {
          g_bytes_unref (event);
          break;
        }
      g_ptr_array_add (history, event);
    }
  /* Oldest first. */
  for (guint i = 0, j = history->len; i + 1 < j; i++, j--)
    {
      gpointer swap = history->pdata[i];

      history->pdata[i] = history->pdata[j - 1];
      history->pdata[j - 1] = swap;
    }

  join->welcome = gc_event_build_welcome (&params);
}

static gboolean
is_taken (const char *key,
          gpointer    user_data)
{
  return g_hash_table_contains (user_data, key);
}

static void redis_join_run (GcRedisJoin *join, GcServer *server);

static void
on_redis_answer (const GcRedisRoomResult *result,
                 const GError            *error,
                 gpointer                 user_data)
{
  GcRedisJoin *join = user_data;
  g_autoptr(GcServer) server = g_weak_ref_get (&join->server);
  g_autoptr(GError) accept_error = NULL;
  SoupServerMessage *msg = join->msg;

  soup_server_message_unpause (msg);

  if (server == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
      redis_join_free (join);
      return;
    }

  if (error != NULL)
    {
      if (g_error_matches (error, GC_REDIS_ERROR, GC_REDIS_ERROR_BUSY))
        gc_join_refuse (server, msg, join->handshake, GC_PROTOCOL_ERROR_RATE_LIMITED,
                        "The server is busy; try again later", NULL, 1000, join->code);
      else
        gc_join_refuse (server, msg, join->handshake, GC_PROTOCOL_ERROR_UNAVAILABLE,
                        "The room's store is unavailable; try again later", NULL,
                        UNAVAILABLE_RETRY_MS, join->code);
      redis_join_free (join);
      return;
    }

  switch (result->status)
    {
    case GC_REDIS_ROOM_OK:
      break;
    case GC_REDIS_ROOM_TAKEN:
      {
        g_autofree char *suggestion = NULL;

        if (result->taken_keys != NULL)
          suggestion = gc_protocol_find_free_name (join->name, is_taken, result->taken_keys);
        gc_join_refuse (server, msg, join->handshake, GC_PROTOCOL_ERROR_NAME_TAKEN,
                        "That name is already in use in this room", suggestion, 0, join->code);
        redis_join_free (join);
        return;
      }
    case GC_REDIS_ROOM_FULL:
      gc_join_refuse (server, msg, join->handshake, GC_PROTOCOL_ERROR_ROOM_FULL,
                      "This room is full", NULL, 0, join->code);
      redis_join_free (join);
      return;
    case GC_REDIS_ROOM_INVALID:
    case GC_REDIS_ROOM_GONE:
    default:
      /* §6.2: a token that resumes nothing is a fresh join. */
      if (join->resume)
        {
          join->resume = FALSE;
          g_clear_pointer (&join->session_id, g_free);
          gc_room_redis_release (join->room, g_steal_pointer (&join->joining), TRUE);
          soup_server_message_pause (msg);
          redis_join_run (join, server);
          return;
        }
      gc_join_refuse (server, msg, join->handshake, GC_PROTOCOL_ERROR_UNAVAILABLE,
                      "The room's store is unavailable; try again later", NULL,
                      UNAVAILABLE_RETRY_MS, join->code);
      redis_join_free (join);
      return;
    }

  if (join->resume)
    {
      GcMember *member = gc_room_redis_lookup (join->room, result->user_id);

      if (member != NULL && member->state != GC_MEMBER_GONE && member->state != GC_MEMBER_JOINING)
        {
          /* Resumed on the node that had it: its window stops, as on
           * a single node (gc-room.c), or it would still be armed when
           * the resumed connection drops in turn. */
          member->resumes_in_progress++;
          member_cancel_resume (member);
          g_free (member->address);
          member->address = g_strdup (gc_http_get_address (msg));
          join->member = gc_member_ref (member);
        }
      else
        {
          const char *name = join->name;
          const char *key = join->name_key;

          for (guint i = 0; result->members != NULL && i < result->members->len; i++)
            {
              GcRedisRoomMember *m = g_ptr_array_index (result->members, i);

              if (g_strcmp0 (m->user_id, result->user_id) == 0)
                {
                  name = m->name;
                  key = m->name_key;
                }
            }
          join->member = gc_member_new (name, key, gc_http_get_address (msg),
                                        gc_server_get_config (server)->rate_burst,
                                        g_get_monotonic_time ());
          g_strlcpy (join->member->id_buf, result->user_id, sizeof join->member->id_buf);
          g_strlcpy (join->member->token, join->session_id, sizeof join->member->token);
          gc_room_redis_add (join->room, join->member);
        }
    }
  else
    gc_room_redis_add (join->room, join->member);

  gc_room_redis_set_joining_seq (join->room, join->joining, join->member, result->seq);
  build_welcome (join, server, result);

  if (!gc_ws_server_accept (msg, NULL, subprotocols, gc_server_get_poller (server),
                            on_upgraded, join, redis_join_free, &accept_error))
    {
      gc_http_refuse (server, msg, GC_PROTOCOL_ERROR_BAD_REQUEST, accept_error->message, NULL, 0,
                      join->code);
      redis_join_free (join);
    }
}

static void
redis_join_run (GcRedisJoin *join,
                GcServer    *server)
{
  GcRedisRooms *rooms = gc_server_get_redis (server);
  const GcServerConfig *config = gc_server_get_config (server);
  guint64 since = join->has_since ? join->since : 0;

  if (join->session_id != NULL)
    {
      g_autofree char *hash = token_hash (join->session_id);

      join->resume = TRUE;
      join->joining = gc_room_redis_begin_join (join->room, NULL);
      gc_redis_rooms_resume (rooms, join->code, join->name_key, hash, since,
                             on_redis_answer, join);
    }
  else
    {
      g_autofree char *hash = NULL;

      g_clear_pointer (&join->member, gc_member_unref);
      join->member = gc_member_new (join->name, join->name_key, gc_http_get_address (join->msg),
                                    config->rate_burst, g_get_monotonic_time ());
      hash = token_hash (join->member->token);
      join->joining = gc_room_redis_begin_join (join->room, join->member);
      gc_redis_rooms_join (rooms, join->code, join->name, join->name_key, join->member->user.id,
                           hash, config->room_max_members, since, on_redis_answer, join);
    }
}

void
gc_join_start_redis (GcServer          *server,
                     SoupServerMessage *msg,
                     gpointer           hs,
                     GcJoinQuery       *query)
{
  GcRedisJoin *join;

  /* Without a lease this node must not serve (issue 13, node failure). */
  if (!gc_redis_rooms_has_lease (gc_server_get_redis (server)))
    {
      gc_join_refuse (server, msg, hs, GC_PROTOCOL_ERROR_UNAVAILABLE,
                      "This node is not serving; try again later", NULL,
                      UNAVAILABLE_RETRY_MS, query->room_code);
      return;
    }

  join = g_new0 (GcRedisJoin, 1);
  g_weak_ref_init (&join->server, server);
  join->msg = g_object_ref (msg);
  join->handshake = hs != NULL ? gc_handshake_ref (hs) : NULL;
  join->code = g_steal_pointer (&query->room_code);
  join->name = g_steal_pointer (&query->user_name);
  join->name_key = gc_protocol_user_name_key (join->name);
  join->session_id = g_steal_pointer (&query->session_id);
  join->has_since = query->has_since;
  join->since = query->since;
  join->room = g_object_ref (gc_server_ensure_room (server, join->code));

  soup_server_message_pause (msg);
  redis_join_run (join, server);
}
