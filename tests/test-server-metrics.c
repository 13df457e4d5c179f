/* test-server-metrics.c: /metrics as Prometheus reads it
 *
 * The exposition lints clean with `promtool check metrics` (Debian package
 * prometheus; without it a small parser checks the format), carries the
 * standard process_* metrics, the build info and the configured limits,
 * and its counters move: bytes received, error events by code, members
 * waiting for a resume.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-test-server.h"

/* The value of the sample @series ("name" or "name{labels}"); fails the
 * test if it is missing. */
static double
sample_value (const char *exposition,
              const char *series)
{
  g_auto(GStrv) lines = g_strsplit (exposition, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize len = strlen (series);

      if (strncmp (lines[i], series, len) == 0 && lines[i][len] == ' ')
        return g_ascii_strtod (lines[i] + len + 1, NULL);
    }

  g_error ("no sample %s in:\n%s", series, exposition);
}

static char *
get_metrics (guint16 port)
{
  g_autoptr(GcTestHttpResponse) response = gc_test_http_get ("127.0.0.1", port, NULL, "/metrics");

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_true (g_str_has_prefix (soup_message_headers_get_content_type (response->headers, NULL),
                                   "text/plain"));
  return g_strdup (response->body_text);
}

/* Text format 0.0.4, as far as we write it: every sample is a name, an
 * optional {label="value",…} and a number; every family has HELP and TYPE
 * before its samples. */
static void
check_format (const char *exposition)
{
  g_autoptr(GRegex) sample = g_regex_new ("^([a-zA-Z_:][a-zA-Z0-9_:]*)"
                                          "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\\\\n]*\""
                                          "(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\\\\n]*\")*\\})?"
                                          " ([-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN))$",
                                          0, 0, NULL);
  g_autoptr(GHashTable) typed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) lines = g_strsplit (exposition, "\n", -1);

  g_assert_true (g_str_has_suffix (exposition, "\n"));
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_autoptr(GMatchInfo) match = NULL;
      g_autofree char *name = NULL;

      if (g_str_has_prefix (lines[i], "# HELP "))
        continue;
      if (g_str_has_prefix (lines[i], "# TYPE "))
        {
          g_auto(GStrv) parts = g_strsplit (lines[i] + strlen ("# TYPE "), " ", 2);

          g_assert_nonnull (parts[1]);
          g_assert_true (g_str_equal (parts[1], "counter") || g_str_equal (parts[1], "gauge"));
          g_hash_table_add (typed, g_strdup (parts[0]));
          continue;
        }
      if (!g_regex_match (sample, lines[i], 0, &match))
        g_error ("not a sample line: “%s”", lines[i]);
      name = g_match_info_fetch (match, 1);
      if (!g_hash_table_contains (typed, name))
        g_error ("sample before its # TYPE: “%s”", lines[i]);
    }
}

static void
test_metrics_lint (void)
{
  GcServerConfig config;
  g_autoptr(GcTestServer) ts = NULL;
  g_autofree char *exposition = NULL;
  g_autofree char *promtool = g_find_program_in_path ("promtool");

  gc_test_server_config_init (&config);
  ts = gc_test_server_new (&config);
  exposition = get_metrics (ts->port);

  check_format (exposition);

  if (promtool != NULL)
    {
      g_autoptr(GSubprocess) process = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;

      process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                  G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                  promtool, "check", "metrics", NULL);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_communicate_utf8 (process, exposition, NULL, &out, &err, &error));
      g_assert_no_error (error);
      /* Lint problems are printed (and make the exit status 3). */
      if (!g_subprocess_get_if_exited (process) || g_subprocess_get_exit_status (process) != 0)
        g_error ("promtool check metrics: %s%s", out, err);
      g_assert_cmpstr (out, ==, "");
    }
  else
    {
      g_test_message ("promtool not found (Debian package prometheus): format checked by the parser only");
    }
}

static void
test_metrics_values (void)
{
  GcServerConfig config;
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GcTestClient) ann = NULL;
  g_autoptr(GcTestClient) bob = NULL;
  g_autoptr(GcTestEvent) error_event = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *version = g_strdup_printf ("gochat_build_info{version=\"%s\"}", PACKAGE_VERSION);
  double start_time;

  gc_test_server_config_init (&config);
  config.max_text_bytes = 1234;
  config.resume_seconds = 60;
  ts = gc_test_server_new (&config);

  before = get_metrics (ts->port);
  g_assert_cmpfloat (sample_value (before, version), ==, 1);
  g_assert_cmpfloat (sample_value (before, "gochat_limit{name=\"max_text_bytes\"}"), ==, 1234);
  g_assert_cmpfloat (sample_value (before, "gochat_limit{name=\"resume_seconds\"}"), ==, 60);
  g_assert_cmpfloat (sample_value (before, "gochat_limit{name=\"rate_per_second\"}"), ==, 5);
  g_assert_cmpfloat (sample_value (before, "gochat_bytes_received_total"), ==, 0);
  g_assert_cmpfloat (sample_value (before, "gochat_members_waiting"), ==, 0);
  g_assert_cmpfloat (sample_value (before, "process_resident_memory_bytes"), >, 1024 * 1024);
  g_assert_cmpfloat (sample_value (before, "process_open_fds"), >=, 3);
  g_assert_cmpfloat (sample_value (before, "process_max_fds"), >=,
                     sample_value (before, "process_open_fds"));
  g_assert_cmpfloat (sample_value (before, "process_cpu_seconds_total"), >, 0);
  start_time = sample_value (before, "process_start_time_seconds");
  g_assert_cmpfloat (start_time, <=, g_get_real_time () / 1e6 + 1);
  g_assert_cmpfloat (start_time, >, g_get_real_time () / 1e6 - 24 * 3600);

  ann = gc_test_client_join (ts->port, "metrics", "ann");
  bob = gc_test_client_join (ts->port, "metrics", "bob");
  gc_test_client_send_message (ann, "eight by", NULL);
  gc_test_client_sync (ann);
  gc_test_client_send_text (ann, "{\"type\":\"message\",\"text\":\"   \"}");
  error_event = gc_test_client_wait_error (ann, "empty_message");
  gc_test_client_abort (bob);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 1);

  after = get_metrics (ts->port);
  /* The two messages and the sync, byte for byte: at least the texts. */
  g_assert_cmpfloat (sample_value (after, "gochat_bytes_received_total"), >=,
                     strlen ("{\"type\":\"message\",\"text\":\"eight by\"}") +
                     strlen ("{\"type\":\"message\",\"text\":\"   \"}"));
  g_assert_cmpfloat (sample_value (after, "gochat_error_events_total{code=\"empty_message\"}"), ==, 1);
  g_assert_cmpfloat (sample_value (after, "gochat_error_events_total{code=\"rate_limited\"}"), ==, 0);
  g_assert_cmpfloat (sample_value (after, "gochat_members_waiting"), ==, 1);
  g_assert_cmpfloat (sample_value (after, "gochat_members"), ==, 2);
  check_format (after);
}

/* --admin-bind: /healthz and /metrics on their own port, and only there. */
static void
test_metrics_admin_port (void)
{
  GcServerConfig config;
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;
  g_autoptr(GcTestClient) ann = NULL;
  const char *paths[] = { "/healthz", "/metrics" };
  guint16 admin_port;

  gc_test_server_config_init (&config);
  ts = gc_test_server_new (&config);
  g_assert_cmpuint (gc_server_get_admin_port (ts->server), ==, 0);
  g_assert_false (gc_server_listen_admin (ts->server, loopback, ts->port, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);
  g_assert_true (gc_server_listen_admin (ts->server, loopback, 0, &error));
  g_assert_no_error (error);
  admin_port = gc_server_get_admin_port (ts->server);
  g_assert_cmpuint (admin_port, !=, 0);
  g_assert_cmpuint (admin_port, !=, ts->port);

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GcTestHttpResponse) public = gc_test_http_get ("127.0.0.1", ts->port, NULL, paths[i]);
      g_autoptr(GcTestHttpResponse) admin = gc_test_http_get ("127.0.0.1", admin_port, NULL, paths[i]);

      gc_test_http_assert_refusal (public, 404, "not_found");
      g_assert_cmpuint (admin->status, ==, 200);
    }

  /* Joins stay on the public port. */
  {
    g_autoptr(GcTestHttpResponse) join = gc_test_http_upgrade (admin_port,
                                                               "/joinRoom?room_code=a&user_name=b",
                                                               NULL, NULL);

    gc_test_http_assert_refusal (join, 404, "not_found");
  }
  ann = gc_test_client_join (ts->port, "lobby", "ann");
  g_assert_false (ann->closed);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server-metrics/lint", test_metrics_lint);
  g_test_add_func ("/server-metrics/values", test_metrics_values);
  g_test_add_func ("/server-metrics/admin-port", test_metrics_admin_port);

  return gc_test_run ();
}
