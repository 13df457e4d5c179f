/* test-server-resume.c: history, and resuming a membership after a dropped connection (docs/protocol.md §6.1, §6.2)
 *
 * What a (re)joining member is sent of the room's past, and how a member
 * whose connection dropped takes its place back. Each test runs on its own
 * GcServer (a gc_test_add_server() fixture) with resume windows of 1–5 s;
 * every wait is a condition with a deadline.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "gc-server.h"
#include "gc-server-private.h"
#include "gc-test-server.h"

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
configure_history (GcServerConfig *config)
{
  config->history = 3;
}

static void
test_history (GcTestServer  *ts,
              gconstpointer  test_data)
{
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

  a = gc_test_client_join (ts->port, "lobby", "ann");
  sent = gc_test_client_send_messages (a, "h", 5);
  /* Other events are not history. */
  gc_test_client_send_text (a, typing);
  gc_test_client_send_text (a, "{\"type\":\"rename\",\"name\":\"anna\"}");
  renamed = gc_test_client_wait_event (a, GC_EVENT_RENAME);

  /* The last 3 messages, oldest first. */
  all = gc_test_client_join (ts->port, "lobby", "all");
  assert_history (all, sent, 2);
  /* With --redis the history is the room's stream in Redis (§6.7). */
  if (!gc_test_server_redis_mode ())
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
configure_history_off (GcServerConfig *config)
{
  config->history = 0;
}

static void
test_history_off (GcTestServer  *ts,
                  gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GPtrArray) sent = NULL;

  a = gc_test_client_join (ts->port, "lobby", "ann");
  sent = gc_test_client_send_messages (a, "h", 3);
  b = gc_test_client_join (ts->port, "lobby", "bob");
  g_assert_cmpuint (b->welcome->event->welcome->history->len, ==, 0);
  g_assert_cmpuint (gc_room_get_n_history (gc_server_lookup_room (ts->server, "lobby")), ==, 0);
}

static void
test_history_dropped_with_room (GcTestServer  *ts,
                                gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) again = NULL;
  g_autoptr(GPtrArray) sent = NULL;
  GcRoom *room;

  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");
  sent = gc_test_client_send_messages (a, "h", 3);
  room = gc_server_lookup_room (ts->server, "lobby");

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
/* Resume (§6.2)                                                        */
/* ------------------------------------------------------------------ */

static void
configure_resume_within_window (GcServerConfig *config)
{
  config->resume_seconds = 3;
}

static void
test_resume_within_window (GcTestServer  *ts,
                           gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcTestClient) b3 = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) missed = NULL;
  g_autofree char *token = NULL;
  g_autoptr(GcUser) bob = NULL;
  g_autoptr(GcUser) joined = NULL;
  GcWelcome *welcome;
  guint64 last_seen;

  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");
  token = g_strdup (b->welcome->event->welcome->session_id);
  bob = gc_user_copy (gc_test_client_get_you (b));
  joined = gc_test_client_wait_join_user (a);
  gc_test_assert_same_user (joined, bob);

  before = gc_test_client_send_messages (a, "before", 2);
  {
    g_autoptr(GcTestEvent) seen = gc_test_client_wait_message (b, "before-1");

    last_seen = seen->event->message->id;
  }

  /* Dropped without a close frame. */
  gc_test_client_abort (b);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);
  missed = gc_test_client_send_messages (a, "missed", 2);
  /* Still a member: the room counts it, its name is taken. */
  g_assert_cmpuint (gc_room_get_n_members (gc_server_lookup_room (ts->server, "lobby")), ==, 2);
  {
    g_autoptr(GcTestClient) usurper = gc_test_client_start_join (ts->port, "lobby", "bob", NULL);

    gc_test_client_assert_refused (usurper, 409, "name_taken");
  }

  b2 = gc_test_client_resume (ts->port, "lobby", "bob", token, last_seen);
  welcome = b2->welcome->event->welcome;
  g_assert_true (welcome->resumed);
  gc_test_assert_same_user (welcome->you, bob);
  g_assert_cmpuint (welcome->members->len, ==, 2);
  g_assert_true (gc_test_members_contain (welcome->members, gc_test_client_get_you (a)));
  /* Exactly what was missed. */
  assert_history (b2, missed, 0);

  /* No leave, no join: ann sees bob's next message with nothing between. */
  gc_test_client_send_message (b2, "back", NULL);
  {
    g_autoptr(GcTestEvent) back = gc_test_client_wait_message (a, "back");

    gc_test_assert_message (back, bob, "back", NULL);
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_LEAVE), ==, 0);
    g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_JOIN), ==, 0);
  }

  /* Resume without since: all retained history, as for a fresh join. A
   * fresh token (if the server rotates it) or the old one both work. */
  gc_test_client_abort (b2);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);
  b3 = gc_test_client_resume (ts->port, "LOBBY", " bob ", welcome->session_id, -1);
  g_assert_true (b3->welcome->event->welcome->resumed);
  gc_test_assert_same_user (b3->welcome->event->welcome->you, bob);
  g_assert_cmpuint (b3->welcome->event->welcome->history->len, ==, 5);

  gc_test_client_sync (b3);
  gc_test_client_sync (a);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_JOIN), ==, 0);
}

static void
configure_resume_timeout (GcServerConfig *config)
{
  config->resume_seconds = 1;
}

static void
test_resume_timeout (GcTestServer  *ts,
                     gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) c2 = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autoptr(GcUser) cy = NULL;
  g_autofree char *token = NULL;
  gint64 dropped_us;

  a = gc_test_client_join (ts->port, "lobby", "ann");
  c = gc_test_client_join (ts->port, "lobby", "cy");
  cy = gc_user_copy (gc_test_client_get_you (c));
  token = g_strdup (c->welcome->event->welcome->session_id);
  {
    g_autoptr(GcUser) joined = gc_test_client_wait_join_user (a);

    gc_test_assert_same_user (joined, cy);
  }

  gc_test_client_abort (c);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);
  dropped_us = g_get_monotonic_time ();
  leave = gc_test_client_wait_leave (a, cy, "timeout");
  /* Not before the window ran out. */
  g_assert_cmpint (leave->received_us - dropped_us, >=, 900 * 1000);

  /* The token died with the member: a fresh join. */
  c2 = gc_test_client_resume (ts->port, "lobby", "cy", token, -1);
  g_assert_false (c2->welcome->event->welcome->resumed);
  g_assert_cmpstr (gc_test_client_get_you (c2)->id, !=, cy->id);
  {
    g_autoptr(GcUser) joined = gc_test_client_wait_join_user (a);

    gc_test_assert_same_user (joined, gc_test_client_get_you (c2));
  }
}

static void
configure_resume_wrong_name_or_room (GcServerConfig *config)
{
  config->resume_seconds = 5;
}

static void
test_resume_wrong_name_or_room (GcTestServer  *ts,
                                gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) other_name = NULL;
  g_autoptr(GcTestClient) other_room = NULL;
  g_autoptr(GcTestClient) wrong_token = NULL;
  g_autoptr(GcTestClient) garbage_token = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autofree char *token = NULL;
  g_autoptr(GcUser) bob = NULL;

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
  gc_test_assert_same_user (gc_test_client_get_you (b2), bob);
}

static void
test_resume_half_open (GcTestServer  *ts,
                       gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcUser) joined = gc_test_client_wait_join_user (a);
  GcWelcome *welcome;

  /* The old connection still looks open to the server. */
  b2 = gc_test_client_resume (ts->port, "lobby", "bob", b->welcome->event->welcome->session_id,
                              -1);
  welcome = b2->welcome->event->welcome;
  g_assert_true (welcome->resumed);
  gc_test_assert_same_user (welcome->you, gc_test_client_get_you (b));
  g_assert_cmpuint (welcome->members->len, ==, 2);
  g_assert_cmpuint (gc_test_client_wait_closed (b), ==, 4000);

  gc_test_client_send_message (b2, "replaced", NULL);
  {
    g_autoptr(GcTestEvent) replaced = gc_test_client_wait_message (a, "replaced");

    gc_test_assert_message (replaced, gc_test_client_get_you (b), "replaced", NULL);
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
test_resume_member_left_during_upgrade (GcTestServer  *ts,
                                        gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = gc_test_client_join (ts->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (ts->port, "lobby", "bob");
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcUser) joined = gc_test_client_wait_join_user (a);
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

  leave_event = gc_test_client_wait_leave (a, joined, "left");
  g_assert_cmpuint (gc_room_get_n_members (leave.room), ==, 1);
}

static void
configure_resume_waiting_member_counts (GcServerConfig *config)
{
  config->resume_seconds = 5;
  config->room_max_members = 2;
}

static void
test_resume_waiting_member_counts (GcTestServer  *ts,
                                   gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) c = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GcTestHttpResponse) healthz = NULL;
  g_autofree char *token = NULL;

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
  /* §8.1: /healthz counts the waiting member as a connection too. */
  g_assert_cmpint (json_object_get_int_member (healthz->json, "connections"), ==, 2);
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 2);

  /* ...and may take it back even though the room is full. */
  b2 = gc_test_client_resume (ts->port, "lobby", "bob", token, -1);
  g_assert_true (b2->welcome->event->welcome->resumed);

  /* A waiting member's name is taken for renames and suggestions too. */
  {
    g_autoptr(GcTestServer) ts2 = gc_test_server_new (NULL);
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

static void
configure_history_byte_budget (GcServerConfig *config)
{
  config->max_queued_bytes = 128 * 1024;
  config->history = 100;
  config->rate_burst = 1000;
  config->rate_per_second = 1000;
}

/* History is bounded in bytes: texts of control characters (each
 * escaped to 6 bytes) cannot make a welcome larger than half the
 * slow-reader bound, and the welcome leaves the bound as it was. */
static void
test_history_byte_budget (GcTestServer  *ts,
                          gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) joiner = NULL;
  g_autofree char *text = g_strnfill (4096, '\x01');
  GcRoom *room;
  gsize budget;
  gsize event_bytes = 0;
  GcWelcome *welcome;

  budget = ts->config.max_queued_bytes / 2;
  a = gc_test_client_join (ts->port, "lobby", "ann");
  room = gc_server_lookup_room (ts->server, "lobby");

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(GcTestEvent) echo = NULL;

      gc_test_client_send_message (a, text, NULL);
      echo = gc_test_client_wait_message (a, text);
      event_bytes = strlen (echo->json);
      g_assert_cmpuint (event_bytes, >, 24000);
      /* With --redis the history is the room's stream in Redis (§6.7),
       * trimmed to the budget when a welcome is built. */
      if (!gc_test_server_redis_mode ())
        g_assert_cmpuint (gc_room_get_history_bytes (room), <=, budget);
    }
  /* Only as many as fit, the newest. */
  if (!gc_test_server_redis_mode ())
    g_assert_cmpuint (gc_room_get_n_history (room), ==, budget / event_bytes);

  joiner = gc_test_client_join (ts->port, "lobby", "joiner");
  welcome = joiner->welcome->event->welcome;
  g_assert_cmpuint (welcome->history->len, ==, budget / event_bytes);
  g_assert_cmpstr (((GcMessage *) g_ptr_array_index (welcome->history, 0))->text, ==, text);
  g_assert_cmpuint (strlen (joiner->welcome->json), <, budget + 4096);
  /* A --redis room keys its members by user id, not by name: there the
   * connection cannot be looked up by name. */
  if (!gc_test_server_redis_mode ())
    g_assert_cmpuint (gc_ws_connection_get_max_queued_bytes (gc_room_get_member_connection (room, "joiner")),
                      ==, ts->config.max_queued_bytes);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_server ("/server/history/last-n-and-since", configure_history, test_history);
  gc_test_add_server ("/server/history/off", configure_history_off, test_history_off);
  gc_test_add_server ("/server/history/dropped-with-room", NULL, test_history_dropped_with_room);
  gc_test_add_server ("/server/resume/within-window", configure_resume_within_window,
                      test_resume_within_window);
  gc_test_add_server ("/server/resume/timeout", configure_resume_timeout, test_resume_timeout);
  gc_test_add_server ("/server/resume/wrong-name-or-room", configure_resume_wrong_name_or_room,
                      test_resume_wrong_name_or_room);
  gc_test_add_server ("/server/resume/half-open", NULL, test_resume_half_open);
  gc_test_add_server ("/server/resume/waiting-member-counts", configure_resume_waiting_member_counts,
                      test_resume_waiting_member_counts);
  gc_test_add_server ("/server/resume/member-left-during-upgrade", NULL,
                      test_resume_member_left_during_upgrade);
  gc_test_add_server ("/server/history/byte-budget", configure_history_byte_budget,
                      test_history_byte_budget);

  return gc_test_run ();
}
