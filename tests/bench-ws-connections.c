/* bench-ws-connections.c: memory per idle GcWsConnection, and wake-up cost with many open
 *
 * Opens N loopback TCP connections, wraps one end of each in a
 * GcWsConnection on one poller, exchanges a message on each so that they
 * reach their idle steady state, then reports the heap and RSS per
 * connection, the round-trip time on one connection while the others sit
 * idle (against the same with no others), and the cost of a broadcast.
 *
 *   bench-ws-connections [-n N] [--portable]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <malloc.h>
#include <string.h>
#include <sys/resource.h>

#include <gio/gio.h>

#include "gc-ws-connection.h"
#include "gc-ws-poller-private.h"

typedef struct {
  GSocket        *peer;        /* the raw client end */
  GSocket        *socket;      /* our end, until wrapped */
  GcWsConnection *connection;
  guint           n_messages;
} Slot;

static GSocket *listener;
static GcWsPoller *poller;

static gsize
heap_in_use (void)
{
  struct mallinfo2 info = mallinfo2 ();

  return info.uordblks + info.hblkhd;
}

static gsize
rss_bytes (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");
  return line != NULL ? g_ascii_strtoull (line + 6, NULL, 10) * 1024 : 0;
}

static void
open_pair (Slot *slot)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = g_socket_get_local_address (listener, &error);

  g_assert_no_error (error);
  slot->peer = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                             G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_connect (slot->peer, address, NULL, &error);
  g_assert_no_error (error);
  slot->socket = g_socket_accept (listener, NULL, &error);
  g_assert_no_error (error);
}

static void
on_message (GcWsConnection *connection,
            GcWsOpcode      opcode,
            GBytes         *payload,
            Slot           *slot)
{
  gsize len;
  const char *text = g_bytes_get_data (payload, &len);

  slot->n_messages++;
  /* Echo, so that round trips can be timed. */
  gc_ws_connection_send_text (connection, text, len);
}

static void
wrap (Slot *slot)
{
  g_autoptr(GSocketConnection) stream = g_socket_connection_factory_create_connection (slot->socket);

  g_clear_object (&slot->socket);
  slot->connection = gc_ws_connection_new (G_IO_STREAM (stream), GC_WS_ROLE_SERVER,
                                           NULL, NULL, poller);
  g_signal_connect (slot->connection, "message", G_CALLBACK (on_message), slot);
}

static void
slot_clear (Slot *slot)
{
  g_clear_object (&slot->connection);
  g_clear_object (&slot->socket);
  if (slot->peer != NULL)
    g_socket_close (slot->peer, NULL);
  g_clear_object (&slot->peer);
}

static void
peer_send (Slot   *slot,
           GBytes *frame)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (frame, &len);

  while (len > 0)
    {
      gssize n = g_socket_send (slot->peer, data, len, NULL, &error);

      g_assert_no_error (error);
      data += n;
      len -= n;
    }
}

static void
peer_receive (Slot  *slot,
              gsize  len)
{
  g_autoptr(GError) error = NULL;
  char buffer[256];

  g_assert_cmpuint (len, <=, sizeof buffer);
  while (len > 0)
    {
      gssize n = g_socket_receive (slot->peer, buffer, len, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      len -= n;
    }
}

/* Microseconds per round trip: the peer sends a message, the connection
 * echoes it from its "message" handler, the peer reads the echo. */
static double
time_round_trips (Slot  *slot,
                  guint  n_round_trips)
{
  g_autoptr(GBytes) request = gc_ws_frame_encode (GC_WS_ROLE_CLIENT, GC_WS_OPCODE_TEXT,
                                                  TRUE, (const guint8 *) "ping", 4);
  gsize reply_len = 2 + 4;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n_round_trips; i++)
    {
      guint n_before = slot->n_messages;

      peer_send (slot, request);
      while (slot->n_messages == n_before ||
             gc_ws_connection_get_queued_bytes (slot->connection) > 0)
        g_main_context_iteration (NULL, TRUE);
      peer_receive (slot, reply_len);
    }

  return (double) (g_get_monotonic_time () - start) / n_round_trips;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) options = g_option_context_new (NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GBytes) hello = gc_ws_frame_encode (GC_WS_ROLE_CLIENT, GC_WS_OPCODE_TEXT, TRUE,
                                                (const guint8 *) "hello", 5);
  g_autoptr(GBytes) broadcast = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE,
                                                    (const guint8 *) "to all", 6);
  int n = 10000;
  gboolean portable = FALSE;
  GOptionEntry entries[] = {
    { "connections", 'n', 0, G_OPTION_ARG_INT, &n, "Connections to open", "N" },
    { "portable", 0, 0, G_OPTION_ARG_NONE, &portable, "Poll each connection (no epoll)", NULL },
    { NULL }
  };
  struct rlimit limit;
  GTypeQuery query;
  Slot probe = { NULL, };
  Slot *slots;
  gsize heap0, heap1, heap2, rss0, rss1, rss2;
  double alone, among;
  gint64 start;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    g_error ("%s", error->message);

  /* Two fds per connection, both ends in this process. */
  getrlimit (RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit (RLIMIT_NOFILE, &limit);
  if ((rlim_t) n * 2 + 64 > limit.rlim_cur)
    {
      n = (limit.rlim_cur - 64) / 2;
      g_print ("fd limit %lu: opening %d connections\n", (gulong) limit.rlim_cur, n);
    }

  listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (listener, any_port, TRUE, &error);
  g_assert_no_error (error);
  g_socket_set_listen_backlog (listener, 1024);
  g_socket_listen (listener, &error);
  g_assert_no_error (error);
  poller = portable ? gc_ws_poller_new_portable (NULL) : gc_ws_poller_new (NULL);

  g_type_query (GC_TYPE_WS_CONNECTION, &query);
  g_print ("sizeof (GcWsConnection) = %u bytes\n", query.instance_size);

  /* One connection alone, which also warms up types and allocator. */
  open_pair (&probe);
  wrap (&probe);
  alone = time_round_trips (&probe, 2000);

  slots = g_new0 (Slot, n);
  malloc_trim (0);
  heap0 = heap_in_use ();
  rss0 = rss_bytes ();

  for (int i = 0; i < n; i++)
    open_pair (&slots[i]);
  heap1 = heap_in_use ();
  rss1 = rss_bytes ();

  for (int i = 0; i < n; i++)
    wrap (&slots[i]);
  /* A message each way, so that every connection has parsed and written. */
  for (int i = 0; i < n; i++)
    peer_send (&slots[i], hello);
  for (int i = 0; i < n; i++)
    {
      while (slots[i].n_messages == 0)
        g_main_context_iteration (NULL, TRUE);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (int i = 0; i < n; i++)
    peer_receive (&slots[i], 2 + 5);
  heap2 = heap_in_use ();
  rss2 = rss_bytes ();

  g_print ("%d connections (%s)\n", n, gc_ws_poller_uses_epoll (poller) ? "epoll" : "portable");
  g_print ("  GSocket, each end:                heap %6.0f B   RSS %6.0f B\n",
           (double) (heap1 - heap0) / (2.0 * n), (double) (rss1 - rss0) / (2.0 * n));
  g_print ("  GSocketConnection + GcWsConnection, idle: heap %6.0f B   RSS %6.0f B\n",
           (double) (heap2 - heap1) / n, (double) (rss2 - rss1) / n);
  g_print ("  server side total per connection: heap %6.0f B   RSS %6.0f B\n",
           (double) (heap2 - heap1) / n + (double) (heap1 - heap0) / (2.0 * n),
           (double) (rss2 - rss1) / n + (double) (rss1 - rss0) / (2.0 * n));

  among = time_round_trips (&probe, 2000);
  g_print ("round trip on one connection: %.1f us alone, %.1f us among %d idle\n",
           alone, among, n);

  start = g_get_monotonic_time ();
  for (int i = 0; i < n; i++)
    gc_ws_connection_send_frame (slots[i].connection, broadcast);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_print ("broadcast of one shared frame to %d: %.2f ms (queue + writev)\n",
           n, (g_get_monotonic_time () - start) / 1000.0);
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpuint (gc_ws_connection_get_queued_bytes (slots[i].connection), ==, 0);
      peer_receive (&slots[i], g_bytes_get_size (broadcast));
    }

  for (int i = 0; i < n; i++)
    slot_clear (&slots[i]);
  g_free (slots);
  slot_clear (&probe);
  g_clear_object (&poller);
  g_clear_object (&listener);
  return 0;
}
