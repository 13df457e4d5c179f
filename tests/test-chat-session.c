/* test-chat-session.c: GcChatSession and the objects under it, without widgets
 *
 * Sessions talk to a real GcServer in the same main loop over loopback
 * sockets; waits spin the loop until a condition holds, with a deadline.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "gc-app-enums.h"
#include "gc-application.h"
#include "gc-chat-session-private.h"
#include "gc-compose-command.h"
#include "gc-invite-link.h"
#include "gc-local-host.h"
#include "gc-member-roster.h"
#include "gc-message-log.h"
#include "gc-open-rooms.h"
#include "gc-room-code.h"
#include "gc-message-row.h"
#include "gc-server-address.h"
#include "gc-session-link.h"
#include "gc-test-server.h"
#include "gc-ws-poller-private.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* Every WebSocket connection of this process closed (the sessions' and
 * the in-process servers' ends): the closing handshakes ran out. */
static gboolean
all_connections_closed (void)
{
  return gc_ws_poller_get_n_connections (gc_ws_poller_get_default ()) == 0;
}

static GcMessageItem *
find_item (GcChatSession *session,
           const char    *text)
{
  GListModel *model = gc_chat_session_get_messages (session);
  guint n = g_list_model_get_n_items (model);

  for (guint i = n; i > 0; i--)
    {
      g_autoptr(GcMessageItem) item = g_list_model_get_item (model, i - 1);

      if (g_strcmp0 (gc_message_item_get_text (item), text) == 0)
        return item;  /* the model holds it */
    }
  return NULL;
}

static guint
count_items (GcChatSession *session,
             const char    *text)
{
  GListModel *model = gc_chat_session_get_messages (session);
  guint n = g_list_model_get_n_items (model), count = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcMessageItem) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (gc_message_item_get_text (item), text) == 0)
        count++;
    }
  return count;
}

static GcRoomMember *
find_member (GcChatSession *session,
             const char    *name)
{
  GListModel *model = gc_chat_session_get_members (session);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcRoomMember) member = g_list_model_get_item (model, i);

      if (g_strcmp0 (gc_room_member_get_name (member), name) == 0)
        return member;  /* the model holds it */
    }
  return NULL;
}

/* Starts @ts again on its port, with @config (NULL: the test defaults). */
static void
restart_server (GcTestServer         *ts,
                const GcServerConfig *config)
{
  GcTestServerOptions options = { .config = config, .port = ts->port };

  gc_test_server_start (ts, &options);
}

static void
join_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GError **error = user_data;

  if (!gc_chat_session_join_finish (GC_CHAT_SESSION (source), result, error) && *error == NULL)
    g_assert_not_reached ();
}

/* ------------------------------------------------------------------ */
/* Enum GTypes                                                          */
/* ------------------------------------------------------------------ */

static void
assert_enum_property (GType        object_type,
                      const char  *property,
                      GType        enum_type)
{
  g_autoptr(GTypeClass) klass = g_type_class_ref (object_type);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_CLASS (klass), property);

  g_assert_nonnull (pspec);
  g_assert_true (G_IS_PARAM_SPEC_ENUM (pspec));
  g_assert_true (pspec->value_type == enum_type);
}

static const char *
nick (GType type,
      int   value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *enum_value = g_enum_get_value (klass, value);

  g_assert_nonnull (enum_value);
  return g_intern_string (enum_value->value_nick);
}

static void
test_enums (void)
{
  assert_enum_property (GC_TYPE_CHAT_SESSION, "state", GC_TYPE_CHAT_SESSION_STATE);
  assert_enum_property (GC_TYPE_MESSAGE_ITEM, "state", GC_TYPE_MESSAGE_ITEM_STATE);

  g_assert_cmpstr (nick (GC_TYPE_CHAT_SESSION_STATE, GC_CHAT_SESSION_STATE_WAITING), ==, "waiting");
  g_assert_cmpstr (nick (GC_TYPE_CHAT_SESSION_STATE, GC_CHAT_SESSION_STATE_CLOSED), ==, "closed");
  g_assert_cmpstr (nick (GC_TYPE_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_REPLACED), ==, "replaced");
  g_assert_cmpstr (nick (GC_TYPE_MESSAGE_ITEM_STATE, GC_MESSAGE_ITEM_PENDING), ==, "pending");
  g_assert_cmpstr (nick (GC_TYPE_MESSAGE_ITEM_KIND, GC_MESSAGE_ITEM_EMOTE), ==, "emote");
  g_assert_cmpstr (nick (GC_TYPE_COMPOSE_COMMAND_KIND, GC_COMPOSE_COMMAND_JOIN), ==, "join");
  g_assert_cmpstr (nick (GC_TYPE_COMPOSE_ERROR, GC_COMPOSE_ERROR_UNKNOWN_COMMAND), ==, "unknown-command");
  g_assert_cmpstr (nick (GC_TYPE_INVITE_LINK_ERROR, GC_INVITE_LINK_ERROR_BAD_ROOM), ==, "bad-room");
}

/* The state property notifies through its enum type, and reads back. */
static void
state_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 GArray     *states)
{
  GcChatSessionState state;

  g_object_get (object, "state", &state, NULL);
  g_assert_cmpint (state, ==, gc_chat_session_get_state (GC_CHAT_SESSION (object)));
  g_array_append_val (states, state);
}

static void
test_state_property (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GArray) states = g_array_new (FALSE, FALSE, sizeof (GcChatSessionState));
  g_autoptr(GError) error = NULL;

  ts = gc_test_server_new (NULL);
  session = gc_chat_session_new (ts->url, "alice", "enums");
  g_signal_connect (session, "notify::state", G_CALLBACK (state_notify_cb), states);
  gc_chat_session_join_async (session, join_cb, &error);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_no_error (error);
  gc_chat_session_leave (session);

  g_assert_cmpuint (states->len, ==, 3);
  g_assert_cmpint (g_array_index (states, GcChatSessionState, 0), ==, GC_CHAT_SESSION_STATE_JOINING);
  g_assert_cmpint (g_array_index (states, GcChatSessionState, 1), ==, GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_cmpint (g_array_index (states, GcChatSessionState, 2), ==, GC_CHAT_SESSION_STATE_CLOSED);

  g_clear_object (&session);
  gc_test_wait (all_connections_closed ());
}

/* ------------------------------------------------------------------ */
/* The message log                                                      */
/* ------------------------------------------------------------------ */

static GcMessageItem *
text_item (guint64     id,
           const char *text,
           const char *client_id)
{
  return gc_message_item_new (GC_MESSAGE_ITEM_TEXT, id, 1000, "u1", "alice", text, client_id,
                              client_id != NULL);
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  guint      *n_changes)
{
  (*n_changes)++;
}

static void
test_message_log_batching (void)
{
  g_autoptr(GcMessageLog) log = gc_message_log_new ();
  GListModel *model = gc_message_log_get_model (log);
  guint n_changes = 0;

  g_signal_connect (model, "items-changed", G_CALLBACK (items_changed_cb), &n_changes);

  /* Lines arrive in a batch: none shows before the loop runs, then all
   * at once, in one splice. */
  for (guint i = 1; i <= 50; i++)
    {
      g_autofree char *text = g_strdup_printf ("line %u", i);
      g_autoptr(GcMessageItem) item = text_item (i, text, NULL);

      g_assert_true (gc_message_log_take_id (log, i));
      gc_message_log_append (log, item);
    }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  gc_test_wait (g_list_model_get_n_items (model) == 50);
  g_assert_cmpuint (n_changes, ==, 1);

  /* Ids at or below the last one are duplicates. */
  g_assert_false (gc_message_log_take_id (log, 50));
  g_assert_false (gc_message_log_take_id (log, 3));
  g_assert_true (gc_message_log_take_id (log, 51));
  g_assert_cmpuint (gc_message_log_get_last_id (log), ==, 51);

  /* A notice shows at once when flushed. */
  gc_message_log_append_system (log, 2000, "a notice");
  gc_message_log_flush (log);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 51);
  g_assert_cmpuint (n_changes, ==, 2);
}

static void
test_message_log_outgoing (void)
{
  g_autoptr(GcMessageLog) log = gc_message_log_new ();
  GListModel *model = gc_message_log_get_model (log);
  g_autoptr(GcMessageItem) first = text_item (0, "first", "c1");
  g_autoptr(GcMessageItem) second = text_item (0, "second", "c2");
  g_autoptr(GcMessageItem) third = text_item (0, "third", "c3");
  g_autoptr(GPtrArray) pending = NULL;
  g_autoptr(GPtrArray) failed = NULL;

  /* Own messages show at once, and stay findable by client id. */
  gc_message_log_add_outgoing (log, first);
  gc_message_log_add_outgoing (log, second);
  gc_message_log_add_outgoing (log, third);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 3);
  g_assert_true (gc_message_log_lookup_outgoing (log, "c2") == second);
  g_assert_null (gc_message_log_lookup_outgoing (log, "nope"));
  g_assert_null (gc_message_log_lookup_outgoing (log, NULL));

  gc_message_item_set_failed (second, "refused");
  gc_message_item_set_delivered (first, 7, 3000);
  gc_message_log_remove_outgoing (log, "c1");

  /* In the order they were sent, by state. */
  pending = gc_message_log_dup_outgoing (log, GC_MESSAGE_ITEM_PENDING);
  failed = gc_message_log_dup_outgoing (log, GC_MESSAGE_ITEM_FAILED);
  g_assert_cmpuint (pending->len, ==, 1);
  g_assert_true (g_ptr_array_index (pending, 0) == third);
  g_assert_cmpuint (failed->len, ==, 1);
  g_assert_true (g_ptr_array_index (failed, 0) == second);
}

static void
test_message_log_trimming (void)
{
  g_autoptr(GcMessageLog) log = gc_message_log_new ();
  GListModel *model = gc_message_log_get_model (log);
  g_autoptr(GcMessageItem) oldest_own = text_item (0, "own", "c-old");
  g_autoptr(GcMessageItem) first = NULL;

  gc_message_log_add_outgoing (log, oldest_own);
  for (guint i = 1; i <= GC_MESSAGE_LOG_MAX_LINES + 10; i++)
    {
      g_autoptr(GcMessageItem) item = text_item (i, "x", NULL);

      gc_message_log_append (log, item);
    }
  gc_message_log_flush (log);

  /* The oldest went, and the own message among them is forgotten. */
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, GC_MESSAGE_LOG_MAX_LINES);
  first = g_list_model_get_item (model, 0);
  g_assert_cmpuint (gc_message_item_get_id (first), ==, 11);
  g_assert_null (gc_message_log_lookup_outgoing (log, "c-old"));
}

/* ------------------------------------------------------------------ */
/* The member roster                                                    */
/* ------------------------------------------------------------------ */

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

static GcRoomMember *
member_at (GcMemberRoster *roster,
           guint           position)
{
  GcRoomMember *member = g_list_model_get_item (gc_member_roster_get_model (roster), position);

  g_object_unref (member);  /* the roster holds it */
  return member;
}

static void
test_member_roster (void)
{
  g_autoptr(GcMemberRoster) roster = gc_member_roster_new ();
  GcUser me = { .id = "u1", .name = "me" };
  GcUser bob = { .id = "u2", .name = "Bob" };
  GcUser carol = { .id = "u3", .name = "carol" };
  GcUser dave = { .id = "u9", .name = "dave" };
  GcUser bob_again = { .id = "u7", .name = "BOB" };
  GcUser renamed = { .id = "u3", .name = "alice" };
  g_autoptr(GPtrArray) users = g_ptr_array_new ();
  g_autoptr(GPtrArray) joined = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) left = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) typing = NULL;
  guint typing_changes = 0;

  g_signal_connect (roster, "typing-changed", G_CALLBACK (count_cb), &typing_changes);

  g_assert_true (gc_member_roster_add (roster, &me, TRUE));
  g_assert_true (gc_member_roster_add (roster, &carol, FALSE));
  g_assert_true (gc_member_roster_add (roster, &bob, FALSE));
  g_assert_false (gc_member_roster_add (roster, &bob, FALSE));
  /* Sorted by name, ignoring case. */
  g_assert_cmpstr (gc_room_member_get_name (member_at (roster, 0)), ==, "Bob");
  g_assert_cmpstr (gc_room_member_get_name (member_at (roster, 1)), ==, "carol");
  g_assert_true (gc_room_member_get_own (gc_member_roster_lookup (roster, "u1")));

  gc_member_roster_rename (roster, &renamed);
  g_assert_cmpstr (gc_room_member_get_name (member_at (roster, 0)), ==, "alice");

  /* Typing. */
  gc_member_roster_set_typing (roster, "u2", TRUE);
  gc_member_roster_set_typing (roster, "u3", TRUE);
  g_assert_true (gc_member_roster_is_typing (roster, "u2"));
  g_assert_true (gc_room_member_get_typing (gc_member_roster_lookup (roster, "u2")));
  typing = gc_member_roster_dup_typing_names (roster);
  g_assert_cmpuint (g_strv_length (typing), ==, 2);
  /* (Sorted by the locale's collation.) */
  g_assert_true (g_strv_contains ((const char * const *) typing, "alice"));
  g_assert_true (g_strv_contains ((const char * const *) typing, "Bob"));
  g_assert_cmpuint (typing_changes, ==, 2);
  /* Leaving ends typing. */
  g_assert_true (gc_member_roster_remove (roster, "u2"));
  g_assert_false (gc_member_roster_remove (roster, "u2"));
  g_assert_false (gc_member_roster_is_typing (roster, "u2"));
  g_assert_cmpuint (typing_changes, ==, 3);
  gc_member_roster_clear_typing (roster);
  g_assert_false (gc_room_member_get_typing (gc_member_roster_lookup (roster, "u3")));
  g_assert_cmpuint (typing_changes, ==, 4);

  /* A welcome after a reconnection: compared by folded name, as ids
   * change when the server restarted. */
  g_ptr_array_add (users, &me);
  g_ptr_array_add (users, &bob_again);
  g_ptr_array_add (users, &dave);
  gc_member_roster_add (roster, &bob, FALSE);
  gc_member_roster_replace (roster, users, "u1", joined, left);
  g_assert_cmpuint (joined->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (joined, 0), ==, "dave");
  g_assert_cmpuint (left->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (left, 0), ==, "alice");
  g_assert_cmpuint (g_list_model_get_n_items (gc_member_roster_get_model (roster)), ==, 3);
  g_assert_nonnull (gc_member_roster_lookup (roster, "u7"));
  g_assert_null (gc_member_roster_lookup (roster, "u2"));
}

static void
test_typing_expires (void)
{
  g_autoptr(GcMemberRoster) roster = gc_member_roster_new ();
  GcUser bob = { .id = "u2", .name = "bob" };
  guint typing_changes = 0;

  g_signal_connect (roster, "typing-changed", G_CALLBACK (count_cb), &typing_changes);
  gc_member_roster_add (roster, &bob, FALSE);
  gc_member_roster_set_typing (roster, "u2", TRUE);
  /* Nobody refreshes it: it ends by itself after ~6 s. */
  gc_test_wait (!gc_member_roster_is_typing (roster, "u2"));
  g_assert_false (gc_room_member_get_typing (gc_member_roster_lookup (roster, "u2")));
  g_assert_cmpuint (typing_changes, ==, 2);
}

/* ------------------------------------------------------------------ */
/* Open rooms                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
  guint position, removed, added, count;
} ItemsChanged;

static void
record_items_changed_cb (GListModel   *model,
                         guint         position,
                         guint         removed,
                         guint         added,
                         ItemsChanged *changed)
{
  changed->position = position;
  changed->removed = removed;
  changed->added = added;
  changed->count++;
}

static void
test_open_rooms_model (void)
{
  g_autoptr(GcOpenRooms) rooms = gc_open_rooms_new ();
  g_autoptr(GcChatSession) one = gc_chat_session_new ("ws://chat.example.org:8081", "alice", "team");
  g_autoptr(GcChatSession) two = gc_chat_session_new ("ws://chat.example.org:8081", "alice", "other");
  g_autoptr(GcChatSession) three = gc_chat_session_new ("wss://elsewhere.example", "al", "team");
  g_autoptr(GcChatSession) item = NULL;
  ItemsChanged changed = { 0 };
  guint position;

  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (rooms)) == GC_TYPE_CHAT_SESSION);
  g_signal_connect (rooms, "items-changed", G_CALLBACK (record_items_changed_cb), &changed);

  gc_open_rooms_add (rooms, one, TRUE);
  gc_open_rooms_add (rooms, two, TRUE);
  gc_open_rooms_add (rooms, three, FALSE);
  gc_open_rooms_add (rooms, two, TRUE);  /* once only */
  g_assert_cmpuint (changed.count, ==, 3);
  g_assert_cmpuint (changed.position, ==, 2);
  g_assert_cmpuint (changed.added, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (rooms)), ==, 3);
  item = g_list_model_get_item (G_LIST_MODEL (rooms), 1);
  g_assert_true (item == two);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (rooms), 3));

  /* Lookup takes the forms people type. */
  g_assert_true (gc_open_rooms_lookup (rooms, "ws://chat.example.org:8081", "team") == one);
  g_assert_true (gc_open_rooms_lookup (rooms, "chat.example.org:8081/", "TEAM") == one);
  g_assert_true (gc_open_rooms_lookup (rooms, "WS://Chat.Example.org:8081", "Other") == two);
  g_assert_true (gc_open_rooms_lookup (rooms, "wss://elsewhere.example/", "team") == three);
  g_assert_null (gc_open_rooms_lookup (rooms, "ws://chat.example.org:8082", "team"));
  g_assert_null (gc_open_rooms_lookup (rooms, "ws://chat.example.org:8081", "nope"));

  g_assert_true (gc_open_rooms_find (rooms, three, &position));
  g_assert_cmpuint (position, ==, 2);

  g_assert_true (gc_open_rooms_remove (rooms, two));
  g_assert_false (gc_open_rooms_remove (rooms, two));
  g_assert_cmpuint (changed.count, ==, 4);
  g_assert_cmpuint (changed.position, ==, 1);
  g_assert_cmpuint (changed.removed, ==, 1);
  g_assert_cmpuint (changed.added, ==, 0);
  g_assert_null (gc_open_rooms_lookup (rooms, "ws://chat.example.org:8081", "other"));
  g_assert_true (gc_open_rooms_find (rooms, three, &position));
  g_assert_cmpuint (position, ==, 1);
}

static char *
saved_value (GSettings *settings)
{
  g_autoptr(GVariant) value = g_settings_get_value (settings, "open-rooms");

  return g_variant_print (value, FALSE);
}

static void
test_open_rooms_persistence (void)
{
  g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr(GSettings) settings = g_settings_new_with_backend (GC_APPLICATION_ID, backend);
  g_autoptr(GcOpenRooms) rooms = gc_open_rooms_new ();
  g_autoptr(GcOpenRooms) restarted = NULL;
  g_autoptr(GcChatSession) one = gc_chat_session_new ("ws://chat.example.org:8081", "alice", "team");
  g_autoptr(GcChatSession) hosted = gc_chat_session_new ("ws://127.0.0.1:8081", "alice", "mine");
  g_autoptr(GcChatSession) two = gc_chat_session_new ("wss://elsewhere.example", "al", "other");
  g_autoptr(GcChatSession) back = NULL;
  g_autoptr(GPtrArray) saved = NULL;
  g_autofree char *value = NULL;
  GcSavedRoom *room;

  /* Nothing saved yet. */
  gc_open_rooms_bind_settings (rooms, settings);
  saved = gc_open_rooms_dup_saved (rooms);
  g_assert_cmpuint (saved->len, ==, 0);
  g_clear_pointer (&saved, g_ptr_array_unref);

  /* Every change is written; a hosted room is not kept. */
  gc_open_rooms_add (rooms, one, TRUE);
  gc_open_rooms_add (rooms, hosted, FALSE);
  gc_open_rooms_add (rooms, two, TRUE);
  value = saved_value (settings);
  g_assert_cmpstr (value, ==, "[('ws://chat.example.org:8081', 'alice', 'team'), "
                              "('wss://elsewhere.example', 'al', 'other')]");
  g_clear_pointer (&value, g_free);
  gc_open_rooms_remove (rooms, one);
  value = saved_value (settings);
  g_assert_cmpstr (value, ==, "[('wss://elsewhere.example', 'al', 'other')]");
  g_clear_pointer (&value, g_free);
  gc_open_rooms_add (rooms, one, TRUE);
  value = saved_value (settings);
  g_assert_cmpstr (value, ==, "[('wss://elsewhere.example', 'al', 'other'), "
                              "('ws://chat.example.org:8081', 'alice', 'team')]");
  g_clear_pointer (&value, g_free);

  /* The next start: both come back, in order, with their names; rows a
   * person could have edited into nonsense are skipped. */
  g_settings_set_value (settings, "open-rooms",
                        g_variant_new_parsed ("[('wss://elsewhere.example', 'al', 'other'), "
                                              "('ftp://nope', 'x', 'y'), "
                                              "('ws://chat.example.org:8081', 'alice', 'team'), "
                                              "('ws://chat.example.org:8081', 'alice', 'TEAM'), "
                                              "('ws://h', 'bad\nname', 'z')]"));
  restarted = gc_open_rooms_new ();
  gc_open_rooms_bind_settings (restarted, settings);
  saved = gc_open_rooms_dup_saved (restarted);
  g_assert_cmpuint (saved->len, ==, 2);
  room = g_ptr_array_index (saved, 0);
  g_assert_cmpstr (room->server_url, ==, "wss://elsewhere.example");
  g_assert_cmpstr (room->user_name, ==, "al");
  g_assert_cmpstr (room->room_code, ==, "other");
  room = g_ptr_array_index (saved, 1);
  g_assert_cmpstr (room->server_url, ==, "ws://chat.example.org:8081");
  g_assert_cmpstr (room->user_name, ==, "alice");
  g_assert_cmpstr (room->room_code, ==, "team");
  g_clear_pointer (&saved, g_ptr_array_unref);

  /* Until they are open again they stay saved; one that comes back takes
   * its own place; one that will not is forgotten. */
  back = gc_chat_session_new ("ws://chat.example.org:8081", "alice", "team");
  gc_open_rooms_add (restarted, back, TRUE);
  saved = gc_open_rooms_dup_saved (restarted);
  g_assert_cmpuint (saved->len, ==, 1);
  g_clear_pointer (&saved, g_ptr_array_unref);
  value = saved_value (settings);
  g_assert_cmpstr (value, ==, "[('ws://chat.example.org:8081', 'alice', 'team'), "
                              "('wss://elsewhere.example', 'al', 'other')]");
  g_clear_pointer (&value, g_free);
  gc_open_rooms_forget_saved (restarted, "wss://elsewhere.example/", "OTHER");
  saved = gc_open_rooms_dup_saved (restarted);
  g_assert_cmpuint (saved->len, ==, 0);
  value = saved_value (settings);
  g_assert_cmpstr (value, ==, "[('ws://chat.example.org:8081', 'alice', 'team')]");
}

/* A rename is saved: the room comes back under the new name. */
static void
test_open_rooms_rename (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr(GSettings) settings = g_settings_new_with_backend (GC_APPLICATION_ID, backend);
  g_autoptr(GcOpenRooms) rooms = gc_open_rooms_new ();
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = NULL;
  g_autofree char *expected = NULL;

  ts = gc_test_server_new (NULL);
  gc_open_rooms_bind_settings (rooms, settings);
  session = gc_chat_session_new (ts->url, "alice", "Renames");
  gc_chat_session_join_async (session, join_cb, &error);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);
  gc_open_rooms_add (rooms, session, TRUE);

  g_assert_true (gc_chat_session_rename (session, "alicia", &error));
  g_assert_no_error (error);
  gc_test_wait (g_strcmp0 (gc_chat_session_get_user_name (session), "alicia") == 0);
  value = saved_value (settings);
  expected = g_strdup_printf ("[('%s', 'alicia', 'renames')]", ts->url);
  g_assert_cmpstr (value, ==, expected);

  gc_chat_session_leave (session);
  gc_open_rooms_remove (rooms, session);
  g_clear_object (&session);
  gc_test_wait (all_connections_closed ());
}

/* ------------------------------------------------------------------ */
/* Reconnection                                                         */
/* ------------------------------------------------------------------ */

static void
test_backoff (void)
{
  /* 1, 2, 4, 8, then 10 s, less up to half for jitter; never more. */
  static const guint64 base_ms[] = { 1000, 2000, 4000, 8000, 10000, 10000, 10000 };

  for (guint attempt = 1; attempt <= G_N_ELEMENTS (base_ms); attempt++)
    {
      guint64 base = base_ms[attempt - 1];

      g_assert_cmpuint (gc_session_link_backoff_ms (attempt, 0.0), ==, base / 2);
      g_assert_cmpuint (gc_session_link_backoff_ms (attempt, 0.999), <=, base);
      g_assert_cmpuint (gc_session_link_backoff_ms (attempt, 0.999), >, base * 9 / 10);
    }
  for (guint attempt = 1; attempt < 1000; attempt++)
    g_assert_cmpuint (gc_session_link_backoff_ms (attempt, 0.999), <=, 10000);
}

/* A GNetworkMonitor the test drives. */
#define TEST_TYPE_NETWORK_MONITOR (test_network_monitor_get_type ())
G_DECLARE_FINAL_TYPE (TestNetworkMonitor, test_network_monitor, TEST, NETWORK_MONITOR, GObject)

struct _TestNetworkMonitor
{
  GObject parent_instance;
};

enum {
  MONITOR_PROP_0,
  MONITOR_PROP_AVAILABLE,
  MONITOR_PROP_METERED,
  MONITOR_PROP_CONNECTIVITY,
};

static gboolean
test_network_monitor_init_initable (GInitable     *initable,
                                    GCancellable  *cancellable,
                                    GError       **error)
{
  return TRUE;
}

static void
test_network_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = test_network_monitor_init_initable;
}

static void
test_network_monitor_iface_init (GNetworkMonitorInterface *iface)
{
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestNetworkMonitor, test_network_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, test_network_monitor_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR, test_network_monitor_iface_init))

static void
test_network_monitor_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  switch (prop_id)
    {
    case MONITOR_PROP_AVAILABLE:
      g_value_set_boolean (value, TRUE);
      break;
    case MONITOR_PROP_METERED:
      g_value_set_boolean (value, FALSE);
      break;
    case MONITOR_PROP_CONNECTIVITY:
      g_value_set_enum (value, G_NETWORK_CONNECTIVITY_FULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_network_monitor_class_init (TestNetworkMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_network_monitor_get_property;
  g_object_class_override_property (object_class, MONITOR_PROP_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, MONITOR_PROP_METERED, "network-metered");
  g_object_class_override_property (object_class, MONITOR_PROP_CONNECTIVITY, "connectivity");
}

static void
test_network_monitor_init (TestNetworkMonitor *self)
{
}

/* The network coming back ends the wait at once; so does reconnect_now(). */
static void
test_reconnect_at_once (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GNetworkMonitor) monitor = g_object_new (TEST_TYPE_NETWORK_MONITOR, NULL);
  g_autoptr(GError) error = NULL;

  ts = gc_test_server_new (NULL);
  session = gc_chat_session_new (ts->url, "alice", "network");
  gc_chat_session_set_network_monitor (session, monitor);
  gc_chat_session_join_async (session, join_cb, &error);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);

  /* The server goes; attempts fail while it is away, and the waits
   * between them never pass 10 s. */
  gc_test_server_stop (ts);
  gc_test_wait (gc_chat_session_get_attempt (session) >= 2 &&
            gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_WAITING);
  g_assert_cmpuint (gc_chat_session_get_retry_seconds (session), <=, 10);
  g_assert_cmpuint (gc_chat_session_get_retry_seconds (session), >, 0);

  /* A network change that is not "available" does nothing. */
  g_signal_emit_by_name (monitor, "network-changed", FALSE);
  g_assert_cmpint (gc_chat_session_get_state (session), ==, GC_CHAT_SESSION_STATE_WAITING);

  /* Back, and the network says so: no waiting out the backoff. */
  restart_server (ts, NULL);
  g_signal_emit_by_name (monitor, "network-changed", TRUE);
  g_assert_cmpint (gc_chat_session_get_state (session), ==, GC_CHAT_SESSION_STATE_RECONNECTING);
  g_assert_cmpuint (gc_chat_session_get_retry_seconds (session), ==, 0);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);

  /* Once more, and this time the window's focus calls reconnect_now(). */
  gc_test_server_stop (ts);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_WAITING &&
            gc_chat_session_get_retry_seconds (session) > 0);
  /* A route change while the network stays up is no news: the backoff
   * stands (GNetworkMonitor says "changed" for any route). */
  g_signal_emit_by_name (monitor, "network-changed", TRUE);
  g_assert_cmpint (gc_chat_session_get_state (session), ==, GC_CHAT_SESSION_STATE_WAITING);
  restart_server (ts, NULL);
  gc_chat_session_reconnect_now (session);
  g_assert_cmpint (gc_chat_session_get_state (session), ==, GC_CHAT_SESSION_STATE_RECONNECTING);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);

  /* Connected: the network changing leaves the link alone. */
  g_signal_emit_by_name (monitor, "network-changed", TRUE);
  g_assert_cmpint (gc_chat_session_get_state (session), ==, GC_CHAT_SESSION_STATE_CONNECTED);

  gc_chat_session_leave (session);
  g_clear_object (&session);
  gc_test_wait (all_connections_closed ());
}

/* Names keep their colour across a reconnection that gives new ids. */
static void
test_colour_keys (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GcMessageItem) system = gc_message_item_new_system (1, "notice");
  GcMessageItem *before, *after;
  GcRoomMember *own;
  g_autofree char *id_before = NULL;

  g_assert_null (gc_message_item_get_color_key (system));

  ts = gc_test_server_new (NULL);
  session = gc_chat_session_new (ts->url, "Alice", "colours");
  gc_chat_session_join_async (session, join_cb, &error);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);
  before = gc_chat_session_send_message (session, "before", GC_MESSAGE_KIND_TEXT, &error);
  g_assert_no_error (error);
  gc_test_wait (gc_message_item_get_state (before) == GC_MESSAGE_ITEM_DELIVERED);
  id_before = g_strdup (gc_chat_session_get_user_id (session));
  own = find_member (session, "Alice");
  g_assert_cmpstr (gc_room_member_get_color_key (own), ==, gc_message_item_get_color_key (before));

  /* A fresh server: a fresh join, a new id. */
  gc_test_server_stop (ts);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_WAITING);
  restart_server (ts, NULL);
  gc_chat_session_reconnect_now (session);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_cmpstr (gc_chat_session_get_user_id (session), !=, id_before);
  after = gc_chat_session_send_message (session, "after", GC_MESSAGE_KIND_TEXT, &error);
  g_assert_no_error (error);
  gc_test_wait (gc_message_item_get_state (after) == GC_MESSAGE_ITEM_DELIVERED);

  g_assert_cmpstr (gc_message_item_get_sender_id (before), !=, gc_message_item_get_sender_id (after));
  g_assert_cmpstr (gc_message_item_get_color_key (before), ==, gc_message_item_get_color_key (after));
  g_assert_cmpstr (gc_sender_color_class (gc_message_item_get_color_key (before)), ==,
                   gc_sender_color_class (gc_message_item_get_color_key (after)));
  own = find_member (session, "Alice");
  g_assert_cmpstr (gc_room_member_get_color_key (own), ==, gc_message_item_get_color_key (after));

  gc_chat_session_leave (session);
  g_clear_object (&session);
  gc_test_wait (all_connections_closed ());
}

/* ------------------------------------------------------------------ */
/* Room codes                                                           */
/* ------------------------------------------------------------------ */

static void
test_room_codes (void)
{
  g_autoptr(GHashTable) codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) first_words = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint64 number_sum = 0;

  g_assert_cmpfloat (gc_room_code_entropy_bits (), >=, 40.0);

  for (guint i = 0; i < 2000; i++)
    {
      g_autofree char *code = gc_room_code_random ();
      g_autofree char *canonical = gc_protocol_canonical_room_code (code, NULL);
      g_auto(GStrv) parts = g_strsplit (code, "-", -1);
      char *end = NULL;
      guint64 number;

      /* Valid as is, and friendly: four words and a three-digit number. */
      g_assert_cmpstr (canonical, ==, code);
      g_assert_cmpuint (g_strv_length (parts), ==, 5);
      for (guint w = 0; w < 4; w++)
        {
          g_assert_cmpuint (strlen (parts[w]), >=, 2);
          for (const char *c = parts[w]; *c != '\0'; c++)
            g_assert_true (g_ascii_islower (*c));
        }
      g_assert_cmpuint (strlen (parts[4]), ==, 3);
      number = g_ascii_strtoull (parts[4], &end, 10);
      g_assert_true (*end == '\0');
      number_sum += number;

      g_hash_table_add (first_words, g_strdup (parts[0]));
      g_hash_table_add (codes, g_steal_pointer (&code));
    }

  /* ~42 bits: 2000 draws never repeat (a collision has odds of ~5e-7),
   * and the first word takes most of its 256 values (expected ~255). */
  g_assert_cmpuint (g_hash_table_size (codes), ==, 2000);
  g_assert_cmpuint (g_hash_table_size (first_words), >, 230);
  /* The numbers spread over 0–999 (mean ~500). */
  g_assert_cmpfloat ((double) number_sum / 2000, >, 400);
  g_assert_cmpfloat ((double) number_sum / 2000, <, 600);
}

/* ------------------------------------------------------------------ */
/* Pacing                                                               */
/* ------------------------------------------------------------------ */

static void
count_queued_cb (GcMessageItem *item,
                 GParamSpec    *pspec,
                 guint         *queued)
{
  if (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_QUEUED)
    (*queued)++;
}

/* 20 quick sends with the server's default limits (burst 10, 5/s): all
 * delivered, in order, none refused; those past the burst wait QUEUED. */
static void
test_pacing (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GcTestClient) bob = NULL;
  guint queued_now = 0, queued_seen = 0, delivered = 0, n_messages = 0;
  guint64 last_id = 0;

  ts = gc_test_server_new (NULL);
  bob = gc_test_client_join (ts->port, "pacing", "bob");
  session = gc_chat_session_new (ts->url, "alice", "pacing");
  gc_chat_session_join_async (session, join_cb, &error);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_no_error (error);
  g_assert_cmpuint (gc_chat_session_get_limits (session)->rate_burst, ==, 10);

  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *text = g_strdup_printf ("quick %02u", i);
      GcMessageItem *item = gc_chat_session_send_message (session, text, GC_MESSAGE_KIND_TEXT, &error);

      g_assert_no_error (error);
      g_assert_nonnull (item);
      /* Typing between the sends, as in the compose box. */
      gc_chat_session_set_typing (session, TRUE);
      g_signal_connect (item, "notify::state", G_CALLBACK (count_queued_cb), &queued_seen);
      if (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_QUEUED)
        queued_now++;
      g_ptr_array_add (items, g_object_ref (item));
    }
  /* The burst goes at once; the rest waits, visibly. */
  g_assert_cmpuint (queued_now, >=, 5);
  g_assert_cmpint (gc_message_item_get_state (g_ptr_array_index (items, 0)), ==, GC_MESSAGE_ITEM_PENDING);
  g_assert_cmpint (gc_message_item_get_state (g_ptr_array_index (items, 19)), ==, GC_MESSAGE_ITEM_QUEUED);

  for (guint i = 0; i < items->len; i++)
    {
      GcMessageItem *item = g_ptr_array_index (items, i);

      gc_test_wait (gc_message_item_get_state (item) != GC_MESSAGE_ITEM_QUEUED &&
                gc_message_item_get_state (item) != GC_MESSAGE_ITEM_PENDING);
      g_assert_cmpint (gc_message_item_get_state (item), ==, GC_MESSAGE_ITEM_DELIVERED);
      /* In order: the server numbered them as sent. */
      g_assert_cmpuint (gc_message_item_get_id (item), >, last_id);
      last_id = gc_message_item_get_id (item);
      delivered++;
    }
  g_assert_cmpuint (delivered, ==, 20);
  g_assert_cmpuint (queued_seen, ==, 0);  /* none went back to waiting */

  /* bob saw the 20 in order and no error reached alice. */
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(GcTestEvent) event = gc_test_client_wait_event (bob, GC_EVENT_MESSAGE);
      g_autofree char *expected = g_strdup_printf ("quick %02u", i);

      g_assert_cmpstr (event->event->message->text, ==, expected);
      n_messages++;
    }
  g_assert_cmpuint (n_messages, ==, 20);
  g_assert_null (find_item (session, "The server reported an error"));
  for (guint i = 0; i < g_list_model_get_n_items (gc_chat_session_get_messages (session)); i++)
    {
      g_autoptr(GcMessageItem) line = g_list_model_get_item (gc_chat_session_get_messages (session), i);

      g_assert_cmpint (gc_message_item_get_state (line), !=, GC_MESSAGE_ITEM_FAILED);
      g_assert_null (strstr (gc_message_item_get_text (line), "slow down"));
    }

  gc_chat_session_leave (session);
  g_clear_object (&session);
  g_clear_pointer (&bob, gc_test_client_free);
  gc_test_wait (all_connections_closed ());
}

/* Messages sent while the link is down wait QUEUED and go on the return. */
static void
test_queued_while_away (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GError) error = NULL;
  GcMessageItem *during;

  ts = gc_test_server_new (NULL);
  session = gc_chat_session_new (ts->url, "alice", "away");
  gc_chat_session_join_async (session, join_cb, &error);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);

  gc_ws_connection_abort (gc_chat_session_get_connection (session));
  gc_test_wait (gc_chat_session_get_state (session) != GC_CHAT_SESSION_STATE_CONNECTED);
  during = gc_chat_session_send_message (session, "while away", GC_MESSAGE_KIND_TEXT, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gc_message_item_get_state (during), ==, GC_MESSAGE_ITEM_QUEUED);

  gc_chat_session_reconnect_now (session);
  gc_test_wait (gc_message_item_get_state (during) == GC_MESSAGE_ITEM_DELIVERED);
  g_assert_cmpuint (count_items (session, "while away"), ==, 1);

  gc_chat_session_leave (session);
  g_clear_object (&session);
  gc_test_wait (all_connections_closed ());
}

/* ------------------------------------------------------------------ */
/* Host stopped hosting                                                 */
/* ------------------------------------------------------------------ */

static GcChatSession *
join_url (const char *url,
          const char *name,
          const char *room)
{
  g_autoptr(GcChatSession) session = gc_chat_session_new (url, name, room);
  g_autoptr(GError) error = NULL;

  gc_chat_session_join_async (session, join_cb, &error);
  gc_test_wait (gc_chat_session_get_state (session) != GC_CHAT_SESSION_STATE_JOINING);
  g_assert_no_error (error);
  g_assert_cmpint (gc_chat_session_get_state (session), ==, GC_CHAT_SESSION_STATE_CONNECTED);
  return g_steal_pointer (&session);
}

/* A room hosted in the app: when its host stops hosting, a guest sees
 * that (not "Connection lost"), and does not retry by itself. */
static void
test_host_stopped (void)
{
  g_autoptr(GcLocalHost) host = gc_local_host_new ();
  g_autoptr(GcChatSession) own = NULL;
  g_autoptr(GcChatSession) guest = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  g_assert_true (gc_local_host_start (host, 0, &error));
  g_assert_no_error (error);
  url = g_strdup_printf ("ws://127.0.0.1:%u", gc_local_host_get_port (host));
  own = join_url (url, "host", "hosted");
  gc_local_host_add_session (host, own);
  guest = join_url (url, "guest", "hosted");

  /* The host leaves its last hosted room: hosting stops. */
  gc_chat_session_leave (own);
  gc_test_wait (gc_chat_session_get_state (guest) != GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_cmpint (gc_chat_session_get_state (guest), ==, GC_CHAT_SESSION_STATE_HOST_STOPPED);
  g_assert_cmpstr (gc_chat_session_get_failure (guest), ==, "The host stopped hosting this room.");
  /* Nothing retries by itself (a window in which nothing may happen). */
  gc_test_run_for_ms (1500);
  g_assert_cmpint (gc_chat_session_get_state (guest), ==, GC_CHAT_SESSION_STATE_HOST_STOPPED);
  g_assert_cmpuint (gc_chat_session_get_attempt (guest), ==, 0);
  g_assert_cmpuint (gc_chat_session_get_retry_seconds (guest), ==, 0);

  /* Reconnect Now tries: nothing listens there now. */
  gc_chat_session_reconnect_now (guest);
  g_assert_cmpint (gc_chat_session_get_state (guest), ==, GC_CHAT_SESSION_STATE_RECONNECTING);
  gc_test_wait (gc_chat_session_get_state (guest) == GC_CHAT_SESSION_STATE_WAITING);

  gc_chat_session_leave (guest);
  g_clear_object (&guest);
  g_clear_object (&own);
  gc_test_wait (all_connections_closed ());
}

/* A server's shutdown stays "the server is restarting", with retries; the
 * same server configured as hosted says the host stopped. */
static void
test_server_shutdown_reasons (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  GcServerConfig config;
  g_autoptr(GcChatSession) session = NULL;

  ts = gc_test_server_new (NULL);
  session = join_url (ts->url, "alice", "reasons");
  gc_test_server_stop (ts);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_WAITING);
  g_assert_cmpstr (gc_chat_session_get_failure (session), ==, "The server is restarting.");
  g_assert_true (gc_chat_session_get_server_restarting (session));
  /* Still restarting while nothing listens there (the banner says so). */
  gc_chat_session_reconnect_now (session);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_WAITING);
  g_assert_cmpuint (gc_chat_session_get_attempt (session), >=, 1);
  g_assert_true (gc_chat_session_get_server_restarting (session));

  gc_server_config_init_default (&config);
  config.hosted = TRUE;
  restart_server (ts, &config);
  gc_chat_session_reconnect_now (session);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_false (gc_chat_session_get_server_restarting (session));
  gc_test_server_stop (ts);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_HOST_STOPPED);
  g_assert_false (gc_chat_session_get_server_restarting (session));
  g_assert_cmpstr (gc_chat_session_get_failure (session), ==, "The host stopped hosting this room.");

  /* The host is back: Reconnect Now gets in again. */
  restart_server (ts, &config);
  gc_chat_session_reconnect_now (session);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_null (gc_chat_session_get_failure (session));

  gc_chat_session_leave (session);
  g_clear_object (&session);
  gc_test_wait (all_connections_closed ());
}

/* ------------------------------------------------------------------ */
/* Refusals                                                             */
/* ------------------------------------------------------------------ */

static void
join_error_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GError **error = user_data;

  g_assert_false (gc_chat_session_join_finish (GC_CHAT_SESSION (source), result, error));
  g_assert_nonnull (*error);
}

/* Joins and returns the refusal. */
static GError *
join_refused (const char     *url,
              const char     *name,
              const char     *room,
              GcChatSession **session_out)
{
  g_autoptr(GcChatSession) session = gc_chat_session_new (url, name, room);
  GError *error = NULL;

  gc_chat_session_join_async (session, join_error_cb, &error);
  gc_test_wait (error != NULL);
  g_assert_cmpint (gc_chat_session_get_state (session), ==, GC_CHAT_SESSION_STATE_CLOSED);
  if (session_out != NULL)
    *session_out = g_steal_pointer (&session);
  return error;
}

/* Valid upgrades are refused in-band now (a refused event, then close
 * 4409 …, docs/protocol.md §3.6): the session reads them as it read the
 * HTTP refusals, with the server's message and the 409's suggestion. */
static void
test_refusals_in_band (void)
{
  g_autoptr(GcTestServer) ts = gc_test_server_new (NULL);
  g_autoptr(GcTestClient) alice = gc_test_client_join (ts->port, "taken", "alice");
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GError) error = NULL;

  error = join_refused (ts->url, "Alice", "taken", &session);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_NAME_TAKEN);
  g_assert_cmpstr (error->message, !=, "");
  g_assert_null (strstr (error->message, "not a GoChat server"));
  g_assert_cmpstr (gc_chat_session_get_name_suggestion (session), ==, "Alice2");
  g_clear_error (&error);
  g_clear_object (&session);

  /* Each code keeps its meaning: a bad name is a bad name. */
  error = join_refused (ts->url, "bob", "no such room!", NULL);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_ROOM_CODE);
  g_assert_null (strstr (error->message, "not a GoChat server"));
  g_clear_error (&error);

  /* The suggestion works. */
  session = join_url (ts->url, "Alice2", "taken");
  gc_chat_session_leave (session);
  g_clear_object (&session);
  g_clear_pointer (&alice, gc_test_client_free);
  gc_test_wait (all_connections_closed ());
}

/* A refusal on the way back (the room filled up meanwhile) is retried;
 * one that will not go away (a name taken for good) fails for good. */
static void
test_refused_on_reconnect (void)
{
  g_autoptr(GcTestServer) ts = gc_test_server_new (NULL);
  g_autoptr(GcTestClient) usurper = NULL;
  g_autoptr(GcChatSession) session = NULL;

  session = join_url (ts->url, "carol", "back");
  /* The server restarts (a fresh join, no resume); meanwhile someone
   * else took the name. */
  gc_test_server_stop (ts);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_WAITING);
  restart_server (ts, NULL);
  usurper = gc_test_client_join (ts->port, "back", "carol");
  gc_chat_session_reconnect_now (session);
  gc_test_wait (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_FAILED);
  g_assert_true (g_str_has_prefix (gc_chat_session_get_failure (session),
                                   "Could not get back into the room: "));

  gc_chat_session_leave (session);
  g_clear_object (&session);
  g_clear_pointer (&usurper, gc_test_client_free);
  gc_test_wait (all_connections_closed ());
}

/* ------------------------------------------------------------------ */
/* Server addresses                                                     */
/* ------------------------------------------------------------------ */

static void
test_server_addresses (void)
{
  static const struct {
    const char *in;
    const char *out;
    const char *reason;   /* the error's message, when it says why */
  } cases[] = {
    { "ws://localhost:8081", "ws://localhost:8081" },
    { " localhost:8081/ ", "ws://localhost:8081" },
    { "WSS://Chat.Example.org/", "wss://chat.example.org" },
    { "WS://Example.org:8443/chat/", "ws://example.org:8443/chat" },
    { "wss://example.org/chat/", "wss://example.org/chat" },
    { "ws://[::1]:9000", "ws://[::1]:9000" },
    { "ftp://example.org", NULL },
    /* (The join dialog maps web addresses to ws://; the session does not.) */
    { "http://example.org", NULL },
    { "ws://", NULL },
    { "wss://host/?q=1", NULL },
    { "ws://host/?q=1", NULL },
    { "ws://user@host", NULL },
    { "ws://host/#top", NULL },
    { "", NULL },
    /* Each refusal says what is wrong (issue 12), not "must start with". */
    { "ftp://example.org", NULL, "The address must start with ws:// or wss://" },
    { "ws://localhost:70000", NULL, "The port must be a number from 1 to 65535" },
    { "ws://localhost:abc", NULL, "The port must be a number from 1 to 65535" },
    { "localhost:0", NULL, "The port must be a number from 1 to 65535" },
    { "not a server", NULL, "“not a server” is not a valid host name" },
    { "wss://chat example.org/x", NULL, "“chat example.org” is not a valid host name" },
    { "ws://bad!host:8081", NULL, "“bad!host” is not a valid host name" },
    { "ws://[::1:8081", NULL, "“[::1:8081” is not a valid host name" },
    { "ws://my_box.local:65535", "ws://my_box.local:65535" },
    { "ws://10.0.0.7:1", "ws://10.0.0.7:1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) session_error = NULL;
      g_autofree char *url = gc_server_address_normalize (cases[i].in, &error);
      /* What GcChatSession offers the app is the same. */
      g_autofree char *session_url = gc_chat_session_normalize_server_url (cases[i].in, &session_error);

      g_assert_cmpstr (url, ==, cases[i].out);
      g_assert_cmpstr (session_url, ==, cases[i].out);
      if (cases[i].out == NULL)
        {
          g_assert_error (error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL);
          g_assert_error (session_error, GC_CHAT_SESSION_ERROR, GC_CHAT_SESSION_ERROR_INVALID_URL);
          if (cases[i].reason != NULL)
            g_assert_cmpstr (error->message, ==, cases[i].reason);
        }
      else
        {
          g_assert_no_error (error);
          g_assert_no_error (session_error);
        }
    }
}

/* The window's focus: rooms waiting to reconnect try now, others not. */
static void
test_open_rooms_reconnect_waiting (void)
{
  g_autoptr(GcTestServer) away = gc_test_server_new (NULL);
  g_autoptr(GcTestServer) here = gc_test_server_new (NULL);
  g_autoptr(GcOpenRooms) rooms = gc_open_rooms_new ();
  g_autoptr(GcChatSession) waiting = join_url (away->url, "alice", "one");
  g_autoptr(GcChatSession) connected = join_url (here->url, "alice", "two");
  g_autoptr(GcChatSession) fresh = gc_chat_session_new (here->url, "alice", "three");

  gc_open_rooms_add (rooms, waiting, TRUE);
  gc_open_rooms_add (rooms, connected, TRUE);
  gc_open_rooms_add (rooms, fresh, TRUE);
  gc_test_server_stop (away);
  gc_test_wait (gc_chat_session_get_state (waiting) == GC_CHAT_SESSION_STATE_WAITING &&
                gc_chat_session_get_retry_seconds (waiting) > 0);
  restart_server (away, NULL);

  gc_open_rooms_reconnect_waiting (rooms);
  g_assert_cmpint (gc_chat_session_get_state (waiting), ==, GC_CHAT_SESSION_STATE_RECONNECTING);
  g_assert_cmpint (gc_chat_session_get_state (connected), ==, GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_cmpint (gc_chat_session_get_state (fresh), ==, GC_CHAT_SESSION_STATE_NEW);
  gc_test_wait (gc_chat_session_get_state (waiting) == GC_CHAT_SESSION_STATE_CONNECTED);

  gc_chat_session_leave (waiting);
  gc_chat_session_leave (connected);
  gc_test_wait (all_connections_closed ());
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/session/enums", test_enums);
  g_test_add_func ("/session/state-property", test_state_property);
  g_test_add_func ("/session/message-log/batching", test_message_log_batching);
  g_test_add_func ("/session/message-log/outgoing", test_message_log_outgoing);
  g_test_add_func ("/session/message-log/trimming", test_message_log_trimming);
  g_test_add_func ("/session/member-roster", test_member_roster);
  g_test_add_func ("/session/member-roster/typing-expires", test_typing_expires);
  g_test_add_func ("/session/backoff", test_backoff);
  g_test_add_func ("/session/reconnect-at-once", test_reconnect_at_once);
  g_test_add_func ("/session/colour-keys", test_colour_keys);
  g_test_add_func ("/session/room-codes", test_room_codes);
  g_test_add_func ("/session/pacing", test_pacing);
  g_test_add_func ("/session/queued-while-away", test_queued_while_away);
  g_test_add_func ("/session/host-stopped", test_host_stopped);
  g_test_add_func ("/session/server-shutdown-reasons", test_server_shutdown_reasons);
  g_test_add_func ("/session/refusals-in-band", test_refusals_in_band);
  g_test_add_func ("/session/refused-on-reconnect", test_refused_on_reconnect);
  g_test_add_func ("/session/server-addresses", test_server_addresses);
  g_test_add_func ("/open-rooms/model", test_open_rooms_model);
  g_test_add_func ("/open-rooms/persistence", test_open_rooms_persistence);
  g_test_add_func ("/open-rooms/rename", test_open_rooms_rename);
  g_test_add_func ("/open-rooms/reconnect-waiting", test_open_rooms_reconnect_waiting);

  return g_test_run ();
}
