/* gc-window-private.h: GcWindow's parts, for the tests that drive it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-room-view.h"
#include "gc-window.h"

G_BEGIN_DECLS

typedef struct {
  GtkListBox      *sidebar;
  GtkStack        *stack;
  GtkWidget       *empty_page;    /* an AdwStatusPage */
  AdwLeaflet      *leaflet;
  GtkLabel        *title_label;
  GtkLabel        *subtitle_label;
  GtkToggleButton *members_button;
  GtkButton       *invite_button;
} GcWindowParts;

void gc_window_get_parts (GcWindow      *self,
                          GcWindowParts *parts);

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
void          gc_window_show_rooms          (GcWindow      *self);
void          gc_window_add_toast           (GcWindow      *self,
                                             const char    *text);

G_END_DECLS
