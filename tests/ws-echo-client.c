/* ws-echo-client.c: a WebSocket echo client for interop and conformance checks
 *
 * Connects to one URL, echoes every message with its opcode (pings are
 * answered by the connection) and exits once the connection is closed:
 * 0 after a clean closing handshake, 1 if the connection failed (a protocol
 * error by the server, or no closing handshake), 2 if the handshake failed.
 * One run serves one test case, as Autobahn's fuzzingserver expects.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "gc-ws-handshake.h"
#include "gc-test-threads.h"

/* The default --max-message: Autobahn's case 9 sends messages of up to
 * 16 MiB. */
#define DEFAULT_MAX_MESSAGE_SIZE (16 * 1024 * 1024)

enum {
  EXIT_CLEAN = 0,
  EXIT_CONNECTION_FAILED = 1,
  EXIT_HANDSHAKE_FAILED = 2,
};

typedef struct {
  GMainLoop      *loop;
  GcWsConnection *connection;
  guint64         max_message;
  gboolean        failed;
  int             exit_status;
} EchoClient;

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
on_error (GcWsConnection *connection,
          const GError   *error,
          gpointer        user_data)
{
  EchoClient *client = user_data;

  client->failed = TRUE;
  g_printerr ("ws-echo-client: %s\n", error->message);
}

static void
on_closed (GcWsConnection *connection,
           gpointer        user_data)
{
  EchoClient *client = user_data;
  gushort code = gc_ws_connection_get_close_code (connection);

  /* 1006: the server never sent its close frame. */
  if (client->failed || code == GC_WS_CLOSE_ABNORMAL)
    client->exit_status = EXIT_CONNECTION_FAILED;
  else
    client->exit_status = EXIT_CLEAN;

  g_print ("closed %u %s\n", code,
           gc_ws_connection_get_close_reason (connection) != NULL
             ? gc_ws_connection_get_close_reason (connection) : "");
  fflush (stdout);
  g_main_loop_quit (client->loop);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  EchoClient *client = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  guint status = 0;

  client->connection = gc_ws_connect_finish (result, &status, &body, &error);
  if (client->connection == NULL)
    {
      g_printerr ("ws-echo-client: %s\n", error->message);
      if (body != NULL && g_bytes_get_size (body) > 0)
        g_printerr ("%.*s\n", (int) g_bytes_get_size (body),
                    (const char *) g_bytes_get_data (body, NULL));
      client->exit_status = EXIT_HANDSHAKE_FAILED;
      g_main_loop_quit (client->loop);
      return;
    }

  g_print ("connected%s%s\n",
           gc_ws_connection_get_protocol (client->connection) != NULL ? " " : "",
           gc_ws_connection_get_protocol (client->connection) != NULL
             ? gc_ws_connection_get_protocol (client->connection) : "");
  fflush (stdout);

  /* The connection parses nothing, not even frames that came with the
   * 101, until the main loop runs again. */
  gc_ws_connection_set_max_message_size (client->connection, client->max_message);
  /* Room for a few echoes of the largest message in flight. */
  gc_ws_connection_set_max_queued_bytes (client->connection,
                                         MAX (16 * 1024 * 1024, 4 * client->max_message));
  g_signal_connect (client->connection, "message", G_CALLBACK (on_message), client);
  g_signal_connect (client->connection, "error", G_CALLBACK (on_error), client);
  g_signal_connect (client->connection, "closed", G_CALLBACK (on_closed), client);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsDatabase) tls_database = NULL;
  g_autofree char *ca_file = NULL;
  g_auto(GStrv) protocols = NULL;
  gint64 max_message = DEFAULT_MAX_MESSAGE_SIZE;
  EchoClient client = { 0 };
  const GOptionEntry entries[] = {
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      "PEM file of trusted CAs for wss:// (default: the system's)", "FILE" },
    { "protocol", 0, 0, G_OPTION_ARG_STRING_ARRAY, &protocols,
      "Offer this subprotocol (repeatable)", "NAME" },
    { "max-message", 'm', 0, G_OPTION_ARG_INT64, &max_message,
      "Largest message accepted, in bytes (default 16 MiB); a bigger one closes with 1009",
      "BYTES" },
    { NULL }
  };

  context = g_option_context_new ("URL - WebSocket echo client");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("ws-echo-client: %s\n", error->message);
      return EXIT_HANDSHAKE_FAILED;
    }
  if (max_message <= 0)
    {
      g_printerr ("ws-echo-client: need --max-message > 0\n");
      return EXIT_HANDSHAKE_FAILED;
    }
  if (argc != 2)
    {
      g_printerr ("ws-echo-client: expected one ws:// or wss:// URL\n");
      return EXIT_HANDSHAKE_FAILED;
    }

  if (ca_file != NULL)
    {
      g_autofree char *path = g_canonicalize_filename (ca_file, NULL);

      tls_database = g_tls_file_database_new (path, &error);
      if (tls_database == NULL)
        {
          g_printerr ("ws-echo-client: %s\n", error->message);
          return EXIT_HANDSHAKE_FAILED;
        }
    }

  client.loop = g_main_loop_new (NULL, FALSE);
  client.exit_status = EXIT_CONNECTION_FAILED;
  client.max_message = max_message;

  gc_ws_connect_async (argv[1], NULL, (const char * const *) protocols, tls_database, NULL,
                       NULL, on_connected, &client);
  g_main_loop_run (client.loop);

  g_clear_object (&client.connection);
  g_clear_pointer (&client.loop, g_main_loop_unref);
  /* Lets sanitizer builds exit cleanly after TLS. */
  gc_test_stop_idle_pool_threads (2000);

  return client.exit_status;
}
