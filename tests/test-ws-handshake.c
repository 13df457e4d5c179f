/* test-ws-handshake.c: both handshake roles, in one process, over loopback
 *
 * The client (gc_ws_connect_async) meets either a SoupServer that upgrades
 * with gc_ws_server_accept, or a fake raw server that answers with exactly
 * the bytes a test wants (a wrong Accept, a frame in the same write as the
 * 101, endless headers, silence). The server role also meets a raw client.
 * Waits are conditions with a deadline, driven by the main loop.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "gc-ws-connection-private.h"
#include "gc-ws-frame.h"
#include "gc-ws-handshake-private.h"

#include "gc-test-threads.h"
#include "gc-test-tls.h"
#include "gc-test-wait.h"

static guint
connection_role (GcWsConnection *connection)
{
  guint role;

  g_object_get (connection, "role", &role, NULL);
  return role;
}

/* Collects what a GcWsConnection reports. */

typedef struct {
  GPtrArray *messages;   /* GBytes, text and binary alike */
  GArray    *opcodes;    /* guint */
  gboolean   closed;
  GError    *error;
} Collector;

static void
on_collector_message (GcWsConnection *connection,
                      guint           opcode,
                      GBytes         *payload,
                      gpointer        user_data)
{
  Collector *collector = user_data;

  g_ptr_array_add (collector->messages, g_bytes_ref (payload));
  g_array_append_val (collector->opcodes, opcode);
}

static void
on_collector_error (GcWsConnection *connection,
                    const GError   *error,
                    gpointer        user_data)
{
  Collector *collector = user_data;

  if (collector->error == NULL)
    collector->error = g_error_copy (error);
}

static void
on_collector_closed (GcWsConnection *connection,
                     gpointer        user_data)
{
  Collector *collector = user_data;

  collector->closed = TRUE;
}

static void
collector_init (Collector      *collector,
                GcWsConnection *connection)
{
  collector->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  collector->opcodes = g_array_new (FALSE, FALSE, sizeof (guint));
  g_signal_connect (connection, "message", G_CALLBACK (on_collector_message), collector);
  g_signal_connect (connection, "error", G_CALLBACK (on_collector_error), collector);
  g_signal_connect (connection, "closed", G_CALLBACK (on_collector_closed), collector);
}

static void
collector_clear (Collector      *collector,
                 GcWsConnection *connection)
{
  if (connection != NULL)
    g_signal_handlers_disconnect_by_data (connection, collector);
  g_clear_pointer (&collector->messages, g_ptr_array_unref);
  g_clear_pointer (&collector->opcodes, g_array_unref);
  g_clear_error (&collector->error);
}

static void
assert_message (Collector  *collector,
                guint       index,
                GcWsOpcode  opcode,
                const char *text)
{
  gsize len;
  const char *data;

  g_assert_cmpuint (collector->messages->len, >, index);
  g_assert_cmpuint (g_array_index (collector->opcodes, guint, index), ==, opcode);
  data = g_bytes_get_data (collector->messages->pdata[index], &len);
  g_assert_cmpmem (data, len, text, strlen (text));
}

/* The client side of one gc_ws_connect_async() call. */

typedef struct {
  gboolean        done;
  GcWsConnection *connection;
  GError         *error;
  guint           status;
  GBytes         *body;
  Collector       collector;   /* of connection, from the start */
} ConnectResult;

static void
connect_result_clear (ConnectResult *result)
{
  collector_clear (&result->collector, result->connection);
  g_clear_object (&result->connection);
  g_clear_error (&result->error);
  g_clear_pointer (&result->body, g_bytes_unref);
}

static void
on_connect_done (GObject      *source,
                 GAsyncResult *async_result,
                 gpointer      user_data)
{
  ConnectResult *result = user_data;

  g_assert_null (source);
  result->connection = gc_ws_connect_finish (async_result, &result->status, &result->body,
                                             &result->error);
  g_assert_true ((result->connection == NULL) != (result->error == NULL));
  /* Before the connection first reads: frames that came with the 101
   * are reported on its first dispatch. */
  if (result->connection != NULL)
    collector_init (&result->collector, result->connection);
  result->done = TRUE;
}

static void
connect_and_wait (const char         *url,
                  const char         *origin,
                  const char * const *protocols,
                  GTlsDatabase       *tls_database,
                  ConnectResult      *result)
{
  gc_ws_connect_async (url, origin, protocols, tls_database, NULL, NULL,
                       on_connect_done, result);
  gc_test_wait (result->done);
}

/* A SoupServer upgrading with gc_ws_server_accept(): the server role.
 * It listens on loopback through tests/lib (gc-test-tls.h). */

typedef enum {
  UPGRADE,
  UPGRADE_THEN_PAUSE,   /* accept, then hold the message before the 101 */
  REFUSE_JSON,          /* 409 with a JSON body */
  REFUSE_CHUNKED,       /* 403 with a chunked body */
  REFUSE_HUGE_BODY,     /* 500 with a body larger than the client keeps */
} ServerMode;

typedef struct {
  SoupServer        *server;
  guint16            port;
  ServerMode         mode;
  const char        *origin;
  SoupServerMessage *paused;

  /* What the last request looked like. */
  char              *path;
  char              *query_x;
  char              *host;
  char              *user_agent;
  char              *request_origin;
  char              *offered_protocols;
  gboolean           accept_ok;
  GError            *accept_error;
  guint              n_requests;

  /* What gc_ws_server_accept() reported. */
  GPtrArray         *accepted;    /* GcWsConnection */
  Collector          collector;   /* of the first accepted, from the start */
  guint              n_destroyed;
} UpgradeServer;

static void
on_server_accepted (GcWsConnection *connection,
                    gpointer        user_data)
{
  UpgradeServer *ts = user_data;

  g_assert_true (GC_IS_WS_CONNECTION (connection));
  g_assert_cmpuint (connection_role (connection), ==, GC_WS_ROLE_SERVER);
  g_assert_cmpuint (ts->n_destroyed, ==, 0);
  if (ts->accepted->len == 0)
    collector_init (&ts->collector, connection);
  g_ptr_array_add (ts->accepted, connection);
}

static void
on_server_accept_destroy (gpointer user_data)
{
  UpgradeServer *ts = user_data;

  ts->n_destroyed++;
}

static void
handle_test_request (SoupServer        *server,
                     SoupServerMessage *msg,
                     const char        *path,
                     GHashTable        *query,
                     gpointer           user_data)
{
  static const char * const protocols[] = { "gochat.v1", NULL };
  UpgradeServer *ts = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  ts->n_requests++;
  g_free (ts->path);
  ts->path = g_strdup (path);
  g_free (ts->query_x);
  ts->query_x = query != NULL ? g_strdup (g_hash_table_lookup (query, "x")) : NULL;
  g_free (ts->host);
  ts->host = g_strdup (soup_message_headers_get_one (headers, "Host"));
  g_free (ts->user_agent);
  ts->user_agent = g_strdup (soup_message_headers_get_one (headers, "User-Agent"));
  g_free (ts->request_origin);
  ts->request_origin = g_strdup (soup_message_headers_get_one (headers, "Origin"));
  g_free (ts->offered_protocols);
  ts->offered_protocols = g_strdup (soup_message_headers_get_list (headers,
                                                                   "Sec-WebSocket-Protocol"));

  switch (ts->mode)
    {
    case UPGRADE:
    case UPGRADE_THEN_PAUSE:
      g_clear_error (&ts->accept_error);
      ts->accept_ok = gc_ws_server_accept (msg, ts->origin, protocols, NULL,
                                           on_server_accepted, ts, on_server_accept_destroy,
                                           &ts->accept_error);
      g_assert_true (ts->accept_ok == (ts->accept_error == NULL));
      if (ts->accept_ok && ts->mode == UPGRADE_THEN_PAUSE)
        {
          soup_server_message_pause (msg);
          ts->paused = msg;
        }
      break;

    case REFUSE_JSON:
      soup_server_message_set_status (msg, SOUP_STATUS_CONFLICT, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                        "{\"error\": \"name_taken\"}", 23);
      break;

    case REFUSE_CHUNKED:
      {
        SoupMessageBody *body = soup_server_message_get_response_body (msg);

        soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
        soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                           SOUP_ENCODING_CHUNKED);
        soup_message_body_append (body, SOUP_MEMORY_STATIC, "room ", 5);
        soup_message_body_append (body, SOUP_MEMORY_STATIC, "full", 4);
        soup_message_body_complete (body);
      }
      break;

    case REFUSE_HUGE_BODY:
      soup_server_message_set_status (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_TAKE,
                                        g_strnfill (200 * 1024, 'e'), 200 * 1024);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
upgrade_server_start (UpgradeServer *ts,
                      ServerMode     mode,
                      gboolean       tls)
{
  memset (ts, 0, sizeof *ts);
  ts->mode = mode;
  ts->accepted = g_ptr_array_new_with_free_func (g_object_unref);
  ts->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (ts->server, NULL, handle_test_request, ts, NULL);
  ts->port = gc_test_soup_server_listen (ts->server, tls);
}

static void
upgrade_server_stop (UpgradeServer *ts)
{
  soup_server_disconnect (ts->server);
  g_clear_object (&ts->server);
  collector_clear (&ts->collector, ts->accepted->len > 0 ? ts->accepted->pdata[0] : NULL);
  g_clear_pointer (&ts->accepted, g_ptr_array_unref);
  g_clear_error (&ts->accept_error);
  g_clear_pointer (&ts->path, g_free);
  g_clear_pointer (&ts->query_x, g_free);
  g_clear_pointer (&ts->host, g_free);
  g_clear_pointer (&ts->user_agent, g_free);
  g_clear_pointer (&ts->request_origin, g_free);
  g_clear_pointer (&ts->offered_protocols, g_free);
}

static char *
upgrade_server_url (UpgradeServer *ts,
                    const char    *scheme,
                    const char    *path_and_query)
{
  return g_strdup_printf ("%s://127.0.0.1:%u%s", scheme, ts->port, path_and_query);
}

/* A raw TCP client, to send the server exactly what a test wants. */

typedef struct {
  GSocketConnection *connection;
  GByteArray        *received;
  guint8             chunk[4096];
  gboolean           eof;
  gboolean           reading;
} RawClient;

static void raw_client_read (RawClient *raw);

static void
on_raw_client_read (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  RawClient *raw = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  raw->reading = FALSE;
  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n <= 0)
    {
      raw->eof = TRUE;
      return;
    }
  g_byte_array_append (raw->received, raw->chunk, n);
  raw_client_read (raw);
}

static void
raw_client_read (RawClient *raw)
{
  raw->reading = TRUE;
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (raw->connection)),
                             raw->chunk, sizeof raw->chunk, G_PRIORITY_DEFAULT, NULL,
                             on_raw_client_read, raw);
}

/* Connects to @port and sends @request (plus @extra) in ONE write. */
static void
raw_client_start (RawClient    *raw,
                  guint16       port,
                  const char   *request,
                  const guint8 *extra,
                  gsize         extra_len)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autoptr(GError) error = NULL;

  memset (raw, 0, sizeof *raw);
  raw->received = g_byte_array_new ();
  raw->connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);

  g_byte_array_append (bytes, (const guint8 *) request, strlen (request));
  if (extra_len > 0)
    g_byte_array_append (bytes, extra, extra_len);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (raw->connection)),
                             bytes->data, bytes->len, NULL, NULL, &error);
  g_assert_no_error (error);

  raw_client_read (raw);
}

static void
raw_client_stop (RawClient *raw)
{
  g_io_stream_close (G_IO_STREAM (raw->connection), NULL, NULL);
  /* The pending read completes (with an error) once closed. */
  gc_test_wait (!raw->reading);
  g_clear_object (&raw->connection);
  g_clear_pointer (&raw->received, g_byte_array_unref);
}

/* The parsed response head once complete, else %NULL. */
static SoupMessageHeaders *
raw_client_parse_response (RawClient *raw,
                           guint     *status)
{
  SoupMessageHeaders *headers;
  const char *data = (const char *) raw->received->data;
  const char *end;

  if (raw->received->len == 0)
    return NULL;
  /* The head has no NUL, whatever follows it. */
  end = g_strstr_len (data, raw->received->len, "\r\n\r\n");
  if (end == NULL)
    return NULL;

  headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_assert_true (soup_headers_parse_response (data, end + 4 - data, headers, NULL, status, NULL));
  return headers;
}

static gboolean
raw_client_has_response (RawClient *raw)
{
  g_autoptr(SoupMessageHeaders) headers = NULL;
  guint status;

  headers = raw_client_parse_response (raw, &status);
  return headers != NULL;
}

#define UPGRADE_REQUEST_HEAD                           \
  "GET /chat HTTP/1.1\r\n"                             \
  "Host: 127.0.0.1\r\n"                                \
  "Upgrade: websocket\r\n"                             \
  "Connection: Upgrade\r\n"                            \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

/* A fake raw server: reads a request, answers with what the test says. */

typedef enum {
  FAKE_UPGRADE_WITH_FRAMES,   /* a correct 101 with two frames in the same write */
  FAKE_WRONG_ACCEPT,
  FAKE_NO_UPGRADE_HEADER,
  FAKE_EXTENSION,
  FAKE_UNOFFERED_PROTOCOL,
  FAKE_HUGE_HEADERS,
  FAKE_EOF_BODY,              /* a refusal with neither length nor chunks: body to EOF */
  FAKE_STREAMING_200,         /* 200 OK and a body that runs until close, never closing */
  FAKE_STALLED_BODY,          /* a 409 whose Content-Length body never all comes */
  FAKE_CLOSE,                 /* closes without answering */
  FAKE_SILENT,                /* never answers */
} FakeMode;

typedef struct {
  GSocketListener   *listener;
  guint16            port;
  FakeMode           mode;
  GSocketConnection *connection;
  GString           *request;
  gboolean           got_request;
  gboolean           client_closed;  /* the client closed its end */
  gboolean           accepting;
  gboolean           reading;
  guint8             chunk[4096];
} FakeServer;

static void fake_server_read (FakeServer *fake);

static char *
request_header (const char *request,
                const char *name)
{
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);

  g_assert_true (soup_headers_parse_request (request, strlen (request), headers,
                                             NULL, NULL, NULL) == SOUP_STATUS_OK);
  return g_strdup (soup_message_headers_get_one (headers, name));
}

static void
fake_server_answer (FakeServer *fake)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) frames = g_byte_array_new ();
  g_autofree char *key = request_header (fake->request->str, "Sec-WebSocket-Key");
  g_autofree char *accept = gc_ws_handshake_compute_accept (key);
  g_autofree char *head = NULL;
  g_autoptr(GError) error = NULL;
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (fake->connection));

  switch (fake->mode)
    {
    case FAKE_UPGRADE_WITH_FRAMES:
      {
        g_autoptr(GBytes) text = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE,
                                                     (const guint8 *) "first", 5);
        g_autoptr(GBytes) binary = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_BINARY,
                                                       TRUE, (const guint8 *) "\0\1\2", 3);

        head = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\n"
                                "Upgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
        g_byte_array_append (frames, g_bytes_get_data (text, NULL), g_bytes_get_size (text));
        g_byte_array_append (frames, g_bytes_get_data (binary, NULL), g_bytes_get_size (binary));
      }
      break;

    case FAKE_WRONG_ACCEPT:
      head = g_strdup ("HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\n"
                       "Connection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
      break;

    case FAKE_NO_UPGRADE_HEADER:
      head = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
      break;

    case FAKE_EXTENSION:
      head = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                              "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
      break;

    case FAKE_UNOFFERED_PROTOCOL:
      head = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Protocol: evil.v2\r\n"
                              "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
      break;

    case FAKE_HUGE_HEADERS:
      {
        g_autofree char *filler = g_strnfill (100, 'f');
        GString *lines = g_string_new ("HTTP/1.1 101 Switching Protocols\r\n");

        /* 200 lines of ~110 bytes: 22 KB with no end in sight. */
        for (guint i = 0; i < 200; i++)
          g_string_append_printf (lines, "X-Filler-%u: %s\r\n", i, filler);
        head = g_string_free (lines, FALSE);
      }
      break;

    case FAKE_EOF_BODY:
      head = g_strdup ("HTTP/1.1 503 Service Unavailable\r\n"
                       "Connection: close\r\n\r\n"
                       "try later");
      break;

    case FAKE_STREAMING_200:
      head = g_strdup ("HTTP/1.1 200 OK\r\n"
                       "Content-Type: text/html\r\n\r\n"
                       "<html>a page that goes on");
      break;

    case FAKE_STALLED_BODY:
      head = g_strdup ("HTTP/1.1 409 Conflict\r\n"
                       "Content-Type: application/json\r\n"
                       "Content-Length: 100\r\n\r\n"
                       "{\"error\": ");
      break;

    case FAKE_CLOSE:
      g_io_stream_close (G_IO_STREAM (fake->connection), NULL, NULL);
      return;

    case FAKE_SILENT:
      return;

    default:
      g_assert_not_reached ();
    }

  g_byte_array_append (out, (const guint8 *) head, strlen (head));
  g_byte_array_append (out, frames->data, frames->len);

  /* One write: the frames share the segment with the 101. */
  g_output_stream_write_all (output, out->data, out->len, NULL, NULL, &error);
  g_assert_no_error (error);

  if (fake->mode == FAKE_EOF_BODY)
    g_io_stream_close (G_IO_STREAM (fake->connection), NULL, NULL);
}

static void
on_fake_server_read (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  FakeServer *fake = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  fake->reading = FALSE;
  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n <= 0)
    {
      fake->client_closed = !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
      return;
    }

  g_string_append_len (fake->request, (const char *) fake->chunk, n);
  if (!fake->got_request && strstr (fake->request->str, "\r\n\r\n") != NULL)
    {
      fake->got_request = TRUE;
      fake_server_answer (fake);
      if (fake->mode == FAKE_CLOSE || fake->mode == FAKE_EOF_BODY)
        return;
    }
  fake_server_read (fake);
}

static void
fake_server_read (FakeServer *fake)
{
  fake->reading = TRUE;
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (fake->connection)),
                             fake->chunk, sizeof fake->chunk, G_PRIORITY_DEFAULT, NULL,
                             on_fake_server_read, fake);
}

static void
on_fake_server_accepted (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  FakeServer *fake = user_data;
  g_autoptr(GError) error = NULL;

  fake->accepting = FALSE;
  fake->connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result,
                                                      NULL, &error);
  /* Closed before anyone connected. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    return;
  g_assert_no_error (error);
  fake_server_read (fake);
}

static void
fake_server_start (FakeServer *fake,
                   FakeMode    mode)
{
  g_autoptr(GError) error = NULL;

  memset (fake, 0, sizeof *fake);
  fake->mode = mode;
  fake->request = g_string_new (NULL);
  fake->listener = g_socket_listener_new ();
  {
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
    g_autoptr(GSocketAddress) effective = NULL;

    g_socket_listener_add_address (fake->listener, address, G_SOCKET_TYPE_STREAM,
                                   G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
    g_assert_no_error (error);
    fake->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  }
  fake->accepting = TRUE;
  g_socket_listener_accept_async (fake->listener, NULL, on_fake_server_accepted, fake);
}

static void
fake_server_stop (FakeServer *fake)
{
  if (fake->connection != NULL)
    {
      g_io_stream_close (G_IO_STREAM (fake->connection), NULL, NULL);
      gc_test_wait (!fake->reading);
      g_clear_object (&fake->connection);
    }
  g_socket_listener_close (fake->listener);
  gc_test_wait (!fake->accepting);
  g_clear_object (&fake->listener);
  g_string_free (fake->request, TRUE);
}

static char *
fake_server_url (FakeServer *fake)
{
  return g_strdup_printf ("ws://127.0.0.1:%u/fake", fake->port);
}

/* Tests */

static void
test_accept_key (void)
{
  g_autofree char *accept = gc_ws_handshake_compute_accept ("dGhlIHNhbXBsZSBub25jZQ==");

  /* The example of RFC 6455 §1.3. */
  g_assert_cmpstr (accept, ==, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void
test_bad_url (void)
{
  static const char * const urls[] = {
    "http://127.0.0.1/",
    "ws://",
    "ws:///path",
    "not a url",
    "ws://127.0.0.1/#fragment",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      ConnectResult result = { 0 };

      connect_and_wait (urls[i], NULL, NULL, NULL, &result);
      g_assert_error (result.error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_URL);
      g_assert_cmpuint (result.status, ==, 0);
      g_assert_null (result.body);
      connect_result_clear (&result);
    }
}

static void
test_round_trip (void)
{
  static const char * const protocols[] = { "other.v9", "gochat.v1", NULL };
  UpgradeServer ts;
  ConnectResult result = { 0 };
  Collector *client_collector = &result.collector;
  Collector *server_collector = &ts.collector;
  g_autofree char *url = NULL;
  g_autofree char *expected_host = NULL;
  GcWsConnection *server_connection;

  upgrade_server_start (&ts, UPGRADE, FALSE);
  url = upgrade_server_url (&ts, "ws", "/room/chat?x=a%20b&y=2");

  connect_and_wait (url, "https://example.org", protocols, NULL, &result);
  g_assert_no_error (result.error);
  g_assert_cmpuint (result.status, ==, 0);
  g_assert_cmpuint (connection_role (result.connection), ==, GC_WS_ROLE_CLIENT);
  g_assert_cmpstr (gc_ws_connection_get_protocol (result.connection), ==, "gochat.v1");

  /* What the server saw of our request. */
  expected_host = g_strdup_printf ("127.0.0.1:%u", ts.port);
  g_assert_cmpstr (ts.path, ==, "/room/chat");
  g_assert_cmpstr (ts.query_x, ==, "a b");
  g_assert_cmpstr (ts.host, ==, expected_host);
  g_assert_cmpstr (ts.user_agent, ==, "gochat/" PACKAGE_VERSION);
  g_assert_cmpstr (ts.request_origin, ==, "https://example.org");
  g_assert_cmpstr (ts.offered_protocols, ==, "other.v9, gochat.v1");

  gc_test_wait (ts.accepted->len == 1);
  g_assert_cmpuint (ts.n_destroyed, ==, 1);
  server_connection = ts.accepted->pdata[0];
  g_assert_cmpstr (gc_ws_connection_get_protocol (server_connection), ==, "gochat.v1");
  /* The connection found the socket under libsoup's stolen SoupIOStream. */
  g_assert_true (G_IS_INET_SOCKET_ADDRESS (gc_ws_connection_get_remote_address (server_connection)));
  g_assert_true (G_IS_INET_SOCKET_ADDRESS (gc_ws_connection_get_remote_address (result.connection)));

  gc_ws_connection_send_text (result.connection, "from the client", -1);
  gc_ws_connection_send_binary (server_connection, (const guint8 *) "\xff\x00", 2);
  gc_test_wait (server_collector->messages->len == 1 && client_collector->messages->len == 1);
  assert_message (server_collector, 0, GC_WS_OPCODE_TEXT, "from the client");
  g_assert_cmpuint (g_bytes_get_size (client_collector->messages->pdata[0]), ==, 2);

  gc_ws_connection_close (result.connection, GC_WS_CLOSE_NORMAL, "bye");
  gc_test_wait (client_collector->closed && server_collector->closed);
  g_assert_cmpuint (gc_ws_connection_get_close_code (server_connection), ==, GC_WS_CLOSE_NORMAL);
  g_assert_cmpstr (gc_ws_connection_get_close_reason (server_connection), ==, "bye");
  g_assert_cmpuint (gc_ws_connection_get_close_code (result.connection), ==, GC_WS_CLOSE_NORMAL);
  g_assert_no_error (client_collector->error);
  g_assert_no_error (server_collector->error);

  connect_result_clear (&result);
  upgrade_server_stop (&ts);
}

static void
test_no_protocol (void)
{
  UpgradeServer ts;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;

  /* Offering nothing is fine: the server selects nothing. */
  upgrade_server_start (&ts, UPGRADE, FALSE);
  url = upgrade_server_url (&ts, "ws", "");
  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_no_error (result.error);
  g_assert_null (gc_ws_connection_get_protocol (result.connection));
  g_assert_cmpstr (ts.path, ==, "/");
  g_assert_null (ts.request_origin);
  g_assert_null (ts.offered_protocols);
  gc_test_wait (ts.accepted->len == 1);
  g_assert_null (gc_ws_connection_get_protocol (ts.accepted->pdata[0]));

  connect_result_clear (&result);
  upgrade_server_stop (&ts);
}

static void
test_refused (void)
{
  UpgradeServer ts;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;

  upgrade_server_start (&ts, REFUSE_JSON, FALSE);
  url = upgrade_server_url (&ts, "ws", "/joinRoom");
  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_error (result.error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED);
  g_assert_cmpstr (result.error->message, ==, "Server refused the connection: 409 Conflict");
  g_assert_cmpuint (result.status, ==, 409);
  g_assert_nonnull (result.body);
  g_assert_cmpmem (g_bytes_get_data (result.body, NULL), g_bytes_get_size (result.body),
                   "{\"error\": \"name_taken\"}", 23);
  connect_result_clear (&result);
  upgrade_server_stop (&ts);
}

static void
test_refused_chunked (void)
{
  UpgradeServer ts;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;

  upgrade_server_start (&ts, REFUSE_CHUNKED, FALSE);
  url = upgrade_server_url (&ts, "ws", "/");
  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_error (result.error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED);
  g_assert_cmpuint (result.status, ==, 403);
  g_assert_nonnull (result.body);
  g_assert_cmpmem (g_bytes_get_data (result.body, NULL), g_bytes_get_size (result.body),
                   "room full", 9);
  connect_result_clear (&result);
  upgrade_server_stop (&ts);
}

static void
test_refused_huge_body (void)
{
  UpgradeServer ts;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;

  /* The client keeps a bounded prefix of a body it will only display. */
  upgrade_server_start (&ts, REFUSE_HUGE_BODY, FALSE);
  url = upgrade_server_url (&ts, "ws", "/");
  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_error (result.error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED);
  g_assert_cmpuint (result.status, ==, 500);
  g_assert_nonnull (result.body);
  g_assert_cmpuint (g_bytes_get_size (result.body), ==, GC_WS_HANDSHAKE_MAX_BODY_SIZE);
  g_assert_cmpint (((const char *) g_bytes_get_data (result.body, NULL))[0], ==, 'e');
  connect_result_clear (&result);
  upgrade_server_stop (&ts);
}

static void
test_refused_eof_body (void)
{
  FakeServer fake;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;

  fake_server_start (&fake, FAKE_EOF_BODY);
  url = fake_server_url (&fake);
  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_error (result.error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED);
  g_assert_cmpstr (result.error->message, ==,
                   "Server refused the connection: 503 Service Unavailable");
  g_assert_cmpuint (result.status, ==, 503);
  g_assert_cmpmem (g_bytes_get_data (result.body, NULL), g_bytes_get_size (result.body),
                   "try later", 9);
  connect_result_clear (&result);
  fake_server_stop (&fake);
}

/* Issue 11.2: a 200 whose body runs until the server closes, from a
 * server that does not close. The client fails as soon as the headers
 * are in (not after the 30 s handshake timeout), with the status in the
 * error, what it already had of the body, and its socket closed. */
static void
test_refused_streaming_body (void)
{
  FakeServer fake;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;

  fake_server_start (&fake, FAKE_STREAMING_200);
  url = fake_server_url (&fake);
  connect_and_wait (url, NULL, NULL, NULL, &result);
  /* Waiting for the end of the body would have ended in the handshake
   * timeout's G_IO_ERROR_TIMED_OUT (or the wait's deadline). */
  g_assert_error (result.error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED);
  g_assert_cmpstr (result.error->message, ==, "Server refused the connection: 200 OK");
  g_assert_cmpuint (result.status, ==, 200);
  g_assert_nonnull (result.body);
  g_assert_cmpmem (g_bytes_get_data (result.body, NULL), g_bytes_get_size (result.body),
                   "<html>a page that goes on", 25);

  /* The client let go of the socket without being told to. */
  gc_test_wait (fake.client_closed);

  connect_result_clear (&result);
  fake_server_stop (&fake);
}

/* A delimited body is waited for, but briefly: a 409 whose body stalls
 * fails after the body timeout with what came, and the socket closed. */
static void
test_refused_stalled_body (void)
{
  FakeServer fake;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;
  gint64 start;

  fake_server_start (&fake, FAKE_STALLED_BODY);
  url = fake_server_url (&fake);
  start = g_get_monotonic_time ();
  connect_and_wait (url, NULL, NULL, NULL, &result);
  /* The body was given its time (a lower bound: timers never fire early),
   * and not the handshake's 30 s, which would end in TIMED_OUT. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=,
                   (GC_WS_HANDSHAKE_BODY_TIMEOUT_MS - 100) * G_TIME_SPAN_MILLISECOND);
  g_assert_error (result.error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED);
  g_assert_cmpstr (result.error->message, ==, "Server refused the connection: 409 Conflict");
  g_assert_cmpuint (result.status, ==, 409);
  g_assert_cmpmem (g_bytes_get_data (result.body, NULL), g_bytes_get_size (result.body),
                   "{\"error\": ", 10);
  gc_test_wait (fake.client_closed);

  connect_result_clear (&result);
  fake_server_stop (&fake);
}

static void
test_bad_responses (void)
{
  static const FakeMode modes[] = {
    FAKE_WRONG_ACCEPT,
    FAKE_NO_UPGRADE_HEADER,
    FAKE_EXTENSION,
    FAKE_UNOFFERED_PROTOCOL,
    FAKE_CLOSE,
  };
  static const char * const protocols[] = { "gochat.v1", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      FakeServer fake;
      ConnectResult result = { 0 };
      g_autofree char *url = NULL;

      fake_server_start (&fake, modes[i]);
      url = fake_server_url (&fake);
      connect_and_wait (url, NULL, protocols, NULL, &result);
      g_test_message ("mode %d: %s", modes[i], result.error ? result.error->message : "no error");
      g_assert_error (result.error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_BAD_RESPONSE);
      g_assert_cmpuint (result.status, ==, 0);
      g_assert_null (result.body);
      connect_result_clear (&result);
      fake_server_stop (&fake);
    }
}

static void
test_frames_with_101 (void)
{
  FakeServer fake;
  ConnectResult result = { 0 };
  Collector *collector = &result.collector;
  g_autofree char *url = NULL;
  g_autofree char *user_agent = NULL;

  /* The server's first frames arrive in the same segment as its 101:
   * they must reach the connection, not be lost with the header buffer. */
  fake_server_start (&fake, FAKE_UPGRADE_WITH_FRAMES);
  url = fake_server_url (&fake);
  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_no_error (result.error);

  user_agent = request_header (fake.request->str, "User-Agent");
  g_assert_cmpstr (user_agent, ==, "gochat/" PACKAGE_VERSION);
  g_assert_true (g_str_has_prefix (fake.request->str, "GET /fake HTTP/1.1\r\n"));

  gc_test_wait (collector->messages->len == 2);
  assert_message (collector, 0, GC_WS_OPCODE_TEXT, "first");
  g_assert_cmpuint (g_array_index (collector->opcodes, guint, 1), ==, GC_WS_OPCODE_BINARY);
  g_assert_cmpmem (g_bytes_get_data (collector->messages->pdata[1], NULL),
                   g_bytes_get_size (collector->messages->pdata[1]), "\0\1\2", 3);
  g_assert_no_error (collector->error);

  connect_result_clear (&result);
  fake_server_stop (&fake);
}

static void
test_too_large (void)
{
  FakeServer fake;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;

  fake_server_start (&fake, FAKE_HUGE_HEADERS);
  url = fake_server_url (&fake);
  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_error (result.error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_TOO_LARGE);
  connect_result_clear (&result);
  fake_server_stop (&fake);
}

static void
test_cancel_silent_server (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  FakeServer fake;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;

  fake_server_start (&fake, FAKE_SILENT);
  url = fake_server_url (&fake);
  gc_ws_connect_async (url, NULL, NULL, NULL, NULL, cancellable, on_connect_done, &result);

  /* Cancel once the client is waiting for an answer that never comes. */
  gc_test_wait (fake.got_request);
  g_assert_false (result.done);
  g_cancellable_cancel (cancellable);
  gc_test_wait (result.done);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  connect_result_clear (&result);
  fake_server_stop (&fake);
}

static void
test_timeout_silent_server (void)
{
  FakeServer fake;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;
  gint64 start;

  gc_ws_handshake_set_timeout (1);
  fake_server_start (&fake, FAKE_SILENT);
  url = fake_server_url (&fake);

  start = g_get_monotonic_time ();
  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_true (fake.got_request);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);

  connect_result_clear (&result);
  fake_server_stop (&fake);
  gc_ws_handshake_set_timeout (GC_WS_HANDSHAKE_DEFAULT_TIMEOUT_S);
}

static void
test_connection_refused (void)
{
  FakeServer fake;
  ConnectResult result = { 0 };
  g_autofree char *url = NULL;

  /* A port that was just free: nobody listens there any more. */
  fake_server_start (&fake, FAKE_SILENT);
  url = fake_server_url (&fake);
  fake_server_stop (&fake);

  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  connect_result_clear (&result);
}

static void
test_ipv6_host_header (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autofree char *url = NULL;
  g_autofree char *host = NULL;
  g_autofree char *expected_host = NULL;
  ConnectResult result = { 0 };
  FakeServer fake;

  memset (&fake, 0, sizeof fake);
  fake.mode = FAKE_UPGRADE_WITH_FRAMES;
  fake.request = g_string_new (NULL);
  fake.listener = g_socket_listener_new ();
  if (!g_socket_listener_add_address (fake.listener, address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error))
    {
      g_test_skip_printf ("no IPv6 loopback: %s", error->message);
      g_clear_object (&fake.listener);
      g_string_free (fake.request, TRUE);
      return;
    }
  fake.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  fake.accepting = TRUE;
  g_socket_listener_accept_async (fake.listener, NULL, on_fake_server_accepted, &fake);

  url = g_strdup_printf ("ws://[::1]:%u/v6", fake.port);
  connect_and_wait (url, NULL, NULL, NULL, &result);
  g_assert_no_error (result.error);

  host = request_header (fake.request->str, "Host");
  expected_host = g_strdup_printf ("[::1]:%u", fake.port);
  g_assert_cmpstr (host, ==, expected_host);

  connect_result_clear (&result);
  fake_server_stop (&fake);
}

static void
test_wss (void)
{
  g_autoptr(GTlsDatabase) database = gc_test_tls_ca ();
  UpgradeServer ts;
  ConnectResult result = { 0 };
  ConnectResult untrusted = { 0 };
  Collector *collector = &result.collector;
  g_autofree char *url = NULL;

  upgrade_server_start (&ts, UPGRADE, TRUE);
  url = upgrade_server_url (&ts, "wss", "/secure");

  /* Without the test CA the certificate is not trusted. */
  connect_and_wait (url, NULL, NULL, NULL, &untrusted);
  g_assert_error (untrusted.error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  connect_result_clear (&untrusted);

  connect_and_wait (url, NULL, NULL, database, &result);
  g_assert_no_error (result.error);
  gc_test_wait (ts.accepted->len == 1);
  /* Sockets found under TLS: SoupIOStream > GTlsServerConnection >
   * GTcpConnection, and GSocketClient's GTcpWrapperConnection. */
  g_assert_true (G_IS_INET_SOCKET_ADDRESS (gc_ws_connection_get_remote_address (ts.accepted->pdata[0])));
  g_assert_true (G_IS_INET_SOCKET_ADDRESS (gc_ws_connection_get_remote_address (result.connection)));

  /* Both ends work through TLS. */
  gc_ws_connection_send_text (ts.accepted->pdata[0], "over tls", -1);
  gc_test_wait (collector->messages->len == 1);
  assert_message (collector, 0, GC_WS_OPCODE_TEXT, "over tls");

  gc_ws_connection_close (result.connection, GC_WS_CLOSE_NORMAL, NULL);
  gc_test_wait (collector->closed && ts.collector.closed);
  g_assert_cmpuint (gc_ws_connection_get_close_code (result.connection), ==, GC_WS_CLOSE_NORMAL);
  g_assert_no_error (collector->error);
  g_assert_no_error (ts.collector.error);

  connect_result_clear (&result);
  upgrade_server_stop (&ts);
}

/* Server role with a raw client */

static void
test_server_first_frame_with_request (void)
{
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(SoupMessageHeaders) headers = NULL;
  UpgradeServer ts;
  RawClient raw;
  guint status = 0;

  /* The client's first frame shares the write with its upgrade request:
   * the stolen stream must still deliver it. */
  upgrade_server_start (&ts, UPGRADE, FALSE);
  frame = gc_ws_frame_encode (GC_WS_ROLE_CLIENT, GC_WS_OPCODE_TEXT, TRUE,
                              (const guint8 *) "early bird", 10);
  raw_client_start (&raw, ts.port,
                    UPGRADE_REQUEST_HEAD "Sec-WebSocket-Version: 13\r\n\r\n",
                    g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));

  gc_test_wait (ts.accepted->len == 1);
  gc_test_wait (ts.collector.messages->len == 1);
  assert_message (&ts.collector, 0, GC_WS_OPCODE_TEXT, "early bird");

  gc_test_wait (raw_client_has_response (&raw));
  headers = raw_client_parse_response (&raw, &status);
  g_assert_cmpuint (status, ==, 101);
  g_assert_cmpstr (soup_message_headers_get_one (headers, "Sec-WebSocket-Accept"), ==,
                   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  /* No extension even though none was asked for... */
  g_assert_null (soup_message_headers_get_one (headers, "Sec-WebSocket-Extensions"));

  raw_client_stop (&raw);
  upgrade_server_stop (&ts);
}

static void
test_server_no_extension (void)
{
  g_autoptr(SoupMessageHeaders) headers = NULL;
  UpgradeServer ts;
  RawClient raw;
  guint status = 0;

  /* ...nor when permessage-deflate is offered: RSV bits stay ours. */
  upgrade_server_start (&ts, UPGRADE, FALSE);
  raw_client_start (&raw, ts.port,
                    UPGRADE_REQUEST_HEAD
                    "Sec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                    "\r\n", NULL, 0);
  gc_test_wait (raw_client_has_response (&raw));
  headers = raw_client_parse_response (&raw, &status);
  g_assert_cmpuint (status, ==, 101);
  g_assert_null (soup_message_headers_get_one (headers, "Sec-WebSocket-Extensions"));
  gc_test_wait (ts.accepted->len == 1);

  raw_client_stop (&raw);
  upgrade_server_stop (&ts);
}

typedef struct {
  const char *request;
  const char *origin;       /* required by the server */
  guint       status;
  gint        error_code;   /* in SOUP_WEBSOCKET_ERROR */
  const char *version_header;
} RefusalCase;

static void
test_server_refusals (void)
{
  static const RefusalCase cases[] = {
    { UPGRADE_REQUEST_HEAD "Sec-WebSocket-Version: 8\r\n\r\n",
      NULL, 400, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE, "13" },
    { UPGRADE_REQUEST_HEAD "\r\n",
      NULL, 400, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE, "13" },
    { "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      NULL, 400, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET, NULL },
    { "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
      NULL, 400, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE, NULL },
    { UPGRADE_REQUEST_HEAD "Sec-WebSocket-Version: 13\r\nOrigin: https://evil.example\r\n\r\n",
      "https://good.example", 403, SOUP_WEBSOCKET_ERROR_BAD_ORIGIN, NULL },
    { UPGRADE_REQUEST_HEAD "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: other.v2\r\n\r\n",
      NULL, 400, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SoupMessageHeaders) headers = NULL;
      UpgradeServer ts;
      RawClient raw;
      guint status = 0;

      upgrade_server_start (&ts, UPGRADE, FALSE);
      ts.origin = cases[i].origin;
      raw_client_start (&raw, ts.port, cases[i].request, NULL, 0);
      gc_test_wait (raw_client_has_response (&raw));

      headers = raw_client_parse_response (&raw, &status);
      g_test_message ("case %" G_GSIZE_FORMAT ": %u", i, status);
      g_assert_cmpuint (status, ==, cases[i].status);
      g_assert_cmpstr (soup_message_headers_get_one (headers, "Sec-WebSocket-Version"), ==,
                       cases[i].version_header);
      g_assert_false (ts.accept_ok);
      g_assert_error (ts.accept_error, SOUP_WEBSOCKET_ERROR, cases[i].error_code);
      /* A refusal never calls back. */
      g_assert_cmpuint (ts.accepted->len, ==, 0);
      g_assert_cmpuint (ts.n_destroyed, ==, 0);

      raw_client_stop (&raw);
      upgrade_server_stop (&ts);
    }
}

static void
test_server_message_ends_before_101 (void)
{
  UpgradeServer ts;
  RawClient raw;

  /* The upgrade is accepted, but the message goes away before its 101 is
   * written: the destroy notify runs once and the callback never. */
  upgrade_server_start (&ts, UPGRADE_THEN_PAUSE, FALSE);
  raw_client_start (&raw, ts.port, UPGRADE_REQUEST_HEAD "Sec-WebSocket-Version: 13\r\n\r\n",
                    NULL, 0);
  gc_test_wait (ts.paused != NULL);
  g_assert_true (ts.accept_ok);
  g_assert_cmpuint (ts.n_destroyed, ==, 0);

  soup_server_disconnect (ts.server);
  gc_test_wait (ts.n_destroyed > 0);
  g_assert_cmpuint (ts.n_destroyed, ==, 1);
  g_assert_cmpuint (ts.accepted->len, ==, 0);

  /* The client sees the connection end without a 101. */
  gc_test_wait (raw.eof);
  g_assert_false (raw_client_has_response (&raw));

  raw_client_stop (&raw);
  upgrade_server_stop (&ts);
  g_assert_cmpuint (ts.n_destroyed, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ws/handshake/accept-key", test_accept_key);
  g_test_add_func ("/ws/handshake/client/bad-url", test_bad_url);
  g_test_add_func ("/ws/handshake/client/round-trip", test_round_trip);
  g_test_add_func ("/ws/handshake/client/no-protocol", test_no_protocol);
  g_test_add_func ("/ws/handshake/client/refused", test_refused);
  g_test_add_func ("/ws/handshake/client/refused-chunked", test_refused_chunked);
  g_test_add_func ("/ws/handshake/client/refused-huge-body", test_refused_huge_body);
  g_test_add_func ("/ws/handshake/client/refused-eof-body", test_refused_eof_body);
  g_test_add_func ("/ws/handshake/client/refused-streaming-body", test_refused_streaming_body);
  g_test_add_func ("/ws/handshake/client/refused-stalled-body", test_refused_stalled_body);
  g_test_add_func ("/ws/handshake/client/bad-responses", test_bad_responses);
  g_test_add_func ("/ws/handshake/client/frames-with-101", test_frames_with_101);
  g_test_add_func ("/ws/handshake/client/too-large", test_too_large);
  g_test_add_func ("/ws/handshake/client/cancel", test_cancel_silent_server);
  g_test_add_func ("/ws/handshake/client/timeout", test_timeout_silent_server);
  g_test_add_func ("/ws/handshake/client/connection-refused", test_connection_refused);
  g_test_add_func ("/ws/handshake/client/ipv6-host", test_ipv6_host_header);
  g_test_add_func ("/ws/handshake/client/wss", test_wss);
  g_test_add_func ("/ws/handshake/server/first-frame-with-request",
                   test_server_first_frame_with_request);
  g_test_add_func ("/ws/handshake/server/no-extension", test_server_no_extension);
  g_test_add_func ("/ws/handshake/server/refusals", test_server_refusals);
  g_test_add_func ("/ws/handshake/server/message-ends-before-101",
                   test_server_message_ends_before_101);

  /* The TLS tests leave gnutls pool threads that LeakSanitizer chokes on:
   * gc_test_run() ends them. */
  return gc_test_run ();
}
