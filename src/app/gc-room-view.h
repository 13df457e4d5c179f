/* gc-room-view.h: one room in the window: banners, messages, typing, compose, members
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "gc-chat-session.h"

G_BEGIN_DECLS

#define GC_TYPE_ROOM_VIEW (gc_room_view_get_type ())
G_DECLARE_FINAL_TYPE (GcRoomView, gc_room_view, GC, ROOM_VIEW, GtkWidget)

/* The view shows @session's room until the session is left. It asks its
 * window for `win.join-room(s)` and `win.leave-room` (/join, /leave) and
 * `win.copy-invite`. */
GtkWidget     *gc_room_view_new            (GcChatSession       *session);
GcChatSession *gc_room_view_get_session    (GcRoomView          *self);

/* Whether the window shows this view now. Messages from others that arrive
 * while it does not count as unread (and as mentions when they name us);
 * showing it reads them. */
void           gc_room_view_set_active     (GcRoomView          *self,
                                            gboolean             active);
gboolean       gc_room_view_get_active     (GcRoomView          *self);
guint          gc_room_view_get_unread     (GcRoomView          *self);
guint          gc_room_view_get_mentions   (GcRoomView          *self);

/* A room hosted on this computer: @urls (nullable) are the addresses
 * others on the network can join at, shown above the messages. */
void           gc_room_view_set_host_urls  (GcRoomView          *self,
                                            const char * const  *urls);
gboolean       gc_room_view_get_hosted     (GcRoomView          *self);

/* Puts the keyboard in the compose box. */
void           gc_room_view_focus_compose  (GcRoomView          *self);

G_END_DECLS
