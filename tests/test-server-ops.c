/* test-server-ops.c: /healthz, /metrics, room disposal, scale and shutdown (docs/protocol.md §6.6, §8)
 *
 * Each test runs on its own GcServer (a gc_test_add_server() fixture, or
 * one it makes itself when it needs the server's own shutdown) with real
 * loopback clients from tests/lib.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <libsoup/soup.h>

#include "gc-server.h"
#include "gc-server-private.h"
#include "gc-test-server.h"

/* ------------------------------------------------------------------ */
/* Operations: /healthz, /metrics, disposal                             */
/* ------------------------------------------------------------------ */

static void
assert_healthz (guint16 port,
                gint64  rooms,
                gint64  connections)
{
  g_autoptr(GcTestHttpResponse) response = gc_test_http_get ("127.0.0.1", port, NULL, "/healthz");
  JsonObject *json = response->json;

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_content_type (response->headers, NULL), ==,
                   "application/json");
  g_assert_nonnull (json);
  g_assert_cmpstr (json_object_get_string_member_with_default (json, "status", NULL), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member_with_default (json, "version", NULL), ==,
                   PACKAGE_VERSION);
  g_assert_true (json_object_has_member (json, "rooms"));
  g_assert_true (json_object_has_member (json, "connections"));
  g_assert_true (json_object_has_member (json, "uptime_s"));
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (json, "uptime_s")), ==,
                   G_TYPE_INT64);
  g_assert_cmpint (json_object_get_int_member (json, "uptime_s"), >=, 0);
  g_assert_cmpint (json_object_get_int_member (json, "uptime_s"), <, 600);
  g_assert_cmpint (json_object_get_int_member (json, "rooms"), ==, rooms);
  g_assert_cmpint (json_object_get_int_member (json, "connections"), ==, connections);
}

static void
test_http_healthz (GcTestServer  *ts,
                   gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;

  assert_healthz (ts->port, 0, 0);
  a = gc_test_client_join (ts->port, "one", "ann");
  b = gc_test_client_join (ts->port, "one", "bob");
  c = gc_test_client_join (ts->port, "two", "cy");
  assert_healthz (ts->port, 2, 3);

  gc_test_client_close (c, 1000);
  gc_test_client_wait_closed (c);
  gc_test_wait (gc_server_get_n_rooms (ts->server) == 1);
  assert_healthz (ts->port, 1, 2);
}

/* The value of the sample @name (without labels) in a text exposition. */
static double
metric_value (const char *text,
              const char *name)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      gsize len = strlen (name);

      if (strncmp (line, name, len) == 0 && line[len] == ' ')
        {
          char *end;
          double value = g_ascii_strtod (line + len + 1, &end);

          g_assert_true (end != line + len + 1);
          return value;
        }
    }

  g_error ("no sample %s in /metrics:\n%s", name, text);
}

static void
test_http_metrics (GcTestServer  *ts,
                   gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "one", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "one", "bob");
  g_autoptr(GcTestClient) c = gc_test_client_join (ts->port, "two", "cy");
  g_autoptr(GPtrArray) sent = gc_test_client_send_messages (a, "m", 3);
  g_autoptr(GPtrArray) sent2 = gc_test_client_send_messages (c, "n", 2);
  g_autoptr(GcTestHttpResponse) response = gc_test_http_get ("127.0.0.1", ts->port, NULL,
                                                             "/metrics");
  const char *content_type = soup_message_headers_get_content_type (response->headers, NULL);

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_nonnull (content_type);
  g_assert_true (g_str_has_prefix (content_type, "text/plain"));
  g_test_message ("/metrics:\n%s", response->body_text);
  g_assert_cmpfloat (metric_value (response->body_text, "gochat_connections"), ==, 3);
  g_assert_cmpfloat (metric_value (response->body_text, "gochat_rooms"), ==, 2);
  g_assert_cmpfloat (metric_value (response->body_text, "gochat_messages_total"), ==, 5);
}

static void
configure_room_disposal (GcServerConfig *config)
{
  config->resume_seconds = 1;
}

static void
test_room_disposal (GcTestServer  *ts,
                    gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  GcRoom *room;
  GcRoom *room2;
  gint64 dropped_us;

  g_assert_null (gc_server_lookup_room (ts->server, "disp"));
  a = gc_test_client_join (ts->port, "Disp", "ann");
  b = gc_test_client_join (ts->port, "disp", "bob");
  room = gc_server_lookup_room (ts->server, "DISP");
  g_assert_nonnull (room);
  g_assert_cmpstr (gc_room_get_code (room), ==, "disp");
  g_assert_cmpuint (gc_room_get_n_members (room), ==, 2);
  g_object_add_weak_pointer (G_OBJECT (room), (gpointer *) &room);

  gc_test_client_close (a, 1000);
  leave = gc_test_client_wait_leave (b, gc_test_client_get_you (a), "left");
  g_assert_nonnull (room);
  g_assert_cmpuint (gc_room_get_n_members (room), ==, 1);

  gc_test_client_close (b, 1000);
  gc_test_wait (room == NULL);
  g_assert_null (gc_server_lookup_room (ts->server, "disp"));
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);

  /* A member dropped without a close frame keeps its room alive until
   * the resume window runs out. */
  c = gc_test_client_join (ts->port, "disp2", "cy");
  room2 = gc_server_lookup_room (ts->server, "disp2");
  g_object_add_weak_pointer (G_OBJECT (room2), (gpointer *) &room2);
  gc_test_client_abort (c);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 0);
  dropped_us = g_get_monotonic_time ();
  g_assert_nonnull (room2);
  g_assert_cmpuint (gc_room_get_n_members (room2), ==, 1);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 1);
  gc_test_wait (room2 == NULL);
  g_assert_cmpint (g_get_monotonic_time () - dropped_us, >=, 900 * 1000);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Scale: no cross-room leaks                                           */
/* ------------------------------------------------------------------ */

#define N_ROOMS 20
#define N_PER_ROOM 10
#define N_MESSAGES_EACH 3

static void
test_many_rooms (GcTestServer  *ts,
                 gconstpointer  test_data)
{
  GcTestClient *clients[N_ROOMS][N_PER_ROOM];
  guint received[N_ROOMS][N_PER_ROOM] = { { 0 } };
  guint total = 0;
  GcTestDeadline deadline;
  const guint expected_each = N_PER_ROOM * N_MESSAGES_EACH;

  /* One room at a time, so at most ten handshakes are in flight. */
  for (guint r = 0; r < N_ROOMS; r++)
    {
      g_autofree char *room = g_strdup_printf ("room%u", r);

      for (guint m = 0; m < N_PER_ROOM; m++)
        {
          g_autofree char *name = g_strdup_printf ("r%u-m%u", r, m);

          clients[r][m] = gc_test_client_start_join (ts->port, room, name, NULL);
        }
      for (guint m = 0; m < N_PER_ROOM; m++)
        gc_test_client_wait_welcome (clients[r][m]);
    }
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, N_ROOMS);
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, N_ROOMS * N_PER_ROOM);

  for (guint i = 0; i < N_MESSAGES_EACH; i++)
    for (guint r = 0; r < N_ROOMS; r++)
      for (guint m = 0; m < N_PER_ROOM; m++)
        {
          g_autofree char *text = g_strdup_printf ("room%u from %u #%u", r, m, i);

          gc_test_client_send_message (clients[r][m], text, NULL);
        }

  /* Consume as messages arrive until every client has its room's all. */
  gc_test_deadline_start (&deadline, 3 * GC_TEST_TIMEOUT_MS);
  while (total < N_ROOMS * N_PER_ROOM * expected_each)
    {
      gboolean progress = FALSE;

      for (guint r = 0; r < N_ROOMS; r++)
        for (guint m = 0; m < N_PER_ROOM; m++)
          {
            GcTestClient *client = clients[r][m];

            while (!g_queue_is_empty (&client->events))
              {
                g_autoptr(GcTestEvent) event = g_queue_pop_head (&client->events);
                g_autofree char *prefix = g_strdup_printf ("room%u from ", r);
                const GcMessage *message;
                guint sender;
                guint serial;

                if (event->event->type == GC_EVENT_JOIN)
                  continue;
                g_assert_cmpint (event->event->type, ==, GC_EVENT_MESSAGE);
                message = event->event->message;
                if (!g_str_has_prefix (message->text, prefix))
                  g_error ("room%u member %u got “%s” from another room", r, m, message->text);
                if (sscanf (message->text + strlen (prefix), "%u #%u", &sender, &serial) != 2)
                  g_error ("unexpected text %s", message->text);
                g_assert_cmpuint (sender, <, N_PER_ROOM);
                g_assert_cmpstr (message->from->id, ==,
                                 gc_test_client_get_you (clients[r][sender])->id);
                received[r][m]++;
                total++;
                progress = TRUE;
              }
          }

      if (!progress)
        gc_test_deadline_iterate (&deadline, "messages in 20 rooms", __FILE__, __LINE__);
    }
  gc_test_deadline_stop (&deadline);

  for (guint r = 0; r < N_ROOMS; r++)
    for (guint m = 0; m < N_PER_ROOM; m++)
      g_assert_cmpuint (received[r][m], ==, expected_each);

  for (guint r = 0; r < N_ROOMS; r++)
    for (guint m = 0; m < N_PER_ROOM; m++)
      gc_test_client_free (clients[r][m]);
}

/* In-order delivery per room: ids strictly increase for every client and
 * each sender's messages keep their order. Checked on a smaller scale
 * with the full event stream. */
static void
test_many_rooms_order (GcTestServer  *ts,
                       gconstpointer  test_data)
{
  GcTestClient *clients[4][5];

  for (guint r = 0; r < 4; r++)
    for (guint m = 0; m < 5; m++)
      {
        g_autofree char *room = g_strdup_printf ("o%u", r);
        g_autofree char *name = g_strdup_printf ("m%u", m);

        clients[r][m] = gc_test_client_join (ts->port, room, name);
      }

  for (guint i = 0; i < 3; i++)
    for (guint r = 0; r < 4; r++)
      for (guint m = 0; m < 5; m++)
        {
          g_autofree char *text = g_strdup_printf ("%u %u", m, i);

          gc_test_client_send_message (clients[r][m], text, NULL);
        }

  for (guint r = 0; r < 4; r++)
    for (guint m = 0; m < 5; m++)
      {
        guint64 last_id = 0;
        gint next_serial[5] = { 0 };

        for (guint n = 0; n < 15; n++)
          {
            g_autoptr(GcTestEvent) event = gc_test_client_wait_event (clients[r][m],
                                                                      GC_EVENT_MESSAGE);
            guint sender;
            guint serial;

            g_assert_cmpuint (event->event->message->id, >, last_id);
            last_id = event->event->message->id;
            g_assert_cmpint (sscanf (event->event->message->text, "%u %u", &sender, &serial), ==, 2);
            g_assert_cmpuint (serial, ==, next_serial[sender]);
            next_serial[sender]++;
          }
      }

  for (guint r = 0; r < 4; r++)
    for (guint m = 0; m < 5; m++)
      gc_test_client_free (clients[r][m]);
}

/* ------------------------------------------------------------------ */
/* Shutdown (§6.6)                                                      */
/* ------------------------------------------------------------------ */

static void
test_shutdown (GcTestServer  *ts,
               gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) late = NULL;
  g_autoptr(GcTestRawClient) deaf = NULL;
  gboolean done = FALSE;
  gint64 start_us;

  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");
  /* Never reads, so never answers the close: shutdown must not wait
   * for it more than 2 s. */
  deaf = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=deaf",
                                     FALSE, 0);
  gc_test_client_sync (a);
  gc_test_client_sync (b);
  gc_test_client_clear_queue (a);
  gc_test_client_clear_queue (b);

  start_us = g_get_monotonic_time ();
  gc_test_server_begin_shutdown (ts, &done);

  /* Joins meanwhile get 503. */
  late = gc_test_client_start_join (ts->port, "lobby", "late", NULL);
  gc_test_client_assert_refused (late, 503, "server_full");

  g_assert_cmpuint (gc_test_client_wait_closed (a), ==, 1001);
  g_assert_cmpuint (gc_test_client_wait_closed (b), ==, 1001);
  gc_test_wait_ms (done, 5000);
  /* The 2 s grace and some slack, scaled for slow runs (sanitizers). */
  g_assert_cmpint (g_get_monotonic_time () - start_us, <,
                   (gint64) gc_test_timeout_ms (3000) * 1000);

  /* No leave was broadcast. */
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 0);

  /* No listening socket is left. */
  {
    g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
    g_autoptr(GSocketConnection) connection = NULL;
    g_autoptr(GError) connect_error = NULL;

    connection = g_socket_client_connect_to_host (socket_client, "127.0.0.1", ts->port, NULL,
                                                  &connect_error);
    g_assert_error (connect_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  }
  /* The fixture's teardown checks the last reference goes. */
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_server ("/server/http/healthz", NULL, test_http_healthz);
  gc_test_add_server ("/server/http/metrics", NULL, test_http_metrics);
  gc_test_add_server ("/server/room/disposal", configure_room_disposal, test_room_disposal);
  gc_test_add_server ("/server/scale/200-clients-20-rooms", NULL, test_many_rooms);
  gc_test_add_server ("/server/scale/order-per-room", NULL, test_many_rooms_order);
  gc_test_add_server ("/server/shutdown/graceful", NULL, test_shutdown);

  return gc_test_run ();
}
