/* gc-session-text.c: what a room session says to a person: transcript lines and join failures
 *
 * Pure functions: the session and its link decide what happened; these
 * put it in words (and error codes the join dialog acts on).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <gio/gio.h>

#include "gc-chat-session.h"
#include "gc-session-text.h"
#include "gc-ws-handshake.h"

char *
gc_session_text_leave_line (GcLeaveReason  reason,
                            const char    *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  switch (reason)
    {
    case GC_LEAVE_REASON_LEFT:
      return g_strdup_printf (_("%s left"), name);
    case GC_LEAVE_REASON_TIMEOUT:
      return g_strdup_printf (_("%s lost the connection"), name);
    case GC_LEAVE_REASON_SLOW:
      return g_strdup_printf (_("%s was disconnected (could not keep up)"), name);
    case GC_LEAVE_REASON_FLOOD:
      return g_strdup_printf (_("%s was disconnected (sent too much too fast)"), name);
    case GC_LEAVE_REASON_ERROR:
    default:
      return g_strdup_printf (_("%s was disconnected (protocol error)"), name);
    }
}

GError *
gc_session_text_connect_error (const char   *server_url,
                               const GError *error)
{
  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain == G_TLS_ERROR)
    return g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_TLS,
                        _("The secure connection to %s failed: %s"),
                        server_url, error->message);
  if (error->domain == GC_WS_HANDSHAKE_ERROR)
    return g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_NOT_GOCHAT,
                        _("The server at %s is not a GoChat server: %s"),
                        server_url, error->message);
  return g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_UNREACHABLE,
                      _("Could not reach the server at %s: %s"),
                      server_url, error->message);
}

GError *
gc_session_text_refusal_error (const char  *server_url,
                               guint        status,
                               GBytes      *body,
                               char       **name_suggestion,
                               guint64     *retry_after_ms)
{
  g_autoptr(GcRefusal) refusal = NULL;
  const char *message;

  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (name_suggestion != NULL && retry_after_ms != NULL, NULL);

  *name_suggestion = NULL;
  *retry_after_ms = 0;

  if (body != NULL)
    refusal = gc_refusal_parse (g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);
  if (refusal == NULL)
    return g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_NOT_GOCHAT,
                        _("The server at %s answered with HTTP status %u and is not a GoChat server."),
                        server_url, status);

  message = refusal->message;
  if (message == NULL || *message == '\0')
    message = refusal->code != NULL ? refusal->code : _("no reason given");

  if (refusal->error == GC_PROTOCOL_ERROR_NAME_TAKEN)
    *name_suggestion = gc_protocol_normalize_user_name (refusal->suggestion, NULL);
  if (refusal->error == GC_PROTOCOL_ERROR_RATE_LIMITED)
    *retry_after_ms = refusal->retry_after_ms;

  return g_error_new (GC_PROTOCOL_ERROR, refusal->error, "%s", message);
}

char *
gc_session_text_restarting_banner (guint retry_seconds)
{
  if (retry_seconds == 0)
    return g_strdup (_("The server is restarting — reconnecting…"));
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "The server is restarting — reconnecting in %u s",
                                       "The server is restarting — reconnecting in %u s",
                                       retry_seconds),
                          retry_seconds);
}

char *
gc_session_text_name_problem (GcProtocolNameProblem problem,
                              gunichar              character)
{
  switch (problem)
    {
    case GC_PROTOCOL_NAME_NOT_UTF8:
      return g_strdup (_("A name must be valid UTF-8 text."));
    case GC_PROTOCOL_NAME_CONTROL:
      return g_strdup_printf (_("A name cannot contain control characters (U+%04X)."), character);
    case GC_PROTOCOL_NAME_INVISIBLE:
      return g_strdup_printf (_("A name cannot contain invisible formatting characters (U+%04X)."),
                              character);
    case GC_PROTOCOL_NAME_MIXED_SCRIPTS:
      return g_strdup_printf (_("A name cannot mix letters of different scripts (U+%04X)."), character);
    case GC_PROTOCOL_NAME_TOO_LONG:
      return g_strdup_printf (_("A name has at most %d characters."), GC_PROTOCOL_MAX_USER_NAME_LENGTH);
    case GC_PROTOCOL_NAME_MISSING:
    case GC_PROTOCOL_NAME_EMPTY:
    case GC_PROTOCOL_NAME_OK:
    default:
      return g_strdup (_("Enter the name others will see."));
    }
}
