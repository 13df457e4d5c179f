/* gc-ws-connection.c: a WebSocket connection on a GIOStream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gnetworking.h>

#include "gc-ws-connection-private.h"

#define DEFAULT_MAX_MESSAGE_SIZE (16 * 1024 * 1024)
#define DEFAULT_MAX_QUEUED_BYTES (16 * 1024 * 1024)
#define DEFAULT_CLOSE_TIMEOUT_MS 5000

GParamSpec *gc_ws_connection_properties[N_PROPS];
guint gc_ws_connection_signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (GcWsConnection, gc_ws_connection, G_TYPE_OBJECT)


/* Follows "base-io-stream" (GTlsConnection) and "base-iostream" (libsoup's
 * stolen SoupIOStream) down to the GSocketConnection. The returned socket
 * is borrowed: @stream holds the chain. */
static GSocket *
find_socket (GIOStream *stream,
             gboolean  *has_tls)
{
  static const char * const base_properties[] = { "base-io-stream", "base-iostream" };
  GIOStream *base = stream;

  *has_tls = FALSE;
  while (base != NULL)
    {
      GObjectClass *klass = G_OBJECT_GET_CLASS (base);
      GParamSpec *pspec = NULL;
      GIOStream *next = NULL;

      /* GSocketClient hands out wss:// connections as a GTcpWrapperConnection
       * around the TLS stream: a socket connection, but not the bottom. */
      if (G_IS_SOCKET_CONNECTION (base) && !G_IS_TCP_WRAPPER_CONNECTION (base))
        return g_socket_connection_get_socket (G_SOCKET_CONNECTION (base));
      if (G_IS_TLS_CONNECTION (base))
        *has_tls = TRUE;

      for (guint i = 0; pspec == NULL && i < G_N_ELEMENTS (base_properties); i++)
        {
          pspec = g_object_class_find_property (klass, base_properties[i]);
          if (pspec != NULL &&
              (!(pspec->flags & G_PARAM_READABLE) ||
               !g_type_is_a (pspec->value_type, G_TYPE_IO_STREAM)))
            pspec = NULL;
        }
      if (pspec == NULL)
        return NULL;

      g_object_get (base, pspec->name, &next, NULL);
      if (next == NULL || next == base)
        {
          g_clear_object (&next);
          return NULL;
        }
      base = next;
      g_object_unref (next);
    }

  return NULL;
}

/* Reading */

static gboolean
on_frame (GcWsOpcode  opcode,
          GBytes     *payload,
          gpointer    user_data)
{
  GcWsConnection *self = user_data;

  self->last_received = gc_ws_poller_get_time (self->poller);

  switch (opcode)
    {
    case GC_WS_OPCODE_TEXT:
    case GC_WS_OPCODE_BINARY:
      /* Once we have said goodbye the owner wants no more messages. */
      if (self->state == GC_WS_STATE_OPEN)
        gc_ws_connection_emit_message (self, opcode, payload);
      break;

    case GC_WS_OPCODE_PING:
      if (self->state == GC_WS_STATE_OPEN)
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (payload, &len);

          gc_ws_connection_queue_frame_bounded (self, gc_ws_frame_encode (self->role, GC_WS_OPCODE_PONG, TRUE, data, len));
        }
      g_signal_emit (self, gc_ws_connection_signals[SIGNAL_PING], 0, payload);
      break;

    case GC_WS_OPCODE_PONG:
      g_signal_emit (self, gc_ws_connection_signals[SIGNAL_PONG], 0, payload);
      break;

    case GC_WS_OPCODE_CLOSE:
      gc_ws_connection_handle_close_frame (self, payload);
      /* Nothing may follow a close frame. */
      return FALSE;

    case GC_WS_OPCODE_CONTINUATION:
    default:
      g_assert_not_reached ();
    }

  /* Stop if a handler closed us. */
  return self->state != GC_WS_STATE_CLOSED && !self->failed;
}

static void
process_incoming (GcWsConnection *self,
                  const guint8   *data,
                  gsize           len)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  /* After the peer's close, or once we failed the connection, bytes are
   * only drained until the peer closes TCP. */
  if (self->close_received || self->failed || self->parser == NULL)
    return;

  self->in_feed = TRUE;
  ok = gc_ws_parser_feed (self->parser, data, len, on_frame, self, &error);
  self->in_feed = FALSE;

  if (self->state == GC_WS_STATE_CLOSED)
    g_clear_pointer (&self->parser, gc_ws_parser_free);
  else if (!ok)
    gc_ws_connection_fail (self, error);
}

void
gc_ws_connection_handle_readable (GcWsConnection *self)
{
  guint8 *buffer;
  gsize total = 0;

  if (self->state == GC_WS_STATE_CLOSED)
    return;

  buffer = gc_ws_poller_acquire_read_buffer (self->poller);
  if (buffer == NULL)
    {
      gc_ws_poller_set_pending (self->poller, &self->entry);
      return;
    }

  if (self->initial_data != NULL)
    {
      g_autoptr(GBytes) initial_data = g_steal_pointer (&self->initial_data);
      gsize len;
      const guint8 *data = g_bytes_get_data (initial_data, &len);

      process_incoming (self, data, len);
    }

  while (self->state != GC_WS_STATE_CLOSED && total < GC_WS_POLLER_READ_BUDGET)
    {
      g_autoptr(GError) error = NULL;
      gssize n;

      n = g_pollable_input_stream_read_nonblocking (self->input, buffer,
                                                    GC_WS_POLLER_READ_BUDGET,
                                                    NULL, &error);
      if (n > 0)
        {
          total += n;
          process_incoming (self, buffer, n);
          /* A short read from the socket itself drained the kernel buffer;
           * wrappers (TLS, libsoup's) may hold more, so read them until
           * they would block. */
          if (self->direct && n < GC_WS_POLLER_READ_BUDGET)
            break;
        }
      else if (n == 0)
        {
          gc_ws_connection_handle_eof (self);
          break;
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          /* A plain wrapper (libsoup's stolen stream) that would block has
           * no read-ahead left and from now on passes reads straight to
           * the socket, so its short reads too mean the kernel buffer is
           * empty: this saves a read that would block, and its GError,
           * on every later wake-up. */
          if (!self->has_tls && self->socket != NULL)
            self->direct = TRUE;
          break;
        }
      else if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_EOF))
        {
          /* The peer closed TCP without close_notify, as browsers may; the
           * WebSocket layer tells a clean end from an abnormal one. */
          gc_ws_connection_handle_eof (self);
          break;
        }
      else
        {
          gc_ws_connection_handle_io_error (self, error);
          break;
        }
    }

  gc_ws_poller_release_read_buffer (self->poller);

  /* Budget spent: a socket stays readable (epoll is level-triggered), but
   * bytes inside a wrapper are invisible to poll, so come back for them. */
  if (total >= GC_WS_POLLER_READ_BUDGET && !self->direct)
    gc_ws_poller_set_pending (self->poller, &self->entry);
}

/* Timers */

gint64
gc_ws_connection_get_deadline (GcWsConnection *self)
{
  gint64 deadline = G_MAXINT64;

  if (self->state == GC_WS_STATE_CLOSING)
    return self->close_deadline;
  if (self->state != GC_WS_STATE_OPEN)
    return G_MAXINT64;

  if (self->keepalive_timeout_s > 0)
    deadline = self->last_received + (gint64) self->keepalive_timeout_s * G_TIME_SPAN_SECOND;
  if (self->keepalive_interval_s > 0)
    deadline = MIN (deadline,
                    MAX (self->last_received, self->last_ping) +
                    (gint64) self->keepalive_interval_s * G_TIME_SPAN_SECOND);

  return deadline;
}

/* The peer looks silent for longer than the timeout, but this process
 * may have been the silent one: after a stall (SIGSTOP, a blocked main
 * loop, a suspended machine) its frames wait in the socket while the
 * clock says nothing came. Read them before calling the peer dead
 * (issue 14.6). Bounded: a peer that never completes a frame still
 * times out. */
static void
read_before_judging (GcWsConnection *self,
                     gint64          now)
{
  g_object_ref (self);
  for (guint i = 0;
       i < 16 && self->state == GC_WS_STATE_OPEN && self->input != NULL &&
       now >= self->last_received + (gint64) self->keepalive_timeout_s * G_TIME_SPAN_SECOND &&
       g_pollable_input_stream_is_readable (self->input);
       i++)
    gc_ws_connection_handle_readable (self);
  g_object_unref (self);
}

void
gc_ws_connection_handle_timers (GcWsConnection *self,
                                gint64          now)
{
  if (self->state == GC_WS_STATE_CLOSING)
    {
      if (now >= self->close_deadline)
        gc_ws_connection_close_transport (self, FALSE);
      return;
    }
  if (self->state != GC_WS_STATE_OPEN)
    return;

  if (self->keepalive_timeout_s > 0 &&
      now >= self->last_received + (gint64) self->keepalive_timeout_s * G_TIME_SPAN_SECOND)
    read_before_judging (self, now);
  if (self->state != GC_WS_STATE_OPEN)
    return;

  if (self->keepalive_timeout_s > 0 &&
      now >= self->last_received + (gint64) self->keepalive_timeout_s * G_TIME_SPAN_SECOND)
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                             "No frame from the peer for %u s",
                                             self->keepalive_timeout_s);

      g_object_ref (self);
      gc_ws_connection_emit_error (self, error);
      gc_ws_connection_close_transport (self, TRUE);
      g_object_unref (self);
      return;
    }

  if (self->keepalive_interval_s > 0 &&
      now >= MAX (self->last_received, self->last_ping) +
             (gint64) self->keepalive_interval_s * G_TIME_SPAN_SECOND)
    {
      self->last_ping = now;
      gc_ws_connection_queue_frame_bounded (self, gc_ws_frame_encode (self->role, GC_WS_OPCODE_PING, TRUE, NULL, 0));
    }
}

/* GObject */

/* What gc_ws_connection_new() does once the fields are set. */
static void
connection_setup (GcWsConnection *self)
{
  GInputStream *input;
  GOutputStream *output;
  gboolean has_tls;

  if (self->poller == NULL)
    self->poller = g_object_ref (gc_ws_poller_get_default ());

  self->parser = gc_ws_parser_new (self->role, self->max_message_size);
  self->last_received = gc_ws_poller_get_time (self->poller);

  input = self->stream ? g_io_stream_get_input_stream (self->stream) : NULL;
  output = self->stream ? g_io_stream_get_output_stream (self->stream) : NULL;
  if (!G_IS_POLLABLE_INPUT_STREAM (input) ||
      !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (input)) ||
      !G_IS_POLLABLE_OUTPUT_STREAM (output) ||
      !g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (output)))
    {
      g_critical ("GcWsConnection needs a stream with pollable input and output");
      self->state = GC_WS_STATE_CLOSED;
      return;
    }

  self->input = G_POLLABLE_INPUT_STREAM (input);
  self->output = G_POLLABLE_OUTPUT_STREAM (output);
  self->direct = G_IS_SOCKET_CONNECTION (self->stream) &&
                 !G_IS_TCP_WRAPPER_CONNECTION (self->stream);
  self->socket = find_socket (self->stream, &has_tls);
  self->has_tls = has_tls;

  /* A bare socket holds no bytes the poll would not report; a wrapper
   * (TLS, libsoup's stream) and initial data may. A server's join saves a
   * read that would block. */
  gc_ws_poller_add (self->poller, &self->entry, self, self->socket, self->input,
                    !self->direct || self->socket == NULL || self->initial_data != NULL);
  gc_ws_poller_schedule (self->poller, gc_ws_connection_get_deadline (self));
}

static void
gc_ws_connection_dispose (GObject *object)
{
  GcWsConnection *self = GC_WS_CONNECTION (object);

  /* Dropped without closing: let go of the socket, quietly. */
  if (self->state != GC_WS_STATE_CLOSED)
    {
      gc_ws_connection_release_transport (self, TRUE);
      self->state = GC_WS_STATE_CLOSED;
    }

  G_OBJECT_CLASS (gc_ws_connection_parent_class)->dispose (object);
}

static void
gc_ws_connection_finalize (GObject *object)
{
  GcWsConnection *self = GC_WS_CONNECTION (object);

  gc_ws_send_queue_clear (&self->queue);
  g_clear_pointer (&self->parser, gc_ws_parser_free);
  g_clear_pointer (&self->initial_data, g_bytes_unref);
  g_clear_object (&self->remote_address);
  g_clear_object (&self->corked);
  g_clear_object (&self->stream);
  g_clear_object (&self->poller);
  g_free (self->protocol);
  g_free (self->close_reason);

  G_OBJECT_CLASS (gc_ws_connection_parent_class)->finalize (object);
}

static void
gc_ws_connection_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  GcWsConnection *self = GC_WS_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_STREAM:
      g_value_set_object (value, self->stream);
      break;
    case PROP_ROLE:
      g_value_set_uint (value, self->role);
      break;
    case PROP_INITIAL_DATA:
      g_value_set_boxed (value, self->initial_data);
      break;
    case PROP_PROTOCOL:
      g_value_set_string (value, self->protocol);
      break;
    case PROP_POLLER:
      g_value_set_object (value, self->poller);
      break;
    case PROP_STATE:
      g_value_set_uint (value, self->state);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint64 (value, self->max_message_size);
      break;
    case PROP_MAX_QUEUED_BYTES:
      g_value_set_uint64 (value, self->max_queued_bytes);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, self->keepalive_interval_s);
      break;
    case PROP_KEEPALIVE_TIMEOUT:
      g_value_set_uint (value, self->keepalive_timeout_s);
      break;
    case PROP_CLOSE_TIMEOUT:
      g_value_set_uint (value, self->close_timeout_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_ws_connection_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  GcWsConnection *self = GC_WS_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_MAX_MESSAGE_SIZE:
      gc_ws_connection_set_max_message_size (self, g_value_get_uint64 (value));
      break;
    case PROP_MAX_QUEUED_BYTES:
      gc_ws_connection_set_max_queued_bytes (self, g_value_get_uint64 (value));
      break;
    case PROP_KEEPALIVE_INTERVAL:
      gc_ws_connection_set_keepalive (self, g_value_get_uint (value), self->keepalive_timeout_s);
      break;
    case PROP_KEEPALIVE_TIMEOUT:
      gc_ws_connection_set_keepalive (self, self->keepalive_interval_s, g_value_get_uint (value));
      break;
    case PROP_CLOSE_TIMEOUT:
      gc_ws_connection_set_close_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_ws_connection_class_init (GcWsConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_ws_connection_dispose;
  object_class->finalize = gc_ws_connection_finalize;
  object_class->get_property = gc_ws_connection_get_property;
  object_class->set_property = gc_ws_connection_set_property;

  gc_ws_connection_properties[PROP_STREAM] =
    g_param_spec_object ("stream", NULL, NULL,
                         G_TYPE_IO_STREAM,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* A GcWsRole. */
  gc_ws_connection_properties[PROP_ROLE] =
    g_param_spec_uint ("role", NULL, NULL,
                       GC_WS_ROLE_SERVER, GC_WS_ROLE_CLIENT, GC_WS_ROLE_SERVER,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  gc_ws_connection_properties[PROP_INITIAL_DATA] =
    g_param_spec_boxed ("initial-data", NULL, NULL,
                        G_TYPE_BYTES,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  gc_ws_connection_properties[PROP_PROTOCOL] =
    g_param_spec_string ("protocol", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  gc_ws_connection_properties[PROP_POLLER] =
    g_param_spec_object ("poller", NULL, NULL,
                         GC_TYPE_WS_POLLER,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* A GcWsState. */
  gc_ws_connection_properties[PROP_STATE] =
    g_param_spec_uint ("state", NULL, NULL,
                       GC_WS_STATE_OPEN, GC_WS_STATE_CLOSED, GC_WS_STATE_OPEN,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  gc_ws_connection_properties[PROP_MAX_MESSAGE_SIZE] =
    g_param_spec_uint64 ("max-message-size", NULL, NULL,
                         0, G_MAXUINT64, DEFAULT_MAX_MESSAGE_SIZE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  gc_ws_connection_properties[PROP_MAX_QUEUED_BYTES] =
    g_param_spec_uint64 ("max-queued-bytes", NULL, NULL,
                         0, G_MAXSIZE, DEFAULT_MAX_QUEUED_BYTES,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);
  gc_ws_connection_properties[PROP_KEEPALIVE_INTERVAL] =
    g_param_spec_uint ("keepalive-interval", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  gc_ws_connection_properties[PROP_KEEPALIVE_TIMEOUT] =
    g_param_spec_uint ("keepalive-timeout", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  gc_ws_connection_properties[PROP_CLOSE_TIMEOUT] =
    g_param_spec_uint ("close-timeout", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_CLOSE_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, gc_ws_connection_properties);

  gc_ws_connection_signals[SIGNAL_MESSAGE] =
    g_signal_new ("message",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_UINT,
                  G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);
  gc_ws_connection_signals[SIGNAL_PING] =
    g_signal_new ("ping",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);
  gc_ws_connection_signals[SIGNAL_PONG] =
    g_signal_new ("pong",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);
  gc_ws_connection_signals[SIGNAL_QUEUE_OVERFLOW] =
    g_signal_new ("queue-overflow",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  gc_ws_connection_signals[SIGNAL_ERROR] =
    g_signal_new ("error",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  gc_ws_connection_signals[SIGNAL_CLOSING] =
    g_signal_new ("closing",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  gc_ws_connection_signals[SIGNAL_CLOSED] =
    g_signal_new ("closed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
gc_ws_connection_init (GcWsConnection *self)
{
  self->state = GC_WS_STATE_OPEN;
  self->close_code = GC_WS_CLOSE_ABNORMAL;
  self->entry.fd = -1;
  /* The defaults of these properties (set here, not as construct
   * properties: see gc_ws_connection_new()). */
  self->max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  self->max_queued_bytes = DEFAULT_MAX_QUEUED_BYTES;
  self->close_timeout_ms = DEFAULT_CLOSE_TIMEOUT_MS;
}

/* Public API */

void
gc_ws_connection_set_handlers (GcWsConnection               *self,
                               const GcWsConnectionHandlers *handlers,
                               gpointer                      user_data)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));

  self->handlers = handlers;
  self->handlers_data = handlers != NULL ? user_data : NULL;
}


GcWsConnection *
gc_ws_connection_new (GIOStream  *stream,
                      GcWsRole    role,
                      GBytes     *initial_data,
                      const char *protocol,
                      GcWsPoller *poller)
{
  GcWsConnection *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);
  g_return_val_if_fail (role == GC_WS_ROLE_SERVER || role == GC_WS_ROLE_CLIENT, NULL);
  g_return_val_if_fail (poller == NULL || GC_IS_WS_POLLER (poller), NULL);

  /* No construct properties: a server makes a connection per join, and
   * GObject's (a GValue and a setter each, ten of them, given or not)
   * were most of the cost of making one. What they said is set here, and
   * read-only properties show it. */
  self = g_object_new (GC_TYPE_WS_CONNECTION, NULL);
  self->stream = g_object_ref (stream);
  self->role = role;
  if (initial_data != NULL && g_bytes_get_size (initial_data) > 0)
    self->initial_data = g_bytes_ref (initial_data);
  self->protocol = g_strdup (protocol);
  self->poller = poller != NULL ? g_object_ref (poller) : NULL;
  connection_setup (self);

  return self;
}


GcWsState
gc_ws_connection_get_state (GcWsConnection *self)
{
  g_return_val_if_fail (GC_IS_WS_CONNECTION (self), GC_WS_STATE_CLOSED);

  return self->state;
}

const char *
gc_ws_connection_get_protocol (GcWsConnection *self)
{
  g_return_val_if_fail (GC_IS_WS_CONNECTION (self), NULL);

  return self->protocol;
}


GSocketAddress *
gc_ws_connection_get_remote_address (GcWsConnection *self)
{
  g_return_val_if_fail (GC_IS_WS_CONNECTION (self), NULL);

  if (self->remote_address == NULL && self->socket != NULL)
    self->remote_address = g_socket_get_remote_address (self->socket, NULL);

  return self->remote_address;
}

void
gc_ws_connection_set_max_message_size (GcWsConnection *self,
                                       guint64         bytes)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));

  if (self->max_message_size == bytes)
    return;

  self->max_message_size = bytes;
  if (self->parser != NULL)
    gc_ws_parser_set_max_message_size (self->parser, bytes);
  g_object_notify_by_pspec (G_OBJECT (self), gc_ws_connection_properties[PROP_MAX_MESSAGE_SIZE]);
}


void
gc_ws_connection_set_max_queued_bytes (GcWsConnection *self,
                                       gsize           bytes)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));

  if (self->max_queued_bytes == bytes)
    return;

  self->max_queued_bytes = bytes;
  g_object_notify_by_pspec (G_OBJECT (self), gc_ws_connection_properties[PROP_MAX_QUEUED_BYTES]);
}

gsize
gc_ws_connection_get_max_queued_bytes (GcWsConnection *self)
{
  g_return_val_if_fail (GC_IS_WS_CONNECTION (self), 0);

  return self->max_queued_bytes;
}

void
gc_ws_connection_set_keepalive (GcWsConnection *self,
                                guint           interval_s,
                                guint           timeout_s)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));

  g_object_freeze_notify (G_OBJECT (self));
  if (self->keepalive_interval_s != interval_s)
    {
      self->keepalive_interval_s = interval_s;
      g_object_notify_by_pspec (G_OBJECT (self), gc_ws_connection_properties[PROP_KEEPALIVE_INTERVAL]);
    }
  if (self->keepalive_timeout_s != timeout_s)
    {
      self->keepalive_timeout_s = timeout_s;
      g_object_notify_by_pspec (G_OBJECT (self), gc_ws_connection_properties[PROP_KEEPALIVE_TIMEOUT]);
    }
  g_object_thaw_notify (G_OBJECT (self));

  /* Before construction finishes there is no poller yet;
   * constructed() schedules then. */
  if (self->poller != NULL && self->entry.registered)
    gc_ws_poller_schedule (self->poller, gc_ws_connection_get_deadline (self));
}

void
gc_ws_connection_set_close_timeout (GcWsConnection *self,
                                    guint           timeout_ms)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));

  if (self->close_timeout_ms == timeout_ms)
    return;

  self->close_timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), gc_ws_connection_properties[PROP_CLOSE_TIMEOUT]);
}

void
gc_ws_connection_close (GcWsConnection *self,
                        gushort         code,
                        const char     *reason)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));
  g_return_if_fail (code == 0 || gc_ws_close_code_is_valid (code));

  gc_ws_connection_start_closing (self, code, reason);
}

void
gc_ws_connection_abort (GcWsConnection *self)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));

  gc_ws_connection_close_transport (self, TRUE);
}

gsize
gc_ws_connection_get_queued_bytes (GcWsConnection *self)
{
  g_return_val_if_fail (GC_IS_WS_CONNECTION (self), 0);

  return self->queue.bytes;
}

gushort
gc_ws_connection_get_close_code (GcWsConnection *self)
{
  g_return_val_if_fail (GC_IS_WS_CONNECTION (self), GC_WS_CLOSE_ABNORMAL);

  return self->close_code;
}

const char *
gc_ws_connection_get_close_reason (GcWsConnection *self)
{
  g_return_val_if_fail (GC_IS_WS_CONNECTION (self), NULL);

  return self->close_reason;
}
