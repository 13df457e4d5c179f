/* gc-http-private.h: the server's HTTP side short of the upgrade
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "gc-protocol.h"
#include "gc-server.h"

G_BEGIN_DECLS

/* The printable client address of @msg. */
const char *gc_http_get_address        (SoupServerMessage *msg);
/* Answers @msg with @status and @body, on a connection that closes. */
void        gc_http_respond            (SoupServerMessage *msg,
                                        guint              status,
                                        const char        *content_type,
                                        const char        *body,
                                        gsize              len);
/* Refuses @msg (docs/protocol.md §3.6): status, JSON body, headers; counted
 * and logged. @suggestion and @room may be %NULL. */
void        gc_http_refuse             (GcServer          *server,
                                        SoupServerMessage *msg,
                                        GcProtocolError    code,
                                        const char        *message,
                                        const char        *suggestion,
                                        guint64            retry_after_ms,
                                        const char        *room);
/* @error is in the GC_PROTOCOL_ERROR domain. */
void        gc_http_refuse_gerror      (GcServer          *server,
                                        SoupServerMessage *msg,
                                        const GError      *error,
                                        const char        *room);
/* libsoup's early handler (@user_data is the server): runs once the
 * headers are in, before any body is read. */
void        gc_http_on_request_headers (SoupServer        *soup,
                                        SoupServerMessage *msg,
                                        const char        *path,
                                        GHashTable        *query,
                                        gpointer           user_data);
/* Any request but a join: /healthz, /metrics. */
void        gc_http_handle_request     (GcServer          *server,
                                        SoupServerMessage *msg,
                                        const char        *path);

G_END_DECLS
