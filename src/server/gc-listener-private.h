/* gc-listener-private.h: the server's listening sockets and accept loop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-admission-private.h"

G_BEGIN_DECLS

/* The listening sockets of a server. Each accepted connection goes to
 * @admission; while admission is full (or the process is out of fds)
 * accepting pauses and the kernel queues new connections. */
#define GC_TYPE_LISTENER (gc_listener_get_type ())
G_DECLARE_FINAL_TYPE (GcListener, gc_listener, GC, LISTENER, GObject)

/* Accepts in the thread-default main context. */
GcListener *gc_listener_new            (GcAdmission   *admission);
/* See gc_server_listen(). */
gboolean    gc_listener_listen         (GcListener    *self,
                                        GInetAddress  *bind_address,
                                        guint16        port,
                                        GError       **error);
/* See gc_server_listen_admin(). */
gboolean    gc_listener_listen_admin   (GcListener    *self,
                                        GInetAddress  *bind_address,
                                        guint16        port,
                                        GError       **error);
/* The port of the first socket; 0 if not listening. */
guint16     gc_listener_get_port       (GcListener    *self);
guint16     gc_listener_get_admin_port (GcListener    *self);
/* transfer container: GInetSocketAddress */
GPtrArray  *gc_listener_get_addresses  (GcListener    *self);
/* A handshake finished: accepting resumes if it was paused. */
void        gc_listener_resume         (GcListener    *self);
/* Closes every listening socket. */
void        gc_listener_close          (GcListener    *self);

G_END_DECLS
