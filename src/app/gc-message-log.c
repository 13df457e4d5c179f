/* gc-message-log.c: a room's lines as a list model: batching, trimming, dedupe, own messages in flight
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-message-log.h"

/* Lines that arrive between two frames reach the model in one splice:
 * GTK 4.8's list view pays for every items-changed until it lays out
 * again, so a burst of single appends would cost it quadratic time. A
 * flood that never lets a frame happen is flushed every so many lines. */
#define FLUSH_AT_LINES 1000

struct _GcMessageLog
{
  GObject     parent_instance;

  GListStore *lines;
  GPtrArray  *unshown;   /* GcMessageItem, for the next flush */
  guint       flush_id;
  guint64     last_id;
  GHashTable *outgoing;  /* client_id → GcMessageItem, pending or failed */
};

G_DEFINE_FINAL_TYPE (GcMessageLog, gc_message_log, G_TYPE_OBJECT)

static void
gc_message_log_dispose (GObject *object)
{
  GcMessageLog *self = GC_MESSAGE_LOG (object);

  gc_message_log_clear (self);

  G_OBJECT_CLASS (gc_message_log_parent_class)->dispose (object);
}

static void
gc_message_log_finalize (GObject *object)
{
  GcMessageLog *self = GC_MESSAGE_LOG (object);

  g_clear_object (&self->lines);
  g_ptr_array_unref (self->unshown);
  g_hash_table_unref (self->outgoing);

  G_OBJECT_CLASS (gc_message_log_parent_class)->finalize (object);
}

static void
gc_message_log_class_init (GcMessageLogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_message_log_dispose;
  object_class->finalize = gc_message_log_finalize;
}

static void
gc_message_log_init (GcMessageLog *self)
{
  self->lines = g_list_store_new (GC_TYPE_MESSAGE_ITEM);
  self->unshown = g_ptr_array_new_with_free_func (g_object_unref);
  self->outgoing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

GcMessageLog *
gc_message_log_new (void)
{
  return g_object_new (GC_TYPE_MESSAGE_LOG, NULL);
}

GListModel *
gc_message_log_get_model (GcMessageLog *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_LOG (self), NULL);
  return G_LIST_MODEL (self->lines);
}

/* Drops the oldest lines beyond GC_MESSAGE_LOG_MAX_LINES, and the pending
 * or failed own messages among them. */
static void
trim_lines (GcMessageLog *self)
{
  GListModel *model = G_LIST_MODEL (self->lines);
  guint n = g_list_model_get_n_items (model);
  guint excess = n > GC_MESSAGE_LOG_MAX_LINES ? n - GC_MESSAGE_LOG_MAX_LINES : 0;

  for (guint i = 0; i < excess; i++)
    {
      g_autoptr(GcMessageItem) oldest = g_list_model_get_item (model, i);
      const char *client_id = gc_message_item_get_client_id (oldest);

      if (client_id != NULL && g_hash_table_lookup (self->outgoing, client_id) == oldest)
        g_hash_table_remove (self->outgoing, client_id);
    }
  if (excess > 0)
    g_list_store_splice (self->lines, 0, excess, NULL, 0);
}

void
gc_message_log_flush (GcMessageLog *self)
{
  g_return_if_fail (GC_IS_MESSAGE_LOG (self));

  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->unshown->len == 0)
    return;

  g_list_store_splice (self->lines, g_list_model_get_n_items (G_LIST_MODEL (self->lines)), 0,
                       self->unshown->pdata, self->unshown->len);
  g_ptr_array_set_size (self->unshown, 0);
  trim_lines (self);
}

static gboolean
flush_cb (gpointer user_data)
{
  GcMessageLog *self = user_data;

  self->flush_id = 0;
  gc_message_log_flush (self);
  return G_SOURCE_REMOVE;
}

void
gc_message_log_append (GcMessageLog  *self,
                       GcMessageItem *item)
{
  g_return_if_fail (GC_IS_MESSAGE_LOG (self));
  g_return_if_fail (GC_IS_MESSAGE_ITEM (item));

  g_ptr_array_add (self->unshown, g_object_ref (item));
  if (self->unshown->len >= FLUSH_AT_LINES)
    gc_message_log_flush (self);
  else if (self->flush_id == 0)
    /* Before the next frame is laid out and drawn. */
    self->flush_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, flush_cb, self, NULL);
}

void
gc_message_log_append_system (GcMessageLog *self,
                              gint64        ts,
                              const char   *text)
{
  g_autoptr(GcMessageItem) item = gc_message_item_new_system (ts, text);

  gc_message_log_append (self, item);
}

gboolean
gc_message_log_take_id (GcMessageLog *self,
                        guint64       id)
{
  g_return_val_if_fail (GC_IS_MESSAGE_LOG (self), FALSE);

  if (id <= self->last_id)
    return FALSE;
  self->last_id = id;
  return TRUE;
}

guint64
gc_message_log_get_last_id (GcMessageLog *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_LOG (self), 0);
  return self->last_id;
}

void
gc_message_log_add_outgoing (GcMessageLog  *self,
                             GcMessageItem *item)
{
  const char *client_id;

  g_return_if_fail (GC_IS_MESSAGE_LOG (self));
  g_return_if_fail (GC_IS_MESSAGE_ITEM (item));
  client_id = gc_message_item_get_client_id (item);
  g_return_if_fail (client_id != NULL);

  g_hash_table_insert (self->outgoing, g_strdup (client_id), g_object_ref (item));
  /* What the user sends shows at once. */
  gc_message_log_append (self, item);
  gc_message_log_flush (self);
}

GcMessageItem *
gc_message_log_lookup_outgoing (GcMessageLog *self,
                                const char   *client_id)
{
  g_return_val_if_fail (GC_IS_MESSAGE_LOG (self), NULL);

  if (client_id == NULL)
    return NULL;
  return g_hash_table_lookup (self->outgoing, client_id);
}

void
gc_message_log_remove_outgoing (GcMessageLog *self,
                                const char   *client_id)
{
  g_return_if_fail (GC_IS_MESSAGE_LOG (self));
  g_return_if_fail (client_id != NULL);

  g_hash_table_remove (self->outgoing, client_id);
}

GPtrArray *
gc_message_log_dup_outgoing (GcMessageLog       *self,
                             GcMessageItemState  state)
{
  GListModel *model;
  GPtrArray *items;
  guint n;

  g_return_val_if_fail (GC_IS_MESSAGE_LOG (self), NULL);

  items = g_ptr_array_new_with_free_func (g_object_unref);
  if (g_hash_table_size (self->outgoing) == 0)
    return items;

  /* The model keeps the order they were sent in (own messages reach it
   * at once, so none waits in the batch). */
  model = G_LIST_MODEL (self->lines);
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcMessageItem) item = g_list_model_get_item (model, i);
      const char *client_id = gc_message_item_get_client_id (item);

      if (gc_message_item_get_state (item) == state && client_id != NULL &&
          g_hash_table_lookup (self->outgoing, client_id) == item)
        g_ptr_array_add (items, g_steal_pointer (&item));
    }
  return items;
}

void
gc_message_log_clear (GcMessageLog *self)
{
  g_return_if_fail (GC_IS_MESSAGE_LOG (self));

  g_hash_table_remove_all (self->outgoing);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  g_ptr_array_set_size (self->unshown, 0);
}
