/* test-server-smoke.c: a GcServer in this process, real clients over loopback
 *
 * A quick end-to-end check of the embeddable server: two members chat,
 * a name clash is refused with a suggestion, a dropped member resumes
 * without noise, rooms are disposed with their last member, and shutdown
 * closes everyone with 1001. The full protocol suite is test-server*.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "gc-protocol.h"
#include "gc-server.h"
#include "gc-ws-handshake.h"

#define GC_TEST_DEADLINE_S 20

#include "gc-test-spin.h"

/* A client: its connection and every event it received. */
typedef struct {
  GcWsConnection *connection;
  GPtrArray      *events;       /* GcEvent */
  guint           http_status;  /* of a refusal */
  GBytes         *http_body;
  gboolean        done;         /* connected or refused */
  gboolean        closed;
  gushort         close_code;   /* what the server sent */
} Client;

static void
on_client_message (GcWsConnection *connection,
                   guint           opcode,
                   GBytes         *payload,
                   gpointer        user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  GcEvent *event;

  g_assert_cmpuint (opcode, ==, GC_WS_OPCODE_TEXT);
  event = gc_event_parse (data, len, &error);
  g_assert_no_error (error);
  g_ptr_array_add (client->events, event);
}

static void
on_client_closed (GcWsConnection *connection,
                  gpointer        user_data)
{
  Client *client = user_data;

  client->closed = TRUE;
  client->close_code = gc_ws_connection_get_close_code (connection);
}

static void
on_connect_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;

  client->connection = gc_ws_connect_finish (result, &client->http_status,
                                             &client->http_body, &error);
  if (client->connection != NULL)
    {
      g_signal_connect (client->connection, "message", G_CALLBACK (on_client_message), client);
      g_signal_connect (client->connection, "closed", G_CALLBACK (on_client_closed), client);
    }
  else
    {
      g_assert_error (error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED);
    }
  client->done = TRUE;
}

static Client *
client_join (GcServer   *server,
             const char *query)
{
  static const char * const protocols[] = { GC_PROTOCOL_SUBPROTOCOL, NULL };
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/joinRoom?%s",
                                          gc_server_get_port (server), query);
  Client *client = g_new0 (Client, 1);

  client->events = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_event_free);
  gc_ws_connect_async (url, NULL, protocols, NULL, NULL, NULL, on_connect_done, client);
  spin_until (client->done);

  return client;
}

static void
client_free (Client *client)
{
  if (client->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->connection, client);
      gc_ws_connection_abort (client->connection);
      g_object_unref (client->connection);
    }
  g_clear_pointer (&client->http_body, g_bytes_unref);
  g_ptr_array_unref (client->events);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

/* Waits for the client's next event (which must be of @type) and returns
 * it (owned by the client). */
static GcEvent *
client_expect (Client      *client,
               guint       *cursor,
               GcEventType  type)
{
  GcEvent *event;

  spin_until (client->events->len > *cursor);
  event = g_ptr_array_index (client->events, (*cursor)++);
  g_assert_cmpint (event->type, ==, type);

  return event;
}

static GcServer *
server_start (guint resume_seconds)
{
  GcServerConfig config;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;
  GcServer *server;

  gc_server_config_init_default (&config);
  config.resume_seconds = resume_seconds;
  server = gc_server_new (&config);
  g_assert_true (gc_server_listen (server, loopback, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (gc_server_get_port (server), >, 0);

  return server;
}

static void
test_chat (void)
{
  g_autoptr(GcServer) server = server_start (30);
  g_autoptr(Client) alice = NULL;
  g_autoptr(Client) bob = NULL;
  g_autoptr(Client) clash = NULL;
  g_autofree char *request = NULL;
  guint a = 0, b = 0;
  GcEvent *event;
  GcRoom *room;
  const char *body;

  alice = client_join (server, "room_code=Lobby&user_name=Alice");
  g_assert_nonnull (alice->connection);
  event = client_expect (alice, &a, GC_EVENT_WELCOME);
  g_assert_cmpstr (event->welcome->room, ==, "lobby");
  g_assert_cmpuint (event->welcome->members->len, ==, 1);
  g_assert_false (event->welcome->resumed);

  bob = client_join (server, "room_code=LOBBY&user_name=bob");
  event = client_expect (bob, &b, GC_EVENT_WELCOME);
  g_assert_cmpuint (event->welcome->members->len, ==, 2);
  event = client_expect (alice, &a, GC_EVENT_JOIN);
  g_assert_cmpstr (event->join.user->name, ==, "bob");

  /* Names clash without regard to case; the refusal suggests a free one. */
  clash = client_join (server, "room_code=lobby&user_name=ALICE");
  g_assert_null (clash->connection);
  g_assert_cmpuint (clash->http_status, ==, 409);
  body = g_bytes_get_data (clash->http_body, NULL);
  g_assert_nonnull (strstr (body, "\"error\":\"name_taken\""));
  g_assert_nonnull (strstr (body, "\"suggestion\":\"ALICE2\""));

  /* A forged `from` is ignored; the sender gets its own message too. */
  request = g_strdup ("{\"type\":\"message\",\"text\":\"hi\",\"client_id\":\"c1\","
                      "\"from\":{\"id\":\"x\",\"name\":\"mallory\"}}");
  gc_ws_connection_send_text (bob->connection, request, -1);
  event = client_expect (alice, &a, GC_EVENT_MESSAGE);
  g_assert_cmpstr (event->message->from->name, ==, "bob");
  g_assert_cmpstr (event->message->text, ==, "hi");
  event = client_expect (bob, &b, GC_EVENT_MESSAGE);
  g_assert_cmpstr (event->message->client_id, ==, "c1");

  g_assert_cmpuint (gc_server_get_n_rooms (server), ==, 1);
  g_assert_cmpuint (gc_server_get_n_connections (server), ==, 2);
  room = gc_server_lookup_room (server, "LoBbY");
  g_assert_nonnull (room);
  g_assert_cmpuint (gc_room_get_n_members (room), ==, 2);
  g_assert_cmpuint (gc_room_get_n_history (room), ==, 1);

  /* The room goes with its last member. */
  g_object_add_weak_pointer (G_OBJECT (room), (gpointer *) &room);
  gc_ws_connection_close (bob->connection, GC_WS_CLOSE_NORMAL, NULL);
  event = client_expect (alice, &a, GC_EVENT_LEAVE);
  g_assert_cmpint (event->leave.reason, ==, GC_LEAVE_REASON_LEFT);
  g_assert_nonnull (room);
  gc_ws_connection_close (alice->connection, GC_WS_CLOSE_NORMAL, NULL);
  spin_until (room == NULL);
  g_assert_cmpuint (gc_server_get_n_rooms (server), ==, 0);
  spin_until (gc_server_get_n_connections (server) == 0);
}

static void
test_resume (void)
{
  g_autoptr(GcServer) server = server_start (30);
  g_autoptr(Client) alice = NULL;
  g_autoptr(Client) bob = NULL;
  g_autoptr(Client) again = NULL;
  g_autofree char *query = NULL;
  g_autofree char *user_id = NULL;
  guint a = 0, b = 0, c = 0;
  guint64 seen;
  GcEvent *event;

  alice = client_join (server, "room_code=r&user_name=alice");
  client_expect (alice, &a, GC_EVENT_WELCOME);
  bob = client_join (server, "room_code=r&user_name=bob");
  event = client_expect (bob, &b, GC_EVENT_WELCOME);
  user_id = g_strdup (event->welcome->you->id);
  query = g_strdup_printf ("room_code=r&user_name=bob&session_id=%s",
                           event->welcome->session_id);
  client_expect (alice, &a, GC_EVENT_JOIN);

  gc_ws_connection_send_text (alice->connection, "{\"type\":\"message\",\"text\":\"one\"}", -1);
  seen = client_expect (bob, &b, GC_EVENT_MESSAGE)->message->id;
  client_expect (alice, &a, GC_EVENT_MESSAGE);

  /* Bob's link dies without a close frame; what he misses comes back
   * on resume, and Alice sees neither a leave nor a join. */
  gc_ws_connection_abort (bob->connection);
  gc_ws_connection_send_text (alice->connection, "{\"type\":\"message\",\"text\":\"two\"}", -1);
  client_expect (alice, &a, GC_EVENT_MESSAGE);

  {
    g_autofree char *with_since = g_strdup_printf ("%s&since=%" G_GUINT64_FORMAT, query, seen);

    again = client_join (server, with_since);
  }
  event = client_expect (again, &c, GC_EVENT_WELCOME);
  g_assert_true (event->welcome->resumed);
  g_assert_cmpstr (event->welcome->you->id, ==, user_id);
  g_assert_cmpuint (event->welcome->history->len, ==, 1);
  g_assert_cmpstr (((GcMessage *) g_ptr_array_index (event->welcome->history, 0))->text, ==, "two");

  gc_ws_connection_send_text (again->connection, "{\"type\":\"typing\",\"active\":true}", -1);
  event = client_expect (alice, &a, GC_EVENT_TYPING);
  g_assert_cmpstr (event->typing.user->id, ==, user_id);
}

static void
on_shutdown_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gc_server_shutdown_finish (GC_SERVER (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
test_shutdown (void)
{
  g_autoptr(GcServer) server = server_start (30);
  g_autoptr(Client) alice = NULL;
  g_autoptr(Client) bob = NULL;
  gboolean done = FALSE;
  guint a = 0, b = 0;
  gsize n_events;

  alice = client_join (server, "room_code=s&user_name=alice");
  client_expect (alice, &a, GC_EVENT_WELCOME);
  bob = client_join (server, "room_code=s&user_name=bob");
  client_expect (bob, &b, GC_EVENT_WELCOME);
  client_expect (alice, &a, GC_EVENT_JOIN);
  n_events = alice->events->len;

  gc_server_shutdown_async (server, NULL, on_shutdown_done, &done);
  spin_until (done);
  spin_until (alice->closed && bob->closed);
  g_assert_cmpuint (alice->close_code, ==, GC_WS_CLOSE_GOING_AWAY);
  g_assert_cmpuint (bob->close_code, ==, GC_WS_CLOSE_GOING_AWAY);
  /* No leave was broadcast. */
  g_assert_cmpuint (alice->events->len, ==, n_events);
  g_assert_cmpuint (gc_server_get_n_rooms (server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_connections (server), ==, 0);
  g_assert_cmpuint (gc_server_get_port (server), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server-smoke/chat", test_chat);
  g_test_add_func ("/server-smoke/resume", test_resume);
  g_test_add_func ("/server-smoke/shutdown", test_shutdown);

  return g_test_run ();
}
