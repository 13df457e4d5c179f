/* gc-http.c: the server's HTTP side short of the upgrade
 *
 * What every HTTP request gets before and besides a join: the checks
 * made once its headers are in (unknown paths, bodies, joins without an
 * upgrade), the refusals of docs/protocol.md §3.6 with their bodies and headers,
 * and the /healthz and /metrics endpoints (§8).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gc-admission-private.h"
#include "gc-http-private.h"
#include "gc-server-private.h"

const char *
gc_http_get_address (SoupServerMessage *msg)
{
  GcHandshake *hs = gc_admission_lookup (msg);

  return hs != NULL ? gc_handshake_get_address (hs) : soup_server_message_get_remote_host (msg);
}

static const char *
status_phrase (guint status)
{
  switch (status)
    {
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    default:
      return soup_status_get_phrase (status);
    }
}

void
gc_http_respond (SoupServerMessage *msg,
                 guint              status,
                 const char        *content_type,
                 const char        *body,
                 gsize              len)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, status, status_phrase (status));
  /* libsoup closes connections it did not accept itself after one
   * request; say so, so that clients do not try to reuse them. */
  soup_message_headers_replace (headers, "Connection", "close");
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, len);
}

void
gc_http_refuse (GcServer          *server,
                SoupServerMessage *msg,
                GcProtocolError    code,
                const char        *message,
                const char        *suggestion,
                guint64            retry_after_ms,
                const char        *room)
{
  g_autoptr(GBytes) body = gc_protocol_build_refusal (code, message, suggestion, retry_after_ms);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  gc_http_respond (msg, gc_protocol_error_http_status (code), "application/json", data, len);

  if (code == GC_PROTOCOL_ERROR_RATE_LIMITED)
    {
      char seconds[32];

      g_snprintf (seconds, sizeof seconds, "%" G_GUINT64_FORMAT,
                  MAX ((retry_after_ms + 999) / 1000, 1));
      soup_message_headers_replace (headers, "Retry-After", seconds);
    }
  else if (code == GC_PROTOCOL_ERROR_UPGRADE_REQUIRED)
    {
      soup_message_headers_replace (headers, "Upgrade", "websocket");
      soup_message_headers_replace (headers, "Sec-WebSocket-Version", "13");
    }

  gc_server_count_refusal (server, code);
  gc_server_log_event (G_LOG_LEVEL_INFO, "refusal", room, NULL, gc_http_get_address (msg),
                       gc_protocol_error_to_string (code));
}

void
gc_http_refuse_gerror (GcServer          *server,
                       SoupServerMessage *msg,
                       const GError      *error,
                       const char        *room)
{
  gc_http_refuse (server, msg, error->code, error->message, NULL, 0, room);
}

/* Whether @path is served on the port @msg came in on: with an admin
 * port (--admin-bind), /healthz and /metrics there and only there. */
static gboolean
is_known_path (GcServer          *server,
               SoupServerMessage *msg,
               const char        *path)
{
  gboolean admin_path = g_str_equal (path, "/healthz") || g_str_equal (path, "/metrics");
  guint16 admin_port = gc_server_get_admin_port (server);
  GSocketAddress *local;
  gboolean on_admin_port;

  if (!admin_path && !gc_join_is_path (path))
    return FALSE;
  if (admin_port == 0)
    return TRUE;

  local = soup_server_message_get_local_address (msg);
  on_admin_port = G_IS_INET_SOCKET_ADDRESS (local) &&
                  g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)) == admin_port;

  return admin_path == on_admin_port;
}

static gboolean
message_wants_websocket (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_contains (headers, "Upgrade", "websocket");
}

static gboolean
message_has_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_NONE:
      return FALSE;
    case SOUP_ENCODING_CONTENT_LENGTH:
      return soup_message_headers_get_content_length (headers) > 0;
    default:
      return TRUE;
    }
}

/* Runs once the headers are in, before any body is read: refusing here
 * means libsoup never buffers a body. */
void
gc_http_on_request_headers (SoupServer        *soup,
                            SoupServerMessage *msg,
                            const char        *path,
                            GHashTable        *query,
                            gpointer           user_data)
{
  GcServer *server = user_data;

  /* A connection we abandoned (deadline, eviction) ends in EOF, which
   * libsoup may take for the end of the headers: answer nothing. */
  if (gc_admission_lookup (msg) == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
      return;
    }

  if (!is_known_path (server, msg, path))
    gc_http_refuse (server, msg, GC_PROTOCOL_ERROR_NOT_FOUND, "No such endpoint", NULL, 0, NULL);
  else if (gc_join_is_path (path) &&
           soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      gc_http_refuse (server, msg, GC_PROTOCOL_ERROR_METHOD_NOT_ALLOWED, "Join with GET",
                      NULL, 0, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Allow", "GET");
    }
  else if (gc_join_is_path (path) && !message_wants_websocket (msg))
    gc_http_refuse (server, msg, GC_PROTOCOL_ERROR_UPGRADE_REQUIRED,
                    "Join with a WebSocket upgrade", NULL, 0, NULL);
  else if (message_has_body (msg))
    gc_http_refuse (server, msg, GC_PROTOCOL_ERROR_BAD_REQUEST,
                    "Requests with a body are not accepted", NULL, 0, NULL);
}


static void
handle_healthz (GcServer          *server,
                SoupServerMessage *msg)
{
  /* From the moment shutdown starts, so that a load balancer stops
   * sending joins that would only get 503. */
  gboolean draining = gc_server_is_shutting_down (server);
  /* --redis: a node that cannot reach Redis refuses joins (§6.7). */
  const char *redis = gc_server_get_redis_state (server);
  gboolean redis_down = g_strcmp0 (redis, "down") == 0;
  g_autoptr(GString) body = g_string_new (draining ? "{\"status\":\"draining\",\"version\":"
                                          : redis_down ? "{\"status\":\"unavailable\",\"version\":"
                                          : "{\"status\":\"ok\",\"version\":");

  gc_protocol_append_json_string (body, PACKAGE_VERSION, -1);
  if (redis != NULL)
    g_string_append_printf (body, ",\"redis\":\"%s\"", redis);
  g_string_append_printf (body,
                          ",\"rooms\":%u,\"connections\":%u,\"members\":%u,"
                          "\"handshakes\":%u,\"uptime_s\":%" G_GINT64_FORMAT "}",
                          gc_server_get_n_rooms (server),
                          gc_server_get_n_announced (server),
                          gc_server_get_n_members (server),
                          gc_server_get_n_handshakes (server),
                          gc_server_get_uptime_seconds (server));

  gc_http_respond (msg, draining || redis_down ? SOUP_STATUS_SERVICE_UNAVAILABLE : SOUP_STATUS_OK,
                   "application/json", body->str, body->len);
}

static void
metric_header (GString    *out,
               const char *name,
               const char *type,
               const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
append_metric_double (GString    *out,
                      const char *name,
                      double      value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  /* Not printf: the decimal point must not follow the locale. */
  g_string_append_printf (out, "%s %s\n", name,
                          g_ascii_formatd (buffer, sizeof buffer, "%.15g", value));
}

/* The standard process_* metrics of Prometheus client libraries, from
 * getrusage(), getrlimit() and /proc (Linux; absent where it is not). */
static void
append_process_metrics (GString *out)
{
  struct rusage usage;
  struct rlimit limit;
  g_autofree char *statm = NULL;
  g_autofree char *stat = NULL;
  g_autofree char *proc_stat = NULL;
  long page_size = sysconf (_SC_PAGESIZE);
  long ticks = sysconf (_SC_CLK_TCK);

  if (getrusage (RUSAGE_SELF, &usage) == 0)
    {
      metric_header (out, "process_cpu_seconds_total", "counter",
                     "Total user and system CPU time spent in seconds.");
      append_metric_double (out, "process_cpu_seconds_total",
                            usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                            (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6);
    }

  if (page_size > 0 && g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL))
    {
      char *end;
      guint64 size = g_ascii_strtoull (statm, &end, 10);
      guint64 resident = g_ascii_strtoull (end, NULL, 10);

      metric_header (out, "process_virtual_memory_bytes", "gauge",
                     "Virtual memory size in bytes.");
      g_string_append_printf (out, "process_virtual_memory_bytes %" G_GUINT64_FORMAT "\n",
                              size * (guint64) page_size);
      metric_header (out, "process_resident_memory_bytes", "gauge",
                     "Resident memory size in bytes.");
      g_string_append_printf (out, "process_resident_memory_bytes %" G_GUINT64_FORMAT "\n",
                              resident * (guint64) page_size);
    }

  {
    g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);

    if (dir != NULL)
      {
        guint n = 0;

        while (g_dir_read_name (dir) != NULL)
          n++;
        metric_header (out, "process_open_fds", "gauge", "Number of open file descriptors.");
        /* Less the one reading the directory. */
        g_string_append_printf (out, "process_open_fds %u\n", n > 0 ? n - 1 : 0);
      }
  }

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
    {
      metric_header (out, "process_max_fds", "gauge",
                     "Maximum number of open file descriptors.");
      if (limit.rlim_cur == RLIM_INFINITY)
        g_string_append (out, "process_max_fds +Inf\n");
      else
        g_string_append_printf (out, "process_max_fds %" G_GUINT64_FORMAT "\n",
                                (guint64) limit.rlim_cur);
    }

  /* Field 22 of /proc/self/stat (after the parenthesised name, which may
   * hold spaces) is the start in ticks since boot; /proc/stat has boot. */
  if (ticks > 0 &&
      g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL) &&
      g_file_get_contents ("/proc/stat", &proc_stat, NULL, NULL))
    {
      const char *p = strrchr (stat, ')');
      const char *btime = strstr (proc_stat, "\nbtime ");
      guint field = 2;

      while (p != NULL && *p != '\0' && field < 22)
        {
          p = strchr (p + 1, ' ');
          field++;
        }
      if (p != NULL && btime != NULL)
        {
          guint64 start_ticks = g_ascii_strtoull (p + 1, NULL, 10);
          guint64 boot = g_ascii_strtoull (btime + strlen ("\nbtime "), NULL, 10);

          metric_header (out, "process_start_time_seconds", "gauge",
                         "Start time of the process since unix epoch in seconds.");
          append_metric_double (out, "process_start_time_seconds",
                                boot + (double) start_ticks / ticks);
        }
    }
}

/* The configured limits (docs/protocol.md §9), as one gauge family. */
static void
append_limits (GString              *out,
               const GcServerConfig *config)
{
  const struct { const char *name; double value; } limits[] = {
    { "max_connections", config->max_connections },
    { "room_max_members", config->room_max_members },
    { "max_message_bytes", config->max_message_bytes },
    { "max_text_bytes", config->max_text_bytes },
    { "max_queue_bytes", config->max_queued_bytes },
    { "history", config->history },
    { "resume_seconds", config->resume_seconds },
    { "rate_burst", config->rate_burst },
    { "rate_per_second", config->rate_per_second },
    { "join_burst", config->join_burst },
    { "join_per_second", config->join_per_second },
    { "keepalive_seconds", config->keepalive_seconds },
    { "idle_timeout_seconds", config->idle_timeout_seconds },
  };

  metric_header (out, "gochat_limit", "gauge",
                 "Configured limits (0: off or unbounded, as gochat-server(1) says).");
  for (guint i = 0; i < G_N_ELEMENTS (limits); i++)
    {
      g_autofree char *name = g_strdup_printf ("gochat_limit{name=\"%s\"}", limits[i].name);

      append_metric_double (out, name, limits[i].value);
    }
}

static void
handle_metrics (GcServer          *server,
                SoupServerMessage *msg)
{
  g_autoptr(GString) out = g_string_new (NULL);
  static const GcLeaveReason dropped[] = {
    GC_LEAVE_REASON_SLOW, GC_LEAVE_REASON_FLOOD, GC_LEAVE_REASON_ERROR,
  };
  static const GcProtocolError refusal_codes[] = {
    GC_PROTOCOL_ERROR_BAD_REQUEST, GC_PROTOCOL_ERROR_INVALID_ROOM_CODE,
    GC_PROTOCOL_ERROR_INVALID_USER_NAME, GC_PROTOCOL_ERROR_NOT_FOUND,
    GC_PROTOCOL_ERROR_NAME_TAKEN, GC_PROTOCOL_ERROR_ROOM_FULL,
    GC_PROTOCOL_ERROR_ORIGIN_NOT_ALLOWED, GC_PROTOCOL_ERROR_UPGRADE_REQUIRED,
    GC_PROTOCOL_ERROR_RATE_LIMITED, GC_PROTOCOL_ERROR_SERVER_FULL,
    GC_PROTOCOL_ERROR_METHOD_NOT_ALLOWED, GC_PROTOCOL_ERROR_UNAVAILABLE,
  };
  static const GcProtocolError error_event_codes[] = {
    GC_PROTOCOL_ERROR_BAD_REQUEST, GC_PROTOCOL_ERROR_EMPTY_MESSAGE,
    GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG, GC_PROTOCOL_ERROR_RATE_LIMITED,
    GC_PROTOCOL_ERROR_INVALID_USER_NAME, GC_PROTOCOL_ERROR_NAME_TAKEN,
  };

  metric_header (out, "gochat_connections", "gauge", "Open WebSocket connections.");
  g_string_append_printf (out, "gochat_connections %u\n", gc_server_get_n_connections (server));
  metric_header (out, "gochat_handshakes", "gauge",
                 "TCP connections accepted but not yet upgraded or answered.");
  g_string_append_printf (out, "gochat_handshakes %u\n", gc_server_get_n_handshakes (server));
  metric_header (out, "gochat_rooms", "gauge", "Rooms.");
  g_string_append_printf (out, "gochat_rooms %u\n", gc_server_get_n_rooms (server));
  metric_header (out, "gochat_members", "gauge",
                 "Room members, those waiting for a resume included.");
  g_string_append_printf (out, "gochat_members %u\n", gc_server_get_n_members (server));
  metric_header (out, "gochat_members_waiting", "gauge",
                 "Members whose connection dropped, waiting for a resume.");
  g_string_append_printf (out, "gochat_members_waiting %u\n", gc_server_get_n_waiting (server));

  metric_header (out, "gochat_messages_total", "counter", "Chat messages broadcast.");
  g_string_append_printf (out, "gochat_messages_total %" G_GUINT64_FORMAT "\n",
                          gc_server_get_counter (server, GC_SERVER_COUNTER_MESSAGES));
  metric_header (out, "gochat_joins_total", "counter", "Joins (resumes not included).");
  g_string_append_printf (out, "gochat_joins_total %" G_GUINT64_FORMAT "\n",
                          gc_server_get_counter (server, GC_SERVER_COUNTER_JOINS));
  metric_header (out, "gochat_resumes_total", "counter", "Resumed sessions.");
  g_string_append_printf (out, "gochat_resumes_total %" G_GUINT64_FORMAT "\n",
                          gc_server_get_counter (server, GC_SERVER_COUNTER_RESUMES));
  metric_header (out, "gochat_bytes_sent_total", "counter",
                 "Bytes of events queued to WebSocket connections.");
  g_string_append_printf (out, "gochat_bytes_sent_total %" G_GUINT64_FORMAT "\n",
                          gc_server_get_counter (server, GC_SERVER_COUNTER_BYTES_SENT));

  metric_header (out, "gochat_bytes_received_total", "counter",
                 "Bytes of WebSocket messages received from members.");
  g_string_append_printf (out, "gochat_bytes_received_total %" G_GUINT64_FORMAT "\n",
                          gc_server_get_counter (server, GC_SERVER_COUNTER_BYTES_RECEIVED));

  metric_header (out, "gochat_error_events_total", "counter",
                 "error events sent to members (refused requests), by code.");
  for (guint i = 0; i < G_N_ELEMENTS (error_event_codes); i++)
    g_string_append_printf (out, "gochat_error_events_total{code=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            gc_protocol_error_to_string (error_event_codes[i]),
                            gc_server_get_n_error_events (server, error_event_codes[i]));

  metric_header (out, "gochat_refusals_total", "counter", "Refused joins and HTTP requests by error code.");
  for (guint i = 0; i < G_N_ELEMENTS (refusal_codes); i++)
    g_string_append_printf (out, "gochat_refusals_total{code=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            gc_protocol_error_to_string (refusal_codes[i]),
                            gc_server_get_n_refusals (server, refusal_codes[i]));

  metric_header (out, "gochat_leaves_total", "counter", "Members who left, by reason.");
  for (guint reason = 0; reason <= GC_LEAVE_REASON_ERROR; reason++)
    g_string_append_printf (out, "gochat_leaves_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            gc_leave_reason_to_string (reason),
                            gc_server_get_n_leaves (server, reason));

  metric_header (out, "gochat_dropped_total", "counter",
                 "Members the server dropped (slow reader, flooding, protocol error).");
  for (guint i = 0; i < G_N_ELEMENTS (dropped); i++)
    g_string_append_printf (out, "gochat_dropped_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            gc_leave_reason_to_string (dropped[i]),
                            gc_server_get_n_leaves (server, dropped[i]));

  metric_header (out, "gochat_uptime_seconds", "gauge", "Seconds since the server started.");
  g_string_append_printf (out, "gochat_uptime_seconds %" G_GINT64_FORMAT "\n",
                          gc_server_get_uptime_seconds (server));

  metric_header (out, "gochat_build_info", "gauge", "The server's version; always 1.");
  g_string_append (out, "gochat_build_info{version=");
  /* A JSON string is a valid label value for any version string we make. */
  gc_protocol_append_json_string (out, PACKAGE_VERSION, -1);
  g_string_append (out, "} 1\n");

  append_limits (out, gc_server_get_config (server));
  append_process_metrics (out);
  gc_server_append_redis_metrics (server, out);

  gc_http_respond (msg, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", out->str, out->len);
}


void
gc_http_handle_request (GcServer          *server,
                        SoupServerMessage *msg,
                        const char        *path)
{
  const char *method = soup_server_message_get_method (msg);

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      gc_http_refuse (server, msg, GC_PROTOCOL_ERROR_METHOD_NOT_ALLOWED,
                      "Only GET and HEAD are supported here", NULL, 0, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Allow", "GET, HEAD");
      return;
    }

  if (g_str_equal (path, "/healthz"))
    handle_healthz (server, msg);
  else
    handle_metrics (server, msg);
}
