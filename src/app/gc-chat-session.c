/* gc-chat-session.c: one client's membership of one room, spoken over protocol v1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <string.h>

#include "gc-chat-session-private.h"
#include "gc-member-roster.h"
#include "gc-message-log.h"
#include "gc-outbox.h"
#include "gc-server-address.h"
#include "gc-session-link.h"
#include "gc-session-text.h"
#include "gc-text-markup.h"

struct _GcChatSession
{
  GObject             parent_instance;

  char               *server_url;
  char               *user_name;
  char               *room;
  GTask              *join_task;

  /* The connection, its attempts and backoff; its state is ours. */
  GcSessionLink      *link;
  GcChatSessionState  state;

  /* What the last welcome told us. */
  char               *user_id;
  char               *session_id;
  GcLimits            limits;

  GcMessageLog       *log;
  GcMemberRoster     *roster;

  /* What we send, paced within the limits. */
  GcOutbox           *outbox;
  gboolean            rename_pending;
};

G_DEFINE_FINAL_TYPE (GcChatSession, gc_chat_session, G_TYPE_OBJECT)

G_DEFINE_QUARK (gc-chat-session-error-quark, gc_chat_session_error)

enum {
  PROP_0,
  PROP_STATE,
  PROP_RETRY_SECONDS,
  PROP_FAILURE,
  PROP_USER_NAME,
  PROP_USER_ID,
  PROP_MAX_TEXT_BYTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  TYPING_CHANGED,
  MESSAGE_RECEIVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static void
set_user_name (GcChatSession *self,
               const char    *name)
{
  if (g_strcmp0 (self->user_name, name) == 0)
    return;
  g_free (self->user_name);
  self->user_name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_NAME]);
}

static void
append_system_line (GcChatSession *self,
                    gint64         ts,
                    const char    *text)
{
  gc_message_log_append_system (self->log, ts, text);
}

/* After a reconnection the join and leave events of the time in between
 * are lost; compare the old and new member lists and say what changed. */
static void
replace_members (GcChatSession *self,
                 GPtrArray     *users,
                 gboolean       announce)
{
  g_autoptr(GPtrArray) joined = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) left = g_ptr_array_new_with_free_func (g_free);
  gint64 ts = now_ms ();

  gc_member_roster_replace (self->roster, users, self->user_id,
                            announce ? joined : NULL, announce ? left : NULL);
  for (guint i = 0; i < joined->len; i++)
    {
      g_autofree char *line = g_strdup_printf (_("%s joined"), (const char *) g_ptr_array_index (joined, i));
      append_system_line (self, ts, line);
    }
  for (guint i = 0; i < left->len; i++)
    {
      g_autofree char *line = g_strdup_printf (_("%s left"), (const char *) g_ptr_array_index (left, i));
      append_system_line (self, ts, line);
    }
}

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

/* @live: it arrived now, rather than with the history of a welcome. */
static void
handle_message (GcChatSession   *self,
                const GcMessage *message,
                gboolean         live)
{
  g_autoptr(GcMessageItem) item = NULL;
  gboolean own;

  /* Ids only grow within a room, so anything at or below the last one is
   * a duplicate (a resumed history overlapping what we already have). */
  if (!gc_message_log_take_id (self->log, message->id))
    return;

  own = g_strcmp0 (message->from->id, self->user_id) == 0;
  gc_member_roster_set_typing (self->roster, message->from->id, FALSE);

  if (own && message->client_id != NULL)
    {
      GcMessageItem *pending = gc_message_log_lookup_outgoing (self->log, message->client_id);

      if (pending != NULL)
        {
          gc_message_item_set_delivered (pending, message->id, message->ts);
          gc_message_log_remove_outgoing (self->log, message->client_id);
          return;
        }
    }

  item = gc_message_item_new (message->kind == GC_MESSAGE_KIND_EMOTE
                              ? GC_MESSAGE_ITEM_EMOTE : GC_MESSAGE_ITEM_TEXT,
                              message->id, message->ts,
                              message->from->id, message->from->name,
                              message->text, message->client_id, own);
  if (!own)
    gc_message_item_set_mention (item, gc_text_mentions (message->text, self->user_name));
  gc_message_log_append (self->log, item);

  if (live && !own)
    g_signal_emit (self, signals[MESSAGE_RECEIVED], 0, item);
}

static void
handle_error_event (GcChatSession *self,
                    GcEvent       *event)
{
  GcMessageItem *item = NULL;
  g_autofree char *line = NULL;

  item = gc_message_log_lookup_outgoing (self->log, event->error.ref);

  if (item != NULL)
    {
      gc_message_item_set_failed (item, event->error.message);
      return;
    }

  if (self->rename_pending &&
      (event->error.error == GC_PROTOCOL_ERROR_NAME_TAKEN ||
       event->error.error == GC_PROTOCOL_ERROR_INVALID_USER_NAME ||
       event->error.error == GC_PROTOCOL_ERROR_RATE_LIMITED))
    {
      self->rename_pending = FALSE;
      line = g_strdup_printf (_("Could not change your name: %s"), event->error.message);
    }
  else if (event->error.error == GC_PROTOCOL_ERROR_RATE_LIMITED)
    {
      /* Only typing notices go without a ref; losing one is harmless. */
      return;
    }
  else
    {
      line = g_strdup_printf (_("The server reported an error: %s"), event->error.message);
    }

  append_system_line (self, now_ms (), line);
}

static void
handle_event (GcChatSession *self,
              GcEvent       *event)
{
  g_autofree char *line = NULL;

  switch (event->type)
    {
    case GC_EVENT_MESSAGE:
      handle_message (self, event->message, TRUE);
      break;

    case GC_EVENT_JOIN:
      if (!gc_member_roster_add (self->roster, event->join.user,
                                 g_strcmp0 (event->join.user->id, self->user_id) == 0))
        break;
      line = g_strdup_printf (_("%s joined"), event->join.user->name);
      append_system_line (self, event->join.ts, line);
      break;

    case GC_EVENT_LEAVE:
      /* Ends its typing too. */
      if (!gc_member_roster_remove (self->roster, event->leave.user->id))
        break;
      line = gc_session_text_leave_line (event->leave.reason, event->leave.user->name);
      append_system_line (self, event->leave.ts, line);
      break;

    case GC_EVENT_RENAME:
      gc_member_roster_rename (self->roster, event->rename.user);
      if (g_strcmp0 (event->rename.user->id, self->user_id) == 0)
        {
          self->rename_pending = FALSE;
          set_user_name (self, event->rename.user->name);
          line = g_strdup_printf (_("You are now known as %s"), event->rename.user->name);
        }
      else
        {
          line = g_strdup_printf (_("%s is now known as %s"),
                                  event->rename.old_name, event->rename.user->name);
        }
      append_system_line (self, event->rename.ts, line);
      break;

    case GC_EVENT_TYPING:
      if (g_strcmp0 (event->typing.user->id, self->user_id) != 0 &&
          gc_member_roster_lookup (self->roster, event->typing.user->id) != NULL)
        gc_member_roster_set_typing (self->roster, event->typing.user->id, event->typing.active);
      break;

    case GC_EVENT_ERROR:
      handle_error_event (self, event);
      break;

    case GC_EVENT_WELCOME:
    case GC_EVENT_UNKNOWN:
    default:
      /* Newer servers may send events we do not know: ignore them. */
      break;
    }
}

static void
link_welcome_cb (GcSessionLink *link,
                 GcWelcome     *welcome,
                 GcChatSession *self)
{
  gboolean first = self->join_task != NULL;
  gboolean limits_changed;

  g_free (self->user_id);
  self->user_id = g_strdup (welcome->you->id);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER_ID]);
  set_user_name (self, welcome->you->name);
  g_free (self->session_id);
  self->session_id = g_strdup (welcome->session_id);
  g_free (self->room);
  self->room = g_strdup (welcome->room);
  limits_changed = self->limits.max_text_bytes != welcome->limits.max_text_bytes;
  self->limits = welcome->limits;
  gc_outbox_set_limits (self->outbox, &welcome->limits, !welcome->resumed);
  if (limits_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_TEXT_BYTES]);

  gc_member_roster_clear_typing (self->roster);
  replace_members (self, welcome->members, !first);

  if (!first && !welcome->resumed)
    append_system_line (self, now_ms (),
                        _("Reconnected. The server did not keep your place, so you joined again."));

  for (guint i = 0; i < welcome->history->len; i++)
    handle_message (self, g_ptr_array_index (welcome->history, i), FALSE);
  /* The link turns CONNECTED next: see link_state_cb(). */
}

static void
link_event_cb (GcSessionLink *link,
               GcEvent       *event,
               GcChatSession *self)
{
  handle_event (self, event);
}

static void
link_join_failed_cb (GcSessionLink *link,
                     const GError  *error,
                     GcChatSession *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->join_task);

  if (task != NULL)
    g_task_return_error (task, g_error_copy (error));
}

/* The link's state is ours; what changes with it happens here, in the
 * order the others see it. */
static void
link_state_cb (GcSessionLink *link,
               GParamSpec    *pspec,
               GcChatSession *self)
{
  GcChatSessionState old_state = self->state;

  self->state = gc_session_link_get_state (link);
  if (self->state == old_state)
    return;

  if (old_state == GC_CHAT_SESSION_STATE_CONNECTED)
    {
      /* Lost or left: nobody types any more, and we stopped. */
      gc_member_roster_clear_typing (self->roster);
      gc_outbox_disconnected (self->outbox);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);

  if (self->state == GC_CHAT_SESSION_STATE_CONNECTED)
    {
      gc_outbox_connected (self->outbox);

      if (self->join_task != NULL)
        {
          g_autoptr(GTask) task = g_steal_pointer (&self->join_task);

          g_task_return_boolean (task, TRUE);
        }
    }
}

static void
link_notify_cb (GcSessionLink *link,
                GParamSpec    *pspec,
                GcChatSession *self)
{
  /* retry-seconds and failure, by the same names. */
  g_object_notify (G_OBJECT (self), g_param_spec_get_name (pspec));
}

/* ------------------------------------------------------------------ */
/* Joining                                                              */
/* ------------------------------------------------------------------ */

static char *
build_join_url (gpointer user_data)
{
  GcChatSession *self = user_data;
  g_autoptr(GUri) base = g_uri_parse (self->server_url, G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(GUri) uri = NULL;
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  GcJoinParams params = {
    .room_code = self->room,
    .user_name = self->user_name,
    .session_id = self->session_id,
  };

  g_return_val_if_fail (base != NULL, NULL);

  if (self->session_id != NULL && gc_message_log_get_last_id (self->log) > 0)
    {
      params.has_since = TRUE;
      params.since = gc_message_log_get_last_id (self->log);
    }

  path = gc_join_build_path (g_uri_get_path (base));
  query = gc_join_build_query (&params);
  uri = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (base), NULL,
                     g_uri_get_host (base), g_uri_get_port (base),
                     path, query, NULL);
  return g_uri_to_string (uri);
}

static const GcSessionLinkHooks link_hooks = {
  .build_url = build_join_url,
};

/* ------------------------------------------------------------------ */
/* GObject                                                              */
/* ------------------------------------------------------------------ */

static void
gc_chat_session_dispose (GObject *object)
{
  GcChatSession *self = GC_CHAT_SESSION (object);

  if (self->state != GC_CHAT_SESSION_STATE_CLOSED && self->state != GC_CHAT_SESSION_STATE_NEW)
    gc_chat_session_leave (self);

  if (self->link != NULL)
    g_signal_handlers_disconnect_by_data (self->link, self);
  g_clear_object (&self->outbox);
  g_clear_object (&self->link);
  gc_member_roster_clear_typing (self->roster);
  gc_message_log_clear (self->log);

  G_OBJECT_CLASS (gc_chat_session_parent_class)->dispose (object);
}

static void
gc_chat_session_finalize (GObject *object)
{
  GcChatSession *self = GC_CHAT_SESSION (object);

  g_free (self->server_url);
  g_free (self->user_name);
  g_free (self->room);
  g_free (self->user_id);
  g_free (self->session_id);
  g_clear_object (&self->log);
  g_clear_object (&self->roster);

  G_OBJECT_CLASS (gc_chat_session_parent_class)->finalize (object);
}

static void
gc_chat_session_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  GcChatSession *self = GC_CHAT_SESSION (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_RETRY_SECONDS:
      g_value_set_uint (value, gc_chat_session_get_retry_seconds (self));
      break;
    case PROP_FAILURE:
      g_value_set_string (value, gc_chat_session_get_failure (self));
      break;
    case PROP_USER_NAME:
      g_value_set_string (value, self->user_name);
      break;
    case PROP_USER_ID:
      g_value_set_string (value, self->user_id);
      break;
    case PROP_MAX_TEXT_BYTES:
      g_value_set_uint (value, self->limits.max_text_bytes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_chat_session_class_init (GcChatSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_chat_session_dispose;
  object_class->finalize = gc_chat_session_finalize;
  object_class->get_property = gc_chat_session_get_property;

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
  properties[PROP_USER_NAME] =
    g_param_spec_string ("user-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_USER_ID] =
    g_param_spec_string ("user-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /* The limit the compose box counts against; from welcome. */
  properties[PROP_MAX_TEXT_BYTES] =
    g_param_spec_uint ("max-text-bytes", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[TYPING_CHANGED] =
    g_signal_new ("typing-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * GcChatSession::message-received:
   * @item: the new line (in the messages model before the next frame)
   *
   * Someone else's message arrived while we are in the room (not one
   * from the history a join brings): what unread counts and
   * notifications follow.
   */
  signals[MESSAGE_RECEIVED] =
    g_signal_new ("message-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, GC_TYPE_MESSAGE_ITEM);
}

static void
roster_typing_changed_cb (GcMemberRoster *roster,
                          GcChatSession  *self)
{
  g_signal_emit (self, signals[TYPING_CHANGED], 0);
}

static void
gc_chat_session_init (GcChatSession *self)
{
  gc_limits_init_default (&self->limits);
  self->log = gc_message_log_new ();
  self->roster = gc_member_roster_new ();
  g_signal_connect (self->roster, "typing-changed", G_CALLBACK (roster_typing_changed_cb), self);
}

/* ------------------------------------------------------------------ */
/* Public API                                                           */
/* ------------------------------------------------------------------ */

char *
gc_chat_session_normalize_server_url (const char  *url,
                                      GError     **error)
{
  return gc_server_address_normalize (url, error);
}

GcChatSession *
gc_chat_session_new (const char *server_url,
                     const char *user_name,
                     const char *room_code)
{
  GcChatSession *self;

  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (user_name != NULL, NULL);
  g_return_val_if_fail (room_code != NULL, NULL);

  self = g_object_new (GC_TYPE_CHAT_SESSION, NULL);
  self->server_url = g_strdup (server_url);
  self->user_name = g_strdup (user_name);
  self->room = g_ascii_strdown (room_code, -1);

  self->link = gc_session_link_new (server_url, &link_hooks, self);
  g_signal_connect (self->link, "notify::state", G_CALLBACK (link_state_cb), self);
  g_signal_connect (self->link, "notify::retry-seconds", G_CALLBACK (link_notify_cb), self);
  g_signal_connect (self->link, "notify::failure", G_CALLBACK (link_notify_cb), self);
  g_signal_connect (self->link, "welcome", G_CALLBACK (link_welcome_cb), self);
  g_signal_connect (self->link, "event", G_CALLBACK (link_event_cb), self);
  g_signal_connect (self->link, "join-failed", G_CALLBACK (link_join_failed_cb), self);
  self->outbox = gc_outbox_new (self->link, self->log);

  return self;
}

void
gc_chat_session_set_tls_database (GcChatSession *self,
                                  GTlsDatabase  *database)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  gc_session_link_set_tls_database (self->link, database);
}

void
gc_chat_session_join_async (GcChatSession       *self,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));
  g_return_if_fail (self->state == GC_CHAT_SESSION_STATE_NEW);

  self->join_task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (self->join_task, gc_chat_session_join_async);

  gc_session_link_join (self->link);
}

gboolean
gc_chat_session_join_finish (GcChatSession  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

const char *
gc_chat_session_get_name_suggestion (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return gc_session_link_get_name_suggestion (self->link);
}

void
gc_chat_session_leave (GcChatSession *self)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  if (self->state == GC_CHAT_SESSION_STATE_CLOSED)
    return;

  gc_outbox_set_typing (self->outbox, FALSE);
  gc_member_roster_clear_typing (self->roster);
  gc_session_link_leave (self->link);

  if (self->join_task != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->join_task);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Join cancelled"));
    }
}

GcChatSessionState
gc_chat_session_get_state (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), GC_CHAT_SESSION_STATE_CLOSED);
  return self->state;
}

guint
gc_chat_session_get_retry_seconds (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), 0);
  return self->link != NULL ? gc_session_link_get_retry_seconds (self->link) : 0;
}

const char *
gc_chat_session_get_failure (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return self->link != NULL ? gc_session_link_get_failure (self->link) : NULL;
}

gboolean
gc_chat_session_get_server_restarting (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), FALSE);
  return self->link != NULL && gc_session_link_get_server_restarting (self->link);
}

void
gc_chat_session_reconnect_now (GcChatSession *self)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  gc_session_link_reconnect_now (self->link);
}

const char *
gc_chat_session_get_server_url (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return self->server_url;
}

const char *
gc_chat_session_get_user_name (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return self->user_name;
}

const char *
gc_chat_session_get_room (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return self->room;
}

const char *
gc_chat_session_get_user_id (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return self->user_id;
}

const GcLimits *
gc_chat_session_get_limits (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return &self->limits;
}

GListModel *
gc_chat_session_get_messages (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return gc_message_log_get_model (self->log);
}

GListModel *
gc_chat_session_get_members (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return gc_member_roster_get_model (self->roster);
}

GStrv
gc_chat_session_dup_typing_names (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return gc_member_roster_dup_typing_names (self->roster);
}

gboolean
gc_chat_session_text_has_content (const char *text)
{
  g_return_val_if_fail (text != NULL, FALSE);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (!g_unichar_isspace (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

GcMessageItem *
gc_chat_session_send_message (GcChatSession  *self,
                              const char     *text,
                              GcMessageKind   kind,
                              GError        **error)
{
  g_autoptr(GcMessageItem) item = NULL;
  g_autofree char *client_id = NULL;
  gsize len;

  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (g_utf8_validate (text, -1, NULL), NULL);

  len = strlen (text);
  if (!gc_chat_session_text_has_content (text))
    {
      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_EMPTY_MESSAGE,
                           _("The message is empty."));
      return NULL;
    }
  if (len > self->limits.max_text_bytes)
    {
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG,
                   _("The message is %u bytes long; this server takes at most %u."),
                   (guint) MIN (len, G_MAXUINT), self->limits.max_text_bytes);
      return NULL;
    }
  if (self->state == GC_CHAT_SESSION_STATE_NEW || self->state == GC_CHAT_SESSION_STATE_CLOSED)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                           _("You are not in a room."));
      return NULL;
    }

  client_id = g_uuid_string_random ();
  item = gc_message_item_new (kind == GC_MESSAGE_KIND_EMOTE ? GC_MESSAGE_ITEM_EMOTE
                                                            : GC_MESSAGE_ITEM_TEXT,
                              0, now_ms (), self->user_id, self->user_name,
                              text, client_id, TRUE);
  /* It shows at once, sent or queued; ends our typing. */
  gc_outbox_send_message (self->outbox, item);

  return item;
}

void
gc_chat_session_retry_message (GcChatSession *self,
                               const char    *client_id)
{
  GcMessageItem *item;

  g_return_if_fail (GC_IS_CHAT_SESSION (self));
  g_return_if_fail (client_id != NULL);

  item = gc_message_log_lookup_outgoing (self->log, client_id);
  if (item == NULL || gc_message_item_get_state (item) != GC_MESSAGE_ITEM_FAILED)
    return;

  gc_outbox_retry (self->outbox, item);
}

gboolean
gc_chat_session_rename (GcChatSession  *self,
                        const char     *name,
                        GError        **error)
{
  g_autofree char *normalized = NULL;
  g_autofree char *json = NULL;
  GcProtocolNameProblem problem;
  gunichar character;

  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  normalized = gc_protocol_check_user_name (name, &problem, &character);
  if (normalized == NULL)
    {
      /* In the words the join dialog uses, translated. */
      g_autofree char *reason = gc_session_text_name_problem (problem, character);

      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME, reason);
      return FALSE;
    }

  if (self->state != GC_CHAT_SESSION_STATE_CONNECTED)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                           _("You can change your name once you are connected again."));
      return FALSE;
    }

  json = gc_request_build_rename (normalized);
  self->rename_pending = TRUE;
  gc_outbox_send_request (self->outbox, json);
  return TRUE;
}

void
gc_chat_session_set_typing (GcChatSession *self,
                            gboolean       typing)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  if (self->state != GC_CHAT_SESSION_STATE_CONNECTED)
    return;
  gc_outbox_set_typing (self->outbox, typing);
}

void
gc_chat_session_add_notice (GcChatSession *self,
                            const char    *text)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));
  g_return_if_fail (text != NULL);

  append_system_line (self, now_ms (), text);
  gc_message_log_flush (self->log);
}

GcWsConnection *
gc_chat_session_get_connection (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return gc_session_link_get_connection (self->link);
}

guint
gc_chat_session_get_attempt (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), 0);
  return gc_session_link_get_attempt (self->link);
}

void
gc_chat_session_set_keepalive (GcChatSession *self,
                               guint          interval_s,
                               guint          timeout_s)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  gc_session_link_set_keepalive (self->link, interval_s, timeout_s);
}

void
gc_chat_session_set_network_monitor (GcChatSession   *self,
                                     GNetworkMonitor *monitor)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  gc_session_link_set_network_monitor (self->link, monitor);
}

void
gc_chat_session_set_pacing (GcChatSession *self,
                            gboolean       pacing)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  gc_outbox_set_pacing (self->outbox, pacing);
}

void
gc_chat_session_feed_event (GcChatSession *self,
                            const char    *json)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));
  g_return_if_fail (json != NULL);
  g_return_if_fail (gc_session_link_get_welcomed (self->link));

  gc_session_link_feed_text (self->link, json, strlen (json));
}
