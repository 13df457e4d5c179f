/* test-ws-connection.c: GcWsConnection and GcWsPoller over loopback sockets
 *
 * One end of a real TCP connection is wrapped in a GcWsConnection; the
 * other is driven by the test as a raw peer that writes hand-made frames
 * and decodes what it reads. Everything is driven by the main loop; waits
 * are conditions with a deadline.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <gio/gnetworking.h>
#include <libsoup/soup.h>

#include "gc-ws-connection-private.h"
#include "gc-ws-frame.h"

#include "gc-test-wait.h"
#include "gc-test-threads.h"

/* Self-signed, CN=localhost, for the TLS test only. */
static const char test_cert_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBmzCCAUGgAwIBAgIUUp3hnnJO0G2DEswkWSxiEEDmVYgwCgYIKoZIzj0EAwIw\n"
  "FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNzIxMjQzMFoYDzIxMjYxMTAz\n"
  "MjEyNDMwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
  "PQMBBwNCAAShp9In0GFz5Jg0iwWWgeVA51N8oVjhUWYCOyjzGcIu9MYg7Zc2BgaS\n"
  "M+IK/D9Ic3e+dgewXTwYKx8RF4ugEm95o28wbTAdBgNVHQ4EFgQUpOvD3r+atLul\n"
  "XxArbGboIyboyIUwHwYDVR0jBBgwFoAUpOvD3r+atLulXxArbGboIyboyIUwDwYD\n"
  "VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI\n"
  "zj0EAwIDSAAwRQIgQnGYiByufqE+d+I5iA95qsjOrU2jBfSQsxqpU6A+AAwCIQC1\n"
  "TozG4hIUC8QKmYcQ2VrDdnlUfgZdvlAs5vhZjOapOQ==\n"
  "-----END CERTIFICATE-----\n"
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVTD83Y+1nkMPN7hD\n"
  "vOdio4xPqYvXlCtnqPsFBNEP0lWhRANCAAShp9In0GFz5Jg0iwWWgeVA51N8oVjh\n"
  "UWYCOyjzGcIu9MYg7Zc2BgaSM+IK/D9Ic3e+dgewXTwYKx8RF4ugEm95\n"
  "-----END PRIVATE KEY-----\n";

/* Waiting */

/* Runs whatever is ready now, without blocking. */
static void
spin_ready (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Also lists them in the test log, to tell what leaked. */
static guint
count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      g_test_message ("fd %s: %s", name, target ? target : "?");
      n++;
    }
  return n - 1;  /* the directory's own fd */
}

/* Construct-time properties with no getter of their own. */

static guint
connection_role (GcWsConnection *connection)
{
  guint role;

  g_object_get (connection, "role", &role, NULL);
  return role;
}

static guint64
connection_max_message_size (GcWsConnection *connection)
{
  guint64 size;

  g_object_get (connection, "max-message-size", &size, NULL);
  return size;
}

/* Transfer none: the connection holds the stream. */
static GIOStream *
connection_stream (GcWsConnection *connection)
{
  GIOStream *stream;

  g_object_get (connection, "stream", &stream, NULL);
  g_object_unref (stream);
  return stream;
}

/* Sockets */

/* Every test's connections come from here. */
static GSocket *listener;

static GSocket *
listener_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocket) socket = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any_port, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&socket);
}

static void
tcp_pair (GSocketConnection **ours,
          GSocketConnection **theirs)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) client = NULL;
  g_autoptr(GSocket) server = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  address = g_socket_get_local_address (listener, &error);
  g_assert_no_error (error);
  client = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_connect (client, address, NULL, &error);
  g_assert_no_error (error);
  server = g_socket_accept (listener, NULL, &error);
  g_assert_no_error (error);

  *ours = g_socket_connection_factory_create_connection (server);
  *theirs = g_socket_connection_factory_create_connection (client);
}

/* The raw peer */

typedef struct {
  GcWsOpcode  opcode;
  GBytes     *payload;
} Frame;

static void
frame_free (gpointer data)
{
  Frame *frame = data;

  g_bytes_unref (frame->payload);
  g_free (frame);
}

static Frame *
frame_new (GcWsOpcode  opcode,
           GBytes     *payload)
{
  Frame *frame = g_new0 (Frame, 1);

  frame->opcode = opcode;
  frame->payload = g_bytes_ref (payload);
  return frame;
}

typedef struct {
  GIOStream  *stream;
  GcWsRole    role;       /* the peer's role, opposite to the connection's */
  GcWsParser *parser;     /* decodes what the connection sends */
  GPtrArray  *frames;
  GSource    *watch;
  gsize       bytes_received;
  gboolean    eof;
  gboolean    reset;      /* the read ended with an error (RST) */
} Peer;

static gboolean
peer_collect_frame (GcWsOpcode  opcode,
                    GBytes     *payload,
                    gpointer    user_data)
{
  Peer *peer = user_data;

  g_ptr_array_add (peer->frames, frame_new (opcode, payload));
  return TRUE;
}

static gboolean
peer_readable_cb (GObject  *stream,
                  gpointer  user_data)
{
  Peer *peer = user_data;
  guint8 buffer[16384];

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream),
                                                           buffer, sizeof buffer,
                                                           NULL, &error);

      if (n > 0)
        {
          g_autoptr(GError) parse_error = NULL;

          peer->bytes_received += n;
          gc_ws_parser_feed (peer->parser, buffer, n, peer_collect_frame, peer, &parse_error);
          g_assert_no_error (parse_error);
          continue;
        }
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;

      peer->eof = TRUE;
      peer->reset = n < 0;
      g_clear_pointer (&peer->watch, g_source_unref);
      return G_SOURCE_REMOVE;
    }
}

static void
peer_init (Peer      *peer,
           GIOStream *stream,
           GcWsRole   role)
{
  peer->stream = stream;
  peer->role = role;
  peer->parser = gc_ws_parser_new (role, 0);
  peer->frames = g_ptr_array_new_with_free_func (frame_free);
}

static void
peer_start_reading (Peer *peer)
{
  GInputStream *input = g_io_stream_get_input_stream (peer->stream);

  g_assert_null (peer->watch);
  peer->watch = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (input), NULL);
  g_source_set_callback (peer->watch, G_SOURCE_FUNC (peer_readable_cb), peer, NULL);
  g_source_attach (peer->watch, NULL);
}

static void
peer_clear (Peer *peer)
{
  if (peer->watch != NULL)
    {
      g_source_destroy (peer->watch);
      g_clear_pointer (&peer->watch, g_source_unref);
    }
  if (peer->stream != NULL)
    g_io_stream_close (peer->stream, NULL, NULL);
  g_clear_object (&peer->stream);
  g_clear_pointer (&peer->parser, gc_ws_parser_free);
  g_clear_pointer (&peer->frames, g_ptr_array_unref);
}

static void
peer_send_raw (Peer         *peer,
               const guint8 *data,
               gsize         len)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (peer->stream),
                             data, len, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
peer_send_bytes (Peer   *peer,
                 GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  peer_send_raw (peer, data, len);
}

/* A frame as the peer's role encodes it (a client peer masks). */
static GBytes *
peer_encode (Peer         *peer,
             GcWsOpcode    opcode,
             const void   *data,
             gsize         len)
{
  return gc_ws_frame_encode (peer->role, opcode, TRUE, data, len);
}

static void
peer_send_frame (Peer       *peer,
                 GcWsOpcode  opcode,
                 const void *data,
                 gsize       len)
{
  g_autoptr(GBytes) frame = peer_encode (peer, opcode, data, len);

  peer_send_bytes (peer, frame);
}

static void
peer_send_close (Peer       *peer,
                 gushort     code,
                 const char *reason)
{
  g_autoptr(GBytes) frame = gc_ws_frame_encode_close (peer->role, code, reason);

  peer_send_bytes (peer, frame);
}

static Frame *
peer_frame (Peer  *peer,
            guint  i)
{
  g_assert_cmpuint (i, <, peer->frames->len);
  return g_ptr_array_index (peer->frames, i);
}

static void
assert_frame (Frame      *frame,
              GcWsOpcode  opcode,
              const char *text)
{
  g_assert_cmpint (frame->opcode, ==, opcode);
  g_assert_cmpmem (g_bytes_get_data (frame->payload, NULL), g_bytes_get_size (frame->payload),
                   text, strlen (text));
}

static void
assert_close_frame (Frame      *frame,
                    gushort     expected_code,
                    const char *expected_reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  gushort code = 0;
  gsize len;
  const guint8 *data = g_bytes_get_data (frame->payload, &len);

  g_assert_cmpint (frame->opcode, ==, GC_WS_OPCODE_CLOSE);
  g_assert_true (gc_ws_close_payload_parse (data, len, &code, &reason, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (code, ==, expected_code);
  if (expected_reason != NULL)
    g_assert_cmpstr (reason, ==, expected_reason);
}

/* A wrapped connection and its raw peer */

typedef struct {
  GcWsConnection *connection;
  Peer            peer;
  GPtrArray      *messages;     /* Frame, from "message" */
  GPtrArray      *pings;        /* GBytes */
  guint           n_pongs;
  guint           n_closing;
  guint           n_closed;
  guint           n_overflows;
  guint           n_errors;
  GError         *error;        /* the last "error" */
} Pair;

static void
on_message (GcWsConnection *connection,
            GcWsOpcode      opcode,
            GBytes         *payload,
            Pair           *pair)
{
  g_assert_true (opcode == GC_WS_OPCODE_TEXT || opcode == GC_WS_OPCODE_BINARY);
  g_ptr_array_add (pair->messages, frame_new (opcode, payload));
}

static void
on_ping (GcWsConnection *connection,
         GBytes         *payload,
         Pair           *pair)
{
  g_ptr_array_add (pair->pings, g_bytes_ref (payload));
}

static void
on_pong (GcWsConnection *connection,
         GBytes         *payload,
         Pair           *pair)
{
  pair->n_pongs++;
}

static void
on_queue_overflow (GcWsConnection *connection,
                   Pair           *pair)
{
  pair->n_overflows++;
}

static void
on_error (GcWsConnection *connection,
          GError         *error,
          Pair           *pair)
{
  pair->n_errors++;
  g_clear_error (&pair->error);
  pair->error = g_error_copy (error);
}

static void
on_closing (GcWsConnection *connection,
            Pair           *pair)
{
  g_assert_cmpint (gc_ws_connection_get_state (connection), ==, GC_WS_STATE_CLOSING);
  pair->n_closing++;
}

static void
on_closed (GcWsConnection *connection,
           Pair           *pair)
{
  g_assert_cmpint (gc_ws_connection_get_state (connection), ==, GC_WS_STATE_CLOSED);
  pair->n_closed++;
}

static GcWsRole
opposite_role (GcWsRole role)
{
  return role == GC_WS_ROLE_SERVER ? GC_WS_ROLE_CLIENT : GC_WS_ROLE_SERVER;
}

static void
pair_connect_signals (Pair *pair)
{
  g_signal_connect (pair->connection, "message", G_CALLBACK (on_message), pair);
  g_signal_connect (pair->connection, "ping", G_CALLBACK (on_ping), pair);
  g_signal_connect (pair->connection, "pong", G_CALLBACK (on_pong), pair);
  g_signal_connect (pair->connection, "queue-overflow", G_CALLBACK (on_queue_overflow), pair);
  g_signal_connect (pair->connection, "error", G_CALLBACK (on_error), pair);
  g_signal_connect (pair->connection, "closing", G_CALLBACK (on_closing), pair);
  g_signal_connect (pair->connection, "closed", G_CALLBACK (on_closed), pair);
}

/* Wraps @ours; @theirs becomes the raw peer. */
static Pair *
pair_new_from_streams (GIOStream  *ours,
                       GIOStream  *theirs,
                       GcWsRole    role,
                       GBytes     *initial_data,
                       GcWsPoller *poller)
{
  Pair *pair = g_new0 (Pair, 1);

  pair->messages = g_ptr_array_new_with_free_func (frame_free);
  pair->pings = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  pair->connection = gc_ws_connection_new (ours, role, initial_data, NULL, poller);
  g_assert_nonnull (pair->connection);
  pair_connect_signals (pair);
  peer_init (&pair->peer, g_object_ref (theirs), opposite_role (role));
  return pair;
}

static Pair *
pair_new_full (GcWsRole    role,
               GBytes     *initial_data,
               GcWsPoller *poller,
               gboolean    peer_reads)
{
  g_autoptr(GSocketConnection) ours = NULL;
  g_autoptr(GSocketConnection) theirs = NULL;
  Pair *pair;

  tcp_pair (&ours, &theirs);
  pair = pair_new_from_streams (G_IO_STREAM (ours), G_IO_STREAM (theirs), role, initial_data, poller);
  if (peer_reads)
    peer_start_reading (&pair->peer);
  return pair;
}

static void
pair_free (Pair *pair)
{
  g_clear_object (&pair->connection);
  peer_clear (&pair->peer);
  g_clear_pointer (&pair->messages, g_ptr_array_unref);
  g_clear_pointer (&pair->pings, g_ptr_array_unref);
  g_clear_error (&pair->error);
  g_free (pair);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pair, pair_free)

static Frame *
pair_message (Pair  *pair,
              guint  i)
{
  g_assert_cmpuint (i, <, pair->messages->len);
  return g_ptr_array_index (pair->messages, i);
}

/* Fixture: one poller per test, in either mode and role */

typedef struct {
  gboolean portable;
  GcWsRole role;
} TestMode;

static const TestMode epoll_server = { FALSE, GC_WS_ROLE_SERVER };
static const TestMode epoll_client = { FALSE, GC_WS_ROLE_CLIENT };
static const TestMode portable_server = { TRUE, GC_WS_ROLE_SERVER };
static const TestMode portable_client = { TRUE, GC_WS_ROLE_CLIENT };

typedef struct {
  const TestMode *mode;
  GcWsPoller     *poller;
  guint           n_fds;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture->mode = data;
  fixture->n_fds = count_open_fds ();
  fixture->poller = fixture->mode->portable ? gc_ws_poller_new_portable (NULL)
                                            : gc_ws_poller_new (NULL);
  g_assert_cmpint (gc_ws_poller_uses_epoll (fixture->poller), ==, !fixture->mode->portable);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  spin_ready ();
  g_assert_cmpuint (gc_ws_poller_get_n_connections (fixture->poller), ==, 0);
  g_clear_object (&fixture->poller);
  spin_ready ();
  /* Every test must give back every socket it opened. */
  g_assert_cmpuint (count_open_fds (), ==, fixture->n_fds);
}

static Pair *
fixture_pair (Fixture *fixture)
{
  return pair_new_full (fixture->mode->role, NULL, fixture->poller, TRUE);
}

/* Tests */

static void
test_messages (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  static const guint8 blob[] = { 0, 1, 2, 0xff, 0xfe };

  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "hello", 5);
  peer_send_frame (&pair->peer, GC_WS_OPCODE_BINARY, blob, sizeof blob);
  gc_test_wait (pair->messages->len == 2);
  assert_frame (pair_message (pair, 0), GC_WS_OPCODE_TEXT, "hello");
  g_assert_cmpint (pair_message (pair, 1)->opcode, ==, GC_WS_OPCODE_BINARY);
  g_assert_cmpmem (g_bytes_get_data (pair_message (pair, 1)->payload, NULL), sizeof blob,
                   blob, sizeof blob);

  gc_ws_connection_send_text (pair->connection, "héllo", -1);
  gc_ws_connection_send_binary (pair->connection, blob, sizeof blob);
  gc_ws_connection_send_text (pair->connection, "", 0);
  gc_test_wait (pair->peer.frames->len == 3);
  assert_frame (peer_frame (&pair->peer, 0), GC_WS_OPCODE_TEXT, "héllo");
  g_assert_cmpint (peer_frame (&pair->peer, 1)->opcode, ==, GC_WS_OPCODE_BINARY);
  g_assert_cmpmem (g_bytes_get_data (peer_frame (&pair->peer, 1)->payload, NULL), sizeof blob,
                   blob, sizeof blob);
  assert_frame (peer_frame (&pair->peer, 2), GC_WS_OPCODE_TEXT, "");
  g_assert_cmpuint (gc_ws_connection_get_queued_bytes (pair->connection), ==, 0);

  g_assert_cmpint (connection_role (pair->connection), ==, fixture->mode->role);
  g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_OPEN);
  g_assert_cmpuint (pair->n_errors, ==, 0);
  g_assert_cmpuint (pair->n_closed, ==, 0);
}

/* U+0000 is valid UTF-8 and valid in a text message (RFC 6455 §5.6), in
 * both directions: issue 11.1, where sending it was refused with a
 * CRITICAL. */
static void
test_text_with_nul (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);

  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "\0", 1);
  gc_test_wait (pair->messages->len == 1);
  g_assert_cmpint (pair_message (pair, 0)->opcode, ==, GC_WS_OPCODE_TEXT);
  g_assert_cmpmem (g_bytes_get_data (pair_message (pair, 0)->payload, NULL),
                   g_bytes_get_size (pair_message (pair, 0)->payload), "\0", 1);

  /* Echoed, as ws-echo-server does: the payload is not a C string. */
  gc_ws_connection_send_text (pair->connection,
                              g_bytes_get_data (pair_message (pair, 0)->payload, NULL),
                              g_bytes_get_size (pair_message (pair, 0)->payload));
  gc_ws_connection_send_text (pair->connection, "a\0b\0", 4);
  gc_test_wait (pair->peer.frames->len == 2);
  g_assert_cmpint (peer_frame (&pair->peer, 0)->opcode, ==, GC_WS_OPCODE_TEXT);
  g_assert_cmpmem (g_bytes_get_data (peer_frame (&pair->peer, 0)->payload, NULL),
                   g_bytes_get_size (peer_frame (&pair->peer, 0)->payload), "\0", 1);
  g_assert_cmpmem (g_bytes_get_data (peer_frame (&pair->peer, 1)->payload, NULL),
                   g_bytes_get_size (peer_frame (&pair->peer, 1)->payload), "a\0b\0", 4);
  g_assert_cmpuint (pair->n_errors, ==, 0);
  g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_OPEN);
}

static void
test_large_message (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  gsize len = 3 * GC_WS_POLLER_READ_BUDGET + 123;
  g_autofree guint8 *big = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    big[i] = i * 7;

  /* More than one read budget each way. */
  peer_send_frame (&pair->peer, GC_WS_OPCODE_BINARY, big, len);
  gc_test_wait (pair->messages->len == 1);
  g_assert_cmpmem (g_bytes_get_data (pair_message (pair, 0)->payload, NULL),
                   g_bytes_get_size (pair_message (pair, 0)->payload), big, len);

  gc_ws_connection_send_binary (pair->connection, big, len);
  gc_test_wait (pair->peer.frames->len == 1);
  g_assert_cmpmem (g_bytes_get_data (peer_frame (&pair->peer, 0)->payload, NULL),
                   g_bytes_get_size (peer_frame (&pair->peer, 0)->payload), big, len);
}

static void
test_split_writes (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  g_autoptr(GBytes) frame = NULL;
  const guint8 *bytes;
  gsize len;

  frame = peer_encode (&pair->peer, GC_WS_OPCODE_TEXT, "one byte at a time", 18);
  bytes = g_bytes_get_data (frame, &len);
  for (gsize i = 0; i < len; i++)
    {
      peer_send_raw (&pair->peer, bytes + i, 1);
      spin_ready ();
      g_assert_cmpuint (pair->messages->len, ==, i + 1 < len ? 0 : 1);
    }
  gc_test_wait (pair->messages->len == 1);
  assert_frame (pair_message (pair, 0), GC_WS_OPCODE_TEXT, "one byte at a time");
}

static void
test_many_frames_one_write (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  g_autoptr(GByteArray) batch = g_byte_array_new ();
  const char *texts[] = { "first", "second", "third" };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GBytes) frame = peer_encode (&pair->peer, GC_WS_OPCODE_TEXT,
                                             texts[i], strlen (texts[i]));
      g_autoptr(GBytes) ping = peer_encode (&pair->peer, GC_WS_OPCODE_PING, "p", 1);

      g_byte_array_append (batch, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
      if (i == 1)
        g_byte_array_append (batch, g_bytes_get_data (ping, NULL), g_bytes_get_size (ping));
    }
  peer_send_raw (&pair->peer, batch->data, batch->len);

  gc_test_wait (pair->messages->len == 3 && pair->peer.frames->len == 1);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    assert_frame (pair_message (pair, i), GC_WS_OPCODE_TEXT, texts[i]);
  assert_frame (peer_frame (&pair->peer, 0), GC_WS_OPCODE_PONG, "p");
}

static void
test_initial_data (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GByteArray) early = g_byte_array_new ();
  g_autoptr(GBytes) initial_data = NULL;
  g_autoptr(GBytes) first = gc_ws_frame_encode (opposite_role (fixture->mode->role),
                                                GC_WS_OPCODE_TEXT, TRUE, (const guint8 *) "early", 5);
  g_autoptr(GBytes) second = gc_ws_frame_encode (opposite_role (fixture->mode->role),
                                                 GC_WS_OPCODE_TEXT, TRUE, (const guint8 *) "straddling", 10);
  g_autoptr(Pair) pair = NULL;
  gsize second_len;
  const guint8 *second_data = g_bytes_get_data (second, &second_len);

  /* What a handshake read past the end of the headers: a whole frame and
   * the start of the next one. */
  g_byte_array_append (early, g_bytes_get_data (first, NULL), g_bytes_get_size (first));
  g_byte_array_append (early, second_data, 4);
  initial_data = g_bytes_new (early->data, early->len);

  pair = pair_new_full (fixture->mode->role, initial_data, fixture->poller, TRUE);
  /* Nothing is emitted before the owner could connect its handlers. */
  g_assert_cmpuint (pair->messages->len, ==, 0);

  peer_send_raw (&pair->peer, second_data + 4, second_len - 4);
  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "late", 4);
  gc_test_wait (pair->messages->len == 3);
  assert_frame (pair_message (pair, 0), GC_WS_OPCODE_TEXT, "early");
  assert_frame (pair_message (pair, 1), GC_WS_OPCODE_TEXT, "straddling");
  assert_frame (pair_message (pair, 2), GC_WS_OPCODE_TEXT, "late");
}

static void
test_auto_pong (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);

  peer_send_frame (&pair->peer, GC_WS_OPCODE_PING, "abc", 3);
  gc_test_wait (pair->peer.frames->len == 1);
  assert_frame (peer_frame (&pair->peer, 0), GC_WS_OPCODE_PONG, "abc");
  g_assert_cmpuint (pair->pings->len, ==, 1);
  g_assert_cmpmem (g_bytes_get_data (g_ptr_array_index (pair->pings, 0), NULL), 3, "abc", 3);

  /* An empty ping too, and our own ping gets the peer's pong reported. */
  peer_send_frame (&pair->peer, GC_WS_OPCODE_PING, NULL, 0);
  gc_ws_connection_send_ping (pair->connection, (const guint8 *) "xy", 2);
  gc_test_wait (pair->peer.frames->len == 3);
  assert_frame (peer_frame (&pair->peer, 1), GC_WS_OPCODE_PING, "xy");
  assert_frame (peer_frame (&pair->peer, 2), GC_WS_OPCODE_PONG, "");
  peer_send_frame (&pair->peer, GC_WS_OPCODE_PONG, "xy", 2);
  gc_test_wait (pair->n_pongs == 1);
  g_assert_cmpuint (pair->messages->len, ==, 0);
}

static guint
count_frames (Peer       *peer,
              GcWsOpcode  opcode)
{
  guint n = 0;

  for (guint i = 0; i < peer->frames->len; i++)
    n += peer_frame (peer, i)->opcode == opcode;
  return n;
}

static void
test_keepalive (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  gint64 start;
  gint64 last_frame = 0;

  gc_ws_connection_set_keepalive (pair->connection, 1, 2);

  /* Traffic from the peer, of any kind, keeps the connection quiet. */
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () - start < 2500 * G_TIME_SPAN_MILLISECOND)
    {
      peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "tick", 4);
      /* A window, not a wait: traffic spread over time is the stimulus. */
      gc_test_run_for_ms (300);
      peer_send_frame (&pair->peer, GC_WS_OPCODE_PONG, NULL, 0);
      last_frame = g_get_monotonic_time ();
      gc_test_run_for_ms (300);
    }
  g_assert_cmpuint (count_frames (&pair->peer, GC_WS_OPCODE_PING), ==, 0);
  g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_OPEN);

  /* Silence: a ping after the interval; answering it keeps us alive. */
  gc_test_wait (count_frames (&pair->peer, GC_WS_OPCODE_PING) == 1);
  g_assert_cmpint (g_get_monotonic_time () - last_frame, >=, 900 * G_TIME_SPAN_MILLISECOND);
  peer_send_frame (&pair->peer, GC_WS_OPCODE_PONG, NULL, 0);
  last_frame = g_get_monotonic_time ();

  /* Then silence again: pinged each interval, dead after the timeout. */
  gc_test_wait (pair->n_closed == 1);
  g_assert_cmpint (g_get_monotonic_time () - last_frame, >=, 1900 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (count_frames (&pair->peer, GC_WS_OPCODE_PING), >=, 2);
  g_assert_cmpuint (count_frames (&pair->peer, GC_WS_OPCODE_CLOSE), ==, 0);
  g_assert_cmpuint (pair->n_errors, ==, 1);
  g_assert_error (pair->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (gc_ws_connection_get_close_code (pair->connection), ==, GC_WS_CLOSE_ABNORMAL);
  gc_test_wait (pair->peer.eof);
  g_assert_cmpuint (gc_ws_poller_get_n_connections (fixture->poller), ==, 0);
}

typedef struct {
  Peer   *peer;
  gint64  until;
  guint   n_sent;
} StallSender;

static gpointer
stall_sender_run (gpointer data)
{
  StallSender *sender = data;

  while (g_get_monotonic_time () < sender->until)
    {
      peer_send_frame (sender->peer, GC_WS_OPCODE_PING, "alive", 5);
      sender->n_sent++;
      /* Pacing the pings: time is the stimulus, nothing is awaited. */
      g_usleep (200 * G_TIME_SPAN_MILLISECOND);
    }
  return NULL;
}

/* Issue 14.6: this side stalls (its main loop does not run) for longer
 * than the idle timeout while the peer keeps pinging. What the peer sent
 * meanwhile is waiting in the socket: it must be read before the peer is
 * judged silent, so the connection survives. The stall is the stimulus
 * here, not a way to wait for something. */
static void
test_stall_longer_than_idle_timeout (Fixture       *fixture,
                                     gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  StallSender sender = { &pair->peer, 0, 0 };
  GThread *thread;

  gc_ws_connection_set_keepalive (pair->connection, 0, 2);
  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "before", 6);
  gc_test_wait (pair->messages->len == 1);

  sender.until = g_get_monotonic_time () + 3500 * G_TIME_SPAN_MILLISECOND;
  thread = g_thread_new ("stall-sender", stall_sender_run, &sender);
  /* The stall itself (this loop not running): time is the stimulus. */
  g_usleep (3500 * G_TIME_SPAN_MILLISECOND);
  g_thread_join (thread);
  g_assert_cmpuint (sender.n_sent, >=, 5);

  /* Every ping is answered and nobody is dropped. */
  gc_test_wait (count_frames (&pair->peer, GC_WS_OPCODE_PONG) == sender.n_sent ||
              pair->n_closed > 0);
  g_assert_cmpuint (pair->n_errors, ==, 0);
  g_assert_cmpuint (pair->n_closed, ==, 0);
  g_assert_cmpuint (pair->pings->len, ==, sender.n_sent);
  g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_OPEN);

  /* And the timeout still catches a peer that really went silent. */
  gc_test_wait (pair->n_closed == 1);
  g_assert_error (pair->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* We close; the peer answers. */
static void
test_close_by_us (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  gboolean server = fixture->mode->role == GC_WS_ROLE_SERVER;

  gc_ws_connection_close (pair->connection, GC_WS_CLOSE_GOING_AWAY, "bye");
  g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_CLOSING);
  g_assert_cmpuint (pair->n_closing, ==, 1);

  /* Nothing more goes out after our close. */
  gc_ws_connection_send_text (pair->connection, "too late", -1);
  gc_test_wait (pair->peer.frames->len == 1);
  assert_close_frame (peer_frame (&pair->peer, 0), GC_WS_CLOSE_GOING_AWAY, "bye");

  /* Data the peer sent before seeing our close is not delivered. */
  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "in flight", 9);
  peer_send_close (&pair->peer, GC_WS_CLOSE_GOING_AWAY, "ok");
  gc_test_wait (gc_ws_connection_get_close_code (pair->connection) == GC_WS_CLOSE_GOING_AWAY);
  g_assert_cmpstr (gc_ws_connection_get_close_reason (pair->connection), ==, "ok");
  g_assert_cmpuint (pair->messages->len, ==, 0);

  if (server)
    {
      /* The server closes TCP as soon as the handshake is complete. */
      gc_test_wait (pair->n_closed == 1 && pair->peer.eof);
    }
  else
    {
      /* The client waits for the server to close TCP: a window in which
       * it must NOT close it itself. */
      gc_test_run_for_ms (200);
      g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_CLOSING);
      g_assert_false (pair->peer.eof);
      g_io_stream_close (pair->peer.stream, NULL, NULL);
      gc_test_wait (pair->n_closed == 1);
    }

  g_assert_cmpuint (pair->peer.frames->len, ==, 1);
  g_assert_cmpuint (pair->n_closing, ==, 1);
  g_assert_cmpuint (pair->n_errors, ==, 0);
  /* A window: "closed" must not come a second time. */
  gc_test_run_for_ms (50);
  g_assert_cmpuint (pair->n_closed, ==, 1);
}

/* The peer closes; we echo its code. */
static void
test_close_by_peer (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  gboolean server = fixture->mode->role == GC_WS_ROLE_SERVER;

  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "last words", 10);
  peer_send_close (&pair->peer, 4000, "see you");
  gc_test_wait (pair->peer.frames->len == 1);
  assert_close_frame (peer_frame (&pair->peer, 0), 4000, "");
  g_assert_cmpuint (pair->messages->len, ==, 1);
  g_assert_cmpuint (pair->n_closing, ==, 1);
  g_assert_cmpuint (gc_ws_connection_get_close_code (pair->connection), ==, 4000);
  g_assert_cmpstr (gc_ws_connection_get_close_reason (pair->connection), ==, "see you");

  /* Sends after the close handshake started are dropped. */
  gc_ws_connection_send_text (pair->connection, "dropped", -1);

  if (server)
    {
      gc_test_wait (pair->n_closed == 1 && pair->peer.eof);
    }
  else
    {
      /* A window: the client must NOT close TCP, the server does. */
      gc_test_run_for_ms (200);
      g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_CLOSING);
      g_assert_false (pair->peer.eof);
      g_io_stream_close (pair->peer.stream, NULL, NULL);
      gc_test_wait (pair->n_closed == 1);
    }
  g_assert_cmpuint (pair->peer.frames->len, ==, 1);
  g_assert_cmpuint (pair->n_errors, ==, 0);
}

static void
test_close_by_peer_empty (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);

  peer_send_close (&pair->peer, 0, NULL);
  gc_test_wait (pair->peer.frames->len == 1);
  g_assert_cmpint (peer_frame (&pair->peer, 0)->opcode, ==, GC_WS_OPCODE_CLOSE);
  g_assert_cmpuint (g_bytes_get_size (peer_frame (&pair->peer, 0)->payload), ==, 0);
  g_assert_cmpuint (gc_ws_connection_get_close_code (pair->connection), ==, GC_WS_CLOSE_NO_STATUS);

  g_io_stream_close (pair->peer.stream, NULL, NULL);
  gc_test_wait (pair->n_closed == 1);
  g_assert_cmpuint (gc_ws_connection_get_close_code (pair->connection), ==, GC_WS_CLOSE_NO_STATUS);
}

/* The peer never answers our close. */
static void
test_close_timeout (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  gint64 start;

  gc_ws_connection_set_close_timeout (pair->connection, 300);
  start = g_get_monotonic_time ();
  gc_ws_connection_close (pair->connection, GC_WS_CLOSE_NORMAL, NULL);
  gc_test_wait (pair->n_closed == 1);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 290 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_TIME_SPAN_SECOND);
  g_assert_cmpuint (gc_ws_connection_get_close_code (pair->connection), ==, GC_WS_CLOSE_ABNORMAL);
  gc_test_wait (pair->peer.eof);
  g_assert_cmpuint (pair->peer.frames->len, ==, 1);
  assert_close_frame (peer_frame (&pair->peer, 0), GC_WS_CLOSE_NORMAL, "");
}

static void
check_protocol_error (Fixture *fixture,
                      Pair    *pair,
                      gushort  code)
{
  gc_test_wait (pair->peer.frames->len == 1);
  assert_close_frame (peer_frame (&pair->peer, 0), code, NULL);
  g_assert_cmpuint (pair->n_errors, ==, 1);
  g_assert_error (pair->error, GC_WS_ERROR, code);
  g_assert_cmpuint (pair->messages->len, ==, 0);
  g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_CLOSING);

  if (fixture->mode->role == GC_WS_ROLE_SERVER)
    {
      /* The server sends FIN after its close, whatever the peer does. */
      gc_test_wait (pair->peer.eof);
    }
  /* Whatever the peer sends now is drained, not parsed. */
  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "ignored", 7);
  g_io_stream_close (pair->peer.stream, NULL, NULL);
  gc_test_wait (pair->n_closed == 1);
  g_assert_cmpuint (pair->n_errors, ==, 1);
  g_assert_cmpuint (pair->messages->len, ==, 0);
  g_assert_cmpuint (gc_ws_connection_get_close_code (pair->connection), ==, GC_WS_CLOSE_ABNORMAL);
}

static void
test_protocol_error_mask (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  /* Encoded in the connection's own role: masked towards a client,
   * unmasked towards a server; both are violations. */
  g_autoptr(GBytes) frame = gc_ws_frame_encode (fixture->mode->role, GC_WS_OPCODE_TEXT,
                                                TRUE, (const guint8 *) "wrong mask", 10);

  peer_send_bytes (&pair->peer, frame);
  check_protocol_error (fixture, pair, GC_WS_CLOSE_PROTOCOL_ERROR);
}

static void
test_protocol_error_utf8 (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);

  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "ok \xff\xfe", 5);
  check_protocol_error (fixture, pair, GC_WS_CLOSE_BAD_DATA);
}

static void
test_protocol_error_too_big (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  guint8 payload[200] = { 0 };

  gc_ws_connection_set_max_message_size (pair->connection, 100);
  g_assert_cmpuint (connection_max_message_size (pair->connection), ==, 100);
  peer_send_frame (&pair->peer, GC_WS_OPCODE_BINARY, payload, 100);
  gc_test_wait (pair->messages->len == 1);
  g_ptr_array_set_size (pair->messages, 0);
  peer_send_frame (&pair->peer, GC_WS_OPCODE_BINARY, payload, sizeof payload);
  check_protocol_error (fixture, pair, GC_WS_CLOSE_TOO_BIG);
}

static void
test_eof (Fixture       *fixture,
          gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);

  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "bye", 3);
  g_io_stream_close (pair->peer.stream, NULL, NULL);
  gc_test_wait (pair->n_closed == 1);
  g_assert_cmpuint (pair->messages->len, ==, 1);
  g_assert_cmpuint (gc_ws_connection_get_close_code (pair->connection), ==, GC_WS_CLOSE_ABNORMAL);
  g_assert_null (gc_ws_connection_get_close_reason (pair->connection));
  g_assert_cmpuint (pair->n_errors, ==, 0);
  g_assert_cmpuint (pair->n_closing, ==, 0);
  g_assert_cmpuint (gc_ws_poller_get_n_connections (fixture->poller), ==, 0);

  /* Closed is final. */
  gc_ws_connection_send_text (pair->connection, "nobody listens", -1);
  gc_ws_connection_close (pair->connection, GC_WS_CLOSE_NORMAL, NULL);
  gc_ws_connection_abort (pair->connection);
  /* A window: none of these may emit "closed" again. */
  gc_test_run_for_ms (20);
  g_assert_cmpuint (pair->n_closed, ==, 1);
  g_assert_cmpuint (gc_ws_connection_get_queued_bytes (pair->connection), ==, 0);
}

static void
test_abort (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);

  gc_ws_connection_send_text (pair->connection, "never flushed", -1);
  gc_ws_connection_abort (pair->connection);
  g_assert_cmpuint (pair->n_closed, ==, 1);
  g_assert_cmpuint (gc_ws_connection_get_queued_bytes (pair->connection), ==, 0);
  gc_test_wait (pair->peer.eof);
  g_assert_cmpuint (pair->peer.frames->len, ==, 0);
}

static void
shrink_buffers (GIOStream *stream,
                int        option)
{
  GSocket *socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));
  g_autoptr(GError) error = NULL;

  g_socket_set_option (socket, SOL_SOCKET, option, 4096, &error);
  g_assert_no_error (error);
}

static void
close_with_4001 (GcWsConnection *connection,
                 gpointer        user_data)
{
  gc_ws_connection_close (connection, 4001, "slow");
}

static void
overflow (Fixture  *fixture,
          gboolean  handler_closes)
{
  g_autoptr(Pair) pair = pair_new_full (fixture->mode->role, NULL, fixture->poller, FALSE);
  g_autofree guint8 *chunk = g_malloc0 (8192);
  gsize max_queued = 64 * 1024;
  gsize queued;
  guint n_sent = 0;
  guint n_binary;
  Frame *last;

  shrink_buffers (connection_stream (pair->connection), SO_SNDBUF);
  shrink_buffers (pair->peer.stream, SO_RCVBUF);
  gc_ws_connection_set_max_queued_bytes (pair->connection, max_queued);
  g_assert_cmpuint (gc_ws_connection_get_max_queued_bytes (pair->connection), ==, max_queued);
  if (handler_closes)
    g_signal_connect (pair->connection, "queue-overflow", G_CALLBACK (close_with_4001), NULL);

  /* The peer does not read: the socket fills, then the queue. */
  while (pair->n_overflows == 0)
    {
      g_assert_cmpuint (n_sent, <, 100000);
      gc_ws_connection_send_binary (pair->connection, chunk, 8192);
      n_sent++;
      spin_ready ();
    }
  g_assert_cmpuint (pair->n_overflows, ==, 1);
  g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_CLOSING);
  g_assert_cmpuint (pair->n_closing, ==, 1);

  /* Bounded: the limit, the frame that crossed it and the close frame. */
  queued = gc_ws_connection_get_queued_bytes (pair->connection);
  g_assert_cmpuint (queued, <=, max_queued + 8192 + 14 + 2 + 125 + 14);
  gc_ws_connection_send_binary (pair->connection, chunk, 8192);
  gc_ws_connection_send_text (pair->connection, "dropped", -1);
  g_assert_cmpuint (gc_ws_connection_get_queued_bytes (pair->connection), <=, queued);
  g_assert_cmpuint (pair->n_overflows, ==, 1);

  /* The peer reads it all: the data it was sent, then the close. */
  peer_start_reading (&pair->peer);
  gc_test_wait (pair->peer.frames->len > 0 &&
              peer_frame (&pair->peer, pair->peer.frames->len - 1)->opcode == GC_WS_OPCODE_CLOSE);
  last = peer_frame (&pair->peer, pair->peer.frames->len - 1);
  if (handler_closes)
    assert_close_frame (last, 4001, "slow");
  else
    assert_close_frame (last, GC_WS_CLOSE_POLICY_VIOLATION, NULL);
  n_binary = count_frames (&pair->peer, GC_WS_OPCODE_BINARY);
  g_assert_cmpuint (n_binary, ==, pair->peer.frames->len - 1);
  g_assert_cmpuint (n_binary, ==, n_sent);

  peer_send_close (&pair->peer, GC_WS_CLOSE_NORMAL, NULL);
  if (fixture->mode->role == GC_WS_ROLE_CLIENT)
    g_io_stream_close (pair->peer.stream, NULL, NULL);
  gc_test_wait (pair->n_closed == 1);
  g_assert_cmpuint (pair->n_overflows, ==, 1);
}

static void
test_queue_overflow (Fixture       *fixture,
                     gconstpointer  data)
{
  overflow (fixture, FALSE);
}

static void
test_queue_overflow_handler (Fixture       *fixture,
                             gconstpointer  data)
{
  overflow (fixture, TRUE);
}

/* Pongs count against the bound too: a peer that pings and never reads
 * cannot grow the queue. */
static void
test_ping_flood (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(Pair) pair = pair_new_full (fixture->mode->role, NULL, fixture->poller, FALSE);
  guint8 payload[GC_WS_MAX_CONTROL_PAYLOAD] = { 0 };
  g_autoptr(GBytes) ping = peer_encode (&pair->peer, GC_WS_OPCODE_PING, payload, sizeof payload);
  guint n_sent = 0;

  shrink_buffers (connection_stream (pair->connection), SO_SNDBUF);
  shrink_buffers (pair->peer.stream, SO_RCVBUF);
  gc_ws_connection_set_max_queued_bytes (pair->connection, 16 * 1024);

  while (pair->n_overflows == 0)
    {
      g_assert_cmpuint (n_sent, <, 1000000);
      for (guint i = 0; i < 50; i++)
        peer_send_bytes (&pair->peer, ping);
      n_sent += 50;
      spin_ready ();
    }
  g_assert_cmpint (gc_ws_connection_get_state (pair->connection), ==, GC_WS_STATE_CLOSING);
  g_assert_cmpuint (gc_ws_connection_get_queued_bytes (pair->connection), <=,
                    16 * 1024 + 2 * (GC_WS_MAX_CONTROL_PAYLOAD + GC_WS_MAX_HEADER_SIZE));

  /* No more pongs once closing. */
  peer_send_bytes (&pair->peer, ping);
  spin_ready ();
  g_assert_cmpuint (gc_ws_connection_get_queued_bytes (pair->connection), <=,
                    16 * 1024 + 2 * (GC_WS_MAX_CONTROL_PAYLOAD + GC_WS_MAX_HEADER_SIZE));

  peer_start_reading (&pair->peer);
  gc_test_wait (pair->peer.frames->len > 0 &&
              peer_frame (&pair->peer, pair->peer.frames->len - 1)->opcode == GC_WS_OPCODE_CLOSE);
  assert_close_frame (peer_frame (&pair->peer, pair->peer.frames->len - 1),
                      GC_WS_CLOSE_POLICY_VIOLATION, NULL);
  g_assert_cmpuint (count_frames (&pair->peer, GC_WS_OPCODE_PONG), ==, pair->peer.frames->len - 1);
  g_io_stream_close (pair->peer.stream, NULL, NULL);
  gc_test_wait (pair->n_closed == 1);
}

static void
count_free (gpointer user_data)
{
  (*(guint *) user_data)++;
}

static void
test_send_frame_shared (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(Pair) a = fixture_pair (fixture);
  g_autoptr(Pair) b = fixture_pair (fixture);
  g_autoptr(GBytes) encoded = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE,
                                                  (const guint8 *) "to everyone", 11);
  g_autofree guint8 *storage = g_memdup2 (g_bytes_get_data (encoded, NULL),
                                          g_bytes_get_size (encoded));
  GBytes *frame;
  guint n_freed = 0;

  /* One buffer whose release we can see. */
  frame = g_bytes_new_with_free_func (storage, g_bytes_get_size (encoded), count_free, &n_freed);
  gc_ws_connection_send_frame (a->connection, frame);
  gc_ws_connection_send_frame (b->connection, frame);
  g_assert_cmpuint (gc_ws_connection_get_queued_bytes (a->connection), ==, g_bytes_get_size (frame));
  g_bytes_unref (frame);
  /* Still held by both queues: neither copied it. */
  g_assert_cmpuint (n_freed, ==, 0);

  gc_test_wait (a->peer.frames->len == 1 && b->peer.frames->len == 1);
  assert_frame (peer_frame (&a->peer, 0), GC_WS_OPCODE_TEXT, "to everyone");
  assert_frame (peer_frame (&b->peer, 0), GC_WS_OPCODE_TEXT, "to everyone");
  g_assert_cmpuint (n_freed, ==, 1);
}

static void
test_coalescing (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  guint64 calls_before = gc_ws_poller_get_write_calls (fixture->poller);
  guint64 calls;

  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);

      gc_ws_connection_send_text (pair->connection, text, -1);
    }
  gc_test_wait (pair->peer.frames->len == 100);
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);

      assert_frame (peer_frame (&pair->peer, i), GC_WS_OPCODE_TEXT, text);
    }

  /* 100 frames in ceil (100 / 64) writev calls. */
  calls = gc_ws_poller_get_write_calls (fixture->poller) - calls_before;
  g_test_message ("100 frames in %" G_GUINT64_FORMAT " writes", calls);
  g_assert_cmpuint (calls, <=, 2);
}

/* Counts the fds the default main context polls, by running one
 * iteration by hand. */
static int
count_context_fds (void)
{
  GMainContext *context = g_main_context_default ();
  GPollFD fds[32];
  int priority, timeout, n_fds;

  g_assert_true (g_main_context_acquire (context));
  g_main_context_prepare (context, &priority);
  n_fds = g_main_context_query (context, priority, &timeout, fds, G_N_ELEMENTS (fds));
  g_main_context_check (context, priority, fds, MIN (n_fds, (int) G_N_ELEMENTS (fds)));
  g_main_context_dispatch (context);
  g_main_context_release (context);
  return n_fds;
}

/* The messages received by all of @pairs. */
static guint
count_messages (GPtrArray *pairs)
{
  guint n = 0;

  for (guint i = 0; i < pairs->len; i++)
    n += ((Pair *) g_ptr_array_index (pairs, i))->messages->len;
  return n;
}

static void
test_many_connections (Fixture       *fixture,
                       gconstpointer  data)
{
  const guint n_pairs = 1000;
  g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func ((GDestroyNotify) pair_free);
  g_autoptr(GBytes) broadcast = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE,
                                                    (const guint8 *) "all of you", 10);
  int fds_before, fds_after;
  guint n_received;

  fds_before = count_context_fds ();
  for (guint i = 0; i < n_pairs; i++)
    g_ptr_array_add (pairs, pair_new_full (GC_WS_ROLE_SERVER, NULL, fixture->poller, FALSE));
  g_assert_cmpuint (gc_ws_poller_get_n_connections (fixture->poller), ==, n_pairs);

  /* One source, one fd, however many connections. */
  fds_after = count_context_fds ();
  g_test_message ("main context polls %d fds with %u connections (%d before)",
                  fds_after, n_pairs, fds_before);
  g_assert_cmpint (fds_after, ==, fds_before);

  for (guint i = 0; i < n_pairs; i++)
    {
      Pair *pair = g_ptr_array_index (pairs, i);
      g_autofree char *text = g_strdup_printf ("from %u", i);

      peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, text, strlen (text));
    }
  gc_test_wait ((n_received = count_messages (pairs)) >= n_pairs);
  for (guint i = 0; i < n_pairs; i++)
    {
      Pair *pair = g_ptr_array_index (pairs, i);
      g_autofree char *text = g_strdup_printf ("from %u", i);

      assert_frame (pair_message (pair, 0), GC_WS_OPCODE_TEXT, text);
      gc_ws_connection_send_frame (pair->connection, broadcast);
    }

  /* Let the poller flush, then every peer has the broadcast waiting. */
  spin_ready ();
  for (guint i = 0; i < n_pairs; i++)
    {
      Pair *pair = g_ptr_array_index (pairs, i);
      gsize len = g_bytes_get_size (broadcast);
      g_autofree guint8 *buffer = g_malloc (len);
      g_autoptr(GError) error = NULL;

      g_assert_cmpuint (gc_ws_connection_get_queued_bytes (pair->connection), ==, 0);
      g_input_stream_read_all (g_io_stream_get_input_stream (pair->peer.stream),
                               buffer, len, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (buffer, len, g_bytes_get_data (broadcast, NULL), len);
    }
}

typedef struct {
  Fixture  *fixture;
  Pair     *a;
  Pair     *b;
  Pair     *c;
  gpointer  victim;      /* weak */
  guint     n_kills;
} KillContext;

/* The first of two connections to get a message kills the other, whose
 * event may still be waiting in the same epoll batch, and opens a new
 * connection, which may get the victim's fd number. */
static void
kill_other (GcWsConnection *connection,
            GcWsOpcode      opcode,
            GBytes         *payload,
            KillContext    *kill)
{
  Pair *other = connection == kill->a->connection ? kill->b : kill->a;

  if (kill->n_kills++ > 0)
    return;

  kill->victim = other->connection;
  g_object_add_weak_pointer (kill->victim, &kill->victim);
  gc_ws_connection_abort (other->connection);
  g_clear_object (&other->connection);
  g_assert_null (kill->victim);

  kill->c = fixture_pair (kill->fixture);
}

static void
test_close_other_in_handler (Fixture       *fixture,
                             gconstpointer  data)
{
  KillContext kill = { fixture, };
  g_autoptr(Pair) a = fixture_pair (fixture);
  g_autoptr(Pair) b = fixture_pair (fixture);
  g_autoptr(Pair) c = NULL;

  kill.a = a;
  kill.b = b;
  g_signal_connect (a->connection, "message", G_CALLBACK (kill_other), &kill);
  g_signal_connect (b->connection, "message", G_CALLBACK (kill_other), &kill);

  /* Both readable before the loop runs: one batch. */
  peer_send_frame (&a->peer, GC_WS_OPCODE_TEXT, "a1", 2);
  peer_send_frame (&a->peer, GC_WS_OPCODE_TEXT, "a2", 2);
  peer_send_frame (&b->peer, GC_WS_OPCODE_TEXT, "b1", 2);
  peer_send_frame (&b->peer, GC_WS_OPCODE_TEXT, "b2", 2);
  gc_test_wait (kill.n_kills > 0);
  c = g_steal_pointer (&kill.c);
  gc_test_wait ((a->peer.eof || b->peer.eof) && a->messages->len + b->messages->len == 2);
  g_assert_cmpuint (a->messages->len == 0 ? b->messages->len : a->messages->len, ==, 2);

  peer_send_frame (&c->peer, GC_WS_OPCODE_TEXT, "c", 1);
  gc_test_wait (c->messages->len == 1);
  gc_ws_connection_send_text (c->connection, "back", -1);
  gc_test_wait (c->peer.frames->len == 1);
  g_assert_cmpuint (gc_ws_poller_get_n_connections (fixture->poller), ==, 2);
}

static void
unref_in_closed (GcWsConnection *connection,
                 Pair           *pair)
{
  g_assert_true (pair->connection == connection);
  g_clear_object (&pair->connection);
}

static void
unref_in_message (GcWsConnection *connection,
                  GcWsOpcode      opcode,
                  GBytes         *payload,
                  Pair           *pair)
{
  gc_ws_connection_abort (connection);
  g_clear_object (&pair->connection);
}

static void
test_unref_in_handler (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  g_autoptr(GByteArray) batch = g_byte_array_new ();
  gpointer weak = pair->connection;

  /* Last reference dropped in "closed". */
  g_object_add_weak_pointer (weak, &weak);
  g_signal_connect (pair->connection, "closed", G_CALLBACK (unref_in_closed), pair);
  g_io_stream_close (pair->peer.stream, NULL, NULL);
  gc_test_wait (weak == NULL);
  g_assert_cmpuint (pair->n_closed, ==, 1);
  g_clear_pointer (&pair, pair_free);

  /* Last reference dropped in "message", with more frames in the same
   * read still to parse. */
  pair = fixture_pair (fixture);
  weak = pair->connection;
  g_object_add_weak_pointer (weak, &weak);
  g_signal_connect_after (pair->connection, "message", G_CALLBACK (unref_in_message), pair);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GBytes) frame = peer_encode (&pair->peer, GC_WS_OPCODE_TEXT, "x", 1);

      g_byte_array_append (batch, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
    }
  peer_send_raw (&pair->peer, batch->data, batch->len);
  gc_test_wait (weak == NULL);
  g_assert_cmpuint (pair->messages->len, ==, 1);
  g_assert_cmpuint (pair->n_closed, ==, 1);
  gc_test_wait (pair->peer.eof);
}

static void
test_finalize_without_close (Fixture       *fixture,
                             gconstpointer  data)
{
  guint n_fds = count_open_fds ();
  g_autoptr(Pair) pair = fixture_pair (fixture);

  gc_ws_connection_send_text (pair->connection, "queued, never sent", -1);
  gc_ws_connection_set_keepalive (pair->connection, 1, 2);
  g_assert_cmpuint (count_open_fds (), ==, n_fds + 2);
  g_clear_object (&pair->connection);
  g_assert_cmpuint (gc_ws_poller_get_n_connections (fixture->poller), ==, 0);
  g_assert_cmpuint (count_open_fds (), ==, n_fds + 1);
  gc_test_wait (pair->peer.eof);
  g_assert_cmpuint (pair->n_closed, ==, 0);
}

/* A stream with no socket underneath: the poller watches it through a
 * pollable source of its own, on any platform. */
static void
test_stream_without_socket (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GSocketConnection) ours = NULL;
  g_autoptr(GSocketConnection) theirs = NULL;
  g_autoptr(GIOStream) wrapper = NULL;
  g_autoptr(Pair) pair = NULL;

  tcp_pair (&ours, &theirs);
  wrapper = g_simple_io_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (ours)),
                                    g_io_stream_get_output_stream (G_IO_STREAM (ours)));
  /* The socket closes when the wrapper goes. */
  g_object_set_data_full (G_OBJECT (wrapper), "socket-connection",
                          g_steal_pointer (&ours), g_object_unref);
  pair = pair_new_from_streams (wrapper, G_IO_STREAM (theirs), fixture->mode->role,
                                NULL, fixture->poller);
  peer_start_reading (&pair->peer);
  g_assert_null (gc_ws_connection_get_remote_address (pair->connection));

  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "hi", 2);
  gc_test_wait (pair->messages->len == 1);
  gc_ws_connection_send_text (pair->connection, "hello", -1);
  gc_test_wait (pair->peer.frames->len == 1);
  assert_frame (peer_frame (&pair->peer, 0), GC_WS_OPCODE_TEXT, "hello");

  peer_send_close (&pair->peer, GC_WS_CLOSE_NORMAL, NULL);
  gc_test_wait (pair->peer.frames->len == 2);
  if (fixture->mode->role == GC_WS_ROLE_CLIENT)
    g_io_stream_close (pair->peer.stream, NULL, NULL);
  gc_test_wait (pair->n_closed == 1);
  g_clear_object (&pair->connection);
  g_clear_object (&wrapper);
  gc_test_wait (pair->peer.eof);
}

static void
test_remote_address (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(Pair) pair = fixture_pair (fixture);
  GSocketAddress *address = gc_ws_connection_get_remote_address (pair->connection);
  g_autoptr(GSocketAddress) expected = NULL;
  GSocket *peer_socket;

  g_assert_true (G_IS_INET_SOCKET_ADDRESS (address));
  peer_socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (pair->peer.stream));
  expected = g_socket_get_local_address (peer_socket, NULL);
  g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)), ==,
                    g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (expected)));
  /* Same object each time (transfer none). */
  g_assert_true (address == gc_ws_connection_get_remote_address (pair->connection));
}

/* TLS: the connection reads through GTlsConnection, which may hold
 * decrypted bytes that epoll cannot see. */

static gboolean
accept_any_certificate (GTlsConnection       *connection,
                        GTlsCertificate      *certificate,
                        GTlsCertificateFlags  errors,
                        gpointer              user_data)
{
  return TRUE;
}

static void
handshake_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error);
  g_assert_no_error (error);
  (*(guint *) user_data)++;
}

/* A TLS connection over loopback, handshaken, our end wrapped in a server
 * connection; %NULL without a TLS backend. */
static Pair *
tls_pair_new (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GSocketConnection) ours = NULL;
  g_autoptr(GSocketConnection) theirs = NULL;
  g_autoptr(GIOStream) tls_ours = NULL;
  g_autoptr(GIOStream) tls_theirs = NULL;
  Pair *pair;
  guint n_handshakes = 0;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    return NULL;

  certificate = g_tls_certificate_new_from_pem (test_cert_pem, -1, &error);
  g_assert_no_error (error);
  tcp_pair (&ours, &theirs);
  tls_ours = g_tls_server_connection_new (G_IO_STREAM (ours), certificate, &error);
  g_assert_no_error (error);
  tls_theirs = g_tls_client_connection_new (G_IO_STREAM (theirs), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (tls_theirs, "accept-certificate", G_CALLBACK (accept_any_certificate), NULL);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls_ours), G_PRIORITY_DEFAULT, NULL,
                                    handshake_done, &n_handshakes);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls_theirs), G_PRIORITY_DEFAULT, NULL,
                                    handshake_done, &n_handshakes);
  gc_test_wait (n_handshakes == 2);

  pair = pair_new_from_streams (tls_ours, tls_theirs, GC_WS_ROLE_SERVER, NULL, fixture->poller);
  peer_start_reading (&pair->peer);
  /* The socket was found under the TLS layer. */
  g_assert_nonnull (gc_ws_connection_get_remote_address (pair->connection));
  return pair;
}

static void
test_tls (Fixture       *fixture,
          gconstpointer  data)
{
  g_autoptr(Pair) pair = tls_pair_new (fixture);
  g_autoptr(GByteArray) batch = g_byte_array_new ();
  gsize big_len = 5 * GC_WS_POLLER_READ_BUDGET / 2;
  g_autofree guint8 *big = g_malloc (big_len);

  if (pair == NULL)
    {
      g_test_skip ("no TLS backend (glib-networking)");
      return;
    }

  /* Several frames per TLS record, and a message of several read budgets
   * spread over many records. */
  for (gsize i = 0; i < big_len; i++)
    big[i] = i % 251;
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *text = g_strdup_printf ("small %u", i);
      g_autoptr(GBytes) frame = peer_encode (&pair->peer, GC_WS_OPCODE_TEXT, text, strlen (text));

      g_byte_array_append (batch, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
    }
  peer_send_raw (&pair->peer, batch->data, batch->len);
  peer_send_frame (&pair->peer, GC_WS_OPCODE_BINARY, big, big_len);
  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "after", 5);
  gc_test_wait (pair->messages->len == 22);
  assert_frame (pair_message (pair, 19), GC_WS_OPCODE_TEXT, "small 19");
  g_assert_cmpmem (g_bytes_get_data (pair_message (pair, 20)->payload, NULL),
                   g_bytes_get_size (pair_message (pair, 20)->payload), big, big_len);
  assert_frame (pair_message (pair, 21), GC_WS_OPCODE_TEXT, "after");

  gc_ws_connection_send_binary (pair->connection, big, big_len);
  gc_test_wait (pair->peer.frames->len == 1);
  g_assert_cmpmem (g_bytes_get_data (peer_frame (&pair->peer, 0)->payload, NULL),
                   g_bytes_get_size (peer_frame (&pair->peer, 0)->payload), big, big_len);

  /* Orderly close: our echo, then close_notify (a clean EOF, no error). */
  peer_send_close (&pair->peer, GC_WS_CLOSE_NORMAL, NULL);
  gc_test_wait (pair->n_closed == 1 && pair->peer.eof);
  g_assert_false (pair->peer.reset);
  assert_close_frame (peer_frame (&pair->peer, 1), GC_WS_CLOSE_NORMAL, NULL);
  g_assert_true (g_io_stream_is_closed (connection_stream (pair->connection)));
  g_assert_cmpuint (pair->n_errors, ==, 0);
}

/* A TLS peer that drops TCP without close_notify ends the connection like
 * any EOF: 1006, and no "error". */
static void
test_tls_eof (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(Pair) pair = tls_pair_new (fixture);
  g_autoptr(GIOStream) base = NULL;

  if (pair == NULL)
    {
      g_test_skip ("no TLS backend (glib-networking)");
      return;
    }

  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "bye", 3);
  gc_test_wait (pair->messages->len == 1);
  g_object_get (pair->peer.stream, "base-io-stream", &base, NULL);
  g_socket_close (g_socket_connection_get_socket (G_SOCKET_CONNECTION (base)), NULL);
  gc_test_wait (pair->n_closed == 1);
  g_assert_cmpuint (gc_ws_connection_get_close_code (pair->connection), ==, GC_WS_CLOSE_ABNORMAL);
  g_assert_cmpuint (pair->n_errors, ==, 0);
}

/* libsoup's stolen stream keeps bytes that arrived with the upgrade
 * request in its own buffer, where epoll cannot see them. */

typedef struct {
  GcWsPoller     *poller;
  GcWsConnection *connection;
} SoupContext;

static void
wrote_informational (SoupServerMessage *msg,
                     SoupContext       *context)
{
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);

  context->connection = gc_ws_connection_new (stream, GC_WS_ROLE_SERVER, NULL, NULL,
                                              context->poller);
}

static void
ws_handler (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  g_assert_true (soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL));
  g_signal_connect (msg, "wrote-informational", G_CALLBACK (wrote_informational), user_data);
}

static void
test_soup_stolen_stream (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) theirs = NULL;
  g_autoptr(GByteArray) request = g_byte_array_new ();
  g_autoptr(GBytes) early = NULL;
  g_autoptr(Pair) pair = NULL;
  g_autoptr(GString) response = g_string_new (NULL);
  g_autofree char *head = NULL;
  SoupContext context = { fixture->poller, NULL };
  GSList *uris;
  guint port;

  soup_server_add_handler (server, "/ws", ws_handler, &context, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_socket_client_set_enable_proxy (client, FALSE);
  theirs = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);

  /* The upgrade request and a first frame in one write. */
  head = g_strdup_printf ("GET /ws HTTP/1.1\r\n"
                          "Host: 127.0.0.1:%u\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "\r\n", port);
  early = gc_ws_frame_encode (GC_WS_ROLE_CLIENT, GC_WS_OPCODE_TEXT, TRUE, (const guint8 *) "early bird", 10);
  g_byte_array_append (request, (const guint8 *) head, strlen (head));
  g_byte_array_append (request, g_bytes_get_data (early, NULL), g_bytes_get_size (early));
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (theirs)),
                             request->data, request->len, NULL, NULL, &error);
  g_assert_no_error (error);

  gc_test_wait (context.connection != NULL);

  /* Read the 101 byte by byte so that no frame byte is taken with it. */
  while (!g_str_has_suffix (response->str, "\r\n\r\n"))
    {
      char c;

      g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (theirs)),
                               &c, 1, NULL, NULL, &error);
      g_assert_no_error (error);
      g_string_append_c (response, c);
    }
  g_assert_true (g_str_has_prefix (response->str, "HTTP/1.1 101"));

  pair = g_new0 (Pair, 1);
  pair->messages = g_ptr_array_new_with_free_func (frame_free);
  pair->pings = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  pair->connection = g_steal_pointer (&context.connection);
  pair_connect_signals (pair);
  peer_init (&pair->peer, G_IO_STREAM (g_steal_pointer (&theirs)), GC_WS_ROLE_CLIENT);
  peer_start_reading (&pair->peer);
  /* The socket was found under libsoup's wrapper. */
  g_assert_nonnull (gc_ws_connection_get_remote_address (pair->connection));

  gc_test_wait (pair->messages->len == 1);
  assert_frame (pair_message (pair, 0), GC_WS_OPCODE_TEXT, "early bird");

  peer_send_frame (&pair->peer, GC_WS_OPCODE_TEXT, "later", 5);
  gc_ws_connection_send_text (pair->connection, "welcome", -1);
  gc_test_wait (pair->messages->len == 2 && pair->peer.frames->len == 1);
  assert_frame (pair_message (pair, 1), GC_WS_OPCODE_TEXT, "later");
  assert_frame (peer_frame (&pair->peer, 0), GC_WS_OPCODE_TEXT, "welcome");

  gc_ws_connection_close (pair->connection, GC_WS_CLOSE_NORMAL, NULL);
  gc_test_wait (pair->peer.frames->len == 2);
  peer_send_close (&pair->peer, GC_WS_CLOSE_NORMAL, NULL);
  gc_test_wait (pair->n_closed == 1 && pair->peer.eof);
  g_assert_cmpuint (pair->n_errors, ==, 0);
}

static void
test_default_poller (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  GcWsPoller *global = gc_ws_poller_get_default ();
  GcWsPoller *poller;
  gpointer weak;

  g_assert_true (gc_ws_poller_get_default () == global);
  g_assert_true (gc_ws_poller_get_context (global) == g_main_context_default ());

  /* One per thread-default context, gone with its context. */
  g_main_context_push_thread_default (context);
  poller = gc_ws_poller_get_default ();
  g_assert_true (poller != global);
  g_assert_true (gc_ws_poller_get_default () == poller);
  g_assert_true (gc_ws_poller_get_context (poller) == context);
  g_main_context_pop_thread_default (context);

  weak = poller;
  g_object_add_weak_pointer (weak, &weak);
  g_clear_pointer (&context, g_main_context_unref);
  g_assert_null (weak);
}

int
main (int   argc,
      char *argv[])
{
  static const struct {
    const char *name;
    void (*func) (Fixture *, gconstpointer);
    gboolean epoll_only;
    gboolean server_only;
  } tests[] = {
    { "messages", test_messages },
    { "text-with-nul", test_text_with_nul },
    { "large-message", test_large_message },
    { "split-writes", test_split_writes },
    { "many-frames-one-write", test_many_frames_one_write },
    { "initial-data", test_initial_data },
    { "auto-pong", test_auto_pong },
    { "keepalive", test_keepalive },
    { "stall-longer-than-idle-timeout", test_stall_longer_than_idle_timeout },
    { "close-by-us", test_close_by_us },
    { "close-by-peer", test_close_by_peer },
    { "close-by-peer-empty", test_close_by_peer_empty },
    { "close-timeout", test_close_timeout },
    { "protocol-error-mask", test_protocol_error_mask },
    { "protocol-error-utf8", test_protocol_error_utf8 },
    { "protocol-error-too-big", test_protocol_error_too_big },
    { "eof", test_eof },
    { "abort", test_abort },
    { "queue-overflow", test_queue_overflow },
    { "queue-overflow-handler", test_queue_overflow_handler },
    { "ping-flood", test_ping_flood },
    { "send-frame-shared", test_send_frame_shared, FALSE, TRUE },
    { "coalescing", test_coalescing },
    { "many-connections", test_many_connections, TRUE, TRUE },
    { "close-other-in-handler", test_close_other_in_handler },
    { "unref-in-handler", test_unref_in_handler },
    { "finalize-without-close", test_finalize_without_close },
    { "stream-without-socket", test_stream_without_socket },
    { "remote-address", test_remote_address },
    { "tls", test_tls, FALSE, TRUE },
    { "tls-eof", test_tls_eof, FALSE, TRUE },
    { "soup-stolen-stream", test_soup_stolen_stream, FALSE, TRUE },
  };
  static const struct {
    const char *name;
    const TestMode *mode;
  } modes[] = {
    { "epoll/server", &epoll_server },
    { "epoll/client", &epoll_client },
    { "portable/server", &portable_server },
    { "portable/client", &portable_client },
  };
  int status;

  g_test_init (&argc, &argv, NULL);

  /* These hold fds for the whole run; made now so that the per-test fd
   * counts do not see them appear. (GTask's class init starts GLib's
   * worker context.) */
  g_main_context_wakeup (g_main_context_default ());
  g_type_ensure (G_TYPE_TASK);
  listener = listener_new ();

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      for (guint t = 0; t < G_N_ELEMENTS (tests); t++)
        {
          g_autofree char *path = NULL;

          if (tests[t].epoll_only && modes[m].mode->portable)
            continue;
          if (tests[t].server_only && modes[m].mode->role != GC_WS_ROLE_SERVER)
            continue;
          path = g_strdup_printf ("/ws-connection/%s/%s", modes[m].name, tests[t].name);
          g_test_add (path, Fixture, modes[m].mode, fixture_setup, tests[t].func, fixture_teardown);
        }
    }
  g_test_add_func ("/ws-connection/default-poller", test_default_poller);

  status = g_test_run ();
  g_clear_object (&listener);
  g_assert_true (gc_test_stop_idle_pool_threads (10000));
  return status;
}
