/* gc-window.c: a window of rooms: the sidebar and the room shown beside it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-application.h"
#include "gc-invite-link.h"
#include "gc-local-host.h"
#include "gc-room-code.h"
#include "gc-room-row.h"
#include "gc-window-private.h"

/* Notifications quote at most this many characters of a message. */
#define NOTIFICATION_BODY_CHARS 280

struct _GcWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
  GPtrArray            *joining;       /* GcChatSession, joins without the dialog */
  GcJoinDialog         *join_dialog;
  GtkWindow            *stop_hosting_dialog;
  GtkWindow            *invite_dialog;
  gboolean              close_confirmed;
  gboolean              keep_saved;    /* closing: its rooms come back next start */
  GcOpenRooms          *open_rooms;
  /* The sidebar's model: the app's open rooms this window shows, those
   * with a view here (one window's rooms are not another's). */
  GHashTable           *views;         /* GcChatSession → GcRoomView */
  GtkFilterListModel   *rooms;

  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar_page;
  GtkWidget            *room_page;
  GtkLabel             *title_label;
  GtkLabel             *subtitle_label;
  GtkButton            *join_button;
  GtkToggleButton      *members_button;
  GtkButton            *invite_button;
  GtkListBox           *sidebar;
  GtkStack             *stack;
  GtkWidget            *empty_page;
};

G_DEFINE_FINAL_TYPE (GcWindow, gc_window, ADW_TYPE_APPLICATION_WINDOW)

static GcLocalHost *
app_host (GcWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  return GC_IS_APPLICATION (app) ? gc_application_get_host (GC_APPLICATION (app)) : NULL;
}

/* The app's open rooms (none in a window without a GcApplication). Held:
 * a window being destroyed has left its application already. */
static GcOpenRooms *
app_open_rooms (GcWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (self->open_rooms == NULL && GC_IS_APPLICATION (app))
    self->open_rooms = g_object_ref (gc_application_get_open_rooms (GC_APPLICATION (app)));
  return self->open_rooms;
}

/* Identifies a room within a window: the server and the room code. */
static char *
room_key (GcChatSession *session)
{
  return g_strdup_printf ("%s/%s", gc_chat_session_get_server_url (session),
                          gc_chat_session_get_room (session));
}

static char *
notification_id (GcWindow      *self,
                 GcChatSession *session)
{
  g_autofree char *key = room_key (session);

  return g_strdup_printf ("room-%u-%s", gtk_application_window_get_id (GTK_APPLICATION_WINDOW (self)),
                          key);
}

/* ------------------------------------------------------------------ */
/* Rooms                                                                */
/* ------------------------------------------------------------------ */

/* The window's rooms in sidebar order, on the app's open rooms (or a
 * model of its own in a window without a GcApplication). */
static GListModel *
window_rooms (GcWindow *self)
{
  if (gtk_filter_list_model_get_model (self->rooms) == NULL)
    {
      GcOpenRooms *open_rooms = app_open_rooms (self);

      if (open_rooms == NULL)
        open_rooms = self->open_rooms = gc_open_rooms_new ();
      gtk_filter_list_model_set_model (self->rooms, G_LIST_MODEL (open_rooms));
    }
  return G_LIST_MODEL (self->rooms);
}

static guint
count_rooms (GcWindow *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->rooms));
}

/* (transfer none) */
static GcChatSession *
nth_room (GcWindow *self,
          guint     n)
{
  g_autoptr(GcChatSession) session = g_list_model_get_item (G_LIST_MODEL (self->rooms), n);

  /* The model holds it. */
  return session;
}

static gboolean
find_room (GcWindow      *self,
           GcChatSession *session,
           guint         *position)
{
  for (guint i = 0; i < count_rooms (self); i++)
    if (nth_room (self, i) == session)
      {
        *position = i;
        return TRUE;
      }
  return FALSE;
}

static GcChatSession *
room_for_key (GcWindow   *self,
              const char *key)
{
  for (guint i = 0; i < count_rooms (self); i++)
    {
      g_autofree char *room = room_key (nth_room (self, i));

      if (g_str_equal (room, key))
        return nth_room (self, i);
    }
  return NULL;
}

static gboolean
shown_here (gpointer item,
            gpointer user_data)
{
  GcWindow *self = user_data;

  return g_hash_table_contains (self->views, item);
}

/* The one way a sidebar row comes to be: a room added to the model. */
static GtkWidget *
create_room_row (gpointer item,
                 gpointer user_data)
{
  GcWindow *self = user_data;

  return gc_room_row_new (g_hash_table_lookup (self->views, item));
}

GcRoomView *
gc_window_get_room_view (GcWindow *self)
{
  GtkWidget *child;

  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);

  child = gtk_stack_get_visible_child (self->stack);
  return GC_IS_ROOM_VIEW (child) ? GC_ROOM_VIEW (child) : NULL;
}

static void
update_titles (GcWindow *self)
{
  GcRoomView *view = gc_window_get_room_view (self);
  GcChatSession *session;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *window_title = NULL;

  if (view == NULL)
    {
      gtk_label_set_text (self->title_label, "GoChat");
      gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), FALSE);
      gtk_window_set_title (GTK_WINDOW (self), "GoChat");
      return;
    }

  session = gc_room_view_get_session (view);
  title = g_strdup_printf ("#%s", gc_chat_session_get_room (session));
  if (gc_room_view_get_hosted (view))
    subtitle = g_strdup_printf (_("%s, hosted on this computer"),
                                gc_chat_session_get_user_name (session));
  else
    subtitle = g_strdup_printf (_("%s on %s"), gc_chat_session_get_user_name (session),
                                gc_chat_session_get_server_url (session));
  /* Translators: the window title: the room, then the app's name. */
  window_title = g_strdup_printf (_("#%s — GoChat"), gc_chat_session_get_room (session));

  gtk_label_set_text (self->title_label, title);
  gtk_label_set_text (self->subtitle_label, subtitle);
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), TRUE);
  gtk_window_set_title (GTK_WINDOW (self), window_title);
}

static void
update_actions (GcWindow *self)
{
  gboolean has_room = gc_window_get_room_view (self) != NULL;
  gboolean several = count_rooms (self) > 1;
  static const char * const room_actions[] = { "leave-room", "copy-invite" };
  static const char * const switch_actions[] = { "next-room", "previous-room", "select-room" };

  for (guint i = 0; i < G_N_ELEMENTS (room_actions); i++)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self),
                                                                               room_actions[i])),
                                 has_room);
  for (guint i = 0; i < G_N_ELEMENTS (switch_actions); i++)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self),
                                                                               switch_actions[i])),
                                 several);
  gtk_widget_set_visible (GTK_WIDGET (self->invite_button), has_room);
  gtk_widget_set_visible (GTK_WIDGET (self->members_button), has_room);
}

static void
withdraw_notification (GcWindow      *self,
                       GcChatSession *session)
{
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  g_autofree char *id = NULL;

  if (app == NULL)
    return;
  id = notification_id (self, session);
  g_application_withdraw_notification (app, id);
}

/* The user sees this room now: its notification has done its job. */
static void
withdraw_seen_notification (GcWindow   *self,
                            GcRoomView *view)
{
  if (view != NULL && gtk_window_is_active (GTK_WINDOW (self)))
    withdraw_notification (self, gc_room_view_get_session (view));
}

static void
show_view (GcWindow   *self,
           GcRoomView *view)
{
  GcRoomView *previous = gc_window_get_room_view (self);

  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  if (previous != NULL && previous != view)
    gc_room_view_set_active (previous, FALSE);

  /* Were the focus in the room going away, the stack would hand it to the
   * first widget of the next room, a selectable label that then selects
   * all its text; the caller puts it in the compose box instead. */
  if (focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (self->stack)))
    gtk_root_set_focus (GTK_ROOT (self), NULL);

  if (view == NULL)
    {
      gtk_list_box_unselect_all (self->sidebar);
      gtk_stack_set_visible_child (self->stack, self->empty_page);
    }
  else
    {
      gtk_stack_set_visible_child (self->stack, GTK_WIDGET (view));
      gc_room_view_set_active (view, TRUE);
      withdraw_seen_notification (self, view);
    }

  update_titles (self);
  update_actions (self);
}

static void
sidebar_row_selected_cb (GcWindow      *self,
                         GtkListBoxRow *row)
{
  GcRoomView *view;

  if (row == NULL)
    return;

  view = gc_room_row_get_view (GC_ROOM_ROW (row));
  show_view (self, view);
  /* Chosen with the keyboard, the list keeps the focus so arrows go on
   * through the rooms; a click puts the user in the compose box. */
  if (!gtk_widget_has_focus (GTK_WIDGET (row)))
    gc_room_view_focus_compose (view);
}

/* Narrow, one page shows at a time: this brings the room's. */
static void
show_room_page (GcWindow *self)
{
  if (gc_window_get_room_view (self) != NULL)
    adw_leaflet_set_visible_child (self->leaflet, self->room_page);
}

/* A click, a tap or Enter on a room: in a narrow window that opens it
 * (the arrow keys only move through the list). */
static void
sidebar_row_activated_cb (GcWindow      *self,
                          GtkListBoxRow *row)
{
  show_room_page (self);
  gc_room_view_focus_compose (gc_room_row_get_view (GC_ROOM_ROW (row)));
}

static void
leaflet_folded_cb (GcWindow *self)
{
  if (adw_leaflet_get_folded (self->leaflet))
    {
      if (gc_window_get_room_view (self) != NULL)
        show_room_page (self);
      else
        adw_leaflet_set_visible_child (self->leaflet, self->sidebar_page);
    }
}

/* Shows @session's room; the sidebar's selection follows. */
static void
select_room (GcWindow      *self,
             GcChatSession *session)
{
  GcRoomView *view = g_hash_table_lookup (self->views, session);
  GtkListBoxRow *row;
  guint position;

  g_return_if_fail (view != NULL && find_room (self, session, &position));

  row = gtk_list_box_get_row_at_index (self->sidebar, (int) position);
  if (gtk_list_box_get_selected_row (self->sidebar) == row)
    show_view (self, view);
  else
    gtk_list_box_select_row (self->sidebar, row);
  show_room_page (self);
  gc_room_view_focus_compose (view);
}

void
gc_window_show_session (GcWindow      *self,
                        GcChatSession *session)
{
  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (GC_IS_CHAT_SESSION (session));

  select_room (self, session);
}

/* ------------------------------------------------------------------ */
/* Notifications                                                        */
/* ------------------------------------------------------------------ */

static void
session_message_cb (GcChatSession *session,
                    GcMessageItem *item,
                    GcWindow      *self)
{
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  GcNotifyMode mode = g_settings_get_enum (self->settings, "notifications");
  gboolean mention = gc_message_item_get_mention (item);
  const char *sender = gc_message_item_get_sender_name (item);
  const char *text = gc_message_item_get_text (item);
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = NULL;

  /* In a window the user looks at, the sidebar tells. */
  if (app == NULL || gtk_window_is_active (GTK_WINDOW (self)))
    return;
  if (mode == GC_NOTIFY_NEVER || (mode == GC_NOTIFY_MENTIONS && !mention))
    return;

  if (mention)
    title = g_strdup_printf (_("%s mentioned you in #%s"), sender, gc_chat_session_get_room (session));
  else
    /* Translators: a notification's title: who wrote, in which room. */
    title = g_strdup_printf (_("%s in #%s"), sender, gc_chat_session_get_room (session));

  if (g_utf8_strlen (text, -1) > NOTIFICATION_BODY_CHARS)
    {
      g_autofree char *start = g_utf8_substring (text, 0, NOTIFICATION_BODY_CHARS);

      body = g_strconcat (start, "…", NULL);
    }
  else
    body = g_strdup (text);
  if (gc_message_item_get_kind (item) == GC_MESSAGE_ITEM_EMOTE)
    {
      g_autofree char *emote = g_strdup_printf ("* %s %s", sender, body);

      g_free (body);
      body = g_steal_pointer (&emote);
    }

  notification = g_notification_new (title);
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, mention ? G_NOTIFICATION_PRIORITY_HIGH
                                                     : G_NOTIFICATION_PRIORITY_NORMAL);
  g_notification_set_default_action_and_target (notification, "app.show-room", "(uss)",
                                                gtk_application_window_get_id (GTK_APPLICATION_WINDOW (self)),
                                                gc_chat_session_get_server_url (session),
                                                gc_chat_session_get_room (session));
  /* One per room: a newer message replaces the older notification. */
  id = notification_id (self, session);
  g_application_send_notification (app, id, notification);
}

/* ------------------------------------------------------------------ */
/* Adding and leaving rooms                                             */
/* ------------------------------------------------------------------ */

static void
session_name_cb (GcChatSession *session,
                 GParamSpec    *pspec,
                 GcWindow      *self)
{
  GcRoomView *view = gc_window_get_room_view (self);

  if (view != NULL && gc_room_view_get_session (view) == session)
    update_titles (self);
  if (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED)
    g_settings_set_string (self->settings, "name", gc_chat_session_get_user_name (session));
}

static void
remember_session (GcWindow      *self,
                  GcChatSession *session,
                  gboolean       hosted)
{
  /* A hosted room's loopback address is no server to come back to. */
  if (!hosted)
    g_settings_set_string (self->settings, "server", gc_chat_session_get_server_url (session));
  g_settings_set_string (self->settings, "name", gc_chat_session_get_user_name (session));
  g_settings_set_string (self->settings, "last-room", gc_chat_session_get_room (session));
}

void
gc_window_add_session (GcWindow      *self,
                       GcChatSession *session)
{
  g_autofree char *key = NULL;
  GcLocalHost *host;
  GcChatSession *existing;
  GtkWidget *view;
  gboolean hosted;

  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (GC_IS_CHAT_SESSION (session));

  key = room_key (session);
  existing = room_for_key (self, key);
  if (existing != NULL)
    {
      if (existing != session)
        gc_chat_session_leave (session);
      select_room (self, existing);
      return;
    }

  host = app_host (self);
  hosted = host != NULL && gc_local_host_has_session (host, session);

  view = gc_room_view_new (session);
  if (hosted)
    gc_room_view_set_host_urls (GC_ROOM_VIEW (view), gc_local_host_get_lan_urls (host));
  g_object_bind_property (self->members_button, "active", view, "show-members",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  gtk_stack_add_child (self->stack, view);

  g_signal_connect_object (session, "notify::user-name", G_CALLBACK (session_name_cb), self, 0);
  g_signal_connect_object (session, "message-received", G_CALLBACK (session_message_cb), self, 0);
  remember_session (self, session, hosted);

  /* In the table first: the row comes with the model's items-changed. */
  g_hash_table_insert (self->views, g_object_ref (session), g_object_ref (view));
  window_rooms (self);
  gc_open_rooms_add (self->open_rooms, session, !hosted);

  select_room (self, session);
}

void
gc_window_leave_session (GcWindow      *self,
                         GcChatSession *session)
{
  g_autoptr(GcChatSession) held = NULL;
  GcChatSession *next = NULL;
  GcRoomView *view;
  guint index;

  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (GC_IS_CHAT_SESSION (session));

  view = g_hash_table_lookup (self->views, session);
  g_return_if_fail (view != NULL && find_room (self, session, &index));

  /* The neighbour below takes its place, else the one above. */
  if (index + 1 < count_rooms (self))
    next = nth_room (self, index + 1);
  else if (index > 0)
    next = nth_room (self, index - 1);

  held = g_object_ref (session);
  if (gc_window_get_room_view (self) == view)
    show_view (self, NULL);
  /* Out of the model, out of the sidebar. */
  gc_open_rooms_remove (self->open_rooms, session);
  gc_chat_session_leave (session);
  withdraw_notification (self, session);
  gtk_stack_remove (self->stack, GTK_WIDGET (view));
  g_hash_table_remove (self->views, session);

  if (next != NULL)
    select_room (self, next);
  else
    {
      show_view (self, NULL);
      gtk_widget_grab_focus (GTK_WIDGET (self->join_button));
    }
}

GcChatSession *
gc_window_get_session (GcWindow *self)
{
  GcRoomView *view;

  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);

  view = gc_window_get_room_view (self);
  return view != NULL ? gc_room_view_get_session (view) : NULL;
}

guint
gc_window_get_n_sessions (GcWindow *self)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), 0);
  return count_rooms (self);
}

GcChatSession *
gc_window_get_nth_session (GcWindow *self,
                           guint     n)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);

  return n < count_rooms (self) ? nth_room (self, n) : NULL;
}

gboolean
gc_window_has_hosted_rooms (GcWindow *self)
{
  GHashTableIter iter;
  gpointer view;

  g_return_val_if_fail (GC_IS_WINDOW (self), FALSE);

  g_hash_table_iter_init (&iter, self->views);
  while (g_hash_table_iter_next (&iter, NULL, &view))
    if (gc_room_view_get_hosted (view))
      return TRUE;
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Joining                                                              */
/* ------------------------------------------------------------------ */

static void
join_dialog_joined_cb (GcJoinDialog  *dialog,
                       GcChatSession *session,
                       GcWindow      *self)
{
  gc_window_add_session (self, session);
}

static void
join_dialog_destroy_cb (GcJoinDialog *dialog,
                        GcWindow     *self)
{
  if (self->join_dialog == dialog)
    self->join_dialog = NULL;

  /* Closed without joining, and nothing else to show. */
  if (count_rooms (self) == 0 && self->joining->len == 0)
    gtk_window_destroy (GTK_WINDOW (self));
}

GcJoinDialog *
gc_window_show_join_dialog (GcWindow *self)
{
  g_autofree char *server = NULL;
  g_autofree char *name = NULL;
  g_autofree char *room = NULL;

  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);

  if (self->join_dialog != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->join_dialog));
      return self->join_dialog;
    }

  server = g_settings_get_string (self->settings, "server");
  name = g_settings_get_string (self->settings, "name");
  room = g_settings_get_string (self->settings, "last-room");

  self->join_dialog = gc_join_dialog_new (GTK_WINDOW (self));
  gc_join_dialog_set_values (self->join_dialog, server, name, room);
  g_signal_connect (self->join_dialog, "joined", G_CALLBACK (join_dialog_joined_cb), self);
  g_signal_connect (self->join_dialog, "destroy", G_CALLBACK (join_dialog_destroy_cb), self);
  gtk_window_present (GTK_WINDOW (self->join_dialog));

  return self->join_dialog;
}

/* A join without the dialog failed: the dialog opens with the values and
 * says why. */
static void
show_join_failure (GcWindow      *self,
                   GcChatSession *session,
                   gboolean       hosted,
                   const GError  *error)
{
  GcJoinDialog *dialog = gc_window_show_join_dialog (self);

  if (hosted)
    gc_join_dialog_set_hosting (dialog, TRUE);
  gc_join_dialog_set_values (dialog, hosted ? NULL : gc_chat_session_get_server_url (session),
                             gc_chat_session_get_user_name (session),
                             gc_chat_session_get_room (session));
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gc_join_dialog_show_error (dialog, error, gc_chat_session_get_name_suggestion (session));
}

static void
update_empty_label (GcWindow *self)
{
  if (self->joining->len > 0)
    {
      GcChatSession *session = g_ptr_array_index (self->joining, self->joining->len - 1);
      g_autofree char *text = g_strdup_printf (_("Joining #%s…"), gc_chat_session_get_room (session));

      adw_status_page_set_title (ADW_STATUS_PAGE (self->empty_page), text);
    }
  else
    adw_status_page_set_title (ADW_STATUS_PAGE (self->empty_page), _("Not in a room"));
}

static void
direct_join_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GcWindow) self = user_data;
  GcChatSession *session = GC_CHAT_SESSION (source);
  g_autoptr(GError) error = NULL;
  gboolean joined = gc_chat_session_join_finish (session, result, &error);
  GcLocalHost *host = app_host (self);
  gboolean hosted = host != NULL && gc_local_host_has_session (host, session);

  /* Hold it: removing it from the array may drop the last reference. */
  g_object_ref (session);
  if (!g_ptr_array_remove (self->joining, session))
    {
      /* The window gave up on it (closed) meanwhile. */
      if (joined)
        gc_chat_session_leave (session);
      g_object_unref (session);
      return;
    }

  update_empty_label (self);
  if (joined)
    gc_window_add_session (self, session);
  else
    show_join_failure (self, session, hosted, error);
  g_object_unref (session);
}

/* Shows the room @room of @server_url if the window is in it already
 * (joining it again would only put the person in twice). */
gboolean
gc_window_show_open_room (GcWindow   *self,
                          const char *server_url,
                          const char *room)
{
  GcChatSession *session;

  g_return_val_if_fail (GC_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (server_url != NULL && room != NULL, FALSE);

  /* The open rooms know every form of an address and a code; the room
   * must be this window's. */
  window_rooms (self);
  session = gc_open_rooms_lookup (self->open_rooms, server_url, room);
  if (session == NULL || !g_hash_table_contains (self->views, session))
    return FALSE;
  select_room (self, session);
  return TRUE;
}

/* Whether the window has @session's room, or is joining it: then it
 * shows that room (once there) and @session is not needed. */
gboolean
gc_window_show_existing_room (GcWindow      *self,
                              GcChatSession *session)
{
  g_autofree char *key = room_key (session);
  GcChatSession *existing = room_for_key (self, key);

  if (existing != NULL)
    {
      select_room (self, existing);
      return TRUE;
    }
  for (guint i = 0; i < self->joining->len; i++)
    {
      g_autofree char *joining_key = room_key (g_ptr_array_index (self->joining, i));

      if (g_str_equal (joining_key, key))
        return TRUE;
    }
  return FALSE;
}

void
gc_window_start_join (GcWindow      *self,
                      GcChatSession *session)
{
  if (gc_window_show_existing_room (self, session))
    return;

  g_ptr_array_add (self->joining, g_object_ref (session));
  update_empty_label (self);
  gc_chat_session_join_async (session, direct_join_cb, g_object_ref (self));
}

/* The name to join with: @name, else the remembered one, else the
 * account's. */
static char *
choose_name (GcWindow   *self,
             const char *name)
{
  g_autofree char *stored = g_settings_get_string (self->settings, "name");

  if (name != NULL && *name != '\0')
    return g_strdup (name);
  if (*stored != '\0')
    return g_steal_pointer (&stored);
  return gc_join_dialog_default_name ();
}

void
gc_window_join (GcWindow   *self,
                const char *server,
                const char *name,
                const char *room)
{
  g_autofree char *stored_server = g_settings_get_string (self->settings, "server");
  g_autofree char *chosen_name = choose_name (self, name);
  g_autofree char *url = NULL;
  g_autofree char *user_name = NULL;
  g_autofree char *room_code = NULL;
  g_autoptr(GcChatSession) session = NULL;

  g_return_if_fail (GC_IS_WINDOW (self));

  if (server == NULL || *server == '\0')
    server = stored_server;

  url = gc_join_dialog_normalize_server (server, NULL);
  user_name = gc_protocol_normalize_user_name (chosen_name, NULL);
  room_code = room != NULL ? gc_protocol_canonical_room_code (room, NULL) : NULL;

  if (url == NULL || user_name == NULL || room_code == NULL)
    {
      GcJoinDialog *dialog = gc_window_show_join_dialog (self);

      gc_join_dialog_set_values (dialog, server, chosen_name, room);
      return;
    }

  session = gc_chat_session_new (url, user_name, room_code);
  gc_window_start_join (self, session);
}


void
gc_window_host (GcWindow   *self,
                guint16     port,
                const char *name,
                const char *room)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  g_autofree char *chosen_name = choose_name (self, name);
  g_autofree char *stored_room = g_settings_get_string (self->settings, "last-room");
  g_autofree char *user_name = NULL;
  g_autofree char *room_code = NULL;
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GError) error = NULL;
  GcLocalHost *host;

  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (GC_IS_APPLICATION (app));

  if (room == NULL || *room == '\0')
    room = *stored_room != '\0' ? stored_room : NULL;
  user_name = gc_protocol_normalize_user_name (chosen_name, NULL);
  room_code = room != NULL ? gc_protocol_canonical_room_code (room, NULL)
                           : gc_room_code_random ();

  if (user_name == NULL || room_code == NULL)
    {
      GcJoinDialog *dialog = gc_window_show_join_dialog (self);

      gc_join_dialog_set_hosting (dialog, TRUE);
      gc_join_dialog_set_values (dialog, NULL, chosen_name, room);
      return;
    }

  host = gc_application_start_host (GC_APPLICATION (app), port, &error);
  if (host == NULL)
    {
      GcJoinDialog *dialog = gc_window_show_join_dialog (self);

      gc_join_dialog_set_hosting (dialog, TRUE);
      gc_join_dialog_set_values (dialog, NULL, user_name, room_code);
      gc_join_dialog_show_error (dialog, error, NULL);
      return;
    }

  session = gc_chat_session_new (gc_local_host_get_local_url (host), user_name, room_code);
  if (gc_window_show_existing_room (self, session))
    return;
  gc_local_host_add_session (host, session);
  gc_window_start_join (self, session);
}

static void
invite_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    GcWindow         *self)
{
  const char *server = g_object_get_data (G_OBJECT (dialog), "gc-server");
  const char *name = g_object_get_data (G_OBJECT (dialog), "gc-name");
  const char *room = g_object_get_data (G_OBJECT (dialog), "gc-room");

  self->invite_dialog = NULL;
  if (g_str_equal (response, "join"))
    gc_window_join (self, server, name, room);
  else if (g_str_equal (response, "change"))
    {
      GcJoinDialog *join_dialog = gc_window_show_join_dialog (self);

      gc_join_dialog_set_invite (join_dialog, server, room);
    }
}

/* A link someone sent: joining says who you are where, so it asks first. */
static void
ask_invite (GcWindow   *self,
            const char *server,
            const char *name,
            const char *room)
{
  g_autofree char *heading = g_strdup_printf (_("Join #%s?"), room);
  g_autofree char *body = g_strdup_printf (_("You were invited to room “%s” on %s. You join as “%s”."),
                                           room, server, name);
  GtkWidget *dialog;

  if (self->invite_dialog != NULL)
    gtk_window_destroy (self->invite_dialog);

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "change", _("_Change…"),
                                    "join", _("_Join"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "join",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "join");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "gc-server", g_strdup (server), g_free);
  g_object_set_data_full (G_OBJECT (dialog), "gc-name", g_strdup (name), g_free);
  g_object_set_data_full (G_OBJECT (dialog), "gc-room", g_strdup (room), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (invite_response_cb), self);
  self->invite_dialog = GTK_WINDOW (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

GtkWindow *
gc_window_get_invite_dialog (GcWindow *self)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);
  return self->invite_dialog;
}

void
gc_window_open_invite (GcWindow   *self,
                       const char *link)
{
  g_autofree char *server = NULL;
  g_autofree char *room = NULL;
  g_autofree char *name = NULL;
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  GcLocalHost *host;

  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (link != NULL);

  if (!gc_invite_link_parse (link, &server, &room, &error))
    {
      GcJoinDialog *dialog = gc_window_show_join_dialog (self);

      gc_join_dialog_show_error (dialog, error, NULL);
      return;
    }

  url = gc_join_dialog_normalize_server (server, NULL);
  /* A link to a room this computer hosts names it by a network address;
   * the window is in it through the loopback one. */
  host = app_host (self);
  if (url != NULL && host != NULL && g_strv_contains (gc_local_host_get_lan_urls (host), url))
    {
      g_free (url);
      url = g_strdup (gc_local_host_get_local_url (host));
    }
  if (url != NULL && gc_window_show_open_room (self, url, room))
    return;

  name = g_settings_get_string (self->settings, "name");
  if (*name != '\0')
    ask_invite (self, server, name, room);
  else
    gc_join_dialog_set_invite (gc_window_show_join_dialog (self), server, room);
}

/* ------------------------------------------------------------------ */
/* Closing                                                              */
/* ------------------------------------------------------------------ */

static void
stop_hosting_response_cb (AdwMessageDialog *dialog,
                          const char       *response,
                          GcWindow         *self)
{
  gboolean quitting = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "gc-quitting"));
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  /* AdwMessageDialog closes itself after the response. */
  self->stop_hosting_dialog = NULL;
  if (!g_str_equal (response, "leave"))
    return;

  if (quitting && GC_IS_APPLICATION (app))
    gc_application_quit_now (GC_APPLICATION (app));
  else
    gc_window_close_now (self);
}

static void
ask_stop_hosting (GcWindow *self,
                  gboolean  quitting,
                  guint     others)
{
  GtkWidget *dialog;

  if (self->stop_hosting_dialog != NULL)
    {
      gtk_window_present (self->stop_hosting_dialog);
      return;
    }

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Others are still in rooms you host"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "If you go, your computer stops hosting and %u person is disconnected.",
                                               "If you go, your computer stops hosting and %u people are disconnected.",
                                               others),
                                  others);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "stay", _("_Stay"),
                                    "leave", quitting ? _("_Quit") : _("_Close"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "leave",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "stay");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "stay");
  g_object_set_data (G_OBJECT (dialog), "gc-quitting", GINT_TO_POINTER (quitting));
  g_signal_connect (dialog, "response", G_CALLBACK (stop_hosting_response_cb), self);

  self->stop_hosting_dialog = GTK_WINDOW (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
gc_window_confirm_quit (GcWindow *self)
{
  GcLocalHost *host;
  guint others;

  g_return_if_fail (GC_IS_WINDOW (self));

  host = app_host (self);
  others = host != NULL ? gc_local_host_count_others (host) : 0;
  if (others == 0)
    {
      GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

      if (GC_IS_APPLICATION (app))
        gc_application_quit_now (GC_APPLICATION (app));
      return;
    }

  gtk_window_present (GTK_WINDOW (self));
  ask_stop_hosting (self, TRUE, others);
}

void
gc_window_close_now (GcWindow *self)
{
  g_return_if_fail (GC_IS_WINDOW (self));

  self->close_confirmed = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

static void
leave_everything (GcWindow *self)
{
  g_autoptr(GList) sessions = g_hash_table_get_keys (self->views);

  for (guint i = 0; i < self->joining->len; i++)
    gc_chat_session_leave (g_ptr_array_index (self->joining, i));
  g_ptr_array_set_size (self->joining, 0);

  for (GList *l = sessions; l != NULL; l = l->next)
    {
      GcChatSession *session = l->data;

      /* Closed with the app, the rooms come back next start; a window
       * closed while others stay takes its rooms along. */
      if (!self->keep_saved && self->open_rooms != NULL)
        gc_open_rooms_remove (self->open_rooms, session);
      gc_chat_session_leave (session);
    }
}

static gboolean
gc_window_close_request (GtkWindow *window)
{
  GcWindow *self = GC_WINDOW (window);
  GcLocalHost *host = app_host (self);
  guint others = host != NULL ? gc_local_host_count_others (host) : 0;
  int width, height;

  if (!self->close_confirmed && others > 0 && gc_window_has_hosted_rooms (self))
    {
      ask_stop_hosting (self, FALSE, others);
      return TRUE;
    }

  gtk_window_get_default_size (window, &width, &height);
  if (!gtk_window_is_maximized (window) && width > 0 && height > 0)
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));

  {
    GtkApplication *app = gtk_window_get_application (window);
    guint windows = 0;

    for (GList *l = app != NULL ? gtk_application_get_windows (app) : NULL; l != NULL; l = l->next)
      windows += GC_IS_WINDOW (l->data);
    self->keep_saved = windows <= 1 ||
                       (GC_IS_APPLICATION (app) && gc_application_get_quitting (GC_APPLICATION (app)));
  }
  leave_everything (self);

  return GTK_WINDOW_CLASS (gc_window_parent_class)->close_request (window);
}

static void
is_active_cb (GcWindow   *self,
              GParamSpec *pspec,
              gpointer    user_data)
{
  withdraw_seen_notification (self, gc_window_get_room_view (self));
  /* The person is back (and maybe the network): rooms waiting to
   * reconnect try now. */
  if (gtk_window_is_active (GTK_WINDOW (self)) && app_open_rooms (self) != NULL)
    gc_open_rooms_reconnect_waiting (app_open_rooms (self));
}

/* ------------------------------------------------------------------ */
/* GObject                                                              */
/* ------------------------------------------------------------------ */

static void
gc_window_dispose (GObject *object)
{
  GcWindow *self = GC_WINDOW (object);

  if (self->join_dialog != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->join_dialog, self);
      gtk_window_destroy (GTK_WINDOW (self->join_dialog));
      self->join_dialog = NULL;
    }
  if (self->stop_hosting_dialog != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->stop_hosting_dialog, self);
      gtk_window_destroy (self->stop_hosting_dialog);
      self->stop_hosting_dialog = NULL;
    }
  if (self->invite_dialog != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->invite_dialog, self);
      gtk_window_destroy (self->invite_dialog);
      self->invite_dialog = NULL;
    }
  if (self->joining != NULL)
    leave_everything (self);
  if (self->sidebar != NULL)
    gtk_list_box_bind_model (self->sidebar, NULL, NULL, NULL, NULL);
  /* The app's model outlives the window: stop filtering it. */
  if (self->rooms != NULL)
    gtk_filter_list_model_set_model (self->rooms, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), GC_TYPE_WINDOW);

  G_OBJECT_CLASS (gc_window_parent_class)->dispose (object);
}

static void
gc_window_finalize (GObject *object)
{
  GcWindow *self = GC_WINDOW (object);

  g_clear_pointer (&self->joining, g_ptr_array_unref);
  g_clear_object (&self->rooms);
  g_clear_pointer (&self->views, g_hash_table_unref);
  g_clear_object (&self->open_rooms);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (gc_window_parent_class)->finalize (object);
}

static void
gc_window_class_init (GcWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = gc_window_dispose;
  object_class->finalize = gc_window_finalize;
  window_class->close_request = gc_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gochat/GoChat/gc-window.ui");
  gtk_widget_class_bind_template_child (widget_class, GcWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, sidebar_page);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, room_page);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, join_button);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, members_button);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, invite_button);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, empty_page);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, leaflet_folded_cb);
}

static void
gc_window_init (GcWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->views = g_hash_table_new_full (NULL, NULL, g_object_unref, g_object_unref);
  /* Its model is set on first use, once the window has its application. */
  self->rooms = gtk_filter_list_model_new (NULL, GTK_FILTER (gtk_custom_filter_new (shown_here, self, NULL)));
  gtk_list_box_bind_model (self->sidebar, G_LIST_MODEL (self->rooms), create_room_row, self, NULL);

  self->joining = g_ptr_array_new_with_free_func (g_object_unref);
  self->settings = g_settings_new (GC_APPLICATION_ID);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  gc_window_install_actions (self);
  g_signal_connect (self, "notify::is-active", G_CALLBACK (is_active_cb), NULL);

  update_titles (self);
  update_actions (self);
}

/* For the actions (gc-window-actions.c). */

GcRoomView *
gc_window_find_view (GcWindow      *self,
                     GcChatSession *session)
{
  return g_hash_table_lookup (self->views, session);
}

void
gc_window_show_rooms (GcWindow *self)
{
  adw_leaflet_set_visible_child (self->leaflet, self->sidebar_page);
  gtk_widget_grab_focus (GTK_WIDGET (self->sidebar));
}

void
gc_window_add_toast (GcWindow   *self,
                     const char *text)
{
  AdwToast *toast = adw_toast_new (text);

  adw_toast_set_timeout (toast, 4);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

GcWindow *
gc_window_new (GtkApplication *application)
{
  g_return_val_if_fail (application == NULL || GTK_IS_APPLICATION (application), NULL);

  return g_object_new (GC_TYPE_WINDOW, "application", application, NULL);
}

void
gc_window_get_parts (GcWindow      *self,
                     GcWindowParts *parts)
{
  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (parts != NULL);

  parts->sidebar = self->sidebar;
  parts->stack = self->stack;
  parts->empty_page = self->empty_page;
  parts->leaflet = self->leaflet;
  parts->title_label = self->title_label;
  parts->subtitle_label = self->subtitle_label;
  parts->members_button = self->members_button;
  parts->invite_button = self->invite_button;
}

GcJoinDialog *
gc_window_get_join_dialog (GcWindow *self)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);
  return self->join_dialog;
}

GtkWindow *
gc_window_get_stop_hosting_dialog (GcWindow *self)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);
  return self->stop_hosting_dialog;
}
