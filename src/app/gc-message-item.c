/* gc-message-item.c: one line of the room view (a chat message or a system line)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-message-item.h"
#include "gc-protocol.h"

struct _GcMessageItem
{
  GObject             parent_instance;

  GcMessageItemKind   kind;
  guint64             id;
  gint64              ts;
  char               *sender_id;
  char               *sender_name;
  char               *color_key;
  char               *text;
  char               *client_id;
  gboolean            own;
  gboolean            mention;
  GcMessageItemState  state;
  char               *error;
};

G_DEFINE_FINAL_TYPE (GcMessageItem, gc_message_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_TS,
  PROP_STATE,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
gc_message_item_finalize (GObject *object)
{
  GcMessageItem *self = GC_MESSAGE_ITEM (object);

  g_clear_pointer (&self->sender_id, g_ref_string_release);
  g_clear_pointer (&self->sender_name, g_ref_string_release);
  g_clear_pointer (&self->color_key, g_ref_string_release);
  g_free (self->text);
  g_free (self->client_id);
  g_free (self->error);

  G_OBJECT_CLASS (gc_message_item_parent_class)->finalize (object);
}

static void
gc_message_item_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  GcMessageItem *self = GC_MESSAGE_ITEM (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_uint64 (value, self->id);
      break;
    case PROP_TS:
      g_value_set_int64 (value, self->ts);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_message_item_class_init (GcMessageItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gc_message_item_finalize;
  object_class->get_property = gc_message_item_get_property;

  /* The fields that change after creation are properties, so rows can
   * follow them with notify. */
  properties[PROP_ID] =
    g_param_spec_uint64 ("id", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_TS] =
    g_param_spec_int64 ("ts", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       GC_TYPE_MESSAGE_ITEM_STATE, GC_MESSAGE_ITEM_DELIVERED,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gc_message_item_init (GcMessageItem *self)
{
}

GcMessageItem *
gc_message_item_new (GcMessageItemKind  kind,
                     guint64            id,
                     gint64             ts,
                     const char        *sender_id,
                     const char        *sender_name,
                     const char        *text,
                     const char        *client_id,
                     gboolean           own)
{
  GcMessageItem *self;

  g_return_val_if_fail (text != NULL, NULL);

  self = g_object_new (GC_TYPE_MESSAGE_ITEM, NULL);
  self->kind = kind;
  self->id = id;
  self->ts = ts;
  /* A big room has few senders and many lines: each line shares one
   * copy of its sender's id and name. */
  self->sender_id = sender_id != NULL ? g_ref_string_new_intern (sender_id) : NULL;
  self->sender_name = sender_name != NULL ? g_ref_string_new_intern (sender_name) : NULL;
  if (sender_name != NULL)
    {
      g_autofree char *key = gc_protocol_user_name_key (sender_name);

      /* Interned, as the lines of one sender share it. */
      self->color_key = g_ref_string_new_intern (key);
    }
  self->text = g_strdup (text);
  self->client_id = g_strdup (client_id);
  self->own = own;
  self->state = id == 0 && kind != GC_MESSAGE_ITEM_SYSTEM
                ? GC_MESSAGE_ITEM_PENDING : GC_MESSAGE_ITEM_DELIVERED;

  return self;
}

GcMessageItem *
gc_message_item_new_system (gint64      ts,
                            const char *text)
{
  return gc_message_item_new (GC_MESSAGE_ITEM_SYSTEM, 0, ts, NULL, NULL, text, NULL, FALSE);
}

GcMessageItemKind
gc_message_item_get_kind (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), GC_MESSAGE_ITEM_SYSTEM);
  return self->kind;
}

guint64
gc_message_item_get_id (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), 0);
  return self->id;
}

gint64
gc_message_item_get_ts (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), 0);
  return self->ts;
}

const char *
gc_message_item_get_sender_id (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), NULL);
  return self->sender_id;
}

const char *
gc_message_item_get_color_key (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), NULL);
  return self->color_key;
}

const char *
gc_message_item_get_sender_name (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), NULL);
  return self->sender_name;
}

const char *
gc_message_item_get_text (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), NULL);
  return self->text;
}

const char *
gc_message_item_get_client_id (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), NULL);
  return self->client_id;
}

gboolean
gc_message_item_get_own (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), FALSE);
  return self->own;
}

gboolean
gc_message_item_get_mention (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), FALSE);
  return self->mention;
}

/* Set once, before the item is shown: rows do not follow it. */
void
gc_message_item_set_mention (GcMessageItem *self,
                             gboolean       mention)
{
  g_return_if_fail (GC_IS_MESSAGE_ITEM (self));
  self->mention = !!mention;
}

GcMessageItemState
gc_message_item_get_state (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), GC_MESSAGE_ITEM_DELIVERED);
  return self->state;
}

const char *
gc_message_item_get_error (GcMessageItem *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ITEM (self), NULL);
  return self->error;
}

static void
gc_message_item_set_state (GcMessageItem      *self,
                           GcMessageItemState  state,
                           const char         *error)
{
  if (g_strcmp0 (self->error, error) != 0)
    {
      g_free (self->error);
      self->error = g_strdup (error);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
    }
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

void
gc_message_item_set_delivered (GcMessageItem *self,
                               guint64        id,
                               gint64         ts)
{
  g_return_if_fail (GC_IS_MESSAGE_ITEM (self));
  g_return_if_fail (id > 0);

  g_object_freeze_notify (G_OBJECT (self));
  if (self->id != id)
    {
      self->id = id;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
    }
  if (self->ts != ts)
    {
      self->ts = ts;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TS]);
    }
  gc_message_item_set_state (self, GC_MESSAGE_ITEM_DELIVERED, NULL);
  g_object_thaw_notify (G_OBJECT (self));
}

void
gc_message_item_set_failed (GcMessageItem *self,
                            const char    *error)
{
  g_return_if_fail (GC_IS_MESSAGE_ITEM (self));
  g_return_if_fail (error != NULL);

  g_object_freeze_notify (G_OBJECT (self));
  gc_message_item_set_state (self, GC_MESSAGE_ITEM_FAILED, error);
  g_object_thaw_notify (G_OBJECT (self));
}

void
gc_message_item_set_pending (GcMessageItem *self)
{
  g_return_if_fail (GC_IS_MESSAGE_ITEM (self));

  g_object_freeze_notify (G_OBJECT (self));
  gc_message_item_set_state (self, GC_MESSAGE_ITEM_PENDING, NULL);
  g_object_thaw_notify (G_OBJECT (self));
}

void
gc_message_item_set_queued (GcMessageItem *self)
{
  g_return_if_fail (GC_IS_MESSAGE_ITEM (self));

  g_object_freeze_notify (G_OBJECT (self));
  gc_message_item_set_state (self, GC_MESSAGE_ITEM_QUEUED, NULL);
  g_object_thaw_notify (G_OBJECT (self));
}
