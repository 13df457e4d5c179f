/* gc-member-roster.c: a room's members as a sorted list model, and who is typing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-member-roster.h"

struct _GcMemberRoster
{
  GObject     parent_instance;

  GListStore *members;
  GHashTable *by_id;    /* USER_ID → GcRoomMember */
  GHashTable *typing;   /* USER_ID → TypingEntry */
};

typedef struct {
  GcMemberRoster *roster;
  char           *user_id;
  guint           source_id;
} TypingEntry;

G_DEFINE_FINAL_TYPE (GcMemberRoster, gc_member_roster, G_TYPE_OBJECT)

enum {
  TYPING_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
typing_entry_free (gpointer data)
{
  TypingEntry *entry = data;

  g_clear_handle_id (&entry->source_id, g_source_remove);
  g_free (entry->user_id);
  g_free (entry);
}

static void
gc_member_roster_dispose (GObject *object)
{
  GcMemberRoster *self = GC_MEMBER_ROSTER (object);

  g_hash_table_remove_all (self->typing);
  g_hash_table_remove_all (self->by_id);

  G_OBJECT_CLASS (gc_member_roster_parent_class)->dispose (object);
}

static void
gc_member_roster_finalize (GObject *object)
{
  GcMemberRoster *self = GC_MEMBER_ROSTER (object);

  g_clear_object (&self->members);
  g_hash_table_unref (self->by_id);
  g_hash_table_unref (self->typing);

  G_OBJECT_CLASS (gc_member_roster_parent_class)->finalize (object);
}

static void
gc_member_roster_class_init (GcMemberRosterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_member_roster_dispose;
  object_class->finalize = gc_member_roster_finalize;

  /**
   * GcMemberRoster::typing-changed:
   *
   * Someone started or stopped typing.
   */
  signals[TYPING_CHANGED] =
    g_signal_new ("typing-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
gc_member_roster_init (GcMemberRoster *self)
{
  self->members = g_list_store_new (GC_TYPE_ROOM_MEMBER);
  self->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->typing = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, typing_entry_free);
}

GcMemberRoster *
gc_member_roster_new (void)
{
  return g_object_new (GC_TYPE_MEMBER_ROSTER, NULL);
}

GListModel *
gc_member_roster_get_model (GcMemberRoster *self)
{
  g_return_val_if_fail (GC_IS_MEMBER_ROSTER (self), NULL);
  return G_LIST_MODEL (self->members);
}

GcRoomMember *
gc_member_roster_lookup (GcMemberRoster *self,
                         const char     *user_id)
{
  g_return_val_if_fail (GC_IS_MEMBER_ROSTER (self), NULL);
  g_return_val_if_fail (user_id != NULL, NULL);

  return g_hash_table_lookup (self->by_id, user_id);
}

gboolean
gc_member_roster_add (GcMemberRoster *self,
                      const GcUser   *user,
                      gboolean        own)
{
  g_autoptr(GcRoomMember) member = NULL;

  g_return_val_if_fail (GC_IS_MEMBER_ROSTER (self), FALSE);
  g_return_val_if_fail (user != NULL, FALSE);

  if (g_hash_table_contains (self->by_id, user->id))
    return FALSE;

  member = gc_room_member_new (user->id, user->name, own);
  g_hash_table_insert (self->by_id, g_strdup (user->id), g_object_ref (member));
  g_list_store_insert_sorted (self->members, member, gc_room_member_compare, NULL);
  return TRUE;
}

gboolean
gc_member_roster_remove (GcMemberRoster *self,
                         const char     *user_id)
{
  GcRoomMember *member;
  guint position;

  g_return_val_if_fail (GC_IS_MEMBER_ROSTER (self), FALSE);
  g_return_val_if_fail (user_id != NULL, FALSE);

  member = g_hash_table_lookup (self->by_id, user_id);
  if (member == NULL)
    return FALSE;

  gc_member_roster_set_typing (self, user_id, FALSE);
  if (g_list_store_find (self->members, member, &position))
    g_list_store_remove (self->members, position);
  g_hash_table_remove (self->by_id, user_id);
  return TRUE;
}

void
gc_member_roster_rename (GcMemberRoster *self,
                         const GcUser   *user)
{
  GcRoomMember *member;
  guint position;

  g_return_if_fail (GC_IS_MEMBER_ROSTER (self));
  g_return_if_fail (user != NULL);

  member = g_hash_table_lookup (self->by_id, user->id);
  if (member == NULL)
    return;

  /* The store is kept sorted by hand: take the member out and put it back
   * where its new name belongs. */
  g_object_ref (member);
  if (g_list_store_find (self->members, member, &position))
    g_list_store_remove (self->members, position);
  gc_room_member_set_name (member, user->name);
  g_list_store_insert_sorted (self->members, member, gc_room_member_compare, NULL);
  g_object_unref (member);
}

void
gc_member_roster_replace (GcMemberRoster *self,
                          GPtrArray      *users,
                          const char     *own_id,
                          GPtrArray      *joined,
                          GPtrArray      *left)
{
  g_autoptr(GHashTable) old_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) new_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GListModel *model;
  guint n;

  g_return_if_fail (GC_IS_MEMBER_ROSTER (self));
  g_return_if_fail (users != NULL);

  model = G_LIST_MODEL (self->members);
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcRoomMember) member = g_list_model_get_item (model, i);

      if (!gc_room_member_get_own (member))
        g_hash_table_insert (old_names, gc_protocol_user_name_key (gc_room_member_get_name (member)),
                             g_strdup (gc_room_member_get_name (member)));
    }

  g_hash_table_remove_all (self->by_id);
  g_list_store_remove_all (self->members);

  for (guint i = 0; i < users->len; i++)
    {
      const GcUser *user = g_ptr_array_index (users, i);
      gboolean own = g_strcmp0 (user->id, own_id) == 0;
      g_autofree char *key = NULL;

      gc_member_roster_add (self, user, own);
      if (own)
        continue;

      key = gc_protocol_user_name_key (user->name);
      if (joined != NULL && !g_hash_table_contains (old_names, key))
        g_ptr_array_add (joined, g_strdup (user->name));
      g_hash_table_add (new_keys, g_steal_pointer (&key));
    }

  if (left != NULL)
    {
      GHashTableIter iter;
      gpointer key, name;

      g_hash_table_iter_init (&iter, old_names);
      while (g_hash_table_iter_next (&iter, &key, &name))
        if (!g_hash_table_contains (new_keys, key))
          g_ptr_array_add (left, g_strdup (name));
    }
}

static void
set_member_typing (GcMemberRoster *self,
                   const char     *user_id,
                   gboolean        typing)
{
  GcRoomMember *member = g_hash_table_lookup (self->by_id, user_id);

  if (member != NULL)
    gc_room_member_set_typing (member, typing);
}

static gboolean
typing_expired_cb (gpointer data)
{
  TypingEntry *entry = data;
  GcMemberRoster *self = entry->roster;

  entry->source_id = 0;
  set_member_typing (self, entry->user_id, FALSE);
  g_hash_table_remove (self->typing, entry->user_id);
  g_signal_emit (self, signals[TYPING_CHANGED], 0);

  return G_SOURCE_REMOVE;
}

void
gc_member_roster_set_typing (GcMemberRoster *self,
                             const char     *user_id,
                             gboolean        active)
{
  TypingEntry *entry;

  g_return_if_fail (GC_IS_MEMBER_ROSTER (self));
  g_return_if_fail (user_id != NULL);

  entry = g_hash_table_lookup (self->typing, user_id);
  if (!active)
    {
      if (entry == NULL)
        return;
      set_member_typing (self, user_id, FALSE);
      g_hash_table_remove (self->typing, user_id);
    }
  else
    {
      if (entry == NULL)
        {
          entry = g_new0 (TypingEntry, 1);
          entry->roster = self;
          entry->user_id = g_strdup (user_id);
          g_hash_table_insert (self->typing, entry->user_id, entry);
        }
      g_clear_handle_id (&entry->source_id, g_source_remove);
      entry->source_id = g_timeout_add (GC_MEMBER_ROSTER_TYPING_EXPIRY_MS, typing_expired_cb, entry);
      set_member_typing (self, user_id, TRUE);
    }

  g_signal_emit (self, signals[TYPING_CHANGED], 0);
}

gboolean
gc_member_roster_is_typing (GcMemberRoster *self,
                            const char     *user_id)
{
  g_return_val_if_fail (GC_IS_MEMBER_ROSTER (self), FALSE);
  g_return_val_if_fail (user_id != NULL, FALSE);

  return g_hash_table_contains (self->typing, user_id);
}

void
gc_member_roster_clear_typing (GcMemberRoster *self)
{
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (GC_IS_MEMBER_ROSTER (self));

  if (g_hash_table_size (self->typing) == 0)
    return;

  g_hash_table_iter_init (&iter, self->typing);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    set_member_typing (self, key, FALSE);
  g_hash_table_remove_all (self->typing);
  g_signal_emit (self, signals[TYPING_CHANGED], 0);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_utf8_collate (*(const char * const *) a, *(const char * const *) b);
}

GStrv
gc_member_roster_dup_typing_names (GcMemberRoster *self)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (GC_IS_MEMBER_ROSTER (self), NULL);

  g_hash_table_iter_init (&iter, self->typing);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      GcRoomMember *member = g_hash_table_lookup (self->by_id, key);

      if (member != NULL)
        g_ptr_array_add (names, g_strdup (gc_room_member_get_name (member)));
    }
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);

  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}
