/* gc-ws-handshake-server.c: the HTTP upgrade, the server role
 *
 * Two ways to the same 101. A request head the server read itself and
 * parsed with libsoup's parser is checked by libsoup's rules
 * (gc_ws_server_check_request()) and answered here
 * (gc_ws_server_upgrade()): the 101 is the new connection's first bytes,
 * so it leaves with the first message in one write. Any other upgrade
 * goes through libsoup's SoupServer, which checks the request and writes
 * the 101 (soup_websocket_server_process_handshake()); once it has, the
 * connection is stolen from it (gc_ws_server_accept()). Either way the
 * result is a GcWsConnection.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gnetworking.h>

#include "gc-ws-connection-private.h"
#include "gc-ws-handshake-private.h"

typedef struct {
  SoupServerMessage *msg;   /* not owned: we detach before it goes */
  char              *protocol;
  GSocket           *corked;  /* TCP_CORK set on it until the first message */
  GcWsPoller        *poller;
  GcWsAcceptFunc     func;
  gpointer           user_data;
  GDestroyNotify     destroy;
} PendingAccept;

static void
pending_accept_free (PendingAccept *pending)
{
  if (pending->destroy != NULL)
    pending->destroy (pending->user_data);
  /* The 101 never went to a connection: nothing holds it back any more. */
#ifdef TCP_CORK
  if (pending->corked != NULL)
    g_socket_set_option (pending->corked, IPPROTO_TCP, TCP_CORK, FALSE, NULL);
#endif
  g_clear_object (&pending->corked);
  g_clear_object (&pending->poller);
  g_free (pending->protocol);
  g_free (pending);
}

static void
pending_accept_message_gone (gpointer  data,
                             GObject  *where_the_message_was)
{
  pending_accept_free (data);
}

static void
pending_accept_detach (PendingAccept *pending)
{
  g_signal_handlers_disconnect_by_data (pending->msg, pending);
  g_object_weak_unref (G_OBJECT (pending->msg), pending_accept_message_gone, pending);
}

/* The message ended (peer gone, server disposed) before the 101 went out. */
static void
on_message_ended (SoupServerMessage *msg,
                  PendingAccept     *pending)
{
  pending_accept_detach (pending);
  pending_accept_free (pending);
}

static void
on_wrote_informational (SoupServerMessage *msg,
                        PendingAccept     *pending)
{
  g_autoptr(GIOStream) stream = NULL;

  /* Only the 101 hands the connection over. */
  if (soup_server_message_get_status (msg) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;

  pending_accept_detach (pending);

  /* The stolen stream (a SoupIOStream over the socket or TLS connection)
   * still holds any bytes the client sent right after its request, so no
   * initial data needs to be passed on. */
  stream = soup_server_message_steal_connection (msg);
  if (stream != NULL)
    {
      GcWsConnection *connection;

      connection = gc_ws_connection_new (stream, GC_WS_ROLE_SERVER, NULL,
                                         pending->protocol, pending->poller);
      /* The connection uncorks once it has written its first message. */
      if (pending->corked != NULL)
        {
          gc_ws_connection_uncork_after_write (connection, pending->corked);
          g_clear_object (&pending->corked);
        }
      pending->func (connection, pending->user_data);
    }

  pending_accept_free (pending);
}

gboolean
gc_ws_server_accept (SoupServerMessage  *msg,
                     const char         *origin,
                     const char * const *protocols,
                     GcWsPoller         *poller,
                     GcWsAcceptFunc      func,
                     gpointer            user_data,
                     GDestroyNotify      destroy,
                     GError            **error)
{
  return gc_ws_server_accept_corked (msg, origin, protocols, poller, NULL,
                                     func, user_data, destroy, error);
}

gboolean
gc_ws_server_accept_corked (SoupServerMessage  *msg,
                            const char         *origin,
                            const char * const *protocols,
                            GcWsPoller         *poller,
                            GSocket            *cork,
                            GcWsAcceptFunc      func,
                            gpointer            user_data,
                            GDestroyNotify      destroy,
                            GError            **error)
{
  SoupMessageHeaders *request_headers;
  SoupMessageHeaders *response_headers;
  PendingAccept *pending;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), FALSE);
  g_return_val_if_fail (poller == NULL || GC_IS_WS_POLLER (poller), FALSE);
  g_return_val_if_fail (cork == NULL || G_IS_SOCKET (cork), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  request_headers = soup_server_message_get_request_headers (msg);
  response_headers = soup_server_message_get_response_headers (msg);

  if (!soup_websocket_server_process_handshake (msg, origin, (char **) protocols, NULL, NULL))
    {
      g_autoptr(GError) local_error = NULL;

      /* libsoup has set the refusal; ask it again for the reason. */
      if (soup_websocket_server_check_handshake (msg, origin, (char **) protocols, NULL, &local_error))
        g_set_error_literal (&local_error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_FAILED,
                             "WebSocket handshake refused");

      /* RFC 6455 §4.4: tell the client which version we speak. */
      if (g_error_matches (local_error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_BAD_HANDSHAKE) &&
          !soup_message_headers_header_equals (request_headers, "Sec-WebSocket-Version", "13"))
        soup_message_headers_replace (response_headers, "Sec-WebSocket-Version", "13");

      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  pending = g_new0 (PendingAccept, 1);
  pending->msg = msg;
  /* Read before the steal: the message must not be touched after it. */
  pending->protocol = g_strdup (soup_message_headers_get_one (response_headers,
                                                              "Sec-WebSocket-Protocol"));
  pending->poller = poller != NULL ? g_object_ref (poller) : NULL;
  pending->func = func;
  pending->user_data = user_data;
  pending->destroy = destroy;
#ifdef TCP_CORK
  if (cork != NULL && g_socket_set_option (cork, IPPROTO_TCP, TCP_CORK, TRUE, NULL))
    pending->corked = g_object_ref (cork);
#endif

  g_signal_connect (msg, "wrote-informational", G_CALLBACK (on_wrote_informational), pending);
  g_signal_connect (msg, "finished", G_CALLBACK (on_message_ended), pending);
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_message_ended), pending);
  g_object_weak_ref (G_OBJECT (msg), pending_accept_message_gone, pending);

  return TRUE;
}

/* Without libsoup's message ------------------------------------------------ */

gboolean
gc_ws_headers_get_single (SoupMessageHeaders  *headers,
                          const char          *name,
                          const char         **out_value)
{
  const char *list;

  g_return_val_if_fail (headers != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  /* libsoup joins repeated headers into a list ("a, b"): a header given
   * once is its own list. Both look-ups are indexed for the headers asked
   * about here, where iterating over all of them was not. */
  *out_value = soup_message_headers_get_one (headers, name);
  if (*out_value == NULL)
    return TRUE;
  list = soup_message_headers_get_list (headers, name);

  return list == *out_value || g_strcmp0 (list, *out_value) == 0;
}

/* RFC 6455 §4.2.1 5: base64 of 16 bytes (libsoup's test). */
static gboolean
key_is_valid (const char *key)
{
  guchar buffer[18];
  int state = 0;
  guint save = 0;

  return key != NULL && strlen (key) == 24 &&
         g_base64_decode_step (key, 24, buffer, &state, &save) == 16;
}

gboolean
gc_ws_server_check_request (SoupMessageHeaders  *request_headers,
                            const char * const  *protocols,
                            const char         **out_protocol)
{
  const char *upgrade;
  const char *version;
  const char *key;
  const char *offered;

  g_return_val_if_fail (request_headers != NULL, FALSE);
  g_return_val_if_fail (out_protocol != NULL, FALSE);

  *out_protocol = NULL;

  if (!gc_ws_headers_get_single (request_headers, "Upgrade", &upgrade) ||
      upgrade == NULL || g_ascii_strcasecmp (upgrade, "websocket") != 0 ||
      !soup_message_headers_header_contains (request_headers, "Connection", "upgrade"))
    return FALSE;
  if (!gc_ws_headers_get_single (request_headers, "Sec-WebSocket-Version", &version) ||
      g_strcmp0 (version, "13") != 0)
    return FALSE;
  if (!gc_ws_headers_get_single (request_headers, "Sec-WebSocket-Key", &key) || !key_is_valid (key))
    return FALSE;
  /* Extension offers are ignored: libsoup, given no supported
   * extensions (as we give it), accepts any offer and selects none. */
  if (!gc_ws_headers_get_single (request_headers, "Sec-WebSocket-Protocol", &offered))
    return FALSE;

  /* libsoup's choice: the first of ours the client offers; an offer
   * without one of ours is refused. */
  if (offered != NULL && protocols != NULL)
    {
      g_auto(GStrv) tokens = g_strsplit_set (offered, ", ", -1);

      for (guint i = 0; protocols[i] != NULL && *out_protocol == NULL; i++)
        {
          for (guint j = 0; tokens[j] != NULL; j++)
            {
              if (g_str_equal (protocols[i], tokens[j]))
                {
                  *out_protocol = protocols[i];
                  break;
                }
            }
        }
      if (*out_protocol == NULL)
        return FALSE;
    }

  return TRUE;
}

GcWsConnection *
gc_ws_server_upgrade (GIOStream          *stream,
                      SoupMessageHeaders *request_headers,
                      const char         *protocol,
                      const char * const *extra_headers,
                      GBytes             *initial_data,
                      GcWsPoller         *poller)
{
  g_autofree char *accept = NULL;
  GString *response;
  GcWsConnection *connection;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);
  g_return_val_if_fail (request_headers != NULL, NULL);

  accept = gc_ws_handshake_compute_accept (soup_message_headers_get_one (request_headers,
                                                                         "Sec-WebSocket-Key"));

  /* The lines libsoup writes for the same request, in its order; a 1xx
   * needs no Date (RFC 9110 §6.6.1). */
  response = g_string_sized_new (192);
  g_string_append (response,
                   "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: ");
  g_string_append (response, accept);
  g_string_append (response, "\r\n");
  if (protocol != NULL)
    {
      g_string_append (response, "Sec-WebSocket-Protocol: ");
      g_string_append (response, protocol);
      g_string_append (response, "\r\n");
    }
  for (guint i = 0; extra_headers != NULL && extra_headers[i] != NULL && extra_headers[i + 1] != NULL; i += 2)
    {
      g_string_append (response, extra_headers[i]);
      g_string_append (response, ": ");
      g_string_append (response, extra_headers[i + 1]);
      g_string_append (response, "\r\n");
    }
  g_string_append (response, "\r\n");

  connection = gc_ws_connection_new (stream, GC_WS_ROLE_SERVER, initial_data, protocol, poller);
  /* First in the queue: it leaves with the first message, in one writev. */
  gc_ws_connection_queue_frame (connection, g_string_free_to_bytes (response));

  return connection;
}
