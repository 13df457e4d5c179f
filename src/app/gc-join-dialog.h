/* gc-join-dialog.h: server, name and room, checked as you type
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GC_TYPE_JOIN_DIALOG (gc_join_dialog_get_type ())
G_DECLARE_FINAL_TYPE (GcJoinDialog, gc_join_dialog, GC, JOIN_DIALOG, GtkWindow)

/**
 * gc_join_dialog_new:
 * @parent: (nullable): the window the dialog belongs to
 *
 * The dialog joins by itself (starting the app's host first when the
 * room is to be hosted here); on success it emits "joined" with the
 * connected #GcChatSession and closes. Closing it otherwise joins nothing.
 */
GcJoinDialog *gc_join_dialog_new        (GtkWindow    *parent);

/* Fills the fields; %NULL or "" leaves the default (the server's usual
 * address, the account's name, an empty room). */
void          gc_join_dialog_set_values (GcJoinDialog *self,
                                         const char   *server,
                                         const char   *name,
                                         const char   *room);

/* Shows why a join failed, e.g. one started from the command line.
 * @suggestion: (nullable): a free name offered after `name_taken`. */
void          gc_join_dialog_show_error (GcJoinDialog *self,
                                         const GError *error,
                                         const char   *suggestion);

/* Hosting: the room is hosted on this computer (the server address is
 * not asked for). */
void          gc_join_dialog_set_hosting (GcJoinDialog *self,
                                          gboolean      hosting);
gboolean      gc_join_dialog_get_hosting (GcJoinDialog *self);

/* An invite link: the server and room are given, so only the name is
 * asked for. */
void          gc_join_dialog_set_invite (GcJoinDialog *self,
                                         const char   *server,
                                         const char   *room);

/* The user's name when none was ever given: the real name unless the
 * system does not know it, else the login name. */
char         *gc_join_dialog_default_name (void);

char         *gc_join_dialog_normalize_server (const char  *text,
                                               GError     **error);

G_END_DECLS
