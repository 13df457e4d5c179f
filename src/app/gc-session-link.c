/* gc-session-link.c: a session's link to its server: join attempts, keepalive, backoff, resume
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-session-link.h"
#include "gc-session-text.h"
#include "gc-ws-handshake.h"

/* A welcome with a full history can be far larger than one request may
 * be (100 messages of 4096 bytes, escaped); bound it generously. */
#define MAX_EVENT_BYTES        (16 * 1024 * 1024)
/* Ping after 10 s of silence and give up after 25 s: a dead link is noticed
 * within 30 s even though the server itself only pings after 25 s. */
#define KEEPALIVE_INTERVAL_S   10
#define KEEPALIVE_TIMEOUT_S    25
/* Leaving should not hold the app open long when the server is gone. */
#define CLOSE_TIMEOUT_MS       2000
/* From the TCP connect to the welcome. */
#define ATTEMPT_TIMEOUT_S      15
/* Backoff stops growing here: a server that came back is found within
 * ~10 s (issue 12 measured 22 s with 30). */
#define BACKOFF_MAX_S          10

struct _GcSessionLink
{
  GObject                   parent_instance;

  char                     *server_url;
  const GcSessionLinkHooks *hooks;
  gpointer                  hooks_data;
  GTlsDatabase             *tls_database;
  guint                     keepalive_interval_s;
  guint                     keepalive_timeout_s;

  GcChatSessionState        state;
  char                     *failure;
  /* The last connection ended in the server's shutdown (1001, §6.6):
   * until we are back in, waiting means "restarting", not "lost". */
  gboolean                  server_restarting;
  char                     *name_suggestion;

  /* While WAITING, the network coming back means "try now". */
  GNetworkMonitor          *network_monitor;
  gboolean                  network_available;

  /* The current attempt or connection. */
  GcWsConnection           *connection;
  gboolean                  welcomed;
  GCancellable             *attempt_cancellable;
  guint                     attempt_timeout_id;
  gboolean                  attempt_timed_out;

  /* Reconnection. */
  guint                     attempt;
  guint                     retry_source_id;
  gint64                    retry_deadline;
  guint                     retry_seconds;
};

G_DEFINE_FINAL_TYPE (GcSessionLink, gc_session_link, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_RETRY_SECONDS,
  PROP_FAILURE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  WELCOME,
  EVENT,
  JOIN_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_attempt (GcSessionLink *self);

static void
set_state (GcSessionLink      *self,
           GcChatSessionState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_failure (GcSessionLink *self,
             const char    *failure)
{
  if (g_strcmp0 (self->failure, failure) == 0)
    return;
  g_free (self->failure);
  self->failure = g_strdup (failure);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FAILURE]);
}

static void
set_retry_seconds (GcSessionLink *self,
                   guint          seconds)
{
  if (self->retry_seconds == seconds)
    return;
  self->retry_seconds = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_SECONDS]);
}

static void
clear_attempt (GcSessionLink *self)
{
  g_clear_handle_id (&self->attempt_timeout_id, g_source_remove);
  g_clear_object (&self->attempt_cancellable);
  self->attempt_timed_out = FALSE;
}

static void
cancel_attempt (GcSessionLink *self)
{
  if (self->attempt_cancellable != NULL)
    g_cancellable_cancel (self->attempt_cancellable);
  clear_attempt (self);
}

/* ------------------------------------------------------------------ */
/* Connection                                                           */
/* ------------------------------------------------------------------ */

static void
on_leaving_connection_closed (GcWsConnection *connection,
                              gpointer        user_data)
{
  GApplication *app = user_data;

  g_signal_handlers_disconnect_by_func (connection, on_leaving_connection_closed, user_data);
  if (app != NULL)
    {
      g_application_release (app);
      g_object_unref (app);
    }
  g_object_unref (connection);
}

/* Drops our end of the current connection. With @close_code the closing
 * handshake runs on after the link lets go (holding the application,
 * if any, until it is done), so the others see a clean leave. */
static void
drop_connection (GcSessionLink *self,
                 gushort        close_code)
{
  g_autoptr(GcWsConnection) connection = g_steal_pointer (&self->connection);

  self->welcomed = FALSE;
  if (connection == NULL)
    return;

  g_signal_handlers_disconnect_by_data (connection, self);

  if (close_code != 0 && gc_ws_connection_get_state (connection) == GC_WS_STATE_OPEN)
    {
      GApplication *app = g_application_get_default ();

      if (app != NULL)
        {
          g_application_hold (app);
          g_object_ref (app);
        }
      g_signal_connect (connection, "closed", G_CALLBACK (on_leaving_connection_closed), app);
      gc_ws_connection_close (connection, close_code, NULL);
      g_steal_pointer (&connection);
    }
  else if (gc_ws_connection_get_state (connection) != GC_WS_STATE_CLOSED)
    {
      gc_ws_connection_abort (connection);
    }
}

/* ------------------------------------------------------------------ */
/* Backoff                                                              */
/* ------------------------------------------------------------------ */

static gboolean
retry_tick_cb (gpointer user_data)
{
  GcSessionLink *self = user_data;
  gint64 remaining_ms = (self->retry_deadline - g_get_monotonic_time ()) / 1000;
  guint seconds;

  self->retry_source_id = 0;

  if (remaining_ms <= 0)
    {
      set_retry_seconds (self, 0);
      start_attempt (self);
      return G_SOURCE_REMOVE;
    }

  /* Wake up when the whole seconds shown next change. */
  seconds = (guint) ((remaining_ms + 999) / 1000);
  set_retry_seconds (self, seconds);
  self->retry_source_id = g_timeout_add ((guint) (remaining_ms - (seconds - 1) * 1000) + 1,
                                         retry_tick_cb, self);
  return G_SOURCE_REMOVE;
}

/**
 * gc_session_link_backoff_ms:
 * @attempt: how many attempts in a row failed (1 for the first)
 * @jitter: a number in [0, 1)
 *
 * Exponential backoff (1, 2, 4, 8, then 10 s) with jitter (the delay is
 * between half and all of that), so clients dropped together by a
 * restarting server do not all come back at once.
 */
guint64
gc_session_link_backoff_ms (guint  attempt,
                            double jitter)
{
  guint64 base_ms;

  attempt = MAX (attempt, 1);
  base_ms = MIN ((guint64) BACKOFF_MAX_S, (guint64) 1 << MIN (attempt - 1, 5)) * 1000;
  return (guint64) (base_ms * (0.5 + CLAMP (jitter, 0.0, 1.0) / 2));
}

static void
schedule_retry (GcSessionLink *self,
                guint64        min_delay_ms)
{
  guint64 delay_ms;

  g_clear_handle_id (&self->retry_source_id, g_source_remove);

  self->attempt++;
  delay_ms = gc_session_link_backoff_ms (self->attempt, g_random_double ());
  delay_ms = MAX (delay_ms, min_delay_ms);
  delay_ms = MIN (delay_ms, (guint64) BACKOFF_MAX_S * 1000);

  self->retry_deadline = g_get_monotonic_time () + (gint64) delay_ms * 1000;
  set_state (self, GC_CHAT_SESSION_STATE_WAITING);
  retry_tick_cb (self);
}

/* Whether a refusal on reconnect may go away by itself. */
static gboolean
refusal_is_transient (const GError *error)
{
  if (error->domain != GC_PROTOCOL_ERROR)
    return error->domain != GC_CHAT_SESSION_ERROR ||
           error->code != GC_CHAT_SESSION_ERROR_NOT_GOCHAT;

  switch (error->code)
    {
    case GC_PROTOCOL_ERROR_RATE_LIMITED:
    case GC_PROTOCOL_ERROR_ROOM_FULL:
    case GC_PROTOCOL_ERROR_SERVER_FULL:
    case GC_PROTOCOL_ERROR_UNAVAILABLE:
    case GC_PROTOCOL_ERROR_FAILED:
      return TRUE;
    default:
      return FALSE;
    }
}

/* An attempt (first join or reconnection) ended without a welcome. */
static void
attempt_failed (GcSessionLink *self,
                GError        *error,
                guint64        retry_after_ms)
{
  drop_connection (self, 0);
  clear_attempt (self);

  if (self->state == GC_CHAT_SESSION_STATE_JOINING)
    {
      set_state (self, GC_CHAT_SESSION_STATE_CLOSED);
      g_signal_emit (self, signals[JOIN_FAILED], 0, error);
    }
  else if (refusal_is_transient (error))
    {
      set_failure (self, error->message);
      schedule_retry (self, retry_after_ms);
    }
  else
    {
      g_autofree char *failure = g_strdup_printf (_("Could not get back into the room: %s"),
                                                  error->message);

      set_failure (self, failure);
      set_state (self, GC_CHAT_SESSION_STATE_FAILED);
    }
  g_error_free (error);
}

static void
connection_lost (GcSessionLink *self,
                 gushort        close_code,
                 const char    *close_reason)
{
  drop_connection (self, 0);
  self->server_restarting = FALSE;

  if (close_code == GC_WS_CLOSE_GOING_AWAY &&
      g_strcmp0 (close_reason, GC_PROTOCOL_CLOSE_REASON_HOST_STOPPED) == 0)
    {
      /* A person's computer, not a server that restarts: say so, and
       * leave reconnecting to them. */
      self->attempt = 0;
      set_failure (self, _("The host stopped hosting this room."));
      set_state (self, GC_CHAT_SESSION_STATE_HOST_STOPPED);
      return;
    }

  if (close_code == 4000)
    {
      set_failure (self, _("Another connection took over this session."));
      set_state (self, GC_CHAT_SESSION_STATE_FAILED);
      return;
    }

  self->attempt = 0;
  self->server_restarting = close_code == GC_WS_CLOSE_GOING_AWAY;
  set_failure (self, self->server_restarting
                     ? _("The server is restarting.") : _("Connection lost."));
  schedule_retry (self, 0);
}

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

/* A refusal (an HTTP answer's body, or a "refused" event) as an error;
 * a name taken keeps the server's suggestion for the join dialog. */
static GError *
refusal_to_error (GcSessionLink *self,
                  guint          status,
                  GBytes        *body,
                  guint64       *retry_after_ms)
{
  g_autofree char *suggestion = NULL;
  GError *error = gc_session_text_refusal_error (self->server_url, status, body,
                                                 &suggestion, retry_after_ms);

  if (g_error_matches (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_NAME_TAKEN))
    {
      g_free (self->name_suggestion);
      self->name_suggestion = g_steal_pointer (&suggestion);
    }
  return error;
}

static void
handle_text (GcSessionLink *self,
             const char    *data,
             gsize          len)
{
  g_autoptr(GcEvent) event = NULL;
  g_autoptr(GError) error = NULL;

  event = gc_event_parse (data, len, &error);
  if (event == NULL)
    {
      g_autofree char *escaped = g_strescape (error->message, NULL);

      /* One event we cannot read is not worth the connection. (The
       * message may quote server text: never print it raw.) */
      g_debug ("Ignoring an event that does not parse: %s", escaped);
      return;
    }

  if (self->welcomed)
    {
      g_signal_emit (self, signals[EVENT], 0, event);
      return;
    }

  /* A join refused after the upgrade (docs/protocol.md §3.6, §4.9): the
   * event has the members of an HTTP refusal's body, and means the same. */
  if (event->type == GC_EVENT_REFUSED)
    {
      guint64 retry_after_ms = 0;
      GError *reported;

      g_autoptr(GBytes) body = g_bytes_new_static (data, len);

      reported = refusal_to_error (self, gc_protocol_error_http_status (event->refused.error),
                                   body, &retry_after_ms);
      attempt_failed (self, reported, retry_after_ms);
      return;
    }

  if (event->type != GC_EVENT_WELCOME || event->welcome->protocol != GC_PROTOCOL_VERSION)
    {
      attempt_failed (self,
                      g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_NOT_GOCHAT,
                                   _("The server at %s does not speak GoChat protocol version %d."),
                                   self->server_url, GC_PROTOCOL_VERSION),
                      0);
      return;
    }

  clear_attempt (self);
  self->welcomed = TRUE;
  g_signal_emit (self, signals[WELCOME], 0, event->welcome);
  /* The session may have left meanwhile. */
  if (!self->welcomed)
    return;

  self->attempt = 0;
  self->server_restarting = FALSE;
  set_failure (self, NULL);
  set_state (self, GC_CHAT_SESSION_STATE_CONNECTED);
}

static void
on_connection_message (GcWsConnection *connection,
                       GcWsOpcode      opcode,
                       GBytes         *payload,
                       gpointer        user_data)
{
  gsize len;
  const char *data;

  if (opcode != GC_WS_OPCODE_TEXT)
    return;

  data = g_bytes_get_data (payload, &len);
  handle_text (user_data, data, len);
}

static void
on_connection_closed (GcWsConnection *connection,
                      gpointer        user_data)
{
  GcSessionLink *self = user_data;
  gushort code = gc_ws_connection_get_close_code (connection);
  g_autofree char *reason = g_strdup (gc_ws_connection_get_close_reason (connection));

  if (!self->welcomed && code >= 4400 && code <= 4599)
    {
      GcProtocolError error_code;

      /* A refusal whose refused event did not come (§3.6): 4000 + the
       * HTTP status, the refusal's code as reason. */
      if (!gc_protocol_error_from_string (reason, &error_code))
        error_code = GC_PROTOCOL_ERROR_FAILED;
      attempt_failed (self,
                      g_error_new (GC_PROTOCOL_ERROR, error_code, "%s",
                                   reason != NULL && *reason != '\0' ? reason : _("no reason given")),
                      0);
      return;
    }

  if (!self->welcomed)
    {
      attempt_failed (self,
                      g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_NOT_GOCHAT,
                                   _("The server at %s closed the connection before letting us in."),
                                   self->server_url),
                      0);
      return;
    }

  connection_lost (self, code, reason);
}

/* ------------------------------------------------------------------ */
/* Attempts                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
  GcSessionLink *link;
  GCancellable  *cancellable;
} Attempt;

static void
attempt_free (Attempt *attempt)
{
  g_object_unref (attempt->link);
  g_object_unref (attempt->cancellable);
  g_free (attempt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Attempt, attempt_free)

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(Attempt) attempt = user_data;
  GcSessionLink *self = attempt->link;
  g_autoptr(GcWsConnection) connection = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  guint status = 0;

  connection = gc_ws_connect_finish (result, &status, &body, &error);

  /* An attempt that leave() or reconnect_now() dropped; our own timer
   * cancels the current one, which is reported below. */
  if (attempt->cancellable != self->attempt_cancellable)
    {
      if (connection != NULL)
        gc_ws_connection_abort (connection);
      return;
    }

  if (connection == NULL)
    {
      guint64 retry_after_ms = 0;
      GError *reported;

      if (self->attempt_timed_out)
        reported = g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_TIMED_OUT,
                                _("The server at %s did not answer in time."), self->server_url);
      else if (g_error_matches (error, GC_WS_HANDSHAKE_ERROR, GC_WS_HANDSHAKE_ERROR_REFUSED))
        reported = refusal_to_error (self, status, body, &retry_after_ms);
      else
        reported = gc_session_text_connect_error (self->server_url, error);

      attempt_failed (self, reported, retry_after_ms);
      return;
    }

  self->connection = g_steal_pointer (&connection);
  self->welcomed = FALSE;
  gc_ws_connection_set_max_message_size (self->connection, MAX_EVENT_BYTES);
  gc_ws_connection_set_keepalive (self->connection, self->keepalive_interval_s,
                                  self->keepalive_timeout_s);
  gc_ws_connection_set_close_timeout (self->connection, CLOSE_TIMEOUT_MS);
  g_signal_connect (self->connection, "message", G_CALLBACK (on_connection_message), self);
  g_signal_connect (self->connection, "closed", G_CALLBACK (on_connection_closed), self);
}

static gboolean
attempt_timeout_cb (gpointer user_data)
{
  GcSessionLink *self = user_data;

  self->attempt_timeout_id = 0;

  if (self->connection != NULL)
    {
      /* Connected, but no welcome came. */
      attempt_failed (self,
                      g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_TIMED_OUT,
                                   _("The server at %s did not answer in time."), self->server_url),
                      0);
      return G_SOURCE_REMOVE;
    }

  self->attempt_timed_out = TRUE;
  g_cancellable_cancel (self->attempt_cancellable);
  return G_SOURCE_REMOVE;
}

static void
start_attempt (GcSessionLink *self)
{
  static const char * const protocols[] = { GC_PROTOCOL_SUBPROTOCOL, NULL };
  g_autofree char *url = self->hooks->build_url (self->hooks_data);
  Attempt *attempt;

  g_clear_handle_id (&self->retry_source_id, g_source_remove);
  set_retry_seconds (self, 0);
  drop_connection (self, 0);
  clear_attempt (self);

  if (self->state != GC_CHAT_SESSION_STATE_JOINING)
    set_state (self, GC_CHAT_SESSION_STATE_RECONNECTING);

  self->attempt_cancellable = g_cancellable_new ();
  self->attempt_timeout_id = g_timeout_add_seconds (ATTEMPT_TIMEOUT_S, attempt_timeout_cb, self);

  attempt = g_new0 (Attempt, 1);
  attempt->link = g_object_ref (self);
  attempt->cancellable = g_object_ref (self->attempt_cancellable);
  gc_ws_connect_async (url, NULL, protocols, self->tls_database, NULL,
                       self->attempt_cancellable, connect_cb, attempt);
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    GcSessionLink   *self)
{
  /* GNetworkMonitor says "changed" on any route change; only the network
   * coming back is news. And only a link waiting out its backoff acts: an
   * attempt that runs, or a refusal that will not go away, is left alone. */
  gboolean came_back = available && !self->network_available;

  self->network_available = available;
  if (came_back && self->state == GC_CHAT_SESSION_STATE_WAITING)
    gc_session_link_reconnect_now (self);
}

/* ------------------------------------------------------------------ */
/* GObject                                                              */
/* ------------------------------------------------------------------ */

static void
gc_session_link_dispose (GObject *object)
{
  GcSessionLink *self = GC_SESSION_LINK (object);

  gc_session_link_set_network_monitor (self, NULL);
  cancel_attempt (self);
  drop_connection (self, 0);
  g_clear_handle_id (&self->retry_source_id, g_source_remove);

  G_OBJECT_CLASS (gc_session_link_parent_class)->dispose (object);
}

static void
gc_session_link_finalize (GObject *object)
{
  GcSessionLink *self = GC_SESSION_LINK (object);

  g_free (self->server_url);
  g_clear_object (&self->tls_database);
  g_free (self->failure);
  g_free (self->name_suggestion);

  G_OBJECT_CLASS (gc_session_link_parent_class)->finalize (object);
}

static void
gc_session_link_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  GcSessionLink *self = GC_SESSION_LINK (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_RETRY_SECONDS:
      g_value_set_uint (value, self->retry_seconds);
      break;
    case PROP_FAILURE:
      g_value_set_string (value, self->failure);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_session_link_class_init (GcSessionLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_session_link_dispose;
  object_class->finalize = gc_session_link_finalize;
  object_class->get_property = gc_session_link_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       GC_TYPE_CHAT_SESSION_STATE, GC_CHAT_SESSION_STATE_NEW,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_RETRY_SECONDS] =
    g_param_spec_uint ("retry-seconds", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_FAILURE] =
    g_param_spec_string ("failure", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GcSessionLink::welcome:
   * @welcome: (type gpointer): the GcWelcome, valid during the emission
   *
   * The server let us in; the state turns CONNECTED right after.
   */
  signals[WELCOME] =
    g_signal_new ("welcome", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  /**
   * GcSessionLink::event:
   * @event: (type gpointer): the GcEvent, valid during the emission
   *
   * An event after the welcome.
   */
  signals[EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  /**
   * GcSessionLink::join-failed:
   * @error: why
   *
   * The first attempt failed; the state is CLOSED.
   */
  signals[JOIN_FAILED] =
    g_signal_new ("join-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
gc_session_link_init (GcSessionLink *self)
{
  self->keepalive_interval_s = KEEPALIVE_INTERVAL_S;
  self->keepalive_timeout_s = KEEPALIVE_TIMEOUT_S;
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

GcSessionLink *
gc_session_link_new (const char               *server_url,
                     const GcSessionLinkHooks *hooks,
                     gpointer                  user_data)
{
  GcSessionLink *self;

  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (hooks != NULL && hooks->build_url != NULL, NULL);

  self = g_object_new (GC_TYPE_SESSION_LINK, NULL);
  self->server_url = g_strdup (server_url);
  self->hooks = hooks;
  self->hooks_data = user_data;
  gc_session_link_set_network_monitor (self, g_network_monitor_get_default ());
  return self;
}

void
gc_session_link_set_network_monitor (GcSessionLink   *self,
                                     GNetworkMonitor *monitor)
{
  g_return_if_fail (GC_IS_SESSION_LINK (self));
  g_return_if_fail (monitor == NULL || G_IS_NETWORK_MONITOR (monitor));

  if (self->network_monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->network_monitor, self);
  g_set_object (&self->network_monitor, monitor);
  self->network_available = monitor == NULL || g_network_monitor_get_network_available (monitor);
  if (monitor != NULL)
    g_signal_connect (monitor, "network-changed", G_CALLBACK (network_changed_cb), self);
}

void
gc_session_link_set_tls_database (GcSessionLink *self,
                                  GTlsDatabase  *database)
{
  g_return_if_fail (GC_IS_SESSION_LINK (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  g_set_object (&self->tls_database, database);
}

void
gc_session_link_set_keepalive (GcSessionLink *self,
                               guint          interval_s,
                               guint          timeout_s)
{
  g_return_if_fail (GC_IS_SESSION_LINK (self));

  self->keepalive_interval_s = interval_s;
  self->keepalive_timeout_s = timeout_s;
  if (self->connection != NULL)
    gc_ws_connection_set_keepalive (self->connection, interval_s, timeout_s);
}

void
gc_session_link_join (GcSessionLink *self)
{
  g_return_if_fail (GC_IS_SESSION_LINK (self));
  g_return_if_fail (self->state == GC_CHAT_SESSION_STATE_NEW);

  g_clear_pointer (&self->name_suggestion, g_free);
  set_state (self, GC_CHAT_SESSION_STATE_JOINING);
  start_attempt (self);
}

void
gc_session_link_leave (GcSessionLink *self)
{
  g_return_if_fail (GC_IS_SESSION_LINK (self));

  if (self->state == GC_CHAT_SESSION_STATE_CLOSED)
    return;

  cancel_attempt (self);
  g_clear_handle_id (&self->retry_source_id, g_source_remove);
  set_retry_seconds (self, 0);
  drop_connection (self, GC_WS_CLOSE_NORMAL);
  set_state (self, GC_CHAT_SESSION_STATE_CLOSED);
}

void
gc_session_link_reconnect_now (GcSessionLink *self)
{
  g_return_if_fail (GC_IS_SESSION_LINK (self));

  if (self->state != GC_CHAT_SESSION_STATE_WAITING &&
      self->state != GC_CHAT_SESSION_STATE_FAILED &&
      self->state != GC_CHAT_SESSION_STATE_HOST_STOPPED &&
      self->state != GC_CHAT_SESSION_STATE_RECONNECTING)
    return;

  cancel_attempt (self);
  start_attempt (self);
}

gboolean
gc_session_link_send_text (GcSessionLink *self,
                           const char    *json)
{
  g_return_val_if_fail (GC_IS_SESSION_LINK (self), FALSE);
  g_return_val_if_fail (json != NULL, FALSE);

  if (self->connection == NULL || !self->welcomed ||
      gc_ws_connection_get_state (self->connection) != GC_WS_STATE_OPEN)
    return FALSE;
  gc_ws_connection_send_text (self->connection, json, -1);
  return TRUE;
}

void
gc_session_link_feed_text (GcSessionLink *self,
                           const char    *data,
                           gsize          len)
{
  g_return_if_fail (GC_IS_SESSION_LINK (self));
  g_return_if_fail (data != NULL);

  handle_text (self, data, len);
}

GcChatSessionState
gc_session_link_get_state (GcSessionLink *self)
{
  g_return_val_if_fail (GC_IS_SESSION_LINK (self), GC_CHAT_SESSION_STATE_CLOSED);
  return self->state;
}

guint
gc_session_link_get_retry_seconds (GcSessionLink *self)
{
  g_return_val_if_fail (GC_IS_SESSION_LINK (self), 0);
  return self->retry_seconds;
}

gboolean
gc_session_link_get_server_restarting (GcSessionLink *self)
{
  g_return_val_if_fail (GC_IS_SESSION_LINK (self), FALSE);
  return self->server_restarting;
}

const char *
gc_session_link_get_failure (GcSessionLink *self)
{
  g_return_val_if_fail (GC_IS_SESSION_LINK (self), NULL);
  return self->failure;
}

guint
gc_session_link_get_attempt (GcSessionLink *self)
{
  g_return_val_if_fail (GC_IS_SESSION_LINK (self), 0);
  return self->attempt;
}

gboolean
gc_session_link_get_welcomed (GcSessionLink *self)
{
  g_return_val_if_fail (GC_IS_SESSION_LINK (self), FALSE);
  return self->welcomed;
}

GcWsConnection *
gc_session_link_get_connection (GcSessionLink *self)
{
  g_return_val_if_fail (GC_IS_SESSION_LINK (self), NULL);
  return self->connection;
}

const char *
gc_session_link_get_name_suggestion (GcSessionLink *self)
{
  g_return_val_if_fail (GC_IS_SESSION_LINK (self), NULL);
  return self->name_suggestion;
}
