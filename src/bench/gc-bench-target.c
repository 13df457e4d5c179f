/* gc-bench-target.c: where a run's connections go
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "gc-bench-connection.h"
#include "gc-bench-target.h"

static gboolean
target_resolve (GcBenchTarget  *target,
                GError        **error)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
  struct addrinfo *results = NULL;
  char port[8];
  int status;

  g_snprintf (port, sizeof port, "%u", target->port);
  status = getaddrinfo (target->host, port, &hints, &results);
  if (status != 0)
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_URL,
                   "cannot resolve “%s”: %s", target->host, gai_strerror (status));
      return FALSE;
    }

  /* The first address: every connection goes to the same one, so that a
   * run measures one server. */
  target->address = g_memdup2 (results->ai_addr, results->ai_addrlen);
  target->address_len = results->ai_addrlen;
  freeaddrinfo (results);

  return TRUE;
}

GcBenchTarget *
gc_bench_target_new (const char  *url,
                     const char  *tls_ca_file,
                     gboolean     insecure,
                     GError     **error)
{
  g_autoptr(GcBenchTarget) target = g_new0 (GcBenchTarget, 1);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *scheme;
  const char *path;
  gint port;

  g_return_val_if_fail (url != NULL, NULL);

  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_URL,
                   "--url: “%s” is not a URL: %s", url, local_error->message);
      return NULL;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "wss") == 0)
    target->tls = TRUE;
  else if (g_ascii_strcasecmp (scheme, "ws") != 0)
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_URL,
                   "--url: “%s” is not a ws:// or wss:// URL", url);
      return NULL;
    }

  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_URL,
                   "--url: “%s” has no host", url);
      return NULL;
    }
  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_URL,
                   "--url: “%s”: the bench adds the query itself; give only scheme, host, port "
                   "and path", url);
      return NULL;
    }

  target->host = g_strdup (g_uri_get_host (uri));
  port = g_uri_get_port (uri);
  target->port = port > 0 ? port : (target->tls ? 443 : 80);

  path = g_uri_get_path (uri);
  target->base_path = g_strdup (path);
  while (g_str_has_suffix (target->base_path, "/"))
    target->base_path[strlen (target->base_path) - 1] = '\0';

  if (strchr (target->host, ':') != NULL)
    target->host_header = g_strdup_printf ("[%s]:%u", target->host, target->port);
  else
    target->host_header = g_strdup_printf ("%s:%u", target->host, target->port);

  if (!target->tls)
    {
      if (tls_ca_file != NULL || insecure)
        {
          g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_URL,
                       "--tls-ca and --insecure need a wss:// URL");
          return NULL;
        }
      if (!target_resolve (target, error))
        return NULL;
      return g_steal_pointer (&target);
    }

  if (tls_ca_file != NULL)
    {
      /* GTlsFileDatabase wants an absolute path. */
      g_autofree char *absolute = g_canonicalize_filename (tls_ca_file, NULL);

      target->tls_database = g_tls_file_database_new (absolute, &local_error);
      if (target->tls_database == NULL)
        {
          g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_URL,
                       "--tls-ca: %s", local_error->message);
          return NULL;
        }
    }
  target->insecure = insecure;

  /* TCP only: the TLS connections are made here, so that each gets its
   * trust store from the start (see start_tls_handshake()). */
  target->tls_client = g_socket_client_new ();

  return g_steal_pointer (&target);
}

void
gc_bench_target_free (GcBenchTarget *target)
{
  if (target == NULL)
    return;

  g_clear_object (&target->tls_client);
  g_clear_object (&target->tls_database);
  g_free (target->host);
  g_free (target->base_path);
  g_free (target->host_header);
  g_free (target->address);
  g_free (target);
}
