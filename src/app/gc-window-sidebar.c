/* gc-window-sidebar.c: the window's room list: a list view over its open rooms, one GcRoomRow each
 *
 * The list shows the window's share of the app's GcOpenRooms
 * (GcWindow:rooms) through a single selection: the room selected is the
 * room shown. The window chooses it (gc_window_show_session()); the
 * arrow keys choose it with the focus kept in the list; a click, a tap
 * or Enter opens it with the focus in its compose box.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-room-row.h"
#include "gc-window-private.h"

static void
sidebar_selected_cb (GcWindow *self)
{
  GcChatSession *session = gtk_single_selection_get_selected_item (self->selection);
  GcRoomView *view = session != NULL ? g_hash_table_lookup (self->views, session) : NULL;
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  /* Unselected (or a room before it went), the view stays as it is. */
  if (view == NULL || view == gc_window_get_room_view (self))
    return;

  gc_window_show_view (self, view);
  /* Chosen with the keyboard, the list keeps the focus so arrows go on
   * through the rooms. */
  if (focus == NULL || !gtk_widget_is_ancestor (focus, GTK_WIDGET (self->sidebar)))
    gc_room_view_focus_compose (view);
}

/* A click, a tap or Enter on a room: in a narrow window that opens it
 * (the arrow keys only move through the list). */
static void
sidebar_activate_cb (GcWindow *self,
                     guint     position)
{
  g_autoptr(GcChatSession) session = g_list_model_get_item (G_LIST_MODEL (self->rooms), position);

  if (session != NULL)
    gc_window_show_session (self, session);
}

/* Shift+F10 or the Menu key on a room in the sidebar: its menu. */
static gboolean
sidebar_menu_cb (GtkWidget *sidebar,
                 GVariant  *args,
                 gpointer   user_data)
{
  GtkWidget *item = gtk_root_get_focus (gtk_widget_get_root (sidebar));

  while (item != NULL && gtk_widget_get_parent (item) != sidebar)
    item = gtk_widget_get_parent (item);
  if (item == NULL || !GC_IS_ROOM_ROW (gtk_widget_get_first_child (item)))
    return FALSE;
  return gtk_widget_activate_action (gtk_widget_get_first_child (item), "menu.popup", NULL);
}

static void
room_row_clicked_cb (GtkGestureClick *gesture,
                     int              n_press,
                     double           x,
                     double           y,
                     GcWindow        *self)
{
  GcRoomRow *row = GC_ROOM_ROW (gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture)));
  GcRoomView *view = gc_room_row_get_view (row);

  if (n_press == 1 && view != NULL)
    gc_window_show_session (self, gc_room_view_get_session (view));
}

/* The sidebar's rows: one GcRoomRow template, handed the room its list
 * item shows (rows are reused as the list scrolls and changes). */
static void
setup_room_row (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                GcWindow                 *self)
{
  GtkWidget *row = gc_room_row_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  /* A click opens the room (the list item selects it too). */
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect_object (click, "released", G_CALLBACK (room_row_clicked_cb), self, 0);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (click));
  gtk_list_item_set_child (list_item, row);
}

static void
bind_room_row (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               GcWindow                 *self)
{
  gc_room_row_set_view (GC_ROOM_ROW (gtk_list_item_get_child (list_item)),
                        g_hash_table_lookup (self->views, gtk_list_item_get_item (list_item)));
}

static void
unbind_room_row (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 GcWindow                 *self)
{
  gc_room_row_set_view (GC_ROOM_ROW (gtk_list_item_get_child (list_item)), NULL);
}

void
gc_window_init_sidebar (GcWindow *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;
  GtkEventController *shortcuts;

  /* The window chooses what is shown (gc_window_show_session()); nothing
   * is chosen for it when rooms come and go. */
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->rooms)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_signal_connect_swapped (self->selection, "notify::selected-item", G_CALLBACK (sidebar_selected_cb), self);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_room_row), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_room_row), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_room_row), self);
  gtk_list_view_set_factory (self->sidebar, factory);
  shortcuts = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_alternative_trigger_new (gtk_keyval_trigger_new (GDK_KEY_F10, GDK_SHIFT_MASK),
                                                                                       gtk_keyval_trigger_new (GDK_KEY_Menu, 0)),
                                                          gtk_callback_action_new (sidebar_menu_cb, NULL, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self->sidebar), shortcuts);
  gtk_list_view_set_model (self->sidebar, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect_swapped (self->sidebar, "activate", G_CALLBACK (sidebar_activate_cb), self);
}

void
gc_window_show_rooms (GcWindow *self)
{
  GcRoomView *view = gc_window_get_room_view (self);

  adw_leaflet_set_visible_child (self->leaflet, self->sidebar_page);
  /* On the room shown, so the arrows go on from there. */
  for (GtkWidget *item = gtk_widget_get_first_child (GTK_WIDGET (self->sidebar));
       item != NULL && view != NULL; item = gtk_widget_get_next_sibling (item))
    {
      GtkWidget *row = gtk_widget_get_first_child (item);

      if (GC_IS_ROOM_ROW (row) && gc_room_row_get_view (GC_ROOM_ROW (row)) == view &&
          gtk_widget_grab_focus (item))
        return;
    }
  gtk_widget_grab_focus (GTK_WIDGET (self->sidebar));
}
