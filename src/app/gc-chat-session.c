/* gc-chat-session.c: one client's membership of one room, spoken over protocol v1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "gc-chat-session-private.h"
#include "gc-text-markup.h"
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
#define BACKOFF_MAX_S          30
/* Typing is refreshed this often while the user types, and stopped after
 * this long without a key; others expire it after ~6 s. Typing notices
 * share the rate limit with messages, so a new one waits at least
 * TYPING_MIN_GAP_US after the previous one. */
#define TYPING_REFRESH_US      (3 * G_USEC_PER_SEC)
#define TYPING_MIN_GAP_US      (G_USEC_PER_SEC)
#define TYPING_IDLE_MS         5000
#define TYPING_EXPIRY_MS       6000
/* The oldest lines go beyond this, so a long session stays bounded
 * (about 50 MB of lines; the list view only makes rows for what shows). */
#define MAX_LINES              100000
/* Lines that arrive between two frames reach the model in one splice:
 * GTK 4.8's list view pays for every items-changed until it lays out
 * again, so a burst of single appends would cost it quadratic time. A
 * flood that never lets a frame happen is flushed every so many lines. */
#define FLUSH_AT_LINES         1000

struct _GcChatSession
{
  GObject             parent_instance;

  char               *server_url;
  char               *user_name;
  char               *room;
  GTlsDatabase       *tls_database;

  GcChatSessionState  state;
  char               *failure;
  char               *name_suggestion;

  /* The current attempt or connection. */
  GcWsConnection     *connection;
  gboolean            welcomed;
  GCancellable       *attempt_cancellable;
  guint               attempt_timeout_id;
  gboolean            attempt_timed_out;
  GTask              *join_task;

  /* What the last welcome told us. */
  char               *user_id;
  char               *session_id;
  guint64             last_id;
  GcLimits            limits;

  guint               keepalive_interval_s;
  guint               keepalive_timeout_s;

  /* Reconnection. */
  guint               attempt;
  guint               retry_source_id;
  gint64              retry_deadline;
  guint               retry_seconds;

  GListStore         *messages;
  GPtrArray          *unshown;          /* GcMessageItem, for the next flush */
  guint               flush_id;
  GListStore         *members;
  GHashTable         *members_by_id;    /* USER_ID → GcRoomMember */
  GHashTable         *outgoing;         /* client_id → GcMessageItem, pending or failed */
  GHashTable         *typing;           /* USER_ID → TypingEntry */

  gboolean            typing_sent;
  gint64              typing_sent_at;
  guint               typing_idle_id;
  gboolean            rename_pending;
};

typedef struct {
  GcChatSession *session;
  char          *user_id;
  guint          source_id;
} TypingEntry;

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

static void start_attempt (GcChatSession *self);

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static void
set_state (GcChatSession      *self,
           GcChatSessionState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_failure (GcChatSession *self,
             const char    *failure)
{
  if (g_strcmp0 (self->failure, failure) == 0)
    return;
  g_free (self->failure);
  self->failure = g_strdup (failure);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FAILURE]);
}

static void
set_retry_seconds (GcChatSession *self,
                   guint          seconds)
{
  if (self->retry_seconds == seconds)
    return;
  self->retry_seconds = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_SECONDS]);
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

/* Drops the oldest lines beyond MAX_LINES, and the pending or failed
 * own messages among them. */
static void
trim_lines (GcChatSession *self)
{
  GListModel *model = G_LIST_MODEL (self->messages);
  guint n = g_list_model_get_n_items (model);
  guint excess = n > MAX_LINES ? n - MAX_LINES : 0;

  for (guint i = 0; i < excess; i++)
    {
      g_autoptr(GcMessageItem) oldest = g_list_model_get_item (model, i);
      const char *client_id = gc_message_item_get_client_id (oldest);

      if (client_id != NULL && g_hash_table_lookup (self->outgoing, client_id) == oldest)
        g_hash_table_remove (self->outgoing, client_id);
    }
  if (excess > 0)
    g_list_store_splice (self->messages, 0, excess, NULL, 0);
}

/* Puts the lines that arrived since the last flush into the model. */
static void
flush_lines (GcChatSession *self)
{
  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->unshown->len == 0)
    return;

  g_list_store_splice (self->messages, g_list_model_get_n_items (G_LIST_MODEL (self->messages)), 0,
                       self->unshown->pdata, self->unshown->len);
  g_ptr_array_set_size (self->unshown, 0);
  trim_lines (self);
}

static gboolean
flush_lines_cb (gpointer user_data)
{
  GcChatSession *self = user_data;

  self->flush_id = 0;
  flush_lines (self);
  return G_SOURCE_REMOVE;
}

/* The line shows from the next frame on (before it is drawn). */
static void
append_line (GcChatSession *self,
             GcMessageItem *item)
{
  g_ptr_array_add (self->unshown, g_object_ref (item));
  if (self->unshown->len >= FLUSH_AT_LINES)
    flush_lines (self);
  else if (self->flush_id == 0)
    self->flush_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, flush_lines_cb, self, NULL);
}

static void
append_system_line (GcChatSession *self,
                    gint64         ts,
                    const char    *text)
{
  g_autoptr(GcMessageItem) item = gc_message_item_new_system (ts, text);

  append_line (self, item);
}

/* ------------------------------------------------------------------ */
/* Members and typing                                                   */
/* ------------------------------------------------------------------ */

static void
typing_entry_free (gpointer data)
{
  TypingEntry *entry = data;

  g_clear_handle_id (&entry->source_id, g_source_remove);
  g_free (entry->user_id);
  g_free (entry);
}

static void
set_member_typing (GcChatSession *self,
                   const char    *user_id,
                   gboolean       typing)
{
  GcRoomMember *member = g_hash_table_lookup (self->members_by_id, user_id);

  if (member != NULL)
    gc_room_member_set_typing (member, typing);
}

static gboolean
typing_expired_cb (gpointer data)
{
  TypingEntry *entry = data;
  GcChatSession *self = entry->session;

  entry->source_id = 0;
  set_member_typing (self, entry->user_id, FALSE);
  g_hash_table_remove (self->typing, entry->user_id);
  g_signal_emit (self, signals[TYPING_CHANGED], 0);

  return G_SOURCE_REMOVE;
}

static void
update_typing (GcChatSession *self,
               const char    *user_id,
               gboolean       active)
{
  TypingEntry *entry = g_hash_table_lookup (self->typing, user_id);

  if (!active)
    {
      if (entry == NULL)
        return;
      set_member_typing (self, user_id, FALSE);
      g_hash_table_remove (self->typing, user_id);
    }
  else
    {
      if (entry == NULL)
        {
          entry = g_new0 (TypingEntry, 1);
          entry->session = self;
          entry->user_id = g_strdup (user_id);
          g_hash_table_insert (self->typing, entry->user_id, entry);
        }
      g_clear_handle_id (&entry->source_id, g_source_remove);
      entry->source_id = g_timeout_add (TYPING_EXPIRY_MS, typing_expired_cb, entry);
      set_member_typing (self, user_id, TRUE);
    }

  g_signal_emit (self, signals[TYPING_CHANGED], 0);
}

static void
clear_typing (GcChatSession *self)
{
  GHashTableIter iter;
  gpointer key;

  if (g_hash_table_size (self->typing) == 0)
    return;

  g_hash_table_iter_init (&iter, self->typing);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    set_member_typing (self, key, FALSE);
  g_hash_table_remove_all (self->typing);
  g_signal_emit (self, signals[TYPING_CHANGED], 0);
}

static void
add_member (GcChatSession *self,
            const GcUser  *user)
{
  g_autoptr(GcRoomMember) member = NULL;

  if (g_hash_table_contains (self->members_by_id, user->id))
    return;

  member = gc_room_member_new (user->id, user->name,
                               g_strcmp0 (user->id, self->user_id) == 0);
  g_hash_table_insert (self->members_by_id, g_strdup (user->id), g_object_ref (member));
  g_list_store_insert_sorted (self->members, member, gc_room_member_compare, NULL);
}

static void
remove_member (GcChatSession *self,
               const char    *user_id)
{
  GcRoomMember *member = g_hash_table_lookup (self->members_by_id, user_id);
  guint position;

  if (member == NULL)
    return;

  if (g_list_store_find (self->members, member, &position))
    g_list_store_remove (self->members, position);
  g_hash_table_remove (self->members_by_id, user_id);
}

static void
rename_member (GcChatSession *self,
               const GcUser  *user)
{
  GcRoomMember *member = g_hash_table_lookup (self->members_by_id, user->id);
  guint position;

  if (member == NULL)
    return;

  /* The store is kept sorted by hand: take the member out and put it back
   * where its new name belongs. */
  g_object_ref (member);
  if (g_list_store_find (self->members, member, &position))
    g_list_store_remove (self->members, position);
  gc_room_member_set_name (member, user->name);
  g_list_store_insert_sorted (self->members, member, gc_room_member_compare, NULL);
  g_object_unref (member);
}

/* After a reconnection the join and leave events of the time in between
 * are lost; compare the old and new member lists by name (ids change when
 * the server restarted) and say what changed. */
static void
replace_members (GcChatSession *self,
                 GPtrArray     *users,
                 gboolean       announce)
{
  g_autoptr(GHashTable) old_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) new_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GListModel *model = G_LIST_MODEL (self->members);
  guint n = g_list_model_get_n_items (model);
  gint64 ts = now_ms ();

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcRoomMember) member = g_list_model_get_item (model, i);

      if (!gc_room_member_get_own (member))
        g_hash_table_insert (old_names, gc_protocol_user_name_key (gc_room_member_get_name (member)),
                             g_strdup (gc_room_member_get_name (member)));
    }

  g_hash_table_remove_all (self->members_by_id);
  g_list_store_remove_all (self->members);

  for (guint i = 0; i < users->len; i++)
    {
      const GcUser *user = g_ptr_array_index (users, i);
      g_autofree char *key = NULL;

      add_member (self, user);
      if (!announce || g_strcmp0 (user->id, self->user_id) == 0)
        continue;

      key = gc_protocol_user_name_key (user->name);
      if (!g_hash_table_contains (old_names, key))
        {
          g_autofree char *line = g_strdup_printf (_("%s joined"), user->name);
          append_system_line (self, ts, line);
        }
      g_hash_table_add (new_keys, g_steal_pointer (&key));
    }

  if (announce)
    {
      GHashTableIter iter;
      gpointer key, name;

      g_hash_table_iter_init (&iter, old_names);
      while (g_hash_table_iter_next (&iter, &key, &name))
        if (!g_hash_table_contains (new_keys, key))
          {
            g_autofree char *line = g_strdup_printf (_("%s left"), (const char *) name);
            append_system_line (self, ts, line);
          }
    }
}

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

static void
send_json (GcChatSession *self,
           const char    *json)
{
  if (self->connection == NULL || !self->welcomed ||
      gc_ws_connection_get_state (self->connection) != GC_WS_STATE_OPEN)
    return;
  gc_ws_connection_send_text (self->connection, json, -1);
}

static void
send_item (GcChatSession *self,
           GcMessageItem *item)
{
  g_autofree char *json = NULL;
  GcMessageKind kind = gc_message_item_get_kind (item) == GC_MESSAGE_ITEM_EMOTE
                       ? GC_MESSAGE_KIND_EMOTE : GC_MESSAGE_KIND_TEXT;

  json = gc_request_build_message (gc_message_item_get_text (item), kind,
                                   gc_message_item_get_client_id (item));
  send_json (self, json);
}

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
  if (message->id <= self->last_id)
    return;
  self->last_id = message->id;

  own = g_strcmp0 (message->from->id, self->user_id) == 0;
  if (g_hash_table_contains (self->typing, message->from->id))
    update_typing (self, message->from->id, FALSE);

  if (own && message->client_id != NULL)
    {
      GcMessageItem *pending = g_hash_table_lookup (self->outgoing, message->client_id);

      if (pending != NULL)
        {
          gc_message_item_set_delivered (pending, message->id, message->ts);
          g_hash_table_remove (self->outgoing, message->client_id);
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
  append_line (self, item);

  if (live && !own)
    g_signal_emit (self, signals[MESSAGE_RECEIVED], 0, item);
}

static char *
leave_line (GcLeaveReason  reason,
            const char    *name)
{
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

static void
handle_error_event (GcChatSession *self,
                    GcEvent       *event)
{
  GcMessageItem *item = NULL;
  g_autofree char *line = NULL;

  if (event->error.ref != NULL)
    item = g_hash_table_lookup (self->outgoing, event->error.ref);

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
      if (g_hash_table_contains (self->members_by_id, event->join.user->id))
        break;
      add_member (self, event->join.user);
      line = g_strdup_printf (_("%s joined"), event->join.user->name);
      append_system_line (self, event->join.ts, line);
      break;

    case GC_EVENT_LEAVE:
      if (!g_hash_table_contains (self->members_by_id, event->leave.user->id))
        break;
      update_typing (self, event->leave.user->id, FALSE);
      remove_member (self, event->leave.user->id);
      line = leave_line (event->leave.reason, event->leave.user->name);
      append_system_line (self, event->leave.ts, line);
      break;

    case GC_EVENT_RENAME:
      rename_member (self, event->rename.user);
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
          g_hash_table_contains (self->members_by_id, event->typing.user->id))
        update_typing (self, event->typing.user->id, event->typing.active);
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

/* Own messages still pending after a welcome never reached the server
 * (the history would have carried their echo): send them now, oldest
 * first. */
static void
flush_pending (GcChatSession *self)
{
  GListModel *model = G_LIST_MODEL (self->messages);
  guint n = g_list_model_get_n_items (model);

  if (g_hash_table_size (self->outgoing) == 0)
    return;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcMessageItem) item = g_list_model_get_item (model, i);

      if (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_PENDING &&
          gc_message_item_get_client_id (item) != NULL &&
          g_hash_table_lookup (self->outgoing, gc_message_item_get_client_id (item)) == item)
        send_item (self, item);
    }
}

static void
clear_attempt (GcChatSession *self)
{
  g_clear_handle_id (&self->attempt_timeout_id, g_source_remove);
  g_clear_object (&self->attempt_cancellable);
  self->attempt_timed_out = FALSE;
}

static void
handle_welcome (GcChatSession *self,
                GcWelcome     *welcome)
{
  gboolean first = self->join_task != NULL;
  gboolean limits_changed;

  clear_attempt (self);
  self->welcomed = TRUE;

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
  if (limits_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_TEXT_BYTES]);

  clear_typing (self);
  replace_members (self, welcome->members, !first);

  if (!first && !welcome->resumed)
    append_system_line (self, now_ms (),
                        _("Reconnected. The server did not keep your place, so you joined again."));

  for (guint i = 0; i < welcome->history->len; i++)
    handle_message (self, g_ptr_array_index (welcome->history, i), FALSE);

  self->attempt = 0;
  set_failure (self, NULL);
  set_state (self, GC_CHAT_SESSION_STATE_CONNECTED);

  flush_pending (self);

  if (first)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->join_task);

      g_task_return_boolean (task, TRUE);
    }
}

/* ------------------------------------------------------------------ */
/* Connection, reconnection                                             */
/* ------------------------------------------------------------------ */

static void on_connection_message (GcWsConnection *connection,
                                   GcWsOpcode      opcode,
                                   GBytes         *payload,
                                   gpointer        user_data);
static void on_connection_closed  (GcWsConnection *connection,
                                   gpointer        user_data);

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
 * handshake runs on after the session lets go (holding the application,
 * if any, until it is done), so the others see a clean leave. */
static void
drop_connection (GcChatSession *self,
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

static gboolean
retry_tick_cb (gpointer user_data)
{
  GcChatSession *self = user_data;
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

/* Exponential backoff (1, 2, 4 … 30 s) with jitter, so clients dropped
 * together by a restarting server do not all come back at once. */
static void
schedule_retry (GcChatSession *self,
                guint64        min_delay_ms)
{
  guint64 base_ms, delay_ms;

  g_clear_handle_id (&self->retry_source_id, g_source_remove);

  self->attempt++;
  base_ms = MIN ((guint64) BACKOFF_MAX_S, (guint64) 1 << MIN (self->attempt - 1, 5)) * 1000;
  delay_ms = (guint64) (base_ms * g_random_double_range (0.5, 1.0));
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
    case GC_PROTOCOL_ERROR_FAILED:
      return TRUE;
    default:
      return FALSE;
    }
}

/* An attempt (first join or reconnection) ended without a welcome. */
static void
attempt_failed (GcChatSession *self,
                GError        *error,
                guint64        retry_after_ms)
{
  drop_connection (self, 0);
  clear_attempt (self);

  if (self->join_task != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->join_task);

      set_state (self, GC_CHAT_SESSION_STATE_CLOSED);
      g_task_return_error (task, error);
      return;
    }

  if (refusal_is_transient (error))
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
connection_lost (GcChatSession *self,
                 gushort        close_code)
{
  drop_connection (self, 0);
  clear_typing (self);
  self->typing_sent = FALSE;
  g_clear_handle_id (&self->typing_idle_id, g_source_remove);

  if (close_code == 4000)
    {
      set_failure (self, _("Another connection took over this session."));
      set_state (self, GC_CHAT_SESSION_STATE_FAILED);
      return;
    }

  self->attempt = 0;
  set_failure (self, close_code == GC_WS_CLOSE_GOING_AWAY
                     ? _("The server is restarting.") : _("Connection lost."));
  schedule_retry (self, 0);
}

static void
handle_event_text (GcChatSession *self,
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

  if (!self->welcomed)
    {
      if (event->type != GC_EVENT_WELCOME || event->welcome->protocol != GC_PROTOCOL_VERSION)
        {
          attempt_failed (self,
                          g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_NOT_GOCHAT,
                                       _("The server at %s does not speak GoChat protocol version %d."),
                                       self->server_url, GC_PROTOCOL_VERSION),
                          0);
          return;
        }
      handle_welcome (self, event->welcome);
      return;
    }

  handle_event (self, event);
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
  handle_event_text (user_data, data, len);
}

static void
on_connection_closed (GcWsConnection *connection,
                      gpointer        user_data)
{
  GcChatSession *self = user_data;
  gushort code = gc_ws_connection_get_close_code (connection);

  if (!self->welcomed)
    {
      attempt_failed (self,
                      g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_NOT_GOCHAT,
                                   _("The server at %s closed the connection before letting us in."),
                                   self->server_url),
                      0);
      return;
    }

  connection_lost (self, code);
}

/* Turns a refusal body `{"error":…,"message":…}` into an error. */
static GError *
refusal_to_error (GcChatSession *self,
                  guint          status,
                  GBytes        *body,
                  guint64       *retry_after_ms)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *object;
  const char *code_str, *message;
  GcProtocolError code;

  *retry_after_ms = 0;

  if (body == NULL ||
      !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                   (gssize) g_bytes_get_size (body), NULL) ||
      (root = json_parser_get_root (parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root))
    return g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_NOT_GOCHAT,
                        _("The server at %s answered with HTTP status %u and is not a GoChat server."),
                        self->server_url, status);

  object = json_node_get_object (root);
  code_str = json_object_get_string_member_with_default (object, "error", NULL);
  message = json_object_get_string_member_with_default (object, "message", NULL);
  if (!gc_protocol_error_from_string (code_str, &code))
    code = GC_PROTOCOL_ERROR_FAILED;
  if (message == NULL || *message == '\0')
    message = code_str != NULL ? code_str : _("no reason given");

  if (code == GC_PROTOCOL_ERROR_NAME_TAKEN)
    {
      const char *suggestion = json_object_get_string_member_with_default (object, "suggestion", NULL);
      g_autofree char *normalized = gc_protocol_normalize_user_name (suggestion, NULL);

      g_free (self->name_suggestion);
      self->name_suggestion = g_steal_pointer (&normalized);
    }
  if (code == GC_PROTOCOL_ERROR_RATE_LIMITED)
    {
      JsonNode *node = json_object_get_member (object, "retry_after_ms");

      if (node != NULL && json_node_get_value_type (node) == G_TYPE_INT64 &&
          json_node_get_int (node) > 0)
        *retry_after_ms = (guint64) json_node_get_int (node);
    }

  return g_error_new (GC_PROTOCOL_ERROR, code, "%s", message);
}

static GError *
connect_error_to_error (GcChatSession *self,
                        const GError  *error)
{
  if (error->domain == G_TLS_ERROR)
    return g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_TLS,
                        _("The secure connection to %s failed: %s"),
                        self->server_url, error->message);
  if (error->domain == GC_WS_HANDSHAKE_ERROR)
    return g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_NOT_GOCHAT,
                        _("The server at %s is not a GoChat server: %s"),
                        self->server_url, error->message);
  return g_error_new (GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_UNREACHABLE,
                      _("Could not reach the server at %s: %s"),
                      self->server_url, error->message);
}

typedef struct {
  GcChatSession *session;
  GCancellable  *cancellable;
} Attempt;

static void
attempt_free (Attempt *attempt)
{
  g_object_unref (attempt->session);
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
  GcChatSession *self = attempt->session;
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
        reported = connect_error_to_error (self, error);

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
  GcChatSession *self = user_data;

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

static char *
build_join_url (GcChatSession *self)
{
  g_autoptr(GUri) base = g_uri_parse (self->server_url, G_URI_FLAGS_ENCODED, NULL);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GString) query = g_string_new (NULL);
  g_autofree char *room = g_uri_escape_string (self->room, NULL, FALSE);
  g_autofree char *name = g_uri_escape_string (self->user_name, NULL, FALSE);
  g_autofree char *path = NULL;
  const char *base_path;
  gsize base_len;

  g_return_val_if_fail (base != NULL, NULL);

  g_string_append_printf (query, "room_code=%s&user_name=%s", room, name);
  if (self->session_id != NULL)
    {
      g_autofree char *token = g_uri_escape_string (self->session_id, NULL, FALSE);

      g_string_append_printf (query, "&session_id=%s", token);
      if (self->last_id > 0)
        g_string_append_printf (query, "&since=%" G_GUINT64_FORMAT, self->last_id);
    }

  /* The server may live under a path (behind a proxy): keep it. */
  base_path = g_uri_get_path (base);
  base_len = strlen (base_path);
  while (base_len > 0 && base_path[base_len - 1] == '/')
    base_len--;
  path = g_strdup_printf ("%.*s/joinRoom", (int) base_len, base_path);

  uri = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (base), NULL,
                     g_uri_get_host (base), g_uri_get_port (base),
                     path, query->str, NULL);
  return g_uri_to_string (uri);
}

static void
start_attempt (GcChatSession *self)
{
  static const char * const protocols[] = { GC_PROTOCOL_SUBPROTOCOL, NULL };
  g_autofree char *url = build_join_url (self);
  Attempt *attempt;

  g_clear_handle_id (&self->retry_source_id, g_source_remove);
  set_retry_seconds (self, 0);
  drop_connection (self, 0);
  clear_attempt (self);

  if (self->join_task == NULL)
    set_state (self, GC_CHAT_SESSION_STATE_RECONNECTING);

  self->attempt_cancellable = g_cancellable_new ();
  self->attempt_timeout_id = g_timeout_add_seconds (ATTEMPT_TIMEOUT_S, attempt_timeout_cb, self);

  attempt = g_new0 (Attempt, 1);
  attempt->session = g_object_ref (self);
  attempt->cancellable = g_object_ref (self->attempt_cancellable);
  gc_ws_connect_async (url, NULL, protocols, self->tls_database, NULL,
                       self->attempt_cancellable, connect_cb, attempt);
}

static void
cancel_attempt (GcChatSession *self)
{
  if (self->attempt_cancellable != NULL)
    g_cancellable_cancel (self->attempt_cancellable);
  clear_attempt (self);
}

/* ------------------------------------------------------------------ */
/* GObject                                                              */
/* ------------------------------------------------------------------ */

static void
gc_chat_session_dispose (GObject *object)
{
  GcChatSession *self = GC_CHAT_SESSION (object);

  if (self->state != GC_CHAT_SESSION_STATE_CLOSED && self->state != GC_CHAT_SESSION_STATE_NEW)
    gc_chat_session_leave (self);

  cancel_attempt (self);
  drop_connection (self, 0);
  g_clear_handle_id (&self->retry_source_id, g_source_remove);
  g_clear_handle_id (&self->typing_idle_id, g_source_remove);
  g_hash_table_remove_all (self->typing);
  g_hash_table_remove_all (self->outgoing);
  g_hash_table_remove_all (self->members_by_id);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  g_ptr_array_set_size (self->unshown, 0);

  G_OBJECT_CLASS (gc_chat_session_parent_class)->dispose (object);
}

static void
gc_chat_session_finalize (GObject *object)
{
  GcChatSession *self = GC_CHAT_SESSION (object);

  g_free (self->server_url);
  g_free (self->user_name);
  g_free (self->room);
  g_clear_object (&self->tls_database);
  g_free (self->failure);
  g_free (self->name_suggestion);
  g_free (self->user_id);
  g_free (self->session_id);
  g_clear_object (&self->messages);
  g_ptr_array_unref (self->unshown);
  g_clear_object (&self->members);
  g_hash_table_unref (self->members_by_id);
  g_hash_table_unref (self->outgoing);
  g_hash_table_unref (self->typing);

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
      g_value_set_uint (value, self->retry_seconds);
      break;
    case PROP_FAILURE:
      g_value_set_string (value, self->failure);
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
gc_chat_session_init (GcChatSession *self)
{
  gc_limits_init_default (&self->limits);
  self->keepalive_interval_s = KEEPALIVE_INTERVAL_S;
  self->keepalive_timeout_s = KEEPALIVE_TIMEOUT_S;
  self->messages = g_list_store_new (GC_TYPE_MESSAGE_ITEM);
  self->unshown = g_ptr_array_new_with_free_func (g_object_unref);
  self->members = g_list_store_new (GC_TYPE_ROOM_MEMBER);
  self->members_by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->outgoing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->typing = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, typing_entry_free);
}

/* ------------------------------------------------------------------ */
/* Public API                                                           */
/* ------------------------------------------------------------------ */

char *
gc_chat_session_normalize_server_url (const char  *url,
                                      GError     **error)
{
  g_autofree char *trimmed = NULL;
  g_autofree char *with_scheme = NULL;
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
  uri = g_uri_parse (with_scheme, G_URI_FLAGS_ENCODED, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "ws") != 0 && g_ascii_strcasecmp (scheme, "wss") != 0))
    {
      g_set_error_literal (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL,
                           _("The address must start with ws:// or wss://"));
      return NULL;
    }
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

  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  path = g_strdup (g_uri_get_path (uri));
  len = strlen (path);
  while (len > 0 && path[len - 1] == '/')
    path[--len] = '\0';

  clean = g_uri_build (G_URI_FLAGS_ENCODED, g_ascii_strcasecmp (scheme, "wss") == 0 ? "wss" : "ws",
                       NULL, host, g_uri_get_port (uri), path, NULL, NULL);
  return g_uri_to_string (clean);
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

  return self;
}

void
gc_chat_session_set_tls_database (GcChatSession *self,
                                  GTlsDatabase  *database)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  g_set_object (&self->tls_database, database);
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

  g_clear_pointer (&self->name_suggestion, g_free);
  set_state (self, GC_CHAT_SESSION_STATE_JOINING);
  start_attempt (self);
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
  return self->name_suggestion;
}

void
gc_chat_session_leave (GcChatSession *self)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  if (self->state == GC_CHAT_SESSION_STATE_CLOSED)
    return;

  if (self->typing_sent)
    gc_chat_session_set_typing (self, FALSE);

  cancel_attempt (self);
  g_clear_handle_id (&self->retry_source_id, g_source_remove);
  g_clear_handle_id (&self->typing_idle_id, g_source_remove);
  set_retry_seconds (self, 0);
  drop_connection (self, GC_WS_CLOSE_NORMAL);
  clear_typing (self);
  set_state (self, GC_CHAT_SESSION_STATE_CLOSED);

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
  return self->retry_seconds;
}

const char *
gc_chat_session_get_failure (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return self->failure;
}

void
gc_chat_session_reconnect_now (GcChatSession *self)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  if (self->state != GC_CHAT_SESSION_STATE_WAITING &&
      self->state != GC_CHAT_SESSION_STATE_FAILED &&
      self->state != GC_CHAT_SESSION_STATE_RECONNECTING)
    return;

  cancel_attempt (self);
  start_attempt (self);
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
  return G_LIST_MODEL (self->messages);
}

GListModel *
gc_chat_session_get_members (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return G_LIST_MODEL (self->members);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_utf8_collate (*(const char * const *) a, *(const char * const *) b);
}

GStrv
gc_chat_session_dup_typing_names (GcChatSession *self)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);

  g_hash_table_iter_init (&iter, self->typing);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      GcRoomMember *member = g_hash_table_lookup (self->members_by_id, key);

      if (member != NULL)
        g_ptr_array_add (names, g_strdup (gc_room_member_get_name (member)));
    }
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);

  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

static gboolean
has_visible_character (const char *text)
{
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
  if (!has_visible_character (text))
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
  g_hash_table_insert (self->outgoing, g_strdup (client_id), g_object_ref (item));
  /* What the user sends shows at once. */
  append_line (self, item);
  flush_lines (self);
  send_item (self, item);

  /* A message ends typing for everyone who sees it (the server forgets
   * it too), so no `typing false` needs to follow. */
  self->typing_sent = FALSE;
  g_clear_handle_id (&self->typing_idle_id, g_source_remove);

  return item;
}

void
gc_chat_session_retry_message (GcChatSession *self,
                               const char    *client_id)
{
  GcMessageItem *item;

  g_return_if_fail (GC_IS_CHAT_SESSION (self));
  g_return_if_fail (client_id != NULL);

  item = g_hash_table_lookup (self->outgoing, client_id);
  if (item == NULL || gc_message_item_get_state (item) != GC_MESSAGE_ITEM_FAILED)
    return;

  gc_message_item_set_pending (item);
  send_item (self, item);
}

gboolean
gc_chat_session_rename (GcChatSession  *self,
                        const char     *name,
                        GError        **error)
{
  g_autofree char *normalized = NULL;
  g_autofree char *json = NULL;

  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  normalized = gc_protocol_normalize_user_name (name, error);
  if (normalized == NULL)
    return FALSE;

  if (self->state != GC_CHAT_SESSION_STATE_CONNECTED)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                           _("You can change your name once you are connected again."));
      return FALSE;
    }

  json = gc_request_build_rename (normalized);
  self->rename_pending = TRUE;
  send_json (self, json);
  return TRUE;
}

static gboolean
typing_idle_cb (gpointer user_data)
{
  GcChatSession *self = user_data;

  self->typing_idle_id = 0;
  gc_chat_session_set_typing (self, FALSE);
  return G_SOURCE_REMOVE;
}

void
gc_chat_session_set_typing (GcChatSession *self,
                            gboolean       typing)
{
  gint64 now = g_get_monotonic_time ();

  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  if (self->state != GC_CHAT_SESSION_STATE_CONNECTED)
    return;

  if (typing)
    {
      gint64 gap = self->typing_sent ? TYPING_REFRESH_US : TYPING_MIN_GAP_US;

      if (now - self->typing_sent_at >= gap)
        {
          g_autofree char *json = gc_request_build_typing (TRUE);

          send_json (self, json);
          self->typing_sent = TRUE;
          self->typing_sent_at = now;
        }
      g_clear_handle_id (&self->typing_idle_id, g_source_remove);
      self->typing_idle_id = g_timeout_add (TYPING_IDLE_MS, typing_idle_cb, self);
    }
  else
    {
      g_clear_handle_id (&self->typing_idle_id, g_source_remove);
      if (self->typing_sent)
        {
          g_autofree char *json = gc_request_build_typing (FALSE);

          send_json (self, json);
          self->typing_sent = FALSE;
        }
    }
}

void
gc_chat_session_add_notice (GcChatSession *self,
                            const char    *text)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));
  g_return_if_fail (text != NULL);

  append_system_line (self, now_ms (), text);
  flush_lines (self);
}

GcWsConnection *
gc_chat_session_get_connection (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), NULL);
  return self->connection;
}

guint
gc_chat_session_get_attempt (GcChatSession *self)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (self), 0);
  return self->attempt;
}

void
gc_chat_session_set_keepalive (GcChatSession *self,
                               guint          interval_s,
                               guint          timeout_s)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));

  self->keepalive_interval_s = interval_s;
  self->keepalive_timeout_s = timeout_s;
  if (self->connection != NULL)
    gc_ws_connection_set_keepalive (self->connection, interval_s, timeout_s);
}

void
gc_chat_session_feed_event (GcChatSession *self,
                            const char    *json)
{
  g_return_if_fail (GC_IS_CHAT_SESSION (self));
  g_return_if_fail (json != NULL);
  g_return_if_fail (self->welcomed);

  handle_event_text (self, json, strlen (json));
}
