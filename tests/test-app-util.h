/* test-app-util.h: what the app tests share: setup, waiting, widgets found by role and name
 *
 * Waits spin the main loop until a condition holds, with a deadline;
 * nothing sleeps. Widgets are driven as a user would (entries, buttons,
 * actions), the server is tests/lib's GcTestServer running in the same
 * main loop (gc-test-server.h), and other members are tests/lib's
 * GcTestClient (gc-test-client.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "gc-application.h"
#include "gc-chat-session-private.h"
#include "gc-join-dialog.h"
#include "gc-message-row.h"
#include "gc-protocol.h"
#include "gc-room-member.h"
#include "gc-room-view.h"
#include "gc-server.h"
#include "gc-window.h"
#include "gc-ws-handshake.h"

#include "gc-test-a11y.h"
#include "gc-test-server.h"

/* The application the windows belong to; each test program makes it. */
extern GcApplication *app;

/* ------------------------------------------------------------------ */
/* Setup and waiting                                                    */
/* ------------------------------------------------------------------ */

/* gtk_test_init(), then what every app test needs of GTK's settings. */
void test_app_init (int    *argc,
                    char ***argv);

typedef enum {
  TEST_APP_SETUP_DEFAULT        = 0,
  /* The test makes `app` itself (e.g. after saving settings it reads). */
  TEST_APP_SETUP_NO_APPLICATION = 1 << 0,
  /* Notifications stay as the settings say (the default: off). */
  TEST_APP_SETUP_NOTIFICATIONS  = 1 << 1,
  /* The application also opens gochat:// links. */
  TEST_APP_SETUP_OPEN           = 1 << 2,
} TestAppSetupFlags;

/* What every app test's main() does before adding its tests:
 * test_app_init(), notifications off, and `app` made and registered. */
void test_app_setup (int               *argc,
                     char            ***argv,
                     TestAppSetupFlags  flags);
/* g_test_run(), then frees `app` and waits for GLib's pool threads. */
int  test_app_run   (void);

/* Waiting is tests/lib's one wait, gc_test_wait (condition), and
 * gc_test_run_for_ms() lets time pass (gc-test-wait.h). settle() runs
 * what is ready now (such as the batch of lines that arrived, which
 * reaches the model in an idle), without waiting for anything. */
void settle (void);

/* ------------------------------------------------------------------ */
/* Windows and dialogs                                                  */
/* ------------------------------------------------------------------ */

GcWindow     *new_window          (void);
/* Destroys it and waits until the closing handshakes it started ran out. */
void          destroy_window      (GcWindow          *window);
/* Joins @room through the dialog of a new window, as a user does. */
GcWindow     *join_through_dialog (GcTestServer      *ts,
                                   const char        *name,
                                   const char        *room);
gboolean      session_connected   (GcWindow          *window);

/* What is shown over @window: the dialog (an AT's "dialog") named @name
 * (its heading; %NULL: any), the join dialog (the one asking for a
 * name), or %NULL; and pressing the shown button named @name. */
GtkWidget    *dialog_over         (GcWindow          *window,
                                   const char        *name);
GcJoinDialog *join_dialog         (GcWindow          *window);
void          answer              (GtkWidget         *dialog,
                                   const char        *name);

/* The join dialog's field labelled @label ("Server", "Name", "Room"),
 * the hint that describes it, its button named @name ("Join", …), its
 * status line; and filling the three fields. */
GtkWidget    *dialog_entry        (GcJoinDialog      *dialog,
                                   const char        *label);
GtkWidget    *dialog_hint         (GcJoinDialog      *dialog,
                                   const char        *label);
GtkWidget    *dialog_button       (GcJoinDialog      *dialog,
                                   const char        *name);
GtkWidget    *dialog_status       (GcJoinDialog      *dialog);
void          fill_dialog         (GcJoinDialog      *dialog,
                                   const char        *server,
                                   const char        *name,
                                   const char        *room);

/* ------------------------------------------------------------------ */
/* Widgets, found as a person finds them                                */
/* ------------------------------------------------------------------ */

/* By accessible role and name (tests/lib/gc-test-a11y.h). */

/* What a click ends in: "clicked", at once. */
void          click               (gpointer           button);
gboolean      widget_has_class    (gpointer           widget,
                                   const char        *css_class);
/* The text @widget shows (kept with the widget until asked again). */
const char   *widget_text         (GtkWidget         *widget);
/* Whether some label shown under @root reads exactly @text. */
gboolean      has_label           (GtkWidget         *root,
                                   const char        *text);
/* The first widget with @role shown under @root whose text contains
 * @part, or %NULL; how many with @role are shown. */
GtkWidget    *find_showing_text   (GtkWidget         *root,
                                   GtkAccessibleRole  role,
                                   const char        *part);
guint         count_showing       (GtkWidget         *root,
                                   GtkAccessibleRole  role);

/* The room shown now (its GcRoomView); the view of @session's room; the
 * one widget with @role and @name in the room shown. */
GtkWidget    *room_view           (GcWindow          *window);
GcRoomView   *view_of             (GcWindow          *window,
                                   GcChatSession     *session);
GtkWidget    *room_widget         (GcWindow          *window,
                                   GtkAccessibleRole  role,
                                   const char        *name);
/* The room's title in the header, described by "NAME on SERVER". */
GtkWidget    *room_title          (GcWindow          *window);

/* The list "Messages"; the row for @name ("bob: hi", "bob waves", "bob
 * joined"), if on screen; the accessible name of @item's row, as a
 * screen reader reads it; the row under @list showing @item, if any. */
GtkWidget    *message_list        (GcWindow          *window);
GtkWidget    *message_row         (GcWindow          *window,
                                   const char        *name);
char         *item_row_name       (GcMessageItem     *item);
GtkWidget    *find_item_row       (GtkWidget         *list,
                                   GcMessageItem     *item);
/* The shown "N new messages ↓" button, or %NULL. */
GtkWidget    *new_messages_button (GcWindow          *window);
/* Who is typing (the room's status line). */
GtkWidget    *typing_status       (GcWindow          *window);
/* The connection banner's alert, and whether it is shown. */
GtkWidget    *banner              (GcWindow          *window);
gboolean      banner_shown        (GcWindow          *window);
/* The list "Members", and its "N members", which describes it. */
GtkWidget    *member_list         (GcWindow          *window);
GtkWidget    *member_count        (GcWindow          *window);

/* The compose box "Message" (a text view), and its byte count
 * ("11 / 4096"), which describes it; typing into it and reading it. */
GtkWidget    *compose_box         (GcWindow          *window);
GtkWidget    *compose_counter     (GcWindow          *window);
void          set_compose_text    (GcWindow          *window,
                                   const char        *text);
char         *get_compose_text    (GcWindow          *window);
gboolean      send_enabled        (GcWindow          *window);
/* Sends a key press through the compose box's own key handler; returns
 * whether it took the key. */
gboolean      press_compose_key   (GcWindow          *window,
                                   guint              keyval,
                                   GdkModifierType    state);

/* The sidebar's list "Rooms"; the row named @name ("#one, alice ·
 * 127.0.0.1", as a screen reader reads it), whichever widget carries the
 * name; and its place among the rows (-1: none). */
GtkWidget    *sidebar             (GcWindow          *window);
GtkWidget    *sidebar_row         (GcWindow          *window,
                                   const char        *name);
int           sidebar_position    (GcWindow          *window,
                                   const char        *name);

/* ------------------------------------------------------------------ */
/* The session's models                                                 */
/* ------------------------------------------------------------------ */

GcMessageItem *find_item          (GcChatSession     *session,
                                   const char        *text);
/* A new server whose rate limit refuses the third of three quick sends,
 * a window joined to @room on it as "dan" with the app's own pacing off,
 * and the three sent: returns the third line ("burst 2"), which the
 * server will refuse. */
GcMessageItem *send_until_refused (const char        *room,
                                   GcTestServer     **out_server,
                                   GcWindow         **out_window);
guint          count_items        (GcChatSession     *session,
                                   const char        *text);
/* The text of the newest line (owned by the model). */
const char    *last_line          (GcChatSession     *session);
GcRoomMember  *find_member        (GcChatSession     *session,
                                   const char        *name);
