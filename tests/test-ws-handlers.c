/* test-ws-handlers.c: GcWsConnectionHandlers, the owner's callbacks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sys/socket.h>

#include <gio/gio.h>

#include "gc-test-wait.h"
#include "gc-ws-connection.h"

typedef struct {
  GString *log;       /* "signal:message one,handler:message one,…" */
  guint    n_handled;
  guint    n_signalled;
  gboolean closed;
} Record;

static void
on_message_signal (GcWsConnection *connection,
                   guint           opcode,
                   GBytes         *payload,
                   Record         *record)
{
  g_string_append_printf (record->log, "signal:message %.*s,",
                          (int) g_bytes_get_size (payload),
                          (const char *) g_bytes_get_data (payload, NULL));
  record->n_signalled++;
}

static void
on_message_handler (GcWsConnection *connection,
                    GcWsOpcode      opcode,
                    GBytes         *payload,
                    gpointer        user_data)
{
  Record *record = user_data;

  g_string_append_printf (record->log, "handler:message %.*s,",
                          (int) g_bytes_get_size (payload),
                          (const char *) g_bytes_get_data (payload, NULL));
  record->n_handled++;
}

static void
on_closed_signal (GcWsConnection *connection,
                  Record         *record)
{
  g_string_append (record->log, "signal:closed,");
}

static void
on_closed_handler (GcWsConnection *connection,
                   gpointer        user_data)
{
  Record *record = user_data;

  g_string_append (record->log, "handler:closed,");
  record->closed = TRUE;
}

/* A connected pair of streams (a socketpair). */
static void
stream_pair (GIOStream **a,
             GIOStream **b)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket_a = NULL;
  g_autoptr(GSocket) socket_b = NULL;
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  socket_a = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  socket_b = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  *a = G_IO_STREAM (g_socket_connection_factory_create_connection (socket_a));
  *b = G_IO_STREAM (g_socket_connection_factory_create_connection (socket_b));
}

/* The handlers run right after the signal of the same name; %NULL
 * stops them (the signals go on). */
static void
test_handlers_after_signals (void)
{
  static const GcWsConnectionHandlers handlers = {
    .message = on_message_handler,
    .closed = on_closed_handler,
  };
  g_autoptr(GIOStream) stream_a = NULL;
  g_autoptr(GIOStream) stream_b = NULL;
  g_autoptr(GcWsConnection) server = NULL;
  g_autoptr(GcWsConnection) client = NULL;
  Record record = { .log = g_string_new (NULL) };

  stream_pair (&stream_a, &stream_b);
  server = gc_ws_connection_new (stream_a, GC_WS_ROLE_SERVER, NULL, NULL, NULL);
  client = gc_ws_connection_new (stream_b, GC_WS_ROLE_CLIENT, NULL, NULL, NULL);
  g_signal_connect (server, "message", G_CALLBACK (on_message_signal), &record);
  g_signal_connect (server, "closed", G_CALLBACK (on_closed_signal), &record);
  gc_ws_connection_set_handlers (server, &handlers, &record);

  gc_ws_connection_send_text (client, "one", -1);
  gc_test_wait (record.n_handled == 1);
  g_assert_cmpstr (record.log->str, ==, "signal:message one,handler:message one,");

  /* Stopped: the signal still comes, the handler no more. */
  gc_ws_connection_set_handlers (server, NULL, NULL);
  gc_ws_connection_send_text (client, "two", -1);
  gc_test_wait (record.n_signalled == 2);
  gc_ws_connection_send_text (client, "three", -1);
  gc_test_wait (record.n_signalled == 3);
  g_assert_cmpuint (record.n_handled, ==, 1);

  /* Set again: "closed" too, after its signal. */
  gc_ws_connection_set_handlers (server, &handlers, &record);
  g_string_truncate (record.log, 0);
  gc_ws_connection_close (client, GC_WS_CLOSE_NORMAL, NULL);
  gc_test_wait (record.closed);
  g_assert_cmpstr (record.log->str, ==, "signal:closed,handler:closed,");
  gc_test_wait (gc_ws_connection_get_state (client) == GC_WS_STATE_CLOSED);

  g_string_free (record.log, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ws/handlers/after-signals", test_handlers_after_signals);

  return g_test_run ();
}
