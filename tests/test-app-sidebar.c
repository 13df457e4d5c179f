/* test-app-sidebar.c: the room list ("Rooms") in the real window
 *
 * The sidebar is a list view over the app's open rooms (issue 10): its
 * rows are found as a screen reader finds them (a group named "#room,
 * name · host …" in the list "Rooms"), the keys go through the window's
 * own move-focus keybinding signal and the list's actions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "test-app-util.h"

#include "gc-room-row.h"

static GtkWidget *
rooms_list (GcWindow *window)
{
  return gc_test_a11y_get (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_LIST, "Rooms");
}

/* The rooms' rows on screen (the list items' groups, named "#room, …"). */
static GPtrArray *
room_rows (GcWindow *window)
{
  GPtrArray *rows = gc_test_a11y_find_all (rooms_list (window), GTK_ACCESSIBLE_ROLE_GROUP, NULL);

  for (guint i = rows->len; i > 0; i--)
    {
      GtkWidget *row = g_ptr_array_index (rows, i - 1);
      GtkWidget *parent = gtk_widget_get_parent (row);

      /* A list item's group, not the groups inside it. */
      if (!gtk_widget_get_mapped (row) ||
          gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (parent)) != GTK_ACCESSIBLE_ROLE_LIST_ITEM)
        g_ptr_array_remove_index (rows, i - 1);
    }
  return rows;
}

static guint
n_rows (GcWindow *window)
{
  g_autoptr(GPtrArray) rows = room_rows (window);

  return rows->len;
}

static double
row_top (GcWindow  *window,
         GtkWidget *row)
{
  graphene_rect_t bounds;

  g_assert_true (gtk_widget_compute_bounds (row, GTK_WIDGET (window), &bounds));
  return bounds.origin.y;
}

static gboolean
shows_room (GcWindow   *window,
            const char *room)
{
  GcChatSession *session = gc_window_get_session (window);

  return session != NULL && g_str_equal (gc_chat_session_get_room (session), room);
}

static gboolean
focus_in (GcWindow  *window,
          GtkWidget *widget)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));

  return focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget));
}

static void
press (GcWindow         *window,
       GtkDirectionType  direction)
{
  gtk_window_set_focus_visible (GTK_WINDOW (window), TRUE);
  g_signal_emit_by_name (window, "move-focus", direction);
  settle ();
}

/* An arrow key in the list: GTK 4.8's list view moves the focus to the
 * next item and selects it (its "listitem.select"); the window's
 * move-focus keybinding signal moves the focus, the action selects. */
static void
press_arrow (GcWindow         *window,
             GtkDirectionType  direction)
{
  GtkWidget *before = gtk_root_get_focus (GTK_ROOT (window));
  GtkWidget *item;

  press (window, direction);
  /* On the next item of the list. */
  gc_test_wait ((item = gtk_root_get_focus (GTK_ROOT (window))) != before && item != NULL &&
                gtk_widget_get_parent (item) == rooms_list (window));
  g_assert_true (gtk_widget_activate_action (item, "listitem.select", "(bb)", FALSE, FALSE));
}

static void
test_sidebar (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  g_autofree char *one_name = NULL;
  g_autofree char *two_name = NULL;
  GtkWidget *menu_item;
  GtkWidget *two_row;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "erin", "one");
  gc_window_join (window, ts->url, "erin", "two");
  gc_test_wait (gc_window_get_n_sessions (window) == 2 && shows_room (window, "two") &&
                session_connected (window));

  /* Both rooms, in the order joined, each named for a screen reader. */
  one_name = g_strdup ("#one, erin · 127.0.0.1");
  two_name = g_strdup ("#two, erin · 127.0.0.1");
  gc_test_wait (n_rows (window) == 2);
  {
    GtkWidget *one_row = gc_test_a11y_get (rooms_list (window), GTK_ACCESSIBLE_ROLE_GROUP, one_name);

    two_row = gc_test_a11y_get (rooms_list (window), GTK_ACCESSIBLE_ROLE_GROUP, two_name);
    /* Once laid out. */
    gc_test_wait (row_top (window, one_row) + gtk_widget_get_height (one_row) <= row_top (window, two_row));
  }

  /* Into the list (the narrow window's Back button), on the room shown;
   * then the arrows switch rooms while the list keeps the focus. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-rooms", NULL);
  g_assert_true (focus_in (window, gtk_widget_get_parent (two_row)));
  /* What has the focus is named for a screen reader, as its row is. */
  g_assert_true (gc_test_a11y_has_name (gtk_root_get_focus (GTK_ROOT (window)), two_name));
  press_arrow (window, GTK_DIR_UP);
  gc_test_wait (shows_room (window, "one"));
  g_assert_true (focus_in (window, rooms_list (window)));
  press_arrow (window, GTK_DIR_DOWN);
  gc_test_wait (shows_room (window, "two"));
  g_assert_true (focus_in (window, rooms_list (window)));

  /* Enter (the list's activation) opens the room: the compose box. */
  gtk_widget_activate_action (rooms_list (window), "list.activate-item", "u", 0);
  g_assert_true (shows_room (window, "one"));
  g_assert_true (focus_in (window, room_view (window)));
  g_assert_true (gtk_root_get_focus (GTK_ROOT (window)) == compose_box (window));

  /* The menu of a room not shown: Leave Room leaves that one. */
  g_assert_true (gtk_widget_activate_action (two_row, "menu.popup", NULL));
  gc_test_wait ((menu_item = gc_test_a11y_find_showing (two_row, GTK_ACCESSIBLE_ROLE_MENU_ITEM,
                                                        "Leave Room")) != NULL);
  gtk_widget_activate (menu_item);
  gc_test_wait (gc_window_get_n_sessions (window) == 1);
  g_assert_true (shows_room (window, "one"));
  g_assert_null (gc_test_a11y_find (rooms_list (window), GTK_ACCESSIBLE_ROLE_GROUP, two_name));

  /* Unbound, as the list does before it reuses an item for another room,
   * neither the row nor its list item is announced as the room any more;
   * bound again, both are. */
  {
    GtkWidget *one_row = gc_test_a11y_get (rooms_list (window), GTK_ACCESSIBLE_ROLE_GROUP, one_name);
    GtkWidget *item = gtk_widget_get_parent (one_row);
    GcRoomView *view = gc_room_row_get_view (GC_ROOM_ROW (one_row));

    g_assert_true (gc_test_a11y_has_name (item, one_name));
    gc_room_row_set_view (GC_ROOM_ROW (one_row), NULL);
    g_assert_false (gc_test_a11y_has_name (one_row, one_name));
    g_assert_false (gc_test_a11y_has_name (item, one_name));
    gc_room_row_set_view (GC_ROOM_ROW (one_row), view);
    g_assert_true (gc_test_a11y_has_name (one_row, one_name));
    g_assert_true (gc_test_a11y_has_name (item, one_name));
  }

  destroy_window (window);
  gc_test_server_free (ts);
}

/* Where @popover's surface sits in its window's (a popup's position,
 * which GDK moves only when the popover is presented again). */
static int
popup_y (GtkWidget *popover)
{
  return gdk_popup_get_position_y (GDK_POPUP (gtk_native_get_surface (GTK_NATIVE (popover))));
}

/* An open room menu follows its row when the list changes under it (GTK
 * presents a popover again when its parent is allocated or moves; see
 * popup_menu() in gc-room-row.c). */
static void
test_menu_follows_row (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GtkWidget *one_row;
  GtkWidget *two_row;
  GtkWidget *three_row;
  GtkWidget *menu_item;
  GtkWidget *popover;
  double two_top;
  int offset;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "erin", "one");
  /* One after the other: the last join to finish is the room shown. */
  gc_window_join (window, ts->url, "erin", "two");
  gc_test_wait (gc_window_get_n_sessions (window) == 2);
  gc_window_join (window, ts->url, "erin", "three");
  gc_test_wait (gc_window_get_n_sessions (window) == 3 && shows_room (window, "three") &&
                session_connected (window));
  gc_test_wait (n_rows (window) == 3);
  one_row = gc_test_a11y_get (rooms_list (window), GTK_ACCESSIBLE_ROLE_GROUP, "#one, erin · 127.0.0.1");
  two_row = gc_test_a11y_get (rooms_list (window), GTK_ACCESSIBLE_ROLE_GROUP, "#two, erin · 127.0.0.1");
  three_row = gc_test_a11y_get (rooms_list (window), GTK_ACCESSIBLE_ROLE_GROUP, "#three, erin · 127.0.0.1");
  /* Laid out, one under the other. */
  gc_test_wait (row_top (window, one_row) >= 0 &&
                row_top (window, one_row) + gtk_widget_get_height (one_row) <= row_top (window, two_row) &&
                row_top (window, two_row) + gtk_widget_get_height (two_row) <= row_top (window, three_row));
  two_top = row_top (window, two_row);

  /* The last row's menu, below it. */
  g_assert_true (gtk_widget_activate_action (three_row, "menu.popup", NULL));
  gc_test_wait ((menu_item = gc_test_a11y_find_showing (three_row, GTK_ACCESSIBLE_ROLE_MENU_ITEM,
                                                        "Leave Room")) != NULL);
  popover = gtk_widget_get_ancestor (menu_item, GTK_TYPE_POPOVER);
  g_assert_nonnull (popover);
  gc_test_wait (row_top (window, two_row) == two_top);
  offset = popup_y (popover) - (int) row_top (window, three_row);

  /* The first room leaves: the last row takes the second's place, and
   * its menu moves with it. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-open-room", "(ss)",
                                             ts->url, "one"));
  gc_test_wait (gc_window_get_n_sessions (window) == 2 && n_rows (window) == 2 &&
                row_top (window, three_row) == two_top);
  gc_test_wait (popup_y (popover) - (int) row_top (window, three_row) == offset);
  g_assert_true (gtk_widget_get_visible (popover));

  /* Closed as a person closes it before the window goes: GTK 4.8 can ask
   * a popover's surface for the pointer after destroying it when its
   * window is destroyed under it (a Gdk-CRITICAL, about one run in four
   * under ASan). */
  gtk_popover_popdown (GTK_POPOVER (popover));
  gc_test_wait (!gtk_widget_get_mapped (popover));
  destroy_window (window);
  gc_test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  test_app_setup (&argc, &argv, TEST_APP_SETUP_DEFAULT);

  g_test_add_func ("/app/sidebar/rows-keys-menu", test_sidebar);
  g_test_add_func ("/app/sidebar/menu-follows-row", test_menu_follows_row);

  return test_app_run ();
}
