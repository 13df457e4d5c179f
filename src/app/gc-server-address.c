/* gc-server-address.c: a server address as people type it, checked and in one form
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <string.h>

#include "gc-chat-session.h"
#include "gc-server-address.h"

char *
gc_server_address_normalize (const char  *url,
                             GError     **error)
{
  g_autofree char *trimmed = NULL;
  g_autofree char *with_scheme = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GUri) clean = NULL;
  g_autofree char *path = NULL;
  g_autofree char *host = NULL;
  const char *scheme;
  gsize len;

  g_return_val_if_fail (url != NULL, NULL);

  trimmed = g_strstrip (g_strdup (url));
  if (*trimmed == '\0')
    {
      g_set_error_literal (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                           _("Enter the server address, like ws://localhost:8081"));
      return NULL;
    }

  /* "localhost:8081" is what people type; a scheme is implied. */
  with_scheme = strstr (trimmed, "://") != NULL ? g_strdup (trimmed)
                                                : g_strconcat ("ws://", trimmed, NULL);
  uri = g_uri_parse (with_scheme, G_URI_FLAGS_ENCODED, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "ws") != 0 && g_ascii_strcasecmp (scheme, "wss") != 0))
    {
      g_set_error_literal (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                           _("The address must start with ws:// or wss://"));
      return NULL;
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error_literal (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                           _("The address has no host name"));
      return NULL;
    }
  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL ||
      g_uri_get_userinfo (uri) != NULL)
    {
      g_set_error_literal (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                           _("The address must be just the server, like wss://chat.example.org"));
      return NULL;
    }

  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  path = g_strdup (g_uri_get_path (uri));
  len = strlen (path);
  while (len > 0 && path[len - 1] == '/')
    path[--len] = '\0';

  clean = g_uri_build (G_URI_FLAGS_ENCODED, g_ascii_strcasecmp (scheme, "wss") == 0 ? "wss" : "ws",
                       NULL, host, g_uri_get_port (uri), path, NULL, NULL);
  return g_uri_to_string (clean);
}
