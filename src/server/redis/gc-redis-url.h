/* gc-redis-url.h: where a Redis server is, from a --redis URL
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  GC_REDIS_ADDRESS_TCP,
  GC_REDIS_ADDRESS_UNIX,
} GcRedisAddressKind;

/* redis://HOST[:PORT][/] (port 6379 by default; HOST a name, an IPv4
 * address or a bracketed IPv6 one) or unix:///ABSOLUTE/PATH. */
typedef struct {
  GcRedisAddressKind kind;
  char *host;   /* TCP: as written, without brackets */
  guint16 port; /* TCP */
  char *path;   /* UNIX */
} GcRedisAddress;

GcRedisAddress *gc_redis_address_parse (const char *url,
                                        GError    **error);
GcRedisAddress *gc_redis_address_copy  (const GcRedisAddress *address);
void            gc_redis_address_free  (GcRedisAddress *address);
/* For logs: the URL again, normalised. */
char           *gc_redis_address_to_string (const GcRedisAddress *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcRedisAddress, gc_redis_address_free)

G_END_DECLS
