/* gc-window-private.h: GcWindow's parts, for its own files (gc-window*.c)
 * and the tests that drive it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-open-rooms.h"
#include "gc-room-view.h"
#include "gc-window.h"

G_BEGIN_DECLS

/* Shared by gc-window.c, gc-window-join.c, gc-window-hosting.c and
 * gc-window-sidebar.c. */
struct _GcWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
  GPtrArray            *joining;       /* GcChatSession, joins without the dialog */
  /* Restoring the last run's rooms: those of @joining that are, and the
   * room that was on screen at the last close (the `shown-room` setting,
   * as room_key() has it), which takes the screen once it is back;
   * %NULL when there was none or every restored room is back. */
  GPtrArray            *restoring;     /* GcChatSession */
  char                 *shown_at_close;
  /* A restored room is being shown by the restore, not by the person
   * (whose own choice of room, while restoring, replaces @shown_at_close). */
  gboolean              showing_restored;
  GcJoinDialog         *join_dialog;
  GtkWindow            *stop_hosting_dialog;
  GtkWindow            *invite_dialog;
  gboolean              close_confirmed;
  gboolean              keep_saved;    /* closing: its rooms come back next start */
  GcOpenRooms          *open_rooms;
  /* The sidebar's model: the app's open rooms this window shows, those
   * with a view here (one window's rooms are not another's). */
  GHashTable           *views;         /* GcChatSession → GcRoomView */
  GtkFilterListModel   *rooms;
  GtkSingleSelection   *selection;     /* of rooms: the sidebar's, the room shown */

  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar_page;
  GtkWidget            *room_page;
  GtkLabel             *title_label;
  GtkLabel             *subtitle_label;
  GtkButton            *join_button;
  GtkToggleButton      *members_button;
  GtkButton            *invite_button;
  GtkListView          *sidebar;
  GtkStack             *stack;
  GtkWidget            *empty_page;
};

/* The view of the room shown now, or %NULL (transfer none). */
GcRoomView   *gc_window_get_room_view   (GcWindow *self);

/* The dialog currently open, if any (transfer none). */
GcJoinDialog *gc_window_get_join_dialog (GcWindow *self);

/* The question asked before cutting off others in hosted rooms, while it
 * is open (transfer none). */
GtkWindow    *gc_window_get_stop_hosting_dialog (GcWindow *self);

/* The question an invite link asks before joining (an AdwMessageDialog). */
GtkWindow    *gc_window_get_invite_dialog (GcWindow *self);

/* Internals the window's actions (gc-window-actions.c) use. */
void          gc_window_install_actions     (GcWindow      *self);
gboolean      gc_window_show_existing_room  (GcWindow      *self,
                                             GcChatSession *session);
void          gc_window_start_join          (GcWindow      *self,
                                             GcChatSession *session);
GcRoomView   *gc_window_find_view           (GcWindow      *self,
                                             GcChatSession *session);
/* Shows @view (%NULL: none) without touching the sidebar's selection. */
void          gc_window_show_view           (GcWindow      *self,
                                             GcRoomView    *view);
/* A room of the last run is back (gc_window_rejoin()): added as
 * gc_window_add_session() does, it takes the screen unless the room shown
 * at the last close is back already and on screen. */
void          gc_window_add_restored_session (GcWindow      *self,
                                              GcChatSession *session);
/* The `shown-room` setting as a room key, or %NULL (transfer full). */
char         *gc_window_dup_shown_at_close  (GcWindow      *self);

/* gc-window-sidebar.c: the room list's model, rows and keys. */
void          gc_window_init_sidebar        (GcWindow      *self);
void          gc_window_show_rooms          (GcWindow      *self);
void          gc_window_add_toast           (GcWindow      *self,
                                             const char    *text);

/* Shared by gc-window.c and gc-window-hosting.c. */
void          gc_window_ask_stop_hosting    (GcWindow      *self,
                                             gboolean       quitting,
                                             guint          others);
/* Leaves @session, asking first if that stops hosting with others in
 * hosted rooms (as quitting does). */
void          gc_window_confirm_leave       (GcWindow      *self,
                                             GcChatSession *session);

G_END_DECLS
