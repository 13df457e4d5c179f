/* test-server-refusals.c: what the server refuses before a member joins (docs/protocol.md §3)
 *
 * Each test runs its own GcServer (tests/lib/gc-test-server.h) and sends
 * it real requests over loopback: raw HTTP (gc-test-http.h) to see
 * status, headers and body exactly, and protocol clients
 * (gc-test-client.h) to see what a client is told.
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
/* HTTP refusals (§3.6)                                                 */
/* ------------------------------------------------------------------ */

static void
test_refusal_not_found (GcTestServer  *ts,
                        gconstpointer  test_data)
{
  const char *paths[] = {
    "/", "/join", "/joinRoomX?room_code=a&user_name=b", "/joinRoom/x?room_code=a&user_name=b",
    "/JOINROOM?room_code=a&user_name=b", "/healthzz",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GcTestHttpResponse) with_upgrade = gc_test_http_upgrade (ts->port, paths[i], NULL, NULL);
      g_autoptr(GcTestHttpResponse) plain = gc_test_http_get ("127.0.0.1", ts->port, NULL,
                                                              paths[i]);

      g_test_message ("path %s", paths[i]);
      gc_test_http_assert_refusal (with_upgrade, 404, "not_found");
      gc_test_http_assert_refusal (plain, 404, "not_found");
    }
}

static void
test_refusal_upgrade_required (GcTestServer  *ts,
                               gconstpointer  test_data)
{
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
test_refusal_bad_handshake (GcTestServer  *ts,
                            gconstpointer  test_data)
{
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

  /* §3.1: an unsupported version gets 400 bad_request or 426, and the
   * version we speak. */
  bad_version = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=ann", "8", NULL);
  if (bad_version->status == 426)
    gc_test_http_assert_refusal (bad_version, 426, "upgrade_required");
  else
    gc_test_http_assert_refusal (bad_version, 400, "bad_request");
  version_header = soup_message_headers_get_one (bad_version->headers, "Sec-WebSocket-Version");
  g_assert_cmpstr (version_header, ==, "13");

  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
}

static void
test_refusal_parameters (GcTestServer  *ts,
                         gconstpointer  test_data)
{
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

      gc_test_assert_upgrade_refused (ts->port, path, 400, cases[i].code);
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
        g_autoptr(GcTestHttpResponse) response = gc_test_http_upgrade (ts->port, malformed[i], NULL, NULL);

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
  gc_test_assert_upgrade_accepted (ts->port,
                           "/joinRoom?room_code=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                           "&user_name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  gc_test_assert_upgrade_accepted (ts->port, "/joinRoom?room_code=A-z_09&user_name=ann&since=0");
  /* Keys are form-decoded too; empty pairs and unknown keys, even ones
   * that do not decode, are ignored. */
  gc_test_assert_upgrade_accepted (ts->port, "/joinRoom?room%5Fcode=keys&user%5fname=ann");
  gc_test_assert_upgrade_accepted (ts->port, "/joinRoom?&&x=%00&room_code=keys&y%00=1&user_name=bob&");
  /* + is a space, so this name is trimmed to "cy"; %2B is a plus. */
  gc_test_assert_upgrade_accepted (ts->port, "/joinRoom?room_code=keys&user_name=+cy+");
  gc_test_assert_upgrade_accepted (ts->port, "/joinRoom?room_code=keys&user_name=a%2Bb");
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
test_refusal_name_taken (GcTestServer  *ts,
                         gconstpointer  test_data)
{
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
  /* §3.4: the requested name with a number appended. */
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
test_refusal_name_casefold (GcTestServer  *ts,
                            gconstpointer  test_data)
{
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
configure_refusal_room_full (GcServerConfig *config)
{
  config->room_max_members = 2;
}

static void
test_refusal_room_full (GcTestServer  *ts,
                        gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) elsewhere = NULL;
  g_autoptr(GcTestClient) c2 = NULL;

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

/* The one Origin the origin tests allow. */
static const char * const allowed[] = { "https://chat.example", NULL };

static void
configure_refusal_origin (GcServerConfig *config)
{
  config->allowed_origins = allowed;
}

static void
test_refusal_origin (GcTestServer  *ts,
                     gconstpointer  test_data)
{
  g_autoptr(GcTestServer) open_server = gc_test_server_new (NULL);

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

    response = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=mallory", NULL,
                        "Origin: https://evil.example\r\n");
    gc_test_http_assert_refusal (response, 403, "origin_not_allowed");
  }
}

static void
configure_refusal_rate_limited (GcServerConfig *config)
{
  config->join_burst = 2;
  config->join_per_second = 1;
}

static void
test_refusal_rate_limited (GcTestServer  *ts,
                           gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) d = NULL;
  g_autoptr(GcTestHttpResponse) response = NULL;
  const char *retry_after;
  gint64 retry_after_ms;
  JsonObject *refusal;

  a = gc_test_client_join (ts->port, "lobby", "a");
  b = gc_test_client_join (ts->port, "lobby", "b");

  response = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=c", NULL, NULL);
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
  gc_test_run_for_ms (retry_after_ms + 50);  /* time is the stimulus */
  d = gc_test_client_join (ts->port, "lobby", "d");
}

static void
configure_refusal_server_full (GcServerConfig *config)
{
  config->max_connections = 2;
}

static void
test_refusal_server_full (GcTestServer  *ts,
                          gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) c2 = NULL;
  g_autoptr(GcTestHttpResponse) healthz = NULL;

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

/* §3.7: when several refusals apply, the first of 404 → 426 → 400 handshake
 * → 403 origin → 429 → 503 → 400 parameters → 403 room full → 409 wins. */
static void
test_refusal_order (void)
{
  const char *evil = "Origin: https://evil.example\r\n";

  /* 404 over 426 and over everything about the query. */
  {
    g_autoptr(GcTestServer) ts = gc_test_server_new (NULL);
    g_autoptr(GcTestHttpResponse) r1 = gc_test_http_get ("127.0.0.1", ts->port, NULL,
                                                         "/nowhere?room_code=bad!");
    g_autoptr(GcTestHttpResponse) r2 = NULL;
    g_autoptr(GcTestHttpResponse) r3 = NULL;

    gc_test_http_assert_refusal (r1, 404, "not_found");

    /* 426 over bad parameters. */
    r2 = gc_test_http_get ("127.0.0.1", ts->port, NULL, "/joinRoom?room_code=bad%21");
    gc_test_http_assert_refusal (r2, 426, "upgrade_required");

    /* 400 bad handshake over bad parameters: bad_request, not the field's code. */
    r3 = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=bad%21&user_name=", "8", NULL);
    g_assert_true (r3->status == 400 || r3->status == 426);
    gc_test_http_assert_refusal (r3, r3->status, r3->status == 400 ? "bad_request"
                                                                   : "upgrade_required");
  }

  /* 400 bad handshake over 403 origin; 403 origin over 400 parameters. */
  {
    g_autoptr(GcTestServer) ts = NULL;
    g_autoptr(GcTestHttpResponse) r1 = NULL;
    g_autoptr(GcTestHttpResponse) r2 = NULL;
    GcServerConfig config;

    gc_test_server_config_init (&config);
    config.allowed_origins = allowed;
    ts = gc_test_server_new (&config);

    r1 = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=ann", "8", evil);
    g_assert_true (r1->status == 400 || r1->status == 426);
    r2 = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=bad%21&user_name=ann", NULL, evil);
    gc_test_http_assert_refusal (r2, 403, "origin_not_allowed");
  }

  /* 403 origin over 429; 429 over 503 and over bad parameters. */
  {
    g_autoptr(GcTestServer) ts = NULL;
    g_autoptr(GcTestClient) a = NULL;
    g_autoptr(GcTestHttpResponse) r1 = NULL;
    g_autoptr(GcTestHttpResponse) r2 = NULL;
    g_autoptr(GcTestHttpResponse) r3 = NULL;
    GcServerConfig config;

    gc_test_server_config_init (&config);
    config.allowed_origins = allowed;
    config.join_burst = 1;
    config.join_per_second = 0.1;
    config.max_connections = 1;
    ts = gc_test_server_new (&config);

    a = gc_test_client_join (ts->port, "lobby", "a");
    /* The server is full (one connection), so every refusal is an HTTP one
     * (docs/protocol.md §3.6: an upgrade would cost what the limit protects). */
    r1 = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=b", NULL, evil);
    gc_test_http_assert_http_refusal (r1, 403, "origin_not_allowed");
    /* 429 comes before 503. */
    r2 = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=lobby&user_name=b", NULL, NULL);
    gc_test_http_assert_http_refusal (r2, 429, "rate_limited");
    r3 = gc_test_http_upgrade (ts->port, "/joinRoom?room_code=bad%21&user_name=b", NULL, NULL);
    gc_test_http_assert_http_refusal (r3, 429, "rate_limited");
  }

  /* 503 over bad parameters, over room full and over 409. */
  {
    g_autoptr(GcTestServer) ts = NULL;
    g_autoptr(GcTestClient) a = NULL;
    GcServerConfig config;

    gc_test_server_config_init (&config);
    config.max_connections = 1;
    config.room_max_members = 1;
    ts = gc_test_server_new (&config);

    a = gc_test_client_join (ts->port, "lobby", "a");
    gc_test_assert_upgrade_refused (ts->port, "/joinRoom?room_code=bad%21&user_name=b", 503, "server_full");
    gc_test_assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=b", 503, "server_full");
    gc_test_assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=a", 503, "server_full");
  }

  /* 400 parameters over room full; room full over 409. */
  {
    g_autoptr(GcTestServer) ts = NULL;
    g_autoptr(GcTestClient) a = NULL;
    GcServerConfig config;

    gc_test_server_config_init (&config);
    config.room_max_members = 1;
    ts = gc_test_server_new (&config);

    a = gc_test_client_join (ts->port, "lobby", "a");
    gc_test_assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=", 400,
                            "invalid_user_name");
    gc_test_assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=b&since=x", 400,
                            "bad_request");
    gc_test_assert_upgrade_refused (ts->port, "/joinRoom?room_code=lobby&user_name=A", 403, "room_full");
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_server ("/server/refusal/not-found", NULL, test_refusal_not_found);
  gc_test_add_server ("/server/refusal/upgrade-required", NULL, test_refusal_upgrade_required);
  gc_test_add_server ("/server/refusal/bad-handshake", NULL, test_refusal_bad_handshake);
  gc_test_add_server ("/server/refusal/parameters", NULL, test_refusal_parameters);
  gc_test_add_server ("/server/refusal/name-taken", NULL, test_refusal_name_taken);
  gc_test_add_server ("/server/refusal/name-casefold", NULL, test_refusal_name_casefold);
  gc_test_add_server ("/server/refusal/room-full", configure_refusal_room_full,
                      test_refusal_room_full);
  gc_test_add_server ("/server/refusal/origin", configure_refusal_origin, test_refusal_origin);
  gc_test_add_server ("/server/refusal/rate-limited", configure_refusal_rate_limited,
                      test_refusal_rate_limited);
  gc_test_add_server ("/server/refusal/server-full", configure_refusal_server_full,
                      test_refusal_server_full);
  g_test_add_func ("/server/refusal/order", test_refusal_order);

  return gc_test_run ();
}
