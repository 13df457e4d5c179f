/* gc-room-view-private.h: GcRoomView's parts, for the tests that drive it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-room-view.h"

G_BEGIN_DECLS

typedef struct {
  GtkListView       *message_list;
  GtkScrolledWindow *message_scroller;
  GtkButton         *new_messages_button;
  GtkLabel          *typing_label;
  GtkTextView       *compose_view;
  GtkLabel          *counter_label;
  GtkButton         *send_button;
  GtkRevealer       *banner_revealer;
  GtkLabel          *banner_label;
  GtkButton         *reconnect_button;
  GtkRevealer       *host_revealer;
  GtkLabel          *host_addresses_label;
  GtkWidget         *member_list;
} GcRoomViewParts;

void gc_room_view_get_parts (GcRoomView      *self,
                             GcRoomViewParts *parts);

G_END_DECLS
