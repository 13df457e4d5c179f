/* gc-room-row.h: a room in the window's sidebar, with unread count and mention marker
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "gc-room-view.h"

G_BEGIN_DECLS

#define GC_TYPE_ROOM_ROW (gc_room_row_get_type ())
G_DECLARE_FINAL_TYPE (GcRoomRow, gc_room_row, GC, ROOM_ROW, GtkWidget)

/* The sidebar's one kind of row (its list view's factory makes them and
 * hands each the room it shows now: rows are reused). */
GtkWidget  *gc_room_row_new           (void);
/* The row follows @view's room, unread count, mentions and connection;
 * %NULL while it shows none. */
void        gc_room_row_set_view      (GcRoomRow  *self,
                                       GcRoomView *view);
GcRoomView *gc_room_row_get_view      (GcRoomRow  *self);

G_END_DECLS
