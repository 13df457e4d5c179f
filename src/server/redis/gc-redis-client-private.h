/* gc-redis-client-private.h: GcRedisClient's insides, shared by its
 * files: commands and the object (gc-redis-client.c), the two
 * connections (gc-redis-link.c) and the subscriptions with their liveness
 * probe (gc-redis-subscriptions.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-redis-client.h"

#include <hiredis/async.h>

G_BEGIN_DECLS

struct _GcRedisScript {
  char *lua;
  char *sha1;
};

typedef enum {
  CHANNEL_UNSUBSCRIBED,
  CHANNEL_SUBSCRIBING,
  CHANNEL_SUBSCRIBED,
  CHANNEL_UNSUBSCRIBING,
} ChannelState;

typedef struct {
  char *name;
  gboolean wanted;
  ChannelState state;
} Channel;

typedef struct {
  GcRedisClient *client;
  GcRedisReplyFunc func;
  gpointer user_data;
  char *cmd;               /* RESP, from redisFormatCommandArgv */
  int len;
  GcRedisScript *script;   /* EVALSHA of this script: retried on NOSCRIPT */
  gboolean retried;
  gint64 queued_us;
  gint64 sent_us;
  GList link;              /* in queued or in_flight */
} Command;

typedef struct {
  GcRedisClient *client;
  const char *role;        /* "commands" or "subscriptions", for logs */
  redisAsyncContext *ac;   /* NULL while not connected */
  GSource *source;
  gboolean ready;          /* handshake answered */
  gboolean was_ready;      /* ever: the next ready is a reconnection */
  gint64 connect_started_us;
  guint retry_id;
  guint backoff_ms;
  guint failures;          /* attempts since the last ready */
  GCancellable *resolving;
} Link;

struct _GcRedisClient {
  GObject parent_instance;

  GcRedisAddress *address;
  guint max_commands;
  gsize max_output;
  gint64 grace_us;
  gint64 timeout_us;

  gboolean started;
  gboolean disposing;
  Link commands;
  Link subscriptions;
  gboolean up;
  gint64 state_since_us;

  GQueue queued;           /* of Command, waiting for the commands link */
  GQueue in_flight;        /* of Command, in the order sent */
  GPtrArray *scripts;      /* of GcRedisScript */

  GHashTable *channels;    /* name → Channel */
  /* What the subscriptions link read and did not handle yet (a reply
   * cut by the end of a read): gc-redis-subscriptions.c reads it, not
   * hiredis. */
  char *sub_buffer;
  gsize sub_length;
  gsize sub_size;
  GcRedisMessageFunc message_func;
  gpointer message_data;

  char *probe_channel;
  guint64 probe_sent;      /* number of the probe in flight, 0 if none */
  gint64 probe_sent_us;
  guint64 probe_counter;
  gint64 probe_next_us;
  guint tick_id;

  GcRedisClientStats stats;
};

/* gc-redis-client.c */
void redis_client_update_up       (GcRedisClient *self);
void redis_client_send_queued     (GcRedisClient *self);
void redis_client_emit_subscribed (GcRedisClient *self,
                                   const char    *channel);

/* gc-redis-link.c */
void redis_link_connect (Link *link);
void redis_link_drop    (Link *link);

/* gc-redis-subscriptions.c */
void redis_channel_free (gpointer data);
/* A reply on the subscriptions link: a flat array (of these elements)
 * or one element. */
#define REDIS_REPLY_MAX_ELEMENTS 3

typedef struct {
  char type;                    /* + - : $, or NUL for a null bulk string */
  char *str;                    /* in the buffer, NUL-terminated once whole */
  gsize len;
} RedisElement;

typedef struct {
  char type;                    /* * for an array, else its one element's */
  RedisElement element[REDIS_REPLY_MAX_ELEMENTS]; /* the first ones */
  gsize elements;
} RedisReply;

/* The reply at @p (RESP2, up to @end), read in place: its size, 0 if it
 * is not whole yet, -1 if the link never gets such a reply (a nested
 * array, a malformed length). A whole reply's strings are NUL-terminated
 * where their CRLF was. */
gssize redis_reply_parse               (char          *p,
                                        char          *end,
                                        RedisReply    *reply);
/* Reads the subscriptions link's socket (a GcRedisSourceReadFunc). */
void redis_client_read_subscriptions (gpointer       data);
/* The link's first commands, once it is open. */
void redis_subscriptions_start       (GcRedisClient *self);
/* Forgets what was read (the link was lost). */
void redis_subscriptions_reset       (GcRedisClient *self);

G_END_DECLS
