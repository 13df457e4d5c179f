/* gc-peer.c: what admission remembers about one client address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "gc-peer-private.h"

/* An address's stall count halves this often. */
#define TLS_STALLS_HALF_LIFE_S 10.0

/* IPv4-mapped IPv6 addresses (dual-stack sockets) as plain IPv4. */
GInetAddress *
gc_inet_address_unmap (GInetAddress *address)
{
  const guint8 *bytes = g_inet_address_to_bytes (address);
  static const guint8 mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 &&
      memcmp (bytes, mapped_prefix, sizeof mapped_prefix) == 0)
    return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);

  return g_object_ref (address);
}

/* One IPv6 host usually owns a whole /64, so that is what we limit. */
char *
gc_peer_key_for (GInetAddress *address)
{
  const guint8 *b = g_inet_address_to_bytes (address);

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
    return g_inet_address_to_string (address);

  return g_strdup_printf ("%x:%x:%x:%x::/64",
                          b[0] << 8 | b[1], b[2] << 8 | b[3],
                          b[4] << 8 | b[5], b[6] << 8 | b[7]);
}

GcPeer *
gc_peer_new (char  *key,
             double join_burst)
{
  GcPeer *peer = g_new0 (GcPeer, 1);

  peer->key = key;
  gc_token_bucket_init (&peer->joins, join_burst, g_get_monotonic_time ());

  return peer;
}

void
gc_peer_free (GcPeer *peer)
{
  g_assert (peer->handshakes.length == 0);
  g_free (peer->key);
  g_free (peer);
}

/* The stalls of @peer's TLS handshakes, decayed to @now. */
double
gc_peer_get_tls_stalls (GcPeer *peer,
                        gint64  now)
{
  if (peer->tls_stalls > 0 && now > peer->tls_stalls_us)
    {
      double seconds = (double) (now - peer->tls_stalls_us) / G_USEC_PER_SEC;

      peer->tls_stalls *= exp2 (-seconds / TLS_STALLS_HALF_LIFE_S);
      if (peer->tls_stalls < 0.01)
        peer->tls_stalls = 0;
    }
  peer->tls_stalls_us = now;

  return peer->tls_stalls;
}

/* Whether @a ranks before @b for a TLS place: fewer running, fewer
 * (whole) stalls lately, fewer handshakes in progress. */
int
gc_peer_compare_tls (GcPeer *a,
                     GcPeer *b,
                     gint64  now)
{
  guint stalls_a = (guint) gc_peer_get_tls_stalls (a, now);
  guint stalls_b = (guint) gc_peer_get_tls_stalls (b, now);

  if (a->n_tls_running != b->n_tls_running)
    return a->n_tls_running < b->n_tls_running ? -1 : 1;
  if (stalls_a != stalls_b)
    return stalls_a < stalls_b ? -1 : 1;
  if (a->handshakes.length != b->handshakes.length)
    return a->handshakes.length < b->handshakes.length ? -1 : 1;
  return 0;
}
