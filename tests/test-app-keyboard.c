/* test-app-keyboard.c: Tab and Shift+Tab through a room, in the real window
 *
 * Issue 12: from the compose box, Tab goes to Send and then to the
 * messages (one stop: the arrows move through them), and Shift+Tab comes
 * back the same way; every stop shows where the focus is. The keys go
 * through the window's own "move-focus" keybinding signal (what Tab and
 * Shift+Tab are bound to), after the window was told that the keyboard
 * is in use, as a key press tells it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "test-app-util.h"

static GtkWidget *
focus_of (GcWindow *window)
{
  return gtk_root_get_focus (GTK_ROOT (window));
}

static void
press_tab (GcWindow *window,
           gboolean  backward)
{
  gtk_window_set_focus_visible (GTK_WINDOW (window), TRUE);
  g_signal_emit_by_name (window, "move-focus",
                         backward ? GTK_DIR_TAB_BACKWARD : GTK_DIR_TAB_FORWARD);
  settle ();
}

/* Whether @widget has the focus and shows it: drawn, with the focus
 * ring on (":focus-visible"), and inside the window. */
static gboolean
shows_focus (GcWindow  *window,
             GtkWidget *widget)
{
  graphene_rect_t bounds;

  return widget != NULL && gtk_widget_has_visible_focus (widget) &&
         gtk_widget_is_drawable (widget) &&
         gtk_widget_compute_bounds (widget, GTK_WIDGET (window), &bounds) &&
         bounds.size.width > 0 && bounds.size.height > 0 &&
         bounds.origin.x >= 0 && bounds.origin.y >= 0 &&
         bounds.origin.x + bounds.size.width <= gtk_widget_get_width (GTK_WIDGET (window)) &&
         bounds.origin.y + bounds.size.height <= gtk_widget_get_height (GTK_WIDGET (window));
}

/* Whether the focus is on one of the messages (the list's items). */
static gboolean
in_messages (GcWindow *window)
{
  GtkWidget *focus = focus_of (window);

  return focus != NULL && gtk_widget_is_ancestor (focus, message_list (window));
}

static GtkWidget *
send_button (GcWindow *window)
{
  return room_widget (window, GTK_ACCESSIBLE_ROLE_BUTTON, "Send");
}

static void
assert_on (GcWindow  *window,
           GtkWidget *expected)
{
  g_assert_true (focus_of (window) == expected);
  g_assert_true (shows_focus (window, expected));
}

static void
assert_in_messages (GcWindow *window)
{
  g_assert_true (in_messages (window));
  g_assert_true (shows_focus (window, focus_of (window)));
}

static void
test_tab_order (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcTestClient *peer;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "erin", "keys");
  session = gc_window_get_session (window);
  peer = gc_test_client_join_url (ts->url, "keys", "pat");
  gc_test_client_send_message (peer, "one line to read", NULL);
  gc_test_client_send_message (peer, "and another", NULL);
  /* On screen, laid out. */
  gc_test_wait (find_item (session, "and another") != NULL &&
                message_row (window, "pat: and another") != NULL &&
                gtk_widget_get_height (message_row (window, "pat: and another")) > 0);

  /* Something written: Send is a stop. */
  set_compose_text (window, "hello");
  g_assert_true (send_enabled (window));
  gc_room_view_focus_compose (GC_ROOM_VIEW (room_view (window)));
  g_assert_true (focus_of (window) == compose_box (window));

  press_tab (window, FALSE);
  assert_on (window, send_button (window));
  press_tab (window, FALSE);
  assert_in_messages (window);
  /* One stop: the next Tab leaves the messages, for the members (one
   * stop too), then the window's other side. */
  press_tab (window, FALSE);
  g_assert_false (in_messages (window));
  g_assert_true (gtk_widget_is_ancestor (focus_of (window), member_list (window)));
  g_assert_true (shows_focus (window, focus_of (window)));
  press_tab (window, FALSE);
  g_assert_false (gtk_widget_is_ancestor (focus_of (window), member_list (window)));
  g_assert_true (shows_focus (window, focus_of (window)));
  press_tab (window, TRUE);
  g_assert_true (gtk_widget_is_ancestor (focus_of (window), member_list (window)));

  /* And back the same way. */
  press_tab (window, TRUE);
  assert_in_messages (window);
  press_tab (window, TRUE);
  assert_on (window, send_button (window));
  press_tab (window, TRUE);
  assert_on (window, compose_box (window));

  /* Nothing written, Send cannot be pressed: the messages come next. */
  set_compose_text (window, "");
  g_assert_false (send_enabled (window));
  press_tab (window, FALSE);
  assert_in_messages (window);
  press_tab (window, TRUE);
  assert_on (window, compose_box (window));

  gc_test_client_free (peer);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* A failed line's Retry is reachable: Tab from the line goes to it, then
 * on; Shift+Tab from it goes back to the line. */
static void
test_tab_to_retry (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcMessageItem *failed;
  GtkWidget *row;

  /* As test-app-connection's /app/refused-and-retry. */
  failed = send_until_refused ("retry-keys", &ts, &window);
  gc_test_wait (gc_message_item_get_state (failed) == GC_MESSAGE_ITEM_FAILED);
  /* On screen, laid out. */
  gc_test_wait ((row = message_row (window, "dan: burst 2")) != NULL && gtk_widget_get_mapped (row) &&
                gtk_widget_get_height (row) > 0 &&
                gc_test_a11y_find_showing (row, GTK_ACCESSIBLE_ROLE_BUTTON, "Retry") != NULL);

  /* The failed line is the newest: Tab from the empty compose box. */
  gc_room_view_focus_compose (GC_ROOM_VIEW (room_view (window)));
  press_tab (window, FALSE);
  assert_on (window, row);
  press_tab (window, FALSE);
  assert_on (window, gc_test_a11y_find_showing (row, GTK_ACCESSIBLE_ROLE_BUTTON, "Retry"));
  press_tab (window, TRUE);
  assert_on (window, row);
  press_tab (window, FALSE);
  press_tab (window, FALSE);
  g_assert_false (in_messages (window));
  g_assert_true (shows_focus (window, focus_of (window)));

  destroy_window (window);
  gc_test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  test_app_setup (&argc, &argv, TEST_APP_SETUP_DEFAULT);

  g_test_add_func ("/app/keyboard/tab-order", test_tab_order);
  g_test_add_func ("/app/keyboard/tab-to-retry", test_tab_to_retry);

  return test_app_run ();
}
