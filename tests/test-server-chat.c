/* test-server-chat.c: joining, chat and WebSocket details (docs/protocol.md §2, §4, §5, §7)
 *
 * Each test runs on its own GcServer (a gc_test_add_server() fixture)
 * with real loopback clients from tests/lib. The smoke tests first are a
 * quick end-to-end check of the embeddable server.
 *
 * A rule that something does NOT reach a client is checked with a
 * barrier: the client (or another member) sends a message and waits for
 * it; events reach a client in order, so anything broadcast before is
 * queued by then.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "gc-server.h"
#include "gc-server-private.h"
#include "gc-test-server.h"

/* ------------------------------------------------------------------ */
/* Smoke: a quick end-to-end check of the embeddable server             */
/* ------------------------------------------------------------------ */

/* Two members chat, a name clash is refused with a suggestion, a dropped
 * member resumes without noise, rooms are disposed with their last
 * member, and shutdown closes everyone with 1001. */

static void
configure_smoke (GcServerConfig *config)
{
  config->resume_seconds = 30;
}

/* Connects to /joinRoom?@query and waits for the upgrade or the refusal. */
static GcTestClient *
smoke_join (GcTestServer *ts,
            const char   *query)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/joinRoom?%s", ts->port, query);
  GcTestClient *client = gc_test_client_new_for_url (url, NULL);

  gc_test_client_wait_finished (client);
  return client;
}

/* The client's next event, which must be of @type (owned by the test). */
static GcEvent *
smoke_expect (GcTestClient *client,
              GcEventType   type)
{
  GcTestEvent *event = gc_test_client_next_event (client);

  g_test_queue_destroy ((GDestroyNotify) gc_test_event_free, event);
  g_assert_nonnull (event->event);
  g_assert_cmpint (event->event->type, ==, type);

  return event->event;
}

static void
test_smoke_chat (GcTestServer  *ts,
                 gconstpointer  test_data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) clash = NULL;
  g_autofree char *request = NULL;
  GcWelcome *welcome;
  GcEvent *event;
  GcRoom *room;
  const char *body;

  alice = smoke_join (ts, "room_code=Lobby&user_name=Alice");
  g_assert_nonnull (alice->connection);
  welcome = gc_test_client_wait_welcome (alice);
  g_assert_cmpstr (welcome->room, ==, "lobby");
  g_assert_cmpuint (welcome->members->len, ==, 1);
  g_assert_false (welcome->resumed);

  bob = smoke_join (ts, "room_code=LOBBY&user_name=bob");
  welcome = gc_test_client_wait_welcome (bob);
  g_assert_cmpuint (welcome->members->len, ==, 2);
  event = smoke_expect (alice, GC_EVENT_JOIN);
  g_assert_cmpstr (event->join.user->name, ==, "bob");

  /* Names clash without regard to case; the refusal (after the upgrade,
   * docs/protocol.md §3.6) suggests a free one. */
  clash = smoke_join (ts, "room_code=lobby&user_name=ALICE");
  g_assert_nonnull (clash->connection);
  gc_test_wait (clash->closed);
  g_assert_cmpuint (clash->close_code, ==, 4409);
  g_assert_cmpstr (clash->close_reason, ==, "name_taken");
  body = clash->refusal_body;
  g_assert_nonnull (body);
  g_assert_nonnull (strstr (body, "\"type\":\"refused\",\"error\":\"name_taken\""));
  g_assert_nonnull (strstr (body, "\"suggestion\":\"ALICE2\""));

  /* A forged `from` is ignored; the sender gets its own message too. */
  request = g_strdup ("{\"type\":\"message\",\"text\":\"hi\",\"client_id\":\"c1\","
                      "\"from\":{\"id\":\"x\",\"name\":\"mallory\"}}");
  gc_test_client_send_text (bob, request);
  event = smoke_expect (alice, GC_EVENT_MESSAGE);
  g_assert_cmpstr (event->message->from->name, ==, "bob");
  g_assert_cmpstr (event->message->text, ==, "hi");
  event = smoke_expect (bob, GC_EVENT_MESSAGE);
  g_assert_cmpstr (event->message->client_id, ==, "c1");

  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 1);
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 2);
  room = gc_server_lookup_room (ts->server, "LoBbY");
  g_assert_nonnull (room);
  g_assert_cmpuint (gc_room_get_n_members (room), ==, 2);
  /* With --redis the history is the room's stream in Redis (§6.7). */
  if (!gc_test_server_redis_mode ())
    g_assert_cmpuint (gc_room_get_n_history (room), ==, 1);

  /* The room goes with its last member. */
  g_object_add_weak_pointer (G_OBJECT (room), (gpointer *) &room);
  gc_test_client_close (bob, GC_WS_CLOSE_NORMAL);
  event = smoke_expect (alice, GC_EVENT_LEAVE);
  g_assert_cmpint (event->leave.reason, ==, GC_LEAVE_REASON_LEFT);
  g_assert_nonnull (room);
  gc_test_client_close (alice, GC_WS_CLOSE_NORMAL);
  gc_test_wait (room == NULL);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 0);
}

static void
test_smoke_resume (GcTestServer  *ts,
                   gconstpointer  test_data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autofree char *query = NULL;
  g_autofree char *user_id = NULL;
  guint64 seen;
  GcWelcome *welcome;
  GcEvent *event;

  alice = smoke_join (ts, "room_code=r&user_name=alice");
  gc_test_client_wait_welcome (alice);
  bob = smoke_join (ts, "room_code=r&user_name=bob");
  welcome = gc_test_client_wait_welcome (bob);
  user_id = g_strdup (welcome->you->id);
  query = g_strdup_printf ("room_code=r&user_name=bob&session_id=%s", welcome->session_id);
  smoke_expect (alice, GC_EVENT_JOIN);

  gc_test_client_send_text (alice, "{\"type\":\"message\",\"text\":\"one\"}");
  seen = smoke_expect (bob, GC_EVENT_MESSAGE)->message->id;
  smoke_expect (alice, GC_EVENT_MESSAGE);

  /* Bob's link dies without a close frame; what he misses comes back
   * on resume, and Alice sees neither a leave nor a join. */
  gc_test_client_abort (bob);
  gc_test_client_send_text (alice, "{\"type\":\"message\",\"text\":\"two\"}");
  smoke_expect (alice, GC_EVENT_MESSAGE);

  {
    g_autofree char *with_since = g_strdup_printf ("%s&since=%" G_GUINT64_FORMAT, query, seen);

    again = smoke_join (ts, with_since);
  }
  welcome = gc_test_client_wait_welcome (again);
  g_assert_true (welcome->resumed);
  g_assert_cmpstr (welcome->you->id, ==, user_id);
  g_assert_cmpuint (welcome->history->len, ==, 1);
  g_assert_cmpstr (((GcMessage *) g_ptr_array_index (welcome->history, 0))->text, ==, "two");

  gc_test_client_send_text (again, "{\"type\":\"typing\",\"active\":true}");
  event = smoke_expect (alice, GC_EVENT_TYPING);
  g_assert_cmpstr (event->typing.user->id, ==, user_id);
}

static void
test_smoke_shutdown (GcTestServer  *ts,
                     gconstpointer  test_data)
{
  g_autoptr(GcTestClient) alice = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  gboolean done = FALSE;
  guint n_events;

  alice = smoke_join (ts, "room_code=s&user_name=alice");
  gc_test_client_wait_welcome (alice);
  bob = smoke_join (ts, "room_code=s&user_name=bob");
  gc_test_client_wait_welcome (bob);
  smoke_expect (alice, GC_EVENT_JOIN);
  n_events = alice->n_events;

  gc_test_server_begin_shutdown (ts, &done);
  gc_test_wait (done);
  gc_test_wait (alice->closed && bob->closed);
  g_assert_cmpuint (alice->close_code, ==, GC_WS_CLOSE_GOING_AWAY);
  g_assert_cmpuint (bob->close_code, ==, GC_WS_CLOSE_GOING_AWAY);
  /* No leave was broadcast. */
  g_assert_cmpuint (alice->n_events, ==, n_events);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 0);
  g_assert_cmpuint (gc_server_get_port (ts->server), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Joining                                                              */
/* ------------------------------------------------------------------ */

static void
test_join_room_case (GcTestServer  *ts,
                     gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "Room-1", "a");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "ROOM-1", "b");
  g_autoptr(GcUser) joined = NULL;
  GcWelcome *welcome_a = a->welcome->event->welcome;
  GcWelcome *welcome_b = b->welcome->event->welcome;

  g_assert_cmpstr (welcome_a->room, ==, "room-1");
  g_assert_cmpstr (welcome_b->room, ==, "room-1");
  g_assert_cmpuint (welcome_b->members->len, ==, 2);
  g_assert_true (gc_test_members_contain (welcome_b->members, welcome_a->you));

  joined = gc_test_client_wait_join_user (a);
  gc_test_assert_same_user (joined, welcome_b->you);

  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 1);
  g_assert_nonnull (gc_server_lookup_room (ts->server, "rOoM-1"));
  g_assert_cmpstr (gc_room_get_code (gc_server_lookup_room (ts->server, "ROOM-1")), ==, "room-1");
}

static void
test_join_name_forms (GcTestServer  *ts,
                      gconstpointer  test_data)
{
  g_autoptr(GString) accents32 = g_string_new (NULL);
  g_autoptr(GString) accents33 = NULL;
  g_autoptr(GString) emoji32 = g_string_new (NULL);
  g_autoptr(GcTestClient) c32 = NULL;
  g_autoptr(GcTestClient) c33 = NULL;
  g_autoptr(GcTestClient) e32 = NULL;
  g_autoptr(GcTestClient) plus = NULL;
  g_autoptr(GcTestClient) trimmed = NULL;
  g_autofree char *plus_url = NULL;

  for (guint i = 0; i < 32; i++)
    {
      g_string_append (accents32, "é");
      g_string_append (emoji32, "😀");
    }
  accents33 = g_string_new (accents32->str);
  g_string_append (accents33, "é");

  /* 32 characters of 2 (or 4) bytes each: 64 (128) bytes, and fine. */
  c32 = gc_test_client_join (ts->port, "lobby", accents32->str);
  g_assert_cmpstr (gc_test_client_get_you (c32)->name, ==, accents32->str);
  e32 = gc_test_client_join (ts->port, "lobby", emoji32->str);
  g_assert_cmpstr (gc_test_client_get_you (e32)->name, ==, emoji32->str);
  c33 = gc_test_client_start_join (ts->port, "lobby", accents33->str, NULL);
  gc_test_client_assert_refused (c33, 400, "invalid_user_name");

  /* Form decoding: + is a space, %2B a plus. */
  plus_url = g_strdup_printf ("ws://127.0.0.1:%u/joinRoom?room_code=lobby&user_name=Ann+Lee%%2B",
                              ts->port);
  plus = gc_test_client_new_for_url (plus_url, NULL);
  gc_test_client_wait_welcome (plus);
  g_assert_cmpstr (gc_test_client_get_you (plus)->name, ==, "Ann Lee+");

  /* White space (Unicode White_Space, here a no-break space) is trimmed. */
  trimmed = gc_test_client_join (ts->port, "lobby", " \u00A0 Bob\t ");
  g_assert_cmpstr (gc_test_client_get_you (trimmed)->name, ==, "Bob");
}

static void
assert_token_strength (const char *token)
{
  gsize len = strlen (token);
  gboolean hex = TRUE;
  gboolean base64 = TRUE;
  gsize significant = 0;

  for (const char *p = token; *p != '\0'; p++)
    {
      if (!g_ascii_isxdigit (*p))
        hex = FALSE;
      if (!g_ascii_isalnum (*p) && strchr ("-_+/=", *p) == NULL)
        base64 = FALSE;
      if (*p != '=')
        significant++;
    }

  g_assert_true (hex || base64);
  if (hex)
    g_assert_cmpuint (len * 4, >=, 128);
  else
    g_assert_cmpuint (significant * 6, >=, 128);
}

static void
configure_join_welcome (GcServerConfig *config)
{
  config->resume_seconds = 17;
  config->max_text_bytes = 1000;
  config->max_message_bytes = 20000;
  config->rate_burst = 7;
  config->rate_per_second = 3;
}

static void
test_join_welcome (GcTestServer  *ts,
                   gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) bare = NULL;
  g_autoptr(JsonObject) object = NULL;
  GcWelcome *welcome;
  JsonObject *server;
  JsonObject *you;

  a = gc_test_client_join (ts->port, "Lobby", "Ann");
  b = gc_test_client_join (ts->port, "lobby", "Bob");
  welcome = b->welcome->event->welcome;

  g_assert_cmpuint (welcome->protocol, ==, 1);
  g_assert_cmpstr (welcome->server_name, ==, "gochat-server");
  g_assert_cmpstr (welcome->server_version, ==, PACKAGE_VERSION);
  g_assert_cmpstr (welcome->room, ==, "lobby");
  g_assert_cmpstr (welcome->you->name, ==, "Bob");
  g_assert_cmpstr (welcome->you->id, !=, "");
  g_assert_cmpstr (welcome->you->id, !=, gc_test_client_get_you (a)->id);
  g_assert_cmpuint (welcome->resume_s, ==, 17);
  g_assert_false (welcome->resumed);
  g_assert_cmpuint (welcome->members->len, ==, 2);
  g_assert_true (gc_test_members_contain (welcome->members, welcome->you));
  g_assert_true (gc_test_members_contain (welcome->members, gc_test_client_get_you (a)));
  g_assert_cmpuint (welcome->history->len, ==, 0);
  g_assert_cmpuint (welcome->limits.max_text_bytes, ==, 1000);
  g_assert_cmpuint (welcome->limits.max_message_bytes, ==, 20000);
  g_assert_cmpuint (welcome->limits.rate_burst, ==, 7);
  g_assert_cmpfloat (welcome->limits.rate_per_s, ==, 3.0);

  /* The session token: secret, unguessable, per member. */
  assert_token_strength (welcome->session_id);
  assert_token_strength (a->welcome->event->welcome->session_id);
  g_assert_cmpstr (welcome->session_id, !=, a->welcome->event->welcome->session_id);
  g_assert_null (strstr (welcome->session_id, welcome->you->id));

  /* On the wire: the ids are JSON strings; the subprotocol was selected. */
  object = gc_test_event_to_object (b->welcome);
  you = json_object_get_object_member (object, "you");
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (you, "id")), ==,
                   G_TYPE_STRING);
  server = json_object_get_object_member (object, "server");
  g_assert_nonnull (server);
  g_assert_cmpstr (gc_ws_connection_get_protocol (b->connection), ==, GC_PROTOCOL_SUBPROTOCOL);

  /* A client that offers no subprotocol is served version 1 all the same. */
  {
    GcTestJoinOptions options = { .no_subprotocol = TRUE };

    bare = gc_test_client_start_join (ts->port, "lobby", "Cy", &options);
    g_assert_cmpuint (gc_test_client_wait_welcome (bare)->protocol, ==, 1);
  }
}

/* ------------------------------------------------------------------ */
/* Chat (§4, §5)                                                        */
/* ------------------------------------------------------------------ */

static void
test_chat_delivery (GcTestServer  *ts,
                    gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestClient) c = gc_test_client_join (ts->port, "lobby", "cy");
  g_autoptr(GcTestClient) other = gc_test_client_join (ts->port, "elsewhere", "dan");
  g_autofree char *emote = gc_request_build_message ("waves", GC_MESSAGE_KIND_EMOTE, "e-1");
  GcTestClient *members[] = { a, b, c };
  const char *texts[] = { "hello", "  spaced out\t", "ünïcødé 😀 \"quotes\" \\ \n", "waves" };
  const char *client_ids[] = { "c-1", NULL, "c-3", "e-1" };
  guint64 ids[G_N_ELEMENTS (texts)];

  gc_test_client_send_message (a, texts[0], client_ids[0]);
  gc_test_client_send_message (a, texts[1], client_ids[1]);
  gc_test_client_send_message (a, texts[2], client_ids[2]);
  gc_test_client_send_text (a, emote);

  /* Every member, the sender included, gets every message, in order,
   * with the same ids. */
  for (gsize m = 0; m < G_N_ELEMENTS (members); m++)
    for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
      {
        g_autoptr(GcTestEvent) event = gc_test_client_wait_event (members[m], GC_EVENT_MESSAGE);

        gc_test_assert_message (event, gc_test_client_get_you (a), texts[i], client_ids[i]);
        g_assert_cmpint (event->event->message->kind, ==,
                         i == 3 ? GC_MESSAGE_KIND_EMOTE : GC_MESSAGE_KIND_TEXT);
        if (m == 0)
          {
            ids[i] = event->event->message->id;
            if (i > 0)
              g_assert_cmpuint (ids[i], >, ids[i - 1]);
          }
        else
          g_assert_cmpuint (event->event->message->id, ==, ids[i]);
      }

  /* Ids never repeat, in this room or another. */
  gc_test_client_send_message (other, "elsewhere", NULL);
  gc_test_client_send_message (b, "from bob", NULL);
  {
    g_autoptr(GcTestEvent) elsewhere = gc_test_client_wait_message (other, "elsewhere");
    g_autoptr(GcTestEvent) from_bob = gc_test_client_wait_message (c, "from bob");

    gc_test_assert_message (from_bob, gc_test_client_get_you (b), "from bob", NULL);
    g_assert_cmpuint (from_bob->event->message->id, >, ids[3]);
    for (gsize i = 0; i < G_N_ELEMENTS (ids); i++)
      g_assert_cmpuint (elsewhere->event->message->id, !=, ids[i]);
    g_assert_cmpuint (elsewhere->event->message->id, !=, from_bob->event->message->id);
  }

  /* Nothing of this room reached the other one. */
  gc_test_client_sync (other);
  g_assert_cmpuint (gc_test_client_count_queued (other, GC_EVENT_UNKNOWN), ==, 0);
  g_assert_false (a->unparsable || b->unparsable || c->unparsable);
}

static void
test_chat_forged_fields (GcTestServer  *ts,
                         gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestEvent) message = NULL;
  g_autoptr(GcTestEvent) rename = NULL;
  g_autoptr(GcTestEvent) typing = NULL;
  const GcUser *ann = gc_test_client_get_you (a);

  gc_test_client_send_text (a, "{\"type\":\"message\",\"text\":\"forged\","
                               "\"id\":1,\"ts\":5,\"kind\":\"text\","
                               "\"from\":{\"id\":\"x\",\"name\":\"bob\"},"
                               "\"user\":{\"id\":\"x\",\"name\":\"bob\"},"
                               "\"extra\":[1,{\"nested\":true}]}");
  message = gc_test_client_wait_message (b, "forged");
  gc_test_assert_message (message, ann, "forged", NULL);
  g_assert_cmpstr (message->event->message->from->id, ==, ann->id);

  gc_test_client_send_text (a, "{\"type\":\"typing\",\"active\":true,"
                               "\"user\":{\"id\":\"x\",\"name\":\"bob\"}}");
  typing = gc_test_client_wait_event (b, GC_EVENT_TYPING);
  gc_test_assert_same_user (typing->event->typing.user, ann);

  gc_test_client_send_text (a, "{\"type\":\"rename\",\"name\":\"anna\","
                               "\"user\":{\"id\":\"x\",\"name\":\"bob\"},\"old_name\":\"zed\"}");
  rename = gc_test_client_wait_event (b, GC_EVENT_RENAME);
  g_assert_cmpstr (rename->event->rename.user->id, ==, ann->id);
  g_assert_cmpstr (rename->event->rename.user->name, ==, "anna");
  g_assert_cmpstr (rename->event->rename.old_name, ==, "ann");
}

static void
test_chat_join_leave (GcTestServer  *ts,
                      gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcUser) joined = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autoptr(GcTestEvent) leave_c = NULL;
  GcWelcome *welcome_c;

  /* join goes to those already in, not to the newcomer. */
  joined = gc_test_client_wait_join_user (a);
  gc_test_assert_same_user (joined, gc_test_client_get_you (b));
  gc_test_client_sync (b);
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_JOIN), ==, 0);

  c = gc_test_client_join (ts->port, "lobby", "cy");
  welcome_c = c->welcome->event->welcome;
  g_assert_cmpuint (welcome_c->members->len, ==, 3);
  {
    g_autoptr(GcUser) j1 = gc_test_client_wait_join_user (a);
    g_autoptr(GcUser) j2 = gc_test_client_wait_join_user (b);

    gc_test_assert_same_user (j1, welcome_c->you);
    gc_test_assert_same_user (j2, welcome_c->you);
  }

  /* A clean close: leave with reason left, at once, and the close is
   * answered with the same code. */
  gc_test_client_close (b, 1000);
  g_assert_cmpuint (gc_test_client_wait_closed (b), ==, 1000);
  leave = gc_test_client_wait_leave (a, gc_test_client_get_you (b), "left");
  leave_c = gc_test_client_wait_leave (c, gc_test_client_get_you (b), "left");

  /* The name is free again, and a newcomer sees two members. */
  b2 = gc_test_client_join (ts->port, "lobby", "BOB");
  g_assert_cmpuint (b2->welcome->event->welcome->members->len, ==, 3);
  g_assert_false (gc_test_members_contain (b2->welcome->event->welcome->members,
                                   gc_test_client_get_you (b)));
}

static void
configure_chat_rename (GcServerConfig *config)
{
  config->rate_burst = 100;
}

static void
test_chat_rename (GcTestServer  *ts,
                  gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) new_bob = NULL;
  g_autoptr(GcTestClient) clash = NULL;
  const char *bob_id;
  const struct {
    const char *request;
    const char *new_name;   /* NULL: an error */
    const char *old_name;
    const char *error;
  } steps[] = {
    { "{\"type\":\"rename\",\"name\":\"Bobby\"}", "Bobby", "bob", NULL },
    /* The own name in another case. */
    { "{\"type\":\"rename\",\"name\":\"BOBBY\"}", "BOBBY", "Bobby", NULL },
    /* Trimmed like a join. */
    { "{\"type\":\"rename\",\"name\":\"  Rob \"}", "Rob", "BOBBY", NULL },
    { "{\"type\":\"rename\",\"name\":\"ALICE\"}", NULL, NULL, "name_taken" },
    { "{\"type\":\"rename\",\"name\":\"carol\"}", NULL, NULL, "name_taken" },
    { "{\"type\":\"rename\",\"name\":\"   \"}", NULL, NULL, "invalid_user_name" },
    { "{\"type\":\"rename\",\"name\":\"\"}", NULL, NULL, "invalid_user_name" },
    { "{\"type\":\"rename\",\"name\":\"a\\u0007b\"}", NULL, NULL, "invalid_user_name" },
    { "{\"type\":\"rename\",\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", NULL, NULL,
      "invalid_user_name" },
    { "{\"type\":\"rename\",\"name\":5}", NULL, NULL, "bad_request" },
    { "{\"type\":\"rename\"}", NULL, NULL, "bad_request" },
  };

  /* More renames than the default burst. */
  a = gc_test_client_join (ts->port, "lobby", "alice");
  b = gc_test_client_join (ts->port, "lobby", "bob");
  c = gc_test_client_join (ts->port, "lobby", "carol");
  bob_id = gc_test_client_get_you (b)->id;

  for (gsize i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      gc_test_client_send_text (b, steps[i].request);
      if (steps[i].new_name != NULL)
        {
          GcTestClient *all[] = { a, b, c };

          /* To every member, the renamer included. */
          for (gsize m = 0; m < G_N_ELEMENTS (all); m++)
            {
              g_autoptr(GcTestEvent) event = gc_test_client_wait_event (all[m], GC_EVENT_RENAME);

              g_assert_cmpstr (event->event->rename.user->id, ==, bob_id);
              g_assert_cmpstr (event->event->rename.user->name, ==, steps[i].new_name);
              g_assert_cmpstr (event->event->rename.old_name, ==, steps[i].old_name);
              gc_test_assert_recent_ts (event->event->rename.ts);
            }
        }
      else
        {
          g_autoptr(GcTestEvent) error = gc_test_client_wait_error (b, steps[i].error);
        }
    }

  /* Failed renames reached nobody else; bob is still Rob. */
  gc_test_client_sync (b);
  {
    g_autoptr(GcTestEvent) synced = gc_test_client_wait_event (a, GC_EVENT_MESSAGE);

    g_assert_cmpstr (synced->event->message->from->name, ==, "Rob");
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_RENAME), ==, 0);
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_ERROR), ==, 0);
  }

  /* The old name is free, the new one taken. */
  new_bob = gc_test_client_join (ts->port, "lobby", "bob");
  clash = gc_test_client_start_join (ts->port, "lobby", "rob", NULL);
  gc_test_client_assert_refused (clash, 409, "name_taken");
  {
    GPtrArray *members = new_bob->welcome->event->welcome->members;
    gboolean found = FALSE;

    for (guint i = 0; i < members->len; i++)
      {
        const GcUser *member = g_ptr_array_index (members, i);

        if (g_strcmp0 (member->id, bob_id) == 0)
          {
            g_assert_cmpstr (member->name, ==, "Rob");
            found = TRUE;
          }
      }
    g_assert_true (found);
  }
}

static void
test_chat_typing (GcTestServer  *ts,
                  gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestClient) c = gc_test_client_join (ts->port, "lobby", "cy");
  g_autofree char *start = gc_request_build_typing (TRUE);
  g_autofree char *stop = gc_request_build_typing (FALSE);
  GcTestClient *others[] = { b, c };

  gc_test_client_send_text (a, start);
  gc_test_client_send_text (a, stop);
  for (gsize m = 0; m < G_N_ELEMENTS (others); m++)
    {
      g_autoptr(GcTestEvent) on = gc_test_client_wait_event (others[m], GC_EVENT_TYPING);
      g_autoptr(GcTestEvent) off = gc_test_client_wait_event (others[m], GC_EVENT_TYPING);

      gc_test_assert_same_user (on->event->typing.user, gc_test_client_get_you (a));
      g_assert_true (on->event->typing.active);
      gc_test_assert_same_user (off->event->typing.user, gc_test_client_get_you (a));
      g_assert_false (off->event->typing.active);
    }

  /* Not to the typist. */
  gc_test_client_sync (a);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_TYPING), ==, 0);
}

static void
configure_chat_errors (GcServerConfig *config)
{
  config->max_text_bytes = 100;
  config->rate_burst = 1000;
  config->rate_per_second = 1000;
}

static void
test_chat_errors (GcTestServer  *ts,
                  gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autofree char *long_id = g_strnfill (65, 'i');
  g_autofree char *max_id = g_strnfill (64, 'i');
  g_autofree char *bad_long_id = NULL;
  g_autofree char *too_long = NULL;
  g_autofree char *at_limit = NULL;
  g_autofree char *max_id_request = NULL;
  const struct {
    const char *request;
    const char *code;
    const char *ref;
  } cases[] = {
    { "not json", "bad_request", NULL },
    { "{\"type\":\"message\",\"text\":\"x\"", "bad_request", NULL },
    { "[{\"type\":\"message\",\"text\":\"x\"}]", "bad_request", NULL },
    { "\"message\"", "bad_request", NULL },
    { "42", "bad_request", NULL },
    { "null", "bad_request", NULL },
    { "{}", "bad_request", NULL },
    { "{\"type\":\"shout\",\"client_id\":\"r1\"}", "bad_request", "r1" },
    { "{\"type\":5,\"text\":\"x\"}", "bad_request", NULL },
    { "{\"type\":\"message\",\"client_id\":\"r2\"}", "bad_request", "r2" },
    { "{\"type\":\"message\",\"text\":5,\"client_id\":\"r3\"}", "bad_request", "r3" },
    { "{\"type\":\"message\",\"text\":null,\"client_id\":\"r4\"}", "bad_request", "r4" },
    { "{\"type\":\"message\",\"text\":\"x\",\"kind\":\"shout\",\"client_id\":\"r5\"}",
      "bad_request", "r5" },
    { "{\"type\":\"message\",\"text\":\"x\",\"kind\":1,\"client_id\":\"r6\"}", "bad_request", "r6" },
    { "{\"type\":\"message\",\"text\":\"x\",\"client_id\":7}", "bad_request", NULL },
    { "{\"type\":\"message\",\"text\":\"x\",\"client_id\":{\"a\":1}}", "bad_request", NULL },
    { "{\"type\":\"typing\"}", "bad_request", NULL },
    { "{\"type\":\"typing\",\"active\":\"yes\"}", "bad_request", NULL },
    { "{\"type\":\"typing\",\"active\":1}", "bad_request", NULL },
    { "{\"type\":\"message\",\"text\":\"\",\"client_id\":\"r7\"}", "empty_message", "r7" },
    { "{\"type\":\"message\",\"text\":\" \\t\\n\\u00a0\\u3000 \",\"client_id\":\"r8\"}",
      "empty_message", "r8" },
  };

  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GcTestEvent) error = NULL;

      g_test_message ("request %s", cases[i].request);
      gc_test_client_send_text (a, cases[i].request);
      error = gc_test_client_wait_error (a, cases[i].code);
      g_assert_cmpstr (error->event->error.ref, ==, cases[i].ref);
      g_assert_nonnull (error->event->error.message);
      if (cases[i].ref == NULL)
        g_assert_null (strstr (error->json, "\"ref\""));
      /* The connection stays open: the next valid request goes through. */
      gc_test_client_sync (a);
      g_assert_false (a->closed);
    }

  /* Nesting far deeper than any request needs: refused, not a crash. */
  {
    g_autoptr(GString) deep = g_string_new ("{\"type\":\"message\",\"text\":\"x\",\"extra\":");
    g_autoptr(GcTestEvent) error = NULL;

    for (guint i = 0; i < 20000; i++)
      g_string_append_c (deep, '[');
    for (guint i = 0; i < 20000; i++)
      g_string_append_c (deep, ']');
    g_string_append_c (deep, '}');
    gc_test_client_send_text (a, deep->str);
    error = gc_test_client_wait_error (a, "bad_request");
    gc_test_client_sync (a);
  }

  /* client_id: 64 bytes are fine, 65 are a bad request without ref. */
  bad_long_id = g_strdup_printf ("{\"type\":\"message\",\"text\":\"x\",\"client_id\":\"%s\"}", long_id);
  gc_test_client_send_text (a, bad_long_id);
  {
    g_autoptr(GcTestEvent) error = gc_test_client_wait_error (a, "bad_request");

    g_assert_null (error->event->error.ref);
  }
  max_id_request = gc_request_build_message ("max id", GC_MESSAGE_KIND_TEXT, max_id);
  gc_test_client_send_text (a, max_id_request);
  {
    g_autoptr(GcTestEvent) echo = gc_test_client_wait_message (a, "max id");

    g_assert_cmpstr (echo->event->message->client_id, ==, max_id);
  }

  /* Text length in bytes: 100 two-byte characters are 200 bytes. */
  {
    g_autoptr(GString) text = g_string_new (NULL);
    g_autoptr(GcTestEvent) error = NULL;
    g_autoptr(GcTestEvent) echo = NULL;

    for (guint i = 0; i < 50; i++)
      g_string_append (text, "é");
    at_limit = g_strdup (text->str);
    g_string_append (text, "x");
    too_long = gc_request_build_message (text->str, GC_MESSAGE_KIND_TEXT, "long");
    gc_test_client_send_text (a, too_long);
    error = gc_test_client_wait_error (a, "message_too_long");
    g_assert_cmpstr (error->event->error.ref, ==, "long");

    gc_test_client_send_message (a, at_limit, "limit");
    echo = gc_test_client_wait_message (a, at_limit);
    g_assert_cmpstr (echo->event->message->client_id, ==, "limit");
  }

  /* Errors are private, and nothing invalid was broadcast: bob saw only
   * the valid messages. */
  gc_test_client_sync (b);
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_ERROR), ==, 0);
  {
    guint n_messages = gc_test_client_count_queued (b, GC_EVENT_MESSAGE);

    /* One sync per case and after the deep request, "max id" and the
     * text at the limit. */
    g_assert_cmpuint (n_messages, ==, G_N_ELEMENTS (cases) + 3);
  }
  g_assert_false (a->closed);
}

static void
test_chat_binary (GcTestServer  *ts,
                  gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestEvent) leave = NULL;
  const guint8 data[] = "{\"type\":\"message\",\"text\":\"binary\"}";

  gc_test_client_send_binary (a, data, sizeof data - 1);
  g_assert_cmpuint (gc_test_client_wait_closed (a), ==, 1003);
  leave = gc_test_client_wait_leave (b, gc_test_client_get_you (a), "error");
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_MESSAGE), ==, 0);
}

static void
configure_chat_oversized (GcServerConfig *config)
{
  config->max_message_bytes = 1024;
}

static void
test_chat_oversized (GcTestServer  *ts,
                     gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autoptr(GcTestEvent) fits = NULL;
  g_autofree char *big_text = g_strnfill (1100, 'x');
  g_autofree char *big = gc_request_build_message (big_text, GC_MESSAGE_KIND_TEXT, NULL);
  g_autofree char *exact = NULL;
  g_autofree char *exact_text = NULL;
  gsize overhead;

  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");

  /* A message of exactly max_message_bytes is fine. */
  {
    g_autofree char *empty = gc_request_build_message ("", GC_MESSAGE_KIND_TEXT, NULL);

    overhead = strlen (empty);
  }
  exact_text = g_strnfill (1024 - overhead, 'y');
  exact = gc_request_build_message (exact_text, GC_MESSAGE_KIND_TEXT, NULL);
  g_assert_cmpuint (strlen (exact), ==, 1024);
  gc_test_client_send_text (a, exact);
  fits = gc_test_client_wait_message (b, exact_text);

  gc_test_client_send_text (a, big);
  g_assert_cmpuint (gc_test_client_wait_closed (a), ==, 1009);
  leave = gc_test_client_wait_leave (b, gc_test_client_get_you (a), "error");
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_MESSAGE), ==, 0);
}

static void
test_chat_invalid_utf8 (GcTestServer  *ts,
                        gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestRawClient) raw = NULL;
  g_autoptr(GcUser) raw_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  const guint8 bad[] = "{\"type\":\"message\",\"text\":\"\xff\"}";

  raw = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=raw", TRUE, 0);
  raw_user = gc_test_client_wait_join_user (a);
  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_TEXT, TRUE, bad, sizeof bad - 1);
  gc_test_wait (raw->close_code != 0);
  g_assert_cmpuint (raw->close_code, ==, 1007);
  leave = gc_test_client_wait_leave (a, raw_user, "error");
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_MESSAGE), ==, 0);
}

/* ------------------------------------------------------------------ */
/* WebSocket details (§2, §7)                                           */
/* ------------------------------------------------------------------ */

static void
test_ws_handshake_headers (GcTestServer  *ts,
                           gconstpointer  test_data)
{
  g_autoptr(GcTestHttpResponse) offered = NULL;
  g_autoptr(GcTestHttpResponse) none = NULL;
  const char *path = "/joinRoom?room_code=lobby&user_name=ann";

  /* permessage-deflate offered: not negotiated; gochat.v1 selected. */
  offered = gc_test_http_upgrade (ts->port, path, NULL,
                     "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
  g_assert_cmpuint (offered->status, ==, 101);
  g_assert_null (soup_message_headers_get_one (offered->headers, "Sec-WebSocket-Extensions"));
  g_assert_cmpstr (soup_message_headers_get_one (offered->headers, "Sec-WebSocket-Protocol"), ==,
                   GC_PROTOCOL_SUBPROTOCOL);
  g_assert_cmpstr (soup_message_headers_get_one (offered->headers, "Sec-WebSocket-Accept"), ==,
                   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

  /* No subprotocol offered: none selected (RFC 6455 §4.2.2), still served. */
  none = gc_test_http_request ("127.0.0.1", ts->port, NULL,
                               "GET /joinRoom?room_code=lobby&user_name=bob HTTP/1.1\r\n"
                               "Host: 127.0.0.1\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                               "Sec-WebSocket-Version: 13\r\n"
                               "\r\n");
  g_assert_cmpuint (none->status, ==, 101);
  g_assert_null (soup_message_headers_get_one (none->headers, "Sec-WebSocket-Protocol"));
}

static void
test_ws_close_handshake (GcTestServer  *ts,
                         gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestRawClient) raw = NULL;
  g_autoptr(GcUser) raw_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  const guint8 close_payload[] = { 0x03, 0xe8, 'b', 'y', 'e' };

  raw = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=raw", TRUE, 0);
  raw_user = gc_test_client_wait_join_user (a);

  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_CLOSE, TRUE, close_payload,
                                 sizeof close_payload);
  /* The server answers the close and then closes TCP first. */
  gc_test_wait (raw->eof);
  g_assert_cmpuint (raw->close_code, ==, 1000);
  leave = gc_test_client_wait_leave (a, raw_user, "left");
}

static void
test_ws_fragmented (GcTestServer  *ts,
                    gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestRawClient) raw = NULL;
  g_autoptr(GcUser) raw_user = NULL;
  g_autoptr(GcTestEvent) event = NULL;
  const char *part1 = "{\"type\":\"message\",";
  const char *part2 = "\"text\":\"in ";
  const char *part3 = "pieces\",\"client_id\":\"f\"}";

  raw = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=raw", TRUE, 0);
  raw_user = gc_test_client_wait_join_user (a);

  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_TEXT, FALSE, (const guint8 *) part1,
                                 strlen (part1));
  /* A control frame may come between fragments. */
  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_PING, TRUE, (const guint8 *) "p", 1);
  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_CONTINUATION, FALSE, (const guint8 *) part2,
                                 strlen (part2));
  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_CONTINUATION, TRUE, (const guint8 *) part3,
                                 strlen (part3));

  event = gc_test_client_wait_message (a, "in pieces");
  gc_test_assert_message (event, raw_user, "in pieces", "f");
  gc_test_client_sync (a);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_MESSAGE), ==, 0);
}

static void
test_ws_protocol_error (GcTestServer  *ts,
                        gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestRawClient) raw = NULL;
  g_autoptr(GcUser) raw_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  /* An unmasked text frame: clients must mask (RFC 6455 §5.1). */
  const guint8 unmasked[] = { 0x81, 0x02, 'h', 'i' };

  raw = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=raw", TRUE, 0);
  raw_user = gc_test_client_wait_join_user (a);
  gc_test_raw_client_send_bytes (raw, unmasked, sizeof unmasked);
  gc_test_wait (raw->close_code != 0);
  g_assert_cmpuint (raw->close_code, ==, 1002);
  leave = gc_test_client_wait_leave (a, raw_user, "error");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_server ("/server-smoke/chat", configure_smoke, test_smoke_chat);
  gc_test_add_server ("/server-smoke/resume", configure_smoke, test_smoke_resume);
  gc_test_add_server ("/server-smoke/shutdown", configure_smoke, test_smoke_shutdown);
  gc_test_add_server ("/server/join/room-case", NULL, test_join_room_case);
  gc_test_add_server ("/server/join/name-forms", NULL, test_join_name_forms);
  gc_test_add_server ("/server/join/welcome", configure_join_welcome, test_join_welcome);
  gc_test_add_server ("/server/chat/delivery", NULL, test_chat_delivery);
  gc_test_add_server ("/server/chat/forged-fields", NULL, test_chat_forged_fields);
  gc_test_add_server ("/server/chat/join-leave", NULL, test_chat_join_leave);
  gc_test_add_server ("/server/chat/rename", configure_chat_rename, test_chat_rename);
  gc_test_add_server ("/server/chat/typing", NULL, test_chat_typing);
  gc_test_add_server ("/server/chat/errors", configure_chat_errors, test_chat_errors);
  gc_test_add_server ("/server/chat/binary", NULL, test_chat_binary);
  gc_test_add_server ("/server/chat/oversized", configure_chat_oversized, test_chat_oversized);
  gc_test_add_server ("/server/chat/invalid-utf8", NULL, test_chat_invalid_utf8);
  gc_test_add_server ("/server/ws/handshake-headers", NULL, test_ws_handshake_headers);
  gc_test_add_server ("/server/ws/close-handshake", NULL, test_ws_close_handshake);
  gc_test_add_server ("/server/ws/fragmented", NULL, test_ws_fragmented);
  gc_test_add_server ("/server/ws/protocol-error", NULL, test_ws_protocol_error);

  return gc_test_run ();
}
