/* gc-ws-handshake.c: the HTTP upgrade, the client role (the server role
 * is gc-ws-handshake-server.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-ws-handshake-private.h"
#include "gc-ws-random.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define READ_CHUNK_SIZE 8192

G_DEFINE_QUARK (gc-ws-handshake-error-quark, gc_ws_handshake_error)

static guint handshake_timeout_s = GC_WS_HANDSHAKE_DEFAULT_TIMEOUT_S;

void
gc_ws_handshake_set_timeout (guint timeout_s)
{
  handshake_timeout_s = timeout_s;
}

char *
gc_ws_handshake_compute_accept (const char *key)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_len = sizeof digest;

  g_checksum_update (checksum, (const guchar *) key, strlen (key));
  g_checksum_update (checksum, (const guchar *) WS_GUID, strlen (WS_GUID));
  g_checksum_get_digest (checksum, digest, &digest_len);

  return g_base64_encode (digest, digest_len);
}

/* Client role */

typedef struct {
  char               *host;
  guint16             port;
  gboolean            tls;
  GTlsDatabase       *tls_database;
  GcWsPoller         *poller;
  char              **protocols;
  char               *key;
  GString            *request;

  GSocketConnection  *connection;
  guint8              chunk[READ_CHUNK_SIZE];
  GByteArray         *response;       /* every byte read so far */
  gsize               header_len;     /* up to and including the blank line; 0 = not yet */

  SoupMessageHeaders *headers;
  guint               status;
  char               *reason;
  SoupEncoding        body_encoding;
  gsize               body_wanted;    /* for SOUP_ENCODING_CONTENT_LENGTH */
  GSource            *body_timeout;   /* while a refusal's body is read */
  GBytes             *body;
} ConnectData;

static void
connect_data_stop_body_timeout (ConnectData *data)
{
  if (data->body_timeout != NULL)
    {
      g_source_destroy (data->body_timeout);
      g_clear_pointer (&data->body_timeout, g_source_unref);
    }
}

static void
connect_data_free (ConnectData *data)
{
  connect_data_stop_body_timeout (data);
  g_free (data->host);
  g_clear_object (&data->tls_database);
  g_clear_object (&data->poller);
  g_strfreev (data->protocols);
  g_free (data->key);
  if (data->request != NULL)
    g_string_free (data->request, TRUE);
  g_clear_object (&data->connection);
  g_clear_pointer (&data->response, g_byte_array_unref);
  g_clear_pointer (&data->headers, soup_message_headers_unref);
  g_free (data->reason);
  g_clear_pointer (&data->body, g_bytes_unref);
  g_free (data);
}

static void read_response (GTask *task);

static gboolean
header_value_is_empty (const char *value)
{
  return value == NULL || value[strspn (value, " \t")] == '\0';
}

/* Checks a 101 against our request (RFC 6455 §4.1, the client's checks). */
static gboolean
verify_switching_protocols (ConnectData  *data,
                            const char  **protocol,
                            GError      **error)
{
  g_autofree char *expected_accept = NULL;
  const char *accept;
  const char *selected;

  if (!soup_message_headers_header_contains (data->headers, "Upgrade", "websocket"))
    {
      g_set_error_literal (error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_RESPONSE,
                           "The server's 101 response does not upgrade to websocket");
      return FALSE;
    }

  if (!soup_message_headers_header_contains (data->headers, "Connection", "upgrade"))
    {
      g_set_error_literal (error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_RESPONSE,
                           "The server's 101 response lacks \"Connection: Upgrade\"");
      return FALSE;
    }

  expected_accept = gc_ws_handshake_compute_accept (data->key);
  accept = soup_message_headers_get_one (data->headers, "Sec-WebSocket-Accept");
  if (g_strcmp0 (accept, expected_accept) != 0)
    {
      g_set_error_literal (error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_RESPONSE,
                           accept == NULL
                             ? "The server's 101 response lacks Sec-WebSocket-Accept"
                             : "The server's Sec-WebSocket-Accept does not match our key");
      return FALSE;
    }

  /* We offer no extensions, so the server may not select one. */
  if (!header_value_is_empty (soup_message_headers_get_list (data->headers,
                                                             "Sec-WebSocket-Extensions")))
    {
      g_set_error_literal (error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_RESPONSE,
                           "The server selected a WebSocket extension we did not offer");
      return FALSE;
    }

  selected = soup_message_headers_get_list (data->headers, "Sec-WebSocket-Protocol");
  if (selected != NULL &&
      (data->protocols == NULL || !g_strv_contains ((const char * const *) data->protocols, selected)))
    {
      g_set_error (error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_RESPONSE,
                   "The server selected the subprotocol \"%s\", which we did not offer",
                   selected);
      return FALSE;
    }

  *protocol = selected;
  return TRUE;
}

static void
complete_upgrade (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GBytes) initial_data = NULL;
  g_autoptr(GError) error = NULL;
  GcWsConnection *connection;
  const char *protocol = NULL;

  if (!verify_switching_protocols (data, &protocol, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The handshake timeout must not outlive the handshake: an idle
   * WebSocket is no failure. */
  g_socket_set_timeout (g_socket_connection_get_socket (data->connection), 0);

  /* Frames the server sent right behind its 101. */
  if (data->response->len > data->header_len)
    initial_data = g_bytes_new (data->response->data + data->header_len,
                                data->response->len - data->header_len);

  connection = gc_ws_connection_new (G_IO_STREAM (data->connection), GC_WS_ROLE_CLIENT,
                                     initial_data, protocol, data->poller);
  g_task_return_pointer (task, connection, g_object_unref);
}

static void
complete_refusal (GTask  *task,
                  GBytes *body)
{
  ConnectData *data = g_task_get_task_data (task);

  /* Nothing more is wanted from this server: close now rather than when
   * the task goes, which a caller holding the result may put off. */
  connect_data_stop_body_timeout (data);
  g_socket_close (g_socket_connection_get_socket (data->connection), NULL);

  data->body = body;
  g_task_return_new_error (task, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED,
                           "Server refused the connection: %u %s",
                           data->status, data->reason != NULL ? data->reason : "");
}

/* Decodes as much of a chunked body as has arrived (RFC 9112 §7.1), up to
 * @limit decoded bytes. Returns %TRUE once the last chunk was seen or the
 * limit reached; a malformed encoding ends the body where it broke. */
static gboolean
decode_chunked (const guint8 *raw,
                gsize         raw_len,
                gsize         limit,
                GByteArray   *decoded)
{
  gsize pos = 0;

  g_byte_array_set_size (decoded, 0);

  for (;;)
    {
      const guint8 *line_end;
      guint64 chunk_size;
      const char *digits;
      char *digits_end;
      gsize available;

      line_end = memchr (raw + pos, '\n', raw_len - pos);
      if (line_end == NULL)
        return FALSE;

      digits = (const char *) raw + pos;
      chunk_size = g_ascii_strtoull (digits, &digits_end, 16);
      if (digits_end == digits)
        return TRUE;
      if (chunk_size == 0)
        return TRUE;

      pos = line_end - raw + 1;
      available = MIN (raw_len - pos, chunk_size);
      g_byte_array_append (decoded, raw + pos, MIN (available, limit - decoded->len));
      if (decoded->len >= limit)
        return TRUE;
      if (available < chunk_size)
        return FALSE;

      pos += chunk_size;
      /* The CRLF after the chunk data. */
      line_end = memchr (raw + pos, '\n', raw_len - pos);
      if (line_end == NULL)
        return FALSE;
      pos = line_end - raw + 1;
    }
}

/* Looks at the refusal body read so far. Returns %TRUE and sets @body
 * once it is complete (or @at_eof); %FALSE means read on. */
static gboolean
refusal_body_ready (ConnectData  *data,
                    gboolean      at_eof,
                    GBytes      **body)
{
  const guint8 *raw = data->response->data + data->header_len;
  gsize raw_len = data->response->len - data->header_len;
  gboolean complete;

  switch (data->body_encoding)
    {
    case SOUP_ENCODING_NONE:
      *body = NULL;
      return TRUE;

    case SOUP_ENCODING_CHUNKED:
      {
        g_autoptr(GByteArray) decoded = g_byte_array_new ();

        complete = decode_chunked (raw, raw_len, GC_WS_HANDSHAKE_MAX_BODY_SIZE, decoded) ||
                   raw_len >= 2 * GC_WS_HANDSHAKE_MAX_BODY_SIZE;
        if (!complete && !at_eof)
          return FALSE;
        *body = g_byte_array_free_to_bytes (g_steal_pointer (&decoded));
        return TRUE;
      }

    case SOUP_ENCODING_CONTENT_LENGTH:
      complete = raw_len >= data->body_wanted;
      break;

    case SOUP_ENCODING_EOF:
    case SOUP_ENCODING_BYTERANGES:
    default:
      complete = raw_len >= GC_WS_HANDSHAKE_MAX_BODY_SIZE;
      break;
    }

  if (!complete && !at_eof)
    return FALSE;

  *body = g_bytes_new (raw, MIN (raw_len, GC_WS_HANDSHAKE_MAX_BODY_SIZE));
  return TRUE;
}

/* Appends what the stream holds right now, without waiting, up to the
 * body limit. */
static void
read_available (ConnectData *data)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (data->connection));

  if (!G_IS_POLLABLE_INPUT_STREAM (input) ||
      !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (input)))
    return;

  while (data->response->len - data->header_len < GC_WS_HANDSHAKE_MAX_BODY_SIZE)
    {
      gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (input),
                                                           data->chunk, sizeof data->chunk,
                                                           NULL, NULL);
      if (n <= 0)
        return;
      g_byte_array_append (data->response, data->chunk, n);
    }
}

/* The body has had its time: stop reading from the socket, so that the
 * pending read ends (at EOF) and the refusal completes with what came. */
static gboolean
on_body_timeout (gpointer user_data)
{
  ConnectData *data = user_data;

  g_clear_pointer (&data->body_timeout, g_source_unref);
  g_socket_shutdown (g_socket_connection_get_socket (data->connection), TRUE, FALSE, NULL);
  return G_SOURCE_REMOVE;
}

static void
start_refusal (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);
  GBytes *body;

  if (SOUP_STATUS_IS_INFORMATIONAL (data->status) ||
      data->status == SOUP_STATUS_NO_CONTENT ||
      data->status == SOUP_STATUS_NOT_MODIFIED)
    data->body_encoding = SOUP_ENCODING_NONE;
  else
    data->body_encoding = soup_message_headers_get_encoding (data->headers);

  if (data->body_encoding == SOUP_ENCODING_CONTENT_LENGTH)
    data->body_wanted = MIN ((guint64) soup_message_headers_get_content_length (data->headers),
                             GC_WS_HANDSHAKE_MAX_BODY_SIZE);

  if (refusal_body_ready (data, FALSE, &body))
    {
      complete_refusal (task, body);
      return;
    }

  /* A body that runs until the server closes could run forever (issue
   * 11.2: a 200 streaming a page kept us waiting for the 30 s handshake
   * timeout): keep what has arrived and fail now. */
  if (data->body_encoding != SOUP_ENCODING_CONTENT_LENGTH &&
      data->body_encoding != SOUP_ENCODING_CHUNKED)
    {
      read_available (data);
      refusal_body_ready (data, TRUE, &body);
      complete_refusal (task, body);
      return;
    }

  /* A delimited body usually follows its headers at once: give it a
   * little time, not the handshake's. */
  data->body_timeout = g_timeout_source_new (GC_WS_HANDSHAKE_BODY_TIMEOUT_MS);
  g_source_set_callback (data->body_timeout, on_body_timeout, data, NULL);
  g_source_set_static_name (data->body_timeout, "GcWsHandshake body timeout");
  g_source_attach (data->body_timeout, g_task_get_context (task));
  read_response (task);
}

/* Returns the length of the header block in @buf (blank line included),
 * or 0 if it is not complete; the search resumes at @from. */
static gsize
find_header_end (const guint8 *buf,
                 gsize         len,
                 gsize         from)
{
  for (gsize i = from; i + 4 <= len; i++)
    if (memcmp (buf + i, "\r\n\r\n", 4) == 0)
      return i + 4;
  return 0;
}

static void
parse_response_headers (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);
  SoupHTTPVersion version;

  data->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  if (!soup_headers_parse_response ((const char *) data->response->data, data->header_len,
                                    data->headers, &version, &data->status, &data->reason))
    {
      g_task_return_new_error (task, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_RESPONSE,
                               "The server sent a malformed HTTP response");
      return;
    }

  if (data->status == SOUP_STATUS_SWITCHING_PROTOCOLS)
    complete_upgrade (task);
  else
    start_refusal (task);
}

static void
on_response_read (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gsize previous_len;
  gssize n_read;

  n_read = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  /* A refusal's status stands even if its body breaks off (or was cut
   * short by the body timeout). */
  if (n_read < 0 && data->header_len > 0 &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      GBytes *body;

      refusal_body_ready (data, TRUE, &body);
      complete_refusal (task, body);
      return;
    }
  if (n_read < 0)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  previous_len = data->response->len;
  g_byte_array_append (data->response, data->chunk, n_read);

  /* Reading a refusal's body. */
  if (data->header_len > 0)
    {
      GBytes *body;

      if (refusal_body_ready (data, n_read == 0, &body))
        complete_refusal (task, body);
      else
        read_response (task);
      return;
    }

  if (n_read == 0)
    {
      g_task_return_new_error (task, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_RESPONSE,
                               "The server closed the connection during the handshake");
      return;
    }

  data->header_len = find_header_end (data->response->data, data->response->len,
                                      previous_len >= 3 ? previous_len - 3 : 0);
  if (data->header_len > GC_WS_HANDSHAKE_MAX_HEADER_SIZE ||
      (data->header_len == 0 && data->response->len >= GC_WS_HANDSHAKE_MAX_HEADER_SIZE))
    {
      g_task_return_new_error (task, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_TOO_LARGE,
                               "The server's response headers exceed %u bytes",
                               GC_WS_HANDSHAKE_MAX_HEADER_SIZE);
      return;
    }

  if (data->header_len == 0)
    read_response (task);
  else
    parse_response_headers (task);
}

static void
read_response (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (data->connection));

  g_input_stream_read_async (input, data->chunk, sizeof data->chunk, G_PRIORITY_DEFAULT,
                             g_task_get_cancellable (task), on_response_read,
                             g_object_ref (task));
}

static void
on_request_written (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  read_response (task);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GOutputStream *output;

  data->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (data->connection == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  output = g_io_stream_get_output_stream (G_IO_STREAM (data->connection));
  g_output_stream_write_all_async (output, data->request->str, data->request->len,
                                   G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                   on_request_written, g_object_ref (task));
}

static void
on_socket_client_event (GSocketClient      *client,
                        GSocketClientEvent  event,
                        GSocketConnectable *connectable,
                        GIOStream          *connection,
                        gpointer            user_data)
{
  GTlsDatabase *tls_database = user_data;

  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_tls_connection_set_database (G_TLS_CONNECTION (connection), tls_database);
}

static GString *
build_request (GUri               *uri,
               const char         *host_header,
               const char         *key,
               const char         *origin,
               const char * const *protocols)
{
  GString *request = g_string_new (NULL);
  const char *path = g_uri_get_path (uri);
  const char *query = g_uri_get_query (uri);

  g_string_append_printf (request, "GET %s%s%s HTTP/1.1\r\n",
                          *path != '\0' ? path : "/",
                          query != NULL ? "?" : "",
                          query != NULL ? query : "");
  g_string_append_printf (request, "Host: %s\r\n", host_header);
  g_string_append (request,
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n");
  g_string_append_printf (request, "Sec-WebSocket-Key: %s\r\n", key);
  g_string_append (request, "Sec-WebSocket-Version: 13\r\n");
  if (protocols != NULL && protocols[0] != NULL)
    {
      g_autofree char *list = g_strjoinv (", ", (char **) protocols);

      g_string_append_printf (request, "Sec-WebSocket-Protocol: %s\r\n", list);
    }
  if (origin != NULL)
    g_string_append_printf (request, "Origin: %s\r\n", origin);
  g_string_append (request, "User-Agent: gochat/" PACKAGE_VERSION "\r\n\r\n");

  return request;
}

/* Header values go onto the wire verbatim: refuse anything that could end
 * the line (or the header block) early. */
static gboolean
is_valid_header_value (const char *value)
{
  return value == NULL || strpbrk (value, "\r\n") == NULL;
}

static gboolean
is_valid_protocol_list (const char * const *protocols)
{
  if (protocols == NULL)
    return TRUE;

  for (gsize i = 0; protocols[i] != NULL; i++)
    {
      const char *p = protocols[i];

      /* A subprotocol is an HTTP token (RFC 6455 §4.1, RFC 7230 §3.2.6). */
      if (*p == '\0' || strpbrk (p, "()<>@,;:\\\"/[]?={} \t\r\n") != NULL)
        return FALSE;
      for (; *p != '\0'; p++)
        if ((guchar) *p <= 0x20 || (guchar) *p >= 0x7f)
          return FALSE;
    }

  return TRUE;
}

void
gc_ws_connect_async (const char          *url,
                     const char          *origin,
                     const char * const  *protocols,
                     GTlsDatabase        *tls_database,
                     GcWsPoller          *poller,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  g_autofree char *host_header = NULL;
  ConnectData *data;
  const char *scheme;
  guint8 key_bytes[16];
  guint16 default_port;
  int port;

  g_return_if_fail (url != NULL);
  g_return_if_fail (tls_database == NULL || G_IS_TLS_DATABASE (tls_database));
  g_return_if_fail (poller == NULL || GC_IS_WS_POLLER (poller));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, gc_ws_connect_async);

  /* Path and query stay as the caller encoded them. */
  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, &error);
  if (uri == NULL)
    {
      g_task_return_new_error (task, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_URL,
                               "Invalid URL “%s”: %s", url, error->message);
      return;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "ws") == 0)
    default_port = 80;
  else if (g_ascii_strcasecmp (scheme, "wss") == 0)
    default_port = 443;
  else
    {
      g_task_return_new_error (task, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_URL,
                               "Invalid URL “%s”: the scheme must be ws or wss", url);
      return;
    }

  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_task_return_new_error (task, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_URL,
                               "Invalid URL “%s”: no host", url);
      return;
    }

  /* RFC 6455 §3: fragment identifiers have no meaning here. */
  if (g_uri_get_fragment (uri) != NULL)
    {
      g_task_return_new_error (task, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_URL,
                               "Invalid URL “%s”: a WebSocket URL has no fragment", url);
      return;
    }

  if (!is_valid_header_value (origin) || !is_valid_protocol_list (protocols))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "Invalid Origin or subprotocol for “%s”", url);
      return;
    }

  port = g_uri_get_port (uri);

  data = g_new0 (ConnectData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) connect_data_free);
  data->host = g_strdup (g_uri_get_host (uri));
  data->port = port > 0 ? port : default_port;
  data->tls = default_port == 443;
  data->tls_database = tls_database != NULL ? g_object_ref (tls_database) : NULL;
  data->poller = poller != NULL ? g_object_ref (poller) : NULL;
  data->protocols = g_strdupv ((char **) protocols);
  data->response = g_byte_array_sized_new (READ_CHUNK_SIZE);

  gc_ws_random_bytes (key_bytes, sizeof key_bytes);
  data->key = g_base64_encode (key_bytes, sizeof key_bytes);

  /* An IPv6 literal keeps its brackets in Host. */
  host_header = g_strdup_printf ("%s%s%s",
                                 strchr (data->host, ':') != NULL ? "[" : "",
                                 data->host,
                                 strchr (data->host, ':') != NULL ? "]" : "");
  if (data->port != default_port)
    {
      char *with_port = g_strdup_printf ("%s:%u", host_header, data->port);

      g_free (host_header);
      host_header = with_port;
    }
  data->request = build_request (uri, host_header, data->key, origin, protocols);

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, handshake_timeout_s);
  if (data->tls)
    {
      g_socket_client_set_tls (client, TRUE);
      /* The task data outlives the connect, the only time "event" fires. */
      if (data->tls_database != NULL)
        g_signal_connect (client, "event", G_CALLBACK (on_socket_client_event),
                          data->tls_database);
    }

  address = g_network_address_new (data->host, data->port);
  g_socket_client_connect_async (client, address, cancellable, on_connected,
                                 g_steal_pointer (&task));
}

GcWsConnection *
gc_ws_connect_finish (GAsyncResult  *result,
                      guint         *http_status,
                      GBytes       **http_body,
                      GError       **error)
{
  GTask *task;
  ConnectData *data;
  GcWsConnection *connection;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gc_ws_connect_async, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  task = G_TASK (result);
  data = g_task_get_task_data (task);

  if (http_status != NULL)
    *http_status = 0;
  if (http_body != NULL)
    *http_body = NULL;

  connection = g_task_propagate_pointer (task, &local_error);
  if (connection != NULL)
    return connection;

  if (data != NULL &&
      g_error_matches (local_error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED))
    {
      if (http_status != NULL)
        *http_status = data->status;
      if (http_body != NULL && data->body != NULL)
        *http_body = g_bytes_ref (data->body);
    }

  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}
