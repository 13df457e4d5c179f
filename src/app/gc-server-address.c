/* gc-server-address.c: a server address as people type it, checked and in one form
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <string.h>

#include "gc-chat-session.h"
#include "gc-server-address.h"

/* An IP address, or a name of letters, digits, '-', '_' and '.' (GUri
 * has already written international names in their xn-- form). */
static gboolean
host_name_is_valid (const char *host)
{
  if (g_hostname_is_ip_address (host))
    return TRUE;

  for (const char *p = host; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
        return FALSE;
    }
  return TRUE;
}

char *
gc_server_address_normalize (const char  *url,
                             GError     **error)
{
  g_autofree char *trimmed = NULL;
  g_autofree char *with_scheme = NULL;
  g_autoptr(GError) parse_error = NULL;
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
  if (g_ascii_strncasecmp (with_scheme, "ws://", 5) != 0 &&
      g_ascii_strncasecmp (with_scheme, "wss://", 6) != 0)
    {
      g_set_error_literal (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                           _("The address must start with ws:// or wss://"));
      return NULL;
    }

  /* Past the scheme, say what is wrong rather than blame the scheme. */
  uri = g_uri_parse (with_scheme, G_URI_FLAGS_ENCODED, &parse_error);
  if (g_error_matches (parse_error, G_URI_ERROR, G_URI_ERROR_BAD_PORT) ||
      (uri != NULL && g_uri_get_port (uri) == 0))
    {
      g_set_error_literal (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                           _("The port must be a number from 1 to 65535"));
      return NULL;
    }
  if (g_error_matches (parse_error, G_URI_ERROR, G_URI_ERROR_BAD_HOST))
    {
      const char *authority = strstr (with_scheme, "://") + 3;
      g_autofree char *typed = g_strndup (authority, strcspn (authority, "/?#"));

      g_set_error (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                   _("“%s” is not a valid host name"), typed);
      return NULL;
    }
  if (uri == NULL)
    {
      g_set_error_literal (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                           _("The address must be just the server, like wss://chat.example.org"));
      return NULL;
    }
  scheme = g_uri_get_scheme (uri);
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

  /* GUri takes "not a server" as a host: refuse it here rather than look
   * a typo up in DNS and then offer to host the room. */
  if (!host_name_is_valid (g_uri_get_host (uri)))
    {
      g_set_error (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                   _("“%s” is not a valid host name"), g_uri_get_host (uri));
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
