/* test-app-util.c: what the app tests share: setup, waiting, widgets found by role and name
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "test-app-util.h"

/* ------------------------------------------------------------------ */
/* Waiting                                                              */
/* ------------------------------------------------------------------ */

GcApplication *app;

void
settle (void)
{
  /* Bounded: a running animation keeps the loop busy forever. */
  for (guint i = 0; i < 100 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

/* ------------------------------------------------------------------ */
/* Widgets                                                              */
/* ------------------------------------------------------------------ */

GcWindow *
new_window (void)
{
  GcWindow *window = gc_window_new (GTK_APPLICATION (app));

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static gboolean
all_closed (GPtrArray *connections)
{
  for (guint i = 0; i < connections->len; i++)
    if (gc_ws_connection_get_state (g_ptr_array_index (connections, i)) != GC_WS_STATE_CLOSED)
      return FALSE;
  return TRUE;
}

void
destroy_window (GcWindow *window)
{
  g_autoptr(GPtrArray) leaving = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < gc_window_get_n_sessions (window); i++)
    {
      GcWsConnection *connection =
        gc_chat_session_get_connection (gc_window_get_nth_session (window, i));

      if (connection != NULL)
        g_ptr_array_add (leaving, g_object_ref (connection));
    }
  gtk_window_destroy (GTK_WINDOW (window));
  /* The closing handshakes the rooms' leaving started run out. */
  gc_test_wait (all_closed (leaving));
}

/* What a click ends in: "clicked", at once (gtk_widget_activate() on a
 * button waits for its pressed-look animation first). */
void
click (gpointer button)
{
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (button)));
  g_signal_emit_by_name (button, "clicked");
}

gboolean
widget_has_class (gpointer    widget,
                  const char *css_class)
{
  return gtk_widget_has_css_class (GTK_WIDGET (widget), css_class);
}

/* The text @widget shows, as an AT reads it (gc_test_a11y_get_text());
 * kept with the widget until it asks again. */
const char *
widget_text (GtkWidget *widget)
{
  char *text = gc_test_a11y_get_text (widget);

  g_object_set_data_full (G_OBJECT (widget), "test-app-text", text, g_free);
  return text;
}

/* The row the message list shows for @name ("bob: hi", "bob waves", "bob
 * joined": sender and text, as a screen reader reads it), if on screen. */
GtkWidget *
message_row (GcWindow   *window,
             const char *name)
{
  return gc_test_a11y_find (message_list (window), GTK_ACCESSIBLE_ROLE_GROUP, name);
}

/* The row's accessible name, as a screen reader reads @item. */
char *
item_row_name (GcMessageItem *item)
{
  const char *name = gc_message_item_get_sender_name (item);
  const char *text = gc_message_item_get_text (item);

  switch (gc_message_item_get_kind (item))
    {
    case GC_MESSAGE_ITEM_SYSTEM:
      return g_strdup (text);
    case GC_MESSAGE_ITEM_EMOTE:
      return g_strdup_printf ("%s %s", name, text);
    case GC_MESSAGE_ITEM_TEXT:
    default:
      return g_strdup_printf ("%s: %s", name, text);
    }
}

/* The row under @list (the list "Messages") that shows @item, if on
 * screen. */
GtkWidget *
find_item_row (GtkWidget     *list,
               GcMessageItem *item)
{
  g_autofree char *name = item_row_name (item);

  return gc_test_a11y_find (list, GTK_ACCESSIBLE_ROLE_GROUP, name);
}

/* The room's member list, "Members" (described by its "N members"). */
GtkWidget *
member_list (GcWindow *window)
{
  return room_widget (window, GTK_ACCESSIBLE_ROLE_LIST, "Members");
}

/* Its "N members", which describes it. */
GtkWidget *
member_count (GcWindow *window)
{
  return gc_test_a11y_get_description (member_list (window));
}

/* Who is typing, under the messages (the room's status line). */
GtkWidget *
typing_status (GcWindow *window)
{
  return room_widget (window, GTK_ACCESSIBLE_ROLE_STATUS, NULL);
}

/* The connection banner's alert ("Connection lost — …"). */
GtkWidget *
banner (GcWindow *window)
{
  return room_widget (window, GTK_ACCESSIBLE_ROLE_ALERT, NULL);
}

gboolean
banner_shown (GcWindow *window)
{
  return gtk_widget_get_mapped (banner (window));
}

/* The room's title in the header (its heading), described by who and
 * where you are ("alice on ws://…"). */
GtkWidget *
room_title (GcWindow *window)
{
  return gc_test_a11y_get (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_HEADING, NULL);
}

/* The button shown over the messages that jumps to "N new messages ↓";
 * %NULL while there is none. */
GtkWidget *
new_messages_button (GcWindow *window)
{
  g_autoptr(GPtrArray) buttons = gc_test_a11y_find_all (room_view (window), GTK_ACCESSIBLE_ROLE_BUTTON, NULL);

  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = g_ptr_array_index (buttons, i);
      g_autofree char *text = gc_test_a11y_get_text (button);

      if (gtk_widget_get_mapped (button) &&
          (g_str_has_suffix (text, " new messages ↓") || g_str_has_suffix (text, " new message ↓")))
        return button;
    }
  return NULL;
}

/* The sidebar's list of open rooms, "Rooms". */
GtkWidget *
sidebar (GcWindow *window)
{
  return gc_test_a11y_get (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_LIST, "Rooms");
}

/* The widget under @root named @name that is a group in a list item or
 * a list item: a room's row, whatever widget the sidebar builds it from.
 * (The group first: the sidebar names its list items too, for the
 * focus, but the row inside is what shows the room's state.) */
static GtkWidget *
find_row_named (GtkWidget  *root,
                const char *name)
{
  GtkWidget *row = gc_test_a11y_find (root, GTK_ACCESSIBLE_ROLE_GROUP, name);

  return row != NULL ? row : gc_test_a11y_find (root, GTK_ACCESSIBLE_ROLE_LIST_ITEM, name);
}

GtkWidget *
sidebar_row (GcWindow   *window,
             const char *name)
{
  return find_row_named (sidebar (window), name);
}

int
sidebar_position (GcWindow   *window,
                  const char *name)
{
  int position = 0;

  /* The list's children are its rows (or their list items), in order. */
  for (GtkWidget *child = gtk_widget_get_first_child (sidebar (window)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (!gtk_widget_get_visible (child))
        continue;
      if (find_row_named (child, name) != NULL)
        return position;
      position++;
    }
  return -1;
}

/* The first widget with @role shown under @root whose text contains
 * @part; %NULL if none. */
GtkWidget *
find_showing_text (GtkWidget         *root,
                   GtkAccessibleRole  role,
                   const char        *part)
{
  g_autoptr(GPtrArray) found = gc_test_a11y_find_all (root, role, NULL);

  for (guint i = 0; i < found->len; i++)
    {
      GtkWidget *widget = g_ptr_array_index (found, i);
      g_autofree char *text = gc_test_a11y_get_text (widget);

      if (gtk_widget_get_mapped (widget) && strstr (text, part) != NULL)
        return widget;
    }
  return NULL;
}

/* How many widgets with @role are shown under @root. */
guint
count_showing (GtkWidget         *root,
               GtkAccessibleRole  role)
{
  g_autoptr(GPtrArray) found = gc_test_a11y_find_all (root, role, NULL);
  guint n = 0;

  for (guint i = 0; i < found->len; i++)
    if (gtk_widget_get_mapped (g_ptr_array_index (found, i)))
      n++;
  return n;
}

/* Whether some label shown under @root reads exactly @text. */
gboolean
has_label (GtkWidget  *root,
           const char *text)
{
  return gc_test_a11y_find_showing (root, GTK_ACCESSIBLE_ROLE_LABEL, text) != NULL;
}

/* The first line showing @text (the model keeps it alive); with @count,
 * also how many show it (without, the scan stops at the first). */
static GcMessageItem *
scan_items (GcChatSession *session,
            const char    *text,
            guint         *count)
{
  GListModel *model = gc_chat_session_get_messages (session);
  guint n = g_list_model_get_n_items (model);
  GcMessageItem *first = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcMessageItem) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (gc_message_item_get_text (item), text) != 0)
        continue;
      if (first == NULL)
        first = item;
      if (count == NULL)
        break;
      (*count)++;
    }
  return first;
}

GcMessageItem *
find_item (GcChatSession *session,
           const char    *text)
{
  return scan_items (session, text, NULL);
}

/* The text of the newest line (owned by the model). */
const char *
last_line (GcChatSession *session)
{
  GListModel *model = gc_chat_session_get_messages (session);
  g_autoptr(GcMessageItem) item = g_list_model_get_item (model, g_list_model_get_n_items (model) - 1);

  return gc_message_item_get_text (item);
}

guint
count_items (GcChatSession *session,
             const char    *text)
{
  guint count = 0;

  scan_items (session, text, &count);
  return count;
}

GcRoomMember *
find_member (GcChatSession *session,
             const char    *name)
{
  GListModel *model = gc_chat_session_get_members (session);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcRoomMember) member = g_list_model_get_item (model, i);

      if (g_strcmp0 (gc_room_member_get_name (member), name) == 0)
        return member;
    }
  return NULL;
}

/* The view of every room @window has open (its stack holds one per room;
 * each is the GcRoomView around a list "Messages"). */
static GPtrArray *
room_views (GcWindow *window)
{
  g_autoptr(GPtrArray) lists = gc_test_a11y_find_all (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_LIST, "Messages");
  GPtrArray *views = g_ptr_array_new ();

  for (guint i = 0; i < lists->len; i++)
    {
      GtkWidget *view = gtk_widget_get_ancestor (g_ptr_array_index (lists, i), GC_TYPE_ROOM_VIEW);

      g_assert_nonnull (view);
      g_ptr_array_add (views, view);
    }
  return views;
}

/* The room shown now (asserted): the one view its stack shows. */
GtkWidget *
room_view (GcWindow *window)
{
  g_autoptr(GPtrArray) views = room_views (window);
  GtkWidget *shown = NULL;

  for (guint i = 0; i < views->len; i++)
    if (gtk_widget_get_child_visible (g_ptr_array_index (views, i)))
      {
        g_assert_null (shown);
        shown = g_ptr_array_index (views, i);
      }
  g_assert_nonnull (shown);
  return shown;
}

/* The view of @session's room in @window (asserted). */
GcRoomView *
view_of (GcWindow      *window,
         GcChatSession *session)
{
  g_autoptr(GPtrArray) views = room_views (window);

  for (guint i = 0; i < views->len; i++)
    if (gc_room_view_get_session (g_ptr_array_index (views, i)) == session)
      return g_ptr_array_index (views, i);
  g_assert_not_reached ();
}

/* The window of @role shown over @window (transient for it) with @match,
 * or %NULL. */
static GtkWidget *
shown_over (GcWindow   *window,
            gboolean  (*match) (GtkWidget  *dialog,
                                const char *name),
            const char *name)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (gtk_widget_get_visible (l->data) &&
        gtk_window_get_transient_for (l->data) == GTK_WINDOW (window) &&
        match (l->data, name))
      return l->data;
  return NULL;
}

static gboolean
is_dialog_named (GtkWidget  *dialog,
                 const char *name)
{
  return gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (dialog)) == GTK_ACCESSIBLE_ROLE_DIALOG &&
         (name == NULL || gc_test_a11y_has_name (dialog, name));
}

static gboolean
asks_for_name (GtkWidget  *dialog,
               const char *name)
{
  return gc_test_a11y_find (dialog, GTK_ACCESSIBLE_ROLE_TEXT_BOX, "Name") != NULL;
}

GtkWidget *
dialog_over (GcWindow   *window,
             const char *name)
{
  return shown_over (window, is_dialog_named, name);
}

GcJoinDialog *
join_dialog (GcWindow *window)
{
  GtkWidget *dialog = shown_over (window, asks_for_name, NULL);

  return dialog != NULL ? GC_JOIN_DIALOG (dialog) : NULL;
}

/* Presses the button named @name that @dialog shows (a message dialog
 * keeps a second row of its buttons for narrow windows, not shown). */
void
answer (GtkWidget  *dialog,
        const char *name)
{
  GtkWidget *button = gc_test_a11y_find_showing (dialog, GTK_ACCESSIBLE_ROLE_BUTTON, name);

  g_assert_nonnull (button);
  click (button);
}

/* The one widget with @role and @name in the room shown now. */
GtkWidget *
room_widget (GcWindow          *window,
             GtkAccessibleRole  role,
             const char        *name)
{
  return gc_test_a11y_get (room_view (window), role, name);
}

/* The room's list of messages, "Messages". */
GtkWidget *
message_list (GcWindow *window)
{
  return room_widget (window, GTK_ACCESSIBLE_ROLE_LIST, "Messages");
}

/* The room's compose box, "Message" (a text view). */
GtkWidget *
compose_box (GcWindow *window)
{
  GtkWidget *box = room_widget (window, GTK_ACCESSIBLE_ROLE_TEXT_BOX, "Message");

  g_assert_true (GTK_IS_TEXT_VIEW (box));
  return box;
}

void
set_compose_text (GcWindow   *window,
                  const char *text)
{
  /* Typing: GTK 4 cannot synthesize key events into a text view. */
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (compose_box (window))), text, -1);
}

char *
get_compose_text (GcWindow *window)
{
  return gc_test_a11y_get_text (compose_box (window));
}

/* The compose box's byte count ("11 / 4096"), which describes it. */
GtkWidget *
compose_counter (GcWindow *window)
{
  return gc_test_a11y_get_description (compose_box (window));
}

gboolean
send_enabled (GcWindow *window)
{
  /* The Send button follows the room.send action's enabled state. */
  return gtk_widget_get_sensitive (room_widget (window, GTK_ACCESSIBLE_ROLE_BUTTON, "Send"));
}

/* Sends a key press through the compose box's own key handler (GTK 4
 * cannot synthesize input events); returns whether it took the key. */
gboolean
press_compose_key (GcWindow        *window,
                   guint            keyval,
                   GdkModifierType  state)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (compose_box (window));
  gboolean handled = FALSE;
  guint n;

  n = g_list_model_get_n_items (controllers);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller) &&
          gtk_event_controller_get_propagation_phase (controller) == GTK_PHASE_CAPTURE)
        {
          g_signal_emit_by_name (controller, "key-pressed", keyval, 0, state, &handled);
          return handled;
        }
    }
  g_assert_not_reached ();
}

/* The dialog's text field labelled @label ("Server", "Name", "Room"). */
GtkWidget *
dialog_entry (GcJoinDialog *dialog,
              const char   *label)
{
  GtkWidget *entry = gc_test_a11y_get (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_TEXT_BOX, label);

  g_assert_true (GTK_IS_EDITABLE (entry));
  return entry;
}

/* The hint under that field (a label, hidden while the field is fine). */
GtkWidget *
dialog_hint (GcJoinDialog *dialog,
             const char   *label)
{
  return gc_test_a11y_get_description (dialog_entry (dialog, label));
}

/* The dialog's button named @name ("Join", "Cancel", …). */
GtkWidget *
dialog_button (GcJoinDialog *dialog,
               const char   *name)
{
  return gc_test_a11y_get (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_BUTTON, name);
}

/* The dialog's status line (progress, or why a join failed). */
GtkWidget *
dialog_status (GcJoinDialog *dialog)
{
  return gc_test_a11y_get (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_STATUS, NULL);
}

void
fill_dialog (GcJoinDialog *dialog,
             const char   *server,
             const char   *name,
             const char   *room)
{
  gtk_editable_set_text (GTK_EDITABLE (dialog_entry (dialog, "Server")), server);
  gtk_editable_set_text (GTK_EDITABLE (dialog_entry (dialog, "Name")), name);
  gtk_editable_set_text (GTK_EDITABLE (dialog_entry (dialog, "Room")), room);
}

gboolean
session_connected (GcWindow *window)
{
  GcChatSession *session = gc_window_get_session (window);

  return session != NULL && gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED;
}

/* Joins @room through the dialog, as a user does. */
GcWindow *
join_through_dialog (GcTestServer *ts,
                     const char   *name,
                     const char   *room)
{
  GcWindow *window = new_window ();
  GcJoinDialog *dialog = gc_window_show_join_dialog (window);
  GtkWidget *join;

  fill_dialog (dialog, ts->url, name, room);
  join = dialog_button (dialog, "Join");
  g_assert_true (gtk_widget_get_sensitive (join));
  click (join);

  gc_test_wait (session_connected (window));
  gc_test_wait (join_dialog (window) == NULL);
  /* The room's history is in. */
  settle ();
  return window;
}


void
test_app_init (int    *argc,
               char ***argv)
{
  gtk_test_init (argc, argv, NULL);
  /* No cursor blinking: GTK 4.8's blink timer can fire for an entry that
   * lost focus a moment before, and warns "GtkText - did not receive a
   * focus-out event", which GTest makes fatal (seen once in app-rooms). */
  g_object_set (gtk_settings_get_default (), "gtk-cursor-blink", FALSE, NULL);
}

void
test_app_setup (int               *argc,
                char            ***argv,
                TestAppSetupFlags  flags)
{
  test_app_init (argc, argv);

  if (!(flags & TEST_APP_SETUP_NOTIFICATIONS))
    {
      g_autoptr(GSettings) settings = g_settings_new (GC_APPLICATION_ID);

      /* No notification server on these tests' buses (test-app-rooms has
       * a fake one and tests notifications). */
      g_settings_set_enum (settings, "notifications", GC_NOTIFY_NEVER);
    }

  if (!(flags & TEST_APP_SETUP_NO_APPLICATION))
    {
      GApplicationFlags app_flags = G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE;
      g_autoptr(GError) error = NULL;

      if (flags & TEST_APP_SETUP_OPEN)
        app_flags |= G_APPLICATION_HANDLES_OPEN;
      app = gc_application_new (app_flags);
      g_application_register (G_APPLICATION (app), NULL, &error);
      g_assert_no_error (error);
    }
}

int
test_app_run (void)
{
  int ret = g_test_run ();

  g_clear_object (&app);
  /* TLS and the local host leave GLib pool threads LSan cannot scan. */
  if (!gc_test_stop_idle_pool_threads (5000))
    g_printerr ("GLib pool threads are still running\n");
  return ret;
}

GcMessageItem *
send_until_refused (const char    *room,
                    GcTestServer **out_server,
                    GcWindow     **out_window)
{
  GcServerConfig config;
  GcChatSession *session;
  char text[32];

  gc_server_config_init_default (&config);
  /* Tokens: one typing notice (at most one a second), then a message
   * each; the third message finds the bucket empty. */
  config.rate_burst = 3;
  config.rate_per_second = 1;
  *out_server = gc_test_server_new (&config);
  *out_window = join_through_dialog (*out_server, "dan", room);
  session = gc_window_get_session (*out_window);
  /* The app paces its sends (test-chat-session's /session/pacing); this
   * is what a refusal looks like, from a client that does not. */
  gc_chat_session_set_pacing (session, FALSE);

  for (guint i = 0; i < 3; i++)
    {
      g_snprintf (text, sizeof text, "burst %u", i);
      set_compose_text (*out_window, text);
      gtk_widget_activate_action (room_view (*out_window), "room.send", NULL);
    }
  return find_item (session, "burst 2");
}
