/* gc-open-rooms.c: the rooms the app has open, as a list model, remembered across starts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-open-rooms.h"

#define SETTINGS_KEY "open-rooms"

struct _GcOpenRooms
{
  GObject    parent_instance;

  GPtrArray *sessions;     /* GcChatSession */
  GHashTable *remembered;  /* GcChatSession set: saved for the next start */
  GSettings *settings;
  GPtrArray *saved;        /* GcSavedRoom: saved, not open (yet) */
  /* What was saved when the settings were read, in order: restored rooms
   * take their saved places however their joins race. */
  GPtrArray *saved_order;  /* GcSavedRoom */
};

static void gc_open_rooms_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (GcOpenRooms, gc_open_rooms, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, gc_open_rooms_list_model_init))

void
gc_saved_room_free (GcSavedRoom *room)
{
  if (room == NULL)
    return;
  g_free (room->server_url);
  g_free (room->user_name);
  g_free (room->room_code);
  g_free (room);
}

static GcSavedRoom *
saved_room_new (const char *server_url,
                const char *user_name,
                const char *room_code)
{
  GcSavedRoom *room = g_new0 (GcSavedRoom, 1);

  room->server_url = g_strdup (server_url);
  room->user_name = g_strdup (user_name);
  room->room_code = g_strdup (room_code);
  return room;
}

/* ------------------------------------------------------------------ */
/* Keys: the same room however it was typed                             */
/* ------------------------------------------------------------------ */

static char *
server_key (const char *server_url)
{
  char *normalized = gc_chat_session_normalize_server_url (server_url, NULL);

  return normalized != NULL ? normalized : g_strdup (server_url);
}

static char *
room_key (const char *room_code)
{
  char *canonical = gc_protocol_canonical_room_code (room_code, NULL);

  return canonical != NULL ? canonical : g_ascii_strdown (room_code, -1);
}

static gboolean
same_room (const char *server_a,
           const char *room_a,
           const char *server_b,
           const char *room_b)
{
  g_autofree char *sa = server_key (server_a);
  g_autofree char *sb = server_key (server_b);
  g_autofree char *ra = room_key (room_a);
  g_autofree char *rb = room_key (room_b);

  return g_str_equal (sa, sb) && g_str_equal (ra, rb);
}

static gboolean
session_is (GcChatSession *session,
            const char    *server_url,
            const char    *room_code)
{
  return same_room (gc_chat_session_get_server_url (session), gc_chat_session_get_room (session),
                    server_url, room_code);
}

/* ------------------------------------------------------------------ */
/* Saving                                                               */
/* ------------------------------------------------------------------ */

static void
save (GcOpenRooms *self)
{
  GVariantBuilder builder;

  if (self->settings == NULL)
    return;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sss)"));
  for (guint i = 0; i < self->sessions->len; i++)
    {
      GcChatSession *session = g_ptr_array_index (self->sessions, i);

      if (g_hash_table_contains (self->remembered, session))
        g_variant_builder_add (&builder, "(sss)",
                               gc_chat_session_get_server_url (session),
                               gc_chat_session_get_user_name (session),
                               gc_chat_session_get_room (session));
    }
  for (guint i = 0; i < self->saved->len; i++)
    {
      GcSavedRoom *room = g_ptr_array_index (self->saved, i);

      g_variant_builder_add (&builder, "(sss)", room->server_url, room->user_name, room->room_code);
    }
  g_settings_set_value (self->settings, SETTINGS_KEY, g_variant_builder_end (&builder));
}

static void
session_user_name_cb (GcChatSession *session,
                      GParamSpec    *pspec,
                      GcOpenRooms   *self)
{
  save (self);
}

/* Drops the saved entries for @server_url / @room_code; returns whether
 * there were any. */
static gboolean
drop_saved (GcOpenRooms *self,
            const char  *server_url,
            const char  *room_code)
{
  gboolean dropped = FALSE;

  for (guint i = self->saved->len; i > 0; i--)
    {
      GcSavedRoom *room = g_ptr_array_index (self->saved, i - 1);

      if (same_room (room->server_url, room->room_code, server_url, room_code))
        {
          g_ptr_array_remove_index (self->saved, i - 1);
          dropped = TRUE;
        }
    }
  return dropped;
}

/* Where @session was in the saved order; rooms not saved come after. */
static guint
saved_rank (GcOpenRooms   *self,
            GcChatSession *session)
{
  for (guint i = 0; i < self->saved_order->len; i++)
    {
      GcSavedRoom *room = g_ptr_array_index (self->saved_order, i);

      if (session_is (session, room->server_url, room->room_code))
        return i;
    }
  return G_MAXUINT;
}

/* ------------------------------------------------------------------ */
/* GListModel                                                           */
/* ------------------------------------------------------------------ */

static GType
gc_open_rooms_get_item_type (GListModel *model)
{
  return GC_TYPE_CHAT_SESSION;
}

static guint
gc_open_rooms_get_n_items (GListModel *model)
{
  return GC_OPEN_ROOMS (model)->sessions->len;
}

static gpointer
gc_open_rooms_get_item (GListModel *model,
                        guint       position)
{
  GcOpenRooms *self = GC_OPEN_ROOMS (model);

  if (position >= self->sessions->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->sessions, position));
}

static void
gc_open_rooms_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = gc_open_rooms_get_item_type;
  iface->get_n_items = gc_open_rooms_get_n_items;
  iface->get_item = gc_open_rooms_get_item;
}

/* ------------------------------------------------------------------ */
/* GObject                                                              */
/* ------------------------------------------------------------------ */

static void
gc_open_rooms_dispose (GObject *object)
{
  GcOpenRooms *self = GC_OPEN_ROOMS (object);

  for (guint i = 0; i < self->sessions->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->sessions, i), self);
  g_ptr_array_set_size (self->sessions, 0);
  g_hash_table_remove_all (self->remembered);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (gc_open_rooms_parent_class)->dispose (object);
}

static void
gc_open_rooms_finalize (GObject *object)
{
  GcOpenRooms *self = GC_OPEN_ROOMS (object);

  g_ptr_array_unref (self->sessions);
  g_hash_table_unref (self->remembered);
  g_ptr_array_unref (self->saved);
  g_ptr_array_unref (self->saved_order);

  G_OBJECT_CLASS (gc_open_rooms_parent_class)->finalize (object);
}

static void
gc_open_rooms_class_init (GcOpenRoomsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_open_rooms_dispose;
  object_class->finalize = gc_open_rooms_finalize;
}

static void
gc_open_rooms_init (GcOpenRooms *self)
{
  self->sessions = g_ptr_array_new_with_free_func (g_object_unref);
  self->remembered = g_hash_table_new (NULL, NULL);
  self->saved = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_saved_room_free);
  self->saved_order = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_saved_room_free);
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

GcOpenRooms *
gc_open_rooms_new (void)
{
  return g_object_new (GC_TYPE_OPEN_ROOMS, NULL);
}

gboolean
gc_open_rooms_find (GcOpenRooms   *self,
                    GcChatSession *session,
                    guint         *position)
{
  g_return_val_if_fail (GC_IS_OPEN_ROOMS (self), FALSE);
  g_return_val_if_fail (GC_IS_CHAT_SESSION (session), FALSE);

  return g_ptr_array_find (self->sessions, session, position);
}

void
gc_open_rooms_add (GcOpenRooms   *self,
                   GcChatSession *session,
                   gboolean       remember)
{
  guint position, rank;

  g_return_if_fail (GC_IS_OPEN_ROOMS (self));
  g_return_if_fail (GC_IS_CHAT_SESSION (session));

  if (g_ptr_array_find (self->sessions, session, NULL))
    return;

  /* Before the first room that was saved after it (or not saved): the
   * saved order, whichever restored join finished first. */
  rank = saved_rank (self, session);
  for (position = 0; position < self->sessions->len; position++)
    if (saved_rank (self, g_ptr_array_index (self->sessions, position)) > rank)
      break;
  g_ptr_array_insert (self->sessions, (int) position, g_object_ref (session));
  if (remember)
    {
      g_hash_table_add (self->remembered, session);
      g_signal_connect (session, "notify::user-name", G_CALLBACK (session_user_name_cb), self);
    }
  /* It is open now: its saved entry is its own line. */
  drop_saved (self, gc_chat_session_get_server_url (session), gc_chat_session_get_room (session));
  save (self);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

gboolean
gc_open_rooms_remove (GcOpenRooms   *self,
                      GcChatSession *session)
{
  g_autoptr(GcChatSession) removed = NULL;
  guint position;

  g_return_val_if_fail (GC_IS_OPEN_ROOMS (self), FALSE);
  g_return_val_if_fail (GC_IS_CHAT_SESSION (session), FALSE);

  if (!g_ptr_array_find (self->sessions, session, &position))
    return FALSE;

  removed = g_ptr_array_steal_index (self->sessions, position);
  g_signal_handlers_disconnect_by_data (removed, self);
  /* Left, it has no saved place any more: joined again, it comes last. */
  for (guint i = self->saved_order->len; i > 0; i--)
    {
      GcSavedRoom *room = g_ptr_array_index (self->saved_order, i - 1);

      if (session_is (removed, room->server_url, room->room_code))
        g_ptr_array_remove_index (self->saved_order, i - 1);
    }
  g_hash_table_remove (self->remembered, removed);
  save (self);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  return TRUE;
}

GcChatSession *
gc_open_rooms_lookup (GcOpenRooms *self,
                      const char  *server_url,
                      const char  *room_code)
{
  g_return_val_if_fail (GC_IS_OPEN_ROOMS (self), NULL);
  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (room_code != NULL, NULL);

  for (guint i = 0; i < self->sessions->len; i++)
    {
      GcChatSession *session = g_ptr_array_index (self->sessions, i);

      if (session_is (session, server_url, room_code))
        return session;
    }
  return NULL;
}

static gpointer
ref_session (gconstpointer session,
             gpointer      user_data)
{
  return g_object_ref ((gpointer) session);
}

void
gc_open_rooms_reconnect_waiting (GcOpenRooms *self)
{
  g_autoptr(GPtrArray) sessions = NULL;

  g_return_if_fail (GC_IS_OPEN_ROOMS (self));

  /* A copy: reconnecting emits signals whose handlers may close rooms. */
  sessions = g_ptr_array_copy (self->sessions, ref_session, NULL);
  g_ptr_array_set_free_func (sessions, g_object_unref);
  for (guint i = 0; i < sessions->len; i++)
    {
      GcChatSession *session = g_ptr_array_index (sessions, i);

      if (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_WAITING)
        gc_chat_session_reconnect_now (session);
    }
}

void
gc_open_rooms_bind_settings (GcOpenRooms *self,
                             GSettings   *settings)
{
  g_autoptr(GVariant) value = NULL;
  GVariantIter iter;
  const char *server_url, *user_name, *room_code;

  g_return_if_fail (GC_IS_OPEN_ROOMS (self));
  g_return_if_fail (G_IS_SETTINGS (settings));

  g_set_object (&self->settings, settings);
  g_ptr_array_set_size (self->saved, 0);
  g_ptr_array_set_size (self->saved_order, 0);

  value = g_settings_get_value (settings, SETTINGS_KEY);
  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &server_url, &user_name, &room_code))
    {
      /* Settings are anyone's to edit: keep only what a join takes. */
      g_autofree char *server = gc_chat_session_normalize_server_url (server_url, NULL);
      g_autofree char *name = gc_protocol_normalize_user_name (user_name, NULL);
      g_autofree char *room = gc_protocol_canonical_room_code (room_code, NULL);
      gboolean seen = FALSE;

      if (server == NULL || name == NULL || room == NULL)
        continue;
      for (guint i = 0; i < self->saved_order->len && !seen; i++)
        {
          GcSavedRoom *saved = g_ptr_array_index (self->saved_order, i);

          seen = same_room (saved->server_url, saved->room_code, server, room);
        }
      if (seen)
        continue;
      g_ptr_array_add (self->saved_order, saved_room_new (server, name, room));
      if (gc_open_rooms_lookup (self, server, room) == NULL)
        g_ptr_array_add (self->saved, saved_room_new (server, name, room));
    }
  save (self);
}

GPtrArray *
gc_open_rooms_dup_saved (GcOpenRooms *self)
{
  GPtrArray *rooms;

  g_return_val_if_fail (GC_IS_OPEN_ROOMS (self), NULL);

  rooms = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_saved_room_free);
  for (guint i = 0; i < self->saved->len; i++)
    {
      GcSavedRoom *room = g_ptr_array_index (self->saved, i);

      g_ptr_array_add (rooms, saved_room_new (room->server_url, room->user_name, room->room_code));
    }
  return rooms;
}

void
gc_open_rooms_forget_saved (GcOpenRooms *self,
                            const char  *server_url,
                            const char  *room_code)
{
  g_return_if_fail (GC_IS_OPEN_ROOMS (self));
  g_return_if_fail (server_url != NULL);
  g_return_if_fail (room_code != NULL);

  if (drop_saved (self, server_url, room_code))
    save (self);
}
