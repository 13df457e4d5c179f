/* gc-invite-link.c: gochat://HOST:PORT/ROOM invite links, read and written
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <string.h>

#include <gio/gio.h>

#include "gc-chat-session.h"
#include "gc-invite-link.h"
#include "gc-protocol.h"

G_DEFINE_QUARK (gc-invite-link-error-quark, gc_invite_link_error)

/* Whether the query asks for wss:// (`tls=1`, `tls=true` or `tls=yes`). */
static gboolean
query_wants_tls (const char *query)
{
  g_autoptr(GHashTable) params = NULL;
  const char *value;

  if (query == NULL)
    return FALSE;

  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_CASE_INSENSITIVE, NULL);
  if (params == NULL)
    return FALSE;

  value = g_hash_table_lookup (params, "tls");
  return value != NULL &&
         (g_str_equal (value, "1") || g_ascii_strcasecmp (value, "true") == 0 ||
          g_ascii_strcasecmp (value, "yes") == 0);
}

gboolean
gc_invite_link_parse (const char  *link,
                      char       **server_url,
                      char       **room,
                      GError     **error)
{
  g_autofree char *trimmed = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GUri) server_uri = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *room_code = NULL;
  g_autofree char *built = NULL;
  g_autofree char *url = NULL;
  const char *scheme;
  const char *host;
  const char *room_part;
  char *last_slash;
  gsize len;
  int port;

  g_return_val_if_fail (link != NULL, FALSE);

  trimmed = g_strstrip (g_strdup (link));
  uri = g_uri_parse (trimmed, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL)
    {
      if (g_error_matches (local_error, G_URI_ERROR, G_URI_ERROR_BAD_PORT))
        g_set_error_literal (error, GC_INVITE_LINK_ERROR, GC_INVITE_LINK_ERROR_BAD_PORT,
                             _("The port in the invite link must be a number from 1 to 65535."));
      else
        g_set_error (error, GC_INVITE_LINK_ERROR, GC_INVITE_LINK_ERROR_INVALID,
                     _("“%s” is not an invite link."), trimmed);
      return FALSE;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, GC_INVITE_LINK_SCHEME) != 0)
    {
      g_set_error (error, GC_INVITE_LINK_ERROR, GC_INVITE_LINK_ERROR_INVALID,
                   _("An invite link starts with %s://"), GC_INVITE_LINK_SCHEME);
      return FALSE;
    }

  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0')
    {
      g_set_error_literal (error, GC_INVITE_LINK_ERROR, GC_INVITE_LINK_ERROR_NO_HOST,
                           _("The invite link does not say which server to use."));
      return FALSE;
    }

  port = g_uri_get_port (uri);
  if (port == 0)
    {
      g_set_error_literal (error, GC_INVITE_LINK_ERROR, GC_INVITE_LINK_ERROR_BAD_PORT,
                           _("The port in the invite link must be a number from 1 to 65535."));
      return FALSE;
    }
  if (port < 0)
    port = GC_INVITE_LINK_DEFAULT_PORT;

  /* The room is the last path segment; what comes before it is the
   * server's own path (a server behind a reverse proxy). */
  path = g_strdup (g_uri_get_path (uri));
  len = strlen (path);
  while (len > 0 && path[len - 1] == '/')
    path[--len] = '\0';
  last_slash = strrchr (path, '/');
  room_part = last_slash != NULL ? last_slash + 1 : path;
  if (*room_part == '\0')
    {
      g_set_error_literal (error, GC_INVITE_LINK_ERROR, GC_INVITE_LINK_ERROR_NO_ROOM,
                           _("The invite link does not say which room to join."));
      return FALSE;
    }

  room_code = gc_protocol_canonical_room_code (room_part, NULL);
  if (room_code == NULL)
    {
      g_set_error (error, GC_INVITE_LINK_ERROR, GC_INVITE_LINK_ERROR_BAD_ROOM,
                   _("“%s” is not a room code: a room code has 1 to %d letters A–Z, digits, _ and -."),
                   room_part, GC_PROTOCOL_MAX_ROOM_CODE_LENGTH);
      return FALSE;
    }
  if (last_slash != NULL)
    *last_slash = '\0';
  else
    *path = '\0';

  server_uri = g_uri_build (G_URI_FLAGS_NONE, query_wants_tls (g_uri_get_query (uri)) ? "wss" : "ws",
                            NULL, host, port, path, NULL, NULL);
  built = g_uri_to_string (server_uri);
  url = gc_chat_session_normalize_server_url (built, NULL);
  if (url == NULL)
    {
      g_set_error (error, GC_INVITE_LINK_ERROR, GC_INVITE_LINK_ERROR_NO_HOST,
                   _("“%s” is not a server address."), host);
      return FALSE;
    }

  if (server_url != NULL)
    *server_url = g_steal_pointer (&url);
  if (room != NULL)
    *room = g_steal_pointer (&room_code);
  return TRUE;
}

char *
gc_invite_link_build (const char *server_url,
                      const char *room)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GUri) link = NULL;
  g_autofree char *path = NULL;
  g_autofree char *escaped_room = NULL;
  g_autofree char *link_path = NULL;
  const char *scheme;
  gboolean tls;
  gsize len;
  int port;

  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (room != NULL, NULL);

  uri = g_uri_parse (server_url, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    return NULL;
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "ws") == 0)
    tls = FALSE;
  else if (g_ascii_strcasecmp (scheme, "wss") == 0)
    tls = TRUE;
  else
    return NULL;

  /* ws:// without a port means 80, but a link without one means 8081:
   * always write it out. */
  port = g_uri_get_port (uri);
  if (port < 0)
    port = tls ? 443 : 80;

  path = g_strdup (g_uri_get_path (uri));
  len = strlen (path);
  while (len > 0 && path[len - 1] == '/')
    path[--len] = '\0';
  escaped_room = g_uri_escape_string (room, NULL, FALSE);
  link_path = g_strconcat (path, "/", escaped_room, NULL);

  link = g_uri_build (G_URI_FLAGS_ENCODED, GC_INVITE_LINK_SCHEME, NULL, g_uri_get_host (uri), port,
                      link_path, tls ? "tls=1" : NULL, NULL);
  return g_uri_to_string (link);
}

gboolean
gc_invite_link_is_local_only (const char *server_url)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GInetAddress) address = NULL;
  g_autofree char *host = NULL;

  g_return_val_if_fail (server_url != NULL, FALSE);

  uri = g_uri_parse (server_url, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return FALSE;

  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  /* A trailing dot names the same host. */
  if (g_str_has_suffix (host, "."))
    host[strlen (host) - 1] = '\0';
  /* RFC 6761: localhost and every name under it are loopback. */
  if (g_str_equal (host, "localhost") || g_str_has_suffix (host, ".localhost"))
    return TRUE;

  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}
