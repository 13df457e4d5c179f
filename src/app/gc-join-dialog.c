/* gc-join-dialog.c: server, name and room, checked as you type
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <string.h>

#include "gc-application.h"
#include "gc-chat-session.h"
#include "gc-join-dialog.h"
#include "gc-window-private.h"
#include "gc-local-host.h"
#include "gc-room-code.h"
#include "gc-session-text.h"

#define DEFAULT_SERVER "ws://localhost:8081"

struct _GcJoinDialog
{
  GtkWindow      parent_instance;

  GcChatSession *session;       /* while joining */
  char          *suggestion;
  gboolean       offer_host;    /* the suggestion button hosts the room here */
  gboolean       room_touched;  /* an empty room is only wrong once edited */

  GtkButton     *cancel_button;
  GtkButton     *join_button;
  GtkLabel      *intro_label;
  GtkLabel      *server_label;
  GtkEntry      *server_entry;
  GtkLabel      *server_hint;
  GtkEntry      *name_entry;
  GtkLabel      *name_hint;
  GtkEntry      *room_entry;
  GtkLabel      *room_label;
  GtkWidget     *room_box;
  GtkLabel      *room_hint;
  GtkButton     *random_button;
  GtkCheckButton *host_check;
  GtkWidget     *status_box;
  GtkSpinner    *spinner;
  GtkLabel      *status_label;
  GtkButton     *suggestion_button;
};

G_DEFINE_FINAL_TYPE (GcJoinDialog, gc_join_dialog, GTK_TYPE_WINDOW)

enum {
  JOINED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *
entry_text (GtkEntry *entry)
{
  return gtk_editable_get_text (GTK_EDITABLE (entry));
}

static void
set_hint (GtkLabel   *hint,
          const char *text)
{
  gtk_label_set_text (hint, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (hint), text != NULL);
}

/* Each check gives the normalized value, or NULL and, in @hint, why not in
 * words for people (the protocol module decides; we only explain). */
/* A web address for the server, as people copy them from a browser:
 * http:// is ws://, https:// is wss://; everything else as the session
 * takes it. */
char *
gc_join_dialog_normalize_server (const char  *text,
                                 GError     **error)
{
  g_autofree char *mapped = NULL;
  g_autofree char *trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));

  if (g_ascii_strncasecmp (trimmed, "http://", 7) == 0)
    mapped = g_strconcat ("ws://", trimmed + 7, NULL);
  else if (g_ascii_strncasecmp (trimmed, "https://", 8) == 0)
    mapped = g_strconcat ("wss://", trimmed + 8, NULL);

  return gc_chat_session_normalize_server_url (mapped != NULL ? mapped : trimmed, error);
}

static char *
check_server (const char  *text,
              char       **hint)
{
  g_autoptr(GError) error = NULL;
  char *url = gc_join_dialog_normalize_server (text, &error);

  if (url == NULL)
    *hint = g_strdup (error->message);
  return url;
}

static char *
check_name (const char  *text,
            char       **hint)
{
  GcProtocolNameProblem problem;
  gunichar character;
  char *name = gc_protocol_check_user_name (text, &problem, &character);

  /* The protocol module's own reason (control, invisible or mixed-script
   * characters, with the code point), in words /nick uses too. */
  if (name == NULL)
    *hint = gc_session_text_name_problem (problem, character);
  return name;
}

static char *
check_room (const char  *text,
            char       **hint)
{
  char *room = gc_protocol_canonical_room_code (text, NULL);

  if (room != NULL)
    return room;

  if (*text == '\0')
    *hint = g_strdup (_("Enter a room code, or make a random one."));
  else if (strlen (text) > GC_PROTOCOL_MAX_ROOM_CODE_LENGTH)
    *hint = g_strdup_printf (_("A room code has at most %d characters."),
                             GC_PROTOCOL_MAX_ROOM_CODE_LENGTH);
  else
    *hint = g_strdup (_("A room code uses only letters A–Z, digits, _ and -."));
  return NULL;
}

static void
validate (GcJoinDialog *self)
{
  g_autofree char *server_hint = NULL;
  g_autofree char *name_hint = NULL;
  g_autofree char *room_hint = NULL;
  g_autofree char *server = check_server (entry_text (self->server_entry), &server_hint);
  g_autofree char *name = check_name (entry_text (self->name_entry), &name_hint);
  g_autofree char *room = check_room (entry_text (self->room_entry), &room_hint);

  gboolean hosting = gtk_check_button_get_active (self->host_check);

  /* Hosting needs no server address: this computer is the server. */
  set_hint (self->server_hint, hosting ? NULL : server_hint);
  set_hint (self->name_hint, name_hint);
  set_hint (self->room_hint, self->room_touched ? room_hint : NULL);

  gtk_widget_set_sensitive (GTK_WIDGET (self->join_button),
                            self->session == NULL && (server != NULL || hosting) &&
                            name != NULL && room != NULL);
}

static void
set_status (GcJoinDialog *self,
            const char   *text,
            gboolean      busy,
            gboolean      is_error)
{
  gtk_widget_set_visible (self->status_box, text != NULL);
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
}

static void
set_joining (GcJoinDialog *self,
             gboolean      joining)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->server_entry),
                            !joining && !gtk_check_button_get_active (self->host_check));
  gtk_widget_set_sensitive (GTK_WIDGET (self->host_check), !joining);
  gtk_widget_set_sensitive (GTK_WIDGET (self->name_entry), !joining);
  gtk_widget_set_sensitive (GTK_WIDGET (self->room_entry), !joining);
  gtk_widget_set_sensitive (GTK_WIDGET (self->random_button), !joining);
  validate (self);
}

static void
show_suggestion (GcJoinDialog *self,
                 const char   *suggestion)
{
  g_autofree char *label = NULL;

  g_free (self->suggestion);
  self->suggestion = g_strdup (suggestion);
  self->offer_host = FALSE;

  if (suggestion == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->suggestion_button), FALSE);
      return;
    }

  label = g_strdup_printf (_("Use “%s”"), suggestion);
  gtk_button_set_label (self->suggestion_button, label);
  gtk_widget_set_visible (GTK_WIDGET (self->suggestion_button), TRUE);
}

void
gc_join_dialog_show_error (GcJoinDialog *self,
                           const GError *error,
                           const char   *suggestion)
{
  g_autofree char *text = NULL;

  g_return_if_fail (GC_IS_JOIN_DIALOG (self));
  g_return_if_fail (error != NULL);

  if (g_error_matches (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_NAME_TAKEN))
    {
      g_autofree char *name = gc_protocol_normalize_user_name (entry_text (self->name_entry), NULL);

      text = g_strdup_printf (_("Someone in this room already goes by “%s”. Pick another name."),
                              name != NULL ? name : entry_text (self->name_entry));
    }
  else if (error->domain == GC_PROTOCOL_ERROR)
    text = g_strdup_printf (_("The server did not let you in: %s"), error->message);
  else
    text = g_strdup (error->message);

  set_status (self, text, FALSE, TRUE);
  show_suggestion (self, g_error_matches (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_NAME_TAKEN)
                         ? suggestion : NULL);

  /* Nothing answers there (a first start, with no server around): the
   * room can live on this computer instead, one click away. */
  if ((g_error_matches (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_UNREACHABLE) ||
       g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
       g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND) ||
       g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND)) &&
      !gtk_check_button_get_active (self->host_check))
    {
      g_autofree char *offer = g_strdup_printf (_("%s\nNo GoChat server answers there: you can host "
                                                  "the room on this computer instead, for others "
                                                  "on your network."), text);

      set_status (self, offer, FALSE, TRUE);
      gtk_button_set_label (self->suggestion_button, _("Host It on This Computer"));
      gtk_widget_set_visible (GTK_WIDGET (self->suggestion_button), TRUE);
      self->offer_host = TRUE;
    }
}

static void
join_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GcJoinDialog) self = user_data;
  GcChatSession *session = GC_CHAT_SESSION (source);
  g_autoptr(GError) error = NULL;

  if (!gc_chat_session_join_finish (session, result, &error))
    {
      if (self->session != session)
        return;
      g_clear_object (&self->session);
      set_joining (self, FALSE);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gc_join_dialog_show_error (self, error, gc_chat_session_get_name_suggestion (session));
      else
        set_status (self, NULL, FALSE, FALSE);
      return;
    }

  if (self->session != session)
    {
      /* Cancelled just as the welcome arrived. */
      gc_chat_session_leave (session);
      return;
    }

  g_signal_emit (self, signals[JOINED], 0, session);
  g_clear_object (&self->session);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
join_clicked_cb (GcJoinDialog *self)
{
  g_autofree char *server = NULL;
  g_autofree char *name = NULL;
  g_autofree char *room = NULL;
  g_autofree char *unused_hint = NULL;

  if (self->session != NULL)
    return;

  server = check_server (entry_text (self->server_entry), &unused_hint);
  g_clear_pointer (&unused_hint, g_free);
  name = check_name (entry_text (self->name_entry), &unused_hint);
  g_clear_pointer (&unused_hint, g_free);
  room = check_room (entry_text (self->room_entry), &unused_hint);
  if (name == NULL || room == NULL)
    return;

  show_suggestion (self, NULL);
  if (gtk_check_button_get_active (self->host_check))
    {
      GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
      g_autoptr(GError) error = NULL;
      GcLocalHost *host = NULL;

      if (GC_IS_APPLICATION (app))
        host = gc_application_start_host (GC_APPLICATION (app), GC_LOCAL_HOST_DEFAULT_PORT, &error);
      else
        g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                             _("Only the GoChat app can host rooms."));
      if (host == NULL)
        {
          gc_join_dialog_show_error (self, error, NULL);
          return;
        }
      self->session = gc_chat_session_new (gc_local_host_get_local_url (host), name, room);
      /* From now on the host lives as long as the session: a failed join
       * stops it again. */
      gc_local_host_add_session (host, self->session);
    }
  else if (server != NULL)
    {
      GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));

      /* Already there: go to it rather than join a second time. */
      if (GC_IS_WINDOW (parent) && gc_window_show_open_room (GC_WINDOW (parent), server, room))
        {
          GcChatSession *open = gc_window_get_session (GC_WINDOW (parent));

          /* A name that the open room does not use would otherwise be
           * dropped without a word (issue 12). */
          if (open != NULL && g_strcmp0 (gc_chat_session_get_user_name (open), name) != 0)
            {
              g_autofree char *text =
                g_strdup_printf (_("You are already in #%s as %s — use /nick to change your name"),
                                 gc_chat_session_get_room (open),
                                 gc_chat_session_get_user_name (open));

              gc_window_add_toast (GC_WINDOW (parent), text);
            }
          gtk_window_destroy (GTK_WINDOW (self));
          return;
        }
      self->session = gc_chat_session_new (server, name, room);
    }
  else
    return;

  set_joining (self, TRUE);
  set_status (self, _("Joining…"), TRUE, FALSE);
  gc_chat_session_join_async (self->session, join_cb, g_object_ref (self));
}

static void
host_toggled_cb (GcJoinDialog *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->server_entry),
                            self->session == NULL && !gtk_check_button_get_active (self->host_check));
  validate (self);
}

static void
cancel_join (GcJoinDialog *self)
{
  g_autoptr(GcChatSession) session = g_steal_pointer (&self->session);

  if (session != NULL)
    gc_chat_session_leave (session);
}

static void
cancel_clicked_cb (GcJoinDialog *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

static void
suggestion_clicked_cb (GcJoinDialog *self)
{
  g_autofree char *suggestion = g_strdup (self->suggestion);

  if (self->offer_host)
    {
      show_suggestion (self, NULL);
      set_status (self, NULL, FALSE, FALSE);
      gtk_check_button_set_active (self->host_check, TRUE);
      join_clicked_cb (self);
      return;
    }

  if (suggestion == NULL)
    return;
  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), suggestion);
  show_suggestion (self, NULL);
  set_status (self, NULL, FALSE, FALSE);
  gtk_widget_grab_focus (GTK_WIDGET (self->join_button));
}

static void
random_clicked_cb (GcJoinDialog *self)
{
  g_autofree char *code = gc_room_code_random ();

  gtk_editable_set_text (GTK_EDITABLE (self->room_entry), code);
}

static void
entry_changed_cb (GtkEditable  *editable,
                  GcJoinDialog *self)
{
  if (editable == GTK_EDITABLE (self->room_entry))
    self->room_touched = TRUE;
  /* What went wrong was about the old values. */
  if (self->session == NULL && gtk_widget_get_visible (self->status_box))
    {
      set_status (self, NULL, FALSE, FALSE);
      show_suggestion (self, NULL);
    }
  validate (self);
}

static gboolean
gc_join_dialog_close_request (GtkWindow *window)
{
  cancel_join (GC_JOIN_DIALOG (window));

  return GTK_WINDOW_CLASS (gc_join_dialog_parent_class)->close_request (window);
}

static void
gc_join_dialog_dispose (GObject *object)
{
  GcJoinDialog *self = GC_JOIN_DIALOG (object);

  cancel_join (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), GC_TYPE_JOIN_DIALOG);

  G_OBJECT_CLASS (gc_join_dialog_parent_class)->dispose (object);
}

static void
gc_join_dialog_finalize (GObject *object)
{
  GcJoinDialog *self = GC_JOIN_DIALOG (object);

  g_free (self->suggestion);

  G_OBJECT_CLASS (gc_join_dialog_parent_class)->finalize (object);
}

static void
gc_join_dialog_class_init (GcJoinDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = gc_join_dialog_dispose;
  object_class->finalize = gc_join_dialog_finalize;
  window_class->close_request = gc_join_dialog_close_request;

  /**
   * GcJoinDialog::joined:
   * @session: the session, in the room
   */
  signals[JOINED] =
    g_signal_new ("joined", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, GC_TYPE_CHAT_SESSION);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gochat/GoChat/gc-join-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, join_button);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, intro_label);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, server_label);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, server_entry);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, server_hint);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, name_entry);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, name_hint);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, room_entry);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, room_label);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, room_box);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, room_hint);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, random_button);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, host_check);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, status_box);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, status_label);
  gtk_widget_class_bind_template_child (widget_class, GcJoinDialog, suggestion_button);
  gtk_widget_class_bind_template_callback (widget_class, join_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, cancel_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, suggestion_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, random_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, host_toggled_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
gc_join_dialog_init (GcJoinDialog *self)
{
  g_autofree char *name = gc_join_dialog_default_name ();

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_editable_set_text (GTK_EDITABLE (self->server_entry), DEFAULT_SERVER);
  gtk_editable_set_text (GTK_EDITABLE (self->name_entry), name);
  validate (self);
}

GcJoinDialog *
gc_join_dialog_new (GtkWindow *parent)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);

  return g_object_new (GC_TYPE_JOIN_DIALOG,
                       "transient-for", parent,
                       "application", parent != NULL ? gtk_window_get_application (parent) : NULL,
                       NULL);
}

void
gc_join_dialog_set_values (GcJoinDialog *self,
                           const char   *server,
                           const char   *name,
                           const char   *room)
{
  g_return_if_fail (GC_IS_JOIN_DIALOG (self));

  if (server != NULL && *server != '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->server_entry), server);
  if (name != NULL && *name != '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->name_entry), name);
  if (room != NULL && *room != '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->room_entry), room);

  /* Put the cursor where something is still missing. */
  if (!gtk_widget_get_sensitive (GTK_WIDGET (self->join_button)))
    {
      if (gtk_widget_get_visible (GTK_WIDGET (self->server_hint)))
        gtk_widget_grab_focus (GTK_WIDGET (self->server_entry));
      else if (gtk_widget_get_visible (GTK_WIDGET (self->name_hint)))
        gtk_widget_grab_focus (GTK_WIDGET (self->name_entry));
      else
        gtk_widget_grab_focus (GTK_WIDGET (self->room_entry));
    }
  else
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->join_button));
    }
}

char *
gc_join_dialog_default_name (void)
{
  const char *real_name = g_get_real_name ();
  g_autofree char *name = NULL;

  if (real_name != NULL && g_strcmp0 (real_name, "Unknown") != 0)
    name = gc_protocol_normalize_user_name (real_name, NULL);
  if (name == NULL)
    name = gc_protocol_normalize_user_name (g_get_user_name (), NULL);

  return name != NULL ? g_steal_pointer (&name) : g_strdup ("");
}

void
gc_join_dialog_set_hosting (GcJoinDialog *self,
                            gboolean      hosting)
{
  g_return_if_fail (GC_IS_JOIN_DIALOG (self));
  gtk_check_button_set_active (self->host_check, hosting);
}

gboolean
gc_join_dialog_get_hosting (GcJoinDialog *self)
{
  g_return_val_if_fail (GC_IS_JOIN_DIALOG (self), FALSE);
  return gtk_check_button_get_active (self->host_check);
}

void
gc_join_dialog_set_invite (GcJoinDialog *self,
                           const char   *server,
                           const char   *room)
{
  g_autofree char *intro = NULL;
  g_autofree char *title = NULL;

  g_return_if_fail (GC_IS_JOIN_DIALOG (self));
  g_return_if_fail (server != NULL);
  g_return_if_fail (room != NULL);

  gtk_check_button_set_active (self->host_check, FALSE);
  gtk_editable_set_text (GTK_EDITABLE (self->server_entry), server);
  gtk_editable_set_text (GTK_EDITABLE (self->room_entry), room);

  /* The link said where: only the name is left to ask. */
  gtk_widget_set_visible (GTK_WIDGET (self->server_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->server_entry), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->room_label), FALSE);
  gtk_widget_set_visible (self->room_box, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->host_check), FALSE);

  intro = g_strdup_printf (_("You are invited to room “%s” on %s. Choose the name others will see there."),
                           room, server);
  gtk_label_set_text (self->intro_label, intro);
  title = g_strdup_printf (_("Join #%s"), room);
  gtk_window_set_title (GTK_WINDOW (self), title);

  validate (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->name_entry));
}
