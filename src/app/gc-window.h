/* gc-window.h: a window of rooms: the sidebar and the room shown beside it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "gc-chat-session.h"
#include "gc-join-dialog.h"

G_BEGIN_DECLS

#define GC_TYPE_WINDOW (gc_window_get_type ())
G_DECLARE_FINAL_TYPE (GcWindow, gc_window, GC, WINDOW, AdwApplicationWindow)

GcWindow      *gc_window_new              (GtkApplication *application);

/* Adds @session's room to the sidebar and shows it. When the window
 * already has that room (same server and room code) it shows that one
 * and leaves @session. */
void           gc_window_add_session      (GcWindow       *self,
                                           GcChatSession  *session);
/* The room shown now, or %NULL. */
GcChatSession *gc_window_get_session      (GcWindow       *self);
guint          gc_window_get_n_sessions   (GcWindow       *self);
/* The @n-th room of the sidebar (transfer none), or %NULL. */
GcChatSession *gc_window_get_nth_session  (GcWindow       *self,
                                           guint           n);
/* Shows the room of @session, which must be in this window. */
void           gc_window_show_session     (GcWindow       *self,
                                           GcChatSession  *session);
/* Leaves the room of @session and removes it from the window. */
void           gc_window_leave_session    (GcWindow       *self,
                                           GcChatSession  *session);

/* Joins without the dialog (the command line); if a value is invalid or
 * the join fails, the join dialog opens with the values and the reason.
 * %NULL values come from the settings, else the defaults. */
void           gc_window_join             (GcWindow       *self,
                                           const char     *server,
                                           const char     *name,
                                           const char     *room);

/* Joins a room that was open at the last run, as gc_window_join() does;
 * of the rooms rejoined, the one on screen at the last close (the
 * `shown-room` setting) is shown once it is back. */
void           gc_window_rejoin           (GcWindow       *self,
                                           const char     *server,
                                           const char     *name,
                                           const char     *room);

/* Hosts @room (%NULL: the last room, else a random code) on this
 * computer, starting the host at @port if it does not run yet, and joins
 * it; a failure opens the join dialog with the reason. */
void           gc_window_host             (GcWindow       *self,
                                           guint16         port,
                                           const char     *name,
                                           const char     *room);

/* Joins the room of a gochat:// invite link: at once with the remembered
 * name, else after asking only for a name. A bad link is explained in
 * the join dialog. */
void           gc_window_open_invite      (GcWindow       *self,
                                           const char     *link);

/* Opens the join dialog, filled from the settings (transfer none). When it
 * is closed without joining and the window has no room, the window
 * closes too. */
GcJoinDialog  *gc_window_show_join_dialog (GcWindow       *self);

/* Whether the window holds rooms hosted on this computer. */
gboolean       gc_window_has_hosted_rooms (GcWindow       *self);

/* Asks whether to quit though others are in rooms hosted on this
 * computer, and quits the app if the user says so. */
void           gc_window_confirm_quit     (GcWindow       *self);

/* Closes the window without asking about others in hosted rooms (they
 * were asked about already). */
void           gc_window_close_now        (GcWindow       *self);

gboolean      gc_window_show_open_room    (GcWindow     *self,
                                          const char   *server_url,
                                          const char   *room);

G_END_DECLS
