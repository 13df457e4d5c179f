/* gc-test-tls.c: the test certificates, and an HTTP server on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-test-tls.h"

#include <sys/socket.h>

#include "gc-test-wait.h"

char *
gc_test_tls_file (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "tls", name, NULL);
}

GTlsDatabase *
gc_test_tls_ca (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = gc_test_tls_file ("ca.pem");
  GTlsDatabase *database = g_tls_file_database_new (path, &error);

  g_assert_no_error (error);
  return database;
}

GTlsCertificate *
gc_test_tls_certificate (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cert_file = gc_test_tls_file ("server.pem");
  g_autofree char *key_file = gc_test_tls_file ("server-key.pem");
  GTlsCertificate *certificate = g_tls_certificate_new_from_files (cert_file, key_file, &error);

  g_assert_no_error (error);
  return certificate;
}

guint16
gc_test_soup_server_listen (SoupServer *server,
                            gboolean    tls)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  GSList *uris;
  guint16 port;

  if (tls)
    {
      g_autoptr(GTlsCertificate) certificate = gc_test_tls_certificate ();

      soup_server_set_tls_certificate (server, certificate);
    }

  soup_server_listen (server, address, tls ? SOUP_SERVER_LISTEN_HTTPS : 0, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (server);
  g_assert_nonnull (uris);
  port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_assert_cmpuint (port, >, 0);

  return port;
}

/* The client's first TLS record as it arrives on the other end of a
 * socket pair. */
static gboolean
on_hello_bytes (GSocket      *socket,
                GIOCondition  condition,
                gpointer      user_data)
{
  guint8 buffer[4096];
  gssize n;

  while ((n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, NULL)) > 0)
    g_byte_array_append (user_data, buffer, n);
  return G_SOURCE_CONTINUE;
}

static gboolean
tls_record_complete (GByteArray *data)
{
  return data->len >= 5 && data->len >= 5 + ((gsize) data->data[3] << 8 | data->data[4]);
}

static void
on_capture_handshake_done (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

GBytes *
gc_test_tls_client_hello (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) ours = NULL;
  g_autoptr(GSocket) theirs = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GByteArray *hello = g_byte_array_new ();
  GSource *source;
  gboolean done = FALSE;
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  ours = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  theirs = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  g_socket_set_blocking (ours, FALSE);
  connection = g_socket_connection_factory_create_connection (theirs);
  tls = g_tls_client_connection_new (G_IO_STREAM (connection), NULL, &error);
  g_assert_no_error (error);

  source = g_socket_create_source (ours, G_IO_IN, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (on_hello_bytes), hello, NULL);
  g_source_attach (source, NULL);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, cancellable,
                                    on_capture_handshake_done, &done);
  gc_test_wait (tls_record_complete (hello));
  g_source_destroy (source);
  g_source_unref (source);

  g_cancellable_cancel (cancellable);
  g_socket_shutdown (ours, TRUE, TRUE, NULL);
  gc_test_wait (done);

  g_assert_cmpuint (hello->data[0], ==, 0x16);  /* a handshake record */
  g_byte_array_set_size (hello, 5 + ((gsize) hello->data[3] << 8 | hello->data[4]));
  return g_byte_array_free_to_bytes (hello);
}
