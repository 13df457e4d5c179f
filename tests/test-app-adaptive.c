/* test-app-adaptive.c: a phone-sized window (360×640) reaches everything
 *
 * Read by geometry: what counts is whether the rooms, the messages and
 * the members (the lists "Rooms", "Messages" and "Members") lie inside
 * the window when the person asks for them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "test-app-util.h"

/* Whether @widget is mapped, on screen and wholly inside @window's width. */
static gboolean
shown_inside (GtkWidget *widget,
              GtkWidget *window)
{
  graphene_rect_t bounds;

  if (widget == NULL || !gtk_widget_is_drawable (widget) ||
      !gtk_widget_compute_bounds (widget, window, &bounds))
    return FALSE;
  return bounds.size.width > 0 && bounds.size.height > 0 &&
         bounds.origin.x >= -1 && bounds.origin.x + bounds.size.width <= gtk_widget_get_width (window) + 1;
}

/* Whether the list named @name is on screen inside @window. */
static gboolean
list_shown (GcWindow   *window,
            const char *name)
{
  return shown_inside (gc_test_a11y_find_showing (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_LIST, name),
                       GTK_WIDGET (window));
}

static gboolean
messages_shown (GcWindow *window)
{
  return list_shown (window, "Messages");
}

static gboolean
rooms_shown (GcWindow *window)
{
  return list_shown (window, "Rooms");
}

static gboolean
members_shown (GcWindow *window)
{
  return list_shown (window, "Members");
}

static void
test_narrow (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GtkToggleButton *members_button;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "erin", "narrow");
  session = gc_window_get_session (window);
  members_button = GTK_TOGGLE_BUTTON (gc_test_a11y_get (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_BUTTON,
                                                        "Show Members"));

  gtk_window_set_default_size (GTK_WINDOW (window), 360, 640);
  gtk_widget_queue_resize (GTK_WIDGET (window));
  gc_test_wait (gtk_widget_get_width (GTK_WIDGET (window)) <= 370);
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (window)), >=, 600);

  /* One page at a time: the room, with its messages. */
  gc_test_wait (messages_shown (window));
  gc_test_wait (!rooms_shown (window));

  /* The members slide in over the messages, and out again. */
  gtk_toggle_button_set_active (members_button, FALSE);
  gc_test_wait (!members_shown (window));
  gtk_toggle_button_set_active (members_button, TRUE);
  gc_test_wait (members_shown (window));
  gtk_toggle_button_set_active (members_button, FALSE);
  gc_test_wait (!members_shown (window));

  /* Back to the rooms, and into the room again. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-rooms", NULL);
  gc_test_wait (rooms_shown (window));
  gc_test_wait (!messages_shown (window));
  gc_window_show_session (window, session);
  gc_test_wait (messages_shown (window));
  gc_test_wait (!rooms_shown (window));

  /* Wide again: everything side by side. */
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 640);
  gtk_widget_queue_resize (GTK_WIDGET (window));
  gc_test_wait (gtk_widget_get_width (GTK_WIDGET (window)) >= 990);
  gtk_toggle_button_set_active (members_button, TRUE);
  gc_test_wait (messages_shown (window) && rooms_shown (window) && members_shown (window));

  destroy_window (window);
  gc_test_server_free (ts);
}

/* The label under @row that shows a time ("14:05"). */
static GtkWidget *
shown_time (GtkWidget *row)
{
  g_autoptr(GPtrArray) labels = gc_test_a11y_find_all (row, GTK_ACCESSIBLE_ROLE_LABEL, NULL);

  for (guint i = 0; i < labels->len; i++)
    {
      GtkWidget *label = g_ptr_array_index (labels, i);
      const char *shown = widget_text (label);

      if (gtk_widget_get_mapped (label) && strlen (shown) == 5 && shown[2] == ':' &&
          g_ascii_isdigit (shown[0]) && g_ascii_isdigit (shown[4]))
        return label;
    }
  return NULL;
}

/* Narrow message rows (issue 12): the text, its sender's name and the
 * time of the row named @row_name, in the list's coordinates. */
static gboolean
row_parts (GcWindow        *window,
           const char      *row_name,
           const char      *text,
           graphene_rect_t *text_bounds,
           graphene_rect_t *name_bounds,
           graphene_rect_t *time_bounds)
{
  GtkWidget *list = message_list (window);
  GtkWidget *row = message_row (window, row_name);
  GtkWidget *text_label, *name_label, *time_label;

  if (row == NULL || !gtk_widget_get_mapped (row))
    return FALSE;
  text_label = gc_test_a11y_find_showing (row, GTK_ACCESSIBLE_ROLE_LABEL, text);
  name_label = gc_test_a11y_find_showing (row, GTK_ACCESSIBLE_ROLE_LABEL, "pat");
  time_label = shown_time (row);
  return text_label != NULL && name_label != NULL && time_label != NULL &&
         gtk_widget_compute_bounds (text_label, list, text_bounds) &&
         gtk_widget_compute_bounds (name_label, list, name_bounds) &&
         gtk_widget_compute_bounds (time_label, list, time_bounds);
}

/* Narrow, the name and the time stand above the text, which gets most of
 * the list's width; wide, they are columns beside it again. */
static gboolean
rows_compact (GcWindow   *window,
              const char *row_name,
              const char *text)
{
  graphene_rect_t text_bounds, name_bounds, time_bounds;
  float list_width = gtk_widget_get_width (message_list (window));

  return row_parts (window, row_name, text, &text_bounds, &name_bounds, &time_bounds) &&
         text_bounds.size.width >= 0.75 * list_width &&
         name_bounds.origin.y + name_bounds.size.height <= text_bounds.origin.y &&
         time_bounds.origin.y + time_bounds.size.height <= text_bounds.origin.y;
}

static gboolean
rows_wide (GcWindow   *window,
           const char *row_name,
           const char *text)
{
  graphene_rect_t text_bounds, name_bounds, time_bounds;

  return row_parts (window, row_name, text, &text_bounds, &name_bounds, &time_bounds) &&
         time_bounds.origin.x + time_bounds.size.width <= name_bounds.origin.x &&
         name_bounds.origin.x + name_bounds.size.width <= text_bounds.origin.x &&
         G_APPROX_VALUE (name_bounds.origin.y, text_bounds.origin.y, 2.f);
}

static void
test_narrow_rows (void)
{
  static const char text[] = "A line long enough to wrap in a window as narrow as a phone";
  g_autofree char *row_name = g_strdup_printf ("pat: %s", text);
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcTestClient *peer;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "erin", "narrow-rows");
  peer = gc_test_client_join_url (ts->url, "narrow-rows", "pat");
  gc_test_client_send_message (peer, text, NULL);

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 640);
  gtk_widget_queue_resize (GTK_WIDGET (window));
  gc_test_wait (gtk_widget_get_width (GTK_WIDGET (window)) >= 990);
  gc_test_wait (rows_wide (window, row_name, text));

  gtk_window_set_default_size (GTK_WINDOW (window), 360, 640);
  gtk_widget_queue_resize (GTK_WIDGET (window));
  gc_test_wait (gtk_widget_get_width (GTK_WIDGET (window)) <= 370);
  gc_test_wait (rows_compact (window, row_name, text));

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 640);
  gtk_widget_queue_resize (GTK_WIDGET (window));
  gc_test_wait (gtk_widget_get_width (GTK_WIDGET (window)) >= 990);
  gc_test_wait (rows_wide (window, row_name, text));

  gc_test_client_free (peer);
  destroy_window (window);
  gc_test_server_free (ts);
}

static gsize
n_saved (GSettings *settings)
{
  g_autoptr(GVariant) saved = g_settings_get_value (settings, "open-rooms");

  return g_variant_n_children (saved);
}

/* Open rooms are saved for the next start; joining an open room again
 * (Ctrl+N with the same values) switches to it instead. */
static void
test_saved_and_switch (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcJoinDialog *dialog;
  GcChatSession *first;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "erin", "kept-one");
  first = gc_window_get_session (window);
  gc_window_join (window, ts->url, "erin", "kept-two");
  gc_test_wait (gc_window_get_n_sessions (window) == 2);

  /* The same room through the dialog: the window shows it, once. */
  dialog = gc_window_show_join_dialog (window);
  fill_dialog (dialog, ts->url, "erin", "Kept-One");
  click (dialog_button (dialog, "Join"));
  g_assert_null (join_dialog (window));
  g_assert_cmpuint (gc_window_get_n_sessions (window), ==, 2);
  g_assert_true (gc_window_get_session (window) == first);

  /* A line in the other room: the next-unread shortcut goes there. */
  {
    GcTestClient *peer = gc_test_client_join_url (ts->url, "kept-two", "pat");
    GcChatSession *second = gc_window_get_nth_session (window, 1);

    g_assert_true (gc_window_get_session (window) == first);
    gc_test_client_send_message (peer, "over here", NULL);
    gc_test_wait (find_item (second, "over here") != NULL);
    gtk_widget_activate_action (GTK_WIDGET (window), "win.next-unread-room", NULL);
    g_assert_true (gc_window_get_session (window) == second);
    gc_test_client_free (peer);
  }

  /* Both are saved for the next start (GcOpenRooms' `open-rooms`); leaving
   * one forgets it. */
  {
    g_autoptr(GSettings) settings = g_settings_new (GC_APPLICATION_ID);

    g_test_message ("saved %u, open %u", (guint) n_saved (settings), g_list_model_get_n_items (G_LIST_MODEL (gc_application_get_open_rooms (app))));
    gc_test_wait (n_saved (settings) == 2);
    gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-room", NULL);
    gc_test_wait (gc_window_get_n_sessions (window) == 1);
    g_assert_cmpuint (n_saved (settings), ==, 1);
  }
  destroy_window (window);
  gc_test_server_free (ts);
}

/* A first start with no server around: the error offers hosting the room
 * here, and one click does it. */
static void
test_first_start_host_offer (void)
{
  g_autoptr(GSocketListener) probe = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  GcWindow *window = gc_window_new (GTK_APPLICATION (app));
  GcJoinDialog *dialog;
  GtkWidget *join, *offer;
  guint16 port;

  /* A port nothing listens on. */
  port = g_socket_listener_add_any_inet_port (probe, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (probe);
  url = g_strdup_printf ("ws://127.0.0.1:%u", port);

  gtk_window_present (GTK_WINDOW (window));
  dialog = gc_window_show_join_dialog (window);
  join = dialog_button (dialog, "Join");
  fill_dialog (dialog, url, "erin", "first-start");
  click (join);
  gc_test_wait ((offer = gc_test_a11y_find_showing (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_BUTTON,
                                                    "Host It on This Computer")) != NULL);
  g_assert_true (widget_has_class (gc_test_a11y_get (dialog_status (dialog), GTK_ACCESSIBLE_ROLE_LABEL, NULL),
                                   "error"));

  /* Editing a field clears what was said about the old values. */
  gtk_editable_set_text (GTK_EDITABLE (dialog_entry (dialog, "Room")), "first-start-2");
  g_assert_false (gtk_widget_get_visible (dialog_status (dialog)));
  g_assert_false (gtk_widget_get_visible (offer));

  click (join);
  gc_test_wait (gtk_widget_get_visible (offer));
  click (offer);
  gc_test_wait (session_connected (window));
  g_assert_true (gc_room_view_get_hosted (GC_ROOM_VIEW (room_view (window))));
  g_assert_cmpstr (gc_chat_session_get_room (gc_window_get_session (window)), ==, "first-start-2");

  destroy_window (window);
  gc_test_wait (gc_application_get_host (app) == NULL);
}

int
main (int   argc,
      char *argv[])
{
  test_app_setup (&argc, &argv, TEST_APP_SETUP_DEFAULT);

  g_test_add_func ("/app/adaptive/narrow", test_narrow);
  g_test_add_func ("/app/adaptive/narrow-rows", test_narrow_rows);
  g_test_add_func ("/app/rooms/saved-and-switch", test_saved_and_switch);
  g_test_add_func ("/app/first-start/host-offer", test_first_start_host_offer);

  return test_app_run ();
}
