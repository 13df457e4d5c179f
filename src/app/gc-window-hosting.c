/* gc-window-hosting.c: a window's rooms this computer hosts, and the
 * question asked before closing or quitting cuts others off from them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-application.h"
#include "gc-local-host.h"
#include "gc-window-private.h"

static GcLocalHost *
app_host (GcWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  return GC_IS_APPLICATION (app) ? gc_application_get_host (GC_APPLICATION (app)) : NULL;
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

static void
stop_hosting_response_cb (AdwMessageDialog *dialog,
                          const char       *response,
                          GcWindow         *self)
{
  gboolean quitting = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "gc-quitting"));
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  GcChatSession *leaving = g_object_get_data (G_OBJECT (dialog), "gc-leaving");

  /* AdwMessageDialog closes itself after the response. */
  self->stop_hosting_dialog = NULL;
  if (!g_str_equal (response, "leave"))
    return;

  if (leaving != NULL)
    {
      /* Still open here (it may have been left meanwhile). */
      if (gc_window_find_view (self, leaving) != NULL)
        gc_window_leave_session (self, leaving);
    }
  else if (quitting && GC_IS_APPLICATION (app))
    gc_application_quit_now (GC_APPLICATION (app));
  else
    gc_window_close_now (self);
}

/* Asks before cutting off the @others people in hosted rooms; going on
 * leaves the room of @leaving, else quits the app (@quitting) or closes
 * the window. */
static void
ask_stop_hosting (GcWindow      *self,
                  gboolean       quitting,
                  GcChatSession *leaving,
                  guint          others)
{
  GtkWidget *dialog;
  const char *go_label;

  if (self->stop_hosting_dialog != NULL)
    {
      GObject *open = G_OBJECT (self->stop_hosting_dialog);

      /* The same question again: show it. Another (Ctrl+Q while "leave
       * this room?" is open, or another room): its answer would do the
       * wrong thing, so it gives way to this one. */
      if (GPOINTER_TO_INT (g_object_get_data (open, "gc-quitting")) == quitting &&
          g_object_get_data (open, "gc-leaving") == (gpointer) leaving)
        {
          gtk_window_present (self->stop_hosting_dialog);
          return;
        }
      g_signal_handlers_disconnect_by_data (self->stop_hosting_dialog, self);
      gtk_window_destroy (self->stop_hosting_dialog);
      self->stop_hosting_dialog = NULL;
    }

  if (leaving != NULL)
    go_label = _("_Leave Room");
  else
    go_label = quitting ? _("_Quit") : _("_Close");

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Others are still in rooms you host"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "If you go, your computer stops hosting and %u person is disconnected.",
                                               "If you go, your computer stops hosting and %u people are disconnected.",
                                               others),
                                  others);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "stay", _("_Stay"),
                                    "leave", go_label,
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "leave",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "stay");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "stay");
  g_object_set_data (G_OBJECT (dialog), "gc-quitting", GINT_TO_POINTER (quitting));
  if (leaving != NULL)
    g_object_set_data_full (G_OBJECT (dialog), "gc-leaving", g_object_ref (leaving), g_object_unref);
  g_signal_connect (dialog, "response", G_CALLBACK (stop_hosting_response_cb), self);

  self->stop_hosting_dialog = GTK_WINDOW (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
gc_window_ask_stop_hosting (GcWindow *self,
                            gboolean  quitting,
                            guint     others)
{
  ask_stop_hosting (self, quitting, NULL, others);
}

/* How many people leaving @session cuts off: when it is the last room
 * this computer hosts, hosting stops and every guest is disconnected;
 * otherwise nobody (the server keeps running for the other rooms). */
static guint
others_cut_off_by_leaving (GcWindow      *self,
                           GcChatSession *session)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  GcLocalHost *host = app_host (self);

  if (host == NULL || !gc_local_host_has_session (host, session))
    return 0;

  for (GList *l = app != NULL ? gtk_application_get_windows (app) : NULL; l != NULL; l = l->next)
    {
      if (!GC_IS_WINDOW (l->data))
        continue;
      for (guint i = 0; i < gc_window_get_n_sessions (l->data); i++)
        {
          GcChatSession *other = gc_window_get_nth_session (l->data, i);

          if (other != session && gc_local_host_has_session (host, other))
            return 0;
        }
    }
  return gc_local_host_count_others (host);
}

void
gc_window_confirm_leave (GcWindow      *self,
                         GcChatSession *session)
{
  guint others;

  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (GC_IS_CHAT_SESSION (session));

  others = others_cut_off_by_leaving (self, session);
  if (others == 0)
    {
      gc_window_leave_session (self, session);
      return;
    }
  ask_stop_hosting (self, FALSE, session, others);
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
  gc_window_ask_stop_hosting (self, TRUE, others);
}

GtkWindow *
gc_window_get_stop_hosting_dialog (GcWindow *self)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);
  return self->stop_hosting_dialog;
}
