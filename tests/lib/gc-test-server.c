/* gc-test-server.c: the one way the tests start a GoChat server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
# include <sys/prctl.h>
#endif

#include "gc-test-server.h"

#ifdef HAVE_REDIS
# include "gc-redis-rooms.h"
# include "gc-server-private.h"
# include "gc-test-redis.h"
#endif

/* ------------------------------------------------------------------ */
/* In process                                                           */
/* ------------------------------------------------------------------ */

void
gc_test_server_config_init (GcServerConfig *config)
{
  gc_server_config_init_default (config);
  config->join_per_second = 0;
}

gboolean
gc_test_server_redis_mode (void)
{
#ifdef HAVE_REDIS
  return g_strcmp0 (g_getenv ("GC_TEST_REDIS"), "1") == 0;
#else
  return FALSE;
#endif
}

gboolean
gc_test_server_skip_if_redis (const char *reason)
{
  g_return_val_if_fail (reason != NULL, FALSE);

  if (!gc_test_server_redis_mode ())
    return FALSE;

  g_test_skip (reason);
  return TRUE;
}

#ifdef HAVE_REDIS
/* One redis-server per test program, gone with it. */
static GcTestRedis *shared_redis;

static void
free_shared_redis (void)
{
  g_clear_pointer (&shared_redis, gc_test_redis_free);
}

static GcTestRedis *
get_shared_redis (void)
{
  if (shared_redis == NULL)
    {
      if (gc_test_redis_server_path () == NULL)
        g_error ("GC_TEST_REDIS=1, but redis-server is not installed");
      shared_redis = gc_test_redis_start (NULL);
      atexit (free_shared_redis);
    }
  return shared_redis;
}

static void
on_lease_changed (GcRedisRooms *rooms,
                  gboolean      held,
                  gpointer      user_data)
{
  *(gboolean *) user_data = held;
}

/* As gochat-server --redis starts a node: it serves once it holds its
 * lease. Redis is emptied first: a fresh node in a fresh cluster, as a
 * fresh single server is, whatever the tests before left. */
static void
start_redis_node (GcTestServer *ts)
{
  GcTestRedis *redis = get_shared_redis ();
  g_autofree char *flushed = gc_test_redis_run (redis, "FLUSHALL", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRedisAddress) address = gc_redis_address_parse (gc_test_redis_get_url (redis), &error);
  g_autoptr(GcRedisClient) client = NULL;
  g_autofree char *node_id = g_uuid_string_random ();
  GcRedisRooms *rooms;
  gboolean held = FALSE;
  gulong handler;

  g_assert_cmpstr (flushed, ==, "OK");
  g_assert_no_error (error);
  client = gc_redis_client_new (address);
  gc_redis_client_start (client);
  rooms = gc_redis_rooms_new (client, node_id);
  gc_redis_rooms_set_history (rooms, ts->config.history);
  gc_server_set_redis (ts->server, rooms, node_id);

  handler = g_signal_connect (rooms, "lease-changed", G_CALLBACK (on_lease_changed), &held);
  /* gochat-server's default lease; the resume window is the config's. */
  gc_redis_rooms_start_lease (rooms, 6000, ts->config.resume_seconds * 1000);
  gc_test_wait (held || gc_redis_rooms_has_lease (rooms));
  g_signal_handler_disconnect (rooms, handler);
  /* Taken only with both connections up: a join on it is not refused
   * 4503 for a subscriptions link still connecting. */
  g_assert_true (gc_redis_client_is_up (client));

  ts->redis = G_OBJECT (rooms);
}

static void
on_drained (const GcRedisRoomResult *result,
            const GError            *error,
            gpointer                 user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* As gochat-server --redis stops: after the shutdown the lease is given
 * up (the members wait for a resume elsewhere). Events still on their way
 * go nowhere: the server is about to go (it does not unset its event
 * function itself, as gochat-server exits here). */
static void
drain_redis_node (GcTestServer *ts)
{
  GcRedisRooms *rooms = GC_REDIS_ROOMS (ts->redis);
  gboolean drained = FALSE;

  gc_redis_rooms_drain (rooms, on_drained, &drained);
  gc_test_wait (drained);
  gc_redis_rooms_set_event_func (rooms, NULL, NULL);
}

/* Then the node's Redis connections go too, with the last reference. */
static void
free_redis_node (GcTestServer *ts)
{
  g_object_add_weak_pointer (ts->redis, (gpointer *) &ts->redis);
  g_object_unref (ts->redis);
  gc_test_wait (ts->redis == NULL);
}
#endif

void
gc_test_server_start (GcTestServer              *ts,
                      const GcTestServerOptions *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  g_assert_null (ts->server);

  if (options != NULL && options->config != NULL)
    ts->config = *options->config;
  else
    gc_test_server_config_init (&ts->config);
  ts->tls = options != NULL && options->tls;

  ts->server = gc_server_new (&ts->config);
#ifdef HAVE_REDIS
  if (gc_test_server_redis_mode ())
    start_redis_node (ts);
#endif
  if (ts->tls)
    {
      g_autoptr(GTlsCertificate) certificate = gc_test_tls_certificate ();

      g_assert_true (gc_server_set_tls_certificate (ts->server, certificate, &error));
      g_assert_no_error (error);
    }
  g_assert_true (gc_server_listen (ts->server, loopback, options != NULL ? options->port : 0,
                                   &error));
  g_assert_no_error (error);
  ts->port = gc_server_get_port (ts->server);
  g_assert_cmpuint (ts->port, >, 0);

  g_free (ts->url);
  ts->url = g_strdup_printf ("%s://127.0.0.1:%u", ts->tls ? "wss" : "ws", ts->port);
}

GcTestServer *
gc_test_server_new_full (const GcTestServerOptions *options)
{
  GcTestServer *ts = g_new0 (GcTestServer, 1);

  gc_test_server_start (ts, options);
  return ts;
}

GcTestServer *
gc_test_server_new (const GcServerConfig *config)
{
  GcTestServerOptions options = { .config = config };

  return gc_test_server_new_full (&options);
}

static void
on_shutdown_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gc_server_shutdown_finish (GC_SERVER (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

void
gc_test_server_begin_shutdown (GcTestServer *ts,
                               gboolean     *done)
{
  g_return_if_fail (ts->server != NULL);

  *done = FALSE;
  gc_server_shutdown_async (ts->server, NULL, on_shutdown_done, done);
}

void
gc_test_server_stop (GcTestServer *ts)
{
  GcServer *server = ts->server;
  gboolean done = FALSE;

  if (server == NULL)
    return;

  /* A test may have shut it down itself (it no longer listens then). */
  if (gc_server_get_port (server) != 0)
    {
      gc_server_shutdown_async (server, NULL, on_shutdown_done, &done);
      gc_test_wait (done);
    }
  g_assert_cmpuint (gc_server_get_n_rooms (server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_connections (server), ==, 0);
#ifdef HAVE_REDIS
  if (ts->redis != NULL)
    drain_redis_node (ts);
#endif

  /* The last reference must really be the last; connections still
   * draining may hold the server a moment longer. */
  g_object_add_weak_pointer (G_OBJECT (server), (gpointer *) &ts->server);
  g_object_unref (server);
  gc_test_wait (ts->server == NULL);

#ifdef HAVE_REDIS
  if (ts->redis != NULL)
    free_redis_node (ts);
#endif
}

void
gc_test_server_free (GcTestServer *ts)
{
  if (ts == NULL)
    return;

  gc_test_server_stop (ts);
  g_free (ts->url);
  g_free (ts);
}

void
gc_test_server_setup (GcTestServer  *ts,
                      gconstpointer  configure)
{
  GcServerConfig config;
  GcTestServerOptions options = { .config = &config };

  gc_test_server_config_init (&config);
  if (configure != NULL)
    ((GcTestServerConfigure) configure) (&config);
  gc_test_server_start (ts, &options);
}

void
gc_test_server_teardown (GcTestServer  *ts,
                         gconstpointer  configure)
{
  gc_test_server_stop (ts);
  g_clear_pointer (&ts->url, g_free);
}

/* ------------------------------------------------------------------ */
/* As a process                                                         */
/* ------------------------------------------------------------------ */

const char *
gc_test_server_program (void)
{
  return GOCHAT_SERVER_PATH;
}

static void read_next_line (GcTestServerProcess *server);

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GcTestServerProcess *server = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  const char *colon;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL,
                                                    &error);
  if (line == NULL)
    {
      server->stderr_done = TRUE;
      return;
    }

  g_string_append_printf (server->log, "%s\n", line);
  if (g_str_has_prefix (line, "listening on ") && ++server->n_listening == 1)
    {
      /* The first: a later one (a second address) has its own port. */
      colon = strrchr (line, ':');
      g_assert_nonnull (colon);
      server->port = (guint16) g_ascii_strtoull (colon + 1, NULL, 10);
      g_assert_cmpuint (server->port, >, 0);
    }

  read_next_line (server);
}

static void
read_next_line (GcTestServerProcess *server)
{
  g_data_input_stream_read_line_async (server->stderr_lines, G_PRIORITY_DEFAULT,
                                       server->cancellable, on_line, server);
}

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GcTestServerProcess *server = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  server->exited = TRUE;
}

/* Runs in the child, between fork and exec. */
static void
child_setup (gpointer user_data)
{
  const GcTestServerProcessOptions *options = user_data;

#ifdef __linux__
  /* Children end with the test, even when it fails half-way: a server
   * left behind would run forever. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
#endif
  if (options->fd_limit > 0)
    {
      struct rlimit limit = { options->fd_limit, options->fd_limit };
      struct rlimit current;

      if (getrlimit (RLIMIT_NOFILE, &current) == 0 && current.rlim_max < limit.rlim_max)
        limit.rlim_max = current.rlim_max;
      limit.rlim_cur = MIN (limit.rlim_cur, limit.rlim_max);
      setrlimit (RLIMIT_NOFILE, &limit);
    }
}

GSubprocess *
gc_test_spawn (const char * const *argv,
               GSubprocessFlags    flags)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_set_child_setup (launcher, child_setup,
                                         g_new0 (GcTestServerProcessOptions, 1), g_free);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);

  return process;
}

GcTestServerProcess *
gc_test_server_process_start_full (const char * const               *args,
                                   const GcTestServerProcessOptions *options)
{
  GcTestServerProcessOptions *setup = g_new0 (GcTestServerProcessOptions, 1);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GcTestServerProcess *server = g_new0 (GcTestServerProcess, 1);

  g_ptr_array_add (argv, (char *) gc_test_server_program ());
  g_ptr_array_add (argv, (char *) "--bind=127.0.0.1");
  g_ptr_array_add (argv, (char *) "--port=0");
  for (gsize i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  if (options != NULL)
    *setup = *options;
  g_subprocess_launcher_set_child_setup (launcher, child_setup, setup, g_free);
  if (setup->flags & GC_TEST_SERVER_PROCESS_DEBUG_LOG)
    g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                                  &error);
  g_assert_no_error (error);

  server->log = g_string_new (NULL);
  server->cancellable = g_cancellable_new ();
  server->stderr_lines = g_data_input_stream_new (g_subprocess_get_stderr_pipe (server->process));
  read_next_line (server);
  g_subprocess_wait_async (server->process, NULL, on_exited, server);

  gc_test_wait (server->port != 0 || server->exited);
  if (server->port == 0)
    {
      gc_test_wait (server->stderr_done);
      g_error ("gochat-server exited before listening:\n%s", server->log->str);
    }

  return server;
}

GcTestServerProcess *
gc_test_server_process_startv (const char * const      *args,
                               GcTestServerProcessFlags flags)
{
  GcTestServerProcessOptions options = { .flags = flags };

  return gc_test_server_process_start_full (args, &options);
}

static GcTestServerProcess *
process_start_valist (GcTestServerProcessFlags  flags,
                      const char               *first_arg,
                      va_list                   ap)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  for (const char *arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  g_ptr_array_add (args, NULL);

  return gc_test_server_process_startv ((const char * const *) args->pdata, flags);
}

GcTestServerProcess *
gc_test_server_process_start (const char *first_arg,
                              ...)
{
  GcTestServerProcess *server;
  va_list ap;

  va_start (ap, first_arg);
  server = process_start_valist (GC_TEST_SERVER_PROCESS_DEFAULT, first_arg, ap);
  va_end (ap);
  return server;
}

GcTestServerProcess *
gc_test_server_process_start_flags (GcTestServerProcessFlags  flags,
                                    const char               *first_arg,
                                    ...)
{
  GcTestServerProcess *server;
  va_list ap;

  va_start (ap, first_arg);
  server = process_start_valist (flags, first_arg, ap);
  va_end (ap);
  return server;
}

gint64
gc_test_server_process_stop (GcTestServerProcess *server,
                             int                  signal_number,
                             guint                timeout_ms)
{
  gint64 start = g_get_monotonic_time ();

  if (!server->exited)
    g_subprocess_send_signal (server->process, signal_number);
  gc_test_wait_ms (server->exited, timeout_ms);
  gc_test_wait (server->stderr_done);
  return (g_get_monotonic_time () - start) / 1000;
}

void
gc_test_server_process_free (GcTestServerProcess *server)
{
  if (server == NULL)
    return;

  if (!server->exited)
    {
      g_subprocess_force_exit (server->process);
      gc_test_wait (server->exited);
    }
  if (!server->stderr_done)
    {
      g_cancellable_cancel (server->cancellable);
      gc_test_wait (server->stderr_done);
    }

  g_clear_object (&server->stderr_lines);
  g_clear_object (&server->process);
  g_clear_object (&server->cancellable);
  g_string_free (server->log, TRUE);
  g_free (server);
}
