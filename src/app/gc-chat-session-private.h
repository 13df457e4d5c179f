/* gc-chat-session-private.h: GcChatSession internals the tests reach for
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-chat-session.h"
#include "gc-ws-connection.h"

G_BEGIN_DECLS

/* The live connection, or %NULL (transfer none): tests abort it to
 * simulate a dropped link. */
GcWsConnection *gc_chat_session_get_connection (GcChatSession *self);

/* How many times in a row an attempt to get back has failed. */
guint           gc_chat_session_get_attempt    (GcChatSession *self);

/* Keepalive timing (default: ping after 10 s of silence, give up after
 * 25 s), for this and later connections; tests shorten it. */
void            gc_chat_session_set_keepalive  (GcChatSession *self,
                                                guint          interval_s,
                                                guint          timeout_s);

/* The network monitor that ends a reconnection wait when the network
 * comes back (default: GLib's); tests pass a fake. */
void            gc_chat_session_set_network_monitor (GcChatSession   *self,
                                                     GNetworkMonitor *monitor);

/* Whether own sends are paced within the announced rate limit (default)
 * or go out at once, as an older client's did: tests of the server's
 * refusals turn it off. */
void            gc_chat_session_set_pacing     (GcChatSession *self,
                                                gboolean       pacing);

/* Handles @json as if the server had just sent it (the session must be
 * in the room): tests feed large rooms without a server's rate limit. */
void            gc_chat_session_feed_event     (GcChatSession *self,
                                                const char    *json);

G_END_DECLS
