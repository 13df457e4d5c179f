/* test-server-wire.c: what the server makes of look-alike names and of messages that are not one JSON value
 *
 * Issue 14.7 and 14.9, end to end: docs/protocol.md §2.3 (one JSON value
 * per message) and §3.4 (names of one script, without format
 * characters), through a real server and real clients.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-test-server.h"

/* "victim" and its look-alikes. */
#define VICTIM               "victim"
#define VICTIM_CYRILLIC_I    "v\xd1\x96" "ctim"            /* U+0456 */
#define VICTIM_ZWJ           "victim\xe2\x80\x8d"          /* U+200D */
#define VICTIM_RLO           "\xe2\x80\xae" "mitciv"       /* U+202E */
#define VICTIM_GREEK_IOTA    "v\xce\xb9" "ctim"            /* U+03B9 */

static void
test_look_alike_joins (GcTestServer  *ts,
                       gconstpointer  test_data)
{
  const char *look_alikes[] = {
    VICTIM_CYRILLIC_I, VICTIM_ZWJ, VICTIM_RLO, VICTIM_GREEK_IOTA,
  };
  g_autoptr(GcTestClient) victim = gc_test_client_join (ts->port, "lobby", VICTIM);
  /* 山田たろう: Han and Hiragana are one writing system. */
  g_autoptr(GcTestClient) yamada =
    gc_test_client_join (ts->port, "lobby",
                         "\xe5\xb1\xb1\xe7\x94\xb0\xe3\x81\x9f\xe3\x82\x8d\xe3\x81\x86");

  for (guint i = 0; i < G_N_ELEMENTS (look_alikes); i++)
    {
      g_autoptr(GcTestClient) spoof = gc_test_client_start_join (ts->port, "lobby",
                                                                 look_alikes[i], NULL);
      g_autofree char *escaped = g_strescape (look_alikes[i], NULL);

      g_test_message ("join as %s", escaped);
      gc_test_client_assert_refused (spoof, 400, "invalid_user_name");
    }

  /* Nobody else got in; the two members see only each other. */
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 2);
  gc_test_client_sync (victim);
  g_assert_cmpuint (gc_test_client_count_queued (victim, GC_EVENT_JOIN), <=, 1);
}

static void
test_look_alike_rename (GcTestServer  *ts,
                        gconstpointer  test_data)
{
  g_autoptr(GcTestClient) victim = gc_test_client_join (ts->port, "lobby", VICTIM);
  g_autoptr(GcTestClient) mallory = gc_test_client_join (ts->port, "lobby", "mallory");
  g_autoptr(GcTestEvent) refused = NULL;

  /* v\u0456ctim: the Cyrillic i as a JSON escape. */
  gc_test_client_send_text (mallory, "{\"type\":\"rename\",\"name\":\"v\\u0456ctim\","
                                     "\"client_id\":\"r1\"}");
  refused = gc_test_client_wait_error (mallory, "invalid_user_name");
  g_assert_cmpstr (refused->event->error.ref, ==, "r1");

  /* Nobody was renamed. */
  gc_test_client_sync (victim);
  g_assert_cmpuint (gc_test_client_count_queued (victim, GC_EVENT_RENAME), ==, 0);
}

/* `{..}{..}` and `{..}[1]`: json-glib read the first value and dropped the
 * rest, so the server used to act on half a message. */
static void
test_two_values (GcTestServer  *ts,
                 gconstpointer  test_data)
{
  const char *messages[] = {
    "{\"type\":\"message\",\"text\":\"first\",\"client_id\":\"t1\"}"
    "{\"type\":\"message\",\"text\":\"second\"}",
    "{\"type\":\"message\",\"text\":\"first\",\"client_id\":\"t1\"}[1]",
    "{\"type\":\"typing\",\"active\":true}{\"type\":\"typing\",\"active\":false}",
  };
  g_autoptr(GcTestClient) ann = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) bob = gc_test_client_join (ts->port, "lobby", "bob");

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autoptr(GcTestEvent) refused = NULL;

      g_test_message ("send %s", messages[i]);
      gc_test_client_send_text (ann, messages[i]);
      refused = gc_test_client_wait_error (ann, "bad_request");
      g_assert_nonnull (refused);
    }

  /* None of it reached anyone: bob sees neither message nor typing
   * before ann's next message. */
  gc_test_client_send_message (ann, "after", NULL);
  {
    g_autoptr(GcTestEvent) after = gc_test_client_wait_message (bob, "after");

    g_assert_nonnull (after);
  }
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_MESSAGE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (bob, GC_EVENT_TYPING), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_server ("/server/wire/look-alike-joins", NULL, test_look_alike_joins);
  gc_test_add_server ("/server/wire/look-alike-rename", NULL, test_look_alike_rename);
  gc_test_add_server ("/server/wire/two-values", NULL, test_two_values);

  return gc_test_run ();
}
