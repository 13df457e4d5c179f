/* gc-session-link.h: a session's link to its server: join attempts, keepalive, backoff, resume
 *
 * The state machine under GcChatSession: it connects, waits for the
 * welcome, reports events, notices a lost link and comes back with
 * backoff (and jitter), and gives up on refusals that will not go away.
 * What the join URL says is the session's (GcSessionLinkHooks), so the
 * link knows no room, name or history.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-chat-session.h"
#include "gc-protocol.h"
#include "gc-ws-connection.h"

G_BEGIN_DECLS

/**
 * GcSessionLinkHooks:
 * @build_url: the ws(s):// URL of the next join attempt (a resume, once
 *   the session has a session id)
 */
typedef struct {
  char *(*build_url) (gpointer user_data);
} GcSessionLinkHooks;

#define GC_TYPE_SESSION_LINK (gc_session_link_get_type ())
G_DECLARE_FINAL_TYPE (GcSessionLink, gc_session_link, GC, SESSION_LINK, GObject)

/* @hooks must outlive the link; @user_data is passed to them. */
GcSessionLink      *gc_session_link_new               (const char               *server_url,
                                                       const GcSessionLinkHooks *hooks,
                                                       gpointer                  user_data);

void                gc_session_link_set_tls_database  (GcSessionLink  *self,
                                                       GTlsDatabase   *database);
/* For this and later connections (default: ping after 10 s of silence,
 * give up after 25 s). */
void                gc_session_link_set_keepalive     (GcSessionLink  *self,
                                                       guint           interval_s,
                                                       guint           timeout_s);

/* The monitor whose "network available" ends a backoff wait at once
 * (default: g_network_monitor_get_default(); tests pass their own). */
void                gc_session_link_set_network_monitor (GcSessionLink   *self,
                                                         GNetworkMonitor *monitor);

/* The delay before retry @attempt (1 for the first), with @jitter in
 * [0, 1): 1, 2, 4, 8, then 10 s, less up to half for jitter. */
guint64             gc_session_link_backoff_ms        (guint           attempt,
                                                       double          jitter);

/* NEW → JOINING: the first attempt. It ends in CONNECTED (after
 * ::welcome), or in CLOSED and ::join-failed. */
void                gc_session_link_join              (GcSessionLink  *self);
/* Closes with 1000 (the others see a clean leave) and stops: CLOSED. */
void                gc_session_link_leave             (GcSessionLink  *self);
/* Starts an attempt at once (WAITING, RECONNECTING, FAILED or
 * HOST_STOPPED). */
void                gc_session_link_reconnect_now     (GcSessionLink  *self);

/* Sends @json if we are in the room; else drops it (returns %FALSE). */
gboolean            gc_session_link_send_text         (GcSessionLink  *self,
                                                       const char     *json);
/* Handles @data as an event the server sent (tests). */
void                gc_session_link_feed_text         (GcSessionLink  *self,
                                                       const char     *data,
                                                       gsize           len);

GcChatSessionState  gc_session_link_get_state         (GcSessionLink  *self);
guint               gc_session_link_get_retry_seconds (GcSessionLink  *self);
const char         *gc_session_link_get_failure       (GcSessionLink  *self);
/* Whether the link was lost to the server's shutdown (close 1001, not a
 * host that stopped hosting) and is not back yet. */
gboolean            gc_session_link_get_server_restarting (GcSessionLink *self);
/* How many attempts to get back have failed in a row. */
guint               gc_session_link_get_attempt       (GcSessionLink  *self);
/* Whether the welcome of the current connection arrived. */
gboolean            gc_session_link_get_welcomed      (GcSessionLink  *self);
/* (transfer none) (nullable) */
GcWsConnection     *gc_session_link_get_connection    (GcSessionLink  *self);
/* The free name a `name_taken` refusal of the first join offered. */
const char         *gc_session_link_get_name_suggestion (GcSessionLink *self);

G_END_DECLS
