/* gc-room-member.h: one member of a room, as the members list shows it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define GC_TYPE_ROOM_MEMBER (gc_room_member_get_type ())
G_DECLARE_FINAL_TYPE (GcRoomMember, gc_room_member, GC, ROOM_MEMBER, GObject)

GcRoomMember *gc_room_member_new        (const char    *id,
                                         const char    *name,
                                         gboolean       own);

const char   *gc_room_member_get_id     (GcRoomMember  *self);
const char   *gc_room_member_get_name   (GcRoomMember  *self);
void          gc_room_member_set_name   (GcRoomMember  *self,
                                         const char    *name);
/* What the member's colour derives from: its folded name, which stays
 * the same across reconnections (its id does not). */
const char   *gc_room_member_get_color_key (GcRoomMember *self);
gboolean      gc_room_member_get_own    (GcRoomMember  *self);
gboolean      gc_room_member_get_typing (GcRoomMember  *self);
void          gc_room_member_set_typing (GcRoomMember  *self,
                                         gboolean       typing);

/* Orders members by name, ignoring case (a GCompareDataFunc). */
int           gc_room_member_compare    (gconstpointer  a,
                                         gconstpointer  b,
                                         gpointer       user_data);

G_END_DECLS
