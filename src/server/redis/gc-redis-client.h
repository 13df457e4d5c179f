/* gc-redis-client.h: one node's link to Redis (commands and pub/sub)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <hiredis/hiredis.h>

#include "gc-redis-url.h"

G_BEGIN_DECLS

#define GC_REDIS_ERROR (gc_redis_error_quark ())
GQuark gc_redis_error_quark (void);

typedef enum {
  /* Never sent: Redis stayed unreachable for the whole grace period, or
   * the client was stopped. Safe to retry. */
  GC_REDIS_ERROR_DOWN,
  /* Sent, and the connection was lost before the reply: it may or may not
   * have run. */
  GC_REDIS_ERROR_LOST,
  /* Backpressure: too many commands queued or in flight, or too many bytes
   * waiting to be written. Not sent. */
  GC_REDIS_ERROR_BUSY,
  /* Redis answered with an error reply (the message is Redis's). */
  GC_REDIS_ERROR_REPLY,
} GcRedisError;

/* A reply: exactly one of @reply and @error is set. @reply belongs to
 * hiredis and is valid only during the call. */
typedef void (*GcRedisReplyFunc) (const redisReply *reply,
                                  const GError     *error,
                                  gpointer          user_data);

/* A message on a subscribed channel: called for every one, in the order
 * Redis sent them. */
typedef void (*GcRedisMessageFunc) (const char *channel,
                                    const char *payload,
                                    gsize       length,
                                    gpointer    user_data);

/* A Lua script, loaded with SCRIPT LOAD on every (re)connection and run
 * with EVALSHA; a NOSCRIPT answer (someone ran SCRIPT FLUSH) loads it
 * again and retries once. Owned by the client. */
typedef struct _GcRedisScript GcRedisScript;

#define GC_TYPE_REDIS_CLIENT (gc_redis_client_get_type ())
G_DECLARE_FINAL_TYPE (GcRedisClient, gc_redis_client, GC, REDIS_CLIENT, GObject)

GcRedisClient *gc_redis_client_new         (const GcRedisAddress *address);

/* Limits (set before start; the defaults suit a server). */
/* Commands queued while Redis is unreachable plus those in flight. */
void           gc_redis_client_set_max_commands    (GcRedisClient *self,
                                                    guint          max_commands);
/* Bytes of commands not yet written to Redis. */
void           gc_redis_client_set_max_output      (GcRedisClient *self,
                                                    gsize          max_bytes);
/* How long a command waits for Redis to come back before failing with
 * GC_REDIS_ERROR_DOWN. */
void           gc_redis_client_set_grace_ms        (GcRedisClient *self,
                                                    guint          grace_ms);
/* A command without a reply for this long means the connection is dead:
 * it is dropped and made again. Also the pub/sub liveness probe's bound. */
void           gc_redis_client_set_timeout_ms      (GcRedisClient *self,
                                                    guint          timeout_ms);

/* Resolves the host name (GResolver), connects both connections and keeps
 * them connected, with backoff, until the client is disposed. */
void           gc_redis_client_start               (GcRedisClient *self);

/* TRUE while both connections are up and the scripts were loaded. */
gboolean       gc_redis_client_is_up               (GcRedisClient *self);
/* Monotonic µs of the last change of is_up. */
gint64         gc_redis_client_get_state_since     (GcRedisClient *self);

gboolean       gc_redis_client_command_argv        (GcRedisClient    *self,
                                                    int               argc,
                                                    const char      **argv,
                                                    const gsize      *argv_len,
                                                    GcRedisReplyFunc  func,
                                                    gpointer          user_data,
                                                    GError          **error);
/* Convenience for tests and rare commands: NUL-terminated arguments. */
gboolean       gc_redis_client_command             (GcRedisClient    *self,
                                                    GcRedisReplyFunc  func,
                                                    gpointer          user_data,
                                                    GError          **error,
                                                    const char       *first_arg,
                                                    ...) G_GNUC_NULL_TERMINATED;

GcRedisScript *gc_redis_client_add_script          (GcRedisClient *self,
                                                    const char    *lua);
const char    *gc_redis_script_get_sha1            (GcRedisScript *script);
gboolean       gc_redis_client_eval                (GcRedisClient    *self,
                                                    GcRedisScript    *script,
                                                    int               n_keys,
                                                    int               argc,
                                                    const char      **argv,
                                                    const gsize      *argv_len,
                                                    GcRedisReplyFunc  func,
                                                    gpointer          user_data,
                                                    GError          **error);

void           gc_redis_client_set_message_func    (GcRedisClient     *self,
                                                    GcRedisMessageFunc func,
                                                    gpointer           user_data);
/* Subscribes (idempotent); "subscribed" is emitted every time Redis
 * confirms it, also after a reconnection: messages may have been missed
 * before it. */
void           gc_redis_client_subscribe           (GcRedisClient *self,
                                                    const char    *channel);
void           gc_redis_client_unsubscribe         (GcRedisClient *self,
                                                    const char    *channel);
gboolean       gc_redis_client_is_subscribed       (GcRedisClient *self,
                                                    const char    *channel);

/* Figures for /metrics. */
typedef struct {
  gint64 rtt_us;          /* smoothed command round trip (0 before any) */
  gint64 last_rtt_us;
  gint64 probe_rtt_us;    /* PUBLISH to its arrival on the subscription */
  guint64 reconnects;     /* connections made again after a loss */
  guint64 commands;       /* replies received */
  guint64 lost;           /* commands failed LOST or DOWN */
  guint64 refused_busy;   /* commands refused BUSY */
  guint64 probe_failures; /* subscriptions dropped by the liveness probe */
  guint in_flight;
  guint queued;
  gsize output_bytes;
} GcRedisClientStats;

void           gc_redis_client_get_stats           (GcRedisClient      *self,
                                                    GcRedisClientStats *stats);

G_END_DECLS
