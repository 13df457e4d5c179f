/* gc-invite-link.h: gochat://HOST:PORT/ROOM invite links, read and written
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "gc-app-enums.h"

G_BEGIN_DECLS

#define GC_INVITE_LINK_SCHEME "gochat"
/* The port a link without one means: the protocol's default. */
#define GC_INVITE_LINK_DEFAULT_PORT 8081

#define GC_INVITE_LINK_ERROR (gc_invite_link_error_quark ())
GQuark gc_invite_link_error_quark (void);

/**
 * GcInviteLinkError:
 * @GC_INVITE_LINK_ERROR_INVALID: not a gochat:// link, or not a valid URI
 * @GC_INVITE_LINK_ERROR_NO_HOST: the link names no server
 * @GC_INVITE_LINK_ERROR_BAD_PORT: the port is 0 or not a number below 65536
 * @GC_INVITE_LINK_ERROR_NO_ROOM: the link names no room
 * @GC_INVITE_LINK_ERROR_BAD_ROOM: the room code breaks the protocol's rules
 */
typedef enum {
  GC_INVITE_LINK_ERROR_INVALID,
  GC_INVITE_LINK_ERROR_NO_HOST,
  GC_INVITE_LINK_ERROR_BAD_PORT,
  GC_INVITE_LINK_ERROR_NO_ROOM,
  GC_INVITE_LINK_ERROR_BAD_ROOM,
} GcInviteLinkError;

/**
 * gc_invite_link_parse:
 * @link: e.g. `gochat://chat.example.org:8081/blue-otter-42`,
 *   `gochat://[fd00::2]/team`; without a port it is 8081; `?tls=1` means
 *   the server speaks wss://; path segments before the room are the
 *   server's path
 * @server_url: (out) (optional): the server as
 *   gc_chat_session_normalize_server_url() gives it, e.g.
 *   `ws://chat.example.org:8081`
 * @room: (out) (optional): the canonical room code
 *
 * Returns: whether @link is a usable invite; otherwise @error says what is
 *   wrong with it
 */
gboolean gc_invite_link_parse (const char  *link,
                               char       **server_url,
                               char       **room,
                               GError     **error);

/**
 * gc_invite_link_build:
 * @server_url: a ws:// or wss:// address as
 *   gc_chat_session_normalize_server_url() gives it
 * @room: a valid room code
 *
 * Returns: (transfer full) (nullable): the invite link, with the port
 *   always written out; %NULL if @server_url is not a server address
 */
char    *gc_invite_link_build (const char  *server_url,
                               const char  *room);

/**
 * gc_invite_link_is_local_only:
 * @server_url: a ws:// or wss:// address
 *
 * Whether a link to @server_url works only on this computer: its host is
 * loopback ("localhost" or a name under .localhost, 127.0.0.0/8, ::1).
 *
 * Returns: %TRUE if nobody on another computer can reach the server
 */
gboolean gc_invite_link_is_local_only (const char *server_url);

G_END_DECLS
