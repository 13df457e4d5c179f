/* gc-composer.h: a room's compose box: text, Send, byte counter, name completion, commands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "gc-chat-session.h"

G_BEGIN_DECLS

#define GC_TYPE_COMPOSER (gc_composer_get_type ())
G_DECLARE_FINAL_TYPE (GcComposer, gc_composer, GC, COMPOSER, GtkWidget)

/* The composer writes to @session's room. Its Send button and Enter use
 * the `room.send` action of the view it sits in, which follows
 * #GcComposer:can-send and calls gc_composer_send(). */
void           gc_composer_set_session   (GcComposer    *self,
                                          GcChatSession *session);
gboolean       gc_composer_get_can_send  (GcComposer    *self);

/* Sends the text or runs the command typed (/me, /nick, /join, /leave,
 * /help). Returns FALSE when there was nothing to do or the room is being
 * left, so the caller must not touch the view any more; TRUE otherwise. */
gboolean       gc_composer_send          (GcComposer    *self);

/* Puts the keyboard in the text. */
void           gc_composer_focus         (GcComposer    *self);

G_END_DECLS
