/* gc-test-tls.h: the test certificates, and an HTTP server on loopback
 *
 * tests/tls holds a CA and a server certificate for 127.0.0.1 and
 * localhost (see its README). Clients trust gc_test_tls_ca(); servers
 * present gc_test_tls_certificate().
 *
 * gc_test_soup_server_listen() puts a SoupServer on 127.0.0.1 with a port
 * the system picks (https:// with the test certificate if @tls), for the
 * WebSocket-layer tests, which have no GcServer. GoChat servers are
 * started with gc-test-server.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The path of tests/tls/@name (under G_TEST_SRCDIR). */
char            *gc_test_tls_file           (const char *name);
/* The test CA as a trust store, for clients. */
GTlsDatabase    *gc_test_tls_ca             (void);
/* The server certificate with its key. */
GTlsCertificate *gc_test_tls_certificate    (void);

/* A real ClientHello, the first TLS record glib-networking's client
 * sends, for clients that stall a TLS handshake after it. */
GBytes          *gc_test_tls_client_hello   (void);

/* Listens on 127.0.0.1, port 0; returns the port (asserted non-zero). */
guint16          gc_test_soup_server_listen (SoupServer *server,
                                             gboolean    tls);

G_END_DECLS
