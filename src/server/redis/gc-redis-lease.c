/* gc-redis-lease.c: GcRedisRooms's node lease (issue 13, "Node
 * failure"): renewed every L/3; every node sweeps often for nodes whose
 * lease ran out, whose members then wait for a resume; SIGTERM drains.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-rooms-private.h"
#include "gc-redis-rooms-scripts.h"

#include <string.h>

static void
set_has_lease (GcRedisRooms *self,
               gboolean      held)
{
  if (self->has_lease == held)
    return;
  self->has_lease = held;
  if (!held)
    g_message ("node %s: no lease; it must not serve", self->node_id);
  redis_rooms_emit_lease_changed (self, held);
}

typedef struct {
  GcRedisRooms *rooms;
  gint64 sent_us;
} RenewData;

static void
on_renewed (const redisReply *reply,
            const GError     *error,
            gpointer          user_data)
{
  RenewData *data = user_data;
  GcRedisRooms *self = data->rooms;

  self->renewing = FALSE;
  /* Both strings (the script formats its numbers): an integer reply has
   * no str, which g_ascii_strtoull() would read as NULL. */
  if (error == NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
      reply->element[0]->type == REDIS_REPLY_STRING &&
      reply->element[1]->type == REDIS_REPLY_STRING)
    {
      if (strcmp (reply->element[0]->str, "ok") == 0)
        {
          self->registered = TRUE;
          /* Counted from the request: Redis set expiry later than that. */
          self->lease_until_us = data->sent_us + (gint64) self->lease_ms * 1000;
          self->stats.nodes = g_ascii_strtoull (reply->element[1]->str, NULL, 10);
          set_has_lease (self, TRUE);
        }
      else
        {
          /* Swept as dead: its members were handed over. It starts a new
           * life with no members, once the server dropped them all. */
          g_message ("node %s: its lease ran out and its members were handed over",
                     self->node_id);
          self->registered = FALSE;
          self->lease_until_us = 0;
          set_has_lease (self, FALSE);
        }
    }
  g_object_unref (data->rooms);
  g_free (data);
}

static gboolean
renew_lease (gpointer user_data)
{
  GcRedisRooms *self = user_data;
  char lease_text[16];
  const char *argv[4] = { "gc:nodes", self->node_id, lease_text, NULL };
  g_autoptr(GError) error = NULL;
  RenewData *data;

  /* Ran out without a renewal (Redis away): stop serving at once. */
  if (self->has_lease && g_get_monotonic_time () >= self->lease_until_us)
    set_has_lease (self, FALSE);
  if (self->renewing)
    return G_SOURCE_CONTINUE;
  /* A lease is taken only while both connections are up: a node that
   * holds one serves, and a join on it needs the subscriptions link as
   * much as the commands one (gc-redis-rooms.c refuses it 503 without).
   * The commands link alone may be ready first; redis_rooms_lease_on_up()
   * takes it as soon as the other is. Renewals go on regardless. */
  if (!self->registered && !gc_redis_client_is_up (self->client))
    return G_SOURCE_CONTINUE;

  g_snprintf (lease_text, sizeof lease_text, "%u", self->lease_ms);
  argv[3] = self->registered ? "0" : "1";
  data = g_new0 (RenewData, 1);
  data->rooms = g_object_ref (self);
  data->sent_us = g_get_monotonic_time ();
  self->renewing = TRUE;
  if (!gc_redis_client_eval (self->client, self->renew_script, 1, 4, argv, NULL,
                             on_renewed, data, &error))
    {
      self->renewing = FALSE;
      g_object_unref (data->rooms);
      g_free (data);
    }
  return G_SOURCE_CONTINUE;
}

static void
on_swept (const redisReply *reply,
          const GError     *error,
          gpointer          user_data)
{
  GcRedisRooms *self = user_data;

  self->sweeping = FALSE;
  if (error == NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
      reply->element[1]->type == REDIS_REPLY_STRING &&
      reply->element[2]->type == REDIS_REPLY_STRING)
    {
      self->stats.swept_nodes += g_ascii_strtoull (reply->element[1]->str, NULL, 10);
      self->stats.timeouts += g_ascii_strtoull (reply->element[2]->str, NULL, 10);
    }
  g_object_unref (self);
}

static gboolean
sweep (gpointer user_data)
{
  GcRedisRooms *self = user_data;
  char resume_text[16], events_text[16];
  const char *argv[4] = { "gc:nodes", "gc:expiring", resume_text, events_text };
  g_autoptr(GError) error = NULL;

  /* Only a node that may serve judges others; one sweep at a time. */
  if (self->sweeping || !self->has_lease || !gc_redis_client_is_up (self->client))
    return G_SOURCE_CONTINUE;
  g_snprintf (resume_text, sizeof resume_text, "%u", self->resume_ms);
  g_snprintf (events_text, sizeof events_text, "%u", MAX_EVENTS);
  self->sweeping = TRUE;
  if (!gc_redis_client_eval (self->client, self->sweep_script, 2, 4, argv, NULL,
                             on_swept, g_object_ref (self), &error))
    {
      self->sweeping = FALSE;
      g_object_unref (self);
    }
  return G_SOURCE_CONTINUE;
}

void
gc_redis_rooms_start_lease (GcRedisRooms *self,
                            guint         lease_ms,
                            guint         resume_ms)
{
  g_return_if_fail (GC_IS_REDIS_ROOMS (self));
  g_return_if_fail (lease_ms >= 30);
  g_return_if_fail (self->renew_id == 0);

  self->lease_ms = lease_ms;
  self->resume_ms = resume_ms;
  self->renew_id = g_timeout_add (lease_ms / 3, renew_lease, self);
  /* Often, so that a dead node's members wait no longer than the lease,
   * the resume window and this. */
  self->sweep_id = g_timeout_add (MIN (250, lease_ms / 4), sweep, self);
  renew_lease (self);
}

void
redis_rooms_lease_on_up (GcRedisRooms *self)
{
  /* Not yet registered, and not drained: take the lease now rather than
   * at the next renewal, a third of a lease later. */
  if (self->renew_id != 0 && !self->registered)
    renew_lease (self);
}

typedef struct {
  GcRedisRoomResultFunc func;
  gpointer user_data;
} DrainData;

static void
on_drained (const redisReply *reply,
            const GError     *error,
            gpointer          user_data)
{
  DrainData *data = user_data;
  GcRedisRoomResult result = { GC_REDIS_ROOM_OK };

  if (data->func != NULL)
    data->func (error == NULL ? &result : NULL, error, data->user_data);
  g_free (data);
}

void
gc_redis_rooms_drain (GcRedisRooms          *self,
                      GcRedisRoomResultFunc  func,
                      gpointer               user_data)
{
  g_autoptr(GError) error = NULL;
  DrainData *data;

  g_return_if_fail (GC_IS_REDIS_ROOMS (self));

  g_clear_handle_id (&self->renew_id, g_source_remove);
  g_clear_handle_id (&self->sweep_id, g_source_remove);
  data = g_new0 (DrainData, 1);
  data->func = func;
  data->user_data = user_data;
  /* XX: a node already swept stays gone. Expiry 0 is long past. */
  if (!gc_redis_client_command (self->client, on_drained, data, &error,
                                "ZADD", "gc:nodes", "XX", "0", self->node_id, NULL))
    on_drained (NULL, error, data);
}

gboolean
gc_redis_rooms_has_lease (GcRedisRooms *self)
{
  g_return_val_if_fail (GC_IS_REDIS_ROOMS (self), FALSE);

  return self->has_lease;
}
