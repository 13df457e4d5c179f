/* gc-bench-connection.h: one load-generating WebSocket client connection
 *
 * Plain ws:// connections are non-blocking sockets of our own: connect(),
 * the upgrade request, then masked frames written with send() and server
 * frames read with recv() into the loop's shared buffer and parsed by
 * GcWsParser. wss:// connections are made by GSocketClient (TCP and the
 * TLS handshake, in the main context) and then driven the same way
 * through GIO's non-blocking pollable streams.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-bench-loop.h"
#include "gc-bench-target.h"

G_BEGIN_DECLS

#define GC_BENCH_ERROR (gc_bench_error_quark ())
GQuark gc_bench_error_quark (void);

typedef enum {
  GC_BENCH_ERROR_FAILED,
  GC_BENCH_ERROR_BAD_URL,
  GC_BENCH_ERROR_REFUSED,        /* the server answered the upgrade, not with 101 */
  GC_BENCH_ERROR_BAD_RESPONSE,   /* not a WebSocket server, or it broke RFC 6455 */
  GC_BENCH_ERROR_CLOSED,         /* the server ended the connection */
  GC_BENCH_ERROR_TIMED_OUT,
  GC_BENCH_ERROR_LIMIT,          /* a limit of this machine or of the bench */
} GcBenchError;

typedef struct _GcBenchConnection GcBenchConnection;

/**
 * GcBenchConnectionCallbacks:
 * @opened: the server accepted the upgrade (101); frames may follow at
 *   once
 * @message: a complete text message; @text is borrowed (not
 *   NUL-terminated), @received_ns the monotonic time of the read that
 *   completed it
 * @failed: the connection is over and its socket closed, before or after
 *   @opened: a refusal (%GC_BENCH_ERROR_REFUSED, see
 *   gc_bench_connection_get_http_status()), the server's close frame or
 *   end of stream (%GC_BENCH_ERROR_CLOSED), a network error. Nothing is
 *   called after it.
 *
 * No callback may free the connection.
 */
typedef struct {
  void (*opened)  (GcBenchConnection *connection,
                   gpointer           user_data);
  void (*message) (GcBenchConnection *connection,
                   const char        *text,
                   gsize              len,
                   gint64             received_ns,
                   gpointer           user_data);
  void (*failed)  (GcBenchConnection *connection,
                   const GError      *error,
                   gpointer           user_data);
} GcBenchConnectionCallbacks;

/* @path_and_query is appended to the target's base path; @subprotocol
 * (nullable) is offered in Sec-WebSocket-Protocol. */
GcBenchConnection *gc_bench_connection_new   (GcBenchLoop                      *loop,
                                              const GcBenchTarget              *target,
                                              const char                       *path_and_query,
                                              const char                       *subprotocol,
                                              const GcBenchConnectionCallbacks *callbacks,
                                              gpointer                          user_data);
/* Frees it; closes the socket abortively if still open (no callback). */
void               gc_bench_connection_free  (GcBenchConnection                *self);

/* Starts connecting. Fails at once for errors of this machine (out of
 * file descriptors or local ports); everything later goes to @failed. */
gboolean           gc_bench_connection_start (GcBenchConnection                *self,
                                              GError                          **error);

gboolean           gc_bench_connection_is_open (GcBenchConnection              *self);
/* Sends one text message (masked, as a client must). Write errors end
 * the connection through @failed, at once or, inside @message, once the
 * handler returns. */
void               gc_bench_connection_send_text (GcBenchConnection            *self,
                                              const char                       *text,
                                              gsize                             len);
/* Sends a close frame (1000) if open, best effort, and closes the socket;
 * no callback follows. */
void               gc_bench_connection_close (GcBenchConnection                *self);
/* The status of the server's refusal, or 0. */
guint              gc_bench_connection_get_http_status (GcBenchConnection      *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBenchConnection, gc_bench_connection_free)

G_END_DECLS
