/* gc-window-join.c: how a window comes into rooms: the join dialog, joins
 * without it, hosting, invite links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-application.h"
#include "gc-invite-link.h"
#include "gc-local-host.h"
#include "gc-protocol.h"
#include "gc-room-code.h"
#include "gc-window-private.h"

static GcLocalHost *
app_host (GcWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  return GC_IS_APPLICATION (app) ? gc_application_get_host (GC_APPLICATION (app)) : NULL;
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
  if (gc_window_get_n_sessions (self) == 0 && self->joining->len == 0)
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
  gboolean restored;

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
  restored = g_ptr_array_remove (self->restoring, session);
  if (joined && restored)
    gc_window_add_restored_session (self, session);
  else if (joined)
    gc_window_add_session (self, session);
  else
    show_join_failure (self, session, hosted, error);
  /* Every restored room is back (or will not be): joins from now on are
   * the person's. */
  if (self->restoring->len == 0)
    g_clear_pointer (&self->shown_at_close, g_free);
  g_object_unref (session);
}

static void
start_join (GcWindow      *self,
            GcChatSession *session,
            gboolean       restored)
{
  if (gc_window_show_existing_room (self, session))
    return;

  g_ptr_array_add (self->joining, g_object_ref (session));
  if (restored)
    {
      if (self->restoring->len == 0)
        {
          g_free (self->shown_at_close);
          self->shown_at_close = gc_window_dup_shown_at_close (self);
        }
      g_ptr_array_add (self->restoring, g_object_ref (session));
    }
  update_empty_label (self);
  gc_chat_session_join_async (session, direct_join_cb, g_object_ref (self));
}

void
gc_window_start_join (GcWindow      *self,
                      GcChatSession *session)
{
  start_join (self, session, FALSE);
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

static void
join (GcWindow   *self,
      const char *server,
      const char *name,
      const char *room,
      gboolean    restored)
{
  g_autofree char *stored_server = g_settings_get_string (self->settings, "server");
  g_autofree char *chosen_name = choose_name (self, name);
  g_autofree char *url = NULL;
  g_autofree char *user_name = NULL;
  g_autofree char *room_code = NULL;
  g_autoptr(GcChatSession) session = NULL;

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
  start_join (self, session, restored);
}

void
gc_window_join (GcWindow   *self,
                const char *server,
                const char *name,
                const char *room)
{
  g_return_if_fail (GC_IS_WINDOW (self));

  join (self, server, name, room, FALSE);
}

void
gc_window_rejoin (GcWindow   *self,
                  const char *server,
                  const char *name,
                  const char *room)
{
  g_return_if_fail (GC_IS_WINDOW (self));

  join (self, server, name, room, TRUE);
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
