/* gc-handshake.c: one accepted connection until its request is taken
 *
 * A handshake reads what its client sends until its request can be
 * taken: with TLS, the ClientHello (peeked at, so that a connection that
 * sends nothing never takes a TLS thread), then the TLS handshake when
 * admission gives it a place; then the request head, which we check
 * before anything parses it (gc-request-head.c) and answer ourselves if
 * it is bad. A valid join upgrade then goes straight to its join
 * (gc_join_start_direct(): libsoup's parser, our 101); any other request
 * goes to libsoup's SoupServer with the bytes read (gc-prefix-stream.c).
 * GcAdmission decides who may go on and who must make room.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-handshake-private.h"
#include "gc-prefix-stream.h"
#include "gc-protocol.h"
#include "gc-request-head.h"
#include "gc-server-private.h"

/* The first TLS record must be complete before a TLS handshake may
 * start; partial records are looked at again after this long. */
#define TLS_RECORD_HEADER_SIZE 5
#define TLS_CONTENT_HANDSHAKE  0x16
#define TLS_HELLO_RECHECK_MS   50

#define HEAD_READ_SIZE         4096
#define DRAIN_SIZE             4096

/* Marks a remote address object with its handshake. */
G_DEFINE_QUARK (gc-server-handshake, gc_handshake)

static void handshake_read_head (GcHandshake *hs);

GcHandshake *
gc_handshake_new (GcAdmission    *admission,
                  GSocket        *socket,
                  GSocketAddress *local_address,
                  guint16         local_port,
                  GSocketAddress *remote_address,
                  GcPeer         *peer,
                  const char     *address,
                  gint64          deadline_us)
{
  GcHandshake *hs = g_new0 (GcHandshake, 1);

  hs->ref_count = 1;
  hs->admission = admission;
  hs->stage = GC_HANDSHAKE_FINISHED;
  hs->socket = g_object_ref (socket);
  hs->local_address = local_address != NULL ? g_object_ref (local_address) : NULL;
  hs->local_port = local_port;
  hs->remote_address = g_object_ref (remote_address);
  hs->peer = peer;
  hs->address = g_strdup (address);
  hs->accepted_us = g_get_monotonic_time ();
  hs->progress_us = hs->accepted_us;
  hs->deadline_us = deadline_us;
  hs->link.data = hs;
  hs->peer_link.data = hs;
  hs->stage_link.data = hs;
  g_object_set_qdata (G_OBJECT (hs->remote_address), gc_handshake_quark (), hs);

  return hs;
}

GcHandshake *
gc_handshake_ref (GcHandshake *hs)
{
  hs->ref_count++;
  return hs;
}

void
gc_handshake_unref (GcHandshake *hs)
{
  if (--hs->ref_count > 0)
    return;

  g_assert (hs->admission == NULL);
  g_assert (hs->io_source == NULL);
  g_clear_object (&hs->tls);
  g_clear_object (&hs->base);
  g_clear_pointer (&hs->head, g_byte_array_unref);
  g_clear_object (&hs->socket);
  g_clear_object (&hs->local_address);
  g_clear_object (&hs->remote_address);
  g_clear_object (&hs->cancellable);
  g_free (hs->address);
  g_free (hs);
}

const char *
gc_handshake_get_address (GcHandshake *hs)
{
  return hs->address;
}

GSocket *
gc_handshake_get_socket (GcHandshake *hs)
{
  return hs->socket;
}

gboolean
gc_handshake_is_pending (GcHandshake *hs)
{
  return hs->admission != NULL;
}

static void on_handshake_stream_finalized (gpointer  user_data,
                                           GObject  *where_the_object_was);

/* Stops waiting for the client, and takes the socket out of admission's
 * epoll set, fired or not: the set never holds a handshake that is gone,
 * nor a socket handed on. */
static void
handshake_unwatch (GcHandshake *hs)
{
  gc_clear_source (&hs->io_source);
  hs->io_func = NULL;
  if (hs->watch != GC_HANDSHAKE_WATCH_NONE && hs->admission != NULL)
    gc_admission_unwatch (hs->admission, hs);
}

/* The handshake no longer counts: upgraded, answered, or abandoned. */
void
gc_handshake_finish (GcHandshake *hs)
{
  GcAdmission *admission = hs->admission;

  if (admission == NULL)
    return;
  handshake_unwatch (hs);
  hs->admission = NULL;

  if (hs->stream != NULL)
    {
      g_object_weak_unref (G_OBJECT (hs->stream), on_handshake_stream_finalized, hs);
      hs->stream = NULL;
    }
  g_object_set_qdata (G_OBJECT (hs->remote_address), gc_handshake_quark (), NULL);

  gc_admission_forget (admission, hs);
  hs->peer = NULL;

  gc_handshake_unref (hs);
}

void
gc_handshake_abandon (GcHandshake *hs)
{
  if (hs->cancellable != NULL)
    g_cancellable_cancel (hs->cancellable);
  g_socket_shutdown (hs->socket, TRUE, TRUE, NULL);
  gc_handshake_finish (hs);
}

/* Closing the socket, not a TLS stream: a TLS close would try to write
 * to a peer that may not read. */
static void
handshake_close (GcHandshake *hs)
{
  /* Out of the epoll set before its fd number can be reused. */
  handshake_unwatch (hs);
  g_socket_close (hs->socket, NULL);
  gc_handshake_finish (hs);
}

static void
on_handshake_stream_finalized (gpointer  user_data,
                               GObject  *where_the_object_was)
{
  GcHandshake *hs = user_data;

  hs->stream = NULL;
  gc_handshake_finish (hs);
}

static gboolean
on_socket_ready (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  GcHandshake *hs = user_data;

  return hs->io_func (hs);
}

/* Calls @func when the socket is readable (@delay_ms 0) or after
 * @delay_ms. */
static void
handshake_wait (GcHandshake *hs,
                guint        delay_ms,
                GSourceFunc  func)
{
  /* Still in the epoll set if it was: re-armed there (MOD), or taken
   * out for a timeout. */
  gc_clear_source (&hs->io_source);
  if (delay_ms != 0 && hs->watch != GC_HANDSHAKE_WATCH_NONE)
    gc_admission_unwatch (hs->admission, hs);
  hs->io_func = func;
  if (delay_ms == 0 && gc_admission_watch (hs->admission, hs))
    return;
  if (delay_ms == 0)
    {
      hs->io_source = g_socket_create_source (hs->socket, G_IO_IN, NULL);
      g_source_set_callback (hs->io_source, G_SOURCE_FUNC (on_socket_ready), hs, NULL);
    }
  else
    {
      hs->io_source = g_timeout_source_new (delay_ms);
      g_source_set_callback (hs->io_source, func, hs, NULL);
    }
  g_source_set_static_name (hs->io_source, "[gochat] handshake");
  g_source_attach (hs->io_source, gc_admission_get_context (hs->admission));
}

/* @hs saw @n bytes in all: more than before is progress. */
static void
handshake_saw (GcHandshake *hs,
               gsize        n)
{
  if (n <= hs->seen)
    return;

  hs->seen = n;
  gc_admission_progress (hs->admission, hs);
}

/* libsoup ------------------------------------------------------------------- */

static void
handshake_give_to_soup (GcHandshake *hs,
                        GIOStream   *stream)
{
  g_autoptr(GcHandshake) hold = gc_handshake_ref (hs);

  handshake_unwatch (hs);
  gc_admission_set_stage (hs->admission, hs, GC_HANDSHAKE_REQUEST);
  hs->stream = stream;
  g_object_weak_ref (G_OBJECT (stream), on_handshake_stream_finalized, hs);
  /* Asked for only now: a join that does not come here needs no
   * getsockname() (its listener's port is enough). */
  if (hs->local_address == NULL)
    hs->local_address = g_socket_get_local_address (hs->socket, NULL);
  soup_server_accept_iostream (gc_admission_get_soup (hs->admission), stream,
                               hs->local_address, hs->remote_address, NULL);
  g_object_unref (stream);
}

/* Refusing a request head ourselves ------------------------------------------ */

static const char *
status_phrase (guint status)
{
  switch (status)
    {
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 505:
      return "HTTP Version Not Supported";
    case 400:
    default:
      return "Bad Request";
    }
}

/* Reads and drops what the client still sends, until it closes. */
static gboolean
on_refused_readable (gpointer user_data)
{
  GcHandshake *hs = user_data;
  guint8 buffer[DRAIN_SIZE];

  for (guint i = 0; i < 16; i++)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive_with_blocking (hs->socket, (char *) buffer, sizeof buffer,
                                                 FALSE, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (n <= 0)
        {
          handshake_close (hs);
          return G_SOURCE_REMOVE;
        }
    }

  return G_SOURCE_CONTINUE;
}

/* Answers @status with a refusal body (§3.6, code bad_request) and ends
 * the connection once the client has had it: we stop sending, read what
 * it still sends (a close with unread data would reset the connection
 * and could destroy the answer), and close when it does, or after a
 * short linger (admission's idle timer). */
static void
handshake_refuse (GcHandshake *hs,
                  guint        status,
                  const char  *reason,
                  gboolean     is_head_method)
{
  g_autoptr(GBytes) body = gc_protocol_build_refusal (GC_PROTOCOL_ERROR_BAD_REQUEST, reason,
                                                      NULL, 0);
  g_autoptr(GString) response = g_string_new (NULL);
  gsize body_len;
  const char *body_data = g_bytes_get_data (body, &body_len);

  g_string_append_printf (response,
                          "HTTP/1.1 %u %s\r\n"
                          "Connection: close\r\n"
                          "Cache-Control: no-store\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                          "\r\n",
                          status, status_phrase (status), body_len);
  if (!is_head_method)
    g_string_append_len (response, body_data, body_len);

  /* A fresh connection takes this much at once; if not, the client
   * gets less, and the close all the same. */
  if (hs->base != NULL)
    g_pollable_output_stream_write_nonblocking (
      G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (hs->base)),
      response->str, response->len, NULL, NULL);
  else
    g_socket_send_with_blocking (hs->socket, response->str, response->len, FALSE, NULL, NULL);
  g_socket_shutdown (hs->socket, FALSE, TRUE, NULL);

  gc_admission_count_refused (hs->admission);
  gc_server_log_event (G_LOG_LEVEL_INFO, "refusal", NULL, NULL, hs->address,
                       gc_protocol_error_to_string (GC_PROTOCOL_ERROR_BAD_REQUEST));

  gc_admission_set_stage (hs->admission, hs, GC_HANDSHAKE_REFUSED);
  handshake_wait (hs, 0, on_refused_readable);
}

/* The request head ----------------------------------------------------------- */

static gboolean
on_head_ready (gpointer user_data)
{
  GcHandshake *hs = user_data;

  g_clear_pointer (&hs->io_source, g_source_unref);
  handshake_read_head (hs);

  return G_SOURCE_REMOVE;
}

static gboolean
on_head_readable (GObject  *stream,
                  gpointer  user_data)
{
  return on_head_ready (user_data);
}

/* A complete request head is the first @head_len bytes of hs->head: a
 * join goes on directly (gc_join_start_direct()), anything else to
 * libsoup, which reads it again through a prefix stream. */
static void
handshake_take_request (GcHandshake *hs,
                        gsize        head_len)
{
  g_autoptr(GcHandshake) hold = gc_handshake_ref (hs);
  g_autoptr(GBytes) prefix = NULL;
  g_autoptr(GIOStream) base = NULL;

  handshake_unwatch (hs);
  if (gc_admission_take_request (hs->admission, hs, hs->base, (const char *) hs->head->data,
                                 head_len, hs->head->len))
    return;

  prefix = g_byte_array_free_to_bytes (g_steal_pointer (&hs->head));
  base = g_steal_pointer (&hs->base);
  handshake_give_to_soup (hs, gc_prefix_io_stream_new (base, prefix));
}

/* Reads the request head from hs->base (TLS, or the socket's connection)
 * into hs->head, once: nothing is peeked at and read again. */
static void
handshake_read_head (GcHandshake *hs)
{
  GInputStream *input = g_io_stream_get_input_stream (hs->base);

  if (hs->head == NULL)
    hs->head = g_byte_array_new ();

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      guint old_len = hs->head->len;
      gsize room = GC_REQUEST_HEAD_MAX_BYTES - old_len;
      gsize head_len = 0;
      guint status = 0;
      const char *reason = NULL;
      gboolean is_head_method = FALSE;
      gssize n = 0;

      if (room > 0)
        {
          g_byte_array_set_size (hs->head, old_len + MIN (room, HEAD_READ_SIZE));
          n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (input),
                                                        hs->head->data + old_len,
                                                        MIN (room, HEAD_READ_SIZE),
                                                        NULL, &error);
          g_byte_array_set_size (hs->head, old_len + MAX (n, 0));
          if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              /* A bare socket holds nothing its poll would not show;
               * TLS may. */
              if (G_IS_SOCKET_CONNECTION (hs->base))
                {
                  handshake_wait (hs, 0, on_head_ready);
                  return;
                }
              handshake_unwatch (hs);
              hs->io_source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (input),
                                                                     NULL);
              g_source_set_callback (hs->io_source, G_SOURCE_FUNC (on_head_readable), hs, NULL);
              g_source_set_static_name (hs->io_source, "[gochat] handshake");
              g_source_attach (hs->io_source, gc_admission_get_context (hs->admission));
              return;
            }
          if (n <= 0)
            {
              handshake_close (hs);
              return;
            }
          handshake_saw (hs, hs->head->len);
        }

      switch (gc_request_head_check ((const char *) hs->head->data, hs->head->len,
                                     &head_len, &status, &reason, &is_head_method))
        {
        case GC_REQUEST_HEAD_VALID:
          handshake_take_request (hs, head_len);
          return;
        case GC_REQUEST_HEAD_REFUSED:
          handshake_refuse (hs, status, reason, is_head_method);
          return;
        case GC_REQUEST_HEAD_INCOMPLETE:
        default:
          break;
        }
    }
}

/* TLS ---------------------------------------------------------------------- */

static void
on_tls_handshake_done (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GcHandshake) hs = user_data;
  g_autoptr(GError) error = NULL;
  GTlsConnection *tls = G_TLS_CONNECTION (source);

  if (!g_tls_connection_handshake_finish (tls, result, &error) || hs->admission == NULL)
    {
      if (error != NULL)
        gc_server_log_event (G_LOG_LEVEL_DEBUG, "tls-failed", NULL, NULL,
                             hs->address, error->message);
      g_clear_object (&hs->tls);
      handshake_close (hs);
      return;
    }

  gc_admission_set_stage (hs->admission, hs, GC_HANDSHAKE_HEAD);
  hs->seen = 0;
  hs->base = G_IO_STREAM (g_steal_pointer (&hs->tls));
  handshake_read_head (hs);
}

void
gc_handshake_start_tls (GcHandshake     *hs,
                        GTlsCertificate *certificate)
{
  g_autoptr(GSocketConnection) connection = g_socket_connection_factory_create_connection (hs->socket);
  g_autoptr(GError) error = NULL;

  /* No trust database: we ask no client certificates, and without this
   * glib-networking loads the whole system store into every connection
   * (about 4 MB and 10 ms each). */
  hs->tls = g_initable_new (g_tls_backend_get_server_connection_type (g_tls_backend_get_default ()),
                            NULL, &error,
                            "base-io-stream", connection,
                            "certificate", certificate,
                            "database", NULL,
                            NULL);
  if (hs->tls == NULL)
    {
      gc_server_log_event (G_LOG_LEVEL_WARNING, "tls-failed", NULL, NULL,
                           hs->address, error->message);
      handshake_close (hs);
      return;
    }

  /* Many clients end TLS without close_notify; that is no attack on a
   * protocol with its own closing handshake. */
  g_tls_connection_set_require_close_notify (hs->tls, FALSE);
  /* Only a TLS handshake has something to cancel. */
  if (hs->cancellable == NULL)
    hs->cancellable = g_cancellable_new ();
  g_tls_connection_handshake_async (hs->tls, G_PRIORITY_DEFAULT, hs->cancellable,
                                    on_tls_handshake_done, gc_handshake_ref (hs));
}

typedef enum {
  HELLO_WAIT_DATA,     /* nothing to read yet */
  HELLO_WAIT_MORE,     /* part of the first record */
  HELLO_READY,
  HELLO_FAILED,        /* EOF, error, or not TLS */
} HelloState;

/* Peeks at the first TLS record without consuming anything. */
static HelloState
handshake_peek_hello (GcHandshake *hs)
{
  guint8 header[TLS_RECORD_HEADER_SIZE];
  GInputVector vector = { header, sizeof header };
  g_autoptr(GError) error = NULL;
  int flags = G_SOCKET_MSG_PEEK;
  gssize n;
  gssize available;
  gsize record_size;

  n = g_socket_receive_message (hs->socket, NULL, &vector, 1, NULL, NULL, &flags, NULL, &error);
  if (n < 0)
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ? HELLO_WAIT_DATA : HELLO_FAILED;
  if (n == 0 || header[0] != TLS_CONTENT_HANDSHAKE)
    return HELLO_FAILED;

  available = g_socket_get_available_bytes (hs->socket);
  handshake_saw (hs, MAX (available, n));
  if (n < TLS_RECORD_HEADER_SIZE)
    return HELLO_WAIT_MORE;

  record_size = TLS_RECORD_HEADER_SIZE + ((gsize) header[3] << 8 | header[4]);
  if (available < (gssize) record_size)
    return HELLO_WAIT_MORE;

  return HELLO_READY;
}

static gboolean
on_hello_ready (gpointer user_data)
{
  GcHandshake *hs = user_data;
  HelloState state;

  g_clear_pointer (&hs->io_source, g_source_unref);
  state = handshake_peek_hello (hs);

  switch (state)
    {
    case HELLO_READY:
      gc_admission_set_stage (hs->admission, hs, GC_HANDSHAKE_TLS_WAITING);
      break;
    case HELLO_FAILED:
      handshake_close (hs);
      break;
    case HELLO_WAIT_DATA:
      handshake_wait (hs, 0, on_hello_ready);
      break;
    case HELLO_WAIT_MORE:
    default:
      /* Part of a record keeps the socket readable: look again later. */
      handshake_wait (hs, TLS_HELLO_RECHECK_MS, on_hello_ready);
      break;
    }

  return G_SOURCE_REMOVE;
}

void
gc_handshake_start (GcHandshake *hs,
                    gboolean     tls)
{
  if (tls)
    {
      gc_admission_set_stage (hs->admission, hs, GC_HANDSHAKE_HELLO);
      handshake_wait (hs, 0, on_hello_ready);
    }
  else
    {
      gc_admission_set_stage (hs->admission, hs, GC_HANDSHAKE_HEAD);
      /* The request often comes with the connection (a busy server
       * accepts late): read it at once rather than after a GSource made,
       * polled and dropped. */
      hs->base = G_IO_STREAM (g_socket_connection_factory_create_connection (hs->socket));
      handshake_read_head (hs);
    }
}
