/* gc-listener.c: the server's listening sockets and accept loop
 *
 * We accept TCP ourselves (not SoupServer's listener) so that every
 * connection goes through GcAdmission before libsoup sees it, and so that
 * accepting can pause while admission is full: the kernel's backlog then
 * holds the newcomers instead of our fd table.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* accept4() */
#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <unistd.h>

#include <gio/gnetworking.h>

#include "gc-listener-private.h"
#include "gc-server-private.h"

#define ACCEPTS_PER_WAKEUP  64
#define ACCEPT_RETRY_MS     100
#define LISTEN_BACKLOG      1024

/* One listening socket. */
typedef struct {
  GcListener *listener;
  GSocket    *socket;
  GSource    *source;                /* while accepting */
  /* Bound to one address: the local address of all it accepts, so that
   * a join need not ask for it (a getsockname and a GObject). */
  GSocketAddress *local_address;
  guint16     port;
  /* TCP_NODELAY is set on the listening socket; whether the sockets it
   * accepts inherit it (Linux's do) is told by the first one: -1 not
   * known yet, 0 no (or it could not be set: set on each), 1 yes. */
  int         nodelay_inherited;
} GcListenSocket;

struct _GcListener
{
  GObject        parent_instance;

  GMainContext  *context;
  GcAdmission   *admission;
  GPtrArray     *sockets;            /* GcListenSocket */
  guint16        admin_port;         /* 0: /healthz and /metrics on every port */
  gboolean       paused;             /* out of fds, or too many handshakes */
  GSource       *retry;              /* resumes accepting while paused */
};

G_DEFINE_FINAL_TYPE (GcListener, gc_listener, G_TYPE_OBJECT)

static void listener_watch (GcListener *self);

static void
listen_socket_free (GcListenSocket *ls)
{
  gc_clear_source (&ls->source);
  g_socket_close (ls->socket, NULL);
  g_object_unref (ls->socket);
  g_clear_object (&ls->local_address);
  g_free (ls);
}

static void
listener_unwatch (GcListener *self)
{
  for (guint i = 0; i < self->sockets->len; i++)
    {
      GcListenSocket *ls = g_ptr_array_index (self->sockets, i);

      gc_clear_source (&ls->source);
    }
}

void
gc_listener_resume (GcListener *self)
{
  g_return_if_fail (GC_IS_LISTENER (self));

  if (!self->paused)
    return;

  gc_clear_source (&self->retry);
  self->paused = FALSE;
  listener_watch (self);
}

static gboolean
on_retry (gpointer user_data)
{
  GcListener *self = user_data;

  gc_listener_resume (self);

  return G_SOURCE_REMOVE;
}

/* Stops accepting for @delay_ms (or until a handshake finishes); the
 * kernel queues new connections meanwhile. */
static void
listener_pause (GcListener *self,
                guint       delay_ms)
{
  listener_unwatch (self);
  self->paused = TRUE;
  gc_clear_source (&self->retry);
  self->retry = g_timeout_source_new (delay_ms);
  g_source_set_static_name (self->retry, "[gochat] accept retry");
  g_source_set_callback (self->retry, on_retry, self, NULL);
  g_source_attach (self->retry, self->context);
}

/* Accepts one connection from @socket, non-blocking and close-on-exec,
 * with its peer's address: accept4() does in one call what
 * g_socket_accept() and asking the socket for its peer do in four
 * (accept, F_GETFD, F_SETFD, getpeername). %NULL and @error set if none
 * could be. */
static GSocket *
listener_accept (GSocket         *socket,
                 GSocketAddress **out_remote,
                 GError         **error)
{
#ifdef HAVE_ACCEPT4
  struct sockaddr_storage storage;
  socklen_t len = sizeof storage;
  GSocket *accepted;
  int fd;

  do
    fd = accept4 (g_socket_get_fd (socket), (struct sockaddr *) &storage, &len,
                  SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                           g_strerror (saved_errno));
      return NULL;
    }

  accepted = g_socket_new_from_fd (fd, error);
  if (accepted == NULL)
    {
      close (fd);
      return NULL;
    }
  *out_remote = g_socket_address_new_from_native (&storage, len);

  return accepted;
#else
  *out_remote = NULL;

  return g_socket_accept (socket, NULL, error);
#endif
}

static gboolean
on_socket_ready (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  GcListenSocket *ls = user_data;
  GcListener *self = ls->listener;

  for (guint i = 0; i < ACCEPTS_PER_WAKEUP; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) accepted = NULL;
      g_autoptr(GSocketAddress) remote = NULL;
      guint retry_ms = 0;

      /* Too many handshakes: the oldest makes room if it may, else
       * back-pressure until it may. */
      if (!gc_admission_make_room (self->admission, &retry_ms))
        {
          listener_pause (self, retry_ms);
          return G_SOURCE_REMOVE;
        }

      accepted = listener_accept (socket, &remote, &error);
      if (accepted != NULL)
        {
          /* Nagle off: the welcome must not wait for an ACK. */
          if (ls->nodelay_inherited < 0)
            {
              gint nodelay = 0;

              ls->nodelay_inherited = g_socket_get_option (accepted, IPPROTO_TCP, TCP_NODELAY,
                                                           &nodelay, NULL) && nodelay != 0;
            }
          if (!ls->nodelay_inherited)
            g_socket_set_option (accepted, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);

          gc_admission_accept (self->admission, accepted, ls->local_address, ls->port, remote);
          continue;
        }

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
        {
          /* The listening socket stays readable: retry later instead of
           * spinning. */
          gc_server_log_event (G_LOG_LEVEL_WARNING, "accept-failed", NULL, NULL, NULL,
                               error->message);
          listener_pause (self, ACCEPT_RETRY_MS);
          return G_SOURCE_REMOVE;
        }

      /* ECONNABORTED and the like concern that one connection only. */
    }

  return G_SOURCE_CONTINUE;
}

static void
listener_watch (GcListener *self)
{
  if (self->paused)
    return;

  for (guint i = 0; i < self->sockets->len; i++)
    {
      GcListenSocket *ls = g_ptr_array_index (self->sockets, i);

      if (ls->source != NULL)
        continue;
      ls->source = g_socket_create_source (ls->socket, G_IO_IN, NULL);
      g_source_set_static_name (ls->source, "[gochat] listener");
      g_source_set_callback (ls->source, (GSourceFunc) on_socket_ready, ls, NULL);
      g_source_attach (ls->source, self->context);
    }
}

static GcListenSocket *
listener_add_socket (GcListener    *self,
                     GInetAddress  *address,
                     guint16        port,
                     gboolean       want_dual_stack,
                     gboolean      *out_dual_stack,
                     GError       **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  gboolean nodelay;
  GcListenSocket *ls;

  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;

  if (want_dual_stack)
    *out_dual_stack = g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, FALSE, NULL);

  g_socket_set_blocking (socket, FALSE);
  /* Accepted connections inherit it on Linux (see nodelay_inherited). */
  nodelay = g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  socket_address = g_inet_socket_address_new (address, port);
  if (!g_socket_bind (socket, socket_address, TRUE, error) ||
      !g_socket_listen (socket, error))
    return NULL;

  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return NULL;

  ls = g_new0 (GcListenSocket, 1);
  ls->listener = self;
  ls->socket = g_steal_pointer (&socket);
  ls->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  ls->nodelay_inherited = nodelay ? -1 : 0;
  if (!g_inet_address_get_is_any (address))
    ls->local_address = g_object_ref (bound);
  g_ptr_array_add (self->sockets, ls);
  listener_watch (self);

  return ls;
}

gboolean
gc_listener_listen (GcListener    *self,
                    GInetAddress  *bind_address,
                    guint16        port,
                    GError       **error)
{
  g_autoptr(GInetAddress) any6 = NULL;
  g_autoptr(GInetAddress) any4 = NULL;
  g_autoptr(GError) ipv6_error = NULL;
  GcListenSocket *socket6;
  gboolean dual_stack = FALSE;

  g_return_val_if_fail (GC_IS_LISTENER (self), FALSE);

  if (bind_address != NULL)
    return listener_add_socket (self, bind_address, port, FALSE, NULL, error) != NULL;

  /* All interfaces: one dual-stack IPv6 socket where possible, else
   * IPv6 and IPv4 on the same port, else IPv4 alone. */
  any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
  any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  socket6 = listener_add_socket (self, any6, port, TRUE, &dual_stack, &ipv6_error);
  if (socket6 != NULL && dual_stack)
    return TRUE;

  if (listener_add_socket (self, any4, socket6 != NULL ? socket6->port : port,
                           FALSE, NULL, error) == NULL)
    {
      if (socket6 != NULL)
        g_ptr_array_remove (self->sockets, socket6);
      return FALSE;
    }

  return TRUE;
}

gboolean
gc_listener_listen_admin (GcListener    *self,
                          GInetAddress  *bind_address,
                          guint16        port,
                          GError       **error)
{
  GcListenSocket *ls;

  g_return_val_if_fail (GC_IS_LISTENER (self), FALSE);
  g_return_val_if_fail (self->admin_port == 0, FALSE);
  g_return_val_if_fail (self->sockets->len > 0, FALSE);

  for (guint i = 0; i < self->sockets->len; i++)
    {
      if (port != 0 && ((GcListenSocket *) g_ptr_array_index (self->sockets, i))->port == port)
        {
          /* Requests are told apart by the port they came in on. */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                       "port %u is the public port", port);
          return FALSE;
        }
    }

  ls = listener_add_socket (self, bind_address, port, FALSE, NULL, error);
  if (ls == NULL)
    return FALSE;
  self->admin_port = ls->port;

  return TRUE;
}

guint16
gc_listener_get_admin_port (GcListener *self)
{
  g_return_val_if_fail (GC_IS_LISTENER (self), 0);

  return self->admin_port;
}

guint16
gc_listener_get_port (GcListener *self)
{
  g_return_val_if_fail (GC_IS_LISTENER (self), 0);

  if (self->sockets->len == 0)
    return 0;

  return ((GcListenSocket *) g_ptr_array_index (self->sockets, 0))->port;
}

GPtrArray *
gc_listener_get_addresses (GcListener *self)
{
  GPtrArray *addresses;

  g_return_val_if_fail (GC_IS_LISTENER (self), NULL);

  addresses = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->sockets->len; i++)
    {
      GcListenSocket *ls = g_ptr_array_index (self->sockets, i);
      GSocketAddress *address = g_socket_get_local_address (ls->socket, NULL);

      if (address != NULL)
        g_ptr_array_add (addresses, address);
    }

  return addresses;
}

void
gc_listener_close (GcListener *self)
{
  g_return_if_fail (GC_IS_LISTENER (self));

  gc_clear_source (&self->retry);
  g_ptr_array_set_size (self->sockets, 0);
}

GcListener *
gc_listener_new (GcAdmission *admission)
{
  GcListener *self;

  g_return_val_if_fail (GC_IS_ADMISSION (admission), NULL);

  self = g_object_new (GC_TYPE_LISTENER, NULL);
  self->admission = g_object_ref (admission);

  return self;
}

static void
gc_listener_dispose (GObject *object)
{
  GcListener *self = GC_LISTENER (object);

  gc_listener_close (self);
  g_clear_object (&self->admission);

  G_OBJECT_CLASS (gc_listener_parent_class)->dispose (object);
}

static void
gc_listener_finalize (GObject *object)
{
  GcListener *self = GC_LISTENER (object);

  g_ptr_array_unref (self->sockets);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (gc_listener_parent_class)->finalize (object);
}

static void
gc_listener_class_init (GcListenerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_listener_dispose;
  object_class->finalize = gc_listener_finalize;
}

static void
gc_listener_init (GcListener *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->sockets = g_ptr_array_new_with_free_func ((GDestroyNotify) listen_socket_free);
}
