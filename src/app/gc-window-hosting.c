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

  /* AdwMessageDialog closes itself after the response. */
  self->stop_hosting_dialog = NULL;
  if (!g_str_equal (response, "leave"))
    return;

  if (quitting && GC_IS_APPLICATION (app))
    gc_application_quit_now (GC_APPLICATION (app));
  else
    gc_window_close_now (self);
}

/* Asks before cutting off the @others people in hosted rooms; going on
 * quits the app (@quitting) or closes the window. */
void
gc_window_ask_stop_hosting (GcWindow *self,
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
  gc_window_ask_stop_hosting (self, TRUE, others);
}

GtkWindow *
gc_window_get_stop_hosting_dialog (GcWindow *self)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);
  return self->stop_hosting_dialog;
}
