/* gc-local-host.h: hosting rooms on this computer: the bundled server in the app's main loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-chat-session.h"
#include "gc-server.h"

G_BEGIN_DECLS

/* The protocol's default port; when it is taken the next free one of the
 * following few is used. */
#define GC_LOCAL_HOST_DEFAULT_PORT 8081
#define GC_LOCAL_HOST_PORT_ATTEMPTS 20

#define GC_TYPE_LOCAL_HOST (gc_local_host_get_type ())
G_DECLARE_FINAL_TYPE (GcLocalHost, gc_local_host, GC, LOCAL_HOST, GObject)

GcLocalHost  *gc_local_host_new             (void);

/**
 * gc_local_host_start:
 * @port: the first port to try on every interface; 0 lets the system pick
 *
 * Starts the server on @port or, if that is taken, the next free port of
 * the following %GC_LOCAL_HOST_PORT_ATTEMPTS - 1.
 */
gboolean      gc_local_host_start           (GcLocalHost    *self,
                                             guint16         port,
                                             GError        **error);
guint16       gc_local_host_get_port        (GcLocalHost    *self);
GcServer     *gc_local_host_get_server      (GcLocalHost    *self);
/* Whether it runs and takes new rooms (not yet stopping). */
gboolean      gc_local_host_get_running     (GcLocalHost    *self);

/* The address this app's own sessions join at (loopback). */
const char   *gc_local_host_get_local_url   (GcLocalHost    *self);

/* The addresses others on the network can join at, best first (the
 * interface of the default route), e.g. ws://192.168.1.20:8081. Never
 * empty: without a network it is the loopback address alone. */
const char * const *gc_local_host_get_lan_urls (GcLocalHost *self);

/* Adds one of the app's sessions in a hosted room. When the last of them
 * has left, the host stops: everyone else gets close 1001 (the app is
 * held until the closing handshakes are done) and "stopped" is emitted. */
void          gc_local_host_add_session     (GcLocalHost    *self,
                                             GcChatSession  *session);
gboolean      gc_local_host_has_session     (GcLocalHost    *self,
                                             GcChatSession  *session);

/* People in hosted rooms other than this app's own sessions: whom
 * stopping would cut off. */
guint         gc_local_host_count_others    (GcLocalHost    *self);

/**
 * gc_local_host_list_lan_addresses:
 *
 * The addresses of this computer's network interfaces that others can
 * reach: no loopback, link-local or multicast; the one the default route
 * uses first, then IPv4 before IPv6.
 *
 * Returns: (transfer full) (element-type GInetAddress): the addresses
 */
GPtrArray    *gc_local_host_list_lan_addresses (void);

G_END_DECLS
