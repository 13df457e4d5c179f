/* gc-bench-target.h: where a run's connections go (URL, address, TLS trust)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/**
 * GcBenchTarget:
 * @host: the URL's host (for Host, SNI and certificate checks)
 * @port: the TCP port
 * @tls: wss://
 * @base_path: the URL's path without a trailing slash ("" for none)
 *
 * Where the connections go; shared by all of them. Other fields are
 * private.
 */
typedef struct {
  char                    *host;
  guint16                  port;
  gboolean                 tls;
  char                    *base_path;

  /*< private >*/
  char                    *host_header;
  struct sockaddr_storage *address;
  gsize                    address_len;
  GSocketClient           *tls_client;
  GTlsDatabase            *tls_database;
  gboolean                 insecure;
} GcBenchTarget;

/* Parses a ws:// or wss:// URL and, for ws://, resolves its host once.
 * @tls_ca_file: (nullable): PEM file of CAs to trust instead of the
 * system's; @insecure accepts any certificate. */
GcBenchTarget *gc_bench_target_new  (const char     *url,
                                     const char     *tls_ca_file,
                                     gboolean        insecure,
                                     GError        **error);
void           gc_bench_target_free (GcBenchTarget  *target);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBenchTarget, gc_bench_target_free)

G_END_DECLS
