/* test-app-polish.c: small things a newcomer hit (issue 12), in the real window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "test-app-util.h"

/* Only spaces in the compose box is not typing (docs/protocol.md §5.2):
 * a peer sees no `typing` for "   ", one for "a", and `typing` false
 * when the box goes back to spaces. */
static void
test_typing_needs_text (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcTestClient *peer;
  g_autoptr(GError) error = NULL;
  g_autoptr(GcTestEvent) typing = NULL;
  g_autoptr(GcTestEvent) stop = NULL;
  g_autoptr(GcTestEvent) barrier = NULL;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "sam", "spaces");
  session = gc_window_get_session (window);
  peer = gc_test_client_join_url (ts->url, "spaces", "pat");
  gc_test_wait (find_member (session, "pat") != NULL);

  set_compose_text (window, "   ");
  set_compose_text (window, " \t \n ");
  /* A message from the app after them: once pat has it, pat has every
   * event the spaces could have caused (one connection, in order). */
  g_assert_nonnull (gc_chat_session_send_message (session, "barrier", GC_MESSAGE_KIND_TEXT, &error));
  g_assert_no_error (error);
  barrier = gc_test_client_wait_message (peer, "barrier");
  g_assert_cmpuint (gc_test_client_count_queued (peer, GC_EVENT_TYPING), ==, 0);

  set_compose_text (window, "a");
  typing = gc_test_client_wait_event (peer, GC_EVENT_TYPING);
  g_assert_true (typing->event->typing.active);

  /* Back to spaces only: typing stops. */
  set_compose_text (window, "  ");
  stop = gc_test_client_wait_event (peer, GC_EVENT_TYPING);
  g_assert_false (stop->event->typing.active);

  /* Typing means what sending takes: spaces alone are no message. */
  g_assert_null (gc_chat_session_send_message (session, " \t\n ", GC_MESSAGE_KIND_TEXT, &error));
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_EMPTY_MESSAGE);

  gc_test_client_free (peer);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* Ctrl+N for the room already open, with another name: the window
 * switches to the room and says why the name did not change. */
static void
test_join_open_room_other_name (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcJoinDialog *dialog;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "dora", "lobby");
  session = gc_window_get_session (window);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.join", NULL));
  gc_test_wait ((dialog = join_dialog (window)) != NULL);
  fill_dialog (dialog, ts->url, "ROOT", "lobby");
  click (dialog_button (dialog, "Join"));
  gc_test_wait (join_dialog (window) == NULL);

  /* Still dora in the one room, and told so. */
  g_assert_true (gc_window_get_session (window) == session);
  g_assert_cmpstr (gc_chat_session_get_user_name (session), ==, "dora");
  g_assert_cmpuint (gc_window_get_n_sessions (window), ==, 1);
  gc_test_wait (find_showing_text (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_LABEL,
                                   "You are already in #lobby as dora — use /nick to change your name") != NULL);

  destroy_window (window);
  gc_test_server_free (ts);
}

/* Whether @label shows @lines, one whole line each: no line of its
 * layout starts or ends inside one of them. */
static gboolean
shows_lines_unbroken (GtkLabel           *label,
                      const char * const *lines)
{
  PangoLayout *layout = gtk_label_get_layout (label);
  const char *text = pango_layout_get_text (layout);
  GSList *layout_lines = pango_layout_get_lines_readonly (layout);
  guint i = 0;

  g_test_message ("%u address lines", g_slist_length (layout_lines));
  if (g_slist_length (layout_lines) != g_strv_length ((GStrv) lines))
    return FALSE;
  for (GSList *l = layout_lines; l != NULL; l = l->next, i++)
    {
      PangoLayoutLine *line = l->data;
      g_autofree char *shown = g_strndup (text + line->start_index, line->length);

      g_test_message ("address line %u: %s", i, shown);
      if (g_strcmp0 (shown, lines[i]) != 0)
        return FALSE;
    }
  return TRUE;
}

/* At 360×640 the hosting banner shows each address on one line of its
 * own and stays compact. */
static void
test_host_banner_narrow (void)
{
  static const char * const urls[] = { "ws://192.0.2.2:8082", "ws://[fd00::2]:8082", NULL };
  GcTestServer *ts = NULL;
  GcWindow *window;
  GtkWidget *addresses, *revealer;
  int width, height;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "hana", "narrow-host");
  gtk_window_set_default_size (GTK_WINDOW (window), 360, 640);
  gtk_widget_queue_resize (GTK_WIDGET (window));
  gc_test_wait (gtk_widget_get_width (GTK_WIDGET (window)) <= 370);

  /* What the window shows when this computer hosts the room, with two
   * network addresses (the test's machine may have none). */
  gc_room_view_set_host_urls (GC_ROOM_VIEW (room_view (window)), urls);
  gc_test_wait ((addresses = find_showing_text (room_view (window), GTK_ACCESSIBLE_ROLE_LABEL, "ws://")) != NULL);
  revealer = gtk_widget_get_ancestor (addresses, GTK_TYPE_REVEALER);
  g_assert_nonnull (revealer);
  gc_test_wait (gtk_revealer_get_child_revealed (GTK_REVEALER (revealer)) &&
                gtk_widget_get_width (addresses) > 0);
  settle ();

  /* Still a phone-sized window: the banner does not widen it. */
  width = gtk_widget_get_width (GTK_WIDGET (window));
  g_assert_cmpint (width, <=, 370);
  g_assert_true (shows_lines_unbroken (GTK_LABEL (addresses), urls));
  height = gtk_widget_get_height (revealer);
  g_test_message ("banner at %d px wide: %d px high of %d", width, height,
                  gtk_widget_get_height (GTK_WIDGET (window)));
  /* Compact: under a fifth of the window's height. */
  g_assert_cmpint (height, <, 640 / 5);

  destroy_window (window);
  gc_test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  test_app_setup (&argc, &argv, TEST_APP_SETUP_DEFAULT);

  g_test_add_func ("/app/polish/typing-needs-text", test_typing_needs_text);
  g_test_add_func ("/app/polish/join-open-room-other-name", test_join_open_room_other_name);
  g_test_add_func ("/app/polish/host-banner-narrow", test_host_banner_narrow);

  return test_app_run ();
}
