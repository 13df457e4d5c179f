/* gc-test-redis.c: a redis-server of the test's own, in a temp dir
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-test-redis.h"
#include "gc-test-wait.h"

#include <glib/gstdio.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>

struct _GcTestRedis {
  char *dir;
  char *socket;
  char *url;
  GStrv extra_args;
  GSubprocess *process;
  gboolean exited;
};

const char *
gc_test_redis_server_path (void)
{
  static char *path;
  static gsize once;

  if (g_once_init_enter (&once))
    {
      path = g_find_program_in_path ("redis-server");
      g_once_init_leave (&once, 1);
    }
  return path;
}

static void
on_exited (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *exited = TRUE;
}

static gboolean
answers_ping (GcTestRedis *redis)
{
  struct timeval timeout = { 1, 0 };
  redisContext *c;
  redisReply *reply;
  gboolean ok = FALSE;

  c = redisConnectUnixWithTimeout (redis->socket, timeout);
  if (c == NULL)
    return FALSE;
  if (c->err == 0)
    {
      reply = redisCommand (c, "PING");
      ok = reply != NULL && reply->type == REDIS_REPLY_STATUS && strcmp (reply->str, "PONG") == 0;
      if (reply != NULL)
        freeReplyObject (reply);
    }
  redisFree (c);
  return ok;
}

static gboolean
redis_is_ready (gpointer user_data)
{
  GcTestRedis *redis = user_data;

  /* A redis-server that exited (bad arguments) fails at once, saying
   * why. */
  if (redis->exited)
    {
      g_autofree char *log_path = g_build_filename (redis->dir, "redis.log", NULL);
      g_autofree char *log = NULL;

      g_file_get_contents (log_path, &log, NULL, NULL);
      g_printerr ("redis-server exited during start-up; its log:\n%s\n", log != NULL ? log : "(none)");
      g_assert_false (redis->exited);
    }
  return answers_ping (redis);
}

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
spawn (GcTestRedis *redis)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *log = g_build_filename (redis->dir, "redis.log", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;

  g_strv_builder_add_many (builder, gc_test_redis_server_path (),
                           "--port", "0",
                           "--unixsocket", redis->socket,
                           "--unixsocketperm", "700",
                           "--save", "",
                           "--appendonly", "no",
                           "--dir", redis->dir,
                           "--logfile", log,
                           NULL);
  if (redis->extra_args != NULL)
    g_strv_builder_addv (builder, (const char **) redis->extra_args);
  argv = g_strv_builder_end (builder);

  redis->exited = FALSE;
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  /* A test that fails aborts: its redis-server goes with it. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  redis->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, &error);
  g_assert_no_error (error);
  g_subprocess_wait_async (redis->process, NULL, on_exited, &redis->exited);

  /* Ready when it answers PING on its socket; the wait checks it every
   * 50 ms with the main loop running. */
  gc_test_wait_until (redis_is_ready, redis, "redis-server answering on its socket");
}

GcTestRedis *
gc_test_redis_start (const char * const *extra_args)
{
  GcTestRedis *redis = g_new0 (GcTestRedis, 1);
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (gc_test_redis_server_path ());
  redis->dir = g_dir_make_tmp ("gochat-redis-XXXXXX", &error);
  g_assert_no_error (error);
  redis->socket = g_build_filename (redis->dir, "r.sock", NULL);
  redis->url = g_strconcat ("unix://", redis->socket, NULL);
  redis->extra_args = g_strdupv ((char **) extra_args);
  spawn (redis);
  return redis;
}

const char *
gc_test_redis_get_url (GcTestRedis *redis)
{
  return redis->url;
}

const char *
gc_test_redis_get_socket (GcTestRedis *redis)
{
  return redis->socket;
}

GPid
gc_test_redis_get_pid (GcTestRedis *redis)
{
  const char *id = redis->process != NULL ? g_subprocess_get_identifier (redis->process) : NULL;

  return id != NULL ? atoi (id) : 0;
}

void
gc_test_redis_kill (GcTestRedis *redis)
{
  if (redis->process == NULL)
    return;
  if (!redis->exited)
    g_subprocess_send_signal (redis->process, SIGKILL);
  gc_test_wait (redis->exited);
  g_clear_object (&redis->process);
  /* A killed server leaves its socket file behind. */
  g_unlink (redis->socket);
}

void
gc_test_redis_restart (GcTestRedis *redis)
{
  g_assert_null (redis->process);
  spawn (redis);
}

static void
reply_append (GString    *text,
              redisReply *reply)
{
  switch (reply->type)
    {
    case REDIS_REPLY_INTEGER:
      g_string_append_printf (text, "%lld", reply->integer);
      break;
    case REDIS_REPLY_NIL:
      g_string_append (text, "(nil)");
      break;
    case REDIS_REPLY_ARRAY:
      for (size_t i = 0; i < reply->elements; i++)
        {
          if (i > 0)
            g_string_append_c (text, ' ');
          reply_append (text, reply->element[i]);
        }
      break;
    default:
      g_string_append_len (text, reply->str, reply->len);
      break;
    }
}

char *
gc_test_redis_run (GcTestRedis *redis,
                   const char  *first_arg,
                   ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  struct timeval timeout = { 10, 0 };
  GString *text = g_string_new (NULL);
  redisContext *c;
  redisReply *reply;
  const char *arg;
  va_list ap;

  va_start (ap, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);

  c = redisConnectUnixWithTimeout (redis->socket, timeout);
  g_assert_nonnull (c);
  g_assert_cmpint (c->err, ==, 0);
  reply = redisCommandArgv (c, args->len, (const char **) args->pdata, NULL);
  g_assert_nonnull (reply);
  reply_append (text, reply);
  freeReplyObject (reply);
  redisFree (c);
  return g_string_free (text, FALSE);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_unlink (child);
    }
  g_rmdir (path);
}

void
gc_test_redis_free (GcTestRedis *redis)
{
  if (redis == NULL)
    return;
  gc_test_redis_kill (redis);
  remove_tree (redis->dir);
  g_free (redis->dir);
  g_free (redis->socket);
  g_free (redis->url);
  g_strfreev (redis->extra_args);
  g_free (redis);
}

GcTestRedis *
gc_test_redis_start_if_installed (const char * const *extra_args)
{
  if (gc_test_redis_server_path () == NULL)
    return NULL;
  return gc_test_redis_start (extra_args);
}

gboolean
gc_test_redis_skip (GcTestRedis *redis)
{
  if (redis == NULL)
    {
      g_test_skip ("redis-server is not installed");
      return TRUE;
    }
  return FALSE;
}
