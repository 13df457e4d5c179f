/* gc-bench-connection-private.h: what the pieces of GcBenchConnection share
 *
 * gc-bench-connection.c holds the connection's life cycle, the upgrade,
 * reading and writing; gc-bench-connection-tls.c how a wss:// connection
 * is made (TCP by GSocketClient, then the TLS handshake).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-bench-connection.h"
#include "gc-ws-frame.h"

G_BEGIN_DECLS

typedef enum {
  STATE_NEW,
  STATE_CONNECTING,     /* TCP connect, or GSocketClient's connect and TLS handshake */
  STATE_UPGRADING,      /* request sent (or being sent), reading the response headers */
  STATE_REFUSED,        /* reading a refusal's body */
  STATE_OPEN,
  STATE_CLOSED,
} ConnectionState;

struct _GcBenchConnection
{
  GcBenchWatch                      watch;       /* first: the loop hands it back */
  GcBenchLoop                      *loop;
  const GcBenchTarget              *target;
  const GcBenchConnectionCallbacks *callbacks;
  gpointer                          user_data;
  char                             *path_and_query;
  char                             *subprotocol;
  ConnectionState                   state;

  int                               fd;          /* plain: ours; TLS: the GSocket's */
  GSocketConnection                *tcp;         /* TLS only: the TCP connection under it */
  GIOStream                        *tls_stream;  /* TLS only */
  GCancellable                     *cancellable; /* the TLS connect in progress */

  char                             *accept_key;  /* the Sec-WebSocket-Accept we expect */
  GByteArray                       *response;    /* until the upgrade is answered */
  gsize                             header_len;
  guint                             http_status;
  char                             *http_reason;
  gsize                             body_len;    /* refusal body to wait for; G_MAXSIZE: until EOF */

  GcWsParser                       *parser;
  guint8                           *out;
  gsize                             out_len;
  gsize                             out_pos;
  gsize                             out_alloc;

  GError                           *error;       /* a failure to report once the read returns */
  gint64                            received_ns;
  gboolean                          in_read;
};
void     gc_bench_connection_fail                  (GcBenchConnection *self,
                                                    GError            *error);
gboolean gc_bench_connection_output_flush          (GcBenchConnection *self);
void     gc_bench_connection_queue_upgrade_request (GcBenchConnection *self);

void     gc_bench_connection_start_tls             (GcBenchConnection *self);

G_END_DECLS
