/* gc-test-client.c: a protocol-level GoChat client for the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "gc-ws-handshake.h"
#include "gc-test-client.h"

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

void
gc_test_event_free (GcTestEvent *event)
{
  if (event == NULL)
    return;
  g_clear_pointer (&event->event, gc_event_free);
  g_free (event->json);
  g_free (event);
}

JsonObject *
gc_test_event_to_object (const GcTestEvent *event)
{
  JsonObject *object = gc_test_parse_json_object (event->json, strlen (event->json));

  g_assert_nonnull (object);
  return object;
}

static const char *
event_type_name (GcEventType type)
{
  switch (type)
    {
    case GC_EVENT_WELCOME: return "welcome";
    case GC_EVENT_MESSAGE: return "message";
    case GC_EVENT_JOIN:    return "join";
    case GC_EVENT_LEAVE:   return "leave";
    case GC_EVENT_RENAME:  return "rename";
    case GC_EVENT_TYPING:  return "typing";
    case GC_EVENT_ERROR:   return "error";
    case GC_EVENT_UNKNOWN:
    default:               return "any";
    }
}

/* Parses one text message into an event; marks @unparsable on failure. */
static GcTestEvent *
event_new (GBytes   *payload,
           gboolean *unparsable)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  GcTestEvent *event = g_new0 (GcTestEvent, 1);

  event->json = g_strndup (data, len);
  event->received_us = g_get_monotonic_time ();
  event->event = gc_event_parse (data, len, &error);
  if (event->event == NULL)
    {
      g_test_message ("unparsable event %s: %s", event->json, error->message);
      *unparsable = TRUE;
    }
  return event;
}

/* ------------------------------------------------------------------ */
/* GcTestClient                                                         */
/* ------------------------------------------------------------------ */

static void
append_param (GString    *query,
              const char *key,
              const char *value)
{
  g_autofree char *escaped = NULL;

  if (value == NULL)
    return;
  escaped = g_uri_escape_string (value, NULL, FALSE);
  g_string_append_printf (query, "%s%s=%s", query->len > 0 ? "&" : "", key, escaped);
}

char *
gc_test_join_url (const char              *scheme,
                  const char              *host,
                  guint16                  port,
                  const char              *room,
                  const char              *name,
                  const GcTestJoinOptions *options)
{
  g_autoptr(GString) query = g_string_new (NULL);

  append_param (query, "room_code", room);
  append_param (query, "user_name", name);
  if (options != NULL)
    {
      append_param (query, "session_id", options->session_id);
      append_param (query, "since", options->since);
    }

  /* Not gc_join_build_query(): tests also send what no client should
   * (parameters missing, `since` not a number). */
  return g_strdup_printf ("%s://%s:%u" GC_PROTOCOL_JOIN_PATH "%s%s", scheme, host, port,
                          query->len > 0 ? "?" : "", query->str);
}

static void
on_message (GcWsConnection *connection,
            guint           opcode,
            GBytes         *payload,
            gpointer        user_data)
{
  GcTestClient *client = user_data;
  GcTestEvent *event;

  g_assert_cmpuint (opcode, ==, GC_WS_OPCODE_TEXT);
  event = event_new (payload, &client->unparsable);
  client->n_events++;

  if (client->n_events == 1)
    {
      g_assert_nonnull (event->event);
      /* A refusal after the upgrade (docs/protocol.md §3.6): kept like an
       * HTTP refusal's body, for gc_test_client_assert_refused(). */
      if (event->event->type == GC_EVENT_REFUSED)
        {
          client->refusal_body = g_strdup (event->json);
          client->refusal = gc_test_event_to_object (event);
          gc_test_event_free (event);
          return;
        }
      if (event->event->type != GC_EVENT_WELCOME)
        g_error ("the first event is not a welcome: %s", event->json);
      client->welcome = event;
      return;
    }

  g_queue_push_tail (&client->events, event);
}

static void
on_ping (GcWsConnection *connection,
         GBytes         *payload,
         gpointer        user_data)
{
  GcTestClient *client = user_data;

  client->n_pings++;
}

static void
on_closed (GcWsConnection *connection,
           gpointer        user_data)
{
  GcTestClient *client = user_data;

  client->closed = TRUE;
  client->close_code = gc_ws_connection_get_close_code (connection);
  g_free (client->close_reason);
  client->close_reason = g_strdup (gc_ws_connection_get_close_reason (connection));
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GcTestClient *client = user_data;
  g_autoptr(GBytes) body = NULL;

  client->connection = gc_ws_connect_finish (result, &client->http_status, &body,
                                             &client->connect_error);
  client->finished = TRUE;

  if (body != NULL)
    {
      gsize len;
      const char *data = g_bytes_get_data (body, &len);

      client->refusal_body = g_strndup (data, len);
      client->refusal = gc_test_parse_json_object (data, len);
    }

  if (client->connection != NULL)
    {
      g_signal_connect (client->connection, "message", G_CALLBACK (on_message), client);
      g_signal_connect (client->connection, "ping", G_CALLBACK (on_ping), client);
      g_signal_connect (client->connection, "closed", G_CALLBACK (on_closed), client);
    }
}

GcTestClient *
gc_test_client_new_for_url (const char              *url,
                            const GcTestJoinOptions *options)
{
  static const char * const protocols[] = { GC_PROTOCOL_SUBPROTOCOL, NULL };
  GcTestClient *client = g_new0 (GcTestClient, 1);
  gboolean offer = options == NULL || !options->no_subprotocol;

  client->url = g_strdup (url);
  client->cancellable = g_cancellable_new ();
  g_queue_init (&client->events);

  gc_ws_connect_async (url,
                       options != NULL ? options->origin : NULL,
                       offer ? protocols : NULL,
                       options != NULL ? options->tls_database : NULL,
                       NULL, client->cancellable, on_connected, client);
  return client;
}

GcTestClient *
gc_test_client_start_join_url (const char              *server_url,
                               const char              *room,
                               const char              *name,
                               const GcTestJoinOptions *options)
{
  g_autoptr(GUri) uri = g_uri_parse (server_url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *url = NULL;

  g_assert_nonnull (uri);
  url = gc_test_join_url (g_uri_get_scheme (uri), g_uri_get_host (uri),
                          (guint16) g_uri_get_port (uri), room, name, options);
  return gc_test_client_new_for_url (url, options);
}

GcTestClient *
gc_test_client_join_url (const char *server_url,
                         const char *room,
                         const char *name)
{
  GcTestClient *client = gc_test_client_start_join_url (server_url, room, name, NULL);

  gc_test_client_wait_welcome (client);
  return client;
}

GcTestClient *
gc_test_client_start_join (guint16                  port,
                           const char              *room,
                           const char              *name,
                           const GcTestJoinOptions *options)
{
  g_autofree char *url = gc_test_join_url ("ws", "127.0.0.1", port, room, name, options);

  return gc_test_client_new_for_url (url, options);
}

GcTestClient *
gc_test_client_join (guint16     port,
                     const char *room,
                     const char *name)
{
  GcTestClient *client = gc_test_client_start_join (port, room, name, NULL);

  gc_test_client_wait_welcome (client);
  return client;
}

GcTestClient *
gc_test_client_resume (guint16     port,
                       const char *room,
                       const char *name,
                       const char *session_id,
                       gint64      since)
{
  g_autofree char *since_str = since >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, since) : NULL;
  GcTestJoinOptions options = { .session_id = session_id, .since = since_str };
  GcTestClient *client = gc_test_client_start_join (port, room, name, &options);

  gc_test_client_wait_welcome (client);
  return client;
}

void
gc_test_client_free (GcTestClient *client)
{
  if (client == NULL)
    return;

  if (!client->finished)
    {
      g_cancellable_cancel (client->cancellable);
      gc_test_wait (client->finished);
    }

  if (client->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->connection, client);
      if (gc_ws_connection_get_state (client->connection) != GC_WS_STATE_CLOSED)
        gc_ws_connection_abort (client->connection);
      g_clear_object (&client->connection);
    }

  g_queue_clear_full (&client->events, (GDestroyNotify) gc_test_event_free);
  g_clear_pointer (&client->welcome, gc_test_event_free);
  g_clear_pointer (&client->refusal, json_object_unref);
  g_clear_error (&client->connect_error);
  g_clear_object (&client->cancellable);
  g_free (client->refusal_body);
  g_free (client->close_reason);
  g_free (client->url);
  g_free (client);
}

void
gc_test_client_wait_finished (GcTestClient *client)
{
  gc_test_wait (client->finished);
}

GcWelcome *
gc_test_client_wait_welcome (GcTestClient *client)
{
  gc_test_client_wait_finished (client);
  if (client->connection == NULL)
    g_error ("joining %s failed: %s (HTTP %u, %s)", client->url,
             client->connect_error->message, client->http_status,
             client->refusal_body != NULL ? client->refusal_body : "no body");

  gc_test_wait (client->welcome != NULL || client->closed);
  if (client->welcome == NULL)
    g_error ("%s closed (%u) before its welcome", client->url, client->close_code);

  return client->welcome->event->welcome;
}

JsonObject *
gc_test_client_assert_refused_full (GcTestClient *client,
                                    guint         status,
                                    const char   *code,
                                    const char   *file,
                                    int           line)
{
  gc_test_client_wait_finished (client);

  /* docs/protocol.md §3.6: a join that is a valid upgrade (as this client's
   * always are) is refused after the upgrade, with a `refused` event and
   * close code 4000 + status, but for the 503 of a full or draining server,
   * which stays an HTTP refusal (503 `unavailable`, §6.7, is in band). */
  if (status != 503 || g_strcmp0 (code, "unavailable") == 0)
    {
      gushort expected_close = (gushort) (4000 + status);

      if (client->connection == NULL)
        g_error ("%s:%d: %s got HTTP %u %s; expected %u %s after the upgrade", file, line,
                 client->url, client->http_status,
                 client->refusal_body != NULL ? client->refusal_body : "", status, code);
      gc_test_wait (client->closed);
      if (client->refusal == NULL)
        g_error ("%s:%d: %s: the first event was not `refused` (closed with %u)", file, line,
                 client->url, client->close_code);
      if (g_strcmp0 (json_object_get_string_member_with_default (client->refusal, "type", NULL),
                     "refused") != 0 ||
          g_strcmp0 (json_object_get_string_member_with_default (client->refusal, "error", NULL),
                     code) != 0)
        g_error ("%s:%d: %s got %s; expected %s", file, line, client->url, client->refusal_body,
                 code);
      if (client->close_code != expected_close || g_strcmp0 (client->close_reason, code) != 0)
        g_error ("%s:%d: %s closed with %u “%s”; expected %u “%s”", file, line, client->url,
                 client->close_code, client->close_reason, expected_close, code);
      if (client->n_events != 1)
        g_error ("%s:%d: %s: %u events; a refusal is one", file, line, client->url,
                 client->n_events);
    }
  else
    {
      if (client->connection != NULL)
        g_error ("%s:%d: %s was accepted; expected %u %s", file, line, client->url, status, code);
      if (!g_error_matches (client->connect_error, GC_WS_HANDSHAKE_ERROR,
                            GC_WS_HANDSHAKE_ERROR_REFUSED))
        g_error ("%s:%d: %s failed with “%s”; expected %u %s", file, line, client->url,
                 client->connect_error->message, status, code);
      if (client->http_status != status || client->refusal == NULL ||
          g_strcmp0 (json_object_get_string_member_with_default (client->refusal, "error", NULL),
                     code) != 0)
        g_error ("%s:%d: %s got %u %s; expected %u %s", file, line, client->url,
                 client->http_status, client->refusal_body, status, code);
    }
  if (json_object_get_string_member_with_default (client->refusal, "message", NULL) == NULL)
    g_error ("%s:%d: refusal without a string message: %s", file, line, client->refusal_body);

  return client->refusal;
}

const GcUser *
gc_test_client_get_you (GcTestClient *client)
{
  g_assert_nonnull (client->welcome);
  return client->welcome->event->welcome->you;
}

GcTestEvent *
gc_test_client_next_event (GcTestClient *client)
{
  gc_test_wait (!g_queue_is_empty (&client->events) || client->closed);
  if (g_queue_is_empty (&client->events))
    g_error ("%s closed (%u) while waiting for an event", client->url, client->close_code);
  return g_queue_pop_head (&client->events);
}

typedef struct {
  GcEventType  type;
  const char  *text;
} TypeAndText;

static gboolean
event_matches (const GcTestEvent *event,
               gpointer           user_data)
{
  const TypeAndText *want = user_data;

  if (event->event == NULL)
    return FALSE;
  if (want->type != GC_EVENT_UNKNOWN && event->event->type != want->type)
    return FALSE;
  if (want->text != NULL &&
      (event->event->type != GC_EVENT_MESSAGE ||
       g_strcmp0 (event->event->message->text, want->text) != 0))
    return FALSE;
  return TRUE;
}

typedef struct {
  GcTestClient         *client;
  GcTestEventPredicate  predicate;
  gpointer              user_data;
  GList                *found;
} FindData;

static gboolean
find_queued (gpointer user_data)
{
  FindData *data = user_data;

  for (GList *l = data->client->events.head; l != NULL; l = l->next)
    if (data->predicate (l->data, data->user_data))
      {
        data->found = l;
        return TRUE;
      }
  return data->client->closed;
}

GcTestEvent *
gc_test_client_wait_matching (GcTestClient         *client,
                              GcTestEventPredicate  predicate,
                              gpointer              user_data,
                              const char           *what)
{
  FindData data = { client, predicate, user_data, NULL };
  GcTestEvent *event;

  gc_test_wait_until (find_queued, &data, what);
  if (data.found == NULL)
    {
      for (GList *l = client->events.head; l != NULL; l = l->next)
        g_test_message ("queued: %s", ((GcTestEvent *) l->data)->json);
      g_error ("%s closed (%u) while waiting for %s", client->url, client->close_code, what);
    }

  event = data.found->data;
  g_queue_delete_link (&client->events, data.found);
  return event;
}

GcTestEvent *
gc_test_client_wait_event (GcTestClient *client,
                           GcEventType   type)
{
  TypeAndText want = { type, NULL };
  g_autofree char *what = g_strdup_printf ("a %s event", event_type_name (type));

  return gc_test_client_wait_matching (client, event_matches, &want, what);
}

GcTestEvent *
gc_test_client_wait_message (GcTestClient *client,
                             const char   *text)
{
  TypeAndText want = { GC_EVENT_MESSAGE, text };
  g_autofree char *what = g_strdup_printf ("a message event with text %s", text);

  return gc_test_client_wait_matching (client, event_matches, &want, what);
}

GcTestEvent *
gc_test_client_wait_error (GcTestClient *client,
                           const char   *code)
{
  GcTestEvent *event = gc_test_client_wait_event (client, GC_EVENT_ERROR);

  if (g_strcmp0 (event->event->error.code, code) != 0)
    g_error ("%s: expected error %s, got %s", client->url, code, event->json);
  return event;
}

guint
gc_test_client_count_queued (GcTestClient *client,
                             GcEventType   type)
{
  TypeAndText want = { type, NULL };
  guint n = 0;

  for (GList *l = client->events.head; l != NULL; l = l->next)
    if (event_matches (l->data, &want))
      n++;
  return n;
}

void
gc_test_client_clear_queue (GcTestClient *client)
{
  g_queue_clear_full (&client->events, (GDestroyNotify) gc_test_event_free);
}

void
gc_test_client_send_text (GcTestClient *client,
                          const char   *text)
{
  g_assert_nonnull (client->connection);
  gc_ws_connection_send_text (client->connection, text, -1);
}

void
gc_test_client_send_message (GcTestClient *client,
                             const char   *text,
                             const char   *client_id)
{
  g_autofree char *request = gc_request_build_message (text, GC_MESSAGE_KIND_TEXT, client_id);

  gc_test_client_send_text (client, request);
}

void
gc_test_client_send_binary (GcTestClient *client,
                            const guint8 *data,
                            gsize         len)
{
  g_assert_nonnull (client->connection);
  gc_ws_connection_send_binary (client->connection, data, len);
}

void
gc_test_client_sync (GcTestClient *client)
{
  static guint serial;
  g_autofree char *text = g_strdup_printf ("sync %u", ++serial);
  g_autoptr(GcTestEvent) echo = NULL;

  gc_test_client_send_message (client, text, NULL);
  echo = gc_test_client_wait_message (client, text);
}

void
gc_test_client_close (GcTestClient *client,
                      gushort       code)
{
  g_assert_nonnull (client->connection);
  gc_ws_connection_close (client->connection, code, NULL);
}

void
gc_test_client_abort (GcTestClient *client)
{
  g_assert_nonnull (client->connection);
  gc_ws_connection_abort (client->connection);
}

gushort
gc_test_client_wait_closed (GcTestClient *client)
{
  g_assert_nonnull (client->connection);
  gc_test_wait (client->closed);
  return client->close_code;
}

/* ------------------------------------------------------------------ */
/* GcTestRawClient                                                      */
/* ------------------------------------------------------------------ */

static gboolean
on_raw_frame (GcWsOpcode  opcode,
              GBytes     *payload,
              gpointer    user_data)
{
  GcTestRawClient *client = user_data;
  gboolean unparsable = FALSE;

  switch (opcode)
    {
    case GC_WS_OPCODE_TEXT:
      g_queue_push_tail (&client->events, event_new (payload, &unparsable));
      g_assert_false (unparsable);
      break;

    case GC_WS_OPCODE_PING:
      /* Deliberately never answered. */
      client->n_pings++;
      break;

    case GC_WS_OPCODE_CLOSE:
      {
        gsize len;
        const guint8 *data = g_bytes_get_data (payload, &len);

        client->close_code = len >= 2 ? (data[0] << 8) | data[1] : 1005;
      }
      break;

    case GC_WS_OPCODE_BINARY:
    case GC_WS_OPCODE_PONG:
    case GC_WS_OPCODE_CONTINUATION:
    default:
      break;
    }
  return TRUE;
}

static void
raw_client_stop_reading (GcTestRawClient *client)
{
  if (client->source != NULL)
    {
      g_source_destroy (client->source);
      g_clear_pointer (&client->source, g_source_unref);
    }
}

static void
raw_client_handle (GcTestRawClient *client,
                   const guint8    *data,
                   gsize            len)
{
  g_autoptr(GError) error = NULL;

  if (!client->upgraded)
    {
      const guint8 *end;
      gsize header_len;

      g_byte_array_append (client->handshake, data, len);
      end = gc_test_find_header_end (client->handshake->data, client->handshake->len);
      if (end == NULL)
        return;

      header_len = end + 4 - client->handshake->data;
      if (!soup_headers_parse_status_line ((const char *) client->handshake->data, NULL,
                                           &client->http_status, NULL))
        g_error ("raw client: malformed response %.*s", (int) header_len,
                 client->handshake->data);
      client->upgraded = TRUE;
      data = client->handshake->data + header_len;
      len = client->handshake->len - header_len;
      if (!client->reading)
        {
          /* Frames that came with the 101 are left unread too. */
          raw_client_stop_reading (client);
          return;
        }
    }

  if (len > 0 && !gc_ws_parser_feed (client->parser, data, len, on_raw_frame, client, &error))
    g_error ("raw client: bad frames from the server: %s", error->message);
}

static gboolean
on_raw_readable (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  GcTestRawClient *client = user_data;
  guint8 buf[16384];

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      if (n <= 0)
        {
          client->eof = TRUE;
          g_clear_pointer (&client->source, g_source_unref);
          return G_SOURCE_REMOVE;
        }

      raw_client_handle (client, buf, n);
      if (client->source == NULL)
        return G_SOURCE_REMOVE;
    }
}

static void
raw_client_send_all (GcTestRawClient *client,
                     const guint8    *data,
                     gsize            len)
{
  while (len > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send_with_blocking (client->socket, (const char *) data, len,
                                              TRUE, NULL, &error);

      g_assert_no_error (error);
      data += n;
      len -= n;
    }
}

GcTestRawClient *
gc_test_raw_client_connect (guint16     port,
                            const char *path_and_query,
                            gboolean    keep_reading,
                            int         receive_buffer)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autofree char *request = gc_test_upgrade_request (path_and_query, NULL, NULL);
  GcTestRawClient *client = g_new0 (GcTestRawClient, 1);

  g_queue_init (&client->events);
  client->reading = keep_reading;
  client->handshake = g_byte_array_new ();
  client->parser = gc_ws_parser_new (GC_WS_ROLE_CLIENT, 0);
  client->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);

  /* Before connect, so the window the server sees stays small. */
  if (receive_buffer > 0)
    {
      g_socket_set_option (client->socket, SOL_SOCKET, SO_RCVBUF, receive_buffer, &error);
      g_assert_no_error (error);
    }

  /* The kernel completes a loopback connect from its backlog. */
  g_socket_connect (client->socket, address, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (client->socket, FALSE);
  raw_client_send_all (client, (const guint8 *) request, strlen (request));

  client->source = g_socket_create_source (client->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (client->source, G_SOURCE_FUNC (on_raw_readable), client, NULL);
  g_source_attach (client->source, NULL);

  gc_test_wait (client->upgraded || client->eof);
  if (client->http_status != SOUP_STATUS_SWITCHING_PROTOCOLS)
    g_error ("raw client: %s was not upgraded: %.*s", path_and_query,
             (int) client->handshake->len, client->handshake->data);

  return client;
}

void
gc_test_raw_client_free (GcTestRawClient *client)
{
  if (client == NULL)
    return;

  raw_client_stop_reading (client);
  g_socket_close (client->socket, NULL);
  g_clear_object (&client->socket);
  g_clear_pointer (&client->parser, gc_ws_parser_free);
  g_byte_array_unref (client->handshake);
  g_queue_clear_full (&client->events, (GDestroyNotify) gc_test_event_free);
  g_free (client);
}

void
gc_test_raw_client_send_frame (GcTestRawClient *client,
                               GcWsOpcode       opcode,
                               gboolean         fin,
                               const guint8    *payload,
                               gsize            len)
{
  g_autoptr(GBytes) frame = gc_ws_frame_encode (GC_WS_ROLE_CLIENT, opcode, fin, payload, len);
  gsize frame_len;
  const guint8 *data = g_bytes_get_data (frame, &frame_len);

  raw_client_send_all (client, data, frame_len);
}

void
gc_test_raw_client_send_bytes (GcTestRawClient *client,
                               const guint8    *data,
                               gsize            len)
{
  raw_client_send_all (client, data, len);
}


/* ------------------------------------------------------------------ */
/* Assertions                                                           */
/* ------------------------------------------------------------------ */

void
gc_test_assert_same_user (const GcUser *a,
                          const GcUser *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpstr (a->id, ==, b->id);
  g_assert_cmpstr (a->name, ==, b->name);
}

void
gc_test_assert_recent_ts (gint64 ts)
{
  gint64 now_ms = g_get_real_time () / 1000;

  g_assert_cmpint (ts, >, now_ms - 60000);
  g_assert_cmpint (ts, <, now_ms + 60000);
}

void
gc_test_assert_message (const GcTestEvent *event,
                        const GcUser      *from,
                        const char        *text,
                        const char        *client_id)
{
  const GcMessage *message;

  g_assert_nonnull (event->event);
  g_assert_cmpint (event->event->type, ==, GC_EVENT_MESSAGE);
  message = event->event->message;
  gc_test_assert_same_user (message->from, from);
  g_assert_cmpstr (message->text, ==, text);
  g_assert_cmpstr (message->client_id, ==, client_id);
  g_assert_cmpuint (message->id, >, 0);
  gc_test_assert_recent_ts (message->ts);
  /* §4.3: client_id is omitted, not null, when the sender gave none. */
  if (client_id == NULL)
    g_assert_null (strstr (event->json, "\"client_id\""));
}

gboolean
gc_test_members_contain (GPtrArray    *members,
                         const GcUser *user)
{
  for (guint i = 0; i < members->len; i++)
    {
      const GcUser *member = g_ptr_array_index (members, i);

      if (g_strcmp0 (member->id, user->id) == 0)
        {
          g_assert_cmpstr (member->name, ==, user->name);
          return TRUE;
        }
    }
  return FALSE;
}

GcTestEvent *
gc_test_client_wait_leave (GcTestClient *client,
                           const GcUser *user,
                           const char   *reason)
{
  GcTestEvent *event = gc_test_client_wait_event (client, GC_EVENT_LEAVE);

  g_assert_cmpstr (event->event->leave.user->id, ==, user->id);
  g_assert_cmpstr (gc_leave_reason_to_string (event->event->leave.reason), ==, reason);
  gc_test_assert_recent_ts (event->event->leave.ts);
  return event;
}

GcUser *
gc_test_client_wait_join_user (GcTestClient *client)
{
  g_autoptr(GcTestEvent) event = gc_test_client_wait_event (client, GC_EVENT_JOIN);

  gc_test_assert_recent_ts (event->event->join.ts);
  return gc_user_copy (event->event->join.user);
}

GPtrArray *
gc_test_client_send_messages (GcTestClient *client,
                              const char   *prefix,
                              guint         n)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_event_free);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%s-%u", prefix, i);

      gc_test_client_send_message (client, text, NULL);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("%s-%u", prefix, i);

      g_ptr_array_add (events, gc_test_client_wait_message (client, text));
    }
  return events;
}
