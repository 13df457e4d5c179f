/* gc-window.c: the room view: messages, members, compose, connection banner
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "gc-member-list.h"
#include "gc-message-row.h"
#include "gc-window-private.h"

#define SETTINGS_SCHEMA "io.github.gochat.GoChat"
/* How close to the end counts as "at the bottom", in pixels. */
#define BOTTOM_SLACK 8.0

struct _GcWindow
{
  GtkApplicationWindow      parent_instance;

  GSettings                *settings;
  GcChatSession            *session;
  GcChatSession            *joining;     /* a join from the command line */
  GcJoinDialog             *join_dialog;

  /* Follow new lines only while the user is at the bottom. */
  gboolean                  stick_to_bottom;
  guint                     unseen;

  GtkLabel                 *title_label;
  GtkLabel                 *subtitle_label;
  GtkToggleButton          *members_button;
  GtkRevealer              *banner_revealer;
  GtkLabel                 *banner_label;
  GtkButton                *reconnect_button;
  GtkPaned                 *paned;
  GtkScrolledWindow        *message_scroller;
  GtkListView              *message_list;
  GtkSignalListItemFactory *message_factory;
  GtkLabel                 *empty_label;
  GtkButton                *new_messages_button;
  GtkLabel                 *typing_label;
  GtkTextView              *compose_view;
  GtkButton                *send_button;
  GtkLabel                 *counter_label;
  GcMemberList             *member_list;
};

G_DEFINE_FINAL_TYPE (GcWindow, gc_window, GTK_TYPE_APPLICATION_WINDOW)

static const char help_text[] =
  "Commands:\n"
  "/me ACTION — say what you are doing, e.g. /me waves\n"
  "/nick NAME — change your name\n"
  "/help — show this help\n"
  "Start a message with // to send a line that begins with /.\n"
  "Enter sends; Shift+Enter starts a new line.";

/* ------------------------------------------------------------------ */
/* Scrolling                                                            */
/* ------------------------------------------------------------------ */

static GtkAdjustment *
message_adjustment (GcWindow *self)
{
  return gtk_scrolled_window_get_vadjustment (self->message_scroller);
}

static gboolean
is_at_bottom (GcWindow *self)
{
  GtkAdjustment *adj = message_adjustment (self);

  return gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj)
         >= gtk_adjustment_get_upper (adj) - BOTTOM_SLACK;
}

static void
update_new_messages_button (GcWindow *self)
{
  g_autofree char *label = NULL;

  if (self->unseen == 0)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->new_messages_button), FALSE);
      return;
    }

  label = g_strdup_printf (g_dngettext (NULL, "%u new message ↓", "%u new messages ↓", self->unseen),
                           self->unseen);
  gtk_button_set_label (self->new_messages_button, label);
  gtk_widget_set_visible (GTK_WIDGET (self->new_messages_button), TRUE);
}

static void
scroll_to_bottom (GcWindow *self)
{
  GtkAdjustment *adj = message_adjustment (self);

  self->stick_to_bottom = TRUE;
  self->unseen = 0;
  update_new_messages_button (self);
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
}

static void
adjustment_value_changed_cb (GtkAdjustment *adj,
                             GcWindow      *self)
{
  self->stick_to_bottom = is_at_bottom (self);
  if (self->stick_to_bottom && self->unseen > 0)
    {
      self->unseen = 0;
      update_new_messages_button (self);
    }
}

/* The list grew (or rows were measured): keep the end in view if we
 * follow it. */
static void
adjustment_changed_cb (GtkAdjustment *adj,
                       GcWindow      *self)
{
  if (self->stick_to_bottom && !is_at_bottom (self))
    gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
}

static void
new_messages_clicked_cb (GcWindow *self)
{
  scroll_to_bottom (self);
}

static void
messages_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     GcWindow   *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), g_list_model_get_n_items (model) == 0);

  if (added == 0 || self->stick_to_bottom)
    return;

  /* Count what others said while the user reads further up. */
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(GcMessageItem) item = g_list_model_get_item (model, i);

      if (gc_message_item_get_kind (item) != GC_MESSAGE_ITEM_SYSTEM && !gc_message_item_get_own (item))
        self->unseen++;
    }
  update_new_messages_button (self);
}

/* ------------------------------------------------------------------ */
/* Message rows                                                         */
/* ------------------------------------------------------------------ */

static void
message_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  GcWindow                 *self)
{
  gtk_list_item_set_child (list_item, gc_message_row_new ());
  gtk_list_item_set_activatable (list_item, FALSE);
  gtk_list_item_set_selectable (list_item, FALSE);
}

static void
message_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 GcWindow                 *self)
{
  gc_message_row_set_item (GC_MESSAGE_ROW (gtk_list_item_get_child (list_item)),
                           gtk_list_item_get_item (list_item));
}

static void
message_unbind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item,
                   GcWindow                 *self)
{
  gc_message_row_set_item (GC_MESSAGE_ROW (gtk_list_item_get_child (list_item)), NULL);
}

/* ------------------------------------------------------------------ */
/* Compose                                                              */
/* ------------------------------------------------------------------ */

typedef enum {
  COMPOSE_EMPTY,
  COMPOSE_TEXT,
  COMPOSE_EMOTE,
  COMPOSE_NICK,
  COMPOSE_HELP,
  COMPOSE_UNKNOWN,
} ComposeCommand;

/* Whether @text starts with the command @name followed by white space or
 * its end; *@rest then points after one separating space. */
static gboolean
match_command (const char  *text,
               const char  *name,
               const char **rest)
{
  gsize len = strlen (name);

  if (g_ascii_strncasecmp (text, name, len) != 0)
    return FALSE;
  if (text[len] == '\0')
    {
      *rest = text + len;
      return TRUE;
    }
  if (text[len] == ' ' || text[len] == '\t' || text[len] == '\n')
    {
      *rest = text + len + 1;
      return TRUE;
    }
  return FALSE;
}

static ComposeCommand
parse_compose (const char  *text,
               const char **payload)
{
  *payload = text;

  if (*text == '\0')
    return COMPOSE_EMPTY;
  if (text[0] != '/')
    return COMPOSE_TEXT;
  if (text[1] == '/')
    {
      *payload = text + 1;
      return COMPOSE_TEXT;
    }
  if (match_command (text, "/me", payload))
    return COMPOSE_EMOTE;
  if (match_command (text, "/nick", payload))
    return COMPOSE_NICK;
  if (match_command (text, "/help", payload))
    return COMPOSE_HELP;
  return COMPOSE_UNKNOWN;
}

static char *
compose_text (GcWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->compose_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
update_compose_state (GcWindow *self)
{
  g_autofree char *text = compose_text (self);
  g_autofree char *counter = NULL;
  const char *payload;
  ComposeCommand command = parse_compose (text, &payload);
  guint limit = GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES;
  gsize bytes = 0;
  gboolean joined = self->session != NULL &&
                    gc_chat_session_get_state (self->session) != GC_CHAT_SESSION_STATE_CLOSED;
  gboolean can_send;

  if (self->session != NULL)
    limit = gc_chat_session_get_limits (self->session)->max_text_bytes;

  if (command == COMPOSE_TEXT || command == COMPOSE_EMOTE)
    bytes = strlen (payload);

  counter = g_strdup_printf ("%" G_GSIZE_FORMAT " / %u", bytes, limit);
  gtk_label_set_text (self->counter_label, counter);
  if (bytes > limit)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->counter_label), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->counter_label), "dim-label");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->counter_label),
                                   "Too long for this server: shorten the message to send it");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->counter_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->counter_label), "dim-label");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->counter_label), "Bytes used of the server's limit");
    }

  can_send = joined && command != COMPOSE_EMPTY && bytes <= limit;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "room.send", can_send);
}

static void
compose_changed_cb (GtkTextBuffer *buffer,
                    GcWindow      *self)
{
  g_autofree char *text = compose_text (self);
  const char *payload;
  ComposeCommand command = parse_compose (text, &payload);

  update_compose_state (self);

  if (self->session != NULL)
    gc_chat_session_set_typing (self->session,
                                (command == COMPOSE_TEXT || command == COMPOSE_EMOTE) && *payload != '\0');
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  GcWindow *self = GC_WINDOW (widget);
  g_autofree char *text = compose_text (self);
  g_autoptr(GError) error = NULL;
  const char *payload;
  ComposeCommand command = parse_compose (text, &payload);
  gboolean done = TRUE;

  if (self->session == NULL || command == COMPOSE_EMPTY)
    return;

  switch (command)
    {
    case COMPOSE_TEXT:
    case COMPOSE_EMOTE:
      done = gc_chat_session_send_message (self->session, payload,
                                           command == COMPOSE_EMOTE ? GC_MESSAGE_KIND_EMOTE
                                                                    : GC_MESSAGE_KIND_TEXT,
                                           &error) != NULL;
      break;

    case COMPOSE_NICK:
      done = gc_chat_session_rename (self->session, payload, &error);
      break;

    case COMPOSE_HELP:
      gc_chat_session_add_notice (self->session, help_text);
      break;

    case COMPOSE_UNKNOWN:
    case COMPOSE_EMPTY:
    default:
      {
        g_autofree char *line = NULL;
        gsize len = strcspn (text, " \t\n");

        line = g_strdup_printf ("Unknown command “%.*s”. Type /help for the list.",
                                (int) len, text);
        gc_chat_session_add_notice (self->session, line);
        done = FALSE;
      }
      break;
    }

  /* On failure keep the text, so nothing typed is lost, and explain in
   * the room. */
  if (error != NULL)
    {
      g_autofree char *line = command == COMPOSE_NICK
                              ? g_strdup_printf ("Could not change your name: %s", error->message)
                              : g_strdup (error->message);

      gc_chat_session_add_notice (self->session, line);
    }

  if (done)
    {
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->compose_view), "", 0);
      gc_chat_session_set_typing (self->session, FALSE);
    }
  scroll_to_bottom (self);
}

static gboolean
compose_key_pressed_cb (GtkEventControllerKey *controller,
                        guint                  keyval,
                        guint                  keycode,
                        GdkModifierType        state,
                        GcWindow              *self)
{
  if (keyval != GDK_KEY_Return && keyval != GDK_KEY_KP_Enter && keyval != GDK_KEY_ISO_Enter)
    return FALSE;
  /* Shift+Enter (and Ctrl/Alt+Enter) are left to the text view: a new line. */
  if (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;

  gtk_widget_activate_action (GTK_WIDGET (self), "room.send", NULL);
  return TRUE;
}

static void
retry_message_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  GcWindow *self = GC_WINDOW (widget);

  if (self->session != NULL)
    gc_chat_session_retry_message (self->session, g_variant_get_string (parameter, NULL));
}

static void
reconnect_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  GcWindow *self = GC_WINDOW (widget);

  if (self->session != NULL)
    gc_chat_session_reconnect_now (self->session);
}

/* ------------------------------------------------------------------ */
/* Session                                                              */
/* ------------------------------------------------------------------ */

static void
update_banner (GcWindow *self)
{
  g_autofree char *text = NULL;
  GcChatSessionState state = self->session != NULL ? gc_chat_session_get_state (self->session)
                                                    : GC_CHAT_SESSION_STATE_NEW;

  switch (state)
    {
    case GC_CHAT_SESSION_STATE_WAITING:
      text = g_strdup_printf ("Connection lost — reconnecting in %u s",
                              gc_chat_session_get_retry_seconds (self->session));
      break;
    case GC_CHAT_SESSION_STATE_RECONNECTING:
      text = g_strdup ("Connection lost — reconnecting…");
      break;
    case GC_CHAT_SESSION_STATE_FAILED:
      text = g_strdup (gc_chat_session_get_failure (self->session));
      break;
    case GC_CHAT_SESSION_STATE_NEW:
    case GC_CHAT_SESSION_STATE_JOINING:
    case GC_CHAT_SESSION_STATE_CONNECTED:
    case GC_CHAT_SESSION_STATE_CLOSED:
    default:
      break;
    }

  if (text != NULL)
    gtk_label_set_text (self->banner_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->banner_label),
                               text != NULL && self->session != NULL
                               ? gc_chat_session_get_failure (self->session) : NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->reconnect_button),
                            state != GC_CHAT_SESSION_STATE_RECONNECTING);
  gtk_revealer_set_reveal_child (self->banner_revealer, text != NULL);
}

static void
update_titles (GcWindow *self)
{
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (self->session == NULL)
    {
      gtk_label_set_text (self->title_label, "GoChat");
      gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), FALSE);
      gtk_window_set_title (GTK_WINDOW (self), "GoChat");
      return;
    }

  title = g_strdup_printf ("#%s", gc_chat_session_get_room (self->session));
  subtitle = g_strdup_printf ("%s on %s", gc_chat_session_get_user_name (self->session),
                              gc_chat_session_get_server_url (self->session));
  gtk_label_set_text (self->title_label, title);
  gtk_label_set_text (self->subtitle_label, subtitle);
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), TRUE);
  g_free (title);
  title = g_strdup_printf ("#%s — GoChat", gc_chat_session_get_room (self->session));
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static void
update_typing (GcWindow *self)
{
  g_auto(GStrv) names = NULL;
  g_autofree char *text = NULL;
  guint n;

  if (self->session == NULL)
    {
      gtk_label_set_text (self->typing_label, "");
      return;
    }

  names = gc_chat_session_dup_typing_names (self->session);
  n = g_strv_length (names);
  if (n == 0)
    text = g_strdup ("");
  else if (n == 1)
    text = g_strdup_printf ("%s is typing…", names[0]);
  else if (n == 2)
    text = g_strdup_printf ("%s and %s are typing…", names[0], names[1]);
  else if (n == 3)
    text = g_strdup_printf ("%s, %s and %s are typing…", names[0], names[1], names[2]);
  else
    text = g_strdup ("Several people are typing…");

  gtk_label_set_text (self->typing_label, text);
}

static void
session_state_cb (GcChatSession *session,
                  GParamSpec    *pspec,
                  GcWindow      *self)
{
  update_banner (self);
  update_compose_state (self);
}

static void
session_name_cb (GcChatSession *session,
                 GParamSpec    *pspec,
                 GcWindow      *self)
{
  update_titles (self);
  if (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED)
    g_settings_set_string (self->settings, "name", gc_chat_session_get_user_name (session));
}

static void
session_limits_cb (GcChatSession *session,
                   GParamSpec    *pspec,
                   GcWindow      *self)
{
  update_compose_state (self);
}

static void
session_typing_cb (GcChatSession *session,
                   GcWindow      *self)
{
  update_typing (self);
}

void
gc_window_set_session (GcWindow      *self,
                       GcChatSession *session)
{
  g_autoptr(GtkNoSelection) selection = NULL;
  GListModel *messages;

  g_return_if_fail (GC_IS_WINDOW (self));
  g_return_if_fail (session == NULL || GC_IS_CHAT_SESSION (session));

  if (self->session == session)
    return;

  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->session, self);
      g_signal_handlers_disconnect_by_data (gc_chat_session_get_messages (self->session), self);
      gc_chat_session_leave (self->session);
      g_clear_object (&self->session);
    }

  if (session != NULL)
    {
      self->session = g_object_ref (session);
      messages = gc_chat_session_get_messages (session);
      selection = gtk_no_selection_new (g_object_ref (messages));
      g_signal_connect (messages, "items-changed", G_CALLBACK (messages_changed_cb), self);
      g_signal_connect (session, "notify::state", G_CALLBACK (session_state_cb), self);
      g_signal_connect (session, "notify::retry-seconds", G_CALLBACK (session_state_cb), self);
      g_signal_connect (session, "notify::failure", G_CALLBACK (session_state_cb), self);
      g_signal_connect (session, "notify::user-name", G_CALLBACK (session_name_cb), self);
      g_signal_connect (session, "notify::max-text-bytes", G_CALLBACK (session_limits_cb), self);
      g_signal_connect (session, "typing-changed", G_CALLBACK (session_typing_cb), self);

      g_settings_set_string (self->settings, "server", gc_chat_session_get_server_url (session));
      g_settings_set_string (self->settings, "name", gc_chat_session_get_user_name (session));
      g_settings_set_string (self->settings, "last-room", gc_chat_session_get_room (session));
    }

  gtk_list_view_set_model (self->message_list, GTK_SELECTION_MODEL (selection));
  gc_member_list_set_model (self->member_list,
                            session != NULL ? gc_chat_session_get_members (session) : NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label),
                          session == NULL ||
                          g_list_model_get_n_items (gc_chat_session_get_messages (session)) == 0);
  gtk_label_set_text (self->empty_label, session != NULL ? "No messages yet. Say hello!" : "Not in a room");

  self->unseen = 0;
  update_titles (self);
  update_banner (self);
  update_typing (self);
  update_compose_state (self);
  scroll_to_bottom (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->compose_view));
}

GcChatSession *
gc_window_get_session (GcWindow *self)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);
  return self->session;
}

static void
join_dialog_joined_cb (GcJoinDialog  *dialog,
                       GcChatSession *session,
                       GcWindow      *self)
{
  gc_window_set_session (self, session);
}

static void
join_dialog_destroy_cb (GcJoinDialog *dialog,
                        GcWindow     *self)
{
  if (self->join_dialog == dialog)
    self->join_dialog = NULL;

  /* Closed without joining, and nothing else to show. */
  if (self->session == NULL && self->joining == NULL)
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

static void
direct_join_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GcWindow) self = user_data;
  GcChatSession *session = GC_CHAT_SESSION (source);
  g_autoptr(GError) error = NULL;
  GcJoinDialog *dialog;

  if (gc_chat_session_join_finish (session, result, &error))
    {
      if (self->joining == session)
        {
          g_clear_object (&self->joining);
          gc_window_set_session (self, session);
        }
      else
        gc_chat_session_leave (session);
      return;
    }

  if (self->joining != session)
    return;

  gtk_label_set_text (self->empty_label, "Not in a room");
  dialog = gc_window_show_join_dialog (self);
  gc_join_dialog_set_values (dialog, gc_chat_session_get_server_url (session),
                             gc_chat_session_get_user_name (session),
                             gc_chat_session_get_room (session));
  g_clear_object (&self->joining);
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gc_join_dialog_show_error (dialog, error, gc_chat_session_get_name_suggestion (session));
}

void
gc_window_join (GcWindow   *self,
                const char *server,
                const char *name,
                const char *room)
{
  g_autofree char *stored_server = g_settings_get_string (self->settings, "server");
  g_autofree char *stored_name = g_settings_get_string (self->settings, "name");
  g_autofree char *default_name = gc_join_dialog_default_name ();
  g_autofree char *url = NULL;
  g_autofree char *user_name = NULL;
  g_autofree char *room_code = NULL;
  g_autofree char *title = NULL;

  g_return_if_fail (GC_IS_WINDOW (self));

  if (server == NULL || *server == '\0')
    server = stored_server;
  if (name == NULL || *name == '\0')
    name = *stored_name != '\0' ? stored_name : default_name;

  url = gc_chat_session_normalize_server_url (server, NULL);
  user_name = gc_protocol_normalize_user_name (name, NULL);
  room_code = gc_protocol_canonical_room_code (room, NULL);

  if (url == NULL || user_name == NULL || room_code == NULL)
    {
      GcJoinDialog *dialog = gc_window_show_join_dialog (self);

      gc_join_dialog_set_values (dialog, server, name, room);
      return;
    }

  g_clear_object (&self->joining);
  self->joining = gc_chat_session_new (url, user_name, room_code);
  title = g_strdup_printf ("Joining #%s…", room_code);
  gtk_label_set_text (self->empty_label, title);
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), TRUE);
  gc_chat_session_join_async (self->joining, direct_join_cb, g_object_ref (self));
}

/* ------------------------------------------------------------------ */
/* Window                                                               */
/* ------------------------------------------------------------------ */

static void
join_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  gc_window_show_join_dialog (GC_WINDOW (user_data));
}

static gboolean
gc_window_close_request (GtkWindow *window)
{
  GcWindow *self = GC_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  if (!gtk_window_is_maximized (window) && width > 0 && height > 0)
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));

  if (self->joining != NULL)
    {
      g_autoptr(GcChatSession) joining = g_steal_pointer (&self->joining);

      gc_chat_session_leave (joining);
    }
  gc_window_set_session (self, NULL);

  return GTK_WINDOW_CLASS (gc_window_parent_class)->close_request (window);
}

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
  if (self->joining != NULL)
    {
      gc_chat_session_leave (self->joining);
      g_clear_object (&self->joining);
    }
  if (self->session != NULL)
    gc_window_set_session (self, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), GC_TYPE_WINDOW);

  G_OBJECT_CLASS (gc_window_parent_class)->dispose (object);
}

static void
gc_window_finalize (GObject *object)
{
  GcWindow *self = GC_WINDOW (object);

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

  g_type_ensure (GC_TYPE_MEMBER_LIST);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gochat/GoChat/gc-window.ui");
  gtk_widget_class_bind_template_child (widget_class, GcWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, members_button);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, reconnect_button);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, paned);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, message_scroller);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, message_list);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, message_factory);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, empty_label);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, new_messages_button);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, typing_label);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, compose_view);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, send_button);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, counter_label);
  gtk_widget_class_bind_template_child (widget_class, GcWindow, member_list);
  gtk_widget_class_bind_template_callback (widget_class, new_messages_clicked_cb);

  gtk_widget_class_install_action (widget_class, "room.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "room.retry-message", "s", retry_message_action);
  gtk_widget_class_install_action (widget_class, "room.reconnect", NULL, reconnect_action);
}

static void
gc_window_init (GcWindow *self)
{
  static const GActionEntry win_actions[] = {
    { .name = "join", .activate = join_action },
  };
  GtkEventController *key_controller;
  GtkAdjustment *adj;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (SETTINGS_SCHEMA);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions,
                                   G_N_ELEMENTS (win_actions), self);

  g_signal_connect (self->message_factory, "setup", G_CALLBACK (message_setup_cb), self);
  g_signal_connect (self->message_factory, "bind", G_CALLBACK (message_bind_cb), self);
  g_signal_connect (self->message_factory, "unbind", G_CALLBACK (message_unbind_cb), self);

  adj = message_adjustment (self);
  g_signal_connect (adj, "value-changed", G_CALLBACK (adjustment_value_changed_cb), self);
  g_signal_connect (adj, "changed", G_CALLBACK (adjustment_changed_cb), self);
  self->stick_to_bottom = TRUE;

  key_controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (key_controller, GTK_PHASE_CAPTURE);
  g_signal_connect (key_controller, "key-pressed", G_CALLBACK (compose_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->compose_view), key_controller);
  g_signal_connect (gtk_text_view_get_buffer (self->compose_view), "changed",
                    G_CALLBACK (compose_changed_cb), self);

  update_titles (self);
  update_banner (self);
  update_compose_state (self);
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

  parts->message_list = self->message_list;
  parts->message_scroller = self->message_scroller;
  parts->new_messages_button = self->new_messages_button;
  parts->typing_label = self->typing_label;
  parts->compose_view = self->compose_view;
  parts->counter_label = self->counter_label;
  parts->send_button = self->send_button;
  parts->banner_revealer = self->banner_revealer;
  parts->banner_label = self->banner_label;
  parts->reconnect_button = self->reconnect_button;
  parts->member_list = GTK_WIDGET (self->member_list);
  parts->title_label = self->title_label;
  parts->subtitle_label = self->subtitle_label;
}

GcJoinDialog *
gc_window_get_join_dialog (GcWindow *self)
{
  g_return_val_if_fail (GC_IS_WINDOW (self), NULL);
  return self->join_dialog;
}
