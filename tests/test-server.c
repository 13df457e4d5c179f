/* test-server.c: every rule of protocol.md against an in-process GcServer
 *
 * Each test runs its own GcServer on 127.0.0.1 (a port the system picks)
 * in the test's main context and drives it with real loopback clients
 * from server-test-client.h. Time-based rules use timers of 1–3 s; every
 * wait is a condition with a deadline.
 *
 * A rule that something does NOT reach a client is checked with a
 * barrier: the client (or another member) sends a message and waits for
 * it; events reach a client in order, so anything broadcast before is
 * queued by then.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libsoup/soup.h>

#include "gc-server.h"
#include "gc-server-private.h"
#include "server-test-client.h"

/* ------------------------------------------------------------------ */
/* Servers                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
  GcServer *server;
  guint16   port;
} TestServer;

/* Defaults, except the per-address join limit: every test joins from
 * 127.0.0.1, and the rate-limit test sets its own. */
static void
test_config_init (GcServerConfig *config)
{
  gc_server_config_init_default (config);
  config->join_per_second = 0;
}

static TestServer *
test_server_new (const GcServerConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GcServerConfig defaults;
  TestServer *test_server = g_new0 (TestServer, 1);

  if (config == NULL)
    {
      test_config_init (&defaults);
      config = &defaults;
    }

  test_server->server = gc_server_new (config);
  g_assert_true (gc_server_listen (test_server->server, loopback, 0, &error));
  g_assert_no_error (error);
  test_server->port = gc_server_get_port (test_server->server);
  g_assert_cmpuint (test_server->port, >, 0);

  return test_server;
}

static void
on_shutdown_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gc_server_shutdown_finish (GC_SERVER (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* Shuts the server down gracefully, then checks nothing is left and that
 * the last reference really was the last. */
static void
test_server_free (TestServer *test_server)
{
  GcServer *server;
  gboolean done = FALSE;

  if (test_server == NULL)
    return;

  server = test_server->server;
  gc_server_shutdown_async (server, NULL, on_shutdown_done, &done);
  gc_test_wait (done);
  g_assert_cmpuint (gc_server_get_n_rooms (server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_connections (server), ==, 0);

  g_object_add_weak_pointer (G_OBJECT (server), (gpointer *) &test_server->server);
  g_object_unref (server);
  /* Connections still draining may hold the server a moment longer. */
  gc_test_wait (test_server->server == NULL);
  g_free (test_server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestServer, test_server_free)

/* ------------------------------------------------------------------ */
/* Assertions                                                           */
/* ------------------------------------------------------------------ */

static void
assert_same_user (const GcUser *a,
                  const GcUser *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpstr (a->id, ==, b->id);
  g_assert_cmpstr (a->name, ==, b->name);
}

/* A server timestamp: Unix milliseconds, close to our clock. */
static void
assert_recent_ts (gint64 ts)
{
  gint64 now_ms = g_get_real_time () / 1000;

  g_assert_cmpint (ts, >, now_ms - 60000);
  g_assert_cmpint (ts, <, now_ms + 60000);
}

static void
assert_message (const GcTestEvent *event,
                const GcUser      *from,
                const char        *text,
                const char        *client_id)
{
  const GcMessage *message;

  g_assert_nonnull (event->event);
  g_assert_cmpint (event->event->type, ==, GC_EVENT_MESSAGE);
  message = event->event->message;
  assert_same_user (message->from, from);
  g_assert_cmpstr (message->text, ==, text);
  g_assert_cmpstr (message->client_id, ==, client_id);
  g_assert_cmpuint (message->id, >, 0);
  assert_recent_ts (message->ts);
  /* §7: client_id is omitted, not null, when the sender gave none. */
  if (client_id == NULL)
    g_assert_null (strstr (event->json, "\"client_id\""));
}

static gboolean
members_contain (GPtrArray    *members,
                 const GcUser *user)
{
  for (guint i = 0; i < members->len; i++)
    {
      const GcUser *member = g_ptr_array_index (members, i);

      if (g_strcmp0 (member->id, user->id) == 0)
        {
          g_assert_cmpstr (member->name, ==, user->name);
          return TRUE;
        }
    }
  return FALSE;
}

static GcTestEvent *
wait_leave (GcTestClient *client,
            const GcUser *user,
            const char   *reason)
{
  GcTestEvent *event = gc_test_client_wait_event (client, GC_EVENT_LEAVE);

  g_assert_cmpstr (event->event->leave.user->id, ==, user->id);
  g_assert_cmpstr (gc_leave_reason_to_string (event->event->leave.reason), ==, reason);
  assert_recent_ts (event->event->leave.ts);
  return event;
}

/* The `join` event a member saw for a newcomer: its user. */
static GcUser *
wait_join_user (GcTestClient *client)
{
  g_autoptr(GcTestEvent) event = gc_test_client_wait_event (client, GC_EVENT_JOIN);

  assert_recent_ts (event->event->join.ts);
  return gc_user_copy (event->event->join.user);
}

/* What a raw request to /joinRoom?@query with valid upgrade headers gets. */
static GcTestHttpResponse *
upgrade (guint16     port,
         const char *path_and_query,
         const char *version,
         const char *extra_headers)
{
  g_autofree char *request = gc_test_upgrade_request (path_and_query, version, extra_headers);

  return gc_test_http_request ("127.0.0.1", port, NULL, request);
}

static void
assert_upgrade_refused (guint16     port,
                        const char *path_and_query,
                        guint       status,
                        const char *code)
{
  g_autoptr(GcTestHttpResponse) response = upgrade (port, path_and_query, NULL, NULL);

  g_test_message ("%s -> %u %s", path_and_query, response->status, response->body_text);
  gc_test_http_assert_refusal (response, status, code);
}

static void
assert_upgrade_accepted (guint16     port,
                         const char *path_and_query)
{
  g_autoptr(GcTestHttpResponse) response = upgrade (port, path_and_query, NULL, NULL);

  if (response->status != SOUP_STATUS_SWITCHING_PROTOCOLS)
    g_error ("%s: expected 101, got %u %s", path_and_query, response->status,
             response->body_text);
}

/* ------------------------------------------------------------------ */
/* HTTP refusals (§2, §7)                                               */
/* ------------------------------------------------------------------ */

static void
test_refusal_not_found (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  const char *paths[] = {
    "/", "/join", "/joinRoomX?room_code=a&user_name=b", "/joinRoom/x?room_code=a&user_name=b",
    "/JOINROOM?room_code=a&user_name=b", "/healthzz",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GcTestHttpResponse) with_upgrade = upgrade (ts->port, paths[i], NULL, NULL);
      g_autoptr(GcTestHttpResponse) plain = gc_test_http_get ("127.0.0.1", ts->port, NULL,
                                                              paths[i]);

      g_test_message ("path %s", paths[i]);
      gc_test_http_assert_refusal (with_upgrade, 404, "not_found");
      gc_test_http_assert_refusal (plain, 404, "not_found");
    }
}

static void
test_refusal_upgrade_required (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestHttpResponse) response =
    gc_test_http_get ("127.0.0.1", ts->port, NULL, "/joinRoom?room_code=lobby&user_name=ann");
  const char *upgrade_header;
  g_autofree char *upgrade_lower = NULL;

  gc_test_http_assert_refusal (response, 426, "upgrade_required");
  /* RFC 9110 §15.5.22: a 426 names the protocol to upgrade to. */
  upgrade_header = soup_message_headers_get_one (response->headers, "Upgrade");
  g_assert_nonnull (upgrade_header);
  upgrade_lower = g_ascii_strdown (upgrade_header, -1);
  g_assert_nonnull (strstr (upgrade_lower, "websocket"));

  /* No room was created by it. */
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
}

static void
test_refusal_bad_handshake (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestHttpResponse) no_key = NULL;
  g_autoptr(GcTestHttpResponse) bad_version = NULL;
  const char *version_header;

  no_key = gc_test_http_request ("127.0.0.1", ts->port, NULL,
                                 "GET /joinRoom?room_code=lobby&user_name=ann HTTP/1.1\r\n"
                                 "Host: 127.0.0.1\r\n"
                                 "Upgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n"
                                 "Sec-WebSocket-Version: 13\r\n"
                                 "\r\n");
  gc_test_http_assert_refusal (no_key, 400, "bad_request");

  /* §7: an unsupported version gets 400 bad_request or 426, and the
   * version we speak. */
  bad_version = upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=ann", "8", NULL);
  if (bad_version->status == 426)
    gc_test_http_assert_refusal (bad_version, 426, "upgrade_required");
  else
    gc_test_http_assert_refusal (bad_version, 400, "bad_request");
  version_header = soup_message_headers_get_one (bad_version->headers, "Sec-WebSocket-Version");
  g_assert_cmpstr (version_header, ==, "13");

  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
}

static void
test_refusal_parameters (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  const struct {
    const char *query;
    const char *code;
  } cases[] = {
    { "user_name=ann", "invalid_room_code" },
    { "room_code=&user_name=ann", "invalid_room_code" },
    { "room_code=bad%21&user_name=ann", "invalid_room_code" },
    { "room_code=caf%C3%A9&user_name=ann", "invalid_room_code" },
    { "room_code=a+b&user_name=ann", "invalid_room_code" },
    { "room_code=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&user_name=ann",
      "invalid_room_code" },
    { "room_code=lobby", "invalid_user_name" },
    { "room_code=lobby&user_name=", "invalid_user_name" },
    { "room_code=lobby&user_name=+++", "invalid_user_name" },
    { "room_code=lobby&user_name=%20%09%0A", "invalid_user_name" },
    { "room_code=lobby&user_name=a%01b", "invalid_user_name" },
    { "room_code=lobby&user_name=a%7Fb", "invalid_user_name" },
    { "room_code=lobby&user_name=a%C2%85b", "invalid_user_name" },
    { "room_code=lobby&user_name=a%FFb", "invalid_user_name" },
    { "room_code=lobby&user_name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "invalid_user_name" },
    { "room_code=lobby&user_name=ann&since=-1", "bad_request" },
    { "room_code=lobby&user_name=ann&since=abc", "bad_request" },
    { "room_code=lobby&user_name=ann&since=1.5", "bad_request" },
    { "room_code=lobby&user_name=ann&since=", "bad_request" },
    { "room_code=lobby&user_name=ann&since=%2B1", "bad_request" },
    { "room_code=lobby&user_name=ann&since=99999999999999999999999", "bad_request" },
    /* An encoded NUL is a control character, not the end of the value. */
    { "room_code=lobby&user_name=bob%00evil", "invalid_user_name" },
    { "room_code=lobby&user_name=%00", "invalid_user_name" },
    { "room_code=lob%00by&user_name=ann", "invalid_room_code" },
    { "room_code=lobby%00&user_name=ann", "invalid_room_code" },
    { "room_code=lobby&user_name=ann&since=1%00", "bad_request" },
    { "room_code=lobby&user_name=ann&session_id=abc%00def", "bad_request" },
    /* Given twice: ambiguous, so refused with the field's code. */
    { "room_code=lobby&user_name=ann&user_name=bob", "invalid_user_name" },
    { "room_code=lobby&user_name=ann&user%5Fname=ann", "invalid_user_name" },
    { "room_code=a&room_code=b&user_name=ann", "invalid_room_code" },
    { "room_code=lobby&user_name=ann&since=1&since=2", "bad_request" },
    { "room_code=lobby&user_name=ann&session_id=x&session_id=x", "bad_request" },
    /* A key without "=" has the empty value. */
    { "room_code&user_name=ann", "invalid_room_code" },
    { "room_code=lobby&user_name", "invalid_user_name" },
    { "room_code=lobby&user_name=ann&since", "bad_request" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/joinRoom?%s", cases[i].query);

      assert_upgrade_refused (ts->port, path, 400, cases[i].code);
    }

  /* A malformed escape makes the request line itself unparsable: libsoup
   * answers 400 on its own, before any handler runs (so without our JSON
   * body), and closes. */
  {
    const char *malformed[] = {
      "/joinRoom?room_code=lobby&user_name=ann%zz",
      "/joinRoom?room_code=lob%2&user_name=ann",
      "/joinRoom?room_code=lobby&user_name=ann&since=%",
    };

    for (gsize i = 0; i < G_N_ELEMENTS (malformed); i++)
      {
        g_autoptr(GcTestHttpResponse) response = upgrade (ts->port, malformed[i], NULL, NULL);

        g_test_message ("%s -> %u", malformed[i], response->status);
        g_assert_cmpuint (response->status, ==, 400);
      }
  }

  /* The same refusals through a real client: status and body reach it. */
  {
    g_autoptr(GcTestClient) client = gc_test_client_start_join (ts->port, "bad room", "ann", NULL);

    gc_test_client_assert_refused (client, 400, "invalid_room_code");
  }

  /* Edges that are valid: 64-character codes, 32-character names, since=0. */
  assert_upgrade_accepted (ts->port,
                           "/joinRoom?room_code=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                           "&user_name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  assert_upgrade_accepted (ts->port, "/joinRoom?room_code=A-z_09&user_name=ann&since=0");
  /* Keys are form-decoded too; empty pairs and unknown keys, even ones
   * that do not decode, are ignored. */
  assert_upgrade_accepted (ts->port, "/joinRoom?room%5Fcode=keys&user%5fname=ann");
  assert_upgrade_accepted (ts->port, "/joinRoom?&&x=%00&room_code=keys&y%00=1&user_name=bob&");
  /* + is a space, so this name is trimmed to "cy"; %2B is a plus. */
  assert_upgrade_accepted (ts->port, "/joinRoom?room_code=keys&user_name=+cy+");
  assert_upgrade_accepted (ts->port, "/joinRoom?room_code=keys&user_name=a%2Bb");
  {
    GcRoom *room = gc_server_lookup_room (ts->server, "keys");

    g_assert_nonnull (room);
    g_assert_cmpuint (gc_room_get_n_members (room), ==, 4);
  }
  /* Nothing but these joins made it in: none of the refused names. */
  {
    GcRoom *lobby = gc_server_lookup_room (ts->server, "lobby");

    g_assert_true (lobby == NULL || gc_room_get_n_members (lobby) == 0);
  }
}

static void
test_refusal_name_taken (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) alice = gc_test_client_join (ts->port, "lobby", "alice");
  g_autoptr(GcTestClient) alice2 = gc_test_client_join (ts->port, "lobby", "alice2");
  g_autoptr(GcTestClient) taken = gc_test_client_start_join (ts->port, "lobby", "ALICE", NULL);
  g_autoptr(GcTestClient) suggested = NULL;
  g_autoptr(GcTestClient) long_name = NULL;
  g_autoptr(GcTestClient) long_taken = NULL;
  g_autoptr(GcTestClient) long_suggested = NULL;
  g_autofree char *suggestion = NULL;
  g_autofree char *long_suggestion = NULL;
  const char *name32 = "abcdefghijklmnopqrstuvwxyzABCDEF";
  JsonObject *refusal;

  refusal = gc_test_client_assert_refused (taken, 409, "name_taken");
  suggestion = g_strdup (json_object_get_string_member_with_default (refusal, "suggestion", NULL));
  g_assert_nonnull (suggestion);
  g_test_message ("suggestion for ALICE with alice, alice2 present: %s", suggestion);
  /* Free: neither alice nor alice2, in any case. */
  g_assert_cmpint (g_ascii_strcasecmp (suggestion, "alice"), !=, 0);
  g_assert_cmpint (g_ascii_strcasecmp (suggestion, "alice2"), !=, 0);
  /* §7: the requested name with a number appended. */
  g_assert_true (g_str_has_prefix (suggestion, "ALICE"));

  /* And really free: joining with it works. */
  suggested = gc_test_client_join (ts->port, "lobby", suggestion);
  g_assert_cmpstr (gc_test_client_get_you (suggested)->name, ==, suggestion);

  /* A 32-character name: the suggestion stays within 32 characters. */
  long_name = gc_test_client_join (ts->port, "lobby", name32);
  long_taken = gc_test_client_start_join (ts->port, "lobby", name32, NULL);
  refusal = gc_test_client_assert_refused (long_taken, 409, "name_taken");
  long_suggestion = g_strdup (json_object_get_string_member_with_default (refusal, "suggestion",
                                                                           NULL));
  g_assert_nonnull (long_suggestion);
  g_assert_cmpuint (g_utf8_strlen (long_suggestion, -1), <=, 32);
  g_assert_cmpstr (long_suggestion, !=, name32);
  long_suggested = gc_test_client_join (ts->port, "lobby", long_suggestion);

  /* The same name in another room is no clash. */
  {
    g_autoptr(GcTestClient) elsewhere = gc_test_client_join (ts->port, "other", "alice");

    g_assert_cmpstr (gc_test_client_get_you (elsewhere)->name, ==, "alice");
  }
}

static void
test_refusal_name_casefold (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) strasse = gc_test_client_join (ts->port, "lobby", "Straße");
  g_autoptr(GcTestClient) kelvin = gc_test_client_join (ts->port, "lobby", "\u212Aay");
  const char *clashes[] = {
    "STRASSE", "strasse", "StraSSe", " straße ",
    "kay", "KAY", "\uFF4Bay",  /* fullwidth k */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (clashes); i++)
    {
      g_autoptr(GcTestClient) clash = gc_test_client_start_join (ts->port, "lobby", clashes[i],
                                                                 NULL);
      JsonObject *refusal = gc_test_client_assert_refused (clash, 409, "name_taken");

      g_assert_true (json_object_has_member (refusal, "suggestion"));
    }

  /* A name that only looks alike is a different name. */
  {
    g_autoptr(GcTestClient) strase = gc_test_client_join (ts->port, "lobby", "Strase");

    g_assert_cmpstr (gc_test_client_get_you (strase)->name, ==, "Strase");
  }
}

static void
test_refusal_room_full (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) elsewhere = NULL;
  g_autoptr(GcTestClient) c2 = NULL;
  GcServerConfig config;

  test_config_init (&config);
  config.room_max_members = 2;
  ts = test_server_new (&config);

  a = gc_test_client_join (ts->port, "small", "a");
  b = gc_test_client_join (ts->port, "small", "b");
  c = gc_test_client_start_join (ts->port, "SMALL", "c", NULL);
  gc_test_client_assert_refused (c, 403, "room_full");

  /* Other rooms are not affected. */
  elsewhere = gc_test_client_join (ts->port, "big", "c");

  /* A member leaving frees the place. */
  gc_test_client_close (b, 1000);
  gc_test_client_wait_closed (b);
  gc_test_wait (gc_room_get_n_members (gc_server_lookup_room (ts->server, "small")) == 1);
  c2 = gc_test_client_join (ts->port, "small", "c");
}

static void
test_refusal_origin (void)
{
  static const char * const allowed[] = { "https://chat.example", NULL };
  g_autoptr(TestServer) open_server = test_server_new (NULL);
  g_autoptr(TestServer) ts = NULL;
  GcServerConfig config;

  test_config_init (&config);
  config.allowed_origins = allowed;
  ts = test_server_new (&config);

  {
    GcTestJoinOptions evil = { .origin = "https://evil.example" };
    GcTestJoinOptions good = { .origin = "https://chat.example" };
    g_autoptr(GcTestClient) refused = gc_test_client_start_join (ts->port, "lobby", "eve", &evil);
    g_autoptr(GcTestClient) browser = gc_test_client_start_join (ts->port, "lobby", "ann", &good);
    g_autoptr(GcTestClient) native = gc_test_client_start_join (ts->port, "lobby", "bob", NULL);
    g_autoptr(GcTestClient) anywhere = gc_test_client_start_join (open_server->port, "lobby",
                                                                  "eve", &evil);
    g_autoptr(GcTestHttpResponse) response = NULL;

    gc_test_client_assert_refused (refused, 403, "origin_not_allowed");
    gc_test_client_wait_welcome (browser);
    /* No Origin: a native client, always accepted. */
    gc_test_client_wait_welcome (native);
    /* Without --allowed-origin any Origin is fine. */
    gc_test_client_wait_welcome (anywhere);

    response = upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=mallory", NULL,
                        "Origin: https://evil.example\r\n");
    gc_test_http_assert_refusal (response, 403, "origin_not_allowed");
  }
}

static void
test_refusal_rate_limited (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) d = NULL;
  g_autoptr(GcTestHttpResponse) response = NULL;
  GcServerConfig config;
  const char *retry_after;
  gint64 retry_after_ms;
  JsonObject *refusal;

  test_config_init (&config);
  config.join_burst = 2;
  config.join_per_second = 1;
  ts = test_server_new (&config);

  a = gc_test_client_join (ts->port, "lobby", "a");
  b = gc_test_client_join (ts->port, "lobby", "b");

  response = upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=c", NULL, NULL);
  gc_test_http_assert_refusal (response, 429, "rate_limited");
  retry_after = soup_message_headers_get_one (response->headers, "Retry-After");
  g_assert_nonnull (retry_after);
  g_assert_true (g_ascii_isdigit (retry_after[0]));
  g_assert_cmpint (g_ascii_strtoll (retry_after, NULL, 10), >=, 1);
  g_assert_true (json_object_has_member (response->json, "retry_after_ms"));
  retry_after_ms = json_object_get_int_member (response->json, "retry_after_ms");
  g_assert_cmpint (retry_after_ms, >, 0);
  g_assert_cmpint (retry_after_ms, <=, 1000);  /* 1 token/s */

  c = gc_test_client_start_join (ts->port, "lobby", "c", NULL);
  refusal = gc_test_client_assert_refused (c, 429, "rate_limited");
  retry_after_ms = json_object_get_int_member (refusal, "retry_after_ms");
  g_assert_cmpint (retry_after_ms, >, 0);

  /* The bucket refills: after retry_after_ms a join goes through. */
  gc_test_run_for_ms (retry_after_ms + 50);
  d = gc_test_client_join (ts->port, "lobby", "d");
}

static void
test_refusal_server_full (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) c2 = NULL;
  g_autoptr(GcTestHttpResponse) healthz = NULL;
  GcServerConfig config;

  test_config_init (&config);
  config.max_connections = 2;
  ts = test_server_new (&config);

  a = gc_test_client_join (ts->port, "one", "a");
  b = gc_test_client_join (ts->port, "two", "b");
  c = gc_test_client_start_join (ts->port, "three", "c", NULL);
  gc_test_client_assert_refused (c, 503, "server_full");

  /* Plain HTTP endpoints still answer. */
  healthz = gc_test_http_get ("127.0.0.1", ts->port, NULL, "/healthz");
  g_assert_cmpuint (healthz->status, ==, 200);

  gc_test_client_close (a, 1000);
  gc_test_client_wait_closed (a);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);
  c2 = gc_test_client_join (ts->port, "three", "c");
}

/* §7: when several refusals apply, the first of 404 → 426 → 400 handshake
 * → 403 origin → 429 → 503 → 400 parameters → 403 room full → 409 wins. */
static void
test_refusal_order (void)
{
  static const char * const allowed[] = { "https://chat.example", NULL };
  const char *evil = "Origin: https://evil.example\r\n";

  /* 404 over 426 and over everything about the query. */
  {
    g_autoptr(TestServer) ts = test_server_new (NULL);
    g_autoptr(GcTestHttpResponse) r1 = gc_test_http_get ("127.0.0.1", ts->port, NULL,
                                                         "/nowhere?room_code=bad!");
    g_autoptr(GcTestHttpResponse) r2 = NULL;
    g_autoptr(GcTestHttpResponse) r3 = NULL;

    gc_test_http_assert_refusal (r1, 404, "not_found");

    /* 426 over bad parameters. */
    r2 = gc_test_http_get ("127.0.0.1", ts->port, NULL, "/joinRoom?room_code=bad%21");
    gc_test_http_assert_refusal (r2, 426, "upgrade_required");

    /* 400 bad handshake over bad parameters: bad_request, not the field's code. */
    r3 = upgrade (ts->port, "/joinRoom?room_code=bad%21&user_name=", "8", NULL);
    g_assert_true (r3->status == 400 || r3->status == 426);
    gc_test_http_assert_refusal (r3, r3->status, r3->status == 400 ? "bad_request"
                                                                   : "upgrade_required");
  }

  /* 400 bad handshake over 403 origin; 403 origin over 400 parameters. */
  {
    g_autoptr(TestServer) ts = NULL;
    g_autoptr(GcTestHttpResponse) r1 = NULL;
    g_autoptr(GcTestHttpResponse) r2 = NULL;
    GcServerConfig config;

    test_config_init (&config);
    config.allowed_origins = allowed;
    ts = test_server_new (&config);

    r1 = upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=ann", "8", evil);
    g_assert_true (r1->status == 400 || r1->status == 426);
    r2 = upgrade (ts->port, "/joinRoom?room_code=bad%21&user_name=ann", NULL, evil);
    gc_test_http_assert_refusal (r2, 403, "origin_not_allowed");
  }

  /* 403 origin over 429; 429 over 503 and over bad parameters. */
  {
    g_autoptr(TestServer) ts = NULL;
    g_autoptr(GcTestClient) a = NULL;
    g_autoptr(GcTestHttpResponse) r1 = NULL;
    g_autoptr(GcTestHttpResponse) r2 = NULL;
    g_autoptr(GcTestHttpResponse) r3 = NULL;
    GcServerConfig config;

    test_config_init (&config);
    config.allowed_origins = allowed;
    config.join_burst = 1;
    config.join_per_second = 0.1;
    config.max_connections = 1;
    ts = test_server_new (&config);

    a = gc_test_client_join (ts->port, "lobby", "a");
    r1 = upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=b", NULL, evil);
    gc_test_http_assert_refusal (r1, 403, "origin_not_allowed");
    /* The server is full too (one connection): 429 comes first. */
    r2 = upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=b", NULL, NULL);
    gc_test_http_assert_refusal (r2, 429, "rate_limited");
    r3 = upgrade (ts->port, "/joinRoom?room_code=bad%21&user_name=b", NULL, NULL);
    gc_test_http_assert_refusal (r3, 429, "rate_limited");
  }

  /* 503 over bad parameters, over room full and over 409. */
  {
    g_autoptr(TestServer) ts = NULL;
    g_autoptr(GcTestClient) a = NULL;
    GcServerConfig config;

    test_config_init (&config);
    config.max_connections = 1;
    config.room_max_members = 1;
    ts = test_server_new (&config);

    a = gc_test_client_join (ts->port, "lobby", "a");
    assert_upgrade_refused (ts->port, "/joinRoom?room_code=bad%21&user_name=b", 503, "server_full");
    assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=b", 503, "server_full");
    assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=a", 503, "server_full");
  }

  /* 400 parameters over room full; room full over 409. */
  {
    g_autoptr(TestServer) ts = NULL;
    g_autoptr(GcTestClient) a = NULL;
    GcServerConfig config;

    test_config_init (&config);
    config.room_max_members = 1;
    ts = test_server_new (&config);

    a = gc_test_client_join (ts->port, "lobby", "a");
    assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=", 400,
                            "invalid_user_name");
    assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=b&since=x", 400,
                            "bad_request");
    assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=A", 403, "room_full");
  }
}

/* ------------------------------------------------------------------ */
/* Joining                                                              */
/* ------------------------------------------------------------------ */

static void
test_join_room_case (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "Room-1", "a");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "ROOM-1", "b");
  g_autoptr(GcUser) joined = NULL;
  GcWelcome *welcome_a = a->welcome->event->welcome;
  GcWelcome *welcome_b = b->welcome->event->welcome;

  g_assert_cmpstr (welcome_a->room, ==, "room-1");
  g_assert_cmpstr (welcome_b->room, ==, "room-1");
  g_assert_cmpuint (welcome_b->members->len, ==, 2);
  g_assert_true (members_contain (welcome_b->members, welcome_a->you));

  joined = wait_join_user (a);
  assert_same_user (joined, welcome_b->you);

  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 1);
  g_assert_nonnull (gc_server_lookup_room (ts->server, "rOoM-1"));
  g_assert_cmpstr (gc_room_get_code (gc_server_lookup_room (ts->server, "ROOM-1")), ==, "room-1");
}

static void
test_join_name_forms (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
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
test_join_welcome (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) bare = NULL;
  g_autoptr(JsonObject) object = NULL;
  GcServerConfig config;
  GcWelcome *welcome;
  JsonObject *server;
  JsonObject *you;

  test_config_init (&config);
  config.resume_seconds = 17;
  config.max_text_bytes = 1000;
  config.max_message_bytes = 20000;
  config.rate_burst = 7;
  config.rate_per_second = 3;
  ts = test_server_new (&config);

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
  g_assert_true (members_contain (welcome->members, welcome->you));
  g_assert_true (members_contain (welcome->members, gc_test_client_get_you (a)));
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
/* Chat (§3, §4)                                                        */
/* ------------------------------------------------------------------ */

static void
test_chat_delivery (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
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

        assert_message (event, gc_test_client_get_you (a), texts[i], client_ids[i]);
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

    assert_message (from_bob, gc_test_client_get_you (b), "from bob", NULL);
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
test_chat_forged_fields (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
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
  assert_message (message, ann, "forged", NULL);
  g_assert_cmpstr (message->event->message->from->id, ==, ann->id);

  gc_test_client_send_text (a, "{\"type\":\"typing\",\"active\":true,"
                               "\"user\":{\"id\":\"x\",\"name\":\"bob\"}}");
  typing = gc_test_client_wait_event (b, GC_EVENT_TYPING);
  assert_same_user (typing->event->typing.user, ann);

  gc_test_client_send_text (a, "{\"type\":\"rename\",\"name\":\"anna\","
                               "\"user\":{\"id\":\"x\",\"name\":\"bob\"},\"old_name\":\"zed\"}");
  rename = gc_test_client_wait_event (b, GC_EVENT_RENAME);
  g_assert_cmpstr (rename->event->rename.user->id, ==, ann->id);
  g_assert_cmpstr (rename->event->rename.user->name, ==, "anna");
  g_assert_cmpstr (rename->event->rename.old_name, ==, "ann");
}

static void
test_chat_join_leave (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcUser) joined = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autoptr(GcTestEvent) leave_c = NULL;
  GcWelcome *welcome_c;

  /* join goes to those already in, not to the newcomer. */
  joined = wait_join_user (a);
  assert_same_user (joined, gc_test_client_get_you (b));
  gc_test_client_sync (b);
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_JOIN), ==, 0);

  c = gc_test_client_join (ts->port, "lobby", "cy");
  welcome_c = c->welcome->event->welcome;
  g_assert_cmpuint (welcome_c->members->len, ==, 3);
  {
    g_autoptr(GcUser) j1 = wait_join_user (a);
    g_autoptr(GcUser) j2 = wait_join_user (b);

    assert_same_user (j1, welcome_c->you);
    assert_same_user (j2, welcome_c->you);
  }

  /* A clean close: leave with reason left, at once, and the close is
   * answered with the same code. */
  gc_test_client_close (b, 1000);
  g_assert_cmpuint (gc_test_client_wait_closed (b), ==, 1000);
  leave = wait_leave (a, gc_test_client_get_you (b), "left");
  leave_c = wait_leave (c, gc_test_client_get_you (b), "left");

  /* The name is free again, and a newcomer sees two members. */
  b2 = gc_test_client_join (ts->port, "lobby", "BOB");
  g_assert_cmpuint (b2->welcome->event->welcome->members->len, ==, 3);
  g_assert_false (members_contain (b2->welcome->event->welcome->members,
                                   gc_test_client_get_you (b)));
}

static void
test_chat_rename (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) new_bob = NULL;
  g_autoptr(GcTestClient) clash = NULL;
  GcServerConfig config;
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
  test_config_init (&config);
  config.rate_burst = 100;
  ts = test_server_new (&config);
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
              assert_recent_ts (event->event->rename.ts);
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
test_chat_typing (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
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

      assert_same_user (on->event->typing.user, gc_test_client_get_you (a));
      g_assert_true (on->event->typing.active);
      assert_same_user (off->event->typing.user, gc_test_client_get_you (a));
      g_assert_false (off->event->typing.active);
    }

  /* Not to the typist. */
  gc_test_client_sync (a);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_TYPING), ==, 0);
}

static void
test_chat_errors (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autofree char *long_id = g_strnfill (65, 'i');
  g_autofree char *max_id = g_strnfill (64, 'i');
  g_autofree char *bad_long_id = NULL;
  g_autofree char *too_long = NULL;
  g_autofree char *at_limit = NULL;
  g_autofree char *max_id_request = NULL;
  GcServerConfig config;
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

  test_config_init (&config);
  config.max_text_bytes = 100;
  config.rate_burst = 1000;
  config.rate_per_second = 1000;
  ts = test_server_new (&config);
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
test_chat_binary (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestEvent) leave = NULL;
  const guint8 data[] = "{\"type\":\"message\",\"text\":\"binary\"}";

  gc_test_client_send_binary (a, data, sizeof data - 1);
  g_assert_cmpuint (gc_test_client_wait_closed (a), ==, 1003);
  leave = wait_leave (b, gc_test_client_get_you (a), "error");
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_MESSAGE), ==, 0);
}

static void
test_chat_oversized (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autoptr(GcTestEvent) fits = NULL;
  g_autofree char *big_text = g_strnfill (1100, 'x');
  g_autofree char *big = gc_request_build_message (big_text, GC_MESSAGE_KIND_TEXT, NULL);
  g_autofree char *exact = NULL;
  g_autofree char *exact_text = NULL;
  GcServerConfig config;
  gsize overhead;

  test_config_init (&config);
  config.max_message_bytes = 1024;
  ts = test_server_new (&config);
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
  leave = wait_leave (b, gc_test_client_get_you (a), "error");
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_MESSAGE), ==, 0);
}

static void
test_chat_invalid_utf8 (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestRawClient) raw = NULL;
  g_autoptr(GcUser) raw_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  const guint8 bad[] = "{\"type\":\"message\",\"text\":\"\xff\"}";

  raw = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=raw", TRUE, 0);
  raw_user = wait_join_user (a);
  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_TEXT, TRUE, bad, sizeof bad - 1);
  gc_test_wait (raw->close_code != 0);
  g_assert_cmpuint (raw->close_code, ==, 1007);
  leave = wait_leave (a, raw_user, "error");
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_MESSAGE), ==, 0);
}

/* ------------------------------------------------------------------ */
/* WebSocket details (§1, §6, §7)                                       */
/* ------------------------------------------------------------------ */

static void
test_ws_handshake_headers (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestHttpResponse) offered = NULL;
  g_autoptr(GcTestHttpResponse) none = NULL;
  const char *path = "/joinRoom?room_code=lobby&user_name=ann";

  /* permessage-deflate offered: not negotiated; gochat.v1 selected. */
  offered = upgrade (ts->port, path, NULL,
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
test_ws_close_handshake (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestRawClient) raw = NULL;
  g_autoptr(GcUser) raw_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  const guint8 close_payload[] = { 0x03, 0xe8, 'b', 'y', 'e' };

  raw = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=raw", TRUE, 0);
  raw_user = wait_join_user (a);

  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_CLOSE, TRUE, close_payload,
                                 sizeof close_payload);
  /* The server answers the close and then closes TCP first. */
  gc_test_wait (raw->eof);
  g_assert_cmpuint (raw->close_code, ==, 1000);
  leave = wait_leave (a, raw_user, "left");
}

static void
test_ws_fragmented (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestRawClient) raw = NULL;
  g_autoptr(GcUser) raw_user = NULL;
  g_autoptr(GcTestEvent) event = NULL;
  const char *part1 = "{\"type\":\"message\",";
  const char *part2 = "\"text\":\"in ";
  const char *part3 = "pieces\",\"client_id\":\"f\"}";

  raw = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=raw", TRUE, 0);
  raw_user = wait_join_user (a);

  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_TEXT, FALSE, (const guint8 *) part1,
                                 strlen (part1));
  /* A control frame may come between fragments. */
  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_PING, TRUE, (const guint8 *) "p", 1);
  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_CONTINUATION, FALSE, (const guint8 *) part2,
                                 strlen (part2));
  gc_test_raw_client_send_frame (raw, GC_WS_OPCODE_CONTINUATION, TRUE, (const guint8 *) part3,
                                 strlen (part3));

  event = gc_test_client_wait_message (a, "in pieces");
  assert_message (event, raw_user, "in pieces", "f");
  gc_test_client_sync (a);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_MESSAGE), ==, 0);
}

static void
test_ws_protocol_error (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestRawClient) raw = NULL;
  g_autoptr(GcUser) raw_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  /* An unmasked text frame: clients must mask (RFC 6455 §5.1). */
  const guint8 unmasked[] = { 0x81, 0x02, 'h', 'i' };

  raw = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=raw", TRUE, 0);
  raw_user = wait_join_user (a);
  gc_test_raw_client_send_bytes (raw, unmasked, sizeof unmasked);
  gc_test_wait (raw->close_code != 0);
  g_assert_cmpuint (raw->close_code, ==, 1002);
  leave = wait_leave (a, raw_user, "error");
}

/* ------------------------------------------------------------------ */
/* Rate limit (§5, §7)                                                  */
/* ------------------------------------------------------------------ */

static void
test_rate_limit (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestEvent) error = NULL;
  g_autoptr(GcTestEvent) error2 = NULL;
  g_autofree char *typing = gc_request_build_typing (TRUE);
  GcServerConfig config;
  guint64 retry_after_ms;

  test_config_init (&config);
  config.rate_burst = 3;
  config.rate_per_second = 4;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");

  for (guint i = 1; i <= 4; i++)
    {
      g_autofree char *text = g_strdup_printf ("m%u", i);
      g_autofree char *id = g_strdup_printf ("c%u", i);

      gc_test_client_send_message (a, text, id);
    }

  error = gc_test_client_wait_error (a, "rate_limited");
  g_assert_cmpstr (error->event->error.ref, ==, "c4");
  retry_after_ms = error->event->error.retry_after_ms;
  g_assert_cmpuint (retry_after_ms, >, 0);
  g_assert_cmpuint (retry_after_ms, <=, 250);  /* 4 tokens per second */
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("m%u", i);
      g_autoptr(GcTestEvent) event = gc_test_client_wait_message (b, text);
    }

  /* The bucket refills at rate_per_s: after retry_after_ms a request is
   * accepted again. */
  gc_test_run_for_ms (retry_after_ms + 20);
  gc_test_client_send_message (a, "after", NULL);
  {
    g_autoptr(GcTestEvent) after = gc_test_client_wait_message (b, "after");

    /* The refused m4 was never broadcast. */
    g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_MESSAGE), ==, 0);
  }

  /* Typing takes tokens too: with the bucket empty a message is refused. */
  gc_test_run_for_ms (1000);  /* refill to the full burst of 3 */
  gc_test_client_clear_queue (a);
  gc_test_client_send_text (a, typing);
  gc_test_client_send_text (a, typing);
  gc_test_client_send_text (a, typing);
  gc_test_client_send_message (a, "m5", "c5");
  error2 = gc_test_client_wait_error (a, "rate_limited");
  g_assert_cmpstr (error2->event->error.ref, ==, "c5");
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_MESSAGE), ==, 0);
  g_assert_false (a->closed);

  /* So do renames, and invalid requests (a token goes before validation). */
  gc_test_run_for_ms (1000);
  gc_test_client_clear_queue (a);
  gc_test_client_send_text (a, "{\"type\":\"rename\",\"name\":\"anna\"}");
  gc_test_client_send_text (a, "{\"type\":\"rename\",\"name\":\"ann\"}");
  gc_test_client_send_message (a, "", "empty");
  gc_test_client_send_message (a, "m6", "c6");
  {
    g_autoptr(GcTestEvent) empty = gc_test_client_wait_error (a, "empty_message");
    g_autoptr(GcTestEvent) limited = gc_test_client_wait_error (a, "rate_limited");

    g_assert_cmpstr (empty->event->error.ref, ==, "empty");
    g_assert_cmpstr (limited->event->error.ref, ==, "c6");
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_RENAME), ==, 2);
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_MESSAGE), ==, 0);
  }
}

static void
test_rate_flood (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  GcServerConfig config;
  guint n_errors;
  guint n_delivered = 0;

  test_config_init (&config);
  config.rate_burst = 3;
  config.rate_per_second = 1;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");

  for (guint i = 0; i < 30; i++)
    gc_test_client_send_message (a, "flood", NULL);

  g_assert_cmpuint (gc_test_client_wait_closed (a), ==, 1008);
  leave = wait_leave (b, gc_test_client_get_you (a), "flood");

  /* §7: refusals count as violations, and the one that exceeds
   * rate_burst closes: rate_burst refusals came first. Only the burst
   * was broadcast. */
  n_errors = gc_test_client_count_queued (a, GC_EVENT_ERROR);
  g_assert_cmpuint (n_errors, ==, config.rate_burst);
  while (gc_test_client_count_queued (b, GC_EVENT_MESSAGE) > 0)
    {
      g_autoptr(GcTestEvent) event = gc_test_client_wait_event (b, GC_EVENT_MESSAGE);

      n_delivered++;
    }
  g_assert_cmpuint (n_delivered, ==, 3);
}

/* §7: violations decay at rate_per_s, so a client that is refused now
 * and then is not taken for a flooder. */
static void
test_rate_violations_decay (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  GcServerConfig config;
  guint n_refused;

  test_config_init (&config);
  config.rate_burst = 3;
  config.rate_per_second = 2;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");

  /* The burst goes through, then as many refusals as allowed. */
  for (guint i = 0; i < 6; i++)
    gc_test_client_send_message (a, "burst", NULL);
  gc_test_wait (gc_test_client_count_queued (a, GC_EVENT_MESSAGE) +
                gc_test_client_count_queued (a, GC_EVENT_ERROR) == 6);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_ERROR), ==, 3);
  gc_test_client_clear_queue (a);

  /* Without decay the next refusal would close. After a second, two of
   * the three violations are forgiven (and two tokens are back). */
  gc_test_run_for_ms (1100);
  for (guint i = 0; i < 4; i++)
    gc_test_client_send_message (a, "later", NULL);
  gc_test_wait (gc_test_client_count_queued (a, GC_EVENT_MESSAGE) +
                gc_test_client_count_queued (a, GC_EVENT_ERROR) == 4 || a->closed);
  n_refused = gc_test_client_count_queued (a, GC_EVENT_ERROR);
  g_test_message ("after a second: %u of 4 refused", n_refused);
  g_assert_false (a->closed);
  g_assert_cmpuint (n_refused, >=, 1);
  while (gc_test_client_count_queued (a, GC_EVENT_ERROR) > 0)
    {
      g_autoptr(GcTestEvent) error = gc_test_client_wait_error (a, "rate_limited");
    }
}

/* ------------------------------------------------------------------ */
/* History (§5)                                                         */
/* ------------------------------------------------------------------ */

/* Sends @n messages "@prefix-i" from @client and returns their events as
 * the sender got them. */
static GPtrArray *
send_messages (GcTestClient *client,
               const char   *prefix,
               guint         n)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_event_free);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%s-%u", prefix, i);

      gc_test_client_send_message (client, text, NULL);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%s-%u", prefix, i);

      g_ptr_array_add (events, gc_test_client_wait_message (client, text));
    }
  return events;
}

/* The welcome's history is exactly @sent[@first..], oldest first, and
 * each entry is the very bytes that were broadcast. */
static void
assert_history (GcTestClient *client,
                GPtrArray    *sent,
                guint         first)
{
  GcWelcome *welcome = client->welcome->event->welcome;
  const char *cursor = client->welcome->json;

  g_assert_cmpuint (welcome->history->len, ==, sent->len - first);
  for (guint i = first; i < sent->len; i++)
    {
      const GcTestEvent *broadcast = g_ptr_array_index (sent, i);
      const GcMessage *entry = g_ptr_array_index (welcome->history, i - first);
      const char *found;

      g_assert_cmpuint (entry->id, ==, broadcast->event->message->id);
      g_assert_cmpstr (entry->text, ==, broadcast->event->message->text);
      found = strstr (cursor, broadcast->json);
      if (found == NULL)
        g_error ("history entry %u is not byte-identical to the broadcast %s in %s",
                 i - first, broadcast->json, client->welcome->json);
      cursor = found + strlen (broadcast->json);
    }
}

static void
test_history (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) all = NULL;
  g_autoptr(GcTestClient) since_some = NULL;
  g_autoptr(GcTestClient) since_last = NULL;
  g_autoptr(GcTestClient) since_zero = NULL;
  g_autoptr(GcTestClient) since_future = NULL;
  g_autoptr(GPtrArray) sent = NULL;
  g_autofree char *since = NULL;
  g_autofree char *since_end = NULL;
  g_autofree char *typing = gc_request_build_typing (TRUE);
  g_autoptr(GcTestEvent) renamed = NULL;
  GcServerConfig config;

  test_config_init (&config);
  config.history = 3;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  sent = send_messages (a, "h", 5);
  /* Other events are not history. */
  gc_test_client_send_text (a, typing);
  gc_test_client_send_text (a, "{\"type\":\"rename\",\"name\":\"anna\"}");
  renamed = gc_test_client_wait_event (a, GC_EVENT_RENAME);

  /* The last 3 messages, oldest first. */
  all = gc_test_client_join (ts->port, "lobby", "all");
  assert_history (all, sent, 2);
  g_assert_cmpuint (gc_room_get_n_history (gc_server_lookup_room (ts->server, "lobby")), ==, 3);

  /* since = an id: only the later ones. */
  since = g_strdup_printf ("%" G_GUINT64_FORMAT,
                           ((GcTestEvent *) g_ptr_array_index (sent, 3))->event->message->id);
  {
    GcTestJoinOptions options = { .since = since };

    since_some = gc_test_client_start_join (ts->port, "lobby", "some", &options);
    gc_test_client_wait_welcome (since_some);
    assert_history (since_some, sent, 4);
  }
  since_end = g_strdup_printf ("%" G_GUINT64_FORMAT,
                               ((GcTestEvent *) g_ptr_array_index (sent, 4))->event->message->id);
  {
    GcTestJoinOptions last = { .since = since_end };
    GcTestJoinOptions zero = { .since = "0" };
    GcTestJoinOptions future = { .since = "18446744073709551615" };

    since_last = gc_test_client_start_join (ts->port, "lobby", "last", &last);
    g_assert_cmpuint (gc_test_client_wait_welcome (since_last)->history->len, ==, 0);
    since_zero = gc_test_client_start_join (ts->port, "lobby", "zero", &zero);
    gc_test_client_wait_welcome (since_zero);
    assert_history (since_zero, sent, 2);
    since_future = gc_test_client_start_join (ts->port, "lobby", "future", &future);
    g_assert_cmpuint (gc_test_client_wait_welcome (since_future)->history->len, ==, 0);
  }
}

static void
test_history_off (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GPtrArray) sent = NULL;
  GcServerConfig config;

  test_config_init (&config);
  config.history = 0;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  sent = send_messages (a, "h", 3);
  b = gc_test_client_join (ts->port, "lobby", "bob");
  g_assert_cmpuint (b->welcome->event->welcome->history->len, ==, 0);
  g_assert_cmpuint (gc_room_get_n_history (gc_server_lookup_room (ts->server, "lobby")), ==, 0);
}

static void
test_history_dropped_with_room (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestClient) again = NULL;
  g_autoptr(GPtrArray) sent = send_messages (a, "h", 3);
  GcRoom *room = gc_server_lookup_room (ts->server, "lobby");

  g_assert_nonnull (room);
  g_object_add_weak_pointer (G_OBJECT (room), (gpointer *) &room);
  gc_test_client_close (a, 1000);
  gc_test_client_close (b, 1000);
  gc_test_wait (room == NULL);

  again = gc_test_client_join (ts->port, "lobby", "ann");
  g_assert_cmpuint (again->welcome->event->welcome->history->len, ==, 0);
  g_assert_cmpuint (again->welcome->event->welcome->members->len, ==, 1);
}

/* ------------------------------------------------------------------ */
/* Resume (§5, §7)                                                      */
/* ------------------------------------------------------------------ */

static void
test_resume_within_window (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcTestClient) b3 = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) missed = NULL;
  g_autofree char *token = NULL;
  g_autoptr(GcUser) bob = NULL;
  g_autoptr(GcUser) joined = NULL;
  GcServerConfig config;
  GcWelcome *welcome;
  guint64 last_seen;

  test_config_init (&config);
  config.resume_seconds = 3;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");
  token = g_strdup (b->welcome->event->welcome->session_id);
  bob = gc_user_copy (gc_test_client_get_you (b));
  joined = wait_join_user (a);
  assert_same_user (joined, bob);

  before = send_messages (a, "before", 2);
  {
    g_autoptr(GcTestEvent) seen = gc_test_client_wait_message (b, "before-1");

    last_seen = seen->event->message->id;
  }

  /* Dropped without a close frame. */
  gc_test_client_abort (b);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);
  missed = send_messages (a, "missed", 2);
  /* Still a member: the room counts it, its name is taken. */
  g_assert_cmpuint (gc_room_get_n_members (gc_server_lookup_room (ts->server, "lobby")), ==, 2);
  {
    g_autoptr(GcTestClient) usurper = gc_test_client_start_join (ts->port, "lobby", "bob", NULL);

    gc_test_client_assert_refused (usurper, 409, "name_taken");
  }

  b2 = gc_test_client_resume (ts->port, "lobby", "bob", token, last_seen);
  welcome = b2->welcome->event->welcome;
  g_assert_true (welcome->resumed);
  assert_same_user (welcome->you, bob);
  g_assert_cmpuint (welcome->members->len, ==, 2);
  g_assert_true (members_contain (welcome->members, gc_test_client_get_you (a)));
  /* Exactly what was missed. */
  assert_history (b2, missed, 0);

  /* No leave, no join: ann sees bob's next message with nothing between. */
  gc_test_client_send_message (b2, "back", NULL);
  {
    g_autoptr(GcTestEvent) back = gc_test_client_wait_message (a, "back");

    assert_message (back, bob, "back", NULL);
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_LEAVE), ==, 0);
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_JOIN), ==, 0);
  }

  /* Resume without since: all retained history, as for a fresh join. A
   * fresh token (if the server rotates it) or the old one both work. */
  gc_test_client_abort (b2);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);
  b3 = gc_test_client_resume (ts->port, "LOBBY", " bob ", welcome->session_id, -1);
  g_assert_true (b3->welcome->event->welcome->resumed);
  assert_same_user (b3->welcome->event->welcome->you, bob);
  g_assert_cmpuint (b3->welcome->event->welcome->history->len, ==, 5);

  gc_test_client_sync (b3);
  gc_test_client_sync (a);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_JOIN), ==, 0);
}

static void
test_resume_timeout (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) c2 = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autoptr(GcUser) cy = NULL;
  g_autofree char *token = NULL;
  GcServerConfig config;
  gint64 dropped_us;

  test_config_init (&config);
  config.resume_seconds = 1;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  c = gc_test_client_join (ts->port, "lobby", "cy");
  cy = gc_user_copy (gc_test_client_get_you (c));
  token = g_strdup (c->welcome->event->welcome->session_id);
  {
    g_autoptr(GcUser) joined = wait_join_user (a);

    assert_same_user (joined, cy);
  }

  gc_test_client_abort (c);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);
  dropped_us = g_get_monotonic_time ();
  leave = wait_leave (a, cy, "timeout");
  /* Not before the window ran out. */
  g_assert_cmpint (leave->received_us - dropped_us, >=, 900 * 1000);

  /* The token died with the member: a fresh join. */
  c2 = gc_test_client_resume (ts->port, "lobby", "cy", token, -1);
  g_assert_false (c2->welcome->event->welcome->resumed);
  g_assert_cmpstr (gc_test_client_get_you (c2)->id, !=, cy->id);
  {
    g_autoptr(GcUser) joined = wait_join_user (a);

    assert_same_user (joined, gc_test_client_get_you (c2));
  }
}

static void
test_resume_wrong_name_or_room (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) other_name = NULL;
  g_autoptr(GcTestClient) other_room = NULL;
  g_autoptr(GcTestClient) wrong_token = NULL;
  g_autoptr(GcTestClient) garbage_token = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autofree char *token = NULL;
  g_autoptr(GcUser) bob = NULL;
  GcServerConfig config;

  test_config_init (&config);
  config.resume_seconds = 5;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");
  token = g_strdup (b->welcome->event->welcome->session_id);
  bob = gc_user_copy (gc_test_client_get_you (b));
  gc_test_client_abort (b);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);

  /* bob's token with another name: a fresh join of that name. */
  other_name = gc_test_client_resume (ts->port, "lobby", "notbob", token, -1);
  g_assert_false (other_name->welcome->event->welcome->resumed);
  g_assert_cmpstr (gc_test_client_get_you (other_name)->id, !=, bob->id);
  g_assert_cmpstr (other_name->welcome->event->welcome->session_id, !=, token);

  /* bob's token in another room: a fresh join there. */
  other_room = gc_test_client_resume (ts->port, "other", "bob", token, -1);
  g_assert_false (other_room->welcome->event->welcome->resumed);
  g_assert_cmpstr (gc_test_client_get_you (other_room)->id, !=, bob->id);

  /* bob's name with ann's token or a made-up one: fresh, so 409. */
  {
    GcTestJoinOptions ann_token = { .session_id = a->welcome->event->welcome->session_id };
    GcTestJoinOptions garbage = { .session_id = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };

    wrong_token = gc_test_client_start_join (ts->port, "lobby", "bob", &ann_token);
    gc_test_client_assert_refused (wrong_token, 409, "name_taken");
    garbage_token = gc_test_client_start_join (ts->port, "lobby", "bob", &garbage);
    gc_test_client_assert_refused (garbage_token, 409, "name_taken");
  }

  /* bob, still waiting, can still resume. */
  b2 = gc_test_client_resume (ts->port, "lobby", "bob", token, -1);
  g_assert_true (b2->welcome->event->welcome->resumed);
  assert_same_user (gc_test_client_get_you (b2), bob);
}

static void
test_resume_half_open (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcUser) joined = wait_join_user (a);
  GcWelcome *welcome;

  /* The old connection still looks open to the server. */
  b2 = gc_test_client_resume (ts->port, "lobby", "bob", b->welcome->event->welcome->session_id,
                              -1);
  welcome = b2->welcome->event->welcome;
  g_assert_true (welcome->resumed);
  assert_same_user (welcome->you, gc_test_client_get_you (b));
  g_assert_cmpuint (welcome->members->len, ==, 2);
  g_assert_cmpuint (gc_test_client_wait_closed (b), ==, 4000);

  gc_test_client_send_message (b2, "replaced", NULL);
  {
    g_autoptr(GcTestEvent) replaced = gc_test_client_wait_message (a, "replaced");

    assert_message (replaced, gc_test_client_get_you (b), "replaced", NULL);
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_LEAVE), ==, 0);
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_JOIN), ==, 0);
  }
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 2);
}

typedef struct {
  GcRoom       *room;
  GcTestClient *old;
  guint         n_left;
} LeaveDuringUpgrade;

/* Runs as the 101 has been written, just before the connection is
 * handed over: the member to resume leaves then (its old connection's
 * close frame is read). */
static gboolean
on_wrote_informational_hook (GSignalInvocationHint *hint,
                             guint                  n_values,
                             const GValue          *values,
                             gpointer               user_data)
{
  LeaveDuringUpgrade *leave = user_data;
  SoupServerMessage *msg = g_value_get_object (&values[0]);

  if (soup_server_message_get_status (msg) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return TRUE;

  gc_test_client_close (leave->old, GC_WS_CLOSE_NORMAL);
  gc_test_wait (gc_room_get_n_members (leave->room) == 1);
  leave->n_left++;

  return FALSE;
}

/* The member to resume leaves while the resume's upgrade is in progress:
 * the new connection is closed with 1011 (1001 means shutdown only). */
static void
test_resume_member_left_during_upgrade (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcUser) joined = wait_join_user (a);
  g_autoptr(GcTestEvent) leave_event = NULL;
  LeaveDuringUpgrade leave = { gc_server_lookup_room (ts->server, "lobby"), b, 0 };
  GcTestJoinOptions options = { .session_id = b->welcome->event->welcome->session_id };
  guint signal_id = g_signal_lookup ("wrote-informational", SOUP_TYPE_SERVER_MESSAGE);

  g_signal_add_emission_hook (signal_id, 0, on_wrote_informational_hook, &leave, NULL);
  b2 = gc_test_client_start_join (ts->port, "lobby", "bob", &options);
  gc_test_client_wait_finished (b2);
  g_assert_cmpuint (gc_test_client_wait_closed (b2), ==, GC_WS_CLOSE_SERVER_ERROR);
  g_assert_cmpuint (leave.n_left, ==, 1);
  g_assert_null (b2->welcome);
  g_assert_nonnull (strstr (b2->close_reason, "join again"));

  leave_event = wait_leave (a, joined, "left");
  g_assert_cmpuint (gc_room_get_n_members (leave.room), ==, 1);
}

static void
test_resume_waiting_member_counts (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcTestHttpResponse) healthz = NULL;
  g_autofree char *token = NULL;
  GcServerConfig config;

  test_config_init (&config);
  config.resume_seconds = 5;
  config.room_max_members = 2;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");
  token = g_strdup (b->welcome->event->welcome->session_id);
  gc_test_client_abort (b);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);

  /* bob still holds a place. */
  c = gc_test_client_start_join (ts->port, "lobby", "cy", NULL);
  gc_test_client_assert_refused (c, 403, "room_full");
  healthz = gc_test_http_get ("127.0.0.1", ts->port, NULL, "/healthz");
  g_assert_nonnull (healthz->json);
  g_assert_cmpint (json_object_get_int_member (healthz->json, "rooms"), ==, 1);
  /* §7: /healthz counts the waiting member as a connection too. */
  g_assert_cmpint (json_object_get_int_member (healthz->json, "connections"), ==, 2);
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 2);

  /* ...and may take it back even though the room is full. */
  b2 = gc_test_client_resume (ts->port, "lobby", "bob", token, -1);
  g_assert_true (b2->welcome->event->welcome->resumed);

  /* A waiting member's name is taken for renames and suggestions too. */
  {
    g_autoptr(TestServer) ts2 = test_server_new (NULL);
    g_autoptr(GcTestClient) ann = gc_test_client_join (ts2->port, "names", "ann");
    g_autoptr(GcTestClient) ann2 = gc_test_client_join (ts2->port, "names", "ann2");
    g_autoptr(GcTestClient) clash = NULL;
    g_autoptr(GcTestEvent) error = NULL;
    const char *suggestion;

    gc_test_client_abort (ann2);
    gc_test_wait (gc_server_get_n_connections (ts2->server) == 1);
    clash = gc_test_client_start_join (ts2->port, "names", "ANN", NULL);
    suggestion = json_object_get_string_member_with_default (
      gc_test_client_assert_refused (clash, 409, "name_taken"), "suggestion", "");
    g_assert_cmpint (g_ascii_strcasecmp (suggestion, "ann2"), !=, 0);
    g_assert_cmpint (g_ascii_strcasecmp (suggestion, "ann"), !=, 0);

    gc_test_client_send_text (ann, "{\"type\":\"rename\",\"name\":\"ANN2\"}");
    error = gc_test_client_wait_error (ann, "name_taken");
  }
}

/* ------------------------------------------------------------------ */
/* Slow readers, keepalive, idle timeout (§5)                           */
/* ------------------------------------------------------------------ */

static void
test_slow_reader (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestRawClient) slow = NULL;
  g_autoptr(GcUser) slow_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autofree char *text = NULL;
  GcServerConfig config;
  guint n_sent = 0;
  guint n_received = 0;
  guint64 last_id = 0;
  gboolean slow_gone = FALSE;

  test_config_init (&config);
  config.max_queued_bytes = 256 * 1024;
  config.max_text_bytes = 16000;
  config.rate_burst = 100000;
  config.rate_per_second = 100000;
  config.history = 0;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");
  {
    g_autoptr(GcUser) bob_joined = wait_join_user (a);
  }
  slow = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=slow",
                                     FALSE, 4096);
  slow_user = wait_join_user (a);
  {
    g_autoptr(GcUser) seen_by_b = wait_join_user (b);
  }
  text = g_strnfill (16000, 'z');

  /* Flood the room in rounds of 64 kB, well below the bound, until the
   * server drops the slow reader; bob must get every message meanwhile.
   * At most 64 MB. */
  while (!slow_gone && n_sent < 4000)
    {
      for (guint i = 0; i < 4; i++, n_sent++)
        gc_test_client_send_message (a, text, NULL);

      while (n_received < n_sent)
        {
          g_autoptr(GcTestEvent) event = gc_test_client_next_event (b);

          if (event->event->type == GC_EVENT_LEAVE)
            {
              g_test_message ("bob got %s", event->json);
              g_assert_cmpstr (event->event->leave.user->id, ==, slow_user->id);
              g_assert_cmpstr (gc_leave_reason_to_string (event->event->leave.reason), ==, "slow");
              slow_gone = TRUE;
              continue;
            }
          g_assert_cmpint (event->event->type, ==, GC_EVENT_MESSAGE);
          g_assert_cmpuint (event->event->message->id, >, last_id);
          last_id = event->event->message->id;
          n_received++;
        }
    }

  g_test_message ("slow reader dropped after %u messages of 16 kB", n_sent);
  g_assert_true (slow_gone);
  g_assert_cmpuint (n_received, ==, n_sent);
  /* The room goes on for the others. */
  gc_test_client_sync (b);
  g_assert_cmpuint (gc_room_get_n_members (gc_server_lookup_room (ts->server, "lobby")), ==, 2);
  /* Its connection, and what was queued for it, do not linger though the
   * reader neither reads nor hangs up: the closing handshake times out. */
  gc_test_wait (gc_server_get_n_connections (ts->server) == 2);
}

static void
test_keepalive (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  GcServerConfig config;
  gint64 joined_us;
  gint64 first_ping_us;

  test_config_init (&config);
  config.keepalive_seconds = 1;
  config.idle_timeout_seconds = 2;
  config.resume_seconds = 1;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  joined_us = g_get_monotonic_time ();
  b = gc_test_client_join (ts->port, "lobby", "bob");

  gc_test_wait (a->n_pings >= 1);
  first_ping_us = g_get_monotonic_time ();
  g_assert_cmpint (first_ping_us - joined_us, >=, 900 * 1000);

  /* ann answers pings (our client does, automatically), so she stays
   * although she sends nothing for longer than the idle timeout. */
  gc_test_wait (a->n_pings >= 3);
  g_assert_cmpint (g_get_monotonic_time () - joined_us, >, 2000 * 1000);
  g_assert_false (a->closed);
  gc_test_client_sync (a);
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_LEAVE), ==, 0);
}

static void
test_idle_timeout (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestRawClient) mute = NULL;
  g_autoptr(GcUser) mute_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  GcServerConfig config;
  gint64 joined_us;

  test_config_init (&config);
  config.keepalive_seconds = 1;
  config.idle_timeout_seconds = 2;
  config.resume_seconds = 1;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");

  /* Reads everything, answers nothing. */
  mute = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=mute",
                                     TRUE, 0);
  joined_us = g_get_monotonic_time ();
  mute_user = wait_join_user (a);

  gc_test_wait (mute->eof);
  g_assert_cmpuint (mute->n_pings, >=, 1);
  g_assert_cmpint (g_get_monotonic_time () - joined_us, >=, 1900 * 1000);

  /* A drop without close frame: leave timeout after the resume window. */
  leave = wait_leave (a, mute_user, "timeout");
  g_assert_cmpint (leave->received_us - joined_us, >=, 2900 * 1000);
  g_assert_false (a->closed);
}

/* ------------------------------------------------------------------ */
/* Operations: /healthz, /metrics, disposal                             */
/* ------------------------------------------------------------------ */

static void
assert_healthz (guint16 port,
                gint64  rooms,
                gint64  connections)
{
  g_autoptr(GcTestHttpResponse) response = gc_test_http_get ("127.0.0.1", port, NULL, "/healthz");
  JsonObject *json = response->json;

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_content_type (response->headers, NULL), ==,
                   "application/json");
  g_assert_nonnull (json);
  g_assert_cmpstr (json_object_get_string_member_with_default (json, "status", NULL), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member_with_default (json, "version", NULL), ==,
                   PACKAGE_VERSION);
  g_assert_true (json_object_has_member (json, "rooms"));
  g_assert_true (json_object_has_member (json, "connections"));
  g_assert_true (json_object_has_member (json, "uptime_s"));
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (json, "uptime_s")), ==,
                   G_TYPE_INT64);
  g_assert_cmpint (json_object_get_int_member (json, "uptime_s"), >=, 0);
  g_assert_cmpint (json_object_get_int_member (json, "uptime_s"), <, 600);
  g_assert_cmpint (json_object_get_int_member (json, "rooms"), ==, rooms);
  g_assert_cmpint (json_object_get_int_member (json, "connections"), ==, connections);
}

static void
test_http_healthz (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;

  assert_healthz (ts->port, 0, 0);
  a = gc_test_client_join (ts->port, "one", "ann");
  b = gc_test_client_join (ts->port, "one", "bob");
  c = gc_test_client_join (ts->port, "two", "cy");
  assert_healthz (ts->port, 2, 3);

  gc_test_client_close (c, 1000);
  gc_test_client_wait_closed (c);
  gc_test_wait (gc_server_get_n_rooms (ts->server) == 1);
  assert_healthz (ts->port, 1, 2);
}

/* The value of the sample @name (without labels) in a text exposition. */
static double
metric_value (const char *text,
              const char *name)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      gsize len = strlen (name);

      if (strncmp (line, name, len) == 0 && line[len] == ' ')
        {
          char *end;
          double value = g_ascii_strtod (line + len + 1, &end);

          g_assert_true (end != line + len + 1);
          return value;
        }
    }

  g_error ("no sample %s in /metrics:\n%s", name, text);
}

static void
test_http_metrics (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "one", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "one", "bob");
  g_autoptr(GcTestClient) c = gc_test_client_join (ts->port, "two", "cy");
  g_autoptr(GPtrArray) sent = send_messages (a, "m", 3);
  g_autoptr(GPtrArray) sent2 = send_messages (c, "n", 2);
  g_autoptr(GcTestHttpResponse) response = gc_test_http_get ("127.0.0.1", ts->port, NULL,
                                                             "/metrics");
  const char *content_type = soup_message_headers_get_content_type (response->headers, NULL);

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_nonnull (content_type);
  g_assert_true (g_str_has_prefix (content_type, "text/plain"));
  g_test_message ("/metrics:\n%s", response->body_text);
  g_assert_cmpfloat (metric_value (response->body_text, "gochat_connections"), ==, 3);
  g_assert_cmpfloat (metric_value (response->body_text, "gochat_rooms"), ==, 2);
  g_assert_cmpfloat (metric_value (response->body_text, "gochat_messages_total"), ==, 5);
}

static void
test_room_disposal (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  GcServerConfig config;
  GcRoom *room;
  GcRoom *room2;
  gint64 dropped_us;

  test_config_init (&config);
  config.resume_seconds = 1;
  ts = test_server_new (&config);

  g_assert_null (gc_server_lookup_room (ts->server, "disp"));
  a = gc_test_client_join (ts->port, "Disp", "ann");
  b = gc_test_client_join (ts->port, "disp", "bob");
  room = gc_server_lookup_room (ts->server, "DISP");
  g_assert_nonnull (room);
  g_assert_cmpstr (gc_room_get_code (room), ==, "disp");
  g_assert_cmpuint (gc_room_get_n_members (room), ==, 2);
  g_object_add_weak_pointer (G_OBJECT (room), (gpointer *) &room);

  gc_test_client_close (a, 1000);
  leave = wait_leave (b, gc_test_client_get_you (a), "left");
  g_assert_nonnull (room);
  g_assert_cmpuint (gc_room_get_n_members (room), ==, 1);

  gc_test_client_close (b, 1000);
  gc_test_wait (room == NULL);
  g_assert_null (gc_server_lookup_room (ts->server, "disp"));
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);

  /* A member dropped without a close frame keeps its room alive until
   * the resume window runs out. */
  c = gc_test_client_join (ts->port, "disp2", "cy");
  room2 = gc_server_lookup_room (ts->server, "disp2");
  g_object_add_weak_pointer (G_OBJECT (room2), (gpointer *) &room2);
  gc_test_client_abort (c);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 0);
  dropped_us = g_get_monotonic_time ();
  g_assert_nonnull (room2);
  g_assert_cmpuint (gc_room_get_n_members (room2), ==, 1);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 1);
  gc_test_wait (room2 == NULL);
  g_assert_cmpint (g_get_monotonic_time () - dropped_us, >=, 900 * 1000);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Scale: no cross-room leaks                                           */
/* ------------------------------------------------------------------ */

#define N_ROOMS 20
#define N_PER_ROOM 10
#define N_MESSAGES_EACH 3

static void
test_many_rooms (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  GcTestClient *clients[N_ROOMS][N_PER_ROOM];
  guint received[N_ROOMS][N_PER_ROOM] = { { 0 } };
  guint total = 0;
  GcTestDeadline deadline;
  const guint expected_each = N_PER_ROOM * N_MESSAGES_EACH;

  /* One room at a time, so at most ten handshakes are in flight. */
  for (guint r = 0; r < N_ROOMS; r++)
    {
      g_autofree char *room = g_strdup_printf ("room%u", r);

      for (guint m = 0; m < N_PER_ROOM; m++)
        {
          g_autofree char *name = g_strdup_printf ("r%u-m%u", r, m);

          clients[r][m] = gc_test_client_start_join (ts->port, room, name, NULL);
        }
      for (guint m = 0; m < N_PER_ROOM; m++)
        gc_test_client_wait_welcome (clients[r][m]);
    }
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, N_ROOMS);
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, N_ROOMS * N_PER_ROOM);

  for (guint i = 0; i < N_MESSAGES_EACH; i++)
    for (guint r = 0; r < N_ROOMS; r++)
      for (guint m = 0; m < N_PER_ROOM; m++)
        {
          g_autofree char *text = g_strdup_printf ("room%u from %u #%u", r, m, i);

          gc_test_client_send_message (clients[r][m], text, NULL);
        }

  /* Consume as messages arrive until every client has its room's all. */
  gc_test_deadline_start (&deadline, 3 * GC_TEST_TIMEOUT_MS);
  while (total < N_ROOMS * N_PER_ROOM * expected_each)
    {
      gboolean progress = FALSE;

      for (guint r = 0; r < N_ROOMS; r++)
        for (guint m = 0; m < N_PER_ROOM; m++)
          {
            GcTestClient *client = clients[r][m];

            while (!g_queue_is_empty (&client->events))
              {
                g_autoptr(GcTestEvent) event = g_queue_pop_head (&client->events);
                g_autofree char *prefix = g_strdup_printf ("room%u from ", r);
                const GcMessage *message;
                guint sender;
                guint serial;

                if (event->event->type == GC_EVENT_JOIN)
                  continue;
                g_assert_cmpint (event->event->type, ==, GC_EVENT_MESSAGE);
                message = event->event->message;
                if (!g_str_has_prefix (message->text, prefix))
                  g_error ("room%u member %u got “%s” from another room", r, m, message->text);
                if (sscanf (message->text + strlen (prefix), "%u #%u", &sender, &serial) != 2)
                  g_error ("unexpected text %s", message->text);
                g_assert_cmpuint (sender, <, N_PER_ROOM);
                g_assert_cmpstr (message->from->id, ==,
                                 gc_test_client_get_you (clients[r][sender])->id);
                received[r][m]++;
                total++;
                progress = TRUE;
              }
          }

      if (!progress)
        gc_test_deadline_iterate (&deadline, "messages in 20 rooms", __FILE__, __LINE__);
    }
  gc_test_deadline_stop (&deadline);

  for (guint r = 0; r < N_ROOMS; r++)
    for (guint m = 0; m < N_PER_ROOM; m++)
      g_assert_cmpuint (received[r][m], ==, expected_each);

  for (guint r = 0; r < N_ROOMS; r++)
    for (guint m = 0; m < N_PER_ROOM; m++)
      gc_test_client_free (clients[r][m]);
}

/* In-order delivery per room: ids strictly increase for every client and
 * each sender's messages keep their order. Checked on a smaller scale
 * with the full event stream. */
static void
test_many_rooms_order (void)
{
  g_autoptr(TestServer) ts = test_server_new (NULL);
  GcTestClient *clients[4][5];

  for (guint r = 0; r < 4; r++)
    for (guint m = 0; m < 5; m++)
      {
        g_autofree char *room = g_strdup_printf ("o%u", r);
        g_autofree char *name = g_strdup_printf ("m%u", m);

        clients[r][m] = gc_test_client_join (ts->port, room, name);
      }

  for (guint i = 0; i < 3; i++)
    for (guint r = 0; r < 4; r++)
      for (guint m = 0; m < 5; m++)
        {
          g_autofree char *text = g_strdup_printf ("%u %u", m, i);

          gc_test_client_send_message (clients[r][m], text, NULL);
        }

  for (guint r = 0; r < 4; r++)
    for (guint m = 0; m < 5; m++)
      {
        guint64 last_id = 0;
        gint next_serial[5] = { 0 };

        for (guint n = 0; n < 15; n++)
          {
            g_autoptr(GcTestEvent) event = gc_test_client_wait_event (clients[r][m],
                                                                      GC_EVENT_MESSAGE);
            guint sender;
            guint serial;

            g_assert_cmpuint (event->event->message->id, >, last_id);
            last_id = event->event->message->id;
            g_assert_cmpint (sscanf (event->event->message->text, "%u %u", &sender, &serial), ==, 2);
            g_assert_cmpuint (serial, ==, next_serial[sender]);
            next_serial[sender]++;
          }
      }

  for (guint r = 0; r < 4; r++)
    for (guint m = 0; m < 5; m++)
      gc_test_client_free (clients[r][m]);
}

/* ------------------------------------------------------------------ */
/* Bad input and load: nothing may crash the server, grow its memory    */
/* without bound or stall other rooms                                   */
/* ------------------------------------------------------------------ */

/* Resident memory of this process (server and clients) in bytes. */
static gsize
resident_bytes (void)
{
  g_autofree char *statm = NULL;
  unsigned long pages_total = 0;
  unsigned long pages_resident = 0;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%lu %lu", &pages_total, &pages_resident), ==, 2);
  return (gsize) pages_resident * (gsize) sysconf (_SC_PAGESIZE);
}

/* Open file descriptors of this process: the server's sockets and ours. */
static guint
count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* The soft RLIMIT_NOFILE raised to the hard one; returns it. */
static rlim_t
raise_fd_limit (void)
{
  struct rlimit limit;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  if (limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
    }
  return limit.rlim_cur;
}

/* A non-blocking TCP socket connecting to 127.0.0.1:@port, from
 * @source_address (another loopback address, another client host to
 * the server) or, if %NULL, from 127.0.0.1. */
static GSocket *
connect_nonblocking (guint16     port,
                     const char *source_address)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GError) error = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  if (source_address != NULL)
    {
      g_autoptr(GSocketAddress) source = g_inet_socket_address_new_from_string (source_address, 0);

      g_assert_true (g_socket_bind (socket, source, FALSE, &error));
      g_assert_no_error (error);
    }
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_connect (socket, address, NULL, &error))
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  return socket;
}

/* Reads what is there; returns FALSE once the server ended the
 * connection (EOF or reset). */
static gboolean
drain_socket (GSocket    *socket,
              GByteArray *into)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      guint8 buf[4096];
      gssize n = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, &error);

      if (n > 0)
        {
          g_byte_array_append (into, buf, n);
          continue;
        }
      return n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    }
}

/* Whether @data starts with @prefix. */
static gboolean
bytes_have_prefix (GByteArray *data,
                   const char *prefix)
{
  gsize len = strlen (prefix);

  return data->len >= len && memcmp (data->data, prefix, len) == 0;
}

/* A connection that sends the start of a request (or nothing) and then
 * nothing more, watched from the main loop until the server ends it. */
typedef struct {
  GSocket     *socket;
  GSource     *source;
  GBytes      *payload;      /* sent once connected; NULL: silent */
  gboolean     connected;
  gboolean     gone;         /* the server closed or reset it */
  GByteArray  *received;     /* what the server sent */
  guint       *n_connected;
  guint       *n_gone;
} Abuser;

/* Replaces the source in @slot by one that calls @func when @socket is
 * ready for @condition or hung up. */
static void
watch_socket (GSource           **slot,
              GSocket            *socket,
              GIOCondition        condition,
              GSocketSourceFunc   func,
              gpointer            data)
{
  if (*slot != NULL)
    {
      g_source_destroy (*slot);
      g_source_unref (*slot);
    }
  *slot = g_socket_create_source (socket, condition | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (*slot, G_SOURCE_FUNC (func), data, NULL);
  g_source_attach (*slot, NULL);
}

static gboolean on_abuser_ready (GSocket      *socket,
                                 GIOCondition  condition,
                                 gpointer      user_data);

static void
abuser_watch (Abuser       *abuser,
              GIOCondition  condition)
{
  watch_socket (&abuser->source, abuser->socket, condition, on_abuser_ready, abuser);
}

static gboolean
on_abuser_ready (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  Abuser *abuser = user_data;

  if (!abuser->connected)
    {
      g_autoptr(GError) error = NULL;

      /* Loopback connections complete (the server may close them at once). */
      g_assert_true (g_socket_check_connect_result (socket, &error));
      g_assert_no_error (error);
      abuser->connected = TRUE;
      (*abuser->n_connected)++;
      /* A small payload fits the socket buffer; a failure means the
       * server already let go, which reading shows next. */
      if (abuser->payload != NULL)
        g_socket_send (socket, g_bytes_get_data (abuser->payload, NULL),
                       g_bytes_get_size (abuser->payload), NULL, NULL);
      abuser_watch (abuser, G_IO_IN);
      return G_SOURCE_REMOVE;
    }

  if (drain_socket (socket, abuser->received))
    return G_SOURCE_CONTINUE;

  abuser->gone = TRUE;
  (*abuser->n_gone)++;
  g_clear_pointer (&abuser->source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static Abuser *
abuser_new_full (guint16     port,
                 const char *source_address,
                 GBytes     *payload,
                 guint      *n_connected,
                 guint      *n_gone)
{
  Abuser *abuser = g_new0 (Abuser, 1);

  abuser->socket = connect_nonblocking (port, source_address);
  abuser->payload = payload != NULL ? g_bytes_ref (payload) : NULL;
  abuser->received = g_byte_array_new ();
  abuser->n_connected = n_connected;
  abuser->n_gone = n_gone;
  abuser_watch (abuser, G_IO_OUT);
  return abuser;
}

static void
abuser_free (Abuser *abuser)
{
  if (abuser->source != NULL)
    {
      g_source_destroy (abuser->source);
      g_source_unref (abuser->source);
    }
  g_socket_close (abuser->socket, NULL);
  g_object_unref (abuser->socket);
  g_clear_pointer (&abuser->payload, g_bytes_unref);
  g_byte_array_unref (abuser->received);
  g_free (abuser);
}

/* An abuser from 127.0.0.1 sending @payload (a string; NULL: nothing). */
static Abuser *
abuser_new (guint16     port,
            const char *payload,
            guint      *n_connected,
            guint      *n_gone)
{
  g_autoptr(GBytes) bytes = payload != NULL ? g_bytes_new_static (payload, strlen (payload)) : NULL;

  return abuser_new_full (port, NULL, bytes, n_connected, n_gone);
}

/* The start of a valid upgrade request, without its blank line. */
#define UPGRADE_HEAD(query)                                   \
  "GET /joinRoom?" query " HTTP/1.1\r\n"                      \
  "Host: 127.0.0.1\r\n"                                       \
  "Upgrade: websocket\r\n"                                    \
  "Connection: Upgrade\r\n"                                   \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"           \
  "Sec-WebSocket-Version: 13\r\n"

/* §7: 503 counts open WebSocket connections plus upgrades in progress. */
static void
test_refusal_server_full_upgrades (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) refused = NULL;
  g_autoptr(GcTestClient) b = NULL;
  GcServerConfig config;
  Abuser *upgrading;
  guint n_connected = 0;
  guint n_gone = 0;

  test_config_init (&config);
  config.max_connections = 2;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "a");

  /* An upgrade under way: the request has started, not ended. */
  upgrading = abuser_new (ts->port, UPGRADE_HEAD ("room_code=lobby&user_name=slowpoke"),
                          &n_connected, &n_gone);
  gc_test_wait (n_connected == 1 && gc_server_get_n_handshakes (ts->server) == 1);
  refused = gc_test_client_start_join (ts->port, "lobby", "b", NULL);
  gc_test_client_assert_refused (refused, 503, "server_full");

  /* Once it is given up, there is room again. */
  abuser_free (upgrading);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
  b = gc_test_client_join (ts->port, "lobby", "b");
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 2);
}

#define N_ABUSERS_WANTED 2000
#define ABUSE_BATCH 200

/* Thousands of connections opened and abandoned mid-handshake, all from
 * the address a real client joins from: the server keeps its handshakes
 * within bounds, still lets the real client in, answers the abandoned
 * ones nothing, and after the handshake timeout holds none of them (no
 * socket left open on its side). */
static void
test_abuse_abandoned_handshakes (void)
{
  static const char * const payloads[] = {
    NULL,                                               /* silent */
    "GET /joinRoom?room_co",                            /* half a request line */
    "GET /joinRoom?room_code=lobby&user_name=x HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\nUpgrade: websocket\r\n",        /* no blank line */
  };
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GPtrArray) abusers = g_ptr_array_new_with_free_func ((GDestroyNotify) abuser_free);
  g_autoptr(GcTestClient) real = NULL;
  g_autoptr(GcTestClient) other = NULL;
  g_autoptr(GcTestEvent) echo = NULL;
  GcServerConfig config;
  GcTestDeadline deadline;
  rlim_t fd_limit = raise_fd_limit ();
  guint n_abusers;
  guint max_handshakes;
  guint n_connected = 0;
  guint n_gone = 0;
  guint max_handshakes_seen = 0;
  guint fds_before;
  gsize resident_before;
  gsize received = 0;
  gint64 start_us;

  /* Each connection costs two descriptors here: ours and the server's. */
  fds_before = count_open_fds ();
  n_abusers = MIN (N_ABUSERS_WANTED, (MIN (fd_limit, 100000) - MIN (fd_limit, fds_before + 200)) / 2);
  if (n_abusers < 400)
    {
      g_test_skip ("too few file descriptors for a meaningful flood");
      return;
    }
  /* Far fewer than the connections, so that the bound is tested. */
  max_handshakes = MIN (256, n_abusers / 4);
  g_test_message ("fd limit %lu: %u abandoned connections, at most %u handshakes",
                  (unsigned long) fd_limit, n_abusers, max_handshakes);

  test_config_init (&config);
  config.handshake_timeout_seconds = 2;
  config.max_handshakes = max_handshakes;
  ts = test_server_new (&config);
  fds_before = count_open_fds ();
  resident_before = resident_bytes ();

  /* In batches, so that the kernel's accept queue takes them without
   * dropping SYNs. */
  start_us = g_get_monotonic_time ();
  gc_test_deadline_start (&deadline, 6 * GC_TEST_TIMEOUT_MS);
  while (n_connected < n_abusers)
    {
      guint n_handshakes = gc_server_get_n_handshakes (ts->server);

      g_assert_cmpuint (n_handshakes, <=, max_handshakes);
      max_handshakes_seen = MAX (max_handshakes_seen, n_handshakes);
      if (abusers->len == n_connected && abusers->len < n_abusers)
        {
          for (guint i = 0; i < ABUSE_BATCH && abusers->len < n_abusers; i++)
            g_ptr_array_add (abusers, abuser_new (ts->port, payloads[abusers->len % 3],
                                                  &n_connected, &n_gone));
          continue;
        }
      gc_test_deadline_iterate (&deadline, "abandoned connections", __FILE__, __LINE__);
    }
  gc_test_deadline_stop (&deadline);
  g_test_message ("%u connections in %" G_GINT64_FORMAT " ms; at most %u handshakes; "
                  "%u already closed by the server",
                  n_abusers, (g_get_monotonic_time () - start_us) / 1000,
                  max_handshakes_seen, n_gone);

  /* A real client from the same address still gets in, and chats. */
  start_us = g_get_monotonic_time ();
  real = gc_test_client_join (ts->port, "lobby", "real");
  g_test_message ("the real client joined after %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - start_us) / 1000);
  other = gc_test_client_join (ts->port, "lobby", "other");
  gc_test_client_send_message (real, "still here", NULL);
  echo = gc_test_client_wait_message (other, "still here");
  g_assert_cmpuint (gc_server_get_n_handshakes (ts->server), <=, max_handshakes);

  /* After the handshake timeout the server holds none of them, and it
   * never answered them. */
  gc_test_wait_ms (n_gone == n_abusers && gc_server_get_n_handshakes (ts->server) == 0,
                   6 * GC_TEST_TIMEOUT_MS);
  for (guint i = 0; i < abusers->len; i++)
    received += ((Abuser *) g_ptr_array_index (abusers, i))->received->len;
  g_assert_cmpuint (received, ==, 0);
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 2);
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 2);
  {
    gsize resident_after = resident_bytes ();

    g_test_message ("resident memory grew by %" G_GSIZE_FORMAT " kB",
                    (resident_after - MIN (resident_after, resident_before)) / 1024);
  }

  /* Every server-side socket is closed: with ours and the two clients
   * gone, the descriptors are back where they were. */
  g_ptr_array_set_size (abusers, 0);
  g_clear_pointer (&real, gc_test_client_free);
  g_clear_pointer (&other, gc_test_client_free);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 0);
  gc_test_wait (count_open_fds () <= fds_before + 4);
}

/* The client's first TLS record as it arrives on the other end of a
 * socket pair. */
static gboolean
on_hello_bytes (GSocket      *socket,
                GIOCondition  condition,
                gpointer      user_data)
{
  drain_socket (socket, user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
tls_record_complete (GByteArray *data)
{
  return data->len >= 5 && data->len >= 5 + ((gsize) data->data[3] << 8 | data->data[4]);
}

static void
on_capture_handshake_done (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

/* A real ClientHello: what glib-networking's client sends first. */
static GBytes *
capture_client_hello (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) ours = NULL;
  g_autoptr(GSocket) theirs = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GByteArray *hello = g_byte_array_new ();
  GSource *source;
  gboolean done = FALSE;
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  ours = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  theirs = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  g_socket_set_blocking (ours, FALSE);
  connection = g_socket_connection_factory_create_connection (theirs);
  tls = g_tls_client_connection_new (G_IO_STREAM (connection), NULL, &error);
  g_assert_no_error (error);

  source = g_socket_create_source (ours, G_IO_IN, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (on_hello_bytes), hello, NULL);
  g_source_attach (source, NULL);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, cancellable,
                                    on_capture_handshake_done, &done);
  gc_test_wait (tls_record_complete (hello));
  g_source_destroy (source);
  g_source_unref (source);

  g_cancellable_cancel (cancellable);
  g_socket_shutdown (ours, TRUE, TRUE, NULL);
  gc_test_wait (done);

  g_assert_cmpuint (hello->data[0], ==, 0x16);  /* a handshake record */
  g_byte_array_set_size (hello, 5 + ((gsize) hello->data[3] << 8 | hello->data[4]));
  return g_byte_array_free_to_bytes (hello);
}

static guint
count_answered (GPtrArray *abusers)
{
  guint n = 0;

  for (guint i = 0; i < abusers->len; i++)
    if (((Abuser *) g_ptr_array_index (abusers, i))->received->len > 0)
      n++;
  return n;
}

#define N_TLS_STALLERS 100
#define N_TLS_STALLER_ADDRESSES 8

/* Clients from several addresses send a ClientHello and then nothing.
 * Each TLS handshake holds a thread of GLib's task pool while it waits,
 * so unless the server limits them, they hold every thread until the
 * handshake deadline and no other TLS client gets through. */
static void
test_abuse_stalled_tls_handshakes (void)
{
  g_autofree char *cert_path = g_test_build_filename (G_TEST_DIST, "tls", "server.pem", NULL);
  g_autofree char *key_path = g_test_build_filename (G_TEST_DIST, "tls", "server-key.pem", NULL);
  g_autofree char *ca_path = g_test_build_filename (G_TEST_DIST, "tls", "ca.pem", NULL);
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GTlsDatabase) ca = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GPtrArray) stallers = g_ptr_array_new_with_free_func ((GDestroyNotify) abuser_free);
  g_autoptr(GBytes) hello = NULL;
  g_autoptr(GcTestClient) first = NULL;
  g_autoptr(GcTestClient) second = NULL;
  g_autoptr(GcTestEvent) echo = NULL;
  GcTestJoinOptions options = { 0 };
  GcServerConfig config;
  guint n_connected = 0;
  guint n_gone = 0;
  gint64 start_us;

  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  ca = g_tls_file_database_new (ca_path, &error);
  g_assert_no_error (error);
  options.tls_database = ca;

  test_config_init (&config);
  /* Far beyond the test's deadlines: the stalled handshakes are not
   * simply timed out. */
  config.handshake_timeout_seconds = 120;
  ts = test_server_new (&config);
  g_assert_true (gc_server_set_tls_certificate (ts->server, certificate, &error));
  g_assert_no_error (error);

  hello = capture_client_hello ();
  for (guint i = 0; i < N_TLS_STALLERS; i++)
    {
      g_autofree char *source = g_strdup_printf ("127.0.0.%u", 2 + i % N_TLS_STALLER_ADDRESSES);

      g_ptr_array_add (stallers, abuser_new_full (ts->port, source, hello, &n_connected, &n_gone));
    }
  gc_test_wait (n_connected == N_TLS_STALLERS &&
                gc_server_get_n_handshakes (ts->server) == N_TLS_STALLERS);
  /* The server answers some of them: those handshakes are running. */
  gc_test_wait (count_answered (stallers) >= 8);

  start_us = g_get_monotonic_time ();
  {
    g_autofree char *url = gc_test_join_url ("wss", "127.0.0.1", ts->port, "secure", "first",
                                             NULL);

    first = gc_test_client_new_for_url (url, &options);
    gc_test_client_wait_welcome (first);
  }
  g_test_message ("a TLS client joined %" G_GINT64_FORMAT " ms after %u ClientHellos "
                  "stalled (%u of them answered, %u closed)",
                  (g_get_monotonic_time () - start_us) / 1000, N_TLS_STALLERS,
                  count_answered (stallers), n_gone);
  {
    g_autofree char *url = gc_test_join_url ("wss", "127.0.0.1", ts->port, "secure", "second",
                                             NULL);

    second = gc_test_client_new_for_url (url, &options);
    gc_test_client_wait_welcome (second);
  }
  gc_test_client_send_message (first, "through", NULL);
  echo = gc_test_client_wait_message (second, "through");

  /* Giving up on them frees everything. */
  g_ptr_array_set_size (stallers, 0);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
}

/* A connection that streams a request as fast as the server takes it:
 * @head, then @filler @n_filler times, then @tail; or, with a drip
 * interval, @head and then one @filler every @drip_ms forever. */
typedef struct {
  GSocket     *socket;
  GSource     *source;
  GSource     *drip;
  GBytes      *pieces[3];    /* head, filler, tail */
  guint64      n_filler;
  guint64      piece_index;  /* 0 head, 1 .. n_filler filler, then tail */
  gsize        piece_offset;
  guint64      sent;
  gboolean     all_sent;
  gboolean     closed;       /* the server ended the connection */
  gint64       closed_us;
  GByteArray  *response;
} Pusher;

static gboolean on_pusher_ready (GSocket      *socket,
                                 GIOCondition  condition,
                                 gpointer      user_data);

static void
pusher_watch (Pusher       *pusher,
              GIOCondition  condition)
{
  watch_socket (&pusher->source, pusher->socket, condition, on_pusher_ready, pusher);
}

static void
pusher_set_closed (Pusher *pusher)
{
  if (pusher->closed)
    return;
  pusher->closed = TRUE;
  pusher->closed_us = g_get_monotonic_time ();
}

/* The piece now being sent, or NULL when everything went out. */
static GBytes *
pusher_current_piece (Pusher *pusher)
{
  if (pusher->piece_index == 0)
    return pusher->pieces[0];
  if (pusher->drip != NULL)
    return NULL;
  if (pusher->piece_index <= pusher->n_filler)
    return pusher->pieces[1];
  if (pusher->piece_index == pusher->n_filler + 1)
    return pusher->pieces[2];
  return NULL;
}

/* Sends what the socket takes; FALSE if the server ended the connection. */
static gboolean
pusher_send (Pusher *pusher)
{
  GBytes *piece;

  while ((piece = pusher_current_piece (pusher)) != NULL)
    {
      g_autoptr(GError) error = NULL;
      gsize len;
      const char *data = g_bytes_get_data (piece, &len);
      gssize n = g_socket_send (pusher->socket, data + pusher->piece_offset,
                                len - pusher->piece_offset, NULL, &error);

      if (n < 0)
        return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);

      pusher->sent += n;
      pusher->piece_offset += n;
      if (pusher->piece_offset == len)
        {
          pusher->piece_index++;
          pusher->piece_offset = 0;
        }
    }

  pusher->all_sent = pusher->drip == NULL;
  return TRUE;
}

static gboolean
on_pusher_ready (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  Pusher *pusher = user_data;

  if ((condition & (G_IO_IN | G_IO_HUP | G_IO_ERR)) != 0 &&
      !drain_socket (socket, pusher->response))
    {
      pusher_set_closed (pusher);
      g_clear_pointer (&pusher->source, g_source_unref);
      return G_SOURCE_REMOVE;
    }

  if ((condition & G_IO_OUT) != 0)
    {
      if (!pusher_send (pusher))
        {
          pusher_set_closed (pusher);
          g_clear_pointer (&pusher->source, g_source_unref);
          return G_SOURCE_REMOVE;
        }
      if (pusher_current_piece (pusher) == NULL)
        {
          /* Everything is out: only reading from now on. */
          pusher_watch (pusher, G_IO_IN);
          return G_SOURCE_REMOVE;
        }
    }

  return G_SOURCE_CONTINUE;
}

static gboolean
on_pusher_drip (gpointer user_data)
{
  Pusher *pusher = user_data;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (pusher->pieces[1], &len);

  if (pusher->closed || pusher->piece_index == 0)
    return G_SOURCE_CONTINUE;

  /* A line is a few bytes; the window never fills at this pace. */
  if (g_socket_send (pusher->socket, data, len, NULL, &error) > 0)
    pusher->sent += len;
  return G_SOURCE_CONTINUE;
}

static Pusher *
pusher_new (guint16     port,
            const char *head,
            const char *filler,
            guint64     n_filler,
            const char *tail,
            guint       drip_ms)
{
  Pusher *pusher = g_new0 (Pusher, 1);

  pusher->socket = connect_nonblocking (port, NULL);
  pusher->pieces[0] = g_bytes_new (head, strlen (head));
  pusher->pieces[1] = g_bytes_new (filler, strlen (filler));
  pusher->pieces[2] = g_bytes_new (tail, strlen (tail));
  pusher->n_filler = n_filler;
  pusher->response = g_byte_array_new ();
  if (drip_ms > 0)
    {
      pusher->drip = g_timeout_source_new (drip_ms);
      g_source_set_callback (pusher->drip, on_pusher_drip, pusher, NULL);
      g_source_attach (pusher->drip, NULL);
    }
  pusher_watch (pusher, G_IO_IN | G_IO_OUT);
  return pusher;
}

static void
pusher_free (Pusher *pusher)
{
  if (pusher->source != NULL)
    {
      g_source_destroy (pusher->source);
      g_source_unref (pusher->source);
    }
  if (pusher->drip != NULL)
    {
      g_source_destroy (pusher->drip);
      g_source_unref (pusher->drip);
    }
  g_socket_close (pusher->socket, NULL);
  g_object_unref (pusher->socket);
  for (guint i = 0; i < G_N_ELEMENTS (pusher->pieces); i++)
    g_bytes_unref (pusher->pieces[i]);
  g_byte_array_unref (pusher->response);
  g_free (pusher);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pusher, pusher_free)

#define HUGE_HEADER_BYTES (64 * 1024 * 1024)

/* Asserts the server refused @pusher's request (no upgrade) and ended
 * the connection long before the 64 MiB went out, without taking that
 * much memory. */
static void
assert_huge_refused (TestServer *ts,
                     Pusher     *pusher,
                     gsize       resident_before)
{
  gsize resident_after;
  gsize grown;

  gc_test_wait (pusher->closed);
  resident_after = resident_bytes ();
  grown = resident_after - MIN (resident_after, resident_before);
  g_test_message ("server ended it after %" G_GUINT64_FORMAT " bytes: %.*s; "
                  "resident memory grew by %" G_GSIZE_FORMAT " kB",
                  pusher->sent, (int) MIN (pusher->response->len, 40),
                  (const char *) pusher->response->data, grown / 1024);
  g_assert_false (pusher->all_sent);
  g_assert_cmpuint (pusher->sent, <, HUGE_HEADER_BYTES / 4);
  g_assert_cmpuint (grown, <, 32 * 1024 * 1024);
  /* Not upgraded: no answer at all, or an HTTP error status. */
  if (pusher->response->len > 0)
    g_assert_true (bytes_have_prefix (pusher->response, "HTTP/1.1 4") ||
                   bytes_have_prefix (pusher->response, "HTTP/1.1 5"));
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
}

/* Huge headers, as many lines or as one line, are refused long before
 * the server would have buffered them; it goes on serving. */
static void
test_abuse_huge_headers (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) after = NULL;
  g_autofree char *line = g_strdup_printf ("X-Padding: %0*d\r\n", 4000, 0);
  g_autofree char *run = g_strnfill (4096, 'a');
  GcServerConfig config;

  test_config_init (&config);
  /* Far beyond the test: only the size can end these early. */
  config.handshake_timeout_seconds = 600;
  ts = test_server_new (&config);

  {
    gsize resident_before = resident_bytes ();
    g_autoptr(Pusher) lines = pusher_new (ts->port, UPGRADE_HEAD ("room_code=big&user_name=a"),
                                          line, HUGE_HEADER_BYTES / strlen (line), "\r\n", 0);

    assert_huge_refused (ts, lines, resident_before);
  }

  {
    gsize resident_before = resident_bytes ();
    g_autoptr(Pusher) one_line = pusher_new (ts->port,
                                             UPGRADE_HEAD ("room_code=big&user_name=b")
                                             "X-Huge: ",
                                             run, HUGE_HEADER_BYTES / 4096, "\r\n\r\n", 0);

    assert_huge_refused (ts, one_line, resident_before);
  }

  /* A request line that never ends. */
  {
    gsize resident_before = resident_bytes ();
    g_autoptr(Pusher) url = pusher_new (ts->port, "GET /joinRoom?room_code=", run,
                                        HUGE_HEADER_BYTES / 4096, " HTTP/1.1\r\n\r\n", 0);

    assert_huge_refused (ts, url, resident_before);
  }

  after = gc_test_client_join (ts->port, "big", "after");
}

/* Headers that never end, sent slowly (a line every 20 ms, never the
 * blank line): closed by the handshake deadline, not before. */
static void
test_abuse_endless_headers (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(Pusher) drip = NULL;
  g_autoptr(GcTestClient) meanwhile = NULL;
  GcServerConfig config;
  gint64 start_us;
  gint64 lasted_ms;

  test_config_init (&config);
  config.handshake_timeout_seconds = 2;
  ts = test_server_new (&config);

  start_us = g_get_monotonic_time ();
  drip = pusher_new (ts->port, UPGRADE_HEAD ("room_code=drip&user_name=d"),
                     "X-Drip: more\r\n", 0, "", 20);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 1);

  /* Others are served meanwhile. */
  meanwhile = gc_test_client_join (ts->port, "drip", "meanwhile");
  g_assert_false (drip->closed);

  gc_test_wait (drip->closed);
  lasted_ms = (drip->closed_us - start_us) / 1000;
  g_test_message ("the drip lasted %" G_GINT64_FORMAT " ms, %" G_GUINT64_FORMAT " bytes",
                  lasted_ms, drip->sent);
  g_assert_cmpint (lasted_ms, >=, 1900);
  g_assert_cmpint (lasted_ms, <, 2000 + GC_TEST_TIMEOUT_MS / 2);
  g_assert_cmpuint (drip->response->len, ==, 0);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
  g_assert_cmpuint (gc_room_get_n_members (gc_server_lookup_room (ts->server, "drip")), ==, 1);
}

#define N_BAD_CLIENTS 30
#define N_BAD_JSON_EACH 100
#define N_OTHER_ROOM_MESSAGES 40

/* Many clients of one room send invalid JSON, binary frames and broken
 * frames at once: each gets what it deserves (errors, then 1008; 1003;
 * 1002), the room is gone afterwards, and another room's chat goes on
 * complete and in order meanwhile. */
static void
test_abuse_bad_frames_other_room (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) b1 = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  GcTestRawClient *bad[N_BAD_CLIENTS];
  GcServerConfig config;
  GcRoom *room_a;
  const guint8 binary[] = { 0x00, 0xff, 0x10, 0x20 };
  const char *not_json = "{\"type\":\"message\",\"text\":";
  /* A text frame with a reserved bit set, masked. */
  const guint8 reserved_bit[] = { 0xC1, 0x81, 0, 0, 0, 0, 'x' };
  guint64 last_id = 0;

  test_config_init (&config);
  config.resume_seconds = 1;
  /* The quiet room sends its messages as one burst. */
  config.rate_burst = N_OTHER_ROOM_MESSAGES;
  ts = test_server_new (&config);

  b1 = gc_test_client_join (ts->port, "quiet", "b1");
  b2 = gc_test_client_join (ts->port, "quiet", "b2");
  {
    g_autoptr(GcUser) joined = wait_join_user (b1);
  }

  for (guint i = 0; i < N_BAD_CLIENTS; i++)
    {
      g_autofree char *path = g_strdup_printf ("/joinRoom?room_code=noisy&user_name=bad%u", i);

      bad[i] = gc_test_raw_client_connect (ts->port, path, TRUE, 0);
    }
  room_a = gc_server_lookup_room (ts->server, "noisy");
  g_assert_nonnull (room_a);
  g_object_add_weak_pointer (G_OBJECT (room_a), (gpointer *) &room_a);

  /* All the bad input goes out before the server sees any of it. */
  for (guint i = 0; i < N_BAD_CLIENTS; i++)
    {
      switch (i % 3)
        {
        case 0:
          for (guint j = 0; j < N_BAD_JSON_EACH; j++)
            gc_test_raw_client_send_frame (bad[i], GC_WS_OPCODE_TEXT, TRUE,
                                           (const guint8 *) not_json, strlen (not_json));
          break;
        case 1:
          gc_test_raw_client_send_frame (bad[i], GC_WS_OPCODE_BINARY, TRUE, binary, sizeof binary);
          break;
        default:
          gc_test_raw_client_send_bytes (bad[i], reserved_bit, sizeof reserved_bit);
          break;
        }
    }
  for (guint i = 0; i < N_OTHER_ROOM_MESSAGES; i++)
    {
      g_autofree char *text = g_strdup_printf ("quiet %u", i);

      gc_test_client_send_message (b1, text, NULL);
    }

  /* The other room: everything, in order, and nothing from the noisy room. */
  for (guint i = 0; i < N_OTHER_ROOM_MESSAGES; i++)
    {
      g_autofree char *text = g_strdup_printf ("quiet %u", i);
      g_autoptr(GcTestEvent) event = gc_test_client_next_event (b2);

      if (event->event->type != GC_EVENT_MESSAGE)
        g_error ("the quiet room got %s", event->json);
      g_assert_cmpstr (event->event->message->text, ==, text);
      g_assert_cmpuint (event->event->message->id, >, last_id);
      last_id = event->event->message->id;
    }
  gc_test_client_sync (b2);
  g_assert_cmpuint (gc_test_client_count_queued (b2, GC_EVENT_UNKNOWN), ==, 0);

  /* The noisy room: each got its close. */
  for (guint i = 0; i < N_BAD_CLIENTS; i++)
    {
      gushort expected = i % 3 == 0 ? 1008 : i % 3 == 1 ? 1003 : 1002;

      gc_test_wait (bad[i]->close_code != 0 || bad[i]->eof);
      g_assert_cmpuint (bad[i]->close_code, ==, expected);
      if (i % 3 == 0)
        {
          /* A burst's worth of bad_request errors, then rate_limited, then the close. */
          guint n_bad_request = 0;

          for (GList *l = bad[i]->events.head; l != NULL; l = l->next)
            {
              GcTestEvent *event = l->data;

              if (event->event->type == GC_EVENT_ERROR &&
                  g_strcmp0 (event->event->error.code, "bad_request") == 0)
                n_bad_request++;
            }
          /* The burst, and perhaps a token that refilled meanwhile. */
          g_assert_cmpuint (n_bad_request, >=, config.rate_burst);
          g_assert_cmpuint (n_bad_request, <, N_BAD_JSON_EACH / 2);
        }
    }

  /* Every bad client was dropped at once (no resume wait): the room is
   * disposed, and once they hang up only the quiet room's two
   * connections remain. */
  gc_test_wait (room_a == NULL);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 1);
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 2);
  for (guint i = 0; i < N_BAD_CLIENTS; i++)
    gc_test_raw_client_free (bad[i]);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 2);
}

#define N_NOISY_MEMBERS 20
#define N_ROUND_TRIPS 100
#define FLOOD_TICK_MS 12
#define FLOOD_PER_TICK 8

typedef struct {
  TestServer   *ts;
  GcTestClient *flooder;
  GcTestClient *erring;
  GPtrArray    *refused;    /* Pusher: joins with a bad room code */
  guint         n_ticks;
  guint         n_sent;
  guint         n_refusals;
} Flood;

/* One tick: messages and bad requests (each near the rate limit), and a
 * join with a bad room code. */
static gboolean
on_flood_tick (gpointer user_data)
{
  Flood *flood = user_data;

  for (guint i = 0; i < FLOOD_PER_TICK; i++)
    {
      g_autofree char *text = g_strdup_printf ("flood %u", flood->n_sent++);

      gc_test_client_send_message (flood->flooder, text, NULL);
      gc_test_client_send_text (flood->erring, "{\"type\":\"shout\"}");
    }
  flood->n_ticks++;
  g_ptr_array_add (flood->refused,
                   pusher_new (flood->ts->port, UPGRADE_HEAD ("room_code=bad!&user_name=x"),
                               "", 0, "\r\n", 0));
  return G_SOURCE_CONTINUE;
}

/* A room flooded near the rate limit (fanned out to 20 members), with a
 * stream of bad requests and refused joins besides, does not stall
 * another room: its round trips all complete, in order, within the
 * usual deadline. */
static void
test_abuse_flood_fairness (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) b1 = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GPtrArray) noisy = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_client_free);
  g_autoptr(GPtrArray) refused = g_ptr_array_new_with_free_func ((GDestroyNotify) pusher_free);
  GcServerConfig config;
  Flood flood = { 0 };
  guint tick_id;
  gint64 worst_us = 0;
  guint n_delivered_meanwhile;
  guint n_errors_meanwhile;

  test_config_init (&config);
  config.rate_burst = 2 * FLOOD_PER_TICK;
  config.rate_per_second = 1000.0 * FLOOD_PER_TICK / FLOOD_TICK_MS * 1.2;
  ts = test_server_new (&config);

  for (guint i = 0; i < N_NOISY_MEMBERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("n%u", i);

      g_ptr_array_add (noisy, gc_test_client_join (ts->port, "noisy", name));
    }
  b1 = gc_test_client_join (ts->port, "quiet", "b1");
  b2 = gc_test_client_join (ts->port, "quiet", "b2");
  {
    g_autoptr(GcUser) joined = wait_join_user (b1);
  }

  flood.ts = ts;
  flood.flooder = g_ptr_array_index (noisy, 0);
  flood.erring = g_ptr_array_index (noisy, 1);
  flood.refused = refused;
  /* Just under the rate limit: ticks come late, never early. */
  tick_id = g_timeout_add (FLOOD_TICK_MS, on_flood_tick, &flood);

  /* One round trip per tick, so they span the flood. */
  for (guint i = 0; i < N_ROUND_TRIPS; i++)
    {
      GcTestClient *from = i % 2 == 0 ? b1 : b2;
      GcTestClient *to = i % 2 == 0 ? b2 : b1;
      g_autofree char *text = g_strdup_printf ("round trip %u", i);
      g_autoptr(GcTestEvent) event = NULL;
      gint64 start_us;

      gc_test_wait (flood.n_ticks > i);
      start_us = g_get_monotonic_time ();
      gc_test_client_send_message (from, text, NULL);
      /* Nothing else is in the quiet room: the next event is this one. */
      event = gc_test_client_next_event (to);
      g_assert_cmpint (event->event->type, ==, GC_EVENT_MESSAGE);
      g_assert_cmpstr (event->event->message->text, ==, text);
      worst_us = MAX (worst_us, g_get_monotonic_time () - start_us);
      g_clear_pointer (&event, gc_test_event_free);
      event = gc_test_client_next_event (from);
      g_assert_cmpstr (event->event->message->text, ==, text);
    }
  g_source_remove (tick_id);

  /* The flood really ran meanwhile. */
  n_delivered_meanwhile = gc_test_client_count_queued (g_ptr_array_index (noisy, N_NOISY_MEMBERS - 1),
                                                       GC_EVENT_MESSAGE);
  n_errors_meanwhile = gc_test_client_count_queued (flood.erring, GC_EVENT_ERROR);
  for (guint i = 0; i < refused->len; i++)
    {
      Pusher *pusher = g_ptr_array_index (refused, i);

      if (pusher->response->len > 0)
        flood.n_refusals++;
    }
  g_test_message ("%u round trips, the slowest %" G_GINT64_FORMAT " ms, while the noisy room "
                  "delivered %u of %u messages (to each of %u members), %u errors and %u "
                  "refused joins",
                  N_ROUND_TRIPS, worst_us / 1000, n_delivered_meanwhile, flood.n_sent,
                  N_NOISY_MEMBERS, n_errors_meanwhile, flood.n_refusals);
  g_assert_cmpuint (flood.n_ticks, >=, N_ROUND_TRIPS);
  g_assert_cmpuint (n_delivered_meanwhile, >=, N_ROUND_TRIPS);
  g_assert_cmpuint (n_errors_meanwhile, >=, N_ROUND_TRIPS);
  g_assert_cmpuint (flood.n_refusals, >=, N_ROUND_TRIPS / 2);
  /* Near the limit, never over it: the flood was all delivered. */
  g_assert_cmpuint (gc_test_client_count_queued (flood.flooder, GC_EVENT_ERROR), ==, 0);
  g_assert_false (flood.flooder->closed);
  g_assert_false (flood.erring->closed);

  /* Every refused join got its answer, a JSON 400. */
  for (guint i = 0; i < refused->len; i++)
    {
      Pusher *pusher = g_ptr_array_index (refused, i);

      gc_test_wait (pusher->closed);
      g_assert_true (bytes_have_prefix (pusher->response, "HTTP/1.1 400"));
    }
  g_assert_cmpuint (gc_test_client_count_queued (b1, GC_EVENT_UNKNOWN), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (b2, GC_EVENT_UNKNOWN), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Shutdown (§5, §7)                                                    */
/* ------------------------------------------------------------------ */

static void
test_shutdown (void)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) late = NULL;
  g_autoptr(GcTestRawClient) deaf = NULL;
  GcServerConfig config;
  GcServer *server;
  guint16 port;
  gboolean done = FALSE;
  gint64 start_us;

  test_config_init (&config);
  server = gc_server_new (&config);
  g_assert_true (gc_server_listen (server, loopback, 0, &error));
  port = gc_server_get_port (server);

  a = gc_test_client_join (port, "lobby", "ann");
  b = gc_test_client_join (port, "lobby", "bob");
  /* Never reads, so never answers the close: shutdown must not wait
   * for it more than 2 s. */
  deaf = gc_test_raw_client_connect (port, "/joinRoom?room_code=lobby&user_name=deaf", FALSE, 0);
  gc_test_client_sync (a);
  gc_test_client_sync (b);
  gc_test_client_clear_queue (a);
  gc_test_client_clear_queue (b);

  start_us = g_get_monotonic_time ();
  gc_server_shutdown_async (server, NULL, on_shutdown_done, &done);

  /* Joins meanwhile get 503. */
  late = gc_test_client_start_join (port, "lobby", "late", NULL);
  gc_test_client_assert_refused (late, 503, "server_full");

  g_assert_cmpuint (gc_test_client_wait_closed (a), ==, 1001);
  g_assert_cmpuint (gc_test_client_wait_closed (b), ==, 1001);
  gc_test_wait_ms (done, 5000);
  g_assert_cmpint (g_get_monotonic_time () - start_us, <, 3000 * 1000);

  /* No leave was broadcast. */
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_server_get_n_rooms (server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_connections (server), ==, 0);

  /* No listening socket is left. */
  {
    g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
    g_autoptr(GSocketConnection) connection = NULL;
    g_autoptr(GError) connect_error = NULL;

    connection = g_socket_client_connect_to_host (socket_client, "127.0.0.1", port, NULL,
                                                  &connect_error);
    g_assert_error (connect_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  }

  g_object_add_weak_pointer (G_OBJECT (server), (gpointer *) &server);
  g_object_unref (server);
  gc_test_wait (server == NULL);
}

/* One message drops many slow readers: their leaves go out one after
 * another once the broadcast is over, never a broadcast nested in the
 * previous drop's leave broadcast (which overflowed the stack at some
 * thousands of readers), and the reader gets everything. The slow
 * readers' bound is below one message, so all of them overflow in the
 * same broadcast however much their sockets buffer; the reader and the
 * sender have none. */
static void
test_slow_readers_many (void)
{
  enum { N_SLOW = 200 };
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) sender = NULL;
  g_autoptr(GcTestClient) reader = NULL;
  g_autoptr(GPtrArray) slow = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_raw_client_free);
  g_autoptr(GHashTable) slow_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GcTestEvent) message = NULL;
  g_autofree char *text = NULL;
  GcServerConfig config;
  GcRoom *room;
  guint n_left = 0;

  raise_fd_limit ();
  test_config_init (&config);
  config.max_queued_bytes = 32 * 1024;
  config.max_text_bytes = 40000;
  config.history = 0;
  ts = test_server_new (&config);
  sender = gc_test_client_join (ts->port, "lobby", "sender");
  reader = gc_test_client_join (ts->port, "lobby", "reader");
  room = gc_server_lookup_room (ts->server, "lobby");
  gc_ws_connection_set_max_queued_bytes (gc_room_get_member_connection (room, "sender"), 0);
  gc_ws_connection_set_max_queued_bytes (gc_room_get_member_connection (room, "reader"), 0);
  for (guint i = 0; i < N_SLOW; i++)
    {
      g_autofree char *path = g_strdup_printf ("/joinRoom?room_code=lobby&user_name=slow%u", i);

      g_ptr_array_add (slow, gc_test_raw_client_connect (ts->port, path, FALSE, 4096));
    }
  for (guint i = 0; i < N_SLOW; i++)
    {
      GcUser *user = wait_join_user (reader);

      g_hash_table_add (slow_ids, g_strdup (user->id));
      gc_user_free (user);
    }
  g_assert_cmpuint (gc_room_get_n_members (room), ==, N_SLOW + 2);
  g_assert_cmpuint (gc_room_get_max_walk_depth (room), ==, 1);

  text = g_strnfill (40000, 'z');
  gc_test_client_send_message (sender, text, NULL);
  message = gc_test_client_wait_event (reader, GC_EVENT_MESSAGE);
  g_assert_cmpstr (message->event->message->text, ==, text);
  while (n_left < N_SLOW)
    {
      g_autoptr(GcTestEvent) event = gc_test_client_next_event (reader);

      g_assert_cmpint (event->event->type, ==, GC_EVENT_LEAVE);
      g_assert_true (g_hash_table_remove (slow_ids, event->event->leave.user->id));
      g_assert_cmpstr (gc_leave_reason_to_string (event->event->leave.reason), ==, "slow");
      n_left++;
    }

  g_assert_cmpuint (gc_room_get_n_members (room), ==, 2);
  /* Every broadcast ran at the top level. */
  g_assert_cmpuint (gc_room_get_max_walk_depth (room), ==, 1);
  /* The room goes on. */
  gc_test_client_sync (reader);
  g_assert_cmpuint (gc_test_client_count_queued (reader, GC_EVENT_LEAVE), ==, 0);
}

/* History is bounded in bytes: texts of control characters (each
 * escaped to 6 bytes) cannot make a welcome larger than half the
 * slow-reader bound, and the welcome leaves the bound as it was. */
static void
test_history_byte_budget (void)
{
  g_autoptr(TestServer) ts = NULL;
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) joiner = NULL;
  g_autofree char *text = g_strnfill (4096, '\x01');
  GcServerConfig config;
  GcRoom *room;
  gsize budget;
  gsize event_bytes = 0;
  GcWelcome *welcome;

  test_config_init (&config);
  config.max_queued_bytes = 128 * 1024;
  config.history = 100;
  config.rate_burst = 1000;
  config.rate_per_second = 1000;
  budget = config.max_queued_bytes / 2;
  ts = test_server_new (&config);
  a = gc_test_client_join (ts->port, "lobby", "ann");
  room = gc_server_lookup_room (ts->server, "lobby");

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GcTestEvent) echo = NULL;

      gc_test_client_send_message (a, text, NULL);
      echo = gc_test_client_wait_message (a, text);
      event_bytes = strlen (echo->json);
      g_assert_cmpuint (event_bytes, >, 24000);
      g_assert_cmpuint (gc_room_get_history_bytes (room), <=, budget);
    }
  /* Only as many as fit, the newest. */
  g_assert_cmpuint (gc_room_get_n_history (room), ==, budget / event_bytes);

  joiner = gc_test_client_join (ts->port, "lobby", "joiner");
  welcome = joiner->welcome->event->welcome;
  g_assert_cmpuint (welcome->history->len, ==, gc_room_get_n_history (room));
  g_assert_cmpstr (((GcMessage *) g_ptr_array_index (welcome->history, 0))->text, ==, text);
  g_assert_cmpuint (strlen (joiner->welcome->json), <, budget + 4096);
  g_assert_cmpuint (gc_ws_connection_get_max_queued_bytes (gc_room_get_member_connection (room, "joiner")),
                    ==, config.max_queued_bytes);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server/refusal/not-found", test_refusal_not_found);
  g_test_add_func ("/server/refusal/upgrade-required", test_refusal_upgrade_required);
  g_test_add_func ("/server/refusal/bad-handshake", test_refusal_bad_handshake);
  g_test_add_func ("/server/refusal/parameters", test_refusal_parameters);
  g_test_add_func ("/server/refusal/name-taken", test_refusal_name_taken);
  g_test_add_func ("/server/refusal/name-casefold", test_refusal_name_casefold);
  g_test_add_func ("/server/refusal/room-full", test_refusal_room_full);
  g_test_add_func ("/server/refusal/origin", test_refusal_origin);
  g_test_add_func ("/server/refusal/rate-limited", test_refusal_rate_limited);
  g_test_add_func ("/server/refusal/server-full", test_refusal_server_full);
  g_test_add_func ("/server/refusal/server-full-upgrades", test_refusal_server_full_upgrades);
  g_test_add_func ("/server/refusal/order", test_refusal_order);
  g_test_add_func ("/server/join/room-case", test_join_room_case);
  g_test_add_func ("/server/join/name-forms", test_join_name_forms);
  g_test_add_func ("/server/join/welcome", test_join_welcome);
  g_test_add_func ("/server/chat/delivery", test_chat_delivery);
  g_test_add_func ("/server/chat/forged-fields", test_chat_forged_fields);
  g_test_add_func ("/server/chat/join-leave", test_chat_join_leave);
  g_test_add_func ("/server/chat/rename", test_chat_rename);
  g_test_add_func ("/server/chat/typing", test_chat_typing);
  g_test_add_func ("/server/chat/errors", test_chat_errors);
  g_test_add_func ("/server/chat/binary", test_chat_binary);
  g_test_add_func ("/server/chat/oversized", test_chat_oversized);
  g_test_add_func ("/server/chat/invalid-utf8", test_chat_invalid_utf8);
  g_test_add_func ("/server/ws/handshake-headers", test_ws_handshake_headers);
  g_test_add_func ("/server/ws/close-handshake", test_ws_close_handshake);
  g_test_add_func ("/server/ws/fragmented", test_ws_fragmented);
  g_test_add_func ("/server/ws/protocol-error", test_ws_protocol_error);
  g_test_add_func ("/server/rate/limit", test_rate_limit);
  g_test_add_func ("/server/rate/flood", test_rate_flood);
  g_test_add_func ("/server/rate/violations-decay", test_rate_violations_decay);
  g_test_add_func ("/server/history/last-n-and-since", test_history);
  g_test_add_func ("/server/history/off", test_history_off);
  g_test_add_func ("/server/history/dropped-with-room", test_history_dropped_with_room);
  g_test_add_func ("/server/resume/within-window", test_resume_within_window);
  g_test_add_func ("/server/resume/timeout", test_resume_timeout);
  g_test_add_func ("/server/resume/wrong-name-or-room", test_resume_wrong_name_or_room);
  g_test_add_func ("/server/resume/half-open", test_resume_half_open);
  g_test_add_func ("/server/resume/waiting-member-counts", test_resume_waiting_member_counts);
  g_test_add_func ("/server/slow/reader", test_slow_reader);
  g_test_add_func ("/server/slow/many-readers", test_slow_readers_many);
  g_test_add_func ("/server/resume/member-left-during-upgrade", test_resume_member_left_during_upgrade);
  g_test_add_func ("/server/history/byte-budget", test_history_byte_budget);
  g_test_add_func ("/server/keepalive/ping", test_keepalive);
  g_test_add_func ("/server/keepalive/idle-timeout", test_idle_timeout);
  g_test_add_func ("/server/http/healthz", test_http_healthz);
  g_test_add_func ("/server/http/metrics", test_http_metrics);
  g_test_add_func ("/server/room/disposal", test_room_disposal);
  g_test_add_func ("/server/scale/200-clients-20-rooms", test_many_rooms);
  g_test_add_func ("/server/scale/order-per-room", test_many_rooms_order);
  g_test_add_func ("/server/abuse/abandoned-handshakes", test_abuse_abandoned_handshakes);
  g_test_add_func ("/server/abuse/stalled-tls-handshakes", test_abuse_stalled_tls_handshakes);
  g_test_add_func ("/server/abuse/huge-headers", test_abuse_huge_headers);
  g_test_add_func ("/server/abuse/endless-headers", test_abuse_endless_headers);
  g_test_add_func ("/server/abuse/bad-frames-other-room", test_abuse_bad_frames_other_room);
  g_test_add_func ("/server/abuse/flood-fairness", test_abuse_flood_fairness);
  g_test_add_func ("/server/shutdown/graceful", test_shutdown);

  return g_test_run ();
}
