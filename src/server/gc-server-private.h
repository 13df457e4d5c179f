/* gc-server-private.h: the contract between GcServer and its rooms
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-member.h"
#include "gc-protocol.h"
#include "gc-room.h"
#include "gc-server.h"
#include "gc-ws-connection.h"

G_BEGIN_DECLS

/* Room side, used by the server. */

GcRoom         *gc_room_new                 (GcServer        *server,
                                             const char      *code);

/* Reserves a place for a join whose upgrade is about to start: with a
 * valid @session_id for the member of that name, that member, to be taken
 * over (@out_resume TRUE); otherwise a new JOINING member holding the name.
 * Fails with GC_PROTOCOL_ERROR_ROOM_FULL or GC_PROTOCOL_ERROR_NAME_TAKEN
 * (then @out_suggestion is a free name). Returns a new reference. */
GcMember       *gc_room_reserve             (GcRoom          *self,
                                             const char      *name,
                                             const char      *name_key,
                                             const char      *session_id,
                                             const char      *address,
                                             gboolean        *out_resume,
                                             char           **out_suggestion,
                                             GError         **error);
/* The upgrade of a reserved member finished: welcome, then (unless
 * resuming) the join broadcast. Returns %FALSE if the member was removed
 * meanwhile (shutdown, or the member to resume left); the caller then
 * closes @connection. */
gboolean        gc_room_attach              (GcRoom          *self,
                                             GcMember        *member,
                                             gboolean         resume,
                                             GcWsConnection  *connection,
                                             gboolean         has_since,
                                             guint64          since);
/* The upgrade of a reserved member failed. */
void            gc_room_release             (GcRoom          *self,
                                             GcMember        *member,
                                             gboolean         resume);
/* Shutdown: closes every member's connection with @code and forgets every
 * member, broadcasting nothing. */
void            gc_room_close_all           (GcRoom          *self,
                                             gushort          code,
                                             const char      *reason);
/* Members that are connected or waiting for a resume (not joining). */
guint           gc_room_get_n_announced     (GcRoom          *self);
guint           gc_room_get_n_waiting       (GcRoom          *self);
/* The bytes of message events the room's history holds. */
gsize           gc_room_get_history_bytes   (GcRoom          *self);
/* The deepest the room's member walks (broadcasts) have nested, for tests:
 * dropping slow readers during a broadcast must not nest them. */
guint           gc_room_get_max_walk_depth  (GcRoom          *self);
/* The connection of the member called @name, or %NULL; for tests. */
GcWsConnection *gc_room_get_member_connection (GcRoom        *self,
                                               const char    *name);

/* Server side, used by rooms. */

GcWsPoller     *gc_server_get_poller        (GcServer        *self);
const GcLimits *gc_server_get_limits        (GcServer        *self);
guint64         gc_server_next_message_id   (GcServer        *self);
/* The room has no members left: the hub drops it. */
void            gc_server_room_emptied      (GcServer        *self,
                                             GcRoom          *room);

typedef enum {
  GC_SERVER_COUNTER_MESSAGES,
  GC_SERVER_COUNTER_JOINS,
  GC_SERVER_COUNTER_RESUMES,
  GC_SERVER_COUNTER_BYTES_SENT,
  GC_SERVER_COUNTER_BYTES_RECEIVED,
  GC_SERVER_N_COUNTERS,
} GcServerCounter;

void            gc_server_count             (GcServer        *self,
                                             GcServerCounter  counter,
                                             guint64          amount);
void            gc_server_count_leave       (GcServer        *self,
                                             GcLeaveReason    reason);
/* In-band refusals (docs/protocol.md §3.6) in flight per address: begin
 * returns %FALSE when @address has its share (a few) already (it is then
 * refused over HTTP); end when its connection is gone. */
gboolean        gc_server_refusal_begin     (GcServer        *self,
                                             const char      *address);
void            gc_server_refusal_end       (GcServer        *self,
                                             const char      *address);
/* Whether begin would return %TRUE now. */
gboolean        gc_server_refusal_available (GcServer        *self,
                                             const char      *address);
/* An `error` event sent to a member (§4.8). */
void            gc_server_count_error_event (GcServer        *self,
                                             GcProtocolError  code);

/* Server side, used by joins. */

gboolean        gc_server_is_shutting_down  (GcServer        *self);
/* The room of canonical code @code, created if need be (the server
 * holds the only strong reference). */
GcRoom         *gc_server_ensure_room       (GcServer        *self,
                                             const char      *code);
/* An upgraded connection: the server holds it until it closes, with the
 * configured limits and keepalive. */
void            gc_server_add_connection    (GcServer        *self,
                                             GcWsConnection  *connection);

/* Removes @source from its context, if any, and forgets it. */
static inline void
gc_clear_source (GSource **source)
{
  if (*source == NULL)
    return;

  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* For the HTTP endpoints. */
void            gc_server_count_refusal     (GcServer        *self,
                                             GcProtocolError  code);
guint64         gc_server_get_counter       (GcServer        *self,
                                             GcServerCounter  counter);
guint64         gc_server_get_n_refusals    (GcServer        *self,
                                             GcProtocolError  code);
guint64         gc_server_get_n_leaves      (GcServer        *self,
                                             GcLeaveReason    reason);
/* Members that are connected or waiting for a resume, over all rooms. */
guint           gc_server_get_n_announced   (GcServer        *self);
/* Members waiting for a resume, over all rooms. */
guint           gc_server_get_n_waiting     (GcServer        *self);
guint64         gc_server_get_n_error_events (GcServer       *self,
                                              GcProtocolError code);
gint64          gc_server_get_uptime_seconds (GcServer       *self);

/* One structured log line per join, leave or refusal (never message
 * text). @room, @user_id, @address and @reason may be %NULL. */
void            gc_server_log_event         (GLogLevelFlags   level,
                                             const char      *event,
                                             const char      *room,
                                             const char      *user_id,
                                             const char      *address,
                                             const char      *reason);

/* --redis, for /healthz: "ok" or "down" (Redis unreachable, or this node
 * holds no lease); NULL on a single node. */
const char     *gc_server_get_redis_state   (GcServer        *self);
/* --redis, for /metrics: Redis's round trip, reconnects, repairs, nodes;
 * nothing on a single node. */
void            gc_server_append_redis_metrics (GcServer     *self,
                                             GString         *out);

#ifdef HAVE_REDIS
/* --redis (gc-room.c, gc-join-redis.c): rooms shared through Redis. */
#include "gc-redis-rooms.h"

typedef struct _GcRoomJoining GcRoomJoining;

void            gc_server_set_redis         (GcServer        *self,
                                             GcRedisRooms    *rooms,
                                             const char      *node_id);
GcRedisRooms   *gc_server_get_redis         (GcServer        *self);
const char     *gc_server_get_node_id       (GcServer        *self);

GcRoomJoining  *gc_room_redis_begin_join    (GcRoom          *self,
                                             GcMember        *member);
void            gc_room_redis_set_joining_seq (GcRoom        *self,
                                             GcRoomJoining   *joining,
                                             GcMember        *member,
                                             guint64          seq);
GcMember       *gc_room_redis_lookup        (GcRoom          *self,
                                             const char      *user_id);
void            gc_room_redis_add           (GcRoom          *self,
                                             GcMember        *member);
/* TRUE if @event only joined the room's batch (nothing was sent, so
 * nothing could close the room). */
gboolean        gc_room_redis_event         (GcRoom          *self,
                                             const GcRedisRoomEvent *event);
void            gc_room_redis_batch_end     (GcRoom          *self);
gboolean        gc_room_redis_attach        (GcRoom          *self,
                                             GcRoomJoining   *joining,
                                             gboolean         resume,
                                             GcWsConnection  *connection,
                                             GBytes          *welcome);
void            gc_room_redis_release       (GcRoom          *self,
                                             GcRoomJoining   *joining,
                                             gboolean         resume);
#endif

G_END_DECLS
