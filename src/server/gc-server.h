/* gc-server.h: the GoChat protocol v1 server, embeddable in any main loop
 *
 * A GcServer accepts TCP (optionally TLS) connections, answers the HTTP
 * endpoints of docs/protocol.md §3 and §8 (/joinRoom, /healthz, /metrics, JSON 404 and
 * 426) through libsoup, upgrades joins to WebSocket connections from
 * src/ws and hosts the rooms (the hub: canonical room code → GcRoom).
 * Everything runs in the thread-default GMainContext of the thread that
 * called gc_server_new(); the server keeps no global state and never
 * exits the process, so a program may host several.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-room.h"

G_BEGIN_DECLS

/**
 * GcServerConfig:
 * @history: chat messages kept per room for `welcome.history`; 0 turns
 *   history off (default 100). The oldest also go once they total more
 *   than half @max_queued_bytes or 512 KiB, whichever is less, so that a
 *   welcome fits under the slow-reader bound.
 * @resume_seconds: how long a member whose connection dropped without a
 *   close frame stays in its room, waiting for a resume (default 30)
 * @max_queued_bytes: bytes queued for one connection beyond which it is
 *   dropped as a slow reader; 0 = unbounded (default 1 MiB)
 * @rate_burst: per-connection request token bucket size (default 10)
 * @rate_per_second: its refill rate, > 0 (default 5)
 * @join_burst: per-address join token bucket size (default 30)
 * @join_per_second: its refill rate; 0 turns the per-address join limit
 *   off (default 10)
 * @max_connections: open WebSocket connections plus upgrades in progress
 *   beyond which joins get 503 `server_full`; 0 = unbounded (default 1024;
 *   gochat-server derives its default from the file-descriptor limit)
 * @room_max_members: members per room, those waiting for a resume
 *   included, beyond which joins get 403 `room_full` (default 1000)
 * @max_message_bytes: largest WebSocket message; larger closes with 1009
 *   (default 65536)
 * @max_text_bytes: longest chat text in bytes (default 4096)
 * @keepalive_seconds: ping a connection silent this long; 0 = never
 *   (default 25)
 * @idle_timeout_seconds: drop a connection silent this long; 0 = never
 *   (default 60)
 * @allowed_origins: (nullable) (array zero-terminated=1): the `Origin`
 *   values browsers may join from; %NULL or empty = any. Requests without
 *   `Origin` (native clients) are always accepted.
 * @handshake_timeout_seconds: a TCP connection that has not completed its
 *   TLS handshake and HTTP request (upgrade or answer) within this time is
 *   closed (default 10)
 * @max_handshakes: TCP connections accepted but not yet upgraded or
 *   answered; beyond it a new connection closes the oldest one if that
 *   is over a second old, or over 250 ms old with nothing sent, else the
 *   server stops accepting for a moment and lets the kernel queue new
 *   connections (default 1024)
 * @max_handshakes_per_address: handshakes in progress from one address
 *   (an IPv4 address or an IPv6 /64); beyond it a new connection closes
 *   that address's oldest one on the same terms; 0 = unbounded
 *   (default 64)
 * @hosted: the server runs inside the GoChat app for rooms someone hosts
 *   on their computer: its shutdown's close 1001 says "host stopped
 *   hosting" rather than "server shutting down" (§6.6; default %FALSE)
 *
 * Everything a server can be configured with. Initialise with
 * gc_server_config_init_default(), then change fields. gc_server_new()
 * copies it, strings included.
 */
typedef struct {
  guint               history;
  guint               resume_seconds;
  gsize               max_queued_bytes;
  guint               rate_burst;
  double              rate_per_second;
  guint               join_burst;
  double              join_per_second;
  guint               max_connections;
  guint               room_max_members;
  gsize               max_message_bytes;
  gsize               max_text_bytes;
  guint               keepalive_seconds;
  guint               idle_timeout_seconds;
  const char * const *allowed_origins;
  guint               handshake_timeout_seconds;
  guint               max_handshakes;
  guint               max_handshakes_per_address;
  gboolean            hosted;
} GcServerConfig;

void gc_server_config_init_default (GcServerConfig *config);

#define GC_TYPE_SERVER (gc_server_get_type ())
G_DECLARE_FINAL_TYPE (GcServer, gc_server, GC, SERVER, GObject)

/**
 * gc_server_new:
 * @config: (nullable): the configuration (copied); %NULL for the defaults
 *
 * Creates a server that does nothing until gc_server_listen().
 *
 * Returns: (transfer full): the server
 */
GcServer       *gc_server_new                  (const GcServerConfig *config);

/* The configuration in effect (a copy owned by the server). */
const GcServerConfig *gc_server_get_config     (GcServer             *self);

/**
 * gc_server_set_tls_certificate:
 * @certificate: (nullable): certificate with private key; %NULL for plain TCP
 *
 * Connections accepted from now on speak TLS (wss://, https://) with
 * @certificate. Fails with %G_IO_ERROR_NOT_SUPPORTED when no TLS backend
 * (glib-networking) is available.
 */
gboolean        gc_server_set_tls_certificate  (GcServer             *self,
                                                GTlsCertificate      *certificate,
                                                GError              **error);

/**
 * gc_server_listen:
 * @bind_address: (nullable): the interface address; %NULL for all
 *   interfaces (IPv6 and IPv4 where available)
 * @port: the TCP port, or 0 to let the system pick one (see
 *   gc_server_get_port())
 *
 * Starts accepting connections. May be called more than once to listen on
 * several addresses.
 */
gboolean        gc_server_listen               (GcServer             *self,
                                                GInetAddress         *bind_address,
                                                guint16               port,
                                                GError              **error);

/**
 * gc_server_listen_admin:
 * @self: a #GcServer
 * @bind_address: the address for /healthz and /metrics (say 127.0.0.1)
 * @port: its port; 0 picks a free one
 * @error: return location for a #GError
 *
 * Serves /healthz and /metrics on their own socket, and only there: the
 * ports of gc_server_listen() then answer 404 for them, and this one 404
 * for everything else. Call after gc_server_listen(), at most once.
 */
gboolean        gc_server_listen_admin         (GcServer             *self,
                                                GInetAddress         *bind_address,
                                                guint16               port,
                                                GError              **error);
/* The port of gc_server_listen_admin(); 0 if there is none. */
guint16         gc_server_get_admin_port       (GcServer             *self);

/* The port of the first listening socket; 0 if not listening. */
guint16         gc_server_get_port             (GcServer             *self);

/* The local addresses listened on (transfer container: a new array of
 * borrowed GInetSocketAddress). */
GPtrArray      *gc_server_get_listen_addresses (GcServer             *self);

/**
 * gc_server_shutdown_async:
 *
 * Graceful shutdown (docs/protocol.md §6.6): every WebSocket connection gets
 * close 1001, joins get 503 meanwhile, no `leave` is broadcast; the task
 * completes once every closing handshake finished or after at most 2 s
 * (stragglers are then dropped). Afterwards the server has no rooms, no
 * connections and no listening sockets.
 */
void            gc_server_shutdown_async       (GcServer             *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean        gc_server_shutdown_finish      (GcServer             *self,
                                                GAsyncResult         *result,
                                                GError              **error);

/* Counts, as /healthz reports them. */
guint           gc_server_get_n_rooms          (GcServer             *self);
/* Open WebSocket connections (including those in their closing handshake). */
guint           gc_server_get_n_connections    (GcServer             *self);
/* Members of all rooms, those waiting for a resume included. */
guint           gc_server_get_n_members        (GcServer             *self);
/* TCP connections accepted but not yet upgraded or answered. */
guint           gc_server_get_n_handshakes     (GcServer             *self);

/**
 * gc_server_lookup_room:
 * @room_code: a room code in any case
 *
 * Returns: (transfer none) (nullable): the room, while it exists; the
 *   server holds the only strong reference, so a weak reference shows
 *   when the room is disposed
 */
GcRoom         *gc_server_lookup_room          (GcServer             *self,
                                                const char           *room_code);

G_END_DECLS
