/* gc-bench-connection-tls.c: making a wss:// GcBenchConnection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#include "gc-bench-connection-private.h"

static gboolean
accept_any_certificate (GTlsConnection       *connection,
                        GTlsCertificate      *peer_certificate,
                        GTlsCertificateFlags  errors,
                        gpointer              user_data)
{
  return TRUE;
}

static void
on_tls_handshake_done (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GcBenchConnection *self;

  /* Cancelled: the connection is being freed; touch nothing. */
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;
  g_clear_object (&self->cancellable);
  if (error != NULL)
    {
      g_prefix_error (&error, "cannot connect to %s: ", self->target->host_header);
      gc_bench_connection_fail (self, g_steal_pointer (&error));
      return;
    }

  if (!gc_bench_loop_add (self->loop, &self->watch, self->fd, EPOLLIN, &error))
    {
      gc_bench_connection_fail (self, g_steal_pointer (&error));
      return;
    }

  gc_bench_connection_queue_upgrade_request (self);
  gc_bench_connection_output_flush (self);
}

/* The TLS connection is made here rather than by GSocketClient, so that
 * its trust store is set at construction: glib-networking 2.74 (GnuTLS)
 * loads the whole system trust store into every connection made with the
 * default database, some 4 MB and 10 ms each, before a later
 * g_tls_connection_set_database() can replace it. */
static void
start_tls_handshake (GcBenchConnection *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnectable) identity = NULL;
  GSocket *socket = g_socket_connection_get_socket (self->tcp);
  GTlsBackend *backend = g_tls_backend_get_default ();

  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  self->fd = g_socket_get_fd (socket);

  identity = g_network_address_new (self->target->host, self->target->port);
  if (self->target->insecure || self->target->tls_database != NULL)
    self->tls_stream = g_initable_new (g_tls_backend_get_client_connection_type (backend),
                                       NULL, &error,
                                       "base-io-stream", self->tcp,
                                       "server-identity", identity,
                                       "database", self->target->tls_database,
                                       NULL);
  else
    self->tls_stream = g_tls_client_connection_new (G_IO_STREAM (self->tcp), identity, &error);
  if (self->tls_stream == NULL)
    {
      gc_bench_connection_fail (self, g_steal_pointer (&error));
      return;
    }
  if (self->target->insecure)
    g_signal_connect (self->tls_stream, "accept-certificate",
                      G_CALLBACK (accept_any_certificate), NULL);

  self->cancellable = g_cancellable_new ();
  g_tls_connection_handshake_async (G_TLS_CONNECTION (self->tls_stream), G_PRIORITY_DEFAULT,
                                    self->cancellable, on_tls_handshake_done, self);
}

static void
on_tcp_connected (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) tcp = NULL;
  GcBenchConnection *self;

  tcp = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;
  g_clear_object (&self->cancellable);
  if (tcp == NULL)
    {
      g_prefix_error (&error, "cannot connect to %s: ", self->target->host_header);
      gc_bench_connection_fail (self, g_steal_pointer (&error));
      return;
    }

  self->tcp = g_steal_pointer (&tcp);
  start_tls_handshake (self);
}

void
gc_bench_connection_start_tls (GcBenchConnection *self)
{
  self->state = STATE_CONNECTING;
  self->cancellable = g_cancellable_new ();
  g_socket_client_connect_to_host_async (self->target->tls_client, self->target->host_header,
                                         self->target->port, self->cancellable,
                                         on_tcp_connected, self);
}
