/* gc-room-history.c: a room's history: the last messages, capped in
 * entries and in bytes, replayed in welcomes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-room-private.h"
#include "gc-ws-frame.h"

/* History is bounded in bytes as well as in entries: a text of 4096
 * control characters escapes to some 24 kB, so 100 of them would make
 * every welcome 2.5 MB, more than the slow-reader bound and more than
 * many clients accept in one message. Half the slow-reader bound goes to
 * history, which leaves the other half for the member list, and never
 * more than 512 KiB, so a welcome stays under 1 MiB with default limits. */
#define HISTORY_MAX_BYTES (512 * 1024)

typedef struct {
  guint64  id;
  GBytes  *event;     /* the message event JSON, a slice of its frame */
} HistoryEntry;

/* Also the --redis welcome's bound (gc-join-redis.c). */
gsize
gc_room_history_budget (const GcServerConfig *config)
{
  gsize max_queued = config->max_queued_bytes;

  return max_queued > 0 ? MIN (max_queued / 2, HISTORY_MAX_BYTES) : HISTORY_MAX_BYTES;
}

static gsize
room_history_budget (GcRoom *self)
{
  return gc_room_history_budget (room_config (self));
}

static void
room_history_drop_oldest (GcRoom *self)
{
  HistoryEntry *entry = g_queue_pop_head (&self->history);

  self->history_bytes -= g_bytes_get_size (entry->event);
  g_bytes_unref (entry->event);
  g_free (entry);
}

/* Entries are allocated as they come, so a large --history costs nothing
 * until a room has that many messages. */
void
room_history_push (GcRoom  *self,
                   guint64  id,
                   GBytes  *event)
{
  guint capacity = room_config (self)->history;
  gsize budget = room_history_budget (self);
  HistoryEntry *entry;

  if (capacity == 0)
    return;

  entry = g_new (HistoryEntry, 1);
  entry->id = id;
  entry->event = g_bytes_ref (event);
  g_queue_push_tail (&self->history, entry);
  self->history_bytes += g_bytes_get_size (event);

  while (self->history.length > capacity || self->history_bytes > budget)
    room_history_drop_oldest (self);
}

/* The retained message events with id > @since (all without @has_since),
 * oldest first; borrowed. */
GPtrArray *
room_history_since (GcRoom   *self,
                    gboolean  has_since,
                    guint64   since)
{
  GPtrArray *events = g_ptr_array_sized_new (self->history.length);

  for (GList *l = self->history.head; l != NULL; l = l->next)
    {
      HistoryEntry *entry = l->data;

      if (!has_since || entry->id > since)
        g_ptr_array_add (events, entry->event);
    }

  return events;
}

void
room_history_clear (GcRoom *self)
{
  while (self->history.length > 0)
    room_history_drop_oldest (self);
}
