/* test-app-connection.c: what happens to the app's connection, through the real window
 *
 * A link that drops or goes silent (behind a TCP proxy that can turn into
 * a black hole), messages the server refuses, and wss:// with and
 * without a trusted certificate; each read where a person sees it: the
 * banner, the message rows and their Retry. (test-app.c has the rest;
 * they are two programs so that neither passes GLib's 2,048 quarks, past
 * which GLib drops its first quark block on purpose and LeakSanitizer,
 * which cannot name it, reports it.)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "test-app-util.h"

/* ------------------------------------------------------------------ */
/* A TCP proxy that can turn into a black hole                          */
/* ------------------------------------------------------------------ */

/* Between the app and the server: forwards bytes both ways until frozen;
 * a frozen pair keeps both TCP connections open but drops every byte, as a
 * dead network path (a half-open link) does. New pairs forward again. */
typedef struct _ProxyPair ProxyPair;

typedef struct {
  GSocketService *service;
  guint16         port;
  guint16         target_port;
  char           *url;
  GPtrArray      *pairs;
} TestProxy;

typedef struct {
  ProxyPair     *pair;
  GInputStream  *in;
  GOutputStream *out;
  guint8         buffer[16384];
} ProxyPump;

struct _ProxyPair {
  GSocketConnection *client;
  GSocketConnection *server;
  GCancellable      *cancellable;
  ProxyPump          up;
  ProxyPump          down;
  gboolean           frozen;
};

static void pump_read (ProxyPump *pump);

/* Reads and writes in flight, of every proxy: their callbacks use the
 * pairs, so a proxy is freed only once its cancelled ones are done. */
static guint n_pump_ops;

static void
pump_written_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ProxyPump *pump = user_data;

  n_pump_ops--;
  if (g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL))
    pump_read (pump);
}

static void
pump_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  ProxyPump *pump = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  n_pump_ops--;
  if (n <= 0)
    {
      /* One side ended: end the other, as a proxy would. */
      if (!g_cancellable_is_cancelled (pump->pair->cancellable))
        {
          g_io_stream_close (G_IO_STREAM (pump->pair->client), NULL, NULL);
          g_io_stream_close (G_IO_STREAM (pump->pair->server), NULL, NULL);
        }
      return;
    }
  if (pump->pair->frozen)
    {
      pump_read (pump);
      return;
    }
  n_pump_ops++;
  g_output_stream_write_all_async (pump->out, pump->buffer, (gsize) n, G_PRIORITY_DEFAULT,
                                   pump->pair->cancellable, pump_written_cb, pump);
}

static void
pump_read (ProxyPump *pump)
{
  n_pump_ops++;
  g_input_stream_read_async (pump->in, pump->buffer, sizeof pump->buffer, G_PRIORITY_DEFAULT,
                             pump->pair->cancellable, pump_read_cb, pump);
}

static void
proxy_pair_free (ProxyPair *pair)
{
  g_cancellable_cancel (pair->cancellable);
  g_io_stream_close (G_IO_STREAM (pair->client), NULL, NULL);
  g_io_stream_close (G_IO_STREAM (pair->server), NULL, NULL);
  g_object_unref (pair->client);
  g_object_unref (pair->server);
  g_object_unref (pair->cancellable);
  g_free (pair);
}

static gboolean
proxy_incoming_cb (GSocketService    *service,
                   GSocketConnection *connection,
                   GObject           *source_object,
                   TestProxy         *proxy)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  ProxyPair *pair = g_new0 (ProxyPair, 1);

  /* A blocking connect is fine: the kernel completes it from the
   * server's backlog without the main loop. */
  pair->server = g_socket_client_connect_to_host (client, "127.0.0.1", proxy->target_port,
                                                  NULL, &error);
  g_assert_no_error (error);
  pair->client = g_object_ref (connection);
  pair->cancellable = g_cancellable_new ();
  pair->up = (ProxyPump) { pair, g_io_stream_get_input_stream (G_IO_STREAM (pair->client)),
                           g_io_stream_get_output_stream (G_IO_STREAM (pair->server)), { 0 } };
  pair->down = (ProxyPump) { pair, g_io_stream_get_input_stream (G_IO_STREAM (pair->server)),
                             g_io_stream_get_output_stream (G_IO_STREAM (pair->client)), { 0 } };
  g_ptr_array_add (proxy->pairs, pair);
  pump_read (&pair->up);
  pump_read (&pair->down);

  return TRUE;
}

static void
test_proxy_start (TestProxy *proxy,
                  guint16    target_port)
{
  g_autoptr(GError) error = NULL;

  proxy->service = g_socket_service_new ();
  proxy->target_port = target_port;
  proxy->pairs = g_ptr_array_new_with_free_func ((GDestroyNotify) proxy_pair_free);
  proxy->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (proxy->service), NULL, &error);
  g_assert_no_error (error);
  proxy->url = g_strdup_printf ("ws://127.0.0.1:%u", proxy->port);
  g_signal_connect (proxy->service, "incoming", G_CALLBACK (proxy_incoming_cb), proxy);
  g_socket_service_start (proxy->service);
}

/* Every connection open now goes silent; later ones work. */
static void
test_proxy_freeze (TestProxy *proxy)
{
  for (guint i = 0; i < proxy->pairs->len; i++)
    ((ProxyPair *) g_ptr_array_index (proxy->pairs, i))->frozen = TRUE;
}

static void
test_proxy_free (TestProxy *proxy)
{
  g_socket_service_stop (proxy->service);
  g_socket_listener_close (G_SOCKET_LISTENER (proxy->service));
  for (guint i = 0; i < proxy->pairs->len; i++)
    g_cancellable_cancel (((ProxyPair *) g_ptr_array_index (proxy->pairs, i))->cancellable);
  /* The cancelled reads and writes finish before their pairs are freed. */
  gc_test_wait (n_pump_ops == 0);
  g_ptr_array_unref (proxy->pairs);
  g_object_unref (proxy->service);
  g_free (proxy->url);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

/* A dropped link: banner, backoff, resume; no leave/join, no duplicate,
 * no gap. Then the server restarts: banner, Reconnect Now, back in. */
static void
test_reconnect (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcTestClient *bob;
  GcMessageItem *item;
  guint n_lines, bob_leaves, bob_joins;
  guint16 port;

  ts = gc_test_server_new (NULL);
  window = join_through_dialog (ts, "alice", "resume");
  session = gc_window_get_session (window);
  bob = gc_test_client_join_url (ts->url, "resume", "bob");
  gc_test_wait (find_member (session, "bob") != NULL);

  set_compose_text (window, "before the drop");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  item = find_item (session, "before the drop");
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);
  gc_test_client_send_message (bob, "bob before", NULL);
  gc_test_wait (find_item (session, "bob before") != NULL);
  g_assert_false (banner_shown (window));

  /* The link dies without a close frame. */
  n_lines = g_list_model_get_n_items (gc_chat_session_get_messages (session));
  bob_leaves = gc_test_client_count_queued (bob, GC_EVENT_LEAVE);
  bob_joins = gc_test_client_count_queued (bob, GC_EVENT_JOIN);
  gc_ws_connection_abort (gc_chat_session_get_connection (session));
  gc_test_wait (banner_shown (window));
  g_assert_true (g_str_has_prefix (widget_text (banner (window)),
                                   "Connection lost — reconnecting"));

  /* What bob says meanwhile arrives with the resume. */
  gc_test_client_send_message (bob, "bob during the drop", NULL);
  gc_test_wait (session_connected (window));
  gc_test_wait (find_item (session, "bob during the drop") != NULL);
  gc_test_wait (!banner_shown (window));
  g_assert_cmpuint (count_items (session, "before the drop"), ==, 1);
  g_assert_cmpuint (count_items (session, "bob before"), ==, 1);
  g_assert_cmpuint (count_items (session, "bob during the drop"), ==, 1);
  /* Only the one new line: no leave, join or "reconnected" line. */
  g_assert_cmpuint (g_list_model_get_n_items (gc_chat_session_get_messages (session)), ==, n_lines + 1);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_LEAVE), ==, bob_leaves);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_JOIN), ==, bob_joins);
  g_assert_cmpuint (g_list_model_get_n_items (gc_chat_session_get_members (session)), ==, 2);

  /* Messages still flow. */
  set_compose_text (window, "after the drop");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  item = find_item (session, "after the drop");
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);

  /* The server shuts down (close 1001, "server shutting down"): the
   * banner says it restarts, not that the connection was lost, and keeps
   * saying so while the attempts to get back fail. */
  port = ts->port;
  gc_test_client_free (bob);
  gc_test_server_stop (ts);
  gc_test_wait (banner_shown (window));
  g_assert_true (g_str_has_prefix (widget_text (banner (window)),
                                   "The server is restarting — reconnecting"));
  gc_test_wait (gc_chat_session_get_attempt (session) >= 2);
  g_assert_true (g_str_has_prefix (widget_text (banner (window)),
                                   "The server is restarting — reconnecting"));

  /* It comes back on the same port; Reconnect Now does not wait. */
  gc_test_server_start (ts, &(GcTestServerOptions) { .port = port });
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_WAITING);
  settle ();
  n_lines = g_list_model_get_n_items (gc_chat_session_get_messages (session));
  click (room_widget (window, GTK_ACCESSIBLE_ROLE_BUTTON, "Reconnect Now"));
  gc_test_wait (session_connected (window));
  gc_test_wait (!banner_shown (window));
  settle ();

  /* A fresh server knew nothing of us: lines say we joined again and
   * bob is gone; nothing is duplicated. */
  g_assert_nonnull (find_item (session, "bob left"));
  g_assert_cmpuint (count_items (session, "before the drop"), ==, 1);
  g_assert_cmpuint (count_items (session, "after the drop"), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (gc_chat_session_get_members (session)), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (gc_chat_session_get_messages (session)), ==, n_lines + 2);

  set_compose_text (window, "on the new server");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  item = find_item (session, "on the new server");
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);

  destroy_window (window);
  gc_test_server_free (ts);
}


/* Refused messages (rate limit) fail inline with Retry, which works. */
static void
test_refused_and_retry (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcMessageItem *failed;
  GtkWidget *row;
  GtkWidget *retry;

  failed = send_until_refused ("limits", &ts, &window);
  session = gc_window_get_session (window);
  gc_test_wait (gc_message_item_get_state (failed) != GC_MESSAGE_ITEM_PENDING);
  g_assert_cmpint (gc_message_item_get_state (failed), ==, GC_MESSAGE_ITEM_FAILED);
  g_assert_nonnull (gc_message_item_get_error (failed));

  gc_test_wait ((row = message_row (window, "dan: burst 2")) != NULL && gtk_widget_get_mapped (row));
  g_assert_true (widget_has_class (row, "failed"));
  gc_test_wait (has_label (GTK_WIDGET (row), gc_message_item_get_error (failed)));
  retry = gc_test_a11y_find (row, GTK_ACCESSIBLE_ROLE_BUTTON, "Retry");
  g_assert_nonnull (retry);
  g_assert_true (gtk_widget_get_mapped (retry));

  /* Retry once the bucket has refilled (time is the stimulus). */
  gc_test_run_for_ms (1500);
  click (retry);
  g_assert_cmpint (gc_message_item_get_state (failed), ==, GC_MESSAGE_ITEM_PENDING);
  gc_test_wait (gc_message_item_get_state (failed) == GC_MESSAGE_ITEM_DELIVERED);
  gc_test_wait (!widget_has_class (row, "failed"));
  g_assert_cmpuint (count_items (session, "burst 2"), ==, 1);
  g_assert_cmpint (gc_message_item_get_state (find_item (session, "burst 0")), ==,
                   GC_MESSAGE_ITEM_DELIVERED);
  g_assert_cmpint (gc_message_item_get_state (find_item (session, "burst 1")), ==,
                   GC_MESSAGE_ITEM_DELIVERED);

  destroy_window (window);
  gc_test_server_free (ts);
}

static void
join_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GError **error = user_data;

  if (!gc_chat_session_join_finish (GC_CHAT_SESSION (source), result, error))
    g_assert_nonnull (*error);
  else
    *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_EXISTS, "joined");
}

/* wss://: a certificate the system does not trust is said plainly; with
 * the right trust store the session joins and chats. */
static void
test_tls (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcJoinDialog *dialog;
  GtkWidget *join;
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) outcome = NULL;
  g_autofree char *ca_file = gc_test_tls_file ("ca.pem");
  g_autofree char *prefix = NULL;
  GcMessageItem *item;

  ts = gc_test_server_new_full (&(GcTestServerOptions) { .tls = TRUE });

  window = new_window ();
  dialog = gc_window_show_join_dialog (window);
  join = dialog_button (dialog, "Join");
  fill_dialog (dialog, ts->url, "tess", "secure");
  click (join);
  gc_test_wait (gtk_widget_get_sensitive (join));
  prefix = g_strdup_printf ("The secure connection to %s failed: ", ts->url);
  g_assert_true (g_str_has_prefix (widget_text (dialog_status (dialog)), prefix));
  g_assert_null (gc_window_get_session (window));

  database = g_tls_file_database_new (ca_file, &error);
  g_assert_no_error (error);
  session = gc_chat_session_new (ts->url, "tess", "secure");
  gc_chat_session_set_tls_database (session, database);
  gc_chat_session_join_async (session, join_cb, &outcome);
  gc_test_wait (outcome != NULL);
  g_assert_error (outcome, G_IO_ERROR, G_IO_ERROR_EXISTS);

  /* (With no room, closing the dialog would close the window.) */
  gc_window_add_session (window, session);
  gtk_window_destroy (GTK_WINDOW (dialog));
  set_compose_text (window, "over TLS");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  item = find_item (session, "over TLS");
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);

  destroy_window (window);
  gc_test_server_free (ts);
}

/* The network path dies silently (no FIN, no RST): keepalive notices, the
 * app reconnects and resumes; the server replaces the half-open old
 * connection (4000), nobody sees a leave or join, nothing is lost. */
static void
test_dead_link (void)
{
  GcTestServer *ts = NULL;
  TestProxy proxy = { 0 };
  GcWindow *window;
  GcChatSession *session;
  GcTestClient *bob;
  GcMessageItem *item;
  GcWsConnection *old_connection;
  gint64 frozen_at, detected_in;

  ts = gc_test_server_new (NULL);
  test_proxy_start (&proxy, ts->port);
  bob = gc_test_client_join_url (ts->url, "dead-link", "bob");

  window = new_window ();
  gc_window_join (window, proxy.url, "alice", "dead-link");
  gc_test_wait (session_connected (window));
  session = gc_window_get_session (window);
  gc_chat_session_set_keepalive (session, 1, 3);
  gc_test_client_send_message (bob, "before", NULL);
  gc_test_wait (find_item (session, "before") != NULL);

  old_connection = gc_chat_session_get_connection (session);
  test_proxy_freeze (&proxy);
  frozen_at = g_get_monotonic_time ();
  gc_test_client_send_message (bob, "into the void", NULL);

  gc_test_wait (gc_chat_session_get_connection (session) != old_connection);
  detected_in = g_get_monotonic_time () - frozen_at;
  gc_test_wait (banner_shown (window));
  g_test_message ("dead link noticed after %.1f s", detected_in / 1e6);
  /* Noticed by the keepalive: after the timeout, not much later. */
  g_assert_cmpint (detected_in, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (detected_in, <=, 6 * G_USEC_PER_SEC);

  gc_test_wait (session_connected (window));
  gc_test_wait (find_item (session, "into the void") != NULL);
  gc_test_wait (!banner_shown (window));
  g_assert_cmpuint (count_items (session, "before"), ==, 1);
  g_assert_cmpuint (count_items (session, "into the void"), ==, 1);
  g_assert_null (find_item (session, "Reconnected. The server did not keep your place, so you joined again."));
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_JOIN), ==, 1);

  set_compose_text (window, "back");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  item = find_item (session, "back");
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);

  gc_test_client_free (bob);
  destroy_window (window);
  test_proxy_free (&proxy);
  gc_test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  test_app_setup (&argc, &argv, TEST_APP_SETUP_DEFAULT);

  g_test_add_func ("/app/reconnect", test_reconnect);
  g_test_add_func ("/app/dead-link", test_dead_link);
  g_test_add_func ("/app/refused-and-retry", test_refused_and_retry);
  g_test_add_func ("/app/tls", test_tls);

  return test_app_run ();
}
