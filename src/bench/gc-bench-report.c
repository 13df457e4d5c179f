/* gc-bench-report.c: gochat-bench's summary, for people and as JSON
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "gc-bench-report.h"

#define NS_PER_MS 1e6

/* Figures derived from the raw results, shared by both formats. */
typedef struct {
  double connect_rate;
  double deliveries_per_second;
  gboolean has_cpu;
  double server_connect_cpu;
  double server_message_cpu;
  double deliveries_per_cpu_second;
  double joins_per_cpu_second;
  double cpu_us_per_join;
  double rss_growth_per_connection;   /* bytes */
  double redis_connect_cpu;
  double redis_message_cpu;
  double redis_us_per_message;        /* per chat message accepted */
  double total_message_cpu;           /* nodes and Redis */
  double total_deliveries_per_cpu_second;
} Derived;

static double
process_connect_cpu (const GcBenchProcess *process)
{
  return gc_bench_proc_cpu_between (&process->start, &process->connected);
}

static double
process_message_cpu (const GcBenchProcess *process)
{
  return gc_bench_proc_cpu_between (&process->connected, &process->end);
}

static void
derive (const GcBenchResults *results,
        Derived              *derived)
{
  memset (derived, 0, sizeof *derived);

  if (results->connect_seconds > 0)
    derived->connect_rate = results->joined / results->connect_seconds;
  if (results->message_seconds > 0)
    derived->deliveries_per_second = results->delivered / results->message_seconds;

  if (!results->has_server)
    return;

  /* Several nodes: their CPU and memory summed. */
  derived->has_cpu = TRUE;
  for (guint i = 0; i < results->n_nodes; i++)
    {
      derived->server_connect_cpu += process_connect_cpu (&results->nodes[i]);
      derived->server_message_cpu += process_message_cpu (&results->nodes[i]);
    }
  if (derived->server_message_cpu > 0)
    derived->deliveries_per_cpu_second = results->delivered / derived->server_message_cpu;
  derived->total_message_cpu = derived->server_message_cpu;
  if (results->has_redis)
    {
      guint64 accepted = results->sent - results->refused;

      derived->redis_connect_cpu = process_connect_cpu (&results->redis);
      derived->redis_message_cpu = process_message_cpu (&results->redis);
      derived->total_message_cpu += derived->redis_message_cpu;
      if (accepted > 0)
        derived->redis_us_per_message = derived->redis_message_cpu * 1e6 / accepted;
    }
  if (derived->total_message_cpu > 0)
    derived->total_deliveries_per_cpu_second = results->delivered / derived->total_message_cpu;
  /* The connect phase is joins only (nobody sends yet), so its CPU is
   * the cost of a join from accept to welcome, and of the join events
   * the room sends to those already in. */
  if (derived->server_connect_cpu > 0 && results->joined > 0)
    {
      derived->joins_per_cpu_second = results->joined / derived->server_connect_cpu;
      derived->cpu_us_per_join = derived->server_connect_cpu * 1e6 / results->joined;
    }
  if (results->joined > 0)
    {
      double growth_kb = 0;

      for (guint i = 0; i < results->n_nodes; i++)
        growth_kb += (double) results->nodes[i].connected.rss_kb - (double) results->nodes[i].start.rss_kb;
      derived->rss_growth_per_connection = growth_kb * 1024.0 / results->joined;
    }
}

static guint64
rss_sum (const GcBenchResults *results,
         gsize                 offset)
{
  guint64 sum = 0;

  for (guint i = 0; i < results->n_nodes; i++)
    sum += *(const guint64 *) ((const char *) &results->nodes[i] + offset);
  return sum;
}

#define RSS_SUM(results, field) \
  rss_sum ((results), G_STRUCT_OFFSET (GcBenchProcess, field))

static double
ms (guint64 ns)
{
  return (double) ns / NS_PER_MS;
}

static const char *
protocol_name (GcBenchProtocol protocol)
{
  return protocol == GC_BENCH_PROTOCOL_GOCHAT ? "gochat" : "relay";
}

void
gc_bench_report_print (FILE                 *out,
                       const GcBenchOptions *options,
                       const GcBenchResults *results)
{
  GcBenchHistogram *connect = results->connect_time;
  GcBenchHistogram *latency = results->latency;
  Derived derived;

  derive (results, &derived);

  fprintf (out, "gochat-bench %s: ", PACKAGE_VERSION);
  for (guint u = 0; u < options->n_urls; u++)
    fprintf (out, "%s%s", u > 0 ? " + " : "", options->urls[u]);
  if (options->n_urls == 0)
    fputs (options->url, out);
  fprintf (out, ", protocol %s\n", protocol_name (options->protocol));
  fprintf (out, "  %u clients in %u room%s, %u messages each, ", options->clients, options->rooms,
           options->rooms == 1 ? "" : "s", options->messages);
  if (options->rate > 0)
    fprintf (out, "%g per second, ", options->rate);
  else
    fprintf (out, "window %u, ", options->window);
  fprintf (out, "%u-byte text\n", options->size);

  fprintf (out, "connect    %u joined in %.3f s (%.0f/s); time p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
           results->joined, results->connect_seconds, derived.connect_rate,
           ms (gc_bench_histogram_get_percentile (connect, 50)),
           ms (gc_bench_histogram_get_percentile (connect, 99)),
           ms (gc_bench_histogram_get_max (connect)));
  if (results->expected_join_events > 0)
    fprintf (out, "           %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " join events received\n",
             results->join_events, results->expected_join_events);

  if (results->sent > 0)
    {
      fprintf (out, "messages   %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " deliveries expected, %"
               G_GUINT64_FORMAT " delivered in %.3f s: %.0f deliveries/s\n",
               results->sent, results->expected, results->delivered, results->message_seconds,
               derived.deliveries_per_second);
      fprintf (out, "           lost %" G_GUINT64_FORMAT ", duplicated %" G_GUINT64_FORMAT
               ", out of order %" G_GUINT64_FORMAT ", refused %" G_GUINT64_FORMAT
               ", disconnected %u", results->lost, results->duplicated, results->out_of_order,
               results->refused, results->disconnected);
      if (options->protocol == GC_BENCH_PROTOCOL_GOCHAT)
        fprintf (out, ", reordered %" G_GUINT64_FORMAT ", id mismatches %" G_GUINT64_FORMAT,
                 results->reordered, results->id_mismatches);
      if (results->misrouted > 0 || results->foreign > 0)
        fprintf (out, ", misrouted %" G_GUINT64_FORMAT ", foreign %" G_GUINT64_FORMAT,
                 results->misrouted, results->foreign);
      fputc ('\n', out);
      fprintf (out, "latency    p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms (mean %.3f ms)\n",
               ms (gc_bench_histogram_get_percentile (latency, 50)),
               ms (gc_bench_histogram_get_percentile (latency, 90)),
               ms (gc_bench_histogram_get_percentile (latency, 99)),
               ms (gc_bench_histogram_get_max (latency)),
               gc_bench_histogram_get_mean (latency) / NS_PER_MS);
    }

  if (results->has_server)
    {
      if (results->n_nodes > 1)
        {
          for (guint i = 0; i < results->n_nodes; i++)
            fprintf (out, "node %-5u pid %d: CPU %.3f s connecting, %.2f s during messages%s\n", i,
                     results->nodes[i].pid, process_connect_cpu (&results->nodes[i]),
                     process_message_cpu (&results->nodes[i]),
                     results->killed && results->killed_pid == results->nodes[i].pid
                     ? " (until it was killed)" : "");
          fprintf (out, "servers    %u nodes: CPU %.3f s connecting", results->n_nodes,
                   derived.server_connect_cpu);
        }
      else
        fprintf (out, "server     pid %d: CPU %.3f s connecting", options->server_pid,
                 derived.server_connect_cpu);
      if (derived.joins_per_cpu_second > 0)
        fprintf (out, " (%.1f µs per join: %.0f joins per CPU-second)", derived.cpu_us_per_join,
                 derived.joins_per_cpu_second);
      fprintf (out, ", %.2f s during messages", derived.server_message_cpu);
      if (derived.deliveries_per_cpu_second > 0)
        fprintf (out, ": %.0f deliveries per CPU-second", derived.deliveries_per_cpu_second);
      fputc ('\n', out);
      fprintf (out, "           RSS %.1f MiB before, %.1f MiB joined (%+.2f KiB per connection), "
               "%.1f MiB at end, peak %.1f MiB\n",
               RSS_SUM (results, start.rss_kb) / 1024.0, RSS_SUM (results, connected.rss_kb) / 1024.0,
               derived.rss_growth_per_connection / 1024.0, RSS_SUM (results, end.rss_kb) / 1024.0,
               RSS_SUM (results, end.peak_rss_kb) / 1024.0);
    }

  if (results->has_redis)
    {
      fprintf (out, "redis      pid %d: CPU %.3f s connecting, %.2f s during messages",
               results->redis.pid, derived.redis_connect_cpu, derived.redis_message_cpu);
      if (derived.redis_us_per_message > 0)
        fprintf (out, ": %.2f µs per chat message", derived.redis_us_per_message);
      fputc ('\n', out);
      if (derived.total_deliveries_per_cpu_second > 0)
        fprintf (out, "total      nodes and Redis: CPU %.2f s during messages: %.0f deliveries per "
                 "CPU-second\n", derived.total_message_cpu,
                 derived.total_deliveries_per_cpu_second);
    }

  if (results->killed)
    fprintf (out, "kill       node pid %d killed %.2f s into the messages, %u of its clients cut off: "
             "%" G_GUINT64_FORMAT " acknowledged messages missing at clients still connected; "
             "%" G_GUINT64_FORMAT " messages never acknowledged\n", results->killed_pid,
             results->kill_seconds, results->killed_clients, results->acked_lost,
             results->unacked);
  else if (options->kill_node_after_s > 0)
    fprintf (out, "note       the messages ended before --kill-node-after: nothing was killed\n");

  if (results->sent > 0)
    fprintf (out, "bench      CPU %.2f s during messages\n", results->bench_cpu_seconds);

  if (results->error_events > 0)
    fprintf (out, "note       %" G_GUINT64_FORMAT " error event%s from the server (first: %s)%s\n",
             results->error_events, results->error_events == 1 ? "" : "s",
             results->first_error_code != NULL ? results->first_error_code : "no code",
             g_strcmp0 (results->first_error_code, "rate_limited") == 0
             ? "; run gochat-server with a higher --rate-burst and --rate-per-second" : "");
  if (results->timed_out)
    fprintf (out, "note       stopped waiting: no delivery for %u s\n", options->timeout_s);
  if (results->interrupted)
    fprintf (out, "note       interrupted: the figures cover the run so far (%" G_GUINT64_FORMAT
             " deliveries still on their way)\n", results->unsettled);
}

/* JSON is written by hand: a builder would print 0.1 as
 * 0.10000000000000001, and every figure here has a natural precision. */

static void
json_string (GString    *out,
             const char *str)
{
  g_string_append_c (out, '"');
  for (const char *p = str; *p != '\0'; p++)
    {
      guchar c = *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, c);
    }
  g_string_append_c (out, '"');
}

static void
json_key (GString    *out,
          const char *name)
{
  if (out->len > 0 && out->str[out->len - 1] != '{')
    g_string_append_c (out, ',');
  json_string (out, name);
  g_string_append_c (out, ':');
}

/* @decimals digits after the point; trailing zeros are kept out. */
static void
json_double (GString    *out,
             const char *name,
             double      value,
             int         decimals)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  gsize len;

  json_key (out, name);
  if (!isfinite (value))
    {
      g_string_append (out, "null");
      return;
    }
  g_ascii_formatd (buffer, sizeof buffer, decimals == 0 ? "%.0f" :
                   decimals == 3 ? "%.3f" : "%.6f", value);
  len = strlen (buffer);
  if (strchr (buffer, '.') != NULL)
    {
      while (len > 0 && buffer[len - 1] == '0')
        len--;
      if (len > 0 && buffer[len - 1] == '.')
        len--;
    }
  g_string_append_len (out, buffer, len);
}

static void
json_int (GString    *out,
          const char *name,
          guint64     value)
{
  json_key (out, name);
  g_string_append_printf (out, "%" G_GUINT64_FORMAT, value);
}

static void
json_bool (GString    *out,
           const char *name,
           gboolean    value)
{
  json_key (out, name);
  g_string_append (out, value ? "true" : "false");
}

static void
json_percentiles (GString          *out,
                  const char       *name,
                  GcBenchHistogram *histogram)
{
  json_key (out, name);
  g_string_append_c (out, '{');
  json_double (out, "p50", ms (gc_bench_histogram_get_percentile (histogram, 50)), 3);
  json_double (out, "p90", ms (gc_bench_histogram_get_percentile (histogram, 90)), 3);
  json_double (out, "p99", ms (gc_bench_histogram_get_percentile (histogram, 99)), 3);
  json_double (out, "max", ms (gc_bench_histogram_get_max (histogram)), 3);
  json_double (out, "mean", gc_bench_histogram_get_mean (histogram) / NS_PER_MS, 3);
  g_string_append_c (out, '}');
}

static void
json_sample (GString                 *out,
             const char              *name,
             const GcBenchProcSample *sample)
{
  json_key (out, name);
  g_string_append_c (out, '{');
  json_double (out, "cpu_seconds", sample->cpu_seconds, 3);
  json_int (out, "rss_kb", sample->rss_kb);
  json_int (out, "peak_rss_kb", sample->peak_rss_kb);
  g_string_append_c (out, '}');
}

char *
gc_bench_report_to_json (const GcBenchOptions *options,
                         const GcBenchResults *results)
{
  GString *out = g_string_new ("{");
  Derived derived;

  derive (results, &derived);

  json_key (out, "version");
  json_string (out, PACKAGE_VERSION);
  json_key (out, "url");
  json_string (out, options->url);
  json_key (out, "urls");
  g_string_append_c (out, '[');
  for (guint u = 0; u < options->n_urls; u++)
    {
      if (u > 0)
        g_string_append_c (out, ',');
      json_string (out, options->urls[u]);
    }
  g_string_append_c (out, ']');
  json_key (out, "protocol");
  json_string (out, protocol_name (options->protocol));
  json_int (out, "clients", options->clients);
  json_int (out, "rooms", options->rooms);
  json_int (out, "messages", options->messages);
  json_double (out, "rate", options->rate, 6);
  json_int (out, "window", options->rate > 0 ? 0 : options->window);
  json_key (out, "spread");
  json_string (out, options->spread == GC_BENCH_SPREAD_ROOMS ? "rooms" : "members");
  json_int (out, "size", options->size);

  json_key (out, "connect");
  g_string_append_c (out, '{');
  json_int (out, "joined", results->joined);
  json_double (out, "seconds", results->connect_seconds, 6);
  json_double (out, "per_second", derived.connect_rate, 0);
  json_percentiles (out, "time_ms", results->connect_time);
  json_int (out, "join_events", results->join_events);
  json_int (out, "expected_join_events", results->expected_join_events);
  g_string_append_c (out, '}');

  json_int (out, "sent", results->sent);
  json_int (out, "expected", results->expected);
  json_int (out, "delivered", results->delivered);
  json_int (out, "lost", results->lost);
  json_int (out, "unsettled", results->unsettled);
  json_int (out, "duplicated", results->duplicated);
  json_int (out, "out_of_order", results->out_of_order);
  json_int (out, "reordered", results->reordered);
  json_int (out, "id_mismatches", results->id_mismatches);
  json_int (out, "refused", results->refused);
  json_int (out, "misrouted", results->misrouted);
  json_int (out, "foreign", results->foreign);
  json_int (out, "disconnected", results->disconnected);
  json_int (out, "error_events", results->error_events);
  json_key (out, "first_error_code");
  if (results->first_error_code != NULL)
    json_string (out, results->first_error_code);
  else
    g_string_append (out, "null");
  json_double (out, "seconds", results->message_seconds, 6);
  json_double (out, "deliveries_per_second", derived.deliveries_per_second, 0);
  json_percentiles (out, "latency_ms", results->latency);

  json_key (out, "server");
  if (results->has_server)
    {
      g_string_append_c (out, '{');
      json_int (out, "pid", options->server_pid);
      json_double (out, "connect_cpu_seconds", derived.server_connect_cpu, 6);
      json_double (out, "joins_per_cpu_second", derived.joins_per_cpu_second, 0);
      json_double (out, "cpu_us_per_join", derived.cpu_us_per_join, 3);
      json_double (out, "cpu_seconds", derived.server_message_cpu, 3);
      json_double (out, "deliveries_per_cpu_second", derived.deliveries_per_cpu_second, 0);
      json_double (out, "rss_growth_per_connection_bytes", derived.rss_growth_per_connection, 0);
      json_sample (out, "start", &results->server_start);
      json_sample (out, "joined", &results->server_connected);
      json_sample (out, "end", &results->server_end);
      /* Every node on its own; the figures above sum them. */
      json_key (out, "nodes");
      g_string_append_c (out, '[');
      for (guint i = 0; i < results->n_nodes; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          g_string_append_c (out, '{');
          json_int (out, "pid", results->nodes[i].pid);
          json_double (out, "connect_cpu_seconds", process_connect_cpu (&results->nodes[i]), 6);
          json_double (out, "cpu_seconds", process_message_cpu (&results->nodes[i]), 3);
          json_sample (out, "end", &results->nodes[i].end);
          g_string_append_c (out, '}');
        }
      g_string_append_c (out, ']');
      g_string_append_c (out, '}');
    }
  else
    {
      g_string_append (out, "null");
    }

  json_key (out, "redis");
  if (results->has_redis)
    {
      g_string_append_c (out, '{');
      json_int (out, "pid", results->redis.pid);
      json_double (out, "connect_cpu_seconds", derived.redis_connect_cpu, 6);
      json_double (out, "cpu_seconds", derived.redis_message_cpu, 3);
      json_double (out, "cpu_us_per_message", derived.redis_us_per_message, 3);
      json_sample (out, "end", &results->redis.end);
      g_string_append_c (out, '}');
    }
  else
    {
      g_string_append (out, "null");
    }

  /* Nodes and Redis: what the whole cluster spent. */
  json_key (out, "total");
  g_string_append_c (out, '{');
  json_double (out, "cpu_seconds", derived.total_message_cpu, 3);
  json_double (out, "deliveries_per_cpu_second", derived.total_deliveries_per_cpu_second, 0);
  g_string_append_c (out, '}');

  json_key (out, "kill");
  if (results->killed || options->kill_node_after_s > 0)
    {
      g_string_append_c (out, '{');
      json_bool (out, "killed", results->killed);
      json_int (out, "pid", results->killed_pid);
      json_double (out, "seconds", results->kill_seconds, 3);
      json_int (out, "clients_cut_off", results->killed_clients);
      json_int (out, "acked_lost", results->acked_lost);
      json_int (out, "unacked", results->unacked);
      g_string_append_c (out, '}');
    }
  else
    {
      g_string_append (out, "null");
    }

  json_double (out, "bench_cpu_seconds", results->bench_cpu_seconds, 3);
  json_bool (out, "timed_out", results->timed_out);
  json_bool (out, "interrupted", results->interrupted);
  g_string_append_c (out, '}');

  return g_string_free (out, FALSE);
}
