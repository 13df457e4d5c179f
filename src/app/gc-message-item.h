/* gc-message-item.h: one line of the room view (a chat message or a system line)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "gc-app-enums.h"

G_BEGIN_DECLS

typedef enum {
  GC_MESSAGE_ITEM_TEXT,    /* a chat message */
  GC_MESSAGE_ITEM_EMOTE,   /* a /me message */
  GC_MESSAGE_ITEM_SYSTEM,  /* join, leave, rename, help and other notices */
} GcMessageItemKind;

typedef enum {
  GC_MESSAGE_ITEM_DELIVERED,  /* came from the server */
  GC_MESSAGE_ITEM_PENDING,    /* sent by us, echo not seen yet */
  GC_MESSAGE_ITEM_FAILED,     /* refused by the server or never sent */
  GC_MESSAGE_ITEM_QUEUED,     /* ours, waiting for the rate limit or the connection */
} GcMessageItemState;

#define GC_TYPE_MESSAGE_ITEM (gc_message_item_get_type ())
G_DECLARE_FINAL_TYPE (GcMessageItem, gc_message_item, GC, MESSAGE_ITEM, GObject)

/* A message from the server (@id > 0) or an own message before its echo
 * (@id 0, pending). @sender_id and @sender_name may be %NULL for system
 * lines. @ts is Unix milliseconds. */
GcMessageItem     *gc_message_item_new             (GcMessageItemKind  kind,
                                                    guint64            id,
                                                    gint64             ts,
                                                    const char        *sender_id,
                                                    const char        *sender_name,
                                                    const char        *text,
                                                    const char        *client_id,
                                                    gboolean           own);
GcMessageItem     *gc_message_item_new_system      (gint64             ts,
                                                    const char        *text);

GcMessageItemKind  gc_message_item_get_kind        (GcMessageItem     *self);
guint64            gc_message_item_get_id          (GcMessageItem     *self);
gint64             gc_message_item_get_ts          (GcMessageItem     *self);
const char        *gc_message_item_get_sender_id   (GcMessageItem     *self);
const char        *gc_message_item_get_sender_name (GcMessageItem     *self);
/* What the sender's colour derives from: the folded sender name, which
 * stays the same across reconnections (the sender id does not); %NULL
 * for system lines. */
const char        *gc_message_item_get_color_key   (GcMessageItem     *self);
const char        *gc_message_item_get_text        (GcMessageItem     *self);
const char        *gc_message_item_get_client_id   (GcMessageItem     *self);
gboolean           gc_message_item_get_own         (GcMessageItem     *self);
GcMessageItemState gc_message_item_get_state       (GcMessageItem     *self);
/* Whether the text mentions the name we had when it arrived. */
gboolean           gc_message_item_get_mention     (GcMessageItem     *self);
void               gc_message_item_set_mention     (GcMessageItem     *self,
                                                    gboolean           mention);
/* Why a failed message failed, in plain words; %NULL otherwise. */
const char        *gc_message_item_get_error       (GcMessageItem     *self);

/* The server's echo arrived: takes its id and time, state delivered. */
void               gc_message_item_set_delivered   (GcMessageItem     *self,
                                                    guint64            id,
                                                    gint64             ts);
void               gc_message_item_set_failed      (GcMessageItem     *self,
                                                    const char        *error);
/* Sent, the echo not seen yet (also a retry). */
void               gc_message_item_set_pending     (GcMessageItem     *self);
/* Waiting to be sent: the app paces its sends within the server's rate
 * limit, and sends nothing while disconnected. */
void               gc_message_item_set_queued      (GcMessageItem     *self);

G_END_DECLS
