/* gc-member-roster.h: a room's members as a sorted list model, and who is typing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-protocol.h"
#include "gc-room-member.h"

G_BEGIN_DECLS

/* Others expire a typing notice after this long without a refresh. */
#define GC_MEMBER_ROSTER_TYPING_EXPIRY_MS 6000

#define GC_TYPE_MEMBER_ROSTER (gc_member_roster_get_type ())
G_DECLARE_FINAL_TYPE (GcMemberRoster, gc_member_roster, GC, MEMBER_ROSTER, GObject)

GcMemberRoster *gc_member_roster_new          (void);

/* (element-type GcRoomMember): the members, sorted by name. */
GListModel     *gc_member_roster_get_model    (GcMemberRoster *self);
/* (transfer none) (nullable) */
GcRoomMember   *gc_member_roster_lookup       (GcMemberRoster *self,
                                               const char     *user_id);
/* Adds @user unless a member has its id; returns whether it did. */
gboolean        gc_member_roster_add          (GcMemberRoster *self,
                                               const GcUser   *user,
                                               gboolean        own);
/* Removes the member (and its typing); returns whether there was one. */
gboolean        gc_member_roster_remove       (GcMemberRoster *self,
                                               const char     *user_id);
/* Gives the member with @user's id @user's name (and its sorted place). */
void            gc_member_roster_rename       (GcMemberRoster *self,
                                               const GcUser   *user);
/**
 * gc_member_roster_replace:
 * @users: (element-type GcUser): the members a welcome lists
 * @own_id: our USER_ID in it
 * @joined: (element-type utf8) (nullable): where to add the names of
 *   the others who were not members before (compared by folded name:
 *   ids change when the server restarted)
 * @left: (element-type utf8) (nullable): where to add the names of the
 *   others who no longer are
 */
void            gc_member_roster_replace      (GcMemberRoster *self,
                                               GPtrArray      *users,
                                               const char     *own_id,
                                               GPtrArray      *joined,
                                               GPtrArray      *left);

/* Typing: a member's notice lasts GC_MEMBER_ROSTER_TYPING_EXPIRY_MS
 * unless refreshed. Each change emits ::typing-changed. */
void            gc_member_roster_set_typing   (GcMemberRoster *self,
                                               const char     *user_id,
                                               gboolean        active);
gboolean        gc_member_roster_is_typing    (GcMemberRoster *self,
                                               const char     *user_id);
void            gc_member_roster_clear_typing (GcMemberRoster *self);
/* The names of the members typing now, sorted (transfer full). */
GStrv           gc_member_roster_dup_typing_names (GcMemberRoster *self);

G_END_DECLS
