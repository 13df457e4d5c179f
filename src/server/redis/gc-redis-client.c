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

#include "gc-redis-client-private.h"

#include <hiredis/sds.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 100

G_DEFINE_QUARK (gc-redis-error-quark, gc_redis_error)

G_DEFINE_FINAL_TYPE (GcRedisClient, gc_redis_client, G_TYPE_OBJECT)

enum {
  SIGNAL_STATE_CHANGED,
  SIGNAL_SUBSCRIBED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

void
redis_client_emit_subscribed (GcRedisClient *self,
                              const char    *channel)
{
  g_signal_emit (self, signals[SIGNAL_SUBSCRIBED], 0, channel);
}

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

void
redis_client_update_up (GcRedisClient *self)
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

/* RESP of a command: *N, then $LEN and the bytes of each argument, in
 * one malloc()ed buffer as redisFormatCommandArgv() makes (it is freed
 * with redisFreeCommand()). That one prints each length with sprintf(),
 * a twentieth of a --redis node's instructions with a room's messages. */
static int
format_command (char       **target,
                int          argc,
                const char **argv,
                const gsize *argv_len)
{
  gsize total = 16;
  char *cmd, *p;

  for (int i = 0; i < argc; i++)
    total += 1 + 20 + 2 + argv_len[i] + 2;
  cmd = malloc (total);
  if (cmd == NULL)
    return -1;
  p = cmd + g_snprintf (cmd, total, "*%d\r\n", argc);
  for (int i = 0; i < argc; i++)
    {
      char digits[24], *d = digits + sizeof digits;
      gsize n = argv_len[i];

      do
        *--d = (char) ('0' + n % 10);
      while ((n /= 10) > 0);
      *p++ = '$';
      memcpy (p, d, digits + sizeof digits - d);
      p += digits + sizeof digits - d;
      *p++ = '\r';
      *p++ = '\n';
      memcpy (p, argv[i], argv_len[i]);
      p += argv_len[i];
      *p++ = '\r';
      *p++ = '\n';
    }
  *target = cmd;
  return (int) (p - cmd);
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

  len = format_command (&cmd, argc + 3, all, all_len);
  return command_submit (self, cmd, len, script, func, user_data, error);
}

void
redis_client_send_queued (GcRedisClient *self)
{
  GList *link;

  while (self->commands.ready && (link = g_queue_pop_head_link (&self->queued)) != NULL)
    command_send (self, link->data);
}

/* --- the tick ------------------------------------------------------------- */

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
      redis_link_drop (&self->subscriptions);
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
      redis_link_drop (&self->commands);
    }
  for (Link *link = &self->commands; link <= &self->subscriptions; link++)
    if (link->ac != NULL && !link->ready && now - link->connect_started_us > self->timeout_us)
      redis_link_drop (link);

  /* The liveness probe: a subscription can go quiet without its socket
   * closing (a Redis output-buffer limit, a network partition). */
  if (self->probe_sent != 0 && now - self->probe_sent_us > self->timeout_us)
    {
      g_message ("Redis subscription did not deliver the probe; subscribing again");
      self->stats.probe_failures++;
      self->probe_sent = 0;
      redis_link_drop (&self->subscriptions);
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
  redis_link_connect (&self->commands);
  redis_link_connect (&self->subscriptions);
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
      redis_link_drop (link);
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
  redis_subscriptions_reset (self);

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
  self->channels = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, redis_channel_free);

  for (guint i = 0; i < G_N_ELEMENTS (id); i++)
    id[i] = g_random_int_range (0, 256);
  self->probe_channel = g_strdup_printf ("gc:probe:%02x%02x%02x%02x%02x%02x%02x%02x",
                                         id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7]);
}

