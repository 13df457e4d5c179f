/* test-app-rooms.c: several rooms, hosting, invite links, notifications, completion, accessibility, scale
 *
 * The real widgets and application against in-process servers, as in
 * test-app.c. Key presses are real X events (xdotool, XTEST) that go
 * through GTK's whole input path; notifications go over the session bus
 * to a stand-in org.freedesktop.Notifications server in this process.
 * Accessibility is read through GTK's test AT context (GTK_A11Y=test).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <signal.h>
#include <string.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <gdk/x11/gdkx.h>

#include "gc-invite-link.h"
#include "gc-local-host.h"
#include "gc-preferences-window.h"
#include "gc-room-row.h"
#include "gc-text-markup.h"
#include "gc-ws-poller-private.h"
#include "test-app-util.h"
#include "gc-test-threads.h"

#if defined(__SANITIZE_ADDRESS__)
# define UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define UNDER_ASAN 1
# endif
#endif

/* ------------------------------------------------------------------ */
/* Real key presses                                                     */
/* ------------------------------------------------------------------ */

static char *xdotool;

static void
xdotool_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

/* Runs `xdotool ARGS` while the main loop runs. */
static void
xdo (const char *args)
{
  g_autofree char *command = g_strdup_printf ("'%s' %s", xdotool, args);
  g_auto(GStrv) argv = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;

  g_shell_parse_argv (command, NULL, &argv, &error);
  g_assert_no_error (error);
  process = g_subprocess_newv ((const char * const *) argv, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check_async (process, NULL, xdotool_done_cb, &done);
  gc_test_wait (done);
}

static gulong
xid (gpointer window)
{
  return gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (window)));
}

/* Gives @window the keyboard, as clicking it would. */
static void
focus_window (gpointer window)
{
  g_autofree char *args = NULL;

  gc_test_wait (gtk_widget_get_mapped (GTK_WIDGET (window)));
  args = g_strdup_printf ("windowfocus --sync %lu", xid (window));
  xdo (args);
  gc_test_wait (gtk_window_is_active (GTK_WINDOW (window)));
}

/* Presses @keys (xdotool syntax, e.g. "ctrl+Next") on the focused window. */
static void
press (const char *keys)
{
  g_autofree char *args = g_strdup_printf ("key --clearmodifiers %s", keys);

  xdo (args);
}

static void
type_text (const char *text)
{
  g_autofree char *quoted = g_shell_quote (text);
  g_autofree char *args = g_strdup_printf ("type --delay 15 --clearmodifiers %s", quoted);

  xdo (args);
}

static gboolean
need_xdotool (void)
{
  if (xdotool != NULL)
    return TRUE;
  g_test_skip ("xdotool is needed to send real key presses");
  return FALSE;
}

/* A window that takes the keyboard away from the app's windows. */
static GtkWidget *
new_focus_thief (void)
{
  GtkWidget *thief = gtk_window_new ();

  gtk_window_set_title (GTK_WINDOW (thief), "elsewhere");
  gtk_window_set_default_size (GTK_WINDOW (thief), 200, 100);
  gtk_window_present (GTK_WINDOW (thief));
  return thief;
}

/* ------------------------------------------------------------------ */
/* A notification server on the session bus                            */
/* ------------------------------------------------------------------ */

typedef struct {
  char *summary;
  char *body;
} Notification;

static GPtrArray *notifications;   /* Notification, as Notify received them */
static guint notifications_closed;

static void
notification_free (gpointer data)
{
  Notification *notification = data;

  g_free (notification->summary);
  g_free (notification->body);
  g_free (notification);
}

static const char notifications_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.Notifications'>"
  "    <method name='Notify'>"
  "      <arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='as' direction='in'/>"
  "      <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "      <arg type='u' direction='out'/>"
  "    </method>"
  "    <method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "    <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "    <method name='GetServerInformation'>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "    </method>"
  "    <signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
  "    <signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
  "  </interface>"
  "</node>";

static void
notifications_method_cb (GDBusConnection       *connection,
                         const char            *sender,
                         const char            *object_path,
                         const char            *interface_name,
                         const char            *method_name,
                         GVariant              *parameters,
                         GDBusMethodInvocation *invocation,
                         gpointer               user_data)
{
  if (g_str_equal (method_name, "Notify"))
    {
      Notification *notification = g_new0 (Notification, 1);

      g_variant_get_child (parameters, 3, "s", &notification->summary);
      g_variant_get_child (parameters, 4, "s", &notification->body);
      g_ptr_array_add (notifications, notification);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", notifications->len));
    }
  else if (g_str_equal (method_name, "CloseNotification"))
    {
      notifications_closed++;
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "GetCapabilities"))
    {
      static const char *capabilities[] = { "body", "actions", NULL };

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(^as)", capabilities));
    }
  else
    {
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(ssss)", "test-app-rooms", "GoChat tests",
                                                            "1", "1.2"));
    }
}

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

static guint
start_notification_server (void)
{
  static const GDBusInterfaceVTable vtable = { notifications_method_cb, NULL, NULL, { 0 } };
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;
  gboolean acquired = FALSE;
  guint owner_id;

  notifications = g_ptr_array_new_with_free_func (notification_free);
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  info = g_dbus_node_info_new_for_xml (notifications_xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications", info->interfaces[0],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  owner_id = g_bus_own_name_on_connection (bus, "org.freedesktop.Notifications",
                                           G_BUS_NAME_OWNER_FLAGS_NONE, name_acquired_cb, NULL,
                                           &acquired, NULL);
  gc_test_wait (acquired);
  return owner_id;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static GSettings *settings;

static gboolean
shows_room (GcWindow   *window,
            const char *room)
{
  GcChatSession *session = gc_window_get_session (window);

  return session != NULL && g_str_equal (gc_chat_session_get_room (session), room);
}

/* Joins @room in @window without the dialog and waits until in. */
static GcChatSession *
join_room (GcWindow   *window,
           const char *url,
           const char *name,
           const char *room)
{
  guint n = gc_window_get_n_sessions (window);

  gc_window_join (window, url, name, room);
  gc_test_wait (gc_window_get_n_sessions (window) == n + 1 && shows_room (window, room) &&
                session_connected (window));
  return gc_window_get_session (window);
}

/* The app's windows, the dialogs included. */
static guint
count_app_windows (void)
{
  return g_list_length (gtk_application_get_windows (GTK_APPLICATION (app)));
}

static gboolean
has_accessible_label (GtkWidget  *widget,
                      const char *label)
{
  /* The mismatch, described; NULL when the label is @label. */
  g_autofree char *mismatch = gtk_test_accessible_check_property (GTK_ACCESSIBLE (widget),
                                                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                                                  label);

  return mismatch == NULL;
}

/* ------------------------------------------------------------------ */
/* Invite links and mentions                                            */
/* ------------------------------------------------------------------ */

static void
test_invite_link_parse (void)
{
  struct {
    const char *link;
    const char *server;
    const char *room;
    int         error;
  } cases[] = {
    { "gochat://chat.example.org:9000/Team-1", "ws://chat.example.org:9000", "team-1", -1 },
    { "  gochat://192.0.2.7:8081/blue-otter-42  ", "ws://192.0.2.7:8081", "blue-otter-42", -1 },
    { "GOCHAT://Chat.Example.ORG:1/r", "ws://chat.example.org:1", "r", -1 },
    /* No port: the protocol's default. */
    { "gochat://chat.example.org/lobby", "ws://chat.example.org:8081", "lobby", -1 },
    /* IPv6 literals keep their brackets in the server address. */
    { "gochat://[fd00::2]:8082/room", "ws://[fd00::2]:8082", "room", -1 },
    { "gochat://[::1]/room/", "ws://[::1]:8081", "room", -1 },
    /* wss:// servers, and servers behind a path. */
    { "gochat://chat.example.org:443/room?tls=1", "wss://chat.example.org:443", "room", -1 },
    { "gochat://example.org:8443/gochat/v1/room?tls=true", "wss://example.org:8443/gochat/v1", "room", -1 },
    { "gochat://example.org:80/room?tls=0", "ws://example.org:80", "room", -1 },

    { "", NULL, NULL, GC_INVITE_LINK_ERROR_INVALID },
    { "not a link", NULL, NULL, GC_INVITE_LINK_ERROR_INVALID },
    { "https://example.org/room", NULL, NULL, GC_INVITE_LINK_ERROR_INVALID },
    { "ws://example.org:8081/room", NULL, NULL, GC_INVITE_LINK_ERROR_INVALID },
    { "gochat://[::1/room", NULL, NULL, GC_INVITE_LINK_ERROR_INVALID },
    { "gochat:///room", NULL, NULL, GC_INVITE_LINK_ERROR_NO_HOST },
    { "gochat://:8081/room", NULL, NULL, GC_INVITE_LINK_ERROR_NO_HOST },
    { "gochat://example.org:0/room", NULL, NULL, GC_INVITE_LINK_ERROR_BAD_PORT },
    { "gochat://example.org:65536/room", NULL, NULL, GC_INVITE_LINK_ERROR_BAD_PORT },
    { "gochat://example.org:port/room", NULL, NULL, GC_INVITE_LINK_ERROR_BAD_PORT },
    { "gochat://example.org:8081", NULL, NULL, GC_INVITE_LINK_ERROR_NO_ROOM },
    { "gochat://example.org:8081/", NULL, NULL, GC_INVITE_LINK_ERROR_NO_ROOM },
    { "gochat://example.org:8081/bad%21room", NULL, NULL, GC_INVITE_LINK_ERROR_BAD_ROOM },
    { "gochat://example.org/a-room-code-that-is-much-too-long-to-be-accepted-by-any-gochat-server",
      NULL, NULL, GC_INVITE_LINK_ERROR_BAD_ROOM },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *server = NULL;
      g_autofree char *room = NULL;
      g_autoptr(GError) error = NULL;
      gboolean ok = gc_invite_link_parse (cases[i].link, &server, &room, &error);

      g_test_message ("%s", cases[i].link);
      if (cases[i].error < 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpstr (server, ==, cases[i].server);
          g_assert_cmpstr (room, ==, cases[i].room);
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, GC_INVITE_LINK_ERROR, cases[i].error);
          g_assert_null (server);
          g_assert_null (room);
          /* Explained in words, never an empty message. */
          g_assert_cmpuint (strlen (error->message), >, 10);
        }
    }
}

static void
test_invite_link_build (void)
{
  struct {
    const char *server;
    const char *room;
    const char *link;
  } cases[] = {
    { "ws://192.0.2.7:8081", "team", "gochat://192.0.2.7:8081/team" },
    { "ws://[fd00::2]:8081", "team", "gochat://[fd00::2]:8081/team" },
    /* Without a port ws:// means 80: the link says so, as its own
     * default is 8081. */
    { "ws://chat.example.org", "team", "gochat://chat.example.org:80/team" },
    { "wss://chat.example.org", "team", "gochat://chat.example.org:443/team?tls=1" },
    { "wss://example.org:8443/gochat", "lobby", "gochat://example.org:8443/gochat/lobby?tls=1" },
    { "http://example.org", "team", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *link = gc_invite_link_build (cases[i].server, cases[i].room);
      g_autofree char *server = NULL;
      g_autofree char *room = NULL;
      g_autofree char *expected_server = NULL;

      g_assert_cmpstr (link, ==, cases[i].link);
      if (link == NULL)
        continue;

      /* What a link says, parsing gives back. */
      g_assert_true (gc_invite_link_parse (link, &server, &room, NULL));
      expected_server = g_strcmp0 (cases[i].server, "ws://chat.example.org") == 0
                        ? g_strdup ("ws://chat.example.org:80")
                        : g_strcmp0 (cases[i].server, "wss://chat.example.org") == 0
                          ? g_strdup ("wss://chat.example.org:443")
                          : g_strdup (cases[i].server);
      g_assert_cmpstr (server, ==, expected_server);
      g_assert_cmpstr (room, ==, cases[i].room);
    }

  /* A link to a loopback server works only on this computer (issue 12:
   * the toast says so). */
  {
    static const struct {
      const char *server;
      gboolean    local_only;
    } hosts[] = {
      { "ws://localhost:8081", TRUE },
      { "ws://LocalHost.:8081", TRUE },
      { "ws://chat.localhost:8081", TRUE },
      { "ws://127.0.0.1:8081", TRUE },
      { "ws://127.1.2.3:8081", TRUE },
      { "wss://[::1]:8081/gochat", TRUE },
      { "ws://192.0.2.7:8081", FALSE },
      { "ws://[fd00::2]:8081", FALSE },
      { "ws://localhost.example.org:8081", FALSE },
      { "wss://chat.example.org", FALSE },
      { "ws://128.0.0.1:8081", FALSE },
    };

    for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
      {
        g_test_message ("%s", hosts[i].server);
        g_assert_cmpint (gc_invite_link_is_local_only (hosts[i].server), ==, hosts[i].local_only);
      }
  }
}

static void
test_mentions (void)
{
  struct {
    const char *text;
    const char *name;
    gboolean    mentions;
  } cases[] = {
    { "alice: look", "alice", TRUE },
    { "hey @Alice!", "alice", TRUE },
    { "ALICE, you there?", "alice", TRUE },
    { "thanks alice", "alice", TRUE },
    { "Zoë, hi", "ZOË", TRUE },
    { "ask Anna Lee about it", "Anna Lee", TRUE },
    { "Straße", "STRASSE", TRUE },
    { "malice", "alice", FALSE },
    { "alice_b said", "alice", FALSE },
    { "alices", "alice", FALSE },
    { "nobody here", "alice", FALSE },
    { "al", "alice", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("%s / %s", cases[i].text, cases[i].name);
      g_assert_cmpint (gc_text_mentions (cases[i].text, cases[i].name), ==, cases[i].mentions);
    }
}

/* ------------------------------------------------------------------ */
/* Rooms                                                                */
/* ------------------------------------------------------------------ */

/* Two rooms in one window, reached by keyboard alone: Ctrl+N joins,
 * Ctrl+Page Up/Down and Alt+number switch, typing and Enter send, Tab
 * completes, Ctrl+W leaves. */
static void
test_rooms_keyboard (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcJoinDialog *dialog;
  GcChatSession *one, *two;
  GcMessageItem *item;
  GcTestClient *bob;
  g_autofree char *text = NULL;

  if (!need_xdotool ())
    return;

  ts = gc_test_server_new (NULL);
  bob = gc_test_client_join_url (ts->url, "one", "bob");

  window = new_window ();
  one = join_room (window, ts->url, "alice", "one");
  focus_window (window);

  /* Ctrl+N: the join dialog, filled with this server and name. */
  press ("ctrl+n");
  gc_test_wait ((dialog = join_dialog (window)) != NULL);
  g_assert_cmpstr (widget_text (dialog_entry (dialog, "Server")), ==, ts->url);
  g_assert_cmpstr (widget_text (dialog_entry (dialog, "Name")), ==, "alice");
  focus_window (dialog);
  gtk_widget_grab_focus (dialog_entry (dialog, "Room"));
  press ("ctrl+a");
  type_text ("two");
  gc_test_wait (g_str_equal (widget_text (dialog_entry (dialog, "Room")), "two"));
  press ("Return");
  gc_test_wait (gc_window_get_n_sessions (window) == 2 && shows_room (window, "two") &&
                session_connected (window));
  gc_test_wait (join_dialog (window) == NULL);
  two = gc_window_get_session (window);
  g_assert_true (two != one);
  /* The sidebar lists both, in the order joined. */
  g_assert_cmpint (sidebar_position (window, "#one, alice · 127.0.0.1"), ==, 0);
  g_assert_cmpint (sidebar_position (window, "#two, alice · 127.0.0.1"), ==, 1);

  focus_window (window);
  press ("ctrl+Prior");
  gc_test_wait (shows_room (window, "one"));
  g_assert_true (gc_room_view_get_active (view_of (window, one)));
  g_assert_false (gc_room_view_get_active (view_of (window, two)));
  press ("ctrl+Next");
  gc_test_wait (shows_room (window, "two"));
  /* Round the end. */
  press ("ctrl+Next");
  gc_test_wait (shows_room (window, "one"));
  press ("alt+2");
  gc_test_wait (shows_room (window, "two"));
  press ("alt+1");
  gc_test_wait (shows_room (window, "one"));

  /* The compose box has the keyboard: type, complete bob's name, send. */
  type_text ("hi b");
  press ("Tab");
  type_text ("from the keyboard");
  text = get_compose_text (window);
  g_assert_cmpstr (text, ==, "hi bob from the keyboard");
  press ("Return");
  gc_test_wait ((item = find_item (one, "hi bob from the keyboard")) != NULL &&
                gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);
  gc_test_event_free (gc_test_client_wait_message (bob, "hi bob from the keyboard"));
  g_assert_null (find_item (two, "hi bob from the keyboard"));

  /* Ctrl+W leaves the room shown: bob sees alice go; room two stays. */
  g_object_ref (one);
  press ("ctrl+w");
  gc_test_wait (gc_window_get_n_sessions (window) == 1);
  gc_test_wait (gc_test_client_count_queued (bob, GC_EVENT_LEAVE) == 1);
  g_assert_cmpint (gc_chat_session_get_state (one), ==, GC_CHAT_SESSION_STATE_CLOSED);
  g_object_unref (one);
  g_assert_true (gc_window_get_session (window) == two);
  g_assert_true (session_connected (window));

  /* The last room too: the window stays, inviting to join. */
  press ("ctrl+w");
  gc_test_wait (gc_window_get_n_sessions (window) == 0);
  g_assert_null (gc_window_get_session (window));
  g_assert_nonnull (gc_test_a11y_find_showing (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_LABEL, "Not in a room"));

  gc_test_client_free (bob);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* Messages in a room not shown count as unread, and those that name us as
 * mentions; showing the room reads them. /join and /leave work too. */
static void
test_unread (void)
{
  GcTestServer *ts = NULL;
  GcServerConfig config;
  GcWindow *window;
  GcChatSession *one, *two;
  GcRoomView *view_one;
  GtkWidget *row_one;
  GcTestClient *bob;

  gc_server_config_init_default (&config);
  config.rate_burst = 50;
  ts = gc_test_server_new (&config);
  bob = gc_test_client_join_url (ts->url, "one", "bob");

  window = new_window ();
  one = join_room (window, ts->url, "alice", "one");

  /* /join from the compose box: same server, same name. */
  set_compose_text (window, "/join Two");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  gc_test_wait (gc_window_get_n_sessions (window) == 2 && shows_room (window, "two") &&
                session_connected (window));
  two = gc_window_get_session (window);
  g_assert_cmpstr (gc_chat_session_get_user_name (two), ==, "alice");
  g_assert_cmpstr (gc_chat_session_get_server_url (two), ==, ts->url);
  /* A bad room code is explained, nothing joined. */
  set_compose_text (window, "/join no such room!");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  g_assert_nonnull (strstr (last_line (two), "is not a room code"));
  g_assert_cmpuint (gc_window_get_n_sessions (window), ==, 2);

  /* Room one's row says nothing unread. */
  view_one = view_of (window, one);
  g_assert_cmpint (sidebar_position (window, "#one, alice · 127.0.0.1"), ==, 0);

  gc_test_client_send_message (bob, "first", NULL);
  gc_test_client_send_message (bob, "second", NULL);
  gc_test_client_send_message (bob, "alice, are you there?", NULL);
  gc_test_wait (gc_room_view_get_unread (view_one) == 3);
  settle ();
  g_assert_cmpuint (gc_room_view_get_mentions (view_one), ==, 1);
  /* The row says so (below, to assistive technology too), shows the
   * count on its badge and is marked. */
  row_one = sidebar_row (window, "#one, alice · 127.0.0.1, 3 unread messages, mentions you");
  g_assert_nonnull (row_one);
  g_assert_true (has_label (row_one, "3"));
  g_assert_true (widget_has_class (row_one, "unread"));
  g_assert_true (widget_has_class (row_one, "mentioned"));
  g_assert_true (gc_message_item_get_mention (find_item (one, "alice, are you there?")));
  g_assert_false (gc_message_item_get_mention (find_item (one, "first")));
  /* Read out to assistive technology too. */
  g_assert_true (has_accessible_label (GTK_WIDGET (row_one),
                                      "#one, alice · 127.0.0.1, 3 unread messages, mentions you"));
  /* The room shown counts nothing. */
  g_assert_cmpuint (gc_room_view_get_unread (view_of (window, two)), ==, 0);

  /* Showing room one reads it. */
  gc_window_show_session (window, one);
  g_assert_true (shows_room (window, "one"));
  g_assert_cmpuint (gc_room_view_get_unread (view_one), ==, 0);
  g_assert_cmpuint (gc_room_view_get_mentions (view_one), ==, 0);
  row_one = sidebar_row (window, "#one, alice · 127.0.0.1");
  g_assert_nonnull (row_one);
  g_assert_false (has_label (row_one, "3"));
  g_assert_false (widget_has_class (row_one, "mentioned"));
  /* The mention is highlighted in the list. */
  gc_test_wait (message_row (window, "bob: alice, are you there?") != NULL);
  g_assert_true (widget_has_class (message_row (window, "bob: alice, are you there?"), "mention"));

  /* While it is shown, nothing more counts. */
  gc_test_client_send_message (bob, "fourth", NULL);
  gc_test_wait (find_item (one, "fourth") != NULL);
  g_assert_cmpuint (gc_room_view_get_unread (view_one), ==, 0);

  /* /leave from the compose box. */
  set_compose_text (window, "/leave");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  gc_test_wait (gc_window_get_n_sessions (window) == 1);
  g_assert_true (gc_window_get_session (window) == two);
  gc_test_wait (gc_test_client_count_queued (bob, GC_EVENT_LEAVE) == 1);

  gc_test_client_free (bob);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* Tab completes the others' names in the compose box. */
static void
test_tab_completion (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcTestClient *albert, *alfred, *bob;
  char *text;

  ts = gc_test_server_new (NULL);
  albert = gc_test_client_join_url (ts->url, "names", "Albert");
  alfred = gc_test_client_join_url (ts->url, "names", "alfred");
  bob = gc_test_client_join_url (ts->url, "names", "bob");
  window = new_window ();
  session = join_room (window, ts->url, "alice", "names");
  g_assert_cmpuint (g_list_model_get_n_items (gc_chat_session_get_members (session)), ==, 4);

  /* At the start a name addresses someone; Tab again goes on through the
   * names that fit, Shift+Tab back. Our own name is never offered. */
  set_compose_text (window, "al");
  g_assert_true (press_compose_key (window, GDK_KEY_Tab, 0));
  text = get_compose_text (window);
  g_assert_cmpstr (text, ==, "Albert: ");
  g_free (text);
  g_assert_true (press_compose_key (window, GDK_KEY_Tab, 0));
  text = get_compose_text (window);
  g_assert_cmpstr (text, ==, "alfred: ");
  g_free (text);
  g_assert_true (press_compose_key (window, GDK_KEY_Tab, 0));
  text = get_compose_text (window);
  g_assert_cmpstr (text, ==, "Albert: ");
  g_free (text);
  g_assert_true (press_compose_key (window, GDK_KEY_ISO_Left_Tab, GDK_SHIFT_MASK));
  text = get_compose_text (window);
  g_assert_cmpstr (text, ==, "alfred: ");
  g_free (text);

  /* Within the text: the name and a space; case does not matter; an @
   * stays. */
  set_compose_text (window, "ask BO");
  g_assert_true (press_compose_key (window, GDK_KEY_Tab, 0));
  text = get_compose_text (window);
  g_assert_cmpstr (text, ==, "ask bob ");
  g_free (text);
  set_compose_text (window, "thanks @alb");
  g_assert_true (press_compose_key (window, GDK_KEY_Tab, 0));
  text = get_compose_text (window);
  g_assert_cmpstr (text, ==, "thanks @Albert ");
  g_free (text);

  /* Nothing fits (or nothing typed): Tab is not taken, the focus moves. */
  set_compose_text (window, "ali");
  g_assert_false (press_compose_key (window, GDK_KEY_Tab, 0));
  set_compose_text (window, "xyz");
  g_assert_false (press_compose_key (window, GDK_KEY_Tab, 0));
  set_compose_text (window, "hello ");
  g_assert_false (press_compose_key (window, GDK_KEY_Tab, 0));
  text = get_compose_text (window);
  g_assert_cmpstr (text, ==, "hello ");
  g_free (text);
  g_assert_false (press_compose_key (window, GDK_KEY_Tab, GDK_CONTROL_MASK));

  /* A name that arrives later is offered too. */
  gc_test_client_free (bob);
  bob = gc_test_client_join_url (ts->url, "names", "Bea");
  gc_test_wait (find_member (session, "Bea") != NULL);
  set_compose_text (window, "b");
  g_assert_true (press_compose_key (window, GDK_KEY_Tab, 0));
  text = get_compose_text (window);
  g_assert_cmpstr (text, ==, "Bea: ");
  g_free (text);

  gc_test_client_free (albert);
  gc_test_client_free (alfred);
  gc_test_client_free (bob);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* ------------------------------------------------------------------ */
/* Hosting                                                              */
/* ------------------------------------------------------------------ */

static gboolean
port_answers (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return connection != NULL;
}

/* The app hosts on this computer: the next free port when the first is
 * taken, the addresses others can use shown in the room, a protocol-level
 * client joins through the one shown and chats. Quitting asks first;
 * closing the last hosted room stops the server with close 1001. */
static void
test_hosting (void)
{
  g_autoptr(GSocketListener) squatter = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) shown = NULL;
  GcWindow *window;
  GcChatSession *session;
  GtkWidget *addresses;
  GcLocalHost *host;
  GtkWidget *question;
  GcTestClient *bob;
  GcMessageItem *item;
  const char * const *urls;
  guint16 taken, port;

  /* Someone else has the port we ask for. */
  taken = g_socket_listener_add_any_inet_port (squatter, NULL, &error);
  g_assert_no_error (error);

  window = new_window ();
  gc_window_host (window, taken, "alice", "Party");
  gc_test_wait (session_connected (window));
  session = gc_window_get_session (window);
  host = gc_application_get_host (app);
  g_assert_nonnull (host);
  g_assert_true (gc_local_host_has_session (host, session));
  port = gc_local_host_get_port (host);
  g_assert_cmpuint (port, >, taken);
  g_assert_cmpuint (port, <, taken + GC_LOCAL_HOST_PORT_ATTEMPTS);
  g_assert_cmpstr (gc_chat_session_get_room (session), ==, "party");
  g_assert_true (gc_room_view_get_hosted (GC_ROOM_VIEW (room_view (window))));
  g_assert_nonnull (strstr (widget_text (gc_test_a11y_get_description (room_title (window))),
                            "hosted on this computer"));

  /* The room shows where others join. */
  addresses = find_showing_text (room_view (window), GTK_ACCESSIBLE_ROLE_LABEL, "ws://");
  g_assert_nonnull (addresses);
  shown = g_strsplit (widget_text (addresses), "\n", -1);
  urls = gc_local_host_get_lan_urls (host);
  g_assert_cmpuint (g_strv_length (shown), >=, 1);
  g_assert_cmpuint (g_strv_length (shown), ==, g_strv_length ((GStrv) urls));
  for (guint i = 0; shown[i] != NULL; i++)
    {
      g_autofree char *suffix = g_strdup_printf (":%u", port);

      g_test_message ("shown address: %s", shown[i]);
      g_assert_true (g_str_has_prefix (shown[i], "ws://"));
      g_assert_true (g_str_has_suffix (shown[i], suffix));
    }

  /* Someone on the network joins through the first address shown. */
  bob = gc_test_client_join_url (shown[0], "party", "bob");
  gc_test_wait (find_member (session, "bob") != NULL);
  gc_test_client_send_message (bob, "hi alice, nice party", NULL);
  gc_test_wait (find_item (session, "hi alice, nice party") != NULL);
  set_compose_text (window, "welcome, bob");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  item = find_item (session, "welcome, bob");
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);
  gc_test_event_free (gc_test_client_wait_message (bob, "welcome, bob"));
  g_assert_cmpuint (gc_local_host_count_others (host), ==, 1);

  /* Quitting would cut bob off: the app asks, and staying changes
   * nothing. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  question = dialog_over (window, "Others are still in rooms you host");
  g_assert_nonnull (question);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));
  answer (question, "Stay");
  g_assert_null (dialog_over (window, "Others are still in rooms you host"));
  gc_test_run_for_ms (100);  /* a window: nothing may close meanwhile */
  g_assert_true (session_connected (window));
  g_assert_false (bob->closed);
  /* Closing the window asks the same. */
  gtk_window_close (GTK_WINDOW (window));
  question = dialog_over (window, "Others are still in rooms you host");
  g_assert_nonnull (question);
  answer (question, "Stay");
  g_assert_true (session_connected (window));

  /* Leaving the last hosted room stops hosting: the app asks the same
   * (issue 12), staying changes nothing, and leaving gives bob close 1001. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-room", NULL);
  question = dialog_over (window, "Others are still in rooms you host");
  g_assert_nonnull (question);
  g_assert_nonnull (find_showing_text (question, GTK_ACCESSIBLE_ROLE_LABEL,
                                       "your computer stops hosting and 1 person is disconnected"));
  answer (question, "Stay");
  gc_test_run_for_ms (100);  /* a window: nothing may close meanwhile */
  g_assert_true (session_connected (window));
  g_assert_false (bob->closed);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-room", NULL);
  question = dialog_over (window, "Others are still in rooms you host");
  g_assert_nonnull (question);
  answer (question, "Leave Room");
  gc_test_wait (bob->closed);
  g_assert_cmpuint (bob->close_code, ==, GC_WS_CLOSE_GOING_AWAY);
  gc_test_wait (gc_application_get_host (app) == NULL);
  g_assert_false (port_answers (port));
  gc_test_client_free (bob);

  /* Hosting again, and this time quitting for real. */
  gc_window_host (window, 0, "alice", "again");
  gc_test_wait (session_connected (window));
  host = gc_application_get_host (app);
  bob = gc_test_client_join_url (gc_local_host_get_lan_urls (host)[0], "again", "bob");
  gc_test_wait (gc_local_host_count_others (host) == 1);
  g_object_ref (window);
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  question = dialog_over (window, "Others are still in rooms you host");
  g_assert_nonnull (question);
  answer (question, "Quit");
  gc_test_wait (bob->closed);
  g_assert_cmpuint (bob->close_code, ==, GC_WS_CLOSE_GOING_AWAY);
  gc_test_wait (gc_application_get_host (app) == NULL);
  gc_test_wait (count_app_windows () == 0);
  g_object_unref (window);
  gc_test_client_free (bob);
  /* Every connection of the process (the host's ends too) closed. */
  gc_test_wait (gc_ws_poller_get_n_connections (gc_ws_poller_get_default ()) == 0);
}

/* The join dialog's choice hosts the room here. */
static void
test_hosting_from_dialog (void)
{
  GcWindow *window = new_window ();
  GcJoinDialog *dialog = gc_window_show_join_dialog (window);
  GtkWidget *join = dialog_button (dialog, "Join");
  GcLocalHost *host;
  GcTestClient *bob;

  fill_dialog (dialog, "ftp://not.a.gochat.server", "alice", "garden");
  g_assert_false (gtk_widget_get_sensitive (join));
  /* Hosting needs no server address. */
  gtk_check_button_set_active (GTK_CHECK_BUTTON (gc_test_a11y_get (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_CHECKBOX,
                                                                   "Host the room on this computer")),
                               TRUE);
  g_assert_false (gtk_widget_get_sensitive (dialog_entry (dialog, "Server")));
  g_assert_true (gtk_widget_get_sensitive (join));
  click (join);
  gc_test_wait (session_connected (window));
  host = gc_application_get_host (app);
  g_assert_nonnull (host);
  g_assert_true (gc_room_view_get_hosted (GC_ROOM_VIEW (room_view (window))));

  bob = gc_test_client_join_url (gc_local_host_get_lan_urls (host)[0], "garden", "bob");
  gc_test_wait (find_member (gc_window_get_session (window), "bob") != NULL);

  /* Leaving cuts bob off: asked first, as quitting is. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-room", NULL);
  answer (dialog_over (window, "Others are still in rooms you host"), "Leave Room");
  gc_test_wait (bob->closed);
  g_assert_cmpuint (bob->close_code, ==, GC_WS_CLOSE_GOING_AWAY);
  gc_test_wait (gc_application_get_host (app) == NULL);

  gc_test_client_free (bob);
  destroy_window (window);
}

/* Leaving one of two hosted rooms cuts nobody off (the other keeps the
 * server running): no question. Leaving the last one asks (issue 12). */
static void
test_leave_hosted (void)
{
  GcWindow *window = new_window ();
  GcChatSession *first;
  GcLocalHost *host;
  GcTestClient *bob;
  GtkWidget *question;

  gc_window_host (window, 0, "alice", "first");
  gc_test_wait (session_connected (window));
  first = gc_window_get_session (window);
  host = gc_application_get_host (app);
  bob = gc_test_client_join_url (gc_local_host_get_lan_urls (host)[0], "first", "bob");
  gc_test_wait (find_member (first, "bob") != NULL);

  /* /join next to a hosted room hosts that one too. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.join-room", "s", "second");
  gc_test_wait (gc_window_get_n_sessions (window) == 2 && session_connected (window));
  g_assert_true (gc_local_host_has_session (host, gc_window_get_session (window)));

  gc_window_show_session (window, first);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-room", NULL);
  g_assert_null (dialog_over (window, NULL));
  gc_test_wait (gc_window_get_n_sessions (window) == 1);
  gc_test_run_for_ms (100);  /* a window: bob must NOT be cut off */
  g_assert_false (bob->closed);

  /* The last hosted room: bob would be cut off. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-room", NULL);
  question = dialog_over (window, "Others are still in rooms you host");
  g_assert_nonnull (gc_test_a11y_find_showing (question, GTK_ACCESSIBLE_ROLE_BUTTON, "Leave Room"));
  /* Quitting meanwhile asks about quitting, not about leaving the room. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  question = dialog_over (window, "Others are still in rooms you host");
  g_assert_nonnull (gc_test_a11y_find_showing (question, GTK_ACCESSIBLE_ROLE_BUTTON, "Quit"));
  g_assert_null (gc_test_a11y_find_showing (question, GTK_ACCESSIBLE_ROLE_BUTTON, "Leave Room"));
  answer (question, "Stay");
  g_assert_null (dialog_over (window, NULL));
  g_assert_cmpuint (gc_window_get_n_sessions (window), ==, 1);
  /* And leaving asks again, for the room. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-room", NULL);
  answer (dialog_over (window, "Others are still in rooms you host"), "Stay");
  g_assert_cmpuint (gc_window_get_n_sessions (window), ==, 1);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.leave-room", NULL);
  answer (dialog_over (window, "Others are still in rooms you host"), "Leave Room");
  gc_test_wait (bob->closed);
  g_assert_cmpuint (bob->close_code, ==, GC_WS_CLOSE_GOING_AWAY);
  g_assert_cmpuint (gc_window_get_n_sessions (window), ==, 0);
  gc_test_wait (gc_application_get_host (app) == NULL);

  gc_test_client_free (bob);
  destroy_window (window);
}

/* A refused name gets the protocol's own reason, code point and all, in
 * the same (translatable) words as /nick (issue 12): not a catch-all
 * about control characters for a look-alike letter or an invisible one. */
static void
test_join_dialog_name_reason (void)
{
  static const struct {
    const char *name;
    GcProtocolNameProblem problem;
    const char *reason;
  } cases[] = {
    { "v\xd1\x96" "ctim", GC_PROTOCOL_NAME_MIXED_SCRIPTS,                 /* Cyrillic і */
      "A name cannot mix letters of different scripts (U+0456)." },
    { "vic\xe2\x80\x8btim", GC_PROTOCOL_NAME_INVISIBLE,
      "A name cannot contain invisible formatting characters (U+200B)." },
    { "\xe2\x80\xaevictim", GC_PROTOCOL_NAME_INVISIBLE,
      "A name cannot contain invisible formatting characters (U+202E)." },
    { "vic\ttim", GC_PROTOCOL_NAME_CONTROL, "A name cannot contain control characters (U+0009)." },
    { "abcdefghijklmnopqrstuvwxyz1234567", GC_PROTOCOL_NAME_TOO_LONG, "A name has at most 32 characters." },
    { "   ", GC_PROTOCOL_NAME_EMPTY, "Enter the name others will see." },
  };
  GcWindow *window = new_window ();
  GcJoinDialog *dialog = gc_window_show_join_dialog (window);
  GtkWidget *join = dialog_button (dialog, "Join");
  GtkWidget *hint = dialog_hint (dialog, "Name");
  g_autoptr(GcChatSession) session = gc_chat_session_new ("ws://127.0.0.1:1", "alice", "room");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      GcProtocolNameProblem problem;

      g_assert_null (gc_protocol_check_user_name (cases[i].name, &problem, NULL));
      g_assert_cmpint (problem, ==, cases[i].problem);

      fill_dialog (dialog, "ws://127.0.0.1:1", cases[i].name, "room");
      g_assert_false (gtk_widget_get_sensitive (join));
      g_assert_true (gtk_widget_get_visible (hint));
      g_assert_cmpstr (widget_text (hint), ==, cases[i].reason);

      /* /nick says the same. */
      g_assert_false (gc_chat_session_rename (session, cases[i].name, &error));
      g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME);
      g_assert_cmpstr (error->message, ==, cases[i].reason);
    }

  /* A good name clears the reason. */
  fill_dialog (dialog, "ws://127.0.0.1:1", "victim", "room");
  g_assert_false (gtk_widget_get_visible (hint));
  g_assert_true (gtk_widget_get_sensitive (join));

  destroy_window (window);
}

/* A mistyped server address is refused with what is wrong in it, before
 * any lookup (so no "Host It on This Computer" offer for a typo). */
static void
test_join_dialog_server_reason (void)
{
  static const struct {
    const char *server;
    const char *reason;
  } cases[] = {
    { "not a server", "“not a server” is not a valid host name" },
    { "ws://localhost:70000", "The port must be a number from 1 to 65535" },
    { "ws://localhost:abc", "The port must be a number from 1 to 65535" },
    { "ftp://example.org", "The address must start with ws:// or wss://" },
  };
  GcWindow *window = new_window ();
  GcJoinDialog *dialog = gc_window_show_join_dialog (window);
  GtkWidget *join = dialog_button (dialog, "Join");
  GtkWidget *hint = dialog_hint (dialog, "Server");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      fill_dialog (dialog, cases[i].server, "alice", "room");
      g_assert_false (gtk_widget_get_sensitive (join));
      g_assert_true (gtk_widget_get_visible (hint));
      g_assert_cmpstr (widget_text (hint), ==, cases[i].reason);
    }

  fill_dialog (dialog, "localhost:8081", "alice", "room");
  g_assert_false (gtk_widget_get_visible (hint));
  g_assert_true (gtk_widget_get_sensitive (join));

  destroy_window (window);
}

static void
test_lan_addresses (void)
{
  g_autoptr(GPtrArray) addresses = gc_local_host_list_lan_addresses ();

  for (guint i = 0; i < addresses->len; i++)
    {
      GInetAddress *address = g_ptr_array_index (addresses, i);
      g_autofree char *text = g_inet_address_to_string (address);

      g_test_message ("LAN address: %s", text);
      g_assert_false (g_inet_address_get_is_loopback (address));
      g_assert_false (g_inet_address_get_is_link_local (address));
      g_assert_false (g_inet_address_get_is_multicast (address));
      for (guint j = 0; j < i; j++)
        g_assert_false (g_inet_address_equal (address, g_ptr_array_index (addresses, j)));
    }
}

/* ------------------------------------------------------------------ */
/* Invite links in the app                                              */
/* ------------------------------------------------------------------ */

static void
clipboard_read_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  char **text = user_data;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);
  if (*text == NULL)
    *text = g_strdup ("");
}

static gboolean
clipboard_has (GdkClipboard *clipboard,
               const char   *text)
{
  g_autofree char *content = NULL;

  gdk_clipboard_read_text_async (clipboard, NULL, clipboard_read_cb, &content);
  gc_test_wait (content != NULL);
  return g_str_equal (content, text);
}

/* The header copies the room's link; opening a link (the desktop, or
 * `gochat LINK`) joins its room, asking only for a name when none is
 * remembered. */
static void
test_invite_in_app (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcJoinDialog *dialog;
  GtkWidget *invite, *asked;
  g_autofree char *link = NULL;
  g_autofree char *bad = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GApplicationCommandLine) command_line = NULL;
  g_autoptr(GVariantDict) options = g_variant_dict_new (NULL);
  const char *arguments[3];
  int status = -1;

  ts = gc_test_server_new (NULL);
  g_settings_set_string (settings, "name", "carol");

  /* Opened from the desktop: asks, naming the room, the server and the
   * remembered name, then joins. */
  link = g_strdup_printf ("gochat://127.0.0.1:%u/Linked", ts->port);
  file = g_file_new_for_uri (link);
  g_application_open (G_APPLICATION (app), &file, 1, "");
  window = NULL;
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (GC_IS_WINDOW (l->data))
      window = l->data;
  g_assert_nonnull (window);
  asked = dialog_over (window, "Join #linked?");
  g_assert_nonnull (asked);
  g_assert_true (has_label (asked, "Join #linked?"));
  g_assert_nonnull (find_showing_text (asked, GTK_ACCESSIBLE_ROLE_LABEL, "“carol”"));
  g_assert_null (gc_window_get_session (window));
  answer (asked, "Join");
  g_assert_null (dialog_over (window, NULL));
  gc_test_wait (session_connected (window));
  session = gc_window_get_session (window);
  g_assert_cmpstr (gc_chat_session_get_room (session), ==, "linked");
  g_assert_cmpstr (gc_chat_session_get_user_name (session), ==, "carol");
  g_assert_null (join_dialog (window));

  /* The header copies the link to the clipboard. */
  g_free (link);
  link = g_strdup_printf ("gochat://127.0.0.1:%u/linked", ts->port);
  invite = gc_test_a11y_find_showing (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_BUTTON, "Copy Invite Link");
  g_assert_nonnull (invite);
  click (invite);
  g_assert_true (clipboard_has (gtk_widget_get_clipboard (GTK_WIDGET (window)), link));
  /* The server is on 127.0.0.1: the toast does not promise that whoever
   * opens the link joins. */
  gc_test_wait (find_showing_text (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_LABEL,
                                   "Copied the invite link. It works only on this computer: "
                                   "the server is on localhost") != NULL);
  g_assert_null (find_showing_text (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_LABEL, "whoever opens it"));
  /* A toast says so; the chat's transcript stays the chat's. */
  {
    GListModel *lines = gc_chat_session_get_messages (session);

    for (guint i = 0; i < g_list_model_get_n_items (lines); i++)
      {
        g_autoptr(GcMessageItem) item = g_list_model_get_item (lines, i);

        g_assert_null (strstr (gc_message_item_get_text (item), link));
      }
  }

  /* Its own link, opened again, shows the room: no second self in it. */
  gc_window_open_invite (window, link);
  g_assert_null (dialog_over (window, NULL));
  g_assert_null (join_dialog (window));
  g_assert_cmpuint (gc_window_get_n_sessions (window), ==, 1);

  /* `gochat LINK` from a shell joins into the window in use. */
  g_free (link);
  link = g_strdup_printf ("gochat://127.0.0.1:%u/from-shell", ts->port);
  arguments[0] = "gochat";
  arguments[1] = link;
  arguments[2] = NULL;
  command_line = g_object_new (G_TYPE_APPLICATION_COMMAND_LINE,
                               "arguments", g_variant_new_bytestring_array (arguments, -1),
                               "options", g_variant_dict_end (options),
                               NULL);
  g_signal_emit_by_name (app, "command-line", command_line, &status);
  g_assert_cmpint (status, ==, 0);
  asked = dialog_over (window, "Join #from-shell?");
  g_assert_nonnull (asked);
  answer (asked, "Join");
  gc_test_wait (gc_window_get_n_sessions (window) == 2 && shows_room (window, "from-shell") &&
                session_connected (window));
  g_clear_object (&command_line);

  /* A bad link on the command line is an error there. */
  bad = g_strdup ("gochat://127.0.0.1/");
  arguments[1] = bad;
  command_line = g_object_new (G_TYPE_APPLICATION_COMMAND_LINE,
                               "arguments", g_variant_new_bytestring_array (arguments, -1),
                               NULL);
  g_signal_emit_by_name (app, "command-line", command_line, &status);
  g_assert_cmpint (status, ==, 2);
  g_assert_cmpuint (gc_window_get_n_sessions (window), ==, 2);

  /* No name remembered: only the name is asked for. */
  g_settings_set_string (settings, "name", "");
  g_free (link);
  link = g_strdup_printf ("gochat://127.0.0.1:%u/asked", ts->port);
  gc_window_open_invite (window, link);
  dialog = join_dialog (window);
  g_assert_nonnull (dialog);
  g_assert_false (gtk_widget_is_visible (dialog_entry (dialog, "Server")));
  g_assert_false (gtk_widget_is_visible (dialog_entry (dialog, "Room")));
  g_assert_false (gtk_widget_is_visible (gc_test_a11y_get (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_CHECKBOX,
                                                           "Host the room on this computer")));
  g_assert_true (gtk_widget_is_visible (dialog_entry (dialog, "Name")));
  g_assert_nonnull (find_showing_text (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_LABEL, "“asked”"));
  gtk_editable_set_text (GTK_EDITABLE (dialog_entry (dialog, "Name")), "dora");
  click (dialog_button (dialog, "Join"));
  gc_test_wait (gc_window_get_n_sessions (window) == 3 && shows_room (window, "asked") &&
                session_connected (window));
  g_assert_cmpstr (gc_chat_session_get_user_name (gc_window_get_session (window)), ==, "dora");

  /* A bad link is explained in the dialog. */
  gc_window_open_invite (window, "gochat://127.0.0.1:99999/x");
  dialog = join_dialog (window);
  g_assert_nonnull (dialog);
  g_assert_true (gtk_widget_get_visible (dialog_status (dialog)));
  g_assert_nonnull (strstr (widget_text (dialog_status (dialog)), "port"));
  gtk_window_destroy (GTK_WINDOW (dialog));

  destroy_window (window);
  gc_test_server_free (ts);
}

/* The program itself: options and links on a real command line. */
static void
test_command_line_program (void)
{
  static const struct {
    const char *argument;
    int         status;    /* -1: any failure */
    const char *out;       /* stdout, exactly; NULL: not checked */
    const char *err_part;  /* in stderr; NULL: not checked */
  } cases[] = {
    { "--version", 0, "gochat " PACKAGE_VERSION "\n", NULL },
    { "--host=99999", -1, NULL, "--host takes a port from 1 to 65535" },
    { "gochat://example.org:8081", 2, NULL, "does not say which room" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GSubprocess) process = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;

      process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                  GOCHAT_PATH, cases[i].argument, NULL);
      g_assert_no_error (error);
      g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
      g_assert_no_error (error);
      if (cases[i].status >= 0)
        g_assert_cmpint (g_subprocess_get_exit_status (process), ==, cases[i].status);
      else
        g_assert_cmpint (g_subprocess_get_exit_status (process), !=, 0);
      if (cases[i].out != NULL)
        g_assert_cmpstr (out, ==, cases[i].out);
      if (cases[i].err_part != NULL)
        g_assert_nonnull (strstr (err, cases[i].err_part));
    }
}

/* The inodes of the TCP sockets listening on @port (Linux's
 * /proc/net/tcp and tcp6: "sl local_address rem_address st … inode"). */
static GPtrArray *
listening_inodes (guint16 port)
{
  static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
  GPtrArray *inodes = g_ptr_array_new_with_free_func (g_free);

  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      g_autofree char *contents = NULL;
      g_auto(GStrv) lines = NULL;

      if (!g_file_get_contents (tables[t], &contents, NULL, NULL))
        continue;
      lines = g_strsplit (contents, "\n", -1);
      for (guint i = 1; lines[i] != NULL; i++)
        {
          g_auto(GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
          g_autoptr(GPtrArray) words = g_ptr_array_new ();
          const char *colon;

          for (guint f = 0; fields[f] != NULL; f++)
            if (*fields[f] != '\0')
              g_ptr_array_add (words, fields[f]);
          if (words->len < 10 || !g_str_equal (g_ptr_array_index (words, 3), "0A"))
            continue;
          colon = strrchr (g_ptr_array_index (words, 1), ':');
          if (colon != NULL && g_ascii_strtoull (colon + 1, NULL, 16) == port)
            g_ptr_array_add (inodes, g_strdup (g_ptr_array_index (words, 9)));
        }
    }
  return inodes;
}

/* Whether @process itself listens on @port: on a machine shared with
 * other test runs, another process may answer in the range it tries. */
static gboolean
process_listens_on (GSubprocess *process,
                    guint16      port)
{
  g_autoptr(GPtrArray) inodes = listening_inodes (port);
  g_autofree char *fd_path = g_strdup_printf ("/proc/%s/fd", g_subprocess_get_identifier (process));
  g_autoptr(GDir) dir = g_dir_open (fd_path, 0, NULL);
  const char *name;

  while (dir != NULL && inodes->len > 0 && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fd_path, name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      for (guint i = 0; target != NULL && i < inodes->len; i++)
        {
          g_autofree char *socket = g_strdup_printf ("socket:[%s]", (char *) g_ptr_array_index (inodes, i));

          if (g_str_equal (target, socket))
            return TRUE;
        }
    }
  return FALSE;
}

static gboolean
find_listening_port (GSubprocess *process,
                     guint16      first,
                     guint16     *found)
{
  for (guint16 port = first; port < first + GC_LOCAL_HOST_PORT_ATTEMPTS; port++)
    if (process_listens_on (process, port) && port_answers (port))
      {
        *found = port;
        return TRUE;
      }
  return FALSE;
}

/* `gochat --host=PORT --name … --room …`, the real program: it hosts on
 * PORT (or the next free one) and is in the room when others join. */
static void
test_host_command_line (void)
{
  g_autoptr(GSocketListener) probe = g_socket_listener_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host_arg = NULL;
  g_autofree char *url = NULL;
  const GcEvent *welcome;
  GcTestClient *bob;
  gboolean zoe_there = FALSE;
  guint16 port, found = 0;

  /* A port nobody uses now; the app moves on should one take it. */
  port = g_socket_listener_add_any_inet_port (probe, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (probe);

  host_arg = g_strdup_printf ("--host=%u", port);
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                              GOCHAT_PATH, host_arg, "--name", "zoe", "--room", "cli-party", NULL);
  g_assert_no_error (error);
  gc_test_wait (find_listening_port (process, port, &found));

  url = g_strdup_printf ("ws://127.0.0.1:%u", found);
  bob = gc_test_client_join_url (url, "cli-party", "bob");
  welcome = bob->welcome->event;
  g_assert_cmpint (welcome->type, ==, GC_EVENT_WELCOME);
  for (guint i = 0; i < welcome->welcome->members->len; i++)
    if (g_str_equal (((GcUser *) g_ptr_array_index (welcome->welcome->members, i))->name, "zoe"))
      zoe_there = TRUE;
  if (!zoe_there)
    gc_test_wait (gc_test_client_count_queued (bob, GC_EVENT_JOIN) == 1);

  g_subprocess_send_signal (process, SIGTERM);
  gc_test_wait (bob->closed);
  gc_test_client_free (bob);
}

/* ------------------------------------------------------------------ */
/* Notifications                                                        */
/* ------------------------------------------------------------------ */

static const Notification *
last_notification (void)
{
  return notifications->len > 0 ? g_ptr_array_index (notifications, notifications->len - 1) : NULL;
}

/* A mention while the window is not focused raises a notification (and,
 * by choice, every message or none); in the focused window nothing. */
static void
test_notifications (void)
{
  GcTestServer *ts = NULL;
  GcServerConfig config;
  GcWindow *window;
  GcChatSession *session;
  GtkWidget *thief;
  GcTestClient *bob;
  guint n;

  if (!need_xdotool ())
    return;

  gc_server_config_init_default (&config);
  config.rate_burst = 50;
  ts = gc_test_server_new (&config);
  bob = gc_test_client_join_url (ts->url, "news", "bob");
  window = new_window ();
  session = join_room (window, ts->url, "alice", "news");
  g_settings_set_enum (settings, "notifications", GC_NOTIFY_MENTIONS);

  /* Someone else's window has the keyboard. */
  thief = new_focus_thief ();
  focus_window (thief);
  g_assert_false (gtk_window_is_active (GTK_WINDOW (window)));

  n = notifications->len;
  gc_test_client_send_message (bob, "just chatting", NULL);
  gc_test_client_send_message (bob, "@alice look at this", NULL);
  gc_test_wait (notifications->len == n + 1);
  g_assert_cmpstr (last_notification ()->summary, ==, "bob mentioned you in #news");
  g_assert_cmpstr (last_notification ()->body, ==, "@alice look at this");
  /* Only the mention: the plain line came first and, had it notified,
   * its notification would have arrived first. */
  gc_test_wait (find_item (session, "just chatting") != NULL);
  g_assert_cmpstr (((Notification *) g_ptr_array_index (notifications, n))->body, ==,
                   "@alice look at this");

  /* By choice: every message. */
  g_settings_set_enum (settings, "notifications", GC_NOTIFY_ALL);
  gc_test_client_send_message (bob, "a plain line", NULL);
  gc_test_wait (notifications->len == n + 2);
  g_assert_cmpstr (last_notification ()->summary, ==, "bob in #news");
  g_assert_cmpstr (last_notification ()->body, ==, "a plain line");

  /* Or never. */
  g_settings_set_enum (settings, "notifications", GC_NOTIFY_NEVER);
  gc_test_client_send_message (bob, "alice, again", NULL);
  gc_test_wait (find_item (session, "alice, again") != NULL);
  /* Proof by a later line that does notify: exactly one more. */
  g_settings_set_enum (settings, "notifications", GC_NOTIFY_ALL);
  gc_test_client_send_message (bob, "after never", NULL);
  gc_test_wait (notifications->len >= n + 3);
  g_assert_cmpuint (notifications->len, ==, n + 3);
  g_assert_cmpstr (last_notification ()->body, ==, "after never");

  /* The user comes back: the room's notification is withdrawn, and
   * nothing is notified while the window is focused. */
  g_settings_set_enum (settings, "notifications", GC_NOTIFY_ALL);
  n = notifications_closed;
  focus_window (window);
  gc_test_wait (notifications_closed > n);
  n = notifications->len;
  gc_test_client_send_message (bob, "alice: you are here", NULL);
  gc_test_wait (find_item (session, "alice: you are here") != NULL);
  /* Proof: away again, the next line notifies, and it is the only one. */
  focus_window (thief);
  g_assert_false (gtk_window_is_active (GTK_WINDOW (window)));
  gc_test_client_send_message (bob, "and now away", NULL);
  gc_test_wait (notifications->len >= n + 1);
  g_assert_cmpuint (notifications->len, ==, n + 1);
  g_assert_cmpstr (last_notification ()->body, ==, "and now away");

  g_settings_reset (settings, "notifications");
  gtk_window_destroy (GTK_WINDOW (thief));
  gc_test_client_free (bob);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* ------------------------------------------------------------------ */
/* Preferences, shortcuts, about                                        */
/* ------------------------------------------------------------------ */

static gboolean
prefers_dark (void)
{
  gboolean dark;

  g_object_get (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", &dark, NULL);
  return dark;
}

/* The check (or radio) button of the choice named @name: the row of that
 * name in a list of choices holds it. */
static GtkCheckButton *
find_choice (GtkWidget  *root,
             const char *name)
{
  GtkWidget *row = gc_test_a11y_get (root, GTK_ACCESSIBLE_ROLE_LIST_ITEM, name);

  return GTK_CHECK_BUTTON (gc_test_a11y_get (row, GTK_ACCESSIBLE_ROLE_CHECKBOX, NULL));
}

static void
test_preferences (void)
{
  GcWindow *window = new_window ();
  GcPreferencesWindow *preferences;
  GtkCheckButton *button;

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  preferences = NULL;
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (GC_IS_PREFERENCES_WINDOW (l->data))
      preferences = l->data;
  g_assert_nonnull (preferences);

  /* The choices are radio buttons on the settings. */
  button = find_choice (GTK_WIDGET (preferences), "For every message");
  g_assert_nonnull (button);
  g_assert_false (gtk_check_button_get_active (button));
  gtk_widget_activate (GTK_WIDGET (button));
  g_assert_cmpint (g_settings_get_enum (settings, "notifications"), ==, GC_NOTIFY_ALL);
  g_assert_true (gtk_check_button_get_active (button));
  g_settings_set_enum (settings, "notifications", GC_NOTIFY_NEVER);
  g_assert_false (gtk_check_button_get_active (button));
  g_assert_true (gtk_check_button_get_active (find_choice (GTK_WIDGET (preferences), "Never")));

  /* The colour scheme follows the choice at once. */
  gtk_widget_activate (GTK_WIDGET (find_choice (GTK_WIDGET (preferences), "Dark")));
  g_assert_cmpint (g_settings_get_enum (settings, "color-scheme"), ==, GC_COLOR_SCHEME_DARK);
  g_assert_true (prefers_dark ());
  gtk_widget_activate (GTK_WIDGET (find_choice (GTK_WIDGET (preferences), "Light")));
  g_assert_false (prefers_dark ());
  g_settings_set_enum (settings, "color-scheme", GC_COLOR_SCHEME_DARK);
  g_assert_true (prefers_dark ());
  g_assert_true (gtk_check_button_get_active (find_choice (GTK_WIDGET (preferences), "Dark")));
  /* Following the system: no portal here, so GTK's default again. */
  gtk_widget_activate (GTK_WIDGET (find_choice (GTK_WIDGET (preferences), "Follow the system")));
  g_assert_cmpint (g_settings_get_enum (settings, "color-scheme"), ==, GC_COLOR_SCHEME_DEFAULT);
  g_assert_false (prefers_dark ());

  /* The same action shows the one window again. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  g_assert_cmpuint (count_app_windows (), ==, 2);

  g_settings_reset (settings, "notifications");
  gtk_window_destroy (GTK_WINDOW (preferences));
  destroy_window (window);
}

/* Every shortcut the window handles is bound, and the shortcuts window
 * (GtkApplication's help overlay) lists them. */
static void
test_shortcuts (void)
{
  struct {
    const char *accel;
    const char *action;
  } bound[] = {
    { "<Control>n", "win.join" },
    { "<Control>w", "win.leave-room" },
    { "<Control>Page_Down", "win.next-room" },
    { "<Control>Page_Up", "win.previous-room" },
    { "<Alt>3", "win.select-room(3)" },
    { "<Control>q", "app.quit" },
    { "<Control>comma", "app.preferences" },
    { "<Control>question", "win.show-help-overlay" },
  };
  GcWindow *window = new_window ();
  GtkShortcutsWindow *overlay;

  for (guint i = 0; i < G_N_ELEMENTS (bound); i++)
    {
      g_auto(GStrv) actions = gtk_application_get_actions_for_accel (GTK_APPLICATION (app),
                                                                      bound[i].accel);

      g_test_message ("%s", bound[i].accel);
      g_assert_true (g_strv_contains ((const char * const *) actions, bound[i].action));
    }

  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  g_assert_nonnull (overlay);
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (window), "show-help-overlay"));

  destroy_window (window);
}

/* The About dialog gives the version meson built. */
static void
test_about (void)
{
  GcWindow *window = new_window ();
  GListModel *toplevels = gtk_window_get_toplevels ();
  AdwAboutWindow *about = NULL;

  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) toplevel = g_list_model_get_item (toplevels, i);

      if (ADW_IS_ABOUT_WINDOW (toplevel))
        about = ADW_ABOUT_WINDOW (toplevel);
    }
  g_assert_nonnull (about);
  g_assert_cmpstr (adw_about_window_get_version (about), ==, PACKAGE_VERSION);
  g_assert_cmpstr (adw_about_window_get_application_name (about), ==, "GoChat");

  gtk_window_destroy (GTK_WINDOW (about));
  destroy_window (window);
}

/* ------------------------------------------------------------------ */
/* Accessibility                                                        */
/* ------------------------------------------------------------------ */


/* Whether some message row in the accessible tree under @root is named
 * @label. (In GTK 4.8 a widget's accessible children are its children.) */
static gboolean
tree_has_message (GtkWidget  *root,
                  const char *label)
{
  GtkWidget *row = gc_test_a11y_find_showing (root, GTK_ACCESSIBLE_ROLE_GROUP, label);

  return row != NULL && has_accessible_label (row, label);
}

/* Whether a widget of @role is one a user operates or reads item by item:
 * it must have a name. */
static gboolean
is_control (GtkAccessibleRole role)
{
  switch (role)
    {
    case GTK_ACCESSIBLE_ROLE_BUTTON:
    case GTK_ACCESSIBLE_ROLE_CHECKBOX:
    case GTK_ACCESSIBLE_ROLE_RADIO:
    case GTK_ACCESSIBLE_ROLE_SWITCH:
    case GTK_ACCESSIBLE_ROLE_LINK:
    case GTK_ACCESSIBLE_ROLE_TEXT_BOX:
    case GTK_ACCESSIBLE_ROLE_SEARCH_BOX:
    case GTK_ACCESSIBLE_ROLE_SPIN_BUTTON:
    case GTK_ACCESSIBLE_ROLE_COMBO_BOX:
    case GTK_ACCESSIBLE_ROLE_SLIDER:
    case GTK_ACCESSIBLE_ROLE_TAB:
    case GTK_ACCESSIBLE_ROLE_MENU_ITEM:
    case GTK_ACCESSIBLE_ROLE_MENU_ITEM_CHECKBOX:
    case GTK_ACCESSIBLE_ROLE_MENU_ITEM_RADIO:
    case GTK_ACCESSIBLE_ROLE_LIST:
    case GTK_ACCESSIBLE_ROLE_LIST_ITEM:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Every control a user reaches under @root has a name (its label, what
 * labels it, or its shown text: gc_test_a11y_is_named()), whatever
 * widget it is. */
static void
assert_controls_named (GtkWidget *root)
{
  GtkAccessibleRole role = gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (root));
  GtkWidget *parent = gtk_widget_get_parent (root);

  /* Hidden, or a page its stack does not show (as AdwPreferencesWindow's
   * search entry, search being off): nobody reaches it. */
  if (!gtk_widget_get_visible (root) || !gtk_widget_get_child_visible (root))
    return;
  /* A page switcher over a single page is never shown (libadwaita keeps
   * AdwPreferencesWindow's mapped behind its title), and its buttons are
   * libadwaita's own, unnamed in 1.2. */
  if (ADW_IS_VIEW_SWITCHER (root))
    {
      AdwViewStack *stack = adw_view_switcher_get_stack (ADW_VIEW_SWITCHER (root));
      g_autoptr(GtkSelectionModel) pages = stack != NULL ? adw_view_stack_get_pages (stack) : NULL;

      if (pages == NULL || g_list_model_get_n_items (G_LIST_MODEL (pages)) < 2)
        return;
    }
  /* Nor is an unmapped preferences page: AdwPreferencesWindow's own
   * search results (search is off here). */
  if (ADW_IS_PREFERENCES_PAGE (root) && !gtk_widget_get_mapped (root))
    return;
  /* A button inside a button (a menu button's own toggle) is that
   * button, named already. */
  if (role == GTK_ACCESSIBLE_ROLE_BUTTON && parent != NULL &&
      gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (parent)) == GTK_ACCESSIBLE_ROLE_BUTTON &&
      gc_test_a11y_is_named (parent))
    return;

  if (is_control (role) && !gc_test_a11y_is_named (root))
    g_error ("a %s %s (tooltip “%s”) has no accessible name",
             g_enum_to_string (GTK_TYPE_ACCESSIBLE_ROLE, role), G_OBJECT_TYPE_NAME (root),
             gtk_widget_get_tooltip_text (root));

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    assert_controls_named (child);
}

static void
test_accessibility (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GcMessageItem *item;
  GcJoinDialog *dialog;
  GtkWidget *preferences;
  GcTestClient *bob;

  ts = gc_test_server_new (NULL);
  bob = gc_test_client_join_url (ts->url, "spoken", "bob");
  window = new_window ();
  session = join_room (window, ts->url, "alice", "spoken");

  gc_test_client_send_message (bob, "Can you hear me?", NULL);
  gc_test_client_send_text (bob, "{\"type\":\"message\",\"kind\":\"emote\",\"text\":\"waves\"}");
  set_compose_text (window, "Loud and clear");
  gtk_widget_activate_action (room_view (window), "room.send", NULL);
  item = find_item (session, "Loud and clear");
  gc_test_wait (gc_message_item_get_state (item) == GC_MESSAGE_ITEM_DELIVERED);
  gc_test_wait (find_item (session, "waves") != NULL);

  /* The message rows say who said what. */
  gc_test_wait (tree_has_message (GTK_WIDGET (window), "bob: Can you hear me?"));
  g_assert_true (tree_has_message (GTK_WIDGET (window), "bob waves"));
  g_assert_true (tree_has_message (GTK_WIDGET (window), "alice: Loud and clear"));
  g_assert_true (tree_has_message (GTK_WIDGET (window), "bob joined") ||
                 find_item (session, "bob joined") == NULL);
  g_assert_false (tree_has_message (GTK_WIDGET (window), "bob: nothing like this"));

  /* The controls have names: the window, the join dialog, preferences. */
  assert_controls_named (GTK_WIDGET (window));
  g_assert_true (has_accessible_label (compose_box (window), "Message"));
  g_assert_true (has_accessible_label (message_list (window), "Messages"));
  g_assert_true (has_accessible_label (gc_test_a11y_find_showing (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_BUTTON,
                                                                  "Copy Invite Link"),
                                       "Copy Invite Link"));
  /* What describes what: the byte count the compose box, the member
   * count the member list, who and where the room's title. */
  g_assert_cmpstr (widget_text (compose_counter (window)), ==, "0 / 4096");
  g_assert_cmpstr (widget_text (member_count (window)), ==, "2 members");
  g_assert_true (g_str_has_prefix (widget_text (gc_test_a11y_get_description (room_title (window))),
                                   "alice on ws://127.0.0.1:"));

  dialog = gc_window_show_join_dialog (window);
  assert_controls_named (GTK_WIDGET (dialog));
  gtk_window_destroy (GTK_WINDOW (dialog));

  preferences = GTK_WIDGET (gc_preferences_window_new (GTK_WINDOW (window)));
  gtk_window_present (GTK_WINDOW (preferences));
  assert_controls_named (preferences);
  gtk_window_destroy (GTK_WINDOW (preferences));

  gc_test_client_free (bob);
  destroy_window (window);
  gc_test_server_free (ts);
}

/* ------------------------------------------------------------------ */
/* Scale                                                                */
/* ------------------------------------------------------------------ */

#define SCALE_MESSAGES 100000
#define SCALE_BATCH    1000

static gsize
heap_in_use (void)
{
#if defined(__GLIBC__) && !defined(UNDER_ASAN)
  return mallinfo2 ().uordblks;
#else
  return 0;
#endif
}

/* The rows @list has made (its list items, shown or kept for reuse). */
static guint
count_rows (GtkWidget *list)
{
  g_autoptr(GPtrArray) items = gc_test_a11y_find_all (list, GTK_ACCESSIBLE_ROLE_LIST_ITEM, NULL);

  return items->len;
}

static double
elapsed_ms (gint64 since)
{
  return (g_get_monotonic_time () - since) / 1000.0;
}

/* A room with 100,000 messages stays responsive: each batch of 1,000
 * arriving messages is handled and drawn in bounded time that does not
 * grow with the room, memory per message is small, and the list only
 * makes rows for what shows. */
static void
test_scale (void)
{
  GcTestServer *ts = NULL;
  GcWindow *window;
  GcChatSession *session;
  GtkWidget *list, *jump;
  GtkAdjustment *adj;
  g_autoptr(GcMessageItem) first = NULL;
  GString *json = g_string_new (NULL);
  double batch_ms[SCALE_MESSAGES / SCALE_BATCH];
  double first_avg = 0, last_avg = 0, max_ms = 0, total_ms = 0;
  guint n_batches = SCALE_MESSAGES / SCALE_BATCH;
  guint64 next_id;
  gsize heap_before, heap_after;
  double per_message = 0;
  gint64 start;

  ts = gc_test_server_new (NULL);
  window = new_window ();
  gtk_window_set_default_size (GTK_WINDOW (window), 960, 640);
  session = join_room (window, ts->url, "alice", "big");
  list = message_list (window);
  adj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (list));
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));

  /* The person reads the first lines while the flood arrives: the view
   * holds still (following the end instead lays out the ~200 newest rows
   * for each batch, which test-app-scroll covers), so this measures what
   * the room's size costs. */
  next_id = 1;
  for (; next_id <= 100; next_id++)
    {
      g_string_printf (json,
                       "{\"type\":\"message\",\"id\":%" G_GUINT64_FORMAT ",\"ts\":0,"
                       "\"from\":{\"id\":\"u1\",\"name\":\"member 1\"},\"kind\":\"text\",\"text\":\"first\"}",
                       next_id);
      gc_chat_session_feed_event (session, json->str);
    }
  gc_test_wait (gtk_adjustment_get_upper (adj) > 2 * gtk_adjustment_get_page_size (adj));
  /* The view followed them to the end before it is taken to the top. */
  gc_test_wait (gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj) >=
                gtk_adjustment_get_upper (adj) - 8);
  gtk_adjustment_set_value (adj, 0);
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));

  heap_before = heap_in_use ();
  for (guint b = 0; b < n_batches; b++)
    {
      start = g_get_monotonic_time ();
      for (guint i = 0; i < SCALE_BATCH; i++, next_id++)
        {
          g_string_printf (json,
                           "{\"type\":\"message\",\"id\":%" G_GUINT64_FORMAT ",\"ts\":%" G_GINT64_FORMAT ","
                           "\"from\":{\"id\":\"u%u\",\"name\":\"member %u\"},\"kind\":\"text\","
                           "\"text\":\"message number %" G_GUINT64_FORMAT " of a very busy room, "
                           "with some words so that it wraps like a real one might\"}",
                           next_id, g_get_real_time () / 1000, (guint) (next_id % 7), (guint) (next_id % 7),
                           next_id);
          gc_chat_session_feed_event (session, json->str);
        }
      gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
      batch_ms[b] = elapsed_ms (start);
      total_ms += batch_ms[b];
      max_ms = MAX (max_ms, batch_ms[b]);
    }
  heap_after = heap_in_use ();

  /* Everything arrived; the "new messages" button brings the end. */
  g_assert_cmpuint (g_list_model_get_n_items (gc_chat_session_get_messages (session)), >=, SCALE_MESSAGES);
  jump = new_messages_button (window);
  g_assert_nonnull (jump);
  start = g_get_monotonic_time ();
  click (jump);
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
  g_test_message ("jump to the end: %.1f ms", elapsed_ms (start));
  /* By geometry: the newest line's row lies inside the visible area. */
  {
    g_autoptr(GcMessageItem) newest =
      g_list_model_get_item (gc_chat_session_get_messages (session),
                             g_list_model_get_n_items (gc_chat_session_get_messages (session)) - 1);
    GtkWidget *row;
    graphene_rect_t bounds;

    /* (The list is as tall as what its scrolled window shows.) */
    gc_test_wait ((row = find_item_row (list, newest)) != NULL &&
                  gtk_widget_compute_bounds (row, list, &bounds) &&
                  bounds.origin.y >= -1 &&
                  bounds.origin.y + bounds.size.height <= gtk_widget_get_height (list) + 1);
  }
  /* Rows are recycled: GtkListView keeps a couple of hundred at most,
   * however long the room. */
  g_test_message ("message rows in the list: %u", count_rows (list));
  g_assert_cmpuint (count_rows (list), <, 400);
  g_assert_cmpuint (g_list_model_get_n_items (gc_chat_session_get_messages (session)), ==,
                    SCALE_MESSAGES);

  for (guint b = 0; b < 10; b++)
    {
      first_avg += batch_ms[b] / 10;
      last_avg += batch_ms[n_batches - 10 + b] / 10;
    }
  if (heap_after > heap_before)
    per_message = (double) (heap_after - heap_before) / SCALE_MESSAGES;

  g_test_message ("100,000 messages in batches of 1,000: %.1f ms per batch on average "
                  "(first ten %.1f ms, last ten %.1f ms, slowest %.1f ms)",
                  total_ms / n_batches, first_avg, last_avg, max_ms);
  if (per_message > 0)
    g_test_message ("heap per message: %.0f bytes", per_message);
  else
    g_test_message ("heap per message: not measured (no mallinfo2, or a sanitizer's allocator)");

  /* The timings above are for reading, not asserting (a loaded machine
   * or a sanitizer build is many times slower); what bounds the cost is
   * structural: the row widgets (above) and the heap per line. */
  if (per_message > 0)
    g_assert_cmpfloat (per_message, <, 2048);

  /* Scrolling to the top reaches the first line (timed for reading). */
  start = g_get_monotonic_time ();
  gtk_adjustment_set_value (adj, 0);
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
  g_test_message ("jump to the top: %.1f ms", elapsed_ms (start));
  first = g_list_model_get_item (gc_chat_session_get_messages (session), 0);
  gc_test_wait (find_item_row (list, first) != NULL);

  /* The room stays bounded: beyond 100,000 lines the oldest go. */
  for (guint i = 0; i < SCALE_BATCH; i++, next_id++)
    {
      g_string_printf (json,
                       "{\"type\":\"message\",\"id\":%" G_GUINT64_FORMAT ",\"ts\":0,"
                       "\"from\":{\"id\":\"u1\",\"name\":\"member 1\"},\"kind\":\"text\",\"text\":\"more\"}",
                       next_id);
      gc_chat_session_feed_event (session, json->str);
    }
  g_assert_cmpuint (g_list_model_get_n_items (gc_chat_session_get_messages (session)), ==, 100000);

  g_string_free (json, TRUE);
  destroy_window (window);
  gc_test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  guint owner_id;
  int ret;

  test_app_setup (&argc, &argv, TEST_APP_SETUP_NOTIFICATIONS | TEST_APP_SETUP_OPEN);
  xdotool = g_find_program_in_path ("xdotool");
  settings = g_settings_new (GC_APPLICATION_ID);
  owner_id = start_notification_server ();

  g_test_add_func ("/rooms/invite-link/parse", test_invite_link_parse);
  g_test_add_func ("/rooms/invite-link/build", test_invite_link_build);
  g_test_add_func ("/rooms/mentions", test_mentions);
  g_test_add_func ("/rooms/keyboard", test_rooms_keyboard);
  g_test_add_func ("/rooms/unread", test_unread);
  g_test_add_func ("/rooms/tab-completion", test_tab_completion);
  g_test_add_func ("/rooms/join-dialog/name-reason", test_join_dialog_name_reason);
  g_test_add_func ("/rooms/join-dialog/server-reason", test_join_dialog_server_reason);
  g_test_add_func ("/rooms/lan-addresses", test_lan_addresses);
  g_test_add_func ("/rooms/hosting", test_hosting);
  g_test_add_func ("/rooms/hosting-from-dialog", test_hosting_from_dialog);
  g_test_add_func ("/rooms/leave-hosted", test_leave_hosted);
  g_test_add_func ("/rooms/invite-in-app", test_invite_in_app);
  g_test_add_func ("/rooms/command-line", test_command_line_program);
  g_test_add_func ("/rooms/host-command-line", test_host_command_line);
  g_test_add_func ("/rooms/notifications", test_notifications);
  g_test_add_func ("/rooms/preferences", test_preferences);
  g_test_add_func ("/rooms/shortcuts", test_shortcuts);
  g_test_add_func ("/rooms/about", test_about);
  g_test_add_func ("/rooms/accessibility", test_accessibility);
  g_test_add_func ("/rooms/scale", test_scale);

  ret = test_app_run ();

  g_bus_unown_name (owner_id);
  g_clear_pointer (&notifications, g_ptr_array_unref);
  g_clear_object (&settings);
  g_free (xdotool);
  return ret;
}
