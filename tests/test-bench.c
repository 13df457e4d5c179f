/* test-bench.c: gochat-bench — its pieces, and short runs against gochat-server
 *
 * The histogram, the message markers and the event scanner on their own;
 * then gochat-bench as a real process against a real gochat-server
 * process: every delivery matched (none lost, none duplicated) in closed
 * loop and at a fixed rate, over ws:// and wss://, refusals and refused
 * connections reported clearly, and --hold. Correctness only: no timing
 * is asserted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "gc-bench-histogram.h"
#include "gc-bench-proc.h"
#include "gc-bench-wire.h"
#include "gc-protocol.h"
#include "gc-protocol-private.h"
#include "gc-test-server.h"
#ifdef HAVE_REDIS
# include "gc-test-redis.h"
#endif

/* Runs may take a while under sanitizers. */
#define RUN_TIMEOUT_MS 60000

/* ------------------------------------------------------------------ */
/* Histogram                                                            */
/* ------------------------------------------------------------------ */

static void
test_histogram_small_values (void)
{
  g_autoptr(GcBenchHistogram) histogram = gc_bench_histogram_new ();

  g_assert_cmpuint (gc_bench_histogram_get_percentile (histogram, 50), ==, 0);

  /* 1..100: below 128 every value has its own bucket. */
  for (guint64 v = 1; v <= 100; v++)
    gc_bench_histogram_record (histogram, v);

  g_assert_cmpuint (gc_bench_histogram_get_count (histogram), ==, 100);
  g_assert_cmpuint (gc_bench_histogram_get_percentile (histogram, 50), ==, 50);
  g_assert_cmpuint (gc_bench_histogram_get_percentile (histogram, 99), ==, 99);
  g_assert_cmpuint (gc_bench_histogram_get_percentile (histogram, 100), ==, 100);
  g_assert_cmpuint (gc_bench_histogram_get_percentile (histogram, 0), ==, 1);
  g_assert_cmpuint (gc_bench_histogram_get_max (histogram), ==, 100);
  g_assert_cmpfloat_with_epsilon (gc_bench_histogram_get_mean (histogram), 50.5, 1e-9);
}

static void
test_histogram_precision (void)
{
  g_autoptr(GcBenchHistogram) histogram = gc_bench_histogram_new ();
  guint64 values[] = { 1000, 123456, 7654321, G_GUINT64_CONSTANT (98765432109), G_MAXUINT64 / 3 };

  /* One value at a time: every percentile is that value, within 1/64,
   * never below it and never above the maximum. */
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(GcBenchHistogram) one = gc_bench_histogram_new ();
      guint64 p50;

      gc_bench_histogram_record (one, values[i]);
      p50 = gc_bench_histogram_get_percentile (one, 50);
      g_assert_cmpuint (p50, ==, values[i]);

      gc_bench_histogram_record (histogram, values[i]);
    }

  /* Five samples: p40 is the second smallest, rounded up to its bucket. */
  {
    guint64 p40 = gc_bench_histogram_get_percentile (histogram, 40);

    g_assert_cmpuint (p40, >=, 123456);
    g_assert_cmpuint (p40, <=, 123456 + 123456 / 64);
  }
  g_assert_cmpuint (gc_bench_histogram_get_percentile (histogram, 100), ==, G_MAXUINT64 / 3);
}

/* ------------------------------------------------------------------ */
/* /proc samples                                                        */
/* ------------------------------------------------------------------ */

static double
own_cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static void
test_proc_sample (void)
{
  GcBenchProcSample before;
  GcBenchProcSample after;
  GcBenchProcSample other_threads;
  g_autoptr(GError) error = NULL;
  double start = own_cpu_seconds ();
  double used;
  volatile guint64 spin = 0;

  g_assert_true (gc_bench_proc_sample (getpid (), &before, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (before.rss_kb, >, 0);
  g_assert_cmpuint (before.peak_rss_kb, >=, before.rss_kb);

  /* Burn 50 ms of CPU; the sample must see it, to the millisecond when
   * the threads stayed the same. */
  while (own_cpu_seconds () - start < 0.05)
    spin++;
  g_assert_true (gc_bench_proc_sample (getpid (), &after, &error));
  used = own_cpu_seconds () - start;
  g_assert_cmpfloat (gc_bench_proc_cpu_between (&before, &after), >=, 0.045);
  g_assert_cmpfloat (gc_bench_proc_cpu_between (&before, &after), <=, used + 0.005);

  /* Another set of threads: the whole-process figure from stat. */
  other_threads = after;
  other_threads.thread_sum++;
  g_assert_cmpfloat (gc_bench_proc_cpu_between (&before, &other_threads), ==,
                     after.cpu_seconds - before.cpu_seconds);

  /* A process that does not exist. */
  g_assert_false (gc_bench_proc_sample (G_MAXINT, &after, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* ------------------------------------------------------------------ */
/* Markers, requests, event scanning                                    */
/* ------------------------------------------------------------------ */

static void
test_text_round_trip (void)
{
  GcBenchMarker in = { .client = GC_BENCH_MAX_CLIENTS - 1, .seq = G_MAXUINT32,
                       .sent_ns = (G_GUINT64_CONSTANT (1) << 56) - 1 };
  GcBenchMarker out = { 0 };
  char text[GC_BENCH_MIN_TEXT_SIZE];
  char big[300];

  gc_bench_text_format (text, sizeof text, &in);
  g_assert_true (gc_bench_text_parse (text, sizeof text, &out));
  g_assert_cmpuint (out.client, ==, in.client);
  g_assert_cmpuint (out.seq, ==, in.seq);
  g_assert_cmpuint (out.sent_ns, ==, in.sent_ns);

  /* Padded to the exact size, printable, with no JSON escaping needed. */
  in = (GcBenchMarker) { .client = 3, .seq = 7, .sent_ns = 12345 };
  gc_bench_text_format (big, sizeof big, &in);
  for (gsize i = 0; i < sizeof big; i++)
    g_assert_true (g_ascii_isalnum (big[i]) || big[i] == '.');
  g_assert_true (gc_bench_text_parse (big, sizeof big, &out));
  g_assert_cmpuint (out.client, ==, 3);
  g_assert_cmpuint (out.seq, ==, 7);
  g_assert_cmpuint (out.sent_ns, ==, 12345);

  /* Not ours. */
  g_assert_false (gc_bench_text_parse ("hello, world", 12, &out));
  g_assert_false (gc_bench_text_parse ("3.7.", 4, &out));
  g_assert_false (gc_bench_text_parse ("3.7.12", 6, &out));
  g_assert_false (gc_bench_text_parse ("fffff0.1.1.", 11, &out));
  g_assert_false (gc_bench_text_parse ("", 0, &out));
}

static void
test_request (void)
{
  GcBenchMarker marker = { .client = 42, .seq = 9, .sent_ns = 1 };
  char text[64];
  g_autofree char *request = g_malloc (gc_bench_request_max_size (sizeof text));
  g_autoptr(GcRequest) parsed = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  guint32 client;
  guint32 seq;

  gc_bench_text_format (text, sizeof text, &marker);
  len = gc_bench_request_format (request, text, sizeof text, 42, 9);
  g_assert_cmpuint (len, <=, gc_bench_request_max_size (sizeof text));

  /* The server's own parser takes it. */
  parsed = gc_request_parse (request, len, 4096, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (parsed->type, ==, GC_REQUEST_MESSAGE);
  g_assert_cmpmem (parsed->text, strlen (parsed->text), text, sizeof text);
  g_assert_true (gc_bench_client_id_parse (parsed->client_id, strlen (parsed->client_id),
                                           &client, &seq));
  g_assert_cmpuint (client, ==, 42);
  g_assert_cmpuint (seq, ==, 9);

  g_assert_false (gc_bench_client_id_parse ("2a", 2, &client, &seq));
  g_assert_false (gc_bench_client_id_parse ("2a.", 3, &client, &seq));
  g_assert_false (gc_bench_client_id_parse ("2a.1x", 5, &client, &seq));
  g_assert_false (gc_bench_client_id_parse ("t1", 2, &client, &seq));
}

static void
test_event_scan (void)
{
  g_autoptr(GcUser) user = gc_user_new ("id\"1", "\"text\":\"evil\" {[");
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GBytes) error_event = NULL;
  g_autoptr(GBytes) join = NULL;
  GcBenchEvent event;
  gsize len;
  const char *json;

  /* The server's builder, with a user name that looks like JSON. */
  message = gc_event_build_message (7, 1700000000000, user, GC_MESSAGE_KIND_TEXT,
                                    "2a.9.1.abc", "2a.9");
  json = g_bytes_get_data (message, &len);
  g_assert_true (gc_bench_event_scan (json, len, &event));
  g_assert_cmpint (event.type, ==, GC_BENCH_EVENT_MESSAGE);
  g_assert_cmpmem (event.text, event.text_len, "2a.9.1.abc", 10);
  g_assert_cmpuint (event.id, ==, 7);

  /* Ids of 2^53 - 1 (what a --redis room's sequence may reach) and an
   * id that is not an unsigned integer (left 0). */
  json = "{\"type\":\"message\",\"id\":9007199254740991,\"text\":\"t\"}";
  g_assert_true (gc_bench_event_scan (json, strlen (json), &event));
  g_assert_cmpuint (event.id, ==, G_GUINT64_CONSTANT (9007199254740991));
  json = "{\"type\":\"message\",\"id\":1.5e3,\"text\":\"t\"}";
  g_assert_true (gc_bench_event_scan (json, strlen (json), &event));
  g_assert_cmpuint (event.id, ==, 0);

  error_event = gc_event_build_error (GC_PROTOCOL_ERROR_RATE_LIMITED, "slow down", "2a.9", 120);
  json = g_bytes_get_data (error_event, &len);
  g_assert_true (gc_bench_event_scan (json, len, &event));
  g_assert_cmpint (event.type, ==, GC_BENCH_EVENT_ERROR);
  g_assert_cmpmem (event.code, event.code_len, "rate_limited", 12);
  g_assert_cmpmem (event.ref, event.ref_len, "2a.9", 4);

  join = gc_event_build_join (user, 1700000000000);
  json = g_bytes_get_data (join, &len);
  g_assert_true (gc_bench_event_scan (json, len, &event));
  g_assert_cmpint (event.type, ==, GC_BENCH_EVENT_JOIN);
  g_assert_null (event.text);

  json = "{\"type\":\"typing\",\"user\":{\"id\":\"x\",\"name\":\"y\"},\"active\":true}";
  g_assert_true (gc_bench_event_scan (json, strlen (json), &event));
  g_assert_cmpint (event.type, ==, GC_BENCH_EVENT_OTHER);

  /* Members in any order, nested values skipped whole. */
  json = " { \"history\" : [ {\"type\":\"message\"}, \"]}\" ], \"type\" : \"welcome\" } ";
  g_assert_true (gc_bench_event_scan (json, strlen (json), &event));
  g_assert_cmpint (event.type, ==, GC_BENCH_EVENT_WELCOME);

  /* Escaped quotes inside strings, and strings ending in an escaped
   * backslash. */
  json = "{\"name\":\"\\\\\",\"text\":\"a\\\"b\\\\\",\"type\":\"message\"}";
  g_assert_true (gc_bench_event_scan (json, strlen (json), &event));
  g_assert_cmpint (event.type, ==, GC_BENCH_EVENT_MESSAGE);
  g_assert_cmpmem (event.text, event.text_len, "a\\\"b\\\\", 6);

  /* Not events. */
  json = "[\"type\",\"message\"]";
  g_assert_false (gc_bench_event_scan (json, strlen (json), &event));
  json = "{\"type\":\"message\",\"text\":\"unterminated}";
  g_assert_false (gc_bench_event_scan (json, strlen (json), &event));
  json = "{\"type\":\"message\"";
  g_assert_false (gc_bench_event_scan (json, strlen (json), &event));
  json = "{\"text\":\"no type\"}";
  g_assert_false (gc_bench_event_scan (json, strlen (json), &event));
  json = "{\"type\":1}";
  g_assert_false (gc_bench_event_scan (json, strlen (json), &event));
  json = "{}";
  g_assert_false (gc_bench_event_scan (json, strlen (json), &event));
}

/* ------------------------------------------------------------------ */
/* The server's fast request parser (a result of the profiling)         */
/* ------------------------------------------------------------------ */

static void
assert_parsers_agree (const char *json,
                      gsize       len)
{
  g_autoptr(GcRequest) fast = NULL;
  g_autoptr(GcRequest) slow = NULL;
  g_autoptr(GError) fast_error = NULL;
  g_autoptr(GError) slow_error = NULL;
  g_autofree char *fast_ref = NULL;
  g_autofree char *slow_ref = NULL;
  g_autofree char *printable = g_strescape (json, NULL);

  fast = gc_request_parse (json, len, 100, &fast_ref, &fast_error);
  slow = gc_request_parse_with_json_glib (json, len, 100, &slow_ref, &slow_error);

  if ((fast == NULL) != (slow == NULL))
    g_error ("the parsers disagree on %s: %s / %s", printable,
             fast_error != NULL ? fast_error->message : "accepted",
             slow_error != NULL ? slow_error->message : "accepted");
  g_assert_cmpstr (fast_ref, ==, slow_ref);

  if (fast == NULL)
    {
      if (!g_error_matches (fast_error, slow_error->domain, slow_error->code) ||
          g_strcmp0 (fast_error->message, slow_error->message) != 0)
        g_error ("the parsers refuse %s differently: %s / %s", printable,
                 fast_error->message, slow_error->message);
      return;
    }

  g_assert_cmpint (fast->type, ==, slow->type);
  g_assert_cmpint (fast->kind, ==, slow->kind);
  g_assert_cmpstr (fast->text, ==, slow->text);
  g_assert_cmpstr (fast->client_id, ==, slow->client_id);
  g_assert_cmpint (fast->active, ==, slow->active);
  g_assert_cmpstr (fast->name, ==, slow->name);
}

static const char *
pick (const char * const *choices,
      gsize               n)
{
  return choices[g_test_rand_int_range (0, (gint32) n)];
}

#define PICK(choices) pick ((choices), G_N_ELEMENTS (choices))

/* gc_request_parse() reads flat requests itself and hands everything
 * else to json-glib: on requests both well and badly formed, it must
 * answer exactly as json-glib alone does. */
static void
test_request_fast_path (void)
{
  static const char * const keys[] = {
    "type", "type", "type", "kind", "text", "text", "client_id", "active", "name", "x", "",
    "t\\u0079pe", "typ", "type ", "\xc3\xa9",
  };
  static const char * const values[] = {
    "\"message\"", "\"message\"", "\"typing\"", "\"rename\"", "\"text\"", "\"emote\"",
    "\"hello\"", "\"  \"", "\"\"", "\"a\\\"b\\\\c\\/d\"", "\"\\u00e9\\u3000\"",
    "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\ude00x\"", "\"\\u0000\"", "\"\\u00\"",
    "\"caf\xc3\xa9\"", "\"\xe3\x80\x80\"", "\"tab\there\"", "\"\\n\\t\\b\\f\\r\"",
    "\"\\x41\"", "\"bad\xff\"", "\"Al\\u0069ce\"",
    "\"0123456789012345678901234567890123456789012345678901234567890123\"",
    "\"01234567890123456789012345678901234567890123456789012345678901234\"",
    "true", "false", "null", "True", "nul", "1", "-2.5", "1e3", "0x10", "{\"a\":1}", "[1,2]",
    "[]", "{}", "'single'", "\"unterminated",
  };
  static const char * const spaces[] = { "", "", "", " ", "\n\t", "\r\n " };

  for (guint round = 0; round < 20000; round++)
    {
      g_autoptr(GString) json = g_string_new (PICK (spaces));
      guint n_members = g_test_rand_int_range (0, 5);

      g_string_append_c (json, '{');
      for (guint m = 0; m < n_members; m++)
        {
          g_string_append_printf (json, "%s\"%s\"%s:%s%s%s", PICK (spaces), PICK (keys),
                                  PICK (spaces), PICK (spaces), PICK (values), PICK (spaces));
          if (m + 1 < n_members || g_test_rand_int_range (0, 20) == 0)
            g_string_append_c (json, ',');
        }
      g_string_append_c (json, '}');
      g_string_append (json, PICK (spaces));

      /* Now and then broken: cut short, or with something after it. */
      switch (g_test_rand_int_range (0, 12))
        {
        case 0:
          g_string_truncate (json, g_test_rand_int_range (0, (gint32) json->len + 1));
          break;
        case 1:
          g_string_append (json, PICK (values));
          break;
        case 2:
          g_string_insert (json, 0, "[");
          break;
        default:
          break;
        }

      assert_parsers_agree (json->str, json->len);
    }

  /* The usual requests, which the fast path takes. */
  {
    const char * const usual[] = {
      "{\"type\":\"message\",\"text\":\"hi\",\"client_id\":\"c1\"}",
      "{\"type\":\"message\",\"kind\":\"emote\",\"text\":\"waves\"}",
      "{\"type\":\"typing\",\"active\":true}",
      "{\"type\":\"rename\",\"name\":\"  Zo\\u00eb \"}",
      "{\"type\":\"message\",\"text\":\"x\",\"client_id\":\"c1\",\"client_id\":\"c2\"}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (usual); i++)
      assert_parsers_agree (usual[i], strlen (usual[i]));
  }
}

/* ------------------------------------------------------------------ */
/* Processes                                                            */
/* ------------------------------------------------------------------ */

/* Children (gochat-server, gochat-bench) come from tests/lib, which ends
 * them with the test even when it fails half-way. */
typedef GcTestServerProcess Server;

/* gochat-server on 127.0.0.1 with a free port, limits lifted for a
 * benchmark, plus the extra arguments (NULL-terminated). */
static Server *
server_start (const char *first_arg,
              ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  g_ptr_array_add (args, (char *) "--join-per-second=0");
  g_ptr_array_add (args, (char *) "--rate-burst=1000000");
  g_ptr_array_add (args, (char *) "--rate-per-second=1000000");
  va_start (ap, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  return gc_test_server_process_startv ((const char * const *) args->pdata,
                                        GC_TEST_SERVER_PROCESS_DEFAULT);
}

static void
server_stop (Server *server)
{
  gc_test_server_process_stop (server, SIGTERM, GC_TEST_TIMEOUT_MS);
  /* The server is no part of what is tested here, but it must not have
   * crashed under the load. One exception: after TLS handshakes, GCC 12's
   * LeakSanitizer itself may crash scanning a gnutls pool thread at exit
   * ("Tracer caught signal 11"), a toolchain bug, not a leak. */
  if (!g_subprocess_get_if_exited (server->process) ||
      (g_subprocess_get_exit_status (server->process) != 0 &&
       strstr (server->log->str, "LeakSanitizer has encountered a fatal error") == NULL))
    g_error ("gochat-server did not exit cleanly:\n%s", server->log->str);

  gc_test_server_process_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_stop)

static guint
count_lines_with (const char *log,
                  const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (log, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

typedef struct {
  char     *out;
  char     *err;
  int       status;
  gboolean  done;
} BenchResult;

static void
bench_result_free (BenchResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchResult, bench_result_free)

typedef struct {
  BenchResult *result;
  GSubprocess *process;
} BenchCall;

static void
on_bench_done (GObject      *source,
               GAsyncResult *async_result,
               gpointer      user_data)
{
  BenchResult *result = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), async_result,
                                        &result->out, &result->err, &error);
  g_assert_no_error (error);
  result->status = g_subprocess_get_if_exited (G_SUBPROCESS (source))
                   ? g_subprocess_get_exit_status (G_SUBPROCESS (source)) : -1;
  result->done = TRUE;
}

/* Runs gochat-bench with the arguments (NULL-terminated) and waits. */
static BenchResult *
bench_run (const char *first_arg,
           ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  BenchResult *result = g_new0 (BenchResult, 1);
  va_list args;

  g_ptr_array_add (argv, (char *) GOCHAT_BENCH_PATH);
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = gc_test_spawn ((const char * const *) argv->pdata,
                           G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, on_bench_done, result);
  gc_test_wait_ms (result->done, RUN_TIMEOUT_MS);

  if (g_test_verbose ())
    g_test_message ("gochat-bench exited %d\nstdout: %s\nstderr: %s", result->status,
                    result->out, result->err);

  return result;
}

#define assert_exit_status(result, expected)                                    \
  G_STMT_START {                                                               \
    if ((result)->status != (expected))                                        \
      g_error ("gochat-bench exited %d, not %d\nstdout:\n%s\nstderr:\n%s",      \
               (result)->status, (expected), (result)->out, (result)->err);    \
  } G_STMT_END

static JsonObject *
parse_report (const BenchResult *result)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, result->out, -1, &error))
    g_error ("gochat-bench printed no JSON report (%s), status %d:\n%s\n%s", error->message,
             result->status, result->out, result->err);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));

  return json_object_ref (json_node_get_object (root));
}

static gint64
member_int (JsonObject *object,
            const char *name)
{
  g_assert_true (json_object_has_member (object, name));
  return json_object_get_int_member (object, name);
}

/* Every message reached every member of its room exactly once. */
static void
assert_all_delivered (JsonObject *report,
                      guint       clients,
                      guint       rooms,
                      guint       messages)
{
  guint64 expected = 0;

  /* Room r has ceil((clients - r) / rooms) members, each of which sends
   * @messages to all of them. */
  for (guint r = 0; r < rooms; r++)
    {
      guint64 members = (clients - r + rooms - 1) / rooms;

      expected += members * members * messages;
    }

  g_assert_cmpint (member_int (json_object_get_object_member (report, "connect"), "joined"), ==,
                   clients);
  g_assert_cmpint (member_int (report, "sent"), ==, (gint64) clients * messages);
  g_assert_cmpint (member_int (report, "expected"), ==, expected);
  g_assert_cmpint (member_int (report, "delivered"), ==, expected);
  g_assert_cmpint (member_int (report, "lost"), ==, 0);
  g_assert_cmpint (member_int (report, "duplicated"), ==, 0);
  g_assert_cmpint (member_int (report, "misrouted"), ==, 0);
  g_assert_cmpint (member_int (report, "foreign"), ==, 0);
  g_assert_cmpint (member_int (report, "refused"), ==, 0);
  g_assert_cmpint (member_int (report, "disconnected"), ==, 0);
  g_assert_false (json_object_get_boolean_member (report, "timed_out"));
}

static char *
url_for (Server     *server,
         const char *scheme,
         const char *host)
{
  return g_strdup_printf ("--url=%s://%s:%u", scheme, host, server->port);
}

/* ------------------------------------------------------------------ */
/* Runs                                                                 */
/* ------------------------------------------------------------------ */

static void
test_closed_loop (void)
{
  g_autoptr(Server) server = server_start (NULL);
  g_autofree char *url = url_for (server, "ws", "127.0.0.1");
  g_autofree char *pid = g_strdup_printf ("--server-pid=%s", g_subprocess_get_identifier (server->process));
  g_autoptr(BenchResult) result = NULL;
  g_autoptr(JsonObject) report = NULL;
  JsonObject *server_report;

  result = bench_run (url, pid, "--clients=20", "--rooms=3", "--messages=30", "--window=4",
                      "--size=100", "--json", "--quiet", NULL);
  assert_exit_status (result, 0);
  report = parse_report (result);
  assert_all_delivered (report, 20, 3, 30);
  g_assert_cmpstr (json_object_get_string_member (report, "protocol"), ==, "gochat");
  g_assert_cmpint (member_int (report, "size"), ==, 100);

  /* The server was sampled. */
  server_report = json_object_get_object_member (report, "server");
  g_assert_nonnull (server_report);
  g_assert_cmpint (member_int (json_object_get_object_member (server_report, "joined"), "rss_kb"),
                   >, 0);
}

/* Several --url and --server-pid (here the same server twice, so that no
 * Redis is needed): each room's clients go to every URL in turn, every
 * delivery is matched by its id, and the CPU figures are the nodes'
 * sum. --redis-pid takes any process: the server's again. */
static void
test_several_urls (void)
{
  g_autoptr(Server) server = server_start (NULL);
  g_autofree char *url = url_for (server, "ws", "127.0.0.1");
  g_autofree char *url2 = url_for (server, "ws", "localhost");
  const char *id = g_subprocess_get_identifier (server->process);
  g_autofree char *pid = g_strdup_printf ("--server-pid=%s", id);
  g_autofree char *redis_pid = g_strdup_printf ("--redis-pid=%s", id);
  g_autoptr(BenchResult) result = NULL;
  g_autoptr(BenchResult) text = NULL;
  g_autoptr(JsonObject) report = NULL;
  JsonObject *server_report;
  JsonObject *redis_report;
  JsonArray *nodes;
  double sum = 0;

  result = bench_run (url, url2, pid, pid, redis_pid, "--clients=12", "--rooms=3",
                      "--messages=20", "--window=4", "--json", "--quiet", NULL);
  assert_exit_status (result, 0);
  report = parse_report (result);
  assert_all_delivered (report, 12, 3, 20);
  g_assert_cmpint (member_int (report, "reordered"), ==, 0);
  g_assert_cmpint (member_int (report, "id_mismatches"), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (report, "urls")), ==, 2);

  server_report = json_object_get_object_member (report, "server");
  nodes = json_object_get_array_member (server_report, "nodes");
  g_assert_cmpuint (json_array_get_length (nodes), ==, 2);
  for (guint i = 0; i < 2; i++)
    sum += json_object_get_double_member (json_array_get_object_element (nodes, i), "cpu_seconds");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (server_report, "cpu_seconds"),
                                  sum, 0.0021);
  redis_report = json_object_get_object_member (report, "redis");
  g_assert_nonnull (redis_report);
  g_assert_cmpint (member_int (redis_report, "pid"), ==, g_ascii_strtoll (id, NULL, 10));
  g_assert_nonnull (json_object_get_object_member (report, "total"));
  g_assert_true (json_object_get_null_member (report, "kill"));

  /* Whole rooms per node. */
  {
    g_autoptr(BenchResult) rooms = bench_run (url, url2, "--spread=rooms", "--clients=6",
                                              "--rooms=3", "--messages=5", "--json", "--quiet",
                                              NULL);
    g_autoptr(JsonObject) rooms_report = NULL;

    assert_exit_status (rooms, 0);
    rooms_report = parse_report (rooms);
    assert_all_delivered (rooms_report, 6, 3, 5);
    g_assert_cmpstr (json_object_get_string_member (rooms_report, "spread"), ==, "rooms");
  }

  /* The text report names both URLs and both nodes. */
  text = bench_run (url, url2, pid, pid, redis_pid, "--clients=4", "--messages=2", "--quiet", NULL);
  assert_exit_status (text, 0);
  g_assert_nonnull (strstr (text->out, " + ws://localhost:"));
  g_assert_nonnull (strstr (text->out, "servers    2 nodes"));
  g_assert_nonnull (strstr (text->out, "reordered 0, id mismatches 0"));
  g_assert_nonnull (strstr (text->out, "µs per chat message"));
}

#ifdef HAVE_REDIS
/* Two --redis nodes, the second SIGKILLed part-way through a run at a
 * fixed rate (so that the kill falls inside it however loaded the
 * machine is): its clients are cut off, not counted as disconnected, and
 * every message a client saw acknowledged reached every client left. */
static void
test_kill_node (void)
{
  g_autoptr(GcTestRedis) redis = NULL;
  g_autoptr(Server) survivor = NULL;
  g_autoptr(GcTestServerProcess) victim = NULL;
  g_autofree char *url0 = NULL;
  g_autofree char *url1 = NULL;
  g_autofree char *pid0 = NULL;
  g_autofree char *pid1 = NULL;
  g_autofree char *redis_pid = NULL;
  g_autoptr(BenchResult) result = NULL;
  g_autoptr(JsonObject) report = NULL;
  JsonObject *kill_report;
  const char *redis_args[] = {
    "--join-per-second=0", "--rate-burst=1000000", "--rate-per-second=1000000",
    "--redis", NULL, "--redis-lease-ms=1000", "--resume-seconds=2", NULL
  };

  if (gc_test_redis_server_path () == NULL)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }

  redis = gc_test_redis_start (NULL);
  redis_args[4] = gc_test_redis_get_url (redis);
  survivor = gc_test_server_process_startv (redis_args, GC_TEST_SERVER_PROCESS_DEFAULT);
  victim = gc_test_server_process_startv (redis_args, GC_TEST_SERVER_PROCESS_DEFAULT);
  url0 = url_for (survivor, "ws", "127.0.0.1");
  url1 = url_for (victim, "ws", "127.0.0.1");
  pid0 = g_strdup_printf ("--server-pid=%s", g_subprocess_get_identifier (survivor->process));
  pid1 = g_strdup_printf ("--server-pid=%s", g_subprocess_get_identifier (victim->process));
  redis_pid = g_strdup_printf ("--redis-pid=%d", (int) gc_test_redis_get_pid (redis));

  result = bench_run (url0, url1, pid0, pid1, redis_pid, "--clients=8", "--rooms=2",
                      "--messages=40", "--rate=40", "--kill-node-after=0.4", "--json", "--quiet",
                      NULL);
  assert_exit_status (result, 0);
  report = parse_report (result);
  kill_report = json_object_get_object_member (report, "kill");
  g_assert_nonnull (kill_report);
  g_assert_true (json_object_get_boolean_member (kill_report, "killed"));
  gc_test_wait (victim->exited);
  g_assert_true (g_subprocess_get_if_signaled (victim->process));
  g_assert_cmpint (g_subprocess_get_term_sig (victim->process), ==, SIGKILL);
  /* Slots 1 and 3 of each room were on the victim. */
  g_assert_cmpint (member_int (kill_report, "clients_cut_off"), ==, 4);
  g_assert_cmpint (member_int (kill_report, "acked_lost"), ==, 0);
  g_assert_cmpint (member_int (report, "lost"), ==, 0);
  g_assert_cmpint (member_int (report, "disconnected"), ==, 0);
  g_assert_cmpint (member_int (report, "duplicated"), ==, 0);
  g_assert_cmpint (member_int (report, "reordered"), ==, 0);
  g_assert_cmpint (member_int (report, "id_mismatches"), ==, 0);
  g_assert_nonnull (json_object_get_object_member (report, "redis"));
}
#endif

static void
test_fixed_rate (void)
{
  g_autoptr(Server) server = server_start (NULL);
  g_autofree char *url = url_for (server, "ws", "127.0.0.1");
  g_autoptr(BenchResult) result = NULL;
  g_autoptr(JsonObject) report = NULL;

  result = bench_run (url, "--clients=12", "--rooms=4", "--messages=5", "--rate=50",
                      "--json", "--quiet", NULL);
  assert_exit_status (result, 0);
  report = parse_report (result);
  assert_all_delivered (report, 12, 4, 5);
  g_assert_cmpint (member_int (report, "window"), ==, 0);
}

static void
test_tls (void)
{
  g_autofree char *cert = g_test_build_filename (G_TEST_DIST, "tls", "server.pem", NULL);
  g_autofree char *key = g_test_build_filename (G_TEST_DIST, "tls", "server-key.pem", NULL);
  g_autofree char *ca = g_test_build_filename (G_TEST_DIST, "tls", "ca.pem", NULL);
  g_autofree char *cert_arg = g_strdup_printf ("--tls-cert=%s", cert);
  g_autofree char *key_arg = g_strdup_printf ("--tls-key=%s", key);
  g_autofree char *ca_arg = g_strdup_printf ("--tls-ca=%s", ca);
  g_autoptr(Server) server = server_start (cert_arg, key_arg, NULL);
  g_autofree char *url = url_for (server, "wss", "localhost");
  g_autoptr(BenchResult) result = NULL;
  g_autoptr(BenchResult) untrusted = NULL;
  g_autoptr(JsonObject) report = NULL;

  result = bench_run (url, ca_arg, "--clients=6", "--rooms=2", "--messages=10", "--json",
                      "--quiet", NULL);
  assert_exit_status (result, 0);
  report = parse_report (result);
  assert_all_delivered (report, 6, 2, 10);

  /* --insecure takes any certificate. */
  {
    g_autoptr(BenchResult) insecure = bench_run (url, "--insecure", "--clients=2", "--messages=3",
                                                 "--json", "--quiet", NULL);
    g_autoptr(JsonObject) insecure_report = NULL;

    assert_exit_status (insecure, 0);
    insecure_report = parse_report (insecure);
    assert_all_delivered (insecure_report, 2, 1, 3);
  }

  /* Without the test CA the certificate is not trusted: a clear error. */
  untrusted = bench_run (url, "--clients=1", "--messages=1", "--quiet", NULL);
  assert_exit_status (untrusted, 1);
  g_assert_nonnull (strstr (untrusted->err, "client 0 (of 1) could not join"));
}

static void
test_refusal_shown (void)
{
  g_autoptr(Server) server = server_start ("--room-max-members=3", NULL);
  g_autofree char *url = url_for (server, "ws", "127.0.0.1");
  g_autoptr(BenchResult) full = NULL;
  g_autoptr(BenchResult) wrong_protocol = NULL;

  /* The fourth member of the room is refused: the server's status and
   * JSON body are shown, with what to change. */
  full = bench_run (url, "--clients=4", "--connect-concurrency=1", "--messages=1", "--quiet", NULL);
  assert_exit_status (full, 1);
  g_assert_nonnull (strstr (full->err, "client 3 (of 4) could not join: HTTP 403"));
  g_assert_nonnull (strstr (full->err, "\"error\":\"room_full\""));
  g_assert_nonnull (strstr (full->err, "--room-max-members"));

  wrong_protocol = bench_run (url, "--protocol=relay", "--clients=1", "--messages=1", "--quiet",
                              NULL);
  assert_exit_status (wrong_protocol, 1);
  g_assert_nonnull (strstr (wrong_protocol->err, "HTTP 404"));
  g_assert_nonnull (strstr (wrong_protocol->err, "wrong --protocol?"));
}

static void
test_connection_refused (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(BenchResult) result = NULL;
  g_autofree char *url = NULL;

  /* A port that was free a moment ago and has no listener. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("--url=ws://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  result = bench_run (url, "--clients=2", "--quiet", NULL);
  assert_exit_status (result, 1);
  g_assert_nonnull (strstr (result->err, "cannot connect to 127.0.0.1:"));
  g_assert_nonnull (strstr (result->err, g_strerror (ECONNREFUSED)));
}

static void
test_usage_errors (void)
{
  const struct {
    const char *args[3];
    const char *says;
  } cases[] = {
    { { "--clients=0" }, "--clients" },
    { { "--clients=2", "--rooms=3" }, "--rooms" },
    { { "--size=8" }, "--size" },
    { { "--protocol=irc" }, "--protocol" },
    { { "--rate=5", "--window=2" }, "exclusive" },
    { { "--url=http://127.0.0.1:1" }, "ws://" },
    { { "--url=ws://127.0.0.1:1/?room_code=x" }, "query" },
    { { "stray" }, "stray" },
    { { "--url=ws://127.0.0.1:1", "--url=ws://127.0.0.1:2", "--server-pid=1" }, "one per --url" },
    { { "--server-pid=x" }, "not a process id" },
    { { "--spread=nodes" }, "--spread" },
    { { "--kill-node-after=1", "--server-pid=1" }, "two --url" },
    { { "--kill-node-after=-1" }, "--kill-node-after" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(BenchResult) result = bench_run (cases[i].args[0], cases[i].args[1],
                                                 cases[i].args[2], NULL);

      assert_exit_status (result, 2);
      g_assert_nonnull (strstr (result->err, cases[i].says));
      g_assert_cmpstr (result->out, ==, "");
    }
}

typedef struct {
  GString  *out;
  gboolean  reported;
} HoldOutput;

static void read_hold_line (GDataInputStream *lines,
                            HoldOutput       *output);

static void
on_hold_line (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  HoldOutput *output = user_data;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL,
                                                    NULL);
  if (line == NULL)
    return;
  g_string_append (output->out, line);
  output->reported = TRUE;
  read_hold_line (G_DATA_INPUT_STREAM (source), output);
}

static void
read_hold_line (GDataInputStream *lines,
                HoldOutput       *output)
{
  g_data_input_stream_read_line_async (lines, G_PRIORITY_DEFAULT, NULL, on_hold_line, output);
}

static void
on_hold_exited (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

/* --hold reports, keeps the members in their rooms, and closes them
 * cleanly on SIGTERM. */
static void
test_hold (void)
{
  g_autoptr(Server) server = server_start (NULL);
  g_autofree char *url = url_for (server, "ws", "127.0.0.1");
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  HoldOutput output = { g_string_new (NULL), FALSE };
  gboolean exited = FALSE;
  const char *argv[] = { GOCHAT_BENCH_PATH, url, "--clients=5", "--rooms=1", "--messages=0",
                         "--hold", "--json", "--quiet", NULL };

  process = gc_test_spawn (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  read_hold_line (lines, &output);
  g_subprocess_wait_async (process, NULL, on_hold_exited, &exited);

  gc_test_wait_ms (output.reported || exited, RUN_TIMEOUT_MS);
  g_assert_false (exited);
  json_parser_load_from_data (parser, output.out->str, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (member_int (json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                                              "connect"), "joined"), ==, 5);

  /* Still there after the report. */
  {
    g_autoptr(GcTestHttpResponse) healthz = gc_test_http_get ("127.0.0.1", server->port, NULL,
                                                              "/healthz");

    g_assert_cmpint (json_object_get_int_member (healthz->json, "connections"), ==, 5);
  }

  g_subprocess_send_signal (process, SIGTERM);
  gc_test_wait_ms (exited, RUN_TIMEOUT_MS);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

  /* Close frames, not dropped connections: every member left at once
   * (none waits for a resume), as the server's log says. */
  gc_test_wait (count_lines_with (server->log->str, "reason=left") == 5);

  g_string_free (output.out, TRUE);
}

typedef struct {
  gboolean sending;     /* a "messages:" progress line came */
  gboolean exited;
} Interrupt;

static void
on_progress_line (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Interrupt *interrupt = user_data;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL,
                                                    NULL);
  if (line == NULL)
    return;
  if (g_str_has_prefix (line, "messages:"))
    interrupt->sending = TRUE;
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source), G_PRIORITY_DEFAULT, NULL,
                                       on_progress_line, interrupt);
}

static void
on_interrupted_exit (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Interrupt *interrupt = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  interrupt->exited = TRUE;
}

/* SIGINT in the middle of the messages: the report still comes, says it
 * was interrupted, and counts nothing still on its way as lost. */
static void
test_interrupt (void)
{
  g_autoptr(Server) server = server_start (NULL);
  g_autofree char *url = url_for (server, "ws", "127.0.0.1");
  const char *argv[] = { GOCHAT_BENCH_PATH, url, "--clients=20", "--rooms=2", "--messages=1000",
                         "--rate=20", "--json", NULL };
  g_autoptr(GSubprocess) process = gc_test_spawn (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                         G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GDataInputStream) progress = g_data_input_stream_new (g_subprocess_get_stderr_pipe (process));
  g_autoptr(GDataInputStream) report_lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *report_line = NULL;
  Interrupt interrupt = { FALSE, FALSE };
  JsonObject *report;

  g_data_input_stream_read_line_async (progress, G_PRIORITY_DEFAULT, NULL, on_progress_line,
                                       &interrupt);
  g_subprocess_wait_async (process, NULL, on_interrupted_exit, &interrupt);

  /* Progress comes once a second, so the messages have been going for
   * about a second of their 50. */
  gc_test_wait_ms (interrupt.sending || interrupt.exited, RUN_TIMEOUT_MS);
  g_assert_false (interrupt.exited);
  g_subprocess_send_signal (process, SIGINT);
  gc_test_wait_ms (interrupt.exited, RUN_TIMEOUT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);

  report_line = g_data_input_stream_read_line_utf8 (report_lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report_line);
  json_parser_load_from_data (parser, report_line, -1, &error);
  g_assert_no_error (error);
  report = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (report, "interrupted"));
  g_assert_cmpint (member_int (report, "sent"), >, 0);
  g_assert_cmpint (member_int (report, "sent"), <, 20 * 1000);
  g_assert_cmpint (member_int (report, "lost"), ==, 0);
  g_assert_cmpint (member_int (report, "duplicated"), ==, 0);
  g_assert_cmpint (member_int (report, "delivered") + member_int (report, "unsettled"), ==,
                   member_int (report, "expected"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/bench/histogram/small-values", test_histogram_small_values);
  g_test_add_func ("/bench/histogram/precision", test_histogram_precision);
  g_test_add_func ("/bench/proc/sample", test_proc_sample);
  g_test_add_func ("/bench/wire/text", test_text_round_trip);
  g_test_add_func ("/bench/wire/request", test_request);
  g_test_add_func ("/bench/wire/event-scan", test_event_scan);
  g_test_add_func ("/bench/protocol/request-fast-path", test_request_fast_path);
  g_test_add_func ("/bench/run/closed-loop", test_closed_loop);
  g_test_add_func ("/bench/run/fixed-rate", test_fixed_rate);
  g_test_add_func ("/bench/run/several-urls", test_several_urls);
#ifdef HAVE_REDIS
  g_test_add_func ("/bench/run/kill-node", test_kill_node);
#endif
  g_test_add_func ("/bench/run/tls", test_tls);
  g_test_add_func ("/bench/run/refusal", test_refusal_shown);
  g_test_add_func ("/bench/run/connection-refused", test_connection_refused);
  g_test_add_func ("/bench/run/usage", test_usage_errors);
  g_test_add_func ("/bench/run/hold", test_hold);
  g_test_add_func ("/bench/run/interrupt", test_interrupt);

  return gc_test_run ();
}
