/* gc-outbox.h: what a session sends to its room, paced within the announced limits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "gc-message-log.h"
#include "gc-protocol.h"
#include "gc-session-link.h"

G_BEGIN_DECLS

#define GC_TYPE_OUTBOX (gc_outbox_get_type ())
G_DECLARE_FINAL_TYPE (GcOutbox, gc_outbox, GC, OUTBOX, GObject)

/* Sends through @link; own messages live in @log. */
GcOutbox *gc_outbox_new           (GcSessionLink      *link,
                                   GcMessageLog       *log);

/* The welcome's limits (§4.2). @fresh: the server's bucket is full (a new
 * member rather than a resumed one). */
void      gc_outbox_set_limits    (GcOutbox           *self,
                                   const GcLimits     *limits,
                                   gboolean            fresh);
/* Whether sends are paced (default) or go out at once, as before (tests
 * of the server's refusals). */
void      gc_outbox_set_pacing    (GcOutbox           *self,
                                   gboolean            pacing);

/* Adds @item (own, with a client id) to the log and sends it as soon as
 * the rate limit allows: PENDING at once, or QUEUED until then. Nothing
 * is refused; a disconnected session sends on its return. */
void      gc_outbox_send_message  (GcOutbox           *self,
                                   GcMessageItem      *item);
/* Sends a FAILED own message again, after the queued ones. */
void      gc_outbox_retry         (GcOutbox           *self,
                                   GcMessageItem      *item);
/* Sends another request now (a rename), counting it against the limit. */
void      gc_outbox_send_request  (GcOutbox           *self,
                                   const char         *json);

/* Typing notices: refreshed every few seconds while @typing, stopped after
 * a while without a call; they wait for nothing (one that finds no token,
 * or messages waiting, is skipped). */
void      gc_outbox_set_typing    (GcOutbox           *self,
                                   gboolean            typing);

/* In the room again: own messages whose echo never came are sent again,
 * before the queued ones. */
void      gc_outbox_connected     (GcOutbox           *self);
/* Out of the room: the queue waits; typing is over. */
void      gc_outbox_disconnected  (GcOutbox           *self);

/* How many own messages wait for the rate limit or the connection. */
guint     gc_outbox_get_n_queued  (GcOutbox           *self);

G_END_DECLS
