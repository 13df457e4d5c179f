/* gc-redis-rooms.h: rooms shared by several nodes through Redis
 *
 * The room rules of issue 13 that live in Redis: every change to a room
 * is one Lua script that takes the room's next sequence number, records
 * the change and PUBLISHes it; every node delivers only what its
 * subscription receives, in sequence order, repairing gaps from the
 * room's streams. What a node does with the events (frames to its own
 * members) is its business: this object knows no connections and no wire
 * JSON.
 *
 * How GcServer uses it (--redis):
 * - A room with a first local member: gc_redis_rooms_open(); with none
 *   left (waiting ones count): gc_redis_rooms_close().
 * - /joinRoom: pause the SoupServerMessage, then gc_redis_rooms_resume()
 *   (with a session_id; INVALID: go on as a fresh join) or _join():
 *   TAKEN → 409 with gc_protocol_find_free_name() over taken_keys, FULL →
 *   403 room_full, GC_REDIS_ERROR_DOWN → 503 `unavailable` with
 *   retry_after_ms, BUSY → 429 `rate_limited`. OK: upgrade; the welcome's
 *   members and history come from the result (history entries are
 *   message events to build with the protocol module: id = seq, ts =
 *   ts_ms); the member receives only events with seq > result->seq.
 * - Requests: _message() (its client_id echo is the delivered event),
 *   _rename(), _typing(); a leave (any reason, the resume window's end
 *   included) is _leave(). The node broadcasts nothing itself: each
 *   room's events arrive through the event function, in order, and go to
 *   the local members (typing not to the typist; RESUME: if the member is
 *   local and node != this node, close its connection with 4000 and drop
 *   it without a leave; JOIN/LEAVE/RENAME change the local member list).
 * - GONE answers: close that connection with 1011. LOST errors (the
 *   command may have run): close with 1011, the client resumes and its
 *   `since` tells it what went out. ::room-lost: close the room's local
 *   connections with 1011.
 * - gc_redis_rooms_start_lease() at start; ::lease-changed FALSE: close
 *   every connection with 1011, answer joins 503 until it is TRUE again.
 * - SIGTERM: close with 1001 and do NOT _leave(): gc_redis_rooms_drain(),
 *   exit once it answered; the members wait for a resume elsewhere.
 * - /healthz "redis": gc_redis_client_is_up(); /metrics: the client's and
 *   rooms' stats (rtt, reconnects, repairs, nodes).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-redis-client.h"

G_BEGIN_DECLS

typedef enum {
  GC_REDIS_ROOM_EVENT_JOIN,
  GC_REDIS_ROOM_EVENT_LEAVE,
  GC_REDIS_ROOM_EVENT_MESSAGE,
  GC_REDIS_ROOM_EVENT_RENAME,
  GC_REDIS_ROOM_EVENT_TYPING,
  /* A member taken over by the node @node (from @old_node): no leave, no
   * join; @old_node closes the old connection with 4000. */
  GC_REDIS_ROOM_EVENT_RESUME,
} GcRedisRoomEventType;

/* One change to a room, as every node sees it. Strings are never NULL
 * except client_id (absent), a message's json_tail or kind and text, and
 * those its type does not use. */
typedef struct {
  GcRedisRoomEventType type;
  guint64 seq;            /* the room's sequence: message ids */
  gint64 ts_ms;           /* Redis's clock */
  const char *user_id;
  const char *name;       /* the (new) name */
  const char *name_key;   /* JOIN, LEAVE, RENAME: its key */
  const char *node;       /* JOIN, RESUME: the node the member is on */
  const char *old_node;   /* RESUME */
  const char *reason;     /* LEAVE */
  const char *kind;       /* MESSAGE: text or emote */
  const char *text;       /* MESSAGE */
  const char *client_id;  /* MESSAGE: NULL when the sender gave none */
  /* MESSAGE: the event's JSON after its "ts" value as the sending node
   * built it (gc_event_message_tail()); or NULL, and then kind and text
   * are set (they are NULL, and client_id too, when it is set). It is
   * json_tail_len bytes and NOT NUL-terminated when delivered in place
   * from the subscription's payload: use the length. Checked when read:
   * it starts with ,"from": and ends with }, valid UTF-8 without NUL (a
   * record with another is unreadable: repaired, or the room is lost). */
  const char *json_tail;
  gsize json_tail_len;
  const char *old_name;   /* RENAME */
  const char *old_key;    /* RENAME */
  gboolean active;        /* TYPING */
  /* A message of a batch delivered in one call: the batch-end function
   * follows it (and the batch's others) in the same call, so what it
   * sends may wait for that. */
  gboolean in_batch;
  /*< private >*/
  char *record;
} GcRedisRoomEvent;

void gc_redis_room_event_free (GcRedisRoomEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcRedisRoomEvent, gc_redis_room_event_free)

/* A member as the room's hash in Redis has it. */
typedef struct {
  char *user_id;
  char *name;
  char *name_key;
  char *node;
  guint64 joined_seq;     /* members are listed in this order */
} GcRedisRoomMember;

typedef enum {
  GC_REDIS_ROOM_OK,
  GC_REDIS_ROOM_TAKEN,    /* join, rename: the name's key is in use */
  GC_REDIS_ROOM_FULL,     /* join: room_max_members across all nodes */
  GC_REDIS_ROOM_GONE,     /* the member is no longer in the room */
  GC_REDIS_ROOM_INVALID,  /* resume: no such member, or not its token */
} GcRedisRoomStatus;

/* The answer to one operation; valid only during the callback. */
typedef struct {
  GcRedisRoomStatus status;
  guint64 seq;            /* OK: the change's sequence number */
  gint64 ts_ms;           /* OK */
  /* JOIN OK: every member (the joiner included), in join order, and the
   * retained messages after `since`, oldest first. */
  GPtrArray *members;     /* of GcRedisRoomMember */
  GPtrArray *history;     /* of GcRedisRoomEvent */
  /* TAKEN: every key in use, for the suggestion (gc_protocol_find_free_name). */
  GHashTable *taken_keys; /* set of keys */
  const char *user_id;    /* RESUME OK: the member's id */
} GcRedisRoomResult;

typedef void (*GcRedisRoomResultFunc) (const GcRedisRoomResult *result,
                                       const GError            *error,
                                       gpointer                 user_data);

/* Called for every event of an open room, in sequence order, exactly
 * once, the node's own changes included. */
typedef void (*GcRedisRoomEventFunc) (const char             *room,
                                      const GcRedisRoomEvent *event,
                                      gpointer                user_data);

#define GC_TYPE_REDIS_ROOMS (gc_redis_rooms_get_type ())
G_DECLARE_FINAL_TYPE (GcRedisRooms, gc_redis_rooms, GC, REDIS_ROOMS, GObject)

GcRedisRooms *gc_redis_rooms_new          (GcRedisClient        *client,
                                           const char           *node_id);
/* history: messages kept per room (exact). */
void          gc_redis_rooms_set_history  (GcRedisRooms         *self,
                                           guint                 history);
/* Messages the history stream keeps at least for gap repair, whatever
 * the history (default 1000; 0: the history only, for tests). */
void          gc_redis_rooms_set_repair_messages (GcRedisRooms  *self,
                                                  guint          messages);
/* How long a flush of messages waits for more while a message call of
 * this node is in flight (default 1 ms; tests make it long). */
void          gc_redis_rooms_set_flush_hold (GcRedisRooms  *self,
                                             guint          ms);
void          gc_redis_rooms_set_event_func (GcRedisRooms       *self,
                                             GcRedisRoomEventFunc func,
                                             gpointer            user_data);
/* Called once a batch of messages delivered with in_batch set is over
 * (also when a delivery closed or unsynced its room part way). */
typedef void (*GcRedisRoomBatchEndFunc) (const char *room,
                                         gpointer    user_data);
void          gc_redis_rooms_set_batch_end_func (GcRedisRooms           *self,
                                                 GcRedisRoomBatchEndFunc func,
                                                 gpointer                user_data);

/* A node opens a room before its first local member joins and closes it
 * after its last one is gone (calls nest). Operations on a room wait for
 * its subscription, so that nothing published after them is missed. */
void          gc_redis_rooms_open         (GcRedisRooms *self,
                                           const char   *room);
void          gc_redis_rooms_close        (GcRedisRooms *self,
                                           const char   *room);
/* The room's last local member is gone, before the (maybe deferred)
 * close: what the node knew of its sequence no longer holds (Redis
 * deletes an emptied room, and its next join seeds a new sequence), so a
 * join before the close takes the room's sequence from its answer, as on
 * a room new to the node. */
void          gc_redis_rooms_unsync       (GcRedisRooms *self,
                                           const char   *room);

/* @since: 0 for all history. @max_members: 0 for no limit. */
void          gc_redis_rooms_join         (GcRedisRooms          *self,
                                           const char            *room,
                                           const char            *name,
                                           const char            *name_key,
                                           const char            *user_id,
                                           const char            *token_hash,
                                           guint                  max_members,
                                           guint64                since,
                                           GcRedisRoomResultFunc  func,
                                           gpointer               user_data);
void          gc_redis_rooms_leave        (GcRedisRooms          *self,
                                           const char            *room,
                                           const char            *name_key,
                                           const char            *user_id,
                                           const char            *reason,
                                           GcRedisRoomResultFunc  func,
                                           gpointer               user_data);
/* @client_id: NULL when none. @name: the sender's, as this node knows
 * it: a message whose sender is not in the room under that key and name
 * (gone, or renamed in Redis) is answered GONE. @json_tail
 * (@json_tail_len bytes), or NULL: the event's JSON after its "ts" value,
 * built with that name, which every node's event then carries. */
void          gc_redis_rooms_message      (GcRedisRooms          *self,
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
                                           gpointer               user_data);
void          gc_redis_rooms_rename       (GcRedisRooms          *self,
                                           const char            *room,
                                           const char            *old_key,
                                           const char            *new_name,
                                           const char            *new_key,
                                           const char            *user_id,
                                           GcRedisRoomResultFunc  func,
                                           gpointer               user_data);
void          gc_redis_rooms_typing       (GcRedisRooms          *self,
                                           const char            *room,
                                           const char            *name_key,
                                           const char            *user_id,
                                           gboolean               active,
                                           GcRedisRoomResultFunc  func,
                                           gpointer               user_data);

/* Takes over the member of @name_key if @token_hash is the SHA-256 (hex)
 * of its token, wherever it is: the answer is like a join's. */
void          gc_redis_rooms_resume       (GcRedisRooms          *self,
                                           const char            *room,
                                           const char            *name_key,
                                           const char            *token_hash,
                                           guint64                since,
                                           GcRedisRoomResultFunc  func,
                                           gpointer               user_data);

/* The node's lease (issue 13, "Node failure"): renewed every @lease_ms/3;
 * every node sweeps often for nodes whose lease ran out, whose members
 * then wait @resume_ms for a resume before they leave (timeout).
 * ::lease-changed (held) says when this node may serve: without a lease
 * it must close its connections (1011) and refuse joins (503). A lease
 * is first taken only once the client is up (both its connections). */
void          gc_redis_rooms_start_lease  (GcRedisRooms *self,
                                           guint         lease_ms,
                                           guint         resume_ms);
gboolean      gc_redis_rooms_has_lease    (GcRedisRooms *self);
/* SIGTERM in a cluster: stops renewing and lets the lease run out now,
 * so the other nodes' next sweep makes this node's members wait for a
 * resume (no leave, no join; a rolling restart shows no storm). @func is
 * called once Redis has it: exit after that. */
void          gc_redis_rooms_drain        (GcRedisRooms          *self,
                                           GcRedisRoomResultFunc  func,
                                           gpointer               user_data);

typedef struct {
  guint64 repairs;        /* gaps filled from the streams */
  guint64 repaired_events;
  guint64 lost_rooms;     /* gaps the streams no longer covered */
  guint nodes;            /* nodes holding a lease, at the last renewal */
  guint64 swept_nodes;    /* dead nodes this node found */
  guint64 timeouts;       /* their members who left, by this node's sweeps */
  guint64 slow_batches;   /* message batches with a sender not in the
                           * room (gone, or renamed in Redis) */
} GcRedisRoomsStats;

void          gc_redis_rooms_get_stats    (GcRedisRooms      *self,
                                           GcRedisRoomsStats *stats);
GcRedisClient *gc_redis_rooms_get_client  (GcRedisRooms      *self);

G_END_DECLS
