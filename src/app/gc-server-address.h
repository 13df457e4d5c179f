/* gc-server-address.h: a server address as people type it, checked and in one form
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Checks a server address as the join dialog takes it: ws:// or wss://
 * with a host ("localhost:8081" means ws://), no query, fragment or user.
 * Returns it with a lower-case scheme and host and without trailing
 * slashes, or %NULL with @error (%GC_CHAT_SESSION_ERROR_INVALID_URL) in
 * words fit for the dialog. */
char *gc_server_address_normalize (const char  *url,
                                   GError     **error);

G_END_DECLS
