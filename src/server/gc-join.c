/* gc-join.c: one join, from its request to its member's connection
 *
 * A /joinRoom request is checked in the order of docs/protocol.md §3.7 (the
 * WebSocket handshake, the origin, the address's join bucket, the
 * server's capacity, the query), reserves its member in the room, and
 * its upgrade starts; once src/ws has upgraded the connection the member
 * is attached, or what was reserved is given back. A request comes from
 * libsoup's handler or, for a valid upgrade read by our handshake, from
 * gc_join_start_direct(); both fill one GcJoinRequest.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-admission-private.h"
#include "gc-handshake-private.h"
#include "gc-http-private.h"
#include "gc-join-private.h"
#include "gc-server-private.h"
#include "gc-ws-handshake.h"

static const char * const subprotocols[] = { GC_PROTOCOL_SUBPROTOCOL, NULL };

/* A join whose upgrade is in progress. */
typedef struct {
  GWeakRef     server;
  GcHandshake *handshake;
  GcRoom      *room;
  GcMember    *member;
  gboolean     resume;
  gboolean     has_since;
  guint64      since;
  gboolean     done;
} GcJoin;

static void
join_free (gpointer data)
{
  GcJoin *join = data;

  /* The upgrade never completed: give back what was reserved. */
  if (!join->done)
    gc_room_release (join->room, join->member, join->resume);

  g_weak_ref_clear (&join->server);
  g_clear_pointer (&join->handshake, gc_handshake_unref);
  g_object_unref (join->room);
  gc_member_unref (join->member);
  g_free (join);
}

GcServer *
gc_join_take_upgraded (GWeakRef       *server_ref,
                       gpointer        handshake,
                       GcWsConnection *connection)
{
  g_autoptr(GcServer) server = g_weak_ref_get (server_ref);
  GcHandshake *hs = handshake;

  /* The server went away, or the handshake outlived its deadline. */
  if (server == NULL || (hs != NULL && !gc_handshake_is_pending (hs)))
    {
      gc_ws_connection_abort (connection);
      return NULL;
    }

  if (hs != NULL)
    gc_handshake_finish (hs);

  gc_server_add_connection (server, connection);

  return g_steal_pointer (&server);
}

void
gc_join_close_unattached (GcServer       *server,
                          GcWsConnection *connection)
{
  /* 1001 only means shutdown (§7, §6.2); otherwise the member to resume left
   * during the upgrade (its old connection closed), and the client must
   * join afresh. */
  if (gc_server_is_shutting_down (server))
    gc_ws_connection_close (connection, GC_WS_CLOSE_GOING_AWAY,
                            gc_server_get_config (server)->hosted
                            ? GC_PROTOCOL_CLOSE_REASON_HOST_STOPPED
                            : GC_PROTOCOL_CLOSE_REASON_SHUTDOWN);
  else
    gc_ws_connection_close (connection, GC_WS_CLOSE_SERVER_ERROR,
                            "the session ended during the upgrade; join again");
}

static void
on_upgraded (GcWsConnection *connection,
             gpointer        user_data)
{
  GcJoin *join = user_data;
  g_autoptr(GcWsConnection) owned = connection;
  g_autoptr(GcServer) server = gc_join_take_upgraded (&join->server, join->handshake, connection);

  if (server == NULL)
    return;

  join->done = TRUE;
  if (!gc_room_attach (join->room, join->member, join->resume, connection,
                       join->has_since, join->since))
    gc_join_close_unattached (server, connection);
}

/* A refusal waiting for its upgrade (docs/protocol.md §3.6). */
typedef struct {
  GWeakRef         server;
  GcHandshake     *handshake;
  GBytes          *event;
  GcProtocolError  code;
  char            *address;   /* its in-band refusal in flight, until handed on */
} GcPendingRefusal;

/* An address's in-band refusal in flight, ended when its connection goes. */
typedef struct {
  GWeakRef  server;
  char     *address;
} RefusalInFlight;

static void
refusal_in_flight_end (gpointer  data,
                       GClosure *closure)
{
  RefusalInFlight *in_flight = data;
  g_autoptr(GcServer) server = g_weak_ref_get (&in_flight->server);

  if (server != NULL)
    gc_server_refusal_end (server, in_flight->address);
  g_weak_ref_clear (&in_flight->server);
  g_free (in_flight->address);
  g_free (in_flight);
}

static void
on_refused_connection_closed (GcWsConnection *connection,
                              gpointer        user_data)
{
}

static void
refusal_free (gpointer data)
{
  GcPendingRefusal *refusal = data;

  if (refusal->address != NULL)
    {
      g_autoptr(GcServer) server = g_weak_ref_get (&refusal->server);

      if (server != NULL)
        gc_server_refusal_end (server, refusal->address);
      g_free (refusal->address);
    }
  g_weak_ref_clear (&refusal->server);
  g_clear_pointer (&refusal->handshake, gc_handshake_unref);
  g_bytes_unref (refusal->event);
  g_free (refusal);
}

/* A refused client has nothing more to say: its close is waited for
 * only briefly. */
#define REFUSAL_CLOSE_TIMEOUT_MS 1000

static void
on_refusal_upgraded (GcWsConnection *connection,
                     gpointer        user_data)
{
  GcPendingRefusal *refusal = user_data;
  g_autoptr(GcWsConnection) owned = connection;
  g_autoptr(GcServer) server = g_weak_ref_get (&refusal->server);
  gsize len;
  const char *data = g_bytes_get_data (refusal->event, &len);

  if (server == NULL ||
      (refusal->handshake != NULL && !gc_handshake_is_pending (refusal->handshake)))
    {
      gc_ws_connection_abort (connection);
      return;
    }

  if (refusal->handshake != NULL)
    gc_handshake_finish (refusal->handshake);

  /* Tracked like any connection, so that shutdown waits for it; the
   * address's refusal stays in flight until the connection is gone. */
  gc_server_add_connection (server, connection);
  if (refusal->address != NULL)
    {
      RefusalInFlight *in_flight = g_new0 (RefusalInFlight, 1);

      g_weak_ref_init (&in_flight->server, server);
      in_flight->address = g_steal_pointer (&refusal->address);
      g_signal_connect_data (connection, "closed", G_CALLBACK (on_refused_connection_closed),
                             in_flight, refusal_in_flight_end, 0);
    }
  gc_ws_connection_set_close_timeout (connection, REFUSAL_CLOSE_TIMEOUT_MS);
  gc_ws_connection_send_text (connection, data, len);
  gc_ws_connection_close (connection, gc_protocol_refusal_close_code (refusal->code),
                          gc_protocol_error_to_string (refusal->code));
}

static gboolean server_is_full (GcServer    *server,
                                GcHandshake *hs);

/* Makes the upgrade of @request, with a Retry-After header when
 * @retry_after is given: through libsoup's message, or, on the direct
 * path, by queuing our 101 on a new connection that @func gets at once.
 * @destroy runs once, after @func or when libsoup's message ends without
 * a 101; not when %FALSE is returned. */
static gboolean
join_upgrade (GcServer            *server,
              const GcJoinRequest *request,
              const char          *retry_after,
              GcWsAcceptFunc       func,
              gpointer             user_data,
              GDestroyNotify       destroy,
              GError             **error)
{
  const char *extra_headers[] = { "Retry-After", retry_after, NULL };
  GcWsConnection *connection;

  if (request->msg != NULL)
    {
      /* The welcome (or a refusal) follows the 101 at once, in the same
       * segment. */
      if (!gc_ws_server_accept_corked (request->msg, NULL, subprotocols,
                                       gc_server_get_poller (server),
                                       request->hs != NULL ? gc_handshake_get_socket (request->hs) : NULL,
                                       func, user_data, destroy, error))
        return FALSE;
      if (retry_after != NULL)
        soup_message_headers_replace (soup_server_message_get_response_headers (request->msg),
                                      "Retry-After", retry_after);
      return TRUE;
    }

  connection = gc_ws_server_upgrade (request->stream, request->headers, request->protocol,
                                     retry_after != NULL ? extra_headers : NULL,
                                     request->rest, gc_server_get_poller (server));
  func (connection, user_data);
  destroy (user_data);

  return TRUE;
}

/* Refuses @request over HTTP (docs/protocol.md §3.6). The direct path
 * takes only requests that never come here (gc_join_start_direct()). */
static void
join_refuse_http (GcServer            *server,
                  const GcJoinRequest *request,
                  GcProtocolError      code,
                  const char          *message,
                  const char          *suggestion,
                  guint64              retry_after_ms,
                  const char          *room)
{
  if (request->msg == NULL)
    {
      g_critical ("A direct join got an HTTP refusal (%s)", gc_protocol_error_to_string (code));
      gc_handshake_abandon (request->hs);
      return;
    }

  gc_http_refuse (server, request->msg, code, message, suggestion, retry_after_ms, room);
}

/* Refuses a join whose request is a valid WebSocket upgrade: after the
 * upgrade, as a `refused` event and a close with 4000 + the HTTP status
 * and the code as reason, because a browser sees nothing of an HTTP
 * refusal (docs/protocol.md §3.6). Counted and logged like one.
 *
 * An upgrade costs a connection, so a full or draining server, and an
 * address with a few in-band refusals in flight already, get the HTTP
 * refusal instead: refusals must not become a way around the limit. */
static void
join_refuse (GcServer            *server,
             const GcJoinRequest *request,
             GcProtocolError      code,
             const char          *message,
             const char          *suggestion,
             guint64              retry_after_ms,
             const char          *room)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_strdup (request->address);
  char seconds[32];
  GcPendingRefusal *refusal;

  if (gc_server_is_shutting_down (server) || server_is_full (server, request->hs) ||
      address == NULL || !gc_server_refusal_begin (server, address))
    {
      join_refuse_http (server, request, code, message, suggestion, retry_after_ms, room);
      return;
    }

  refusal = g_new0 (GcPendingRefusal, 1);
  refusal->address = g_strdup (address);
  g_weak_ref_init (&refusal->server, server);
  refusal->handshake = request->hs != NULL ? gc_handshake_ref (request->hs) : NULL;
  refusal->event = gc_event_build_refused (code, message, suggestion, retry_after_ms);
  refusal->code = code;

  /* The 101 may carry it as the HTTP refusal does, for clients that can
   * read headers. */
  if (code == GC_PROTOCOL_ERROR_RATE_LIMITED)
    g_snprintf (seconds, sizeof seconds, "%" G_GUINT64_FORMAT,
                MAX ((retry_after_ms + 999) / 1000, 1));

  /* The handshake was checked before any refusal that comes here. */
  if (!join_upgrade (server, request, code == GC_PROTOCOL_ERROR_RATE_LIMITED ? seconds : NULL,
                     on_refusal_upgraded, refusal, refusal_free, &error))
    {
      refusal_free (refusal);
      join_refuse_http (server, request, code, message, suggestion, retry_after_ms, room);
      return;
    }

  gc_server_count_refusal (server, code);
  gc_server_log_event (G_LOG_LEVEL_INFO, "refusal", room, NULL, address,
                       gc_protocol_error_to_string (code));
}

/* A request description of @msg, whose headers are checked. */
static void
join_request_init (GcJoinRequest     *request,
                   SoupServerMessage *msg,
                   GcHandshake       *hs)
{
  *request = (GcJoinRequest) {
    .msg = msg,
    .hs = hs,
    .headers = soup_server_message_get_request_headers (msg),
    .query = g_uri_get_query (soup_server_message_get_uri (msg)),
    .address = gc_http_get_address (msg),
  };
}

#ifdef HAVE_REDIS
void
gc_join_refuse (GcServer          *server,
                SoupServerMessage *msg,
                gpointer           hs,
                GcProtocolError    code,
                const char        *message,
                const char        *suggestion,
                guint64            retry_after_ms,
                const char        *room)
{
  GcJoinRequest request;

  join_request_init (&request, msg, hs);
  join_refuse (server, &request, code, message, suggestion, retry_after_ms, room);
}
#endif

static void
join_refuse_gerror (GcServer            *server,
                    const GcJoinRequest *request,
                    const GError        *error,
                    const char          *room)
{
  join_refuse (server, request, error->code, error->message, NULL, 0, room);
}

static gboolean
origin_is_allowed (GcServer   *server,
                   const char *origin)
{
  const char * const *allowed = gc_server_get_config (server)->allowed_origins;

  if (origin == NULL || allowed == NULL || allowed[0] == NULL)
    return TRUE;

  for (guint i = 0; allowed[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (allowed[i], origin) == 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
server_is_full (GcServer    *server,
                GcHandshake *hs)
{
  guint max_connections = gc_server_get_config (server)->max_connections;
  guint in_use;

  if (max_connections == 0)
    return FALSE;

  /* Open WebSocket connections plus upgrades in progress, this one not
   * included. */
  in_use = gc_server_get_n_connections (server) + gc_server_get_n_handshakes (server) -
           (hs != NULL && gc_handshake_is_pending (hs) ? 1 : 0);

  return in_use >= max_connections;
}

/* Whether @request (a valid upgrade) may join; if so its member is
 * reserved and the upgrade starts, else it is refused. */
static void
join_run (GcServer            *server,
          const GcJoinRequest *request)
{
  GcHandshake *hs = request->hs;
  g_autoptr(GError) error = NULL;
  g_auto(GcJoinQuery) own_query = { 0 };
  GcJoinQuery *query = request->parsed;
  g_autofree char *name_key = NULL;
  g_autofree char *suggestion = NULL;
  g_autoptr(GcMember) member = NULL;
  gboolean resume = FALSE;
  GcRoom *room;
  GcJoin *join;

  if (!origin_is_allowed (server, soup_message_headers_get_one (request->headers, "Origin")))
    {
      join_refuse (server, request, GC_PROTOCOL_ERROR_ORIGIN_NOT_ALLOWED,
                   "This origin may not join", NULL, 0, NULL);
      return;
    }

  if (hs != NULL)
    {
      gint64 retry_after_us = 0;

      if (!gc_handshake_take_join (hs, &retry_after_us))
        {
          join_refuse (server, request, GC_PROTOCOL_ERROR_RATE_LIMITED,
                       "Too many joins from your address; try again later", NULL,
                       gc_ms_from_us_ceil (retry_after_us), NULL);
          return;
        }
    }

  if (gc_server_is_shutting_down (server) || server_is_full (server, hs))
    {
      join_refuse_http (server, request, GC_PROTOCOL_ERROR_SERVER_FULL,
                        gc_server_is_shutting_down (server) ? "The server is shutting down" : "The server is full",
                        NULL, 0, NULL);
      return;
    }

  if (query == NULL)
    {
      query = &own_query;
      if (!gc_join_query_parse (request->query, query, &error))
        {
          join_refuse_gerror (server, request, error, query->room_code);
          return;
        }
    }
  else if (request->parse_error != NULL)
    {
      join_refuse_gerror (server, request, request->parse_error, query->room_code);
      return;
    }

#ifdef HAVE_REDIS
  if (gc_server_get_redis (server) != NULL)
    {
      /* The direct path leaves --redis joins to libsoup. */
      g_assert (request->msg != NULL);
      gc_join_start_redis (server, request->msg, hs, query);
      return;
    }
#endif

  name_key = gc_protocol_user_name_key (query->user_name);

  room = gc_server_ensure_room (server, query->room_code);

  member = gc_room_reserve (room, query->user_name, name_key, query->session_id,
                            request->address, &resume, &suggestion, &error);
  if (member == NULL)
    {
      join_refuse (server, request, error->code, error->message, suggestion, 0, query->room_code);
      if (gc_room_get_n_members (room) == 0)
        gc_server_room_emptied (server, room);
      return;
    }

  join = g_new0 (GcJoin, 1);
  g_weak_ref_init (&join->server, server);
  join->handshake = hs != NULL ? gc_handshake_ref (hs) : NULL;
  join->room = g_object_ref (room);
  join->member = g_steal_pointer (&member);
  join->resume = resume;
  join->has_since = query->has_since;
  join->since = query->since;

  /* On failure the join is still ours (the handshake was checked above,
   * so this is not expected). */
  if (!join_upgrade (server, request, NULL, on_upgraded, join, join_free, &error))
    {
      join_free (join);
      join_refuse_http (server, request, GC_PROTOCOL_ERROR_BAD_REQUEST, error->message, NULL, 0,
                        query->room_code);
    }
}

void
gc_join_start (GcServer          *server,
               SoupServerMessage *msg)
{
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  g_autoptr(GError) error = NULL;
  GcJoinRequest request;

  if (!soup_websocket_server_check_handshake (msg, NULL, (char **) subprotocols, NULL, &error))
    {
      const char *version = soup_message_headers_get_one (request_headers, "Sec-WebSocket-Version");

      gc_http_refuse (server, msg, GC_PROTOCOL_ERROR_BAD_REQUEST, error->message, NULL, 0, NULL);
      if (g_strcmp0 (version, "13") != 0)
        soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                      "Sec-WebSocket-Version", "13");
      return;
    }

  join_request_init (&request, msg, gc_admission_lookup (msg));
  join_run (server, &request);
}

gboolean
gc_join_start_direct (GcServer    *server,
                      GcHandshake *hs,
                      GIOStream   *stream,
                      const char  *data,
                      gsize        head_len,
                      gsize        len)
{
  static const char prefix[] = "GET " GC_PROTOCOL_JOIN_PATH;
  g_autoptr(SoupMessageHeaders) headers = NULL;
  g_autoptr(GBytes) rest = NULL;
  g_autofree char *method = NULL;
  g_autofree char *target = NULL;
  g_autofree char *address = NULL;
  g_autofree char *url = NULL;
  g_autoptr(GUri) uri = NULL;
  g_auto(GcJoinQuery) parsed = { 0 };
  g_autoptr(GError) parse_error = NULL;
  SoupHTTPVersion version;
  const char *protocol = NULL;
  const char *query;
  const char *host;
  guint16 admin_port = gc_server_get_admin_port (server);
  GcJoinRequest request;

  /* Most requests are told apart here, before any parsing. */
  if (head_len < sizeof prefix || memcmp (data, prefix, sizeof prefix - 1) != 0 ||
      (data[sizeof prefix - 1] != '?' && data[sizeof prefix - 1] != ' '))
    return FALSE;

  /* What libsoup's handler would refuse over HTTP before any join rule
   * (a full or draining server), or where its answer could depend on
   * more than the request. */
#ifdef HAVE_REDIS
  if (gc_server_get_redis (server) != NULL)
    return FALSE;
#endif
  if (gc_server_is_shutting_down (server) || server_is_full (server, hs))
    return FALSE;
  if (admin_port != 0 && hs->local_port == admin_port)
    return FALSE;
  /* An in-band refusal must not fall back to HTTP. */
  if (!gc_server_refusal_available (server, gc_handshake_get_address (hs)))
    return FALSE;

  /* libsoup parses the head, and its URI, as it would (its server's
   * parse_headers()): what its handler would see is what we see. */
  headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  if (soup_headers_parse_request (data, (int) head_len, headers, &method, &target,
                                  &version) != SOUP_STATUS_OK ||
      version != SOUP_HTTP_1_1 || g_strcmp0 (method, "GET") != 0 ||
      target == NULL || target[0] != '/')
    return FALSE;
  if (!gc_ws_headers_get_single (headers, "Host", &host) || host == NULL ||
      strchr (host, '/') != NULL)
    return FALSE;
  url = g_strconcat (G_IS_TLS_CONNECTION (stream) ? "https://" : "http://", host, target, NULL);
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL ||
      g_strcmp0 (g_uri_get_path (uri), GC_PROTOCOL_JOIN_PATH) != 0)
    return FALSE;
  query = g_uri_get_query (uri);
  /* A resume takes over a member whose old connection may still be
   * going; it keeps libsoup's path, whose upgrade is tested with the old
   * connection closing in the middle of it (server-resume). Resumes are
   * few next to joins. */
  /* Parsed once, here: the join reads it from the request. */
  if (gc_join_query_parse (query, &parsed, &parse_error) && parsed.session_id != NULL)
    return FALSE;
  if (soup_message_headers_get_one (headers, "Expect") != NULL)
    return FALSE;
  if (!gc_ws_server_check_request (headers, subprotocols, &protocol))
    return FALSE;
  /* An origin that may not join: libsoup's path answers it. */
  if (!origin_is_allowed (server, soup_message_headers_get_one (headers, "Origin")))
    return FALSE;

  if (len > head_len)
    rest = g_bytes_new (data + head_len, len - head_len);
  address = g_strdup (gc_handshake_get_address (hs));
  request = (GcJoinRequest) {
    .hs = hs,
    .headers = headers,
    .query = query,
    .address = address,
    .stream = stream,
    .protocol = protocol,
    .rest = rest,
    .parsed = &parsed,
    .parse_error = parse_error,
  };
  join_run (server, &request);

  return TRUE;
}
