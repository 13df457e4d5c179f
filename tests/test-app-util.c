/* test-app-util.c: what the app tests share: waiting, an in-process server, a protocol client, widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "gc-room-view-private.h"
#include "gc-window-private.h"
#include "test-app-util.h"

/* ------------------------------------------------------------------ */
/* Waiting                                                              */
/* ------------------------------------------------------------------ */

GcApplication *app;

/* Lets pending work (frames, layout, drawing) run for a little while. */
void
spin_for (guint ms)
{
  gc_test_run_for_ms (ms);
}

void
settle (void)
{
  /* Bounded: a running animation keeps the loop busy forever. */
  for (guint i = 0; i < 100 && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

/* ------------------------------------------------------------------ */
/* The in-process server                                                */
/* ------------------------------------------------------------------ */


char *
tls_file (const char *name)
{
  return gc_test_tls_file (name);
}

/* @tls: serve wss:// with the test certificate (tests/tls). */
void
test_server_start_full (TestServer           *ts,
                        const GcServerConfig *config,
                        guint16               port,
                        gboolean              tls)
{
  GcTestServerOptions options = { .config = config, .port = port, .tls = tls };

  gc_test_server_start (ts, &options);
}

void
test_server_start (TestServer           *ts,
                   const GcServerConfig *config,
                   guint16               port)
{
  test_server_start_full (ts, config, port, FALSE);
}

void
test_server_stop (TestServer *ts)
{
  gc_test_server_stop (ts);
}

void
test_server_free (TestServer *ts)
{
  gc_test_server_stop (ts);
  g_clear_pointer (&ts->url, g_free);
}

/* ------------------------------------------------------------------ */
/* A second, protocol-level client                                      */
/* ------------------------------------------------------------------ */


static void
client_message_cb (GcWsConnection *connection,
                   GcWsOpcode      opcode,
                   GBytes         *payload,
                   TestClient     *client)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  GcEvent *event = gc_event_parse (data, len, &error);

  g_assert_no_error (error);
  if (event->type == GC_EVENT_WELCOME)
    {
      client->user_id = g_strdup (event->welcome->you->id);
      client->session_id = g_strdup (event->welcome->session_id);
    }
  g_ptr_array_add (client->events, event);
}

static void
client_closed_cb (GcWsConnection *connection,
                  TestClient     *client)
{
  client->closed = TRUE;
}

static void
client_connect_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  TestClient *client = user_data;
  g_autoptr(GError) error = NULL;

  client->connection = gc_ws_connect_finish (result, &client->http_status, NULL, &error);
  if (client->connection != NULL)
    {
      g_signal_connect (client->connection, "message", G_CALLBACK (client_message_cb), client);
      g_signal_connect (client->connection, "closed", G_CALLBACK (client_closed_cb), client);
    }
  client->done = TRUE;
}

TestClient *
test_client_join_url (const char *server_url,
                      const char *room,
                      const char *name)
{
  static const char * const protocols[] = { GC_PROTOCOL_SUBPROTOCOL, NULL };
  TestClient *client = g_new0 (TestClient, 1);
  g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
  g_autofree char *url = g_strdup_printf ("%s/joinRoom?room_code=%s&user_name=%s",
                                          server_url, room, escaped);

  client->events = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_event_free);
  gc_ws_connect_async (url, NULL, protocols, NULL, NULL, NULL, client_connect_cb, client);
  WAIT_FOR (client->done);
  g_assert_nonnull (client->connection);
  WAIT_FOR (client->user_id != NULL);

  return client;
}

TestClient *
test_client_join (TestServer *ts,
                  const char *room,
                  const char *name)
{
  return test_client_join_url (ts->url, room, name);
}

void
test_client_send (TestClient *client,
                  const char *json)
{
  gc_ws_connection_send_text (client->connection, json, -1);
}

void
test_client_say (TestClient *client,
                 const char *text)
{
  g_autofree char *json = gc_request_build_message (text, GC_MESSAGE_KIND_TEXT, NULL);

  test_client_send (client, json);
}

guint
test_client_count_events (TestClient  *client,
                          GcEventType  type)
{
  guint n = 0;

  for (guint i = 0; i < client->events->len; i++)
    if (((GcEvent *) g_ptr_array_index (client->events, i))->type == type)
      n++;
  return n;
}

void
test_client_free (TestClient *client)
{
  if (client->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->connection, client);
      if (gc_ws_connection_get_state (client->connection) != GC_WS_STATE_CLOSED)
        gc_ws_connection_abort (client->connection);
      g_object_unref (client->connection);
    }
  g_ptr_array_unref (client->events);
  g_free (client->user_id);
  g_free (client->session_id);
  g_free (client);
}

/* Closes with a close frame and waits for the end. */
void
test_client_leave (TestClient *client)
{
  gc_ws_connection_close (client->connection, GC_WS_CLOSE_NORMAL, NULL);
  WAIT_FOR (client->closed);
}

/* ------------------------------------------------------------------ */
/* Widgets                                                              */
/* ------------------------------------------------------------------ */

/* The parts of the room @window shows now. */
void
room_parts (GcWindow        *window,
            GcRoomViewParts *parts)
{
  GcRoomView *view = gc_window_get_room_view (window);

  g_assert_nonnull (view);
  gc_room_view_get_parts (view, parts);
}

GcWindowParts
window_parts (GcWindow *window)
{
  GcWindowParts parts;

  gc_window_get_parts (window, &parts);
  return parts;
}

GcWindow *
new_window (void)
{
  GcWindow *window = gc_window_new (GTK_APPLICATION (app));

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

void
destroy_window (GcWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  /* Let the closing handshakes and pending frames run out. */
  spin_for (100);
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

/* The row showing @item, if it is on screen. */
GcMessageRow *
find_row (GtkWidget     *root,
          GcMessageItem *item)
{
  if (GC_IS_MESSAGE_ROW (root) && gc_message_row_get_item (GC_MESSAGE_ROW (root)) == item)
    return GC_MESSAGE_ROW (root);

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GcMessageRow *row = find_row (child, item);

      if (row != NULL)
        return row;
    }
  return NULL;
}

/* Whether some label under @root shows exactly @text. */
gboolean
has_label (GtkWidget  *root,
           const char *text)
{
  if (GTK_IS_LABEL (root) && gtk_widget_get_mapped (root) &&
      g_strcmp0 (gtk_label_get_text (GTK_LABEL (root)), text) == 0)
    return TRUE;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (has_label (child, text))
      return TRUE;
  return FALSE;
}

GcMessageItem *
find_item (GcChatSession *session,
           const char    *text)
{
  GListModel *model = gc_chat_session_get_messages (session);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcMessageItem) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (gc_message_item_get_text (item), text) == 0)
        return item;  /* the model keeps it alive */
    }
  return NULL;
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
  GListModel *model = gc_chat_session_get_messages (session);
  guint n = g_list_model_get_n_items (model);
  guint count = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcMessageItem) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (gc_message_item_get_text (item), text) == 0)
        count++;
    }
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

void
set_compose_text (GcWindow   *window,
                  const char *text)
{
  GcRoomViewParts parts;

  room_parts (window, &parts);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (parts.compose_view), text, -1);
}

char *
get_compose_text (GcWindow *window)
{
  GcRoomViewParts parts;
  GtkTextIter start, end;
  GtkTextBuffer *buffer;

  room_parts (window, &parts);
  buffer = gtk_text_view_get_buffer (parts.compose_view);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

gboolean
send_enabled (GcWindow *window)
{
  GcRoomViewParts parts;

  /* The Send button follows the room.send action's enabled state. */
  room_parts (window, &parts);
  return gtk_widget_get_sensitive (GTK_WIDGET (parts.send_button));
}

/* Sends a key press through the compose box's own key handler (GTK 4
 * cannot synthesize input events); returns whether it took the key. */
gboolean
press_compose_key (GcWindow        *window,
                   guint            keyval,
                   GdkModifierType  state)
{
  g_autoptr(GListModel) controllers = NULL;
  GcRoomViewParts parts;
  gboolean handled = FALSE;
  guint n;

  room_parts (window, &parts);
  controllers = gtk_widget_observe_controllers (GTK_WIDGET (parts.compose_view));
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

void
fill_dialog (GcJoinDialog *dialog,
             const char   *server,
             const char   *name,
             const char   *room)
{
  GcJoinDialogParts parts;

  gc_join_dialog_get_parts (dialog, &parts);
  gtk_editable_set_text (GTK_EDITABLE (parts.server_entry), server);
  gtk_editable_set_text (GTK_EDITABLE (parts.name_entry), name);
  gtk_editable_set_text (GTK_EDITABLE (parts.room_entry), room);
}

gboolean
session_connected (GcWindow *window)
{
  GcChatSession *session = gc_window_get_session (window);

  return session != NULL && gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED;
}

/* Joins @room through the dialog, as a user does. */
GcWindow *
join_through_dialog (TestServer *ts,
                     const char *name,
                     const char *room)
{
  GcWindow *window = new_window ();
  GcJoinDialog *dialog = gc_window_show_join_dialog (window);
  GcJoinDialogParts parts;

  gc_join_dialog_get_parts (dialog, &parts);
  fill_dialog (dialog, ts->url, name, room);
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (parts.join_button)));
  click (parts.join_button);

  WAIT_FOR (session_connected (window));
  WAIT_FOR (gc_window_get_join_dialog (window) == NULL);
  /* The room's history is in. */
  settle ();
  return window;
}


GtkWidget *
find_button (GtkWidget  *root,
             const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0)
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *button = find_button (child, label);

      if (button != NULL)
        return button;
    }
  return NULL;
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
