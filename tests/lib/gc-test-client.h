/* gc-test-client.h: a protocol-level GoChat client for the tests
 *
 * GcTestClient joins a room through our own WebSocket client
 * (gc_ws_connect_async), records a refusal or the connection, and queues
 * every event it receives, parsed with gc_event_parse() and kept as raw
 * JSON too. Tests take events by type, by text or by any predicate:
 *
 *   g_autoptr(GcTestClient) ann = gc_test_client_join (ts->port, "lobby", "ann");
 *   g_autoptr(GcTestClient) bob = gc_test_client_join (ts->port, "lobby", "bob");
 *   g_autoptr(GcTestEvent) join = gc_test_client_wait_event (ann, GC_EVENT_JOIN);
 *
 *   gc_test_client_send_message (bob, "hi", NULL);
 *   g_autoptr(GcTestEvent) hi = gc_test_client_wait_message (ann, "hi");
 *   gc_test_client_close (bob, 1000);
 *   g_assert_cmpuint (gc_test_client_wait_closed (bob), ==, 1000);
 *
 * A refusal: gc_test_client_start_join() and then
 * gc_test_client_assert_refused (client, 409, "name_taken").
 *
 * GcTestRawClient is a bare TCP client that completes the upgrade itself
 * and then misbehaves on purpose (never reads, never answers pings, sends
 * hand-made frames).
 *
 * Every wait is gc_test_wait() (gc-test-wait.h): the main loop spins until
 * the condition holds, and the test fails when the deadline passes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "gc-protocol.h"
#include "gc-ws-connection.h"
#include "gc-ws-frame.h"

#include "gc-test-http.h"
#include "gc-test-wait.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
  GcEvent *event;        /* parsed */
  char    *json;         /* the text exactly as received */
  gint64   received_us;  /* monotonic time of arrival */
} GcTestEvent;

void gc_test_event_free (GcTestEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcTestEvent, gc_test_event_free)

/* The event's JSON as a json-glib object (transfer full; asserts it is one). */
JsonObject *gc_test_event_to_object (const GcTestEvent *event);

/* ------------------------------------------------------------------ */
/* GcTestClient                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
  char           *url;

  /* The handshake. */
  gboolean        finished;        /* gc_ws_connect_finish() ran */
  GcWsConnection *connection;      /* the upgrade succeeded */
  GError         *connect_error;   /* it did not */
  guint           http_status;     /* the refusal's status */
  char           *refusal_body;    /* the refusal's body, NUL-terminated */
  JsonObject     *refusal;         /* the body parsed, if a JSON object */

  /* After the upgrade. */
  GcTestEvent    *welcome;         /* the first event, once it was a welcome */
  GQueue          events;          /* GcTestEvent, not yet taken */
  guint           n_events;        /* events received in total */
  guint           n_pings;         /* pings received (answered automatically) */
  gboolean        unparsable;      /* an event gc_event_parse() refused */
  gboolean        closed;          /* the TCP connection is gone */
  gushort         close_code;      /* what the server sent; 1005/1006 if nothing */
  char           *close_reason;

  GCancellable   *cancellable;
} GcTestClient;

/* Options of a join beyond room and name. */
typedef struct {
  const char   *session_id;     /* NULL: not sent */
  const char   *since;          /* NULL: not sent; sent verbatim (escaped) */
  const char   *origin;         /* NULL: no Origin header */
  gboolean      no_subprotocol; /* offer no Sec-WebSocket-Protocol */
  GTlsDatabase *tls_database;   /* wss:// with this trust store */
} GcTestJoinOptions;

/* The /joinRoom URL for @room and @name (both form-encoded; %NULL omits
 * the parameter) on @scheme://@host:@port. */
char         *gc_test_join_url              (const char              *scheme,
                                             const char              *host,
                                             guint16                  port,
                                             const char              *room,
                                             const char              *name,
                                             const GcTestJoinOptions *options);

/* Starts connecting to @url; returns at once. */
GcTestClient *gc_test_client_new_for_url    (const char              *url,
                                             const GcTestJoinOptions *options);
/* Starts joining @room as @name at @server_url ("ws://HOST:PORT", as
 * GcTestServer's url). */
GcTestClient *gc_test_client_start_join_url (const char              *server_url,
                                             const char              *room,
                                             const char              *name,
                                             const GcTestJoinOptions *options);
/* Joins at @server_url and waits for the welcome (asserting both). */
GcTestClient *gc_test_client_join_url       (const char              *server_url,
                                             const char              *room,
                                             const char              *name);
/* Starts joining @room as @name on ws://127.0.0.1:@port. */
GcTestClient *gc_test_client_start_join     (guint16                  port,
                                             const char              *room,
                                             const char              *name,
                                             const GcTestJoinOptions *options);
/* Joins and waits for the welcome (asserting both). */
GcTestClient *gc_test_client_join           (guint16                  port,
                                             const char              *room,
                                             const char              *name);
/* Joins with a resume token and `since` (< 0: none) and waits for the welcome. */
GcTestClient *gc_test_client_resume         (guint16                  port,
                                             const char              *room,
                                             const char              *name,
                                             const char              *session_id,
                                             gint64                   since);
void          gc_test_client_free           (GcTestClient            *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcTestClient, gc_test_client_free)

void          gc_test_client_wait_finished  (GcTestClient            *client);
/* Waits for the upgrade and the welcome; asserts the first event is the
 * welcome. Returns it (transfer none). */
GcWelcome    *gc_test_client_wait_welcome   (GcTestClient            *client);
/* Waits for the handshake and asserts a refusal with @status, a JSON body
 * with `error` = @code and a string `message`. Returns the body (transfer none). */
JsonObject   *gc_test_client_assert_refused_full (GcTestClient       *client,
                                             guint                    status,
                                             const char              *code,
                                             const char              *file,
                                             int                      line);
#define gc_test_client_assert_refused(client, status, code) \
  gc_test_client_assert_refused_full ((client), (status), (code), __FILE__, __LINE__)

/* Our user (from the welcome). */
const GcUser *gc_test_client_get_you        (GcTestClient            *client);

/* Taking events. The wait functions fail the test on timeout. */

/* The next event of any type (transfer full). */
GcTestEvent  *gc_test_client_next_event     (GcTestClient            *client);
/* The first queued event of @type, removed from the queue; the events
 * before it stay queued (transfer full). */
GcTestEvent  *gc_test_client_wait_event     (GcTestClient            *client,
                                             GcEventType              type);
/* The first message event with @text; see gc_test_client_wait_event(). */
GcTestEvent  *gc_test_client_wait_message   (GcTestClient            *client,
                                             const char              *text);
/* The first error event (which must have @code) — a convenience. */
GcTestEvent  *gc_test_client_wait_error     (GcTestClient            *client,
                                             const char              *code);
/* The first queued event for which @predicate returns %TRUE, removed
 * from the queue; the events before it stay queued (transfer full).
 * @what names it in the failure message. */
typedef gboolean (*GcTestEventPredicate) (const GcTestEvent *event,
                                          gpointer           user_data);
GcTestEvent  *gc_test_client_wait_matching  (GcTestClient            *client,
                                             GcTestEventPredicate     predicate,
                                             gpointer                 user_data,
                                             const char              *what);
/* Queued events of @type (GC_EVENT_UNKNOWN: all). */
guint         gc_test_client_count_queued   (GcTestClient            *client,
                                             GcEventType              type);
void          gc_test_client_clear_queue    (GcTestClient            *client);

/* Sending. */
void          gc_test_client_send_text      (GcTestClient            *client,
                                             const char              *text);
void          gc_test_client_send_message   (GcTestClient            *client,
                                             const char              *text,
                                             const char              *client_id);
void          gc_test_client_send_binary    (GcTestClient            *client,
                                             const guint8            *data,
                                             gsize                    len);

/* Sends @n messages "@prefix-I" (I from 0) and waits until they come
 * back; returns their events (GcTestEvent), oldest first. */
GPtrArray    *gc_test_client_send_messages  (GcTestClient            *client,
                                             const char              *prefix,
                                             guint                    n);

/* Sends a message and waits until it comes back: every event the server
 * sent this client before it is then in the queue (a barrier). */
void          gc_test_client_sync           (GcTestClient            *client);

/* Closing. */
void          gc_test_client_close          (GcTestClient            *client,
                                             gushort                  code);
/* Drops the TCP connection without a close frame. */
void          gc_test_client_abort          (GcTestClient            *client);
/* Waits until the connection is closed; returns the server's close code. */
gushort       gc_test_client_wait_closed    (GcTestClient            *client);

/* ------------------------------------------------------------------ */
/* Assertions on what the server sent                                   */
/* ------------------------------------------------------------------ */

/* Same id and name. */
void          gc_test_assert_same_user      (const GcUser            *a,
                                             const GcUser            *b);
/* A server timestamp: Unix milliseconds, within a minute of our clock. */
void          gc_test_assert_recent_ts      (gint64                   ts);
/* A message event from @from with @text and @client_id (NULL: the field
 * must be absent, not null; §4.3), a positive id and a recent ts. */
void          gc_test_assert_message        (const GcTestEvent       *event,
                                             const GcUser            *from,
                                             const char              *text,
                                             const char              *client_id);
/* Whether @members (GcUser) has @user's id; asserts the name matches. */
gboolean      gc_test_members_contain       (GPtrArray               *members,
                                             const GcUser            *user);
/* The next leave event, asserted to be @user's with @reason (transfer full). */
GcTestEvent  *gc_test_client_wait_leave     (GcTestClient            *client,
                                             const GcUser            *user,
                                             const char              *reason);
/* The user of the next join event (transfer full). */
GcUser       *gc_test_client_wait_join_user (GcTestClient            *client);

/* ------------------------------------------------------------------ */
/* GcTestRawClient: a WebSocket client that misbehaves on purpose       */
/* ------------------------------------------------------------------ */

typedef struct {
  GSocket    *socket;
  GSource    *source;      /* while reading */
  GcWsParser *parser;
  GByteArray *handshake;   /* until the 101 was read */
  guint       http_status;
  gboolean    upgraded;
  gboolean    reading;     /* FALSE: never reads after the upgrade */
  GQueue      events;      /* GcTestEvent from text messages */
  guint       n_pings;     /* received and never answered */
  gushort     close_code;  /* from a close frame; 0 if none */
  gboolean    eof;         /* the server closed TCP (or reset it) */
} GcTestRawClient;

/**
 * gc_test_raw_client_connect:
 * @port: the server's port on 127.0.0.1
 * @path_and_query: e.g. "/joinRoom?room_code=a&user_name=b"
 * @keep_reading: after the upgrade, go on reading and decoding frames
 *   (never answering pings); %FALSE stops reading for good
 * @receive_buffer: SO_RCVBUF to ask for (0: the system's), small to make
 *   a non-reading client's window close quickly
 *
 * Connects, sends the upgrade and waits for the 101 (asserted).
 */
GcTestRawClient *gc_test_raw_client_connect (guint16          port,
                                             const char      *path_and_query,
                                             gboolean         keep_reading,
                                             int              receive_buffer);
void             gc_test_raw_client_free    (GcTestRawClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcTestRawClient, gc_test_raw_client_free)

/* Sends one masked frame, blocking until written. */
void             gc_test_raw_client_send_frame (GcTestRawClient *client,
                                                GcWsOpcode       opcode,
                                                gboolean         fin,
                                                const guint8    *payload,
                                                gsize            len);

/* Sends @data as is (e.g. a deliberately malformed frame). */
void             gc_test_raw_client_send_bytes (GcTestRawClient *client,
                                                const guint8    *data,
                                                gsize            len);

G_END_DECLS
