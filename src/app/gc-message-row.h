/* gc-message-row.h: the widget that shows one GcMessageItem in the list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "gc-message-item.h"

G_BEGIN_DECLS

/* Sender colours: CSS classes sender-color-0 … sender-color-(N-1). */
#define GC_SENDER_COLOR_COUNT 12

#define GC_TYPE_MESSAGE_ROW (gc_message_row_get_type ())
G_DECLARE_FINAL_TYPE (GcMessageRow, gc_message_row, GC, MESSAGE_ROW, GtkWidget)

GtkWidget     *gc_message_row_new            (void);
/* @item may be %NULL (an unbound row in a recycling list). */
void           gc_message_row_set_item       (GcMessageRow  *self,
                                              GcMessageItem *item);
GcMessageItem *gc_message_row_get_item       (GcMessageRow  *self);
/* Name and time above the text (a narrow window) instead of beside it. */
void           gc_message_row_set_compact    (GcMessageRow  *self,
                                              gboolean       compact);
gboolean       gc_message_row_get_compact    (GcMessageRow  *self);
gboolean       gc_message_row_focus_retry    (GcMessageRow  *self);
void           gc_message_row_set_unread_divider (GcMessageRow *self,
                                                  gboolean      divider);

/* The colour class for a user: stable for a given USER_ID, never derived
 * from the name (transfer none, a static string). */
const char    *gc_sender_color_class         (const char    *user_id);

G_END_DECLS
