/* gc-redis-client.c: one node's link to Redis
 *
 * Two connections: one for commands (replies come back in the order sent,
 * so the oldest command in flight is always the next to be answered) and
 * one for pub/sub (hiredis 0.14 mixes up regular replies and messages on a
 * subscribed connection, so nothing but (UN)SUBSCRIBE goes there).
 *
 * While Redis is unreachable, commands wait in a bounded queue for the
 * grace period, then fail DOWN; commands in flight when a connection is
 * lost fail LOST (they may have run). hiredis has no timeouts: a tick
 * drops a connection whose oldest command waited longer than the timeout,
 * and probes the subscription by PUBLISHing to a channel only this client
 * listens to.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-client.h"
#include "gc-redis-source-private.h"

#include <hiredis/async.h>
#include <hiredis/sds.h>
#include <string.h>

#define TICK_MS 100
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

G_DEFINE_QUARK (gc-redis-error-quark, gc_redis_error)

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

G_DEFINE_FINAL_TYPE (GcRedisClient, gc_redis_client, G_TYPE_OBJECT)

enum {
  SIGNAL_STATE_CHANGED,
  SIGNAL_SUBSCRIBED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void link_connect (Link *link);
static void link_lost (Link *link);
static void send_queued (GcRedisClient *self);
static void channel_sync (GcRedisClient *self, Channel *channel);

/* --- commands -------------------------------------------------------- */

static void
command_free (Command *command)
{
  redisFreeCommand (command->cmd);
  g_free (command);
}

static void
command_fail (Command    *command,
              GcRedisError code,
              const char *message)
{
  g_autoptr(GError) error = g_error_new_literal (GC_REDIS_ERROR, code, message);

  if (code == GC_REDIS_ERROR_BUSY)
    command->client->stats.refused_busy++;
  else
    command->client->stats.lost++;
  if (command->func != NULL)
    command->func (NULL, error, command->user_data);
  command_free (command);
}

static void
update_up (GcRedisClient *self)
{
  gboolean up = self->commands.ready && self->subscriptions.ready;

  if (up == self->up)
    return;
  self->up = up;
  self->state_since_us = g_get_monotonic_time ();
  if (!self->disposing)
    g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, up);
}

static void
on_reply (redisAsyncContext *ac,
          void              *r,
          void              *privdata)
{
  Command *command = privdata;
  GcRedisClient *self = command->client;
  redisReply *reply = r;
  gint64 now;

  g_queue_unlink (&self->in_flight, &command->link);

  if (reply == NULL)
    {
      command_fail (command, self->disposing ? GC_REDIS_ERROR_DOWN : GC_REDIS_ERROR_LOST,
                    "the connection to Redis was lost before its reply");
      return;
    }

  now = g_get_monotonic_time ();
  self->stats.last_rtt_us = now - command->sent_us;
  self->stats.rtt_us = self->stats.rtt_us == 0 ? self->stats.last_rtt_us
    : self->stats.rtt_us + (self->stats.last_rtt_us - self->stats.rtt_us) / 8;
  self->stats.commands++;

  if (reply->type == REDIS_REPLY_ERROR && command->script != NULL && !command->retried &&
      g_str_has_prefix (reply->str, "NOSCRIPT"))
    {
      /* Someone flushed the scripts: load this one again and retry, in
       * this order on the same connection. */
      command->retried = TRUE;
      redisAsyncCommand (ac, NULL, NULL, "SCRIPT LOAD %s", command->script->lua);
      command->sent_us = now;
      g_queue_push_tail_link (&self->in_flight, &command->link);
      redisAsyncFormattedCommand (ac, on_reply, command, command->cmd, command->len);
      return;
    }

  if (reply->type == REDIS_REPLY_ERROR)
    {
      g_autoptr(GError) error = g_error_new (GC_REDIS_ERROR, GC_REDIS_ERROR_REPLY,
                                             "%s", reply->str);
      if (command->func != NULL)
        command->func (NULL, error, command->user_data);
    }
  else if (command->func != NULL)
    command->func (reply, NULL, command->user_data);
  command_free (command);
}

static void
command_send (GcRedisClient *self,
              Command       *command)
{
  command->sent_us = g_get_monotonic_time ();
  g_queue_push_tail_link (&self->in_flight, &command->link);
  if (redisAsyncFormattedCommand (self->commands.ac, on_reply, command,
                                  command->cmd, command->len) != REDIS_OK)
    {
      /* Only when the context is being torn down. */
      g_queue_unlink (&self->in_flight, &command->link);
      command_fail (command, GC_REDIS_ERROR_LOST, "Redis connection closing");
    }
}

static gboolean
command_submit (GcRedisClient    *self,
                char             *cmd,
                int               len,
                GcRedisScript    *script,
                GcRedisReplyFunc  func,
                gpointer          user_data,
                GError          **error)
{
  Command *command;

  if (len < 0)
    {
      g_set_error_literal (error, GC_REDIS_ERROR, GC_REDIS_ERROR_REPLY,
                           "could not format the Redis command");
      return FALSE;
    }
  if (self->disposing || !self->started)
    {
      redisFreeCommand (cmd);
      g_set_error_literal (error, GC_REDIS_ERROR, GC_REDIS_ERROR_DOWN,
                           "the Redis client is not running");
      return FALSE;
    }
  if (self->queued.length + self->in_flight.length >= self->max_commands ||
      (self->commands.ac != NULL && sdslen (self->commands.ac->c.obuf) > self->max_output))
    {
      redisFreeCommand (cmd);
      self->stats.refused_busy++;
      g_set_error_literal (error, GC_REDIS_ERROR, GC_REDIS_ERROR_BUSY,
                           "too many Redis commands waiting");
      return FALSE;
    }

  command = g_new0 (Command, 1);
  command->client = self;
  command->func = func;
  command->user_data = user_data;
  command->cmd = cmd;
  command->len = len;
  command->script = script;
  command->queued_us = g_get_monotonic_time ();
  command->link.data = command;

  /* Behind others still queued, to keep the order. */
  if (self->commands.ready && self->queued.length == 0)
    command_send (self, command);
  else
    g_queue_push_tail_link (&self->queued, &command->link);
  return TRUE;
}

gboolean
gc_redis_client_command_argv (GcRedisClient    *self,
                              int               argc,
                              const char      **argv,
                              const gsize      *argv_len,
                              GcRedisReplyFunc  func,
                              gpointer          user_data,
                              GError          **error)
{
  char *cmd = NULL;
  int len;

  g_return_val_if_fail (GC_IS_REDIS_CLIENT (self), FALSE);
  g_return_val_if_fail (argc > 0 && argv != NULL, FALSE);

  len = redisFormatCommandArgv (&cmd, argc, argv, argv_len);
  return command_submit (self, cmd, len, NULL, func, user_data, error);
}

gboolean
gc_redis_client_command (GcRedisClient    *self,
                         GcRedisReplyFunc  func,
                         gpointer          user_data,
                         GError          **error,
                         const char       *first_arg,
                         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *arg;
  va_list ap;

  g_return_val_if_fail (GC_IS_REDIS_CLIENT (self), FALSE);
  g_return_val_if_fail (first_arg != NULL, FALSE);

  va_start (ap, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);

  return gc_redis_client_command_argv (self, args->len, (const char **) args->pdata, NULL,
                                       func, user_data, error);
}

GcRedisScript *
gc_redis_client_add_script (GcRedisClient *self,
                            const char    *lua)
{
  GcRedisScript *script;

  g_return_val_if_fail (GC_IS_REDIS_CLIENT (self), NULL);
  g_return_val_if_fail (lua != NULL, NULL);

  script = g_new0 (GcRedisScript, 1);
  script->lua = g_strdup (lua);
  /* Redis names a script by the SHA-1 of its text. */
  script->sha1 = g_compute_checksum_for_string (G_CHECKSUM_SHA1, lua, -1);
  g_ptr_array_add (self->scripts, script);

  if (self->commands.ac != NULL)
    redisAsyncCommand (self->commands.ac, NULL, NULL, "SCRIPT LOAD %s", script->lua);
  return script;
}

const char *
gc_redis_script_get_sha1 (GcRedisScript *script)
{
  g_return_val_if_fail (script != NULL, NULL);

  return script->sha1;
}

static void
script_free (gpointer data)
{
  GcRedisScript *script = data;

  g_free (script->lua);
  g_free (script->sha1);
  g_free (script);
}

gboolean
gc_redis_client_eval (GcRedisClient    *self,
                      GcRedisScript    *script,
                      int               n_keys,
                      int               argc,
                      const char      **argv,
                      const gsize      *argv_len,
                      GcRedisReplyFunc  func,
                      gpointer          user_data,
                      GError          **error)
{
  g_autofree const char **all = NULL;
  g_autofree gsize *all_len = NULL;
  char n_keys_text[16];
  char *cmd = NULL;
  int len, i;

  g_return_val_if_fail (GC_IS_REDIS_CLIENT (self), FALSE);
  g_return_val_if_fail (script != NULL, FALSE);
  g_return_val_if_fail (n_keys >= 0 && n_keys <= argc, FALSE);

  g_snprintf (n_keys_text, sizeof n_keys_text, "%d", n_keys);
  all = g_new (const char *, argc + 3);
  all_len = g_new (gsize, argc + 3);
  all[0] = "EVALSHA";
  all[1] = script->sha1;
  all[2] = n_keys_text;
  for (i = 0; i < 3; i++)
    all_len[i] = strlen (all[i]);
  for (i = 0; i < argc; i++)
    {
      all[i + 3] = argv[i];
      all_len[i + 3] = argv_len != NULL ? argv_len[i] : strlen (argv[i]);
    }

  len = redisFormatCommandArgv (&cmd, argc + 3, all, all_len);
  return command_submit (self, cmd, len, script, func, user_data, error);
}

static void
send_queued (GcRedisClient *self)
{
  GList *link;

  while (self->commands.ready && (link = g_queue_pop_head_link (&self->queued)) != NULL)
    command_send (self, link->data);
}

/* --- subscriptions ----------------------------------------------------- */

static void
channel_free (gpointer data)
{
  Channel *channel = data;

  g_free (channel->name);
  g_free (channel);
}

static void
on_probe_message (GcRedisClient *self,
                  const char    *payload)
{
  guint64 number = g_ascii_strtoull (payload, NULL, 10);

  if (number != 0 && number == self->probe_sent)
    {
      self->stats.probe_rtt_us = g_get_monotonic_time () - self->probe_sent_us;
      self->probe_sent = 0;
    }
}

static void
on_subscription_reply (redisAsyncContext *ac,
                       void              *r,
                       void              *privdata)
{
  GcRedisClient *self = privdata;
  redisReply *reply = r;
  const char *kind;
  Channel *channel;

  /* NULL for every channel when the connection goes: link_lost handles. */
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING ||
      reply->element[1]->type != REDIS_REPLY_STRING)
    return;

  kind = reply->element[0]->str;
  if (strcmp (kind, "message") == 0)
    {
      if (reply->element[2]->type != REDIS_REPLY_STRING)
        return;
      if (strcmp (reply->element[1]->str, self->probe_channel) == 0)
        on_probe_message (self, reply->element[2]->str);
      else if (self->message_func != NULL)
        self->message_func (reply->element[1]->str, reply->element[2]->str,
                            reply->element[2]->len, self->message_data);
      return;
    }

  if (strcmp (reply->element[1]->str, self->probe_channel) == 0)
    {
      /* The handshake of the subscriptions link. */
      if (strcmp (kind, "subscribe") == 0 && !self->subscriptions.ready)
        {
          Link *link = &self->subscriptions;
          GHashTableIter iter;
          gpointer value;

          if (link->was_ready)
            self->stats.reconnects++;
          link->ready = link->was_ready = TRUE;
          link->backoff_ms = 0;
          link->failures = 0;
          self->probe_sent = 0;
          g_hash_table_iter_init (&iter, self->channels);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            channel_sync (self, value);
          update_up (self);
        }
      return;
    }

  channel = g_hash_table_lookup (self->channels, reply->element[1]->str);
  if (channel == NULL)
    return;

  if (strcmp (kind, "subscribe") == 0)
    {
      channel->state = CHANNEL_SUBSCRIBED;
      if (channel->wanted)
        g_signal_emit (self, signals[SIGNAL_SUBSCRIBED], 0, channel->name);
      else
        channel_sync (self, channel);
    }
  else if (strcmp (kind, "unsubscribe") == 0)
    {
      channel->state = CHANNEL_UNSUBSCRIBED;
      channel_sync (self, channel);
    }
}

/* Moves @channel towards what is wanted. One SUBSCRIBE or UNSUBSCRIBE at a
 * time per channel: hiredis 0.14 drops its callback for a channel when an
 * UNSUBSCRIBE's answer arrives, also after a newer SUBSCRIBE was sent. */
static void
channel_sync (GcRedisClient *self,
              Channel       *channel)
{
  redisAsyncContext *ac = self->subscriptions.ready ? self->subscriptions.ac : NULL;

  if (channel->wanted && channel->state == CHANNEL_UNSUBSCRIBED && ac != NULL)
    {
      channel->state = CHANNEL_SUBSCRIBING;
      redisAsyncCommand (ac, on_subscription_reply, self, "SUBSCRIBE %s", channel->name);
    }
  else if (!channel->wanted && channel->state == CHANNEL_SUBSCRIBED && ac != NULL)
    {
      channel->state = CHANNEL_UNSUBSCRIBING;
      redisAsyncCommand (ac, on_subscription_reply, self, "UNSUBSCRIBE %s", channel->name);
    }
  else if (!channel->wanted && channel->state == CHANNEL_UNSUBSCRIBED)
    g_hash_table_remove (self->channels, channel->name);
}

void
gc_redis_client_subscribe (GcRedisClient *self,
                           const char    *name)
{
  Channel *channel;

  g_return_if_fail (GC_IS_REDIS_CLIENT (self));
  g_return_if_fail (name != NULL && strcmp (name, self->probe_channel) != 0);

  channel = g_hash_table_lookup (self->channels, name);
  if (channel == NULL)
    {
      channel = g_new0 (Channel, 1);
      channel->name = g_strdup (name);
      g_hash_table_insert (self->channels, channel->name, channel);
    }
  channel->wanted = TRUE;
  channel_sync (self, channel);
}

void
gc_redis_client_unsubscribe (GcRedisClient *self,
                             const char    *name)
{
  Channel *channel;

  g_return_if_fail (GC_IS_REDIS_CLIENT (self));
  g_return_if_fail (name != NULL);

  channel = g_hash_table_lookup (self->channels, name);
  if (channel == NULL)
    return;
  channel->wanted = FALSE;
  channel_sync (self, channel);
}

gboolean
gc_redis_client_is_subscribed (GcRedisClient *self,
                               const char    *name)
{
  Channel *channel;

  g_return_val_if_fail (GC_IS_REDIS_CLIENT (self), FALSE);

  channel = g_hash_table_lookup (self->channels, name);
  return channel != NULL && channel->wanted && channel->state == CHANNEL_SUBSCRIBED;
}

void
gc_redis_client_set_message_func (GcRedisClient     *self,
                                  GcRedisMessageFunc func,
                                  gpointer           user_data)
{
  g_return_if_fail (GC_IS_REDIS_CLIENT (self));

  self->message_func = func;
  self->message_data = user_data;
}

/* --- connections --------------------------------------------------------- */

static void
on_commands_handshake (redisAsyncContext *ac,
                       void              *r,
                       void              *privdata)
{
  GcRedisClient *self = privdata;
  Link *link = &self->commands;

  if (r == NULL || link->ac != ac || link->ready)
    return;
  if (link->was_ready)
    self->stats.reconnects++;
  link->ready = link->was_ready = TRUE;
  link->backoff_ms = 0;
  link->failures = 0;
  send_queued (self);
  update_up (self);
}

static void
link_start_session (Link *link)
{
  GcRedisClient *self = link->client;
  redisAsyncContext *ac = link->ac;

  if (link == &self->commands)
    {
      /* Scripts first, then the commands that waited: a restarted Redis
       * has none, and the queue must not meet NOSCRIPT out of order. */
      redisAsyncCommand (ac, NULL, NULL, "CLIENT SETNAME gochat-commands");
      for (guint i = 0; i < self->scripts->len; i++)
        {
          GcRedisScript *script = g_ptr_array_index (self->scripts, i);
          redisAsyncCommand (ac, NULL, NULL, "SCRIPT LOAD %s", script->lua);
        }
      redisAsyncCommand (ac, on_commands_handshake, self, "PING");
    }
  else
    {
      /* CLIENT SETNAME before SUBSCRIBE: afterwards only (UN)SUBSCRIBE
       * and PING are allowed. Its reply arrives before any message. */
      redisAsyncCommand (ac, NULL, NULL, "CLIENT SETNAME gochat-subscriptions");
      redisAsyncCommand (ac, on_subscription_reply, self, "SUBSCRIBE %s", self->probe_channel);
    }
}

static void
on_connect (const redisAsyncContext *ac,
            int                      status)
{
  Link *link = ac->data;

  if (status != REDIS_OK)
    {
      g_debug ("Redis %s connection failed: %s", link->role, ac->errstr);
      /* hiredis frees the context after this. */
      link_lost (link);
    }
}

static void
on_disconnect (const redisAsyncContext *ac,
               int                      status)
{
  Link *link = ac->data;

  if (status != REDIS_OK)
    g_debug ("Redis %s connection lost: %s", link->role, ac->errstr);
  link_lost (link);
}

static gboolean
link_retry (gpointer user_data)
{
  Link *link = user_data;

  link->retry_id = 0;
  link_connect (link);
  return G_SOURCE_REMOVE;
}

static void
link_schedule_retry (Link *link)
{
  guint delay;

  if (link->client->disposing || link->retry_id != 0)
    return;
  link->failures++;
  link->backoff_ms = link->backoff_ms == 0 ? BACKOFF_MIN_MS
    : MIN (link->backoff_ms * 2, BACKOFF_MAX_MS);
  /* ±25 %: nodes that lost Redis together do not come back in lockstep. */
  delay = link->backoff_ms * g_random_double_range (0.75, 1.25);
  link->retry_id = g_timeout_add (delay, link_retry, link);
}

/* The context is gone or going (hiredis frees it after the callback that
 * called us); forget it and try again later. */
static void
link_lost (Link *link)
{
  GcRedisClient *self = link->client;

  if (link->ac == NULL)
    return;
  link->ac = NULL;
  link->ready = FALSE;
  g_clear_pointer (&link->source, g_source_unref);

  if (link == &self->subscriptions)
    {
      GHashTableIter iter;
      gpointer value;

      /* Every channel must be subscribed again; those no longer wanted
       * are simply forgotten. */
      g_hash_table_iter_init (&iter, self->channels);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Channel *channel = value;

          channel->state = CHANNEL_UNSUBSCRIBED;
          if (!channel->wanted)
            g_hash_table_iter_remove (&iter);
        }
      self->probe_sent = 0;
    }

  update_up (self);
  link_schedule_retry (link);
}

static void
link_open (Link       *link,
           const char *ip)
{
  GcRedisClient *self = link->client;
  redisAsyncContext *ac;

  if (self->address->kind == GC_REDIS_ADDRESS_UNIX)
    ac = redisAsyncConnectUnix (self->address->path);
  else
    ac = redisAsyncConnect (ip, self->address->port);

  if (ac == NULL || ac->err != 0)
    {
      g_debug ("Redis %s connection failed: %s", link->role,
               ac != NULL ? ac->errstr : "out of memory");
      if (ac != NULL)
        redisAsyncFree (ac);
      link_schedule_retry (link);
      return;
    }

  ac->data = link;
  link->ac = ac;
  link->connect_started_us = g_get_monotonic_time ();
  link->source = gc_redis_source_new (ac, g_main_context_get_thread_default ());
  redisAsyncSetConnectCallback (ac, on_connect);
  redisAsyncSetDisconnectCallback (ac, on_disconnect);
  link_start_session (link);
}

static void
on_resolved (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Link *link = user_data;
  g_autolist(GInetAddress) addresses = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ip = NULL;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&link->resolving);
  if (addresses == NULL)
    {
      g_warning ("Redis host %s: %s", link->client->address->host, error->message);
      link_schedule_retry (link);
      return;
    }
  /* A name may have several addresses (localhost: ::1 and 127.0.0.1):
   * each failed attempt tries the next. */
  ip = g_inet_address_to_string (g_list_nth_data (addresses,
                                                  link->failures % g_list_length (addresses)));
  link_open (link, ip);
}

static void
link_connect (Link *link)
{
  GcRedisClient *self = link->client;
  const char *host = self->address->host;

  if (self->disposing || link->ac != NULL || link->resolving != NULL)
    return;

  /* hiredis resolves host names with a blocking getaddrinfo(). */
  if (self->address->kind == GC_REDIS_ADDRESS_TCP && !g_hostname_is_ip_address (host))
    {
      g_autoptr(GResolver) resolver = g_resolver_get_default ();

      link->resolving = g_cancellable_new ();
      g_resolver_lookup_by_name_async (resolver, host, link->resolving, on_resolved, link);
      return;
    }
  link_open (link, host);
}

/* Drops a connection that stopped answering; hiredis fails its commands
 * (LOST) and the link reconnects. */
static void
link_drop (Link *link)
{
  redisAsyncContext *ac = link->ac;

  if (ac == NULL)
    return;
  /* Replies' callbacks run during the free: nothing new goes to it. */
  link->ready = FALSE;
  redisAsyncFree (ac);
  /* on_disconnect ran if it had connected; if not, forget it here. */
  link_lost (link);
}

static void
on_probe_published (const redisReply *reply,
                    const GError     *error,
                    gpointer          user_data)
{
  GcRedisClient *self = user_data;

  /* Nobody received it: our subscription is gone without our knowing. */
  if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0 &&
      self->probe_sent != 0 && self->subscriptions.ready)
    {
      g_message ("Redis subscription lost (probe not received); subscribing again");
      self->stats.probe_failures++;
      link_drop (&self->subscriptions);
    }
}

static gboolean
on_tick (gpointer user_data)
{
  GcRedisClient *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GList *head;

  /* Commands that waited the whole grace for Redis to come back. */
  while ((head = g_queue_peek_head_link (&self->queued)) != NULL &&
         now - ((Command *) head->data)->queued_us > self->grace_us)
    {
      g_queue_unlink (&self->queued, head);
      command_fail (head->data, GC_REDIS_ERROR_DOWN, "Redis is unreachable");
    }

  /* A connection whose oldest command waited too long, or that does not
   * finish connecting. */
  head = g_queue_peek_head_link (&self->in_flight);
  if (head != NULL && now - ((Command *) head->data)->sent_us > self->timeout_us)
    {
      g_message ("Redis did not answer for %" G_GINT64_FORMAT " ms; connecting again",
                 (now - ((Command *) head->data)->sent_us) / 1000);
      link_drop (&self->commands);
    }
  for (Link *link = &self->commands; link <= &self->subscriptions; link++)
    if (link->ac != NULL && !link->ready && now - link->connect_started_us > self->timeout_us)
      link_drop (link);

  /* The liveness probe: a subscription can go quiet without its socket
   * closing (a Redis output-buffer limit, a network partition). */
  if (self->probe_sent != 0 && now - self->probe_sent_us > self->timeout_us)
    {
      g_message ("Redis subscription did not deliver the probe; subscribing again");
      self->stats.probe_failures++;
      self->probe_sent = 0;
      link_drop (&self->subscriptions);
    }
  else if (self->up && self->probe_sent == 0 && now >= self->probe_next_us)
    {
      char number[24];

      g_snprintf (number, sizeof number, "%" G_GUINT64_FORMAT, ++self->probe_counter);
      if (gc_redis_client_command (self, on_probe_published, self, NULL,
                                   "PUBLISH", self->probe_channel, number, NULL))
        {
          self->probe_sent = self->probe_counter;
          self->probe_sent_us = now;
          self->probe_next_us = now + self->timeout_us / 2;
        }
    }

  self->stats.in_flight = self->in_flight.length;
  self->stats.queued = self->queued.length;
  return G_SOURCE_CONTINUE;
}

/* --- the object ------------------------------------------------------------ */

void
gc_redis_client_start (GcRedisClient *self)
{
  g_return_if_fail (GC_IS_REDIS_CLIENT (self));
  g_return_if_fail (!self->started);

  self->started = TRUE;
  self->state_since_us = g_get_monotonic_time ();
  self->tick_id = g_timeout_add (TICK_MS, on_tick, self);
  link_connect (&self->commands);
  link_connect (&self->subscriptions);
}

gboolean
gc_redis_client_is_up (GcRedisClient *self)
{
  g_return_val_if_fail (GC_IS_REDIS_CLIENT (self), FALSE);

  return self->up;
}

gint64
gc_redis_client_get_state_since (GcRedisClient *self)
{
  g_return_val_if_fail (GC_IS_REDIS_CLIENT (self), 0);

  return self->state_since_us;
}

void
gc_redis_client_set_max_commands (GcRedisClient *self,
                                  guint          max_commands)
{
  g_return_if_fail (GC_IS_REDIS_CLIENT (self));
  g_return_if_fail (max_commands > 0);

  self->max_commands = max_commands;
}

void
gc_redis_client_set_max_output (GcRedisClient *self,
                                gsize          max_bytes)
{
  g_return_if_fail (GC_IS_REDIS_CLIENT (self));

  self->max_output = max_bytes;
}

void
gc_redis_client_set_grace_ms (GcRedisClient *self,
                              guint          grace_ms)
{
  g_return_if_fail (GC_IS_REDIS_CLIENT (self));

  self->grace_us = (gint64) grace_ms * 1000;
}

void
gc_redis_client_set_timeout_ms (GcRedisClient *self,
                                guint          timeout_ms)
{
  g_return_if_fail (GC_IS_REDIS_CLIENT (self));
  g_return_if_fail (timeout_ms > 0);

  self->timeout_us = (gint64) timeout_ms * 1000;
}

void
gc_redis_client_get_stats (GcRedisClient      *self,
                           GcRedisClientStats *stats)
{
  g_return_if_fail (GC_IS_REDIS_CLIENT (self));
  g_return_if_fail (stats != NULL);

  *stats = self->stats;
  stats->in_flight = self->in_flight.length;
  stats->queued = self->queued.length;
  stats->output_bytes = self->commands.ac != NULL ? sdslen (self->commands.ac->c.obuf) : 0;
}

GcRedisClient *
gc_redis_client_new (const GcRedisAddress *address)
{
  GcRedisClient *self;

  g_return_val_if_fail (address != NULL, NULL);

  self = g_object_new (GC_TYPE_REDIS_CLIENT, NULL);
  self->address = gc_redis_address_copy (address);
  return self;
}

static void
gc_redis_client_dispose (GObject *object)
{
  GcRedisClient *self = GC_REDIS_CLIENT (object);
  GList *head;

  self->disposing = TRUE;
  g_clear_handle_id (&self->tick_id, g_source_remove);
  for (Link *link = &self->commands; link <= &self->subscriptions; link++)
    {
      g_clear_handle_id (&link->retry_id, g_source_remove);
      if (link->resolving != NULL)
        g_cancellable_cancel (link->resolving);
      g_clear_object (&link->resolving);
      link_drop (link);
    }
  while ((head = g_queue_pop_head_link (&self->queued)) != NULL)
    command_fail (head->data, GC_REDIS_ERROR_DOWN, "the Redis client stopped");

  G_OBJECT_CLASS (gc_redis_client_parent_class)->dispose (object);
}

static void
gc_redis_client_finalize (GObject *object)
{
  GcRedisClient *self = GC_REDIS_CLIENT (object);

  gc_redis_address_free (self->address);
  g_ptr_array_unref (self->scripts);
  g_hash_table_unref (self->channels);
  g_free (self->probe_channel);

  G_OBJECT_CLASS (gc_redis_client_parent_class)->finalize (object);
}

static void
gc_redis_client_class_init (GcRedisClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_redis_client_dispose;
  object_class->finalize = gc_redis_client_finalize;

  /* ::state-changed (up): both connections ready, or no longer. */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  /* ::subscribed (channel): Redis confirmed a subscription; messages
   * published before it (or while it was lost) were not received. */
  signals[SIGNAL_SUBSCRIBED] =
    g_signal_new ("subscribed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
gc_redis_client_init (GcRedisClient *self)
{
  guint8 id[8];

  self->max_commands = 10000;
  self->max_output = 4 * 1024 * 1024;
  self->grace_us = 3 * G_USEC_PER_SEC;
  self->timeout_us = 5 * G_USEC_PER_SEC;
  self->commands.client = self->subscriptions.client = self;
  self->commands.role = "commands";
  self->subscriptions.role = "subscriptions";
  self->scripts = g_ptr_array_new_with_free_func (script_free);
  self->channels = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, channel_free);

  for (guint i = 0; i < G_N_ELEMENTS (id); i++)
    id[i] = g_random_int_range (0, 256);
  self->probe_channel = g_strdup_printf ("gc:probe:%02x%02x%02x%02x%02x%02x%02x%02x",
                                         id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7]);
}
