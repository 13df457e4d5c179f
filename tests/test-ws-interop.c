/* test-ws-interop.c: our echo programs against python3-websockets, both ways
 *
 * Real processes over loopback: Debian's python3-websockets client drives
 * ws-echo-server, and its server drives ws-echo-client, over ws:// and
 * wss:// (tests/tls). The Python scripts in tests/interop check every
 * echo and print "ALL OK"; this test checks exit statuses and outputs.
 * Every wait has a deadline.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>

#include "gc-test-wait.h"

/* Children (Python, the echo programs) get longer than the default. */
#define INTEROP_TIMEOUT_MS 90000
#define wait_for_child(cond) gc_test_wait_ms (cond, INTEROP_TIMEOUT_MS)

/* One child process, its stdout collected line by line. */

typedef struct {
  GSubprocess      *process;
  GDataInputStream *stdout_lines;
  GString          *output;
  guint             port;        /* from its "listening on N" line */
  gboolean          stdout_eof;
  gboolean          exited;
} Child;

static void read_next_line (Child *child);

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Child *child = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  guint64 port;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                    NULL, &error);
  if (line == NULL)
    {
      child->stdout_eof = TRUE;
      return;
    }

  g_test_message ("%s", line);
  g_string_append_printf (child->output, "%s\n", line);
  if (child->port == 0 && g_str_has_prefix (line, "listening on ") &&
      g_ascii_string_to_unsigned (line + strlen ("listening on "), 10, 1, 65535, &port, NULL))
    child->port = port;

  read_next_line (child);
}

static void
read_next_line (Child *child)
{
  g_data_input_stream_read_line_async (child->stdout_lines, G_PRIORITY_DEFAULT, NULL,
                                       on_line, child);
}

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Child *child = user_data;

  g_assert_true (g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL));
  child->exited = TRUE;
}

static void
child_spawn (Child               *child,
             const char * const  *argv)
{
  g_autoptr(GError) error = NULL;

  memset (child, 0, sizeof *child);
  child->output = g_string_new (NULL);
  child->process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  child->stdout_lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child->process));
  read_next_line (child);
  g_subprocess_wait_async (child->process, NULL, on_exited, child);
}

/* Waits for the "listening on N" line. */
static guint
child_wait_listening (Child *child)
{
  wait_for_child (child->port != 0 || child->exited);
  g_assert_cmpuint (child->port, !=, 0);
  return child->port;
}

/* Waits for exit and the end of its output; returns the exit status. */
static int
child_wait_exit (Child *child)
{
  wait_for_child (child->exited && child->stdout_eof);
  g_assert_true (g_subprocess_get_if_exited (child->process));
  return g_subprocess_get_exit_status (child->process);
}

static void
child_clear (Child *child)
{
  if (!child->exited)
    {
      g_subprocess_force_exit (child->process);
      wait_for_child (child->exited);
    }
  wait_for_child (child->stdout_eof);
  g_clear_object (&child->stdout_lines);
  g_clear_object (&child->process);
  g_string_free (child->output, TRUE);
}

static char *
built_program (const char *name)
{
  return g_test_build_filename (G_TEST_BUILT, name, NULL);
}

static char *
dist_file (const char *dir,
           const char *name)
{
  return g_test_build_filename (G_TEST_DIST, dir, name, NULL);
}

static gboolean
have_python_websockets (void)
{
  const char *argv[] = { PYTHON3, "-c", "import websockets", NULL };
  g_autoptr(GSubprocess) check = NULL;

  check = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
  return check != NULL &&
         g_subprocess_wait_check (check, NULL, NULL);
}

static void
assert_python_all_ok (Child      *python,
                      const char *expected_checks[])
{
  for (gsize i = 0; expected_checks[i] != NULL; i++)
    {
      g_autofree char *line = g_strdup_printf ("ok %s\n", expected_checks[i]);

      g_assert_nonnull (strstr (python->output->str, line));
    }
  g_assert_nonnull (strstr (python->output->str, "ALL OK\n"));
  g_assert_null (strstr (python->output->str, "FAIL"));
}

/* Python's websockets client against our ws-echo-server. */
static void
python_client_against_echo_server (gboolean tls)
{
  static const char *expected_checks[] = {
    "subprotocol gochat.v1", "text", "empty text", "binary", "empty binary",
    "text 65536", "binary 65536", "fragmented text", "fragmented binary",
    "ping answered", "close 1000", "close 1009", NULL
  };
  g_autofree char *server_path = built_program ("ws-echo-server");
  g_autofree char *client_script = dist_file ("interop", "client.py");
  g_autofree char *cert = dist_file ("tls", "server.pem");
  g_autofree char *key = dist_file ("tls", "server-key.pem");
  g_autofree char *ca = dist_file ("tls", "ca.pem");
  g_autofree char *url = NULL;
  Child server, python;
  guint port;

  if (!have_python_websockets ())
    {
      g_test_skip ("python3-websockets is not installed");
      return;
    }

  if (tls)
    {
      const char *argv[] = { server_path, "--port", "0", "--tls-cert", cert, "--tls-key", key,
                             NULL };
      child_spawn (&server, argv);
    }
  else
    {
      const char *argv[] = { server_path, "--port", "0", NULL };
      child_spawn (&server, argv);
    }
  port = child_wait_listening (&server);

  url = g_strdup_printf ("%s://127.0.0.1:%u/any/path?q=1", tls ? "wss" : "ws", port);
  {
    const char *argv[] = { PYTHON3, client_script, url, "--ca-file", ca, NULL };
    child_spawn (&python, argv);
  }
  g_assert_cmpint (child_wait_exit (&python), ==, 0);
  assert_python_all_ok (&python, expected_checks);

  /* The server still runs, and SIGTERM ends it cleanly. */
  g_assert_false (server.exited);
  g_subprocess_send_signal (server.process, SIGTERM);
  g_assert_cmpint (child_wait_exit (&server), ==, 0);

  child_clear (&python);
  child_clear (&server);
}

static void
test_python_client_ws (void)
{
  python_client_against_echo_server (FALSE);
}

static void
test_python_client_wss (void)
{
  python_client_against_echo_server (TRUE);
}

/* Python's websockets server against our ws-echo-client. */
static void
python_server_against_echo_client (gboolean tls)
{
  static const char *expected_checks[] = {
    "subprotocol gochat.v1", "text", "empty text", "binary", "text 100000",
    "binary 1 MiB", "fragmented text", "fragmented binary", "ping answered",
    "close 1000", NULL
  };
  g_autofree char *client_path = built_program ("ws-echo-client");
  g_autofree char *server_script = dist_file ("interop", "server.py");
  g_autofree char *cert = dist_file ("tls", "server.pem");
  g_autofree char *key = dist_file ("tls", "server-key.pem");
  g_autofree char *ca = dist_file ("tls", "ca.pem");
  g_autofree char *url = NULL;
  Child python, client;
  guint port;

  if (!have_python_websockets ())
    {
      g_test_skip ("python3-websockets is not installed");
      return;
    }

  if (tls)
    {
      const char *argv[] = { PYTHON3, server_script, "--cert", cert, "--key", key, NULL };
      child_spawn (&python, argv);
    }
  else
    {
      const char *argv[] = { PYTHON3, server_script, NULL };
      child_spawn (&python, argv);
    }
  port = child_wait_listening (&python);

  url = g_strdup_printf ("%s://%s:%u/echo", tls ? "wss" : "ws",
                         tls ? "localhost" : "127.0.0.1", port);
  {
    const char *argv[] = { client_path, "--protocol", "gochat.v1", "--ca-file", ca, url, NULL };
    child_spawn (&client, argv);
  }

  g_assert_cmpint (child_wait_exit (&client), ==, 0);
  g_assert_nonnull (strstr (client.output->str, "connected gochat.v1\n"));
  g_assert_nonnull (strstr (client.output->str, "closed 1000 bye\n"));
  g_assert_cmpint (child_wait_exit (&python), ==, 0);
  assert_python_all_ok (&python, expected_checks);

  child_clear (&client);
  child_clear (&python);
}

static void
test_python_server_ws (void)
{
  python_server_against_echo_client (FALSE);
}

static void
test_python_server_wss (void)
{
  python_server_against_echo_client (TRUE);
}

/* The exit statuses of failed starts. */
static void
test_echo_programs_failures (void)
{
  g_autofree char *client_path = built_program ("ws-echo-client");
  g_autofree char *server_path = built_program ("ws-echo-server");
  g_autofree char *cert = dist_file ("tls", "server.pem");
  g_autofree char *key = dist_file ("tls", "server-key.pem");
  g_autofree char *url = NULL;
  Child server, client;
  guint port;

  {
    const char *argv[] = { server_path, "--port", "0", "--tls-cert", "/nonexistent.pem",
                           "--tls-key", "/nonexistent.pem", NULL };
    child_spawn (&server, argv);
    /* A bad certificate: no listening, exit 2. */
    g_assert_cmpint (child_wait_exit (&server), ==, 2);
    g_assert_cmpuint (server.port, ==, 0);
    child_clear (&server);
  }

  {
    const char *argv[] = { server_path, "--port", "0", "--tls-cert", cert, "--tls-key", key,
                           NULL };
    child_spawn (&server, argv);
  }
  port = child_wait_listening (&server);

  /* Without the test CA the certificate is untrusted: exit 2. */
  url = g_strdup_printf ("wss://127.0.0.1:%u/", port);
  {
    const char *argv[] = { client_path, url, NULL };
    child_spawn (&client, argv);
  }
  g_assert_cmpint (child_wait_exit (&client), ==, 2);
  child_clear (&client);

  /* A bad URL: exit 2. */
  {
    const char *argv[] = { client_path, "http://127.0.0.1/", NULL };
    child_spawn (&client, argv);
  }
  g_assert_cmpint (child_wait_exit (&client), ==, 2);
  child_clear (&client);

  g_subprocess_send_signal (server.process, SIGINT);
  g_assert_cmpint (child_wait_exit (&server), ==, 0);
  child_clear (&server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ws/interop/python-client/ws", test_python_client_ws);
  g_test_add_func ("/ws/interop/python-client/wss", test_python_client_wss);
  g_test_add_func ("/ws/interop/python-server/ws", test_python_server_ws);
  g_test_add_func ("/ws/interop/python-server/wss", test_python_server_wss);
  g_test_add_func ("/ws/interop/echo-programs/failures", test_echo_programs_failures);

  return g_test_run ();
}
