/* test-server-process.c: the gochat-server program, run as a real process
 *
 * Command line (--help, --version, bad options and certificates exit 2
 * with one line), the "listening on ADDRESS:PORT" line, graceful SIGTERM,
 * wss:// and https:// with the test CA, message ids across a restart, and
 * that logs never carry message text.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>

#include "gc-test-server.h"

/* ------------------------------------------------------------------ */
/* Running the program                                                  */
/* ------------------------------------------------------------------ */

/* gochat-server with the extra arguments (NULL-terminated), logging
 * every line, so the log test sees all of them. */
#define server_start(...) \
  gc_test_server_process_start_flags (GC_TEST_SERVER_PROCESS_DEBUG_LOG, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Running the program to completion                                    */
/* ------------------------------------------------------------------ */

typedef struct {
  gboolean  done;
  char     *out;
  char     *err;
  int       exit_status;
} RunResult;

static void
on_communicated (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  RunResult *run = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &run->out, &run->err,
                                        &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (G_SUBPROCESS (source)));
  run->exit_status = g_subprocess_get_exit_status (G_SUBPROCESS (source));
  run->done = TRUE;
}

/* Runs gochat-server with @args to completion. */
static void
run_program (RunResult          *run,
             const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (char *) gc_test_server_program ());
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  memset (run, 0, sizeof *run);
  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, on_communicated, run);
  gc_test_wait (run->done);
}

static void
run_result_clear (RunResult *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RunResult, run_result_clear)

/* A clear one-line error, and exit status 2. */
static void
assert_one_line_error (const char * const *args)
{
  g_auto(RunResult) run;

  run_program (&run, args);
  g_test_message ("%s … → %d: %s", args[0], run.exit_status, run.err);
  g_assert_cmpint (run.exit_status, ==, 2);
  g_assert_cmpuint (strlen (run.err), >, 1);
  g_assert_true (g_str_has_suffix (run.err, "\n"));
  /* Exactly one line. */
  g_assert_true (strchr (run.err, '\n') == run.err + strlen (run.err) - 1);
}

/* ------------------------------------------------------------------ */
/* Command line                                                         */
/* ------------------------------------------------------------------ */

static void
test_help (void)
{
  g_auto(RunResult) run;
  const char * const args[] = { "--help", NULL };
  const struct {
    const char *option;
    const char *default_value;  /* NULL: not a number */
  } options[] = {
    { "--bind", NULL },
    { "--port", "8081" },
    { "--tls-cert", NULL },
    { "--tls-key", NULL },
    { "--history", "100" },
    { "--resume-seconds", "30" },
    { "--max-queue-bytes", "1048576" },
    { "--rate-burst", "10" },
    { "--rate-per-second", "5" },
    { "--join-burst", "30" },
    { "--join-per-second", "10" },
    { "--max-connections", NULL },
    { "--room-max-members", "1000" },
    { "--max-message-bytes", "65536" },
    { "--max-text-bytes", "4096" },
    { "--keepalive-seconds", "25" },
    { "--idle-timeout-seconds", "60" },
    { "--allowed-origin", NULL },
    { "--version", NULL },
  };
  g_auto(GStrv) lines = NULL;

  run_program (&run, args);
  g_assert_cmpint (run.exit_status, ==, 0);
  lines = g_strsplit (run.out, "\n", -1);

  for (gsize i = 0; i < G_N_ELEMENTS (options); i++)
    {
      const char *line = NULL;

      for (guint l = 0; lines[l] != NULL && line == NULL; l++)
        {
          const char *found = strstr (lines[l], options[i].option);
          char after;

          if (found == NULL)
            continue;
          after = found[strlen (options[i].option)];
          if (after == '=' || after == ' ' || after == '\0')
            line = lines[l];
        }

      if (line == NULL)
        g_error ("--help does not list %s:\n%s", options[i].option, run.out);
      /* Every setting names its default. */
      if (g_strcmp0 (options[i].option, "--version") != 0)
        g_assert_nonnull (strstr (line, "default"));
      if (options[i].default_value != NULL)
        {
          g_autofree char *needle = g_strdup_printf ("default: %s)", options[i].default_value);

          if (strstr (line, needle) == NULL)
            g_error ("--help line for %s lacks “%s”: %s", options[i].option, needle, line);
        }
    }
}

static void
test_version (void)
{
  g_auto(RunResult) run;
  const char * const args[] = { "--version", NULL };

  run_program (&run, args);
  g_assert_cmpint (run.exit_status, ==, 0);
  g_assert_nonnull (strstr (run.out, PACKAGE_VERSION));
}

static void
test_bad_options (void)
{
  const char * const unknown[] = { "--no-such-option", NULL };
  const char * const not_a_number[] = { "--port=abc", NULL };
  const char * const port_range[] = { "--port=70000", NULL };
  const char * const negative[] = { "--history=-1", NULL };
  const char * const zero_rate[] = { "--rate-per-second=0", NULL };
  const char * const bad_bind[] = { "--bind=not an address", "--port=0", NULL };
  const char * const extra[] = { "--port=0", "stray-argument", NULL };
  /* Absurd sizes are typos: they would allocate or overflow timers. */
  const char * const huge_history[] = { "--history=4294967295", "--port=0", NULL };
  const char * const huge_resume[] = { "--resume-seconds=4320000", "--port=0", NULL };

  assert_one_line_error (unknown);
  assert_one_line_error (not_a_number);
  assert_one_line_error (port_range);
  assert_one_line_error (negative);
  assert_one_line_error (zero_rate);
  assert_one_line_error (bad_bind);
  assert_one_line_error (extra);
  assert_one_line_error (huge_history);
  assert_one_line_error (huge_resume);
}

static void
test_bad_certificate (void)
{
  g_autofree char *readme = gc_test_tls_file ("README");
  g_autofree char *key = gc_test_tls_file ("server-key.pem");
  g_autofree char *missing_arg = g_strdup ("--tls-cert=/nonexistent/cert.pem");
  g_autofree char *key_arg = g_strdup_printf ("--tls-key=%s", key);
  g_autofree char *garbage_arg = g_strdup_printf ("--tls-cert=%s", readme);
  const char * const missing[] = { "--port=0", missing_arg, key_arg, NULL };
  const char * const garbage[] = { "--port=0", garbage_arg, key_arg, NULL };

  assert_one_line_error (missing);
  assert_one_line_error (garbage);
}

/* ------------------------------------------------------------------ */
/* Running                                                              */
/* ------------------------------------------------------------------ */

static void
test_sigterm (void)
{
  g_autoptr(GcTestServerProcess) server = server_start (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (server->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (server->port, "lobby", "bob");
  gint64 took_ms;

  g_assert_cmpuint (server->n_listening, ==, 1);
  g_assert_true (g_str_has_prefix (server->log->str, "listening on 127.0.0.1:") ||
                 strstr (server->log->str, "\nlistening on 127.0.0.1:") != NULL);
  gc_test_client_sync (a);
  gc_test_client_sync (b);
  gc_test_client_clear_queue (a);

  took_ms = gc_test_server_process_stop (server, SIGTERM, 3500);
  g_test_message ("exited %" G_GINT64_FORMAT " ms after SIGTERM", took_ms);
  g_assert_true (g_subprocess_get_if_exited (server->process));
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
  /* Scaled for slow runs: under ASan, LeakSanitizer's exit scan is part
   * of the time. */
  g_assert_cmpint (took_ms, <, gc_test_timeout_ms (3000));

  g_assert_cmpuint (gc_test_client_wait_closed (a), ==, 1001);
  g_assert_cmpuint (gc_test_client_wait_closed (b), ==, 1001);
  g_assert_cmpuint (gc_test_client_count_queued (a, GC_EVENT_LEAVE), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (b, GC_EVENT_LEAVE), ==, 0);
}

static void
test_sigint (void)
{
  g_autoptr(GcTestServerProcess) server = server_start (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (server->port, "lobby", "ann");

  gc_test_server_process_stop (server, SIGINT, 3500);
  g_assert_true (g_subprocess_get_if_exited (server->process));
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
  g_assert_cmpuint (gc_test_client_wait_closed (a), ==, 1001);
}

static void
test_tls (void)
{
  g_autofree char *cert = gc_test_tls_file ("server.pem");
  g_autofree char *key = gc_test_tls_file ("server-key.pem");
  g_autofree char *cert_arg = g_strdup_printf ("--tls-cert=%s", cert);
  g_autofree char *key_arg = g_strdup_printf ("--tls-key=%s", key);
  g_autoptr(GcTestServerProcess) server = server_start (cert_arg, key_arg, NULL);
  g_autoptr(GTlsDatabase) ca = gc_test_tls_ca ();
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) b = NULL;
  g_autoptr(GcTestClient) untrusted = NULL;
  g_autoptr(GcTestHttpResponse) healthz = NULL;
  g_autofree char *url_a = NULL;
  g_autofree char *url_b = NULL;
  GcTestJoinOptions options = { .tls_database = ca };

  url_a = gc_test_join_url ("wss", "localhost", server->port, "secure", "ann", NULL);
  url_b = gc_test_join_url ("wss", "127.0.0.1", server->port, "secure", "bob", NULL);
  a = gc_test_client_new_for_url (url_a, &options);
  gc_test_client_wait_welcome (a);
  b = gc_test_client_new_for_url (url_b, &options);
  gc_test_client_wait_welcome (b);
  g_assert_cmpuint (b->welcome->event->welcome->members->len, ==, 2);

  gc_test_client_send_message (a, "over tls", "t1");
  {
    g_autoptr(GcTestEvent) event = gc_test_client_wait_message (b, "over tls");

    g_assert_cmpstr (event->event->message->client_id, ==, "t1");
  }

  healthz = gc_test_http_get ("127.0.0.1", server->port, ca, "/healthz");
  g_assert_cmpuint (healthz->status, ==, 200);
  g_assert_nonnull (healthz->json);
  g_assert_cmpstr (json_object_get_string_member (healthz->json, "status"), ==, "ok");
  g_assert_cmpint (json_object_get_int_member (healthz->json, "connections"), ==, 2);

  /* Without the test CA, the certificate is not trusted. */
  untrusted = gc_test_client_new_for_url (url_b, NULL);
  gc_test_client_wait_finished (untrusted);
  g_assert_null (untrusted->connection);
  g_assert_nonnull (untrusted->connect_error);

  gc_test_server_process_stop (server, SIGTERM, 3500);
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
}

/* §4.3: ids never go back, even across a restart. */
static guint64
one_message_id (void)
{
  g_autoptr(GcTestServerProcess) server = server_start (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (server->port, "lobby", "ann");
  g_autoptr(GcTestEvent) event = NULL;

  gc_test_client_send_message (a, "id?", NULL);
  event = gc_test_client_wait_message (a, "id?");
  gc_test_server_process_stop (server, SIGTERM, 3500);
  return event->event->message->id;
}

static void
test_ids_across_restart (void)
{
  guint64 first = one_message_id ();
  guint64 second = one_message_id ();

  g_test_message ("ids %" G_GUINT64_FORMAT " then %" G_GUINT64_FORMAT, first, second);
  g_assert_cmpuint (second, >, first);
}

static void
test_logs (void)
{
  g_autoptr(GcTestServerProcess) server = server_start (NULL);
  g_autoptr(GcTestClient) a = gc_test_client_join (server->port, "lobby", "ann");
  g_autoptr(GcTestClient) b = gc_test_client_join (server->port, "lobby", "bob");
  g_autoptr(GcTestClient) clash = NULL;
  g_autoptr(GcTestEvent) leave = NULL;
  g_autoptr(GcTestEvent) seen = NULL;
  const char *secret = "xyzzy-secret-text-42";
  g_autofree char *log = NULL;

  gc_test_client_send_message (a, secret, NULL);
  seen = gc_test_client_wait_message (b, secret);
  clash = gc_test_client_start_join (server->port, "lobby", "ann", NULL);
  gc_test_client_assert_refused (clash, 409, "name_taken");
  gc_test_client_close (b, 1000);
  leave = gc_test_client_wait_event (a, GC_EVENT_LEAVE);

  gc_test_server_process_stop (server, SIGTERM, 3500);
  g_test_message ("server log:\n%s", server->log->str);
  g_assert_null (strstr (server->log->str, secret));

  /* A line for the joins, the refusal and the leave. */
  log = g_ascii_strdown (server->log->str, -1);
  g_assert_nonnull (strstr (log, "join"));
  g_assert_nonnull (strstr (log, "leave"));
  g_assert_nonnull (strstr (log, "name_taken"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server-process/help", test_help);
  g_test_add_func ("/server-process/version", test_version);
  g_test_add_func ("/server-process/bad-options", test_bad_options);
  g_test_add_func ("/server-process/bad-certificate", test_bad_certificate);
  g_test_add_func ("/server-process/sigterm", test_sigterm);
  g_test_add_func ("/server-process/sigint", test_sigint);
  g_test_add_func ("/server-process/tls", test_tls);
  g_test_add_func ("/server-process/ids-across-restart", test_ids_across_restart);
  g_test_add_func ("/server-process/logs", test_logs);

  return gc_test_run ();
}
