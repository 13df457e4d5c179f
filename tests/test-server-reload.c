/* test-server-reload.c: SIGHUP and SIGTERM as an operator uses them, on a real gochat-server
 *
 * SIGHUP with a renewed certificate while clients chat: nobody is dropped,
 * connections made afterwards see the new certificate, and a reload that
 * fails keeps the certificate in use. SIGTERM: /healthz answers 503
 * `draining` while the closing handshakes run.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "gc-test-server.h"

/* ------------------------------------------------------------------ */
/* The program                                                          */
/* ------------------------------------------------------------------ */

static guint
count_lines_with (const char *log,
                  const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (log, needle); p != NULL; p = strstr (p + 1, needle))
    n++;

  return n;
}

/* ------------------------------------------------------------------ */
/* TLS                                                                  */
/* ------------------------------------------------------------------ */

static GTlsCertificate *
load_test_certificate (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = gc_test_tls_file (name);
  GTlsCertificate *certificate = g_tls_certificate_new_from_file (path, &error);

  g_assert_no_error (error);
  return certificate;
}

static void
copy_file (const char *from,
           const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (from, &contents, &len, &error));
  g_assert_true (g_file_set_contents (to, contents, len, &error));
  g_assert_no_error (error);
}

typedef struct {
  GTlsDatabase    *database;
  GTlsCertificate *peer;
  gboolean         done;
} PeerProbe;

static void
on_probe_event (GSocketClient      *client,
                GSocketClientEvent  event,
                GSocketConnectable *connectable,
                GIOStream          *connection,
                gpointer            user_data)
{
  PeerProbe *probe = user_data;

  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_tls_connection_set_database (G_TLS_CONNECTION (connection), probe->database);
}

static void
on_probe_connected (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  PeerProbe *probe = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  GIOStream *tls;

  connection = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), result, &error);
  g_assert_no_error (error);
  /* GSocketClient wraps TLS in a GTcpWrapperConnection. */
  tls = g_tcp_wrapper_connection_get_base_io_stream (G_TCP_WRAPPER_CONNECTION (connection));
  probe->peer = g_object_ref (g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls)));
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  probe->done = TRUE;
}

/* The certificate a new TLS connection to the server is shown (the
 * connection must verify against the test CA). */
static GTlsCertificate *
probe_peer_certificate (guint16       port,
                        GTlsDatabase *ca)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  PeerProbe probe = { .database = ca };

  g_socket_client_set_tls (client, TRUE);
  g_signal_connect (client, "event", G_CALLBACK (on_probe_event), &probe);
  g_socket_client_connect_to_host_async (client, "localhost", port, NULL, on_probe_connected,
                                         &probe);
  gc_test_wait (probe.done);

  return probe.peer;
}

static void
assert_chat (GcTestClient *from,
             GcTestClient *to,
             const char   *text)
{
  g_autoptr(GcTestEvent) event = NULL;

  gc_test_client_send_message (from, text, NULL);
  event = gc_test_client_wait_message (to, text);
  g_assert_false (from->closed);
  g_assert_false (to->closed);
}

static void
test_reload_renewed_certificate (void)
{
  g_autofree char *dir = g_dir_make_tmp ("gochat-reload-XXXXXX", NULL);
  g_autofree char *cert = g_build_filename (dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  g_autofree char *cert_arg = g_strdup_printf ("--tls-cert=%s", cert);
  g_autofree char *key_arg = g_strdup_printf ("--tls-key=%s", key);
  g_autofree char *old_cert_path = gc_test_tls_file ("server.pem");
  g_autofree char *old_key_path = gc_test_tls_file ("server-key.pem");
  g_autofree char *new_cert_path = gc_test_tls_file ("server-renewed.pem");
  g_autofree char *new_key_path = gc_test_tls_file ("server-renewed-key.pem");
  g_autofree char *ca_path = gc_test_tls_file ("ca.pem");
  g_autoptr(GTlsCertificate) old_cert = load_test_certificate ("server.pem");
  g_autoptr(GTlsCertificate) new_cert = load_test_certificate ("server-renewed.pem");
  g_autoptr(GTlsCertificate) seen = NULL;
  g_autoptr(GTlsDatabase) ca = NULL;
  g_autoptr(GcTestServerProcess) server = NULL;
  g_autoptr(GcTestClient) ann = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) cat = NULL;
  g_autoptr(GError) error = NULL;
  GcTestJoinOptions options = { 0 };

  g_assert_nonnull (dir);
  g_assert_false (g_tls_certificate_is_same (old_cert, new_cert));
  copy_file (old_cert_path, cert);
  copy_file (old_key_path, key);

  ca = g_tls_file_database_new (ca_path, &error);
  g_assert_no_error (error);
  options.tls_database = ca;

  server = gc_test_server_process_startv ((const char * const []) { cert_arg, key_arg, NULL },
                                          GC_TEST_SERVER_PROCESS_DEFAULT);

  {
    g_autofree char *url_ann = gc_test_join_url ("wss", "localhost", server->port, "renewal",
                                                 "ann", NULL);
    g_autofree char *url_bob = gc_test_join_url ("wss", "localhost", server->port, "renewal",
                                                 "bob", NULL);

    ann = gc_test_client_new_for_url (url_ann, &options);
    gc_test_client_wait_welcome (ann);
    bob = gc_test_client_new_for_url (url_bob, &options);
    gc_test_client_wait_welcome (bob);
  }
  assert_chat (ann, bob, "before the renewal");
  seen = probe_peer_certificate (server->port, ca);
  g_assert_true (g_tls_certificate_is_same (seen, old_cert));
  g_clear_object (&seen);

  /* The renewal lands in place, as certbot's would; then SIGHUP. */
  copy_file (new_cert_path, cert);
  copy_file (new_key_path, key);
  g_subprocess_send_signal (server->process, SIGHUP);
  gc_test_wait (count_lines_with (server->log->str, "event=reload ") >= 1 || server->exited);
  g_assert_false (server->exited);

  /* Nobody was dropped, and they still chat both ways. */
  assert_chat (ann, bob, "after the renewal");
  assert_chat (bob, ann, "and back");

  /* Newcomers see the new certificate. */
  seen = probe_peer_certificate (server->port, ca);
  g_assert_true (g_tls_certificate_is_same (seen, new_cert));
  g_clear_object (&seen);
  {
    g_autofree char *url_cat = gc_test_join_url ("wss", "localhost", server->port, "renewal",
                                                 "cat", NULL);

    cat = gc_test_client_new_for_url (url_cat, &options);
    gc_test_client_wait_welcome (cat);
    g_assert_cmpuint (cat->welcome->event->welcome->members->len, ==, 3);
  }
  assert_chat (cat, ann, "hello from the new certificate");

  /* A broken file: the reload fails, says why, and changes nothing. */
  g_assert_true (g_file_set_contents (cert, "not a certificate\n", -1, NULL));
  g_subprocess_send_signal (server->process, SIGHUP);
  gc_test_wait (count_lines_with (server->log->str, "event=reload-failed") >= 1 || server->exited);
  g_assert_false (server->exited);
  g_assert_nonnull (strstr (server->log->str, "level=warning event=reload-failed reason=\""));
  seen = probe_peer_certificate (server->port, ca);
  g_assert_true (g_tls_certificate_is_same (seen, new_cert));
  assert_chat (bob, cat, "still here");
  g_assert_false (ann->closed);

  g_subprocess_send_signal (server->process, SIGTERM);
  gc_test_wait (server->exited);
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);

  g_unlink (cert);
  g_unlink (key);
  g_rmdir (dir);
}

/* Without --tls-cert, SIGHUP changes nothing and stops nothing. */
static void
test_reload_without_tls (void)
{
  g_autoptr(GcTestServerProcess) server =
    gc_test_server_process_startv (NULL, GC_TEST_SERVER_PROCESS_DEFAULT);
  g_autoptr(GcTestClient) ann = gc_test_client_join (server->port, "plain", "ann");
  g_autoptr(GcTestClient) bob = gc_test_client_join (server->port, "plain", "bob");

  g_subprocess_send_signal (server->process, SIGHUP);
  gc_test_wait (count_lines_with (server->log->str, "event=reload ") >= 1 || server->exited);
  g_assert_false (server->exited);
  assert_chat (ann, bob, "after SIGHUP");
}

/* ------------------------------------------------------------------ */
/* Draining                                                             */
/* ------------------------------------------------------------------ */

/* From SIGTERM on, /healthz says 503 `draining` while the closing
 * handshakes run (a member that never reads keeps them running). */
static void
test_healthz_draining (void)
{
  g_autoptr(GcTestServerProcess) server =
    gc_test_server_process_startv (NULL, GC_TEST_SERVER_PROCESS_DEFAULT);
  g_autoptr(GcTestHttpResponse) before = NULL;
  g_autoptr(GcTestHttpResponse) during = NULL;
  g_autoptr(GcTestRawClient) deaf = NULL;

  before = gc_test_http_get ("127.0.0.1", server->port, NULL, "/healthz");
  g_assert_cmpuint (before->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (before->json, "status"), ==, "ok");

  deaf = gc_test_raw_client_connect (server->port, "/joinRoom?room_code=drain&user_name=deaf",
                                     FALSE, 0);
  g_assert_true (deaf->upgraded);
  gc_test_wait (strstr (server->log->str, "event=join ") != NULL);

  g_subprocess_send_signal (server->process, SIGTERM);
  gc_test_wait (strstr (server->log->str, "event=shutdown") != NULL || server->exited);
  g_assert_false (server->exited);

  during = gc_test_http_get ("127.0.0.1", server->port, NULL, "/healthz");
  g_assert_cmpuint (during->status, ==, 503);
  g_assert_nonnull (during->json);
  g_assert_cmpstr (json_object_get_string_member (during->json, "status"), ==, "draining");
  g_assert_false (server->exited);

  gc_test_wait (server->exited);
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server-reload/renewed-certificate", test_reload_renewed_certificate);
  g_test_add_func ("/server-reload/without-tls", test_reload_without_tls);
  g_test_add_func ("/server-reload/healthz-draining", test_healthz_draining);

  return gc_test_run ();
}
