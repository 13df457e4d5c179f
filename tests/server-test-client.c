/* server-test-client.c: a protocol-level GoChat client and wire helpers for the server tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "gc-ws-handshake.h"
#include "server-test-client.h"

/* Where the blank line ending an HTTP header block starts in @data, or
 * %NULL. (memmem() is a GNU extension.) */
static const guint8 *
find_header_end (const guint8 *data,
                 gsize         len)
{
  for (gsize i = 0; i + 4 <= len; i++)
    if (memcmp (data + i, "\r\n\r\n", 4) == 0)
      return data + i;
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Waiting                                                              */
/* ------------------------------------------------------------------ */

static gboolean
on_deadline_timer (gpointer user_data)
{
  GcTestDeadline *deadline = user_data;

  deadline->timer_id = 0;
  return G_SOURCE_REMOVE;
}

void
gc_test_deadline_start (GcTestDeadline *deadline,
                        guint           timeout_ms)
{
  deadline->end_us = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  /* A little after the end, so the check below sees it has passed. */
  deadline->timer_id = g_timeout_add (timeout_ms + 1, on_deadline_timer, deadline);
}

void
gc_test_deadline_iterate (GcTestDeadline *deadline,
                          const char     *what,
                          const char     *file,
                          int             line)
{
  if (g_get_monotonic_time () >= deadline->end_us)
    g_error ("%s:%d: timed out waiting for %s", file, line, what);
  g_main_context_iteration (NULL, TRUE);
}

void
gc_test_deadline_stop (GcTestDeadline *deadline)
{
  if (deadline->timer_id != 0)
    g_source_remove (deadline->timer_id);
  deadline->timer_id = 0;
}

gint64
gc_test_wait_until_full (GcTestPredicate  predicate,
                         gpointer         user_data,
                         guint            timeout_ms,
                         const char      *what,
                         const char      *file,
                         int              line)
{
  GcTestDeadline deadline;
  gint64 start = g_get_monotonic_time ();

  gc_test_deadline_start (&deadline, timeout_ms);
  while (!predicate (user_data))
    gc_test_deadline_iterate (&deadline, what, file, line);
  gc_test_deadline_stop (&deadline);

  return (g_get_monotonic_time () - start) / 1000;
}

static gboolean
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
gc_test_run_for_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

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

static JsonObject *
parse_object (const char *text,
              gsize       len)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, text, len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

JsonObject *
gc_test_event_to_object (const GcTestEvent *event)
{
  JsonObject *object = parse_object (event->json, strlen (event->json));

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

  return g_strdup_printf ("%s://%s:%u/joinRoom%s%s", scheme, host, port,
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
      client->refusal = parse_object (data, len);
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
  GcTestClient *client;
  GcEventType   type;
  const char   *text;
  GList        *found;
} FindData;

static gboolean
event_matches (const GcTestEvent *event,
               GcEventType        type,
               const char        *text)
{
  if (event->event == NULL)
    return FALSE;
  if (type != GC_EVENT_UNKNOWN && event->event->type != type)
    return FALSE;
  if (text != NULL &&
      (event->event->type != GC_EVENT_MESSAGE ||
       g_strcmp0 (event->event->message->text, text) != 0))
    return FALSE;
  return TRUE;
}

static gboolean
find_queued (gpointer user_data)
{
  FindData *data = user_data;

  for (GList *l = data->client->events.head; l != NULL; l = l->next)
    if (event_matches (l->data, data->type, data->text))
      {
        data->found = l;
        return TRUE;
      }
  return data->client->closed;
}

static GcTestEvent *
wait_matching (GcTestClient *client,
               GcEventType   type,
               const char   *text)
{
  FindData data = { client, type, text, NULL };
  GcTestEvent *event;

  gc_test_wait_until (find_queued, &data, event_type_name (type));
  if (data.found == NULL)
    {
      for (GList *l = client->events.head; l != NULL; l = l->next)
        g_test_message ("queued: %s", ((GcTestEvent *) l->data)->json);
      g_error ("%s closed (%u) while waiting for a %s event%s%s", client->url,
               client->close_code, event_type_name (type),
               text != NULL ? " with text " : "", text != NULL ? text : "");
    }

  event = data.found->data;
  g_queue_delete_link (&client->events, data.found);
  return event;
}

GcTestEvent *
gc_test_client_wait_event (GcTestClient *client,
                           GcEventType   type)
{
  return wait_matching (client, type, NULL);
}

GcTestEvent *
gc_test_client_wait_message (GcTestClient *client,
                             const char   *text)
{
  return wait_matching (client, GC_EVENT_MESSAGE, text);
}

GcTestEvent *
gc_test_client_wait_error (GcTestClient *client,
                           const char   *code)
{
  GcTestEvent *event = wait_matching (client, GC_EVENT_ERROR, NULL);

  if (g_strcmp0 (event->event->error.code, code) != 0)
    g_error ("%s: expected error %s, got %s", client->url, code, event->json);
  return event;
}

guint
gc_test_client_count_queued (GcTestClient *client,
                             GcEventType   type)
{
  guint n = 0;

  for (GList *l = client->events.head; l != NULL; l = l->next)
    if (event_matches (l->data, type, NULL))
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
      end = find_header_end (client->handshake->data, client->handshake->len);
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
/* Raw HTTP                                                             */
/* ------------------------------------------------------------------ */

void
gc_test_http_response_free (GcTestHttpResponse *response)
{
  if (response == NULL)
    return;
  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_clear_pointer (&response->json, json_object_unref);
  g_free (response->body_text);
  g_free (response);
}

typedef struct {
  GByteArray        *data;
  gsize              header_len;
  goffset            content_length;  /* -1: read to EOF */
  gboolean           done;
  GError            *error;
  GSocketConnection *connection;
  guint8             chunk[8192];
} HttpExchange;

static void http_read (HttpExchange *exchange);

static gboolean
http_is_complete (HttpExchange *exchange)
{
  const guint8 *end;

  if (exchange->header_len == 0)
    {
      g_autoptr(SoupMessageHeaders) headers = NULL;
      guint status;

      end = find_header_end (exchange->data->data, exchange->data->len);
      if (end == NULL)
        return FALSE;
      exchange->header_len = end + 4 - exchange->data->data;

      headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
      if (!soup_headers_parse_response ((const char *) exchange->data->data,
                                        exchange->header_len, headers, NULL, &status, NULL))
        exchange->content_length = -1;
      else if (SOUP_STATUS_IS_INFORMATIONAL (status))
        /* A 101: what follows is WebSocket frames, not a body. */
        exchange->content_length = 0;
      else if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
        exchange->content_length = soup_message_headers_get_content_length (headers);
      else
        exchange->content_length = -1;
    }

  return exchange->content_length >= 0 &&
         exchange->data->len >= exchange->header_len + exchange->content_length;
}

static void
on_http_read (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  HttpExchange *exchange = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &exchange->error);

  if (n > 0)
    g_byte_array_append (exchange->data, exchange->chunk, n);

  /* An error after a complete header block is the peer resetting a
   * connection it already answered on. */
  if (n < 0 && exchange->header_len > 0)
    g_clear_error (&exchange->error);

  if (n <= 0 || http_is_complete (exchange))
    exchange->done = TRUE;
  else
    http_read (exchange);
}

static void
http_read (HttpExchange *exchange)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (exchange->connection));

  g_input_stream_read_async (input, exchange->chunk, sizeof exchange->chunk,
                             G_PRIORITY_DEFAULT, NULL, on_http_read, exchange);
}

static void
on_http_written (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  HttpExchange *exchange = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL,
                                         &exchange->error))
    exchange->done = TRUE;
  else
    http_read (exchange);
}

static void
on_http_connected (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  HttpExchange *exchange = user_data;

  exchange->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result,
                                                         &exchange->error);
  if (exchange->connection == NULL)
    exchange->done = TRUE;
}

static void
on_http_client_event (GSocketClient      *socket_client,
                      GSocketClientEvent  event,
                      GSocketConnectable *connectable,
                      GIOStream          *connection,
                      gpointer            user_data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_tls_connection_set_database (G_TLS_CONNECTION (connection), user_data);
}

GcTestHttpResponse *
gc_test_http_request (const char   *host,
                      guint16       port,
                      GTlsDatabase *tls_database,
                      const char   *request)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new (host, port);
  HttpExchange exchange = { 0 };
  GcTestHttpResponse *response;
  GOutputStream *output;

  exchange.data = g_byte_array_new ();
  if (tls_database != NULL)
    {
      g_socket_client_set_tls (socket_client, TRUE);
      g_signal_connect (socket_client, "event", G_CALLBACK (on_http_client_event), tls_database);
    }

  g_socket_client_connect_async (socket_client, address, NULL, on_http_connected, &exchange);
  gc_test_wait (exchange.connection != NULL || exchange.done);
  g_assert_no_error (exchange.error);

  output = g_io_stream_get_output_stream (G_IO_STREAM (exchange.connection));
  g_output_stream_write_all_async (output, request, strlen (request), G_PRIORITY_DEFAULT,
                                   NULL, on_http_written, &exchange);
  gc_test_wait (exchange.done);
  g_assert_no_error (exchange.error);

  if (exchange.header_len == 0)
    g_error ("no HTTP response to %s: got %u bytes", request, exchange.data->len);

  response = g_new0 (GcTestHttpResponse, 1);
  response->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  if (!soup_headers_parse_response ((const char *) exchange.data->data, exchange.header_len,
                                    response->headers, NULL, &response->status, NULL))
    g_error ("malformed HTTP response: %.*s", (int) exchange.header_len, exchange.data->data);

  {
    gsize body_len = exchange.data->len - exchange.header_len;
    const guint8 *body = exchange.data->data + exchange.header_len;

    if (exchange.content_length >= 0)
      body_len = MIN (body_len, (gsize) exchange.content_length);
    response->body = g_bytes_new (body, body_len);
    response->body_text = g_strndup ((const char *) body, body_len);
    response->json = parse_object ((const char *) body, body_len);
  }

  g_io_stream_close (G_IO_STREAM (exchange.connection), NULL, NULL);
  g_clear_object (&exchange.connection);
  g_byte_array_unref (exchange.data);
  return response;
}

GcTestHttpResponse *
gc_test_http_get (const char   *host,
                  guint16       port,
                  GTlsDatabase *tls_database,
                  const char   *path)
{
  g_autofree char *request = g_strdup_printf ("GET %s HTTP/1.1\r\n"
                                              "Host: %s:%u\r\n"
                                              "Connection: close\r\n"
                                              "\r\n", path, host, port);

  return gc_test_http_request (host, port, tls_database, request);
}

char *
gc_test_upgrade_request (const char *path_and_query,
                         const char *version,
                         const char *extra_headers)
{
  return g_strdup_printf ("GET %s HTTP/1.1\r\n"
                          "Host: 127.0.0.1\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: %s\r\n"
                          "Sec-WebSocket-Protocol: " GC_PROTOCOL_SUBPROTOCOL "\r\n"
                          "%s"
                          "\r\n",
                          path_and_query, version != NULL ? version : "13",
                          extra_headers != NULL ? extra_headers : "");
}

void
gc_test_http_assert_refusal_full (GcTestHttpResponse *response,
                                  guint               status,
                                  const char         *code,
                                  const char         *file,
                                  int                 line)
{
  const char *content_type = soup_message_headers_get_content_type (response->headers, NULL);

  if (response->status != status)
    g_error ("%s:%d: got HTTP %u (%s); expected %u %s", file, line, response->status,
             response->body_text, status, code);
  if (g_strcmp0 (content_type, "application/json") != 0)
    g_error ("%s:%d: refusal Content-Type is %s, not application/json", file, line,
             content_type != NULL ? content_type : "missing");
  if (response->json == NULL)
    g_error ("%s:%d: refusal body is not a JSON object: %s", file, line, response->body_text);
  if (g_strcmp0 (json_object_get_string_member_with_default (response->json, "error", NULL),
                 code) != 0)
    g_error ("%s:%d: refusal %s; expected error %s", file, line, response->body_text, code);
  if (json_object_get_string_member_with_default (response->json, "message", NULL) == NULL)
    g_error ("%s:%d: refusal without a string message: %s", file, line, response->body_text);
}
