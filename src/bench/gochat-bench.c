/* gochat-bench.c: the gochat-bench program — a load generator for room servers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include <gio/gio.h>

#include "gc-bench-connection.h"
#include "gc-bench-report.h"
#include "gc-bench-run.h"
#include "gc-bench-wire.h"
#include "gc-pool-threads.h"

#define EXIT_PROBLEM 1
#define EXIT_USAGE 2

#define MAX_TEXT_SIZE (16 * 1024 * 1024)

static G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN void
die_usage (const char *format,
           ...)
{
  va_list args;

  fputs ("gochat-bench: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputs ("\nTry “gochat-bench --help”.\n", stderr);
  exit (EXIT_USAGE);
}

static guint
check_range (const char *option,
             gint64      value,
             gint64      min,
             gint64      max)
{
  if (value < min || value > max)
    die_usage ("%s: %" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT " to %"
               G_GINT64_FORMAT ")", option, value, min, max);

  return (guint) value;
}

/* Whether the run delivered everything it should have, once each. */
static gboolean
run_was_clean (const GcBenchOptions *options,
               const GcBenchResults *results)
{
  return results->lost == 0 && results->duplicated == 0 && results->misrouted == 0 &&
         results->reordered == 0 && results->id_mismatches == 0 &&
         results->refused == 0 && results->disconnected == 0 && !results->timed_out &&
         !results->interrupted && (options->kill_node_after_s <= 0 || results->killed);
}

/* --server-pid may be given once per node. */
static int *
parse_pids (char  **values,
            guint  *n_pids)
{
  guint n = values != NULL ? g_strv_length (values) : 0;
  int *pids = g_new0 (int, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    {
      gint64 pid;

      if (!g_ascii_string_to_signed (values[i], 10, 1, G_MAXINT, &pid, NULL))
        die_usage ("--server-pid: “%s” is not a process id", values[i]);
      pids[i] = (int) pid;
    }
  *n_pids = n;
  return pids;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GcBenchRun) run = NULL;
  const GcBenchResults *results;
  GcBenchOptions options = { 0 };
  gboolean clean;

  g_auto(GStrv) opt_urls = NULL;
  g_auto(GStrv) opt_server_pids = NULL;
  g_autofree int *server_pids = NULL;
  guint n_server_pids = 0;
  gint64 opt_redis_pid = 0;
  double opt_kill_node_after = 0;
  g_autofree char *opt_protocol = NULL;
  g_autofree char *opt_spread = NULL;
  g_autofree char *opt_tls_ca = NULL;
  gint64 opt_clients = 50;
  gint64 opt_rooms = 1;
  gint64 opt_messages = 100;
  double opt_rate = 0;
  gint64 opt_window = 0;
  gint64 opt_size = 64;
  gint64 opt_concurrency = 64;
  gint64 opt_timeout = 10;
  gboolean opt_json = FALSE;
  gboolean opt_hold = FALSE;
  gboolean opt_quiet = FALSE;
  gboolean opt_insecure = FALSE;
  gboolean opt_version = FALSE;

  const GOptionEntry entries[] = {
    { "url", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_urls,
      "The server: ws://HOST:PORT[/PATH] or wss://… (default: ws://127.0.0.1:8081); give it "
      "once per node for several nodes sharing rooms (gochat-server --redis): each room's "
      "clients are spread over them in turn", "URL" },
    { "protocol", 0, 0, G_OPTION_ARG_STRING, &opt_protocol,
      "gochat (join with /joinRoom, send protocol v1 requests) or relay (?room_code=R, raw "
      "text relayed to the room, sender included) (default: gochat)", "NAME" },
    { "clients", 'c', 0, G_OPTION_ARG_INT64, &opt_clients,
      "Connections to open (default: 50)", "N" },
    { "rooms", 'r', 0, G_OPTION_ARG_INT64, &opt_rooms,
      "Rooms; client i joins room i mod R (default: 1)", "R" },
    { "messages", 'n', 0, G_OPTION_ARG_INT64, &opt_messages,
      "Messages each client sends; 0 only connects (default: 100)", "M" },
    { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &opt_rate,
      "Messages per second per client, spread evenly (default: closed loop)", "PER_SECOND" },
    { "window", 'w', 0, G_OPTION_ARG_INT64, &opt_window,
      "Closed loop: own messages in flight per client, each released by its echo (default: 1)",
      "W" },
    { "size", 's', 0, G_OPTION_ARG_INT64, &opt_size,
      "Bytes of chat text per message, at least 32 (default: 64)", "BYTES" },
    { "server-pid", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &opt_server_pids,
      "Report the server process's CPU time and memory (from /proc); once per node, in the "
      "order of --url: their CPU is summed", "PID" },
    { "spread", 0, 0, G_OPTION_ARG_STRING, &opt_spread,
      "With several --url: members (each room's clients over the nodes in turn, every room "
      "split) or rooms (room r wholly on node r mod N) (default: members)", "HOW" },
    { "redis-pid", 0, 0, G_OPTION_ARG_INT64, &opt_redis_pid,
      "Report the CPU time of the Redis server the nodes share, per chat message and added to "
      "the nodes' in deliveries per CPU-second", "PID" },
    { "kill-node-after", 0, 0, G_OPTION_ARG_DOUBLE, &opt_kill_node_after,
      "SIGKILL the last node (the last --server-pid) this long into the messages, and check "
      "that every message a client saw acknowledged reached every client still connected",
      "SECONDS" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
      "Print the results as one JSON object", NULL },
    { "connect-concurrency", 0, 0, G_OPTION_ARG_INT64, &opt_concurrency,
      "Upgrades in progress at once (default: 64)", "N" },
    { "timeout", 0, 0, G_OPTION_ARG_INT64, &opt_timeout,
      "Give up after this many seconds without a join or a delivery (default: 10)", "SECONDS" },
    { "hold", 0, 0, G_OPTION_ARG_NONE, &opt_hold,
      "After the messages and the report, keep the connections open (answering pings) until "
      "SIGINT or SIGTERM", NULL },
    { "tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_ca,
      "wss://: trust the CAs in this PEM file instead of the system's", "FILE" },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &opt_insecure,
      "wss://: accept any certificate", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
      "No progress lines on stderr", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
      "Print the version and exit", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "Measures a chat room server: opens clients, has each send "
                                "messages, and matches every delivery\n"
                                "(lost, duplicated, out of order, latency, deliveries per server "
                                "CPU-second).");
  g_option_context_set_description (context,
                                    "Exit status: 0 when every delivery arrived exactly once, 1 "
                                    "when some were lost, duplicated or refused\n"
                                    "or the run could not complete, 2 for usage errors.\n\n"
                                    "gochat-server limits joins and messages per client; for "
                                    "benchmarks run it with e.g.\n"
                                    "  gochat-server --join-per-second=0 --rate-burst=1000000 "
                                    "--rate-per-second=1000000\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die_usage ("%s", error->message);
  if (argc > 1)
    die_usage ("unexpected argument “%s”", argv[1]);

  if (opt_version)
    {
      printf ("gochat-bench %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (opt_urls != NULL && opt_urls[0] != NULL)
    {
      options.url = opt_urls[0];
      options.urls = (const char **) opt_urls;
      options.n_urls = g_strv_length (opt_urls);
    }
  else
    {
      static const char *default_urls[] = { "ws://127.0.0.1:8081", NULL };

      options.url = default_urls[0];
      options.urls = default_urls;
      options.n_urls = 1;
    }
  if (opt_spread == NULL || g_str_equal (opt_spread, "members"))
    options.spread = GC_BENCH_SPREAD_MEMBERS;
  else if (g_str_equal (opt_spread, "rooms"))
    options.spread = GC_BENCH_SPREAD_ROOMS;
  else
    die_usage ("--spread: “%s” is neither members nor rooms", opt_spread);
  server_pids = parse_pids (opt_server_pids, &n_server_pids);
  if (n_server_pids > 0 && options.n_urls > 1 && n_server_pids != options.n_urls)
    die_usage ("--server-pid: give one per --url (%u), in the same order, or none",
               options.n_urls);
  options.server_pids = server_pids;
  options.n_server_pids = n_server_pids;
  options.server_pid = n_server_pids > 0 ? server_pids[0] : 0;
  options.redis_pid = check_range ("--redis-pid", opt_redis_pid, 0, G_MAXINT);
  if (opt_kill_node_after < 0 || opt_kill_node_after > 24 * 3600)
    die_usage ("--kill-node-after: %g is out of range (0 to 86400)", opt_kill_node_after);
  if (opt_kill_node_after > 0 && (options.n_urls < 2 || n_server_pids != options.n_urls))
    die_usage ("--kill-node-after needs at least two --url and a --server-pid for each");
  options.kill_node_after_s = opt_kill_node_after;
  if (opt_protocol == NULL || g_str_equal (opt_protocol, "gochat"))
    options.protocol = GC_BENCH_PROTOCOL_GOCHAT;
  else if (g_str_equal (opt_protocol, "relay"))
    options.protocol = GC_BENCH_PROTOCOL_RELAY;
  else
    die_usage ("--protocol: “%s” is neither gochat nor relay", opt_protocol);

  options.clients = check_range ("--clients", opt_clients, 1, GC_BENCH_MAX_CLIENTS - 1);
  options.rooms = check_range ("--rooms", opt_rooms, 1, options.clients);
  options.messages = check_range ("--messages", opt_messages, 0, G_MAXINT32);
  options.size = check_range ("--size", opt_size, GC_BENCH_MIN_TEXT_SIZE, MAX_TEXT_SIZE);
  options.connect_concurrency = check_range ("--connect-concurrency", opt_concurrency, 1, 100000);
  options.timeout_s = check_range ("--timeout", opt_timeout, 1, 24 * 3600);
  if (opt_rate < 0 || opt_rate > 1e6)
    die_usage ("--rate: %g is out of range (0 to 1000000)", opt_rate);
  if (opt_rate > 0 && opt_window > 0)
    die_usage ("--rate and --window are exclusive: a fixed rate, or a closed loop");
  options.rate = opt_rate;
  options.window = opt_rate > 0 ? 0 : (opt_window > 0 ? check_range ("--window", opt_window, 1, 1000000) : 1);
  options.tls_ca_file = opt_tls_ca;
  options.insecure = opt_insecure;
  options.progress = !opt_quiet;

  run = gc_bench_run_new (&options, &error);
  if (run == NULL)
    {
      g_printerr ("gochat-bench: %s\n", error->message);
      return g_error_matches (error, GC_BENCH_ERROR, GC_BENCH_ERROR_BAD_URL) ? EXIT_USAGE : EXIT_PROBLEM;
    }

  if (!gc_bench_run_connect (run, &error))
    {
      g_printerr ("gochat-bench: %s\n", error->message);
      gc_bench_run_close (run);
      gc_pool_threads_stop_idle (5000);
      return EXIT_PROBLEM;
    }
  gc_bench_run_send (run);

  results = gc_bench_run_get_results (run);
  if (opt_json)
    {
      g_autofree char *json = gc_bench_report_to_json (&options, results);

      printf ("%s\n", json);
    }
  else
    {
      gc_bench_report_print (stdout, &options, results);
    }
  fflush (stdout);
  clean = run_was_clean (&options, results);

  if (opt_hold && !results->interrupted)
    {
      if (!opt_quiet)
        g_printerr ("gochat-bench: holding %u connections; SIGINT or SIGTERM closes them\n",
                    results->joined);
      gc_bench_run_hold (run);
    }

  gc_bench_run_close (run);
  gc_pool_threads_stop_idle (5000);

  return clean ? EXIT_SUCCESS : EXIT_PROBLEM;
}
