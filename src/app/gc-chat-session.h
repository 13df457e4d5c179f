/* gc-chat-session.h: one client's membership of one room, spoken over protocol v1
 *
 * Owns the WebSocket connection and everything the protocol implies: the
 * join handshake and its refusals, events turned into models (messages and
 * members), own messages from pending to delivered or failed, typing, and
 * after a drop reconnection with backoff and resume. No widgets: the window
 * shows the models, and tests can drive a session on its own.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-room-member.h"
#include "gc-message-item.h"
#include "gc-protocol.h"
#include "gc-app-enums.h"

G_BEGIN_DECLS

/**
 * GcChatSessionState:
 * @GC_CHAT_SESSION_STATE_NEW: not joined yet
 * @GC_CHAT_SESSION_STATE_JOINING: the first join is in progress
 * @GC_CHAT_SESSION_STATE_CONNECTED: in the room
 * @GC_CHAT_SESSION_STATE_WAITING: the connection was lost; the next
 *   attempt starts in #GcChatSession:retry-seconds
 * @GC_CHAT_SESSION_STATE_RECONNECTING: an attempt to get back is running
 * @GC_CHAT_SESSION_STATE_FAILED: the server will not take us back (see
 *   gc_chat_session_get_failure()); gc_chat_session_reconnect_now() tries
 *   anyway
 * @GC_CHAT_SESSION_STATE_CLOSED: left the room, or the first join failed
 * @GC_CHAT_SESSION_STATE_HOST_STOPPED: the room was hosted in someone's
 *   GoChat app and its host stopped hosting it (a clean close 1001 with
 *   reason "host stopped hosting", docs/protocol.md §6.6);
 *   gc_chat_session_get_failure() says so in words. No attempt starts by
 *   itself; gc_chat_session_reconnect_now() tries
 */
typedef enum {
  GC_CHAT_SESSION_STATE_NEW,
  GC_CHAT_SESSION_STATE_JOINING,
  GC_CHAT_SESSION_STATE_CONNECTED,
  GC_CHAT_SESSION_STATE_WAITING,
  GC_CHAT_SESSION_STATE_RECONNECTING,
  GC_CHAT_SESSION_STATE_FAILED,
  GC_CHAT_SESSION_STATE_CLOSED,
  GC_CHAT_SESSION_STATE_HOST_STOPPED,
} GcChatSessionState;

#define GC_CHAT_SESSION_ERROR (gc_chat_session_error_quark ())
GQuark gc_chat_session_error_quark (void);

/**
 * GcChatSessionError:
 * @GC_CHAT_SESSION_ERROR_INVALID_URL: not a ws:// or wss:// address
 * @GC_CHAT_SESSION_ERROR_UNREACHABLE: no connection to the server
 * @GC_CHAT_SESSION_ERROR_TLS: the secure connection failed
 * @GC_CHAT_SESSION_ERROR_TIMED_OUT: the server did not answer in time
 * @GC_CHAT_SESSION_ERROR_NOT_GOCHAT: the server does not speak protocol v1
 * @GC_CHAT_SESSION_ERROR_REPLACED: another connection took over the session
 *
 * Join failures other than refusals. A refusal (an HTTP error with a JSON
 * body, docs/protocol.md §3.6) is reported in the %GC_PROTOCOL_ERROR domain with the code of
 * the body's `error` and the server's `message`.
 */
typedef enum {
  GC_CHAT_SESSION_ERROR_INVALID_URL,
  GC_CHAT_SESSION_ERROR_UNREACHABLE,
  GC_CHAT_SESSION_ERROR_TLS,
  GC_CHAT_SESSION_ERROR_TIMED_OUT,
  GC_CHAT_SESSION_ERROR_NOT_GOCHAT,
  GC_CHAT_SESSION_ERROR_REPLACED,
} GcChatSessionError;

#define GC_TYPE_CHAT_SESSION (gc_chat_session_get_type ())
G_DECLARE_FINAL_TYPE (GcChatSession, gc_chat_session, GC, CHAT_SESSION, GObject)

/* Checks a server address as the join dialog takes it: ws:// or wss://
 * with a host. Returns the address without trailing slashes. */
char               *gc_chat_session_normalize_server_url (const char  *url,
                                                          GError     **error);

/* @server_url as accepted by gc_chat_session_normalize_server_url(),
 * @user_name and @room_code already valid. */
GcChatSession      *gc_chat_session_new            (const char          *server_url,
                                                    const char          *user_name,
                                                    const char          *room_code);

/* Trust store for wss:// (default: the system's). */
void                gc_chat_session_set_tls_database (GcChatSession     *self,
                                                    GTlsDatabase        *database);

/* The first join. On failure the session is CLOSED; a refusal with
 * `name_taken` leaves the server's suggestion in
 * gc_chat_session_get_name_suggestion(). gc_chat_session_leave() cancels
 * it (%G_IO_ERROR_CANCELLED). */
void                gc_chat_session_join_async     (GcChatSession       *self,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean            gc_chat_session_join_finish    (GcChatSession       *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);
const char         *gc_chat_session_get_name_suggestion (GcChatSession  *self);

/* Leaves the room with a close frame (the others see `leave`, reason
 * `left`) and stops reconnecting. */
void                gc_chat_session_leave          (GcChatSession       *self);

GcChatSessionState  gc_chat_session_get_state      (GcChatSession       *self);
/* Seconds until the next attempt while WAITING (property, notified each
 * second), else 0. */
guint               gc_chat_session_get_retry_seconds (GcChatSession    *self);
/* Why we are WAITING or FAILED, in plain words; %NULL otherwise. */
const char         *gc_chat_session_get_failure    (GcChatSession       *self);
/* Whether the server shut down (close 1001 "server shutting down", §6.6)
 * and we are not back in yet: the banner says "restarting". */
gboolean            gc_chat_session_get_server_restarting (GcChatSession *self);
/* Starts an attempt at once (WAITING, RECONNECTING, FAILED or
 * HOST_STOPPED): the
 * banner's Reconnect button, and the window on focus while WAITING. (The
 * network coming back, as GNetworkMonitor says, ends a WAITING by
 * itself.) Backoff grows 1, 2, 4, 8, then 10 s, with jitter. */
void                gc_chat_session_reconnect_now  (GcChatSession       *self);

const char         *gc_chat_session_get_server_url (GcChatSession       *self);
/* Our current name: the one we asked for, then what the server says. */
const char         *gc_chat_session_get_user_name  (GcChatSession       *self);
/* The canonical room code. */
const char         *gc_chat_session_get_room       (GcChatSession       *self);
/* Our USER_ID from the last welcome, or %NULL before the first. */
const char         *gc_chat_session_get_user_id    (GcChatSession       *self);
const GcLimits     *gc_chat_session_get_limits     (GcChatSession       *self);

/* (element-type GcMessageItem): the room's lines, oldest first, at most
 * 100,000. Lines from the server reach it in one batch per main-loop
 * iteration, before the next frame; own messages and notices at once. */
GListModel         *gc_chat_session_get_messages   (GcChatSession       *self);
/* (element-type GcRoomMember): the members, sorted by name. */
GListModel         *gc_chat_session_get_members    (GcChatSession       *self);
/* Names of the others typing right now, sorted (transfer full). */
GStrv               gc_chat_session_dup_typing_names (GcChatSession     *self);

/* Whether @text has something besides white space: what
 * gc_chat_session_send_message() accepts, and what counts as typing. */
gboolean            gc_chat_session_text_has_content (const char        *text);

/**
 * gc_chat_session_send_message:
 * @text: the chat text, sent verbatim
 * @kind: text or emote
 * @error: set when @text is empty or longer than the server's limit
 *
 * Appends the message and sends it as soon as the server's rate limit
 * (welcome.limits) allows: PENDING at once, or QUEUED until a token is
 * free; while disconnected it waits QUEUED and is sent once the session
 * is back. Nothing is refused for going too fast.
 *
 * Returns: (transfer none) (nullable): the pending line
 */
GcMessageItem      *gc_chat_session_send_message   (GcChatSession       *self,
                                                    const char          *text,
                                                    GcMessageKind        kind,
                                                    GError             **error);
/* Sends a failed own message again. */
void                gc_chat_session_retry_message  (GcChatSession       *self,
                                                    const char          *client_id);
/* Asks the server for a new name; %FALSE with @error if it is invalid. */
gboolean            gc_chat_session_rename         (GcChatSession       *self,
                                                    const char          *name,
                                                    GError             **error);
/* Tells the others whether we are typing; repeated calls while typing are
 * sent at most every few seconds, as the others expire typing after ~6 s. */
void                gc_chat_session_set_typing     (GcChatSession       *self,
                                                    gboolean             typing);
/* Appends a line only we see (help text, local errors), at once. */
void                gc_chat_session_add_notice     (GcChatSession       *self,
                                                    const char          *text);

G_END_DECLS
