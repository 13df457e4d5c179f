/* gc-handshake-watch-private.h: plain sockets waiting for their client
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-handshake-private.h"

G_BEGIN_DECLS

/* One GSource on @context for every plain socket that waits for its
 * client; %NULL where there is no epoll (callers then use a GSource per
 * socket). */
GSource  *gc_handshake_watch_new    (GMainContext *context);
/* Calls hs->io_func (and again while it returns G_SOURCE_CONTINUE) once
 * hs->socket is readable; %FALSE if it could not be watched. */
gboolean  gc_handshake_watch_arm    (GSource      *watch,
                                     GcHandshake  *hs);
/* Takes hs->socket out of @watch (armed or fired). */
void      gc_handshake_watch_disarm (GSource      *watch,
                                     GcHandshake  *hs);

G_END_DECLS
