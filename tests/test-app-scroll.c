/* test-app-scroll.c: the newest line is in view, checked by geometry
 *
 * Each test looks at what a person sees: the row that shows the room's
 * newest line must lie inside the visible part of the message list
 * (gtk_widget_compute_bounds against the list "Messages", which is as
 * tall as the part of it the scrolled window shows), not merely
 * have the adjustment say "at the bottom" (GTK 4.8's list view only
 * estimates the heights of rows it has not built, so the adjustment can
 * claim the end while the rows on screen are the oldest ones).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "test-app-util.h"

static GcMessageItem *
newest_item (GcChatSession *session)
{
  GListModel *model = gc_chat_session_get_messages (session);
  guint n = g_list_model_get_n_items (model);
  g_autoptr(GcMessageItem) item = NULL;

  if (n == 0)
    return NULL;
  item = g_list_model_get_item (model, n - 1);
  return item;  /* the model keeps it alive */
}

/* Where @item's row lies in the list's coordinates; FALSE when no row on
 * screen shows it (the list keeps rows it scrolled past, hidden). */
static gboolean
row_bounds (GtkWidget       *list,
            GcMessageItem   *item,
            graphene_rect_t *bounds)
{
  GtkWidget *row = find_item_row (list, item);

  if (row == NULL || !gtk_widget_get_mapped (row) ||
      !gtk_widget_get_child_visible (gtk_widget_get_parent (row)))
    return FALSE;
  return gtk_widget_compute_bounds (row, list, bounds);
}

/* Whether the row of @item is inside the visible area: wholly, or (for a
 * row taller than the view) with its end at the view's end. */
static gboolean
item_in_view (GtkWidget     *list,
              GcMessageItem *item)
{
  graphene_rect_t bounds;
  float height = gtk_widget_get_height (list);
  float top, bottom;

  if (item == NULL || !row_bounds (list, item, &bounds))
    return FALSE;
  top = bounds.origin.y;
  bottom = bounds.origin.y + bounds.size.height;
  if (bounds.size.height <= height)
    return top >= -1 && bottom <= height + 1;
  return bottom <= height + 1 && bottom >= height - 24;
}

static gboolean
newest_in_view (GcWindow *window)
{
  GcChatSession *session = gc_window_get_session (window);

  return item_in_view (message_list (window), newest_item (session));
}

/* The newest line comes into view and stays there while layout, frames
 * and late measurements run out. */
static void
assert_newest_stays_in_view (GcWindow *window)
{
  gc_test_wait (newest_in_view (window));
  for (guint i = 0; i < 5; i++)
    {
      gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
      gc_test_run_for_ms (60);  /* a window: late measurements must not move it */
      gc_test_wait (newest_in_view (window));
    }
}

static void
say_lines (GcTestClient *peer,
           const char *prefix,
           guint       n)
{
  guint before = gc_test_client_count_queued (peer, GC_EVENT_MESSAGE);
  char text[64];

  for (guint i = 1; i <= n; i++)
    {
      g_snprintf (text, sizeof text, "%s %u", prefix, i);
      gc_test_client_send_message (peer, text, NULL);
    }
  gc_test_wait (gc_test_client_count_queued (peer, GC_EVENT_MESSAGE) == before + n);
}

static GcTestServer *
start_fast_server (guint history)
{
  GcServerConfig config;

  gc_server_config_init_default (&config);
  config.rate_burst = 1000;
  config.rate_per_second = 1000;
  config.history = history;
  return gc_test_server_new (&config);
}

/* Joining a room whose history is longer than a screen shows its end. */
static void
test_join_with_history (void)
{
  GcTestServer *ts = NULL;
  GcTestClient *peer;
  GcWindow *window;
  GcChatSession *session;

  ts = start_fast_server (150);
  peer = gc_test_client_join_url (ts->url, "history", "pat");
  say_lines (peer, "old line", 150);

  window = join_through_dialog (ts, "erin", "history");
  session = gc_window_get_session (window);
  gc_test_wait (find_item (session, "old line 150") != NULL);
  assert_newest_stays_in_view (window);

  /* What comes next shows, too: a peer's line, and one's own. */
  gc_test_client_send_message (peer, "after the history", NULL);
  gc_test_wait (find_item (session, "after the history") != NULL);
  assert_newest_stays_in_view (window);

  set_compose_text (window, "my own line");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  gc_test_wait (find_item (session, "my own line") != NULL);
  assert_newest_stays_in_view (window);

  gc_test_client_free (peer);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* A burst of 300 lines in a fresh room, watched as it arrives. */
static void
test_burst (void)
{
  GcTestServer *ts = NULL;
  GcTestClient *peer;
  GcWindow *window;
  GcChatSession *session;

  ts = start_fast_server (100);
  window = join_through_dialog (ts, "erin", "burst");
  session = gc_window_get_session (window);
  peer = gc_test_client_join_url (ts->url, "burst", "pat");
  say_lines (peer, "burst line", 300);
  gc_test_wait (find_item (session, "burst line 300") != NULL);
  assert_newest_stays_in_view (window);

  gc_test_client_free (peer);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* An own message as long as the server allows. */
static void
test_long_own_message (void)
{
  GcTestServer *ts = NULL;
  GcTestClient *peer;
  GcWindow *window;
  GcChatSession *session;
  g_autofree char *text = NULL;
  GString *words = g_string_new (NULL);

  ts = start_fast_server (100);
  peer = gc_test_client_join_url (ts->url, "long", "pat");
  say_lines (peer, "before", 40);
  window = join_through_dialog (ts, "erin", "long");
  session = gc_window_get_session (window);
  assert_newest_stays_in_view (window);

  while (words->len < 4090)
    g_string_append (words, "wrapping ");
  g_string_truncate (words, 4096);
  text = g_string_free (words, FALSE);
  set_compose_text (window, text);
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  gc_test_wait (find_item (session, text) != NULL);
  assert_newest_stays_in_view (window);

  gc_test_client_send_message (peer, "short reply", NULL);
  gc_test_wait (find_item (session, "short reply") != NULL);
  assert_newest_stays_in_view (window);

  gc_test_client_free (peer);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* 100,000 lines (fed to the session directly: no server rate limit). */
static void
test_many_lines (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GString *json = g_string_new (NULL);

  ts = start_fast_server (100);
  window = join_through_dialog (ts, "erin", "many");
  session = gc_window_get_session (window);
  for (guint64 id = 1; id <= 100000; id++)
    {
      g_string_printf (json,
                       "{\"type\":\"message\",\"id\":%" G_GUINT64_FORMAT ",\"ts\":0,"
                       "\"from\":{\"id\":\"u%u\",\"name\":\"member %u\"},\"kind\":\"text\","
                       "\"text\":\"line %" G_GUINT64_FORMAT "%s\"}",
                       id, (guint) (id % 7), (guint) (id % 7), id,
                       id % 5 == 1 ? " with some more words so that this one wraps onto a "
                                     "second line in a window of an ordinary width" : "");
      gc_chat_session_feed_event (session, json->str);
      if (id % 10000 == 0)
        settle ();
    }
  g_string_free (json, TRUE);
  gc_test_wait (find_item (session, "line 100000") != NULL);
  assert_newest_stays_in_view (window);

  destroy_window (window);
  gc_test_server_free (ts);
}

/* Making the window shorter (and taller again) keeps the end in view. */
static void
test_resize (void)
{
  GcTestServer *ts = NULL;
  GcTestClient *peer;
  GcWindow *window;

  ts = start_fast_server (150);
  peer = gc_test_client_join_url (ts->url, "resize", "pat");
  say_lines (peer, "line", 120);
  window = join_through_dialog (ts, "erin", "resize");
  assert_newest_stays_in_view (window);

  gtk_window_set_default_size (GTK_WINDOW (window), 900, 420);
  gtk_widget_queue_resize (GTK_WIDGET (window));
  gc_test_wait (gtk_widget_get_height (GTK_WIDGET (window)) <= 430);
  assert_newest_stays_in_view (window);

  gtk_window_set_default_size (GTK_WINDOW (window), 900, 760);
  gtk_widget_queue_resize (GTK_WIDGET (window));
  gc_test_wait (gtk_widget_get_height (GTK_WIDGET (window)) >= 740);
  assert_newest_stays_in_view (window);

  gc_test_client_free (peer);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* Reading back: the view holds still, new lines are counted on a button
 * that brings the person down. */
static void
test_read_back (void)
{
  GcTestServer *ts = NULL;
  GcTestClient *peer;
  GcWindow *window;
  GcChatSession *session;
  GtkWidget *list;
  GtkAdjustment *adj;
  GtkWidget *button;
  GcMessageItem *anchor;
  graphene_rect_t before, after;

  ts = start_fast_server (150);
  peer = gc_test_client_join_url (ts->url, "readback", "pat");
  say_lines (peer, "line", 120);
  window = join_through_dialog (ts, "erin", "readback");
  session = gc_window_get_session (window);
  assert_newest_stays_in_view (window);

  /* Scroll up a few screens, as the wheel does. */
  list = message_list (window);
  adj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (list));
  for (guint i = 0; i < 3; i++)
    {
      gtk_adjustment_set_value (adj, gtk_adjustment_get_value (adj) - gtk_adjustment_get_page_size (adj));
      gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
    }
  gc_test_run_for_ms (100);  /* a window: it must NOT snap back to the end */
  g_assert_false (newest_in_view (window));

  /* Some line on screen now: it must stay where it is. */
  anchor = find_item (session, "line 60");
  for (guint i = 1; i <= 120 && !item_in_view (list, anchor); i++)
    {
      g_autofree char *text = g_strdup_printf ("line %u", i);

      if (item_in_view (list, find_item (session, text)))
        anchor = find_item (session, text);
    }
  g_assert_true (item_in_view (list, anchor));
  g_assert_true (row_bounds (list, anchor, &before));

  say_lines (peer, "while reading", 30);
  gc_test_wait (find_item (session, "while reading 30") != NULL);
  gc_test_wait ((button = new_messages_button (window)) != NULL);
  g_assert_cmpstr (widget_text (button), ==, "30 new messages ↓");
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
  gc_test_run_for_ms (100);  /* a window: the anchor must NOT move */
  g_assert_true (row_bounds (list, anchor, &after));
  g_assert_cmpfloat_with_epsilon (after.origin.y, before.origin.y, 2);
  g_assert_false (newest_in_view (window));
  /* Not shown, so still unread. */
  g_assert_cmpuint (gc_room_view_get_unread (GC_ROOM_VIEW (room_view (window))), ==, 30);

  click (button);
  assert_newest_stays_in_view (window);
  gc_test_wait (!gtk_widget_get_visible (button));
  g_assert_cmpuint (gc_room_view_get_unread (GC_ROOM_VIEW (room_view (window))), ==, 0);

  /* Ctrl+End (room.scroll-to-end) brings the end back too. */
  gtk_adjustment_set_value (adj, 0);
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
  gc_test_wait (!newest_in_view (window));
  gtk_widget_activate_action (room_view (window), "room.scroll-to-end", NULL);
  assert_newest_stays_in_view (window);

  /* The divider marks where the lines not read yet started. */
  {
    GcMessageItem *first = find_item (session, "while reading 1");
    GtkWidget *row;

    GListModel *model = gc_chat_session_get_messages (session);
    guint pos = 0;

    while (pos < g_list_model_get_n_items (model))
      {
        g_autoptr(GcMessageItem) item = g_list_model_get_item (model, pos);

        if (item == first)
          break;
        pos++;
      }
    gtk_widget_activate_action (list, "list.scroll-to-item", "u", pos);
    gc_test_wait (item_in_view (list, first));
    row = message_row (window, "pat: while reading 1");
    g_assert_nonnull (row);
    g_assert_true (has_label (row, "New Messages"));
    row = message_row (window, "pat: while reading 2");
    g_assert_nonnull (row);
    g_assert_false (has_label (row, "New Messages"));
  }

  gc_test_client_free (peer);
  destroy_window (window);
  gc_test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  test_app_setup (&argc, &argv, TEST_APP_SETUP_DEFAULT);

  g_test_add_func ("/app/scroll/join-with-history", test_join_with_history);
  g_test_add_func ("/app/scroll/burst", test_burst);
  g_test_add_func ("/app/scroll/long-own-message", test_long_own_message);
  g_test_add_func ("/app/scroll/many-lines", test_many_lines);
  g_test_add_func ("/app/scroll/resize", test_resize);
  g_test_add_func ("/app/scroll/read-back", test_read_back);

  return test_app_run ();
}
