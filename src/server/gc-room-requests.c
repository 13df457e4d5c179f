/* gc-room-requests.c: what a room does with its members' requests
 * (message, typing, rename), after the rate limit and parsing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-room-private.h"
#include "gc-token-bucket.h"
#include "gc-ws-frame.h"

/* Requests -------------------------------------------------------------- */

static void
room_handle_message (GcRoom    *self,
                     GcMember  *member,
                     GcRequest *request)
{
  g_autoptr(GBytes) event = NULL;
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GBytes) retained = NULL;
  guint64 id = gc_server_next_message_id (self->server);
  gsize len;
  const guint8 *data;

  event = gc_event_build_message (id, now_ms (), &member->user, request->kind,
                                  request->text, request->client_id);
  data = g_bytes_get_data (event, &len);
  frame = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE, data, len);

  /* History keeps a slice of the frame: one copy of the bytes serves
   * every queue and every later welcome. */
  retained = g_bytes_new_from_bytes (frame, g_bytes_get_size (frame) - len, len);
  room_history_push (self, id, retained);

  member->typing = FALSE;
  gc_server_count (self->server, GC_SERVER_COUNTER_MESSAGES, 1);
  room_broadcast_frame (self, frame, NULL);
}

static void
room_handle_typing (GcRoom    *self,
                    GcMember  *member,
                    GcRequest *request)
{
  g_autoptr(GBytes) event = gc_event_build_typing (&member->user, request->active);

  member->typing = request->active;
  room_broadcast (self, event, member);
}

static void
room_handle_rename (GcRoom    *self,
                    GcMember  *member,
                    GcRequest *request)
{
  g_autofree char *key = gc_protocol_user_name_key (request->name);
  g_autofree char *old_name = NULL;
  g_autoptr(GBytes) event = NULL;
  GcMember *holder = g_hash_table_lookup (self->by_key, key);

  if (holder != NULL && holder != member)
    {
      room_send_error (self, member, GC_PROTOCOL_ERROR_NAME_TAKEN,
                       "That name is already in use in this room", NULL, 0);
      return;
    }

  g_hash_table_remove (self->by_key, member->name_key);
  old_name = g_steal_pointer (&member->user.name);
  gc_member_take_name (member, g_steal_pointer (&request->name), g_steal_pointer (&key));
  room_forget_members_json (self);
  g_hash_table_insert (self->by_key, member->name_key, member);

  event = gc_event_build_rename (&member->user, old_name, now_ms ());
  room_broadcast (self, event, NULL);

  gc_server_log_event (G_LOG_LEVEL_INFO, "rename", self->code, member->user.id,
                       member->address, NULL);
}

void
room_handle_text (GcRoom   *self,
                  GcMember *member,
                  GBytes   *payload)
{
  const GcServerConfig *config = room_config (self);
  g_autoptr(GcRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ref = NULL;
  gint64 now = g_get_monotonic_time ();
  gint64 retry_after_us = 0;
  GcMemberRequestVerdict verdict;
  gsize len;
  const char *text = g_bytes_get_data (payload, &len);

  /* §6.4: every request takes a token before validation. */
  verdict = gc_member_take_request (member, config->rate_burst, config->rate_per_second, now,
                                    &retry_after_us);
  if (verdict != GC_MEMBER_REQUEST_ALLOWED)
    {
      if (verdict == GC_MEMBER_REQUEST_FLOODING)
        {
          room_drop_member (self, member, GC_LEAVE_REASON_FLOOD,
                            GC_WS_CLOSE_POLICY_VIOLATION, "flooding");
          return;
        }

      /* Parse only for `ref`: refusals are bounded by the flood limit. */
      request = gc_request_parse (text, len, config->max_text_bytes, &ref, NULL);
      room_send_error (self, member, GC_PROTOCOL_ERROR_RATE_LIMITED,
                       "Too many requests; slow down", ref,
                       gc_ms_from_us_ceil (retry_after_us));
      return;
    }

  request = gc_request_parse (text, len, config->max_text_bytes, &ref, &error);
  if (request == NULL)
    {
      g_autoptr(GBytes) event = gc_event_build_error_from_gerror (error, ref, 0);

      gc_server_count_error_event (self->server, error->code);
      room_send (self, member, event);
      return;
    }

#ifdef HAVE_REDIS
  if (self->redis != NULL)
    {
      room_redis_handle_request (self, member, request);
      return;
    }
#endif

  switch (request->type)
    {
    case GC_REQUEST_MESSAGE:
      room_handle_message (self, member, request);
      break;
    case GC_REQUEST_TYPING:
      room_handle_typing (self, member, request);
      break;
    case GC_REQUEST_RENAME:
      room_handle_rename (self, member, request);
      break;
    default:
      g_assert_not_reached ();
    }
}
