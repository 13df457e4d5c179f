/* gc-server.c: join dispatch, the room hub, shutdown
 *
 * We accept TCP ourselves (gc-listener.c) and hand each connection to
 * GcAdmission, which accounts for it until it is upgraded or answered (a
 * deadline per handshake, a cap per address, TLS scheduling); a valid
 * join upgrade goes straight to its join, any other request to libsoup
 * with soup_server_accept_iostream(); we stop accepting when too many are
 * in progress. libsoup parses the HTTP request; the refusals are ours
 * (gc-http.c), in the order of docs/protocol.md §3.7; src/ws does the
 * upgrade.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "gc-admission-private.h"
#include "gc-http-private.h"
#include "gc-join-private.h"
#include "gc-listener-private.h"
#include "gc-server-private.h"
#include "gc-ws-poller.h"

#define SHUTDOWN_GRACE_MS   2000

struct _GcServer
{
  GObject           parent_instance;

  GcServerConfig    config;
  char            **allowed_origins;   /* config.allowed_origins points here */
  GcLimits          limits;

  GMainContext     *context;
  GcWsPoller       *poller;
  SoupServer       *soup;

  GcListener       *listener;
  GHashTable       *refusals_in_flight; /* address → in-band refusal connection */

  GHashTable       *rooms;             /* canonical code → GcRoom (the only strong ref) */
  GHashTable       *connections;       /* open GcWsConnection (strong refs) */
  GcAdmission      *admission;

  guint64           last_message_id;
  gint64            started_us;
  guint64           counters[GC_SERVER_N_COUNTERS];
  guint64           refusals[GC_PROTOCOL_N_ERRORS];
  guint64           error_events[GC_PROTOCOL_N_ERRORS];
  guint64           leaves[GC_LEAVE_REASON_ERROR + 1];

  GTask            *shutdown_task;
  GSource          *shutdown_timer;
  gboolean          shutting_down;

#ifdef HAVE_REDIS
  GcRedisRooms     *redis;             /* --redis; NULL on a single node */
  /* The room a batch of messages goes to while each went to it batched
   * (nothing ran that could close it), until the batch's end: its
   * events need not look it up again. */
  GcRoom           *redis_batch_room;
  const char       *redis_batch_code;
  char             *node_id;
#endif
};

G_DEFINE_FINAL_TYPE (GcServer, gc_server, G_TYPE_OBJECT)

static void server_finish_shutdown (GcServer *self);

/* Configuration ------------------------------------------------------------ */

void
gc_server_config_init_default (GcServerConfig *config)
{
  g_return_if_fail (config != NULL);

  *config = (GcServerConfig) {
    .history = 100,
    .resume_seconds = GC_PROTOCOL_DEFAULT_RESUME_S,
    .max_queued_bytes = 1024 * 1024,
    .rate_burst = GC_PROTOCOL_DEFAULT_RATE_BURST,
    .rate_per_second = GC_PROTOCOL_DEFAULT_RATE_PER_S,
    .join_burst = 30,
    .join_per_second = 10,
    .max_connections = 1024,
    .room_max_members = 1000,
    .max_message_bytes = GC_PROTOCOL_DEFAULT_MAX_MESSAGE_BYTES,
    .max_text_bytes = GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES,
    .keepalive_seconds = 25,
    .idle_timeout_seconds = 60,
    .allowed_origins = NULL,
    .handshake_timeout_seconds = 10,
    .max_handshakes = 1024,
    .max_handshakes_per_address = 64,
  };
}

/* Logging ------------------------------------------------------------------ */

void
gc_server_log_event (GLogLevelFlags  level,
                     const char     *event,
                     const char     *room,
                     const char     *user_id,
                     const char     *address,
                     const char     *reason)
{
  g_autoptr(GString) text = g_string_new (event);
  GLogField fields[8];
  gsize n = 0;
  const char *priority = (level & G_LOG_LEVEL_WARNING) ? "4" :
                         (level & G_LOG_LEVEL_MESSAGE) ? "5" :
                         (level & G_LOG_LEVEL_INFO) ? "6" : "7";

#define ADD_FIELD(k, v) \
  G_STMT_START { \
    fields[n].key = (k); fields[n].value = (v); fields[n].length = -1; n++; \
  } G_STMT_END

  ADD_FIELD ("PRIORITY", priority);
  ADD_FIELD ("GLIB_DOMAIN", G_LOG_DOMAIN);
  ADD_FIELD ("GOCHAT_EVENT", event);
  if (room != NULL)
    {
      g_string_append (text, " room=");
      g_string_append (text, room);
      ADD_FIELD ("GOCHAT_ROOM", room);
    }
  if (user_id != NULL)
    {
      g_string_append (text, " user=");
      g_string_append (text, user_id);
      ADD_FIELD ("GOCHAT_USER_ID", user_id);
    }
  if (address != NULL)
    {
      g_string_append (text, " address=");
      g_string_append (text, address);
      ADD_FIELD ("GOCHAT_ADDRESS", address);
    }
  if (reason != NULL)
    {
      g_string_append (text, " reason=");
      g_string_append (text, reason);
      ADD_FIELD ("GOCHAT_REASON", reason);
    }
  ADD_FIELD ("MESSAGE", text->str);

#undef ADD_FIELD

  g_log_structured_array (level, fields, n);
}

/* Listening (gc-listener.c) ------------------------------------------------ */

gboolean
gc_server_listen (GcServer      *self,
                  GInetAddress  *bind_address,
                  guint16        port,
                  GError       **error)
{
  g_return_val_if_fail (GC_IS_SERVER (self), FALSE);
  g_return_val_if_fail (bind_address == NULL || G_IS_INET_ADDRESS (bind_address), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->shutting_down)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The server is shut down");
      return FALSE;
    }

  return gc_listener_listen (self->listener, bind_address, port, error);
}

gboolean
gc_server_listen_admin (GcServer      *self,
                        GInetAddress  *bind_address,
                        guint16        port,
                        GError       **error)
{
  g_return_val_if_fail (GC_IS_SERVER (self), FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (bind_address), FALSE);

  return gc_listener_listen_admin (self->listener, bind_address, port, error);
}

guint16
gc_server_get_admin_port (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return gc_listener_get_admin_port (self->listener);
}

guint16
gc_server_get_port (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return gc_listener_get_port (self->listener);
}

GPtrArray *
gc_server_get_listen_addresses (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), NULL);

  return gc_listener_get_addresses (self->listener);
}

gboolean
gc_server_set_tls_certificate (GcServer         *self,
                               GTlsCertificate  *certificate,
                               GError          **error)
{
  g_return_val_if_fail (GC_IS_SERVER (self), FALSE);
  g_return_val_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate), FALSE);

  if (certificate != NULL && !g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "TLS support is not available (is glib-networking installed?)");
      return FALSE;
    }

  gc_admission_set_tls_certificate (self->admission, certificate);

  return TRUE;
}

/* @count summed over the rooms. */
static guint
server_sum_rooms (GcServer *self,
                  guint   (*count) (GcRoom *room))
{
  GHashTableIter iter;
  GcRoom *room;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &room))
    n += count (room);

  return n;
}

/* Connections and joins ---------------------------------------------------- */

static void
on_connection_closed (GcWsConnection *connection,
                      gpointer        user_data)
{
  GcServer *self = user_data;
  g_autoptr(GcWsConnection) hold = g_object_ref (connection);

  g_signal_handlers_disconnect_by_func (connection, on_connection_closed, self);
  g_hash_table_remove (self->connections, connection);

  if (self->shutdown_task != NULL && g_hash_table_size (self->connections) == 0)
    server_finish_shutdown (self);
}

/* Join dispatch: /joinRoom is gc-join.c's, anything else gc-http.c's. */
static void
on_request (SoupServer        *soup,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  GcServer *self = user_data;

  if (gc_join_is_path (path))
    gc_join_start (self, msg);
  else
    gc_http_handle_request (self, msg, path);
}

static gboolean
on_handshake_request (GcHandshake *hs,
                      GIOStream   *stream,
                      const char  *data,
                      gsize        head_len,
                      gsize        len,
                      gpointer     user_data)
{
  return gc_join_start_direct (user_data, hs, stream, data, head_len, len);
}

static void
on_handshake_room (gpointer user_data)
{
  GcServer *self = user_data;

  if (self->listener != NULL)
    gc_listener_resume (self->listener);
}

/* Joins' side ---------------------------------------------------------------- */

gboolean
gc_server_is_shutting_down (GcServer *self)
{
  return self->shutting_down;
}

GcRoom *
gc_server_ensure_room (GcServer   *self,
                       const char *code)
{
  GcRoom *room = g_hash_table_lookup (self->rooms, code);

  if (room == NULL)
    {
      room = gc_room_new (self, code);
      g_hash_table_insert (self->rooms, g_strdup (code), room);
    }

  return room;
}

void
gc_server_add_connection (GcServer       *self,
                          GcWsConnection *connection)
{
  g_hash_table_add (self->connections, g_object_ref (connection));
  g_signal_connect (connection, "closed", G_CALLBACK (on_connection_closed), self);

  gc_ws_connection_set_max_message_size (connection, self->config.max_message_bytes);
  gc_ws_connection_set_max_queued_bytes (connection, self->config.max_queued_bytes);
  gc_ws_connection_set_keepalive (connection, self->config.keepalive_seconds,
                                  self->config.idle_timeout_seconds);
}

/* Rooms' side ---------------------------------------------------------------- */

GcWsPoller *
gc_server_get_poller (GcServer *self)
{
  return self->poller;
}

const GcLimits *
gc_server_get_limits (GcServer *self)
{
  return &self->limits;
}

guint64
gc_server_next_message_id (GcServer *self)
{
  return ++self->last_message_id;
}

void
gc_server_room_emptied (GcServer *self,
                        GcRoom   *room)
{
  const char *code = gc_room_get_code (room);

  if (g_hash_table_lookup (self->rooms, code) != room)
    return;
#ifdef HAVE_REDIS
  /* Its Redis room closes later (gc_room_dispose()); a join meanwhile may
   * find it deleted and re-created with a new sequence. */
  if (self->redis != NULL)
    gc_redis_rooms_unsync (self->redis, code);
#endif
  g_hash_table_remove (self->rooms, code);
}

void
gc_server_count (GcServer        *self,
                 GcServerCounter  counter,
                 guint64          amount)
{
  self->counters[counter] += amount;
}

void
gc_server_count_leave (GcServer      *self,
                       GcLeaveReason  reason)
{
  self->leaves[reason]++;
}

void
gc_server_count_refusal (GcServer        *self,
                         GcProtocolError  code)
{
  self->refusals[code]++;
}

/* Enough for a person's tabs retrying at once, few enough that refused
 * upgrades held open by a client that never closes cannot crowd out
 * others. */
#define REFUSALS_IN_FLIGHT_PER_ADDRESS 4

gboolean
gc_server_refusal_begin (GcServer   *self,
                         const char *address)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->refusals_in_flight, address));

  if (n >= REFUSALS_IN_FLIGHT_PER_ADDRESS)
    return FALSE;

  g_hash_table_replace (self->refusals_in_flight, g_strdup (address), GUINT_TO_POINTER (n + 1));
  return TRUE;
}

gboolean
gc_server_refusal_available (GcServer   *self,
                             const char *address)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->refusals_in_flight, address)) <
         REFUSALS_IN_FLIGHT_PER_ADDRESS;
}

void
gc_server_refusal_end (GcServer   *self,
                       const char *address)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->refusals_in_flight, address));

  if (n <= 1)
    g_hash_table_remove (self->refusals_in_flight, address);
  else
    g_hash_table_replace (self->refusals_in_flight, g_strdup (address), GUINT_TO_POINTER (n - 1));
}

void
gc_server_count_error_event (GcServer        *self,
                             GcProtocolError  code)
{
  if ((guint) code < G_N_ELEMENTS (self->error_events))
    self->error_events[code]++;
}

guint64
gc_server_get_n_error_events (GcServer        *self,
                              GcProtocolError  code)
{
  return (guint) code < G_N_ELEMENTS (self->error_events) ? self->error_events[code] : 0;
}

guint64
gc_server_get_counter (GcServer        *self,
                       GcServerCounter  counter)
{
  return self->counters[counter];
}

guint64
gc_server_get_n_refusals (GcServer        *self,
                          GcProtocolError  code)
{
  /* Admission refuses bad request heads before libsoup sees them. */
  if (code == GC_PROTOCOL_ERROR_BAD_REQUEST)
    return self->refusals[code] + gc_admission_get_n_refused (self->admission);

  return self->refusals[code];
}

guint64
gc_server_get_n_leaves (GcServer      *self,
                        GcLeaveReason  reason)
{
  return self->leaves[reason];
}

guint
gc_server_get_n_announced (GcServer *self)
{
  return server_sum_rooms (self, gc_room_get_n_announced);
}

guint
gc_server_get_n_waiting (GcServer *self)
{
  return server_sum_rooms (self, gc_room_get_n_waiting);
}

gint64
gc_server_get_uptime_seconds (GcServer *self)
{
  return (g_get_monotonic_time () - self->started_us) / G_USEC_PER_SEC;
}

/* --redis -------------------------------------------------------------------- */

#ifdef HAVE_REDIS
static void
on_redis_event (const char             *code,
                const GcRedisRoomEvent *event,
                gpointer                user_data)
{
  GcServer *self = user_data;
  GcRoom *room;

  if (event->in_batch && self->redis_batch_room != NULL && code == self->redis_batch_code)
    room = self->redis_batch_room;
  else
    room = g_hash_table_lookup (self->rooms, code);
  self->redis_batch_room = NULL;
  if (room != NULL && gc_room_redis_event (room, event) && event->in_batch)
    {
      self->redis_batch_room = room;
      self->redis_batch_code = code;
    }
}

static void
on_redis_batch_end (const char *code,
                    gpointer    user_data)
{
  GcServer *self = user_data;
  GcRoom *room = self->redis_batch_room != NULL ? self->redis_batch_room
                                                : g_hash_table_lookup (self->rooms, code);

  self->redis_batch_room = NULL;
  if (room != NULL)
    gc_room_redis_batch_end (room);
}

/* Closes every local connection of @room with 1011 without a leave: the
 * members are still in Redis and resume (here or elsewhere). */
static void
server_redis_close_room (GcServer   *self,
                         GcRoom     *room,
                         const char *reason)
{
  g_autoptr(GcRoom) hold = g_object_ref (room);

  gc_room_close_all (room, GC_WS_CLOSE_SERVER_ERROR, reason);
  if (gc_room_get_n_members (room) == 0)
    gc_server_room_emptied (self, room);
}

static void
on_redis_room_lost (GcRedisRooms *rooms,
                    const char   *code,
                    gpointer      user_data)
{
  GcServer *self = user_data;
  GcRoom *room = g_hash_table_lookup (self->rooms, code);

  if (room != NULL)
    server_redis_close_room (self, room, "events were lost; resume");
}

static void
on_redis_lease_changed (GcRedisRooms *rooms,
                        gboolean      held,
                        gpointer      user_data)
{
  GcServer *self = user_data;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  GcRoom *room;

  if (held)
    {
      gc_server_log_event (G_LOG_LEVEL_INFO, "lease", NULL, NULL, NULL, "held");
      return;
    }

  /* Another node may be sweeping this one's members: serving them on
   * would split the rooms. */
  gc_server_log_event (G_LOG_LEVEL_WARNING, "lease", NULL, NULL, NULL, "lost");
  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &room))
    g_ptr_array_add (all, g_object_ref (room));
  for (guint i = 0; i < all->len; i++)
    server_redis_close_room (self, g_ptr_array_index (all, i), "this node lost its lease; resume");
}

void
gc_server_set_redis (GcServer     *self,
                     GcRedisRooms *rooms,
                     const char   *node_id)
{
  g_return_if_fail (GC_IS_SERVER (self));
  g_return_if_fail (self->redis == NULL);

  self->redis = g_object_ref (rooms);
  self->node_id = g_strdup (node_id);
  gc_redis_rooms_set_event_func (rooms, on_redis_event, self);
  gc_redis_rooms_set_batch_end_func (rooms, on_redis_batch_end, self);
  g_signal_connect_object (rooms, "room-lost", G_CALLBACK (on_redis_room_lost), self, 0);
  g_signal_connect_object (rooms, "lease-changed", G_CALLBACK (on_redis_lease_changed), self, 0);
}

GcRedisRooms *
gc_server_get_redis (GcServer *self)
{
  return self->redis;
}

const char *
gc_server_get_node_id (GcServer *self)
{
  return self->node_id;
}
#endif

const char *
gc_server_get_redis_state (GcServer *self)
{
#ifdef HAVE_REDIS
  if (self->redis != NULL)
    return gc_redis_client_is_up (gc_redis_rooms_get_client (self->redis)) &&
           gc_redis_rooms_has_lease (self->redis) ? "ok" : "down";
#endif
  return NULL;
}

void
gc_server_append_redis_metrics (GcServer *self,
                                GString  *out)
{
#ifdef HAVE_REDIS
  GcRedisClientStats client = { 0 };
  GcRedisRoomsStats rooms = { 0 };

  if (self->redis == NULL)
    return;

  gc_redis_client_get_stats (gc_redis_rooms_get_client (self->redis), &client);
  gc_redis_rooms_get_stats (self->redis, &rooms);
  g_string_append_printf (out,
    "# HELP gochat_redis_up Whether Redis answers and this node holds its lease (--redis).\n"
    "# TYPE gochat_redis_up gauge\n"
    "gochat_redis_up %d\n"
    "# HELP gochat_redis_rtt_seconds Smoothed round trip of a Redis command.\n"
    "# TYPE gochat_redis_rtt_seconds gauge\n"
    "gochat_redis_rtt_seconds %.6f\n"
    "# HELP gochat_redis_publish_rtt_seconds A PUBLISH to its arrival on the subscription (liveness probe).\n"
    "# TYPE gochat_redis_publish_rtt_seconds gauge\n"
    "gochat_redis_publish_rtt_seconds %.6f\n"
    "# HELP gochat_redis_reconnects_total Connections to Redis made again after a loss.\n"
    "# TYPE gochat_redis_reconnects_total counter\n"
    "gochat_redis_reconnects_total %" G_GUINT64_FORMAT "\n"
    "# HELP gochat_redis_commands_failed_total Redis commands that failed (Redis away) or were refused (busy).\n"
    "# TYPE gochat_redis_commands_failed_total counter\n"
    "gochat_redis_commands_failed_total %" G_GUINT64_FORMAT "\n"
    "# HELP gochat_redis_gap_repairs_total Gaps in a room's events filled from its history stream.\n"
    "# TYPE gochat_redis_gap_repairs_total counter\n"
    "gochat_redis_gap_repairs_total %" G_GUINT64_FORMAT "\n"
    "# HELP gochat_redis_rooms_lost_total Gaps the history no longer covered (the room's connections closed with 1011).\n"
    "# TYPE gochat_redis_rooms_lost_total counter\n"
    "gochat_redis_rooms_lost_total %" G_GUINT64_FORMAT "\n"
    "# HELP gochat_redis_nodes Nodes holding a lease, at the last renewal.\n"
    "# TYPE gochat_redis_nodes gauge\n"
    "gochat_redis_nodes %u\n",
    g_strcmp0 (gc_server_get_redis_state (self), "ok") == 0,
    client.rtt_us / 1e6, client.probe_rtt_us / 1e6, client.reconnects,
    client.lost + client.refused_busy, rooms.repairs, rooms.lost_rooms, rooms.nodes);
#endif
}

/* Shutdown ------------------------------------------------------------------- */

/* Rooms go first, so that no member sees its connection close. */
static void
server_drop_rooms (GcServer *self)
{
  g_autoptr(GPtrArray) rooms = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  GcRoom *room;

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &room))
    g_ptr_array_add (rooms, g_object_ref (room));
  g_hash_table_remove_all (self->rooms);

  /* A join in progress may still hold a room: make it inert now. */
  for (guint i = 0; i < rooms->len; i++)
    g_object_run_dispose (g_ptr_array_index (rooms, i));
}

static void
server_abort_connections (GcServer *self)
{
  g_autoptr(GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  GcWsConnection *connection;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, (gpointer *) &connection, NULL))
    g_ptr_array_add (connections, g_object_ref (connection));
  for (guint i = 0; i < connections->len; i++)
    {
      connection = g_ptr_array_index (connections, i);
      gc_ws_connection_abort (connection);
      g_signal_handlers_disconnect_by_func (connection, on_connection_closed, self);
    }

  /* Whatever did not report "closed" is forgotten all the same. */
  g_hash_table_remove_all (self->connections);
}

static void
server_stop_listening (GcServer *self)
{
  if (self->listener != NULL)
    gc_listener_close (self->listener);
  gc_admission_abandon_all (self->admission);
}

/* Every closing handshake finished, or the grace period ran out. */
static void
server_finish_shutdown (GcServer *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->shutdown_task);

  gc_clear_source (&self->shutdown_timer);
  server_abort_connections (self);
  server_stop_listening (self);
  g_task_return_boolean (task, TRUE);
}

static gboolean
on_shutdown_timeout (gpointer user_data)
{
  GcServer *self = user_data;

  server_finish_shutdown (self);

  return G_SOURCE_REMOVE;
}

void
gc_server_shutdown_async (GcServer            *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GHashTableIter iter;
  GcRoom *room;

  g_return_if_fail (GC_IS_SERVER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gc_server_shutdown_async);

  if (self->shutting_down)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "The server is already shut down");
      return;
    }

  self->shutting_down = TRUE;
  gc_server_log_event (G_LOG_LEVEL_INFO, "shutdown", NULL, NULL, NULL, NULL);

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &room))
    gc_room_close_all (room, GC_WS_CLOSE_GOING_AWAY,
                       self->config.hosted ? GC_PROTOCOL_CLOSE_REASON_HOST_STOPPED
                                           : GC_PROTOCOL_CLOSE_REASON_SHUTDOWN);
  server_drop_rooms (self);

  /* Joins keep getting 503 until the closing handshakes are done. */
  self->shutdown_task = g_steal_pointer (&task);
  if (g_hash_table_size (self->connections) == 0)
    {
      server_finish_shutdown (self);
      return;
    }

  self->shutdown_timer = g_timeout_source_new (SHUTDOWN_GRACE_MS);
  g_source_set_static_name (self->shutdown_timer, "[gochat] shutdown grace");
  g_source_set_callback (self->shutdown_timer, on_shutdown_timeout, self, NULL);
  g_source_attach (self->shutdown_timer, self->context);
}

gboolean
gc_server_shutdown_finish (GcServer      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (GC_IS_SERVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Object ----------------------------------------------------------------------- */

GcServer *
gc_server_new (const GcServerConfig *config)
{
  GcServerConfig defaults;
  GcServer *self;

  if (config == NULL)
    {
      gc_server_config_init_default (&defaults);
      config = &defaults;
    }

  g_return_val_if_fail (config->rate_per_second > 0, NULL);
  g_return_val_if_fail (config->join_per_second >= 0, NULL);
  g_return_val_if_fail (config->max_text_bytes > 0, NULL);

  self = g_object_new (GC_TYPE_SERVER, NULL);
  self->config = *config;
  self->allowed_origins = g_strdupv ((char **) config->allowed_origins);
  self->config.allowed_origins = (const char * const *) self->allowed_origins;

  self->limits.max_text_bytes = config->max_text_bytes;
  self->limits.max_message_bytes = config->max_message_bytes;
  self->limits.rate_burst = config->rate_burst;
  self->limits.rate_per_s = config->rate_per_second;

  return self;
}

const GcServerConfig *
gc_server_get_config (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), NULL);

  return &self->config;
}

guint
gc_server_get_n_rooms (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return g_hash_table_size (self->rooms);
}

guint
gc_server_get_n_connections (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return g_hash_table_size (self->connections);
}

guint
gc_server_get_n_members (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return server_sum_rooms (self, gc_room_get_n_members);
}

guint
gc_server_get_n_handshakes (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return gc_admission_get_n_handshakes (self->admission);
}

GcRoom *
gc_server_lookup_room (GcServer   *self,
                       const char *room_code)
{
  g_autofree char *code = NULL;

  g_return_val_if_fail (GC_IS_SERVER (self), NULL);

  code = gc_protocol_canonical_room_code (room_code, NULL);

  return code != NULL ? g_hash_table_lookup (self->rooms, code) : NULL;
}

static void
gc_server_dispose (GObject *object)
{
  GcServer *self = GC_SERVER (object);

  self->shutting_down = TRUE;

  server_drop_rooms (self);
#ifdef HAVE_REDIS
  /* The rooms object may outlive the server (its owner holds it): no
   * more events into a disposed server. */
  if (self->redis != NULL)
    {
      gc_redis_rooms_set_event_func (self->redis, NULL, NULL);
      gc_redis_rooms_set_batch_end_func (self->redis, NULL, NULL);
    }
#endif
  server_abort_connections (self);
  server_stop_listening (self);
  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);

  gc_clear_source (&self->shutdown_timer);
  g_clear_object (&self->listener);
  g_clear_object (&self->admission);

  G_OBJECT_CLASS (gc_server_parent_class)->dispose (object);
}

static void
gc_server_finalize (GObject *object)
{
  GcServer *self = GC_SERVER (object);

  g_hash_table_unref (self->rooms);
  g_hash_table_unref (self->connections);
  g_hash_table_unref (self->refusals_in_flight);
#ifdef HAVE_REDIS
  g_clear_object (&self->redis);
  g_free (self->node_id);
#endif
  g_strfreev (self->allowed_origins);
  g_clear_object (&self->poller);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (gc_server_parent_class)->finalize (object);
}

static void
gc_server_class_init (GcServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_server_dispose;
  object_class->finalize = gc_server_finalize;
}

static void
gc_server_init (GcServer *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->poller = g_object_ref (gc_ws_poller_get_default ());
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->connections = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->refusals_in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  self->started_us = g_get_monotonic_time ();
  /* Ids stay above those of any earlier run (§4.3). */
  self->last_message_id = (guint64) g_get_real_time ();

  self->soup = soup_server_new ("server-header", NULL, NULL);
  soup_server_add_early_handler (self->soup, NULL, gc_http_on_request_headers, self, NULL);
  soup_server_add_handler (self->soup, NULL, on_request, self, NULL);

  self->admission = gc_admission_new (&self->config, self->soup, on_handshake_room, self);
  gc_admission_set_request_func (self->admission, on_handshake_request, self);
  self->listener = gc_listener_new (self->admission);
}
