/* gc-local-host.c: hosting rooms on this computer: the bundled server in the app's main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-local-host.h"

#include <glib/gi18n-lib.h>

#ifdef G_OS_UNIX
# include <sys/types.h>
# include <sys/socket.h>
# include <ifaddrs.h>
# include <net/if.h>
# include <netinet/in.h>
#endif

struct _GcLocalHost
{
  GObject       parent_instance;

  GcServer     *server;
  gboolean      running;
  guint16       port;
  char         *local_url;
  GStrv         lan_urls;
  GPtrArray    *sessions;     /* GcChatSession, the app's own */
  GApplication *held_app;     /* held while the server shuts down */
};

G_DEFINE_FINAL_TYPE (GcLocalHost, gc_local_host, G_TYPE_OBJECT)

enum {
  STOPPED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------ */
/* Addresses                                                            */
/* ------------------------------------------------------------------ */

static gboolean
is_reachable_by_others (GInetAddress *address)
{
  return !g_inet_address_get_is_loopback (address) &&
         !g_inet_address_get_is_link_local (address) &&
         !g_inet_address_get_is_any (address) &&
         !g_inet_address_get_is_multicast (address);
}

static void
add_unique (GPtrArray    *addresses,
            GInetAddress *address)
{
  if (address == NULL || !is_reachable_by_others (address))
    return;
  for (guint i = 0; i < addresses->len; i++)
    if (g_inet_address_equal (g_ptr_array_index (addresses, i), address))
      return;
  g_ptr_array_add (addresses, g_object_ref (address));
}

/* The local address the default route would use. Connecting a UDP
 * socket sends nothing: it only asks the routing table, the same way on
 * every system (this is all there is on Windows). */
static GInetAddress *
default_route_address (GSocketFamily family)
{
  g_autoptr(GSocket) socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM,
                                            G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr(GInetAddress) remote = NULL;
  g_autoptr(GSocketAddress) remote_address = NULL;
  g_autoptr(GSocketAddress) local_address = NULL;

  if (socket == NULL)
    return NULL;

  /* Documentation addresses (RFC 5737, RFC 3849): routed like any
   * other, and never contacted. */
  remote = g_inet_address_new_from_string (family == G_SOCKET_FAMILY_IPV4 ? "192.0.2.1"
                                                                          : "2001:db8::1");
  remote_address = g_inet_socket_address_new (remote, 9);
  if (!g_socket_connect (socket, remote_address, NULL, NULL))
    return NULL;

  local_address = g_socket_get_local_address (socket, NULL);
  if (local_address == NULL || !G_IS_INET_SOCKET_ADDRESS (local_address))
    return NULL;
  return g_object_ref (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local_address)));
}

#ifdef G_OS_UNIX
/* Every interface's addresses of @family (getifaddrs: Linux, the BSDs,
 * macOS). */
static void
add_interface_addresses (GPtrArray *addresses,
                         int        family)
{
  struct ifaddrs *list = NULL;

  if (getifaddrs (&list) != 0)
    return;

  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      g_autoptr(GSocketAddress) socket_address = NULL;
      gsize len;

      if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != family ||
          !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
        continue;

      len = family == AF_INET ? sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6);
      socket_address = g_socket_address_new_from_native (ifa->ifa_addr, len);
      if (socket_address != NULL && G_IS_INET_SOCKET_ADDRESS (socket_address))
        add_unique (addresses,
                    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (socket_address)));
    }

  freeifaddrs (list);
}
#endif

GPtrArray *
gc_local_host_list_lan_addresses (void)
{
  GPtrArray *addresses = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GInetAddress) primary4 = default_route_address (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GInetAddress) primary6 = default_route_address (G_SOCKET_FAMILY_IPV6);

  add_unique (addresses, primary4);
  add_unique (addresses, primary6);
#ifdef G_OS_UNIX
  add_interface_addresses (addresses, AF_INET);
  add_interface_addresses (addresses, AF_INET6);
#endif

  return addresses;
}

static char *
server_url (GInetAddress *address,
            guint16       port)
{
  g_autofree char *host = g_inet_address_to_string (address);
  g_autoptr(GUri) uri = g_uri_build (G_URI_FLAGS_NONE, "ws", NULL, host, port, "", NULL, NULL);

  return g_uri_to_string (uri);
}

/* ------------------------------------------------------------------ */
/* Stopping                                                             */
/* ------------------------------------------------------------------ */

static void
shutdown_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GcLocalHost) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!gc_server_shutdown_finish (GC_SERVER (source), result, &error))
    g_warning ("Stopping the hosted rooms: %s", error->message);

  g_signal_emit (self, signals[STOPPED], 0);

  if (self->held_app != NULL)
    {
      g_application_release (self->held_app);
      g_clear_object (&self->held_app);
    }
}

static void
stop (GcLocalHost *self)
{
  if (!self->running)
    return;

  self->running = FALSE;
  /* The app may be quitting: keep it until everyone got close 1001. */
  self->held_app = g_application_get_default ();
  if (self->held_app != NULL)
    {
      g_object_ref (self->held_app);
      g_application_hold (self->held_app);
    }
  gc_server_shutdown_async (self->server, NULL, shutdown_cb, g_object_ref (self));
}

static void
session_state_cb (GcChatSession *session,
                  GParamSpec    *pspec,
                  GcLocalHost   *self)
{
  if (gc_chat_session_get_state (session) != GC_CHAT_SESSION_STATE_CLOSED)
    return;

  g_signal_handlers_disconnect_by_data (session, self);
  g_ptr_array_remove (self->sessions, session);
  if (self->sessions->len == 0)
    stop (self);
}

/* ------------------------------------------------------------------ */
/* GObject                                                              */
/* ------------------------------------------------------------------ */

static void
gc_local_host_dispose (GObject *object)
{
  GcLocalHost *self = GC_LOCAL_HOST (object);

  for (guint i = 0; i < self->sessions->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->sessions, i), self);
  g_ptr_array_set_size (self->sessions, 0);
  g_clear_object (&self->server);

  G_OBJECT_CLASS (gc_local_host_parent_class)->dispose (object);
}

static void
gc_local_host_finalize (GObject *object)
{
  GcLocalHost *self = GC_LOCAL_HOST (object);

  g_ptr_array_unref (self->sessions);
  g_free (self->local_url);
  g_strfreev (self->lan_urls);

  G_OBJECT_CLASS (gc_local_host_parent_class)->finalize (object);
}

static void
gc_local_host_class_init (GcLocalHostClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_local_host_dispose;
  object_class->finalize = gc_local_host_finalize;

  /**
   * GcLocalHost::stopped:
   *
   * The last own session left and the server has shut down.
   */
  signals[STOPPED] =
    g_signal_new ("stopped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
gc_local_host_init (GcLocalHost *self)
{
  self->sessions = g_ptr_array_new_with_free_func (g_object_unref);
}

/* ------------------------------------------------------------------ */
/* Public API                                                           */
/* ------------------------------------------------------------------ */

GcLocalHost *
gc_local_host_new (void)
{
  return g_object_new (GC_TYPE_LOCAL_HOST, NULL);
}

gboolean
gc_local_host_start (GcLocalHost  *self,
                     guint16       port,
                     GError      **error)
{
  g_autoptr(GcServer) server = NULL;
  g_autoptr(GPtrArray) addresses = NULL;
  g_autoptr(GStrvBuilder) urls = NULL;
  g_autoptr(GError) listen_error = NULL;
  GcServerConfig config;
  guint attempts;

  g_return_val_if_fail (GC_IS_LOCAL_HOST (self), FALSE);
  g_return_val_if_fail (self->server == NULL, FALSE);

  gc_server_config_init_default (&config);
  /* Guests are told "host stopped hosting" when we stop. */
  config.hosted = TRUE;
  server = gc_server_new (&config);
  attempts = port == 0 ? 1 : MIN (GC_LOCAL_HOST_PORT_ATTEMPTS, G_MAXUINT16 - port + 1u);
  for (guint i = 0; i < attempts; i++)
    {
      g_clear_error (&listen_error);
      if (gc_server_listen (server, NULL, (guint16) (port + i), &listen_error))
        break;
      if (!g_error_matches (listen_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        break;
    }
  if (listen_error != NULL)
    {
      if (g_error_matches (listen_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                     _("Could not host rooms on this computer: ports %u to %u are all in use."),
                     port, port + attempts - 1);
      else
        g_set_error (error, listen_error->domain, listen_error->code,
                     _("Could not host rooms on this computer: %s"), listen_error->message);
      return FALSE;
    }

  self->server = g_steal_pointer (&server);
  self->port = gc_server_get_port (self->server);
  self->running = TRUE;
  self->local_url = g_strdup_printf ("ws://127.0.0.1:%u", self->port);

  urls = g_strv_builder_new ();
  addresses = gc_local_host_list_lan_addresses ();
  for (guint i = 0; i < addresses->len; i++)
    {
      g_autofree char *url = server_url (g_ptr_array_index (addresses, i), self->port);

      g_strv_builder_add (urls, url);
    }
  if (addresses->len == 0)
    g_strv_builder_add (urls, self->local_url);
  self->lan_urls = g_strv_builder_end (urls);

  return TRUE;
}

guint16
gc_local_host_get_port (GcLocalHost *self)
{
  g_return_val_if_fail (GC_IS_LOCAL_HOST (self), 0);
  return self->port;
}

GcServer *
gc_local_host_get_server (GcLocalHost *self)
{
  g_return_val_if_fail (GC_IS_LOCAL_HOST (self), NULL);
  return self->server;
}

gboolean
gc_local_host_get_running (GcLocalHost *self)
{
  g_return_val_if_fail (GC_IS_LOCAL_HOST (self), FALSE);
  return self->running;
}

const char *
gc_local_host_get_local_url (GcLocalHost *self)
{
  g_return_val_if_fail (GC_IS_LOCAL_HOST (self), NULL);
  return self->local_url;
}

const char * const *
gc_local_host_get_lan_urls (GcLocalHost *self)
{
  g_return_val_if_fail (GC_IS_LOCAL_HOST (self), NULL);
  return (const char * const *) self->lan_urls;
}

void
gc_local_host_add_session (GcLocalHost   *self,
                           GcChatSession *session)
{
  g_return_if_fail (GC_IS_LOCAL_HOST (self));
  g_return_if_fail (GC_IS_CHAT_SESSION (session));
  g_return_if_fail (self->running);

  if (gc_local_host_has_session (self, session))
    return;
  g_ptr_array_add (self->sessions, g_object_ref (session));
  g_signal_connect (session, "notify::state", G_CALLBACK (session_state_cb), self);
}

gboolean
gc_local_host_has_session (GcLocalHost   *self,
                           GcChatSession *session)
{
  g_return_val_if_fail (GC_IS_LOCAL_HOST (self), FALSE);
  return g_ptr_array_find (self->sessions, session, NULL);
}

guint
gc_local_host_count_others (GcLocalHost *self)
{
  guint members, own = 0;

  g_return_val_if_fail (GC_IS_LOCAL_HOST (self), 0);

  if (!self->running)
    return 0;

  members = gc_server_get_n_members (self->server);
  for (guint i = 0; i < self->sessions->len; i++)
    {
      GcChatSessionState state = gc_chat_session_get_state (g_ptr_array_index (self->sessions, i));

      /* A member of its room (or waiting there to resume). */
      if (state == GC_CHAT_SESSION_STATE_CONNECTED || state == GC_CHAT_SESSION_STATE_WAITING ||
          state == GC_CHAT_SESSION_STATE_RECONNECTING)
        own++;
    }
  return members > own ? members - own : 0;
}
