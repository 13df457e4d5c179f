/* test-app.c: the gochat app's real widgets against an in-process server
 *
 * Every test drives GcWindow / GcJoinDialog as a user would (entries,
 * buttons, the compose box and its actions) while a GcServer runs in the
 * same main loop, and a second client speaks the protocol directly
 * (GcTestClient). Waits spin the main loop until a condition holds, with
 * a deadline; nothing sleeps. What happens to the connection (drops,
 * dead links, refusals, TLS) is in test-app-connection.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "gc-text-markup.h"
#include "test-app-util.h"

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

/* Join stays disabled until all three fields are valid; the hints say why. */
static void
test_join_dialog_validation (void)
{
  GcWindow *window = new_window ();
  GcJoinDialog *dialog = gc_window_show_join_dialog (window);
  GtkWidget *join = dialog_button (dialog, "Join");
  GtkWidget *room_hint = dialog_hint (dialog, "Room");

  fill_dialog (dialog, "ws://127.0.0.1:1", "alice", "");
  g_assert_false (gtk_widget_get_sensitive (join));

  fill_dialog (dialog, "ws://127.0.0.1:1", "alice", "bad room!");
  g_assert_false (gtk_widget_get_sensitive (join));
  g_assert_true (gtk_widget_get_visible (room_hint));
  g_assert_nonnull (strstr (widget_text (room_hint), "letters"));

  fill_dialog (dialog, "ws://127.0.0.1:1", "alice",
               "a-room-code-that-is-much-too-long-to-be-accepted-by-any-gochat-server-x");
  g_assert_false (gtk_widget_get_sensitive (join));

  fill_dialog (dialog, "ws://127.0.0.1:1", "alice", "Good_Room-1");
  g_assert_true (gtk_widget_get_sensitive (join));
  g_assert_false (gtk_widget_get_visible (room_hint));

  /* Names: trimmed, 1–32 characters, no control characters. */
  fill_dialog (dialog, "ws://127.0.0.1:1", "   ", "room");
  g_assert_false (gtk_widget_get_sensitive (join));
  g_assert_true (gtk_widget_get_visible (dialog_hint (dialog, "Name")));
  fill_dialog (dialog, "ws://127.0.0.1:1", "tab\there", "room");
  g_assert_false (gtk_widget_get_sensitive (join));
  fill_dialog (dialog, "ws://127.0.0.1:1", "abcdefghijklmnopqrstuvwxyz1234567", "room");
  g_assert_false (gtk_widget_get_sensitive (join));
  fill_dialog (dialog, "ws://127.0.0.1:1", "  Zoë Ångström  ", "room");
  g_assert_true (gtk_widget_get_sensitive (join));

  /* Servers: ws:// or wss:// (or none: ws:// is implied); a web address
   * as copied from a browser means the same server. */
  fill_dialog (dialog, "ftp://example.org", "alice", "room");
  g_assert_false (gtk_widget_get_sensitive (join));
  g_assert_true (gtk_widget_get_visible (dialog_hint (dialog, "Server")));
  fill_dialog (dialog, "http://example.org", "alice", "room");
  g_assert_true (gtk_widget_get_sensitive (join));
  {
    g_autofree char *url = gc_join_dialog_normalize_server ("https://chat.example.org/", NULL);

    g_assert_true (g_str_has_prefix (url, "wss://chat.example.org"));
  }
  fill_dialog (dialog, "localhost:8081", "alice", "room");
  g_assert_true (gtk_widget_get_sensitive (join));
  fill_dialog (dialog, "wss://chat.example.org/gochat/", "alice", "room");
  g_assert_true (gtk_widget_get_sensitive (join));

  /* The random code is itself valid. */
  fill_dialog (dialog, "ws://127.0.0.1:1", "alice", "");
  click (dialog_button (dialog, "Make a random room code"));
  g_assert_cmpstr (widget_text (dialog_entry (dialog, "Room")), !=, "");
  g_assert_true (gtk_widget_get_sensitive (join));

  destroy_window (window);
}

/* User text becomes markup whose text is exactly the input; only http(s)
 * links are elements. */
static void
test_text_markup (void)
{
  struct {
    const char *text;
    const char *markup;
  } cases[] = {
    { "plain", "plain" },
    { "<b>x</b> &amp; \"'", "&lt;b&gt;x&lt;/b&gt; &amp;amp; &quot;&#39;" },
    { "see https://a.example/x?y=1&z=2.", "see <a href=\"https://a.example/x?y=1&amp;z=2\">https://a.example/x?y=1&amp;z=2</a>." },
    { "(http://w.example/wiki/A_(b))", "(<a href=\"http://w.example/wiki/A_(b)\">http://w.example/wiki/A_(b)</a>)" },
    { "javascript:alert(1) ftp://x file:///etc", "javascript:alert(1) ftp://x file:///etc" },
    { "esc\x1b[31mred\r\nnext", "esc\xe2\x90\x9b[31mred\nnext" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      static const GMarkupParser no_parser = { 0 };
      g_autofree char *markup = gc_text_to_markup (cases[i].text);
      g_autofree char *document = g_strdup_printf ("<markup>%s</markup>", markup);
      g_autoptr(GMarkupParseContext) context = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_cmpstr (markup, ==, cases[i].markup);
      /* Well-formed, as GtkLabel (and Pango after it) parse it. */
      context = g_markup_parse_context_new (&no_parser, 0, NULL, NULL);
      g_markup_parse_context_parse (context, document, -1, &error);
      g_assert_no_error (error);
      g_markup_parse_context_end_parse (context, &error);
      g_assert_no_error (error);
    }
}

/* A row: pending, failed with Retry, delivered; colours by id. */
static void
test_message_row (void)
{
  g_autoptr(GcMessageItem) item = NULL;
  GtkWidget *row = gc_message_row_new ();
  GtkWidget *window = gtk_window_new ();

  g_object_ref_sink (row);
  gtk_window_set_child (GTK_WINDOW (window), row);
  gtk_window_present (GTK_WINDOW (window));

  item = gc_message_item_new (GC_MESSAGE_ITEM_TEXT, 0, 1700000000000, "id-1", "alice",
                              "hello", "c1", TRUE);
  g_assert_cmpint (gc_message_item_get_state (item), ==, GC_MESSAGE_ITEM_PENDING);
  gc_message_row_set_item (GC_MESSAGE_ROW (row), item);
  g_assert_true (widget_has_class (row, "own"));
  g_assert_true (widget_has_class (row, "pending"));
  /* The name shows in the sender's colour. */
  g_assert_true (widget_has_class (gc_test_a11y_get (row, GTK_ACCESSIBLE_ROLE_LABEL, "alice"),
                                   gc_sender_color_class ("alice")));

  gc_message_item_set_failed (item, "Slow down");
  g_assert_false (widget_has_class (row, "pending"));
  g_assert_true (widget_has_class (row, "failed"));
  g_assert_true (has_label (row, "Slow down") || !gtk_widget_get_mapped (row));

  gc_message_item_set_pending (item);
  gc_message_item_set_delivered (item, 42, 1700000000500);
  g_assert_false (widget_has_class (row, "pending"));
  g_assert_false (widget_has_class (row, "failed"));
  g_assert_true (widget_has_class (row, "own"));

  /* The colour follows the folded name, which outlives a connection's id. */
  g_assert_cmpstr (gc_sender_color_class ("id-1"), ==, gc_sender_color_class ("id-1"));
  g_assert_cmpstr (gc_message_item_get_color_key (item), ==, "alice");

  gc_message_row_set_item (GC_MESSAGE_ROW (row), NULL);
  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (row);
}

/* Join through the dialog, send from the compose box: pending at once,
 * then delivered, own style; another client's message has the other style;
 * the members list follows join, rename and leave. */
static void
test_chat (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcMessageItem *item;
  GtkWidget *row;
  GcTestClient *bob;
  g_autofree char *left = NULL;
  g_autofree char *rename = NULL;
  g_autoptr(GSettings) settings = NULL;
  char *stored;
  gint64 typing_since;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "alice", "Chat-Room");
  session = gc_window_get_session (window);

  g_assert_cmpstr (widget_text (room_title (window)), ==, "#chat-room");
  g_assert_cmpuint (g_list_model_get_n_items (gc_chat_session_get_members (session)), ==, 1);

  /* Remembered for next time. */
  settings = g_settings_new (GC_APPLICATION_ID);
  stored = g_settings_get_string (settings, "server");
  g_assert_cmpstr (stored, ==, ts->url);
  g_free (stored);
  stored = g_settings_get_string (settings, "name");
  g_assert_cmpstr (stored, ==, "alice");
  g_free (stored);
  stored = g_settings_get_string (settings, "last-room");
  g_assert_cmpstr (stored, ==, "chat-room");
  g_free (stored);
  g_assert_true (gc_room_member_get_own (find_member (session, "alice")));

  /* Send from the compose box: the line shows at once, pending. */
  g_assert_false (send_enabled (window));
  set_compose_text (window, "hello, room");
  g_assert_true (send_enabled (window));
  g_assert_cmpstr (widget_text (compose_counter (window)), ==, "11 / 4096");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);

  item = find_item (session, "hello, room");
  g_assert_nonnull (item);
  g_assert_cmpint (gc_message_item_get_state (item), ==, GC_MESSAGE_ITEM_PENDING);
  g_assert_true (gc_message_item_get_own (item));
  g_assert_cmpuint (gc_message_item_get_id (item), ==, 0);
  left = get_compose_text (window);
  g_assert_cmpstr (left, ==, "");

  /* The echo turns the same line delivered: no second line. */
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);
  g_assert_cmpuint (gc_message_item_get_id (item), >, 0);
  g_assert_cmpuint (count_items (session, "hello, room"), ==, 1);
  gc_test_wait ((row = message_row (window, "alice: hello, room")) != NULL &&
                gtk_widget_get_mapped (row));
  g_assert_true (widget_has_class (row, "own"));
  g_assert_false (widget_has_class (row, "pending"));
  /* The sender's name shows. */
  g_assert_nonnull (gc_test_a11y_find_showing (row, GTK_ACCESSIBLE_ROLE_LABEL, "alice"));

  /* Someone else joins: member list and a system line. */
  bob = gc_test_client_join_url (ts->url, "chat-room", "bob");
  gc_test_wait (find_member (session, "bob") != NULL);
  g_assert_false (gc_room_member_get_own (find_member (session, "bob")));
  gc_test_wait (find_item (session, "bob joined") != NULL);
  gc_test_wait (has_label (member_list (window), "bob"));
  g_assert_cmpstr (widget_text (member_count (window)), ==, "2 members");
  g_assert_true (gtk_widget_get_mapped (member_count (window)));

  /* bob's message reaches alice with the other style. */
  gc_test_client_send_message (bob, "hi alice", NULL);
  gc_test_wait ((item = find_item (session, "hi alice")) != NULL);
  g_assert_false (gc_message_item_get_own (item));
  g_assert_cmpstr (gc_message_item_get_sender_id (item), ==, gc_test_client_get_you (bob)->id);
  gc_test_wait ((row = message_row (window, "bob: hi alice")) != NULL &&
                gtk_widget_get_mapped (row));
  g_assert_false (widget_has_class (row, "own"));
  /* The sender's name shows, in bob's colour. */
  g_assert_true (widget_has_class (gc_test_a11y_get (row, GTK_ACCESSIBLE_ROLE_LABEL, "bob"),
                                   gc_sender_color_class ("bob")));

  /* Typing shows under the messages, and goes with bob's next message. */
  gc_test_client_send_text (bob, "{\"type\":\"typing\",\"active\":true}");
  gc_test_wait (g_strcmp0 (widget_text (typing_status (window)), "bob is typing…") == 0);
  g_assert_true (gc_room_member_get_typing (find_member (session, "bob")));
  gc_test_client_send_message (bob, "done typing", NULL);
  gc_test_wait (g_strcmp0 (widget_text (typing_status (window)), "") == 0);
  g_assert_false (gc_room_member_get_typing (find_member (session, "bob")));

  /* Typing that is not refreshed expires after about 6 s. */
  gc_test_client_send_text (bob, "{\"type\":\"typing\",\"active\":true}");
  gc_test_wait (g_strcmp0 (widget_text (typing_status (window)), "bob is typing…") == 0);
  typing_since = g_get_monotonic_time ();
  gc_test_wait (g_strcmp0 (widget_text (typing_status (window)), "") == 0);
  g_assert_cmpint (g_get_monotonic_time () - typing_since, >=, 5 * G_USEC_PER_SEC);

  /* Rename: the list follows, and a system line says so. */
  rename = gc_request_build_rename ("Bobby");
  gc_test_client_send_text (bob, rename);
  gc_test_wait (find_member (session, "Bobby") != NULL);
  g_assert_null (find_member (session, "bob"));
  gc_test_wait (find_item (session, "bob is now known as Bobby") != NULL);
  gc_test_wait (has_label (member_list (window), "Bobby"));

  /* Our own typing reaches bob, at most every few seconds. */
  set_compose_text (window, "typing something");
  gc_test_wait (gc_test_client_count_queued (bob, GC_EVENT_TYPING) == 1);
  gtk_text_buffer_insert_at_cursor (gtk_text_view_get_buffer (GTK_TEXT_VIEW (compose_box (window))), " more", -1);
  gc_test_run_for_ms (200);  /* a window: no second typing event may come */
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_TYPING), ==, 1);
  set_compose_text (window, "");
  gc_test_wait (gc_test_client_count_queued (bob, GC_EVENT_TYPING) == 2);

  /* Leave: gone from the list, with a line. */
  gc_test_client_close (bob, GC_WS_CLOSE_NORMAL);
  gc_test_client_wait_closed (bob);
  gc_test_wait (find_member (session, "Bobby") == NULL);
  gc_test_wait (find_item (session, "Bobby left") != NULL);
  gc_test_wait (g_strcmp0 (widget_text (member_count (window)), "1 member") == 0);

  gc_test_client_free (bob);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* /me, /nick, /help and unknown commands; the byte limit. */
static void
test_commands (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcMessageItem *item;
  GListModel *messages;
  GcTestClient *dora;
  g_autofree char *kept = NULL;
  g_autofree char *too_long = NULL;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "carol", "commands");
  session = gc_window_get_session (window);
  messages = gc_chat_session_get_messages (session);

  /* Shift+Enter is left to the text view (a new line); Enter sends. */
  set_compose_text (window, "first line");
  g_assert_false (press_compose_key (window, GDK_KEY_Return, GDK_SHIFT_MASK));
  g_assert_null (find_item (session, "first line"));
  set_compose_text (window, "first line\nsecond line");
  g_assert_true (press_compose_key (window, GDK_KEY_Return, 0));
  item = find_item (session, "first line\nsecond line");
  g_assert_nonnull (item);
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);
  g_assert_true (press_compose_key (window, GDK_KEY_KP_Enter, 0));
  g_assert_false (press_compose_key (window, GDK_KEY_a, 0));

  set_compose_text (window, "/me waves");
  g_assert_cmpstr (widget_text (compose_counter (window)), ==, "5 / 4096");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  item = find_item (session, "waves");
  g_assert_nonnull (item);
  g_assert_cmpint (gc_message_item_get_kind (item), ==, GC_MESSAGE_ITEM_EMOTE);
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);

  set_compose_text (window, "//not a command");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  g_assert_nonnull (find_item (session, "/not a command"));

  set_compose_text (window, "/help");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  item = g_list_model_get_item (messages, g_list_model_get_n_items (messages) - 1);
  g_assert_cmpint (gc_message_item_get_kind (item), ==, GC_MESSAGE_ITEM_SYSTEM);
  g_assert_true (g_str_has_prefix (gc_message_item_get_text (item), "Commands:"));
  g_object_unref (item);

  set_compose_text (window, "/frobnicate now");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  g_assert_nonnull (find_item (session, "Unknown command “/frobnicate”. Type /help for the list."));
  kept = get_compose_text (window);
  g_assert_cmpstr (kept, ==, "/frobnicate now");

  set_compose_text (window, "/nick Caroline");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  gc_test_wait (g_strcmp0 (gc_chat_session_get_user_name (session), "Caroline") == 0);
  gc_test_wait (find_item (session, "You are now known as Caroline") != NULL);
  g_assert_nonnull (strstr (widget_text (gc_test_a11y_get_description (room_title (window))), "Caroline"));
  g_assert_true (gc_room_member_get_own (find_member (session, "Caroline")));

  /* A name someone has: the server's refusal shows as a line. */
  dora = gc_test_client_join_url (ts->url, "commands", "Dora");
  gc_test_wait (find_member (session, "Dora") != NULL);
  set_compose_text (window, "/nick DORA");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  gc_test_wait (g_str_has_prefix (last_line (session), "Could not change your name: "));
  g_assert_cmpstr (gc_chat_session_get_user_name (session), ==, "Caroline");

  /* An invalid name never leaves the app. */
  set_compose_text (window, "/nick    ");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  g_assert_true (g_str_has_prefix (last_line (session), "Could not change your name: "));
  gc_test_client_free (dora);

  /* Over the server's limit: the counter warns and nothing is sent. */
  too_long = g_strnfill (4097, 'x');
  set_compose_text (window, too_long);
  g_assert_cmpstr (widget_text (compose_counter (window)), ==, "4097 / 4096");
  g_assert_true (widget_has_class (compose_counter (window), "error"));
  g_assert_false (send_enabled (window));
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  g_assert_null (find_item (session, too_long));
  too_long[4096] = '\0';
  set_compose_text (window, too_long);
  g_assert_true (send_enabled (window));
  g_assert_false (widget_has_class (compose_counter (window), "error"));

  destroy_window (window);
  gc_test_server_free (ts);
}

/* name_taken: the dialog explains and offers the server's suggestion. */
static void
test_name_taken (void)
{
  GcTestServer *ts = NULL;
  GcTestClient *bob;
  GcWindow *window;
  GcJoinDialog *dialog;
  GtkWidget *join, *suggestion;

  ts = gc_test_server_new (NULL);
  bob = gc_test_client_join_url (ts->url, "names", "Bob");

  window = new_window ();
  dialog = gc_window_show_join_dialog (window);
  join = dialog_button (dialog, "Join");
  fill_dialog (dialog, ts->url, "BOB", "names");
  click (join);
  g_assert_false (gtk_widget_get_sensitive (join));

  /* The suggestion is the one button that offers it. */
  gc_test_wait ((suggestion = gc_test_a11y_find_showing (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_BUTTON,
                                                         "Use “BOB2”")) != NULL);
  g_assert_nonnull (strstr (widget_text (dialog_status (dialog)), "already goes by “BOB”"));
  g_assert_null (gc_window_get_session (window));
  g_assert_true (gtk_widget_get_sensitive (join));

  /* One click takes the suggestion; then the join works. */
  click (suggestion);
  g_assert_cmpstr (widget_text (dialog_entry (dialog, "Name")), ==, "BOB2");
  g_assert_false (gtk_widget_get_visible (suggestion));
  click (join);
  gc_test_wait (session_connected (window));
  g_assert_cmpstr (gc_chat_session_get_user_name (gc_window_get_session (window)), ==, "BOB2");

  gc_test_client_free (bob);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* Refusals and unreachable servers are said in plain words. */
static void
test_join_failures (void)
{
  GcTestServer *ts = NULL;
  GcServerConfig config;
  GcWindow *window;
  GcJoinDialog *dialog;
  GtkWidget *join;
  GcTestClient *first;
  g_autofree char *dead_url = NULL;
  guint n_buttons;

  gc_server_config_init_default (&config);
  config.room_max_members = 1;
  ts = gc_test_server_new (&config);
  first = gc_test_client_join_url (ts->url, "small", "first");

  window = new_window ();
  dialog = gc_window_show_join_dialog (window);
  join = dialog_button (dialog, "Join");

  /* Room full: the server's words, no suggestion (no button more). */
  fill_dialog (dialog, ts->url, "second", "small");
  n_buttons = count_showing (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_BUTTON);
  click (join);
  gc_test_wait (gtk_widget_get_sensitive (join));
  g_assert_true (g_str_has_prefix (widget_text (dialog_status (dialog)),
                                   "The server did not let you in: "));
  g_assert_cmpuint (count_showing (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_BUTTON), ==, n_buttons);

  /* Nobody listening. */
  dead_url = g_strdup (ts->url);
  gc_test_client_free (first);
  gc_test_server_stop (ts);
  fill_dialog (dialog, dead_url, "second", "small");
  click (join);
  gc_test_wait (gtk_widget_get_sensitive (join));
  g_assert_true (g_str_has_prefix (widget_text (dialog_status (dialog)),
                                   "Could not reach the server at ws://127.0.0.1:"));
  g_assert_null (gc_window_get_session (window));

  destroy_window (window);
  gc_test_server_free (ts);
}

/* Links are clickable; nothing else in user text is markup. */
static void
test_untrusted_text (void)
{
  static const char text[] = "<b>bold?</b> &amp; see https://example.org/a?b=1&c=2 <i>end";
  static const char url[] = "https://example.org/a?b=1&c=2";
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcMessageItem *item;
  GtkWidget *row;
  GtkLabel *label;
  GcTestClient *mallory;
  g_autofree char *row_name = NULL;
  PangoAttrList *attrs;
  GSList *attr_list;
  const char *shown;
  gsize url_offset;
  guint link_attrs = 0;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "alice", "markup");
  session = gc_window_get_session (window);
  mallory = gc_test_client_join_url (ts->url, "markup", "<span color='red'>m</span>");

  gc_test_client_send_message (mallory, text, NULL);
  gc_test_wait ((item = find_item (session, text)) != NULL);
  row_name = g_strdup_printf ("<span color='red'>m</span>: %s", text);
  gc_test_wait ((row = message_row (window, row_name)) != NULL && gtk_widget_get_mapped (row));

  /* What shows is the text, character for character (the label reading
   * it exists), and the name as it is, not as markup. */
  label = GTK_LABEL (gc_test_a11y_get (row, GTK_ACCESSIBLE_ROLE_LABEL, text));
  shown = gtk_label_get_text (label);
  g_assert_cmpstr (shown, ==, text);
  g_assert_false (gtk_label_get_use_markup (GTK_LABEL (gc_test_a11y_get (row, GTK_ACCESSIBLE_ROLE_LABEL,
                                                                         "<span color='red'>m</span>"))));

  /* Exactly one link, over exactly the URL. */
  g_assert_nonnull (strstr (gtk_label_get_label (label),
                            "<a href=\"https://example.org/a?b=1&amp;c=2\">"));
  g_assert_null (strstr (strstr (gtk_label_get_label (label), "</a>"), "<a "));
  url_offset = (gsize) (strstr (shown, url) - shown);

  /* The layout styles the link, and nothing else, as one. */
  attrs = pango_layout_get_attributes (gtk_label_get_layout (label));
  g_assert_nonnull (attrs);
  attr_list = pango_attr_list_get_attributes (attrs);
  for (GSList *l = attr_list; l != NULL; l = l->next)
    {
      PangoAttribute *attr = l->data;

      if (attr->klass->type == PANGO_ATTR_UNDERLINE || attr->klass->type == PANGO_ATTR_FOREGROUND)
        {
          g_assert_cmpuint (attr->start_index, ==, url_offset);
          g_assert_cmpuint (attr->end_index, ==, url_offset + strlen (url));
          link_attrs++;
        }
    }
  g_slist_free_full (attr_list, (GDestroyNotify) pango_attribute_destroy);
  g_assert_cmpuint (link_attrs, >, 0);

  gc_test_client_free (mallory);
  destroy_window (window);
  gc_test_server_free (ts);
}

static gboolean
at_bottom (GtkAdjustment *adj)
{
  return gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj) >=
         gtk_adjustment_get_upper (adj) - 8;
}

/* The list follows new lines only at the bottom; otherwise a button
 * counts them and jumps down. */
static void
test_scrolling (void)
{
  GcTestServer *ts = NULL;
  GcServerConfig config;
  GcWindow *window;
  GcChatSession *session;
  GcTestClient *bob;
  GtkAdjustment *adj;
  GtkWidget *jump;
  GtkWidget *row;
  char text[32];

  gc_server_config_init_default (&config);
  config.rate_burst = 100;
  config.rate_per_second = 100;
  ts = gc_test_server_new (&config);

  /* The room's history fills the list on join. */
  bob = gc_test_client_join_url (ts->url, "scroll", "bob");
  for (guint i = 0; i < 60; i++)
    {
      g_snprintf (text, sizeof text, "line %u", i);
      gc_test_client_send_message (bob, text, NULL);
    }
  gc_test_wait (gc_test_client_count_queued (bob, GC_EVENT_MESSAGE) == 60);

  window = join_through_dialog (ts, "erin", "scroll");
  session = gc_window_get_session (window);
  adj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (message_list (window)));
  g_assert_nonnull (find_item (session, "line 0"));
  g_assert_nonnull (find_item (session, "line 59"));

  /* At the bottom, following. */
  gc_test_wait (gtk_adjustment_get_upper (adj) > gtk_adjustment_get_page_size (adj) * 2);
  gc_test_wait (at_bottom (adj));
  gc_test_client_send_message (bob, "followed", NULL);
  gc_test_wait (find_item (session, "followed") != NULL);
  /* Its row is laid out, and the view is at the bottom with it. */
  gc_test_wait ((row = message_row (window, "bob: followed")) != NULL &&
                gtk_widget_get_mapped (row) && at_bottom (adj));
  g_assert_null (new_messages_button (window));

  /* Scrolled up: new lines are counted, not followed. */
  gtk_adjustment_set_value (adj, 0);
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
  gc_test_client_send_message (bob, "new 1", NULL);
  gc_test_client_send_message (bob, "new 2", NULL);
  gc_test_wait (find_item (session, "new 2") != NULL);
  gc_test_wait ((jump = new_messages_button (window)) != NULL);
  g_assert_cmpstr (widget_text (jump), ==, "2 new messages ↓");
  gc_test_run_for_ms (100);  /* a window: the view must NOT follow meanwhile */
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), <, gtk_adjustment_get_page_size (adj));

  click (jump);
  gc_test_wait (at_bottom (adj));
  g_assert_false (gtk_widget_get_visible (jump));
  g_assert_null (new_messages_button (window));

  gc_test_client_free (bob);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* `gochat --server … --name … --room …` joins without the dialog. */
static void
test_command_line (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;

  ts = gc_test_server_new (NULL);
  window = new_window ();
  gc_window_join (window, ts->url, "frank", "Direct");
  g_assert_null (join_dialog (window));
  gc_test_wait (session_connected (window));
  g_assert_cmpstr (gc_chat_session_get_room (gc_window_get_session (window)), ==, "direct");
  g_assert_null (join_dialog (window));
  destroy_window (window);

  /* An invalid value opens the dialog with it. */
  window = new_window ();
  gc_window_join (window, ts->url, "frank", "not valid");
  g_assert_nonnull (join_dialog (window));
  destroy_window (window);

  gc_test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  test_app_setup (&argc, &argv, TEST_APP_SETUP_DEFAULT);

  g_test_add_func ("/app/join-dialog/validation", test_join_dialog_validation);
  g_test_add_func ("/app/text-markup", test_text_markup);
  g_test_add_func ("/app/message-row", test_message_row);
  g_test_add_func ("/app/chat", test_chat);
  g_test_add_func ("/app/commands", test_commands);
  g_test_add_func ("/app/name-taken", test_name_taken);
  g_test_add_func ("/app/join-failures", test_join_failures);
  g_test_add_func ("/app/untrusted-text", test_untrusted_text);
  g_test_add_func ("/app/scrolling", test_scrolling);
  g_test_add_func ("/app/command-line", test_command_line);

  return test_app_run ();
}
