/* gc-ws-poller.h: one main-loop source for many connections
 *
 * GLib's poll() walks every attached source and fd on each iteration, so a
 * GSource per connection makes every wake-up cost O(all connections). A
 * poller is ONE GSource per GMainContext: on Linux it watches a single epoll
 * fd and dispatches only the connections that are ready; it also drives the
 * connections' timers (keepalive, dead peer, closing handshake) from one
 * coarse tick instead of a GSource each. Elsewhere it falls back to a
 * pollable source per connection.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define GC_TYPE_WS_POLLER (gc_ws_poller_get_type ())
G_DECLARE_FINAL_TYPE (GcWsPoller, gc_ws_poller, GC, WS_POLLER, GObject)

/* A poller attached to @context (%NULL: the global default context). */
GcWsPoller   *gc_ws_poller_new               (GMainContext *context);
/* The poller of the thread-default main context, created on first use;
 * transfer none (it lives as long as the context). */
GcWsPoller   *gc_ws_poller_get_default       (void);
GMainContext *gc_ws_poller_get_context       (GcWsPoller   *self);

G_END_DECLS
