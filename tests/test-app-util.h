/* test-app-util.h: what the app tests share: waiting, an in-process server, a protocol client, widgets
 *
 * Waits spin the main loop until a condition holds, with a deadline;
 * nothing sleeps. Widgets are driven as a user would (entries, buttons,
 * actions), the server runs in the same main loop, and a second client
 * speaks the protocol directly (gc_ws_connect_async + gc-protocol).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "gc-application.h"
#include "gc-chat-session-private.h"
#include "gc-join-dialog-private.h"
#include "gc-message-row.h"
#include "gc-protocol.h"
#include "gc-room-member.h"
#include "gc-room-view-private.h"
#include "gc-server.h"
#include "gc-window-private.h"
#include "gc-ws-handshake.h"

#include "gc-test-server.h"

/* The application the windows belong to; each test program makes it. */
extern GcApplication *app;

/* ------------------------------------------------------------------ */
/* Waiting                                                              */
/* ------------------------------------------------------------------ */

/* WAIT_FOR (expression): tests/lib's one wait (gc-test-wait.h), which
 * also wakes every 50 ms, as some conditions follow layout and drawing
 * rather than one callback. */
#define WAIT_FOR(expr) gc_test_wait (expr)

/* Lets pending work (frames, layout, drawing) run for a little while. */
/* gtk_test_init(), then what every app test needs of GTK's settings. */
void test_app_init (int    *argc,
                    char ***argv);

void spin_for (guint ms);

/* Runs what is ready now (such as the batch of lines that arrived, which
 * reaches the model in an idle), without waiting for anything. */
void settle (void);

/* ------------------------------------------------------------------ */
/* The in-process server                                                */
/* ------------------------------------------------------------------ */

/* tests/lib's GcTestServer (gc-test-server.h). */
typedef GcTestServer TestServer;

char *tls_file               (const char           *name);
/* @tls: serve wss:// with the test certificate (tests/tls). */
void  test_server_start_full (TestServer           *ts,
                              const GcServerConfig *config,
                              guint16               port,
                              gboolean              tls);
void  test_server_start      (TestServer           *ts,
                              const GcServerConfig *config,
                              guint16               port);
void  test_server_stop       (TestServer           *ts);
void  test_server_free       (TestServer           *ts);

/* ------------------------------------------------------------------ */
/* A second, protocol-level client                                      */
/* ------------------------------------------------------------------ */

typedef struct {
  GcWsConnection *connection;
  GPtrArray      *events;      /* GcEvent */
  char           *user_id;
  char           *session_id;
  gboolean        done;
  gboolean        closed;
  guint           http_status;
} TestClient;

/* Joins @room at @server_url (ws://HOST:PORT) and waits for the welcome. */
TestClient *test_client_join_url     (const char  *server_url,
                                      const char  *room,
                                      const char  *name);
TestClient *test_client_join         (TestServer  *ts,
                                      const char  *room,
                                      const char  *name);
void        test_client_send         (TestClient  *client,
                                      const char  *json);
void        test_client_say          (TestClient  *client,
                                      const char  *text);
guint       test_client_count_events (TestClient  *client,
                                      GcEventType  type);
void        test_client_free         (TestClient  *client);
/* Closes with a close frame and waits for the end. */
void        test_client_leave        (TestClient  *client);

/* ------------------------------------------------------------------ */
/* Widgets                                                              */
/* ------------------------------------------------------------------ */

/* The parts of the room @window shows now. */
void            room_parts          (GcWindow        *window,
                                     GcRoomViewParts *parts);
GcWindowParts   window_parts        (GcWindow        *window);
GcWindow       *new_window          (void);
/* Destroys it and lets the closing handshakes run out. */
void            destroy_window      (GcWindow        *window);
/* What a click ends in: "clicked", at once. */
void            click               (gpointer         button);
gboolean        widget_has_class    (gpointer         widget,
                                     const char      *css_class);
/* The row showing @item, if it is on screen. */
GcMessageRow   *find_row            (GtkWidget       *root,
                                     GcMessageItem   *item);
/* Whether some mapped label under @root shows exactly @text. */
gboolean        has_label           (GtkWidget       *root,
                                     const char      *text);
GtkWidget      *find_button         (GtkWidget       *root,
                                     const char      *label);
GcMessageItem  *find_item           (GcChatSession   *session,
                                     const char      *text);
/* The text of the newest line (owned by the model). */
const char     *last_line           (GcChatSession   *session);
guint           count_items         (GcChatSession   *session,
                                     const char      *text);
GcRoomMember   *find_member         (GcChatSession   *session,
                                     const char      *name);
void            set_compose_text    (GcWindow        *window,
                                     const char      *text);
char           *get_compose_text    (GcWindow        *window);
gboolean        send_enabled        (GcWindow        *window);
/* Sends a key press through the compose box's own key handler; returns
 * whether it took the key. */
gboolean        press_compose_key   (GcWindow        *window,
                                     guint            keyval,
                                     GdkModifierType  state);
void            fill_dialog         (GcJoinDialog    *dialog,
                                     const char      *server,
                                     const char      *name,
                                     const char      *room);
gboolean        session_connected   (GcWindow        *window);
/* Joins @room through the dialog of a new window, as a user does. */
GcWindow       *join_through_dialog (TestServer      *ts,
                                     const char      *name,
                                     const char      *room);
