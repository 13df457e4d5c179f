/* gc-window.h: the room view: messages, members, compose, connection banner
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "gc-chat-session.h"
#include "gc-join-dialog.h"

G_BEGIN_DECLS

#define GC_TYPE_WINDOW (gc_window_get_type ())
G_DECLARE_FINAL_TYPE (GcWindow, gc_window, GC, WINDOW, GtkApplicationWindow)

GcWindow      *gc_window_new              (GtkApplication *application);

/* Shows @session's room; the window leaves its previous room, if any. */
void           gc_window_set_session      (GcWindow       *self,
                                           GcChatSession  *session);
GcChatSession *gc_window_get_session      (GcWindow       *self);

/* Joins without the dialog (the command line); if a value is invalid or
 * the join fails, the join dialog opens with the values and the reason.
 * %NULL values come from the settings, else the defaults. */
void           gc_window_join             (GcWindow       *self,
                                           const char     *server,
                                           const char     *name,
                                           const char     *room);

/* Opens the join dialog, filled from the settings (transfer none). When it
 * is closed without joining and the window has no room, the window
 * closes too. */
GcJoinDialog  *gc_window_show_join_dialog (GcWindow       *self);

G_END_DECLS
