/* gc-ws-connection-closing.c: GcWsConnection's closing handshake
 *
 * RFC 6455 §7: either side sends a close frame and the other answers;
 * the server closes TCP first, the client waits for it (bounded by the
 * close timeout). A protocol violation fails the connection (§7.1.7)
 * with the close code the codec chose. And once TCP goes, the transport
 * is let go without ever blocking the main loop.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-ws-connection-private.h"

void
gc_ws_connection_set_state (GcWsConnection *self,
                            GcWsState       state)
{
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), gc_ws_connection_properties[PROP_STATE]);
}

/* Lets go of the socket: out of the poller first (epoll needs the fd open
 * to forget it), then closed without ever blocking the main loop. */
void
gc_ws_connection_release_transport (GcWsConnection *self,
                                    gboolean        abortive)
{
  gc_ws_poller_remove (self->poller, &self->entry);

  abortive = abortive || self->queue.length > 0;
  gc_ws_send_queue_clear (&self->queue);

  /* Closing TLS writes close_notify, and a synchronous close writes it
   * blocking. It cannot block if the socket has room, which it has unless
   * the peer stopped reading; then there is no orderly close to be had and
   * the socket goes first, so that the TLS close fails at once. (Not
   * g_io_stream_close_async(): that parks a thread on a peer that never
   * reads.) */
  if (self->has_tls && !abortive && self->socket != NULL &&
      (g_socket_condition_check (self->socket, G_IO_OUT) & G_IO_OUT) == 0)
    abortive = TRUE;

  if (abortive && self->socket != NULL)
    g_socket_close (self->socket, NULL);
  g_io_stream_close (self->stream, NULL, NULL);
  /* Closing a wrapper need not close what it wraps. */
  if (self->socket != NULL)
    g_socket_close (self->socket, NULL);
  self->socket = NULL;
  self->close_deadline = 0;
  g_clear_pointer (&self->initial_data, g_bytes_unref);
  if (!self->in_feed)
    g_clear_pointer (&self->parser, gc_ws_parser_free);
}

void
gc_ws_connection_close_transport (GcWsConnection *self,
                                  gboolean        abortive)
{
  if (self->state == GC_WS_STATE_CLOSED)
    return;

  g_object_ref (self);
  gc_ws_connection_release_transport (self, abortive);
  gc_ws_connection_set_state (self, GC_WS_STATE_CLOSED);
  gc_ws_connection_emit_closed (self);
  g_object_unref (self);
}

static void
enter_closing (GcWsConnection *self)
{
  self->close_deadline = gc_ws_poller_get_time (self->poller) +
                         (gint64) self->close_timeout_ms * G_TIME_SPAN_MILLISECOND;
  gc_ws_poller_schedule (self->poller, self->close_deadline);
  gc_ws_connection_set_state (self, GC_WS_STATE_CLOSING);
  gc_ws_connection_emit_closing (self);
}

/* Sends our close frame (RFC 6455 §7.1.2). */
void
gc_ws_connection_start_closing (GcWsConnection *self,
                                gushort         code,
                                const char     *reason)
{
  if (self->state != GC_WS_STATE_OPEN)
    return;

  g_object_ref (self);
  gc_ws_connection_queue_frame (self, gc_ws_frame_encode_close (self->role, code, reason));
  self->close_sent = TRUE;
  enter_closing (self);
  g_object_unref (self);
}

/* Called whenever the closing handshake may have advanced: our close
 * flushed, the peer's close received. RFC 6455 §7.1.1: the server closes
 * TCP first; the client waits for it (bounded by the close timeout). */
void
gc_ws_connection_maybe_finish_closing (GcWsConnection *self)
{
  if (self->state != GC_WS_STATE_CLOSING || self->queue.length > 0)
    return;
  if (self->role != GC_WS_ROLE_SERVER)
    return;

  if (self->close_received)
    {
      gc_ws_connection_close_transport (self, FALSE);
    }
  else if (self->failed)
    {
      /* The peer broke the protocol; its close may never come (our parser
       * has stopped). Send FIN and drain until it closes too, so that its
       * unread bytes do not turn our close into a reset that could destroy
       * the close frame we just sent. TLS cannot half-close. */
      if (self->has_tls || self->socket == NULL)
        gc_ws_connection_close_transport (self, FALSE);
      else if (!self->write_shutdown)
        {
          self->write_shutdown = TRUE;
          g_socket_shutdown (self->socket, FALSE, TRUE, NULL);
        }
    }
}

void
gc_ws_connection_handle_io_error (GcWsConnection *self,
                                  const GError   *error)
{
  g_object_ref (self);
  /* After the peer's close, a reset or broken pipe only ends what was
   * ending anyway. */
  if (!self->close_received)
    gc_ws_connection_emit_error (self, error);
  gc_ws_connection_close_transport (self, TRUE);
  g_object_unref (self);
}

/* Fails the connection (RFC 6455 §7.1.7) after a protocol violation: the
 * error code is the close code to send. */
void
gc_ws_connection_fail (GcWsConnection *self,
                       const GError   *error)
{
  g_object_ref (self);
  self->failed = TRUE;
  if (!self->close_sent)
    {
      gushort code = error->domain == GC_WS_ERROR && gc_ws_close_code_is_valid (error->code)
                     ? error->code : GC_WS_CLOSE_PROTOCOL_ERROR;

      gc_ws_connection_queue_frame (self,
                                    gc_ws_frame_encode_close (self->role, code, error->message));
      self->close_sent = TRUE;
    }
  gc_ws_connection_emit_error (self, error);
  if (self->state == GC_WS_STATE_OPEN)
    enter_closing (self);
  gc_ws_connection_maybe_finish_closing (self);
  g_object_unref (self);
}

void
gc_ws_connection_handle_eof (GcWsConnection *self)
{
  /* The peer may only have shut down its sending side and still wait for
   * what we queued, like the echo of its close: one last try. */
  if (self->queue.length > 0 && !gc_ws_connection_flush (self))
    return;
  gc_ws_connection_close_transport (self, FALSE);
}

void
gc_ws_connection_handle_close_frame (GcWsConnection *self,
                                     GBytes         *payload)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  gushort code;
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);

  if (!gc_ws_close_payload_parse (data, len, &code, &reason, &error))
    {
      gc_ws_connection_fail (self, error);
      return;
    }

  self->close_received = TRUE;
  self->close_code = code;
  g_free (self->close_reason);
  self->close_reason = g_steal_pointer (&reason);

  if (self->state == GC_WS_STATE_OPEN)
    {
      gc_ws_connection_queue_frame (self,
                                    gc_ws_frame_encode_close (self->role,
                                                              code == GC_WS_CLOSE_NO_STATUS ? 0 : code,
                                                              NULL));
      self->close_sent = TRUE;
      enter_closing (self);
    }
  gc_ws_connection_maybe_finish_closing (self);
}
