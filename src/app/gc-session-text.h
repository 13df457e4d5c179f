/* gc-session-text.h: what a room session says to a person: transcript lines and join failures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "gc-protocol.h"

G_BEGIN_DECLS

/* The transcript's line for @name leaving for @reason ("bob left"). */
char   *gc_session_text_leave_line    (GcLeaveReason  reason,
                                       const char    *name);

/* A connection to @server_url that failed before any HTTP answer (TLS,
 * not a WebSocket server, unreachable), as a GC_CHAT_SESSION_ERROR. */
GError *gc_session_text_connect_error (const char    *server_url,
                                       const GError  *error);

/* A refused join: the JSON body of an HTTP refusal with @status
 * (docs/protocol.md §3.6), as a GC_PROTOCOL_ERROR with the server's
 * message; a body that is no refusal means no GoChat server. Sets
 * @name_suggestion (transfer full, normalized; %NULL if none) for a name
 * taken, and @retry_after_ms for rate limiting (else 0). */
GError *gc_session_text_refusal_error (const char    *server_url,
                                       guint          status,
                                       GBytes        *body,
                                       char         **name_suggestion,
                                       guint64       *retry_after_ms);

/* Why a name is refused (gc_protocol_check_user_name()'s @problem and
 * @character), in the user's language: the join dialog's hint and
 * /nick's error say the same. */
char   *gc_session_text_name_problem  (GcProtocolNameProblem  problem,
                                       gunichar               character);

/* The room's banner while the server restarts (it closed with 1001,
 * §6.6) and we wait @retry_seconds to try again (0: trying now). */
char   *gc_session_text_restarting_banner (guint retry_seconds);

G_END_DECLS
