/* gc-window.c: a window of rooms: the sidebar and the room shown beside it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-application.h"
#include "gc-invite-link.h"
#include "gc-local-host.h"
#include "gc-room-code.h"
#include "gc-window-private.h"

/* Notifications quote at most this many characters of a message. */
#define NOTIFICATION_BODY_CHARS 280

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

/* What comes back on screen at the next start. While the room shown at
 * the last close is not back yet, what shows meanwhile is not it. */
static void
remember_shown_room (GcWindow      *self,
                     GcChatSession *session)
{
  g_autofree char *key = room_key (session);

  if (self->shown_at_close != NULL && !g_str_equal (key, self->shown_at_close))
    return;
  g_settings_set (self->settings, "shown-room", "(ss)",
                  gc_chat_session_get_server_url (session), gc_chat_session_get_room (session));
}

char *
gc_window_dup_shown_at_close (GcWindow *self)
{
  const char *server_url = NULL;
  const char *room_code = NULL;
  g_autoptr(GVariant) shown = g_settings_get_value (self->settings, "shown-room");

  g_variant_get (shown, "(&s&s)", &server_url, &room_code);
  if (*server_url == '\0' || *room_code == '\0')
    return NULL;
  return g_strdup_printf ("%s/%s", server_url, room_code);
}

void
gc_window_show_view (GcWindow   *self,
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
      gtk_selection_model_unselect_all (GTK_SELECTION_MODEL (self->selection));
      gtk_stack_set_visible_child (self->stack, self->empty_page);
    }
  else
    {
      gtk_stack_set_visible_child (self->stack, GTK_WIDGET (view));
      gc_room_view_set_active (view, TRUE);
      withdraw_seen_notification (self, view);
      /* The person chose a room (or joined one) while the last run's
       * rooms come back: that choice stands, as if it had been shown at
       * the close. */
      if (!self->showing_restored && (self->restoring->len > 0 || self->shown_at_close != NULL))
        {
          g_free (self->shown_at_close);
          self->shown_at_close = room_key (gc_room_view_get_session (view));
        }
      remember_shown_room (self, gc_room_view_get_session (view));
    }

  update_titles (self);
  update_actions (self);
}

/* Narrow, one page shows at a time: this brings the room's. */
static void
show_room_page (GcWindow *self)
{
  if (gc_window_get_room_view (self) != NULL)
    adw_leaflet_set_visible_child (self->leaflet, self->room_page);
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
  guint position;

  g_return_if_fail (view != NULL && find_room (self, session, &position));

  /* The selection shows the room (sidebar_selected_cb); selected already,
   * it is shown again. */
  if (gtk_single_selection_get_selected (self->selection) != position)
    gtk_single_selection_set_selected (self->selection, position);
  if (gc_window_get_room_view (self) != view)
    gc_window_show_view (self, view);
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

/* Adds @session's room; @show: it takes the screen. */
static void
add_session (GcWindow      *self,
             GcChatSession *session,
             gboolean       show)
{
  g_autofree char *key = NULL;
  GcLocalHost *host;
  GcChatSession *existing;
  GtkWidget *view;
  gboolean hosted;

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

  if (show)
    select_room (self, session);
}

void
gc_window_add_session (GcWindow      *self,
                       GcChatSession *session)
{
  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (GC_IS_CHAT_SESSION (session));

  add_session (self, session, TRUE);
}

void
gc_window_add_restored_session (GcWindow      *self,
                                GcChatSession *session)
{
  GcChatSession *shown;
  g_autofree char *shown_key = NULL;

  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (GC_IS_CHAT_SESSION (session));

  shown = gc_window_get_session (self);
  if (shown != NULL)
    shown_key = room_key (shown);
  /* Otherwise the last room back shows, as any room joined does. */
  self->showing_restored = TRUE;
  add_session (self, session,
               self->shown_at_close == NULL || shown_key == NULL ||
               !g_str_equal (shown_key, self->shown_at_close));
  self->showing_restored = FALSE;
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
    gc_window_show_view (self, NULL);
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
      gc_window_show_view (self, NULL);
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

/* ------------------------------------------------------------------ */
/* Rooms already open or joining                                       */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* Closing                                                              */
/* ------------------------------------------------------------------ */

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
  g_ptr_array_set_size (self->restoring, 0);
  g_clear_pointer (&self->shown_at_close, g_free);

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
      gc_window_ask_stop_hosting (self, FALSE, others);
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
    gtk_list_view_set_model (self->sidebar, NULL);
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
  g_clear_pointer (&self->restoring, g_ptr_array_unref);
  g_clear_pointer (&self->shown_at_close, g_free);
  g_clear_object (&self->selection);
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
  gtk_widget_class_bind_template_callback (widget_class, leaflet_folded_cb);
}

static void
gc_window_init (GcWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->views = g_hash_table_new_full (NULL, NULL, g_object_unref, g_object_unref);
  /* Its model is set on first use, once the window has its application. */
  self->rooms = gtk_filter_list_model_new (NULL, GTK_FILTER (gtk_custom_filter_new (shown_here, self, NULL)));
  gc_window_init_sidebar (self);

  self->joining = g_ptr_array_new_with_free_func (g_object_unref);
  self->restoring = g_ptr_array_new_with_free_func (g_object_unref);
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

GcJoinDialog *
gc_window_get_join_dialog (GcWindow *self)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);
  return self->join_dialog;
}

