/* test-server-browser-refusals.c: refused joins as a browser sees them
 *
 * A page's WebSocket never sees the HTTP answer to its upgrade, only
 * events and close codes. So a join that is a valid upgrade is refused
 * after it (docs/protocol.md §3.6): one `refused` event with the refusal's
 * members, then a close with 4000 + the HTTP status and the code as reason.
 * The client here reads exactly that much: events, close code, reason.
 * The 503 of a full or draining server stays an HTTP refusal (an upgrade
 * would cost what the limit protects): such a client sees only a failure.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <json-glib/json-glib.h>

#include "gc-test-server.h"
#include "gc-ws-handshake.h"

/* What a browser's WebSocket learns: open or not, events, the close. */
typedef struct {
  GcWsConnection *connection;
  gboolean        done;
  gboolean        failed;
  GPtrArray      *events;         /* JsonObject */
  gboolean        closed;
  gushort         close_code;
  char           *close_reason;
} PageSocket;

static void
on_page_message (GcWsConnection *connection,
                 guint           opcode,
                 GBytes         *payload,
                 gpointer        user_data)
{
  PageSocket *socket = user_data;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);

  g_assert_true (json_parser_load_from_data (parser, data, (gssize) len, NULL));
  g_ptr_array_add (socket->events, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
}

static void
on_page_closed (GcWsConnection *connection,
                gpointer        user_data)
{
  PageSocket *socket = user_data;

  socket->closed = TRUE;
  socket->close_code = gc_ws_connection_get_close_code (connection);
  socket->close_reason = g_strdup (gc_ws_connection_get_close_reason (connection));
}

static void
on_page_connected (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PageSocket *socket = user_data;

  /* Like a browser, nothing of a non-101 answer is looked at. */
  socket->connection = gc_ws_connect_finish (result, NULL, NULL, NULL);
  if (socket->connection != NULL)
    {
      g_signal_connect (socket->connection, "message", G_CALLBACK (on_page_message), socket);
      g_signal_connect (socket->connection, "closed", G_CALLBACK (on_page_closed), socket);
    }
  else
    {
      socket->failed = TRUE;
    }
  socket->done = TRUE;
}

static PageSocket *
page_socket_open (guint16     port,
                  const char *query,
                  const char *origin)
{
  static const char * const protocols[] = { GC_PROTOCOL_SUBPROTOCOL, NULL };
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/joinRoom?%s", port, query);
  PageSocket *socket = g_new0 (PageSocket, 1);

  socket->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  gc_ws_connect_async (url, origin, protocols, NULL, NULL, NULL, on_page_connected, socket);
  gc_test_wait (socket->done);

  return socket;
}

static void
page_socket_free (PageSocket *socket)
{
  if (socket->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (socket->connection, socket);
      gc_ws_connection_abort (socket->connection);
      g_object_unref (socket->connection);
    }
  g_ptr_array_unref (socket->events);
  g_free (socket->close_reason);
  g_free (socket);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PageSocket, page_socket_free)

/* Asserts the in-band refusal and returns its event (borrowed). */
static JsonObject *
assert_refused_in_band (PageSocket *socket,
                        guint       status,
                        const char *code)
{
  JsonObject *event;

  g_assert_false (socket->failed);
  gc_test_wait (socket->closed);
  g_assert_cmpuint (socket->events->len, ==, 1);
  event = g_ptr_array_index (socket->events, 0);
  g_assert_cmpstr (json_object_get_string_member (event, "type"), ==, "refused");
  g_assert_cmpstr (json_object_get_string_member (event, "error"), ==, code);
  g_assert_nonnull (json_object_get_string_member (event, "message"));
  g_assert_cmpuint (socket->close_code, ==, 4000 + status);
  g_assert_cmpstr (socket->close_reason, ==, code);

  return event;
}

static void
test_refused_400 (void)
{
  GcServerConfig config;
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(PageSocket) bad_room = NULL;
  g_autoptr(PageSocket) bad_name = NULL;
  g_autoptr(PageSocket) bad_since = NULL;
  JsonObject *event;

  gc_test_server_config_init (&config);
  ts = gc_test_server_new (&config);

  bad_room = page_socket_open (ts->port, "room_code=no%20spaces&user_name=ann", NULL);
  assert_refused_in_band (bad_room, 400, "invalid_room_code");
  bad_name = page_socket_open (ts->port, "room_code=lobby&user_name=", NULL);
  assert_refused_in_band (bad_name, 400, "invalid_user_name");
  bad_since = page_socket_open (ts->port, "room_code=lobby&user_name=ann&since=yesterday", NULL);
  event = assert_refused_in_band (bad_since, 400, "bad_request");
  g_assert_false (json_object_has_member (event, "retry_after_ms"));

  /* Nobody stayed behind. */
  gc_test_wait (gc_server_get_n_connections (ts->server) == 0);
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 0);
}

static void
test_refused_403 (void)
{
  GcServerConfig config;
  const char * const origins[] = { "https://chat.example.org", NULL };
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(PageSocket) ann = NULL;
  g_autoptr(PageSocket) bob = NULL;
  g_autoptr(PageSocket) foreign = NULL;

  gc_test_server_config_init (&config);
  config.room_max_members = 1;
  config.allowed_origins = origins;
  ts = gc_test_server_new (&config);

  ann = page_socket_open (ts->port, "room_code=lobby&user_name=ann", "https://chat.example.org");
  gc_test_wait (ann->events->len == 1);
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (ann->events, 0), "type"), ==,
                   "welcome");

  bob = page_socket_open (ts->port, "room_code=lobby&user_name=bob", "https://chat.example.org");
  assert_refused_in_band (bob, 403, "room_full");
  foreign = page_socket_open (ts->port, "room_code=other&user_name=eve", "https://evil.example");
  assert_refused_in_band (foreign, 403, "origin_not_allowed");
  g_assert_false (ann->closed);
}

static void
test_refused_409 (void)
{
  GcServerConfig config;
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(PageSocket) ann = NULL;
  g_autoptr(PageSocket) clash = NULL;
  JsonObject *event;

  gc_test_server_config_init (&config);
  ts = gc_test_server_new (&config);

  ann = page_socket_open (ts->port, "room_code=lobby&user_name=Ann", NULL);
  gc_test_wait (ann->events->len == 1);
  clash = page_socket_open (ts->port, "room_code=lobby&user_name=ANN", NULL);
  event = assert_refused_in_band (clash, 409, "name_taken");
  g_assert_cmpstr (json_object_get_string_member (event, "suggestion"), ==, "ANN2");
  /* The member in the room heard of nobody. */
  g_assert_cmpuint (ann->events->len, ==, 1);
}

static void
test_refused_429 (void)
{
  GcServerConfig config;
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(PageSocket) first = NULL;
  g_autoptr(PageSocket) second = NULL;
  JsonObject *event;
  gint64 retry_after_ms;

  gc_test_server_config_init (&config);
  config.join_burst = 1;
  config.join_per_second = 0.5;
  ts = gc_test_server_new (&config);

  first = page_socket_open (ts->port, "room_code=lobby&user_name=ann", NULL);
  gc_test_wait (first->events->len == 1);
  second = page_socket_open (ts->port, "room_code=lobby&user_name=bob", NULL);
  event = assert_refused_in_band (second, 429, "rate_limited");
  retry_after_ms = json_object_get_int_member (event, "retry_after_ms");
  g_assert_cmpint (retry_after_ms, >, 0);
  g_assert_cmpint (retry_after_ms, <=, 2000);
}

/* A full server keeps refusing over HTTP: the page sees only a failure. */
static void
test_refused_503_stays_http (void)
{
  GcServerConfig config;
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(PageSocket) ann = NULL;
  g_autoptr(PageSocket) bob = NULL;

  gc_test_server_config_init (&config);
  config.max_connections = 1;
  ts = gc_test_server_new (&config);

  ann = page_socket_open (ts->port, "room_code=lobby&user_name=ann", NULL);
  gc_test_wait (ann->events->len == 1);
  bob = page_socket_open (ts->port, "room_code=lobby&user_name=bob", NULL);
  g_assert_true (bob->failed);
  g_assert_null (bob->connection);
}

/* An upgrade costs a connection: at the connection limit every refusal
 * is an HTTP one, so refusals are no way around the limit. */
static void
test_refused_full_stays_http (void)
{
  GcServerConfig config;
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(PageSocket) ann = NULL;
  g_autoptr(GcTestHttpResponse) limited = NULL;

  gc_test_server_config_init (&config);
  config.max_connections = 1;
  config.join_burst = 1;
  config.join_per_second = 0.01;
  ts = gc_test_server_new (&config);

  ann = page_socket_open (ts->port, "room_code=lobby&user_name=ann", NULL);
  gc_test_wait (ann->events->len == 1);

  limited = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=bob", NULL, NULL);
  g_assert_cmpuint (limited->status, ==, 429);
  g_assert_nonnull (limited->json);
  g_assert_cmpstr (json_object_get_string_member (limited->json, "error"), ==, "rate_limited");
  g_assert_nonnull (soup_message_headers_get_one (limited->headers, "Retry-After"));
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 1);
}

/* Another method than GET is no upgrade: 405 over HTTP, with Allow. */
static void
test_method_not_allowed (void)
{
  GcServerConfig config;
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GcTestHttpResponse) post_join = NULL;
  g_autoptr(GcTestHttpResponse) post_health = NULL;
  g_autoptr(GcTestHttpResponse) get_health = NULL;

  gc_test_server_config_init (&config);
  ts = gc_test_server_new (&config);

  post_join = gc_test_http_request ("127.0.0.1", ts->port, NULL,
                                    "POST /joinRoom?room_code=lobby&user_name=ann HTTP/1.1\r\n"
                                    "Host: localhost\r\nConnection: close\r\n\r\n");
  gc_test_http_assert_refusal (post_join, 405, "method_not_allowed");
  g_assert_cmpstr (soup_message_headers_get_one (post_join->headers, "Allow"), ==, "GET");

  post_health = gc_test_http_request ("127.0.0.1", ts->port, NULL,
                                      "DELETE /healthz HTTP/1.1\r\n"
                                      "Host: localhost\r\nConnection: close\r\n\r\n");
  gc_test_http_assert_refusal (post_health, 405, "method_not_allowed");
  g_assert_cmpstr (soup_message_headers_get_one (post_health->headers, "Allow"), ==, "GET, HEAD");

  get_health = gc_test_http_get ("127.0.0.1", ts->port, NULL, "/healthz");
  g_assert_cmpuint (get_health->status, ==, 200);
}

/* The protocol module's side: build, parse, close code. */
static void
test_refused_event_round_trip (void)
{
  g_autoptr(GBytes) built = gc_event_build_refused (GC_PROTOCOL_ERROR_NAME_TAKEN, "Taken", "bo2", 0);
  g_autoptr(GBytes) limited = gc_event_build_refused (GC_PROTOCOL_ERROR_RATE_LIMITED, "Slow", NULL,
                                                      1500);
  g_autoptr(GBytes) body = gc_protocol_build_refusal (GC_PROTOCOL_ERROR_NAME_TAKEN, "Taken", "bo2", 0);
  g_autoptr(GcEvent) event = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *json = g_bytes_get_data (built, &len);

  /* The HTTP body's members, after the type. */
  g_assert_cmpstr (json, ==, "{\"type\":\"refused\",\"error\":\"name_taken\",\"message\":\"Taken\","
                             "\"suggestion\":\"bo2\"}");
  g_assert_cmpstr (g_bytes_get_data (body, NULL), ==,
                   "{\"error\":\"name_taken\",\"message\":\"Taken\",\"suggestion\":\"bo2\"}");

  event = gc_event_parse (json, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (event->type, ==, GC_EVENT_REFUSED);
  g_assert_cmpint (event->refused.error, ==, GC_PROTOCOL_ERROR_NAME_TAKEN);
  g_assert_cmpstr (event->refused.code, ==, "name_taken");
  g_assert_cmpstr (event->refused.message, ==, "Taken");
  g_assert_cmpstr (event->refused.suggestion, ==, "bo2");
  g_clear_pointer (&event, gc_event_free);

  json = g_bytes_get_data (limited, &len);
  event = gc_event_parse (json, len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (event->refused.retry_after_ms, ==, 1500);
  g_assert_null (event->refused.suggestion);

  g_assert_cmpuint (gc_protocol_refusal_close_code (GC_PROTOCOL_ERROR_INVALID_ROOM_CODE), ==, 4400);
  g_assert_cmpuint (gc_protocol_refusal_close_code (GC_PROTOCOL_ERROR_ROOM_FULL), ==, 4403);
  g_assert_cmpuint (gc_protocol_refusal_close_code (GC_PROTOCOL_ERROR_NAME_TAKEN), ==, 4409);
  g_assert_cmpuint (gc_protocol_refusal_close_code (GC_PROTOCOL_ERROR_RATE_LIMITED), ==, 4429);
  g_assert_cmpuint (gc_protocol_refusal_close_code (GC_PROTOCOL_ERROR_SERVER_FULL), ==, 4503);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server-browser-refusals/event", test_refused_event_round_trip);
  g_test_add_func ("/server-browser-refusals/405", test_method_not_allowed);
  g_test_add_func ("/server-browser-refusals/400", test_refused_400);
  g_test_add_func ("/server-browser-refusals/403", test_refused_403);
  g_test_add_func ("/server-browser-refusals/409", test_refused_409);
  g_test_add_func ("/server-browser-refusals/429", test_refused_429);
  g_test_add_func ("/server-browser-refusals/503-stays-http", test_refused_503_stays_http);
  g_test_add_func ("/server-browser-refusals/full-stays-http", test_refused_full_stays_http);

  return gc_test_run ();
}
