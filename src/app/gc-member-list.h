/* gc-member-list.h: the members of the room, beside the messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GC_TYPE_MEMBER_LIST (gc_member_list_get_type ())
G_DECLARE_FINAL_TYPE (GcMemberList, gc_member_list, GC, MEMBER_LIST, GtkWidget)

GtkWidget  *gc_member_list_new       (void);
/* @model: (element-type GcMember) (nullable): the members, in order. */
void        gc_member_list_set_model (GcMemberList *self,
                                      GListModel   *model);
GListModel *gc_member_list_get_model (GcMemberList *self);

G_END_DECLS
