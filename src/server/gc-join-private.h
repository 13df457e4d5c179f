/* gc-join-private.h: one join, from its request to its member's connection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "gc-server.h"

G_BEGIN_DECLS

/* Handles a /joinRoom request: refuses it (docs/protocol.md §3.6), or reserves
 * its member and starts the WebSocket upgrade, after which the member is
 * attached to its room (or what was reserved is given back). */
void gc_join_start (GcServer          *server,
                    SoupServerMessage *msg);

G_END_DECLS
