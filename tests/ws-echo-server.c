/* ws-echo-server.c: a WebSocket echo server for interop and conformance checks
 *
 * Upgrades any path on 127.0.0.1, echoes every message with its opcode and
 * prints "listening on PORT" once it accepts connections. Runs until
 * SIGINT or SIGTERM, then exits 0.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>

#include "gc-ws-handshake.h"
#include "gc-test-threads.h"

typedef struct {
  SoupServer *server;
  GMainLoop  *loop;
  GHashTable *connections;   /* GcWsConnection, owned */
  guint64     max_message;
} EchoServer;

static void
on_message (GcWsConnection *connection,
            guint           opcode,
            GBytes         *payload,
            gpointer        user_data)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);

  if (opcode == GC_WS_OPCODE_TEXT)
    gc_ws_connection_send_text (connection, (const char *) data, len);
  else
    gc_ws_connection_send_binary (connection, data, len);
}

static void
on_closed (GcWsConnection *connection,
           gpointer        user_data)
{
  EchoServer *echo = user_data;

  g_signal_handlers_disconnect_by_data (connection, echo);
  g_hash_table_remove (echo->connections, connection);
}

static void
on_accepted (GcWsConnection *connection,
             gpointer        user_data)
{
  EchoServer *echo = user_data;

  gc_ws_connection_set_max_message_size (connection, echo->max_message);
  /* Room for a few echoes of the largest message in flight. */
  gc_ws_connection_set_max_queued_bytes (connection,
                                         MAX (16 * 1024 * 1024, 4 * echo->max_message));
  g_signal_connect (connection, "message", G_CALLBACK (on_message), echo);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), echo);
  g_hash_table_add (echo->connections, connection);
}

static void
handle_request (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  static const char * const protocols[] = { "gochat.v1", NULL };
  EchoServer *echo = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(GError) error = NULL;
  gboolean offered;

  /* Select gochat.v1 when offered; otherwise serve without a subprotocol
   * rather than refuse whatever the client asked for. */
  offered = soup_message_headers_header_contains (headers, "Sec-WebSocket-Protocol", "gochat.v1");

  if (!gc_ws_server_accept (msg, NULL, offered ? protocols : NULL, NULL,
                            on_accepted, echo, NULL, &error))
    g_printerr ("ws-echo-server: refused %s: %s\n", path, error->message);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  EchoServer *echo = user_data;

  g_main_loop_quit (echo->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  GSList *uris;
  EchoServer echo = { 0 };
  gint64 max_message = 65536;
  int port = 0;
  guint sigint_id, sigterm_id;
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1 (0: any free port)", "N" },
    { "max-message", 'm', 0, G_OPTION_ARG_INT64, &max_message,
      "Largest message accepted (default 65536; larger ones close with 1009)", "BYTES" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "PEM certificate: serve wss://", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "PEM private key for --tls-cert", "FILE" },
    { NULL }
  };

  context = g_option_context_new ("- WebSocket echo server");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("ws-echo-server: %s\n", error->message);
      return 2;
    }
  if (port < 0 || port > 65535 || max_message <= 0 || (tls_cert == NULL) != (tls_key == NULL))
    {
      g_printerr ("ws-echo-server: need 0 <= --port <= 65535, --max-message > 0, "
                  "and --tls-cert with --tls-key\n");
      return 2;
    }

  if (tls_cert != NULL)
    {
      certificate = g_tls_certificate_new_from_files (tls_cert, tls_key, &error);
      if (certificate == NULL)
        {
          g_printerr ("ws-echo-server: %s\n", error->message);
          return 2;
        }
    }

  echo.max_message = max_message;
  echo.connections = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  echo.loop = g_main_loop_new (NULL, FALSE);
  echo.server = soup_server_new ("server-header", "gochat-ws-echo/" PACKAGE_VERSION,
                                 "tls-certificate", certificate,
                                 NULL);
  soup_server_add_handler (echo.server, NULL, handle_request, &echo, NULL);

  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, port);
  if (!soup_server_listen (echo.server, address,
                           certificate != NULL ? SOUP_SERVER_LISTEN_HTTPS : 0, &error))
    {
      g_printerr ("ws-echo-server: cannot listen on 127.0.0.1:%d: %s\n", port, error->message);
      g_clear_object (&echo.server);
      g_clear_pointer (&echo.connections, g_hash_table_unref);
      g_clear_pointer (&echo.loop, g_main_loop_unref);
      return 2;
    }

  uris = soup_server_get_uris (echo.server);
  g_print ("listening on %d\n", g_uri_get_port (uris->data));
  fflush (stdout);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, &echo);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, &echo);

  g_main_loop_run (echo.loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  soup_server_disconnect (echo.server);
  g_clear_object (&echo.server);
  /* Dropping a connection that is still open aborts it (no signals). */
  g_clear_pointer (&echo.connections, g_hash_table_unref);
  g_clear_pointer (&echo.loop, g_main_loop_unref);
  /* Lets sanitizer builds exit cleanly after TLS. */
  gc_test_stop_idle_pool_threads (2000);

  return EXIT_SUCCESS;
}
