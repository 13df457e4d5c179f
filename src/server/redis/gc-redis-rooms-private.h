/* gc-redis-rooms-private.h: GcRedisRooms's insides, shared by its files:
 * the operations and the object (gc-redis-rooms.c), each open room's
 * ordered delivery and repair (gc-redis-room.c), the node's lease
 * (gc-redis-lease.c) and the records on the wire to Redis
 * (gc-redis-record.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-redis-rooms.h"

G_BEGIN_DECLS


/* Changes other than messages kept for repair, per room (approximately:
 * MAXLEN ~ keeps at least this many). */
#define MAX_EVENTS 1000
/* Messages a room's history stream keeps at least by default, whatever
 * --history (the welcome still takes exactly --history): a node whose
 * subscription falls behind repairs from it up to this far back. */
#define REPAIR_MESSAGES 1000

struct _GcRedisRooms {
  GObject parent_instance;

  GcRedisClient *client;
  char *node_id;
  guint history;
  guint repair_messages;    /* the history stream keeps at least these */
  GcRedisRoomEventFunc event_func;
  gpointer event_data;
  GcRedisRoomBatchEndFunc batch_end_func;
  gpointer batch_end_data;

  GcRedisScript *join_script;
  GcRedisScript *leave_script;
  GcRedisScript *messages_script;
  GcRedisScript *rename_script;
  GcRedisScript *typing_script;
  GcRedisScript *repair_script;
  GcRedisScript *resume_script;
  GcRedisScript *renew_script;
  GcRedisScript *sweep_script;

  /* The lease. */
  guint lease_ms;
  guint resume_ms;
  guint renew_id;
  guint sweep_id;
  gboolean registered;     /* renewals may be fenced */
  gboolean renewing;
  gboolean sweeping;
  gboolean has_lease;
  gint64 lease_until_us;   /* monotonic: when the lease runs out */

  GHashTable *rooms;        /* code → Room */
  GHashTable *by_channel;   /* channel → Room (borrowed) */
  GPtrArray *batch_rooms;   /* codes of rooms with messages to flush */
  guint flush_id;
  guint message_calls;      /* message script calls in flight */
  guint flush_hold_ms;      /* a flush waits this long while one is */
  gulong subscribed_id;
  gulong state_id;

  GcRedisRoomsStats stats;
};

typedef struct _Room Room;

typedef enum {
  OP_JOIN,
  OP_LEAVE,
  OP_MESSAGE,
  OP_RENAME,
  OP_TYPING,
  OP_RESUME,
} OpType;

typedef struct {
  /* Borrowed while it waits inside the rooms (a strong reference there
   * would keep them alive forever); strong while Redis has it. */
  GcRedisRooms *rooms;
  gboolean holds_ref;
  char *code;
  OpType type;
  GcRedisScript *script;
  GPtrArray *args;          /* of char*, ARGV; NULL for a message */
  /* A message's parts in one buffer: its member's key, the member's id
   * and name as record fields, the rest of its record (nothing when it
   * has JSON), and its JSON field (or nothing): text may hold NUL, so
   * lengths. */
  char *message;
  gsize message_len[5];
  GcRedisRoomResultFunc func;
  gpointer user_data;
} Op;

struct _Room {
  GcRedisRooms *rooms;
  char *code;
  char *channel;
  char *keys[7];
  /* A batch's head ("B" SEQ " " TS) came, its body (the channel's next
   * message) has not: its first seq and time, if it could be read. */
  gboolean batch_head;
  gboolean batch_head_readable;
  guint64 batch_seq;
  gint64 batch_ts;
  guint opened;
  gboolean subscribed;      /* confirmed since the last loss */
  gboolean synced;          /* last_seq is meaningful */
  gboolean repairing;
  gboolean repair_again;    /* subscribed again during a repair */
  guint sync_generation;    /* a repair answers only the sync it began in */
  gboolean emptied;         /* unsynced by redis_room_unsync() */
  guint64 last_seq;
  GQueue buffer;            /* of GcRedisRoomEvent, waiting */
  GQueue waiting_ops;       /* of Op, waiting for the subscription */
  GPtrArray *batch;         /* of Op: messages for the next flush */
  guint64 flushes_sent;     /* message flushes sent, and answered: a */
  guint64 flushes_answered; /* room's next batch waits for the answer */
  /* The event function may close the room it is called for: the room
   * then only leaves the tables, delivers nothing more and is freed once
   * the delivery loops are out (an idle). */
  guint delivering;
  gboolean closed;
};

/* gc-redis-record.c: records are fields as LENGTH:BYTES. */
int               gc_redis_record_split   (char          *record,
                                           gsize          length,
                                           char         **fields,
                                           int            max_fields);
GcRedisRoomEvent *gc_redis_event_parse    (const char    *data,
                                           gsize          length);
/* Appends the events of one record (one, or a batch record's messages)
 * to @events (of GcRedisRoomEvent); FALSE, adding none, if unreadable. */
gboolean          gc_redis_record_parse   (const char    *data,
                                           gsize          length,
                                           GPtrArray     *events);
/* One LENGTH:BYTES field at *@p, as it is (LENGTH: 1 to 19 digits);
 * moves *@p past it. Inline: a node reads five per message it receives. */
static inline gboolean
gc_redis_field_next (const char  **p,
                     const char   *end,
                     const char  **value,
                     gsize        *length)
{
  const char *q = *p, *digits_end = end - q > 19 ? q + 19 : end;
  guint64 n = 0;

  while (q < digits_end && (guchar) (*q - '0') <= 9)
    n = n * 10 + (guint64) (*q++ - '0');
  if (q == *p || q == end || *q != ':' || n > (guint64) (end - q - 1))
    return FALSE;
  *value = q + 1;
  *length = n;
  *p = q + 1 + n;
  return TRUE;
}
/* A batch record's first seq, time and body (LENGTH:ITEM items), read in
 * place; FALSE if @record is not one. */
gboolean          gc_redis_batch_header   (const char    *record,
                                           gsize          length,
                                           guint64       *seq,
                                           gint64        *ts,
                                           const char   **body,
                                           gsize         *body_length);
/* One item of a batch as an event of its own (NULL if unreadable). */
GcRedisRoomEvent *gc_redis_batch_item_parse (const char  *item,
                                             gsize        length,
                                             guint64      seq,
                                             gint64       ts);
/* A batch's item of the form USER_ID NAME JSON, read in place. */
typedef struct {
  const char *user_id;
  gsize user_id_len;
  const char *name;
  gsize name_len;
  const char *json_tail;
  gsize json_tail_len;
} GcRedisBatchItem;

/* Reads @item into @out, its JSON tail checked; FALSE if it has another
 * form or its tail is unreadable. */
gboolean          gc_redis_batch_item_read  (const char       *item,
                                             gsize             length,
                                             GcRedisBatchItem *out);
gboolean          gc_redis_payload_next   (const char   **cursor,
                                           const char    *end,
                                           GPtrArray     *events);
/* A batch's head as the message script publishes and stores it,
 * "B" SEQ " " TS: the seq of its first message and their time; FALSE if
 * @head is not one. Its body, published next, is its messages as
 * LENGTH:ITEM items. */
gboolean          gc_redis_batch_head_parse (const char  *head,
                                             gsize        length,
                                             guint64     *seq,
                                             gint64      *ts);
/* Appends the messages of a batch's body, from @seq on, to @events (of
 * GcRedisRoomEvent); FALSE, adding none, if one is unreadable. */
gboolean          gc_redis_batch_body_parse (guint64      seq,
                                             gint64       ts,
                                             const char  *body,
                                             gsize        body_length,
                                             GPtrArray   *events);
/* Appends the events of history entries, a script's answer of head and
 * body pairs (an array of strings; nil for a field an entry lacks), to
 * @events; an entry it cannot read adds nothing. */
void              gc_redis_history_parse  (const redisReply *history,
                                           GPtrArray     *events);
void              gc_redis_member_free    (gpointer       data);
/* Writes LENGTH: (at most 21 bytes) at @p; returns the end. */
char             *gc_redis_record_put_length (char       *p,
                                              gsize       length);
/* Writes @value (@length bytes) as one field at @p (room for @length +
 * 21 bytes); returns the end. */
char             *gc_redis_record_put     (char          *p,
                                           const char    *value,
                                           gsize          length);
int               gc_redis_member_compare (gconstpointer  a,
                                           gconstpointer  b);

/* gc-redis-room.c */
int   redis_event_compare (gconstpointer a,
                           gconstpointer b);
Room *redis_room_get   (GcRedisRooms *self,
                        const char   *code);
void  redis_room_free  (gpointer      data);
void  redis_room_sync  (Room         *room,
                        guint64       seq);
/* The room's sequence no longer holds (its last local member is gone, or
 * its last member anywhere left through this node and Redis deleted it):
 * buffered events up to @seq are dropped, and only a join's or resume's
 * answer syncs it again. */
void  redis_room_unsync (Room        *room,
                         guint64      seq);
void  redis_rooms_on_message    (const char    *channel,
                                 const char    *payload,
                                 gsize          length,
                                 gpointer       user_data);
void  redis_rooms_on_subscribed (GcRedisClient *client,
                                 const char    *channel,
                                 gpointer       user_data);

/* gc-redis-rooms.c */
void  redis_op_run     (Op           *op);
void  redis_op_free    (Op           *op);
void  redis_op_fail    (Op           *op,
                        const GError *error);
void  redis_room_flush (Room         *room);
void  redis_rooms_emit_room_lost      (GcRedisRooms *self,
                                       const char   *code);
void  redis_rooms_emit_lease_changed  (GcRedisRooms *self,
                                       gboolean      held);

/* gc-redis-lease.c: the client is up (both connections ready). */
void  redis_rooms_lease_on_up         (GcRedisRooms *self);

G_END_DECLS
