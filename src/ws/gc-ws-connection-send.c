/* gc-ws-connection-send.c: a connection's writing side: its frames queued
 * and written in one writev per flush, the owner's sends, and the cork a
 * server connection may start with
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gnetworking.h>

#include "gc-ws-connection-private.h"

static gboolean connection_flush_queue (GcWsConnection *self);

void
gc_ws_connection_queue_frame (GcWsConnection *self,
                              GBytes         *frame)
{
  if (self->state == GC_WS_STATE_CLOSED)
    {
      g_bytes_unref (frame);
      return;
    }

  gc_ws_send_queue_push (&self->queue, frame);
  gc_ws_poller_queue_flush (self->poller, &self->entry);
}

/* Queues @frame (transfer full) and enforces max-queued-bytes. Everything
 * but our close frame goes through here, pongs included: a peer that
 * pings and never reads must not grow the queue either. */
void
gc_ws_connection_queue_frame_bounded (GcWsConnection *self,
                                      GBytes         *frame)
{
  gc_ws_connection_queue_frame (self, frame);

  if (self->state == GC_WS_STATE_OPEN &&
      self->max_queued_bytes > 0 && self->queue.bytes > self->max_queued_bytes)
    {
      g_object_ref (self);
      gc_ws_connection_emit_queue_overflow (self);
      if (self->state == GC_WS_STATE_OPEN)
        gc_ws_connection_start_closing (self, GC_WS_CLOSE_POLICY_VIOLATION, "Send queue overflow");
      g_object_unref (self);
    }
}

void
gc_ws_connection_uncork_after_write (GcWsConnection *self,
                                     GSocket        *socket)
{
  g_set_object (&self->corked, socket);
}

/* What was held back goes now, with what was just written. */
static void
connection_uncork (GcWsConnection *self)
{
  if (self->corked == NULL)
    return;

#ifdef TCP_CORK
  g_socket_set_option (self->corked, IPPROTO_TCP, TCP_CORK, FALSE, NULL);
#endif
  g_clear_object (&self->corked);
}

gboolean
gc_ws_connection_flush (GcWsConnection *self)
{
  if (self->corked != NULL)
    {
      gboolean ok = connection_flush_queue (self);

      connection_uncork (self);
      return ok;
    }

  return connection_flush_queue (self);
}

static gboolean
connection_flush_queue (GcWsConnection *self)
{
  while (self->queue.length > 0)
    {
      g_autoptr(GError) error = NULL;
      GPollableReturn result;

      result = gc_ws_send_queue_write (&self->queue, self->output, &error);
      gc_ws_poller_count_write_call (self->poller);

      if (result == G_POLLABLE_RETURN_WOULD_BLOCK)
        {
          gc_ws_poller_set_want_write (self->poller, &self->entry, self->output, TRUE);
          return TRUE;
        }
      if (result == G_POLLABLE_RETURN_FAILED)
        {
          gc_ws_connection_handle_io_error (self, error);
          return FALSE;
        }
    }

  gc_ws_poller_set_want_write (self->poller, &self->entry, self->output, FALSE);
  return TRUE;
}

void
gc_ws_connection_handle_writable (GcWsConnection *self)
{
  if (self->state == GC_WS_STATE_CLOSED)
    return;

  if (gc_ws_connection_flush (self))
    gc_ws_connection_maybe_finish_closing (self);
}

/* Queues a frame from the owner (transfer full). */
static void
send_owner_frame (GcWsConnection *self,
                  GBytes         *frame)
{
  /* Closing: the owner has been told ("closing", or "queue-overflow"). */
  if (self->state != GC_WS_STATE_OPEN)
    {
      g_bytes_unref (frame);
      return;
    }

  gc_ws_connection_queue_frame_bounded (self, frame);
}

void
gc_ws_connection_send_text (GcWsConnection *self,
                            const char     *text,
                            gssize          len)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));
  g_return_if_fail (text != NULL || len == 0);

  if (len < 0)
    len = strlen (text);
  /* RFC 6455's UTF-8, which allows U+0000 (g_utf8_validate_len() does not). */
  g_return_if_fail (gc_ws_utf8_validate ((const guint8 *) text, len));

  send_owner_frame (self, gc_ws_frame_encode (self->role, GC_WS_OPCODE_TEXT, TRUE,
                                             (const guint8 *) text, len));
}

void
gc_ws_connection_send_binary (GcWsConnection *self,
                              const guint8   *data,
                              gsize           len)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));
  g_return_if_fail (data != NULL || len == 0);

  send_owner_frame (self, gc_ws_frame_encode (self->role, GC_WS_OPCODE_BINARY, TRUE, data, len));
}

void
gc_ws_connection_send_ping (GcWsConnection *self,
                            const guint8   *data,
                            gsize           len)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));
  g_return_if_fail (data != NULL || len == 0);
  g_return_if_fail (len <= GC_WS_MAX_CONTROL_PAYLOAD);

  send_owner_frame (self, gc_ws_frame_encode (self->role, GC_WS_OPCODE_PING, TRUE, data, len));
}

void
gc_ws_connection_send_frame (GcWsConnection *self,
                             GBytes         *frame)
{
  g_return_if_fail (GC_IS_WS_CONNECTION (self));
  g_return_if_fail (frame != NULL && g_bytes_get_size (frame) >= 2);
  g_return_if_fail (self->role == GC_WS_ROLE_SERVER);

  send_owner_frame (self, g_bytes_ref (frame));
}
