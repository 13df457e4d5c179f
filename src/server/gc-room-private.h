/* gc-room-private.h: GcRoom's insides, shared by gc-room.c and the
 * files it is split into: presence (gc-room-presence.c), history
 * (gc-room-history.c), requests (gc-room-requests.c) and the Redis-backed room code (gc-room-redis.c, --redis)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-room.h"
#include "gc-server-private.h"

#ifdef HAVE_REDIS
#include "gc-redis-rooms.h"
#endif

G_BEGIN_DECLS

struct _GcRoom
{
  GObject       parent_instance;

  GcServer     *server;       /* borrowed: the server owns the room */
  char         *code;

  /* Every member not GONE, JOINING ones included: name key (owned by
   * the member) → member. The room holds one reference per member. Its
   * size is the room's member count. */
  GHashTable   *by_key;

  /* Announced members (ACTIVE, WAITING), borrowed; the fan-out walks
   * this array. Removals during a walk leave NULL holes that are
   * compacted when the outermost walk ends. */
  GPtrArray    *members;
  guint         n_announced;
  guint         walking;
  guint         max_walking;
  gboolean      has_holes;

  /* Leaves deferred during a walk (a broadcast that drops slow readers),
   * drained in a loop when it ends, so that dropping N readers nests no
   * deeper than one broadcast. */
  GArray       *pending_leaves;
  gboolean      draining;

  GQueue        history;      /* HistoryEntry, oldest first */
  gsize         history_bytes;

  /* Join events not sent yet, oldest first: each goes to the members
   * announced before its joiner. */
  GPtrArray    *pending_joins;   /* of PendingJoin */
  GSource      *presence_source;

  /* The welcome's member list, serialised, in the order of @members:
   * joins append to it, anything else that changes the list drops it
   * (rebuilt by the next welcome). NULL when dropped. */
  GString      *members_json;

#ifdef HAVE_REDIS
  /* --redis (borrowed from the server; NULL on a single node): every
   * change goes through Redis and comes back through the room's
   * subscription. Members are keyed by user id in @by_key then. */
  GcRedisRooms *redis;
  GPtrArray    *joining;      /* of GcRoomJoining, joins waiting to attach */
  /* Join events batched as on a single node (§4.4), in sequence order,
   * and each local member's join (or resume) sequence until the room's
   * events have passed it: a member is due only later joins. */
  GPtrArray    *redis_pending_joins;   /* of RedisPendingJoin, or NULL */
  GSource      *redis_presence_source;
  GHashTable   *redis_member_seq;      /* GcMember (a reference) → guint64* */
  GHashTable   *redis_rename_holds;    /* GcMember (a reference) → RenameHold, or NULL */
  guint64       redis_last_seq;        /* the last event of the room applied */
  /* The frames of a batch's messages, one after the other, sent to the
   * members at the batch's end (gc_room_redis_batch_end()), or NULL;
   * and the head of the last, whose numbers the next one reuses. */
  char         *redis_frames;
  gsize         redis_frames_length;
  gsize         redis_frames_size;
  GcEventMessageHead redis_message_head;
  gboolean      redis_open;
  GMainContext *redis_context;
#endif
};

static inline const GcServerConfig *
room_config (GcRoom *self)
{
  return gc_server_get_config (self->server);
}

static inline gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

void room_walk_begin (GcRoom *self);
void room_walk_end (GcRoom *self);

void room_broadcast (GcRoom   *self,
                     GBytes   *event,
                     GcMember *except);
void room_send (GcRoom   *self,
                GcMember *member,
                GBytes   *event);
void room_drop_member (GcRoom        *self,
                       GcMember      *member,
                       GcLeaveReason  reason,
                       gushort        close_code,
                       const char    *close_reason);

/* gc-room-requests.c */
void room_handle_text (GcRoom   *self,
                       GcMember *member,
                       GBytes   *payload);

/* gc-room-presence.c */
/* Join events wait this long for more to go with them (§4.4), on a single
 * node and on a --redis one alike. */
#define ROOM_PRESENCE_BATCH_MS 250
void pending_join_free (gpointer data);
void room_flush_presence (GcRoom *self);
void room_queue_join (GcRoom   *self,
                      GcMember *member,
                      GBytes   *event);
void room_forget_members_json (GcRoom *self);
void room_send_welcome (GcRoom   *self,
                        GcMember *member,
                        gboolean  resumed,
                        gboolean  has_since,
                        guint64   since);

/* gc-room-history.c */
/* The bytes of message events a welcome's history holds at most (§6.1). */
gsize gc_room_history_budget (const GcServerConfig *config);
void room_history_push (GcRoom  *self,
                        guint64  id,
                        GBytes  *event);
GPtrArray * room_history_since (GcRoom   *self,
                                gboolean  has_since,
                                guint64   since);
void room_history_clear (GcRoom *self);

void room_send_error (GcRoom          *self,
                 GcMember        *member,
                 GcProtocolError  code,
                 const char      *message,
                 const char      *ref,
                 guint64          retry_after_ms);
void room_member_lost (GcRoom   *self,
                  GcMember *member);
GcMember * room_unlink (GcRoom   *self,
             GcMember *member);
void room_check_empty (GcRoom *self);
void member_cancel_resume (GcMember *member);
void member_detach_connection (GcMember *member);
void member_attach_connection (GcMember       *member,
                          GcWsConnection *connection);
void room_announce (GcRoom   *self,
               GcMember *member);
void room_send_now (GcRoom   *self,
               GcMember *member,
               GBytes   *event);
void room_broadcast_frame (GcRoom   *self,
                      GBytes   *frame,
                      GcMember *except);
void member_arm_resume (GcRoom   *self,
                   GcMember *member);

#ifdef HAVE_REDIS
void room_redis_handle_request (GcRoom    *self,
                                GcMember  *member,
                                GcRequest *request);
/* Sends the leave of @member (unlinked), after its requests still held
 * behind a rename of it. */
void room_redis_leave (GcRoom        *self,
                       GcMember      *member,
                       GcLeaveReason  reason);
/* Sends the batched join events (every other send to a member flushes
 * them first, through room_flush_presence()); _clear drops them. */
void room_redis_flush_joins (GcRoom *self);
void room_redis_clear_joins (GcRoom *self);
#endif

G_END_DECLS
