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

#include <errno.h>
#include <string.h>
#include <unistd.h>

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

/* --- the connection's replies, read without hiredis ----------------------
 *
 * Every node reads every message of its rooms here. hiredis's reader
 * copied each reply into its buffer, then each element into a malloc()ed
 * redisReply, and moved the rest of its buffer down after every reply of
 * more than 1 KB: about a tenth of a --redis node's instructions. This
 * connection only ever receives flat arrays (message, subscribe,
 * unsubscribe) and the simple answer of CLIENT SETNAME, so it reads them
 * itself, in place: bulk strings are NUL-terminated where their CRLF was,
 * and the buffer moves once per read. Commands go out through hiredis's
 * output buffer, appended as they are (redisAsyncCommand() would keep a
 * callback per channel that only its reader frees). */

#define READ_MIN 16384
/* The line at @p (up to CRLF): its end, or NULL if the buffer holds no
 * CRLF yet. */
static char *
line_end (char *p,
          char *end)
{
  char *cr = p < end ? memchr (p, '\r', end - p) : NULL;

  return cr != NULL && cr + 1 < end ? cr : NULL;
}

/* A length or count after a type byte: -1 to 2^31; FALSE if it is not one. */
static gboolean
parse_count (const char *p,
             const char *end,
             gint64     *value)
{
  gboolean negative = p < end && *p == '-';
  gint64 v = 0;

  if (negative)
    p++;
  if (p == end || end - p > 10)
    return FALSE;
  for (; p < end; p++)
    {
      if (*p < '0' || *p > '9')
        return FALSE;
      v = v * 10 + (*p - '0');
    }
  if (negative ? v != 1 : v > G_MAXINT32)
    return FALSE;
  *value = negative ? -1 : v;
  return TRUE;
}

/* One element at @p: 0 if incomplete, -1 if it is not one this
 * connection gets, else its size. Strings are not terminated yet. */
static gssize
parse_element (char    *p,
               char    *end,
               RedisElement *element)
{
  char *cr = line_end (p, end);
  gint64 length;

  if (cr == NULL)
    return 0;
  if (cr[1] != '\n')
    return -1;
  switch (*p)
    {
    case '+':
    case '-':
    case ':':
      element->type = *p;
      element->str = p + 1;
      element->len = cr - (p + 1);
      return cr + 2 - p;
    case '$':
      if (!parse_count (p + 1, cr, &length))
        return -1;
      if (length < 0)
        {
          element->type = '\0';
          element->str = NULL;
          element->len = 0;
          return cr + 2 - p;
        }
      if (end - (cr + 2) < length + 2)
        return 0;
      if (cr[2 + length] != '\r' || cr[3 + length] != '\n')
        return -1;
      element->type = '$';
      element->str = cr + 2;
      element->len = length;
      return cr + 4 + length - p;
    default:
      return -1;
    }
}

gssize
redis_reply_parse (char       *p,
                   char       *end,
                   RedisReply *reply)
{
  char *cr, *q;
  gint64 count;

  if (p == end)
    return 0;
  if (*p != '*')
    {
      gssize n = parse_element (p, end, &reply->element[0]);

      if (n <= 0)
        return n;
      reply->type = reply->element[0].type;
      reply->elements = 0;
      if (reply->element[0].str != NULL)
        reply->element[0].str[reply->element[0].len] = '\0';
      return n;
    }
  if ((cr = line_end (p, end)) == NULL)
    return 0;
  if (cr[1] != '\n' || !parse_count (p + 1, cr, &count) || count < 0)
    return -1;
  reply->type = '*';
  reply->elements = count;
  q = cr + 2;
  for (gint64 i = 0; i < count; i++)
    {
      RedisElement ignored;
      gssize n = parse_element (q, end, i < REDIS_REPLY_MAX_ELEMENTS ? &reply->element[i] : &ignored);

      if (n <= 0)
        return n;
      q += n;
    }
  /* Complete: its strings end where their CRLF was. */
  for (gsize i = 0; i < MIN (reply->elements, REDIS_REPLY_MAX_ELEMENTS); i++)
    if (reply->element[i].str != NULL)
      reply->element[i].str[reply->element[i].len] = '\0';
  return q - p;
}

static gboolean
element_is (const RedisElement *element,
            const char    *text)
{
  return element->type == '$' && strcmp (element->str, text) == 0;
}

static void
on_reply (GcRedisClient *self,
          RedisReply    *reply)
{
  const char *name;
  Channel *channel;

  if (reply->type != '*' || reply->elements < 3 ||
      reply->element[0].type != '$' || reply->element[1].type != '$')
    return;

  name = reply->element[1].str;
  if (element_is (&reply->element[0], "message"))
    {
      if (reply->element[2].type != '$')
        return;
      if (strcmp (name, self->probe_channel) == 0)
        on_probe_message (self, reply->element[2].str);
      else if (self->message_func != NULL)
        self->message_func (name, reply->element[2].str, reply->element[2].len,
                            self->message_data);
      return;
    }

  if (strcmp (name, self->probe_channel) == 0)
    {
      /* The handshake of the subscriptions link. */
      if (element_is (&reply->element[0], "subscribe") && !self->subscriptions.ready)
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

  channel = g_hash_table_lookup (self->channels, name);
  if (channel == NULL)
    return;

  if (element_is (&reply->element[0], "subscribe"))
    {
      channel->state = CHANNEL_SUBSCRIBED;
      if (channel->wanted)
        redis_client_emit_subscribed (self, channel->name);
      else
        channel_sync (self, channel);
    }
  else if (element_is (&reply->element[0], "unsubscribe"))
    {
      channel->state = CHANNEL_UNSUBSCRIBED;
      channel_sync (self, channel);
    }
}

void
redis_client_read_subscriptions (gpointer data)
{
  GcRedisClient *self = data;
  redisAsyncContext *ac = self->subscriptions.ac;
  gsize done = 0;
  gssize n;

  if (self->sub_size - self->sub_length < READ_MIN)
    {
      self->sub_size = MAX (READ_MIN * 2, self->sub_size * 2);
      self->sub_buffer = g_realloc (self->sub_buffer, self->sub_size);
    }
  n = read (ac->c.fd, self->sub_buffer + self->sub_length, self->sub_size - self->sub_length);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return;
  if (n <= 0)
    {
      g_debug ("Redis subscriptions connection lost: %s",
               n == 0 ? "closed by Redis" : g_strerror (errno));
      redis_link_drop (&self->subscriptions);
      return;
    }
  self->sub_length += n;

  /* A reply may drop the connection (its buffer is then emptied) or,
   * ending the server, the client. */
  g_object_ref (self);
  while (self->subscriptions.ac == ac)
    {
      RedisReply reply;

      n = redis_reply_parse (self->sub_buffer + done, self->sub_buffer + self->sub_length, &reply);
      if (n == 0)
        break;
      if (n < 0)
        {
          g_message ("Redis subscriptions connection: a reply it cannot read; connecting again");
          redis_link_drop (&self->subscriptions);
          break;
        }
      done += n;
      on_reply (self, &reply);
    }
  if (self->subscriptions.ac == ac)
    {
      self->sub_length -= done;
      memmove (self->sub_buffer, self->sub_buffer + done, self->sub_length);
      /* Back to its usual size after a large reply. */
      if (self->sub_length == 0 && self->sub_size > 16 * READ_MIN)
        redis_subscriptions_reset (self);
    }
  g_object_unref (self);
}

void
redis_subscriptions_reset (GcRedisClient *self)
{
  g_clear_pointer (&self->sub_buffer, g_free);
  self->sub_length = self->sub_size = 0;
}

/* Appends a command to the connection's output: hiredis writes it. */
static void
subscriptions_send (GcRedisClient *self,
                    const char    *verb,
                    const char    *arg1,
                    const char    *arg2)
{
  redisAsyncContext *ac = self->subscriptions.ac;
  const char *argv[3] = { verb, arg1, arg2 };
  char *cmd = NULL;
  int len = redisFormatCommandArgv (&cmd, arg2 != NULL ? 3 : 2, argv, NULL);

  if (len < 0)
    return;
  redisAppendFormattedCommand (&ac->c, cmd, len);
  redisFreeCommand (cmd);
  if (ac->ev.addWrite != NULL)
    ac->ev.addWrite (ac->ev.data);
}

void
redis_subscriptions_start (GcRedisClient *self)
{
  /* CLIENT SETNAME before SUBSCRIBE: afterwards only (UN)SUBSCRIBE and
   * PING are allowed. Its reply arrives before any message. */
  subscriptions_send (self, "CLIENT", "SETNAME", "gochat-subscriptions");
  subscriptions_send (self, "SUBSCRIBE", self->probe_channel, NULL);
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
      subscriptions_send (self, "SUBSCRIBE", channel->name, NULL);
    }
  else if (!channel->wanted && channel->state == CHANNEL_SUBSCRIBED && ac != NULL)
    {
      channel->state = CHANNEL_UNSUBSCRIBING;
      subscriptions_send (self, "UNSUBSCRIBE", channel->name, NULL);
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
