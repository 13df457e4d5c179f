/* gc-test-tls.c: the test certificates, and an HTTP server on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-test-tls.h"

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
