/* gc-ws-handshake.h: the HTTP upgrade, both roles
 *
 * Server role: libsoup's SoupServer parses the request and its handshake
 * helpers validate it and write the 101; we then steal the raw stream and
 * wrap it in a GcWsConnection. Client role: GSocketClient (TLS for wss://),
 * a hand-written upgrade request, Sec-WebSocket-Accept checked, and any
 * bytes that arrived right after the 101 handed to the frame parser.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "gc-ws-connection.h"

G_BEGIN_DECLS

#define GC_WS_HANDSHAKE_ERROR (gc_ws_handshake_error_quark ())
GQuark gc_ws_handshake_error_quark (void);

typedef enum {
  GC_WS_HANDSHAKE_ERROR_BAD_URL,
  GC_WS_HANDSHAKE_ERROR_REFUSED,        /* the server answered, not with 101 */
  GC_WS_HANDSHAKE_ERROR_BAD_RESPONSE,   /* malformed or unverifiable 101 */
  GC_WS_HANDSHAKE_ERROR_TOO_LARGE,      /* response headers too large */
} GcWsHandshakeError;

/* Server role. */

typedef void (*GcWsAcceptFunc) (GcWsConnection *connection,
                                gpointer        user_data);

/**
 * gc_ws_server_accept:
 * @msg: a message in a SoupServer handler
 * @origin: (nullable): required Origin, or %NULL for any
 * @protocols: (nullable): subprotocols we support
 * @poller: (nullable): poller for the new connection
 * @func: called once the 101 has been written, with the new connection
 *   (transfer full), in the server's main context
 *
 * Validates the upgrade with soup_websocket_server_process_handshake()
 * (no extensions). On failure libsoup has already set the refusal status
 * (400/403) and %FALSE is returned with @error set, in SOUP_WEBSOCKET_ERROR:
 * NOT_WEBSOCKET (no upgrade headers: a caller may answer 426 instead),
 * BAD_HANDSHAKE (an unsupported Sec-WebSocket-Version also gets the
 * response header "Sec-WebSocket-Version: 13") or BAD_ORIGIN (403).
 * @destroy runs exactly once: after @func, or when the message ends
 * without the 101 being written (@func is then never called). The caller
 * must not touch @msg after @func runs; read the peer address and query
 * first.
 */
gboolean gc_ws_server_accept (SoupServerMessage  *msg,
                              const char         *origin,
                              const char * const *protocols,
                              GcWsPoller         *poller,
                              GcWsAcceptFunc      func,
                              gpointer            user_data,
                              GDestroyNotify      destroy,
                              GError            **error);

/* gc_ws_server_accept() for a caller that sends a first message as soon
 * as it has the connection (a welcome), given the connection's TCP
 * socket as @cork: the 101 is held back (TCP_CORK) until that message is
 * written, so that both leave in one segment. On loopback a send costs
 * the sender the receiver's TCP work too: one fewer per connection.
 * Without a first message the 101 would wait for the kernel's 200 ms
 * limit. @cork may be %NULL (then this is gc_ws_server_accept()). */
gboolean gc_ws_server_accept_corked (SoupServerMessage  *msg,
                                     const char         *origin,
                                     const char * const *protocols,
                                     GcWsPoller         *poller,
                                     GSocket            *cork,
                                     GcWsAcceptFunc      func,
                                     gpointer            user_data,
                                     GDestroyNotify      destroy,
                                     GError            **error);

/* Server role without libsoup's message, for a caller that read the
 * request head itself and parsed it with soup_headers_parse_request()
 * (a GET in HTTP/1.1). */

/* The value of header @name in @headers (%NULL if absent); %FALSE if it
 * appears more than once (libsoup would pick one of them: such a request
 * is left to it). */
gboolean        gc_ws_headers_get_single   (SoupMessageHeaders  *headers,
                                            const char          *name,
                                            const char         **out_value);

/* Whether @request_headers make an upgrade that libsoup's own check
 * accepts (RFC 6455 §4.2.1: Upgrade, Connection, version 13, a key of 16
 * bytes, a subprotocol of @protocols if any is offered), with none of
 * those headers given twice (libsoup's answer is then its own to give:
 * leave it to it). Extension offers are ignored, as libsoup ignores them
 * when it supports none.
 * @out_protocol: the subprotocol chosen, libsoup's way (static, from
 * @protocols), or %NULL. */
gboolean        gc_ws_server_check_request (SoupMessageHeaders  *request_headers,
                                            const char * const  *protocols,
                                            const char         **out_protocol);

/* The connection for a request that passed gc_ws_server_check_request(),
 * read from @stream: its 101 (the header lines libsoup sends for it, no
 * Date; then @extra_headers, name and value pairs, %NULL-terminated) is
 * queued as its first bytes, so that it leaves with the first message in
 * one writev, at the end of the current dispatch. @initial_data: what
 * the client sent after its request head (a first frame), parsed first. */
GcWsConnection *gc_ws_server_upgrade       (GIOStream           *stream,
                                            SoupMessageHeaders  *request_headers,
                                            const char          *protocol,
                                            const char * const  *extra_headers,
                                            GBytes              *initial_data,
                                            GcWsPoller          *poller);

/* Client role. */


/**
 * gc_ws_connect_async:
 * @url: ws:// or wss:// URL (path and query are sent as given)
 * @origin: (nullable): Origin header
 * @protocols: (nullable): subprotocols to offer
 * @tls_database: (nullable): trust store for wss://; %NULL = system trust
 * @poller: (nullable): poller for the new connection
 *
 * Bytes the server sent right behind its 101 reach the connection. Errors:
 * GC_WS_HANDSHAKE_ERROR, or G_IO_ERROR / G_TLS_ERROR from the network
 * (G_IO_ERROR_TIMED_OUT when the server is silent for 30 s during the
 * handshake; G_IO_ERROR_CANCELLED).
 */
void            gc_ws_connect_async  (const char          *url,
                                      const char          *origin,
                                      const char * const  *protocols,
                                      GTlsDatabase        *tls_database,
                                      GcWsPoller          *poller,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
/* Any status but 101 fails the handshake as soon as the status line and
 * headers are in, with GC_WS_HANDSHAKE_ERROR_REFUSED ("Server refused the
 * connection: STATUS REASON"), and the socket is closed. @http_status and
 * @http_body (both optional) then receive the server's status and what
 * the client kept of its body (at most 64 KiB), so the caller can show
 * e.g. a JSON error: a body with a Content-Length or chunked is read to
 * its end (given two seconds more at most), one that runs until the
 * server closes is what had already arrived. */
GcWsConnection *gc_ws_connect_finish (GAsyncResult        *result,
                                      guint               *http_status,
                                      GBytes             **http_body,
                                      GError             **error);

G_END_DECLS
