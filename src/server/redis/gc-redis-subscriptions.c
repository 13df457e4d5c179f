/* gc-redis-subscriptions.c: GcRedisClient's channels on its pub/sub
 * connection, and the liveness probe's answers
 *
 * Only (UN)SUBSCRIBE goes on that connection: hiredis 0.14 mixes up
 * regular replies and messages on a subscribed one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-client-private.h"

#include <string.h>

static void channel_sync (GcRedisClient *self, Channel *channel);

void
redis_channel_free (gpointer data)
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

void
redis_client_on_subscription_reply (redisAsyncContext *ac,
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
          redis_client_update_up (self);
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
        redis_client_emit_subscribed (self, channel->name);
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
      redisAsyncCommand (ac, redis_client_on_subscription_reply, self, "SUBSCRIBE %s", channel->name);
    }
  else if (!channel->wanted && channel->state == CHANNEL_SUBSCRIBED && ac != NULL)
    {
      channel->state = CHANNEL_UNSUBSCRIBING;
      redisAsyncCommand (ac, redis_client_on_subscription_reply, self, "UNSUBSCRIBE %s", channel->name);
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
