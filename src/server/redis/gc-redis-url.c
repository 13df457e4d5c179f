/* gc-redis-url.c: --redis URLs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-url.h"

#include <string.h>

GcRedisAddress *
gc_redis_address_parse (const char *url,
                        GError    **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GcRedisAddress) address = NULL;
  const char *scheme;
  const char *path;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (url != NULL, NULL);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a URL (redis://HOST:PORT or unix:///PATH): %s",
                   url, local_error->message);
      return NULL;
    }

  /* Neither user nor password: hiredis 0.14 has no AUTH on connect, and a
   * secret on the command line would be visible to every local user. */
  if (g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL ||
      g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s”: a Redis URL has no user, password, query or fragment", url);
      return NULL;
    }

  scheme = g_uri_get_scheme (uri);
  path = g_uri_get_path (uri);
  address = g_new0 (GcRedisAddress, 1);

  if (g_ascii_strcasecmp (scheme, "redis") == 0)
    {
      const char *host = g_uri_get_host (uri);
      int port = g_uri_get_port (uri);

      if (host == NULL || *host == '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "“%s”: no host (redis://HOST:PORT)", url);
          return NULL;
        }
      if (*path != '\0' && strcmp (path, "/") != 0)
        {
          /* Databases other than 0 would need SELECT on every connection;
           * one Redis per deployment keeps it simple. */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "“%s”: a path (database number) is not supported", url);
          return NULL;
        }
      if (port == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "“%s”: port 0", url);
          return NULL;
        }
      address->kind = GC_REDIS_ADDRESS_TCP;
      address->host = g_strdup (host);
      address->port = port < 0 ? 6379 : port;
    }
  else if (g_ascii_strcasecmp (scheme, "unix") == 0)
    {
      const char *host = g_uri_get_host (uri);

      if ((host != NULL && *host != '\0') || path[0] != '/' || path[1] == '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "“%s”: a socket is unix:///ABSOLUTE/PATH", url);
          return NULL;
        }
      address->kind = GC_REDIS_ADDRESS_UNIX;
      address->path = g_uri_unescape_string (path, NULL);
      if (address->path == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "“%s”: the path is not valid", url);
          return NULL;
        }
    }
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s”: the scheme is redis:// or unix://", url);
      return NULL;
    }

  return g_steal_pointer (&address);
}

GcRedisAddress *
gc_redis_address_copy (const GcRedisAddress *address)
{
  GcRedisAddress *copy;

  g_return_val_if_fail (address != NULL, NULL);

  copy = g_new0 (GcRedisAddress, 1);
  copy->kind = address->kind;
  copy->host = g_strdup (address->host);
  copy->port = address->port;
  copy->path = g_strdup (address->path);
  return copy;
}

void
gc_redis_address_free (GcRedisAddress *address)
{
  if (address == NULL)
    return;
  g_free (address->host);
  g_free (address->path);
  g_free (address);
}

char *
gc_redis_address_to_string (const GcRedisAddress *address)
{
  g_return_val_if_fail (address != NULL, NULL);

  if (address->kind == GC_REDIS_ADDRESS_UNIX)
    return g_strconcat ("unix://", address->path, NULL);
  if (strchr (address->host, ':') != NULL)
    return g_strdup_printf ("redis://[%s]:%u", address->host, address->port);
  return g_strdup_printf ("redis://%s:%u", address->host, address->port);
}
