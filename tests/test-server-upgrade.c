/* test-server-upgrade.c: the direct upgrade of a join (issue 11)
 *
 * A join whose request head is a plain, valid RFC 6455 upgrade is
 * answered by our own 101 (gc_join_start_direct(), gc_ws_server_upgrade())
 * instead of libsoup's; everything else still goes to libsoup. The two
 * are told apart by the Date header, which libsoup writes on every
 * response and our 101 leaves out (RFC 9110 §6.6.1). Each test talks to
 * a gochat-server process over real loopback sockets, plain and over TLS,
 * with blocking reads and writes; it ends with gc_test_run(), so that the
 * pool threads of its TLS handshakes are gone when LeakSanitizer looks.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gnetworking.h>

#include "gc-protocol.h"
#include "gc-test-http.h"
#include "gc-test-server.h"
#include "gc-test-threads.h"
#include "gc-test-tls.h"
#include "gc-test-wait.h"

/* RFC 6455 §1.3's example. */
#define EXAMPLE_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define EXAMPLE_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

typedef struct {
  GcTestServerProcess *server;
  gboolean             tls;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autofree char *cert = gc_test_tls_file ("server.pem");
  g_autofree char *key = gc_test_tls_file ("server-key.pem");
  g_autofree char *cert_arg = g_strconcat ("--tls-cert=", cert, NULL);
  g_autofree char *key_arg = g_strconcat ("--tls-key=", key, NULL);

  fixture->tls = GPOINTER_TO_INT (data);
  if (fixture->tls)
    fixture->server = gc_test_server_process_start ("--join-per-second=0", cert_arg, key_arg,
                                                    NULL);
  else
    fixture->server = gc_test_server_process_start ("--join-per-second=0", NULL);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_clear_pointer (&fixture->server, gc_test_server_process_free);
}

/* A client connection: a socket connection, or TLS over one. */
typedef struct {
  GSocketConnection *connection;
  GIOStream         *stream;
  GByteArray        *received;
} Client;

static void
client_free (Client *client)
{
  g_clear_object (&client->stream);
  g_clear_object (&client->connection);
  g_byte_array_unref (client->received);
  g_free (client);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

static Client *
client_connect (Fixture *fixture)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  Client *client = g_new0 (Client, 1);

  client->received = g_byte_array_new ();
  client->connection = g_socket_client_connect_to_host (socket_client, "127.0.0.1",
                                                        fixture->server->port, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (client->connection),
                        gc_test_timeout_ms (GC_TEST_TIMEOUT_MS) / 1000);
  /* Each write a segment of its own. */
  g_socket_set_option (g_socket_connection_get_socket (client->connection), IPPROTO_TCP,
                       TCP_NODELAY, TRUE, NULL);

  if (fixture->tls)
    {
      g_autoptr(GTlsDatabase) ca = gc_test_tls_ca ();
      g_autoptr(GSocketConnectable) identity = g_network_address_new ("127.0.0.1",
                                                                      fixture->server->port);

      client->stream = g_tls_client_connection_new (G_IO_STREAM (client->connection), identity,
                                                    &error);
      g_assert_no_error (error);
      g_tls_connection_set_database (G_TLS_CONNECTION (client->stream), ca);
      g_tls_connection_handshake (G_TLS_CONNECTION (client->stream), NULL, &error);
      g_assert_no_error (error);
    }
  else
    {
      client->stream = G_IO_STREAM (g_object_ref (client->connection));
    }

  return client;
}

static void
client_write (Client       *client,
              const void   *data,
              gsize         len)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (client->stream),
                                            data, len, NULL, NULL, &error));
  g_assert_no_error (error);
  g_output_stream_flush (g_io_stream_get_output_stream (client->stream), NULL, &error);
  g_assert_no_error (error);
}

/* Reads once more; FALSE at EOF. */
static gboolean
client_read (Client *client)
{
  g_autoptr(GError) error = NULL;
  guint8 buffer[4096];
  gssize n = g_input_stream_read (g_io_stream_get_input_stream (client->stream), buffer,
                                  sizeof buffer, NULL, &error);

  if (n < 0 && g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_EOF))
    return FALSE;
  g_assert_no_error (error);
  g_byte_array_append (client->received, buffer, n);

  return n > 0;
}

/* The response head, read until its blank line (the rest stays in
 * client->received); with its status and headers. */
static char *
client_read_head (Client              *client,
                  guint               *out_status,
                  SoupMessageHeaders **out_headers)
{
  const guint8 *end;
  char *head;
  gsize head_len;

  while ((end = gc_test_find_header_end (client->received->data, client->received->len)) == NULL)
    g_assert_true (client_read (client));

  head_len = end - client->received->data + 4;
  head = g_strndup ((const char *) client->received->data, head_len);
  g_byte_array_remove_range (client->received, 0, head_len);

  *out_headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_assert_true (soup_headers_parse_response (head, head_len, *out_headers, NULL, out_status,
                                              NULL));
  return head;
}

/* The next whole server frame (unmasked, short) from what was read:
 * its opcode and payload. */
static guint8
client_read_frame (Client  *client,
                   GBytes **out_payload)
{
  guint8 opcode;
  gsize len;
  gsize at = 2;

  while (client->received->len < 2)
    g_assert_true (client_read (client));
  opcode = client->received->data[0] & 0x0f;
  g_assert_cmpuint (client->received->data[1] & 0x80, ==, 0);
  len = client->received->data[1] & 0x7f;
  if (len == 126)
    {
      while (client->received->len < 4)
        g_assert_true (client_read (client));
      len = (gsize) client->received->data[2] << 8 | client->received->data[3];
      at = 4;
    }
  g_assert_cmpuint (len, <, 127 * 1024);
  while (client->received->len < at + len)
    g_assert_true (client_read (client));

  *out_payload = g_bytes_new (client->received->data + at, len);
  g_byte_array_remove_range (client->received, 0, at + len);

  return opcode;
}

/* Reads frames until a text frame; returns its JSON object. */
static JsonObject *
client_read_event (Client *client)
{
  for (;;)
    {
      g_autoptr(GBytes) payload = NULL;
      guint8 opcode = client_read_frame (client, &payload);

      if (opcode == 0x1)
        {
          gsize len;
          const char *data = g_bytes_get_data (payload, &len);
          JsonObject *object = gc_test_parse_json_object (data, len);

          g_assert_nonnull (object);
          return object;
        }
      g_assert_cmpuint (opcode, !=, 0x8);
    }
}

/* A join request for @user_name in room "lobby", with @key and, if
 * @protocol, a Sec-WebSocket-Protocol header; @extra: more header lines. */
static char *
join_request (const char *user_name,
              const char *key,
              const char *protocol,
              const char *extra)
{
  return g_strdup_printf ("GET " GC_PROTOCOL_JOIN_PATH "?room_code=lobby&user_name=%s HTTP/1.1\r\n"
                          "Host: 127.0.0.1\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: %s\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "%s%s%s"
                          "%s"
                          "\r\n",
                          user_name, key,
                          protocol != NULL ? "Sec-WebSocket-Protocol: " : "",
                          protocol != NULL ? protocol : "",
                          protocol != NULL ? "\r\n" : "",
                          extra != NULL ? extra : "");
}

/* Asserts that @head is our own 101 for @key: libsoup's lines for it,
 * in its order, and no Date. */
static void
assert_direct_101 (const char *head,
                   const char *accept,
                   const char *protocol)
{
  g_autofree char *expected = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\n"
                                               "Upgrade: websocket\r\n"
                                               "Connection: Upgrade\r\n"
                                               "Sec-WebSocket-Accept: %s\r\n"
                                               "%s%s%s"
                                               "\r\n",
                                               accept,
                                               protocol != NULL ? "Sec-WebSocket-Protocol: " : "",
                                               protocol != NULL ? protocol : "",
                                               protocol != NULL ? "\r\n" : "");

  g_assert_cmpstr (head, ==, expected);
}

static void
assert_welcome (Client *client)
{
  g_autoptr(JsonObject) welcome = client_read_event (client);

  g_assert_cmpstr (json_object_get_string_member (welcome, "type"), ==, "welcome");
}

/* RFC 6455 §1.3's key gets its accept value, with and without a
 * subprotocol offered, with and without extensions offered, with a
 * second Connection line and with Content-Length: 0. */
static void
test_example_key (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *protocols[] = { NULL, GC_PROTOCOL_SUBPROTOCOL,
                              "chat, " GC_PROTOCOL_SUBPROTOCOL, NULL, GC_PROTOCOL_SUBPROTOCOL,
                              NULL, NULL };
  const char *chosen[] = { NULL, GC_PROTOCOL_SUBPROTOCOL, GC_PROTOCOL_SUBPROTOCOL,
                           NULL, GC_PROTOCOL_SUBPROTOCOL, NULL, NULL };
  /* What browsers offer: ignored, as libsoup ignores it (we take no
   * extension), so no Sec-WebSocket-Extensions in the 101. A second
   * Connection line is part of the list libsoup looks for the token in;
   * an empty body is no body. */
  const char *extra[] = { NULL, NULL, NULL,
                          "Sec-WebSocket-Extensions: permessage-deflate\r\n",
                          "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
                          "Connection: keep-alive\r\n",
                          "Content-Length: 0\r\n" };

  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    {
      g_autoptr(Client) client = client_connect (fixture);
      g_autofree char *name = g_strdup_printf ("user%u", i);
      g_autofree char *request = join_request (name, EXAMPLE_KEY, protocols[i], extra[i]);
      g_autoptr(SoupMessageHeaders) headers = NULL;
      g_autofree char *head = NULL;
      guint status = 0;

      client_write (client, request, strlen (request));
      head = client_read_head (client, &status, &headers);
      g_assert_cmpuint (status, ==, 101);
      assert_direct_101 (head, EXAMPLE_ACCEPT, chosen[i]);
      assert_welcome (client);
    }
}

/* Whether the server has read everything @client sent: its end of the
 * connection holds nothing unread (/proc/net/tcp, Linux; elsewhere
 * %TRUE). Waiting for it between writes makes the server see a head in
 * those pieces. */
static gboolean
server_has_read (Fixture *fixture,
                 Client  *client)
{
#ifdef __linux__
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (
    g_socket_connection_get_socket (client->connection), NULL);
  g_autofree char *table = NULL;
  g_autofree char *ends = NULL;
  const char *line;
  const char *queues;

  g_assert_nonnull (local);
  g_assert_true (g_file_get_contents ("/proc/net/tcp", &table, NULL, NULL));
  /* The server's end: its local address, then ours; a shared machine's
   * table may hold thousands of lines, so only this one is read. */
  ends = g_strdup_printf (" 0100007F:%04X 0100007F:%04X ", fixture->server->port,
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  line = strstr (table, ends);
  if (line != NULL)
    {
      /* "st tx_queue:rx_queue" follow. */
      queues = strchr (line + strlen (ends), ':');
      if (queues != NULL)
        return g_ascii_strtoull (queues + 1, NULL, 16) == 0;
    }

  /* Not listed: the kernel's listing may skip a line while the table
   * changes; look again. */
  return FALSE;
#else
  return TRUE;
#endif
}

/* Waits until server_has_read(): the server runs in a process of its
 * own, so nothing here needs the main loop, and a short poll is cheaper
 * than the main loop's 50 ms wake-ups, tens of times per test. */
static void
wait_server_read (Fixture *fixture,
                  Client  *client)
{
  gint64 end_us = g_get_monotonic_time () +
                  (gint64) gc_test_timeout_ms (GC_TEST_TIMEOUT_MS) * G_TIME_SPAN_MILLISECOND;

  while (!server_has_read (fixture, client))
    {
      if (g_get_monotonic_time () > end_us)
        g_error ("the server did not read what was sent");
      g_usleep (200);   /* polling a condition, with the deadline above */
    }
}

/* How many of the server's epoll sets hold at least one file (Linux;
 * elsewhere -1). Its connections are in one (src/ws's poller); the set
 * where sockets wait for their request heads must be empty once every
 * handshake has ended, not hold the sockets it handed on. */
static int
server_busy_epoll_sets (Fixture *fixture)
{
#ifdef __linux__
  const char *pid = g_subprocess_get_identifier (fixture->server->process);
  g_autofree char *fd_dir = g_strdup_printf ("/proc/%s/fd", pid);
  g_autoptr(GDir) dir = g_dir_open (fd_dir, 0, NULL);
  const char *name;
  int busy = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link_path = g_build_filename (fd_dir, name, NULL);
      g_autofree char *target = g_file_read_link (link_path, NULL);
      g_autofree char *info_path = NULL;
      g_autofree char *info = NULL;

      if (g_strcmp0 (target, "anon_inode:[eventpoll]") != 0)
        continue;
      info_path = g_strdup_printf ("/proc/%s/fdinfo/%s", pid, name);
      if (g_file_get_contents (info_path, &info, NULL, NULL) && strstr (info, "tfd:") != NULL)
        busy++;
    }

  return busy;
#else
  return -1;
#endif
}

/* The head in pieces, and a byte at a time: the server reads on until it
 * is whole. */
static void
test_split_head (Fixture       *fixture,
                 gconstpointer  data)
{
  const gsize pieces[] = { 0, 5, 1 };
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);

  for (guint i = 0; i < G_N_ELEMENTS (pieces); i++)
    {
      g_autoptr(Client) client = client_connect (fixture);
      g_autofree char *name = g_strdup_printf ("split%u", i);
      g_autofree char *request = join_request (name, EXAMPLE_KEY, GC_PROTOCOL_SUBPROTOCOL, NULL);
      g_autoptr(SoupMessageHeaders) headers = NULL;
      g_autofree char *head = NULL;
      gsize len = strlen (request);
      gsize step = pieces[i] == 0 ? len / 3 : pieces[i];
      guint status = 0;

      for (gsize at = 0; at < len; at += step)
        {
          client_write (client, request + at, MIN (step, len - at));
          /* The server reads each of the first eight pieces before the
           * next is sent; the rest may come together. */
          if (at < 8 * step)
            wait_server_read (fixture, client);
        }
      head = client_read_head (client, &status, &headers);
      g_assert_cmpuint (status, ==, 101);
      assert_direct_101 (head, EXAMPLE_ACCEPT, GC_PROTOCOL_SUBPROTOCOL);
      assert_welcome (client);
      g_ptr_array_add (clients, g_steal_pointer (&client));
    }

  /* Their sockets waited for their heads (or ClientHellos) in
   * admission's epoll set; now only the poller's set holds them. */
  if (server_busy_epoll_sets (fixture) >= 0)
    g_assert_cmpint (server_busy_epoll_sets (fixture), ==, 1);
}

/* A masked client ping with payload "hi". */
static const guint8 ping_frame[] = { 0x89, 0x82, 0x01, 0x02, 0x03, 0x04, 'h' ^ 0x01, 'i' ^ 0x02 };

/* The client's first frame right behind its head, in the same write or
 * in the last piece of a split head: the frame parser gets it (the ping
 * is answered). */
static void
test_pipelined_frame (Fixture       *fixture,
                      gconstpointer  data)
{
  for (guint split = 0; split < 2; split++)
    {
      g_autoptr(Client) client = client_connect (fixture);
      g_autofree char *name = g_strdup_printf ("pipe%u", split);
      g_autofree char *request = join_request (name, EXAMPLE_KEY, NULL, NULL);
      g_autoptr(GByteArray) bytes = g_byte_array_new ();
      g_autoptr(SoupMessageHeaders) headers = NULL;
      g_autofree char *head = NULL;
      guint status = 0;
      gboolean ponged = FALSE;

      g_byte_array_append (bytes, (const guint8 *) request, strlen (request));
      g_byte_array_append (bytes, ping_frame, sizeof ping_frame);
      if (split)
        {
          client_write (client, bytes->data, 20);
          wait_server_read (fixture, client);
          client_write (client, bytes->data + 20, bytes->len - 20);
        }
      else
        {
          client_write (client, bytes->data, bytes->len);
        }

      head = client_read_head (client, &status, &headers);
      g_assert_cmpuint (status, ==, 101);
      assert_direct_101 (head, EXAMPLE_ACCEPT, NULL);
      assert_welcome (client);
      while (!ponged)
        {
          g_autoptr(GBytes) payload = NULL;
          guint8 opcode = client_read_frame (client, &payload);

          g_assert_cmpuint (opcode, !=, 0x8);
          if (opcode == 0xa)
            {
              g_assert_cmpmem (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                               "hi", 2);
              ponged = TRUE;
            }
        }
    }
}

/* What is not a plain valid upgrade goes to libsoup, whose answers carry
 * a Date: each with the status it always had. */
typedef struct {
  const char *request;
  guint       status;
  gboolean    bare;     /* libsoup's parse error: a bare 400, no Date */
} Variant;

static const Variant invalid_variants[] = {
  /* RFC 6455 §4.2.1's requirements, one broken at a time: */
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
    426 },
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: keep-alive\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
    400 },
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n",
    400 },
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
    400 },
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    400 },
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: chat\r\n\r\n",
    400 },
  { "POST /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
    405 },
  /* No Host in HTTP/1.1. */
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
    400, TRUE },
  /* Other paths. */
  { "GET /joinRoomX?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
    404 },
  { "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    200 },
  /* A header libsoup reads once, given twice: its 400. */
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n"
    "Upgrade: websocket\r\n\r\n",
    400 },
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n",
    400 },
  /* IP literals GLib's URI parser refuses (libsoup's bare 400). */
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: [1.2.3.4]\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n"
    "\r\n",
    400, TRUE },
  { "GET /joinRoom?room_code=lobby&user_name=v HTTP/1.1\r\nHost: [::::::]\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n"
    "\r\n",
    400, TRUE },
};

static void
test_invalid_upgrades (Fixture       *fixture,
                       gconstpointer  data)
{
  for (guint i = 0; i < G_N_ELEMENTS (invalid_variants); i++)
    {
      g_autoptr(Client) client = client_connect (fixture);
      g_autoptr(SoupMessageHeaders) headers = NULL;
      g_autofree char *head = NULL;
      guint status = 0;

      client_write (client, invalid_variants[i].request, strlen (invalid_variants[i].request));
      head = client_read_head (client, &status, &headers);
      g_test_message ("variant %u: %u", i, status);
      g_assert_cmpuint (status, ==, invalid_variants[i].status);
      /* libsoup's answer. */
      if (invalid_variants[i].bare)
        g_assert_cmpstr (head, ==, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      else
        g_assert_nonnull (soup_message_headers_get_one (headers, "Date"));
    }
}

/* Upgrades that libsoup still takes, because its answer could differ
 * from ours: HTTP/1.0, a percent-encoded path, a header given twice; and
 * resumes.
 * They get what they got before (with libsoup's Date). */
static void
test_libsoup_upgrades (Fixture       *fixture,
                       gconstpointer  data)
{
  /* libsoup's statuses: HTTP/1.0 gets 426, as it always did. */
  const guint statuses[] = { 426, 101, 101, 101, 101, 101, 101 };
  const char *requests[] = {
    "GET /joinRoom?room_code=lobby&user_name=old HTTP/1.0\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
    "GET /join%52oom?room_code=lobby&user_name=pct HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
    /* A header given twice: libsoup picks which one counts. */
    "GET /joinRoom?room_code=lobby&user_name=dupkey HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n",
    "GET /joinRoom?room_code=lobby&user_name=duphost HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n",
    "GET /joinRoom?room_code=lobby&user_name=dupproto HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " GC_PROTOCOL_SUBPROTOCOL "\r\n"
    "Sec-WebSocket-Protocol: " GC_PROTOCOL_SUBPROTOCOL "\r\n\r\n",
    /* Resumes, however the parser reads their key (an unknown session
     * joins afresh). */
    "GET /joinRoom?room_code=lobby&user_name=res1&session_id=abc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n",
    "GET /joinRoom?room_code=lobby&user_name=res2&session%5Fid=abc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " EXAMPLE_KEY "\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      g_autoptr(Client) client = client_connect (fixture);
      g_autoptr(SoupMessageHeaders) headers = NULL;
      g_autofree char *head = NULL;
      guint status = 0;

      client_write (client, requests[i], strlen (requests[i]));
      head = client_read_head (client, &status, &headers);
      g_test_message ("request %u: %u", i, status);
      g_assert_cmpuint (status, ==, statuses[i]);
      g_assert_nonnull (soup_message_headers_get_one (headers, "Date"));
      if (status == 101)
        {
          g_assert_cmpstr (soup_message_headers_get_one (headers, "Sec-WebSocket-Accept"), ==,
                           EXAMPLE_ACCEPT);
          assert_welcome (client);
        }
    }
}

/* A join refused in-band takes the direct path too: the 101 (with
 * Retry-After when rate-limited), the refused event and the close. */
static void
test_refused_in_band (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(Client) first = client_connect (fixture);
  g_autoptr(Client) second = client_connect (fixture);
  g_autofree char *request = join_request ("same", EXAMPLE_KEY, GC_PROTOCOL_SUBPROTOCOL, NULL);
  g_autoptr(SoupMessageHeaders) headers = NULL;
  g_autoptr(SoupMessageHeaders) headers2 = NULL;
  g_autoptr(JsonObject) refused = NULL;
  g_autoptr(GBytes) close_payload = NULL;
  g_autofree char *head = NULL;
  g_autofree char *head2 = NULL;
  guint status = 0;
  const guint8 *close_data;

  client_write (first, request, strlen (request));
  head = client_read_head (first, &status, &headers);
  assert_direct_101 (head, EXAMPLE_ACCEPT, GC_PROTOCOL_SUBPROTOCOL);
  assert_welcome (first);

  client_write (second, request, strlen (request));
  head2 = client_read_head (second, &status, &headers2);
  assert_direct_101 (head2, EXAMPLE_ACCEPT, GC_PROTOCOL_SUBPROTOCOL);
  refused = client_read_event (second);
  g_assert_cmpstr (json_object_get_string_member (refused, "type"), ==, "refused");
  g_assert_cmpstr (json_object_get_string_member (refused, "error"), ==, "name_taken");
  g_assert_cmpuint (client_read_frame (second, &close_payload), ==, 0x8);
  close_data = g_bytes_get_data (close_payload, NULL);
  g_assert_cmpuint (g_bytes_get_size (close_payload), >=, 2);
  g_assert_cmpuint (close_data[0] << 8 | close_data[1], ==, 4409);
}

static void
add_both (const char *path,
          void (*test) (Fixture *, gconstpointer))
{
  g_autofree char *plain = g_strconcat ("/server/upgrade/plain/", path, NULL);
  g_autofree char *tls = g_strconcat ("/server/upgrade/tls/", path, NULL);

  g_test_add (plain, Fixture, GINT_TO_POINTER (FALSE), fixture_setup, test, fixture_teardown);
  g_test_add (tls, Fixture, GINT_TO_POINTER (TRUE), fixture_setup, test, fixture_teardown);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_both ("example-key", test_example_key);
  add_both ("split-head", test_split_head);
  add_both ("pipelined-frame", test_pipelined_frame);
  add_both ("invalid", test_invalid_upgrades);
  add_both ("libsoup", test_libsoup_upgrades);
  add_both ("refused-in-band", test_refused_in_band);

  return gc_test_run ();
}
