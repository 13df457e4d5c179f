/* gc-room.h: one chat room of a GcServer
 *
 * A room is created by the first join and disposed when its last member
 * is gone (a member waiting for a resume still counts). Its server holds
 * the only strong reference. It owns its members, their connections'
 * request handling, the history ring and the encode-once broadcast.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define GC_TYPE_ROOM (gc_room_get_type ())
G_DECLARE_FINAL_TYPE (GcRoom, gc_room, GC, ROOM, GObject)

/* The canonical (lower case) room code. */
const char *gc_room_get_code        (GcRoom *self);
/* Members, those waiting for a resume and those still joining included. */
guint       gc_room_get_n_members   (GcRoom *self);
/* Chat messages currently retained for `welcome.history`. */
guint       gc_room_get_n_history   (GcRoom *self);

G_END_DECLS
