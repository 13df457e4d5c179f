/* gochat-server.c: the gochat-server program — options, signals, logging
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "gc-server.h"
#include "gc-server-private.h"

#define EXIT_USAGE 2

/* File descriptors kept for everything that is not a client connection:
 * listening sockets, the epoll fd, logging, the TLS backend (about 15). */
#define RESERVED_FDS 32

#define MAX_HISTORY        100000
#define MAX_RESUME_SECONDS 86400

typedef struct {
  GMainLoop  *loop;
  GcServer   *server;
  gboolean    stopping;
  const char *tls_cert;   /* --tls-cert, --tls-key: reread on SIGHUP */
  const char *tls_key;
#ifdef HAVE_REDIS
  GcRedisRooms *redis;    /* --redis */
#endif
} Program;

static G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN void
die_usage (const char *format,
           ...)
{
  va_list args;

  fputs ("gochat-server: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  exit (EXIT_USAGE);
}

/* Appends @value to @line as a logfmt value: bare when it is one word,
 * else in double quotes with `"` and `\` escaped and control characters
 * as \n, \t or \u00XX. */
static void
append_logfmt_value (GString    *line,
                     const char *value,
                     gssize      length)
{
  gsize len = length < 0 ? strlen (value) : (gsize) length;
  gboolean bare = len > 0;

  for (gsize i = 0; i < len && bare; i++)
    {
      guchar c = value[i];

      if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
        bare = FALSE;
    }
  if (bare)
    {
      g_string_append_len (line, value, len);
      return;
    }

  g_string_append_c (line, '"');
  for (gsize i = 0; i < len; i++)
    {
      guchar c = value[i];

      if (c == '"' || c == '\\')
        {
          g_string_append_c (line, '\\');
          g_string_append_c (line, c);
        }
      else if (c == '\n')
        g_string_append (line, "\\n");
      else if (c == '\t')
        g_string_append (line, "\\t");
      else if (c < ' ' || c == 0x7f)
        g_string_append_printf (line, "\\u%04x", c);
      else
        g_string_append_c (line, c);
    }
  g_string_append_c (line, '"');
}

/* @value in exactly @width decimal digits (zero-padded, 0 ≤ @value). */
static void
append_digits (GString *line,
               long     value,
               guint    width)
{
  char digits[8];

  g_assert (width <= sizeof digits);
  for (guint i = width; i > 0; i--)
    {
      digits[i - 1] = '0' + value % 10;
      value /= 10;
    }
  g_string_append_len (line, digits, width);
}

static const char *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "error";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "critical";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "notice";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

/* One logfmt line: time (UTC, milliseconds), level, then the event's
 * fields (see gc_server_log_event()) or the message. */
static void
format_logfmt (GString         *line,
               GLogLevelFlags   level,
               const GLogField *fields,
               gsize            n_fields)
{
  static const struct { const char *field; const char *key; } keys[] = {
    { "GOCHAT_EVENT", "event" },
    { "GOCHAT_ROOM", "room" },
    { "GOCHAT_USER_ID", "user" },
    { "GOCHAT_ADDRESS", "address" },
    { "GOCHAT_REASON", "reason" },
  };
  gboolean has_event = FALSE;
  struct timespec now;
  struct tm tm;

  clock_gettime (CLOCK_REALTIME, &now);
  gmtime_r (&now.tv_sec, &tm);
  /* By hand: printf was most of a line's cost, and a line is written
   * per join. */
  g_string_append (line, "time=");
  append_digits (line, tm.tm_year + 1900, 4);
  g_string_append_c (line, '-');
  append_digits (line, tm.tm_mon + 1, 2);
  g_string_append_c (line, '-');
  append_digits (line, tm.tm_mday, 2);
  g_string_append_c (line, 'T');
  append_digits (line, tm.tm_hour, 2);
  g_string_append_c (line, ':');
  append_digits (line, tm.tm_min, 2);
  g_string_append_c (line, ':');
  append_digits (line, tm.tm_sec, 2);
  g_string_append_c (line, '.');
  append_digits (line, now.tv_nsec / 1000000, 3);
  g_string_append (line, "Z level=");
  g_string_append (line, level_name (level));

  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      for (gsize i = 0; i < n_fields; i++)
        {
          if (fields[i].length < 0 && g_str_equal (fields[i].key, keys[k].field))
            {
              g_string_append_c (line, ' ');
              g_string_append (line, keys[k].key);
              g_string_append_c (line, '=');
              append_logfmt_value (line, fields[i].value, -1);
              has_event = TRUE;
              break;
            }
        }
    }

  if (has_event)
    return;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "MESSAGE"))
        {
          g_string_append (line, " msg=");
          append_logfmt_value (line, fields[i].value, fields[i].length);
          break;
        }
    }
}

/* Our lines (join, leave, refusal, …) are the operator's record, so they
 * are always written: to journald under systemd, else to stderr as
 * logfmt; everything else follows GLib's defaults (G_MESSAGES_DEBUG). */
static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  static int to_journald = -1;
  gboolean ours = FALSE;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN") && fields[i].length < 0 &&
          g_strcmp0 (fields[i].value, G_LOG_DOMAIN) == 0)
        {
          ours = TRUE;
          break;
        }
    }

  if (ours && (level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_WARNING |
                        G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)))
    {
      g_autoptr(GString) line = NULL;

      /* Asked once: stderr does not change, and asking costs a syscall
       * per line. */
      if (to_journald < 0)
        to_journald = g_log_writer_is_journald (fileno (stderr));
      if (to_journald &&
          g_log_writer_journald (level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
        return G_LOG_WRITER_HANDLED;

      line = g_string_sized_new (160);
      format_logfmt (line, level, fields, n_fields);
      g_string_append_c (line, '\n');
      fwrite (line->str, 1, line->len, stderr);
      fflush (stderr);
      return G_LOG_WRITER_HANDLED;
    }

  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* Raises the soft file-descriptor limit to the hard one and returns the
 * result. */
static rlim_t
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 1024;

  if (limit.rlim_cur < limit.rlim_max)
    {
      struct rlimit raised = { limit.rlim_max, limit.rlim_max };

      /* An unlimited hard limit may still be above what the kernel takes. */
      if (setrlimit (RLIMIT_NOFILE, &raised) != 0 && limit.rlim_max == RLIM_INFINITY)
        {
          raised.rlim_cur = 1024 * 1024;
          if (setrlimit (RLIMIT_NOFILE, &raised) != 0)
            raised.rlim_cur = limit.rlim_cur;
        }
      if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
        return raised.rlim_cur;
    }

  return limit.rlim_cur;
}

/* Shares the descriptors @fd_limit leaves for clients between
 * handshakes in progress (a sixteenth, at most the default 1024) and
 * connections (the rest): under `ulimit -n 1024` a fixed 1024 handshakes
 * left 16 connections and let a silent flood run the server out of
 * descriptors. */
static void
scale_to_fd_limit (GcServerConfig *config,
                   rlim_t          fd_limit)
{
  gint64 budget = MAX ((gint64) MIN (fd_limit, (rlim_t) G_MAXINT32) - RESERVED_FDS, 32);

  config->max_handshakes = (guint) CLAMP (budget / 16, 16, (gint64) config->max_handshakes);
  config->max_connections = (guint) MAX (budget - (gint64) config->max_handshakes, 16);
}

#ifdef HAVE_REDIS
static void
on_drained (const GcRedisRoomResult *result,
            const GError            *error,
            gpointer                 user_data)
{
  Program *program = user_data;

  if (error != NULL)
    g_warning ("Drain: %s", error->message);
  g_main_loop_quit (program->loop);
}

static void
on_lease_changed (GcRedisRooms *rooms,
                  gboolean      held,
                  gpointer      user_data)
{
  gboolean *waiting = user_data;

  if (held)
    *waiting = FALSE;
}

/* --redis: a node serves once it holds its lease (issue 13). */
static void
start_redis (Program    *program,
             const char *url,
             guint       history,
             guint       lease_ms,
             guint       resume_ms)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRedisAddress) address = gc_redis_address_parse (url, &error);
  g_autoptr(GcRedisClient) client = NULL;
  g_autofree char *node_id = g_uuid_string_random ();
  gboolean waiting = TRUE;
  gulong handler;

  if (address == NULL)
    die_usage ("--redis: %s", error->message);

  client = gc_redis_client_new (address);
  gc_redis_client_start (client);
  program->redis = gc_redis_rooms_new (client, node_id);
  gc_redis_rooms_set_history (program->redis, history);
  gc_server_set_redis (program->server, program->redis, node_id);

  handler = g_signal_connect (program->redis, "lease-changed", G_CALLBACK (on_lease_changed), &waiting);
  gc_redis_rooms_start_lease (program->redis, lease_ms, resume_ms);
  fprintf (stderr, "node %s: waiting for Redis at %s\n", node_id, url);
  fflush (stderr);
  /* A SIGTERM meanwhile ends the wait: the node never served. */
  while (waiting && !gc_redis_rooms_has_lease (program->redis) && !program->stopping)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (program->redis, handler);
}
#endif

static void
on_shutdown_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Program *program = user_data;
  g_autoptr(GError) error = NULL;

  if (!gc_server_shutdown_finish (GC_SERVER (source), result, &error))
    g_warning ("Shutdown: %s", error->message);

#ifdef HAVE_REDIS
  /* In a cluster the members wait for a resume on another node: the
   * lease runs out now rather than their leaves being broadcast. */
  if (program->redis != NULL)
    {
      gc_redis_rooms_drain (program->redis, on_drained, program);
      return;
    }
#endif

  g_main_loop_quit (program->loop);
}

static gboolean
on_stop_signal (gpointer user_data)
{
  Program *program = user_data;

  /* A second signal while the closing handshakes run: stop waiting. */
  if (program->stopping)
    {
      g_main_loop_quit (program->loop);
      return G_SOURCE_CONTINUE;
    }

  program->stopping = TRUE;
  gc_server_shutdown_async (program->server, NULL, on_shutdown_done, program);

  return G_SOURCE_CONTINUE;
}

static GTlsCertificate *
load_certificate (const char  *cert_file,
                  const char  *key_file,
                  GError     **error)
{
  if (key_file != NULL)
    return g_tls_certificate_new_from_files (cert_file, key_file, error);
  return g_tls_certificate_new_from_file (cert_file, error);
}

/* SIGHUP: a renewed certificate (and key) for the TLS handshakes to come;
 * connections up and running keep theirs, and nobody is dropped. A file
 * that does not load leaves the certificate in use as it was. */
static gboolean
on_reload_signal (gpointer user_data)
{
  Program *program = user_data;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;

  if (program->tls_cert == NULL)
    {
      gc_server_log_event (G_LOG_LEVEL_INFO, "reload", NULL, NULL, NULL,
                           "nothing to reload: no --tls-cert");
      return G_SOURCE_CONTINUE;
    }

  certificate = load_certificate (program->tls_cert, program->tls_key, &error);
  if (certificate == NULL ||
      !gc_server_set_tls_certificate (program->server, certificate, &error))
    {
      g_autofree char *reason = g_strdup_printf ("kept the certificate in use: %s",
                                                 error->message);

      gc_server_log_event (G_LOG_LEVEL_WARNING, "reload-failed", NULL, NULL, NULL, reason);
      return G_SOURCE_CONTINUE;
    }

  gc_server_log_event (G_LOG_LEVEL_INFO, "reload", NULL, NULL, NULL,
                       "TLS certificate reloaded");

  return G_SOURCE_CONTINUE;
}

static GInetAddress *
resolve_address (const char *option,
                 const char *text)
{
  g_autoptr(GResolver) resolver = NULL;
  g_autoptr(GError) error = NULL;
  GList *addresses;
  GInetAddress *address;

  address = g_inet_address_new_from_string (text);
  if (address != NULL)
    return address;

  resolver = g_resolver_get_default ();
  addresses = g_resolver_lookup_by_name (resolver, text, NULL, &error);
  if (addresses == NULL)
    die_usage ("%s: cannot resolve “%s”: %s", option, text, error->message);

  address = g_object_ref (addresses->data);
  g_resolver_free_addresses (addresses);

  return address;
}

static guint
check_uint_range (const char *option,
                  gint64      value,
                  gint64      min,
                  gint64      max)
{
  if (value < min || value > max)
    die_usage ("%s: %" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT " to %"
               G_GINT64_FORMAT ")", option, value, min, max);

  return (guint) value;
}

static guint
check_uint (const char *option,
            gint64      value,
            gint64      min)
{
  return check_uint_range (option, value, min, G_MAXUINT);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) bind_address = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GPtrArray) addresses = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GcServer) server = NULL;
  g_autofree char *listening = NULL;
  GcServerConfig config;
  Program program = { 0 };
  rlim_t fd_limit;

  g_autofree char *opt_bind = NULL;
  g_autofree char *opt_admin_bind = NULL;
  g_autoptr(GInetAddress) admin_address = NULL;
  guint16 admin_port = 0;
  gint64 opt_port = 8081;
  g_autofree char *opt_tls_cert = NULL;
  g_autofree char *opt_tls_key = NULL;
  gint64 opt_history = 100;
  gint64 opt_resume_seconds = 30;
  gint64 opt_max_queue_bytes = 1048576;
  gint64 opt_rate_burst = 10;
  double opt_rate_per_second = 5;
  gint64 opt_join_burst = 30;
  double opt_join_per_second = 10;
  gint64 opt_max_connections = -1;
  gint64 opt_room_max_members = 1000;
  gint64 opt_max_message_bytes = 65536;
  gint64 opt_max_text_bytes = 4096;
  gint64 opt_keepalive_seconds = 25;
  gint64 opt_idle_timeout_seconds = 60;
  g_auto(GStrv) opt_allowed_origins = NULL;
  gboolean opt_version = FALSE;
#ifdef HAVE_REDIS
  g_autofree char *opt_redis = NULL;
  gint64 opt_redis_lease_ms = 6000;
#endif

  const GOptionEntry entries[] = {
    { "bind", 0, 0, G_OPTION_ARG_STRING, &opt_bind,
      "Address of the interface to listen on (default: all interfaces)", "ADDRESS" },
    { "admin-bind", 0, 0, G_OPTION_ARG_STRING, &opt_admin_bind,
      "Serve /healthz and /metrics on this address and port only (e.g. 127.0.0.1:9100; port 0 "
      "picks one); the public port then answers 404 for them (default: on the public port)",
      "ADDRESS:PORT" },
    { "port", 0, 0, G_OPTION_ARG_INT64, &opt_port,
      "TCP port to listen on; 0 picks a free one (default: 8081)", "N" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_cert,
      "PEM certificate (chain) to serve wss:// and https:// with (default: none, plain ws://)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_key,
      "PEM private key for --tls-cert (default: read from the --tls-cert file)", "FILE" },
    { "history", 0, 0, G_OPTION_ARG_INT64, &opt_history,
      "Chat messages kept per room for joiners; 0 turns history off (default: 100)", "N" },
    { "resume-seconds", 0, 0, G_OPTION_ARG_INT64, &opt_resume_seconds,
      "How long a member whose connection dropped may resume its session (default: 30)", "S" },
    { "max-queue-bytes", 0, 0, G_OPTION_ARG_INT64, &opt_max_queue_bytes,
      "Bytes queued for one connection before it is dropped as a slow reader; 0 = no bound (default: 1048576)", "B" },
    { "rate-burst", 0, 0, G_OPTION_ARG_INT64, &opt_rate_burst,
      "Requests a connection may send in a burst (default: 10)", "N" },
    { "rate-per-second", 0, 0, G_OPTION_ARG_DOUBLE, &opt_rate_per_second,
      "Requests per second a connection may send after a burst (default: 5)", "N" },
    { "join-burst", 0, 0, G_OPTION_ARG_INT64, &opt_join_burst,
      "Joins one address may make in a burst (default: 30)", "N" },
    { "join-per-second", 0, 0, G_OPTION_ARG_DOUBLE, &opt_join_per_second,
      "Joins per second one address may make after a burst; 0 turns the per-address limits off (default: 10)", "N" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT64, &opt_max_connections,
      "Open connections plus upgrades in progress beyond which joins get 503 "
      "(default: what the file-descriptor limit allows)", "N" },
    { "room-max-members", 0, 0, G_OPTION_ARG_INT64, &opt_room_max_members,
      "Members per room (default: 1000)", "N" },
    { "max-message-bytes", 0, 0, G_OPTION_ARG_INT64, &opt_max_message_bytes,
      "Largest WebSocket message a client may send; larger ones close with 1009 (default: 65536)", "B" },
    { "max-text-bytes", 0, 0, G_OPTION_ARG_INT64, &opt_max_text_bytes,
      "Longest chat text in bytes of UTF-8 (default: 4096)", "B" },
    { "keepalive-seconds", 0, 0, G_OPTION_ARG_INT64, &opt_keepalive_seconds,
      "Ping a connection silent for this long; 0 = never (default: 25)", "S" },
    { "idle-timeout-seconds", 0, 0, G_OPTION_ARG_INT64, &opt_idle_timeout_seconds,
      "Drop a connection silent for this long; 0 = never (default: 60)", "S" },
    { "allowed-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_allowed_origins,
      "An Origin browsers may join from; repeatable (default: any; requests without Origin "
      "are always accepted)", "ORIGIN" },
#ifdef HAVE_REDIS
    { "redis", 0, 0, G_OPTION_ARG_STRING, &opt_redis,
      "Share rooms with other nodes through Redis at URL (redis://HOST:PORT or "
      "unix:///PATH)", "URL" },
    { "redis-lease-ms", 0, 0, G_OPTION_ARG_INT64, &opt_redis_lease_ms,
      "With --redis: this node's lease; a node silent this long is taken for dead "
      "(default 6000)", "MS" },
#endif
    { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
      "Print the version and exit", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  g_set_prgname ("gochat-server");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "Serves GoChat rooms (protocol version 1) over WebSocket.");
  g_option_context_set_description (context,
                                    "Endpoints: /joinRoom (WebSocket), /healthz, /metrics (see --admin-bind). "
                                    "SIGINT or SIGTERM shut down gracefully; SIGHUP reloads the TLS "
                                    "certificate and key.\n"
                                    "See gochat-server(1).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die_usage ("%s (try --help)", error->message);
  if (argc > 1)
    die_usage ("unexpected argument “%s” (try --help)", argv[1]);

  if (opt_version)
    {
      printf ("gochat-server %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  g_log_set_writer_func (log_writer, NULL, NULL);
  signal (SIGPIPE, SIG_IGN);
  fd_limit = raise_fd_limit ();

  gc_server_config_init_default (&config);
  if (opt_port < 0 || opt_port > 65535)
    die_usage ("--port: %" G_GINT64_FORMAT " is not a TCP port", opt_port);
  /* Beyond these, a value is a typo rather than a wish: a day of resume
   * window, and more history than anyone scrolls back through. */
  config.history = check_uint_range ("--history", opt_history, 0, MAX_HISTORY);
  config.resume_seconds = check_uint_range ("--resume-seconds", opt_resume_seconds, 0,
                                            MAX_RESUME_SECONDS);
  if (opt_max_queue_bytes < 0)
    die_usage ("--max-queue-bytes: %" G_GINT64_FORMAT " is negative", opt_max_queue_bytes);
  config.max_queued_bytes = (gsize) opt_max_queue_bytes;
  config.rate_burst = check_uint ("--rate-burst", opt_rate_burst, 1);
  if (!(opt_rate_per_second > 0))
    die_usage ("--rate-per-second: must be more than 0");
  config.rate_per_second = opt_rate_per_second;
  config.join_burst = check_uint ("--join-burst", opt_join_burst, 1);
  if (!(opt_join_per_second >= 0))
    die_usage ("--join-per-second: must not be negative");
  config.join_per_second = opt_join_per_second;
  /* "Per-address limits off" covers handshakes too: a load test from one
   * address opens many at once. */
  if (opt_join_per_second == 0)
    config.max_handshakes_per_address = 0;
  scale_to_fd_limit (&config, fd_limit);
  if (opt_max_connections >= 0)
    config.max_connections = check_uint ("--max-connections", opt_max_connections, 1);
  config.room_max_members = check_uint ("--room-max-members", opt_room_max_members, 1);
  config.max_message_bytes = check_uint ("--max-message-bytes", opt_max_message_bytes, 1);
  config.max_text_bytes = check_uint ("--max-text-bytes", opt_max_text_bytes, 1);
  config.keepalive_seconds = check_uint ("--keepalive-seconds", opt_keepalive_seconds, 0);
  config.idle_timeout_seconds = check_uint ("--idle-timeout-seconds", opt_idle_timeout_seconds, 0);
  for (guint i = 0; opt_allowed_origins != NULL && opt_allowed_origins[i] != NULL; i++)
    {
      if (opt_allowed_origins[i][0] == '\0')
        die_usage ("--allowed-origin: must not be empty");
    }
  config.allowed_origins = (const char * const *) opt_allowed_origins;

  if (opt_bind != NULL)
    bind_address = resolve_address ("--bind", opt_bind);
  if (opt_admin_bind != NULL)
    {
      g_autoptr(GSocketConnectable) parsed = NULL;
      const char *colon = strrchr (opt_admin_bind, ':');

      /* The port is required: "host:port", "[v6]:port". */
      parsed = colon != NULL && colon[1] != '\0' ? g_network_address_parse (opt_admin_bind, 0, NULL)
                                                 : NULL;
      if (parsed == NULL)
        die_usage ("--admin-bind: “%s” is not ADDRESS:PORT", opt_admin_bind);
      admin_address = resolve_address ("--admin-bind",
                                       g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed)));
      admin_port = g_network_address_get_port (G_NETWORK_ADDRESS (parsed));
    }

  if (opt_tls_key != NULL && opt_tls_cert == NULL)
    die_usage ("--tls-key needs --tls-cert");
  if (opt_tls_cert != NULL)
    {
      certificate = load_certificate (opt_tls_cert, opt_tls_key, &error);
      if (certificate == NULL)
        die_usage ("cannot load the TLS certificate: %s", error->message);
    }

  server = gc_server_new (&config);

  /* Before listening: "listening on" is what operators and tests wait
   * for, and a signal from then on must find its handler, not the
   * default action (SIGHUP would kill the server without close frames). */
  loop = g_main_loop_new (NULL, FALSE);
  program.loop = loop;
  program.server = server;
  program.tls_cert = opt_tls_cert;
  program.tls_key = opt_tls_key;
  g_unix_signal_add (SIGINT, on_stop_signal, &program);
  g_unix_signal_add (SIGTERM, on_stop_signal, &program);
  g_unix_signal_add (SIGHUP, on_reload_signal, &program);
  if (!gc_server_set_tls_certificate (server, certificate, &error))
    die_usage ("%s", error->message);

#ifdef HAVE_REDIS
  if (opt_redis != NULL)
    start_redis (&program, opt_redis, config.history,
                 (guint) check_uint_range ("--redis-lease-ms", opt_redis_lease_ms, 300, 3600000),
                 config.resume_seconds * 1000);
  /* Stopped before it held a lease: it has no members to drain. */
  if (program.stopping)
    return EXIT_SUCCESS;
#endif

  if (!gc_server_listen (server, bind_address, (guint16) opt_port, &error))
    {
      fprintf (stderr, "gochat-server: cannot listen on port %" G_GINT64_FORMAT ": %s\n",
               opt_port, error->message);
      return EXIT_FAILURE;
    }

  addresses = gc_server_get_listen_addresses (server);
  listening = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (g_ptr_array_index (addresses, 0)));

  if (admin_address != NULL)
    {
      g_autoptr(GSocketAddress) admin = NULL;
      g_autofree char *admin_text = NULL;

      if (!gc_server_listen_admin (server, admin_address, admin_port, &error))
        {
          fprintf (stderr, "gochat-server: cannot listen on --admin-bind %s: %s\n",
                   opt_admin_bind, error->message);
          return EXIT_FAILURE;
        }
      admin = g_inet_socket_address_new (admin_address, gc_server_get_admin_port (server));
      admin_text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (admin));
      fprintf (stderr, "serving /healthz and /metrics on %s\n", admin_text);
    }

  /* Last: tests and scripts take this line for "ready". */
  fprintf (stderr, "listening on %s\n", listening);
  fflush (stderr);


  g_main_loop_run (loop);

  return EXIT_SUCCESS;
}
