/* test-chat-session.c: GcChatSession and the objects under it, without widgets
 *
 * Sessions talk to a real GcServer in the same main loop over loopback
 * sockets; waits spin the loop until a condition holds, with a deadline.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "gc-app-enums.h"
#include "gc-compose-command.h"
#include "gc-invite-link.h"
#include "test-app-util.h"

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
  TestServer ts = { 0 };
  g_autoptr(GcChatSession) session = NULL;
  g_autoptr(GArray) states = g_array_new (FALSE, FALSE, sizeof (GcChatSessionState));
  g_autoptr(GError) error = NULL;

  test_server_start (&ts, NULL, 0);
  session = gc_chat_session_new (ts.url, "alice", "enums");
  g_signal_connect (session, "notify::state", G_CALLBACK (state_notify_cb), states);
  gc_chat_session_join_async (session, join_cb, &error);
  WAIT_FOR (gc_chat_session_get_state (session) == GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_no_error (error);
  gc_chat_session_leave (session);

  g_assert_cmpuint (states->len, ==, 3);
  g_assert_cmpint (g_array_index (states, GcChatSessionState, 0), ==, GC_CHAT_SESSION_STATE_JOINING);
  g_assert_cmpint (g_array_index (states, GcChatSessionState, 1), ==, GC_CHAT_SESSION_STATE_CONNECTED);
  g_assert_cmpint (g_array_index (states, GcChatSessionState, 2), ==, GC_CHAT_SESSION_STATE_CLOSED);

  g_clear_object (&session);
  spin_for (50);
  test_server_free (&ts);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/session/enums", test_enums);
  g_test_add_func ("/session/state-property", test_state_property);

  return g_test_run ();
}
