/* gc-ws-connection.h: a WebSocket connection on a GIOStream
 *
 * Driven by the GLib main loop through a GcWsPoller: non-blocking reads,
 * a write queue that coalesces queued frames into writev() calls, a bound
 * on queued bytes, automatic pongs, optional keepalive, and the full
 * closing handshake. Frames come from gc-ws-frame.h; libsoup never sees one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-ws-frame.h"
#include "gc-ws-poller.h"

G_BEGIN_DECLS

typedef enum {
  GC_WS_STATE_OPEN,
  GC_WS_STATE_CLOSING,   /* a close frame was sent or received */
  GC_WS_STATE_CLOSED,    /* the TCP connection is gone */
} GcWsState;

#define GC_TYPE_WS_CONNECTION (gc_ws_connection_get_type ())
G_DECLARE_FINAL_TYPE (GcWsConnection, gc_ws_connection, GC, WS_CONNECTION, GObject)

/**
 * gc_ws_connection_new:
 * @stream: the upgraded stream (a GSocketConnection, a GTlsConnection over
 *   one, or a wrapper whose base stream is one); the connection owns it
 * @role: our role
 * @initial_data: (nullable): bytes that arrived after the handshake and were
 *   already read from @stream; they are parsed before anything else
 * @protocol: (nullable): the negotiated subprotocol
 * @poller: (nullable): the poller to use; %NULL for gc_ws_poller_get_default()
 *
 * The connection starts reading at once, in the poller's main context.
 *
 * Signals:
 * - "message" (GcWsOpcode opcode, GBytes *payload): a complete text or binary
 *   message. Text is valid UTF-8.
 * - "pong" (GBytes *payload), "ping" (GBytes *payload): informational; pongs
 *   to pings are sent automatically.
 * - "queue-overflow" (): queued bytes passed max-queued-bytes. A handler may
 *   close the connection (e.g. with 1008); if none does, the connection
 *   closes itself with 1008 and discards frames queued after that.
 * - "error" (GError *error): a protocol violation by the peer (the close code
 *   was sent; error code is that close code) or an I/O failure.
 * - "closing" (): the closing handshake started (either side).
 * - "closed" (): the TCP connection is closed; see get_close_code() and
 *   get_close_reason() for what the peer sent (1005/1006 if nothing).
 * Signals are emitted in the poller's main context.
 */
GcWsConnection *gc_ws_connection_new            (GIOStream       *stream,
                                                 GcWsRole         role,
                                                 GBytes          *initial_data,
                                                 const char      *protocol,
                                                 GcWsPoller      *poller);

GcWsState       gc_ws_connection_get_state      (GcWsConnection  *self);
const char     *gc_ws_connection_get_protocol   (GcWsConnection  *self);

/* Limits and timers (properties of the same names, dashed). */
void            gc_ws_connection_set_max_message_size (GcWsConnection *self,
                                                 guint64          bytes);
/* 0 = unbounded. */
void            gc_ws_connection_set_max_queued_bytes (GcWsConnection *self,
                                                 gsize            bytes);
gsize           gc_ws_connection_get_max_queued_bytes (GcWsConnection *self);
/* Ping after @interval_s seconds without a frame from the peer; treat the
 * peer as dead (close, "closed" with code 1006) after @timeout_s without
 * one. 0 turns each off. */
void            gc_ws_connection_set_keepalive  (GcWsConnection  *self,
                                                 guint            interval_s,
                                                 guint            timeout_s);
/* How long to wait for the peer's close after ours (default 5000 ms). */
void            gc_ws_connection_set_close_timeout (GcWsConnection *self,
                                                 guint            timeout_ms);

/* Sending. Text must be valid UTF-8, U+0000 allowed (checked with
 * g_return_if_fail and gc_ws_utf8_validate()); a @len of -1 means
 * NUL-terminated. */
void            gc_ws_connection_send_text      (GcWsConnection  *self,
                                                 const char      *text,
                                                 gssize           len);
void            gc_ws_connection_send_binary    (GcWsConnection  *self,
                                                 const guint8    *data,
                                                 gsize            len);
void            gc_ws_connection_send_ping      (GcWsConnection  *self,
                                                 const guint8    *data,
                                                 gsize            len);
/* Queues an already-encoded frame (from gc_ws_frame_encode() in this
 * connection's role) without copying: the server encodes a broadcast once
 * and queues the same GBytes to every member. Server role only, since
 * client frames need a fresh mask each. */
void            gc_ws_connection_send_frame     (GcWsConnection  *self,
                                                 GBytes          *frame);
/* Starts the closing handshake (@code 0: empty close body). The TCP
 * connection is closed once the peer answers or the close timeout runs out
 * (the server closes TCP first, as RFC 6455 §7.1.1 says). */
void            gc_ws_connection_close          (GcWsConnection  *self,
                                                 gushort          code,
                                                 const char      *reason);
/* Drops the TCP connection at once, without a closing handshake. */
void            gc_ws_connection_abort          (GcWsConnection  *self);

/* Callbacks of the connection's one owner, as the signals of the same
 * name (and called right after them); any may be %NULL. Setting them
 * costs next to nothing, where connecting five signal handlers was a
 * measurable part of a server's join. */
typedef struct {
  void (*message)        (GcWsConnection *connection,
                          GcWsOpcode      opcode,
                          GBytes         *payload,
                          gpointer        user_data);
  void (*error)          (GcWsConnection *connection,
                          GError         *error,
                          gpointer        user_data);
  void (*queue_overflow) (GcWsConnection *connection,
                          gpointer        user_data);
  void (*closing)        (GcWsConnection *connection,
                          gpointer        user_data);
  void (*closed)         (GcWsConnection *connection,
                          gpointer        user_data);
} GcWsConnectionHandlers;

/* @handlers (static storage, or %NULL to stop) and @user_data replace
 * the previous ones. */
void            gc_ws_connection_set_handlers   (GcWsConnection               *self,
                                                 const GcWsConnectionHandlers *handlers,
                                                 gpointer                      user_data);

gsize           gc_ws_connection_get_queued_bytes (GcWsConnection *self);
/* What the peer sent in its close frame; 1005 if it sent no code, 1006
 * if the connection ended without a close frame. */
gushort         gc_ws_connection_get_close_code (GcWsConnection  *self);
const char     *gc_ws_connection_get_close_reason (GcWsConnection *self);

G_END_DECLS
