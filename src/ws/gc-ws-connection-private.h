/* gc-ws-connection-private.h: GcWsConnection's insides, shared by its files
 *
 * gc-ws-connection.c holds the object, its API, reading and the timers;
 * gc-ws-connection-closing.c the closing handshake (RFC 6455 §7) and
 * letting go of the transport; the write queue is a GcWsSendQueue.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-ws-connection.h"
#include "gc-ws-poller-private.h"
#include "gc-ws-send-queue.h"

G_BEGIN_DECLS

struct _GcWsConnection
{
  GObject                parent_instance;

  GcWsPollerEntry        entry;
  GcWsPoller            *poller;
  GIOStream             *stream;
  GPollableInputStream  *input;           /* borrowed from stream */
  GPollableOutputStream *output;          /* borrowed from stream */
  GSocket               *socket;          /* borrowed from the stream chain; NULL once closed */
  GSocket               *corked;          /* TCP_CORK until the first write */
  const GcWsConnectionHandlers *handlers; /* the owner's, or NULL */
  gpointer               handlers_data;
  GSocketAddress        *remote_address;  /* looked up on first use */
  GcWsParser            *parser;          /* NULL once closed */
  GBytes                *initial_data;    /* until the first read */
  char                  *protocol;
  char                  *close_reason;

  GcWsSendQueue          queue;
  gsize                  max_queued_bytes;
  guint64                max_message_size;

  gint64                 last_received;   /* monotonic µs of the last frame */
  gint64                 last_ping;
  gint64                 close_deadline;
  guint                  keepalive_interval_s;
  guint                  keepalive_timeout_s;
  guint                  close_timeout_ms;

  gushort                close_code;
  guint                  role : 1;
  guint                  state : 2;
  guint                  direct : 1;          /* reads come straight from the socket */
  guint                  has_tls : 1;
  guint                  close_sent : 1;
  guint                  close_received : 1;
  guint                  failed : 1;          /* we failed the connection (RFC 6455 §7.1.7) */
  guint                  write_shutdown : 1;
  guint                  in_feed : 1;
};

enum {
  PROP_0,
  PROP_STREAM,
  PROP_ROLE,
  PROP_INITIAL_DATA,
  PROP_PROTOCOL,
  PROP_POLLER,
  PROP_STATE,
  PROP_MAX_MESSAGE_SIZE,
  PROP_MAX_QUEUED_BYTES,
  PROP_KEEPALIVE_INTERVAL,
  PROP_KEEPALIVE_TIMEOUT,
  PROP_CLOSE_TIMEOUT,
  N_PROPS
};

enum {
  SIGNAL_MESSAGE,
  SIGNAL_PING,
  SIGNAL_PONG,
  SIGNAL_QUEUE_OVERFLOW,
  SIGNAL_ERROR,
  SIGNAL_CLOSING,
  SIGNAL_CLOSED,
  N_SIGNALS
};

extern GParamSpec *gc_ws_connection_properties[N_PROPS];
extern guint gc_ws_connection_signals[N_SIGNALS];

/* Each signal, then the owner's callback of the same name. */
static inline void
gc_ws_connection_emit_message (GcWsConnection *self,
                               GcWsOpcode      opcode,
                               GBytes         *payload)
{
  g_signal_emit (self, gc_ws_connection_signals[SIGNAL_MESSAGE], 0, (guint) opcode, payload);
  if (self->handlers != NULL && self->handlers->message != NULL)
    self->handlers->message (self, opcode, payload, self->handlers_data);
}

static inline void
gc_ws_connection_emit_error (GcWsConnection *self,
                             const GError   *error)
{
  g_signal_emit (self, gc_ws_connection_signals[SIGNAL_ERROR], 0, error);
  if (self->handlers != NULL && self->handlers->error != NULL)
    self->handlers->error (self, (GError *) error, self->handlers_data);
}

#define GC_WS_CONNECTION_EMIT_SIMPLE(name, NAME)                                      \
  static inline void                                                                 \
  gc_ws_connection_emit_##name (GcWsConnection *self)                                \
  {                                                                                  \
    g_signal_emit (self, gc_ws_connection_signals[SIGNAL_##NAME], 0);                \
    if (self->handlers != NULL && self->handlers->name != NULL)                      \
      self->handlers->name (self, self->handlers_data);                              \
  }

GC_WS_CONNECTION_EMIT_SIMPLE (queue_overflow, QUEUE_OVERFLOW)
GC_WS_CONNECTION_EMIT_SIMPLE (closing, CLOSING)
GC_WS_CONNECTION_EMIT_SIMPLE (closed, CLOSED)

/* gc-ws-connection-send.c */

/* Queues @frame (transfer full) for the end of the current dispatch. */
void     gc_ws_connection_queue_frame          (GcWsConnection *self,
                                                GBytes         *frame);
/* Queues @frame (transfer full) and enforces max-queued-bytes. */
void     gc_ws_connection_queue_frame_bounded  (GcWsConnection *self,
                                                GBytes         *frame);
/* Writes as much of the queue as the stream takes without blocking.
 * Returns %FALSE if the connection closed on a write error. */
gboolean gc_ws_connection_flush                (GcWsConnection *self);
/* @socket has TCP_CORK set (the 101 waits in it): cleared once the
 * connection has written (gc_ws_server_accept_corked()). */
void     gc_ws_connection_uncork_after_write   (GcWsConnection *self,
                                                GSocket        *socket);

/* gc-ws-connection-closing.c */

void     gc_ws_connection_set_state            (GcWsConnection *self,
                                                GcWsState       state);
void     gc_ws_connection_release_transport    (GcWsConnection *self,
                                                gboolean        abortive);
void     gc_ws_connection_close_transport      (GcWsConnection *self,
                                                gboolean        abortive);
void     gc_ws_connection_start_closing        (GcWsConnection *self,
                                                gushort         code,
                                                const char     *reason);
void     gc_ws_connection_maybe_finish_closing (GcWsConnection *self);
void     gc_ws_connection_handle_io_error      (GcWsConnection *self,
                                                const GError   *error);
void     gc_ws_connection_fail                 (GcWsConnection *self,
                                                const GError   *error);
void     gc_ws_connection_handle_eof           (GcWsConnection *self);
void     gc_ws_connection_handle_close_frame   (GcWsConnection *self,
                                                GBytes         *payload);

/* For tests: the peer's address (transfer none; %NULL if unknown). */
GSocketAddress *gc_ws_connection_get_remote_address (GcWsConnection *self);

G_END_DECLS
