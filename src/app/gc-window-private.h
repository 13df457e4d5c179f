/* gc-window-private.h: GcWindow's parts, for the tests that drive it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-window.h"

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
  GtkWidget         *member_list;
  GtkLabel          *title_label;
  GtkLabel          *subtitle_label;
} GcWindowParts;

void gc_window_get_parts (GcWindow      *self,
                          GcWindowParts *parts);

/* The dialog currently open, if any (transfer none). */
GcJoinDialog *gc_window_get_join_dialog (GcWindow *self);

G_END_DECLS
