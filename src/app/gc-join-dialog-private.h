/* gc-join-dialog-private.h: GcJoinDialog's parts, for the tests that drive it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-join-dialog.h"

G_BEGIN_DECLS

typedef struct {
  GtkEntry  *server_entry;
  GtkLabel  *server_hint;
  GtkEntry  *name_entry;
  GtkLabel  *name_hint;
  GtkEntry  *room_entry;
  GtkLabel  *room_hint;
  GtkButton *random_button;
  GtkButton *join_button;
  GtkButton *cancel_button;
  GtkWidget *status_box;
  GtkLabel  *status_label;
  GtkButton *suggestion_button;
  GtkCheckButton *host_check;
  GtkLabel  *intro_label;
} GcJoinDialogParts;

void gc_join_dialog_get_parts (GcJoinDialog      *self,
                               GcJoinDialogParts *parts);

G_END_DECLS
