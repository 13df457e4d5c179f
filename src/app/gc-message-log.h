/* gc-message-log.h: a room's lines as a list model: batching, trimming, dedupe, own messages in flight
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-message-item.h"

G_BEGIN_DECLS

/* The oldest lines go beyond this, so a long session stays bounded
 * (about 50 MB of lines; the list view only makes rows for what shows). */
#define GC_MESSAGE_LOG_MAX_LINES 100000

#define GC_TYPE_MESSAGE_LOG (gc_message_log_get_type ())
G_DECLARE_FINAL_TYPE (GcMessageLog, gc_message_log, GC, MESSAGE_LOG, GObject)

GcMessageLog  *gc_message_log_new             (void);

/* (element-type GcMessageItem): the lines, oldest first, at most
 * GC_MESSAGE_LOG_MAX_LINES. */
GListModel    *gc_message_log_get_model       (GcMessageLog  *self);

/* Adds @item before the next frame: lines that arrive between two frames
 * reach the model in one splice. */
void           gc_message_log_append          (GcMessageLog  *self,
                                               GcMessageItem *item);
void           gc_message_log_append_system   (GcMessageLog  *self,
                                               gint64         ts,
                                               const char    *text);
/* Puts the lines appended so far into the model now. */
void           gc_message_log_flush           (GcMessageLog  *self);

/* Whether a message with @id is new: ids only grow within a room, so
 * anything at or below the last one taken is a duplicate (a resumed
 * history overlapping what we have). Takes it when it is new. */
gboolean       gc_message_log_take_id         (GcMessageLog  *self,
                                               guint64        id);
guint64        gc_message_log_get_last_id     (GcMessageLog  *self);

/* Own messages in flight, by client id, until their echo: added to the
 * model at once. */
void           gc_message_log_add_outgoing    (GcMessageLog  *self,
                                               GcMessageItem *item);
/* (transfer none) (nullable) */
GcMessageItem *gc_message_log_lookup_outgoing (GcMessageLog  *self,
                                               const char    *client_id);
void           gc_message_log_remove_outgoing (GcMessageLog  *self,
                                               const char    *client_id);
/* (element-type GcMessageItem) (transfer container): the own messages
 * still in flight in @state, oldest first. */
GPtrArray     *gc_message_log_dup_outgoing    (GcMessageLog       *self,
                                               GcMessageItemState  state);

/* Forgets the batch and the messages in flight (the model stays). */
void           gc_message_log_clear           (GcMessageLog  *self);

G_END_DECLS
