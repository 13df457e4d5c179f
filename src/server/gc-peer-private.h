/* gc-peer-private.h: what admission remembers about one client address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-token-bucket.h"

G_BEGIN_DECLS

/* What we remember about one client address (an IPv4 address or an IPv6
 * /64): its join bucket and its handshakes in progress. */
typedef struct {
  char          *key;
  GcTokenBucket  joins;
  GQueue         handshakes;      /* GcHandshake, oldest first */
  guint          n_tls_running;
  gint64         tls_evicted_us;  /* when one of its TLS handshakes last was */
  double         tls_stalls;      /* its stalled TLS handshakes, decaying */
  gint64         tls_stalls_us;   /* when tls_stalls was last decayed */
  guint          n_victims;       /* of its handshakes, those weighed to make room */
} GcPeer;

/* Takes @key (see gc_peer_key_for()); a full join bucket. */
GcPeer       *gc_peer_new             (char         *key,
                                       double        join_burst);
void          gc_peer_free            (GcPeer       *peer);
/* The key of @address: itself for IPv4, its /64 for IPv6. */
char         *gc_peer_key_for         (GInetAddress *address);
/* @address, an IPv4-mapped IPv6 address as IPv4 (transfer full). */
GInetAddress *gc_inet_address_unmap   (GInetAddress *address);
/* The stalls of @peer's TLS handshakes, decayed to @now. */
double        gc_peer_get_tls_stalls  (GcPeer       *peer,
                                       gint64        now);
/* <0 if @a ranks before @b for a TLS place (see gc-admission.c). */
int           gc_peer_compare_tls     (GcPeer       *a,
                                       GcPeer       *b,
                                       gint64        now);

G_END_DECLS
