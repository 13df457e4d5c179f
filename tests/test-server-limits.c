/* test-server-limits.c: rate limits, slow readers, keepalive and the idle timeout (docs/protocol.md §6.3–§6.5)
 *
 * Each test runs on its own GcServer (a gc_test_add_server() fixture).
 * Time-based rules use timers of 1–3 s; every wait is a condition with a
 * deadline, and only token buckets refilling are waited for by time.
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
/* Rate limit (§6.4)                                                    */
/* ------------------------------------------------------------------ */

static void
configure_rate_limit (GcServerConfig *config)
{
  config->rate_burst = 3;
  config->rate_per_second = 4;
}

static void
test_rate_limit (GcTestServer  *ts,
                 gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestEvent) error = NULL;
  g_autoptr(GcTestEvent) error2 = NULL;
  g_autofree char *typing = gc_request_build_typing (TRUE);
  guint64 retry_after_ms;

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
  gc_test_run_for_ms (retry_after_ms + 20);  /* time is the stimulus */
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
  gc_test_run_for_ms (1000);  /* time is the stimulus: refill to the full burst */
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
configure_rate_flood (GcServerConfig *config)
{
  config->rate_burst = 3;
  config->rate_per_second = 1;
}

static void
test_rate_flood (GcTestServer  *ts,
                 gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  guint n_errors;
  guint n_delivered = 0;

  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");

  for (guint i = 0; i < 30; i++)
    gc_test_client_send_message (a, "flood", NULL);

  g_assert_cmpuint (gc_test_client_wait_closed (a), ==, 1008);
  leave = gc_test_client_wait_leave (b, gc_test_client_get_you (a), "flood");

  /* §6.4: refusals count as violations, and the one that exceeds
   * rate_burst closes: rate_burst refusals came first. Only the burst
   * was broadcast. */
  n_errors = gc_test_client_count_queued (a, GC_EVENT_ERROR);
  g_assert_cmpuint (n_errors, ==, ts->config.rate_burst);
  while (gc_test_client_count_queued (b, GC_EVENT_MESSAGE) > 0)
    {
      g_autoptr(GcTestEvent) event = gc_test_client_wait_event (b, GC_EVENT_MESSAGE);

      n_delivered++;
    }
  g_assert_cmpuint (n_delivered, ==, 3);
}

static void
configure_rate_violations_decay (GcServerConfig *config)
{
  config->rate_burst = 3;
  config->rate_per_second = 2;
}

/* §6.4: violations decay at rate_per_s, so a client that is refused now
 * and then is not taken for a flooder. */
static void
test_rate_violations_decay (GcTestServer  *ts,
                            gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  guint n_refused;

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
  gc_test_run_for_ms (1100);  /* time is the stimulus: decay and refill */
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
/* Slow readers, keepalive, idle timeout (§6.3, §6.5)                   */
/* ------------------------------------------------------------------ */

static void
configure_slow_reader (GcServerConfig *config)
{
  config->max_queued_bytes = 256 * 1024;
  config->max_text_bytes = 16000;
  config->rate_burst = 100000;
  config->rate_per_second = 100000;
  config->history = 0;
}

static void
test_slow_reader (GcTestServer  *ts,
                  gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestRawClient) slow = NULL;
  g_autoptr(GcUser) slow_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autofree char *text = NULL;
  guint n_sent = 0;
  guint n_received = 0;
  guint64 last_id = 0;
  gboolean slow_gone = FALSE;

  a = gc_test_client_join (ts->port, "lobby", "ann");
  b = gc_test_client_join (ts->port, "lobby", "bob");
  {
    g_autoptr(GcUser) bob_joined = gc_test_client_wait_join_user (a);
  }
  slow = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=slow",
                                     FALSE, 4096);
  slow_user = gc_test_client_wait_join_user (a);
  {
    g_autoptr(GcUser) seen_by_b = gc_test_client_wait_join_user (b);
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
configure_keepalive (GcServerConfig *config)
{
  config->keepalive_seconds = 1;
  config->idle_timeout_seconds = 2;
  config->resume_seconds = 1;
}

static void
test_keepalive (GcTestServer  *ts,
                gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  gint64 joined_us;
  gint64 first_ping_us;

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
configure_idle_timeout (GcServerConfig *config)
{
  config->keepalive_seconds = 1;
  config->idle_timeout_seconds = 2;
  config->resume_seconds = 1;
}

static void
test_idle_timeout (GcTestServer  *ts,
                   gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestRawClient) mute = NULL;
  g_autoptr(GcUser) mute_user = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  gint64 joined_us;

  a = gc_test_client_join (ts->port, "lobby", "ann");

  /* Reads everything, answers nothing. */
  mute = gc_test_raw_client_connect (ts->port, "/joinRoom?room_code=lobby&user_name=mute",
                                     TRUE, 0);
  joined_us = g_get_monotonic_time ();
  mute_user = gc_test_client_wait_join_user (a);

  gc_test_wait (mute->eof);
  g_assert_cmpuint (mute->n_pings, >=, 1);
  g_assert_cmpint (g_get_monotonic_time () - joined_us, >=, 1900 * 1000);

  /* A drop without close frame: leave timeout after the resume window. */
  leave = gc_test_client_wait_leave (a, mute_user, "timeout");
  g_assert_cmpint (leave->received_us - joined_us, >=, 2900 * 1000);
  g_assert_false (a->closed);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_server ("/server/rate/limit", configure_rate_limit, test_rate_limit);
  gc_test_add_server ("/server/rate/flood", configure_rate_flood, test_rate_flood);
  gc_test_add_server ("/server/rate/violations-decay", configure_rate_violations_decay,
                      test_rate_violations_decay);
  gc_test_add_server ("/server/slow/reader", configure_slow_reader, test_slow_reader);
  gc_test_add_server ("/server/keepalive/ping", configure_keepalive, test_keepalive);
  gc_test_add_server ("/server/keepalive/idle-timeout", configure_idle_timeout, test_idle_timeout);

  return gc_test_run ();
}
