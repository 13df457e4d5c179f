/* gc-bench-connection.c: one load-generating WebSocket client connection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libsoup/soup.h>

#include "gc-bench-connection-private.h"
#include "gc-ws-random.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* A 101 and its headers, or a refusal's headers, fit in this. */
#define MAX_RESPONSE_HEADERS (16 * 1024)
/* Refusal bodies are short JSON; more is cut off. */
#define MAX_REFUSAL_BODY 4096
/* An output buffer larger than this is freed once drained. */
#define IDLE_OUTPUT_SIZE (16 * 1024)

G_DEFINE_QUARK (gc-bench-error-quark, gc_bench_error)

/* Life cycle ------------------------------------------------------------------ */

static void on_watch_ready (GcBenchWatch *watch,
                            guint32       events);

GcBenchConnection *
gc_bench_connection_new (GcBenchLoop                      *loop,
                         const GcBenchTarget              *target,
                         const char                       *path_and_query,
                         const char                       *subprotocol,
                         const GcBenchConnectionCallbacks *callbacks,
                         gpointer                          user_data)
{
  GcBenchConnection *self = g_new0 (GcBenchConnection, 1);

  gc_bench_watch_init (&self->watch, on_watch_ready);
  self->loop = loop;
  self->target = target;
  self->callbacks = callbacks;
  self->user_data = user_data;
  self->path_and_query = g_strdup (path_and_query);
  self->subprotocol = g_strdup (subprotocol);
  self->fd = -1;

  return self;
}

/* Lets go of the socket. */
static void
connection_shut (GcBenchConnection *self)
{
  gc_bench_loop_remove (self->loop, &self->watch);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  if (self->tcp != NULL)
    {
      /* No close_notify: writing it could block on a peer that stopped
       * reading, and a WebSocket close frame already said goodbye. */
      g_socket_close (g_socket_connection_get_socket (self->tcp), NULL);
      if (self->tls_stream != NULL)
        g_io_stream_close (self->tls_stream, NULL, NULL);
      g_clear_object (&self->tls_stream);
      g_clear_object (&self->tcp);
    }
  else if (self->fd >= 0)
    {
      close (self->fd);
    }
  self->fd = -1;

  self->state = STATE_CLOSED;
  g_clear_pointer (&self->response, g_byte_array_unref);
  g_clear_pointer (&self->out, g_free);
  self->out_len = self->out_pos = self->out_alloc = 0;
}

void
gc_bench_connection_free (GcBenchConnection *self)
{
  if (self == NULL)
    return;

  connection_shut (self);
  g_clear_pointer (&self->parser, gc_ws_parser_free);
  g_clear_error (&self->error);
  g_free (self->accept_key);
  g_free (self->http_reason);
  g_free (self->path_and_query);
  g_free (self->subprotocol);
  g_free (self);
}

/* Ends the connection and tells the owner (transfer full @error). Inside
 * a read the report waits until the read is done with the parser. */
void
gc_bench_connection_fail (GcBenchConnection *self,
                          GError            *error)
{
  if (self->state == STATE_CLOSED)
    {
      g_error_free (error);
      return;
    }

  if (self->in_read)
    {
      if (self->error == NULL)
        self->error = error;
      else
        g_error_free (error);
      return;
    }

  connection_shut (self);
  self->callbacks->failed (self, error, self->user_data);
  g_error_free (error);
}

static GError *
error_from_errno (const char *what,
                  int         saved_errno)
{
  return g_error_new (G_IO_ERROR, g_io_error_from_errno (saved_errno),
                      "%s: %s", what, g_strerror (saved_errno));
}

/* Writing ------------------------------------------------------------------- */

static void
update_watch (GcBenchConnection *self)
{
  if (self->watch.fd != -1)
    gc_bench_loop_modify (self->loop, &self->watch,
                          EPOLLIN | (self->out_pos < self->out_len ? EPOLLOUT : 0));
}

/* Room for @len more bytes at the end of the output buffer. */
static guint8 *
output_reserve (GcBenchConnection *self,
                gsize              len)
{
  if (self->out_pos > 0 && self->out_pos == self->out_len)
    self->out_pos = self->out_len = 0;

  if (self->out_len + len > self->out_alloc)
    {
      gsize alloc = MAX (self->out_alloc * 2, 512);

      while (alloc < self->out_len + len)
        alloc *= 2;
      self->out = g_realloc (self->out, alloc);
      self->out_alloc = alloc;
    }

  return self->out + self->out_len;
}

/* Writes what the socket takes. Returns %FALSE after failing the
 * connection. */
gboolean
gc_bench_connection_output_flush (GcBenchConnection *self)
{
  while (self->out_pos < self->out_len)
    {
      gssize n;

      if (self->tcp != NULL)
        {
          g_autoptr(GError) error = NULL;
          GOutputStream *output = g_io_stream_get_output_stream (self->tls_stream);

          n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (output),
                                                          self->out + self->out_pos,
                                                          self->out_len - self->out_pos,
                                                          NULL, &error);
          if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          if (n < 0)
            {
              gc_bench_connection_fail (self, g_steal_pointer (&error));
              return FALSE;
            }
        }
      else
        {
          n = send (self->fd, self->out + self->out_pos, self->out_len - self->out_pos,
                    MSG_NOSIGNAL);
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              gc_bench_connection_fail (self, error_from_errno ("send", errno));
              return FALSE;
            }
        }

      self->out_pos += n;
    }

  if (self->out_pos == self->out_len)
    {
      self->out_pos = self->out_len = 0;
      if (self->out_alloc > IDLE_OUTPUT_SIZE)
        {
          g_clear_pointer (&self->out, g_free);
          self->out_alloc = 0;
        }
    }
  update_watch (self);

  return TRUE;
}

static void
send_frame (GcBenchConnection *self,
            GcWsOpcode         opcode,
            const guint8      *payload,
            gsize              len)
{
  gsize size = gc_ws_frame_header_size (len, TRUE) + len;
  guint8 *out = output_reserve (self, size);

  self->out_len += gc_ws_frame_encode_into (out, GC_WS_ROLE_CLIENT, opcode, TRUE, payload, len);
  gc_bench_connection_output_flush (self);
}

/* The upgrade ------------------------------------------------------------------ */

void
gc_bench_connection_queue_upgrade_request (GcBenchConnection *self)
{
  g_autoptr(GString) request = g_string_new (NULL);
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA1);
  g_autofree char *key = NULL;
  guint8 nonce[16];
  guint8 digest[20];
  gsize digest_len = sizeof digest;

  gc_ws_random_bytes (nonce, sizeof nonce);
  key = g_base64_encode (nonce, sizeof nonce);
  g_checksum_update (checksum, (const guchar *) key, -1);
  g_checksum_update (checksum, (const guchar *) WS_GUID, -1);
  g_checksum_get_digest (checksum, digest, &digest_len);
  self->accept_key = g_base64_encode (digest, digest_len);

  g_string_append_printf (request,
                          "GET %s%s HTTP/1.1\r\n"
                          "Host: %s\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: %s\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "User-Agent: gochat-bench/" PACKAGE_VERSION "\r\n",
                          self->target->base_path, self->path_and_query,
                          self->target->host_header, key);
  if (self->subprotocol != NULL)
    g_string_append_printf (request, "Sec-WebSocket-Protocol: %s\r\n", self->subprotocol);
  g_string_append (request, "\r\n");

  memcpy (output_reserve (self, request->len), request->str, request->len);
  self->out_len += request->len;

  self->response = g_byte_array_new ();
  self->state = STATE_UPGRADING;
}

/* The refusal, as one line: "HTTP 429 Too Many Requests: {…}". */
static void
fail_refused (GcBenchConnection *self)
{
  const char *body = (const char *) self->response->data + self->header_len;
  gsize body_len = MIN (self->response->len - self->header_len, MAX_REFUSAL_BODY);
  g_autofree char *text = g_utf8_make_valid (body, body_len);

  g_strstrip (g_strdelimit (text, "\r\n", ' '));
  gc_bench_connection_fail (self, g_error_new (GC_BENCH_ERROR, GC_BENCH_ERROR_REFUSED,
                                               "HTTP %u %s%s%s", self->http_status,
                                               self->http_reason != NULL ? self->http_reason : "",
                                               *text != '\0' ? ": " : "", text));
}

static gboolean on_frame (GcWsOpcode  opcode,
                          GBytes     *payload,
                          gpointer    user_data);
static void feed_frames (GcBenchConnection *self,
                         const guint8      *data,
                         gsize              len);

static void
finish_upgrade (GcBenchConnection  *self,
                SoupMessageHeaders *headers)
{
  const char *accept = soup_message_headers_get_one (headers, "Sec-WebSocket-Accept");
  const char *protocol = soup_message_headers_get_one (headers, "Sec-WebSocket-Protocol");
  g_autoptr(GByteArray) response = g_steal_pointer (&self->response);

  if (!soup_message_headers_header_contains (headers, "Upgrade", "websocket") ||
      !soup_message_headers_header_contains (headers, "Connection", "upgrade") ||
      g_strcmp0 (accept, self->accept_key) != 0)
    {
      gc_bench_connection_fail (self, g_error_new_literal (GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_RESPONSE,
                                                           "the server's 101 response is not a valid "
                                                           "WebSocket upgrade"));
      return;
    }
  if (protocol != NULL && g_strcmp0 (protocol, self->subprotocol) != 0)
    {
      gc_bench_connection_fail (self, g_error_new (GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_RESPONSE,
                                                   "the server chose the subprotocol “%s”, which was "
                                                   "not offered", protocol));
      return;
    }

  self->state = STATE_OPEN;
  self->parser = gc_ws_parser_new (GC_WS_ROLE_CLIENT, 0);
  self->callbacks->opened (self, self->user_data);

  /* Frames that came with the 101. */
  if (self->state == STATE_OPEN && response->len > self->header_len)
    feed_frames (self, response->data + self->header_len, response->len - self->header_len);
}

static gboolean
refusal_complete (GcBenchConnection *self,
                  gboolean           eof)
{
  gsize have = self->response->len - self->header_len;

  return eof || have >= MIN (self->body_len, MAX_REFUSAL_BODY);
}

static void
parse_response_headers (GcBenchConnection *self)
{
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  SoupHTTPVersion version;
  guint status;
  char *reason = NULL;

  if (!soup_headers_parse_response ((const char *) self->response->data, self->header_len,
                                    headers, &version, &status, &reason))
    {
      gc_bench_connection_fail (self, g_error_new_literal (GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_RESPONSE,
                                                           "the server sent a malformed HTTP response"));
      return;
    }
  self->http_reason = reason;

  if (status == SOUP_STATUS_SWITCHING_PROTOCOLS)
    {
      finish_upgrade (self, headers);
      return;
    }

  self->http_status = status;
  self->state = STATE_REFUSED;
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
    self->body_len = soup_message_headers_get_content_length (headers);
  else
    self->body_len = G_MAXSIZE;

  if (refusal_complete (self, FALSE))
    fail_refused (self);
}

static void
handle_response_bytes (GcBenchConnection *self,
                       const guint8      *data,
                       gsize              len)
{
  gsize searched = self->response->len;

  g_byte_array_append (self->response, data, len);

  if (self->state == STATE_REFUSED)
    {
      if (refusal_complete (self, FALSE))
        fail_refused (self);
      return;
    }

  for (gsize i = searched >= 3 ? searched - 3 : 0; i + 4 <= self->response->len; i++)
    {
      if (memcmp (self->response->data + i, "\r\n\r\n", 4) == 0)
        {
          self->header_len = i + 4;
          parse_response_headers (self);
          return;
        }
    }

  if (self->response->len >= MAX_RESPONSE_HEADERS)
    gc_bench_connection_fail (self, g_error_new (GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_RESPONSE,
                                                 "the server's response headers exceed %u bytes",
                                                 MAX_RESPONSE_HEADERS));
}

/* Frames --------------------------------------------------------------------- */

static gboolean
on_frame (GcWsOpcode  opcode,
          GBytes     *payload,
          gpointer    user_data)
{
  GcBenchConnection *self = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);

  switch (opcode)
    {
    case GC_WS_OPCODE_TEXT:
      self->callbacks->message (self, (const char *) data, len, self->received_ns,
                                self->user_data);
      break;

    case GC_WS_OPCODE_PING:
      send_frame (self, GC_WS_OPCODE_PONG, data, len);
      break;

    case GC_WS_OPCODE_CLOSE:
      {
        g_autofree char *reason = NULL;
        gushort code = 0;

        gc_ws_close_payload_parse (data, len, &code, &reason, NULL);
        /* Echo it, as RFC 6455 asks, before letting go. */
        send_frame (self, GC_WS_OPCODE_CLOSE, data, MIN (len, 2));
        gc_bench_connection_fail (self, g_error_new (GC_BENCH_ERROR, GC_BENCH_ERROR_CLOSED,
                                                     "the server closed the connection with %u%s%s",
                                                     code, reason != NULL && *reason != '\0' ? ": " : "",
                                                     reason != NULL ? reason : ""));
      }
      return FALSE;

    case GC_WS_OPCODE_BINARY:
    case GC_WS_OPCODE_PONG:
    case GC_WS_OPCODE_CONTINUATION:
    default:
      break;
    }

  return self->state == STATE_OPEN && self->error == NULL;
}

static void
feed_frames (GcBenchConnection *self,
             const guint8      *data,
             gsize              len)
{
  g_autoptr(GError) error = NULL;

  if (!gc_ws_parser_feed (self->parser, data, len, on_frame, self, &error))
    gc_bench_connection_fail (self, g_error_new (GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_RESPONSE,
                                                 "the server broke RFC 6455: %s", error->message));
}

/* Reading --------------------------------------------------------------------- */

static void
handle_bytes (GcBenchConnection *self,
              const guint8      *data,
              gsize              len)
{
  switch (self->state)
    {
    case STATE_UPGRADING:
    case STATE_REFUSED:
      handle_response_bytes (self, data, len);
      break;
    case STATE_OPEN:
      feed_frames (self, data, len);
      break;
    case STATE_NEW:
    case STATE_CONNECTING:
    case STATE_CLOSED:
    default:
      break;
    }
}

static void
handle_eof (GcBenchConnection *self)
{
  if (self->state == STATE_REFUSED)
    {
      fail_refused (self);
      return;
    }

  gc_bench_connection_fail (self,
                            g_error_new_literal (GC_BENCH_ERROR, GC_BENCH_ERROR_CLOSED,
                                                 self->state == STATE_OPEN
                                                 ? "the server closed the connection without a close frame"
                                                 : "the server closed the connection during the upgrade"));
}

/* Reads until the socket would block; a read that fills the buffer may
 * leave more behind. */
static void
handle_readable (GcBenchConnection *self)
{
  guint8 *buffer = gc_bench_loop_get_read_buffer (self->loop);

  self->in_read = TRUE;
  while (self->state != STATE_CLOSED && self->error == NULL)
    {
      gssize n;

      if (self->tcp != NULL)
        {
          g_autoptr(GError) error = NULL;
          GInputStream *input = g_io_stream_get_input_stream (self->tls_stream);

          n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (input), buffer,
                                                        GC_BENCH_LOOP_READ_SIZE, NULL, &error);
          if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          if (n < 0 && g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_EOF))
            n = 0;
          else if (n < 0)
            {
              gc_bench_connection_fail (self, g_steal_pointer (&error));
              break;
            }
        }
      else
        {
          n = recv (self->fd, buffer, GC_BENCH_LOOP_READ_SIZE, 0);
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              gc_bench_connection_fail (self, error_from_errno ("recv", errno));
              break;
            }
        }

      if (n == 0)
        {
          handle_eof (self);
          break;
        }

      self->received_ns = gc_bench_now_ns ();
      handle_bytes (self, buffer, n);

      /* A short read from a plain socket emptied it; TLS may hold
       * decrypted bytes that epoll cannot see. */
      if (self->tcp == NULL && n < GC_BENCH_LOOP_READ_SIZE)
        break;
    }
  self->in_read = FALSE;

  if (self->error != NULL)
    gc_bench_connection_fail (self, g_steal_pointer (&self->error));
}

static void
handle_connected (GcBenchConnection *self)
{
  int error = 0;
  socklen_t len = sizeof error;

  if (getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
    error = errno;
  if (error == EINPROGRESS)
    return;
  if (error != 0)
    {
      g_autofree char *what = g_strdup_printf ("cannot connect to %s", self->target->host_header);

      gc_bench_connection_fail (self, error_from_errno (what, error));
      return;
    }

  gc_bench_connection_queue_upgrade_request (self);
  gc_bench_connection_output_flush (self);
}

static void
on_watch_ready (GcBenchWatch *watch,
                guint32       events)
{
  GcBenchConnection *self = (GcBenchConnection *) watch;

  if (self->state == STATE_CONNECTING)
    {
      handle_connected (self);
      return;
    }

  if ((events & (EPOLLOUT | EPOLLERR)) != 0 && self->out_pos < self->out_len &&
      !gc_bench_connection_output_flush (self))
    return;

  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
    handle_readable (self);
}

/* Connecting -------------------------------------------------------------------- */

static gboolean
start_plain (GcBenchConnection  *self,
             GError            **error)
{
  const struct sockaddr *address = (const struct sockaddr *) self->target->address;
  int one = 1;

  self->fd = socket (address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (self->fd < 0)
    {
      g_propagate_error (error, error_from_errno ("socket", errno));
      return FALSE;
    }
  /* Frames go out as they are written, as a chat client's would. */
  setsockopt (self->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  if (connect (self->fd, address, self->target->address_len) != 0 && errno != EINPROGRESS)
    {
      int saved_errno = errno;
      g_autofree char *what = g_strdup_printf ("cannot connect to %s", self->target->host_header);

      close (self->fd);
      self->fd = -1;
      g_propagate_error (error, error_from_errno (what, saved_errno));
      return FALSE;
    }

  self->state = STATE_CONNECTING;
  if (!gc_bench_loop_add (self->loop, &self->watch, self->fd, EPOLLOUT | EPOLLIN, error))
    {
      close (self->fd);
      self->fd = -1;
      return FALSE;
    }

  return TRUE;
}

gboolean
gc_bench_connection_start (GcBenchConnection  *self,
                           GError            **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->state == STATE_NEW, FALSE);

  if (self->target->tls)
    {
      gc_bench_connection_start_tls (self);
      return TRUE;
    }

  return start_plain (self, error);
}

/* Using it ----------------------------------------------------------------------- */

gboolean
gc_bench_connection_is_open (GcBenchConnection *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->state == STATE_OPEN && self->error == NULL;
}

void
gc_bench_connection_send_text (GcBenchConnection *self,
                               const char        *text,
                               gsize              len)
{
  g_return_if_fail (self != NULL);

  if (!gc_bench_connection_is_open (self))
    return;

  send_frame (self, GC_WS_OPCODE_TEXT, (const guint8 *) text, len);
}

void
gc_bench_connection_close (GcBenchConnection *self)
{
  static const guint8 normal_closure[2] = { GC_WS_CLOSE_NORMAL >> 8, GC_WS_CLOSE_NORMAL & 0xff };

  g_return_if_fail (self != NULL);

  if (gc_bench_connection_is_open (self))
    {
      gsize size = gc_ws_frame_header_size (sizeof normal_closure, TRUE) + sizeof normal_closure;
      guint8 *out = output_reserve (self, size);

      self->out_len += gc_ws_frame_encode_into (out, GC_WS_ROLE_CLIENT, GC_WS_OPCODE_CLOSE, TRUE,
                                                normal_closure, sizeof normal_closure);
      /* Best effort: what the socket does not take now is dropped. */
      self->in_read = TRUE;
      gc_bench_connection_output_flush (self);
      self->in_read = FALSE;
      g_clear_error (&self->error);
    }

  connection_shut (self);
}

guint
gc_bench_connection_get_http_status (GcBenchConnection *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->http_status;
}
