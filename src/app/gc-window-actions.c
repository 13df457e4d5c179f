/* gc-window-actions.c: the window's actions (win.*), on its public and private API
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-application.h"
#include "gc-invite-link.h"
#include "gc-local-host.h"
#include "gc-protocol.h"
#include "gc-window-private.h"

static GcLocalHost *
app_host (GcWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  return GC_IS_APPLICATION (app) ? gc_application_get_host (GC_APPLICATION (app)) : NULL;
}

static void
join_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  gc_window_show_join_dialog (GC_WINDOW (user_data));
}

/* /join ROOM: the same server and name as the room shown. */
static void
join_room_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  GcWindow *self = GC_WINDOW (user_data);
  GcRoomView *view = gc_window_get_room_view (self);
  g_autoptr(GcChatSession) session = NULL;
  g_autofree char *room = gc_protocol_canonical_room_code (g_variant_get_string (parameter, NULL),
                                                           NULL);
  GcChatSession *current;
  GcLocalHost *host;

  if (view == NULL || room == NULL)
    return;

  current = gc_room_view_get_session (view);
  session = gc_chat_session_new (gc_chat_session_get_server_url (current),
                                 gc_chat_session_get_user_name (current), room);
  if (gc_window_show_existing_room (self, session))
    return;

  /* A room next to a hosted one is hosted too. */
  host = app_host (self);
  if (host != NULL && gc_local_host_has_session (host, current))
    gc_local_host_add_session (host, session);
  gc_window_start_join (self, session);
}

static void
leave_room_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  GcWindow *self = GC_WINDOW (user_data);
  GcChatSession *session = gc_window_get_session (self);

  if (session != NULL)
    gc_window_confirm_leave (self, session);
}

/* A room's menu in the sidebar: leave that room, shown or not. The
 * target is its server and room code as the session has them. */
static void
leave_open_room_action (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  GcWindow *self = GC_WINDOW (user_data);
  const char *server_url, *room;

  g_variant_get (parameter, "(&s&s)", &server_url, &room);
  for (guint i = 0; i < gc_window_get_n_sessions (self); i++)
    {
      GcChatSession *session = gc_window_get_nth_session (self, i);

      if (g_str_equal (gc_chat_session_get_server_url (session), server_url) &&
          g_str_equal (gc_chat_session_get_room (session), room))
        {
          gc_window_confirm_leave (self, session);
          return;
        }
    }
}

/* Where the room shown stands among the window's rooms, or -1. */
static int
current_index (GcWindow *self)
{
  GcChatSession *current = gc_window_get_session (self);

  for (guint i = 0; i < gc_window_get_n_sessions (self); i++)
    if (gc_window_get_nth_session (self, i) == current)
      return (int) i;
  return -1;
}

static void
step_room (GcWindow *self,
           int       step)
{
  int n = (int) gc_window_get_n_sessions (self);
  int index = current_index (self);

  if (n < 2 || index < 0)
    return;
  gc_window_show_session (self, gc_window_get_nth_session (self, ((index + step) % n + n) % n));
}

static void
next_room_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  step_room (GC_WINDOW (user_data), 1);
}

static void
previous_room_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  step_room (GC_WINDOW (user_data), -1);
}

/* Alt+1 … Alt+9: the room at that place in the sidebar. */
static void
select_room_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  GcWindow *self = GC_WINDOW (user_data);
  int index = g_variant_get_int32 (parameter) - 1;

  if (index >= 0 && (guint) index < gc_window_get_n_sessions (self))
    gc_window_show_session (self, gc_window_get_nth_session (self, index));
}

/* The next room, after this one and around, with lines not read yet. */
static void
next_unread_room_action (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  GcWindow *self = GC_WINDOW (user_data);
  int n = (int) gc_window_get_n_sessions (self);
  int start = current_index (self);

  for (int step = 1; step < n + (start < 0 ? 1 : 0); step++)
    {
      GcChatSession *session = gc_window_get_nth_session (self, (start + step + n) % n);
      GcRoomView *view = gc_window_find_view (self, session);

      if (view != NULL && gc_room_view_get_unread (view) > 0)
        {
          gc_window_show_session (self, session);
          return;
        }
    }
}

/* Narrow: back from the room to the list of rooms. */
static void
show_rooms_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  GcWindow *self = GC_WINDOW (user_data);

  gc_window_show_rooms (self);
}

static void
copy_invite_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  GcWindow *self = GC_WINDOW (user_data);
  GcRoomView *view = gc_window_get_room_view (self);
  GcChatSession *session;
  GcLocalHost *host;
  g_autofree char *link = NULL;
  const char *server;

  if (view == NULL)
    return;

  session = gc_room_view_get_session (view);
  server = gc_chat_session_get_server_url (session);
  /* Others cannot use our loopback address: invite them to the one the
   * network knows us by. */
  host = app_host (self);
  if (gc_room_view_get_hosted (view) && host != NULL)
    server = gc_local_host_get_lan_urls (host)[0];

  link = gc_invite_link_build (server, gc_chat_session_get_room (session));
  if (link == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), link);
  /* A toast, not a line in the room: it is about the app, not the chat.
   * A server on loopback (./tools/run's) is not our hosted one, whose
   * LAN address is used above: say the link is no good elsewhere. */
  if (gc_invite_link_is_local_only (server))
    gc_window_add_toast (self, _("Copied the invite link. It works only on this computer: "
                                 "the server is on localhost"));
  else
    gc_window_add_toast (self, _("Copied the invite link: whoever opens it joins this room"));
}

void
gc_window_install_actions (GcWindow *self)
{
  static const GActionEntry win_actions[] = {
    { .name = "join", .activate = join_action },
    { .name = "join-room", .activate = join_room_action, .parameter_type = "s" },
    { .name = "leave-room", .activate = leave_room_action },
    { .name = "leave-open-room", .activate = leave_open_room_action, .parameter_type = "(ss)" },
    { .name = "next-room", .activate = next_room_action },
    { .name = "previous-room", .activate = previous_room_action },
    { .name = "select-room", .activate = select_room_action, .parameter_type = "i" },
    { .name = "copy-invite", .activate = copy_invite_action },
    { .name = "show-rooms", .activate = show_rooms_action },
    { .name = "next-unread-room", .activate = next_unread_room_action },
  };

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions,
                                   G_N_ELEMENTS (win_actions), self);
}
