/* test-app-restore.c: the rooms open at the last run come back on start
 *
 * The `open-rooms` setting (GcOpenRooms) holds what the last run left;
 * starting the app without arguments (GApplication's activate) must
 * rejoin every one of those rooms on a real server, in the saved order,
 * without the join dialog. What counts is what the person and the server
 * see: each room connected with its members, the open-rooms model (what
 * the sidebar lists) holding both, and the peers told that we came back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "test-app-util.h"

#include "gc-open-rooms.h"
#include "gc-window-private.h"

static gboolean
connected (GcChatSession *session)
{
  return session != NULL && gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED;
}

/* The one GcWindow the start opened, or NULL. */
static GcWindow *
app_window (void)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (GC_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

/* Whether @window shows @session among its rooms (its sidebar). */
static gboolean
shown_in (GcWindow      *window,
          GcChatSession *session)
{
  for (guint i = 0; i < gc_window_get_n_sessions (window); i++)
    if (gc_window_get_nth_session (window, i) == session)
      return TRUE;
  return FALSE;
}

static const char *const room_codes[] = { "first-room", "second-room" };
static const char *const peer_names[] = { "bob", "carol" };

typedef struct {
  GcTestClient *peers[2];
  guint       joins_before[2];
  gboolean    checked;
} RestoreCheck;

/* Runs inside the application's run, once its command line is handled. */
static void
check_restored (gpointer user_data)
{
  RestoreCheck *ctx = user_data;
  g_autoptr(GSettings) settings = g_settings_new (GC_APPLICATION_ID);
  g_autoptr(GVariant) saved = NULL;
  GcWindow *window = app_window ();

  g_assert_nonnull (window);
  /* The saved rooms are the start: no join dialog in the way. */
  g_assert_null (join_dialog (window));

  gc_test_wait (gc_window_get_n_sessions (window) == 2 &&
                connected (gc_window_get_nth_session (window, 0)) &&
                connected (gc_window_get_nth_session (window, 1)));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (gc_application_get_open_rooms (app))), ==, 2);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GcChatSession) session =
        g_list_model_get_item (G_LIST_MODEL (gc_application_get_open_rooms (app)), i);

      /* The open-rooms model holds them in the order they were saved,
       * under the saved name, and the window lists each. */
      g_assert_cmpstr (gc_chat_session_get_room (session), ==, room_codes[i]);
      g_assert_cmpstr (gc_chat_session_get_user_name (session), ==, "erin");
      g_assert_true (shown_in (window, session));
      g_assert_true (gc_window_get_nth_session (window, i) == session);
      /* Its members: the peer who was there, and us. */
      gc_test_wait (find_member (session, peer_names[i]) != NULL);
      g_assert_nonnull (find_member (session, "erin"));
      /* The server saw us come back: the peer was told. */
      gc_test_wait (gc_test_client_count_queued (ctx->peers[i], GC_EVENT_JOIN) > ctx->joins_before[i]);
    }

  /* The room on screen shows the peer's name (its member list). */
  gc_test_wait (has_label (GTK_WIDGET (window),
                           g_str_equal (gc_chat_session_get_room (gc_window_get_session (window)), room_codes[0])
                           ? peer_names[0] : peer_names[1]));

  /* Both stay saved for the start after this one. */
  saved = g_settings_get_value (settings, "open-rooms");
  g_assert_cmpuint (g_variant_n_children (saved), ==, 2);

  ctx->checked = TRUE;
  /* The last window gone, the run ends. */
  destroy_window (window);
}

static void
test_restore_open_rooms (void)
{
  GcTestServer *ts = NULL;
  RestoreCheck ctx = { 0 };
  g_autoptr(GSettings) settings = g_settings_new (GC_APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *server_url = NULL;
  char *argv[] = { (char *) "gochat", NULL };
  GVariantBuilder builder;

  ts = gc_test_server_new (NULL);
  /* Someone is in each room already: their names are what "members
   * visible" means after the restore. */
  for (guint i = 0; i < 2; i++)
    {
      ctx.peers[i] = gc_test_client_join_url (ts->url, room_codes[i], peer_names[i]);
      ctx.joins_before[i] = gc_test_client_count_queued (ctx.peers[i], GC_EVENT_JOIN);
    }

  /* What the last run left behind, in the form GcOpenRooms writes it. */
  server_url = gc_chat_session_normalize_server_url (ts->url, &error);
  g_assert_no_error (error);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sss)"));
  for (guint i = 0; i < 2; i++)
    g_variant_builder_add (&builder, "(sss)", server_url, "erin", room_codes[i]);
  g_assert_true (g_settings_set_value (settings, "open-rooms", g_variant_builder_end (&builder)));

  /* The start without arguments, the way `gochat` starts: a new
   * application (its startup reads the saved rooms) run with an empty
   * command line; the checks run inside that run. */
  app = gc_application_new (G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE);
  g_idle_add_once (check_restored, &ctx);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 1, argv), ==, 0);
  g_assert_true (ctx.checked);

  for (guint i = 0; i < 2; i++)
    gc_test_client_free (ctx.peers[i]);
  gc_test_server_free (ts);
}

/* Restored joins finish in any order; the rooms still come back in the
 * order they were saved, and a room joined meanwhile comes after them.
 * (The model is what the sidebar lists.) */
static void
test_restore_order (void)
{
  static const char *const saved_codes[] = { "first-room", "second-room", "third-room" };
  /* The order the joins finish in: the last saved first, a new room. */
  static const char *const joined_codes[] = { "third-room", "new-room", "first-room", "second-room" };
  static const char *const listed_codes[] = { "first-room", "second-room", "third-room", "new-room" };
  g_autoptr(GSettings) settings = g_settings_new (GC_APPLICATION_ID);
  g_autoptr(GcOpenRooms) rooms = gc_open_rooms_new ();
  g_autoptr(GVariant) saved = NULL;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sss)"));
  for (guint i = 0; i < G_N_ELEMENTS (saved_codes); i++)
    g_variant_builder_add (&builder, "(sss)", "ws://127.0.0.1:1", "erin", saved_codes[i]);
  g_assert_true (g_settings_set_value (settings, "open-rooms", g_variant_builder_end (&builder)));
  gc_open_rooms_bind_settings (rooms, settings);

  for (guint i = 0; i < G_N_ELEMENTS (joined_codes); i++)
    {
      g_autoptr(GcChatSession) session = gc_chat_session_new ("ws://127.0.0.1:1", "erin", joined_codes[i]);

      gc_open_rooms_add (rooms, session, TRUE);
    }

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (rooms)), ==, G_N_ELEMENTS (listed_codes));
  for (guint i = 0; i < G_N_ELEMENTS (listed_codes); i++)
    {
      g_autoptr(GcChatSession) session = g_list_model_get_item (G_LIST_MODEL (rooms), i);

      g_assert_cmpstr (gc_chat_session_get_room (session), ==, listed_codes[i]);
    }
  /* Saved in that order for the next start. */
  saved = g_settings_get_value (settings, "open-rooms");
  g_assert_cmpuint (g_variant_n_children (saved), ==, G_N_ELEMENTS (listed_codes));
  for (guint i = 0; i < G_N_ELEMENTS (listed_codes); i++)
    {
      const char *room_code;

      g_variant_get_child (saved, i, "(&s&s&s)", NULL, NULL, &room_code);
      g_assert_cmpstr (room_code, ==, listed_codes[i]);
    }

  /* Left and joined again, a room has no saved place any more: last. */
  {
    g_autoptr(GcChatSession) first = g_list_model_get_item (G_LIST_MODEL (rooms), 0);
    g_autoptr(GcChatSession) again = gc_chat_session_new ("ws://127.0.0.1:1", "erin", "first-room");
    g_autoptr(GcChatSession) last = NULL;

    g_assert_true (gc_open_rooms_remove (rooms, first));
    gc_open_rooms_add (rooms, again, TRUE);
    last = g_list_model_get_item (G_LIST_MODEL (rooms), G_N_ELEMENTS (listed_codes) - 1);
    g_assert_true (last == again);
  }

  g_settings_reset (settings, "open-rooms");
}

/* The room on screen at the last close is the one on screen after the
 * start (issue 12): not whichever restored room came back last. */
static const char *const shown_codes[] = { "zeta", "alpha", "mid" };

typedef struct {
  char     *server_url;
  gboolean  checked;
} ShownCheck;

static gboolean
all_connected (GcWindow *window,
               guint     n)
{
  if (gc_window_get_n_sessions (window) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!connected (gc_window_get_nth_session (window, i)))
      return FALSE;
  return TRUE;
}

/* The heading over the messages says which room is on screen. */
static gboolean
title_is (GcWindow   *window,
          const char *text)
{
  g_autofree char *title = gc_test_a11y_get_text (room_title (window));

  return g_str_equal (title, text);
}

static void
assert_shown_setting (const char *server_url,
                      const char *room_code)
{
  g_autoptr(GSettings) settings = g_settings_new (GC_APPLICATION_ID);
  const char *saved_server = NULL;
  const char *saved_room = NULL;
  g_autoptr(GVariant) shown = g_settings_get_value (settings, "shown-room");

  g_variant_get (shown, "(&s&s)", &saved_server, &saved_room);
  g_assert_cmpstr (saved_server, ==, server_url);
  g_assert_cmpstr (saved_room, ==, room_code);
}

/* The first run: the person shows the second room and closes the window. */
static void
show_second_and_close (gpointer user_data)
{
  ShownCheck *ctx = user_data;
  GcWindow *window = app_window ();

  g_assert_nonnull (window);
  gc_test_wait (all_connected (window, 3));
  /* Enter (or a click) on the second room in the sidebar. */
  g_assert_true (gtk_widget_activate_action (sidebar (window), "list.activate-item", "u", 1));
  gc_test_wait (title_is (window, "#alpha"));
  assert_shown_setting (ctx->server_url, "alpha");

  ctx->checked = TRUE;
  /* Closed as the person closes it: its rooms stay saved. */
  gtk_window_close (GTK_WINDOW (window));
}

/* The next start: all three back, the second on screen. */
static void
check_second_shown (gpointer user_data)
{
  ShownCheck *ctx = user_data;
  GcWindow *window = app_window ();

  g_assert_nonnull (window);
  gc_test_wait (all_connected (window, 3));
  for (guint i = 0; i < G_N_ELEMENTS (shown_codes); i++)
    g_assert_cmpstr (gc_chat_session_get_room (gc_window_get_nth_session (window, i)), ==, shown_codes[i]);
  gc_test_wait (title_is (window, "#alpha"));
  g_assert_true (gtk_widget_get_mapped (room_title (window)));
  assert_shown_setting (ctx->server_url, "alpha");

  ctx->checked = TRUE;
  destroy_window (window);
}

static void
test_restore_shown_room (void)
{
  GcTestServer *ts = gc_test_server_new (NULL);
  ShownCheck ctx = { 0 };
  g_autoptr(GSettings) settings = g_settings_new (GC_APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  char *argv[] = { (char *) "gochat", NULL };
  GVariantBuilder builder;

  ctx.server_url = gc_chat_session_normalize_server_url (ts->url, &error);
  g_assert_no_error (error);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sss)"));
  for (guint i = 0; i < G_N_ELEMENTS (shown_codes); i++)
    g_variant_builder_add (&builder, "(sss)", ctx.server_url, "erin", shown_codes[i]);
  g_assert_true (g_settings_set_value (settings, "open-rooms", g_variant_builder_end (&builder)));
  g_settings_reset (settings, "shown-room");

  g_clear_object (&app);
  app = gc_application_new (G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE);
  g_idle_add_once (show_second_and_close, &ctx);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 1, argv), ==, 0);
  g_assert_true (ctx.checked);

  /* The rooms and the room shown, as the close left them. */
  {
    g_autoptr(GVariant) saved = g_settings_get_value (settings, "open-rooms");

    g_assert_cmpuint (g_variant_n_children (saved), ==, G_N_ELEMENTS (shown_codes));
  }

  ctx.checked = FALSE;
  g_clear_object (&app);
  app = gc_application_new (G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE);
  g_idle_add_once (check_second_shown, &ctx);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 1, argv), ==, 0);
  g_assert_true (ctx.checked);

  g_settings_reset (settings, "open-rooms");
  g_settings_reset (settings, "shown-room");
  g_free (ctx.server_url);
  gc_test_server_free (ts);
}

static void
joined_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *joined = user_data;
  g_autoptr(GError) error = NULL;

  *joined = gc_chat_session_join_finish (GC_CHAT_SESSION (source), result, &error);
  g_assert_no_error (error);
}

/* A session in @room_code on @server_url, joined. */
static GcChatSession *
joined_session (const char *server_url,
                const char *room_code)
{
  GcChatSession *session = gc_chat_session_new (server_url, "erin", room_code);
  gboolean joined = FALSE;

  gc_chat_session_join_async (session, joined_cb, &joined);
  gc_test_wait (joined);
  return session;
}

/* Restored rooms come back in any order: the room shown at the last
 * close keeps the screen once it is back, whatever comes after it; when
 * it does not come back, the last room back shows, as before; a room the
 * person picks meanwhile keeps the screen. (The order
 * is the test's here: the window's restore path, fed by hand.) */
static void
test_restore_shown_any_order (void)
{
  static const char *const back_order[] = { "alpha", "zeta", "mid" };
  GcTestServer *ts = gc_test_server_new (NULL);
  g_autoptr(GSettings) settings = g_settings_new (GC_APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *server_url = gc_chat_session_normalize_server_url (ts->url, &error);
  GcWindow *window;

  g_assert_no_error (error);
  g_clear_object (&app);
  app = gc_application_new (G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  /* The room shown at the close comes back first. */
  window = new_window ();
  window->shown_at_close = g_strdup_printf ("%s/%s", server_url, "alpha");
  for (guint i = 0; i < G_N_ELEMENTS (back_order); i++)
    {
      g_autoptr(GcChatSession) session = joined_session (server_url, back_order[i]);

      gc_window_add_restored_session (window, session);
      g_assert_true (title_is (window, "#alpha"));
    }
  assert_shown_setting (server_url, "alpha");
  destroy_window (window);

  /* It does not come back: the last room back shows. */
  window = new_window ();
  window->shown_at_close = g_strdup_printf ("%s/%s", server_url, "gone");
  for (guint i = 0; i < G_N_ELEMENTS (back_order); i++)
    {
      g_autoptr(GcChatSession) session = joined_session (server_url, back_order[i]);

      g_autofree char *title = g_strdup_printf ("#%s", back_order[i]);

      gc_window_add_restored_session (window, session);
      g_assert_true (title_is (window, title));
    }
  destroy_window (window);

  /* The person picks a room before it is back: their choice stands. */
  window = new_window ();
  window->shown_at_close = g_strdup_printf ("%s/%s", server_url, "alpha");
  for (guint i = 1; i < G_N_ELEMENTS (back_order); i++)
    {
      g_autoptr(GcChatSession) session = joined_session (server_url, back_order[i]);

      gc_window_add_restored_session (window, session);
    }
  g_assert_true (title_is (window, "#mid"));
  g_assert_true (gtk_widget_activate_action (sidebar (window), "list.activate-item", "u", 0));
  g_assert_true (title_is (window, "#zeta"));
  {
    g_autoptr(GcChatSession) session = joined_session (server_url, "alpha");

    gc_window_add_restored_session (window, session);
  }
  g_assert_true (title_is (window, "#zeta"));
  g_assert_cmpuint (gc_window_get_n_sessions (window), ==, 3);
  assert_shown_setting (server_url, "zeta");
  destroy_window (window);

  g_settings_reset (settings, "shown-room");
  gc_test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  /* The application is made by the test, after it saved the rooms. */
  test_app_setup (&argc, &argv, TEST_APP_SETUP_NO_APPLICATION);

  g_test_add_func ("/app/restore/open-rooms", test_restore_open_rooms);
  g_test_add_func ("/app/restore/order", test_restore_order);
  g_test_add_func ("/app/restore/shown-room", test_restore_shown_room);
  g_test_add_func ("/app/restore/shown-room-any-order", test_restore_shown_any_order);

  return test_app_run ();
}
