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
} GcRedisRoomEventType;

/* One change to a room, as every node sees it. Strings are never NULL
 * except client_id (absent) and those its type does not use. */
typedef struct {
  GcRedisRoomEventType type;
  guint64 seq;            /* the room's sequence: message ids */
  gint64 ts_ms;           /* Redis's clock */
  const char *user_id;
  const char *name;       /* the (new) name */
  const char *name_key;   /* JOIN, LEAVE, RENAME: its key */
  const char *node;       /* JOIN: the node the member is on */
  const char *reason;     /* LEAVE */
  const char *kind;       /* MESSAGE: text or emote */
  const char *text;       /* MESSAGE */
  const char *client_id;  /* MESSAGE: NULL when the sender gave none */
  const char *old_name;   /* RENAME */
  const char *old_key;    /* RENAME */
  gboolean active;        /* TYPING */
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
void          gc_redis_rooms_set_event_func (GcRedisRooms       *self,
                                             GcRedisRoomEventFunc func,
                                             gpointer            user_data);

/* A node opens a room before its first local member joins and closes it
 * after its last one is gone (calls nest). Operations on a room wait for
 * its subscription, so that nothing published after them is missed. */
void          gc_redis_rooms_open         (GcRedisRooms *self,
                                           const char   *room);
void          gc_redis_rooms_close        (GcRedisRooms *self,
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
/* @client_id: NULL when none. */
void          gc_redis_rooms_message      (GcRedisRooms          *self,
                                           const char            *room,
                                           const char            *name_key,
                                           const char            *user_id,
                                           const char            *kind,
                                           const char            *text,
                                           const char            *client_id,
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

typedef struct {
  guint64 repairs;        /* gaps filled from the streams */
  guint64 repaired_events;
  guint64 lost_rooms;     /* gaps the streams no longer covered */
} GcRedisRoomsStats;

void          gc_redis_rooms_get_stats    (GcRedisRooms      *self,
                                           GcRedisRoomsStats *stats);

G_END_DECLS
