/* test-server-join-cost.c: what a join costs the server, in the ways a
 * test can see without timing it (issue 11: joins ≥ 3× cheaper)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#ifdef __linux__
#include <netinet/in.h>
#include <linux/tcp.h>
#include <sys/socket.h>
#endif

#include "gc-server-private.h"
#include "gc-test-client.h"
#include "gc-test-http.h"
#include "gc-test-server.h"
#include "gc-test-tls.h"
#include "gc-test-wait.h"

/* Whether @data holds a whole HTTP head and, after it, a whole unmasked
 * WebSocket frame (the welcome). */
static gboolean
has_head_and_frame (const guint8 *data,
                    gsize         len,
                    gsize        *out_payload_at)
{
  const guint8 *end = gc_test_find_header_end (data, len);
  gsize at;
  gsize payload;

  if (end == NULL)
    return FALSE;
  at = end - data + 4;
  if (len < at + 2)
    return FALSE;
  payload = data[at + 1] & 0x7f;
  at += 2;
  if (payload == 126)
    {
      if (len < at + 2)
        return FALSE;
      payload = (gsize) data[at] << 8 | data[at + 1];
      at += 2;
    }
  else if (payload == 127)
    return FALSE;   /* no welcome is that long here */

  *out_payload_at = at;
  return len >= at + payload;
}

static GSocket *bottom_socket (GIOStream *stream);

/* The 101 and the welcome leave the server in one TCP segment (written
 * together, or the 101 corked until the welcome is written): on loopback
 * each segment costs the sender the receiver's TCP work too. And no cork
 * stays on: a connection left corked would hold what follows for 200 ms. */

static void
test_join_one_segment (GcTestServer  *ts,
                       gconstpointer  data)
{
#ifdef __linux__
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GcTestClient) ann = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GError) error = NULL;
  g_autofree char *request = gc_test_upgrade_request ("/joinRoom?room_code=lobby&user_name=bob",
                                                      NULL, NULL);
  g_autoptr(GByteArray) received = g_byte_array_new ();
  GcTestEvent *join_event = NULL;
  GSocket *socket;
  struct tcp_info info = { 0 };
  socklen_t info_len = sizeof info;
  gsize payload_at = 0;
  gint64 sent_us;
  gint64 took_us;

  connection = g_socket_client_connect_to_host (socket_client, "127.0.0.1", ts->port, NULL,
                                                &error);
  g_assert_no_error (error);
  socket = g_socket_connection_get_socket (connection);
  g_socket_set_blocking (socket, FALSE);

  sent_us = g_get_monotonic_time ();
  g_assert_cmpint (g_socket_send (socket, request, strlen (request), NULL, &error), ==,
                   (gssize) strlen (request));
  g_assert_no_error (error);

  while (!has_head_and_frame (received->data, received->len, &payload_at))
    {
      guint8 buffer[4096];
      gssize n;

      gc_test_wait (g_socket_condition_check (socket, G_IO_IN) != 0);
      n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      g_byte_array_append (received, buffer, n);
    }
  took_us = g_get_monotonic_time () - sent_us;
  g_assert_true (g_str_has_prefix ((const char *) received->data, "HTTP/1.1 101"));
  /* In the frame's payload: its header may hold a NUL, where
   * g_strstr_len() would stop. */
  g_assert_nonnull (g_strstr_len ((const char *) received->data + payload_at,
                                  received->len - payload_at, "\"type\":\"welcome\""));

  g_assert_cmpint (getsockopt (g_socket_get_fd (socket), IPPROTO_TCP, TCP_INFO, &info,
                               &info_len), ==, 0);
  g_test_message ("101 and welcome in %u data segment(s), %" G_GINT64_FORMAT " us",
                  info.tcpi_data_segs_in, took_us);
  /* The kernel lets a cork go after 200 ms: a test process stalled that
   * long (a loaded machine, a sanitizer build) proves nothing either way. */
  if (took_us < 150 * G_TIME_SPAN_MILLISECOND)
    g_assert_cmpuint (info.tcpi_data_segs_in, ==, 1);

  /* And the cork is off again, on the server's side of bob's connection. */
  {
    GcRoom *room = gc_server_lookup_room (ts->server, "lobby");
    GcWsConnection *bob = gc_room_get_member_connection (room, "bob");
    g_autoptr(GIOStream) stream = NULL;
    int corked = -1;
    socklen_t corked_len = sizeof corked;

    g_assert_nonnull (bob);
    g_object_get (bob, "stream", &stream, NULL);
    g_assert_cmpint (getsockopt (g_socket_get_fd (bottom_socket (stream)),
                                 IPPROTO_TCP, TCP_CORK, &corked, &corked_len), ==, 0);
    g_assert_cmpint (corked, ==, 0);

    /* Nagle is off on it (inherited from the listening socket, or set). */
    {
      int nodelay = 0;
      socklen_t nodelay_len = sizeof nodelay;

      g_assert_cmpint (getsockopt (g_socket_get_fd (bottom_socket (stream)), IPPROTO_TCP,
                                   TCP_NODELAY, &nodelay, &nodelay_len), ==, 0);
      g_assert_cmpint (nodelay, !=, 0);
    }
  }

  join_event = gc_test_client_wait_event (ann, GC_EVENT_JOIN);
  g_assert_nonnull (join_event);
  gc_test_event_free (join_event);
#else
  g_test_skip ("TCP_INFO is Linux's");
#endif
}

/* The TCP socket at the bottom of @stream (libsoup's stream or a TLS
 * connection over a socket connection, or the socket connection). */
static GSocket *
bottom_socket (GIOStream *stream)
{
  g_autoptr(GIOStream) base = g_object_ref (stream);

  while (!G_IS_SOCKET_CONNECTION (base))
    {
      GIOStream *next = NULL;
      const char *property = g_object_class_find_property (G_OBJECT_GET_CLASS (base),
                                                           "base-iostream") != NULL
                             ? "base-iostream" : "base-io-stream";

      g_object_get (base, property, &next, NULL);
      g_assert_nonnull (next);
      g_set_object (&base, next);
      g_object_unref (next);
    }

  return g_socket_connection_get_socket (G_SOCKET_CONNECTION (base));
}

/* Over TLS too: the TCP socket under the TLS connection was corked for
 * the 101 and is uncorked once the welcome is written. */
static void
test_join_tls_uncorked (void)
{
#ifdef __linux__
  g_autoptr(GcTestServer) ts = gc_test_server_new (NULL);
  g_autoptr(GTlsCertificate) certificate = gc_test_tls_certificate ();
  g_autoptr(GTlsDatabase) ca = gc_test_tls_ca ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GIOStream) stream = NULL;
  GcTestJoinOptions options = { .tls_database = ca };
  GcWsConnection *connection;
  int corked = -1;
  socklen_t corked_len = sizeof corked;

  g_assert_true (gc_server_set_tls_certificate (ts->server, certificate, &error));
  g_assert_no_error (error);
  url = gc_test_join_url ("wss", "127.0.0.1", ts->port, "lobby", "bob", &options);
  bob = gc_test_client_new_for_url (url, &options);
  gc_test_client_wait_welcome (bob);

  connection = gc_room_get_member_connection (gc_server_lookup_room (ts->server, "lobby"), "bob");
  g_assert_nonnull (connection);
  g_object_get (connection, "stream", &stream, NULL);
  g_assert_cmpint (getsockopt (g_socket_get_fd (bottom_socket (stream)), IPPROTO_TCP, TCP_CORK,
                               &corked, &corked_len), ==, 0);
  g_assert_cmpint (corked, ==, 0);
#else
  g_test_skip ("TCP_CORK is Linux's");
#endif
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_server ("/server/join/one-segment", NULL, test_join_one_segment);
  g_test_add_func ("/server/join/tls-uncorked", test_join_tls_uncorked);

  return gc_test_run ();
}
