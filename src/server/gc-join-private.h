/* gc-join-private.h: one join, from its request to its member's connection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "gc-admission-private.h"
#include "gc-server.h"
#include "gc-ws-connection.h"

G_BEGIN_DECLS

/* A join request, as libsoup's handler and the direct path
 * (gc_join_start_direct()) both describe it; borrowed pointers. */
typedef struct {
  SoupServerMessage  *msg;       /* libsoup's; %NULL on the direct path */
  GcHandshake        *hs;        /* nullable */
  SoupMessageHeaders *headers;   /* the request's */
  const char         *query;     /* nullable; still form-encoded */
  const char         *address;   /* the printable peer address */
  /* The direct path only: */
  GIOStream          *stream;    /* the request head was read from it */
  const char         *protocol;  /* the subprotocol chosen, or %NULL */
  GBytes             *rest;      /* what came after the head, or %NULL */
  GcJoinQuery        *parsed;    /* @query parsed already, or %NULL */
  const GError       *parse_error; /* with @parsed: why @query is refused, or %NULL */
} GcJoinRequest;

/* Handles a /joinRoom request: refuses it (docs/protocol.md §3.6), or reserves
 * its member and starts the WebSocket upgrade, after which the member is
 * attached to its room (or what was reserved is given back). */
void gc_join_start (GcServer          *server,
                    SoupServerMessage *msg);

/* The direct path: @hs's request head came complete as the first
 * @head_len bytes of @data (@len of them read from @stream, the rest a
 * first frame, maybe) and passed gc_request_head_check(). If it is a
 * join that libsoup would answer with a 101 (a GET of the join path in
 * HTTP/1.1 with a valid upgrade: RFC 6455 §4.2.1) and that could only be
 * refused in-band, it is handled as libsoup's handler would, with our
 * own 101, and %TRUE is returned; otherwise nothing was done, and the
 * request goes to libsoup (every HTTP answer is libsoup's). */
gboolean  gc_join_start_direct     (GcServer          *server,
                                    GcHandshake       *hs,
                                    GIOStream         *stream,
                                    const char        *data,
                                    gsize              head_len,
                                    gsize              len);

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
