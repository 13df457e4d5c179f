/* gc-room-member.c: one member of a room, as the members list shows it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "gc-protocol.h"
#include "gc-room-member.h"

struct _GcRoomMember
{
  GObject   parent_instance;

  char     *id;
  char     *name;
  char     *sort_key;
  char     *color_key;
  gboolean  own;
  gboolean  typing;
};

G_DEFINE_FINAL_TYPE (GcRoomMember, gc_room_member, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_OWN,
  PROP_TYPING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
gc_room_member_finalize (GObject *object)
{
  GcRoomMember *self = GC_ROOM_MEMBER (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->color_key);
  g_free (self->sort_key);

  G_OBJECT_CLASS (gc_room_member_parent_class)->finalize (object);
}

static void
gc_room_member_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  GcRoomMember *self = GC_ROOM_MEMBER (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_OWN:
      g_value_set_boolean (value, self->own);
      break;
    case PROP_TYPING:
      g_value_set_boolean (value, self->typing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_room_member_class_init (GcRoomMemberClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gc_room_member_finalize;
  object_class->get_property = gc_room_member_get_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_OWN] =
    g_param_spec_boolean ("own", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TYPING] =
    g_param_spec_boolean ("typing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gc_room_member_init (GcRoomMember *self)
{
}

GcRoomMember *
gc_room_member_new (const char *id,
                    const char *name,
                    gboolean    own)
{
  GcRoomMember *self;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  self = g_object_new (GC_TYPE_ROOM_MEMBER, NULL);
  self->id = g_strdup (id);
  self->own = own;
  gc_room_member_set_name (self, name);

  return self;
}

const char *
gc_room_member_get_id (GcRoomMember *self)
{
  g_return_val_if_fail (GC_IS_ROOM_MEMBER (self), NULL);
  return self->id;
}

const char *
gc_room_member_get_name (GcRoomMember *self)
{
  g_return_val_if_fail (GC_IS_ROOM_MEMBER (self), NULL);
  return self->name;
}

void
gc_room_member_set_name (GcRoomMember *self,
                         const char   *name)
{
  g_autofree char *folded = NULL;

  g_return_if_fail (GC_IS_ROOM_MEMBER (self));
  g_return_if_fail (name != NULL);

  if (g_strcmp0 (self->name, name) == 0)
    return;

  g_free (self->name);
  self->name = g_strdup (name);
  folded = g_utf8_casefold (name, -1);
  g_free (self->sort_key);
  self->sort_key = g_utf8_collate_key (folded, -1);
  g_free (self->color_key);
  self->color_key = gc_protocol_user_name_key (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

const char *
gc_room_member_get_color_key (GcRoomMember *self)
{
  g_return_val_if_fail (GC_IS_ROOM_MEMBER (self), NULL);
  return self->color_key;
}

gboolean
gc_room_member_get_own (GcRoomMember *self)
{
  g_return_val_if_fail (GC_IS_ROOM_MEMBER (self), FALSE);
  return self->own;
}

gboolean
gc_room_member_get_typing (GcRoomMember *self)
{
  g_return_val_if_fail (GC_IS_ROOM_MEMBER (self), FALSE);
  return self->typing;
}

void
gc_room_member_set_typing (GcRoomMember *self,
                           gboolean      typing)
{
  g_return_if_fail (GC_IS_ROOM_MEMBER (self));

  typing = !!typing;
  if (self->typing == typing)
    return;
  self->typing = typing;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TYPING]);
}

int
gc_room_member_compare (gconstpointer a,
                        gconstpointer b,
                        gpointer      user_data)
{
  const GcRoomMember *ma = a;
  const GcRoomMember *mb = b;
  int cmp = strcmp (ma->sort_key, mb->sort_key);

  /* Names are unique up to case folding, but keep the order total. */
  return cmp != 0 ? cmp : strcmp (ma->name, mb->name);
}
