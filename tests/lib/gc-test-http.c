/* gc-test-http.c: raw HTTP for the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-protocol.h"
#include "gc-test-http.h"
#include "gc-ws-frame.h"

const guint8 *
gc_test_find_header_end (const guint8 *data,
                         gsize         len)
{
  /* memmem() is a GNU extension. */
  for (gsize i = 0; i + 4 <= len; i++)
    if (memcmp (data + i, "\r\n\r\n", 4) == 0)
      return data + i;
  return NULL;
}

JsonObject *
gc_test_parse_json_object (const char *text,
                           gsize       len)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, text, len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

/* ------------------------------------------------------------------ */
/* Raw HTTP                                                             */
/* ------------------------------------------------------------------ */

void
gc_test_http_response_free (GcTestHttpResponse *response)
{
  if (response == NULL)
    return;
  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_clear_pointer (&response->json, json_object_unref);
  g_free (response->body_text);
  g_free (response);
}

typedef struct {
  GByteArray        *data;
  gsize              header_len;
  goffset            content_length;  /* -1: read to EOF */
  gboolean           done;
  GError            *error;
  GSocketConnection *connection;
  guint8             chunk[8192];
} HttpExchange;

static void http_read (HttpExchange *exchange);

/* What a server sent after a 101, decoded by the codec's own parser. */
typedef struct {
  guint    n_messages;
  guint    first_opcode;  /* of the first message */
  char    *first_text;    /* the first message if text, else NULL */
  gboolean closed;        /* a close frame came */
  guint    close_code;    /* 1005 if it had none */
  char    *close_reason;
} ServerFrames;

static void
server_frames_clear (ServerFrames *frames)
{
  g_clear_pointer (&frames->first_text, g_free);
  g_clear_pointer (&frames->close_reason, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ServerFrames, server_frames_clear)

static gboolean
on_server_frame (GcWsOpcode  opcode,
                 GBytes     *payload,
                 gpointer    user_data)
{
  ServerFrames *frames = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (payload, &size);

  if (opcode == GC_WS_OPCODE_CLOSE)
    {
      frames->closed = TRUE;
      frames->close_code = size >= 2 ? (guint) data[0] << 8 | data[1] : 1005;
      frames->close_reason = size > 2 ? g_strndup ((const char *) data + 2, size - 2)
                                      : g_strdup ("");
      return FALSE;
    }
  if (opcode == GC_WS_OPCODE_TEXT || opcode == GC_WS_OPCODE_BINARY)
    {
      if (frames->n_messages++ == 0)
        {
          frames->first_opcode = opcode;
          if (opcode == GC_WS_OPCODE_TEXT)
            frames->first_text = g_strndup ((const char *) data, size);
        }
    }
  return TRUE;
}

/* Decodes the complete frames in [@data, @data + @len) (unmasked server
 * frames) up to a close; an incomplete last frame is left out. */
static void
read_server_frames (const guint8 *data,
                    gsize         len,
                    ServerFrames *frames)
{
  g_autoptr(GcWsParser) parser = gc_ws_parser_new (GC_WS_ROLE_CLIENT, 0);

  memset (frames, 0, sizeof *frames);
  gc_ws_parser_feed (parser, data, len, on_server_frame, frames, NULL);
}

/* Whether the server frames after a 101 are complete: a close frame has
 * come, or a first text message that is not a `refused` event. */
static gboolean
upgrade_frames_complete (const guint8 *data,
                         gsize         len)
{
  g_auto(ServerFrames) frames;

  read_server_frames (data, len, &frames);
  if (frames.closed)
    return TRUE;
  return frames.n_messages > 0 && frames.first_opcode == GC_WS_OPCODE_TEXT &&
         !g_strstr_len (frames.first_text, 32, "\"refused\"");
}

static gboolean
http_is_complete (HttpExchange *exchange)
{
  const guint8 *end;

  if (exchange->header_len == 0)
    {
      g_autoptr(SoupMessageHeaders) headers = NULL;
      guint status;

      end = gc_test_find_header_end (exchange->data->data, exchange->data->len);
      if (end == NULL)
        return FALSE;
      exchange->header_len = end + 4 - exchange->data->data;

      headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
      if (!soup_headers_parse_response ((const char *) exchange->data->data,
                                        exchange->header_len, headers, NULL, &status, NULL))
        exchange->content_length = -1;
      else if (SOUP_STATUS_IS_INFORMATIONAL (status))
        /* A 101: what follows is WebSocket frames, not a body; they are
         * read only when they are a refusal (see below). */
        exchange->content_length = -2;
      else if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
        exchange->content_length = soup_message_headers_get_content_length (headers);
      else
        exchange->content_length = -1;
    }

  /* After a 101: a refusal (docs/protocol.md §3.6) is read up to its close
   * frame; anything else (a welcome) ends the exchange at its first frame. */
  if (exchange->content_length == -2)
    return upgrade_frames_complete (exchange->data->data + exchange->header_len,
                                    exchange->data->len - exchange->header_len);

  return exchange->content_length >= 0 &&
         exchange->data->len >= exchange->header_len + exchange->content_length;
}

static void
on_http_read (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  HttpExchange *exchange = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &exchange->error);

  if (n > 0)
    g_byte_array_append (exchange->data, exchange->chunk, n);

  /* An error after a complete header block is the peer resetting a
   * connection it already answered on. */
  if (n < 0 && exchange->header_len > 0)
    g_clear_error (&exchange->error);

  if (n <= 0 || http_is_complete (exchange))
    exchange->done = TRUE;
  else
    http_read (exchange);
}

static void
http_read (HttpExchange *exchange)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (exchange->connection));

  g_input_stream_read_async (input, exchange->chunk, sizeof exchange->chunk,
                             G_PRIORITY_DEFAULT, NULL, on_http_read, exchange);
}

static void
on_http_written (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  HttpExchange *exchange = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL,
                                         &exchange->error))
    exchange->done = TRUE;
  else
    http_read (exchange);
}

static void
on_http_connected (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  HttpExchange *exchange = user_data;

  exchange->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result,
                                                         &exchange->error);
  if (exchange->connection == NULL)
    exchange->done = TRUE;
}

static void
on_http_client_event (GSocketClient      *socket_client,
                      GSocketClientEvent  event,
                      GSocketConnectable *connectable,
                      GIOStream          *connection,
                      gpointer            user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_tls_connection_set_database (G_TLS_CONNECTION (connection), user_data);
}

GcTestHttpResponse *
gc_test_http_request (const char   *host,
                      guint16       port,
                      GTlsDatabase *tls_database,
                      const char   *request)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new (host, port);
  HttpExchange exchange = { 0 };
  GcTestHttpResponse *response;
  GOutputStream *output;

  exchange.data = g_byte_array_new ();
  if (tls_database != NULL)
    {
      g_socket_client_set_tls (socket_client, TRUE);
      g_signal_connect (socket_client, "event", G_CALLBACK (on_http_client_event), tls_database);
    }

  g_socket_client_connect_async (socket_client, address, NULL, on_http_connected, &exchange);
  gc_test_wait (exchange.connection != NULL || exchange.done);
  g_assert_no_error (exchange.error);

  output = g_io_stream_get_output_stream (G_IO_STREAM (exchange.connection));
  g_output_stream_write_all_async (output, request, strlen (request), G_PRIORITY_DEFAULT,
                                   NULL, on_http_written, &exchange);
  gc_test_wait (exchange.done);
  g_assert_no_error (exchange.error);

  if (exchange.header_len == 0)
    g_error ("no HTTP response to %s: got %u bytes", request, exchange.data->len);

  response = g_new0 (GcTestHttpResponse, 1);
  response->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  if (!soup_headers_parse_response ((const char *) exchange.data->data, exchange.header_len,
                                    response->headers, NULL, &response->status, NULL))
    g_error ("malformed HTTP response: %.*s", (int) exchange.header_len, exchange.data->data);

  {
    gsize body_len = exchange.data->len - exchange.header_len;
    const guint8 *body = exchange.data->data + exchange.header_len;

    if (exchange.content_length >= 0)
      body_len = MIN (body_len, (gsize) exchange.content_length);
    response->body = g_bytes_new (body, body_len);
    response->body_text = g_strndup ((const char *) body, body_len);
    response->json = gc_test_parse_json_object ((const char *) body, body_len);
  }

  g_io_stream_close (G_IO_STREAM (exchange.connection), NULL, NULL);
  g_clear_object (&exchange.connection);
  g_byte_array_unref (exchange.data);
  return response;
}

GcTestHttpResponse *
gc_test_http_get (const char   *host,
                  guint16       port,
                  GTlsDatabase *tls_database,
                  const char   *path)
{
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.1\r\n"
                                              "Host: %s:%u\r\n"
                                              "Connection: close\r\n"
                                              "\r\n", path, host, port);

  return gc_test_http_request (host, port, tls_database, request);
}

char *
gc_test_upgrade_request (const char *path_and_query,
                         const char *version,
                         const char *extra_headers)
{
  return g_strdup_printf ("GET %s HTTP/1.1\r\n"
                          "Host: 127.0.0.1\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: %s\r\n"
                          "Sec-WebSocket-Protocol: " GC_PROTOCOL_SUBPROTOCOL "\r\n"
                          "%s"
                          "\r\n",
                          path_and_query, version != NULL ? version : "13",
                          extra_headers != NULL ? extra_headers : "");
}

/* The text message and the close of an in-band refusal, from the raw
 * bytes after a 101. */
static gboolean
parse_refusal_frames (GBytes  *body,
                      char   **out_text,
                      guint   *out_close_code,
                      char   **out_close_reason)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (body, &len);
  g_auto(ServerFrames) frames;

  read_server_frames (data, len, &frames);
  *out_text = g_steal_pointer (&frames.first_text);
  *out_close_code = frames.closed ? frames.close_code : 0;
  *out_close_reason = g_steal_pointer (&frames.close_reason);
  return frames.closed;
}

void
gc_test_http_assert_refusal_full (GcTestHttpResponse *response,
                                  guint               status,
                                  const char         *code,
                                  const char         *file,
                                  int                 line)
{
  /* A valid upgrade is refused after it (docs/protocol.md §3.6); only
   * `bad_request` may be either, as a bad handshake is one too. */
  if (response->status == 101 ||
      (status != 503 && g_strcmp0 (code, "bad_request") != 0 &&
       g_strcmp0 (code, "not_found") != 0 && g_strcmp0 (code, "upgrade_required") != 0 &&
       g_strcmp0 (code, "method_not_allowed") != 0))
    {
      g_autofree char *text = NULL;
      g_autofree char *reason = NULL;
      g_autoptr(JsonObject) event = NULL;
      guint close_code;

      if (response->status != 101)
        g_error ("%s:%d: got HTTP %u (%s); expected %u %s after the upgrade", file, line,
                 response->status, response->body_text, status, code);
      if (!parse_refusal_frames (response->body, &text, &close_code, &reason) || text == NULL)
        g_error ("%s:%d: no refused event and close after the 101", file, line);
      event = gc_test_parse_json_object (text, strlen (text));
      if (event == NULL ||
          g_strcmp0 (json_object_get_string_member_with_default (event, "type", NULL),
                     "refused") != 0 ||
          g_strcmp0 (json_object_get_string_member_with_default (event, "error", NULL),
                     code) != 0 ||
          json_object_get_string_member_with_default (event, "message", NULL) == NULL)
        g_error ("%s:%d: got %s; expected a refused event with error %s", file, line, text, code);
      if (close_code != 4000 + status || g_strcmp0 (reason, code) != 0)
        g_error ("%s:%d: closed with %u “%s”; expected %u “%s”", file, line, close_code, reason,
                 4000 + status, code);
      /* Callers read the refusal's members as they would an HTTP body's. */
      g_clear_pointer (&response->json, json_object_unref);
      response->json = g_steal_pointer (&event);
      return;
    }

  gc_test_http_assert_http_refusal_full (response, status, code, file, line);
}

void
gc_test_http_assert_http_refusal_full (GcTestHttpResponse *response,
                                       guint               status,
                                       const char         *code,
                                       const char         *file,
                                       int                 line)
{
  const char *content_type = soup_message_headers_get_content_type (response->headers, NULL);

  if (response->status != status)
    g_error ("%s:%d: got HTTP %u (%s); expected %u %s", file, line, response->status,
             response->body_text, status, code);
  if (g_strcmp0 (content_type, "application/json") != 0)
    g_error ("%s:%d: refusal Content-Type is %s, not application/json", file, line,
             content_type != NULL ? content_type : "missing");
  if (response->json == NULL)
    g_error ("%s:%d: refusal body is not a JSON object: %s", file, line, response->body_text);
  if (g_strcmp0 (json_object_get_string_member_with_default (response->json, "error", NULL),
                 code) != 0)
    g_error ("%s:%d: refusal %s; expected error %s", file, line, response->body_text, code);
  if (json_object_get_string_member_with_default (response->json, "message", NULL) == NULL)
    g_error ("%s:%d: refusal without a string message: %s", file, line, response->body_text);
}

/* ------------------------------------------------------------------ */
/* Upgrades                                                             */
/* ------------------------------------------------------------------ */

GcTestHttpResponse *
gc_test_http_upgrade (guint16     port,
                      const char *path_and_query,
                      const char *version,
                      const char *extra_headers)
{
  g_autofree char *request = gc_test_upgrade_request (path_and_query, version, extra_headers);

  return gc_test_http_request ("127.0.0.1", port, NULL, request);
}

void
gc_test_assert_upgrade_refused (guint16     port,
                                const char *path_and_query,
                                guint       status,
                                const char *code)
{
  g_autoptr(GcTestHttpResponse) response = gc_test_http_upgrade (port, path_and_query, NULL, NULL);
  /* After a 101 the body holds WebSocket frames: escaped, so the TAP
   * stream stays text. */
  g_autofree char *printable = g_strescape (response->body_text, NULL);

  g_test_message ("%s -> %u %s", path_and_query, response->status, printable);
  gc_test_http_assert_refusal (response, status, code);
}

void
gc_test_assert_upgrade_accepted (guint16     port,
                                 const char *path_and_query)
{
  g_autoptr(GcTestHttpResponse) response = gc_test_http_upgrade (port, path_and_query, NULL, NULL);

  if (response->status != SOUP_STATUS_SWITCHING_PROTOCOLS)
    g_error ("%s: expected 101, got %u %s", path_and_query, response->status,
             response->body_text);
}
