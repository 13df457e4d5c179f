/* gc-outbox.c: what a session sends to its room, paced within the announced limits
 *
 * The server gives each connection a token bucket (§6.4: `rate_burst`
 * tokens refilled at `rate_per_s`, announced in welcome.limits) and
 * refuses a request that finds it empty. Sending fast used to end in
 * "Too many requests" rows with Retry (issue 12); instead the outbox keeps
 * its own copy of the bucket, with a margin for the network bunching
 * requests up, and holds own messages QUEUED until a token is free.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <math.h>

#include "gc-outbox.h"

/* Typing is refreshed this often while the user types, and stopped after
 * this long without a key; others expire it after ~6 s. Typing notices
 * share the rate limit with messages, so a new one waits at least
 * TYPING_MIN_GAP_US after the previous one. */
#define TYPING_REFRESH_US  (3 * G_USEC_PER_SEC)
#define TYPING_MIN_GAP_US  (G_USEC_PER_SEC)
#define TYPING_IDLE_MS     5000
/* Our bucket holds one token less than the server's and refills 10 %
 * slower, so that requests the network delivers closer together than we
 * sent them still find a token there. */
#define RATE_MARGIN        0.9

struct _GcOutbox
{
  GObject        parent_instance;

  GcSessionLink *link;
  GcMessageLog  *log;

  gboolean       connected;
  gboolean       pacing;
  double         burst;
  double         rate_per_s;
  double         tokens;
  gint64         tokens_at_us;
  GQueue         queue;          /* GcMessageItem, QUEUED, oldest first */
  guint          pump_id;

  gboolean       typing_sent;
  gint64         typing_sent_at;
  guint          typing_idle_id;
};

G_DEFINE_FINAL_TYPE (GcOutbox, gc_outbox, G_TYPE_OBJECT)

/* ------------------------------------------------------------------ */
/* The bucket                                                           */
/* ------------------------------------------------------------------ */

static void
refill (GcOutbox *self)
{
  gint64 now = g_get_monotonic_time ();

  self->tokens = MIN (self->burst,
                      self->tokens + self->rate_per_s * (double) (now - self->tokens_at_us) / G_USEC_PER_SEC);
  self->tokens_at_us = now;
}

/* Takes a token if one is free (always, without pacing). */
static gboolean
take_token (GcOutbox *self)
{
  if (!self->pacing)
    return TRUE;
  refill (self);
  if (self->tokens < 1.0)
    return FALSE;
  self->tokens -= 1.0;
  return TRUE;
}

/* Counts a request that goes out whatever the bucket says. */
static void
charge_token (GcOutbox *self)
{
  refill (self);
  self->tokens = MAX (self->tokens - 1.0, -self->burst);
}

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

static void
send_item (GcOutbox      *self,
           GcMessageItem *item)
{
  g_autofree char *json = NULL;
  GcMessageKind kind = gc_message_item_get_kind (item) == GC_MESSAGE_ITEM_EMOTE
                       ? GC_MESSAGE_KIND_EMOTE : GC_MESSAGE_KIND_TEXT;

  json = gc_request_build_message (gc_message_item_get_text (item), kind,
                                   gc_message_item_get_client_id (item));
  gc_message_item_set_pending (item);
  gc_session_link_send_text (self->link, json);
}

static void schedule_pump (GcOutbox *self);

/* Sends what the bucket allows, oldest first. */
static void
pump (GcOutbox *self)
{
  g_clear_handle_id (&self->pump_id, g_source_remove);

  while (self->connected && !g_queue_is_empty (&self->queue) && take_token (self))
    {
      g_autoptr(GcMessageItem) item = g_queue_pop_head (&self->queue);

      /* Forgotten meanwhile (trimmed from the log) or answered. */
      if (gc_message_log_lookup_outgoing (self->log, gc_message_item_get_client_id (item)) != item ||
          gc_message_item_get_state (item) != GC_MESSAGE_ITEM_QUEUED)
        {
          if (self->pacing)
            self->tokens += 1.0;
          continue;
        }
      send_item (self, item);
    }

  if (self->connected && !g_queue_is_empty (&self->queue))
    schedule_pump (self);
}

static gboolean
pump_cb (gpointer user_data)
{
  GcOutbox *self = user_data;

  self->pump_id = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

/* Wakes up when the next token is free. */
static void
schedule_pump (GcOutbox *self)
{
  double wait_s;

  if (self->pump_id != 0)
    return;
  wait_s = self->rate_per_s > 0 ? (1.0 - self->tokens) / self->rate_per_s : 1.0;
  self->pump_id = g_timeout_add ((guint) ceil (MAX (wait_s, 0.0) * 1000) + 1, pump_cb, self);
}

static void
enqueue (GcOutbox      *self,
         GcMessageItem *item)
{
  gc_message_item_set_queued (item);
  g_queue_push_tail (&self->queue, g_object_ref (item));
  pump (self);
}

/* ------------------------------------------------------------------ */
/* GObject                                                              */
/* ------------------------------------------------------------------ */

static void
gc_outbox_dispose (GObject *object)
{
  GcOutbox *self = GC_OUTBOX (object);

  g_clear_handle_id (&self->pump_id, g_source_remove);
  g_clear_handle_id (&self->typing_idle_id, g_source_remove);
  g_queue_clear_full (&self->queue, g_object_unref);
  g_clear_object (&self->link);
  g_clear_object (&self->log);

  G_OBJECT_CLASS (gc_outbox_parent_class)->dispose (object);
}

static void
gc_outbox_class_init (GcOutboxClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = gc_outbox_dispose;
}

static void
gc_outbox_init (GcOutbox *self)
{
  GcLimits limits;

  g_queue_init (&self->queue);
  self->pacing = TRUE;
  gc_limits_init_default (&limits);
  gc_outbox_set_limits (self, &limits, TRUE);
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

GcOutbox *
gc_outbox_new (GcSessionLink *link,
               GcMessageLog  *log)
{
  GcOutbox *self;

  g_return_val_if_fail (GC_IS_SESSION_LINK (link), NULL);
  g_return_val_if_fail (GC_IS_MESSAGE_LOG (log), NULL);

  self = g_object_new (GC_TYPE_OUTBOX, NULL);
  self->link = g_object_ref (link);
  self->log = g_object_ref (log);
  return self;
}

void
gc_outbox_set_limits (GcOutbox       *self,
                      const GcLimits *limits,
                      gboolean        fresh)
{
  g_return_if_fail (GC_IS_OUTBOX (self));
  g_return_if_fail (limits != NULL);

  refill (self);
  self->burst = MAX ((double) limits->rate_burst - 1.0, 1.0);
  self->rate_per_s = MAX (limits->rate_per_s, 0.0) * RATE_MARGIN;
  /* A resumed member keeps the server's bucket as our sends left it. */
  self->tokens = fresh ? self->burst : MIN (self->tokens, self->burst);
  self->tokens_at_us = g_get_monotonic_time ();
}

void
gc_outbox_set_pacing (GcOutbox *self,
                      gboolean  pacing)
{
  g_return_if_fail (GC_IS_OUTBOX (self));

  self->pacing = pacing;
  pump (self);
}

void
gc_outbox_send_message (GcOutbox      *self,
                        GcMessageItem *item)
{
  g_return_if_fail (GC_IS_OUTBOX (self));
  g_return_if_fail (GC_IS_MESSAGE_ITEM (item));

  /* Queued first, so that the row shows at once in its state. */
  gc_message_item_set_queued (item);
  gc_message_log_add_outgoing (self->log, item);
  g_queue_push_tail (&self->queue, g_object_ref (item));
  pump (self);

  /* A message ends typing for everyone who sees it (the server forgets
   * it too), so no `typing false` needs to follow. */
  self->typing_sent = FALSE;
  g_clear_handle_id (&self->typing_idle_id, g_source_remove);
}

void
gc_outbox_retry (GcOutbox      *self,
                 GcMessageItem *item)
{
  g_return_if_fail (GC_IS_OUTBOX (self));
  g_return_if_fail (GC_IS_MESSAGE_ITEM (item));

  enqueue (self, item);
}

void
gc_outbox_send_request (GcOutbox   *self,
                        const char *json)
{
  g_return_if_fail (GC_IS_OUTBOX (self));
  g_return_if_fail (json != NULL);

  if (gc_session_link_send_text (self->link, json))
    charge_token (self);
}

static gboolean
typing_idle_cb (gpointer user_data)
{
  GcOutbox *self = user_data;

  self->typing_idle_id = 0;
  gc_outbox_set_typing (self, FALSE);
  return G_SOURCE_REMOVE;
}

/* A typing notice goes only when no message waits and a token is free. */
static gboolean
send_typing (GcOutbox *self,
             gboolean  active)
{
  g_autofree char *json = NULL;

  if (!g_queue_is_empty (&self->queue) || !take_token (self))
    return FALSE;
  json = gc_request_build_typing (active);
  gc_session_link_send_text (self->link, json);
  return TRUE;
}

void
gc_outbox_set_typing (GcOutbox *self,
                      gboolean  typing)
{
  gint64 now = g_get_monotonic_time ();

  g_return_if_fail (GC_IS_OUTBOX (self));

  if (!self->connected)
    return;

  if (typing)
    {
      gint64 gap = self->typing_sent ? TYPING_REFRESH_US : TYPING_MIN_GAP_US;

      if (now - self->typing_sent_at >= gap && send_typing (self, TRUE))
        {
          self->typing_sent = TRUE;
          self->typing_sent_at = now;
        }
      g_clear_handle_id (&self->typing_idle_id, g_source_remove);
      self->typing_idle_id = g_timeout_add (TYPING_IDLE_MS, typing_idle_cb, self);
    }
  else
    {
      g_clear_handle_id (&self->typing_idle_id, g_source_remove);
      /* Skipped without a token: the others expire it soon anyway. */
      if (self->typing_sent)
        send_typing (self, FALSE);
      self->typing_sent = FALSE;
    }
}

void
gc_outbox_connected (GcOutbox *self)
{
  g_autoptr(GPtrArray) unanswered = NULL;

  g_return_if_fail (GC_IS_OUTBOX (self));

  self->connected = TRUE;

  /* Still pending after a welcome means it never reached the server (the
   * history would have carried its echo): it goes again, first. */
  unanswered = gc_message_log_dup_outgoing (self->log, GC_MESSAGE_ITEM_PENDING);
  for (guint i = unanswered->len; i > 0; i--)
    {
      GcMessageItem *item = g_ptr_array_index (unanswered, i - 1);

      gc_message_item_set_queued (item);
      g_queue_push_head (&self->queue, g_object_ref (item));
    }
  pump (self);
}

void
gc_outbox_disconnected (GcOutbox *self)
{
  g_return_if_fail (GC_IS_OUTBOX (self));

  self->connected = FALSE;
  g_clear_handle_id (&self->pump_id, g_source_remove);
  self->typing_sent = FALSE;
  g_clear_handle_id (&self->typing_idle_id, g_source_remove);
}

guint
gc_outbox_get_n_queued (GcOutbox *self)
{
  g_return_val_if_fail (GC_IS_OUTBOX (self), 0);
  return g_queue_get_length (&self->queue);
}
