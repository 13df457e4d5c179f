/* gc-join-private.h: one join, from its request to its member's connection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "gc-server.h"
#include "gc-ws-connection.h"

G_BEGIN_DECLS

/* Handles a /joinRoom request: refuses it (docs/protocol.md §3.6), or reserves
 * its member and starts the WebSocket upgrade, after which the member is
 * attached to its room (or what was reserved is given back). */
void gc_join_start (GcServer          *server,
                    SoupServerMessage *msg);

/* An upgraded join's common start: the server (a new reference), or NULL
 * when the server went away or @hs outlived its deadline (the connection
 * was aborted). @hs: the request's GcHandshake, nullable. */
GcServer *gc_join_take_upgraded    (GWeakRef          *server_ref,
                                    gpointer           hs,
                                    GcWsConnection    *connection);
/* Closes a connection whose member could not be attached (1001 while
 * shutting down, else 1011: join again). */
void      gc_join_close_unattached (GcServer          *server,
                                    GcWsConnection    *connection);

#ifdef HAVE_REDIS
/* --redis (gc-join-redis.c): a checked join, through the room's script;
 * @hs is the request's GcHandshake (nullable); takes @query's strings. */
void gc_join_start_redis (GcServer          *server,
                          SoupServerMessage *msg,
                          gpointer           hs,
                          GcJoinQuery       *query);
void gc_join_refuse      (GcServer          *server,
                          SoupServerMessage *msg,
                          gpointer           hs,
                          GcProtocolError    code,
                          const char        *message,
                          const char        *suggestion,
                          guint64            retry_after_ms,
                          const char        *room);
#endif

G_END_DECLS
