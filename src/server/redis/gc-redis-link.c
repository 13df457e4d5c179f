/* gc-redis-link.c: GcRedisClient's two connections to Redis (commands,
 * subscriptions): resolving, connecting, the session's first commands,
 * loss and reconnection with backoff
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-client-private.h"
#include "gc-redis-source-private.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

static void link_lost (Link *link);

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
  redis_client_send_queued (self);
  redis_client_update_up (self);
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
    redis_subscriptions_start (self);
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
  redis_link_connect (link);
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
  /* The probe's PUBLISH goes over the commands link: lost with either
   * link, it no longer tells whether the subscriptions deliver (a command
   * stalled past the timeout used to drop the subscriptions too, and
   * repair every room). */
  self->probe_sent = 0;

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
      redis_subscriptions_reset (self);
    }

  redis_client_update_up (self);
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
  /* Its replies are read without hiredis (gc-redis-subscriptions.c). */
  if (link == &self->subscriptions)
    gc_redis_source_set_read_func (link->source, redis_client_read_subscriptions, self);
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

void
redis_link_connect (Link *link)
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
void
redis_link_drop (Link *link)
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

